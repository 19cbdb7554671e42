//! Runs the real `exp3-fifo` binary: the default run, each role against a
//! real shell (`echo hi > FIFO`, `cat FIFO`), signals, planted symbolic
//! links, the umask, and that no FIFO is left behind.

use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use ipc_core::Deadline;
use ipc_testkit::contract;
use ipc_testkit::{
    DEFAULT_TIMEOUT, Pid, Run, Running, SIGNAL_DEADLINE, Sig, TempDir, by_prefix, eventually,
    handout, normalise_numbers, own_process_group, run, run_command, run_into_full_disk,
    running_as_root, skip_unless,
};

const BIN: &str = env!("CARGO_BIN_EXE_exp3-fifo");

const WAIT: Duration = Duration::from_secs(30);

fn exists(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok()
}

fn command(args: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    command.args(args);
    command
}

/// Starts `command` and waits until it blocks opening the FIFO, waiting
/// for its `peer` ("reader" or "writer").
fn start_waiting_for(peer: &str, command: Command) -> Running {
    let waiting = format!("waiting for a {peer}");
    let mut running = Running::start(command, false);
    running.wait_for_lines(1, WAIT, |l| l.contains(&waiting));
    running
}

/// Starts `sh -c SCRIPT PATH`, a shell that opens the FIFO at `path`.
fn shell(script: &str, path: &str) -> Running {
    let mut sh = Command::new("sh");
    sh.args(["-c", script, path]);
    Running::start(sh, false)
}

/// Runs `sh -c SCRIPT PATH` to its end while `role`, the peer its open
/// waits for, runs: fails at once, saying how, if `role` ends first (the
/// shell would wait in open() for ever).
fn shell_against(role: &Running, script: &str, path: &str) -> Run {
    let shell = shell(script, path);
    role.wait_while_running(DEFAULT_TIMEOUT, &format!("`{script}` to end"), |slice| {
        let ended = shell.ended().is_some();
        if !ended {
            std::thread::sleep(slice);
        }
        ended.then_some(())
    });
    shell.finish(DEFAULT_TIMEOUT)
}

/// The path printed in the first line, `FIFO created: PATH (mode 0600)`.
fn path_in(stdout: &str) -> Option<&str> {
    let first = stdout.lines().next()?;
    first
        .strip_prefix("FIFO created: ")?
        .strip_suffix(" (mode 0600)")
}

/// The path the run printed in `FIFO created: PATH (mode 0600)`.
fn created_path(run: &Run) -> String {
    path_in(&run.stdout)
        .unwrap_or_else(|| panic!("no 'FIFO created' line\n{run}"))
        .to_owned()
}

/// The lines that start with `prefix`, the FIFO's path replaced with
/// `FIFO` and pids with `<N>`.
fn lines_of(run: &Run, prefix: &str, path: &str) -> Vec<String> {
    run.stdout_lines()
        .into_iter()
        .filter(|l| l.starts_with(prefix))
        .map(|l| normalise_numbers(&l.replace(path, "FIFO"), "pid "))
        .collect()
}

const WRITER_LINES: [&str; 5] = [
    "Writer (pid <N>): waiting for a reader to open FIFO",
    "Writer sent: First",
    "Writer sent: second",
    "Writer sent: third?",
    "Writer: done, closing the FIFO",
];

const READER_LINES: [&str; 5] = [
    "Reader (pid <N>): waiting for a writer to open FIFO",
    "Reader received: First",
    "Reader received: second",
    "Reader received: third?",
    "Reader: end of file, every writer has closed the FIFO",
];

