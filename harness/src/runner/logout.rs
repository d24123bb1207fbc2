//! The `idp-logout` step: the broker starts single logout for the previous SAML login, the
//! browser carries the LogoutRequest to the SP's SingleLogoutService and the SP's answer back
//! to the broker, and the oracle says whether the SP's session survived.
//!
//! Judged from the SP's own session, as every step is: a logout the SP must accept ends the
//! session and is answered with a signed Success LogoutResponse (NemLog-in waits for it);
//! one it must refuse (unsigned, signed by a foreign key, from another Issuer, for another
//! user, expired) leaves the session as it was.

use super::{Harness, Inconclusive, StepObservation, unreachable_sp};
use crate::agent::{Agent, Page, find_form};
use crate::oracle::{Evidence, Observation, same_identity};
use crate::report::{StepResult, Verdict};
use crate::scenario::{Expect, IdpLogout, Step, StepBody};
use mitid_mock_broker::control::{
    ControlClientError, IdpLogoutRequest, LogoutDelivery, LogoutResponseSeen, NO_SLO_ENDPOINT,
    ResponseSignature,
};
use mitid_mock_broker::dangerous::LogoutFault;
use mitid_mock_broker::dangerous::logout::{DuplicateOrder, SignatureErrorForm};

impl Harness {
    /// Start the IdP-initiated logout of `login_request_id`'s session, deliver it in the
    /// browser, follow the SP's answer back to the broker, then ask the oracle.
    pub(super) async fn idp_logout_step(
        &self,
        agent: &mut Agent,
        step: &IdpLogout,
        login_request_id: Option<&str>,
    ) -> Result<StepObservation, Inconclusive> {
        let not_applicable = |why: String| StepObservation {
            observation: Observation::None { status: 0 },
            acs_summary: String::new(),
            fetched_entity: false,
            posted: None,
            not_applicable: Some(why),
            subject: None,
            saml_request_id: None,
            logout_response: None,
            forged: None,
        };
        if self.oracle.evidence() == Evidence::FinalStatus {
            return Ok(not_applicable(
                "single logout is judged from the SP's session: configure [oracle] whoami_url or protected_url".into(),
            ));
        }
        let Some(login) = login_request_id else {
            return Err(Inconclusive(
                "no SAML login before the idp-logout step".into(),
            ));
        };
        let control = self.broker.control();
        let req = IdpLogoutRequest {
            login_request_id: login.to_string(),
            binding: step.binding,
            faults: step.faults.clone(),
        };
        let started = match control.idp_logout(&req).await {
            Ok(s) => s,
            Err(ControlClientError::Refused {
                code, description, ..
            }) if code == NO_SLO_ENDPOINT => {
                return Ok(not_applicable(format!(
                    "not applicable: {description} (the SP does not offer IdP-initiated logout on this binding)"
                )));
            }
            Err(e) => {
                return Err(Inconclusive(format!(
                    "cannot start the IdP-initiated logout at the broker: {e}"
                )));
            }
        };
        agent.note(format!(
            "broker sends LogoutRequest {} ({:?} binding) for the session of login {login}",
            started.logout_request_id, step.binding
        ));
        let first = match &started.delivery {
            LogoutDelivery::Redirect { url } => agent.request("GET", url, None).await,
            LogoutDelivery::Post { action, fields } => {
                agent.request("POST", action, Some(fields)).await
            }
        }
        .map_err(super::unreachable_sp)?;
        let mut summary = format!("SLO answered HTTP {}", first.status);
        let last = self
            .follow_logout_answer(agent, first, &mut summary)
            .await?;
        let record = control
            .idp_logout_record(&started.logout_request_id)
            .await
            .map_err(|e| Inconclusive(format!("cannot read the logout record: {e}")))?;
        let observation = self
            .oracle
            .observe(agent, Some(&last))
            .await
            .map_err(unreachable_sp)?;
        Ok(StepObservation {
            observation,
            acs_summary: summary,
            fetched_entity: false,
            posted: None,
            not_applicable: None,
            subject: None,
            saml_request_id: None,
            logout_response: record.response,
            forged: None,
        })
    }

