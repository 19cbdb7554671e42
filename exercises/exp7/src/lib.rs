//! Seed 000's menu: choose shared memory, a queue or a pipe, until exit.
//!
//! The choices run the code of the three experiment crates (`exp7-shm`,
//! `exp7-queue`, `exp7-pipe`); this crate only reads choices.

use std::io::{BufRead, IsTerminal, Read};

use ipc_cli::{output, say};
use ipc_core::{Error, Result};

/// The prompt the seed's `input()` prints.
pub const MENU: &str = "\nEnter your choice : \n1 - IPC using Shared Memory\n2 - IPC using Message Queue\n3 - IPC using PIPES\n4. Exit\n> ";

/// The line printed when the menu ends.
pub const EXITING: &str = "> > Exiting program < < ";

/// The longest input line read; anything longer is not a choice.
const MAX_LINE: u64 = 1 << 20;

/// What one line of input asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    /// 1: shared memory.
    SharedMemory,
    /// 2: message queue.
    Queue,
    /// 3: pipes.
    Pipe,
    /// 4: exit.
    Exit,
}

impl Choice {
    /// Reads a choice the way Python's `int(input())` does: surrounding
    /// white space is ignored, a sign and leading zeros are allowed.
    pub fn parse(line: &str) -> Option<Choice> {
        match line.trim().parse::<i64>().ok()? {
            1 => Some(Choice::SharedMemory),
            2 => Some(Choice::Queue),
            3 => Some(Choice::Pipe),
            4 => Some(Choice::Exit),
            _ => None,
        }
    }
}

/// Runs the menu on `input`, showing the prompt only if `prompt`.
///
/// Ends with `Ok` after choice 4 or at the end of the input, and with
/// [`Error::InvalidArgument`] (exit code 2) after printing `Invalid option`
/// for anything that is not a choice, as the seed ends its loop.
pub fn run_menu(input: &mut impl BufRead, prompt: bool) -> Result<()> {
    loop {
        if prompt {
            output::part(format_args!("{MENU}"))?;
            output::flush()?;
        }
        let mut line = Vec::new();
        let read = input
            .by_ref()
            .take(MAX_LINE)
            .read_until(b'\n', &mut line)
            .map_err(|e| Error::InvalidArgument(format!("reading the choice: {e}")))?;
        // End of input: leave as choice 4 would.
        let choice = match read {
            0 => Some(Choice::Exit),
            _ => std::str::from_utf8(&line).ok().and_then(Choice::parse),
        };
        // STUDENT: run the experiment `choice` names (exp7_shm::run(), …); 4 exits; else error
        match choice {
            Some(Choice::SharedMemory) => exp7_shm::run()?,
            Some(Choice::Queue) => exp7_queue::run()?,
            Some(Choice::Pipe) => exp7_pipe::run(exp7_pipe::Schedule::default())?,
            Some(Choice::Exit) => {
                say!("{EXITING}")?;
                return Ok(());
            }
            None => {
                say!("Invalid option")?;
                say!("{EXITING}")?;
                return Err(Error::InvalidArgument(describe(&line)));
            }
        }
        // END STUDENT
    }
}

/// Names a rejected input line briefly (it may be megabytes of garbage).
fn describe(line: &[u8]) -> String {
    let text = String::from_utf8_lossy(line);
    let text = text.trim_end_matches(['\n', '\r']);
    let shown: String = text.chars().take(20).collect();
    let more = if text.chars().count() > 20 { "…" } else { "" };
    format!("{shown:?}{more} is not a choice (1, 2, 3 or 4)")
}

/// Runs the menu on standard input; the prompt shows only at a terminal,
/// so that a script gets nothing but the experiments' lines.
pub fn run() -> Result<()> {
    let stdin = std::io::stdin();
    let prompt = stdin.is_terminal();
    run_menu(&mut stdin.lock(), prompt)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_parse_like_python_int() {
        assert_eq!(Choice::parse("1\n"), Some(Choice::SharedMemory));
        assert_eq!(Choice::parse("  2 "), Some(Choice::Queue));
        assert_eq!(Choice::parse("+3"), Some(Choice::Pipe));
        assert_eq!(Choice::parse("04"), Some(Choice::Exit));
        for bad in ["5", "0", "-1", "", "one", "1.0", "99999999999999999999"] {
            assert_eq!(Choice::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_rejected_line_is_named_briefly() {
        assert_eq!(describe(b"abc\n"), "\"abc\" is not a choice (1, 2, 3 or 4)");
        assert!(describe(&[b'x'; 5000]).ends_with("\"… is not a choice (1, 2, 3 or 4)"));
    }
}
