//! Evidence that a run did its inter-process work, for the graded checks.
//!
//! A program can print the handout's lines without doing the lab's work:
//! compute in the parent, skip the child, skip the lock, use another
//! mechanism. The checks of this module catch it in two ways, on the real
//! binary:
//!
//! * **inputs the handout never shows**: [`Inputs`] chooses them at run
//!   time (other numbers, another message, other counts), from a seed
//!   taken from [`SEED_VAR`] when it is set (an instructor reproduces a
//!   run) and fresh otherwise; the check computes the expected lines
//!   itself, and every failure shows the inputs and the seed;
//! * **the run's timeline**: [`Inputs::run`] runs the program with
//!   `--trace <tmp>.json` (in a [`TempDir`](crate::TempDir)) and parses
//!   the timeline that ipc-core's mechanisms recorded by themselves, not
//!   the program's prints. Each contract of the labs is one method of
//!   [`Evidence`], given only what differs from one experiment to the
//!   next:
//!
//! | contract | method | what the timeline must show |
//! | --- | --- | --- |
//! | shared data crossed | [`Evidence::assert_data_crossed`] | each element written with its value by a process other than the reader, and read by the reader after that write |
//! | messages crossed | [`Evidence::assert_messages_crossed`] | each message sent on a channel of the lab's kind by one process and received from it by another |
//! | updates inside the lock | [`Evidence::assert_updates`] | each read-modify-write of a shared value made by the expected processes, read and write inside one hold of the value's own lock |
//! | producers and consumers | [`Evidence::assert_producers_and_consumers`] | producers and consumers in distinct processes, producers acquiring the semaphore consumers release and the other way round |
//! | processes at the same time | [`Evidence::assert_concurrent`] | every named process started before any of them ended |
//! | lines of processes at once | [`Evidence::assert_interleaved`] | (the output, not the timeline) each process's lines in order, however they interleave |
//! | values passed through shared slots | [`Evidence::assert_values_passed`] | each value written into an element by a writer and read from that element by a reader after that write |
//! | shared slots under one lock | [`Evidence::assert_passed_under_a_lock`] | every access of those slots by the writers and readers made while holding one and the same lock |
//! | phases apart | [`Evidence::assert_phases`] | each worker writing its cell of every row, reading the cells of the row before with their values, and no row's write before the last write of the row before |
//! | waits that sleep | [`Evidence::assert_waited_for_changes`] | a process that held the lock of the slots without touching them takes it again only after another process touched them |
//! | updates of a key-value entry | [`Evidence::assert_updates_by_revision`] | each read-modify-write of the entry made by the expected processes, each write a compare-and-set on the revision its read found |
//! | a final value read | [`Evidence::assert_final_value_read`] | the reader read the value it printed after the last write of the object |
//! | (a query) messages between two processes | [`Evidence::texts_crossed`] | the texts a sender sent on a channel and a receiver received, for checks that parse them |
//!
//! A failure says first, in a student's words, what the timeline lacks and
//! what that means for the lab ("no process but exp7-shm wrote 9 into
//! the shared Array at index 0: the squares were not computed in the
//! child"), then the chosen inputs and the seed, what the timeline does
//! show, and the whole run.
//!
//! # Example
//!
//! A graded check of `exp7-shm` (in `exercises/exp7-shm/tests/work.rs`):
//!
//! ```no_run
//! use ipc_testkit::evidence::{Crossing, Inputs, py_list};
//!
//! const BIN: &str = "target/debug/exp7-shm"; // env!("CARGO_BIN_EXE_exp7-shm") in a test
//!
//! let mut inputs = Inputs::new();
//! let numbers = inputs.numbers("numbers", 2..=7, -40..=40);
//! let list: Vec<String> = numbers.iter().map(i64::to_string).collect();
//! let evidence = inputs.run(BIN, &["--numbers", &list.join(",")]);
//! let squares: Vec<i64> = numbers.iter().map(|n| n * n).collect();
//! evidence.assert_prints(&[
//!     format!("Result(in process p1): {}", py_list(&squares)),
//!     // … every line the reference prints for these numbers
//! ]);
//! let values: Vec<String> = squares.iter().map(i64::to_string).collect();
//! evidence.assert_data_crossed(&Crossing {
//!     object: "array",
//!     called: "the shared Array",
//!     values: &values,
//!     writers: &["p1"],
//!     meaning: "the squares were not computed in the child",
//!     ..Crossing::default()
//! });
//! ```
//!
//! The labels to look for are the ones ipc-core gives its objects: `value`,
//! `array`, `raw value`, `raw array` (a named segment: its name), `queue`,
//! `pipe`, `socketpair 1>2` and `socketpair 2>1`, a message queue or FIFO
//! by its name, `lock`, `semaphore (initial value N)`. The texts of
//! messages and values are as Python prints them: `16`, `'First'` (see
//! [`quoted`] and [`py_list`]).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::{self, Display, Write as _};
use std::ops::RangeInclusive;

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

/// The generator's methods (`random_range`, `random_bool`), for the
/// choices a check makes through [`Inputs::rng`].
pub use rand::Rng;

use crate::run::{Run, run_command};
use crate::trace::{Parsed, Recorded, Track, parse_json};

/// The environment variable that fixes the seed of the inputs a check
/// chooses (a whole number): set it to the seed a failure printed to
/// repeat that failure's inputs.
pub const SEED_VAR: &str = "IPC_LAB_CHECK_SEED";

/// Words for messages the handouts never show (none of `First`, `second`,
/// `third?`, `END`, `Hello`).
const WORDS: [&str; 40] = [
    "amber", "basil", "cobalt", "dune", "ember", "fjord", "garnet", "harbor", "indigo", "juniper",
    "kestrel", "lagoon", "maple", "nectar", "onyx", "pepper", "quartz", "raven", "saffron",
    "tundra", "umber", "violet", "walnut", "xenon", "yarrow", "zephyr", "acorn", "birch", "cedar",
    "delta", "falcon", "glacier", "heron", "iris", "jasper", "lotus", "meadow", "nimbus", "orchid",
    "prairie",
];

/// The inputs one check chooses, and the seed that chose them.
///
/// ```
/// use ipc_testkit::evidence::Inputs;
/// let mut a = Inputs::seeded(7);
/// let mut b = Inputs::seeded(7);
/// assert_eq!(a.numbers("numbers", 3..=3, 0..=9), b.numbers("numbers", 3..=3, 0..=9));
/// assert!(a.to_string().contains("numbers = [") && a.to_string().contains("IPC_LAB_CHECK_SEED=7"));
/// ```
#[derive(Debug)]
pub struct Inputs {
    seed: u64,
    rng: StdRng,
    chosen: Vec<(String, String)>,
}

impl Default for Inputs {
    fn default() -> Self {
        Inputs::new()
    }
}

impl Inputs {
    /// Inputs from the seed in [`SEED_VAR`] when it is set, otherwise
    /// from a fresh one.
    ///
    /// # Panics
    /// When [`SEED_VAR`] is set to something that is not a whole number.
    pub fn new() -> Inputs {
        match std::env::var(SEED_VAR) {
            Ok(text) => Inputs::seeded(text.trim().parse().unwrap_or_else(|_| {
                panic!("{SEED_VAR}={text:?}: expected a whole number (a seed a check printed)")
            })),
            Err(_) => Inputs::seeded(rand::random()),
        }
    }

    /// Inputs from `seed`: the same seed chooses the same inputs.
    pub fn seeded(seed: u64) -> Inputs {
        Inputs {
            seed,
            rng: StdRng::seed_from_u64(seed),
            chosen: Vec::new(),
        }
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The generator, for choices of a check's own; [`Inputs::note`] what
    /// it chose, so that a failure shows it.
    pub fn rng(&mut self) -> &mut StdRng {
        &mut self.rng
    }

    /// Notes an input under `name`, for the failure messages.
    pub fn note(&mut self, name: &str, value: impl Display) {
        self.chosen.push((name.to_owned(), value.to_string()));
    }

    /// A whole number in `range`, noted as `name`.
    pub fn number(&mut self, name: &str, range: RangeInclusive<i64>) -> i64 {
        let n = self.rng.random_range(range);
        self.note(name, n);
        n
    }

    /// A list of numbers in `values`, of a length in `len`, noted as
    /// `name`.
    pub fn numbers(
        &mut self,
        name: &str,
        len: RangeInclusive<usize>,
        values: RangeInclusive<i64>,
    ) -> Vec<i64> {
        let len = self.rng.random_range(len);
        let numbers: Vec<i64> = (0..len)
            .map(|_| self.rng.random_range(values.clone()))
            .collect();
        self.note(name, py_list(&numbers));
        numbers
    }

    /// Distinct words that no handout shows, as many as a number in
    /// `count` (at most 40), noted as `name`.
    pub fn words(&mut self, name: &str, count: RangeInclusive<usize>) -> Vec<String> {
        let count = self.rng.random_range(count).min(WORDS.len());
        let mut words: Vec<String> = WORDS.iter().map(|w| (*w).to_owned()).collect();
        words.shuffle(&mut self.rng);
        words.truncate(count);
        self.note(name, words.join(","));
        words
    }

    /// One of `choices`, noted as `name`.
    ///
    /// # Panics
    /// If `choices` is empty.
    pub fn pick<T: Clone + Display>(&mut self, name: &str, choices: &[T]) -> T {
        let choice = choices[self.rng.random_range(0..choices.len())].clone();
        self.note(name, &choice);
        choice
    }

    /// Runs `program args --trace <tmp>.json` with no input and returns
    /// the run with its timeline (see [`Inputs::run_with_input`]).
    #[track_caller]
    pub fn run(&self, program: &str, args: &[&str]) -> Evidence {
        self.run_with_input(program, args, b"")
    }

    /// Runs `program args` as [`Inputs::run`] does, and after them `flag`
    /// and the `chosen` numbers comma-separated (`--numbers 3,1,4`); with
    /// `None`, without the flag: the run then uses the handout's own
    /// numbers.
    #[track_caller]
    pub fn run_on(
        &self,
        program: &str,
        args: &[&str],
        flag: &str,
        chosen: Option<&[i64]>,
    ) -> Evidence {
        let all = with_chosen(args, flag, chosen);
        let all: Vec<&str> = all.iter().map(String::as_str).collect();
        self.run(program, &all)
    }

    /// Runs `program args --trace <tmp>.json`, feeding `input` on
    /// standard input, within [`crate::DEFAULT_TIMEOUT`], and returns the
    /// run and the timeline it wrote.
    ///
    /// # Panics
    /// When the run reached a part still to write (a starter's `todo!()`,
    /// named first), or wrote no trace that parses: with the inputs, the
    /// seed and the run.
    #[track_caller]
    pub fn run_with_input(&self, program: &str, args: &[&str], input: &[u8]) -> Evidence {
        let dir = crate::TempDir::new("evidence");
        let path = dir.join("run.json");
        let mut command = std::process::Command::new(program);
        command.args(args).arg("--trace").arg(&path);
        let run = run_command(command, Some(input), crate::DEFAULT_TIMEOUT);
        run.assert_finished();
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "the run wrote no timeline ({}: {e}): it must end by itself with exit code 0\n  {self}\n{run}",
                path.display()
            )
        });
        let trace = parse_json(&text)
            .unwrap_or_else(|e| panic!("the run's timeline does not parse: {e}\n  {self}\n{run}"));
        Evidence {
            run,
            trace,
            inputs: self.to_string(),
        }
    }
}

