//! Helpers for the integration tests of the ipc-lab experiments.
//!
//! Tests run the real binaries (`env!("CARGO_BIN_EXE_exp7-shm")`) as
//! separate processes, never fork inside the multi-threaded test harness,
//! and bound every wait: a run that does not end in time is killed and the
//! test fails with everything the program printed.
//!
//! ```
//! // In a test: ipc_testkit::run(env!("CARGO_BIN_EXE_exp7-shm"), &["--fast"])
//! let run = ipc_testkit::run("sh", &["-c", "echo '[1, 4, 9, 16]'"]);
//! run.assert_code(0).assert_no_panic();
//! assert_eq!(run.stdout_lines(), ["[1, 4, 9, 16]"], "{run}");
//! ```

use std::collections::BTreeSet;
use std::fmt;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};

/// How long a run may take before it is killed and the test fails.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// The prefix of every IPC object ipc-lab creates.
pub const PREFIX: &str = "ipc-lab-";

/// How long a test waits for a program to end after SIGINT or SIGTERM
/// before it calls the promise broken.
///
/// The promise is one second (ipc-core's sleeps and blocking calls look
/// at the signal flag every 50 ms); two more seconds absorb a loaded
/// 2-core machine. This is the deadline of a promise, not a benchmark: a
/// program that ends in 10 ms passes as well as one that takes 900 ms.
pub const SIGNAL_DEADLINE: Duration = Duration::from_secs(3);

/// A finished run of a program.
#[derive(Debug)]
pub struct Run {
    /// The command line, for messages.
    pub command: String,
    /// How it ended.
    pub status: ExitStatus,
    /// Everything written to standard output.
    pub stdout: String,
    /// Everything written to standard error.
    pub stderr: String,
}

impl Run {
    /// The exit code, `None` if a signal ended the program.
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    /// Panics, showing the whole run, unless the exit code is `code`.
    #[track_caller]
    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(self.code(), Some(code), "unexpected exit status\n{self}");
        self
    }

    /// The lines of standard output.
    pub fn stdout_lines(&self) -> Vec<&str> {
        self.stdout.lines().collect()
    }

    /// The lines of standard error.
    pub fn stderr_lines(&self) -> Vec<&str> {
        self.stderr.lines().collect()
    }

    /// Panics unless standard error is free of panics and backtraces.
    #[track_caller]
    pub fn assert_no_panic(&self) -> &Self {
        for marker in ["panicked", "RUST_BACKTRACE", "stack backtrace"] {
            assert!(
                !self.stderr.contains(marker),
                "{marker:?} on stderr\n{self}"
            );
        }
        self
    }

    /// Panics unless the program refused its arguments as bad usage: exit
    /// code 2, no panic, nothing on standard output, and `message` on
    /// standard error.
    ///
    /// ```
    /// let run = ipc_testkit::run("sh", &["-c", "echo 'error: bad --flag' >&2; exit 2"]);
    /// run.assert_bad_usage("--flag");
    /// ```
    #[track_caller]
    pub fn assert_bad_usage(&self, message: &str) -> &Self {
        self.assert_code(2).assert_no_panic();
        assert_eq!(
            self.stdout, "",
            "bad usage prints nothing on stdout\n{self}"
        );
        assert!(
            self.stderr.contains(message),
            "{message:?} missing from stderr\n{self}"
        );
        self
    }

    /// Panics unless the program ended with exit code 0, printed exactly
    /// `lines` on standard output, and nothing on standard error.
    ///
    /// ```
    /// ipc_testkit::run("printf", &["1\\n4\\n"]).assert_prints(&["1", "4"]);
    /// ```
    #[track_caller]
    pub fn assert_prints<S: AsRef<str>>(&self, lines: &[S]) -> &Self {
        self.assert_code(0).assert_no_panic();
        let expected: Vec<&str> = lines.iter().map(AsRef::as_ref).collect();
        assert_eq!(self.stdout_lines(), expected, "unexpected stdout\n{self}");
        assert_eq!(self.stderr, "", "unexpected stderr\n{self}");
        self
    }

    /// Panics, naming them, unless every one of `pids` has ended and been
    /// reaped: record a program's [`children_of`] while it runs, and check
    /// after it ended that none outlived it or was left a zombie.
    #[track_caller]
    pub fn assert_all_ended(&self, pids: &[Pid]) -> &Self {
        let left = survivors(pids);
        assert!(left.is_empty(), "still there: {left:?}\n{self}");
        self
    }

    /// Panics, naming the ones missing, unless standard output contains
    /// every one of `needles` (the words a `--help` must explain).
    #[track_caller]
    pub fn assert_stdout_contains(&self, needles: &[&str]) -> &Self {
        assert_contains("stdout", &self.stdout, needles, self)
    }

    /// Panics, naming the ones missing, unless standard error contains
    /// every one of `needles`.
    #[track_caller]
    pub fn assert_stderr_contains(&self, needles: &[&str]) -> &Self {
        assert_contains("stderr", &self.stderr, needles, self)
    }
}

