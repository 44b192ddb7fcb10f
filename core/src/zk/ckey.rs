//! c_key encrypts the discrete log of Q1, in range: the proof P1 gives P2 about the Paillier
//! ciphertext of its share, made by keygen (c_key under N) and by refresh (c_key' under the
//! new N'), one piece of code for both.
//!
//! Statement: a Paillier key N, c = Enc_N(x), and Q1 = x·G with x < q. P1 commits to x in the
//! Pedersen group (Com = g^x·h^ρ, ρ < 2^[`pedersen::RANDOMNESS_BITS`]) and runs two
//! interactive proofs on P2's challenges: the Paillier–Pedersen equality proof
//! ([`eq_paillier_pedersen`]: c, Com and Q1 hold the same x, the plaintext of c ≡ dlog(Q1)
//! mod q) and the range proof ([`range`]: Com's value lies in (−q·2^λ, q·2^λ)). P2 learns that
//! the plaintext of c is the discrete log of Q1 mod q, and lies in (−q·2^λ, q·2^λ).
//!
//! Each run binds the proofs' first messages to its own [`Bindings`] (its session prefix and
//! the labels `keygen/eq`, `keygen/range` or `refresh/eq`, `refresh/range`), so a proof of one
//! run cannot be opened in another.

use crypto_bigint::{U256, U384, U2048};
use k256::{AffinePoint, Scalar};
use rand_core::CryptoRng;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::{
    EQ_CHALLENGE_BITS, EQ_CHUNKS, KEY_CHALLENGE_LEN, KEY_ROOTS, RANGE_CHALLENGE_BITS, draw_bits,
    eq_paillier_pedersen,
    paillier_key::{self, PaillierKeyProof},
    range,
};
use crate::{
    Result, bigint,
    paillier::{Ciphertext, ModN, ModNN, PublicKey, SecretKey},
    pedersen,
    session::{Binding, RunIds},
    sizes::{HASH_LEN, MOD_N_LEN, MOD_NN_LEN},
    wire::{Reader, Writer},
    work::{self, Check, Executor, Fill, Task, Work},
};

/// Where the two proofs' first messages are bound: the run's session prefix and prover with
/// the run's label for each proof.
#[derive(Clone, Copy, Debug)]
pub struct Bindings<'a> {
    /// The equality proof's binding (label `keygen/eq`, `refresh/eq`).
    pub eq: Binding<'a>,
    /// The range proof's binding (label `keygen/range`, `refresh/range`).
    pub range: Binding<'a>,
}

impl<'a> Bindings<'a> {
    /// A run's bindings: its ids (P1's commitments) with the run's two labels.
    pub(crate) fn new(ids: &'a RunIds, eq: &'static str, range: &'static str) -> Self {
        Self {
            eq: ids.committed(eq),
            range: ids.committed(range),
        }
    }
}

/// What P1 sends about c in its first message: c itself, the Pedersen commitment to x and the
/// hash commitments to both proofs' first messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Commitment {
    /// c = Enc_N(x).
    pub c_key: Ciphertext,
    /// Com = g^x·h^ρ.
    pub pedersen: pedersen::Element,
    /// Commitment to the equality proof's first message.
    pub com_eq: [u8; HASH_LEN],
    /// Commitment to the range proof's first message.
    pub com_range: [u8; HASH_LEN],
}

/// What P1 answers in its last message, in the order keygen's and refresh's both carry it:
/// the equality and range proofs' responses to P2's [`Challenges`] and the proof that N is a
/// valid Paillier key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Responses {
    /// Equality proof response: c, the Pedersen commitment and Q1 hold the same x (mod q).
    pub eq: eq_paillier_pedersen::Response,
    /// Range proof response.
    pub range: range::Response,
    /// Paillier key validity proof (N-th roots).
    pub key_proof: PaillierKeyProof,
}

impl Responses {
    /// Storage for [`Responses::read_into`] (part of a last message a firmware decodes in
    /// place); no valid answer.
    pub const EMPTY: Self = Self {
        eq: eq_paillier_pedersen::Response::EMPTY,
        range: range::Response::EMPTY,
        key_proof: PaillierKeyProof::EMPTY,
    };

    /// Encoded length.
    pub const LEN: usize =
        eq_paillier_pedersen::Response::LEN + range::Response::LEN + PaillierKeyProof::LEN;

