//! A student's hand-in: one `.tar.gz` of what the grader takes, with a
//! manifest, and the grader's careful unpacking of it.
//!
//! `scripts/handin.sh CRATE…` ([`pack`]) writes `handin-CRATE+CRATE.tar.gz`
//! holding, for each crate, `exercises/<crate>/src/**` and
//! `exercises/<crate>/ANSWERS.md` (if there is one), and first of all
//! [`MANIFEST`]:
//!
//! ```toml
//! # An ipc-lab hand-in: scripts/handin.sh wrote it; the grader checks it.
//! format = 1
//! commit = "4f2c…"          # the kit the student started from, or "unknown"
//! crates = ["exp7-shm"]
//!
//! [files]                   # every other file of the archive, with its SHA-256
//! "exercises/exp7-shm/src/lib.rs" = "9b1e…"
//! ```
//!
//! The same work packs to the same bytes: entries sorted, modes 0644,
//! owner 0, one fixed modification time, a gzip header without a name or
//! a time.
//!
//! The grader reads an archive as hostile input ([`unpack`]): before it
//! writes anything, it refuses, naming the entry, an entry that is not a
//! regular file or a directory (a link, a device, a FIFO), an absolute
//! path or one with `..`, a path other than [`MANIFEST`] and the
//! manifest's crates' `src/**` and `ANSWERS.md`, a duplicate, a file not
//! in the manifest or listed but absent, a hash that does not match, a
//! crate name that is not a plain name, a missing or malformed manifest,
//! and anything past its [`Limits`] (counted while decompressing, so a
//! gzip bomb stops at the limit). Files are written with mode 0644,
//! directories 0755, whatever the archive says.
//!
//! ```
//! use ipc_grade::handin::{self, Limits};
//! let dir = ipc_testkit::TempDir::new("handin-doc");
//! let root = dir.join("kit");
//! std::fs::create_dir_all(root.join("exercises/exp0/src")).unwrap();
//! std::fs::write(root.join("Cargo.toml"), "[workspace]\n").unwrap();
//! std::fs::write(root.join("exercises/exp0/Cargo.toml"), "[package]\nname = \"exp0\"\n").unwrap();
//! std::fs::write(root.join("exercises/exp0/src/lib.rs"), "pub fn f() {}\n").unwrap();
//! let out = dir.join("h.tar.gz");
//! let packed = handin::pack(&root, &["exp0".to_owned()], Some(&out), false).unwrap();
//! assert_eq!(packed.files, [("exercises/exp0/src/lib.rs".to_owned(), 14)]);
//! let handin = handin::unpack(&out, &dir.join("graded")).unwrap();
//! assert_eq!(handin.crates, ["exp0"]);
//! assert_eq!(std::fs::read_to_string(dir.join("graded/exercises/exp0/src/lib.rs")).unwrap(), "pub fn f() {}\n");
//! ```

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::rc::Rc;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::workspace::{self, CRATES_LINE, EXERCISES, STARTER_FILE};
use crate::{Error, Result};

/// The manifest's name, at the root of the archive.
pub const MANIFEST: &str = "MANIFEST.toml";

/// The manifest's format, written as `format = 1`.
pub const FORMAT: u32 = 1;

/// The line of a starter's [`STARTER_FILE`] that names the kit's commit
/// (`Commit: 4f2c…`).
pub const COMMIT_LINE: &str = "Commit:";

/// The student's answers, in each crate's directory.
pub const ANSWERS: &str = crate::answers::FILE;

/// The modification time of every entry: 2000-01-01, so that the same
/// work packs to the same bytes.
const MTIME: u64 = 946_684_800;

/// The most a path in an archive may have, in bytes.
const MAX_PATH: usize = 512;

/// What an archive may hold, at most. The defaults are far above a lab's
/// sources and answers, and far below what could fill a disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of one file (default 1 MiB).
    pub file_bytes: u64,
    /// Bytes of all files together (default 8 MiB).
    pub total_bytes: u64,
    /// Entries: files and directories (default 1000).
    pub entries: usize,
    /// Bytes of the compressed archive (default 8 MiB).
    pub archive_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            file_bytes: 1 << 20,
            total_bytes: 8 << 20,
            entries: 1000,
            archive_bytes: 8 << 20,
        }
    }
}

impl Limits {
    /// The most the decompressed tar stream may have: the files, plus
    /// room for each entry's headers and padding, and the end.
    pub fn stream_bytes(&self) -> u64 {
        self.total_bytes
            .saturating_add((self.entries as u64).saturating_add(4).saturating_mul(4096))
    }
}

