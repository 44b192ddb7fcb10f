//! A pool of Paillier encryption nonces r^N filled on a background thread.
//!
//! The nonce is the most expensive part of P2's signing step and does not depend on the
//! message, so P2 computes it ahead of time. When the pool is empty, the caller computes one
//! inline; a sustained signing rate is therefore bounded by the refill rate, which is the
//! figure BENCHMARKS.md reports.

use core::time::Duration;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::thread::{self, JoinHandle};

use ecdsa2pc_core::{NoncePower, PaillierPublicKey};

use crate::error::SystemError;
use crate::rng::os_rng;

/// Precomputed nonces for one Paillier key; the thread stops when the pool is dropped.
#[derive(Debug)]
pub struct NoncePool {
    rx: Option<Receiver<NoncePower>>,
    worker: Option<JoinHandle<()>>,
}

impl NoncePool {
    /// Starts a thread that keeps up to `capacity` nonces ready for `key`.
    ///
    /// # Errors
    /// [`SystemError`] if the OS gives no randomness or no thread.
    pub fn spawn(key: PaillierPublicKey, capacity: usize) -> Result<Self, SystemError> {
        let mut rng = os_rng()?;
        let (tx, rx) = sync_channel::<NoncePower>(capacity.max(1));
        let worker = thread::Builder::new()
            .name("ecdsa2pc-nonce-pool".into())
            .spawn(move || fill(&key, &mut rng, &tx))
            .map_err(SystemError::NoThread)?;
        Ok(Self {
            rx: Some(rx),
            worker: Some(worker),
        })
    }

    /// A ready nonce, or `None` if the pool is empty right now.
    #[must_use]
    pub fn take(&self) -> Option<NoncePower> {
        self.rx.as_ref().and_then(|rx| rx.try_recv().ok())
    }

    /// Waits up to `timeout` for the pool to hold a nonce (for benchmarks and warm-up).
    #[must_use]
    pub fn wait(&self, timeout: Duration) -> Option<NoncePower> {
        self.rx
            .as_ref()
            .and_then(|rx| rx.recv_timeout(timeout).ok())
    }
}

fn fill(key: &PaillierPublicKey, rng: &mut rand_chacha::ChaCha20Rng, tx: &SyncSender<NoncePower>) {
    loop {
        let mut nonce = key.nonce_power_random(rng);
        // A full pool blocks here; a dropped pool ends the thread.
        loop {
            match tx.try_send(nonce) {
                Ok(()) => break,
                Err(TrySendError::Full(back)) => {
                    nonce = back;
                    thread::sleep(Duration::from_millis(2));
                }
                Err(TrySendError::Disconnected(_)) => return,
            }
        }
    }
}

impl Drop for NoncePool {
    fn drop(&mut self) {
        drop(self.rx.take());
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}
