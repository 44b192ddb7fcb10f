//! P1's keygen round on an arbitrary Msg2, from the state after its honest Msg1.
//! Any `Ok` or `Err` is fine; a panic is a finding.
#![no_main]

libfuzzer_sys::fuzz_target!(init: ecdsa2pc_fuzz::warm_up("keygen_p1_on_msg2"), |data: &[u8]| {
    let _ = ecdsa2pc_fuzz::keygen_p1_on_msg2(data);
});
