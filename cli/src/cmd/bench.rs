//! `ecdsa2pc bench`: keygens, signatures and refreshes over one real mutual-TLS connection
//! between two processes; prints median, p99 and throughput per operation.

use core::time::Duration;
use std::path::PathBuf;
use std::time::Instant;

use argh::FromArgs;
use ecdsa2pc_core::{KeyShareP1, KeyShareP2, ModNN, ParamsMsg, Party, RingPedersenParams, sign};
use ecdsa2pc_net::{
    Channel, Pid, driver,
    paillier::new_paillier_key,
    params_msg::ParamsMsgCache,
    params_secret, pins,
    pool::PresignPool,
    request::{BenchCounts, Operation, Request},
};
use sha2::{Digest, Sha256};

use crate::error::{CliError, ExitStatus};
use crate::network::{CertFiles, DEFAULT_TIMEOUT_SECS, Net, default_certs, default_server};
use crate::output::{Log, Outcome, Style};
use crate::session::Session;

/// Measure keygen, sign and refresh end to end between two processes (run both parties with
/// the same counts); party 1 signs with its fixed-base table and a pool of precomputed
/// signing work (made with the C', g and h tables), party 0 with its trapdoor tables.
#[derive(FromArgs, Debug)]
#[argh(
    subcommand,
    help_triggers("-h", "--help", "help"),
    name = "bench",
    example = "{command_name} --party 0 --signs 500 & {command_name} --party 1 --signs 500",
    note = "All timings are wall-clock latencies of one party, from its first message to its \
            result, over one persistent connection; keygen and refresh include party 0's \
            Paillier key generation; party 0's commitment parameters and their proof are made once, \
            before the timed keygens, and party 1 checks that proof at the first keygen only, \
            as its pins do. Signing \
            includes party 1's proof that its ciphertext is well formed and party 0's check of \
            it, on the fast path a long-running pair has: party 1 takes its message-independent \
            work from its presign pool (made with its C', g and h tables) and uses its C' table \
            online; party 0 checks with its trapdoor tables; the tables are built before the \
            timed signatures. Each party prints its own table; bench.sh runs both and prints both."
)]
pub(crate) struct BenchArgs {
    /// which party this process is: 0 (listens) or 1 (connects)
    #[argh(option)]
    party: Party,
    /// address party 0 listens on and party 1 connects to (default: $ECDSA2PC_SERVER, else
    /// localhost:8443)
    #[argh(option, default = "default_server()")]
    server: String,
    /// directory holding ca-cert.pem and this party's certificate and key (default:
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
    /// seconds to wait for the peer (default: 60)
    #[argh(option, default = "DEFAULT_TIMEOUT_SECS")]
    timeout: u64,
    /// number of keygens (default: 5)
    #[argh(option, default = "5")]
    keygens: usize,
    /// number of signatures (default: 300)
    #[argh(option, default = "300")]
    signs: usize,
    /// number of refreshes (default: 5)
    #[argh(option, default = "5")]
    refreshes: usize,
    /// window of party 1's fixed-base table in bits, 0 for none (default: 4, 1 MiB)
    #[argh(option, default = "4")]
    window: u32,
    /// signatures' worth of precomputed work party 1 keeps ready, 0 for no pool (default: 64)
    #[argh(option, default = "64")]
    pool: usize,
    /// also print TLS details
    #[argh(switch, short = 'v')]
    verbose: bool,
    /// print the result as one JSON object on stdout
    #[argh(switch)]
    json: bool,
    /// print nothing on stderr but errors
    #[argh(switch, short = 'q')]
    quiet: bool,
}

/// The largest presign pool `--pool` asks for (about 32 MiB).
const MAX_POOL: usize = 4096;

