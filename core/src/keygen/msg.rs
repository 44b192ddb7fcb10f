//! Keygen messages and their fixed layouts.

use k256::AffinePoint;

use crate::{
    Result,
    bip32::ChainCode,
    paillier::PublicKey,
    session::ID_LEN,
    sizes::{HASH_LEN, HEADER_LEN, MOD_N_LEN, MOD_NN_LEN, POINT_LEN},
    wire::{Fields, Message, MsgType, Reader, Writer},
    zk::{ckey, dlog::DlogProof},
};

/// P1 → P2: P1's nonce, its commitments, N, c_key and the Pedersen commitment to x1.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Msg1 {
    /// P1's fresh session nonce.
    pub nonce1: [u8; ID_LEN],
    /// Commitment to Q1 and P1's chain-code contribution cc1, bound to the session prefix
    /// and P1's pid.
    pub com_q1: [u8; HASH_LEN],
    /// P1's Paillier public key N (validated on decode).
    pub paillier: PublicKey,
    /// What P1 commits to about x1 before P2's challenges, kept in one piece as P1's prover
    /// made it: c_key = Enc(x1) under N (validated against N on decode), the Pedersen
    /// commitment g^x1·h^ρ (checked to lie in the subgroup on decode) and the commitments to
    /// the first messages of the Paillier–Pedersen equality proof and of the range proof.
    pub commitment: ckey::Commitment,
    /// Hash of P1's ring-Pedersen parameters ([`crate::RingPedersenParams::hash`]): P2
    /// refuses the run unless it is the hash of the parameters it verified and pinned.
    pub params_hash: [u8; HASH_LEN],
}

/// P2 → P1: P2's nonce, Q2 with its proof, and P2's challenges for P1's proofs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Msg2 {
    /// P2's fresh session nonce.
    pub nonce2: [u8; ID_LEN],
    /// P2's public share Q2 = x2·G.
    pub q2: AffinePoint,
    /// P2's proof of knowledge of x2.
    pub proof_q2: DlogProof,
    /// P2's challenges for P1's proofs: the Paillier key proof's seed, the equality proof's
    /// challenge (< 2^54) and the range proof's challenge bits (< 2^50).
    pub challenges: ckey::Challenges,
    /// P2's random contribution to the BIP32 chain code, sent after P1 committed to its own.
    pub cc2: ChainCode,
}

/// P1 → P2: Q1 opened, with every proof about Q1, N and c_key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Msg3 {
    /// P1's public share Q1 = x1·G.
    pub q1: AffinePoint,
    /// P1's contribution to the BIP32 chain code, committed with Q1 in [`Msg1`].
    pub cc1: ChainCode,
    /// Opening of the commitment to Q1 and cc1.
    pub open_q1: [u8; HASH_LEN],
    /// P1's proof of knowledge of x1.
    pub proof_q1: DlogProof,
    /// The equality proof's response (c_key, the Pedersen commitment and Q1 hold the same
    /// x1), the range proof's, and the proof that N is a valid Paillier key.
    pub responses: ckey::Responses,
}

impl Msg3 {
    /// Storage for [`Message::decode_into`] and
    /// [`crate::keygen::p1::AwaitMsg2::on_msg2_into`] (21 KB, so a firmware keeps one and
    /// decodes or writes into it in place); not a message P2 accepts: its Q1 is the identity.
    pub const EMPTY: Self = Self {
        q1: AffinePoint::IDENTITY,
        cc1: [0; CHAIN_CODE_LEN],
        open_q1: [0; HASH_LEN],
        proof_q1: DlogProof::EMPTY,
        responses: ckey::Responses::EMPTY,
    };
}

impl Message for Msg1 {
    const TYPE: MsgType = MsgType::Keygen1;
    const LEN: usize =
        HEADER_LEN + ID_LEN + HASH_LEN + MOD_N_LEN + MOD_NN_LEN + MOD_N_LEN + 3 * HASH_LEN;
}

impl Fields for Msg1 {
    fn write_fields(&self, w: &mut Writer<'_>) -> Result<()> {
        w.bytes(&self.nonce1)?;
        w.bytes(&self.com_q1)?;
        ckey::write_commitment(w, &self.paillier, &self.commitment)?;
        w.bytes(&self.params_hash)
    }

    /// Checks N (size, parity, small factors; a prime N is the key proof's to refuse), c_key
    /// against N, and that the
    /// Pedersen commitment lies in the subgroup.
    fn read_fields(r: &mut Reader<'_>) -> Result<Self> {
        let nonce1 = r.array()?;
        let com_q1 = r.array()?;
        let (paillier, commitment) = ckey::read_commitment(r)?;
        Ok(Self {
            nonce1,
            com_q1,
            paillier,
            commitment,
            params_hash: r.array()?,
        })
    }
}

impl Message for Msg2 {
    const TYPE: MsgType = MsgType::Keygen2;
    const LEN: usize =
        HEADER_LEN + ID_LEN + POINT_LEN + DlogProof::LEN + ckey::Challenges::LEN + CHAIN_CODE_LEN;
}

impl Fields for Msg2 {
    fn write_fields(&self, w: &mut Writer<'_>) -> Result<()> {
        w.bytes(&self.nonce2)?;
        w.point(&self.q2)?;
        self.proof_q2.write(w)?;
        self.challenges.write(w)?;
        w.bytes(&self.cc2)
    }

    fn read_fields(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Self {
            nonce2: r.array()?,
            q2: r.point()?,
            proof_q2: DlogProof::read(r)?,
            challenges: ckey::Challenges::read(r)?,
            cc2: r.array()?,
        })
    }
}

impl Message for Msg3 {
    const TYPE: MsgType = MsgType::Keygen3;
    const LEN: usize =
        HEADER_LEN + POINT_LEN + CHAIN_CODE_LEN + HASH_LEN + DlogProof::LEN + ckey::Responses::LEN;
}

impl Fields for Msg3 {
    fn write_fields(&self, w: &mut Writer<'_>) -> Result<()> {
        w.point(&self.q1)?;
        w.bytes(&self.cc1)?;
        w.bytes(&self.open_q1)?;
        self.proof_q1.write(w)?;
        self.responses.write(w)
    }

    fn read_fields(r: &mut Reader<'_>) -> Result<Self> {
        let mut out = Self::EMPTY;
        Self::read_fields_into(r, &mut out)?;
        Ok(out)
    }

    fn read_fields_into(r: &mut Reader<'_>, out: &mut Self) -> Result<()> {
        out.q1 = r.point()?;
        out.cc1 = r.array()?;
        out.open_q1 = r.array()?;
        out.proof_q1 = DlogProof::read(r)?;
        out.responses.read_into(r)
    }
}

/// Length of a chain code (and of each party's contribution to it).
const CHAIN_CODE_LEN: usize = 32;

crate::wire::sealed!(Msg1, Msg2, Msg3);
