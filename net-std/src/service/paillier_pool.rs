//! Party 0's Paillier keys made ahead of time, so that keygen and refresh need not wait for
//! a prime search.
//!
//! One generator thread keeps up to a target number of keys ready and draws a new one
//! whenever a key is taken. It runs at the lowest scheduling priority (nice 19, Linux) so
//! that it uses only CPU time the sessions leave: under load the pool refills slowly, and a
//! session that finds it empty draws its key inline, as without a pool. A session never
//! waits for the generator.
//!
//! The keys are secrets: kept in memory only (never written, never logged), each in a heap
//! allocation of its own that is wiped when the key leaves the pool (a taken key is handed
//! out as a copy, the pooled original wiped) or the pool stops (every ready key is wiped at
//! once). The generator checks for a stop between primes: a stop does not wait for the
//! prime being searched, the thread ends after it and wipes it.

use core::sync::atomic::{AtomicU64, Ordering};
use core::time::Duration;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};

use ecdsa2pc_core::{PaillierSecretKey, generate_prime};
use zeroize::Zeroizing;

use crate::error::SystemError;
use crate::paillier::{key_from_primes, new_paillier_key};
use crate::rng::os_rng;

/// Name of the generator thread, whole in `/proc/<pid>/task/*/comm` (at most 15 bytes).
pub const GENERATOR_THREAD: &str = "paillier-keygen";

/// The generator's nice value: the lowest priority there is.
#[cfg(target_os = "linux")]
const LOWEST_PRIORITY: i32 = 19;

/// How full the pool is and how it served so far (the health reply's `paillier_pool`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PoolLevel {
    /// Keys ready now (`ready`).
    pub ready: u64,
    /// Keys the generator keeps ready; 0: no pool (`target`).
    pub target: u64,
    /// Keygens and refreshes that took a ready key so far (`taken`).
    pub taken: u64,
    /// Keygens and refreshes that drew their key inline because none was ready (`inline`).
    pub inline: u64,
}

/// Ready Paillier keys and the thread that makes them; see the docs of its module, `service::paillier_pool`.
pub struct PaillierPool {
    state: Arc<State>,
    /// Ends (dropping its sender) when the generator thread ends.
    ended: Mutex<Option<mpsc::Receiver<()>>>,
    generator: Mutex<Option<JoinHandle<()>>>,
}

impl core::fmt::Debug for PaillierPool {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // The level only: never a key.
        f.debug_struct("PaillierPool")
            .field("level", &self.level())
            .finish_non_exhaustive()
    }
}

/// What the pool and its generator share.
struct State {
    target: usize,
    ready: Mutex<Ready>,
    /// Signalled when a key is taken or added and at a stop.
    changed: Condvar,
    taken: AtomicU64,
    inline: AtomicU64,
}

struct Ready {
    /// Boxed so that a key never moves while pooled: its one copy is wiped on drop.
    keys: Vec<Box<PaillierSecretKey>>,
    stopped: bool,
}

