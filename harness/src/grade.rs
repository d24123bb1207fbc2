//! Outcome grades: when an SP creates a session in a step it must reject, whose session is it?
//!
//! "The SP accepted a message it must refuse" covers two very different findings. An SP that
//! logs in the victim named in an XML-signature-wrapping forgery can be logged into as anyone:
//! an attacker got in. An SP that accepts the same wrapped response but logs in the identity
//! the broker genuinely signed for it in this flow ignored the forged part instead of refusing
//! it: not exploitable through this message, still a defect (the next parser or library
//! upgrade that reads the other element turns it into the first kind). Reporting both as
//! critical FAILs makes a team file security bugs that are not, and stop trusting the tool; so
//! the runner grades every such session from the oracle's identity:
//!
//! - [`Grade::ForgedIdentity`] — the session belongs to anyone other than the identity the
//!   broker genuinely signed for this SP in this flow (the victim of a forgery, a truncated or
//!   altered identity), or the message carries nothing the SP may log in at all: FAIL.
//! - [`Grade::SignedIdentity`] — the message carries an intact, valid signed login for this SP
//!   and flow next to a forged part, and the SP logged in exactly that signed identity: WARN.
//! - [`Grade::UnknownIdentity`] — such a message, but the oracle names no identity (a protected
//!   URL or the final status): it cannot be told, so it counts as FAIL and says why.
//!
//! Which messages carry an intact signed login is decided from the step's faults
//! ([`SignedPart::of`]): only faults that *add* a forged part (signature wrapping, an extra
//! unsigned assertion, a second root element) leave the genuine signed assertion untouched. A
//! message whose signed content is itself what the SP must refuse (expired, another audience,
//! a NemID-era form, a replay) or that is unsigned, foreign-signed or tampered carries no such
//! login: any session there is graded forged, whoever it names. For the grade to be decidable,
//! every forged part names an identity other than the flow's own ([`forged_identities`];
//! checked for the whole catalogue by this module's tests).

use crate::scenario::{Step, StepBody};
use mitid_mock_broker::Fault;
use mitid_mock_broker::dangerous::{
    DuplicateAttributeVariant, KeyInfoChoice, NamespaceVariant, SigningKeyChoice,
};
use mitid_mock_broker::oidc::OidcFault;
use serde::Serialize;

/// Whose session an SP created in a step it must reject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Grade {
    /// Someone other than the identity the broker genuinely signed for this SP in this flow, or
    /// a message that signs no acceptable login at all: exploitable (FAIL).
    ForgedIdentity,
    /// Exactly the identity of the intact signed login the message carried beside its forged
    /// part: the forged part was ignored rather than refused (WARN).
    SignedIdentity,
    /// The message carried both, and the oracle names no identity: undecidable (FAIL).
    UnknownIdentity,
}

impl Grade {
    /// The kebab-case name, as in the JSON report.
    pub fn as_str(self) -> &'static str {
        match self {
            Grade::ForgedIdentity => "forged-identity",
            Grade::SignedIdentity => "signed-identity",
            Grade::UnknownIdentity => "unknown-identity",
        }
    }
}

/// What a step's message carries that the broker genuinely signed for this SP in this flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignedPart {
    /// An intact, valid signed login for the flow's own identity, beside one or more forged
    /// parts naming other identities: an SP that logs in the flow's identity consumed the
    /// genuine content.
    Intact,
    /// No acceptable signed login: unsigned, signed with another key, tampered, a replay, or
    /// signed content that is itself what the SP must refuse.
    Nothing,
}

/// What one fault does to the genuine signed login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Effect {
    /// Leaves it intact and acceptable (an allowed variation).
    Keeps,
    /// Adds a forged part beside it and leaves it untouched.
    AddsForgery,
    /// Spoils it: unsigned, foreign key, tampered, or content the SP must refuse.
    Spoils,
}

