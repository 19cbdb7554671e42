//! `ipc-lab-clean`: removes what killed ipc-lab runs left behind, and
//! nothing else. `scripts/clean.sh` runs it.

use std::process::ExitCode;

use clap::Parser;
use ipc_cli::{Signals, say};
use ipc_core::{Result, owner};

/// Removes what killed ipc-lab runs left behind: shared-memory segments,
/// message queues and FIFOs named ipc-lab-*, of the calling user.
///
/// The objects of a dead run (listed in its lease, /dev/shm/ipc-lab-run@*)
/// are removed with the lease: no process of that run lives any more (the
/// kernel released the lease's lock when the last one exited, however it
/// died). A live run's objects are kept, whatever its processes are doing,
/// even waiting in open(). Objects no run lists (a queue kept on purpose
/// for a later receiver, an older leftover) are removed if no process maps
/// or holds them open, and if their path contains one of the FILTER words.
/// Nothing of another user and nothing without the prefix is touched.
///
/// Exit codes: 0 done, 1 a removal failed, 2 bad usage.
#[derive(Parser)]
#[command(name = "clean.sh", version)]
struct Args {
    /// Say what would be removed; remove nothing
    #[arg(short = 'n', long)]
    list: bool,
    /// Only objects without a run whose path contains one of these words
    #[arg(value_name = "FILTER")]
    filters: Vec<String>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    // Nothing here waits: Ctrl-C keeps its default action.
    ipc_cli::run_with("clean.sh", Signals::Default, &Default::default(), || {
        clean(&args)
    })
}

fn clean(args: &Args) -> Result<()> {
    let wanted =
        |path: &str| args.filters.is_empty() || args.filters.iter().any(|f| path.contains(f));
    let (mut removed, mut kept) = (0, 0);
    let mut failed = None;

    for lease in owner::leases()? {
        for object in &lease.objects {
            if lease.alive {
                say!(
                    "in use, kept: {object} (its run is alive: {})",
                    lease.header
                )?;
                kept += 1;
            } else if args.list {
                say!("would remove: {object} (its run is dead: {})", lease.header)?;
            }
        }
    }
    if !args.list {
        for object in owner::sweep()? {
            say!("removed: {object} (its run is dead)")?;
            removed += 1;
        }
    }

    for stray in owner::strays() {
        let path = stray.path.display().to_string();
        if !wanted(&path) {
            continue;
        }
        if stray.in_use {
            say!("in use, kept: {} {path}", stray.kind)?;
            kept += 1;
        } else if args.list {
            say!("would remove: {} {path}", stray.kind)?;
        } else {
            match stray.remove() {
                Ok(()) => {
                    say!("removed: {} {path}", stray.kind)?;
                    removed += 1;
                }
                Err(error) => {
                    eprintln!("clean.sh: {error}");
                    failed.get_or_insert(error);
                }
            }
        }
    }
    if args.list {
        say!("clean.sh: listed only; {kept} in use")?;
    } else {
        say!("clean.sh: removed {removed}, kept {kept} in use")?;
    }
    failed.map_or(Ok(()), Err)
}
