//! Rust to Rust: listeners and clients in two threads of this process,
//! over TCP, Unix paths and abstract names; hostile bytes written behind
//! a connection's back through a `socketpair(2)`.

use std::io::Write;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::UnixStream;
use std::thread;
use std::time::{Duration, Instant};

use ipc_testkit::leaks::TempDir;

use super::*;
use crate::message::Bytes;

/// The bound on every wait of these tests: far above what they need.
const BOUND: Duration = Duration::from_secs(10);

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31) ^ (i >> 9) as u8 ^ seed)
        .collect()
}

/// A connection (every wait bounded) and the raw other end of a
/// socketpair.
fn raw_pair() -> (Connection, UnixStream) {
    let (ours, theirs) = UnixStream::pair().unwrap();
    let mut conn = Connection::from_socket(ours.into());
    conn.set_timeout(Some(BOUND));
    (conn, theirs)
}

/// Runs `f` in a thread; its result, or a panic if it takes longer than
/// `bound` (a hang is a failure, not a stuck test run).
fn within<T: Send + 'static>(bound: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(bound)
        .unwrap_or_else(|_| panic!("still waiting after {bound:?}"))
}

/// Runs `client` in a thread against `listener`; returns what the
/// accepted connection's `server` and the client gave.
fn exchange<S, C>(
    mut listener: Listener,
    client: Client,
    server: impl FnOnce(&mut Connection) -> S,
    talk: impl FnOnce(&mut Connection) -> C + Send + 'static,
) -> (S, C)
where
    C: Send + 'static,
{
    let client = thread::spawn(move || {
        let mut conn = client.connect().expect("connect");
        conn.set_timeout(Some(BOUND));
        talk(&mut conn)
    });
    let mut conn = listener
        .accept_until(Deadline::after(BOUND))
        .expect("accept");
    conn.set_timeout(Some(BOUND));
    let served = server(&mut conn);
    (served, client.join().expect("the client thread"))
}

/// The client sends `bytes`, and the listener's end of the connection
/// receives them whole.
fn assert_bytes_cross(listener: Listener, client: Client, bytes: &'static [u8]) {
    let (got, ()) = exchange(
        listener,
        client,
        |conn| conn.recv_bytes().unwrap(),
        move |conn| conn.send_bytes(bytes).unwrap(),
    );
    assert_eq!(got, bytes);
}

/// Both directions, bytes and typed messages, sizes from nothing to
/// 24 MiB (above the default limit, which both ends raise).
fn both_ways(address: &str, key: Option<&[u8]>) {
    const BIG: usize = 24 << 20;
    let sizes = [0, 1, 3, 4, 5, 4096, 16 << 10, (16 << 10) + 1, 1 << 20, BIG];
    let mut listener = Listener::bind(address).unwrap().limit(BIG);
    let mut client = Client::new(listener.address()).limit(BIG);
    if let Some(key) = key {
        listener = listener.authkey(key);
        client = client.authkey(key);
    }
    let (served, talked) = exchange(
        listener,
        client,
        |conn| {
            for (i, &len) in sizes.iter().enumerate() {
                let got = conn.recv_bytes().unwrap();
                assert_eq!(got.len(), len);
                assert!(got == pattern(len, i as u8), "{len} bytes arrived changed");
                conn.send_bytes(&pattern(len, !(i as u8))).unwrap();
            }
            let (n, word): (u32, String) = conn.recv().unwrap();
            conn.send(&(word.len() as u64 * u64::from(n))).unwrap();
            conn.send(&Bytes(pattern(3 << 20, 7))).unwrap();
            assert!(matches!(conn.recv_bytes(), Err(Error::Disconnected)));
            conn.local_address().cloned()
        },
        move |conn| {
            for (i, &len) in sizes.iter().enumerate() {
                conn.send_bytes(&pattern(len, i as u8)).unwrap();
                let got = conn.recv_bytes().unwrap();
                assert!(
                    got == pattern(len, !(i as u8)),
                    "{len} bytes came back changed"
                );
            }
            conn.send(&(3_u32, "third?".to_string())).unwrap();
            let product: u64 = conn.recv().unwrap();
            let big: Bytes = conn.recv().unwrap();
            (
                product,
                big.0 == pattern(3 << 20, 7),
                conn.peer_address().cloned(),
            )
        },
    );
    assert_eq!(talked.0, 18);
    assert!(talked.1, "the typed 3 MiB message arrived whole");
    // The client connected to the address the server was accepted on.
    assert_eq!(talked.2, served);
}

