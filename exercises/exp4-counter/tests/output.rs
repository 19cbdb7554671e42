//! Runs the real `exp4-counter` binary: its lines, how it ends (`--ticks`,
//! Ctrl-C, SIGTERM), attaching from a second program and from Python, and
//! bad input.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use ipc_testkit::contract;
use ipc_testkit::{
    Run, Running, SIGNAL_DEADLINE, Sig, assert_no_new_shm, by_prefix, handout, normalise_numbers,
    own_process_group, run, run_command, run_into_full_disk, shm_objects, skip_unless, zombies_of,
};

const BIN: &str = env!("CARGO_BIN_EXE_exp4-counter");

const WAIT: Duration = Duration::from_secs(60);

/// Enough ticks (about 1 ms each with `--fast`) to outlast any test.
const MANY_TICKS: &str = "1000000";

const TERMINATED: [&str; 3] = [
    "Process-1 Terminated",
    "Process-2 Terminated",
    "Processes Terminated !",
];

/// A segment name of this test run: `ipc-lab-t<pid>-<tag>`.
fn test_name(tag: &str) -> String {
    format!("t{}-{tag}", std::process::id())
}

/// True while the segment `ipc-lab-<name>` exists in /dev/shm.
fn segment_exists(name: &str) -> bool {
    Path::new(&format!("/dev/shm/ipc-lab-{name}")).exists()
}

fn command(args: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    command.args(args);
    command
}

/// `exp4-counter --fast --name NAME` running in a group of its own.
fn start_named(name: &str) -> Running {
    let mut command = command(&["--fast", "--ticks", MANY_TICKS, "--name", name]);
    own_process_group(&mut command);
    Running::start(command, false)
}

fn is_increment(line: &str) -> bool {
    line.starts_with("Process-1: Counter incremented to ")
}

/// The counter values of the lines `Process-1: Counter incremented to N`.
fn increments(run: &Run) -> Vec<u32> {
    run.stdout_lines()
        .iter()
        .filter_map(|l| l.strip_prefix("Process-1: Counter incremented to "))
        .map(|n| n.parse().unwrap_or_else(|_| panic!("bad line\n{run}")))
        .collect()
}

/// The counter values of process 2's lines, each checked to carry the
/// right square.
fn squares(run: &Run) -> Vec<u32> {
    run.stdout_lines()
        .iter()
        .filter_map(|l| l.strip_prefix("Process-2: Square of counter value "))
        .map(|rest| {
            let (value, square) = rest
                .split_once(" is ")
                .unwrap_or_else(|| panic!("bad line\n{run}"));
            let value: u32 = value.parse().unwrap();
            assert_eq!(
                square.parse::<u64>().unwrap(),
                u64::from(value).pow(2),
                "{run}"
            );
            value
        })
        .collect()
}

/// What every run of both processes ends with, however it was ended.
fn check_ending(run: &Run, name: &str) {
    run.assert_code(0).assert_no_panic();
    let lines = run.stdout_lines();
    for line in TERMINATED {
        assert_eq!(
            lines.iter().filter(|l| **l == line).count(),
            1,
            "{line:?}\n{run}"
        );
    }
    assert_eq!(lines.last(), Some(&"Processes Terminated !"), "{run}");
    let stray: Vec<_> = lines
        .iter()
        .filter(|l| !TERMINATED.contains(l) && !is_increment(l))
        .filter(|l| !l.starts_with("Process-2: Square of counter value "))
        .collect();
    assert!(stray.is_empty(), "stray lines {stray:?}\n{run}");
    let counted = increments(run);
    let expected: Vec<u32> = (1..=counted.len() as u32).collect();
    assert_eq!(counted, expected, "the counter goes up by one\n{run}");
    let seen = squares(run);
    assert!(seen.is_sorted(), "process 2 saw the counter go down\n{run}");
    let last = counted.last().copied().unwrap_or(0);
    assert!(seen.iter().all(|v| *v <= last), "{run}");
    assert!(!run.stdout.contains("still open"), "{run}");
    assert!(!segment_exists(name), "segment left behind\n{run}");
}

