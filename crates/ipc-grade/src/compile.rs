//! Building a submission: each graded crate on its own, so that one crate
//! that does not compile costs only its own points, on top of a build of
//! the reference that every submission shares.
//!
//! In namespaces ([`crate::isolation`]) every build sees the workspace at
//! the same path, so what the reference compiled (ipc-core, the test kit,
//! every dependency) is what each submission would compile: the **base**
//! is built once per version of the reference (`base-<hash>` in the work
//! directory, never changed once complete), and each slot's build
//! directory starts as hard links to it, without the experiments' own
//! artifacts, which a submission rebuilds. Thirty students are then thirty
//! builds of their own crates, not thirty builds of the workspace.
//!
//! Without namespaces the tree is copied into the slot and built there, its
//! dependencies copied from the reference's own build, as before.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::isolation::{self, Job, Namespaces};
use crate::libtest;
use crate::sandbox::Limits;
use crate::workspace::{self, EXERCISES, Workspace};
use crate::{Error, Result};

/// The user the base is built as when the grader is root: none of the
/// runs' own users, so that no run can change a file of the base.
pub const BASE_UID: u32 = isolation::FIRST_UID - 1;

/// The environment of every cargo run in namespaces (the base and the
/// submissions must agree, or nothing is shared): no debug information
/// (the test binaries are a tenth of the size; a panic still names its
/// file and line) and no incremental state.
const CARGO_ENV: [(&str, &str); 5] = [
    ("CARGO_INCREMENTAL", "0"),
    ("CARGO_PROFILE_DEV_DEBUG", "0"),
    ("CARGO_PROFILE_TEST_DEBUG", "0"),
    ("CARGO_TERM_COLOR", "never"),
    ("CARGO_NET_OFFLINE", "true"),
];

/// What a build of one crate gave.
#[derive(Debug, Default, Clone)]
pub struct Built {
    /// (crate, test target, executable as the runs see it).
    pub executables: Vec<(String, String, PathBuf)>,
    /// The rendered errors of each crate that did not compile.
    pub errors: BTreeMap<String, Vec<String>>,
    /// What stopped the whole build.
    pub fatal: Option<String>,
    /// How many warnings each crate's sources got.
    pub warnings: BTreeMap<String, usize>,
}

impl Built {
    /// Reads cargo's `--message-format=json` lines; `root` is where the
    /// workspace was (sources outside `root/exercises/` belong to no
    /// experiment).
    pub fn parse(lines: &str, root: &Path) -> Built {
        let mut build = Built::default();
        for line in lines.lines() {
            let Ok(message) = serde_json::from_str::<serde_json::Value>(line) else {
                continue;
            };
            let krate = message["target"]["src_path"]
                .as_str()
                .and_then(|src| crate_of(Path::new(src), root));
            match message["reason"].as_str() {
                Some("compiler-artifact") => {
                    let is_test = message["target"]["kind"]
                        .as_array()
                        .is_some_and(|k| k.iter().any(|k| k == "test"));
                    let (Some(exe), Some(src)) = (
                        message["executable"].as_str(),
                        message["target"]["src_path"].as_str(),
                    ) else {
                        continue;
                    };
                    if let (true, Some(krate)) = (is_test, krate) {
                        build.executables.push((
                            krate,
                            libtest::target_name(Path::new(src)),
                            PathBuf::from(exe),
                        ));
                    }
                }
                Some("compiler-message") if message["message"]["level"] == "warning" => {
                    if let Some(krate) = krate {
                        *build.warnings.entry(krate).or_default() += 1;
                    }
                }
                Some("compiler-message") if message["message"]["level"] == "error" => {
                    let rendered = message["message"]["rendered"].as_str().unwrap_or("error");
                    build
                        .errors
                        .entry(krate.unwrap_or_default())
                        .or_default()
                        .push(rendered.trim_end().to_owned());
                }
                _ => {}
            }
        }
        build.executables.sort();
        build.executables.dedup();
        // An error outside the experiments stops them all.
        if let Some(errors) = build.errors.remove("") {
            build.fatal = Some(errors.join("\n"));
        }
        build
    }

