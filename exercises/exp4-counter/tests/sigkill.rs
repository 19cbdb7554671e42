//! A run that no program can clean up after (SIGKILL to every process, or
//! to the parent alone) leaves at most its own prefixed segment, which
//! `scripts/clean.sh` removes: but never while a live process still uses
//! it, or while the process whose pid is in its name lives.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use ipc_testkit::{Pid, Running, Sig, children_of, own_process_group, run, survivors};

const BIN: &str = env!("CARGO_BIN_EXE_exp4-counter");
const CLEAN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/clean.sh");
const WAIT: Duration = Duration::from_secs(30);

/// Held by each test: the first one compares all of /dev/shm before and
/// after, which the others' segments would disturb.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn one_at_a_time() -> MutexGuard<'static, ()> {
    ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Every entry of /dev/shm, ours or not.
fn dev_shm() -> BTreeSet<String> {
    std::fs::read_dir("/dev/shm")
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn a_sigkilled_run_leaves_only_its_prefixed_segment_and_clean_sh_removes_it() {
    let _serial = one_at_a_time();
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

#[test]
fn a_parent_killed_alone_leaves_children_that_end_and_a_segment_clean_sh_removes() {
    let _serial = one_at_a_time();
    // The default, unique name: ipc-lab-<parent's pid>-<n>-counter.
    let mut command = Command::new(BIN);
    command.args(["--fast", "--ticks", "1000000"]);
    let mut running = Running::start(command, false);
    running.wait_for_lines(2, WAIT, |l| l.starts_with("Process-1:"));
    let children = running.wait_for_children(2, WAIT);
    let prefix = format!("ipc-lab-{}-", running.pid());
    let mine: Vec<String> = dev_shm()
        .into_iter()
        .filter(|n| n.starts_with(&prefix))
        .collect();
    assert_eq!(mine.len(), 1, "{mine:?}");
    let segment = &mine[0];
    let path = format!("/dev/shm/{segment}");

    // The children notice within the deadline (they get SIGTERM when their
    // parent dies) and end in order; nobody is left to unlink the segment.
    let run = running.kill_alone(&children);
    assert_eq!(run.code(), None, "ended by SIGKILL\n{run}");
    for line in ["Process-1 Terminated", "Process-2 Terminated"] {
        assert!(run.stdout_lines().contains(&line), "{line:?}\n{run}");
    }
    assert!(!run.stdout.contains("Processes Terminated !"), "{run}");
    assert!(Path::new(&path).exists(), "{run}");

    let cleaned = run_clean(segment);
    assert!(
        cleaned
            .stdout
            .contains(&format!("removed: shared memory {path}")),
        "{cleaned}"
    );
    assert!(!Path::new(&path).exists(), "{cleaned}");
}

fn run_clean(filter: &str) -> ipc_testkit::Run {
    let cleaned = run(CLEAN, &[filter]);
    cleaned.assert_code(0);
    cleaned
}

/// A file in /dev/shm, removed when dropped if still there.
struct ShmFile(String);

impl ShmFile {
    fn new(name: String) -> ShmFile {
        std::fs::write(format!("/dev/shm/{name}"), "left").unwrap();
        ShmFile(name)
    }

    fn exists(&self) -> bool {
        Path::new(&format!("/dev/shm/{}", self.0)).exists()
    }
}

impl Drop for ShmFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(format!("/dev/shm/{}", self.0));
    }
}

#[test]
fn clean_sh_keeps_what_a_live_pid_names_and_removes_what_a_dead_one_does() {
    let _serial = one_at_a_time();
    // Nobody maps either file: only the pid in the name tells them apart.
    let me = std::process::id();
    let alive = ShmFile::new(format!("ipc-lab-{me}-0-{me}-clean-check"));
    let mut gone = Command::new("true").spawn().unwrap();
    let dead_pid = Pid::from_raw(gone.id() as i32);
    gone.wait().unwrap();
    let dead = ShmFile::new(format!("ipc-lab-{dead_pid}-0-{me}-clean-check"));

    let cleaned = run_clean(&format!("{me}-clean-check"));
    assert!(
        cleaned
            .stdout
            .contains(&format!("in use, kept: shared memory /dev/shm/{}", alive.0)),
        "{cleaned}"
    );
    assert!(alive.exists(), "{cleaned}");
    assert!(
        cleaned
            .stdout
            .contains(&format!("removed: shared memory /dev/shm/{}", dead.0)),
        "{cleaned}"
    );
    assert!(!dead.exists(), "{cleaned}");
}
