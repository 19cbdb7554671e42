//! Running code nobody vouches for: one command at a time, bounded in time
//! and in processes, and nothing of it left afterwards.
//!
//! Each run (one check: one test of a student's crate) gets:
//!
//! * **a session of its own** (`setsid(1)`), so that the grader's Ctrl-C or
//!   a closed terminal reaches only the grader, which then ends the run;
//! * **a bound in time**: past [`Limits::timeout`] every process of the run
//!   is killed and the run is a failure ("did not end within …");
//! * **a bound in processes**: more than [`Limits::max_processes`] at once
//!   is taken for a fork bomb, and every process of the run is killed. The
//!   grader watches the count every few milliseconds; for a user other than
//!   root the kernel also enforces `RLIMIT_NPROC` (`prlimit(1)`), set just
//!   above what the user runs already;
//! * **nothing left running**: the grader is a *child subreaper*
//!   (`PR_SET_CHILD_SUBREAPER`), so every process the run starts stays below
//!   it, even one that leaves its session or its parent. Those still there
//!   [`Limits::grace`] after the run's first process ended (a run's
//!   tracker and a private `nats-server` end by themselves in that time)
//!   fail the run and are killed. A process that also carries the run's
//!   token in its environment (`IPC_LAB_GRADE_TOKEN`) counts as well;
//! * **nothing left behind**: the run writes every named IPC object it
//!   creates to an audit file of its own (`IPC_LAB_AUDIT`);
//!   `scripts/leftovers.sh --audit` says which are still there, they fail
//!   the run and `scripts/clean.sh` removes them;
//! * **a temporary directory of its own** (`TMPDIR`), inside the grader's
//!   work directory and removed afterwards, so that nothing is written
//!   outside it.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use ipc_core::blocking::{self, Deadline};
use nix::sys::signal::{Signal, kill, killpg};
use nix::sys::wait::{WaitPidFlag, waitpid};
use nix::unistd::Pid;

use crate::{Error, Result};

/// The environment variable that marks every process of a run.
pub const TOKEN_VAR: &str = "IPC_LAB_GRADE_TOKEN";

/// How much of each output stream is kept (the rest is read and dropped).
pub const OUTPUT_CAP: usize = 1 << 20;

/// The bounds of every run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// How long a run may take.
    pub timeout: Duration,
    /// How many processes a run may have at once.
    pub max_processes: usize,
    /// How long the processes a run started may outlive its first one.
    pub grace: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            timeout: Duration::from_secs(120),
            max_processes: 256,
            grace: Duration::from_secs(5),
        }
    }
}

/// Something a run did that fails it, whatever its exit status.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Trouble {
    /// Still running after the timeout; killed.
    TimedOut(Duration),
    /// More processes than allowed at once; all killed.
    ForkBomb(usize),
    /// Processes still running after the grace period, as `pid (command)`;
    /// killed.
    LeftRunning(Vec<String>),
    /// Named IPC objects left behind (`kind path`), and whether they could
    /// all be removed.
    LeftBehind(Vec<String>, bool),
    /// Files written outside the run's scratch directory (they went with
    /// its namespace).
    WroteOutside(Vec<String>),
}

impl std::fmt::Display for Trouble {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Trouble::TimedOut(after) => write!(
                f,
                "did not end within {} s (waiting for something that never comes?); killed",
                after.as_secs()
            ),
            Trouble::ForkBomb(limit) => write!(
                f,
                "more than {limit} processes at once (a fork bomb?); all killed"
            ),
            Trouble::LeftRunning(left) => {
                write!(
                    f,
                    "left running after it ended: {}; killed",
                    left.join(", ")
                )
            }
            Trouble::WroteOutside(paths) => write!(
                f,
                "wrote outside its scratch directory: {} (a check may write only in $TMPDIR)",
                paths.join(", ")
            ),
            Trouble::LeftBehind(objects, removed) => write!(
                f,
                "left behind: {}{}",
                objects.join(", "),
                if *removed {
                    " (removed)"
                } else {
                    " (could not all be removed)"
                }
            ),
        }
    }
}

/// How a run went.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Its first process's exit status (`None` if it was killed by the
    /// grader before it ended).
    pub status: Option<ExitStatus>,
    /// Its standard output (at most [`OUTPUT_CAP`] bytes).
    pub stdout: String,
    /// Its standard error (at most [`OUTPUT_CAP`] bytes).
    pub stderr: String,
    /// What fails it whatever the status.
    pub troubles: Vec<Trouble>,
    /// Wall-clock time, in seconds.
    pub seconds: f64,
}

