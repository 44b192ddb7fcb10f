//! Integration tests of the `ecdsa2pc` binary: two real processes over mutual TLS on
//! 127.0.0.1 (`demo`, and `keygen` / `sign` / `refresh` with share files), the failure
//! exits, and the `verify` and `pubkey` subcommands.

mod demo;
mod failures;
mod serve;
mod share_files;
mod support;
mod verify;