/// The manifest of a hand-in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// [`FORMAT`].
    pub format: u32,
    /// The kit's commit (hexadecimal), or `unknown`.
    pub commit: String,
    /// The crates handed in, sorted.
    pub crates: Vec<String>,
    /// Every file of the archive but the manifest, by path, with its
    /// SHA-256 in lowercase hexadecimal.
    pub files: BTreeMap<String, String>,
}

impl Manifest {
    /// The manifest as TOML, with a first comment line.
    ///
    /// # Errors
    /// [`Error::Failed`] if it cannot be written as TOML.
    pub fn to_toml(&self) -> Result<String> {
        let body =
            toml::to_string(self).map_err(|e| Error::Failed(format!("writing {MANIFEST}: {e}")))?;
        Ok(format!(
            "# An ipc-lab hand-in: scripts/handin.sh wrote it; the grader checks it.\n{body}"
        ))
    }

    /// Reads and checks a manifest: its format, plain crate names without
    /// a duplicate, a commit in hexadecimal (or `unknown`), a hash of 64
    /// lowercase hexadecimal digits per file.
    ///
    /// # Errors
    /// A message saying what is wrong.
    pub fn parse(text: &str) -> std::result::Result<Manifest, String> {
        let manifest: Manifest = toml::from_str(text).map_err(|e| e.to_string())?;
        if manifest.format != FORMAT {
            return Err(format!(
                "format {} (this grader reads format {FORMAT}): pack it again with this kit's scripts/handin.sh",
                manifest.format
            ));
        }
        if !(manifest.commit == "unknown" || is_hex(&manifest.commit, 7..=64)) {
            return Err(format!(
                "commit {:?} is neither a commit in hexadecimal nor \"unknown\"",
                manifest.commit
            ));
        }
        if manifest.crates.is_empty() {
            return Err("it names no crate".into());
        }
        let mut seen = BTreeSet::new();
        for krate in &manifest.crates {
            if !plain_name(krate) {
                return Err(format!(
                    "crate {krate:?} is not a plain name (letters, digits, - and _)"
                ));
            }
            if !seen.insert(krate) {
                return Err(format!("crate {krate} is named twice"));
            }
        }
        for (path, hash) in &manifest.files {
            if !is_hex(hash, 64..=64) || hash.bytes().any(|b| b.is_ascii_uppercase()) {
                return Err(format!(
                    "the hash of {path} is not a SHA-256 (64 lowercase hexadecimal digits)"
                ));
            }
        }
        Ok(manifest)
    }
}

/// True if `text` is `len` hexadecimal digits.
fn is_hex(text: &str, len: std::ops::RangeInclusive<usize>) -> bool {
    len.contains(&text.len()) && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// True if `name` can be a crate of a hand-in: 1 to 64 ASCII letters,
/// digits, `-` and `_`, starting with a letter or digit.
///
/// ```
/// use ipc_grade::handin::plain_name;
/// assert!(plain_name("exp7-shm"));
/// assert!(!plain_name("..") && !plain_name("a/b") && !plain_name("") && !plain_name("-x"));
/// ```
pub fn plain_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The archive's name when none is given: `handin-exp7-shm+exp7.tar.gz`.
pub fn default_name(crates: &[String]) -> String {
    let mut sorted = crates.to_vec();
    sorted.sort();
    sorted.dedup();
    format!("handin-{}.tar.gz", sorted.join("+"))
}

/// The commit of the kit a workspace was made from: the `Commit:` line of
/// its starter's [`STARTER_FILE`] when it has one (a student who keeps
/// their work in git has commits of their own), else `git rev-parse HEAD`
/// when it is a git checkout, else `unknown`.
pub fn kit_commit(root: &Path) -> String {
    let from_starter = fs::read_to_string(root.join(STARTER_FILE))
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|l| l.strip_prefix(COMMIT_LINE))
                .map(|c| c.trim().to_owned())
        })
        .filter(|c| is_hex(c, 7..=64));
    if let Some(commit) = from_starter {
        return commit.to_ascii_lowercase();
    }
    if root.join(".git").exists()
        && let Ok(output) = Command::new("git")
            .arg("-C")
            .arg(root)
            .args(["rev-parse", "HEAD"])
            .output()
        && output.status.success()
    {
        let commit = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        if is_hex(&commit, 7..=64) {
            return commit.to_ascii_lowercase();
        }
    }
    "unknown".into()
}

/// What [`pack`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packed {
    /// The archive.
    pub path: PathBuf,
    /// The crates, sorted.
    pub crates: Vec<String>,
    /// Each file packed (but the manifest), by path in the archive, with
    /// its size.
    pub files: Vec<(String, u64)>,
    /// The archive's size.
    pub bytes: u64,
    /// The kit's commit ([`kit_commit`]).
    pub commit: String,
}

