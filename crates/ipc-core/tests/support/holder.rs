//! The end of a child that must still hold what it took (a lock, a
//! semaphore's unit, a barrier's place) when the test kills it. Shared by
//! the process and sync scenarios, which include this file by path.

use std::time::Duration;

use ipc_core::RawValue;

/// Sleeps until the process is killed.
pub fn sleep_until_killed() -> ! {
    loop {
        std::thread::sleep(Duration::from_secs(1));
    }
}

/// Says in `holding` (1) that the child holds what it took, for the test's
/// `wait_until`, then sleeps until the process is killed.
pub fn hold_until_killed(holding: &RawValue<u32>) -> ! {
    holding.set(1);
    sleep_until_killed()
}
