//! This process's run: the lease it shares with the processes it forked,
//! the count of objects it made, the tracker that settles the lease once
//! the run's last process has gone, and the run's end.

use std::ffi::CString;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::stat::{Mode, fstat};
use nix::unistd::{ForkResult, Pid, getpid};

use super::lease::{Record, make_lease, remove_lease, settle};
use super::object::Identity;
use crate::blocking::{self, Deadline};
use crate::error::{Error, Result};
use crate::os;

/// The command name of a run's tracker (`ps`, `/proc/PID/comm`).
pub const TRACKER_NAME: &std::ffi::CStr = c"ipc-lab-tracker";

/// How long the creator of a run waits for its tracker at the end.
const TRACKER_GRACE: Duration = Duration::from_secs(1);

/// The run this process belongs to: its lease, shared with the processes
/// it forked.
#[derive(Debug)]
pub(super) struct Run {
    /// The lease, locked; `None` when no lease could be made (no
    /// `/dev/shm`): objects are then not protected against a crash.
    lease: Option<(OwnedFd, PathBuf, Identity)>,
    /// The process that started the run.
    founder: Pid,
    /// The tracker, in the founder only.
    tracker: Option<Pid>,
    /// Objects this process made and has not released yet.
    live: usize,
}

/// The run of this process, if it has one (inherited across fork).
static RUN: Mutex<Option<Run>> = Mutex::new(None);

impl Run {
    /// True when this process belongs to a run (started here or
    /// inherited).
    pub(super) fn exists() -> bool {
        lock_run().is_some()
    }

    /// Makes sure this process has a run (starting one if it has none)
    /// and counts one more object of this process in it.
    pub(super) fn join() {
        lock_run().get_or_insert_with(Run::start).live += 1;
    }

    /// The identity of this process's lease, to skip it when sweeping.
    pub(super) fn current_identity() -> Option<Identity> {
        lock_run()
            .as_ref()
            .and_then(|run| run.lease.as_ref().map(|(_, _, id)| *id))
    }

    fn start() -> Run {
        let founder = getpid();
        let lease = make_lease(founder).ok();
        let tracker = match &lease {
            Some((_, path, identity)) if os::thread_count() == 1 => {
                start_tracker(path, *identity).ok()
            }
            _ => None,
        };
        Run {
            lease,
            founder,
            tracker,
            live: 0,
        }
    }
}

fn lock_run() -> std::sync::MutexGuard<'static, Option<Run>> {
    RUN.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Appends `record` to the lease of this process's run, if it has one, in
/// one `write(2)` (`O_APPEND`), so that records of the run's processes
/// never mix.
pub(super) fn note(record: &Record) {
    if let Some(run) = lock_run().as_ref()
        && let Some((fd, _, _)) = &run.lease
    {
        let _ = nix::unistd::write(fd, record.line().as_bytes());
    }
}

/// This process removed or kept an object, or failed to make one. A run
/// without a tracker ends in its founder with its last object, so that its
/// lease does not outlive it.
pub(super) fn released() {
    let mut guard = lock_run();
    let Some(run) = guard.as_mut() else { return };
    run.live = run.live.saturating_sub(1);
    if run.live == 0 && run.tracker.is_none() && run.founder == getpid() {
        if let Some((fd, path, identity)) = run.lease.take() {
            remove_lease(&path, identity);
            drop(fd);
        }
        *guard = None;
    }
}

/// Forks the tracker of the run whose lease is `path` (see the module
/// documentation). Only called in a single-threaded process.
fn start_tracker(path: &Path, identity: Identity) -> Result<Pid> {
    let path_c = CString::new(path.as_os_str().as_bytes())
        .map_err(|_| Error::InvalidArgument("a lease path with a NUL byte".into()))?;
    os::flush_stdio();
    // The tracker is born with its name (`ps`, and tests that tell it from
    // the program's own children, never see it under the program's): the
    // name is lent to this thread for the instant of the fork.
    let own_name = nix::sys::prctl::get_name().ok();
    let _ = nix::sys::prctl::set_name(TRACKER_NAME);
    // SAFETY: the caller checked that the process has a single thread, so
    // the child cannot inherit a lock held by another thread; the child
    // only runs `tracker`, which ends with `_exit`.
    let forked = unsafe { nix::unistd::fork() };
    if let Ok(ForkResult::Parent { .. }) | Err(_) = forked
        && let Some(name) = &own_name
    {
        let _ = nix::sys::prctl::set_name(name);
    }
    match forked {
        Err(errno) => Err(Error::call("fork", errno)),
        Ok(ForkResult::Child) => tracker(&path_c, identity),
        Ok(ForkResult::Parent { child }) => Ok(child),
    }
}

