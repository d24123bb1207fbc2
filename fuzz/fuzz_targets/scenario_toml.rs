//! Scenario catalogue TOML (`scenarios/*.toml` and user-supplied scenario files).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mitid_harness::Catalogue;

fuzz_target!(|text: &str| {
    let mut c = Catalogue::empty();
    let _ = c.add_toml(text, "fuzz.toml");
});
