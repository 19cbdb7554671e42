//! `Barrier`: a meeting point for a fixed number of processes, like
//! Python's `multiprocessing.Barrier`.
//!
//! # How it works
//!
//! The barrier's state (the round's *generation*, how many parties have
//! arrived, whether it is broken) lives in shared memory behind a robust
//! mutex of its own, held only for a few instructions at a time. The last
//! party to arrive completes the round: it starts the next generation and
//! wakes everybody. The others watch a sequence word for a few
//! microseconds, longer while other parties keep arriving, and yielding
//! the CPU at once while more parties are still to come than the other
//! CPUs could run ([`crate::blocking::spin_while_progress`]), then sleep
//! on it with
//! `FUTEX_WAIT` (`futex(2)`), in slices of at most
//! [`crate::blocking::POLL_INTERVAL`], and leave once the generation they
//! arrived in has ended: the last party publishes the end of its round in
//! one word, which a waiter reads without taking the mutex, and wakes
//! only the parties that sleep. A round that
//! ended by a [`Barrier::reset`] instead of completing is remembered as
//! such (the outcome of each of the last 64 rounds is kept), so its
//! parties get [`Error::BrokenBarrier`], not a success.
//!
//! # How a dead party is noticed
//!
//! Beside its state the barrier has one *slot* per party: a robust
//! process-shared mutex (`pthread_mutexattr_setrobust(3)`). A thread takes
//! a free slot at its first [`Barrier::wait`] and keeps holding it, between
//! rounds too, until it calls [`Barrier::leave`] or ends. When a process
//! dies, the kernel marks every robust mutex its threads held as
//! owner-died; it does so by thread, not by pid, so a reused pid cannot
//! pass for a live party. A waiting party that has slept a whole slice
//! without news looks at the other slots (one `pthread_mutex_timedlock`
//! that does not wait, each), and so does a party taking a slot: a slot
//! found owner-died breaks the barrier with `a party died`, and every
//! party waiting gets [`Error::BrokenBarrier`] within about
//! [`crate::blocking::POLL_INTERVAL`], whether the dead party was waiting
//! at the barrier or working between two rounds. (Rounds that complete
//! sooner never look: a round costs no system call beyond the futex wake
//! and waits, and none at all when every party was still spinning as the
//! last one arrived.)
//!
//! What cannot be noticed:
//!
//! * a party that dies **before its first wait**: it never took a slot,
//!   and the barrier cannot tell it from a slow one. Bound the waits
//!   ([`Barrier::wait_timeout`]: the first party to time out breaks the
//!   barrier for the others, as in Python), or let the parent notice the
//!   dead child;
//! * a party that called [`Barrier::leave`] and then died;
//! * when more threads than parties use the barrier, those that found
//!   every slot taken by a live party.
//!
//! A party that *ends normally* while still holding its slot (a process
//! that exits after its last round) is, for the barrier, a party that will
//! never come again: if others wait for it, they get `a party died`.
//! Before using a barrier with new parties after the old ones have ended,
//! call [`Barrier::reset`], which frees the slots of ended parties.

use std::cell::RefCell;
use std::fmt;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crate::blocking::{self, Deadline};
use crate::error::{Error, Result};
use crate::name::IpcName;
use crate::sync::futex::{self, Wake};
use crate::sync::mutex::{Acquired, Held, RobustMutex, init_at};
use crate::sync::region::{Atomics, Kind, MUTEX_SLOT, Region, fresh_id};

/// The most parties a barrier may have.
pub const MAX_PARTIES: u32 = 1024;

/// Where the state follows the barrier's own mutex.
const STATE_AT: usize = MUTEX_SLOT;
/// Where the parties' slots start.
const SLOTS_AT: usize = STATE_AT + 64;

