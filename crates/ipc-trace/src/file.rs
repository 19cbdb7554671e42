//! A run's trace written to a file: the format its name asks for, and the
//! traces of the programs the run started merged in.

use std::path::{Path, PathBuf};

use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};

use ipc_core::file::Destination;
use ipc_core::trace::Log;
use ipc_core::{Error, Result};

use crate::model::{Trace, merge};
use crate::parts;

/// The format of a trace file, chosen by its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `.json`: the Chrome trace-event format (Perfetto, `chrome://tracing`).
    Json,
    /// `.svg`: a sequence diagram.
    Svg,
}

impl Format {
    /// The format for `path`, checked before a run starts so that a bad
    /// name is a usage error (exit code 2) rather than a lost run.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] (exit code 2) for any extension but
    /// `.json` and `.svg`, or a name that cannot be written
    /// ([`Destination::check`]: a directory that does not exist or cannot
    /// be written, a name that is a directory, a link, a FIFO or another
    /// user's file, or too long).
    ///
    /// ```
    /// use ipc_trace::Format;
    /// assert_eq!(Format::from_path("run.json".as_ref()).unwrap(), Format::Json);
    /// assert_eq!(Format::from_path("/tmp/run.SVG".as_ref()).unwrap(), Format::Svg);
    /// let err = Format::from_path("run.txt".as_ref()).unwrap_err();
    /// assert_eq!(err.exit_code(), 2);
    /// assert!(err.to_string().contains("must end in .json"), "{err}");
    /// assert!(Format::from_path("/no/such/dir/run.json".as_ref()).is_err());
    /// ```
    pub fn from_path(path: &Path) -> Result<Format> {
        let extension = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        let format = match extension.as_deref() {
            Some("json") => Format::Json,
            Some("svg") => Format::Svg,
            _ => {
                return Err(Error::InvalidArgument(format!(
                    "trace file {}: the name must end in .json (a Chrome trace, for Perfetto or chrome://tracing) or .svg (a sequence diagram)",
                    path.display()
                )));
            }
        };
        Destination::check(path).map_err(|e| Error::InvalidArgument(format!("trace file {e}")))?;
        Ok(format)
    }
}

/// What [`write()`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// The file.
    pub path: PathBuf,
    /// Its format.
    pub format: Format,
    /// Events written.
    pub events: usize,
    /// Events lost to a full log (see [`Trace::notes`]).
    pub dropped: u64,
}

/// Writes what `log` holds now to `path`, in the format its extension
/// names ([`Format::from_path`]).
///
/// The traces of the programs this one started with [`crate::part_for`]
/// are merged in (aligned as [`merge`] does: exactly, by the monotonic
/// clock of this machine), and their files removed.
///
/// # Errors
/// As [`Format::from_path`]; [`Error::Sys`] naming `write` and the file
/// when it cannot be written.
pub fn write(log: &Log, path: &Path) -> Result<Written> {
    let format = Format::from_path(path)?;
    let mut trace = Trace::of(log);
    let mut parts = parts::take();
    if !parts.files.is_empty() {
        let mut all = vec![trace];
        for part in &parts.files {
            if let Ok(text) = read_text(part)
                && let Ok(other) = Trace::from_json(&text)
            {
                all.push(other);
            }
        }
        trace = merge(all);
    }
    if let Some(dir) = parts.dir.as_mut() {
        let _ = dir.remove();
    }
    trace.write_as(path, format)?;
    Ok(Written {
        path: path.to_owned(),
        format,
        events: trace.events.len(),
        dropped: trace.dropped(),
    })
}

impl Trace {
    /// Writes the trace to `path` in the format its extension names.
    ///
    /// # Errors
    /// As [`write()`].
    pub fn write(&self, path: &Path) -> Result<()> {
        self.write_as(path, Format::from_path(path)?)
    }

    fn write_as(&self, path: &Path, format: Format) -> Result<()> {
        let text = match format {
            Format::Json => self.to_json(),
            Format::Svg => self.to_svg(),
        };
        Destination::check(path)?.write(text.as_bytes())
    }
}

/// The most a trace file that is read may hold: far more than a full log
/// of the largest capacity makes.
pub const MAX_READ: u64 = 256 << 20;

/// The text of the trace file at `path`: a regular file (not a FIFO that
/// would block, not a device that never ends), at most [`MAX_READ`]
/// bytes.
///
/// # Errors
/// [`Error::InvalidArgument`] (exit code 2) naming the file and what is
/// wrong with it.
pub fn read_text(path: &Path) -> Result<String> {
    let refuse = |why: String| Error::InvalidArgument(format!("{}: {why}", path.display()));
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| Error::InvalidArgument(format!("cannot read {}: {e}", path.display())))?;
    let meta = file.metadata().map_err(|e| refuse(e.to_string()))?;
    let kind = meta.file_type();
    if !kind.is_file() {
        let what = if kind.is_fifo() {
            "a FIFO"
        } else if kind.is_dir() {
            "a directory"
        } else {
            "a device or a socket"
        };
        return Err(refuse(format!("it is {what}, not a trace file")));
    }
    let mut text = String::new();
    file.take(MAX_READ + 1)
        .read_to_string(&mut text)
        .map_err(|e| refuse(format!("cannot be read: {e}")))?;
    if text.len() as u64 > MAX_READ {
        return Err(refuse(format!(
            "more than {MAX_READ} bytes: not a trace ipc-lab wrote"
        )));
    }
    Ok(text)
}
