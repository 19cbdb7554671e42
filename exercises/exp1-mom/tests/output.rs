//! Runs the real `exp1-mom` binary against real `nats-server`s: the
//! seed's lines, stored against at-most-once delivery, a work queue of
//! several receivers, bad input, servers that are missing or go away, and
//! that no `nats-server` or server directory outlives any ending.
//!
//! Every program runs with a temporary directory of its own (`TMPDIR`),
//! where its private server keeps its store: what is left there after the
//! run is what the run left behind. Servers a test starts itself are
//! `NatsServer`s, stopped when the test ends, even by a panic.

mod support;

use std::collections::BTreeMap;
use std::process::Command;
use std::time::{Duration, Instant};

use ipc_core::Deadline;
use ipc_core::blocking::{STEP_INTERVAL, poll_until};
use ipc_net::{NatsServer, ServerUrls};
use ipc_testkit::contract::{self, Stop};
use ipc_testkit::nats::{
    assert_no_server_dir, nats_servers, run_leaving_no_server_dir, server_dirs, unused_port,
};
use ipc_testkit::{
    DEFAULT_TIMEOUT, Run, Running, Sig, TempDir, eventually, handout, own_process_group,
    run_command,
};

const BIN: &str = env!("CARGO_BIN_EXE_exp1-mom");

const EXPECTED: [&str; 3] = [
    "sender is sending: Hello, introduction to distributed computing",
    "Receiver received: Hello, introduction to distributed computing",
    "IPC between processes completed.",
];

const WAIT: Duration = Duration::from_secs(30);

/// The program with `args`, its temporary files in `tmp`.
fn command(tmp: &TempDir, args: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    command.args(args).env("TMPDIR", tmp.path());
    command
}

/// Runs the program with its own TMPDIR and checks that it left no server
/// directory there.
fn run_clean(args: &[&str]) -> Run {
    run_leaving_no_server_dir(BIN, args)
}

/// Runs a role against `server`.
fn role(server: &NatsServer, args: &[&str]) -> Run {
    let tmp = TempDir::new("mom-role");
    let url = server.urls().to_string();
    let mut all = vec!["--server", &url, "--fast"];
    all.extend_from_slice(args);
    run_command(command(&tmp, &all), None, DEFAULT_TIMEOUT)
}

#[test]
fn the_default_run_prints_the_seed_lines_stored_and_core() {
    for _ in 0..2 {
        run_clean(&["--fast"]).assert_prints(&EXPECTED);
        run_clean(&["--fast", "--core"]).assert_prints(&EXPECTED);
    }
}

#[test]
fn the_real_run_waits_two_seconds_and_prints_the_same_lines() {
    let start = Instant::now();
    run_clean(&[]).assert_prints(&EXPECTED);
    assert!(
        start.elapsed() >= Duration::from_secs(2),
        "the sender waits 2 s"
    );
}

#[test]
fn a_stored_message_waits_for_a_receiver_started_later() {
    let server = NatsServer::start().unwrap();
    role(&server, &["send"]).assert_prints(&[EXPECTED[0]]);
    role(&server, &["receive", "--timeout", "10"]).assert_prints(&[EXPECTED[1]]);
    // Taken once: a second receiver finds nothing.
    role(&server, &["receive", "--timeout", "0.5"]).assert_code(1);
}

#[test]
fn a_core_message_reaches_who_listens_and_is_lost_for_who_comes_later() {
    let server = NatsServer::start().unwrap();
    // Sent while nobody listens: gone.
    role(&server, &["--core", "send"]).assert_prints(&[EXPECTED[0]]);
    let late = role(&server, &["--core", "receive", "--timeout", "1"]);
    late.assert_code(1)
        .assert_no_panic()
        .assert_stderr_contains(&[
            "no message arrived on ipc-lab.exp1-mom",
            &server.urls().to_string(),
        ]);
    assert_eq!(late.stdout, "", "{late}");
    // Sent while a receiver listens: received.
    let listening = support::start_listening(
        server.urls(),
        &["--fast", "--core", "receive", "--timeout", "10"],
    );
    role(&server, &["--core", "send"]).assert_prints(&[EXPECTED[0]]);
    listening.finish(WAIT).assert_prints(&[EXPECTED[1]]);
}

/// Each message number, and the receivers that printed it.
fn deliveries(run: &Run, count: u32) -> BTreeMap<u32, Vec<u32>> {
    let mut seen: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    let mut sent = Vec::new();
    for line in run.stdout_lines() {
        if let Some(rest) = line.strip_prefix("sender is sending: ") {
            sent.push(rest.to_owned());
        } else if let Some(rest) = line.strip_prefix("Receiver ") {
            let (id, message) = rest.split_once(" received: ").expect(line);
            let k = message
                .strip_prefix("Hello, introduction to distributed computing #")
                .expect(line);
            seen.entry(k.parse().unwrap())
                .or_default()
                .push(id.parse().unwrap());
        } else {
            assert_eq!(line, "IPC between processes completed.", "{run}");
        }
    }
    assert_eq!(sent.len(), count as usize, "{run}");
    seen
}