/// `args`, then `flag` and the `chosen` numbers comma-separated, if any
/// (see [`Inputs::run_on`]).
fn with_chosen(args: &[&str], flag: &str, chosen: Option<&[i64]>) -> Vec<String> {
    let mut all: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    if let Some(numbers) = chosen {
        let texts: Vec<String> = numbers.iter().map(i64::to_string).collect();
        all.extend([flag.to_owned(), texts.join(",")]);
    }
    all
}

impl Display for Inputs {
    /// `inputs: numbers = [3, 8, 5]; check seed 42 (IPC_LAB_CHECK_SEED=42
    /// repeats these inputs)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let chosen: Vec<String> = self
            .chosen
            .iter()
            .map(|(name, value)| format!("{name} = {value}"))
            .collect();
        let chosen = if chosen.is_empty() {
            "the handout's own".to_owned()
        } else {
            chosen.join("; ")
        };
        write!(
            f,
            "inputs: {chosen}; check seed {seed} ({SEED_VAR}={seed} repeats these inputs)",
            seed = self.seed
        )
    }
}

/// `[1, 4, 9]`: numbers as Python prints a list.
///
/// ```
/// assert_eq!(ipc_testkit::evidence::py_list(&[1, -4]), "[1, -4]");
/// ```
pub fn py_list<T: Display>(values: &[T]) -> String {
    let items: Vec<String> = values.iter().map(ToString::to_string).collect();
    format!("[{}]", items.join(", "))
}

/// `'text'`: a string as Python prints it in a list, which is how the
/// timeline shows a string message (without quotes or backslashes, as
/// the words [`Inputs::words`] chooses).
///
/// ```
/// assert_eq!(ipc_testkit::evidence::quoted("amber"), "'amber'");
/// ```
pub fn quoted(text: &str) -> String {
    format!("'{text}'")
}

/// A run of the real binary and the timeline it recorded.
#[derive(Debug)]
pub struct Evidence {
    /// The run.
    pub run: Run,
    /// Its timeline, parsed.
    pub trace: Parsed,
    inputs: String,
}

/// What [`Evidence::assert_data_crossed`] looks for: shared data written by
/// one process and read by another after it.
#[derive(Debug, Clone, Default)]
pub struct Crossing<'a> {
    /// The object's label in the timeline: `array`, `value`, `raw array`,
    /// `raw value` (a named segment: its name).
    pub object: &'a str,
    /// How a student calls it: `the shared Array`.
    pub called: &'a str,
    /// The value each element must end with, as Python prints it
    /// (element `i` is `values[i]`; a value has one element).
    pub values: &'a [String],
    /// The process that must write each element (`writers[i]`, the last
    /// one for the elements past the end); empty: any process but the
    /// reader.
    pub writers: &'a [&'a str],
    /// The process that must read every element after it was written;
    /// `None`: the run's first process.
    pub reader: Option<&'a str>,
    /// Every read and write of the object by a writer inside one hold of
    /// the object's own lock (seed 002's `with arr.get_lock():`).
    pub one_hold: bool,
    /// What the lack means for the lab: `the squares were not computed in
    /// the child`.
    pub meaning: &'a str,
    /// How many distinct objects must show it (0 counts as 1): the menu
    /// of exp7 runs the same experiment several times.
    pub times: usize,
}

/// What [`Evidence::assert_messages_crossed`] looks for: messages sent by
/// one process and received by another.
#[derive(Debug, Clone, Default)]
pub struct Messages<'a> {
    /// The start of the channel's label: `queue`, `pipe`, `socketpair`, a
    /// message queue's name (`/ipc-lab-`).
    pub channel: &'a str,
    /// How a student calls it: `the Queue`.
    pub called: &'a str,
    /// The messages as the timeline shows them (`16`, `'First'`), in the
    /// order they must be received when `in_order`; a repeated text must
    /// cross as many times.
    pub texts: &'a [String],
    /// The process that must send them; `None`: any.
    pub sender: Option<&'a str>,
    /// The process that must receive them; `None`: any other than the
    /// sender.
    pub receiver: Option<&'a str>,
    /// Received in the order of `texts`.
    pub in_order: bool,
    /// What the lack means for the lab.
    pub meaning: &'a str,
}

/// What [`Evidence::assert_updates`] looks for: read-modify-writes of one
/// shared value, by the processes that must make them.
#[derive(Debug, Clone, Default)]
pub struct Updates<'a> {
    /// The object's label: `value`, `raw value`.
    pub object: &'a str,
    /// How a student calls it: `the shared Value`.
    pub called: &'a str,
    /// How many updates each process must make: `[("p1", 20), ("p2", 40)]`.
    pub by: &'a [(&'a str, u64)],
    /// What an update adds to the value its process read just before it.
    pub step: i64,
    /// The read and the write of each update inside one hold of the
    /// value's own lock.
    pub locked: bool,
    /// What the lack means for the lab.
    pub meaning: &'a str,
}

impl Updates<'_> {
    /// The value `who` read (the read just before, if any) and the value it
    /// wrote in `write`, if they make an update by `step`; otherwise what
    /// is wrong with them.
    fn update<'e>(
        &self,
        who: &str,
        read: Option<&'e Recorded>,
        write: &Recorded,
    ) -> Result<(&'e Recorded, i128, i128), String> {
        let called = self.called;
        let Some(read) = read else {
            return Err(format!(
                "{who} wrote {} into {called} without reading it just before ({write})",
                write.text()
            ));
        };
        let (Ok(old), Ok(new)) = (read.text().parse::<i128>(), write.text().parse::<i128>()) else {
            return Err(format!(
                "{who} read {:?} and wrote {:?}: not whole numbers",
                read.text(),
                write.text()
            ));
        };
        if new - old != i128::from(self.step) {
            return Err(format!(
                "{who} read {old} from {called} and wrote {new}: an update adds {}",
                self.step
            ));
        }
        Ok((read, old, new))
    }

    /// Ok if every process made its number of updates, counted in `made`;
    /// otherwise the first that did not.
    fn all_made(&self, made: &BTreeMap<&str, u64>) -> Result<(), String> {
        for (name, expected) in self.by {
            let actual = made.get(name).copied().unwrap_or(0);
            if actual != *expected {
                return Err(format!(
                    "{name} made {actual} updates of {}, not {expected}",
                    self.called
                ));
            }
        }
        Ok(())
    }
}

/// What [`Evidence::assert_producers_and_consumers`] looks for.
#[derive(Debug, Clone, Default)]
pub struct ProducersConsumers<'a> {
    /// The names of the producers' processes (each at least once).
    pub producers: &'a [&'a str],
    /// The names of the consumers' processes.
    pub consumers: &'a [&'a str],
    /// What the lack means for the lab.
    pub meaning: &'a str,
}

/// A reason a candidate object fails, with how far it got (the most
/// advanced candidate's reason is the one reported).
struct Shortfall {
    progress: usize,
    reason: String,
}

impl Evidence {
    /// Panics with `lacks` first (what the timeline lacks, in a student's
    /// words), then the inputs and the seed, `shows` (what the timeline
    /// does show, when given) and the whole run. A run that reached a part
    /// still to write says so first.
    #[track_caller]
    pub fn fail(&self, lacks: impl Display, shows: &str) -> ! {
        self.run.assert_finished();
        let shows = if shows.is_empty() {
            String::new()
        } else {
            format!("\n  the timeline shows:\n{shows}")
        };
        panic!("{lacks}\n  {}{shows}\n{}", self.inputs, self.run)
    }

    /// Panics: `called` (what the student calls the object labelled
    /// `label`) is not in the timeline, because the run `never` did what
    /// makes one, when said; `meaning` is what the lack means for the lab.
    #[track_caller]
    fn fail_missing(&self, called: &str, label: &str, meaning: &str, never: Option<&str>) -> ! {
        let never = never.map_or_else(String::new, |did| format!(": the run never {did}"));
        self.fail(
            format!(
                "{called} is missing from the timeline (no object labelled {label:?}{never}): {meaning}"
            ),
            "",
        )
    }

    /// Panics unless the run finished, with exit code 0.
    #[track_caller]
    fn assert_succeeded(&self) {
        self.run.assert_finished();
        if self.run.code() != Some(0) {
            self.fail(
                format!(
                    "the run ended with {} instead of exit code 0",
                    self.run.status
                ),
                "",
            );
        }
    }

    /// Panics unless the last line on standard output is `line`, which a
    /// program prints once its processes have ended (`why`, in a student's
    /// words: `the parent prints it once it joined both`); the failure
    /// shows the inputs, the seed and the run.
    #[track_caller]
    pub fn assert_last_line(&self, line: &str, why: &str) -> &Self {
        if self.run.stdout_lines().last() != Some(&line) {
            self.fail(format!("{line:?} must be the last line: {why}"), "");
        }
        self
    }

    /// Panics unless the program ended with exit code 0, printed exactly
    /// `lines` and nothing on standard error; the failure shows the
    /// inputs and the seed.
    #[track_caller]
    pub fn assert_prints<S: AsRef<str>>(&self, lines: &[S]) -> &Self {
        self.assert_succeeded();
        let expected: Vec<&str> = lines.iter().map(AsRef::as_ref).collect();
        let actual = self.run.stdout_lines();
        if let Some(difference) = crate::first_difference(&actual, &expected) {
            self.fail(
                format!(
                    "unexpected stdout for inputs the handout does not show: {difference}\n  expected:\n    {}",
                    expected.join("\n    ")
                ),
                "",
            );
        }
        if !self.run.stderr.is_empty() {
            self.fail("unexpected stderr", "");
        }
        self
    }

    /// The track of the run's first process (the program itself).
    ///
    /// # Panics
    /// When the timeline has no process.
    #[track_caller]
    pub fn first_process(&self) -> &Track {
        self.trace
            .of_kind("spawn")
            .first()
            .and_then(|spawn| self.track(spawn.track))
            .unwrap_or_else(|| self.fail("the timeline shows no process at all", ""))
    }

    fn track(&self, id: u64) -> Option<&Track> {
        self.trace.tracks.iter().find(|t| t.id == id)
    }

    /// The name of the process of track `id` (`?` if unknown).
    pub fn process_name(&self, id: u64) -> &str {
        self.track(id).map_or("?", |t| t.name.as_str())
    }

    /// The tracks of the processes named `name`.
    pub fn tracks_named(&self, name: &str) -> BTreeSet<u64> {
        self.trace
            .tracks
            .iter()
            .filter(|t| t.name == name)
            .map(|t| t.id)
            .collect()
    }

    /// The pid the timeline gives the first process named `name`, 0 if
    /// none ran (the lines and channels a check computes from it then
    /// differ, and say so).
    pub fn pid_of(&self, name: &str) -> i64 {
        self.trace
            .tracks
            .iter()
            .find(|t| t.name == name)
            .map_or(0, |t| t.pid)
    }

    /// The objects whose label is `label`, as (source, id).
    pub fn objects_labelled(&self, label: &str) -> Vec<(u64, u64)> {
        self.trace
            .objects
            .iter()
            .filter(|(_, l)| l.as_str() == label)
            .map(|(key, _)| *key)
            .collect()
    }

