//! A student's hand-in: `ipc-grade handin` (what scripts/handin.sh runs)
//! on a copy of a workspace, and the grader's unpacking of every kind of
//! hostile archive.

use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

use ipc_grade::Error;
use ipc_grade::handin::{self, Limits, MANIFEST};
use ipc_testkit::{Run, TempDir, run_command};

const BIN: &str = env!("CARGO_BIN_EXE_ipc-grade");
const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
const SHM: &str = "exercises/exp7-shm";

/// A workspace as a student has it: two experiments' crates (copied from
/// this one), an ANSWERS.md, and a starter's STARTER.md.
fn kit(dir: &TempDir) -> PathBuf {
    let root = dir.join("kit");
    for krate in ["exp7-shm", "exp11-value"] {
        let from = Path::new(ROOT).join("exercises").join(krate);
        let to = root.join("exercises").join(krate);
        std::fs::create_dir_all(to.join("src")).unwrap();
        std::fs::copy(from.join("Cargo.toml"), to.join("Cargo.toml")).unwrap();
        for file in std::fs::read_dir(from.join("src")).unwrap() {
            let file = file.unwrap().path();
            std::fs::copy(&file, to.join("src").join(file.file_name().unwrap())).unwrap();
        }
    }
    std::fs::write(root.join("Cargo.toml"), "[workspace]\n").unwrap();
    std::fs::write(
        root.join(SHM).join("ANSWERS.md"),
        "# Answers\n\n## Question 1\n\nBecause.\n",
    )
    .unwrap();
    std::fs::write(
        root.join("STARTER.md"),
        "# An ipc-lab starter\n\nCrates: exp7-shm\nCommit: 0123456789abcdef0123456789abcdef01234567\n",
    )
    .unwrap();
    root
}

/// `ipc-grade handin ARGS` run in `cwd`.
fn handin_in(cwd: &Path, args: &[&str]) -> Run {
    let mut command = Command::new(BIN);
    command.arg("handin").args(args).current_dir(cwd);
    run_command(command, None, Duration::from_secs(60))
}

