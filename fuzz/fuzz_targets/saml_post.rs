//! SAML HTTP-POST binding, as `POST` on the SSO/SLO URL reads it (after the body cap): the
//! form body through the endpoint's `read_form` (fields, base64, UTF-8, root element) and the
//! LogoutRequest / LogoutResponse parser (`fuzzing::saml_post`).
//!
//! The body is `mitid_mock_broker::fuzzing::run("saml_post", ..)`, which the stable test
//! `tests/tests/fuzz_corpus.rs` replays on the seeds and on `fuzz/regressions/saml_post/`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mitid_mock_broker::fuzzing;

fuzz_target!(|data: &[u8]| {
    let _ = fuzzing::run("saml_post", data);
});