    /// The events of `kinds` about shared object `(source, id)`, in time
    /// order.
    fn data_events(&self, (source, id): (u64, u64), kinds: &[&str]) -> Vec<&Recorded> {
        let mut events: Vec<&Recorded> = self
            .trace
            .events
            .iter()
            .filter(|e| {
                kinds.contains(&e.kind.as_str())
                    && e.source == source
                    && e.arg_u("object") == Some(id)
            })
            .collect();
        events.sort_by_key(|e| e.ns);
        events
    }

    /// Who wrote what into object `key`, a line per process, for a
    /// failure message.
    fn writes_summary(&self, key: (u64, u64), called: &str) -> String {
        let mut by: BTreeMap<u64, Vec<String>> = BTreeMap::new();
        for write in self.data_events(key, &["write"]) {
            by.entry(write.track).or_default().push(format!(
                "[{}]={}",
                write.arg_u("index").unwrap_or(0),
                write.text()
            ));
        }
        let mut out = String::new();
        if by.is_empty() {
            let _ = writeln!(out, "    nobody wrote {called} (object {})", key.1);
        }
        for (track, writes) in by {
            let shown: Vec<&str> = writes.iter().take(12).map(String::as_str).collect();
            let more = if writes.len() > 12 {
                format!(" … ({} writes)", writes.len())
            } else {
                String::new()
            };
            let _ = writeln!(
                out,
                "    {} wrote {called} (object {}): {}{more}",
                self.process_name(track),
                key.1,
                shown.join(" ")
            );
        }
        out
    }

    /// The value element `index` had in a read event: the read's text for
    /// a read of that element, the element of the list for a read of all
    /// (`None` when the list was cut short).
    fn value_read(read: &Recorded, index: u64) -> Option<String> {
        match read.arg_u("index") {
            Some(_) => Some(read.text().to_owned()),
            None => {
                let list = read.text().trim_start_matches('[').trim_end_matches(']');
                let items: Vec<&str> = list.split(", ").collect();
                let item = items.get(usize::try_from(index).ok()?)?;
                // The last item of a cut list may be cut itself.
                let cut = read.truncated() && index as usize + 1 >= items.len();
                (!cut).then(|| (*item).to_owned())
            }
        }
    }

    /// Panics unless shared data crossed from writers to a reader: for
    /// every element `i`, a process other than the reader (the one named
    /// in `writers`, when given) wrote `values[i]` into it, and the reader
    /// read element `i` after that write and saw that value. With
    /// `one_hold`, each writer also read and wrote the object inside one
    /// hold of its own lock. See [`Crossing`].
    #[track_caller]
    pub fn assert_data_crossed(&self, crossing: &Crossing<'_>) -> &Self {
        let called = crossing.called;
        let readers: BTreeSet<u64> = match crossing.reader {
            Some(name) => self.tracks_named(name),
            None => BTreeSet::from([self.first_process().id]),
        };
        let reader_name = crossing
            .reader
            .map_or_else(|| self.first_process().name.clone(), str::to_owned);
        let candidates = self.objects_labelled(crossing.object);
        if candidates.is_empty() {
            self.fail_missing(called, crossing.object, crossing.meaning, Some("made one"));
        }
        let mut crossed = 0;
        let mut best: Option<Shortfall> = None;
        for &key in &candidates {
            match self.data_crossed_in(key, crossing, &readers, &reader_name) {
                Ok(()) => crossed += 1,
                Err(shortfall) => {
                    if best
                        .as_ref()
                        .is_none_or(|b| shortfall.progress > b.progress)
                    {
                        best = Some(shortfall);
                    }
                }
            }
        }
        let times = crossing.times.max(1);
        if crossed < times {
            let shows: String = candidates
                .iter()
                .map(|&key| self.writes_summary(key, called))
                .collect();
            let reason = match best {
                Some(shortfall) if crossed == 0 => shortfall.reason,
                Some(shortfall) => format!(
                    "only {crossed} of the {times} runs shared {called} between processes; in another, {}",
                    shortfall.reason
                ),
                None => format!("{called} crossed {crossed} times, not {times}"),
            };
            self.fail(format!("{reason}: {}", crossing.meaning), &shows);
        }
        self
    }

    fn data_crossed_in(
        &self,
        key: (u64, u64),
        crossing: &Crossing<'_>,
        readers: &BTreeSet<u64>,
        reader_name: &str,
    ) -> Result<(), Shortfall> {
        let called = crossing.called;
        let writes = self.data_events(key, &["write"]);
        let reads = self.data_events(key, &["read"]);
        let mut writer_tracks = BTreeSet::new();
        for (i, value) in crossing.values.iter().enumerate() {
            let index = i as u64;
            let progress = 2 * i;
            let wanted = crossing.writers.get(i).or(crossing.writers.last()).copied();
            let of_element: Vec<&&Recorded> = writes
                .iter()
                .filter(|w| w.arg_u("index") == Some(index))
                .collect();
            let by_other: Vec<&&Recorded> = of_element
                .iter()
                .copied()
                .filter(|w| w.text() == value && !readers.contains(&w.track))
                .collect();
            let by_wanted: Vec<&&Recorded> = by_other
                .iter()
                .copied()
                .filter(|w| wanted.is_none_or(|name| self.process_name(w.track) == name))
                .collect();
            let Some(first) = by_wanted.first() else {
                let reason = if of_element.iter().any(|w| w.text() == value) && by_other.is_empty()
                {
                    format!("no process but {reader_name} wrote {value} into {called} at index {i}")
                } else if let (Some(name), Some(other)) = (wanted, by_other.first()) {
                    format!(
                        "{} wrote {value} into {called} at index {i}, not {name}",
                        self.process_name(other.track)
                    )
                } else if of_element.is_empty() {
                    format!("nobody wrote {called} at index {i}")
                } else {
                    let seen: Vec<String> = of_element
                        .iter()
                        .map(|w| format!("{} by {}", w.text(), self.process_name(w.track)))
                        .collect();
                    format!(
                        "nobody wrote {value} into {called} at index {i} (only {})",
                        seen.join(", ")
                    )
                };
                return Err(Shortfall { progress, reason });
            };
            writer_tracks.insert(first.track);
            let seen_after = reads.iter().any(|r| {
                readers.contains(&r.track)
                    && r.ns >= first.ns
                    && r.arg_u("index").is_none_or(|at| at == index)
                    && Self::value_read(r, index).is_some_and(|seen| &seen == value)
            });
            if !seen_after {
                return Err(Shortfall {
                    progress: progress + 1,
                    reason: format!(
                        "{reader_name} did not read {value} from {called} at index {i} after {} wrote it: what it printed did not come from the shared memory",
                        self.process_name(first.track)
                    ),
                });
            }
        }
        if crossing.one_hold {
            for &writer in &writer_tracks {
                self.one_hold(key, writer, called)
                    .map_err(|reason| Shortfall {
                        progress: 2 * crossing.values.len(),
                        reason,
                    })?;
            }
        }
        Ok(())
    }

    /// The spans in which `track` held lock `lock` of `source`: (acquire,
    /// release) times, a release missing at the end of the process
    /// counting as `u64::MAX`.
    fn holds(&self, source: u64, lock: u64, track: u64) -> Vec<(u64, u64)> {
        let mut events: Vec<&Recorded> = self
            .trace
            .events
            .iter()
            .filter(|e| {
                e.track == track
                    && e.source == source
                    && matches!(e.kind.as_str(), "lock_acquire" | "lock_release")
                    && e.arg_u("lock") == Some(lock)
            })
            .collect();
        events.sort_by_key(|e| (e.ns, e.kind == "lock_acquire"));
        let mut spans = Vec::new();
        let mut open = None;
        for event in events {
            if event.kind == "lock_acquire" {
                open = Some(event.ns);
            } else if let Some(start) = open.take() {
                spans.push((start, event.ns));
            }
        }
        if let Some(start) = open {
            spans.push((start, u64::MAX));
        }
        spans
    }

    /// The hold of a span list that covers `ns`, by its index.
    fn hold_at(spans: &[(u64, u64)], ns: u64) -> Option<usize> {
        spans.iter().position(|&(from, to)| from <= ns && ns <= to)
    }

    /// Ok if every read and write of object `key` by `track` lies inside
    /// one and the same hold of the object's own lock.
    fn one_hold(&self, key: (u64, u64), track: u64, called: &str) -> Result<(), String> {
        let who = self.process_name(track);
        let Some(&lock) = self.trace.guards.get(&key) else {
            return Err(format!("{called} has no lock of its own in the timeline"));
        };
        let spans = self.holds(key.0, lock, track);
        let accesses: Vec<&Recorded> = self
            .data_events(key, &["read", "write"])
            .into_iter()
            .filter(|e| e.track == track)
            .collect();
        let mut holds = BTreeSet::new();
        for access in &accesses {
            match Self::hold_at(&spans, access.ns) {
                Some(hold) => holds.insert(hold),
                None => {
                    return Err(format!(
                        "{who} touched {called} without holding its lock ({access})"
                    ));
                }
            };
        }
        if holds.len() > 1 {
            return Err(format!(
                "{who} took and let go {called}'s lock {} times while squaring it, instead of holding it once for the whole loop",
                holds.len()
            ));
        }
        Ok(())
    }

    /// Panics unless every message of `texts` was sent on a channel whose
    /// label starts with `channel` by one process and received from it by
    /// another (the named ones, when given), in order when `in_order`.
    /// See [`Messages`].
    #[track_caller]
    pub fn assert_messages_crossed(&self, messages: &Messages<'_>) -> &Self {
        let called = messages.called;
        let on_channel = |e: &Recorded| {
            e.arg_u("channel").is_some_and(|c| {
                self.trace
                    .label(e.source, c)
                    .is_some_and(|l| l.starts_with(messages.channel))
            })
        };
        let key = |e: &Recorded| {
            let c = e.arg_u("channel").unwrap_or(0);
            let scope = if c & (1 << 63) != 0 {
                None
            } else {
                Some(e.source)
            };
            (scope, c, e.arg_u("msg").unwrap_or(0))
        };
        let sends: Vec<&Recorded> = self
            .trace
            .of_kind("send")
            .into_iter()
            .filter(|e| on_channel(e))
            .collect();
        let mut receives: BTreeMap<_, Vec<&Recorded>> = BTreeMap::new();
        for recv in self.trace.of_kind("recv") {
            if on_channel(recv) {
                receives.entry(key(recv)).or_default().push(recv);
            }
        }
        let shows = self.messages_summary();
        let mut used = BTreeSet::new();
        let mut last_received = 0;
        for text in messages.texts {
            let mut reason = None;
            let mut matched = None;
            for send in sends.iter().filter(|s| s.text() == text) {
                if used.contains(&send.index) {
                    continue;
                }
                let sender = self.process_name(send.track);
                if let Some(wanted) = messages.sender
                    && sender != wanted
                {
                    reason.get_or_insert(format!(
                        "{text} was sent on {called} by {sender}, not by {wanted}"
                    ));
                    continue;
                }
                let Some(recv) = receives
                    .get(&key(send))
                    .and_then(|r| r.iter().min_by_key(|r| r.ns))
                else {
                    reason.get_or_insert(format!(
                        "{text} was sent on {called} by {sender} but never received from it"
                    ));
                    continue;
                };
                let receiver = self.process_name(recv.track);
                if recv.track == send.track {
                    reason.get_or_insert(format!(
                        "{text} was sent on {called} and received from it by {sender} itself: a message must go from one process to another"
                    ));
                    continue;
                }
                if let Some(wanted) = messages.receiver
                    && receiver != wanted
                {
                    reason.get_or_insert(format!(
                        "{text} was received from {called} by {receiver}, not by {wanted}"
                    ));
                    continue;
                }
                if messages.in_order && recv.ns < last_received {
                    reason.get_or_insert(format!(
                        "{text} was received from {called} before the message that precedes it"
                    ));
                    continue;
                }
                matched = Some((send.index, recv.ns));
                break;
            }
            match matched {
                Some((send, received)) => {
                    used.insert(send);
                    last_received = received;
                }
                None => {
                    let reason = reason.unwrap_or_else(|| {
                        let elsewhere = self
                            .trace
                            .of_kind("send")
                            .into_iter()
                            .find(|s| s.text() == text && !on_channel(s))
                            .and_then(|s| self.trace.label(s.source, s.arg_u("channel")?));
                        match elsewhere {
                            Some(label) => format!(
                                "{text} was never sent on {called} (it went through a {label} instead)"
                            ),
                            None => format!("{text} was never sent on {called}"),
                        }
                    });
                    self.fail(format!("{reason}: {}", messages.meaning), &shows);
                }
            }
        }
        self
    }

