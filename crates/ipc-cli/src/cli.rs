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

/// A list given as one comma-separated flag value (`--numbers 3,8,5`), as
/// the list parsers ([`whole_numbers`], [`printable_texts`]) return it.
///
/// clap reads a field of type `Option<Vec<T>>` as a flag that may be given
/// many times, one item each; an `Option<List<T>>` is one flag whose value
/// holds every item.
///
/// ```
/// use clap::Parser;
/// use ipc_cli::List;
///
/// #[derive(Parser)]
/// struct Args {
///     #[arg(long, allow_hyphen_values = true,
///           value_parser = ipc_cli::whole_numbers(1..=4, -9..=9, ""))]
///     numbers: Option<List<i32>>,
/// }
///
/// const SEED: [i32; 4] = [1, 2, 3, 4];
/// let given = Args::try_parse_from(["demo", "--numbers", "-3,8"]).unwrap();
/// assert_eq!(List::or_seed(given.numbers, &SEED), [-3, 8]);
/// let none = Args::try_parse_from(["demo"]).unwrap();
/// assert_eq!(List::or_seed(none.numbers, &SEED), SEED);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct List<T>(pub Vec<T>);

impl<T: Clone> List<T> {
    /// The items the flag gave, or the handout's own `seed` list when it
    /// was not given.
    pub fn or_seed(given: Option<List<T>>, seed: &[T]) -> Vec<T> {
        given.map_or_else(|| seed.to_vec(), |list| list.0)
    }
}

/// The largest whole number whose square still fits in an `i64`:
/// ⌊√(2⁶³ − 1)⌋. The client–server experiments square what their clients
/// send, and take numbers from `-MAX_SQUARABLE` to `MAX_SQUARABLE`.
pub const MAX_SQUARABLE: i64 = 3_037_000_499;

/// [`whole_numbers`] for `--numbers` of the client–server experiments:
/// `count` numbers, one per client, each from -[`MAX_SQUARABLE`] to
/// [`MAX_SQUARABLE`], so that the server can square every one.
///
/// ```
/// let parse = ipc_cli::squarable_numbers(1..=2);
/// assert_eq!(parse("-3037000499,7"), Ok(ipc_cli::List(vec![-3_037_000_499, 7])));
/// let error = parse("3037000500").unwrap_err();
/// assert!(error.contains("from -3037000499 to 3037000499 (one per client; their squares fit in 64 bits)"), "{error}");
/// assert!(ipc_cli::MAX_SQUARABLE.checked_mul(ipc_cli::MAX_SQUARABLE).is_some());
/// assert!((ipc_cli::MAX_SQUARABLE + 1).checked_mul(ipc_cli::MAX_SQUARABLE + 1).is_none());
/// ```
pub fn squarable_numbers(
    count: std::ops::RangeInclusive<usize>,
) -> impl Fn(&str) -> std::result::Result<List<i64>, String> + Clone + Send + Sync + 'static {
    whole_numbers(
        count,
        -MAX_SQUARABLE..=MAX_SQUARABLE,
        "one per client; their squares fit in 64 bits",
    )
}

/// Clients the default run of a client–server experiment forks unless
/// `--clients` says otherwise.
pub const DEFAULT_CLIENTS: u32 = 3;

