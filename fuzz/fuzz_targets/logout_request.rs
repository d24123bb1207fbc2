//! SAML SLO: LogoutRequest XML (before the signature check, as both bindings parse it) and
//! LogoutResponse XML.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mitid_mock_broker::fuzzing::{self, FUZZ_NOW};

fuzz_target!(|text: &str| {
    let _ = fuzzing::logout_request(text, FUZZ_NOW);
    let _ = fuzzing::logout_response(text);
});
