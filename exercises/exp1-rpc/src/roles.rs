//! The roles, as clap parses them and as the run without a role starts
//! them: one typed value renders its own command line
//! ([`ipc_net::cli::CommandLine`]), so that no flag is typed twice.

use std::time::Duration;

use ipc_cli::say;
use ipc_net::cli::CommandLine;
use ipc_net::{Connection, LocalRun, Result, Subject};

use crate::options::{DEFAULT_SUBJECT, DEFAULT_TIMEOUT, MYLIST};

/// Where the procedures are served: the flags every role shares.
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct Service {
    /// The subject the procedures are served on
    #[arg(long, value_name = "SUBJECT", global = true, default_value = DEFAULT_SUBJECT)]
    pub subject: Subject,
}

impl Service {
    /// Its flags, as a role gets them.
    pub fn command_line(&self) -> CommandLine {
        CommandLine::new().flags::<Service>(|f| {
            f.value("subject", Some(&self.subject));
        })
    }
}

/// A role of exp1-rpc.
#[derive(Debug, Clone, PartialEq, clap::Subcommand)]
pub enum Role {
    /// Serve square_list and sum_of_squares until Ctrl-C (several servers
    /// share the calls)
    Server {
        /// End after answering N calls
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
        requests: Option<u64>,
        /// Do not print the calls served
        #[arg(long)]
        quiet: bool,
    },
    /// Call both procedures on a list and print the results
    Client {
        /// Seconds to wait for a server to answer each call (exit code 1
        /// after that)
        #[arg(long, value_name = "SECONDS", default_value_t = DEFAULT_TIMEOUT.as_secs_f64(),
              value_parser = ipc_cli::seconds(3600.0))]
        timeout: f64,
        /// The list to square [default: 1 2 3 4]
        #[arg(value_name = "NUMBER", allow_negative_numbers = true)]
        mylist: Vec<i64>,
    },
}

impl Role {
    /// The command line of this role of `service`.
    pub fn command_line(&self, service: &Service) -> CommandLine {
        let role = match self {
            Role::Server { requests, quiet } => {
                CommandLine::new().subcommand::<Role>("server", |f| {
                    f.value("requests", requests.as_ref()).flag("quiet", *quiet);
                })
            }
            Role::Client { timeout, mylist } => {
                CommandLine::new().subcommand::<Role>("client", |f| {
                    f.value("timeout", Some(timeout))
                        .positional("mylist", mylist);
                })
            }
        };
        service.command_line().then(role)
    }

    /// Runs this role here, against the NATS server of `nc`.
    ///
    /// # Errors
    /// As [`crate::server`] and [`crate::client`].
    pub fn run(
        self,
        nc: &Connection,
        service: &Service,
        run: Option<&ipc_net::RunId>,
    ) -> Result<()> {
        match self {
            Role::Server { requests, quiet } => {
                crate::server(nc, &service.subject, requests, quiet, run)
            }
            Role::Client { timeout, mylist } => {
                let mylist = if mylist.is_empty() {
                    MYLIST.to_vec()
                } else {
                    mylist
                };
                crate::client(
                    nc,
                    &service.subject,
                    &mylist,
                    Duration::from_secs_f64(timeout),
                )
            }
        }
    }
}

/// The program's name for each role's lines on stderr.
pub fn program(role: Option<&Role>) -> &'static str {
    match role {
        None => "exp1-rpc",
        Some(Role::Server { .. }) => "exp1-rpc server",
        Some(Role::Client { .. }) => "exp1-rpc client",
    }
}

/// Runs the experiment on this machine: a private server, a server process
/// and a client process (each this program again with `--server`); the
/// server is stopped once the client is done.
///
/// # Errors
/// A role that failed; a server that could not be started; `Interrupted`.
pub fn run_rpc(service: &Service, mylist: &[i64]) -> Result<()> {
    let mut run = LocalRun::start()?;
    let nc = Connection::connect(run.urls())?;
    let mut ready = run.ready_listener(&nc)?;
    let server = Role::Server {
        requests: None,
        quiet: true,
    };
    run.spawn("server", &server.command_line(service))?;
    run.wait_ready(&mut ready, 1, Duration::from_secs(30))?;
    let client = Role::Client {
        timeout: DEFAULT_TIMEOUT.as_secs_f64(),
        mylist: mylist.to_vec(),
    };
    run.spawn("client", &client.command_line(service))?;
    run.wait("client", DEFAULT_TIMEOUT * 3)?;
    run.terminate("server");
    Ok(())
}

/// How a server's loop ended: Ctrl-C or SIGTERM is how a server is
/// stopped, a normal end after its last line (`server: stopped by SIGINT
/// after 3 calls`).
///
/// # Errors
/// The loop's error, but an interruption.
pub fn stopped(serving: Result<()>, served: u64, quiet: bool) -> Result<()> {
    let outcome: ipc_core::Result<()> = match serving {
        Err(e) if e.is_interrupted() => Err(ipc_core::Error::Interrupted),
        Err(e) => return Err(e),
        Ok(()) => Ok(()),
    };
    ipc_core::signal::end_on_interrupt(outcome, |by| {
        if quiet {
            Ok(())
        } else {
            say!("server: stopped by {by} after {served} calls")
        }
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use ipc_net::cli::RoleLine;

    use super::*;

    #[test]
    fn each_role_s_command_line_parses_back_to_it() {
        let service = Service {
            subject: "ipc-lab.rpc-test".parse().unwrap(),
        };
        for role in [
            Role::Server {
                requests: None,
                quiet: true,
            },
            Role::Server {
                requests: Some(4),
                quiet: false,
            },
            Role::Client {
                timeout: 2.5,
                mylist: vec![-4, 0, i64::MIN],
            },
            Role::Client {
                timeout: 5.0,
                mylist: vec![],
            },
        ] {
            let line = role.command_line(&service);
            let parsed: RoleLine<Service, Role> = line.parse_back().unwrap();
            assert_eq!((parsed.shared, parsed.role), (service.clone(), role));
        }
    }
}
