//! Bytes a peer might send, fed to `ipc_core::connection`'s frame reader
//! and to both sides of its authkey handshake through a real
//! `socketpair(2)`, checking the promises: no panic, no wait once the
//! stream has ended, an outcome that a reference model of the format
//! predicts, and memory that stays proportional to the input.
//!
//! Shared by `tests/connection_property.rs` and the fuzz target
//! `fuzz/fuzz_targets/connection.rs` (which include this file by path,
//! beside `counting_alloc.rs`: the including crate declares both modules
//! at its root).

use std::io::{Read, Write};
use std::net::Shutdown;
use std::os::unix::net::UnixStream;
use std::time::Duration;

use ipc_core::Error;
use ipc_core::blocking::Deadline;
use ipc_core::connection::{self, Connection};

use crate::counting_alloc::allocating_at_most;

/// A bound no check comes near: every input has ended before it is read.
const BOUND: Duration = Duration::from_secs(10);

/// The key of the handshake checks.
pub const KEY: &[u8] = b"property key";

/// How a stream of frames ends, as the format says it must.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// Between frames (`Error::Disconnected`).
    Disconnected,
    /// Inside a frame, or a negative length (`Error::Message`).
    Broken,
    /// A length above the limit (`Error::MessageTooLarge`).
    TooLarge,
}

/// The reference model: the frames in `input` under `limit`, and how the
/// stream ends.
pub fn model(input: &[u8], limit: usize) -> (Vec<&[u8]>, End) {
    let mut frames = Vec::new();
    let mut rest = input;
    loop {
        if rest.is_empty() {
            return (frames, End::Disconnected);
        }
        let Some((head, tail)) = rest.split_first_chunk::<4>() else {
            return (frames, End::Broken);
        };
        rest = tail;
        let size = match i32::from_be_bytes(*head) {
            -1 => {
                let Some((long, tail)) = rest.split_first_chunk::<8>() else {
                    return (frames, End::Broken);
                };
                rest = tail;
                u64::from_be_bytes(*long)
            }
            n if n < 0 => return (frames, End::Broken),
            n => n as u64,
        };
        if size > limit as u64 {
            return (frames, End::TooLarge);
        }
        if (rest.len() as u64) < size {
            return (frames, End::Broken);
        }
        let (frame, tail) = rest.split_at(size as usize);
        frames.push(frame);
        rest = tail;
    }
}

/// A connection whose peer has sent `input` and closed its sending side
/// (it still reads what the connection sends); the peer's end.
fn fed(input: &[u8]) -> (Connection, UnixStream) {
    let (ours, mut theirs) = UnixStream::pair().expect("socketpair");
    theirs
        .write_all(input)
        .expect("the input fits the socket buffer");
    theirs.shutdown(Shutdown::Write).expect("shutdown");
    let mut conn = Connection::from_socket(ours.into());
    conn.set_timeout(Some(BOUND));
    (conn, theirs)
}

/// What the connection sent the peer, as frames (of at most 256 bytes).
fn sent(mut theirs: UnixStream, conn: Connection) -> Vec<Vec<u8>> {
    // Everything sent is queued at the peer already. Read it before the
    // connection closes: closing a Unix socket with input it never read
    // resets the stream.
    theirs.set_nonblocking(true).expect("O_NONBLOCK");
    let mut wire = Vec::new();
    let mut chunk = [0; 4096];
    loop {
        match theirs.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => wire.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
            Err(e) => panic!("reading what was sent: {e}"),
        }
    }
    drop(conn);
    let (frames, end) = model(&wire, 256);
    assert_eq!(
        end,
        End::Disconnected,
        "a frame we sent is not whole: {wire:02x?}"
    );
    frames.into_iter().map(<[u8]>::to_vec).collect()
}

/// The largest allocation a check of `input` may make: in proportion to
/// the input, plus the reader's first chunk (64 KiB) twice over.
fn allocation_bound(input: &[u8]) -> usize {
    4 * input.len() + (256 << 10)
}

/// Reads every frame of `input` with `limit`: they must be the model's,
/// and the stream must end the model's way, without waiting, twice (a
/// broken stream stays broken). Returns how many frames it read.
pub fn frames(input: &[u8], limit: usize) -> usize {
    let (want, end) = model(input, limit);
    let (mut conn, theirs) = fed(input);
    conn.set_limit(limit);
    let (got, error, again) =
        allocating_at_most(allocation_bound(input), "reading frames", input, || {
            let mut got = Vec::new();
            let error = loop {
                match conn.recv_bytes() {
                    Ok(frame) => got.push(frame),
                    Err(error) => break error,
                }
            };
            (got, error, conn.recv_bytes().map(|_| ()))
        });
    assert_eq!(got, want, "frames of {input:02x?} (limit {limit})");
    let kind = |error: &Error| match error {
        Error::Disconnected => Some(End::Disconnected),
        Error::Message(_) => Some(End::Broken),
        Error::MessageTooLarge { .. } => Some(End::TooLarge),
        _ => None,
    };
    assert_eq!(
        kind(&error),
        Some(end),
        "{error} for {input:02x?} (limit {limit})"
    );
    let again = again.expect_err("a stream that ended stays ended");
    let expected_again = if end == End::Disconnected {
        End::Disconnected
    } else {
        End::Broken
    };
    assert_eq!(
        kind(&again),
        Some(expected_again),
        "then {again} for {input:02x?}"
    );
    drop(theirs);
    got.len()
}

