//! Party 0 as a long-running service: accepts mutual-TLS connections from many party-1
//! clients and serves keygen, sign, refresh and pubkey requests for many keys.
//!
//! Threads, no async runtime. One accept loop hands each TCP connection to a bounded pool
//! of workers through a bounded queue: a connection that finds the queue full is dropped at
//! once. The TLS handshake runs in the worker under its own deadline, so a client that
//! stalls it (slow loris) holds one worker for at most that long and never the accept loop.
//! Every connection then starts with a [`crate::request`]; anything that fails before or
//! during a session is logged with the peer address and dropped, and the service goes on.
//!
//! Keys live in one directory, one share file per key named `<key id>.share`
//! ([`crate::request::key_id`]). A key is served to the client certificate it was made with
//! (the peer pid recorded in the share), one session at a time: a second session on the
//! same key waits up to [`ServiceConfig::key_wait`], then is refused as busy. The share
//! file's process lock is taken as well, so a one-shot `ecdsa2pc` run on the same file
//! cannot interleave.
//!
//! Shares are opened and written with [`ServiceConfig::sealer`] (sealed at rest,
//! [`crate::sealed`]), and party 0's abort lock is kept in each key's [`LockRegistry`] as in a
//! one-shot run: a key the registry holds is refused as locked.
//!
//! Party 0's commitment-parameter secret ([`crate::params_secret`]) sits in the share
//! directory too, sealed like the shares; [`Service::bind`] loads it, or makes it (seconds,
//! said in the log) the first time, and every keygen and signature uses it.

mod keys;

use core::net::SocketAddr;
use core::panic::AssertUnwindSafe;
use core::sync::atomic::{AtomicBool, Ordering};
use core::time::Duration;
use std::io;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, TrySendError};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::Instant;

use ecdsa2pc_core::{KeyShare, KeyShareP1, RingPedersenSecret};
use k256::AffinePoint;
use k256::elliptic_curve::group::GroupEncoding as _;
use k256::elliptic_curve::sec1::ToSec1Point;

use crate::channel::Channel;
use crate::driver;
use crate::error::{NetError, Phase, ProtocolError, SystemError, TransportError};
use crate::handshake::establish_server;
use crate::lock_registry::LockRegistry;
use crate::params_secret::{self, ParamsSecretFile};
use crate::request::{self, KeyId, Operation, Refusal, RefusalCode, Request, key_id, key_id_hex};
use crate::sealed::Sealer;
use crate::store::ShareFiles;
use crate::tls::{ServerSetup, server_setup};
use crate::{CertPaths, Transport, epoch, paillier::new_paillier_key, rng::os_rng};
use keys::KeyLocks;

/// How often the accept loop looks for a new connection or a stop request.
const ACCEPT_POLL: Duration = Duration::from_millis(20);
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
    /// Accepted connections waiting for a worker; one more is dropped at once.
    pub max_waiting: usize,
    /// Time a client has to complete the TLS handshake and send its request.
    pub handshake_timeout: Duration,
    /// Time to wait for each message of a session.
    pub session_timeout: Duration,
    /// Time a request waits for another session on the same key to end before "busy".
    pub key_wait: Duration,
}

impl ServiceConfig {
    /// Defaults for the share directory `shares`: plaintext shares, the per-user lock
    /// registry of [`LockRegistry::default_state_dir`], 4 workers, 64 waiting connections,
    /// 10 s for handshake and request, 60 s per message, 10 s wait for a busy key.
    #[must_use]
    pub fn new(shares: &Path) -> Self {
        Self {
            shares: shares.to_path_buf(),
            sealer: None,
            lock_dir: LockRegistry::default_state_dir(),
            workers: 4,
            max_waiting: 64,
            handshake_timeout: Duration::from_secs(10),
            session_timeout: Duration::from_secs(60),
            key_wait: Duration::from_secs(10),
        }
    }

    /// The share files of key `id`.
    #[must_use]
    pub fn files_of(&self, id: &KeyId) -> ShareFiles {
        ShareFiles::new(&self.shares.join(format!("{}.share", key_id_hex(id))))
            .sealed_with(self.sealer.clone())
    }

    /// The lock registry of the share files `files`.
    #[must_use]
    pub fn registry_of(&self, files: &ShareFiles) -> LockRegistry {
        LockRegistry::new(files.path(), self.lock_dir.clone())
    }

    /// The file of party 0's commitment-parameter secret: in the share directory, sealed
    /// with the shares' sealer.
    #[must_use]
    pub fn params_file(&self) -> ParamsSecretFile {
        ParamsSecretFile::in_dir(&self.shares).sealed_with(self.sealer.clone())
    }
}

