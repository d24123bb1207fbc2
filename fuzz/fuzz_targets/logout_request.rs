//! SAML SLO: LogoutRequest XML (before the signature check, as both bindings parse it) and
//! LogoutResponse XML.
//!
//! The body is `mitid_mock_broker::fuzzing::run("logout_request", ..)`, which the stable test
//! `tests/tests/fuzz_corpus.rs` replays on the seeds and on `fuzz/regressions/logout_request/`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mitid_mock_broker::fuzzing;

fuzz_target!(|data: &[u8]| {
    let _ = fuzzing::run("logout_request", data);
});
