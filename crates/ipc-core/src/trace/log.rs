//! The shared-memory event log: its layout, the lock-free append, and the
//! reading of what it holds.
//!
//! The log is one anonymous `MAP_SHARED` mapping of its own
//! ([`crate::mapping`]: no segment, no name, no owner):
//! a header (the run's start, counters, and a table of message counters
//! per channel), then `capacity` slots of 256 bytes. Every field is an
//! atomic, so that a process reads what another one wrote only through
//! atomic operations:
//!
//! * a writer claims slot `i` with one `fetch_add` on the header's `next`
//!   counter (a claim past the capacity is a dropped event: nothing is
//!   written, and `next - capacity` counts them);
//! * it fills the slot's fields with relaxed stores, then publishes the slot
//!   with a release store of its `state`;
//! * a reader loads `state` with acquire ordering and reads the fields only
//!   when it is [`PUBLISHED`]: it never sees a half-written record. A slot
//!   claimed but never published (its writer was killed in between) is
//!   counted as incomplete.

use std::fmt::{self, Write as _};
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, AtomicI64, AtomicU32, AtomicU64, Ordering};

use nix::time::{ClockId, clock_gettime};

use crate::error::{Error, Result};
use crate::mapping::Mapping;

/// Bytes of a slot's message text; longer texts are truncated (at a
/// character boundary) and marked as such.
pub const TEXT_BYTES: usize = TEXT_WORDS * 8;
/// Bytes of a process name kept in each record.
pub const NAME_BYTES: usize = NAME_WORDS * 8;
/// The most events a log can hold (a 1 GiB mapping).
pub const MAX_CAPACITY: usize = 1 << 22;

pub(crate) const NAME_WORDS: usize = 3;
const TEXT_WORDS: usize = 23;
/// The header with its table of channel counters, rounded up to whole slots.
const HEADER_BYTES: usize = size_of::<Header>().next_multiple_of(SLOT_BYTES);
/// How many channels (or contents of a keyed channel) get message counters
/// of their own ([`LogMemory::next_in_channel`]): 96 KiB of the mapping,
/// touched only where used. A run with more shares counters among the rest,
/// whose messages then pair less well.
const CHANNELS: usize = 4096;
const SLOT_BYTES: usize = 256;
/// "ipctrace" in ASCII: marks an initialised header.
const MAGIC: u64 = u64::from_le_bytes(*b"ipctrace");
const PUBLISHED: u32 = 1;
/// The high bit of `text_len`: the text was cut to fit.
const TRUNCATED: u32 = 1 << 31;

#[repr(C)]
struct Header {
    magic: AtomicU64,
    capacity: AtomicU64,
    /// The next slot to claim; past `capacity`, the count of claims made.
    next: AtomicU64,
    /// The last object id handed out.
    objects: AtomicU64,
    /// The last message id handed out.
    messages: AtomicU64,
    /// CLOCK_MONOTONIC at the start, in nanoseconds.
    start_mono_ns: AtomicU64,
    /// CLOCK_REALTIME at the start, in nanoseconds since the Unix epoch.
    start_wall_ns: AtomicI64,
    /// The process that created the log.
    creator: AtomicI32,
    /// The message counters of the channels the run has used, by open
    /// addressing ([`LogMemory::counters_of`]).
    channels: [Counters; CHANNELS],
}

/// The message counters of one channel.
#[repr(C)]
struct Counters {
    /// The channel's id plus one, once a channel has taken the entry (0
    /// while it is free); it keeps that channel for the whole run.
    key: AtomicU64,
    /// Messages sent (0) and received (1) on it so far.
    counts: [AtomicU64; 2],
}

#[repr(C)]
struct Slot {
    state: AtomicU32,
    kind: AtomicU32,
    pid: AtomicI32,
    text_len: AtomicU32,
    t_ns: AtomicU64,
    a: AtomicU64,
    b: AtomicU64,
    c: AtomicI64,
    name: [AtomicU64; NAME_WORDS],
    text: [AtomicU64; TEXT_WORDS],
}

const _: () = assert!(size_of::<Slot>() == SLOT_BYTES);

