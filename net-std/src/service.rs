//! Party 0 as a long-running service: accepts mutual-TLS connections from many party-1
//! clients and serves keygen, sign, refresh and pubkey requests for many keys.
//!
//! Threads, no async runtime. One thread accepts the connections and opens them: it runs
//! every connection's TLS handshake and reads its [`crate::request`] over non-blocking
//! sockets, as their bytes arrive (poll(2)), under [`ServiceConfig::handshake_timeout`],
//! answers health requests itself, and passes every other authenticated request through a
//! bounded queue to a pool of workers that run the sessions. So a client that stalls its
//! handshake (slow loris), or never sends a byte, holds a socket and its TLS state for at
//! most the handshake timeout, never a thread: holding the service up takes
//! [`ServiceConfig::max_openings`] such connections at once (1024 by default). A few more
//! are opened by the same thread to be refused as busy within a small budget, the rest
//! dropped at once ([`MAX_REFUSING`], [`REFUSAL_DEADLINE`]); an opened request that finds the
//! workers' queue full is refused as busy at once. Anything that fails before or during a session is logged
//! with the peer address and dropped, and the service goes on.
//!
//! A stop ([`Shutdown`]) ends the accept loop; connections not yet opened, and opened
//! requests no worker has taken, are dropped or refused; the sessions in progress have
//! [`ServiceConfig::stop_deadline`] to finish, after which their connections are closed.
//!
//! Keys live in one directory, one share file per key named `<key id>.share`
//! ([`mod@crate::key_id`]). A key is served to the client certificate it was made with
//! (the peer pid recorded in the share), one session at a time: a second session on the
//! same key waits up to [`ServiceConfig::key_wait`], then is refused as busy. The share
//! file's process lock is taken as well, so a one-shot `ecdsa2pc` run on the same file
//! cannot interleave.
//!
//! Shares are opened and written with [`ServiceConfig::sealer`] (sealed at rest,
//! [`crate::sealed`]), and party 0's abort lock is kept in each key's [`LockRegistry`] as in a
//! one-shot run: a key the registry holds is refused as locked.
//!
//! Operations: an [`ApproveHook`] may approve or refuse each sign and refresh request; a
//! health request ([`fetch_health`]) answers the service's status without a protocol run;
//! the log has one line per request, as text or JSON lines ([`LogFormat`]). Keygen and
//! refresh take party 0's new Paillier key from a [`PaillierPool`] made in the background.
//!
//! Party 0's commitment-parameter secret ([`crate::params_secret`]) sits in the share
//! directory too, sealed like the shares; [`Service::bind`] loads it, or makes it (seconds,
//! said in the log) the first time, and every keygen and signature uses it. `bind` also reads
//! or makes the parameter message every keygen sends ([`crate::params_msg`], public, kept in
//! `ring-pedersen.proof` beside the secret), so that no keygen waits for its proof.

mod approve;
mod busy;
mod fd_budget;
mod health;
pub mod junk;
mod key_store;
mod keys;
mod log;
mod openings;
mod paillier_pool;

pub use approve::{ApproveHook, MAX_OUTPUT as MAX_APPROVE_OUTPUT, Verdict};
pub use busy::{MAX_REFUSING, REFUSAL_DEADLINE};
pub use health::{Health, MAX_HEALTH_LEN, cpu_ms_of, fetch_health, process_cpu_ms};
pub use key_store::{KeyInUse, KeyStore, ShareDir};
pub use log::{LogFormat, LogSink, Logger};
pub use paillier_pool::{GENERATOR_THREAD, PaillierPool, PoolLevel};

use core::net::SocketAddr;
use core::panic::AssertUnwindSafe;
use core::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use core::time::Duration;
use std::io;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::Instant;

use crypto_bigint::U1024;
use ecdsa2pc_core::{KeyShare, KeyShareP1, RingPedersenSecret, TrapdoorTables};
use k256::AffinePoint;
use k256::elliptic_curve::group::GroupEncoding as _;
use k256::elliptic_curve::sec1::ToSec1Point;

use crate::channel::Channel;
use crate::driver;
use crate::error::{NetError, Phase, ProtocolError, StoreError, SystemError, TransportError};
use crate::identity::hex;
use crate::key_id::{KeyId, key_id, key_id_hex};
use crate::lock_registry::LockRegistry;
use crate::params_msg::ParamsMsgCache;
use crate::params_secret::{self, ParamsSecretFile};
use crate::request::{self, Operation, REQUEST_VERSION, Refusal, RefusalCode, Request};
use crate::sealed::Sealer;
use crate::session::SessionInfo;
use crate::store::ShareFiles;
use crate::tls::{ServerSetup, server_setup};
use crate::{CertPaths, Transport, rng::os_rng};
use health::KeyCount;
use keys::KeyLocks;
use log::{Client, key_json};
use openings::Openings;