    /// Why `krate` has no test to run, if it has none: its own errors, a
    /// crate it needs that did not compile, or what stopped the build.
    pub fn broken(&self, krate: &str) -> Option<String> {
        if let Some(errors) = self.errors.get(krate) {
            return Some(errors.join("\n"));
        }
        if let Some(fatal) = &self.fatal {
            return Some(fatal.clone());
        }
        if self.executables.iter().any(|(c, _, _)| c == krate) {
            return None;
        }
        let others: Vec<&str> = self.errors.keys().map(String::as_str).collect();
        Some(if others.is_empty() {
            "error: not built (cargo stopped before compiling it)".into()
        } else {
            format!(
                "error: a crate it needs did not compile ({})",
                others.join(", ")
            )
        })
    }
}

/// The experiment a source file belongs to: the directory after
/// `exercises/`, below `root`.
pub fn crate_of(src: &Path, root: &Path) -> Option<String> {
    let rel = src.strip_prefix(root).ok()?;
    let mut parts = rel.components();
    (parts.next()?.as_os_str() == EXERCISES)
        .then(|| parts.next())
        .flatten()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
}

/// The program `scripts/clean.sh` runs, built into the base: checks find
/// it through `IPC_LAB_CLEAN` (they cannot build).
pub const CLEAN_PROGRAM: &str = "debug/ipc-lab-clean";

/// The `cargo` arguments that build `ipc-lab-clean`.
fn clean_build_args() -> Vec<String> {
    [
        "build",
        "--locked",
        "--offline",
        "--message-format=json",
        "-p",
        "ipc-cli",
        "--bin",
        "ipc-lab-clean",
    ]
    .map(String::from)
    .to_vec()
}

/// The `cargo` arguments that build `krate`'s integration tests (and so
/// its programs).
pub fn test_build_args(krates: &[String]) -> Vec<String> {
    let mut args: Vec<String> = [
        "test",
        "--no-run",
        "--locked",
        "--offline",
        "--message-format=json",
    ]
    .map(String::from)
    .to_vec();
    for krate in krates {
        args.push("-p".into());
        args.push(krate.clone());
    }
    args.push("--tests".into());
    args
}

/// A digest of the reference's build inputs (the names and contents of
/// its `.rs`, `.toml` and `.lock` files) and of the toolchain: the name of
/// its base. A handout or a script changed does not call for a new base:
/// the runs read those from the reference itself.
///
/// # Errors
/// A file that cannot be read.
pub fn reference_hash(ws: &Workspace, sysroot: &Path) -> Result<String> {
    let mut hasher = Sha256::new();
    hasher.update(sysroot.as_os_str().as_encoded_bytes());
    let built_from = |file: &Path| {
        file.extension()
            .is_some_and(|e| e == "rs" || e == "toml" || e == "lock")
    };
    for file in ws.files()?.into_iter().filter(|f| built_from(f)) {
        let bytes = fs::read(ws.root().join(&file))
            .map_err(|e| Error::io(format!("reading {}", file.display()), e))?;
        hasher.update(file.as_os_str().as_encoded_bytes());
        hasher.update((bytes.len() as u64).to_le_bytes());
        hasher.update(&bytes);
    }
    let digest = hasher.finalize();
    Ok(digest[..8].iter().map(|b| format!("{b:02x}")).collect())
}

/// The marker of a complete base.
const COMPLETE: &str = ".complete";

