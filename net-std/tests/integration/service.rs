//! The long-running party 0 (`service`) over real mutual TLS on 127.0.0.1: many keys,
//! concurrent sessions, junk connections, a client that does not own the key, a restart.

use std::io::Write as _;
use std::net::TcpStream;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use ecdsa2pc_core::bip32::DerivationPath;
use ecdsa2pc_core::{KeyShare, KeyShareP1, KeyShareP2, Party};
use ecdsa2pc_net::lock_registry::LockRegistry;
use ecdsa2pc_net::request::{self, Operation, RefusalCode, Request, key_id, key_id_hex};
use ecdsa2pc_net::sealed::{self, Sealer, Secret};
use ecdsa2pc_net::service::{
    ApproveHook, Health, KeyInUse, KeyStore, LogFormat, MAX_REFUSING, PoolLevel, REFUSAL_DEADLINE,
    Service, ServiceConfig, ShareDir, Shutdown, fetch_health, fetch_pubkey, junk,
};
use ecdsa2pc_net::store::ShareFiles;
use ecdsa2pc_net::{
    CertPaths, NetError, StoreError, TlsProblem, Transport, connect, driver, epoch, rng::os_rng,
};
use k256::ecdsa::{Signature, VerifyingKey, signature::hazmat::PrehashVerifier};
use zeroize::Zeroizing;

use crate::support::{OK_TIMEOUT, TempDir, certs, party};

/// Keygen includes party 0's Paillier key search, slow on a loaded machine.
const KEYGEN_TIMEOUT: Duration = Duration::from_secs(120);

/// A running service and what stops it.
struct Running {
    addr: String,
    stop: Shutdown,
    thread: JoinHandle<Result<(), NetError>>,
    log: Arc<Mutex<Vec<String>>>,
}

impl Running {
    /// The test service's configuration: short handshake, long sessions, and only the lock
    /// registry beside the shares (never the tester's own state directory).
    fn config(shares: &Path) -> ServiceConfig {
        let mut config = ServiceConfig::new(shares);
        config.handshake_timeout = Duration::from_secs(2);
        config.session_timeout = KEYGEN_TIMEOUT;
        config.key_wait = Duration::from_secs(60);
        config.lock_dir = None;
        config
    }

    fn start(dir: &TempDir, shares: &Path) -> Self {
        Self::start_with(dir, Self::config(shares))
    }

    fn start_with(dir: &TempDir, config: ServiceConfig) -> Self {
        Self::start_as(&party(dir, Party::P1), config)
    }

    /// [`Running::start_with`] under the server identity `server`.
    fn start_as(server: &CertPaths, config: ServiceConfig) -> Self {
        // The fixture parameter secret (sealed like the shares), so that no test pays for a
        // safe-prime search; a restart finds it in place.
        config
            .params_file()
            .write_new(&crate::fixtures::params_secret(0))
            .unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&log);
        let service = Service::bind(
            "127.0.0.1:0",
            server,
            config,
            Arc::new(move |line: &str| sink.lock().unwrap().push(line.to_owned())),
        )
        .unwrap();
        let addr = service.local_addr().unwrap().to_string();
        let stop = service.shutdown_handle();
        let thread = thread::spawn(move || service.run());
        Self {
            addr,
            stop,
            thread,
            log,
        }
    }

    fn stop(self) -> Vec<String> {
        self.stop.stop();
        self.thread.join().unwrap().unwrap();
        self.log.lock().unwrap().clone()
    }

    fn lines(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
}

/// Party 1 makes a key with the service and writes its share to `dir/name`.
fn client_keygen(addr: &str, paths: &CertPaths, dir: &Path, name: &str) -> ShareFiles {
    let mut ch = connect(addr, paths, KEYGEN_TIMEOUT).unwrap();
    request::ask(&mut ch, &Request::keygen()).unwrap();
    let info = ch.info().clone();
    let share = driver::keygen_p2(
        &mut ch,
        &mut os_rng().unwrap(),
        &driver::context(&info),
        &mut crate::fixtures::trusted,
    )
    .unwrap();
    let files = ShareFiles::new(&dir.join(name));
    files.write_active(&share).unwrap();
    files
}

/// Party 1 signs `digest` with the service; the signature is verified with k256 here.
fn client_sign(
    addr: &str,
    paths: &CertPaths,
    files: &ShareFiles,
    digest: [u8; 32],
) -> Result<Signature, NetError> {
    client_sign_under(addr, paths, files, digest, &DerivationPath::MASTER)
}

/// [`client_sign`] with the BIP32 child key at `path`; the signature is verified with k256
/// under that child key.
fn client_sign_under(
    addr: &str,
    paths: &CertPaths,
    files: &ShareFiles,
    digest: [u8; 32],
    path: &DerivationPath,
) -> Result<Signature, NetError> {
    let held = files.load::<KeyShareP2>()?;
    let q = held.active.public().q;
    let mut ch = connect(addr, paths, OK_TIMEOUT)?;
    ch.set_timeout(KEYGEN_TIMEOUT)?;
    request::ask(&mut ch, &Request::sign_under(digest, key_id(&q), *path))?;
    let share = epoch::agree(&mut ch, files, held)?;
    let info = ch.info().clone();
    let sig = driver::sign_p2_with(
        &mut ch,
        &mut os_rng()?,
        &share,
        &driver::context(&info),
        &digest,
        path,
        &driver::Accel::default(),
    )?;
    let key = if path.depth() == 0 {
        q
    } else {
        *share.derive(path).unwrap().key.key()
    };
    VerifyingKey::from_affine(key)
        .unwrap()
        .verify_prehash(&digest, &sig)
        .expect("the signature verifies with k256");
    Ok(sig)
}

fn refusal(e: NetError) -> RefusalCode {
    match e {
        NetError::Refused(r) => r.code,
        other => panic!("not a refusal: {other}"),
    }
}

/// The code and the reason of a refusal.
fn refusal_and_reason(e: NetError) -> (RefusalCode, String) {
    match e {
        NetError::Refused(r) => (r.code, r.reason),
        other => panic!("not a refusal: {other}"),
    }
}

/// Connections that are no ecdsa2pc session; each must be dropped and logged.
fn junk(addr: &str, dir: &TempDir, other_ca: &TempDir) -> Vec<JoinHandle<()>> {
    let a = addr.to_owned();
    let mut out = vec![thread::spawn(move || {
        // Plain TCP that sends garbage, one that says nothing (stalls), one that vanishes.
        let mut s = TcpStream::connect(&a).unwrap();
        let _ = s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        let _stalled = TcpStream::connect(&a).unwrap();
        drop(TcpStream::connect(&a).unwrap());
        thread::sleep(Duration::from_secs(3));
    })];
    let (a, paths, ca) = (
        addr.to_owned(),
        party(other_ca, Party::P2),
        party(dir, Party::P2).ca,
    );
    out.push(thread::spawn(move || {
        // A certificate from another CA: the handshake fails.
        assert!(connect(&a, &paths, OK_TIMEOUT).is_err());
        // TLS without a client certificate: the service refuses it and sends no data.
        assert!(!junk::tls_without_certificate(&a, &ca, OK_TIMEOUT).unwrap());
    }));
    out
}

