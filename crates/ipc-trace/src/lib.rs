//! # ipc-trace
//!
//! The run's timeline once recorded: every process of a run appends to
//! one log in shared memory (ipc-core's recorder, [`ipc_core::trace`]);
//! this crate reads it back and shows it.
//!
//! | module | what |
//! | --- | --- |
//! | [`model`] | a [`Trace`]: its events in time order ([`Event`], [`Kind`]), the processes and objects they name, their sources; [`merge`] puts several on one time line |
//! | [`chrome`] | the Chrome trace-event format (JSON), which Perfetto (<https://ui.perfetto.dev>) and `chrome://tracing` open: written and read back |
//! | [`svg`] | a sequence diagram readable in any browser: one lane per process, time downwards, an arrow per message, lock-held spans shaded |
//! | [`file`](mod@file) | a run's trace written to `--trace FILE` ([`write()`]), in the [`Format`] its name asks for |
//! | [`parts`] | the traces of the programs a run starts, merged into its own ([`part_for`]) |
//! | [`tool`] | the `ipc-trace` command: `merge` traces recorded on several machines, redraw a JSON trace as SVG |
//!
//! ```
//! use ipc_core::{Process, trace};
//! use ipc_trace::Trace;
//!
//! let log = trace::start("demo", 1024).unwrap();
//! let channel = trace::new_object("pipe");
//! // Process::spawn records the child's start and exit, join its join.
//! let mut child = Process::spawn("child", || trace::send(channel, 1, "hello")).unwrap();
//! child.join().unwrap();
//! trace::recv(channel, 1, "hello");
//! trace::exit(0);
//! let trace = Trace::of(&log);
//! let kinds: Vec<&str> = trace.events.iter().map(|e| e.kind.label()).collect();
//! assert_eq!(kinds, ["spawn", "spawn", "send", "exit", "join", "recv", "exit"]);
//! assert_eq!(trace.message_pairs(), [(2, 5)]);
//! trace::stop();
//! ```

#![warn(missing_docs)]

pub mod chrome;
pub mod file;
pub mod model;
pub mod parts;
pub mod svg;
pub mod tool;

pub use file::{Format, Written, write};
pub use ipc_core::trace::is_named;
pub use model::{Event, Kind, ProcessInfo, Source, Trace, format_ns, format_wall, merge};
pub use parts::{NAME_VAR, part_for};
pub use svg::MAX_ROWS;
