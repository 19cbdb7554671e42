//! SIGKILL, the one ending no program can clean up after itself: what the
//! run's tracker and the next ipc-lab program do instead (see
//! `ipc_core::owner`), without anybody running `scripts/clean.sh`. And the
//! liveness test they use, which neither pid reuse nor pid namespaces can
//! fool.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use ipc_testkit::{
    CLEAN_SH, Pid, Running, Sig, TRACKER, children_of, clean_sh_unavailable, command_of,
    eventually, every_child_of, one_at_a_time, own_process_group, run, running_as_root, signal_pid,
    skip_unless, survivors,
};

const BIN: &str = env!("CARGO_BIN_EXE_exp4-counter");
const WAIT: Duration = Duration::from_secs(30);

fn shm(name: &str) -> PathBuf {
    Path::new("/dev/shm").join(name)
}

/// The objects in /dev/shm whose name starts with `prefix`.
fn shm_starting(prefix: &str) -> Vec<PathBuf> {
    std::fs::read_dir("/dev/shm")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
        .collect()
}

/// The leases in /dev/shm whose creator had pid `pid`.
fn leases_of(pid: Pid) -> Vec<PathBuf> {
    shm_starting(&format!("ipc-lab-run@{pid}-"))
}

/// The run's tracker among the children of `parent`.
fn tracker_of(parent: Pid) -> Option<Pid> {
    every_child_of(parent)
        .into_iter()
        .find(|&pid| command_of(pid).as_deref() == Some(TRACKER))
}

/// `exp4-counter --fast --name NAME` counting until stopped, in a process
/// group of its own, once it has printed.
fn counting(name: &str) -> Running {
    let mut command = Command::new(BIN);
    command.args(["--fast", "--ticks", "1000000", "--name", name]);
    own_process_group(&mut command);
    let mut running = Running::start(command, false);
    running.wait_for_lines(2, WAIT, |line| line.starts_with("Process-2:"));
    running
}

/// Kills the whole group of `running` and its tracker (in a session of its
/// own), as a machine that kills every process of a user would.
fn kill_everything(running: Running) {
    let parent = running.pid();
    let mut all = children_of(parent);
    let tracker = tracker_of(parent).expect("a run with a named segment has a tracker");
    signal_pid(tracker, Sig::SIGKILL);
    running.signal_group(Sig::SIGKILL);
    let killed = running.finish(WAIT);
    assert_eq!(killed.code(), None, "ended by SIGKILL\n{killed}");
    all.push(tracker);
    assert!(
        eventually(WAIT, || survivors(&all).is_empty()),
        "{:?} still there",
        survivors(&all)
    );
}

#[test]
fn a_parent_killed_alone_leaves_nothing_once_its_children_end() {
    let _serial = one_at_a_time();
    // The default, unique name: ipc-lab-<parent's pid>-<token>-0-counter.
    let mut command = Command::new(BIN);
    command.args(["--fast", "--ticks", "1000000"]);
    let mut running = Running::start(command, false);
    running.wait_for_lines(2, WAIT, |l| l.starts_with("Process-1:"));
    let children = running.wait_for_children(2, WAIT);
    let parent = running.pid();
    let segments = shm_starting(&format!("ipc-lab-{parent}-"));
    assert_eq!(segments.len(), 1, "{segments:?}");
    let leases = leases_of(parent);
    assert_eq!(leases.len(), 1, "one lease for the run: {leases:?}");

    // The children notice (they get SIGTERM when their parent dies) and end
    // in order; the parent never unlinks its segment, its tracker does.
    let run = running.kill_alone(&children);
    assert_eq!(run.code(), None, "ended by SIGKILL\n{run}");
    for line in ["Process-1 Terminated", "Process-2 Terminated"] {
        // The first line of the message is what a grade shows: say what
        // the children said on stderr (a child that failed names itself).
        assert!(
            run.stdout_lines().contains(&line),
            "no {line:?} line; stderr: {:?}\n{run}",
            run.stderr.trim()
        );
    }
    assert!(!run.stdout.contains("Processes Terminated !"), "{run}");
    assert!(
        eventually(WAIT, || !segments[0].exists() && !leases[0].exists()),
        "{segments:?} or {leases:?} left\n{run}"
    );
}

#[test]
fn a_whole_group_killed_leaves_nothing_its_tracker_survives_it() {
    let _serial = one_at_a_time();
    let name = format!("t{}-group", std::process::id());
    let running = counting(&name);
    let segment = shm(&format!("ipc-lab-{name}"));
    assert!(segment.exists());
    let parent = running.pid();
    let tracker = tracker_of(parent).expect("a tracker");
    running.signal_group(Sig::SIGKILL);
    let killed = running.finish(WAIT);
    assert_eq!(killed.code(), None, "ended by SIGKILL\n{killed}");
    // The tracker lives in a session of its own: the group's SIGKILL does
    // not reach it, and once every process of the run has gone it removes
    // what they left, then itself.
    assert!(
        eventually(WAIT, || !segment.exists() && leases_of(parent).is_empty()),
        "{} left\n{killed}",
        segment.display()
    );
    assert!(eventually(WAIT, || survivors(&[tracker]).is_empty()));
}

