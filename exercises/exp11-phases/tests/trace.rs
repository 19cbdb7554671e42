//! `--trace`: a traced `--fast` run prints what an untraced one prints,
//! and its timeline is causally consistent, with a lane for every process.

use ipc_testkit::trace::check_experiment;

const BIN: &str = env!("CARGO_BIN_EXE_exp11-phases");

#[test]
#[rustfmt::skip]
fn a_traced_run_prints_the_same_and_its_timeline_is_consistent() {
    let lanes = ["exp11-phases", "worker 0", "worker 1", "worker 2", "worker 3"];
    check_experiment(BIN, &["--fast", "--numbers", "3,1,4,1"], b"", &lanes);
}
