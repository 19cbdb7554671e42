//! What a `--trace` timeline shows of NATS: each message as an arrow from
//! its publisher to its receiver, even across programs and machines.
//!
//! While tracing ([`ipc_core::trace`]), a message carries its id in the
//! header [`HEADER`]; the channel is the subject's name, the same id on
//! every machine ([`ipc_core::trace::named_object`]), so that the traces of
//! two roles merged with `ipc-trace merge` pair each receive with its send.
//! While not tracing, nothing is added to the messages.
//!
//! A key-value entry ([`crate::kv`]) is shared data, not a message: each
//! one is an object of the timeline named by its subject,
//! `$KV.<bucket>.<key>` (the same id on every machine). A read records the
//! value and the revision it was at, a write the value and the revision
//! the server gave it, both as the data events of ipc-core with the
//! revision in place of an element's index (`write $KV.b.counter[13] =
//! 6`: revision 13 holds 6). A write is
//! recorded once the server has confirmed it, since only then is its
//! revision known: a read of the new value by another process may come
//! before it in the timeline by that round trip, but never at a lower
//! revision. A compare-and-set says which revision it was conditional on,
//! in a mark just before its write (`$KV.b.counter: compare-and-set on
//! revision 12`), or that it was refused (`… refused`).

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

/// Records the delivery of a stored message: by its message id when it
/// was stored with one (see [`storing`]), otherwise by the id its
/// [`HEADER`] carries, when a plain publish (see [`sending`]) on the
/// stream's subject was stored.
pub(crate) fn delivered(message: &async_nats::jetstream::Message) {
    if !trace::is_on() {
        return;
    }
    let headers = message.headers.as_ref();
    let id = match headers.and_then(|h| h.get("Nats-Msg-Id")) {
        Some(id) => Some(trace::id_of(id.as_str())),
        None => headers
            .and_then(|h| h.get(HEADER))
            .and_then(|v| v.as_str().parse::<u64>().ok()),
    };
    if let Some(id) = id {
        trace::recv(
            trace::named_object(&message.subject),
            id,
            format_args!("'{}'", String::from_utf8_lossy(&message.payload)),
        );
    }
}

/// The timeline's object for the entry `key` of `bucket` (its subject,
/// `$KV.<bucket>.<key>`), and that label.
fn entry_object(bucket: &str, key: &str) -> (u64, String) {
    let label = format!("$KV.{bucket}.{key}");
    (trace::named_object(&label), label)
}

/// Records a read of the entry `key` of `bucket` that found `value` at
/// `revision` (after the server answered).
pub(crate) fn entry_read(bucket: &str, key: &str, revision: u64, value: &[u8]) {
    if trace::is_on() {
        let (object, _) = entry_object(bucket, key);
        trace::read(object, revision, String::from_utf8_lossy(value));
    }
}

/// Records a write of `value` to the entry `key` of `bucket` that the
/// server confirmed at `revision`; `condition` is the revision a
/// compare-and-set required (`None` for a blind write).
pub(crate) fn entry_written(
    bucket: &str,
    key: &str,
    revision: u64,
    value: &[u8],
    condition: Option<u64>,
) {
    if trace::is_on() {
        let (object, label) = entry_object(bucket, key);
        if let Some(expected) = condition {
            trace::mark(format_args!(
                "{label}: compare-and-set on revision {expected}"
            ));
        }
        trace::write(object, revision, String::from_utf8_lossy(value));
    }
}

/// Records a compare-and-set of the entry `key` of `bucket` that the
/// server refused: the entry was no longer at revision `condition`.
pub(crate) fn entry_refused(bucket: &str, key: &str, condition: u64) {
    if trace::is_on() {
        let (_, label) = entry_object(bucket, key);
        trace::mark(format_args!(
            "{label}: compare-and-set on revision {condition} refused"
        ));
    }
}