/// How often the accept loop looks at the stop flag while nothing happens (a connection that
/// arrives, or bytes of one being opened, wake it at once: poll(2) in [`Openings`]).
const ACCEPT_POLL: Duration = Duration::from_millis(20);
/// How long a stopping service waits for the Paillier key generator to finish its prime.
const GENERATOR_GRACE: Duration = Duration::from_secs(1);
/// Length of the public key party 0 sends for a pubkey request (compressed SEC1).
pub const PUBKEY_LEN: usize = 33;

/// The service's limits and where its keys live; [`ServiceConfig::new`] suits most uses.
#[derive(Clone, Debug)]
pub struct ServiceConfig {
    /// Directory of party 0's share files, one per key.
    pub shares: PathBuf,
    /// Opens sealed shares and seals every share written; `None` writes plaintext shares
    /// (and can open only those).
    pub sealer: Option<Sealer>,
    /// The per-user lock-registry directory of every key ([`LockRegistry::new`]); the
    /// directory beside the shares is always one too.
    pub lock_dir: Option<PathBuf>,
    /// Connections served at once (worker threads).
    pub workers: usize,
    /// Connections in their TLS handshake and request at once, all opened by one thread as
    /// their bytes arrive: a client that stalls its handshake holds one of these (a socket),
    /// never a thread. Up to [`MAX_REFUSING`] more are opened to be refused as busy within a
    /// small budget, the rest dropped. Each holds a file descriptor: [`Service::bind`] raises the
    /// process's open-file limit to fit them, or opens fewer at once if it cannot.
    pub max_openings: usize,
    /// Opened requests waiting for a worker (one more is refused as busy at once).
    pub max_waiting: usize,
    /// Time a client has to complete the TLS handshake and send its request.
    pub handshake_timeout: Duration,
    /// Time to wait for each message of a session.
    pub session_timeout: Duration,
    /// Time the sessions in progress have after a stop; then their connections are closed.
    pub stop_deadline: Duration,
    /// Time a request waits for another session on the same key to end before "busy".
    pub key_wait: Duration,
    /// The program that approves each sign and refresh request; `None` approves every
    /// request of the key's own client (and says so in the log).
    pub approve: Option<ApproveHook>,
    /// How the log lines are written.
    pub log_format: LogFormat,
    /// Paillier keys made ahead of time for keygen and refresh ([`PaillierPool`]); 0 makes
    /// each one inline.
    pub paillier_pool: usize,
}

impl ServiceConfig {
    /// Defaults for the share directory `shares`: plaintext shares, the per-user lock
    /// registry of [`LockRegistry::default_state_dir`], 4 workers, 1024 connections opened at
    /// once, 64 requests waiting for a worker, 10 s for handshake and request, 60 s per message, 20 s after a stop for
    /// the sessions in progress, 10 s wait for a busy key, no approval hook, text log, 2
    /// Paillier keys made ahead of time.
    #[must_use]
    pub fn new(shares: &Path) -> Self {
        Self {
            shares: shares.to_path_buf(),
            sealer: None,
            lock_dir: LockRegistry::default_state_dir(),
            workers: 4,
            max_openings: 1024,
            max_waiting: 64,
            handshake_timeout: Duration::from_secs(10),
            session_timeout: Duration::from_secs(60),
            stop_deadline: Duration::from_secs(20),
            key_wait: Duration::from_secs(10),
            approve: None,
            log_format: LogFormat::Text,
            paillier_pool: 2,
        }
    }

    /// The store these settings describe: the share files in [`ServiceConfig::shares`].
    #[must_use]
    pub fn share_dir(&self) -> ShareDir {
        ShareDir::new(&self.shares, self.sealer.clone(), self.lock_dir.clone())
    }

    /// The share files of key `id` ([`ShareDir::files_of`]).
    #[must_use]
    pub fn files_of(&self, id: &KeyId) -> ShareFiles {
        self.share_dir().files_of(id)
    }

    /// The lock registry of the share files `files` ([`ShareDir::registry_of`]).
    #[must_use]
    pub fn registry_of(&self, files: &ShareFiles) -> LockRegistry {
        self.share_dir().registry_of(files)
    }

    /// The file of party 0's commitment-parameter secret: in the share directory, sealed
    /// with the shares' sealer.
    #[must_use]
    pub fn params_file(&self) -> ParamsSecretFile {
        ParamsSecretFile::in_dir(&self.shares).sealed_with(self.sealer.clone())
    }
}

/// Stops a running service: the accept loop ends, connections not yet served are dropped or
/// refused, the sessions in progress finish (within [`ServiceConfig::stop_deadline`]), then
/// [`Service::run`] returns.
#[derive(Clone, Debug, Default)]
pub struct Shutdown(Arc<AtomicBool>);

