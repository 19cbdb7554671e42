//! Runs the real `exp7-mqueue` binary: the default run, the roles one
//! after another (the queue outlives the sender), priorities, limits,
//! signals, and that no queue is left behind.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;
use std::time::Duration;

use ipc_core::IpcName;
use ipc_core::mqueue::{Limits, MSG_MAX_FILE, MSGSIZE_MAX_FILE, MessageQueue};
use ipc_testkit::contract;
use ipc_testkit::{
    Run, Running, SIGNAL_DEADLINE, Sig, TempDir, handout, mqueue_mounted, normalise_numbers, run,
    run_command, run_into_full_disk, skip_unless,
};

const BIN: &str = env!("CARGO_BIN_EXE_exp7-mqueue");

const WAIT: Duration = Duration::from_secs(30);

const CLEAN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/clean.sh");

/// A queue name of one test, unlinked at the end whatever happens.
struct Queue(IpcName);

impl Queue {
    fn new(tag: &str) -> Queue {
        Queue(IpcName::unique(tag).unwrap())
    }

    fn name(&self) -> &str {
        self.0.as_str()
    }

    fn path(&self) -> String {
        self.0.path()
    }

    fn exists(&self) -> bool {
        MessageQueue::exists(&self.0).unwrap()
    }

    fn run(&self, args: &[&str]) -> Run {
        let mut all = vec!["--name", self.name()];
        all.extend_from_slice(args);
        run(BIN, &all)
    }
}

impl Drop for Queue {
    fn drop(&mut self) {
        let _ = MessageQueue::open(&self.0).map(|mut q| q.remove());
    }
}

const SENT: [&str; 4] = [
    "Sent the message: First (priority 1)",
    "Sent the message: second (priority 5)",
    "Sent the message: third? (priority 1)",
    "Sent the message: urgent (priority 9)",
];

const RECEIVED: [&str; 4] = [
    "Received the message: urgent (priority 9)",
    "Received the message: second (priority 5)",
    "Received the message: First (priority 1)",
    "Received the message: third? (priority 1)",
];

fn limits_line() -> String {
    let limits = Limits::read().unwrap();
    format!(
        "System limits: msg_max {} ({MSG_MAX_FILE}), msgsize_max {} ({MSGSIZE_MAX_FILE})",
        limits.msg_max, limits.msgsize_max
    )
}

/// The queue path printed in the first line, `Message queue PATH created
/// (mode 0600)`.
fn path_in(stdout: &str) -> Option<&str> {
    let first = stdout.lines().next()?;
    first
        .strip_prefix("Message queue ")?
        .strip_suffix(" created (mode 0600)")
}

/// The queue path the default run printed in its first line.
fn created_path(run: &Run) -> String {
    path_in(&run.stdout)
        .unwrap_or_else(|| panic!("no 'created' line\n{run}"))
        .to_owned()
}

fn check_default_run(run: &Run) {
    run.assert_code(0).assert_no_panic();
    let path = created_path(run);
    assert!(
        path.starts_with("/ipc-lab-") && path.ends_with("-exp7-mqueue"),
        "{run}"
    );
    let text = normalise_numbers(&run.stdout.replace(&path, "Q"), "pid ");
    let mut expected = vec![
        "Message queue Q created (mode 0600)".to_string(),
        limits_line(),
        "Attributes: maxmsg 8, msgsize 64, curmsgs 0".into(),
        "Sender (pid <N>) opened Q by its name".into(),
    ];
    expected.extend(SENT.map(String::from));
    expected.extend([
        "Sender (pid <N>) has exited; its messages wait in the queue".into(),
        "Attributes: maxmsg 8, msgsize 64, curmsgs 4".into(),
        "Receiving, highest priority first:".into(),
    ]);
    expected.extend(RECEIVED.map(String::from));
    expected.extend([
        "Queue is now empty!".into(),
        "Message queue Q unlinked".into(),
    ]);
    assert_eq!(text.lines().collect::<Vec<_>>(), expected, "{run}");
    assert_eq!(run.stderr, "", "{run}");
    let name = IpcName::new(&path).unwrap();
    assert!(
        !MessageQueue::exists(&name).unwrap(),
        "queue left behind\n{run}"
    );
}

