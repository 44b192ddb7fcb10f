//! Signing, P1's side: commits to R1, verifies π_c3, only then decrypts P2's ciphertext,
//! finishes and checks the signature.

use k256::{AffinePoint, Scalar, ecdsa::Signature};
use rand_core::CryptoRng;
use zeroize::Zeroizing;

use super::{Derivation, Digest, Msg1, Msg2, Msg3, Msg4, Msg5, RUN, label};
use crate::{
    Error, Party, Result,
    bip32::DerivationPath,
    commitment, curve,
    paillier::{Ciphertext, HalfPlaintext, Prime},
    ring_pedersen::{RingPedersenSecret, TrapdoorTables},
    session::{self, Context, RunIds, SessionIds},
    share::{KeyShare, KeyShareP1},
    tags,
    transcript::Transcript,
    work::{Executor, Sequential, Work},
    zk::{
        dlog::DlogProof,
        sign_ciphertext::{Statement, Trapdoors},
    },
};

/// P1 after sending [`Msg1`], waiting for [`Msg2`]. Holds the share mutably: a failed
/// signature must lock it, and no second session can run on it meanwhile.
#[must_use]
pub struct AwaitMsg2<'s> {
    share: &'s mut KeyShareP1,
    params: &'s RingPedersenSecret,
    k1: Zeroizing<Scalar>,
    r1: AffinePoint,
    open_r1: [u8; 32],
    digest: Digest,
    /// δ of the derivation path (0 for the joint key).
    tweak: Scalar,
    ids: RunIds,
}

/// P1 after sending [`Msg3`], waiting for [`Msg4`].
#[must_use]
pub struct AwaitMsg4<'s> {
    share: &'s mut KeyShareP1,
    params: &'s RingPedersenSecret,
    k1: Zeroizing<Scalar>,
    /// R = k1·R2 (public: P2 computes it as k2·R1); r = x(R) mod q.
    big_r: AffinePoint,
    /// P2's nonce point, part of π_c3's statement.
    r2: AffinePoint,
    digest: Digest,
    /// δ of the derivation path (0 for the joint key).
    tweak: Scalar,
    ids: SessionIds,
}

/// The transcript P1 commits to (R1, digest) under.
pub(crate) fn r1_transcript(r1: &AffinePoint, digest: &Digest, ids: &RunIds) -> Transcript {
    let mut t = ids.committed(label::R1).transcript(tags::SIGN_R1);
    t.point("R1", r1).bytes("digest", digest);
    t
}

/// Starts signing `digest` with P1's share and P1's ring-Pedersen secret (the one whose
/// parameters the share pinned at keygen: P1 verifies P2's proof with it).
///
/// # Errors
/// [`Error::KeyLocked`] if the share is locked; [`Error::ParamsMismatch`] if `params` are not
/// the parameters the share was made under; [`Error::SessionMismatch`] if the context's peer
/// is not the peer recorded in the share.
pub fn start<'s, R: CryptoRng + ?Sized>(
    rng: &mut R,
    share: &'s mut KeyShareP1,
    params: &'s RingPedersenSecret,
    ctx: &Context<'_>,
    digest: &Digest,
) -> Result<(AwaitMsg2<'s>, Msg1)> {
    start_derived(rng, share, params, ctx, digest, &DerivationPath::MASTER)
}