impl Shutdown {
    /// Asks the service to stop.
    pub fn stop(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// The flag behind this handle, for a signal handler that sets it (such as
    /// `signal_hook::flag::register`): setting it is the same as [`Shutdown::stop`].
    #[must_use]
    pub fn flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.0)
    }

    /// Whether a stop was asked for.
    #[must_use]
    pub fn is_stopped(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// A bound service, ready to [`run`](Service::run).
pub struct Service {
    listener: TcpListener,
    shared: Arc<Shared>,
    shutdown: Shutdown,
}

impl core::fmt::Debug for Service {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Service")
            .field("listener", &self.listener)
            .field("config", &self.shared.config)
            .finish_non_exhaustive()
    }
}

/// What every worker shares.
struct Shared {
    setup: ServerSetup,
    config: ServiceConfig,
    store: Arc<dyn KeyStore>,
    params: RingPedersenSecret,
    /// The parameter message party 0 sends at keygen, proved once (and kept beside the
    /// parameter secret).
    params_msgs: ParamsMsgCache,
    keys: KeyLocks,
    log: Logger,
    started: Instant,
    counters: Counters,
    paillier: PaillierPool,
    /// The connections being opened or served, for closing them at the stop deadline.
    live: LiveConnections,
    /// The number of keys health replies give.
    key_count: KeyCount,
}

/// The sockets of the connections being opened or served, each under an id: closed at
/// [`ServiceConfig::stop_deadline`] after a stop, so that a stalled session cannot hold the
/// stop up.
#[derive(Default)]
struct LiveConnections {
    next: AtomicU64,
    sockets: Mutex<std::collections::HashMap<u64, TcpStream>>,
}

impl LiveConnections {
    /// Registers a clone of `sock` until the returned guard drops (no clone, no entry: the
    /// connection then ends with its own timeouts).
    fn track(&self, sock: &TcpStream) -> Tracked<'_> {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        if let Ok(clone) = sock.try_clone() {
            self.lock().insert(id, clone);
        }
        Tracked { live: self, id }
    }

    /// Closes every registered connection (reads and writes on it fail at once).
    fn close_all(&self) -> usize {
        let sockets = self.lock();
        for sock in sockets.values() {
            let _ = sock.shutdown(std::net::Shutdown::Both);
        }
        sockets.len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<u64, TcpStream>> {
        self.sockets.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A connection's entry in [`LiveConnections`], removed on drop.
struct Tracked<'a> {
    live: &'a LiveConnections,
    id: u64,
}

impl Drop for Tracked<'_> {
    fn drop(&mut self) {
        self.live.lock().remove(&self.id);
    }
}

/// An authenticated request on its way from its opening to a worker.
struct Opened<'a> {
    ch: Channel,
    info: SessionInfo,
    req: Request,
    addr: SocketAddr,
    start: Instant,
    _tracked: Tracked<'a>,
}

impl Opened<'_> {
    /// Answers the request with `answer` (which gets the channel, the request and the
    /// client, and returns what to log on success), then closes the connection and logs
    /// its one line.
    fn answer(
        self,
        shared: &Shared,
        answer: impl FnOnce(&mut Channel, &Request, &Client<'_>) -> Result<String, NetError>,
    ) {
        let Self {
            mut ch,
            info,
            req,
            addr,
            start,
            _tracked,
        } = self;
        let client = Client::of(addr, &info);
        let outcome = answer(&mut ch, &req, &client);
        finish_request(shared, ch, &client, &req, &outcome, start);
    }

    /// Refuses the request as busy with `reason` instead of serving it, and logs it.
    fn refuse_busy(self, shared: &Shared, reason: String) {
        self.answer(shared, |ch, _, _| {
            Err(refuse(ch, RefusalCode::Busy, reason))
        });
    }
}

/// Window of the service's trapdoor tables: 2 × 4096 entries of 128 bytes.
const TRAPDOOR_WINDOW: u32 = 4;

/// Storage for the trapdoor tables of party 0's parameter secret (1 MiB), owned by whoever
/// runs the signatures: [`Service::run`] builds the tables in it, lends them to the workers
/// for the run, and frees it when they have stopped (the tables wipe it first); `ecdsa2pc
/// bench` does the same for its signatures. Leaked instead, each service a process binds
/// would keep its megabyte for good.
#[must_use]
pub fn trapdoor_storage() -> Vec<U1024> {
    let len = ecdsa2pc_core::trapdoor_tables_len(TRAPDOOR_WINDOW).unwrap_or(0);
    vec![U1024::ZERO; len]
}

/// The trapdoor tables of `params` in `storage` (from [`trapdoor_storage`]), with the
/// service's window. `None` only if the core refused the window, which it does not for this
/// one: signing then checks without tables, as fast as before.
#[must_use]
pub fn trapdoor_tables<'a>(
    params: &RingPedersenSecret,
    storage: &'a mut [U1024],
) -> Option<TrapdoorTables<'a>> {
    params.trapdoor_tables(TRAPDOOR_WINDOW, storage).ok()
}