#[test]
fn the_default_run_shows_it_all() {
    check_default_run(&run(BIN, &[]));
}

#[test]
fn fast_prints_the_same_lines() {
    check_default_run(&run(BIN, &["--fast"]));
}

#[test]
fn the_queue_outlives_the_sender_until_unlinked() {
    let q = Queue::new("exp7-roles");
    let path = q.path();

    let send = q.run(&["send"]);
    send.assert_code(0).assert_no_panic();
    let mut expected = vec![
        format!("Message queue {path} created (mode 0600)"),
        "Attributes: maxmsg 8, msgsize 64, curmsgs 0".into(),
    ];
    expected.extend(SENT.map(String::from));
    expected.push(format!(
        "Sender (pid <N>) exits without unlinking the queue: 4 messages wait in {path}"
    ));
    assert_eq!(
        normalise_numbers(&send.stdout, "pid ")
            .lines()
            .collect::<Vec<_>>(),
        expected,
        "{send}"
    );
    assert!(q.exists(), "the sender has exited, its queue stays\n{send}");

    let attrs = q.run(&["attrs"]);
    attrs.assert_code(0);
    assert_eq!(
        attrs.stdout_lines(),
        [
            format!("Message queue {path}: maxmsg 8, msgsize 64, curmsgs 4"),
            limits_line()
        ],
        "{attrs}"
    );
    let info = q.run(&["info"]);
    assert_eq!(info.stdout, attrs.stdout, "info is attrs\n{info}");

    let receive = q.run(&["receive"]);
    receive.assert_code(0).assert_no_panic();
    let mut expected = vec![format!(
        "Receiving from {path}, highest priority first (maxmsg 8, msgsize 64, curmsgs 4):"
    )];
    expected.extend(RECEIVED.map(String::from));
    expected.push("Queue is now empty!".into());
    assert_eq!(receive.stdout_lines(), expected, "{receive}");
    assert!(q.exists(), "receiving does not unlink");

    let unlink = q.run(&["unlink"]);
    unlink.assert_code(0);
    assert_eq!(
        unlink.stdout_lines(),
        [format!("Message queue {path} unlinked")],
        "{unlink}"
    );
    assert!(!q.exists());
}

#[test]
fn two_sends_then_one_receive_highest_first_equal_ones_in_order() {
    let q = Queue::new("exp7-twice");
    q.run(&["send"]).assert_code(0);
    let again = q.run(&["send"]);
    again.assert_code(0);
    assert_eq!(
        again.stdout_lines()[0],
        format!("Using the existing message queue {}", q.path())
    );
    let receive = q.run(&["receive"]);
    receive.assert_code(0);
    let got: Vec<&str> = receive
        .stdout_lines()
        .into_iter()
        .filter(|l| l.starts_with("Received"))
        .collect();
    assert_eq!(
        got,
        [
            RECEIVED[0],
            RECEIVED[0],
            RECEIVED[1],
            RECEIVED[1],
            RECEIVED[2],
            RECEIVED[3],
            RECEIVED[2],
            RECEIVED[3]
        ],
        "{receive}"
    );
    q.run(&["unlink"]).assert_code(0);
    assert!(!q.exists());
}

#[test]
fn a_missing_queue_is_bad_input() {
    let q = Queue::new("exp7-missing");
    for role in ["receive", "attrs", "unlink"] {
        q.run(&[role]).assert_bad_usage(&format!(
            "{}: No such file or directory (no such queue: run `exp7-mqueue send` first)",
            q.path()
        ));
    }
    assert!(!q.exists());
}

#[test]
fn a_capacity_above_the_system_limit_names_the_limit() {
    let limits = Limits::read().unwrap();
    let q = Queue::new("exp7-limit");
    let too_many = (limits.msg_max + 1).to_string();
    for role in [&[][..], &["send"][..]] {
        let mut args = vec!["--capacity", &too_many];
        args.extend_from_slice(role);
        q.run(&args).assert_bad_usage(&format!(
            "a message queue capacity (mq_maxmsg) of {too_many} is above the system limit of {} ({MSG_MAX_FILE})",
            limits.msg_max
        ));
    }
    let too_big = (limits.msgsize_max + 1).to_string();
    q.run(&["send", "--msgsize", &too_big])
        .assert_bad_usage(MSGSIZE_MAX_FILE);
    assert!(!q.exists(), "nothing was created");
}

