//! Verifying the ID token's JWS signature (RFC 7515, OIDC Core §3.1.3.7 steps 6–8).
//!
//! The strict path: the `alg` must be one discovery lists and one the RP implements (RS256,
//! ES256) — never `none`, never an HMAC algorithm with the provider's public key; the key comes
//! from the provider's JWKS only (selected by `kid`, refetching the JWKS once on an unknown
//! `kid`; without `kid`, every JWKS key suiting the algorithm is tried, which OpenID's
//! `oidcc-client-test-kid-absent-multiple-jwks` allows); `jku`, `x5u` and `jwk` headers are
//! ignored; a `crit` header is refused because the RP understands no extension.

use super::flaw::{KeyBytes, RpFlaw};
use super::jwk::{Alg, Jwk, Jwks, rsa_key_from_cert_pem};
use super::provider::{DiscoveryError, Provider, get_json};
use super::{Flaws, KidlessKeys};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

/// Largest ID token the RP parses.
pub const MAX_TOKEN_BYTES: usize = 64 * 1024;

/// Why an ID token's JWS was refused.
#[derive(Debug, thiserror::Error)]
pub enum JwsError {
    /// Not three base64url parts with JSON objects.
    #[error("malformed JWS: {0}")]
    Malformed(&'static str),
    /// The algorithm is not one the provider announced and the RP implements.
    #[error("alg {0:?} is not accepted for ID tokens")]
    AlgNotAllowed(String),
    /// A `crit` header (RFC 7515 §4.1.11: the RP must reject extensions it does not know).
    #[error("crit header {0} names extensions the RP does not understand")]
    UnknownCrit(String),
    /// No `kid` although the (flawed) RP wants one.
    #[error("the token has no kid")]
    KidRequired,
    /// The `kid` is in no JWKS the provider published, even after a refetch.
    #[error("kid {0:?} is not in the provider's JWKS")]
    UnknownKid(String),
    /// The key named by `kid` is not for this algorithm.
    #[error("key {kid:?} cannot verify {alg} signatures")]
    KeyAlgMismatch {
        /// Key id.
        kid: String,
        /// Token algorithm.
        alg: String,
    },
    /// No `kid`, and the JWKS has several keys for the algorithm (an RP that does not try
    /// each, [`KidlessKeys::OnlyKey`]).
    #[error("the token has no kid and the JWKS has {keys} keys for {alg}")]
    AmbiguousKey {
        /// Token algorithm.
        alg: String,
        /// How many keys suit it.
        keys: usize,
    },
    /// No JWKS key suits the algorithm.
    #[error("the provider's JWKS has no key for {0}")]
    NoKey(String),
    /// The signature does not verify.
    #[error("the signature does not verify")]
    BadSignature,
    /// Discovery or JWKS could not be fetched.
    #[error(transparent)]
    Discovery(#[from] DiscoveryError),
    /// A compact JWE (five parts) where a signed ID token is expected: the RP registered no
    /// ID-token encryption, and an encrypted token proves nothing about its sender (anyone can
    /// encrypt to the RP's public key).
    #[error(
        "the ID token is a JWE (five parts); this RP accepts only signed ID tokens (JWS), and decrypting proves nothing about who sent it"
    )]
    Encrypted,
    /// A JWE that a flawed RP tried to open.
    #[error(transparent)]
    Jwe(#[from] super::jwe::JweError),
}

/// A decoded (not yet trusted) compact JWS.
#[derive(Debug, Clone)]
pub struct Jws {
    /// Protected header.
    pub header: Map<String, Value>,
    /// Payload, a JSON object for ID tokens.
    pub payload: Map<String, Value>,
    /// `header.payload` as it was signed.
    pub signing_input: String,
    /// Signature bytes.
    pub signature: Vec<u8>,
}

fn b64_json(part: &str) -> Result<Map<String, Value>, JwsError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| JwsError::Malformed("a part is not base64url"))?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(JwsError::Malformed(
            "header or payload is not a JSON object",
        )),
    }
}

