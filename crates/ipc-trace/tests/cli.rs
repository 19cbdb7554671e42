//! The real `ipc-trace` binary on traces written by ipc-core's writer.

use std::collections::BTreeMap;
use std::path::Path;

use ipc_testkit::TempDir;
use ipc_testkit::trace::{assert_svg_matches, parse_json};
use ipc_trace::{Event, Kind, Source, Trace};

const BIN: &str = env!("CARGO_BIN_EXE_ipc-trace");

/// Machine A's start, ns since the epoch; machine B starts 10 ms later.
const START_A: i64 = 1_700_000_000_000_000_000;
const B_LATER: u64 = 10_000_000;
const CHANNEL: u64 = 0x8000_0000_0000_0001;

fn event(t_ns: u64, pid: i32, process: &str, kind: Kind, text: &str) -> Event {
    Event {
        t_ns,
        source: 0,
        pid,
        process: process.into(),
        kind,
        text: text.into(),
        truncated: false,
    }
}

fn source(label: &str, host: &str, start_wall_ns: i64) -> Source {
    Source {
        label: label.into(),
        host: host.into(),
        start_wall_ns,
        capacity: 64,
        ..Source::default()
    }
}

/// The sender's trace (machine A) sends at 12 ms; the receiver's (machine
/// B, started 10 ms later by its clock) receives at 5 ms of its own time,
/// that is 15 ms of A's. Both processes have pid 100.
fn write_fixtures(dir: &TempDir) {
    let mut objects = BTreeMap::new();
    objects.insert((0, CHANNEL), "subject greetings".to_string());
    let a = Trace {
        sources: vec![source("exp1-mom", "alpha", START_A)],
        objects: objects.clone(),
        guards: BTreeMap::new(),
        events: vec![
            event(0, 100, "sender", Kind::Spawn { parent: 1 }, ""),
            event(
                12_000_000,
                100,
                "sender",
                Kind::Send {
                    channel: CHANNEL,
                    msg: 7,
                },
                "Hello",
            ),
            event(13_000_000, 100, "sender", Kind::Exit { status: 0 }, ""),
        ],
    };
    let b = Trace {
        sources: vec![source("exp1-mom", "beta", START_A + B_LATER as i64)],
        objects,
        guards: BTreeMap::new(),
        events: vec![
            event(0, 100, "receiver", Kind::Spawn { parent: 1 }, ""),
            event(
                5_000_000,
                100,
                "receiver",
                Kind::Recv {
                    channel: CHANNEL,
                    msg: 7,
                },
                "Hello",
            ),
            event(6_000_000, 100, "receiver", Kind::Print, "Hello"),
            event(7_000_000, 100, "receiver", Kind::Exit { status: 0 }, ""),
        ],
    };
    std::fs::write(dir.join("sender.json"), a.to_json()).unwrap();
    std::fs::write(dir.join("receiver.json"), b.to_json()).unwrap();
}

fn path(dir: &TempDir, name: &str) -> String {
    dir.join(name).to_str().unwrap().to_owned()
}

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn help_explains_the_commands_and_exit_codes() {
    ipc_testkit::run(BIN, &["--help"])
        .assert_code(0)
        .assert_stdout_contains(&["merge", "svg", "wall-clock", "offsets", "Exit codes"]);
    ipc_testkit::run(BIN, &["merge", "--help"])
        .assert_code(0)
        .assert_stdout_contains(&["--output", "FILE.svg", "FILE.json"]);
}

