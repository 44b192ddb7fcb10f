//! The network options of a command and the mutual-TLS connection they describe: party 0
//! listens, party 1 connects.

use core::time::Duration;
use std::path::{Path, PathBuf};

use ecdsa2pc_core::Party;
use ecdsa2pc_net::{CertPaths, Channel, SessionInfo};

use crate::error::{CliError, ExitStatus};
use crate::output::{Log, Outcome, Style, fail, finish, hex};

/// Default address party 0 listens on and party 1 connects to.
pub(crate) const DEFAULT_SERVER: &str = "localhost:8443";
/// Default timeout in seconds.
pub(crate) const DEFAULT_TIMEOUT_SECS: u64 = 60;
/// Longest `--timeout` accepted: one day. Far beyond any real wait, and far below the point
/// where adding it to the clock overflows.
pub(crate) const MAX_TIMEOUT_SECS: u64 = 86_400;
/// Environment variable for `--server`, for deployments that set it once.
pub(crate) const SERVER_ENV: &str = "ECDSA2PC_SERVER";
/// Environment variable for `--certs`.
pub(crate) const CERTS_ENV: &str = "ECDSA2PC_CERTS";

/// The `--server` default: `$ECDSA2PC_SERVER` if set and not empty, else
/// [`DEFAULT_SERVER`]. The flag, when given, takes precedence (argh calls this only without
/// it).
pub(crate) fn default_server() -> String {
    from_env(SERVER_ENV).map_or_else(
        || DEFAULT_SERVER.to_owned(),
        |v| v.to_string_lossy().into_owned(),
    )
}

/// The `--certs` default: `$ECDSA2PC_CERTS` if set and not empty, else `./certs`.
pub(crate) fn default_certs() -> PathBuf {
    from_env(CERTS_ENV).map_or_else(|| PathBuf::from("certs"), PathBuf::from)
}

/// The environment variables that gave an option its value in this run, with the value
/// (argh asks for a default only when the option is not given), so that errors name the
/// variable and what it held.
static USED_ENV: std::sync::Mutex<Vec<(&'static str, String)>> = std::sync::Mutex::new(Vec::new());

/// `$env` if set and not empty, recorded as used.
fn from_env(env: &'static str) -> Option<std::ffi::OsString> {
    let value = std::env::var_os(env).filter(|v| !v.is_empty())?;
    if let Ok(mut used) = USED_ENV.lock() {
        used.push((env, value.to_string_lossy().into_owned()));
    }
    Some(value)
}

/// `option` as an error names it: with the environment variable `env` if that gave its value
/// in this run.
pub(crate) fn option_or_env(option: &str, env: &str) -> String {
    let used = USED_ENV.lock().ok().and_then(|used| {
        used.iter()
            .find(|(name, _)| *name == env)
            .map(|(_, value)| value.clone())
    });
    match used {
        Some(value) => {
            format!("{option} (or ${env}, set to {value:?}, which {option} defaults to)")
        }
        None => option.to_owned(),
    }
}

/// The certificate file options (`--ca`, `--cert`, `--key`): each replaces the file of that
/// name in `--certs`.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct CertFiles<'a> {
    /// `--ca`: the CA certificate(s).
    pub(crate) ca: Option<&'a Path>,
    /// `--cert`: this party's certificate (chain).
    pub(crate) cert: Option<&'a Path>,
    /// `--key`: this party's private key.
    pub(crate) key: Option<&'a Path>,
}

impl CertFiles<'_> {
    /// The files `party` uses: those of `dir`, each replaced by its option if given. A
    /// given file that cannot be read is refused here, naming the option and the file (a
    /// missing file of the directory is reported when it is loaded, with a hint at
    /// `--certs`).
    pub(crate) fn paths(&self, dir: &Path, party: Party) -> Result<CertPaths, CliError> {
        for (option, given) in [
            ("--ca", self.ca),
            ("--cert", self.cert),
            ("--key", self.key),
        ] {
            if let Some(file) = given {
                std::fs::File::open(file).map_err(|e| {
                    CliError::Usage(format!(
                        "{option} {}: cannot read this file ({e}); give the path of the PEM \
                         file, or leave {option} out to use the one in --certs",
                        file.display()
                    ))
                })?;
            }
        }
        Ok(CertPaths::for_party(dir, party).with_files(self.ca, self.cert, self.key))
    }
}