#[test]
fn a_hand_in_packs_the_work_and_unpacks_to_the_same_files() {
    let dir = TempDir::new("handin");
    let root = kit(&dir);
    let root_arg = root.to_str().unwrap();
    let run = handin_in(dir.path(), &["--root", root_arg, "exp7-shm", "exp11-value"]);
    let archive = dir.join("handin-exp11-value+exp7-shm.tar.gz");
    run.assert_code(0).assert_stdout_contains(&[
        &format!("handin: {}", archive.canonicalize().unwrap().display()),
        " files and MANIFEST.toml, ",
        "for exp11-value exp7-shm (kit commit 0123456789abcdef0123456789abcdef01234567)",
        "  MANIFEST.toml\n",
        "  exercises/exp7-shm/ANSWERS.md (",
        "  exercises/exp7-shm/src/lib.rs (",
        "  exercises/exp11-value/src/lib.rs (",
    ]);
    assert!(!run.stdout.contains("no ANSWERS.md"), "{run}");

    // The grader unpacks exactly the sources and the answers.
    let dest = dir.join("graded");
    let found = handin::unpack(&archive, &dest).unwrap();
    assert_eq!(found.crates, ["exp11-value", "exp7-shm"]);
    assert_eq!(found.commit, "0123456789abcdef0123456789abcdef01234567");
    for file in &found.files {
        assert_eq!(
            std::fs::read(dest.join(file)).unwrap(),
            std::fs::read(root.join(file)).unwrap(),
            "{file}"
        );
        let mode = std::fs::metadata(dest.join(file))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o7777, 0o644, "{file}");
    }
    assert!(found.files.contains(&format!("{SHM}/ANSWERS.md")));
    assert!(found.files.contains(&format!("{SHM}/src/main.rs")));
    assert!(!dest.join(SHM).join("Cargo.toml").exists());
    // It grades as a starter of those crates.
    assert_eq!(
        ipc_grade::workspace::starter_crates(&dest).unwrap(),
        ["exp11-value", "exp7-shm"]
    );

    // The same work packs to the same bytes, whatever the files' times;
    // the crates' order does not matter; without STARTER.md the commit
    // is unknown, and with --check the archive is found right.
    for file in &found.files {
        let f = std::fs::File::options()
            .append(true)
            .open(root.join(file))
            .unwrap();
        f.set_modified(SystemTime::now() - Duration::from_secs(3600))
            .unwrap();
    }
    let again = dir.join("again.tar.gz");
    handin_in(
        dir.path(),
        &[
            "--root",
            root_arg,
            "--out",
            again.to_str().unwrap(),
            "exp11-value",
            "exp7-shm",
            "exp7-shm",
        ],
    )
    .assert_code(0);
    assert_eq!(
        std::fs::read(&again).unwrap(),
        std::fs::read(&archive).unwrap()
    );
    handin_in(dir.path(), &["--check", again.to_str().unwrap()])
        .assert_code(0)
        .assert_stdout_contains(&[
            "is a hand-in of exp11-value exp7-shm (",
            "  exercises/exp7-shm/src/lib.rs\n",
        ]);

    // A second hand-in does not replace the first unless asked.
    handin_in(dir.path(), &["--root", root_arg, "exp7-shm", "exp11-value"])
        .assert_bad_usage("exists: pass --force to replace it");
    std::fs::remove_file(root.join(SHM).join("ANSWERS.md")).unwrap();
    std::fs::remove_file(root.join("STARTER.md")).unwrap();
    let replaced = handin_in(
        dir.path(),
        &["--root", root_arg, "--force", "exp7-shm", "exp11-value"],
    );
    replaced
        .assert_code(0)
        .assert_stdout_contains(&["(kit commit unknown)", "(no ANSWERS.md in any crate"]);
    assert_ne!(
        std::fs::read(&again).unwrap(),
        std::fs::read(&archive).unwrap()
    );
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".part"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn the_student_side_refuses_what_it_cannot_hand_in() {
    let dir = TempDir::new("handin-usage");
    let root = kit(&dir);
    let root_arg = root.to_str().unwrap();
    let cwd = dir.path();
    handin_in(cwd, &["--help"])
        .assert_code(0)
        .assert_stdout_contains(&["--out <FILE>", "--force", "--check <ARCHIVE>", "SHA-256"]);
    handin_in(cwd, &["--root", root_arg, "exp99"]).assert_bad_usage("no experiment named exp99 in");
    handin_in(cwd, &["--root", root_arg, "../exercises"])
        .assert_bad_usage("no experiment named ../exercises");
    handin_in(cwd, &["exp7-shm"]).assert_bad_usage("is not inside an ipc-lab workspace");
    handin_in(cwd, &["--check", "x.tar.gz", "exp7-shm"])
        .assert_bad_usage("--check ARCHIVE takes no crate");
    handin_in(cwd, &["--nonsense"]).assert_bad_usage("--nonsense");
    // The starter's crates by default; none without a starter.
    handin_in(
        &root.join(SHM).join("src"),
        &["--out", dir.join("d.tar.gz").to_str().unwrap()],
    )
    .assert_code(0)
    .assert_stdout_contains(&["for exp7-shm "]);
    std::fs::remove_file(root.join("STARTER.md")).unwrap();
    handin_in(&root, &[]).assert_bad_usage("name the crates to hand in: exp11-value exp7-shm");
    // The archive may not land in what it packs.
    handin_in(&root.join(SHM).join("src"), &["exp7-shm"]).assert_bad_usage("lies inside");

    // A symbolic link, a FIFO, a socket inside src/ are named.
    let src = root.join(SHM).join("src");
    std::os::unix::fs::symlink("/etc/passwd", src.join("passwd.rs")).unwrap();
    handin_in(cwd, &["--root", root_arg, "exp7-shm"])
        .assert_bad_usage("exercises/exp7-shm/src/passwd.rs is a symbolic link");
    std::fs::remove_file(src.join("passwd.rs")).unwrap();
    nix::unistd::mkfifo(&src.join("pipe"), nix::sys::stat::Mode::S_IRWXU).unwrap();
    handin_in(cwd, &["--root", root_arg, "exp7-shm"])
        .assert_bad_usage("exercises/exp7-shm/src/pipe is a FIFO");
    std::fs::remove_file(src.join("pipe")).unwrap();
    std::fs::remove_file(root.join(SHM).join("ANSWERS.md")).unwrap();
    std::os::unix::fs::symlink("src/lib.rs", root.join(SHM).join("ANSWERS.md")).unwrap();
    handin_in(cwd, &["--root", root_arg, "exp7-shm"])
        .assert_bad_usage("exercises/exp7-shm/ANSWERS.md is a symbolic link");
    std::fs::remove_file(root.join(SHM).join("ANSWERS.md")).unwrap();
    // Nothing was written by the refusals.
    assert!(!dir.join("handin-exp7-shm.tar.gz").exists());
    // A file far too big for a source.
    std::fs::write(src.join("big.rs"), vec![b'/'; 2 << 20]).unwrap();
    handin_in(cwd, &["--root", root_arg, "exp7-shm"])
        .assert_bad_usage("exercises/exp7-shm/src/big.rs has 2097152 bytes");
}

