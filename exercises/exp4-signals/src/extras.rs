//! What exp4-signals adds around the seed: its options (`--values`,
//! `--signals`, `--timings`), the reader's signals, and the helpers that
//! read a notice, count a burst, time the reader and end a role after
//! Ctrl-C.

use std::ops::RangeInclusive;
use std::time::Duration;

use ipc_cli::say;
use ipc_core::signal::{self, Inbox, Notice, Signo};
use ipc_core::{Error, Result};
use nix::time::{ClockId, clock_gettime};

/// How many values `--values` takes.
pub const COUNT: RangeInclusive<usize> = 1..=30;

/// The values `--values` takes: never [`crate::EMPTY`] (-1).
pub const VALUES: RangeInclusive<i32> = 0..=999_999;

/// How many signals of each kind `--signals` may send: the real-time ones
/// all wait in the reader's queue at once, which counts against the
/// user's `RLIMIT_SIGPENDING` (`ulimit -i`).
pub const SIGNALS: RangeInclusive<u64> = 1..=5000;

/// What `--signals` accepts, in words, for its error message.
pub const SIGNALS_NOTE: &str = "each kind waits, queued, in the reader at once";

/// `--values`' parser: a comma-separated list of [`COUNT`] whole numbers
/// in [`VALUES`] (`42,7,19`), or the rule in words.
///
/// ```
/// use exp4_signals::extras::values;
/// use ipc_cli::List;
/// assert_eq!(values("42, 7,0"), Ok(List(vec![42, 7, 0])));
/// for bad in ["", "1,,2", "x", "-1", "1000000", "1.5", &"1,".repeat(31)] {
///     assert!(values(bad).unwrap_err().contains("from 0 to 999999"), "{bad:?}");
/// }
/// ```
///
/// # Errors
/// The rule, whatever was wrong.
pub fn values(text: &str) -> std::result::Result<ipc_cli::List<i32>, String> {
    ipc_cli::whole_numbers(COUNT, VALUES, "-1 marks an empty slot")(text)
}

/// What a run does: the values the writer stores, the signals of each
/// kind its burst sends, and whether the reader prints its timings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The values, a slot each (the seed's 1 to 10 by default).
    pub values: Vec<i32>,
    /// The signals of each kind in the burst ([`crate::BURST`] by default).
    pub signals: u32,
    /// `--timings`: the reader prints the CPU time and the wake-ups its
    /// reads took.
    pub timings: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            values: crate::VALUES.to_vec(),
            signals: crate::BURST,
            timings: false,
        }
    }
}

/// The signals the reader takes, each from an inbox of its own, so that
/// it can wait for one while the others stay pending.
#[derive(Debug)]
pub struct Inboxes {
    /// "Data ready in slot N" ([`crate::data_ready`]).
    pub data_ready: Inbox,
    /// The burst's SIGUSR1.
    pub standard: Inbox,
    /// The burst's real-time signal ([`crate::queued`]).
    pub queued: Inbox,
    /// The end of the burst ([`crate::done`]).
    pub done: Inbox,
}

impl Inboxes {
    /// Blocks every signal the reader takes, in the calling process (and
    /// so in the processes it forks afterwards).
    ///
    /// # Errors
    /// As [`Inbox::block`].
    pub fn block() -> Result<Inboxes> {
        Ok(Inboxes {
            data_ready: Inbox::block(&[crate::data_ready()?])?,
            standard: Inbox::block(&[Signo::SIGUSR1])?,
            queued: Inbox::block(&[crate::queued()?])?,
            done: Inbox::block(&[crate::done()?])?,
        })
    }
}

/// The slot a data-ready notice names, checked against the array's
/// `len`: a signal from anyone else (`kill -s RTMIN`) is an error, never
/// a read out of bounds.
///
/// # Errors
/// [`Error::Message`] for a notice without a slot, or outside the array.
pub fn slot(notice: &Notice, len: usize) -> Result<usize> {
    notice
        .value()
        .and_then(|value| usize::try_from(value).ok())
        .filter(|&slot| slot < len)
        .ok_or_else(|| {
            Error::Message(format!(
                "a {} from pid {} named slot {:?}, but the array has slots 0 to {}",
                notice.signal(),
                notice.sender().map_or(0, nix::unistd::Pid::as_raw),
                notice.value(),
                len.saturating_sub(1)
            ))
        })
}

