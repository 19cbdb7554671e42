//! # ipc-cli
//!
//! What every ipc-lab program shares, and no mechanism needs: the flags
//! every experiment takes, the runner that turns a run into an exit code,
//! log lines in seed 001's format and printing that never panics. ipc-core
//! below it knows nothing of command lines; this crate is what an
//! experiment's `main.rs` calls.
//!
//! | module | what | Python twin |
//! | --- | --- | --- |
//! | [`cli`] | [`Common`] (`--fast`, `--trace FILE`), [`Roles`] (a program's subcommands and those flags), [`parse`], value parsers that say their rule in words | `argparse` |
//! | [`runner`] | [`run`]: signals caught once, `--fast`, the run's trace written through `ipc-trace`, errors to exit codes 0/1/2 ([`run_with`] and [`Signals::Default`] for a program Ctrl-C kills) | `if __name__ == "__main__":` |
//! | [`logging`] | `LEVEL:logger:message` lines on standard error | `logging.basicConfig` |
//! | [`workers`] | [`workers::Gate`] (workers start together), [`workers::until_stopped`] (a worker's quiet ends) | `Event`, `KeyboardInterrupt` |
//! | [`output`] | [`say!`], [`say_err!`], [`output::part`]: lines in one `write(2)`, a closed pipe a quiet end | `print` |
//!
//! ```no_run
//! use clap::Parser;
//! use std::process::ExitCode;
//!
//! #[derive(Parser)]
//! struct Args {
//!     #[command(flatten)]
//!     common: ipc_cli::Common,
//! }
//!
//! fn main() -> ExitCode {
//!     let args: Args = ipc_cli::parse();
//!     ipc_cli::run("demo", &args.common, || -> ipc_core::Result<()> {
//!         ipc_cli::say!("hello")?;
//!         Ok(())
//!     })
//! }
//! ```

#![warn(missing_docs)]

pub mod cli;
pub mod logging;
pub mod output;
pub mod runner;
pub mod workers;

pub use cli::{
    Clients, Common, DEFAULT_CLIENTS, List, MAX_SQUARABLE, Mylist, Roles, parse, parse_with,
    printable, printable_text, printable_texts, seconds, squarable_numbers, whole_number,
    whole_numbers,
};
pub use runner::{Failure, Signals, run, run_with};
