//! SAML HTTP-POST binding, as `POST` on the SSO/SLO URL reads it (after the body cap): the
//! form body through the endpoint's `read_form` (fields, base64, UTF-8, root element) and the
//! LogoutRequest / LogoutResponse parser (`fuzzing::saml_post`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mitid_mock_broker::fuzzing::{self, FUZZ_NOW};

fuzz_target!(|data: &[u8]| {
    let _ = fuzzing::saml_post(data, FUZZ_NOW);
});
