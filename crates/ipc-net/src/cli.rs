//! What the NATS experiments' `main`s share besides `ipc-cli`: the
//! `--server` flag and the rule that it needs a role ([`parse`]), command
//! lines rendered from the typed values clap parses ([`CommandLine`]), and
//! the runner for a body that fails with this crate's errors.
//!
//! A run without `--server` starts its roles as processes of the same
//! program ([`crate::LocalRun`]): their command lines are rendered from
//! the same types that parse them, each flag spelled as clap's definition
//! of the type spells it, so that no flag is typed twice.
//!
//! ```
//! use clap::Parser;
//! use ipc_net::cli::CommandLine;
//!
//! #[derive(Parser, Debug, PartialEq)]
//! struct Demo {
//!     /// A count
//!     #[arg(long)]
//!     count: Option<u32>,
//!     /// A switch
//!     #[arg(long)]
//!     all: bool,
//! }
//!
//! let demo = Demo { count: Some(-1_i32 as u32), all: true };
//! let line = CommandLine::new().flags::<Demo>(|f| {
//!     f.value("count", demo.count).flag("all", demo.all);
//! });
//! assert_eq!(line.to_strings(), ["--count=4294967295", "--all"]);
//! let back = Demo::try_parse_from(std::iter::once("demo".into()).chain(line.args().to_vec()));
//! assert_eq!(back.unwrap(), demo);
//! ```

use std::ffi::{OsStr, OsString};
use std::fmt::Display;
use std::process::ExitCode;

use clap::parser::ValueSource;

use std::sync::atomic::{AtomicU32, Ordering};

use crate::client::Connection;
use crate::error::Result;
use crate::names::{Rule, ServerUrls, Subject, only_letters_and, text_name};

/// The flags every NATS experiment takes besides ipc-cli's `--fast` and `--trace`.
#[derive(Debug, Clone, Default, PartialEq, Eq, clap::Args)]
pub struct NetArgs {
    /// The NATS server to use, nats://HOST:PORT (several, comma-separated,
    /// for the nodes of a cluster); a role then runs here and talks to the
    /// others through it. Only with a role: without one, a private
    /// nats-server is started on 127.0.0.1 and every role runs on this
    /// machine
    #[arg(long, value_name = "URL", global = true)]
    pub server: Option<ServerUrls>,

    /// The run this role belongs to (given by the program to the roles it
    /// starts)
    #[arg(long, value_name = "ID", global = true, hide = true)]
    pub run: Option<RunId>,
}

impl NetArgs {
    /// Connects a role to the server of `--server`, or to
    /// nats://127.0.0.1:4222 without it.
    ///
    /// # Errors
    /// As [`Connection::connect`].
    pub fn connect(&self) -> Result<Connection> {
        let loopback = || ServerUrls::loopback(crate::names::DEFAULT_PORT);
        Connection::connect(&self.server.clone().unwrap_or_else(loopback))
    }

    /// The flags of a role of the run `run` on the server `urls`, as
    /// [`crate::LocalRun`] starts it.
    pub fn command_line(&self) -> CommandLine {
        CommandLine::new().flags::<NetArgs>(|f| {
            f.value("server", self.server.as_ref())
                .value("run", self.run.as_ref());
        })
    }
}

/// The command line every NATS experiment shares around its own flags:
/// `--server` and `--run` ([`NetArgs`]), the role (a subcommand; none:
/// the whole run on this machine), and ipc-cli's `--fast` and `--trace`.
/// Flatten it last into the program's `Args`, parse with [`parse`] and
/// end `main` with [`NetRoles::run`].
#[derive(Debug, Clone, clap::Args)]
pub struct NetRoles<R: clap::Subcommand> {
    /// `--server` and `--run`.
    #[command(flatten)]
    pub net: NetArgs,

    /// The role this process plays; none: the whole run, every role here.
    #[command(subcommand)]
    pub role: Option<R>,

    /// `--fast` and `--trace FILE`.
    #[command(flatten)]
    pub common: ipc_cli::Common,
}

impl<R: clap::Subcommand> NetRoles<R> {
    /// Runs the program `program` as [`run`] does: `whole` without a role
    /// (it starts a private nats-server and every role), or else `role`
    /// with the role, connected here to `--server`, and the run it
    /// belongs to (`--run`).
    pub fn run(
        self,
        program: &str,
        whole: impl FnOnce() -> Result<()>,
        role: impl FnOnce(R, &Connection, Option<&RunId>) -> Result<()>,
    ) -> ExitCode {
        let NetRoles {
            net,
            role: chosen,
            common,
        } = self;
        run(program, &common, || match chosen {
            None => whole(),
            Some(chosen) => role(chosen, &net.connect()?, net.run.as_ref()),
        })
    }
}

/// The name of one orchestrated run, shared by its roles (`--run ID`):
/// ASCII letters, digits, `-` and `_`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunId(String);

