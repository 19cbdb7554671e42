//! One error type for ipc-net: every failure names the server's URL (or
//! the bad input) and, where there is something to do, says what.

use std::fmt;
use std::time::Duration;

/// A `Result` whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong past one machine.
///
/// [`Error::exit_code`] maps each variant to the experiments' exit codes:
/// 2 for bad input (found before anything connects), 1 for a failure at
/// run time.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A server URL, subject, bucket or key name that cannot be used.
    Invalid {
        /// What it should have been (`server URL`, `subject`, `bucket name`).
        what: &'static str,
        /// The value as given.
        value: String,
        /// Why it was refused.
        reason: String,
    },
    /// An argument out of its range (a count of 0, conflicting flags).
    BadArgument(String),
    /// No `nats-server` binary was found.
    ServerNotFound {
        /// Where it was looked for, in order.
        tried: Vec<String>,
        /// The command that installs one (see
        /// [`crate::locate::install_command`]).
        install: String,
    },
    /// The private `nats-server` could not be started or did not get ready.
    Launch(String),
    /// No connection to the server could be made.
    Connect {
        /// The server URL(s).
        url: String,
        /// What the client said.
        reason: String,
    },
    /// The connection went away and did not come back in time.
    Lost {
        /// The server URL(s).
        url: String,
        /// What was going on (`waiting for a message on ipc-lab.exp1-mom`).
        during: String,
    },
    /// The server refused an operation (a JetStream error, a missing
    /// stream, a permission).
    Refused {
        /// The server URL(s).
        url: String,
        /// The operation (`create stream ipc-lab_exp1-mom`).
        what: String,
        /// What the server or the client said.
        reason: String,
    },
    /// A request that nobody answered.
    NoResponders {
        /// The server URL(s).
        url: String,
        /// The subject the request was sent to.
        subject: String,
        /// How long the caller kept asking.
        waited: Duration,
    },
    /// A bounded wait ran out.
    Timeout {
        /// The server URL(s).
        url: String,
        /// What did not happen (`no message arrived on ipc-lab.exp1-mom`).
        what: String,
        /// How long it was waited for.
        after: Duration,
    },
    /// A role process of an orchestrated run failed.
    RoleFailed {
        /// The role's name (`receiver 2`).
        role: String,
        /// How it ended (`was killed by SIGKILL`, `exited with code 1`).
        status: ipc_core::ExitStatus,
    },
    /// A remote procedure answered with an error of its own.
    Remote {
        /// The server URL(s).
        url: String,
        /// The subject the request went to.
        subject: String,
        /// What the remote side said.
        reason: String,
    },
    /// A message whose bytes are not what the protocol expects.
    BadMessage {
        /// The subject it came on.
        subject: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An error of ipc-core (a signal, a bad name, a system call).
    Core(ipc_core::Error),
    /// A failed operation on a file or a process.
    Io {
        /// The operation and its object (`mkdir /tmp/ipc-lab-nats-…`).
        what: String,
        /// What the system said.
        source: std::io::Error,
    },
}

impl Error {
    /// A refused input, before anything connects.
    pub fn invalid(what: &'static str, value: &str, reason: impl Into<String>) -> Error {
        Error::Invalid {
            what,
            value: value.to_owned(),
            reason: reason.into(),
        }
    }

    /// A failed operation on a file or a process.
    pub fn io(what: impl Into<String>, source: std::io::Error) -> Error {
        Error::Io {
            what: what.into(),
            source,
        }
    }

    /// The exit code an experiment ends with: 2 for bad input, 1 for
    /// everything else (as [`ipc_core::Error::exit_code`] for its errors).
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Invalid { .. } | Error::BadArgument(_) => 2,
            Error::Core(error) => error.exit_code(),
            _ => 1,
        }
    }

    /// True when a SIGINT or SIGTERM ended the operation.
    pub fn is_interrupted(&self) -> bool {
        matches!(self, Error::Core(ipc_core::Error::Interrupted))
    }
}

