//! The `forged-headers` step: the browser itself sends the identity headers an authentication
//! module in front of the application would set (`REMOTE_USER`, `OIDC_CLAIM_sub`,
//! `MELLON_NAME_ID`, `Shib-Identity-Provider`, ...), naming a victim, and the SP's session
//! must not become the victim's.
//!
//! Apache modules pass the identity they established to the application in request headers
//! or environment variables, and applications read them as "who is logged in" (the documented
//! integration pattern). The module must therefore remove every such header the *client*
//! sent, on every path it lets through, before it sets its own:
//!
//! - mod_auth_openidc did not on `OIDCUnAuthAction pass` paths before 2.1.5 (CVE-2017-6059,
//!   issue #222) nor for `AuthType oauth20` before 2.1.6 (CVE-2017-6413, commit 21e3728a);
//!   and until 2026 (commit c450a33a, first in 2.4.20.1) not on the paths it lets through
//!   without authenticating: the CORS preflight (`OPTIONS`) shortcuts and the redirect-URI
//!   and JWKS handler dispatches.
//! - A scrubber that compares header names exactly misses the other spelling: CGI, WSGI and
//!   PHP map `-` and `_` to the same variable, so `REMOTE-USER` arrives as `REMOTE_USER`
//!   (Django CVE-2015-0219 and CVE-2026-3902, theforeman/puppet-foreman#1181). mod_auth_openidc
//!   itself compares CGI-equivalently (`oidc_util_strnenvcmp`).
//!
//! So the step sends every header twice over: spelled as the modules document them, then
//! with `-` and `_` swapped; to the protected pages, on an `OPTIONS` preflight, and to the ACS
//! or redirect URI (per `target`); and after each request asks the oracle. Only HTTP requests
//! with headers: it runs against any SP, the reference SP/RP or a real Apache stack alike.
//! Judged from the SP's own session, as every step is: the session before the step (none, or
//! the identity a previous login of this scenario established) must be what the SP shows
//! after every request, in the answer to a forged whoami request itself and in a plain one.

use super::{Harness, Inconclusive, StepObservation, unreachable_sp};
use crate::agent::{Agent, Page};
use crate::grade::Grade;
use crate::oracle::{Evidence, Observation, OidcSubject, expected_key_in, same_identity};
use crate::report::{StepResult, Verdict};
use crate::scenario::{ForgedHeaders, HeaderTarget, Protocol};
use mitid_mock_broker::TestIdentity;
use mitid_mock_broker::saml::{authn_request, redirect};

/// What a header's value is, for the victim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Value {
    /// The key the SP reports users by (`user_key` in sp.toml), as it would report the victim.
    Key,
    /// The victim's OIDC `sub` for this RP (its MitID UUID when the flow is not known).
    Sub,
    /// The victim's MitID UUID.
    Uuid,
    /// The victim's CPR number (not sent for an identity without one).
    Cpr,
    /// The victim's e-mail address (not sent for an identity without one).
    Email,
    /// The victim's OIOSAML NameID.
    NameId,
    /// An access token (opaque; an app that trusts the header trusts any value).
    AccessToken,
    /// The IdP's entity ID, as Shibboleth reports the IdP of a session.
    Idp,
}

/// The identity headers, spelled as the modules and applications document them: the
/// mod_auth_openidc claim, token and `OIDCAuthNHeader`-style user headers, mod_auth_mellon's
/// `MELLON_*` (with `MellonSetEnv` names for the MitID UUID and CPR), Shibboleth's session and
/// attribute headers, and both OIDC brokers' UUID/CPR claims as mod_auth_openidc names them.
const HEADERS: &[(&str, Value)] = &[
    ("REMOTE_USER", Value::Key),
    ("X-Remote-User", Value::Key),
    ("OIDC_CLAIM_sub", Value::Sub),
    ("OIDC_CLAIM_email", Value::Email),
    ("OIDC_access_token", Value::AccessToken),
    ("OIDC_CLAIM_mitid.uuid", Value::Uuid),
    ("OIDC_CLAIM_dk.cpr", Value::Cpr),
    ("OIDC_CLAIM_uuid", Value::Uuid),
    ("OIDC_CLAIM_cprNumberIdentifier", Value::Cpr),
    ("MELLON_NAME_ID", Value::NameId),
    ("MELLON_uuid", Value::Uuid),
    ("MELLON_cpr", Value::Cpr),
    ("Shib-Identity-Provider", Value::Idp),
    ("eppn", Value::Key),
];

