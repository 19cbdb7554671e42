//! The bookkeeping around the buffer: who makes which items, who took what,
//! and the summary line. Not part of the textbook solution; it is how the
//! program *checks* it.
//!
//! Items are numbered so that a number says who made it: producer `p`'s
//! `k`-th item is `p × base + k` (`103` is producer 1's third item), where
//! `base` is 100, or the first power of ten above every producer's share.
//! Each consumer marks every item it takes in a row of its own of a shared
//! array, so that the marks never race even without synchronisation; the
//! parent counts them after every process has ended.

use std::fmt;

use ipc_core::{RawArray, Result};

use crate::Config;

/// How the items are shared out and numbered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// The number of producers.
    pub producers: usize,
    /// The number of consumers.
    pub consumers: usize,
    /// The items in all.
    pub items: u64,
    /// Producer `p`'s `k`-th item is `p × base + k`.
    pub base: u64,
}

impl Plan {
    /// `items` shared out among `producers` and `consumers` as evenly as
    /// possible (the first ones get one more when it does not divide).
    pub fn new(producers: usize, consumers: usize, items: u64) -> Plan {
        let most = share(1, producers, items);
        let mut base = 100;
        while base <= most {
            base *= 10;
        }
        Plan {
            producers,
            consumers,
            items,
            base,
        }
    }

    /// The plan of a run of `config`.
    pub fn of(config: &Config) -> Plan {
        let (producers, consumers) = (config.producers.get(), config.consumers.get());
        Plan::new(producers, consumers, config.items.get())
    }

    /// How many items producer `p` (from 1) makes.
    pub fn produces(&self, p: usize) -> u64 {
        share(p, self.producers, self.items)
    }

    /// How many items consumer `c` (from 1) takes.
    pub fn consumes(&self, c: usize) -> u64 {
        share(c, self.consumers, self.items)
    }

    /// Producer `p`'s `k`-th item (both from 1).
    pub fn item(&self, p: usize, k: u64) -> u64 {
        p as u64 * self.base + k
    }

    /// Where `item` is in the list of every item, if it is one (an empty
    /// slot holds 0, which is none).
    pub fn index(&self, item: u64) -> Option<usize> {
        let p = usize::try_from(item / self.base).ok()?;
        let k = item % self.base;
        if p == 0 || p > self.producers || k == 0 || k > self.produces(p) {
            return None;
        }
        let before: u64 = (1..p).map(|q| self.produces(q)).sum();
        usize::try_from(before + k - 1).ok()
    }

    /// Every item, in the order of [`Plan::index`].
    pub fn all_items(&self) -> Vec<u64> {
        (1..=self.producers)
            .flat_map(|p| (1..=self.produces(p)).map(move |k| self.item(p, k)))
            .collect()
    }
}

/// Worker `i` (from 1) of `n`'s share of `total`.
fn share(i: usize, n: usize, total: u64) -> u64 {
    let n = n as u64;
    total / n + u64::from((i as u64) <= total % n)
}

/// What the processes did, in shared memory.
#[derive(Debug)]
pub struct Ledger {
    plan: Plan,
    /// `marks[c × items + i]`: how many times consumer `c` took item `i`.
    marks: RawArray<u8>,
    produced: RawArray<u64>,
    consumed: RawArray<u64>,
}

impl Ledger {
    /// An empty ledger for `plan`.
    ///
    /// # Errors
    /// As [`RawArray::new`].
    pub fn new(plan: Plan) -> Result<Ledger> {
        Ok(Ledger {
            plan,
            marks: RawArray::new(plan.consumers * plan.items as usize)?,
            produced: RawArray::new(plan.producers)?,
            consumed: RawArray::new(plan.consumers)?,
        })
    }

    /// The plan.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// Producer `p` (from 1) put one more item in the buffer.
    pub fn produced(&self, p: usize) {
        self.produced.set(p - 1, self.produced.get(p - 1) + 1);
    }