/// The base build of the reference in namespaces: `work/base-<hash>`,
/// built now if it is not complete yet (another grader building it is
/// waited for). Older bases are removed (slots keep their hard links).
///
/// # Errors
/// The build fails (the reference must build), or the work directory
/// cannot be written.
pub fn base(
    work: &Path,
    ws: &Workspace,
    ns: &Namespaces,
    timeout: Duration,
    progress: &dyn Fn(&str),
) -> Result<PathBuf> {
    let hash = reference_hash(ws, ns.sysroot())?;
    let dir = work.join(format!("base-{hash}"));
    if dir.join(COMPLETE).exists() {
        return Ok(dir);
    }
    fs::create_dir_all(work).map_err(|e| Error::io(format!("creating {}", work.display()), e))?;
    let _lock = crate::work::Lock::exclusive(&work.join("base.lock"), progress)?;
    if dir.join(COMPLETE).exists() {
        return Ok(dir);
    }
    progress(&format!(
        "grade: building the reference once ({}): every submission shares it",
        dir.display()
    ));
    fs::create_dir_all(&dir).map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
    own(&dir, ns.changes_user().then_some(BASE_UID))?;
    let experiments = ws.experiments()?;
    for args in [test_build_args(&experiments), clean_build_args()] {
        let built = cargo_in_namespaces(ns, ws.root(), &[], &dir, BASE_UID, &args, timeout)?;
        if let Some(error) = built
            .fatal
            .or_else(|| built.errors.values().next().map(|e| e.join("\n")))
        {
            return Err(Error::Failed(format!(
                "the reference does not build in namespaces: {}",
                libtest::cap(&error)
            )));
        }
    }
    workspace::write_file(&dir.join(COMPLETE), hash.as_bytes())?;
    // Older bases go; a slot made from one keeps its hard links.
    if let Ok(entries) = fs::read_dir(work) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with("base-") && entry.path() != dir {
                let _ = fs::remove_dir_all(entry.path());
            }
        }
    }
    Ok(dir)
}

/// Makes `target` a build directory that starts from `base`: hard links to
/// every file of the base but the experiments' own artifacts (a slot's
/// build rewrites those). Does nothing if it already started from this
/// base.
///
/// # Errors
/// A file that cannot be linked or a directory that cannot be made.
pub fn from_base(
    base: &Path,
    target: &Path,
    experiments: &[String],
    uid: Option<u32>,
) -> Result<()> {
    let marker = target.join(".base");
    let name = base.file_name().map(|n| n.to_string_lossy().into_owned());
    if fs::read_to_string(&marker).ok() == name {
        return Ok(());
    }
    let _ = fs::remove_dir_all(target);
    // An experiment's units: its package's fingerprint directories
    // (`.fingerprint/exp7-shm-<hash>`) give the hashes that name every
    // artifact of the unit (`deps/output-<hash>`, its test programs).
    let experiments: BTreeSet<String> = experiments.iter().map(|e| e.replace('_', "-")).collect();
    let mut hashes = BTreeSet::new();
    for profile in fs::read_dir(base).into_iter().flatten().flatten() {
        for unit in fs::read_dir(profile.path().join(".fingerprint"))
            .into_iter()
            .flatten()
            .flatten()
        {
            let name = unit.file_name().to_string_lossy().into_owned();
            if let Some((package, hash)) = name.rsplit_once('-')
                && experiments.contains(&package.replace('_', "-"))
            {
                hashes.insert(hash.to_owned());
            }
        }
    }
    link_tree(base, target, &|rel: &Path| {
        let name = rel
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let stem = name.split('.').next().unwrap_or(&name);
        let stem = stem.strip_prefix("lib").unwrap_or(stem);
        let hashed = stem
            .rsplit_once('-')
            .is_some_and(|(_, h)| hashes.contains(h));
        // Cargo's lock and notes, every artifact of an experiment's units,
        // and its programs (`debug/exp7-shm`) are the slot's own.
        name == ".cargo-lock"
            || name == COMPLETE
            || rel.parent() == Some(Path::new("")) && name.ends_with(".json")
            || hashed
            || experiments.contains(&stem.replace('_', "-"))
    })?;
    own(target, uid)?;
    workspace::write_file(&marker, name.unwrap_or_default().as_bytes())
}