/// One entry of a hand-crafted archive, with the raw header fields.
struct Raw<'a> {
    path: &'a [u8],
    kind: u8,
    data: Vec<u8>,
    link: &'a [u8],
    mode: u32,
}

fn file(path: &str, data: &[u8]) -> Raw<'static> {
    Raw {
        path: path.as_bytes().to_vec().leak(),
        kind: b'0',
        data: data.to_vec(),
        link: b"",
        mode: 0o644,
    }
}

fn special(path: &'static str, kind: u8, link: &'static [u8]) -> Raw<'static> {
    Raw {
        path: path.as_bytes(),
        kind,
        data: Vec::new(),
        link,
        mode: 0o644,
    }
}

/// A `.tar.gz` of `entries`, headers written field by field (so that
/// `..`, absolute paths, links and devices go in as given).
fn archive(entries: &[Raw]) -> Vec<u8> {
    let mut tar = tar::Builder::new(Vec::new());
    for entry in entries {
        let mut header = tar::Header::new_gnu();
        let name = &mut header.as_old_mut().name;
        name.fill(0);
        name[..entry.path.len()].copy_from_slice(entry.path);
        let link = &mut header.as_old_mut().linkname;
        link[..entry.link.len()].copy_from_slice(entry.link);
        header.set_entry_type(tar::EntryType::new(entry.kind));
        header.set_size(entry.data.len() as u64);
        header.set_mode(entry.mode);
        header.set_cksum();
        tar.append(&header, entry.data.as_slice()).unwrap();
    }
    gzip(&tar.into_inner().unwrap())
}

/// A pax extended header ('x') setting `key` to `value` for the next entry.
fn pax(key: &str, value: &str) -> Raw<'static> {
    // Each record is "LEN key=value\n", LEN counting the whole record.
    let body = format!(" {key}={value}\n");
    let mut len = body.len();
    while len != body.len() + len.to_string().len() {
        len = body.len() + len.to_string().len();
    }
    Raw {
        data: format!("{len}{body}").into_bytes(),
        ..special("PaxHeaders/x", b'x', b"")
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

fn sha(data: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A manifest of `crates` listing `files`.
fn manifest(crates: &str, files: &[(&str, &[u8])]) -> Raw<'static> {
    let mut text = format!("format = 1\ncommit = \"unknown\"\ncrates = [{crates}]\n\n[files]\n");
    for (path, data) in files {
        text.push_str(&format!("{path:?} = \"{}\"\n", sha(data)));
    }
    file(MANIFEST, text.as_bytes())
}

const LIB: &str = "exercises/exp7-shm/src/lib.rs";

/// A right archive: the manifest and one source file.
fn good() -> Vec<Raw<'static>> {
    vec![
        manifest("\"exp7-shm\"", &[(LIB, b"pub fn f() {}\n")]),
        file(LIB, b"pub fn f() {}\n"),
    ]
}