#[test]
fn service_serves_many_keys_and_clients_and_survives_junk() {
    let dir = certs("service");
    let other_ca = certs("service-other-ca");
    let shares = TempDir::new("service-shares");
    let client_dir = TempDir::new("service-client");
    let client = party(&dir, Party::P2);
    let svc = Running::start(&dir, shares.path());

    // Two keys; party 0's shares are named by key id.
    let k1 = client_keygen(&svc.addr, &client, client_dir.path(), "k1.share");
    let k2 = client_keygen(&svc.addr, &client, client_dir.path(), "k2.share");
    let q1 = k1.load_active::<KeyShareP2>().unwrap().public().q;
    let q2 = k2.load_active::<KeyShareP2>().unwrap().public().q;
    assert_ne!(q1, q2);
    for q in [q1, q2] {
        let name = format!("{}.share", key_id_hex(&key_id(&q)));
        assert!(shares.path().join(name).is_file());
    }

    // Concurrent signs on different keys and two on one key (serialized), with junk
    // connections arriving meanwhile; every signature verifies.
    thread::scope(|s| {
        let signs: Vec<_> = [(&k1, 1u8), (&k2, 2), (&k1, 3)]
            .into_iter()
            .map(|(files, d)| {
                let (addr, client) = (&svc.addr, &client);
                s.spawn(move || client_sign(addr, client, files, [d; 32]))
            })
            .collect();
        let junk = junk(&svc.addr, &dir, &other_ca);
        for j in junk {
            j.join().unwrap();
        }
        for sign in signs {
            sign.join().unwrap().unwrap();
        }
    });

    // The public key on request, and the usual refusals.
    let mut ch = connect(&svc.addr, &client, OK_TIMEOUT).unwrap();
    assert_eq!(fetch_pubkey(&mut ch, key_id(&q1)).unwrap(), q1);
    let mut ch = connect(&svc.addr, &client, OK_TIMEOUT).unwrap();
    assert_eq!(
        refusal(fetch_pubkey(&mut ch, [0xee; 32]).unwrap_err()),
        RefusalCode::UnknownKey
    );
    // A file under one key's name that holds another key, and a damaged file: unavailable.
    let p0_of = |q| {
        shares
            .path()
            .join(format!("{}.share", key_id_hex(&key_id(q))))
    };
    let planted = shares
        .path()
        .join(format!("{}.share", key_id_hex(&[0xdd; 32])));
    std::fs::copy(p0_of(&q1), &planted).unwrap();
    let mut ch = connect(&svc.addr, &client, OK_TIMEOUT).unwrap();
    assert_eq!(
        refusal(fetch_pubkey(&mut ch, [0xdd; 32]).unwrap_err()),
        RefusalCode::Unavailable
    );
    std::fs::write(&planted, b"not a share").unwrap();
    let mut ch = connect(&svc.addr, &client, OK_TIMEOUT).unwrap();
    assert_eq!(
        refusal(fetch_pubkey(&mut ch, [0xdd; 32]).unwrap_err()),
        RefusalCode::Unavailable
    );
    // Another process holding the key's share file: busy, at once.
    let held = ShareFiles::new(&p0_of(&q2)).lock().unwrap();
    let e = client_sign(&svc.addr, &client, &k2, [7; 32]).unwrap_err();
    assert_eq!(refusal(e), RefusalCode::Busy);
    drop(held);
    let stranger = CertPaths {
        cert: dir.path().join("other-cert.pem"),
        key: dir.path().join("other-key.pem"),
        ..party(&dir, Party::P2)
    };
    let e = client_sign(&svc.addr, &stranger, &k1, [4; 32]).unwrap_err();
    assert_eq!(refusal(e), RefusalCode::NotOwner);
    // An oversized first frame is a bad request, and the service keeps serving.
    let mut ch = connect(&svc.addr, &client, OK_TIMEOUT).unwrap();
    ch.send(&[0u8; 4096]).unwrap();
    let mut buf = [0u8; request::MAX_REPLY_LEN];
    let reply = request::decode_reply(ch.recv(&mut buf).unwrap()).unwrap_err();
    assert_eq!(reply.code, RefusalCode::BadRequest);

    let lines = svc.lines();
    let dropped = lines
        .iter()
        .filter(|l| l.contains("127.0.0.1:") && l.contains("dropped"))
        .count();
    assert!(
        dropped >= 4,
        "junk is logged with the peer address: {lines:#?}"
    );
    assert!(
        lines.iter().any(|l| l.contains("not the key's client")),
        "{lines:#?}"
    );
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.contains(": sign key") && l.contains("ok, signed"))
            .count(),
        3,
        "{lines:#?}"
    );
    svc.stop();

    // A restart over the same share directory serves the same keys.
    let svc = Running::start(&dir, shares.path());
    client_sign(&svc.addr, &client, &k2, [5; 32]).unwrap();
    client_sign(&svc.addr, &client, &k1, [6; 32]).unwrap();
    // The service signs under the path the request names (checked under the child key).
    let path: DerivationPath = "m/0/7".parse().unwrap();
    client_sign_under(&svc.addr, &client, &k1, [8; 32], &path).unwrap();
    let lines = svc.stop();
    assert!(lines.last().is_some_and(|l| l == "stopped"), "{lines:#?}");
}

#[test]
fn service_refuses_bad_requests_and_stops_with_a_session_waiting() {
    let dir = certs("service-bad");
    let shares = TempDir::new("service-bad-shares");
    let svc = Running::start(&dir, shares.path());
    let client = party(&dir, Party::P2);
    // Another protocol version.
    let mut ch = connect(&svc.addr, &client, OK_TIMEOUT).unwrap();
    let mut bytes = Request::keygen().encode();
    bytes[4] = 9;
    ch.send(&bytes).unwrap();
    let mut buf = [0u8; request::MAX_REPLY_LEN];
    let reply = request::decode_reply(ch.recv(&mut buf).unwrap()).unwrap_err();
    assert_eq!(reply.code, RefusalCode::VersionNotSupported);
    // A demo's request: the demo runs between two one-shot processes, not against a service.
    let mut ch = connect(&svc.addr, &client, OK_TIMEOUT).unwrap();
    let e = request::ask(&mut ch, &Request::keyless(Operation::Demo([1; 32]))).unwrap_err();
    let NetError::Refused(r) = e else {
        panic!("{e:?}")
    };
    assert_eq!(r.code, RefusalCode::BadRequest);
    assert!(
        r.reason.contains("not against `ecdsa2pc serve`"),
        "{}",
        r.reason
    );
    // A request longer than any request: refused as bad, its body never read.
    let mut ch = connect(&svc.addr, &client, OK_TIMEOUT).unwrap();
    ch.send(&vec![0u8; request::MAX_REQUEST_LEN + 1]).unwrap();
    let reply = request::decode_reply(ch.recv(&mut buf).unwrap()).unwrap_err();
    assert_eq!(reply.code, RefusalCode::BadRequest);
    assert!(
        reply.reason.contains("longer than any request"),
        "{reply:?}"
    );
    // A client that connects and never sends its request is dropped after the handshake
    // timeout, and a stop still ends the service.
    let _silent = connect(&svc.addr, &client, OK_TIMEOUT).unwrap();
    thread::sleep(Duration::from_millis(2500));
    let lines = svc.stop();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("dropped") && l.contains("CN=client1")),
        "{lines:#?}"
    );
}

#[test]
fn service_refuses_a_missing_share_directory_and_zero_limits() {
    let dir = certs("service-config");
    let paths = party(&dir, Party::P1);
    let sink: ecdsa2pc_net::service::LogSink = Arc::new(|_: &str| {});
    let missing = dir.path().join("missing");
    let e = Service::bind(
        "127.0.0.1:0",
        &paths,
        ServiceConfig::new(&missing),
        Arc::clone(&sink),
    )
    .unwrap_err();
    assert!(e.to_string().contains("does not exist"), "{e}");
    let mut config = ServiceConfig::new(dir.path());
    config.workers = 0;
    let e = Service::bind("127.0.0.1:0", &paths, config, Arc::clone(&sink)).unwrap_err();
    assert!(e.to_string().contains("at least 1"), "{e}");
    let mut config = ServiceConfig::new(dir.path());
    config.max_waiting = 0;
    let e = Service::bind("127.0.0.1:0", &paths, config, sink).unwrap_err();
    assert!(e.to_string().contains("at least 1"), "{e}");
}

#[test]
fn service_seals_its_shares_and_refuses_a_key_its_lock_registry_holds() {
    let dir = certs("service-sealed");
    let shares = TempDir::new("service-sealed-shares");
    let state = TempDir::new("service-sealed-locks");
    let client_dir = TempDir::new("service-sealed-client");
    let client = party(&dir, Party::P2);
    let sealer = Sealer::new(Secret::Key(Zeroizing::new([0x5a; 32])));
    let mut config = Running::config(shares.path());
    config.sealer = Some(sealer.clone());
    config.lock_dir = Some(state.path().to_path_buf());
    let svc = Running::start_with(&dir, config.clone());

    // The new share is written sealed, and the service opens it again to sign.
    let k = client_keygen(&svc.addr, &client, client_dir.path(), "k.share");
    let public = *k.load_active::<KeyShareP2>().unwrap().public();
    let id = key_id(&public.q);
    let p0 = config.files_of(&id);
    assert!(sealed::is_sealed(&std::fs::read(p0.path()).unwrap()));
    assert!(matches!(
        ShareFiles::new(p0.path()).load::<KeyShareP1>(),
        Err(StoreError::NoSecret { .. })
    ));
    client_sign(&svc.addr, &client, &k, [1; 32]).unwrap();
    // The run's `deciding` entry was lifted: the key is not held by its registry.
    config.registry_of(&p0).check(&public).unwrap();

    // A `locked` entry in the per-user registry refuses sign and refresh; pubkey still works.
    LockRegistry::new(p0.path(), Some(state.path().to_path_buf()))
        .record_locked(&public)
        .unwrap();
    let e = client_sign(&svc.addr, &client, &k, [2; 32]).unwrap_err();
    assert_eq!(refusal(e), RefusalCode::KeyLocked);
    let mut ch = connect(&svc.addr, &client, OK_TIMEOUT).unwrap();
    let e = request::ask(&mut ch, &Request::on_key(Operation::Refresh, id)).unwrap_err();
    assert_eq!(refusal(e), RefusalCode::KeyLocked);
    let mut ch = connect(&svc.addr, &client, OK_TIMEOUT).unwrap();
    assert_eq!(fetch_pubkey(&mut ch, id).unwrap(), public.q);
    let lines = svc.stop();
    assert!(
        lines.iter().filter(|l| l.contains("lock registry")).count() >= 2,
        "{lines:#?}"
    );

    // Without the secret the service cannot open its sealed parameter secret: it does not
    // start, and says which file it could not open.
    let plain = Running::config(shares.path());
    let e = Service::bind(
        "127.0.0.1:0",
        &party(&dir, Party::P1),
        plain.clone(),
        Arc::new(|_: &str| {}),
    )
    .unwrap_err();
    assert!(
        matches!(e, NetError::Store(StoreError::NoSecret { ref path, .. })
            if *path == plain.params_file().path()),
        "{e}"
    );
    // With a plaintext parameter secret it starts, and cannot open the sealed share:
    // unavailable.
    std::fs::remove_file(plain.params_file().path()).unwrap();
    let svc = Running::start(&dir, shares.path());
    let e = client_sign(&svc.addr, &client, &k, [3; 32]).unwrap_err();
    assert_eq!(refusal(e), RefusalCode::Unavailable);
    svc.stop();
}

