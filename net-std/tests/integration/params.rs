//! Issue 10 in net-std: party 0's commitment-parameter secret on disk, the parameter exchange
//! in keygen over real mutual TLS, party 1's pins, and what each refusal says.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::thread;
use std::time::Duration;

use ecdsa2pc_core::{
    Error as CoreError, KeyShare, KeyShareP1, KeyShareP2, Message, ParamsMsg, Party, Proof,
    RingPedersenParams, RingPedersenSecret, keygen,
};
use ecdsa2pc_net::params_msg::{CachedParamsMsg, FILE_NAME as PROOF_FILE, ParamsMsgCache};
use ecdsa2pc_net::params_secret::{FILE_NAME, ParamsSecretFile};
use ecdsa2pc_net::pins::{PinEvent, PinStore};
use ecdsa2pc_net::sealed::{KdfParams, Sealer, Secret};
use ecdsa2pc_net::store::ShareFiles;
use ecdsa2pc_net::{
    Framed, NetError, PeerAbort, Pid, ProtocolError, StoreError, Transport, connect, driver,
    memory_pipe, rng::os_rng,
};
use k256::ecdsa::{VerifyingKey, signature::hazmat::PrehashVerifier};
use zeroize::Zeroizing;

use crate::fixtures;
use crate::support::{self, TempDir};

const TIMEOUT: Duration = Duration::from_secs(60);

/// Cheap Argon2id parameters: the tests are about the files, not the KDF's cost.
fn sealer(passphrase: &[u8]) -> Sealer {
    Sealer::with_params(
        Secret::Passphrase(Zeroizing::new(passphrase.to_vec())),
        KdfParams {
            m_kib: 64,
            t: 1,
            p: 1,
        },
    )
}

/// One keygen over mutual TLS: party 0 with `params`, party 1 checking against `pins`.
/// Returns both results and what party 1's pin check reported.
fn keygen_over_tls(
    certs: &TempDir,
    params: RingPedersenSecret,
    pins: &PinStore,
) -> (
    Result<KeyShareP1, NetError>,
    Result<KeyShareP2, NetError>,
    Vec<PinEvent>,
) {
    let (addr, server) =
        support::serve(support::party(certs, Party::P1), TIMEOUT, move |mut ch| {
            let info = ch.info().clone();
            let mut rng = os_rng().unwrap();
            driver::keygen_p1(
                &mut ch,
                &mut rng,
                &driver::context(&info),
                fixtures::paillier(0),
                &params,
            )
        });
    let mut ch = connect(&addr, &support::party(certs, Party::P2), TIMEOUT).unwrap();
    let info = ch.info().clone();
    let mut events = Vec::new();
    let p2 = driver::keygen_p2(
        &mut ch,
        &mut os_rng().unwrap(),
        &driver::context(&info),
        &mut |msg, owner| pins.check(msg, owner, &mut |e| events.push(e)),
    );
    drop(ch);
    let p1 = server.join().unwrap().and_then(|r| r);
    (p1, p2, events)
}