/// How the header names are spelled in one round of requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Spelling {
    /// As documented (`OIDC_CLAIM_sub`, `X-Remote-User`).
    Documented,
    /// `-` and `_` swapped (`OIDC-CLAIM-sub`, `X_Remote_User`): the same CGI variable.
    Swapped,
}

impl Spelling {
    fn name(self, documented: &str) -> String {
        match self {
            Spelling::Documented => documented.to_string(),
            Spelling::Swapped => documented
                .chars()
                .map(|c| match c {
                    '_' => '-',
                    '-' => '_',
                    c => c,
                })
                .collect(),
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Spelling::Documented => {
                "spelled as the modules document them (REMOTE_USER, OIDC_CLAIM_sub, MELLON_NAME_ID, ...)"
            }
            Spelling::Swapped => {
                "spelled with '-' and '_' swapped (REMOTE-USER, OIDC-CLAIM-sub, MELLON-NAME-ID, X_Remote_User, ...), which CGI, WSGI and PHP map to the same variables: the scrubbing compares header names exactly and misses them"
            }
        }
    }
}

/// The first request after which the SP showed a session other than the one it had.
#[derive(Debug, Clone)]
pub(super) struct Breach {
    /// The identity it showed (`None`: a session, identity not named by the oracle).
    identity: Option<String>,
    /// The request, as `METHOD /path`.
    request: String,
    /// Where it showed: in the answer to the forged request, or in a plain request after it.
    in_answer: bool,
    spelling: Spelling,
}

/// What a forged-headers step saw.
#[derive(Debug, Clone)]
pub(super) struct ForgedSeen {
    /// The session before the first forged request.
    baseline: Observation,
    /// The victim, as the SP would report it.
    victim_key: String,
    /// The requests sent (each once per spelling, until a breach).
    requests: Vec<String>,
    breach: Option<Breach>,
}

/// A session other than `baseline` in `now`: `Some(identity shown)`. No session is not a
/// breach (ending a session is not this step's business), nor is an unnamed session where the
/// baseline had one (the oracle cannot tell the two apart).
fn breach(baseline: &Observation, now: &Observation) -> Option<Option<String>> {
    match (baseline, now) {
        (Observation::None { .. }, Observation::Session { identity, .. }) => Some(identity.clone()),
        (
            Observation::Session {
                identity: Some(before),
                ..
            },
            Observation::Session {
                identity: Some(after),
                ..
            },
        ) if !same_identity(after, before) => Some(Some(after.clone())),
        _ => None,
    }
}