/// Party 1's persistence that cannot store its keygen share (it dies after party 0's last
/// message, before acknowledging).
struct CannotStore;

impl driver::Persist<KeyShareP2> for CannotStore {
    fn pending(&mut self, _: &KeyShareP2) -> Result<(), NetError> {
        Err(StoreError::Write {
            path: "p2.share.pending".into(),
            action: "cannot write",
            source: std::io::Error::other("no space left on device (simulated)"),
        }
        .into())
    }
    fn promote(&mut self) -> Result<(), NetError> {
        unreachable!("nothing pending")
    }
    fn discard(&mut self) -> Result<(), NetError> {
        Ok(())
    }
    fn deciding(&mut self, _: &ecdsa2pc_core::PublicShares) -> Result<(), NetError> {
        Ok(())
    }
    fn decided(&mut self, _: &ecdsa2pc_core::PublicShares) -> Result<(), NetError> {
        Ok(())
    }
    fn locked(&mut self, _: &KeyShareP2) -> Result<(), NetError> {
        Ok(())
    }
}

/// Issue 11: keygen interrupted after party 0's last message. The service reports no
/// success, keeps no share (nor a pending one) of the key, and a retry makes a usable key.
#[test]
fn service_keygen_interrupted_after_party_0s_last_message_leaves_nothing_and_a_retry_works() {
    let dir = certs("service-keygen-cut");
    let shares = dir.path().join("shares");
    std::fs::create_dir(&shares).unwrap();
    let running = Running::start(&dir, &shares);
    let paths = party(&dir, Party::P2);

    let mut ch = connect(&running.addr, &paths, KEYGEN_TIMEOUT).unwrap();
    request::ask(&mut ch, &Request::keygen()).unwrap();
    let info = ch.info().clone();
    let err = driver::keygen_p2_persisted(
        &mut ch,
        &mut os_rng().unwrap(),
        &driver::context(&info),
        &mut crate::fixtures::trusted,
        &mut CannotStore,
    )
    .unwrap_err();
    assert!(
        matches!(err, NetError::Store(StoreError::Write { .. })),
        "{err}"
    );
    drop(ch);
    // The service's session ends when the connection does; wait for its log line.
    let deadline = std::time::Instant::now() + KEYGEN_TIMEOUT;
    let line = loop {
        if let Some(l) = running.lines().into_iter().find(|l| l.contains("keygen")) {
            break l;
        }
        assert!(std::time::Instant::now() < deadline, "no keygen log line");
        thread::sleep(Duration::from_millis(20));
    };
    assert!(line.contains("keygen new key: failed"), "{line}");
    let left: Vec<String> = std::fs::read_dir(&shares)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n != "ring-pedersen.secret" && n != "ring-pedersen.proof")
        .collect();
    assert!(
        left.is_empty(),
        "no share, no pending share, no lock file: {left:?}"
    );

    // A retry: a key both sides hold, and it signs.
    let files = client_keygen(&running.addr, &paths, dir.path(), "retry.share");
    let sig = client_sign(&running.addr, &paths, &files, [7; 32]).unwrap();
    let q = files.load_active::<KeyShareP2>().unwrap().public().q;
    VerifyingKey::from_affine(q)
        .unwrap()
        .verify_prehash(&[7; 32], &sig)
        .unwrap();
    running.stop();
}

/// An executable shell script at `dir/name`.
fn script(dir: &Path, name: &str, body: &str) -> String {
    use std::os::unix::fs::PermissionsExt as _;
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o700)).unwrap();
    path.to_str().unwrap().to_owned()
}

fn policy_reason(e: NetError) -> String {
    match e {
        NetError::Refused(r) if r.code == RefusalCode::Policy => r.reason,
        other => panic!("not a policy refusal: {other}"),
    }
}

#[test]
fn the_approval_hook_sees_the_request_and_approves_refuses_or_fails_closed() {
    let dir = certs("service-approve");
    let shares = TempDir::new("service-approve-shares");
    let client_dir = TempDir::new("service-approve-client");
    let hooks = TempDir::new("service-approve-hooks");
    let client = party(&dir, Party::P2);
    let seen = hooks.path().join("seen.json");
    // Approves digests of 0x01 bytes, refuses the rest with a reason; keeps what it saw.
    let hook = script(
        hooks.path(),
        "approve.sh",
        &format!(
            "cat > {seen}\necho \"checked against the allow list\" >&2\necho \"(list v7)\" >&2\n\
             grep -q '\"digest\":\"{ones}\"' {seen} && exit 0\necho \"digest not \
             on the allow list\"\nexit 1",
            seen = seen.display(),
            ones = "01".repeat(32)
        ),
    );
    let mut config = Running::config(shares.path());
    config.approve = ApproveHook::parse(&hook, Duration::from_secs(5));
    let svc = Running::start_with(&dir, config.clone());
    // Keygen is not an operation the hook decides.
    let k = client_keygen(&svc.addr, &client, client_dir.path(), "k.share");
    client_sign(&svc.addr, &client, &k, [1; 32]).unwrap();
    let request: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&seen).unwrap()).unwrap();
    let q = k.load_active::<KeyShareP2>().unwrap().public().q;
    assert_eq!(request["operation"], "sign");
    assert_eq!(request["key_id"], key_id_hex(&key_id(&q)));
    assert_eq!(request["path"], "m");
    assert_eq!(request["client"]["subject"], "CN=client1");
    assert_eq!(
        request["client"]["pid"].as_str().unwrap().len(),
        64,
        "{request}"
    );
    let e = client_sign(&svc.addr, &client, &k, [2; 32]).unwrap_err();
    assert_eq!(policy_reason(e), "digest not on the allow list");
    // The hook sees the derivation path, so it can approve (digest, path) pairs.
    let path: DerivationPath = "m/3/1".parse().unwrap();
    client_sign_under(&svc.addr, &client, &k, [1; 32], &path).unwrap();
    let request: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&seen).unwrap()).unwrap();
    assert_eq!(request["path"], "m/3/1");
    let lines = svc.stop();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("ok, signed") && l.contains("approved by hook")),
        "{lines:#?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("refused by the approval hook")),
        "{lines:#?}"
    );
    // What the hook wrote on its standard error: in the service's log, one line per request it
    // decided, the hook's lines joined on it (escaped), not loose on the service's stderr.
    let hook_lines: Vec<_> = lines
        .iter()
        .filter(|l| l.contains("the approval hook's standard error"))
        .collect();
    assert_eq!(hook_lines.len(), 3, "{lines:#?}");
    for l in &hook_lines {
        assert!(
            l.contains("sign key ") && l.ends_with(": checked against the allow list\\n(list v7)"),
            "{l}"
        );
    }

    // A hook that hangs is killed at its timeout; one that cannot start refuses too.
    config.approve = Some(ApproveHook {
        argv: vec!["sleep".into(), "30".into()],
        timeout: Duration::from_millis(300),
    });
    let svc = Running::start_with(&dir, config.clone());
    let e = client_sign(&svc.addr, &client, &k, [1; 32]).unwrap_err();
    assert_eq!(policy_reason(e), "the approval hook did not answer in time");
    svc.stop();
    config.approve = ApproveHook::parse("/nonexistent/hook --flag", Duration::from_secs(5));
    let svc = Running::start_with(&dir, config);
    let e = client_sign(&svc.addr, &client, &k, [1; 32]).unwrap_err();
    assert_eq!(policy_reason(e), "the approval hook could not be started");
    let lines = svc.stop();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("cannot start /nonexistent/hook")),
        "{lines:#?}"
    );

    // No hook: approved, and the log says so.
    let svc = Running::start(&dir, shares.path());
    client_sign(&svc.addr, &client, &k, [3; 32]).unwrap();
    let lines = svc.stop();
    assert!(
        lines.iter().any(|l| l.contains("approved: no hook")),
        "{lines:#?}"
    );
}

