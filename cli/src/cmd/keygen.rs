//! `ecdsa2pc keygen`: make a new key with the peer and write this party's share to a file.

use ecdsa2pc_net::request::Request;
use std::path::{Path, PathBuf};

use argh::FromArgs;
use ecdsa2pc_core::{KeyShareP1, KeyShareP2, Party};
use ecdsa2pc_net::input_file;
use ecdsa2pc_net::sealed::Content;
use ecdsa2pc_net::store::ShareFiles;

use crate::error::{CliError, ExitStatus};
use crate::keyfile::check_output_dir;
use crate::network::Net;
use crate::output::{Log, Outcome};
use crate::protocols::{self, Protocols};
use crate::secret::{Prompt, plaintext_warning};
use crate::session::Session;
use crate::share_file::{public_key, public_key_hex};

peer_command! {
    sealed
    /// Generate a new two-party key with the peer and write this party's share to --share.
    #[derive(FromArgs, Debug)]
    #[argh(
        subcommand,
        help_triggers("-h", "--help", "help"),
        name = "keygen",
        example = "{command_name} --party 0 --share p0.share\n\
                   {command_name} --party 1 --share p1.share    (on the other machine)",
        note = "The joint public key (SEC1 compressed hex) is printed on stdout; progress goes to \
                stderr. Party 0 is the TLS server and makes the Paillier key; party 1 connects. The share \
                records both parties' certificates (pids): later runs must use the same ones. The \
                file is written atomically with mode 0600, encrypted when --passphrase-file, --key-file or \
                ECDSA2PC_PASSPHRASE gives a secret (on a terminal, the passphrase is asked for); an existing share is \
                never overwritten without --force. The share is written as FILE.pending first and \
                becomes FILE only when both parties have stored theirs (the last keygen message \
                is acknowledged): an interrupted keygen leaves no share, and a run again replaces \
                the pending file. Party 0 keeps its commitment-parameter secret in \
                ring-pedersen.secret in the directory of --share (made at the first keygen there, a \
                few seconds; encrypted like the share; back it up with the shares: every key made \
                with it needs it to sign) and the proof of its parameters in ring-pedersen.proof \
                (public, made at the first keygen, remade if missing). Party 1 checks party 0's parameter proof at the first \
                keygen with that party 0 and pins the parameters in its state directory \
                ($ECDSA2PC_LOCK_DIR/pins, else ~/.local/state/ecdsa2pc/pins); other parameters from \
                the same party 0 are refused until that pin is deleted.",
        error_code(0, "the key was made and the share written"),
        error_code(1, "protocol failure (peer rejected or aborted)"),
        error_code(
            2,
            "usage or configuration error (bad option, missing certificate file, share file exists \
             or is in use, unwritable directory)"
        ),
        error_code(
            3,
            "network error (cannot connect or listen, timeout, TLS handshake failure)"
        )
    )]
    pub(crate) struct KeygenArgs {
        /// file to write this party's key share to (FILE.pending and FILE.lock sit beside it)
        #[argh(option)]
        share: PathBuf,
        /// overwrite an existing share file (the old key is lost unless backed up)
        #[argh(switch)]
        force: bool,
    }
}

/// Runs keygen as one party; prints progress and errors; returns the exit status.
pub(crate) fn run(args: &KeygenArgs) -> ExitStatus {
    let net = args.net();
    let style = args.style();
    net.run(style, |log| match args.party {
        Party::P1 => keygen::<KeyShareP1>(args, &net, log),
        Party::P2 => keygen::<KeyShareP2>(args, &net, log),
    })
}

