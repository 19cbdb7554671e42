//! Runs the real `exp1-rpc` binary against real `nats-server`s: the
//! seed's results from a remote server, a client with no server, remote
//! errors, several servers sharing the calls, bad input, and servers that
//! are missing or go away.

use std::time::{Duration, Instant};

use ipc_net::{Connection, NatsServer, RunId, ServerUrls};
use ipc_testkit::contract;
use ipc_testkit::nats::{self, run_leaving_no_server_dir, unused_port};
use ipc_testkit::{Run, Running, Sig, handout};

const BIN: &str = env!("CARGO_BIN_EXE_exp1-rpc");

const EXPECTED: [&str; 2] = [
    "Result(from server): [1, 4, 9, 16]",
    "Sum of squares(from server): 30",
];

const WAIT: Duration = Duration::from_secs(30);

/// Runs the program with its own TMPDIR and checks that it left no server
/// directory there.
fn run_clean(args: &[&str]) -> Run {
    run_leaving_no_server_dir(BIN, args)
}

fn role_args<'a>(server: &'a str, args: &[&'a str]) -> Vec<&'a str> {
    let mut all = vec!["--server", server, "--fast"];
    all.extend_from_slice(args);
    all
}

/// Starts a role against `server` and returns once it said it listens.
fn start_listening(server: &NatsServer, args: &[&str]) -> Running {
    let nc = Connection::connect(server.urls()).unwrap();
    let id = RunId::fresh();
    let mut ready = nc.subscribe(&id.ready_subject()).unwrap();
    nats::start_announced(BIN, server.urls(), &id, args, |slice| {
        ready.next_within(slice).unwrap()
    })
}

#[test]
fn the_default_run_prints_the_results_from_the_server() {
    for args in [&[][..], &["--fast"]] {
        run_clean(args).assert_prints(&EXPECTED);
    }
}

#[test]
fn a_client_with_no_server_fails_within_its_timeout_naming_the_subject() {
    let server = NatsServer::start().unwrap();
    let url = server.urls().to_string();
    let started = Instant::now();
    let run = run_clean(&role_args(&url, &["client", "--timeout", "1"]));
    let took = started.elapsed();
    run.assert_code(1)
        .assert_no_panic()
        .assert_stderr_contains(&[&format!(
            "exp1-rpc client: no server answered on subject ipc-lab.exp1-rpc at {url} within 1 s"
        )]);
    assert_eq!(run.stdout, "", "{run}");
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_secs(5),
        "{took:?}\n{run}"
    );
}

#[test]
fn a_server_answers_calls_until_its_count_and_prints_them() {
    let server = NatsServer::start().unwrap();
    let url = server.urls().to_string();
    let serving = start_listening(&server, &["server", "--requests", "4"]);
    run_clean(&role_args(&url, &["client"])).assert_prints(&EXPECTED);
    run_clean(&role_args(&url, &["client", "--", "5", "-6", "7"])).assert_prints(&[
        "Result(from server): [25, 36, 49]",
        "Sum of squares(from server): 110",
    ]);
    let served = serving.finish(WAIT);
    served.assert_code(0).assert_no_panic();
    let lines = served.stdout_lines();
    assert_eq!(lines.len(), 5, "{served}");
    assert!(lines[0].starts_with("server: serving square_list and sum_of_squares on ipc-lab.exp1-rpc at nats://127.0.0.1:"), "{served}");
    assert_eq!(
        lines[1],
        r#"server: {"mylist":[1,2,3,4],"procedure":"square_list"} -> {"result":[1,4,9,16]}"#
    );
}

#[test]
fn a_remote_error_reaches_the_client_as_an_error() {
    let server = NatsServer::start().unwrap();
    let url = server.urls().to_string();
    let serving = start_listening(&server, &["server", "--quiet", "--requests", "1"]);
    let run = run_clean(&role_args(&url, &["client", "4000000000"]));
    run.assert_code(1)
        .assert_no_panic()
        .assert_stderr_contains(&[
            "reported an error: square_list: the square of 4000000000 does not fit in 64 bits",
        ]);
    serving.finish(WAIT).assert_prints::<&str>(&[]);
}