#[test]
fn health_answers_over_mtls_and_the_json_log_has_one_line_per_request() {
    let dir = certs("service-health");
    let shares = TempDir::new("service-health-shares");
    let client_dir = TempDir::new("service-health-client");
    let client = party(&dir, Party::P2);
    let mut config = Running::config(shares.path());
    config.log_format = LogFormat::Json;
    let svc = Running::start_with(&dir, config);

    let mut ch = connect(&svc.addr, &client, OK_TIMEOUT).unwrap();
    let h = fetch_health(&mut ch).unwrap();
    assert_eq!(h.version, env!("CARGO_PKG_VERSION"));
    assert_eq!(h.protocol, request::REQUEST_VERSION);
    assert_eq!((h.keys, h.signatures, h.workers), (0, 0, 4));
    assert_eq!(
        h.busy_workers, 0,
        "the opening thread answers health, not a worker"
    );
    // Files that are not named by a key id are not keys: a backup, an upper-case copy.
    for name in ["backup.share", &format!("{}.share", "AB".repeat(32))] {
        std::fs::write(shares.path().join(name), b"not a key").unwrap();
    }

    let k = client_keygen(&svc.addr, &client, client_dir.path(), "k.share");
    let q = k.load_active::<KeyShareP2>().unwrap().public().q;
    client_sign(&svc.addr, &client, &k, [1; 32]).unwrap();
    // A plain TCP connect and a TLS client without a certificate: dropped and logged.
    junk::plain_tcp(&svc.addr).unwrap();
    let ca = party(&dir, Party::P2).ca;
    assert!(!junk::tls_without_certificate(&svc.addr, &ca, OK_TIMEOUT).unwrap());
    thread::sleep(Duration::from_millis(300));
    let mut ch = connect(&svc.addr, &client, OK_TIMEOUT).unwrap();
    let h = fetch_health(&mut ch).unwrap();
    assert_eq!((h.keys, h.signatures), (1, 1), "{h:?}");
    assert!(h.ok >= 3 && h.failed >= 2, "{h:?}");
    if Path::new("/proc/self/stat").exists() {
        assert!(h.cpu_ms.is_some_and(|ms| ms > 0), "{h:?}");
    }

    let lines = svc.stop();
    let events: Vec<serde_json::Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let requests: Vec<_> = events.iter().filter(|e| e["event"] == "request").collect();
    let ops: Vec<_> = requests
        .iter()
        .map(|e| e["operation"].as_str().unwrap())
        .collect();
    assert_eq!(ops, ["health", "keygen", "sign", "health"], "{lines:#?}");
    for e in &requests {
        assert_eq!(e["result"], "ok", "{e}");
        assert_eq!(e["client"], "CN=client1", "{e}");
        assert!(e["duration_ms"].is_u64(), "{e}");
        assert!(e["peer"].as_str().unwrap().starts_with("127.0.0.1:"), "{e}");
    }
    assert_eq!(requests[2]["key_id"], key_id_hex(&key_id(&q)));
    assert_eq!(requests[2]["digest"], "01".repeat(32));
    assert_eq!(requests[2]["path"], "m");
    let dropped = events.iter().filter(|e| e["event"] == "dropped").count();
    assert!(dropped >= 2, "{lines:#?}");
    assert_eq!(events.last().unwrap()["event"], "stopped");
    // Never a secret: the log holds no share bytes (the service's x1 as hex, say).
    let p0 = ShareFiles::new(
        &shares
            .path()
            .join(format!("{}.share", key_id_hex(&key_id(&q)))),
    );
    let share_hex: String = std::fs::read(p0.path())
        .unwrap()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    for window in share_hex.as_bytes().chunks(64).skip(4).take(8) {
        let window = std::str::from_utf8(window).unwrap();
        assert!(!lines.iter().any(|l| l.contains(window)), "{window}");
    }
}

#[test]
fn sigterm_during_a_session_lets_it_finish_and_leaves_nothing_half_written() {
    let dir = certs("service-stop");
    let shares = TempDir::new("service-stop-shares");
    let client_dir = TempDir::new("service-stop-client");
    let client = party(&dir, Party::P2);
    let svc = Running::start(&dir, shares.path());
    let k = client_keygen(&svc.addr, &client, client_dir.path(), "k.share");
    let held = k.load::<KeyShareP2>().unwrap();
    let q = held.active.public().q;
    // The session is accepted, then the stop arrives, then the protocol runs.
    let mut ch = connect(&svc.addr, &client, OK_TIMEOUT).unwrap();
    ch.set_timeout(KEYGEN_TIMEOUT).unwrap();
    request::ask(
        &mut ch,
        &Request::on_key(Operation::Sign([4; 32]), key_id(&q)),
    )
    .unwrap();
    svc.stop.stop();
    thread::sleep(Duration::from_millis(100));
    let share = epoch::agree(&mut ch, &k, held).unwrap();
    let info = ch.info().clone();
    let sig = driver::sign_p2(
        &mut ch,
        &mut os_rng().unwrap(),
        &share,
        &driver::context(&info),
        &[4; 32],
    )
    .unwrap();
    VerifyingKey::from_affine(q)
        .unwrap()
        .verify_prehash(&[4; 32], &sig)
        .unwrap();
    let addr = svc.addr.clone();
    let lines = svc.stop();
    let stopping = lines
        .iter()
        .position(|l| l.starts_with("stopping"))
        .unwrap();
    let signed = lines.iter().position(|l| l.contains("ok, signed")).unwrap();
    assert!(stopping < signed, "{lines:#?}");
    // No new connection is served after the stop.
    assert!(connect(&addr, &client, Duration::from_millis(500)).is_err());
    // Nothing half-written: the share, its lock file, the lock registry beside it and party
    // 0's parameter secret only.
    let mut names: Vec<String> = std::fs::read_dir(shares.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    let id = key_id_hex(&key_id(&q));
    assert_eq!(
        names,
        [
            ".ecdsa2pc-locks".to_owned(),
            format!("{id}.share"),
            format!("{id}.share.lock"),
            "ring-pedersen.proof".to_owned(),
            "ring-pedersen.secret".to_owned(),
        ],
    );
    let registry: Vec<_> = std::fs::read_dir(shares.path().join(".ecdsa2pc-locks"))
        .unwrap()
        .collect();
    assert!(registry.is_empty(), "no deciding entry left: {registry:?}");
}

/// A store that delegates to the share directory, counts what the service asks of it, and
/// refuses every key taken while `broken` is set (as a database that is down would).
#[derive(Debug)]
struct Observed {
    inner: ShareDir,
    takes: std::sync::atomic::AtomicUsize,
    broken: std::sync::atomic::AtomicBool,
}

impl KeyStore for Observed {
    fn contains(&self, id: &ecdsa2pc_net::KeyId) -> bool {
        self.inner.contains(id)
    }
    fn count(&self) -> usize {
        self.inner.count()
    }
    fn take(&self, id: &ecdsa2pc_net::KeyId) -> Result<Box<dyn KeyInUse + '_>, StoreError> {
        use std::sync::atomic::Ordering::SeqCst;
        self.takes.fetch_add(1, SeqCst);
        if self.broken.load(SeqCst) {
            return Err(StoreError::Missing {
                path: "db://shares".into(),
            });
        }
        self.inner.take(id)
    }
}

#[test]
fn the_service_uses_its_store_through_the_trait() {
    use std::sync::atomic::Ordering::SeqCst;
    let dir = certs("service-store");
    let shares = TempDir::new("service-store-shares");
    let client_dir = TempDir::new("service-store-client");
    let client = party(&dir, Party::P2);
    let config = Running::config(shares.path());
    let store = Arc::new(Observed {
        inner: config.share_dir(),
        takes: Default::default(),
        broken: Default::default(),
    });
    let log = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&log);
    let service = Service::bind_with_store(
        "127.0.0.1:0",
        &party(&dir, Party::P1),
        config,
        Arc::clone(&store) as Arc<dyn KeyStore>,
        Arc::new(move |line: &str| sink.lock().unwrap().push(line.to_owned())),
    )
    .unwrap();
    let addr = service.local_addr().unwrap().to_string();
    let stop = service.shutdown_handle();
    let thread = thread::spawn(move || service.run());

    let k = client_keygen(&addr, &client, client_dir.path(), "k.share");
    client_sign(&addr, &client, &k, [1; 32]).unwrap();
    assert_eq!(
        store.takes.load(SeqCst),
        2,
        "keygen and sign each take the key"
    );
    // A key id that is taken already cannot be created again.
    let id = key_id(&k.load_active::<KeyShareP2>().unwrap().public().q);
    let p0 = store
        .inner
        .files_of(&id)
        .load_active::<KeyShareP1>()
        .unwrap();
    assert!(matches!(
        store.inner.take(&id).unwrap().create(&p0),
        Err(StoreError::Occupied { .. })
    ));
    // Nor can a second holder take it while the first holds it.
    let held = store.inner.take(&id).unwrap();
    assert!(matches!(
        store.inner.take(&id),
        Err(StoreError::InUse { .. })
    ));
    drop(held);
    let mut ch = connect(&addr, &client, OK_TIMEOUT).unwrap();
    assert_eq!(fetch_health(&mut ch).unwrap().keys, 1);
    // A store that fails: the client learns only "key unavailable", the log the cause.
    store.broken.store(true, SeqCst);
    let e = client_sign(&addr, &client, &k, [2; 32]).unwrap_err();
    assert_eq!(refusal(e), RefusalCode::Unavailable);
    stop.stop();
    thread.join().unwrap().unwrap();
    let lines = log.lock().unwrap();
    assert!(
        lines.iter().any(|l| l.contains("db://shares")),
        "{lines:#?}"
    );
}

