//! `--trace`: a traced `--fast` run prints what an untraced one prints,
//! and its timeline is causally consistent, with a lane for every process.

use ipc_testkit::trace::check_experiment;

const BIN: &str = env!("CARGO_BIN_EXE_exp11-value");

#[test]
fn a_traced_run_prints_the_same_and_its_timeline_is_consistent() {
    let lanes = ["exp11-value", "p1", "p2", "p3", "p4", "p5"];
    check_experiment(BIN, &["--fast", "--iterations", "3"], b"", &lanes);
}

#[test]
fn recording_costs_little_enough_that_the_unlocked_value_still_loses_updates() {
    let dir = ipc_testkit::TempDir::new("trace-no-lock");
    let trace = dir.join("run.json");
    let trace = trace.to_str().unwrap();
    let mut seen = Vec::new();
    for _ in 0..5 {
        let run = ipc_testkit::run(
            BIN,
            &["--no-lock", "--iterations", "200000", "--trace", trace],
        );
        run.assert_code(0).assert_no_panic();
        let lost: u64 = run
            .stdout_lines()
            .iter()
            .find_map(|l| l.strip_prefix("Lost updates: "))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no 'Lost updates' line\n{run}"));
        if lost > 0 {
            return;
        }
        seen.push(run.to_string());
    }
    panic!("traced, no update was lost in 5 runs:\n{}", seen.join("\n"));
}
