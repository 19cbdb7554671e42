//! Graded checks of the student's work on sizes the handout never shows:
//! item, producer and consumer counts (and the ring's capacity) chosen
//! now. The check computes each producer's lines and the summary; which
//! consumer takes which item varies, so it checks that every item was
//! consumed exactly once, each consumer taking its share. The run's
//! timeline (what ipc-core recorded, not what the program printed) must
//! show each producer writing its items into the ring in shared memory,
//! each consumer reading from the ring the items it printed, every access
//! to the ring under one mutex, and producers and consumers, in processes
//! of their own, waiting on the two semaphores in opposite roles. With
//! `--condition`, every access under the condition's lock, and a process
//! that found nothing to do taking the lock again only after another one
//! changed the ring (it slept in the wait; it did not poll). A program
//! that prints the right lines without the items crossing the bounded
//! buffer that way fails them.
//!
//! `IPC_LAB_CHECK_SEED=N` repeats the inputs of a failure that printed
//! seed N.

use std::collections::BTreeMap;

use ipc_testkit::evidence::{Evidence, Inputs, Lines, Passed, ProducersConsumers, Stream};

const BIN: &str = env!("CARGO_BIN_EXE_exp3-prodcons");

/// Worker `i` (from 1) of `n`'s share of `total`, as the program shares
/// the items out.
fn share(i: u64, n: u64, total: u64) -> u64 {
    total / n + u64::from(i <= total % n)
}

/// The sizes of one run.
struct Sizes {
    items: u64,
    producers: u64,
    consumers: u64,
    capacity: u64,
}

impl Sizes {
    /// Sizes chosen in these ranges, each noted under its flag.
    fn chosen(inputs: &mut Inputs, [items, producers, consumers, capacity]: [Range; 4]) -> Sizes {
        let mut number = |flag: &str, range: Range| inputs.number(flag, range) as u64;
        Sizes {
            items: number("--items", items),
            producers: number("--producers", producers),
            consumers: number("--consumers", consumers),
            capacity: number("--capacity", capacity),
        }
    }
}

/// A range of a size to choose.
type Range = std::ops::RangeInclusive<i64>;

/// Each consumer's items, in the order it printed them, checked to be
/// every item of `produced` exactly once, each consumer taking its share.
fn consumed(evidence: &Evidence, sizes: &Sizes, all: &[u64]) -> BTreeMap<u64, Vec<u64>> {
    let mut by: BTreeMap<u64, Vec<u64>> = (1..=sizes.consumers).map(|c| (c, Vec::new())).collect();
    for line in evidence.run.stdout_lines() {
        let words: Vec<&str> = line.split(' ').collect();
        if let ["Consumer", c, "consumed", item] = words[..]
            && let (Ok(c), Ok(item)) = (c.parse::<u64>(), item.parse::<u64>())
            && let Some(items) = by.get_mut(&c)
        {
            items.push(item);
        }
    }
    let mut taken: Vec<u64> = by.values().flatten().copied().collect();
    taken.sort_unstable();
    if taken != all {
        evidence.fail(
            format!(
                "the consumers must take every item exactly once: they consumed {taken:?}, the producers made {all:?}"
            ),
            "",
        );
    }
    for (c, items) in &by {
        let expected = share(*c, sizes.consumers, sizes.items);
        if items.len() as u64 != expected {
            evidence.fail(
                format!(
                    "consumer {c} consumed {} items, not its share of {expected}",
                    items.len()
                ),
                "",
            );
        }
    }
    by
}

/// How the ring is guarded in a run.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Guard {
    /// The two semaphores and the mutex (the default).
    Semaphores,
    /// One condition and its lock (`--condition`).
    Condition,
}