impl State {
    fn lock(&self) -> MutexGuard<'_, Ready> {
        // A panic elsewhere leaves the list of keys consistent: use it.
        self.ready.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl PaillierPool {
    /// Starts the generator that keeps `target` keys ready; 0 starts no thread, and every
    /// [`PaillierPool::key`] draws its key inline.
    ///
    /// # Errors
    /// [`SystemError::NoThread`] if the generator thread cannot be started.
    pub fn start(target: usize) -> Result<Self, SystemError> {
        Self::start_on(target, || Ok(thread::Builder::new()))
    }

    /// [`PaillierPool::start`] with the generator thread started from `builder()`; an error
    /// there stands for the system refusing the thread (the tests refuse it).
    fn start_on(
        target: usize,
        builder: impl FnOnce() -> std::io::Result<thread::Builder>,
    ) -> Result<Self, SystemError> {
        let state = Arc::new(State {
            target,
            ready: Mutex::new(Ready {
                keys: Vec::with_capacity(target),
                stopped: false,
            }),
            changed: Condvar::new(),
            taken: AtomicU64::new(0),
            inline: AtomicU64::new(0),
        });
        let (mut ended, mut generator) = (None, None);
        if target > 0 {
            let (done, ended_rx) = mpsc::channel::<()>();
            let shared = Arc::clone(&state);
            generator = Some(
                builder()
                    .and_then(|b| {
                        b.name(GENERATOR_THREAD.into()).spawn(move || {
                            generate(&shared);
                            drop(done);
                        })
                    })
                    .map_err(SystemError::NoThread)?,
            );
            ended = Some(ended_rx);
        }
        Ok(Self {
            state,
            ended: Mutex::new(ended),
            generator: Mutex::new(generator),
        })
    }

    /// A Paillier key for a keygen or refresh: a ready one if there is one (and the
    /// generator starts on its replacement), else one drawn inline now
    /// ([`new_paillier_key`]).
    ///
    /// # Errors
    /// As [`new_paillier_key`], when drawing inline.
    pub fn key(&self) -> Result<PaillierSecretKey, SystemError> {
        let pooled = self.state.lock().keys.pop();
        match pooled {
            Some(key) => {
                self.state.changed.notify_all();
                self.state.taken.fetch_add(1, Ordering::Relaxed);
                // A copy for the session; the pooled original is wiped as its box drops.
                Ok(PaillierSecretKey::clone(&key))
            }
            None => {
                self.state.inline.fetch_add(1, Ordering::Relaxed);
                new_paillier_key().map(|(key, _)| key)
            }
        }
    }

    /// How full the pool is now.
    #[must_use]
    pub fn level(&self) -> PoolLevel {
        let count = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
        PoolLevel {
            ready: count(self.state.lock().keys.len()),
            target: count(self.state.target),
            taken: self.state.taken.load(Ordering::Relaxed),
            inline: self.state.inline.load(Ordering::Relaxed),
        }
    }

    /// Waits up to `timeout` until at least `n` keys are ready (at most the target);
    /// returns whether they are. For warm-up before a benchmark, and for tests.
    #[must_use]
    pub fn wait_ready(&self, n: usize, timeout: Duration) -> bool {
        let n = n.min(self.state.target);
        let ready = self.state.lock();
        let (ready, _) = self
            .state
            .changed
            .wait_timeout_while(ready, timeout, |r| !r.stopped && r.keys.len() < n)
            .unwrap_or_else(PoisonError::into_inner);
        ready.keys.len() >= n
    }

    /// Stops the generator and wipes the ready keys at once; then waits up to `grace` for
    /// the generator thread to end (it ends after the prime it is searching). Returns
    /// whether it ended; if not, it ends on its own, holding no ready key. Later
    /// [`PaillierPool::key`] calls draw inline.
    pub fn stop(&self, grace: Duration) -> bool {
        {
            let mut ready = self.state.lock();
            ready.stopped = true;
            // Each box wipes its key as it drops.
            ready.keys.clear();
        }
        self.state.changed.notify_all();
        let ended = self
            .ended
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let generator = self
            .generator
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let Some((ended, generator)) = ended.zip(generator) else {
            return true;
        };
        match ended.recv_timeout(grace) {
            // The sender dropped: the thread is past its last use of the state.
            Err(RecvTimeoutError::Disconnected) | Ok(()) => {
                let _ = generator.join();
                true
            }
            Err(RecvTimeoutError::Timeout) => false,
        }
    }
}

impl Drop for PaillierPool {
    fn drop(&mut self) {
        // Never block a drop on a prime search: the thread ends on its own.
        self.stop(Duration::ZERO);
    }
}

/// The generator thread: waits until a key is missing, draws one, adds it; until stopped.
fn generate(state: &State) {
    lower_priority();
    loop {
        {
            let ready = state.lock();
            let ready = state
                .changed
                .wait_while(ready, |r| !r.stopped && r.keys.len() >= state.target)
                .unwrap_or_else(PoisonError::into_inner);
            if ready.stopped {
                return;
            }
        }
        // No entropy: the sessions, drawing inline, report it; the pool stays empty.
        let Ok(key) = draw(state) else { return };
        let mut ready = state.lock();
        if ready.stopped {
            // The key drops here and is wiped.
            return;
        }
        ready.keys.push(Box::new(key));
        drop(ready);
        state.changed.notify_all();
    }
}

/// Why the generator stopped drawing a key.
enum Interrupted {
    Stopped,
    NoEntropy,
}

/// One key, its primes drawn one after the other on this thread, with a stop check before
/// each prime.
fn draw(state: &State) -> Result<PaillierSecretKey, Interrupted> {
    let prime = || {
        if state.lock().stopped {
            return Err(Interrupted::Stopped);
        }
        let mut rng = os_rng().map_err(|_| Interrupted::NoEntropy)?;
        Ok(Zeroizing::new(generate_prime(&mut rng)))
    };
    key_from_primes(|| {
        let p = prime()?;
        let q = prime()?;
        Ok((*p, *q))
    })
    .map(|(key, _)| key)
}

/// Puts the calling thread at the lowest scheduling priority where a thread has one of its
/// own (Linux: nice 19; raising one's own nice value needs no privilege); elsewhere it
/// keeps the priority it has.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        // Should it fail, the generator competes with the sessions as an equal: slower
        // sessions, never wrong ones.
        let _ =
            rustix::process::setpriority_process(Some(rustix::thread::gettid()), LOWEST_PRIORITY);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    /// Generous: at nice 19 on a loaded machine a key can take a while.
    const REFILL: Duration = Duration::from_secs(600);