impl RunId {
    /// A fresh id for a run of this process.
    pub fn fresh() -> RunId {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        RunId(format!(
            "p{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ))
    }

    /// The subject roles of this run announce readiness on
    /// (`ipc-lab.run.ID.ready`): a test that starts a role with `--run ID`
    /// listens there to know when the role listens.
    pub fn ready_subject(&self) -> Subject {
        self.subject("ready")
    }

    /// The subject `ipc-lab.run.ID.WHAT` of this run.
    pub(crate) fn subject(&self, what: &str) -> Subject {
        format!("ipc-lab.run.{}.{what}", self.0)
            .parse()
            .expect("a RunId makes a valid subject")
    }
}

text_name!(RunId, "run id", run_id_rule);

fn run_id_rule(text: &str) -> Rule {
    if text.is_empty() || text.len() > 64 || !only_letters_and(text, b"-_") {
        return Err("only ASCII letters, digits, '-' and '_', at most 64".into());
    }
    Ok(())
}

/// Parses the command line as [`ipc_cli::parse`] does, and refuses
/// `--server` (or `--run`) without a role, once, here: the run without a
/// role starts a private nats-server of its own, and would ignore the
/// flag. `A` flattens [`NetRoles`]. Bad usage ends the program with exit
/// code 2.
pub fn parse<A: clap::Parser>() -> A {
    ipc_cli::parse_with(|matches| {
        if matches.subcommand().is_some() {
            return None;
        }
        let flag = ["server", "run"]
            .into_iter()
            .find(|id| matches.value_source(id) == Some(ValueSource::CommandLine))?;
        Some(format!(
            "--{flag} needs a role (a subcommand): without one, the run starts a private \
             nats-server of its own and every role on this machine"
        ))
    })
}

/// [`ipc_cli::run`] (signals caught, logging, `--fast`, `--trace`, exit
/// codes) for a body that fails with this crate's [`crate::Error`], so
/// that a closure ending in `Ok(())` needs no type.
pub fn run(program: &str, common: &ipc_cli::Common, body: impl FnOnce() -> Result<()>) -> ExitCode {
    ipc_cli::run(program, common, body)
}

/// The flags of `--fast` and `--trace PATH` (ipc-cli's [`ipc_cli::Common`]),
/// as a program passes them on to the programs it starts.
pub fn common_line(fast: bool, trace: Option<&OsStr>) -> CommandLine {
    CommandLine::new().flags::<ipc_cli::Common>(|f| {
        f.flag("fast", fast).value_os("trace", trace);
    })
}

/// Arguments for a program, rendered from typed values: each flag is
/// found by its field's name in clap's definition of the type that
/// parses it, and written as that definition spells it (`--per-pass=3`).
/// A value is always attached with `=`, so that one starting with `-` is
/// never read as a flag.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommandLine {
    args: Vec<OsString>,
}

impl CommandLine {
    /// An empty command line.
    pub fn new() -> Self {
        CommandLine::default()
    }

    /// Adds the flags of a value of `T`, which `render` writes field by
    /// field.
    ///
    /// # Panics
    /// When `render` names a field `T` has no flag for: a mistake of the
    /// program, which its tests of the round trip catch.
    pub fn flags<T: clap::Args>(mut self, render: impl FnOnce(&mut Flags<'_>)) -> Self {
        let command = T::augment_args(clap::Command::new("flags"));
        render(&mut Flags {
            command: &command,
            out: &mut self.args,
        });
        self
    }

    /// Adds the subcommand `name` of `S` and its flags, which `render`
    /// writes field by field.
    ///
    /// # Panics
    /// When `S` has no subcommand `name`, or as [`CommandLine::flags`].
    pub fn subcommand<S: clap::Subcommand>(
        mut self,
        name: &str,
        render: impl FnOnce(&mut Flags<'_>),
    ) -> Self {
        let all = S::augment_subcommands(clap::Command::new("roles"));
        let command = all
            .find_subcommand(name)
            .unwrap_or_else(|| panic!("no subcommand {name:?}"));
        self.args.push(command.get_name().into());
        render(&mut Flags {
            command,
            out: &mut self.args,
        });
        self
    }

    /// Adds the arguments of `other` after these.
    pub fn then(mut self, other: CommandLine) -> Self {
        self.args.extend(other.args);
        self
    }

    /// The arguments.
    pub fn args(&self) -> &[OsString] {
        &self.args
    }

    /// Parses these arguments back into `T`, as the program would after
    /// its name: the check that a rendered line means what was rendered
    /// (with [`RoleLine`] for a role's).
    ///
    /// # Errors
    /// clap's, for a line `T` refuses.
    pub fn parse_back<T: clap::Parser>(&self) -> std::result::Result<T, clap::Error> {
        let name = OsString::from("program");
        T::try_parse_from(std::iter::once(name).chain(self.args.iter().cloned()))
    }

    /// The arguments as text (lossy), to show or compare them.
    pub fn to_strings(&self) -> Vec<String> {
        self.args
            .iter()
            .map(|arg| arg.to_string_lossy().into_owned())
            .collect()
    }
}

/// A role's command line as a program parses it: the experiment's flags
/// that every role shares (`S`), then the role (`R`, a subcommand); what
/// a test of the roles parses a rendered line back into
/// ([`CommandLine::parse_back`]).
#[derive(Debug, clap::Parser)]
pub struct RoleLine<S: clap::Args, R: clap::Subcommand> {
    /// The shared flags.
    #[command(flatten)]
    pub shared: S,
    /// The role.
    #[command(subcommand)]
    pub role: R,
}

/// Writes the flags of one type into a [`CommandLine`].
#[derive(Debug)]
pub struct Flags<'a> {
    command: &'a clap::Command,
    out: &'a mut Vec<OsString>,
}

impl Flags<'_> {
    /// `--long`, as the field `id` is spelled, or its positional place.
    fn arg(&self, id: &str) -> &clap::Arg {
        self.command
            .get_arguments()
            .find(|arg| arg.get_id() == id)
            .unwrap_or_else(|| panic!("no flag for the field {id:?} in {}", self.command))
    }