#[repr(C)]
struct State {
    /// Changes whenever waiters must look again; the futex word.
    seq: AtomicU32,
    /// The round now being filled.
    generation: AtomicU32,
    /// Parties that have arrived in this round.
    count: AtomicU32,
    /// 0, or why the barrier is broken (a `Why`).
    broken: AtomicU32,
    /// Bit k-1: whether the round that ended k rounds ago completed
    /// (1) or was reset (0).
    history: AtomicU64,
    /// The number of parties, fixed.
    parties: AtomicU32,
    /// Why it last broke.
    why: AtomicU32,
    /// Tells this barrier from others in a thread's memberships.
    id: AtomicU64,
    /// The last end of a round, in one word: the generation it started,
    /// shifted left by one, and 1 if the round completed (0 if reset).
    /// A party reads it without the mutex ([`ended_round`]).
    last_end: AtomicU64,
    /// How many parties sleep (or are about to) on `seq`: a round that
    /// ends with none asleep calls no `FUTEX_WAKE`.
    sleepers: AtomicU32,
}

/// The CPUs this process may run on (`std::thread::available_parallelism`:
/// the CPUs online, narrowed by its affinity mask and cgroup quota), read
/// once per process; 1 when it cannot be told.
fn usable_cpus() -> u32 {
    static CPUS: OnceLock<u32> = OnceLock::new();
    *CPUS.get_or_init(|| {
        std::thread::available_parallelism()
            .map_or(1, |n| u32::try_from(n.get()).unwrap_or(u32::MAX))
    })
}

/// The value of `last_end` once the round `round` has completed.
fn ended_round(round: u32) -> u64 {
    u64::from(round.wrapping_add(1)) << 1 | 1
}

// SAFETY: repr(C), atomics only.
unsafe impl Atomics for State {}
const _: () = assert!(std::mem::size_of::<State>() <= SLOTS_AT - STATE_AT);

const ABORTED: u32 = 1;
const TIMED_OUT: u32 = 2;
const DIED: u32 = 3;
const RESET: u32 = 4;

fn why_text(code: u32) -> &'static str {
    match code {
        ABORTED => "aborted",
        TIMED_OUT => "a party timed out",
        DIED => "a party died",
        RESET => "reset while parties waited",
        _ => "broken",
    }
}

fn broken(code: u32) -> Error {
    Error::BrokenBarrier {
        why: why_text(code),
    }
}

/// A slot this thread holds: its membership of a barrier.
struct Membership {
    id: u64,
    pid: u32,
    slot: usize,
    /// Keeps the slot's memory mapped while its mutex is held: glibc links
    /// every robust mutex a thread holds into one list, through the
    /// mutexes themselves.
    region: Arc<Region>,
}

impl Drop for Membership {
    fn drop(&mut self) {
        // A forked child's copy of its parent's memberships holds nothing.
        if self.pid == std::process::id() {
            slot_mutex(&self.region, self.slot).unlock();
        }
    }
}

thread_local! {
    static MEMBERSHIPS: RefCell<Vec<Membership>> = const { RefCell::new(Vec::new()) };
}

fn slot_mutex(region: &Region, slot: usize) -> RobustMutex {
    // SAFETY: every slot of a barrier's body holds a mutex set up by
    // `Barrier::init`; the caller keeps `region` alive while using it.
    unsafe { RobustMutex::attach(region.ptr(SLOTS_AT + slot * MUTEX_SLOT)) }
}

/// A meeting point for `parties` processes: each [`wait`](Barrier::wait)s
/// until all have arrived, then all go on together, round after round.
///
/// Made before forking, it is shared with the children; [`Barrier::create`]
/// and [`Barrier::open`] name it for unrelated processes. Cloning gives
/// another handle. See the [module](self) for how it works and how a dead
/// party is noticed.
///
/// | Python | here |
/// | --- | --- |
/// | `Barrier(parties)` | [`Barrier::new`] |
/// | `wait()` → index | [`Barrier::wait`] |
/// | `wait(timeout)` | [`Barrier::wait_timeout`] ([`Error::Timeout`] for the one that timed out, the barrier breaks for the others) |
/// | `BrokenBarrierError` | [`Error::BrokenBarrier`] (`aborted`, `a party timed out`, `a party died`, `reset while parties waited`) |
/// | `abort()`, `reset()`, `broken` | [`Barrier::abort`], [`Barrier::reset`], [`Barrier::is_broken`] |
/// | `parties`, `n_waiting` | [`Barrier::parties`], [`Barrier::n_waiting`] |
///
/// ```
/// use std::time::Duration;
/// use ipc_core::{Barrier, Process, RawArray};
///
/// let barrier = Barrier::new(3).unwrap();
/// let indices = RawArray::<u32>::new(3).unwrap();
/// let mut parties: Vec<Process> = (0..3)
///     .map(|p| {
///         Process::spawn(format!("party {p}"), || -> ipc_core::Result<()> {
///             let index = barrier.wait_timeout(Duration::from_secs(10))?;
///             indices.set(index as usize, 1); // each index once
///             Ok(())
///         })
///         .unwrap()
///     })
///     .collect();
/// for party in &mut parties {
///     assert!(party.join().unwrap().success());
/// }
/// assert_eq!(indices.to_list().to_string(), "[1, 1, 1]");
/// assert!(!barrier.is_broken());
/// ```
#[derive(Clone)]
pub struct Barrier {
    region: Arc<Region>,
    mutex: RobustMutex,
    id: u64,
    parties: u32,
}

