//! `ipc_core::connection` against Python's own `multiprocessing.connection`:
//! a Python `Client` against a Rust `Listener`, a Rust `Client` against a
//! Python `Listener`, over TCP, a Unix path and an abstract name, bytes
//! both ways; and a wrong authkey refused on both sides in bounded time.
//!
//! Each scenario runs against the project's Python (`.venv/bin/python`,
//! 3.11: the bare HMAC-MD5 handshake) and against every Python 3.12 or
//! later found on this machine (the `{sha256}` handshake); a variant that
//! cannot be found is reported as `skipped: …`. Python runs as a child
//! started with `std::process::Command` (nothing forks inside the test
//! harness); the Rust side runs on the test's thread. Every wait is
//! bounded, and a Python still running when a check fails is killed.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use ipc_core::Error;
use ipc_core::blocking::{self, Deadline};
use ipc_core::connection::{Address, Client, Connection, Listener};
use ipc_testkit::leaks::TempDir;

/// The bound on every wait: far above what a scenario needs.
const BOUND: Duration = Duration::from_secs(20);
/// How soon a wrong key must be refused, on both sides.
const REFUSED_WITHIN: Duration = Duration::from_secs(5);

/// The Python side. `listener ADDRESS KEYHEX` prints `listening ADDRESS`,
/// accepts one client; `client ADDRESS KEYHEX` connects. Then both echo
/// each message reversed with a `!` until `END`, send 8 MiB, print
/// `echoed N` and exit 0; an `AuthenticationError` is printed and exits 3.
const PYTHON: &str = r#"
import sys
from multiprocessing.connection import Client, Listener, AuthenticationError

def address(text):
    if text.startswith('@'):
        return '\0' + text[1:]
    host, sep, port = text.rpartition(':')
    if sep and port.isdigit() and not text.startswith('/'):
        return (host.strip('[]'), int(port))
    return text

def shown(address):
    if isinstance(address, tuple):
        return '%s:%d' % address[:2]
    if isinstance(address, bytes):
        address = address.decode()
    return '@' + address[1:] if address.startswith('\0') else address

def talk(conn):
    n = 0
    while True:
        data = conn.recv_bytes()
        if data == b'END':
            break
        conn.send_bytes(data[::-1] + b'!')
        n += 1
    conn.send_bytes(bytes(range(256)) * 32768)
    print('echoed', n, flush=True)

role, where, key = sys.argv[1], address(sys.argv[2]), bytes.fromhex(sys.argv[3])
try:
    if role == 'client':
        talk(Client(where, authkey=key))
    else:
        listener = Listener(where, authkey=key)
        print('listening', shown(listener.address), flush=True)
        talk(listener.accept())
        listener.close()
except AuthenticationError as e:
    print('AuthenticationError:', e, flush=True)
    sys.exit(3)
"#;

// ---- finding Pythons ---------------------------------------------------------

/// A Python interpreter and its version.
#[derive(Debug, Clone)]
struct Python {
    path: PathBuf,
    version: (u32, u32, u32),
}

impl Python {
    fn label(&self) -> String {
        let (a, b, c) = self.version;
        format!("Python {a}.{b}.{c} ({})", self.path.display())
    }
}

/// The interpreter at `path`, if it runs and says its version.
fn probe(path: &Path) -> Option<Python> {
    let mut child = Command::new(path)
        .args(["-c", "import sys; print('%d %d %d' % sys.version_info[:3])"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let status = wait_bounded(&mut child, Duration::from_secs(10))?;
    let mut out = String::new();
    child.stdout.take()?.read_to_string(&mut out).ok()?;
    if !status.success() {
        return None;
    }
    let mut numbers = out.split_whitespace().map(|n| n.parse::<u32>().ok());
    let version = (numbers.next()??, numbers.next()??, numbers.next()??);
    Some(Python {
        path: path.to_path_buf(),
        version,
    })
}

/// The project's Python: `.venv/bin/python` at the workspace's root, or
/// `python3` when there is no venv (any Python 3.8 or later speaks the
/// format).
fn project_python() -> Option<Python> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let venv = root.join(".venv/bin/python");
    if let Some(python) = probe(&venv) {
        return Some(python);
    }
    eprintln!("note: no {}; using python3 from PATH", venv.display());
    probe(Path::new("python3"))
}

/// Every distinct Python 3.12 or later found: `python3.12`… on `PATH`,
/// and pyenv's installs.
fn newer_pythons() -> Vec<Python> {
    let mut candidates: Vec<PathBuf> = (12..=15)
        .map(|minor| PathBuf::from(format!("python3.{minor}")))
        .collect();
    let homes = [
        std::env::var_os("PYENV_ROOT").map(PathBuf::from),
        std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".pyenv")),
        Some(PathBuf::from("/root/.pyenv")),
    ];
    for home in homes.into_iter().flatten() {
        if let Ok(entries) = std::fs::read_dir(home.join("versions")) {
            let mut found: Vec<PathBuf> = entries
                .flatten()
                .map(|e| e.path().join("bin/python3"))
                .collect();
            found.sort();
            candidates.extend(found);
        }
    }
    let mut pythons: Vec<Python> = Vec::new();
    for candidate in candidates {
        if let Some(python) = probe(&candidate)
            && python.version >= (3, 12, 0)
            && !pythons.iter().any(|p| p.version == python.version)
        {
            pythons.push(python);
        }
    }
    pythons
}

