//! `ecdsa2pc demo`: one party of a complete run over one mutual-TLS connection.
//!
//! handshake → (party 0: Paillier key) → keygen → sign → verify → tampered message is
//! rejected → refresh (not available yet) → sign again → verify → close.

use core::time::Duration;
use std::path::{Path, PathBuf};
use std::thread;

use argh::FromArgs;
use ecdsa2pc_core::{
    paillier::{self, SecretKey},
    share::{KeyShareP1, KeyShareP2},
    sign::Digest,
};
use ecdsa2pc_net::{CertPaths, Channel, NetError, SessionInfo, driver};
use k256::ecdsa::{Signature, VerifyingKey, signature::hazmat::PrehashVerifier};
use rand_chacha::ChaCha20Rng;
use zeroize::Zeroize;

use crate::digest::sha256;
use crate::error::{CliError, ExitStatus};
use crate::keyfile::{spki_pem, write_atomic};
use crate::output::{Log, hex, report_error};

/// Default address party 0 listens on and party 1 connects to.
const DEFAULT_SERVER: &str = "localhost:8443";
/// Default message to sign.
const DEFAULT_MESSAGE: &str = "Hello, MPC ECDSA with mTLS!";
/// Default timeout in seconds.
const DEFAULT_TIMEOUT_SECS: u64 = 60;
/// Appended to the message for the negative check.
const TAMPERED_SUFFIX: &str = " (tampered)";
/// Appended to the message for the second signature.
const SECOND_SUFFIX: &str = " #2";

/// Run one party of a full two-party ECDSA session over mutual TLS: keygen, sign, verify,
/// sign again. Start one process with --party 0 and one with --party 1 (in any order).
#[derive(FromArgs, Debug)]
#[argh(
    subcommand,
    name = "demo",
    example = "{command_name} --party 0 --out-dir demo-out\n\
               {command_name} --party 1    (in a second terminal)",
    note = "Party 0 is the TLS server and owns the Paillier key; party 1 connects. Both need \
            ca-cert.pem and their own certificate and key in --certs (certs/generate_certs.sh \
            makes them). With --out-dir, `openssl dgst -sha256 -verify public-key.pem \
            -signature signature.der message.txt` checks the first signature.",
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
    /// which party this process is: 0 (listens, owns the Paillier key) or 1 (connects)
    #[argh(option)]
    party: u8,
    /// address party 0 listens on and party 1 connects to (default: localhost:8443)
    #[argh(option, default = "DEFAULT_SERVER.to_owned()")]
    server: String,
    /// directory holding ca-cert.pem and this party's certificate and key (default: ./certs)
    #[argh(option, default = "PathBuf::from(\"certs\")")]
    certs: PathBuf,
    /// text to sign; its SHA-256 digest is signed (default: "Hello, MPC ECDSA with mTLS!")
    #[argh(option, default = "DEFAULT_MESSAGE.to_owned()")]
    message: String,
    /// seconds to wait for the peer: to connect, and for each message (default: 60)
    #[argh(option, default = "DEFAULT_TIMEOUT_SECS")]
    timeout: u64,
    /// also print TLS details, party ids and the causes of an error
    #[argh(switch, short = 'v')]
    verbose: bool,
    /// write public-key.pem, message.txt and signature.der (the first signature) here
    #[argh(option)]
    out_dir: Option<PathBuf>,
}

/// Runs the demo as one party; prints progress and errors; returns the exit status.
pub(crate) fn run(args: &DemoArgs) -> ExitStatus {
    if args.party > 1 {
        let err = CliError::Usage(format!(
            "--party must be 0 (listens) or 1 (connects), got {}",
            args.party
        ));
        report_error(&err, args.verbose);
        return err.exit_status();
    }
    if args.timeout == 0 {
        let err = CliError::Usage("--timeout must be at least 1 second".to_owned());
        report_error(&err, args.verbose);
        return err.exit_status();
    }
    let log = Log::new(format!("[party {}]", args.party), args.verbose);
    match Demo::new(args, &log).run() {
        Ok(()) => {
            log.line("result: every step succeeded; both signatures verified");
            ExitStatus::Success
        }
        Err(err) => {
            log.line(format_args!(
                "result: FAILED (exit code {}); see the error below",
                err.exit_status() as u8
            ));
            report_error(&err, args.verbose);
            err.exit_status()
        }
    }
}