impl ipc_cli::Failure for Error {
    fn exit_code(&self) -> i32 {
        Error::exit_code(self)
    }
}

impl From<ipc_core::Error> for Error {
    fn from(error: ipc_core::Error) -> Self {
        Error::Core(error)
    }
}

/// Seconds as a person reads them: `2 s`, `0.5 s`.
pub(crate) struct Seconds(pub Duration);

impl fmt::Display for Seconds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0.as_secs_f64();
        if s.fract() == 0.0 {
            write!(f, "{s:.0} s")
        } else {
            write!(f, "{s:.1} s")
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Invalid {
                what,
                value,
                reason,
            } => write!(f, "invalid {what} {value:?}: {reason}"),
            Error::BadArgument(what) => write!(f, "invalid argument: {what}"),
            Error::ServerNotFound { tried, install } => write!(
                f,
                "nats-server not found (looked at: {}); install it with: {install}",
                tried.join(", ")
            ),
            Error::Launch(what) => write!(f, "starting nats-server: {what}"),
            Error::Connect { url, reason } => write!(
                f,
                "cannot connect to the NATS server at {url}: {reason} \
                 (is nats-server running there, and reachable from here?)"
            ),
            Error::Lost { url, during } => write!(
                f,
                "lost the connection to the NATS server at {url} while {during}: \
                 the server went away"
            ),
            Error::Refused { url, what, reason } => {
                write!(f, "{what}: refused by the NATS server at {url}: {reason}")
            }
            Error::NoResponders {
                url,
                subject,
                waited,
            } => write!(
                f,
                "no server answered on subject {subject} at {url} within {}",
                Seconds(*waited)
            ),
            Error::Timeout { url, what, after } => {
                write!(f, "{what} at {url} within {}", Seconds(*after))
            }
            Error::RoleFailed { role, status } => write!(f, "{role} {status}"),
            Error::Remote {
                url,
                subject,
                reason,
            } => write!(
                f,
                "the server that answered on {subject} at {url} reported an error: {reason}"
            ),
            Error::BadMessage { subject, reason } => {
                write!(f, "a malformed message on {subject}: {reason}")
            }
            Error::Core(error) => error.fmt(f),
            Error::Io { what, source } => write!(f, "{what}: {source}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Core(error) => Some(error),
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_input_exits_with_two_and_failures_with_one() {
        let bad = Error::invalid("subject", "a b", "contains a space");
        assert_eq!(bad.exit_code(), 2);
        assert_eq!(bad.to_string(), "invalid subject \"a b\": contains a space");
        let lost = Error::Lost {
            url: "nats://127.0.0.1:4222".into(),
            during: "waiting for a message".into(),
        };
        assert_eq!(lost.exit_code(), 1);
        assert!(lost.to_string().contains("nats://127.0.0.1:4222"), "{lost}");
        assert_eq!(Error::from(ipc_core::Error::Interrupted).exit_code(), 1);
        assert!(Error::from(ipc_core::Error::Interrupted).is_interrupted());
    }

    #[test]
    fn no_responders_names_the_subject_and_the_url() {
        let e = Error::NoResponders {
            url: "nats://h:1".into(),
            subject: "ipc-lab.exp1-rpc.square_list".into(),
            waited: Duration::from_millis(1500),
        };
        assert_eq!(
            e.to_string(),
            "no server answered on subject ipc-lab.exp1-rpc.square_list at nats://h:1 \
             within 1.5 s"
        );
    }

    #[test]
    fn a_missing_server_says_how_to_install_it() {
        let e = Error::ServerNotFound {
            tried: vec!["$IPC_LAB_NATS_SERVER (not set)".into()],
            install: "/w/scripts/install-nats.sh".into(),
        };
        assert!(e.to_string().contains("scripts/install-nats.sh"), "{e}");
    }
}
