//! The ipc-lab workspace: its files, its experiments, and a submission's
//! place in it.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{Error, Result};

/// Where the experiments are, relative to the workspace's root.
pub const EXERCISES: &str = "exercises";

/// The file a starter writes at its root: what it is, and which crates it
/// was made for (the grader's default crates).
pub const STARTER_FILE: &str = "STARTER.md";

/// The line of [`STARTER_FILE`] that lists the crates.
pub const CRATES_LINE: &str = "Crates:";

/// Directories never copied when the workspace is not a git checkout:
/// build outputs, the NATS install, the book, the grader's work.
const SKIPPED: [&str; 8] = [
    ".git",
    "target",
    ".venv",
    ".grade",
    "docs/book",
    "fuzz/target",
    "fuzz/corpus",
    "fuzz/artifacts",
];

/// An ipc-lab workspace on disk.
#[derive(Debug, Clone)]
pub struct Workspace {
    root: PathBuf,
}

impl Workspace {
    /// The workspace at `root`: a directory with a `Cargo.toml` and an
    /// `exercises/` directory.
    ///
    /// # Errors
    /// [`Error::Usage`] when `root` is not one.
    pub fn at(root: &Path) -> Result<Workspace> {
        if !is_workspace(root) {
            return Err(Error::Usage(format!(
                "{} is not an ipc-lab workspace (no Cargo.toml and {EXERCISES}/ in it)",
                root.display()
            )));
        }
        let root = root
            .canonicalize()
            .map_err(|e| Error::io(format!("resolving {}", root.display()), e))?;
        Ok(Workspace { root })
    }

    /// The environment variable that names the reference workspace
    /// (`scripts/grade.sh` and `scripts/starter.sh` set it to their own
    /// checkout).
    pub const ROOT_VAR: &'static str = "IPC_LAB_ROOT";

    /// The grader's reference, found from where the program runs:
    /// [`Workspace::ROOT_VAR`] if set, else the current directory or the
    /// nearest one above it that is a workspace (never a path compiled
    /// into the program: a build directory shared by two checkouts would
    /// point into the other one).
    ///
    /// # Errors
    /// [`Error::Usage`] naming every place looked at.
    pub fn find() -> Result<Workspace> {
        if let Some(root) = std::env::var_os(Self::ROOT_VAR) {
            return Workspace::at(Path::new(&root)).map_err(|e| {
                Error::Usage(format!(
                    "{} (from ${}): {e}",
                    Self::ROOT_VAR,
                    Self::ROOT_VAR
                ))
            });
        }
        let here = std::env::current_dir()
            .map_err(|e| Error::io("finding the current directory".into(), e))?;
        if let Some(root) = here.ancestors().find(|dir| is_workspace(dir)) {
            return Workspace::at(root);
        }
        Err(Error::Usage(format!(
            "no ipc-lab workspace found: ${} is not set, and neither {} nor a directory above it holds Cargo.toml and {EXERCISES}/ (run it from the workspace, or through scripts/grade.sh)",
            Self::ROOT_VAR,
            here.display()
        )))
    }

    /// Its root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The files of the workspace, relative to its root, sorted: those git
    /// tracks or would track (not ignored), or, outside a git checkout,
    /// every file but build outputs and the NATS install.
    ///
    /// # Errors
    /// A directory that cannot be read.
    pub fn files(&self) -> Result<Vec<PathBuf>> {
        let mut files = match self.git_files() {
            Some(files) => files,
            None => {
                let mut files = Vec::new();
                walk(&self.root, Path::new(""), &mut files)?;
                files
            }
        };
        // A file git lists but that was deleted since is not copied.
        files.retain(|file| fs::symlink_metadata(self.root.join(file)).is_ok_and(|m| m.is_file()));
        files.sort();
        files.dedup();
        Ok(files)
    }

    fn git_files(&self) -> Option<Vec<PathBuf>> {
        if !self.root.join(".git").exists() {
            return None;
        }
        let output = Command::new("git")
            .arg("-C")
            .arg(&self.root)
            .args([
                "ls-files",
                "-z",
                "--cached",
                "--others",
                "--exclude-standard",
            ])
            .output()
            .ok()?;
        if !output.status.success() {
            return None;
        }
        Some(
            output
                .stdout
                .split(|&b| b == 0)
                .filter(|name| !name.is_empty())
                .map(|name| PathBuf::from(String::from_utf8_lossy(name).into_owned()))
                // A grader's work directory, wherever it is (a submission
                // kept inside the repository), is never part of it.
                .filter(|path| !path.components().any(|c| c.as_os_str() == ".grade"))
                .collect(),
        )
    }

    /// The experiment crates: the directories of `exercises/` with a
    /// `Cargo.toml`, by name, sorted.
    ///
    /// # Errors
    /// `exercises/` cannot be read.
    pub fn experiments(&self) -> Result<Vec<String>> {
        experiments_in(&self.root)
    }

    /// The names of the workspace's own packages: the directories of
    /// `crates/` and `exercises/` with a `Cargo.toml`, by package name.
    ///
    /// # Errors
    /// A directory that cannot be read.
    pub fn members(&self) -> Result<std::collections::BTreeSet<String>> {
        let mut names = std::collections::BTreeSet::new();
        for dir in ["crates", EXERCISES] {
            let Ok(entries) = fs::read_dir(self.root.join(dir)) else {
                continue;
            };
            for entry in entries.flatten() {
                if let Some(name) = package_name(&entry.path()) {
                    names.insert(name);
                }
            }
        }
        Ok(names)
    }