#[track_caller]
fn assert_contains<'a>(stream: &str, text: &str, needles: &[&str], run: &'a Run) -> &'a Run {
    let missing: Vec<&str> = needles
        .iter()
        .copied()
        .filter(|needle| !text.contains(needle))
        .collect();
    assert!(
        missing.is_empty(),
        "{missing:?} missing from {stream}\n{run}"
    );
    run
}

impl fmt::Display for Run {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "$ {}", self.command)?;
        writeln!(f, "status: {}", self.status)?;
        writeln!(f, "--- stdout ---\n{}", self.stdout)?;
        write!(f, "--- stderr ---\n{}", self.stderr)
    }
}

/// Runs `program` with `args`, no standard input, and [`DEFAULT_TIMEOUT`].
pub fn run(program: &str, args: &[&str]) -> Run {
    let mut command = Command::new(program);
    command.args(args);
    run_command(command, None, DEFAULT_TIMEOUT)
}

/// Runs `program` with `args`, feeding `input` on standard input.
pub fn run_with_input(program: &str, args: &[&str], input: &[u8]) -> Run {
    let mut command = Command::new(program);
    command.args(args);
    run_command(command, Some(input), DEFAULT_TIMEOUT)
}

/// Runs `program` with `args` and its standard output redirected to a
/// file, as `program args > FILE` in a shell; returns the run (its stdout
/// is empty) and the file's text. The file lives in a directory of its own
/// under the temporary directory, removed before this returns.
///
/// A file is where a C program's stdout is block-buffered: a process that
/// forks with output still buffered prints it twice. A test compares the
/// file's lines with the expected ones to show each appears once.
///
/// ```
/// let (run, text) = ipc_testkit::run_to_file("echo", &["one", "two"]);
/// run.assert_code(0);
/// assert_eq!(text, "one two\n");
/// ```
#[track_caller]
pub fn run_to_file(program: &str, args: &[&str]) -> (Run, String) {
    let dir = TempDir::new("out");
    let file = dir.path().join("stdout.txt");
    let file_arg = file.to_str().expect("a UTF-8 temporary directory");
    // `exec` keeps the program's pid and leaves no shell behind it.
    let mut all = vec![
        "-c",
        "out=$1; shift; exec \"$0\" \"$@\" > \"$out\"",
        program,
        file_arg,
    ];
    all.extend_from_slice(args);
    let run = run("sh", &all);
    let text =
        std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}\n{run}", file.display()));
    (run, text)
}

/// Runs `program args | head -1`, feeding `input` to the program, and
/// returns the run with the *program's* exit status (not `head`'s, which a
/// shell pipeline would give) and the one line `head` printed.
///
/// `head` exits after its first line, so the program's later writes to
/// standard output fail (`EPIPE`): the way to check that a program ends
/// quietly when its reader goes away.
///
/// ```
/// // A C program such as seq is killed by SIGPIPE (status 128 + 13).
/// let run = ipc_testkit::run_into_head("seq", &["1000000"], b"");
/// assert_eq!(run.code(), Some(141));
/// assert_eq!(run.stdout, "1\n");
/// ```
pub fn run_into_head(program: &str, args: &[&str], input: &[u8]) -> Run {
    let mut command = Command::new("bash");
    command
        .args(["-c", "\"$0\" \"$@\" | head -1; exit \"${PIPESTATUS[0]}\""])
        .arg(program)
        .args(args);
    // A hung program is then killed with the shell (see Running::finish).
    own_process_group(&mut command);
    run_command(command, Some(input), DEFAULT_TIMEOUT)
}

/// A directory of its own under the temporary directory, removed with all
/// it holds when dropped (also when a test panics).
#[derive(Debug)]
pub struct TempDir(PathBuf);

