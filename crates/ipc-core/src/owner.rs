//! The one owner of named IPC objects: who creates them, who removes them,
//! and how nothing is left behind, even after SIGKILL.
//!
//! Shared-memory segments, FIFOs and POSIX message queues have names that
//! outlive the processes using them: a segment stays in `/dev/shm` until
//! somebody unlinks it. Every named object ipc-core creates is held by an
//! [`Owner`], the one place that decides who removes it:
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

use std::collections::BTreeMap;
use std::ffi::CString;
use std::fmt;
use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use nix::errno::Errno;
use nix::fcntl::{AT_FDCWD, AtFlags, OFlag};
use nix::sys::stat::{FileStat, Mode, SFlag, fchmod, fstat, lstat, stat};
use nix::unistd::{ForkResult, Pid, geteuid, getpid};

use crate::blocking::{self, Deadline};
use crate::error::{Error, Result};
use crate::name::PREFIX;
use crate::os;

/// Where leases live: the same `tmpfs` as the segments, cleared at boot.
pub const LEASE_DIR: &str = "/dev/shm";

/// The start of every lease's file name; `@` can never be part of an
/// [`crate::IpcName`], so no segment can be mistaken for a lease.
pub const LEASE_PREFIX: &str = "ipc-lab-run@";

/// The environment variable naming the audit file (see the module
/// documentation).
pub const AUDIT_VAR: &str = "IPC_LAB_AUDIT";

/// The first line of every lease.
const LEASE_MAGIC: &str = "ipc-lab lease 1";

/// How long a lease without its first line is taken for one being born.
const NEWBORN: Duration = Duration::from_secs(5);

/// The command name of a run's tracker (`ps`, `/proc/PID/comm`).
pub const TRACKER_NAME: &std::ffi::CStr = c"ipc-lab-tracker";

/// How long the creator of a run waits for its tracker at the end.
const TRACKER_GRACE: Duration = Duration::from_secs(1);

/// The kinds of named objects ipc-core creates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// A POSIX shared-memory segment (`shm_open(3)`), named `ipc-lab-…`.
    SharedMemory,
    /// A FIFO (`mkfifo(3)`), named by its absolute path.
    Fifo,
    /// A POSIX message queue (`mq_open(3)`), named `ipc-lab-…`.
    MessageQueue,
    /// A private directory (a `nats-server` store), named by its absolute
    /// path and removed with everything in it.
    Directory,
}

impl Kind {
    /// The word used in leases and the audit file.
    fn tag(self) -> &'static str {
        match self {
            Kind::SharedMemory => "shm",
            Kind::Fifo => "fifo",
            Kind::MessageQueue => "mq",
            Kind::Directory => "dir",
        }
    }

    fn from_tag(tag: &str) -> Option<Kind> {
        [
            Kind::SharedMemory,
            Kind::Fifo,
            Kind::MessageQueue,
            Kind::Directory,
        ]
        .into_iter()
        .find(|kind| kind.tag() == tag)
    }

    /// The file type an object of this kind has.
    fn file_type(self) -> SFlag {
        match self {
            Kind::SharedMemory | Kind::MessageQueue => SFlag::S_IFREG,
            Kind::Fifo => SFlag::S_IFIFO,
            Kind::Directory => SFlag::S_IFDIR,
        }
    }

    /// How a person would name the object: `/ipc-lab-x` for a segment or
    /// a queue, the path for the others.
    pub fn display(self, name: &str) -> String {
        match self {
            Kind::SharedMemory | Kind::MessageQueue => format!("/{name}"),
            Kind::Fifo | Kind::Directory => name.to_owned(),
        }
    }

    /// Where the object `name` is in the file system: `/dev/shm/NAME` for a
    /// segment, `/dev/mqueue/NAME` for a queue (where that file system is
    /// mounted), the path itself for the others.
    pub fn path(self, name: &str) -> PathBuf {
        let bare = name.trim_start_matches('/');
        match self {
            Kind::SharedMemory => Path::new(LEASE_DIR).join(bare),
            Kind::MessageQueue => Path::new(MQUEUE_DIR).join(bare),
            Kind::Fifo | Kind::Directory => PathBuf::from(name),
        }
    }

    /// What the object at `name` is now, or `None` if there is none.
    fn current(self, name: &str) -> Option<FileStat> {
        match self {
            Kind::SharedMemory => stat(&Path::new(LEASE_DIR).join(name)).ok(),
            Kind::Fifo | Kind::Directory => lstat(name).ok(),
            Kind::MessageQueue => {
                let mqd = nix::mqueue::mq_open(
                    format!("/{name}").as_str(),
                    nix::mqueue::MQ_OFlag::O_RDONLY
                        | nix::mqueue::MQ_OFlag::O_NONBLOCK
                        | nix::mqueue::MQ_OFlag::O_CLOEXEC,
                    Mode::empty(),
                    None,
                )
                .ok()?;
                let st = fstat(mqd.as_fd()).ok();
                let _ = nix::mqueue::mq_close(mqd);
                st
            }
        }
    }

    /// Removes the object at `name`.
    fn unlink(self, name: &str) -> std::result::Result<(), Errno> {
        match self {
            Kind::SharedMemory => nix::sys::mman::shm_unlink(format!("/{name}").as_str()),
            Kind::Fifo => nix::unistd::unlink(name),
            Kind::MessageQueue => nix::mqueue::mq_unlink(format!("/{name}").as_str()),
            Kind::Directory => std::fs::remove_dir_all(name)
                .map_err(|e| Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO))),
        }
    }

    fn call(self) -> &'static str {
        match self {
            Kind::SharedMemory => "shm_unlink",
            Kind::Fifo => "unlink",
            Kind::MessageQueue => "mq_unlink",
            Kind::Directory => "remove_dir_all",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::SharedMemory => "shared memory",
            Kind::Fifo => "FIFO",
            Kind::MessageQueue => "message queue",
            Kind::Directory => "directory",
        })
    }
}

