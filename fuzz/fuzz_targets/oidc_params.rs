//! OIDC authorize / token / PAR form parameters: duplicate refusal, response_mode, both
//! brokers' login policies and PKCE.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mitid_mock_broker::fuzzing;

fuzz_target!(|data: &[u8]| {
    let _ = fuzzing::oidc_params(data);
});
