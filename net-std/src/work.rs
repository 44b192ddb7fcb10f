//! Runs core's independent work items ([`ecdsa2pc_core::work`]) on every core of the machine:
//! the one place in net-std that spreads such work over threads.

use core::num::NonZeroUsize;
use std::{io, sync::Mutex, sync::PoisonError, thread};

use ecdsa2pc_core::work::{Executor, Work, run_all};

/// Runs every item once, on as many threads as the machine has cores (this thread among
/// them). Each thread takes the next item nobody has taken yet, so one long item (a prime
/// search that needs many candidates) does not hold up the others. The results are those of
/// [`run_all`]: an item's result depends on the item alone. A panic in an item is raised here
/// once every thread has stopped.
///
/// A helper thread the system cannot start (a service out of threads or memory under load)
/// is no error: the threads that did start, this one at least, take its share of the items,
/// so the run is slower and its results the same.
pub fn run_parallel<W: Work>(items: &mut [W]) {
    run_on_threads(items, cores(), |_| Ok(thread::Builder::new()));
}

/// [`run_parallel`] on at most `threads` threads; helper `n` (from 1) is started from
/// `start(n)`, and an error there stands for the system refusing it (the tests refuse some).
fn run_on_threads<W: Work>(
    items: &mut [W],
    threads: usize,
    start: impl Fn(usize) -> io::Result<thread::Builder>,
) {
    let threads = threads.min(items.len());
    if threads <= 1 {
        run_all(items);
        return;
    }
    let queue = Mutex::new(items.iter_mut());
    // The lock is held only to take an item, never while running it.
    let next = || queue.lock().unwrap_or_else(PoisonError::into_inner).next();
    let work = || {
        while let Some(item) = next() {
            item.run();
        }
    };
    thread::scope(|s| {
        for n in 1..threads {
            // `Scope::spawn` would panic here; a helper that cannot start leaves its items
            // to the others.
            if start(n).and_then(|b| b.spawn_scoped(s, work)).is_err() {
                break;
            }
        }
        work();
    });
}

/// The machine's cores (1 if it cannot tell): the threads [`run_parallel`] uses.
#[must_use]
pub fn cores() -> usize {
    thread::available_parallelism().map_or(1, NonZeroUsize::get)
}

/// The executor that runs a round's work items on every core ([`run_parallel`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct Parallel;

impl Executor for Parallel {
    fn run<W: Work>(&self, items: &mut [W]) {
        run_parallel(items);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ecdsa2pc_core::PaillierKeySearch;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    /// The parallel and the sequential schedules of one key's prime searches make the same
    /// key from the same seed (core's `SecretKey::generate` is the sequential one, one window
    /// at a time; here as many windows at once as there are cores).
    #[test]
    fn parallel_prime_searches_make_the_key_of_the_sequential_run() {
        let seed = [0x15; 32];
        let sequential =
            ecdsa2pc_core::PaillierSecretKey::generate(&mut ChaCha20Rng::from_seed(seed));
        // As many windows at once as there are cores, and fixed widths: batches of several
        // windows whatever the machine has.
        for width in [cores(), 2, 8] {
            let mut search = PaillierKeySearch::draw(&mut ChaCha20Rng::from_seed(seed));
            search.run_on(&Parallel, width);
            let parallel = search.finish().expect("two distinct primes");
            assert_eq!(parallel.primes(), sequential.primes(), "width {width}");
        }
    }

    struct Count(u32);

    impl Work for Count {
        fn run(&mut self) {
            self.0 += 1;
        }
    }

    /// When the system starts no helper thread, or only some of the helpers, every item still
    /// runs exactly once, on the threads that did start, the calling one at least.
    #[test]
    fn items_run_once_when_helper_threads_do_not_start() {
        for started in [0, 1, 2] {
            for n in [2, 3, 17] {
                let mut items: Vec<Count> = (0..n).map(|_| Count(0)).collect();
                run_on_threads(&mut items, 4, |helper| {
                    if helper <= started {
                        Ok(thread::Builder::new())
                    } else {
                        Err(io::ErrorKind::OutOfMemory.into())
                    }
                });
                assert!(
                    items.iter().all(|c| c.0 == 1),
                    "{n} items, {started} helpers started"
                );
            }
        }
    }

    /// Every item runs exactly once, however many items and threads there are.
    #[test]
    fn every_item_runs_once() {
        for n in [0, 1, 2, 3, 17] {
            let mut items: Vec<Count> = (0..n).map(|_| Count(0)).collect();
            run_parallel(&mut items);
            assert!(items.iter().all(|c| c.0 == 1), "{n} items");
        }
    }
}