/// Which object a name stood for: its device and inode. A new object made
/// at the same name later has another inode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Identity {
    dev: u64,
    ino: u64,
}

impl Identity {
    /// The identity of the object `st` describes.
    pub fn of(st: &FileStat) -> Identity {
        Identity {
            dev: st.st_dev,
            ino: st.st_ino,
        }
    }
}

/// Refuses an existing object that the caller must not trust: one that
/// belongs to another user, is not of the expected kind, or that others
/// may open (any permission bit for group or others). `name` is the
/// object's name (`ipc-lab-x` for a segment or a queue, the path of a FIFO);
/// `st` comes from `fstat(2)` of the opened object (or `lstat(2)` of a
/// FIFO before opening it, which could block).
///
/// # Errors
/// [`Error::Untrusted`], naming the object and its owner or mode, and
/// saying what to do.
///
/// ```
/// use ipc_core::owner::{Kind, check_trusted};
///
/// let st = nix::sys::stat::stat("/").unwrap(); // root's directory, mode 0755
/// let err = check_trusted(Kind::Directory, "/", &st).unwrap_err();
/// if nix::unistd::geteuid().is_root() {
///     assert_eq!(
///         err.to_string(),
///         "/ has mode 0755: other users can open it (ipc-lab makes its objects 0600; \
///          `chmod 600 /` if it is yours and you trust it): not using it"
///     );
/// } else {
///     assert_eq!(err.to_string(), "/ belongs to uid 0, not to you: not using it");
/// }
/// ```
pub fn check_trusted(kind: Kind, name: &str, st: &FileStat) -> Result<()> {
    let untrusted = |reason: String| {
        Err(Error::Untrusted {
            object: kind.display(name),
            reason,
        })
    };
    let me = geteuid().as_raw();
    if st.st_uid != me {
        return untrusted(format!("belongs to uid {}, not to you", st.st_uid));
    }
    if SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits()) != kind.file_type() {
        return untrusted(format!("is not a {kind}"));
    }
    let mode = st.st_mode & 0o7777;
    if mode & 0o077 != 0 {
        return untrusted(format!(
            "has mode {mode:04o}: other users can open it (ipc-lab makes its objects 0600; \
             `chmod 600 {}` if it is yours and you trust it)",
            kind.path(name).display()
        ));
    }
    Ok(())
}

/// The owner of one named object: the part of a handle
/// (`SharedMemory`, `Fifo`, `MessageQueue`) that decides who removes it.
///
/// Made by [`Owner::create`] (this process made the object and removes it
/// when the `Owner` is dropped, in this process only, never in a forked
/// child holding a copy) or [`Owner::open`] (somebody else's: never
/// removed here).
#[derive(Debug)]
pub struct Owner {
    kind: Kind,
    name: String,
    identity: Identity,
    /// The process that removes the object, if this handle created it and
    /// has not kept or removed it yet.
    remover: Option<Pid>,
}