#[test]
fn tcp_carries_bytes_and_typed_messages_both_ways() {
    both_ways("127.0.0.1:0", None);
    both_ways("127.0.0.1:0", Some(b"secret password"));
}

#[test]
fn unix_paths_carry_bytes_and_typed_messages_both_ways() {
    let dir = TempDir::new("connection");
    let path = dir.join("sock");
    both_ways(path.to_str().unwrap(), Some(b"key"));
    assert!(!path.exists(), "the listener removed its socket file");
}

#[test]
fn abstract_names_carry_messages_and_leave_no_file() {
    let name = format!(
        "\0ipc-lab-test-{}-{:?}",
        std::process::id(),
        thread::current().id()
    );
    both_ways(&name, Some(b"k"));
    let listener = Listener::bind(name.as_str()).unwrap();
    assert_eq!(listener.address(), &Address::from(name.as_str()));
    assert!(listener.address().to_string().starts_with("@ipc-lab-test-"));
}

#[test]
fn the_ipv6_loopback_works_when_the_machine_has_it() {
    let Ok(listener) = Listener::bind("[::1]:0") else {
        eprintln!("skipped: no IPv6 loopback here");
        return;
    };
    let client = Client::new(listener.address()).authkey(b"k");
    assert_bytes_cross(listener.authkey(b"k"), client, b"six");
}

#[test]
fn port_zero_is_replaced_by_the_chosen_port() {
    let listener = Listener::bind("127.0.0.1:0").unwrap();
    let Address::Tcp(addr) = listener.address() else {
        panic!("{:?}", listener.address());
    };
    assert_ne!(addr.port(), 0);
    assert_eq!(listener.last_accepted(), None);
}

#[test]
fn last_accepted_names_the_client() {
    let dir = TempDir::new("connection");
    let path = dir.join("sock");
    for address in ["127.0.0.1:0", path.to_str().unwrap()] {
        let mut listener = Listener::bind(address).unwrap();
        let client = Client::new(listener.address());
        let talk = thread::spawn(move || {
            let conn = client.connect().unwrap();
            conn.local_address().cloned()
        });
        let conn = listener.accept_until(Deadline::after(BOUND)).unwrap();
        let client_end = talk.join().unwrap();
        // A Rust client's Unix socket has a name too (autobound), so that
        // both sides name the connection's trace channels alike.
        assert!(client_end.is_some(), "{address}");
        assert_eq!(listener.last_accepted(), client_end.as_ref());
        assert_eq!(conn.peer_address(), client_end.as_ref());
    }
}

// ---- authentication --------------------------------------------------------

#[test]
fn a_wrong_authkey_is_refused_on_both_sides_at_once() {
    for address in [
        "127.0.0.1:0".to_string(),
        format!("\0ipc-lab-wrong-{}", std::process::id()),
    ] {
        let mut listener = Listener::bind(address.as_str()).unwrap().authkey(b"right");
        let client = Client::new(listener.address()).authkey(b"wrong");
        let start = Instant::now();
        let talk = thread::spawn(move || client.connect());
        let served = listener.accept_until(Deadline::after(BOUND));
        let talked = talk.join().unwrap();
        let (Err(served), Err(talked)) = (served, talked) else {
            panic!("a wrong key was accepted");
        };
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "refused at once, not at a deadline"
        );
        assert!(matches!(served, Error::Authentication(_)), "{served}");
        assert!(matches!(talked, Error::Authentication(_)), "{talked}");
        let served = served.to_string();
        assert!(
            served.contains("wrong HMAC-sha256: the authkeys differ"),
            "{served}"
        );
        let talked = talked.to_string();
        assert!(
            talked.contains("refused our answer") && talked.contains("the authkeys differ"),
            "{talked}"
        );
        // The listener goes on: the next client with the right key gets in.
        let client = Client::new(listener.address()).authkey(b"right");
        let talk = thread::spawn(move || client.connect().map(|mut c| c.send_bytes(b"in")));
        let mut conn = listener.accept_until(Deadline::after(BOUND)).unwrap();
        assert_eq!(conn.recv_bytes().unwrap(), b"in");
        talk.join().unwrap().unwrap().unwrap();
    }
}

