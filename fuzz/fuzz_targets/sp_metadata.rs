//! SP metadata (an EntityDescriptor or an EntitiesDescriptor), as registered from a file or URL.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mitid_mock_broker::saml::sp_metadata::SpMetadata;

fuzz_target!(|text: &str| {
    let _ = SpMetadata::parse_all(text);
    let _ = SpMetadata::parse(text);
});