/// Starts a named run, waits for two increments, sends `signal` (to the
/// group or to the parent only), and checks that everything ended.
fn signal_after_a_few_ticks(tag: &str, signal: Sig, group: bool) {
    let name = test_name(tag);
    let mut running = start_named(&name);
    running.wait_for_lines(2, WAIT, is_increment);
    assert!(segment_exists(&name));
    let children = running.wait_for_children(2, WAIT);
    assert_eq!(children.len(), 2, "process 1 and process 2: {children:?}");
    assert!(zombies_of(running.pid()).is_empty());
    if group {
        running.signal_group(signal);
    } else {
        running.signal(signal);
    }
    let run = running.finish(SIGNAL_DEADLINE);
    check_ending(&run, &name);
    assert!(increments(&run).len() >= 2, "{run}");
    run.assert_all_ended(&children);
}

#[test]
fn ticks_end_the_run_by_itself() {
    let name = test_name("ticks");
    let run = run(BIN, &["--fast", "--ticks", "12", "--name", &name]);
    check_ending(&run, &name);
    // A tick is one line of process 2; process 1 increments every 5 ticks.
    assert_eq!(squares(&run).len(), 12, "{run}");
    assert_eq!(increments(&run), [1, 2], "{run}");
    assert_eq!(run.stderr, "", "{run}");
}

#[test]
fn fast_alone_ends_by_itself_with_the_handouts_twelve_ticks() {
    // Scripts use --fast: it must end without --ticks (the plain run still
    // counts until Ctrl-C, as the seed's).
    let name = test_name("fast");
    let run = run(BIN, &["--fast", "--name", &name]);
    check_ending(&run, &name);
    assert_eq!(squares(&run).len(), 12, "{run}");
    assert_eq!(increments(&run), [1, 2], "{run}");
}

#[test]
fn zero_ticks_only_terminate() {
    let name = test_name("zero");
    let run = run(BIN, &["--fast", "--ticks", "0", "--name", &name]);
    check_ending(&run, &name);
    assert_eq!(run.stdout_lines().len(), 3, "{run}");
}

#[test]
fn ctrl_c_to_the_group_ends_both_processes() {
    signal_after_a_few_ticks("sigint", Sig::SIGINT, true);
}

#[test]
fn sigterm_to_the_parent_alone_ends_both_processes() {
    signal_after_a_few_ticks("sigterm", Sig::SIGTERM, false);
}

#[test]
fn the_default_name_is_unique_and_removed() {
    let mut running = Running::start(command(&["--fast", "--ticks", MANY_TICKS]), false);
    running.wait_for_lines(1, WAIT, is_increment);
    let prefix = format!("ipc-lab-{}-", running.pid());
    let mine: Vec<String> = shm_objects()
        .into_iter()
        .filter(|n| n.starts_with(&prefix))
        .collect();
    assert_eq!(mine.len(), 1, "{mine:?}");
    assert!(mine[0].ends_with("-counter"), "{mine:?}");
    running.signal(Sig::SIGTERM);
    let run = running.finish(SIGNAL_DEADLINE);
    run.assert_code(0);
    assert!(
        !Path::new(&format!("/dev/shm/{}", mine[0])).exists(),
        "{run}"
    );
}

#[test]
fn attach_observes_without_unlinking() {
    let name = test_name("attach");
    let mut running = start_named(&name);
    running.wait_for_lines(1, WAIT, is_increment);
    let observer = run(BIN, &["--fast", "--ticks", "5", "--attach", &name]);
    observer.assert_code(0).assert_no_panic();
    let seen = squares(&observer);
    assert_eq!(seen.len(), 5, "{observer}");
    assert!(
        seen.iter().all(|v| *v >= 1),
        "the counter was at least 1\n{observer}"
    );
    assert_eq!(
        observer.stdout_lines().last(),
        Some(&"Process-2 Terminated"),
        "{observer}"
    );
    assert!(!observer.stdout.contains("Process-1"), "{observer}");
    assert!(segment_exists(&name), "the observer unlinked it");
    running.signal(Sig::SIGTERM);
    let run = running.finish(SIGNAL_DEADLINE);
    check_ending(&run, &name);
    assert!(
        seen.iter().all(|v| *v <= *increments(&run).last().unwrap()),
        "{run}"
    );
}