#[test]
fn several_receivers_share_the_work_each_message_to_exactly_one() {
    for mode in [None, Some("--core")] {
        let mut args = vec!["--fast", "--receivers", "3", "--messages", "30"];
        args.extend(mode);
        let run = run_clean(&args);
        run.assert_code(0).assert_no_panic();
        assert_eq!(run.stderr, "", "{run}");
        let seen = deliveries(&run, 30);
        assert_eq!(
            seen.keys().copied().collect::<Vec<_>>(),
            (1..=30).collect::<Vec<_>>(),
            "every message received\n{run}"
        );
        for (k, receivers) in &seen {
            assert_eq!(
                receivers.len(),
                1,
                "message #{k} received by {receivers:?}\n{run}"
            );
            assert!((1..=3).contains(&receivers[0]), "{run}");
        }
    }
}

#[test]
fn bad_input_is_refused_with_2_before_anything_starts() {
    contract::assert_refused_at_once(
        run_clean,
        &[
            (
                &["--server", "http://127.0.0.1:4222", "send"][..],
                "only nats://",
            ),
            (&["--server", "nats://127.0.0.1:0", "send"], "port 0"),
            (&["--server", "nats://h:1,", "send"], "empty entry"),
            (&["--subject", "a b", "--fast"], "invalid subject"),
            (&["--subject", "ipc-lab.*", "--fast"], "wildcards"),
            (&["--subject", "a..b", "send"], "empty token"),
            (&["--receivers", "0", "--fast"], "--receivers"),
            (&["--replicas", "6", "--fast"], "--replicas"),
            (
                &["--receivers", "2", "receive"],
                "--receivers belongs to the default run, not to `receive`",
            ),
            (
                &["--messages", "2", "send"],
                "--messages belongs to the default run, not to `send`",
            ),
            (&["receive", "--count", "0"], "--count"),
            (&["receive", "--timeout", "0"], "number of seconds"),
            (&["receive", "--all", "--count", "2"], "cannot be used with"),
            (&["--fast", "extra"], "extra"),
            (
                &["--message", "", "--fast"],
                "1 to 160 bytes of printable text",
            ),
            (&["--message", "tab\there", "--fast"], "1 to 160 bytes"),
            (&["send", "--message", "   "], "1 to 160 bytes"),
            (
                &["--message", "hi", "receive"],
                "--message belongs to the default run, not to `receive`",
            ),
        ],
    );
}

#[test]
fn an_unreachable_server_is_named_and_fails_with_1() {
    let url = ServerUrls::loopback(unused_port()).to_string();
    for role_name in ["send", "receive"] {
        let started = Instant::now();
        let run = run_clean(&["--server", &url, "--fast", role_name]);
        run.assert_code(1)
            .assert_no_panic()
            .assert_stderr_contains(&[&format!(
                "exp1-mom {role_name}: cannot connect to the NATS server at {url}"
            )]);
        assert!(started.elapsed() < Duration::from_secs(10), "{run}");
    }
}

#[test]
fn a_role_whose_server_goes_away_fails_with_its_url() {
    let server = NatsServer::start().unwrap();
    let url = server.urls().to_string();
    let listening =
        support::start_listening(server.urls(), &["--fast", "receive", "--timeout", "60"]);
    let started = Instant::now();
    server.stop().unwrap();
    let run = listening.finish(WAIT);
    run.assert_code(1)
        .assert_no_panic()
        .assert_stderr_contains(&[
            &format!("lost the connection to the NATS server at {url}"),
            "waiting for a stored message on ipc-lab.exp1-mom",
        ]);
    assert!(started.elapsed() < Duration::from_secs(10), "{run}");
}

/// Starts the default run (the sender waiting its 2 s) in a process group
/// of its own, and waits until it has its three children: the server, the
/// receiver and the sender.
fn start_default_run(tmp: &TempDir) -> (Running, Vec<ipc_testkit::Pid>) {
    let mut command = command(tmp, &[]);
    own_process_group(&mut command);
    let running = Running::start(command, false);
    let children = running.wait_for_children(3, WAIT);
    assert_eq!(nats_servers(&children).len(), 1, "one private server");
    (running, children)
}

#[test]
fn a_server_killed_mid_run_ends_the_run_with_its_url() {
    let tmp = TempDir::new("mom-killed");
    let (running, children) = start_default_run(&tmp);
    let server = nats_servers(&children)[0];
    nix::sys::signal::kill(server, Sig::SIGKILL).unwrap();
    let started = Instant::now();
    let run = running.finish(WAIT);
    // The receiver waits on its connection: lost. The sender may still be
    // connecting: refused. Either names the URL.
    run.assert_code(1)
        .assert_no_panic()
        .assert_stderr_contains(&["the NATS server at nats://127.0.0.1:"])
        .assert_all_ended(&children);
    assert!(
        run.stderr.contains("lost the connection") || run.stderr.contains("cannot connect"),
        "{run}"
    );
    assert!(started.elapsed() < Duration::from_secs(15), "{run}");
    assert_no_server_dir(tmp.path(), &run);
}

