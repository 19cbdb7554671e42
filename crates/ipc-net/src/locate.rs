//! Found at run time: the `nats-server` a program starts, and the ipc-lab
//! workspace whose script installs it.
//!
//! Nothing here is a path compiled into the program. A binary built in
//! one checkout may run from another (two checkouts sharing one target
//! directory, a binary copied elsewhere): it must use the server of the
//! place it runs in. So [`find_nats_server`] looks, in order, at
//!
//! 1. `$IPC_LAB_NATS_SERVER` ([`ENV_VAR`]), when it is set;
//! 2. `.venv/bin/nats-server` ([`VENV_SERVER`], what
//!    `scripts/install-nats.sh` installs) in the current directory and
//!    every directory above it;
//! 3. the same in the directory of this program's binary and every
//!    directory above it (`target/debug/exp1-mom` is inside its
//!    checkout);
//! 4. `nats-server` in every directory of `PATH`;
//!
//! and when none is there its error lists what it looked at and how to
//! install one ([`install_command`], the script of the workspace found the
//! same way).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::error::{Error, Result};

/// The environment variable that names the `nats-server` binary to use,
/// before any other place is looked at.
pub const ENV_VAR: &str = "IPC_LAB_NATS_SERVER";

/// The oldest `nats-server` the experiments work with (the key-value API
/// of async-nats fails on 2.9 with `data did not match any variant of
/// untagged enum Response`).
pub const MIN_VERSION: (u32, u32) = (2, 10);

/// Where a workspace has its own `nats-server`, from its root.
pub const VENV_SERVER: &str = ".venv/bin/nats-server";

/// The script that installs it, from a workspace's root.
pub const INSTALL_SCRIPT: &str = "scripts/install-nats.sh";

/// Where a search starts, in order: the current directory, then the
/// directory of this program's binary; each with how it is named in an
/// error, `None` when it cannot be known.
fn starts() -> [(&'static str, Option<PathBuf>); 2] {
    [
        ("the current directory", std::env::current_dir().ok()),
        (
            "the directory of this program",
            std::env::current_exe()
                .ok()
                .and_then(|exe| exe.parent().map(Path::to_path_buf)),
        ),
    ]
}

/// Finds the `nats-server` to start, in the order of the
/// [module](self)'s list.
///
/// # Errors
/// [`Error::ServerNotFound`] listing where it looked, with the install
/// command; [`Error::Launch`] when the binary found is older than
/// [`MIN_VERSION`] or `$IPC_LAB_NATS_SERVER` names no executable.
pub fn find_nats_server() -> Result<PathBuf> {
    let mut tried = Vec::new();
    match std::env::var_os(ENV_VAR) {
        Some(path) if !path.is_empty() => {
            let path = PathBuf::from(path);
            if !is_executable(&path) {
                return Err(Error::Launch(format!(
                    "${ENV_VAR} is {}, which is not an executable file",
                    path.display()
                )));
            }
            return checked_version(path);
        }
        _ => tried.push(format!("${ENV_VAR} (not set)")),
    }
    for (start, dir) in starts() {
        let Some(dir) = dir else {
            tried.push(format!("{start} (unknown)"));
            continue;
        };
        if let Some(found) = dir
            .ancestors()
            .map(|above| above.join(VENV_SERVER))
            .find(|candidate| is_executable(candidate))
        {
            return checked_version(found);
        }
        tried.push(format!(
            "{VENV_SERVER} in {} and every directory above it",
            dir.display()
        ));
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join("nats-server");
            if is_executable(&candidate) {
                return checked_version(candidate);
            }
        }
    }
    tried.push("nats-server in every directory of PATH".into());
    Err(Error::ServerNotFound {
        tried,
        install: install_command(),
    })
}

/// The ipc-lab workspace this program runs in: the current directory or
/// the nearest one above it that holds [`INSTALL_SCRIPT`], else the
/// directory of this program's binary or the nearest one above it that
/// does; `None` outside any.
pub fn find_workspace() -> Option<PathBuf> {
    starts().into_iter().find_map(|(_, dir)| {
        dir?.ancestors()
            .find(|above| above.join(INSTALL_SCRIPT).is_file())
            .map(Path::to_path_buf)
    })
}

/// The command that installs `nats-server` (and `nats-py`): the script of
/// the workspace this program runs in ([`find_workspace`]), or its name
/// in words outside any.
pub fn install_command() -> String {
    match find_workspace() {
        Some(workspace) => workspace.join(INSTALL_SCRIPT).display().to_string(),
        None => format!("{INSTALL_SCRIPT} (in an ipc-lab checkout)"),
    }
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// `path` if its `--version` is at least [`MIN_VERSION`].
fn checked_version(path: PathBuf) -> Result<PathBuf> {
    let output = Command::new(&path)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Error::io(format!("running {} --version", path.display()), e))?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    match parse_version(&text) {
        Some(version) if version >= MIN_VERSION => Ok(path),
        Some((major, minor)) => Err(Error::Launch(format!(
            "{} is version {major}.{minor}, older than the {}.{} these programs need; \
             install a newer one with: {} (or point ${ENV_VAR} at one)",
            path.display(),
            MIN_VERSION.0,
            MIN_VERSION.1,
            install_command()
        ))),
        None => Err(Error::Launch(format!(
            "{} --version printed {:?}, not a nats-server version",
            path.display(),
            text.trim()
        ))),
    }
}

/// `(major, minor)` from `nats-server: v2.15.1`.
fn parse_version(text: &str) -> Option<(u32, u32)> {
    let start = text.find(" v")? + 2;
    let mut parts = text[start..].split(['.', '-', '\n', ' ']);
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_read_from_the_banner() {
        assert_eq!(parse_version("nats-server: v2.15.1\n"), Some((2, 15)));
        assert_eq!(parse_version("nats-server: v2.9.10"), Some((2, 9)));
        assert_eq!(parse_version("something else"), None);
        assert!((2, 9) < MIN_VERSION && (2, 15) >= MIN_VERSION);
    }

    #[test]
    fn the_workspace_is_found_from_where_the_tests_run() {
        // cargo runs the tests in the crate's directory, inside the
        // workspace: found by going up from there.
        let workspace = find_workspace().expect("a workspace above the current directory");
        assert!(
            workspace.join("Cargo.toml").is_file(),
            "{}",
            workspace.display()
        );
        assert!(install_command().ends_with(INSTALL_SCRIPT));
    }
}
