//! Named pipes (FIFOs): a pipe with a name in the file system, so that two
//! unrelated processes can find it.
//!
//! A pipe made with `pipe(2)` has no name: only the process that made it and
//! its children can use it. A FIFO (`fifo(7)`, made with `mkfifo(3)`) is a
//! special file; any process allowed to open the path can read from it or
//! write to it, and the bytes travel through the kernel exactly as through a
//! pipe, never touching the disk.
//!
//! * [`Fifo::create`] makes the special file with mode 0600 exactly (the
//!   umask cannot widen or narrow it), refusing any existing path, a
//!   dangling symbolic link included. The handle that created it removes
//!   the path when dropped, in the creating process only.
//! * [`Fifo::open`] adopts a FIFO somebody else made (a shell's
//!   `mkfifo`, another program); it checks that the path is a FIFO and not a
//!   symbolic link, and never removes it. [`Fifo::create_or_open`] does
//!   whichever applies.
//! * [`FifoReader::open`] and [`FifoWriter::open`] open the path. As
//!   `fifo(7)` says, **opening for reading blocks until a writer opens it,
//!   and opening for writing blocks until a reader does**. A reader sees end
//!   of file once every writer has closed it; a writer whose reader has gone
//!   gets [`Error::Disconnected`] (`EPIPE`; Rust programs ignore SIGPIPE, so
//!   it is not death by signal).
//!
//! Every blocking call (open, read, write) notices SIGINT and SIGTERM after
//! [`crate::signal::install`]: the handlers are installed without
//! `SA_RESTART`, so the call fails with `EINTR` and returns
//! [`Error::Interrupted`]. An `EINTR` caused by any other signal is retried.
//! The flag is also checked before each call; a signal landing in the
//! instant between that check and the call itself is noticed only when the
//! call next wakes up, the price of plain blocking calls (no extra system
//! call per read or write).
//!
//! ```
//! use ipc_core::fifo::{Fifo, FifoReader, FifoWriter};
//! use ipc_core::Process;
//!
//! let fifo = Fifo::create(ipc_core::fifo::unique_path("doc").unwrap()).unwrap();
//! let mut writer = Process::spawn("writer", || -> ipc_core::Result<()> {
//!     // A separate process: it finds the FIFO by its path.
//!     let mut w = FifoWriter::open(fifo.path())?;
//!     w.write_line("hello through the FIFO")
//! })
//! .unwrap();
//! let mut reader = FifoReader::open(fifo.path()).unwrap();
//! assert_eq!(reader.read_line().unwrap().as_deref(), Some("hello through the FIFO"));
//! assert_eq!(reader.read_line().unwrap(), None, "end of file: the writer closed it");
//! assert!(writer.join().unwrap().success());
//! let path = fifo.path().to_owned();
//! drop(fifo);
//! assert!(!path.exists(), "its creator removed it");
//! ```

use std::ffi::OsStr;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::stat::{Mode, SFlag, fstat, lstat};

use crate::blocking;
use crate::error::{Error, Result};
use crate::name::IpcName;
use crate::owner::{FifoObject, Identity, Kind, ObjectName, Owner, check_trusted};
use crate::ready::Waitable;
use crate::trace;

/// The mode every FIFO is created with: read and write for its owner only.
pub const MODE: u32 = crate::owner::MODE;

/// The longest path accepted, in bytes (`PATH_MAX` less its NUL).
pub const MAX_PATH: usize = 4095;

/// The longest file name accepted, in bytes (`NAME_MAX`).
pub const MAX_NAME: usize = 255;

/// The longest line [`FifoReader::read_line`] returns, in bytes; a longer
/// one is an error rather than an unbounded allocation.
pub const MAX_LINE: usize = 1 << 20;

