//! Two promises about the workspace's sources that no compiler checks,
//! read from the code itself (comments and string literals left out):
//!
//! * **One wait.** Every deadline, timeout and polling loop goes through
//!   ipc-core's blocking layer (`crates/ipc-core/src/blocking.rs`): a
//!   `Deadline` that never overflows, `poll`/`poll_until` and the
//!   intervals named there. Adding a timeout to the clock anywhere else
//!   (`Instant::now() + timeout`, which panics for a large one, or
//!   `checked_add` on a deadline) fails this test.
//! * **No import cycle.** In no crate of the workspace do files import
//!   each other in a circle (through `crate::`, `super::`, `self::` or a
//!   child module's name).
//!
//! Every crate of the workspace is held to both; none is exempt.

use std::path::{Path, PathBuf};

use ipc_testkit::sources::{code, cycle, file_graph, rust_files};

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

/// The one place that may add a timeout to the clock.
const BLOCKING_LAYER: &str = "crates/ipc-core/src/blocking.rs";

/// The crates of the workspace: every directory of `crates/` and
/// `exercises/` with a `Cargo.toml`, relative to the root.
fn crates() -> Vec<String> {
    let mut found = Vec::new();
    for group in ["crates", "exercises"] {
        let dir = Path::new(ROOT).join(group);
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            if entry.path().join("Cargo.toml").is_file() {
                found.push(format!("{group}/{}", entry.file_name().to_string_lossy()));
            }
        }
    }
    found.sort();
    found
}

/// The lines of `code` that add a timeout to the clock: `Instant::now()`
/// (or `SystemTime::now()`) followed by `+` or `.checked_add(`, and a
/// `checked_add` in a statement about an instant, a deadline or a timeout.
fn deadline_arithmetic(code: &str) -> Vec<usize> {
    let compact: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    let mut lines = Vec::new();
    for (n, line) in code.lines().enumerate() {
        let flat: String = line.chars().filter(|c| !c.is_whitespace()).collect();
        let clock = ["Instant::now()", "SystemTime::now()"].iter().any(|now| {
            flat.match_indices(now).any(|(at, _)| {
                let after = &flat[at + now.len()..];
                after.starts_with('+') || after.starts_with(".checked_add(")
            })
        });
        let checked = flat.contains("checked_add(")
            && [
                "Instant", "deadline", "Deadline", "timeout", "elapsed", "now()",
            ]
            .iter()
            .any(|word| flat.contains(word));
        if clock || checked {
            lines.push(n + 1);
        }
    }
    // `Instant::now()` on one line and `+ timeout` on the next.
    if lines.is_empty()
        && ["Instant::now()+", "SystemTime::now()+"]
            .iter()
            .any(|pattern| compact.contains(pattern))
    {
        lines.push(0);
    }
    lines
}

/// Every `.rs` file of `krate` (sources, tests, benches, examples).
fn files_of(krate: &str) -> Vec<PathBuf> {
    rust_files(&Path::new(ROOT).join(krate))
        .into_iter()
        .filter(|path| !path.components().any(|c| c.as_os_str() == "target"))
        .collect()
}

#[test]
fn no_deadline_is_added_to_the_clock_outside_the_blocking_layer() {
    let blocking = Path::new(ROOT).join(BLOCKING_LAYER);
    let mut found = Vec::new();
    for krate in crates() {
        for file in files_of(&krate) {
            if file == blocking {
                continue;
            }
            let text = std::fs::read_to_string(&file).unwrap();
            for line in deadline_arithmetic(&code(&text)) {
                let relative = file.strip_prefix(ROOT).unwrap_or(&file);
                found.push(format!("{}:{line}", relative.display()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "deadline arithmetic outside {BLOCKING_LAYER} (use blocking::Deadline, poll or \
         poll_until, and an interval named there):\n{}",
        found.join("\n")
    );
}

#[test]
fn no_crate_has_files_that_import_each_other_in_a_circle() {
    let mut found = Vec::new();
    for krate in crates() {
        let src = Path::new(ROOT).join(&krate).join("src");
        if let Some(circle) = cycle(&file_graph(&src)) {
            let names: Vec<String> = circle
                .iter()
                .map(|file| {
                    file.strip_prefix(&src)
                        .unwrap_or(file)
                        .display()
                        .to_string()
                })
                .collect();
            found.push(format!("{krate}: {}", names.join(" -> ")));
        }
    }
    assert!(
        found.is_empty(),
        "files that import each other in a circle:\n{}",
        found.join("\n")
    );
}

#[test]
fn every_crate_of_the_workspace_is_read() {
    let crates = crates();
    for krate in ["crates/ipc-core", "crates/ipc-bench", "exercises/exp7-shm"] {
        assert!(
            crates.contains(&krate.to_string()),
            "{krate} not found in {crates:?}"
        );
    }
    assert!(crates.len() >= 25, "{crates:?}");
}

#[test]
fn deadline_arithmetic_is_recognised_and_look_alikes_are_not() {
    let seen = |text: &str| !deadline_arithmetic(&code(text)).is_empty();
    assert!(seen("let deadline = Instant::now() + timeout;"));
    assert!(seen(
        "let at = std::time::Instant::now()\n    + Duration::from_secs(1);"
    ));
    assert!(seen("let d = Instant::now().checked_add(t);"));
    assert!(seen("let deadline = start.checked_add(timeout)?;"));
    assert!(!seen("let total = slots.checked_add(HEADER)?;"));
    assert!(!seen("let start = Instant::now();"));
    assert!(!seen("// Instant::now() + timeout panics"));
    assert!(!seen("let s = \"Instant::now() + x\";"));
}
