//! `--trace`: a traced `--fast` run prints what an untraced one prints,
//! and its timeline is causally consistent (every notice received after
//! it was sent), with a lane for every process.

use ipc_testkit::trace::check_experiment;

const BIN: &str = env!("CARGO_BIN_EXE_exp4-signals");

#[test]
fn a_traced_run_prints_the_same_and_its_timeline_is_consistent() {
    let lanes = ["exp4-signals", "writer", "reader"];
    check_experiment(BIN, &["--fast", "--signals", "3"], b"", &lanes);
}