#[test]
fn an_empty_authkey_still_authenticates() {
    let listener = Listener::bind("127.0.0.1:0").unwrap().authkey(b"");
    let client = Client::new(listener.address()).authkey(b"");
    assert_bytes_cross(listener, client, b"empty");
}

#[test]
fn a_client_with_a_key_and_a_listener_without_end_in_bounded_time() {
    // The listener sends no challenge: the client's timeout ends the wait.
    let mut listener = Listener::bind("127.0.0.1:0").unwrap();
    let client = Client::new(listener.address())
        .authkey(b"k")
        .timeout(Duration::from_millis(300));
    let start = Instant::now();
    let talk = thread::spawn(move || within(Duration::from_secs(3), move || client.connect()));
    let mut conn = listener.accept_until(Deadline::after(BOUND)).unwrap();
    let err = talk.join().unwrap().unwrap_err();
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
    assert!(matches!(err, Error::Authentication(_)), "{err}");
    assert!(
        err.to_string()
            .contains("does the other side use an authkey"),
        "{err}"
    );
    // And the server, expecting data, sees the client's end of the stream.
    conn.set_timeout(Some(BOUND));
    assert!(matches!(conn.recv_bytes(), Err(Error::Disconnected)));
}

#[test]
fn a_silent_client_is_refused_after_the_handshake_timeout() {
    let mut listener = Listener::bind("127.0.0.1:0")
        .unwrap()
        .authkey(b"k")
        .handshake_timeout(Duration::from_millis(300));
    let silent = Client::new(listener.address()).connect().unwrap();
    let start = Instant::now();
    let err = listener.accept_until(Deadline::after(BOUND)).unwrap_err();
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
    assert!(matches!(err, Error::Authentication(_)), "{err}");
    drop(silent);
}

#[test]
fn a_client_that_speaks_without_a_key_is_refused() {
    let mut listener = Listener::bind("127.0.0.1:0").unwrap().authkey(b"k");
    let client = Client::new(listener.address());
    let talk = thread::spawn(move || {
        let mut conn = client.connect().unwrap();
        conn.set_timeout(Some(BOUND));
        conn.send_bytes(b"hello").unwrap();
        // What it gets back is the listener's challenge, then the refusal.
        let challenge = conn.recv_bytes().unwrap();
        let verdict = conn.recv_bytes().unwrap();
        (challenge, verdict)
    });
    let err = listener.accept_until(Deadline::after(BOUND)).unwrap_err();
    assert!(
        err.to_string()
            .contains("answered our challenge with b'hello' (5 bytes), not a digest"),
        "{err}"
    );
    let (challenge, verdict) = talk.join().unwrap();
    assert!(
        challenge.starts_with(b"#CHALLENGE#{sha256}"),
        "{challenge:?}"
    );
    assert_eq!(challenge.len(), 11 + 8 + 40);
    assert_eq!(verdict, b"#FAILURE#");
}

