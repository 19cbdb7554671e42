//! Graded checks of the student's work on inputs the handout never shows:
//! other pass counts and process counts, chosen now. Each check computes
//! here the lines the reference prints, and looks in the run's timeline
//! (what ipc-core recorded, not what the program printed) for every
//! update: process pk made k updates per pass, each a read of the shared
//! value and a write of one more, by that process, and with the lock both
//! inside one hold of the Value's own lock. A program that prints the
//! right totals without the processes updating the value under its lock
//! fails them.
//!
//! `IPC_LAB_CHECK_SEED=N` repeats the inputs of a failure that printed
//! seed N.

use ipc_testkit::counter;
use ipc_testkit::evidence::Inputs;

const BIN: &str = env!("CARGO_BIN_EXE_exp11-value");

/// The updates each process must make, pk making k per pass.
fn updates(processes: u64, passes: u64) -> Vec<u64> {
    (1..=processes).map(|k| k * passes).collect()
}

/// Runs the locked experiment with `processes` processes of `passes`
/// passes and checks the lines and that every update was made by its
/// process inside one hold of the Value's lock.
fn assert_updated_inside_the_lock(inputs: &Inputs, processes: u64, passes: u64) {
    let (p, n) = (processes.to_string(), passes.to_string());
    let evidence = inputs.run(BIN, &["--processes", &p, "--iterations", &n]);
    let expected = counter::total(processes, passes);
    let mut lines = counter::plan(
        "Shared Value<u64> with its lock",
        "processes",
        processes,
        passes,
    );
    lines.extend([
        format!("Expected value: {expected}"),
        format!("Final value (in main program): {expected}"),
        "Lost updates: 0".into(),
    ]);
    evidence.assert_prints(&lines);
    evidence.assert_value_updated(
        &updates(processes, passes),
        true,
        "each update must read the value and write it plus one while holding the Value's lock (`let v = v.lock()?`), or two processes can overwrite each other",
    );
}

#[test]
fn other_pass_counts_are_added_inside_the_lock_by_all_five_processes() {
    let mut inputs = Inputs::new();
    let passes = inputs.number("--iterations", 20..=200) as u64;
    assert_updated_inside_the_lock(&inputs, 5, passes);
}

#[test]
fn fewer_processes_add_their_share_inside_the_lock() {
    let mut inputs = Inputs::new();
    let processes = inputs.number("--processes", 2..=4) as u64;
    let passes = inputs.number("--iterations", 20..=200) as u64;
    assert_updated_inside_the_lock(&inputs, processes, passes);
}

#[test]
fn without_the_lock_every_process_still_reads_and_writes_the_raw_value() {
    let mut inputs = Inputs::new();
    let processes = inputs.number("--processes", 2..=5) as u64;
    let passes = inputs.number("--iterations", 20..=150) as u64;
    let (p, n) = (processes.to_string(), passes.to_string());
    let evidence = inputs.run(BIN, &["--no-lock", "--processes", &p, "--iterations", &n]);
    let expected = counter::total(processes, passes);
    // The final value and the updates lost change from run to run: they
    // must add up.
    let lines = evidence.run.stdout_lines();
    let mut wanted = counter::plan(
        "Shared RawValue<u64> without a lock (--no-lock)",
        "processes",
        processes,
        passes,
    );
    wanted.push(format!("Expected value: {expected}"));
    let number = |line: Option<&&str>, prefix: &str| -> Option<u64> {
        line?.strip_prefix(prefix)?.parse().ok()
    };
    let last = number(lines.get(wanted.len()), "Final value (in main program): ");
    let lost = number(lines.get(wanted.len() + 1), "Lost updates: ");
    let adds_up =
        matches!((last, lost), (Some(last), Some(lost)) if last + lost == expected && last > 0);
    if evidence.run.code() != Some(0)
        || lines.get(..wanted.len())
            != Some(&wanted.iter().map(String::as_str).collect::<Vec<_>>()[..])
        || lines.len() != wanted.len() + 2
        || !adds_up
    {
        evidence.fail(
            format!(
                "expected these lines, then \"Final value (in main program): F\" and \"Lost updates: L\" with F + L = {expected}:\n    {}",
                wanted.join("\n    ")
            ),
            "",
        );
    }
    evidence.assert_value_updated(
        &updates(processes, passes),
        false,
        "each update must read the shared value and write it plus one, in the process that runs the target",
    );
}
