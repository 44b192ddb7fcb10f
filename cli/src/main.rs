//! `ecdsa2pc`: the command-line tool of ecdsa2pc.
//!
//! `ecdsa2pc keygen`, `sign` and `refresh` run one operation of two-party ECDSA (one process
//! per party, over mutual TLS) with key shares kept in files; `pubkey` prints the joint
//! public key of a share file. `ecdsa2pc serve` keeps party 0 running for many party-1
//! clients and keys. `ecdsa2pc demo` runs keygen, sign, refresh and sign again in
//! memory. `ecdsa2pc verify` checks an ordinary ECDSA signature without a peer. This is the
//! only crate of the workspace that prints.
//!
//! The result goes alone to stdout (one JSON object with `--json`), progress and errors to
//! stderr. Exit codes (see [`error::ExitStatus`]): 0 success, 1 protocol or verification
//! failure, 2 usage or configuration error, 3 network error.
#![forbid(unsafe_code)]

mod certificates;
mod cmd;
mod digest;
mod epoch;
mod error;
mod keyfile;
mod network;
mod output;
mod paillier_key;
mod protocols;
mod secret;
mod session;
mod share_file;
mod wallet;

use std::process::ExitCode;

use crate::error::ExitStatus;

fn main() -> ExitCode {
    let mut args = Vec::new();
    let mut not_text = None;
    for (position, arg) in std::env::args_os().enumerate() {
        match arg.into_string() {
            Ok(arg) => args.push(arg),
            Err(raw) => {
                let lossy = raw.to_string_lossy().into_owned();
                not_text.get_or_insert((position, lossy.clone()));
                args.push(lossy);
            }
        }
    }
    let (program, rest) = match args.split_first() {
        Some((program, rest)) => (program.as_str(), rest),
        None => ("ecdsa2pc", &[][..]),
    };
    let rest: Vec<&str> = rest.iter().map(String::as_str).collect();
    if let Some((position, lossy)) = not_text {
        return usage_failure(
            &rest,
            format!(
                "argument {position} ({lossy}) is not valid UTF-8; options take text: to sign \
                 arbitrary bytes, put them in a file and use --message-file FILE"
            ),
        );
    }
    let command_name = std::path::Path::new(program)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("ecdsa2pc");
    let top = match <cmd::TopLevel as argh::FromArgs>::from_args(&[command_name], &rest) {
        Ok(top) => top,
        // argh has no version flag: one it refused is ours. Checked after parsing, so that
        // `--message --version` still signs the text "--version".
        Err(early) if early.status.is_err() && has_flag(&rest, &["--version", "-V"]) => {
            println!("{}", cmd::version::line());
            return ExitStatus::Success.into();
        }
        // argh takes `-h` for help on some commands only (not on the `share` group and its
        // subcommands): one it refused is `--help`. After parsing, like `--version`.
        Err(early) if early.status.is_err() && has_flag(&rest, &["-h"]) => {
            let long: Vec<&str> = long_help(&rest);
            match <cmd::TopLevel as argh::FromArgs>::from_args(&[command_name], &long) {
                Ok(top) => top,
                Err(early) => return ExitStatus::from_early_exit(&early).into(),
            }
        }
        Err(early) if early.status.is_err() => {
            return usage_failure(&rest, plain_parse_error(early.output.trim_end()));
        }
        Err(early) => return ExitStatus::from_early_exit(&early).into(),
    };
    cmd::run(top).into()
}

/// A usage error before any command ran: on stderr, and as the failure object on stdout
/// for a script that asked for JSON.
fn usage_failure(args: &[&str], message: String) -> ExitCode {
    if !has_flag(args, &["--json"]) {
        eprintln!("error: {message}");
        eprintln!("Run with --help for usage.");
        return ExitStatus::Usage.into();
    }
    let style = output::Style {
        json: true,
        quiet: false,
        verbose: false,
    };
    let usage = error::CliError::Usage(format!("{message} (run with --help for usage)"));
    output::fail(&output::Log::new("", style), style, &usage).into()
}

/// argh's message for an option value it could not parse, with the standard library's
/// integer-parse wording ("invalid digit found in string") said in the user's terms.
fn plain_parse_error(message: &str) -> String {
    for (library, plain) in [
        (
            "invalid digit found in string",
            "expects a whole number of digits only (no sign, no unit)",
        ),
        ("number too large to fit in target type", "is too large"),
        ("cannot parse integer from empty string", "expects a number"),
    ] {
        if let Some(start) = message.strip_suffix(library) {
            return format!("{start}{plain}");
        }
    }
    message.to_owned()
}

/// The arguments with every `-h` before a `--` spelled `--help`.
fn long_help<'a>(args: &[&'a str]) -> Vec<&'a str> {
    let mut past_separator = false;
    args.iter()
        .map(|&a| {
            past_separator |= a == "--";
            if a == "-h" && !past_separator {
                "--help"
            } else {
                a
            }
        })
        .collect()
}

/// Whether one of `flags` is among the arguments (before a `--`).
fn has_flag(args: &[&str], flags: &[&str]) -> bool {
    args.iter()
        .take_while(|a| **a != "--")
        .any(|a| flags.contains(a))
}
