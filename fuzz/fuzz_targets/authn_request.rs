//! SAML AuthnRequest XML as the SSO endpoint parses it after decoding the binding
//! (`authn_request::parse` and the RequestedAuthnContext accessors it uses).
//!
//! The body is `mitid_mock_broker::fuzzing::run("authn_request", ..)`, which the stable test
//! `tests/tests/fuzz_corpus.rs` replays on the seeds and on `fuzz/regressions/authn_request/`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mitid_mock_broker::fuzzing;

fuzz_target!(|data: &[u8]| {
    let _ = fuzzing::run("authn_request", data);
});
