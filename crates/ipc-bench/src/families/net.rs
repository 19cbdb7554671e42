//! Past one machine: NATS on loopback, request–reply round trips and
//! publish throughput through a private `nats-server`, beside the local
//! mechanisms (each row stands beside the duplex socket pair, the local
//! way to ask and be answered). Listed only when `nats-server` was found.

use crate::model::Mech;
use crate::net;
use crate::plan::{Job, Plan, SizedRow, by_size};

pub(crate) fn jobs(plan: &Plan<'_>) -> Vec<Job> {
    if !plan.nats {
        return Vec::new();
    }
    const ROWS: [SizedRow; 1] = [(Mech::Nats, net::round_trip, net::throughput)];
    by_size(&ROWS, plan.sizes, |_, size| size <= net::MAX_PAYLOAD)
}
