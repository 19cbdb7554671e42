//! `ipc-trace`: merge per-machine traces, redraw a JSON trace.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = ipc_trace::tool::Args::parse();
    match ipc_trace::tool::run(&args) {
        Ok(summary) => {
            print!("{summary}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("ipc-trace: {error}");
            ExitCode::from(error.exit_code() as u8)
        }
    }
}