/// As [`start`], signing under the BIP32 child key at `path` (non-hardened; `m` is the
/// joint key). x1 and c_key are used as they are: P2 adds the tweak to its share, and P1
/// checks π_c3 and the signature against the child key. The path is sent (as its id) and
/// hashed into the session, so P2 refuses a session under another path.
///
/// # Errors
/// As [`start`]; [`Error::NoChainCode`] for a path other than `m` on a share made before
/// chain codes; [`Error::InvalidChildKey`] if the path hits BIP32's invalid child.
pub fn start_derived<'s, R: CryptoRng + ?Sized>(
    rng: &mut R,
    share: &'s mut KeyShareP1,
    params: &'s RingPedersenSecret,
    ctx: &Context<'_>,
    digest: &Digest,
    path: &DerivationPath,
) -> Result<(AwaitMsg2<'s>, Msg1)> {
    let fingerprint = share.admit(ctx)?;
    if params.params().hash() != share.params_hash() {
        return Err(Error::ParamsMismatch);
    }
    let derivation = Derivation::new(&*share, path)?;
    let session::Opened { nonce1, ids, .. } =
        session::open(rng, ctx, RUN, derivation.session_extra(&fingerprint))?;
    let k1 = curve::random_scalar(rng);
    let r1 = curve::mul_g(&k1);
    let open_r1 = commitment::randomness(rng);
    let com_r1 = commitment::seal(r1_transcript(&r1, digest, &ids), &open_r1);
    let state = AwaitMsg2 {
        share,
        params,
        k1: Zeroizing::new(k1),
        r1,
        open_r1,
        digest: *digest,
        tweak: derivation.tweak,
        ids,
    };
    Ok((
        state,
        Msg1 {
            nonce1,
            fingerprint,
            path_id: derivation.path_id,
            com_r1,
        },
    ))
}

impl<'s> AwaitMsg2<'s> {
    /// Checks P2's proof of k2 and opens R1 with P1's own proof.
    ///
    /// # Errors
    /// [`Error::ProofInvalid`] if P2's proof fails; [`Error::DegenerateNonce`] if r = 0.
    pub fn on_msg2<R: CryptoRng + ?Sized>(
        self,
        rng: &mut R,
        msg: &Msg2,
    ) -> Result<(AwaitMsg4<'s>, Msg3)> {
        let ids = self.ids.with_nonce2(&msg.nonce2);
        msg.proof_r2
            .verify(&msg.r2, &ids.proof_by(Party::P2, label::R2))?;
        let (big_r, _) = super::joint_r(&self.k1, &msg.r2)?;
        let proof_r1 =
            DlogProof::prove(rng, &self.k1, &self.r1, &ids.proof_by(Party::P1, label::R1));
        let reply = Msg3 {
            r1: self.r1,
            open_r1: self.open_r1,
            proof_r1,
        };
        let next = AwaitMsg4 {
            share: self.share,
            params: self.params,
            k1: self.k1,
            big_r,
            r2: msg.r2,
            digest: self.digest,
            tweak: self.tweak,
            ids,
        };
        Ok((next, reply))
    }
}

impl<'s> AwaitMsg4<'s> {
    /// Verifies π_c3, then decrypts P2's ciphertext, finishes s, and verifies the signature
    /// against Q.
    ///
    /// An invalid proof aborts before anything is decrypted and leaves the share unlocked:
    /// P2 learns nothing from it that depends on x1. A valid proof followed by a signature
    /// that does not verify (impossible unless π_c3's soundness broke) locks the share before
    /// this returns, as defence in depth.
    ///
    /// The lock is in the share in memory only. A party whose share outlives the process or
    /// the power (a file, flash) calls [`AwaitMsg4::check_msg4`] instead, records durably,
    /// keyed by Q and where a restored copy of the share cannot erase it, that a decision is
    /// pending, and only then decrypts ([`AwaitDecryption`]); it clears the record after a
    /// verified signature and turns it into a lock otherwise, before anything is sent. A reset
    /// between decryption and the record's update then leaves the key refused, not unlocked
    /// (net-std's lock registry does this: docs/PROTOCOL.md, "Lock registry").
    ///
    /// # Errors
    /// [`Error::InvalidCiphertext`] for a ciphertext out of range or not a unit;
    /// [`Error::ProofInvalid`] with [`crate::Proof::SignCiphertext`] if π_c3 fails (nothing
    /// decrypted, the share not locked); [`Error::SignatureInvalid`] (and the share locked)
    /// if the result does not verify.
    pub fn on_msg4(self, msg: &Msg4) -> Result<(Signature, Msg5)> {
        self.on_msg4_with(msg, None)
    }

    /// As [`AwaitMsg4::on_msg4`], checking π_c3's Pedersen relations with the comb tables of
    /// P1's ring-Pedersen secret ([`RingPedersenSecret::trapdoor_tables`]), if the caller
    /// keeps them: the same check, faster. Tables of another secret are not used.
    ///
    /// # Errors
    /// As [`AwaitMsg4::on_msg4`].
    pub fn on_msg4_with(
        self,
        msg: &Msg4,
        tables: Option<&TrapdoorTables<'_>>,
    ) -> Result<(Signature, Msg5)> {
        self.check_msg4_with(msg, tables)?.finish_on(&Sequential)
    }