/// One record as a process wrote it to a slot: what happened
/// ([`kind`](Record::kind), one of [`super::code`]), who and when, and
/// three fields and a text whose meaning the kind gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// What happened: one of the constants of [`super::code`].
    pub kind: u32,
    /// The process that recorded it.
    pub pid: i32,
    /// Nanoseconds since the log's start (CLOCK_MONOTONIC).
    pub t_ns: u64,
    /// The first field (a channel, a lock, an object, a pid).
    pub a: u64,
    /// The second field (a message id, an element, a duration).
    pub b: u64,
    /// The third field (an exit code, a signal, a flag).
    pub c: i64,
    /// The process's name when it recorded it.
    pub name: String,
    /// The text (a message, a printed line, a value), at most
    /// [`TEXT_BYTES`] bytes.
    pub text: String,
    /// True when the text was cut to fit.
    pub truncated: bool,
}

/// What a log holds: its records, and what a reader needs besides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contents {
    /// Every published record, in the order the slots were claimed.
    pub records: Vec<Record>,
    /// How many records the log holds.
    pub capacity: u64,
    /// Records that found the log full and were not written.
    pub dropped: u64,
    /// Slots claimed but never published (their writer was killed).
    pub incomplete: u64,
    /// CLOCK_REALTIME at the start, ns since the Unix epoch.
    pub start_wall_ns: i64,
    /// CLOCK_MONOTONIC at the start, in ns: the records' times count from
    /// it.
    pub start_mono_ns: u64,
}

/// The mapping of one log.
#[derive(Debug)]
pub(crate) struct LogMemory {
    memory: Mapping,
    capacity: usize,
}

impl LogMemory {
    /// Maps and initialises a log of `capacity` slots.
    pub fn new(capacity: usize) -> Result<Arc<Self>> {
        if capacity == 0 || capacity > MAX_CAPACITY {
            return Err(Error::InvalidArgument(format!(
                "a trace log holds from 1 to {MAX_CAPACITY} events, not {capacity}"
            )));
        }
        let bytes =
            NonZeroUsize::new(HEADER_BYTES + capacity * SLOT_BYTES).expect("at least one slot");
        let memory = Mapping::anonymous(bytes)?;
        let log = LogMemory { memory, capacity };
        let header = log.header();
        let start_wall = clock_gettime(ClockId::CLOCK_REALTIME)
            .map_err(|errno| Error::call("clock_gettime", errno))?;
        header.capacity.store(capacity as u64, Ordering::Relaxed);
        header.start_mono_ns.store(mono_ns(), Ordering::Relaxed);
        header.start_wall_ns.store(
            start_wall.tv_sec() * 1_000_000_000 + start_wall.tv_nsec(),
            Ordering::Relaxed,
        );
        header
            .creator
            .store(nix::unistd::getpid().as_raw(), Ordering::Relaxed);
        header.magic.store(MAGIC, Ordering::Release);
        Ok(Arc::new(log))
    }

    fn header(&self) -> &Header {
        // SAFETY: the mapping is page-aligned, at least HEADER_BYTES long,
        // zero-filled when made (a valid value for every atomic), and lives
        // as long as `self`; all its fields are atomics, so shared mutation
        // by other processes is allowed.
        unsafe { &*self.memory.as_ptr().cast::<Header>() }
    }

    fn slot(&self, index: usize) -> &Slot {
        debug_assert!(index < self.capacity);
        // SAFETY: `index < capacity`, so the slot lies inside the mapping
        // (HEADER_BYTES + capacity * SLOT_BYTES bytes); its offset is a
        // multiple of 8, the alignment of `Slot`; the bytes were zeroed (a
        // valid value for every atomic) and are only ever touched through
        // atomics, by this and other processes.
        unsafe {
            &*self
                .memory
                .as_ptr()
                .add(HEADER_BYTES + index * SLOT_BYTES)
                .cast::<Slot>()
        }
    }

    /// The number of slots.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Events that found the log full.
    pub fn dropped(&self) -> u64 {
        self.header()
            .next
            .load(Ordering::Relaxed)
            .saturating_sub(self.capacity as u64)
    }

    /// Slots claimed so far (at most the capacity).
    pub fn claimed(&self) -> usize {
        (self.header().next.load(Ordering::Relaxed) as usize).min(self.capacity)
    }

