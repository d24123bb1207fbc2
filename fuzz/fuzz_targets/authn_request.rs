//! SAML AuthnRequest XML as the SSO endpoint parses it after decoding the binding
//! (`authn_request::parse` and the RequestedAuthnContext accessors it uses).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mitid_mock_broker::fuzzing;

fuzz_target!(|text: &str| {
    let _ = fuzzing::authn_request(text);
});