impl Jws {
    /// Split and decode a compact JWS.
    pub fn parse(token: &str) -> Result<Jws, JwsError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(JwsError::Malformed("token too large"));
        }
        let parts: Vec<&str> = token.split('.').collect();
        let [h, p, s] = parts.as_slice() else {
            return Err(JwsError::Malformed("not three dot-separated parts"));
        };
        Ok(Jws {
            header: b64_json(h)?,
            payload: b64_json(p)?,
            signing_input: format!("{h}.{p}"),
            signature: URL_SAFE_NO_PAD
                .decode(s)
                .map_err(|_| JwsError::Malformed("signature is not base64url"))?,
        })
    }

    fn header_str(&self, name: &str) -> Option<&str> {
        self.header.get(name).and_then(Value::as_str)
    }

    fn verified_by(&self, alg: &Alg, key: &Jwk) -> bool {
        key.verify(alg, self.signing_input.as_bytes(), &self.signature)
    }
}

/// Verify an ID token's signature against the provider's keys and return its claims.
/// `client_secret` is the RP's own secret, used only by [`RpFlaw::HmacWithClientSecret`].
pub async fn verify(
    token: &str,
    provider: &Provider,
    flaws: &Flaws,
    kidless: KidlessKeys,
    client_secret: &str,
) -> Result<Map<String, Value>, JwsError> {
    // The token's shape must not choose between verifying and decrypting (RFC 8725 §2.7,
    // §3.9): this RP expects a JWS, so five parts are refused. The flaws model the libraries
    // that let it choose.
    if token.len() <= MAX_TOKEN_BYTES && token.split('.').count() == 5 {
        if flaws.has(RpFlaw::NestedJwtVerifiedOnlyIfSigned) {
            let inner = super::jwe::open_nested(token)?;
            let nested = Jws::parse(&inner)?;
            if nested.header_str("alg") == Some("none") {
                return Ok(nested.payload);
            }
            // Three parts: the recursion ends here.
            return Box::pin(verify(&inner, provider, flaws, kidless, client_secret)).await;
        }
        return if flaws.has(RpFlaw::AcceptUnsignedJwe) || flaws.has(RpFlaw::UnverifiedNestedJws) {
            super::jwe::open_id_token(token, flaws)
        } else {
            Err(JwsError::Encrypted)
        };
    }
    let jws = Jws::parse(token)?;
    if flaws.has(RpFlaw::SkipSignature) {
        return Ok(jws.payload);
    }
    let alg_name = jws
        .header_str("alg")
        .ok_or(JwsError::Malformed("no alg header"))?
        .to_string();
    if let Some(crit) = jws.header.get("crit")
        && !flaws.has(RpFlaw::IgnoreCrit)
    {
        return Err(JwsError::UnknownCrit(crit.to_string()));
    }
    let alg = Alg::parse(&alg_name);
    match alg {
        Alg::Rs256 | Alg::Es256 => {}
        Alg::None if flaws.has(RpFlaw::AcceptAlgNone) => return Ok(jws.payload),
        Alg::Hs256 | Alg::Hs384 | Alg::Hs512 => {
            if alg == Alg::Hs256
                && let Some(form) = flaws.key_confusion()
            {
                return confused_hmac(&jws, provider, form).await;
            }
            if flaws.has(RpFlaw::EmptyHmacKey) {
                return empty_key_hmac(&jws, &alg);
            }
            if flaws.has(RpFlaw::HmacWithClientSecret) {
                return hmac_check(&jws, &alg, client_secret.as_bytes());
            }
            return Err(JwsError::AlgNotAllowed(alg_name));
        }
        _ => return Err(JwsError::AlgNotAllowed(alg_name)),
    }
    let info = provider.info().await?;
    if !info
        .id_token_signing_alg_values_supported
        .iter()
        .any(|a| a == alg.name())
    {
        return Err(JwsError::AlgNotAllowed(alg_name));
    }
    if flaws.has(RpFlaw::TrustHeaderKeys)
        && let Some(key) = header_key(&jws, provider).await
    {
        return if jws.verified_by(&alg, &key) {
            Ok(jws.payload)
        } else {
            Err(JwsError::BadSignature)
        };
    }
    let may_refetch = !flaws.has(RpFlaw::NoJwksRefetch);
    match jws.header_str("kid").map(str::to_string) {
        Some(kid) => {
            let mut jwks = provider.jwks(false).await?;
            if jwks.by_kid(&kid).is_none() && may_refetch {
                jwks = provider.jwks(true).await?;
            }
            match jwks.by_kid(&kid) {
                Some(key) if !key.suits(&alg) => {
                    Err(JwsError::KeyAlgMismatch { kid, alg: alg_name })
                }
                Some(key) => check(jws.verified_by(&alg, key), jws.payload),
                None if flaws.has(RpFlaw::TryAllKeysOnUnknownKid) => {
                    try_all(&jws, &jwks, &alg, &alg_name)
                }
                None => Err(JwsError::UnknownKid(kid)),
            }
        }
        None => {
            if flaws.has(RpFlaw::RequireKid) {
                return Err(JwsError::KidRequired);
            }
            if flaws.has(RpFlaw::VerifyOnlyWithKid) {
                return Ok(jws.payload);
            }
            let mut jwks = provider.jwks(false).await?;
            match kidless {
                KidlessKeys::TryEach => {
                    if jwks.suiting(&alg).next().is_none() && may_refetch {
                        jwks = provider.jwks(true).await?;
                    }
                    try_all(&jws, &jwks, &alg, &alg_name)
                }
                KidlessKeys::OnlyKey => {
                    if jwks.suiting(&alg).count() != 1 && may_refetch {
                        jwks = provider.jwks(true).await?;
                    }
                    let keys: Vec<&Jwk> = jwks.suiting(&alg).collect();
                    match keys.as_slice() {
                        [key] => check(jws.verified_by(&alg, key), jws.payload),
                        [] => Err(JwsError::NoKey(alg_name)),
                        several => Err(JwsError::AmbiguousKey {
                            alg: alg_name,
                            keys: several.len(),
                        }),
                    }
                }
            }
        }
    }
}

