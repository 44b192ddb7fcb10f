//! `ecdsa2pc load`: a load generator for a running `ecdsa2pc serve` (a benchmark, not a test).

use core::str::FromStr;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use core::time::Duration;
use std::path::{Path, PathBuf};
use std::sync::{Barrier, Mutex};
use std::time::Instant;

use argh::FromArgs;
use ecdsa2pc_core::{KeyShare, KeyShareP2, Party, sign};
use ecdsa2pc_net::pins::PinStore;
use ecdsa2pc_net::pool::PresignPool;
use ecdsa2pc_net::request::{self, Operation, Request};
use ecdsa2pc_net::service::{cpu_ms_of, junk};
use ecdsa2pc_net::store::ShareFiles;
use ecdsa2pc_net::{CertPaths, KeyId, connect, driver, epoch, key_id, rng::os_rng};
use k256::ecdsa::VerifyingKey;
use k256::ecdsa::signature::hazmat::PrehashVerifier;
use sha2::{Digest as _, Sha256};

use crate::cmd::bench::{percentile, table_storage};
use crate::cmd::health;
use crate::error::{CliError, ExitStatus};
use crate::network::{CertFiles, Net, default_certs, default_server};
use crate::output::{Log, Outcome, Style};

/// Load-test a running `ecdsa2pc serve`: C concurrent party-1 clients in this process sign
/// M times each over K keys; prints throughput, latency, the service's CPU per signature and
/// the error count.
#[derive(FromArgs, Debug)]
#[argh(
    subcommand,
    help_triggers("-h", "--help", "help"),
    name = "load",
    example = "{command_name} --server localhost:8443 --certs certs --shares load-shares --clients 8 --signs 50\n\
               {command_name} --server localhost:8443 --certs certs --shares load-shares --clients 8 --signs 50 --junk",
    note = "The keys are party 1's share files load-0.share ... in --shares (made with the \
            service by keygen first if missing, then reused). Client i signs with key i mod K, \
            so keys shared by several clients serialize at the service. Each key's \
            fixed-base table, and each client's --signs presigns (made with the C', g and h \
            tables, as a presign pool makes them; --presign inline: within each signature instead), are made \
            before the clock starts; a signature's latency runs \
            from connect to a verified signature (every one is verified with k256). The \
            service's CPU time comes from /proc/PID/stat with --server-pid, else from its \
            health reply, divided by the signatures made meanwhile. --junk adds a thread \
            that keeps sending plain TCP connects, TLS handshakes without a client \
            certificate and stalled connections (held 1 s). The summary row goes to stdout \
            (--json: one object); exit 1 if any signature failed or the presigns were not \
            ready in time.",
    error_code(0, "every signature was made and verified"),
    error_code(
        1,
        "some signature failed (the count and the first errors are printed), or the \
         presigns were not ready within 10 times --timeout (at least 600 s), before the run"
    ),
    error_code(2, "usage or configuration error"),
    error_code(3, "network error before the run (cannot reach the service)")
)]
pub(crate) struct LoadArgs {
    /// address the service listens on (default: $ECDSA2PC_SERVER, else localhost:8443)
    #[argh(option, default = "default_server()")]
    server: String,
    /// directory holding ca-cert.pem and party 1's certificate and key (default:
    /// $ECDSA2PC_CERTS, else ./certs)
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
    /// directory of party 1's load-test shares (created if missing)
    #[argh(option)]
    shares: PathBuf,
    /// concurrent clients (default: 8)
    #[argh(option, default = "8")]
    clients: usize,
    /// signatures per client (default: 20)
    #[argh(option, default = "20")]
    signs: usize,
    /// keys to spread the clients over (default: one per client)
    #[argh(option)]
    keys: Option<usize>,
    /// mix in junk connections: plain TCP, TLS without a certificate, stalled clients
    #[argh(switch)]
    junk: bool,
    /// process id of the service, to read its CPU time from /proc (default: its health reply)
    #[argh(option)]
    server_pid: Option<u32>,
    /// window of each client's fixed-base table in bits, 0 for none (default: 4)
    #[argh(option, default = "4")]
    window: u32,
    /// when each client presigns: ahead (default: before the clock starts, with the g/h
    /// tables, as a client with a presign pool has them ready) or inline (within each
    /// signature)
    #[argh(option, default = "Presign::Ahead")]
    presign: Presign,
    /// seconds to wait for the service: to connect, and for each message (default: 120)
    #[argh(option, default = "120")]
    timeout: u64,
    /// also print the causes of an error
    #[argh(switch, short = 'v')]
    verbose: bool,
    /// print the result as one JSON object on stdout
    #[argh(switch)]
    json: bool,
    /// print nothing on stderr but errors
    #[argh(switch, short = 'q')]
    quiet: bool,
}

