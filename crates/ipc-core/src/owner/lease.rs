//! A run's lease: the file `/dev/shm/ipc-lab-run@PID-TOKEN` where every
//! named object of the run is written down before it is made, with its
//! identity once it is, and struck out when it is removed or kept; made
//! locked, read back, and settled once its run is dead (what it still
//! lists removed, then the lease). Also the audit file
//! ([`AUDIT_VAR`]).

use std::collections::BTreeMap;
use std::fmt;
use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use nix::errno::Errno;
use nix::fcntl::{AT_FDCWD, AtFlags, OFlag};
use nix::sys::stat::{Mode, fchmod, fstat, lstat};
use nix::unistd::{Pid, geteuid};

use super::object::{Identity, Kind, ObjectName, SHM_DIR};
use crate::error::{Error, Result};
use crate::os;

/// Where leases live: the same `tmpfs` as the segments, cleared at boot.
pub const LEASE_DIR: &str = SHM_DIR;

/// The start of every lease's file name; `@` can never be part of an
/// [`crate::IpcName`], so no segment can be mistaken for a lease.
pub const LEASE_PREFIX: &str = "ipc-lab-run@";

/// The environment variable naming the audit file (see the module
/// documentation of [`crate::owner`]).
pub const AUDIT_VAR: &str = "IPC_LAB_AUDIT";

/// The first line of every lease.
const LEASE_MAGIC: &str = "ipc-lab lease 1";

/// How long a lease without its first line is taken for one being born.
const NEWBORN: Duration = Duration::from_secs(5);

/// One line of a lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Record {
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
    pub(super) fn line(&self) -> String {
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
pub(super) fn pending(text: &str) -> BTreeMap<(Kind, String), Pending> {
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
pub(super) enum Pending {
    /// Made, with this identity.
    Made(Identity),
    /// About to be made when the run died: whatever is at the name now is
    /// the run's only if it was changed after the intent.
    Maybe { since_ns: u128 },
}

/// Nanoseconds since the epoch, on the clock that stamps a file's ctime.
pub(super) fn now_ns() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |t| t.as_nanos())
}

/// An object removed by a sweep, or listed as one a sweep would remove.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Swept {
    /// Its kind.
    pub kind: Kind,
    /// Its name (shown as a person names it: `/ipc-lab-x`,
    /// `/tmp/ipc-lab-y`).
    pub name: ObjectName,
}

impl Swept {
    /// Where the object is in the file system (`/dev/shm/ipc-lab-x`,
    /// `/dev/mqueue/ipc-lab-q`, the path of a FIFO or a directory).
    pub fn path(&self) -> PathBuf {
        self.kind.location(&self.name)
    }
}

impl fmt::Display for Swept {
    /// `shared memory /dev/shm/ipc-lab-x`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind, self.path().display())
    }
}

/// Takes the lease's lock without waiting: true if no process of its run
/// lives any more (the lock is then held through `file` until it closes).
pub(super) fn try_lock(file: &std::fs::File) -> bool {
    // SAFETY: flock(2) on a descriptor we own; it touches no memory.
    unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) == 0 }
}

pub(super) fn read_all(mut file: &std::fs::File) -> String {
    let mut text = String::new();
    let _ = file.read_to_string(&mut text);
    text
}

/// Removes what the dead run of the lease `path` (open as `file`, its lock
/// held) still lists, then the lease itself.
pub(super) fn settle(path: &Path, file: &std::fs::File) -> Vec<Swept> {
    let text = read_all(file);
    if !text.starts_with(LEASE_MAGIC) && is_newborn(file) {
        // Its creator is between creating it and writing the first line.
        return Vec::new();
    }
    let mut removed = Vec::new();
    for ((kind, text), pending) in pending(&text) {
        let Some(name) = ObjectName::from_lease(kind, &text) else {
            continue;
        };
        if !name.is_ours() {
            continue;
        }
        let Some(st) = kind.stat(&name) else {
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
        if ours && kind.remove(&name).is_ok() {
            audit(&format!("swept {} {name}", kind.tag()));
            removed.push(Swept { kind, name });
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

/// Appends `line` to the audit file named by [`AUDIT_VAR`], if set.
pub(super) fn audit(line: &str) {
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

/// Makes the lease of a run started by `founder`: written and locked
/// before it gets its name (`O_TMPFILE`, then `linkat(2)`), so that no
/// sweeper ever sees it unlocked; an older kernel gets `O_EXCL` and a
/// check for newborn leases instead.
pub(super) fn make_lease(founder: Pid) -> Result<(OwnedFd, PathBuf, Identity)> {
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

/// Removes the lease at `path` if it is still the file `identity`.
pub(super) fn remove_lease(path: &Path, identity: Identity) {
    if lstat(path).is_ok_and(|st| Identity::of(&st) == identity) {
        let _ = nix::unistd::unlink(path);
    }
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
}
