//! The peers: the Rust crates a user would pick instead of ipc-core,
//! measured the same way and in the same run (built with the `peers`
//! feature, on by default; nothing outside the bench depends on them).
//!
//! | crate | what carries a message | its ipc-core counterpart |
//! | --- | --- | --- |
//! | [`ipc-channel`](https://crates.io/crates/ipc-channel) | an `IpcBytesSender`/`IpcBytesReceiver` pair: a Unix `SOCK_SEQPACKET` socket, one `sendmsg`/`recvmsg` per message | `Queue` (`put`/`get`) |
//! | [`interprocess`](https://crates.io/crates/interprocess) | a local socket (a Unix stream socket in the abstract namespace), `write_all`/`read_exact` of fixed-size messages | `Queue` (`put`/`get`) |
//! | [`iceoryx2`](https://crates.io/crates/iceoryx2) | publish-subscribe of `[u8]` slices in shared memory: `loan_slice_uninit`, `write_from_slice`, `send`; the receiver polls `receive` | `Queue` (`claim`/`get_ref`, zero-copy) |
//!
//! Every receiver copies each message into a buffer of its own (the raw
//! floors do the same), so a zero-copy peer is not credited with work it
//! skipped.

use std::time::{Duration, Instant};

use crate::measure::back_off;
use ipc_core::blocking::{self, Deadline};
use ipc_core::{Error, Result};

pub(crate) mod iceoryx2;
pub(crate) mod interprocess;
pub(crate) mod ipc_channel;

/// An error of a peer crate, as an ipc-core error naming the call.
pub(crate) fn failed(call: &str, error: impl std::fmt::Debug) -> Error {
    Error::Message(format!("{call} failed: {error:?}"))
}

/// How long a polling receiver waits for a message before it says the
/// other side stopped (no measurement here waits for more than a few
/// milliseconds).
const SILENCE: Duration = Duration::from_secs(10);

/// Calls `poll` until it gives something: spinning, then yielding the CPU
/// (on one core the other side cannot run otherwise), and looking at the
/// signal flag now and then; after [`SILENCE`] it gives up. What a polling
/// peer's receiver does.
pub(crate) fn poll<T>(mut poll: impl FnMut() -> Result<Option<T>>) -> Result<T> {
    let mut spins = 0_u32;
    let mut since = None;
    loop {
        if let Some(value) = poll()? {
            return Ok(value);
        }
        if back_off::<2000, 256>(&mut spins)? {
            let since = *since.get_or_insert_with(Instant::now);
            if since.elapsed() >= SILENCE {
                return Err(Error::Message(format!(
                    "no message for {} s: the other side stopped sending",
                    SILENCE.as_secs()
                )));
            }
        }
    }
}

/// Waits (bounded) until `ready`, sleeping a millisecond between looks: for
/// the two sides of a peer to find each other before the clock starts.
pub(crate) fn settle(what: &str, mut ready: impl FnMut() -> Result<bool>) -> Result<()> {
    let within = Deadline::after(Duration::from_secs(10));
    blocking::poll(within, blocking::MOMENT, || Ok(ready()?.then_some(()))).map_err(|error| {
        match error {
            Error::Timeout => Error::Message(format!("{what}: the other side never showed up")),
            other => other,
        }
    })
}

/// The peers' rows: each peer's round trip and throughput at every size.
pub(crate) fn jobs(plan: &crate::plan::Plan<'_>) -> Vec<crate::plan::Job> {
    use crate::model::Mech;
    use crate::plan::{SizedRow, by_size};
    const ROWS: [SizedRow; 3] = [
        (
            Mech::IpcChannel,
            ipc_channel::round_trip,
            ipc_channel::throughput,
        ),
        (
            Mech::Interprocess,
            interprocess::round_trip,
            interprocess::throughput,
        ),
        (Mech::Iceoryx2, iceoryx2::round_trip, iceoryx2::throughput),
    ];
    by_size(&ROWS, plan.sizes, |_, _| true)
}