impl Barrier {
    /// A barrier for `parties` processes (1 to [`MAX_PARTIES`]), in
    /// anonymous shared memory.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for 0 or more than [`MAX_PARTIES`];
    /// [`Error::Sys`] naming `mmap` or a `pthread_mutex*` call.
    pub fn new(parties: u32) -> Result<Self> {
        let body = Self::body_len(parties)?;
        Self::attach(Region::anonymous(Kind::Barrier, body, Self::init(parties))?)
    }

    /// A barrier for `parties` processes in the named segment `name` (mode
    /// 0600), for [`Barrier::open`] in other processes. The segment is
    /// removed when the creator's last handle is dropped.
    ///
    /// ```
    /// use ipc_core::{Barrier, IpcName};
    ///
    /// let name = IpcName::unique("doc-barrier").unwrap();
    /// let barrier = Barrier::create(&name, 4).unwrap();
    /// assert_eq!(Barrier::open(&name).unwrap().parties(), 4);
    /// # drop(barrier);
    /// ```
    ///
    /// # Errors
    /// As [`Barrier::new`] and [`crate::SharedMemory::create`].
    pub fn create(name: &IpcName, parties: u32) -> Result<Self> {
        let body = Self::body_len(parties)?;
        Self::attach(Region::create(
            name,
            Kind::Barrier,
            body,
            Self::init(parties),
        )?)
    }

    /// Attaches to the barrier [`Barrier::create`] made under `name`.
    ///
    /// # Errors
    /// As [`crate::SharedMemory::open`]; [`Error::Untrusted`] when the
    /// segment is not an ipc-core `Barrier`.
    pub fn open(name: &IpcName) -> Result<Self> {
        let region = Region::open(name, Kind::Barrier)?;
        if region.body_len() < SLOTS_AT {
            return Err(Error::Untrusted {
                object: name.path(),
                reason: "is too short for an ipc-core Barrier".into(),
            });
        }
        let parties = region
            .atomics::<State>(STATE_AT)
            .parties
            .load(Ordering::Relaxed);
        if Self::body_len(parties).is_err()
            || region.body_len() < SLOTS_AT + parties as usize * MUTEX_SLOT
        {
            return Err(Error::Untrusted {
                object: name.path(),
                reason: format!("says it has {parties} parties, which it has no room for"),
            });
        }
        Self::attach(region)
    }

    fn body_len(parties: u32) -> Result<usize> {
        if parties == 0 || parties > MAX_PARTIES {
            return Err(Error::InvalidArgument(format!(
                "a barrier needs 1 to {MAX_PARTIES} parties, not {parties}"
            )));
        }
        Ok(SLOTS_AT + parties as usize * MUTEX_SLOT)
    }

    fn init(parties: u32) -> impl FnOnce(&Region) -> Result<()> {
        move |region| {
            init_at(0)(region)?;
            for slot in 0..parties as usize {
                init_at(SLOTS_AT + slot * MUTEX_SLOT)(region)?;
            }
            let state = region.atomics::<State>(STATE_AT);
            state.parties.store(parties, Ordering::Relaxed);
            state.id.store(fresh_id(), Ordering::Relaxed);
            Ok(())
        }
    }