impl Outcome {
    /// True if the run ended by itself with exit code 0 and without
    /// trouble.
    pub fn clean_success(&self) -> bool {
        self.troubles.is_empty() && self.status.is_some_and(|s| s.success())
    }
}

/// Where runs happen, and their bounds.
#[derive(Debug)]
pub struct Sandbox {
    scratch: PathBuf,
    scripts: PathBuf,
    clean: Option<PathBuf>,
    limits: Limits,
    runs: usize,
    me: Pid,
    setsid: bool,
    prlimit: bool,
    root: bool,
}

impl Sandbox {
    /// A sandbox whose runs keep their temporary files and audit files in
    /// `scratch` (created if needed), check leftovers with the scripts in
    /// `scripts` (`leftovers.sh`, `clean.sh`, which runs `clean` if given:
    /// `IPC_LAB_CLEAN`), within `limits`. Makes this process a child
    /// subreaper.
    ///
    /// # Errors
    /// `scratch` cannot be created; `prctl` fails.
    pub fn new(
        scratch: &Path,
        scripts: &Path,
        clean: Option<PathBuf>,
        limits: Limits,
    ) -> Result<Sandbox> {
        fs::create_dir_all(scratch)
            .map_err(|e| Error::io(format!("creating {}", scratch.display()), e))?;
        nix::sys::prctl::set_child_subreaper(true)
            .map_err(|e| Error::Failed(format!("prctl PR_SET_CHILD_SUBREAPER: {e}")))?;
        Ok(Sandbox {
            scratch: scratch.to_owned(),
            scripts: scripts.to_owned(),
            clean,
            limits,
            runs: 0,
            me: nix::unistd::getpid(),
            setsid: on_path("setsid"),
            prlimit: on_path("prlimit"),
            root: nix::unistd::geteuid().is_root(),
        })
    }

