//! Names of shared-memory segments and message queues.
//!
//! POSIX shared memory (`shm_overview(7)`) and message queues
//! (`mq_overview(7)`) live in a flat namespace of names like `/name`, shared
//! by every user of the machine. Every name ipc-core uses starts with
//! [`PREFIX`], so that a leftover from a killed run can be recognised and
//! removed (`scripts/clean.sh`), and nothing else is ever touched.

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::error::{Error, Result};

/// The prefix of every name ipc-core creates.
pub const PREFIX: &str = "ipc-lab-";

/// The longest name, prefix included (`NAME_MAX`, the limit of a file name
/// in `/dev/shm`).
pub const MAX_LEN: usize = 255;

/// A validated name for a segment or a queue, always starting with
/// [`PREFIX`].
///
/// ```
/// use ipc_core::IpcName;
///
/// let name = IpcName::new("counter").unwrap();
/// assert_eq!(name.as_str(), "ipc-lab-counter");
/// assert_eq!(name.path(), "/ipc-lab-counter");
/// // A name that already carries the prefix keeps it once.
/// assert_eq!(IpcName::new("ipc-lab-counter").unwrap(), name);
/// assert!(IpcName::new("a/b").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IpcName(String);

impl IpcName {
    /// Validates `name` and puts [`PREFIX`] in front of it unless it is
    /// there already.
    ///
    /// Allowed: ASCII letters, digits, `-`, `_` and `.`, at most
    /// [`MAX_LEN`] bytes with the prefix. A leading `/` is accepted and
    /// dropped, as Python's `SharedMemory` does.
    ///
    /// # Errors
    /// [`Error::InvalidName`] saying what is wrong; no system call is made.
    pub fn new(name: &str) -> Result<Self> {
        let bad = |reason| {
            Err(Error::InvalidName {
                name: name.to_owned(),
                reason,
            })
        };
        let bare = name.strip_prefix('/').unwrap_or(name);
        if bare.is_empty() {
            return bad("it is empty");
        }
        if bare.contains('\0') {
            return bad("it contains a NUL byte");
        }
        if bare.contains('/') {
            return bad("it contains '/'");
        }
        if !bare
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        {
            return bad("only ASCII letters, digits, '-', '_' and '.' are allowed");
        }
        let full = if bare.starts_with(PREFIX) {
            bare.to_owned()
        } else {
            format!("{PREFIX}{bare}")
        };
        if full.len() > MAX_LEN {
            return bad("it is longer than 255 bytes with the ipc-lab- prefix");
        }
        Ok(IpcName(full))
    }

    /// A fresh name for an object of this process:
    /// `ipc-lab-PID-TOKEN-N-tag`.
    ///
    /// The pid tells a person which process made it; `TOKEN`, random and
    /// drawn once per process, keeps apart two processes of the same pid in
    /// different pid namespaces sharing `/dev/shm` (both pid 1, say);
    /// `N` counts the names of the process. Whether the object is still in
    /// use is not read from its name, but from its run's lease
    /// ([`crate::owner`]).
    ///
    /// # Errors
    /// [`Error::InvalidName`] if `tag` has characters a name cannot have.
    pub fn unique(tag: &str) -> Result<Self> {
        let (pid, token, n) = fresh();
        IpcName::new(&format!("{pid}-{token:08x}-{n}-{tag}"))
    }

    /// A fresh name of this process led by `tag`:
    /// `ipc-lab-TAG-PID-TOKEN-N`, for objects found by their tag (a
    /// private `nats-server`'s directory, `ipc-lab-nats-…`). As
    /// [`IpcName::unique`] otherwise.
    ///
    /// # Errors
    /// [`Error::InvalidName`] if `tag` has characters a name cannot have.
    ///
    /// ```
    /// let name = ipc_core::IpcName::led_by("nats").unwrap();
    /// assert!(name.as_str().starts_with(&format!("ipc-lab-nats-{}-", std::process::id())));
    /// ```
    pub fn led_by(tag: &str) -> Result<Self> {
        IpcName::new(tag)?;
        let (pid, token, n) = fresh();
        IpcName::new(&format!("{tag}-{pid}-{token:08x}-{n}"))
    }

    /// The name without the leading `/`: what Python's
    /// `SharedMemory(name=...)` and `ls /dev/shm` show.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name with its leading `/`, as `shm_open(3)` and `mq_open(3)`
    /// take it.
    pub fn path(&self) -> String {
        format!("/{}", self.0)
    }
}

/// This process's pid, its token and the next number of its names.
fn fresh() -> (u32, u32, u32) {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    (std::process::id(), crate::os::process_token(), n)
}

impl fmt::Display for IpcName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for IpcName {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        IpcName::new(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(name: &str) -> &'static str {
        match IpcName::new(name) {
            Err(Error::InvalidName { reason, .. }) => reason,
            other => panic!("{name:?} gave {other:?}"),
        }
    }

    #[test]
    fn rejects_what_cannot_be_a_name() {
        assert_eq!(reason(""), "it is empty");
        assert_eq!(reason("/"), "it is empty");
        assert_eq!(reason("a/b"), "it contains '/'");
        assert_eq!(reason("a\0b"), "it contains a NUL byte");
        assert!(reason("é").contains("ASCII"));
        assert!(reason("a b").contains("ASCII"));
        assert!(reason(&"x".repeat(256)).contains("255"));
    }

    #[test]
    fn the_longest_name_fits_exactly() {
        let longest = "x".repeat(MAX_LEN - PREFIX.len());
        assert_eq!(IpcName::new(&longest).unwrap().as_str().len(), MAX_LEN);
        assert!(IpcName::new(&format!("{longest}x")).is_err());
    }

    #[test]
    fn unique_names_differ_and_carry_the_pid_and_a_token() {
        let a = IpcName::unique("t").unwrap();
        let b = IpcName::unique("t").unwrap();
        assert_ne!(a, b);
        let pid = std::process::id().to_string();
        let token = format!("{:08x}", crate::os::process_token());
        assert!(
            a.as_str().starts_with(&format!("{PREFIX}{pid}-{token}-")),
            "{a}"
        );
        assert_eq!(a.path(), format!("/{a}"));
    }
}
