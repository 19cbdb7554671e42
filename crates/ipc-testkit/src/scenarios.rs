//! A single-threaded runner for library tests that must fork.
//!
//! libtest runs every test on a thread of its own, and forking a
//! multi-threaded process is unsafe (ipc-core refuses to). A test target
//! declared with `harness = false` is a plain program instead: its `main`
//! calls [`main`] with a list of scenarios, which run one after another on
//! the main thread, each under a watchdog (`alarm(2)`) so that a deadlock
//! ends the run instead of hanging it.
//!
//! ```toml
//! [[test]]
//! name = "pipe_scenarios"
//! harness = false
//! ```
//!
//! ```no_run
//! fn frames_arrive_whole() {
//!     assert_eq!(1 + 1, 2);
//! }
//!
//! fn main() {
//!     ipc_testkit::scenarios::main(&ipc_testkit::scenarios![frames_arrive_whole]);
//! }
//! ```

use std::io::Write;
use std::panic::catch_unwind;

/// The scenarios of a test file, each named once: `scenarios![a, b]` is
/// `[("a", a), ("b", b)]`, so that the name [`main`] prints and filters on
/// is always the function's own.
///
/// ```
/// fn one() {}
/// fn two() {}
/// let all: [ipc_testkit::scenarios::Scenario; 2] = ipc_testkit::scenarios![one, two];
/// assert_eq!(all.map(|(name, _)| name), ["one", "two"]);
/// ```
#[macro_export]
macro_rules! scenarios {
    ($($scenario:ident),* $(,)?) => {
        [$((stringify!($scenario), $scenario as fn())),*]
    };
}

/// A named scenario: a function that panics when its promise breaks.
pub type Scenario = (&'static str, fn());

/// Seconds a scenario may run before the watchdog ends the whole run.
pub const WATCHDOG_SECONDS: u32 = 120;

/// Runs the scenarios whose names contain the first non-flag argument (all
/// of them without one), prints `test NAME ... ok|FAILED` for each and a
/// closing `N passed, N failed` line, and exits with 1 if any failed.
pub fn main(scenarios: &[Scenario]) -> ! {
    let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let (mut passed, mut failed) = (0, 0);
    for &(name, scenario) in scenarios {
        if filter.as_deref().is_some_and(|f| !name.contains(f)) {
            continue;
        }
        print!("test {name} ... ");
        let _ = std::io::stdout().flush();
        nix::unistd::alarm::set(WATCHDOG_SECONDS);
        let outcome = catch_unwind(scenario);
        nix::unistd::alarm::cancel();
        if outcome.is_ok() {
            println!("ok");
            passed += 1;
        } else {
            println!("FAILED");
            failed += 1;
        }
    }
    println!("\n{passed} passed, {failed} failed");
    let _ = std::io::stdout().flush();
    std::process::exit(i32::from(failed > 0));
}

/// [`main`], unless this test program was started again, as a child of
/// one of its scenarios, with the environment variable `role_var` set:
/// then it plays `role` (which exits) instead of running the scenarios.
pub fn main_or_role(role_var: &str, role: fn() -> !, scenarios: &[Scenario]) -> ! {
    if std::env::var_os(role_var).is_some() {
        role();
    }
    main(scenarios)
}
