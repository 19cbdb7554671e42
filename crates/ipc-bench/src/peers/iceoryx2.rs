//! `iceoryx2`: publish-subscribe of `[u8]` slices through shared memory,
//! the way its own benchmark measures it: the sender loans a sample
//! (`loan_slice_uninit`), writes the message into it and sends it (an
//! offset pushed into a lock-free queue); the receiver polls `receive` and
//! gets the sample where it lies, here copied out into a buffer of its own.
//! Lossless: no safe overflow, and a sender that finds the receiver's
//! buffer full retries until it has room.
//!
//! Each process makes its own node after the fork, with iceoryx2's signal
//! handling off (ipc-core's handlers stay in charge). Its files go under a
//! root directory and a prefix of our own (`ipc-lab-PID-…`), removed at
//! the end, so that a leftover would be seen.

use std::sync::Once;

use iceoryx2::port::publisher::Publisher;
use iceoryx2::port::subscriber::Subscriber;
use iceoryx2::prelude::*;
use iceoryx2::service::port_factory::publish_subscribe::PortFactory as PubSub;
use ipc_core::{Error, IpcName, RawValue, Result};

use super::{failed, poll, settle};
use crate::measure::{Ctx, Gate, echo, ping_loop, receive_all, send_for};
use crate::model::Measure;

type Service = ipc::Service;

/// Where and how one measurement's iceoryx2 objects live.
struct Setup {
    config: Config,
    /// `ipc-lab-PID-N-tag`: the root directory's name, the files' prefix
    /// and the services' names.
    name: String,
    root: String,
}

impl Setup {
    fn new(tag: &str) -> Result<Setup> {
        static QUIET: Once = Once::new();
        QUIET.call_once(|| set_log_level(LogLevel::Fatal));
        let name = IpcName::unique(tag)?;
        let root = format!("/tmp/{}/", name.as_str());
        let mut config = Config::default();
        config.global.set_root_path(
            &Path::new(root.as_bytes()).map_err(|e| failed("iceoryx2 Path::new", e))?,
        );
        config.global.prefix = FileName::new(format!("{}-", name.as_str()).as_bytes())
            .map_err(|e| failed("iceoryx2 FileName::new", e))?;
        Ok(Setup {
            config,
            name: name.as_str().to_string(),
            root,
        })
    }

    fn node(&self) -> Result<Node<Service>> {
        NodeBuilder::new()
            .config(&self.config)
            .signal_handling_mode(SignalHandlingMode::Disabled)
            .create::<Service>()
            .map_err(|e| failed("iceoryx2 NodeBuilder::create", e))
    }
}

impl Drop for Setup {
    fn drop(&mut self) {
        // What the nodes leave once they are gone: empty directories, and
        // the shared-memory segment iceoryx2 keeps for every process of a
        // configuration (`…global_mgmt`), under our prefix. Only the
        // parent drops a `Setup` (the partner ends with `_exit`), after the
        // partner has ended.
        let _ = remove_empty_dirs(std::path::Path::new(&self.root));
        let prefix = format!("{}-", self.name);
        for entry in std::fs::read_dir("/dev/shm")
            .into_iter()
            .flatten()
            .flatten()
        {
            if entry.file_name().to_string_lossy().starts_with(&prefix) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}

/// Removes `dir` and the directories under it, if they hold no file.
fn remove_empty_dirs(dir: &std::path::Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            remove_empty_dirs(&entry.path())?;
        }
    }
    std::fs::remove_dir(dir)
}

/// One direction: a service of `[u8]` slices of up to `size` bytes, one
/// publisher and one subscriber, nothing lost.
fn service(node: &Node<Service>, name: &str, buffer: usize) -> Result<PubSub<Service, [u8], ()>> {
    let name = ServiceName::new(name).map_err(|e| failed("iceoryx2 ServiceName::new", e))?;
    node.service_builder(&name)
        .publish_subscribe::<[u8]>()
        .max_publishers(1)
        .max_subscribers(1)
        .history_size(0)
        .subscriber_max_buffer_size(buffer)
        .enable_safe_overflow(false)
        .open_or_create()
        .map_err(|e| failed("iceoryx2 publish_subscribe open_or_create", e))
}

