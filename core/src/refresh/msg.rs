//! Refresh messages and their fixed layouts.

use k256::Scalar;

use crate::{
    Result,
    paillier::PublicKey,
    session::ID_LEN,
    sizes::{HASH_LEN, HEADER_LEN, MOD_N_LEN, MOD_NN_LEN, SCALAR_LEN},
    wire::{Fields, Message, MsgType, Reader, Writer},
    zk::ckey,
};

/// P1 → P2: P1's nonce, the fingerprint of the share being refreshed, Com(ρ1), the new key
/// N' and c_key' = Enc'(x1 mod q), the Pedersen commitment to x1 mod q and commitments to the
/// first messages of the equality and range proofs (keygen's proofs about c_key).
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
    /// What P1 commits to about x1 mod q before P2's challenges, kept in one piece as P1's
    /// prover made it: c_key' = Enc'(x1 mod q) under N' (its `c_key`, validated against N' on
    /// decode), the Pedersen commitment g^(x1 mod q)·h^ρ (checked to lie in the subgroup on
    /// decode) and the commitments to the first messages of the Paillier–Pedersen equality
    /// proof and of the range proof.
    pub commitment: ckey::Commitment,
}

/// P2 → P1: P2's nonce, its coin-toss share ρ2, and its challenges.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Msg2 {
    /// P2's fresh session nonce.
    pub nonce2: [u8; ID_LEN],
    /// P2's share of the coin toss.
    pub rho2: Scalar,
    /// Challenges for P1's proofs: the seed of the proof that N' is a valid Paillier key, the
    /// equality proof's challenge (< 2^54) and the range proof's challenge bits (< 2^50).
    pub challenges: ckey::Challenges,
}

/// P1 → P2: ρ1 opened, and the proofs about N' and c_key'.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Msg3 {
    /// P1's share of the coin toss.
    pub rho1: Scalar,
    /// Opening of Com(ρ1).
    pub open_rho1: [u8; HASH_LEN],
    /// The equality proof's response (c_key', the Pedersen commitment and the share's Q1
    /// hold the same x1 mod q), the range proof's, and the proof that N' is a valid Paillier
    /// key.
    pub responses: ckey::Responses,
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
    const LEN: usize =
        HEADER_LEN + ID_LEN + 2 * HASH_LEN + MOD_N_LEN + MOD_NN_LEN + MOD_N_LEN + 2 * HASH_LEN;
}

impl Fields for Msg1 {
    fn write_fields(&self, w: &mut Writer<'_>) -> Result<()> {
        w.bytes(&self.nonce1)?;
        w.bytes(&self.fingerprint)?;
        w.bytes(&self.com_rho1)?;
        ckey::write_commitment(w, &self.paillier, &self.commitment)
    }

    /// Checks N' as keygen checks N, c_key' against N', and that the Pedersen commitment lies
    /// in the subgroup.
    fn read_fields(r: &mut Reader<'_>) -> Result<Self> {
        let nonce1 = r.array()?;
        let fingerprint = r.array()?;
        let com_rho1 = r.array()?;
        let (paillier, commitment) = ckey::read_commitment(r)?;
        Ok(Self {
            nonce1,
            fingerprint,
            com_rho1,
            paillier,
            commitment,
        })
    }
}

impl Message for Msg2 {
    const TYPE: MsgType = MsgType::Refresh2;
    const LEN: usize = HEADER_LEN + ID_LEN + SCALAR_LEN + ckey::Challenges::LEN;
}

impl Fields for Msg2 {
    fn write_fields(&self, w: &mut Writer<'_>) -> Result<()> {
        w.bytes(&self.nonce2)?;
        w.scalar(&self.rho2)?;
        self.challenges.write(w)
    }

    fn read_fields(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Self {
            nonce2: r.array()?,
            rho2: r.scalar()?,
            challenges: ckey::Challenges::read(r)?,
        })
    }
}

impl Message for Msg3 {
    const TYPE: MsgType = MsgType::Refresh3;
    const LEN: usize = HEADER_LEN + SCALAR_LEN + HASH_LEN + ckey::Responses::LEN;
}

impl Msg3 {
    /// Storage for [`Message::decode_into`] and
    /// [`crate::refresh::p1::AwaitMsg2::on_msg2_into`] (20 KB, so a firmware keeps one and
    /// decodes or writes into it in place); not a message P2 accepts.
    pub const EMPTY: Self = Self {
        rho1: Scalar::ZERO,
        open_rho1: [0; HASH_LEN],
        responses: ckey::Responses::EMPTY,
    };
}

impl Fields for Msg3 {
    fn write_fields(&self, w: &mut Writer<'_>) -> Result<()> {
        w.scalar(&self.rho1)?;
        w.bytes(&self.open_rho1)?;
        self.responses.write(w)
    }

    fn read_fields(r: &mut Reader<'_>) -> Result<Self> {
        let mut out = Self::EMPTY;
        Self::read_fields_into(r, &mut out)?;
        Ok(out)
    }

    fn read_fields_into(r: &mut Reader<'_>, out: &mut Self) -> Result<()> {
        out.rho1 = r.scalar()?;
        out.open_rho1 = r.array()?;
        out.responses.read_into(r)
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