    /// The directory of experiment `name`.
    pub fn crate_dir(&self, name: &str) -> PathBuf {
        self.root.join(EXERCISES).join(name)
    }

    /// The target directory cargo uses for this workspace
    /// (`CARGO_TARGET_DIR`, a cargo setting, or `target/`).
    ///
    /// # Errors
    /// `cargo metadata` fails.
    pub fn target_dir(&self) -> Result<PathBuf> {
        let output = Command::new("cargo")
            .args(["metadata", "--format-version", "1", "--no-deps"])
            .current_dir(&self.root)
            .output()
            .map_err(|e| Error::io("running cargo metadata".into(), e))?;
        if !output.status.success() {
            return Err(Error::Failed(format!(
                "cargo metadata in {}: {}",
                self.root.display(),
                String::from_utf8_lossy(&output.stderr).trim()
            )));
        }
        let metadata: serde_json::Value = serde_json::from_slice(&output.stdout)
            .map_err(|e| Error::Failed(format!("cargo metadata: {e}")))?;
        metadata["target_directory"]
            .as_str()
            .map(PathBuf::from)
            .ok_or_else(|| Error::Failed("cargo metadata: no target_directory".into()))
    }
}

/// True if `dir` holds a `Cargo.toml` and an `exercises/` directory.
pub fn is_workspace(dir: &Path) -> bool {
    dir.join("Cargo.toml").is_file() && dir.join(EXERCISES).is_dir()
}

/// The experiment crates in the workspace at `root`, sorted.
///
/// # Errors
/// `exercises/` cannot be read.
pub fn experiments_in(root: &Path) -> Result<Vec<String>> {
    let dir = root.join(EXERCISES);
    let mut names = Vec::new();
    for entry in
        fs::read_dir(&dir).map_err(|e| Error::io(format!("reading {}", dir.display()), e))?
    {
        let entry = entry.map_err(|e| Error::io(format!("reading {}", dir.display()), e))?;
        if entry.path().join("Cargo.toml").is_file() {
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    names.sort();
    Ok(names)
}

/// The package name in `dir/Cargo.toml`, if it has a `[package]`.
pub fn package_name(dir: &Path) -> Option<String> {
    let text = fs::read_to_string(dir.join("Cargo.toml")).ok()?;
    let mut in_package = false;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_package = line == "[package]";
        } else if in_package && let Some(value) = line.strip_prefix("name") {
            let value = value.trim_start().strip_prefix('=')?.trim();
            return Some(value.trim_matches('"').to_owned());
        }
    }
    None
}

/// The crates a starter at `root` was made for, from its [`STARTER_FILE`]
/// (`None` if it has none).
pub fn starter_crates(root: &Path) -> Option<Vec<String>> {
    let text = fs::read_to_string(root.join(STARTER_FILE)).ok()?;
    let line = text.lines().find_map(|l| l.strip_prefix(CRATES_LINE))?;
    Some(line.split_whitespace().map(str::to_owned).collect())
}

/// Collects the files under `root/rel` into `files`, skipping [`SKIPPED`].
fn walk(root: &Path, rel: &Path, files: &mut Vec<PathBuf>) -> Result<()> {
    let dir = root.join(rel);
    let entries =
        fs::read_dir(&dir).map_err(|e| Error::io(format!("reading {}", dir.display()), e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(format!("reading {}", dir.display()), e))?;
        let path = rel.join(entry.file_name());
        if SKIPPED.iter().any(|s| path == Path::new(s)) || entry.file_name() == ".grade" {
            continue;
        }
        let kind = entry
            .file_type()
            .map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
        if kind.is_dir() {
            walk(root, &path, files)?;
        } else if kind.is_file() {
            files.push(path);
        }
    }
    Ok(())
}

/// Copies `from` to `to` (creating its directory), keeping the permission
/// bits (scripts stay executable). The copy is a new file, with a new
/// modification time.
///
/// # Errors
/// A file that cannot be read or written.
pub fn copy_file(from: &Path, to: &Path) -> Result<()> {
    if let Some(dir) = to.parent() {
        fs::create_dir_all(dir).map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
    }
    if fs::symlink_metadata(to).is_ok() {
        fs::remove_file(to).map_err(|e| Error::io(format!("replacing {}", to.display()), e))?;
    }
    fs::copy(from, to)
        .map(drop)
        .map_err(|e| Error::io(format!("copying {} to {}", from.display(), to.display()), e))
}

/// Writes `text` to `path`, creating its directory, without following a
/// link planted at `path` ([`ipc_core::file::Destination`]: a fresh file
/// beside it, renamed over it).
///
/// # Errors
/// The file cannot be written, or `path` is a directory, a link, a
/// special file or another user's file.
pub fn write_file(path: &Path, text: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
    }
    ipc_core::file::Destination::check(path)
        .and_then(|destination| destination.write(text))
        .map_err(|e| match e.exit_code() {
            2 => Error::Usage(e.to_string()),
            _ => Error::Failed(e.to_string()),
        })
}

/// True if `dir` does not exist or is an empty directory.
pub fn is_absent_or_empty(dir: &Path) -> io::Result<bool> {
    match fs::read_dir(dir) {
        Ok(mut entries) => Ok(entries.next().is_none()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(true),
        Err(e) => Err(e),
    }
}