/// The network options of a command (`--party`, `--server`, `--certs` with `--ca`,
/// `--cert`, `--key`, `--timeout`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Net<'a> {
    /// Party 0 (listens, owns the Paillier key) or party 1 (connects).
    pub(crate) party: Party,
    /// Address party 0 listens on and party 1 connects to.
    pub(crate) server: &'a str,
    /// Directory with `ca-cert.pem` and the party's certificate and key.
    pub(crate) certs: &'a Path,
    /// Files that replace those of `certs`.
    pub(crate) files: CertFiles<'a>,
    /// Seconds to wait for the peer.
    pub(crate) timeout_secs: u64,
}

impl Net<'_> {
    /// Checks `--timeout` (argh already refused a `--party` other than 0 or 1).
    pub(crate) fn validate(&self) -> Result<(), CliError> {
        if !(1..=MAX_TIMEOUT_SECS).contains(&self.timeout_secs) {
            return Err(CliError::Usage(format!(
                "--timeout {}: must be from 1 to {MAX_TIMEOUT_SECS} seconds (one day)",
                self.timeout_secs
            )));
        }
        Ok(())
    }

    /// Checks the options, runs `body` with this party's log, and prints its outcome: the
    /// frame every networked command shares.
    pub(crate) fn run(
        &self,
        style: Style,
        body: impl FnOnce(&Log) -> Result<Outcome, CliError>,
    ) -> ExitStatus {
        let log = self.log(style);
        if let Err(err) = self.validate() {
            return fail(&log, style, &err);
        }
        finish(&log, style, body(&log))
    }

    /// This party's certificate files: those of `--certs`, each replaced by its file option
    /// if given.
    pub(crate) fn cert_paths(&self) -> Result<CertPaths, CliError> {
        self.files.paths(self.certs, self.party)
    }

    /// The log of this party: lines prefixed with `[party N]`.
    pub(crate) fn log(&self, style: Style) -> Log {
        Log::new(format!("[{}]", self.party), style)
    }

    /// Party 0 listens and accepts one client; party 1 connects (retrying until the
    /// timeout). Prints what it does, the result, and with `--verbose` the session details.
    /// `prepare` (e.g. party 0's parameter search, seconds) runs before the connection but
    /// after party 0 has bound its address: a busy address fails at once, not after the
    /// work, and a party 1 that connects meanwhile waits in the listen queue.
    pub(crate) fn open<T>(
        &self,
        log: &Log,
        prepare: impl FnOnce() -> Result<T, CliError>,
    ) -> Result<(Channel, T), CliError> {
        let paths = self.cert_paths()?;
        // Party 0 binds before it says it listens: a busy address is the only line then.
        let listener = match self.party {
            Party::P1 => {
                let listener = ecdsa2pc_net::listen(self.server)?;
                log.line(format_args!(
                    "party 0 (TLS server, Paillier key owner): listening on {}, waiting up to \
                     {} s for party 1",
                    self.server, self.timeout_secs
                ));
                Some(listener)
            }
            Party::P2 => {
                log.line(format_args!(
                    "party 1 (TLS client): connecting to party 0 at {} (retrying for up to {} s)",
                    self.server, self.timeout_secs
                ));
                None
            }
        };
        log.detail(format_args!(
            "certificates: {}, {}, {}",
            paths.ca.display(),
            paths.cert.display(),
            paths.key.display()
        ));
        let prepared = prepare()?;
        let timeout = Duration::from_secs(self.timeout_secs);
        let phase = if listener.is_some() {
            "accept (mTLS)"
        } else {
            "connect (mTLS)"
        };
        let ch = log.phase(
            phase,
            || {
                match &listener {
                    Some(listener) => listener.accept_skipping(&paths, timeout, &mut |peer, e| {
                        log.line(format_args!(
                            "ignored a connection from {peer} that is no party 1 ({e})"
                        ));
                    }),
                    None => ecdsa2pc_net::connect(self.server, &paths, timeout),
                }
                .map_err(CliError::from)
            },
            |ch| {
                let info = ch.info();
                format!("{}, peer {}", info.tls_version, info.peer_subject)
            },
        )?;
        print_session(log, ch.info());
        Ok((ch, prepared))
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
