//! `ecdsa2pc serve`: party 0 as a long-running co-signer for many clients and keys.

use core::time::Duration;
use std::path::PathBuf;
use std::sync::Arc;

use argh::FromArgs;
use ecdsa2pc_core::Party;
use ecdsa2pc_net::service::{ApproveHook, LogFormat, Logger, Service, ServiceConfig};
use ecdsa2pc_net::{NetError, TransportError};

use crate::error::{CliError, ExitStatus};
use crate::network::{
    CertFiles, MAX_TIMEOUT_SECS, SERVER_ENV, default_certs, default_server, option_or_env,
};
use crate::output::{Log, Outcome, Style, finish};
use crate::secret::{Prompt, SecretOptions};
use crate::session::lock_state_dir;

/// Run party 0 as a service: serve keygen, sign, refresh, pubkey and health requests of party-1
/// clients for many keys, until stopped.
#[derive(FromArgs, Debug)]
#[argh(
    subcommand,
    help_triggers("-h", "--help", "help"),
    name = "serve",
    example = "{command_name} --listen 0.0.0.0:8443 --certs certs --shares shares\n\
               ecdsa2pc keygen --party 1 --server HOST:8443 --share p1.share   (a client)",
    note = "Party 0's shares live in --shares, one file per key named by its key id (\
            SHA-256 of the compressed public key, 64 hex digits). A key is served only to the \
            client certificate it was made with, one session at a time. --approve runs a \
            program before each sign and refresh with the request as JSON on its stdin \
            (fields operation, key_id, digest, path, and client with address, subject, pid): \
            exit 0 approves, anything else (or no exit within --approve-timeout, or a program \
            that cannot start) refuses with its first output line, which the client prints; \
            what it writes on stderr goes into the log. \
            `ecdsa2pc health` asks a running service for its status. Clients are the \
            usual `ecdsa2pc keygen|sign|refresh --party 1`. With --passphrase-file, --key-file or \
            ECDSA2PC_PASSPHRASE every share is written encrypted and encrypted ones are opened \
            (on a terminal, the passphrase is asked for). Party 0's commitment-parameter secret \
            is ring-pedersen.secret in --shares, encrypted like the shares: made at the first \
            start (a few seconds), loaded at every later one; back it up with the shares. The \
            proof of its parameters is ring-pedersen.proof beside it (public, made at start if \
            missing). One \
            log line per connection, on stderr (--log-format json: one JSON object per line, \
            fields event, peer, client, client_pid, key_id, operation, digest, path, result, \
            refusal, detail, duration_ms; a hook's event also stderr). SIGTERM or SIGINT stops accepting, lets sessions in progress \
            finish, and \
            exits 0.",
    error_code(0, "the service stopped"),
    error_code(
        2,
        "usage or configuration error (bad option, missing certificate file, missing share \
         directory, unreadable passphrase or key file)"
    ),
    error_code(3, "network error (cannot listen)")
)]
pub(crate) struct ServeArgs {
    /// address to listen on (default: $ECDSA2PC_SERVER, else localhost:8443)
    #[argh(option, default = "default_server()")]
    listen: String,
    /// directory holding ca-cert.pem and party 0's certificate and key (default:
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
    /// directory of party 0's share files, one per key (must exist)
    #[argh(option)]
    shares: PathBuf,
    /// file whose first line is the passphrase that encrypts the key shares (or set
    /// ECDSA2PC_PASSPHRASE; on a terminal it is asked for)
    #[argh(option)]
    passphrase_file: Option<PathBuf>,
    /// file holding a 32-byte key (raw, or 64 hex digits) that encrypts the key shares,
    /// instead of a passphrase
    #[argh(option)]
    key_file: Option<PathBuf>,
    /// connections served at once (default: 4, at most 1024)
    #[argh(option, default = "4")]
    workers: usize,
    /// connections in their TLS handshake and request at once, all opened by one thread: a
    /// client that stalls its handshake holds one of these (a socket), never a thread; more
    /// are refused as busy (a few at a time, within a second each) or dropped (default: 1024,
    /// at most 8192; each needs a file descriptor: the open-file limit is raised to fit, or
    /// fewer are opened at once, said in the log)
    #[argh(option, default = "1024")]
    max_handshakes: usize,
    /// requests waiting for a worker; more are refused as busy (default: 64, at most 65536)
    #[argh(option, default = "64")]
    max_connections: usize,
    /// seconds a client has for the TLS handshake and its request (default: 10)
    #[argh(option, default = "10")]
    handshake_timeout: u64,
    /// seconds to wait for each message of a session (default: 60)
    #[argh(option, default = "60")]
    timeout: u64,
    /// seconds a request waits for another session on the same key (default: 10)
    #[argh(option, default = "10")]
    key_wait: u64,
    /// program that approves each sign and refresh request: run without a shell (split at
    /// spaces), the request as JSON on its stdin; exit 0 approves, anything else refuses
    /// with its first output line as the reason
    #[argh(option)]
    approve: Option<String>,
    /// seconds the --approve program has before it is killed and the request refused
    /// (default: 10)
    #[argh(option, default = "10")]
    approve_timeout: u64,
    /// number of party 0's Paillier keys made ahead of time, at the lowest priority, so
    /// that keygen and refresh do not wait for a prime search; 0: none (default: 2)
    #[argh(option, default = "2")]
    paillier_pool: usize,
    /// log format: text (default) or json (one JSON object per line)
    #[argh(option, default = "String::from(\"text\")")]
    log_format: String,
    /// also print the causes of an error
    #[argh(switch, short = 'v')]
    verbose: bool,
}

