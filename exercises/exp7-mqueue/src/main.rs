use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};
use exp7_mqueue::Size;
use ipc_cli::whole_number;
use ipc_core::IpcName;

/// Seed 000 theory, message queue: a POSIX message queue delivers the
/// highest priority first, and outlives the process that filled it.
///
/// Without a role, all in one go: create a queue, let a child process send
/// four messages with priorities and exit, show that the messages are
/// still there, receive them highest priority first, unlink the queue.
/// With a role, one step per run (two terminals): `send` (leaves the queue
/// in place), `receive`, `attrs`, `unlink`.
///
/// Exit codes: 0 done (also after Ctrl-C), 1 a failure (a taken name, the
/// sender died, RLIMIT_MSGQUEUE reached), 2 bad usage (a bad name, no
/// such queue, a size above the system's limits in /proc/sys/fs/mqueue).
#[derive(Parser)]
#[command(version)]
struct Args {
    /// The queue's name, /ipc-lab-NAME [default: a fresh
    /// ipc-lab-PID-N-exp7-mqueue without a role, ipc-lab-exp7-mqueue with one]
    #[arg(long, value_name = "NAME", global = true)]
    name: Option<IpcName>,
    /// How many messages a new queue holds (mq_maxmsg), from 1 to
    /// /proc/sys/fs/mqueue/msg_max
    #[arg(long, value_name = "N", global = true, allow_hyphen_values = true,
          default_value_t = exp7_mqueue::DEFAULT_CAPACITY as u64,
          value_parser = whole_number(1..=u64::MAX, "messages", "at most /proc/sys/fs/mqueue/msg_max"))]
    capacity: u64,
    /// The largest message of a new queue in bytes (mq_msgsize), from 1 to
    /// /proc/sys/fs/mqueue/msgsize_max
    #[arg(long, value_name = "BYTES", global = true, allow_hyphen_values = true,
          default_value_t = exp7_mqueue::DEFAULT_MSGSIZE as u64,
          value_parser = whole_number(1..=u64::MAX, "bytes", "at most /proc/sys/fs/mqueue/msgsize_max"))]
    msgsize: u64,
    /// The messages the sender sends (the default run and the send role)
    /// instead of the seed's First:1,second:5,third?:1,urgent:9: 1 to 8
    /// comma-separated TEXT:PRIORITY pairs, TEXT 1 to 64 bytes, PRIORITY
    /// from 0 to 31
    #[arg(long, value_name = "TEXT:PRIORITY,...", global = true, allow_hyphen_values = true,
          value_parser = exp7_mqueue::messages::messages)]
    messages: Option<exp7_mqueue::messages::Messages>,
    #[command(flatten)]
    roles: ipc_cli::Roles<Role>,
}

#[derive(Subcommand)]
enum Role {
    /// Send four messages with priorities (creating the queue if it is
    /// missing) and exit WITHOUT unlinking the queue
    Send,
    /// Receive every message in the queue, highest priority first
    Receive {
        /// If the queue is empty, wait for a message (until Ctrl-C)
        #[arg(long)]
        wait: bool,
    },
    /// Show the queue's attributes (mq_getattr) and the system's limits
    #[command(visible_alias = "info")]
    Attrs,
    /// Remove the queue and the messages in it (mq_unlink)
    Unlink,
}

fn main() -> ExitCode {
    let args: Args = ipc_cli::parse();
    // Above usize::MAX is above every system limit: the limit check says so.
    let size = Size {
        capacity: usize::try_from(args.capacity).unwrap_or(usize::MAX),
        msgsize: usize::try_from(args.msgsize).unwrap_or(usize::MAX),
    };
    let messages = match &args.messages {
        Some(messages) => messages.as_pairs(),
        None => exp7_mqueue::MESSAGES.to_vec(),
    };
    // A rule across three flags, for the default run: checked once, here.
    if args.roles.role.is_none()
        && let Err(rule) = size.holds_every_message(&messages)
    {
        Args::command()
            .error(clap::error::ErrorKind::ArgumentConflict, rule)
            .exit();
    }
    ipc_cli::run("exp7-mqueue", &args.roles.common, || {
        let Some(role) = args.roles.role else {
            return exp7_mqueue::run(args.name, size, &messages);
        };
        let name = match args.name {
            Some(name) => name,
            None => exp7_mqueue::default_name()?,
        };
        match role {
            Role::Send => exp7_mqueue::send(&name, size, &messages),
            Role::Receive { wait } => exp7_mqueue::receive(&name, wait),
            Role::Attrs => exp7_mqueue::attrs(&name),
            Role::Unlink => exp7_mqueue::unlink(&name),
        }
    })
}
