//! The one owner of named IPC objects: who creates them, who removes them,
//! and how nothing is left behind, even after SIGKILL.
//!
//! Shared-memory segments, FIFOs and POSIX message queues have names that
//! outlive the processes using them: a segment stays in `/dev/shm` until
//! somebody unlinks it. Every named object ipc-core creates is held by an
//! [`Owner`], the one place that decides who removes it. What differs
//! between kinds (the calls that make one under a validated name, refusing
//! a taken one; open one; look at it; remove it, which is also how a
//! half-made one is undone) is one trait, [`Object`], implemented once per
//! kind: [`SegmentObject`], [`FifoObject`], [`QueueObject`],
//! [`DirectoryObject`].
//!
//! | verb | the handle's constructor | removes the object when dropped |
//! | --- | --- | --- |
//! | create | `SharedMemory::create`, `Fifo::create`, `MessageQueue::create` (`O_EXCL`: a taken name is an error) | yes, in the creating process only |
//! | open | `…::open` (the object must belong to you, with mode 0600: see [`check_trusted`]) | never |
//! | create or open | `…::create_or_open` | if it created it |
//! | keep | `…::keep()`: the object outlives its creator on purpose | no |
//! | remove | `…::remove()`: now, whoever created it | — |
//!
//! # Nothing left after a crash
//!
//! A destructor does not run after SIGKILL. So every object is also written
//! down where another process can find it: in the *lease* of its run, a file
//! `/dev/shm/ipc-lab-run@PID-TOKEN` of the calling user, mode 0600. A run is
//! the process that created the first named object and every process it
//! forks afterwards (they inherit the lease's open file description). The
//! run holds an exclusive `flock(2)` lock on its lease for as long as any of
//! its processes lives: the kernel releases it when the last one exits,
//! whatever killed it. Whether a run is alive is therefore one non-blocking
//! `flock`, which neither pid reuse nor pid namespaces can fool (the pid and
//! start time in the lease are only for people reading it).
//!
//! * **The tracker.** When a run starts, it forks a small *tracker* process
//!   (like Python's `resource_tracker`), in a session of its own and deaf to
//!   Ctrl-C, that waits for the lease's lock. When the last process of the
//!   run has gone (normally, or killed with SIGKILL), the tracker gets it,
//!   removes every object still listed and not removed or kept, removes the
//!   lease and exits. So a parent SIGKILLed while its children run leaves
//!   nothing once the children are gone, with nobody running a script.
//! * **The sweep.** If the tracker died too (the whole process group
//!   SIGKILLed), the next ipc-lab program that creates a named object
//!   removes the objects of every dead run of the same user ([`sweep`]).
//!   `scripts/clean.sh` does the same ([`sweep`] and [`leases`]) and can
//!   list what it would remove.
//!
//! An object is removed only if it carries the `ipc-lab-` prefix, belongs
//! to the calling user, is listed in a dead run's lease, and is still the
//! very object that run made (same device and inode): a name reused since
//! is left alone, and so is every object of a live run.
//!
//! A process with several threads (a test harness) cannot safely fork a
//! tracker: its objects are left to the sweep of the next program after a
//! crash, and its lease ends when its last object is removed.
//!
//! Set `IPC_LAB_AUDIT` to a file name to have every creation (with the
//! object's device and inode), removal, keep and sweep appended to it, one
//! line each (`PID created shm DEV INO /ipc-lab-x`): `scripts/leftovers.sh
//! --audit FILE` and `scripts/run-all.sh` use it to blame a leftover only
//! on the run that made it, never on another program's objects.
//!
//! | file | its job |
//! | --- | --- |
//! | `object.rs` | the kinds, their names ([`ObjectName`]), identities and trust check; [`Object`] and its four implementations |
//! | `guard.rs` | [`Owner`]: create (and undo), open, keep, remove |
//! | `lease.rs` | a run's lease: its records, made locked, settled when the run is dead; the audit file |
//! | `run.rs` | this process's run: its lease, its tracker, [`end_run`] |
//! | `sweep.rs` | what dead runs left and what no lease lists: [`leases`], [`sweep`], [`strays`] |

mod guard;
mod lease;
mod object;
mod private;
mod run;
mod sweep;

pub use guard::{Origin, Owner};
pub use lease::{AUDIT_VAR, LEASE_DIR, LEASE_PREFIX, Swept};
pub use object::{
    DirectoryObject, FifoObject, Identity, Kind, MODE, MQUEUE_DIR, MqDescriptor, Named, Object,
    ObjectName, QueueObject, QueueSize, SHM_DIR, SegmentObject, check_trusted,
};
pub use private::{PrivateDir, user_dir};
pub use run::{TRACKER_NAME, end_run};
pub use sweep::{Lease, Stray, leases, strays, sweep};
