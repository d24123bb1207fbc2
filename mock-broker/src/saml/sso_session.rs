//! The broker's single sign-on session: one per browser, held in a broker cookie, so that a
//! second AuthnRequest from the same browser is answered without a new authentication, as an
//! IdP with SSO does.
//!
//! What the sources say, and what they do not:
//! - SAML core 3.4.1: `IsPassive="true"` forbids the IdP to interact with the user, so without
//!   a usable session the answer is the `NoPassive` status; `ForceAuthn="true"` obliges it to
//!   "authenticate the presenter directly rather than rely on a previous security context";
//!   with both, it "MUST NOT freshly authenticate the presenter unless the constraints of
//!   IsPassive can be met" (a MitID login always interacts, so: `NoPassive`).
//! - SAML core 2.7.2: `AuthnInstant` is "the time at which the authentication took place", so
//!   an answer from the session carries the session's instant, not the time of the answer,
//!   and a forced authentication carries a new one.
//! - OIOSAML.Java sends `IsPassive` and `ForceAuthn` when configured
//!   (`oiosaml.filter.ispassive.enabled`, `oiosaml.filter.forceauthn.enabled`;
//!   `AuthenticatedFilter`, `AuthnRequestService`).
//! - **Unconfirmed** (no public source found), and configurable in [`SsoSessionPolicy`]: the
//!   length of a NemLog-in SSO session (default [`DEFAULT_LIFETIME_MINUTES`]), whether an
//!   assertion answered from the session carries a fresh `SessionIndex` or the session's
//!   ([`SessionIndexPolicy`], default a fresh one per assertion), and the cookie's name
//!   ([`COOKIE`]).
//!
//! A session answers a request only when it is good enough for it: its LoA at least the
//! requested minimum and its identity of the requested kind (Person or Professional).
//! Otherwise a passive request gets `NoPassive` and an interactive one a fresh login (a
//! step-up), which replaces the session.

use crate::identity::IdentityKind;
use crate::nsis::Loa;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// The broker's SSO cookie (NemLog-in's own cookie name is not public; **unconfirmed**).
pub const COOKIE: &str = "mock_nemlogin_sso";
/// SSO sessions kept at once; when full the one closest to expiry is dropped
/// (the ground rule: every table is bounded).
pub const SSO_SESSIONS_MAX: usize = 10_000;
/// SessionIndexes remembered per SSO session (to end it when the SP logs one of them out);
/// older ones are forgotten first.
pub const MAX_SESSION_INDEXES: usize = 64;
/// Default SSO session length in minutes (**unconfirmed** for NemLog-in).
pub const DEFAULT_LIFETIME_MINUTES: u32 = 30;
/// Longest SSO session accepted in the configuration (a day).
pub const MAX_LIFETIME_MINUTES: u32 = 24 * 60;
/// Longest cookie value read; the broker's own are 32 characters.
const MAX_COOKIE_VALUE_LEN: usize = 128;

/// Which `SessionIndex` an assertion answered from the SSO session carries (**unconfirmed**
/// for NemLog-in; SAML core 2.7.2 only says it indexes "a particular session between the
/// principal ... and the authenticating authority").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SessionIndexPolicy {
    /// A fresh SessionIndex for every assertion (the default, and what the broker did before
    /// it had SSO sessions).
    #[default]
    PerLogin,
    /// The SessionIndex of the authentication that started the session, for every assertion
    /// answered from it (to any SP).
    PerSession,
}

/// `[sso_session]`: the broker's SSO session settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SsoSessionPolicy {
    /// Keep SSO sessions at all (`false`: every login authenticates afresh and IsPassive is
    /// always answered with NoPassive, the broker's behaviour before sessions existed).
    pub enabled: bool,
    /// Minutes an SSO session lives after its authentication (1 to [`MAX_LIFETIME_MINUTES`]).
    pub lifetime_minutes: u32,
    /// Which SessionIndex an answer from the session carries.
    pub session_index: SessionIndexPolicy,
}

impl Default for SsoSessionPolicy {
    fn default() -> Self {
        Self {
            enabled: true,
            lifetime_minutes: DEFAULT_LIFETIME_MINUTES,
            session_index: SessionIndexPolicy::default(),
        }
    }
}

/// A lifetime outside 1 to [`MAX_LIFETIME_MINUTES`] minutes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("sso_session.lifetime_minutes = {0}: must be between 1 and {MAX_LIFETIME_MINUTES} (a day)")]
pub struct BadLifetime(pub u32);

impl SsoSessionPolicy {
    /// The session length, checked.
    pub fn lifetime(&self) -> Result<time::Duration, BadLifetime> {
        match self.lifetime_minutes {
            0 => Err(BadLifetime(0)),
            m if m > MAX_LIFETIME_MINUTES => Err(BadLifetime(m)),
            m => Ok(time::Duration::minutes(i64::from(m))),
        }
    }
}

