//! The broker's `broker.toml` (`mitid-harness broker --config`, also the `[broker]` table of
//! sp.toml): `BrokerOptions::from_toml_str` (serde, `check`, the error's line lookup) and the
//! OIDC configuration TOML on its own (`OidcConfig::from_toml_str`, with `validate`).
//!
//! The body is `mitid_mock_broker::fuzzing::run("broker_toml", ..)`, which the stable test
//! `tests/tests/fuzz_corpus.rs` replays on the seeds and on `fuzz/regressions/broker_toml/`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mitid_mock_broker::fuzzing;

fuzz_target!(|data: &[u8]| {
    let _ = fuzzing::run("broker_toml", data);
});