    /// Follow the SP's answer: redirects (a Redirect-binding LogoutResponse to the broker
    /// included), and one auto-submitted form to the broker (a POST-binding one).
    async fn follow_logout_answer(
        &self,
        agent: &mut Agent,
        first: Page,
        summary: &mut String,
    ) -> Result<Page, Inconclusive> {
        let broker = self.broker.base_url();
        let mut page = first;
        let mut posted = false;
        for _ in 0..agent.max_redirects() {
            match (page.status, page.location.clone()) {
                (300..=399, Some(loc)) => {
                    let next =
                        Agent::resolve(&page, &loc).map_err(|e| Inconclusive(e.to_string()))?;
                    if next.starts_with(&broker) {
                        summary.push_str(" → the broker");
                    }
                    page = agent
                        .request("GET", &next, None)
                        .await
                        .map_err(unreachable_sp)?;
                }
                (200, _) if !posted => match find_form(&page.url, &page.body) {
                    Some(f) if f.method == "POST" && f.action.starts_with(&broker) => {
                        posted = true;
                        summary.push_str(" → form to the broker");
                        page = agent
                            .request("POST", &f.action, Some(&f.fields))
                            .await
                            .map_err(unreachable_sp)?;
                    }
                    _ => break,
                },
                _ => break,
            }
        }
        Ok(page)
    }

    /// Judge an idp-logout step from the SP's session and its LogoutResponse.
    pub(super) fn judge_logout(
        &self,
        step: &Step,
        id_handle: &str,
        o: &StepObservation,
    ) -> StepResult {
        let mk = |v: Verdict, m: String, id: Option<String>| StepResult {
            verdict: v,
            message: m,
            observed_identity: id,
            grade: None,
        };
        let acs = &o.acs_summary;
        let answered = match &o.logout_response {
            None => "no LogoutResponse reached the broker".to_string(),
            Some(r) => describe(r),
        };
        match (&o.observation, step.expect) {
            (Observation::Ambiguous { why }, _) => mk(
                Verdict::Inconclusive,
                format!("oracle ambiguous: {why}; {acs}"),
                None,
            ),
            (Observation::None { status }, Expect::Accept) => match &o.logout_response {
                Some(r) if r.is_success() && r.signature == ResponseSignature::Verified => mk(
                    Verdict::Pass,
                    format!(
                        "the SP ended the session (oracle answered {status}) and {answered}; {acs}"
                    ),
                    None,
                ),
                _ => mk(
                    Verdict::Fail,
                    format!(
                        "the SP ended the session but did not answer the IdP with a signed Success LogoutResponse: {answered}; NemLog-in reports the logout as failed; {acs}"
                    ),
                    None,
                ),
            },
            (Observation::Session { identity, .. }, Expect::Accept) => mk(
                Verdict::Fail,
                format!(
                    "the SP kept the session{} after NemLog-in's signed LogoutRequest ({answered}): a user who logs out at NemLog-in stays logged in here; {acs}",
                    identity
                        .as_deref()
                        .map(|i| format!(" of {i:?}"))
                        .unwrap_or_default()
                ),
                identity.clone(),
            ),
            (Observation::None { status }, Expect::Reject) => {
                let faults = match &step.body {
                    StepBody::IdpLogout(l) => l.faults.as_slice(),
                    StepBody::SamlLogin(_)
                    | StepBody::OidcLogin(_)
                    | StepBody::Replay
                    | StepBody::ForgedHeaders(_) => &[],
                };
                let why = query_edit_let_through(faults).unwrap_or_else(|| {
                    "anyone who can deliver such a request logs users out".to_string()
                });
                mk(
                    Verdict::Fail,
                    format!(
                        "the SP ended the session (oracle answered {status}) on a LogoutRequest it must refuse ({answered}): {why}; {acs}"
                    ),
                    None,
                )
            }
            (Observation::Session { identity: None, .. }, Expect::Reject) => mk(
                Verdict::Pass,
                format!("the SP refused the LogoutRequest and kept the session; {acs}"),
                None,
            ),
            (
                Observation::Session {
                    identity: Some(seen),
                    ..
                },
                Expect::Reject,
            ) => {
                let expected = self
                    .broker
                    .identities()
                    .get(id_handle)
                    .and_then(|i| crate::oracle::expected_key_in(i, self.sp.user_key, None));
                match expected {
                    Some(e) if !same_identity(seen, &e) => mk(
                        Verdict::Fail,
                        format!(
                            "after the refused LogoutRequest the SP reports {seen:?}, not the logged-in {e:?} ({id_handle}); {acs}"
                        ),
                        Some(seen.clone()),
                    ),
                    _ => mk(
                        Verdict::Pass,
                        format!(
                            "the SP refused the LogoutRequest and kept the session of {seen}; {acs}"
                        ),
                        Some(seen.clone()),
                    ),
                }
            }
        }
    }
}