/// What the health reply counts.
#[derive(Default)]
struct Counters {
    busy: AtomicUsize,
    ok: AtomicU64,
    failed: AtomicU64,
    signatures: AtomicU64,
}

impl Service {
    /// Loads party 0's certificates from `paths`, checks the share directory and that `addr`
    /// resolves, loads party 0's commitment-parameter secret from the directory (or makes and
    /// writes one, seconds, saying so in `log`) and binds `addr` (port 0 picks a free port,
    /// see [`Service::local_addr`]).
    ///
    /// The process's open-file limit is raised as far as the configuration needs (and the
    /// hard limit allows); if it stays too low, fewer connections are opened at once than
    /// [`ServiceConfig::max_openings`] asks, said in `log`.
    ///
    /// # Errors
    /// Certificate problems ([`NetError::Config`]), a bad or busy address
    /// ([`TransportError`]), a share directory that is not a directory or a zero limit
    /// ([`TransportError::Io`] in phase accept, naming it), an open-file limit too low for
    /// the workers and waiting requests ([`SystemError::TooFewFiles`]), a parameter secret
    /// that does not load ([`NetError::Store`]).
    pub fn bind(
        addr: &str,
        paths: &CertPaths,
        config: ServiceConfig,
        log: LogSink,
    ) -> Result<Self, NetError> {
        let store = Arc::new(config.share_dir());
        Self::bind_with_store(addr, paths, config, store, log)
    }

    /// As [`Service::bind`], with the keys in `store` rather than the share directory of
    /// `config` (which must exist all the same: it is checked).
    ///
    /// # Errors
    /// As [`Service::bind`].
    pub fn bind_with_store(
        addr: &str,
        paths: &CertPaths,
        config: ServiceConfig,
        store: Arc<dyn KeyStore>,
        log: LogSink,
    ) -> Result<Self, NetError> {
        let setup = server_setup(paths)?;
        let unusable = |what: String| TransportError::Io {
            phase: Phase::Accept,
            source: io::Error::new(io::ErrorKind::InvalidInput, what),
        };
        if !config.shares.is_dir() {
            return Err(unusable(format!(
                "the share directory {} does not exist; create it (mode 0700) first",
                config.shares.display()
            ))
            .into());
        }
        if config.workers == 0 || config.max_openings == 0 || config.max_waiting == 0 {
            return Err(unusable(
                "workers, connections being opened and waiting requests must be at least 1".into(),
            )
            .into());
        }
        // A bad address fails before the parameters are made (seconds on a first start); the
        // port is bound only once they exist, so that no client connects to a service that
        // cannot answer yet, and before the proof, so that a busy port fails before it.
        let addrs = crate::connect::resolve(addr)?;
        let logger = Logger::new(log, config.log_format);
        let fit = fd_budget::fit(&config)?;
        for note in &fit.notes {
            logger.event("limits", note);
        }
        let config = ServiceConfig {
            max_openings: fit.openings,
            ..config
        };
        let params = config.params_file().load_or_make(&mut || {
            logger.event("params", params_secret::MAKING_FOR_DIRECTORY);
            logger.event("params", params_secret::MAKING);
        })?;
        let listener = crate::connect::listen_resolved(addr, &addrs)?.into_tcp();
        // Warm: the first keygen does not wait for the parameter proof.
        let params_msgs = ParamsMsgCache::beside(&config.params_file());
        params_msgs.get(&mut os_rng()?, &params, &setup.own.pid);
        if let Some(e) = params_msgs.take_write_error() {
            logger.event(
                "params",
                &format!(
                    "the parameter proof is not kept on disk, so the next start proves it \
                     again: {e}"
                ),
            );
        }
        // Last: the pool's generator starts when the service is about to serve.
        let paillier = PaillierPool::start(config.paillier_pool)?;
        Ok(Self {
            listener,
            shared: Arc::new(Shared {
                setup,
                log: logger,
                config,
                store,
                params,
                params_msgs,
                keys: KeyLocks::default(),
                started: Instant::now(),
                counters: Counters::default(),
                paillier,
                live: LiveConnections::default(),
                key_count: KeyCount::default(),
            }),
            shutdown: Shutdown::default(),
        })
    }

    /// The bound address.
    ///
    /// # Errors
    /// As [`std::net::TcpListener::local_addr`].
    pub fn local_addr(&self) -> Result<SocketAddr, NetError> {
        self.listener.local_addr().map_err(|source| {
            TransportError::Io {
                phase: Phase::Accept,
                source,
            }
            .into()
        })
    }

    /// A handle that stops [`Service::run`].
    #[must_use]
    pub fn shutdown_handle(&self) -> Shutdown {
        self.shutdown.clone()
    }

