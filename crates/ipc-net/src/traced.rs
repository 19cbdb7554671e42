//! What a `--trace` timeline shows of NATS: each message as an arrow from
//! its publisher to its receiver, even across programs and machines.
//!
//! While tracing ([`ipc_core::trace`]), a message carries its id in the
//! header [`HEADER`]; the channel is the subject's name, the same id on
//! every machine ([`ipc_core::trace::named_object`]), so that the traces of
//! two roles merged with `ipc-trace merge` pair each receive with its send.
//! While not tracing, nothing is added to the messages.

use async_nats::HeaderMap;
use ipc_core::trace;

/// The header that carries a message's id in the timeline.
pub const HEADER: &str = "Ipc-Lab-Trace";

/// Records the sending of `payload` on `subject`, before it is handed to
/// the client, and returns the headers that carry its id; `None` while not
/// tracing.
pub(crate) fn sending(subject: &str, payload: &[u8]) -> Option<HeaderMap> {
    if !trace::is_on() {
        return None;
    }
    let id = trace::next_message_id();
    trace::send(
        trace::named_object(subject),
        id,
        format_args!("'{}'", String::from_utf8_lossy(payload)),
    );
    let mut headers = HeaderMap::new();
    headers.insert(HEADER, id.to_string().as_str());
    Some(headers)
}

/// Records the receiving of `payload` on `subject`, if its `headers` carry
/// an id (it was sent by a traced program).
pub(crate) fn received(subject: &str, headers: Option<&HeaderMap>, payload: &[u8]) {
    if !trace::is_on() {
        return;
    }
    if let Some(id) = headers
        .and_then(|h| h.get(HEADER))
        .and_then(|v| v.as_str().parse::<u64>().ok())
    {
        trace::recv(
            trace::named_object(subject),
            id,
            format_args!("'{}'", String::from_utf8_lossy(payload)),
        );
    }
}

/// Records the storing of `payload` with the message id `id` on `subject`
/// (JetStream), before it is handed to the client: the id the stream keeps
/// with it pairs the receive, whichever receiver gets it.
pub(crate) fn storing(subject: &str, id: &str, payload: &[u8]) {
    if trace::is_on() {
        trace::send(
            trace::named_object(subject),
            trace::id_of(id),
            format_args!("'{}'", String::from_utf8_lossy(payload)),
        );
    }
}

/// Records the delivery of a stored message (see [`storing`]).
pub(crate) fn delivered(message: &async_nats::jetstream::Message) {
    if !trace::is_on() {
        return;
    }
    if let Some(id) = message
        .headers
        .as_ref()
        .and_then(|h| h.get("Nats-Msg-Id"))
        .map(|v| v.as_str().to_owned())
    {
        trace::recv(
            trace::named_object(&message.subject),
            trace::id_of(&id),
            format_args!("'{}'", String::from_utf8_lossy(&message.payload)),
        );
    }
}
