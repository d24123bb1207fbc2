//! OIDC token requests (`POST .../token`) at both issuers, seeded with `private_key_jwt`
//! client assertions: `token_request` (client authentication with JWS parsing, signature
//! verification against the client's JWKS, claims and `jti` replay; then grant_type, code,
//! redirect_uri and PKCE). Input: an optional `Authorization` header value, a newline, then
//! the form body (without a newline, all of it is the body).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mitid_mock_broker::fuzzing;
use mitid_mock_broker::oidc::OidcProvider;
use std::sync::LazyLock;

static PROVIDER: LazyLock<OidcProvider> = LazyLock::new(fuzzing::oidc_provider);

fuzz_target!(|data: &[u8]| {
    let (authorization, body) = match data.iter().position(|b| *b == b'\n') {
        Some(i) => (Some(&data[..i]).filter(|a| !a.is_empty()), &data[i + 1..]),
        None => (None, data),
    };
    let _ = fuzzing::oidc_token(&PROVIDER, authorization, body);
});