/// Hard-links every file under `from` to the same place under `to`,
/// except those `skip` names (by path relative to `from`); directories are
/// made anew.
fn link_tree(from: &Path, to: &Path, skip: &dyn Fn(&Path) -> bool) -> Result<()> {
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let dir = from.join(&rel);
        fs::create_dir_all(to.join(&rel))
            .map_err(|e| Error::io(format!("creating {}", to.join(&rel).display()), e))?;
        let entries =
            fs::read_dir(&dir).map_err(|e| Error::io(format!("reading {}", dir.display()), e))?;
        for entry in entries.flatten() {
            let path = rel.join(entry.file_name());
            if skip(&path) {
                continue;
            }
            match entry.file_type() {
                Ok(kind) if kind.is_dir() => stack.push(path),
                Ok(kind) if kind.is_file() => {
                    fs::hard_link(from.join(&path), to.join(&path)).map_err(|e| {
                        Error::io(format!("linking {}", to.join(&path).display()), e)
                    })?;
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// Gives the directories under `dir` (not the files: those of the base
/// stay the base user's) to `uid`, so that its builds can add files.
fn own(dir: &Path, uid: Option<u32>) -> Result<()> {
    let Some(uid) = uid else { return Ok(()) };
    let mut stack = vec![dir.to_owned()];
    while let Some(dir) = stack.pop() {
        std::os::unix::fs::chown(&dir, Some(uid), Some(uid))
            .map_err(|e| Error::io(format!("chown {}", dir.display()), e))?;
        for entry in fs::read_dir(&dir).into_iter().flatten().flatten() {
            if entry.file_type().is_ok_and(|k| k.is_dir()) {
                stack.push(entry.path());
            }
        }
    }
    Ok(())
}

/// Runs `cargo ARGS` (a build: [`test_build_args`]) in namespaces: the
/// reference at [`isolation::TREE`] with `sources` over it, `target` as the
/// build directory, as `uid`.
///
/// # Errors
/// [`Error::Interrupted`]; the run could not be made.
pub fn cargo_in_namespaces(
    ns: &Namespaces,
    reference: &Path,
    sources: &[(PathBuf, PathBuf)],
    target: &Path,
    uid: u32,
    cargo_args: &[String],
    timeout: Duration,
) -> Result<Built> {
    let cargo = ns.sysroot().join("bin/cargo");
    let mut command: Vec<std::ffi::OsString> = vec![cargo.into()];
    command.extend(cargo_args.iter().map(Into::into));
    let mut env: Vec<(String, std::ffi::OsString)> = CARGO_ENV
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).into()))
        .collect();
    env.push(("CARGO_HOME".into(), ns.cargo_home().into()));
    env.push(("RUSTC".into(), ns.sysroot().join("bin/rustc").into()));
    env.push(("CARGO_TARGET_DIR".into(), isolation::TARGET.into()));
    let job = Job {
        reference,
        sources,
        target,
        build: true,
        uid,
        limits: Limits {
            timeout,
            max_processes: 512,
            grace: Duration::from_secs(5),
        },
        cwd: PathBuf::new(),
        command,
        env,
        hide: &[],
    };
    let report = ns.run(&job)?;
    if let Some(error) = report.error {
        return Err(Error::Failed(format!("building in namespaces: {error}")));
    }
    let mut built = Built::parse(&report.stdout, Path::new(isolation::TREE));
    if report
        .troubles
        .iter()
        .any(|t| matches!(t, crate::sandbox::Trouble::TimedOut(_)))
    {
        built.fatal = Some(format!(
            "the build did not end within {} s (--build-timeout); killed",
            timeout.as_secs()
        ));
    } else if built.executables.is_empty() && built.errors.is_empty() && report.code != Some(0) {
        // Cargo stopped before compiling anything: a broken manifest.
        built.fatal = Some(libtest::cap(
            report
                .stderr
                .lines()
                .find(|l| l.starts_with("error"))
                .unwrap_or("cargo test --no-run failed"),
        ));
    }
    Ok(built)
}

/// Makes the test programs of `built` executable but not readable by the
/// runs (mode 0111): a process that cannot read its program's file is
/// not dumpable, so no other process of the run, the student's included,
/// can trace it or write to its descriptors (`prctl(2)`,
/// `PR_SET_DUMPABLE`). `target` is the build directory on the host.
///
/// # Errors
/// A file whose mode cannot be changed.
pub fn seal(built: &Built, target: &Path) -> Result<()> {
    for (_, _, exe) in &built.executables {
        let Ok(rel) = exe.strip_prefix(isolation::TARGET) else {
            continue;
        };
        let path = target.join(rel);
        fs::set_permissions(&path, fs::Permissions::from_mode(0o111))
            .map_err(|e| Error::io(format!("chmod {}", path.display()), e))?;
    }
    Ok(())
}

/// Undoes [`seal`] for the programs a previous submission of the slot
/// left in `target` (the host's build directory), so that the next build
/// can replace them (rustc refuses an output it cannot write).
///
/// # Errors
/// A file whose mode cannot be changed.
pub fn unseal(target: &Path) -> Result<()> {
    for profile in fs::read_dir(target).into_iter().flatten().flatten() {
        for entry in fs::read_dir(profile.path().join("deps"))
            .into_iter()
            .flatten()
            .flatten()
        {
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_file() && meta.permissions().mode() & 0o777 == 0o111 {
                fs::set_permissions(entry.path(), fs::Permissions::from_mode(0o755))
                    .map_err(|e| Error::io(format!("chmod {}", entry.path().display()), e))?;
            }
        }
    }
    Ok(())
}

/// Builds the tests of `krates` in the workspace at `root` with `target`
/// as the build directory, directly (no namespaces): the fallback.
///
/// # Errors
/// [`Error::Interrupted`]; cargo cannot be started.
pub fn cargo_here(
    root: &Path,
    target: &Path,
    krates: &[String],
    timeout: Duration,
) -> Result<Built> {
    let mut command = Command::new("cargo");
    command
        .args(test_build_args(krates))
        .current_dir(root)
        .env("CARGO_TARGET_DIR", target)
        .env("CARGO_INCREMENTAL", "0")
        .env("CARGO_TERM_COLOR", "never")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    {
        use std::os::unix::process::CommandExt;
        command.process_group(0);
    }
    let mut child = command
        .spawn()
        .map_err(|e| Error::io("starting cargo test --no-run".into(), e))?;
    let stdout = child.stdout.take();
    let lines = std::thread::spawn(move || {
        stdout
            .map(|s| {
                BufReader::new(s)
                    .lines()
                    .map_while(|l| l.ok())
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .unwrap_or_default()
    });
    let mut stderr = child.stderr.take();
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(stderr) = stderr.as_mut() {
            let _ = std::io::Read::read_to_string(stderr, &mut text);
        }
        text
    });
    let deadline = ipc_core::blocking::Deadline::after(timeout);
    let pgid = nix::unistd::Pid::from_raw(child.id() as i32);
    let status = loop {
        if let Some(status) = child
            .try_wait()
            .map_err(|e| Error::io("waiting for cargo".into(), e))?
        {
            break Some(status);
        }
        let interrupted = ipc_core::signal::interrupted();
        if interrupted || deadline.has_passed() {
            let _ = nix::sys::signal::killpg(pgid, nix::sys::signal::Signal::SIGKILL);
            let _ = child.wait();
            if interrupted {
                return Err(Error::Interrupted);
            }
            break None;
        }
        std::thread::sleep(ipc_core::blocking::POLL_INTERVAL);
    };
    let lines = lines.join().unwrap_or_default();
    let stderr = errors.join().unwrap_or_default();
    let mut built = Built::parse(&lines, root);
    if status.is_none() {
        built.fatal = Some(format!(
            "the build did not end within {} s (--build-timeout); killed",
            timeout.as_secs()
        ));
    } else if built.executables.is_empty()
        && built.errors.is_empty()
        && !status.is_some_and(|s| s.success())
    {
        built.fatal = Some(libtest::cap(
            stderr
                .lines()
                .find(|l| l.starts_with("error"))
                .unwrap_or("cargo test --no-run failed"),
        ));
    }
    Ok(built)
}

/// Seeds `to`, a new target profile directory (`…/debug`), with what
/// `from`, the reference's, compiled of every package that is not one of
/// the workspace's `members` (package names): the dependencies from
/// crates.io, whose compiled form does not depend on where the workspace
/// is. Cargo finds them fresh and builds only the workspace's own crates.
/// Returns how many files were copied (0 when `from` has none).
///
/// # Errors
/// A file that cannot be copied.
pub fn seed_target(from: &Path, to: &Path, members: &BTreeSet<String>) -> Result<usize> {
    let ours = |name: &str| members.contains(&name.replace('_', "-"));
    // `name-0123abcd…` (a directory of .fingerprint/ or build/, a .d file).
    let package = |stem: &str| stem.rsplit_once('-').map(|(name, _)| name.to_owned());
    let mut copied = 0;
    for dir in [".fingerprint", "build"] {
        let Ok(entries) = fs::read_dir(from.join(dir)) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if package(&name).is_some_and(|p| !ours(&p)) && entry.path().is_dir() {
                copied += copy_all(&entry.path(), &to.join(dir).join(&name))?;
            }
        }
    }
    if let Ok(entries) = fs::read_dir(from.join("deps")) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let stem = match name.rsplit_once('.') {
                Some((stem, "rlib" | "rmeta" | "so")) => stem.strip_prefix("lib").unwrap_or(stem),
                Some((stem, "d")) => stem,
                _ => continue,
            };
            if package(stem).is_some_and(|p| !ours(&p)) {
                workspace::copy_file(&entry.path(), &to.join("deps").join(&name))?;
                copied += 1;
            }
        }
    }
    Ok(copied)
}