    /// Every message of the timeline, a line per channel, for a failure.
    fn messages_summary(&self) -> String {
        let mut by: BTreeMap<(String, String, u64), Vec<&str>> = BTreeMap::new();
        for event in self
            .trace
            .of_kind("send")
            .into_iter()
            .chain(self.trace.of_kind("recv"))
        {
            let label = event
                .arg_u("channel")
                .and_then(|c| self.trace.label(event.source, c))
                .unwrap_or("?")
                .to_owned();
            let verb = if event.kind == "send" {
                "sent"
            } else {
                "received"
            };
            by.entry((label, verb.to_owned(), event.track))
                .or_default()
                .push(event.text());
        }
        if by.is_empty() {
            return "    no message was sent or received\n".into();
        }
        let mut out = String::new();
        for ((label, verb, track), texts) in by {
            let shown: Vec<&str> = texts.iter().take(10).copied().collect();
            let more = if texts.len() > 10 { " …" } else { "" };
            let _ = writeln!(
                out,
                "    {} {verb} on the {label}: {}{more}",
                self.process_name(track),
                shown.join(" ")
            );
        }
        out
    }

    /// [`Evidence::assert_updates`] of ipc-core's shared Value: process pk
    /// (k from 1) made `counts[k - 1]` updates of +1; with `locked`, of
    /// the Value (label `value`), each inside one hold of its own lock;
    /// without, of the RawValue (label `raw value`). `meaning` says what
    /// the lack means for the lab.
    #[track_caller]
    pub fn assert_value_updated(&self, counts: &[u64], locked: bool, meaning: &str) -> &Self {
        let names: Vec<String> = (1..=counts.len()).map(|k| format!("p{k}")).collect();
        let by: Vec<(&str, u64)> = names
            .iter()
            .map(String::as_str)
            .zip(counts.iter().copied())
            .collect();
        let (object, called) = if locked {
            ("value", "the shared Value")
        } else {
            ("raw value", "the shared RawValue")
        };
        self.assert_updates(&Updates {
            object,
            called,
            by: &by,
            step: 1,
            locked,
            meaning,
        })
    }

    /// Panics unless the processes of `by` made exactly their number of
    /// updates of the shared object labelled `object`: each a read and,
    /// next, a write by the same process of the value read plus `step`;
    /// with `locked`, both inside one hold of the object's own lock. See
    /// [`Updates`].
    #[track_caller]
    pub fn assert_updates(&self, updates: &Updates<'_>) -> &Self {
        let called = updates.called;
        let names: BTreeSet<&str> = updates.by.iter().map(|(name, _)| *name).collect();
        let candidates = self.objects_labelled(updates.object);
        // The object the named processes wrote most.
        let key = candidates.iter().copied().max_by_key(|&key| {
            self.data_events(key, &["write"])
                .iter()
                .filter(|w| names.contains(self.process_name(w.track)))
                .count()
        });
        let Some(key) = key else {
            self.fail_missing(called, updates.object, updates.meaning, Some("made one"));
        };
        if let Err(reason) = self.updates_made(key, updates, &names) {
            let shows = self.writes_summary(key, called);
            self.fail(format!("{reason}: {}", updates.meaning), &shows);
        }
        self
    }

    /// Ok if the processes of `names` made their updates of `key` as
    /// `updates` says; otherwise what is wrong.
    fn updates_made(
        &self,
        key: (u64, u64),
        updates: &Updates<'_>,
        names: &BTreeSet<&str>,
    ) -> Result<(), String> {
        let called = updates.called;
        let lock = self.trace.guards.get(&key).copied();
        if updates.locked && lock.is_none() {
            return Err(format!("{called} has no lock of its own in the timeline"));
        }
        let accesses = self.data_events(key, &["read", "write"]);
        let mut made: BTreeMap<&str, u64> = BTreeMap::new();
        let mut tracks: BTreeMap<u64, Vec<&Recorded>> = BTreeMap::new();
        for access in accesses {
            if names.contains(self.process_name(access.track)) {
                tracks.entry(access.track).or_default().push(access);
            }
        }
        for (track, events) in tracks {
            let who = self.process_name(track);
            let spans = match lock {
                Some(lock) if updates.locked => self.holds(key.0, lock, track),
                _ => Vec::new(),
            };
            let mut last_read: Option<&Recorded> = None;
            for event in events {
                if event.kind == "read" {
                    last_read = Some(event);
                    continue;
                }
                let (read, _, _) = updates.update(who, last_read.take(), event)?;
                if updates.locked {
                    match (
                        Self::hold_at(&spans, read.ns),
                        Self::hold_at(&spans, event.ns),
                    ) {
                        (Some(a), Some(b)) if a == b => {}
                        (Some(_), Some(_)) => {
                            return Err(format!(
                                "{who} read {called} under one hold of its lock and wrote it under another ({read}, then {event}): in between another process may update it, and that update is lost"
                            ));
                        }
                        (None, _) | (_, None) => {
                            return Err(format!(
                                "{who} updated {called} without holding its lock ({read}, then {event})"
                            ));
                        }
                    }
                }
                *made.entry(who).or_default() += 1;
            }
        }
        updates.all_made(&made)
    }

    /// Panics unless producers and consumers ran in distinct processes
    /// (each name at least once) and waited on two semaphores in
    /// opposite roles: every producer acquired the one every consumer
    /// released (`empty`: a free slot) and released the one every
    /// consumer acquired (`full`: an item). See [`ProducersConsumers`].
    #[track_caller]
    pub fn assert_producers_and_consumers(&self, roles: &ProducersConsumers<'_>) -> &Self {
        if let Err(reason) = self.roles_on_semaphores(roles) {
            self.fail(
                format!("{reason}: {}", roles.meaning),
                &self.semaphores_summary(),
            );
        }
        self
    }

    /// The tracks of the processes named `names`, or which one never ran.
    fn role_tracks(&self, names: &[&str], role: &str) -> Result<BTreeSet<u64>, String> {
        self.tracks_of_all(names)
            .map_err(|missing| format!("{missing} (the {role}s)"))
    }

    /// The semaphores that every one of `tracks` recorded `kind` on (an
    /// acquire or a release), or which one recorded none.
    fn common_semaphores(
        &self,
        tracks: &BTreeSet<u64>,
        kind: &str,
        role: &str,
    ) -> Result<BTreeSet<(u64, u64)>, String> {
        let mut common: Option<BTreeSet<(u64, u64)>> = None;
        for &track in tracks {
            let mine: BTreeSet<(u64, u64)> = self
                .trace
                .of_kind(kind)
                .into_iter()
                .filter(|e| e.track == track)
                .filter_map(|e| Some((e.source, e.arg_u("semaphore")?)))
                .collect();
            if mine.is_empty() {
                let verb = if kind == "sem_acquire" {
                    "acquired"
                } else {
                    "released"
                };
                return Err(format!(
                    "{} ({role}) never {verb} a semaphore",
                    self.process_name(track)
                ));
            }
            common = Some(match common {
                None => mine,
                Some(so_far) => so_far.intersection(&mine).copied().collect(),
            });
        }
        Ok(common.unwrap_or_default())
    }

    /// Ok if producers and consumers are distinct processes on two
    /// semaphores in opposite roles; otherwise what is wrong.
    fn roles_on_semaphores(&self, roles: &ProducersConsumers<'_>) -> Result<(), String> {
        let producers = self.role_tracks(roles.producers, "producer")?;
        let consumers = self.role_tracks(roles.consumers, "consumer")?;
        if let Some(both) = producers.intersection(&consumers).next() {
            return Err(format!(
                "{} both produced and consumed: producers and consumers must be different processes",
                self.process_name(*both)
            ));
        }
        let empty: BTreeSet<_> = self
            .common_semaphores(&producers, "sem_acquire", "producer")?
            .intersection(&self.common_semaphores(&consumers, "sem_release", "consumer")?)
            .copied()
            .collect();
        let full: BTreeSet<_> = self
            .common_semaphores(&producers, "sem_release", "producer")?
            .intersection(&self.common_semaphores(&consumers, "sem_acquire", "consumer")?)
            .copied()
            .collect();
        if empty.is_empty() {
            return Err("no semaphore was acquired by every producer and released by every consumer (the free slots, `empty`)".into());
        }
        if full.is_empty() {
            return Err("no semaphore was released by every producer and acquired by every consumer (the items, `full`)".into());
        }
        if empty.len() == 1 && empty == full {
            return Err("producers and consumers acquired and released one and the same semaphore: free slots and items need one each".into());
        }
        Ok(())
    }

    /// Panics unless the processes named in `names` were running at the
    /// same time: each was started (forked; ipc-core dates a child's spawn
    /// at its fork) before any of them was joined, or ended when nobody
    /// joined it. A process that never ran fails it too.
    #[track_caller]
    pub fn assert_concurrent(&self, names: &[&str], meaning: &str) -> &Self {
        let mut lives = Vec::new();
        for name in names {
            let spawn = self
                .trace
                .of_kind("spawn")
                .into_iter()
                .find(|e| self.process_name(e.track) == *name);
            let Some(spawn) = spawn else {
                self.fail(format!("no process named {name} ran: {meaning}"), "");
            };
            let track = self.track(spawn.track);
            let joined = self.trace.of_kind("join").into_iter().find(|j| {
                track.is_some_and(|t| j.source == t.source && j.arg("child") == Some(t.pid))
            });
            let exit = self
                .trace
                .of_kind("exit")
                .into_iter()
                .find(|e| e.track == spawn.track);
            let end = joined.or(exit).map_or(u64::MAX, |e| e.ns);
            lives.push((*name, spawn.ns, end));
        }
        for (late, start, _) in &lives {
            if let Some((early, _, _)) = lives.iter().find(|(_, _, end)| end < start) {
                self.fail(
                    format!(
                        "{late} was started only after {early} had ended and been joined: {meaning}"
                    ),
                    "",
                );
            }
        }
        self
    }

