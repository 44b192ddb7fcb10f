//! Integration tests of the `ecdsa2pc` binary: two real processes over mutual TLS on
//! 127.0.0.1, the failure exits, and the `verify` subcommand.

mod demo;
mod failures;
mod support;
mod verify;
