//! Refresh messages and their fixed layouts.

use k256::Scalar;

use crate::{
    Result,
    paillier::{Ciphertext, ModNN, PublicKey},
    session::ID_LEN,
    sizes::{HASH_LEN, HEADER_LEN, MOD_N_LEN, MOD_NN_LEN, SCALAR_LEN},
    wire::{Fields, Message, MsgType, Reader, Writer},
    zk::{
        EQ_CHALLENGE_BITS, KEY_CHALLENGE_LEN, eq_paillier_paillier, paillier_key::PaillierKeyProof,
    },
};

/// P1 → P2: P1's nonce, the fingerprint of the share being refreshed, Com(ρ1), the new key
/// N' and c_key' = Enc'(x1), and a commitment to the equality proof's first message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Msg1 {
    /// P1's fresh session nonce.
    pub nonce1: [u8; ID_LEN],
    /// Fingerprint of P1's current share.
    pub fingerprint: [u8; HASH_LEN],
    /// Commitment to ρ1.
    pub com_rho1: [u8; HASH_LEN],
    /// The new Paillier key N' (validated on decode).
    pub paillier: PublicKey,
    /// c_key' = Enc'(x1) (validated against N' on decode).
    pub c_key: Ciphertext,
    /// Commitment to the first message of the equality proof.
    pub com_eq: [u8; HASH_LEN],
}

/// P2 → P1: P2's nonce, its coin-toss share ρ2, and its challenges.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Msg2 {
    /// P2's fresh session nonce.
    pub nonce2: [u8; ID_LEN],
    /// P2's share of the coin toss.
    pub rho2: Scalar,
    /// Challenge seed for the proof that N' is a valid Paillier key.
    pub key_challenge: [u8; KEY_CHALLENGE_LEN],
    /// Challenge for the equality proof (< 2^54).
    pub e_eq: u64,
}

/// P1 → P2: ρ1 opened, and the proofs about N' and c_key'.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Msg3 {
    /// P1's share of the coin toss.
    pub rho1: Scalar,
    /// Opening of Com(ρ1).
    pub open_rho1: [u8; HASH_LEN],
    /// c_key and c_key' hold the same x1.
    pub eq: eq_paillier_paillier::Response,
    /// N' is a valid Paillier key.
    pub key_proof: PaillierKeyProof,
}

/// P2 → P1: P2 accepted; the fingerprint of the new share it now holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Msg4 {
    /// Fingerprint of P2's new share.
    pub fingerprint: [u8; HASH_LEN],
}

/// P1 → P2: P1 made the new share active; P2 may do the same (it would at the next
/// connection's epoch agreement anyway).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Msg5;

impl Message for Msg5 {
    const TYPE: MsgType = MsgType::Refresh5;
    const LEN: usize = HEADER_LEN;
}

impl Fields for Msg5 {
    fn write_fields(&self, _: &mut Writer<'_>) -> Result<()> {
        Ok(())
    }

    fn read_fields(_: &mut Reader<'_>) -> Result<Self> {
        Ok(Self)
    }
}

impl Message for Msg1 {
    const TYPE: MsgType = MsgType::Refresh1;
    const LEN: usize = HEADER_LEN + ID_LEN + 2 * HASH_LEN + MOD_N_LEN + MOD_NN_LEN + HASH_LEN;
}

impl Fields for Msg1 {
    fn write_fields(&self, w: &mut Writer<'_>) -> Result<()> {
        w.bytes(&self.nonce1)?;
        w.bytes(&self.fingerprint)?;
        w.bytes(&self.com_rho1)?;
        w.integer(MOD_N_LEN, self.paillier.modulus())?;
        w.integer(MOD_NN_LEN, self.c_key.as_uint())?;
        w.bytes(&self.com_eq)
    }

    /// Checks N' as keygen checks N, and c_key' against N'.
    fn read_fields(r: &mut Reader<'_>) -> Result<Self> {
        let nonce1 = r.array()?;
        let fingerprint = r.array()?;
        let com_rho1 = r.array()?;
        let paillier = PublicKey::from_modulus(r.integer_unbounded(MOD_N_LEN)?)?;
        let c_key = paillier.validate(&r.integer_unbounded::<{ ModNN::LIMBS }>(MOD_NN_LEN)?)?;
        Ok(Self {
            nonce1,
            fingerprint,
            com_rho1,
            paillier,
            c_key,
            com_eq: r.array()?,
        })
    }
}

impl Message for Msg2 {
    const TYPE: MsgType = MsgType::Refresh2;
    const LEN: usize = HEADER_LEN + ID_LEN + SCALAR_LEN + KEY_CHALLENGE_LEN + 8;
}

impl Fields for Msg2 {
    fn write_fields(&self, w: &mut Writer<'_>) -> Result<()> {
        w.bytes(&self.nonce2)?;
        w.scalar(&self.rho2)?;
        w.bytes(&self.key_challenge)?;
        w.u64(self.e_eq)
    }

    fn read_fields(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Self {
            nonce2: r.array()?,
            rho2: r.scalar()?,
            key_challenge: r.array()?,
            e_eq: r.bits(EQ_CHALLENGE_BITS)?,
        })
    }
}

impl Message for Msg3 {
    const TYPE: MsgType = MsgType::Refresh3;
    const LEN: usize = HEADER_LEN
        + SCALAR_LEN
        + HASH_LEN
        + eq_paillier_paillier::Response::LEN
        + PaillierKeyProof::LEN;
}

impl Fields for Msg3 {
    fn write_fields(&self, w: &mut Writer<'_>) -> Result<()> {
        w.scalar(&self.rho1)?;
        w.bytes(&self.open_rho1)?;
        self.eq.write(w)?;
        self.key_proof.write(w)
    }

    fn read_fields(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Self {
            rho1: r.scalar()?,
            open_rho1: r.array()?,
            eq: eq_paillier_paillier::Response::read(r)?,
            key_proof: PaillierKeyProof::read(r)?,
        })
    }
}

impl Message for Msg4 {
    const TYPE: MsgType = MsgType::Refresh4;
    const LEN: usize = HEADER_LEN + HASH_LEN;
}

impl Fields for Msg4 {
    fn write_fields(&self, w: &mut Writer<'_>) -> Result<()> {
        w.bytes(&self.fingerprint)
    }

    fn read_fields(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Self {
            fingerprint: r.array()?,
        })
    }
}

crate::wire::sealed!(Msg5, Msg1, Msg2, Msg3, Msg4);
