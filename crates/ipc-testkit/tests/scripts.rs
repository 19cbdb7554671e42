//! Tests of the scripts in `scripts/` that are not about one experiment.

use std::process::Command;
use std::time::Duration;

use ipc_testkit::{Running, Sig, TempDir, own_process_group, run_command};

const LEFTOVERS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/leftovers.sh");
const WAIT: Duration = Duration::from_secs(30);

#[test]
fn leftovers_sh_blames_only_the_nats_servers_its_runs_started() {
    // Two stand-ins whose command lines look like private nats-servers
    // (`sh -c 'sleep 60' nats-server --store_dir DIR/store … ipc-lab-private-N`):
    // one in a directory the audited run created, one in another
    // program's. Only the first is the run's leftover.
    let dir = TempDir::new("audit-nats");
    let audit = dir.join("audit.log");
    let ours = dir.join("ipc-lab-nats-1-ours-0");
    let theirs = dir.join("ipc-lab-nats-2-theirs-0");
    for d in [&ours, &theirs] {
        std::fs::create_dir(d).unwrap();
    }
    let server = |store: &std::path::Path| {
        let mut command = Command::new("sh");
        command
            .args(["-c", "sleep 60", "nats-server", "--store_dir"])
            .arg(store.join("store"))
            .args(["--server_name", "ipc-lab-private-0"]);
        own_process_group(&mut command);
        Running::start(command, false)
    };
    let (mine, foreign) = (server(&ours), server(&theirs));
    std::fs::write(&audit, format!("1 created dir 0 0 {}\n", ours.display())).unwrap();
    let mut command = Command::new("bash");
    command.arg(LEFTOVERS).arg("--audit").arg(&audit);
    let found = run_command(command, None, WAIT);
    let (mine_pid, foreign_pid) = (mine.pid(), foreign.pid());
    for stand_in in [mine, foreign] {
        // The group: sh and its sleep, which holds the output pipes.
        stand_in.signal_group(Sig::SIGKILL);
        stand_in.finish(WAIT);
    }
    found
        .assert_code(1)
        .assert_stdout_contains(&[&format!("nats-server: pid {mine_pid} ")]);
    assert!(
        !found.stdout.contains(&format!("pid {foreign_pid} ")),
        "{found}"
    );
    assert!(!found.stdout.contains("theirs"), "{found}");
}