#[test]
fn answers_take_the_form_the_challenge_asks_for() {
    let key = b"authkey";
    // Python 3.11: 20 random bytes, a bare HMAC-MD5 of them.
    let mut legacy = CHALLENGE.to_vec();
    legacy.extend([5; 20]);
    let answer = answer_for(key, &legacy).unwrap();
    assert_eq!(answer, Hash::Md5.hmac(key, &[5; 20]));
    assert_eq!(check_answer(key, &[5; 20], &answer), Ok(()));
    // Python 3.12: {sha256} and 40 bytes; the MAC covers the prefix.
    let mut message = b"{sha256}".to_vec();
    message.extend([9; 40]);
    let challenge = [CHALLENGE, &message].concat();
    let answer = answer_for(key, &challenge).unwrap();
    assert_eq!(&answer[..8], b"{sha256}");
    assert_eq!(answer[8..], Hash::Sha256.hmac(key, &message));
    assert_eq!(check_answer(key, &message, &answer), Ok(()));
    // A Python 3.11 peer answers {sha256} challenges with a bare MD5:
    // accepted, as Python 3.12 does.
    assert_eq!(
        check_answer(key, &message, &Hash::Md5.hmac(key, &message)),
        Ok(())
    );
    let md5_named = [b"{md5}".as_slice(), &Hash::Md5.hmac(key, &message)].concat();
    assert_eq!(check_answer(key, &message, &md5_named), Ok(()));
    // {md5} challenges get {md5} answers.
    let mut md5_message = b"{md5}".to_vec();
    md5_message.extend([1; 40]);
    let answer = answer_for(key, &[CHALLENGE, &md5_message].concat()).unwrap();
    assert_eq!(
        answer,
        [b"{md5}".as_slice(), &Hash::Md5.hmac(key, &md5_message)].concat()
    );
}

#[test]
fn malformed_challenges_and_answers_are_named() {
    let key = b"k";
    let refusals = [
        (answer_for(key, b"hello"), "where a challenge (#CHALLENGE#"),
        (answer_for(key, b"#CHALLENGE#short"), "too short"),
        (
            answer_for(key, &[CHALLENGE, &[b'x'; 30]].concat()),
            "without a {digest} prefix",
        ),
        (
            answer_for(key, &[CHALLENGE, b"{sha384}", &[0; 40]].concat()),
            "HMAC-sha384, which ipc-core does not speak",
        ),
        (
            answer_for(key, &[CHALLENGE, b"{whirlpool}", &[0; 40]].concat()),
            "without a {digest} prefix",
        ),
    ];
    for (outcome, want) in refusals {
        let why = outcome.unwrap_err();
        assert!(why.contains(want), "{why:?} lacks {want:?}");
    }
    let message = [b"{sha256}".as_slice(), &[3; 40]].concat();
    let answers: [(&[u8], &str); 5] = [
        (&[0; 20], "20-byte HMAC-md5, not 16 bytes"),
        (b"{sha256}short", "5-byte HMAC-sha256, not 32 bytes"),
        (
            b"{sha3_256}0123456789012345678901234567890123",
            "HMAC-sha3_256, which ipc-core does not check",
        ),
        (&[0; 16], "wrong HMAC-md5"),
        (b"", "not a digest"),
    ];
    for (answer, want) in answers {
        let why = check_answer(key, &message, answer).unwrap_err();
        assert!(why.contains(want), "{why:?} lacks {want:?}");
    }
    let wrong = [
        b"{sha256}".as_slice(),
        &Hash::Sha256.hmac(b"other", &message),
    ]
    .concat();
    assert!(
        check_answer(key, &message, &wrong)
            .unwrap_err()
            .contains("the authkeys differ")
    );
}

#[test]
fn debug_output_never_shows_the_key() {
    let listener = Listener::bind("127.0.0.1:0").unwrap().authkey(b"hunter2");
    let client = Client::new(listener.address()).authkey(b"hunter2");
    for shown in [format!("{listener:?}"), format!("{client:?}")] {
        assert!(
            !shown.contains("hunter2") && !shown.contains("104, 117"),
            "{shown}"
        );
        assert!(shown.contains("<set>"), "{shown}");
    }
}

// ---- frames ----------------------------------------------------------------

#[test]
fn frame_lengths_are_four_bytes_up_to_i32_max_then_minus_one_and_eight() {
    let mut buf = [0; 12];
    assert_eq!(frame_header(0, &mut buf), [0, 0, 0, 0]);
    assert_eq!(frame_header(5, &mut buf), [0, 0, 0, 5]);
    assert_eq!(
        frame_header(0x7fff_ffff, &mut buf),
        [0x7f, 0xff, 0xff, 0xff]
    );
    assert_eq!(
        frame_header(0x8000_0000, &mut buf),
        [0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0x80, 0, 0, 0]
    );
    assert_eq!(
        frame_header(u64::MAX, &mut buf),
        [
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff
        ]
    );
}

