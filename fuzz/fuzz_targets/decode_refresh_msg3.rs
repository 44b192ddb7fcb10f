//! Decoder of `refresh::Msg3`: never panics; on accepted input, encoding gives back the same bytes.
#![no_main]

use ecdsa2pc_core::refresh::Msg3;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = ecdsa2pc_fuzz::decode::<Msg3>(data);
});
