//! `--trace`: a traced `--fast` run prints what an untraced one prints,
//! and its timeline is causally consistent (every acquire of the Value's
//! lock after the previous release), with a lane for every process.

use ipc_testkit::trace::check_experiment;

const BIN: &str = env!("CARGO_BIN_EXE_exp1-threads");

#[test]
#[rustfmt::skip]
fn a_traced_run_prints_the_same_and_its_timeline_is_consistent() {
    let lanes = ["exp1-threads", "copy1", "copy2", "p1", "p2"];
    check_experiment(BIN, &["--fast", "--workers", "2", "--updates", "3"], b"", &lanes);
}
