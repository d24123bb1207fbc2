//! The dangerous API for IdP-initiated logout: every deliberately broken LogoutRequest the
//! broker can send an SP.
//!
//! A separate, small vocabulary beside [`Fault`](super::Fault): a LogoutRequest is not a
//! Response, and the faults that matter for it are the ones an SP's SLO endpoint must refuse
//! (OIOSAML.Java `servlet/LogoutRequestHandler.java` validates the signature against the IdP
//! metadata, the Issuer, and the NameID of the session before it ends one). Like the SAML
//! faults, each fault is one function, and [`LogoutFault::stage`] is the one exhaustive match
//! that gives every variant its stage: on the **model** (before any XML), on the **crypto**
//! (which key signs, or none), or on the **query** of the Redirect binding (issue 13, S14: the
//! broker builds a genuinely signed query string and then edits it, because the Redirect
//! binding signs the raw query octets, SAML Bindings 3.4.4.1, not the XML).

use super::SigningKeyChoice;
use serde::{Deserialize, Serialize};
use time::Duration;

/// One deliberate defect in an IdP-initiated LogoutRequest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "fault", rename_all = "kebab-case", deny_unknown_fields)]
pub enum LogoutFault {
    /// No signature at all: no `Signature`/`SigAlg` query parameters on the Redirect binding,
    /// no `ds:Signature` on the POST binding.
    Unsigned,
    /// Signed with another key than the one in the IdP metadata (the OCES2 key of the
    /// NemLog-in2 era, or the attacker's self-signed one).
    SignWith {
        /// The key.
        key: SigningKeyChoice,
    },
    /// The Issuer is this value instead of the broker's entityID.
    Issuer {
        /// The Issuer text.
        value: String,
    },
    /// The NameID (and SessionIndex) of another identity's login: a logout for someone else.
    NameIdOf {
        /// The identity handle whose NameID is sent.
        identity: String,
    },
    /// `NotOnOrAfter` this many minutes in the past (beyond any clock skew an SP allows).
    Expired {
        /// Minutes in the past (default 10).
        #[serde(default = "ten")]
        minutes: i64,
    },
    /// The LogoutRequest itself unsigned (no query signature, no own `ds:Signature`), carrying
    /// a `saml:Assertion` genuinely signed with the IdP key for `identity` (as an attacker's
    /// own captured login would be) at `place` (samlify GHSA-63ch-w8pw-4mf2, Keycloak
    /// CVE-2026-133430). An SP that accepts the message because *some* signature inside it
    /// verifies with the IdP key ends the victim's session.
    WrappedSignedAssertion {
        /// Where the signed assertion goes.
        place: WrappedPlace,
        /// Whose assertion it is (default: an identity other than the session's).
        #[serde(default)]
        identity: Option<String>,
    },
    // ---- S14: Redirect-binding query-string differentials (query stage) ----
    /// Two `SAMLRequest` parameters: a forged, unsigned LogoutRequest for the session's own
    /// NameID and SessionIndex (forced logout of the victim), and a LogoutRequest NemLog-in
    /// genuinely signed for *another* identity's session (the attacker's own logout, captured),
    /// with its `SigAlg` and `Signature`. An SP that verifies one occurrence and processes the
    /// other ends the victim's session (simplesamlphp/saml2 < 4.17.0 CVE-2025-27773, whose fix
    /// refuses duplicated parameters; Keycloak CVE-2026-18217 for first-vs-last). Redirect
    /// binding only.
    DuplicateParam {
        /// Which of the two comes first.
        order: DuplicateOrder,
    },
    /// `SAMLRequest=<forged, unsigned LogoutRequest for the session>&` prepended to a
    /// LogoutResponse query NemLog-in genuinely signed (`SAMLResponse=…&SigAlg=…&Signature=…`,
    /// as it answers an SP-initiated logout): simplesamlphp/saml2 < 4.17.0 (CVE-2025-27773,
    /// GHSA-46r4-f8gj-xg56) rebuilt the signed string from the last of SAMLRequest/SAMLResponse
    /// and processed SAMLRequest. Redirect binding only.
    RequestAndResponse,
    /// The captured, genuinely signed query of [`LogoutFault::DuplicateParam`] followed by the
    /// forged LogoutRequest under a percent-encoded parameter name (`%53AMLRequest`, or another
    /// character encoded, in lower-case hex: `SAM%4cRequest`): a signature check that matches
    /// literal names verifies the signed one, a parser that decodes names processes the forged
    /// one (CVE-2026-117691). Redirect binding only.
    EncodedParamName {
        /// The parameter name as sent; it must percent-decode to `SAMLRequest` and not be it.
        #[serde(default = "encoded_saml_request")]
        name: String,
    },
    /// NemLog-in's genuine, signed LogoutRequest for the session with a `RelayState`, and then
    /// `=<appended>` added to the RelayState value after signing (`RelayState=<signed>=<url>`):
    /// a signature check that splits the pair at every `=` verifies the signed prefix while the
    /// application reads the whole value (Sustainsys.Saml2 CVE-2026-134822). The LogoutRequest
    /// itself is NemLog-in's; only the RelayState is tampered with. Redirect binding only.
    RelayStateExtraEquals {
        /// What is appended after the extra `=` (default: an attacker's URL).
        #[serde(default = "attacker_url")]
        appended: String,
    },
    /// A forged, unsigned LogoutRequest for the session with signature parameters that make a
    /// verify primitive *error* rather than fail: a `SigAlg` that does not fit NemLog-in's RSA
    /// key (DSA-SHA1, HMAC-SHA256, an unknown URI), a `Signature` that is not base64, or an
    /// empty one (simplesamlphp/saml2 CVE-2018-7711: `if (!$key->verifySignature(...))` read
    /// OpenSSL's -1 as true; fix 4f6af7f6 compares with `!== 1`). Redirect binding only.
    SignatureError {
        /// Which error.
        form: SignatureErrorForm,
    },
}