fn check_default_run(run: &Run) {
    run.assert_code(0).assert_no_panic();
    let path = created_path(run);
    assert_eq!(lines_of(run, "Writer", &path), WRITER_LINES, "{run}");
    assert_eq!(lines_of(run, "Reader", &path), READER_LINES, "{run}");
    let lines = run.stdout_lines();
    assert_eq!(lines.len(), 12, "{run}");
    assert_eq!(lines[11], format!("FIFO removed: {path}"), "{run}");
    let name = Path::new(&path).file_name().unwrap().to_str().unwrap();
    assert!(
        name.starts_with("ipc-lab-") && name.ends_with("-exp3-fifo"),
        "{run}"
    );
    assert!(!exists(Path::new(&path)), "FIFO left behind\n{run}");
    assert_eq!(run.stderr, "", "{run}");
}

#[test]
fn the_default_run_forks_a_writer_and_a_reader() {
    check_default_run(&run(BIN, &[]));
}

#[test]
fn fast_prints_the_same_lines() {
    check_default_run(&run(BIN, &["--fast"]));
}

#[test]
fn the_reader_prints_what_a_shell_echoes() {
    let dir = TempDir::new("echo");
    let fifo = dir.join("ipc-lab-fifo");
    let p = fifo.to_str().unwrap();
    let reader = start_waiting_for("writer", command(&["reader", "--path", p]));
    let echo = shell_against(&reader, "echo hi > \"$0\"", p);
    echo.assert_code(0);
    let run = reader.finish(WAIT);
    run.assert_code(0).assert_no_panic();
    assert_eq!(
        run.stdout_lines(),
        [
            format!("FIFO created: {p} (mode 0600)"),
            format!(
                "Reader (pid {}): waiting for a writer to open {p}",
                run_pid(&run)
            ),
            "Reader received: hi".into(),
            "Reader: end of file, every writer has closed the FIFO".into(),
            format!("FIFO removed: {p}"),
        ],
        "{run}"
    );
    assert!(!exists(&fifo), "{run}");
}