#[test]
fn a_default_run_too_small_for_the_messages_is_bad_input() {
    // The sender's four messages must all wait in the queue until it has
    // exited; with room for three it would wait for a receiver that the
    // parent starts only after the sender's exit: a deadlock.
    let q = Queue::new("exp7-small");
    for capacity in ["1", "3"] {
        q.run(&["--fast", "--capacity", capacity]).assert_bad_usage(
            "the default run needs --capacity 4 or more: the sender's 4 messages wait in the queue",
        );
        assert!(!q.exists(), "nothing was created");
    }
    q.run(&["--fast", "--capacity", "4"]).assert_code(0);
}

#[test]
fn a_sender_waiting_on_a_full_queue_ends_on_sigterm() {
    let q = Queue::new("exp7-full");
    // Room for 6: the second run's third message has to wait.
    q.run(&["--capacity", "6", "send"]).assert_code(0);
    let mut cmd = Command::new(BIN);
    cmd.args(["--name", q.name(), "send"]);
    let mut sender = Running::start(cmd, false);
    sender.wait_for_lines(1, WAIT, |l| l.starts_with("The queue is full"));
    sender.signal(Sig::SIGTERM);
    let run = sender.finish(SIGNAL_DEADLINE);
    run.assert_code(0).assert_no_panic().assert_stdout_contains(&[
        "The queue is full (maxmsg 6, msgsize 64, curmsgs 6): waiting for a receiver to make room",
        "Sender: interrupted by SIGTERM",
    ]);
    let receive = q.run(&["receive"]);
    let received = receive
        .stdout_lines()
        .into_iter()
        .filter(|l| l.starts_with("Received"))
        .count();
    assert_eq!(received, 6, "{receive}");
    q.run(&["unlink"]).assert_code(0);
    assert!(!q.exists());
}

#[test]
fn a_receiver_waiting_on_an_empty_queue_ends_on_sigint_and_sigterm() {
    for signal in [Sig::SIGINT, Sig::SIGTERM] {
        let q = Queue::new("exp7-empty");
        let mut queue = MessageQueue::create(&q.0, 2, 64).unwrap();
        queue.keep();
        let mut cmd = Command::new(BIN);
        cmd.args(["--name", q.name(), "receive", "--wait"]);
        let mut receiver = Running::start(cmd, false);
        receiver.wait_for_lines(1, WAIT, |l| l == "The queue is empty: waiting for a sender");
        receiver.signal(signal);
        let run = receiver.finish(SIGNAL_DEADLINE);
        run.assert_code(0)
            .assert_no_panic()
            .assert_stdout_contains(&[&format!("Receiver: interrupted by {signal}")]);
        drop(queue);
        q.run(&["unlink"]).assert_code(0);
        assert!(!q.exists());
    }
}

#[test]
fn a_name_taken_by_someone_elses_queue_is_refused_and_left_as_it_was() {
    let q = Queue::new("exp7-taken");
    let mut theirs = MessageQueue::create(&q.0, 2, 32).unwrap();
    theirs.keep();
    theirs.send(b"theirs", 3).unwrap();
    let run = q.run(&["--fast"]);
    run.assert_code(1)
        .assert_no_panic()
        .assert_stderr_contains(&[&format!("mq_open {}: File exists", q.path())]);
    assert_eq!(run.stdout, "", "{run}");
    let attrs = theirs.attributes().unwrap();
    assert_eq!(
        (attrs.maxmsg, attrs.msgsize, attrs.curmsgs),
        (2, 32, 1),
        "{run}"
    );
    let mut buf = [0; 32];
    assert_eq!(theirs.receive(&mut buf).unwrap(), (6, 3));
    assert_eq!(&buf[..6], b"theirs");
}

