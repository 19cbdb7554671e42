//! Decoding is total: random bytes, truncated and mutated encodings give
//! `Ok` or `Err`, never a panic, and what a decode allocates stays
//! proportional to its input.
//!
//! The inputs come from a seeded generator, so a failure repeats; it is
//! reported with the input that caused it.

use std::fmt::Debug;
use std::panic::{AssertUnwindSafe, catch_unwind};

use ipc_core::message::structs::Serde;
use ipc_core::message::{Bytes, Message, from_bytes, to_bytes};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// How many inputs each test feeds to the decoders.
const INPUTS: usize = 100_000;

#[path = "support/counting_alloc.rs"]
mod counting_alloc;

/// Decodes `bytes` as a `T`, panicking with the input if decoding panics
/// or allocates more than a small multiple of the input's length (the
/// largest element, a `String` or `Vec`, is 24 bytes, and each takes at
/// least 4 encoded bytes: at most 6 bytes of memory per byte of input).
fn decode<T: Message>(bytes: &[u8]) -> Option<T> {
    decode_within(bytes, 8)
}

/// As [`decode`], allowing `per_byte` bytes of memory per byte of input
/// (a struct's, from [`order::order_bytes_per_byte`]).
fn decode_within<T: Message>(bytes: &[u8], per_byte: usize) -> Option<T> {
    let outcome = counting_alloc::allocating_at_most(
        per_byte * bytes.len() + 256,
        &format!("decoding {}", std::any::type_name::<T>()),
        bytes,
        || catch_unwind(AssertUnwindSafe(|| from_bytes::<T>(bytes))),
    );
    let Ok(result) = outcome else {
        panic!(
            "decoding {} panicked on {bytes:02x?}",
            std::any::type_name::<T>()
        );
    };
    result.ok()
}

// ---- the types under test ------------------------------------------------

#[path = "support/order.rs"]
mod order;
use order::{Line, Order, Status, behind_its_length, order_bytes_per_byte};

/// A struct message, through serde and postcard.
type Struct = Serde<Order>;

/// Decodes `bytes` as a [`Struct`], within its bound.
fn decode_struct(bytes: &[u8]) -> Option<Struct> {
    decode_within(bytes, order_bytes_per_byte())
}

#[path = "support/shapes.rs"]
mod shapes;
use shapes::{Chars, Four, Mixed, Nested, Pair, Records};

/// Feeds `bytes` to every decoder; how many accepted them.
fn decode_all(bytes: &[u8]) -> usize {
    [
        decode::<Mixed>(bytes).is_some(),
        decode::<Nested>(bytes).is_some(),
        decode::<Pair>(bytes).is_some(),
        decode::<Bytes>(bytes).is_some(),
        decode::<Records>(bytes).is_some(),
        decode::<Four>(bytes).is_some(),
        decode::<Chars>(bytes).is_some(),
        decode::<String>(bytes).is_some(),
        decode::<usize>(bytes).is_some(),
        decode_struct(bytes).is_some(),
    ]
    .into_iter()
    .filter(|&ok| ok)
    .count()
}

/// Random bytes, biased towards the small counts and tags that lead a
/// decoder deep into its input rather than failing on the first byte.
fn random_input(rng: &mut StdRng) -> Vec<u8> {
    let len = if rng.random_ratio(1, 10) {
        rng.random_range(0..512)
    } else {
        rng.random_range(0..40)
    };
    (0..len)
        .map(|_| match rng.random_range(0..8) {
            0..=2 => 0,
            3 => 1,
            4 => rng.random_range(2..6),
            5 => 0xff,
            _ => rng.random(),
        })
        .collect()
}

#[test]
fn random_bytes_are_ok_or_err_never_a_panic() {
    let mut rng = StdRng::seed_from_u64(0x1bc_1ab);
    let mut decoded = 0;
    for _ in 0..INPUTS {
        decoded += decode_all(&random_input(&mut rng));
    }
    eprintln!("{decoded} of {} decodes succeeded", 10 * INPUTS);
    // Not every input is rejected at its first bytes.
    assert!(decoded > 1000, "only {decoded} decodes succeeded");
}