/// Party 1 refreshes its key with the service; its share file moves to the new epoch.
fn client_refresh(addr: &str, paths: &CertPaths, files: &ShareFiles) -> Result<(), NetError> {
    let held = files.load::<KeyShareP2>()?;
    let q = held.active.public().q;
    let mut ch = connect(addr, paths, OK_TIMEOUT)?;
    ch.set_timeout(KEYGEN_TIMEOUT)?;
    request::ask(&mut ch, &Request::on_key(Operation::Refresh, key_id(&q)))?;
    let share = epoch::agree(&mut ch, files, held)?;
    let info = ch.info().clone();
    let mut persist = files.clone();
    driver::refresh_p2(
        &mut ch,
        &mut os_rng()?,
        &share,
        &driver::context(&info),
        &mut persist,
    )?;
    Ok(())
}

/// The service's health, asked on a fresh connection.
fn health_of(addr: &str, client: &CertPaths) -> Health {
    let mut ch = connect(addr, client, OK_TIMEOUT).unwrap();
    fetch_health(&mut ch).unwrap()
}

/// Generous: the generator runs at the lowest priority, on a machine the tests load.
const POOL_FILL: Duration = Duration::from_secs(600);

/// Polls the health reply until the Paillier pool holds `ready` keys.
fn wait_for_pool(addr: &str, client: &CertPaths, ready: u64) -> PoolLevel {
    let start = std::time::Instant::now();
    loop {
        let level = health_of(addr, client).paillier_pool;
        if level.ready >= ready {
            return level;
        }
        assert!(
            start.elapsed() < POOL_FILL,
            "the pool never refilled: {level:?}"
        );
        thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn keygen_and_refresh_take_pooled_paillier_keys_and_the_pool_refills() {
    let dir = certs("service-pool");
    let shares = TempDir::new("service-pool-shares");
    let client_dir = TempDir::new("service-pool-client");
    let client = party(&dir, Party::P2);
    let mut config = Running::config(shares.path());
    config.paillier_pool = 1;
    let svc = Running::start_with(&dir, config);

    let level = wait_for_pool(&svc.addr, &client, 1);
    assert_eq!(
        level,
        PoolLevel {
            ready: 1,
            target: 1,
            taken: 0,
            inline: 0
        }
    );
    // Keygen takes the ready key: taken counts it, nothing was drawn inline.
    let k = client_keygen(&svc.addr, &client, client_dir.path(), "k.share");
    let level = health_of(&svc.addr, &client).paillier_pool;
    assert_eq!((level.taken, level.inline), (1, 0), "{level:?}");
    // The generator makes its replacement; refresh takes that one.
    let level = wait_for_pool(&svc.addr, &client, 1);
    assert_eq!((level.ready, level.taken), (1, 1), "{level:?}");
    client_refresh(&svc.addr, &client, &k).unwrap();
    assert_eq!(k.load_active::<KeyShareP2>().unwrap().epoch(), 1);
    let level = health_of(&svc.addr, &client).paillier_pool;
    assert_eq!((level.taken, level.inline), (2, 0), "{level:?}");
    // The refreshed shares (party 0's under the pooled key) sign.
    client_sign(&svc.addr, &client, &k, [1; 32]).unwrap();
    let lines = svc.stop();
    assert!(lines.last().is_some_and(|l| l == "stopped"), "{lines:#?}");
}

#[test]
fn without_a_pool_keygen_and_refresh_draw_their_keys_inline() {
    let dir = certs("service-no-pool");
    let shares = TempDir::new("service-no-pool-shares");
    let client_dir = TempDir::new("service-no-pool-client");
    let client = party(&dir, Party::P2);
    let mut config = Running::config(shares.path());
    config.paillier_pool = 0;
    let svc = Running::start_with(&dir, config);
    let k = client_keygen(&svc.addr, &client, client_dir.path(), "k.share");
    client_refresh(&svc.addr, &client, &k).unwrap();
    client_sign(&svc.addr, &client, &k, [2; 32]).unwrap();
    assert_eq!(
        health_of(&svc.addr, &client).paillier_pool,
        PoolLevel {
            ready: 0,
            target: 0,
            taken: 0,
            inline: 2
        }
    );
    svc.stop();
}

#[test]
fn a_service_stops_promptly_while_its_generator_searches_a_prime() {
    let dir = certs("service-pool-stop");
    let shares = TempDir::new("service-pool-stop-shares");
    let client = party(&dir, Party::P2);
    let mut config = Running::config(shares.path());
    config.paillier_pool = 2;
    let svc = Running::start_with(&dir, config);
    // The generator is at work from the start (a key takes far longer than this request).
    let level = health_of(&svc.addr, &client).paillier_pool;
    assert_eq!(level.target, 2);
    assert!(level.ready < 2, "{level:?}");
    let start = std::time::Instant::now();
    let lines = svc.stop();
    // The accept poll, the workers' ends and at most the generator grace (1 s), with room
    // for a loaded machine; never a whole key search.
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    assert!(lines.last().is_some_and(|l| l == "stopped"), "{lines:#?}");
}

#[test]
fn a_client_over_the_connection_cap_is_refused_as_busy_and_the_service_keeps_serving() {
    let dir = certs("service-cap");
    let shares = TempDir::new("service-cap-shares");
    let client = party(&dir, Party::P2);
    let mut config = Running::config(shares.path());
    config.workers = 1;
    config.max_openings = 1;
    config.max_waiting = 1;
    config.handshake_timeout = Duration::from_secs(20);
    config.paillier_pool = 0;
    let svc = Running::start_with(&dir, config);

    // The one opening slot holds a client that has not sent its request yet: the service is
    // at its cap.
    let holding = connect(&svc.addr, &client, OK_TIMEOUT).unwrap();
    thread::sleep(Duration::from_millis(200));
    // A client over the cap gets a busy refusal it can print.
    let mut ch = connect(&svc.addr, &client, OK_TIMEOUT).unwrap();
    let e = fetch_pubkey(&mut ch, [7; 32]).unwrap_err();
    let NetError::Refused(r) = &e else {
        panic!("not a refusal: {e}")
    };
    assert_eq!(r.code, RefusalCode::Busy);
    assert!(r.reason.contains("connection cap"), "{e}");
    drop(ch);
    // A health request over the cap is answered all the same: a monitoring check sees a
    // service at its cap, not a refusal.
    let mut ch = connect(&svc.addr, &client, OK_TIMEOUT).unwrap();
    let h = fetch_health(&mut ch).unwrap();
    assert_eq!(h.workers, 1, "{h:?}");
    drop(ch);
    // One that sends no request, but garbage: a bad request (no busy refusal), logged.
    let mut ch = connect(&svc.addr, &client, OK_TIMEOUT).unwrap();
    ch.send(b"garbage").unwrap();
    let mut buf = [0u8; request::MAX_REPLY_LEN];
    let reply = request::decode_reply(ch.recv(&mut buf).unwrap()).unwrap_err();
    assert_eq!(reply.code, RefusalCode::BadRequest);
    drop(ch);

    // Over the cap with every place for a busy refusal taken too: dropped at once. A silent
    // connection holds such a place for REFUSAL_DEADLINE, so MAX_REFUSING of them take them
    // all; the next finds the socket closed well before that deadline.
    let silent: Vec<TcpStream> = (0..MAX_REFUSING)
        .map(|_| TcpStream::connect(&svc.addr).unwrap())
        .collect();
    thread::sleep(Duration::from_millis(100));
    let mut dropped = TcpStream::connect(&svc.addr).unwrap();
    dropped
        .set_read_timeout(Some(REFUSAL_DEADLINE / 2))
        .unwrap();
    let start = std::time::Instant::now();
    let read = std::io::Read::read(&mut dropped, &mut [0u8; 1]);
    assert!(
        matches!(read, Ok(0))
            || read
                .as_ref()
                .is_err_and(|e| e.kind() == std::io::ErrorKind::ConnectionReset),
        "{read:?} after {:?}: {:#?}",
        start.elapsed(),
        svc.lines()
    );
    drop((silent, holding));

    // Once the cap clears, the service serves again. (Until the service has seen those
    // sockets close, a connection may still be over the cap: refused as busy, or dropped
    // while every place for a refusal is taken.)
    let h = health_once_not_busy(&svc.addr, &client, Duration::from_secs(30));
    assert!(h.failed >= 3, "{h:?}");
    let lines = svc.stop();
    assert!(
        lines.iter().any(|l| l.contains("pubkey")
            && l.contains("failed")
            && l.contains("(busy)")
            && l.contains("connection cap")),
        "{lines:#?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("dropped") && l.contains("more wait for their busy refusal")),
        "{lines:#?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("dropped") && l.contains("no busy refusal")),
        "{lines:#?}"
    );
    assert!(
        lines.iter().any(|l| l.contains("CN=client1")
            && l.contains("no busy refusal")
            && l.contains("bad request")),
        "{lines:#?}"
    );
}

/// Connections over the cap are opened side by side to be refused: silent ones there first
/// do not delay a client's busy refusal (the refuser thread that took them one at a time
/// gave each its whole refusal deadline first).
#[test]
fn silent_connections_over_the_cap_do_not_delay_a_busy_refusal() {
    let dir = certs("service-cap-parallel");
    let shares = TempDir::new("service-cap-parallel-shares");
    let client = party(&dir, Party::P2);
    let mut config = Running::config(shares.path());
    config.max_openings = 1;
    config.handshake_timeout = Duration::from_secs(20);
    config.paillier_pool = 0;
    let svc = Running::start_with(&dir, config);
    let holding = TcpStream::connect(&svc.addr).unwrap();
    thread::sleep(Duration::from_millis(100));
    let silent: Vec<TcpStream> = (1..MAX_REFUSING)
        .map(|_| TcpStream::connect(&svc.addr).unwrap())
        .collect();
    thread::sleep(Duration::from_millis(100));
    let start = std::time::Instant::now();
    let mut ch = connect(&svc.addr, &client, OK_TIMEOUT).unwrap();
    let e = fetch_pubkey(&mut ch, [7; 32]).unwrap_err();
    let NetError::Refused(r) = &e else {
        panic!("not a refusal: {e}")
    };
    assert_eq!(r.code, RefusalCode::Busy, "{e}");
    assert!(
        start.elapsed() < REFUSAL_DEADLINE,
        "refused after {:?}",
        start.elapsed()
    );
    drop((holding, silent));
    svc.stop();
}

/// The service's health once it is no longer over its cap: a connection over it may be
/// refused as busy, or dropped while every place for a refusal is taken, until the service has
/// seen the connections that held it close; retried for up to `within`.
fn health_once_not_busy(addr: &str, client: &CertPaths, within: Duration) -> Health {
    let start = std::time::Instant::now();
    loop {
        let fetched = connect(addr, client, OK_TIMEOUT).and_then(|mut ch| fetch_health(&mut ch));
        match fetched {
            Ok(h) => return h,
            Err(NetError::Refused(r)) if r.code != RefusalCode::Busy => panic!("{r:?}"),
            Err(e) => {
                assert!(start.elapsed() < within, "still not served: {e}");
                thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

/// A socket lingering after a TLS error (so that its client reads the alert) keeps the place
/// of the opening it ended: openings and lingering sockets together stay within the cap, so
/// that a flood of bad handshakes cannot hold more sockets than the cap allows.
#[test]
fn a_socket_lingering_after_a_tls_error_keeps_its_place_under_the_cap() {
    use std::io::{Read as _, Write as _};
    let dir = certs("service-linger-cap");
    let shares = TempDir::new("service-linger-cap-shares");
    let client = party(&dir, Party::P2);
    let mut config = Running::config(shares.path());
    config.max_openings = 1;
    config.paillier_pool = 0;
    let svc = Running::start_with(&dir, config);
    // Not TLS: the service answers with an alert, then lingers (0.5 s at most) until this
    // side closes. Lingering, it holds the one place: the next client is over the cap. (On a
    // machine so loaded that the service takes longer than the linger to accept the client,
    // the client is served instead: tried three times.)
    let code_while_lingering = || {
        let mut junk = TcpStream::connect(&svc.addr).unwrap();
        junk.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
        let mut alert = [0u8; 1];
        junk.set_read_timeout(Some(OK_TIMEOUT)).unwrap();
        junk.read_exact(&mut alert).unwrap();
        assert_eq!(alert[0], 0x15, "a TLS alert record");
        let mut ch = connect(&svc.addr, &client, OK_TIMEOUT).unwrap();
        match fetch_pubkey(&mut ch, [7; 32]).unwrap_err() {
            NetError::Refused(r) => (r.code, r.reason),
            e => panic!("not a refusal: {e}"),
        }
    };
    let tries: Vec<(RefusalCode, String)> = (0..3).map(|_| code_while_lingering()).collect();
    assert!(
        tries
            .iter()
            .any(|(code, reason)| *code == RefusalCode::Busy && reason.contains("connection cap")),
        "{tries:?}"
    );
    svc.stop();
}

/// Clients that leave before their request are logged for what they did, not as a message
/// cut in half: a probe that connected and left, a client that opened its session and left.
#[test]
fn clients_that_leave_before_their_request_are_logged_for_what_they_did() {
    let dir = certs("service-leavers");
    let shares = TempDir::new("service-leavers-shares");
    let client = party(&dir, Party::P2);
    let mut config = Running::config(shares.path());
    config.paillier_pool = 0;
    let svc = Running::start_with(&dir, config);
    drop(TcpStream::connect(&svc.addr).unwrap());
    drop(connect(&svc.addr, &client, OK_TIMEOUT).unwrap());
    let start = std::time::Instant::now();
    let lines = loop {
        let lines = svc.lines();
        if lines.iter().filter(|l| l.contains("dropped")).count() >= 2 {
            break lines;
        }
        assert!(start.elapsed() < OK_TIMEOUT, "{lines:#?}");
        thread::sleep(Duration::from_millis(20));
    };
    let dropped: Vec<&String> = lines.iter().filter(|l| l.contains("dropped")).collect();
    assert!(
        dropped.iter().any(|l| l.contains("before a session")
            && l.contains("closed the connection during the TLS handshake")
            && l.contains("a probe that connected and left")),
        "{lines:#?}"
    );
    assert!(
        dropped
            .iter()
            .any(|l| l.contains("CN=client1") && l.contains("the peer closed the connection")),
        "{lines:#?}"
    );
    assert!(
        !dropped
            .iter()
            .any(|l| l.contains("in the middle of a message")),
        "{lines:#?}"
    );
    svc.stop();
}

/// Idle connections that never start their TLS handshake (slow loris, port scans that hold
/// the socket) hold no worker: with one worker and eight such connections, a health check
/// and a signature are served at once, not after the handshake timeout. (Before handshakes ran apart from the workers,
/// each idle connection held the one worker for the handshake timeout.)
#[test]
fn idle_connections_hold_no_worker_and_the_service_keeps_serving() {
    let dir = certs("service-loris");
    let shares = TempDir::new("service-loris-shares");
    let client_dir = TempDir::new("service-loris-client");
    let client = party(&dir, Party::P2);
    let mut config = Running::config(shares.path());
    config.workers = 1;
    config.handshake_timeout = Duration::from_secs(30);
    config.paillier_pool = 0;
    let svc = Running::start_with(&dir, config);
    let k = client_keygen(&svc.addr, &client, client_dir.path(), "k.share");

    let idle: Vec<TcpStream> = (0..8)
        .map(|_| TcpStream::connect(&svc.addr).unwrap())
        .collect();
    thread::sleep(Duration::from_millis(300));
    let start = std::time::Instant::now();
    let mut ch = connect(&svc.addr, &client, OK_TIMEOUT).unwrap();
    fetch_health(&mut ch).unwrap();
    client_sign(&svc.addr, &client, &k, [3; 32]).unwrap();
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "served in {:?} with 8 idle connections open",
        start.elapsed()
    );
    drop(idle);
    svc.stop();
}

/// A client whose certificate comes from another CA learns why at connect time, from the
/// service's alert (sent and lingered over by the thread that opens every connection, not
/// lost to a reset), and the service logs the cause with the fix; then it serves on.
#[test]
fn a_client_of_another_ca_is_told_why_and_the_service_logs_the_fix() {
    let dir = certs("service-wrong-ca");
    let other = certs("service-wrong-ca-other");
    let shares = TempDir::new("service-wrong-ca-shares");
    let mut config = Running::config(shares.path());
    config.paillier_pool = 0;
    let svc = Running::start_with(&dir, config);
    // Trusts the service's CA, but its own certificate is from another CA.
    let mut stranger = party(&other, Party::P2);
    stranger.ca = party(&dir, Party::P2).ca;
    for _ in 0..3 {
        let e = connect(&svc.addr, &stranger, OK_TIMEOUT).unwrap_err();
        let NetError::Tls(tls) = &e else {
            panic!("not a TLS error: {e}")
        };
        assert_eq!(tls.problem(), &TlsProblem::UnknownCa, "{e}");
        assert!(tls.reported_by_peer(), "{e}");
    }
    let mut ch = connect(&svc.addr, &party(&dir, Party::P2), OK_TIMEOUT).unwrap();
    fetch_health(&mut ch).unwrap();
    let lines = svc.stop();
    let logged = lines
        .iter()
        .filter(|l| {
            l.contains("dropped")
                && l.contains("before a session")
                && l.contains("not signed by our CA")
        })
        .count();
    assert_eq!(logged, 3, "{lines:#?}");
}

/// A slow-loris crowd larger than any thread pool delays no one: 300 idle sockets and 30
/// clients that stop half-way through their TLS handshake (a ClientHello cut short) or after
/// it (no request), all within the handshake timeout, and a health check and a signature
/// are still served at once; each stalled connection is dropped and logged at its deadline.
/// (With a thread per opening, 64 of them held every opener until the timeout.)
#[test]
fn a_slow_loris_crowd_larger_than_any_thread_pool_delays_no_one() {
    let dir = certs("service-crowd");
    let shares = TempDir::new("service-crowd-shares");
    let client_dir = TempDir::new("service-crowd-client");
    let client = party(&dir, Party::P2);
    let mut config = Running::config(shares.path());
    config.handshake_timeout = Duration::from_secs(4);
    config.paillier_pool = 0;
    let svc = Running::start_with(&dir, config);
    let k = client_keygen(&svc.addr, &client, client_dir.path(), "k.share");

    let idle: Vec<TcpStream> = (0..300)
        .map(|_| TcpStream::connect(&svc.addr).unwrap())
        .collect();
    // A TLS record header announcing a 512-byte ClientHello, and 5 of its bytes.
    let partial: Vec<TcpStream> = (0..20)
        .map(|_| {
            let mut s = TcpStream::connect(&svc.addr).unwrap();
            s.write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03])
                .unwrap();
            s
        })
        .collect();
    let silent: Vec<_> = (0..10)
        .map(|_| connect(&svc.addr, &client, OK_TIMEOUT).unwrap())
        .collect();
    let start = std::time::Instant::now();
    let mut ch = connect(&svc.addr, &client, OK_TIMEOUT).unwrap();
    fetch_health(&mut ch).unwrap();
    client_sign(&svc.addr, &client, &k, [5; 32]).unwrap();
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "served in {:?} with 330 stalled connections open",
        start.elapsed()
    );
    // Past the handshake timeout every stalled connection has been dropped and logged.
    thread::sleep(Duration::from_secs(5));
    let lines = svc.stop();
    let timed_out = lines
        .iter()
        .filter(|l| l.contains("dropped") && l.contains("before a session"))
        .count();
    assert!(
        timed_out >= 320,
        "{timed_out} dropped before a session: {lines:#?}"
    );
    let requests_missing = lines
        .iter()
        .filter(|l| l.contains("dropped") && l.contains("CN=client1"))
        .count();
    assert!(requests_missing >= 10, "{lines:#?}");
    drop((idle, partial, silent));
}

/// A stop does not wait for connections that were never opened, and cuts off a session
/// stalled past the stop deadline: a client that sent its sign request and then nothing,
/// and idle connections being opened, hold the stop up for about the deadline, not for the
/// session's per-message timeout or a handshake timeout.
#[test]
fn a_stop_drops_unopened_connections_and_cuts_a_stalled_session_at_its_deadline() {
    let dir = certs("service-stop");
    let shares = TempDir::new("service-stop-shares");
    let client_dir = TempDir::new("service-stop-client");
    let client = party(&dir, Party::P2);
    let mut config = Running::config(shares.path());
    config.handshake_timeout = Duration::from_secs(30);
    config.session_timeout = Duration::from_secs(60);
    config.stop_deadline = Duration::from_secs(1);
    config.paillier_pool = 0;
    let svc = Running::start_with(&dir, config);
    let k = client_keygen(&svc.addr, &client, client_dir.path(), "k.share");
    let q = k.load_active::<KeyShareP2>().unwrap().public().q;

    // An authenticated sign request, then silence: the session waits for the epoch hello.
    let mut stalled = connect(&svc.addr, &client, OK_TIMEOUT).unwrap();
    request::ask(
        &mut stalled,
        &Request::on_key(Operation::Sign([4; 32]), key_id(&q)),
    )
    .unwrap();
    // Twelve idle connections being opened.
    let idle: Vec<TcpStream> = (0..12)
        .map(|_| TcpStream::connect(&svc.addr).unwrap())
        .collect();
    thread::sleep(Duration::from_millis(300));

    let start = std::time::Instant::now();
    let lines = svc.stop();
    let took = start.elapsed();
    // The openings are dropped at once, the stalled session at the deadline.
    assert!(
        took < Duration::from_secs(8),
        "the stop took {took:?}: {lines:#?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("stop deadline: closed the")),
        "{lines:#?}"
    );
    assert!(
        lines
            .iter()
            .filter(|l| l.contains("the service is stopping: not opened"))
            .count()
            >= 12,
        "{lines:#?}"
    );
    drop((idle, stalled));
}

/// A relay on a free loopback port to `upstream`, for one client: `forward_up` carries the
/// client's bytes to the service (reading the first stream, writing the second), the
/// service's come back as they arrive; when the service closes, so does the relay, at once.
/// Returns the relay's address.
fn relay(upstream: &str, forward_up: impl FnOnce(TcpStream, TcpStream) + Send + 'static) -> String {
    let relay = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let relay_addr = relay.local_addr().unwrap().to_string();
    let upstream = upstream.to_owned();
    thread::spawn(move || {
        let (down, _) = relay.accept().unwrap();
        let up = TcpStream::connect(&upstream).unwrap();
        up.set_nodelay(true).unwrap();
        let (down_r, up_w) = (down.try_clone().unwrap(), up.try_clone().unwrap());
        let (mut up_r, mut down_w) = (up, down);
        thread::spawn(move || {
            let shut = up_w.try_clone().unwrap();
            forward_up(down_r, up_w);
            let _ = shut.shutdown(std::net::Shutdown::Write);
        });
        std::io::copy(&mut up_r, &mut down_w).ok();
        let _ = down_w.shutdown(std::net::Shutdown::Both);
    });
    relay_addr
}

/// A client whose bytes arrive one at a time (each TLS record, and the request's frame
/// header and body, split over many reads of the service) is opened and served like any
/// other: the opening picks each piece up as it arrives.
#[test]
fn a_client_whose_bytes_arrive_one_at_a_time_is_served() {
    use std::io::{Read as _, Write as _};
    let dir = certs("service-drip");
    let shares = TempDir::new("service-drip-shares");
    let client = party(&dir, Party::P2);
    let mut config = Running::config(shares.path());
    config.paillier_pool = 0;
    let svc = Running::start_with(&dir, config);
    // A relay that forwards the client's bytes one per write (each its own TCP segment),
    // and the service's as they come.
    let relay_addr = relay(&svc.addr, |mut down_r, mut up_w| {
        let mut byte = [0u8; 1];
        while let Ok(1) = down_r.read(&mut byte) {
            if up_w.write_all(&byte).is_err() {
                break;
            }
            thread::sleep(Duration::from_micros(50));
        }
    });
    let mut ch = connect(&relay_addr, &client, OK_TIMEOUT).unwrap();
    let h = fetch_health(&mut ch).unwrap();
    assert_eq!(h.protocol, request::REQUEST_VERSION);
    let lines = svc.stop();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("CN=client1") && l.contains("health") && l.contains("ok")),
        "{lines:#?}"
    );
}