/// The directory default FIFO paths live in: `$XDG_RUNTIME_DIR` when it is
/// set to an absolute path of a directory that belongs to the user (as the
/// XDG base directory specification promises), otherwise the user's own
/// `/tmp/ipc-lab-user-UID` ([`owner::user_dir`](crate::owner::user_dir)),
/// never `/tmp` itself: a fixed name there would be every user's, and the
/// first to take it would block the others.
///
/// ```
/// let dir = ipc_core::fifo::default_dir().unwrap();
/// assert!(dir.is_absolute() && dir.is_dir());
/// assert_ne!(dir, std::path::Path::new("/tmp"));
/// ```
///
/// # Errors
/// As [`owner::user_dir`](crate::owner::user_dir), without
/// `$XDG_RUNTIME_DIR`.
pub fn default_dir() -> Result<PathBuf> {
    runtime_dir().map_or_else(crate::owner::user_dir, Ok)
}

/// `$XDG_RUNTIME_DIR` when it is set to an absolute path of a directory
/// that belongs to the user.
fn runtime_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(std::env::var_os("XDG_RUNTIME_DIR")?);
    let st = lstat(&dir).ok()?;
    let ours = dir.is_absolute()
        && SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits()) == SFlag::S_IFDIR
        && st.st_uid == nix::unistd::geteuid().as_raw();
    ours.then_some(dir)
}

/// The default path for the FIFO called `name`: `name` (which carries the
/// `ipc-lab-` prefix) inside [`default_dir`].
///
/// ```
/// use ipc_core::IpcName;
/// let path = ipc_core::fifo::default_path(&IpcName::new("exp3-fifo").unwrap()).unwrap();
/// assert!(path.ends_with("ipc-lab-exp3-fifo"));
/// ```
///
/// # Errors
/// As [`default_dir`].
pub fn default_path(name: &IpcName) -> Result<PathBuf> {
    Ok(default_dir()?.join(name.as_str()))
}

/// A fresh path for a FIFO of this process: `ipc-lab-PID-TOKEN-N-tag`
/// (see [`IpcName::unique`]) in `$XDG_RUNTIME_DIR`, or in the temporary
/// directory (`$TMPDIR`, else `/tmp`): nobody can guess the name, and
/// creating it fails rather than use a FIFO somebody else made there.
///
/// # Errors
/// [`Error::InvalidName`] if `tag` has characters a name cannot have.
pub fn unique_path(tag: &str) -> Result<PathBuf> {
    let dir = runtime_dir().unwrap_or_else(std::env::temp_dir);
    Ok(dir.join(IpcName::unique(tag)?.as_str()))
}

/// Checks that `path` can name a file: not empty, no NUL byte, at most
/// [`MAX_PATH`] bytes, a file name of at most [`MAX_NAME`] bytes that is
/// not `.` or `..`.
///
/// # Errors
/// [`Error::InvalidName`] saying what is wrong; no system call is made.
///
/// ```
/// use ipc_core::fifo::validate_path;
/// assert!(validate_path("/tmp/ipc-lab-x".as_ref()).is_ok());
/// assert!(validate_path("".as_ref()).is_err());
/// assert!(validate_path("/tmp/a\0b".as_ref()).is_err());
/// assert!(validate_path("/tmp/..".as_ref()).is_err());
/// ```
pub fn validate_path(path: &Path) -> Result<()> {
    let bad = |reason| {
        Err(Error::InvalidName {
            name: path.to_string_lossy().into_owned(),
            reason,
        })
    };
    let bytes = path.as_os_str().as_bytes();
    if bytes.is_empty() {
        return bad("the path is empty");
    }
    if bytes.contains(&0) {
        return bad("the path contains a NUL byte");
    }
    if bytes.contains(&b'\n') {
        return bad("the path contains a newline");
    }
    if bytes.len() > MAX_PATH {
        return bad("the path is longer than 4095 bytes");
    }
    match path.file_name().map(OsStr::as_bytes) {
        None => bad("the path does not end in a file name"),
        Some(name) if name.len() > MAX_NAME => bad("the file name is longer than 255 bytes"),
        Some(_) if bytes.ends_with(b"/") => bad("the path ends in '/'"),
        Some(_) => Ok(()),
    }
}

/// A FIFO in the file system, by path.
///
/// Made by [`Fifo::create`], it belongs to the process that created it: the
/// path is removed when this handle is dropped there (never in a forked
/// child holding a copy), unless [`Fifo::keep`] was called, and after a
/// crash by the run's tracker or the next program ([`crate::owner`]).
/// Adopted by [`Fifo::open`], it is never removed by this handle.
#[derive(Debug)]
pub struct Fifo {
    path: PathBuf,
    /// Who removes it; it also remembers the device and inode made, so
    /// that only that very file is ever removed.
    owner: Owner,
}

