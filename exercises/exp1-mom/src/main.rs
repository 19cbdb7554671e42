use std::process::ExitCode;

use clap::Parser;
use exp1_mom::roles::{self, ChannelArgs, Role};
use ipc_net::cli::NetRoles;

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
/// subject or count, --server without a role).
#[derive(Parser)]
#[command(version)]
struct Args {
    #[command(flatten)]
    channel: ChannelArgs,

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

    #[command(flatten)]
    roles: NetRoles<Role>,
}

fn main() -> ExitCode {
    let args: Args = ipc_net::cli::parse();
    let program = roles::program(args.roles.role.as_ref());
    let channel = args.channel.channel();
    let whole = || {
        let count = args.messages.unwrap_or(if args.receivers > 1 {
            3 * args.receivers
        } else {
            1
        });
        let text = args.message.as_deref().unwrap_or(exp1_mom::MESSAGE);
        roles::run_ipc(&channel, text, args.receivers, count)
    };
    args.roles.run(program, whole, |role, server, run| {
        role.run(server, &channel, run)
    })
}
