//! The real ipc-bench binary with tiny measurements (`--quick --scale
//! 0.01`): the shape of its JSON, CSV and table, a figure above zero for
//! every mechanism and every point of the scaling curves (`--scaling`),
//! the spread of repeated runs, the SVG of `--plot`, bad usage, and
//! nothing left behind. Nothing here times anything: the figures of such
//! short runs mean nothing, only that they exist.

use std::process::Command;
use std::time::Duration;

use ipc_testkit::{Pid, Run, Running, Sig, TempDir, skip_unless};
use serde_json::Value as Json;

const BIN: &str = env!("CARGO_BIN_EXE_ipc-bench");
const TINY: [&str; 3] = ["--quick", "--scale", "0.01"];

/// Every mechanism measured in Rust, by its id: ipc-core's and the raw
/// floors, each with where the CSV table shows it: [`ROW`], a row of its
/// own (ipc-core's mechanisms, the floors that stand alone, the pool and
/// manager rows), or [`COLUMN`], a column of ipc-core's rows.
const RUST: [(&str, bool); 32] = [
    ("pipe", ROW),
    ("fifo", ROW),
    ("duplex", ROW),
    ("mqueue", ROW),
    ("queue", ROW),
    ("queue-zero-copy", ROW),
    ("value", ROW),
    ("semaphore", ROW),
    ("event", ROW),
    ("barrier", ROW),
    ("connection-tcp", COLUMN),
    ("connection-unix", COLUMN),
    ("raw-pipe", COLUMN),
    ("raw-socketpair", COLUMN),
    ("raw-mq", COLUMN),
    ("raw-shm-spin", COLUMN),
    ("raw-shm-futex", ROW),
    ("raw-mutex", COLUMN),
    ("raw-atomic", ROW),
    ("raw-sem", ROW),
    ("raw-sem-spin", COLUMN),
    ("raw-flag-spin", COLUMN),
    ("raw-barrier", ROW),
    ("raw-barrier-spin", COLUMN),
    ("raw-tcp", COLUMN),
    ("pool-map", ROW),
    ("pool-map-large", ROW),
    ("manager-set", ROW),
    ("manager-get", ROW),
    ("raw-seq-map", COLUMN),
    ("raw-seq-map-large", COLUMN),
    ("raw-dict-server", COLUMN),
];

/// In [`RUST`]: a row of its own in the CSV table.
const ROW: bool = true;

/// In [`RUST`]: a column of ipc-core's rows in the CSV table.
const COLUMN: bool = false;

/// The synchronisation rows and their floors, by id, with their number of
/// processes.
const SYNC: [(&str, &[u64]); 8] = [
    ("semaphore", &[1, 4]),
    ("raw-sem", &[1, 4]),
    ("raw-sem-spin", &[1, 4]),
    ("event", &[2]),
    ("raw-flag-spin", &[2]),
    ("barrier", &[4]),
    ("raw-barrier", &[4]),
    ("raw-barrier-spin", &[4]),
];

/// The pool and manager rows and their floors, by id, with their numbers
/// of workers (or clients) and the unit of their rate.
const POOL: [(&str, &[u64], &str); 7] = [
    ("pool-map", &[2, 4], "tasks/s"),
    ("raw-seq-map", &[2, 4], "tasks/s"),
    ("pool-map-large", &[2, 4], "tasks/s"),
    ("raw-seq-map-large", &[2, 4], "tasks/s"),
    ("manager-set", &[1], "ops/s"),
    ("manager-get", &[1], "ops/s"),
    ("raw-dict-server", &[1], "ops/s"),
];