#[test]
fn keygen_and_sign_over_mutual_tls_verify_the_parameters_once_then_use_the_pin() {
    let certs = support::certs("params-pin");
    let state = TempDir::new("params-pin-state");
    let pins = PinStore::new(&state.path().join("pins"));

    let (s1, s2, events) = keygen_over_tls(&certs, fixtures::params_secret(0), &pins);
    let (mut s1, s2) = (s1.unwrap(), s2.unwrap());
    let hash = fixtures::params().params().hash();
    assert_eq!(s1.params_hash(), hash);
    assert_eq!(s2.params_hash(), hash);
    let pin = match &events[..] {
        [
            PinEvent::Verifying { pin },
            PinEvent::Pinned {
                pin: written,
                hash: h,
            },
        ] if pin == written && *h == hash => pin.clone(),
        other => panic!("the first keygen checks the proof and pins: {other:?}"),
    };
    assert!(pin.starts_with(pins.dir()));
    assert_eq!(pins.pinned(s1.pids().0).unwrap(), Some(hash));
    assert_eq!(
        std::fs::metadata(&pin).unwrap().permissions().mode() & 0o777,
        0o600
    );

    // The same party 0 again: the pin is found, the proof is not checked again.
    let (t1, t2, events) = keygen_over_tls(&certs, fixtures::params_secret(0), &pins);
    t1.unwrap();
    t2.unwrap();
    assert!(
        matches!(&events[..], [PinEvent::Known { pin: p, hash: h }] if *p == pin && *h == hash),
        "{events:?}"
    );
    assert!(events[0].to_string().contains("proof not checked again"));

    // Signing over mutual TLS needs nothing more on party 1's side.
    let digest = [0x33u8; 32];
    let (addr, server) =
        support::serve(support::party(&certs, Party::P1), TIMEOUT, move |mut ch| {
            let info = ch.info().clone();
            let sig = driver::sign_p1(
                &mut ch,
                &mut os_rng().unwrap(),
                &mut s1,
                fixtures::params(),
                &driver::context(&info),
                &digest,
            );
            (sig, s1)
        });
    let mut ch = connect(&addr, &support::party(&certs, Party::P2), TIMEOUT).unwrap();
    let info = ch.info().clone();
    let sig = driver::sign_p2(
        &mut ch,
        &mut os_rng().unwrap(),
        &s2,
        &driver::context(&info),
        &digest,
    )
    .unwrap();
    let (sig1, s1) = server.join().unwrap().unwrap();
    assert_eq!(sig1.unwrap(), sig);
    VerifyingKey::from_affine(s1.public().q)
        .unwrap()
        .verify_prehash(&digest, &sig)
        .unwrap();
}

