//! Each build and each check in namespaces of its own, with bubblewrap.
//!
//! `bwrap` (bubblewrap, the sandbox Flatpak uses, Debian's `bubblewrap`)
//! makes the namespaces and the file system a run sees; inside, the
//! grader's own [`crate::supervise`] is the first process and runs the
//! build or the check. Why bubblewrap rather than our own `unshare(2)` and
//! `mount(2)` calls is in `docs/dependencies.md`.
//!
//! What a run gets:
//!
//! | namespace | what it gives |
//! | --- | --- |
//! | PID | nothing outlives the run, whatever it forks or daemonizes; the supervisor, PID 1, cannot be signalled or traced by it |
//! | IPC, with a private `/dev/shm` and `/dev/mqueue` | no name collides with another run or the host; nothing is left on the host |
//! | network | only `lo` (a NATS experiment starts its private server on it); `/sys/class/net` shows `lo` alone |
//! | mount | the system read-only (`/usr`, `/etc`, …), the reference read-only at [`TREE`] with the student's `src/` over it, the build at [`TARGET`] (writable only while building), a private `/tmp`; every other submission, home directory and the grader's files absent |
//! | user | an unprivileged user of the run's own (61000 + slot) when the grader runs as root; otherwise the grader's user in a user namespace |
//!
//! Because every run sees the reference at the same path, the compiled
//! library of one submission is the compiled library of every other:
//! [`crate::compile`] builds it once.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::sandbox::Limits;
use crate::supervise::{Request, Supervised};
use crate::{Error, Result};

/// Where every run sees the workspace being graded.
pub const TREE: &str = "/tmp/ipc-lab-grade/ws";

/// Where every run sees the build.
pub const TARGET: &str = "/tmp/ipc-lab-grade/target";

/// A run's scratch directory, its `TMPDIR` and `HOME`, in its private
/// `/tmp`.
pub const SCRATCH: &str = "/tmp/scratch";

/// Where a build sees cargo's home: its registry, read-only, in a private
/// writable directory.
const CARGO_HOME: &str = "/tmp/cargo-home";

/// The first of the users checks run as when the grader is root (one per
/// slot, so that `RLIMIT_NPROC` counts a run's processes only).
pub const FIRST_UID: u32 = 61000;

/// How large a run's `/tmp` and `/dev/shm` may grow (they live in memory).
const TMPFS_BYTES: u64 = 512 << 20;

/// System directories a run sees read-only (those that exist; a symbolic
/// link such as Debian's `/bin -> usr/bin` stays a link).
const SYSTEM: [&str; 9] = [
    "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/opt",
];

/// The environment variable that makes the grader use a session instead
/// of namespaces (`IPC_LAB_GRADE_ISOLATION=session`): to compare, or where
/// bubblewrap misbehaves.
pub const ISOLATION_VAR: &str = "IPC_LAB_GRADE_ISOLATION";

/// How runs are isolated on this machine.
#[derive(Debug, Clone)]
pub enum Isolation {
    /// Namespaces, with bubblewrap.
    Namespaces(Namespaces),
    /// A session of its own, watched from outside ([`crate::sandbox`]):
    /// why namespaces could not be had.
    Session(String),
}

impl Isolation {
    /// Namespaces if bubblewrap works here (tried with a real run),
    /// otherwise a session, with the reason. `grader` is the `ipc-grade`
    /// program that supervises each run (this one: `current_exe`).
    /// [`ISOLATION_VAR`]`=session` asks for a session anyway.
    pub fn detect(reference: &Path, grader: &Path) -> Isolation {
        if std::env::var_os(ISOLATION_VAR).is_some_and(|v| v == "session") {
            return Isolation::Session(format!("{ISOLATION_VAR}=session"));
        }
        match Namespaces::new(reference, grader) {
            Ok(namespaces) => match namespaces.probe() {
                Ok(()) => Isolation::Namespaces(namespaces),
                Err(why) => Isolation::Session(why),
            },
            Err(why) => Isolation::Session(why),
        }
    }

    /// The word the report records for each check (`namespaces`,
    /// `session`).
    pub fn name(&self) -> &'static str {
        match self {
            Isolation::Namespaces(_) => "namespaces",
            Isolation::Session(_) => "session",
        }
    }
}