/// The scaling curves (`--scaling`), by id, with their numbers of
/// processes and the unit of their rate.
const SCALING: [(&str, &[u64], &str); 12] = [
    ("queue", &[2, 4, 8, 16], "msgs/s"),
    ("raw-shm-spin", &[2, 4, 8, 16], "msgs/s"),
    ("value", &[1, 2, 4, 8, 16], "increments/s"),
    ("raw-mutex", &[1, 2, 4, 8, 16], "increments/s"),
    ("barrier", &[2, 4, 8, 16], "rounds/s"),
    ("raw-barrier", &[2, 4, 8, 16], "rounds/s"),
    ("raw-barrier-spin", &[2, 4, 8, 16], "rounds/s"),
    ("event", &[2, 4, 8, 16], "passes/s"),
    ("raw-flag-spin", &[2, 4, 8, 16], "passes/s"),
    ("semaphore", &[2, 4, 8, 16], "pairs/s"),
    ("raw-sem", &[2, 4, 8, 16], "pairs/s"),
    ("raw-sem-spin", &[2, 4, 8, 16], "pairs/s"),
];

/// How many targets the report lists, measured or not.
const TARGETS: usize = 23;

/// The peer crates, measured when the bench is built with its `peers`
/// feature (the default).
const PEERS: [&str; 3] = ["ipc-channel", "interprocess", "iceoryx2"];

/// The Rust mechanisms this build measures.
fn rust() -> Vec<&'static str> {
    let mut ids: Vec<&str> = RUST.iter().map(|&(id, _)| id).collect();
    if cfg!(feature = "peers") {
        ids.extend(PEERS);
    }
    ids
}

const PYTHON: [&str; 10] = [
    "python-queue",
    "python-pipe",
    "python-value",
    "python-semaphore",
    "python-event",
    "python-barrier",
    "python-pool-map",
    "python-pool-map-large",
    "python-manager-set",
    "python-manager-get",
];

/// True when a usable `nats-server` is here, as the bench itself decides:
/// the NATS rows are measured then, and skipped with a line saying how to
/// install it otherwise.
fn nats_exists() -> bool {
    ipc_net::find_nats_server().is_ok()
}

/// Runs the bench with `args`, bounded, and checks that it left no named
/// object of its own (they carry its pid) in /dev/shm, /tmp or the FIFO
/// directory, no private nats-server directory, and no child behind it.
fn bench(args: &[&str]) -> Run {
    let mut command = Command::new(BIN);
    command.args(args);
    bench_command(command)
}

/// As [`bench`], for a command of the bench made by the caller. The run
/// gets a temporary directory of its own (`TMPDIR`), where the NATS rows'
/// servers keep their files (under the pid of the child that measures,
/// not the bench's): it must be empty of them at the end.
fn bench_command(mut command: Command) -> Run {
    let tmp = TempDir::new("bench-tmp");
    command.env("TMPDIR", tmp.path());
    let running = Running::start(command, false);
    let pid = running.pid();
    let run = running.finish(Duration::from_secs(120));
    ipc_testkit::nats::assert_no_server_dir(tmp.path(), &run);
    let ours = format!("{}{}-", ipc_testkit::PREFIX, pid);
    let mut dirs = vec![
        "/dev/shm".to_string(),
        "/tmp".to_string(),
        "/dev/mqueue".to_string(),
    ];
    if let Some(runtime) = std::env::var_os("XDG_RUNTIME_DIR") {
        dirs.push(runtime.to_string_lossy().into_owned());
    }
    for dir in dirs {
        let left: Vec<String> = ipc_testkit::prefixed_entries(&dir)
            .into_iter()
            .filter(|name| name.starts_with(&ours))
            .collect();
        assert!(left.is_empty(), "left in {dir}: {left:?}\n{run}");
    }
    assert!(ipc_testkit::zombies_of(pid).is_empty(), "{run}");
    run
}

fn positive(v: &Json) -> bool {
    v.as_f64().is_some_and(|x| x.is_finite() && x > 0.0)
}

