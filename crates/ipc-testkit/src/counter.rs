//! The shared-counter experiments, exp11-value (a Value in shared memory)
//! and exp1-dsm (a key in a NATS bucket), from seed 011: process pK runs
//! the target function `add_K`, which adds 1 K times per pass, and the
//! run prints that plan before the processes start.
//!
//! ```
//! use ipc_testkit::counter;
//!
//! assert_eq!(
//!     counter::plan("Shared counter", "workers", 2, 20),
//!     [
//!         "Shared counter",
//!         "2 workers, 20 passes each:",
//!         "p1 runs add_one: 1 update of +1 per pass",
//!         "p2 runs add_two: 2 updates of +1 per pass",
//!     ]
//! );
//! ```

/// The target functions, p1's first: `add_K` adds 1 K times per pass.
pub const TARGETS: [&str; 5] = ["add_one", "add_two", "add_three", "add_four", "add_five"];

/// The lines a run of `count` `who` (`processes`, `workers`), each of
/// `passes` passes, prints first: its `header` (what the counter is), then
/// `{count} {who}, {passes} passes each:`, then `pK runs add_K: K updates
/// of +1 per pass` for each. Panics if `count` is more than the 5 target
/// functions.
pub fn plan(header: &str, who: &str, count: u64, passes: u64) -> Vec<String> {
    let mut lines = vec![
        header.to_owned(),
        format!("{count} {who}, {passes} passes each:"),
    ];
    for (k, target) in (1..=count).zip(TARGETS) {
        let updates = if k == 1 { "update" } else { "updates" };
        lines.push(format!("p{k} runs {target}: {k} {updates} of +1 per pass"));
    }
    assert_eq!(lines.len() as u64, count + 2, "at most 5 processes");
    lines
}

/// The total every run of `count` processes of `passes` passes must end
/// with: pK adds K per pass.
pub fn total(count: u64, passes: u64) -> u64 {
    passes * count * (count + 1) / 2
}