/// The one exhaustive match: a new SAML fault does not compile until it says what it does to
/// the signed login. When in doubt, [`Effect::Spoils`]: grading a real forgery as harmless is
/// the one mistake this module must not make.
fn saml_effect(f: &Fault) -> Effect {
    match f {
        Fault::Xsw { .. }
        | Fault::AppendUnsignedAssertion { .. }
        | Fault::SignedElementAsFirstRoot { .. } => Effect::AddsForgery,
        Fault::SignResponse
        | Fault::RemoveNameFormat { .. }
        | Fault::SignWith {
            key: SigningKeyChoice::Idp | SigningKeyChoice::IdpNext,
        }
        | Fault::KeyInfo {
            cert: KeyInfoChoice::Signer | KeyInfoChoice::None,
        } => Effect::Keeps,
        Fault::Set { .. }
        | Fault::Remove { .. }
        | Fault::SetAttribute { .. }
        | Fault::RemoveAttribute { .. }
        | Fault::AddAudience { .. }
        | Fault::LegacyOiosaml2
        | Fault::AttributeProfile { .. }
        | Fault::Oiosaml303Assertion
        | Fault::Status { .. }
        | Fault::NoAssertion
        | Fault::SignWith {
            key: SigningKeyChoice::Oces2 | SigningKeyChoice::Attacker,
        }
        | Fault::KeyInfo {
            cert: KeyInfoChoice::KeyValue,
        }
        | Fault::UnsignedAssertion
        | Fault::Sha1
        | Fault::NoEncryption
        | Fault::EncryptWith { .. }
        | Fault::CommentInNameId { .. }
        | Fault::CommentInAttribute { .. }
        | Fault::DigestValueComment
        | Fault::TwoSignedInfo
        | Fault::SignedForeignElement { .. }
        | Fault::TamperAfterSigning { .. }
        | Fault::Doctype { .. }
        | Fault::ReplaceText { .. } => Effect::Spoils,
        // ---- issue 13: published SAML bypass advisories ----
        // The genuine signed assertion stays in the message, whole and verifiable (moved, its
        // Signature perhaps beside it); an evil one for another identity is added.
        Fault::XswDuplicateId { .. }
        | Fault::XswSignatureInEvil { .. }
        | Fault::XswAssertionSignatureOnResponse { .. } => Effect::AddsForgery,
        // The signed assertion stays intact and verifiable; the victim's Subject or CPR is
        // added inside its Signature, outside what the signature covers.
        Fault::SmuggleInSignature { .. } => Effect::AddsForgery,
        // The signed assertion itself is tampered (its NameID names another identity).
        Fault::DigestValueElsewhere { .. }
        | Fault::HmacKeyConfusion { .. }
        | Fault::SignatureError { .. }
        | Fault::VoidC14n { .. } => Effect::Spoils,
        // docs/advisories.md S9: the forged variants wrap the intact genuine assertion in an
        // evil one; the odd prefix is an allowed serialisation of the genuine assertion; an
        // undeclared prefix makes the message one the SP must refuse.
        Fault::NamespaceConfusion { variant, .. } => match variant {
            NamespaceVariant::WrongUriEvilFirst
            | NamespaceVariant::OddPrefixEvil
            | NamespaceVariant::DsWrongUri => Effect::AddsForgery,
            NamespaceVariant::GenuineOddPrefix => Effect::Keeps,
            NamespaceVariant::UndeclaredPrefix => Effect::Spoils,
        },
        // docs/advisories.md S10: a form Go's encoding/xml does not write back unchanged, outside
        // the intact genuine assertion; the message is not namespace-well-formed and must be
        // refused, but what an SP that accepts it logs in is the genuine identity.
        Fault::Roundtrip { .. } => Effect::Spoils,
        // docs/advisories.md S10, xmldom CVE-2021-21366: the forged variants wrap the genuine
        // assertion in an evil one that only a re-parse of xmldom ≤ 0.4.0's serialisation takes
        // for SAML; the controls are harmless duplicates that make the message not well-formed.
        Fault::DuplicateAttribute { variant, .. } => match variant {
            DuplicateAttributeVariant::XmlnsEvilFirst
            | DuplicateAttributeVariant::DefaultXmlnsEvilFirst => Effect::AddsForgery,
            DuplicateAttributeVariant::DefaultXmlnsSameUri
            | DuplicateAttributeVariant::PlainAttribute => Effect::Spoils,
        },
        // ---- issue 15: OIO BPP privileges ----
        // The signed assertion is the genuine user's, but what it grants is what the SP must
        // refuse (no required privilege within the user's own organisation): accepting it is
        // a privilege escalation ([`grants_unheld_privilege`]), never harmless.
        Fault::Privileges { .. } => Effect::Spoils,
        // docs/advisories.md S15: the signed value is rewritten (a PI holds part of it), so
        // the assertion no longer verifies under correct canonicalisation; what a reader sees
        // is the victim's value.
        Fault::PiInSignedText { .. } => Effect::Spoils,
    }
}

