//! `ecdsa2pc demo`: one party of a complete run over one mutual-TLS connection.
//!
//! (party 0: commitment parameters) → handshake → (party 0: Paillier key) → keygen → sign → verify → tampered message is
//! rejected → (party 0: new Paillier key) → refresh → sign again with the refreshed shares
//! → verify → sign under the BIP32 child m/0/1 → verify under the child key → close. The
//! shares stay in memory.

use ecdsa2pc_net::request::{Operation, Request};
use std::path::{Path, PathBuf};

use argh::FromArgs;
use ecdsa2pc_core::bip32::DerivationPath;
use ecdsa2pc_core::{KeyShareP1, KeyShareP2, Party};
use ecdsa2pc_net::driver::InMemory;
use k256::ecdsa::{Signature, VerifyingKey, signature::hazmat::PrehashVerifier};

use crate::digest::sha256;
use crate::error::{CliError, ExitStatus};
use crate::keyfile::{spki_pem, write_atomic};
use crate::network::Net;
use crate::output::{Log, Outcome, fail, finish, hex};
use crate::protocols::{self, Protocols};
use crate::session::Session;
use crate::share_file::{derived_key, public_key, public_key_hex};
use crate::wallet::Network;

/// Default message to sign.
const DEFAULT_MESSAGE: &str = "Hello, MPC ECDSA with mTLS!";
/// Appended to the message for the negative check.
const TAMPERED_SUFFIX: &str = " (tampered)";
/// Appended to the message for the second signature.
const SECOND_SUFFIX: &str = " #2";
/// The non-hardened BIP32 path of the third signature.
const CHILD_PATH: &str = "m/0/1";
/// Appended to the message for the third signature, under [`CHILD_PATH`].
const CHILD_SUFFIX: &str = " #3";

peer_command! {
    /// Run one party of a full two-party ECDSA session over mutual TLS, shares in memory only:
    /// keygen, sign, verify, refresh, sign again, sign under the BIP32 child m/0/1. Start one process with --party 0 and one with
    /// --party 1 (in any order).
    #[derive(FromArgs, Debug)]
    #[argh(
        subcommand,
        help_triggers("-h", "--help", "help"),
        name = "demo",
        example = "{command_name} --party 0 --out-dir demo-out\n\
                   {command_name} --party 1    (in a second terminal)",
        note = "Party 0 is the TLS server and owns the Paillier key; party 1 connects. Both need \
                ca-cert.pem and their own certificate and key in --certs (certs/generate_certs.sh \
                makes them). With --out-dir, `openssl dgst -sha256 -verify public-key.pem \
                -signature signature.der message.txt` checks the first signature, and `ecdsa2pc \
                verify --public-key key.xpub --path m/0/1 --signature child-signature.der \
                --message-file child-message.txt` the one under m/0/1.",
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
    pub(crate) struct DemoArgs {
        /// text to sign; its SHA-256 digest is signed (default: "Hello, MPC ECDSA with mTLS!")
        #[argh(option, default = "DEFAULT_MESSAGE.to_owned()")]
        message: String,
        /// write public-key.pem, message.txt and signature.der (the first signature), and
        /// key.xpub, child-message.txt and child-signature.der (the one under m/0/1) here
        #[argh(option)]
        out_dir: Option<PathBuf>,
    }
}

/// Runs the demo as one party; prints progress and errors; returns the exit status.
pub(crate) fn run(args: &DemoArgs) -> ExitStatus {
    let net = args.net();
    let style = args.style();
    let log = net.log(style);
    if let Err(err) = net.validate() {
        return fail(&log, style, &err);
    }
    let demo = Demo {
        args,
        net,
        log: &log,
    };
    let result = match args.party {
        Party::P1 => demo.run::<KeyShareP1>(),
        Party::P2 => demo.run::<KeyShareP2>(),
    };
    finish(&log, style, result)
}

