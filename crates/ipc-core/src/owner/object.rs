//! The named objects ipc-core makes, kind by kind: their names, which
//! object a name stands for (its device and inode), the trust check of an
//! existing one, and the one trait each kind implements once ([`Object`]):
//! make one under a name, refusing a taken one; look at it; open an
//! existing one; remove it (which is also how a half-made one is undone).

use std::borrow::Cow;
use std::fmt;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{AT_FDCWD, OFlag};
use nix::mqueue::{MQ_OFlag, MqAttr, MqdT, mq_attr_member_t, mq_open, mq_unlink};
use nix::sys::mman::{shm_open, shm_unlink};
use nix::sys::stat::{FchmodatFlags, FileStat, Mode, SFlag, fchmod, fchmodat, fstat, lstat, stat};
use nix::unistd::geteuid;

use crate::error::{Error, Result};
use crate::name::{IpcName, PREFIX};

/// The mode of every object ipc-core makes: read and write for its owner
/// only (a directory: 0700).
pub const MODE: u32 = 0o600;

/// Where segments are, as files: a `tmpfs`, cleared at boot.
pub const SHM_DIR: &str = "/dev/shm";

/// Where message queues show as files, when that file system is mounted.
pub const MQUEUE_DIR: &str = "/dev/mqueue";

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
    const ALL: [Kind; 4] = [
        Kind::SharedMemory,
        Kind::Fifo,
        Kind::MessageQueue,
        Kind::Directory,
    ];

    /// The word used in leases and the audit file.
    pub(crate) fn tag(self) -> &'static str {
        match self {
            Kind::SharedMemory => "shm",
            Kind::Fifo => "fifo",
            Kind::MessageQueue => "mq",
            Kind::Directory => "dir",
        }
    }

    pub(crate) fn from_tag(tag: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|kind| kind.tag() == tag)
    }

    /// The file type an object of this kind has.
    pub(crate) fn file_type(self) -> SFlag {
        match self {
            Kind::SharedMemory | Kind::MessageQueue => SFlag::S_IFREG,
            Kind::Fifo => SFlag::S_IFIFO,
            Kind::Directory => SFlag::S_IFDIR,
        }
    }

    /// Where the object `name` is in the file system: `/dev/shm/NAME` for
    /// a segment, `/dev/mqueue/NAME` for a queue (where that file system
    /// is mounted), the path itself for the others.
    pub fn location(self, name: &ObjectName) -> PathBuf {
        match (self, name) {
            (Kind::SharedMemory, ObjectName::Ipc(name)) => Path::new(SHM_DIR).join(name.as_str()),
            (Kind::MessageQueue, ObjectName::Ipc(name)) => {
                Path::new(MQUEUE_DIR).join(name.as_str())
            }
            (_, ObjectName::Ipc(name)) => PathBuf::from(name.as_str()),
            (_, ObjectName::Path(path)) => path.clone(),
        }
    }

    /// What the object `name` of this kind is now, or `None` if there is
    /// none (or the name is not one of this kind).
    pub(crate) fn stat(self, name: &ObjectName) -> Option<FileStat> {
        match (self, name) {
            (Kind::SharedMemory, ObjectName::Ipc(name)) => SegmentObject::stat(name),
            (Kind::MessageQueue, ObjectName::Ipc(name)) => QueueObject::stat(name),
            (Kind::Fifo, ObjectName::Path(path)) => FifoObject::stat(path),
            (Kind::Directory, ObjectName::Path(path)) => DirectoryObject::stat(path),
            _ => None,
        }
    }

    /// Removes the object `name` of this kind.
    pub(crate) fn remove(self, name: &ObjectName) -> std::result::Result<(), Errno> {
        match (self, name) {
            (Kind::SharedMemory, ObjectName::Ipc(name)) => SegmentObject::remove(name),
            (Kind::MessageQueue, ObjectName::Ipc(name)) => QueueObject::remove(name),
            (Kind::Fifo, ObjectName::Path(path)) => FifoObject::remove(path),
            (Kind::Directory, ObjectName::Path(path)) => DirectoryObject::remove(path),
            _ => Err(Errno::EINVAL),
        }
    }

    /// The call that removes an object of this kind, for messages.
    pub(crate) fn call(self) -> &'static str {
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

