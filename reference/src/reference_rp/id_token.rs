//! The ID token's standard claims (OIDC Core §3.1.3.7 steps 2–5 and 9–11): issuer, audience
//! and authorized party, time window, nonce, subject.

use super::Flaws;
use super::flaw::RpFlaw;
use serde_json::{Map, Value};

/// Why the ID token's claims were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClaimError {
    /// `iss` missing or not the discovery issuer.
    #[error("iss {found:?} is not the issuer {expected:?}")]
    Issuer {
        /// Discovery issuer.
        expected: String,
        /// Token value.
        found: Option<String>,
    },
    /// `aud` missing or without the client.
    #[error("aud {0} does not contain the client id")]
    Audience(String),
    /// Several audiences without `azp` naming the client, or an `azp` naming someone else.
    #[error("aud has several audiences but azp is {0:?}, not the client id")]
    AuthorizedParty(Option<String>),
    /// A required claim is missing or has the wrong type.
    #[error("claim {0:?} is missing or not of the right type")]
    Missing(&'static str),
    /// `exp` has passed.
    #[error("the token expired at {exp} (now {now})")]
    Expired {
        /// exp.
        exp: i64,
        /// now.
        now: i64,
    },
    /// `nbf` is in the future.
    #[error("the token is not valid before {nbf} (now {now})")]
    NotYetValid {
        /// nbf.
        nbf: i64,
        /// now.
        now: i64,
    },
    /// `iat` is in the future.
    #[error("the token was issued in the future ({iat}, now {now})")]
    IssuedInFuture {
        /// iat.
        iat: i64,
        /// now.
        now: i64,
    },
    /// `nonce` missing or not the one sent.
    #[error("nonce {0:?} is not the nonce of this login")]
    Nonce(Option<String>),
}

/// What the claims are checked against.
#[derive(Debug, Clone)]
pub struct Expected<'a> {
    /// Discovery issuer.
    pub issuer: &'a str,
    /// The RP's client id.
    pub client_id: &'a str,
    /// The nonce sent in the authorization request.
    pub nonce: &'a str,
    /// Now, Unix seconds.
    pub now: i64,
    /// Allowed clock skew, seconds.
    pub skew: i64,
}

fn int(c: &Map<String, Value>, name: &'static str) -> Result<Option<i64>, ClaimError> {
    match c.get(name) {
        None => Ok(None),
        Some(v) => v.as_i64().map(Some).ok_or(ClaimError::Missing(name)),
    }
}

/// Check the standard claims. Returns the `sub` (absent only under [`RpFlaw::NoRequiredClaims`]).
pub fn check(
    c: &Map<String, Value>,
    want: &Expected<'_>,
    flaws: &Flaws,
) -> Result<Option<String>, ClaimError> {
    let iss = c.get("iss").and_then(Value::as_str);
    if !flaws.has(RpFlaw::SkipIss) && iss != Some(want.issuer) {
        return Err(ClaimError::Issuer {
            expected: want.issuer.to_string(),
            found: iss.map(str::to_string),
        });
    }
    if !flaws.has(RpFlaw::SkipAud) {
        let auds: Vec<&str> = match c.get("aud") {
            Some(Value::String(s)) => vec![s.as_str()],
            Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        if !auds.contains(&want.client_id) {
            let shown = c
                .get("aud")
                .map(Value::to_string)
                .unwrap_or("(none)".into());
            return Err(ClaimError::Audience(shown));
        }
        let azp = c.get("azp").and_then(Value::as_str);
        let azp_needed = auds.len() > 1 && !flaws.has(RpFlaw::SkipAzp);
        if (azp_needed || azp.is_some()) && azp != Some(want.client_id) {
            return Err(ClaimError::AuthorizedParty(azp.map(str::to_string)));
        }
    }
    let lenient = flaws.has(RpFlaw::NoRequiredClaims);
    let exp = int(c, "exp")?;
    let iat = int(c, "iat")?;
    let nbf = int(c, "nbf")?;
    if !flaws.has(RpFlaw::SkipTimeChecks) {
        let exp = exp.ok_or(ClaimError::Missing("exp"))?;
        let now = want.now;
        if now > exp.saturating_add(want.skew) {
            return Err(ClaimError::Expired { exp, now });
        }
        if let Some(nbf) = nbf
            && nbf > now.saturating_add(want.skew)
        {
            return Err(ClaimError::NotYetValid { nbf, now });
        }
        if let Some(iat) = iat
            && iat > now.saturating_add(want.skew)
        {
            return Err(ClaimError::IssuedInFuture { iat, now });
        }
    }
    if iat.is_none() && !lenient {
        return Err(ClaimError::Missing("iat"));
    }
    // An RP that sent no nonce (empty `want.nonce`) has nothing to compare (Core 3.1.3.7
    // step 11 applies only when one was sent).
    if !flaws.has(RpFlaw::SkipNonce) && !want.nonce.is_empty() {
        let nonce = c.get("nonce").and_then(Value::as_str);
        if nonce != Some(want.nonce) {
            return Err(ClaimError::Nonce(nonce.map(str::to_string)));
        }
    }
    let sub = c
        .get("sub")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    if sub.is_none() && !lenient {
        return Err(ClaimError::Missing("sub"));
    }
    Ok(sub)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    fn want() -> Expected<'static> {
        Expected {
            issuer: "http://127.0.0.1:1/op",
            client_id: "rp",
            nonce: "n1",
            now: 1000,
            skew: 60,
        }
    }

    fn good() -> Value {
        json!({"iss": "http://127.0.0.1:1/op", "aud": ["rp"], "exp": 1300, "iat": 1000,
               "nonce": "n1", "sub": "s"})
    }

    #[test]
    fn strict_checks() {
        let strict = Flaws::default();
        assert_eq!(
            check(&claims(good()), &want(), &strict).unwrap().as_deref(),
            Some("s")
        );
        let mut c = claims(good());
        c.insert("aud".into(), json!(["rp", "other"]));
        assert!(matches!(
            check(&c, &want(), &strict),
            Err(ClaimError::AuthorizedParty(None))
        ));
        c.insert("azp".into(), json!("rp"));
        assert!(check(&c, &want(), &strict).is_ok());
        let mut c = claims(good());
        c.insert("exp".into(), json!(950));
        assert!(check(&c, &want(), &strict).is_ok(), "within skew");
        c.insert("exp".into(), json!(939));
        assert!(matches!(
            check(&c, &want(), &strict),
            Err(ClaimError::Expired { .. })
        ));
        let mut c = claims(good());
        c.insert("exp".into(), json!("1300"));
        assert_eq!(check(&c, &want(), &strict), Err(ClaimError::Missing("exp")));
        let mut c = claims(good());
        c.remove("sub");
        assert_eq!(check(&c, &want(), &strict), Err(ClaimError::Missing("sub")));
        let lenient = Flaws::from_iter([RpFlaw::NoRequiredClaims]);
        assert_eq!(check(&c, &want(), &lenient), Ok(None));
    }
}
