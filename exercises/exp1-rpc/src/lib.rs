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
//! The option to call them on another list (`--numbers`) is in [`extras`].

pub mod extras;

use std::time::Duration;

use ipc_cli::say;
use ipc_core::PyList;
use ipc_net::{Connection, Error, LocalRun, Result, RunId, Subject, announce_ready};
use serde_json::{Value, json};

/// The subject the procedures are served on unless `--subject` says
/// otherwise.
pub const DEFAULT_SUBJECT: &str = "ipc-lab.exp1-rpc";

/// The queue group of the servers: each call goes to one of them.
pub const SERVERS: &str = "servers";

/// How long a client waits for an answer unless `--timeout` says
/// otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// The seed's list.
pub const MYLIST: [i64; 4] = [1, 2, 3, 4];

// ---------------------------------------------------------------------
// The procedures, as in seed 000 (they run on the server)
// ---------------------------------------------------------------------

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

// ---------------------------------------------------------------------
// The server's skeleton: unmarshal, dispatch, marshal
// ---------------------------------------------------------------------

/// Answers one marshalled call: reads `{"procedure": NAME, "mylist":
/// [NUMBERS]}`, runs the procedure, and returns `{"result": …}` or
/// `{"error": "…"}`. Bytes that are no such call get an error reply, never
/// a panic.
///
/// ```
/// let reply = exp1_rpc::dispatch(br#"{"procedure":"sum_of_squares","mylist":[1,2,3,4]}"#);
/// assert_eq!(reply, br#"{"result":30}"#);
/// let reply = exp1_rpc::dispatch(b"hello");
/// assert!(String::from_utf8(reply).unwrap().starts_with(r#"{"error":"#));
/// ```
pub fn dispatch(request: &[u8]) -> Vec<u8> {
    let reply = match unmarshal_call(request) {
        Ok((procedure, mylist)) => match procedure.as_str() {
            "square_list" => square_list(&mylist).map(|result| json!(result)),
            "sum_of_squares" => sum_of_squares(&mylist).map(|result| json!(result)),
            other => Err(format!(
                "no procedure named {other:?} (there are square_list and sum_of_squares)"
            )),
        },
        Err(e) => Err(e),
    };
    let reply = match reply {
        Ok(result) => json!({ "result": result }),
        Err(error) => json!({ "error": error }),
    };
    reply.to_string().into_bytes()
}

/// The procedure's name and its list, from a marshalled call.
fn unmarshal_call(request: &[u8]) -> std::result::Result<(String, Vec<i64>), String> {
    let call: Value =
        serde_json::from_slice(request).map_err(|e| format!("the call is not JSON: {e}"))?;
    let procedure = call["procedure"]
        .as_str()
        .ok_or("the call has no \"procedure\" name")?;
    let mylist = call["mylist"]
        .as_array()
        .ok_or("the call has no \"mylist\" array")?
        .iter()
        .map(|n| {
            n.as_i64()
                .ok_or("\"mylist\" holds something else than integers")
        })
        .collect::<std::result::Result<Vec<i64>, _>>()?;
    Ok((procedure.to_owned(), mylist))
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
    let serving = (|| -> Result<()> {
        while requests.is_none_or(|limit| served < limit) {
            let Some(call) = calls.next_within(Duration::from_secs(1))? else {
                continue;
            };
            let reply = dispatch(call.payload());
            calls.respond(&call, &reply)?;
            served += 1;
            if !quiet {
                say!(
                    "server: {} -> {}",
                    call.text(),
                    String::from_utf8_lossy(&reply)
                )?;
            }
        }
        Ok(())
    })();
    let outcome: ipc_core::Result<()> = match serving {
        Err(e) if e.is_interrupted() => Err(ipc_core::Error::Interrupted),
        Err(e) => return Err(e),
        Ok(()) => Ok(()),
    };
    // Ctrl-C or SIGTERM is how a server is stopped: a normal end.
    ipc_core::signal::end_on_interrupt(outcome, |by| {
        if !quiet {
            say!("server: stopped by {by} after {served} calls")?;
        }
        Ok(())
    })?;
    Ok(())
}