/// Whether a session in this step is a *privilege escalation* rather than a login as someone
/// else: the step's message is the genuine, correctly signed login of the flow's own user,
/// whose privilege list (`privileges`, or none at all) does not grant the privilege the SP
/// requires within the organisation the user logs in for. An SP that logs that user in has
/// granted a right the user holds only in another organisation, or under another name, or
/// not at all. The grade stays [`Grade::ForgedIdentity`] (the message signs no login this
/// SP may accept: FAIL); the report's message says which finding it is.
pub fn grants_unheld_privilege(step: &Step) -> bool {
    use mitid_mock_broker::saml::ns::attr::PRIVILEGES_INTERMEDIATE;
    match &step.body {
        StepBody::SamlLogin(l) => l.plan.faults.iter().any(|f| match f {
            Fault::Privileges { .. } => true,
            Fault::RemoveAttribute { name } => name == PRIVILEGES_INTERMEDIATE,
            _ => false,
        }),
        StepBody::OidcLogin(_)
        | StepBody::Replay
        | StepBody::IdpLogout(_)
        | StepBody::ForgedHeaders(_) => false,
    }
}

/// OIDC: no fault adds a forged part beside an intact signed login the RP could consume
/// whole. `userinfo-sub-mismatch` comes closest (the ID token is genuine), but userinfo exists
/// to deliver attributes: an RP that reads it without comparing `sub` has imported another
/// person's attributes even when its session key is right, which an identity oracle cannot
/// see. So every OIDC fault spoils.
fn oidc_effect(f: &OidcFault) -> Effect {
    match f {
        OidcFault::SetClaim { .. }
        | OidcFault::NullClaim { .. }
        | OidcFault::RemoveClaim { .. }
        | OidcFault::IssVariant { .. }
        | OidcFault::ExpiredExp { .. }
        | OidcFault::NbfInFuture { .. }
        | OidcFault::IatInFuture { .. }
        | OidcFault::ExtraAudience { .. }
        | OidcFault::BadSignature { .. }
        | OidcFault::AlgNone {}
        | OidcFault::KeyConfusionHs256 { .. }
        | OidcFault::HsEmptyKey { .. }
        | OidcFault::HsClientSecret { .. }
        | OidcFault::JweIdToken { .. }
        | OidcFault::UnknownKid { .. }
        | OidcFault::OmitKid {}
        | OidcFault::SignWithKey { .. }
        | OidcFault::JkuHeader { .. }
        | OidcFault::X5uHeader { .. }
        | OidcFault::EmbeddedJwk {}
        | OidcFault::UnknownCrit { .. }
        | OidcFault::StateWrong { .. }
        | OidcFault::StateMissing {}
        | OidcFault::IssParamWrong { .. }
        | OidcFault::IssParamMissing {}
        | OidcFault::AuthorizationError { .. }
        | OidcFault::CodeReplay {}
        | OidcFault::UserinfoSubMismatch { .. }
        | OidcFault::UserinfoOtherIdentity { .. } => Effect::Spoils,
    }
}

impl SignedPart {
    /// What the step's message carries: intact only when at least one fault adds a forged
    /// part and every other fault keeps the signed login acceptable. A replay resends a
    /// message the SP has already consumed, so it signs nothing acceptable.
    pub fn of(step: &Step) -> SignedPart {
        let effects: Vec<Effect> = match &step.body {
            StepBody::SamlLogin(l) => l.plan.faults.iter().map(saml_effect).collect(),
            StepBody::OidcLogin(l) => l.plan.faults.iter().map(oidc_effect).collect(),
            // A logout is judged by whether the session stays, never graded; forged headers
            // carry nothing signed at all.
            StepBody::Replay | StepBody::IdpLogout(_) | StepBody::ForgedHeaders(_) => {
                return SignedPart::Nothing;
            }
        };
        let adds = effects.contains(&Effect::AddsForgery);
        if adds && !effects.contains(&Effect::Spoils) {
            SignedPart::Intact
        } else {
            SignedPart::Nothing
        }
    }
}

