//! The client/server contract that exp1-sockets (over a socket) and
//! exp3-clientserver (over message queues) share, from seed 001: client
//! k sends a number x (k + 5 by default) and prints `Client k sent x,
//! received x²`; the server prints `Server answered n requests` last,
//! once every client has ended. The clients' lines come in any order.
//!
//! ```
//! use ipc_testkit::squares;
//!
//! assert_eq!(squares::client_line(2, -3), "Client 2 sent -3, received 9");
//! assert_eq!(squares::server_line(1), "Server answered 1 request");
//! let printed = "Client 2 sent 7, received 49\nClient 1 sent 6, received 36\nServer answered 2 requests\n";
//! squares::assert_default_run(&ipc_testkit::run("printf", &[printed]), 2);
//! ```

use std::process::Command;

use crate::contract::{self, Stop};
use crate::evidence::{Evidence, Lines, Stream};
use crate::{Run, Running};

/// The line of client `k`, which sent `x`.
pub fn client_line(k: usize, x: i64) -> String {
    format!("Client {k} sent {x}, received {}", x * x)
}

/// The lines of `n` clients of a default run, client k sending k + 5, in
/// the order of the clients.
pub fn client_lines(n: usize) -> Vec<String> {
    (1..=n).map(|k| client_line(k, k as i64 + 5)).collect()
}

/// The server's last line, once it answered `n` requests.
pub fn server_line(n: usize) -> String {
    let requests = if n == 1 { "request" } else { "requests" };
    format!("Server answered {n} {requests}")
}

/// Panics unless `run` is a default run of `n` clients: exit code 0, no
/// panic, nothing on stderr, each client's line once (in any order),
/// then the server's.
#[track_caller]
pub fn assert_default_run(run: &Run, n: usize) {
    run.assert_code(0).assert_no_panic();
    assert_eq!(run.stderr, "", "{run}");
    let mut lines = run.stdout_lines();
    let last = lines.pop();
    assert_eq!(last, Some(&*server_line(n)), "{run}");
    lines.sort_unstable();
    let mut expected = client_lines(n);
    expected.sort_unstable();
    assert_eq!(lines, expected, "{run}");
}

/// Panics unless a client role's `run` ended with exit code 0 and printed
/// `line` last (its answer).
#[track_caller]
pub fn assert_answered(run: &Run, line: &str) {
    run.assert_code(0).assert_no_panic();
    assert_eq!(run.stdout_lines().last(), Some(&line), "{run}");
}

/// The roles in separate processes: while the server role `serving`
/// runs, client 2 (sending its default, 7) and client 5 (`--number -12`),
/// each run to its end by `client` from its role arguments (`["2"]`),
/// get their squares ([`assert_answered`]); a second server, run by
/// `second_server`, is refused (exit code 1, no panic, `taken` on stderr);
/// SIGINT then stops the server, which must say so and count 2 answers
/// ([`assert_server_interrupted`]). Returns client 2's run and the
/// server's.
#[track_caller]
pub fn assert_roles_serve_and_ask(
    serving: Running,
    client: impl Fn(&[&str]) -> Run,
    second_server: impl FnOnce() -> Run,
    taken: &[&str],
) -> (Run, Run) {
    let first = client(&["2"]);
    assert_answered(&first, &client_line(2, 7));
    let second = client(&["5", "--number", "-12"]);
    assert_answered(&second, &client_line(5, -12));
    second_server()
        .assert_code(1)
        .assert_no_panic()
        .assert_stderr_contains(taken);
    serving.signal(crate::Sig::SIGINT);
    let run = serving.finish(crate::SIGNAL_DEADLINE);
    assert_server_interrupted(&run, crate::Sig::SIGINT, 2);
    (first, run)
}

/// Panics unless a server role's `run`, stopped by `signal` after it
/// answered `answered` requests, ended with exit code 0, no panic, and
/// printed after its first line exactly that it was interrupted, then its
/// count.
#[track_caller]
pub fn assert_server_interrupted(run: &Run, signal: crate::Sig, answered: usize) {
    run.assert_code(0).assert_no_panic();
    let said = format!("Server: interrupted by {}", signal.as_str());
    assert_eq!(
        run.stdout_lines().get(1..),
        Some(&[said.as_str(), &server_line(answered)][..]),
        "{run}"
    );
}

/// Starts `default_run` (the default run, with a delay long enough to
/// stop it), sends SIGTERM to the parent once the server and its three
/// clients wait, and panics unless the run was interrupted cleanly
/// ([`contract::assert_interrupted`]: every process ended and reaped,
/// exit code 0), the server saying so and counting no answer. Returns the
/// run.
#[track_caller]
pub fn assert_sigterm_ends_the_default_run(default_run: Command) -> Run {
    let running = Running::start(default_run, false);
    let children = running.wait_for_children(4, crate::DEFAULT_TIMEOUT);
    crate::wait_blocked(&children, crate::DEFAULT_TIMEOUT);
    let run = contract::assert_interrupted(running, &children, Stop::TermParent, &server_line(0));
    run.assert_stdout_contains(&["Server: interrupted by SIGTERM"]);
    run
}

