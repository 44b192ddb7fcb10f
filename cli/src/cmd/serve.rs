//! `ecdsa2pc serve`: party 0 as a long-running co-signer for many clients and keys.

use core::time::Duration;
use std::path::PathBuf;
use std::sync::Arc;

use argh::FromArgs;
use ecdsa2pc_core::Party;
use ecdsa2pc_net::CertPaths;
use ecdsa2pc_net::service::{Service, ServiceConfig};

use crate::error::{CliError, ExitStatus};
use crate::network::DEFAULT_SERVER;
use crate::output::{Log, finish, report_error};

/// Run party 0 as a service: serve keygen, sign, refresh and pubkey requests of party-1
/// clients for many keys, until stopped.
#[derive(FromArgs, Debug)]
#[argh(
    subcommand,
    name = "serve",
    example = "{command_name} --listen 0.0.0.0:8443 --certs certs --shares shares\n\
               ecdsa2pc keygen --party 1 --server HOST:8443 --share p1.share   (a client)",
    note = "Party 0's shares live in --shares, one file per key named by its key id (the first \
            16 bytes of SHA-256 of the compressed public key, in hex). A key is served only to \
            the client certificate it was made with, one session at a time. Clients are the \
            usual `ecdsa2pc keygen|sign|refresh --party 1`. One log line per connection. SIGTERM \
            or SIGINT stops accepting, lets sessions in progress finish, and exits 0.",
    error_code(0, "the service stopped"),
    error_code(
        2,
        "usage or configuration error (bad option, missing certificate file, missing share \
         directory)"
    ),
    error_code(3, "network error (cannot listen)")
)]
pub(crate) struct ServeArgs {
    /// address to listen on (default: localhost:8443)
    #[argh(option, default = "DEFAULT_SERVER.to_owned()")]
    listen: String,
    /// directory holding ca-cert.pem and party 0's certificate and key (default: ./certs)
    #[argh(option, default = "PathBuf::from(\"certs\")")]
    certs: PathBuf,
    /// directory of party 0's share files, one per key (must exist)
    #[argh(option)]
    shares: PathBuf,
    /// connections served at once (default: 4)
    #[argh(option, default = "4")]
    workers: usize,
    /// accepted connections waiting for a worker; more are dropped (default: 64)
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
    /// also print the causes of an error
    #[argh(switch, short = 'v')]
    verbose: bool,
}

/// Runs the service until it stops; returns the exit status.
pub(crate) fn run(args: &ServeArgs) -> ExitStatus {
    if args.workers == 0 || args.max_connections == 0 {
        let err = CliError::Usage("--workers and --max-connections must be at least 1".into());
        report_error(&err, args.verbose);
        return err.exit_status();
    }
    if args.handshake_timeout == 0 || args.timeout == 0 {
        let err = CliError::Usage("--handshake-timeout and --timeout must be at least 1".into());
        report_error(&err, args.verbose);
        return err.exit_status();
    }
    let log = Log::new("[serve]", args.verbose);
    let result = serve(args, &log);
    finish(&log, args.verbose, result)
}

fn serve(args: &ServeArgs, log: &Log) -> Result<String, CliError> {
    if !args.shares.is_dir() {
        return Err(CliError::Usage(format!(
            "--shares {}: not a directory; create it first (mkdir -m 700 {})",
            args.shares.display(),
            args.shares.display()
        )));
    }
    let config = ServiceConfig {
        workers: args.workers,
        max_waiting: args.max_connections,
        handshake_timeout: Duration::from_secs(args.handshake_timeout),
        session_timeout: Duration::from_secs(args.timeout),
        key_wait: Duration::from_secs(args.key_wait),
        ..ServiceConfig::new(&args.shares)
    };
    let paths = CertPaths::for_party(&args.certs, Party::P1);
    let sink = Arc::new(|line: &str| println!("[serve] {line}"));
    let service = Service::bind(&args.listen, &paths, config, sink)?;
    // SIGTERM or SIGINT (Ctrl-C): stop accepting, let the sessions in progress finish
    // (each bounded by the timeouts), exit 0.
    let stop = service.shutdown_handle();
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(signal, stop.flag()).map_err(|e| {
            CliError::Usage(format!("cannot install a handler for signal {signal}: {e}"))
        })?;
    }
    log.line(format_args!(
        "party 0 serving on {} (shares in {}, {} workers)",
        service.local_addr()?,
        args.shares.display(),
        args.workers
    ));
    service.run()?;
    Ok("service stopped".to_owned())
}
