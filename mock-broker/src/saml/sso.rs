//! Single sign-on: accept an AuthnRequest the way NemLog-in does, pick the identity (armed by
//! the harness, preselected in the query, or chosen on the [login page](super::login)), and
//! answer the SP's ACS with a minted Response on the HTTP-POST binding.
//!
//! Checks stop at the first defect, in NemLog-in's order: a request it cannot parse, from an
//! SP it does not know, with a signature that does not verify, for another Destination, too
//! old or too new, replayed, or for an ACS that is not in the SP's metadata. Each defect is a
//! variant of [`SsoRejection`], the one error of this operation.

use super::assertion::ModelContext;
use super::authn_request::{self, AuthnRequest, AuthnRequestError};
use super::endpoint::{auto_post, field};
use super::mint::{MintInput, mint};
use super::ns;
use super::oiosaml4::{AttributeProfile, Oiosaml4Assertion, OiosamlVersion};
use super::redirect::{RedirectError, RedirectMessage};
use super::sp_metadata::SpMetadata;
use super::xmlsec::EncryptionAlgorithms;
use crate::broker::{BrokerState, FlowRecord};
use crate::identity::TestIdentity;
use crate::nsis::{Loa, UnknownLoa};
use crate::page::Refusal;
use crate::server::BodyTooLarge;
use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use std::sync::Arc;

