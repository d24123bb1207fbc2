//! SAML HTTP-Redirect binding, as `GET` on the SSO/SLO URL reads it: the whole query string
//! through the endpoint's `read_query` and the message's parser (`fuzzing::saml_redirect`),
//! plus the base64 + raw-DEFLATE codec on the text and inflate on the raw bytes (deflate
//! bombs must stay bounded by `MAX_INFLATED_LEN`).
//!
//! The body is `mitid_mock_broker::fuzzing::run("redirect_decode", ..)`, which the stable test
//! `tests/tests/fuzz_corpus.rs` replays on the seeds and on `fuzz/regressions/redirect_decode/`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mitid_mock_broker::fuzzing;

fuzz_target!(|data: &[u8]| {
    let _ = fuzzing::run("redirect_decode", data);
});