    /// How its runs are isolated, for the report: `session` (a session of
    /// their own, watched from outside).
    pub fn isolation(&self) -> &'static str {
        "session"
    }

    /// The bounds of the runs.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// A line on how fork bombs are bounded here, for the report.
    pub fn process_bound(&self) -> String {
        let watch = format!(
            "at most {} processes per check (watched every {} ms)",
            self.limits.max_processes,
            blocking::WATCH_INTERVAL.as_millis()
        );
        if self.root {
            format!("{watch}; RLIMIT_NPROC does not bind root")
        } else if self.prlimit {
            format!("{watch}, and RLIMIT_NPROC")
        } else {
            format!("{watch}; prlimit(1) not found, so no RLIMIT_NPROC")
        }
    }

    /// Runs `command` (its program, arguments, environment and directory;
    /// its standard streams are set here) and reports how it went, after
    /// every process it started has gone and its leftovers are removed.
    ///
    /// # Errors
    /// [`Error::Interrupted`] when the grader got SIGINT or SIGTERM (the run
    /// is killed first); the command cannot be started.
    pub fn run(&mut self, command: &Command) -> Result<Outcome> {
        self.runs += 1;
        let n = self.runs;
        let tmp = self.scratch.join(format!("tmp-{n}"));
        let audit = self.scratch.join(format!("audit-{n}.log"));
        let _ = fs::remove_dir_all(&tmp);
        let _ = fs::remove_file(&audit);
        fs::create_dir_all(&tmp)
            .map_err(|e| Error::io(format!("creating {}", tmp.display()), e))?;
        let token = format!("{}-{n}-{}", self.me, nanos());

        let mut wrapped = self.wrap(command)?;
        wrapped
            .env("TMPDIR", &tmp)
            .env("IPC_LAB_AUDIT", &audit)
            .env(TOKEN_VAR, &token)
            .env_remove("RUST_BACKTRACE")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        self.pass_clean(&mut wrapped);
        let started = Instant::now();
        let mut child = wrapped
            .spawn()
            .map_err(|e| Error::io(format!("starting {:?}", command.get_program()), e))?;
        let stdout = reader(child.stdout.take());
        let stderr = reader(child.stderr.take());
        let mut troubles = Vec::new();
        let watched = self.watch(&mut child, &token, Deadline::after(self.limits.timeout));

        let status = match watched {
            Watch::Ended(status) => {
                // Its first process has ended: the others get the grace
                // period, then are killed.
                let left = self.wait_others(&child, &token);
                if !left.is_empty() {
                    troubles.push(Trouble::LeftRunning(left));
                    self.kill_all(&mut child, &token);
                }
                Some(status)
            }
            Watch::Stopped(trouble) => {
                troubles.push(trouble);
                self.kill_all(&mut child, &token);
                None
            }
            Watch::Interrupted => {
                self.kill_all(&mut child, &token);
                self.leftovers(&audit);
                let _ = fs::remove_dir_all(&tmp);
                return Err(Error::Interrupted);
            }
        };
        let stdout = finish_reader(stdout);
        let stderr = finish_reader(stderr);
        if let Some(trouble) = self.leftovers(&audit) {
            troubles.push(trouble);
        }
        let _ = fs::remove_dir_all(&tmp);
        let _ = fs::remove_file(&audit);
        Ok(Outcome {
            status,
            stdout,
            stderr,
            troubles,
            seconds: started.elapsed().as_secs_f64(),
        })
    }

    /// `command` in a session of its own, under `RLIMIT_NPROC`.
    fn wrap(&self, command: &Command) -> Result<Command> {
        let mut program: Vec<std::ffi::OsString> = Vec::new();
        if self.setsid {
            program.push("setsid".into());
        }
        if self.prlimit && !self.root {
            let limit = tasks_of_user()? + 4 * self.limits.max_processes as u64 + 64;
            program.push("prlimit".into());
            program.push(format!("--nproc={limit}:{limit}").into());
            program.push("--".into());
        }
        program.push(command.get_program().to_owned());
        let mut wrapped = Command::new(&program[0]);
        wrapped.args(&program[1..]).args(command.get_args());
        for (key, value) in command.get_envs() {
            match value {
                Some(value) => wrapped.env(key, value),
                None => wrapped.env_remove(key),
            };
        }
        if let Some(dir) = command.get_current_dir() {
            wrapped.current_dir(dir);
        }
        if !self.setsid {
            use std::os::unix::process::CommandExt;
            wrapped.process_group(0);
        }
        Ok(wrapped)
    }

    /// Waits for the run's first process to end, within the bounds.
    ///
    /// The processes of the run are counted in `/proc` at every look; but
    /// reading `/proc` takes a second once a fork bomb has made thousands
    /// of processes, and the bomb goes on meanwhile. So every look starts
    /// with the machine's count of tasks (one small read of
    /// `/proc/loadavg`): when it has grown by more than the limit, the run's
    /// process group is stopped (`SIGSTOP`: a stopped process forks no
    /// more) while its processes are counted, and goes on (`SIGCONT`) if
    /// they were not too many (the growth was somebody else's).
    fn watch(&self, child: &mut Child, token: &str, deadline: Deadline) -> Watch {
        let root = Pid::from_raw(child.id() as i32);
        let bomb = Watch::Stopped(Trouble::ForkBomb(self.limits.max_processes));
        let mut others = machine_tasks();
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return Watch::Ended(status);
            }
            if ipc_core::signal::interrupted() {
                return Watch::Interrupted;
            }
            if deadline.has_passed() {
                return Watch::Stopped(Trouble::TimedOut(self.limits.timeout));
            }
            let suspect = machine_tasks()
                .zip(others)
                .is_some_and(|(now, before)| now > before + self.limits.max_processes);
            if suspect {
                let _ = killpg(root, Signal::SIGSTOP);
            }
            let table = Table::read();
            self.reap(&table, root);
            let live = table.members(self.me, token, false).len();
            if live > self.limits.max_processes {
                return bomb;
            }
            if suspect {
                let _ = killpg(root, Signal::SIGCONT);
                // Not the run's doing: count from here.
                others = machine_tasks().map(|now| now.saturating_sub(live));
            }
            std::thread::sleep(blocking::WATCH_INTERVAL);
        }
    }

    /// Waits up to the grace period for every other process of the run to
    /// end; returns those still running, as `pid (command)`.
    fn wait_others(&self, child: &Child, token: &str) -> Vec<String> {
        let root = Pid::from_raw(child.id() as i32);
        let deadline = Deadline::after(self.limits.grace);
        let mut round = 0;
        loop {
            let table = Table::read();
            self.reap(&table, root);
            // Looking through every environment is slower: every tenth time.
            let live = table.members(self.me, token, round % 10 == 0);
            if live.is_empty() && round % 10 == 0 {
                return Vec::new();
            }
            if deadline.has_passed() && !live.is_empty() {
                return live.iter().map(|p| table.describe(*p)).collect();
            }
            round += 1;
            std::thread::sleep(blocking::JOIN_INTERVAL);
        }
    }

    /// Kills every process of the run until none is left, and reaps them.
    ///
    /// The run's process group is killed again every round: one
    /// `killpg(2)` reaches every process of a fork bomb that is still in
    /// the group, however many there are, and the kernel lets none of them
    /// finish a fork once the signal is pending; killing them one by one
    /// from a list read in `/proc` loses the race to a bomb on a busy
    /// machine (30 s under load, once). The list catches those that left
    /// the group.
    fn kill_all(&self, child: &mut Child, token: &str) {
        let root = Pid::from_raw(child.id() as i32);
        let _ = child.kill();
        for round in 0..2000 {
            let _ = killpg(root, Signal::SIGKILL);
            let table = Table::read();
            let live = table.members(self.me, token, round % 5 == 0);
            self.reap(&table, root);
            if live.is_empty() && round % 5 == 0 {
                break;
            }
            for pid in live {
                let _ = kill(pid, Signal::SIGKILL);
            }
            std::thread::sleep(blocking::KILL_INTERVAL);
        }
        let _ = child.wait();
    }

    /// Reaps the zombies that are children of this process (orphans of the
    /// run, handed to this subreaper), but not `root`, whose status
    /// `std::process::Child` collects.
    fn reap(&self, table: &Table, root: Pid) {
        for (&pid, process) in &table.processes {
            if process.parent == self.me && process.zombie && pid != root {
                let _ = waitpid(pid, Some(WaitPidFlag::WNOHANG));
            }
        }
    }

    /// The named objects the run left behind (from its audit file), removed.
    fn leftovers(&self, audit: &Path) -> Option<Trouble> {
        if fs::metadata(audit).map_or(true, |m| m.len() == 0) {
            return None;
        }
        let found = self.left_behind(audit);
        if found.is_empty() {
            return None;
        }
        for (_, path) in &found {
            let name = Path::new(path)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let mut clean = Command::new("bash");
            clean
                .arg(self.scripts.join("clean.sh"))
                .arg(name)
                .env_remove("IPC_LAB_AUDIT")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            self.pass_clean(&mut clean);
            let _ = clean.status();
        }
        let removed = self.left_behind(audit).is_empty();
        Some(Trouble::LeftBehind(
            found
                .into_iter()
                .map(|(kind, path)| format!("{kind} {path}"))
                .collect(),
            removed,
        ))
    }

    /// The objects `scripts/leftovers.sh --audit` finds, as (kind, path).
    /// Tells `command` where the clean-up helper is (`IPC_LAB_CLEAN`),
    /// when there is one: a check and the clean-up after it use the same.
    fn pass_clean(&self, command: &mut Command) {
        if let Some(clean) = &self.clean {
            command.env("IPC_LAB_CLEAN", clean);
        }
    }

    fn left_behind(&self, audit: &Path) -> Vec<(String, String)> {
        let output = Command::new("bash")
            .arg(self.scripts.join("leftovers.sh"))
            .args(["--quiet", "--audit"])
            .arg(audit)
            .env_remove("IPC_LAB_AUDIT")
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output();
        let Ok(output) = output else {
            return Vec::new();
        };
        // `left behind: shm /dev/shm/ipc-lab-x (created by pid 12 of this run)`
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter_map(|line| line.strip_prefix("left behind: "))
            .filter_map(|rest| {
                let (kind, rest) = rest.split_once(' ')?;
                let path = rest.split(" (created by").next()?;
                Some((kind.to_owned(), path.to_owned()))
            })
            .collect()
    }
}

