//! One session at a time per key: a set of the keys in use, and a bounded wait for one.

use core::time::Duration;
use std::collections::HashSet;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use crate::key_id::KeyId;

/// The keys some session is using right now.
#[derive(Debug, Default)]
pub(crate) struct KeyLocks {
    busy: Mutex<HashSet<KeyId>>,
    freed: Condvar,
}

/// A key held by one session; released on drop.
#[derive(Debug)]
pub(crate) struct KeyGuard<'a> {
    locks: &'a KeyLocks,
    id: KeyId,
}

impl KeyLocks {
    fn set(&self) -> MutexGuard<'_, HashSet<KeyId>> {
        // The set is valid whatever a panicking holder was doing: insert and remove are atomic.
        self.busy.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes `id`, waiting up to `wait` while another session holds it; `None` if it
    /// stays busy that long.
    pub(crate) fn acquire(&self, id: KeyId, wait: Duration) -> Option<KeyGuard<'_>> {
        let deadline = Instant::now() + wait;
        let mut set = self.set();
        while set.contains(&id) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            set = self
                .freed
                .wait_timeout(set, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        set.insert(id);
        Some(KeyGuard { locks: self, id })
    }
}

impl Drop for KeyGuard<'_> {
    fn drop(&mut self) {
        self.locks.set().remove(&self.id);
        self.locks.freed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key_id::KEY_ID_LEN;

    #[test]
    fn one_holder_per_key_and_a_bounded_wait() {
        let locks = KeyLocks::default();
        let held = locks.acquire([1; KEY_ID_LEN], Duration::ZERO).unwrap();
        assert!(
            locks.acquire([2; KEY_ID_LEN], Duration::ZERO).is_some(),
            "other keys are free"
        );
        let start = Instant::now();
        assert!(
            locks
                .acquire([1; KEY_ID_LEN], Duration::from_millis(50))
                .is_none()
        );
        assert!(start.elapsed() >= Duration::from_millis(50));
        drop(held);
        assert!(locks.acquire([1; KEY_ID_LEN], Duration::ZERO).is_some());
    }

    #[test]
    fn a_waiter_gets_the_key_when_it_is_released() {
        let locks = KeyLocks::default();
        std::thread::scope(|s| {
            let held = locks.acquire([1; KEY_ID_LEN], Duration::ZERO).unwrap();
            let waiter = s.spawn(|| {
                locks
                    .acquire([1; KEY_ID_LEN], Duration::from_secs(10))
                    .is_some()
            });
            std::thread::sleep(Duration::from_millis(30));
            drop(held);
            assert!(waiter.join().unwrap());
        });
    }
}
