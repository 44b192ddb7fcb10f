//! Decoder of party 0's ring-Pedersen parameter message (`ParamsMsg`): never panics; on
//! accepted input, encoding gives back the same bytes.
#![no_main]

use ecdsa2pc_core::ParamsMsg;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = ecdsa2pc_fuzz::decode::<ParamsMsg>(data);
});