/// Unpacks `bytes` (written to a file) within `limits`: the error, and
/// checks that nothing was written.
fn refused(dir: &TempDir, name: &str, bytes: &[u8], limits: &Limits) -> String {
    let path = dir.join(&format!("{name}.tar.gz"));
    std::fs::write(&path, bytes).unwrap();
    let dest = dir.join(&format!("{name}-out"));
    let error = match handin::unpack_with(&path, &dest, limits) {
        Ok(found) => panic!("{name}: accepted: {found:?}"),
        Err(error) => error,
    };
    assert!(matches!(error, Error::Usage(_)), "{name}: {error:?}");
    assert!(!dest.exists(), "{name}: {} was written", dest.display());
    let message = error.to_string();
    assert!(
        message.contains("refused") || message.contains("not empty"),
        "{name}: {message}"
    );
    message
}

#[test]
fn the_grader_refuses_a_hostile_archive_naming_the_entry() {
    let dir = TempDir::new("handin-hostile");
    let limits = Limits::default();
    let with = |extra: Raw<'static>| {
        let mut entries = good();
        entries.push(extra);
        archive(&entries)
    };
    // A plain file added to a good archive, where a hand-in holds none:
    // (case, its path, what the refusal says).
    let strays = [
        (
            "absolute",
            "/tmp/ipc-grade-handin-absolute",
            "the entry /tmp/ipc-grade-handin-absolute: an absolute path",
        ),
        (
            "dotdot",
            "exercises/exp7-shm/src/../../../../escaped",
            "goes up (`..`)",
        ),
        (
            "outside",
            "exercises/exp7-shm/Cargo.toml",
            "the entry exercises/exp7-shm/Cargo.toml: outside what a hand-in holds",
        ),
        (
            "tests",
            "exercises/exp7-shm/tests/output.rs",
            "outside what a hand-in holds",
        ),
        (
            "library",
            "crates/ipc-core/src/lib.rs",
            "crates/ipc-core/src/lib.rs: outside",
        ),
        (
            "not-plain",
            "exercises/.hidden/src/lib.rs",
            "\".hidden\" is not a plain crate name",
        ),
        (
            "unlisted",
            "exercises/exp7-shm/src/extra.rs",
            "the file exercises/exp7-shm/src/extra.rs is not in MANIFEST.toml",
        ),
    ];
    let mut cases: Vec<(&str, Vec<u8>, &str)> = strays
        .iter()
        .map(|&(name, path, needle)| (name, with(file(path, b"x")), needle))
        .collect();
    cases.extend([
        (
            "symlink",
            with(special("exercises/exp7-shm/src/x.rs", b'2', b"/etc/passwd")),
            "the entry exercises/exp7-shm/src/x.rs is a symbolic link",
        ),
        (
            "hardlink",
            with(special(
                "exercises/exp7-shm/src/x.rs",
                b'1',
                b"exercises/exp7-shm/src/lib.rs",
            )),
            "exercises/exp7-shm/src/x.rs is a hard link",
        ),
        (
            "char",
            with(special("exercises/exp7-shm/src/null", b'3', b"")),
            "is a character device",
        ),
        (
            "block",
            with(special("exercises/exp7-shm/src/sda", b'4', b"")),
            "is a block device",
        ),
        (
            "fifo",
            with(special("exercises/exp7-shm/src/pipe", b'6', b"")),
            "is a FIFO",
        ),
        (
            "other-crate",
            archive(&[
                manifest(
                    "\"exp7-shm\"",
                    &[(LIB, b"a"), ("exercises/exp11-value/src/lib.rs", b"b")],
                ),
                file(LIB, b"a"),
                file("exercises/exp11-value/src/lib.rs", b"b"),
            ]),
            "exercises/exp11-value/src/lib.rs belongs to exp11-value, which MANIFEST.toml does not name",
        ),
        (
            "absent",
            archive(&[
                manifest(
                    "\"exp7-shm\"",
                    &[(LIB, b"a"), ("exercises/exp7-shm/src/gone.rs", b"b")],
                ),
                file(LIB, b"a"),
            ]),
            "MANIFEST.toml lists exercises/exp7-shm/src/gone.rs, which the archive does not hold",
        ),
        (
            "listed-outside",
            archive(&[
                manifest("\"exp7-shm\"", &[(LIB, b"a"), ("../../etc/passwd", b"b")]),
                file(LIB, b"a"),
            ]),
            "MANIFEST.toml lists \"../../etc/passwd\", which a hand-in of exp7-shm cannot hold",
        ),
        (
            "tampered",
            archive(&[
                manifest("\"exp7-shm\"", &[(LIB, b"pub fn f() {}\n")]),
                file(LIB, b"pub fn f() { std::process::exit(0) }\n"),
            ]),
            "the file exercises/exp7-shm/src/lib.rs does not match its hash in MANIFEST.toml",
        ),
        (
            "crate-name",
            archive(&[manifest("\"../exp7-shm\"", &[]), file(LIB, b"a")]),
            "crate \"../exp7-shm\" is not a plain name",
        ),
        (
            "no-source",
            archive(&[
                manifest("\"exp7-shm\", \"exp7\"", &[(LIB, b"a")]),
                file(LIB, b"a"),
            ]),
            "MANIFEST.toml names exp7, but the archive holds no file of its src/",
        ),
        (
            "duplicate",
            with(file(LIB, b"pub fn f() {}\n")),
            "the entry exercises/exp7-shm/src/lib.rs comes twice",
        ),
        (
            "no-manifest",
            archive(&[file(LIB, b"a")]),
            "it has no MANIFEST.toml",
        ),
        (
            "bad-manifest",
            archive(&[file(MANIFEST, b"crates = [exp7-shm\n"), file(LIB, b"a")]),
            "MANIFEST.toml: ",
        ),
        (
            "manifest-dir",
            archive(&[special("MANIFEST.toml/", b'5', b""), file(LIB, b"a")]),
            "the entry MANIFEST.toml/: outside",
        ),
        (
            "global-header",
            with(special("pax_global_header", b'g', b"")),
            "is a global pax header",
        ),
        // A pax or GNU long-name record renames the entry after it: the
        // name checked is the one it gives.
        (
            "pax-path",
            archive(&[
                good().remove(0),
                pax("path", "../../escaped"),
                file(LIB, b"pub fn f() {}\n"),
            ]),
            "the entry ../../escaped: its path goes up",
        ),
        (
            "long-name",
            archive(&[
                good().remove(0),
                Raw {
                    data: b"/tmp/escaped\0".to_vec(),
                    ..special("././@LongLink", b'L', b"")
                },
                file(LIB, b"pub fn f() {}\n"),
            ]),
            "the entry /tmp/escaped: an absolute path",
        ),
        (
            "not-gzip",
            b"PK\x03\x04 a zip file".to_vec(),
            "not a hand-in archive",
        ),
        (
            "not-tar",
            gzip(b"hello, this is not a tar archive at all, but it is compressed"),
            "not a hand-in archive",
        ),
        ("empty", Vec::new(), "not a hand-in archive"),
        (
            "huge-file",
            with(file("exercises/exp7-shm/src/big.rs", &[b'/'; 2 << 20])),
            "the file exercises/exp7-shm/src/big.rs has 2097152 bytes, more than a hand-in's 1048576 per file",
        ),
    ]);
    for (name, bytes, needle) in &cases {
        let message = refused(&dir, name, bytes, &limits);
        assert!(message.contains(needle), "{name}: {message}");
    }
    // Nothing escaped, wherever an entry pointed.
    assert!(!Path::new("/tmp/ipc-grade-handin-absolute").exists());
    assert!(!dir.join("escaped").exists());

    // The binary's --check says the same, exit code 2.
    let tampered = dir.join("tampered.tar.gz");
    handin_in(dir.path(), &["--check", tampered.to_str().unwrap()])
        .assert_bad_usage("does not match its hash in MANIFEST.toml");

    // A destination that holds something is refused before anything.
    let good_path = dir.join("good.tar.gz");
    std::fs::write(&good_path, archive(&good())).unwrap();
    let busy = dir.join("busy");
    std::fs::create_dir(&busy).unwrap();
    std::fs::write(busy.join("x"), "x").unwrap();
    let error = handin::unpack(&good_path, &busy).unwrap_err().to_string();
    assert!(error.contains("is not empty"), "{error}");
    // The good one unpacks, into an empty directory too.
    let empty = dir.join("empty-dest");
    std::fs::create_dir(&empty).unwrap();
    let found = handin::unpack(&good_path, &empty).unwrap();
    assert_eq!((found.files, found.bytes), (vec![LIB.to_owned()], 14));
}

