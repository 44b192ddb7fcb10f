//! A receipt for share bytes that passed every check of [`KeyShare::decode`], so that a
//! process that decodes the same file again and again (the co-signer service, once per
//! request) pays for the costly check once.
//!
//! The costly check is P1's: Dec(c_key) = x1, a CRT decryption (about 4 ms), plus x1·G = Q1.
//! Decoding the very same bytes again cannot give another answer, so a decoder that holds a
//! receipt for them reads the fields and runs the cheap checks (format, checksum, points,
//! the Paillier key, Q1 + Q2 = Q) and skips the consistency of the secret half.
//!
//! Only this module makes receipts, and only after a full decode succeeded: a caller cannot
//! vouch for bytes itself. A receipt is a SHA-256 of the bytes it covers; those hold the
//! share's secrets, but their digest gives none of them away (x1 and the primes are far too
//! wide to guess), so a receipt is not treated as a secret: it is `Copy`, not wiped, and
//! compared like any value. It is still kept in memory only and never shown (its `Debug`
//! prints nothing): it means something only to the process that checked the bytes.
//!
//! [`KeyShare::decode`]: super::KeyShare::decode

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::codec::Checks;
use crate::{Result, tags};

/// Proof, kept in memory, that some share bytes decoded and passed every check of
/// [`super::KeyShare::decode`] in this process (see the module documentation).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Receipt([u8; 32]);

impl core::fmt::Debug for Receipt {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // A digest of secret bytes: nothing to show.
        f.write_str("Receipt(..)")
    }
}

impl Receipt {
    /// The receipt of `bytes`; the caller has checked them fully.
    pub(super) fn issue(bytes: &[u8]) -> Self {
        Self(digest(bytes))
    }

    /// Whether this receipt was issued for exactly `bytes` (compared in constant time, which
    /// costs nothing here, although a digest of them tells nothing of the secrets).
    pub(super) fn covers(&self, bytes: &[u8]) -> bool {
        self.0.ct_eq(&digest(bytes)).into()
    }
}

fn digest(bytes: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(tags::SHARE_RECEIPT);
    h.update((bytes.len() as u64).to_be_bytes());
    h.update(bytes);
    h.finalize().into()
}

/// [`super::KeyShare::decode_remembered`] with `decode`, the codec of one party's share.
pub(super) fn decode_remembered<S>(
    bytes: &[u8],
    before: Option<&Receipt>,
    decode: fn(&[u8], Checks) -> Result<S>,
) -> Result<(S, Receipt)> {
    let checks = match before {
        Some(receipt) if receipt.covers(bytes) => Checks::Public,
        _ => Checks::All,
    };
    let share = decode(bytes, checks)?;
    Ok((share, Receipt::issue(bytes)))
}

#[cfg(test)]
mod tests {
    extern crate alloc;

    use super::*;
    use crate::{
        Error, KeyShare, KeyShareP1, KeyShareP2, fixtures,
        share::codec::{decode_p1, encode_p1},
    };

    fn bytes_of<S: KeyShare>(share: &S) -> ([u8; 4096], usize) {
        let mut buf = [0u8; 4096];
        let len = share.encode(&mut buf).expect("encode");
        (buf, len)
    }

    /// P1's share bytes with x1 changed: format and checksum valid, Dec(c_key) ≠ x1.
    fn inconsistent_p1(share: &mut KeyShareP1) -> ([u8; 4096], usize) {
        share.x1 = share.x1.wrapping_add(&crate::share::X1::ONE);
        let mut buf = [0u8; 4096];
        let len = encode_p1(share, &mut buf).expect("encode");
        (buf, len)
    }

    #[test]
    fn the_receipt_of_the_same_bytes_decodes_the_same_share() {
        let (s1, s2) = fixtures::keygen(41);
        let (b1, n1) = bytes_of(&s1);
        let (first, receipt) = KeyShareP1::decode_remembered(&b1[..n1], None).expect("full");
        let (again, same) =
            KeyShareP1::decode_remembered(&b1[..n1], Some(&receipt)).expect("remembered");
        assert_eq!(same, receipt, "the same bytes, the same receipt");
        assert_eq!(bytes_of(&first).0, bytes_of(&again).0);
        assert_eq!(bytes_of(&again).0, b1);
        let (b2, n2) = bytes_of(&s2);
        let (_, receipt2) = KeyShareP2::decode_remembered(&b2[..n2], None).expect("P2 full");
        assert_ne!(receipt2, receipt, "other bytes, another receipt");
        KeyShareP2::decode_remembered(&b2[..n2], Some(&receipt2)).expect("P2 remembered");
    }

    /// A receipt vouches for the bytes it was issued for and nothing else: a share whose
    /// secret half does not match is refused, whatever receipt comes with it.
    #[test]
    fn a_receipt_of_other_bytes_does_not_skip_the_secret_check() {
        let (mut s1, _) = fixtures::keygen(42);
        let (good, n) = bytes_of(&s1);
        let (_, receipt) = KeyShareP1::decode_remembered(&good[..n], None).expect("good share");
        let (bad, m) = inconsistent_p1(&mut s1);
        assert!(matches!(
            KeyShareP1::decode_remembered(&bad[..m], Some(&receipt)),
            Err(Error::InvalidShare)
        ));
        assert!(matches!(
            KeyShareP1::decode_remembered(&bad[..m], None),
            Err(Error::InvalidShare)
        ));
        // What the receipt saves is exactly that check: without it the damage goes unseen.
        assert!(decode_p1(&bad[..m], Checks::Public).is_ok());
    }

    /// The checks a receipt does not skip still run: Q1 + Q2 = Q.
    #[test]
    fn the_public_checks_run_with_a_receipt() {
        let (mut s1, _) = fixtures::keygen(43);
        s1.common.public.q = s1.common.public.q1;
        let (bad, m) = bytes_of(&s1);
        assert!(matches!(
            decode_p1(&bad[..m], Checks::Public),
            Err(Error::InvalidShare)
        ));
    }

    #[test]
    fn a_receipt_shows_nothing_when_printed() {
        assert_eq!(alloc::format!("{:?}", Receipt::issue(b"x")), "Receipt(..)");
    }
}
