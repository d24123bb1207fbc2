//! OIDC token requests (`POST .../token`) at both issuers, seeded with `private_key_jwt`
//! client assertions: `token_request` (client authentication with JWS parsing, signature
//! verification against the client's JWKS, claims and `jti` replay; then grant_type, code,
//! redirect_uri and PKCE). Input: an optional `Authorization` header value, a newline, then
//! the form body (without a newline, all of it is the body).
//!
//! The body is `mitid_mock_broker::fuzzing::run("client_assertion", ..)`, which the stable test
//! `tests/tests/fuzz_corpus.rs` replays on the seeds and on `fuzz/regressions/client_assertion/`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mitid_mock_broker::fuzzing;

fuzz_target!(|data: &[u8]| {
    let _ = fuzzing::run("client_assertion", data);
});