    /// Consumer `c` (from 1) took `item` out of the buffer.
    pub fn consumed(&self, c: usize, item: u64) {
        self.consumed.set(c - 1, self.consumed.get(c - 1) + 1);
        if let Some(i) = self.plan.index(item) {
            let at = (c - 1) * self.plan.items as usize + i;
            self.marks.set(at, self.marks.get(at).saturating_add(1));
        }
    }

    /// How many times each item was taken, in the order of
    /// [`Plan::index`].
    pub fn times_taken(&self) -> Vec<u32> {
        let items = self.plan.items as usize;
        (0..items)
            .map(|i| {
                (0..self.plan.consumers)
                    .map(|c| u32::from(self.marks.get(c * items + i)))
                    .sum()
            })
            .collect()
    }

    /// The summary of the run so far.
    pub fn tally(&self) -> Tally {
        let produced: u64 = self.produced.to_list().iter().sum();
        let consumed: u64 = self.consumed.to_list().iter().sum();
        let delivered = self.times_taken().iter().filter(|&&t| t > 0).count() as u64;
        Tally {
            produced,
            consumed,
            lost: produced.saturating_sub(delivered),
            duplicated: consumed.saturating_sub(delivered),
        }
    }
}

/// The summary line: `Produced 20, consumed 20, lost 0, duplicated 0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    /// Items the producers put in the buffer.
    pub produced: u64,
    /// Items the consumers took out (an empty slot taken counts too).
    pub consumed: u64,
    /// Items produced that no consumer ever took: overwritten in their
    /// slot, or left in the buffer.
    pub lost: u64,
    /// Takes that brought no new item: an item taken a second time, or an
    /// empty slot (printed as item 0).
    pub duplicated: u64,
}

impl fmt::Display for Tally {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Produced {}, consumed {}, lost {}, duplicated {}",
            self.produced, self.consumed, self.lost, self.duplicated
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_plan_numbers_like_the_handout() {
        let plan = Plan::new(2, 2, 20);
        assert_eq!(plan.base, 100);
        assert_eq!(plan.item(1, 3), 103);
        assert_eq!(plan.produces(1) + plan.produces(2), 20);
        assert_eq!(plan.index(101), Some(0));
        assert_eq!(plan.index(210), Some(19));
        for bad in [0, 100, 111, 301, 211] {
            assert_eq!(plan.index(bad), None, "{bad}");
        }
        let all = plan.all_items();
        assert_eq!(all.len(), 20);
        for (i, item) in all.iter().enumerate() {
            assert_eq!(plan.index(*item), Some(i));
        }
    }

    #[test]
    fn uneven_shares_and_a_larger_base() {
        let plan = Plan::new(3, 2, 1000);
        assert_eq!(
            (1..=3).map(|p| plan.produces(p)).collect::<Vec<_>>(),
            [334, 333, 333]
        );
        assert_eq!(plan.consumes(1) + plan.consumes(2), 1000);
        assert_eq!(plan.base, 1000);
        assert_eq!(plan.index(plan.item(3, 333)), Some(999));
        assert_eq!(Plan::new(1, 1, 99).base, 100);
        assert_eq!(Plan::new(1, 1, 100).base, 1000);
    }

    #[test]
    fn the_tally_counts_losses_and_duplicates() {
        let ledger = Ledger::new(Plan::new(1, 2, 4)).unwrap();
        for _ in 0..4 {
            ledger.produced(1);
        }
        ledger.consumed(1, 101);
        ledger.consumed(2, 101); // taken twice
        ledger.consumed(2, 0); // an empty slot
        ledger.consumed(1, 103);
        let tally = ledger.tally();
        assert_eq!(
            tally.to_string(),
            "Produced 4, consumed 4, lost 2, duplicated 2"
        );
        assert_eq!(ledger.times_taken(), [2, 0, 1, 0]);
    }
}
