//! Party 1's check of an arbitrary parameter message: public checks, then Π^prm.
//! Any `Ok` or `Err` is fine; a panic is a finding.
#![no_main]

libfuzzer_sys::fuzz_target!(init: ecdsa2pc_fuzz::warm_up("params_p2_verify"), |data: &[u8]| {
    let _ = ecdsa2pc_fuzz::params_p2_verify(data);
});
