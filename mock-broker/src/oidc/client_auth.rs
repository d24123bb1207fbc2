//! Client authentication at the token and PAR endpoints: `client_secret_basic`,
//! `client_secret_post`, `private_key_jwt` (RFC 7523 assertions signed RS256 or ES256 with a
//! key from the client's registered JWKS) and `none` for public clients.
//!
//! Exactly one method per request (RFC 6749 §2.3: "MUST NOT use more than one"); assertions
//! are single-use by `jti` until they expire.

use super::config::ClientAuthMethod;
use super::error::OAuthError;
use super::params::Params;
use super::provider::{Client, Issuer, OidcProvider, bounded_insert};
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED, RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents, UnparsedPublicKey,
};
use axum::http::{HeaderMap, StatusCode, header};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::Value;
use std::sync::Arc;

/// The assertion type of RFC 7523 client authentication.
pub const JWT_BEARER_ASSERTION: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Clock skew tolerated on assertion `exp`/`nbf`/`iat`.
const SKEW_SECS: i64 = 60;

/// Largest accepted assertion lifetime (`exp` - now); RFC 7523 wants short-lived assertions.
const MAX_ASSERTION_LIFETIME_SECS: i64 = 3600;

/// A public key from a client's JWKS.
#[derive(Debug, Clone)]
pub(crate) struct ClientKey {
    kid: Option<String>,
    key: PublicKey,
}

#[derive(Debug, Clone)]
enum PublicKey {
    Rsa { n: Vec<u8>, e: Vec<u8> },
    Ec { point: Vec<u8> },
}

impl ClientKey {
    fn alg(&self) -> &'static str {
        match self.key {
            PublicKey::Rsa { .. } => "RS256",
            PublicKey::Ec { .. } => "ES256",
        }
    }

    fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        match &self.key {
            PublicKey::Rsa { n, e } => RsaPublicKeyComponents { n, e }
                .verify(&RSA_PKCS1_2048_8192_SHA256, message, signature)
                .is_ok(),
            PublicKey::Ec { point } => UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point)
                .verify(message, signature)
                .is_ok(),
        }
    }
}

/// Parse a client's JWKS (`{"keys": [...]}`): RSA keys and P-256 EC keys.
pub(crate) fn parse_client_jwks(jwks: &Value) -> Result<Vec<ClientKey>, String> {
    let keys = jwks
        .get("keys")
        .and_then(Value::as_array)
        .ok_or("must be an object with a \"keys\" array")?;
    let field = |k: &Value, f: &str| -> Result<Vec<u8>, String> {
        let s = k
            .get(f)
            .and_then(Value::as_str)
            .ok_or_else(|| format!("key lacks \"{f}\""))?;
        URL_SAFE_NO_PAD
            .decode(s)
            .map_err(|_| format!("\"{f}\" is not base64url"))
    };
    let mut out = Vec::new();
    for k in keys {
        let kid = k.get("kid").and_then(Value::as_str).map(String::from);
        if k.get("use")
            .and_then(Value::as_str)
            .is_some_and(|u| u != "sig")
        {
            continue;
        }
        let key = match k.get("kty").and_then(Value::as_str) {
            Some("RSA") => PublicKey::Rsa {
                n: field(k, "n")?,
                e: field(k, "e")?,
            },
            Some("EC") => {
                if k.get("crv").and_then(Value::as_str) != Some("P-256") {
                    return Err("only P-256 EC keys are supported".into());
                }
                let (x, y) = (field(k, "x")?, field(k, "y")?);
                if x.len() != 32 || y.len() != 32 {
                    return Err("P-256 coordinates must be 32 bytes".into());
                }
                let mut point = vec![4u8];
                point.extend_from_slice(&x);
                point.extend_from_slice(&y);
                PublicKey::Ec { point }
            }
            other => return Err(format!("unsupported kty {other:?}")),
        };
        out.push(ClientKey { kid, key });
    }
    if out.is_empty() {
        return Err("has no signing keys".into());
    }
    Ok(out)
}

