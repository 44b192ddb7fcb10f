//! `ecdsa2pc version` (and `--version` anywhere): the release and the protocol version.

use argh::FromArgs;
use ecdsa2pc_net::request::REQUEST_VERSION;

use crate::error::ExitStatus;

/// Print the ecdsa2pc release and the protocol (request) version it speaks.
#[derive(FromArgs, Debug)]
#[argh(
    subcommand,
    help_triggers("-h", "--help", "help"),
    name = "version",
    note = "Both sides of a session must speak the same protocol version; `--version` (or \
            -V) after any command prints the same line.",
    error_code(0, "printed")
)]
pub(crate) struct VersionArgs {}

/// The one version line: `ecdsa2pc 0.1.0 (protocol 7)`.
pub(crate) fn line() -> String {
    format!(
        "ecdsa2pc {} (protocol {REQUEST_VERSION})",
        env!("CARGO_PKG_VERSION")
    )
}

/// Prints [`line()`].
pub(crate) fn run(_: &VersionArgs) -> ExitStatus {
    println!("{}", line());
    ExitStatus::Success
}