/// What runs in namespaces need: bubblewrap, the supervisor, and the
/// read-only paths beyond the system's.
#[derive(Debug, Clone)]
pub struct Namespaces {
    bwrap: PathBuf,
    grader: PathBuf,
    root: bool,
    /// Paths bound read-only where they are (the toolchain, Python).
    readable: Vec<PathBuf>,
    sysroot: PathBuf,
    registry: PathBuf,
}

/// One run: a build or a check.
#[derive(Debug, Clone)]
pub struct Job<'a> {
    /// The reference workspace (shown at [`TREE`]).
    pub reference: &'a Path,
    /// The student's sources: (where in the tree, the grader's copy).
    pub sources: &'a [(PathBuf, PathBuf)],
    /// The build directory (shown at [`TARGET`]).
    pub target: &'a Path,
    /// A build (the target writable, cargo's registry) or a check.
    pub build: bool,
    /// The unprivileged user to run as (when the grader is root).
    pub uid: u32,
    /// The run's bounds.
    pub limits: Limits,
    /// Where to run, relative to [`TREE`].
    pub cwd: PathBuf,
    /// The program (a path as the run sees it) and its arguments.
    pub command: Vec<OsString>,
    /// Environment beyond the basic one (`PATH`, `HOME`, `TMPDIR`).
    pub env: Vec<(String, OsString)>,
    /// Directories of the host to hide if the reference holds them (a
    /// class of submissions, the grades, the work directory kept inside
    /// the reference).
    pub hide: &'a [PathBuf],
}

impl Namespaces {
    fn new(reference: &Path, grader: &Path) -> std::result::Result<Namespaces, String> {
        let bwrap = which("bwrap").ok_or(
            "bubblewrap (bwrap) is not installed (apt-get install bubblewrap; scripts/test.sh installs it)",
        )?;
        let grader = grader
            .canonicalize()
            .map_err(|e| format!("the grader's own program {}: {e}", grader.display()))?;
        let sysroot = rustc_sysroot()?;
        let registry = cargo_home().join("registry");
        let mut readable = vec![sysroot.clone()];
        // The project's Python (its .venv, and the interpreter it was made
        // from, which may live in a home directory).
        let venv = reference.join(".venv");
        if let Ok(real) = venv.canonicalize() {
            if !real.starts_with(reference) {
                readable.push(real.clone());
            }
            if let Some(home) = python_home(&real) {
                readable.push(home);
            }
        }
        Ok(Namespaces {
            bwrap,
            grader,
            root: nix::unistd::geteuid().is_root(),
            readable,
            sysroot,
            registry,
        })
    }

    /// Runs `true` as a check would be run: the proof that namespaces work
    /// here.
    fn probe(&self) -> std::result::Result<(), String> {
        let dir = std::env::temp_dir();
        let job = Job {
            reference: &dir,
            sources: &[],
            target: &dir,
            build: false,
            uid: FIRST_UID,
            limits: Limits {
                timeout: Duration::from_secs(20),
                ..Limits::default()
            },
            cwd: PathBuf::new(),
            command: vec!["/bin/true".into()],
            env: Vec::new(),
            hide: &[],
        };
        match self.run(&job) {
            Ok(report) if report.error.is_none() && report.code == Some(0) => Ok(()),
            Ok(report) => Err(format!(
                "bubblewrap ran, but a run in namespaces failed: {}",
                report
                    .error
                    .clone()
                    .unwrap_or_else(|| format!("{report:?}").chars().take(300).collect())
            )),
            Err(error) => Err(format!("bubblewrap cannot make namespaces here: {error}")),
        }
    }

    /// The toolchain's `rustc` and `cargo`, as a build sees them.
    pub fn sysroot(&self) -> &Path {
        &self.sysroot
    }