/// Sends SIGINT to client 3's role `asking` (waiting for an answer), and
/// panics unless it ended with exit code 0, no panic, saying so. Returns
/// the run.
#[track_caller]
pub fn assert_client_interrupted(asking: Running) -> Run {
    asking.signal(crate::Sig::SIGINT);
    let run = asking.finish(crate::SIGNAL_DEADLINE);
    run.assert_code(0).assert_no_panic();
    run.assert_stdout_contains(&["Client 3: interrupted by SIGINT"]);
    run
}

/// Panics unless `run`, whose client 3 was SIGKILLed while it waited,
/// went on without it: exit code 1 naming client 3
/// ([`contract::assert_killed_peer_named`]), the other two clients
/// answered, the server's count of 2 last. Returns the server's own lines
/// (`Server: …`): what it said of the dead client.
#[track_caller]
pub fn assert_served_on_without_client_3<'a>(run: &'a Run, program: &str) -> Vec<&'a str> {
    contract::assert_killed_peer_named(run, program, "client 3");
    let mut lines = run.stdout_lines();
    assert_eq!(lines.pop(), Some(&*server_line(2)), "{run}");
    let (log, mut answered): (Vec<&str>, Vec<&str>) =
        lines.into_iter().partition(|l| l.starts_with("Server: "));
    answered.sort_unstable();
    assert_eq!(answered, client_lines(2), "{run}");
    log
}

/// How long clients may take to give up once their server is gone.
pub const GIVE_UP_WITHIN: std::time::Duration = std::time::Duration::from_secs(10);

/// Panics unless `run`, whose server was SIGKILLed `took` ago while its
/// three clients waited, ended with exit code 1 naming the server, each
/// client k giving up with a line of stderr that `gave_up(k, line)`
/// accepts, none answered, all within [`GIVE_UP_WITHIN`], and every one of
/// `children` ended.
#[track_caller]
pub fn assert_clients_gave_up(
    run: &Run,
    program: &str,
    took: std::time::Duration,
    children: &[crate::Pid],
    gave_up: impl Fn(usize, &str) -> bool,
) {
    contract::assert_killed_peer_named(run, program, "server");
    for k in 1..=3 {
        let said = run.stderr.lines().any(|line| gave_up(k, line));
        assert!(said, "client {k} did not give up with its reason\n{run}");
    }
    assert!(!run.stdout.contains("received"), "{run}");
    assert!(took < GIVE_UP_WITHIN, "the clients took {took:?}\n{run}");
    run.assert_all_ended(children);
}

/// Starts exp1-sockets' server role, `program server args`, and returns it
/// once it said where it listens (`Server (pid N) listening on ADDRESS
/// (…)`, its first line), with that address.
#[track_caller]
pub fn start_server_role(program: &str, args: &[&str]) -> (Running, String) {
    let mut command = Command::new(program);
    command.arg("server").args(args);
    let mut serving = Running::start(command, false);
    let first = std::cell::RefCell::new(String::new());
    serving.wait_for_lines(1, crate::DEFAULT_TIMEOUT, |line| {
        let hit = line.starts_with("Server (pid ");
        if hit && first.borrow().is_empty() {
            *first.borrow_mut() = line.to_owned();
        }
        hit
    });
    let first = first.into_inner();
    let address = listening_address(&first).unwrap_or_else(|| panic!("no address in {first:?}"));
    (serving, address)
}

/// The address a server's first line says it listens on.
fn listening_address(first: &str) -> Option<String> {
    let rest = first.split(" listening on ").nth(1)?;
    rest.split(" (").next().map(str::to_owned)
}

/// What `--numbers` refuses, saying [`NUMBERS_RULE`]: an empty list, an
/// empty entry, a word, a number whose square overflows, a fraction, 65
/// numbers.
pub fn bad_numbers() -> Vec<String> {
    let many = vec!["1"; 65].join(",");
    ["", "3,,5", "three", "3037000500", "2.5", &many]
        .map(str::to_owned)
        .to_vec()
}

/// What a refused `--numbers` says.
pub const NUMBERS_RULE: &str =
    "expected a comma-separated list of 1 to 64 whole numbers from -3037000499 to 3037000499";

/// Panics unless `program` refuses as bad usage every list of
/// [`bad_numbers`], saying [`NUMBERS_RULE`], and numbers with
/// `--clients`.
#[track_caller]
pub fn assert_bad_numbers_refused(program: &str) {
    for bad in bad_numbers() {
        crate::run(program, &["--numbers", &bad]).assert_bad_usage(NUMBERS_RULE);
    }
    crate::run(program, &["--numbers", "4", "--clients", "2"]).assert_bad_usage("--clients");
}

