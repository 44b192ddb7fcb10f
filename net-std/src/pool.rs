//! A pool of party 1's precomputed signing work ([`Presign`]) filled on a background thread.
//!
//! Everything party 1 does for a signature that depends neither on the message nor on
//! party 0's nonce (its own nonce k2 and R2, the Paillier nonce r^N, and the parts of the
//! proof π_c3 that need only the witnesses' randomness) is done ahead of time. When the pool
//! is empty the signing round computes it inline; a sustained signing rate is therefore
//! bounded by the refill rate, which is the figure BENCHMARKS.md reports. Each [`Presign`]
//! is used once ([`PresignPool::take`] hands it over by value).

use core::sync::atomic::{AtomicUsize, Ordering};
use core::time::Duration;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::thread::{self, JoinHandle};

use crypto_bigint::U2048;
use ecdsa2pc_core::{
    KeyShare, KeyShareP2, ModNN, commit_tables_len,
    sign::{self, p2::Presign},
};
use zeroize::Zeroizing;

use crate::error::{NetError, ProtocolError, SystemError};
use crate::rng::os_rng;

/// Precomputed signing work for one share; the thread stops when the pool is dropped.
#[derive(Debug)]
pub struct PresignPool {
    rx: Option<Receiver<Presign>>,
    worker: Option<JoinHandle<()>>,
    /// How many [`Presign`]s wait in the channel (a channel cannot say), counted by the
    /// filler just before each send: one above the channel's content while a send to a full
    /// channel is being tried.
    ready: Arc<AtomicUsize>,
    /// The channel's capacity, the most [`PresignPool::ready`] reports.
    capacity: usize,
}

impl PresignPool {
    /// Starts a thread that keeps up to `capacity` [`Presign`]s ready for `share` (it works
    /// on its own copy of the share).
    ///
    /// # Errors
    /// [`SystemError`] if the OS gives no randomness or no thread; [`NetError::Protocol`] if
    /// the share cannot be copied (a bug).
    pub fn spawn(share: &KeyShareP2, capacity: usize) -> Result<Self, NetError> {
        Self::start(share, capacity, None)
    }

    /// Starts a thread that makes exactly `count` [`Presign`]s for `share` and then ends: a
    /// load generator waits until [`PresignPool::ready`] reaches `count` and then signs
    /// `count` times with no refill competing for the cores it measures.
    ///
    /// # Errors
    /// As [`PresignPool::spawn`].
    pub fn batch(share: &KeyShareP2, count: usize) -> Result<Self, NetError> {
        Self::start(share, count, Some(count))
    }

    fn start(share: &KeyShareP2, capacity: usize, limit: Option<usize>) -> Result<Self, NetError> {
        let copy = copy_of(share)?;
        let mut rng = os_rng()?;
        let capacity = capacity.max(1);
        let (tx, rx) = sync_channel::<Presign>(capacity);
        let ready = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&ready);
        let worker = thread::Builder::new()
            .name("ecdsa2pc-presign-pool".into())
            .spawn(move || fill(&copy, &mut rng, &tx, &counter, limit))
            .map_err(SystemError::NoThread)?;
        Ok(Self {
            rx: Some(rx),
            worker: Some(worker),
            ready,
            capacity,
        })
    }

    /// Ready work, or `None` if the pool is empty right now.
    #[must_use]
    pub fn take(&self) -> Option<Presign> {
        self.rx
            .as_ref()
            .and_then(|rx| rx.try_recv().ok())
            .inspect(|_| self.taken())
    }

    /// Waits up to `timeout` for the pool to hold work (for benchmarks and warm-up).
    #[must_use]
    pub fn wait(&self, timeout: Duration) -> Option<Presign> {
        self.rx
            .as_ref()
            .and_then(|rx| rx.recv_timeout(timeout).ok())
            .inspect(|_| self.taken())
    }

    /// How many [`Presign`]s are ready now: a load generator waits for a full pool before its
    /// clock starts, so that it measures the online step only.
    #[must_use]
    pub fn ready(&self) -> usize {
        // The filler's count runs one ahead while it tries a full channel: never more than fit.
        self.ready.load(Ordering::SeqCst).min(self.capacity)
    }

    fn taken(&self) {
        // The filler counts a Presign before it enters the channel, so this never wraps.
        self.ready.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A second copy of `share` for the pool's thread (shares are not `Clone`, so that a
/// consumed protocol state cannot be reused; the encoding round trip is exact).
fn copy_of(share: &KeyShareP2) -> Result<KeyShareP2, NetError> {
    let failed = |error| ProtocolError {
        error,
        step: "presign pool",
    };
    let mut bytes = Zeroizing::new(vec![0u8; KeyShareP2::ENCODED_LEN]);
    let len = share.encode(&mut bytes).map_err(failed)?;
    let encoded = bytes.get(..len).unwrap_or(&bytes);
    Ok(KeyShareP2::decode(encoded).map_err(failed)?)
}

/// Window of the pool thread's own tables: 1 MiB for C', 3.2 MiB for g and h.
const POOL_WINDOW: u32 = 4;

fn fill(
    share: &KeyShareP2,
    rng: &mut rand_chacha::ChaCha20Rng,
    tx: &SyncSender<Presign>,
    ready: &AtomicUsize,
    limit: Option<usize>,
) {
    // The thread's own fixed-base tables of C' and of the parameters' g and h, built once
    // (tens of ms) and paid back by the first presign; the pool works without them if the
    // core refuses them.
    let mut c_storage = sign::p2::table_len(POOL_WINDOW)
        .map(|len| vec![ModNN::ZERO; len])
        .unwrap_or_default();
    let mut g_h_storage = commit_tables_len(POOL_WINDOW)
        .map(|len| vec![U2048::ZERO; len])
        .unwrap_or_default();
    let tables = sign::p2::Precomputed::new(share, POOL_WINDOW, &mut c_storage)
        .and_then(|t| t.with_commit_tables(share, POOL_WINDOW, &mut g_h_storage))
        .ok();
    let mut made = 0usize;
    while limit.is_none_or(|limit| made < limit) {
        made += 1;
        let mut pre = match &tables {
            Some(t) => {
                Presign::new_with(rng, share, t).unwrap_or_else(|_| Presign::new(rng, share))
            }
            None => Presign::new(rng, share),
        };
        // A full pool blocks here; a dropped pool ends the thread. Counted before it can be
        // taken, uncounted if it did not go in.
        loop {
            ready.fetch_add(1, Ordering::SeqCst);
            match tx.try_send(pre) {
                Ok(()) => break,
                Err(TrySendError::Full(back)) => {
                    ready.fetch_sub(1, Ordering::SeqCst);
                    pre = back;
                    thread::sleep(Duration::from_millis(2));
                }
                Err(TrySendError::Disconnected(_)) => return,
            }
        }
    }
}

impl Drop for PresignPool {
    fn drop(&mut self) {
        drop(self.rx.take());
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}