    /// The first half of [`AwaitMsg4::on_msg4`]: checks the ciphertext and verifies π_c3 in
    /// the order ranges and units, EC relations, Pedersen relations, Paillier relation, and
    /// leaves the decryption to the caller, whose two halves may run on two threads. From a
    /// successful return until [`AwaitDecryption::finish`] succeeds, the share counts as
    /// locked.
    ///
    /// # Errors
    /// [`Error::InvalidCiphertext`] or [`Error::ProofInvalid`] with
    /// [`crate::Proof::SignCiphertext`] (nothing decrypted, the share not locked).
    pub fn check_msg4(self, msg: &Msg4) -> Result<AwaitDecryption<'s>> {
        self.check_msg4_with(msg, None)
    }

    /// As [`AwaitMsg4::check_msg4`], with P1's trapdoor tables as in
    /// [`AwaitMsg4::on_msg4_with`].
    ///
    /// # Errors
    /// As [`AwaitMsg4::check_msg4`].
    pub fn check_msg4_with(
        self,
        msg: &Msg4,
        tables: Option<&TrapdoorTables<'_>>,
    ) -> Result<AwaitDecryption<'s>> {
        self.check_msg4_on(msg, tables, &Sequential)
    }

    /// As [`AwaitMsg4::check_msg4_with`], with π_c3's checks after its ranges, units and EC
    /// relations as independent work items run by `exec` (the Pedersen relations mod p̂ and
    /// q̂, the Paillier relation mod p² and q²): a party that signs one signature at a time
    /// runs them on its cores for a lower latency; a service that already has every core busy
    /// with other sessions runs them in sequence. The outcome is the same on every schedule,
    /// and nothing is decrypted before all of them passed.
    ///
    /// # Errors
    /// As [`AwaitMsg4::check_msg4`].
    pub fn check_msg4_on<X: Executor + ?Sized>(
        self,
        msg: &Msg4,
        tables: Option<&TrapdoorTables<'_>>,
        exec: &X,
    ) -> Result<AwaitDecryption<'s>> {
        let share = &*self.share;
        let key = share.paillier.public_key();
        let c = share.paillier.validate(&msg.c)?;
        let c_prime = super::shifted_key(key, &share.common.c_key);
        let m = super::digest_scalar(&self.digest);
        let r = curve::x_mod_q(&self.big_r);
        let fingerprint = share.fingerprint();
        // Q_child − x1·G = Q2 + δ·G: P2's half of the child key, which P2 holds as x2 + δ.
        let q2 = super::tweaked(&share.common.public.q2, &self.tweak);
        let statement = Statement {
            key,
            c_prime: &c_prime,
            c: &c,
            q2: &q2,
            r2: &self.r2,
            m: &m,
            r: &r,
            params: self.params.params(),
            fingerprint: &fingerprint,
            epoch: share.common.epoch,
            verifier: self.ids.run.pid(Party::P1),
        };
        let c_prime_plain = Zeroizing::new(super::shifted_plain(&share.x1));
        let trapdoors = Trapdoors {
            ring: self.params,
            tables,
            paillier: &share.paillier,
            c_prime_plain: &c_prime_plain,
        };
        msg.proof.verify_with_trapdoors_on(
            &statement,
            &self.ids.proof_by(Party::P2, label::C),
            &trapdoors,
            exec,
        )?;
        // Fail closed: locked until `finish` sees a valid signature, so a caller that drops
        // this state after decrypting cannot leave an unlocked share behind.
        self.share.locked = true;
        Ok(AwaitDecryption {
            share: self.share,
            k1: self.k1,
            big_r: self.big_r,
            digest: self.digest,
            tweak: self.tweak,
            c,
        })
    }
}