/// Stops the default run as `stop` says, and panics unless it failed
/// (exit code 1, no panic) saying on stderr that it was interrupted, and
/// its server left no directory behind. Returns the run.
#[track_caller]
fn assert_default_run_interrupted(stop: Stop) -> Run {
    let tmp = TempDir::new("mom-stop");
    let (running, children) = start_default_run(&tmp);
    let run = running.signal_and_wait(stop.signal(), stop == Stop::CtrlC, &children);
    run.assert_code(1)
        .assert_no_panic()
        .assert_stderr_contains(&["exp1-mom: interrupted by a signal"]);
    assert_no_server_dir(tmp.path(), &run);
    run
}

#[test]
fn ctrl_c_ends_every_process_and_leaves_no_server_behind() {
    let run = assert_default_run_interrupted(Stop::CtrlC);
    assert_eq!(run.stdout, "", "nothing was sent\n{run}");
}

#[test]
fn sigterm_to_the_parent_alone_stops_the_roles_and_the_server() {
    let run = assert_default_run_interrupted(Stop::TermParent);
    let last = "exp1-mom: interrupted by a signal\n";
    assert!(run.stderr.ends_with(last), "{last:?} not last\n{run}");
}

#[test]
fn a_killed_parent_leaves_no_nats_server_running() {
    let tmp = TempDir::new("mom-kill");
    let (running, children) = start_default_run(&tmp);
    // kill -9 the parent alone: the server (SIGKILL) and the roles
    // (SIGTERM) are told by the kernel; each must end and be reaped.
    let run = running.kill_alone(&children);
    run.assert_no_panic();
    assert_eq!(run.stdout, "", "{run}");
    // The store directory belongs to the run: once its last process is
    // gone, the run's tracker removes it (ipc_core::owner).
    assert!(
        eventually(Duration::from_secs(30), || server_dirs(tmp.path())
            .is_empty()),
        "left behind: {:?}\n{run}",
        server_dirs(tmp.path())
    );
}

#[test]
fn help_explains_the_roles_and_the_exit_codes() {
    contract::assert_help(
        &run_clean(&["--help"]),
        &[
            "send",
            "receive",
            "--server",
            "--core",
            "--receivers",
            "--message",
            "stored",
            "at most once",
            "--fast",
        ],
    );
}

#[test]
fn the_handout_shows_a_real_run() {
    let readme = handout::checked(env!("CARGO_MANIFEST_DIR"), "exp1-mom");
    handout::assert_shows(&readme, &run_clean(&["--fast"]));
}

#[test]
fn a_closed_stdout_ends_every_process_quietly() {
    let run = contract::assert_closed_stdout_ends_quietly(BIN, &["--fast"], b"");
    assert_eq!(run.stdout_lines(), [EXPECTED[0]], "{run}");
}

#[test]
fn a_missing_or_old_nats_server_is_named_with_the_install_command() {
    let tmp = TempDir::new("mom-old");
    // A "nats-server" that says it is Debian's 2.9.
    let fake = tmp.join("nats-server");
    std::fs::write(&fake, "#!/bin/sh\necho 'nats-server: v2.9.10'\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let missing = tmp.join("no-such-nats-server");
    for (server, message) in [
        (
            fake.as_path(),
            "is version 2.9, older than the 2.10 these programs need",
        ),
        (missing.as_path(), "which is not an executable file"),
    ] {
        let mut command = command(&tmp, &["--fast"]);
        command.env("IPC_LAB_NATS_SERVER", server);
        let run = run_command(command, None, DEFAULT_TIMEOUT);
        run.assert_code(1)
            .assert_no_panic()
            .assert_stderr_contains(&["exp1-mom: starting nats-server: ", message]);
        assert_eq!(run.stdout, "", "{run}");
        if server == fake.as_path() {
            run.assert_stderr_contains(&["scripts/install-nats.sh"]);
        }
    }
    assert!(server_dirs(tmp.path()).is_empty());
}

#[test]
fn a_role_that_dies_ends_the_run_at_once() {
    let tmp = TempDir::new("mom-role-dies");
    let (running, _) = start_default_run(&tmp);
    // The sender starts once the receiver listens, and is known by its
    // command line once it runs the program: wait for it.
    let is_sender = |pid: &ipc_testkit::Pid| {
        std::fs::read(format!("/proc/{pid}/cmdline"))
            .is_ok_and(|line| line.split(|&b| b == 0).any(|arg| arg == b"send"))
    };
    let children = || ipc_testkit::children_of(running.pid());
    let (sender, children) = poll_until(Deadline::after(WAIT), STEP_INTERVAL, || {
        let children = children();
        let sender = children.iter().copied().find(is_sender)?;
        Some((sender, children))
    })
    .unwrap_or_else(|| panic!("no sender among the children {:?}", children()));
    nix::sys::signal::kill(sender, Sig::SIGKILL).unwrap();
    let started = Instant::now();
    let run = running.finish(WAIT);
    contract::assert_killed_peer_named(&run, BIN, "the sender");
    run.assert_all_ended(&children);
    // Not the receiver's 60 s: the run ends the receiver at once.
    assert!(started.elapsed() < Duration::from_secs(10), "{run}");
    assert_no_server_dir(tmp.path(), &run);
}
