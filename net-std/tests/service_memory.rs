//! A service's precomputed tables are the service's: running one service after another in one
//! process (as the tests and an embedding program do) must not leave a megabyte behind each.
//!
//! Its own test binary: it reads the process's resident memory, which other tests running in
//! parallel would disturb. Linux only (`/proc/self/statm`).

#![cfg(target_os = "linux")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::std_instead_of_core,
    missing_docs,
    unreachable_pub
)]

#[allow(dead_code)]
#[path = "integration/fixtures.rs"]
mod fixtures;
#[allow(dead_code)]
#[path = "integration/support.rs"]
mod support;

use std::sync::Arc;

use ecdsa2pc_core::Party;
use ecdsa2pc_net::service::{Service, ServiceConfig};

/// Bytes of the process resident in memory.
fn resident() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: usize = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

/// Binds a service on the share directory `shares`, runs it, stops it.
fn run_one_service(dir: &support::TempDir, shares: &std::path::Path) {
    let mut config = ServiceConfig::new(shares);
    config.lock_dir = None;
    // No Paillier key generator in the background: nothing else allocates while we measure.
    config.paillier_pool = 0;
    let service = Service::bind(
        "127.0.0.1:0",
        &support::party(dir, Party::P1),
        config,
        Arc::new(|_: &str| {}),
    )
    .unwrap();
    // Stopped before it runs: `run` builds the tables, starts its workers, sees the stop,
    // and returns once they have ended, on this thread.
    service.shutdown_handle().stop();
    service.run().unwrap();
}

#[test]
fn services_run_one_after_another_leave_no_tables_behind() {
    let dir = support::certs("service-memory");
    let shares = dir.path().join("shares");
    std::fs::create_dir(&shares).unwrap();
    // The fixture parameter secret, so that no run pays for a safe-prime search.
    ServiceConfig::new(&shares)
        .params_file()
        .write_new(&fixtures::params_secret(0))
        .unwrap();
    // The first runs make what a process keeps once (the TLS provider, thread stacks and
    // allocator arenas, which settle after a few services).
    for _ in 0..4 {
        run_one_service(&dir, &shares);
    }
    let settled = resident();
    for _ in 0..8 {
        run_one_service(&dir, &shares);
    }
    // Each service's trapdoor tables fill 1 MiB: leaked, eight more services keep 8 MiB more
    // resident (measured: 8.4 MB); freed, the allocator hands the same memory to the next.
    let grown = resident().saturating_sub(settled);
    assert!(
        grown < 4 * 1024 * 1024,
        "eight more services left {grown} more bytes resident"
    );
}
