//! P1's final sign round on an arbitrary Msg4 (ciphertext and π_c3), after honest Msg1–Msg3;
//! checks the abort lock (an invalid proof must not lock).
//! Any `Ok` or `Err` is fine; a panic is a finding.
#![no_main]

libfuzzer_sys::fuzz_target!(init: ecdsa2pc_fuzz::warm_up("sign_p1_on_msg4"), |data: &[u8]| {
    let _ = ecdsa2pc_fuzz::sign_p1_on_msg4(data);
});
