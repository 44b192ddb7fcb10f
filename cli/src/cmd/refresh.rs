//! `ecdsa2pc refresh`: re-randomise both shares of the key (same public key, next epoch).

use ecdsa2pc_net::request::Operation;
use std::path::PathBuf;

use argh::FromArgs;
use ecdsa2pc_core::{KeyShareP1, KeyShareP2, Party};

use crate::error::{CliError, ExitStatus};
use crate::network::{CertFiles, DEFAULT_TIMEOUT_SECS, Net, default_certs, default_server};
use crate::output::{Log, Outcome, Style};
use crate::protocols::{self, Protocols};
use crate::secret::{SecretOptions, existing_share};
use crate::session::ShareSession;
use crate::share_file::{public_key, public_key_hex};

/// Refresh the key shares with the peer: new random shares of the same key (and a new
/// Paillier key for party 0); the public key stays the same, the epoch goes up by one.
#[derive(FromArgs, Debug)]
#[argh(
    subcommand,
    help_triggers("-h", "--help", "help"),
    name = "refresh",
    example = "{command_name} --party 0 --share p0.share\n\
               {command_name} --party 1 --share p1.share    (on the other machine)",
    note = "The new epoch is printed on stdout; progress goes to stderr. Two-phase: each party writes its new share to FILE.pending before the message that \
            lets the peer go on, and makes it active once the peer confirmed. If a run is cut \
            off, the next sign or refresh settles on the newest epoch both parties hold. The \
            old shares are useless once both parties have moved on.",
    error_code(0, "the shares were refreshed; the public key is unchanged"),
    error_code(
        1,
        "protocol failure (peer rejected or aborted, no common epoch, key share locked)"
    ),
    error_code(
        2,
        "usage or configuration error (bad option, missing certificate file, missing, damaged, \
         other-party or busy share file, peer certificate not the one of the share)"
    ),
    error_code(
        3,
        "network error (cannot connect or listen, timeout, TLS handshake failure)"
    )
)]
pub(crate) struct RefreshArgs {
    /// which party this process is: 0 (listens, owns the Paillier key) or 1 (connects)
    #[argh(option)]
    party: Party,
    /// this party's key share file (made by `ecdsa2pc keygen`)
    #[argh(option)]
    share: PathBuf,
    /// file whose first line is the passphrase that encrypts the key share (or set
    /// ECDSA2PC_PASSPHRASE; on a terminal it is asked for)
    #[argh(option)]
    passphrase_file: Option<PathBuf>,
    /// file holding a 32-byte key (raw, or 64 hex digits) that encrypts the key share,
    /// instead of a passphrase
    #[argh(option)]
    key_file: Option<PathBuf>,
    /// address party 0 listens on and party 1 connects to (default: $ECDSA2PC_SERVER, else
    /// localhost:8443)
    #[argh(option, default = "default_server()")]
    server: String,
    /// directory holding ca-cert.pem and this party's certificate and key (default:
    /// $ECDSA2PC_CERTS, else ./certs)
    #[argh(option, default = "default_certs()")]
    certs: PathBuf,
    /// CA certificate file (PEM) to use instead of ca-cert.pem in --certs
    #[argh(option)]
    ca: Option<PathBuf>,
    /// this party's certificate file (PEM) to use instead of the one in --certs
    #[argh(option)]
    cert: Option<PathBuf>,
    /// this party's private key file (PEM) to use instead of the one in --certs
    #[argh(option)]
    key: Option<PathBuf>,
    /// seconds to wait for the peer: to connect, and for each message (default: 60)
    #[argh(option, default = "DEFAULT_TIMEOUT_SECS")]
    timeout: u64,
    /// also print TLS details, party ids and the causes of an error
    #[argh(switch, short = 'v')]
    verbose: bool,
    /// print the result as one JSON object on stdout
    #[argh(switch)]
    json: bool,
    /// print nothing on stderr but errors
    #[argh(switch, short = 'q')]
    quiet: bool,
}

impl RefreshArgs {
    /// The secret options.
    fn secret(&self) -> SecretOptions<'_> {
        SecretOptions {
            passphrase_file: self.passphrase_file.as_deref(),
            key_file: self.key_file.as_deref(),
        }
    }
}

/// Refreshes as one party; prints progress and errors; returns the exit status.
pub(crate) fn run(args: &RefreshArgs) -> ExitStatus {
    let net = Net {
        party: args.party,
        server: &args.server,
        certs: &args.certs,
        files: CertFiles {
            ca: args.ca.as_deref(),
            cert: args.cert.as_deref(),
            key: args.key.as_deref(),
        },
        timeout_secs: args.timeout,
    };
    let style = Style {
        json: args.json,
        quiet: args.quiet,
        verbose: args.verbose,
    };
    net.run(style, |log| match args.party {
        Party::P1 => refresh::<KeyShareP1>(args, &net, log),
        Party::P2 => refresh::<KeyShareP2>(args, &net, log),
    })
}

fn refresh<S: Protocols>(
    args: &RefreshArgs,
    net: &Net<'_>,
    log: &Log,
) -> Result<Outcome, CliError> {
    // Holds the share's lock until the end of the command.
    let (files, warning) = existing_share(&args.share, args.secret())?;
    if let Some(warning) = warning {
        log.line(warning);
    }
    let mut held = ShareSession::<S>::establish(net, files, log, Operation::Refresh)?;
    let fresh = protocols::refresh(&held.share, &mut held.session, log, &mut held.store)?;
    let key = public_key_hex(&public_key(&fresh)?);
    log.line(format_args!(
        "public key (SEC1 compressed): {key} (unchanged)"
    ));
    log.line(format_args!(
        "key share {}: epoch {} → {}",
        held.store.files().path().display(),
        held.share.epoch(),
        fresh.epoch()
    ));
    log.line(format_args!(
        "back up {} now (epoch {}), and destroy every older copy of it (backups of epoch {} or \
         less): they are useless with the peer's new share, but together with an old copy of \
         the peer's share of the same epoch they still sign, and reveal the whole key",
        held.store.files().path().display(),
        fresh.epoch(),
        held.share.epoch()
    ));
    held.session.close(log);
    Ok(Outcome::summary(format!(
        "key shares refreshed to epoch {}; the public key is unchanged",
        fresh.epoch()
    ))
    .text(fresh.epoch())
    .field("command", "refresh")
    .field("party", S::PARTY.index())
    .field("public_key", key)
    .field("share", held.store.files().path().display().to_string())
    .field("epoch", fresh.epoch()))
}
