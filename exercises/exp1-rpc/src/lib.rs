//! Seed 000's procedures as remote procedure calls over NATS.
//!
//! Seed 000's child process squares a list and sums the squares; its parent
//! reads both from shared memory. Here the same two procedures,
//! [`square_list`] and [`sum_of_squares`], run in a *server* process,
//! possibly on another machine, and a *client* calls them as if they were
//! local functions, through a *stub* ([`Squares`]):
//!
//! ```text
//! client                                   server
//! squares.square_list(&[1, 2, 3, 4])
//!   stub: marshal the call         ──►     skeleton: unmarshal, dispatch
//!   {"procedure":"square_list",            square_list(&[1, 2, 3, 4])
//!    "mylist":[1,2,3,4]}                   marshal the result
//!   stub: unmarshal the reply      ◄──     {"result":[1,4,9,16]}
//! Ok(vec![1, 4, 9, 16])
//! ```
//!
//! The messages travel by NATS request–reply: the request carries a reply
//! subject (an "inbox") that only this client listens on, and one server of
//! the queue group `servers` answers there.
//!
//! Beside this file: the JSON of the calls, read as hostile
//! ([`marshal`]), the names and bounds ([`options`], and `--numbers` in
//! [`extras`]), the roles and the run that starts them ([`roles`]).

pub mod extras;
pub mod marshal;
pub mod options;
pub mod roles;

use std::time::Duration;

use ipc_cli::say;
use ipc_core::PyList;
use ipc_net::printable::escaped_bytes;
use ipc_net::{Connection, Result, RunId, Subject, announce_ready};
use serde_json::{Value, json};

pub use options::{DEFAULT_SUBJECT, DEFAULT_TIMEOUT, MYLIST, SERVERS};

/// Seed 000's `square_list`: the square of each number.
///
/// ```
/// assert_eq!(exp1_rpc::square_list(&[1, 2, 3, 4]), Ok(vec![1, 4, 9, 16]));
/// assert!(exp1_rpc::square_list(&[i64::MAX]).is_err());
/// ```
///
/// # Errors
/// A message when a square does not fit in an `i64`.
pub fn square_list(mylist: &[i64]) -> std::result::Result<Vec<i64>, String> {
    // STUDENT: the square of each number (checked_mul: a square too large is an Err)
    mylist
        .iter()
        .map(|&num| {
            num.checked_mul(num)
                .ok_or_else(|| format!("the square of {num} does not fit in 64 bits"))
        })
        .collect()
    // END STUDENT
}

/// The sum of the squares (the seed's `square_sum.value`).
///
/// ```
/// assert_eq!(exp1_rpc::sum_of_squares(&[1, 2, 3, 4]), Ok(30));
/// ```
///
/// # Errors
/// A message when a square or the sum does not fit in an `i64`.
pub fn sum_of_squares(mylist: &[i64]) -> std::result::Result<i64, String> {
    square_list(mylist)?
        .into_iter()
        .try_fold(0_i64, |sum, square| sum.checked_add(square))
        .ok_or_else(|| "the sum of the squares does not fit in 64 bits".to_owned())
}

/// The server's skeleton: unmarshals one call, runs the procedure, and
/// marshals its result or its error. Bytes that are no such call get an
/// error reply, never a panic.
///
/// ```
/// let reply = exp1_rpc::dispatch(br#"{"procedure":"sum_of_squares","mylist":[1,2,3,4]}"#);
/// assert_eq!(reply, br#"{"result":30}"#);
/// ```
pub fn dispatch(request: &[u8]) -> Vec<u8> {
    let result =
        marshal::unmarshal_call(request).and_then(|(procedure, mylist)| match procedure.as_str() {
            "square_list" => square_list(&mylist).map(|result| json!(result)),
            "sum_of_squares" => sum_of_squares(&mylist).map(|result| json!(result)),
            other => Err(format!(
                "no procedure named {other:?} (there are square_list and sum_of_squares)"
            )),
        });
    marshal::reply(result)
}