    fn attach(region: Region) -> Result<Self> {
        let state = region.atomics::<State>(STATE_AT);
        let parties = state.parties.load(Ordering::Relaxed);
        let id = state.id.load(Ordering::Relaxed);
        // SAFETY: `init` set the barrier's own mutex up at offset 0; the
        // handle keeps the region.
        let mutex = unsafe { RobustMutex::attach(region.ptr(0)) };
        Ok(Barrier {
            region: Arc::new(region),
            mutex,
            id,
            parties,
        })
    }

    fn state(&self) -> &State {
        self.region.atomics(STATE_AT)
    }

    /// The number of parties a round needs.
    pub fn parties(&self) -> u32 {
        self.parties
    }

    /// How many parties wait in the current round (0 when broken).
    pub fn n_waiting(&self) -> u32 {
        let state = self.state();
        if state.broken.load(Ordering::SeqCst) != 0 {
            0
        } else {
            state.count.load(Ordering::SeqCst)
        }
    }

    /// True while the barrier is broken (until [`Barrier::reset`]).
    pub fn is_broken(&self) -> bool {
        self.state().broken.load(Ordering::SeqCst) != 0
    }

    /// The segment's name, for a barrier made with `create` or `open`.
    pub fn name(&self) -> Option<&IpcName> {
        self.region.name()
    }

    /// Waits until every party has arrived, and returns this party's
    /// arrival index in the round: 0 for the first, `parties - 1` for the
    /// last (the one that let everybody go).
    ///
    /// # Errors
    /// [`Error::BrokenBarrier`] when the barrier is or becomes broken (by
    /// [`Barrier::abort`], another party's timeout, a dead party, or a
    /// [`Barrier::reset`] during the round); [`Error::Interrupted`] after
    /// SIGINT or SIGTERM, noticed within
    /// [`crate::blocking::POLL_INTERVAL`] (the party leaves the round,
    /// which does not break).
    pub fn wait(&self) -> Result<u32> {
        self.wait_until(Deadline::NEVER)
    }

    /// As [`Barrier::wait`], giving up after `timeout`: the barrier then
    /// breaks, so that the other parties do not wait for ever either (as in
    /// Python).
    ///
    /// # Errors
    /// As [`Barrier::wait`], plus [`Error::Timeout`] for the party whose
    /// time ran out.
    pub fn wait_timeout(&self, timeout: Duration) -> Result<u32> {
        self.wait_until(Deadline::after(timeout))
    }