    /// CLOCK_REALTIME at the start, nanoseconds since the epoch.
    pub fn start_wall_ns(&self) -> i64 {
        self.header().start_wall_ns.load(Ordering::Relaxed)
    }

    /// A fresh object id (1, 2, …), shared by every process of the run.
    pub fn next_object(&self) -> u64 {
        self.header().objects.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// The number of the next message going through `channel` on `side`
    /// (0 sent, 1 received): 1, 2, … for each side, so that the n-th
    /// receive on a channel pairs with its n-th send.
    pub fn next_in_channel(&self, channel: u64, side: usize) -> u64 {
        self.counters_of(channel).counts[side & 1].fetch_add(1, Ordering::Relaxed) + 1
    }

    /// The counters of `channel`: the entry of the table that holds its id,
    /// or the first free one from its home `channel % CHANNELS` on (linear
    /// probing), which it then takes with one compare-and-swap. Lock-free,
    /// so a process killed anywhere in it leaves the table usable. With
    /// every entry taken, the channel shares its home entry. (Ids `u64::MAX`
    /// and `0` share one entry: no channel of ours has either.)
    fn counters_of(&self, channel: u64) -> &Counters {
        let table = &self.header().channels;
        let key = channel.wrapping_add(1).max(1);
        let home = (channel % CHANNELS as u64) as usize;
        for probe in 0..CHANNELS {
            let entry = &table[(home + probe) % CHANNELS];
            let found = match entry.key.load(Ordering::Relaxed) {
                0 => match entry
                    .key
                    .compare_exchange(0, key, Ordering::Relaxed, Ordering::Relaxed)
                {
                    Ok(_) => key,
                    Err(other) => other,
                },
                other => other,
            };
            if found == key {
                return entry;
            }
        }
        &table[home]
    }

    /// Time since the log's start, in ns: what [`LogMemory::append`]
    /// records when not given a time.
    pub fn now_ns(&self) -> u64 {
        mono_ns().saturating_sub(self.header().start_mono_ns.load(Ordering::Relaxed))
    }

    /// A fresh message id, unique in the run and, through a tag drawn from
    /// the start instant, very likely across the runs that are merged.
    pub fn next_message(&self) -> u64 {
        let n = self.header().messages.fetch_add(1, Ordering::Relaxed) + 1;
        let tag = (self.start_wall_ns() as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 40;
        tag << 40 | (n & ((1 << 40) - 1))
    }

    /// Appends one record at `t_ns` (`None`: now, read after the slot is
    /// claimed): one `fetch_add`, a clock read (vDSO, no system call) and
    /// relaxed stores, then the release store that publishes it.
    /// Async-signal-safe: no allocation, no lock.
    #[allow(clippy::too_many_arguments)]
    pub fn append(
        &self,
        t_ns: Option<u64>,
        kind: u32,
        pid: i32,
        name: &[u64; NAME_WORDS],
        a: u64,
        b: u64,
        c: i64,
        text: &dyn fmt::Display,
    ) {
        let header = self.header();
        let index = header.next.fetch_add(1, Ordering::Relaxed);
        if index >= self.capacity as u64 {
            return;
        }
        let t_ns = t_ns.unwrap_or_else(|| self.now_ns());
        let mut buffer = TextBuffer::default();
        let _ = write!(buffer, "{text}");
        let slot = self.slot(index as usize);
        slot.kind.store(kind, Ordering::Relaxed);
        slot.pid.store(pid, Ordering::Relaxed);
        slot.t_ns.store(t_ns, Ordering::Relaxed);
        slot.a.store(a, Ordering::Relaxed);
        slot.b.store(b, Ordering::Relaxed);
        slot.c.store(c, Ordering::Relaxed);
        for (word, value) in slot.name.iter().zip(name) {
            word.store(*value, Ordering::Relaxed);
        }
        let words = buffer.len.div_ceil(8);
        for (i, word) in slot.text.iter().take(words).enumerate() {
            let mut bytes = [0_u8; 8];
            bytes.copy_from_slice(&buffer.bytes[i * 8..i * 8 + 8]);
            word.store(u64::from_le_bytes(bytes), Ordering::Relaxed);
        }
        let flag = if buffer.truncated { TRUNCATED } else { 0 };
        slot.text_len
            .store(buffer.len as u32 | flag, Ordering::Relaxed);
        slot.state.store(PUBLISHED, Ordering::Release);
    }

    /// Reads every published record, in slot order.
    pub fn read(&self) -> Contents {
        let claimed = self.claimed();
        let mut records = Vec::with_capacity(claimed);
        let mut incomplete = 0;
        for index in 0..claimed {
            let slot = self.slot(index);
            if slot.state.load(Ordering::Acquire) != PUBLISHED {
                incomplete += 1;
                continue;
            }
            let text_len = slot.text_len.load(Ordering::Relaxed);
            let len = (text_len & !TRUNCATED) as usize;
            let mut text = [0_u8; TEXT_BYTES];
            for (i, word) in slot.text.iter().enumerate() {
                text[i * 8..i * 8 + 8].copy_from_slice(&word.load(Ordering::Relaxed).to_le_bytes());
            }
            let mut name = [0_u8; NAME_BYTES];
            for (i, word) in slot.name.iter().enumerate() {
                name[i * 8..i * 8 + 8].copy_from_slice(&word.load(Ordering::Relaxed).to_le_bytes());
            }
            let name_len = name.iter().position(|&b| b == 0).unwrap_or(NAME_BYTES);
            records.push(Record {
                kind: slot.kind.load(Ordering::Relaxed),
                pid: slot.pid.load(Ordering::Relaxed),
                t_ns: slot.t_ns.load(Ordering::Relaxed),
                a: slot.a.load(Ordering::Relaxed),
                b: slot.b.load(Ordering::Relaxed),
                c: slot.c.load(Ordering::Relaxed),
                name: String::from_utf8_lossy(&name[..name_len]).into_owned(),
                text: String::from_utf8_lossy(&text[..len.min(TEXT_BYTES)]).into_owned(),
                truncated: text_len & TRUNCATED != 0,
            });
        }
        Contents {
            records,
            capacity: self.capacity as u64,
            dropped: self.dropped(),
            incomplete,
            start_wall_ns: self.start_wall_ns(),
            start_mono_ns: self.header().start_mono_ns.load(Ordering::Relaxed),
        }
    }
}

/// CLOCK_MONOTONIC in nanoseconds, read through the vDSO (no system call).
pub(crate) fn mono_ns() -> u64 {
    match clock_gettime(ClockId::CLOCK_MONOTONIC) {
        Ok(now) => now.tv_sec() as u64 * 1_000_000_000 + now.tv_nsec() as u64,
        // CLOCK_MONOTONIC cannot fail on Linux; 0 keeps the record.
        Err(_) => 0,
    }
}

/// Packs `name` (cut to [`NAME_BYTES`] at a character boundary) into words.
pub(crate) fn pack_name(name: &str) -> [u64; NAME_WORDS] {
    let cut = floor_char_boundary(name, NAME_BYTES);
    let mut bytes = [0_u8; NAME_BYTES];
    bytes[..cut].copy_from_slice(&name.as_bytes()[..cut]);
    let mut words = [0_u64; NAME_WORDS];
    for (i, word) in words.iter_mut().enumerate() {
        let mut chunk = [0_u8; 8];
        chunk.copy_from_slice(&bytes[i * 8..i * 8 + 8]);
        *word = u64::from_le_bytes(chunk);
    }
    words
}

/// The largest index `<= max` that is a character boundary of `s`.
fn floor_char_boundary(s: &str, max: usize) -> usize {
    if s.len() <= max {
        return s.len();
    }
    (0..=max)
        .rev()
        .find(|&i| s.is_char_boundary(i))
        .unwrap_or(0)
}

/// A fixed buffer that keeps the first [`TEXT_BYTES`] bytes written to it,
/// cut at a character boundary, and notes whether anything was cut.
struct TextBuffer {
    bytes: [u8; TEXT_BYTES],
    len: usize,
    truncated: bool,
}

impl Default for TextBuffer {
    fn default() -> Self {
        TextBuffer {
            bytes: [0; TEXT_BYTES],
            len: 0,
            truncated: false,
        }
    }
}

impl fmt::Write for TextBuffer {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if self.truncated {
            return Ok(());
        }
        let room = TEXT_BYTES - self.len;
        let cut = floor_char_boundary(s, room);
        self.bytes[self.len..self.len + cut].copy_from_slice(&s.as_bytes()[..cut]);
        self.len += cut;
        if cut < s.len() {
            self.truncated = true;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(s: &str) -> [u64; NAME_WORDS] {
        pack_name(s)
    }

    #[test]
    fn records_come_back_as_written() {
        let log = LogMemory::new(4).unwrap();
        log.append(None, 4, 42, &name("writer"), 7, 9, -3, &"hello");
        let contents = log.read();
        assert_eq!(contents.records.len(), 1);
        let raw = &contents.records[0];
        assert_eq!((raw.kind, raw.pid, raw.a, raw.b, raw.c), (4, 42, 7, 9, -3));
        assert_eq!((raw.name.as_str(), raw.text.as_str()), ("writer", "hello"));
        assert!(!raw.truncated);
        assert_eq!((contents.dropped, contents.incomplete), (0, 0));
    }

    #[test]
    fn long_texts_and_names_are_cut_at_a_character_boundary() {
        let log = LogMemory::new(1).unwrap();
        let long = "é".repeat(200);
        log.append(None, 12, 1, &name(&"ü".repeat(30)), 0, 0, 0, &long);
        let raw = &log.read().records[0];
        assert!(raw.truncated);
        assert_eq!(raw.text, "é".repeat(TEXT_BYTES / 2));
        assert_eq!(raw.name, "ü".repeat(NAME_BYTES / 2));
    }

    #[test]
    fn a_full_log_counts_what_it_drops() {
        let log = LogMemory::new(3).unwrap();
        for i in 0..10 {
            log.append(None, 13, 1, &name("p"), i, 0, 0, &"");
        }
        let contents = log.read();
        assert_eq!(contents.records.len(), 3);
        assert_eq!(contents.dropped, 7);
        let kept: Vec<u64> = contents.records.iter().map(|r| r.a).collect();
        assert_eq!(kept, [0, 1, 2], "the first events are kept");
    }

    #[test]
    fn a_claimed_but_unpublished_slot_is_incomplete() {
        let log = LogMemory::new(2).unwrap();
        log.header().next.fetch_add(1, Ordering::Relaxed);
        log.append(None, 13, 1, &name("p"), 0, 0, 0, &"after");
        let contents = log.read();
        assert_eq!(contents.incomplete, 1);
        assert_eq!(contents.records[0].text, "after");
    }

    #[test]
    fn capacities_out_of_range_are_refused() {
        for capacity in [0, MAX_CAPACITY + 1] {
            let err = LogMemory::new(capacity).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{err}");
        }
    }

    #[test]
    fn channels_with_the_same_home_entry_count_apart() {
        let log = LogMemory::new(1).unwrap();
        let (a, b) = (7, 7 + CHANNELS as u64);
        assert_eq!(
            (log.next_in_channel(a, 0), log.next_in_channel(a, 0)),
            (1, 2)
        );
        assert_eq!(log.next_in_channel(b, 0), 1, "b has counters of its own");
        assert_eq!(
            (log.next_in_channel(b, 1), log.next_in_channel(a, 1)),
            (1, 1)
        );
        assert_eq!(log.next_in_channel(a, 0), 3);
        // 0 and u64::MAX are the ids of no channel; they still count.
        assert_eq!(log.next_in_channel(0, 0), 1);
    }

    #[test]
    fn a_full_table_of_channels_still_counts() {
        let log = LogMemory::new(1).unwrap();
        for channel in 1..=CHANNELS as u64 {
            assert_eq!(log.next_in_channel(channel, 0), 1);
        }
        // No entry left: the next channel shares its home entry (channel 1's).
        let late = 1 + 10 * CHANNELS as u64;
        assert_eq!(log.next_in_channel(late, 0), 2);
        assert_eq!(log.next_in_channel(1, 0), 3);
    }

    #[test]
    fn message_ids_are_distinct() {
        let log = LogMemory::new(1).unwrap();
        let (a, b) = (log.next_message(), log.next_message());
        assert_ne!(a, b);
        assert_eq!(log.next_object() + 1, log.next_object());
    }
}