/// Packs `crates` of the workspace at `root` into `out` (default:
/// [`default_name`] in the current directory): each crate's `src/` and
/// `ANSWERS.md` with a [`Manifest`]. Refuses to replace an existing `out`
/// unless `overwrite`.
///
/// # Errors
/// [`Error::Usage`] for no crate, a crate that is not an experiment of
/// the workspace, an `out` that exists (without `overwrite`) or lies
/// inside a `src/` it packs, a symbolic link or anything but a regular
/// file or a directory inside `src/` (named), a name that is not UTF-8,
/// more than [`Limits::default`] allows; [`Error::Io`] for a file that
/// cannot be read or written.
pub fn pack(root: &Path, crates: &[String], out: Option<&Path>, overwrite: bool) -> Result<Packed> {
    let limits = Limits::default();
    if !workspace::is_workspace(root) {
        return Err(Error::Usage(format!(
            "{} is not an ipc-lab workspace (no Cargo.toml and {EXERCISES}/ in it)",
            root.display()
        )));
    }
    let known = workspace::experiments_in(root)?;
    let mut crates = crates.to_vec();
    crates.sort();
    crates.dedup();
    if crates.is_empty() {
        return Err(Error::Usage(format!(
            "name the crates to hand in: {}",
            known.join(" ")
        )));
    }
    for krate in &crates {
        if !plain_name(krate) || !known.contains(krate) {
            return Err(Error::Usage(format!(
                "no experiment named {krate} in {} (known: {})",
                root.display(),
                known.join(" ")
            )));
        }
        let src = root.join(EXERCISES).join(krate).join("src");
        if !fs::symlink_metadata(&src).is_ok_and(|m| m.is_dir()) {
            return Err(Error::Usage(format!(
                "{} is not a directory: there is nothing of {krate} to hand in",
                src.display()
            )));
        }
    }
    let out = match out {
        Some(out) => out.to_owned(),
        None => PathBuf::from(default_name(&crates)),
    };
    if !overwrite && fs::symlink_metadata(&out).is_ok() {
        return Err(Error::Usage(format!(
            "{} exists: pass --force to replace it, or --out another file",
            out.display()
        )));
    }
    let out_dir = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    if let Ok(out_dir) = out_dir.canonicalize() {
        for krate in &crates {
            let src = root.join(EXERCISES).join(krate).join("src");
            if src.canonicalize().is_ok_and(|s| out_dir.starts_with(s)) {
                return Err(Error::Usage(format!(
                    "{} lies inside {}, which it packs: write it elsewhere (--out)",
                    out.display(),
                    src.display()
                )));
            }
        }
    }

    // Every file, by path in the archive.
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut total = 0u64;
    for krate in &crates {
        let rel = format!("{EXERCISES}/{krate}");
        let mut found = Vec::new();
        walk(root, &format!("{rel}/src"), &mut found)?;
        let answers = format!("{rel}/{ANSWERS}");
        match fs::symlink_metadata(root.join(&answers)) {
            Ok(meta) if meta.is_file() => found.push(answers),
            Ok(meta) => {
                return Err(Error::Usage(format!(
                    "{answers} is {}: a hand-in holds regular files only; make it the file itself",
                    what_file(&meta.file_type())
                )));
            }
            Err(_) => {}
        }
        for path in found {
            let full = root.join(&path);
            let size = fs::symlink_metadata(&full)
                .map_err(|e| Error::io(format!("reading {}", full.display()), e))?
                .len();
            if size > limits.file_bytes {
                return Err(Error::Usage(format!(
                    "{path} has {size} bytes, more than a hand-in's {} per file: is it a source file?",
                    limits.file_bytes
                )));
            }
            let data =
                fs::read(&full).map_err(|e| Error::io(format!("reading {}", full.display()), e))?;
            total += data.len() as u64;
            files.insert(path, data);
        }
    }
    if total > limits.total_bytes || files.len() + 1 > limits.entries {
        return Err(Error::Usage(format!(
            "{} files of {total} bytes: more than a hand-in may hold ({} files, {} bytes)",
            files.len(),
            limits.entries - 1,
            limits.total_bytes
        )));
    }
    let commit = kit_commit(root);
    let manifest = Manifest {
        format: FORMAT,
        commit: commit.clone(),
        crates: crates.clone(),
        files: files
            .iter()
            .map(|(path, data)| (path.clone(), sha256(data)))
            .collect(),
    };
    let archive = archive_bytes(manifest.to_toml()?.as_bytes(), &files)
        .map_err(|e| Error::io("writing the archive".into(), e))?;
    write_out(&out, &archive, overwrite)?;
    Ok(Packed {
        path: out,
        crates,
        files: files
            .iter()
            .map(|(path, data)| (path.clone(), data.len() as u64))
            .collect(),
        bytes: archive.len() as u64,
        commit,
    })
}