impl Owner {
    /// Creates the object `name` of `kind` with `make`, which must refuse a
    /// name that is taken (`O_EXCL`) and return the handle with the
    /// `fstat(2)` of what it made.
    ///
    /// The object is written into the run's lease before `make` runs (so
    /// that a SIGKILL in the middle of `make` leaves nothing behind either),
    /// then again with its identity once it exists, or marked as not made
    /// if `make` failed. The first creation of a process starts its run
    /// (lease, tracker) and sweeps the dead runs of the user.
    ///
    /// # Errors
    /// The error of `make`.
    pub fn create<T>(
        kind: Kind,
        name: &str,
        make: impl FnOnce() -> Result<(T, FileStat)>,
    ) -> Result<(T, Owner)> {
        debug_assert!(!name.contains('\n'));
        // Counts the object as this process's from now on, so that the run
        // cannot end between here and its creation.
        Run::join();
        let intent = Record::Intent {
            kind,
            name: name.to_owned(),
            at_ns: now_ns(),
        };
        note(&intent);
        match make() {
            Ok((handle, st)) => {
                let identity = Identity::of(&st);
                note(&Record::Made {
                    kind,
                    identity,
                    name: name.to_owned(),
                });
                audit(&format!(
                    "created {} {} {} {}",
                    kind.tag(),
                    identity.dev,
                    identity.ino,
                    kind.display(name)
                ));
                Ok((
                    handle,
                    Owner {
                        kind,
                        name: name.to_owned(),
                        identity,
                        remover: Some(getpid()),
                    },
                ))
            }
            Err(error) => {
                note(&Record::Released {
                    kind,
                    name: name.to_owned(),
                });
                released();
                Err(error)
            }
        }
    }

    /// Adopts the existing object `name` of `kind`, which was opened and
    /// `fstat`-ed as `st`, after [`check_trusted`]. It is never removed by
    /// this owner.
    ///
    /// # Errors
    /// [`Error::Untrusted`] for an object of another user or a mode that
    /// lets others in.
    pub fn open(kind: Kind, name: &str, st: &FileStat) -> Result<Owner> {
        check_trusted(kind, name, st)?;
        Ok(Owner {
            kind,
            name: name.to_owned(),
            identity: Identity::of(st),
            remover: None,
        })
    }

    /// [`Owner::create`], or, when the name is taken (`EEXIST`),
    /// [`Owner::open`] of what is there with `open`.
    ///
    /// # Errors
    /// As [`Owner::create`] and [`Owner::open`].
    pub fn create_or_open<T>(
        kind: Kind,
        name: &str,
        make: impl FnOnce() -> Result<(T, FileStat)>,
        open: impl FnOnce() -> Result<(T, FileStat)>,
    ) -> Result<(T, Owner)> {
        match Owner::create(kind, name, make) {
            Err(error) if error.errno() == Some(Errno::EEXIST) => {
                let (handle, st) = open()?;
                Ok((handle, Owner::open(kind, name, &st)?))
            }
            other => other,
        }
    }

    /// The kind of object.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The object's name (`ipc-lab-x` for a segment or a queue, the path
    /// for a FIFO or a directory).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// True if this process will remove the object when the owner is
    /// dropped.
    pub fn is_owner(&self) -> bool {
        self.remover == Some(getpid())
    }

    /// True while the name still stands for this object; false once it was
    /// removed (by its creator at its end, by the tracker after a crash, by
    /// `clean.sh`) or replaced by another object of the same name. The
    /// object itself stays usable by whoever has it open.
    pub fn is_current(&self) -> bool {
        self.kind
            .current(&self.name)
            .is_some_and(|st| Identity::of(&st) == self.identity)
    }

    /// Leaves the object in place when the owner is dropped, on purpose
    /// (a message queue whose messages wait for a later receiver). It is
    /// no longer the run's to remove, not even after a crash.
    pub fn keep(&mut self) {
        if self.is_owner() {
            self.release("kept");
        }
        self.remover = None;
    }

    /// Removes the object now, whoever created it, if it is still the
    /// object this owner stands for. Processes that have it open keep
    /// using it; new ones cannot find it.
    ///
    /// # Errors
    /// [`Error::Sys`] naming the call (`shm_unlink`, `unlink`,
    /// `mq_unlink`): `No such file or directory` when it is gone already.
    pub fn remove(&mut self) -> Result<()> {
        let was_owner = self.is_owner();
        self.remover = None;
        let outcome = remove_if_same(self.kind, &self.name, self.identity);
        if was_owner {
            self.release("removed");
        }
        match outcome {
            Ok(true) => Ok(()),
            Ok(false) => Err(Error::sys(
                self.kind.call(),
                self.kind.display(&self.name),
                Errno::ENOENT,
            )),
            Err(errno) => Err(Error::sys(
                self.kind.call(),
                self.kind.display(&self.name),
                errno,
            )),
        }
    }

    fn release(&self, how: &str) {
        note(&Record::Released {
            kind: self.kind,
            name: self.name.clone(),
        });
        audit(&format!(
            "{how} {} {}",
            self.kind.tag(),
            self.kind.display(&self.name)
        ));
        released();
    }
}

impl Drop for Owner {
    fn drop(&mut self) {
        if self.is_owner() {
            let _ = remove_if_same(self.kind, &self.name, self.identity);
            self.release("removed");
        }
    }
}

