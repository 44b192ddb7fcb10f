//! Integration tests of ecdsa2pc-net over real TCP on 127.0.0.1 with certificates made by
//! `certs/generate_certs.sh` into temporary directories.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::std_instead_of_core,
    missing_docs,
    unreachable_pub
)]

mod cert_files;
mod connect_timing;
mod drivers;
mod fixtures;
mod frames;
mod generate_certs;
mod happy;
mod keygen_confirm;
mod lock_registry;
mod malicious;
mod pair;
mod parallel;
mod params;
mod refresh_crash;
mod service;
mod stall;
mod store;
mod support;
mod tls_errors;
