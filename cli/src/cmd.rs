//! The command line: one argh subcommand per task, each in its own module.
//!
//! argh cannot share fields between commands (it has no `flatten`): the options of the commands
//! that run a session with the peer (`keygen`, `sign`, `refresh`, `demo`) are declared once, by
//! `peer_command!` (in `peer_options`), and what they mean is implemented once (`network`, `secret`,
//! `output`).

#[macro_use]
mod peer_options;
pub(crate) mod bench;
mod demo;
pub(crate) mod health;
mod inspect;
mod keygen;
mod load;
mod pubkey;
mod refresh;
mod serve;
mod share;
mod sign;
mod verify;
pub(crate) mod version;

use argh::FromArgs;

use crate::error::ExitStatus;

/// Two-party ECDSA (secp256k1) over mutual TLS: two machines each hold one share of a
/// signing key and together produce ordinary ECDSA signatures.
#[derive(FromArgs, Debug)]
#[argh(
    help_triggers("-h", "--help", "help"),
    note = "Key shares on disk: `keygen` once, then `sign` as often as needed and `refresh` \
            now and then, each run by both parties at the same time (party 0 listens, party 1 \
            connects), or with party 0 kept running as `serve` for many clients and keys; \
            `pubkey` prints the joint public key, `inspect` the public facts of a share; \
            `share encrypt` encrypts a plaintext share in place. `demo` runs everything in \
            memory. Each command prints its result alone on stdout (one JSON object with \
            --json) and its progress on stderr (none with --quiet). $ECDSA2PC_CERTS and \
            $ECDSA2PC_SERVER set the defaults of --certs and --server; the flags take \
            precedence. `{command_name} --version` (or -V, or `version`) prints the release and protocol \
            version; `health` asks a running `serve` for its status. Run \
            `{command_name} <command> -h` for the options of a command.",
    error_code(0, "success: every step succeeded and every signature verified"),
    error_code(
        1,
        "protocol or verification failure (peer rejected or aborted, no common share epoch, \
         signature invalid, key share locked)"
    ),
    error_code(
        2,
        "usage or configuration error (bad option, non-UTF-8 argument, --timeout outside 1 to \
         86400, missing certificate file, bad address, \
         missing, damaged, other-party or busy share file, wrong or missing passphrase or key \
         file, peer certificate not the one of the share)"
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
    Keygen(keygen::KeygenArgs),
    Sign(sign::SignArgs),
    Refresh(refresh::RefreshArgs),
    Pubkey(pubkey::PubkeyArgs),
    Inspect(inspect::InspectArgs),
    Verify(verify::VerifyArgs),
    Demo(demo::DemoArgs),
    Bench(bench::BenchArgs),
    Share(share::ShareArgs),
    Serve(serve::ServeArgs),
    Health(health::HealthArgs),
    Load(load::LoadArgs),
    Version(version::VersionArgs),
}

/// Runs the chosen subcommand; it prints its own output and errors.
pub(crate) fn run(top: TopLevel) -> ExitStatus {
    match top.command {
        Command::Keygen(args) => keygen::run(&args),
        Command::Sign(args) => sign::run(&args),
        Command::Refresh(args) => refresh::run(&args),
        Command::Pubkey(args) => pubkey::run(&args),
        Command::Inspect(args) => inspect::run(&args),
        Command::Verify(args) => verify::run(&args),
        Command::Demo(args) => demo::run(&args),
        Command::Bench(args) => bench::run(&args),
        Command::Share(args) => share::run(&args),
        Command::Serve(args) => serve::run(&args),
        Command::Health(args) => health::run(&args),
        Command::Load(args) => load::run(&args),
        Command::Version(args) => version::run(&args),
    }
}