/// One browser's SSO session.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SsoSession {
    /// The identity that authenticated.
    pub identity: String,
    /// Its kind (Person or Professional).
    pub kind: IdentityKind,
    /// The level it authenticated at.
    pub loa: Loa,
    /// When it authenticated.
    pub authn_instant: OffsetDateTime,
    /// The SessionIndex of that authentication's assertion.
    pub session_index: String,
    /// Every SessionIndex issued from this session (the newest [`MAX_SESSION_INDEXES`]), so
    /// that a logout of any of them ends it.
    pub session_indexes: Vec<String>,
}

impl SsoSession {
    /// Remember another SessionIndex issued from this session.
    pub(crate) fn add_session_index(&mut self, si: &str) {
        if self.session_indexes.iter().any(|s| s == si) {
            return;
        }
        if self.session_indexes.len() >= MAX_SESSION_INDEXES {
            self.session_indexes.remove(0);
        }
        self.session_indexes.push(si.to_string());
    }
}

/// Why a passive request is answered with `NoPassive`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum NoPassiveWhy {
    /// The browser has no live SSO session.
    #[error("IsPassive requested and this browser has no SSO session at the broker")]
    NoSession,
    /// The session's LoA is below the requested minimum, or its identity of another kind.
    #[error(
        "IsPassive requested and this browser's SSO session does not satisfy the request (its LoA is lower than requested, or it is of another profile)"
    )]
    SessionInsufficient,
    /// ForceAuthn and IsPassive together: a MitID authentication always interacts.
    #[error(
        "ForceAuthn and IsPassive requested together: a fresh MitID authentication cannot be passive (SAML core 3.4.1)"
    )]
    ForceAuthnAndPassive,
}

/// What the SSO endpoint does with a request, given the browser's session.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Decision {
    /// Answer from the session, without authenticating.
    FromSession(SsoSession),
    /// Authenticate (armed, preselected or on the login page); the result replaces the
    /// session.
    Authenticate,
    /// A passive request that cannot be answered: `NoPassive`.
    NoPassive(NoPassiveWhy),
}

/// What a request asks of the authentication, as far as a session can satisfy it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Asked {
    /// `ForceAuthn`.
    pub force_authn: bool,
    /// `IsPassive`.
    pub is_passive: bool,
    /// The requested minimum LoA.
    pub min_loa: Option<Loa>,
    /// The requested kind of identity.
    pub kind: Option<IdentityKind>,
}

/// Decide how to answer a request (SAML core 3.4.1), given the browser's live session.
pub(crate) fn decide(session: Option<SsoSession>, asked: Asked) -> Decision {
    let had_session = session.is_some();
    let usable = session.filter(|s| {
        asked.min_loa.is_none_or(|l| s.loa >= l) && asked.kind.is_none_or(|k| k == s.kind)
    });
    match (asked.is_passive, asked.force_authn, usable) {
        (true, true, _) => Decision::NoPassive(NoPassiveWhy::ForceAuthnAndPassive),
        (true, false, Some(s)) | (false, false, Some(s)) => Decision::FromSession(s),
        (true, false, None) if had_session => {
            Decision::NoPassive(NoPassiveWhy::SessionInsufficient)
        }
        (true, false, None) => Decision::NoPassive(NoPassiveWhy::NoSession),
        (false, true, _) | (false, false, None) => Decision::Authenticate,
    }
}