#[test]
fn a_changed_parameter_set_for_a_pinned_party_0_is_refused_naming_both_hashes_and_the_pin() {
    let certs = support::certs("params-changed");
    let state = TempDir::new("params-changed-state");
    let pins = PinStore::new(state.path());
    let (s1, _, _) = keygen_over_tls(&certs, fixtures::params_secret(0), &pins);
    let owner = *s1.unwrap().pids().0;
    let pin = pins.path_of(&owner);
    let before = std::fs::read(&pin).unwrap();

    let other = fixtures::params_secret(1);
    let offered = other.params().hash();
    let (p1, p2, events) = keygen_over_tls(&certs, other, &pins);
    assert!(
        events.is_empty(),
        "no proof check for a refused set: {events:?}"
    );
    let err = p2.unwrap_err();
    let NetError::Store(StoreError::ParamsPinned {
        pin: ref named,
        pinned,
        offered: ref got,
    }) = err
    else {
        panic!("expected ParamsPinned, got {err}");
    };
    assert_eq!(*named, pin);
    assert_eq!(pinned, fixtures::params().params().hash());
    assert_eq!(*got, offered);
    let text = err.to_string();
    let short = |h: &[u8; 32]| {
        h[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    for needle in [
        short(&pinned),
        short(&offered),
        pin.display().to_string(),
        "delete the pin".to_owned(),
    ] {
        assert!(text.contains(&needle), "{needle:?} in {text}");
    }
    // Party 0 hears why at once.
    let err = p1.unwrap_err();
    assert!(
        matches!(
            err,
            NetError::PeerAbort(PeerAbort {
                error: CoreError::ParamsMismatch,
                ..
            })
        ),
        "{err}"
    );
    assert!(err.to_string().contains("delete its pin"), "{err}");
    assert_eq!(std::fs::read(&pin).unwrap(), before, "the pin is unchanged");

    // Deleting the pin accepts the new set (a rotation on purpose).
    std::fs::remove_file(&pin).unwrap();
    let (p1, p2, events) = keygen_over_tls(&certs, fixtures::params_secret(1), &pins);
    p1.unwrap();
    assert_eq!(p2.unwrap().params_hash(), offered);
    assert!(matches!(
        events[..],
        [PinEvent::Verifying { .. }, PinEvent::Pinned { .. }]
    ));
}

/// Party 0 by hand: sends `bytes` as its parameter message; returns what it got back.
fn party_0_sends_params(bytes: Vec<u8>) -> (NetError, Option<CoreError>, Vec<PinEvent>, bool) {
    let state = TempDir::new("params-tampered");
    let pins = PinStore::new(state.path());
    let (a, b) = memory_pipe();
    let max = ecdsa2pc_core::MAX_MSG_LEN;
    let p0 = thread::spawn(move || {
        let mut t = Framed::new(a, max);
        t.send(&bytes).unwrap();
        // Keygen message 1 follows right behind, as from the real driver (a party 1 that
        // already refused the parameters may be gone).
        let mut rng = os_rng().unwrap();
        let (_, m1) = keygen::p1::start(
            &mut rng,
            &ctx(1, 2),
            fixtures::paillier(0),
            fixtures::params().params(),
        )
        .unwrap();
        let mut out = vec![0u8; keygen::Msg1::LEN];
        m1.encode(&mut out).unwrap();
        let _ = t.send(&out);
        let mut buf = vec![0u8; max];
        t.recv(&mut buf).ok().and_then(ecdsa2pc_core::peer_abort)
    });
    let mut t = Framed::new(b, max);
    let ctx = ecdsa2pc_core::Context {
        own_pid: [2; 32],
        peer_pid: [1; 32],
        channel_binding: b"pipe",
    };
    let mut events = Vec::new();
    let err = driver::keygen_p2(&mut t, &mut os_rng().unwrap(), &ctx, &mut |m, o| {
        pins.check(m, o, &mut |e| events.push(e))
    })
    .unwrap_err();
    let abort = p0.join().unwrap();
    let pinned = pins.pinned(&[1; 32]).unwrap().is_some();
    (err, abort, events, pinned)
}

fn params_msg(owner: &[u8; 32]) -> Vec<u8> {
    let msg = fixtures::params().params_msg(&mut os_rng().unwrap(), owner);
    let mut out = vec![0u8; ParamsMsg::LEN];
    msg.encode(&mut out).unwrap();
    out
}

#[test]
fn a_tampered_parameter_message_or_one_for_another_party_0_is_refused_and_not_pinned() {
    let expect_invalid = |(err, abort, events, pinned): (NetError, _, Vec<PinEvent>, bool)| {
        assert!(
            matches!(
                err,
                NetError::Protocol(ProtocolError {
                    error: CoreError::ProofInvalid(Proof::RingPedersenParams),
                    step: "keygen, parameters",
                })
            ),
            "{err}"
        );
        assert_eq!(
            abort,
            Some(CoreError::ProofInvalid(Proof::RingPedersenParams))
        );
        assert!(
            matches!(events[..], [PinEvent::Verifying { .. }]),
            "{events:?}"
        );
        assert!(!pinned, "nothing pinned");
    };
    // A flipped bit in the last proof response.
    let mut bytes = params_msg(&[1; 32]);
    *bytes.last_mut().unwrap() ^= 1;
    expect_invalid(party_0_sends_params(bytes));
    // A valid proof, made for another party 0's pid.
    expect_invalid(party_0_sends_params(params_msg(&[9; 32])));
    // A truncated message fails at decode.
    let mut bytes = params_msg(&[1; 32]);
    bytes.pop();
    let (err, abort, events, pinned) = party_0_sends_params(bytes);
    assert!(
        matches!(
            err,
            NetError::Protocol(ProtocolError {
                error: CoreError::Malformed,
                step: "keygen, parameters",
            })
        ),
        "{err}"
    );
    assert_eq!(abort, Some(CoreError::Malformed));
    assert!(events.is_empty() && !pinned);
}

/// Keygen over a memory pipe with the fixture parameters.
fn keygen_pipe() -> (KeyShareP1, KeyShareP2) {
    let (r1, r2) = keygen_over_pipe(&ParamsMsgCache::in_memory(), fixtures::trusted);
    (r1.unwrap(), r2.unwrap())
}

/// Keygen over a memory pipe: party 0 with the fixture parameters and its message from
/// `params_msgs`, party 1 judging that message with `accept`. Both sides' results.
fn keygen_over_pipe(
    params_msgs: &ParamsMsgCache,
    mut accept: impl FnMut(&ParamsMsg, &Pid) -> Result<RingPedersenParams, NetError> + Send + 'static,
) -> (Result<KeyShareP1, NetError>, Result<KeyShareP2, NetError>) {
    let (a, b) = memory_pipe();
    let max = ecdsa2pc_core::MAX_MSG_LEN;
    let p2 = thread::spawn(move || {
        driver::keygen_p2(
            &mut Framed::new(b, max),
            &mut os_rng().unwrap(),
            &ctx(2, 1),
            &mut accept,
        )
    });
    let r1 = driver::keygen_p1_persisted(
        &mut Framed::new(a, max),
        &mut os_rng().unwrap(),
        &ctx(1, 2),
        fixtures::paillier(0),
        fixtures::params(),
        params_msgs,
        &mut driver::InMemory,
    );
    (r1, p2.join().unwrap())
}

fn ctx(own: u8, peer: u8) -> ecdsa2pc_core::Context<'static> {
    ecdsa2pc_core::Context {
        own_pid: [own; 32],
        peer_pid: [peer; 32],
        channel_binding: b"pipe",
    }
}

#[test]
fn party_0_with_a_replaced_parameter_secret_refuses_to_sign_before_any_message() {
    let (mut s1, s2) = keygen_pipe();
    let (a, b) = memory_pipe();
    let max = ecdsa2pc_core::MAX_MSG_LEN;
    let p2 = thread::spawn(move || {
        driver::sign_p2(
            &mut Framed::new(b, max),
            &mut os_rng().unwrap(),
            &s2,
            &ctx(2, 1),
            &[7; 32],
        )
        .unwrap_err()
    });
    let replaced = fixtures::params_secret(1);
    let err = driver::sign_p1(
        &mut Framed::new(a, max),
        &mut os_rng().unwrap(),
        &mut s1,
        &replaced,
        &ctx(1, 2),
        &[7; 32],
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            NetError::Protocol(ProtocolError {
                error: CoreError::ParamsMismatch,
                step: "sign, message 1",
            })
        ),
        "{err}"
    );
    let text = err.to_string();
    assert!(
        text.contains("parameter secret file replaced") && text.contains("restored from a backup"),
        "{text}"
    );
    let err2 = p2.join().unwrap();
    assert!(
        matches!(
            err2,
            NetError::PeerAbort(PeerAbort {
                error: CoreError::ParamsMismatch,
                step: "sign, message 1",
            })
        ),
        "{err2}"
    );
    assert!(err2.to_string().contains("party 0 must restore"), "{err2}");
    assert!(!s1.is_locked());
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn the_parameter_secret_is_sealed_and_refused_without_or_with_a_wrong_passphrase() {
    let dir = TempDir::new("params-sealed");
    let file = ParamsSecretFile::in_dir(dir.path()).sealed_with(Some(sealer(b"right")));
    assert_eq!(file.path(), dir.path().join(FILE_NAME));
    assert!(file.write_new(fixtures::params()).unwrap());
    let bytes = std::fs::read(file.path()).unwrap();
    assert!(ecdsa2pc_net::sealed::is_sealed(&bytes));
    assert_eq!(mode(file.path()), 0o600);
    assert_eq!(
        file.load().unwrap().params().hash(),
        fixtures::params().params().hash()
    );

    let err = ParamsSecretFile::in_dir(dir.path()).load().unwrap_err();
    assert!(matches!(err, StoreError::NoSecret { .. }), "{err}");
    let err = ParamsSecretFile::in_dir(dir.path())
        .sealed_with(Some(sealer(b"wrong")))
        .load()
        .unwrap_err();
    assert!(matches!(err, StoreError::WrongSecret { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.starts_with("party 0's commitment-parameter secret "),
        "the message names the file for what it is: {text}"
    );

    // A sealed key share where the parameter secret belongs is refused as such.
    let (s1, _) = keygen_pipe();
    let share = ShareFiles::new(&dir.path().join("p1.share")).sealed_with(Some(sealer(b"right")));
    share.write_active(&s1).unwrap();
    std::fs::rename(share.path(), file.path()).unwrap();
    let err = file.load().unwrap_err();
    assert!(
        matches!(err, StoreError::SealBroken { why, .. } if why.contains("holds a key share")),
        "{err}"
    );
}

#[test]
fn the_parameter_secret_must_be_private_whole_and_is_never_replaced() {
    let dir = TempDir::new("params-private");
    let file = ParamsSecretFile::beside(&dir.path().join("p0.share"));
    assert_eq!(file.path(), dir.path().join(FILE_NAME));
    assert!(!file.exists());
    assert!(file.write_new(fixtures::params()).unwrap());
    let first = std::fs::read(file.path()).unwrap();

    // Never replaced: a second write keeps the first file, and load_or_make uses it.
    assert!(!file.write_new(&fixtures::params_secret(1)).unwrap());
    assert_eq!(std::fs::read(file.path()).unwrap(), first);
    let mut made = false;
    let loaded = file.load_or_make(&mut || made = true).unwrap();
    assert!(!made, "an existing secret is loaded, not made");
    assert_eq!(loaded.params().hash(), fixtures::params().params().hash());
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(names.len(), 1, "no temporary file is left behind");

    std::fs::set_permissions(file.path(), std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = file.load().unwrap_err();
    assert!(
        matches!(err, StoreError::LoosePermissions { mode: 0o644, .. }),
        "{err}"
    );
    let text = err.to_string();
    assert!(
        text.contains("chmod 600") && text.contains("commitment-parameter secret"),
        "{text}"
    );
    std::fs::set_permissions(file.path(), std::fs::Permissions::from_mode(0o600)).unwrap();

    // A damaged file is refused, not used.
    let mut bad = first.clone();
    let at = bad.len() / 2;
    bad[at] ^= 1;
    std::fs::write(file.path(), &bad).unwrap();
    let err = file.load().unwrap_err();
    assert!(matches!(err, StoreError::ParamsDamaged { .. }), "{err}");
    assert!(
        err.to_string().contains("restore it from a backup"),
        "{err}"
    );
    let err = ParamsSecretFile::in_dir(&dir.path().join("nowhere"))
        .load()
        .unwrap_err();
    assert!(matches!(err, StoreError::Missing { .. }), "{err}");
}

#[test]
fn a_share_made_before_the_commitment_parameters_says_run_keygen_again() {
    let dir = TempDir::new("params-old-share");
    let (s1, _) = keygen_pipe();
    let files = ShareFiles::new(&dir.path().join("p1.share"));
    files.write_active(&s1).unwrap();
    // The core's format 1 is what every share before issue 10 starts with.
    let mut bytes = std::fs::read(files.path()).unwrap();
    assert_eq!(&bytes[..4], b"E2PC");
    assert_ne!(bytes[4], 1, "the format was bumped");
    bytes[4] = 1;
    std::fs::write(files.path(), &bytes).unwrap();
    let err = files.load::<KeyShareP1>().unwrap_err();
    assert!(matches!(err, StoreError::OldFormat { .. }), "{err}");
    assert!(err.to_string().contains("Run keygen again"), "{err}");
    let err = ShareFiles::party_of(files.path(), &bytes).unwrap_err();
    assert!(matches!(err, StoreError::OldFormat { .. }), "{err}");
}

/// Party 0's parameter message from `params_msgs` for the fixture parameters and pid [1; 32].
fn cached(params_msgs: &ParamsMsgCache) -> std::sync::Arc<CachedParamsMsg> {
    params_msgs.get(&mut os_rng().unwrap(), fixtures::params(), &[1; 32])
}

#[test]
fn the_parameter_proof_is_made_once_per_identity_and_read_back_after_a_restart() {
    let dir = TempDir::new("params-proof");
    let secret_file = ParamsSecretFile::in_dir(dir.path());
    let params_msgs = ParamsMsgCache::beside(&secret_file);
    let proof_path = dir.path().join(PROOF_FILE);
    assert_eq!(params_msgs.path(), Some(proof_path.as_path()));

    let first = cached(&params_msgs);
    assert!(first.is_for(fixtures::params(), &[1; 32]));
    assert!(!first.is_for(fixtures::params(), &[2; 32]));
    assert!(!first.is_for(&fixtures::params_secret(1), &[1; 32]));
    assert_eq!(
        ecdsa2pc_net::pins::verify(first.msg(), &[1; 32]).unwrap(),
        *fixtures::params().params()
    );
    assert_eq!(mode(&proof_path), 0o600);
    // The same process: the same message, not a new proof.
    assert!(std::sync::Arc::ptr_eq(&first, &cached(&params_msgs)));
    // A restart: read from the file (a new proof would be a different one: its masks are
    // random).
    assert_eq!(*cached(&ParamsMsgCache::beside(&secret_file)), *first);

    // Another identity (a new certificate) or other parameters, asked of the same cache (its
    // message in memory is not for them) and of a new one (nor is its file): proved for them,
    // and the file now holds that message.
    for cache in [&params_msgs, &ParamsMsgCache::beside(&secret_file)] {
        let other = cache.get(&mut os_rng().unwrap(), fixtures::params(), &[3; 32]);
        assert!(other.is_for(fixtures::params(), &[3; 32]));
        ecdsa2pc_net::pins::verify(other.msg(), &[3; 32]).unwrap();
        let other_params = fixtures::params_secret(1);
        let again = cache.get(&mut os_rng().unwrap(), &other_params, &[3; 32]);
        assert!(again.is_for(&other_params, &[3; 32]));
        assert_eq!(
            ecdsa2pc_net::pins::verify(again.msg(), &[3; 32]).unwrap(),
            *other_params.params()
        );
        let back = cached(cache);
        assert!(back.is_for(fixtures::params(), &[1; 32]));
    }
    assert!(params_msgs.take_write_error().is_none());
    let in_memory = ParamsMsgCache::in_memory();
    assert_eq!(in_memory.path(), None);
    assert!(std::sync::Arc::ptr_eq(
        &cached(&in_memory),
        &cached(&in_memory)
    ));
}

#[test]
fn a_damaged_or_truncated_parameter_proof_file_is_proved_again_and_replaced() {
    let dir = TempDir::new("params-proof-damaged");
    let secret_file = ParamsSecretFile::in_dir(dir.path());
    let first = cached(&ParamsMsgCache::beside(&secret_file));
    let path = dir.path().join(PROOF_FILE);
    let good = std::fs::read(&path).unwrap();
    // The magic, the owner pid, the message's header and body, the checksum.
    for at in [0, 30, 60, good.len() / 2, good.len() - 1] {
        let mut bad = good.clone();
        bad[at] ^= 1;
        std::fs::write(&path, &bad).unwrap();
        let made = cached(&ParamsMsgCache::beside(&secret_file));
        assert_ne!(*made, *first, "byte {at}: a damaged file is not used");
        ecdsa2pc_net::pins::verify(made.msg(), &[1; 32]).unwrap();
        // Replaced by the new message: the next run reads it.
        assert_eq!(*cached(&ParamsMsgCache::beside(&secret_file)), *made);
    }
    std::fs::write(&path, &good[..good.len() - 1]).unwrap();
    let made = cached(&ParamsMsgCache::beside(&secret_file));
    assert_ne!(*made, *first, "a truncated file is not used");
    assert_eq!(*cached(&ParamsMsgCache::beside(&secret_file)), *made);
}

#[test]
fn keygen_with_a_parameter_proof_read_from_disk_passes_party_1s_full_check() {
    let dir = TempDir::new("params-proof-keygen");
    let secret_file = ParamsSecretFile::in_dir(dir.path());
    let first = cached(&ParamsMsgCache::beside(&secret_file));
    let (sent, seen) = std::sync::mpsc::channel();
    let (r1, r2) = keygen_over_pipe(&ParamsMsgCache::beside(&secret_file), move |msg, owner| {
        sent.send(msg.clone()).unwrap();
        ecdsa2pc_net::pins::verify(msg, owner)
    });
    assert_eq!(r1.unwrap().public(), r2.unwrap().public());
    assert_eq!(
        seen.try_recv().as_ref(),
        Ok(first.msg()),
        "the message read from disk"
    );
}

#[test]
fn a_parameter_proof_that_cannot_be_kept_is_still_used_and_the_failure_reported_once() {
    let dir = TempDir::new("params-proof-unwritable");
    let secret_file = ParamsSecretFile::in_dir(&dir.path().join("missing"));
    let params_msgs = ParamsMsgCache::beside(&secret_file);
    let msg = cached(&params_msgs);
    ecdsa2pc_net::pins::verify(msg.msg(), &[1; 32]).unwrap();
    let err = params_msgs
        .take_write_error()
        .expect("the failed write is kept");
    assert!(matches!(err, StoreError::Write { .. }), "{err}");
    assert!(err.to_string().contains(PROOF_FILE), "{err}");
    assert!(params_msgs.take_write_error().is_none(), "reported once");
}

#[test]
fn a_kept_parameter_proof_that_party_1_refuses_is_dropped_and_the_retry_proves_again() {
    use sha2::{Digest as _, Sha256};
    let dir = TempDir::new("params-proof-refused");
    let secret_file = ParamsSecretFile::in_dir(dir.path());
    let path = dir.path().join(PROOF_FILE);
    // A whole file for party 0's pid [1; 32] whose proof was made for another pid: what
    // someone who can write party 0's directory could leave there.
    let mut file = b"ecdsa2pc params proof v1".to_vec();
    file.extend_from_slice(&[1; 32]);
    file.extend_from_slice(&params_msg(&[9; 32]));
    let sum = Sha256::digest(&file);
    file.extend_from_slice(&sum);
    std::fs::write(&path, &file).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let params_msgs = ParamsMsgCache::beside(&secret_file);
    assert!(
        cached(&params_msgs).is_for(fixtures::params(), &[1; 32]),
        "read from the file, not proved"
    );

    let run = |params_msgs| keygen_over_pipe(params_msgs, ecdsa2pc_net::pins::verify);
    let (r1, r2) = run(&params_msgs);
    let err = r1.unwrap_err();
    assert!(
        matches!(
            err,
            NetError::PeerAbort(PeerAbort {
                error: CoreError::ProofInvalid(Proof::RingPedersenParams),
                ..
            })
        ),
        "{err}"
    );
    assert!(err.to_string().contains("ring-pedersen.proof"), "{err}");
    assert!(
        matches!(
            r2.unwrap_err(),
            NetError::Protocol(ProtocolError {
                error: CoreError::ProofInvalid(Proof::RingPedersenParams),
                ..
            })
        ),
        "party 1 refused the proof"
    );
    assert!(!path.exists(), "the refused proof is no longer kept");
    // The retry with the same cache proves again; party 1 accepts, and the new proof is kept.
    let (r1, r2) = run(&params_msgs);
    assert_eq!(r1.unwrap().public(), r2.unwrap().public());
    assert!(path.exists());
    ecdsa2pc_net::pins::verify(
        cached(&ParamsMsgCache::beside(&secret_file)).msg(),
        &[1; 32],
    )
    .unwrap();
}