fn publisher(
    service: &PubSub<Service, [u8], ()>,
    size: usize,
) -> Result<Publisher<Service, [u8], ()>> {
    let publisher = service
        .publisher_builder()
        .initial_max_slice_len(size.max(1))
        .backpressure_strategy(BackpressureStrategy::RetryUntilDelivered)
        .create()
        .map_err(|e| failed("iceoryx2 publisher create", e))?;
    // Not a message before the subscriber is there: it would be dropped.
    settle("iceoryx2 publisher", || {
        Ok(service.dynamic_config().number_of_subscribers() > 0)
    })?;
    Ok(publisher)
}

fn subscriber(
    service: &PubSub<Service, [u8], ()>,
    buffer: usize,
) -> Result<Subscriber<Service, [u8], ()>> {
    service
        .subscriber_builder()
        .buffer_size(buffer)
        .create()
        .map_err(|e| failed("iceoryx2 subscriber create", e))
}

/// Sends `msg` (an empty one says "stop").
fn send(publisher: &Publisher<Service, [u8], ()>, msg: &[u8]) -> Result<()> {
    let sample = publisher
        .loan_slice_uninit(msg.len())
        .map_err(|e| failed("iceoryx2 loan_slice_uninit", e))?;
    sample
        .write_from_slice(msg)
        .send()
        .map(drop)
        .map_err(|e| failed("iceoryx2 send", e))
}

/// Polls for the next message and copies it into `buf`; its length.
fn receive(subscriber: &Subscriber<Service, [u8], ()>, buf: &mut [u8]) -> Result<usize> {
    poll(|| match subscriber.receive() {
        Ok(Some(sample)) => {
            let payload = sample.payload();
            buf[..payload.len()].copy_from_slice(payload);
            Ok(Some(payload.len()))
        }
        Ok(None) => Ok(None),
        Err(e) => Err(failed("iceoryx2 receive", e)),
    })
}

/// Ping-pong over two services, one each way, both sides polling.
pub(crate) fn round_trip(ctx: &Ctx, size: usize) -> Result<Measure> {
    let setup = Setup::new("bench-iceoryx2-rt")?;
    let (there, back) = (
        format!("{}/there", setup.name),
        format!("{}/back", setup.name),
    );
    let partner = ctx.partner("pong", || {
        let node = setup.node()?;
        let there = service(&node, &there, 4)?;
        let back = service(&node, &back, 4)?;
        let rx = subscriber(&there, 4)?;
        let tx = publisher(&back, size)?;
        echo(
            &mut vec![0_u8; size],
            |buf| receive(&rx, buf),
            |msg| send(&tx, msg),
        )
    })?;
    let node = setup.node()?;
    let there_service = service(&node, &there, 4)?;
    let back_service = service(&node, &back, 4)?;
    let rx = subscriber(&back_service, 4)?;
    let tx = publisher(&there_service, size)?;
    let msg = vec![7_u8; size];
    let mut buf = vec![0_u8; size];
    let measured = ping_loop(ctx.duration, || {
        send(&tx, &msg)?;
        match receive(&rx, &mut buf)? {
            n if n == size => Ok(()),
            n => Err(Error::Message(format!(
                "iceoryx2 gave {n} bytes for {size}"
            ))),
        }
    });
    send(&tx, &[])?;
    partner.finish(ctx)?;
    measured
}

/// One-way throughput: a buffer of as many samples as the Queue's ring
/// has slots. The sender keeps its publisher (and so the samples still in
/// flight) until the receiver has seen the end: a publisher that goes away
/// takes its undelivered samples with it.
pub(crate) fn throughput(ctx: &Ctx, size: usize) -> Result<Measure> {
    let setup = Setup::new("bench-iceoryx2-tp")?;
    let name = format!("{}/stream", setup.name);
    let buffer = crate::raw::ring_capacity(size);
    let gate = Gate::new(1)?;
    let received = RawValue::<u32>::new(0)?;
    let partner = ctx.partner("sender", || {
        let node = setup.node()?;
        let stream = service(&node, &name, buffer)?;
        let tx = publisher(&stream, size)?;
        let msg = vec![7_u8; size];
        gate.arrive(0)?;
        send_for(ctx.duration, size, || send(&tx, &msg))?;
        send(&tx, &[])?;
        settle("iceoryx2 receiver", || Ok(received.get() != 0))
    })?;
    let node = setup.node()?;
    let stream = service(&node, &name, buffer)?;
    let rx = subscriber(&stream, buffer)?;
    let mut buf = vec![0_u8; size];
    let measured = receive_all(&gate, size, || {
        let n = receive(&rx, &mut buf)?;
        Ok((n > 0).then_some(n))
    });
    received.set(1);
    partner.finish(ctx)?;
    measured
}
