//! P2's final sign round on an arbitrary Msg5 (signature), after honest Msg1–Msg4.
//! Any `Ok` or `Err` is fine; a panic is a finding.
#![no_main]

libfuzzer_sys::fuzz_target!(init: ecdsa2pc_fuzz::warm_up("sign_p2_on_msg5"), |data: &[u8]| {
    let _ = ecdsa2pc_fuzz::sign_p2_on_msg5(data);
});
