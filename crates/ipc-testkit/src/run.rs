//! Running the real binaries with a bound: a run that does not end in
//! time is killed (with its process group) and the test fails with
//! everything the program printed.

use std::fmt;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use ipc_core::blocking::{self, Deadline};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::leaks::TempDir;
use crate::procfs::{children_of, still_running, survivors, wait_ended, wait_gone};
use crate::text::first_difference;
use crate::unfinished::{self, Unfinished};

/// How long a run may take before it is killed and the test fails.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a test waits for a program to end after SIGINT or SIGTERM
/// before it calls the promise broken.
///
/// The promise is one second (ipc-core's sleeps and blocking calls look
/// at the signal flag at least every 100 ms); two more seconds absorb a loaded
/// 2-core machine. This is the deadline of a promise, not a benchmark: a
/// program that ends in 10 ms passes as well as one that takes 900 ms.
pub const SIGNAL_DEADLINE: Duration = Duration::from_secs(3);
/// How long a test waits for a program to end after one of its processes
/// was killed before it calls the promise broken.
///
/// The promise is two seconds: the parent sees the death within 20 ms,
/// asks the other processes to end (SIGTERM, noticed within 100 ms) and
/// kills them after one more second. Two more seconds absorb a loaded
/// 2-core machine; as with [`SIGNAL_DEADLINE`], this is a deadline, not a
/// benchmark.
pub const PEER_DEATH_DEADLINE: Duration = Duration::from_secs(4);

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

    /// Panics unless the program reported a full disk on standard output
    /// as the rules want: exit code 1, no panic, and the message
    /// `writing to standard output: No space left on device` on standard
    /// error (see [`run_into_full_disk`]).
    #[track_caller]
    pub fn assert_full_disk_reported(&self) -> &Self {
        self.assert_code(1)
            .assert_no_panic()
            .assert_stderr_contains(&["writing to standard output: No space left on device"])
    }

    /// Panics, showing the whole run, unless the exit code is `code`.
    #[track_caller]
    pub fn assert_code(&self, code: i32) -> &Self {
        self.assert_finished();
        assert_eq!(self.code(), Some(code), "unexpected exit status\n{self}");
        self
    }

    /// The part still to write that the run reached, if it reached one (a
    /// starter's `todo!()`: see [`crate::unfinished`]).
    pub fn unfinished(&self) -> Option<Unfinished> {
        unfinished::find(&self.stderr)
    }

    /// Panics, naming the hint and its place first, if the run reached a
    /// part still to write: whatever it printed then is not the program's
    /// doing. Every assertion of a `Run` checks this first, so that no
    /// test passes, and none fails with a wall of output, because of a
    /// `todo!()`.
    #[track_caller]
    pub fn assert_finished(&self) -> &Self {
        if self.unfinished().is_some() {
            // The display of a run that reached one starts with it.
            panic!("{self}");
        }
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
        self.assert_finished();
        for marker in ["panicked", "RUST_BACKTRACE", "stack backtrace"] {
            assert!(
                !self.stderr.contains(marker),
                "{marker:?} on stderr\n{self}"
            );
        }
        self
    }

    /// Panics unless standard output and standard error hold no control
    /// character but line ends: a peer's text reached the terminal
    /// escaped, not able to act on it.
    #[track_caller]
    pub fn assert_no_control_characters(&self) -> &Self {
        let printed = format!("{}{}", self.stdout, self.stderr);
        assert!(
            !printed.chars().any(|c| c.is_control() && c != '\n'),
            "a control character reached the terminal\n{self}"
        );
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
        let actual = self.stdout_lines();
        if let Some(difference) = first_difference(&actual, &expected) {
            let diff = crate::unified_diff(&expected, &actual);
            panic!("unexpected stdout: {difference}\n{diff}{self}");
        }
        assert_eq!(self.stderr, "", "unexpected stderr\n{self}");
        self
    }

    /// Panics, naming them, unless every one of `pids` has ended and been
    /// reaped: record a program's [`children_of`] while it runs, and check
    /// after it ended that none outlived it or was left a zombie.
    #[track_caller]
    pub fn assert_all_ended(&self, pids: &[Pid]) -> &Self {
        self.assert_finished();
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

/// Panics, naming the ones missing, unless `text` (the run's `stream`)
/// contains every one of `needles`.
#[track_caller]
pub(crate) fn assert_contains<'a>(
    stream: &str,
    text: &str,
    needles: &[&str],
    run: &'a Run,
) -> &'a Run {
    run.assert_finished();
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
        if let Some(unfinished) = self.unfinished() {
            writeln!(f, "{unfinished}: the program reached a part still to write")?;
        }
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
/// Runs `program args > /dev/full`, as a shell would: every write to
/// standard output fails with `ENOSPC` (`No space left on device`), the
/// way a full disk fails it. Check the run with
/// [`Run::assert_full_disk_reported`].
///
/// ```
/// // A C program reports it its own way.
/// let run = ipc_testkit::run_into_full_disk("echo", &["hi"]);
/// assert_eq!(run.code(), Some(1));
/// assert!(run.stderr.contains("No space left on device"), "{run}");
/// ```
pub fn run_into_full_disk(program: &str, args: &[&str]) -> Run {
    let mut all = vec!["-c", "exec \"$0\" \"$@\" > /dev/full", program];
    all.extend_from_slice(args);
    run("sh", &all)
}

