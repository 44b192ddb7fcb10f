//! The command line: one argh subcommand per task, each in its own module.
//!
//! Later subcommands (keygen / sign / refresh / pubkey with share files, issue #4) slot
//! into [`Command`] next to the existing ones.

mod demo;
mod verify;

use argh::FromArgs;

use crate::error::ExitStatus;

/// Two-party ECDSA (secp256k1) over mutual TLS: two machines each hold one share of a
/// signing key and together produce ordinary ECDSA signatures.
#[derive(FromArgs, Debug)]
#[argh(
    note = "Run `{command_name} <command> --help` for the options of a command.",
    error_code(0, "success: every step succeeded and every signature verified"),
    error_code(
        1,
        "protocol or verification failure (peer rejected or aborted, signature invalid)"
    ),
    error_code(
        2,
        "usage or configuration error (bad option, missing certificate file, bad address)"
    ),
    error_code(
        3,
        "network error (cannot connect or listen, timeout, TLS handshake failure)"
    )
)]
pub(crate) struct TopLevel {
    #[argh(subcommand)]
    command: Command,
}

/// The subcommands.
#[derive(FromArgs, Debug)]
#[argh(subcommand)]
enum Command {
    Demo(demo::DemoArgs),
    Verify(verify::VerifyArgs),
}

/// Runs the chosen subcommand; it prints its own output and errors.
pub(crate) fn run(top: TopLevel) -> ExitStatus {
    match top.command {
        Command::Demo(args) => demo::run(&args),
        Command::Verify(args) => verify::run(&args),
    }
}