/// One party's run.
struct Demo<'a> {
    args: &'a DemoArgs,
    log: &'a Log,
    timeout: Duration,
}

/// A party's key share after keygen.
enum Share {
    /// Party 0's share (protocol role P1); boxed: it holds the Paillier secret key.
    P1(Box<KeyShareP1>),
    /// Party 1's share (protocol role P2).
    P2(Box<KeyShareP2>),
}

impl Share {
    /// The joint public key Q.
    fn public_key(&self) -> Result<VerifyingKey, CliError> {
        let q = match self {
            Self::P1(s) => s.public().q,
            Self::P2(s) => s.public().q,
        };
        VerifyingKey::from_affine(q)
            .map_err(|_| CliError::Verification("keygen produced an invalid public key".into()))
    }

    /// Runs the signing protocol for `digest`.
    fn sign(
        &mut self,
        ch: &mut Channel,
        rng: &mut ChaCha20Rng,
        info: &SessionInfo,
        digest: &Digest,
    ) -> Result<Signature, NetError> {
        let ctx = driver::context(info);
        match self {
            Self::P1(share) => driver::sign_p1(ch, rng, share, &ctx, digest),
            Self::P2(share) => driver::sign_p2(ch, rng, share, &ctx, digest),
        }
    }
}

impl<'a> Demo<'a> {
    fn new(args: &'a DemoArgs, log: &'a Log) -> Self {
        Self {
            args,
            log,
            timeout: Duration::from_secs(args.timeout),
        }
    }

    fn party(&self) -> u8 {
        self.args.party
    }

    fn run(&self) -> Result<(), CliError> {
        let log = self.log;
        let args = self.args;
        let paths = CertPaths::for_party(&args.certs, self.party());
        if self.party() == 0 {
            log.line(format_args!(
                "party 0 (TLS server, Paillier key owner): listening on {}, waiting up to {} s \
                 for party 1",
                args.server, args.timeout
            ));
        } else {
            log.line(format_args!(
                "party 1 (TLS client): connecting to party 0 at {} (retrying for up to {} s)",
                args.server, args.timeout
            ));
        }
        log.detail(format_args!(
            "certificates: {}, {}, {}",
            paths.ca.display(),
            paths.cert.display(),
            paths.key.display()
        ));

        let connect_phase = if self.party() == 0 {
            "accept (mTLS)"
        } else {
            "connect (mTLS)"
        };
        let mut ch = log.phase(
            connect_phase,
            || self.connect(&paths).map_err(CliError::from),
            |ch| {
                let info = ch.info();
                format!("{}, peer {}", info.tls_version, info.peer_subject)
            },
        )?;
        let info = ch.info().clone();
        self.print_session(&info);
        let mut rng = driver::os_rng()?;

        let mut share = self.keygen(&mut ch, &mut rng, &info)?;
        let key = share.public_key()?;
        log.line(format_args!(
            "public key (SEC1 compressed): {}",
            hex(key.to_sec1_point(true).as_bytes())
        ));

        let message = args.message.as_str();
        let sig1 = self.sign_and_verify(1, message, &mut share, &mut ch, &mut rng, &info, &key)?;
        self.tampered_check(message, &key, &sig1)?;
        log.line("refresh: not available yet (tracked in issue #4)");
        let message2 = format!("{message}{SECOND_SUFFIX}");
        self.sign_and_verify(2, &message2, &mut share, &mut ch, &mut rng, &info, &key)?;

        if let Some(dir) = &args.out_dir {
            self.write_outputs(dir, message, &key, &sig1)?;
        }
        match ch.close() {
            Ok(()) => log.line("connection closed"),
            // Both signatures are verified at this point; a lost close_notify changes nothing.
            Err(e) => log.line(format_args!("connection closed (warning: {e})")),
        }
        Ok(())
    }