/// True when `python -c "import <module>"` succeeds here: the Python
/// (`python3`, a venv's) that a check compares with, or needs, is there
/// with the module.
pub fn python_imports(python: impl AsRef<std::ffi::OsStr>, module: &str) -> bool {
    Command::new(python)
        .args(["-c", &format!("import {module}")])
        .output()
        .is_ok_and(|out| out.status.success())
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
    stderr_reader: Option<JoinHandle<()>>,
    /// What the program has written to standard error so far.
    stderr: Arc<Mutex<Vec<u8>>>,
}

/// Gives SIGINT and SIGTERM their default action back in this process if
/// they are ignored, so that the programs it starts get them as a terminal
/// would give them.
///
/// A shell without job control starts a background command (`cargo test
/// &`, a CI step under `nohup … &`) with SIGINT ignored, an ignored signal
/// stays ignored across `exec(2)`, and a test that sends Ctrl-C to a
/// program that keeps the default action would then wait for an end that
/// never comes. Signals with a handler (a scenario's `signal::install`)
/// are left alone.
fn unignore_interrupts() {
    let ignored = crate::procfs::ignored_signals(Pid::this());
    if ignored.contains(&Signal::SIGINT) || ignored.contains(&Signal::SIGTERM) {
        ipc_core::signal::uninstall().expect("sigaction SIG_DFL");
    }
}

