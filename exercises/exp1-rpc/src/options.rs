//! The names and bounds of the experiment: the subject the procedures are
//! served on (`--subject`), the servers' queue group, how long a client
//! waits for an answer, and the seed's list (`--numbers` is in
//! [`crate::extras`]).

use std::time::Duration;

/// The subject the procedures are served on unless `--subject` says
/// otherwise.
pub const DEFAULT_SUBJECT: &str = "ipc-lab.exp1-rpc";

/// The queue group of the servers: each call goes to one of them.
pub const SERVERS: &str = "servers";

/// How long a client waits for an answer unless `--timeout` says
/// otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a server waits for a call before it looks again at its
/// count of calls and at the signals.
pub const SERVER_LOOK: Duration = Duration::from_secs(1);

/// The seed's list.
pub const MYLIST: [i64; 4] = [1, 2, 3, 4];
