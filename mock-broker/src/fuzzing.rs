//! Entry points for the `cargo fuzz` targets in `fuzz/` (see docs/fuzzing.md): the few
//! crate-private parsers an outsider reaches, re-exported so a fuzz target can call them
//! without a running broker. Not part of the supported API (hidden from the docs); every
//! function only reports whether the input was accepted, because the fuzzer looks for panics,
//! hangs and runaway memory, not for particular answers.

use crate::oidc::OidcProvider;
use crate::oidc::authorize::{idura_policy, is_pkce_token, parse_mode, signaturgruppen_policy};
use crate::oidc::client_auth::authenticate;
use crate::oidc::params::Params;
use crate::oidc::provider::PkceMethod;
use crate::oidc::token::verify_pkce;
use crate::saml::slo::{logout_request_info, logout_response_received};
use axum::http::{HeaderMap, HeaderValue, header};
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

/// Form parameters of an authorize, token or PAR request (query string or
/// `application/x-www-form-urlencoded` body): duplicate refusal, `response_mode`, both
/// brokers' login policies (`acr_values`, `idp_values`, `login_hint`, ...) and the PKCE
/// checks of the authorize and token endpoints. Returns whether the parameters parsed.
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

/// Client authentication of a token or PAR request at `provider`'s first issuer: the
/// `Authorization` header (if any) and the form body, including `private_key_jwt` client
/// assertions (JWS parsing, signature verification against the client's JWKS, claims and
/// `jti` replay). Returns whether the client was authenticated.
pub fn client_authentication(
    provider: &OidcProvider,
    authorization: Option<&[u8]>,
    body: &[u8],
) -> bool {
    let Some(iss) = provider.issuers.first() else {
        return false;
    };
    let mut headers = HeaderMap::new();
    if let Some(a) = authorization {
        let Ok(v) = HeaderValue::from_bytes(a) else {
            return false;
        };
        headers.insert(header::AUTHORIZATION, v);
    }
    let Ok(params) = Params::parse(body) else {
        return false;
    };
    let audiences = [iss.url.clone()];
    authenticate(provider, iss, &headers, &params, &audiences).is_ok()
}