    /// Writes the three at their fixed layouts.
    ///
    /// # Errors
    /// As [`Writer`]'s writes (a buffer too short).
    pub(crate) fn write(&self, w: &mut Writer<'_>) -> Result<()> {
        self.eq.write(w)?;
        self.range.write(w)?;
        self.key_proof.write(w)
    }

    /// Reads what [`Responses::write`] writes into `self`, in place (the range response alone
    /// is about 17 KB); every bound is the verifier's to check.
    ///
    /// # Errors
    /// [`crate::Error::Malformed`] for a field that does not fit its layout.
    pub(crate) fn read_into(&mut self, r: &mut Reader<'_>) -> Result<()> {
        self.eq = eq_paillier_pedersen::Response::read(r)?;
        self.range.read_into(r)?;
        self.key_proof = PaillierKeyProof::read(r)?;
        Ok(())
    }
}

/// P2's challenges for P1's three proofs, in the order keygen's and refresh's second
/// messages both carry them: the key proof's seed, the equality proof's challenge and the
/// range proof's challenge bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Challenges {
    /// The seed of the key proof's challenges ρ_i ([`paillier_key::challenges`]).
    pub key: paillier_key::Challenge,
    /// The equality proof's challenge (< 2^[`EQ_CHALLENGE_BITS`]).
    pub e_eq: u64,
    /// The range proof's challenge bits (< 2^[`RANGE_CHALLENGE_BITS`]).
    pub e_range: u64,
}

impl Challenges {
    /// Encoded length.
    pub const LEN: usize = KEY_CHALLENGE_LEN + 8 + 8;

    /// Fresh uniform challenges, drawn from `rng` in their wire order.
    pub(crate) fn draw<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut key = [0u8; KEY_CHALLENGE_LEN];
        rng.fill_bytes(&mut key);
        let e_eq = draw_bits(rng, EQ_CHALLENGE_BITS);
        let e_range = draw_bits(rng, RANGE_CHALLENGE_BITS);
        Self { key, e_eq, e_range }
    }

    /// Writes the three at their fixed layouts.
    ///
    /// # Errors
    /// As [`Writer`]'s writes (a buffer too short).
    pub(crate) fn write(&self, w: &mut Writer<'_>) -> Result<()> {
        w.bytes(&self.key)?;
        w.u64(self.e_eq)?;
        w.u64(self.e_range)
    }

    /// Reads what [`Challenges::write`] writes.
    ///
    /// # Errors
    /// [`crate::Error::Malformed`] for a challenge at or above its bound.
    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Self {
            key: r.array()?,
            e_eq: r.bits(EQ_CHALLENGE_BITS)?,
            e_range: r.bits(RANGE_CHALLENGE_BITS)?,
        })
    }
}

/// P1 between its commitment ([`Prover::commit_in`]) and P2's challenges: the witness and
/// both proofs' secrets, wiped on drop.
// Fuzzing only (`--cfg fuzzing`, set by cargo-fuzz): the fuzz targets build this once and
// clone it per input. Normal builds keep it non-Clone so a consumed state cannot be reused.
#[cfg_attr(fuzzing, derive(Clone))]
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct Prover {
    x: Scalar,
    r_key: ModN,
    ped_rho: U256,
    eq: eq_paillier_pedersen::Prover,
    range: range::Prover,
    // c = Enc(x; r_key), sent in the commitment: public.
    #[zeroize(skip)]
    c: Ciphertext,
}

/// Work items of [`Prover::commit_in`]: the range proof's commitment pieces, c's
/// encryption, the equality proof's encryptions, Com and Com̃.
const COMMIT_ITEMS: usize = range::COMMIT_ITEMS + 1 + EQ_CHUNKS + 2;

/// Checks of [`verify_with`]: the key proof's roots, its prime-modulus check, the equality
/// proof's commitment and group relations, its Paillier chunks, the range proof.
const CHECKS: usize = KEY_ROOTS + 1 + 1 + EQ_CHUNKS + 1;

impl Prover {
    /// [`Self::commit_in`] on a new prover ([`Self::EMPTY`]), returned by value with its
    /// commitment.
    // The rounds draw into their states and commit in place; tests and benches take it whole.
    #[cfg(any(test, feature = "internals"))]
    pub fn commit_with<R: CryptoRng + ?Sized, X: Executor + ?Sized>(
        rng: &mut R,
        key: &SecretKey,
        x: &Scalar,
        bindings: &Bindings<'_>,
        table: Option<&pedersen::Table<'_>>,
        exec: &X,
    ) -> (Self, Commitment) {
        let mut prover = Self::EMPTY;
        let commitment = prover.commit_in(rng, key, x, bindings, table, exec);
        (prover, commitment)
    }

