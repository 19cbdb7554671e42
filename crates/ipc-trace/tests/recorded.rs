//! The recorder and the writers, between real processes: a run of several processes that
//! talk over a real pipe and queue and take turns on a real `Lock` is
//! recorded, written as JSON and SVG, and checked for causal consistency
//! by ipc-testkit's checker; a tampered trace is rejected; a full log
//! drops events and says so; a child killed while holding the lock ends
//! its lane at its parent's join.
//!
//! The mechanisms record by themselves: `Process` (spawn, exit, join),
//! the pipe (send, receive), `Lock` (wait, acquire, release), `pace::sleep`,
//! the queue (put and get, numbered by their place in the ring), shared
//! data (every read and write of a `Value`, an `Array` and their raw
//! twins) and semaphores (wait, acquire, release).
//!
//! A `harness = false` target: single-threaded, so the scenarios may fork
//! with `Process::spawn` (see `ipc_testkit::scenarios`).

use std::time::Duration;

use ipc_core::mqueue::MessageQueue;
use ipc_core::trace;
use ipc_core::{
    Array, Error, IpcName, Lock, LockError, Process, Queue, RawValue, Semaphore, Value, pace, pipe,
};
use ipc_testkit::TempDir;
use ipc_testkit::trace::{Rule, assert_svg_matches, parse_json};
use ipc_trace::Trace;
use nix::sys::signal::Signal;

const MESSAGES: u64 = 5;
const WORKERS: i64 = 2;
const ROUNDS: i64 = 5;

/// Joins a child (`Process::join` records the join).
fn join(child: &mut Process) -> i32 {
    child.join().unwrap().code()
}

/// A child `name` that takes `lock` and, holding it, sends `message` and
/// runs `then`; returned once the message arrived, so that the child holds
/// the lock, or has let it go, from then on.
fn lock_holder<T: ipc_core::message::Message>(
    name: &str,
    lock: &Lock,
    message: T,
    then: fn(),
) -> Process {
    let (mut rx, mut tx) = pipe::simplex::<T>().unwrap();
    let child = Process::spawn(name, || {
        let _held = lock.lock().map_err(Error::from)?;
        tx.send(&message)?;
        then();
        Ok::<(), Error>(())
    })
    .unwrap();
    tx.close();
    rx.recv().unwrap();
    child
}