/// The server: serves the procedures on `subject` until Ctrl-C or SIGTERM
/// (or after `requests` calls). Unless `quiet`, it prints each call.
///
/// # Errors
/// A lost connection; a failed reply.
pub fn server(
    nc: &Connection,
    subject: &Subject,
    requests: Option<u64>,
    quiet: bool,
    run: Option<&RunId>,
) -> Result<()> {
    let mut calls = nc.queue_subscribe(subject, SERVERS)?;
    announce_ready(nc, run, "server")?;
    if !quiet {
        say!(
            "server: serving square_list and sum_of_squares on {subject} at {}",
            nc.urls()
        )?;
    }
    let mut served = 0;
    let mut serve = || -> Result<()> {
        while requests.is_none_or(|limit| served < limit) {
            let Some(call) = calls.next_within(options::SERVER_LOOK)? else {
                continue;
            };
            let reply = dispatch(call.payload());
            calls.respond(&call, &reply)?;
            served += 1;
            if !quiet {
                say!(
                    "server: {} -> {}",
                    escaped_bytes(call.payload()),
                    escaped_bytes(&reply)
                )?;
            }
        }
        Ok(())
    };
    let serving = serve();
    roles::stopped(serving, served, quiet)
}

/// The client's stub: each method marshals its arguments, sends them to
/// a server, waits for the reply and unmarshals the result, so that the
/// caller writes `squares.square_list(&mylist)?` as if the function were
/// local. What a local call cannot do, the `?` shows: the call can time
/// out, and the server can go away.
#[derive(Debug)]
pub struct Squares<'c> {
    nc: &'c Connection,
    subject: Subject,
    timeout: Duration,
}

impl<'c> Squares<'c> {
    /// A stub for the procedures served on `subject`, waiting up to
    /// `timeout` for each answer.
    pub fn new(nc: &'c Connection, subject: &Subject, timeout: Duration) -> Self {
        Squares {
            nc,
            subject: subject.clone(),
            timeout,
        }
    }

    /// Remote [`square_list`].
    ///
    /// # Errors
    /// As [`Squares::call`].
    pub fn square_list(&self, mylist: &[i64]) -> Result<Vec<i64>> {
        self.list(self.call("square_list", mylist)?)
    }

    /// Remote [`sum_of_squares`].
    ///
    /// # Errors
    /// As [`Squares::call`].
    pub fn sum_of_squares(&self, mylist: &[i64]) -> Result<i64> {
        self.number(&self.call("sum_of_squares", mylist)?)
    }

    /// One remote call: marshal, request, wait, unmarshal.
    ///
    /// # Errors
    /// `NoResponders` when no server answered within the timeout (naming
    /// the subject); `Remote` when the server reported an error;
    /// `BadMessage` for a reply that is not one; a lost connection.
    pub fn call(&self, procedure: &str, mylist: &[i64]) -> Result<Value> {
        // STUDENT: marshal the call as JSON, send it as a request, unmarshal the reply
        let request = json!({ "procedure": procedure, "mylist": mylist }).to_string();
        let reply = self
            .nc
            .request_patiently(&self.subject, request.as_bytes(), self.timeout)?;
        self.unmarshal(procedure, &reply)
        // END STUDENT
    }
}

/// The client: calls both procedures on `mylist` and prints the results
/// as seed 000's main program does.
///
/// # Errors
/// As [`Squares::call`].
pub fn client(nc: &Connection, subject: &Subject, mylist: &[i64], timeout: Duration) -> Result<()> {
    let squares = Squares::new(nc, subject, timeout);
    let result = squares.square_list(mylist)?;
    say!("Result(from server): {}", PyList(result))?;
    let square_sum = squares.sum_of_squares(mylist)?;
    say!("Sum of squares(from server): {square_sum}")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_procedures_are_the_seeds() {
        assert_eq!(square_list(&MYLIST).unwrap(), [1, 4, 9, 16]);
        assert_eq!(sum_of_squares(&MYLIST).unwrap(), 30);
        assert_eq!(square_list(&[-3]).unwrap(), [9]);
    }
}
