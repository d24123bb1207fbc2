//! Each flaw of the reference SP makes exactly the logins it is about go wrong, and the strict
//! SP gets every one of them right, for the right reason.
//!
//! This is a small, direct version of the catalogue's discrimination proof (which runs through
//! the harness runner): a table of fault plans, each with what the strict SP must do (accept as
//! the identity, or reject by a named [`Check`]) and the set of SP configurations that get it
//! wrong. The test runs every case against the strict SP and every flaw configuration and
//! compares the *observed* set of configurations that get it wrong with the declared one, in
//! both directions, so a flaw that breaks too much fails the test just like one that breaks
//! too little.

use mitid_mock_broker::dangerous::{
    DoctypeSubset, DuplicateAttributeVariant, EntityRefIdPlacement, KeyInfoChoice,
    NamespaceVariant, RoundtripVariant, SignatureHome, SigningKeyChoice, XswVariant,
};
use mitid_mock_broker::{ArmedLogin, Broker, Fault, FaultPlan, IdentityStore, Loa, RunningBroker};
use mitid_reference::login_flow::{browser, login, post_form, whoami};
use mitid_reference::reference_sp::{Check, Flaw, ReferenceSp, RunningSp, SpConfig};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

const LOA_ATTR: &str = "https://data.gov.dk/concept/core/nsis/loa";
const SPEC_VERSION: &str = "https://data.gov.dk/model/core/specVersion";
const CVR: &str = "https://data.gov.dk/model/core/eid/professional/cvr";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    /// Log in as the case's identity (by MitID UUID).
    Accept,
    /// No session; the strict SP names this check.
    Reject(Check),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// One login with the faults.
    Login,
    /// A clean login, then the same response posted again from a fresh browser.
    Replay,
}

#[derive(Debug, Clone)]
struct Case {
    name: &'static str,
    identity: &'static str,
    loa: Option<Loa>,
    faults: Vec<Fault>,
    kind: Kind,
    want: Want,
    /// SP configurations (flaw sets) that get this case wrong.
    wrong_under: Vec<Vec<Flaw>>,
}

fn case(name: &'static str, faults: Vec<Fault>, want: Want, wrong_under: &[&[Flaw]]) -> Case {
    Case {
        name,
        identity: "anna",
        loa: None,
        faults,
        kind: Kind::Login,
        want,
        wrong_under: wrong_under.iter().map(|s| s.to_vec()).collect(),
    }
}

fn set(path: &str, value: &str) -> Fault {
    Fault::Set {
        path: path.parse().expect("known model path"),
        value: value.into(),
    }
}

fn remove(path: &str) -> Fault {
    Fault::Remove {
        path: path.parse().expect("known model path"),
    }
}

fn attr(name: &str, values: &[&str]) -> Fault {
    Fault::SetAttribute {
        name: name.into(),
        values: values.iter().map(|v| v.to_string()).collect(),
        name_format: None,
    }
}

fn xsw(variant: XswVariant) -> Fault {
    Fault::Xsw {
        variant,
        victim: None,
    }
}

/// The legacy-tolerant SP: every NemID-vocabulary flaw at once.
const NEMID_ERA_SP: &[Flaw] = &[
    Flaw::AcceptLegacySpecVer,
    Flaw::AcceptAssuranceLevel,
    Flaw::AcceptX509SubjectNameId,
    Flaw::AcceptLegacyAuthnContext,
    Flaw::AcceptLegacyAttributes,
];
/// Every flaw that reads a DOCTYPE without external entities instead of refusing it.
const ANY_DTD_READER: &[&[Flaw]] = &[
    &[Flaw::ResolveDoctype],
    &[Flaw::AcceptInternalDtd],
    &[Flaw::AcceptDtdWithoutEntities],
    &[Flaw::SkipEntityReferences],
    &[Flaw::IdEntityReferenceDifferential],
];
/// Plaintext assertions accepted, read through libxml2 without entity substitution (the
/// Reference lookup sees an entity-reference ID literally, getAttribute expanded).
const PLAINTEXT_ENTITY_ID: &[Flaw] = &[
    Flaw::AllowPlaintextAssertion,
    Flaw::IdEntityReferenceDifferential,
];
/// Plaintext assertions accepted, internal entities expanded.
const PLAINTEXT_EXPANDING: &[Flaw] = &[Flaw::AllowPlaintextAssertion, Flaw::AcceptInternalDtd];
/// Plaintext assertions accepted, entity references dropped by the reader, any last path
/// segment of the NameID taken as the user.
const PLAINTEXT_DROPPING_LAX: &[Flaw] = &[
    Flaw::AllowPlaintextAssertion,
    Flaw::SkipEntityReferences,
    Flaw::LaxNameId,
];
/// No replay defence at all: neither a replay cache nor one-time InResponseTo.
const NO_REPLAY_DEFENCE: &[Flaw] = &[Flaw::NoReplayCache, Flaw::SkipInResponseTo];

