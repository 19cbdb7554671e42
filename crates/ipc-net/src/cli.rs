//! What the NATS experiments' `main`s share besides `ipc-cli`: the
//! `--server` flag, and the runner for a body that fails with this crate's
//! errors.

use std::process::ExitCode;

use crate::error::Result;
use crate::names::ServerUrls;
use crate::roles::RunId;

/// The flags every NATS experiment takes besides ipc-cli's `--fast` and `--trace`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct NetArgs {
    /// The NATS server to use, nats://HOST:PORT (several, comma-separated,
    /// for the nodes of a cluster); a role then runs here and talks to the
    /// others through it. Without it, a private nats-server is started on
    /// 127.0.0.1 and every role runs on this machine
    #[arg(long, value_name = "URL", global = true)]
    pub server: Option<ServerUrls>,

    /// The run this role belongs to (given by the program to the roles it
    /// starts)
    #[arg(long, value_name = "ID", global = true, hide = true)]
    pub run: Option<RunId>,
}

/// [`ipc_cli::run`] (signals caught, logging, `--fast`, `--trace`, exit
/// codes) for a body that fails with this crate's [`crate::Error`], so
/// that a closure ending in `Ok(())` needs no type.
pub fn run(program: &str, common: &ipc_cli::Common, body: impl FnOnce() -> Result<()>) -> ExitCode {
    ipc_cli::run(program, common, body)
}
