//! `--trace`: a traced `--fast` run prints what an untraced one prints,
//! and its timeline is causally consistent, with a lane for the main
//! program, the manager and every worker.

use ipc_testkit::trace::check_experiment;

const BIN: &str = env!("CARGO_BIN_EXE_exp11-pool");

#[test]
#[rustfmt::skip]
fn a_traced_run_prints_the_same_and_its_timeline_is_consistent() {
    let lanes = ["exp11-pool", "manager",
                 "ForkPoolWorker-1", "ForkPoolWorker-2", "ForkPoolWorker-3"];
    check_experiment(BIN, &["--fast", "--workers", "3"], b"", &lanes);
}
