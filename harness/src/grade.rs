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
//! - [`Grade::MalformedMessage`] — the message is malformed around an intact, valid signed login
//!   (a DOCTYPE, a namespace error, a form a parser does not round-trip) and the SP logged in
//!   exactly that signed identity: no identity was forged, but an SP that accepts such input has
//!   the parser differential signature bypasses exploit, so it stays a FAIL whose report says
//!   what it let through (only a malformed message).
//! - [`Grade::UnknownIdentity`] — a message carrying an intact signed login (beside a forged
//!   part, or inside a malformed message), but the oracle names no identity (a protected URL or
//!   the final status): it cannot be told, so it counts as FAIL and says why.
//!
//! Which messages carry an intact signed login is decided from the step's faults
//! ([`SignedPart::of`]): only faults that *add* a forged part (signature wrapping, an extra
//! unsigned assertion, a second root element) or that malform the message *around* the
//! genuine assertion (and name nobody) leave the genuine signed assertion untouched. A
//! message whose signed content is itself what the SP must refuse (expired, another audience,
//! a NemID-era form, a replay) or that is unsigned, foreign-signed or tampered carries no such
//! login: any session there is graded forged, whoever it names. For the grade to be decidable,
//! every forged part names an identity other than the flow's own ([`forged_identities`];
//! checked for the whole catalogue by this module's tests).

use crate::scenario::{Step, StepBody};
use mitid_mock_broker::Fault;
use mitid_mock_broker::dangerous::{
    DoctypeSubset, DuplicateAttributeVariant, KeyInfoChoice, NamespaceVariant, RoundtripVariant,
    SigningKeyChoice,
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
    /// The message carried an intact signed login (beside a forged part, or in a malformed
    /// message), and the oracle names no identity: undecidable (FAIL).
    UnknownIdentity,
    /// Exactly the identity of the intact signed login inside a message that is malformed
    /// around it (a DOCTYPE, not namespace-well-formed, a form Go's encoding/xml does not
    /// round-trip, an invalid JWS header): nobody's identity was forged, but the SP accepted a
    /// message it must refuse before reading it, the parser differential that published
    /// signature bypasses exploit (FAIL).
    MalformedMessage,
}

impl Grade {
    /// The kebab-case name, as in the JSON report.
    pub fn as_str(self) -> &'static str {
        match self {
            Grade::ForgedIdentity => "forged-identity",
            Grade::SignedIdentity => "signed-identity",
            Grade::UnknownIdentity => "unknown-identity",
            Grade::MalformedMessage => "malformed-message",
        }
    }

    /// What the grade means, in a phrase for readers of the HTML and terminal reports.
    pub fn meaning(self) -> &'static str {
        match self {
            Grade::ForgedIdentity => {
                "the session is not the identity the broker signed for this flow, or the message signs no login the SP may accept: exploitable"
            }
            Grade::SignedIdentity => {
                "the SP logged in the identity the broker signed and ignored the forged part: not exploitable through this message"
            }
            Grade::UnknownIdentity => {
                "the oracle names no identity: whether the session is the signed or a forged one cannot be told"
            }
            Grade::MalformedMessage => {
                "the SP accepted a malformed message; the session is the genuine signed user: no identity forged"
            }
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
    /// An intact, valid signed login for the flow's own identity inside a message that is
    /// malformed around it (and must be refused for that alone), perhaps also beside forged
    /// parts naming other identities: an SP that logs in the flow's identity accepted a
    /// malformed message, nobody's identity was forged.
    Malformed,
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
    /// Leaves it untouched, intact and verifiable, names no identity at all, but makes the
    /// message around it one the SP must refuse unread: a DOCTYPE, a document that is not
    /// namespace-well-formed, a token form a parser does not write back unchanged, an invalid
    /// JWS header. Whatever an SP that accepts it logs in, the signed login is the only
    /// identity the message carries.
    Malforms,
    /// Both at once: adds a forged part naming another identity beside the intact, verifiable
    /// genuine signed login, *and* makes the message one the SP must refuse unread (a DTD
    /// whose entity gives the forged part the genuine part's ID). A session for the forged
    /// part's identity is the forgery; one for the signed identity came from a malformed
    /// message the SP should never have read.
    MalformsBesideForgery,
    /// Spoils it: unsigned, foreign key, tampered, or content the SP must refuse.
    Spoils,
}