    /// Party 0 listens and accepts one client; party 1 connects (retrying until the timeout).
    fn connect(&self, paths: &CertPaths) -> Result<Channel, NetError> {
        if self.party() == 0 {
            ecdsa2pc_net::listen_and_accept(&self.args.server, paths, self.timeout)
        } else {
            ecdsa2pc_net::connect(&self.args.server, paths, self.timeout)
        }
    }

    fn print_session(&self, info: &SessionInfo) {
        let log = self.log;
        if !log.verbose() {
            return;
        }
        log.detail(format_args!(
            "TLS {}, cipher suite {}",
            info.tls_version, info.cipher_suite
        ));
        log.detail(format_args!(
            "own certificate:  {}  pid {}",
            info.own_subject,
            hex(&info.own_pid)
        ));
        log.detail(format_args!(
            "peer certificate: {}  pid {}  at {}",
            info.peer_subject,
            hex(&info.peer_pid),
            info.peer_addr
        ));
    }

    /// Party 0 makes its Paillier key, then both run the keygen protocol.
    fn keygen(
        &self,
        ch: &mut Channel,
        rng: &mut ChaCha20Rng,
        info: &SessionInfo,
    ) -> Result<Share, CliError> {
        let ctx = driver::context(info);
        if self.party() == 0 {
            let (paillier, _attempts) =
                self.log
                    .phase("paillier key", paillier_key, |(_key, attempts)| {
                        format!(
                            "{}-bit modulus, {attempts} attempt{}",
                            paillier::MODULUS_BITS,
                            if *attempts == 1 { "" } else { "s" }
                        )
                    })?;
            self.log.phase(
                "keygen",
                || {
                    Ok(Share::P1(Box::new(driver::keygen_p1(
                        ch, rng, &ctx, paillier,
                    )?)))
                },
                |_| String::new(),
            )
        } else {
            self.log.phase(
                "keygen",
                || Ok(Share::P2(Box::new(driver::keygen_p2(ch, rng, &ctx)?))),
                |_| "(includes party 0's Paillier key generation)".to_owned(),
            )
        }
    }

    /// Signs SHA-256(`message`) with the peer, prints the signature, verifies it against Q.
    #[allow(clippy::too_many_arguments)]
    fn sign_and_verify(
        &self,
        n: u8,
        message: &str,
        share: &mut Share,
        ch: &mut Channel,
        rng: &mut ChaCha20Rng,
        info: &SessionInfo,
        key: &VerifyingKey,
    ) -> Result<Signature, CliError> {
        let log = self.log;
        let digest = sha256(message.as_bytes());
        log.detail(format_args!(
            "message #{n}: {message:?}, SHA-256 {}",
            hex(&digest)
        ));
        let sig = log.phase(
            &format!("sign #{n}"),
            || Ok(share.sign(ch, rng, info, &digest)?),
            |_| format!("message {message:?}"),
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
            |()| "valid for the joint public key".to_owned(),
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
}

/// A fresh Paillier key: the two 1024-bit primes are generated in parallel, and the pair
/// is drawn again while the modulus is not exactly 2048 bits. Returns the key and the
/// number of pairs drawn.
fn paillier_key() -> Result<(SecretKey, u32), CliError> {
    let mut attempts = 0;
    loop {
        attempts += 1;
        let (p, q) = thread::scope(|s| {
            let other =
                s.spawn(|| driver::os_rng().map(|mut rng| paillier::generate_prime(&mut rng)));
            let here = driver::os_rng().map(|mut rng| paillier::generate_prime(&mut rng));
            let other = other
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (here, other)
        });
        let (mut p, mut q) = (p?, q?);
        let key = SecretKey::from_primes(&p, &q);
        p.zeroize();
        q.zeroize();
        if let Ok(key) = key {
            return Ok((key, attempts));
        }
    }
}