/// Who a forged part names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ForgedIdentity {
    /// The broker's default victim: another identity of the same kind than the one logging in
    /// (never the same one; `StageContext::victim` in the broker).
    OtherThanLogin,
    /// This identity handle.
    Named(String),
    /// An OIDC `sub` value (userinfo).
    Sub(String),
}

/// The identities the forged parts of a step's message name, one per forging fault: what the
/// catalogue test checks differs from the flow's own identity, so that a session can be graded
/// from the oracle's identity alone.
pub fn forged_identities(step: &Step) -> Vec<ForgedIdentity> {
    let named = |v: &Option<String>| match v {
        Some(n) => ForgedIdentity::Named(n.clone()),
        None => ForgedIdentity::OtherThanLogin,
    };
    match &step.body {
        StepBody::SamlLogin(l) => l
            .plan
            .faults
            .iter()
            .filter_map(|f| match f {
                Fault::Xsw { victim, .. }
                | Fault::AppendUnsignedAssertion { victim }
                | Fault::SignedElementAsFirstRoot { victim }
                | Fault::TamperAfterSigning { victim } => Some(named(victim)),
                Fault::DigestValueComment | Fault::TwoSignedInfo => {
                    Some(ForgedIdentity::OtherThanLogin)
                }
                // issue 13
                Fault::XswDuplicateId { victim, .. }
                | Fault::XswSignatureInEvil { victim, .. }
                | Fault::XswAssertionSignatureOnResponse { victim, .. }
                | Fault::SmuggleInSignature { victim, .. }
                | Fault::PiInSignedText { victim, .. } => Some(named(victim)),
                Fault::NamespaceConfusion { variant, victim } if variant.forges() => {
                    Some(named(victim))
                }
                Fault::DuplicateAttribute { variant, victim } if variant.forges() => {
                    Some(named(victim))
                }
                Fault::DigestValueElsewhere { .. }
                | Fault::HmacKeyConfusion { .. }
                | Fault::SignatureError { .. }
                | Fault::VoidC14n { .. } => Some(ForgedIdentity::OtherThanLogin),
                _ => None,
            })
            .collect(),
        StepBody::OidcLogin(l) => l
            .plan
            .faults
            .iter()
            .filter_map(|f| match f {
                OidcFault::UserinfoSubMismatch { sub } => Some(match sub {
                    Some(s) => ForgedIdentity::Sub(s.clone()),
                    None => ForgedIdentity::OtherThanLogin,
                }),
                OidcFault::UserinfoOtherIdentity { identity } => {
                    Some(ForgedIdentity::Named(identity.clone()))
                }
                _ => None,
            })
            .collect(),
        // Forged headers name their victim in the step (another identity than any login's).
        StepBody::Replay | StepBody::IdpLogout(_) | StepBody::ForgedHeaders(_) => vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{Catalogue, Expect, Protocol};
    use mitid_mock_broker::IdentityStore;

    /// The catalogue's forgeries are decidable: every forged part names an identity other
    /// than the flow's own (an explicitly named victim differs from the step's identity, exists,
    /// and is never used with a step that logs in the SP's default identity, which the
    /// harness chooses per SP); the scenarios whose steps carry an intact signed login are the
    /// wrapping ones, all expected to be rejected.
    #[test]
    fn every_forgery_names_another_identity_than_the_signed_one() {
        let ids = IdentityStore::builtin();
        let mut intact = Vec::new();
        let mut forgeries = 0;
        for s in Catalogue::builtin().iter() {
            for (i, step) in s.steps.iter().enumerate() {
                let forged = forged_identities(step);
                forgeries += forged.len();
                for f in &forged {
                    match f {
                        ForgedIdentity::OtherThanLogin => {}
                        ForgedIdentity::Named(v) => {
                            assert!(
                                ids.get(v).is_some(),
                                "{} step {i}: unknown victim {v}",
                                s.id
                            );
                            let login = step.identity().unwrap_or_else(|| {
                                panic!(
                                    "{} step {i}: names victim {v} but logs in the SP's default identity, which may be {v}",
                                    s.id
                                )
                            });
                            assert_ne!(login, v, "{} step {i}: the victim is the login", s.id);
                            let (a, b) = (ids.get(login).unwrap(), ids.get(v).unwrap());
                            assert_ne!(a.uuid, b.uuid, "{}: same UUID", s.id);
                            assert_ne!(a.name_id(), b.name_id(), "{}: same NameID", s.id);
                        }
                        ForgedIdentity::Sub(sub) => {
                            for i in ids.iter() {
                                assert_ne!(sub, &i.uuid.to_string(), "{}: sub of {}", s.id, i.id);
                            }
                        }
                    }
                }
                if SignedPart::of(step) == SignedPart::Intact {
                    assert!(!forged.is_empty(), "{}: intact without a forged part", s.id);
                    assert_eq!(step.expect, Expect::Reject, "{}", s.id);
                    intact.push(s.id.clone());
                }
            }
        }
        assert!(forgeries >= 15, "only {forgeries} forged parts found");
        // The wrapping family and the two extra-element forgeries, nothing else.
        let mut want: Vec<String> = (1..=8).map(|n| format!("xsw.{n}")).collect();
        want.extend([
            "signature.signed-element-as-first-root".to_string(),
            "signature.two-assertions-first-signed".to_string(),
        ]);
        // issue 13: the wrapping advisories (the multi-step ones once per step).
        for (id, steps) in [
            ("xsw.assertion-signature-on-response", 2),
            ("xsw.duplicate-id-after", 2),
            ("xsw.duplicate-id-extensions", 2),
            ("xsw.duplicate-id-nested", 2),
            ("xsw.duplicate-id-wrapper", 2),
            ("xsw.signature-in-evil-extensions", 1),
            ("xsw.signature-in-evil-nested", 1),
            ("xsw.signature-in-evil-wrapper", 1),
            // S9: the evil assertion wraps the intact genuine one (its prefix bound elsewhere).
            ("xsw.namespace-odd-prefix", 1),
            ("xsw.namespace-wrong-uri", 2),
            // S13: the genuine assertion intact, the victim's content inside its Signature.
            ("xsw.smuggled-cpr-in-signature", 2),
            ("xsw.smuggled-subject-in-signature", 2),
        ] {
            want.extend(std::iter::repeat_n(id.to_string(), steps));
        }
        intact.sort();
        want.sort();
        assert_eq!(intact, want);
    }

    /// The broker's default victim really is another identity of the same kind, for every
    /// built-in identity: what [`ForgedIdentity::OtherThanLogin`] relies on.
    #[test]
    fn the_default_victim_differs_from_every_login() {
        let ids = IdentityStore::builtin();
        for login in ids.iter() {
            let victim = ids
                .iter()
                .find(|i| i.kind == login.kind && i.id != login.id)
                .or_else(|| ids.iter().find(|i| i.id != login.id))
                .expect("a second identity");
            assert_ne!(victim.uuid, login.uuid, "{}", login.id);
        }
    }

    #[test]
    fn spoiling_faults_win_and_replays_sign_nothing() {
        let cat = Catalogue::builtin();
        let xsw = cat.get("xsw.3").unwrap();
        assert_eq!(SignedPart::of(&xsw.steps[0]), SignedPart::Intact);
        let mut spoiled = xsw.steps[0].clone();
        if let StepBody::SamlLogin(l) = &mut spoiled.body {
            l.plan.faults.push(Fault::UnsignedAssertion);
        }
        assert_eq!(SignedPart::of(&spoiled), SignedPart::Nothing);
        let replay = cat
            .iter()
            .flat_map(|s| s.steps.iter())
            .find(|s| s.body == StepBody::Replay)
            .unwrap();
        assert_eq!(SignedPart::of(replay), SignedPart::Nothing);
        for s in cat.iter().filter(|s| s.protocol == Protocol::Oidc) {
            for st in &s.steps {
                assert_eq!(SignedPart::of(st), SignedPart::Nothing, "{}", s.id);
            }
        }
    }
}
