//! A private `nats-server`: found ([`crate::locate`]), started on a free
//! loopback port with JetStream, waited for, stopped and cleaned up.
//!
//! ```no_run
//! let server = ipc_net::NatsServer::start()?;
//! println!("a NATS server listens on {}", server.urls());
//! // … connect with ipc_net::Connection::connect(server.urls()) …
//! server.stop()?; // or let it drop: the same, quietly
//! # Ok::<(), ipc_net::Error>(())
//! ```
//!
//! The server's JetStream store and log live in a temporary directory
//! `ipc-lab-nats-PID-TOKEN-N` (mode 0700) that is removed when the server stops,
//! and by ipc-core's crash clean-up (`ipc_core::owner`) after a SIGKILL.
//! The server runs in a process group of its own (a Ctrl-C meant for the
//! program does not reach it: the program stops it in order) and gets
//! SIGKILL if the thread that started it dies (`PR_SET_PDEATHSIG`), so not
//! even a SIGKILLed program leaves a `nats-server` running.

use std::fs;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use ipc_core::blocking::{self, Deadline};
use ipc_core::owner::PrivateDir;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::error::{Error, Result};
use crate::locate::find_nats_server;
use crate::names::ServerUrls;

/// The prefix of the temporary directories of private servers.
pub const DIR_PREFIX: &str = "ipc-lab-nats-";

/// The tag of the private directories (`ipc-lab-nats-PID-TOKEN-N`).
const DIR_TAG: &str = "nats";

/// How long a private server may take to get ready.
pub const START_TIMEOUT: Duration = Duration::from_secs(15);

/// How long a private server may take to stop after SIGTERM before it gets
/// SIGKILL.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(5);

/// A `nats-server` this process started, listening on `127.0.0.1` only,
/// with JetStream; stopped (and its directory removed) by [`stop`] or when
/// dropped.
///
/// [`stop`]: NatsServer::stop
#[derive(Debug)]
pub struct NatsServer {
    child: Option<Child>,
    /// The store, log and ports file; removed with the server, and after a
    /// crash by ipc-core's clean-up of the run's objects.
    dir: PrivateDir,
    urls: ServerUrls,
}

impl NatsServer {
    /// Finds `nats-server` ([`find_nats_server`]) and starts it on a free
    /// loopback port with JetStream, its store in a new temporary
    /// directory; returns once it accepts clients.
    ///
    /// # Errors
    /// As [`find_nats_server`]; [`Error::Launch`] with the end of the
    /// server's log when it exits or is not ready within
    /// [`START_TIMEOUT`]; `Interrupted` on a signal (the server is
    /// stopped).
    pub fn start() -> Result<NatsServer> {
        let binary = find_nats_server()?;
        let dir = PrivateDir::create(DIR_TAG)?;
        let store = dir.path().join("store");
        let log = dir.path().join("nats-server.log");
        let mut command = Command::new(&binary);
        command
            .args(["--addr", "127.0.0.1", "--port", "-1", "--jetstream"])
            .arg("--store_dir")
            .arg(&store)
            .arg("--ports_file_dir")
            .arg(dir.path())
            .arg("--log")
            .arg(&log)
            .arg("--server_name")
            .arg(format!("ipc-lab-private-{}", std::process::id()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Ctrl-C at the terminal is for the program, which then stops
            // the server in order.
            .process_group(0);
        ipc_core::command::die_with_parent(&mut command, Signal::SIGKILL);
        let child = match command.spawn() {
            Ok(child) => child,
            // Dropping `dir` removes it.
            Err(e) => return Err(Error::io(format!("starting {}", binary.display()), e)),
        };
        let mut server = NatsServer {
            child: Some(child),
            dir,
            urls: ServerUrls::loopback(1),
        };
        // On an error `server` is dropped: stopped, directory removed.
        let port = server.wait_ready(&log)?;
        server.urls = ServerUrls::loopback(port);
        Ok(server)
    }

    /// Waits for the ports file the server writes once it listens.
    fn wait_ready(&mut self, log: &Path) -> Result<u16> {
        let dir = self.dir.path().to_owned();
        let child = self.child.as_mut().expect("running");
        let ready = blocking::poll(
            Deadline::after(START_TIMEOUT),
            blocking::STEP_INTERVAL,
            || {
                if let Some(port) = read_ports_file(&dir) {
                    return Ok(Some(port));
                }
                match child.try_wait() {
                    Ok(Some(status)) => Err(Error::Launch(format!(
                        "nats-server exited ({status}) before it was ready; its log ends with:\n{}",
                        log_tail(log)
                    ))),
                    _ => Ok(None),
                }
            },
        );
        match ready {
            Err(Error::Core(ipc_core::Error::Timeout)) => Err(Error::Launch(format!(
                "nats-server was not ready within {} s; its log ends with:\n{}",
                START_TIMEOUT.as_secs(),
                log_tail(log)
            ))),
            other => other,
        }
    }

    /// The server's URL, `nats://127.0.0.1:PORT`.
    pub fn urls(&self) -> &ServerUrls {
        &self.urls
    }

    /// The server's process id.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// The temporary directory holding the server's store and log.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Stops the server (SIGTERM, then SIGKILL after [`STOP_TIMEOUT`]),
    /// reaps it and removes its directory.
    ///
    /// # Errors
    /// [`Error::Io`] when the directory cannot be removed.
    pub fn stop(mut self) -> Result<()> {
        self.stop_quietly()
    }

    fn stop_quietly(&mut self) -> Result<()> {
        if let Some(mut child) = self.child.take() {
            let pid = Pid::from_raw(child.id() as i32);
            if let Ok(None) = child.try_wait() {
                let _ = kill(pid, Signal::SIGTERM);
                let ended = blocking::poll_until(
                    Deadline::after(STOP_TIMEOUT),
                    blocking::STEP_INTERVAL,
                    || (!matches!(child.try_wait(), Ok(None))).then_some(()),
                );
                if ended.is_none() {
                    let _ = child.kill();
                }
            }
            let _ = child.wait();
        }
        match self.dir.remove() {
            Err(e) if !e.is_not_found() => Err(e.into()),
            _ => Ok(()),
        }
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        if let Err(e) = self.stop_quietly() {
            ipc_cli::say_err!("warning: {e}");
        }
    }
}

/// The client port in the `nats-server_PID.ports` file of `dir`, once the
/// server has written it completely: `{"nats":["nats://127.0.0.1:PORT"]}`.
fn read_ports_file(dir: &Path) -> Option<u16> {
    let entry = fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok())
        .find(|e| e.file_name().to_string_lossy().ends_with(".ports"))?;
    let text = fs::read_to_string(entry.path()).ok()?;
    let ports: serde_json::Value = serde_json::from_str(&text).ok()?;
    let url = ports.get("nats")?.get(0)?.as_str()?;
    url.rsplit_once(':')?.1.parse().ok()
}

/// The last lines of the server's log, for an error message.
fn log_tail(log: &Path) -> String {
    let mut text = String::new();
    if let Ok(mut file) = fs::File::open(log) {
        let _ = file.read_to_string(&mut text);
    }
    let lines: Vec<&str> = text.lines().collect();
    let tail = lines[lines.len().saturating_sub(8)..].join("\n");
    if tail.is_empty() {
        "(nothing)".into()
    } else {
        tail
    }
}