#[test]
fn json_has_a_figure_above_zero_for_every_mechanism() {
    let mut args = TINY.to_vec();
    args.extend(["--format", "json", "--scaling"]);
    let run = bench(&args);
    run.assert_code(0).assert_no_panic();
    let doc: Json = serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}\n{run}"));

    assert!(doc["machine"]["cpus"].as_u64().unwrap_or(0) >= 1, "{run}");
    assert!(
        doc["machine"]["kernel"]
            .as_str()
            .is_some_and(|k| k.starts_with("Linux")),
        "{run}"
    );
    assert!(doc["machine"]["cpu_model"].is_string(), "{run}");
    let used = doc["placement"]["used"].as_str().unwrap_or("");
    assert!(
        ["same", "different"].contains(&used),
        "pinned by default\n{run}"
    );

    let figures = doc["figures"].as_array().expect("figures");
    for f in figures {
        assert!(positive(&f["value"]), "a figure of 0: {f}\n{run}");
        assert!(f["count"].as_u64().unwrap_or(0) >= 1, "{f}\n{run}");
        // One run: its spread is the figure itself.
        assert_eq!(f["runs"], 1, "{f}\n{run}");
        assert_eq!(f["min"], f["value"], "{f}\n{run}");
        assert_eq!(f["max"], f["value"], "{f}\n{run}");
    }
    let has = |id: &str, section: &str| {
        figures
            .iter()
            .any(|f| f["mechanism"] == id && f["section"] == section)
    };
    for id in rust() {
        let sections: &[&str] = match id {
            "value" | "raw-mutex" | "raw-atomic" => &["increments"],
            _ if SYNC.iter().any(|(s, _)| *s == id) => &["sync"],
            _ if POOL.iter().any(|(p, _, _)| *p == id) => &["pool"],
            _ => &["round_trip", "throughput"],
        };
        for section in sections {
            assert!(has(id, section), "no {section} figure for {id}\n{run}");
        }
    }
    // The figure of `id` in `section` for `n` processes exists, in `unit`.
    let assert_figure_in = |section: &str, id: &str, n: u64, unit: &str| {
        let figure = figures
            .iter()
            .find(|f| f["mechanism"] == id && f["section"] == section && f["processes"] == n)
            .unwrap_or_else(|| panic!("no {section} figure for {id} with {n} processes\n{run}"));
        assert_eq!(figure["unit"], unit, "{figure}\n{run}");
    };
    // Every point of every scaling curve, a rate.
    for (id, processes, unit) in SCALING {
        for &n in processes {
            assert_figure_in("scaling", id, n, unit);
        }
    }
    // Every size of a stream, 1 MiB included, and the mq sizes that fit.
    for size in [8, 64, 4096, 65536, 1 << 20] {
        assert!(
            figures
                .iter()
                .any(|f| f["mechanism"] == "queue" && f["size_bytes"] == size),
            "no Queue figure for {size} B\n{run}"
        );
    }
    // Five processes for the Value.
    assert!(
        figures
            .iter()
            .any(|f| f["mechanism"] == "value" && f["processes"] == 5),
        "{run}"
    );
    // The synchronisation rows at their numbers of processes: the Event's
    // a round trip, the others rates.
    for (id, processes) in SYNC {
        for &n in processes {
            let unit = match id {
                "event" | "raw-flag-spin" => "ns",
                "barrier" | "raw-barrier" | "raw-barrier-spin" => "rounds/s",
                _ => "pairs/s",
            };
            assert_figure_in("sync", id, n, unit);
        }
    }
    // The pool and manager rows at their numbers of workers or clients,
    // in tasks or operations per second.
    for (id, processes, unit) in POOL {
        for &n in processes {
            assert_figure_in("pool", id, n, unit);
        }
    }
    // NATS at every size a server takes, beside the duplex socket pair;
    // or, with no nats-server, a line that says how to install one.
    let nats: Vec<&Json> = figures
        .iter()
        .filter(|f| f["mechanism"] == "nats")
        .collect();
    if nats_exists() {
        assert_eq!(doc["nats"]["status"], "measured", "{run}");
        assert_eq!(nats.len(), 2 * 5, "2 sections, 5 sizes\n{run}");
    } else {
        assert_eq!(doc["nats"]["status"], "skipped", "{run}");
        assert!(
            doc["nats"]["detail"]
                .as_str()
                .is_some_and(|d| d.contains("install-nats.sh")),
            "{run}"
        );
        assert!(nats.is_empty(), "{run}");
    }

    // Rows: each ipc-core mechanism beside its floor, each peer beside its
    // ipc-core counterpart, with the ratio.
    let rows = doc["rows"].as_array().expect("rows");
    for row in rows.iter().filter(|r| r["group"] == "ipc-core") {
        assert!(row["floor"].is_string(), "no floor: {row}\n{run}");
        assert!(positive(&row["x_floor"]), "{row}\n{run}");
        assert!(row["floor_suspect"].is_boolean(), "{row}\n{run}");
        assert_eq!(row["floor_min"], row["floor_value"], "{row}\n{run}");
    }
    let peers: Vec<&Json> = rows.iter().filter(|r| r["group"] == "peer").collect();
    assert_eq!(
        peers.len(),
        3 * 2 * 5,
        "3 peers, 2 sections, 5 sizes\n{run}"
    );
    for row in peers {
        assert!(
            ["queue", "queue-zero-copy"].contains(&row["versus"].as_str().unwrap_or("")),
            "{row}\n{run}"
        );
        assert!(positive(&row["x_versus"]), "{row}\n{run}");
    }
    let nets: Vec<&Json> = rows.iter().filter(|r| r["group"] == "net").collect();
    assert_eq!(nets.len(), nats.len(), "{run}");
    for row in nets {
        assert_eq!(row["versus"], "duplex", "{row}\n{run}");
        assert!(positive(&row["x_versus"]), "{row}\n{run}");
    }
    let targets = doc["targets"].as_array().expect("targets");
    assert_eq!(targets.len(), TARGETS, "{run}");
    // Every target is decided here, but those against Python (which may be
    // missing) and NATS; the scaling ones too.
    for t in targets {
        let python = t["bound"].as_str().is_some_and(|b| b.contains("Python"));
        assert!(python || t["holds"].is_boolean(), "undecided: {t}\n{run}");
    }

    if ipc_testkit::python_imports("python3", "multiprocessing") {
        assert_eq!(doc["python"]["status"], "done", "{run}");
        for id in PYTHON {
            assert!(
                figures.iter().any(|f| f["mechanism"] == id),
                "no figure for {id}\n{run}"
            );
        }
        let with_python = rows.iter().filter(|r| positive(&r["x_python"])).count();
        assert!(with_python >= 3 + 4 + 6, "Rust/Python ratios\n{run}");
        for id in ["pool-map", "pool-map-large", "manager-set", "manager-get"] {
            assert!(
                rows.iter()
                    .any(|r| r["mechanism"] == id && positive(&r["x_python"])),
                "{id} without Python beside it\n{run}"
            );
        }
    } else {
        assert_eq!(doc["python"]["status"], "skipped", "{run}");
    }
}

