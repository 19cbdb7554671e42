//! `interprocess`: a local socket (on Linux a Unix stream socket, here in
//! the abstract namespace, so that no file is left behind), listened on
//! before the fork, connected to by the partner; fixed-size messages with
//! `write_all` and `read_exact`, as a user of a byte stream would.

use std::io::{ErrorKind, Read, Write};

use interprocess::local_socket::prelude::*;
use interprocess::local_socket::{GenericNamespaced, ListenerOptions, Stream};
use ipc_core::{IpcName, Result};

use super::failed;
use crate::measure::{Ctx, Gate, ping_loop, receive_all, send_for};
use crate::model::Measure;

/// A listener under a name of our own, and that name.
fn listen(tag: &str) -> Result<(LocalSocketListener, String)> {
    let name = format!(
        "{}.sock",
        IpcName::unique(tag)?.as_str().trim_start_matches('/')
    );
    let ns = name
        .clone()
        .to_ns_name::<GenericNamespaced>()
        .map_err(|e| failed("to_ns_name", e))?;
    let listener = ListenerOptions::new()
        .name(ns)
        .create_sync()
        .map_err(|e| failed("ListenerOptions::create_sync", e))?;
    Ok((listener, name))
}

/// The partner's end: it closes its copy of the `listener` (the parent
/// accepts), then connects to `name`.
fn connect(listener: &mut Option<LocalSocketListener>, name: &str) -> Result<Stream> {
    drop(listener.take());
    let ns = name
        .to_ns_name::<GenericNamespaced>()
        .map_err(|e| failed("to_ns_name", e))?;
    Stream::connect(ns).map_err(|e| failed("Stream::connect", e))
}

/// The parent's end: the partner's connection, accepted; the listener is
/// closed then.
fn accept(listener: &mut Option<LocalSocketListener>) -> Result<Stream> {
    let listener = listener.take().expect("the listener");
    listener.accept().map_err(|e| failed("Listener::accept", e))
}

/// Reads one message; false at the end of the stream.
fn read_msg(stream: &mut Stream, buf: &mut [u8]) -> Result<bool> {
    match stream.read_exact(buf) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == ErrorKind::UnexpectedEof => Ok(false),
        Err(e) => Err(failed("Stream::read_exact", e)),
    }
}

fn write_msg(stream: &mut Stream, msg: &[u8]) -> Result<()> {
    stream
        .write_all(msg)
        .map_err(|e| failed("Stream::write_all", e))
}

/// Ping-pong over one connection.
pub(crate) fn round_trip(ctx: &Ctx, size: usize) -> Result<Measure> {
    let (listener, name) = listen("bench-interprocess-rt")?;
    let mut listener = Some(listener);
    let partner = ctx.partner("pong", || {
        let mut stream = connect(&mut listener, &name)?;
        let mut buf = vec![0_u8; size];
        while read_msg(&mut stream, &mut buf)? {
            write_msg(&mut stream, &buf)?;
        }
        Ok(())
    })?;
    let mut stream = accept(&mut listener)?;
    let msg = vec![7_u8; size];
    let mut buf = vec![0_u8; size];
    let measured = ping_loop(ctx.duration, || {
        write_msg(&mut stream, &msg)?;
        if read_msg(&mut stream, &mut buf)? {
            Ok(())
        } else {
            Err(ipc_core::Error::Disconnected)
        }
    });
    drop(stream);
    partner.finish(ctx)?;
    measured
}

/// One-way throughput over one connection, read in 1 MiB chunks.
pub(crate) fn throughput(ctx: &Ctx, size: usize) -> Result<Measure> {
    let (listener, name) = listen("bench-interprocess-tp")?;
    let gate = Gate::new(1)?;
    let mut listener = Some(listener);
    let partner = ctx.partner("sender", || {
        let mut stream = connect(&mut listener, &name)?;
        let msg = vec![7_u8; size];
        gate.arrive(0)?;
        send_for(ctx.duration, size, || write_msg(&mut stream, &msg))?;
        Ok(())
    })?;
    let mut stream = accept(&mut listener)?;
    let mut buf = vec![0_u8; 1 << 20];
    let measured = receive_all(&gate, size, || {
        loop {
            match stream.read(&mut buf) {
                Ok(0) => return Ok(None),
                Ok(n) => return Ok(Some(n)),
                Err(e) if e.kind() == ErrorKind::Interrupted => ipc_core::signal::check()?,
                Err(e) => return Err(failed("Stream::read", e)),
            }
        }
    });
    partner.finish(ctx)?;
    measured
}