#[test]
fn attach_ends_on_sigterm_too() {
    let name = test_name("attach-term");
    let mut creator = start_named(&name);
    creator.wait_for_lines(1, WAIT, is_increment);
    let mut observer = Running::start(command(&["--fast", "--attach", &name]), false);
    observer.wait_for_lines(3, WAIT, |l| l.starts_with("Process-2: Square"));
    observer.signal(Sig::SIGTERM);
    let observed = observer.finish(SIGNAL_DEADLINE);
    observed.assert_code(0).assert_no_panic();
    assert_eq!(
        observed.stdout_lines().last(),
        Some(&"Process-2 Terminated"),
        "{observed}"
    );
    assert!(segment_exists(&name), "the observer unlinked it");
    creator.signal(Sig::SIGTERM);
    check_ending(&creator.finish(SIGNAL_DEADLINE), &name);
}

/// The run an observer watches ends, by itself or killed: the creator or,
/// after a SIGKILL, the run's tracker removes the segment, and the observer
/// says so and fails, instead of printing a dead counter for ever.
#[test]
fn attach_ends_when_the_watched_run_ends() {
    for (tag, how) in [("ends", Sig::SIGTERM), ("killed", Sig::SIGKILL)] {
        let name = test_name(&format!("attach-{tag}"));
        let mut creator = start_named(&name);
        creator.wait_for_lines(1, WAIT, is_increment);
        let mut observer = Running::start(
            command(&["--fast", "--ticks", MANY_TICKS, "--attach", &name]),
            false,
        );
        observer.wait_for_lines(3, WAIT, |l| l.starts_with("Process-2: Square"));
        creator.signal_group(how);
        let _ = creator.finish(SIGNAL_DEADLINE);
        let observed = observer.finish(WAIT);
        observed
            .assert_code(1)
            .assert_no_panic()
            .assert_stderr_contains(&[&format!(
                "exp4-counter: /ipc-lab-{name} was removed: the run that made it has ended"
            )]);
        assert!(!segment_exists(&name), "{tag}: {observed}");
    }
}

#[test]
fn a_taken_name_is_a_runtime_error() {
    let name = test_name("taken");
    let mut running = start_named(&name);
    running.wait_for_lines(1, WAIT, |_| true);
    let second = run(BIN, &["--fast", "--ticks", "1", "--name", &name]);
    second.assert_code(1).assert_no_panic();
    // What happened, and what to do about it.
    second.assert_stderr_contains(&[
        &format!("shm_open /ipc-lab-{name} (taken: "),
        &format!("`exp4-counter --attach {name}` watches the run that has it"),
        &format!("if none runs, `scripts/clean.sh {name}` removes it"),
        "): File exists",
    ]);
    assert_eq!(second.stdout, "", "{second}");
    assert!(segment_exists(&name), "the loser unlinked it");
    running.signal(Sig::SIGTERM);
    check_ending(&running.finish(SIGNAL_DEADLINE), &name);
}

#[test]
fn attaching_to_a_missing_name_is_bad_input() {
    let name = test_name("missing");
    run(BIN, &["--fast", "--attach", &name]).assert_bad_usage(&format!(
        "shm_open /ipc-lab-{name}: No such file or directory"
    ));
}

#[test]
fn a_closed_stdout_ends_the_endless_run_quietly() {
    // Ticks enough for ever: only the closed output can end this run.
    let name = test_name("head");
    let run = contract::assert_closed_stdout_ends_quietly(
        BIN,
        &["--fast", "--ticks", MANY_TICKS, "--name", &name],
        b"",
    );
    assert!(run.stdout.starts_with("Process-"), "{run}");
    assert!(!segment_exists(&name), "segment left behind\n{run}");
}

/// Kills one of the two processes mid-run: the parent stops the other,
/// names the dead one, and still unlinks the segment.
fn a_process_killed_mid_run(victim: usize, process: &str) {
    let name = test_name(&format!("dead-{victim}"));
    let mut running = start_named(&name);
    running.wait_for_lines(1, WAIT, is_increment);
    // process_1 is forked first, then process_2.
    let children = running.wait_for_children(2, WAIT);
    let run = running.kill_peer(children[victim], &children);
    contract::assert_killed_peer_named(&run, BIN, process);
    assert_eq!(
        run.stdout_lines().last(),
        Some(&"Processes Terminated !"),
        "{run}"
    );
    assert!(!segment_exists(&name), "segment left behind\n{run}");
}

#[test]
fn a_counter_killed_mid_run_ends_the_run_and_is_named() {
    // The other process used to go on printing until Ctrl-C.
    a_process_killed_mid_run(0, "process_1");
}