/// The tracker's life: detach, wait for the run to end, settle its lease.
fn tracker(path: &CString, identity: Identity) -> ! {
    let _ = nix::unistd::setsid();
    let ignore = nix::sys::signal::SigAction::new(
        nix::sys::signal::SigHandler::SigIgn,
        nix::sys::signal::SaFlags::empty(),
        nix::sys::signal::SigSet::empty(),
    );
    for signal in [
        nix::sys::signal::Signal::SIGINT,
        nix::sys::signal::Signal::SIGTERM,
        nix::sys::signal::Signal::SIGHUP,
        nix::sys::signal::Signal::SIGQUIT,
    ] {
        // SAFETY: ignoring a signal runs no code of ours.
        let _ = unsafe { nix::sys::signal::sigaction(signal, &ignore) };
    }
    // Hold nothing of the run's: no standard stream (a reader waiting for
    // the end of a program's output would wait for the tracker too), no
    // descriptor, in particular not the run's own lease.
    if let Ok(null) = nix::fcntl::open("/dev/null", OFlag::O_RDWR, Mode::empty()) {
        for std in 0..3 {
            // SAFETY: dup2 on descriptors of this process; 0..3 are the
            // standard streams, replaced by /dev/null.
            unsafe { libc::dup2(null.as_raw_fd(), std) };
        }
    }
    // SAFETY: closes every descriptor above the standard streams; nothing
    // in this process uses them any more (the tracker owns no Rust object
    // holding one that it will use again).
    unsafe { libc::syscall(libc::SYS_close_range, 3_u32, u32::MAX, 0_u32) };
    let path = Path::new(std::ffi::OsStr::from_bytes(path.as_bytes()));
    if let Ok(file) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
        && fstat(file.as_fd()).is_ok_and(|st| Identity::of(&st) == identity)
    {
        // SAFETY: flock(2) on a descriptor we own. It blocks until every
        // process of the run has closed the lease: that is, has exited.
        while unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } != 0
            && Errno::last() == Errno::EINTR
        {}
        settle(path, &file);
    }
    // SAFETY: `_exit` ends the tracker at once, running none of the
    // destructors of the objects it inherited from the run's founder.
    unsafe { libc::_exit(0) }
}

/// Ends the run of this process, if this process started it: closes the
/// lease (the tracker then sees the run end, once the processes forked by
/// this one have ended too) and waits a moment for the tracker, so that it
/// does not stay a zombie. `ipc_cli::run` and `Process`'s children call it at
/// their end; calling it elsewhere, or twice, is harmless.
pub fn end_run() {
    let mut guard = lock_run();
    let Some(run) = guard.as_ref() else { return };
    if run.founder != getpid() {
        return;
    }
    let Some(mut run) = guard.take() else { return };
    drop(guard);
    let lease = run.lease.take();
    let Some(tracker) = run.tracker.take() else {
        if let Some((fd, path, identity)) = lease {
            if run.live == 0 {
                remove_lease(&path, identity);
            }
            drop(fd);
        }
        return;
    };
    drop(lease);
    // Reaped once it has ended; left to init after the grace (it settles
    // the run's objects all the same).
    blocking::poll_until(Deadline::after(TRACKER_GRACE), blocking::MOMENT, || {
        match nix::sys::wait::waitpid(tracker, Some(nix::sys::wait::WaitPidFlag::WNOHANG)) {
            Ok(nix::sys::wait::WaitStatus::StillAlive) | Err(Errno::EINTR) => None,
            _ => Some(()),
        }
    });
}