/// The TLS handshake and the request share one deadline: a client whose handshake takes most
/// of `handshake_timeout` (its first bytes held back by a relay) and whose request comes after
/// the rest is dropped, not given a second full timeout for the request.
#[test]
fn handshake_and_request_together_get_one_handshake_timeout() {
    let dir = certs("service-slow-open");
    let shares = TempDir::new("service-slow-open-shares");
    let client = party(&dir, Party::P2);
    let mut config = Running::config(shares.path());
    config.handshake_timeout = Duration::from_secs(2);
    config.paillier_pool = 0;
    let svc = Running::start_with(&dir, config);
    // A relay that holds the client's bytes back for 1.3 s, then forwards both ways.
    let relay_addr = relay(&svc.addr, |mut down_r, mut up_w| {
        thread::sleep(Duration::from_millis(1300));
        std::io::copy(&mut down_r, &mut up_w).ok();
    });
    let mut ch = connect(&relay_addr, &client, OK_TIMEOUT).unwrap();
    // About 1.3 s of the 2 are gone; the request comes 1 s later, past the deadline.
    thread::sleep(Duration::from_millis(1000));
    let asked = request::ask(&mut ch, &Request::health());
    assert!(asked.is_err(), "served past the deadline");
    thread::sleep(Duration::from_millis(200));
    let lines = svc.stop();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("dropped") && l.contains("CN=client1")),
        "{lines:#?}"
    );
}