    /// Where a build sees cargo's home.
    pub fn cargo_home(&self) -> &'static str {
        CARGO_HOME
    }

    /// True when runs become an unprivileged user of their own.
    pub fn changes_user(&self) -> bool {
        self.root
    }

    /// Runs `job` and waits for the supervisor's report.
    ///
    /// # Errors
    /// [`Error::Interrupted`] when the grader got SIGINT or SIGTERM (the
    /// run is killed); bubblewrap cannot be started, or it failed before
    /// the supervisor reported (its message).
    pub fn run(&self, job: &Job<'_>) -> Result<Supervised> {
        let mut command = self.command(job);
        let mut child = command
            .spawn()
            .map_err(|e| Error::io(format!("starting {}", self.bwrap.display()), e))?;
        let stdout = spawn_read(child.stdout.take());
        let stderr = spawn_read(child.stderr.take());
        // The supervisor ends the run on its time limit; this bound only
        // catches a supervisor that could not.
        let outer = job.limits.timeout + job.limits.grace + Duration::from_secs(30);
        let deadline = ipc_core::blocking::Deadline::after(outer);
        let status = loop {
            if let Some(status) = child
                .try_wait()
                .map_err(|e| Error::io("waiting for bwrap".into(), e))?
            {
                break Some(status);
            }
            if ipc_core::signal::interrupted() || deadline.has_passed() {
                // --die-with-parent does not apply: bwrap is alive. Its
                // PID 1 dies with it, and the namespace with PID 1.
                let _ = child.kill();
                let _ = child.wait();
                if ipc_core::signal::interrupted() {
                    return Err(Error::Interrupted);
                }
                break None;
            }
            std::thread::sleep(ipc_core::blocking::WATCH_INTERVAL);
        };
        let stdout = stdout.join().unwrap_or_default();
        let stderr = stderr.join().unwrap_or_default();
        let last = String::from_utf8_lossy(&stdout);
        match last.lines().last().map(serde_json::from_str::<Supervised>) {
            Some(Ok(report)) => Ok(report),
            _ => Err(Error::Failed(format!(
                "the run in namespaces ended ({}) without its report: {}",
                status.map_or("killed after its time limit".into(), |s| s.to_string()),
                String::from_utf8_lossy(&stderr).trim()
            ))),
        }
    }

    /// The `bwrap` command line of `job`.
    fn command(&self, job: &Job<'_>) -> Command {
        let mut args = Args::default();
        args.flags(&[
            "--unshare-pid",
            "--unshare-ipc",
            "--unshare-net",
            "--unshare-uts",
            "--unshare-cgroup-try",
            "--die-with-parent",
            "--new-session",
            "--as-pid-1",
        ]);
        args.pair("--hostname", "ipc-lab-check");
        if self.root {
            // The supervisor mounts /sys and becomes the run's user; it
            // needs these three, and then has none.
            args.flags(&["--cap-drop", "ALL"]);
            for cap in ["CAP_SYS_ADMIN", "CAP_SETUID", "CAP_SETGID"] {
                args.pair("--cap-add", cap);
            }
        } else {
            args.flags(&["--unshare-user", "--disable-userns"]);
        }
        for dir in SYSTEM {
            let path = Path::new(dir);
            match path.read_link() {
                Ok(to) => args.triple("--symlink", to.as_os_str(), path.as_os_str()),
                Err(_) if path.is_dir() => args.bind_ro(path, path),
                Err(_) => {}
            }
        }
        args.flags(&["--dev", "/dev", "--proc", "/proc"]);
        args.tmpfs(Path::new("/dev/shm"), 0o1777);
        args.flags(&["--mqueue", "/dev/mqueue"]);
        args.tmpfs(Path::new("/tmp"), 0o1777);
        if self.root {
            args.dir(Path::new("/sys"), 0o555);
        }
        for path in &self.readable {
            args.bind_ro(path, path);
        }
        args.bind_ro(&self.grader, &self.grader);
        // The reference, with its build outputs hidden and the student's
        // sources over its own.
        let tree = Path::new(TREE);
        args.bind_ro(job.reference, tree);
        let mut hidden: Vec<PathBuf> = ["target", ".grade", ".git"]
            .iter()
            .map(|h| job.reference.join(h))
            .collect();
        hidden.extend(job.hide.iter().cloned());
        for dir in hidden {
            let inside = dir
                .canonicalize()
                .ok()
                .and_then(|d| d.strip_prefix(job.reference).ok().map(Path::to_owned));
            if let Some(rel) = inside.filter(|r| !r.as_os_str().is_empty())
                && job.reference.join(&rel).is_dir()
            {
                args.tmpfs(&tree.join(rel), 0o755);
            }
        }
        for (rel, copy) in job.sources {
            args.bind_ro(copy, &tree.join(rel));
        }
        if job.build {
            args.bind_rw(job.target, Path::new(TARGET));
            args.dir(Path::new(CARGO_HOME), 0o1777);
            if self.registry.is_dir() {
                args.bind_ro(&self.registry, &Path::new(CARGO_HOME).join("registry"));
            }
        } else {
            args.bind_ro(job.target, Path::new(TARGET));
        }
        args.pair("--chdir", "/");
        let request = Request {
            uid: self.root.then_some(job.uid),
            sysfs: self.root,
            timeout: job.limits.timeout,
            grace: job.limits.grace,
            max_processes: job.limits.max_processes,
            scratch: SCRATCH.into(),
            cwd: tree.join(&job.cwd),
            command: job.command.clone(),
        };
        let mut command = Command::new(&self.bwrap);
        command
            .args(args.0)
            .arg(&self.grader)
            .args(request.to_args())
            .env_clear()
            // The toolchain last: a check may ask cargo where things are.
            .env("PATH", {
                let mut path = OsString::from("/usr/local/bin:/usr/bin:/bin:");
                path.push(self.sysroot.join("bin"));
                path
            })
            .env("CARGO_NET_OFFLINE", "true")
            .env("HOME", SCRATCH)
            .env("TMPDIR", SCRATCH)
            .env("LANG", "C.UTF-8")
            .envs(job.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }
}

