//! Which synchronisation a run uses: the textbook's semaphores and
//! mutex ([`Guards`]), one condition and its lock ([`Monitor`],
//! `--condition`), or nothing (`--no-sync`).

use ipc_core::Result;

use crate::monitor::Monitor;
use crate::{Config, Guards, Log, unsync};

/// What keeps the processes in step: the semaphores and the mutex, one
/// condition (`--condition`), or nothing (`--no-sync`).
#[derive(Debug)]
pub enum Guarding {
    /// `empty`, `full` and `mutex` (the default).
    Semaphores(Guards),
    /// One condition and its lock.
    Condition(Monitor),
    /// Nothing but a polled count.
    Nothing,
}

impl Guarding {
    /// What `config` asks for; `--no-sync` says so first on `log`.
    ///
    /// # Errors
    /// As [`Guards::new`] and [`Monitor::new`].
    pub fn new(config: &Config, log: &Log) -> Result<Guarding> {
        Ok(match (config.sync, config.condition) {
            (true, false) => Guarding::Semaphores(Guards::new(config.capacity, config.timeout)?),
            (true, true) => Guarding::Condition(Monitor::new(config.timeout)?),
            (false, _) => {
                unsync::announce(log)?;
                Guarding::Nothing
            }
        })
    }
}