// ---------------------------------------------------------------------
// The client's stub: the remote procedures as local functions
// ---------------------------------------------------------------------

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
        let result = self.call("square_list", mylist)?;
        serde_json::from_value(result.clone()).map_err(|_| self.malformed(&result))
    }

    /// Remote [`sum_of_squares`].
    ///
    /// # Errors
    /// As [`Squares::call`].
    pub fn sum_of_squares(&self, mylist: &[i64]) -> Result<i64> {
        let result = self.call("sum_of_squares", mylist)?;
        result.as_i64().ok_or_else(|| self.malformed(&result))
    }

    /// One remote call: marshal, request, wait, unmarshal.
    ///
    /// # Errors
    /// [`Error::NoResponders`] when no server answered within the timeout
    /// (naming the subject); [`Error::Remote`] when the server reported an
    /// error; [`Error::BadMessage`] for a reply that is not one; a lost
    /// connection.
    pub fn call(&self, procedure: &str, mylist: &[i64]) -> Result<Value> {
        // STUDENT: marshal the call as JSON, request it, unmarshal the result (or the error)
        let request = json!({ "procedure": procedure, "mylist": mylist }).to_string();
        let reply = self
            .nc
            .request_patiently(&self.subject, request.as_bytes(), self.timeout)?;
        let reply: Value = serde_json::from_slice(&reply).map_err(|e| Error::BadMessage {
            subject: self.subject.to_string(),
            reason: format!("a reply that is not JSON: {e}"),
        })?;
        if let Some(error) = reply.get("error") {
            return Err(Error::Remote {
                url: self.nc.urls().to_string(),
                subject: self.subject.to_string(),
                reason: format!("{procedure}: {}", error.as_str().unwrap_or("(no text)")),
            });
        }
        reply
            .get("result")
            .cloned()
            .ok_or_else(|| self.malformed(&reply))
        // END STUDENT
    }

    fn malformed(&self, reply: &Value) -> Error {
        Error::BadMessage {
            subject: self.subject.to_string(),
            reason: format!("an unexpected reply {reply}"),
        }
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

/// Runs the experiment on this machine: a private server, a server process
/// and a client process (each this program again with `--server`); the
/// server is stopped once the client is done.
///
/// # Errors
/// A role that failed; a server that could not be started; `Interrupted`.
pub fn run_rpc(subject: &Subject, mylist: &[i64]) -> Result<()> {
    let mut run = LocalRun::start()?;
    let nc = Connection::connect(run.urls())?;
    let mut ready = run.ready_listener(&nc)?;
    let subject_args = ["--subject".to_owned(), subject.to_string()];

    let mut server = subject_args.to_vec();
    server.extend(["server".into(), "--quiet".into()]);
    run.spawn("server", &server)?;
    run.wait_ready(&mut ready, 1, Duration::from_secs(30))?;

    let mut client = subject_args.to_vec();
    client.extend(["client".into(), "--".into()]);
    client.extend(mylist.iter().map(i64::to_string));
    run.spawn("client", &client)?;
    run.wait("client", DEFAULT_TIMEOUT * 3)?;
    run.terminate("server");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(request: Value) -> Value {
        serde_json::from_slice(&dispatch(request.to_string().as_bytes())).unwrap()
    }

    #[test]
    fn the_skeleton_dispatches_and_reports_errors() {
        assert_eq!(
            reply(json!({"procedure": "square_list", "mylist": [1, 2, 3, 4]})),
            json!({"result": [1, 4, 9, 16]})
        );
        assert_eq!(
            reply(json!({"procedure": "sum_of_squares", "mylist": []})),
            json!({"result": 0})
        );
        for bad in [
            json!({"procedure": "cube", "mylist": [1]}),
            json!({"mylist": [1]}),
            json!({"procedure": "square_list"}),
            json!({"procedure": "square_list", "mylist": [1.5]}),
            json!({"procedure": "square_list", "mylist": [4_000_000_000_i64]}),
            json!({"procedure": "sum_of_squares", "mylist": [3_000_000_000_i64, 3_000_000_000_i64]}),
        ] {
            assert!(reply(bad.clone())["error"].is_string(), "{bad}");
        }
        let garbage: Value = serde_json::from_slice(&dispatch(&[0xff, 0x00])).unwrap();
        assert!(garbage["error"].as_str().unwrap().contains("not JSON"));
    }

    #[test]
    fn the_procedures_are_the_seeds() {
        assert_eq!(square_list(&MYLIST).unwrap(), [1, 4, 9, 16]);
        assert_eq!(sum_of_squares(&MYLIST).unwrap(), 30);
        assert_eq!(square_list(&[-3]).unwrap(), [9]);
    }
}