/// The one exhaustive match: a new SAML fault does not compile until it says what it does to
/// the signed login. When in doubt, [`Effect::Spoils`]: grading a real forgery as harmless is
/// the one mistake this module must not make.
///
/// How to classify a new fault (or a new variant of `Doctype`, `NamespaceConfusion`,
/// `Roundtrip`, which are matched variant by variant for this reason):
///
/// - [`Effect::Keeps`]: the message is one a correct SP accepts (an allowed variation).
/// - [`Effect::AddsForgery`]: the genuine signed assertion stays in the message byte for byte
///   and verifies, and the fault *adds* a part naming another identity; list that part in
///   [`forged_identities`] (the catalogue test checks it names someone else).
/// - [`Effect::Malforms`]: the genuine signed assertion stays byte for byte and verifies, the
///   fault changes only the message around it (outside what the signature covers and outside
///   anything an SP reads an identity or attribute from) so that it must be refused unread,
///   and the change names no identity, truncated or whole. A fault that lets some reader see a
///   different NameID or attribute value (an entity or comment in signed text) is not this,
///   even when the signature still verifies: that is [`Effect::Spoils`].
/// - [`Effect::Spoils`]: everything else: unsigned, foreign-signed or tampered content, signed
///   content the SP must refuse (expired, another audience, a policy it must enforce), content
///   a reader can see as another identity, or anything you are not sure of.
///
/// A fault whose message also names a victim (an entity or ID trick that makes the verifier
/// check one element and the reader read another, e.g. an entity-reference ID) is never
/// `Malforms`, however malformed its message: `AddsForgery` when the genuine signed assertion
/// is byte for byte intact beside the victim's in a well-formed message,
/// [`Effect::MalformsBesideForgery`] when it is intact beside the victim's in a message the SP
/// must refuse unread (a DTD), `Spoils` otherwise. A round-trip form outside
/// the signed assertion that names nobody (another `RoundtripVariant`) is `Malforms`.
///
/// Then add the scenario to the expected list in `every_forgery_names_another_identity_than_the_signed_one`
/// (and, for `Malformed`, to `MALFORMED` in tests/tests/saml_discrimination.rs) when it
/// becomes [`SignedPart::Intact`] or [`SignedPart::Malformed`].
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
        | Fault::ReplaceText { .. } => Effect::Spoils,
        // docs/advisories.md S8: SAML core §1.3.1 forbids a DTD in a SAML message, so every
        // DOCTYPE makes the message one the SP must refuse before reading it. The DOCTYPE is
        // prepended to the finished Response; what else each subset changes decides its effect.
        Fault::Doctype { subset } => match subset {
            // The `&xxe;` reference sits in the Response's own (unsigned) Issuer, outside the
            // signed, encrypted assertion; an SP that fetches the entity is failed as XXE by
            // the runner before any grade. Nothing names an identity.
            DoctypeSubset::ExternalEntity
            // Nothing but `<!DOCTYPE samlp:Response>`: the document is otherwise the genuine one.
            | DoctypeSubset::Bare
            // `<!ATTLIST … ID ID #IMPLIED>` declares the IDs the elements already carry and
            // no default value, so the parsed document has exactly the genuine content.
            | DoctypeSubset::Attlist
            // A comment in the internal subset (its `ds:Signature`-looking text signs nothing
            // and names nobody); the document after the DOCTYPE is the genuine one.
            | DoctypeSubset::CommentMarkup
            // The entity completes `Response/@Destination`, an unsigned attribute of the
            // Response that names no identity; the assertion is untouched.
            | DoctypeSubset::InternalEntity => Effect::Malforms,
            // The entity holds the tail of the *signed NameID*: the signature verifies, but a
            // reader that drops entity references sees a truncated identity (XMLTooling
            // CVE-2018-0486), an identity the broker never signed.
            DoctypeSubset::EntityInNameId => Effect::Spoils,
        },
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
        // evil one; the odd prefix is an allowed serialisation of the genuine assertion.
        Fault::NamespaceConfusion { variant, .. } => match variant {
            NamespaceVariant::WrongUriEvilFirst
            | NamespaceVariant::OddPrefixEvil
            | NamespaceVariant::DsWrongUri => Effect::AddsForgery,
            NamespaceVariant::GenuineOddPrefix => Effect::Keeps,
            // `<nlx:LoginHint>` with `nlx` declared nowhere, in the Response's samlp:Extensions
            // (document stage, after signing and encryption): not namespace-well-formed, so
            // refused unread; the assertion is untouched and the element names nobody.
            NamespaceVariant::UndeclaredPrefix => Effect::Malforms,
        },
        // docs/advisories.md S10: a form Go's encoding/xml does not write back unchanged,
        // inserted into the Response's samlp:Extensions after signing and encryption (outside
        // the intact genuine assertion); the message is not namespace-well-formed and must be
        // refused, and its element holds only the text `mitid` (no identity), so what an SP
        // that accepts it logs in is the genuine identity or someone it made up.
        Fault::Roundtrip { variant } => match variant {
            RoundtripVariant::AttrXmlnsPrefix
            | RoundtripVariant::DirectiveInElement
            | RoundtripVariant::DoubleColonName => Effect::Malforms,
        },
        // docs/advisories.md S10, xmldom CVE-2021-21366: a start tag with the same attribute
        // twice is not well-formed, so every variant's message must be refused unread. The
        // forged variants wrap the intact genuine signed assertion in an evil one for the victim
        // (which only a re-parse of xmldom ≤ 0.4.0's serialisation takes for SAML); the
        // controls put a duplicate that names nobody in the Response's samlp:Extensions.
        Fault::DuplicateAttribute { variant, .. } => match variant {
            DuplicateAttributeVariant::XmlnsEvilFirst
            | DuplicateAttributeVariant::DefaultXmlnsEvilFirst => Effect::MalformsBesideForgery,
            DuplicateAttributeVariant::DefaultXmlnsSameUri
            | DuplicateAttributeVariant::PlainAttribute => Effect::Malforms,
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
        // docs/advisories.md S8 remainder: the genuine signed assertion stays whole and
        // verifiable (its Signature in it, or moved into the evil one as in
        // `xsw.signature-in-evil-*`) beside the evil one naming the victim, and the message
        // carries a DTD (on the Response, or starting the encrypted document), which the SP
        // must refuse unread. The victim's session is the forgery (FAIL, forged identity); the
        // genuine user's came from a message the SP must never have read (FAIL, malformed
        // message), as with `doctype`.
        Fault::EntityRefId { .. } => Effect::MalformsBesideForgery,
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
/// see. One fault malforms the message around a genuine token (`unknown-crit`); every other
/// OIDC fault spoils. Classify a new one as [`saml_effect`] says.
fn oidc_effect(f: &OidcFault) -> Effect {
    match f {
        // The broker's own ID token for the flow's user, signed by its active key, with a
        // `crit` header naming an extension nobody implements (and that header set to
        // `true`): RFC 7515 §4.1.11 makes the JWS invalid, so the RP must refuse it unread,
        // but the claims are the genuine ones and the header names no identity. (A `crit`
        // naming `b64` would only make an RP that honours it fail the signature.)
        OidcFault::UnknownCrit { .. } => Effect::Malforms,
        // Not `Malforms`, though the signature is the active key's and the claims genuine:
        // what is wrong is key selection (a `kid` outside the JWKS), not the message's form,
        // and the grade must not read "malformed" for it. Kept conservative.
        OidcFault::UnknownKid { .. }
        | OidcFault::SetClaim { .. }
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
        | OidcFault::OmitKid {}
        | OidcFault::SignWithKey { .. }
        | OidcFault::JkuHeader { .. }
        | OidcFault::X5uHeader { .. }
        | OidcFault::EmbeddedJwk {}
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
    /// part and every other fault keeps the signed login acceptable; malformed when no fault
    /// spoils it and at least one malforms the message around it. A replay resends a message
    /// the SP has already consumed, so it signs nothing acceptable.
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
        // One spoiling fault leaves nothing acceptable; a malformed message stays malformed
        // whatever forged part it also carries (the genuine login in it is then graded as
        // the malformed message it came in, a forged one as forged).
        if effects.contains(&Effect::Spoils) {
            SignedPart::Nothing
        } else if effects.contains(&Effect::Malforms)
            || effects.contains(&Effect::MalformsBesideForgery)
        {
            SignedPart::Malformed
        } else if effects.contains(&Effect::AddsForgery) {
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
                | Fault::PiInSignedText { victim, .. }
                | Fault::EntityRefId { victim, .. } => Some(named(victim)),
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
        let mut malformed = Vec::new();
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
                match SignedPart::of(step) {
                    SignedPart::Intact => {
                        assert!(!forged.is_empty(), "{}: intact without a forged part", s.id);
                        assert_eq!(step.expect, Expect::Reject, "{}", s.id);
                        intact.push(s.id.clone());
                    }
                    // A malformed message carries a forged part only where the malformation
                    // is the forgery's means (the entity-reference ID, the duplicated namespace
                    // declaration); any session not the
                    // signed identity's is graded forged.
                    SignedPart::Malformed => {
                        assert_eq!(
                            forged.is_empty(),
                            !matches!(
                                s.id.as_str(),
                                "parser.entity-ref-id-encrypted"
                                    | "parser.roundtrip-xmldom-namespace"
                            ),
                            "{}: a forged part where none belongs, or none where one does",
                            s.id
                        );
                        assert_eq!(step.expect, Expect::Reject, "{}", s.id);
                        malformed.push(s.id.clone());
                    }
                    SignedPart::Nothing => {}
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
        // Malformed around the intact genuine login, naming nobody (the multi-step ones once
        // per step, the entity-reference ID beside its forgery): the DOCTYPEs whose subset leaves the signed content alone (S8; not
        // `parser.entity-in-plaintext-name-id`, whose entity truncates the NameID a reader
        // sees), the undeclared prefix (S9), the Go round-trip forms (S10), the unknown `crit`.
        let mut want: Vec<String> = [
            ("parser.doctype-external-entity", 1),
            ("parser.doctype-bare", 1),
            ("parser.doctype-attlist", 2),
            ("parser.doctype-internal-entity", 1),
            ("parser.undeclared-prefix", 1),
            ("parser.roundtrip-go-encoding", 3),
            // S8 remainder: the DTD inside the EncryptedAssertion, the genuine signed assertion
            // intact beside the victim's (the plaintext variant also sends `no-encryption`,
            // which spoils: a plaintext assertion is itself refused under OIOSAML 3).
            ("parser.entity-ref-id-encrypted", 2),
            // S10 xmldom: the duplicated declaration on the evil assertion wrapping the genuine
            // one, and the controls' harmless duplicates in samlp:Extensions.
            ("parser.roundtrip-xmldom-namespace", 2),
            ("parser.duplicate-attribute", 2),
            ("oidc-forgery.unknown-crit", 1),
        ]
        .into_iter()
        .flat_map(|(id, steps)| std::iter::repeat_n(id.to_string(), steps))
        .collect();
        malformed.sort();
        want.sort();
        assert_eq!(malformed, want);
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
                let want = if s.id == "oidc-forgery.unknown-crit" {
                    SignedPart::Malformed
                } else {
                    SignedPart::Nothing
                };
                assert_eq!(SignedPart::of(st), want, "{}", s.id);
            }
        }
    }

    fn saml_step(faults: Vec<Fault>) -> Step {
        let mut step = Catalogue::builtin().get("xsw.3").unwrap().steps[0].clone();
        match &mut step.body {
            StepBody::SamlLogin(l) => l.plan.faults = faults,
            other => panic!("xsw.3 is a SAML login: {other:?}"),
        }
        step
    }

    /// Each fault or variant moved to [`Effect::Malforms`], one by one; the DOCTYPE that
    /// truncates the signed NameID a reader sees stays spoiling.
    #[test]
    fn malformed_messages_around_the_genuine_login_are_their_own_part() {
        let doctype = |subset| Fault::Doctype { subset };
        for f in [
            doctype(DoctypeSubset::ExternalEntity),
            doctype(DoctypeSubset::Bare),
            doctype(DoctypeSubset::Attlist),
            doctype(DoctypeSubset::CommentMarkup),
            doctype(DoctypeSubset::InternalEntity),
            Fault::NamespaceConfusion {
                variant: NamespaceVariant::UndeclaredPrefix,
                victim: None,
            },
            Fault::Roundtrip {
                variant: RoundtripVariant::AttrXmlnsPrefix,
            },
            Fault::Roundtrip {
                variant: RoundtripVariant::DirectiveInElement,
            },
            Fault::Roundtrip {
                variant: RoundtripVariant::DoubleColonName,
            },
        ] {
            assert_eq!(saml_effect(&f), Effect::Malforms, "{f:?}");
            assert_eq!(
                SignedPart::of(&saml_step(vec![f.clone()])),
                SignedPart::Malformed,
                "{f:?}"
            );
            // Beside an allowed variation: still malformed.
            assert_eq!(
                SignedPart::of(&saml_step(vec![Fault::SignResponse, f.clone()])),
                SignedPart::Malformed,
                "{f:?}"
            );
            // Beside a spoiling fault: nothing acceptable, whatever the SP logs in.
            assert_eq!(
                SignedPart::of(&saml_step(vec![f.clone(), Fault::NoEncryption])),
                SignedPart::Nothing,
                "{f:?}"
            );
            // Beside a wrapping forgery: the genuine login came in a malformed message.
            assert_eq!(
                SignedPart::of(&saml_step(vec![
                    f.clone(),
                    Fault::AppendUnsignedAssertion { victim: None }
                ])),
                SignedPart::Malformed,
                "{f:?}"
            );
        }
        assert_eq!(
            saml_effect(&doctype(DoctypeSubset::EntityInNameId)),
            Effect::Spoils
        );
        assert_eq!(
            saml_effect(&Fault::NamespaceConfusion {
                variant: NamespaceVariant::GenuineOddPrefix,
                victim: None,
            }),
            Effect::Keeps
        );
        assert_eq!(
            oidc_effect(&OidcFault::UnknownCrit {
                name: "x-mock-critical".into()
            }),
            Effect::Malforms
        );
        assert_eq!(
            oidc_effect(&OidcFault::UnknownKid { kid: "k".into() }),
            Effect::Spoils
        );
    }

    #[test]
    fn every_grade_has_a_name_and_a_meaning() {
        for (g, name) in [
            (Grade::ForgedIdentity, "forged-identity"),
            (Grade::SignedIdentity, "signed-identity"),
            (Grade::UnknownIdentity, "unknown-identity"),
            (Grade::MalformedMessage, "malformed-message"),
        ] {
            assert_eq!(g.as_str(), name);
            assert_eq!(serde_json::to_value(g).unwrap(), name);
            assert!(!g.meaning().is_empty());
        }
        assert!(
            Grade::MalformedMessage
                .meaning()
                .contains("no identity forged")
        );
    }
}