    /// Serves until [`Shutdown::stop`]; then waits for the sessions in progress, wipes the
    /// ready Paillier keys and stops their generator (waiting for it at most a second: it
    /// stops after the prime it is searching).
    ///
    /// # Errors
    /// [`SystemError::NoThread`] if a worker cannot be started; an error of the listening
    /// socket itself.
    pub fn run(self) -> Result<(), NetError> {
        // The comb tables of the parameter secret's h mod its primes (a few ms): every
        // signature's π_c3 check uses them. `None` only if the core refused the window, which
        // it does not for this one: signing then checks without tables, as fast as before.
        let mut storage = trapdoor_storage();
        let trapdoor = trapdoor_tables(&self.shared.params, &mut storage);
        // Scoped: the workers borrow the tables, which must outlive them.
        thread::scope(|scope| self.serve_until_stopped(scope, trapdoor.as_ref()))
    }

    /// The accept loop of [`Service::run`], which opens the connections, with its workers in `scope`.
    fn serve_until_stopped<'scope>(
        &'scope self,
        scope: &'scope thread::Scope<'scope, '_>,
        trapdoor: Option<&'scope TrapdoorTables<'_>>,
    ) -> Result<(), NetError> {
        let io = |source| TransportError::Io {
            phase: Phase::Accept,
            source,
        };
        let cfg = &self.shared.config;
        let shared = &*self.shared;
        let stop = &self.shutdown;
        let (session_tx, session_rx) = mpsc::sync_channel::<Opened<'scope>>(cfg.max_waiting);
        let session_rx = Arc::new(Mutex::new(session_rx));
        let mut threads = Vec::with_capacity(cfg.workers);
        for n in 0..cfg.workers {
            let session_rx = Arc::clone(&session_rx);
            threads.push(
                thread::Builder::new()
                    .name(format!("ecdsa2pc-worker-{n}"))
                    .spawn_scoped(scope, move || work(shared, trapdoor, stop, &session_rx))
                    .map_err(SystemError::NoThread)?,
            );
        }
        self.listener.set_nonblocking(true).map_err(io)?;
        let log = &self.shared.log;
        let mut openings = Openings::new(shared, session_tx);
        while !self.shutdown.is_stopped() {
            openings.turn(&self.listener, ACCEPT_POLL);
        }
        openings.drop_unopened();
        log.event(
            "stopping",
            &format!(
                "stopping: no new connections; the sessions in progress have {} s to finish",
                cfg.stop_deadline.as_secs()
            ),
        );
        // Until every thread is done: new connections are closed at once (not left in the
        // kernel's queue), and at the deadline the sessions still running are cut off.
        let deadline = Instant::now() + cfg.stop_deadline;
        let mut cut_off = false;
        while !threads.iter().all(thread::ScopedJoinHandle::is_finished) {
            while let Ok((sock, _)) = self.listener.accept() {
                drop(sock);
            }
            if !cut_off && Instant::now() >= deadline {
                let n = self.shared.live.close_all();
                log.event(
                    "stopping",
                    &format!("stop deadline: closed the {n} connections still open"),
                );
                cut_off = true;
            }
            thread::sleep(ACCEPT_POLL);
        }
        for thread in threads {
            if let Err(panic) = thread.join() {
                std::panic::resume_unwind(panic);
            }
        }
        self.shared.paillier.stop(GENERATOR_GRACE);
        log.event("stopped", "stopped");
        Ok(())
    }
}

/// A worker: serves opened requests until the queue closes. After a stop, requests still
/// queued are refused (party 0 is stopping) rather than served.
fn work(
    shared: &Shared,
    trapdoor: Option<&TrapdoorTables<'_>>,
    stop: &Shutdown,
    rx: &Mutex<Receiver<Opened<'_>>>,
) {
    loop {
        let next = rx.lock().unwrap_or_else(PoisonError::into_inner).recv();
        let Ok(opened) = next else { return };
        let addr = opened.addr;
        if stop.is_stopped() {
            opened.refuse_busy(
                shared,
                "party 0 is stopping; try again once it is back".into(),
            );
            continue;
        }
        // A bug in one session must not take a worker (and its capacity) away for good.
        shared.counters.busy.fetch_add(1, Ordering::Relaxed);
        let served = std::panic::catch_unwind(AssertUnwindSafe(|| {
            serve(shared, trapdoor, opened);
        }));
        shared.counters.busy.fetch_sub(1, Ordering::Relaxed);
        if served.is_err() {
            shared.counters.failed.fetch_add(1, Ordering::Relaxed);
            shared.log.event(
                "error",
                &format!("{addr}: session ended by an internal error (a bug)"),
            );
        }
    }
}

/// Serves one opened request and logs one line about it.
fn serve(shared: &Shared, trapdoor: Option<&TrapdoorTables<'_>>, opened: Opened<'_>) {
    opened.answer(shared, |ch, req, client| {
        ch.set_timeout(shared.config.session_timeout)?;
        handle(shared, trapdoor, ch, req, client)
    });
}