/// When the load clients make their presigns (`--presign`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Presign {
    /// All of them before the clock starts, as a client's presign pool has them ready: the run
    /// measures the online step.
    Ahead,
    /// Each within its signature, at message 3: the run measures the whole signature.
    Inline,
}

impl FromStr for Presign {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name {
            "ahead" => Ok(Self::Ahead),
            "inline" => Ok(Self::Inline),
            other => Err(format!(
                "unknown presign mode '{other}': use ahead (presign before the clock starts) \
                 or inline (presign within each signature)"
            )),
        }
    }
}

/// Runs the load test; returns the exit status.
pub(crate) fn run(args: &LoadArgs) -> ExitStatus {
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
    net.run(style, |log| load(args, &net.cert_paths()?, log))
}

/// One load-test key: party 1's share files, its id and public key.
struct LoadKey {
    files: ShareFiles,
    id: KeyId,
    share: KeyShareP2,
}

fn load(args: &LoadArgs, paths: &CertPaths, log: &Log) -> Result<Outcome, CliError> {
    let keys = args.keys.unwrap_or(args.clients);
    if args.clients == 0 || args.signs == 0 || keys == 0 {
        return Err(CliError::Usage(
            "--clients, --signs and --keys must be at least 1".into(),
        ));
    }
    std::fs::create_dir_all(&args.shares).map_err(|source| CliError::File {
        path: args.shares.clone(),
        action: "create the directory",
        source,
    })?;
    // Checked before any key is made.
    let table = table_storage(args.window)?;
    let timeout = Duration::from_secs(args.timeout);
    let keys = (0..keys)
        .map(|n| {
            load_key(
                args,
                paths,
                &args.shares.join(format!("load-{n}.share")),
                log,
            )
        })
        .collect::<Result<Vec<_>, _>>()?;

    // Warm state: each key's fixed-base table, built before the clock starts.
    let started = Instant::now();
    let mut storage: Vec<_> = keys.iter().map(|_| table.clone()).collect();
    let tables = keys
        .iter()
        .zip(storage.iter_mut())
        .map(|(key, storage)| {
            if args.window == 0 {
                return Ok(None);
            }
            sign::p2::Precomputed::new(&key.share, args.window, storage)
                .map(Some)
                .map_err(|e| {
                    CliError::Usage(format!(
                        "--window {}: {e} (use 0 to {})",
                        args.window,
                        ecdsa2pc_core::MAX_WINDOW
                    ))
                })
        })
        .collect::<Result<Vec<_>, CliError>>()?;
    log.line(format_args!(
        "{} keys ready, tables (w={}) built in {} ms",
        keys.len(),
        args.window,
        started.elapsed().as_millis()
    ));
    let pools = presign_pools(args, &keys, log)?;

    let before = server_cpu(args, paths)?;
    let latencies = Mutex::new(Vec::with_capacity(args.clients * args.signs));
    let errors = Mutex::new(Vec::new());
    let junk_sent = AtomicU64::new(0);
    let done = AtomicBool::new(false);
    let barrier = Barrier::new(args.clients + 1);
    let mut elapsed = Duration::ZERO;
    // Each pool moves to its client's thread (a pool's receiver serves one thread).
    let mut pools = pools.into_iter();
    std::thread::scope(|s| {
        let mut clients = Vec::with_capacity(args.clients);
        for client in 0..args.clients {
            let (key, table, pool) = (
                keys.get(client % keys.len()),
                tables.get(client % keys.len()),
                pools.next().flatten(),
            );
            let (paths, latencies, errors, barrier) = (paths, &latencies, &errors, &barrier);
            clients.push(s.spawn(move || {
                barrier.wait();
                let (Some(key), Some(table)) = (key, table) else {
                    return;
                };
                for n in 0..args.signs {
                    let digest: [u8; 32] = Sha256::digest(format!("load {client} {n}")).into();
                    let start = Instant::now();
                    let accel = driver::Accel {
                        table: table.as_ref(),
                        pool: pool.as_ref(),
                    };
                    match sign_once(&args.server, paths, key, &accel, &digest, timeout) {
                        Ok(()) => lock(latencies).push(start.elapsed()),
                        Err(e) => lock(errors).push(format!("client {client}: {e}")),
                    }
                }
            }));
        }
        if args.junk {
            let (server, ca, done, junk_sent) = (&args.server, &paths.ca, &done, &junk_sent);
            s.spawn(move || {
                while !done.load(Ordering::Relaxed) {
                    let _ = junk::plain_tcp(server);
                    let _ = junk::tls_without_certificate(server, ca, Duration::from_secs(5));
                    let _ = junk::stalled(server, Duration::from_secs(1));
                    junk_sent.fetch_add(3, Ordering::Relaxed);
                }
            });
        }
        let start = Instant::now();
        barrier.wait();
        // The clients end on their own; the junk thread when told.
        for (n, client) in clients.into_iter().enumerate() {
            if client.join().is_err() {
                lock(&errors).push(format!("client {n}: its thread panicked"));
            }
        }
        elapsed = start.elapsed();
        done.store(true, Ordering::Relaxed);
    });
    let after = server_cpu(args, paths)?;

    let mut latencies = latencies.into_inner().unwrap_or_else(|e| e.into_inner());
    let errors = errors.into_inner().unwrap_or_else(|e| e.into_inner());
    latencies.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let ok = latencies.len();
    let per_sec = ok as f64 / elapsed.as_secs_f64().max(1e-9);
    let (p50, p99, max) = (
        percentile(&latencies, 50),
        percentile(&latencies, 99),
        latencies.last().copied().unwrap_or_default(),
    );
    // The service's CPU per signature it made over the run.
    let cpu_per_sig = match (before, after) {
        (Some((cpu0, sigs0)), Some((cpu1, sigs1))) => {
            let sigs = sigs1.map_or(ok as u64, |s1| s1.saturating_sub(sigs0.unwrap_or(0)));
            (sigs > 0).then(|| cpu1.saturating_sub(cpu0) as f64 / sigs as f64)
        }
        _ => None,
    };
    let cpu_text = cpu_per_sig.map_or_else(|| "n/a".to_owned(), |c| format!("{c:.2}"));
    let row = format!(
        "| {:>7} | {:>4} | {:>5} | {:>6} | {:>8.1} | {:>8.1} | {:>8.1} | {:>8.1} | {:>10} | {:>5} |",
        args.clients,
        keys.len(),
        ok,
        errors.len(),
        per_sec,
        ms(p50),
        ms(p99),
        ms(max),
        cpu_text,
        if args.junk {
            junk_sent.load(Ordering::Relaxed).to_string()
        } else {
            "-".to_owned()
        }
    );
    log.line("| clients | keys | signs | errors |    sig/s |  p50 ms  |  p99 ms  |  max ms  | CPU ms/sig |  junk |");
    log.line("|---------|------|-------|--------|----------|----------|----------|----------|------------|-------|");
    log.line(&row);
    for e in errors.iter().take(5) {
        log.line(format_args!("error: {e}"));
    }
    let outcome = Outcome::summary(format!(
        "{ok} signatures in {:.1} s, {} errors",
        elapsed.as_secs_f64(),
        errors.len()
    ))
    .text(&row)
    .field("command", "load")
    .field("clients", args.clients)
    .field("keys", keys.len())
    .field("signatures", ok)
    .field("errors", errors.len())
    .field("seconds", elapsed.as_secs_f64())
    .field("per_second", per_sec)
    .field("p50_ms", ms(p50))
    .field("p99_ms", ms(p99))
    .field("max_ms", ms(max))
    .field("server_cpu_ms_per_signature", cpu_per_sig)
    .field("junk_connections", junk_sent.load(Ordering::Relaxed));
    if errors.is_empty() {
        Ok(outcome)
    } else {
        Err(CliError::Verification(format!(
            "{} of {} signatures failed; first: {}",
            errors.len(),
            args.clients * args.signs,
            errors.first().map_or("", String::as_str)
        )))
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The service's CPU time in ms and, from its health reply, its signature count.
fn server_cpu(args: &LoadArgs, paths: &CertPaths) -> Result<Option<(u64, Option<u64>)>, CliError> {
    if let Some(pid) = args.server_pid {
        return Ok(cpu_ms_of(&pid.to_string()).map(|cpu| (cpu, None)));
    }
    let h = health::ask(&args.server, paths, args.timeout)?;
    Ok(h.cpu_ms.map(|cpu| (cpu, Some(h.signatures))))
}

/// Party 1's share at `path`, made with the service by keygen first if missing.
fn load_key(
    args: &LoadArgs,
    paths: &CertPaths,
    path: &Path,
    log: &Log,
) -> Result<LoadKey, CliError> {
    let files = ShareFiles::new(path);
    if !files.exists() {
        let started = Instant::now();
        let mut ch = connect(&args.server, paths, Duration::from_secs(args.timeout))?;
        request::ask(&mut ch, &Request::keygen())?;
        let info = ch.info().clone();
        // Party 0's parameters pinned beside the load-test shares: the proof is checked at
        // the first key only.
        let pins = PinStore::new(&args.shares.join("pins"));
        driver::keygen_p2_persisted(
            &mut ch,
            &mut os_rng()?,
            &driver::context(&info),
            &mut |msg, owner| pins.check(msg, owner, &mut |event| log.line(event)),
            &mut files.clone(),
        )?;
        let _ = ch.close();
        log.line(format_args!(
            "made key {} in {} ms",
            path.display(),
            started.elapsed().as_millis()
        ));
    }
    let share = files
        .load_active::<KeyShareP2>()
        .map_err(ecdsa2pc_net::NetError::from)?;
    Ok(LoadKey {
        id: key_id(&share.public().q),
        files,
        share,
    })
}

/// Each client's presigns, made before the clock starts: one batch pool per client of
/// `--signs` presigns (each pool thread builds its own C' and g/h tables, as a client's
/// presign pool does), waited for until full, so that the run measures the online step and
/// no refill competes with the service for the cores. None with `--presign inline`.
fn presign_pools(
    args: &LoadArgs,
    keys: &[LoadKey],
    log: &Log,
) -> Result<Vec<Option<PresignPool>>, CliError> {
    if args.presign == Presign::Inline {
        return Ok((0..args.clients).map(|_| None).collect());
    }
    let started = Instant::now();
    let pools = (0..args.clients)
        .map(|client| match keys.get(client % keys.len()) {
            Some(key) => Ok(Some(PresignPool::batch(&key.share, args.signs)?)),
            None => Ok(None),
        })
        .collect::<Result<Vec<_>, CliError>>()?;
    wait_for_presigns(
        || pools.iter().flatten().map(PresignPool::ready).sum(),
        args.clients * args.signs,
        Duration::from_secs(args.timeout.max(60) * 10),
    )?;
    log.line(format_args!(
        "{} presigns (with C', g and h tables) made in {} ms",
        args.clients * args.signs,
        started.elapsed().as_millis()
    ));
    Ok(pools)
}

/// Polls `ready` until it reaches `wanted`, for at most `limit`.
///
/// # Errors
/// [`CliError::Deadline`] if fewer are ready after `limit`: the presign threads are too slow
/// for this many (or one of them stopped); a runtime failure, not a bad command line.
fn wait_for_presigns(
    ready: impl Fn() -> usize,
    wanted: usize,
    limit: Duration,
) -> Result<(), CliError> {
    let started = Instant::now();
    loop {
        let ready = ready();
        if ready >= wanted {
            return Ok(());
        }
        if started.elapsed() > limit {
            return Err(CliError::Deadline(format!(
                "presigning: {ready} of {wanted} ready after {} s, before the run started; \
                 use fewer --clients or --signs, or --presign inline",
                started.elapsed().as_secs()
            )));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// One signature: connect, request, epoch agreement, sign, verify.
fn sign_once(
    server: &str,
    paths: &CertPaths,
    key: &LoadKey,
    accel: &driver::Accel<'_, '_>,
    digest: &[u8; 32],
    timeout: Duration,
) -> Result<(), CliError> {
    let held = key
        .files
        .load::<KeyShareP2>()
        .map_err(ecdsa2pc_net::NetError::from)?;
    let mut ch = connect(server, paths, timeout)?;
    request::ask(&mut ch, &Request::on_key(Operation::Sign(*digest), key.id))?;
    let share = epoch::agree(&mut ch, &key.files, held)?;
    let info = ch.info().clone();
    let sig = driver::sign_p2_with(
        &mut ch,
        &mut os_rng()?,
        &share,
        &driver::context(&info),
        digest,
        &ecdsa2pc_core::bip32::DerivationPath::MASTER,
        accel,
    )?;
    let _ = ch.close();
    VerifyingKey::from_affine(share.public().q)
        .and_then(|k| k.verify_prehash(digest, &sig))
        .map_err(|_| CliError::Verification("a signature does not verify".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ExitStatus;

    #[test]
    fn presign_modes_parse() {
        assert_eq!("ahead".parse(), Ok(Presign::Ahead));
        assert_eq!("inline".parse(), Ok(Presign::Inline));
        assert!("".parse::<Presign>().is_err());
    }

    #[test]
    fn presigns_not_ready_in_time_are_a_runtime_failure() {
        let e = wait_for_presigns(|| 3, 4, Duration::ZERO).unwrap_err();
        assert!(matches!(e, CliError::Deadline(_)), "{e:?}");
        assert_eq!(e.exit_status(), ExitStatus::Failure);
        let text = e.to_string();
        assert!(
            text.starts_with("presigning: 3 of 4 ready after 0 s, before the run started")
                && text.contains("--presign inline"),
            "{text}"
        );
        // Enough ready: no wait, whatever the limit.
        assert!(wait_for_presigns(|| 4, 4, Duration::ZERO).is_ok());
    }
}