/// The name of a named object, as its owner and its run's lease keep it:
/// a validated [`IpcName`] for a segment or a queue (their flat
/// namespace), an absolute path for a FIFO or a directory.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ObjectName {
    /// A segment's or a queue's name.
    Ipc(IpcName),
    /// The absolute path of a FIFO or a directory.
    Path(PathBuf),
}

impl ObjectName {
    /// The name as a lease writes it: `ipc-lab-x`, or the path.
    pub(crate) fn lease_text(&self) -> Cow<'_, str> {
        match self {
            ObjectName::Ipc(name) => Cow::Borrowed(name.as_str()),
            ObjectName::Path(path) => path.to_string_lossy(),
        }
    }

    /// The name a lease wrote for an object of `kind`, if it is one: a
    /// valid [`IpcName`] for a segment or a queue, an absolute path for
    /// the others.
    pub(crate) fn from_lease(kind: Kind, text: &str) -> Option<ObjectName> {
        match kind {
            Kind::SharedMemory | Kind::MessageQueue => {
                // `IpcName::new` would add the prefix to a bare name: a
                // lease lists only names that carry it.
                text.starts_with(PREFIX)
                    .then(|| IpcName::new(text).ok())
                    .flatten()
                    .map(ObjectName::Ipc)
            }
            Kind::Fifo | Kind::Directory => {
                let path = Path::new(text);
                path.is_absolute()
                    .then(|| ObjectName::Path(path.to_owned()))
            }
        }
    }

    /// True when the name carries ipc-core's prefix (a path: its file
    /// name does): only such objects are ever removed after a crash.
    pub fn is_ours(&self) -> bool {
        match self {
            ObjectName::Ipc(name) => name.as_str().starts_with(PREFIX),
            ObjectName::Path(path) => {
                path.is_absolute()
                    && path
                        .file_name()
                        .is_some_and(|n| n.as_bytes().starts_with(PREFIX.as_bytes()))
            }
        }
    }
}

impl fmt::Display for ObjectName {
    /// How a person names it: `/ipc-lab-x` (as `shm_open(3)` and
    /// `mq_open(3)` take it), or the path.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ObjectName::Ipc(name) => f.write_str(&name.path()),
            ObjectName::Path(path) => write!(f, "{}", path.display()),
        }
    }
}

impl From<&IpcName> for ObjectName {
    fn from(name: &IpcName) -> Self {
        ObjectName::Ipc(name.clone())
    }
}

/// Which object a name stood for: its device and inode. A new object made
/// at the same name later has another inode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Identity {
    pub(crate) dev: u64,
    pub(crate) ino: u64,
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

/// The file type of `st`.
pub(crate) fn file_type(st: &FileStat) -> SFlag {
    SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits())
}

/// What kind of file `st` describes, for messages (`a regular file`).
pub(crate) fn file_type_name(st: &FileStat) -> &'static str {
    match file_type(st) {
        SFlag::S_IFREG => "a regular file",
        SFlag::S_IFDIR => "a directory",
        SFlag::S_IFLNK => "a symbolic link (not followed)",
        SFlag::S_IFCHR => "a character device",
        SFlag::S_IFBLK => "a block device",
        SFlag::S_IFSOCK => "a socket",
        SFlag::S_IFIFO => "a FIFO",
        _ => "not a FIFO",
    }
}