impl Fifo {
    /// Creates the FIFO `path` with mode 0600 (`mkfifo(3)`, then
    /// `fchmod`-ing it without following links, so that the umask does not
    /// matter), and checks the result with `lstat(2)`.
    ///
    /// An existing path is never reused: `mkfifo` fails with `EEXIST` on any
    /// existing file, a symbolic link (even a dangling one) included, so
    /// nothing is created or changed behind a planted link.
    ///
    /// # Errors
    /// [`Error::InvalidName`] for a bad path ([`validate_path`]);
    /// [`Error::Sys`] naming `mkfifo` (`File exists`, `No such file or
    /// directory` for a missing directory, `Permission denied`),
    /// `fchmodat` or `lstat`. After an error nothing is left behind.
    ///
    /// ```
    /// use std::os::unix::fs::{FileTypeExt, PermissionsExt};
    /// use ipc_core::fifo::{Fifo, unique_path};
    ///
    /// let fifo = Fifo::create(unique_path("create").unwrap()).unwrap();
    /// let meta = std::fs::symlink_metadata(fifo.path()).unwrap();
    /// assert!(meta.file_type().is_fifo());
    /// assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    /// assert!(fifo.is_owner());
    /// // The same path again: refused.
    /// assert_eq!(
    ///     Fifo::create(fifo.path()).unwrap_err().errno(),
    ///     Some(nix::errno::Errno::EEXIST)
    /// );
    /// ```
    pub fn create(path: impl AsRef<Path>) -> Result<Fifo> {
        let path = path.as_ref();
        validate_path(path)?;
        let ((), owner) = Owner::create::<FifoObject, _>(path, &(), |(), _| Ok(()))?;
        Ok(Fifo {
            path: path.to_owned(),
            owner,
        })
    }

    /// Adopts the existing FIFO `path`, made by somebody else: it must be a
    /// FIFO (a symbolic link is not followed: it is refused), belong to the
    /// calling user and be closed to others (mode 0600, see
    /// [`crate::owner::check_trusted`]). It is not removed when this
    /// handle is dropped.
    ///
    /// # Errors
    /// [`Error::InvalidName`] for a bad path; [`Error::Sys`] naming `lstat`
    /// (`No such file or directory`, see [`Error::is_not_found`]);
    /// [`Error::InvalidArgument`] when the path is not a FIFO;
    /// [`Error::Untrusted`] for a FIFO of another user, or one that others
    /// may open.
    pub fn open(path: impl AsRef<Path>) -> Result<Fifo> {
        let path = path.as_ref();
        validate_path(path)?;
        let ((), _, owner) = Owner::open::<FifoObject>(path)?;
        Ok(Fifo {
            path: path.to_owned(),
            owner,
        })
    }

    /// Creates the FIFO `path`, or adopts it if it exists already (with the
    /// checks of [`Fifo::open`]); [`Fifo::is_owner`] tells which happened.
    /// Two processes racing to create the same path both succeed: one
    /// creates, one adopts.
    ///
    /// # Errors
    /// As [`Fifo::create`] and [`Fifo::open`]: an existing path that is not
    /// a FIFO, is a symbolic link, or is not yours, is refused.
    pub fn create_or_open(path: impl AsRef<Path>) -> Result<Fifo> {
        let path = path.as_ref();
        validate_path(path)?;
        let ((), owner) = Owner::create_or_open::<FifoObject, _>(path, &(), |(), _, _| Ok(()))?;
        Ok(Fifo {
            path: path.to_owned(),
            owner,
        })
    }

    /// The path of the FIFO.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// True if this handle created the FIFO and will remove it.
    pub fn is_owner(&self) -> bool {
        self.owner.is_owner()
    }

    /// Leaves the FIFO in place when this handle is dropped.
    pub fn keep(&mut self) {
        self.owner.keep();
    }