/// The regular files under `root/rel`, as paths relative to `root`.
///
/// # Errors
/// [`Error::Usage`] naming a link or any other non-regular file, or a
/// name that is not UTF-8 or holds a control character.
fn walk(root: &Path, rel: &str, found: &mut Vec<String>) -> Result<()> {
    let dir = root.join(rel);
    let mut entries: Vec<fs::DirEntry> = fs::read_dir(&dir)
        .map_err(|e| Error::io(format!("reading {}", dir.display()), e))?
        .collect::<io::Result<_>>()
        .map_err(|e| Error::io(format!("reading {}", dir.display()), e))?;
    entries.sort_by_key(fs::DirEntry::file_name);
    for entry in entries {
        let name = entry.file_name();
        let Some(name) = name.to_str().filter(|n| !n.chars().any(char::is_control)) else {
            return Err(Error::Usage(format!(
                "{rel}/{}: a file name a hand-in cannot carry (not UTF-8, or a control character): rename it",
                name.to_string_lossy()
            )));
        };
        let path = format!("{rel}/{name}");
        let kind = entry
            .file_type()
            .map_err(|e| Error::io(format!("reading {path}"), e))?;
        if kind.is_dir() {
            walk(root, &path, found)?;
        } else if kind.is_file() {
            found.push(path);
        } else {
            return Err(Error::Usage(format!(
                "{path} is {}: a hand-in holds regular files only; replace it with the file itself, or remove it",
                what_file(&kind)
            )));
        }
    }
    Ok(())
}

/// `a symbolic link`, `a FIFO`… for a file type that is not regular.
fn what_file(kind: &fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt as _;
    if kind.is_symlink() {
        "a symbolic link"
    } else if kind.is_dir() {
        "a directory"
    } else if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_block_device() {
        "a block device"
    } else if kind.is_char_device() {
        "a character device"
    } else {
        "not a regular file"
    }
}

/// SHA-256 in lowercase hexadecimal.
fn sha256(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .fold(String::with_capacity(64), |mut hex, byte| {
            use std::fmt::Write as _;
            let _ = write!(hex, "{byte:02x}");
            hex
        })
}

/// The archive: the manifest, then every file in path order, all with
/// the same owner, mode and time, gzip-compressed without a name or time.
fn archive_bytes(manifest: &[u8], files: &BTreeMap<String, Vec<u8>>) -> io::Result<Vec<u8>> {
    let gzip = flate2::GzBuilder::new()
        .operating_system(255)
        .write(Vec::new(), flate2::Compression::best());
    let mut tar = tar::Builder::new(gzip);
    let mut add = |path: &str, data: &[u8]| {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Regular);
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(MTIME);
        tar.append_data(&mut header, path, data)
    };
    add(MANIFEST, manifest)?;
    for (path, data) in files {
        add(path, data)?;
    }
    tar.into_inner()?.finish()
}

/// Writes the archive to `out`: a new file, or (when `overwrite`) one put
/// in place whole.
fn write_out(out: &Path, bytes: &[u8], overwrite: bool) -> Result<()> {
    let what = |e| Error::io(format!("writing {}", out.display()), e);
    if !overwrite {
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o644)
            .open(out)
            .map_err(|e| {
                if e.kind() == io::ErrorKind::AlreadyExists {
                    Error::Usage(format!(
                        "{} exists: pass --force to replace it, or --out another file",
                        out.display()
                    ))
                } else {
                    what(e)
                }
            })?;
        if let Err(e) = file.write_all(bytes).and_then(|()| file.sync_all()) {
            let _ = fs::remove_file(out);
            return Err(what(e));
        }
        return Ok(());
    }
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = out.with_file_name(format!(".{name}.{}.part", std::process::id()));
    let written = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o644)
        .open(&temp)
        .and_then(|mut file| file.write_all(bytes).and_then(|()| file.sync_all()))
        .and_then(|()| fs::rename(&temp, out));
    if let Err(e) = written {
        let _ = fs::remove_file(&temp);
        return Err(what(e));
    }
    Ok(())
}