#[test]
fn the_long_length_form_is_read_for_any_size() {
    // Python reads -1 and an 8-byte length whatever that length is.
    let (mut conn, mut raw) = raw_pair();
    raw.write_all(&[
        0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 3, b'a', b'b', b'c',
    ])
    .unwrap();
    raw.write_all(&[0, 0, 0, 2, b'h', b'i']).unwrap();
    assert_eq!(conn.recv_bytes().unwrap(), b"abc");
    assert_eq!(conn.recv_bytes().unwrap(), b"hi");
    drop(raw);
    assert!(matches!(conn.recv_bytes(), Err(Error::Disconnected)));
    assert!(
        matches!(conn.recv_bytes(), Err(Error::Disconnected)),
        "and again"
    );
}

#[test]
fn what_is_sent_is_pythons_format_on_the_wire() {
    let (mut conn, mut raw) = raw_pair();
    conn.send_bytes(b"abc").unwrap();
    conn.send_bytes(b"").unwrap();
    conn.send(&7_u16).unwrap();
    drop(conn);
    let mut wire = Vec::new();
    std::io::Read::read_to_end(&mut raw, &mut wire).unwrap();
    assert_eq!(
        wire,
        [0, 0, 0, 3, b'a', b'b', b'c', 0, 0, 0, 0, 0, 0, 0, 2, 7, 0]
    );
}

#[test]
fn huge_lengths_are_refused_before_any_allocation() {
    let headers: [&[u8]; 4] = [
        &[0x7f, 0xff, 0xff, 0xff],
        &[
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        ],
        &[0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1, 0, 0, 0, 0],
        &[0x01, 0x00, 0x00, 0x01],
    ];
    for header in headers {
        let (mut conn, mut raw) = raw_pair();
        raw.write_all(header).unwrap();
        let mut out = Vec::new();
        let err = conn.recv_bytes_into(&mut out, 1 << 20).unwrap_err();
        assert!(
            matches!(err, Error::MessageTooLarge { limit, .. } if limit == 1 << 20),
            "{err}"
        );
        assert_eq!(out.capacity(), 0, "nothing allocated for {header:02x?}");
        // Out of step now, as in Python: every later receive says why.
        let again = conn.recv_bytes().unwrap_err();
        assert!(
            again.to_string().contains("can no longer be read"),
            "{again}"
        );
        assert!(
            conn.poll(Duration::ZERO).unwrap(),
            "an error is something to receive"
        );
    }
}

#[test]
fn a_liar_gets_memory_only_for_what_it_sends() {
    // Announces 200 MiB, which the limit allows, sends 10 bytes, ends.
    let (mut conn, mut raw) = raw_pair();
    conn.set_limit(256 << 20);
    raw.write_all(&(200_i32 << 20).to_be_bytes()).unwrap();
    raw.write_all(&[1; 10]).unwrap();
    drop(raw);
    let mut out = Vec::new();
    let err = conn.recv_bytes_into(&mut out, 256 << 20).unwrap_err();
    assert!(
        err.to_string()
            .ends_with("ended inside a message (10 of 209715200 bytes arrived)"),
        "{err}"
    );
    assert!(
        out.capacity() <= 2 * READ_CHUNK,
        "{} bytes reserved",
        out.capacity()
    );
}