/// Refuses an existing object that the caller must not trust: one that
/// belongs to another user, is not of the expected kind, or that others
/// may open (any permission bit for group or others). `st` comes from
/// `fstat(2)` of the opened object (or `lstat(2)` of a FIFO before opening
/// it, which could block).
///
/// # Errors
/// [`Error::Untrusted`], naming the object and its owner or mode, and
/// saying what to do.
///
/// ```
/// use ipc_core::owner::{Kind, ObjectName, check_trusted};
///
/// let st = nix::sys::stat::stat("/").unwrap(); // root's directory, mode 0755
/// let err = check_trusted(Kind::Directory, &ObjectName::Path("/".into()), &st).unwrap_err();
/// if nix::unistd::geteuid().is_root() {
///     assert_eq!(
///         err.to_string(),
///         "/ has mode 0755: other users can open it (ipc-lab makes its objects 0700; \
///          `chmod 700 /` if it is yours and you trust it): not using it"
///     );
/// } else {
///     assert_eq!(err.to_string(), "/ belongs to uid 0, not to you: not using it");
/// }
/// ```
pub fn check_trusted(kind: Kind, name: &ObjectName, st: &FileStat) -> Result<()> {
    let untrusted = |reason: String| {
        Err(Error::Untrusted {
            object: name.to_string(),
            reason,
        })
    };
    let me = geteuid().as_raw();
    if st.st_uid != me {
        return untrusted(format!("belongs to uid {}, not to you", st.st_uid));
    }
    if file_type(st) != kind.file_type() {
        return untrusted(format!("is not a {kind}"));
    }
    let mode = st.st_mode & 0o7777;
    if mode & 0o077 != 0 {
        let private = if kind == Kind::Directory { 700 } else { 600 };
        return untrusted(format!(
            "has mode {mode:04o}: other users can open it (ipc-lab makes its objects 0{private}; \
             `chmod {private} {}` if it is yours and you trust it)",
            kind.location(name).display()
        ));
    }
    Ok(())
}

/// A name an object is made under, and how its owner and the run's lease
/// keep it.
pub trait Named {
    /// The name as the owner and the lease keep it: an [`IpcName`] as it
    /// is, a path made absolute (without resolving links).
    ///
    /// # Errors
    /// [`Error::Sys`] naming `getcwd`, [`Error::InvalidName`] for a path
    /// that is not UTF-8.
    fn object_name(&self) -> Result<ObjectName>;
}

impl Named for IpcName {
    fn object_name(&self) -> Result<ObjectName> {
        Ok(ObjectName::from(self))
    }
}

impl Named for Path {
    fn object_name(&self) -> Result<ObjectName> {
        absolute(self).map(ObjectName::Path)
    }
}

/// One kind of named object, and the calls that give it its life under a
/// name: implemented once per kind ([`SegmentObject`], [`FifoObject`],
/// [`QueueObject`], [`DirectoryObject`]), called by
/// [`Owner`](super::Owner) only, which writes each object into the run's
/// lease around them and undoes a half-made one with [`Object::remove`].
pub trait Object {
    /// The kind, as leases and the audit file name it.
    const KIND: Kind;
    /// The name the mechanism knows it by: an [`IpcName`], or the path as
    /// given.
    type Name: ?Sized + Named;
    /// What making one needs besides its name (a queue's size).
    type Spec: ?Sized;
    /// What making or opening one gives the mechanism: an open
    /// descriptor, or nothing.
    type Handle;

    /// Makes the object `name`, refusing a taken name (`EEXIST`, and
    /// nothing is made then). After it, the name exists.
    ///
    /// # Errors
    /// [`Error::Sys`] naming the call (`shm_open`, `mkfifo`, `mq_open`,
    /// `mkdir`).
    fn create(name: &Self::Name, spec: &Self::Spec) -> Result<Self::Handle>;

    /// Gives what [`Object::create`] made its mode whatever the umask, and
    /// returns its `fstat(2)` (or `lstat(2)`): the identity the lease
    /// records.
    ///
    /// # Errors
    /// [`Error::Sys`] naming the call; [`Error::InvalidArgument`] when a
    /// path no longer leads to what was made.
    fn settle(name: &Self::Name, handle: &Self::Handle) -> Result<FileStat>;