#[test]
fn csv_rows_all_have_the_header_s_shape() {
    let mut args = TINY.to_vec();
    args.extend(["--format", "csv", "--no-python", "--cpus", "same"]);
    let run = bench(&args);
    run.assert_code(0).assert_no_panic();
    let lines = run.stdout_lines();
    let header: Vec<&str> = lines[0].split(',').collect();
    assert_eq!(header[..3], ["section", "mechanism", "group"], "{run}");
    let value = header.iter().position(|h| *h == "value").expect("value");
    let mech = header
        .iter()
        .position(|h| *h == "mechanism")
        .expect("mechanism");
    assert!(lines.len() > 40, "{run}");
    for line in &lines[1..] {
        let fields: Vec<&str> = line.split(',').collect();
        assert_eq!(fields.len(), header.len(), "{line}\n{run}");
        let v: f64 = fields[value].parse().unwrap_or(0.0);
        assert!(v > 0.0, "{line}\n{run}");
    }
    // A row each: ipc-core's mechanisms, the floors that stand alone and
    // the peers (the other floors are columns of ipc-core's rows).
    let mut with_rows: Vec<&str> = RUST
        .iter()
        .filter(|&&(_, row)| row == ROW)
        .map(|&(id, _)| id)
        .collect();
    if cfg!(feature = "peers") {
        with_rows.extend(PEERS);
    }
    if nats_exists() {
        with_rows.push("nats");
    }
    for id in with_rows {
        assert!(
            lines[1..]
                .iter()
                .any(|l| l.split(',').nth(mech) == Some(id)),
            "no row for {id}\n{run}"
        );
    }
}

