//! The contracts every experiment keeps, one function each: its help, its
//! refusal of bad usage, its output to a file or a closed pipe, a process
//! killed mid-run named by its parent, a run stopped or interrupted by a
//! signal. Each crate's tests call them with what differs (the words its
//! help explains, the arguments it refuses, how it runs its binary), as
//! they call [`trace::check_experiment`](crate::trace::check_experiment)
//! for the traced run.
//!
//! ```
//! use ipc_testkit::contract;
//!
//! // In a crate's tests/output.rs: contract::assert_help(&run(BIN, &["--help"]), &["--fast"]).
//! let help = "Usage: x [--fast]\nExit codes: 0 done, 1 a failure, 2 bad usage.";
//! contract::assert_help(&ipc_testkit::run("echo", &[help]), &["--fast"]);
//!
//! let refuse = |args: &[&str]| {
//!     ipc_testkit::run("sh", &["-c", "echo \"error: unexpected $0\" >&2; exit 2", args[0]])
//! };
//! contract::assert_refused(refuse, &[(&["--no-such-flag"], "--no-such-flag")]);
//! ```

use std::os::unix::process::ExitStatusExt;
use std::time::{Duration, Instant};

use crate::Run;

/// What every experiment's `--help` says of its exit codes (ipc-cli's
/// runner maps every error to one of them): `Exit codes: 0 done, 1 a
/// failure (…), 2 bad usage.`
pub const EXIT_CODES: [&str; 3] = ["Exit codes: 0", "1 a failure", "bad usage"];

/// Panics unless `help` (a run of `--help`) ended with exit code 0, no
/// panic, and printed on standard output every one of `words` (what the
/// experiment must explain) and the [`EXIT_CODES`] (wherever its lines
/// break).
#[track_caller]
pub fn assert_help<'a>(help: &'a Run, words: &[&str]) -> &'a Run {
    help.assert_code(0)
        .assert_no_panic()
        .assert_stdout_contains(words);
    let folded = help.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    crate::run::assert_contains("stdout (its lines joined)", &folded, &EXIT_CODES, help)
}

/// Panics unless every case `(arguments, what the message names)` is
/// refused as bad usage ([`Run::assert_bad_usage`]: exit code 2, nothing
/// on stdout, the words on stderr, no panic) by the run that `run` makes
/// of its arguments (`|args| ipc_testkit::run(BIN, args)`).
#[track_caller]
pub fn assert_refused(run: impl Fn(&[&str]) -> Run, cases: &[(&[&str], &str)]) {
    for (args, message) in cases {
        run(args).assert_bad_usage(message);
    }
}

/// Runs `program args` under strace ([`run_traced`](crate::run_traced))
/// and panics unless it is refused as bad usage saying `reason`
/// ([`Run::assert_bad_usage`]) before it made any of `calls` (`fork(`,
/// `mq_open(`: what refusing first must spare). Returns the calls it
/// made, for the caller's own checks; where strace cannot trace, checks
/// the refusal alone, says so, and returns `None`.
#[track_caller]
pub fn assert_refused_before_calls(
    program: &str,
    args: &[&str],
    reason: &str,
    calls: &[&str],
) -> Option<String> {
    let Some((run, made)) = crate::run_traced(program, args) else {
        println!("strace cannot run here: checking the exit code only");
        crate::run(program, args).assert_bad_usage(reason);
        return None;
    };
    run.assert_bad_usage(reason);
    for call in calls {
        assert!(!made.contains(call), "{call} in\n{made}\n{run}");
    }
    Some(made)
}

/// The names that `--name` refuses in every experiment that takes one
/// (ipc-core's `IpcName` rules), with what the message says. A NUL byte
/// cannot be passed in argv: `IpcName`'s unit tests cover it.
pub fn invalid_names() -> Vec<(String, &'static str)> {
    // 256 bytes with the ipc-lab- prefix.
    let long = "x".repeat(248);
    [
        ("", "it is empty"),
        ("/", "it is empty"),
        ("a/b", "it contains '/'"),
        ("../x", "it contains '/'"),
        (long.as_str(), "longer than 255 bytes"),
        ("é", "only ASCII letters"),
    ]
    .map(|(name, reason)| (name.to_owned(), reason))
    .to_vec()
}

/// How long a refusal that comes before anything connects may take: far
/// less than a connection's timeout.
pub const REFUSED_WITHIN: Duration = Duration::from_secs(5);

