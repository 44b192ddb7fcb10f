//! A refresh round fed an arbitrary message from a valid state (see `ecdsa2pc_fuzz::refresh_p2_on_msg1`).
//! Any `Ok` or `Err` is fine; a panic is a finding.
#![no_main]

libfuzzer_sys::fuzz_target!(init: ecdsa2pc_fuzz::warm_up("refresh_p2_on_msg1"), |data: &[u8]| {
    let _ = ecdsa2pc_fuzz::refresh_p2_on_msg1(data);
});