    /// Opens the FIFO for reading; see [`FifoReader::open`].
    ///
    /// # Errors
    /// As [`FifoReader::open`].
    pub fn open_read(&self) -> Result<FifoReader> {
        FifoReader::open(&self.path)
    }

    /// Opens the FIFO for writing; see [`FifoWriter::open`].
    ///
    /// # Errors
    /// As [`FifoWriter::open`].
    pub fn open_write(&self) -> Result<FifoWriter> {
        FifoWriter::open(&self.path)
    }

    /// Lets a process blocked in opening this FIFO go on, as if its peer
    /// had come and gone at once: opens the FIFO for reading, then for
    /// writing, both without blocking (`O_NONBLOCK`), and closes both. A
    /// reader waiting in `open` then reads the end of file; a writer
    /// waiting in `open` gets [`Error::Disconnected`] at its first write
    /// (or the one after). Nothing is read or written, so processes that
    /// have the FIFO open already see no difference.
    ///
    /// For a parent whose children meet at the FIFO: if one ends before
    /// opening it (killed, or stopped by a closed standard output), the
    /// other would wait for it for ever. Call it repeatedly while the other
    /// still runs (it may not have reached its `open` yet), for instance
    /// from [`crate::process::join_all_with`].
    ///
    /// # Errors
    /// As [`FifoReader::open`], for either end.
    pub fn release_waiters(&self) -> Result<()> {
        let reader = open_fifo(&self.path, OFlag::O_RDONLY | OFlag::O_NONBLOCK)?;
        // Succeeds: this process is a reader now.
        let writer = open_fifo(&self.path, OFlag::O_WRONLY | OFlag::O_NONBLOCK)?;
        drop(writer);
        drop(reader);
        Ok(())
    }

    /// Removes the path now (`unlink(2)`), whoever created it, if it is
    /// still the FIFO this handle stands for. Processes that have the FIFO
    /// open keep using it; new ones cannot find it.
    ///
    /// # Errors
    /// [`Error::Sys`] naming `unlink`.
    pub fn remove(&mut self) -> Result<()> {
        self.owner.remove()
    }
}

/// The reading end of a FIFO, with a buffer for [`FifoReader::read_line`].
#[derive(Debug)]
pub struct FifoReader {
    end: End,
    buf: Vec<u8>,
    /// The unread bytes are `buf[pos..filled]`.
    pos: usize,
    filled: usize,
}

impl FifoReader {
    /// Opens the FIFO `path` for reading (`open(2)` with `O_RDONLY`,
    /// `O_NOFOLLOW` and `O_CLOEXEC`), then checks with `fstat(2)` that what
    /// was opened is a FIFO.
    ///
    /// **Blocks until a writer opens the FIFO** (`fifo(7)`), or until
    /// SIGINT/SIGTERM after [`crate::signal::install`].
    ///
    /// # Errors
    /// [`Error::InvalidName`] for a bad path; [`Error::Sys`] naming `lstat`
    /// or `open`; [`Error::InvalidArgument`] when the path is not a FIFO or
    /// is a symbolic link; [`Error::Interrupted`].
    pub fn open(path: impl AsRef<Path>) -> Result<FifoReader> {
        Ok(FifoReader {
            end: End::open(path.as_ref(), OFlag::O_RDONLY)?,
            buf: Vec::new(),
            pos: 0,
            filled: 0,
        })
    }

    /// The path this reader opened.
    pub fn path(&self) -> &Path {
        &self.end.path
    }

    /// Reads up to `out.len()` bytes (`read(2)`), blocking until some
    /// arrive. `Ok(0)` is end of file: every writer has closed the FIFO.
    ///
    /// # Errors
    /// [`Error::Sys`] naming `read`; [`Error::Interrupted`].
    pub fn read(&mut self, out: &mut [u8]) -> Result<usize> {
        if self.pos < self.filled {
            let n = out.len().min(self.filled - self.pos);
            out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
            self.pos += n;
            return Ok(n);
        }
        read_fd(self.end.fd.as_fd(), out, &self.end.path)
    }