    /// Opens the existing object `name` (never following a link) and
    /// returns its `fstat(2)` (or `lstat(2)`), for the owner's trust
    /// check.
    ///
    /// # Errors
    /// [`Error::Sys`] naming the call (`No such file or directory`);
    /// [`Error::InvalidArgument`] for a file of another kind at the path.
    fn open(name: &Self::Name) -> Result<(Self::Handle, FileStat)>;

    /// What the object `name` is now, or `None` if there is none.
    fn stat(name: &Self::Name) -> Option<FileStat>;

    /// Removes the object `name`: what its owner does at its end, what
    /// the sweep does after a crash, and how a half-made one is undone.
    ///
    /// # Errors
    /// The errno of the call.
    fn remove(name: &Self::Name) -> std::result::Result<(), Errno>;
}

/// POSIX shared-memory segments (`shm_open(3)`), by [`IpcName`].
#[derive(Debug)]
pub enum SegmentObject {}

impl Object for SegmentObject {
    const KIND: Kind = Kind::SharedMemory;
    type Name = IpcName;
    type Spec = ();
    type Handle = OwnedFd;

    fn create(name: &IpcName, (): &()) -> Result<OwnedFd> {
        let path = name.path();
        shm_open(
            path.as_str(),
            OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_RDWR,
            Mode::from_bits_truncate(MODE),
        )
        .map_err(|errno| Error::sys("shm_open", &path, errno))
    }

    fn settle(name: &IpcName, fd: &OwnedFd) -> Result<FileStat> {
        fchmod(fd, Mode::from_bits_truncate(MODE))
            .map_err(|errno| Error::sys("fchmod", name.path(), errno))?;
        fstat(fd).map_err(|errno| Error::sys("fstat", name.path(), errno))
    }

    fn open(name: &IpcName) -> Result<(OwnedFd, FileStat)> {
        let path = name.path();
        let fd = shm_open(path.as_str(), OFlag::O_RDWR, Mode::empty())
            .map_err(|errno| Error::sys("shm_open", &path, errno))?;
        let st = fstat(&fd).map_err(|errno| Error::sys("fstat", &path, errno))?;
        Ok((fd, st))
    }

    fn stat(name: &IpcName) -> Option<FileStat> {
        stat(&Path::new(SHM_DIR).join(name.as_str())).ok()
    }

    fn remove(name: &IpcName) -> std::result::Result<(), Errno> {
        shm_unlink(name.path().as_str())
    }
}

/// POSIX message queues (`mq_open(3)`), by [`IpcName`].
#[derive(Debug)]
pub enum QueueObject {}

/// A new queue's size: how many messages it holds (`mq_maxmsg`) and the
/// largest one (`mq_msgsize`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueSize {
    /// The capacity, in messages.
    pub capacity: usize,
    /// The largest message, in bytes.
    pub msgsize: usize,
}

/// A message queue descriptor, closed when dropped.
#[derive(Debug)]
pub struct MqDescriptor(pub MqdT);

impl Drop for MqDescriptor {
    fn drop(&mut self) {
        // SAFETY: the descriptor was returned by mq_open and is closed only
        // here, once; it is being dropped, so it is never used again.
        let _ = unsafe { libc::mq_close(self.0.as_raw_fd()) };
    }
}

impl QueueObject {
    /// The error of a failed `mq_open` of `path`: `EMFILE` there usually
    /// means the user's `RLIMIT_MSGQUEUE` (bytes for all their queues) is
    /// used up, not that too many files are open, so the message says
    /// which limit and how to raise it.
    pub(crate) fn open_error(path: &str, errno: Errno) -> Error {
        match errno {
            Errno::EMFILE => Error::Sys {
                call: "mq_open",
                object: Some(format!(
                    "{path} (the RLIMIT_MSGQUEUE limit on the bytes of all your message queues \
                     is reached: `ulimit -q` shows it in bytes, `ulimit -q unlimited` or a \
                     smaller --capacity/--msgsize helps)"
                )),
                errno,
            },
            errno => Error::sys("mq_open", path, errno),
        }
    }
}

impl Object for QueueObject {
    const KIND: Kind = Kind::MessageQueue;
    type Name = IpcName;
    type Spec = QueueSize;
    type Handle = MqDescriptor;

