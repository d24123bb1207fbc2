//! Entry points for the `cargo fuzz` targets in `fuzz/` (see docs/fuzzing.md): the
//! crate-private request readers an outsider reaches, re-exported so a fuzz target can call
//! the same code the HTTP handlers call without a running broker. Not part of the supported
//! API (hidden from the docs); every function only reports whether the input was accepted,
//! because the fuzzer looks for panics, hangs and runaway memory, not for particular answers.
//!
//! Each function names the handler whose code it runs; what it leaves out is state the
//! fuzzer cannot reach anyway (a registered SP's signature key, a stored PAR request or
//! authorization code behind a random token).

use crate::oidc::authorize::{idura_policy, is_pkce_token, parse_mode, signaturgruppen_policy};
use crate::oidc::params::Params;
use crate::oidc::provider::PkceMethod;
use crate::oidc::token::verify_pkce;
use crate::oidc::{ClientConfig, OidcConfig, OidcKeys, OidcProvider, SigningKey};
use crate::pki::MockPki;
use crate::saml::authn_request;
use crate::saml::endpoint::{PostInbound, RedirectInbound, read_form, read_query};
use crate::saml::slo::{logout_request_info, logout_response_received};
use crate::{FixedClock, IdentityStore};
use axum::http::{HeaderMap, HeaderValue, header};
use std::sync::Arc;
use time::OffsetDateTime;

/// A SAML LogoutRequest as the SLO endpoint parses it (both bindings, before the signature
/// check), judged at `now`. Returns whether it was accepted.
pub fn logout_request(xml: &str, now: OffsetDateTime) -> bool {
    logout_request_info(xml, now)
}

/// A SAML LogoutResponse as the SLO endpoint reads it. Returns whether it was accepted.
pub fn logout_response(xml: &str) -> bool {
    logout_response_received(xml).is_ok()
}

/// An AuthnRequest as `sso::authn_request_received` parses it, with the accessors it then
/// uses. Returns whether it parsed.
pub fn authn_request(xml: &str) -> bool {
    match authn_request::parse(xml) {
        Ok(req) => {
            if let Some(rac) = &req.requested_authn_context {
                let _ = (rac.loa(), rac.profile(), rac.legacy_refs());
            }
            true
        }
        Err(e) => rendered(&e),
    }
}

/// Render a refusal as the handler would (its message goes into the 4xx page), so the
/// fuzzer exercises the `Display` impls too. Always `false`: the input was refused.
fn rendered(e: &dyn std::fmt::Display) -> bool {
    let _ = e.to_string();
    false
}

/// `GET` on the SSO/SLO URL (`endpoint::sso_get`): the whole query string through
/// `read_query` (size cap, `SAMLRequest`/`SAMLResponse`, percent-decoding, base64, bounded
/// inflate, the root element), then the message's own parser (AuthnRequest, LogoutRequest
/// judged at `now`, or LogoutResponse) up to where the SP's signature would be checked.
/// Returns whether the message was accepted that far.
pub fn saml_redirect(query: &str, now: OffsetDateTime) -> bool {
    match read_query(query) {
        Err(e) => rendered(&e),
        Ok(RedirectInbound::AuthnRequest(msg)) => authn_request(&msg.xml),
        Ok(RedirectInbound::LogoutRequest(msg)) => logout_request_info(&msg.xml, now),
        Ok(RedirectInbound::LogoutResponse(msg)) => logout_response(&msg.xml),
    }
}

/// `POST` on the SSO/SLO URL (`endpoint::sso_post`, after the body cap): the form body
/// through `read_form` (fields, base64, UTF-8, the root element), then the LogoutRequest or
/// LogoutResponse parser. Returns whether the message was accepted that far.
pub fn saml_post(body: &[u8], now: OffsetDateTime) -> bool {
    match read_form(body) {
        Err(e) => rendered(&e),
        Ok(PostInbound::LogoutRequest { xml, .. }) => logout_request_info(&xml, now),
        Ok(PostInbound::LogoutResponse { xml }) => logout_response(&xml),
    }
}

/// The clock of [`oidc_provider`]: 2026-01-01T12:00:00Z, the time the seed client
/// assertions are minted for.
pub const FUZZ_NOW: OffsetDateTime = time::macros::datetime!(2026-01-01 12:00 UTC);