/// A hand-in checked (and unpacked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handin {
    /// The crates handed in, sorted.
    pub crates: Vec<String>,
    /// The kit's commit, or `unknown`.
    pub commit: String,
    /// Every file but the manifest, by path, sorted.
    pub files: Vec<String>,
    /// The bytes of those files.
    pub bytes: u64,
}

/// Checks `archive` as [`unpack`] does, and writes nothing.
///
/// # Errors
/// As [`unpack`].
pub fn check(archive: &Path) -> Result<Handin> {
    read(archive, &Limits::default()).map(|(handin, _, _)| handin)
}

/// Checks `archive` (with [`Limits::default`]) and, when it is a right
/// hand-in, unpacks it into `dest`, which must not exist or be empty:
/// [`MANIFEST`], each crate's `src/` and `ANSWERS.md`, and a
/// [`STARTER_FILE`] naming the crates (so that `dest` grades as a
/// starter's workspace). Nothing is written before the whole archive is
/// checked, nothing outside `dest`.
///
/// # Errors
/// [`Error::Usage`] naming the entry or the limit at fault (see the
/// module's page), or when `dest` holds something; [`Error::Io`] when
/// `dest` cannot be written (what was written is removed then).
pub fn unpack(archive: &Path, dest: &Path) -> Result<Handin> {
    unpack_with(archive, dest, &Limits::default())
}

/// [`unpack`] within `limits`.
///
/// # Errors
/// As [`unpack`].
pub fn unpack_with(archive: &Path, dest: &Path, limits: &Limits) -> Result<Handin> {
    if !workspace::is_absent_or_empty(dest)
        .map_err(|e| Error::io(format!("reading {}", dest.display()), e))?
    {
        return Err(Error::Usage(format!(
            "{} is not empty: unpack a hand-in into a new directory",
            dest.display()
        )));
    }
    let (handin, manifest, entries) = read(archive, limits)?;
    let existed = dest.exists();
    let written = write_tree(dest, &handin, &manifest, &entries);
    if let Err(error) = written {
        if existed {
            if let Ok(children) = fs::read_dir(dest) {
                for child in children.flatten() {
                    let _ =
                        fs::remove_dir_all(child.path()).or_else(|_| fs::remove_file(child.path()));
                }
            }
        } else {
            let _ = fs::remove_dir_all(dest);
        }
        return Err(error);
    }
    Ok(handin)
}

/// One entry read: a directory, or a file's bytes.
enum Entry {
    Dir,
    File(Vec<u8>),
}