/// Copies everything under `from` to `to`; returns how many files.
fn copy_all(from: &Path, to: &Path) -> Result<usize> {
    let mut copied = 0;
    let entries =
        fs::read_dir(from).map_err(|e| Error::io(format!("reading {}", from.display()), e))?;
    for entry in entries.flatten() {
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let target = to.join(entry.file_name());
        if kind.is_dir() {
            copied += copy_all(&entry.path(), &target)?;
        } else if kind.is_file() {
            workspace::copy_file(&entry.path(), &target)?;
            copied += 1;
        }
    }
    Ok(copied)
}

/// A compiler error in one line: its first line and where it is
/// (`does not compile: error[E0425]: cannot find value `x` in this scope
/// (exercises/exp7-shm/src/lib.rs:16)`), the path relative to the tree.
pub fn first_error(errors: &str) -> String {
    let mut lines = errors.lines();
    let head = lines.next().unwrap_or("error").trim();
    let at = errors
        .lines()
        .find_map(|l| l.trim_start().strip_prefix("--> "))
        .map(|l| {
            let l = l.trim();
            let l = l
                .strip_prefix(isolation::TREE)
                .map_or(l, |rest| rest.trim_start_matches('/'));
            // file:line:column → file:line
            match l.rsplit_once(':') {
                Some((rest, col)) if col.bytes().all(|b| b.is_ascii_digit()) => rest.to_owned(),
                _ => l.to_owned(),
            }
        });
    let head = head.strip_prefix("error: ").unwrap_or(head);
    libtest::cap(&match at {
        Some(at) => format!("does not compile: {head} ({at})"),
        None => format!("does not compile: {head}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_compiler_error_is_one_line_with_its_place() {
        let rendered = "error[E0425]: cannot find value `x` in this scope\n  --> exercises/exp7-shm/src/lib.rs:16:9\n   |\n16 |     x\n";
        assert_eq!(
            first_error(rendered),
            "does not compile: error[E0425]: cannot find value `x` in this scope (exercises/exp7-shm/src/lib.rs:16)"
        );
        let inside = rendered.replace("exercises/", "/tmp/ipc-lab-grade/ws/exercises/");
        assert!(first_error(&inside).ends_with("(exercises/exp7-shm/src/lib.rs:16)"));
    }

    #[test]
    fn sources_belong_to_the_crate_after_exercises() {
        let root = Path::new("/w");
        assert_eq!(
            crate_of(Path::new("/w/exercises/exp7-shm/tests/output.rs"), root).as_deref(),
            Some("exp7-shm")
        );
        assert_eq!(
            crate_of(Path::new("/w/crates/ipc-core/src/lib.rs"), root),
            None
        );
        assert_eq!(crate_of(Path::new("/x/exercises/a/src/lib.rs"), root), None);
    }

    #[test]
    fn a_crate_without_tests_says_why() {
        let mut built = Built::default();
        built
            .errors
            .insert("exp7-shm".into(), vec!["error: x".into()]);
        assert_eq!(built.broken("exp7-shm").as_deref(), Some("error: x"));
        assert_eq!(
            built.broken("exp7").as_deref(),
            Some("error: a crate it needs did not compile (exp7-shm)")
        );
        built
            .executables
            .push(("exp7".into(), "menu".into(), "/t/menu".into()));
        assert_eq!(built.broken("exp7"), None);
    }
}