/// Why a client could not be authenticated.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ClientAuthError {
    /// More than one method in one request.
    #[error("more than one client authentication method was used")]
    Multiple,
    /// A malformed `Authorization` header or parameter.
    #[error("malformed client authentication: {0}")]
    Malformed(String),
    /// No client identification at all.
    #[error("client authentication is required")]
    Missing,
    /// Unknown client, or not registered at this issuer.
    #[error("unknown client {0:?}")]
    UnknownClient(String),
    /// The client is registered for another method.
    #[error("client {client:?} must authenticate with {expected}, not {used}")]
    WrongMethod {
        /// Client id.
        client: String,
        /// Registered method.
        expected: &'static str,
        /// Method used.
        used: &'static str,
    },
    /// Secret mismatch.
    #[error("client authentication failed")]
    BadSecret {
        /// Whether HTTP Basic was used (decides the 401 challenge).
        basic: bool,
    },
    /// The assertion did not verify or its claims are wrong.
    #[error("client assertion rejected: {0}")]
    BadAssertion(String),
    /// The assertion's `jti` was seen before.
    #[error("client assertion jti was already used")]
    Replay,
    /// The replay cache is full.
    #[error("too many client assertions in flight")]
    Full,
}

impl From<ClientAuthError> for OAuthError {
    fn from(e: ClientAuthError) -> Self {
        match &e {
            ClientAuthError::Multiple | ClientAuthError::Malformed(_) => {
                OAuthError::invalid_request(e.to_string())
            }
            ClientAuthError::Full => OAuthError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                e.to_string(),
            ),
            ClientAuthError::BadSecret { basic: true } => {
                OAuthError::new(StatusCode::UNAUTHORIZED, "invalid_client", e.to_string())
                    .with_challenge("Basic realm=\"mock-mitid-broker\"")
            }
            _ => OAuthError::new(StatusCode::UNAUTHORIZED, "invalid_client", e.to_string()),
        }
    }
}