/// The order of [`LogoutFault::DuplicateParam`]'s two `SAMLRequest` parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DuplicateOrder {
    /// The forged one first, then the signed query (an SP that verifies the last occurrence
    /// and processes the first is fooled).
    ForgedFirst,
    /// The signed query first, then the forged one (an SP that verifies the first occurrence
    /// and processes the last is fooled).
    SignedFirst,
}

/// The signature parameters of [`LogoutFault::SignatureError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SignatureErrorForm {
    /// `SigAlg` = `http://www.w3.org/2000/09/xmldsig#dsa-sha1` (not an RSA algorithm).
    DsaSha1,
    /// `SigAlg` = `http://www.w3.org/2001/04/xmldsig-more#hmac-sha256`.
    HmacSha256,
    /// `SigAlg` = a URI no library knows.
    UnknownAlg,
    /// `SigAlg` rsa-sha256, `Signature` not base64.
    NotBase64,
    /// `SigAlg` rsa-sha256, `Signature` empty.
    Empty,
}

impl SignatureErrorForm {
    /// The `SigAlg` URI sent.
    pub fn sig_alg(self) -> &'static str {
        match self {
            SignatureErrorForm::DsaSha1 => "http://www.w3.org/2000/09/xmldsig#dsa-sha1",
            SignatureErrorForm::HmacSha256 => "http://www.w3.org/2001/04/xmldsig-more#hmac-sha256",
            SignatureErrorForm::UnknownAlg => "urn:mock:unknown-signature-algorithm",
            SignatureErrorForm::NotBase64 | SignatureErrorForm::Empty => {
                crate::saml::ns::ALG_RSA_SHA256
            }
        }
    }
}

fn encoded_saml_request() -> String {
    "%53AMLRequest".into()
}

fn attacker_url() -> String {
    "https://attacker.example/after-logout".into()
}

/// Where [`LogoutFault::WrappedSignedAssertion`] puts the signed assertion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WrappedPlace {
    /// A direct child of the LogoutRequest, after the Issuer (where samlify's
    /// `/*[local-name()='LogoutRequest']/*[local-name()='Assertion']/*[local-name()='Signature']`
    /// lookup finds it).
    Child,
    /// Inside `samlp:Extensions` after the Issuer (the schema-valid place; Keycloak's
    /// signature lookup searched the whole message).
    Extensions,
}

fn ten() -> i64 {
    10
}

/// Where in building a LogoutRequest a fault acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LogoutStage {
    /// On the [`LogoutRequestModel`], before any XML.
    Model,
    /// On the signing decision.
    Crypto,
    /// On the Redirect binding's query string, after a genuine signature was made: the query
    /// stage builds its own messages (a captured, IdP-signed one and a forged, unsigned one).
    Query,
}