    fn long(&self, id: &str) -> String {
        let arg = self.arg(id);
        let long = arg
            .get_long()
            .unwrap_or_else(|| panic!("the field {id:?} has no long flag"));
        format!("--{long}")
    }

    /// The switch of the field `id` when `on`.
    pub fn flag(&mut self, id: &str, on: bool) -> &mut Self {
        let long = self.long(id);
        if on {
            self.out.push(long.into());
        }
        self
    }

    /// `--long=VALUE` for the field `id`, when it has a value.
    pub fn value(&mut self, id: &str, value: Option<impl Display>) -> &mut Self {
        let long = self.long(id);
        if let Some(value) = value {
            self.out.push(format!("{long}={value}").into());
        }
        self
    }

    /// As [`Flags::value`], for a value that may not be text (a path).
    pub fn value_os(&mut self, id: &str, value: Option<&OsStr>) -> &mut Self {
        let long = self.long(id);
        if let Some(value) = value {
            let mut arg = OsString::from(format!("{long}="));
            arg.push(value);
            self.out.push(arg);
        }
        self
    }

    /// The positional values of the field `id`, after `--` (nothing after
    /// them is read as a flag): the last thing on a command line.
    pub fn positional<T: Display>(&mut self, id: &str, values: &[T]) -> &mut Self {
        let arg = self.arg(id);
        assert!(arg.is_positional(), "the field {id:?} is not positional");
        if !values.is_empty() {
            self.out.push("--".into());
            self.out
                .extend(values.iter().map(|value| value.to_string().into()));
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser, Debug)]
    struct Program {
        #[command(flatten)]
        net: NetArgs,
        #[command(flatten)]
        common: ipc_cli::Common,
        #[command(subcommand)]
        role: Option<Role>,
    }

    #[derive(clap::Subcommand, Debug, PartialEq)]
    enum Role {
        Work {
            #[arg(long)]
            per_pass: u64,
            #[arg(long, allow_hyphen_values = true)]
            name: String,
            #[arg(allow_negative_numbers = true)]
            numbers: Vec<i64>,
        },
    }

    #[test]
    fn a_rendered_line_parses_back_to_the_same_values() {
        let net = NetArgs {
            server: Some("nats://127.0.0.1:4222".parse().unwrap()),
            run: Some("p1-0".parse().unwrap()),
        };
        let role = Role::Work {
            per_pass: 3,
            name: "-p 1".into(),
            numbers: vec![-4, 7],
        };
        let Role::Work {
            per_pass,
            name,
            numbers,
        } = &role;
        let line = net.command_line().then(common_line(true, None)).then(
            CommandLine::new().subcommand::<Role>("work", |f| {
                f.value("per_pass", Some(per_pass))
                    .value("name", Some(name))
                    .positional("numbers", numbers);
            }),
        );
        assert_eq!(
            line.to_strings(),
            [
                "--server=nats://127.0.0.1:4222",
                "--run=p1-0",
                "--fast",
                "work",
                "--per-pass=3",
                "--name=-p 1",
                "--",
                "-4",
                "7"
            ]
        );
        let parsed =
            Program::try_parse_from(std::iter::once("program".into()).chain(line.args().to_vec()))
                .unwrap();
        assert_eq!(parsed.net, net);
        assert!(parsed.common.fast);
        assert_eq!(parsed.role, Some(role));
    }

    #[test]
    fn run_ids_make_subjects() {
        let id = RunId::fresh();
        assert!(id.subject("ready").as_str().starts_with("ipc-lab.run.p"));
        assert_eq!(id.to_string().parse::<RunId>().unwrap(), id);
        assert!("a.b".parse::<RunId>().is_err());
        assert!("".parse::<RunId>().is_err());
    }

    #[test]
    #[should_panic(expected = "no flag for the field \"nothing\"")]
    fn a_field_without_a_flag_is_a_mistake_of_the_program() {
        let _ = CommandLine::new().flags::<NetArgs>(|f| {
            f.flag("nothing", true);
        });
    }
}