/// The pid a run printed in `(pid N)`.
fn run_pid(run: &Run) -> String {
    let at = run.stdout.find("(pid ").expect("a pid") + 5;
    run.stdout[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect()
}

#[test]
fn the_writer_feeds_cat() {
    let dir = TempDir::new("cat");
    let fifo = dir.join("ipc-lab-fifo");
    let p = fifo.to_str().unwrap();
    let writer = start_waiting_for("reader", command(&["writer", "--fast", "--path", p]));
    let mut cat = Command::new("cat");
    cat.arg(p);
    let cat = Running::start(cat, false);
    let run = writer.finish(WAIT);
    if run.code() != Some(0) {
        // A writer that failed before it opened the FIFO leaves cat
        // waiting in open() for ever: the writer's run says why.
        cat.signal(Sig::SIGKILL);
    }
    let cat = cat.finish(WAIT);
    run.assert_code(0).assert_no_panic();
    cat.assert_code(0);
    assert_eq!(cat.stdout_lines(), ["First", "second", "third?"], "{cat}");
    assert_eq!(lines_of(&run, "Writer", p), WRITER_LINES, "{run}");
    assert_eq!(
        run.stdout_lines().last().copied(),
        Some(&*format!("FIFO removed: {p}"))
    );
    assert!(!exists(&fifo), "{run}");
}

#[test]
fn a_writer_with_messages_meets_a_reader_on_a_shell_made_fifo() {
    let dir = TempDir::new("mkfifo");
    let fifo = dir.join("made-by-mkfifo");
    let p = fifo.to_str().unwrap();
    run("mkfifo", &["-m", "600", p]).assert_code(0);
    let reader = start_waiting_for("writer", command(&["reader", "--path", p]));
    let writer = run(
        BIN,
        &["writer", "--fast", "--path", p, "hello", "two words"],
    );
    writer.assert_code(0);
    assert_eq!(
        writer.stdout_lines()[0],
        format!("Using the existing FIFO {p} (its creator removes it)")
    );
    let run = reader.finish(WAIT);
    run.assert_code(0);
    assert_eq!(
        lines_of(&run, "Reader received", p),
        ["Reader received: hello", "Reader received: two words"],
        "{run}"
    );
    assert!(!run.stdout.contains("FIFO removed"), "{run}");
    assert!(exists(&fifo), "a FIFO the program did not create stays");
}

#[test]
fn a_fifo_others_may_open_is_refused_with_what_to_do() {
    let dir = TempDir::new("mkfifo-0644");
    let fifo = dir.join("wide-open");
    let p = fifo.to_str().unwrap();
    run("mkfifo", &["-m", "644", p]).assert_code(0);
    for role in ["reader", "writer"] {
        run(BIN, &[role, "--fast", "--path", p])
            .assert_code(1)
            .assert_no_panic()
            .assert_stderr_contains(&[&format!(
                "{p} has mode 0644: other users can open it (ipc-lab makes its objects 0600; \
                 `chmod 600 {p}` if it is yours and you trust it): not using it"
            )]);
    }
    assert!(exists(&fifo), "left as it was");
}

#[test]
fn a_fifo_of_another_user_is_refused_and_left_alone() {
    skip_unless!(
        running_as_root(),
        "making a FIFO of another user needs root (chown)"
    );
    let dir = TempDir::new("foreign");
    // The default name in a directory of its own, as another user would
    // plant it in /tmp: 0666, owned by nobody (uid 65534).
    let fifo = dir.join("ipc-lab-exp3-fifo");
    let p = fifo.to_str().unwrap();
    run("mkfifo", &["-m", "666", p]).assert_code(0);
    std::os::unix::fs::chown(&fifo, Some(65534), Some(65534)).unwrap();
    for role in ["reader", "writer"] {
        let refused = run(BIN, &[role, "--fast", "--path", p]);
        refused
            .assert_code(1)
            .assert_no_panic()
            .assert_stderr_contains(&[&format!(
                "{p} belongs to uid 65534, not to you: not using it"
            )]);
        assert!(
            !refused.stdout.contains("Using the existing FIFO"),
            "{refused}"
        );
    }
    let meta = std::fs::symlink_metadata(&fifo).unwrap();
    assert!(meta.file_type().is_fifo());
    assert_eq!(
        std::os::unix::fs::MetadataExt::uid(&meta),
        65534,
        "untouched"
    );
}

#[test]
fn sigterm_ends_a_reader_blocked_in_open_and_removes_the_fifo() {
    let dir = TempDir::new("sigterm");
    let fifo = dir.join("ipc-lab-fifo");
    let p = fifo.to_str().unwrap();
    let reader = start_waiting_for("writer", command(&["reader", "--path", p]));
    assert!(exists(&fifo));
    let pid = reader.pid();
    reader.signal(Sig::SIGTERM);
    let run = reader.finish(SIGNAL_DEADLINE);
    run.assert_code(0).assert_no_panic();
    let lines = run.stdout_lines();
    assert_eq!(
        lines[lines.len() - 2..],
        [
            "Reader: interrupted by SIGTERM".to_string(),
            format!("FIFO removed: {p}")
        ],
        "{run}"
    );
    assert!(!exists(&fifo), "{run}");
    run.assert_all_ended(&[pid]);
}

#[test]
fn sigterm_ends_a_writer_blocked_in_open() {
    let dir = TempDir::new("sigterm-writer");
    let fifo = dir.join("ipc-lab-fifo");
    let p = fifo.to_str().unwrap();
    let writer = start_waiting_for("reader", command(&["writer", "--path", p]));
    writer.signal(Sig::SIGTERM);
    let run = writer.finish(SIGNAL_DEADLINE);
    run.assert_code(0).assert_no_panic();
    run.assert_stdout_contains(&["Writer: interrupted by SIGTERM"]);
    assert!(!exists(&fifo), "{run}");
}

#[test]
fn the_following_reader_takes_one_writer_after_another() {
    let dir = TempDir::new("follow");
    let fifo = dir.join("ipc-lab-fifo");
    let p = fifo.to_str().unwrap();
    let mut reader = Running::start(command(&["reader", "--follow", "--path", p]), false);
    let waiting = |l: &str| l.contains("waiting for a writer");
    for (n, word) in ["one", "two"].iter().enumerate() {
        reader.wait_for_lines(n + 1, WAIT, waiting);
        let writer = shell(&format!("echo {word} > \"$0\""), p);
        let deadline = Deadline::after(DEFAULT_TIMEOUT);
        while writer.ended().is_none() {
            // Panics at once if the reader ends. Waiting for a writer
            // after the next one, before this one has ended: the reader
            // never waited for this one (it did not open the FIFO).
            let ahead = reader.has_lines(n + 3, Duration::from_millis(100), waiting);
            assert!(
                !ahead,
                "the reader waited for {} writers while `echo {word}` waited for it to open {p}",
                n + 3
            );
            assert!(
                !deadline.has_passed(),
                "`echo {word}` did not end within {DEFAULT_TIMEOUT:?}"
            );
        }
        writer.finish(WAIT).assert_code(0);
    }
    reader.wait_for_lines(3, WAIT, |l| l.contains("waiting for a writer"));
    reader.signal(Sig::SIGINT);
    let run = reader.finish(SIGNAL_DEADLINE);
    run.assert_code(0);
    assert_eq!(
        lines_of(&run, "Reader received", p),
        ["Reader received: one", "Reader received: two"],
        "{run}"
    );
    run.assert_stdout_contains(&["Reader: interrupted by SIGINT"]);
    assert!(!exists(&fifo), "{run}");
}

/// The pids a run printed in `(pid N)`, its children's.
fn child_pids(run: &Run) -> Vec<Pid> {
    run.stdout
        .match_indices("(pid ")
        .filter_map(|(at, _)| {
            run.stdout[at + 5..]
                .split(')')
                .next()
                .and_then(|n| n.parse().ok())
                .map(Pid::from_raw)
        })
        .collect()
}

fn check_interrupted_default_run(run: &Run, signal: &str) {
    run.assert_code(0).assert_no_panic();
    let path = created_path(run);
    run.assert_stdout_contains(&[
        &format!("Writer: interrupted by {signal}"),
        &format!("FIFO removed: {path}"),
    ]);
    assert!(
        !run.stdout.contains("still open"),
        "a child outlived the program\n{run}"
    );
    assert!(!exists(Path::new(&path)), "{run}");
    let pids = child_pids(run);
    assert_eq!(pids.len(), 2, "{run}");
    run.assert_all_ended(&pids);
}

#[test]
fn sigterm_to_the_parent_reaches_both_children() {
    // Without --fast the writer pauses a second between messages.
    let mut running = Running::start(command(&[]), false);
    running.wait_for_lines(1, WAIT, |l| l == "Writer sent: First");
    running.signal(Sig::SIGTERM);
    let run = running.finish(SIGNAL_DEADLINE);
    check_interrupted_default_run(&run, "SIGTERM");
}

#[test]
fn ctrl_c_to_the_group_ends_every_process() {
    let mut cmd = command(&[]);
    own_process_group(&mut cmd);
    let mut running = Running::start(cmd, false);
    running.wait_for_lines(1, WAIT, |l| l == "Writer sent: First");
    running.signal_group(Sig::SIGINT);
    let run = running.finish(SIGNAL_DEADLINE);
    check_interrupted_default_run(&run, "SIGINT");
}

#[test]
fn a_parent_killed_alone_leaves_nothing_once_its_children_are_gone() {
    let mut running = Running::start(command(&[]), false);
    running.wait_for_lines(1, WAIT, |l| l == "Writer sent: First");
    let children = running.wait_for_children(2, WAIT);
    // The writer sleeps, the reader waits in read(): both get SIGTERM when
    // the parent dies, and stop in order.
    let killed = running.kill_alone(&children);
    killed.assert_no_panic().assert_stdout_contains(&[
        "Writer: interrupted by SIGTERM",
        "Reader: interrupted by SIGTERM",
    ]);
    // Only the parent, which created the FIFO, removes it; it died without
    // a word, so the run's tracker removes it once the children are gone,
    // with nobody running clean.sh.
    let path = created_path(&killed);
    assert!(
        eventually(WAIT, || !exists(Path::new(&path))),
        "{path} is still there\n{killed}"
    );
}

/// Kills the writer or the reader of a default run while the writer
/// pauses between two messages: the parent stops the other one, names the
/// dead one, and removes the FIFO.
fn a_child_killed_mid_run(victim: usize, name: &str) {
    let mut running = Running::start(command(&[]), false);
    running.wait_for_lines(1, WAIT, |l| l == "Reader received: First");
    // The writer is forked first, then the reader.
    let children = running.wait_for_children(2, WAIT);
    let run = running.kill_peer(children[victim], &children);
    contract::assert_killed_peer_named(&run, BIN, name);
    let path = created_path(&run);
    run.assert_stdout_contains(&[&format!("FIFO removed: {path}")]);
    assert!(!exists(Path::new(&path)), "{run}");
}

#[test]
fn a_writer_killed_mid_run_ends_the_run_and_is_named() {
    a_child_killed_mid_run(0, "writer");
}

#[test]
fn a_reader_killed_mid_run_ends_the_run_and_is_named() {
    a_child_killed_mid_run(1, "reader");
}

#[test]
fn a_full_disk_is_reported_and_the_fifo_removed() {
    let run = run_into_full_disk(BIN, &["--fast"]);
    run.assert_full_disk_reported();
}

/// The shell commands of the handout that name the roles' default FIFO.
fn handout_shell_lines() -> Vec<String> {
    let readme = handout::read(env!("CARGO_MANIFEST_DIR"));
    let mut lines = Vec::new();
    let mut shell = false;
    for line in readme.lines() {
        if line.starts_with("```") {
            shell = line == "```sh";
        } else if shell && line.contains("ipc-lab-exp3-fifo") {
            lines.push(line.split(" #").next().unwrap().trim().to_owned());
        }
    }
    lines
}

#[test]
fn the_handouts_shell_commands_use_the_path_the_program_prints() {
    // On a desktop $XDG_RUNTIME_DIR is set: a command that writes to
    // /tmp/ipc-lab-exp3-fifo then makes a regular file nobody reads.
    let lines = handout_shell_lines();
    assert!(lines.len() >= 3, "{lines:?}");
    for line in &lines {
        assert!(
            line.contains(SHELL_PATH),
            "the handout's command does not use the program's path: {line}"
        );
    }
    // The handout's `echo hi > …` reaches a reader role that uses the
    // default path, which the reader prints.
    let echo = lines
        .iter()
        .find(|l| l.starts_with("echo hi > "))
        .expect("the handout's echo command");
    let dir = TempDir::new("xdg");
    let mut reader = command(&["reader"]);
    reader.env("XDG_RUNTIME_DIR", dir.path());
    let reader = start_waiting_for("writer", reader);
    let mut shell = Command::new("sh");
    shell.args(["-c", echo]).env("XDG_RUNTIME_DIR", dir.path());
    run_command(shell, None, WAIT).assert_code(0);
    let run = reader.finish(WAIT);
    run.assert_code(0)
        .assert_stdout_contains(&["Reader received: hi"]);
    assert_eq!(
        Path::new(&created_path(&run)),
        dir.join("ipc-lab-exp3-fifo"),
        "{run}"
    );
    // Without XDG_RUNTIME_DIR, both mean the user's own directory in /tmp.
    let mut shell = Command::new("sh");
    shell
        .args(["-c", &format!("echo {SHELL_PATH}")])
        .env_remove("XDG_RUNTIME_DIR");
    let expanded = run_command(shell, None, WAIT);
    let uid = std::os::unix::fs::MetadataExt::uid(&std::fs::metadata("/proc/self").unwrap());
    assert_eq!(
        expanded.stdout,
        format!("/tmp/ipc-lab-user-{uid}/ipc-lab-exp3-fifo\n"),
        "{expanded}"
    );
    let mut help = command(&["--help"]);
    help.env_remove("XDG_RUNTIME_DIR");
    run_command(help, None, WAIT)
        .assert_stdout_contains(&["$XDG_RUNTIME_DIR or", "/tmp/ipc-lab-user-UID"]);
}

/// How the handout's shell commands name the roles' default FIFO.
const SHELL_PATH: &str = "\"${XDG_RUNTIME_DIR:-/tmp/ipc-lab-user-$(id -u)}/ipc-lab-exp3-fifo\"";

#[test]
fn a_planted_symbolic_link_is_refused_and_its_target_untouched() {
    let dir = TempDir::new("symlink");
    let target = dir.join("target");
    std::fs::write(&target, "precious\n").unwrap();
    let link = dir.join("ipc-lab-link");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let dangling = dir.join("ipc-lab-dangling");
    let nowhere = dir.join("nowhere");
    std::os::unix::fs::symlink(&nowhere, &dangling).unwrap();

    for path in [&link, &dangling] {
        let p = path.to_str().unwrap();
        for role in ["reader", "writer"] {
            run(BIN, &[role, "--fast", "--path", p]).assert_bad_usage(&format!(
                "{p} is a symbolic link (not followed), not a FIFO"
            ));
        }
        run(BIN, &["--fast", "--path", p])
            .assert_code(1)
            .assert_no_panic()
            .assert_stderr_contains(&[&format!("mkfifo {p}: File exists")]);
        assert!(
            std::fs::symlink_metadata(path)
                .unwrap()
                .file_type()
                .is_symlink()
        );
    }
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious\n");
    assert!(std::fs::metadata(&target).unwrap().file_type().is_file());
    assert!(
        !exists(&nowhere),
        "nothing created behind the dangling link"
    );
}

#[test]
fn a_path_that_is_not_a_fifo_is_bad_input() {
    let dir = TempDir::new("regular");
    let file = dir.join("file");
    std::fs::write(&file, "data").unwrap();
    let p = file.to_str().unwrap();
    run(BIN, &["reader", "--path", p]).assert_bad_usage("is a regular file, not a FIFO");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "data");

    let long = format!("/tmp/{}", "x".repeat(300));
    run(BIN, &["reader", "--path", &long]).assert_bad_usage("longer than 255 bytes");
}