    /// Encrypts x (< q) under `key`, commits to it in the Pedersen group (with the fixed-base
    /// table if the caller has one) and commits to both proofs' first messages, with the
    /// independent computations run by `exec` (e.g. on every core), where the prover lies
    /// (over [`Self::EMPTY`], or a prover used before, whose secrets are all drawn again): a
    /// round that keeps the prover in its own state draws and commits there, so the prover
    /// (21 KB) and its first message are never copied. The randomness is drawn first, in one
    /// order (c's nonce, ρ, the equality proof's, the range proof's), so the commitment is the
    /// same on any schedule.
    pub fn commit_in<R: CryptoRng + ?Sized, X: Executor + ?Sized>(
        &mut self,
        rng: &mut R,
        key: &SecretKey,
        x: &Scalar,
        bindings: &Bindings<'_>,
        table: Option<&pedersen::Table<'_>>,
        exec: &X,
    ) -> Commitment {
        self.draw_in(rng, key, x);
        self.commit_on(key, bindings, table, exec)
    }

    /// Storage for a prover about to be drawn in place ([`Self::commit_in`]): zero secrets.
    pub const EMPTY: Self = Self {
        x: Scalar::ZERO,
        r_key: ModN::ZERO,
        ped_rho: U256::ZERO,
        eq: eq_paillier_pedersen::Prover::EMPTY,
        range: range::Prover::EMPTY,
        c: Ciphertext::UNSET,
    };

    /// Whether the commitment was completed ([`Self::commit_in`] returned): a prover left
    /// half-made (an unwinding panic in its commitment, inside a caller's slot) has zero or
    /// unsent masks and must never answer a challenge.
    #[must_use]
    pub fn is_committed(&self) -> bool {
        self.c != Ciphertext::UNSET
    }

    /// c, the ciphertext of x the commitment carries ([`Commitment::c_key`]).
    #[must_use]
    pub fn ciphertext(&self) -> &Ciphertext {
        &self.c
    }

    /// Draws everything the commitment needs for witness x (< q) under `key`, in the order
    /// [`Self::commit_in`] gives, where the prover lies, and computes nothing.
    fn draw_in<R: CryptoRng + ?Sized>(&mut self, rng: &mut R, key: &SecretKey, x: &Scalar) {
        self.x = *x;
        self.r_key = key.public_key().random_nonce(rng);
        // Short Pedersen randomness (pedersen::RANDOMNESS_BITS): uniform below 2^256.
        self.ped_rho = bigint::random_bits::<_, { pedersen::RANDOMNESS_BITS }, _>(rng);
        self.eq.draw_in(rng, key);
        self.range.draw_in(rng);
    }

    /// The commitment of a prover just drawn ([`Self::draw_in`]) under the same `key`: c, Com
    /// and both proofs' sealed first messages, which stay in the prover for the responses.
    /// The independent computations run as work items of `exec`; the range proof's 50
    /// commitments are written straight into the prover. The same bytes on any schedule.
    fn commit_on<X: Executor + ?Sized>(
        &mut self,
        key: &SecretKey,
        bindings: &Bindings<'_>,
        table: Option<&pedersen::Table<'_>>,
        exec: &X,
    ) -> Commitment {
        let x_int: Zeroizing<U2048> = Zeroizing::new(bigint::scalar_to_uint(&self.x));
        let Self {
            r_key,
            ped_rho,
            eq,
            range,
            c,
            ..
        } = self;
        let (masks, places) = range.commit_places();

        // Every piece below reads only what was drawn: one list of work items.
        let c_key_of = || key.encrypt_with(&*x_int, r_key);
        let (g, _) = pedersen::generators();
        // x < q < 2^256: the 1792 zero bits above would cost as many squarings for nothing.
        let ped_of = || {
            let rho_wide: Zeroizing<U384> = Zeroizing::new(ped_rho.resize());
            g.pow_bounded_exp(&*x_int, U256::BITS).mul(&pedersen::pow_h(
                table,
                &rho_wide,
                pedersen::RANDOMNESS_BITS,
            ))
        };
        let eq_ref = &*eq;
        let com_tilde_of = || eq_ref.com_tilde(table);
        let encryption_of: [_; EQ_CHUNKS] = core::array::from_fn(|i| move || eq_ref.encryption(key, i));
        let commitments_of = |k| masks.commitments(table, k);
        let mut c_key = Task::new(&c_key_of);
        let mut ped = Task::new(&ped_of);
        let mut com_tilde = Task::new(&com_tilde_of);
        let mut encryptions = encryption_of.each_ref().map(|f| Task::new(f));
        let mut commitments = Fill::each(&commitments_of, places.each_mut());
        {
            // The longest items first: each thread takes the next one, so the short ones fill
            // the gaps at the end.
            let mut items: [_; COMMIT_ITEMS] = work::join(
                commitments
                    .iter_mut()
                    .map(|t| t as &mut dyn Work)
                    .chain([&mut c_key as &mut dyn Work])
                    .chain(encryptions.iter_mut().map(|t| t as &mut dyn Work))
                    .chain([&mut ped as &mut dyn Work, &mut com_tilde]),
            );
            exec.run(&mut items);
        }
        commitments.iter_mut().for_each(Fill::finish);
        let c_key = c_key.take();
        *c = c_key;
        let pedersen = ped.take();
        let c_tilde = encryptions.each_mut().map(Task::take);
        let com_tilde = com_tilde.take();
        let com_eq = eq.seal(c_tilde, com_tilde, &bindings.eq);
        let com_range = range.seal(&bindings.range);
        Commitment {
            c_key,
            pedersen,
            com_eq,
            com_range,
        }
    }

