//! A peer's bytes never make `ipc_core::connection` panic, wait or
//! allocate out of proportion: random, truncated and extreme frames (the
//! lengths 0, -1, `i32::MIN`, `i32::MAX`, the 8-byte form up to
//! `u64::MAX`) read as the reference model of the format says, and random
//! challenges, answers and verdicts end the handshake in `Ok` or
//! `Error::Authentication`.
//!
//! The inputs come from a seeded generator, so a failure repeats; it is
//! reported with the input that caused it. The checks themselves live in
//! `support/connection_input.rs`, shared with the fuzz target.

use std::panic::{AssertUnwindSafe, catch_unwind};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

#[path = "support/connection_input.rs"]
mod connection_input;
#[path = "support/counting_alloc.rs"]
mod counting_alloc;

use connection_input::{End, answerable, model};

/// How many random inputs each test feeds.
const INPUTS: usize = 20_000;

/// Runs `check` on `input`, reporting the input if it panics.
fn checked<R>(what: &str, input: &[u8], check: impl FnOnce() -> R) -> R {
    match catch_unwind(AssertUnwindSafe(check)) {
        Ok(result) => result,
        Err(_) => panic!("{what} panicked on {input:02x?}"),
    }
}

/// The lengths a hostile or broken peer is most likely to send.
fn extreme_lengths() -> Vec<Vec<u8>> {
    let mut heads: Vec<Vec<u8>> = [
        0,
        1,
        3,
        255,
        256,
        257,
        -1,
        -2,
        i32::MIN,
        i32::MAX,
        i32::MAX - 1,
    ]
    .iter()
    .map(|n: &i32| n.to_be_bytes().to_vec())
    .collect();
    for long in [
        0,
        1,
        3,
        0x7fff_ffff,
        0x8000_0000,
        i64::MAX as u64,
        i64::MAX as u64 + 1,
        u64::MAX,
    ] {
        heads.push([(-1_i32).to_be_bytes().as_slice(), &long.to_be_bytes()].concat());
    }
    heads
}

/// A stream of frames: mostly well formed and small, with extreme
/// lengths, truncations and garbage mixed in.
fn random_stream(rng: &mut StdRng, extremes: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for _ in 0..rng.random_range(0..6) {
        match rng.random_range(0..10) {
            0..=5 => {
                let len: i32 = if rng.random_ratio(1, 8) {
                    rng.random_range(0..600)
                } else {
                    rng.random_range(0..8)
                };
                if rng.random_ratio(1, 6) {
                    out.extend((-1_i32).to_be_bytes());
                    out.extend((len as u64).to_be_bytes());
                } else {
                    out.extend(len.to_be_bytes());
                }
                out.extend((0..len).map(|_| rng.random::<u8>()));
            }
            6 | 7 => out.extend(&extremes[rng.random_range(0..extremes.len())]),
            _ => out.extend((0..rng.random_range(0..12)).map(|_| rng.random::<u8>())),
        }
    }
    if rng.random_ratio(1, 4) && !out.is_empty() {
        // Cut anywhere.
        let cut = rng.random_range(0..out.len());
        out.truncate(cut);
    }
    out
}

fn limits(rng: &mut StdRng) -> usize {
    match rng.random_range(0..6) {
        0 => 0,
        1 => rng.random_range(0..16),
        2 => 256,
        3 => i32::MAX as usize,
        4 => u32::MAX as usize,
        _ => usize::MAX,
    }
}

#[test]
fn random_frames_read_as_the_model_says() {
    let mut rng = StdRng::seed_from_u64(0xc0_22);
    let extremes = extreme_lengths();
    let mut read = 0;
    let mut ends = [0; 3];
    for _ in 0..INPUTS {
        let input = random_stream(&mut rng, &extremes);
        let limit = limits(&mut rng);
        read += checked("reading frames", &input, || {
            connection_input::frames(&input, limit)
        });
        ends[model(&input, limit).1 as usize] += 1;
    }
    eprintln!("{read} frames read; ends (disconnected, broken, too large): {ends:?}");
    assert!(read > INPUTS / 2, "only {read} frames were read");
    assert!(
        ends.iter().all(|&n| n > INPUTS / 20),
        "every ending is exercised: {ends:?}"
    );
}

#[test]
fn extreme_lengths_are_refused_or_read_never_trusted() {
    for head in extreme_lengths() {
        for tail in [&b""[..], b"abc", &[0; 300]] {
            let input = [head.as_slice(), tail].concat();
            for limit in [0, 3, 256, i32::MAX as usize, usize::MAX] {
                checked("reading frames", &input, || {
                    connection_input::frames(&input, limit)
                });
            }
        }
    }
}

/// A frame of `body`, sometimes with a lying length.
fn frame(rng: &mut StdRng, body: &[u8]) -> Vec<u8> {
    let mut len = body.len() as i32;
    if rng.random_ratio(1, 20) {
        len = [0, -1, i32::MAX, len + 1, 300][rng.random_range(0..5)];
    }
    [len.to_be_bytes().as_slice(), body].concat()
}

