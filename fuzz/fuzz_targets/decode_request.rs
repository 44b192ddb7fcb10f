//! The request every connection to party 0 starts with (ecdsa2pc-net), a sign request's
//! derivation path included: `Request::decode` never panics and an accepted request
//! re-encodes to the same bytes (one canonical form); party 1's reply decoder never panics
//! either.
#![no_main]

use ecdsa2pc_net::request::{Request, decode_reply};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(request) = Request::decode(data) {
        assert!(
            request.encode()[..] == *data,
            "request accepted in a non-canonical form"
        );
    }
    let _ = decode_reply(data);
});
