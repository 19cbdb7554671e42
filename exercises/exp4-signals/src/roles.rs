//! The two roles in two terminals: `exp4-signals reader` prints its pid
//! and waits; `exp4-signals writer PID` fills its array and notifies it.
//!
//! Two unrelated processes share no anonymous memory, so the array is
//! then a named segment, `/dev/shm/ipc-lab-exp4-signals-PID`, that the
//! reader creates (mode 0600) and removes when it ends. The writer uses
//! it only if it belongs to the same user, and signals only a process
//! named `exp4-signals` that made it: a notification signal sent to a
//! process that does not expect it ends that process.

use ipc_cli::say;
use ipc_core::{Error, IpcName, RawArray, Result};
use nix::unistd::Pid;

use crate::extras::{Inboxes, stop_on_signal};
use crate::{BURST, EMPTY, VALUES, reader_role, writer_role};

/// The name of the reader's segment: `ipc-lab-exp4-signals-PID`.
///
/// ```
/// let name = exp4_signals::roles::segment(8025).unwrap();
/// assert_eq!(name.as_str(), "ipc-lab-exp4-signals-8025");
/// ```
///
/// # Errors
/// Never for a pid; as [`IpcName::new`].
pub fn segment(pid: i32) -> Result<IpcName> {
    IpcName::new(&format!("exp4-signals-{pid}"))
}

/// The reader's role: blocks its signals, creates the segment, says how
/// to start the writer, then reads as the forked reader does.
///
/// # Errors
/// As the forked reader; `shm_open … File exists` if the segment of this
/// pid is left from a reader that was killed.
pub fn run_reader(timings: bool) -> Result<()> {
    let me = std::process::id();
    // Before anyone can learn this pid: an early notice then waits.
    let mut inboxes = Inboxes::block()?;
    let name = segment(me as i32)?;
    let shared = RawArray::create(&name, &[EMPTY; VALUES.len()])?;
    say!(
        "reader: the array is /dev/shm/{}: run `exp4-signals writer {me}` in another terminal",
        name.as_str()
    )?;
    stop_on_signal("reader", reader_role(&shared, &mut inboxes, timings))
}

/// The writer's role: checks that `reader` is an `exp4-signals reader`,
/// opens its segment, then writes and notifies as the forked writer does.
///
/// # Errors
/// [`Error::InvalidArgument`] (exit code 2) when no reader runs with that
/// pid; as the forked writer otherwise.
pub fn run_writer(reader: i32) -> Result<()> {
    let name = segment(reader)?;
    let not_a_reader = || {
        Error::InvalidArgument(format!(
            "no exp4-signals reader runs with pid {reader} (no /dev/shm/{}): start `exp4-signals reader` first and give its pid",
            name.as_str()
        ))
    };
    let comm = std::fs::read_to_string(format!("/proc/{reader}/comm")).unwrap_or_default();
    if comm.trim_end() != "exp4-signals" {
        return Err(not_a_reader());
    }
    let shared = RawArray::open(&name, VALUES.len()).map_err(|error| {
        if error.is_not_found() {
            not_a_reader()
        } else {
            error
        }
    })?;
    stop_on_signal(
        "writer",
        writer_role(&shared, &VALUES, Pid::from_raw(reader), BURST),
    )
}
