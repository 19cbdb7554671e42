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

/// Runs an experiment's body with [`ipc_core::cli::run`] (logging,
/// `--fast`, a quiet end on a closed stdout, panics) after installing the
/// Ctrl-C/SIGTERM flag ([`ipc_core::signal::install`]) that ends every
/// wait of this crate. An error of this crate is printed as
/// `program: message` on stderr and ends the program with
/// [`crate::Error::exit_code`]: 2 for bad input, 1 otherwise.
pub fn run(
    program: &str,
    common: &ipc_core::cli::Common,
    body: impl FnOnce() -> Result<()>,
) -> ExitCode {
    let mut failed = None;
    let code = ipc_core::cli::run(program, common, || {
        ipc_core::signal::install()?;
        if let Err(error) = body() {
            eprintln!("{program}: {error}");
            failed = Some(error.exit_code());
        }
        Ok(())
    });
    match failed {
        Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        None => code,
    }
}
