//! The harness's `sp.toml`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mitid_harness::SpConfig;
use std::path::Path;

fuzz_target!(|text: &str| {
    let _ = SpConfig::from_toml_str(text, "sp.toml", Path::new("/nonexistent"));
});
