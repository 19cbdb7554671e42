//! Why a stream of bytes needs frames (`exp1-sockets framing`).
//!
//! A stream socket (TCP, or a Unix socket of type `SOCK_STREAM`) carries
//! bytes, not messages: what one side writes in three `write(2)`s the
//! other may read in one `read(2)`, or in pieces. A process forked as
//! `writer` writes the default run's three requests into one end of a
//! socket pair; the parent, once it has ended, reads the other end twice:
//! the first read cuts a request in two, the second gets the rest run
//! together. Then a process forked as `sender` sends the same requests
//! through ipc-core's `Connection`,
//! which puts each one's length in front of it (Python's
//! `multiprocessing.connection` format): three receives, three requests.
//!
//! ```text
//! Without frames, the writer writes 3 requests of 10 bytes: 'square 1 6', 'square 2 7', 'square 3 8'
//! A read of up to 8 bytes gets 'square 1'
//! The next read, of up to 64 bytes, gets ' 6square 2 7square 3 8'
//! With frames, each request goes after its length in 4 bytes: 00 00 00 0a 'square 1 6'
//! 3 receives get 'square 1 6', 'square 2 7', 'square 3 8'
//! ```

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use ipc_cli::say;
use ipc_core::connection::Connection;
use ipc_core::{Error, Process, Result};
use nix::errno::Errno;

use crate::protocol::{Request, shown};

/// How long the reader waits for a frame (the writer has sent them all
/// before the reader starts: this bounds a broken run).
const RECEIVE_TIMEOUT: Duration = Duration::from_secs(5);

/// The requests of the default run's three clients.
fn requests() -> Vec<Request> {
    (1..=3)
        .map(|client| Request::Square {
            client,
            number: crate::options::default_number(client),
        })
        .collect()
}

/// An error of the standard library, named as ipc-core names its own.
fn failed(call: &'static str, object: &str, error: &std::io::Error) -> Error {
    let errno = error.raw_os_error().map_or(Errno::EIO, Errno::from_raw);
    Error::sys(call, object, errno)
}

/// A connected pair of Unix stream sockets (`socketpair(2)`).
fn pair() -> Result<(UnixStream, UnixStream)> {
    UnixStream::pair().map_err(|e| failed("socketpair", "AF_UNIX SOCK_STREAM", &e))
}

/// The demonstration: the lines above.
///
/// # Errors
/// [`Error::Sys`] naming `socketpair`, `write`, `read` or `fork`; a
/// failed receive; a failed print.
pub fn run() -> Result<()> {
    let requests = requests();
    let texts: Vec<String> = requests.iter().map(|r| shown(&r.to_bytes())).collect();

    let (mut reader, mut writer) = pair()?;
    let size = requests[0].to_bytes().len();
    let count = requests.len();
    say!(
        "Without frames, the writer writes {count} requests of {size} bytes: {}",
        texts.join(", ")
    )?;
    Process::spawn("writer", || -> Result<()> {
        for request in &requests {
            writer
                .write_all(&request.to_bytes())
                .map_err(|e| failed("write", "the socket pair", &e))?;
        }
        Ok(())
    })?
    .join_ok()?;
    drop(writer);
    // Everything is there already: the reads need not wait.
    reader
        .set_nonblocking(true)
        .map_err(|e| failed("fcntl O_NONBLOCK", "the socket pair", &e))?;
    let mut read = |max: usize| -> Result<String> {
        let mut buf = vec![0; max];
        let n = reader
            .read(&mut buf)
            .map_err(|e| failed("read", "the socket pair", &e))?;
        Ok(shown(&buf[..n]))
    };
    say!("A read of up to 8 bytes gets {}", read(8)?)?;
    say!("The next read, of up to 64 bytes, gets {}", read(64)?)?;

    let (reader, writer) = pair()?;
    let (mut reader, mut writer) = (
        Connection::from_socket(reader.into()),
        Connection::from_socket(writer.into()),
    );
    let length = u32::try_from(size).unwrap_or(u32::MAX).to_be_bytes();
    let header: Vec<String> = length.iter().map(|b| format!("{b:02x}")).collect();
    say!(
        "With frames, each request goes after its length in 4 bytes: {} {}",
        header.join(" "),
        texts[0]
    )?;
    Process::spawn("sender", || -> Result<()> {
        requests.iter().try_for_each(|request| writer.send(request))
    })?
    .join_ok()?;
    reader.set_timeout(Some(RECEIVE_TIMEOUT));
    let received = (0..count)
        .map(|_| reader.recv::<Request>().map(|r| shown(&r.to_bytes())))
        .collect::<Result<Vec<String>>>()?;
    say!("{count} receives get {}", received.join(", "))
}
