//! The sweep: what dead runs left (their leases, [`leases`]; removing
//! their objects, [`sweep`]) and what no lease lists ([`strays`]), for the
//! next program after a crash and for `scripts/clean.sh`.

use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::stat::{FileStat, Mode, SFlag, fstat, lstat};
use nix::unistd::geteuid;

use super::lease::{LEASE_DIR, LEASE_PREFIX, Swept, pending, read_all, settle, try_lock};
use super::object::{Identity, Kind, MQUEUE_DIR, ObjectName};
use super::run::Run;
use crate::error::{Error, Result};
use crate::name::PREFIX;

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
                .filter_map(|(kind, text)| {
                    let name = ObjectName::from_lease(kind, &text)?;
                    Some(Swept { kind, name })
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