/// Takes every signal pending in `inbox`, without waiting, and returns
/// their values (0 for one sent without a value).
///
/// # Errors
/// As [`Inbox::try_next`].
pub fn drain(inbox: &mut Inbox) -> Result<Vec<i32>> {
    let mut values = Vec::new();
    while let Some(notice) = inbox.try_next()? {
        values.push(notice.value().unwrap_or(0));
    }
    Ok(values)
}

/// What arrived of `signal`, of which `sent` were sent:
/// `1000 received in order (values 1 to 1000)`, `1 received (value 1)`.
///
/// ```
/// use exp4_signals::extras::received;
/// assert_eq!(received(&[1, 2, 3]), "3 received in order (values 1 to 3)");
/// assert_eq!(received(&[1]), "1 received (value 1)");
/// assert_eq!(received(&[]), "0 received");
/// assert_eq!(received(&[1, 5, 2]), "3 received (values 1, 5, 2)");
/// assert_eq!(received(&[2, 3, 4, 5, 6, 7]), "6 received (values 2, 3, 4, 5, 6, …)");
/// ```
pub fn received(values: &[i32]) -> String {
    let n = values.len();
    let in_order = values.iter().copied().eq(1..=n as i32);
    match values {
        [] => "0 received".to_owned(),
        [one] => format!("1 received (value {one})"),
        _ if in_order => format!("{n} received in order (values 1 to {n})"),
        _ => {
            let shown: Vec<String> = values.iter().take(5).map(i32::to_string).collect();
            let more = if n > 5 { ", …" } else { "" };
            format!("{n} received (values {}{more})", shown.join(", "))
        }
    }
}

/// Prints what arrived of `signal`: `reader: SIGUSR1: 1000 sent, 1
/// received (value 1): 999 lost`.
///
/// # Errors
/// A failed write.
pub fn report(signal: Signo, sent: i32, values: &[i32]) -> Result<()> {
    let lost = i64::from(sent) - values.len() as i64;
    let verdict = if lost == 0 {
        "every one arrived".to_owned()
    } else {
        format!("{lost} lost")
    };
    say!(
        "reader: {signal}: {sent} sent, {}: {verdict}",
        received(values)
    )
}

/// The reader's use of the machine so far: its CPU time
/// (`CLOCK_PROCESS_CPUTIME_ID`) and its wake-ups (the voluntary context
/// switches of `/proc/self/status`: each time it slept and was woken).
#[derive(Debug, Clone, Copy)]
pub struct Usage {
    cpu: Duration,
    wakeups: u64,
}

impl Usage {
    /// The usage of the calling process now.
    pub fn now() -> Usage {
        let cpu =
            clock_gettime(ClockId::CLOCK_PROCESS_CPUTIME_ID).map_or(Duration::ZERO, Duration::from);
        let wakeups = std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|status| {
                status
                    .lines()
                    .find_map(|line| line.strip_prefix("voluntary_ctxt_switches:"))
                    .and_then(|n| n.trim().parse().ok())
            })
            .unwrap_or(0);
        Usage { cpu, wakeups }
    }

    /// Prints what `reads` reads took since `self`: `reader: 10 reads
    /// took 0.21 ms of CPU time and 11 wake-ups`.
    ///
    /// # Errors
    /// A failed write.
    pub fn print(&self, reads: usize) -> Result<()> {
        let now = Usage::now();
        let cpu = now.cpu.saturating_sub(self.cpu);
        say!(
            "reader: {reads} reads took {:.2} ms of CPU time and {} wake-ups",
            cpu.as_secs_f64() * 1000.0,
            now.wakeups.saturating_sub(self.wakeups)
        )
    }
}

/// A role's result as its process ends it: a signal is an orderly stop
/// (`writer: Interrupted`, exit code 0); any other error is printed and
/// exits with 1.
///
/// # Errors
/// Any error of `outcome` but [`Error::Interrupted`].
pub fn stop_on_signal(role: &str, outcome: Result<()>) -> Result<()> {
    signal::end_on_interrupt(outcome, |_| say!("{role}: Interrupted"))
}