/// bubblewrap's arguments, built in order (a mount over another comes
/// after it).
#[derive(Debug, Default)]
struct Args(Vec<OsString>);

impl Args {
    fn flags(&mut self, flags: &[&str]) {
        self.0.extend(flags.iter().map(OsString::from));
    }

    fn pair(&mut self, flag: &str, value: impl Into<OsString>) {
        self.0.push(flag.into());
        self.0.push(value.into());
    }

    fn triple(&mut self, flag: &str, a: &std::ffi::OsStr, b: &std::ffi::OsStr) {
        self.0.extend([flag.into(), a.to_owned(), b.to_owned()]);
    }

    /// Creates the missing parents of `dest` traversable by anyone (bwrap
    /// would make them 0700, closing them to the run's user).
    fn parents(&mut self, dest: &Path) {
        let parents: Vec<&Path> = dest.ancestors().skip(1).collect();
        for parent in parents.into_iter().rev() {
            if parent != Path::new("/") {
                self.pair("--perms", "0755");
                self.pair("--dir", parent.as_os_str());
            }
        }
    }

    fn bind_ro(&mut self, from: &Path, dest: &Path) {
        self.parents(dest);
        self.triple("--ro-bind", from.as_os_str(), dest.as_os_str());
    }

    fn bind_rw(&mut self, from: &Path, dest: &Path) {
        self.parents(dest);
        self.triple("--bind", from.as_os_str(), dest.as_os_str());
    }

    fn tmpfs(&mut self, dest: &Path, mode: u32) {
        self.parents(dest);
        self.pair("--perms", format!("{mode:04o}"));
        self.pair("--size", TMPFS_BYTES.to_string());
        self.pair("--tmpfs", dest.as_os_str());
    }

    fn dir(&mut self, dest: &Path, mode: u32) {
        self.parents(dest);
        self.pair("--perms", format!("{mode:04o}"));
        self.pair("--dir", dest.as_os_str());
    }
}

/// Reads a stream to its end in a thread.
fn spawn_read<R: std::io::Read + Send + 'static>(
    stream: Option<R>,
) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut stream) = stream {
            let _ = stream.read_to_end(&mut bytes);
        }
        bytes
    })
}

/// `program` on `PATH`.
pub fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}

/// The sysroot of the `rustc` cargo would use (`rustc --print sysroot`),
/// resolved.
fn rustc_sysroot() -> std::result::Result<PathBuf, String> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let output = Command::new(&rustc)
        .args(["--print", "sysroot"])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("running rustc --print sysroot: {e}"))?;
    let text = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    PathBuf::from(&text)
        .canonicalize()
        .map_err(|e| format!("rustc's sysroot {text:?}: {e}"))
}

/// Cargo's home: `CARGO_HOME`, or `~/.cargo`.
fn cargo_home() -> PathBuf {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .unwrap_or_else(|| PathBuf::from("/nonexistent"))
}

/// The installation a virtual environment's Python comes from: the
/// parent of `home` in its `pyvenv.cfg` (`/usr/bin` → `/usr`, already
/// bound), resolved.
fn python_home(venv: &Path) -> Option<PathBuf> {
    let config = std::fs::read_to_string(venv.join("pyvenv.cfg")).ok()?;
    let home = config.lines().find_map(|l| {
        let (key, value) = l.split_once('=')?;
        (key.trim() == "home").then(|| PathBuf::from(value.trim()))
    })?;
    let base = home.canonicalize().ok()?.parent()?.to_owned();
    (!base.starts_with("/usr")).then_some(base)
}