fn read(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn processes_a_pipe_a_queue_and_a_lock_make_a_consistent_trace() {
    let dir = TempDir::new("trace");
    let log = trace::start("main", 4096).unwrap();
    let (mut rx, mut tx) = pipe::simplex::<String>().unwrap();
    let queue = Queue::<i64>::new().unwrap();
    let lock = Lock::new().unwrap();

    let mut children = vec![
        Process::spawn("writer", || {
            rx.close();
            for i in 0..MESSAGES {
                tx.send(&format!("message {i}"))?;
                pace::sleep(Duration::from_micros(200))?;
            }
            Ok::<(), Error>(())
        })
        .unwrap(),
    ];
    for w in 0..WORKERS {
        children.push(
            Process::spawn(format!("worker{w}"), || {
                for round in 0..ROUNDS {
                    let guard = lock.lock().map_err(Error::from)?;
                    trace::mark(format_args!("round {round}"));
                    queue.put(w * 100 + round)?;
                    drop(guard);
                }
                Ok::<(), Error>(())
            })
            .unwrap(),
        );
    }
    tx.close();
    for _ in 0..MESSAGES {
        let text = rx.recv().unwrap();
        trace::print(&text);
    }
    for _ in 0..WORKERS * ROUNDS {
        queue.get_timeout(Duration::from_secs(30)).unwrap();
    }
    for child in &mut children {
        assert_eq!(join(child), 0, "{}", child.name());
    }
    trace::exit(0);

    let (json, svg) = (dir.join("run.json"), dir.join("run.svg"));
    let written = ipc_trace::write(&log, &json).unwrap();
    assert_eq!(
        (written.format, written.dropped),
        (ipc_trace::Format::Json, 0)
    );
    ipc_trace::write(&log, &svg).unwrap();
    trace::stop();

    let text = read(&json);
    let parsed = parse_json(&text).unwrap();
    parsed.assert_consistent();
    let mut names: Vec<&str> = parsed.tracks.iter().map(|t| t.name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["main", "worker0", "worker1", "writer"]);
    let expected_messages = MESSAGES as usize + (WORKERS * ROUNDS) as usize;
    assert_eq!(parsed.of_kind("send").len(), expected_messages);
    assert_eq!(parsed.of_kind("recv").len(), expected_messages);
    assert_eq!(
        parsed.of_kind("lock_acquire").len(),
        (WORKERS * ROUNDS) as usize
    );
    let flows = parsed.raw.iter().filter(|e| e["flow_out"] == true).count();
    assert_eq!(flows, expected_messages, "one arrow per message");
    let pids: Vec<i64> = children
        .iter()
        .map(|c| i64::from(c.pid().as_raw()))
        .collect();
    for pid in pids {
        assert!(parsed.track_of(0, pid).is_some(), "no track for pid {pid}");
    }
    assert_svg_matches(&read(&svg), &parsed);
    // The JSON keeps everything: reading it back gives the same trace.
    assert_eq!(Trace::from_json(&text).unwrap(), Trace::of(&log));
}

/// Three processes send the same bytes on one message queue, two take
/// them: whoever takes the n-th number of a content, its n-th receive
/// comes after its n-th send in the trace. The queue holds two messages,
/// so the senders block and take turns with the receivers all along.
fn many_senders_and_receivers_of_one_content_pair_causally() {
    const SENDERS: usize = 3;
    const RECEIVERS: usize = 2;
    const EACH: usize = 300;
    let dir = TempDir::new("trace-many");
    let log = trace::start("main", 4096).unwrap();
    let name = IpcName::unique("scenario-trace-many").unwrap();
    let mut queue = MessageQueue::create(&name, 2, 8).unwrap();
    let mut children = Vec::new();
    for s in 0..SENDERS {
        children.push(
            Process::spawn(format!("sender{s}"), || {
                (0..EACH).try_for_each(|_| queue.send(b"same", 0))
            })
            .unwrap(),
        );
    }
    for r in 0..RECEIVERS {
        children.push(
            Process::spawn(format!("receiver{r}"), || {
                let mut buf = [0; 8];
                (0..SENDERS * EACH / RECEIVERS).try_for_each(|_| queue.receive(&mut buf).map(drop))
            })
            .unwrap(),
        );
    }
    for child in &mut children {
        assert_eq!(join(child), 0, "{}", child.name());
    }
    queue.remove().unwrap();
    trace::exit(0);
    let json = dir.join("run.json");
    assert_eq!(ipc_trace::write(&log, &json).unwrap().dropped, 0);
    trace::stop();
    let parsed = parse_json(&read(&json)).unwrap();
    parsed.assert_consistent();
    assert_eq!(parsed.of_kind("send").len(), SENDERS * EACH);
    assert_eq!(parsed.of_kind("recv").len(), SENDERS * EACH);
}

/// A child squares a shared `Array` under its lock, adds to a `Value`,
/// sets a `RawValue` and releases a semaphore the parent waits on; the
/// parent then reads them. The data and the semaphore record themselves:
/// every element the parent read was written before by the child, inside
/// one hold of the array's own lock, which the trace names as its guard.
fn shared_data_and_semaphores_record_themselves() {
    let dir = TempDir::new("trace-data");
    let log = trace::start("main", 4096).unwrap();
    let squares = Array::<i32>::from_slice(&[1, 2, 3]).unwrap();
    let total = Value::new(0_i64).unwrap();
    let flag = RawValue::new(0_u32).unwrap();
    let done = Semaphore::new(0).unwrap();
    let mut child = Process::spawn("child", || {
        {
            let a = squares.lock().map_err(Error::from)?;
            for i in 0..a.len() {
                a.set(i, a.get(i) * a.get(i));
            }
        }
        total.update(|t| t + 14)?;
        flag.set(7);
        done.release()
    })
    .unwrap();
    done.acquire_timeout(Duration::from_secs(30)).unwrap();
    assert_eq!(squares.to_list().unwrap().to_string(), "[1, 4, 9]");
    assert_eq!((total.get().unwrap(), flag.get()), (14, 7));
    assert_eq!(join(&mut child), 0);
    trace::exit(0);
    let (json, svg) = (dir.join("run.json"), dir.join("run.svg"));
    assert_eq!(ipc_trace::write(&log, &json).unwrap().dropped, 0);
    ipc_trace::write(&log, &svg).unwrap();
    trace::stop();

    let text = read(&json);
    let parsed = parse_json(&text).unwrap();
    parsed.assert_consistent();
    assert_svg_matches(&read(&svg), &parsed);
    assert_eq!(Trace::from_json(&text).unwrap(), Trace::of(&log));
    let id_of = |label: &str| {
        let found: Vec<u64> = parsed
            .objects
            .iter()
            .filter(|(_, l)| l.as_str() == label)
            .map(|((_, id), _)| *id)
            .collect();
        assert_eq!(found.len(), 1, "{label}: {:?}", parsed.objects);
        found[0]
    };
    let (array, value, raw) = (id_of("array"), id_of("value"), id_of("raw value"));
    let semaphore = id_of("semaphore (initial value 0)");
    for guarded in [array, value] {
        let lock = parsed.guards[&(0, guarded)];
        assert_eq!(parsed.label(0, lock), Some("lock"));
    }
    assert!(
        !parsed.guards.contains_key(&(0, raw)),
        "a raw value has no lock"
    );
    let child_track = parsed
        .track_of(0, i64::from(child.pid().as_raw()))
        .unwrap()
        .id;
    let of = |kind: &str, object: u64| -> Vec<(u64, u64, Option<u64>, String)> {
        parsed
            .of_kind(kind)
            .into_iter()
            .filter(|e| e.arg_u("object") == Some(object) || e.arg_u("semaphore") == Some(object))
            .map(|e| (e.track, e.ns, e.arg_u("index"), e.text().to_owned()))
            .collect()
    };
    // The parent's writes of 1, 2, 3 (from_slice), then the child's squares.
    let writes = of("write", array);
    let texts: Vec<&str> = writes.iter().map(|w| w.3.as_str()).collect();
    assert_eq!(texts, ["1", "2", "3", "1", "4", "9"]);
    assert!(writes[3..].iter().all(|w| w.0 == child_track));
    let reads = of("read", array);
    let last = reads.last().unwrap();
    assert_eq!(
        (last.2, last.3.as_str()),
        (None, "[1, 4, 9]"),
        "to_list reads all"
    );
    assert!(
        last.1 > writes[5].1,
        "the parent's read comes after the child's write"
    );
    // The child's reads and writes of the array lie in one hold of its lock.
    let lock = parsed.guards[&(0, array)];
    let hold: Vec<u64> = parsed
        .events
        .iter()
        .filter(|e| e.track == child_track && e.arg_u("lock") == Some(lock))
        .map(|e| e.ns)
        .collect();
    assert_eq!(hold.len(), 2, "one acquire, one release");
    for access in reads.iter().chain(&writes).filter(|a| a.0 == child_track) {
        assert!(
            hold[0] <= access.1 && access.1 <= hold[1],
            "{access:?} outside {hold:?}"
        );
    }
    assert_eq!(of("write", value).last().unwrap().3, "14");
    assert_eq!(of("write", raw).last().unwrap().3, "7");
    let released = of("sem_release", semaphore);
    let acquired = of("sem_acquire", semaphore);
    assert_eq!((released.len(), acquired.len()), (1, 1));
    assert_eq!(released[0].0, child_track);
    assert!(
        acquired[0].1 >= released[0].1,
        "the acquire comes after the release"
    );
    assert_eq!(acquired[0].3, "0", "the value left");
}

fn a_tampered_trace_is_rejected_by_the_checker() {
    let dir = TempDir::new("tamper");
    let log = trace::start("main", 256).unwrap();
    let lock = Lock::new().unwrap();
    let mut child = lock_holder("sender", &lock, "hello".to_string(), || {});
    join(&mut child);
    drop(lock.lock().unwrap());
    trace::exit(0);
    let path = dir.join("run.json");
    ipc_trace::write(&log, &path).unwrap();
    trace::stop();
    let text = read(&path);
    parse_json(&text).unwrap().assert_consistent();

    let mut value: serde_json::Value = serde_json::from_str(&text).unwrap();
    let events = value["traceEvents"].as_array_mut().unwrap();
    let find = |events: &[serde_json::Value], kind: &str, nth: usize| {
        events
            .iter()
            .enumerate()
            .filter(|(_, e)| e["args"]["ipc"] == kind)
            .nth(nth)
            .map(|(i, _)| i)
            .unwrap()
    };
    // Move the receive to just before the send, and the parent's acquire
    // to just before the child's release.
    let (send, recv) = (find(events, "send", 0), find(events, "recv", 0));
    let early = events[send]["args"]["ns"].as_u64().unwrap() - 1;
    events[recv]["args"]["ns"] = early.into();
    events[recv]["ts"] = (early as f64 / 1000.0).into();
    let (release, acquire) = (
        find(events, "lock_release", 0),
        find(events, "lock_acquire", 1),
    );
    let early = events[release]["args"]["ns"].as_u64().unwrap() - 1;
    events[acquire]["args"]["ns"] = early.into();
    events[acquire]["ts"] = (early as f64 / 1000.0).into();
    let violations = parse_json(&value.to_string()).unwrap().violations();
    let rules: Vec<Rule> = violations.iter().map(|v| v.rule).collect();
    assert!(rules.contains(&Rule::ReceiveAfterSend), "{violations:#?}");
    assert!(
        rules.contains(&Rule::AcquireAfterRelease),
        "{violations:#?}"
    );
    let message = &violations
        .iter()
        .find(|v| v.rule == Rule::ReceiveAfterSend)
        .unwrap()
        .message;
    assert!(
        message.starts_with(&format!("traceEvents[{recv}] recv (main, pid ")),
        "{message}"
    );
    assert!(message.contains(&format!(
        "before its send traceEvents[{send}] send (sender, pid "
    )));
}

fn a_full_log_drops_events_and_says_so() {
    let dir = TempDir::new("full");
    let log = trace::start("main", 8).unwrap();
    let mut child = Process::spawn("marker", || {
        for i in 0..20 {
            trace::mark(format_args!("child {i}"));
        }
    })
    .unwrap();
    for i in 0..20 {
        trace::mark(format_args!("parent {i}"));
    }
    join(&mut child);
    trace::exit(0);
    // start, and per process: spawn, 20 marks, exit; plus the join.
    let recorded = 1 + 22 + 20 + 1 + 1;
    assert_eq!(log.len(), 8);
    assert_eq!(log.dropped(), recorded - 8);
    let (json, svg) = (dir.join("full.json"), dir.join("full.svg"));
    let written = ipc_trace::write(&log, &json).unwrap();
    assert_eq!((written.events, written.dropped), (8, recorded - 8));
    ipc_trace::write(&log, &svg).unwrap();
    trace::stop();
    let parsed = parse_json(&read(&json)).unwrap();
    assert_eq!(parsed.dropped, recorded - 8);
    let note = format!(
        "{} events dropped, the log was full (8 events)",
        recorded - 8
    );
    assert!(
        parsed.notes.iter().any(|n| n.contains(&note)),
        "{:?}",
        parsed.notes
    );
    parsed.assert_consistent();
    assert!(read(&svg).contains(&note), "the SVG says so too");
}

fn a_child_killed_holding_the_lock_ends_at_its_join() {
    let dir = TempDir::new("killed");
    let log = trace::start("main", 256).unwrap();
    let lock = Lock::new().unwrap();
    // Killed while it sleeps, holding the lock.
    let mut child = lock_holder("holder", &lock, 1_u8, || {
        std::thread::sleep(Duration::from_secs(60))
    });
    child.signal(Signal::SIGKILL).unwrap();
    assert_eq!(join(&mut child), -9);
    match lock.lock() {
        Err(LockError::OwnerDied(guard)) => {
            guard.make_consistent().unwrap();
        }
        other => panic!("expected OwnerDied, got {:?}", other.map(|_| ())),
    }
    trace::exit(0);
    let (json, svg) = (dir.join("k.json"), dir.join("k.svg"));
    ipc_trace::write(&log, &json).unwrap();
    ipc_trace::write(&log, &svg).unwrap();
    trace::stop();
    let parsed = parse_json(&read(&json)).unwrap();
    parsed.assert_consistent();
    assert_eq!(
        parsed.of_kind("exit").len(),
        1,
        "the holder never exits by itself"
    );
    let svg = read(&svg);
    assert_svg_matches(&svg, &parsed);
    assert!(svg.contains("killed by SIGKILL"));
    assert!(svg.contains("holds lock, never released"));
}

fn nothing_is_recorded_once_stopped() {
    let log = trace::start("main", 16).unwrap();
    trace::stop();
    assert!(!trace::is_on());
    trace::mark("unseen");
    let mut child = Process::spawn("quiet", || ()).unwrap();
    join(&mut child);
    let kinds: Vec<&str> = Trace::of(&log)
        .events
        .iter()
        .map(|e| e.kind.label())
        .collect();
    assert_eq!(kinds, ["spawn"], "only start's own spawn");
}

/// The traces of the programs a run starts go to a private directory of
/// the run (mode 0700, an unpredictable name), never to a predictable
/// name in the shared temporary directory; the directory goes when the
/// run's trace is written.
fn parts_are_written_in_a_private_directory_removed_with_the_run() {
    use std::os::unix::fs::MetadataExt;
    let dir = TempDir::new("parts");
    let log = trace::start("main", 256).unwrap();
    let part = ipc_trace::part_for("a role").unwrap().unwrap();
    let private = part.parent().unwrap().to_owned();
    let name = private.file_name().unwrap().to_string_lossy().into_owned();
    assert!(name.starts_with("ipc-lab-trace-"), "{name}");
    let meta = std::fs::metadata(&private).unwrap();
    assert_eq!(meta.mode() & 0o777, 0o700, "{}", private.display());
    assert_eq!(meta.uid(), nix::unistd::getuid().as_raw());
    assert_eq!(part.file_name().unwrap(), "0-a-role.json");
    // The role writes its trace there (here: this run's, as a stand-in).
    std::fs::write(&part, Trace::of(&log).to_json()).unwrap();
    let out = dir.join("run.json");
    ipc_trace::write(&log, &out).unwrap();
    trace::stop();
    assert!(
        !private.exists(),
        "{} outlived the run's trace",
        private.display()
    );
    let merged = parse_json(&read(&out)).unwrap();
    assert!(
        merged.tracks.len() >= 2,
        "the part was merged: {:?}",
        merged.tracks
    );
}

fn main() {
    ipc_testkit::scenarios::main(&ipc_testkit::scenarios![
        parts_are_written_in_a_private_directory_removed_with_the_run,
        processes_a_pipe_a_queue_and_a_lock_make_a_consistent_trace,
        many_senders_and_receivers_of_one_content_pair_causally,
        shared_data_and_semaphores_record_themselves,
        a_tampered_trace_is_rejected_by_the_checker,
        a_full_log_drops_events_and_says_so,
        a_child_killed_holding_the_lock_ends_at_its_join,
        nothing_is_recorded_once_stopped,
    ]);
}