    #[test]
    fn a_pool_fills_to_its_target_hands_out_keys_and_refills() {
        let pool = PaillierPool::start(1).unwrap();
        assert_eq!(pool.level().target, 1);
        assert!(pool.wait_ready(1, REFILL), "{:?}", pool.level());
        assert_eq!(pool.level().ready, 1);
        let pooled = pool.key().unwrap();
        // The pool was full: this key came from it, and the generator refills.
        let level = pool.level();
        assert_eq!((level.taken, level.inline), (1, 0), "{level:?}");
        assert!(pool.wait_ready(1, REFILL), "{:?}", pool.level());
        // Never more than the target.
        thread::sleep(Duration::from_millis(50));
        assert_eq!(pool.level().ready, 1);
        let next = pool.key().unwrap();
        assert_ne!(pooled.public_key(), next.public_key());
        // Empty now (until refilled): a key is drawn inline rather than waited for.
        let inline_before = pool.level().inline;
        if pool.level().ready == 0 {
            let _ = pool.key().unwrap();
            assert_eq!(pool.level().inline, inline_before + 1);
        }
    }

    /// A generator thread the system refuses is `NoThread`, carrying the system's error,
    /// and says what ran out; a pool of 0 keys asks for no thread at all.
    #[test]
    fn a_generator_the_system_refuses_is_no_thread() {
        let refuse = || Err(std::io::ErrorKind::OutOfMemory.into());
        let refused = PaillierPool::start_on(2, refuse);
        let Err(SystemError::NoThread(source)) = &refused else {
            panic!("expected NoThread, got {:?}", refused.map(|_| ()));
        };
        assert_eq!(source.kind(), std::io::ErrorKind::OutOfMemory);
        let text = refused.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(text.contains("cannot start a worker thread"), "{text}");
        assert!(PaillierPool::start_on(0, refuse).is_ok());
    }

    #[test]
    fn no_pool_draws_every_key_inline() {
        let pool = PaillierPool::start(0).unwrap();
        assert!(
            pool.wait_ready(1, Duration::ZERO),
            "target 0: nothing to wait for"
        );
        let _ = pool.key().unwrap();
        assert_eq!(
            pool.level(),
            PoolLevel {
                ready: 0,
                target: 0,
                taken: 0,
                inline: 1
            }
        );
        assert!(pool.stop(Duration::ZERO));
    }

    #[test]
    fn a_stop_wipes_the_ready_keys_and_ends_the_generator_between_primes() {
        let pool = PaillierPool::start(2).unwrap();
        assert!(pool.wait_ready(1, REFILL), "{:?}", pool.level());
        // Stopped while it searches the second key's primes: the ready key goes at once,
        // and the thread ends after the prime in progress.
        let start = Instant::now();
        assert!(pool.stop(REFILL), "the generator ended");
        assert!(start.elapsed() < REFILL);
        assert_eq!(pool.level().ready, 0);
        assert!(!pool.wait_ready(1, Duration::ZERO));
        // After a stop every key is drawn inline.
        let _ = pool.key().unwrap();
        assert_eq!(pool.level().inline, 1);
        // A second stop has nothing to wait for.
        assert!(pool.stop(Duration::ZERO));
    }

    #[test]
    fn a_stop_or_drop_does_not_wait_for_the_prime_being_searched() {
        // Without a grace period a stop says the generator has not ended yet (it is in its
        // first prime search) and returns at once; the thread ends on its own.
        let pool = PaillierPool::start(1).unwrap();
        let start = Instant::now();
        assert!(!pool.stop(Duration::ZERO));
        assert!(
            start.elapsed() < Duration::from_millis(50),
            "{:?}",
            start.elapsed()
        );
        let pool = PaillierPool::start(1).unwrap();
        let start = Instant::now();
        drop(pool);
        // A prime search takes far longer than this: the drop did not wait for one.
        assert!(
            start.elapsed() < Duration::from_millis(50),
            "{:?}",
            start.elapsed()
        );
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_generator_runs_at_the_lowest_priority() {
        let pool = PaillierPool::start(1).unwrap();
        // The generator's nice value: field 19 of its /proc stat line, found by its name.
        let nice = || {
            std::fs::read_dir("/proc/self/task").ok()?.find_map(|task| {
                let task = task.ok()?.path();
                let comm = std::fs::read_to_string(task.join("comm")).ok()?;
                if comm.trim_end() != GENERATOR_THREAD {
                    return None;
                }
                let stat = std::fs::read_to_string(task.join("stat")).ok()?;
                let rest = stat.get(stat.rfind(')')? + 1..)?;
                // Fields after the name start at field 3; nice is field 19.
                rest.split_whitespace().nth(16)?.parse::<i32>().ok()
            })
        };
        let start = Instant::now();
        let mut seen = nice();
        while seen != Some(LOWEST_PRIORITY) && start.elapsed() < Duration::from_secs(10) {
            thread::sleep(Duration::from_millis(10));
            seen = nice();
        }
        assert_eq!(seen, Some(LOWEST_PRIORITY));
        drop(pool);
    }
}
