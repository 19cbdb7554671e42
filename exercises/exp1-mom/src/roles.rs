//! The roles, as clap parses them and as the run without a role starts
//! them ([`run_ipc`]): one typed value renders its own command line
//! ([`ipc_net::cli::CommandLine`]), so that no flag is typed twice.

use std::time::Duration;

use ipc_cli::say;
use ipc_core::pace;
use ipc_net::cli::CommandLine;
use ipc_net::{Connection, LocalRun, Result, RunId, Subject, WorkQueue};

use crate::{Channel, DEFAULT_SUBJECT, DEFAULT_TIMEOUT, DELAY, MESSAGE, Mode, RECEIVERS};
use crate::{Receive, Until};

/// Where the messages travel and how: the flags every role shares.
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct ChannelArgs {
    /// The subject the messages travel on
    #[arg(long, value_name = "SUBJECT", global = true, default_value = DEFAULT_SUBJECT)]
    pub subject: Subject,

    /// Plain NATS publish/subscribe, at most once, instead of a stored
    /// stream
    #[arg(long, global = true)]
    pub core: bool,

    /// Copies of the stream on the nodes of a cluster (1 to 5; the stream
    /// is made by the first role that finds it missing)
    #[arg(long, value_name = "N", global = true, default_value_t = 1,
          value_parser = clap::value_parser!(u8).range(1..=5))]
    pub replicas: u8,
}

impl ChannelArgs {
    /// The channel these flags name.
    pub fn channel(&self) -> Channel {
        let mode = if self.core {
            Mode::Core
        } else {
            Mode::Stored {
                replicas: self.replicas.into(),
            }
        };
        Channel {
            subject: self.subject.clone(),
            mode,
        }
    }
}

impl Channel {
    /// Its flags, as a role gets them.
    pub fn command_line(&self) -> CommandLine {
        let (core, replicas) = match self.mode {
            Mode::Stored { replicas } => (false, Some(replicas)),
            Mode::Core => (true, None),
        };
        CommandLine::new().flags::<ChannelArgs>(|f| {
            f.value("subject", Some(&self.subject))
                .flag("core", core)
                .value("replicas", replicas);
        })
    }
}

/// A role of exp1-mom.
#[derive(Debug, Clone, PartialEq, clap::Subcommand)]
pub enum Role {
    /// Wait 2 seconds, send the message(s), then tell the receivers that
    /// it has finished
    Send {
        /// How many messages to send (numbered #1, #2, … when more than 1)
        #[arg(long, value_name = "N", default_value_t = 1,
              value_parser = clap::value_parser!(u32).range(1..=100_000))]
        messages: u32,
        /// Milliseconds between two messages (scaled by --fast)
        #[arg(long, value_name = "MS", default_value_t = 0)]
        interval: u64,
        /// The text to send instead of the seed's: 1 to 160 bytes of
        /// printable text
        #[arg(long, value_name = "TEXT", allow_hyphen_values = true,
              value_parser = crate::extras::message)]
        message: Option<String>,
    },
    /// Wait for messages and print them: one by default
    Receive {
        /// How many messages to receive before ending
        #[arg(long, value_name = "N", default_value_t = 1,
              value_parser = clap::value_parser!(u32).range(1..), conflicts_with = "all")]
        count: u32,
        /// Receive until the sender says it has finished (start receivers
        /// before the sender: the notice itself is not stored)
        #[arg(long)]
        all: bool,
        /// This receiver's number, printed as `Receiver ID received: …`
        #[arg(long, value_name = "ID")]
        id: Option<u32>,
        /// Seconds to wait in all before giving up (exit code 1)
        #[arg(long, value_name = "SECONDS", default_value_t = DEFAULT_TIMEOUT.as_secs_f64(),
              value_parser = ipc_cli::seconds(86_400.0))]
        timeout: f64,
    },
}

impl Role {
    /// The command line of this role on `channel`. A receiver with `all`
    /// gets no `--count` (the two exclude each other).
    pub fn command_line(&self, channel: &Channel) -> CommandLine {
        let role = match self {
            Role::Send {
                messages,
                interval,
                message,
            } => CommandLine::new().subcommand::<Role>("send", |f| {
                f.value("messages", Some(messages))
                    .value("interval", Some(interval))
                    .value("message", message.as_ref());
            }),
            Role::Receive {
                count,
                all,
                id,
                timeout,
            } => CommandLine::new().subcommand::<Role>("receive", |f| {
                f.value("count", (!all).then_some(count))
                    .flag("all", *all)
                    .value("id", id.as_ref())
                    .value("timeout", Some(timeout));
            }),
        };
        channel.command_line().then(role)
    }