    /// Answers P2's challenges: the proof that N is a valid Paillier key under `key_binding`
    /// (its N-th roots, independent of each other, run by `exec`), and the equality and range
    /// proofs' responses for c under `key`, the key [`Self::commit_in`] encrypted under.
    // The rounds write responses in place; tests and benches take them whole.
    #[cfg(any(test, feature = "internals"))]
    #[must_use]
    pub fn respond<X: Executor + ?Sized>(
        &self,
        key: &SecretKey,
        challenges: &Challenges,
        key_binding: &Binding<'_>,
        exec: &X,
    ) -> Responses {
        let mut out = Responses::EMPTY;
        self.respond_into(key, challenges, key_binding, exec, &mut out);
        out
    }

    /// As [`Self::respond`], writing every field of `out` in place (the range proof's 17 KB
    /// straight into it), for a caller that keeps one message buffer, as a firmware does.
    pub fn respond_into<X: Executor + ?Sized>(
        &self,
        key: &SecretKey,
        challenges: &Challenges,
        key_binding: &Binding<'_>,
        exec: &X,
        out: &mut Responses,
    ) {
        out.key_proof = PaillierKeyProof::prove_with(key, &challenges.key, key_binding, exec);
        out.eq = self.eq.respond(
            key.public_key(),
            &self.x,
            &self.r_key,
            &self.ped_rho,
            challenges.e_eq,
        );
        self.range
            .respond_into(&self.x, &self.ped_rho, challenges.e_range, &mut out.range);
    }

    /// Whether every secret here is zero (after [`Zeroize::zeroize`]).
    #[cfg(test)]
    pub(crate) fn is_wiped(&self) -> bool {
        self.x == Scalar::ZERO
            && self.r_key == ModN::ZERO
            && self.ped_rho == U256::ZERO
            && self.eq.is_wiped()
            && self.range.is_wiped()
    }
}

/// What P2 checks the proofs against: the equality proof's statement (N, c, Com and Q1) and
/// P1's commitments to the proofs' first messages, from P1's first message (Q1 from its last
/// in keygen, from the share in refresh).
#[derive(Clone, Copy, Debug)]
pub struct Statement<'a> {
    /// N, c (claimed Enc(dlog(Q1))), Com (checked to lie in the subgroup on decode) and Q1.
    pub eq: eq_paillier_pedersen::Statement<'a>,
    /// Commitment to the equality proof's first message.
    pub com_eq: &'a [u8; HASH_LEN],
    /// Commitment to the range proof's first message.
    pub com_range: &'a [u8; HASH_LEN],
}

impl<'a> Statement<'a> {
    /// The statement about what P1 committed to in its first message under `key`, for the
    /// point Q1 that P2 holds P1's share to: keygen's opened Q1, refresh's Q1 of the share.
    pub fn new(key: &'a PublicKey, made: &'a Commitment, point: &'a AffinePoint) -> Self {
        Self {
            eq: eq_paillier_pedersen::Statement {
                key,
                ciphertext: &made.c_key,
                commitment: &made.pedersen,
                point,
            },
            com_eq: &made.com_eq,
            com_range: &made.com_range,
        }
    }
}