/// A private directory of this process (mode 0700, named with our prefix
/// in the temporary directory), removed with everything in it when dropped
/// in the process that made it, and after a crash by the run's tracker or
/// the next program, as every named object ([`Kind::Directory`]): the
/// store of a private `nats-server`, say.
///
/// ```
/// let dir = ipc_core::owner::PrivateDir::create("doc").unwrap();
/// std::fs::write(dir.path().join("file"), "x").unwrap();
/// let path = dir.path().to_owned();
/// assert!(path.file_name().unwrap().to_str().unwrap().starts_with("ipc-lab-doc-"));
/// drop(dir);
/// assert!(!path.exists());
/// ```
#[derive(Debug)]
pub struct PrivateDir {
    path: PathBuf,
    owner: Owner,
}

impl PrivateDir {
    /// Creates `ipc-lab-TAG-PID-TOKEN-N` in `std::env::temp_dir()`, mode
    /// 0700 whatever the umask.
    ///
    /// # Errors
    /// [`Error::InvalidName`] for a tag a name cannot have; [`Error::Sys`]
    /// naming `mkdir` or `chmod`.
    pub fn create(tag: &str) -> Result<PrivateDir> {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        // The tag must be a valid name on its own (letters, digits, -_.).
        crate::name::IpcName::new(tag)?;
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!(
            "{PREFIX}{tag}-{}-{:08x}-{n}",
            std::process::id(),
            os::process_token()
        ));
        let display = path.display().to_string();
        let absolute = std::path::absolute(&path)
            .ok()
            .and_then(|p| p.into_os_string().into_string().ok())
            .ok_or_else(|| Error::InvalidName {
                name: display.clone(),
                reason: "the temporary directory's path is not valid UTF-8",
            })?;
        let ((), owner) = Owner::create(Kind::Directory, &absolute, || {
            nix::unistd::mkdir(&path, Mode::S_IRWXU)
                .map_err(|errno| Error::sys("mkdir", &display, errno))?;
            let made = nix::sys::stat::fchmodat(
                AT_FDCWD,
                &path,
                Mode::S_IRWXU,
                nix::sys::stat::FchmodatFlags::NoFollowSymlink,
            )
            .and_then(|()| lstat(&path))
            .map_err(|errno| Error::sys("chmod", &display, errno));
            if made.is_err() {
                let _ = std::fs::remove_dir(&path);
            }
            Ok(((), made?))
        })?;
        Ok(PrivateDir { path, owner })
    }

    /// The directory's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Removes the directory and everything in it now.
    ///
    /// # Errors
    /// [`Error::Sys`] naming `remove_dir_all`.
    pub fn remove(&mut self) -> Result<()> {
        self.owner.remove()
    }
}

/// Removes the object `name` of `kind` if it is still the one with
/// `identity`; `Ok(false)` if there is no such object any more.
fn remove_if_same(kind: Kind, name: &str, identity: Identity) -> std::result::Result<bool, Errno> {
    match kind.current(name) {
        Some(st) if Identity::of(&st) == identity => kind.unlink(name).map(|()| true),
        Some(_) => Ok(false),
        None => Ok(false),
    }
}

/// One line of a lease.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Record {
    /// `+ KIND NS NAME`: about to create `NAME` (at `NS`, ns since the
    /// epoch).
    Intent {
        kind: Kind,
        name: String,
        at_ns: u128,
    },
    /// `= KIND DEV INO NAME`: made, with this identity.
    Made {
        kind: Kind,
        identity: Identity,
        name: String,
    },
    /// `- KIND NAME`: removed, kept on purpose, or never made.
    Released { kind: Kind, name: String },
}

impl Record {
    fn line(&self) -> String {
        match self {
            Record::Intent { kind, name, at_ns } => format!("+ {} {at_ns} {name}\n", kind.tag()),
            Record::Made {
                kind,
                identity,
                name,
            } => format!(
                "= {} {} {} {name}\n",
                kind.tag(),
                identity.dev,
                identity.ino
            ),
            Record::Released { kind, name } => format!("- {} {name}\n", kind.tag()),
        }
    }

    fn parse(line: &str) -> Option<Record> {
        let (op, rest) = line.split_once(' ')?;
        let (kind, rest) = rest.split_once(' ')?;
        let kind = Kind::from_tag(kind)?;
        match op {
            "+" => {
                let (at_ns, name) = rest.split_once(' ')?;
                Some(Record::Intent {
                    kind,
                    name: name.to_owned(),
                    at_ns: at_ns.parse().ok()?,
                })
            }
            "=" => {
                let (dev, rest) = rest.split_once(' ')?;
                let (ino, name) = rest.split_once(' ')?;
                Some(Record::Made {
                    kind,
                    identity: Identity {
                        dev: dev.parse().ok()?,
                        ino: ino.parse().ok()?,
                    },
                    name: name.to_owned(),
                })
            }
            "-" => Some(Record::Released {
                kind,
                name: rest.to_owned(),
            }),
            _ => None,
        }
    }
}