/// `--clients` and `--numbers`, the flags the two client–server
/// experiments (exp1-sockets, exp3-clientserver) give their default run:
/// how many clients it forks, or the number each one sends.
///
/// ```
/// use clap::Parser;
///
/// #[derive(Parser)]
/// struct Args {
///     #[command(flatten)]
///     clients: ipc_cli::Clients,
/// }
///
/// let plus_five = |n: u32| i64::from(n) + 5;
/// let default = Args::try_parse_from(["demo"]).unwrap();
/// assert_eq!(default.clients.numbers(plus_five), [6, 7, 8]);
/// let two = Args::try_parse_from(["demo", "--clients", "2"]).unwrap();
/// assert_eq!(two.clients.numbers(plus_five), [6, 7]);
/// let given = Args::try_parse_from(["demo", "--numbers", "-4,9"]).unwrap();
/// assert_eq!(given.clients.numbers(plus_five), [-4, 9]);
/// assert!(Args::try_parse_from(["demo", "--clients", "2", "--numbers", "1"]).is_err());
/// let sixty_five = vec!["1"; 65].join(",");
/// for bad in ["", "1,,2", "x", "3037000500", "1.5", &sixty_five] {
///     assert!(Args::try_parse_from(["demo", "--numbers", bad]).is_err(), "{bad:?}");
/// }
/// ```
#[derive(Debug, Clone, clap::Args)]
pub struct Clients {
    /// Clients the default run forks (client N sends N + 5)
    #[arg(long, value_name = "N", default_value_t = DEFAULT_CLIENTS,
          value_parser = clap::value_parser!(u32).range(1..=64))]
    pub clients: u32,

    /// The numbers the default run's clients send instead of N + 5, one
    /// client each: 1 to 64 comma-separated whole numbers from -3037000499
    /// to 3037000499 (12,-7,40)
    #[arg(long, value_name = "N,N,...", allow_hyphen_values = true, conflicts_with = "clients",
          value_parser = squarable_numbers(1..=64))]
    pub numbers: Option<List<i64>>,
}

impl Clients {
    /// What the default run's clients send, client 1's first: the numbers
    /// of `--numbers`, or else `number_of(n)` for each client `n` of
    /// `--clients`.
    pub fn numbers(&self, number_of: impl Fn(u32) -> i64) -> Vec<i64> {
        match &self.numbers {
            Some(numbers) => numbers.0.clone(),
            None => (1..=self.clients).map(number_of).collect(),
        }
    }
}

/// `--numbers`, the list seed 000's `p1` squares (exp7-shm into shared
/// memory, exp7-queue onto a queue) instead of the seed's `mylist`: 1 to
/// 16 whole numbers from -10000 to 10000, so that every square, and the
/// sum of sixteen of them, fit a C `int` (1.6 × 10⁹ < 2³¹).
///
/// ```
/// use clap::Parser;
///
/// #[derive(Parser)]
/// struct Args {
///     #[command(flatten)]
///     mylist: ipc_cli::Mylist,
/// }
///
/// let seed = [1, 2, 3, 4];
/// let default = Args::try_parse_from(["demo"]).unwrap();
/// assert_eq!(default.mylist.or_seed(&seed), [1, 2, 3, 4]);
/// let given = Args::try_parse_from(["demo", "--numbers", "-7, 8"]).unwrap();
/// assert_eq!(given.mylist.or_seed(&seed), [-7, 8]);
/// let seventeen = vec!["1"; 17].join(",");
/// for bad in ["", "1,,2", "x", "10001", "1.5", &seventeen] {
///     let error = Args::try_parse_from(["demo", "--numbers", bad]).err().unwrap();
///     assert!(error.to_string().contains("from -10000 to 10000"), "{bad:?}: {error}");
/// }
/// ```
#[derive(Debug, Clone, clap::Args)]
pub struct Mylist {
    /// The list p1 squares instead of the seed's 1,2,3,4: 1 to 16
    /// comma-separated whole numbers from -10000 to 10000 (3,8,5)
    #[arg(long, value_name = "N,N,...", allow_hyphen_values = true,
          value_parser = whole_numbers(1..=16, -10_000..=10_000, "their squares and the sum fit a C int"))]
    pub numbers: Option<List<i32>>,
}