    fn create(name: &IpcName, size: &QueueSize) -> Result<MqDescriptor> {
        let path = name.path();
        let attr = MqAttr::new(
            0,
            size.capacity as mq_attr_member_t,
            size.msgsize as mq_attr_member_t,
            0,
        );
        mq_open(
            path.as_str(),
            MQ_OFlag::O_CREAT | MQ_OFlag::O_EXCL | MQ_OFlag::O_RDWR | MQ_OFlag::O_CLOEXEC,
            Mode::from_bits_truncate(MODE),
            Some(&attr),
        )
        .map(MqDescriptor)
        .map_err(|errno| QueueObject::open_error(&path, errno))
    }

    fn settle(name: &IpcName, mqd: &MqDescriptor) -> Result<FileStat> {
        fchmod(mqd.0.as_fd(), Mode::from_bits_truncate(MODE))
            .and_then(|()| fstat(mqd.0.as_fd()))
            .map_err(|errno| Error::sys("fchmod", name.path(), errno))
    }

    fn open(name: &IpcName) -> Result<(MqDescriptor, FileStat)> {
        let path = name.path();
        let mqd = mq_open(
            path.as_str(),
            MQ_OFlag::O_RDWR | MQ_OFlag::O_CLOEXEC,
            Mode::empty(),
            None,
        )
        .map(MqDescriptor)
        .map_err(|errno| QueueObject::open_error(&path, errno))?;
        let st = fstat(mqd.0.as_fd()).map_err(|errno| Error::sys("fstat", &path, errno))?;
        Ok((mqd, st))
    }

    fn stat(name: &IpcName) -> Option<FileStat> {
        let mqd = mq_open(
            name.path().as_str(),
            MQ_OFlag::O_RDONLY | MQ_OFlag::O_NONBLOCK | MQ_OFlag::O_CLOEXEC,
            Mode::empty(),
            None,
        )
        .map(MqDescriptor)
        .ok()?;
        fstat(mqd.0.as_fd()).ok()
    }

    fn remove(name: &IpcName) -> std::result::Result<(), Errno> {
        mq_unlink(name.path().as_str())
    }
}

/// FIFOs (`mkfifo(3)`), by path (as given; the lease keeps it absolute).
#[derive(Debug)]
pub enum FifoObject {}

impl FifoObject {
    /// `Ok` when `st` is a FIFO; otherwise an error saying what is at
    /// `path` instead.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`]: `PATH is a regular file, not a FIFO`.
    pub(crate) fn ensure(st: &FileStat, path: &Path) -> Result<()> {
        if file_type(st) == SFlag::S_IFIFO {
            Ok(())
        } else {
            Err(Error::InvalidArgument(format!(
                "{} is {}, not a FIFO",
                path.display(),
                file_type_name(st)
            )))
        }
    }
}

impl Object for FifoObject {
    const KIND: Kind = Kind::Fifo;
    type Name = Path;
    type Spec = ();
    type Handle = ();

    fn create(path: &Path, (): &()) -> Result<()> {
        nix::unistd::mkfifo(path, Mode::from_bits_truncate(MODE))
            .map_err(|errno| sys("mkfifo", path, errno))
    }

    fn settle(path: &Path, (): &()) -> Result<FileStat> {
        fchmodat(
            AT_FDCWD,
            path,
            Mode::from_bits_truncate(MODE),
            FchmodatFlags::NoFollowSymlink,
        )
        .map_err(|errno| sys("fchmodat", path, errno))?;
        let st = lstat(path).map_err(|errno| sys("lstat", path, errno))?;
        if file_type(&st) != SFlag::S_IFIFO || st.st_mode & 0o7777 != MODE {
            return Err(Error::InvalidArgument(format!(
                "{}: not a FIFO of mode 0600 right after mkfifo (replaced?)",
                path.display()
            )));
        }
        Ok(st)
    }

