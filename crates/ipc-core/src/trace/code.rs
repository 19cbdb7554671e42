//! What each [`Record`](super::Record) says happened, as a number: the
//! format between the recorder and its readers (`ipc-trace` makes its
//! events of them). The fields `a`, `b`, `c` and the text of a record mean
//! what each constant says.

/// A process started: `a` = its parent's pid.
pub const SPAWN: u32 = 1;
/// A process ended by itself: `c` = its exit code.
pub const EXIT: u32 = 2;
/// A process reaped a child: `a` = the child's pid, `c` = its status
/// (`-SIGNAL` for one a signal killed), the text its name.
pub const JOIN: u32 = 3;
/// A message was sent: `a` = the channel, `b` = the message's id, the text
/// the message.
pub const SEND: u32 = 4;
/// A message was received: as [`SEND`].
pub const RECV: u32 = 5;
/// The process starts waiting for the lock `a`.
pub const LOCK_WAIT: u32 = 6;
/// The process holds the lock `a` from now on.
pub const LOCK_ACQUIRE: u32 = 7;
/// The process lets the lock `a` go.
pub const LOCK_RELEASE: u32 = 8;
/// The process starts sleeping: `b` = how long it asked, in ns.
pub const SLEEP_BEGIN: u32 = 9;
/// The process woke up.
pub const SLEEP_END: u32 = 10;
/// A signal reached the process: `c` = its number.
pub const SIGNAL: u32 = 11;
/// The process printed the text.
pub const PRINT: u32 = 12;
/// A free-form mark: the text.
pub const MARK: u32 = 13;
/// Not an event: names an object (`a` = its id, the text its label, `b` =
/// the id of the lock that guards it, 0 for none).
pub const NAME: u32 = 14;
/// The process read element `b` of the shared data `a` (every element
/// when `c` is [`EVERY_ELEMENT`]): the text is what it read.
pub const READ: u32 = 15;
/// The process is about to write element `b` of the shared data `a`: the
/// text is the value.
pub const WRITE: u32 = 16;
/// The process found no unit in the semaphore `a` and will wait.
pub const SEM_WAIT: u32 = 17;
/// The process took a unit of the semaphore `a`: the text is what was left.
pub const SEM_ACQUIRE: u32 = 18;
/// The process is about to give a unit back to the semaphore `a`.
pub const SEM_RELEASE: u32 = 19;
/// `c` of a [`READ`] record that read every element.
pub const EVERY_ELEMENT: i64 = 1;
