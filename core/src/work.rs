//! Independent work items: pieces of one computation that read only what they hold and write
//! only their own result, so a caller with threads can run them on several cores, in any
//! order, and get the same bytes as one thread would.
//!
//! Core runs no threads (it is `no_std`): [`run_all`] runs a list one item after another, and
//! every call that hands out work items also finishes any item the caller left unrun. A caller
//! with threads (net-std's `work::run_parallel`) spreads the same list over its cores. Items
//! that need randomness carry a seed drawn from the caller's RNG when the list is made
//! ([`SeededRng`]), so which thread runs an item, and when, never changes what it computes.

use rand_core::{TryCryptoRng, TryRng};
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::Result;

/// One independent piece of work (see the module documentation).
pub trait Work: Send {
    /// Does the work and keeps the result in the item. Running an item again repeats the same
    /// computation and gives the same result.
    fn run(&mut self);
}

/// Runs every item here, one after another: the schedule of a caller without threads.
pub fn run_all<W: Work>(items: &mut [W]) {
    for item in items {
        item.run();
    }
}

/// Runs lists of work items for a round: the round hands its independent work to one, and
/// the caller's choice decides how many threads do it.
pub trait Executor {
    /// Runs every item once, in any order, and returns when all are done.
    fn run<W: Work>(&self, items: &mut [W]);
}

/// The executor without threads: [`run_all`] on the calling thread.
#[derive(Clone, Copy, Debug, Default)]
pub struct Sequential;

impl Executor for Sequential {
    fn run<W: Work>(&self, items: &mut [W]) {
        run_all(items);
    }
}

/// A list of work items of different types, each behind a `&mut`: one list an executor
/// spreads over its threads, so items of several proofs share the cores instead of waiting
/// for each other's list to finish.
impl<W: Work + ?Sized> Work for &mut W {
    fn run(&mut self) {
        (**self).run();
    }
}

/// A place in a list of work items that may be empty: [`join`] fills a list of fixed length
/// from items whose count follows the protocol's parameters.
impl<W: Work> Work for Option<W> {
    fn run(&mut self) {
        if let Some(item) = self {
            item.run();
        }
    }
}

/// The first `N` items of `items`, in order, as one list for an executor (empty places after
/// them): the items of several proofs then share the cores, and a list's groups keep their
/// sizes from the parameters (chunks, roots) instead of being spelled out item by item.
/// More than `N` items is a miscount: a debug build panics; a release build leaves the rest
/// unrun, which only costs time (every round finishes the items an executor left unrun).
pub fn join<'a, const N: usize>(
    items: impl IntoIterator<Item = &'a mut dyn Work>,
) -> [Option<&'a mut dyn Work>; N] {
    let mut items = items.into_iter();
    let list = core::array::from_fn(|_| items.next());
    // A list sized too small is a miscount in the round (it only loses parallelism): loud in
    // debug builds, which the tests run.
    debug_assert!(items.next().is_none(), "work::join: more than {N} items");
    list
}

/// One computation as a work item: it calls `f` and keeps the result for [`Task::take`].
/// `f` borrows its inputs (secret ones included) instead of copying them, so the item holds
/// no secret of its own to wipe; its result must be one a caller may keep unwiped.
pub struct Task<'a, T> {
    f: &'a (dyn Fn() -> T + Sync),
    out: Option<T>,
}

impl<'a, T> Task<'a, T> {
    /// The item that computes `f()`.
    #[must_use]
    pub fn new(f: &'a (dyn Fn() -> T + Sync)) -> Self {
        Self { f, out: None }
    }

    /// The result, computed here if no executor ran the item (or after it was taken).
    pub fn take(&mut self) -> T {
        self.out.take().unwrap_or_else(|| (self.f)())
    }
}

impl<T: Send> Work for Task<'_, T> {
    fn run(&mut self) {
        self.out = Some((self.f)());
    }
}

/// Piece `k` of a result computed straight into its place in the caller's value: the work
/// item of a result too large to be held once in each item and again where it goes (the
/// range proof's 50 commitments, 12.8 KB, on a microcontroller's stack). `f(k)` borrows its
/// inputs as [`Task`]'s function does.
pub struct Fill<'a, T> {
    f: &'a (dyn Fn(usize) -> T + Sync),
    k: usize,
    out: &'a mut T,
    done: bool,
}

impl<'a, T> Fill<'a, T> {
    /// One item per place in `outs`, the k-th computing `f(k)` into `outs[k]`.
    #[must_use]
    pub fn each<const N: usize>(
        f: &'a (dyn Fn(usize) -> T + Sync),
        outs: [&'a mut T; N],
    ) -> [Self; N] {
        let mut k = 0;
        outs.map(|out| {
            let item = Self {
                f,
                k,
                out,
                done: false,
            };
            k = k.saturating_add(1);
            item
        })
    }

    /// Computes the piece here if no executor ran the item.
    pub fn finish(&mut self) {
        if !self.done {
            self.run_here();
        }
    }

    fn run_here(&mut self) {
        *self.out = (self.f)(self.k);
        self.done = true;
    }
}

impl<T: Send> Work for Fill<'_, T> {
    fn run(&mut self) {
        self.run_here();
    }
}