    /// Reads one line, without its `\n`; `Ok(None)` at end of file. A last
    /// line without `\n` is returned as it is. Bytes that are not UTF-8 are
    /// replaced with `�`.
    ///
    /// # Errors
    /// As [`FifoReader::read`]; [`Error::MessageTooLarge`] for a line
    /// longer than [`MAX_LINE`] bytes.
    pub fn read_line(&mut self) -> Result<Option<String>> {
        let line = self.next_line()?;
        if let Some(line) = &line {
            trace::recv_next(self.end.channel, format_args!("'{line}'"));
        }
        Ok(line)
    }

    fn next_line(&mut self) -> Result<Option<String>> {
        let mut searched = self.pos;
        loop {
            if let Some(at) = self.buf[searched..self.filled]
                .iter()
                .position(|&b| b == b'\n')
            {
                let end = searched + at;
                let line = String::from_utf8_lossy(&self.buf[self.pos..end]).into_owned();
                self.pos = end + 1;
                return Ok(Some(line));
            }
            searched = self.filled;
            if self.filled - self.pos > MAX_LINE {
                return Err(Error::MessageTooLarge {
                    size: self.filled - self.pos,
                    limit: MAX_LINE,
                });
            }
            // Make room: move the partial line to the front, then grow.
            self.buf.copy_within(self.pos..self.filled, 0);
            searched -= self.pos;
            self.filled -= self.pos;
            self.pos = 0;
            if self.filled == self.buf.len() {
                let grown = (self.buf.len() * 2).clamp(4096, MAX_LINE + 2);
                self.buf.resize(grown, 0);
            }
            let n = read_fd(
                self.end.fd.as_fd(),
                &mut self.buf[self.filled..],
                &self.end.path,
            )?;
            if n == 0 {
                if self.filled == 0 {
                    return Ok(None);
                }
                let line = String::from_utf8_lossy(&self.buf[..self.filled]).into_owned();
                self.filled = 0;
                return Ok(Some(line));
            }
            self.filled += n;
        }
    }
}

impl AsFd for FifoReader {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.end.fd.as_fd()
    }
}

impl Waitable for FifoReader {
    /// The FIFO; ready while bytes wait in it or in what this end read
    /// ahead for [`FifoReader::read_line`], or once every writer is gone.
    fn wait_fd(&self) -> Result<BorrowedFd<'_>> {
        Ok(self.end.fd.as_fd())
    }

    fn has_buffered(&self) -> bool {
        self.pos < self.filled
    }
}

impl std::io::Read for FifoReader {
    /// As [`FifoReader::read`]; [`Error::Interrupted`] becomes an error of
    /// kind `Other` (not `Interrupted`, which `std::io` helpers retry).
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        FifoReader::read(self, out).map_err(std::io::Error::other)
    }
}

/// The writing end of a FIFO.
#[derive(Debug)]
pub struct FifoWriter {
    end: End,
    line: Vec<u8>,
}

/// What a reader and a writer of a FIFO both hold.
#[derive(Debug)]
struct End {
    fd: OwnedFd,
    path: PathBuf,
    /// The FIFO's id in the `--trace` timeline (the same in every process).
    channel: u64,
}

impl End {
    /// Opens `path`, which must be a FIFO, for `access` (see [`open_fifo`]).
    fn open(path: &Path, access: OFlag) -> Result<End> {
        Ok(End::of(open_fifo(path, access)?, path))
    }

    /// The end `fd`, opened on `path`.
    fn of(fd: OwnedFd, path: &Path) -> End {
        End {
            fd,
            path: path.to_owned(),
            channel: channel_of(path),
        }
    }
}

impl FifoWriter {
    /// Opens the FIFO `path` for writing (`open(2)` with `O_WRONLY`,
    /// `O_NOFOLLOW` and `O_CLOEXEC`), then checks with `fstat(2)` that what
    /// was opened is a FIFO.
    ///
    /// **Blocks until a reader opens the FIFO** (`fifo(7)`), or until
    /// SIGINT/SIGTERM after [`crate::signal::install`].
    ///
    /// # Errors
    /// As [`FifoReader::open`].
    pub fn open(path: impl AsRef<Path>) -> Result<FifoWriter> {
        Ok(FifoWriter {
            end: End::open(path.as_ref(), OFlag::O_WRONLY)?,
            line: Vec::new(),
        })
    }

