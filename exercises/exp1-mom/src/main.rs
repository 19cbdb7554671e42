use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use exp1_mom::{Channel, Mode, Receive, Until};
use ipc_net::{Connection, ServerUrls, Subject, cli::NetArgs};

/// Seed 004 through a message broker (NATS): a sender waits 2 seconds and
/// sends "Hello, introduction to distributed computing"; a receiver waits
/// for it and prints it.
///
/// Without a role, all on this machine: a private nats-server is started,
/// then the receiver and the sender as two processes of this program
/// (`--server URL receive`, `--server URL send`), then everything is
/// stopped. With a role, that role alone runs here and talks to the
/// others through the server given with --server (default
/// nats://127.0.0.1:4222), on this machine or another:
///   exp1-mom --server nats://HOST:4222 receive    (on one machine)
///   exp1-mom --server nats://HOST:4222 send       (on another)
///
/// By default the message is stored (a JetStream work queue): a `send`
/// with no receiver running reaches a `receive` started later. With
/// --core it is plain publish/subscribe, at most once: a message sent
/// while nobody listens is lost. Several receivers share the messages,
/// each message going to exactly one of them.
///
/// Exit codes: 0 done, 1 a failure (no server at the URL, the server went
/// away, nothing arrived in time, Ctrl-C), 2 bad usage (a bad URL,
/// subject or count).
#[derive(Parser)]
#[command(version)]
struct Args {
    #[command(flatten)]
    net: NetArgs,

    /// The subject the messages travel on
    #[arg(long, value_name = "SUBJECT", global = true, default_value = exp1_mom::DEFAULT_SUBJECT)]
    subject: Subject,

    /// Plain NATS publish/subscribe, at most once, instead of a stored
    /// stream
    #[arg(long, global = true)]
    core: bool,

    /// Copies of the stream on the nodes of a cluster (1 to 5; the stream
    /// is made by the first role that finds it missing)
    #[arg(long, value_name = "N", global = true, default_value_t = 1,
          value_parser = clap::value_parser!(u8).range(1..=5))]
    replicas: u8,

    /// Receivers of the run without a role, sharing the messages as one
    /// work queue
    #[arg(long, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u32).range(1..=64))]
    receivers: u32,

    /// Messages the run without a role sends [default: 1, or 3 per
    /// receiver with --receivers]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100_000))]
    messages: Option<u32>,

    /// The text the run without a role sends instead of the seed's: 1 to
    /// 160 bytes of printable text
    #[arg(long, value_name = "TEXT", allow_hyphen_values = true,
          value_parser = exp1_mom::extras::message)]
    message: Option<String>,

    #[command(subcommand)]
    role: Option<Role>,

    #[command(flatten)]
    common: ipc_cli::Common,
}

#[derive(Subcommand)]
enum Role {
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
              value_parser = exp1_mom::extras::message)]
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
        #[arg(long, value_name = "SECONDS", default_value_t = 60.0,
              value_parser = ipc_cli::seconds(86_400.0))]
        timeout: f64,
    },
}

fn main() -> ExitCode {
    let args: Args = ipc_cli::parse();
    let mode = if args.core {
        Mode::Core
    } else {
        Mode::Stored {
            replicas: args.replicas.into(),
        }
    };
    let channel = Channel {
        subject: args.subject,
        mode,
    };
    let Some(role) = args.role else {
        let count = args.messages.unwrap_or(if args.receivers > 1 {
            3 * args.receivers
        } else {
            1
        });
        let text = args.message.as_deref().unwrap_or(exp1_mom::MESSAGE);
        return ipc_net::cli::run("exp1-mom", &args.common, || {
            exp1_mom::run_ipc(&channel, text, args.receivers, count)
        });
    };
    let urls = args
        .net
        .server
        .unwrap_or_else(|| ServerUrls::loopback(ipc_net::names::DEFAULT_PORT));
    let run = args.net.run;
    match role {
        Role::Send {
            messages,
            interval,
            message,
        } => ipc_net::cli::run("exp1-mom send", &args.common, || {
            let nc = Connection::connect(&urls)?;
            let text = message.as_deref().unwrap_or(exp1_mom::MESSAGE);
            let interval = Duration::from_millis(interval);
            exp1_mom::sender(&nc, &channel, text, messages, interval)
        }),
        Role::Receive {
            count,
            all,
            id,
            timeout,
        } => ipc_net::cli::run("exp1-mom receive", &args.common, || {
            let nc = Connection::connect(&urls)?;
            let how = Receive {
                until: if all { Until::End } else { Until::Count(count) },
                id,
                timeout: Duration::from_secs_f64(timeout),
            };
            exp1_mom::receiver(&nc, &channel, how, run.as_ref())
        }),
    }
}