/// Closes a served connection, counts its outcome and logs its one line.
fn finish_request(
    shared: &Shared,
    ch: Channel,
    client: &Client<'_>,
    req: &Request,
    outcome: &Result<String, NetError>,
    start: Instant,
) {
    if outcome.is_ok() {
        let _ = ch.close();
        shared.counters.ok.fetch_add(1, Ordering::Relaxed);
        if matches!(req.operation, Operation::Sign(_)) {
            shared.counters.signatures.fetch_add(1, Ordering::Relaxed);
        }
    } else {
        shared.counters.failed.fetch_add(1, Ordering::Relaxed);
    }
    shared.log.request(client, req, outcome, start.elapsed());
}

/// Runs the request; returns what to log on success.
fn handle(
    shared: &Shared,
    trapdoor: Option<&TrapdoorTables<'_>>,
    ch: &mut Channel,
    req: &Request,
    client: &Client<'_>,
) -> Result<String, NetError> {
    let Some(id) = req.key else {
        return match req.operation {
            Operation::Health => health(shared, ch),
            Operation::Keygen => keygen(shared, ch),
            _ => Err(refuse(
                ch,
                RefusalCode::BadRequest,
                format!(
                    "{} runs between two one-shot processes (`ecdsa2pc {} --party 0` and \
                     `--party 1`), not against `ecdsa2pc serve`",
                    req.operation.name(),
                    req.operation.name()
                ),
            )),
        };
    };
    let cfg = &shared.config;
    let hex_id = key_id_hex(&id);
    if !shared.store.contains(&id) {
        return Err(refuse(
            ch,
            RefusalCode::UnknownKey,
            format!("party 0 holds no key {hex_id}"),
        ));
    }
    let Some(_in_use) = shared.keys.acquire(id, cfg.key_wait) else {
        return Err(refuse(
            ch,
            RefusalCode::Busy,
            format!(
                "another session is using key {hex_id} (waited {} s)",
                cfg.key_wait.as_secs()
            ),
        ));
    };
    let mut key = match shared.store.take(&id) {
        Ok(key) => key,
        Err(StoreError::InUse { .. }) => {
            return Err(refuse(
                ch,
                RefusalCode::Busy,
                format!("another process is using key {hex_id}"),
            ));
        }
        Err(e) => return Err(unavailable(ch, &hex_id, e)),
    };
    let held = match key.load() {
        Ok(held) => held,
        Err(e) => return Err(unavailable(ch, &hex_id, e)),
    };
    let info = ch.info().clone();
    let (own_pid, peer_pid) = held.active.pids();
    if *peer_pid != info.peer_pid {
        return Err(refuse(
            ch,
            RefusalCode::NotOwner,
            format!(
                "key {hex_id} belongs to another client certificate (pid {}…); this \
                 connection's certificate {} has pid {}…",
                hex8(peer_pid),
                info.peer_subject,
                hex8(&info.peer_pid)
            ),
        ));
    }
    if *own_pid != info.own_pid {
        return Err(refuse(
            ch,
            RefusalCode::Unavailable,
            format!("party 0's certificate is not the one key {hex_id} was made with"),
        ));
    }
    if held.active.is_locked() && !matches!(req.operation, Operation::Pubkey) {
        return Err(refuse(
            ch,
            RefusalCode::KeyLocked,
            format!(
                "key {hex_id} locked itself after a failed signature: it signs and refreshes \
                 no more; make a new key"
            ),
        ));
    }
    if key_id(&held.active.public().q) != id {
        return Err(refuse(
            ch,
            RefusalCode::Unavailable,
            format!("party 0's file for key {hex_id} holds another key"),
        ));
    }
    // The registry outlives a restored or copied share file (every epoch has the same Q).
    if !matches!(req.operation, Operation::Pubkey) && key.check_lock(held.active.public()).is_err()
    {
        return Err(refuse(
            ch,
            RefusalCode::KeyLocked,
            format!(
                "key {hex_id} is locked in party 0's lock registry (a signature failed its \
                 final check, or a signing run stopped while deciding): it signs and \
                 refreshes no more; make a new key"
            ),
        ));
    }
    let approval = approve(shared, ch, req, client)?;
    request::accept(ch)?;
    let ctx_info = info;
    let ctx = driver::context(&ctx_info);
    let mut rng = os_rng()?;
    match req.operation {
        Operation::Pubkey => {
            ch.send(held.active.public().q.to_sec1_point(true).as_bytes())?;
            Ok("public key sent".to_owned())
        }
        Operation::Sign(digest) => {
            let mut share = key.agree(ch, held)?;
            driver::sign_p1_persisted_with(
                ch,
                &mut rng,
                &mut share,
                &shared.params,
                trapdoor,
                // Per signature in sequence: the other sessions keep the cores busy.
                &ecdsa2pc_core::work::Sequential,
                &ctx,
                &digest,
                &req.path,
                key.persist(),
            )?;
            Ok(format!("signed, epoch {}, {approval}", share.epoch()))
        }
        Operation::Refresh => {
            let share = key.agree(ch, held)?;
            let paillier = shared.paillier.key()?;
            let new = driver::refresh_p1(ch, &mut rng, &share, &ctx, paillier, key.persist())?;
            Ok(format!(
                "epoch {} → {}, {approval}",
                share.epoch(),
                new.epoch()
            ))
        }
        // The keyless operations name no key: handled above.
        Operation::Keygen | Operation::Health | Operation::Demo(_) | Operation::Bench(_) => {
            Err(refuse(
                ch,
                RefusalCode::BadRequest,
                format!("{} names no key", req.operation.name()),
            ))
        }
    }
}