/// Reads and checks the whole archive, in memory (within `limits`).
fn read(archive: &Path, limits: &Limits) -> Result<(Handin, Vec<u8>, BTreeMap<String, Entry>)> {
    let name = archive.display();
    let refuse = |why: String| Error::Usage(format!("{name}: refused: {why}"));
    let meta = fs::metadata(archive).map_err(|e| Error::Usage(format!("{name}: {e}")))?;
    if !meta.is_file() {
        return Err(Error::Usage(format!("{name}: not a file")));
    }
    if meta.len() > limits.archive_bytes {
        return Err(refuse(format!(
            "{} bytes, more than a hand-in's {}",
            meta.len(),
            limits.archive_bytes
        )));
    }
    let file = fs::File::open(archive).map_err(|e| Error::Usage(format!("{name}: {e}")))?;
    let exceeded = Rc::new(Cell::new(false));
    let stream = Bounded {
        inner: flate2::read::GzDecoder::new(file.take(limits.archive_bytes)),
        left: limits.stream_bytes(),
        exceeded: Rc::clone(&exceeded),
    };
    let broken = |e: io::Error| {
        if exceeded.get() {
            refuse(format!(
                "it unpacks to more than {} bytes (a hand-in holds at most {} bytes of files): \
                 a compressed bomb, or not a hand-in",
                limits.stream_bytes(),
                limits.total_bytes
            ))
        } else {
            refuse(format!(
                "not a hand-in archive (a .tar.gz that scripts/handin.sh wrote): {e}"
            ))
        }
    };
    let mut tar = tar::Archive::new(stream);
    let mut entries: BTreeMap<String, Entry> = BTreeMap::new();
    let mut total = 0u64;
    let mut count = 0usize;
    for entry in tar.entries().map_err(broken)? {
        let mut entry = entry.map_err(broken)?;
        count += 1;
        if count > limits.entries {
            return Err(refuse(format!(
                "more than {} entries (files and directories)",
                limits.entries
            )));
        }
        let raw = entry.path_bytes().into_owned();
        let shown = String::from_utf8_lossy(&raw).escape_debug().to_string();
        let path = entry_path(&raw).map_err(|why| refuse(format!("the entry {shown}: {why}")))?;
        let kind = entry.header().entry_type();
        let is_dir = match kind {
            tar::EntryType::Regular => false,
            tar::EntryType::Directory => true,
            other => {
                return Err(refuse(format!(
                    "the entry {shown} is {}: a hand-in holds regular files and directories only",
                    what_entry(other)
                )));
            }
        };
        shape(&path, is_dir).map_err(|why| refuse(format!("the entry {shown}: {why}")))?;
        if entries.contains_key(&path) {
            return Err(refuse(format!("the entry {shown} comes twice")));
        }
        let value = if is_dir {
            Entry::Dir
        } else {
            let size = entry.size();
            if size > limits.file_bytes {
                return Err(refuse(format!(
                    "the file {shown} has {size} bytes, more than a hand-in's {} per file",
                    limits.file_bytes
                )));
            }
            total = total.saturating_add(size);
            if total > limits.total_bytes {
                return Err(refuse(format!(
                    "its files have more than {} bytes together (at {shown})",
                    limits.total_bytes
                )));
            }
            let mut data = Vec::with_capacity(size as usize);
            (&mut entry)
                .take(size + 1)
                .read_to_end(&mut data)
                .map_err(broken)?;
            if data.len() as u64 != size {
                return Err(refuse(format!(
                    "the file {shown} is cut short ({} of {size} bytes)",
                    data.len()
                )));
            }
            Entry::File(data)
        };
        entries.insert(path, value);
    }

    let manifest_bytes = match entries.remove(MANIFEST) {
        Some(Entry::File(bytes)) => bytes,
        Some(Entry::Dir) => return Err(refuse(format!("{MANIFEST} is a directory"))),
        None => {
            return Err(refuse(format!(
                "it has no {MANIFEST}: pack it with scripts/handin.sh"
            )));
        }
    };
    let text = std::str::from_utf8(&manifest_bytes)
        .map_err(|_| refuse(format!("{MANIFEST} is not UTF-8 text")))?;
    let manifest = Manifest::parse(text).map_err(|why| refuse(format!("{MANIFEST}: {why}")))?;
    let crates: BTreeSet<&str> = manifest.crates.iter().map(String::as_str).collect();
    for (path, entry) in &entries {
        if let Some(krate) = crate_of(path)
            && !crates.contains(krate)
        {
            return Err(refuse(format!(
                "the entry {path} belongs to {krate}, which {MANIFEST} does not name"
            )));
        }
        if let Entry::File(data) = entry {
            match manifest.files.get(path) {
                None => {
                    return Err(refuse(format!("the file {path} is not in {MANIFEST}")));
                }
                Some(hash) if *hash != sha256(data) => {
                    return Err(refuse(format!(
                        "the file {path} does not match its hash in {MANIFEST}: it was changed after packing; pack it again"
                    )));
                }
                Some(_) => {}
            }
        }
    }
    for path in manifest.files.keys() {
        if shape(path, false).is_err() || crate_of(path).is_none_or(|k| !crates.contains(k)) {
            return Err(refuse(format!(
                "{MANIFEST} lists {path:?}, which a hand-in of {} cannot hold",
                manifest.crates.join(" ")
            )));
        }
        if !matches!(entries.get(path), Some(Entry::File(_))) {
            return Err(refuse(format!(
                "{MANIFEST} lists {path}, which the archive does not hold"
            )));
        }
    }
    for krate in &manifest.crates {
        let src = format!("{EXERCISES}/{krate}/src/");
        if !manifest.files.keys().any(|p| p.starts_with(&src)) {
            return Err(refuse(format!(
                "{MANIFEST} names {krate}, but the archive holds no file of its src/"
            )));
        }
    }
    let handin = Handin {
        crates: manifest.crates.clone(),
        commit: manifest.commit.clone(),
        files: manifest.files.keys().cloned().collect(),
        bytes: total - manifest_bytes.len() as u64,
    };
    Ok((handin, manifest_bytes, entries))
}

/// An entry's path, checked: UTF-8, relative, no `.` or `..` or empty
/// component, no control character, not too long (a directory's final
/// `/` dropped).
fn entry_path(raw: &[u8]) -> std::result::Result<String, &'static str> {
    let path = std::str::from_utf8(raw).map_err(|_| "its path is not UTF-8")?;
    if path.len() > MAX_PATH {
        return Err("its path is too long");
    }
    if path.starts_with('/') {
        return Err("an absolute path");
    }
    if path.chars().any(char::is_control) || path.contains('\\') {
        return Err("its path holds a control character or a backslash");
    }
    let path = path.strip_suffix('/').unwrap_or(path);
    for part in path.split('/') {
        match part {
            ".." => return Err("its path goes up (`..`)"),
            "." | "" => return Err("its path has an empty or `.` component"),
            _ => {}
        }
    }
    Ok(path.to_owned())
}