#[test]
fn negative_lengths_and_truncation_are_errors_never_panics() {
    for (bytes, want) in [
        (&[0x80, 0, 0, 0][..], "a message length of -2147483648"),
        (&[0xff, 0xff, 0xff, 0xfe][..], "a message length of -2"),
        (&[0, 0][..], "inside a message's length (2 of 4 bytes)"),
        (
            &[0xff, 0xff, 0xff, 0xff, 0, 0][..],
            "inside a long message's length (2 of 8 bytes)",
        ),
        (
            &[0, 0, 0, 9, 1, 2][..],
            "inside a message (2 of 9 bytes arrived)",
        ),
    ] {
        let (mut conn, mut raw) = raw_pair();
        raw.write_all(bytes).unwrap();
        drop(raw);
        let err = conn.recv_bytes().unwrap_err();
        assert!(matches!(err, Error::Message(_)), "{err}");
        assert!(err.to_string().contains(want), "{err} lacks {want}");
    }
}

#[test]
fn a_frame_that_is_not_the_type_is_an_error() {
    let (mut conn, mut raw) = raw_pair();
    raw.write_all(&[0, 0, 0, 1, 7]).unwrap();
    let err = conn.recv::<String>().unwrap_err();
    assert!(matches!(err, Error::Message(_)), "{err}");
}

// ---- waiting ----------------------------------------------------------------

#[test]
fn poll_waits_at_most_its_bound_and_sees_data_and_the_end() {
    let (conn, mut raw) = raw_pair();
    let bound = Duration::from_millis(30);
    let start = Instant::now();
    assert!(!conn.poll(bound).unwrap());
    assert!(start.elapsed() >= bound);
    raw.write_all(&[0, 0, 0, 0]).unwrap();
    assert!(conn.poll(Duration::ZERO).unwrap());
    let (conn, raw) = raw_pair();
    drop(raw);
    assert!(
        conn.poll(BOUND).unwrap(),
        "the end of the stream is something to receive"
    );
}

#[test]
fn a_receive_timeout_between_messages_leaves_the_connection_usable() {
    let (mut conn, mut raw) = raw_pair();
    conn.set_timeout(Some(Duration::from_millis(30)));
    assert_eq!(conn.timeout(), Some(Duration::from_millis(30)));
    assert!(matches!(conn.recv_bytes(), Err(Error::Timeout)));
    raw.write_all(&[0, 0, 0, 2, b'o', b'k']).unwrap();
    assert_eq!(conn.recv_bytes().unwrap(), b"ok");
    // Inside a message, it cannot go on.
    raw.write_all(&[0, 0, 0, 2, b'o']).unwrap();
    assert!(matches!(conn.recv_bytes(), Err(Error::Timeout)));
    raw.write_all(b"k").unwrap();
    let err = conn.recv_bytes().unwrap_err();
    assert!(
        err.to_string()
            .contains("stopped in the middle of a message (timed out)"),
        "{err}"
    );
}

#[test]
fn a_send_into_a_full_buffer_times_out_and_the_peer_gone_is_disconnected() {
    let (mut conn, raw) = raw_pair();
    conn.set_timeout(Some(Duration::from_millis(50)));
    // Nobody reads: the socket's buffer fills, then the send times out.
    let err = conn.send_bytes(&vec![0; 16 << 20]).unwrap_err();
    assert!(matches!(err, Error::Timeout), "{err}");
    let again = conn.send_bytes(b"x").unwrap_err();
    assert!(again.to_string().contains("cannot send again"), "{again}");
    drop(raw);

    let (mut conn, raw) = raw_pair();
    drop(raw);
    assert!(matches!(conn.send_bytes(b"x"), Err(Error::Disconnected)));
    assert!(matches!(conn.recv_bytes(), Err(Error::Disconnected)));
}

#[test]
fn a_peer_gone_over_tcp_is_disconnected() {
    let mut listener = Listener::bind("127.0.0.1:0").unwrap();
    let client = Client::new(listener.address()).connect().unwrap();
    let mut conn = listener.accept_until(Deadline::after(BOUND)).unwrap();
    client.close();
    assert!(matches!(conn.recv_bytes(), Err(Error::Disconnected)));
    // The first send may land before the peer's reset comes back.
    let sent: Vec<_> = (0..50).map(|_| conn.send_bytes(b"anyone?")).collect();
    assert!(
        sent.iter().any(|r| matches!(r, Err(Error::Disconnected))),
        "{sent:?}"
    );
}