#[test]
fn the_table_names_the_machine_and_the_plot_is_an_svg() {
    let dir = TempDir::new("bench-plot");
    let svg = dir.join("bench.svg");
    let mut args = TINY.to_vec();
    args.extend(["--no-python", "--plot", svg.to_str().expect("UTF-8 path")]);
    // Two runs of the scaling curves and of a few rows: a spread to show.
    args.extend(["--scaling", "--repeat", "2", "--sizes", "8,64k"]);
    let run = bench(&args);
    run.assert_code(0).assert_no_panic();
    let lines = run.stdout_lines();
    for (label, line) in ["machine", "kernel", "placement", "run", "python", "nats"]
        .iter()
        .zip(&lines[1..])
    {
        assert!(line.starts_with(label), "{label}\n{run}");
    }
    run.assert_stdout_contains(&[
        "Round trip",
        "Throughput",
        "Increments",
        "pipe (simplex)",
        "duplex (socketpair)",
        "message queue",
        "Queue",
        "Value + lock",
        "raw shm ring futex",
        "Queue claim/get_ref",
        "Synchronisation",
        "Semaphore acq+rel",
        "Event ping-pong",
        "Barrier round",
        "raw spin barrier",
        "raw sem spin",
        "Pool and Manager",
        "Pool.map 10k squares",
        "Pool.map 8 x 1 MiB",
        "raw seq. map",
        "Manager dict set",
        "Manager dict get",
        "raw dict server",
        "Scaling",
        "8+8",
        "spread",
        "median of 2 runs",
        "Targets",
        "not measured: --no-python",
    ]);
    // Every target line says whether it holds.
    let verdicts = lines
        .iter()
        .filter(|l| {
            ["  holds ", "  MISSED ", "  n/a "]
                .iter()
                .any(|v| l.starts_with(v))
        })
        .count();
    assert_eq!(verdicts, TARGETS, "{run}");
    if nats_exists() {
        run.assert_stdout_contains(&["past one machine", "NATS (loopback)"]);
    }
    if cfg!(feature = "peers") {
        run.assert_stdout_contains(&[
            "peer crates",
            "ipc-channel",
            "interprocess socket",
            "iceoryx2 pub/sub",
        ]);
    }
    let text = std::fs::read_to_string(&svg).unwrap_or_else(|e| panic!("{e}\n{run}"));
    assert!(text.starts_with("<svg"), "{text}");
    assert!(text.trim_end().ends_with("</svg>"), "{text}");
    assert!(text.matches("<polyline").count() >= 10, "{text}");
    for label in [
        "Round trip",
        "Throughput",
        "raw pipe",
        "Queue",
        "64 KiB",
        "Scaling",
        "processes",
        "Barrier, rounds/s",
        "Event ring, hand-overs/s",
        "Semaphore(1), pairs/s",
        "Value + lock, increments/s",
        "median of 2 runs",
    ] {
        assert!(text.contains(label), "{label} missing from the SVG");
    }
    // Each point with its spread over the two runs (a bar where they
    // differ, and they almost always do).
    assert!(text.contains("class=\"spread\""), "{text}");
    if cfg!(feature = "peers") {
        assert!(text.contains("iceoryx2 pub/sub (peer)"), "{text}");
    }
}

#[test]
fn check_fails_only_on_a_missed_target() {
    let mut args = TINY.to_vec();
    args.extend([
        "--only",
        "pipe,raw-pipe",
        "--sizes",
        "8",
        "--no-python",
        "--check",
    ]);
    let run = bench(&args);
    run.assert_no_panic();
    // Tiny runs time nothing worth a verdict: either way is fine, as long
    // as a failure names what was missed and the report was printed.
    match run.code() {
        Some(0) => assert!(!run.stdout.contains("MISSED"), "{run}"),
        Some(1) => {
            assert!(run.stdout.contains("MISSED"), "{run}");
            assert!(run.stderr.contains("missed: "), "{run}");
        }
        other => panic!("exit {other:?}\n{run}"),
    }
    run.assert_stdout_contains(&["Targets", "pipe round trip, 8 B"]);
}