fn check(ok: bool, payload: Map<String, Value>) -> Result<Map<String, Value>, JwsError> {
    if ok {
        Ok(payload)
    } else {
        Err(JwsError::BadSignature)
    }
}

fn try_all(
    jws: &Jws,
    jwks: &Jwks,
    alg: &Alg,
    alg_name: &str,
) -> Result<Map<String, Value>, JwsError> {
    let mut any = false;
    for key in jwks.suiting(alg) {
        any = true;
        if jws.verified_by(alg, key) {
            return Ok(jws.payload.clone());
        }
    }
    if any {
        Err(JwsError::BadSignature)
    } else {
        Err(JwsError::NoKey(alg_name.to_string()))
    }
}

/// FLAWED RPs ONLY: HMAC-verify with the RSA JWK (named by `kid`) as the secret.
async fn confused_hmac(
    jws: &Jws,
    provider: &Provider,
    form: KeyBytes,
) -> Result<Map<String, Value>, JwsError> {
    let jwks = provider.jwks(false).await?;
    let key = match jws.header_str("kid") {
        Some(kid) => jwks.by_kid(kid),
        None => jwks.keys.first(),
    }
    .ok_or(JwsError::NoKey("HS256".into()))?;
    let secret = match form {
        // The JWKS response body as fetched, whole: what a library handed "the key set" uses.
        KeyBytes::JwksJson => provider.jwks_body().await?.into_bytes(),
        _ => key
            .rsa_key_bytes(form)
            .ok_or(JwsError::NoKey("HS256".into()))?,
    };
    hmac_check(jws, &Alg::Hs256, &secret)
}

