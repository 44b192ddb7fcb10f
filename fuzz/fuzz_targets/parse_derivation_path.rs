//! The BIP32 path parser (`sign --path`, `pubkey --path`): never panics; an accepted path
//! prints to text that parses back to it, and its indexes rebuild it.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = ecdsa2pc_fuzz::parse_derivation_path(data);
});