fn keygen<S: Protocols>(args: &KeygenArgs, net: &Net<'_>, log: &Log) -> Result<Outcome, CliError> {
    // Asked before the network run: a prompt must not make the peer wait.
    let sealer = args.secret().sealer(Prompt::NewOptional)?;
    let files = ShareFiles::new(&args.share).sealed_with(sealer);
    if let Some(dir) = args.share.parent().filter(|d| !d.as_os_str().is_empty()) {
        check_output_dir("--share", &args.share, dir)?;
    }
    check_share_path(&args.share, args.force)?;
    // Held until the share is written: no other run can use or write these files meanwhile.
    let _lock = files.lock()?;
    if files.exists() && !args.force {
        return Err(CliError::Usage(format!(
            "{} already exists: refusing to overwrite a key share (its key would be lost). \
             Choose another --share, or add --force to replace it",
            files.path().display()
        )));
    }
    if !files.exists() && files.pending_path().exists() {
        // Never active: the share of a keygen that stopped before both sides confirmed.
        log.line(format_args!(
            "replacing {}, the share of an earlier keygen that was never confirmed by both \
             parties",
            files.pending_path().display()
        ));
    }
    // Party 0's parameter secret is loaded (or made, seconds) once its address is bound (a
    // busy port fails first) and before the handshake.
    let (mut session, params) = Session::open_after(net, log, &Request::keygen(), || {
        S::params_on_disk(&args.share, files.sealer(), true, log)
    })?;
    // The share is written as FILE.pending, made active only once the peer has stored its
    // own; a replaced share (--force) stays in place until then.
    let mut persist = files.clone();
    let share =
        protocols::keygen::<S>(&mut session, &params, log, &mut persist).inspect_err(|_| {
            // Party 0 discards its pending share itself: party 1 cannot hold the key as active.
            if S::PARTY == Party::P2 && files.pending_path().exists() {
                log.line(format_args!(
                    "this party's share is stored as {} but stays pending: the peer never \
                 confirmed that both shares are stored. It is not used as a share. If the \
                 other party reported the key as made, rename it to {}; otherwise run keygen \
                 again",
                    files.pending_path().display(),
                    files.path().display()
                ));
            }
        })?;
    let key = public_key(&share)?;
    log.line(format_args!(
        "public key (SEC1 compressed): {}",
        public_key_hex(&key)
    ));
    log.line(format_args!(
        "wrote key share {} ({}, epoch {}, mode 0600, {}); keep it private and backed up",
        files.path().display(),
        S::PARTY,
        share.epoch(),
        if files.sealer().is_some() {
            "encrypted"
        } else {
            "NOT encrypted"
        }
    ));
    if files.sealer().is_none() {
        log.line(plaintext_warning(files.path()));
    }
    log.line(format_args!(
        "back up {} now (one copy, kept private): it is this party's only half of the new key. \
         After each refresh, back up the new file and destroy older copies",
        files.path().display()
    ));
    session.close(log);
    Ok(Outcome::summary("key generated; the share is on disk")
        .text(public_key_hex(&key))
        .field("command", "keygen")
        .field("party", S::PARTY.index())
        .field("public_key", public_key_hex(&key))
        .field("share", files.path().display().to_string())
        .field("epoch", share.epoch()))
}

/// Refuses, before the peer is involved, a `--share` a new share cannot be written to or must
/// not replace even with `--force`: no file name, a directory, or an existing file that is no
/// key share (party 0's parameter secret above all: every key of its directory needs it).
fn check_share_path(share: &Path, force: bool) -> Result<(), CliError> {
    if share.file_name().is_none() {
        return Err(CliError::Usage(format!(
            "--share {:?}: not a file name; give the path of the share file to write, e.g. \
             p0.share",
            share.display().to_string()
        )));
    }
    if share.is_dir() {
        return Err(CliError::Usage(format!(
            "--share {}: is a directory; give a file name in it, e.g. {}",
            share.display(),
            share.join("p0.share").display()
        )));
    }
    match input_file::secret_content(share) {
        Some(Content::ParamsSecret) => Err(CliError::Usage(format!(
            "--share {}: holds {}; refusing to replace it (not even with --force). Choose \
             another --share",
            share.display(),
            Content::ParamsSecret.describe()
        ))),
        None if force && share.exists() => Err(CliError::Usage(format!(
            "--share {}: exists and is not an ecdsa2pc key share; refusing to replace it \
             (not even with --force). Choose another --share",
            share.display()
        ))),
        _ => Ok(()),
    }
}