/// Writes N and what P1 commits to about c, in the order both runs' first message carries
/// them: N, c, Com, the equality proof's and the range proof's commitments.
///
/// # Errors
/// As [`Writer`]'s writes (a buffer too short).
pub(crate) fn write_commitment(
    w: &mut Writer<'_>,
    key: &PublicKey,
    commitment: &Commitment,
) -> Result<()> {
    w.integer(MOD_N_LEN, key.modulus())?;
    w.integer(MOD_NN_LEN, commitment.c_key.as_uint())?;
    w.integer(MOD_N_LEN, &commitment.pedersen.retrieve())?;
    w.bytes(&commitment.com_eq)?;
    w.bytes(&commitment.com_range)
}

/// Reads what [`write_commitment`] writes, checking N (size, parity, small factors; a prime N
/// is the key proof's to refuse), c against N, and that Com lies in the Pedersen subgroup.
///
/// # Errors
/// [`crate::Error::Malformed`] (or N's own error) for a field that fails its check.
pub(crate) fn read_commitment(r: &mut Reader<'_>) -> Result<(PublicKey, Commitment)> {
    let key = PublicKey::from_modulus(r.integer_unbounded(MOD_N_LEN)?)?;
    let c_key = key.validate(&r.integer_unbounded::<{ ModNN::LIMBS }>(MOD_NN_LEN)?)?;
    let pedersen = pedersen::subgroup_element(&r.integer_unbounded::<{ U2048::LIMBS }>(MOD_N_LEN)?)
        .ok_or(crate::Error::Malformed)?;
    let commitment = Commitment {
        c_key,
        pedersen,
        com_eq: r.array()?,
        com_range: r.array()?,
    };
    Ok((key, commitment))
}