/// Where the service writes its log lines (one per connection, never a secret).
pub type LogSink = Arc<dyn Fn(&str) + Send + Sync>;

/// Stops a running service: the accept loop ends, in-flight and queued sessions finish
/// (each bounded by its timeouts), then [`Service::run`] returns.
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
    params: RingPedersenSecret,
    keys: KeyLocks,
    log: LogSink,
}

impl Service {
    /// Loads party 0's certificates from `paths`, checks the share directory, loads party 0's
    /// commitment-parameter secret from it (or makes and writes one, seconds, saying so in
    /// `log`) and binds `addr` (port 0 picks a free port, see [`Service::local_addr`]).
    ///
    /// # Errors
    /// Certificate problems ([`NetError::Config`]), a bad or busy address
    /// ([`TransportError`]), a share directory that is not a directory or a zero limit
    /// ([`TransportError::Io`] in phase accept, naming it), a parameter secret that does
    /// not load ([`NetError::Store`]).
    pub fn bind(
        addr: &str,
        paths: &CertPaths,
        config: ServiceConfig,
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
        if config.workers == 0 || config.max_waiting == 0 {
            return Err(
                unusable("workers and waiting connections must be at least 1".into()).into(),
            );
        }
        let params = config
            .params_file()
            .load_or_make(&mut || log(params_secret::MAKING))?;
        let listener = crate::connect::listen(addr)?.into_tcp();
        Ok(Self {
            listener,
            shared: Arc::new(Shared {
                setup,
                config,
                params,
                keys: KeyLocks::default(),
                log,
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

    /// Serves until [`Shutdown::stop`]; then waits for the sessions in progress.
    ///
    /// # Errors
    /// [`SystemError::NoThread`] if a worker cannot be started; an error of the listening
    /// socket itself.
    pub fn run(self) -> Result<(), NetError> {
        let io = |source| TransportError::Io {
            phase: Phase::Accept,
            source,
        };
        let cfg = &self.shared.config;
        let (tx, rx) = mpsc::sync_channel::<(TcpStream, SocketAddr)>(cfg.max_waiting);
        let rx = Arc::new(Mutex::new(rx));
        let mut workers = Vec::with_capacity(cfg.workers);
        for n in 0..cfg.workers {
            let (shared, rx) = (Arc::clone(&self.shared), Arc::clone(&rx));
            let worker = thread::Builder::new()
                .name(format!("ecdsa2pc-worker-{n}"))
                .spawn(move || work(&shared, &rx))
                .map_err(SystemError::NoThread)?;
            workers.push(worker);
        }
        self.listener.set_nonblocking(true).map_err(io)?;
        let log = &self.shared.log;
        while !self.shutdown.is_stopped() {
            match self.listener.accept() {
                Ok((sock, addr)) => match tx.try_send((sock, addr)) {
                    Ok(()) => {}
                    Err(TrySendError::Full((sock, addr))) => {
                        log(&format!(
                            "{addr}: dropped: {} connections already wait for a worker",
                            cfg.max_waiting
                        ));
                        drop(sock);
                    }
                    Err(TrySendError::Disconnected(_)) => break,
                },
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => thread::sleep(ACCEPT_POLL),
                // A client that reset before we accepted it, or a signal: nothing to serve.
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::ConnectionAborted | io::ErrorKind::Interrupted
                    ) => {}
                Err(e) => {
                    // Out of file descriptors and the like: say so, wait, keep serving.
                    log(&format!("accept failed: {e}"));
                    thread::sleep(ACCEPT_POLL * 10);
                }
            }
        }
        log("stopping: no new connections; finishing the sessions in progress");
        drop(tx);
        for worker in workers {
            if let Err(panic) = worker.join() {
                std::panic::resume_unwind(panic);
            }
        }
        log("stopped");
        Ok(())
    }
}

/// A worker: serves queued connections until the queue closes.
fn work(shared: &Shared, rx: &Mutex<Receiver<(TcpStream, SocketAddr)>>) {
    loop {
        let next = rx.lock().unwrap_or_else(PoisonError::into_inner).recv();
        let Ok((sock, addr)) = next else { return };
        // A bug in one session must not take a worker (and its capacity) away for good.
        let served = std::panic::catch_unwind(AssertUnwindSafe(|| {
            serve(shared, sock, addr);
        }));
        if served.is_err() {
            (shared.log)(&format!(
                "{addr}: session ended by an internal error (a bug)"
            ));
        }
    }
}

/// Serves one connection and logs one line about it.
fn serve(shared: &Shared, sock: TcpStream, addr: SocketAddr) {
    let start = Instant::now();
    let log = &shared.log;
    let cfg = &shared.config;
    // The handshake runs under its own deadline, and the channel keeps that timeout until
    // the request has arrived: a client that stalls holds this worker no longer.
    let mut ch = match establish_server(sock, &shared.setup, cfg.handshake_timeout) {
        Ok(ch) => ch,
        Err(e) => {
            log(&format!("{addr}: dropped before a session: {e}"));
            return;
        }
    };
    let client = format!(
        "{addr} client {:?} pid {}…",
        ch.info().peer_subject,
        hex8(&ch.info().peer_pid)
    );
    let req = match request::receive(&mut ch) {
        Ok(req) => req,
        Err(e) => {
            log(&format!("{client}: dropped: {e}"));
            return;
        }
    };
    let key = req.key.map_or_else(
        || "new key".to_owned(),
        |id| format!("key {}", key_id_hex(&id)),
    );
    let outcome = if let Err(e) = ch.set_timeout(cfg.session_timeout) {
        Err(e)
    } else {
        handle(shared, &mut ch, &req)
    };
    let ms = start.elapsed().as_millis();
    match outcome {
        Ok(done) => {
            let _ = ch.close();
            log(&format!(
                "{client}: {} {key}: ok, {done} ({ms} ms)",
                req.operation.name()
            ));
        }
        Err(e) => log(&format!(
            "{client}: {} {key}: failed: {e} ({ms} ms)",
            req.operation.name()
        )),
    }
}

/// Runs the request; returns what to log on success.
fn handle(shared: &Shared, ch: &mut Channel, req: &Request) -> Result<String, NetError> {
    let Some(id) = req.key else {
        return keygen(shared, ch);
    };
    let cfg = &shared.config;
    let hex_id = key_id_hex(&id);
    let files = cfg.files_of(&id);
    if !files.exists() {
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
    let Ok(_file_lock) = files.lock() else {
        return Err(refuse(
            ch,
            RefusalCode::Busy,
            format!("another process is using key {hex_id}"),
        ));
    };
    let held = match files.load::<KeyShareP1>() {
        Ok(held) => held,
        Err(e) => {
            // The details name party 0's files: they go to its log, not to the client.
            let refusal = Refusal::new(
                RefusalCode::Unavailable,
                format!("party 0 cannot use its share of key {hex_id}"),
            );
            let _ = request::refuse(ch, refusal);
            return Err(e.into());
        }
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
    let registry = cfg.registry_of(&files);
    if !matches!(req.operation, Operation::Pubkey) && registry.check(held.active.public()).is_err()
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
            let mut share = epoch::agree(ch, &files, held)?;
            let mut persist = registry.guard(files.clone());
            driver::sign_p1_persisted(
                ch,
                &mut rng,
                &mut share,
                &shared.params,
                &ctx,
                &digest,
                &mut persist,
            )?;
            Ok(format!("signed, epoch {}", share.epoch()))
        }
        Operation::Refresh => {
            let share = epoch::agree(ch, &files, held)?;
            let (paillier, _) = new_paillier_key()?;
            let mut persist = registry.guard(files.clone());
            let new = driver::refresh_p1(ch, &mut rng, &share, &ctx, paillier, &mut persist)?;
            Ok(format!("epoch {} → {}", share.epoch(), new.epoch()))
        }
        // Keygen names no key: handled above.
        Operation::Keygen => Err(refuse(
            ch,
            RefusalCode::BadRequest,
            "keygen names no key".to_owned(),
        )),
    }
}

/// Keygen: a new key, its share written to the share directory under its key id.
fn keygen(shared: &Shared, ch: &mut Channel) -> Result<String, NetError> {
    request::accept(ch)?;
    let (paillier, _) = new_paillier_key()?;
    let mut rng = os_rng()?;
    let info = ch.info().clone();
    let share = driver::keygen_p1(
        ch,
        &mut rng,
        &driver::context(&info),
        paillier,
        &shared.params,
    )?;
    let id = key_id(&share.public().q);
    let files = shared.config.files_of(&id);
    let _lock = files.lock()?;
    if files.exists() {
        // Q is uniformly random: this happens only if someone planted the file.
        return Err(crate::error::StoreError::InUse {
            path: files.path().to_path_buf(),
        }
        .into());
    }
    files.write_active(&share)?;
    Ok(format!("new key {}", key_id_hex(&id)))
}

fn refuse(ch: &mut Channel, code: RefusalCode, reason: String) -> NetError {
    request::refuse(ch, Refusal::new(code, reason))
}

fn hex8(bytes: &[u8]) -> String {
    bytes.iter().take(8).map(|b| format!("{b:02x}")).collect()
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
