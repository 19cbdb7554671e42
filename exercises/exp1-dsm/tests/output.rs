//! Runs the real `exp1-dsm` binary against real `nats-server`s: the exact
//! total with compare-and-set, lost updates without it, workers joining a
//! counter from "other machines", bad input, and servers that are missing
//! or go away.

use std::time::{Duration, Instant};

use ipc_net::{Connection, NatsServer, RunId, ServerUrls};
use ipc_testkit::nats::{self, run_leaving_no_server_dir, unused_port};
use ipc_testkit::{DEFAULT_TIMEOUT, Run, Running, handout, run_command};
use ipc_testkit::{contract, counter};

const BIN: &str = env!("CARGO_BIN_EXE_exp1-dsm");

const WAIT: Duration = Duration::from_secs(30);

/// Runs the program with its own TMPDIR and checks that it left no server
/// directory there.
fn run_clean(args: &[&str]) -> Run {
    run_leaving_no_server_dir(BIN, args)
}

/// Expected, final and lost, read from a default run's last three lines.
fn totals(run: &Run) -> (i64, i64, i64) {
    let lines = run.stdout_lines();
    assert_eq!(lines.len(), 10, "{run}");
    assert_eq!(
        lines[..7],
        counter::plan(lines[0], "workers", 5, 20),
        "{run}"
    );
    let number = |line: &str, prefix: &str| -> i64 {
        line.strip_prefix(prefix)
            .unwrap_or_else(|| panic!("{line:?} does not start with {prefix:?}\n{run}"))
            .parse()
            .unwrap()
    };
    (
        number(lines[7], "Expected value: "),
        number(lines[8], "Final value (in main program): "),
        number(lines[9], "Lost updates: "),
    )
}

#[test]
fn compare_and_set_keeps_the_total_exact() {
    for _ in 0..2 {
        let run = run_clean(&["--fast"]);
        run.assert_code(0).assert_no_panic();
        assert_eq!(run.stderr, "", "{run}");
        assert_eq!(
            run.stdout_lines()[0],
            "Shared counter \"counter\" in the NATS key-value bucket ipc-lab-exp1-dsm, \
             updated by compare-and-set"
        );
        assert_eq!(totals(&run), (300, 300, 0), "{run}");
    }
}

#[test]
fn blind_writes_lose_updates_and_the_run_counts_them() {
    let mut lost_seen = Vec::new();
    for _ in 0..5 {
        let run = run_clean(&["--fast", "--no-cas"]);
        run.assert_code(0).assert_no_panic();
        assert!(
            run.stdout_lines()[0].ends_with("updated by read, add, put (--no-cas)"),
            "{run}"
        );
        let (expected, actual, lost) = totals(&run);
        assert_eq!(expected, 300, "{run}");
        assert!(actual <= expected && actual > 0, "{run}");
        assert_eq!(lost, expected - actual, "{run}");
        lost_seen.push(lost);
        if lost > 0 {
            return;
        }
    }
    panic!("no update lost in 5 runs without compare-and-set: {lost_seen:?}");
}

#[test]
fn workers_join_a_named_counter_from_anywhere() {
    let server = NatsServer::start().unwrap();
    let place = [
        "--fast",
        "--bucket",
        "class-7",
        "--counter",
        "votes",
        "--iterations",
        "40",
    ];
    let with = |extra: &[&str]| {
        let mut all = place.to_vec();
        all.extend_from_slice(extra);
        nats::role(BIN, server.urls(), &all)
    };
    run_command(with(&["reset"]), None, DEFAULT_TIMEOUT).assert_prints(&["votes in class-7: 0"]);
    // Two workers, as on two machines, at the same time.
    let three = Running::start(
        with(&["worker", "--name", "alice", "--per-pass", "3"]),
        false,
    );
    let two = Running::start(with(&["worker", "--name", "bob", "--per-pass", "2"]), false);
    for (running, name, updates) in [(three, "alice", 120), (two, "bob", 80)] {
        let run = running.finish(WAIT);
        run.assert_code(0).assert_no_panic();
        let line = run.stdout_lines().join("\n");
        assert!(
            line.starts_with(&format!(
                "{name}: {updates} updates of +1 on votes in class-7, "
            )) && line.contains(" retried after a conflict; the counter is now "),
            "{run}"
        );
    }
    let shown = run_command(with(&["show"]), None, DEFAULT_TIMEOUT);
    shown.assert_code(0);
    assert!(
        shown.stdout.starts_with("votes in class-7: 200 (revision "),
        "{shown}"
    );
}

#[test]
fn bad_input_is_refused_with_2_before_anything_connects() {
    contract::assert_refused_at_once(
        run_clean,
        &[
            (
                &["--bucket", "my.bucket", "--fast"][..],
                "invalid bucket name",
            ),
            (&["--bucket", "", "show"], "invalid bucket name"),
            (&["--counter", "a b", "--fast"], "invalid key"),
            (&["--counter", ".x", "show"], "dot"),
            (&["--iterations", "0", "--fast"], "--iterations"),
            (&["--replicas", "0", "--fast"], "--replicas"),
            (&["--server", "nats://", "show"], "host is missing"),
            (&["--no-cas", "show"], "--no-cas belongs to the workers"),
            (&["worker", "--per-pass", "0"], "--per-pass"),
            (&["--fast", "extra"], "extra"),
            (
                &["--workers", "0", "--fast"],
                "expected a whole number of workers from 1 to 5",
            ),
            (
                &["--workers", "6", "--fast"],
                "expected a whole number of workers from 1 to 5",
            ),
            (
                &["--workers", "-1", "--fast"],
                "expected a whole number of workers from 1 to 5",
            ),
            (
                &["--workers", "2", "worker"],
                "--workers belongs to the default run, not to `worker`",
            ),
        ],
    );
}

#[test]
fn an_unreachable_server_is_named_and_fails_with_1() {
    let port = unused_port();
    let url = ServerUrls::loopback(port).to_string();
    for what in ["worker", "show"] {
        run_clean(&["--server", &url, what])
            .assert_code(1)
            .assert_stderr_contains(&[&format!("cannot connect to the NATS server at {url}")]);
    }
}

#[test]
fn a_worker_whose_server_goes_away_fails_with_its_url() {
    let server = NatsServer::start().unwrap();
    let url = server.urls().to_string();
    // A worker of a run waits at the run's gate, which never opens here.
    let nc = Connection::connect(server.urls()).unwrap();
    let id = RunId::fresh();
    let mut ready = nc.subscribe(&id.ready_subject()).unwrap();
    let waiting = nats::start_announced(BIN, server.urls(), &id, &["--fast", "worker"], |slice| {
        ready.next_within(slice).unwrap()
    });
    let started = Instant::now();
    server.stop().unwrap();
    let run = waiting.finish(WAIT);
    run.assert_code(1)
        .assert_no_panic()
        .assert_stderr_contains(&[&format!("lost the connection to the NATS server at {url}")]);
    assert!(started.elapsed() < Duration::from_secs(10), "{run}");
}

#[test]
fn help_explains_the_roles_and_the_exit_codes() {
    contract::assert_help(
        &run_clean(&["--help"]),
        &[
            "worker",
            "show",
            "compare-and-set",
            "--no-cas",
            "--workers",
            "--server",
            "--fast",
        ],
    );
}

#[test]
fn the_handout_shows_a_real_run() {
    let readme = handout::checked(env!("CARGO_MANIFEST_DIR"), "exp1-dsm");
    handout::assert_shows(&readme, &run_clean(&["--fast"]));
}