/// The LogoutRequest as data, before it is written and signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoutRequestModel {
    /// `ID`.
    pub id: String,
    /// `IssueInstant`.
    pub issue_instant: time::OffsetDateTime,
    /// `NotOnOrAfter`.
    pub not_on_or_after: time::OffsetDateTime,
    /// `Destination`: the SP's SingleLogoutService location from its metadata.
    pub destination: String,
    /// `Issuer`.
    pub issuer: String,
    /// `NameID`.
    pub name_id: String,
    /// `NameID/@Format`.
    pub name_id_format: String,
    /// `SessionIndex`, when the login had one.
    pub session_index: Option<String>,
}

/// How the LogoutRequest is signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LogoutSigning {
    /// Not at all.
    Unsigned,
    /// With this key.
    Key(SigningKeyChoice),
}

/// What a fault needs to know besides the model.
pub(crate) struct LogoutFaultContext<'a> {
    /// The broker's identities (for [`LogoutFault::NameIdOf`]).
    pub identities: &'a crate::identity::IdentityStore,
    /// The broker's clock, now.
    pub now: time::OffsetDateTime,
}

/// Why a logout fault could not be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogoutFaultError {
    /// `name-id-of` names an identity the broker does not have.
    #[error("logout fault name-id-of: unknown identity {0:?}")]
    UnknownIdentity(String),
    /// A query-string fault on a binding without a query string.
    #[error(
        "logout fault {0}: edits the Redirect binding's query string; send it with binding = \"redirect\""
    )]
    QueryFaultNeedsRedirect(&'static str),
    /// `encoded-param-name` with a name that does not percent-decode to `SAMLRequest` (or is it).
    #[error(
        "logout fault encoded-param-name: {0:?} must be a percent-encoded spelling of SAMLRequest"
    )]
    NotAnEncodedName(String),
}

impl LogoutFault {
    /// The stage this fault acts at. Exhaustive: a new fault does not compile until it has one.
    pub(crate) fn stage(&self) -> LogoutStage {
        match self {
            LogoutFault::Unsigned
            | LogoutFault::SignWith { .. }
            | LogoutFault::WrappedSignedAssertion { .. } => LogoutStage::Crypto,
            LogoutFault::Issuer { .. }
            | LogoutFault::NameIdOf { .. }
            | LogoutFault::Expired { .. } => LogoutStage::Model,
            LogoutFault::DuplicateParam { .. }
            | LogoutFault::RequestAndResponse
            | LogoutFault::EncodedParamName { .. }
            | LogoutFault::RelayStateExtraEquals { .. }
            | LogoutFault::SignatureError { .. } => LogoutStage::Query,
        }
    }

    /// The fault's kebab-case name (as in scenario files).
    pub fn name(&self) -> &'static str {
        match self {
            LogoutFault::Unsigned => "unsigned",
            LogoutFault::SignWith { .. } => "sign-with",
            LogoutFault::Issuer { .. } => "issuer",
            LogoutFault::NameIdOf { .. } => "name-id-of",
            LogoutFault::Expired { .. } => "expired",
            LogoutFault::WrappedSignedAssertion { .. } => "wrapped-signed-assertion",
            LogoutFault::DuplicateParam { .. } => "duplicate-param",
            LogoutFault::RequestAndResponse => "request-and-response",
            LogoutFault::EncodedParamName { .. } => "encoded-param-name",
            LogoutFault::RelayStateExtraEquals { .. } => "relay-state-extra-equals",
            LogoutFault::SignatureError { .. } => "signature-error",
        }
    }

    /// Apply a model-stage fault (crypto faults leave the model alone).
    pub(crate) fn apply_model(
        &self,
        m: &mut LogoutRequestModel,
        cx: &LogoutFaultContext<'_>,
    ) -> Result<(), LogoutFaultError> {
        match self {
            LogoutFault::Issuer { value } => set_issuer(m, value),
            LogoutFault::NameIdOf { identity } => name_id_of(m, identity, cx)?,
            LogoutFault::Expired { minutes } => expired(m, *minutes, cx.now),
            LogoutFault::Unsigned
            | LogoutFault::SignWith { .. }
            | LogoutFault::WrappedSignedAssertion { .. }
            | LogoutFault::DuplicateParam { .. }
            | LogoutFault::RequestAndResponse
            | LogoutFault::EncodedParamName { .. }
            | LogoutFault::RelayStateExtraEquals { .. }
            | LogoutFault::SignatureError { .. } => {}
        }
        Ok(())
    }

    /// Apply a crypto-stage fault to the signing decision (model faults leave it alone).
    pub(crate) fn apply_crypto(&self, signing: &mut LogoutSigning) {
        match self {
            LogoutFault::Unsigned | LogoutFault::WrappedSignedAssertion { .. } => {
                *signing = LogoutSigning::Unsigned
            }
            LogoutFault::SignWith { key } => *signing = LogoutSigning::Key(*key),
            LogoutFault::Issuer { .. }
            | LogoutFault::NameIdOf { .. }
            | LogoutFault::Expired { .. }
            | LogoutFault::DuplicateParam { .. }
            | LogoutFault::RequestAndResponse
            | LogoutFault::EncodedParamName { .. }
            | LogoutFault::RelayStateExtraEquals { .. }
            | LogoutFault::SignatureError { .. } => {}
        }
    }
}

