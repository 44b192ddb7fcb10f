//! The long-running party 0 (`service`) over real mutual TLS on 127.0.0.1: many keys,
//! concurrent sessions, junk connections, a client that does not own the key, a restart.

use std::io::Write as _;
use std::net::TcpStream;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use ecdsa2pc_core::{KeyShare, KeyShareP1, KeyShareP2, Party};
use ecdsa2pc_net::lock_registry::{LockRegistry, LockState};
use ecdsa2pc_net::request::{self, Operation, RefusalCode, Request, key_id, key_id_hex};
use ecdsa2pc_net::sealed::{self, Sealer, Secret};
use ecdsa2pc_net::service::{Service, ServiceConfig, Shutdown, fetch_pubkey};
use ecdsa2pc_net::store::ShareFiles;
use ecdsa2pc_net::{
    CertPaths, NetError, StoreError, Transport, connect, driver, epoch, rng::os_rng,
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
            &party(dir, Party::P1),
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
    let held = files.load::<KeyShareP2>()?;
    let q = held.active.public().q;
    let mut ch = connect(addr, paths, OK_TIMEOUT)?;
    ch.set_timeout(KEYGEN_TIMEOUT)?;
    request::ask(
        &mut ch,
        &Request::on_key(Operation::Sign(digest), key_id(&q)),
    )?;
    let share = epoch::agree(&mut ch, files, held)?;
    let info = ch.info().clone();
    let sig = driver::sign_p2(
        &mut ch,
        &mut os_rng()?,
        &share,
        &driver::context(&info),
        &digest,
    )?;
    VerifyingKey::from_affine(q)
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

/// Connections that are no ecdsa2pc session; each must be dropped and logged.
fn junk(addr: &str, other_ca: &TempDir) -> Vec<JoinHandle<()>> {
    let a = addr.to_owned();
    let mut out = vec![thread::spawn(move || {
        // Plain TCP that sends garbage, one that says nothing (stalls), one that vanishes.
        let mut s = TcpStream::connect(&a).unwrap();
        let _ = s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        let _stalled = TcpStream::connect(&a).unwrap();
        drop(TcpStream::connect(&a).unwrap());
        thread::sleep(Duration::from_secs(3));
    })];
    let (a, paths) = (addr.to_owned(), party(other_ca, Party::P2));
    out.push(thread::spawn(move || {
        // A certificate from another CA: the handshake fails.
        assert!(connect(&a, &paths, OK_TIMEOUT).is_err());
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
        let junk = junk(&svc.addr, &other_ca);
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
        refusal(fetch_pubkey(&mut ch, [0xee; 16]).unwrap_err()),
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
        .join(format!("{}.share", key_id_hex(&[0xdd; 16])));
    std::fs::copy(p0_of(&q1), &planted).unwrap();
    let mut ch = connect(&svc.addr, &client, OK_TIMEOUT).unwrap();
    assert_eq!(
        refusal(fetch_pubkey(&mut ch, [0xdd; 16]).unwrap_err()),
        RefusalCode::Unavailable
    );
    std::fs::write(&planted, b"not a share").unwrap();
    let mut ch = connect(&svc.addr, &client, OK_TIMEOUT).unwrap();
    assert_eq!(
        refusal(fetch_pubkey(&mut ch, [0xdd; 16]).unwrap_err()),
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
    bytes[4] = 2;
    ch.send(&bytes).unwrap();
    let mut buf = [0u8; request::MAX_REPLY_LEN];
    let reply = request::decode_reply(ch.recv(&mut buf).unwrap()).unwrap_err();
    assert_eq!(reply.code, RefusalCode::VersionNotSupported);
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
        .record(&public, LockState::Locked)
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