/// A service (no Paillier pool) whose client has made one key: where the refusal tests
/// start from. `tune` adjusts the service's configuration before it starts.
/// Destructure it binding `dir` and `_keep` (not `..` alone, which would drop them at once):
/// the certificates and both share directories must outlive the service's use of them.
struct OneKey {
    dir: TempDir,
    /// Party 0's share directory and party 1's.
    _keep: (TempDir, TempDir),
    client: CertPaths,
    config: ServiceConfig,
    svc: Running,
    /// Party 1's share files of the key.
    k: ShareFiles,
    s2: KeyShareP2,
    id: ecdsa2pc_net::KeyId,
}

impl OneKey {
    fn new(tag: &str, tune: impl FnOnce(&mut ServiceConfig)) -> Self {
        let dir = certs(tag);
        let shares = TempDir::new(&format!("{tag}-shares"));
        let client_dir = TempDir::new(&format!("{tag}-client"));
        let client = party(&dir, Party::P2);
        let mut config = Running::config(shares.path());
        config.paillier_pool = 0;
        tune(&mut config);
        let svc = Running::start_with(&dir, config.clone());
        let k = client_keygen(&svc.addr, &client, client_dir.path(), "k.share");
        let s2 = k.load_active::<KeyShareP2>().unwrap();
        let id = key_id(&s2.public().q);
        Self {
            dir,
            _keep: (shares, client_dir),
            client,
            config,
            svc,
            k,
            s2,
            id,
        }
    }
}

