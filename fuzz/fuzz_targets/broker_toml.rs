//! The broker's `broker.toml` (`mitid-harness broker --config`, also the `[broker]` table of
//! sp.toml): `BrokerOptions::from_toml_str` (serde, `check`, the error's line lookup) and the
//! OIDC configuration TOML on its own (`OidcConfig::from_toml_str`, with `validate`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mitid_mock_broker::BrokerOptions;
use mitid_mock_broker::oidc::OidcConfig;
use std::path::Path;

fuzz_target!(|text: &str| {
    if let Err(e) = BrokerOptions::from_toml_str(text, "broker.toml", Path::new("/nonexistent")) {
        let _ = e.to_string();
    }
    if let Err(e) = OidcConfig::from_toml_str(text, "oidc.toml") {
        let _ = e.to_string();
    }
});