/// Whether `path` may be in a hand-in: [`MANIFEST`]; `exercises`,
/// `exercises/<crate>` or `exercises/<crate>/src` as directories; a file
/// `exercises/<crate>/ANSWERS.md`; anything under `exercises/<crate>/src/`.
fn shape(path: &str, is_dir: bool) -> std::result::Result<(), String> {
    let parts: Vec<&str> = path.split('/').collect();
    let outside = || {
        Err(format!(
            "outside what a hand-in holds ({MANIFEST}, and exercises/<crate>/src/… and exercises/<crate>/{ANSWERS})"
        ))
    };
    match parts.as_slice() {
        [MANIFEST] if !is_dir => Ok(()),
        [EXERCISES] if is_dir => Ok(()),
        [EXERCISES, krate, rest @ ..] => {
            if !plain_name(krate) {
                return Err(format!("{krate:?} is not a plain crate name"));
            }
            match rest {
                [] if is_dir => Ok(()),
                ["src"] if is_dir => Ok(()),
                [ANSWERS] if !is_dir => Ok(()),
                ["src", _, ..] => Ok(()),
                _ => outside(),
            }
        }
        _ => outside(),
    }
}

/// The crate a path under `exercises/` belongs to.
fn crate_of(path: &str) -> Option<&str> {
    let mut parts = path.split('/');
    (parts.next() == Some(EXERCISES))
        .then(|| parts.next())
        .flatten()
}

/// `a symbolic link`, `a hard link`… for an entry type refused.
fn what_entry(kind: tar::EntryType) -> String {
    match kind {
        tar::EntryType::Symlink => "a symbolic link".into(),
        tar::EntryType::Link => "a hard link".into(),
        tar::EntryType::Char => "a character device".into(),
        tar::EntryType::Block => "a block device".into(),
        tar::EntryType::Fifo => "a FIFO".into(),
        tar::EntryType::GNUSparse => "a sparse file".into(),
        tar::EntryType::Continuous => "a contiguous file".into(),
        tar::EntryType::XGlobalHeader => "a global pax header".into(),
        other => format!("an entry of type {:?}", char::from(other.as_byte())),
    }
}

/// Writes the checked entries under `dest`.
fn write_tree(
    dest: &Path,
    handin: &Handin,
    manifest: &[u8],
    entries: &BTreeMap<String, Entry>,
) -> Result<()> {
    let dir = |path: &Path| {
        fs::create_dir_all(path)
            .and_then(|()| fs::set_permissions(path, fs::Permissions::from_mode(0o755)))
            .map_err(|e| Error::io(format!("creating {}", path.display()), e))
    };
    let file = |path: &Path, data: &[u8]| {
        if let Some(parent) = path.parent() {
            dir(parent)?;
        }
        fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o644)
            .custom_flags(nix::fcntl::OFlag::O_NOFOLLOW.bits())
            .open(path)
            .and_then(|mut f| {
                f.write_all(data)?;
                // The mode asked for, whatever the umask made of it.
                f.set_permissions(fs::Permissions::from_mode(0o644))
            })
            .map_err(|e| Error::io(format!("writing {}", path.display()), e))
    };
    dir(dest)?;
    file(&dest.join(MANIFEST), manifest)?;
    for (path, entry) in entries {
        match entry {
            Entry::Dir => dir(&dest.join(path))?,
            Entry::File(data) => file(&dest.join(path), data)?,
        }
    }
    let starter = format!(
        "# An ipc-lab hand-in, unpacked and checked by the grader\n\n{CRATES_LINE} {}\n{COMMIT_LINE} {}\n",
        handin.crates.join(" "),
        handin.commit
    );
    file(&dest.join(STARTER_FILE), starter.as_bytes())
}

