//! # ipc-net
//!
//! Past one machine: what the NATS experiments of ipc-lab (`exp1-mom`,
//! `exp1-rpc`, `exp1-dsm`) need, as a small *blocking* API over the
//! official NATS client `async-nats`, and a launcher for a private
//! `nats-server`.
//!
//! | module | what | NATS concept |
//! | --- | --- | --- |
//! | [`client`] | connect, publish, subscribe, queue groups, request–reply | core NATS: at most once |
//! | [`stream`] | a stored work queue: publish with confirmation, pull, acknowledge | JetStream stream and durable consumer |
//! | [`kv`] | a key-value bucket: get, put, compare-and-set on the revision | JetStream key-value store |
//! | [`locate`] | find `nats-server` and the workspace from where the program runs | — |
//! | [`server`] | start a private `nats-server`, stop it, clean up | — |
//! | [`roles`] | one machine playing many: roles as processes of this program | — |
//! | [`names`] | server URLs, subjects, bucket names and keys, checked before use | — |
//! | [`cli`] | the `--server` flag and its rule; roles' command lines rendered from typed values; `ipc-cli`'s runner for this crate's errors | — |
//! | [`printable`] | a peer's text with its control characters escaped, to print | — |
//! | [`bench`](mod@bench) | request–reply round trips and publish throughput, for benchmarks | — |
//!
//! Every call blocks until it is done and every wait is bounded: by a
//! timeout, by Ctrl-C or SIGTERM (`ipc_core::signal`), and by a connection
//! that stays down (the server went away). Errors name the server's URL.
//!
//! The async runtime is private: one current-thread `tokio` runtime,
//! created on first use ([`runtime_started`]). A program may fork before
//! it exists, never after (it starts processes with `std::process::Command`
//! instead). ipc-core, below this crate, knows nothing of async code.
//!
//! ```
//! use std::time::Duration;
//! use ipc_net::{Connection, NatsServer, Subject};
//!
//! let server = NatsServer::start()?; // private, on 127.0.0.1, with JetStream
//! let nc = Connection::connect(server.urls())?;
//! let subject: Subject = "ipc-lab.hello".parse()?;
//! let mut inbox = nc.subscribe(&subject)?;
//! nc.publish(&subject, b"Hello, introduction to distributed computing")?;
//! let message = inbox.next(Duration::from_secs(5))?;
//! assert_eq!(message.text(), "Hello, introduction to distributed computing");
//! # Ok::<(), ipc_net::Error>(())
//! ```

#![warn(missing_docs)]

pub mod bench;
pub mod cli;
pub mod client;
pub mod error;
pub mod kv;
pub mod locate;
pub mod names;
pub mod printable;
pub mod roles;
mod runtime;
pub mod server;
pub mod stream;
pub mod traced;

pub use client::{Connection, Message, Options, Subscription};
pub use error::{Error, Result};
pub use kv::{Bucket, Entry};
pub use locate::find_nats_server;
pub use names::{BucketName, Key, ServerUrls, Subject};
pub use roles::{Gate, LocalRun, RunId, announce_ready};
pub use runtime::started as runtime_started;
pub use server::NatsServer;
pub use stream::{Delivery, WorkQueue, WorkReceiver};