/// Keygen: a new key, its share written to the share directory under its key id, pending
/// until party 1 confirms it stored its own (see [`driver::keygen_p1_persisted`]).
fn keygen(shared: &Shared, ch: &mut Channel) -> Result<String, NetError> {
    request::accept(ch)?;
    let paillier = shared.paillier.key()?;
    let mut rng = os_rng()?;
    let info = ch.info().clone();
    let mut persist = NewKey {
        store: shared.store.as_ref(),
        key_count: &shared.key_count,
        shares: &shared.config.shares,
        held: None,
    };
    let share = driver::keygen_p1_persisted(
        ch,
        &mut rng,
        &driver::context(&info),
        paillier,
        &shared.params,
        &shared.params_msgs,
        &mut persist,
    )?;
    Ok(format!(
        "new key {}",
        key_id_hex(&key_id(&share.public().q))
    ))
}

/// Where a new key's share goes: the key is taken from the store once it is known, at the
/// pending write, and held from then on.
struct NewKey<'a> {
    store: &'a dyn KeyStore,
    /// Made stale once the key is active.
    key_count: &'a KeyCount,
    /// Named by the error of a promote or discard before any write.
    shares: &'a Path,
    held: Option<Box<dyn KeyInUse + 'a>>,
}

impl NewKey<'_> {
    fn key(&mut self) -> Result<&mut (dyn KeyInUse + '_), NetError> {
        match self.held.as_mut() {
            Some(key) => Ok(key.as_mut()),
            // The driver promotes or discards only after a pending write.
            None => Err(StoreError::Missing {
                path: self.shares.to_path_buf(),
            }
            .into()),
        }
    }
}

impl driver::Persist<KeyShareP1> for NewKey<'_> {
    fn pending(&mut self, share: &KeyShareP1) -> Result<(), NetError> {
        let mut key = self.store.take(&key_id(&share.public().q))?;
        key.create(share)?;
        self.held = Some(key);
        Ok(())
    }
    fn promote(&mut self) -> Result<(), NetError> {
        self.key()?.persist().promote()?;
        // Before party 1 hears that the key is active: a health request it sends next
        // counts the new key.
        self.key_count.stale();
        Ok(())
    }
    fn discard(&mut self) -> Result<(), NetError> {
        self.key()?.persist().discard()
    }
    // A new key signs nothing during keygen.
    fn deciding(&mut self, _: &ecdsa2pc_core::PublicShares) -> Result<(), NetError> {
        Ok(())
    }
    fn decided(&mut self, _: &ecdsa2pc_core::PublicShares) -> Result<(), NetError> {
        Ok(())
    }
    fn locked(&mut self, _: &KeyShareP1) -> Result<(), NetError> {
        Ok(())
    }
}

/// Sign and refresh: asks the approval hook, if any; returns what to log of the approval.
fn approve(
    shared: &Shared,
    ch: &mut Channel,
    req: &Request,
    client: &Client<'_>,
) -> Result<&'static str, NetError> {
    if !matches!(req.operation, Operation::Sign(_) | Operation::Refresh) {
        return Ok("");
    }
    let Some(hook) = &shared.config.approve else {
        return Ok("approved: no hook");
    };
    let digest = match req.operation {
        Operation::Sign(d) => serde_json::Value::String(hex(&d)),
        _ => serde_json::Value::Null,
    };
    // The path, so that a policy approves (digest, path), not a bare digest (SECURITY.md).
    let path = match req.operation {
        Operation::Sign(_) => serde_json::Value::String(req.path.to_string()),
        _ => serde_json::Value::Null,
    };
    let request = serde_json::json!({
        "operation": req.operation.name(),
        "key_id": key_json(req.key.as_ref()),
        "digest": digest,
        "path": path,
        "client": {
            "address": client.peer.to_string(),
            "subject": client.subject,
            "pid": hex(client.pid),
        },
    });
    let decision = hook.decide(&request);
    let stderr = decision.stderr.trim_end();
    if !stderr.is_empty() {
        shared.log.hook(client, req, stderr);
    }
    match decision.verdict {
        Verdict::Approved => Ok("approved by hook"),
        Verdict::Refused { reason, detail } => {
            shared.log.event(
                "policy",
                &format!(
                    "{}: {} refused by the approval hook: {detail}",
                    client.peer,
                    req.operation.name()
                ),
            );
            Err(refuse(ch, RefusalCode::Policy, reason))
        }
    }
}

