//! SP metadata (an EntityDescriptor or an EntitiesDescriptor), as registered from a file or URL.
//!
//! The body is `mitid_mock_broker::fuzzing::run("sp_metadata", ..)`, which the stable test
//! `tests/tests/fuzz_corpus.rs` replays on the seeds and on `fuzz/regressions/sp_metadata/`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mitid_mock_broker::fuzzing;

fuzz_target!(|data: &[u8]| {
    let _ = fuzzing::run("sp_metadata", data);
});