#[test]
fn several_servers_share_the_calls_each_answered_once() {
    let server = NatsServer::start().unwrap();
    let url = server.urls().to_string();
    let one = start_listening(&server, &["server"]);
    let two = start_listening(&server, &["server"]);
    for _ in 0..10 {
        run_clean(&role_args(&url, &["client"])).assert_prints(&EXPECTED);
    }
    let mut answered = 0;
    for serving in [one, two] {
        serving.signal(Sig::SIGINT);
        let run = serving.finish(WAIT);
        run.assert_code(0).assert_no_panic();
        let calls = run
            .stdout_lines()
            .iter()
            .filter(|l| l.contains("-> {\"result\""))
            .count();
        let last = run
            .stdout_lines()
            .last()
            .copied()
            .unwrap_or_default()
            .to_owned();
        assert_eq!(
            last,
            format!("server: stopped by SIGINT after {calls} calls"),
            "{run}"
        );
        answered += calls;
    }
    assert_eq!(
        answered, 20,
        "10 clients, 2 calls each, each answered by one server"
    );
}

#[test]
fn bad_input_is_refused_with_2_before_anything_connects() {
    contract::assert_refused_at_once(
        run_clean,
        &[
            (
                &["--server", "nats://127.0.0.1:99999", "client"][..],
                "1 to 65535",
            ),
            (
                &["--server", "localhost:4222", "client"],
                "starts with nats://",
            ),
            (&["--subject", "rpc.>", "client"], "wildcards"),
            (&["--subject", "", "--fast"], "empty"),
            (&["client", "four"], "four"),
            (&["client", "99999999999999999999"], "9999"),
            (&["client", "--timeout", "0"], "number of seconds"),
            (&["server", "--requests", "0"], "--requests"),
            (&["--fast", "extra"], "extra"),
            (&["--numbers", "", "--fast"], "1 to 16 whole numbers"),
            (&["--numbers", "1,,2", "--fast"], "1 to 16 whole numbers"),
            (
                &["--numbers", "1000001", "--fast"],
                "from -1000000 to 1000000",
            ),
            (
                &["--numbers", "3", "client"],
                "--numbers belongs to the default run, not to `client`",
            ),
        ],
    );
}

#[test]
fn an_unreachable_server_is_named_and_fails_with_1() {
    let port = unused_port();
    let url = ServerUrls::loopback(port).to_string();
    for role in ["client", "server"] {
        let started = Instant::now();
        run_clean(&role_args(&url, &[role]))
            .assert_code(1)
            .assert_stderr_contains(&[&format!("cannot connect to the NATS server at {url}")]);
        assert!(started.elapsed() < Duration::from_secs(10));
    }
}

#[test]
fn a_server_role_whose_nats_server_goes_away_fails_with_its_url() {
    let server = NatsServer::start().unwrap();
    let url = server.urls().to_string();
    let serving = start_listening(&server, &["server", "--quiet"]);
    let started = Instant::now();
    server.stop().unwrap();
    let run = serving.finish(WAIT);
    run.assert_code(1)
        .assert_no_panic()
        .assert_stderr_contains(&[&format!("lost the connection to the NATS server at {url}")]);
    assert!(started.elapsed() < Duration::from_secs(10), "{run}");
}

#[test]
fn sigterm_stops_a_server_in_order() {
    let server = NatsServer::start().unwrap();
    let serving = start_listening(&server, &["server"]);
    serving.signal(Sig::SIGTERM);
    let run = serving.finish(WAIT);
    run.assert_code(0).assert_no_panic();
    assert_eq!(
        run.stdout_lines().last().copied(),
        Some("server: stopped by SIGTERM after 0 calls"),
        "{run}"
    );
}

#[test]
fn help_explains_the_roles_and_the_exit_codes() {
    contract::assert_help(
        &run_clean(&["--help"]),
        &[
            "server",
            "client",
            "stub",
            "--server",
            "--numbers",
            "--fast",
        ],
    );
}

#[test]
fn the_handout_shows_a_real_run() {
    let readme = handout::checked(env!("CARGO_MANIFEST_DIR"), "exp1-rpc");
    handout::assert_shows(&readme, &run_clean(&["--fast"]));
}
