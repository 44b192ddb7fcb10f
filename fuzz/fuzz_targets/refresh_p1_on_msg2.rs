//! A refresh round fed an arbitrary message from a valid state (see `ecdsa2pc_fuzz::refresh_p1_on_msg2`).
//! Any `Ok` or `Err` is fine; a panic is a finding.
#![no_main]

libfuzzer_sys::fuzz_target!(init: ecdsa2pc_fuzz::warm_up("refresh_p1_on_msg2"), |data: &[u8]| {
    let _ = ecdsa2pc_fuzz::refresh_p1_on_msg2(data);
});