impl Running {
    /// Starts `command` with standard output and error captured, and
    /// standard input piped if `stdin` (else closed).
    pub fn start(mut command: Command, stdin: bool) -> Running {
        let description = describe(&command);
        unignore_interrupts();
        crate::leaks::audit_command(&mut command);
        command
            .stdin(if stdin { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {description}: {e}"));
        crate::leaks::audit_started(Pid::from_raw(child.id() as i32));
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
        let text = Arc::new(Mutex::new(Vec::new()));
        let written = Arc::clone(&text);
        let stderr_reader = std::thread::spawn(move || {
            let mut buf = [0; 4096];
            while let Ok(n @ 1..) = stderr.read(&mut buf) {
                lock(&written).extend_from_slice(&buf[..n]);
            }
        });
        Running {
            command: description,
            child,
            lines,
            seen: Vec::new(),
            stdout_reader: Some(stdout_reader),
            stderr_reader: Some(stderr_reader),
            stderr: text,
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

    /// Waits up to `timeout` for `count` lines of standard output that
    /// satisfy `matches` (counting lines already seen); true if they came,
    /// false after the timeout. Panics, with its standard error, if the
    /// program ends before (at once, even when a child of it keeps its
    /// standard output open). For a test that watches something else
    /// meanwhile: call it with a short timeout in a loop.
    pub fn has_lines(
        &mut self,
        count: usize,
        timeout: Duration,
        matches: impl Fn(&str) -> bool,
    ) -> bool {
        let what = format!("{count} matching lines");
        let mut closed = false;
        let came = self.watch(timeout, &what, |running, slice| {
            while running.seen.iter().filter(|l| matches(l)).count() < count {
                if closed {
                    std::thread::sleep(slice);
                    return None;
                }
                match running.lines.recv_timeout(slice) {
                    Ok(line) => running.seen.push(line),
                    Err(RecvTimeoutError::Timeout) => return None,
                    // Every writer is gone: no line comes any more once
                    // the program has ended (it may have closed it alone).
                    Err(RecvTimeoutError::Disconnected) => match running.ended() {
                        Some(how) => running.ended_while(&how, &what),
                        None => closed = true,
                    },
                }
            }
            Some(())
        });
        came.is_some()
    }

    /// Waits until `count` lines of standard output satisfy `matches`
    /// (counting lines already seen); panics after `timeout`, or with its
    /// standard error if the program ends before.
    pub fn wait_for_lines(
        &mut self,
        count: usize,
        timeout: Duration,
        matches: impl Fn(&str) -> bool,
    ) {
        if !self.has_lines(count, timeout, &matches) {
            let _ = self.child.kill();
            panic!(
                "{}: no {count} matching lines after {timeout:?}; stdout so far:\n{}",
                self.command,
                self.seen.join("\n")
            );
        }
    }

    /// How the program ended (`exited with code 101`, `killed by
    /// SIGKILL`), once it has, without reaping it; `None` while it runs.
    pub fn ended(&self) -> Option<String> {
        use nix::sys::wait::{Id, WaitPidFlag, WaitStatus, waitid};
        let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG | WaitPidFlag::WNOWAIT;
        match waitid(Id::Pid(self.pid()), flags) {
            Ok(WaitStatus::Exited(_, code)) => Some(format!("exited with code {code}")),
            Ok(WaitStatus::Signaled(_, signal, _)) => Some(format!("was killed by {signal}")),
            Ok(_) => None,
            Err(_) => still_running(&[self.pid()])
                .is_empty()
                .then(|| "ended".to_owned()),
        }
    }

    /// Waits up to `timeout` for `attempt` to give a value while the
    /// program runs: the wait of a test on something only the program can
    /// bring about (a message it sends, a file it makes). `attempt` is
    /// called again and again with the time it may block (a slice of at
    /// most [`blocking::POLL_INTERVAL`]) and returns `None` for "not yet".
    ///
    /// Panics after `timeout`, naming `what` was awaited; panics at once
    /// (after a last second for what the program did before it ended to
    /// arrive) if the program ends first, saying how it ended and the end
    /// of its standard error. See [`wait_while_all_run`] for several
    /// programs.
    ///
    /// ```
    /// # use std::process::Command;
    /// # use std::time::Duration;
    /// let mut command = Command::new("sh");
    /// command.args(["-c", "echo 'not yet implemented: serve' >&2; exit 101"]);
    /// let running = ipc_testkit::Running::start(command, false);
    /// let waited = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
    ///     running.wait_while_running(Duration::from_secs(30), "an answer", |slice| {
    ///         std::thread::sleep(slice);
    ///         None::<()>
    ///     })
    /// }));
    /// let said = *waited.unwrap_err().downcast::<String>().unwrap();
    /// assert!(said.contains("exited with code 101 while the test waited for an answer"), "{said}");
    /// assert!(said.contains("not yet implemented: serve"), "{said}");
    /// ```
    #[track_caller]
    pub fn wait_while_running<T>(
        &self,
        timeout: Duration,
        what: &str,
        attempt: impl FnMut(Duration) -> Option<T>,
    ) -> T {
        wait_while_all_run(&[self], timeout, what, attempt)
    }

    /// [`Running::wait_while_running`] with access to the program itself,
    /// and `None` after the timeout instead of a panic.
    fn watch<T>(
        &mut self,
        timeout: Duration,
        what: &str,
        attempt: impl FnMut(&mut Running, Duration) -> Option<T>,
    ) -> Option<T> {
        match until_or_ended(self, timeout, attempt, Running::ended) {
            Ok(value) => Some(value),
            Err(Some(how)) => self.ended_while(&how, what),
            Err(None) => None,
        }
    }

    /// Panics: the program ended (`how`) while the test waited for `what`,
    /// with the end of its standard error (its `todo!()` said first).
    #[track_caller]
    fn ended_while(&self, how: &str, what: &str) -> ! {
        let stderr = self.stderr_after_end();
        let lines: Vec<&str> = stderr.lines().collect();
        let tail = match lines.len().checked_sub(STDERR_TAIL) {
            Some(cut @ 1..) => format!("…\n{}\n", lines[cut..].join("\n")),
            _ => stderr.clone(),
        };
        panic!(
            "{}{}: {how} while the test waited for {what}; stdout:\n{}\n--- stderr ---\n{tail}",
            unfinished_first(&stderr),
            self.command,
            self.seen.join("\n")
        )
    }

    /// Waits until the program has at least `count` children and returns
    /// them (see [`children_of`]), in the order they were forked; kills the
    /// program and panics after `timeout`.
    ///
    /// A run's tracker is told apart by its command name, which it sets
    /// right after its fork: one that has not run yet still has the
    /// program's name. So while more than `count` children are listed, this
    /// waits up to a second more for them to be exactly `count`: the
    /// tracker, forked before the experiment's processes, would otherwise
    /// be taken for the first of them.
    pub fn wait_for_children(&self, count: usize, timeout: Duration) -> Vec<Pid> {
        let deadline = Deadline::after(timeout);
        loop {
            let children = children_of(self.pid());
            if children.len() > count {
                let settle = Deadline::after(Duration::from_secs(1));
                let now = blocking::poll_until(settle, blocking::STEP_INTERVAL, || {
                    let now = children_of(self.pid());
                    (now.len() <= count || settle.has_passed()).then_some(now)
                })
                .unwrap_or_else(|| children_of(self.pid()));
                if now.len() >= count {
                    return now;
                }
                continue;
            }
            if children.len() == count {
                return children;
            }
            if still_running(&[self.pid()]).is_empty() {
                // It ended (it is a zombie until `finish`): they never come.
                let stderr = self.stderr_after_end();
                panic!(
                    "{}{}: ended with {} children, not {count}\n--- stderr ---\n{stderr}",
                    unfinished_first(&stderr),
                    self.command,
                    children.len()
                );
            }
            if deadline.has_passed() {
                let _ = kill(self.pid(), Signal::SIGKILL);
                panic!(
                    "{}: {} children after {timeout:?}, not {count}",
                    self.command,
                    children.len()
                );
            }
            std::thread::sleep(deadline.pause(blocking::STEP_INTERVAL));
        }
    }

    /// The standard error of a program that has ended (what was written
    /// until then if it stays open: a child kept it).
    fn stderr_after_end(&self) -> String {
        if let Some(reader) = &self.stderr_reader {
            blocking::poll_until(
                Deadline::after(Duration::from_secs(2)),
                blocking::STEP_INTERVAL,
                || reader.is_finished().then_some(()),
            );
        }
        String::from_utf8_lossy(&lock(&self.stderr)).into_owned()
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
        let run = self.end_within(SIGNAL_DEADLINE, children, signal.as_str());
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

    /// SIGKILLs `victim`, one of the program's processes (from
    /// [`Running::wait_for_children`]), and checks the promise about a
    /// peer that dies: the program notices and ends, with every one of its
    /// `children`, within [`PEER_DEATH_DEADLINE`], and no child is left
    /// unreaped. Panics, naming those still there, otherwise (after
    /// killing them); returns the run, whose exit code and message the
    /// caller checks (`process1 was killed by SIGKILL`, exit code 1).
    #[track_caller]
    pub fn kill_peer(self, victim: Pid, children: &[Pid]) -> Run {
        kill(victim, Signal::SIGKILL).expect("kill");
        let run = self.end_within(
            PEER_DEATH_DEADLINE,
            children,
            &format!("{victim} was killed"),
        );
        run.assert_all_ended(children);
        run
    }

    /// Waits up to `deadline` for the program and its `children` to end,
    /// then finishes the run; panics, naming those still running `after`
    /// (what happened), once it has killed them.
    #[track_caller]
    fn end_within(self, deadline: Duration, children: &[Pid], after: &str) -> Run {
        let mut all = children.to_vec();
        all.push(self.pid());
        let running = wait_ended(&all, deadline);
        if !running.is_empty() {
            for &pid in &all {
                let _ = kill(pid, Signal::SIGKILL);
            }
        }
        let run = self.finish(DEFAULT_TIMEOUT);
        assert!(
            running.is_empty(),
            "still running {deadline:?} after {after}: {running:?}\n{run}"
        );
        run
    }

    /// Waits up to `timeout` for the program to end; kills it and panics
    /// with its output if it does not.
    #[track_caller]
    pub fn finish(mut self, timeout: Duration) -> Run {
        let deadline = Deadline::after(timeout);
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                break status;
            }
            if deadline.has_passed() {
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
            std::thread::sleep(deadline.pause(blocking::STEP_INTERVAL));
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
        let stderr_done = self
            .stderr_reader
            .take()
            .map(|h| join_bounded(h, Duration::from_secs(10)));
        let mut stderr = String::from_utf8_lossy(&lock(&self.stderr)).into_owned();
        if stderr_done.flatten().is_none() {
            stderr.push_str("<stderr still open: a child outlived the program>\n");
        }
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

/// The lock of `shared`, even if a thread panicked holding it.
fn lock<T>(shared: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    shared
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// How long a wait goes on after a program it watches has ended, for what
/// the program did before it ended to arrive (a message in flight).
const ENDED_GRACE: Duration = Duration::from_secs(1);

/// How many of its last lines a failure shows of a program's standard
/// error.
const STDERR_TAIL: usize = 20;

/// [`Running::wait_while_running`] for a wait that needs every one of
/// `programs` (a server and its client): it fails at once, naming the
/// program and how it ended, when any of them ends first.
#[track_caller]
pub fn wait_while_all_run<T>(
    programs: &[&Running],
    timeout: Duration,
    what: &str,
    mut attempt: impl FnMut(Duration) -> Option<T>,
) -> T {
    let ended = |_: &()| {
        programs
            .iter()
            .find_map(|program| Some((*program, program.ended()?)))
    };
    match until_or_ended(&mut (), timeout, |_, slice| attempt(slice), ended) {
        Ok(value) => value,
        Err(Some((program, how))) => program.ended_while(&how, what),
        Err(None) => {
            let commands: Vec<&str> = programs.iter().map(|p| p.command.as_str()).collect();
            panic!("no {what} after {timeout:?} while {commands:?} ran");
        }
    }
}

/// The one loop of the waits on running programs: calls `attempt` (with
/// `state` and the time it may block) until it gives a value (`Ok`); when
/// `ended` first reports an end, goes on [`ENDED_GRACE`] more, then gives
/// that end (`Err(Some(end))`); `Err(None)` after `timeout`.
fn until_or_ended<S: ?Sized, T, E>(
    state: &mut S,
    timeout: Duration,
    mut attempt: impl FnMut(&mut S, Duration) -> Option<T>,
    ended: impl Fn(&S) -> Option<E>,
) -> std::result::Result<T, Option<E>> {
    let deadline = Deadline::after(timeout);
    let mut end: Option<(Deadline, E)> = None;
    loop {
        let step = Deadline::after(deadline.slice());
        if let Some(value) = attempt(state, deadline.slice()) {
            return Ok(value);
        }
        match &end {
            Some((grace, _)) if grace.has_passed() => return Err(end.map(|(_, e)| e)),
            Some(_) => {}
            None => end = ended(state).map(|e| (Deadline::after(ENDED_GRACE), e)),
        }
        if deadline.has_passed() {
            return Err(None);
        }
        std::thread::sleep(step.remaining().unwrap_or_default());
    }
}

/// A program still running when its `Running` goes (a test that failed or
/// panicked before it finished the run) is killed, with its process group
/// if it has one of its own, and reaped: a test leaves no process of its
/// own behind, whatever the outcome.
impl Drop for Running {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(Some(_))) {
            return;
        }
        let pid = self.pid();
        if nix::unistd::getpgid(Some(pid)) == Ok(pid) {
            let _ = nix::sys::signal::killpg(pid, Signal::SIGKILL);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `unfinished: HINT (FILE:LINE): the program reached a part still to
/// write` and a line break, when `stderr` shows one; else nothing.
fn unfinished_first(stderr: &str) -> String {
    unfinished::find(stderr)
        .map(|u| format!("{u}: the program reached a part still to write\n"))
        .unwrap_or_default()
}

fn join_bounded<T: Send + 'static>(handle: JoinHandle<T>, timeout: Duration) -> Option<T> {
    blocking::poll_until(Deadline::after(timeout), blocking::STEP_INTERVAL, || {
        handle.is_finished().then_some(())
    })?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;
    use std::time::Instant;

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

    /// A shell in a group of its own, waiting for its child `sleep 30`;
    /// and that child.
    fn shell_with_a_sleeper() -> (Running, Pid) {
        let mut command = Command::new("sh");
        command.args(["-c", "sleep 30 >/dev/null 2>&1 & echo $!; wait"]);
        own_process_group(&mut command);
        let mut running = Running::start(command, false);
        running.wait_for_lines(1, Duration::from_secs(10), |_| true);
        let sleeper = Pid::from_raw(running.seen[0].parse().unwrap());
        (running, sleeper)
    }

    #[test]
    fn a_hanging_program_in_its_own_group_is_killed_with_its_children() {
        let (running, sleeper) = shell_with_a_sleeper();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            running.finish(Duration::from_millis(200))
        }));
        assert!(outcome.is_err(), "the hang is a failure");
        assert_eq!(
            wait_ended(&[sleeper], Duration::from_secs(10)),
            Vec::<String>::new()
        );
    }

    /// `sh -c script` started, once its `children` processes are there.
    fn shell_with_children(script: &str, children: usize) -> (Running, Vec<Pid>) {
        let mut command = Command::new("sh");
        command.args(["-c", script]);
        let running = Running::start(command, false);
        let forked = running.wait_for_children(children, Duration::from_secs(10));
        (running, forked)
    }

    #[test]
    fn killing_a_parent_alone_checks_its_children_end() {
        // The shell's child has no PR_SET_PDEATHSIG: it lives on, and
        // kill_alone says so.
        let (running, children) = shell_with_children("sleep 30 >/dev/null 2>&1 & wait", 1);
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            running.kill_alone(&children)
        }));
        for &child in &children {
            let _ = kill(child, Signal::SIGKILL);
        }
        crate::panicked_saying(outcome, "still running 3s after SIGKILL: [");
    }

    #[test]
    fn a_program_that_outlives_its_dead_peer_fails_kill_peer() {
        // The shell waits for both sleeps: killing one ends nothing.
        let (running, children) = shell_with_children("sleep 30 & sleep 30 & wait", 2);
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            running.kill_peer(children[0], &children)
        }));
        crate::panicked_saying(
            outcome,
            &format!("still running 4s after {} was killed", children[0]),
        );
        assert!(wait_gone(&children, Duration::from_secs(10)).is_empty());
    }

    #[test]
    fn a_full_disk_must_be_reported_with_exit_code_1() {
        run_into_full_disk("sh", &["-c", "echo hi || { echo 'writing to standard output: No space left on device' >&2; exit 1; }"])
            .assert_full_disk_reported();
        let outcome = std::panic::catch_unwind(|| {
            run_into_full_disk("sh", &["-c", "echo hi; exit 0"]).assert_full_disk_reported();
        });
        assert!(outcome.is_err(), "exit code 0 after a failed write");
    }

    #[test]
    fn bad_usage_is_code_2_a_message_and_no_stdout() {
        run("sh", &["-c", "echo 'error: --x' >&2; exit 2"]).assert_bad_usage("--x");
        // Each fault fails it, named: (the program, the words, the message).
        for (script, words, named) in [
            (
                "echo usage; echo 'error: --x' >&2; exit 2",
                "--x",
                "bad usage prints nothing on stdout",
            ),
            (
                "echo 'error: --x' >&2; exit 2",
                "--y",
                "\"--y\" missing from stderr",
            ),
            (
                "echo 'error: --x' >&2; exit 1",
                "--x",
                "unexpected exit status",
            ),
        ] {
            let outcome = std::panic::catch_unwind(|| {
                run("sh", &["-c", script]).assert_bad_usage(words);
            });
            let message = crate::panic_message(outcome);
            assert!(message.contains(named), "{named:?} missing:\n{message}");
        }
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
    fn a_run_that_reached_a_todo_fails_every_assertion_naming_it_first() {
        let run = run(
            "sh",
            &[
                "-c",
                "echo 1; echo 'p1: panicked at src/lib.rs:9: not yet implemented: square them' >&2; exit 1",
            ],
        );
        let first =
            "unfinished: square them (src/lib.rs:9): the program reached a part still to write\n";
        assert!(run.to_string().starts_with(first), "{run}");
        // Even the exit code the test expects (a child that failed) or the
        // line it looks for does not let the test pass.
        for assertion in [
            Box::new(|| {
                run.assert_code(1);
            }) as Box<dyn Fn()>,
            Box::new(|| {
                run.assert_stdout_contains(&["1"]);
            }),
            Box::new(|| {
                run.assert_all_ended(&[]);
            }),
        ] {
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(assertion));
            crate::panicked_saying(outcome, first);
        }
    }

    #[test]
    fn a_wrong_line_is_named_with_what_differs() {
        let outcome = std::panic::catch_unwind(|| {
            run("printf", &["Sum: 14\\n"]).assert_prints(&["Sum: 30"]);
        });
        crate::panicked_saying(
            outcome,
            "unexpected stdout: line 1: expected \"Sum: 30\", got \"Sum: 14\"\n\
                 --- expected\n+++ got\n@@ -1 +1 @@\n-Sum: 30\n+Sum: 14\n$ printf",
        );
    }

    #[test]
    fn children_that_cannot_come_any_more_fail_at_once() {
        // The program ended: the wait says so with its stderr, instead of
        // waiting out the timeout.
        let mut command = Command::new("sh");
        command.args([
            "-c",
            "echo 'thread main panicked at a.rs:2:1:' >&2; echo 'not yet implemented: fork' >&2",
        ]);
        let running = Running::start(command, false);
        let started = Instant::now();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            running.wait_for_children(2, Duration::from_secs(60))
        }));
        let message = *outcome.unwrap_err().downcast::<String>().unwrap();
        assert!(started.elapsed() < Duration::from_secs(30), "{message}");
        assert!(
            message.starts_with(
                "unfinished: fork (a.rs:2): the program reached a part still to write\nsh -c"
            ),
            "{message}"
        );
        assert!(
            message.contains("ended with 0 children, not 2"),
            "{message}"
        );

        let mut command = Command::new("sh");
        command.args(["-c", "echo bye >&2"]);
        let mut running = Running::start(command, false);
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            running.wait_for_lines(1, Duration::from_secs(60), |_| true)
        }));
        let message = *outcome.unwrap_err().downcast::<String>().unwrap();
        assert!(message.ends_with("--- stderr ---\nbye\n"), "{message}");
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
    fn children_can_be_awaited() {
        let (running, children) = shell_with_children("sleep 30 & sleep 30 & wait", 2);
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

    #[test]
    fn a_program_that_ends_fails_a_wait_for_its_lines_at_once() {
        // Its child keeps standard output open: only the end tells.
        let mut command = Command::new("sh");
        command.args([
            "-c",
            "sleep 30 & echo 'not yet implemented: serve' >&2; exit 101",
        ]);
        let mut running = Running::start(command, false);
        let start = Instant::now();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            running.wait_for_lines(1, Duration::from_secs(30), |_| true)
        }));
        let said = *outcome.unwrap_err().downcast::<String>().unwrap();
        assert!(start.elapsed() < Duration::from_secs(10), "{said}");
        assert!(
            said.contains("exited with code 101 while the test waited for 1 matching lines"),
            "{said}"
        );
        assert!(said.starts_with("unfinished: serve"), "{said}");
        let _ = running.finish(Duration::from_secs(10));
    }

    #[test]
    fn a_wait_on_two_programs_names_the_one_that_ended() {
        let mut sleeping = Command::new("sleep");
        sleeping.arg("30");
        let mut killed = Command::new("sleep");
        killed.arg("30");
        let (sleeping, killed) = (
            Running::start(sleeping, false),
            Running::start(killed, false),
        );
        killed.signal(Signal::SIGKILL);
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            wait_while_all_run(
                &[&sleeping, &killed],
                Duration::from_secs(30),
                "a reply",
                |slice| {
                    std::thread::sleep(slice);
                    None::<()>
                },
            )
        }));
        let said = *outcome.unwrap_err().downcast::<String>().unwrap();
        assert!(
            said.contains("was killed by SIGKILL while the test waited for a reply"),
            "{said}"
        );
        assert!(still_running(&[sleeping.pid()]).len() == 1);
    }

    #[test]
    fn a_program_whose_test_gives_up_is_killed_with_its_group() {
        let (running, sleeper) = shell_with_a_sleeper();
        let shell = running.pid();
        drop(running);
        assert!(survivors(&[shell]).is_empty(), "reaped");
        assert!(wait_ended(&[sleeper], Duration::from_secs(10)).is_empty());
    }
}