/// A session that holds a key holds it for its whole run: with no key wait, a second client
/// signing with that key while a first has its sign request accepted and sends nothing more
/// is refused as busy at once, told that another session is using the key (not another
/// process, not the connection cap); once the first client is gone, the key signs again.
#[test]
fn a_key_held_by_a_stalled_session_is_refused_as_busy_after_the_key_wait_and_freed_when_it_ends() {
    let OneKey {
        dir: _dir,
        _keep,
        client,
        svc,
        k,
        id,
        ..
    } = OneKey::new("service-key-wait", |c| c.key_wait = Duration::ZERO);
    let in_use = format!(
        "another session is using key {} (waited 0 s)",
        key_id_hex(&id)
    );

    // Accepted (so the service holds the key), then silence: the session waits for the epoch
    // hello, up to the session timeout.
    let mut stalled = connect(&svc.addr, &client, OK_TIMEOUT).unwrap();
    request::ask(&mut stalled, &Request::on_key(Operation::Sign([1; 32]), id)).unwrap();
    let (code, reason) =
        refusal_and_reason(client_sign(&svc.addr, &client, &k, [2; 32]).unwrap_err());
    assert_eq!(code, RefusalCode::Busy, "{reason}");
    assert_eq!(reason, in_use);

    // The stalled client leaves: its session ends and lets the key go. (Until the service has
    // seen the connection close, the key may still be in use: retried while busy for it.)
    drop(stalled);
    let start = std::time::Instant::now();
    loop {
        match client_sign(&svc.addr, &client, &k, [3; 32]) {
            Ok(_) => break,
            Err(e) => {
                let (code, reason) = refusal_and_reason(e);
                assert!(code == RefusalCode::Busy && reason == in_use, "{reason}");
                assert!(
                    start.elapsed() < Duration::from_secs(30),
                    "the key was never freed"
                );
                thread::sleep(Duration::from_millis(50));
            }
        }
    }
    let lines = svc.stop();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("(busy)") && l.contains(&in_use)),
        "{lines:#?}"
    );
}

/// A second party-0 identity from the CA in `dir`: `server2-cert.pem` over a new key
/// `server2-key.pem`, with what generate_certs.sh gives `server-cert.pem` (CN=localhost, SAN
/// DNS:localhost and IP:127.0.0.1, serverAuth). Issued with openssl from the CA's key: the
/// script makes one server identity per CA (`--extra` adds client identities only; a run
/// without the whole base set refuses, and one into a new directory makes a new CA).
fn another_server_identity(dir: &TempDir) -> CertPaths {
    let d = dir.path();
    std::fs::write(
        d.join("server2.cnf"),
        "[req]\ndistinguished_name = dn\nprompt = no\n[dn]\n[server]\n\
         basicConstraints = critical, CA:FALSE\nkeyUsage = critical, digitalSignature\n\
         extendedKeyUsage = serverAuth\nsubjectAltName = DNS:localhost, IP:127.0.0.1\n",
    )
    .unwrap();
    let openssl = |args: &[&str]| {
        let out = std::process::Command::new("openssl")
            .args(args)
            .current_dir(d)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    openssl(&[
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-out",
        "server2-key.pem",
    ]);
    openssl(&[
        "req",
        "-new",
        "-config",
        "server2.cnf",
        "-key",
        "server2-key.pem",
        "-subj",
        "/CN=localhost",
        "-out",
        "server2.csr",
    ]);
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server2.csr",
        "-CA",
        "ca-cert.pem",
        "-CAkey",
        "ca-key.pem",
        "-set_serial",
        "0x0102",
        "-days",
        "30",
        "-sha256",
        "-extfile",
        "server2.cnf",
        "-extensions",
        "server",
        "-out",
        "server2-cert.pem",
    ]);
    CertPaths {
        cert: d.join("server2-cert.pem"),
        key: d.join("server2-key.pem"),
        ..party(dir, Party::P1)
    }
}

/// A key is bound to party 0's certificate as well as the client's: restarted over the same
/// share directory under another server certificate from the same CA (which the client's TLS
/// handshake accepts), the service refuses a key made under the old one as unavailable, for
/// a signature and for its public key alike, and says why; under the old certificate again
/// the key signs.
#[test]
fn a_restart_under_another_server_certificate_refuses_the_keys_made_under_the_old_one() {
    let OneKey {
        dir,
        _keep,
        client,
        config,
        svc,
        k,
        s2,
        id,
        ..
    } = OneKey::new("service-new-server-cert", |_| ());
    svc.stop();

    let svc = Running::start_as(&another_server_identity(&dir), config.clone());
    let why = format!(
        "party 0's certificate is not the one key {} was made with",
        key_id_hex(&id)
    );
    let (code, reason) =
        refusal_and_reason(client_sign(&svc.addr, &client, &k, [1; 32]).unwrap_err());
    assert_eq!(code, RefusalCode::Unavailable, "{reason}");
    assert_eq!(reason, why);
    let mut ch = connect(&svc.addr, &client, OK_TIMEOUT).unwrap();
    assert_ne!(
        ch.info().peer_pid,
        *s2.pids().1,
        "the service runs under another key"
    );
    let (code, reason) = refusal_and_reason(fetch_pubkey(&mut ch, id).unwrap_err());
    assert_eq!((code, reason.as_str()), (RefusalCode::Unavailable, &*why));
    svc.stop();

    let svc = Running::start_with(&dir, config);
    client_sign(&svc.addr, &client, &k, [2; 32]).unwrap();
    svc.stop();
}

/// The lock flag in a share file refuses the key by itself: party 0's share written locked
/// (as a failed signature leaves it) with no entry in any lock registry is refused for sign
/// and refresh with the file's own reason (the share locked itself), not the registry's,
/// and its public key is still served.
#[test]
fn a_share_locked_in_its_own_file_alone_refuses_sign_and_refresh_and_still_gives_its_public_key() {
    let OneKey {
        dir: _dir,
        _keep,
        client,
        config,
        svc,
        k,
        s2,
        id,
    } = OneKey::new("service-file-locked", |_| ());
    let public = *s2.public();

    // The share locked and written to its file alone (as `Persist::locked` of plain share
    // files does): no registry holds the key.
    let p0 = config.files_of(&id);
    let mut s1 = p0.load_active::<KeyShareP1>().unwrap();
    crate::fixtures::fail_final_check(&mut s1, &s2);
    driver::Persist::locked(&mut p0.clone(), &s1).unwrap();
    assert!(p0.load_active::<KeyShareP1>().unwrap().is_locked());
    config.registry_of(&p0).check(&public).unwrap();

    let why = format!(
        "key {} locked itself after a failed signature",
        key_id_hex(&id)
    );
    let (code, reason) =
        refusal_and_reason(client_sign(&svc.addr, &client, &k, [1; 32]).unwrap_err());
    assert_eq!(code, RefusalCode::KeyLocked, "{reason}");
    assert!(reason.starts_with(&why), "{reason}");
    let mut ch = connect(&svc.addr, &client, OK_TIMEOUT).unwrap();
    let e = request::ask(&mut ch, &Request::on_key(Operation::Refresh, id)).unwrap_err();
    let (code, reason) = refusal_and_reason(e);
    assert_eq!(code, RefusalCode::KeyLocked, "{reason}");
    assert!(reason.starts_with(&why), "{reason}");
    let mut ch = connect(&svc.addr, &client, OK_TIMEOUT).unwrap();
    assert_eq!(fetch_pubkey(&mut ch, id).unwrap(), public.q);
    let lines = svc.stop();
    assert!(
        !lines.iter().any(|l| l.contains("lock registry")),
        "{lines:#?}"
    );
}