/// How the wait for a run's first process ended.
enum Watch {
    Ended(ExitStatus),
    Stopped(Trouble),
    Interrupted,
}

/// One process, as `/proc/PID/stat` shows it.
#[derive(Debug, Clone)]
struct Process {
    parent: Pid,
    zombie: bool,
    command: String,
}

/// Every process of the machine, at one moment.
#[derive(Debug, Default)]
struct Table {
    processes: BTreeMap<Pid, Process>,
}

impl Table {
    fn read() -> Table {
        let mut table = Table::default();
        let Ok(entries) = fs::read_dir("/proc") else {
            return table;
        };
        for entry in entries.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<i32>().ok())
            else {
                continue;
            };
            let Ok(stat) = fs::read_to_string(entry.path().join("stat")) else {
                continue;
            };
            // pid (comm) state ppid …: comm may hold spaces and parentheses.
            let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
                continue;
            };
            let command = stat[open + 1..close].to_owned();
            let mut fields = stat[close + 1..].split_whitespace();
            let state = fields.next().unwrap_or("?");
            let parent = fields.next().and_then(|p| p.parse().ok()).unwrap_or(0);
            table.processes.insert(
                Pid::from_raw(pid),
                Process {
                    parent: Pid::from_raw(parent),
                    zombie: state == "Z" || state == "X",
                    command,
                },
            );
        }
        table
    }

    /// The live (not zombie) processes of a run: every descendant of `me`,
    /// and (with `environ`) every process whose environment holds the
    /// run's token.
    fn members(&self, me: Pid, token: &str, environ: bool) -> Vec<Pid> {
        let mut children: BTreeMap<Pid, Vec<Pid>> = BTreeMap::new();
        for (&pid, process) in &self.processes {
            children.entry(process.parent).or_default().push(pid);
        }
        let mut found = BTreeSet::new();
        let mut stack = vec![me];
        while let Some(pid) = stack.pop() {
            for &child in children.get(&pid).into_iter().flatten() {
                if found.insert(child) {
                    stack.push(child);
                }
            }
        }
        if environ {
            let needle = format!("{TOKEN_VAR}={token}");
            for &pid in self.processes.keys() {
                if pid != me
                    && !found.contains(&pid)
                    && fs::read(format!("/proc/{pid}/environ"))
                        .is_ok_and(|env| env.split(|&b| b == 0).any(|v| v == needle.as_bytes()))
                {
                    found.insert(pid);
                }
            }
        }
        found
            .into_iter()
            .filter(|pid| self.processes.get(pid).is_some_and(|p| !p.zombie))
            .collect()
    }

    fn describe(&self, pid: Pid) -> String {
        let command = self.processes.get(&pid).map_or("?", |p| p.command.as_str());
        format!("{pid} ({command})")
    }
}

