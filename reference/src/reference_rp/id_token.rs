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

/// A time claim as a number of seconds: absent is `None`, any other JSON type is refused —
/// except under [`RpFlaw::MalformedTimeClaimAsAbsent`] (any non-number reads as absent) and,
/// for `exp`, [`RpFlaw::ExpOnlyWhenPresent`] (`null` reads as absent, as PHP's `isset` does).
fn time_claim(
    c: &Map<String, Value>,
    name: &'static str,
    flaws: &Flaws,
) -> Result<Option<i64>, ClaimError> {
    match c.get(name) {
        None => Ok(None),
        Some(v) => match v.as_i64() {
            Some(n) => Ok(Some(n)),
            None if flaws.has(RpFlaw::MalformedTimeClaimAsAbsent) => Ok(None),
            None if name == "exp" && v.is_null() && flaws.has(RpFlaw::ExpOnlyWhenPresent) => {
                Ok(None)
            }
            None => Err(ClaimError::Missing(name)),
        },
    }
}

/// OIDC Core §3.1.3.7 step 2: `iss` equals the discovery issuer exactly. The flaws model the
/// comparisons libraries got wrong.
fn issuer_ok(iss: Option<&Value>, expected: &str, flaws: &Flaws) -> bool {
    let s = iss.and_then(Value::as_str);
    if s == Some(expected) {
        return true;
    }
    // PyJWT 2.10.0: `payload["iss"] not in issuer` with a str issuer is a substring test.
    if flaws.has(RpFlaw::IssSubstringMatch) && s.is_some_and(|i| expected.contains(i)) {
        return true;
    }
    if flaws.has(RpFlaw::IssStartsWith) && s.is_some_and(|i| i.starts_with(expected)) {
        return true;
    }
    // fast-jwt < 5.0.6: an array claim passes when one element matches.
    if flaws.has(RpFlaw::IssArrayMembership)
        && let Some(Value::Array(a)) = iss
    {
        return a.iter().any(|v| v.as_str() == Some(expected));
    }
    false
}

/// The audiences `aud` names, as the RP reads them.
fn audiences<'c>(aud: Option<&'c Value>, flaws: &Flaws) -> Vec<&'c str> {
    match aud {
        Some(Value::String(s)) => vec![s.as_str()],
        // jwt-go 3.2.0: `aud, _ := m["aud"].(string)`: an array reads as "".
        Some(Value::Array(_)) if flaws.has(RpFlaw::AudArrayIgnored) => vec![""],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ if flaws.has(RpFlaw::AudArrayIgnored) => vec![""],
        _ => vec![],
    }
}