    /// Who acquired and released which semaphore, for a failure.
    fn semaphores_summary(&self) -> String {
        let mut by: BTreeMap<(u64, &str), BTreeSet<String>> = BTreeMap::new();
        for kind in ["sem_acquire", "sem_release"] {
            for event in self.trace.of_kind(kind) {
                let label = event
                    .arg_u("semaphore")
                    .and_then(|s| self.trace.label(event.source, s))
                    .unwrap_or("?");
                by.entry((event.track, kind)).or_default().insert(format!(
                    "{label} #{}",
                    event.arg_u("semaphore").unwrap_or(0)
                ));
            }
        }
        if by.is_empty() {
            return "    no semaphore was acquired or released\n".into();
        }
        let mut out = String::new();
        for ((track, kind), semaphores) in by {
            let verb = if kind == "sem_acquire" {
                "acquired"
            } else {
                "released"
            };
            let _ = writeln!(
                out,
                "    {} {verb} {}",
                self.process_name(track),
                semaphores.into_iter().collect::<Vec<_>>().join(", ")
            );
        }
        out
    }
}

/// Where a program prints the lines a check compares: its standard output,
/// or its standard error (a log, as exp3-polling's `INFO:process1:…`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

impl Stream {
    fn name(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }
}

/// One process's lines among a run's interleaved output, for
/// [`Evidence::assert_interleaved`].
#[derive(Debug, Clone, Default)]
pub struct Lines<'a> {
    /// What starts each of its lines and no other process's
    /// (`INFO:process1:`, `Writer `, `Client 2 `); a line goes to the first
    /// process whose prefix starts it.
    pub prefix: &'a str,
    /// Its lines, whole (prefix included), in the order it prints them.
    pub lines: &'a [String],
    /// Lines it may also print any number of times among them (a poll's
    /// `Data not available…`): left out before comparing.
    pub repeated: &'a [String],
}

impl<'a> Lines<'a> {
    /// The lines of the process whose lines start with `prefix`, none of
    /// them repeated.
    pub fn of(prefix: &'a str, lines: &'a [String]) -> Lines<'a> {
        Lines {
            prefix,
            lines,
            repeated: &[],
        }
    }
}

/// What [`Evidence::assert_values_passed`] looks for: values handed from
/// process to process through shared data, one element at a time (the
/// slots of a ring buffer, a counter over time), rather than each element
/// ending with its own value ([`Crossing`]).
#[derive(Debug, Clone, Default)]
pub struct Passed<'a> {
    /// The object's label in the timeline: `raw array`, `value`, a named
    /// segment's name. When several objects carry it, one must show every
    /// value.
    pub object: &'a str,
    /// How a student calls it: `the ring buffer`.
    pub called: &'a str,
    /// The values, as the timeline shows them; a value listed twice must
    /// be read twice (two read events).
    pub values: &'a [String],
    /// The processes that may have written them (any of them).
    pub writers: &'a [&'a str],
    /// The processes that must have read them (any of them).
    pub readers: &'a [&'a str],
    /// Read in the order of `values`.
    pub in_order: bool,
    /// What the lack means for the lab.
    pub meaning: &'a str,
}

/// What [`Evidence::assert_phases`] looks for: workers computing in
/// phases over one shared array, row after row: in phase `t` (from 1)
/// worker `k` reads cells of row `t - 1` and writes cell `k` of row `t`
/// (element `t × n + k`, for `n` workers).
#[derive(Debug, Clone, Default)]
pub struct Phases<'a> {
    /// The array's label in the timeline: `array`.
    pub object: &'a str,
    /// How a student calls it: `the shared Array`.
    pub called: &'a str,
    /// Every row, as the timeline shows values: row 0 (before the first
    /// phase, written by anybody), then the row after each phase.
    pub rows: &'a [Vec<String>],
    /// The process of worker `k`, which writes cell `k` of every row.
    pub workers: &'a [&'a str],
    /// The cells of row `t - 1` worker `k` reads in phase `t`, as offsets
    /// from `k` around the ring: `[-1, 0, 1]`.
    pub neighbours: &'a [isize],
    /// What the lack means for the lab.
    pub meaning: &'a str,
}

/// A message's text as it was sent: the timeline shows a string message
/// quoted (`'text'`, see [`quoted`]); other texts come back as they are.
///
/// ```
/// use ipc_testkit::evidence::{quoted, unquoted};
/// assert_eq!(unquoted(&quoted("{\"a\":1}")), "{\"a\":1}");
/// assert_eq!(unquoted("16"), "16");
/// ```
pub fn unquoted(text: &str) -> &str {
    text.strip_prefix('\'')
        .and_then(|t| t.strip_suffix('\''))
        .unwrap_or(text)
}

/// `p1 never` or `none of p1, p2`: the subject of a sentence saying that
/// none of these processes did something.
fn nobody_of(names: &[&str]) -> String {
    match names {
        [one] => format!("{one} never"),
        _ => format!("none of {}", names.join(", ")),
    }
}

