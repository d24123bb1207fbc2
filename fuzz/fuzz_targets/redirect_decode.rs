//! SAML HTTP-Redirect binding: the whole query string (both parameter names), the base64 +
//! raw-DEFLATE codec on the text, and inflate on the raw bytes (deflate bombs must stay
//! bounded by `MAX_INFLATED_LEN`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mitid_mock_broker::saml::redirect::codec::{self, Base64Reading};
use mitid_mock_broker::saml::redirect::decode_query;

fuzz_target!(|data: &[u8]| {
    let _ = codec::inflate(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = decode_query(text, "SAMLRequest");
        let _ = decode_query(text, "SAMLResponse");
        let _ = codec::decode(text, Base64Reading::Strict);
        let _ = codec::decode(text, Base64Reading::Tolerant);
    }
});
