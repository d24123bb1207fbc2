//! The identities TOML file (`--identities`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mitid_mock_broker::IdentityStore;

fuzz_target!(|text: &str| {
    let _ = IdentityStore::from_toml_str(text, "fuzz.toml");
});
