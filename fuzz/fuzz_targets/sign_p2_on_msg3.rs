//! P2's sign round on an arbitrary Msg3, from the state after the honest Msg1 and Msg2.
//! Any `Ok` or `Err` is fine; a panic is a finding.
#![no_main]

libfuzzer_sys::fuzz_target!(init: ecdsa2pc_fuzz::warm_up("sign_p2_on_msg3"), |data: &[u8]| {
    let _ = ecdsa2pc_fuzz::sign_p2_on_msg3(data);
});