/// What an SP that ended the session let through, for the Redirect-binding query edits (S14):
/// the last query-stage fault, as the broker applies it. `None` for the other logout faults,
/// whose report keeps its general wording.
fn query_edit_let_through(faults: &[LogoutFault]) -> Option<String> {
    let forced = "forced logout of the victim: anyone holding a NemLog-in-signed logout URL of their own can end any user's session (no login identity is forged)";
    faults.iter().rev().find_map(|f| {
        Some(match f {
            LogoutFault::DuplicateParam { order } => {
                let place = match order {
                    DuplicateOrder::ForgedFirst => "before",
                    DuplicateOrder::SignedFirst => "after",
                };
                format!(
                    "it processed an unsigned SAMLRequest for this session's user placed {place} a captured, NemLog-in-signed SAMLRequest for another user, verifying one occurrence and processing the other; {forced}"
                )
            }
            LogoutFault::RequestAndResponse => format!(
                "it processed an unsigned SAMLRequest for this session's user prepended to a captured, NemLog-in-signed SAMLResponse query, whose signature it checked (CVE-2025-27773); {forced}"
            ),
            LogoutFault::EncodedParamName { name } => format!(
                "it processed an unsigned LogoutRequest sent as {name:?} (a percent-encoded SAMLRequest) after a captured, NemLog-in-signed SAMLRequest for another user, whose signature it checked (CVE-2026-117691); {forced}"
            ),
            LogoutFault::RelayStateExtraEquals { appended } => format!(
                "it accepted NemLog-in's signed LogoutRequest for this session although \"={appended}\" was appended to its RelayState after signing: its query-signature check does not cover the octets it reads (CVE-2026-134822); the logout itself is NemLog-in's, the tampered RelayState goes back to NemLog-in in the LogoutResponse (an SP that redirects to RelayState after logout would follow it)"
            ),
            LogoutFault::SignatureError { form } => format!(
                "it ended the session on an unsigned LogoutRequest whose query-signature check could not run (SigAlg {:?}, {}) instead of refusing it (CVE-2018-7711); {forced}",
                form.sig_alg(),
                match form {
                    SignatureErrorForm::DsaSha1
                    | SignatureErrorForm::HmacSha256
                    | SignatureErrorForm::UnknownAlg => "an algorithm that does not fit NemLog-in's RSA key",
                    SignatureErrorForm::NotBase64 => "a Signature that is not base64",
                    SignatureErrorForm::Empty => "an empty Signature",
                }
            ),
            LogoutFault::Unsigned
            | LogoutFault::SignWith { .. }
            | LogoutFault::Issuer { .. }
            | LogoutFault::NameIdOf { .. }
            | LogoutFault::Expired { .. }
            | LogoutFault::WrappedSignedAssertion { .. } => return None,
        })
    })
}

fn describe(r: &LogoutResponseSeen) -> String {
    let status = r
        .status
        .as_deref()
        .map(|s| s.rsplit(':').next().unwrap_or(s))
        .unwrap_or("no status");
    let sig = match r.signature {
        ResponseSignature::Verified => "signed",
        ResponseSignature::Unsigned => "unsigned",
        ResponseSignature::Invalid => "with a signature that does not verify",
    };
    format!(
        "answered with a {sig} LogoutResponse ({status}, {:?} binding)",
        r.binding
    )
}
