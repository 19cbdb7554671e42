//! What the NATS experiments' `main`s share: the `--server` flag, and
//! errors of this crate turned into exit codes.

use std::process::ExitCode;

use crate::error::Result;
use crate::names::ServerUrls;
use crate::roles::RunId;

/// The flags every NATS experiment takes besides ipc-core's `--fast`.
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

/// Runs an experiment's body with [`ipc_cli::run`] (logging,
/// `--fast`, exit codes, a quiet end on a closed stdout) after installing
/// the Ctrl-C/SIGTERM flag ([`ipc_core::signal::install`]) that ends every
/// wait of this crate.
pub fn run(program: &str, common: &ipc_cli::Common, body: impl FnOnce() -> Result<()>) -> ExitCode {
    ipc_cli::run(program, common, || {
        ipc_core::signal::install()?;
        body()
    })
}
