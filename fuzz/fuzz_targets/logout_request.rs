//! SAML SLO: LogoutRequest XML (before the signature check, as both bindings parse it) and
//! LogoutResponse XML.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mitid_mock_broker::fuzzing;
use time::macros::datetime;

fuzz_target!(|text: &str| {
    let _ = fuzzing::logout_request(text, datetime!(2026-01-01 12:00 UTC));
    let _ = fuzzing::logout_response(text);
});