impl Evidence {
    /// Panics unless the program ended with exit code 0, printed nothing
    /// on the other stream, and its lines on `stream` are the lines of
    /// `processes` interleaved in any way: every line starts with a
    /// process's prefix, and each process's lines, its repeated ones left
    /// out, are its expected lines in order. The failure shows the inputs
    /// and the seed.
    ///
    /// For processes that print at the same time, whose lines interleave
    /// differently on every run (exp3-polling's writer and reader).
    #[track_caller]
    pub fn assert_interleaved(&self, stream: Stream, processes: &[Lines<'_>]) -> &Self {
        self.assert_succeeded();
        let (text, other) = match stream {
            Stream::Stdout => (&self.run.stdout, &self.run.stderr),
            Stream::Stderr => (&self.run.stderr, &self.run.stdout),
        };
        let expected: String = processes
            .iter()
            .map(|p| {
                let repeated = if p.repeated.is_empty() {
                    String::new()
                } else {
                    format!(
                        "\n      (and any number of times among them: {})",
                        p.repeated.join(" | ")
                    )
                };
                format!("\n    {}{repeated}", p.lines.join("\n    "))
            })
            .collect::<Vec<_>>()
            .join("\n    --");
        let expected = format!(
            "\n  expected, each process's lines in this order, interleaved in any way:{expected}"
        );
        let name = stream.name();
        let mut got: Vec<Vec<&str>> = vec![Vec::new(); processes.len()];
        for line in text.lines() {
            let Some(i) = processes.iter().position(|p| line.starts_with(p.prefix)) else {
                self.fail(
                    format!(
                        "unexpected {name} for inputs the handout does not show: {line:?} is no process's line{expected}"
                    ),
                    "",
                );
            };
            if !processes[i].repeated.iter().any(|r| r == line) {
                got[i].push(line);
            }
        }
        for (process, lines) in processes.iter().zip(&got) {
            if let Some(difference) = crate::first_difference(lines, process.lines) {
                self.fail(
                    format!(
                        "unexpected {name} for inputs the handout does not show: among the lines starting with {:?}, {difference}{expected}",
                        process.prefix
                    ),
                    "",
                );
            }
        }
        if !other.is_empty() {
            let other = match stream {
                Stream::Stdout => Stream::Stderr,
                Stream::Stderr => Stream::Stdout,
            };
            self.fail(format!("unexpected {}", other.name()), "");
        }
        self
    }

    /// The tracks of the processes named in `names`, or the first name no
    /// process carries.
    fn tracks_of_all(&self, names: &[&str]) -> Result<BTreeSet<u64>, String> {
        let mut all = BTreeSet::new();
        for name in names {
            let found = self.tracks_named(name);
            if found.is_empty() {
                return Err(format!("no process named {name} ran"));
            }
            all.extend(found);
        }
        Ok(all)
    }

    /// Panics unless every value of `passed` was written into an element
    /// of the shared object by one of the writers and read from that
    /// element, with that value, by one of the readers after that write
    /// (in the order of the values when `in_order`). See [`Passed`].
    #[track_caller]
    pub fn assert_values_passed(&self, passed: &Passed<'_>) -> &Self {
        let called = passed.called;
        let candidates = self.objects_labelled(passed.object);
        if candidates.is_empty() {
            self.fail_missing(called, passed.object, passed.meaning, Some("made one"));
        }
        let (writers, readers) = self.writers_and_readers(passed);
        let mut best: Option<Shortfall> = None;
        for &key in &candidates {
            match self.passed_in(key, passed, &writers, &readers) {
                Ok(()) => return self,
                Err(shortfall) => {
                    if best
                        .as_ref()
                        .is_none_or(|b| shortfall.progress > b.progress)
                    {
                        best = Some(shortfall);
                    }
                }
            }
        }
        let shows: String = candidates
            .iter()
            .map(|&key| self.writes_summary(key, called))
            .collect();
        let reason = best.map_or_else(String::new, |b| b.reason);
        self.fail(format!("{reason}: {}", passed.meaning), &shows)
    }

    fn passed_in(
        &self,
        key: (u64, u64),
        passed: &Passed<'_>,
        writers: &BTreeSet<u64>,
        readers: &BTreeSet<u64>,
    ) -> Result<(), Shortfall> {
        let called = passed.called;
        let writes: Vec<&Recorded> = self
            .data_events(key, &["write"])
            .into_iter()
            .filter(|w| writers.contains(&w.track))
            .collect();
        let reads: Vec<&Recorded> = self
            .data_events(key, &["read"])
            .into_iter()
            .filter(|r| readers.contains(&r.track))
            .collect();
        let mut used = vec![false; reads.len()];
        let mut next = 0;
        for (i, value) in passed.values.iter().enumerate() {
            let written: Vec<&Recorded> = writes
                .iter()
                .copied()
                .filter(|w| w.text() == value)
                .collect();
            let Some(first) = written.first() else {
                return Err(Shortfall {
                    progress: 2 * i,
                    reason: format!("{} wrote {value} into {called}", nobody_of(passed.writers)),
                });
            };
            let start = if passed.in_order { next } else { 0 };
            let seen = (start..reads.len()).find(|&j| {
                let read = reads[j];
                !used[j]
                    && written.iter().any(|w| {
                        let index = w.arg_u("index").unwrap_or(0);
                        w.ns <= read.ns
                            && read.arg_u("index").is_none_or(|at| at == index)
                            && Self::value_read(read, index).is_some_and(|seen| &seen == value)
                    })
            });
            let Some(j) = seen else {
                let order = if passed.in_order && i > 0 {
                    format!(" (after reading {})", passed.values[i - 1])
                } else {
                    String::new()
                };
                return Err(Shortfall {
                    progress: 2 * i + 1,
                    reason: format!(
                        "{} read {value} from {called}{order} after {} wrote it: what was printed did not come through the shared memory",
                        nobody_of(passed.readers),
                        self.process_name(first.track)
                    ),
                });
            };
            used[j] = true;
            next = j + 1;
        }
        Ok(())
    }

    /// Panics unless every read and write of the shared object that
    /// carried `passed.values` (the object labelled `passed.object` into
    /// which the writers wrote most of them) by the writers and the readers
    /// happened while the process held a lock, one and the same lock for
    /// all of them: mutual exclusion on data that has no lock of its own
    /// (a ring buffer in a `RawArray`, guarded by a separate mutex).
    #[track_caller]
    pub fn assert_passed_under_a_lock(&self, passed: &Passed<'_>) -> &Self {
        let called = passed.called;
        let (writers, readers) = self.writers_and_readers(passed);
        let key = self.slots_of(passed, &writers);
        let shows = self.writes_summary(key, called);
        let mut common: Option<BTreeSet<u64>> = None;
        let mut first: Option<&Recorded> = None;
        for access in self.data_events(key, &["read", "write"]) {
            if !writers.contains(&access.track) && !readers.contains(&access.track) {
                continue;
            }
            let held: BTreeSet<u64> = self
                .trace
                .of_kind("lock_acquire")
                .into_iter()
                .filter(|a| a.track == access.track && a.source == access.source)
                .filter_map(|a| a.arg_u("lock"))
                .filter(|&lock| {
                    Self::hold_at(&self.holds(access.source, lock, access.track), access.ns)
                        .is_some()
                })
                .collect();
            let verb = if access.kind == "write" {
                "wrote"
            } else {
                "read"
            };
            if held.is_empty() {
                self.fail(
                    format!(
                        "{} {verb} {} {} {called} without holding a lock ({access}): {}",
                        self.process_name(access.track),
                        access.text(),
                        if verb == "wrote" { "into" } else { "from" },
                        passed.meaning
                    ),
                    &shows,
                );
            }
            let so_far = common.take().unwrap_or_else(|| held.clone());
            let both: BTreeSet<u64> = so_far.intersection(&held).copied().collect();
            if both.is_empty() {
                let before = first.map_or_else(String::new, |f| format!("{f}, then "));
                self.fail(
                    format!(
                        "{} {verb} {called} under another lock than the one held before ({before}{access}): one mutex must keep every process out of the others' accesses: {}",
                        self.process_name(access.track),
                        passed.meaning
                    ),
                    &shows,
                );
            }
            first.get_or_insert(access);
            common = Some(both);
        }
        if common.is_none() {
            self.fail(
                format!("nobody read or wrote {called}: {}", passed.meaning),
                &shows,
            );
        }
        self
    }

    /// The tracks of `passed`'s writers and of its readers; fails the
    /// check when one of them never ran.
    #[track_caller]
    fn writers_and_readers(&self, passed: &Passed<'_>) -> (BTreeSet<u64>, BTreeSet<u64>) {
        let roles = self
            .tracks_of_all(passed.writers)
            .and_then(|w| Ok((w, self.tracks_of_all(passed.readers)?)));
        match roles {
            Ok(roles) => roles,
            Err(reason) => self.fail(format!("{reason}: {}", passed.meaning), ""),
        }
    }

    /// The object labelled `passed.object` into which `writers` wrote most
    /// of `passed.values`; fails the check when there is none.
    #[track_caller]
    fn slots_of(&self, passed: &Passed<'_>, writers: &BTreeSet<u64>) -> (u64, u64) {
        let key = self
            .objects_labelled(passed.object)
            .into_iter()
            .max_by_key(|&key| {
                self.data_events(key, &["write"])
                    .iter()
                    .filter(|w| {
                        writers.contains(&w.track) && passed.values.iter().any(|v| v == w.text())
                    })
                    .count()
            });
        let Some(key) = key else {
            self.fail_missing(passed.called, passed.object, passed.meaning, None);
        };
        key
    }

    /// Panics unless the writers and readers of `passed` slept while they
    /// had nothing to do, instead of coming back to look: a hold of a lock
    /// in which a process touched none of the slots (it looked, found
    /// nothing to do and waited) is followed by its next hold of that lock
    /// only after another process wrote or read the slots. A wait on a
    /// condition sleeps until a notify, which comes after a change; a poll
    /// takes the lock again to find the same slots.
    #[track_caller]
    pub fn assert_waited_for_changes(&self, passed: &Passed<'_>) -> &Self {
        let (writers, readers) = self.writers_and_readers(passed);
        let key = self.slots_of(passed, &writers);
        let accesses = self.data_events(key, &["read", "write"]);
        for &track in writers.union(&readers) {
            let mine: Vec<u64> = accesses
                .iter()
                .filter(|a| a.track == track)
                .map(|a| a.ns)
                .collect();
            let locks: BTreeSet<u64> = self
                .trace
                .of_kind("lock_acquire")
                .into_iter()
                .filter(|a| a.track == track && a.source == key.0)
                .filter_map(|a| a.arg_u("lock"))
                .collect();
            for lock in locks {
                let spans = self.holds(key.0, lock, track);
                if !mine.iter().any(|&ns| Self::hold_at(&spans, ns).is_some()) {
                    continue; // not the slots' lock
                }
                for pair in spans.windows(2) {
                    let ((from, to), (next, _)) = (pair[0], pair[1]);
                    let idle = !mine.iter().any(|&ns| from <= ns && ns <= to);
                    let changed = accesses
                        .iter()
                        .any(|a| a.track != track && to <= a.ns && a.ns <= next);
                    if idle && !changed {
                        self.fail(
                            format!(
                                "{} took the lock again (at {next} ns) with nothing changed in {} since it last looked (at {from} ns): it came back to look instead of sleeping until another process changed it: {}",
                                self.process_name(track),
                                passed.called,
                                passed.meaning
                            ),
                            &self.writes_summary(key, passed.called),
                        );
                    }
                }
            }
        }
        self
    }

    /// Panics unless the timeline shows [`Phases`]: each worker, in a
    /// process of its own, wrote its cell of every row with its value;
    /// read, in each phase, the cells of the row before that it needs,
    /// with their values (after they were written); and no worker wrote a
    /// cell of a row before every worker had written its cell of the row
    /// before (a barrier between phases).
    #[track_caller]
    pub fn assert_phases(&self, phases: &Phases<'_>) -> &Self {
        let n = phases.workers.len();
        let tracks: Vec<BTreeSet<u64>> = match phases
            .workers
            .iter()
            .map(|w| self.tracks_of_all(&[w]))
            .collect::<Result<_, _>>()
        {
            Ok(tracks) => tracks,
            Err(reason) => self.fail(format!("{reason}: {}", phases.meaning), ""),
        };
        let every: BTreeSet<u64> = tracks.iter().flatten().copied().collect();
        let key = self
            .objects_labelled(phases.object)
            .into_iter()
            .max_by_key(|&key| {
                let writes = self.data_events(key, &["write"]);
                writes.iter().filter(|w| every.contains(&w.track)).count()
            });
        let Some(key) = key else {
            self.fail_missing(phases.called, phases.object, phases.meaning, None);
        };
        let shows = self.writes_summary(key, phases.called);
        let events = self.data_events(key, &["read", "write"]);
        let at = |t: usize, k: usize| (t * n + k) as u64;
        let by = |kind: &str, k: usize, index: u64| -> Vec<&Recorded> {
            events
                .iter()
                .filter(|e| e.kind == kind && tracks[k].contains(&e.track))
                .filter(|e| e.arg_u("index") == Some(index))
                .copied()
                .collect()
        };
        // Each row's first and last write, and by which worker.
        let mut written: Vec<((u64, usize), (u64, usize))> = Vec::new();
        for t in 1..phases.rows.len() {
            let (mut first, mut last) = ((u64::MAX, 0), (0, 0));
            for k in 0..n {
                let who = phases.workers[k];
                let value = &phases.rows[t][k];
                let Some(write) = by("write", k, at(t, k))
                    .into_iter()
                    .find(|w| w.text() == value)
                else {
                    self.fail(
                        format!(
                            "{who} never wrote {value} into its cell of phase {t} (element {} of {}): {}",
                            at(t, k),
                            phases.called,
                            phases.meaning
                        ),
                        &shows,
                    );
                };
                (first, last) = (first.min((write.ns, k)), last.max((write.ns, k)));
                for offset in phases.neighbours {
                    let j = (k as isize + offset).rem_euclid(n as isize) as usize;
                    let wanted = &phases.rows[t - 1][j];
                    let reads = by("read", k, at(t - 1, j));
                    if !reads.iter().any(|r| r.text() == wanted) {
                        let got: Vec<&str> = reads.iter().map(|r| r.text()).collect();
                        self.fail(
                            format!(
                                "in phase {t}, {who} did not read {wanted} from cell {j} of phase {} (element {}; it read {got:?}): {}",
                                t - 1,
                                at(t - 1, j),
                                phases.meaning
                            ),
                            &shows,
                        );
                    }
                }
            }
            if let Some(&(_, before)) = written.last()
                && first.0 < before.0
            {
                self.fail(
                    format!(
                        "{} wrote its cell of phase {t} (at {} ns) before {} wrote its cell of phase {} (at {} ns): {}",
                        phases.workers[first.1],
                        first.0,
                        phases.workers[before.1],
                        t - 1,
                        before.0,
                        phases.meaning
                    ),
                    &shows,
                );
            }
            written.push((first, last));
        }
        self
    }

    /// The texts of the messages sent on a channel whose label starts with
    /// `channel` by a process named `sender` and received, the same message
    /// (its channel and id), by a process named `receiver`, in the order
    /// received: for a check that reads the messages itself, say a JSON
    /// call whose keys may come in any order ([`unquoted`] gives the text
    /// back as sent).
    pub fn texts_crossed(&self, channel: &str, sender: &str, receiver: &str) -> Vec<String> {
        let key = |e: &Recorded| {
            let c = e.arg_u("channel").unwrap_or(0);
            let scope = (c & (1 << 63) == 0).then_some(e.source);
            (scope, c, e.arg_u("msg").unwrap_or(0))
        };
        let on_channel = |e: &Recorded| {
            e.arg_u("channel").is_some_and(|c| {
                self.trace
                    .label(e.source, c)
                    .is_some_and(|l| l.starts_with(channel))
            })
        };
        let sent: BTreeSet<_> = self
            .trace
            .of_kind("send")
            .into_iter()
            .filter(|e| on_channel(e) && self.process_name(e.track) == sender)
            .map(key)
            .collect();
        self.trace
            .of_kind("recv")
            .into_iter()
            .filter(|e| {
                on_channel(e) && self.process_name(e.track) == receiver && sent.contains(&key(e))
            })
            .map(|e| e.text().to_owned())
            .collect()
    }

    /// The read, write and compare-and-set events of the entry labelled
    /// `label`, in every program of a merged timeline, by process, in
    /// time order.
    fn entry_events(&self, label: &str) -> BTreeMap<u64, Vec<&Recorded>> {
        let condition = format!("{label}: compare-and-set on revision ");
        let mut by: BTreeMap<u64, Vec<&Recorded>> = BTreeMap::new();
        for event in &self.trace.events {
            let on_entry = match event.kind.as_str() {
                "read" | "write" => {
                    event
                        .arg_u("object")
                        .and_then(|o| self.trace.label(event.source, o))
                        == Some(label)
                }
                "mark" => event.text().starts_with(&condition),
                _ => false,
            };
            if on_entry {
                by.entry(event.track).or_default().push(event);
            }
        }
        for events in by.values_mut() {
            events.sort_by_key(|e| e.ns);
        }
        by
    }

    /// Panics unless the processes of `updates.by` made exactly their
    /// number of updates of a key-value entry, labelled `updates.object`
    /// (`$KV.<bucket>.<key>`), whichever program of a merged timeline
    /// recorded them: each a read of the value at a revision and, next, a
    /// write by the same process of that value plus `step`; with
    /// `locked`, each write a compare-and-set on the revision that read
    /// found (what stands for a lock across machines), not a blind write.
    ///
    /// ipc-net records a read with the revision it found in place of an
    /// element's index, a write with the revision the server gave it, and
    /// a compare-and-set's condition in a mark just before its write
    /// (`$KV.b.counter: compare-and-set on revision 12`).
    #[track_caller]
    pub fn assert_updates_by_revision(&self, updates: &Updates<'_>) -> &Self {
        let called = updates.called;
        if self.objects_labelled(updates.object).is_empty() {
            self.fail_missing(called, updates.object, updates.meaning, Some("used it"));
        }
        let by = self.entry_events(updates.object);
        if let Err(reason) = self.updates_by_revision_made(&by, updates) {
            let shows = self.entry_summary(&by, called);
            self.fail(format!("{reason}: {}", updates.meaning), &shows);
        }
        self
    }

    /// Ok if the processes of `updates.by` made their updates of the
    /// entry, whose events by process are `by`; otherwise what is wrong.
    fn updates_by_revision_made(
        &self,
        by: &BTreeMap<u64, Vec<&Recorded>>,
        updates: &Updates<'_>,
    ) -> Result<(), String> {
        let called = updates.called;
        let names: BTreeSet<&str> = updates.by.iter().map(|(name, _)| *name).collect();
        let condition = format!("{}: compare-and-set on revision ", updates.object);
        let mut made: BTreeMap<&str, u64> = BTreeMap::new();
        for (&track, events) in by {
            let who = self.process_name(track);
            if !names.contains(who) {
                continue;
            }
            let mut last_read: Option<&Recorded> = None;
            let mut on_revision: Option<u64> = None;
            for &event in events {
                match event.kind.as_str() {
                    "read" => {
                        last_read = Some(event);
                        on_revision = None;
                        continue;
                    }
                    "mark" => {
                        let rest = &event.text()[condition.len()..];
                        on_revision = rest.parse().ok();
                        continue;
                    }
                    _ => {}
                }
                let (read, old, new) = updates.update(who, last_read.take(), event)?;
                let revision = read.arg_u("index").unwrap_or(0);
                if updates.locked {
                    match on_revision.take() {
                        Some(r) if r == revision => {}
                        Some(r) => {
                            return Err(format!(
                                "{who} read {old} from {called} at revision {revision} but wrote {new} on the condition of revision {r}"
                            ));
                        }
                        None => {
                            return Err(format!(
                                "{who} read {old} from {called} at revision {revision} and wrote {new} blindly, not by compare-and-set on that revision: a write of another process in between is overwritten, and its update lost"
                            ));
                        }
                    }
                }
                *made.entry(who).or_default() += 1;
            }
        }
        updates.all_made(&made)
    }

    /// Who read and wrote the entry how often, for a failure.
    fn entry_summary(&self, by: &BTreeMap<u64, Vec<&Recorded>>, called: &str) -> String {
        if by.is_empty() {
            return format!("    nobody read or wrote {called}\n");
        }
        let mut out = String::new();
        for (&track, events) in by {
            let count = |kind: &str| events.iter().filter(|e| e.kind == kind).count();
            let written: Vec<String> = events
                .iter()
                .filter(|e| e.kind == "write")
                .take(10)
                .map(|e| format!("{}@{}", e.text(), e.arg_u("index").unwrap_or(0)))
                .collect();
            let _ = writeln!(
                out,
                "    {} read {called} {} times and wrote it {} times (value@revision: {})",
                self.process_name(track),
                count("read"),
                count("write"),
                written.join(" ")
            );
        }
        out
    }

    /// Panics unless `reader` read `value` from the shared object labelled
    /// `object` (in any program of a merged timeline) after every write of
    /// it: the final value it printed came from the shared data, not from
    /// its own arithmetic.
    #[track_caller]
    pub fn assert_final_value_read(
        &self,
        object: &str,
        called: &str,
        value: &str,
        reader: &str,
        meaning: &str,
    ) -> &Self {
        let on_object = |e: &&Recorded| {
            e.arg_u("object")
                .and_then(|o| self.trace.label(e.source, o))
                == Some(object)
        };
        let last_write = self
            .trace
            .of_kind("write")
            .into_iter()
            .filter(on_object)
            .map(|w| w.ns)
            .max();
        let Some(last_write) = last_write else {
            self.fail(
                format!(
                    "nobody wrote {called} (no write of an object labelled {object:?}): {meaning}"
                ),
                "",
            );
        };
        let read = self
            .trace
            .of_kind("read")
            .into_iter()
            .filter(on_object)
            .any(|r| {
                self.process_name(r.track) == reader && r.ns >= last_write && r.text() == value
            });
        if !read {
            let seen: Vec<String> = self
                .trace
                .of_kind("read")
                .into_iter()
                .filter(on_object)
                .filter(|r| self.process_name(r.track) == reader)
                .map(|r| r.text().to_owned())
                .collect();
            self.fail(
                format!(
                    "{reader} did not read {value} from {called} after the last write of it (it read: {}): {meaning}",
                    if seen.is_empty() { "nothing".to_owned() } else { seen.join(", ") }
                ),
                "",
            );
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    /// A parsed timeline of events `(kind, ns, pid, extra args)`, each pid
    /// its own process `p{pid}` (pid 1 first), with `objects` and
    /// `guards`.
    fn evidence(events: &[(&str, u64, u64, Value)], objects: Value, guards: Value) -> Evidence {
        let mut trace = Vec::new();
        let pids: BTreeSet<u64> = events.iter().map(|e| e.2).collect();
        for pid in &pids {
            trace.push(json!({"ph": "M", "name": "process_name", "pid": pid, "tid": pid,
                "args": {"name": format!("p{pid} (pid {pid})"), "pid": pid, "process": format!("p{pid}")}}));
        }
        for (kind, ns, pid, extra) in events {
            let mut args = json!({"ipc": kind, "ns": ns, "pid": pid, "process": format!("p{pid}")});
            args.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            trace.push(json!({"ph": "i", "name": kind, "pid": pid, "tid": pid,
                "ts": *ns as f64 / 1000.0, "args": args}));
        }
        let doc = json!({"otherData": {"format": "ipc-lab trace 1", "sources": [{"dropped": 0}],
            "objects": objects, "guards": guards}, "traceEvents": trace});
        let run = crate::run("true", &[]);
        Evidence {
            run,
            trace: parse_json(&doc.to_string()).unwrap(),
            inputs: Inputs::seeded(3).to_string(),
        }
    }

    /// An event as [`evidence`] takes it: kind, time, pid, the rest.
    type Event = (Kind, u64, u64, Value);

    /// An event's kind: `read`, `send`.
    type Kind = &'static str;

    /// A `kind` (read or write) of slot `index` of object `object`, holding
    /// `text`, by process `pid` at `ns`.
    fn slot(kind: Kind, ns: u64, pid: u64, object: u64, index: u64, text: &str) -> Event {
        let args = json!({"object": object, "index": index, "text": text});
        (kind, ns, pid, args)
    }

    /// A `kind` (send or recv) of message `msg`, holding `text`, on
    /// `channel` by process `pid` at `ns`.
    fn message_event(kind: Kind, ns: u64, pid: u64, channel: u64, msg: u64, text: &str) -> Event {
        let args = json!({"channel": channel, "msg": msg, "text": text});
        (kind, ns, pid, args)
    }

    fn message(result: std::thread::Result<()>) -> String {
        let payload = result.expect_err("the check passed");
        payload
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_default()
    }

    #[test]
    fn the_last_line_must_be_the_one_named() {
        let mut e = evidence(&spawns(), json!({}), json!({}));
        e.run = crate::run("printf", &["a\\nDone\\n"]);
        e.assert_last_line("Done", "it comes once every process ended");
        let said = message(std::panic::catch_unwind(|| {
            e.assert_last_line("a", "it comes once every process ended");
        }));
        assert!(
            said.starts_with("\"a\" must be the last line: it comes once every process ended"),
            "{said}"
        );
        assert!(said.contains("Done"), "the run is shown\n{said}");
    }

    fn spawns() -> Vec<(&'static str, u64, u64, Value)> {
        vec![
            ("spawn", 0, 1, json!({"parent": 0})),
            ("spawn", 5, 2, json!({"parent": 1})),
        ]
    }

    fn square_two(writer: u64) -> Evidence {
        let mut events = spawns();
        events.extend([
            slot("write", 10, writer, 3, 0, "9"),
            slot("write", 11, writer, 3, 1, "64"),
            ("read", 20, 1, json!({"object": 3, "text": "[9, 64]"})),
        ]);
        evidence(
            &events,
            json!({"0:3": "array", "0:2": "lock"}),
            json!({"0:3": 2}),
        )
    }

    fn squares() -> Vec<String> {
        vec!["9".into(), "64".into()]
    }

    #[test]
    fn chosen_numbers_follow_their_flag_and_none_leave_it_out() {
        let args = with_chosen(&["--fast"], "--numbers", Some(&[3, -1, 4]));
        assert_eq!(args, ["--fast", "--numbers", "3,-1,4"]);
        assert_eq!(with_chosen(&["--fast"], "--numbers", None), ["--fast"]);
    }

    #[test]
    fn a_process_pid_is_the_timelines_or_0() {
        let evidence = square_two(2);
        assert_eq!(evidence.pid_of("p2"), 2);
        assert_eq!(evidence.pid_of("p3"), 0);
    }

    #[test]
    fn squares_written_by_the_child_and_read_after_cross() {
        let values = squares();
        square_two(2).assert_data_crossed(&Crossing {
            object: "array",
            called: "the shared Array",
            values: &values,
            writers: &["p2"],
            meaning: "m",
            ..Crossing::default()
        });
    }

    #[test]
    fn squares_written_by_the_first_process_are_named() {
        let values = squares();
        let said = message(std::panic::catch_unwind(|| {
            square_two(1).assert_data_crossed(&Crossing {
                object: "array",
                called: "the shared Array",
                values: &values,
                meaning: "the squares were not computed in the child",
                ..Crossing::default()
            });
        }));
        assert!(
            said.starts_with("no process but p1 wrote 9 into the shared Array at index 0: the squares were not computed in the child"),
            "{said}"
        );
        assert!(said.contains("IPC_LAB_CHECK_SEED=3"), "{said}");
        assert!(
            said.contains("p1 wrote the shared Array (object 3): [0]=9 [1]=64"),
            "{said}"
        );
    }

    #[test]
    fn a_read_before_the_write_does_not_count() {
        let mut events = spawns();
        events.extend([
            ("read", 8, 1, json!({"object": 3, "text": "[9, 64]"})),
            slot("write", 10, 2, 3, 0, "9"),
            slot("write", 11, 2, 3, 1, "64"),
        ]);
        let e = evidence(&events, json!({"0:3": "array"}), json!({}));
        let values = squares();
        let said = message(std::panic::catch_unwind(|| {
            e.assert_data_crossed(&Crossing {
                object: "array",
                called: "the shared Array",
                values: &values,
                meaning: "m",
                ..Crossing::default()
            });
        }));
        assert!(
            said.starts_with(
                "p1 did not read 9 from the shared Array at index 0 after p2 wrote it"
            ),
            "{said}"
        );
    }

    fn counter(read_then_write_in_one_hold: bool) -> Evidence {
        let mut events = spawns();
        events.push(("lock_acquire", 10, 2, json!({"lock": 2})));
        events.push(slot("read", 11, 2, 3, 0, "0"));
        if !read_then_write_in_one_hold {
            events.push(("lock_release", 12, 2, json!({"lock": 2})));
            events.push(("lock_acquire", 13, 2, json!({"lock": 2})));
        }
        events.push(slot("write", 14, 2, 3, 0, "1"));
        events.push(("lock_release", 15, 2, json!({"lock": 2})));
        evidence(
            &events,
            json!({"0:3": "value", "0:2": "lock"}),
            json!({"0:3": 2}),
        )
    }

    fn locked_updates(e: &Evidence) {
        e.assert_updates(&Updates {
            object: "value",
            called: "the shared Value",
            by: &[("p2", 1)],
            step: 1,
            locked: true,
            meaning: "updates are lost",
        });
    }

    #[test]
    fn an_update_inside_one_hold_counts() {
        locked_updates(&counter(true));
    }

    #[test]
    fn an_update_over_two_holds_is_named() {
        let said = message(std::panic::catch_unwind(|| locked_updates(&counter(false))));
        assert!(
            said.starts_with(
                "p2 read the shared Value under one hold of its lock and wrote it under another"
            ),
            "{said}"
        );
    }

    #[test]
    fn the_value_updated_by_pk_is_the_locked_value_or_the_raw_one() {
        counter(true).assert_value_updated(&[0, 1], true, "m");
        let outcomes = [
            std::panic::catch_unwind(|| {
                counter(false).assert_value_updated(&[0, 1], true, "m");
            }),
            std::panic::catch_unwind(|| {
                counter(true).assert_value_updated(&[0, 2], true, "m");
            }),
            std::panic::catch_unwind(|| {
                counter(true).assert_value_updated(&[0, 1], false, "m");
            }),
        ];
        for outcome in outcomes {
            assert!(outcome.is_err());
        }
    }

    #[test]
    fn messages_between_two_processes_cross_and_a_self_sent_one_does_not() {
        let mut events = spawns();
        events.extend([
            message_event("send", 10, 2, 4, 1, "16"),
            message_event("recv", 11, 1, 4, 1, "16"),
            message_event("send", 12, 1, 4, 2, "25"),
            message_event("recv", 13, 1, 4, 2, "25"),
        ]);
        let e = evidence(&events, json!({"0:4": "queue"}), json!({}));
        let crossed = vec!["16".to_string()];
        e.assert_messages_crossed(&Messages {
            channel: "queue",
            called: "the Queue",
            texts: &crossed,
            sender: Some("p2"),
            receiver: Some("p1"),
            in_order: true,
            meaning: "m",
        });
        let both = vec!["16".to_string(), "25".to_string()];
        let said = message(std::panic::catch_unwind(|| {
            e.assert_messages_crossed(&Messages {
                channel: "queue",
                called: "the Queue",
                texts: &both,
                meaning: "the squares did not go from p1 to p2",
                ..Messages::default()
            });
        }));
        assert!(
            said.starts_with("25 was sent on the Queue and received from it by p1 itself"),
            "{said}"
        );
        let said = message(std::panic::catch_unwind(|| {
            e.assert_messages_crossed(&Messages {
                channel: "pipe",
                called: "the pipe",
                texts: &crossed,
                meaning: "m",
                ..Messages::default()
            });
        }));
        assert!(
            said.starts_with("16 was never sent on the pipe (it went through a queue instead)"),
            "{said}"
        );
    }

    #[test]
    fn producers_and_consumers_on_two_semaphores() {
        let mut events = spawns();
        events.extend([
            ("spawn", 6, 3, json!({"parent": 1})),
            ("sem_acquire", 10, 2, json!({"semaphore": 5})),
            ("sem_release", 11, 2, json!({"semaphore": 6})),
            ("sem_acquire", 12, 3, json!({"semaphore": 6})),
            ("sem_release", 13, 3, json!({"semaphore": 5})),
        ]);
        let e = evidence(
            &events,
            json!({"0:5": "semaphore (initial value 2)", "0:6": "semaphore (initial value 0)"}),
            json!({}),
        );
        e.assert_producers_and_consumers(&ProducersConsumers {
            producers: &["p2"],
            consumers: &["p3"],
            meaning: "m",
        });
        let said = message(std::panic::catch_unwind(|| {
            e.assert_producers_and_consumers(&ProducersConsumers {
                producers: &["p2"],
                consumers: &["p2"],
                meaning: "m",
            });
        }));
        assert!(said.starts_with("p2 both produced and consumed"), "{said}");
    }

    #[test]
    fn interleaved_lines_keep_each_process_in_order() {
        let mut e = evidence(&spawns(), json!({}), json!({}));
        e.run = crate::run("printf", &["A 1\nB 1\nB poll\nA 2\nB 2\n"]);
        let (a, b) = (
            vec!["A 1".to_string(), "A 2".into()],
            vec!["B 1".to_string(), "B 2".into()],
        );
        let poll = ["B poll".to_string()];
        fn lines<'a>(a: &'a [String], b: &'a [String], poll: &'a [String]) -> [Lines<'a>; 2] {
            [
                Lines {
                    prefix: "A ",
                    lines: a,
                    ..Lines::default()
                },
                Lines {
                    prefix: "B ",
                    lines: b,
                    repeated: poll,
                },
            ]
        }
        e.assert_interleaved(Stream::Stdout, &lines(&a, &b, &poll));
        let swapped = vec!["A 2".to_string(), "A 1".into()];
        let said = message(std::panic::catch_unwind(|| {
            e.assert_interleaved(Stream::Stdout, &lines(&swapped, &b, &poll));
        }));
        assert!(
            said.contains("among the lines starting with \"A \", line 1"),
            "{said}"
        );
        let said = message(std::panic::catch_unwind(|| {
            e.assert_interleaved(Stream::Stderr, &lines(&a, &b, &poll));
        }));
        assert!(said.contains("unexpected stderr for inputs the handout does not show: among the lines starting with \"A \", line 1: expected \"A 1\", got nothing more"), "{said}");
        e.run = crate::run("printf", &["A 1\nC 1\n"]);
        let said = message(std::panic::catch_unwind(|| {
            e.assert_interleaved(Stream::Stdout, &lines(&a, &b, &poll));
        }));
        assert!(said.contains("\"C 1\" is no process's line"), "{said}");
    }

    fn ring(read_at: u64) -> Evidence {
        let mut events = spawns();
        events.extend([
            ("spawn", 6, 3, json!({"parent": 1})),
            slot("write", 10, 2, 3, 0, "101"),
            slot("write", 11, 2, 3, 1, "102"),
            slot("read", 12, 3, 3, 0, "101"),
            slot("read", read_at, 3, 3, 1, "102"),
        ]);
        evidence(&events, json!({"0:3": "raw array"}), json!({}))
    }

    #[test]
    fn values_pass_through_shared_slots_only_when_read_after_their_write() {
        let items = vec!["101".to_string(), "102".into()];
        let passed = Passed {
            object: "raw array",
            called: "the ring",
            values: &items,
            writers: &["p2"],
            readers: &["p3"],
            in_order: true,
            meaning: "m",
        };
        ring(13).assert_values_passed(&passed);
        let said = message(std::panic::catch_unwind(|| {
            ring(9).assert_values_passed(&passed);
        }));
        assert!(
            said.starts_with(
                "p3 never read 102 from the ring (after reading 101) after p2 wrote it"
            ),
            "{said}"
        );
    }

    fn entry(condition: bool) -> Evidence {
        let id = (1_u64 << 63) | 5;
        let mut events = spawns();
        events.push(slot("read", 10, 2, id, 4, "7"));
        if condition {
            events.push((
                "mark",
                11,
                2,
                json!({"text": "$KV.b.k: compare-and-set on revision 4"}),
            ));
        }
        events.push(slot("write", 12, 2, id, 5, "8"));
        events.push(slot("read", 20, 1, id, 5, "8"));
        evidence(&events, json!({format!("0:{id}"): "$KV.b.k"}), json!({}))
    }

    #[test]
    fn an_entry_update_counts_only_by_compare_and_set_on_the_revision_read() {
        let updates = Updates {
            object: "$KV.b.k",
            called: "the counter",
            by: &[("p2", 1)],
            step: 1,
            locked: true,
            meaning: "m",
        };
        entry(true)
            .assert_updates_by_revision(&updates)
            .assert_final_value_read("$KV.b.k", "the counter", "8", "p1", "m");
        let said = message(std::panic::catch_unwind(|| {
            entry(false).assert_updates_by_revision(&updates);
        }));
        assert!(
            said.starts_with("p2 read 7 from the counter at revision 4 and wrote 8 blindly"),
            "{said}"
        );
        let said = message(std::panic::catch_unwind(|| {
            entry(true).assert_final_value_read("$KV.b.k", "the counter", "9", "p1", "m");
        }));
        assert!(
            said.starts_with(
                "p1 did not read 9 from the counter after the last write of it (it read: 8)"
            ),
            "{said}"
        );
    }

    fn ring_under_lock(reader_locks: bool) -> Evidence {
        let mut events = spawns();
        events.extend([
            ("spawn", 6, 3, json!({"parent": 1})),
            ("lock_acquire", 9, 2, json!({"lock": 8})),
            slot("write", 10, 2, 3, 0, "101"),
            ("lock_release", 11, 2, json!({"lock": 8})),
            slot("read", 13, 3, 3, 0, "101"),
        ]);
        if reader_locks {
            events.push(("lock_acquire", 12, 3, json!({"lock": 8})));
            events.push(("lock_release", 14, 3, json!({"lock": 8})));
        }
        evidence(
            &events,
            json!({"0:3": "raw array", "0:8": "lock"}),
            json!({}),
        )
    }

    #[test]
    fn shared_slots_count_as_locked_only_under_one_lock_for_every_access() {
        let items = vec!["101".to_string()];
        let passed = Passed {
            object: "raw array",
            called: "the ring",
            values: &items,
            writers: &["p2"],
            readers: &["p3"],
            meaning: "m",
            ..Passed::default()
        };
        ring_under_lock(true).assert_passed_under_a_lock(&passed);
        let said = message(std::panic::catch_unwind(|| {
            ring_under_lock(false).assert_passed_under_a_lock(&passed);
        }));
        assert!(
            said.starts_with("p3 read 101 from the ring without holding a lock"),
            "{said}"
        );
    }

    #[test]
    fn texts_crossed_are_those_one_process_sent_and_another_received() {
        let mut events = spawns();
        events.extend([
            message_event("send", 10, 2, 4, 1, "'{\"a\":1}'"),
            message_event("recv", 11, 1, 4, 1, "'{\"a\":1}'"),
            message_event("send", 12, 2, 4, 2, "'lost'"),
            message_event("send", 13, 1, 4, 3, "'own'"),
            message_event("recv", 14, 1, 4, 3, "'own'"),
        ]);
        let e = evidence(&events, json!({"0:4": "ipc-lab.rpc"}), json!({}));
        let texts = e.texts_crossed("ipc-lab.", "p2", "p1");
        assert_eq!(texts, ["'{\"a\":1}'"]);
        assert_eq!(unquoted(&texts[0]), "{\"a\":1}");
        assert!(e.texts_crossed("queue", "p2", "p1").is_empty());
    }
}