/// Checks the handout of the crate `crate_name` (its README beside
/// `manifest_dir`'s Cargo.toml, [`handout::checked`](crate::handout::checked))
/// against a real run of `program --fast`, the clients' lines compared
/// sorted ([`clients_sorted`]: they come in any order). Returns the
/// README, for the crate's own checks of it.
#[track_caller]
pub fn assert_handout_shows_a_real_run(
    manifest_dir: &str,
    crate_name: &str,
    program: &str,
) -> String {
    let readme = crate::handout::checked(manifest_dir, crate_name);
    let run = crate::run(program, &["--fast"]);
    crate::handout::assert_shows_normalised(&readme, &run, clients_sorted);
    readme
}

/// A run's lines as the handout check compares them: the clients' lines
/// sorted (they come in any order), and the last line, the server's.
pub fn clients_sorted(text: &str) -> (Vec<String>, Option<String>) {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let last = lines.pop();
    lines.sort();
    (lines, last)
}

/// Checks a graded run's lines: client k's line, from that client's
/// process, for each number of `numbers` (client k sent the k-th), and
/// the server's count last.
#[track_caller]
pub fn assert_lines(evidence: &Evidence, numbers: &[i64]) {
    let clients: Vec<(String, [String; 1])> = (1..)
        .zip(numbers)
        .map(|(k, x)| (format!("Client {k} "), [client_line(k, *x)]))
        .collect();
    let server = [server_line(numbers.len())];
    let mut lines: Vec<Lines<'_>> = clients
        .iter()
        .map(|(prefix, line)| Lines::of(prefix, line))
        .collect();
    lines.push(Lines::of("Server ", &server));
    evidence.assert_interleaved(Stream::Stdout, &lines);
    if evidence.run.stdout_lines().last() != Some(&server[0].as_str()) {
        evidence.fail(
            "the server's count comes last: the server stops once every client has ended",
            "",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::panic::catch_unwind;

    fn printed(text: &str) -> Run {
        crate::run("printf", &["%s", text])
    }

    #[test]
    fn a_default_run_needs_every_client_once_and_the_server_last() {
        let good = "Client 2 sent 7, received 49\nClient 1 sent 6, received 36\nServer answered 2 requests\n";
        assert_default_run(&printed(good), 2);
        assert!(catch_unwind(|| assert_default_run(&printed(good), 3)).is_err());
        let server_first = "Server answered 2 requests\nClient 2 sent 7, received 49\nClient 1 sent 6, received 36\n";
        assert!(catch_unwind(|| assert_default_run(&printed(server_first), 2)).is_err());
        let twice = "Client 1 sent 6, received 36\nClient 1 sent 6, received 36\nServer answered 2 requests\n";
        assert!(catch_unwind(|| assert_default_run(&printed(twice), 2)).is_err());
    }

    #[test]
    fn lines_are_the_seeds() {
        assert_eq!(
            client_lines(2),
            [
                "Client 1 sent 6, received 36",
                "Client 2 sent 7, received 49"
            ]
        );
        assert_eq!(server_line(0), "Server answered 0 requests");
        assert_eq!(
            clients_sorted("b\na\nlast\n"),
            (
                vec!["a".to_owned(), "b".to_owned()],
                Some("last".to_owned())
            )
        );
        assert_eq!(bad_numbers().len(), 6);
    }

    #[test]
    fn the_address_is_where_the_first_line_says_the_server_listens() {
        let first = "Server (pid 7) listening on 127.0.0.1:4000 (TCP, authkey required)";
        assert_eq!(listening_address(first).as_deref(), Some("127.0.0.1:4000"));
        assert_eq!(listening_address("Server (pid 7) starts"), None);
    }

    #[test]
    fn an_interrupted_server_says_so_then_counts() {
        let said =
            "Server (pid 1) listens\nServer: interrupted by SIGINT\nServer answered 2 requests\n";
        assert_server_interrupted(&printed(said), crate::Sig::SIGINT, 2);
        assert!(
            catch_unwind(|| assert_server_interrupted(&printed(said), crate::Sig::SIGTERM, 2))
                .is_err()
        );
        assert!(
            catch_unwind(|| assert_server_interrupted(&printed(said), crate::Sig::SIGINT, 1))
                .is_err()
        );
        assert_answered(
            &printed("Client 5 sent -12, received 144\n"),
            "Client 5 sent -12, received 144",
        );
        assert!(
            catch_unwind(|| assert_answered(
                &printed("Client 5 sent -12\n"),
                "Client 5 sent -12, received 144"
            ))
            .is_err()
        );
    }
}