fn cases() -> Vec<Case> {
    use Check as C;
    use Flaw as F;
    use Want::{Accept, Reject};
    let sig = F::NoSignatureCheck;
    let mut v = vec![
        case("valid", vec![], Accept, &[]),
        Case {
            identity: "erik-erhverv",
            ..case("valid-professional", vec![], Accept, &[])
        },
        case(
            "comment-in-name-id",
            vec![Fault::CommentInNameId { after: 60 }],
            Accept,
            &[&[F::FirstTextNode]],
        ),
        // ---- signatures ----
        case(
            "unsigned",
            vec![Fault::UnsignedAssertion],
            Reject(C::Signature),
            &[&[sig]],
        ),
        case(
            "attacker-key-with-keyinfo",
            vec![Fault::SignWith {
                key: SigningKeyChoice::Attacker,
            }],
            Reject(C::Signature),
            &[&[sig], &[F::TrustKeyInfo]],
        ),
        case(
            "attacker-key-without-keyinfo",
            vec![
                Fault::SignWith {
                    key: SigningKeyChoice::Attacker,
                },
                Fault::KeyInfo {
                    cert: KeyInfoChoice::None,
                },
            ],
            Reject(C::Signature),
            &[&[sig]],
        ),
        case(
            "oces2-key",
            vec![Fault::SignWith {
                key: SigningKeyChoice::Oces2,
            }],
            Reject(C::Signature),
            &[&[sig], &[F::TrustKeyInfo]],
        ),
        case(
            "rotated-idp-key",
            vec![Fault::SignWith {
                key: SigningKeyChoice::IdpNext,
            }],
            Accept,
            &[],
        ),
        case(
            "sha1",
            vec![Fault::Sha1],
            Reject(C::SignatureAlgorithm),
            &[&[sig], &[F::AcceptSha1]],
        ),
        case(
            "tampered",
            vec![Fault::TamperAfterSigning { victim: None }],
            Reject(C::Signature),
            &[&[sig]],
        ),
        case(
            "two-signed-info",
            vec![Fault::TwoSignedInfo],
            Reject(C::Signature),
            &[&[sig]],
        ),
        case(
            "digest-value-comment",
            vec![Fault::DigestValueComment],
            Reject(C::Signature),
            &[&[sig]],
        ),
        case(
            "signed-foreign-element",
            vec![Fault::SignedForeignElement {
                keep_assertion_signature: false,
            }],
            Reject(C::Signature),
            &[&[sig], &[F::AnySignatureInDocument]],
        ),
        case(
            "attacker-key-as-key-value",
            vec![
                Fault::SignWith {
                    key: SigningKeyChoice::Attacker,
                },
                Fault::KeyInfo {
                    cert: KeyInfoChoice::KeyValue,
                },
            ],
            Reject(C::Signature),
            &[&[sig], &[F::TrustKeyInfo]],
        ),
        case(
            "append-unsigned-assertion",
            vec![Fault::AppendUnsignedAssertion { victim: None }],
            Reject(C::AssertionCount),
            &[
                &[F::FirstAssertion],
                &[F::LastAssertion],
                &[F::IgnoreExtraAssertions],
                &[F::AnySignatureInDocument],
            ],
        ),
        case(
            "xsw1",
            vec![xsw(XswVariant::Xsw1)],
            Reject(C::Signature),
            &[&[sig], &[F::AnySignatureInDocument]],
        ),
        case(
            "xsw2",
            vec![xsw(XswVariant::Xsw2)],
            Reject(C::Signature),
            &[&[sig], &[F::AnySignatureInDocument]],
        ),
        case(
            "xsw3",
            vec![xsw(XswVariant::Xsw3)],
            Reject(C::AssertionCount),
            &[
                &[F::FirstAssertion],
                &[F::LastAssertion],
                &[F::IgnoreExtraAssertions],
                &[F::AnySignatureInDocument],
            ],
        ),
        case(
            "xsw4",
            vec![xsw(XswVariant::Xsw4)],
            Reject(C::Signature),
            &[
                &[sig],
                &[F::AnySignatureInDocument],
                &[F::IgnoreExtraAssertions],
            ],
        ),
        case(
            "xsw5",
            vec![xsw(XswVariant::Xsw5)],
            Reject(C::AssertionCount),
            &[&[F::AnySignatureInDocument]],
        ),
        case(
            "xsw6",
            vec![xsw(XswVariant::Xsw6)],
            Reject(C::Signature),
            &[&[sig], &[F::AnySignatureInDocument]],
        ),
        case(
            "xsw7",
            vec![xsw(XswVariant::Xsw7)],
            Reject(C::Signature),
            &[
                &[sig],
                &[F::AnySignatureInDocument],
                &[F::IgnoreExtraAssertions],
            ],
        ),
        case(
            "xsw8",
            vec![xsw(XswVariant::Xsw8)],
            Reject(C::Signature),
            &[&[sig], &[F::AnySignatureInDocument]],
        ),
        // ---- message ----
        case(
            "plaintext-assertion",
            vec![Fault::NoEncryption],
            Reject(C::Encryption),
            &[&[F::AllowPlaintextAssertion]],
        ),
        case(
            "doctype",
            vec![Fault::Doctype {
                subset: Default::default(),
            }],
            Reject(C::Doctype),
            &[&[F::ResolveDoctype]],
        ),
        // docs/advisories.md S8: DOCTYPEs without an external entity.
        case(
            "doctype-bare",
            vec![Fault::Doctype {
                subset: DoctypeSubset::Bare,
            }],
            Reject(C::Doctype),
            ANY_DTD_READER,
        ),
        case(
            "doctype-attlist",
            vec![Fault::Doctype {
                subset: DoctypeSubset::Attlist,
            }],
            Reject(C::Doctype),
            ANY_DTD_READER,
        ),
        case(
            "doctype-comment-markup",
            vec![Fault::Doctype {
                subset: DoctypeSubset::CommentMarkup,
            }],
            Reject(C::Doctype),
            ANY_DTD_READER,
        ),
        // The reader that drops the reference sees half a Destination and refuses it; the
        // entity-only check refuses the declaration.
        case(
            "doctype-internal-entity",
            vec![Fault::Doctype {
                subset: DoctypeSubset::InternalEntity,
            }],
            Reject(C::Doctype),
            &[
                &[F::ResolveDoctype],
                &[F::AcceptInternalDtd],
                &[F::IdEntityReferenceDifferential],
            ],
        ),
        // Plaintext only. Expanded: the genuine identity; dropped: a truncated NameID, which
        // only a lax NameID reading logs in (as someone else).
        case(
            "entity-in-plaintext-name-id",
            vec![
                Fault::NoEncryption,
                Fault::Doctype {
                    subset: DoctypeSubset::EntityInNameId,
                },
            ],
            Reject(C::Doctype),
            &[
                PLAINTEXT_EXPANDING,
                PLAINTEXT_DROPPING_LAX,
                PLAINTEXT_ENTITY_ID,
            ],
        ),
        // docs/advisories.md S8 remainder: an evil assertion with ID="&i;" (the signed ID as an
        // internal entity). Only the SP whose Reference lookup reads the ID literally while the
        // rest reads it expanded consumes it; the strict SP refuses the DTD, on the message or
        // in the decrypted assertion.
        case(
            "entity-ref-id-extensions",
            vec![
                Fault::NoEncryption,
                Fault::EntityRefId {
                    placement: EntityRefIdPlacement::Extensions,
                    signature: SignatureHome::Genuine,
                    victim: None,
                },
            ],
            Reject(C::Doctype),
            &[PLAINTEXT_ENTITY_ID],
        ),
        case(
            "entity-ref-id-extensions-signature-in-evil",
            vec![
                Fault::NoEncryption,
                Fault::EntityRefId {
                    placement: EntityRefIdPlacement::Extensions,
                    signature: SignatureHome::Evil,
                    victim: None,
                },
            ],
            Reject(C::Doctype),
            &[PLAINTEXT_ENTITY_ID],
        ),
        case(
            "entity-ref-id-encrypted-nested",
            vec![Fault::EntityRefId {
                placement: EntityRefIdPlacement::EncryptedNested,
                signature: SignatureHome::Genuine,
                victim: None,
            }],
            Reject(C::Decryption),
            &[&[F::IdEntityReferenceDifferential]],
        ),
        case(
            "entity-ref-id-encrypted-nested-signature-in-evil",
            vec![Fault::EntityRefId {
                placement: EntityRefIdPlacement::EncryptedNested,
                signature: SignatureHome::Evil,
                victim: None,
            }],
            Reject(C::Decryption),
            &[&[F::IdEntityReferenceDifferential]],
        ),
        // docs/advisories.md S9: namespace/prefix confusion. The evil element around the
        // genuine assertion is no SAML assertion to a namespace-aware SP; the one reading by
        // qualified name consumes it (as bo), and refuses the genuine `a:Assertion`.
        case(
            "namespace-wrong-uri-evil-first",
            vec![Fault::NamespaceConfusion {
                variant: NamespaceVariant::WrongUriEvilFirst,
                victim: None,
            }],
            Reject(C::Decryption),
            &[&[F::MatchByPrefix]],
        ),
        case(
            "namespace-ds-wrong-uri",
            vec![Fault::NamespaceConfusion {
                variant: NamespaceVariant::DsWrongUri,
                victim: None,
            }],
            Reject(C::Decryption),
            &[&[F::MatchByPrefix]],
        ),
        case(
            "namespace-odd-prefix-evil",
            vec![Fault::NamespaceConfusion {
                variant: NamespaceVariant::OddPrefixEvil,
                victim: None,
            }],
            Reject(C::Decryption),
            &[&[F::MatchByPrefix]],
        ),
        case(
            "namespace-genuine-odd-prefix",
            vec![Fault::NamespaceConfusion {
                variant: NamespaceVariant::GenuineOddPrefix,
                victim: None,
            }],
            Accept,
            &[&[F::MatchByPrefix]],
        ),
        case(
            "namespace-undeclared-prefix",
            vec![Fault::NamespaceConfusion {
                variant: NamespaceVariant::UndeclaredPrefix,
                victim: None,
            }],
            Reject(C::Message),
            // Go's encoding/xml leaves an undeclared prefix as the element's namespace.
            &[&[F::TolerateUndeclaredPrefix], &[F::ReserializeBeforeRead]],
        ),
        // S10: Go encoding/xml round-trip instabilities outside the signed assertion.
        case(
            "roundtrip-attr-xmlns-prefix",
            vec![Fault::Roundtrip {
                variant: RoundtripVariant::AttrXmlnsPrefix,
            }],
            Reject(C::Message),
            &[&[F::ReserializeBeforeRead]],
        ),
        case(
            "roundtrip-directive-in-element",
            vec![Fault::Roundtrip {
                variant: RoundtripVariant::DirectiveInElement,
            }],
            Reject(C::Message),
            &[&[F::ReserializeBeforeRead]],
        ),
        case(
            "roundtrip-double-colon-name",
            vec![Fault::Roundtrip {
                variant: RoundtripVariant::DoubleColonName,
            }],
            Reject(C::Message),
            &[&[F::ReserializeBeforeRead]],
        ),
        // S10, xmldom CVE-2021-21366: duplicated attributes and namespace declarations.
        case(
            "duplicate-xmlns-evil-first",
            vec![Fault::DuplicateAttribute {
                variant: DuplicateAttributeVariant::XmlnsEvilFirst,
                victim: None,
            }],
            Reject(C::Decryption),
            &[&[F::XmldomReserializeBeforeRead]],
        ),
        case(
            "duplicate-default-xmlns-evil-first",
            vec![Fault::DuplicateAttribute {
                variant: DuplicateAttributeVariant::DefaultXmlnsEvilFirst,
                victim: None,
            }],
            Reject(C::Decryption),
            &[&[F::XmldomReserializeBeforeRead]],
        ),
        case(
            "duplicate-default-xmlns-same-uri",
            vec![Fault::DuplicateAttribute {
                variant: DuplicateAttributeVariant::DefaultXmlnsSameUri,
                victim: None,
            }],
            Reject(C::Message),
            &[&[F::XmldomReserializeBeforeRead]],
        ),
        case(
            "duplicate-plain-attribute",
            vec![Fault::DuplicateAttribute {
                variant: DuplicateAttributeVariant::PlainAttribute,
                victim: None,
            }],
            Reject(C::Message),
            &[&[F::XmldomReserializeBeforeRead]],
        ),
        case(
            "status-responder",
            vec![Fault::Status {
                code: "urn:oasis:names:tc:SAML:2.0:status:Responder".into(),
                sub_code: None,
                message: None,
            }],
            Reject(C::Status),
            &[&[F::IgnoreStatus]],
        ),
        case(
            "wrong-destination",
            vec![set("response.destination", "https://other-sp.example/acs")],
            Reject(C::Destination),
            &[&[F::SkipDestination]],
        ),
        case(
            "no-destination",
            vec![remove("response.destination")],
            Reject(C::Destination),
            &[&[F::SkipDestination]],
        ),
        case(
            "wrong-in-response-to",
            vec![
                set("response.in_response_to", "_not-my-request"),
                set(
                    "assertion.subject.confirmation.data.in_response_to",
                    "_not-my-request",
                ),
            ],
            Reject(C::InResponseTo),
            &[&[F::SkipInResponseTo]],
        ),
        case(
            "unsolicited",
            vec![
                remove("response.in_response_to"),
                remove("assertion.subject.confirmation.data.in_response_to"),
            ],
            Reject(C::InResponseTo),
            &[&[F::SkipInResponseTo]],
        ),
        case(
            "response-issue-instant-old",
            vec![set("response.issue_instant", "{now-1h}")],
            Reject(C::Timing),
            &[&[F::SkipTimeChecks]],
        ),
        case(
            "expired",
            vec![
                set("assertion.conditions.not_before", "{now-2h}"),
                set("assertion.conditions.not_on_or_after", "{now-1h}"),
                set(
                    "assertion.subject.confirmation.data.not_on_or_after",
                    "{now-1h}",
                ),
            ],
            Reject(C::Timing),
            &[&[F::SkipTimeChecks]],
        ),
        case(
            "not-yet-valid",
            vec![set("assertion.conditions.not_before", "{now+1h}")],
            Reject(C::Timing),
            &[&[F::SkipTimeChecks]],
        ),
        case(
            "wrong-issuer",
            vec![set("assertion.issuer", "https://saml.evil.example")],
            Reject(C::Issuer),
            &[&[F::SkipIssuer]],
        ),
        case(
            "issuer-format-unspecified",
            vec![set(
                "assertion.issuer.format",
                "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified",
            )],
            Reject(C::Issuer),
            &[&[F::SkipIssuer]],
        ),
        // ---- subject and conditions ----
        case(
            "wrong-recipient",
            vec![set(
                "assertion.subject.confirmation.data.recipient",
                "https://other-sp.example/acs",
            )],
            Reject(C::Recipient),
            &[&[F::SkipRecipient]],
        ),
        case(
            "no-subject-confirmation",
            vec![remove("assertion.subject.confirmation")],
            Reject(C::SubjectConfirmation),
            &[&[F::SkipSubjectConfirmation]],
        ),
        case(
            "wrong-audience",
            vec![set(
                "assertion.conditions.audience",
                "https://saml.other-sp.example",
            )],
            Reject(C::Audience),
            &[&[F::SkipAudience]],
        ),
        case(
            "extra-audience",
            vec![Fault::AddAudience {
                value: "https://saml.other-sp.example".into(),
                separate: false,
            }],
            Reject(C::Audience),
            &[&[F::SkipAudience]],
        ),
        case(
            "no-audience",
            vec![remove("assertion.conditions.audience")],
            Reject(C::Audience),
            &[&[F::SkipAudience]],
        ),
        case(
            "no-authn-statement",
            vec![remove("assertion.authn_statement")],
            Reject(C::Statements),
            &[&[F::SkipStatementChecks]],
        ),
        // ---- NemID-era vocabulary ----
        case(
            "x509-subject-name-id",
            vec![
                set(
                    "assertion.subject.name_id.format",
                    "urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName",
                ),
                set(
                    "assertion.subject.name_id",
                    "C=DK,O=Ingen organisatorisk tilknytning,CN=Anna Mock-Hansen,Serial=PID:9208-2002-2-000000000101",
                ),
            ],
            Reject(C::NameId),
            // The lax reading takes the whole DN as the user (a key no one else has).
            &[&[F::AcceptX509SubjectNameId], &[F::LaxNameId]],
        ),
        case(
            "legacy-oiosaml2",
            vec![Fault::LegacyOiosaml2],
            Reject(C::NameId),
            &[NEMID_ERA_SP],
        ),
        case(
            "spec-version-missing",
            vec![Fault::RemoveAttribute {
                name: SPEC_VERSION.into(),
            }],
            Reject(C::SpecVersion),
            &[&[F::AcceptLegacySpecVer]],
        ),
        case(
            "spec-ver-dk-saml-2",
            vec![
                Fault::RemoveAttribute {
                    name: SPEC_VERSION.into(),
                },
                attr("dk:gov:saml:attribute:SpecVer", &["DK-SAML-2.0"]),
            ],
            Reject(C::SpecVersion),
            &[&[F::AcceptLegacySpecVer]],
        ),
        case(
            "assurance-level-instead-of-loa",
            vec![
                Fault::RemoveAttribute {
                    name: LOA_ATTR.into(),
                },
                attr("dk:gov:saml:attribute:AssuranceLevel", &["3"]),
            ],
            Reject(C::Loa),
            &[
                &[F::AcceptAssuranceLevel],
                &[F::NoLoaCheck, F::AcceptLegacyAttributes],
            ],
        ),
        case(
            "loa-missing",
            vec![Fault::RemoveAttribute {
                name: LOA_ATTR.into(),
            }],
            Reject(C::Loa),
            &[&[F::NoLoaCheck]],
        ),
        Case {
            loa: Some(Loa::Low),
            ..case(
                "loa-low",
                vec![],
                Reject(C::LoaLevel),
                &[&[F::IgnoreLoaLevel], &[F::NoLoaCheck]],
            )
        },
        Case {
            loa: Some(Loa::High),
            ..case("loa-higher-than-required", vec![], Accept, &[])
        },
        case(
            "nemid-keycard-class-ref",
            vec![set(
                "assertion.authn_statement.class_ref",
                "https://nemlogin.dk/internal/credential/type/nemidkeycard",
            )],
            Reject(C::AuthnContext),
            &[&[F::AcceptLegacyAuthnContext]],
        ),
        case(
            "oces-user-certificate",
            vec![attr(
                "urn:oid:1.3.6.1.4.1.1466.115.121.1.8",
                &["MIIBmockmockmock"],
            )],
            Reject(C::LegacyAttributes),
            &[&[F::AcceptLegacyAttributes]],
        ),
        Case {
            identity: "erik-erhverv",
            ..case(
                "professional-without-cvr",
                vec![Fault::RemoveAttribute { name: CVR.into() }],
                Reject(C::Professional),
                &[&[F::SkipProfessionalChecks]],
            )
        },
        Case {
            kind: Kind::Replay,
            ..case(
                "replay",
                vec![],
                Reject(C::InResponseTo),
                &[NO_REPLAY_DEFENCE],
            )
        },
    ];
    // Every accepted login goes wrong for an SP that keys users by something else.
    for c in &mut v {
        if c.want == Accept {
            c.wrong_under.push(vec![F::KeyByCpr]);
            c.wrong_under.push(vec![F::KeyByPid]);
        }
    }
    v
}