/// What a lease says is still to be removed: for each object, its
/// identity if it was made, or the time of the intent if it may have been.
fn pending(text: &str) -> BTreeMap<(Kind, String), Pending> {
    let mut objects = BTreeMap::new();
    for record in text.lines().filter_map(Record::parse) {
        match record {
            Record::Intent { kind, name, at_ns } => {
                objects.insert((kind, name), Pending::Maybe { since_ns: at_ns });
            }
            Record::Made {
                kind,
                identity,
                name,
            } => {
                objects.insert((kind, name), Pending::Made(identity));
            }
            Record::Released { kind, name } => {
                objects.remove(&(kind, name));
            }
        }
    }
    objects
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pending {
    /// Made, with this identity.
    Made(Identity),
    /// About to be made when the run died: whatever is at the name now is
    /// the run's only if it was changed after the intent.
    Maybe { since_ns: u128 },
}

/// Nanoseconds since the epoch, on the clock that stamps a file's ctime.
fn now_ns() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |t| t.as_nanos())
}

/// An object removed by a sweep, or listed as one a sweep would remove.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Swept {
    /// Its kind.
    pub kind: Kind,
    /// How a person names it (`/ipc-lab-x`, `/tmp/ipc-lab-y`).
    pub object: String,
}

impl Swept {
    /// Where the object is in the file system (`/dev/shm/ipc-lab-x`,
    /// `/dev/mqueue/ipc-lab-q`, the path of a FIFO or a directory).
    pub fn path(&self) -> PathBuf {
        self.kind.path(&self.object)
    }
}

impl fmt::Display for Swept {
    /// `shared memory /dev/shm/ipc-lab-x`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind, self.path().display())
    }
}

/// A run found in the lease directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The lease file.
    pub path: PathBuf,
    /// The first line: the pid, start time and program of the run's
    /// creator, for people to read.
    pub header: String,
    /// True while a process of the run lives (its lock is held).
    pub alive: bool,
    /// The objects the lease lists as not removed yet.
    pub objects: Vec<Swept>,
}

/// Lists the leases of the calling user, alive or dead, with the objects
/// each still lists. Nothing is removed.
///
/// # Errors
/// [`Error::Sys`] naming `opendir` when [`LEASE_DIR`] cannot be read.
pub fn leases() -> Result<Vec<Lease>> {
    let mut found = Vec::new();
    for_each_lease(|path, file| {
        let alive = !try_lock(file);
        let text = read_all(file);
        found.push(Lease {
            path: path.to_owned(),
            header: text.lines().next().unwrap_or("").to_owned(),
            alive,
            objects: pending(&text)
                .into_keys()
                .map(|(kind, name)| Swept {
                    object: kind.display(&name),
                    kind,
                })
                .collect(),
        });
        // Dropping `file` releases a lock taken by `try_lock`.
    })?;
    Ok(found)
}

/// Removes the objects of every dead run of the calling user, and their
/// leases: what the next program does after a crash, and what
/// `scripts/clean.sh` does. A run is dead when no process holds its
/// lease's lock; live runs, other users' leases and anything not listed in
/// a lease are left alone.
///
/// # Errors
/// [`Error::Sys`] naming `opendir` when [`LEASE_DIR`] cannot be read.
pub fn sweep() -> Result<Vec<Swept>> {
    let mut removed = Vec::new();
    for_each_lease(|path, file| {
        if try_lock(file) {
            removed.extend(settle(path, file));
        }
    })?;
    Ok(removed)
}

/// An object with our prefix and of the calling user that no run's lease
/// lists: kept on purpose (a message queue waiting for a receiver), left
/// by an older ipc-lab, or made by hand. [`sweep`] never touches them;
/// `scripts/clean.sh` removes those no process uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stray {
    /// Its kind.
    pub kind: Kind,
    /// Where it is in the file system (`/dev/shm/ipc-lab-x`,
    /// `/dev/mqueue/ipc-lab-q`, `/tmp/ipc-lab-f`).
    pub path: PathBuf,
    /// True while a live process maps it or holds it open
    /// (`/proc/PID/maps`, `/proc/PID/fd`).
    pub in_use: bool,
}

impl Stray {
    /// Removes it.
    ///
    /// # Errors
    /// [`Error::Sys`] naming `unlink`.
    pub fn remove(&self) -> Result<()> {
        nix::unistd::unlink(&self.path)
            .map_err(|errno| Error::sys("unlink", self.path.display().to_string(), errno))
    }
}

