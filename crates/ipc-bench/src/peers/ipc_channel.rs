//! `ipc-channel` (Servo's): a bytes channel, `IpcBytesSender::send` and
//! `IpcBytesReceiver::recv`, made before the fork and inherited.

use ipc_channel::IpcError;
use ipc_channel::ipc::{self, IpcBytesReceiver, IpcBytesSender};
use ipc_core::{Error, Result};

use super::failed;
use crate::measure::{Ctx, Gate, ping_loop, receive_all, send_for};
use crate::model::Measure;

fn channel() -> Result<(IpcBytesSender, IpcBytesReceiver)> {
    ipc::bytes_channel().map_err(|e| failed("ipc_channel::ipc::bytes_channel", e))
}

fn send(tx: &IpcBytesSender, msg: &[u8]) -> Result<()> {
    tx.send(msg).map_err(|e| failed("IpcBytesSender::send", e))
}

/// A message, or `None` once every sender is gone.
fn recv(rx: &IpcBytesReceiver) -> Result<Option<Vec<u8>>> {
    match rx.recv() {
        Ok(msg) => Ok(Some(msg)),
        Err(IpcError::Disconnected) => Ok(None),
        Err(e) => Err(failed("IpcBytesReceiver::recv", e)),
    }
}

/// Ping-pong over two channels, one each way.
pub(crate) fn round_trip(ctx: &Ctx, size: usize) -> Result<Measure> {
    let (there_tx, there_rx) = channel()?;
    let (back_tx, back_rx) = channel()?;
    let mut there_tx = Some(there_tx);
    let partner = ctx.partner("pong", || {
        // The parent's sender, closed here so that its drop ends the loop.
        drop(there_tx.take());
        while let Some(msg) = recv(&there_rx)? {
            send(&back_tx, &msg)?;
        }
        Ok(())
    })?;
    drop(back_tx);
    let there_tx = there_tx.take().expect("the parent's sender");
    let msg = vec![7_u8; size];
    let measured = ping_loop(ctx.duration, || {
        send(&there_tx, &msg)?;
        recv(&back_rx)?.map(drop).ok_or(Error::Disconnected)
    });
    drop(there_tx);
    partner.finish(ctx)?;
    measured
}

/// One-way throughput through one channel; the sender's drop ends it.
pub(crate) fn throughput(ctx: &Ctx, size: usize) -> Result<Measure> {
    let (tx, rx) = channel()?;
    let gate = Gate::new(1)?;
    let mut tx = Some(tx);
    let partner = ctx.partner("sender", || {
        let tx = tx.take().expect("the sender");
        let msg = vec![7_u8; size];
        gate.arrive(0)?;
        send_for(ctx.duration, size, || send(&tx, &msg))?;
        Ok(())
    })?;
    drop(tx.take());
    let measured = receive_all(&gate, size, || Ok(recv(&rx)?.map(|msg| msg.len())));
    partner.finish(ctx)?;
    measured
}