    fn open(path: &Path) -> Result<((), FileStat)> {
        let st = lstat(path).map_err(|errno| sys("lstat", path, errno))?;
        FifoObject::ensure(&st, path)?;
        Ok(((), st))
    }

    fn stat(path: &Path) -> Option<FileStat> {
        lstat(path).ok()
    }

    fn remove(path: &Path) -> std::result::Result<(), Errno> {
        nix::unistd::unlink(path)
    }
}

/// Private directories, by absolute path, removed with everything in them.
#[derive(Debug)]
pub enum DirectoryObject {}

impl Object for DirectoryObject {
    const KIND: Kind = Kind::Directory;
    type Name = Path;
    type Spec = ();
    type Handle = ();

    fn create(path: &Path, (): &()) -> Result<()> {
        nix::unistd::mkdir(path, Mode::S_IRWXU).map_err(|errno| sys("mkdir", path, errno))
    }

    fn settle(path: &Path, (): &()) -> Result<FileStat> {
        fchmodat(
            AT_FDCWD,
            path,
            Mode::S_IRWXU,
            FchmodatFlags::NoFollowSymlink,
        )
        .and_then(|()| lstat(path))
        .map_err(|errno| sys("chmod", path, errno))
    }

    fn open(path: &Path) -> Result<((), FileStat)> {
        let st = lstat(path).map_err(|errno| sys("lstat", path, errno))?;
        Ok(((), st))
    }

    fn stat(path: &Path) -> Option<FileStat> {
        lstat(path).ok()
    }

    fn remove(path: &Path) -> std::result::Result<(), Errno> {
        std::fs::remove_dir_all(path)
            .map_err(|e| Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)))
    }
}

fn sys(call: &'static str, path: &Path, errno: Errno) -> Error {
    Error::sys(call, path.display().to_string(), errno)
}

/// `path` made absolute (without resolving links), as a lease records it.
fn absolute(path: &Path) -> Result<PathBuf> {
    let absolute = std::path::absolute(path).map_err(|e| {
        Error::sys(
            "getcwd",
            path.display().to_string(),
            Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)),
        )
    })?;
    if absolute.to_str().is_none() {
        return Err(Error::InvalidName {
            name: path.to_string_lossy().into_owned(),
            reason: "the path is not valid UTF-8",
        });
    }
    Ok(absolute)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_prefixed_names_come_back_from_a_lease_and_count_as_ours() {
        let name = |kind, text| ObjectName::from_lease(kind, text);
        assert!(name(Kind::SharedMemory, "ipc-lab-x").unwrap().is_ours());
        assert_eq!(name(Kind::SharedMemory, "other"), None);
        assert_eq!(name(Kind::MessageQueue, "ipc-lab-../x"), None);
        assert!(name(Kind::Fifo, "/tmp/ipc-lab-f").unwrap().is_ours());
        assert!(!name(Kind::Fifo, "/tmp/f").unwrap().is_ours());
        assert_eq!(name(Kind::Fifo, "ipc-lab-relative"), None);
        assert!(!name(Kind::Directory, "/ipc-lab-x/etc").unwrap().is_ours());
    }

    #[test]
    fn names_read_as_a_person_writes_them() {
        let segment = ObjectName::from(&IpcName::new("x").unwrap());
        assert_eq!(segment.to_string(), "/ipc-lab-x");
        assert_eq!(segment.lease_text(), "ipc-lab-x");
        assert_eq!(
            Kind::MessageQueue.location(&segment),
            Path::new("/dev/mqueue/ipc-lab-x")
        );
        assert_eq!(
            Kind::SharedMemory.location(&segment),
            Path::new("/dev/shm/ipc-lab-x")
        );
        let fifo = ObjectName::Path("/tmp/ipc-lab-f".into());
        assert_eq!(fifo.to_string(), "/tmp/ipc-lab-f");
        assert_eq!(Kind::Fifo.location(&fifo), Path::new("/tmp/ipc-lab-f"));
        for kind in Kind::ALL {
            assert_eq!(Kind::from_tag(kind.tag()), Some(kind));
        }
    }
}