/// The project's Python first, then the newer ones; says what is skipped.
fn pythons() -> Vec<Python> {
    let mut all = Vec::new();
    match project_python() {
        Some(python) => all.push(python),
        None => eprintln!("skipped: the project's Python (no .venv/bin/python, no python3)"),
    }
    let newer = newer_pythons();
    if newer.is_empty() {
        eprintln!(
            "skipped: Python 3.12 or later (the {{sha256}} handshake): none found as python3.12…python3.15 or under ~/.pyenv/versions"
        );
    }
    all.extend(newer);
    assert!(
        all.iter().any(|p| p.version < (3, 12, 0)) || all.is_empty(),
        "the project's Python should be 3.11, the MD5 handshake"
    );
    all
}

// ---- running Python ------------------------------------------------------------

/// A running Python, its output read by threads; killed if still running
/// when dropped.
struct Running {
    child: Child,
    lines: mpsc::Receiver<String>,
    reader: Option<thread::JoinHandle<()>>,
    errors: thread::JoinHandle<String>,
    label: String,
}

impl Running {
    fn start(python: &Python, args: &[&str]) -> Running {
        let mut child = Command::new(&python.path)
            .arg("-c")
            .arg(PYTHON)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{}: {e}", python.label()));
        let stdout = child.stdout.take().unwrap();
        let mut stderr = child.stderr.take().unwrap();
        let (tx, lines) = mpsc::channel();
        let reader = thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let errors = thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        });
        Running {
            child,
            lines,
            reader: Some(reader),
            errors,
            label: format!("{} {}", python.label(), args.join(" ")),
        }
    }

    /// The next line Python prints, within the bound.
    fn line(&mut self) -> String {
        match self.lines.recv_timeout(BOUND) {
            Ok(line) => line,
            Err(_) => {
                let _ = self.child.kill();
                let _ = self.child.wait();
                let errors = std::mem::replace(&mut self.errors, thread::spawn(String::new));
                panic!(
                    "{}: no line within {BOUND:?}; stderr:\n{}",
                    self.label,
                    errors.join().unwrap_or_default()
                );
            }
        }
    }

    /// Waits for the end, within `bound`: the exit code and the rest of
    /// its output.
    fn finish(mut self, bound: Duration) -> (i32, Vec<String>, String) {
        let status = wait_bounded(&mut self.child, bound);
        let Some(status) = status else {
            let _ = self.child.kill();
            let _ = self.child.wait();
            panic!("{}: still running after {bound:?}", self.label);
        };
        // Python has exited: its standard output ends, and once the reader
        // has sent every line, they are all in the channel.
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
        let rest: Vec<String> = self.lines.try_iter().collect();
        let errors = std::mem::replace(&mut self.errors, thread::spawn(String::new));
        let errors = errors.join().unwrap_or_default();
        (status.code().unwrap_or(-1), rest, errors)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The child's status once it exits, or `None` after `bound`.
fn wait_bounded(child: &mut Child, bound: Duration) -> Option<std::process::ExitStatus> {
    blocking::poll_until(Deadline::after(bound), blocking::STEP_INTERVAL, || {
        child.try_wait().ok().flatten()
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

// ---- the scenarios -------------------------------------------------------------

/// A key longer than HMAC's 64-byte block (hashed first), over TCP; a
/// short one elsewhere.
fn key_for(address: &Address) -> Vec<u8> {
    match address {
        Address::Tcp(_) => (0..100_u8).map(|b| b.wrapping_mul(37)).collect(),
        _ => b"secret password".to_vec(),
    }
}

/// The addresses each scenario runs on, fresh for each run.
fn addresses(dir: &TempDir, tag: &str) -> Vec<Address> {
    vec![
        Address::from("127.0.0.1:0"),
        Address::from(dir.join(&format!("{tag}.sock"))),
        Address::from(format!("\0ipc-lab-test-{}-{tag}", std::process::id()).as_str()),
    ]
}

/// The Rust side of a good exchange: messages out, each back reversed
/// with a `!`, then 8 MiB from Python, then the end of the stream.
fn rust_talks(conn: &mut Connection, who: &str) {
    conn.set_timeout(Some(BOUND));
    let messages: Vec<Vec<u8>> = vec![
        Vec::new(),
        b"x".to_vec(),
        "héllo wörld".as_bytes().to_vec(),
        (0..=255).collect(),
        (0..(3 << 20)).map(|i: u32| (i % 253) as u8).collect(),
    ];
    for sent in &messages {
        conn.send_bytes(sent).unwrap();
        let got = conn.recv_bytes().unwrap();
        let mut want: Vec<u8> = sent.iter().rev().copied().collect();
        want.push(b'!');
        assert!(
            got == want,
            "{who}: a {}-byte message came back changed",
            sent.len()
        );
    }
    conn.send_bytes(b"END").unwrap();
    let big = conn.recv_bytes().unwrap();
    assert_eq!(big.len(), 8 << 20, "{who}");
    assert!(
        big.chunks(256).all(|c| c.iter().copied().eq(0..=255)),
        "{who}: 8 MiB changed"
    );
    // Python exits, closing its end: the end of the stream, like EOFError.
    let end = conn.recv_bytes().unwrap_err();
    assert!(matches!(end, Error::Disconnected), "{who}: {end}");
}

/// Runs `scenario` with every Python found, on every kind of address
/// (each fresh, named after `tag`).
fn on_every_python_and_address(tag: &str, mut scenario: impl FnMut(&Python, &Address)) {
    let dir = TempDir::new("connection-python");
    for python in pythons() {
        for address in addresses(&dir, tag) {
            scenario(&python, &address);
        }
    }
}

/// Starts Python's `Listener` on `address` with `key`: it and the address
/// it says it listens on.
fn python_listener(python: &Python, address: &Address, key: &[u8]) -> (Running, String) {
    let mut py = Running::start(python, &["listener", &address.to_string(), &hex(key)]);
    let line = py.line();
    let shown = line
        .strip_prefix("listening ")
        .unwrap_or_else(|| panic!("{line}"));
    (py, shown.to_owned())
}

/// Python's end after a good exchange: exit 0, having echoed 5 messages.
fn exchanged(py: Running, who: &str) {
    python_ends(py, BOUND, 0, &["echoed 5"], who);
    eprintln!("ok: {who}");
}

/// Both sides of a refused handshake, within [`REFUSED_WITHIN`] of
/// `start`: our `err` is an authentication error saying `ours`, and Python
/// exits 3 printing `theirs`.
fn both_refuse(err: &Error, ours: &str, py: Running, theirs: &str, start: Instant, who: &str) {
    assert!(matches!(err, Error::Authentication(_)), "{who}: {err}");
    assert!(err.to_string().contains(ours), "{who}: {err}");
    python_ends(py, REFUSED_WITHIN, 3, &[theirs], who);
    assert!(
        start.elapsed() < REFUSED_WITHIN,
        "{who}: {:?}",
        start.elapsed()
    );
    eprintln!("ok: {who}: {err}");
}

/// Python's end within `bound`: exit code `code` and exactly `lines`.
fn python_ends(py: Running, bound: Duration, code: i32, lines: &[&str], who: &str) {
    let (got, out, errors) = py.finish(bound);
    assert_eq!(got, code, "{who}: {out:?} {errors}");
    assert_eq!(out, lines, "{who}: {errors}");
}

#[test]
fn a_python_client_talks_to_a_rust_listener() {
    on_every_python_and_address("rust-listens", |python, address| {
        let key = key_for(address);
        let mut listener = Listener::bind(address).unwrap().authkey(&key);
        let shown = listener.address().to_string();
        let who = format!("{} -> Rust listener {shown}", python.label());
        let py = Running::start(python, &["client", &shown, &hex(&key)]);
        let mut conn = listener
            .accept_until(Deadline::after(BOUND))
            .unwrap_or_else(|e| panic!("{who}: {e}"));
        rust_talks(&mut conn, &who);
        exchanged(py, &who);
    });
}

#[test]
fn a_rust_client_talks_to_a_python_listener() {
    on_every_python_and_address("python-listens", |python, address| {
        let key = key_for(address);
        let (py, shown) = python_listener(python, address, &key);
        let who = format!("Rust client -> {} listener {shown}", python.label());
        let mut conn = Client::new(shown.as_str())
            .authkey(&key)
            .timeout(BOUND)
            .connect()
            .unwrap_or_else(|e| panic!("{who}: {e}"));
        rust_talks(&mut conn, &who);
        exchanged(py, &who);
    });
}

#[test]
fn a_wrong_authkey_is_refused_on_both_sides_with_a_python_client() {
    on_every_python_and_address("wrong-client", |python, address| {
        let mut listener = Listener::bind(address).unwrap().authkey(b"right");
        let shown = listener.address().to_string();
        let who = format!("{} (wrong key) -> Rust listener {shown}", python.label());
        let start = Instant::now();
        let py = Running::start(python, &["client", &shown, &hex(b"wrong")]);
        let err = listener.accept_until(Deadline::after(BOUND)).unwrap_err();
        both_refuse(
            &err,
            "the authkeys differ",
            py,
            "AuthenticationError: digest sent was rejected",
            start,
            &who,
        );
    });
}

#[test]
fn a_wrong_authkey_is_refused_on_both_sides_with_a_python_listener() {
    on_every_python_and_address("wrong-listener", |python, address| {
        let (py, shown) = python_listener(python, address, b"right");
        let who = format!(
            "Rust client (wrong key) -> {} listener {shown}",
            python.label()
        );
        let start = Instant::now();
        let err = Client::new(shown.as_str())
            .authkey(b"wrong")
            .timeout(BOUND)
            .connect()
            .unwrap_err();
        both_refuse(
            &err,
            "refused our answer to its challenge: the authkeys differ",
            py,
            "AuthenticationError: digest received was wrong",
            start,
            &who,
        );
    });
}
