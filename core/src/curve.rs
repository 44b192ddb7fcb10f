//! secp256k1 points and scalars: strict decoding and the few helpers the rounds share.

use k256::{
    AffinePoint, CompressedPoint, FieldBytes, ProjectivePoint, Scalar,
    elliptic_curve::{
        ff::PrimeField, group::GroupEncoding, ops::Reduce, point::AffineCoordinates,
        subtle::ConstantTimeEq,
    },
};

use crate::{Error, Result};

/// Decodes a 33-byte compressed point; rejects the identity, x ≥ p and off-curve x.
///
/// # Errors
/// [`Error::InvalidPoint`].
pub fn decode_point(bytes: &[u8; 33]) -> Result<AffinePoint> {
    if bytes[0] != 0x02 && bytes[0] != 0x03 {
        return Err(Error::InvalidPoint);
    }
    let repr = CompressedPoint::from(*bytes);
    let point =
        Option::<AffinePoint>::from(AffinePoint::from_bytes(&repr)).ok_or(Error::InvalidPoint)?;
    if is_identity(&point) {
        return Err(Error::InvalidPoint);
    }
    Ok(point)
}

/// Encodes a point compressed; the identity has no such encoding.
///
/// # Errors
/// [`Error::InvalidPoint`] for the identity.
pub fn encode_point(point: &AffinePoint) -> Result<[u8; 33]> {
    if is_identity(point) {
        return Err(Error::InvalidPoint);
    }
    point
        .to_bytes()
        .as_slice()
        .try_into()
        .map_err(|_| Error::InvalidPoint)
}

/// Decodes a canonical scalar (`< q`).
///
/// # Errors
/// [`Error::Malformed`] if `≥ q`.
pub fn decode_scalar(bytes: &[u8; 32]) -> Result<Scalar> {
    Option::from(Scalar::from_repr(FieldBytes::from(*bytes))).ok_or(Error::Malformed)
}

/// Whether a point is the identity.
#[must_use]
pub fn is_identity(point: &AffinePoint) -> bool {
    point.ct_eq(&AffinePoint::IDENTITY).into()
}

/// `x(R) mod q`, the ECDSA `r`.
#[must_use]
pub fn x_mod_q(point: &AffinePoint) -> Scalar {
    <Scalar as Reduce<FieldBytes>>::reduce(&point.x())
}

/// `k·G`.
#[must_use]
pub fn mul_g(k: &Scalar) -> AffinePoint {
    (ProjectivePoint::GENERATOR * k).to_affine()
}

/// A uniformly random non-zero scalar.
#[must_use]
pub fn random_scalar<R: rand_core::CryptoRng + ?Sized>(rng: &mut R) -> Scalar {
    loop {
        let s = <Scalar as k256::elliptic_curve::Field>::random(rng);
        if !bool::from(k256::elliptic_curve::Field::is_zero(&s)) {
            return s;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_identity_offcurve_and_noncanonical() {
        let g = encode_point(&AffinePoint::GENERATOR).unwrap();
        assert_eq!(decode_point(&g).unwrap(), AffinePoint::GENERATOR);
        assert_eq!(decode_point(&[0u8; 33]), Err(Error::InvalidPoint));
        let mut uncompressed_tag = g;
        uncompressed_tag[0] = 0x04;
        assert_eq!(decode_point(&uncompressed_tag), Err(Error::InvalidPoint));
        // x = p is not a canonical field element.
        let mut x_eq_p = [0xffu8; 33];
        x_eq_p[0] = 0x02;
        x_eq_p[28] = 0xfe;
        x_eq_p[31] = 0xfc;
        x_eq_p[32] = 0x2f;
        assert_eq!(decode_point(&x_eq_p), Err(Error::InvalidPoint));
        // x = 5 has no point on secp256k1 (y² = 130 is a non-residue).
        let mut off = [0u8; 33];
        off[0] = 0x02;
        off[32] = 5;
        assert_eq!(decode_point(&off), Err(Error::InvalidPoint));
        assert_eq!(
            encode_point(&AffinePoint::IDENTITY),
            Err(Error::InvalidPoint)
        );
    }

    #[test]
    fn rejects_scalars_at_and_above_q() {
        let q = crate::bigint::ORDER.to_be_bytes();
        let q: [u8; 32] = q.as_ref().try_into().unwrap();
        assert_eq!(decode_scalar(&q), Err(Error::Malformed));
        assert_eq!(decode_scalar(&[0xff; 32]), Err(Error::Malformed));
        let mut below = q;
        below[31] -= 1;
        assert!(decode_scalar(&below).is_ok());
    }
}
