//! Integration tests of the `ecdsa2pc` binary: two real processes over mutual TLS on
//! 127.0.0.1 (`demo`, and `keygen` / `sign` / `refresh` with share files), the failure
//! exits, the `verify`, `pubkey` and `inspect` subcommands, the scripting contract (stdout,
//! `--json`, usage errors) and the wallet formats.

mod cert_files;
mod demo;
mod derivation;
mod failures;
mod full_disk;
mod keygen_confirm;
#[path = "../../../core/fixtures/safe_primes.rs"]
mod safe_primes;
mod scripting;
mod serve;
mod share_files;
mod support;
mod verify;
mod wallet;
