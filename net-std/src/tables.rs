//! Process-wide precomputed tables, built on first use.

use std::sync::OnceLock;

use crypto_bigint::U2048;
use ecdsa2pc_core::{PEDERSEN_TABLE_LEN, PedersenTable};

/// The Pedersen fixed-base table (1.1 MiB), shared by every keygen in this process.
#[must_use]
pub fn pedersen() -> Option<&'static PedersenTable<'static>> {
    static TABLE: OnceLock<Option<PedersenTable<'static>>> = OnceLock::new();
    TABLE
        .get_or_init(|| {
            // Built at most once per process (this OnceLock): the storage belongs to the
            // static, like any static's, and is never built again, so nothing accumulates.
            // (The service's trapdoor tables, built per service, own their storage instead.)
            // A static `OnceLock<Box<[U2048]>>` would hold the same memory for the same
            // lifetime, but it lends only `&` out, and `PedersenTable::new` fills the storage
            // through `&'static mut`: safe code gets that only by leaking (unsafe code is
            // forbidden here), and a core constructor over filled storage would have to trust
            // its caller's contents.
            let storage: &'static mut [U2048] = Vec::leak(vec![U2048::ZERO; PEDERSEN_TABLE_LEN]);
            PedersenTable::new(storage).ok()
        })
        .as_ref()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every keygen of the process shares one table: a second call builds nothing.
    #[test]
    fn the_table_is_built_once_per_process() {
        let first = pedersen().expect("the table builds");
        let again = pedersen().expect("the table is still there");
        assert!(core::ptr::eq(first, again), "the same table, not a new one");
    }
}