/// Why a login was refused, from the AuthnRequest to the minted Response.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SsoRejection {
    /// The AuthnRequest does not parse (or has no Issuer).
    #[error(transparent)]
    AuthnRequest(#[from] AuthnRequestError),
    /// The Issuer is not a registered SP.
    #[error(
        "unknown SP: Issuer {0:?} is not registered with this broker (register its metadata with --sp-metadata)"
    )]
    UnknownSp(String),
    /// The Redirect-binding signature is missing, SHA-1, or does not verify.
    #[error(transparent)]
    Signature(RedirectError),
    /// `Destination` names another endpoint.
    #[error("Destination {destination:?} is not this broker's SSO URL {sso_url:?}")]
    WrongDestination {
        /// As sent.
        destination: String,
        /// The broker's.
        sso_url: String,
    },
    /// No `Destination`.
    #[error("AuthnRequest has no Destination; signed requests must name the SSO URL")]
    NoDestination,
    /// `IssueInstant` does not parse.
    #[error("AuthnRequest IssueInstant {0:?} is not an xs:dateTime")]
    IssueInstantMalformed(String),
    /// `IssueInstant` is further from the broker's clock than the accepted skew.
    #[error(
        "AuthnRequest IssueInstant {issue_instant} is more than {skew_minutes} minutes from the broker's clock ({now}): expired or from the future"
    )]
    IssueInstantSkew {
        /// As sent.
        issue_instant: String,
        /// The accepted skew.
        skew_minutes: i64,
        /// The broker's clock, formatted as a SAML instant.
        now: String,
    },
    /// The request ID is longer than any real SP sends (and than the broker keeps).
    #[error("AuthnRequest ID of {0} bytes is longer than the {max} accepted", max = crate::broker::limits::MAX_REQUEST_ID_LEN)]
    IdTooLong(usize),
    /// Every slot for remembering request IDs holds a live one.
    #[error(transparent)]
    Busy(#[from] crate::broker::TableFull),
    /// The request ID was seen before.
    #[error("AuthnRequest ID {0} was already used; IDs must be fresh per request")]
    ReusedId(String),
    /// `ProtocolBinding` asks for something other than HTTP-POST.
    #[error("ProtocolBinding {0} is not supported; NemLog-in answers with HTTP-POST only")]
    UnsupportedProtocolBinding(String),
    /// `AssertionConsumerServiceURL` is not a POST ACS of the SP.
    #[error(
        "AssertionConsumerServiceURL {url:?} is not an HTTP-POST AssertionConsumerService in the metadata of {sp}; registered: [{}]",
        registered.join(", ")
    )]
    AcsUrlNotRegistered {
        /// As sent.
        url: String,
        /// The SP's entityID.
        sp: String,
        /// The SP's ACS locations (any binding).
        registered: Vec<String>,
    },
    /// `AssertionConsumerServiceIndex` names a non-POST ACS.
    #[error("AssertionConsumerServiceIndex {index} has binding {binding}, not HTTP-POST")]
    AcsIndexNotPost {
        /// As sent.
        index: u32,
        /// That ACS's binding.
        binding: String,
    },
    /// `AssertionConsumerServiceIndex` is not in the metadata.
    #[error("AssertionConsumerServiceIndex {index} is not in the metadata of {sp}")]
    AcsIndexUnknown {
        /// As sent.
        index: u32,
        /// The SP's entityID.
        sp: String,
    },
    /// No ACS named, and the SP has no POST ACS to default to.
    #[error("the metadata of {0} has no HTTP-POST AssertionConsumerService")]
    NoPostAcs(String),
    /// The harness armed an identity the broker does not have (in-process arming does not
    /// validate).
    #[error("armed identity {0:?} is unknown")]
    UnknownArmedIdentity(String),
    /// `mock_identity` names an identity the broker does not have.
    #[error("mock_identity {0:?} is unknown")]
    UnknownMockIdentity(String),
    /// `mock_loa` (or the login page's level) is not an NSIS level.
    #[error(transparent)]
    Loa(#[from] UnknownLoa),
    /// The login page's form is over the body cap.
    #[error(transparent)]
    BodyTooLarge(#[from] BodyTooLarge),
    /// The login page's form has no `flow`.
    #[error("missing form field flow")]
    MissingFlowField,
    /// The login page's `flow` is unknown (or was evicted).
    #[error("unknown or expired login flow {0:?}")]
    UnknownLoginFlow(String),
    /// The login page was submitted again after the Response was sent.
    #[error("this login flow already completed; start a new login at the SP")]
    FlowCompleted,
    /// The login page's `identity` is missing or unknown.
    #[error("pick a known identity")]
    UnknownChosenIdentity,
    /// The flow's SP was unregistered while the user was on the login page.
    #[error("the SP of this flow is no longer registered")]
    SpGone,
    /// The flow disappeared between accepting the request and answering it.
    #[error("unknown login flow")]
    FlowGone,
    /// OIOSAML 4.0: no attribute profile can be chosen for this login.
    #[error(transparent)]
    Profile(#[from] super::oiosaml4::ProfileChoiceError),
    /// Minting the Response failed (a key or encryption problem, or a fault plan that cannot
    /// apply).
    #[error("cannot build the response for {sp}: {why}")]
    Mint {
        /// The SP's entityID.
        sp: String,
        /// Why.
        why: String,
    },
}

impl SsoRejection {
    /// All refusals are 400, as they always were: even a failed mint is reported on the page
    /// the SP developer is looking at rather than as a bare 500, since the usual cause is the
    /// SP's metadata (an encryption certificate the broker cannot use).
    fn status(&self) -> StatusCode {
        match self {
            SsoRejection::AuthnRequest(_)
            | SsoRejection::UnknownSp(_)
            | SsoRejection::Signature(_)
            | SsoRejection::WrongDestination { .. }
            | SsoRejection::NoDestination
            | SsoRejection::IssueInstantMalformed(_)
            | SsoRejection::IssueInstantSkew { .. }
            | SsoRejection::ReusedId(_)
            | SsoRejection::IdTooLong(_)
            | SsoRejection::UnsupportedProtocolBinding(_)
            | SsoRejection::AcsUrlNotRegistered { .. }
            | SsoRejection::AcsIndexNotPost { .. }
            | SsoRejection::AcsIndexUnknown { .. }
            | SsoRejection::NoPostAcs(_)
            | SsoRejection::UnknownArmedIdentity(_)
            | SsoRejection::UnknownMockIdentity(_)
            | SsoRejection::Loa(_)
            | SsoRejection::BodyTooLarge(_)
            | SsoRejection::MissingFlowField
            | SsoRejection::UnknownLoginFlow(_)
            | SsoRejection::FlowCompleted
            | SsoRejection::UnknownChosenIdentity
            | SsoRejection::SpGone
            | SsoRejection::FlowGone
            | SsoRejection::Profile(_)
            | SsoRejection::Mint { .. } => StatusCode::BAD_REQUEST,
            SsoRejection::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

impl From<SsoRejection> for Refusal {
    fn from(e: SsoRejection) -> Self {
        Refusal::new(e.status(), e.to_string())
    }
}

/// SPKI DER of each of the SP's signing certificates that parses.
fn sp_spkis(sp: &SpMetadata) -> Vec<Vec<u8>> {
    sp.signing_certs
        .iter()
        .filter_map(|c| {
            x509_parser::parse_x509_certificate(c)
                .ok()
                .map(|(_, c)| c.tbs_certificate.subject_pki.raw.to_vec())
        })
        .collect()
}

/// The SP's key verifies the Redirect-binding signature (shared with SLO).
pub(crate) fn verify_redirect_signature(
    st: &BrokerState,
    sp: &SpMetadata,
    msg: &RedirectMessage,
) -> Result<(), RedirectError> {
    msg.verify(&st.xml_verifier, &sp_spkis(sp))
}

/// Resolve the ACS the response goes to: only ever from the SP's metadata.
fn resolve_acs(sp: &SpMetadata, req: &AuthnRequest) -> Result<String, SsoRejection> {
    if let Some(url) = &req.acs_url {
        if let Some(b) = &req.protocol_binding
            && b != ns::BINDING_POST
        {
            return Err(SsoRejection::UnsupportedProtocolBinding(b.clone()));
        }
        if sp.has_acs(url, ns::BINDING_POST) {
            return Ok(url.clone());
        }
        return Err(SsoRejection::AcsUrlNotRegistered {
            url: url.clone(),
            sp: sp.entity_id.clone(),
            registered: sp.acs.iter().map(|e| e.location.clone()).collect(),
        });
    }
    if let Some(index) = req.acs_index {
        return match sp.acs_by_index(index) {
            Some(e) if e.binding == ns::BINDING_POST => Ok(e.location.clone()),
            Some(e) => Err(SsoRejection::AcsIndexNotPost {
                index,
                binding: e.binding.clone(),
            }),
            None => Err(SsoRejection::AcsIndexUnknown {
                index,
                sp: sp.entity_id.clone(),
            }),
        };
    }
    sp.default_acs(ns::BINDING_POST)
        .map(|e| e.location.clone())
        .ok_or_else(|| SsoRejection::NoPostAcs(sp.entity_id.clone()))
}

/// How the user of a login being answered was authenticated ([`super::sso_session`]).
#[derive(Debug, Clone)]
pub(crate) enum Authn<'a> {
    /// Not at all: an error status without an assertion (NoPassive, InvalidNameIDPolicy).
    NotAuthenticated,
    /// Freshly (armed, preselected, or on the login page): starts the browser's SSO session,
    /// replacing the one under `replaces`.
    Fresh {
        /// The browser's SSO cookie, if it sent one.
        replaces: Option<&'a str>,
    },
    /// From the browser's SSO session under `cookie`, without a new authentication.
    Session {
        /// The browser's SSO cookie.
        cookie: &'a str,
        /// Its session.
        session: super::sso_session::SsoSession,
    },
}

/// Check an AuthnRequest that arrived on the Redirect binding of the `version` endpoint, record
/// its flow, and answer it: from the browser's SSO session (`sso_cookie`) when it can and the
/// request does not force a new authentication, at once for a passive (NoPassive), armed or
/// preselected login, else with the login page. `query` is the whole query string, for the
/// `mock_identity` / `mock_loa` preselection parameters.
pub(crate) fn authn_request_received(
    st: &Arc<BrokerState>,
    msg: &RedirectMessage,
    query: &str,
    version: OiosamlVersion,
    sso_cookie: Option<&str>,
) -> Result<Response, SsoRejection> {
    let req = authn_request::parse(&msg.xml)?;
    let issuer = req.issuer.clone().ok_or(AuthnRequestError::MissingIssuer)?;
    let sp = st
        .sp(&issuer)
        .ok_or_else(|| SsoRejection::UnknownSp(issuer.clone()))?;
    verify_redirect_signature(st, &sp, msg).map_err(SsoRejection::Signature)?;
    match &req.destination {
        Some(d) if d == st.sso_url_of(version) => {}
        Some(d) => {
            return Err(SsoRejection::WrongDestination {
                destination: d.clone(),
                sso_url: st.sso_url_of(version).to_string(),
            });
        }
        None => return Err(SsoRejection::NoDestination),
    }
    let now = st.clock.now();
    match req.issue_instant {
        None => {
            return Err(SsoRejection::IssueInstantMalformed(
                req.issue_instant_raw.clone(),
            ));
        }
        Some(t) if (t - now).abs() > st.clock_skew => {
            return Err(SsoRejection::IssueInstantSkew {
                issue_instant: req.issue_instant_raw.clone(),
                skew_minutes: st.clock_skew.whole_minutes(),
                now: super::response::fmt_instant(now),
            });
        }
        Some(_) => {}
    }
    if req.id.len() > crate::broker::limits::MAX_REQUEST_ID_LEN {
        return Err(SsoRejection::IdTooLong(req.id.len()));
    }
    // Remembered until the IssueInstant leaves the skew window, independently of the flow
    // records (which are evicted for memory), so a replay is refused for as long as the
    // request itself would be accepted.
    let valid_until = req.issue_instant.map_or(now, |t| t + st.clock_skew);
    if !st.first_use_of_request_id(&req.id, valid_until)? {
        return Err(SsoRejection::ReusedId(req.id.clone()));
    }
    let acs = resolve_acs(&sp, &req)?;
    let rac = req.requested_authn_context.clone().unwrap_or_default();
    let requested_profiles = match version {
        OiosamlVersion::V3 => Vec::new(),
        OiosamlVersion::V4 => req.attribute_profiles(),
    };
    let (requested_loa, requested_profile) = match version {
        OiosamlVersion::V3 => (rac.loa(), rac.profile()),
        OiosamlVersion::V4 => {
            // One kind across every requested profile narrows the login page's identities.
            let kinds: std::collections::BTreeSet<_> = requested_profiles
                .iter()
                .map(|p| p.kind().path_segment())
                .collect();
            let kind = match kinds.len() {
                1 => requested_profiles.first().map(|p| p.kind()),
                _ => None,
            };
            (rac.loa4(), kind)
        }
    };
    let flow = FlowRecord {
        request_id: req.id.clone(),
        sp_entity_id: sp.entity_id.clone(),
        acs_url: acs,
        relay_state: msg.relay_state.clone(),
        requested_loa,
        requested_profile,
        force_authn: req.force_authn,
        is_passive: req.is_passive,
        received_at: now,
        identity: None,
        loa: None,
        plan: Default::default(),
        response_b64: None,
        response_xml: None,
        encryption: None,
        error: None,
        endpoints: [crate::observed::Endpoint::Sso].into(),
        session_index: None,
        request_xml: Some(msg.xml.clone()),
        assertion_xml: None,
        oiosaml: version,
        requested_profiles,
        attribute_profile: None,
        app_switch: req.app_switch.clone(),
        from_sso_session: false,
    };
    tracing::info!(sp = %flow.sp_entity_id, request_id = %flow.request_id, loa = ?flow.requested_loa, "AuthnRequest accepted");
    st.put_flow(flow.clone());

    if let Err(e) = super::name_id_policy::choose(
        req.name_id_policy_format.as_deref(),
        st.name_id_without_policy,
    ) {
        // SAML core 3.4.1.1: a NameID format the IdP cannot issue is an error status, not a
        // silent persistent NameID the SP did not ask for.
        tracing::info!(sp = %sp.entity_id, request_id = %req.id, "{e}");
        if let Some(r) = respond_with_status(
            st,
            &sp,
            &req.id,
            ns::STATUS_REQUESTER,
            ns::STATUS_INVALID_NAME_ID_POLICY,
            e.to_string(),
        ) {
            return r;
        }
    }
    let session = st.sso_session(sso_cookie);
    let asked = super::sso_session::Asked {
        force_authn: req.force_authn,
        is_passive: req.is_passive,
        min_loa: requested_loa,
        kind: requested_profile,
    };
    match (super::sso_session::decide(session, asked), sso_cookie) {
        (super::sso_session::Decision::NoPassive(why), _) => {
            // SAML core 3.4.1: without a session that satisfies the request the IdP may not
            // interact, so a passive request gets a NoPassive status (a MitID login always
            // interacts).
            tracing::info!(sp = %sp.entity_id, request_id = %req.id, "NoPassive: {why}");
            if let Some(r) = respond_with_status(
                st,
                &sp,
                &req.id,
                ns::STATUS_RESPONDER,
                ns::STATUS_NO_PASSIVE,
                why.to_string(),
            ) {
                return r;
            }
        }
        (super::sso_session::Decision::FromSession(session), Some(cookie)) => {
            // Single sign-on: the session's identity at the session's level, without asking
            // the user; an armed login's faults (and 4.0 profile choice) still apply, its
            // identity does not (nobody is asked who they are).
            if let Some(identity) = st.identities.get(&session.identity).cloned() {
                let (plan, profile) = st
                    .take_armed(&req.id)
                    .map(|a| (a.plan, a.profile))
                    .unwrap_or_default();
                tracing::info!(sp = %sp.entity_id, request_id = %req.id, identity = %identity.id, "answered from the SSO session");
                let loa = session.loa;
                return respond(
                    st,
                    &sp,
                    &req.id,
                    &identity,
                    loa,
                    plan,
                    profile,
                    Authn::Session { cookie, session },
                );
            }
        }
        // A session without a cookie cannot be: `sso_session` finds none without one.
        (super::sso_session::Decision::FromSession(_), None)
        | (super::sso_session::Decision::Authenticate, _) => {}
    }
    let fresh = Authn::Fresh {
        replaces: sso_cookie,
    };
    if let Some(armed) = st.take_armed(&req.id) {
        let identity = st
            .identities
            .get(&armed.identity)
            .cloned()
            .ok_or_else(|| SsoRejection::UnknownArmedIdentity(armed.identity.clone()))?;
        let loa = armed.loa.unwrap_or(identity.loa);
        return respond(
            st,
            &sp,
            &req.id,
            &identity,
            loa,
            armed.plan,
            armed.profile,
            fresh,
        );
    }
    // Non-interactive preselection through extra query parameters (they are outside the
    // signed octets, so adding them does not break the SP's signature).
    let q: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    if let Some(id) = field(&q, "mock_identity") {
        let identity = st
            .identities
            .get(id)
            .cloned()
            .ok_or_else(|| SsoRejection::UnknownMockIdentity(id.to_string()))?;
        let loa = match field(&q, "mock_loa").map(str::parse::<Loa>) {
            None => identity.loa,
            Some(l) => l?,
        };
        return respond(
            st,
            &sp,
            &req.id,
            &identity,
            loa,
            Default::default(),
            None,
            fresh,
        );
    }
    Ok(super::login::chooser(st, &flow))
}

/// Choose encryption algorithms for an SP: its `md:EncryptionMethod` list first, then the
/// configured default. Returns the choice and a sentence saying why.
pub fn choose_encryption(
    sp: &SpMetadata,
    default: EncryptionAlgorithms,
) -> (EncryptionAlgorithms, String) {
    const DATA: &[&str] = &[
        ns::ENC_AES256_GCM,
        ns::ENC_AES128_GCM,
        ns::ENC_AES256_CBC,
        ns::ENC_AES128_CBC,
    ];
    const KT: &[&str] = &[ns::KT_RSA_OAEP_11, ns::KT_RSA_OAEP_MGF1P];
    let listed: Vec<&str> = sp
        .encryption_methods
        .iter()
        .map(|m| m.algorithm.as_str())
        .collect();
    let data = sp
        .encryption_methods
        .iter()
        .find(|m| DATA.contains(&m.algorithm.as_str()));
    let kt = sp
        .encryption_methods
        .iter()
        .find(|m| KT.contains(&m.algorithm.as_str()));
    let mut algs = default.clone();
    let mut why = Vec::new();
    match data {
        Some(d) => {
            algs.data = d.algorithm.clone();
            why.push(format!(
                "data {} from the SP's md:EncryptionMethod",
                d.algorithm
            ));
        }
        None => why.push(format!(
            "data {} (default; SP metadata names none we support)",
            algs.data
        )),
    }
    match kt {
        Some(k) => {
            algs.key_transport = k.algorithm.clone();
            if k.algorithm == ns::KT_RSA_OAEP_11 {
                algs.oaep_digest = Some(
                    k.digest_method
                        .clone()
                        .unwrap_or_else(|| ns::ALG_SHA1.into()),
                );
                algs.oaep_mgf = Some(k.mgf.clone().unwrap_or_else(|| ns::MGF1_SHA1.into()));
            } else {
                algs.oaep_digest = k.digest_method.clone();
                algs.oaep_mgf = None;
            }
            why.push(format!(
                "key transport {} from the SP's md:EncryptionMethod",
                k.algorithm
            ));
        }
        None => why.push(format!(
            "key transport {} (default; SP metadata names none we support{})",
            algs.key_transport,
            if listed.contains(&ns::KT_RSA_1_5) {
                ", and rsa-1_5 is never used"
            } else {
                ""
            }
        )),
    }
    (algs, why.join("; "))
}

/// An error Response (status `code`/`sub_code`, no assertion) to the flow `request_id`, for a
/// request the IdP refuses before anyone logs in; `None` when the broker knows no identity to
/// write the (unused) subject from.
fn respond_with_status(
    st: &Arc<BrokerState>,
    sp: &SpMetadata,
    request_id: &str,
    code: &str,
    sub_code: &str,
    message: String,
) -> Option<Result<Response, SsoRejection>> {
    let plan = crate::dangerous::FaultPlan::new(vec![
        crate::dangerous::Fault::Status {
            code: code.into(),
            sub_code: Some(sub_code.into()),
            message: Some(message),
        },
        crate::dangerous::Fault::NoAssertion,
    ]);
    let first = st.identities.iter().next().cloned()?;
    Some(respond(
        st,
        sp,
        request_id,
        &first,
        first.loa,
        plan,
        None,
        Authn::NotAuthenticated,
    ))
}

/// Mint the Response for a flow as `identity` at `loa` with `plan`'s faults, record it, and
/// send it to the flow's ACS. A 4.0 flow's response follows an attribute profile: `profile`
/// (the user's choice) or the broker's rule ([`super::oiosaml4::choose_profile`]). `authn`
/// says how the user was authenticated: a fresh authentication starts the browser's SSO
/// session (the answer sets its cookie); an answer from the session carries the session's
/// AuthnInstant (SAML core 2.7.2: the time "at which the authentication took place").
#[allow(clippy::too_many_arguments)]
pub(crate) fn respond(
    st: &Arc<BrokerState>,
    sp: &SpMetadata,
    request_id: &str,
    identity: &TestIdentity,
    loa: Loa,
    plan: crate::dangerous::FaultPlan,
    profile: Option<AttributeProfile>,
    authn: Authn<'_>,
) -> Result<Response, SsoRejection> {
    let flow = st.flow(request_id).ok_or(SsoRejection::FlowGone)?;
    let oiosaml4 = match flow.oiosaml {
        OiosamlVersion::V3 => None,
        OiosamlVersion::V4 => Some(Oiosaml4Assertion {
            profile: super::oiosaml4::choose_profile(
                &flow.requested_profiles,
                identity,
                profile,
                st.oiosaml4.no_profile_requested,
            )?,
            spec_version: st.oiosaml4.spec_version.clone(),
        }),
    };
    let (enc, why) = choose_encryption(sp, st.encryption_default.algorithms());
    let request = flow
        .request_xml
        .as_deref()
        .and_then(|x| authn_request::parse(x).ok());
    // OIOSAML 3.0.3 releases by sector and AttributeConsumingService; 4.0 by the attribute
    // profile chosen above (the profile's attribute set is applied when the assertion is
    // minted), so the 3.0.3 rules would strip e.g. the CPR that Person/DK carries.
    let requested = match flow.oiosaml {
        OiosamlVersion::V3 => st.release.requested_attributes(
            sp,
            request
                .as_ref()
                .and_then(|r| r.attribute_consuming_service_index),
        ),
        OiosamlVersion::V4 => None,
    };
    // A request asking for a transient NameID gets the transient Format, with the identity's
    // value or a fresh one at every login (`transient_name_id`, unconfirmed); an unsupported
    // format was answered with InvalidNameIDPolicy before the login started, so it is not
    // seen here (a fault-injected request falls back to the persistent NameID).
    let transient_name_id = match request.as_ref().map(|r| {
        super::name_id_policy::choose(
            r.name_id_policy_format.as_deref(),
            st.name_id_without_policy,
        )
    }) {
        Some(Ok(super::name_id_policy::NameIdChoice::Transient)) => {
            Some(match st.transient_name_id {
                super::name_id_policy::TransientValue::Fresh => {
                    super::name_id_policy::transient_value(identity.kind, st.ids.uuid())
                }
                super::name_id_policy::TransientValue::Stable => identity.name_id(),
            })
        }
        Some(Ok(super::name_id_policy::NameIdChoice::Persistent)) | Some(Err(_)) | None => None,
    };
    let issued_name_id = transient_name_id
        .clone()
        .unwrap_or_else(|| identity.name_id());
    let (session_index, authn_instant) = match &authn {
        Authn::Session { session, .. } => (
            match st.sso_policy.session_index {
                super::sso_session::SessionIndexPolicy::PerLogin => st.ids.next("s"),
                super::sso_session::SessionIndexPolicy::PerSession => session.session_index.clone(),
            },
            Some(session.authn_instant),
        ),
        Authn::NotAuthenticated | Authn::Fresh { .. } => (st.ids.next("s"), None),
    };
    let now = st.clock.now();
    let ctx = ModelContext {
        idp_entity_id: st.entity_id.clone(),
        sp_entity_id: sp.entity_id.clone(),
        acs_url: flow.acs_url.clone(),
        in_response_to: Some(request_id.to_string()),
        now,
        authn_instant,
        response_id: st.ids.next("r"),
        assertion_id: st.ids.next("a"),
        session_index: session_index.clone(),
        requested_attributes: requested,
        conditions_lifetime: time::Duration::hours(1),
        confirmation_lifetime: time::Duration::minutes(5),
        transient_name_id,
    };
    let input = MintInput {
        ctx,
        identity,
        loa,
        identities: &st.identities,
        sp_encryption_cert: sp.encryption_certs.first().map(Vec::as_slice),
        encryption: enc,
        plan: &plan,
        keys: &st.keys,
        fetch_recorder_url: Some(st.fetch_trap_url(request_id)),
        oiosaml4: oiosaml4.clone(),
    };
    let minted = match mint(&input, &st.xml_signer, &st.xml_encryptor) {
        Ok(m) => m,
        Err(e) => {
            let msg = e.to_string();
            st.update_flow(request_id, |f| f.error = Some(msg.clone()));
            return Err(SsoRejection::Mint {
                sp: sp.entity_id.clone(),
                why: msg,
            });
        }
    };
    if let Some(e) = &minted.encryption {
        tracing::info!(
            sp = %sp.entity_id,
            data = %e.data,
            key_transport = %e.key_transport,
            "assertion encrypted: {why}. If the SP cannot decrypt, run the broker with --encryption compatible or list md:EncryptionMethod in the SP metadata"
        );
    }
    let b64 = B64.encode(minted.response_xml.as_bytes());
    st.record_session(&session_index, &sp.entity_id, &issued_name_id);
    let from_sso_session = matches!(authn, Authn::Session { .. });
    let set_cookie = match authn {
        Authn::NotAuthenticated => None,
        Authn::Fresh { replaces } => st
            .start_sso_session(
                super::sso_session::SsoSession {
                    identity: identity.id.clone(),
                    kind: identity.kind,
                    loa,
                    authn_instant: now,
                    session_index: session_index.clone(),
                    session_indexes: vec![session_index.clone()],
                },
                replaces,
            )
            .map(|cookie| st.sso_set_cookie(&cookie)),
        Authn::Session { cookie, .. } => {
            st.note_sso_session_index(cookie, &session_index);
            None
        }
    };
    st.update_flow(request_id, |f| {
        f.identity = Some(identity.id.clone());
        f.loa = Some(loa);
        f.plan = plan.clone();
        f.response_b64 = Some(b64.clone());
        f.response_xml = Some(minted.response_xml.clone());
        f.encryption = minted.encryption.clone().map(|e| (e, why.clone()));
        f.session_index = Some(session_index.clone());
        f.assertion_xml = minted.signed_assertion_xml.clone();
        f.attribute_profile = oiosaml4.as_ref().map(|a| a.profile);
        f.from_sso_session = from_sso_session;
    });
    let mut page = auto_post(
        &flow.acs_url,
        "SAMLResponse",
        &b64,
        flow.relay_state.as_deref(),
    );
    if let Some(c) = set_cookie.and_then(|c| axum::http::HeaderValue::from_str(&c).ok()) {
        page.headers_mut().append(axum::http::header::SET_COOKIE, c);
    }
    Ok(page)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sp() -> SpMetadata {
        let xml = format!(
            r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://sp.example">
<md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
<md:AssertionConsumerService Binding="{post}" Location="https://sp.example/acs" index="0" isDefault="true"/>
<md:AssertionConsumerService Binding="{redirect}" Location="https://sp.example/acs-r" index="1"/>
</md:SPSSODescriptor></md:EntityDescriptor>"#,
            post = ns::BINDING_POST,
            redirect = ns::BINDING_REDIRECT,
        );
        SpMetadata::parse(&xml).expect("test SP metadata")
    }

    fn request(edit: impl FnOnce(&mut AuthnRequest)) -> AuthnRequest {
        let mut r = authn_request::parse(
            &authn_request::AuthnRequestBuilder {
                id: "_r".into(),
                issue_instant: time::macros::datetime!(2026-01-01 12:00 UTC),
                destination: "https://idp.example/sso".into(),
                issuer: "https://sp.example".into(),
                acs_url: None,
                loa: None,
                profile: None,
                extra_class_refs: Vec::new(),
                requested_profiles: Vec::new(),
                force_authn: false,
                is_passive: false,
            }
            .to_xml(),
        )
        .expect("built request parses");
        edit(&mut r);
        r
    }

    #[test]
    fn acs_comes_from_the_metadata_only() {
        let sp = sp();
        assert_eq!(
            resolve_acs(&sp, &request(|_| {})).unwrap(),
            "https://sp.example/acs"
        );
        let by_url = request(|r| r.acs_url = Some("https://sp.example/acs".into()));
        assert_eq!(resolve_acs(&sp, &by_url).unwrap(), "https://sp.example/acs");
        let elsewhere = request(|r| r.acs_url = Some("https://evil.example/acs".into()));
        let e = resolve_acs(&sp, &elsewhere).unwrap_err();
        assert!(
            matches!(&e, SsoRejection::AcsUrlNotRegistered { registered, .. } if registered.len() == 2)
        );
        assert_eq!(
            e.to_string(),
            "AssertionConsumerServiceURL \"https://evil.example/acs\" is not an HTTP-POST AssertionConsumerService in the metadata of https://sp.example; registered: [https://sp.example/acs, https://sp.example/acs-r]"
        );
        let artifact = request(|r| {
            r.acs_url = Some("https://sp.example/acs".into());
            r.protocol_binding = Some("urn:artifact".into());
        });
        assert!(matches!(
            resolve_acs(&sp, &artifact),
            Err(SsoRejection::UnsupportedProtocolBinding(b)) if b == "urn:artifact"
        ));
        assert!(matches!(
            resolve_acs(&sp, &request(|r| r.acs_index = Some(1))),
            Err(SsoRejection::AcsIndexNotPost { index: 1, .. })
        ));
        assert_eq!(
            resolve_acs(&sp, &request(|r| r.acs_index = Some(7)))
                .unwrap_err()
                .to_string(),
            "AssertionConsumerServiceIndex 7 is not in the metadata of https://sp.example"
        );
    }

    #[test]
    fn every_rejection_is_a_400_page_with_its_sentence() {
        for (e, text) in [
            (
                SsoRejection::IssueInstantSkew {
                    issue_instant: "2026-01-01T00:00:00Z".into(),
                    skew_minutes: 5,
                    now: "2026-01-01T01:00:00Z".into(),
                },
                "AuthnRequest IssueInstant 2026-01-01T00:00:00Z is more than 5 minutes from the broker's clock (2026-01-01T01:00:00Z): expired or from the future",
            ),
            (
                SsoRejection::AuthnRequest(AuthnRequestError::MissingIssuer),
                "AuthnRequest has no Issuer; NemLog-in identifies the SP by it",
            ),
            (
                SsoRejection::Signature(RedirectError::Unsigned),
                "the message is not signed (no Signature/SigAlg parameters); NemLog-in requires signed requests",
            ),
            (
                SsoRejection::Mint {
                    sp: "https://sp.example".into(),
                    why: "no key".into(),
                },
                "cannot build the response for https://sp.example: no key",
            ),
            (
                SsoRejection::Loa(UnknownLoa("Ultra".into())),
                "unknown NSIS level of assurance \"Ultra\" (expected Low, Substantial or High)",
            ),
        ] {
            let r = Refusal::from(e);
            assert_eq!(r.status, StatusCode::BAD_REQUEST);
            assert_eq!(r.why, text);
        }
    }
}
