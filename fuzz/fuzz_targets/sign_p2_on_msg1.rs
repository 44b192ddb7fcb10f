//! P2's sign start on an arbitrary sign Msg1, with the honest key share.
//! Any `Ok` or `Err` is fine; a panic is a finding.
#![no_main]

libfuzzer_sys::fuzz_target!(init: ecdsa2pc_fuzz::warm_up("sign_p2_on_msg1"), |data: &[u8]| {
    let _ = ecdsa2pc_fuzz::sign_p2_on_msg1(data);
});