/// The tasks (threads included) of the whole machine: the number after
/// the slash in `/proc/loadavg` (`proc(5)`); `None` if it cannot be read.
fn machine_tasks() -> Option<usize> {
    let text = fs::read_to_string("/proc/loadavg").ok()?;
    let field = text.split_whitespace().nth(3)?;
    field.split_once('/')?.1.parse().ok()
}

/// The tasks (threads included) of the calling user: what `RLIMIT_NPROC`
/// counts.
fn tasks_of_user() -> Result<u64> {
    use std::os::unix::fs::MetadataExt;
    let uid = nix::unistd::getuid().as_raw();
    let entries = fs::read_dir("/proc").map_err(|e| Error::io("reading /proc".into(), e))?;
    let mut tasks = 0;
    for entry in entries.flatten() {
        if entry
            .file_name()
            .to_str()
            .is_none_or(|n| n.parse::<u32>().is_err())
        {
            continue;
        }
        if entry.metadata().is_ok_and(|m| m.uid() == uid) {
            tasks += fs::read_dir(entry.path().join("task")).map_or(1, |t| t.count() as u64);
        }
    }
    Ok(tasks)
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}

fn nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

/// Reads a stream to its end in a thread, keeping its first
/// [`OUTPUT_CAP`] bytes.
pub(crate) fn reader<R: Read + Send + 'static>(stream: Option<R>) -> Option<JoinHandle<Vec<u8>>> {
    let mut stream = stream?;
    Some(std::thread::spawn(move || {
        let mut kept = Vec::new();
        let mut buf = [0; 8192];
        loop {
            match stream.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    let room = OUTPUT_CAP.saturating_sub(kept.len());
                    kept.extend_from_slice(&buf[..n.min(room)]);
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            }
        }
        kept
    }))
}

/// The text a [`reader`] collected; it ends once every process of the run
/// has gone, which [`Sandbox::run`] has made sure of.
fn finish_reader(handle: Option<JoinHandle<Vec<u8>>>) -> String {
    let Some(handle) = handle else {
        return String::new();
    };
    let finished = blocking::poll_until(
        Deadline::after(Duration::from_secs(10)),
        blocking::STEP_INTERVAL,
        || handle.is_finished().then_some(()),
    );
    if finished.is_none() {
        return "<the output stayed open>".into();
    }
    handle
        .join()
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_default()
}
