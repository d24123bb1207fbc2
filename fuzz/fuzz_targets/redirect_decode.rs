//! SAML HTTP-Redirect binding, as `GET` on the SSO/SLO URL reads it: the whole query string
//! through the endpoint's `read_query` and the message's parser (`fuzzing::saml_redirect`),
//! plus the base64 + raw-DEFLATE codec on the text and inflate on the raw bytes (deflate
//! bombs must stay bounded by `MAX_INFLATED_LEN`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mitid_mock_broker::fuzzing::{self, FUZZ_NOW};
use mitid_mock_broker::saml::redirect::codec::{self, Base64Reading, MAX_INFLATED_LEN};

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = codec::inflate(data) {
        assert!(s.len() <= MAX_INFLATED_LEN);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = fuzzing::saml_redirect(text, FUZZ_NOW);
        let _ = codec::decode(text, Base64Reading::Strict);
        let _ = codec::decode(text, Base64Reading::Tolerant);
    }
});