#[test]
fn bad_arguments_are_bad_usage() {
    for args in [
        &["--scale", "0"][..],
        &["--scale", "nan"],
        &["--sizes", "0"],
        &["--sizes", "9M"],
        &["--format", "xml"],
        &["--cpus", "three"],
        &["--repeat", "0"],
        &["--scaling", "yes"],
    ] {
        let run = ipc_testkit::run(BIN, args);
        run.assert_code(2).assert_no_panic();
    }
}

#[test]
fn without_a_usable_nats_server_its_rows_are_skipped_with_a_line_saying_why() {
    let mut command = Command::new(BIN);
    command
        .args(TINY)
        .args(["--only", "nats,pipe", "--sizes", "8", "--no-python"])
        .env("IPC_LAB_NATS_SERVER", "/nonexistent/nats-server");
    let run = bench_command(command);
    run.assert_code(0).assert_no_panic();
    let line = run
        .stdout_lines()
        .into_iter()
        .find(|l| l.starts_with("nats "))
        .unwrap_or_else(|| panic!("no nats line\n{run}"))
        .to_string();
    assert!(
        line.contains("not measured") && line.contains("/nonexistent/nats-server"),
        "{line}\n{run}"
    );
    assert!(!run.stdout.contains("NATS (loopback)"), "{run}");
    run.assert_stdout_contains(&["pipe (simplex)"]);
}

/// The command line of process `pid`, its arguments apart.
fn cmdline(pid: Pid) -> Vec<String> {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .unwrap_or_default()
        .split(|&b| b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect()
}

#[test]
fn sigterm_during_a_nats_row_stops_its_server_and_leaves_nothing() {
    skip_unless!(
        nats_exists(),
        "no nats-server here (scripts/install-nats.sh installs one)"
    );
    // 10 s per measurement: the signal lands while NATS is measured.
    let tmp = TempDir::new("bench-tmp");
    let mut command = Command::new(BIN);
    command
        .args(["--only", "nats", "--sizes", "8", "--no-python"])
        .args(["--scale", "25"])
        .env("TMPDIR", tmp.path());
    let running = Running::start(command, false);
    let bench = running.pid();
    // The bench's child that measures, and the nats-server it started (not
    // the `nats-server --version` run before, which ends at once).
    let mut found = None;
    let seen = ipc_testkit::eventually(Duration::from_secs(30), || {
        for child in ipc_testkit::children_of(bench) {
            for grandchild in ipc_testkit::children_of(child) {
                let args = cmdline(grandchild);
                let store = args
                    .iter()
                    .position(|a| a == "--store_dir")
                    .and_then(|at| args.get(at + 1));
                if ipc_testkit::command_of(grandchild).as_deref() == Some("nats-server")
                    && let Some(store) = store
                {
                    found = Some((child, grandchild, std::path::PathBuf::from(store)));
                    return true;
                }
            }
        }
        false
    });
    let Some((child, server, store)) = found.filter(|_| seen) else {
        let run = running.finish(Duration::from_secs(60));
        panic!("no nats-server under the bench\n{run}");
    };
    let dir = store.parent().expect("the server's directory").to_owned();
    assert!(dir.exists(), "{}", dir.display());
    // The bench's own watchdog sends the same signal.
    let run = running.signal_and_wait(Sig::SIGTERM, false, &[child]);
    assert_ne!(
        run.code(),
        Some(0),
        "an interrupted run is no success\n{run}"
    );
    run.assert_no_panic();
    let left = ipc_testkit::wait_gone(&[server], Duration::from_secs(10));
    assert!(left.is_empty(), "nats-server still there: {left:?}\n{run}");
    assert!(!dir.exists(), "{} left behind\n{run}", dir.display());
    ipc_testkit::nats::assert_no_server_dir(tmp.path(), &run);
}
