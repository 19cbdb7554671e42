//! What the tests of the documents share: the repository's root, its
//! files, and the experiments' real binaries.

#![allow(dead_code)] // each test file uses a part of it

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

/// The top of the repository.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The text of `path`, relative to the top of the repository; panics
/// naming the file if it cannot be read.
pub fn read(path: &str) -> String {
    let path = root().join(path);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The experiment crates (`exercises/*`), sorted.
pub fn experiments() -> Vec<String> {
    let mut found: Vec<String> = std::fs::read_dir(root().join("exercises"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    found.sort();
    assert!(found.len() >= 16, "{found:?}");
    found
}

/// The directory of the workspace's debug binaries, once they are built
/// from today's sources (`cargo build --workspace --bins`: nothing to do
/// under `cargo test --workspace`, which built them already; a minute
/// under `cargo test -p ipc-testkit` after a change).
pub fn binaries() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut command = Command::new(cargo);
        command
            .current_dir(root())
            .args(["build", "--quiet", "--workspace", "--bins"]);
        ipc_testkit::run_command(command, None, Duration::from_secs(600)).assert_code(0);
        // This test is target/debug/deps/NAME-HASH: the binaries are in
        // target/debug, wherever CARGO_TARGET_DIR put it.
        let exe = std::env::current_exe().expect("current_exe");
        let dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("target/debug/deps/…")
            .to_path_buf();
        assert!(
            dir.join("exp7-shm").exists(),
            "no exp7-shm in {}",
            dir.display()
        );
        dir
    })
}

/// The path of the real binary `name`, built.
pub fn binary(name: &str) -> String {
    binaries().join(name).display().to_string()
}