    /// Runs this role here, against the NATS server of `nc`.
    ///
    /// # Errors
    /// As [`crate::sender`] and [`crate::receiver`].
    pub fn run(self, nc: &Connection, channel: &Channel, run: Option<&RunId>) -> Result<()> {
        match self {
            Role::Send {
                messages,
                interval,
                message,
            } => {
                let text = message.as_deref().unwrap_or(MESSAGE);
                let interval = Duration::from_millis(interval);
                crate::sender(nc, channel, text, messages, interval)
            }
            Role::Receive {
                count,
                all,
                id,
                timeout,
            } => {
                let how = Receive {
                    until: if all { Until::End } else { Until::Count(count) },
                    id,
                    timeout: Duration::from_secs_f64(timeout),
                };
                crate::receiver(nc, channel, how, run)
            }
        }
    }
}

/// The program's name for each role's lines on stderr.
pub fn program(role: Option<&Role>) -> &'static str {
    match role {
        None => "exp1-mom",
        Some(Role::Send { .. }) => "exp1-mom send",
        Some(Role::Receive { .. }) => "exp1-mom receive",
    }
}

/// Runs the experiment on this machine (the seed's `run_ipc`): a private
/// server, `receivers` receiver processes and one sender process sending
/// `count` messages of `text` ([`MESSAGE`], or `--message`), each role this
/// program again with `--server`.
///
/// The receivers are started first, and the sender only once each said it
/// listens: with `--core` a message sent before would be lost.
///
/// # Errors
/// A role that failed; a server that could not be started; `Interrupted`
/// (the roles and the server are stopped).
pub fn run_ipc(channel: &Channel, text: &str, receivers: u32, count: u32) -> Result<()> {
    let mut run = LocalRun::start()?;
    let nc = Connection::connect(run.urls())?;
    let mut ready = run.ready_listener(&nc)?;
    if let Mode::Stored { replicas } = channel.mode {
        // The stream and its consumer exist before any role looks for them.
        WorkQueue::open(&nc, &channel.subject, replicas)?.receiver(RECEIVERS)?;
    }

    for id in 1..=receivers {
        let receive = Role::Receive {
            count: 1,
            all: true,
            id: (receivers > 1).then_some(id),
            timeout: DEFAULT_TIMEOUT.as_secs_f64(),
        };
        let name = receiver_name(id, receivers);
        run.spawn(&name, &receive.command_line(channel))?;
    }
    run.wait_ready(&mut ready, receivers as usize, Duration::from_secs(30))?;

    let send = Role::Send {
        messages: count,
        interval: 0,
        message: (text != MESSAGE).then(|| text.to_owned()),
    };
    run.spawn("sender", &send.command_line(channel))?;

    run.wait_all(pace::scaled(DELAY) + DEFAULT_TIMEOUT)?;
    say!("IPC between processes completed.")?;
    Ok(())
}

fn receiver_name(id: u32, receivers: u32) -> String {
    if receivers == 1 {
        "receiver".into()
    } else {
        format!("receiver {id}")
    }
}

#[cfg(test)]
mod tests {
    use ipc_net::cli::RoleLine;

    use super::*;

    #[test]
    fn each_role_s_command_line_parses_back_to_it() {
        let subject: Subject = "ipc-lab.mom-test".parse().unwrap();
        let channels = [
            Channel {
                subject: subject.clone(),
                mode: Mode::Stored { replicas: 3 },
            },
            Channel {
                subject,
                mode: Mode::Core,
            },
        ];
        let roles = [
            Role::Send {
                messages: 1,
                interval: 0,
                message: None,
            },
            Role::Send {
                messages: 7,
                interval: 250,
                message: Some("-p 1 --core -- a message that looks like flags".into()),
            },
            Role::Receive {
                count: 1,
                all: true,
                id: Some(2),
                timeout: 60.0,
            },
            Role::Receive {
                count: 4,
                all: false,
                id: None,
                timeout: 0.5,
            },
        ];
        for channel in &channels {
            for role in &roles {
                let line = role.command_line(channel);
                let parsed: RoleLine<ChannelArgs, Role> = line.parse_back().unwrap();
                assert_eq!(parsed.shared.channel(), *channel, "{line:?}");
                assert_eq!(parsed.role, *role, "{line:?}");
            }
        }
    }
}