/// P1 holding a checked ciphertext, waiting for its decryption halves.
#[must_use]
pub struct AwaitDecryption<'s> {
    share: &'s mut KeyShareP1,
    k1: Zeroizing<Scalar>,
    big_r: AffinePoint,
    digest: Digest,
    /// δ of the derivation path: the signature must verify under Q + δ·G.
    tweak: Scalar,
    c: Ciphertext,
}

impl AwaitDecryption<'_> {
    /// One half of the decryption; the halves are independent.
    #[must_use]
    pub fn decrypt_half(&self, prime: Prime) -> HalfPlaintext {
        self.share.paillier.decrypt_half(&self.c, prime)
    }

    /// Decrypts with `exec` running the two CRT halves (independent work: two threads may run
    /// them), then [`AwaitDecryption::finish`]es. Each half goes once into a slot of this
    /// call's, is read there (never moved out) and wiped when it returns (compiler
    /// temporaries aside, as everywhere).
    ///
    /// # Errors
    /// As [`AwaitDecryption::finish`].
    pub fn finish_on<X: Executor + ?Sized>(self, exec: &X) -> Result<(Signature, Msg5)> {
        let mut halves: [Option<HalfPlaintext>; 2] = [None, None];
        let [p, q] = &mut halves;
        exec.run(
            &mut [(Prime::P, &mut *p), (Prime::Q, &mut *q)].map(|(prime, out)| DecryptionHalf {
                checked: &self,
                prime,
                out,
            }),
        );
        // A half the executor left unrun is computed here.
        let p = p.get_or_insert_with(|| self.decrypt_half(Prime::P));
        let q = q.get_or_insert_with(|| self.decrypt_half(Prime::Q));
        self.finish(p, q)
    }

    /// Finishes s and verifies the signature against Q (the child key under a path). The share is locked from
    /// [`AwaitMsg4::check_msg4`] on and unlocked here only if the signature verifies.
    ///
    /// # Errors
    /// [`Error::SignatureInvalid`] (and the share locked) if the result does not verify,
    /// including when the halves are not one of each prime.
    pub fn finish(self, a: &HalfPlaintext, b: &HalfPlaintext) -> Result<(Signature, Msg5)> {
        // Each of s′, k1⁻¹ and s gives the nonce k (and with the signature, the key) away:
        // wiped on return like k1.
        let s_prime = Zeroizing::new(
            self.share
                .paillier
                .join_centered_mod_q(a, b)
                .unwrap_or(Scalar::ZERO),
        );
        let k1_inv =
            Zeroizing::new(Option::<Scalar>::from(self.k1.invert()).unwrap_or(Scalar::ZERO));
        let s = Zeroizing::new(*s_prime * *k1_inv);
        let signature = Signature::from_scalars(curve::x_mod_q(&self.big_r), *s)
            .ok()
            .map(|sig| sig.normalize_s());
        // Not `super::verify`: it inverts s in variable time, and until it verifies, s is
        // an unreleased value computed from k1 and P2's ciphertext (docs/SECURITY.md).
        let q = super::tweaked(&self.share.common.public.q, &self.tweak);
        let verified =
            signature.filter(|sig| super::verify_with_nonce(&q, &self.big_r, &self.digest, sig));
        let Some(signature) = verified else {
            self.share.locked = true;
            return Err(Error::SignatureInvalid);
        };
        self.share.locked = false;
        let (r, s) = signature.split_scalars();
        Ok((signature, Msg5 { r: *r, s: *s }))
    }
}

/// One CRT half of the decryption as a work item ([`AwaitDecryption::finish_on`]): its result
/// goes to a slot of the caller's, which wipes it.
struct DecryptionHalf<'a, 's> {
    checked: &'a AwaitDecryption<'s>,
    prime: Prime,
    out: &'a mut Option<HalfPlaintext>,
}

impl Work for DecryptionHalf<'_, '_> {
    fn run(&mut self) {
        *self.out = Some(self.checked.decrypt_half(self.prime));
    }
}

impl core::fmt::Debug for AwaitMsg2<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AwaitMsg2").finish_non_exhaustive()
    }
}

impl core::fmt::Debug for AwaitDecryption<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AwaitDecryption").finish_non_exhaustive()
    }
}

impl core::fmt::Debug for AwaitMsg4<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AwaitMsg4").finish_non_exhaustive()
    }
}