/// A challenge: half of them real ones (Python 3.11's, 3.12's, an
/// `{md5}` one), the rest close to one.
fn random_challenge(rng: &mut StdRng) -> Vec<u8> {
    let prefixes: [&[u8]; 9] = [
        b"",
        b"{md5}",
        b"{sha256}",
        b"{sha384}",
        b"{sha3_256}",
        b"{",
        b"{sha256",
        b"{}",
        b"{toolongname}",
    ];
    let (prefix, random) = match rng.random_range(0..6) {
        0 => (&b""[..], 20),
        1 => (&b"{sha256}"[..], 40),
        2 => (&b"{md5}"[..], 40),
        _ => (
            prefixes[rng.random_range(0..prefixes.len())],
            [0, 15, 19, 20, 21, 40, 100][rng.random_range(0..7)],
        ),
    };
    let mut body = prefix.to_vec();
    body.extend((0..random).map(|_| rng.random::<u8>()));
    if rng.random_ratio(1, 10) {
        return body;
    }
    let start: &[u8] = if rng.random_ratio(1, 10) {
        b"#CHALLENGE"
    } else {
        b"#CHALLENGE#"
    };
    [start, &body].concat()
}

#[test]
fn random_challenges_and_verdicts_end_in_ok_or_an_authentication_error() {
    let mut rng = StdRng::seed_from_u64(0xa17);
    let verdicts: [&[u8]; 5] = [b"#WELCOME#", b"#FAILURE#", b"#WELCOME", b"", b"#WELCOME#!"];
    let (mut answered, mut welcomed) = (0, 0);
    for _ in 0..INPUTS {
        let challenge = random_challenge(&mut rng);
        let mut input = frame(&mut rng, &challenge);
        if rng.random_ratio(9, 10) {
            let verdict = verdicts[rng.random_range(0..verdicts.len())];
            input.extend(frame(&mut rng, verdict));
        }
        if rng.random_ratio(1, 8) {
            let cut = rng.random_range(0..=input.len());
            input.truncate(cut);
        }
        answered += usize::from(answerable(&challenge));
        welcomed += usize::from(checked("answering a challenge", &input, || {
            connection_input::answer(&input)
        }));
    }
    eprintln!("{answered} answerable challenges, {welcomed} welcomed");
    assert!(
        welcomed > INPUTS / 20,
        "only {welcomed} of {answered} answerable challenges were welcomed"
    );
}

#[test]
fn random_answers_to_our_challenge_are_refused() {
    let mut rng = StdRng::seed_from_u64(0xde1);
    for _ in 0..INPUTS {
        let answer: Vec<u8> = match rng.random_range(0..4) {
            0 => (0..[0, 16, 20, 32, 40][rng.random_range(0..5)])
                .map(|_| rng.random())
                .collect(),
            1 => [
                b"{sha256}".as_slice(),
                &(0..32).map(|_| rng.random::<u8>()).collect::<Vec<u8>>(),
            ]
            .concat(),
            2 => [
                b"{md5}".as_slice(),
                &(0..16).map(|_| rng.random::<u8>()).collect::<Vec<u8>>(),
            ]
            .concat(),
            _ => random_challenge(&mut rng),
        };
        let mut input = frame(&mut rng, &answer);
        if rng.random_ratio(1, 8) {
            let cut = rng.random_range(0..=input.len());
            input.truncate(cut);
        }
        checked("checking an answer", &input, || {
            connection_input::deliver(&input)
        });
    }
}

#[test]
fn the_fuzz_targets_entry_takes_any_bytes() {
    // What libFuzzer feeds: raw bytes, the first choosing the check.
    let mut rng = StdRng::seed_from_u64(0xf022);
    let extremes = extreme_lengths();
    for _ in 0..INPUTS {
        let mut data = vec![rng.random::<u8>()];
        if rng.random_ratio(1, 2) {
            data.extend(random_stream(&mut rng, &extremes));
        } else {
            data.extend((0..rng.random_range(0..80)).map(|_| rng.random::<u8>()));
        }
        checked("the fuzz target's checks", &data, || {
            connection_input::check(&data)
        });
    }
}

#[test]
fn the_model_knows_the_format() {
    // The model itself, on hand-made streams, so that agreeing with it
    // means something.
    assert_eq!(model(b"", 10), (vec![], End::Disconnected));
    assert_eq!(
        model(&[0, 0, 0, 2, 7, 8, 0, 0, 0, 0], 10),
        (vec![&[7, 8][..], &[]], End::Disconnected)
    );
    assert_eq!(model(&[0, 0, 0, 2, 7], 10), (vec![], End::Broken));
    assert_eq!(model(&[0, 0, 0, 11], 10), (vec![], End::TooLarge));
    assert_eq!(model(&[0xff, 0xff, 0xff, 0xfe], 10), (vec![], End::Broken));
    assert_eq!(
        model(&[0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 1, 9], 10),
        (vec![&[9][..]], End::Disconnected)
    );
    assert!(answerable(b"#CHALLENGE#{sha256}0123456789abcdefghij"));
    assert!(answerable(&[b"#CHALLENGE#".as_slice(), &[0; 20]].concat()));
    assert!(!answerable(b"#CHALLENGE#{sha384}0123456789abcdefghij"));
    assert!(!answerable(&[b"#CHALLENGE#".as_slice(), &[0; 19]].concat()));
}