#[test]
fn a_printer_killed_mid_run_ends_the_run_and_is_named() {
    a_process_killed_mid_run(1, "process_2");
}

#[test]
fn a_full_disk_is_reported_by_the_children_and_the_parent() {
    let run = run_into_full_disk(BIN, &["--fast"]);
    run.assert_full_disk_reported()
        .assert_stderr_contains(&["process_2: writing to standard output"]);
}

#[test]
fn bad_arguments_exit_with_2_and_no_panic() {
    let long = "x".repeat(300);
    let cases: [&[&str]; 7] = [
        &["--no-such-flag"],
        &["--ticks", "abc"],
        &["--ticks", "-1"],
        &["--name", "a/b"],
        &["--name", ""],
        &["--name", &long],
        &["--name", "a", "--attach", "a"],
    ];
    assert_no_new_shm(|| {
        for args in cases {
            let run = run(BIN, args);
            run.assert_bad_usage("error: ");
            assert!(run.stderr.starts_with("error: "), "{run}");
        }
        run(BIN, &["--name", "a/b"]).assert_bad_usage("contains '/'");
        for ticks in ["-1", "abc", "99999999999999999999999"] {
            run(BIN, &["--ticks", ticks])
                .assert_bad_usage("expected a whole number of ticks, 0 or more");
        }
    });
}

#[test]
fn help_explains_the_experiment() {
    contract::assert_help(
        &run(BIN, &["--help"]),
        &[
            "--name",
            "--attach",
            "--ticks",
            "--fast",
            "tick",
            "little-endian",
            "12 ticks with --fast",
        ],
    );
}

/// Process 1's lines, process 2's and the rest, each in order, without
/// the values process 2 saw (they depend on how the two processes'
/// ticks fall).
fn per_process(stdout: &str) -> Vec<Vec<String>> {
    let normalised = normalise_numbers(stdout, "Square of counter value ");
    by_prefix(
        &normalise_numbers(&normalised, " is "),
        &["Process-1", "Process-2"],
    )
}

#[test]
fn the_handout_shows_a_real_run() {
    // The handout's run was stopped with Ctrl-C after 12 s: 12 ticks.
    let readme = handout::checked(env!("CARGO_MANIFEST_DIR"), "exp4-counter");
    let name = test_name("handout");
    let run = run(BIN, &["--fast", "--ticks", "12", "--name", &name]);
    check_ending(&run, &name);
    handout::assert_shows_normalised(&readme, &run, per_process);
}

/// The Python snippet of the handout, attaching to `name`.
fn python_snippet(name: &str) -> String {
    let readme = handout::read(env!("CARGO_MANIFEST_DIR"));
    let snippet = handout::code_block(&readme, "python").expect("a ```python block");
    assert!(snippet.contains("\"ipc-lab-demo\""), "{snippet}");
    snippet.replace("\"ipc-lab-demo\"", &format!("\"ipc-lab-{name}\""))
}

/// Runs the snippet and returns the counter it printed.
fn python_reads(snippet: &str) -> u32 {
    let mut python = Command::new("python3");
    python.args(["-c", snippet]);
    let run = run_command(python, None, WAIT);
    run.assert_code(0);
    // No resource_tracker warning about a "leaked" segment.
    assert_eq!(run.stderr, "", "{run}");
    run.stdout
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("not a counter\n{run}"))
}

#[test]
fn python_attaches_and_reads_the_counter() {
    skip_unless!(
        ipc_testkit::python_imports("python3", "multiprocessing.shared_memory"),
        "python3 with multiprocessing.shared_memory is not available"
    );
    let name = test_name("python");
    let snippet = python_snippet(&name);
    let mut running = start_named(&name);
    running.wait_for_lines(2, WAIT, is_increment);
    let first = python_reads(&snippet);
    // Give a resource tracker that would unlink the segment time to do so.
    running.wait_for_lines(first as usize + 2, WAIT, is_increment);
    assert!(segment_exists(&name), "Python unlinked the segment");
    let second = python_reads(&snippet);
    running.signal(Sig::SIGTERM);
    let run = running.finish(SIGNAL_DEADLINE);
    check_ending(&run, &name);
    let last = *increments(&run).last().unwrap();
    assert!(
        2 <= first && first <= second && second <= last,
        "Python read {first} then {second}; the counter went to {last}\n{run}"
    );
}