    /// As [`Barrier::wait_timeout`], giving up at `deadline`.
    ///
    /// # Errors
    /// As [`Barrier::wait_timeout`].
    pub fn wait_until(&self, deadline: Deadline) -> Result<u32> {
        let state = self.state();
        let (index, round, mine, mut seen) = {
            let _held = self.lock_state()?;
            let (mine, died) = self.enroll()?;
            if died {
                self.break_locked(DIED)?;
            }
            if let Some(code) = self.broken_code() {
                return Err(broken(code));
            }
            let index = state.count.load(Ordering::SeqCst);
            state.count.store(index + 1, Ordering::SeqCst);
            if index + 1 == self.parties {
                self.complete_locked()?;
                return Ok(index);
            }
            (
                index,
                state.generation.load(Ordering::SeqCst),
                mine,
                state.seq.load(Ordering::SeqCst),
            )
        };
        // The last party, running on another CPU, usually arrives within
        // the spin: the round ends with no sleep and no wake-up, and the
        // round's end tells without the mutex that it completed (the
        // mutex is for anything else: a break, a reset, a later round).
        // With more parties than CPUs, the round takes longer than a spin
        // even when it goes well: the spin goes on while parties keep
        // arriving (they are running), and hands the CPU over at once
        // while some party still to come cannot be running (more of them
        // than the other CPUs).
        let completed = ended_round(round);
        let to_come = self.parties - index - 1;
        blocking::spin_while_progress(
            deadline,
            to_come >= usable_cpus(),
            || state.count.load(Ordering::Relaxed),
            || state.seq.load(Ordering::SeqCst) != seen,
        );
        if state.last_end.load(Ordering::SeqCst) == completed {
            return Ok(index);
        }
        let outcome = blocking::wait(deadline, |slice| {
            let woke = if slice.is_zero() {
                // The first look, before any sleep: news only if the
                // sequence word moved.
                if state.seq.load(Ordering::SeqCst) == seen {
                    return Ok(None);
                }
                Wake::Changed
            } else {
                // Counted before the kernel looks at `seq`: a wake_all
                // after this sees us; one before moved `seq`, and
                // FUTEX_WAIT returns at once.
                state.sleepers.fetch_add(1, Ordering::SeqCst);
                let slept = futex::wait(&state.seq, seen, slice);
                state.sleepers.fetch_sub(1, Ordering::SeqCst);
                slept?
            };
            if state.last_end.load(Ordering::SeqCst) == completed {
                return Ok(Some(index));
            }
            let _held = self.lock_state()?;
            if let Some(done) = self.outcome(round, index) {
                return done.map(Some);
            }
            if let Some(code) = self.broken_code() {
                return Err(broken(code));
            }
            // A whole slice went by with no news: is a party dead? (Only
            // then: a probe costs a system call per slot, too much for
            // every round.)
            if woke == Wake::TimedOut && self.probe_parties(mine)? {
                self.break_locked(DIED)?;
                return Err(broken(DIED));
            }
            seen = state.seq.load(Ordering::SeqCst);
            Ok(None)
        });
        match outcome {
            Err(Error::Timeout) => {
                let _held = self.lock_state()?;
                if let Some(done) = self.outcome(round, index) {
                    return done;
                }
                if let Some(code) = self.broken_code() {
                    return Err(broken(code));
                }
                self.break_locked(TIMED_OUT)?;
                Err(Error::Timeout)
            }
            Err(Error::Interrupted) => {
                let _held = self.lock_state()?;
                if let Some(done) = self.outcome(round, index) {
                    return done;
                }
                if self.broken_code().is_none() {
                    // Leave the round; the others go on waiting for a
                    // party to take this one's place.
                    state.count.fetch_sub(1, Ordering::SeqCst);
                }
                Err(Error::Interrupted)
            }
            other => other,
        }
    }

    /// Breaks the barrier (Python's `abort()`): every party waiting, and
    /// every later wait, gets [`Error::BrokenBarrier`] (`aborted`) until
    /// [`Barrier::reset`].
    ///
    /// ```
    /// use ipc_core::{Barrier, Error};
    ///
    /// let barrier = Barrier::new(2).unwrap();
    /// barrier.abort().unwrap();
    /// assert!(barrier.is_broken());
    /// assert!(matches!(barrier.wait(), Err(Error::BrokenBarrier { why: "aborted" })));
    /// barrier.reset().unwrap();
    /// assert!(!barrier.is_broken());
    /// ```
    ///
    /// # Errors
    /// [`Error::Sys`] naming a `pthread_mutex*` call or `futex` (bugs).
    pub fn abort(&self) -> Result<()> {
        let _held = self.lock_state()?;
        self.break_locked(ABORTED)
    }

    /// Returns the barrier to its first state (Python's `reset()`): not
    /// broken, nobody arrived. Parties waiting in the current round get
    /// [`Error::BrokenBarrier`] (`reset while parties waited`). The slots of
    /// parties that have ended are freed for new ones.
    ///
    /// # Errors
    /// As [`Barrier::abort`].
    pub fn reset(&self) -> Result<()> {
        let state = self.state();
        let _held = self.lock_state()?;
        let mine = self.my_slot();
        self.probe_parties(mine)?;
        let was_broken = state.broken.load(Ordering::SeqCst);
        if state.count.load(Ordering::SeqCst) > 0 || was_broken != 0 {
            if was_broken == 0 {
                state.why.store(RESET, Ordering::SeqCst);
            }
            let history = state.history.load(Ordering::SeqCst);
            state.history.store(history << 1, Ordering::SeqCst);
            let next = state
                .generation
                .fetch_add(1, Ordering::SeqCst)
                .wrapping_add(1);
            state.last_end.store(u64::from(next) << 1, Ordering::SeqCst);
            state.count.store(0, Ordering::SeqCst);
            state.broken.store(0, Ordering::SeqCst);
            self.wake_all()?;
        }
        Ok(())
    }

