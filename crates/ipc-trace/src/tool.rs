//! The `ipc-trace` command:
//!
//! * `ipc-trace merge a.json b.json -o run.svg` puts the traces of the roles
//!   of one run, recorded on several machines, on one time line. Each
//!   trace keeps the instant its run started at by two clocks: the wall
//!   clock (`CLOCK_REALTIME`) and, with the machine's boot id, its
//!   monotonic clock. Traces of one machine are placed by the monotonic
//!   clock they share (exact); traces of different machines by their
//!   wall-clock starts. The earliest becomes time 0 and every other trace
//!   moves by the difference. The offsets are printed, and written into
//!   the output (the SVG's header, the JSON's `otherData`): the machines'
//!   clocks differ by their synchronisation error (NTP: typically a
//!   millisecond or less on a LAN), and a receive that appears before its
//!   send says by how much at least.
//! * `ipc-trace svg in.json -o out.svg` redraws a JSON trace as a sequence
//!   diagram (or writes it again as JSON).
//!
//! The output's format follows its extension: `.json` (Chrome trace-event
//! format, for Perfetto or `chrome://tracing`) or `.svg`.
//!
//! Exit codes: 0 success, 1 the output could not be written, 2 bad usage
//! or an input that is missing or not an ipc-lab trace.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::{Format, Trace, format_ns, format_wall, merge};
use clap::{Parser, Subcommand};
use ipc_core::Error;

/// The command line.
#[derive(Debug, Parser)]
#[command(
    name = "ipc-trace",
    version,
    about = "Merge the traces of a run recorded on several machines, or redraw a JSON trace",
    after_help = "Merged traces are aligned by the instant each run started at: by the \
monotonic clock they share when recorded on one machine (exact), by the wall-clock start \
across machines. The offsets applied are printed and written into the output, since the \
machines' clocks may disagree by their synchronisation error.\n\nExit codes: 0 success, 1 the output could \
not be written, 2 bad usage or a bad input."
)]
pub struct Args {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Merge the JSON traces of several roles (machines) into one picture,
    /// aligned by their starts (monotonic clock on one machine, wall clock
    /// across machines)
    Merge {
        /// The JSON traces, one per role (each labelled with its file name)
        #[arg(required = true, num_args = 2..)]
        inputs: Vec<PathBuf>,
        /// The merged trace: FILE.svg (a sequence diagram) or FILE.json
        /// (for Perfetto)
        #[arg(short, long, value_name = "FILE")]
        output: PathBuf,
    },
    /// Redraw a JSON trace as an SVG sequence diagram (or write it as JSON)
    Svg {
        /// The JSON trace
        input: PathBuf,
        /// The picture: FILE.svg (or FILE.json)
        #[arg(short, long, value_name = "FILE")]
        output: PathBuf,
    },
}

/// Reads the ipc-lab JSON trace at `path`.
///
/// # Errors
/// [`Error::InvalidArgument`] (exit code 2) naming the file, when it cannot
/// be read or is not a trace ipc-lab wrote.
pub fn read_trace(path: &Path) -> Result<Trace, Error> {
    let text = crate::file::read_text(path)?;
    Trace::from_json(&text).map_err(|e| Error::InvalidArgument(format!("{}: {e}", path.display())))
}

/// The label of a merged source: its file's stem (`a.json` → `a`).
fn stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// Runs the command and returns what to print on success.
///
/// # Errors
/// As [`read_trace`]; [`Format::from_path`] for a bad
/// output name (exit code 2); [`Error::Sys`] naming `write` when the output
/// cannot be written (exit code 1).
pub fn run(args: &Args) -> Result<String, Error> {
    let (trace, output) = match &args.command {
        Command::Merge { inputs, output } => {
            Format::from_path(output)?;
            let mut traces = Vec::new();
            for path in inputs {
                let mut trace = read_trace(path)?;
                if let [source] = trace.sources.as_mut_slice() {
                    source.label = stem(path);
                }
                traces.push(trace);
            }
            (merge(traces), output)
        }
        Command::Svg { input, output } => {
            Format::from_path(output)?;
            (read_trace(input)?, output)
        }
    };
    trace.write(output)?;
    let mut summary = format!(
        "wrote {}: {} events of {} processes from {} trace(s)\n",
        output.display(),
        trace.events.len(),
        trace.processes().len(),
        trace.sources.len()
    );
    if trace.sources.len() > 1 {
        let _ = writeln!(summary, "aligned by {}:", trace.aligned_by());
        for source in &trace.sources {
            let _ = writeln!(
                summary,
                "  {}: started {} (host {}), offset +{}",
                source.label,
                format_wall(source.start_wall_ns),
                source.host,
                format_ns(source.offset_ns)
            );
        }
    }
    for note in trace
        .notes()
        .iter()
        .skip(usize::from(trace.sources.len() > 1))
    {
        let _ = writeln!(summary, "note: {note}");
    }
    Ok(summary)
}