/// Where message queues show as files, when that file system is mounted.
pub const MQUEUE_DIR: &str = "/dev/mqueue";

/// The objects with our prefix, of the calling user, that no lease lists:
/// segments in [`LEASE_DIR`], queues in [`MQUEUE_DIR`] (if mounted) and
/// FIFOs up to three levels below `/tmp` and `$XDG_RUNTIME_DIR`.
pub fn strays() -> Vec<Stray> {
    let listed: std::collections::BTreeSet<PathBuf> = leases()
        .unwrap_or_default()
        .iter()
        .flat_map(|lease| lease.objects.iter().map(Swept::path))
        .collect();
    let in_use = paths_in_use();
    let me = geteuid().as_raw();
    let mut found = Vec::new();
    let mut look = |kind: Kind, dir: &Path, depth: usize| {
        walk(dir, depth, &mut |path, st| {
            let ours = st.st_uid == me
                && SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits()) == kind.file_type()
                && path
                    .file_name()
                    .is_some_and(|n| n.as_bytes().starts_with(PREFIX.as_bytes()))
                && !path
                    .file_name()
                    .is_some_and(|n| n.as_bytes().starts_with(LEASE_PREFIX.as_bytes()));
            if ours && !listed.contains(path) {
                let shown = match kind {
                    // A process holding a queue shows it as `/name`.
                    Kind::MessageQueue => Path::new("/").join(path.file_name().unwrap_or_default()),
                    _ => path.to_owned(),
                };
                found.push(Stray {
                    kind,
                    path: path.to_owned(),
                    in_use: in_use.contains(&shown),
                });
            }
        });
    };
    look(Kind::SharedMemory, Path::new(LEASE_DIR), 0);
    look(Kind::MessageQueue, Path::new(MQUEUE_DIR), 0);
    let mut fifo_dirs = vec![PathBuf::from("/tmp")];
    fifo_dirs.extend(std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from));
    fifo_dirs.dedup();
    for dir in fifo_dirs {
        look(Kind::Fifo, &dir, 3);
    }
    found
}

/// Calls `visit` with the path and `lstat` of every entry of `dir`, and of
/// its directories down to `depth` more levels (links are not followed).
fn walk(dir: &Path, depth: usize, visit: &mut dyn FnMut(&Path, &FileStat)) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(st) = lstat(&path) else { continue };
        visit(&path, &st);
        if depth > 0
            && SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits()) == SFlag::S_IFDIR
        {
            walk(&path, depth - 1, visit);
        }
    }
}

/// Every path a live process maps (`/proc/PID/maps`) or holds open
/// (`/proc/PID/fd`).
fn paths_in_use() -> std::collections::BTreeSet<PathBuf> {
    let mut used = std::collections::BTreeSet::new();
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return used;
    };
    for process in procs.flatten() {
        let dir = process.path();
        if let Ok(maps) = std::fs::read_to_string(dir.join("maps")) {
            for line in maps.lines() {
                if let Some(at) = line.find('/') {
                    used.insert(PathBuf::from(line[at..].trim_end_matches(" (deleted)")));
                }
            }
        }
        if let Ok(fds) = std::fs::read_dir(dir.join("fd")) {
            for fd in fds.flatten() {
                if let Ok(target) = std::fs::read_link(fd.path()) {
                    used.insert(target);
                }
            }
        }
    }
    used
}

/// Calls `visit` with every lease file of the calling user (a regular
/// file, not a link, opened read-write), skipping this process's own run.
fn for_each_lease(mut visit: impl FnMut(&Path, &std::fs::File)) -> Result<()> {
    let entries = std::fs::read_dir(LEASE_DIR).map_err(|e| {
        Error::sys(
            "opendir",
            LEASE_DIR,
            Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)),
        )
    })?;
    let own = Run::current_identity();
    let me = geteuid().as_raw();
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        if !file_name.as_bytes().starts_with(LEASE_PREFIX.as_bytes()) {
            continue;
        }
        let path = entry.path();
        let Ok(fd) = nix::fcntl::open(
            &path,
            OFlag::O_RDWR | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC | OFlag::O_NONBLOCK,
            Mode::empty(),
        ) else {
            continue;
        };
        let Ok(st) = fstat(&fd) else { continue };
        if st.st_uid != me
            || SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits()) != SFlag::S_IFREG
            || Some(Identity::of(&st)) == own
        {
            continue;
        }
        visit(&path, &std::fs::File::from(fd));
    }
    Ok(())
}

/// Takes the lease's lock without waiting: true if no process of its run
/// lives any more (the lock is then held through `file` until it closes).
fn try_lock(file: &std::fs::File) -> bool {
    // SAFETY: flock(2) on a descriptor we own; it touches no memory.
    unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) == 0 }
}