/// What one SP did with one case.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Observed {
    /// The whoami uuid after the flow, if a session exists.
    session: Option<String>,
    /// The check named by the SP's last rejection during the flow.
    rejection: Option<Check>,
    /// The broker's fetch recorder was hit.
    fetched: bool,
}

async fn run(broker: &RunningBroker, sp: &RunningSp, c: &Case) -> Observed {
    let before_rejections = sp.rejections().len();
    let armed = ArmedLogin {
        identity: c.identity.into(),
        loa: c.loa,
        plan: FaultPlan::new(c.faults.clone()),
        profile: None,
    };
    let client = browser();
    let out = login(&client, &sp.login_url(), broker, Some(armed))
        .await
        .unwrap_or_else(|e| panic!("{}: login flow failed: {e}", c.name));
    let client = match c.kind {
        Kind::Login => client,
        Kind::Replay => {
            assert!(
                whoami(&client, &sp.whoami_url()).await.unwrap().is_some(),
                "{}: first login must succeed",
                c.name
            );
            let thief = browser();
            post_form(&thief, &out.form).await.unwrap();
            thief
        }
    };
    let session = whoami(&client, &sp.whoami_url())
        .await
        .unwrap()
        .map(|j| j["uuid"].as_str().unwrap_or_default().to_string());
    let rejections = sp.rejections();
    Observed {
        session,
        rejection: rejections[before_rejections..].last().map(|r| r.check),
        fetched: broker
            .state()
            .fetches()
            .iter()
            .any(|f| f.token == out.request_id),
    }
}