#[test]
fn clean_sh_removes_a_left_queue_only_once_nobody_holds_it() {
    skip_unless!(
        mqueue_mounted(),
        "/dev/mqueue is not mounted, clean.sh cannot see queues"
    );
    // No pid after the prefix: only the open descriptors tell clean.sh
    // that the queue is in use. The holder is a receiver waiting on the
    // empty queue, a process of its own (this test's process may be one
    // whose descriptors nobody can read: the grader's are).
    let q = Queue(IpcName::new(&format!("t{}-exp7-clean", std::process::id())).unwrap());
    let mut queue = MessageQueue::create(&q.0, 2, 64).unwrap();
    queue.keep();
    drop(queue);
    let file = format!("/dev/mqueue/{}", q.name());
    let mut command = Command::new(BIN);
    command.args(["--name", q.name(), "receive", "--wait"]);
    let mut receiver = Running::start(command, false);
    receiver.wait_for_lines(1, WAIT, |l| l == "The queue is empty: waiting for a sender");
    let cleaned = run(CLEAN, &[q.name()]);
    cleaned
        .assert_code(0)
        .assert_stdout_contains(&[&format!("in use, kept: message queue {file}")]);
    assert!(q.exists(), "{cleaned}");
    receiver.signal(Sig::SIGTERM);
    receiver.finish(SIGNAL_DEADLINE).assert_code(0);
    let cleaned = run(CLEAN, &[q.name()]);
    cleaned
        .assert_code(0)
        .assert_stdout_contains(&[&format!("removed: message queue {file}")]);
    assert!(!q.exists(), "{cleaned}");
}

#[test]
fn a_small_rlimit_msgqueue_names_the_limit_and_how_to_raise_it() {
    let prlimit = Command::new("prlimit").arg("--version").output();
    skip_unless!(
        prlimit.is_ok_and(|o| o.status.success()),
        "prlimit (util-linux) is not installed"
    );
    // 100 bytes: less than any queue of 1 message costs the kernel.
    let q = Queue::new("exp7-rlimit");
    for role in [&[][..], &["send"]] {
        let mut command = Command::new("prlimit");
        command
            .args(["--msgqueue=100", BIN, "--fast", "--name", q.name()])
            .args(role);
        let run = run_command(command, None, WAIT);
        run.assert_code(1)
            .assert_no_panic()
            .assert_stderr_contains(&[
                "the RLIMIT_MSGQUEUE limit on the bytes of all your message queues is reached",
                "`ulimit -q`",
                "Too many open files",
            ]);
        assert!(!q.exists(), "{run}");
    }
}

#[test]
fn a_full_disk_is_reported_and_the_queue_unlinked() {
    let q = Queue::new("exp7-full");
    run_into_full_disk(BIN, &["--fast", "--name", q.name()]).assert_full_disk_reported();
    assert!(!q.exists());
}

const LEFTOVERS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/leftovers.sh");

#[test]
fn leftovers_sh_blames_what_its_runs_left_and_nothing_foreign() {
    // A queue kept on purpose by the send role is, to leftovers.sh, an
    // object this run created and left: a real leftover of ours. A segment
    // with our prefix made by somebody else is not.
    let dir = TempDir::new("audit");
    let audit = dir.join("audit.log");
    struct Foreign(std::path::PathBuf);
    impl Drop for Foreign {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }
    let foreign = Foreign(std::path::Path::new("/dev/shm").join(format!(
        "ipc-lab-{}-0-foreign-{}",
        std::process::id() + 1,
        std::process::id()
    )));
    std::fs::write(&foreign.0, "").unwrap();
    let q = Queue::new("exp7-leftover");
    let mut send = Command::new(BIN);
    send.args(["--name", q.name(), "send"])
        .env("IPC_LAB_AUDIT", &audit);
    run_command(send, None, WAIT).assert_code(0);
    let check = || {
        let mut command = Command::new("bash");
        command.arg(LEFTOVERS).arg("--audit").arg(&audit);
        run_command(command, None, WAIT)
    };
    let found = check();
    let mounted = mqueue_mounted();
    assert!(!found.stdout.contains("foreign"), "{found}");
    if mounted {
        found
            .assert_code(1)
            .assert_stdout_contains(&[&format!("left behind: mq /dev/mqueue/{}", q.name())])
            .assert_stderr_contains(&["scripts/clean.sh removes them"]);
    } else {
        println!("/dev/mqueue is not mounted (needs root): the queue could not be seen");
    }
    q.run(&["unlink"]).assert_code(0);
    let after = check();
    assert!(!after.stdout.contains("left behind:"), "{after}");
    assert!(!after.stdout.contains("foreign"), "{after}");
    drop(foreign);
}