/// The broker's SSO cookie in a `Cookie` request header, if present and plausible (an
/// unknown or expired value simply finds no session).
pub(crate) fn cookie_value(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|h| h.to_str().ok())
        .flat_map(|h| h.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= MAX_COOKIE_VALUE_LEN
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// The `Set-Cookie` value that gives the browser its session: HttpOnly, `SameSite=Lax` (the
/// SP redirects the browser to the SSO URL with a top-level GET, which Lax cookies
/// accompany), `Secure` when the broker is served over HTTPS.
pub(crate) fn set_cookie(value: &str, lifetime: time::Duration, secure: bool) -> String {
    format!(
        "{COOKIE}={value}; Path=/; Max-Age={}; HttpOnly; SameSite=Lax{}",
        lifetime.whole_seconds(),
        if secure { "; Secure" } else { "" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderMap, HeaderValue};

    fn session(loa: Loa, kind: IdentityKind) -> SsoSession {
        SsoSession {
            identity: "anna".into(),
            kind,
            loa,
            authn_instant: time::macros::datetime!(2026-01-01 12:00 UTC),
            session_index: "_s1".into(),
            session_indexes: vec!["_s1".into()],
        }
    }

    fn asked(force_authn: bool, is_passive: bool) -> Asked {
        Asked {
            force_authn,
            is_passive,
            ..Asked::default()
        }
    }

    #[test]
    fn passive_needs_a_session_and_force_authn_always_authenticates() {
        let s = || Some(session(Loa::Substantial, IdentityKind::Person));
        assert_eq!(
            decide(None, asked(false, true)),
            Decision::NoPassive(NoPassiveWhy::NoSession)
        );
        assert!(matches!(
            decide(s(), asked(false, true)),
            Decision::FromSession(x) if x.identity == "anna"
        ));
        assert!(matches!(
            decide(s(), asked(false, false)),
            Decision::FromSession(_)
        ));
        assert_eq!(decide(None, asked(false, false)), Decision::Authenticate);
        assert_eq!(decide(s(), asked(true, false)), Decision::Authenticate);
        assert_eq!(decide(None, asked(true, false)), Decision::Authenticate);
        for sess in [s(), None] {
            assert_eq!(
                decide(sess, asked(true, true)),
                Decision::NoPassive(NoPassiveWhy::ForceAuthnAndPassive)
            );
        }
    }

    #[test]
    fn a_session_too_weak_or_of_another_kind_is_not_used() {
        let s = || Some(session(Loa::Substantial, IdentityKind::Person));
        let high = Asked {
            min_loa: Some(Loa::High),
            ..asked(false, false)
        };
        assert_eq!(decide(s(), high), Decision::Authenticate);
        assert_eq!(
            decide(
                s(),
                Asked {
                    is_passive: true,
                    ..high
                }
            ),
            Decision::NoPassive(NoPassiveWhy::SessionInsufficient)
        );
        let low = Asked {
            min_loa: Some(Loa::Low),
            ..asked(false, true)
        };
        assert!(matches!(decide(s(), low), Decision::FromSession(_)));
        let professional = Asked {
            kind: Some(IdentityKind::Professional),
            ..asked(false, false)
        };
        assert_eq!(decide(s(), professional), Decision::Authenticate);
        let person = Asked {
            kind: Some(IdentityKind::Person),
            ..asked(false, true)
        };
        assert!(matches!(decide(s(), person), Decision::FromSession(_)));
    }

    #[test]
    fn the_cookie_is_read_from_any_cookie_header_and_junk_is_ignored() {
        let mut h = HeaderMap::new();
        assert_eq!(cookie_value(&h), None);
        h.append(
            axum::http::header::COOKIE,
            HeaderValue::from_static("session=abc"),
        );
        h.append(
            axum::http::header::COOKIE,
            HeaderValue::from_static("x=1; mock_nemlogin_sso=_sso-0001 ; y=2"),
        );
        assert_eq!(cookie_value(&h).as_deref(), Some("_sso-0001"));
        for junk in [
            "mock_nemlogin_sso=",
            "mock_nemlogin_sso=a b",
            "mock_nemlogin_sso=<script>",
        ] {
            let mut h = HeaderMap::new();
            h.insert(
                axum::http::header::COOKIE,
                HeaderValue::from_str(junk).expect("header"),
            );
            assert_eq!(cookie_value(&h), None, "{junk}");
        }
        let long = format!("mock_nemlogin_sso={}", "a".repeat(MAX_COOKIE_VALUE_LEN + 1));
        let mut h = HeaderMap::new();
        h.insert(
            axum::http::header::COOKIE,
            HeaderValue::from_str(&long).expect("header"),
        );
        assert_eq!(cookie_value(&h), None);
    }

    #[test]
    fn cookies_are_http_only_lax_and_secure_over_https() {
        let c = set_cookie("_sso-1", time::Duration::minutes(30), false);
        assert_eq!(
            c,
            "mock_nemlogin_sso=_sso-1; Path=/; Max-Age=1800; HttpOnly; SameSite=Lax"
        );
        assert!(set_cookie("v", time::Duration::minutes(1), true).ends_with("; Secure"));
    }

    #[test]
    fn lifetimes_are_bounded_and_session_indexes_capped() {
        assert_eq!(
            SsoSessionPolicy::default().lifetime(),
            Ok(time::Duration::minutes(30))
        );
        let p = |m| SsoSessionPolicy {
            lifetime_minutes: m,
            ..SsoSessionPolicy::default()
        };
        assert_eq!(p(0).lifetime(), Err(BadLifetime(0)));
        assert_eq!(p(1441).lifetime(), Err(BadLifetime(1441)));
        assert_eq!(p(1440).lifetime().map(|d| d.whole_hours()), Ok(24));
        let mut s = session(Loa::High, IdentityKind::Person);
        for i in 0..(MAX_SESSION_INDEXES + 10) {
            s.add_session_index(&format!("_s{i}"));
        }
        s.add_session_index("_s70");
        assert_eq!(s.session_indexes.len(), MAX_SESSION_INDEXES);
        assert_eq!(s.session_indexes.last().map(String::as_str), Some("_s73"));
    }
}
