//! The flags every experiment takes, and value parsers whose errors say
//! the rule in words.

use std::path::PathBuf;

/// Flags every experiment takes, before or after a subcommand
/// (`exp11-value --fast example` and `exp11-value example --fast` mean the
/// same): flatten it into the command line with `#[command(flatten)]`, once.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Common {
    /// Scale every sleep down 1000 times: the same lines, without the
    /// waiting (for scripts and graders)
    #[arg(long, global = true)]
    pub fast: bool,

    /// Record what every process does (spawn and exit, messages, locks,
    /// sleeps, signals, printed lines) and write it to FILE at the end:
    /// FILE.svg is a sequence diagram for any browser, FILE.json a Chrome
    /// trace for Perfetto (ui.perfetto.dev) or chrome://tracing
    #[arg(long, global = true, value_name = "FILE", value_parser = trace_file)]
    pub trace: Option<PathBuf>,
}

/// `--trace`'s check, before anything runs: a `.json` or `.svg` name in a
/// directory that exists.
fn trace_file(text: &str) -> std::result::Result<PathBuf, String> {
    let path = PathBuf::from(text);
    ipc_trace::Format::from_path(&path)
        .map(|_| path)
        .map_err(|error| error.to_string())
}
/// A program's roles (its subcommands) and the flags every experiment
/// takes: flatten it last into the command line of a program with roles,
/// once (`#[command(flatten)] roles: ipc_cli::Roles<Role>`).
///
/// ```
/// use clap::Parser;
///
/// #[derive(Parser)]
/// struct Args {
///     #[command(flatten)]
///     roles: ipc_cli::Roles<Role>,
/// }
///
/// #[derive(clap::Subcommand, Debug, PartialEq)]
/// enum Role {
///     Reader,
/// }
///
/// let args = Args::try_parse_from(["demo", "reader", "--fast"]).unwrap();
/// assert_eq!(args.roles.role, Some(Role::Reader));
/// assert!(args.roles.common.fast);
/// ```
#[derive(Debug, Clone, clap::Args)]
pub struct Roles<R: clap::Subcommand> {
    /// The role this process plays; none: the whole run, every role here.
    #[command(subcommand)]
    pub role: Option<R>,

    /// `--fast` and `--trace FILE`.
    #[command(flatten)]
    pub common: Common,
}

/// Parses the command line into `A`, as `A::parse()` does, and also
/// refuses an option of the default run given with a subcommand
/// (`exp11-value --iterations 5 example`), which clap would otherwise
/// accept and ignore. The flags of [`Common`] are global: they are
/// accepted anywhere. Bad usage ends the program with exit code 2.
pub fn parse<A: clap::Parser>() -> A {
    parse_with(|_| None)
}

/// [`parse`], then `conflict`, a rule across the flags that clap cannot
/// state: the message it returns ends the program as bad usage (exit
/// code 2), after clap's usage line.
pub fn parse_with<A: clap::Parser>(
    conflict: impl FnOnce(&clap::ArgMatches) -> Option<String>,
) -> A {
    let mut command = A::command();
    let matches = command.get_matches_mut();
    if let Some((subcommand, _)) = matches.subcommand() {
        let misplaced = command.get_arguments().find(|arg| {
            !arg.is_global_set()
                && matches.value_source(arg.get_id().as_str())
                    == Some(clap::parser::ValueSource::CommandLine)
        });
        if let Some(arg) = misplaced {
            let flag = arg
                .get_long()
                .map_or_else(|| arg.get_id().to_string(), |long| format!("--{long}"));
            command
                .error(
                    clap::error::ErrorKind::ArgumentConflict,
                    format!("{flag} belongs to the default run, not to `{subcommand}`"),
                )
                .exit();
        }
    }
    if let Some(rule) = conflict(&matches) {
        command
            .error(clap::error::ErrorKind::ArgumentConflict, rule)
            .exit();
    }
    A::from_arg_matches(&matches).unwrap_or_else(|error| error.format(&mut command).exit())
}

/// A clap value parser for a whole number of `unit` in `range`, whose error
/// states the rule in words, whatever was wrong: `-1`, `abc`, `0` or a
/// number too large for 64 bits all get
/// `expected a whole number of passes from 1 to 5000000 (NOTE)`, instead
/// of clap's `unexpected argument '-1' found` or `0 is not in 1..…`.
///
/// An empty `unit` leaves out the words "of UNIT". Pair it with
/// `allow_hyphen_values = true`, so that a negative number
/// reaches the parser instead of being taken for a flag:
///
/// ```
/// use clap::Parser;
///
/// #[derive(Parser)]
/// struct Args {
///     #[arg(long, allow_hyphen_values = true,
///           value_parser = ipc_cli::whole_number(0..=60, "seconds", ""))]
///     delay: u64,
/// }
///
/// assert_eq!(Args::try_parse_from(["demo", "--delay", "5"]).unwrap().delay, 5);
/// let error = Args::try_parse_from(["demo", "--delay", "-1"]).err().unwrap();
/// assert!(
///     error.to_string().contains("expected a whole number of seconds from 0 to 60"),
///     "{error}"
/// );
/// ```
pub fn whole_number(
    range: std::ops::RangeInclusive<u64>,
    unit: &'static str,
    note: &'static str,
) -> impl Fn(&str) -> std::result::Result<u64, String> + Clone + Send + Sync + 'static {
    move |text: &str| {
        text.trim()
            .parse::<u64>()
            .ok()
            .filter(|n| range.contains(n))
            .ok_or_else(|| {
                let (low, high) = (range.start(), range.end());
                let bounds = if *high == u64::MAX {
                    format!(", {low} or more")
                } else {
                    format!(" from {low} to {high}")
                };
                let note = if note.is_empty() {
                    String::new()
                } else {
                    format!(" ({note})")
                };
                let of = if unit.is_empty() {
                    String::new()
                } else {
                    format!(" of {unit}")
                };
                format!("expected a whole number{of}{bounds}{note}")
            })
    }
}

