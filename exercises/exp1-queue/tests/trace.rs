//! `--trace`: a traced `--fast` run prints what an untraced one prints,
//! and its timeline is causally consistent, with a lane for every process.

use ipc_testkit::trace::check_experiment;

const BIN: &str = env!("CARGO_BIN_EXE_exp1-queue");

#[test]
fn a_traced_run_prints_the_same_and_its_timeline_is_consistent() {
    let lanes = ["exp1-queue", "sender", "receiver"];
    check_experiment(BIN, &["--fast"], b"", &lanes);
}