/// One party's run.
struct Demo<'a> {
    args: &'a DemoArgs,
    net: Net<'a>,
    log: &'a Log,
}

impl Demo<'_> {
    /// What party 1 asks and party 0 expects: the demo, with its message's SHA-256, so that
    /// two sides started with different messages are told so before any work.
    fn request(&self) -> Request {
        Request::keyless(Operation::Demo(sha256(self.args.message.as_bytes())))
    }

    fn run<S: Protocols>(&self) -> Result<Outcome, CliError> {
        let log = self.log;
        let args = self.args;
        // Party 0's safe-prime search (seconds) runs once its address is bound (a busy port
        // fails first) and before the handshake, so no protocol timer runs during it.
        let (mut session, params) =
            Session::open_after(&self.net, log, &self.request(), || S::params_in_memory(log))?;

        let mut share = protocols::keygen::<S>(&mut session, &params, log, &mut InMemory)?;
        let key = public_key(&share)?;
        log.line(format_args!(
            "public key (SEC1 compressed): {}",
            public_key_hex(&key)
        ));

        let message = args.message.as_str();
        let master = DerivationPath::MASTER;
        let mut signer = Signer {
            share: &mut share,
            session: &mut session,
            params: &params,
        };
        let sig1 = self.sign_and_verify(1, message, &mut signer, &master, &key)?;
        self.tampered_check(message, &key, &sig1)?;
        let mut share = protocols::refresh(&share, &mut session, log, &mut InMemory)?;
        // `refresh` already refuses a changed Q; the demo states it once more.
        if public_key(&share)? != key {
            return Err(CliError::Verification(
                "the public key changed in the refresh".to_owned(),
            ));
        }
        let message2 = format!("{message}{SECOND_SUFFIX}");
        let mut signer = Signer {
            share: &mut share,
            session: &mut session,
            params: &params,
        };
        self.sign_and_verify(2, &message2, &mut signer, &master, &key)?;

        // A wallet's use: a child key at a non-hardened path, checked against the key the
        // xpub of the joint key derives there (what any BIP32 library computes).
        let child_path = DerivationPath::parse(CHILD_PATH)
            .map_err(|e| CliError::Usage(format!("{CHILD_PATH}: {e}")))?;
        let (_, xpub) = derived_key(signer.share, &master, Network::Mainnet)?;
        let (child_key, _) = derived_key(signer.share, &child_path, Network::Mainnet)?;
        let message3 = format!("{message}{CHILD_SUFFIX}");
        let sig3 = self.sign_and_verify(3, &message3, &mut signer, &child_path, &child_key)?;

        if let Some(dir) = &args.out_dir {
            self.write_outputs(dir, message, &key, &sig1)?;
            if let Some(xpub) = xpub {
                self.write_child_outputs(dir, &xpub.encode(), &message3, &sig3)?;
            }
        }
        session.close(log);
        Ok(
            Outcome::summary("every step succeeded; all three signatures verified")
                .field("command", "demo")
                .field("party", S::PARTY.index())
                .field("public_key", public_key_hex(&key))
                .field("signature", hex(sig1.to_der().as_bytes()))
                .field("child_signature", hex(sig3.to_der().as_bytes())),
        )
    }

    /// Signs SHA-256(`message`) with the peer under `path`, prints the signature, verifies it
    /// against `key` (Q, or its child at `path`).
    fn sign_and_verify<S: Protocols>(
        &self,
        n: u8,
        message: &str,
        signer: &mut Signer<'_, S>,
        path: &DerivationPath,
        key: &VerifyingKey,
    ) -> Result<Signature, CliError> {
        let log = self.log;
        let digest = sha256(message.as_bytes());
        let under = if path.depth() == 0 {
            String::new()
        } else {
            format!(" under {path}")
        };
        log.detail(format_args!(
            "message #{n}: {message:?}, SHA-256 {}",
            hex(&digest)
        ));
        let sig = log.phase(
            &format!("sign #{n}"),
            || {
                Ok(protocols::sign(
                    signer.share,
                    signer.session,
                    &digest,
                    path,
                    signer.params,
                    &mut InMemory,
                )?)
            },
            |_| format!("message {message:?}{under}"),
        )?;
        log.line(format_args!(
            "signature #{n} (DER): {}",
            hex(sig.to_der().as_bytes())
        ));
        log.phase(
            &format!("verify #{n}"),
            || {
                key.verify_prehash(&digest, &sig).map_err(|_| {
                    CliError::Verification(format!(
                        "signature #{n} does NOT verify against the joint public key"
                    ))
                })
            },
            |()| {
                if path.depth() == 0 {
                    "valid for the joint public key".to_owned()
                } else {
                    format!("valid for the joint key's child at {path}")
                }
            },
        )?;
        Ok(sig)
    }

    /// The signature must not verify for another message; reported as an expected failure.
    fn tampered_check(
        &self,
        message: &str,
        key: &VerifyingKey,
        sig: &Signature,
    ) -> Result<(), CliError> {
        let tampered = format!("{message}{TAMPERED_SUFFIX}");
        let digest = sha256(tampered.as_bytes());
        if key.verify_prehash(&digest, sig).is_ok() {
            self.log.result("tampered", "FAILED");
            return Err(CliError::Verification(format!(
                "signature #1 also verifies for the altered message {tampered:?}: the \
                 verification is broken"
            )));
        }
        self.log.result(
            "tampered",
            format_args!("rejected as expected (signature #1 does not verify for {tampered:?})"),
        );
        Ok(())
    }

    /// Writes public-key.pem, message.txt and signature.der into `dir` (created if needed).
    fn write_outputs(
        &self,
        dir: &Path,
        message: &str,
        key: &VerifyingKey,
        sig: &Signature,
    ) -> Result<(), CliError> {
        std::fs::create_dir_all(dir).map_err(|source| CliError::File {
            path: dir.to_path_buf(),
            action: "create the directory",
            source,
        })?;
        write_atomic(dir, "public-key.pem", spki_pem(key).as_bytes())?;
        write_atomic(dir, "message.txt", message.as_bytes())?;
        write_atomic(dir, "signature.der", sig.to_der().as_bytes())?;
        self.log.line(format_args!(
            "wrote {0}/public-key.pem, {0}/message.txt, {0}/signature.der",
            dir.display()
        ));
        self.log.detail(format_args!(
            "check with: openssl dgst -sha256 -verify {0}/public-key.pem -signature \
             {0}/signature.der {0}/message.txt",
            dir.display()
        ));
        Ok(())
    }

    /// Writes key.xpub (the joint key's), child-message.txt and child-signature.der (the
    /// signature under [`CHILD_PATH`]) into `dir`, which [`Demo::write_outputs`] made.
    fn write_child_outputs(
        &self,
        dir: &Path,
        xpub: &str,
        message: &str,
        sig: &Signature,
    ) -> Result<(), CliError> {
        write_atomic(dir, "key.xpub", format!("{xpub}\n").as_bytes())?;
        write_atomic(dir, "child-message.txt", message.as_bytes())?;
        write_atomic(dir, "child-signature.der", sig.to_der().as_bytes())?;
        self.log.line(format_args!(
            "wrote {0}/key.xpub, {0}/child-message.txt, {0}/child-signature.der",
            dir.display()
        ));
        self.log.detail(format_args!(
            "check with: ecdsa2pc verify --public-key {0}/key.xpub --path {CHILD_PATH} \
             --signature {0}/child-signature.der --message-file {0}/child-message.txt",
            dir.display()
        ));
        Ok(())
    }
}

/// What each signature of the demo runs with: the share, the open session, the
/// commitment parameters.
struct Signer<'a, S: Protocols> {
    share: &'a mut S,
    session: &'a mut Session,
    params: &'a S::Params,
}
