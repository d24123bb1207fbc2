//! SAML AuthnRequest XML as the SSO endpoint parses it after decoding the binding.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mitid_mock_broker::saml::authn_request;

fuzz_target!(|text: &str| {
    if let Ok(req) = authn_request::parse(text) {
        // The accessors the SSO endpoint uses on an accepted request.
        if let Some(rac) = &req.requested_authn_context {
            let _ = (rac.loa(), rac.profile(), rac.legacy_refs());
        }
    }
});