fn set_issuer(m: &mut LogoutRequestModel, value: &str) {
    m.issuer = value.to_string();
}

fn name_id_of(
    m: &mut LogoutRequestModel,
    identity: &str,
    cx: &LogoutFaultContext<'_>,
) -> Result<(), LogoutFaultError> {
    let other = cx
        .identities
        .get(identity)
        .ok_or_else(|| LogoutFaultError::UnknownIdentity(identity.to_string()))?;
    m.name_id = other.name_id();
    // The other identity's login would have had its own session; the SP has never seen one.
    m.session_index = Some(format!("{}-of-{identity}", m.id));
    Ok(())
}

fn expired(m: &mut LogoutRequestModel, minutes: i64, now: time::OffsetDateTime) {
    let when = now - Duration::minutes(minutes.max(0));
    m.not_on_or_after = when;
    m.issue_instant = when - Duration::minutes(5);
}

/// The signed assertion a plan asks to wrap into the (unsigned) LogoutRequest, if any: the
/// last [`LogoutFault::WrappedSignedAssertion`] wins.
pub(crate) fn wrapped(faults: &[LogoutFault]) -> Option<(WrappedPlace, Option<&str>)> {
    faults.iter().rev().find_map(|f| match f {
        LogoutFault::WrappedSignedAssertion { place, identity } => {
            Some((*place, identity.as_deref()))
        }
        LogoutFault::Unsigned
        | LogoutFault::SignWith { .. }
        | LogoutFault::Issuer { .. }
        | LogoutFault::NameIdOf { .. }
        | LogoutFault::Expired { .. }
        | LogoutFault::DuplicateParam { .. }
        | LogoutFault::RequestAndResponse
        | LogoutFault::EncodedParamName { .. }
        | LogoutFault::RelayStateExtraEquals { .. }
        | LogoutFault::SignatureError { .. } => None,
    })
}

/// The query edit a plan asks for, if any: the last query-stage fault wins (each one builds
/// the whole query). An `encoded-param-name` whose name is not a percent-encoded spelling of
/// `SAMLRequest` is refused here, before anything is built.
pub(crate) fn query_edit(faults: &[LogoutFault]) -> Result<Option<&LogoutFault>, LogoutFaultError> {
    let Some(edit) = faults
        .iter()
        .rev()
        .find(|f| f.stage() == LogoutStage::Query)
    else {
        return Ok(None);
    };
    if let LogoutFault::EncodedParamName { name } = edit {
        let decoded = url::form_urlencoded::parse(format!("{name}=").as_bytes())
            .next()
            .map(|(k, _)| k.into_owned());
        if name == "SAMLRequest" || decoded.as_deref() != Some("SAMLRequest") {
            return Err(LogoutFaultError::NotAnEncodedName(name.clone()));
        }
    }
    Ok(Some(edit))
}