#[test]
fn accept_and_connect_end_at_their_deadlines() {
    let mut listener = Listener::bind("127.0.0.1:0").unwrap();
    let start = Instant::now();
    let err = listener
        .accept_until(Deadline::after(Duration::from_millis(40)))
        .unwrap_err();
    assert!(matches!(err, Error::Timeout), "{err}");
    assert!(start.elapsed() >= Duration::from_millis(40));
    // A port nobody listens on refuses at once.
    let port = match listener.address() {
        Address::Tcp(addr) => addr.port(),
        other => panic!("{other:?}"),
    };
    drop(listener);
    let err = Client::new(format!("127.0.0.1:{port}"))
        .connect()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("connect 127.0.0.1:{port}: Connection refused")
    );
}

// ---- socket files ----------------------------------------------------------

#[test]
fn a_socket_file_is_mode_0600_and_removed_by_its_listener_only() {
    let dir = TempDir::new("connection");
    let path = dir.join("sock");
    let listener = Listener::bind(path.as_path()).unwrap();
    let meta = std::fs::symlink_metadata(&path).unwrap();
    assert!(meta.file_type().is_socket());
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    // Somebody replaced the file: the listener leaves the new one alone.
    std::fs::remove_file(&path).unwrap();
    std::fs::write(&path, "not yours").unwrap();
    drop(listener);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "not yours");
}

#[test]
fn an_existing_path_is_refused_unless_it_is_our_dead_socket() {
    let dir = TempDir::new("connection");
    // A regular file, a link (even to a place that does not exist), a
    // directory: refused, and left as they are.
    let file = dir.join("file");
    std::fs::write(&file, "data").unwrap();
    let link = dir.join("link");
    std::os::unix::fs::symlink(dir.join("elsewhere"), &link).unwrap();
    let sub = dir.join("dir");
    std::fs::create_dir(&sub).unwrap();
    for (path, why) in [
        (&file, "exists and is not a socket"),
        (&link, "is a symbolic link"),
        (&sub, "exists and is not a socket"),
    ] {
        let err = Listener::bind(path.as_path()).unwrap_err();
        assert!(matches!(err, Error::Untrusted { .. }), "{err}");
        assert!(err.to_string().contains(why), "{err}");
    }
    assert!(!dir.join("elsewhere").exists(), "the link was not followed");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "data");

    // A live listener's socket: in use.
    let path = dir.join("live");
    let live = Listener::bind(path.as_path()).unwrap();
    let err = Listener::bind(path.as_path()).unwrap_err();
    let in_use = format!("bind {}: {}", path.display(), Errno::EADDRINUSE.desc());
    assert_eq!(err.to_string(), in_use);
    drop(live);

    // A socket of ours whose listener is gone (a run that ended): replaced.
    let stale = dir.join("stale");
    let old = std::os::unix::net::UnixListener::bind(&stale).unwrap();
    drop(old);
    assert!(stale.exists());
    let mut listener = Listener::bind(stale.as_path()).unwrap();
    let client = Client::new(stale.as_path());
    let talk = thread::spawn(move || client.connect().map(|mut c| c.send_bytes(b"new")));
    let mut conn = listener.accept_until(Deadline::after(BOUND)).unwrap();
    assert_eq!(conn.recv_bytes().unwrap(), b"new");
    talk.join().unwrap().unwrap().unwrap();
}

#[test]
fn bad_addresses_are_clear_errors() {
    let long = format!("/tmp/{}", "x".repeat(200));
    let err = Listener::bind(long.as_str()).unwrap_err();
    assert_eq!(err.exit_code(), 2, "{err}");
    assert!(
        err.to_string().contains("longer than the 107 bytes"),
        "{err}"
    );
    let err = Client::new("").connect().unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)), "{err}");
    assert!("".parse::<Address>().is_err());
    assert_eq!(
        "localhost:80".parse::<Address>().unwrap().to_string(),
        "127.0.0.1:80"
    );
    let err = Client::new("/nonexistent/ipc-lab.sock")
        .connect()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "connect /nonexistent/ipc-lab.sock: No such file or directory"
    );
}
