//! One machine playing many: a private server and each role in a process
//! of its own, running this program's own binary again.
//!
//! An experiment run without `--server` is a [`LocalRun`]: it starts a
//! private [`NatsServer`], then starts each role as
//! `<this program> --server nats://127.0.0.1:PORT --run ID [--fast] ROLE …`,
//! exactly the command a user would type on another machine, rendered
//! from the typed values the program parses ([`CommandLine`]). The roles
//! meet on subjects below `ipc-lab.run.ID`:
//!
//! * `…ready`: a role says that it listens ([`announce_ready`]); the run
//!   waits for it ([`LocalRun::wait_ready`]) before starting the roles that
//!   talk to it, so that no message of plain NATS goes out before anyone
//!   listens.
//! * `…start`: roles that should start together wait at a [`Gate`] until
//!   the run opens it ([`LocalRun::open_gate`]).
//!
//! Run by hand with `--server` and no `--run`, a role skips both.
//!
//! Every role gets SIGTERM if the run dies (even by SIGKILL), and a run
//! that ends early (an error, Ctrl-C, SIGTERM, a panic) ends its roles and
//! its server when dropped.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use ipc_core::blocking::{self, Deadline};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

pub use crate::cli::RunId;
use crate::cli::{CommandLine, NetArgs, common_line};
use crate::client::{Connection, Subscription};
use crate::error::{Error, Result};
use crate::names::ServerUrls;
use crate::server::NatsServer;

/// How long a role may take to end after SIGTERM before it gets SIGKILL.
pub const TERM_TIMEOUT: Duration = Duration::from_secs(3);

/// Tells the run `run` (if any) that the role `role` listens now.
///
/// # Errors
/// As [`Connection::publish`].
pub fn announce_ready(connection: &Connection, run: Option<&RunId>, role: &str) -> Result<()> {
    match run {
        Some(run) => connection.publish(&run.ready_subject(), role.as_bytes()),
        None => Ok(()),
    }
}

/// Where roles wait to start together (see [`LocalRun::open_gate`]).
#[derive(Debug)]
pub struct Gate<'c>(Option<Subscription<'c>>);

impl<'c> Gate<'c> {
    /// Joins the gate of `run`, before announcing readiness; without a run
    /// the gate is open.
    ///
    /// # Errors
    /// As [`Connection::subscribe`].
    pub fn join(connection: &'c Connection, run: Option<&RunId>) -> Result<Gate<'c>> {
        Ok(Gate(match run {
            Some(run) => Some(connection.subscribe(&run.subject("start"))?),
            None => None,
        }))
    }

    /// Waits up to `timeout` for the gate to open.
    ///
    /// # Errors
    /// [`Error::Timeout`] when it did not; as [`Subscription::next`].
    pub fn wait(&mut self, timeout: Duration) -> Result<()> {
        match &mut self.0 {
            Some(subscription) => subscription.next(timeout).map(drop),
            None => Ok(()),
        }
    }
}

/// A role process of a [`LocalRun`].
#[derive(Debug)]
struct Role {
    name: String,
    child: Child,
}

/// A private server and the role processes of one run on this machine.
#[derive(Debug)]
pub struct LocalRun {
    id: RunId,
    roles: Vec<Role>,
    // Dropped after the roles have been ended (see Drop).
    server: Option<NatsServer>,
}

impl LocalRun {
    /// Starts a private server for a run of this program.
    ///
    /// # Errors
    /// As [`NatsServer::start`].
    pub fn start() -> Result<LocalRun> {
        Ok(LocalRun {
            id: RunId::fresh(),
            roles: Vec::new(),
            server: Some(NatsServer::start()?),
        })
    }

    /// The private server's URL.
    pub fn urls(&self) -> &ServerUrls {
        self.server.as_ref().expect("running").urls()
    }

    /// The run's id, as its roles get it (`--run ID`).
    pub fn id(&self) -> &RunId {
        &self.id
    }

    /// The private server (for tests and demonstrations: its pid, its
    /// directory).
    pub fn server(&self) -> &NatsServer {
        self.server.as_ref().expect("running")
    }

