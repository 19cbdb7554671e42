//! Past one machine: NATS on loopback, request–reply round trips and
//! publish throughput through a private `nats-server`, beside the local
//! mechanisms (each row stands beside the duplex socket pair, the local
//! way to ask and be answered). Listed only when `nats-server` was found.

use crate::model::Mech;
use crate::net;
use crate::plan::{Job, Measurer, Plan, by_size};

pub(crate) fn jobs(plan: &Plan<'_>) -> Vec<Job> {
    if !plan.nats {
        return Vec::new();
    }
    const ROUND_TRIP: [(Mech, Measurer); 1] = [(Mech::Nats, net::round_trip)];
    const THROUGHPUT: [(Mech, Measurer); 1] = [(Mech::Nats, net::throughput)];
    by_size(&ROUND_TRIP, &THROUGHPUT, plan.sizes, |_, size| {
        size <= net::MAX_PAYLOAD
    })
}