impl TempDir {
    /// Creates `ipc-testkit-<pid>-<n>-<tag>` under the temporary directory,
    /// with `<n>` counting up within this process.
    pub fn new(tag: &str) -> TempDir {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let n = COUNT.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("ipc-testkit-{}-{n}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir(&dir).unwrap_or_else(|e| panic!("mkdir {}: {e}", dir.display()));
        TempDir(dir)
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }

    /// The path of `name` inside the directory.
    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs a prepared command, feeding `input` (or nothing), killing it after
/// `timeout`. Panics with the output if the time runs out.
pub fn run_command(command: Command, input: Option<&[u8]>, timeout: Duration) -> Run {
    let mut running = Running::start(command, input.is_some());
    if let Some(input) = input {
        let mut stdin = running.child.stdin.take().expect("stdin is piped");
        // A program may stop reading early: a broken pipe here is fine.
        let _ = stdin.write_all(input);
    }
    running.finish(timeout)
}

/// A program running in the background, its output collected as it comes.
///
/// For tests that act while the program runs: wait for a line, send a
/// signal, then [`Running::finish`].
#[derive(Debug)]
pub struct Running {
    command: String,
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
    stdout_reader: Option<JoinHandle<()>>,
    stderr_reader: Option<JoinHandle<String>>,
}

impl Running {
    /// Starts `command` with standard output and error captured, and
    /// standard input piped if `stdin` (else closed).
    pub fn start(mut command: Command, stdin: bool) -> Running {
        let description = describe(&command);
        command
            .stdin(if stdin { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {description}: {e}"));
        let (sender, lines) = channel();
        let stdout = child.stdout.take().expect("stdout is piped");
        let stdout_reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let mut stderr = child.stderr.take().expect("stderr is piped");
        let stderr_reader = std::thread::spawn(move || {
            let mut text = Vec::new();
            let _ = stderr.read_to_end(&mut text);
            String::from_utf8_lossy(&text).into_owned()
        });
        Running {
            command: description,
            child,
            lines,
            seen: Vec::new(),
            stdout_reader: Some(stdout_reader),
            stderr_reader: Some(stderr_reader),
        }
    }

    /// The program's process id.
    pub fn pid(&self) -> Pid {
        Pid::from_raw(self.child.id() as i32)
    }

    /// The standard input of a program started with `stdin = true`.
    pub fn stdin(&mut self) -> &mut std::process::ChildStdin {
        self.child
            .stdin
            .as_mut()
            .expect("started with stdin = true")
    }

    /// Waits until `count` lines of standard output satisfy `matches`
    /// (counting lines already seen); panics after `timeout`.
    pub fn wait_for_lines(
        &mut self,
        count: usize,
        timeout: Duration,
        matches: impl Fn(&str) -> bool,
    ) {
        let deadline = Instant::now() + timeout;
        while self.seen.iter().filter(|l| matches(l)).count() < count {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => self.seen.push(line),
                Err(RecvTimeoutError::Timeout) => {
                    let _ = self.child.kill();
                    panic!(
                        "{}: no {count} matching lines after {timeout:?}; stdout so far:\n{}",
                        self.command,
                        self.seen.join("\n")
                    );
                }
                Err(RecvTimeoutError::Disconnected) => panic!(
                    "{}: ended before {count} matching lines; stdout:\n{}",
                    self.command,
                    self.seen.join("\n")
                ),
            }
        }
    }

    /// Waits until the program has at least `count` children and returns
    /// them (see [`children_of`]); kills the program and panics after
    /// `timeout`.
    pub fn wait_for_children(&self, count: usize, timeout: Duration) -> Vec<Pid> {
        let deadline = Instant::now() + timeout;
        loop {
            let children = children_of(self.pid());
            if children.len() >= count {
                return children;
            }
            if Instant::now() >= deadline {
                let _ = kill(self.pid(), Signal::SIGKILL);
                panic!(
                    "{}: {} children after {timeout:?}, not {count}",
                    self.command,
                    children.len()
                );
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Sends `signal` to the program (not to its children).
    pub fn signal(&self, signal: Signal) {
        kill(self.pid(), signal).expect("kill");
    }

    /// Sends `signal` to the program's whole process group, as Ctrl-C in a
    /// terminal does. The program must have been started in a group of its
    /// own (see [`own_process_group`]).
    pub fn signal_group(&self, signal: Signal) {
        nix::sys::signal::killpg(self.pid(), signal).expect("killpg");
    }

    /// Sends `signal` to the program (to its whole group if `group`, see
    /// [`Running::signal_group`]) and checks the promise of every
    /// long-running experiment: the program and its `children` (recorded
    /// with [`Running::wait_for_children`]) all end within
    /// [`SIGNAL_DEADLINE`], and the children are reaped, by the program or,
    /// if it died first, by init (or the nearest subreaper), within 30
    /// seconds. Panics, naming those still there, otherwise (after killing
    /// them); returns the run.
    #[track_caller]
    pub fn signal_and_wait(self, signal: Signal, group: bool, children: &[Pid]) -> Run {
        if group {
            self.signal_group(signal);
        } else {
            self.signal(signal);
        }
        let mut all = children.to_vec();
        all.push(self.pid());
        let running = wait_ended(&all, SIGNAL_DEADLINE);
        if !running.is_empty() {
            for &pid in &all {
                let _ = kill(pid, Signal::SIGKILL);
            }
        }
        let run = self.finish(DEFAULT_TIMEOUT);
        assert!(
            running.is_empty(),
            "still running {SIGNAL_DEADLINE:?} after {signal}: {running:?}\n{run}"
        );
        let left = wait_gone(children, Duration::from_secs(30));
        assert!(left.is_empty(), "never reaped: {left:?}\n{run}");
        run
    }

    /// Sends SIGKILL to the program alone, as `kill -9 PID` does, and
    /// checks that its `children` end by themselves (ipc-core's children
    /// get SIGTERM when their parent dies) and are reaped: see
    /// [`Running::signal_and_wait`].
    #[track_caller]
    pub fn kill_alone(self, children: &[Pid]) -> Run {
        self.signal_and_wait(Signal::SIGKILL, false, children)
    }

    /// Waits up to `timeout` for the program to end; kills it and panics
    /// with its output if it does not.
    #[track_caller]
    pub fn finish(mut self, timeout: Duration) -> Run {
        let deadline = Instant::now() + timeout;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                break status;
            }
            if Instant::now() >= deadline {
                // A program in a group of its own (own_process_group) goes
                // with everything it started: a shell's pipeline, children.
                let pid = self.pid();
                if nix::unistd::getpgid(Some(pid)) == Ok(pid) {
                    let _ = nix::sys::signal::killpg(pid, Signal::SIGKILL);
                }
                let _ = self.child.kill();
                let _ = self.child.wait();
                let run = self.collect(None);
                panic!("did not end within {timeout:?}; killed\n{run}");
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        self.collect(Some(status))
    }

    fn collect(&mut self, status: Option<ExitStatus>) -> Run {
        drop(self.child.stdin.take());
        // The readers end once every process holding the pipes has gone;
        // a child left running would hold them open, so bound the wait.
        let stdout_done = self
            .stdout_reader
            .take()
            .map(|h| join_bounded(h, Duration::from_secs(10)));
        let stderr = self
            .stderr_reader
            .take()
            .and_then(|h| join_bounded(h, Duration::from_secs(10)))
            .unwrap_or_else(|| "<stderr still open: a child outlived the program>".into());
        self.seen.extend(self.lines.try_iter());
        let mut stdout = self.seen.join("\n");
        if !stdout.is_empty() {
            stdout.push('\n');
        }
        if stdout_done.flatten().is_none() {
            stdout.push_str("<stdout still open: a child outlived the program>\n");
        }
        Run {
            command: self.command.clone(),
            status: status.unwrap_or_else(|| self.child.wait().expect("wait")),
            stdout,
            stderr,
        }
    }
}

fn join_bounded<T: Send + 'static>(handle: JoinHandle<T>, timeout: Duration) -> Option<T> {
    let deadline = Instant::now() + timeout;
    while !handle.is_finished() {
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    handle.join().ok()
}

fn describe(command: &Command) -> String {
    let mut text = command.get_program().to_string_lossy().into_owned();
    for arg in command.get_args() {
        text.push(' ');
        text.push_str(&arg.to_string_lossy());
    }
    text
}

/// Runs `program` with `args` under `strace -f` and returns the run with
/// the system calls that the program and its children made (strace's
/// lines), or `None` when strace is missing or may not trace here (no
/// `ptrace` in a container): the caller then says that it skipped.
///
/// ```
/// if let Some((run, calls)) = ipc_testkit::run_traced("true", &[]) {
///     run.assert_code(0);
///     assert!(calls.contains("execve("));
/// }
/// ```
pub fn run_traced(program: &str, args: &[&str]) -> Option<(Run, String)> {
    let works = Command::new("strace")
        .args(["-f", "-o", "/dev/null", "true"])
        .output()
        .is_ok_and(|out| out.status.success());
    if !works {
        return None;
    }
    let dir = TempDir::new("strace");
    let file = dir.join("calls.txt");
    let mut command = Command::new("strace");
    command
        .args(["-f", "-qq", "-s", "64", "-o"])
        .arg(&file)
        .arg(program)
        .args(args);
    let run = run_command(command, None, DEFAULT_TIMEOUT);
    let calls = std::fs::read_to_string(&file).ok()?;
    Some((run, calls))
}

/// Makes `command` start in a process group of its own, so that a test can
/// send the whole group a signal as a terminal's Ctrl-C would.
pub fn own_process_group(command: &mut Command) -> &mut Command {
    use std::os::unix::process::CommandExt;
    command.process_group(0)
}

/// Replaces every run of digits after `marker` with `<N>`:
/// `normalise_numbers("Pid: 2796", "Pid: ")` is `"Pid: <N>"`.
pub fn normalise_numbers(text: &str, marker: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(marker) {
        let (before, after) = rest.split_at(at + marker.len());
        out.push_str(before);
        let digits = after.len() - after.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits > 0 {
            out.push_str("<N>");
        }
        rest = &after[digits..];
    }
    out.push_str(rest);
    out
}

/// The lines of `text` grouped by the first of `prefixes` they start with,
/// one group per prefix and a last group for the lines that start with
/// none; each group keeps the order of its lines.
///
/// When processes print at the same time, the interleaving changes from
/// run to run but the order of each process's own lines does not: compare
/// the groups.
///
/// ```
/// let text = "start\nB: 1\nA: 1\nA: 2\nB: 2\nend\n";
/// assert_eq!(
///     ipc_testkit::by_prefix(text, &["A:", "B:"]),
///     [vec!["A: 1", "A: 2"], vec!["B: 1", "B: 2"], vec!["start", "end"]]
/// );
/// ```
pub fn by_prefix(text: &str, prefixes: &[&str]) -> Vec<Vec<String>> {
    let mut groups = vec![Vec::new(); prefixes.len() + 1];
    for line in text.lines() {
        let group = prefixes
            .iter()
            .position(|prefix| line.starts_with(prefix))
            .unwrap_or(prefixes.len());
        groups[group].push(line.to_owned());
    }
    groups
}

/// The names in `/dev/shm` that carry the ipc-lab prefix.
pub fn shm_objects() -> BTreeSet<String> {
    prefixed_entries("/dev/shm")
}

/// Runs `action` and panics, naming them, if ipc-lab objects appeared in
/// `/dev/shm` meanwhile and are still there afterwards: what a program
/// run by `action` left behind. Returns what `action` returned.
///
/// ```
/// let run = ipc_testkit::assert_no_new_shm(|| ipc_testkit::run("true", &[]));
/// run.assert_code(0);
/// ```
#[track_caller]
pub fn assert_no_new_shm<T>(action: impl FnOnce() -> T) -> T {
    let before = shm_objects();
    let result = action();
    // Tests of one binary run side by side: a segment another test's live
    // program maps or holds is not a leak of this one. A leak outlives
    // every process; the second look spares a segment caught between its
    // owner's munmap and its shm_unlink.
    let leaked = || -> Vec<String> {
        shm_objects()
            .difference(&before)
            .filter(|name| !in_use(&Path::new("/dev/shm").join(name)))
            .cloned()
            .collect()
    };
    if !leaked().is_empty() {
        std::thread::sleep(Duration::from_millis(200));
        let new = leaked();
        assert!(new.is_empty(), "new objects in /dev/shm: {new:?}");
    }
    result
}

/// True while a live process maps `path` (`/proc/PID/maps`) or holds it
/// open (`/proc/PID/fd`).
pub fn in_use(path: &Path) -> bool {
    let Ok(processes) = std::fs::read_dir("/proc") else {
        return false;
    };
    let shown = path.to_string_lossy();
    processes.filter_map(|e| e.ok()).any(|process| {
        let dir = process.path();
        let maps = std::fs::read_to_string(dir.join("maps")).unwrap_or_default();
        maps.lines()
            .any(|line| line.trim_end_matches(" (deleted)").ends_with(&*shown))
            || std::fs::read_dir(dir.join("fd")).is_ok_and(|fds| {
                fds.filter_map(|fd| fd.ok())
                    .any(|fd| std::fs::read_link(fd.path()).is_ok_and(|target| target == path))
            })
    })
}

/// The entries of `dir` whose names start with [`PREFIX`].
pub fn prefixed_entries(dir: &str) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|name| name.starts_with(PREFIX))
                .collect()
        })
        .unwrap_or_default()
}

/// Processes whose parent is `parent` and that are zombies (ended but not
/// reaped), as `pid:command`.
pub fn zombies_of(parent: Pid) -> Vec<String> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return found;
    };
    for entry in entries.filter_map(|e| e.ok()) {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid ...: comm may hold spaces, so split after ')'.
        let Some((head, tail)) = stat.rsplit_once(')') else {
            continue;
        };
        let fields: Vec<&str> = tail.split_whitespace().collect();
        if fields.len() > 1 && fields[0] == "Z" && fields[1] == parent.as_raw().to_string() {
            found.push(head.replace(" (", ":"));
        }
    }
    found
}