/// Health: the service's status, no key, no protocol run.
fn health(shared: &Shared, ch: &mut Channel) -> Result<String, NetError> {
    request::accept(ch)?;
    let c = &shared.counters;
    let count = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
    let status = Health {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        protocol: REQUEST_VERSION,
        keys: count(shared.key_count.get(shared.store.as_ref())),
        uptime_secs: shared.started.elapsed().as_secs(),
        workers: count(shared.config.workers),
        busy_workers: count(c.busy.load(Ordering::Relaxed)),
        ok: c.ok.load(Ordering::Relaxed),
        failed: c.failed.load(Ordering::Relaxed),
        signatures: c.signatures.load(Ordering::Relaxed),
        cpu_ms: process_cpu_ms(),
        paillier_pool: shared.paillier.level(),
    };
    ch.send(status.to_json().to_string().as_bytes())?;
    Ok("status sent".to_owned())
}

/// A store error on key `hex_id`: the client learns only that the key is unavailable, the
/// details (which name party 0's files) go to the service's log with the returned error.
fn unavailable(ch: &mut Channel, hex_id: &str, e: StoreError) -> NetError {
    let _ = refuse(
        ch,
        RefusalCode::Unavailable,
        format!("party 0 cannot use its share of key {hex_id}"),
    );
    e.into()
}

fn refuse(ch: &mut Channel, code: RefusalCode, reason: String) -> NetError {
    request::refuse(ch, Refusal::new(code, reason))
}

fn hex8(bytes: &[u8]) -> String {
    hex(bytes.get(..8).unwrap_or(bytes))
}

/// Party 1: asks for the public key of key `id` on a fresh connection to the service.
///
/// # Errors
/// As [`request::ask`]; a reply that is no valid point is [`NetError::Protocol`].
pub fn fetch_pubkey<T: Transport + ?Sized>(t: &mut T, id: KeyId) -> Result<AffinePoint, NetError> {
    request::ask(t, &Request::on_key(Operation::Pubkey, id))?;
    let mut buf = [0u8; PUBKEY_LEN];
    let bad = ProtocolError {
        error: ecdsa2pc_core::Error::InvalidPoint,
        step: "public key",
    };
    let bytes: &[u8; PUBKEY_LEN] = t.recv(&mut buf)?.try_into().map_err(|_| bad)?;
    // Only the two compressed forms: no identity, no uncompressed point.
    if !matches!(bytes.first(), Some(2 | 3)) {
        return Err(bad.into());
    }
    let repr = k256::CompressedPoint::from(*bytes);
    Option::<AffinePoint>::from(AffinePoint::from_bytes(&repr)).ok_or_else(|| bad.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::Persist;
    use crate::store::sealed_tests::keys;
    use crate::store::tests::scratch;

    #[test]
    fn a_new_keys_share_is_named_at_its_pending_write_and_a_planted_share_is_refused() {
        let dir = scratch("service-new-key");
        let mut config = ServiceConfig::new(&dir);
        config.lock_dir = None;
        let store = ShareDir::new(&dir, None, None);
        let key_count = KeyCount::default();
        assert_eq!(key_count.get(&store), 0);
        let mut new_key = NewKey {
            store: &store,
            key_count: &key_count,
            shares: &dir,
            held: None,
        };
        // Before the pending write there is nothing to promote or discard.
        for done in [
            Persist::<KeyShareP1>::promote(&mut new_key),
            Persist::<KeyShareP1>::discard(&mut new_key),
        ] {
            assert!(
                matches!(&done, Err(NetError::Store(StoreError::Missing { path })) if *path == dir),
                "{done:?}"
            );
        }
        // A share already at the new key's name (repeated randomness or a planted file) is
        // refused and left alone.
        let (share, _) = &keys()[0];
        let files = config.files_of(&key_id(&share.public().q));
        files.write_active(share).unwrap();
        let planted = std::fs::read(files.path()).unwrap();
        let err = new_key.pending(share).unwrap_err();
        assert!(
            matches!(&err, NetError::Store(StoreError::Occupied { path }) if path == files.path()),
            "{err}"
        );
        assert!(
            err.to_string().contains("repeated randomness")
                && err.to_string().contains("left as it was"),
            "{err}"
        );
        assert_eq!(std::fs::read(files.path()).unwrap(), planted);
        assert!(!files.pending_path().exists());
        // Without it: pending, then active once promoted.
        std::fs::remove_file(files.path()).unwrap();
        new_key.pending(share).unwrap();
        assert!(files.pending_path().exists() && !files.exists());
        assert_eq!(key_count.get(&store), 0, "a pending share is no key yet");
        Persist::<KeyShareP1>::promote(&mut new_key).unwrap();
        assert!(files.exists() && !files.pending_path().exists());
        assert_eq!(key_count.get(&store), 1, "counted again once active");
        drop(new_key);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