fn read_all(mut file: &std::fs::File) -> String {
    let mut text = String::new();
    let _ = file.read_to_string(&mut text);
    text
}

/// Removes what the dead run of the lease `path` (open as `file`, its lock
/// held) still lists, then the lease itself.
fn settle(path: &Path, file: &std::fs::File) -> Vec<Swept> {
    let text = read_all(file);
    if !text.starts_with(LEASE_MAGIC) && is_newborn(file) {
        // Its creator is between creating it and writing the first line.
        return Vec::new();
    }
    let mut removed = Vec::new();
    for ((kind, name), pending) in pending(&text) {
        if !name_is_ours(kind, &name) {
            continue;
        }
        let Some(st) = kind.current(&name) else {
            continue;
        };
        let ours = st.st_uid == geteuid().as_raw()
            && match pending {
                Pending::Made(identity) => Identity::of(&st) == identity,
                Pending::Maybe { since_ns } => {
                    let ctime = st.st_ctime as u128 * 1_000_000_000 + st.st_ctime_nsec as u128;
                    ctime >= since_ns
                }
            };
        if ours && kind.unlink(&name).is_ok() {
            audit(&format!("swept {} {}", kind.tag(), kind.display(&name)));
            removed.push(Swept {
                kind,
                object: kind.display(&name),
            });
        }
    }
    // Remove the lease, if the path still names this very file.
    if let (Ok(now), Ok(held)) = (lstat(path), fstat(file.as_fd()))
        && Identity::of(&now) == Identity::of(&held)
    {
        let _ = nix::unistd::unlink(path);
    }
    removed
}

/// True for a file changed less than [`NEWBORN`] ago.
fn is_newborn(file: &std::fs::File) -> bool {
    file.metadata()
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .is_some_and(|age| age < NEWBORN)
}

/// Only names with our prefix are ever removed: a segment or queue name
/// starting with it, or a path whose file name does.
fn name_is_ours(kind: Kind, name: &str) -> bool {
    match kind {
        Kind::SharedMemory | Kind::MessageQueue => name.starts_with(PREFIX),
        Kind::Fifo | Kind::Directory => {
            let path = Path::new(name);
            path.is_absolute()
                && path
                    .file_name()
                    .is_some_and(|n| n.as_bytes().starts_with(PREFIX.as_bytes()))
        }
    }
}

/// Appends `line` to the audit file named by [`AUDIT_VAR`], if set.
fn audit(line: &str) {
    let Some(path) = std::env::var_os(AUDIT_VAR) else {
        return;
    };
    if let Ok(mut file) = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
    {
        // One write: lines of several processes never mix.
        let _ = file.write_all(format!("{} {line}\n", std::process::id()).as_bytes());
    }
}

/// The run this process belongs to: its lease, shared with the processes
/// it forked.
#[derive(Debug)]
struct Run {
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
    /// Makes sure this process has a run (starting one, after sweeping the
    /// dead runs of the user, if it has none) and counts one more object
    /// of this process in it.
    fn join() {
        if lock_run().is_none() {
            // The next program removes a crashed run's objects: this one.
            let _ = sweep();
        }
        let mut run = lock_run();
        run.get_or_insert_with(Run::start).live += 1;
    }