// ---- valid values, truncated and mutated ---------------------------------

fn random_string(rng: &mut StdRng) -> String {
    let len = rng.random_range(0..12);
    (0..len)
        .map(|_| {
            if rng.random_ratio(1, 5) {
                rng.random::<char>()
            } else {
                rng.random_range('a'..='z')
            }
        })
        .collect()
}

fn random_vec<T>(rng: &mut StdRng, max: usize, item: impl Fn(&mut StdRng) -> T) -> Vec<T> {
    let len = rng.random_range(0..=max);
    (0..len).map(|_| item(rng)).collect()
}

fn random_mixed(rng: &mut StdRng) -> Mixed {
    (
        random_vec(rng, 4, random_string),
        rng.random_bool(0.5).then(|| rng.random()),
        rng.random(),
    )
}

fn random_nested(rng: &mut StdRng) -> Nested {
    random_vec(rng, 4, |rng| random_vec(rng, 6, |rng| rng.random()))
}

fn random_records(rng: &mut StdRng) -> Records {
    rng.random_bool(0.8)
        .then(|| random_vec(rng, 5, |rng| (rng.random(), rng.random())))
}

fn random_four(rng: &mut StdRng) -> Four {
    (rng.random(), rng.random(), rng.random(), random_string(rng))
}

fn random_status(rng: &mut StdRng) -> Status {
    match rng.random_range(0..3) {
        0 => Status::New,
        // Finite, so that the round trip compares equal.
        1 => Status::Paid {
            amount: rng.random_range(-1e9..1e9),
        },
        _ => Status::Shipped(random_string(rng), rng.random()),
    }
}

fn random_order(rng: &mut StdRng) -> Order {
    Order {
        id: rng.random(),
        name: random_string(rng),
        note: rng.random_bool(0.5).then(|| random_string(rng)),
        lines: random_vec(rng, 4, |rng| Line {
            item: random_string(rng),
            count: rng.random(),
        }),
        status: random_status(rng),
        history: random_vec(rng, 4, |rng| {
            rng.random_bool(0.7).then(|| random_status(rng))
        }),
        scores: random_vec(rng, 4, |rng| (rng.random(), rng.random()))
            .into_iter()
            .collect(),
    }
}

/// Encodes `value`, checks it comes back equal, then feeds the decoder
/// every strict prefix (each must be an error: the encoding is
/// prefix-free) and one mutation (any outcome but a panic). Returns how
/// many inputs it tried.
fn check<T: Message + PartialEq + Debug>(value: &T, rng: &mut StdRng) -> usize {
    check_within(value, rng, 8)
}

/// As [`check`], allowing `per_byte` bytes of memory per byte of input.
fn check_within<T: Message + PartialEq + Debug>(
    value: &T,
    rng: &mut StdRng,
    per_byte: usize,
) -> usize {
    let decode = |bytes: &[u8]| decode_within::<T>(bytes, per_byte);
    let bytes = to_bytes(value).unwrap();
    let back: Option<T> = decode(&bytes);
    assert_eq!(back.as_ref(), Some(value), "round trip of {bytes:02x?}");
    for cut in 0..bytes.len() {
        assert!(
            decode(&bytes[..cut]).is_none(),
            "the prefix {:02x?} of {value:?} decoded",
            &bytes[..cut]
        );
    }
    let mut mutated = bytes.clone();
    if !mutated.is_empty() {
        let at = rng.random_range(0..mutated.len());
        mutated[at] ^= 1 << rng.random_range(0..8);
        decode(&mutated);
    }
    bytes.len() + 2
}

