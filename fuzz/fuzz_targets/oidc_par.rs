//! OIDC pushed authorization requests (`POST .../par`) at both issuers: client authentication
//! (Basic header, client_secret_post, private_key_jwt assertions) and the authorize checks on
//! the pushed parameters (`check_pushed`). Input: an optional `Authorization` header value, a
//! newline, then the form body (without a newline, all of it is the body).
//!
//! The body is `mitid_mock_broker::fuzzing::run("oidc_par", ..)`, which the stable test
//! `tests/tests/fuzz_corpus.rs` replays on the seeds and on `fuzz/regressions/oidc_par/`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mitid_mock_broker::fuzzing;

fuzz_target!(|data: &[u8]| {
    let _ = fuzzing::run("oidc_par", data);
});