impl Mylist {
    /// The list to square: `--numbers`, or else `seed`.
    pub fn or_seed(&self, seed: &[i32]) -> Vec<i32> {
        List::or_seed(self.numbers.clone(), seed)
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
/// assert_eq!(parse("3, -8,5"), Ok(ipc_cli::List(vec![3, -8, 5])));
/// for bad in ["", "1,,2", "x", "11", "1.5", "1,2,3,4"] {
///     let error = parse(bad).unwrap_err();
///     assert!(error.contains("1 to 3 whole numbers from -10 to 10 (their squares fit)"), "{error}");
/// }
/// ```
pub fn whole_numbers<T>(
    count: std::ops::RangeInclusive<usize>,
    range: std::ops::RangeInclusive<T>,
    note: &'static str,
) -> impl Fn(&str) -> std::result::Result<List<T>, String> + Clone + Send + Sync + 'static
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
        Ok(List(numbers))
    }
}

/// True for one line of printable text of 1 to `max_bytes` bytes: not
/// only spaces, and no control character (no line break, no tab).
///
/// ```
/// assert!(ipc_cli::printable("two words?", 10));
/// for bad in ["", "   ", "two\nlines", "tab\there", "eleven byte"] {
///     assert!(!ipc_cli::printable(bad, 10), "{bad:?}");
/// }
/// ```
pub fn printable(text: &str, max_bytes: usize) -> bool {
    !text.trim().is_empty() && text.len() <= max_bytes && !text.chars().any(char::is_control)
}

/// A clap value parser for one line of [`printable`] text of 1 to
/// `max_bytes` bytes, whose error states the rule in words: `expected a
/// message of 1 to 64 bytes of printable text (NOTE)`. An empty `noun`
/// leaves out the words "NOUN of".
///
/// ```
/// let parse = ipc_cli::printable_text("a message", 8, "it is sent as one line");
/// assert_eq!(parse("hi there"), Ok("hi there".to_string()));
/// let error = parse("tab\there").unwrap_err();
/// assert_eq!(error, "expected a message of 1 to 8 bytes of printable text (it is sent as one line)");
/// ```
pub fn printable_text(
    noun: &'static str,
    max_bytes: usize,
    note: &'static str,
) -> impl Fn(&str) -> std::result::Result<String, String> + Clone + Send + Sync + 'static {
    move |text: &str| {
        if printable(text, max_bytes) {
            return Ok(text.to_owned());
        }
        let of = if noun.is_empty() {
            String::new()
        } else {
            format!("{noun} of ")
        };
        Err(format!(
            "expected {of}1 to {max_bytes} bytes of printable text ({note})"
        ))
    }
}

/// A clap value parser for a comma-separated list of `count` messages,
/// each [`printable`] text of 1 to `max_bytes` bytes and none of them one
/// of `refused`, whose error states the rule in words: `expected 1 to 16
/// comma-separated messages of 1 to 64 bytes of printable text` and
/// `rest`, the rest of the rule.
///
/// ```
/// let parse = ipc_cli::printable_texts(1..=2, 8, &["END"], ", not END");
/// assert_eq!(parse("a b,c?"), Ok(ipc_cli::List(vec!["a b".to_string(), "c?".to_string()])));
/// for bad in ["", "a,,b", "a,END", "a,b,c", "nine byte"] {
///     let error = parse(bad).unwrap_err();
///     assert!(error.ends_with("1 to 8 bytes of printable text, not END"), "{bad:?}: {error}");
/// }
/// ```
pub fn printable_texts(
    count: std::ops::RangeInclusive<usize>,
    max_bytes: usize,
    refused: &'static [&'static str],
    rest: &'static str,
) -> impl Fn(&str) -> std::result::Result<List<String>, String> + Clone + Send + Sync + 'static {
    move |text: &str| {
        let messages: Vec<String> = text.split(',').map(str::to_owned).collect();
        let fits = |m: &String| printable(m, max_bytes) && !refused.contains(&m.as_str());
        if count.contains(&messages.len()) && messages.iter().all(fits) {
            return Ok(List(messages));
        }
        Err(format!(
            "expected {} to {} comma-separated messages of 1 to {max_bytes} bytes of printable text{rest}",
            count.start(),
            count.end()
        ))
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