#[test]
fn truncated_encodings_are_errors_and_mutations_never_panic() {
    let mut rng = StdRng::seed_from_u64(0x5eed);
    let mut tried = 0;
    while tried < INPUTS {
        tried += match rng.random_range(0..7) {
            6 => check_within(
                &Serde(random_order(&mut rng)),
                &mut rng,
                order_bytes_per_byte(),
            ),
            0 => check(&random_mixed(&mut rng), &mut rng),
            1 => check(&random_nested(&mut rng), &mut rng),
            2 => check(&(rng.random::<i32>(), random_string(&mut rng)), &mut rng),
            3 => check(&Bytes(random_vec(&mut rng, 40, |r| r.random())), &mut rng),
            4 => check(&random_records(&mut rng), &mut rng),
            _ => check(&random_four(&mut rng), &mut rng),
        };
    }
}

#[test]
fn a_huge_count_allocates_nothing_for_it() {
    // Four billion strings promised in eight bytes: refused before the
    // vector is made (the tracking in `decode` would catch the allocation).
    let mut bytes = u32::MAX.to_le_bytes().to_vec();
    bytes.extend_from_slice(&[0; 8]);
    assert!(decode::<Vec<String>>(&bytes).is_none());
    assert!(decode::<Nested>(&bytes).is_none());
    assert!(decode::<Bytes>(&bytes).is_none());
}

// ---- structs: postcard behind a true length -------------------------------

#[test]
fn random_blobs_behind_a_true_length_are_ok_or_err_never_a_panic() {
    // Random bytes seldom start with their own length; these do, so that
    // postcard itself reads every one of them.
    let mut rng = StdRng::seed_from_u64(0x5e_2de);
    let mut decoded = 0;
    for _ in 0..INPUTS {
        let bytes = behind_its_length(&random_input(&mut rng));
        decoded += usize::from(decode_struct(&bytes).is_some());
    }
    eprintln!("{decoded} of {INPUTS} struct decodes succeeded");
    // A few are whole orders (the zero bytes of an empty one, mostly);
    // the rest fail somewhere inside, which is what is under test.
    assert!(decoded > 10, "only {decoded} struct decodes succeeded");
}

/// A postcard varint.
fn varint(n: u64) -> Vec<u8> {
    postcard::to_allocvec(&n).unwrap()
}

#[test]
fn a_forged_element_count_inside_a_struct_allocates_nothing_for_it() {
    // 2^60 u64s promised in a blob of a dozen bytes: postcard gives serde
    // no size hint for a count the bytes left cannot hold, so nothing is
    // reserved for them (with the hint, serde would reserve 1 MiB, which
    // the bound of `decode_within` catches).
    let mut blob = varint(1 << 60);
    blob.extend_from_slice(&[1, 2, 3]);
    let bytes = behind_its_length(&blob);
    assert!(decode_within::<Serde<Vec<u64>>>(&bytes, 8).is_none());
    // The same lie deep inside an order: its `lines`.
    let mut blob = vec![7, 1, b'a', 0];
    blob.extend(varint(1 << 60));
    blob.extend_from_slice(&[1, b'b', 2]);
    assert!(decode_struct(&behind_its_length(&blob)).is_none());
}

#[test]
fn a_forged_map_count_reserves_at_most_serdes_cap() {
    // A HashMap is the one collection that reserves from the count it is
    // told, even one the bytes cannot hold: serde caps that at 1 MiB of
    // entries, which hashbrown rounds up to a power of two of buckets
    // plus their control bytes. The cap docs/dependencies.md states.
    use std::collections::HashMap;
    let mut blob = varint(1 << 60);
    blob.extend_from_slice(&[1, 2]);
    let bytes = behind_its_length(&blob);
    let (decoded, largest) =
        counting_alloc::largest_allocation(|| from_bytes::<Serde<HashMap<u64, u64>>>(&bytes));
    assert!(decoded.is_err());
    assert!(largest <= 3 << 20, "{largest} bytes reserved at once");
}