#[test]
fn merge_aligns_by_wall_clock_and_says_by_how_much() {
    let dir = TempDir::new("merge");
    write_fixtures(&dir);
    let (a, b, out) = (
        path(&dir, "sender.json"),
        path(&dir, "receiver.json"),
        path(&dir, "run.json"),
    );
    let run = ipc_testkit::run(BIN, &["merge", &a, &b, "-o", &out]);
    run.assert_code(0)
        .assert_no_panic()
        .assert_stdout_contains(&[
            "sender: started 2023-11-14 22:13:20.000000000 UTC (host alpha), offset +0 ns",
            "receiver: started 2023-11-14 22:13:20.010000000 UTC (host beta), offset +10.000 ms",
        ]);

    let text = read(&out);
    let parsed = parse_json(&text).unwrap();
    // Aligned, the receive (15 ms) follows the send (12 ms); unaligned it
    // would come 7 ms before it and the check would fail.
    parsed.assert_consistent();
    assert_eq!(parsed.of_kind("recv")[0].ns, 15_000_000);
    assert_eq!(parsed.of_kind("send")[0].ns, 12_000_000);
    // Two processes with pid 100, on two machines: two tracks.
    assert_eq!(parsed.tracks.len(), 2, "{:?}", parsed.tracks);
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    let offsets: Vec<u64> = value["otherData"]["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["offset_ns"].as_u64().unwrap())
        .collect();
    assert_eq!(offsets, [0, B_LATER]);
    assert!(
        parsed.notes[0].starts_with("merged by wall-clock start, offsets applied: sender (2023-11-14 22:13:20.000000000 UTC) +0 ns, receiver (2023-11-14 22:13:20.010000000 UTC) +10.000 ms"),
        "{:?}",
        parsed.notes
    );

    // The SVG of the same merge: one lane per process, the offsets shown.
    let svg = path(&dir, "run.svg");
    ipc_testkit::run(BIN, &["merge", &a, &b, "--output", &svg]).assert_code(0);
    let picture = read(&svg);
    assert_svg_matches(&picture, &parsed);
    assert!(picture.contains(
        "receiver: recorded on beta from 2023-11-14 22:13:20.010000000 UTC, drawn +10.000 ms from the top"
    ));
    assert!(picture.contains("pid 100 @ receiver"));
    assert_eq!(
        picture.matches(r#"class="message""#).count(),
        1,
        "one arrow across machines"
    );
}

#[test]
fn merge_notes_clocks_that_disagree() {
    let dir = TempDir::new("skew");
    write_fixtures(&dir);
    // Machine B's clock is 8 ms slow: its receive lands 1 ms before the send.
    let b = path(&dir, "receiver.json");
    let mut value: serde_json::Value = serde_json::from_str(&read(&b)).unwrap();
    value["otherData"]["sources"][0]["start_wall_ns"] = (START_A + 2_000_000).into();
    std::fs::write(&b, value.to_string()).unwrap();
    let out = path(&dir, "run.json");
    let run = ipc_testkit::run(BIN, &["merge", &path(&dir, "sender.json"), &b, "-o", &out]);
    run.assert_code(0).assert_stdout_contains(&[
        "note: some receives appear before their send: the clocks disagree by at least 5.000 ms",
    ]);
}

#[test]
fn merge_of_one_machines_traces_uses_its_monotonic_clock() {
    let dir = TempDir::new("one-machine");
    write_fixtures(&dir);
    // Both traces from one boot: their monotonic starts are 10 ms apart,
    // although the receiver's wall-clock reading (delayed, as a preempted
    // process's is) says 2 ms, which would put the receive before the send.
    let (a, b) = (path(&dir, "sender.json"), path(&dir, "receiver.json"));
    for (file, wall, mono) in [
        (&a, START_A, 1_000),
        (&b, START_A + 2_000_000, 1_000 + B_LATER),
    ] {
        let mut value: serde_json::Value = serde_json::from_str(&read(file)).unwrap();
        let source = &mut value["otherData"]["sources"][0];
        source["boot_id"] = "one-boot".into();
        source["start_wall_ns"] = wall.into();
        source["start_mono_ns"] = mono.into();
        std::fs::write(file, value.to_string()).unwrap();
    }
    let out = path(&dir, "run.json");
    let run = ipc_testkit::run(BIN, &["merge", &a, &b, "-o", &out]);
    run.assert_code(0).assert_stdout_contains(&[
        "aligned by the monotonic clock of the one machine they ran on:",
        "receiver: started 2023-11-14 22:13:20.002000000 UTC (host beta), offset +10.000 ms",
    ]);
    assert!(!run.stdout.contains("before their send"), "{}", run.stdout);
    let parsed = parse_json(&read(&out)).unwrap();
    parsed.assert_consistent();
    assert_eq!(parsed.of_kind("recv")[0].ns, 15_000_000);
}

#[test]
fn svg_redraws_a_json_trace() {
    let dir = TempDir::new("redraw");
    write_fixtures(&dir);
    let (input, out) = (path(&dir, "receiver.json"), path(&dir, "receiver.svg"));
    ipc_testkit::run(BIN, &["svg", &input, "-o", &out])
        .assert_code(0)
        .assert_stdout_contains(&["wrote", "4 events of 1 processes from 1 trace(s)"]);
    let parsed = parse_json(&read(&input)).unwrap();
    assert_svg_matches(&read(&out), &parsed);
}

#[test]
fn bad_usage_and_bad_inputs_exit_with_2_and_write_nothing() {
    let dir = TempDir::new("bad");
    write_fixtures(&dir);
    let a = path(&dir, "sender.json");
    let text = path(&dir, "out.txt");
    ipc_testkit::run(BIN, &["svg", &a, "-o", &text]).assert_bad_usage("must end in .json");
    assert!(!Path::new(&text).exists());
    ipc_testkit::run(BIN, &["merge", &a, "-o", &path(&dir, "x.svg")]).assert_bad_usage("merge");
    std::fs::write(dir.join("foreign.json"), r#"{"traceEvents": []}"#).unwrap();
    for (input, output, says) in [
        ("missing.json", "y.svg", "cannot read"),
        ("foreign.json", "z.svg", "not a trace ipc-lab wrote"),
    ] {
        let (input, output) = (path(&dir, input), path(&dir, output));
        ipc_testkit::run(BIN, &["svg", &input, "-o", &output]).assert_bad_usage(says);
    }
    ipc_testkit::run(BIN, &["svg", &a, "-o", "/no/such/dir/z.svg"])
        .assert_bad_usage("does not exist");
    ipc_testkit::run(BIN, &["frobnicate"]).assert_bad_usage("frobnicate");
}

#[test]
fn an_output_that_cannot_be_written_is_refused_and_nothing_followed() {
    let dir = TempDir::new("unwritable");
    write_fixtures(&dir);
    let input = path(&dir, "sender.json");
    // A directory where the file should go.
    std::fs::create_dir(dir.join("taken.svg")).unwrap();
    ipc_testkit::run(BIN, &["svg", &input, "-o", &path(&dir, "taken.svg")])
        .assert_bad_usage("it is a directory");
    // A link planted to somebody's file: refused, the file untouched.
    let precious = dir.join("precious.txt");
    std::fs::write(&precious, "precious\n").unwrap();
    std::os::unix::fs::symlink(&precious, dir.join("planted.svg")).unwrap();
    ipc_testkit::run(BIN, &["svg", &input, "-o", &path(&dir, "planted.svg")])
        .assert_bad_usage("symbolic link");
    assert_eq!(std::fs::read_to_string(&precious).unwrap(), "precious\n");
    // A name too long for the file system.
    let long = dir.join(&format!("{}.svg", "x".repeat(300)));
    ipc_testkit::run(BIN, &["svg", &input, "-o", long.to_str().unwrap()])
        .assert_bad_usage("longer than");
}

#[test]
fn inputs_that_are_no_regular_file_are_refused_at_once() {
    let dir = TempDir::new("inputs");
    let out = path(&dir, "out.svg");
    // /dev/zero never ends; a FIFO nobody writes would block the open.
    let fifo = dir.join("pipe.json");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
    for (input, why) in [
        ("/dev/zero", "a device"),
        (fifo.to_str().unwrap(), "a FIFO"),
        (dir.path().to_str().unwrap(), "a directory"),
    ] {
        ipc_testkit::run(BIN, &["svg", input, "-o", &out]).assert_bad_usage(why);
    }
    // A regular file larger than any trace is refused without reading it
    // all into memory.
    let big = dir.join("big.json");
    let file = std::fs::File::create(&big).unwrap();
    file.set_len(ipc_trace::file::MAX_READ + 1).unwrap();
    ipc_testkit::run(BIN, &["svg", big.to_str().unwrap(), "-o", &out])
        .assert_bad_usage("more than");
    assert!(!Path::new(&out).exists());
}
