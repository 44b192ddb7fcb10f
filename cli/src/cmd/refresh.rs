//! `ecdsa2pc refresh`: re-randomise both shares of the key (same public key, next epoch).

use ecdsa2pc_net::request::Operation;
use std::path::PathBuf;

use argh::FromArgs;
use ecdsa2pc_core::{KeyShareP1, KeyShareP2, Party};

use crate::error::{CliError, ExitStatus};
use crate::network::Net;
use crate::output::{Log, Outcome};
use crate::protocols::{self, Protocols};
use crate::secret::existing_share;
use crate::session::ShareSession;
use crate::share_file::{public_key, public_key_hex};

peer_command! {
    sealed
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
        /// this party's key share file (made by `ecdsa2pc keygen`)
        #[argh(option)]
        share: PathBuf,
    }
}

/// Refreshes as one party; prints progress and errors; returns the exit status.
pub(crate) fn run(args: &RefreshArgs) -> ExitStatus {
    let net = args.net();
    let style = args.style();
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
