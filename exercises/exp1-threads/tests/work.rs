//! Graded checks of the student's work on inputs the handout never shows:
//! other numbers of workers and of updates, chosen now. Each check
//! computes here the lines the reference prints, and looks in the run's
//! timeline (what ipc-core recorded, not what the program printed) for
//! every update of the processes' shared counter: process pk made
//! `updates` updates, each a read of the shared value and a write of one
//! more, by that process (not by a thread of the main program), and with
//! the lock both inside one hold of the Value's own lock. A program that
//! prints the right totals without distinct processes updating the
//! shared Value under its lock fails them. (The threads' counters live in
//! one process's own memory, which no timeline records: their lines are
//! checked.)
//!
//! `IPC_LAB_CHECK_SEED=N` repeats the inputs of a failure that printed
//! seed N.

use ipc_testkit::evidence::Inputs;

const BIN: &str = env!("CARGO_BIN_EXE_exp1-threads");

const OWN_COPY: &str =
    "Processes, each with its own u64 (an ordinary variable): final value (in main program) 0";

/// Runs the locked experiment with `workers` workers of `updates` updates
/// and checks the lines and that every update of the shared Value was
/// made by its process inside one hold of the Value's lock.
fn assert_updated_by_each_process_inside_the_lock(inputs: &Inputs, workers: u64, updates: u64) {
    let (k, n) = (workers.to_string(), updates.to_string());
    let evidence = inputs.run(BIN, &["--workers", &k, "--updates", &n]);
    let total = workers * updates;
    evidence.assert_prints(&[
        format!("{workers} processes and {workers} threads, {updates} updates of +1 each: {total} expected"),
        OWN_COPY.into(),
        format!("Processes, one shared Value<u64> with its lock: final value (in main program) {total}, lost updates 0"),
        format!("Threads, one Mutex<u64>: final value {total}, lost updates 0"),
        format!("Threads, one AtomicU64 with fetch_add: final value {total}, lost updates 0"),
    ]);
    evidence.assert_value_updated(
        &vec![updates; workers as usize],
        true,
        "each of the processes p1, p2, … (forked, not threads of the main program) must read the Value and write it plus one while holding its lock (`lock()`, then get and set on the guard)",
    );
}

#[test]
fn other_counts_are_added_by_each_process_inside_the_lock() {
    let mut inputs = Inputs::new();
    let workers = inputs.number("--workers", 2..=5) as u64;
    let updates = inputs.number("--updates", 20..=200) as u64;
    assert_updated_by_each_process_inside_the_lock(&inputs, workers, updates);
}

#[test]
fn many_workers_each_add_their_share_inside_the_lock() {
    let mut inputs = Inputs::new();
    let workers = inputs.number("--workers", 6..=8) as u64;
    let updates = inputs.number("--updates", 20..=100) as u64;
    assert_updated_by_each_process_inside_the_lock(&inputs, workers, updates);
}

#[test]
fn without_the_lock_every_process_still_reads_and_writes_the_raw_value() {
    let mut inputs = Inputs::new();
    let workers = inputs.number("--workers", 2..=5) as u64;
    let updates = inputs.number("--updates", 20..=150) as u64;
    let (k, n) = (workers.to_string(), updates.to_string());
    let evidence = inputs.run(BIN, &["--no-lock", "--workers", &k, "--updates", &n]);
    let total = workers * updates;
    // The final values and the updates lost change from run to run: they
    // must add up.
    let lines = evidence.run.stdout_lines();
    let adds_up = |line: Option<&&str>, prefix: &str| -> bool {
        let numbers: Option<Vec<u64>> = line.and_then(|l| l.strip_prefix(prefix)).map(|rest| {
            rest.split(|c: char| !c.is_ascii_digit())
                .filter_map(|n| n.parse().ok())
                .collect()
        });
        matches!(numbers.as_deref(), Some([last, lost]) if last + lost == total && *last > 0)
    };
    let header = format!(
        "{workers} processes and {workers} threads, {updates} updates of +1 each: {total} expected"
    );
    let processes = "Processes, one shared RawValue<u64> without a lock (--no-lock): final value (in main program) ";
    let threads = "Threads, one AtomicU64, a load then a store (--no-lock): final value ";
    if evidence.run.code() != Some(0)
        || lines.len() != 4
        || lines[0] != header
        || lines[1] != OWN_COPY
        || !adds_up(lines.get(2), processes)
        || !adds_up(lines.get(3), threads)
    {
        evidence.fail(
            format!(
                "expected these lines, with each final value F and lost updates L adding up to {total}:\n    {header}\n    {OWN_COPY}\n    {processes}F, lost updates L\n    {threads}F, lost updates L"
            ),
            "",
        );
    }
    evidence.assert_value_updated(
        &vec![updates; workers as usize],
        false,
        "each process p1, p2, … must read the shared value and write it plus one",
    );
}