impl Harness {
    /// Send the victim's identity headers to `step.target`, both spellings, and watch the SP's
    /// session. `victim` is the identity handle; `previous_subject` the last OIDC login's.
    pub(super) async fn forged_headers_step(
        &self,
        agent: &mut Agent,
        step: &ForgedHeaders,
        victim: &str,
        previous_subject: Option<&OidcSubject>,
    ) -> Result<StepObservation, Inconclusive> {
        let fresh_browser = agent.transcript().is_empty();
        let observation =
            |forged: Option<ForgedSeen>, not_applicable: Option<String>| StepObservation {
                observation: Observation::None { status: 0 },
                acs_summary: String::new(),
                fetched_entity: false,
                posted: None,
                not_applicable,
                subject: None,
                saml_request_id: None,
                logout_response: None,
                forged,
            };
        if self.oracle.evidence() == Evidence::FinalStatus {
            return Ok(observation(
                None,
                Some("forged identity headers are judged from the SP's session: configure [oracle] whoami_url or protected_url".into()),
            ));
        }
        let Some(identity) = self.broker.identities().get(victim).cloned() else {
            return Err(Inconclusive(format!("unknown identity {victim:?}")));
        };
        // What the SP's login start reveals: the ACS (SAML) or redirect URI and the `sub`
        // derivation (OIDC). Asked in a browser of its own, so this one's session stays.
        let endpoints = match (self.sp.protocol, step.target) {
            (Protocol::Oidc, _) | (Protocol::Saml, HeaderTarget::Acs) => {
                Some(self.login_endpoints().await?)
            }
            (Protocol::Saml, _) => None,
        };
        let subject = previous_subject
            .cloned()
            .or_else(|| endpoints.as_ref().and_then(|e| e.subject.clone()));
        let requests: Vec<(&'static str, String)> = match step.target {
            HeaderTarget::Protected => self
                .oracle
                .urls()
                .into_iter()
                .map(|u| ("GET", u.to_string()))
                .collect(),
            HeaderTarget::Preflight => self
                .oracle
                .urls()
                .into_iter()
                .map(|u| ("OPTIONS", u.to_string()))
                .collect(),
            HeaderTarget::Acs | HeaderTarget::RedirectUri => {
                match endpoints.as_ref().and_then(|e| e.callback.clone()) {
                    Some(u) if step.target == HeaderTarget::Acs => vec![("POST", u)],
                    Some(u) => vec![("GET", u)],
                    None => {
                        return Err(Inconclusive(match step.target {
                            HeaderTarget::Acs => "the SP's AuthnRequest names no AssertionConsumerServiceURL; the harness cannot tell where its ACS is".into(),
                            HeaderTarget::RedirectUri
                            | HeaderTarget::Protected
                            | HeaderTarget::Preflight => {
                                "the RP's authorization request carries no redirect_uri".into()
                            }
                        }));
                    }
                }
            }
        };
        let baseline = self
            .oracle
            .observe(agent, None)
            .await
            .map_err(unreachable_sp)?;
        match &baseline {
            Observation::Ambiguous { why } => {
                return Err(Inconclusive(format!(
                    "oracle ambiguous before the forged requests: {why}"
                )));
            }
            Observation::Session { .. } if fresh_browser => {
                return Err(Inconclusive(
                    "the oracle reports a session before any request: check [oracle] (whoami_url must answer 401/403/redirect without a session)".into(),
                ));
            }
            Observation::None { .. } | Observation::Session { .. } => {}
        }
        let victim_key = expected_key_in(&identity, self.sp.user_key, subject.as_ref())
            .unwrap_or_else(|| identity.uuid.to_string());
        let mut seen = ForgedSeen {
            baseline: baseline.clone(),
            victim_key: victim_key.clone(),
            requests: Vec::new(),
            breach: None,
        };
        let protected_url = self.oracle.protected_url().map(str::to_string);
        for spelling in [Spelling::Documented, Spelling::Swapped] {
            let headers = self.forged_headers(&identity, &victim_key, subject.as_ref(), spelling);
            for (method, url) in &requests {
                let mut sent = headers.clone();
                if *method == "OPTIONS" {
                    sent.push(("Origin".into(), "https://attacker.example".into()));
                    sent.push(("Access-Control-Request-Method".into(), "GET".into()));
                }
                agent.note(format!(
                    "forged identity headers naming {victim} ({victim_key}) on {method} {url}: {}",
                    headers
                        .iter()
                        .map(|(k, v)| format!("{k}: {v}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
                let form: &[(String, String)] = &[];
                let page = agent
                    .request_with_headers(method, url, (*method == "POST").then_some(form), &sent)
                    .await
                    .map_err(unreachable_sp)?;
                // The path only: ports vary from run to run, reports are compared.
                let request = format!("{method} {}", page.url.path());
                if !seen.requests.contains(&request) {
                    seen.requests.push(request.clone());
                }
                // The answer to the forged request itself: a whoami that names someone else,
                // or the protected page served (2xx) where there was no session.
                let answered = self.answer_shows(&page, method, protected_url.as_deref());
                if let Some(identity) = answered.and_then(|a| breach(&baseline, &a)) {
                    seen.breach = Some(Breach {
                        identity,
                        request,
                        in_answer: true,
                        spelling,
                    });
                    return Ok(observation(Some(seen), None));
                }
                let after = self
                    .oracle
                    .observe(agent, None)
                    .await
                    .map_err(unreachable_sp)?;
                if let Observation::Ambiguous { why } = &after {
                    return Err(Inconclusive(format!(
                        "oracle ambiguous after {request}: {why}"
                    )));
                }
                if let Some(identity) = breach(&baseline, &after) {
                    seen.breach = Some(Breach {
                        identity,
                        request,
                        in_answer: false,
                        spelling,
                    });
                    return Ok(observation(Some(seen), None));
                }
            }
        }
        Ok(observation(Some(seen), None))
    }

    /// What the answer to a forged request says about a session: a whoami answer naming an
    /// identity, or a `GET` of the protected URL served (2xx). An `OPTIONS` answer of the
    /// protected URL says nothing (a CORS preflight may be answered without a session).
    fn answer_shows(
        &self,
        page: &Page,
        method: &str,
        protected_url: Option<&str>,
    ) -> Option<Observation> {
        if let Some(id) = self.oracle.identity_in(page) {
            return Some(Observation::Session {
                identity: Some(id),
                status: page.status,
            });
        }
        let protected = protected_url.and_then(|u| url::Url::parse(u).ok());
        let is_protected = protected
            .is_some_and(|u| u.path() == page.url.path() && u.host_str() == page.url.host_str());
        (method == "GET" && is_protected && (200..300).contains(&page.status)).then_some(
            Observation::Session {
                identity: None,
                status: page.status,
            },
        )
    }

    /// The victim's identity headers in one spelling, with values for the victim.
    fn forged_headers(
        &self,
        victim: &TestIdentity,
        key: &str,
        subject: Option<&OidcSubject>,
        spelling: Spelling,
    ) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        for (name, kind) in HEADERS {
            let value = match kind {
                Value::Key => Some(key.to_string()),
                Value::Sub => Some(
                    subject
                        .map(|s| s.sub_of(victim))
                        .unwrap_or_else(|| victim.uuid.to_string()),
                ),
                Value::Uuid => Some(victim.uuid.to_string()),
                Value::Cpr => victim.cpr.clone(),
                Value::Email => victim.email.first().cloned(),
                Value::NameId => Some(victim.name_id()),
                Value::AccessToken => Some(format!("forged-access-token-{}", victim.id)),
                Value::Idp => Some(self.broker.base_url()),
            };
            let Some(value) = value else { continue };
            let name = spelling.name(name);
            // A name without `-` or `_` (`eppn`) is spelled one way only.
            if spelling == Spelling::Swapped && HEADERS.iter().any(|(n, _)| *n == name) {
                continue;
            }
            out.push((name, value));
        }
        out
    }

    /// Start a login in a browser of its own and read the SP's login request: the ACS URL of
    /// its AuthnRequest, or the redirect URI and `sub` derivation of its authorization request.
    async fn login_endpoints(&self) -> Result<LoginEndpoints, Inconclusive> {
        let mut agent = self.agent();
        let broker = self.broker.base_url();
        let mut url = self.sp.login_url.clone();
        for _ in 0..=agent.max_redirects() {
            let page = agent
                .request("GET", &url, None)
                .await
                .map_err(unreachable_sp)?;
            let (300..=399, Some(loc)) = (page.status, &page.location) else {
                return Err(Inconclusive(format!(
                    "the login at {} did not lead to the broker at {broker} (ended on HTTP {} at {})",
                    self.sp.login_url, page.status, page.url
                )));
            };
            let next = Agent::resolve(&page, loc).map_err(|e| Inconclusive(e.to_string()))?;
            if !next.starts_with(&broker) {
                url = next;
                continue;
            }
            let u = url::Url::parse(&next).map_err(|e| Inconclusive(e.to_string()))?;
            return Ok(match self.sp.protocol {
                Protocol::Saml => {
                    let msg = redirect::decode_query(u.query().unwrap_or(""), "SAMLRequest")
                        .map_err(|e| {
                            Inconclusive(format!("the SP's AuthnRequest could not be decoded: {e}"))
                        })?;
                    let req = authn_request::parse(&msg.xml).map_err(|e| {
                        Inconclusive(format!("the SP's AuthnRequest is invalid: {e}"))
                    })?;
                    let callback = match req.acs_url.clone() {
                        Some(u) => Some(u),
                        None => self.acs_from_metadata(&req).await,
                    };
                    LoginEndpoints {
                        callback,
                        subject: None,
                    }
                }
                Protocol::Oidc => LoginEndpoints {
                    callback: u
                        .query_pairs()
                        .find(|(k, _)| k == "redirect_uri")
                        .map(|(_, v)| v.into_owned()),
                    subject: OidcSubject::from_authorization_url(&u),
                },
            });
        }
        Err(Inconclusive(
            "too many redirects before reaching the broker".into(),
        ))
    }

    /// The ACS an AuthnRequest without `AssertionConsumerServiceURL` is answered at: by its
    /// `AssertionConsumerServiceIndex`, else the metadata's default HTTP-POST ACS (SAML
    /// metadata §2.2.3), from the SP metadata the broker registered (in process) or sp.toml's
    /// `sp_metadata`.
    async fn acs_from_metadata(&self, req: &authn_request::AuthnRequest) -> Option<String> {
        use mitid_mock_broker::saml::sp_metadata::SpMetadata;
        let registered = match (&self.broker, &req.issuer) {
            (super::BrokerLink::InProcess(b), Some(iss)) => {
                b.state().sp(iss).map(|sp| sp.raw_xml.clone())
            }
            _ => None,
        };
        let xml = match (registered, &self.sp.sp_metadata) {
            (Some(x), _) => x,
            (None, Some(src)) if src.starts_with("http") => {
                mitid_mock_broker::broker::fetch_metadata(src).await.ok()?
            }
            (None, Some(path)) => std::fs::read_to_string(path).ok()?,
            (None, None) => return None,
        };
        let md = SpMetadata::parse(&xml).ok()?;
        let acs = match req.acs_index {
            Some(i) => md.acs_by_index(i),
            None => md.default_acs("urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"),
        };
        acs.map(|e| e.location.clone())
    }

    /// Judge a forged-headers step: the SP's session must have stayed what it was.
    pub(super) fn judge_forged(&self, victim: &str, o: &StepObservation) -> StepResult {
        let Some(seen) = &o.forged else {
            return StepResult {
                verdict: Verdict::Inconclusive,
                message: "the forged-headers step observed nothing".into(),
                observed_identity: None,
                grade: None,
            };
        };
        let before = match &seen.baseline {
            Observation::Session {
                identity: Some(i), ..
            } => format!("the session of {i:?} (this scenario's genuine login)"),
            Observation::Session { identity: None, .. } => {
                "a session (identity not named by the oracle)".to_string()
            }
            Observation::None { .. } | Observation::Ambiguous { .. } => "no session".to_string(),
        };
        let Some(b) = &seen.breach else {
            return StepResult {
                verdict: Verdict::Pass,
                message: format!(
                    "the SP ignored the browser's own identity headers naming {victim} ({}), in both spellings, on {}: it kept {before}",
                    seen.victim_key,
                    seen.requests.join(", ")
                ),
                observed_identity: None,
                grade: None,
            };
        };
        let shown = match &b.identity {
            Some(i) if same_identity(i, &seen.victim_key) => {
                format!("reports {i:?}, the forged identity ({victim})")
            }
            Some(i) => format!("reports {i:?}"),
            None => "has a session".to_string(),
        };
        let place = if b.in_answer {
            "in its answer to that request"
        } else {
            "afterwards, to a plain request without the headers"
        };
        StepResult {
            verdict: Verdict::Fail,
            message: format!(
                "the SP let a forged identity through: after {} carrying identity headers naming {victim} ({}) {}, it {shown} {place}; before, it had {before}. Whoever sends these headers is logged in as anyone: the module in front of the application must remove every client-supplied identity header (compared as the CGI variable it becomes) on every path it lets through, the preflight and the login endpoint included",
                b.request,
                seen.victim_key,
                b.spelling.describe(),
            ),
            observed_identity: b.identity.clone(),
            grade: Some(Grade::ForgedIdentity),
        }
    }
}

/// What the SP's login request says about its endpoints.
struct LoginEndpoints {
    /// The ACS URL (SAML) or redirect URI (OIDC).
    callback: Option<String>,
    /// OIDC: what the `sub` depends on.
    subject: Option<OidcSubject>,
}
