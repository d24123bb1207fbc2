//! OIDC authorize request parameters (the query string of `GET .../authorize`) at both
//! issuers of a provider with registered clients: `Params::parse`, client and redirect URI,
//! `response_mode`, and `validate_request` (response type, scope, PKCE, max_age, prompt, both
//! brokers' login policies); plus the parameter checks alone (`fuzzing::oidc_params`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mitid_mock_broker::fuzzing;
use mitid_mock_broker::oidc::OidcProvider;
use std::sync::LazyLock;

static PROVIDER: LazyLock<OidcProvider> = LazyLock::new(fuzzing::oidc_provider);

fuzz_target!(|data: &[u8]| {
    let _ = fuzzing::oidc_authorize(&PROVIDER, data);
    let _ = fuzzing::oidc_params(data);
});
