//! A share receipt skips exactly the costly check: P1's Dec(c_key) = x1. The unit tests in
//! `share/receipt.rs` show what a receipt does not skip; this shows that the decryption is
//! in fact skipped, by the process-wide decryption counter (alone in its binary for that).

mod support;

use ecdsa2pc_core::internals::paillier::half_decryptions;
use ecdsa2pc_core::{KeyShare, KeyShareP1, KeyShareP2};

#[test]
fn a_receipt_skips_the_decryption_and_only_for_its_bytes() {
    let (s1, s2) = support::keygen(410, 0);
    let mut buf = [0u8; KeyShareP1::ENCODED_LEN];
    let len = s1.encode(&mut buf).expect("encode");
    let bytes = buf.get(..len).expect("encoded length");

    // A full decode decrypts c_key: one CRT decryption, two halves.
    let before = half_decryptions();
    let (_, receipt) = KeyShareP1::decode_remembered(bytes, None).expect("full decode");
    assert_eq!(
        half_decryptions() - before,
        2,
        "the full decode decrypts c_key"
    );

    // The same bytes with their receipt: no decryption, the same receipt again.
    let before = half_decryptions();
    let (_, again) = KeyShareP1::decode_remembered(bytes, Some(&receipt)).expect("remembered");
    assert_eq!(
        half_decryptions(),
        before,
        "the receipt skips the decryption"
    );
    assert_eq!(again, receipt);

    // A receipt of other bytes (P2's share) does not skip it.
    let mut buf2 = [0u8; KeyShareP2::ENCODED_LEN];
    let len2 = s2.encode(&mut buf2).expect("encode P2");
    let (_, other) =
        KeyShareP2::decode_remembered(buf2.get(..len2).expect("P2 length"), None).expect("P2");
    let before = half_decryptions();
    KeyShareP1::decode_remembered(bytes, Some(&other)).expect("full decode again");
    assert_eq!(
        half_decryptions() - before,
        2,
        "another share's receipt does not skip the decryption"
    );
}