/// Check the standard claims. Returns the `sub` (absent only under [`RpFlaw::NoRequiredClaims`]).
pub fn check(
    c: &Map<String, Value>,
    want: &Expected<'_>,
    flaws: &Flaws,
) -> Result<Option<String>, ClaimError> {
    let iss = c.get("iss");
    if !flaws.has(RpFlaw::SkipIss) && !issuer_ok(iss, want.issuer, flaws) {
        return Err(ClaimError::Issuer {
            expected: want.issuer.to_string(),
            found: iss.map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string)),
        });
    }
    if !flaws.has(RpFlaw::SkipAud) {
        let auds = audiences(c.get("aud"), flaws);
        // jwt-go 3.2.0 and golang-jwt 3.2.1 alike: an empty audience passes when the
        // audience is not required (`return !required`).
        let empty_passes = (flaws.has(RpFlaw::AudArrayIgnored)
            || flaws.has(RpFlaw::AudEmptyPasses))
            && auds.concat().is_empty();
        if !empty_passes && !auds.contains(&want.client_id) {
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
    let exp = time_claim(c, "exp", flaws)?;
    let iat = time_claim(c, "iat", flaws)?;
    let nbf = time_claim(c, "nbf", flaws)?;
    if !flaws.has(RpFlaw::SkipTimeChecks) {
        let now = want.now;
        match exp {
            Some(exp) if now > exp.saturating_add(want.skew) => {
                return Err(ClaimError::Expired { exp, now });
            }
            Some(_) => {}
            None if flaws.has(RpFlaw::ExpOnlyWhenPresent) => {}
            None => return Err(ClaimError::Missing("exp")),
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

    fn with(claim: &str, v: Value) -> Map<String, Value> {
        let mut c = claims(good());
        c.insert(claim.into(), v);
        c
    }

    fn passes(c: &Map<String, Value>, flaws: &[RpFlaw]) -> bool {
        check(c, &want(), &Flaws::from_iter(flaws.iter().copied())).is_ok()
    }

    #[test]
    fn issuer_comparison_flaws() {
        use RpFlaw::*;
        let cases: [(Value, &[RpFlaw]); 7] = [
            (json!("http://127.0.0.1:1"), &[IssSubstringMatch]),
            (json!("127.0.0.1"), &[IssSubstringMatch]),
            (json!(""), &[IssSubstringMatch]),
            (json!("http://127.0.0.1:1/op/evil"), &[IssStartsWith]),
            (json!("http://127.0.0.1:1/op/"), &[IssStartsWith]),
            (
                json!(["https://attacker.example", "http://127.0.0.1:1/op"]),
                &[IssArrayMembership],
            ),
            (json!(["http://127.0.0.1:1/op"]), &[IssArrayMembership]),
        ];
        for (v, accepted_by) in cases {
            let c = with("iss", v.clone());
            assert!(!passes(&c, &[]), "strict accepts {v}");
            for f in [IssSubstringMatch, IssStartsWith, IssArrayMembership] {
                assert_eq!(passes(&c, &[f]), accepted_by.contains(&f), "{f} on {v}");
            }
        }
        assert!(!passes(
            &with("iss", json!("https://other.example")),
            &[IssSubstringMatch, IssStartsWith, IssArrayMembership]
        ));
    }

    #[test]
    fn audience_type_flaws() {
        use RpFlaw::*;
        let cases: [(Option<Value>, &[RpFlaw]); 6] = [
            (Some(json!(["other"])), &[AudArrayIgnored]),
            (Some(json!([])), &[AudArrayIgnored, AudEmptyPasses]),
            (Some(json!("")), &[AudArrayIgnored, AudEmptyPasses]),
            (None, &[AudArrayIgnored, AudEmptyPasses]),
            (Some(json!("other")), &[]),
            (Some(json!(["rp-evil"])), &[AudArrayIgnored]),
        ];
        for (v, accepted_by) in cases {
            let mut c = claims(good());
            match &v {
                Some(v) => c.insert("aud".into(), v.clone()),
                None => c.remove("aud"),
            };
            assert!(!passes(&c, &[]), "strict accepts {v:?}");
            for f in [AudArrayIgnored, AudEmptyPasses] {
                assert_eq!(passes(&c, &[f]), accepted_by.contains(&f), "{f} on {v:?}");
            }
        }
        // The well-formed array audience still passes both.
        assert!(passes(&claims(good()), &[AudArrayIgnored]));
        assert!(passes(&claims(good()), &[AudEmptyPasses]));
    }

    #[test]
    fn time_claim_type_flaws() {
        use RpFlaw::*;
        let malformed = MalformedTimeClaimAsAbsent;
        let optional = ExpOnlyWhenPresent;
        let mut no_exp = claims(good());
        no_exp.remove("exp");
        // Claims, and the flaw sets under which the RP accepts them.
        type Case<'a> = (Map<String, Value>, &'a [&'a [RpFlaw]]);
        let cases: [Case<'_>; 5] = [
            (
                with("nbf", json!("4102444800")),
                &[&[malformed], &[malformed, optional]],
            ),
            (with("exp", json!("1000000000")), &[&[malformed, optional]]),
            (
                with("exp", json!("2000-01-01T00:00:00Z")),
                &[&[malformed, optional]],
            ),
            (
                with("exp", Value::Null),
                &[&[optional], &[malformed, optional]],
            ),
            (no_exp, &[&[optional], &[malformed, optional]]),
        ];
        for (c, accepted_by) in cases {
            assert!(!passes(&c, &[]), "strict accepts {c:?}");
            for fs in [&[malformed][..], &[optional], &[malformed, optional]] {
                assert_eq!(passes(&c, fs), accepted_by.contains(&fs), "{fs:?} on {c:?}");
            }
        }
        // A numeric expired exp is still refused under both.
        assert!(!passes(&with("exp", json!(10)), &[malformed, optional]));
    }
}