#[test]
fn the_next_program_sweeps_a_dead_run_and_leaves_a_live_one_alone() {
    let _serial = one_at_a_time();
    let me = std::process::id();
    let dead_name = format!("t{me}-dead");
    let live_name = format!("t{me}-live");
    let dead = counting(&dead_name);
    let dead_parent = dead.pid();
    // Everything of the first run dies at once, its tracker too: nobody is
    // left to remove its segment.
    kill_everything(dead);
    let live = counting(&live_name);

    // Any ipc-lab program that creates a named object sweeps first.
    run(BIN, &["--fast", "--ticks", "2"]).assert_code(0);
    assert!(
        !shm(&format!("ipc-lab-{dead_name}")).exists(),
        "the dead run's segment was swept"
    );
    assert!(leases_of(dead_parent).is_empty(), "and its lease");
    assert!(
        shm(&format!("ipc-lab-{live_name}")).exists(),
        "a live run's segment stays"
    );

    // clean.sh uses the same test: it keeps the live run's segment.
    match clean_sh_unavailable() {
        Some(why) => println!("skipped, the part of clean.sh: {why}"),
        None => {
            let kept = run(CLEAN_SH, &[]);
            kept.assert_code(0).assert_stdout_contains(&[&format!(
                "in use, kept: shared memory /dev/shm/ipc-lab-{live_name} (its run is alive"
            )]);
            assert!(shm(&format!("ipc-lab-{live_name}")).exists(), "{kept}");
        }
    }
    live.signal(Sig::SIGTERM);
    live.finish(WAIT).assert_code(0);
    assert!(!shm(&format!("ipc-lab-{live_name}")).exists());
}

/// A lease written by hand, as a run of pid `pid` would have left it, for
/// a segment made by hand; both removed when dropped if still there.
struct Crafted {
    lease: PathBuf,
    segment: PathBuf,
}

impl Crafted {
    fn new(pid: u32, tag: &str) -> Crafted {
        let segment = shm(&format!("ipc-lab-t{}-{tag}", std::process::id()));
        std::fs::write(&segment, [0_u8; 4]).unwrap();
        std::fs::set_permissions(
            &segment,
            std::os::unix::fs::PermissionsExt::from_mode(0o600),
        )
        .unwrap();
        let meta = std::fs::metadata(&segment).unwrap();
        let name = segment.file_name().unwrap().to_string_lossy().into_owned();
        let lease = shm(&format!("ipc-lab-run@{pid}-{tag}"));
        std::fs::write(
            &lease,
            format!(
                "ipc-lab lease 1 pid={pid} start=1 uid={} program=crafted\n\
                 + shm 1 {name}\n= shm {} {} {name}\n",
                meta.uid(),
                meta.dev(),
                meta.ino()
            ),
        )
        .unwrap();
        Crafted { lease, segment }
    }
}

impl Drop for Crafted {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.lease);
        let _ = std::fs::remove_file(&self.segment);
    }
}

#[test]
fn pid_reuse_cannot_fool_the_sweeper() {
    let _serial = one_at_a_time();
    // The lease names a pid that is alive now (this very test): a sweeper
    // trusting pids would keep the segment for ever. Nobody holds the
    // lease's lock, so its run is dead, whoever has that pid today.
    let crafted = Crafted::new(std::process::id(), "reused");
    assert!(crafted.segment.exists() && crafted.lease.exists());
    run(BIN, &["--fast", "--ticks", "2"]).assert_code(0);
    assert!(!crafted.segment.exists(), "swept despite a live pid");
    assert!(!crafted.lease.exists());

    // Pid 1 is always alive: no leftover of a process that was pid 1 in
    // its namespace stays for ever either.
    let init = Crafted::new(1, "init");
    run(BIN, &["--fast", "--ticks", "2"]).assert_code(0);
    assert!(!init.segment.exists() && !init.lease.exists());
}

#[test]
fn a_sweep_never_removes_what_the_lease_did_not_make() {
    let _serial = one_at_a_time();
    // The lease lists a segment, but the object at that name now is
    // another one (another inode): made since by somebody else. It stays.
    let crafted = Crafted::new(999_999, "replaced");
    std::fs::remove_file(&crafted.segment).unwrap();
    std::fs::write(&crafted.segment, b"new one").unwrap();
    run(BIN, &["--fast", "--ticks", "2"]).assert_code(0);
    assert!(!crafted.lease.exists(), "the dead lease is gone");
    assert_eq!(std::fs::read(&crafted.segment).unwrap(), b"new one");
}

#[test]
fn two_runs_in_separate_pid_namespaces_do_not_collide() {
    let _serial = one_at_a_time();
    let works = Command::new("unshare")
        .args(["-pf", "true"])
        .output()
        .is_ok_and(|out| out.status.success());
    skip_unless!(
        works,
        "this machine does not allow new pid namespaces (unshare -pf)"
    );
    // Both programs are pid 1 in their namespaces, at the same time, on the
    // same /dev/shm: their unique names differ by a random token.
    let start = || {
        let mut command = Command::new("unshare");
        command.args(["-pf", BIN, "--fast", "--ticks", "400"]);
        Running::start(command, false)
    };
    let (a, b) = (start(), start());
    let (a, b) = (a.finish(WAIT), b.finish(WAIT));
    for run in [&a, &b] {
        run.assert_code(0).assert_no_panic();
        assert!(run.stdout.contains("Processes Terminated !"), "{run}");
    }
    if running_as_root() {
        // Inside a namespace the lease records pid 1: nothing of it stays.
        assert!(leases_of(Pid::from_raw(1)).is_empty());
    }
}