/// Decode one `application/x-www-form-urlencoded` component (RFC 6749 §2.3.1 encodes the
/// Basic credentials this way).
fn form_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("v={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

fn basic_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>, ClientAuthError> {
    let Some(v) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let v = v
        .to_str()
        .map_err(|_| ClientAuthError::Malformed("Authorization header is not ASCII".into()))?;
    let Some((scheme, rest)) = v.split_once(' ') else {
        return Err(ClientAuthError::Malformed(
            "Authorization header has no scheme".into(),
        ));
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(ClientAuthError::Malformed(format!(
            "unsupported Authorization scheme {scheme:?}"
        )));
    }
    let raw = STANDARD
        .decode(rest.trim())
        .map_err(|_| ClientAuthError::Malformed("Basic credentials are not base64".into()))?;
    let text = String::from_utf8(raw)
        .map_err(|_| ClientAuthError::Malformed("Basic credentials are not UTF-8".into()))?;
    let (id, secret) = text
        .split_once(':')
        .ok_or_else(|| ClientAuthError::Malformed("Basic credentials lack ':'".into()))?;
    Ok(Some((form_decode(id), form_decode(secret))))
}

/// Constant-time comparison, so the mock does not teach RPs' tests a timing oracle.
fn secrets_equal(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Authenticate the client of a token or PAR request. `audiences` are the values an assertion
/// `aud` may carry (issuer, token endpoint, PAR endpoint).
pub(crate) fn authenticate(
    p: &OidcProvider,
    iss: &Issuer,
    headers: &HeaderMap,
    params: &Params,
    audiences: &[String],
) -> Result<Arc<Client>, ClientAuthError> {
    let basic = basic_credentials(headers)?;
    let post_secret = params.get("client_secret");
    let assertion = params.get("client_assertion");
    let used = usize::from(basic.is_some())
        + usize::from(post_secret.is_some())
        + usize::from(assertion.is_some() || params.contains("client_assertion_type"));
    if used > 1 {
        return Err(ClientAuthError::Multiple);
    }
    let body_id = params.get("client_id");

    let (client, method) = if let Some((id, secret)) = basic {
        if body_id.is_some_and(|b| b != id) {
            return Err(ClientAuthError::Malformed(
                "client_id in the body differs from the Basic credentials".into(),
            ));
        }
        let c = lookup(p, iss, &id)?;
        check_secret(&c, &secret, true)?;
        (c, ClientAuthMethod::ClientSecretBasic)
    } else if let Some(secret) = post_secret {
        let id = body_id.ok_or(ClientAuthError::Malformed(
            "client_secret without client_id".into(),
        ))?;
        let c = lookup(p, iss, id)?;
        check_secret(&c, secret, false)?;
        (c, ClientAuthMethod::ClientSecretPost)
    } else if params.contains("client_assertion_type") || assertion.is_some() {
        if params.get("client_assertion_type") != Some(JWT_BEARER_ASSERTION) {
            return Err(ClientAuthError::Malformed(format!(
                "client_assertion_type must be {JWT_BEARER_ASSERTION}"
            )));
        }
        let jwt = assertion.ok_or(ClientAuthError::Malformed(
            "client_assertion is missing".into(),
        ))?;
        let c = verify_assertion(p, iss, jwt, body_id, audiences)?;
        (c, ClientAuthMethod::PrivateKeyJwt)
    } else {
        let id = body_id.ok_or(ClientAuthError::Missing)?;
        let c = lookup(p, iss, id)?;
        if !c.is_public() {
            return Err(ClientAuthError::Missing);
        }
        (c, ClientAuthMethod::None)
    };
    if let Some(expected) = client.cfg.token_endpoint_auth_method
        && expected != method
    {
        return Err(ClientAuthError::WrongMethod {
            client: client.cfg.client_id.clone(),
            expected: expected.name(),
            used: method.name(),
        });
    }
    Ok(client)
}

fn lookup(p: &OidcProvider, iss: &Issuer, id: &str) -> Result<Arc<Client>, ClientAuthError> {
    // Development clients have no registration to look up; the code grant they redeem was
    // issued to their loopback redirect URI, which the token endpoint checks.
    let c = match p.clients.get(id) {
        Some(c) => c.clone(),
        None if p.config.dev_accept_any_loopback_client => p
            .client(id, Some("http://127.0.0.1/"))
            .ok_or_else(|| ClientAuthError::UnknownClient(id.to_string()))?,
        None => return Err(ClientAuthError::UnknownClient(id.to_string())),
    };
    if !c.registered_at(&iss.cfg.id) {
        return Err(ClientAuthError::UnknownClient(id.to_string()));
    }
    Ok(c)
}

fn check_secret(c: &Client, secret: &str, basic: bool) -> Result<(), ClientAuthError> {
    if c.dev {
        return Ok(());
    }
    match &c.cfg.client_secret {
        Some(s) if secrets_equal(s, secret) => Ok(()),
        _ => Err(ClientAuthError::BadSecret { basic }),
    }
}

fn verify_assertion(
    p: &OidcProvider,
    iss: &Issuer,
    jwt: &str,
    body_id: Option<&str>,
    audiences: &[String],
) -> Result<Arc<Client>, ClientAuthError> {
    let bad = |s: &str| ClientAuthError::BadAssertion(s.to_string());
    let mut parts = jwt.split('.');
    let (Some(h64), Some(p64), Some(s64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad("not a compact JWS with three parts"));
    };
    let decode_json = |s: &str, what: &str| -> Result<Value, ClientAuthError> {
        let raw = URL_SAFE_NO_PAD
            .decode(s)
            .map_err(|_| bad(&format!("{what} is not base64url")))?;
        let v: Value =
            serde_json::from_slice(&raw).map_err(|_| bad(&format!("{what} is not JSON")))?;
        if v.is_object() {
            Ok(v)
        } else {
            Err(bad(&format!("{what} is not a JSON object")))
        }
    };
    let header = decode_json(h64, "header")?;
    let claims = decode_json(p64, "payload")?;
    let sig = URL_SAFE_NO_PAD
        .decode(s64)
        .map_err(|_| bad("signature is not base64url"))?;
    let alg = header.get("alg").and_then(Value::as_str).unwrap_or("");
    if alg != "RS256" && alg != "ES256" {
        return Err(bad(&format!("alg {alg:?} is not allowed (RS256 or ES256)")));
    }
    if header.get("crit").is_some() {
        return Err(bad("crit header parameters are not understood"));
    }
    let str_claim = |n: &str| claims.get(n).and_then(Value::as_str);
    let client_id = str_claim("iss").ok_or_else(|| bad("iss is missing"))?;
    if str_claim("sub") != Some(client_id) {
        return Err(bad("sub must equal iss (the client_id)"));
    }
    if body_id.is_some_and(|b| b != client_id) {
        return Err(bad("client_id parameter differs from the assertion's iss"));
    }
    let client = lookup(p, iss, client_id)?;
    if client.keys.is_empty() {
        return Err(bad("client has no registered JWKS"));
    }
    let kid = header.get("kid").and_then(Value::as_str);
    let input = &jwt[..h64.len() + 1 + p64.len()];
    let verified = client
        .keys
        .iter()
        .filter(|k| k.alg() == alg)
        .filter(|k| kid.is_none() || k.kid.as_deref() == kid)
        .any(|k| k.verify(input.as_bytes(), &sig));
    if !verified {
        return Err(bad("signature does not verify with the client's JWKS"));
    }
    let aud_ok = match claims.get("aud") {
        Some(Value::String(a)) => audiences.contains(a),
        Some(Value::Array(v)) => v
            .iter()
            .filter_map(Value::as_str)
            .any(|a| audiences.iter().any(|x| x == a)),
        _ => false,
    };
    if !aud_ok {
        return Err(bad("aud must be the issuer or the endpoint URL"));
    }
    let now = p.now();
    let exp = claims
        .get("exp")
        .and_then(Value::as_i64)
        .ok_or_else(|| bad("exp is missing or not an integer"))?;
    if exp.saturating_add(SKEW_SECS) < now {
        return Err(bad("assertion has expired"));
    }
    if exp > now.saturating_add(MAX_ASSERTION_LIFETIME_SECS) {
        return Err(bad("exp is too far in the future"));
    }
    if claims
        .get("nbf")
        .and_then(Value::as_i64)
        .is_some_and(|nbf| nbf > now + SKEW_SECS)
    {
        return Err(bad("assertion is not yet valid (nbf)"));
    }
    if claims
        .get("iat")
        .and_then(Value::as_i64)
        .is_some_and(|iat| iat > now + SKEW_SECS)
    {
        return Err(bad("iat is in the future"));
    }
    let jti = str_claim("jti").ok_or_else(|| bad("jti is missing"))?;
    let key = format!("{client_id}\u{0}{jti}");
    let mut flows = p.flows();
    if flows
        .jtis
        .get(&key)
        .is_some_and(|e| e.saturating_add(SKEW_SECS) >= now)
    {
        return Err(ClientAuthError::Replay);
    }
    bounded_insert(
        &mut flows.jtis,
        key,
        exp.saturating_add(SKEW_SECS),
        now,
        p.config.max_entries,
    )
    .map_err(|_| ClientAuthError::Full)?;
    Ok(client)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_header_parsing() {
        let mut h = HeaderMap::new();
        let creds = STANDARD.encode("my%20client:s%3Acret");
        h.insert(
            header::AUTHORIZATION,
            format!("basic {creds}").parse().unwrap(),
        );
        assert_eq!(
            basic_credentials(&h).unwrap(),
            Some(("my client".into(), "s:cret".into()))
        );
        h.insert(header::AUTHORIZATION, "Basic !!!".parse().unwrap());
        assert!(matches!(
            basic_credentials(&h),
            Err(ClientAuthError::Malformed(_))
        ));
        h.insert(header::AUTHORIZATION, "Bearer x".parse().unwrap());
        assert!(basic_credentials(&h).is_err());
    }

    #[test]
    fn jwks_parsing() {
        assert!(parse_client_jwks(&serde_json::json!({})).is_err());
        assert!(parse_client_jwks(&serde_json::json!({"keys": []})).is_err());
        let e = parse_client_jwks(&serde_json::json!({"keys": [{"kty": "oct", "k": "AA"}]}))
            .unwrap_err();
        assert!(e.contains("kty"), "{e}");
        let k = parse_client_jwks(
            &serde_json::json!({"keys": [{"kty": "RSA", "n": "AQAB", "e": "AQAB", "kid": "a"}]}),
        )
        .unwrap();
        assert_eq!(k[0].alg(), "RS256");
        assert!(
            secrets_equal("abc", "abc")
                && !secrets_equal("abc", "abd")
                && !secrets_equal("a", "ab")
        );
    }
}