/// Runs the benchmark as one party, which prints its own table.
pub(crate) fn run(args: &BenchArgs) -> ExitStatus {
    let net = Net {
        party: args.party,
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
    net.run(style, |log| {
        if args.keygens == 0 {
            return Err(CliError::Usage(
                "--keygens must be at least 1 (signing needs a key)".to_owned(),
            ));
        }
        // Checked before the peer is involved: a bad value must not leave it waiting.
        if args.pool > MAX_POOL {
            return Err(CliError::Usage(format!(
                "--pool {}: at most {MAX_POOL} (each entry holds a signature's precomputed \
                 work, about 8 KiB)",
                args.pool
            )));
        }
        table_len(args.window)?;
        bench(args, &net, log)
    })
}

/// Latencies of one operation.
struct Series {
    name: &'static str,
    samples: Vec<Duration>,
    total: Duration,
}

impl Series {
    fn new(name: &'static str) -> Self {
        Self {
            name,
            samples: Vec::new(),
            total: Duration::ZERO,
        }
    }

    fn time<T>(&mut self, f: impl FnOnce() -> Result<T, CliError>) -> Result<T, CliError> {
        let start = Instant::now();
        let out = f()?;
        let took = start.elapsed();
        self.samples.push(took);
        self.total += took;
        Ok(out)
    }

    fn row(&self) -> String {
        let mut v = self.samples.clone();
        v.sort();
        let pick = |percent: usize| percentile(&v, percent);
        let per_sec = if self.total.is_zero() {
            0.0
        } else {
            v.len() as f64 / self.total.as_secs_f64()
        };
        format!(
            "| {:<8} | {:>5} | {:>10.2} | {:>10.2} | {:>10.1} |",
            self.name,
            v.len(),
            pick(50).as_secs_f64() * 1e3,
            pick(99).as_secs_f64() * 1e3,
            per_sec
        )
    }
}

fn bench(args: &BenchArgs, net: &Net<'_>, log: &Log) -> Result<Outcome, CliError> {
    // Made once per party-0 identity in real use: not part of any timed operation.
    let params = match args.party {
        Party::P1 => {
            log.line(params_secret::MAKING);
            Some(params_secret::new_params_secret()?)
        }
        Party::P2 => None,
    };
    let Session {
        mut ch,
        info,
        mut rng,
    } = Session::open(
        net,
        log,
        &Request::keyless(Operation::Bench(BenchCounts {
            keygens: args.keygens as u64,
            signs: args.signs as u64,
            refreshes: args.refreshes as u64,
        })),
    )?;
    // Party 0's Paillier key generation can outlast a short timeout.
    ch.set_timeout(Duration::from_secs(args.timeout.max(120)))?;
    let ctx = driver::context(&info);
    let (mut keygen, mut signing, mut refresh) = (
        Series::new("keygen"),
        Series::new("sign"),
        Series::new("refresh"),
    );

    let rows = match args.party {
        Party::P1 => {
            let params = params
                .as_ref()
                .ok_or_else(|| CliError::Usage("no commitment parameters".to_owned()))?;
            // Proved once per party-0 identity in real use (kept beside the secret): made
            // here, untimed.
            let params_msgs = ParamsMsgCache::in_memory();
            params_msgs.get(&mut rng, params, &ctx.own_pid);
            let mut share: Option<KeyShareP1> = None;
            for _ in 0..args.keygens {
                share = Some(keygen.time(|| {
                    let (key, _) = new_paillier_key()?;
                    Ok(driver::keygen_p1_persisted(
                        &mut ch,
                        &mut rng,
                        &ctx,
                        key,
                        params,
                        &params_msgs,
                        &mut driver::InMemory,
                    )?)
                })?);
            }
            let mut share = share.ok_or_else(|| CliError::Usage("no keygen ran".to_owned()))?;
            // As the service does: the trapdoor tables of π_c3's check, built once, untimed.
            let started = Instant::now();
            let mut storage = ecdsa2pc_net::service::trapdoor_storage();
            let tables = ecdsa2pc_net::service::trapdoor_tables(params, &mut storage);
            log.line(format_args!(
                "precomputation: trapdoor tables {} in {:.1} ms",
                if tables.is_some() { "built" } else { "refused" },
                started.elapsed().as_secs_f64() * 1e3
            ));
            for i in 0..args.signs {
                let digest: [u8; 32] = Sha256::digest(i.to_be_bytes()).into();
                signing.time(|| {
                    Ok(driver::sign_p1_persisted_with(
                        &mut ch,
                        &mut rng,
                        &mut share,
                        params,
                        tables.as_ref(),
                        // As the service checks: in sequence, its cores busy with other sessions.
                        &ecdsa2pc_core::work::Sequential,
                        &ctx,
                        &digest,
                        &ecdsa2pc_core::bip32::DerivationPath::MASTER,
                        &mut driver::InMemory,
                    )?)
                })?;
            }
            for _ in 0..args.refreshes {
                share = refresh.time(|| {
                    let (key, _) = new_paillier_key()?;
                    Ok(driver::refresh_p1(
                        &mut ch,
                        &mut rng,
                        &share,
                        &ctx,
                        key,
                        &mut driver::InMemory,
                    )?)
                })?;
            }
            [keygen.row(), signing.row(), refresh.row()]
        }
        Party::P2 => {
            // As party 1's pins do: the parameter proof checked at the first keygen, then the
            // same parameters from the same party 0 accepted as pinned.
            let mut pinned: Option<(Pid, RingPedersenParams)> = None;
            let mut accept = |msg: &ParamsMsg, owner: &Pid| match pinned {
                Some((pid, params)) if pid == *owner && params == *msg.params() => Ok(params),
                _ => {
                    let params = pins::verify(msg, owner)?;
                    pinned = Some((*owner, params));
                    Ok(params)
                }
            };
            let mut share: Option<KeyShareP2> = None;
            for _ in 0..args.keygens {
                share = Some(
                    keygen.time(|| Ok(driver::keygen_p2(&mut ch, &mut rng, &ctx, &mut accept)?))?,
                );
            }
            let mut share = share.ok_or_else(|| CliError::Usage("no keygen ran".to_owned()))?;
            sign_as_p2(args, &mut ch, &mut rng, &share, &ctx, &mut signing, log)?;
            for _ in 0..args.refreshes {
                share = refresh.time(|| {
                    Ok(driver::refresh_p2(
                        &mut ch,
                        &mut rng,
                        &share,
                        &ctx,
                        &mut driver::InMemory,
                    )?)
                })?;
            }
            [keygen.row(), signing.row(), refresh.row()]
        }
    };
    Session { ch, info, rng }.close(log);
    log.line("| op       |     n | median ms  |    p99 ms  |   ops/s    |");
    log.line("|----------|-------|------------|------------|------------|");
    for row in &rows {
        log.line(row);
    }
    // The table stays in the log (bench.sh reads it there); `--json` carries its rows.
    Ok(Outcome::summary(format!(
        "benchmark done ({} keygens, {} signatures, {} refreshes)",
        args.keygens, args.signs, args.refreshes
    ))
    .field("command", "bench")
    .field("party", args.party.index())
    .field("table", rows.to_vec()))
}

fn sign_as_p2(
    args: &BenchArgs,
    ch: &mut Channel,
    rng: &mut rand_chacha::ChaCha20Rng,
    share: &KeyShareP2,
    ctx: &ecdsa2pc_core::Context<'_>,
    signing: &mut Series,
    log: &Log,
) -> Result<(), CliError> {
    let started = Instant::now();
    let mut storage = table_storage(args.window)?;
    let table_kib = storage.len() * size_of::<ModNN>() / 1024;
    let table = if args.window == 0 {
        None
    } else {
        Some(
            sign::p2::Precomputed::new(share, args.window, &mut storage).map_err(|e| {
                CliError::Usage(format!(
                    "--window {}: {e} (use 1 to {})",
                    args.window,
                    ecdsa2pc_core::MAX_WINDOW
                ))
            })?,
        )
    };
    let pool = if args.pool == 0 {
        None
    } else {
        Some(PresignPool::spawn(share, args.pool)?)
    };
    log.line(format_args!(
        "precomputation: table w={} ({} KiB) built in {:.1} ms; presign pool of {}",
        args.window,
        table_kib,
        started.elapsed().as_secs_f64() * 1e3,
        args.pool
    ));
    let accel = driver::Accel {
        table: table.as_ref(),
        pool: pool.as_ref(),
    };
    for i in 0..args.signs {
        let digest: [u8; 32] = Sha256::digest(i.to_be_bytes()).into();
        signing.time(|| {
            Ok(driver::sign_p2_with(
                ch,
                rng,
                share,
                ctx,
                &digest,
                &ecdsa2pc_core::bip32::DerivationPath::MASTER,
                &accel,
            )?)
        })?;
    }
    Ok(())
}

/// The nearest-rank `percent` percentile of `sorted` (zero for no samples).
pub(crate) fn percentile(sorted: &[Duration], percent: usize) -> Duration {
    let rank = (percent * sorted.len())
        .div_ceil(100)
        .clamp(1, sorted.len().max(1));
    sorted.get(rank - 1).copied().unwrap_or_default()
}

/// Storage for party 1's fixed-base table of `window` bits (none for 0).
///
/// # Errors
/// A window above [`ecdsa2pc_core::MAX_WINDOW`], checked here because the core's table size
/// is defined only up to it.
pub(crate) fn table_storage(window: u32) -> Result<Vec<ModNN>, CliError> {
    Ok(vec![ModNN::ZERO; table_len(window)?])
}

/// The length of the table [`table_storage`] makes (0 for no table).
fn table_len(window: u32) -> Result<usize, CliError> {
    if window > ecdsa2pc_core::MAX_WINDOW {
        return Err(CliError::Usage(format!(
            "--window {window}: at most {} (0 for no table)",
            ecdsa2pc_core::MAX_WINDOW
        )));
    }
    if window == 0 {
        return Ok(0);
    }
    sign::p2::table_len(window).map_err(|e| CliError::Usage(format!("--window {window}: {e}")))
}
