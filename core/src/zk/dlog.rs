//! Schnorr proof of knowledge of x with X = x·G, made non-interactive by Fiat–Shamir.

use k256::{AffinePoint, ProjectivePoint, Scalar};
use rand_core::CryptoRng;
use zeroize::Zeroize;

use crate::{
    Error, Proof, Result, curve,
    session::Binding,
    sizes::{POINT_LEN, SCALAR_LEN},
    tags,
    wire::{Reader, Writer},
};

/// A proof (A, z) with z·G = A + e·X.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DlogProof {
    a: AffinePoint,
    z: Scalar,
}

impl DlogProof {
    /// Storage for a proof about to be read, not a valid proof.
    pub(crate) const EMPTY: Self = Self {
        a: AffinePoint::IDENTITY,
        z: Scalar::ZERO,
    };
    /// Encoded length.
    pub const LEN: usize = POINT_LEN + SCALAR_LEN;

    /// Proves knowledge of `x` for `statement = x·G`.
    #[must_use]
    pub fn prove<R: CryptoRng + ?Sized>(
        rng: &mut R,
        x: &Scalar,
        statement: &AffinePoint,
        binding: &Binding<'_>,
    ) -> Self {
        let mut k = curve::random_scalar(rng);
        let a = curve::mul_g(&k);
        let e = challenge(statement, &a, binding);
        let z = k + e * x;
        k.zeroize();
        Self { a, z }
    }

    /// Verifies against `statement` under `binding`.
    ///
    /// # Errors
    /// [`Error::ProofInvalid`] with [`Proof::DlogPoK`].
    pub fn verify(&self, statement: &AffinePoint, binding: &Binding<'_>) -> Result<()> {
        let e = challenge(statement, &self.a, binding);
        let lhs = ProjectivePoint::GENERATOR * self.z;
        let rhs = ProjectivePoint::from(self.a) + ProjectivePoint::from(*statement) * e;
        if lhs == rhs {
            Ok(())
        } else {
            Err(Error::ProofInvalid(Proof::DlogPoK))
        }
    }

    /// Writes (A, z).
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`].
    pub fn write(&self, w: &mut Writer<'_>) -> Result<()> {
        w.point(&self.a)?;
        w.scalar(&self.z)
    }

    /// Reads (A, z): A a valid non-identity point, z canonical.
    ///
    /// # Errors
    /// [`Error::InvalidPoint`] or [`Error::Malformed`].
    pub fn read(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Self {
            a: r.point()?,
            z: r.scalar()?,
        })
    }
}

fn challenge(statement: &AffinePoint, a: &AffinePoint, binding: &Binding<'_>) -> Scalar {
    let mut t = binding.transcript(tags::ZK_DLOG);
    t.point("G", &AffinePoint::GENERATOR)
        .point("X", statement)
        .point("A", a);
    t.challenge_scalar()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;

    const SID: [u8; 32] = [7; 32];
    const PID: [u8; 32] = [1; 32];

    fn binding(label: &'static str) -> Binding<'static> {
        Binding {
            session: &SID,
            prover: &PID,
            label,
        }
    }

    #[test]
    fn honest_proof_verifies_and_any_change_fails() {
        let mut rng = fixtures::rng(3);
        let x = curve::random_scalar(&mut rng);
        let xg = curve::mul_g(&x);
        let proof = DlogProof::prove(&mut rng, &x, &xg, &binding("t"));
        assert_eq!(proof.verify(&xg, &binding("t")), Ok(()));
        let bad = Err(Error::ProofInvalid(Proof::DlogPoK));
        assert_eq!(proof.verify(&xg, &binding("other label")), bad);
        let other_sid = [8; 32];
        assert_eq!(
            proof.verify(
                &xg,
                &Binding {
                    session: &other_sid,
                    ..binding("t")
                }
            ),
            bad
        );
        let other_pid = [2; 32];
        assert_eq!(
            proof.verify(
                &xg,
                &Binding {
                    prover: &other_pid,
                    ..binding("t")
                }
            ),
            bad
        );
        assert_eq!(
            proof.verify(&curve::mul_g(&(x + Scalar::ONE)), &binding("t")),
            bad
        );
        let tampered = DlogProof {
            z: proof.z + Scalar::ONE,
            ..proof
        };
        assert_eq!(tampered.verify(&xg, &binding("t")), bad);
    }
}