    /// The path this writer opened.
    pub fn path(&self) -> &Path {
        &self.end.path
    }

    /// Writes all of `bytes` (`write(2)`, repeated after a partial write),
    /// blocking while the FIFO is full. Up to `PIPE_BUF` (4096) bytes are
    /// written at once, never interleaved with another writer's (`pipe(7)`).
    ///
    /// # Errors
    /// [`Error::Disconnected`] when no reader has the FIFO open any more
    /// (`EPIPE`); [`Error::Sys`] naming `write`; [`Error::Interrupted`].
    pub fn write_all(&mut self, mut bytes: &[u8]) -> Result<()> {
        while !bytes.is_empty() {
            let n = retry(
                || nix::unistd::write(&self.end.fd, bytes),
                "write",
                &self.end.path,
            )?;
            bytes = &bytes[n..];
        }
        Ok(())
    }

    /// Writes `line` and a `\n` in one `write(2)`, so that lines shorter
    /// than `PIPE_BUF` never mix with another writer's.
    ///
    /// # Errors
    /// As [`FifoWriter::write_all`].
    pub fn write_line(&mut self, line: &str) -> Result<()> {
        trace::send_next(self.end.channel, format_args!("'{line}'"));
        let mut buf = std::mem::take(&mut self.line);
        buf.clear();
        buf.extend_from_slice(line.as_bytes());
        buf.push(b'\n');
        let result = self.write_all(&buf);
        self.line = buf;
        result
    }
}

impl AsFd for FifoWriter {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.end.fd.as_fd()
    }
}

impl Waitable for FifoWriter {
    /// The FIFO's write end: ready once every reader is gone (`POLLERR`).
    fn wait_fd(&self) -> Result<BorrowedFd<'_>> {
        Ok(self.end.fd.as_fd())
    }
}

