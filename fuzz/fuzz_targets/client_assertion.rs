//! Client authentication at the token and PAR endpoints, including `private_key_jwt` client
//! assertions verified against a registered JWKS. Input: an optional `Authorization` header
//! value, a newline, then the form body (without a newline, all of it is the body).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mitid_mock_broker::oidc::{ClientConfig, OidcConfig, OidcKeys, OidcProvider, SigningKey};
use mitid_mock_broker::pki::MockPki;
use mitid_mock_broker::{FixedClock, IdentityStore, fuzzing};
use std::sync::{Arc, LazyLock};
use time::macros::datetime;

/// Issuer `http://127.0.0.1:8080/signaturgruppen/op`, clock fixed at 2026-01-01T12:00:00Z
/// (the time the seed assertions are minted for), clients `rp` (secret `mock-rp-secret`),
/// `rp-jwt` (private_key_jwt with the mock `sp` RSA key, kid `rp-rsa`) and `rp-public`.
static PROVIDER: LazyLock<OidcProvider> = LazyLock::new(|| {
    let pki = MockPki::builtin();
    let (_, sp) = pki
        .all()
        .into_iter()
        .find(|(n, _)| *n == "sp")
        .expect("the mock PKI has an sp credential");
    let key = SigningKey::from_pkcs8("sp", sp.key_pkcs8_der().expect("sp has a key"), None)
        .expect("the sp key loads");
    let mut jwk = key.public_jwk_json();
    jwk["kid"] = serde_json::json!("rp-rsa");
    let redirect = "http://127.0.0.1:9/cb";
    let mut cfg = OidcConfig::default();
    cfg.clients
        .push(ClientConfig::with_secret("rp", "mock-rp-secret", redirect));
    let mut jwt = ClientConfig::with_secret("rp-jwt", "unused", redirect);
    jwt.client_secret = None;
    jwt.jwks = Some(serde_json::json!({ "keys": [jwk] }));
    cfg.clients.push(jwt);
    let mut public = ClientConfig::with_secret("rp-public", "unused", redirect);
    public.client_secret = None;
    cfg.clients.push(public);
    let keys = OidcKeys::from_pki(pki).expect("mock OIDC keys");
    OidcProvider::new(cfg, "http://127.0.0.1:8080", IdentityStore::builtin(), keys)
        .expect("provider config is valid")
        .with_clock(Arc::new(FixedClock::new(datetime!(2026-01-01 12:00 UTC))))
});

fuzz_target!(|data: &[u8]| {
    let (authorization, body) = match data.iter().position(|b| *b == b'\n') {
        Some(i) => (Some(&data[..i]).filter(|a| !a.is_empty()), &data[i + 1..]),
        None => (None, data),
    };
    let _ = fuzzing::client_authentication(&PROVIDER, authorization, body);
});
