//! `ecdsa2pc`: the command-line tool of ecdsa2pc.
//!
//! `ecdsa2pc demo` runs both halves of two-party ECDSA (one process per party) over mutual
//! TLS: keygen, sign, verify, sign again. `ecdsa2pc verify` checks an ordinary ECDSA
//! signature without a peer. This is the only crate of the workspace that prints.
//!
//! Exit codes (see [`error::ExitStatus`]): 0 success, 1 protocol or verification failure,
//! 2 usage or configuration error, 3 network error.
#![forbid(unsafe_code)]

mod cmd;
mod digest;
mod error;
mod keyfile;
mod output;

use std::process::ExitCode;

use crate::error::ExitStatus;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (program, rest) = match args.split_first() {
        Some((program, rest)) => (program.as_str(), rest),
        None => ("ecdsa2pc", &[][..]),
    };
    let command_name = std::path::Path::new(program)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("ecdsa2pc");
    let rest: Vec<&str> = rest.iter().map(String::as_str).collect();
    let top = match <cmd::TopLevel as argh::FromArgs>::from_args(&[command_name], &rest) {
        Ok(top) => top,
        Err(early) => return ExitStatus::from_early_exit(&early).into(),
    };
    cmd::run(top).into()
}
