//! `ecdsa2pc health`: ask a running `ecdsa2pc serve` for its status, for a monitoring check.

use core::time::Duration;
use std::path::PathBuf;

use argh::FromArgs;
use ecdsa2pc_core::Party;
use ecdsa2pc_net::service::{Health, fetch_health};
use ecdsa2pc_net::{CertPaths, connect};

use crate::error::{CliError, ExitStatus};
use crate::network::{CertFiles, Net, default_certs, default_server};
use crate::output::{Outcome, Style};

/// Ask a running `ecdsa2pc serve` for its status (no key, no protocol run): exit 0 if it
/// answers, non-zero if not.
#[derive(FromArgs, Debug)]
#[argh(
    subcommand,
    help_triggers("-h", "--help", "help"),
    name = "health",
    example = "{command_name} --server localhost:8443 --certs certs\n\
               {command_name} --server localhost:8443 --certs certs --json --timeout 5",
    note = "Connects as party 1 over mutual TLS (any client certificate of the service's CA) \
            and prints the service's release, protocol version, number of keys, uptime, busy \
            and total workers, requests ok and failed, signatures made, the CPU time it has \
            used and its Paillier key pool (keys ready of the target, keys taken from it, keys \
            made inline because it was empty). With --json the same as one JSON object (`ok`: true, and the fields of the \
            health reply).",
    error_code(0, "the service answered"),
    error_code(1, "the service refused the request or answered something else"),
    error_code(
        2,
        "usage or configuration error (bad option, missing certificate file)"
    ),
    error_code(3, "network error (cannot connect, timeout, TLS handshake failure)")
)]
pub(crate) struct HealthArgs {
    /// address the service listens on (default: $ECDSA2PC_SERVER, else localhost:8443)
    #[argh(option, default = "default_server()")]
    server: String,
    /// directory holding ca-cert.pem and a client certificate and key of the service's CA
    /// (default: $ECDSA2PC_CERTS, else ./certs)
    #[argh(option, default = "default_certs()")]
    certs: PathBuf,
    /// CA certificate file (PEM) to use instead of ca-cert.pem in --certs
    #[argh(option)]
    ca: Option<PathBuf>,
    /// party 1's certificate file (PEM) to use instead of the one in --certs
    #[argh(option)]
    cert: Option<PathBuf>,
    /// party 1's private key file (PEM) to use instead of the one in --certs
    #[argh(option)]
    key: Option<PathBuf>,
    /// seconds to wait for the service (default: 10)
    #[argh(option, default = "10")]
    timeout: u64,
    /// also print the causes of an error
    #[argh(switch, short = 'v')]
    verbose: bool,
    /// print the status as one JSON object on stdout
    #[argh(switch)]
    json: bool,
    /// print nothing on stderr but errors
    #[argh(switch, short = 'q')]
    quiet: bool,
}

/// Asks for the status; prints it; returns the exit status.
pub(crate) fn run(args: &HealthArgs) -> ExitStatus {
    let net = Net {
        party: Party::P2,
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
    net.run(style, |_| {
        let health = ask(&args.server, &net.cert_paths()?, args.timeout)?;
        Ok(outcome(&health))
    })
}

/// One health request to the service at `server`, as client of the certificates in `certs`.
pub(crate) fn ask(server: &str, paths: &CertPaths, timeout: u64) -> Result<Health, CliError> {
    let mut ch = connect(server, paths, Duration::from_secs(timeout))?;
    let health = fetch_health(&mut ch)?;
    let _ = ch.close();
    Ok(health)
}

fn outcome(h: &Health) -> Outcome {
    let cpu = h
        .cpu_ms
        .map_or_else(|| "unknown".to_owned(), |ms| format!("{ms} ms"));
    let text = format!(
        "ecdsa2pc {} (protocol {}): {} keys, up {} s, {}/{} workers busy, {} requests ok, {} \
         failed, {} signatures, CPU {cpu}, Paillier keys {}/{} ready ({} taken, {} made \
         inline)",
        h.version,
        h.protocol,
        h.keys,
        h.uptime_secs,
        h.busy_workers,
        h.workers,
        h.ok,
        h.failed,
        h.signatures,
        h.paillier_pool.ready,
        h.paillier_pool.target,
        h.paillier_pool.taken,
        h.paillier_pool.inline
    );
    let mut outcome = Outcome::summary("the service answered").text(text);
    if let serde_json::Value::Object(fields) = h.to_json() {
        outcome.json.extend(fields);
    }
    outcome
}
