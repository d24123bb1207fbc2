//! The dangerous API for IdP-initiated logout: every deliberately broken LogoutRequest the
//! broker can send an SP.
//!
//! A separate, small vocabulary beside [`Fault`](super::Fault): a LogoutRequest is not a
//! Response, and the faults that matter for it are the ones an SP's SLO endpoint must refuse
//! (OIOSAML.Java `servlet/LogoutRequestHandler.java` validates the signature against the IdP
//! metadata, the Issuer, and the NameID of the session before it ends one). Like the SAML
//! faults, each fault is one function, and [`LogoutFault::stage`] is the one exhaustive match
//! that gives every variant its stage: on the **model** (before any XML) or on the **crypto**
//! (which key signs, or none).

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
            | LogoutFault::WrappedSignedAssertion { .. } => {}
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
            | LogoutFault::Expired { .. } => {}
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
        | LogoutFault::Expired { .. } => None,
    })
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
}