    /// The identity of this process's lease, to skip it when sweeping.
    fn current_identity() -> Option<Identity> {
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
fn note(record: &Record) {
    if let Some(run) = lock_run().as_ref()
        && let Some((fd, _, _)) = &run.lease
    {
        let _ = nix::unistd::write(fd, record.line().as_bytes());
    }
}

/// This process removed or kept an object, or failed to make one. A run
/// without a tracker ends in its founder with its last object, so that its
/// lease does not outlive it.
fn released() {
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

/// Removes the lease at `path` if it is still the file `identity`.
fn remove_lease(path: &Path, identity: Identity) {
    if lstat(path).is_ok_and(|st| Identity::of(&st) == identity) {
        let _ = nix::unistd::unlink(path);
    }
}

/// Makes the lease of a run started by `founder`: written and locked
/// before it gets its name (`O_TMPFILE`, then `linkat(2)`), so that no
/// sweeper ever sees it unlocked; an older kernel gets `O_EXCL` and a
/// check for newborn leases instead.
fn make_lease(founder: Pid) -> Result<(OwnedFd, PathBuf, Identity)> {
    let header = format!(
        "{LEASE_MAGIC} pid={founder} start={} uid={} program={}\n",
        os::start_time(founder.as_raw()).unwrap_or(0),
        geteuid(),
        os::command_name()
    );
    let mode = Mode::S_IRUSR | Mode::S_IWUSR;
    for attempt in 0..8_u32 {
        let path = Path::new(LEASE_DIR).join(format!(
            "{LEASE_PREFIX}{founder}-{:08x}{}",
            os::process_token(),
            if attempt == 0 {
                String::new()
            } else {
                format!(".{attempt}")
            }
        ));
        let made = match nix::fcntl::open(
            LEASE_DIR,
            OFlag::O_TMPFILE | OFlag::O_RDWR | OFlag::O_CLOEXEC,
            mode,
        ) {
            Ok(fd) => prepare(&fd, &header, mode).and_then(|()| {
                let proc_path = format!("/proc/self/fd/{}", fd.as_raw_fd());
                nix::unistd::linkat(
                    AT_FDCWD,
                    proc_path.as_str(),
                    AT_FDCWD,
                    &path,
                    AtFlags::AT_SYMLINK_FOLLOW,
                )
                .map(|()| fd)
                .map_err(|errno| Error::sys("linkat", path.display().to_string(), errno))
            }),
            Err(_) => nix::fcntl::open(
                &path,
                OFlag::O_CREAT
                    | OFlag::O_EXCL
                    | OFlag::O_RDWR
                    | OFlag::O_NOFOLLOW
                    | OFlag::O_CLOEXEC,
                mode,
            )
            .map_err(|errno| Error::sys("open", path.display().to_string(), errno))
            .and_then(|fd| prepare(&fd, &header, mode).map(|()| fd)),
        };
        match made {
            Ok(fd) => {
                let identity =
                    Identity::of(&fstat(&fd).map_err(|errno| Error::sys("fstat", "lease", errno))?);
                return Ok((fd, path, identity));
            }
            Err(error) if error.errno() == Some(Errno::EEXIST) => continue,
            Err(error) => return Err(error),
        }
    }
    Err(Error::call("linkat", Errno::EEXIST))
}

/// Locks a new lease, sets its mode whatever the umask, writes its first
/// line.
fn prepare(fd: &OwnedFd, header: &str, mode: Mode) -> Result<()> {
    // SAFETY: flock(2) on a descriptor we own; it touches no memory.
    if unsafe { libc::flock(fd.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        return Err(Error::call("flock", Errno::last()));
    }
    fchmod(fd, mode).map_err(|errno| Error::sys("fchmod", "lease", errno))?;
    nix::unistd::write(fd, header.as_bytes())
        .map(drop)
        .map_err(|errno| Error::sys("write", "lease", errno))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_read_back_as_written() {
        let records = [
            Record::Intent {
                kind: Kind::Fifo,
                name: "/tmp/ipc-lab-a b".into(),
                at_ns: 12,
            },
            Record::Made {
                kind: Kind::SharedMemory,
                identity: Identity { dev: 3, ino: 4 },
                name: "ipc-lab-x".into(),
            },
            Record::Released {
                kind: Kind::MessageQueue,
                name: "ipc-lab-q".into(),
            },
        ];
        for record in records {
            let line = record.line();
            assert!(line.ends_with('\n'));
            assert_eq!(Record::parse(line.trim_end_matches('\n')), Some(record));
        }
        assert_eq!(Record::parse("garbage"), None);
        assert_eq!(Record::parse("= shm x y ipc-lab-x"), None);
    }

    #[test]
    fn a_lease_lists_what_was_made_and_not_released() {
        let text = "ipc-lab lease 1 pid=1\n\
                    + shm 5 ipc-lab-a\n= shm 1 2 ipc-lab-a\n\
                    + shm 6 ipc-lab-b\n= shm 1 3 ipc-lab-b\n- shm ipc-lab-b\n\
                    + fifo 7 /tmp/ipc-lab-c\n\
                    + mq 8 ipc-lab-d\n- mq ipc-lab-d\n";
        let left = pending(text);
        assert_eq!(left.len(), 2, "{left:?}");
        assert_eq!(
            left[&(Kind::SharedMemory, "ipc-lab-a".into())],
            Pending::Made(Identity { dev: 1, ino: 2 })
        );
        assert_eq!(
            left[&(Kind::Fifo, "/tmp/ipc-lab-c".into())],
            Pending::Maybe { since_ns: 7 }
        );
    }

    #[test]
    fn only_prefixed_names_can_be_swept() {
        assert!(name_is_ours(Kind::SharedMemory, "ipc-lab-x"));
        assert!(!name_is_ours(Kind::SharedMemory, "other"));
        assert!(name_is_ours(Kind::Fifo, "/tmp/ipc-lab-f"));
        assert!(!name_is_ours(Kind::Fifo, "/tmp/f"));
        assert!(!name_is_ours(Kind::Fifo, "ipc-lab-relative"));
        assert!(!name_is_ours(Kind::Directory, "/ipc-lab-x/etc"));
    }
}
