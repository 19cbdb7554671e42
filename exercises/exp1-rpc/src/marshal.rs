//! The calls and their results as JSON, read as hostile: a peer's bytes
//! (a call the server gets, a reply the client gets) end in a value or a
//! clear error, never a panic, and a peer's text in an error is escaped
//! before anybody prints it.
//!
//! | message | from | to |
//! | --- | --- | --- |
//! | `{"procedure": "square_list", "mylist": [1, 2, 3, 4]}` | the client's stub | a server |
//! | `{"result": [1, 4, 9, 16]}` or `{"error": "…"}` | the server's skeleton | the client |

use ipc_net::printable::escaped;
use ipc_net::{Error, Result};
use serde_json::{Value, json};

use crate::Squares;

/// The procedure's name and its list, from a marshalled call.
///
/// # Errors
/// What is wrong with the call (its text escaped).
pub fn unmarshal_call(request: &[u8]) -> std::result::Result<(String, Vec<i64>), String> {
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
                .ok_or("\"mylist\" holds something else than 64-bit integers")
        })
        .collect::<std::result::Result<Vec<i64>, _>>()?;
    Ok((procedure.to_owned(), mylist))
}

/// A marshalled reply: `{"result": …}` or `{"error": "…"}`.
pub fn reply(outcome: std::result::Result<Value, String>) -> Vec<u8> {
    let reply = match outcome {
        Ok(result) => json!({ "result": result }),
        Err(error) => json!({ "error": error }),
    };
    reply.to_string().into_bytes()
}

impl Squares<'_> {
    /// The result of the call of `procedure` from the server's `reply`.
    ///
    /// # Errors
    /// [`Error::Remote`] when the server reported an error (its text
    /// escaped); [`Error::BadMessage`] for a reply that is no reply.
    pub fn unmarshal(&self, procedure: &str, reply: &[u8]) -> Result<Value> {
        let reply: Value = serde_json::from_slice(reply)
            .map_err(|e| self.malformed(format!("a reply that is not JSON: {e}")))?;
        if let Some(error) = reply.get("error") {
            let said = error
                .as_str()
                .map_or_else(|| error.to_string(), str::to_owned);
            return Err(Error::Remote {
                url: self.nc.urls().to_string(),
                subject: self.subject.to_string(),
                reason: format!("{procedure}: {}", escaped(&said)),
            });
        }
        reply
            .get("result")
            .cloned()
            .ok_or_else(|| self.unexpected(&reply))
    }

    /// `result` as the list of [`crate::square_list`].
    ///
    /// # Errors
    /// [`Error::BadMessage`] when it is none.
    pub fn list(&self, result: Value) -> Result<Vec<i64>> {
        serde_json::from_value(result.clone()).map_err(|_| self.unexpected(&result))
    }

    /// `result` as the number of [`crate::sum_of_squares`].
    ///
    /// # Errors
    /// [`Error::BadMessage`] when it is none.
    pub fn number(&self, result: &Value) -> Result<i64> {
        result.as_i64().ok_or_else(|| self.unexpected(result))
    }

    fn unexpected(&self, reply: &Value) -> Error {
        self.malformed(format!(
            "an unexpected reply {}",
            escaped(&reply.to_string())
        ))
    }

    fn malformed(&self, reason: String) -> Error {
        Error::BadMessage {
            subject: self.subject.to_string(),
            reason,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply_to(request: Value) -> Value {
        serde_json::from_slice(&crate::dispatch(request.to_string().as_bytes())).unwrap()
    }

    #[test]
    fn the_skeleton_dispatches_and_reports_errors() {
        assert_eq!(
            reply_to(json!({"procedure": "square_list", "mylist": [1, 2, 3, 4]})),
            json!({"result": [1, 4, 9, 16]})
        );
        assert_eq!(
            reply_to(json!({"procedure": "sum_of_squares", "mylist": []})),
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
            assert!(reply_to(bad.clone())["error"].is_string(), "{bad}");
        }
        let garbage: Value = serde_json::from_slice(&crate::dispatch(&[0xff, 0x00])).unwrap();
        assert!(garbage["error"].as_str().unwrap().contains("not JSON"));
    }
}