/// Runs one item per function with `exec` and returns their results in list order: the
/// results [`Sequential`] gives, on any schedule.
pub fn compute<T: Send, F: Fn() -> T + Sync, X: Executor + ?Sized, const N: usize>(
    exec: &X,
    fs: &[F; N],
) -> [T; N] {
    let mut tasks = fs.each_ref().map(|f| Task::new(f));
    exec.run(&mut tasks);
    tasks.map(|mut task| task.take())
}

/// One check of a received message (a proof, or one independent equation of one) as a work
/// item: it runs the check and keeps the outcome for [`run_checks`].
pub type Check<'a> = Task<'a, Result<()>>;

/// Runs `checks` with `exec` and returns the first failure in list order (running any check
/// the executor left unrun): the error a caller sees does not depend on which check finished
/// first, and is the one running them in order would give.
///
/// # Errors
/// The first check's error.
pub fn run_checks<X: Executor + ?Sized>(exec: &X, checks: &mut [Check<'_>]) -> Result<()> {
    exec.run(checks);
    checks.iter_mut().try_for_each(Task::take)
}

/// [`run_checks`] for checks given in groups (a proof's whole check, or one per chunk of a
/// proof): every check is one item of one list of `N` for `exec`, and the first failure in
/// the groups' order is returned. A check beyond `N` is still run, here, after the others.
///
/// # Errors
/// The first check's error.
pub fn run_check_groups<X: Executor + ?Sized, const N: usize>(
    exec: &X,
    groups: &mut [&mut [Check<'_>]],
) -> Result<()> {
    {
        let all = groups.iter_mut().flat_map(|g| g.iter_mut());
        let mut items: [_; N] = join(all.map(|c| c as &mut dyn Work));
        exec.run(&mut items);
    }
    groups
        .iter_mut()
        .flat_map(|g| g.iter_mut())
        .try_for_each(Task::take)
}

/// An executor that runs a list backwards: the tests' stand-in for a scheduler that finishes
/// items out of order (for this workspace's tests: unit tests and feature `internals`).
#[cfg(any(test, feature = "internals"))]
#[derive(Clone, Copy, Debug, Default)]
pub struct Reversed;

#[cfg(any(test, feature = "internals"))]
impl Executor for Reversed {
    fn run<W: Work>(&self, items: &mut [W]) {
        items.iter_mut().rev().for_each(Work::run);
    }
}

/// An executor that runs nothing: the tests' stand-in for a caller that leaves every item to
/// the round that handed them out (for this workspace's tests, as [`Reversed`]).
#[cfg(any(test, feature = "internals"))]
#[derive(Clone, Copy, Debug, Default)]
pub struct Idle;

#[cfg(any(test, feature = "internals"))]
impl Executor for Idle {
    fn run<W: Work>(&self, _: &mut [W]) {}
}

/// Bytes of a [`SeededRng`] seed.
pub const SEED_LEN: usize = 32;

/// The random stream of one work item: SHA-256 in counter mode over a secret seed that the
/// item's list drew from the caller's RNG. Each item gets its own seed, so the streams are
/// independent of each other and of the order the items run in. Wiped on drop.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct SeededRng {
    seed: [u8; SEED_LEN],
    counter: u64,
    block: [u8; 32],
    /// Bytes of `block` not yet handed out (they are its last `left` bytes).
    left: usize,
}

impl SeededRng {
    /// The stream of `seed`.
    #[must_use]
    pub fn new(seed: &[u8; SEED_LEN]) -> Self {
        Self {
            seed: *seed,
            counter: 0,
            block: [0; 32],
            left: 0,
        }
    }

    /// Draws a fresh seed from `rng`, for the stream of one work item.
    pub fn draw_seed<R: rand_core::CryptoRng + ?Sized>(rng: &mut R) -> [u8; SEED_LEN] {
        let mut seed = [0; SEED_LEN];
        rng.fill_bytes(&mut seed);
        seed
    }

    fn refill(&mut self) {
        let mut h = Sha256::new();
        h.update(self.seed);
        h.update(self.counter.to_be_bytes());
        self.counter = self.counter.wrapping_add(1);
        self.block = h.finalize().into();
        self.left = self.block.len();
    }
}

impl TryRng for SeededRng {
    type Error = core::convert::Infallible;

    fn try_next_u32(&mut self) -> core::result::Result<u32, Self::Error> {
        let mut b = [0; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    fn try_next_u64(&mut self) -> core::result::Result<u64, Self::Error> {
        let mut b = [0; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> core::result::Result<(), Self::Error> {
        for out in dst {
            if self.left == 0 {
                self.refill();
            }
            let at = self.block.len().saturating_sub(self.left);
            *out = self.block.get(at).copied().unwrap_or_default();
            self.left = self.left.saturating_sub(1);
        }
        Ok(())
    }
}

impl TryCryptoRng for SeededRng {}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_core::Rng;

    /// The stream depends on the seed only, not on how its bytes are asked for; two seeds
    /// give different streams.
    #[test]
    fn a_seeded_stream_is_the_same_however_it_is_read() {
        let seed = [7; SEED_LEN];
        let mut whole = [0u8; 100];
        SeededRng::new(&seed).fill_bytes(&mut whole);
        let mut pieces = [0u8; 100];
        let mut rng = SeededRng::new(&seed);
        let (a, rest) = pieces.split_at_mut(3);
        rng.fill_bytes(a);
        let (b, c) = rest.split_at_mut(40);
        rng.fill_bytes(b);
        rng.fill_bytes(c);
        assert_eq!(whole, pieces);
        let mut words = SeededRng::new(&seed);
        assert_eq!(
            words.next_u64().to_le_bytes(),
            whole.get(..8).unwrap_or_default()
        );
        let mut other = [0u8; 100];
        SeededRng::new(&[8; SEED_LEN]).fill_bytes(&mut other);
        assert_ne!(whole, other);
    }

    struct Square {
        input: u64,
        out: Option<u64>,
    }

    impl Work for Square {
        fn run(&mut self) {
            self.out = Some(self.input * self.input);
        }
    }

    /// The first failure in list order wins, whatever ran first; a check left unrun by an
    /// executor is run by `run_checks`.
    #[test]
    fn run_checks_reports_the_first_failure_in_list_order() {
        use crate::{Error, Proof};
        let ok = || Ok(());
        let key = || Err(Error::ProofInvalid(Proof::PaillierKey));
        let range = || Err(Error::ProofInvalid(Proof::Range));
        assert_eq!(
            run_checks(&Sequential, &mut [Check::new(&ok), Check::new(&ok)]),
            Ok(())
        );
        let mut checks = [Check::new(&ok), Check::new(&key), Check::new(&range)];
        assert_eq!(
            run_checks(&Reversed, &mut checks),
            Err(Error::ProofInvalid(Proof::PaillierKey))
        );
        let mut checks = [Check::new(&ok), Check::new(&range), Check::new(&key)];
        assert_eq!(
            run_checks(&Idle, &mut checks),
            Err(Error::ProofInvalid(Proof::Range))
        );
    }

    #[test]
    fn join_fills_the_list_and_leaves_the_rest() {
        let mut squares = [1, 2, 3].map(|input| Square { input, out: None });
        {
            let [a, _, c] = &mut squares;
            let mut items: [_; 4] = join([c as &mut dyn Work, a]);
            assert!(items[0].is_some() && items[1].is_some());
            assert!(items[2].is_none() && items[3].is_none());
            run_all(&mut items);
        }
        assert_eq!(squares.map(|s| s.out), [Some(1), None, Some(9)]);
    }

    /// A list too short for its items is a miscount in the round: debug builds (the tests')
    /// stop there.
    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "work::join: more than 1 items")]
    fn join_with_more_items_than_places_panics_in_debug_builds() {
        let mut squares = [1, 2].map(|input| Square { input, out: None });
        let [a, b] = &mut squares;
        let _: [_; 1] = join([a as &mut dyn Work, b]);
    }

    #[test]
    fn run_all_runs_every_item() {
        let mut items = [1, 2, 3].map(|input| Square { input, out: None });
        run_all(&mut items);
        assert_eq!(items.map(|s| s.out), [Some(1), Some(4), Some(9)]);
    }

    /// Each `Fill` item writes piece k into the k-th place; `finish` computes the pieces no
    /// executor ran and leaves the ones it ran alone.
    #[test]
    fn fill_writes_each_piece_into_its_place_once() {
        use core::sync::atomic::{AtomicUsize, Ordering};
        let calls = AtomicUsize::new(0);
        let piece = |k: usize| {
            calls.fetch_add(1, Ordering::Relaxed);
            [k; 2]
        };
        let mut places = [[9; 2]; 3];
        {
            let mut items = Fill::each(&piece, places.each_mut());
            let [first, _, third] = &mut items;
            first.run();
            third.run();
            items.iter_mut().for_each(Fill::finish);
        }
        assert_eq!(places, [[0, 0], [1, 1], [2, 2]]);
        assert_eq!(calls.load(Ordering::Relaxed), 3);
    }
}
