//! What every networked command shares: the network options, opening the mutual-TLS
//! connection (party 0 listens, party 1 connects), and party 0's Paillier key.

use core::time::Duration;
use std::path::Path;
use std::thread;

use ecdsa2pc_core::PaillierSecretKey;
use ecdsa2pc_core::{PAILLIER_MODULUS_BITS, generate_prime};
use ecdsa2pc_net::{CertPaths, Channel, NetError, SessionInfo, driver};
use zeroize::Zeroize;

use crate::error::{CliError, ExitStatus};
use crate::output::{Log, finish, hex, report_error};

/// Default address party 0 listens on and party 1 connects to.
pub(crate) const DEFAULT_SERVER: &str = "localhost:8443";
/// Default timeout in seconds.
pub(crate) const DEFAULT_TIMEOUT_SECS: u64 = 60;

/// The network options of a command (`--party`, `--server`, `--certs`, `--timeout`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Net<'a> {
    /// 0 (listens, owns the Paillier key) or 1 (connects).
    pub(crate) party: u8,
    /// Address party 0 listens on and party 1 connects to.
    pub(crate) server: &'a str,
    /// Directory with `ca-cert.pem` and the party's certificate and key.
    pub(crate) certs: &'a Path,
    /// Seconds to wait for the peer.
    pub(crate) timeout_secs: u64,
}

impl Net<'_> {
    /// Checks `--party` and `--timeout`.
    pub(crate) fn validate(&self) -> Result<(), CliError> {
        if self.party > 1 {
            return Err(CliError::Usage(format!(
                "--party must be 0 (listens) or 1 (connects), got {}",
                self.party
            )));
        }
        if self.timeout_secs == 0 {
            return Err(CliError::Usage(
                "--timeout must be at least 1 second".to_owned(),
            ));
        }
        Ok(())
    }

    /// Checks the options, runs `body` with this party's log, and prints its outcome: the
    /// frame every networked command shares.
    pub(crate) fn run(
        &self,
        verbose: bool,
        body: impl FnOnce(&Log) -> Result<String, CliError>,
    ) -> ExitStatus {
        if let Err(err) = self.validate() {
            report_error(&err, verbose);
            return err.exit_status();
        }
        let log = self.log(verbose);
        finish(&log, verbose, body(&log))
    }

    /// The log of this party: lines prefixed with `[party N]`.
    pub(crate) fn log(&self, verbose: bool) -> Log {
        Log::new(format!("[party {}]", self.party), verbose)
    }

    /// Party 0 listens and accepts one client; party 1 connects (retrying until the
    /// timeout). Prints what it does, the result, and with `--verbose` the session details.
    pub(crate) fn open(&self, log: &Log) -> Result<Channel, CliError> {
        let paths = CertPaths::for_party(self.certs, self.party);
        if self.party == 0 {
            log.line(format_args!(
                "party 0 (TLS server, Paillier key owner): listening on {}, waiting up to {} s \
                 for party 1",
                self.server, self.timeout_secs
            ));
        } else {
            log.line(format_args!(
                "party 1 (TLS client): connecting to party 0 at {} (retrying for up to {} s)",
                self.server, self.timeout_secs
            ));
        }
        log.detail(format_args!(
            "certificates: {}, {}, {}",
            paths.ca.display(),
            paths.cert.display(),
            paths.key.display()
        ));
        let phase = if self.party == 0 {
            "accept (mTLS)"
        } else {
            "connect (mTLS)"
        };
        let ch = log.phase(
            phase,
            || self.connect(&paths).map_err(CliError::from),
            |ch| {
                let info = ch.info();
                format!("{}, peer {}", info.tls_version, info.peer_subject)
            },
        )?;
        print_session(log, ch.info());
        Ok(ch)
    }

    fn connect(&self, paths: &CertPaths) -> Result<Channel, NetError> {
        let timeout = Duration::from_secs(self.timeout_secs);
        if self.party == 0 {
            ecdsa2pc_net::listen_and_accept(self.server, paths, timeout)
        } else {
            ecdsa2pc_net::connect(self.server, paths, timeout)
        }
    }
}

/// With `--verbose`: TLS version and cipher suite, both certificate subjects and pids.
fn print_session(log: &Log, info: &SessionInfo) {
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

/// Closes the connection; a lost `close_notify` changes nothing once the work is done.
pub(crate) fn close(log: &Log, ch: Channel) {
    match ch.close() {
        Ok(()) => log.line("connection closed"),
        Err(e) => log.line(format_args!("connection closed (warning: {e})")),
    }
}

/// Party 0's fresh Paillier key, timed and reported as the `paillier key` phase.
pub(crate) fn paillier_key(log: &Log) -> Result<PaillierSecretKey, CliError> {
    let (key, _attempts) = log.phase("paillier key", new_paillier_key, |(_key, attempts)| {
        format!(
            "{}-bit modulus, {attempts} attempt{}",
            PAILLIER_MODULUS_BITS,
            if *attempts == 1 { "" } else { "s" }
        )
    })?;
    Ok(key)
}

/// A fresh Paillier key: the two 1024-bit primes are generated in parallel, and the pair
/// is drawn again while the modulus is not exactly 2048 bits. Returns the key and the
/// number of pairs drawn.
pub(crate) fn new_paillier_key() -> Result<(PaillierSecretKey, u32), CliError> {
    let mut attempts = 0;
    loop {
        attempts += 1;
        let (p, q) = thread::scope(|s| {
            let other = s.spawn(|| driver::os_rng().map(|mut rng| generate_prime(&mut rng)));
            let here = driver::os_rng().map(|mut rng| generate_prime(&mut rng));
            let other = other
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (here, other)
        });
        let (mut p, mut q) = (p?, q?);
        let key = PaillierSecretKey::from_primes(&p, &q);
        p.zeroize();
        q.zeroize();
        if let Ok(key) = key {
            return Ok((key, attempts));
        }
    }
}
