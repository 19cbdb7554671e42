//! SIGBUS in a named segment: an error message, not a crash.
//!
//! Anybody who may write a named segment can shrink it under the processes
//! that map it (`truncate -s 0 /dev/shm/ipc-lab-…`, `ftruncate(2)`). A
//! process that then touches a page past the new end gets SIGBUS, and
//! would die of it with no word about why. [`watch`] records each mapped
//! named segment in a fixed table that a SIGBUS handler can read without
//! allocating; the handler looks the faulting address up and, for a page
//! of a watched segment, writes `LABEL: /ipc-lab-x shrank under this
//! process (another process truncated it): stopping` to standard error
//! and ends the process with exit code 1 (`_exit(2)`: a signal handler can
//! do little else safely). The objects of the run are then removed by the
//! run's tracker ([`crate::owner`]). A SIGBUS anywhere else keeps its
//! default action.

use std::sync::Once;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};

use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};

/// What follows the segment's name in the message.
const SHRUNK: &str = "shrank under this process (another process truncated it): stopping";

/// How many named segments one process can have watched at once; more
/// are mapped all the same, without the friendly message.
const SLOTS: usize = 64;

/// The longest name kept (a name has at most 255 bytes).
const NAME_MAX: usize = 256;

/// The longest label kept.
const LABEL_MAX: usize = 64;

/// A slot being written: not free, not yet readable.
const BUSY: usize = usize::MAX;

struct Slot {
    /// The mapping's first address; 0 for a free slot, [`BUSY`] while
    /// being filled.
    start: AtomicUsize,
    len: AtomicUsize,
    name_len: AtomicUsize,
    name: [AtomicU8; NAME_MAX],
}

#[allow(clippy::declare_interior_mutable_const)]
const FREE: Slot = Slot {
    start: AtomicUsize::new(0),
    len: AtomicUsize::new(0),
    name_len: AtomicUsize::new(0),
    name: [const { AtomicU8::new(0) }; NAME_MAX],
};

static TABLE: [Slot; SLOTS] = [FREE; SLOTS];

static LABEL: [AtomicU8; LABEL_MAX] = [const { AtomicU8::new(0) }; LABEL_MAX];
static LABEL_LEN: AtomicUsize = AtomicUsize::new(0);

static INSTALL: Once = Once::new();

/// Names the process in the message (`exp4-counter`, `process_2`): the
/// program's name in its runner (`ipc_cli::run`), the child's name in a forked child.
pub(crate) fn set_label(label: &str) {
    let bytes = &label.as_bytes()[..label.len().min(LABEL_MAX)];
    for (cell, &byte) in LABEL.iter().zip(bytes) {
        cell.store(byte, Ordering::Relaxed);
    }
    LABEL_LEN.store(bytes.len(), Ordering::Release);
}

/// Watches the mapping of `len` bytes at `start` of the segment `name`.
pub(crate) fn watch(start: usize, len: usize, name: &str) {
    INSTALL.call_once(install);
    let Some(slot) = TABLE.iter().find(|slot| {
        slot.start
            .compare_exchange(0, BUSY, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }) else {
        return;
    };
    let bytes = &name.as_bytes()[..name.len().min(NAME_MAX)];
    for (cell, &byte) in slot.name.iter().zip(bytes) {
        cell.store(byte, Ordering::Relaxed);
    }
    slot.name_len.store(bytes.len(), Ordering::Relaxed);
    slot.len.store(len, Ordering::Relaxed);
    // Publishes the slot: the handler reads `start` with Acquire.
    slot.start.store(start, Ordering::Release);
}

/// Stops watching the mapping at `start` (before it is unmapped).
pub(crate) fn unwatch(start: usize) {
    if let Some(slot) = TABLE
        .iter()
        .find(|slot| slot.start.load(Ordering::Acquire) == start)
    {
        slot.start.store(0, Ordering::Release);
    }
}

fn install() {
    let action = SigAction::new(
        SigHandler::SigAction(on_sigbus),
        SaFlags::SA_SIGINFO,
        SigSet::empty(),
    );
    // SAFETY: `on_sigbus` only reads atomics, formats into a stack buffer,
    // and calls write(2), _exit(2) and sigaction(2), all async-signal-safe.
    let _ = unsafe { sigaction(Signal::SIGBUS, &action) };
}

extern "C" fn on_sigbus(_: libc::c_int, info: *mut libc::siginfo_t, _: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo_t to an SA_SIGINFO handler;
    // for SIGBUS, si_addr is the faulting address.
    let addr = unsafe { (*info).si_addr() } as usize;
    for slot in &TABLE {
        let start = slot.start.load(Ordering::Acquire);
        if start == 0 || start == BUSY {
            continue;
        }
        if addr >= start && addr - start < slot.len.load(Ordering::Relaxed) {
            report(slot);
        }
    }
    // Not ours: the default action, when the faulting access runs again.
    let default = SigAction::new(SigHandler::SigDfl, SaFlags::empty(), SigSet::empty());
    // SAFETY: restoring the default disposition runs no code of ours.
    let _ = unsafe { sigaction(Signal::SIGBUS, &default) };
}

/// Writes the message for the segment of `slot` and ends the process.
fn report(slot: &Slot) -> ! {
    let mut buf = [0_u8; LABEL_MAX + NAME_MAX + 128];
    let mut at = 0;
    let mut put = |bytes: &mut dyn Iterator<Item = u8>| {
        for byte in bytes {
            if at < buf.len() {
                buf[at] = byte;
                at += 1;
            }
        }
    };
    let label_len = LABEL_LEN.load(Ordering::Acquire);
    put(&mut LABEL[..label_len].iter().map(|b| b.load(Ordering::Relaxed)));
    if label_len > 0 {
        put(&mut b": ".iter().copied());
    }
    put(&mut b"/".iter().copied());
    let name_len = slot.name_len.load(Ordering::Relaxed);
    put(&mut slot.name[..name_len]
        .iter()
        .map(|b| b.load(Ordering::Relaxed)));
    put(&mut b" ".iter().copied());
    put(&mut SHRUNK.bytes());
    put(&mut b"\n".iter().copied());
    // SAFETY: write(2) and _exit(2) are async-signal-safe; `buf[..at]` is
    // a live local buffer.
    unsafe {
        libc::write(libc::STDERR_FILENO, buf.as_ptr().cast(), at);
        libc::_exit(1)
    }
}
