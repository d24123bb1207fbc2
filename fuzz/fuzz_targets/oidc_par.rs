//! OIDC pushed authorization requests (`POST .../par`) at both issuers: client authentication
//! (Basic header, client_secret_post, private_key_jwt assertions) and the authorize checks on
//! the pushed parameters (`check_pushed`). Input: an optional `Authorization` header value, a
//! newline, then the form body (without a newline, all of it is the body).
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
    let _ = fuzzing::oidc_par(&PROVIDER, authorization, body);
});