/// A clap value parser for a comma-separated list of `count` whole numbers,
/// each in `range` (`3,8,5`, `-7`, blanks around an item allowed), whose
/// error states the rule in words, whatever was wrong: `expected a
/// comma-separated list of 1 to 16 whole numbers from -10000 to 10000
/// (NOTE)`. An empty `note` leaves out the parenthesis. Pair it with
/// `allow_hyphen_values = true`, so that a list starting with a negative
/// number reaches the parser.
///
/// ```
/// let parse = ipc_cli::whole_numbers(1..=3, -10..=10, "their squares fit");
/// assert_eq!(parse("3, -8,5"), Ok(vec![3, -8, 5]));
/// for bad in ["", "1,,2", "x", "11", "1.5", "1,2,3,4"] {
///     let error = parse(bad).unwrap_err();
///     assert!(error.contains("1 to 3 whole numbers from -10 to 10 (their squares fit)"), "{error}");
/// }
/// ```
pub fn whole_numbers<T>(
    count: std::ops::RangeInclusive<usize>,
    range: std::ops::RangeInclusive<T>,
    note: &'static str,
) -> impl Fn(&str) -> std::result::Result<Vec<T>, String> + Clone + Send + Sync + 'static
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display + Clone + Send + Sync + 'static,
{
    move |text: &str| {
        let rule = || {
            let note = if note.is_empty() {
                String::new()
            } else {
                format!(" ({note})")
            };
            format!(
                "expected a comma-separated list of {} to {} whole numbers from {} to {}{note}",
                count.start(),
                count.end(),
                range.start(),
                range.end()
            )
        };
        let numbers: Vec<T> = text
            .split(',')
            .map(|item| item.trim().parse::<T>().ok().filter(|n| range.contains(n)))
            .collect::<Option<_>>()
            .ok_or_else(rule)?;
        if !count.contains(&numbers.len()) {
            return Err(rule());
        }
        Ok(numbers)
    }
}

/// A value parser for clap: a number of seconds (a fraction allowed)
/// above 0 and at most `max`; anything else is refused with that rule in
/// words (`"0" is not a number of seconds above 0 and at most 3600`).
///
/// ```
/// let parse = ipc_cli::seconds(60.0);
/// assert_eq!(parse("2.5"), Ok(2.5));
/// assert!(parse("0").unwrap_err().contains("above 0 and at most 60"));
/// assert!(parse("NaN").is_err() && parse("61").is_err());
/// ```
pub fn seconds(
    max: f64,
) -> impl Fn(&str) -> std::result::Result<f64, String> + Clone + Send + Sync + 'static {
    move |text: &str| match text.trim().parse::<f64>() {
        Ok(s) if s > 0.0 && s <= max => Ok(s),
        _ => Err(format!(
            "{text:?} is not a number of seconds above 0 and at most {max}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser, Debug)]
    struct Program {
        #[command(flatten)]
        common: Common,
    }

    #[test]
    fn a_trace_file_that_cannot_be_written_safely_is_refused_before_the_run() {
        let dir = std::env::temp_dir().join(format!("ipc-cli-trace-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let precious = dir.join("precious.txt");
        std::fs::write(&precious, "precious").unwrap();
        std::os::unix::fs::symlink(&precious, dir.join("planted.json")).unwrap();
        std::fs::create_dir(dir.join("taken.json")).unwrap();
        let long = format!("{}.json", "x".repeat(300));
        for (name, why) in [
            ("planted.json", "symbolic link"),
            ("taken.json", "a directory"),
            (long.as_str(), "longer than"),
            ("no/such/run.json", "does not exist"),
            ("run.txt", "must end in .json"),
        ] {
            let path = dir.join(name);
            let error =
                Program::try_parse_from(["x", "--trace", path.to_str().unwrap()]).unwrap_err();
            assert_eq!(error.exit_code(), 2, "{name}: {error}");
            assert!(error.to_string().contains(why), "{name}: {error}");
        }
        let fine = dir.join("run.json");
        let parsed = Program::try_parse_from(["x", "--trace", fine.to_str().unwrap()]).unwrap();
        assert_eq!(parsed.common.trace.as_deref(), Some(fine.as_path()));
        assert_eq!(std::fs::read_to_string(&precious).unwrap(), "precious");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