/// As [`assert_refused`], and each refusal comes within
/// [`REFUSED_WITHIN`]: bad usage is refused before the program connects
/// to anything (a server it would otherwise wait for).
#[track_caller]
pub fn assert_refused_at_once(run: impl Fn(&[&str]) -> Run, cases: &[(&[&str], &str)]) {
    for (args, message) in cases {
        let started = Instant::now();
        let refused = run(args);
        refused.assert_bad_usage(message);
        assert!(
            started.elapsed() < REFUSED_WITHIN,
            "refused only after {:?} (at most {REFUSED_WITHIN:?})\n{refused}",
            started.elapsed()
        );
    }
}

/// Runs `program args` with its standard output redirected to a file
/// ([`run_to_file`](crate::run_to_file), where a forked process with
/// output still buffered would print it twice), and panics unless it
/// ended with exit code 0 and the file holds exactly `expected`, each line
/// once; the message names the first line that differs.
#[track_caller]
pub fn assert_each_line_once_in_a_file(program: &str, args: &[&str], expected: &[&str]) {
    let (run, text) = crate::run_to_file(program, args);
    run.assert_code(0);
    let lines: Vec<&str> = text.lines().collect();
    if let Some(difference) = crate::first_difference(&lines, expected) {
        panic!("in the file: {difference}\nfile:\n{text}{run}");
    }
}

/// Runs `program args` into `head -1` ([`run_into_head`](crate::run_into_head)),
/// which closes the program's standard output after its first line, and
/// panics unless the program ended quietly: exit code 0 (its own, not
/// head's), no panic, nothing on stderr, one line through. Returns the
/// run, for the caller to check which line it was.
#[track_caller]
pub fn assert_closed_stdout_ends_quietly(program: &str, args: &[&str], input: &[u8]) -> Run {
    let run = crate::run_into_head(program, args, input);
    run.assert_code(0).assert_no_panic();
    assert_eq!(run.stdout_lines().len(), 1, "{run}");
    assert_eq!(run.stderr, "", "{run}");
    run
}

/// Panics unless `run` (after [`Running::kill_peer`](crate::Running::kill_peer)
/// killed the process named `name`) ended with exit code 1, no panic, and
/// a line on stderr in which the parent names it, as every experiment's
/// parent names a child that died: `exp7-queue: p2 was killed by SIGKILL`
/// (`program` is the binary's path; its file name begins the line).
#[track_caller]
pub fn assert_killed_peer_named(run: &Run, program: &str, name: &str) {
    run.assert_code(1).assert_no_panic();
    let program = std::path::Path::new(program)
        .file_name()
        .map_or(program.into(), |p| p.to_string_lossy());
    let named = format!("{program}: {name} was killed by SIGKILL");
    assert!(
        run.stderr_lines().contains(&named.as_str()),
        "{named:?} missing from stderr\n{run}"
    );
}

/// SIGKILLs p3, the third of the processes p1 … pN that `started` holds
/// (the run, once they work, and their pids in the order forked), and
/// panics unless the parent ends the run naming p3, and nothing else, on
/// stderr ([`assert_killed_peer_named`]), without printing the lines it
/// prints at the end (none holds `totals`).
#[track_caller]
pub fn assert_p3_killed_mid_run_named(
    program: &str,
    (running, children): (crate::Running, Vec<crate::Pid>),
    totals: &str,
) {
    let run = running.kill_peer(children[2], &children);
    assert_killed_peer_named(&run, program, "p3");
    assert_eq!(run.stderr_lines().len(), 1, "{run}");
    assert!(!run.stdout.contains(totals), "{run}");
}

/// How a test stops a running experiment, as a user would.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// Ctrl-C: SIGINT to the program's whole process group.
    CtrlC,
    /// SIGTERM to the parent alone (ipc-core's children get SIGTERM when
    /// their parent dies).
    TermParent,
    /// SIGKILL to the parent alone, as `kill -9 PID` does.
    KillParent,
}

impl Stop {
    /// The signal sent.
    pub fn signal(self) -> crate::Sig {
        match self {
            Stop::CtrlC => crate::Sig::SIGINT,
            Stop::TermParent => crate::Sig::SIGTERM,
            Stop::KillParent => crate::Sig::SIGKILL,
        }
    }
}