/// Runs exp3-prodcons with `sizes` (the defaults when `None`) and checks
/// the lines and the timeline.
fn assert_items_cross_the_ring(inputs: &Inputs, sizes: Option<&Sizes>, guard: Guard) {
    let texts =
        sizes.map(|s| [s.items, s.producers, s.consumers, s.capacity].map(|n| n.to_string()));
    let mut args = vec!["--fast"];
    if guard == Guard::Condition {
        args.push("--condition");
    }
    if let Some([items, producers, consumers, capacity]) = &texts {
        args.extend([
            "--items",
            items,
            "--producers",
            producers,
            "--consumers",
            consumers,
            "--capacity",
            capacity,
        ]);
    }
    let defaults = Sizes {
        items: 20,
        producers: 2,
        consumers: 2,
        capacity: 5,
    };
    let sizes = sizes.unwrap_or(&defaults);
    let evidence = inputs.run(BIN, &args);

    // Producer p's k-th item is p × 100 + k (every share is below 100).
    let made: BTreeMap<u64, Vec<u64>> = (1..=sizes.producers)
        .map(|p| {
            let share = share(p, sizes.producers, sizes.items);
            (p, (1..=share).map(|k| p * 100 + k).collect())
        })
        .collect();
    let mut all: Vec<u64> = made.values().flatten().copied().collect();
    all.sort_unstable();
    let taken = consumed(&evidence, sizes, &all);

    // Each producer's and consumer's lines: `Producer 2 produced 201`.
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    for (role, did, by) in [
        ("Producer", "produced", &made),
        ("Consumer", "consumed", &taken),
    ] {
        for (k, items) in by {
            let lines = items.iter().map(|item| format!("{role} {k} {did} {item}"));
            groups.push((format!("{role} {k} "), lines.collect()));
        }
    }
    let n = sizes.items;
    let summary = format!("Produced {n}, consumed {n}, lost 0, duplicated 0");
    groups.push(("Produced ".into(), vec![summary.clone()]));
    let lines: Vec<Lines<'_>> = groups
        .iter()
        .map(|(prefix, lines)| Lines::of(prefix, lines))
        .collect();
    evidence.assert_interleaved(Stream::Stdout, &lines);
    evidence.assert_last_line(&summary, "the summary comes once every process has ended");

    let producers: Vec<String> = made.keys().map(|p| format!("producer {p}")).collect();
    let consumers: Vec<String> = taken.keys().map(|c| format!("consumer {c}")).collect();
    let producers: Vec<&str> = producers.iter().map(String::as_str).collect();
    let consumers: Vec<&str> = consumers.iter().map(String::as_str).collect();
    let meaning = "a producer must put each item into the ring (buffer[in]) and a consumer take it from there (buffer[out]), both under the mutex";
    // `items` went through the ring from one of `writers` to one of
    // `readers` (in the order taken, for a consumer's own items).
    let assert_passed = |items: &[u64], writers: &[&str], readers: &[&str], in_order: bool| {
        let values: Vec<String> = items.iter().map(u64::to_string).collect();
        evidence.assert_values_passed(&Passed {
            object: "raw array",
            called: "the ring buffer",
            values: &values,
            writers,
            readers,
            in_order,
            meaning,
        });
    };
    for (p, items) in &made {
        assert_passed(items, &[producers[*p as usize - 1]], &consumers, false);
    }
    for (c, items) in &taken {
        assert_passed(items, &producers, &[consumers[*c as usize - 1]], true);
    }
    let values: Vec<String> = all.iter().map(u64::to_string).collect();
    let ring = Passed {
        object: "raw array",
        called: "the ring buffer",
        values: &values,
        writers: &producers,
        readers: &consumers,
        meaning: "wait(mutex) before touching the ring and signal(mutex) after: two processes at the ring's same end at once lose or duplicate items",
        ..Passed::default()
    };
    if guard == Guard::Condition {
        evidence
            .assert_passed_under_a_lock(&Passed {
                meaning: "every look at the ring and every change of it happens holding the condition's lock (`with cond:`)",
                ..ring.clone()
            })
            .assert_waited_for_changes(&Passed {
                meaning: "a producer that finds the ring full (a consumer that finds it empty) waits on the condition, which lets the lock go and sleeps until another process changes the ring and notifies",
                ..ring
            });
        return;
    }
    evidence
        .assert_passed_under_a_lock(&ring)
        .assert_producers_and_consumers(&ProducersConsumers {
            producers: &producers,
            consumers: &consumers,
            meaning: "a producer waits on `empty` (a free slot) and signals `full`; a consumer waits on `full` (an item) and signals `empty`",
        });
}

#[test]
fn other_sizes_pass_every_item_through_the_ring_under_the_semaphores() {
    let mut inputs = Inputs::new();
    let sizes = Sizes::chosen(&mut inputs, [5..=40, 1..=4, 1..=4, 1..=8]);
    assert_items_cross_the_ring(&inputs, Some(&sizes), Guard::Semaphores);
}

#[test]
fn a_one_slot_ring_passes_every_item_between_many_processes() {
    let mut inputs = Inputs::new();
    let sizes = Sizes::chosen(&mut inputs, [10..=30, 3..=6, 3..=6, 1..=1]);
    assert_items_cross_the_ring(&inputs, Some(&sizes), Guard::Semaphores);
}

#[test]
fn the_default_run_passes_every_item_through_the_ring() {
    assert_items_cross_the_ring(&Inputs::new(), None, Guard::Semaphores);
}

#[test]
fn with_a_condition_every_item_crosses_the_ring_under_its_lock_and_waits_sleep() {
    let mut inputs = Inputs::new();
    // More producers than consumers, and a small ring: the producers find
    // it full and wait; the consumers find it empty at the start.
    let sizes = Sizes::chosen(&mut inputs, [12..=40, 2..=4, 1..=2, 1..=3]);
    inputs.note("--condition", "");
    assert_items_cross_the_ring(&inputs, Some(&sizes), Guard::Condition);
}