/// An OIDC provider for the fuzz targets: the default issuers (Signaturgruppen at
/// `http://127.0.0.1:8080/signaturgruppen/op`, Idura at `.../idura`), the clock fixed at
/// [`FUZZ_NOW`], and clients `rp` (secret `mock-rp-secret`), `rp-jwt` (`private_key_jwt`
/// with the mock `sp` RSA key, kid `rp-rsa`) and `rp-public` (no secret), all with the
/// redirect URI `http://127.0.0.1:9/cb`.
pub fn oidc_provider() -> OidcProvider {
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
        .with_clock(Arc::new(FixedClock::new(FUZZ_NOW)))
}

/// Form parameters alone (query string or `application/x-www-form-urlencoded` body):
/// duplicate refusal, `response_mode`, both brokers' login policies (`acr_values`,
/// `idp_values`, `idp_params`) and the PKCE checks of the authorize and token
/// endpoints. Returns whether the parameters parsed.
pub fn oidc_params(bytes: &[u8]) -> bool {
    let Ok(params) = Params::parse(bytes) else {
        return false;
    };
    let mode = parse_mode(&params).is_ok();
    let sg = signaturgruppen_policy(&params).is_ok();
    let idura = idura_policy(&params).is_ok();
    let challenge = params.get("code_challenge").filter(|c| is_pkce_token(c));
    let method = match params.get("code_challenge_method") {
        Some("plain") => PkceMethod::Plain,
        _ => PkceMethod::S256,
    };
    let stored = challenge.map(|c| (c.to_string(), method));
    let pkce = verify_pkce(stored.as_ref(), params.get("code_verifier")).is_ok();
    mode | sg | idura | pkce
}

/// `GET {issuer}/connect/authorize` at every issuer of `provider` (`authorize::authorize`,
/// then `authorize_request`): `Params::parse` of the query, stage one
/// (`check_client_redirect`: client and exact redirect URI), `parse_mode` and stage two
/// (`validate_request`: response type, scope, PKCE, max_age, prompt, the issuer's login
/// policy). Leaves out redeeming a `request_uri` (a random token the fuzzer cannot guess) and
/// the login page. Returns whether any issuer accepted the request.
pub fn oidc_authorize(provider: &OidcProvider, query: &[u8]) -> bool {
    let Ok(params) = Params::parse(query) else {
        return false;
    };
    let mut accepted = false;
    for issuer in 0..provider.issuers.len() {
        let Ok((client, redirect_uri)) = provider.check_client_redirect(issuer, &params) else {
            continue;
        };
        let ok = parse_mode(&params)
            .and_then(|_| provider.validate_request(issuer, &client, &redirect_uri, &params));
        accepted |= ok.is_ok();
    }
    accepted
}

fn headers(authorization: Option<&[u8]>) -> Option<HeaderMap> {
    let mut headers = HeaderMap::new();
    if let Some(a) = authorization {
        headers.insert(header::AUTHORIZATION, HeaderValue::from_bytes(a).ok()?);
    }
    Some(headers)
}

/// `POST {issuer}/oauth2/par` at every issuer of `provider` (`authorize::par`, after the
/// content-type and size checks): the form body, client authentication from the
/// `Authorization` header or the body (including `private_key_jwt` assertions), and the
/// authorize endpoint's two stages on the pushed parameters (`check_pushed`). Leaves out
/// storing the request. Returns whether any issuer accepted it.
pub fn oidc_par(provider: &OidcProvider, authorization: Option<&[u8]>, body: &[u8]) -> bool {
    let Some(headers) = headers(authorization) else {
        return false;
    };
    let Ok(form) = Params::parse(body) else {
        return false;
    };
    let mut accepted = false;
    for issuer in 0..provider.issuers.len() {
        accepted |= provider
            .check_pushed(issuer, &headers, form.clone())
            .is_ok();
    }
    accepted
}

