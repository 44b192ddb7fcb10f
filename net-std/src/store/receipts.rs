//! The receipts of the share files a long-running process has decoded
//! ([`ecdsa2pc_core::Receipt`]), by path, so that loading an unchanged file again skips the
//! costly check of its secret half.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use ecdsa2pc_core::Receipt;

/// Receipts by share file path, at most [`Receipts::CAPACITY`] of them; shared by every
/// thread of the process (see [`super::ShareFiles::load_remembering`]). Memory only: a
/// restart checks every file in full again.
#[derive(Debug, Default)]
pub struct Receipts {
    by_path: Mutex<HashMap<PathBuf, Receipt>>,
}

impl Receipts {
    /// How many files' receipts are kept (about 150 bytes each). Past it, one receipt is
    /// forgotten for each new one (that file is checked in full at its next load): a bound on
    /// memory whatever the number of keys, paid only by stores larger than this.
    pub const CAPACITY: usize = 4096;

    /// No receipts yet.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The receipt of the bytes last decoded from `path`, if any.
    #[must_use]
    pub fn get(&self, path: &Path) -> Option<Receipt> {
        self.map().get(path).copied()
    }

    /// Remembers `receipt` for `path`, replacing the one before.
    pub fn put(&self, path: &Path, receipt: Receipt) {
        let mut map = self.map();
        if map.len() >= Self::CAPACITY
            && !map.contains_key(path)
            && let Some(evicted) = map.keys().next().cloned()
        {
            map.remove(&evicted);
        }
        map.insert(path.to_path_buf(), receipt);
    }

    /// How many receipts are kept.
    #[must_use]
    pub fn len(&self) -> usize {
        self.map().len()
    }

    /// Whether none are.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<PathBuf, Receipt>> {
        // A receipt is written whole or not at all: a panic elsewhere leaves the map usable.
        self.by_path.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::StoreError;
    use crate::store::sealed_tests::keys;
    use crate::store::tests::scratch;
    use crate::store::{Held, ShareFiles};
    use ecdsa2pc_core::{KeyShare, KeyShareP1};

    fn q_of(held: &Held<KeyShareP1>) -> k256::AffinePoint {
        held.active.public().q
    }

    /// Loading through the receipts gives what a plain load gives, for the file as it is
    /// now: a replaced file is the new share, a damaged one is refused, never the one a
    /// receipt was issued for.
    #[test]
    fn a_remembered_load_reads_the_file_as_it_is_now() {
        let dir = scratch("receipts");
        let files = ShareFiles::new(&dir.join("key.share"));
        let [(a, _), (b, _)] = keys();
        let receipts = Receipts::new();
        files.write_active(a).unwrap();
        for _ in 0..2 {
            let held: Held<KeyShareP1> = files.load_remembering(&receipts).unwrap();
            assert_eq!(q_of(&held), a.public().q);
        }
        let first = receipts.get(files.path()).expect("a receipt for the file");
        assert_eq!(receipts.len(), 1);

        files.write_active(b).unwrap();
        let held: Held<KeyShareP1> = files.load_remembering(&receipts).unwrap();
        assert_eq!(
            q_of(&held),
            b.public().q,
            "the file's share, not the remembered one"
        );
        assert_ne!(
            receipts.get(files.path()),
            Some(first),
            "the new bytes' receipt"
        );

        // One byte changed: the checksum refuses it, receipt or not.
        let mut bytes = std::fs::read(files.path()).unwrap();
        let last = bytes.len() - 40;
        bytes[last] ^= 1;
        std::fs::write(files.path(), &bytes).unwrap();
        let err = files.load_remembering::<KeyShareP1>(&receipts).unwrap_err();
        assert!(matches!(err, StoreError::Damaged { .. }), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn receipts_are_bounded() {
        let dir = scratch("receipts-bound");
        let files = ShareFiles::new(&dir.join("key.share"));
        let (a, _) = &keys()[0];
        files.write_active(a).unwrap();
        let receipts = Receipts::new();
        let _: Held<KeyShareP1> = files.load_remembering(&receipts).unwrap();
        let receipt = receipts.get(files.path()).unwrap();
        for i in 0..Receipts::CAPACITY + 10 {
            receipts.put(&dir.join(format!("{i}.share")), receipt);
            assert!(receipts.len() <= Receipts::CAPACITY);
        }
        // Full, one is forgotten per new one, not all of them.
        assert_eq!(receipts.len(), Receipts::CAPACITY);
        assert_eq!(
            receipts.get(&dir.join(format!("{}.share", Receipts::CAPACITY + 9))),
            Some(receipt),
            "the newest is kept"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