#[test]
fn fifos_are_created_0600_whatever_the_umask() {
    let dir = TempDir::new("umask");
    for umask in ["000", "277", "077"] {
        let fifo = dir.join(&format!("ipc-lab-umask-{umask}"));
        let p = fifo.to_str().unwrap();
        let mut cmd = Command::new("sh");
        cmd.args([
            "-c",
            &format!("umask {umask}; exec \"$0\" reader --path \"$1\""),
            BIN,
            p,
        ]);
        let reader = start_waiting_for("writer", cmd);
        let meta = std::fs::symlink_metadata(&fifo).unwrap();
        let mode = meta.permissions().mode();
        reader.signal(Sig::SIGTERM);
        let run = reader.finish(SIGNAL_DEADLINE);
        run.assert_code(0);
        assert!(meta.file_type().is_fifo(), "{run}");
        assert_eq!(mode & 0o7777, 0o600, "umask {umask}: mode {mode:o}\n{run}");
        assert!(!exists(&fifo), "{run}");
    }
}

#[test]
fn a_writer_whose_reader_has_gone_fails_cleanly() {
    let dir = TempDir::new("epipe");
    let fifo = dir.join("ipc-lab-fifo");
    let p = fifo.to_str().unwrap();
    // Ten messages a second apart: the reader below opens the FIFO and
    // goes away at once, long before the last one.
    let messages: Vec<String> = (1..=10).map(|n| format!("message {n}")).collect();
    let mut args = vec!["writer", "--path", p];
    args.extend(messages.iter().map(String::as_str));
    let writer = start_waiting_for("reader", command(&args));
    shell_against(&writer, ": < \"$0\"", p).assert_code(0);
    let run = writer.finish(WAIT);
    run.assert_code(1)
        .assert_no_panic()
        .assert_stdout_contains(&["Writer: the reader has closed the FIFO;"])
        .assert_stderr_contains(&["the other end is gone"]);
    assert!(!exists(&fifo), "{run}");
}