/// True when `challenge` is one ipc-core answers: `#CHALLENGE#` and a
/// Python 3.11 body (20 bytes), or a longer one with a `{md5}` or
/// `{sha256}` prefix. (Python 3.12's other digests are refused.)
pub fn answerable(challenge: &[u8]) -> bool {
    let Some(body) = challenge.strip_prefix(b"#CHALLENGE#") else {
        return false;
    };
    if body.len() < 20 {
        return false;
    }
    if body.len() == 20 {
        return true;
    }
    let Some(named) = body.strip_prefix(b"{") else {
        return false;
    };
    let Some(end) = named.iter().take(9).position(|&b| b == b'}') else {
        return false;
    };
    matches!(&named[..end], b"md5" | b"sha256")
}

/// Answers the challenge in `input` (a frame, then a verdict frame): the
/// outcome must be what the model predicts, every failure
/// `Error::Authentication`, and the answer sent of the right form.
/// Returns whether it succeeded.
pub fn answer(input: &[u8]) -> bool {
    let (frames, _) = model(input, 256);
    let (mut conn, theirs) = fed(input);
    let outcome = allocating_at_most(allocation_bound(input), "answering", input, || {
        connection::answer_challenge(&mut conn, KEY, Deadline::after(BOUND))
    });
    let challenge = frames.first().copied();
    let answered = challenge.is_some_and(answerable);
    let welcomed = answered && frames.get(1).is_some_and(|v| *v == b"#WELCOME#");
    match &outcome {
        Ok(()) => assert!(welcomed, "accepted {input:02x?}"),
        Err(Error::Authentication(_)) => assert!(!welcomed, "refused {input:02x?}: {outcome:?}"),
        Err(error) => panic!("{error} (not an authentication error) for {input:02x?}"),
    }
    let wire = sent(theirs, conn);
    if answered {
        let body = &challenge.unwrap_or_default()[11..];
        let answer = wire.first().expect("an answer was sent");
        let form_ok = match (body.len(), answer.len()) {
            (20, 16) => true,
            (_, 21) => answer.starts_with(b"{md5}") && body.starts_with(b"{md5}"),
            (_, 40) => answer.starts_with(b"{sha256}") && body.starts_with(b"{sha256}"),
            _ => false,
        };
        assert!(form_ok, "answered {body:02x?} with {answer:02x?}");
        assert_eq!(wire.len(), 1, "one answer, nothing else");
    } else {
        assert!(
            wire.is_empty(),
            "answered what it should not have: {wire:02x?}"
        );
    }
    outcome.is_ok()
}

/// Challenges a peer whose answer is `input`: it can never be right (the
/// challenge is random), so the outcome must be `Error::Authentication`,
/// with `#FAILURE#` sent whenever the answer was a whole frame.
pub fn deliver(input: &[u8]) {
    let (frames, _) = model(input, 256);
    let (mut conn, theirs) = fed(input);
    let outcome = allocating_at_most(allocation_bound(input), "delivering", input, || {
        connection::deliver_challenge(&mut conn, KEY, Deadline::after(BOUND))
    });
    match outcome {
        Err(Error::Authentication(_)) => {}
        other => panic!("{other:?} for the answer {input:02x?}"),
    }
    let wire = sent(theirs, conn);
    let challenge = wire.first().expect("a challenge was sent");
    assert!(
        challenge.starts_with(b"#CHALLENGE#{sha256}") && challenge.len() == 59,
        "{challenge:02x?}"
    );
    let verdict = wire.get(1).map(Vec::as_slice);
    if frames.is_empty() {
        assert_eq!(verdict, None, "no answer, no verdict");
    } else {
        assert_eq!(
            verdict,
            Some(&b"#FAILURE#"[..]),
            "for the answer {input:02x?}"
        );
    }
    assert!(wire.len() <= 2, "{wire:02x?}");
}

/// The fuzz target's entry: the first byte chooses the check (and, for
/// frames, the limit), the rest is what the peer sent.
pub fn check(data: &[u8]) {
    let Some((&choice, input)) = data.split_first() else {
        return;
    };
    match choice % 4 {
        0 | 1 => {
            // Limits from 0 to 2^31, so both the 4- and 8-byte lengths
            // meet ones above and below.
            let limit = 1_usize << (choice / 4 % 32);
            frames(input, limit - usize::from(choice & 1 == 1));
        }
        2 => {
            answer(input);
        }
        _ => deliver(input),
    }
}