    /// Ends the calling thread's membership (see the [module](self)): from
    /// now on its end is not taken for a death. Call it once a party is
    /// done with the barrier and will not wait again; a later wait makes it
    /// a member again.
    pub fn leave(&self) {
        let pid = std::process::id();
        MEMBERSHIPS.with_borrow_mut(|members| {
            members.retain(|m| m.pid == pid && m.id != self.id);
        });
    }

    /// The slot the calling thread holds, if any.
    fn my_slot(&self) -> Option<usize> {
        let pid = std::process::id();
        MEMBERSHIPS.with_borrow(|members| {
            members
                .iter()
                .find(|m| m.id == self.id && m.pid == pid)
                .map(|m| m.slot)
        })
    }

    /// Takes a free slot for the calling thread if it has none; returns
    /// its slot and whether a dead party's slot was found (and taken).
    fn enroll(&self) -> Result<(Option<usize>, bool)> {
        if let Some(slot) = self.my_slot() {
            return Ok((Some(slot), false));
        }
        for slot in 0..self.parties as usize {
            let died = match slot_mutex(&self.region, slot).try_lock() {
                Ok(Acquired::Clean) => false,
                Ok(Acquired::OwnerDied) => {
                    slot_mutex(&self.region, slot).make_consistent()?;
                    true
                }
                Err(Error::WouldBlock | Error::NotRecoverable) => continue,
                Err(error) => return Err(error),
            };
            let pid = std::process::id();
            MEMBERSHIPS.with_borrow_mut(|members| {
                members.retain(|m| m.pid == pid);
                members.push(Membership {
                    id: self.id,
                    pid,
                    slot,
                    region: Arc::clone(&self.region),
                });
            });
            return Ok((Some(slot), died));
        }
        // Every slot is held by a live party: wait unwatched.
        Ok((None, false))
    }

    /// Looks at every slot but `mine` without waiting: frees those of
    /// dead parties, and returns whether there were any.
    fn probe_parties(&self, mine: Option<usize>) -> Result<bool> {
        let mut died = false;
        for slot in (0..self.parties as usize).filter(|&s| Some(s) != mine) {
            let mutex = slot_mutex(&self.region, slot);
            match mutex.try_lock() {
                Ok(Acquired::Clean) => mutex.unlock(),
                Ok(Acquired::OwnerDied) => {
                    mutex.make_consistent()?;
                    mutex.unlock();
                    died = true;
                }
                Err(Error::WouldBlock | Error::NotRecoverable) => {}
                Err(error) => return Err(error),
            }
        }
        Ok(died)
    }

