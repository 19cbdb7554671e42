//! What exp4-counter adds around the seed: `--name` and `--attach` (the
//! segment shared with another program), the default bound of `--fast`,
//! and what to do when a name is taken.

use ipc_core::name::PREFIX;
use ipc_core::{Error, IpcName, RawValue, Result};

use crate::{process_2, terminated, ticks};

/// How many ticks a `--fast` run without `--ticks` lasts: scripts use
/// `--fast`, and a run they start must end by itself. Twelve ticks are
/// the handout's run: process 1 increments twice.
pub const FAST_TICKS: u64 = 12;

/// The bound of a run: `--ticks N` if given, [`FAST_TICKS`] with `--fast`,
/// none (until Ctrl-C, as the seed) otherwise.
pub fn limit(ticks: Option<u64>, fast: bool) -> Option<u64> {
    ticks.or(fast.then_some(FAST_TICKS))
}

/// Which segment the program uses, and in which role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// Create a segment with a fresh name (`ipc-lab-PID-N-counter`) and run
    /// both processes.
    Unique,
    /// Create the segment under this name (it must not exist yet) and run
    /// both processes.
    Create(IpcName),
    /// Attach to an existing segment and run process 2's role only.
    Attach(IpcName),
}

impl Segment {
    /// The segment chosen by `--name` and `--attach` (`--attach` wins).
    pub fn from_flags(name: Option<IpcName>, attach: Option<IpcName>) -> Segment {
        match (name, attach) {
            (_, Some(name)) => Segment::Attach(name),
            (Some(name), None) => Segment::Create(name),
            (None, None) => Segment::Unique,
        }
    }
}

/// The error of creating the segment `name`, with what to do when the name
/// is taken (`EEXIST`): a run that has it can be watched with `--attach`,
/// and an object that no run holds any more is removed by
/// `scripts/clean.sh`. (A run that was killed is cleaned up by the next
/// ipc-lab program, before it creates anything.)
pub fn taken(name: &IpcName, error: Error) -> Error {
    match error {
        Error::Sys {
            call,
            errno: errno @ nix::errno::Errno::EEXIST,
            ..
        } => {
            // As the user typed it: `same`, not `ipc-lab-same`.
            let typed = name.as_str().strip_prefix(PREFIX).unwrap_or(name.as_str());
            Error::Sys {
                call,
                object: Some(format!(
                    "{} (taken: `exp4-counter --attach {typed}` watches the run that has it; \
                     if none runs, `scripts/clean.sh {typed}` removes it)",
                    name.path()
                )),
                errno,
            }
        }
        error => error,
    }
}

/// `--attach`: process 2's role on somebody else's segment, which is
/// never unlinked here. After every tick it checks that the segment is
/// still there: when the run that made it ends, it removes it, and there
/// is nothing left to watch.
///
/// # Errors
/// [`Error::InvalidArgument`] (exit code 2) when there is no such segment
/// or it is too small for the counter; as [`RawValue::open`];
/// [`Error::Removed`] (exit code 1) once the segment was removed.
pub fn observe(name: &IpcName, limit: Option<u64>) -> Result<()> {
    let shared_mem = RawValue::<u32>::open(name).map_err(|error| match error {
        Error::TooSmall { .. } => Error::InvalidArgument(format!("--attach {name}: {error}")),
        error if error.is_not_found() => Error::InvalidArgument(format!(
            "--attach {name}: {error} (start `exp4-counter --name {name}` first)"
        )),
        error => error,
    })?;
    let watch = || {
        for _ in ticks(limit) {
            process_2(&shared_mem, Some(1))?;
            if shared_mem.is_removed() {
                return Err(Error::Removed {
                    object: name.path(),
                });
            }
        }
        Ok(())
    };
    terminated("Process-2", watch())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attach_wins_over_name() {
        let a = IpcName::new("a").unwrap();
        let b = IpcName::new("b").unwrap();
        assert_eq!(Segment::from_flags(None, None), Segment::Unique);
        assert_eq!(
            Segment::from_flags(Some(a.clone()), None),
            Segment::Create(a.clone())
        );
        assert_eq!(
            Segment::from_flags(Some(a), Some(b.clone())),
            Segment::Attach(b)
        );
    }

    #[test]
    fn fast_alone_is_bounded_and_the_plain_run_is_not() {
        assert_eq!(limit(None, false), None);
        assert_eq!(limit(None, true), Some(FAST_TICKS));
        assert_eq!(limit(Some(3), true), Some(3));
        assert_eq!(limit(Some(3), false), Some(3));
    }

    #[test]
    fn a_taken_name_says_what_to_do() {
        let name = IpcName::new("same").unwrap();
        let error = taken(
            &name,
            Error::sys("shm_open", name.path(), nix::errno::Errno::EEXIST),
        );
        assert_eq!(
            error.to_string(),
            "shm_open /ipc-lab-same (taken: `exp4-counter --attach same` watches the run that \
             has it; if none runs, `scripts/clean.sh same` removes it): File exists"
        );
        assert_eq!(error.exit_code(), 1);
    }
}
