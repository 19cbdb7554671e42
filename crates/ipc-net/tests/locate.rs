//! `nats-server` and the workspace are found from where the program runs,
//! never from where it was built: a run in another checkout uses that
//! checkout's server and names its install script.
//!
//! Each scenario runs this very binary again as the "program" (its role,
//! selected by [`ROLE`]), in a directory and an environment of the
//! scenario's choosing, and reads what it found.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use ipc_net::locate::{
    ENV_VAR, INSTALL_SCRIPT, VENV_SERVER, find_nats_server, find_workspace, install_command,
};
use ipc_testkit::TempDir;

/// Set in the environment of this binary run as the program.
const ROLE: &str = "IPC_NET_LOCATE_ROLE";

/// The program's side: prints what it found, one line each.
fn role() -> ! {
    match find_nats_server() {
        Ok(path) => println!("server {}", path.display()),
        Err(error) => println!("error {error}"),
    }
    println!(
        "workspace {}",
        find_workspace().map_or("none".into(), |w| w.display().to_string())
    );
    println!("install {}", install_command());
    std::process::exit(0)
}

/// Runs the program in `dir` with `server` as `$IPC_LAB_NATS_SERVER`
/// (unset for `None`); returns its lines.
fn found(dir: &Path, server: Option<&Path>) -> Vec<String> {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command.current_dir(dir).env(ROLE, "1").env_remove(ENV_VAR);
    if let Some(server) = server {
        command.env(ENV_VAR, server);
    }
    let output = command.output().unwrap();
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// A checkout of its own in `root`: a `nats-server` that says it is 2.15,
/// and the install script.
fn fake_workspace(root: &Path) -> PathBuf {
    let server = root.join(VENV_SERVER);
    std::fs::create_dir_all(server.parent().unwrap()).unwrap();
    std::fs::write(&server, "#!/bin/sh\necho 'nats-server: v2.15.1'\n").unwrap();
    std::fs::set_permissions(&server, std::fs::Permissions::from_mode(0o755)).unwrap();
    let script = root.join(INSTALL_SCRIPT);
    std::fs::create_dir_all(script.parent().unwrap()).unwrap();
    std::fs::write(&script, "#!/bin/sh\n").unwrap();
    server
}

fn the_current_directory_and_its_parents_come_first() {
    let tmp = TempDir::new("locate-cwd");
    let server = fake_workspace(tmp.path());
    let deep = tmp.join("exercises/exp1-mom");
    std::fs::create_dir_all(&deep).unwrap();
    assert_eq!(
        found(&deep, None),
        [
            format!("server {}", server.display()),
            format!("workspace {}", tmp.path().display()),
            format!("install {}", tmp.join(INSTALL_SCRIPT).display()),
        ]
    );
}

fn then_the_program_s_own_location_and_its_parents() {
    // Nothing above this directory: the program's own checkout serves.
    let tmp = TempDir::new("locate-exe");
    let exe = std::env::current_exe().unwrap();
    let checkout = exe
        .ancestors()
        .find(|dir| dir.join(INSTALL_SCRIPT).is_file())
        .expect("the test binary lives inside its checkout");
    let lines = found(tmp.path(), None);
    assert_eq!(lines[1], format!("workspace {}", checkout.display()));
    if checkout.join(VENV_SERVER).is_file() {
        assert_eq!(
            lines[0],
            format!("server {}", checkout.join(VENV_SERVER).display())
        );
    }
}

fn the_environment_variable_wins() {
    let tmp = TempDir::new("locate-env");
    let server = fake_workspace(tmp.path());
    let elsewhere = TempDir::new("locate-env-cwd");
    let lines = found(elsewhere.path(), Some(&server));
    assert_eq!(lines[0], format!("server {}", server.display()));
    let lines = found(elsewhere.path(), Some(&tmp.join("no-such-server")));
    assert!(lines[0].contains("not an executable file"), "{lines:?}");
}

fn main() {
    let scenarios = ipc_testkit::scenarios![
        the_current_directory_and_its_parents_come_first,
        then_the_program_s_own_location_and_its_parents,
        the_environment_variable_wins,
    ];
    ipc_testkit::scenarios::main_or_role(ROLE, role, &scenarios);
}