    /// Takes the barrier's own mutex. A process that died holding it died
    /// in the middle of a few instructions: the count cannot be trusted,
    /// so the barrier breaks.
    fn lock_state(&self) -> Result<Held<'_>> {
        let acquired = self.mutex.lock_brief()?;
        let held = Held::new(&self.mutex);
        if let Acquired::OwnerDied = acquired {
            self.break_locked(DIED)?;
            held.make_consistent()?;
        }
        Ok(held)
    }

    fn broken_code(&self) -> Option<u32> {
        match self.state().broken.load(Ordering::SeqCst) {
            0 => None,
            code => Some(code),
        }
    }

    /// How the round `round` (where this party arrived `index`th) ended,
    /// once it has.
    fn outcome(&self, round: u32, index: u32) -> Option<Result<u32>> {
        let state = self.state();
        let ago = state.generation.load(Ordering::SeqCst).wrapping_sub(round);
        if ago == 0 {
            return None;
        }
        if ago > 64 {
            // 64 rounds went by without this party (more threads than
            // parties): its round's outcome is forgotten.
            return Some(Err(Error::BrokenBarrier {
                why: "its round was forgotten (64 rounds went by without it)",
            }));
        }
        let completed = state.history.load(Ordering::SeqCst) >> (ago - 1) & 1 == 1;
        Some(if completed {
            Ok(index)
        } else {
            Err(broken(state.why.load(Ordering::SeqCst)))
        })
    }

    fn complete_locked(&self) -> Result<()> {
        let state = self.state();
        let history = state.history.load(Ordering::SeqCst);
        state.history.store(history << 1 | 1, Ordering::SeqCst);
        let round = state.generation.fetch_add(1, Ordering::SeqCst);
        state.last_end.store(ended_round(round), Ordering::SeqCst);
        state.count.store(0, Ordering::SeqCst);
        self.wake_all()
    }

    fn break_locked(&self, why: u32) -> Result<()> {
        let state = self.state();
        if state.broken.load(Ordering::SeqCst) == 0 {
            state.why.store(why, Ordering::SeqCst);
            state.broken.store(why, Ordering::SeqCst);
            self.wake_all()?;
        }
        Ok(())
    }

    /// Moves the sequence word on, and wakes the parties asleep on it, if
    /// any (the others see the move while they spin, or FUTEX_WAIT
    /// refuses to sleep on the old value).
    fn wake_all(&self) -> Result<()> {
        let state = self.state();
        state.seq.fetch_add(1, Ordering::SeqCst);
        if state.sleepers.load(Ordering::SeqCst) > 0 {
            futex::wake(&state.seq, u32::MAX)?;
        }
        Ok(())
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Barrier")
            .field("name", &self.name())
            .field("parties", &self.parties)
            .field("n_waiting", &self.n_waiting())
            .field("broken", &self.is_broken())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_meet_round_after_round() {
        let barrier = Barrier::new(3).unwrap();
        std::thread::scope(|s| {
            let parties: Vec<_> = (0..3)
                .map(|_| {
                    s.spawn(|| {
                        let mut indices = Vec::new();
                        for _ in 0..50 {
                            indices.push(barrier.wait_timeout(Duration::from_secs(30)).unwrap());
                        }
                        barrier.leave();
                        indices
                    })
                })
                .collect();
            let all: Vec<Vec<u32>> = parties.into_iter().map(|p| p.join().unwrap()).collect();
            for round in 0..50 {
                let mut indices: Vec<u32> = all.iter().map(|i| i[round]).collect();
                indices.sort_unstable();
                assert_eq!(indices, [0, 1, 2], "round {round}");
            }
        });
        assert_eq!(barrier.n_waiting(), 0);
    }

    #[test]
    fn a_timeout_breaks_it_for_everybody() {
        let barrier = Barrier::new(3).unwrap();
        std::thread::scope(|s| {
            let patient = s.spawn(|| barrier.wait_timeout(Duration::from_secs(30)));
            while barrier.n_waiting() < 1 {
                std::thread::sleep(Duration::from_millis(1));
            }
            assert!(matches!(
                barrier.wait_timeout(Duration::from_millis(20)),
                Err(Error::Timeout)
            ));
            assert!(matches!(
                patient.join().unwrap(),
                Err(Error::BrokenBarrier {
                    why: "a party timed out"
                })
            ));
        });
        assert!(barrier.is_broken());
        barrier.reset().unwrap();
        barrier.leave();
    }

    #[test]
    fn a_reset_breaks_the_round_in_progress() {
        let barrier = Barrier::new(2).unwrap();
        std::thread::scope(|s| {
            let waiter = s.spawn(|| {
                let outcome = barrier.wait_timeout(Duration::from_secs(30));
                barrier.leave();
                outcome
            });
            while barrier.n_waiting() < 1 {
                std::thread::sleep(Duration::from_millis(1));
            }
            barrier.reset().unwrap();
            assert!(matches!(
                waiter.join().unwrap(),
                Err(Error::BrokenBarrier {
                    why: "reset while parties waited"
                })
            ));
        });
        assert!(!barrier.is_broken());
    }

    #[test]
    fn zero_parties_is_refused() {
        assert!(matches!(Barrier::new(0), Err(Error::InvalidArgument(_))));
        assert!(matches!(
            Barrier::new(MAX_PARTIES + 1),
            Err(Error::InvalidArgument(_))
        ));
        let one = Barrier::new(1).unwrap();
        assert_eq!(one.wait().unwrap(), 0);
        assert_eq!(one.wait().unwrap(), 0);
        one.leave();
    }
}