/// P2's check of P1's `responses` to `challenges`: the key proof for `st.eq.key` under
/// `key_binding`, and the equality and range proofs' responses for `st`, all as one list of work
/// items run by `exec` (e.g. on every core). The range proof's random weights come from `rng`
/// before anything runs. The first failure in list order is returned, on any schedule: each
/// root of the key proof, whether N is prime, then the equality proof's opening and group
/// relations, each of its Paillier chunks, and the range proof.
///
/// # Errors
/// The first failing check's: [`crate::Error::ProofInvalid`] with [`crate::Proof::PaillierKey`]
/// for a wrong root, [`crate::Error::PaillierModulus`] for a prime N,
/// [`crate::Error::CommitmentMismatch`] for a first message other than the committed one,
/// [`crate::Error::ProofInvalid`] with [`crate::Proof::PaillierPedersenEq`] or
/// [`crate::Proof::Range`].
#[allow(clippy::too_many_arguments)]
pub fn verify_with<R: CryptoRng + ?Sized, X: Executor + ?Sized>(
    rng: &mut R,
    exec: &X,
    st: &Statement<'_>,
    challenges: &Challenges,
    responses: &Responses,
    key_binding: &Binding<'_>,
    bindings: &Bindings<'_>,
) -> Result<()> {
    let Responses {
        eq,
        range,
        key_proof,
    } = responses;
    let eq_statement = st.eq;
    let e_eq = challenges.e_eq;
    // The range proof's weights come from `rng` as its sequential check draws them.
    let weights = range::draw_weights(rng);
    let rhos = paillier_key::challenges(st.eq.key, &challenges.key, key_binding);
    let root = |i| {
        let rhos = &rhos;
        move || key_proof.verify_root(st.eq.key, rhos, i)
    };
    let root_of = core::array::from_fn::<_, KEY_ROOTS, _>(root);
    let not_prime = || key_proof.verify_not_prime(&rhos);
    let eq_commitment = || eq.verify_commitment(st.com_eq, &eq_statement, e_eq, &bindings.eq);
    let chunk = |i| move || eq.verify_chunk(&eq_statement, e_eq, i);
    let chunk_of = core::array::from_fn::<_, EQ_CHUNKS, _>(chunk);
    let range_check = || {
        range.verify_weighted(
            st.com_range,
            st.eq.commitment,
            challenges.e_range,
            &bindings.range,
            &weights,
        )
    };
    // In the order of the sequential checks, so the first failure is the same error.
    // The roots (one N-th power each) and the chunks are separate items, so that two cores
    // share them evenly.
    let mut roots = root_of.each_ref().map(|c| Check::new(c));
    let mut key_and_first = [Check::new(&not_prime), Check::new(&eq_commitment)];
    let mut chunks = chunk_of.each_ref().map(|c| Check::new(c));
    let mut last = [Check::new(&range_check)];
    work::run_check_groups::<_, CHECKS>(
        exec,
        &mut [&mut roots, &mut key_and_first, &mut chunks, &mut last],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Error, Proof, fixtures, work::Sequential};

    fn bindings<'a>(session: &'a [u8; 32], prover: &'a [u8; 32], run: &str) -> Bindings<'a> {
        let (eq, range) = match run {
            "keygen" => ("keygen/eq", "keygen/range"),
            _ => ("refresh/eq", "refresh/range"),
        };
        Bindings {
            eq: Binding {
                session,
                prover,
                label: eq,
            },
            range: Binding {
                session,
                prover,
                label: range,
            },
        }
    }

    /// Challenges of P2's for the tests, and the key proof's binding in their session.
    const CHALLENGES: Challenges = Challenges {
        key: [5; KEY_CHALLENGE_LEN],
        e_eq: 0x2_1234_5678_9abc,
        e_range: 0x3_5555_aaaa_1234,
    };

    fn key_binding<'a>(session: &'a [u8; 32], prover: &'a [u8; 32]) -> Binding<'a> {
        Binding {
            session,
            prover,
            label: "test/paillier-key",
        }
    }

    /// An honest proof verifies; the same proof under the other run's labels does not open
    /// (label separation); a proof for another discrete log fails the equality proof.
    #[test]
    fn honest_proof_verifies_and_other_labels_or_points_do_not() {
        let key = fixtures::paillier_key(0);
        let x = Scalar::from(123_456_789u64);
        let q1 = crate::curve::mul_g(&x);
        let (session, prover) = ([7; 32], [8; 32]);
        let made = bindings(&session, &prover, "refresh");
        let (p, c) =
            Prover::commit_with(&mut fixtures::rng(1), &key, &x, &made, None, &Sequential);
        let (challenges, key_binding) = (CHALLENGES, key_binding(&session, &prover));
        let responses = p.respond(&key, &challenges, &key_binding, &Sequential);
        let check = |q1: &AffinePoint, b: &Bindings<'_>| {
            let st = Statement::new(key.public_key(), &c, q1);
            verify_with(
                &mut fixtures::rng(2),
                &Sequential,
                &st,
                &challenges,
                &responses,
                &key_binding,
                b,
            )
        };
        assert_eq!(check(&q1, &made), Ok(()));
        assert_eq!(
            check(&q1, &bindings(&session, &prover, "keygen")),
            Err(Error::CommitmentMismatch)
        );
        let other = crate::curve::mul_g(&(x + Scalar::ONE));
        assert_eq!(
            check(&other, &made),
            Err(Error::ProofInvalid(Proof::PaillierPedersenEq))
        );
    }

    /// `commit_in` over a prover used before draws every secret again: the commitment and
    /// the responses are those of a new prover from the same RNG. A prover is committed only
    /// once its commitment completed.
    #[test]
    fn committing_over_a_used_prover_is_committing_afresh() {
        let key = fixtures::paillier_key(0);
        let x = Scalar::from(42u64);
        let (session, prover) = ([7; 32], [8; 32]);
        let b = bindings(&session, &prover, "keygen");
        let (challenges, key_binding) = (CHALLENGES, key_binding(&session, &prover));
        let (fresh, expected) =
            Prover::commit_with(&mut fixtures::rng(4), &key, &x, &b, None, &Sequential);

        let mut used = Prover::EMPTY;
        assert!(!used.is_committed());
        let other = Scalar::from(7u64);
        let _ = used.commit_in(&mut fixtures::rng(5), &key, &other, &b, None, &Sequential);
        assert!(used.is_committed());
        let again = used.commit_in(&mut fixtures::rng(4), &key, &x, &b, None, &Sequential);
        assert!(again == expected && used.ciphertext() == &expected.c_key);
        assert!(
            used.respond(&key, &challenges, &key_binding, &Sequential)
                == fresh.respond(&key, &challenges, &key_binding, &Sequential)
        );
    }

    #[test]
    fn zeroizing_the_prover_wipes_every_secret() {
        let key = fixtures::paillier_key(0);
        let (session, prover) = ([7; 32], [8; 32]);
        let (mut p, _) = Prover::commit_with(
            &mut fixtures::rng(3),
            &key,
            &Scalar::from(5u64),
            &bindings(&session, &prover, "keygen"),
            None,
            &Sequential,
        );
        p.zeroize();
        assert!(p.is_wiped());
    }
}