    /// Listens for roles announcing that they are ready; call it before
    /// [`LocalRun::spawn`], then [`LocalRun::wait_ready`].
    ///
    /// # Errors
    /// As [`Connection::subscribe`].
    pub fn ready_listener<'c>(&self, connection: &'c Connection) -> Result<Subscription<'c>> {
        connection.subscribe(&self.id.ready_subject())
    }

    /// Starts the role `name`: this program again, as
    /// `PROGRAM --server URL --run ID [--fast] [--trace PART] ROLE…`, with
    /// the same standard output and error; `role` is the rest of its
    /// command line, rendered from the typed values the program parses
    /// ([`CommandLine`]), as are the flags before it. It gets SIGTERM if
    /// this process dies.
    ///
    /// # Errors
    /// [`Error::Io`] when the program cannot be started.
    pub fn spawn(&mut self, name: &str, role: &CommandLine) -> Result<()> {
        let program = std::env::current_exe()
            .map_err(|e| Error::io("finding this program (/proc/self/exe)", e))?;
        let net = NetArgs {
            server: Some(self.urls().clone()),
            run: Some(self.id.clone()),
        };
        // While tracing, the role writes its own trace, which this run's
        // trace takes in when it is written: one picture of every role.
        let part = ipc_trace::part_for(name)?;
        let line = net.command_line().then(common_line(
            ipc_core::pace::is_fast(),
            part.as_deref().map(|p| p.as_os_str()),
        ));
        let mut command = Command::new(&program);
        command.args(line.args());
        if part.is_some() {
            command.env(ipc_trace::NAME_VAR, name);
        }
        command.args(role.args()).stdin(Stdio::null());
        ipc_core::command::die_with_parent(&mut command, Signal::SIGTERM);
        // Lines written before the spawn must not be written again or late.
        use std::io::Write;
        let _ = std::io::stdout().flush();
        let child = command
            .spawn()
            .map_err(|e| Error::io(format!("starting the {name} ({})", program.display()), e))?;
        self.roles.push(Role {
            name: name.to_owned(),
            child,
        });
        Ok(())
    }

    /// Waits up to `timeout` until `count` roles have announced on
    /// `listener` that they are ready.
    ///
    /// # Errors
    /// [`Error::RoleFailed`] when a role ends before; [`Error::Timeout`];
    /// as [`Subscription::next`].
    pub fn wait_ready(
        &mut self,
        listener: &mut Subscription<'_>,
        count: usize,
        timeout: Duration,
    ) -> Result<()> {
        let deadline = Deadline::after(timeout);
        let mut ready = 0;
        while ready < count {
            // Ctrl-C reaches the roles too, and one still starting (its
            // handler not yet installed) ends by it: the run was
            // interrupted, which is not that role's failure.
            ipc_core::signal::check()?;
            if let Some(failed) = self.ended_early()? {
                return Err(failed);
            }
            if deadline.has_passed() {
                return Err(Error::Timeout {
                    url: self.urls().to_string(),
                    what: format!("only {ready} of {count} roles said they were ready"),
                    after: timeout,
                });
            }
            // A slice at a time: a role that ends meanwhile is seen.
            if listener.next_within(deadline.slice())?.is_some() {
                ready += 1;
            }
        }
        Ok(())
    }

    /// The error for the first role that has ended, if any.
    fn ended_early(&mut self) -> Result<Option<Error>> {
        for role in &mut self.roles {
            if let Some(status) = role
                .child
                .try_wait()
                .map_err(|e| Error::io(format!("waitpid (the {})", role.name), e))?
            {
                return Ok(Some(Error::RoleFailed {
                    role: format!("the {} (ended before it was ready)", role.name),
                    status: status.into(),
                }));
            }
        }
        Ok(None)
    }

    /// Opens the gate of the run: every role waiting at a [`Gate`] starts.
    ///
    /// # Errors
    /// As [`Connection::publish`].
    pub fn open_gate(&self, connection: &Connection) -> Result<()> {
        connection.publish(&self.id.subject("start"), b"go")
    }

    /// Waits up to `timeout` for the role `name` to end.
    ///
    /// # Errors
    /// [`Error::RoleFailed`] when it ended with a failure;
    /// [`Error::Timeout`] when it did not end in time (it is then ended
    /// when the run is dropped); `Interrupted` on SIGINT or SIGTERM.
    pub fn wait(&mut self, name: &str, timeout: Duration) -> Result<()> {
        let index = self
            .roles
            .iter()
            .position(|role| role.name == name)
            .unwrap_or_else(|| panic!("no role named {name}"));
        let role = &mut self.roles[index];
        let ended = blocking::poll(Deadline::after(timeout), blocking::STEP_INTERVAL, || {
            role.child
                .try_wait()
                .map_err(|e| Error::io(format!("waitpid (the {name})"), e))
        });
        let status = match ended {
            Ok(status) => status,
            Err(Error::Core(ipc_core::Error::Timeout)) => {
                return Err(Error::Timeout {
                    url: self.urls().to_string(),
                    what: format!("the {name} did not end"),
                    after: timeout,
                });
            }
            Err(other) => return Err(other),
        };
        self.roles.remove(index);
        if status.success() {
            Ok(())
        } else {
            ipc_core::signal::check()?;
            Err(Error::RoleFailed {
                role: format!("the {name}"),
                status: status.into(),
            })
        }
    }

    /// Waits up to `timeout` for every role to end. The first role that
    /// fails ends the wait at once: the others are then ended (SIGTERM)
    /// when the run is dropped, instead of waiting for a peer that is gone.
    ///
    /// # Errors
    /// As [`LocalRun::wait`].
    pub fn wait_all(&mut self, timeout: Duration) -> Result<()> {
        let deadline = Deadline::after(timeout);
        while !self.roles.is_empty() {
            let mut index = 0;
            while index < self.roles.len() {
                let role = &mut self.roles[index];
                let ended = role
                    .child
                    .try_wait()
                    .map_err(|e| Error::io(format!("waitpid (the {})", role.name), e))?;
                match ended {
                    Some(status) => {
                        let role = self.roles.remove(index);
                        if !status.success() {
                            // A Ctrl-C at the terminal reaches the roles too:
                            // then the signal, not the role, ended the run.
                            ipc_core::signal::check()?;
                            return Err(Error::RoleFailed {
                                role: format!("the {}", role.name),
                                status: status.into(),
                            });
                        }
                    }
                    None => index += 1,
                }
            }
            if self.roles.is_empty() {
                break;
            }
            ipc_core::signal::check()?;
            if deadline.has_passed() {
                let names: Vec<&str> = self.roles.iter().map(|r| r.name.as_str()).collect();
                return Err(Error::Timeout {
                    url: self.urls().to_string(),
                    what: format!("{} did not end", names.join(", ")),
                    after: timeout,
                });
            }
            std::thread::sleep(deadline.pause(blocking::STEP_INTERVAL));
        }
        Ok(())
    }

    /// Asks the role `name` to end (SIGTERM), and waits for it; SIGKILL
    /// after [`TERM_TIMEOUT`]. A role that ends on SIGTERM in order (its
    /// exit code 0 or 1) is no failure.
    pub fn terminate(&mut self, name: &str) {
        if let Some(index) = self.roles.iter().position(|role| role.name == name) {
            let mut role = self.roles.remove(index);
            end_all(std::slice::from_mut(&mut role));
        }
    }
}

impl Drop for LocalRun {
    fn drop(&mut self) {
        end_all(&mut self.roles);
        self.roles.clear();
        // Then the server (its own Drop stops it and removes its store).
        self.server.take();
    }
}

/// SIGTERM to every role still running, SIGKILL to those still there after
/// [`TERM_TIMEOUT`]; every one reaped.
fn end_all(roles: &mut [Role]) {
    for role in roles.iter_mut() {
        if let Ok(None) = role.child.try_wait() {
            let _ = kill(Pid::from_raw(role.child.id() as i32), Signal::SIGTERM);
        }
    }
    let deadline = Deadline::after(TERM_TIMEOUT);
    for role in roles.iter_mut() {
        let ended = blocking::poll_until(deadline, blocking::STEP_INTERVAL, || {
            (!matches!(role.child.try_wait(), Ok(None))).then_some(())
        });
        if ended.is_none() {
            let _ = role.child.kill();
        }
        let _ = role.child.wait();
    }
}