#[test]
fn modes_from_the_archive_are_not_kept() {
    let dir = TempDir::new("handin-modes");
    let mut entries = good();
    entries[1].mode = 0o4777;
    entries.insert(
        1,
        Raw {
            mode: 0o7777,
            ..special("exercises/exp7-shm/src/", b'5', b"")
        },
    );
    let path = dir.join("modes.tar.gz");
    std::fs::write(&path, archive(&entries)).unwrap();
    let dest = dir.join("out");
    handin::unpack(&path, &dest).unwrap();
    let mode = |p: &str| {
        std::fs::metadata(dest.join(p))
            .unwrap()
            .permissions()
            .mode()
            & 0o7777
    };
    assert_eq!(mode(LIB), 0o644);
    assert_eq!(mode("exercises/exp7-shm/src"), 0o755);
    assert_eq!(mode(MANIFEST), 0o644);
}

#[test]
fn limits_are_counted_while_decompressing() {
    let dir = TempDir::new("handin-limits");
    let small = Limits {
        file_bytes: 1000,
        total_bytes: 2500,
        entries: 4,
        archive_bytes: 1 << 20,
    };
    let many: Vec<Raw> = (0..5)
        .map(|i| file(&format!("exercises/exp7-shm/src/f{i}.rs"), b"x"))
        .collect();
    let message = refused(&dir, "entries", &archive(&many), &small);
    assert!(message.contains("more than 4 entries"), "{message}");
    let big: Vec<Raw> = (0..3)
        .map(|i| file(&format!("exercises/exp7-shm/src/f{i}.rs"), &[b'x'; 900]))
        .collect();
    let message = refused(&dir, "total", &archive(&big), &small);
    assert!(
        message.contains(
            "its files have more than 2500 bytes together (at exercises/exp7-shm/src/f2.rs)"
        ),
        "{message}"
    );
    // A compressed file larger than allowed is refused before it is read.
    let message = refused(&dir, "archive", &vec![0u8; (1 << 20) + 1], &small);
    assert!(
        message.contains("1048577 bytes, more than a hand-in's 1048576"),
        "{message}"
    );

    // The gzip bombs, with the default limits: many files of zeros, each
    // within the file limit (the total stops them), and a long-name
    // record of 64 MiB that no file's size shows (the count of
    // decompressed bytes stops it). Each compresses to well under 1 MiB.
    let limits = Limits::default();
    let zeros: Vec<Raw> = (0..12)
        .map(|i| {
            file(
                &format!("exercises/exp7-shm/src/z{i}.rs"),
                &vec![0; 1 << 20],
            )
        })
        .collect();
    let bomb = archive(&zeros);
    assert!(bomb.len() < 1 << 20, "{}", bomb.len());
    let message = refused(&dir, "zeros", &bomb, &limits);
    assert!(
        message.contains("its files have more than 8388608 bytes together"),
        "{message}"
    );

    let mut tar = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    let name = b"././@LongLink";
    header.as_old_mut().name[..name.len()].copy_from_slice(name);
    header.set_entry_type(tar::EntryType::GNULongName);
    header.set_size(64 << 20);
    header.set_cksum();
    tar.append(&header, std::io::repeat(b'a').take(64 << 20))
        .unwrap();
    let bomb = gzip(&tar.into_inner().unwrap());
    assert!(bomb.len() < 1 << 20, "{}", bomb.len());
    let message = refused(&dir, "longname", &bomb, &limits);
    assert!(
        message.contains("it unpacks to more than") && message.contains("a compressed bomb"),
        "{message}"
    );
}
