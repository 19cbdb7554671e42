//! `--trace`: a traced `--fast` run prints what an untraced one prints,
//! and its timeline is causally consistent, with a lane for every process:
//! the server and its clients, and with `--fork` the processes the server
//! forked, one per client.

use ipc_testkit::trace::check_experiment;

const BIN: &str = env!("CARGO_BIN_EXE_exp1-sockets");

#[test]
fn a_traced_run_prints_the_same_and_its_timeline_is_consistent() {
    let lanes = ["exp1-sockets", "server", "client 1", "client 2", "client 3"];
    check_experiment(BIN, &["--fast"], b"", &lanes);
}

#[test]
#[rustfmt::skip]
fn a_traced_forking_run_has_a_lane_for_every_handler() {
    let lanes = ["exp1-sockets", "server", "client 1", "client 2", "client 3",
                 "handler 1", "handler 2", "handler 3"];
    check_experiment(BIN, &["--fast", "--fork"], b"", &lanes);
}