#[test]
fn a_closed_stdout_ends_every_process_quietly_and_removes_the_fifo() {
    for _ in 0..3 {
        let run = contract::assert_closed_stdout_ends_quietly(BIN, &["--fast"], b"");
        let path = created_path(&run);
        assert!(!exists(Path::new(&path)), "FIFO left behind\n{run}");
    }
}

#[test]
fn bad_usage_exits_with_2_and_no_panic() {
    run(BIN, &["--no-such-flag"]).assert_bad_usage("--no-such-flag");
    // Every wrong list of messages, and messages given to a role.
    let rule = "expected 1 to 16 comma-separated messages of 1 to 64 bytes of printable text";
    let long = "x".repeat(65);
    let many = vec!["m"; 17].join(",");
    for bad in ["", "a,,b", " ", "two\nlines", &long, &many] {
        run(BIN, &["--messages", bad]).assert_bad_usage(rule);
    }
    run(BIN, &["--messages", "hi", "reader"])
        .assert_bad_usage("--messages belongs to the default run, not to `reader`");
}

#[test]
fn invalid_paths_are_refused_before_any_system_call_on_them() {
    // A NUL byte cannot be passed in argv: validate_path's unit tests
    // cover it.
    let dir = TempDir::new("invalid");
    let long = dir.join(&"x".repeat(256));
    let slash = format!("{}/", dir.join("ipc-lab-x").display());
    let dots = dir.join("..");
    let cases = [
        ("", "a value is required for '--path <PATH>'"),
        (
            long.to_str().unwrap(),
            "the file name is longer than 255 bytes",
        ),
        (&slash, "the path ends in '/'"),
        (
            dots.to_str().unwrap(),
            "the path does not end in a file name",
        ),
    ];
    for (path, reason) in cases {
        for role in [&[][..], &["reader"], &["writer"]] {
            let mut args = role.to_vec();
            args.extend(["--fast", "--path", path]);
            let calls = ["clone(", "clone3(", "fork(", "mknodat(", "mknod("];
            let Some(made) = contract::assert_refused_before_calls(BIN, &args, reason, &calls)
            else {
                continue;
            };
            // But for the execve that carries it in argv and the write of
            // the error message, the path is in no call.
            let used = made
                .lines()
                .filter(|line| !line.contains("execve(") && !line.contains("write("))
                .any(|line| line.contains(path));
            assert!(path.is_empty() || !used, "{made}");
        }
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn help_explains_the_experiment_and_the_roles() {
    contract::assert_help(
        &run(BIN, &["--help"]),
        &[
            "named pipe",
            "reader",
            "writer",
            "--path",
            "--messages",
            "--fast",
        ],
    );
}

/// `text` with the FIFO's path and the pids normalised, split into the
/// writer's lines, the reader's and the rest, each group in order (the
/// two processes interleave differently from run to run).
fn per_process(text: &str) -> Vec<Vec<String>> {
    let path = path_in(text).unwrap_or_else(|| panic!("no 'FIFO created' line:\n{text}"));
    let normalised = normalise_numbers(&text.replace(path, "FIFO"), "pid ");
    by_prefix(&normalised, &["Writer", "Reader"])
}

#[test]
fn the_handout_shows_a_real_run() {
    let readme = handout::checked(env!("CARGO_MANIFEST_DIR"), "exp3-fifo");
    handout::assert_shows_normalised(&readme, &run(BIN, &["--fast"]), per_process);
}
