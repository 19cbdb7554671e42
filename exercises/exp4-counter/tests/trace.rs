//! `--trace`: a traced `--fast` run prints what an untraced one prints,
//! and its timeline is causally consistent, with a lane for every process.

use ipc_testkit::trace::check_experiment;

const BIN: &str = env!("CARGO_BIN_EXE_exp4-counter");

#[test]
fn a_traced_run_prints_the_same_and_its_timeline_is_consistent() {
    let lanes = ["exp4-counter", "process_1", "process_2"];
    check_experiment(BIN, &["--fast", "--ticks", "6"], b"", &lanes);
}