impl ServeArgs {
    /// The secret options.
    fn secret(&self) -> SecretOptions<'_> {
        SecretOptions {
            passphrase_file: self.passphrase_file.as_deref(),
            key_file: self.key_file.as_deref(),
        }
    }
}

/// Runs the service until it stops; returns the exit status.
pub(crate) fn run(args: &ServeArgs) -> ExitStatus {
    // No --json or --quiet: the service's output is its log, and it has no result.
    let style = Style {
        verbose: args.verbose,
        ..Style::default()
    };
    let log = Log::new("[serve]", style);
    let result = serve(args);
    finish(&log, style, result)
}

/// Upper bounds of the limits: a thread each (workers), a socket and its TLS state each
/// (handshakes), a queue place each (connections); beyond them a mistyped value would
/// exhaust threads, file descriptors or memory.
const MAX_WORKERS: usize = 1024;
const MAX_HANDSHAKES: usize = 8192;
const MAX_CONNECTIONS: usize = 65536;

fn serve(args: &ServeArgs) -> Result<Outcome, CliError> {
    for (option, value, max) in [
        ("--workers", args.workers, MAX_WORKERS),
        ("--max-handshakes", args.max_handshakes, MAX_HANDSHAKES),
        ("--max-connections", args.max_connections, MAX_CONNECTIONS),
    ] {
        if value == 0 || value > max {
            return Err(CliError::Usage(format!(
                "{option} {value}: must be from 1 to {max}"
            )));
        }
    }
    // Seconds, as every command's --timeout: at most a day, so that a deadline never
    // overflows the clock; --key-wait 0 means "busy at once" rather than no wait.
    for (option, value, min) in [
        ("--handshake-timeout", args.handshake_timeout, 1),
        ("--timeout", args.timeout, 1),
        ("--key-wait", args.key_wait, 0),
        ("--approve-timeout", args.approve_timeout, 1),
    ] {
        if !(min..=MAX_TIMEOUT_SECS).contains(&value) {
            return Err(CliError::Usage(format!(
                "{option} {value}: must be from {min} to {MAX_TIMEOUT_SECS} seconds (one day)"
            )));
        }
    }
    let log_format = match args.log_format.as_str() {
        "text" => LogFormat::Text,
        "json" => LogFormat::Json,
        other => {
            return Err(CliError::Usage(format!(
                "--log-format {other}: must be text or json"
            )));
        }
    };
    let approve = match &args.approve {
        None => None,
        Some(command) => Some(
            ApproveHook::parse(command, Duration::from_secs(args.approve_timeout))
                .ok_or_else(|| CliError::Usage("--approve: the command is empty".into()))?,
        ),
    };
    if !args.shares.is_dir() {
        return Err(CliError::Usage(format!(
            "--shares {}: not a directory; create it first (mkdir -m 700 {})",
            args.shares.display(),
            args.shares.display()
        )));
    }
    let config = ServiceConfig {
        workers: args.workers,
        max_openings: args.max_handshakes,
        max_waiting: args.max_connections,
        handshake_timeout: Duration::from_secs(args.handshake_timeout),
        session_timeout: Duration::from_secs(args.timeout),
        key_wait: Duration::from_secs(args.key_wait),
        sealer: args.secret().sealer(Prompt::NewOptional)?,
        lock_dir: lock_state_dir(),
        approve,
        log_format,
        paillier_pool: args.paillier_pool,
        ..ServiceConfig::new(&args.shares)
    };
    // The service's log is progress, not a result: stderr, like every command's.
    // JSON lines stand alone, for a log shipper; text lines carry the usual prefix. The
    // command's own lines go through the service's log too: a JSON log stays JSON from its
    // first line to the service's own "stopped" event.
    let sink: ecdsa2pc_net::service::LogSink = match log_format {
        LogFormat::Json => Arc::new(|line: &str| eprintln!("{line}")),
        LogFormat::Text => Arc::new(|line: &str| eprintln!("[serve] {line}")),
    };
    let say = Logger::new(sink.clone(), log_format);
    if config.sealer.is_none() {
        say.event(
            "warning",
            &format!(
                "warning: no --passphrase-file, --key-file or ECDSA2PC_PASSPHRASE: new key \
                 shares in {} are written unencrypted, and encrypted ones cannot be opened",
                args.shares.display()
            ),
        );
    }
    let paths = CertFiles {
        ca: args.ca.as_deref(),
        cert: args.cert.as_deref(),
        key: args.key.as_deref(),
    }
    .paths(&args.certs, Party::P1)?;
    let service = Service::bind(&args.listen, &paths, config, sink).map_err(|e| match e {
        // The address is --listen's here, not --server's as for the other commands.
        NetError::Transport(TransportError::BadAddress { .. }) => CliError::Usage(format!(
            "{e}; check {}",
            option_or_env("--listen", SERVER_ENV)
        )),
        e => e.into(),
    })?;
    // SIGTERM or SIGINT (Ctrl-C): stop accepting, let the sessions in progress finish
    // (each bounded by the timeouts), exit 0.
    // A second signal ends the process at once (the stop flag is set by the first: the
    // conditional exit is registered before it, so the first one does not trigger it).
    let stop = service.shutdown_handle();
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register_conditional_shutdown(signal, 128 + signal, stop.flag())
            .and_then(|_| signal_hook::flag::register(signal, stop.flag()))
            .map_err(|e| {
                CliError::Usage(format!("cannot install a handler for signal {signal}: {e}"))
            })?;
    }
    let serving = format!(
        "party 0 serving on {} (shares in {}, {} workers, {} Paillier keys made ahead, {})",
        service.local_addr()?,
        args.shares.display(),
        args.workers,
        args.paillier_pool,
        args.approve.as_ref().map_or_else(
            || "no approval hook: every request of a key's own client is approved".to_owned(),
            |c| format!("approval hook: {c}")
        )
    );
    say.event("serving", &serving);
    service.run()?;
    Ok(match log_format {
        LogFormat::Json => Outcome::default(),
        LogFormat::Text => Outcome::summary("service stopped"),
    })
}
