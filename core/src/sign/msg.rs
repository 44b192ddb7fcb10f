//! Signing messages and their fixed layouts.

use k256::{AffinePoint, Scalar};

use crate::{
    Result,
    paillier::ModNN,
    session::ID_LEN,
    sizes::{HASH_LEN, HEADER_LEN, MOD_NN_LEN, POINT_LEN, SCALAR_LEN},
    wire::{Fields, Message, MsgType, Reader, Writer},
    zk::{dlog::DlogProof, sign_ciphertext::SignCiphertextProof},
};

/// P1 → P2: P1's nonce, the fingerprint of its key share and a commitment to (R1, digest).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Msg1 {
    /// P1's fresh session nonce.
    pub nonce1: [u8; ID_LEN],
    /// Fingerprint of P1's share: (Q, N, c_key, epoch).
    pub fingerprint: [u8; HASH_LEN],
    /// Id of the BIP32 path P1 signs under (a hash of its indexes): P2 refuses a path
    /// other than its own before it computes anything.
    pub path_id: [u8; HASH_LEN],
    /// Commitment to (R1, digest), bound to the session prefix and P1's pid.
    pub com_r1: [u8; HASH_LEN],
}

/// P2 → P1: P2's nonce, R2 and its proof.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Msg2 {
    /// P2's fresh session nonce.
    pub nonce2: [u8; ID_LEN],
    /// P2's nonce point R2 = k2·G.
    pub r2: AffinePoint,
    /// P2's proof of knowledge of k2.
    pub proof_r2: DlogProof,
}

/// P1 → P2: R1 opened, with its proof.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Msg3 {
    /// P1's nonce point R1 = k1·G.
    pub r1: AffinePoint,
    /// Opening of the commitment to R1.
    pub open_r1: [u8; HASH_LEN],
    /// P1's proof of knowledge of k1.
    pub proof_r1: DlogProof,
}

/// P2 → P1: the ciphertext of P2's half of s and π_c3, the proof that it is well formed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Msg4 {
    /// The ciphertext of k2⁻¹·(m + r·x) + ρ·q (range checked by P1's round).
    pub c: ModNN,
    /// π_c3 (every range checked by P1's round, before anything else).
    pub proof: SignCiphertextProof,
}

/// P1 → P2: the signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Msg5 {
    /// Signature r.
    pub r: Scalar,
    /// Signature s (low).
    pub s: Scalar,
}

impl Message for Msg1 {
    const TYPE: MsgType = MsgType::Sign1;
    const LEN: usize = HEADER_LEN + ID_LEN + 3 * HASH_LEN;
}

impl Fields for Msg1 {
    fn write_fields(&self, w: &mut Writer<'_>) -> Result<()> {
        w.bytes(&self.nonce1)?;
        w.bytes(&self.fingerprint)?;
        w.bytes(&self.path_id)?;
        w.bytes(&self.com_r1)
    }

    fn read_fields(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Self {
            nonce1: r.array()?,
            fingerprint: r.array()?,
            path_id: r.array()?,
            com_r1: r.array()?,
        })
    }
}

impl Message for Msg2 {
    const TYPE: MsgType = MsgType::Sign2;
    const LEN: usize = HEADER_LEN + ID_LEN + POINT_LEN + DlogProof::LEN;
}

impl Fields for Msg2 {
    fn write_fields(&self, w: &mut Writer<'_>) -> Result<()> {
        w.bytes(&self.nonce2)?;
        w.point(&self.r2)?;
        self.proof_r2.write(w)
    }

    fn read_fields(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Self {
            nonce2: r.array()?,
            r2: r.point()?,
            proof_r2: DlogProof::read(r)?,
        })
    }
}

impl Message for Msg3 {
    const TYPE: MsgType = MsgType::Sign3;
    const LEN: usize = HEADER_LEN + POINT_LEN + HASH_LEN + DlogProof::LEN;
}

impl Fields for Msg3 {
    fn write_fields(&self, w: &mut Writer<'_>) -> Result<()> {
        w.point(&self.r1)?;
        w.bytes(&self.open_r1)?;
        self.proof_r1.write(w)
    }

    fn read_fields(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Self {
            r1: r.point()?,
            open_r1: r.array()?,
            proof_r1: DlogProof::read(r)?,
        })
    }
}

impl Msg4 {
    /// Storage for [`Message::decode_into`]; not a message P1 accepts.
    pub const EMPTY: Self = Self {
        c: ModNN::ZERO,
        proof: SignCiphertextProof::EMPTY,
    };
}

impl Message for Msg4 {
    const TYPE: MsgType = MsgType::Sign4;
    const LEN: usize = HEADER_LEN + MOD_NN_LEN + SignCiphertextProof::LEN;
}

impl Fields for Msg4 {
    fn write_fields(&self, w: &mut Writer<'_>) -> Result<()> {
        w.integer(MOD_NN_LEN, &self.c)?;
        self.proof.write(w)
    }

    /// The ciphertext's range and coprimality with N, and every range of the proof, are
    /// checked by P1's round, which has N and N̂. Points must be valid.
    fn read_fields(r: &mut Reader<'_>) -> Result<Self> {
        let mut out = Self::EMPTY;
        Self::read_fields_into(r, &mut out)?;
        Ok(out)
    }

    fn read_fields_into(r: &mut Reader<'_>, out: &mut Self) -> Result<()> {
        out.c = r.integer_unbounded(MOD_NN_LEN)?;
        out.proof.read_into(r)
    }
}

impl Message for Msg5 {
    const TYPE: MsgType = MsgType::Sign5;
    const LEN: usize = HEADER_LEN + 2 * SCALAR_LEN;
}

impl Fields for Msg5 {
    fn write_fields(&self, w: &mut Writer<'_>) -> Result<()> {
        w.scalar(&self.r)?;
        w.scalar(&self.s)
    }

    fn read_fields(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Self {
            r: r.scalar()?,
            s: r.scalar()?,
        })
    }
}

crate::wire::sealed!(Msg1, Msg2, Msg3, Msg4, Msg5);
