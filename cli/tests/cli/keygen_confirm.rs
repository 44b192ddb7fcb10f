//! Confirmed keygen in one-shot mode (issue 11): keygen interrupted after party 0's last
//! message leaves neither side reporting success nor a usable half-made share, a pending
//! share is refused as a share and says so, and a retry into the same files works.
//!
//! The real binary runs one party; the test plays the other with the library's drivers and
//! a persistence that fails at the chosen moment.

use core::time::Duration;
use std::path::Path;

use ecdsa2pc_core::{KeyShareP1, Party, PublicShares};
use ecdsa2pc_net::driver::{self, Persist};
use ecdsa2pc_net::request::{self, Request};
use ecdsa2pc_net::{CertPaths, NetError, StoreError};

use crate::support::{
    TempDir, dir_with_certs, finish, free_addr, params_secret, run, spawn_command,
};

const TIMEOUT: Duration = Duration::from_secs(120);

/// The test's own party: storing fails at `pending` (it dies before acknowledging) or at
/// `promote` (it dies after receiving the acknowledgement, before confirming).
struct FailAt(&'static str);

impl FailAt {
    fn check(&self, step: &'static str) -> Result<(), NetError> {
        if self.0 == step {
            return Err(StoreError::Write {
                path: step.into(),
                action: "cannot write",
                source: std::io::Error::other("simulated failure"),
            }
            .into());
        }
        Ok(())
    }
}

impl<S> Persist<S> for FailAt {
    fn pending(&mut self, _: &S) -> Result<(), NetError> {
        self.check("pending")
    }
    fn promote(&mut self) -> Result<(), NetError> {
        self.check("promote")
    }
    fn discard(&mut self) -> Result<(), NetError> {
        Ok(())
    }
    fn deciding(&mut self, _: &PublicShares) -> Result<(), NetError> {
        Ok(())
    }
    fn decided(&mut self, _: &PublicShares) -> Result<(), NetError> {
        Ok(())
    }
    fn locked(&mut self, _: &S) -> Result<(), NetError> {
        Ok(())
    }
}

fn keygen_args(share: &Path) -> Vec<String> {
    vec![
        "--share".into(),
        share.display().to_string(),
        "--timeout".into(),
        "120".into(),
    ]
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// Both real parties make a key into `p0` and `p1`; returns Q as printed.
fn keygen_both(certs: &Path, p0: &Path, p1: &Path) -> String {
    let addr = free_addr();
    let a0 = keygen_args(p0);
    let a1 = keygen_args(p1);
    let r0 = spawn_command("keygen", 0, &addr, certs, &strs(&a0));
    let r1 = finish(spawn_command("keygen", 1, &addr, certs, &strs(&a1)));
    let r0 = finish(r0);
    assert_eq!((r0.code, r1.code), (Some(0), Some(0)), "{r0}\n{r1}");
    let q = r0.field("public key (SEC1 compressed): ");
    assert_eq!(q, r1.field("public key (SEC1 compressed): "));
    q
}

#[test]
fn party_1_dies_after_party_0s_last_message_so_party_0_keeps_nothing() {
    let dir = dir_with_certs("keygen-cut-p0");
    let certs = dir.path().join("certs");
    let p0 = dir.path().join("p0.share");
    let addr = free_addr();
    let args = keygen_args(&p0);
    let party0 = spawn_command("keygen", 0, &addr, &certs, &strs(&args));

    // Party 1 receives message 3 and cannot store its share: it never acknowledges.
    let paths = CertPaths::for_party(&certs, Party::P2);
    let mut ch = ecdsa2pc_net::connect(&addr, &paths, TIMEOUT).unwrap();
    request::ask(&mut ch, &Request::keygen()).unwrap();
    let info = ch.info().clone();
    let err = driver::keygen_p2_persisted(
        &mut ch,
        &mut ecdsa2pc_net::rng::os_rng().unwrap(),
        &driver::context(&info),
        &mut ecdsa2pc_net::pins::verify,
        &mut FailAt("pending"),
    )
    .unwrap_err();
    assert!(matches!(err, NetError::Store(_)), "{err}");
    drop(ch);

    let r = finish(party0);
    assert_ne!(r.code, Some(0), "{r}");
    assert!(r.stdout.is_empty(), "no public key on stdout:\n{r}");
    assert!(!r.stderr.contains("wrote key share"), "{r}");
    assert!(
        r.stderr.contains("keygen"),
        "the failed phase is named:\n{r}"
    );
    assert!(!p0.exists(), "no share");
    assert!(
        !dir.path().join("p0.share.pending").exists(),
        "party 0 discards its unconfirmed share"
    );

    // A retry into the same file works.
    let p1 = dir.path().join("p1.share");
    let q = keygen_both(&certs, &p0, &p1);
    let r = run(&["pubkey", "--share", p0.to_str().unwrap()]);
    assert_eq!(r.stdout.trim(), q, "{r}");
}

#[test]
fn party_0_dies_after_the_acknowledgement_so_party_1_keeps_a_pending_share_it_refuses_to_use() {
    let dir = dir_with_certs("keygen-cut-p1");
    let certs = dir.path().join("certs");
    let p1 = dir.path().join("p1.share");
    let pending = dir.path().join("p1.share.pending");
    let addr = free_addr();
    let args = keygen_args(&p1);

    // Party 0 (here) gets the acknowledgement and dies before confirming.
    let paths = CertPaths::for_party(&certs, Party::P1);
    let listener = ecdsa2pc_net::listen(&addr).unwrap();
    let party1 = spawn_command("keygen", 1, &addr, &certs, &strs(&args));
    let mut ch = listener.accept(&paths, TIMEOUT).unwrap();
    request::expect(&mut ch, &Request::keygen()).unwrap();
    let info = ch.info().clone();
    let (paillier, _) = ecdsa2pc_net::paillier::new_paillier_key().unwrap();
    // Party 0's parameter secret where the real party 0 of the retry below finds it: party 1
    // pins these parameters now and would refuse others from the same party 0.
    let secret = params_secret();
    ecdsa2pc_net::params_secret::ParamsSecretFile::in_dir(dir.path())
        .write_new(&secret)
        .unwrap();
    let err = driver::keygen_p1_persisted(
        &mut ch,
        &mut ecdsa2pc_net::rng::os_rng().unwrap(),
        &driver::context(&info),
        paillier,
        &secret,
        &ecdsa2pc_net::params_msg::ParamsMsgCache::in_memory(),
        &mut FailAt("promote"),
    )
    .map(|_: KeyShareP1| ())
    .unwrap_err();
    assert!(matches!(err, NetError::Store(_)), "{err}");
    drop(ch);

    let r = finish(party1);
    assert_ne!(r.code, Some(0), "{r}");
    assert!(r.stdout.is_empty(), "no public key on stdout:\n{r}");
    assert!(!r.stderr.contains("wrote key share"), "{r}");
    assert!(
        r.stderr.contains("p1.share.pending but stays pending"),
        "party 1 says where its unconfirmed share is:\n{r}"
    );
    assert!(!p1.exists(), "no active share");
    assert!(pending.exists(), "its half is kept, pending");

    // The pending file is not used as a share, and the refusal says why.
    let r = run(&["pubkey", "--share", p1.to_str().unwrap()]);
    assert_eq!(r.code, Some(2), "{r}");
    assert!(
        r.stderr
            .contains("p1.share.pending beside it is the share of a keygen")
            && r.stderr.contains("a pending share is never used as one"),
        "{r}"
    );

    // A retry into the same file replaces the pending share and works.
    let p0 = dir.path().join("p0.share");
    let q = keygen_both(&certs, &p0, &p1);
    assert!(!pending.exists(), "the unconfirmed share is gone");
    let r = run(&["pubkey", "--share", p1.to_str().unwrap()]);
    assert_eq!(r.stdout.trim(), q, "{r}");
}

/// The happy path is unchanged: both report the key, both shares are active, no pending
/// file is left.
#[test]
fn confirmed_keygen_leaves_two_active_shares_and_no_pending_file() {
    let dir = TempDir::new("keygen-happy");
    crate::support::make_certs(&dir.path().join("certs"));
    let p0 = dir.path().join("p0.share");
    let p1 = dir.path().join("p1.share");
    keygen_both(&dir.path().join("certs"), &p0, &p1);
    for p in [&p0, &p1] {
        assert!(p.exists());
        let mut pending = p.as_os_str().to_owned();
        pending.push(".pending");
        assert!(!Path::new(&pending).exists(), "{}", p.display());
    }
}
