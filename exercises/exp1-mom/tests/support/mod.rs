//! What the tests of exp1-mom share: a role started for a run of its own
//! and awaited until it listens.

use ipc_net::{Connection, RunId, ServerUrls};
use ipc_testkit::{Running, nats};

/// Starts exp1-mom's role `args` against the servers at `urls`, for a
/// run of its own, and returns once it said it listens (on the run's
/// ready subject, subscribed to before the start).
pub fn start_listening(urls: &ServerUrls, args: &[&str]) -> Running {
    let nc = Connection::connect(urls).unwrap();
    let id = RunId::fresh();
    let mut ready = nc.subscribe(&id.ready_subject()).unwrap();
    nats::start_announced(env!("CARGO_BIN_EXE_exp1-mom"), urls, &id, args, |slice| {
        ready.next_within(slice).unwrap()
    })
}
