//! Runs core's independent work items ([`ecdsa2pc_core::work`]) on every core of the machine:
//! the one place in net-std that spreads such work over threads.

use core::num::NonZeroUsize;
use std::{sync::Mutex, sync::PoisonError, thread};

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
    run_on_threads(items, cores(), thread::Builder::new);
}

/// [`run_parallel`] on at most `threads` threads, each helper started from `builder()`.
fn run_on_threads<W: Work>(items: &mut [W], threads: usize, builder: impl Fn() -> thread::Builder) {
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
        for _ in 1..threads {
            // `Scope::spawn` would panic here; a helper that cannot start leaves its items
            // to the others.
            if builder().spawn_scoped(s, work).is_err() {
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

    /// When no helper thread can start (here: each asks for a stack larger than the machine's
    /// memory, as a system out of threads or memory refuses them), every item still runs
    /// exactly once, on the calling thread, with the results of the sequential run. (64-bit
    /// only: a 32-bit address space has no stack size that is sure to be refused.)
    #[cfg(target_pointer_width = "64")]
    #[test]
    fn items_run_once_when_no_helper_thread_starts() {
        assert!(
            thread::Builder::new()
                .stack_size(TOO_LARGE)
                .spawn(|| ())
                .is_err(),
            "the system started a thread with a 32 TiB stack: this test cannot refuse one"
        );
        for n in [2, 3, 17] {
            let mut items: Vec<Count> = (0..n).map(|_| Count(0)).collect();
            run_on_threads(&mut items, 4, || {
                thread::Builder::new().stack_size(TOO_LARGE)
            });
            assert!(items.iter().all(|c| c.0 == 1), "{n} items");
        }
        let seed = [0x27; 32];
        let sequential =
            ecdsa2pc_core::PaillierSecretKey::generate(&mut ChaCha20Rng::from_seed(seed));
        let mut search = PaillierKeySearch::draw(&mut ChaCha20Rng::from_seed(seed));
        search.run_on(&Refused, 4);
        let refused = search.finish().expect("two distinct primes");
        assert_eq!(refused.primes(), sequential.primes());
    }

    /// A stack larger than the machine's memory: a thread asking for it is refused.
    #[cfg(target_pointer_width = "64")]
    const TOO_LARGE: usize = 1 << 45;

    /// [`Parallel`] on a system that starts no helper thread.
    #[cfg(target_pointer_width = "64")]
    struct Refused;

    #[cfg(target_pointer_width = "64")]
    impl Executor for Refused {
        fn run<W: Work>(&self, items: &mut [W]) {
            run_on_threads(items, 4, || thread::Builder::new().stack_size(TOO_LARGE));
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
