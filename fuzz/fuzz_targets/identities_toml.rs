//! The identities TOML file (`--identities`).
//!
//! The body is `mitid_mock_broker::fuzzing::run("identities_toml", ..)`, which the stable test
//! `tests/tests/fuzz_corpus.rs` replays on the seeds and on `fuzz/regressions/identities_toml/`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mitid_mock_broker::fuzzing;

fuzz_target!(|data: &[u8]| {
    let _ = fuzzing::run("identities_toml", data);
});