/// The flaws this direct table exercises: those its cases name (plus the error-page flaw, which
/// must break nothing). The catalogue's discrimination test (`saml_discrimination.rs`) proves
/// every flaw through the harness.
fn direct_flaws() -> Vec<Flaw> {
    let named: std::collections::BTreeSet<Flaw> = cases()
        .iter()
        .flat_map(|c| c.wrong_under.iter().flatten().copied())
        .collect();
    Flaw::ALL
        .iter()
        .copied()
        .filter(|f| named.contains(f) || *f == Flaw::ErrorPageWith200)
        .collect()
}

fn configs() -> Vec<Vec<Flaw>> {
    let mut v: Vec<Vec<Flaw>> = vec![vec![]];
    v.extend(direct_flaws().into_iter().map(|f| vec![f]));
    v.push(NEMID_ERA_SP.to_vec());
    v.push(NO_REPLAY_DEFENCE.to_vec());
    v.push(vec![Flaw::NoLoaCheck, Flaw::AcceptLegacyAttributes]);
    v.push(PLAINTEXT_EXPANDING.to_vec());
    v.push(PLAINTEXT_DROPPING_LAX.to_vec());
    v.push(PLAINTEXT_ENTITY_ID.to_vec());
    v
}

fn label(flaws: &[Flaw]) -> String {
    if flaws.is_empty() {
        "strict".into()
    } else {
        flaws.iter().map(|f| f.id()).collect::<Vec<_>>().join("+")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_flaw_breaks_exactly_its_cases_and_strict_breaks_none() {
    let broker = Arc::new(Broker::builder().start().await.unwrap());
    let cases = Arc::new(cases());
    let ids = IdentityStore::builtin();
    let mut tasks = tokio::task::JoinSet::new();
    for flaws in configs() {
        let broker = broker.clone();
        let cases = cases.clone();
        tasks.spawn(async move {
            let sp = ReferenceSp::start(SpConfig::new(broker.metadata_xml()).flaws(flaws.clone()))
                .await
                .unwrap();
            sp.register_with(&broker).unwrap();
            let mut results = Vec::new();
            for c in cases.iter() {
                results.push(run(&broker, &sp, c).await);
            }
            (flaws, results)
        });
    }
    let mut observed: BTreeMap<String, Vec<Observed>> = BTreeMap::new();
    let mut by_label: BTreeMap<String, Vec<Flaw>> = BTreeMap::new();
    while let Some(r) = tasks.join_next().await {
        let (flaws, results) = r.unwrap();
        by_label.insert(label(&flaws), flaws.clone());
        observed.insert(label(&flaws), results);
    }

    if let Ok(only) = std::env::var("REFSP_DEBUG") {
        for (i, c) in cases
            .iter()
            .enumerate()
            .filter(|(_, c)| c.name.starts_with(only.as_str()))
        {
            for (l, r) in &observed {
                eprintln!("{} / {l}: {:?}", c.name, r[i]);
            }
        }
    }
    let mut problems = Vec::new();
    let mut flaws_that_broke_something = BTreeSet::new();
    for (i, c) in cases.iter().enumerate() {
        let expected_uuid = ids.get(c.identity).unwrap().uuid.to_string();
        let wrong = |o: &Observed| match c.want {
            Want::Accept => o.session.as_deref() != Some(expected_uuid.as_str()),
            Want::Reject(_) => o.session.is_some() || o.fetched,
        };
        let strict = &observed["strict"][i];
        match c.want {
            Want::Accept if wrong(strict) => problems.push(format!(
                "{}: strict SP should log in {} but: {strict:?}",
                c.name, c.identity
            )),
            Want::Reject(check) if wrong(strict) || strict.rejection != Some(check) => problems
                .push(format!(
                    "{}: strict SP should reject by {check} but: {strict:?}",
                    c.name
                )),
            _ => {}
        }
        let actual: BTreeSet<String> = observed
            .iter()
            .filter(|(l, _)| l.as_str() != "strict")
            .filter(|(_, results)| wrong(&results[i]))
            .map(|(l, _)| l.clone())
            .collect();
        for l in &actual {
            flaws_that_broke_something.extend(by_label[l].iter().copied());
        }
        // A configuration may get the case wrong only if it contains a declared culprit set
        // (a superset of a buggy SP is still buggy); every declared set must really get it wrong.
        let explained = |l: &String| {
            c.wrong_under
                .iter()
                .any(|d| d.iter().all(|f| by_label[l].contains(f)))
        };
        let unexplained: Vec<&String> = actual.iter().filter(|l| !explained(l)).collect();
        let missing: Vec<String> = c
            .wrong_under
            .iter()
            .map(|d| label(d))
            .filter(|l| !actual.contains(l))
            .collect();
        if !unexplained.is_empty() || !missing.is_empty() {
            let detail: Vec<String> = unexplained
                .iter()
                .map(|l| format!("{l}: {:?}", observed[*l][i]))
                .chain(
                    missing
                        .iter()
                        .map(|l| format!("{l}: {:?}", observed.get(l).map(|r| &r[i]))),
                )
                .collect();
            problems.push(format!(
                "{}: also wrong under {unexplained:?}; declared but not wrong under {missing:?}\n    {}",
                c.name,
                detail.join("\n    ")
            ));
        }
        if actual.is_empty() {
            problems.push(format!(
                "{}: no flaw configuration gets this case wrong",
                c.name
            ));
        }
    }
    for f in direct_flaws() {
        if f != Flaw::ErrorPageWith200 && !flaws_that_broke_something.contains(&f) {
            problems.push(format!("flaw {f} breaks no case"));
        }
    }
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// The "error page with 200" flaw fools a status-code oracle but not the session oracle.
#[tokio::test]
async fn error_page_with_200_still_creates_no_session() {
    let broker = Broker::builder().start().await.unwrap();
    let sp = ReferenceSp::start(SpConfig::new(broker.metadata_xml()).flaw(Flaw::ErrorPageWith200))
        .await
        .unwrap();
    sp.register_with(&broker).unwrap();
    let client = browser();
    let armed = ArmedLogin {
        identity: "anna".into(),
        loa: None,
        plan: FaultPlan::new(vec![Fault::UnsignedAssertion]),
        profile: None,
    };
    let out = login(&client, &sp.login_url(), &broker, Some(armed))
        .await
        .unwrap();
    assert_eq!(out.acs_status, 200);
    assert!(
        out.acs_body.contains("data-check=\"signature\""),
        "{}",
        out.acs_body
    );
    assert_eq!(whoami(&client, &sp.whoami_url()).await.unwrap(), None);
}

/// Which part of a wrapped response a flawed SP consumes decides the grade: against the same
/// XSW3 response (an evil assertion for another person before the genuine signed one),
/// `first-assertion` logs in the victim and `last-assertion` the identity the broker signed.
#[tokio::test]
async fn the_consumed_part_of_a_wrapped_response_depends_on_the_flaw() {
    let broker = Broker::builder().start().await.unwrap();
    let ids = IdentityStore::builtin();
    let anna = ids.get("anna").unwrap().uuid.to_string();
    for (flaw, signed) in [
        (Flaw::FirstAssertion, false),
        (Flaw::LastAssertion, true),
        (Flaw::IgnoreExtraAssertions, true),
        (Flaw::AnySignatureInDocument, false),
    ] {
        let sp = ReferenceSp::start(SpConfig::new(broker.metadata_xml()).flaw(flaw))
            .await
            .unwrap();
        sp.register_with(&broker).unwrap();
        let client = browser();
        let armed = ArmedLogin {
            identity: "anna".into(),
            loa: None,
            plan: FaultPlan::new(vec![xsw(XswVariant::Xsw3)]),
            profile: None,
        };
        login(&client, &sp.login_url(), &broker, Some(armed))
            .await
            .unwrap();
        let who = whoami(&client, &sp.whoami_url())
            .await
            .unwrap()
            .map(|j| j["uuid"].as_str().unwrap_or_default().to_string())
            .unwrap_or_else(|| panic!("{flaw}: no session"));
        assert_eq!(who == anna, signed, "{flaw} logged in {who}");
        sp.shutdown().await;
    }
}