/// Every process whose parent is `parent`, as pids.
pub fn children_of(parent: Pid) -> Vec<Pid> {
    let path = format!("/proc/{parent}/task/{parent}/children");
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .map(Pid::from_raw)
        .collect()
}

/// Those of `pids` that still exist, running or as zombies, as
/// `pid:command`: empty once every one of them has ended and been reaped.
///
/// Record a program's [`children_of`] while it runs; after it has ended,
/// `survivors` of them shows a child that outlived it or was never reaped.
pub fn survivors(pids: &[Pid]) -> Vec<String> {
    pids.iter()
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            let (head, _) = stat.rsplit_once(')')?;
            Some(head.replace(" (", ":"))
        })
        .collect()
}

/// Those of `pids` that still run, as `pid:command`: a process that has
/// ended but is not reaped yet (a zombie) no longer runs.
pub fn still_running(pids: &[Pid]) -> Vec<String> {
    pids.iter()
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            let (head, tail) = stat.rsplit_once(')')?;
            let state = tail.split_whitespace().next()?;
            (state != "Z" && state != "X").then(|| head.replace(" (", ":"))
        })
        .collect()
}

/// Waits up to `timeout` until every one of `pids` is blocked, asleep in
/// the kernel (state `S` in `/proc/PID/stat`: waiting in `read`, `futex`,
/// `nanosleep`, …), so that a signal sent next finds them waiting; panics
/// after `timeout`, naming each one's state.
#[track_caller]
pub fn wait_blocked(pids: &[Pid], timeout: Duration) {
    let state = |pid: &Pid| {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|stat| {
                let (_, tail) = stat.rsplit_once(')')?;
                tail.split_whitespace().next().map(str::to_owned)
            })
            .unwrap_or_else(|| "gone".into())
    };
    let deadline = Instant::now() + timeout;
    while !pids.iter().all(|pid| state(pid) == "S") {
        if Instant::now() >= deadline {
            let states: Vec<String> = pids.iter().map(|p| format!("{p}:{}", state(p))).collect();
            panic!("not all blocked after {timeout:?}: {states:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Waits up to `timeout` until none of `pids` runs any more (see
/// [`still_running`]); returns those that still do then.
pub fn wait_ended(pids: &[Pid], timeout: Duration) -> Vec<String> {
    wait_for_empty(|| still_running(pids), timeout)
}

/// Waits up to `timeout` until none of `pids` exists, not even as a
/// zombie (see [`survivors`]); returns those that still do then.
pub fn wait_gone(pids: &[Pid], timeout: Duration) -> Vec<String> {
    wait_for_empty(|| survivors(pids), timeout)
}

fn wait_for_empty(left: impl Fn() -> Vec<String>, timeout: Duration) -> Vec<String> {
    let deadline = Instant::now() + timeout;
    loop {
        let now = left();
        if now.is_empty() || Instant::now() >= deadline {
            return now;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

pub mod handout;
pub mod nats;
pub mod scenarios;

/// Signal numbers for tests.
pub use nix::sys::signal::Signal as Sig;

/// A process id, as [`children_of`] and [`Running::pid`] give them.
pub use nix::unistd::Pid;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_use_sees_an_open_file_and_not_a_closed_one() {
        let dir = TempDir::new("in-use");
        let path = dir.join("held");
        let file = std::fs::File::create(&path).unwrap();
        assert!(in_use(&path));
        drop(file);
        assert!(!in_use(&path));
    }

    #[test]
    fn numbers_after_a_marker_are_normalised() {
        assert_eq!(
            normalise_numbers("INFO:parent:Pid: 16740\nPid: 7 x", "Pid: "),
            "INFO:parent:Pid: <N>\nPid: <N> x"
        );
        assert_eq!(normalise_numbers("Pid: x", "Pid: "), "Pid: x");
    }

    #[test]
    fn a_run_reports_its_output_and_code() {
        let run = run("sh", &["-c", "echo out; echo err >&2; exit 3"]);
        run.assert_code(3);
        assert_eq!(run.stdout_lines(), ["out"]);
        assert_eq!(run.stderr_lines(), ["err"]);
    }

    #[test]
    #[should_panic(expected = "did not end within")]
    fn a_hanging_program_fails_instead_of_hanging() {
        let mut command = Command::new("sleep");
        command.arg("30");
        run_command(command, None, Duration::from_millis(200));
    }

    #[test]
    fn a_hanging_program_in_its_own_group_is_killed_with_its_children() {
        let mut command = Command::new("sh");
        command.args(["-c", "sleep 30 >/dev/null 2>&1 & echo $!; wait"]);
        own_process_group(&mut command);
        let mut running = Running::start(command, false);
        running.wait_for_lines(1, Duration::from_secs(10), |_| true);
        let sleeper = Pid::from_raw(running.seen[0].parse().unwrap());
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            running.finish(Duration::from_millis(200))
        }));
        assert!(outcome.is_err(), "the hang is a failure");
        assert_eq!(
            wait_ended(&[sleeper], Duration::from_secs(10)),
            Vec::<String>::new()
        );
    }

    #[test]
    fn survivors_are_the_processes_that_still_exist() {
        let mut child = Command::new("sleep").arg("30").spawn().unwrap();
        let pid = Pid::from_raw(child.id() as i32);
        assert_eq!(survivors(&[pid]), [format!("{pid}:sleep")]);
        let outcome = std::panic::catch_unwind(|| {
            run("true", &[]).assert_all_ended(&[pid]);
        });
        let message = *outcome.unwrap_err().downcast::<String>().unwrap();
        assert!(
            message.starts_with(&format!("still there: [\"{pid}:sleep\"]")),
            "{message}"
        );
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(survivors(&[pid]).is_empty());
        run("true", &[]).assert_all_ended(&[pid]);
    }

    #[test]
    fn a_zombie_has_ended_but_is_not_gone() {
        let mut child = Command::new("true").spawn().unwrap();
        let pid = Pid::from_raw(child.id() as i32);
        assert_eq!(
            wait_ended(&[pid], Duration::from_secs(10)),
            Vec::<String>::new()
        );
        assert_eq!(survivors(&[pid]), [format!("{pid}:true")], "a zombie");
        child.wait().unwrap();
        assert!(wait_gone(&[pid], Duration::ZERO).is_empty());
    }

    #[test]
    fn a_sleeping_process_is_blocked() {
        let mut child = Command::new("sleep").arg("30").spawn().unwrap();
        let pid = Pid::from_raw(child.id() as i32);
        wait_blocked(&[pid], Duration::from_secs(10));
        child.kill().unwrap();
        child.wait().unwrap();
        let outcome = std::panic::catch_unwind(|| wait_blocked(&[pid], Duration::ZERO));
        let message = *outcome.unwrap_err().downcast::<String>().unwrap();
        assert_eq!(
            message,
            format!("not all blocked after 0ns: [\"{pid}:gone\"]")
        );
    }

    #[test]
    fn a_running_process_is_still_running() {
        let mut child = Command::new("sleep").arg("30").spawn().unwrap();
        let pid = Pid::from_raw(child.id() as i32);
        assert_eq!(
            wait_ended(&[pid], Duration::from_millis(50)),
            [format!("{pid}:sleep")]
        );
        child.kill().unwrap();
        child.wait().unwrap();
    }

    #[test]
    fn killing_a_parent_alone_checks_its_children_end() {
        // The shell's child has no PR_SET_PDEATHSIG: it lives on, and
        // kill_alone says so.
        let mut command = Command::new("sh");
        command.args(["-c", "sleep 30 >/dev/null 2>&1 & wait"]);
        let running = Running::start(command, false);
        let children = running.wait_for_children(1, Duration::from_secs(10));
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            running.kill_alone(&children)
        }));
        for &child in &children {
            let _ = kill(child, Signal::SIGKILL);
        }
        let message = *outcome.unwrap_err().downcast::<String>().unwrap();
        assert!(
            message.starts_with("still running 3s after SIGKILL: ["),
            "{message}"
        );
    }

    #[test]
    fn bad_usage_is_code_2_a_message_and_no_stdout() {
        run("sh", &["-c", "echo 'error: --x' >&2; exit 2"]).assert_bad_usage("--x");
    }

    #[test]
    #[should_panic(expected = "bad usage prints nothing on stdout")]
    fn bad_usage_with_output_on_stdout_fails() {
        run("sh", &["-c", "echo usage; echo 'error: --x' >&2; exit 2"]).assert_bad_usage("--x");
    }

    #[test]
    #[should_panic(expected = "\"--y\" missing from stderr")]
    fn bad_usage_without_the_message_fails() {
        run("sh", &["-c", "echo 'error: --x' >&2; exit 2"]).assert_bad_usage("--y");
    }

    #[test]
    #[should_panic(expected = "unexpected exit status")]
    fn bad_usage_with_another_code_fails() {
        run("sh", &["-c", "echo 'error: --x' >&2; exit 1"]).assert_bad_usage("--x");
    }

    #[test]
    #[should_panic(expected = "[\"three\", \"four\"] missing from stdout")]
    fn missing_words_are_named() {
        run("echo", &["one two"]).assert_stdout_contains(&["one", "three", "two", "four"]);
    }

    #[test]
    #[should_panic(expected = "[\"two\"] missing from stderr")]
    fn missing_words_on_stderr_are_named() {
        run("sh", &["-c", "echo one >&2; echo two"]).assert_stderr_contains(&["one", "two"]);
    }

    #[test]
    fn prints_compares_every_line() {
        run("printf", &["a\\nb\\n"]).assert_prints(&["a", "b"]);
        run("true", &[]).assert_prints::<&str>(&[]);
    }

    #[test]
    #[should_panic(expected = "unexpected stdout")]
    fn prints_fails_on_a_missing_line() {
        run("printf", &["a\\nb\\n"]).assert_prints(&["a"]);
    }

    #[test]
    #[should_panic(expected = "unexpected stderr")]
    fn prints_fails_on_stderr() {
        run("sh", &["-c", "echo a; echo b >&2"]).assert_prints(&["a"]);
    }

    #[test]
    #[should_panic(expected = "unexpected exit status")]
    fn prints_fails_on_a_failure() {
        run("sh", &["-c", "echo a; exit 1"]).assert_prints(&["a"]);
    }

    #[test]
    fn run_to_file_returns_the_file_and_removes_it() {
        let (run, text) = run_to_file(
            "sh",
            &[
                "-c",
                "echo \"$1\"; echo err >&2; readlink /proc/self/fd/1",
                "-",
                "a 'b' c",
            ],
        );
        run.assert_code(0);
        assert_eq!(run.stdout, "", "{run}");
        assert_eq!(run.stderr, "err\n", "{run}");
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("a 'b' c"));
        let file = lines.next().unwrap();
        assert!(file.ends_with("/stdout.txt"), "{text}");
        assert!(!Path::new(file).exists(), "{file} left behind");
        assert!(
            !Path::new(file).parent().unwrap().exists(),
            "{file}'s directory left behind"
        );
    }

    #[test]
    fn temp_dirs_are_distinct_and_removed() {
        let (one, two) = (TempDir::new("t"), TempDir::new("t"));
        assert_ne!(one.path(), two.path());
        std::fs::write(one.join("f"), "x").unwrap();
        let path = one.path().to_owned();
        drop(one);
        assert!(!path.exists());
    }

    /// A file in /dev/shm with the ipc-lab prefix, removed when dropped.
    #[derive(Debug)]
    struct ShmFile(PathBuf);

    impl Drop for ShmFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    #[test]
    fn new_shm_objects_are_reported_and_removed_ones_are_not() {
        // One test, so that nothing else in this binary adds to /dev/shm
        // while it looks.
        let path = Path::new("/dev/shm").join(format!("ipc-lab-testkit-{}", std::process::id()));
        assert_no_new_shm(|| {
            std::fs::write(&path, "").unwrap();
            std::fs::remove_file(&path).unwrap();
        });
        let outcome = std::panic::catch_unwind(|| {
            assert_no_new_shm(|| {
                let file = ShmFile(path.clone());
                std::fs::write(&file.0, "").unwrap();
                file
            })
        });
        let message = *outcome.unwrap_err().downcast::<String>().unwrap();
        assert!(
            message.starts_with("new objects in /dev/shm: [\"ipc-lab-testkit-"),
            "{message}"
        );
        assert!(!path.exists(), "the guard removed it while unwinding");
    }

    #[test]
    fn children_can_be_awaited() {
        let mut command = Command::new("sh");
        command.args(["-c", "sleep 30 & sleep 30 & wait"]);
        let running = Running::start(command, false);
        let children = running.wait_for_children(2, Duration::from_secs(10));
        assert_eq!(children.len(), 2);
        for &child in &children {
            kill(child, Signal::SIGTERM).unwrap();
        }
        let run = running.finish(Duration::from_secs(10));
        run.assert_code(0).assert_all_ended(&children);
    }

    #[test]
    #[should_panic(expected = "0 children after")]
    fn children_that_never_come_fail_the_wait() {
        let mut command = Command::new("sleep");
        command.arg("30");
        let running = Running::start(command, false);
        running.wait_for_children(1, Duration::from_millis(200));
    }

    #[test]
    fn lines_can_be_awaited_while_the_program_runs() {
        let mut command = Command::new("sh");
        command.args(["-c", "echo one; echo two; exec sleep 30"]);
        let mut running = Running::start(command, false);
        running.wait_for_lines(2, Duration::from_secs(10), |_| true);
        running.signal(Signal::SIGTERM);
        let run = running.finish(Duration::from_secs(10));
        assert_eq!(run.stdout_lines(), ["one", "two"]);
        assert_eq!(run.code(), None, "ended by SIGTERM");
    }
}