/// A reader that fails once more than `left` bytes went through it, and
/// says so in `exceeded`.
struct Bounded<R> {
    inner: R,
    left: u64,
    exceeded: Rc<Cell<bool>>,
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            // One byte more would be past the limit: is there one?
            let mut probe = [0u8; 1];
            if self.inner.read(&mut probe)? == 0 {
                return Ok(0);
            }
            self.exceeded.set(true);
            return Err(io::Error::other(
                "the archive unpacks to more than its limit",
            ));
        }
        let want = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        self.left -= n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_checked_before_anything_else() {
        for (raw, why) in [
            (&b"/etc/passwd"[..], "an absolute path"),
            (b"exercises/x/src/../../../x", "goes up"),
            (b"exercises//x", "empty or `.`"),
            (b"./MANIFEST.toml", "empty or `.`"),
            (b"exercises/x/src/a\nb", "control character"),
            (b"exercises/x/src/\xff", "not UTF-8"),
        ] {
            let got = entry_path(raw).unwrap_err();
            assert!(got.contains(why), "{raw:?}: {got}");
        }
        assert_eq!(entry_path(b"exercises/x/src/").unwrap(), "exercises/x/src");
        for (path, dir, ok) in [
            ("MANIFEST.toml", false, true),
            ("MANIFEST.toml", true, false),
            ("exercises", true, true),
            ("exercises", false, false),
            ("exercises/exp7-shm", true, true),
            ("exercises/exp7-shm/src", true, true),
            ("exercises/exp7-shm/src", false, false),
            ("exercises/exp7-shm/src/lib.rs", false, true),
            ("exercises/exp7-shm/src/deep/er.rs", false, true),
            ("exercises/exp7-shm/ANSWERS.md", false, true),
            ("exercises/exp7-shm/Cargo.toml", false, false),
            ("exercises/exp7-shm/tests/output.rs", false, false),
            ("crates/ipc-core/src/lib.rs", false, false),
            ("exercises/-x/src/lib.rs", false, false),
            ("README.md", false, false),
        ] {
            assert_eq!(shape(path, dir).is_ok(), ok, "{path} dir={dir}");
        }
    }

    #[test]
    fn manifests_are_read_strictly() {
        let good = Manifest {
            format: FORMAT,
            commit: "unknown".into(),
            crates: vec!["exp7-shm".into()],
            files: BTreeMap::from([("exercises/exp7-shm/src/lib.rs".into(), sha256(b"x"))]),
        };
        let text = good.to_toml().unwrap();
        assert!(text.starts_with("# An ipc-lab hand-in"), "{text}");
        assert_eq!(Manifest::parse(&text).unwrap(), good);
        for (change, needle) in [
            (("format = 1", "format = 2"), "format 2"),
            (
                ("commit = \"unknown\"", "commit = \"$(rm -rf)\""),
                "neither a commit",
            ),
            (("crates = [\"exp7-shm\"]", "crates = []"), "names no crate"),
            (
                ("crates = [\"exp7-shm\"]", "crates = [\"../x\"]"),
                "not a plain name",
            ),
            (
                ("crates = [\"exp7-shm\"]", "crates = [\"a\", \"a\"]"),
                "named twice",
            ),
            (("format = 1", "format = 1\nextra = 2"), "unknown field"),
            (("[files]", "[filez]"), "unknown field"),
            (("= \"2d", "= \"2D"), "not a SHA-256"),
            (("= \"2d", "= \"2"), "not a SHA-256"),
        ] {
            let broken = text.replacen(change.0, change.1, 1);
            assert_ne!(broken, text, "{change:?}");
            let error = Manifest::parse(&broken).unwrap_err();
            assert!(error.contains(needle), "{change:?}: {error}");
        }
    }

    #[test]
    fn the_commit_comes_from_the_starter_then_git() {
        let dir = ipc_testkit::TempDir::new("commit");
        assert_eq!(kit_commit(dir.path()), "unknown");
        std::fs::write(
            dir.join(STARTER_FILE),
            "# x\n\nCrates: a\nCommit: ABCDEF1234567\n",
        )
        .unwrap();
        assert_eq!(kit_commit(dir.path()), "abcdef1234567");
        std::fs::write(dir.join(STARTER_FILE), "Commit: not-hex\n").unwrap();
        assert_eq!(kit_commit(dir.path()), "unknown");
        // This very checkout is a git one.
        let own = crate::workspace::Workspace::own().unwrap();
        let commit = kit_commit(own.root());
        assert!(commit == "unknown" || is_hex(&commit, 40..=64), "{commit}");
    }

    #[test]
    fn a_bounded_reader_stops_one_byte_past_its_limit() {
        let flag = Rc::new(Cell::new(false));
        let mut exact = Bounded {
            inner: &[1u8, 2, 3][..],
            left: 3,
            exceeded: Rc::clone(&flag),
        };
        let mut all = Vec::new();
        exact.read_to_end(&mut all).unwrap();
        assert_eq!((all.len(), flag.get()), (3, false));
        let mut over = Bounded {
            inner: &[1u8, 2, 3, 4][..],
            left: 3,
            exceeded: Rc::clone(&flag),
        };
        assert!(over.read_to_end(&mut Vec::new()).is_err());
        assert!(flag.get());
    }
}