impl std::io::Write for FifoWriter {
    /// One `write(2)`; [`Error::Disconnected`] becomes an error of kind
    /// `BrokenPipe`, [`Error::Interrupted`] one of kind `Other`.
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        retry(
            || nix::unistd::write(&self.end.fd, bytes),
            "write",
            &self.end.path,
        )
        .map_err(|error| match error {
            Error::Disconnected => std::io::Error::new(std::io::ErrorKind::BrokenPipe, error),
            other => std::io::Error::other(other),
        })
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The id of the FIFO at `path` in the `--trace` timeline: from its
/// absolute path, so that a reader and a writer in two programs agree.
fn channel_of(path: &Path) -> u64 {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    trace::named_object(&absolute.to_string_lossy())
}

fn sys(call: &'static str, path: &Path, errno: Errno) -> Error {
    Error::sys(call, path.display().to_string(), errno)
}

/// Opens `path`, which must be a FIFO, for reading or writing.
fn open_fifo(path: &Path, access: OFlag) -> Result<OwnedFd> {
    validate_path(path)?;
    // A friendly refusal before opening anything that is not a FIFO (opening
    // a device can have effects), or a FIFO of somebody else (opening it
    // blocks until its owner's process comes); the fstat below checks that
    // what was opened is that very file.
    let st = lstat(path).map_err(|errno| sys("lstat", path, errno))?;
    FifoObject::ensure(&st, path)?;
    check_trusted(Kind::Fifo, &ObjectName::Path(path.to_owned()), &st)?;
    let flags = access | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    let fd = retry(
        || nix::fcntl::open(path, flags, Mode::empty()),
        "open",
        path,
    )
    .map_err(|error| match error.errno() {
        Some(Errno::ELOOP) => Error::InvalidArgument(format!(
            "{} is a symbolic link (not followed), not a FIFO",
            path.display()
        )),
        _ => error,
    })?;
    let opened = fstat(&fd).map_err(|errno| sys("fstat", path, errno))?;
    FifoObject::ensure(&opened, path)?;
    if Identity::of(&opened) != Identity::of(&st) {
        return Err(Error::InvalidArgument(format!(
            "{} was replaced while it was being opened",
            path.display()
        )));
    }
    Ok(fd)
}

fn read_fd(fd: BorrowedFd<'_>, out: &mut [u8], path: &Path) -> Result<usize> {
    retry(|| nix::unistd::read(fd, out), "read", path)
}

/// Runs a possibly blocking call on the FIFO `path` through
/// [`blocking::call`].
fn retry<T>(call: impl FnMut() -> nix::Result<T>, name: &'static str, path: &Path) -> Result<T> {
    blocking::call(name, path.display(), call)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{FileTypeExt, PermissionsExt};

    /// A fresh directory of this test, removed at the end.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(tag: &str) -> TempDir {
            let dir = std::env::temp_dir().join(IpcName::unique(tag).unwrap().as_str());
            std::fs::create_dir(&dir).unwrap();
            TempDir(dir)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn created_0600_and_removed_by_its_creator() {
        let dir = TempDir::new("fifo-create");
        let path = dir.0.join("f");
        let fifo = Fifo::create(&path).unwrap();
        let meta = std::fs::symlink_metadata(&path).unwrap();
        assert!(meta.file_type().is_fifo());
        assert_eq!(meta.permissions().mode() & 0o7777, 0o600);
        let adopted = Fifo::open(&path).unwrap();
        assert!(!adopted.is_owner());
        drop(adopted);
        assert!(path.exists(), "only the creator removes it");
        drop(fifo);
        assert!(std::fs::symlink_metadata(&path).is_err());
    }

    #[test]
    fn kept_fifo_stays_and_remove_removes() {
        let dir = TempDir::new("fifo-keep");
        let path = dir.0.join("f");
        let mut fifo = Fifo::create(&path).unwrap();
        fifo.keep();
        drop(fifo);
        assert!(path.exists());
        Fifo::open(&path).unwrap().remove().unwrap();
        assert!(!path.exists());
    }

    #[test]
    fn an_existing_path_is_never_reused_by_create() {
        let dir = TempDir::new("fifo-exists");
        let file = dir.0.join("file");
        std::fs::write(&file, "precious").unwrap();
        let err = Fifo::create(&file).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("mkfifo {}: File exists", file.display())
        );
        let err = Fifo::create_or_open(&file).unwrap_err();
        assert!(
            err.to_string().contains("is a regular file, not a FIFO"),
            "{err}"
        );
        assert_eq!(err.exit_code(), 2);
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "precious");
    }

    #[test]
    fn symbolic_links_are_not_followed() {
        let dir = TempDir::new("fifo-link");
        let target = dir.0.join("target");
        std::fs::write(&target, "precious").unwrap();
        let link = dir.0.join("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let dangling = dir.0.join("dangling");
        let nowhere = dir.0.join("nowhere");
        std::os::unix::fs::symlink(&nowhere, &dangling).unwrap();

        for path in [&link, &dangling] {
            assert_eq!(Fifo::create(path).unwrap_err().errno(), Some(Errno::EEXIST));
            let err = Fifo::create_or_open(path).unwrap_err();
            assert!(err.to_string().contains("symbolic link"), "{err}");
            let err = FifoReader::open(path).unwrap_err();
            assert!(err.to_string().contains("symbolic link"), "{err}");
            let err = FifoWriter::open(path).unwrap_err();
            assert!(err.to_string().contains("symbolic link"), "{err}");
        }
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious");
        assert!(!nowhere.exists(), "nothing created behind a dangling link");

        // A link to a real FIFO is refused as well.
        let fifo = Fifo::create(dir.0.join("real")).unwrap();
        let to_fifo = dir.0.join("to-fifo");
        std::os::unix::fs::symlink(fifo.path(), &to_fifo).unwrap();
        assert!(Fifo::open(&to_fifo).is_err());
    }

    #[test]
    fn bad_paths_are_refused_before_any_call() {
        for (path, reason) in [
            ("", "empty"),
            ("/tmp/a\0b", "NUL"),
            ("/tmp/x/", "ends in '/'"),
            ("/", "file name"),
        ] {
            match Fifo::create(path) {
                Err(Error::InvalidName { reason: r, .. }) => assert!(r.contains(reason), "{r}"),
                other => panic!("{path:?}: {other:?}"),
            }
        }
        let long_name = format!("/tmp/{}", "x".repeat(256));
        assert!(matches!(
            Fifo::create(&long_name),
            Err(Error::InvalidName { .. })
        ));
        let long_path = format!("/tmp/{}", "d/".repeat(2100));
        assert!(matches!(
            Fifo::create(long_path + "f"),
            Err(Error::InvalidName { .. })
        ));
        assert!(Fifo::create("/no/such/dir/f").unwrap_err().is_not_found());
        assert!(Fifo::open("/no/such/f").unwrap_err().is_not_found());
    }

    #[test]
    fn a_regular_file_cannot_be_opened_as_a_fifo() {
        let dir = TempDir::new("fifo-regular");
        let file = dir.0.join("file");
        std::fs::write(&file, "x").unwrap();
        let err = FifoReader::open(&file).unwrap_err();
        assert!(err.to_string().contains("regular file"), "{err}");
        let err = FifoReader::open(&dir.0).unwrap_err();
        assert!(err.to_string().contains("directory"), "{err}");
    }

    /// A FIFO opened both ways in one process (the read end without
    /// blocking first), so that no second process is needed.
    fn both_ends(path: &Path) -> (FifoReader, FifoWriter) {
        let fd = nix::fcntl::open(
            path,
            OFlag::O_RDONLY | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .unwrap();
        let writer = FifoWriter::open(path).unwrap(); // a reader exists: no block
        nix::fcntl::fcntl(&fd, nix::fcntl::FcntlArg::F_SETFL(OFlag::empty())).unwrap();
        let reader = FifoReader {
            end: End::of(fd, path),
            buf: Vec::new(),
            pos: 0,
            filled: 0,
        };
        (reader, writer)
    }

    #[test]
    fn lines_and_bytes_go_through() {
        let dir = TempDir::new("fifo-lines");
        let fifo = Fifo::create(dir.0.join("f")).unwrap();
        let (mut reader, mut writer) = both_ends(fifo.path());
        writer.write_line("First").unwrap();
        writer.write_line("second").unwrap();
        writer.write_all(b"third?\nno newline").unwrap();
        std::io::Write::write_all(&mut writer, b" at the end").unwrap();
        drop(writer);
        assert_eq!(reader.read_line().unwrap().as_deref(), Some("First"));
        let mut two = [0_u8; 2];
        assert_eq!(reader.read(&mut two).unwrap(), 2);
        assert_eq!(&two, b"se");
        let rest: Vec<String> = std::iter::from_fn(|| reader.read_line().unwrap()).collect();
        assert_eq!(rest, ["cond", "third?", "no newline at the end"]);
        assert_eq!(reader.read(&mut two).unwrap(), 0, "end of file");
    }

    #[test]
    fn a_long_line_crosses_buffer_refills() {
        let dir = TempDir::new("fifo-long");
        let fifo = Fifo::create(dir.0.join("f")).unwrap();
        let (mut reader, mut writer) = both_ends(fifo.path());
        let long = "y".repeat(10_000);
        let writing = std::thread::spawn(move || {
            writer.write_line(&long).unwrap();
            writer.write_line("after").unwrap();
        });
        assert_eq!(reader.read_line().unwrap().map(|l| l.len()), Some(10_000));
        assert_eq!(reader.read_line().unwrap().as_deref(), Some("after"));
        writing.join().unwrap();
        assert_eq!(reader.read_line().unwrap(), None);
    }

    #[test]
    fn writing_without_a_reader_is_disconnected_not_death() {
        let dir = TempDir::new("fifo-epipe");
        let fifo = Fifo::create(dir.0.join("f")).unwrap();
        let (reader, mut writer) = both_ends(fifo.path());
        drop(reader);
        assert!(matches!(
            writer.write_line("lost"),
            Err(Error::Disconnected)
        ));
        let err = std::io::Write::write(&mut writer, b"lost").unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::BrokenPipe);
    }

    #[test]
    fn the_default_dir_is_absolute() {
        assert!(default_dir().unwrap().is_absolute());
        let path = unique_path("t").unwrap();
        let name = path.file_name().unwrap().to_str().unwrap();
        assert!(name.starts_with(&format!("ipc-lab-{}-", std::process::id())));
        assert!(validate_path(&path).is_ok());
    }
}