/// Stops `running` as `stop` says, with the promise of
/// [`Running::signal_and_wait`](crate::Running::signal_and_wait) (it and
/// its `children` end, and are reaped), and panics unless the run ended by
/// the signal's default action (a program that owns nothing with a name
/// to remove need not catch it), with no panic, exactly `printed` on
/// stdout and nothing on stderr. Returns the run.
#[track_caller]
pub fn assert_stopped_by_default_action(
    running: crate::Running,
    children: &[crate::Pid],
    stop: Stop,
    printed: &[&str],
) -> Run {
    let signal = stop.signal();
    let run = running.signal_and_wait(signal, stop == Stop::CtrlC, children);
    run.assert_no_panic();
    assert_eq!(run.status.signal(), Some(signal as i32), "{run}");
    assert_eq!(run.stdout_lines(), printed, "{run}");
    assert_eq!(run.stderr, "", "{run}");
    run
}

/// Stops `running` as `stop` says while its processes work, with the
/// promise of [`Running::signal_and_wait`](crate::Running::signal_and_wait)
/// (it and its `children` end, and are reaped), and panics unless the
/// program caught the signal and ended cleanly: exit code 0, no panic,
/// nothing on stderr, and its last line, once every process stopped,
/// saying so (it starts with `said`: `Interrupted by SIGINT`). Returns the
/// run.
#[track_caller]
pub fn assert_interrupted(
    running: crate::Running,
    children: &[crate::Pid],
    stop: Stop,
    said: &str,
) -> Run {
    let run = running.signal_and_wait(stop.signal(), stop == Stop::CtrlC, children);
    run.assert_code(0).assert_no_panic();
    assert_eq!(run.stderr, "", "{run}");
    let last = run.stdout_lines().last().copied().unwrap_or_default();
    assert!(
        last.starts_with(said),
        "the last line is not {said:?}…\n{run}"
    );
    run
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::panic::{AssertUnwindSafe, catch_unwind};

    fn sh(script: &str) -> impl Fn(&[&str]) -> Run + '_ {
        move |args: &[&str]| {
            let mut all = vec!["-c", script, "sh"];
            all.extend_from_slice(args);
            crate::run("sh", &all)
        }
    }

    #[test]
    fn help_must_name_the_words_and_the_exit_codes() {
        let help = crate::run(
            "echo",
            &["--fast. Exit codes: 0 done, 1 a failure, 2 bad usage."],
        );
        assert_help(&help, &["--fast"]);
        assert!(catch_unwind(|| assert_help(&help, &["--slow"])).is_err());
        let silent = crate::run("echo", &["--fast. Exit codes: 0 done."]);
        assert!(catch_unwind(|| assert_help(&silent, &["--fast"])).is_err());
        let broken = crate::run(
            "printf",
            &["--fast. Exit codes: 0 done, 1 a\\n  failure, 2 bad usage."],
        );
        assert_help(&broken, &["--fast"]);
        let failed = crate::run(
            "sh",
            &[
                "-c",
                "echo '--fast. Exit codes: 0, 1 a failure, 2 bad usage'; exit 1",
            ],
        );
        assert!(catch_unwind(|| assert_help(&failed, &["--fast"])).is_err());
    }

    #[test]
    fn every_case_must_be_refused_with_2_naming_it() {
        let refuses = sh("echo \"error: bad $1\" >&2; exit 2");
        assert_refused(&refuses, &[(&["--x"], "bad --x"), (&["y"], "y")]);
        assert_refused_at_once(&refuses, &[(&["--x"], "bad --x")]);
        assert!(catch_unwind(|| assert_refused(&refuses, &[(&["--x"], "--z")])).is_err());
        let accepts = sh("echo fine");
        assert!(catch_unwind(|| assert_refused(&accepts, &[(&["--x"], "")])).is_err());
        assert!(catch_unwind(|| assert_refused_at_once(&accepts, &[(&["--x"], "")])).is_err());
    }

    #[test]
    fn a_killed_peer_must_be_named_by_the_parent_which_fails() {
        let named = "echo 'x: p2 was killed by SIGKILL' >&2; exit 1";
        let run = crate::run("sh", &["-c", named]);
        assert_killed_peer_named(&run, "/target/debug/x", "p2");
        assert!(catch_unwind(|| assert_killed_peer_named(&run, "/target/debug/x", "p1")).is_err());
        assert!(catch_unwind(|| assert_killed_peer_named(&run, "/target/debug/y", "p2")).is_err());
        let ok = crate::run("sh", &["-c", "echo 'x: p2 was killed by SIGKILL' >&2"]);
        assert!(catch_unwind(|| assert_killed_peer_named(&ok, "x", "p2")).is_err());
    }

    /// `script` started in a group of its own, with its children.
    fn started(script: &str) -> (crate::Running, Vec<crate::Pid>) {
        let mut command = std::process::Command::new("sh");
        command.args(["-c", script]);
        crate::own_process_group(&mut command);
        let mut running = crate::Running::start(command, false);
        running.wait_for_lines(1, crate::DEFAULT_TIMEOUT, |l| l == "waiting");
        (running, Vec::new())
    }

    #[test]
    fn a_stopped_run_must_end_by_the_signal_having_printed_what_it_did() {
        for stop in [Stop::CtrlC, Stop::TermParent, Stop::KillParent] {
            let (running, children) = started("echo waiting; exec sleep 60");
            assert_stopped_by_default_action(running, &children, stop, &["waiting"]);
            let (running, children) = started("echo waiting; exec sleep 60");
            let outcome = catch_unwind(AssertUnwindSafe(move || {
                assert_stopped_by_default_action(running, &children, stop, &[]);
            }));
            assert!(outcome.is_err(), "{stop:?}");
        }
        // A program that catches SIGTERM and exits by itself fails it.
        let caught = "trap 'exit 0' TERM; echo waiting; while :; do :; done";
        let (running, children) = started(caught);
        let outcome = catch_unwind(AssertUnwindSafe(move || {
            assert_stopped_by_default_action(running, &children, Stop::TermParent, &["waiting"]);
        }));
        assert!(outcome.is_err());
    }

    #[test]
    fn an_interrupted_run_must_say_so_last_and_exit_0() {
        let says = "trap 'echo Interrupted by a signal; exit 0' INT TERM; echo waiting; while :; do :; done";
        for stop in [Stop::CtrlC, Stop::TermParent] {
            let (running, children) = started(says);
            assert_interrupted(running, &children, stop, "Interrupted by");
        }
        let (running, children) = started(says);
        let outcome = catch_unwind(AssertUnwindSafe(move || {
            assert_interrupted(running, &children, Stop::TermParent, "Stopped by");
        }));
        assert!(outcome.is_err());
        let (running, children) = started("echo waiting; exec sleep 60");
        let outcome = catch_unwind(AssertUnwindSafe(move || {
            assert_interrupted(running, &children, Stop::CtrlC, "waiting");
        }));
        assert!(outcome.is_err(), "killed by the signal, not interrupted");
    }

    #[test]
    fn a_file_must_hold_every_line_once() {
        assert_each_line_once_in_a_file("printf", &["a\\nb\\n"], &["a", "b"]);
        for wrong in [&["a"][..], &["a", "b", "b"], &["b", "a"]] {
            let outcome =
                catch_unwind(|| assert_each_line_once_in_a_file("printf", &["a\\nb\\n"], wrong));
            assert!(outcome.is_err(), "{wrong:?}");
        }
    }

    #[test]
    fn a_refusal_must_come_before_the_calls_named() {
        let refuses = "echo 'error: bad name' >&2; exit 2";
        let made = assert_refused_before_calls("sh", &["-c", refuses], "bad name", &["mq_open("]);
        let Some(made) = made else {
            return;
        };
        assert!(made.contains("execve("), "{made}");
        let forks = "sh -c true; echo 'error: bad name' >&2; exit 2";
        let outcome = catch_unwind(|| {
            assert_refused_before_calls("sh", &["-c", forks], "bad name", &["clone(", "fork("]);
        });
        assert!(outcome.is_err());
    }

    #[test]
    fn a_closed_stdout_must_end_the_run_quietly_with_one_line() {
        let run = assert_closed_stdout_ends_quietly("sh", &["-c", "echo 1; echo 2 || true"], b"");
        assert_eq!(run.stdout_lines(), ["1"]);
        for wrong in ["echo 1; echo 'broken pipe' >&2", "echo 1; exit 1", "true"] {
            let outcome =
                catch_unwind(|| assert_closed_stdout_ends_quietly("sh", &["-c", wrong], b""));
            assert!(outcome.is_err(), "{wrong:?} passed");
        }
    }
}
