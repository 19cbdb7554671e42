//! A run that no program can clean up after (SIGKILL to every process)
//! leaves at most its own prefixed segment, which `scripts/clean.sh`
//! removes: but never while a live process still uses it.

use std::collections::BTreeSet;
use std::process::Command;
use std::time::Duration;

use ipc_testkit::{Running, Sig, children_of, own_process_group, run, survivors};

const BIN: &str = env!("CARGO_BIN_EXE_exp4-counter");
const CLEAN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/clean.sh");
const WAIT: Duration = Duration::from_secs(30);

/// Every entry of /dev/shm, ours or not.
fn dev_shm() -> BTreeSet<String> {
    std::fs::read_dir("/dev/shm")
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn a_sigkilled_run_leaves_only_its_prefixed_segment_and_clean_sh_removes_it() {
    let name = format!("sigkill-test-{}", std::process::id());
    let segment = format!("ipc-lab-{name}");
    let path = format!("/dev/shm/{segment}");
    let before = dev_shm();

    let mut command = Command::new(BIN);
    command.args(["--fast", "--name", &name]);
    own_process_group(&mut command);
    let mut running = Running::start(command, false);
    running.wait_for_lines(3, WAIT, |line| line.starts_with("Process-2:"));

    // While the program runs, clean.sh must leave its segment alone.
    let kept = run(CLEAN, &[&segment]);
    kept.assert_code(0);
    assert!(
        kept.stdout
            .contains(&format!("in use, kept: shared memory {path}")),
        "{kept}"
    );
    assert!(std::path::Path::new(&path).exists(), "{kept}");

    let children = children_of(running.pid());
    running.signal_group(Sig::SIGKILL);
    let killed = running.finish(WAIT);
    assert_eq!(killed.code(), None, "ended by SIGKILL\n{killed}");
    for _ in 0..100 {
        if survivors(&children).is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(survivors(&children), Vec::<String>::new());

    // Nothing can unlink after SIGKILL: the segment stays, and it is the
    // only new entry, carrying the prefix.
    let left: Vec<String> = dev_shm().difference(&before).cloned().collect();
    assert_eq!(left, std::slice::from_ref(&segment), "{killed}");

    let cleaned = run(CLEAN, &[&segment]);
    cleaned.assert_code(0);
    assert!(
        cleaned
            .stdout
            .contains(&format!("removed: shared memory {path}")),
        "{cleaned}"
    );
    assert!(!std::path::Path::new(&path).exists(), "{cleaned}");
}