#[test]
fn queues_are_created_0600_whatever_the_umask() {
    for umask in ["000", "277"] {
        let q = Queue::new("exp7-umask");
        let run = run(
            "sh",
            &[
                "-c",
                &format!("umask {umask}; exec \"$0\" --name \"$1\" send"),
                BIN,
                q.name(),
            ],
        );
        run.assert_code(0);
        let queue = MessageQueue::open(&q.0).unwrap();
        let fd = std::os::fd::AsFd::as_fd(&queue)
            .try_clone_to_owned()
            .unwrap();
        let mode = std::fs::File::from(fd)
            .metadata()
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o7777, 0o600, "umask {umask}\n{run}");
        drop(queue);
        q.run(&["unlink"]).assert_code(0);
        assert!(!q.exists());
    }
}

#[test]
fn bad_usage_exits_with_2_and_no_panic() {
    contract::assert_refused(
        |args| run(BIN, args),
        &[
            (&["--no-such-flag"][..], "--no-such-flag"),
            (&["--name", "a/b"], "contains '/'"),
            (
                &["--capacity", "x"],
                "expected a whole number of messages, 1 or more",
            ),
            (
                &["--capacity", "0"],
                "expected a whole number of messages, 1 or more",
            ),
            (
                &["--capacity", "-1"],
                "expected a whole number of messages, 1 or more",
            ),
            (
                &["--msgsize", "-1"],
                "expected a whole number of bytes, 1 or more",
            ),
        ],
    );
    // Every list of messages that is not TEXT:PRIORITY pairs in range.
    let rule = "expected 1 to 8 comma-separated TEXT:PRIORITY pairs, each TEXT 1 to 64 bytes of printable text and each PRIORITY a whole number from 0 to 31";
    let long = format!("{}:1", "x".repeat(65));
    let nine = ["m:1"; 9].join(",");
    for bad in [
        "", "hello", "hello:32", "hello:-1", ":3", "a:1,,b:2", &long, &nine,
    ] {
        run(BIN, &["--messages", bad]).assert_bad_usage(rule);
    }
    // A message longer than the queue's message size is refused before
    // anything is created.
    run(BIN, &["--msgsize", "4", "--messages", "hello:1"])
        .assert_bad_usage("--msgsize 4 is too small for the longest message (5 bytes)");
}

#[test]
fn a_closed_stdout_ends_the_run_quietly_and_unlinks_the_queue() {
    let q = Queue::new("exp7-head");
    for _ in 0..3 {
        let run =
            contract::assert_closed_stdout_ends_quietly(BIN, &["--fast", "--name", q.name()], b"");
        assert_eq!(
            run.stdout_lines(),
            [format!("Message queue {} created (mode 0600)", q.path())],
            "{run}"
        );
        assert!(!q.exists(), "queue left behind\n{run}");
    }
}

#[test]
fn invalid_names_are_refused_before_any_system_call_on_them() {
    let calls = ["clone(", "clone3(", "fork(", "mq_open(", "mq_unlink("];
    for (name, reason) in contract::invalid_names() {
        for role in [&[][..], &["send"], &["receive"], &["attrs"], &["unlink"]] {
            let mut args = vec!["--fast", "--name", &name];
            args.extend_from_slice(role);
            contract::assert_refused_before_calls(BIN, &args, reason, &calls);
        }
    }
}

#[test]
fn help_explains_the_experiment_and_the_roles() {
    contract::assert_help(
        &run(BIN, &["--help"]),
        &[
            "priority",
            "send",
            "receive",
            "attrs",
            "unlink",
            "--name",
            "--messages",
            "--fast",
        ],
    );
}

/// `text` with the queue's name and the pids normalised, without the
/// system's limits (they differ between machines).
fn normalised(text: &str) -> Vec<String> {
    let path = path_in(text).unwrap_or_else(|| panic!("no 'created' line:\n{text}"));
    normalise_numbers(&text.replace(path, "Q"), "pid ")
        .lines()
        .filter(|l| !l.starts_with("System limits"))
        .map(String::from)
        .collect()
}

#[test]
fn the_handout_shows_a_real_run() {
    let readme = handout::checked(env!("CARGO_MANIFEST_DIR"), "exp7-mqueue");
    handout::assert_shows_normalised(&readme, &run(BIN, &["--fast"]), normalised);
}
