//! P2's keygen round on an arbitrary Msg3, from the state after the honest Msg1 and Msg2.
//! Any `Ok` or `Err` is fine; a panic is a finding.
#![no_main]

libfuzzer_sys::fuzz_target!(init: ecdsa2pc_fuzz::warm_up("keygen_p2_on_msg3"), |data: &[u8]| {
    let _ = ecdsa2pc_fuzz::keygen_p2_on_msg3(data);
});