/// FLAWED RPs ONLY: HS256/384/512 accepted, the HMAC key looked up by `kid` in the RP's table
/// of symmetric ID-token keys. The RP registered none (it authenticates with its client secret
/// or a private_key_jwt key, and its ID tokens are RS256), so every lookup misses (no `kid`, an
/// unknown one, the RSA `kid`, `""`), the miss yields the empty string (`keys.get(kid) ||
/// ""`), and the HMAC primitive takes the zero-length key.
fn empty_key_hmac(jws: &Jws, alg: &Alg) -> Result<Map<String, Value>, JwsError> {
    let symmetric_keys: std::collections::HashMap<String, Vec<u8>> = Default::default();
    let kid = jws.header_str("kid").unwrap_or_default();
    let secret = symmetric_keys.get(kid).cloned().unwrap_or_default();
    hmac_check(jws, alg, &secret)
}

/// FLAWED RPs ONLY: the token's MAC checked with `secret` under its HS* `alg`.
fn hmac_check(jws: &Jws, alg: &Alg, secret: &[u8]) -> Result<Map<String, Value>, JwsError> {
    use aws_lc_rs::hmac;
    let algorithm = match alg {
        Alg::Hs384 => hmac::HMAC_SHA384,
        Alg::Hs512 => hmac::HMAC_SHA512,
        _ => hmac::HMAC_SHA256,
    };
    let key = hmac::Key::new(algorithm, secret);
    check(
        hmac::verify(&key, jws.signing_input.as_bytes(), &jws.signature).is_ok(),
        jws.payload.clone(),
    )
}

/// FLAWED RPs ONLY: the key the token's own header points at. Fetches only from loopback, so
/// even the flawed RP never reaches outside the machine.
async fn header_key(jws: &Jws, provider: &Provider) -> Option<Jwk> {
    if let Some(j) = jws.header.get("jwk") {
        return Jwk::from_json(j).ok();
    }
    if let Some(url) = jws.header_str("jku").filter(|u| is_loopback(u)) {
        let v = get_json(provider.http(), url).await.ok()?;
        let set = Jwks::from_json(&v).ok()?;
        let kid = jws.header_str("kid");
        return set
            .keys
            .iter()
            .find(|k| kid.is_none() || k.kid.as_deref() == kid)
            .cloned();
    }
    if let Some(url) = jws.header_str("x5u").filter(|u| is_loopback(u)) {
        let text = provider
            .http()
            .get(url)
            .send()
            .await
            .ok()?
            .text()
            .await
            .ok()?;
        return rsa_key_from_cert_pem(&text);
    }
    None
}

fn is_loopback(u: &str) -> bool {
    url::Url::parse(u).ok().is_some_and(|u| {
        matches!(u.host(), Some(url::Host::Ipv4(a)) if a.is_loopback())
            || matches!(u.host(), Some(url::Host::Domain("localhost")))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_refuses_bad_shapes() {
        assert!(matches!(Jws::parse("a.b"), Err(JwsError::Malformed(_))));
        assert!(matches!(Jws::parse("a.b.c.d"), Err(JwsError::Malformed(_))));
        let h = URL_SAFE_NO_PAD.encode(b"[1]");
        let p = URL_SAFE_NO_PAD.encode(b"{}");
        assert!(matches!(
            Jws::parse(&format!("{h}.{p}.")),
            Err(JwsError::Malformed(_))
        ));
        let h = URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#);
        let j = Jws::parse(&format!("{h}.{p}.")).unwrap();
        assert!(j.signature.is_empty());
        assert!(Jws::parse(&"x".repeat(MAX_TOKEN_BYTES + 1)).is_err());
    }

    #[test]
    fn loopback_only() {
        assert!(is_loopback("http://127.0.0.1:9/jwks"));
        assert!(!is_loopback("https://attacker.example/jwks"));
        assert!(!is_loopback("not a url"));
    }
}