/// Apply a plan's faults: model faults in order, then the last crypto choice wins.
pub(crate) fn apply(
    faults: &[LogoutFault],
    m: &mut LogoutRequestModel,
    cx: &LogoutFaultContext<'_>,
) -> Result<LogoutSigning, LogoutFaultError> {
    let mut signing = LogoutSigning::Key(SigningKeyChoice::Idp);
    for f in faults {
        match f.stage() {
            LogoutStage::Model => f.apply_model(m, cx)?,
            LogoutStage::Crypto => f.apply_crypto(&mut signing),
            // Applied where the Redirect query is built (`saml::idp_logout`).
            LogoutStage::Query => {}
        }
    }
    Ok(signing)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> LogoutRequestModel {
        let now = time::macros::datetime!(2026-01-01 12:00 UTC);
        LogoutRequestModel {
            id: "_lo1".into(),
            issue_instant: now,
            not_on_or_after: now + Duration::minutes(5),
            destination: "https://sp.example/slo".into(),
            issuer: "https://saml.nemlog-in.dk".into(),
            name_id: "x".into(),
            name_id_format: crate::saml::ns::NAMEID_PERSISTENT.into(),
            session_index: Some("_s1".into()),
        }
    }

    #[test]
    fn faults_parse_from_scenario_toml_and_apply_at_their_stage() {
        #[derive(Deserialize)]
        struct F {
            f: Vec<LogoutFault>,
        }
        let f: F = toml::from_str(
            r#"f = [{ fault = "unsigned" }, { fault = "issuer", value = "https://x" }, { fault = "expired" }, { fault = "sign-with", key = "oces2" }]"#,
        )
        .unwrap();
        assert_eq!(f.f[2], LogoutFault::Expired { minutes: 10 });
        let ids = crate::identity::IdentityStore::builtin();
        let now = time::macros::datetime!(2026-01-01 12:00 UTC);
        let cx = LogoutFaultContext {
            identities: &ids,
            now,
        };
        let mut m = model();
        let signing = apply(&f.f, &mut m, &cx).unwrap();
        assert_eq!(signing, LogoutSigning::Key(SigningKeyChoice::Oces2));
        assert_eq!(m.issuer, "https://x");
        assert_eq!(m.not_on_or_after, now - Duration::minutes(10));
        let mut m = model();
        let e = apply(
            &[LogoutFault::NameIdOf {
                identity: "nobody".into(),
            }],
            &mut m,
            &cx,
        )
        .unwrap_err();
        assert_eq!(e, LogoutFaultError::UnknownIdentity("nobody".into()));
        assert!(toml::from_str::<F>(r#"f = [{ fault = "issuer", value = "x", y = 1 }]"#).is_err());
    }

    #[test]
    fn query_faults_parse_and_the_last_one_is_the_edit() {
        #[derive(Deserialize)]
        struct F {
            f: Vec<LogoutFault>,
        }
        let f: F = toml::from_str(
            r#"f = [{ fault = "duplicate-param", order = "forged-first" }, { fault = "encoded-param-name" }, { fault = "unsigned" }]"#,
        )
        .unwrap();
        assert_eq!(f.f[1].stage(), LogoutStage::Query);
        assert_eq!(
            query_edit(&f.f).unwrap(),
            Some(&LogoutFault::EncodedParamName {
                name: "%53AMLRequest".into()
            })
        );
        let lower = [LogoutFault::EncodedParamName {
            name: "SAM%4cRequest".into(),
        }];
        assert!(query_edit(&lower).unwrap().is_some());
        for bad in ["SAMLRequest", "%53AMLResponse"] {
            let f = [LogoutFault::EncodedParamName { name: bad.into() }];
            assert_eq!(
                query_edit(&f).unwrap_err(),
                LogoutFaultError::NotAnEncodedName(bad.into())
            );
        }
        let f: F = toml::from_str(
            r#"f = [{ fault = "signature-error", form = "dsa-sha1" }, { fault = "relay-state-extra-equals" }, { fault = "request-and-response" }]"#,
        )
        .unwrap();
        assert_eq!(
            f.f[1],
            LogoutFault::RelayStateExtraEquals {
                appended: "https://attacker.example/after-logout".into()
            }
        );
        assert_eq!(
            query_edit(&f.f).unwrap(),
            Some(&LogoutFault::RequestAndResponse)
        );
        assert!(query_edit(&[LogoutFault::Unsigned]).unwrap().is_none());
    }
}
