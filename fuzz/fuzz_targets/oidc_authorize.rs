//! OIDC authorize request parameters (the query string of `GET .../authorize`) at both
//! issuers of a provider with registered clients: `Params::parse`, client and redirect URI,
//! `response_mode`, and `validate_request` (response type, scope, PKCE, max_age, prompt, both
//! brokers' login policies); plus the parameter checks alone (`fuzzing::oidc_params`).
//!
//! The body is `mitid_mock_broker::fuzzing::run("oidc_authorize", ..)`, which the stable test
//! `tests/tests/fuzz_corpus.rs` replays on the seeds and on `fuzz/regressions/oidc_authorize/`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mitid_mock_broker::fuzzing;

fuzz_target!(|data: &[u8]| {
    let _ = fuzzing::run("oidc_authorize", data);
});