/// `POST {issuer}/connect/token` at every issuer of `provider` (`token::token`, after the
/// content-type and size checks): the form body and `token_request` (client authentication
/// including `private_key_jwt` client assertions with signature, claims and `jti` replay,
/// then `grant_type`, `code`, `redirect_uri` and PKCE). Returns whether any issuer issued
/// tokens (never, unless the fuzzer guesses a live code).
pub fn oidc_token(provider: &OidcProvider, authorization: Option<&[u8]>, body: &[u8]) -> bool {
    let Some(headers) = headers(authorization) else {
        return false;
    };
    let Ok(form) = Params::parse(body) else {
        return false;
    };
    let mut accepted = false;
    for issuer in 0..provider.issuers.len() {
        accepted |= provider.token_request(issuer, &headers, &form).is_ok();
    }
    accepted
}

/// The targets [`run`] knows: the broker's parsers. (`sp_toml` and `scenario_toml` are the
/// harness's, fuzzed in `fuzz/` and replayed by `tests/tests/fuzz_corpus.rs`.)
pub const TARGETS: &[&str] = &[
    "redirect_decode",
    "saml_post",
    "authn_request",
    "logout_request",
    "sp_metadata",
    "oidc_authorize",
    "oidc_par",
    "client_assertion",
    "identities_toml",
    "broker_toml",
];

/// The provider every OIDC target shares (built once: key loading is slow).
static PROVIDER: std::sync::LazyLock<OidcProvider> = std::sync::LazyLock::new(oidc_provider);

/// Split a fuzz input into an optional `Authorization` header value (the bytes before the
/// first newline, if any and non-empty) and a form body (the rest; all of it without a
/// newline).
pub fn split_authorization(data: &[u8]) -> (Option<&[u8]>, &[u8]) {
    match data.iter().position(|b| *b == b'\n') {
        Some(i) => (Some(&data[..i]).filter(|a| !a.is_empty()), &data[i + 1..]),
        None => (None, data),
    }
}

/// One fuzz input for the broker target `target` (one of [`TARGETS`]): exactly what the
/// `fuzz/fuzz_targets/<target>.rs` binary runs, so a stable test can replay the seed corpora
/// and the crash regressions. Text targets ignore input that is not UTF-8 (as libFuzzer's
/// `&str` targets do). Returns whether the input was accepted; panics on an unknown target.
pub fn run(target: &str, data: &[u8]) -> bool {
    let text = std::str::from_utf8(data).ok();
    match target {
        "redirect_decode" => {
            if let Ok(s) = crate::saml::redirect::codec::inflate(data) {
                assert!(s.len() <= crate::saml::redirect::codec::MAX_INFLATED_LEN);
            }
            let Some(text) = text else { return false };
            use crate::saml::redirect::codec::{Base64Reading, decode};
            let _ = decode(text, Base64Reading::Strict);
            let _ = decode(text, Base64Reading::Tolerant);
            saml_redirect(text, FUZZ_NOW)
        }
        "saml_post" => saml_post(data, FUZZ_NOW),
        "authn_request" => text.is_some_and(authn_request),
        "logout_request" => text.is_some_and(|t| {
            let a = logout_request(t, FUZZ_NOW);
            logout_response(t) | a
        }),
        "sp_metadata" => text.is_some_and(|t| {
            use crate::saml::sp_metadata::SpMetadata;
            let all = SpMetadata::parse_all(t).is_ok();
            SpMetadata::parse(t).is_ok() | all
        }),
        "oidc_authorize" => {
            let a = oidc_authorize(&PROVIDER, data);
            oidc_params(data) | a
        }
        "oidc_par" => {
            let (authorization, body) = split_authorization(data);
            oidc_par(&PROVIDER, authorization, body)
        }
        "client_assertion" => {
            let (authorization, body) = split_authorization(data);
            oidc_token(&PROVIDER, authorization, body)
        }
        "identities_toml" => {
            text.is_some_and(|t| IdentityStore::from_toml_str(t, "fuzz.toml").is_ok())
        }
        "broker_toml" => text.is_some_and(|t| {
            let nowhere = std::path::Path::new("/nonexistent");
            let options = crate::BrokerOptions::from_toml_str(t, "broker.toml", nowhere);
            if let Err(e) = &options {
                let _ = e.to_string();
            }
            let oidc = OidcConfig::from_toml_str(t, "oidc.toml");
            if let Err(e) = &oidc {
                let _ = e.to_string();
            }
            options.is_ok() | oidc.is_ok()
        }),
        other => panic!("no broker fuzz target {other:?}"),
    }
}
