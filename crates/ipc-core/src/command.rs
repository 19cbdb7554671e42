//! Programs started with [`std::process::Command`] that do not outlive
//! their parent.
//!
//! A child started by `Command::spawn` lives on when its parent is killed
//! with SIGKILL: nothing ran in the parent to stop it. [`die_with_parent`]
//! asks the kernel to send the child a signal when its parent dies
//! (`PR_SET_PDEATHSIG`, see `prctl(2)`), the way [`crate::Process`]'s
//! forked children get SIGTERM.
//!
//! ```
//! use std::process::Command;
//! use nix::sys::signal::Signal;
//!
//! let mut command = Command::new("true");
//! ipc_core::command::die_with_parent(&mut command, Signal::SIGKILL);
//! assert!(command.status().unwrap().success());
//! ```

use std::io;
use std::os::unix::process::CommandExt;
use std::process::Command;

use nix::sys::signal::Signal;
use nix::unistd::{Pid, getpid, getppid};

/// Makes the program `command` starts receive `signal` when the thread that
/// started it ends (normally together with its process, however it ends,
/// SIGKILL included).
///
/// The kernel ties the parent-death signal to the *thread* that forked,
/// not to the whole process (`prctl(2)`): start long-lived children from
/// the main thread, or from a thread that lives as long as they should.
///
/// If the parent is already gone when the child gets to run (it was
/// killed between the fork and the `prctl`), the child does not start the
/// program: `spawn` fails in a parent that no longer exists.
pub fn die_with_parent(command: &mut Command, signal: Signal) -> &mut Command {
    let parent: Pid = getpid();
    let hook = move || -> io::Result<()> {
        // Both calls are plain system calls: async-signal-safe, as code
        // between fork and exec must be.
        nix::sys::prctl::set_pdeathsig(signal).map_err(io::Error::from)?;
        if getppid() != parent {
            return Err(io::Error::from_raw_os_error(libc::ESRCH));
        }
        Ok(())
    };
    // SAFETY: the hook runs in the child between fork and exec, where only
    // async-signal-safe work is allowed: it makes two system calls
    // (prctl, getppid), allocates nothing, takes no lock, and builds its
    // error from a raw errno without allocating.
    unsafe { command.pre_exec(hook) }
}
