//! The dangerous API's vocabulary: one test per [`Fault`] variant, minting with it and checking
//! that the output really shows the fault, with signatures checked independently by xml-sec.
//!
//! A scenario that arms a fault trusts the broker to send exactly that defect and nothing else,
//! so each test also checks what must *not* change (for model-stage faults the signature stays
//! valid; for post-signing faults it is the specific byte-level shape that matters).

mod saml_support;

use mitid_mock_broker::dangerous::{
    DigestPosition, DoctypeSubset, DuplicateAttributeVariant, DuplicateIdPlacement,
    EntityRefIdPlacement, HiddenOriginal, HmacAlg, HmacKeyEncoding, KeyInfoChoice, ModelPath,
    NamespaceVariant, PiSplit, PiTarget, ResponseLevelOriginal, RoundtripVariant,
    SignatureErrorKind, SignatureHome, SigningKeyChoice, SmugglePlace, SmuggledElement, VoidC14nOn,
    XswVariant,
};
use mitid_mock_broker::pki::MockPki;
use mitid_mock_broker::saml::ns;
use mitid_mock_broker::saml::xmlsec::EncryptionAlgorithms;
use mitid_mock_broker::{Fault, FaultPlan};
use saml_support::*;

fn spki(c: &mitid_mock_broker::pki::Credential) -> Vec<u8> {
    spki_of(c.cert_der())
}

fn idp() -> Vec<u8> {
    spki(&MockPki::builtin().idp_oces3)
}

/// Mint for anna with `faults` plus NoEncryption, so the XML is readable.
fn plain(faults: Vec<Fault>) -> String {
    let mut f = faults;
    f.push(Fault::NoEncryption);
    mint_plan(&FaultPlan::new(f)).response_xml
}

/// IDs of the `saml:Assertion` elements in document order.
fn assertion_ids(xml: &str) -> Vec<String> {
    attrs_all(xml, ns::SAML, "Assertion", "ID")
}

/// IDs of the assertions that xml-sec authenticates with the IdP key.
fn verified_assertions(xml: &str) -> Vec<String> {
    assertion_ids(xml)
        .into_iter()
        .filter(|id| xmlsec_verify(xml, &idp(), id).is_ok())
        .collect()
}

fn anna() -> &'static mitid_mock_broker::TestIdentity {
    identities().get("anna").unwrap()
}

fn bo() -> &'static mitid_mock_broker::TestIdentity {
    identities().get("bo").unwrap()
}

/// Names of the element children of the element with ID `id`.
fn child_names(xml: &str, id: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(xml).unwrap();
    let n = doc
        .descendants()
        .find(|n| n.attribute("ID") == Some(id))
        .expect("element with ID");
    n.children()
        .filter(|c| c.is_element())
        .map(|c| c.tag_name().name().to_string())
        .collect()
}

#[test]
fn baseline_without_faults_verifies() {
    let x = plain(vec![]);
    assert_eq!(assertion_ids(&x).len(), 1);
    assert_eq!(verified_assertions(&x), assertion_ids(&x));
}

#[test]
fn set_with_placeholder_changes_the_signed_model() {
    let x = plain(vec![Fault::Set {
        path: "assertion.conditions.not_on_or_after".parse().unwrap(),
        value: "{now-10m}".into(),
    }]);
    assert_eq!(
        attr_of(&x, ns::SAML, "Conditions", "NotOnOrAfter").as_deref(),
        Some("2026-01-01T11:50:00Z")
    );
    // Model-stage: the expired assertion is properly signed, so only the expiry check can catch it.
    assert_eq!(verified_assertions(&x).len(), 1);

    // Fractional seconds (SAML allows any number of digits).
    let x = plain(vec![Fault::Set {
        path: "assertion.issue_instant".parse().unwrap(),
        value: "{now-5m.1234567}".into(),
    }]);
    assert_eq!(
        attr_of(&x, ns::SAML, "Assertion", "IssueInstant").as_deref(),
        Some("2026-01-01T11:54:59.1234567Z")
    );

    let x = plain(vec![Fault::Set {
        path: "assertion.subject.confirmation.data.recipient"
            .parse()
            .unwrap(),
        value: "{acs}/other".into(),
    }]);
    assert_eq!(
        attr_of(&x, ns::SAML, "SubjectConfirmationData", "Recipient"),
        Some(format!("{ACS_URL}/other"))
    );
    let x = plain(vec![Fault::Set {
        path: "response.in_response_to".parse().unwrap(),
        value: "_someone-else".into(),
    }]);
    assert_eq!(
        attr_of(&x, ns::SAMLP, "Response", "InResponseTo").as_deref(),
        Some("_someone-else")
    );
    // The assertion's own InResponseTo is a different path and stays.
    assert_eq!(
        attr_of(&x, ns::SAML, "SubjectConfirmationData", "InResponseTo").as_deref(),
        Some("_req-fixed")
    );
}

#[test]
fn set_refuses_unknown_paths_and_elements() {
    // An unknown path cannot even be written down: it fails where the plan is read, and toml
    // names the line.
    let e = toml::from_str::<FaultPlan>(
        "faults = [\n  { fault = \"set\", path = \"assertion.nope\", value = \"x\" },\n]",
    )
    .expect_err("unknown path refused")
    .to_string();
    assert!(e.contains("unknown model path"), "{e}");
    assert!(e.contains("line 2"), "{e}");

    let err = |f: Fault| {
        mint_with(
            "anna",
            &FaultPlan::new(vec![f]),
            EncryptionAlgorithms::nemlogin_default(),
        )
        .expect_err("bad fault refused")
        .to_string()
    };
    let e = err(Fault::Set {
        path: ModelPath::Conditions,
        value: "x".into(),
    });
    assert!(e.contains("can only be removed"), "{e}");
    let e = err(Fault::Set {
        path: ModelPath::AssertionId,
        value: "{now+5q}".into(),
    });
    assert!(e.contains("placeholder"), "{e}");
}

#[test]
fn remove_drops_elements_and_attributes() {
    let x = plain(vec![Fault::Remove {
        path: "assertion.conditions.audience_restriction".parse().unwrap(),
    }]);
    assert_eq!(count(&x, ns::SAML, "AudienceRestriction"), 0);
    assert_eq!(count(&x, ns::SAML, "Conditions"), 1);
    assert_eq!(verified_assertions(&x).len(), 1);

    let x = plain(vec![Fault::Remove {
        path: "assertion.subject.confirmation.data.in_response_to"
            .parse()
            .unwrap(),
    }]);
    assert!(attr_of(&x, ns::SAML, "SubjectConfirmationData", "InResponseTo").is_none());
    assert!(attr_of(&x, ns::SAML, "SubjectConfirmationData", "Recipient").is_some());

    let x = plain(vec![Fault::Remove {
        path: "response.destination".parse().unwrap(),
    }]);
    assert!(attr_of(&x, ns::SAMLP, "Response", "Destination").is_none());

    let x = plain(vec![Fault::Remove {
        path: "assertion.authn_statement".parse().unwrap(),
    }]);
    assert_eq!(count(&x, ns::SAML, "AuthnStatement"), 0);
}

#[test]
fn set_attribute_and_remove_attribute() {
    let x = plain(vec![Fault::SetAttribute {
        name: ns::attr::LOA.into(),
        values: vec!["High".into()],
        name_format: None,
    }]);
    let a = &x;
    assert_eq!(attribute_values(a, ns::attr::LOA), vec!["High"]);
    assert_eq!(
        saml_attributes(a)
            .iter()
            .filter(|(n, _, _)| n == ns::attr::LOA)
            .count(),
        1,
        "replaced, not added"
    );
    assert_eq!(verified_assertions(a).len(), 1);

    let x = plain(vec![Fault::SetAttribute {
        name: ns::legacy::ASSURANCE_LEVEL.into(),
        values: vec!["3".into()],
        name_format: None,
    }]);
    let legacy = saml_attributes(&x)
        .into_iter()
        .find(|(n, _, _)| n == ns::legacy::ASSURANCE_LEVEL)
        .unwrap();
    assert_eq!(
        legacy.1.as_deref(),
        Some(ns::ATTRNAME_BASIC),
        "non-URI names default to basic"
    );
    assert_eq!(legacy.2, vec!["3"]);

    let x = plain(vec![Fault::RemoveAttribute {
        name: ns::attr::CPR_NUMBER.into(),
    }]);
    assert!(attribute_values(&x, ns::attr::CPR_NUMBER).is_empty());
    assert!(!attribute_values(&x, ns::attr::LOA).is_empty());
}

#[test]
fn remove_name_format_keeps_a_valid_signature() {
    let x = plain(vec![Fault::RemoveNameFormat {
        name: Some(ns::attr::LOA.into()),
    }]);
    let attrs = saml_attributes(&x);
    for (name, fmt, _) in &attrs {
        assert_eq!(
            fmt.is_none(),
            name == ns::attr::LOA,
            "NameFormat of {name}: {fmt:?}"
        );
    }
    assert_eq!(verified_assertions(&x).len(), 1);
    let x = plain(vec![Fault::RemoveNameFormat { name: None }]);
    assert!(saml_attributes(&x).iter().all(|(_, f, _)| f.is_none()));
    assert_eq!(verified_assertions(&x).len(), 1);
}

#[test]
fn add_audience_in_same_or_separate_restriction() {
    let x = plain(vec![Fault::AddAudience {
        value: "https://other-sp.invalid".into(),
        separate: false,
    }]);
    assert_eq!(count(&x, ns::SAML, "AudienceRestriction"), 1);
    assert_eq!(count(&x, ns::SAML, "Audience"), 2);
    let x = plain(vec![Fault::AddAudience {
        value: "https://other-sp.invalid".into(),
        separate: true,
    }]);
    assert_eq!(count(&x, ns::SAML, "AudienceRestriction"), 2);
    assert!(x.contains("<saml:Audience>https://other-sp.invalid</saml:Audience>"));
}

#[test]
fn legacy_oiosaml2_assertion() {
    let x = plain(vec![Fault::LegacyOiosaml2]);
    assert_eq!(
        attr_of(&x, ns::SAML, "NameID", "Format").as_deref(),
        Some(ns::NAMEID_X509_SUBJECT)
    );
    let nid = text_of(&x, ns::SAML, "NameID").unwrap();
    assert!(nid.contains("Serial=PID:9208-2002-2-000000000101"), "{nid}");
    assert_eq!(
        attribute_values(&x, ns::legacy::SPEC_VER),
        vec!["DK-SAML-2.0"]
    );
    assert_eq!(attribute_values(&x, ns::legacy::ASSURANCE_LEVEL), vec!["3"]);
    assert!(attribute_values(&x, ns::attr::SPEC_VERSION).is_empty());
    assert_eq!(
        text_of(&x, ns::SAML, "AuthnContextClassRef").as_deref(),
        Some(ns::legacy::AC_X509)
    );
    // Signed by the IdP key as sent: only the content is legacy.
    assert_eq!(verified_assertions(&x).len(), 1);
}

#[test]
fn status_and_no_assertion() {
    let x = mint_plan(&FaultPlan::new(vec![
        Fault::Status {
            code: ns::STATUS_RESPONDER.into(),
            sub_code: Some(ns::STATUS_AUTHN_FAILED.into()),
            message: Some("user cancelled".into()),
        },
        Fault::NoAssertion,
    ]))
    .response_xml;
    assert_eq!(
        attrs_all(&x, ns::SAMLP, "StatusCode", "Value"),
        vec![ns::STATUS_RESPONDER, ns::STATUS_AUTHN_FAILED]
    );
    assert_eq!(
        text_of(&x, ns::SAMLP, "StatusMessage").as_deref(),
        Some("user cancelled")
    );
    assert_eq!(
        count(&x, ns::SAML, "EncryptedAssertion") + count(&x, ns::SAML, "Assertion"),
        0
    );

    // NoAssertion alone: a Success response with nothing in it.
    let x = mint_plan(&FaultPlan::new(vec![Fault::NoAssertion])).response_xml;
    assert_eq!(
        attr_of(&x, ns::SAMLP, "StatusCode", "Value").as_deref(),
        Some(ns::STATUS_SUCCESS)
    );
    assert_eq!(
        count(&x, ns::SAML, "EncryptedAssertion") + count(&x, ns::SAML, "Assertion"),
        0
    );
}

#[test]
fn append_unsigned_assertion_encrypted_both() {
    let m = mint_plan(&FaultPlan::new(vec![Fault::AppendUnsignedAssertion {
        victim: Some("bo".into()),
    }]));
    let doc = roxmltree::Document::parse(&m.response_xml).unwrap();
    let eds: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name((ns::XENC, "EncryptedData")))
        .map(|n| m.response_xml[n.range()].to_string())
        .collect();
    assert_eq!(eds.len(), 2, "two EncryptedAssertions");
    let first = xmlsec_decrypt(&eds[0]).unwrap();
    let second = xmlsec_decrypt(&eds[1]).unwrap();
    let id1 = attr_of(&first, ns::SAML, "Assertion", "ID").unwrap();
    assert!(
        xmlsec_verify(&first, &idp(), &id1).is_ok(),
        "the genuine one is signed"
    );
    assert_eq!(
        count(&second, ns::DS, "Signature"),
        0,
        "the appended one is not"
    );
    assert_eq!(text_of(&second, ns::SAML, "NameID"), Some(bo().name_id()));
    assert_eq!(text_of(&first, ns::SAML, "NameID"), Some(anna().name_id()));
}

#[test]
fn sign_with_other_keys() {
    let pki = MockPki::builtin();
    let x = plain(vec![Fault::SignWith {
        key: SigningKeyChoice::Oces2,
    }]);
    let id = &assertion_ids(&x)[0];
    assert!(
        xmlsec_verify(&x, &spki(&pki.idp_oces2), id).is_ok(),
        "verifies with the OCES2 cert"
    );
    assert!(
        xmlsec_verify(&x, &idp(), id).is_err(),
        "and not with the IdP's"
    );
    assert!(
        x.contains(&pki.idp_oces2.cert_base64()),
        "KeyInfo carries the signer's certificate"
    );

    let x = plain(vec![Fault::SignWith {
        key: SigningKeyChoice::Attacker,
    }]);
    let id = &assertion_ids(&x)[0];
    assert!(xmlsec_verify(&x, &spki(&pki.attacker), id).is_ok());
    assert!(xmlsec_verify(&x, &idp(), id).is_err());

    let x = plain(vec![Fault::SignWith {
        key: SigningKeyChoice::IdpNext,
    }]);
    let id = &assertion_ids(&x)[0];
    assert!(
        xmlsec_verify(&x, &spki(&pki.idp_oces3_next), id).is_ok(),
        "rotation key"
    );
    assert!(xmlsec_verify(&x, &idp(), id).is_err());
}

#[test]
fn key_info_none() {
    let x = plain(vec![Fault::KeyInfo {
        cert: KeyInfoChoice::None,
    }]);
    assert_eq!(count(&x, ns::DS, "Signature"), 1);
    assert_eq!(count(&x, ns::DS, "KeyInfo"), 0);
    assert_eq!(
        verified_assertions(&x).len(),
        1,
        "still verifies with the pinned metadata key"
    );
}

#[test]
fn key_info_key_value_carries_the_signers_bare_rsa_key() {
    use base64::Engine;
    let attacker = &MockPki::builtin().attacker;
    let x = plain(vec![
        Fault::SignWith {
            key: SigningKeyChoice::Attacker,
        },
        Fault::KeyInfo {
            cert: KeyInfoChoice::KeyValue,
        },
    ]);
    assert_eq!(count(&x, ns::DS, "KeyInfo"), 1);
    assert_eq!(count(&x, ns::DS, "RSAKeyValue"), 1);
    assert_eq!(count(&x, ns::DS, "X509Data"), 0, "no certificate at all");
    // Modulus and Exponent are the attacker key's, base64 big-endian without leading zeros.
    let (_, cert) = x509_parser::parse_x509_certificate(attacker.cert_der()).unwrap();
    let Ok(x509_parser::public_key::PublicKey::RSA(rsa)) = cert.public_key().parsed() else {
        panic!("the attacker key is RSA");
    };
    let b64 = |b: &[u8]| {
        let first = b.iter().position(|x| *x != 0).unwrap_or(b.len());
        base64::engine::general_purpose::STANDARD.encode(&b[first..])
    };
    assert_eq!(text_of(&x, ns::DS, "Modulus"), Some(b64(rsa.modulus)));
    assert_eq!(text_of(&x, ns::DS, "Exponent"), Some(b64(rsa.exponent)));
    // KeyInfo is last in the Signature, where XML-DSig puts it.
    let doc = roxmltree::Document::parse(&x).unwrap();
    let sig = doc
        .descendants()
        .find(|n| n.has_tag_name((ns::DS, "Signature")))
        .unwrap();
    let kids: Vec<_> = sig
        .children()
        .filter(|c| c.is_element())
        .map(|c| c.tag_name().name())
        .collect();
    assert_eq!(kids, ["SignedInfo", "SignatureValue", "KeyInfo"]);
    drop(doc);
    // A valid signature by exactly the key KeyInfo offers, and by no key the IdP publishes.
    let id = &assertion_ids(&x)[0];
    assert!(xmlsec_verify(&x, &spki(attacker), id).is_ok());
    assert!(verified_assertions(&x).is_empty());
}

#[test]
fn unsigned_assertion() {
    let x = plain(vec![Fault::UnsignedAssertion]);
    assert_eq!(count(&x, ns::DS, "Signature"), 0);
    assert_eq!(assertion_ids(&x).len(), 1);
    assert!(verified_assertions(&x).is_empty());
}

#[test]
fn sign_response_as_well() {
    let x = plain(vec![Fault::SignResponse]);
    assert_eq!(count(&x, ns::DS, "Signature"), 2);
    let rid = attr_of(&x, ns::SAMLP, "Response", "ID").unwrap();
    assert_eq!(
        child_names(&x, &rid)[..2],
        ["Issuer", "Signature"],
        "Signature right after the Issuer"
    );
    assert!(
        xmlsec_verify(&x, &idp(), &rid).is_ok(),
        "{:?}",
        xmlsec_verify(&x, &idp(), &rid)
    );
    // With encryption, the Response signature covers the EncryptedAssertion.
    let m = mint_plan(&FaultPlan::new(vec![Fault::SignResponse]));
    let rid = attr_of(&m.response_xml, ns::SAMLP, "Response", "ID").unwrap();
    assert!(xmlsec_verify(&m.response_xml, &idp(), &rid).is_ok());
    assert_eq!(count(&m.response_xml, ns::SAML, "EncryptedAssertion"), 1);
}

#[test]
fn sha1_signature() {
    let x = plain(vec![Fault::Sha1]);
    assert_eq!(
        attr_of(&x, ns::DS, "SignatureMethod", "Algorithm").as_deref(),
        Some(ns::ALG_RSA_SHA1)
    );
    assert_eq!(
        attr_of(&x, ns::DS, "DigestMethod", "Algorithm").as_deref(),
        Some(ns::ALG_SHA1)
    );
    let id = &assertion_ids(&x)[0];
    // Independently: a genuine RSA-SHA1 signature by the IdP key (xml-sec's compatibility
    // profile); the modern profile refuses it.
    let r = xmlsec_verify_alg(
        &x,
        &idp(),
        id,
        xml_sec::xmldsig::SignatureAlgorithm::RsaSha1,
    );
    assert!(r.is_ok(), "{r:?}");
    assert!(xmlsec_verify(&x, &idp(), id).is_err());
}

#[test]
fn no_encryption_and_encrypt_with() {
    let x = plain(vec![]);
    assert_eq!(count(&x, ns::SAML, "EncryptedAssertion"), 0);
    assert_eq!(count(&x, ns::SAML, "Assertion"), 1);

    let m = mint_plan(&FaultPlan::new(vec![Fault::EncryptWith {
        data: ns::ENC_AES128_CBC.into(),
        key_transport: ns::KT_RSA_OAEP_MGF1P.into(),
    }]));
    let algs = attrs_all(&m.response_xml, ns::XENC, "EncryptionMethod", "Algorithm");
    assert_eq!(algs, vec![ns::ENC_AES128_CBC, ns::KT_RSA_OAEP_MGF1P]);
    let a = decrypt_assertion(&m.response_xml);
    let id = attr_of(&a, ns::SAML, "Assertion", "ID").unwrap();
    assert!(xmlsec_verify(&a, &idp(), &id).is_ok());
}

#[test]
fn xsw_variants_have_the_documented_structure() {
    let xsw = |v: XswVariant| {
        plain(vec![Fault::Xsw {
            variant: v,
            victim: Some("bo".into()),
        }])
    };
    let clean = plain(vec![]);
    let orig = assertion_ids(&clean)[0].clone();
    // Forged IDs derive from the response's own seeded IDs (never a fixed string, so an SP's
    // replay cache cannot tell two forgeries apart by ID alone).
    let evil_id = format!("{orig}-evil");
    let evil = evil_id.as_str();
    let evil_response = format!(
        "{}-evil",
        roxmltree::Document::parse(&clean)
            .unwrap()
            .root_element()
            .attribute("ID")
            .unwrap()
    );

    // XSW1: an evil Response (evil assertion) whose Signature holds the original Response.
    let x = xsw(XswVariant::Xsw1);
    let doc = roxmltree::Document::parse(&x).unwrap();
    let root = doc.root_element();
    assert_eq!(root.attribute("ID"), Some(evil_response.as_str()));
    let sig = root
        .children()
        .find(|c| c.has_tag_name((ns::DS, "Signature")))
        .expect("Signature under evil Response");
    let inner = sig
        .children()
        .find(|c| c.has_tag_name((ns::SAMLP, "Response")))
        .expect("original inside Signature");
    let rid = inner.attribute("ID").unwrap().to_string();
    assert_eq!(
        attr_of(&x[sig.range()], ns::DS, "Reference", "URI"),
        Some(format!("#{rid}"))
    );
    let evil_assertion = root
        .children()
        .find(|c| c.has_tag_name((ns::SAML, "Assertion")))
        .expect("evil assertion");
    assert_eq!(
        text_of(&x[evil_assertion.range()], ns::SAML, "NameID"),
        Some(bo().name_id()),
        "the Response's own assertion names the victim"
    );
    drop(doc);

    // XSW2: the original Response is a sibling before the Signature inside the evil one.
    let x = xsw(XswVariant::Xsw2);
    let names = child_names(&x, &evil_response);
    let pos_resp = names
        .iter()
        .position(|n| n == "Response")
        .expect("original Response inside");
    let pos_sig = names
        .iter()
        .position(|n| n == "Signature")
        .expect("Signature");
    assert!(pos_resp < pos_sig, "{names:?}");

    // XSW3: evil assertion first, signed original second (still valid).
    let x = xsw(XswVariant::Xsw3);
    assert_eq!(assertion_ids(&x), vec![evil.to_string(), orig.clone()]);
    assert_eq!(verified_assertions(&x), vec![orig.clone()]);
    assert_eq!(text_of(&x, ns::SAML, "NameID"), Some(bo().name_id()));

    // XSW4: the evil assertion wraps the signed original.
    let x = xsw(XswVariant::Xsw4);
    assert_eq!(assertion_ids(&x), vec![evil.to_string(), orig.clone()]);
    assert!(
        child_names(&x, evil).contains(&"Assertion".to_string()),
        "original nested in the evil one"
    );
    assert_eq!(verified_assertions(&x), vec![orig.clone()]);

    // XSW5: evil assertion carries the original Signature (referencing the original ID); the
    // clean original follows unsigned.
    let x = xsw(XswVariant::Xsw5);
    assert_eq!(assertion_ids(&x), vec![evil.to_string(), orig.clone()]);
    assert!(child_names(&x, evil).contains(&"Signature".to_string()));
    assert!(!child_names(&x, &orig).contains(&"Signature".to_string()));
    assert_eq!(
        attr_of(&x, ns::DS, "Reference", "URI"),
        Some(format!("#{orig}"))
    );
    assert_eq!(
        verified_assertions(&x),
        vec![orig.clone()],
        "the detached signature still covers the original"
    );

    // XSW6: the clean original sits inside the evil assertion's Signature.
    let x = xsw(XswVariant::Xsw6);
    let doc = roxmltree::Document::parse(&x).unwrap();
    let o = doc
        .descendants()
        .find(|n| n.attribute("ID") == Some(orig.as_str()))
        .unwrap();
    assert!(
        o.parent_element()
            .unwrap()
            .has_tag_name((ns::DS, "Signature"))
    );
    assert_eq!(
        o.parent_element()
            .unwrap()
            .parent_element()
            .unwrap()
            .attribute("ID"),
        Some(evil)
    );
    drop(doc);

    // XSW7: signed original in samlp:Extensions (before Status, where the schema puts it), the
    // evil assertion where SPs look.
    let x = xsw(XswVariant::Xsw7);
    let rid = attr_of(&x, ns::SAMLP, "Response", "ID").unwrap();
    let names = child_names(&x, &rid);
    assert_eq!(
        names,
        vec!["Issuer", "Extensions", "Status", "Assertion"],
        "schema order"
    );
    let doc = roxmltree::Document::parse(&x).unwrap();
    let o = doc
        .descendants()
        .find(|n| n.attribute("ID") == Some(orig.as_str()))
        .unwrap();
    assert!(
        o.parent_element()
            .unwrap()
            .has_tag_name((ns::SAMLP, "Extensions"))
    );
    drop(doc);
    assert_eq!(verified_assertions(&x), vec![orig.clone()]);

    // XSW8: the clean original in a ds:Object of the evil assertion's Signature.
    let x = xsw(XswVariant::Xsw8);
    let doc = roxmltree::Document::parse(&x).unwrap();
    let o = doc
        .descendants()
        .find(|n| n.attribute("ID") == Some(orig.as_str()))
        .unwrap();
    assert!(o.parent_element().unwrap().has_tag_name((ns::DS, "Object")));
    assert_eq!(count(&x[o.range()], ns::DS, "Signature"), 0);
}

#[test]
fn comment_in_name_id_keeps_the_signature_valid() {
    let x = plain(vec![Fault::CommentInNameId { after: 20 }]);
    let doc = roxmltree::Document::parse(&x).unwrap();
    let nid = doc
        .descendants()
        .find(|n| n.has_tag_name((ns::SAML, "NameID")))
        .unwrap();
    let first_text = nid.first_child().and_then(|c| c.text()).unwrap();
    assert_eq!(
        first_text.chars().count(),
        20,
        "the first text node is truncated"
    );
    assert!(nid.children().any(|c| c.is_comment()));
    assert_eq!(
        text_of(&x, ns::SAML, "NameID"),
        Some(anna().name_id()),
        "all text nodes together are unchanged"
    );
    drop(doc);
    assert_eq!(
        verified_assertions(&x).len(),
        1,
        "comments are outside the signed c14n form"
    );
}

#[test]
fn comment_in_attribute_keeps_the_signature_valid() {
    let x = plain(vec![Fault::CommentInAttribute {
        name: ns::attr::CPR_NUMBER.into(),
        after: 4,
    }]);
    assert!(x.contains(
        "<saml:AttributeValue xsi:type=\"xs:string\">0304<!---->851237</saml:AttributeValue>"
    ));
    assert_eq!(
        attribute_values(&x, ns::attr::CPR_NUMBER),
        vec![anna().cpr.clone().unwrap()]
    );
    assert_eq!(verified_assertions(&x).len(), 1);
}

#[test]
fn digest_value_comment_shape() {
    let x = plain(vec![Fault::DigestValueComment]);
    let genuine = plain(vec![]);
    let orig_digest = text_of(&genuine, ns::DS, "DigestValue").unwrap();
    let doc = roxmltree::Document::parse(&x).unwrap();
    let dv = doc
        .descendants()
        .find(|n| n.has_tag_name((ns::DS, "DigestValue")))
        .unwrap();
    let first = dv.first_child().unwrap();
    assert!(first.is_comment(), "DigestValue starts with a comment");
    let forged = first.text().unwrap().to_string();
    assert_ne!(forged, orig_digest);
    assert_eq!(
        text_of(&x, ns::DS, "DigestValue"),
        Some(orig_digest),
        "the text is the original digest"
    );
    drop(doc);
    assert_eq!(
        text_of(&x, ns::SAML, "NameID"),
        Some(bo().name_id()),
        "content tampered to another identity"
    );
    assert!(
        verified_assertions(&x).is_empty(),
        "a correct verifier rejects it"
    );
}

#[test]
fn two_signed_info_shape() {
    let x = plain(vec![Fault::TwoSignedInfo]);
    assert_eq!(count(&x, ns::DS, "SignedInfo"), 2);
    let doc = roxmltree::Document::parse(&x).unwrap();
    let sig = doc
        .descendants()
        .find(|n| n.has_tag_name((ns::DS, "Signature")))
        .unwrap();
    let kids: Vec<_> = sig
        .children()
        .filter(|c| c.is_element())
        .map(|c| c.tag_name().name())
        .collect();
    assert_eq!(kids[..3], ["SignedInfo", "SignedInfo", "SignatureValue"]);
    drop(doc);
    assert_eq!(text_of(&x, ns::SAML, "NameID"), Some(bo().name_id()));
    assert!(verified_assertions(&x).is_empty());
}

#[test]
fn signed_foreign_element_next_to_unsigned_assertion() {
    let x = plain(vec![Fault::SignedForeignElement {
        keep_assertion_signature: false,
    }]);
    assert_eq!(count(&x, ns::MD, "EntityDescriptor"), 1);
    assert!(
        xmlsec_verify(&x, &idp(), "_signed-foreign-element").is_ok(),
        "genuinely IdP-signed"
    );
    assert!(
        verified_assertions(&x).is_empty(),
        "the assertion itself is unsigned"
    );
    assert_eq!(count(&x, ns::DS, "Signature"), 1);
}

#[test]
fn signed_element_as_first_root_puts_the_genuine_assertion_before_a_forged_response() {
    // No NoEncryption here: the fault itself sends both assertions in plaintext.
    let minted = mint_plan(&FaultPlan::new(vec![Fault::SignedElementAsFirstRoot {
        victim: None,
    }]));
    let x = minted.response_xml;
    assert!(
        roxmltree::Document::parse(&x).is_err(),
        "two top-level elements are not well-formed XML"
    );
    let split = x.find("<samlp:Response").expect("a Response root");
    let (first, second) = x.split_at(split);
    // First root: the login's own assertion, standing alone and genuinely IdP-signed.
    let doc = roxmltree::Document::parse(first).expect("the first root stands alone");
    assert!(doc.root_element().has_tag_name((ns::SAML, "Assertion")));
    drop(doc);
    let genuine_id = assertion_ids(first)[0].clone();
    assert!(xmlsec_verify(first, &idp(), &genuine_id).is_ok());
    assert_eq!(text_of(first, ns::SAML, "NameID"), Some(anna().name_id()));
    // Second root: the Response, with one unsigned plaintext assertion for another person.
    assert_eq!(count(second, ns::SAML, "EncryptedAssertion"), 0);
    assert_eq!(count(second, ns::DS, "Signature"), 0);
    assert_eq!(
        assertion_ids(second),
        [format!("{genuine_id}-forged")],
        "the forged ID derives from this response's own"
    );
    assert_eq!(text_of(second, ns::SAML, "NameID"), Some(bo().name_id()));

    // A named victim.
    let x = plain(vec![Fault::SignedElementAsFirstRoot {
        victim: Some("erik-erhverv".into()),
    }]);
    let second = &x[x.find("<samlp:Response").unwrap()..];
    assert_eq!(
        text_of(second, ns::SAML, "NameID"),
        Some(identities().get("erik-erhverv").unwrap().name_id())
    );
}

#[test]
fn tamper_after_signing_breaks_the_digest() {
    let x = plain(vec![Fault::TamperAfterSigning { victim: None }]);
    let nid = text_of(&x, ns::SAML, "NameID").unwrap();
    assert_ne!(nid, anna().name_id());
    assert!(
        nid.starts_with("https://data.gov.dk/model/core/eid/person/uuid/"),
        "another person: {nid}"
    );
    assert_eq!(count(&x, ns::DS, "Signature"), 1);
    assert!(verified_assertions(&x).is_empty());
}

#[test]
fn doctype_points_at_the_fetch_trap() {
    let x = plain(vec![Fault::Doctype {
        subset: DoctypeSubset::ExternalEntity,
    }]);
    assert!(x.starts_with("<?xml"));
    assert!(
        x.contains(&format!("<!ENTITY xxe SYSTEM \"{FIXED_TRAP_URL}\">")),
        "{}",
        &x[..300]
    );
    assert!(
        x.contains("&xxe;</saml:Issuer>"),
        "the entity is referenced"
    );
    // A hardened parser refuses it (and so fetches nothing).
    let opts = roxmltree::ParsingOptions {
        allow_dtd: false,
        ..Default::default()
    };
    assert!(roxmltree::Document::parse_with_options(&x, opts).is_err());
}

/// The DTD-without-external-entity variants (docs/advisories.md S8): each is refused by a
/// DTD-refusing parser; the two entity variants carry the right value only once expanded, and
/// the NameID one keeps the assertion's signature valid over the expanded text.
#[test]
fn doctype_subsets_without_external_entities() {
    let refuses = |x: &str| {
        let opts = roxmltree::ParsingOptions {
            allow_dtd: false,
            ..Default::default()
        };
        roxmltree::Document::parse_with_options(x, opts).is_err()
    };
    let expand = |x: &str| {
        let start = x.find("<!DOCTYPE").unwrap();
        let end = x.find("]><samlp:Response").unwrap() + 2;
        let decl = &x[start..end];
        let name_at = decl.find("<!ENTITY ").unwrap() + "<!ENTITY ".len();
        let name = decl[name_at..].split(' ').next().unwrap();
        let value = decl.split('"').nth(1).unwrap();
        format!("{}{}", &x[..start], &x[end..]).replace(&format!("&{name};"), value)
    };
    for subset in [
        DoctypeSubset::Bare,
        DoctypeSubset::Attlist,
        DoctypeSubset::CommentMarkup,
    ] {
        let x = plain(vec![Fault::Doctype { subset }]);
        assert!(refuses(&x), "{subset:?}");
        assert!(!x.contains("<!ENTITY"), "{subset:?}");
        // With the DTD cut away the response is the genuine one, signature intact.
        let start = x.find("<!DOCTYPE").unwrap();
        let end = x.find("<samlp:Response").unwrap();
        let cut = format!("{}{}", &x[..start], &x[end..]);
        assert_eq!(verified_assertions(&cut).len(), 1, "{subset:?}");
    }
    let x = plain(vec![Fault::Doctype {
        subset: DoctypeSubset::InternalEntity,
    }]);
    assert!(refuses(&x));
    assert!(x.contains("&d;\""), "the Destination ends in the entity");
    let full = expand(&x);
    assert_eq!(
        attr_of(&full, ns::SAMLP, "Response", "Destination"),
        attr_of(&plain(vec![]), ns::SAMLP, "Response", "Destination")
    );

    let x = plain(vec![Fault::Doctype {
        subset: DoctypeSubset::EntityInNameId,
    }]);
    assert!(refuses(&x));
    assert!(x.contains("&n;</saml:NameID>"));
    let full = expand(&x);
    assert_eq!(
        verified_assertions(&full).len(),
        1,
        "the signature covers the expanded text"
    );
    assert!(full.contains(&format!(">{}</saml:NameID>", anna().name_id())));
    // Encrypted, there is no NameID in the Response to put an entity in: a clear error.
    let e = mint_with(
        "anna",
        &FaultPlan::new(vec![Fault::Doctype {
            subset: DoctypeSubset::EntityInNameId,
        }]),
        EncryptionAlgorithms::nemlogin_default(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("no-encryption"), "{e}");
}

#[test]
fn replace_text_after_everything() {
    let x = plain(vec![Fault::ReplaceText {
        find: "urn:oasis:names:tc:SAML:2.0:status:Success".into(),
        replace: "urn:oasis:names:tc:SAML:2.0:status:Requester".into(),
    }]);
    assert_eq!(
        attr_of(&x, ns::SAMLP, "StatusCode", "Value").as_deref(),
        Some(ns::STATUS_REQUESTER)
    );
    // Outside the signed assertion, so the assertion still verifies.
    assert_eq!(verified_assertions(&x).len(), 1);
}

/// Every variant is covered above; this guards the list against silently growing.
#[test]
fn every_fault_variant_has_a_test() {
    let all = [
        Fault::Set {
            path: ModelPath::ResponseId,
            value: String::new(),
        },
        Fault::Remove {
            path: ModelPath::ResponseId,
        },
        Fault::SetAttribute {
            name: String::new(),
            values: vec![],
            name_format: None,
        },
        Fault::RemoveAttribute {
            name: String::new(),
        },
        Fault::RemoveNameFormat { name: None },
        Fault::AddAudience {
            value: String::new(),
            separate: false,
        },
        Fault::LegacyOiosaml2,
        Fault::AttributeProfile {
            profile: mitid_mock_broker::saml::oiosaml4::AttributeProfile::PersonDk,
        },
        Fault::Oiosaml303Assertion,
        Fault::Status {
            code: String::new(),
            sub_code: None,
            message: None,
        },
        Fault::NoAssertion,
        Fault::AppendUnsignedAssertion { victim: None },
        Fault::SignWith {
            key: SigningKeyChoice::Idp,
        },
        Fault::KeyInfo {
            cert: KeyInfoChoice::None,
        },
        Fault::UnsignedAssertion,
        Fault::SignResponse,
        Fault::Sha1,
        Fault::NoEncryption,
        Fault::EncryptWith {
            data: String::new(),
            key_transport: String::new(),
        },
        Fault::Xsw {
            variant: XswVariant::Xsw1,
            victim: None,
        },
        Fault::CommentInNameId { after: 0 },
        Fault::CommentInAttribute {
            name: String::new(),
            after: 0,
        },
        Fault::DigestValueComment,
        Fault::TwoSignedInfo,
        Fault::SignedForeignElement {
            keep_assertion_signature: false,
        },
        Fault::SignedElementAsFirstRoot { victim: None },
        Fault::TamperAfterSigning { victim: None },
        Fault::Doctype {
            subset: DoctypeSubset::Bare,
        },
        Fault::ReplaceText {
            find: String::new(),
            replace: String::new(),
        },
        // issue 13
        Fault::DigestValueElsewhere {
            position: DigestPosition::Extensions,
        },
        Fault::XswDuplicateId {
            original: DuplicateIdPlacement::Extensions,
            signature: SignatureHome::Genuine,
            victim: None,
        },
        Fault::XswSignatureInEvil {
            original: HiddenOriginal::Extensions,
            victim: None,
        },
        Fault::XswAssertionSignatureOnResponse {
            original: ResponseLevelOriginal::Extensions,
            victim: None,
        },
        Fault::HmacKeyConfusion {
            alg: HmacAlg::HmacSha256,
            encoding: HmacKeyEncoding::CertPem,
            without_key_info: false,
        },
        Fault::SignatureError {
            kind: SignatureErrorKind::ShortValue,
        },
        Fault::VoidC14n {
            on: VoidC14nOn::Assertion,
        },
        // issue 15
        Fault::Privileges { groups: vec![] },
        Fault::NamespaceConfusion {
            variant: NamespaceVariant::WrongUriEvilFirst,
            victim: None,
        },
        Fault::SmuggleInSignature {
            element: SmuggledElement::Subject,
            place: SmugglePlace::Object,
            victim: None,
        },
        Fault::PiInSignedText {
            target: PiTarget::NameId,
            split: PiSplit::Start,
            victim: None,
        },
        Fault::Roundtrip {
            variant: RoundtripVariant::DoubleColonName,
        },
        Fault::EntityRefId {
            placement: EntityRefIdPlacement::Extensions,
            signature: SignatureHome::Genuine,
            victim: None,
        },
        Fault::DuplicateAttribute {
            variant: DuplicateAttributeVariant::XmlnsEvilFirst,
            victim: None,
        },
    ];
    // An exhaustive match: adding a variant to `Fault` breaks the build here until a test is
    // written for it and it is listed.
    for f in &all {
        match f {
            Fault::Set { .. }
            | Fault::Remove { .. }
            | Fault::SetAttribute { .. }
            | Fault::RemoveAttribute { .. }
            | Fault::RemoveNameFormat { .. }
            | Fault::AddAudience { .. }
            | Fault::LegacyOiosaml2
            | Fault::AttributeProfile { .. }
            | Fault::Oiosaml303Assertion
            | Fault::Status { .. }
            | Fault::NoAssertion
            | Fault::AppendUnsignedAssertion { .. }
            | Fault::SignWith { .. }
            | Fault::KeyInfo { .. }
            | Fault::UnsignedAssertion
            | Fault::SignResponse
            | Fault::Sha1
            | Fault::NoEncryption
            | Fault::EncryptWith { .. }
            | Fault::Xsw { .. }
            | Fault::CommentInNameId { .. }
            | Fault::CommentInAttribute { .. }
            | Fault::DigestValueComment
            | Fault::TwoSignedInfo
            | Fault::SignedForeignElement { .. }
            | Fault::SignedElementAsFirstRoot { .. }
            | Fault::TamperAfterSigning { .. }
            | Fault::Doctype { .. }
            | Fault::ReplaceText { .. } => {}
            // issue 13: tested in the functions below
            Fault::DigestValueElsewhere { .. }
            | Fault::XswDuplicateId { .. }
            | Fault::XswSignatureInEvil { .. }
            | Fault::XswAssertionSignatureOnResponse { .. }
            | Fault::HmacKeyConfusion { .. }
            | Fault::SignatureError { .. }
            | Fault::VoidC14n { .. } => {}
            // issue 15: privileges_replace_the_list_inside_the_signed_assertion
            Fault::Privileges { .. } => {}
            Fault::NamespaceConfusion { .. } => {}
            // S13: smuggled_content_leaves_the_signature_valid
            Fault::SmuggleInSignature { .. } => {}
            // S15: pi_in_signed_text_verifies_only_when_the_pi_is_flattened
            Fault::PiInSignedText { .. } => {}
            // S10: roundtrip_forms_sit_outside_the_intact_assertion
            Fault::Roundtrip { .. } => {}
            // S8 remainder: entity_ref_id_gives_the_evil_assertion_the_signed_id_by_entity
            Fault::EntityRefId { .. } => {}
            // S10 xmldom: duplicate_attribute_variants
            Fault::DuplicateAttribute { .. } => {}
        }
    }
    assert_eq!(all.len(), 43);
}

/// S13 (passport-wsfed-saml2 CVE-2025-46573): what is smuggled into the assertion's own
/// Signature is outside the enveloped digest, so the genuine signature still verifies; the
/// smuggled Subject names the victim and comes before the genuine Subject.
#[test]
fn smuggled_content_leaves_the_signature_valid() {
    for (element, place, needle) in [
        (
            SmuggledElement::Subject,
            SmugglePlace::Object,
            "<ds:Object><saml:Subject>",
        ),
        (
            SmuggledElement::Subject,
            SmugglePlace::KeyInfo,
            "</ds:X509Data><saml:Subject>",
        ),
        (
            SmuggledElement::CprAttribute,
            SmugglePlace::Object,
            "<ds:Object><saml:AttributeStatement>",
        ),
    ] {
        let x = plain(vec![Fault::SmuggleInSignature {
            element,
            place,
            victim: None,
        }]);
        assert!(x.contains(needle), "{element:?} {place:?}: {x}");
        assert_eq!(verified_assertions(&x).len(), 1, "{element:?} {place:?}");
        let smuggled = x.find(needle).unwrap();
        let genuine_subject = x.rfind("<saml:Subject>").unwrap();
        assert!(smuggled < genuine_subject, "smuggled content comes first");
        match element {
            SmuggledElement::Subject => assert!(x.contains(&bo().name_id())),
            SmuggledElement::CprAttribute => {
                assert!(x.contains(bo().cpr.as_deref().unwrap()))
            }
        }
    }
}

// ---- issue 15: OIO BPP privileges ----

#[test]
fn privileges_replace_the_list_inside_the_signed_assertion() {
    use base64::Engine as _;
    use mitid_mock_broker::saml::bpp::{self, PrivilegeGroup};
    let groups = vec![
        PrivilegeGroup {
            scope: "urn:dk:gov:saml:seNumberIdentifier:99000003".into(),
            privileges: vec![bpp::MOCK_PRIVILEGE.into()],
            constraints: vec![],
        },
        PrivilegeGroup {
            scope: "urn:dk:gov:saml:cvrNumberIdentifier:199000003".into(),
            privileges: vec!["urn:dk:mock:privilege:laeser".into()],
            constraints: vec![],
        },
    ];
    let plan = FaultPlan::new(vec![
        Fault::Privileges {
            groups: groups.clone(),
        },
        Fault::NoEncryption,
    ]);
    let x = mint_with(
        "palle-privilegeret",
        &plan,
        EncryptionAlgorithms::nemlogin_default(),
    )
    .expect("palle's privileges are released, so the fault applies")
    .response_xml;
    // The replaced list is what the IdP signed.
    assert_eq!(verified_assertions(&x), assertion_ids(&x));
    let v = attribute_values(&x, ns::attr::PRIVILEGES_INTERMEDIATE);
    assert_eq!(v.len(), 1);
    let xml = String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(&v[0])
            .unwrap(),
    )
    .unwrap();
    assert_eq!(xml, bpp::privilege_list_xml(&groups));
    // Without the fault palle's own list (own CVR) is released.
    let genuine = mint_with(
        "palle-privilegeret",
        &FaultPlan::new(vec![Fault::NoEncryption]),
        EncryptionAlgorithms::nemlogin_default(),
    )
    .unwrap()
    .response_xml;
    let own = attribute_values(&genuine, ns::attr::PRIVILEGES_INTERMEDIATE);
    let own = String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(&own[0])
            .unwrap(),
    )
    .unwrap();
    assert!(
        own.contains(r#"Scope="urn:dk:gov:saml:cvrNumberIdentifier:99000003""#),
        "{own}"
    );
    // A person has no list to replace: the fault cannot apply, and says so.
    let Err(e) = mint_with("anna", &plan, EncryptionAlgorithms::nemlogin_default()) else {
        panic!("no privilegesIntermediate for anna, so the fault must not apply");
    };
    assert!(e.to_string().contains("privilegesIntermediate"), "{e}");
}

// ---- issue 13: the faults for published SAML bypass advisories ----

/// The digest of the tampered assertion, as `digest-value-comment` computes it (the comment).
fn forged_digest() -> String {
    let x = plain(vec![Fault::DigestValueComment]);
    let doc = roxmltree::Document::parse(&x).unwrap();
    let dv = doc
        .descendants()
        .find(|n| n.has_tag_name((ns::DS, "DigestValue")))
        .unwrap();
    dv.first_child().unwrap().text().unwrap().to_string()
}

/// The `DigestValue` texts in document order.
fn digest_values(xml: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(xml).unwrap();
    doc.descendants()
        .filter(|n| n.has_tag_name((ns::DS, "DigestValue")))
        .map(|n| n.text().unwrap_or_default().to_string())
        .collect()
}

/// Local names of the element children of the first `ds:Signature`.
fn signature_children(xml: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(xml).unwrap();
    let sig = doc
        .descendants()
        .find(|n| n.has_tag_name((ns::DS, "Signature")))
        .unwrap();
    sig.children()
        .filter(|c| c.is_element())
        .map(|c| c.tag_name().name().to_string())
        .collect()
}

#[test]
fn digest_value_elsewhere_puts_the_forged_digest_where_asked() {
    let genuine = text_of(&plain(vec![]), ns::DS, "DigestValue").unwrap();
    let forged = forged_digest();
    assert_ne!(genuine, forged);
    let at = |position| {
        let x = plain(vec![Fault::DigestValueElsewhere { position }]);
        assert_eq!(text_of(&x, ns::SAML, "NameID"), Some(bo().name_id()));
        assert!(verified_assertions(&x).is_empty(), "tampered: {x}");
        x
    };
    // Extensions: a bare DigestValue, first in document order.
    let x = at(DigestPosition::Extensions);
    assert_eq!(digest_values(&x), [forged.clone(), genuine.clone()]);
    assert_eq!(
        child_names(&x, &attr_of(&x, ns::SAMLP, "Response", "ID").unwrap())[1],
        "Extensions"
    );
    assert_eq!(count(&x, ns::DS, "Reference"), 1);
    // A whole Reference in Extensions.
    let x = at(DigestPosition::ExtensionsReference);
    assert_eq!(digest_values(&x), [forged.clone(), genuine.clone()]);
    assert_eq!(count(&x, ns::DS, "Reference"), 2);
    // Inside the Signature, before and after SignedInfo.
    let x = at(DigestPosition::BeforeSignedInfo);
    assert_eq!(digest_values(&x), [forged.clone(), genuine.clone()]);
    assert_eq!(
        signature_children(&x)[..3],
        ["Object", "SignedInfo", "SignatureValue"]
    );
    let x = at(DigestPosition::AfterSignature);
    assert_eq!(digest_values(&x), [genuine, forged]);
    assert_eq!(signature_children(&x).last().unwrap(), "Object");
}

#[test]
fn xsw_duplicate_id_gives_the_evil_assertion_the_signed_ones_id() {
    let original = assertion_ids(&plain(vec![]))[0].clone();
    for placement in [
        DuplicateIdPlacement::Extensions,
        DuplicateIdPlacement::WrapperBefore,
        DuplicateIdPlacement::SiblingAfter,
        DuplicateIdPlacement::NestedLastChild,
    ] {
        for signature in [SignatureHome::Genuine, SignatureHome::Evil] {
            let x = plain(vec![Fault::XswDuplicateId {
                original: placement,
                signature,
                victim: None,
            }]);
            let what = format!("{placement:?}/{signature:?}");
            assert_eq!(
                assertion_ids(&x),
                [original.clone(), original.clone()],
                "{what}"
            );
            let doc = roxmltree::Document::parse(&x).unwrap();
            let assertions: Vec<_> = doc
                .descendants()
                .filter(|n| n.has_tag_name((ns::SAML, "Assertion")))
                .collect();
            let name_of = |a: roxmltree::Node<'_, '_>| {
                a.children()
                    .find(|c| c.has_tag_name((ns::SAML, "Subject")))
                    .and_then(|s| s.children().find(|c| c.has_tag_name((ns::SAML, "NameID"))))
                    .and_then(|n| n.text())
                    .unwrap()
                    .to_string()
            };
            let names: Vec<_> = assertions.iter().map(|a| name_of(*a)).collect();
            // Document order: the genuine first unless it comes after (or inside) the evil one.
            let want = match placement {
                DuplicateIdPlacement::Extensions | DuplicateIdPlacement::WrapperBefore => {
                    [anna().name_id(), bo().name_id()]
                }
                DuplicateIdPlacement::SiblingAfter | DuplicateIdPlacement::NestedLastChild => {
                    [bo().name_id(), anna().name_id()]
                }
            };
            assert_eq!(names, want, "{what}");
            let signed = assertions
                .iter()
                .find(|a| a.children().any(|c| c.has_tag_name((ns::DS, "Signature"))))
                .unwrap();
            let signer = if signature == SignatureHome::Genuine {
                anna()
            } else {
                bo()
            };
            assert_eq!(name_of(*signed), signer.name_id(), "{what}");
            assert_eq!(count(&x, ns::DS, "Signature"), 1, "{what}");
            if placement == DuplicateIdPlacement::WrapperBefore {
                assert!(x.contains(r#"<x:W xmlns:x="urn:mock:xsw">"#), "{what}");
            }
        }
    }
}

#[test]
fn xsw_signature_in_evil_hides_the_clean_original() {
    let original = assertion_ids(&plain(vec![]))[0].clone();
    for placement in [
        HiddenOriginal::NestedLastChild,
        HiddenOriginal::Extensions,
        HiddenOriginal::WrapperAfter,
    ] {
        let x = plain(vec![Fault::XswSignatureInEvil {
            original: placement,
            victim: None,
        }]);
        let ids = assertion_ids(&x);
        let evil = ids.iter().find(|i| **i != original).unwrap().clone();
        assert_eq!(ids.len(), 2, "{placement:?}");
        // The evil assertion carries the only Signature; it references the original.
        assert_eq!(child_names(&x, &evil)[1], "Signature", "{placement:?}");
        assert!(!child_names(&x, &original).contains(&"Signature".to_string()));
        assert_eq!(
            attr_of(&x, ns::DS, "Reference", "URI"),
            Some(format!("#{original}"))
        );
        assert_eq!(count(&x, ns::DS, "Signature"), 1);
        let order = match placement {
            HiddenOriginal::Extensions => [original.clone(), evil.clone()],
            _ => [evil.clone(), original.clone()],
        };
        assert_eq!(ids, order, "{placement:?}");
    }
}

#[test]
fn xsw_assertion_signature_on_response_moves_the_signature_up() {
    let original = assertion_ids(&plain(vec![]))[0].clone();
    for placement in [
        ResponseLevelOriginal::Extensions,
        ResponseLevelOriginal::Wrapper,
    ] {
        let x = plain(vec![Fault::XswAssertionSignatureOnResponse {
            original: placement,
            victim: None,
        }]);
        let rid = attr_of(&x, ns::SAMLP, "Response", "ID").unwrap();
        let kids = child_names(&x, &rid);
        assert_eq!(kids[..2], ["Issuer", "Signature"], "{placement:?}");
        assert_eq!(
            attr_of(&x, ns::DS, "Reference", "URI"),
            Some(format!("#{original}"))
        );
        assert!(!child_names(&x, &original).contains(&"Signature".to_string()));
        let ids = assertion_ids(&x);
        assert_eq!(ids.len(), 2);
        assert_eq!(ids[0], original, "the clean original comes first");
        assert!(!child_names(&x, &ids[1]).contains(&"Signature".to_string()));
        // The moved Signature still covers the clean original, and nothing else.
        assert_eq!(verified_assertions(&x), std::slice::from_ref(&original));
    }
}

#[test]
fn hmac_key_confusion_macs_the_tampered_assertion_with_the_idp_certificate() {
    use aws_lc_rs::hmac;
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let cert_b64 = keys().idp.cert_b64.clone();
    let der = b64.decode(&cert_b64).unwrap();
    let pem = |tag: &str, der: &[u8]| {
        let body = b64.encode(der);
        let lines: Vec<&str> = body
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        format!(
            "-----BEGIN {tag}-----\n{}\n-----END {tag}-----\n",
            lines.join("\n")
        )
        .into_bytes()
    };
    let spki = spki_of(&der);
    let forged = forged_digest();
    for (alg, uri, algo) in [
        (
            HmacAlg::HmacSha1,
            "http://www.w3.org/2000/09/xmldsig#hmac-sha1",
            hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
        ),
        (
            HmacAlg::HmacSha256,
            "http://www.w3.org/2001/04/xmldsig-more#hmac-sha256",
            hmac::HMAC_SHA256,
        ),
    ] {
        for (encoding, key) in [
            (HmacKeyEncoding::CertPem, pem("CERTIFICATE", &der)),
            (HmacKeyEncoding::CertBase64, cert_b64.clone().into_bytes()),
            (HmacKeyEncoding::CertDer, der.clone()),
            (HmacKeyEncoding::SpkiPem, pem("PUBLIC KEY", &spki)),
        ] {
            for without_key_info in [false, true] {
                let x = plain(vec![Fault::HmacKeyConfusion {
                    alg,
                    encoding,
                    without_key_info,
                }]);
                let what = format!("{alg:?}/{encoding:?}/{without_key_info}");
                assert_eq!(
                    attr_of(&x, ns::DS, "SignatureMethod", "Algorithm").as_deref(),
                    Some(uri)
                );
                assert_eq!(
                    text_of(&x, ns::SAML, "NameID"),
                    Some(bo().name_id()),
                    "{what}"
                );
                assert_eq!(digest_values(&x), std::slice::from_ref(&forged), "{what}");
                assert_eq!(
                    count(&x, ns::DS, "X509Certificate"),
                    usize::from(!without_key_info)
                );
                // The MAC, recomputed independently: exclusive c14n of SignedInfo (xml-sec).
                let doc = xml_sec::Document::parse(&x).unwrap();
                let si = doc
                    .descendants()
                    .find(|n| n.is_element() && n.tag_name().name() == "SignedInfo")
                    .unwrap();
                let mut bytes = Vec::new();
                let algo_c14n = xml_sec::c14n::C14nAlgorithm::from_uri(ns::ALG_EXC_C14N).unwrap();
                xml_sec::c14n::canonicalize(
                    &doc,
                    Some(&|n: xml_sec::Node| n.ancestors().any(|a| a.id() == si.id())),
                    &algo_c14n,
                    &mut bytes,
                )
                .unwrap();
                let value = b64
                    .decode(text_of(&x, ns::DS, "SignatureValue").unwrap())
                    .unwrap();
                assert!(
                    hmac::verify(&hmac::Key::new(algo, &key), &bytes, &value).is_ok(),
                    "{what}"
                );
                assert!(verified_assertions(&x).is_empty());
            }
        }
    }
}

#[test]
fn signature_error_breaks_the_signature_of_a_tampered_assertion() {
    let forged = forged_digest();
    for (kind, value, method) in [
        (SignatureErrorKind::ShortValue, Some("AA=="), None),
        (SignatureErrorKind::EmptyValue, Some(""), None),
        (SignatureErrorKind::BadBase64, Some("!!!"), None),
        (
            SignatureErrorKind::EcdsaMethodRsaKey,
            None,
            Some("http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"),
        ),
        (
            SignatureErrorKind::DsaMethod,
            None,
            Some("http://www.w3.org/2000/09/xmldsig#dsa-sha1"),
        ),
        (
            SignatureErrorKind::UnknownMethod,
            None,
            Some("urn:mock:unknown-signature-method"),
        ),
    ] {
        let x = plain(vec![Fault::SignatureError { kind }]);
        assert_eq!(
            text_of(&x, ns::SAML, "NameID"),
            Some(bo().name_id()),
            "{kind:?}"
        );
        assert_eq!(digest_values(&x), std::slice::from_ref(&forged), "{kind:?}");
        assert_eq!(
            text_of(&x, ns::DS, "X509Certificate"),
            Some(keys().idp.cert_b64.clone()),
            "KeyInfo names the IdP"
        );
        if let Some(v) = value {
            assert_eq!(text_of(&x, ns::DS, "SignatureValue").unwrap_or_default(), v);
        }
        let want = method.unwrap_or(ns::ALG_RSA_SHA256);
        assert_eq!(
            attr_of(&x, ns::DS, "SignatureMethod", "Algorithm").as_deref(),
            Some(want)
        );
        assert!(verified_assertions(&x).is_empty(), "{kind:?}");
    }
    // Two Signatures that reference nothing, and nothing signing the assertion.
    let x = plain(vec![Fault::SignatureError {
        kind: SignatureErrorKind::NoResolvableReference,
    }]);
    let id = assertion_ids(&x)[0].clone();
    assert_eq!(text_of(&x, ns::SAML, "NameID"), Some(bo().name_id()));
    assert_eq!(count(&x, ns::DS, "Signature"), 2);
    assert_eq!(
        attrs_all(&x, ns::DS, "Reference", "URI"),
        [format!("#{id}-nowhere"), format!("#{id}-nowhere")]
    );
    assert_eq!(
        child_names(&x, &id)[1..3],
        ["Signature".to_string(), "Signature".to_string()]
    );
    assert!(verified_assertions(&x).is_empty());
}

/// `void-c14n`: the relative namespace where `on` says and nowhere else, the tampered NameID,
/// the IdP certificate in KeyInfo, a SignatureValue that is the IdP's RSA-SHA256 signature over
/// the empty string (checked with aws-lc-rs), and the digest of `""`, except on the Signature
/// where the assertion's real digest stays.
#[test]
fn void_c14n_signs_the_empty_string_and_breaks_canonicalisation_where_asked() {
    use aws_lc_rs::signature::{RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let empty = b64.encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, b""));
    assert_eq!(empty, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
    let forged = forged_digest();
    for (on, element, digest) in [
        (VoidC14nOn::Response, (ns::SAMLP, "Response"), &empty),
        (VoidC14nOn::Assertion, (ns::SAML, "Assertion"), &empty),
        (VoidC14nOn::Signature, (ns::DS, "Signature"), &forged),
    ] {
        let x = plain(vec![Fault::VoidC14n { on }]);
        let doc = roxmltree::Document::parse(&x).unwrap();
        // Declared on exactly that element: in its scope, not in its parent's.
        let declares = |n: roxmltree::Node<'_, '_>| {
            let relative = |m: roxmltree::Node<'_, '_>| {
                m.namespaces()
                    .any(|d| d.name() == Some("void") && d.uri() == "1")
            };
            relative(n) && !n.parent_element().is_some_and(relative)
        };
        let declaring: Vec<_> = doc
            .descendants()
            .filter(|n| n.is_element() && declares(*n))
            .map(|n| n.tag_name().name().to_string())
            .collect();
        assert_eq!(declaring, [element.1], "{on:?}");
        assert!(
            doc.descendants()
                .any(|n| n.has_tag_name(element) && declares(n)),
            "{on:?}"
        );
        assert_eq!(
            text_of(&x, ns::SAML, "NameID"),
            Some(bo().name_id()),
            "{on:?}"
        );
        assert_eq!(digest_values(&x), std::slice::from_ref(digest), "{on:?}");
        assert_eq!(
            text_of(&x, ns::DS, "X509Certificate"),
            Some(keys().idp.cert_b64.clone()),
            "KeyInfo names the IdP"
        );
        let value = b64
            .decode(text_of(&x, ns::DS, "SignatureValue").unwrap())
            .unwrap();
        UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, idp())
            .verify(b"", &value)
            .unwrap_or_else(|_| panic!("{on:?}: not the IdP's signature over the empty string"));
        assert!(verified_assertions(&x).is_empty(), "{on:?}");
    }
}

// ---- docs/advisories.md S9: namespace/prefix confusion ----

/// The decrypted-shape facts of each `namespace-confusion` variant, read namespace-aware and
/// by qualified name, with the genuine assertion's signature checked by xml-sec.
#[test]
fn namespace_confusion_variants() {
    let genuine = assertion_ids(&plain(vec![]))[0].clone();
    let nc = |variant| {
        plain(vec![Fault::NamespaceConfusion {
            variant,
            victim: None,
        }])
    };
    // The qualified name of the element with ID `id`, as written.
    let qname_of = |x: &str, id: &str| {
        let doc = roxmltree::Document::parse(x).unwrap();
        let n = doc
            .descendants()
            .find(|n| n.attribute("ID") == Some(id))
            .unwrap();
        let t = &x[n.range()];
        t[1..t.find([' ', '>']).unwrap()].to_string()
    };
    for variant in [
        NamespaceVariant::WrongUriEvilFirst,
        NamespaceVariant::OddPrefixEvil,
        NamespaceVariant::DsWrongUri,
    ] {
        let x = nc(variant);
        // Namespace-aware: one SAML assertion, the genuine one, verified.
        assert_eq!(
            assertion_ids(&x),
            std::slice::from_ref(&genuine),
            "{variant:?}"
        );
        assert_eq!(
            verified_assertions(&x),
            std::slice::from_ref(&genuine),
            "{variant:?}"
        );
        // The evil element comes first, named saml:Assertion, in another namespace, with the
        // victim's NameID (by qualified name) and the genuine assertion as its last child.
        let doc = roxmltree::Document::parse(&x).unwrap();
        let evil = doc
            .descendants()
            .find(|n| n.tag_name().name() == "Assertion")
            .unwrap();
        assert_eq!(
            evil.tag_name().namespace(),
            Some("urn:mock:not-saml-assertion")
        );
        let evil_id = evil.attribute("ID").unwrap();
        assert_eq!(qname_of(&x, evil_id), "saml:Assertion");
        assert_eq!(
            evil.last_element_child().unwrap().attribute("ID"),
            Some(genuine.as_str())
        );
        let name_id = evil
            .descendants()
            .find(|n| n.tag_name().name() == "NameID")
            .unwrap();
        assert_eq!(
            name_id.text().map(str::to_string),
            Some(bo().name_id()),
            "{variant:?}"
        );
        let want_genuine_qname = match variant {
            NamespaceVariant::OddPrefixEvil => "a:Assertion",
            _ => "saml:Assertion",
        };
        assert_eq!(qname_of(&x, &genuine), want_genuine_qname);
        // Only ds-wrong-uri gives the evil assertion a "ds:Signature", in another namespace.
        let bogus = evil.children().find(|c| c.tag_name().name() == "Signature");
        match variant {
            NamespaceVariant::DsWrongUri => {
                assert_eq!(
                    bogus.unwrap().tag_name().namespace(),
                    Some("urn:mock:not-dsig")
                )
            }
            _ => assert!(bogus.is_none(), "{variant:?}"),
        }
        assert_eq!(count(&x, ns::DS, "Signature"), 1, "{variant:?}");
    }

    // The control: the genuine assertion only, written a:Assertion, verified.
    let x = nc(NamespaceVariant::GenuineOddPrefix);
    assert_eq!(assertion_ids(&x), std::slice::from_ref(&genuine));
    assert_eq!(verified_assertions(&x), std::slice::from_ref(&genuine));
    assert_eq!(qname_of(&x, &genuine), "a:Assertion");
    assert!(!x.contains("<saml:Assertion"));
    assert_eq!(text_of(&x, ns::SAML, "NameID"), Some(anna().name_id()));

    // Undeclared prefix: not namespace-well-formed, the assertion untouched.
    let x = nc(NamespaceVariant::UndeclaredPrefix);
    assert!(x.contains(
        "<samlp:Extensions><nlx:LoginHint>mitid</nlx:LoginHint></samlp:Extensions><samlp:Status"
    ));
    assert!(matches!(
        roxmltree::Document::parse(&x),
        Err(roxmltree::Error::UnknownNamespace(..))
    ));
    let declared = x.replacen("<nlx:LoginHint>", r#"<nlx:LoginHint xmlns:nlx="urn:x">"#, 1);
    assert_eq!(verified_assertions(&declared), [genuine]);

    // Encrypted, the forged variants travel in one EncryptedAssertion.
    let x = mint_plan(&FaultPlan::new(vec![Fault::NamespaceConfusion {
        variant: NamespaceVariant::WrongUriEvilFirst,
        victim: None,
    }]))
    .response_xml;
    assert_eq!(count(&x, ns::SAML, "EncryptedAssertion"), 1);
    assert_eq!(count(&x, ns::SAML, "Assertion"), 0);
}

/// S15 (xml-crypto's PI-as-text canonicalisation, OneUptime #2988): the sent value holds a
/// processing instruction whose data is the rest of what the IdP signed. xml-sec (correct
/// exclusive c14n keeps the PI) refuses the assertion; the same text with the PI replaced by
/// its data, which is what a flattening canonicaliser digests, verifies; the element's text
/// nodes (what a DOM reader returns) are exactly the victim's value.
#[test]
fn pi_in_signed_text_verifies_only_when_the_pi_is_flattened() {
    let pi = "<?x mock-attacker-?>";
    let victim_cvr = identities()
        .get("frida-erhverv")
        .and_then(|f| f.cvr.clone())
        .unwrap();
    let cases = [
        ("anna", PiTarget::NameId, PiSplit::Start, bo().name_id()),
        ("anna", PiTarget::NameId, PiSplit::Middle, bo().name_id()),
        ("anna", PiTarget::NameId, PiSplit::End, bo().name_id()),
        (
            "erik-erhverv",
            PiTarget::Cvr,
            PiSplit::Start,
            victim_cvr.clone(),
        ),
        ("erik-erhverv", PiTarget::Cvr, PiSplit::End, victim_cvr),
    ];
    for (who, target, split, seen) in cases {
        let plan = FaultPlan::new(vec![
            Fault::PiInSignedText {
                target,
                split,
                victim: None,
            },
            Fault::NoEncryption,
        ]);
        let x = mint_with(who, &plan, EncryptionAlgorithms::nemlogin_default())
            .unwrap()
            .response_xml;
        let what = format!("{who} {target:?} {split:?}");
        assert_eq!(x.matches(pi).count(), 1, "{what}: one PI");
        let read = match target {
            PiTarget::NameId => text_of(&x, ns::SAML, "NameID").unwrap(),
            PiTarget::Cvr => attribute_values(&x, ns::attr::PROFESSIONAL_CVR).remove(0),
        };
        assert_eq!(read, seen, "{what}: the reader sees the victim's value");
        let at = x.find(pi).unwrap();
        match split {
            PiSplit::Start => assert!(x[..at].ends_with('>'), "{what}: PI first"),
            PiSplit::End => assert!(x[at + pi.len()..].starts_with("</"), "{what}: PI last"),
            PiSplit::Middle => assert!(
                !x[..at].ends_with('>') && !x[at + pi.len()..].starts_with("</"),
                "{what}: text on both sides"
            ),
        }
        assert!(
            verified_assertions(&x).is_empty(),
            "{what}: correct c14n keeps the PI, so the digest fails"
        );
        let flattened = x.replacen(pi, "mock-attacker-", 1);
        assert_eq!(
            verified_assertions(&flattened).len(),
            1,
            "{what}: the PI's data in its place is what the IdP signed"
        );
    }
    // A victim without the value is refused clearly.
    let e = mint_with(
        "anna",
        &FaultPlan::new(vec![Fault::PiInSignedText {
            target: PiTarget::Cvr,
            split: PiSplit::Start,
            victim: None,
        }]),
        EncryptionAlgorithms::nemlogin_default(),
    )
    .map(|_| ())
    .unwrap_err();
    assert!(e.to_string().contains("no CVR"), "{e}");
}

// ---- docs/advisories.md S10: Go encoding/xml round-trip instabilities ----

/// Each `roundtrip` form sits in the Response's `samlp:Extensions`, makes the message one a
/// strict parser refuses, and leaves the genuine assertion intact: with the form taken out the
/// genuine assertion verifies.
#[test]
fn roundtrip_forms_sit_outside_the_intact_assertion() {
    let genuine = assertion_ids(&plain(vec![]))[0].clone();
    for (variant, form) in [
        (
            RoundtripVariant::AttrXmlnsPrefix,
            r#" xmlns:="urn:mock:roundtrip""#,
        ),
        (
            RoundtripVariant::DirectiveInElement,
            "<! <<!-- -->!-- x --> y>",
        ),
        (RoundtripVariant::DoubleColonName, "<nlx:mitid:LoginHint"),
    ] {
        let x = plain(vec![Fault::Roundtrip { variant }]);
        assert!(x.contains(form), "{variant:?}: {x}");
        let ext = x.find("<samlp:Extensions>").expect("an Extensions");
        assert!(ext < x.find("<samlp:Status").unwrap(), "{variant:?}");
        assert!(x.find(form).unwrap() > ext, "{variant:?}");
        assert!(roxmltree::Document::parse(&x).is_err(), "{variant:?}");
        let start = x.find("<samlp:Extensions>").unwrap();
        let end = x.find("</samlp:Extensions>").unwrap() + "</samlp:Extensions>".len();
        let without = format!("{}{}", &x[..start], &x[end..]);
        assert_eq!(
            verified_assertions(&without),
            std::slice::from_ref(&genuine),
            "{variant:?}"
        );
    }
}

/// S8 remainder (xmlseclibs 4.0.0 GHSA-9wcx-p7hr-f935, GHES CVE-2025-23369): the evil
/// assertion's ID is the entity `&i;`, declared as the genuine assertion's ID. Expanded, both
/// assertions carry the signed ID; read literally (libxml2's XPath lookup without entity
/// substitution), only the genuine one does, and its signature verifies. The document carries a
/// DTD, so a DTD-refusing parser refuses it; encrypted, the DTD is inside the EncryptedAssertion
/// and the Response has none.
#[test]
fn entity_ref_id_gives_the_evil_assertion_the_signed_id_by_entity() {
    let original = assertion_ids(&plain(vec![]))[0].clone();
    let strict = |x: &str| roxmltree::Document::parse(x).is_err();
    for placement in [
        EntityRefIdPlacement::Extensions,
        EntityRefIdPlacement::EncryptedNested,
    ] {
        for signature in [SignatureHome::Genuine, SignatureHome::Evil] {
            let what = format!("{placement:?}/{signature:?}");
            let fault = Fault::EntityRefId {
                placement,
                signature,
                victim: None,
            };
            let doc_text = match placement {
                EntityRefIdPlacement::Extensions => {
                    let x = plain(vec![fault]);
                    assert!(
                        x.contains("<!DOCTYPE samlp:Response [<!ENTITY i "),
                        "{what}"
                    );
                    x
                }
                EntityRefIdPlacement::EncryptedNested => {
                    let x = mint_plan(&FaultPlan::new(vec![fault])).response_xml;
                    assert!(!x.contains("<!DOCTYPE"), "{what}: the Response has no DTD");
                    assert!(
                        !strict(&x),
                        "{what}: the Response itself is well-formed, DTD-free"
                    );
                    let d = decrypt_assertion(&x);
                    assert!(
                        d.starts_with("<!DOCTYPE saml:Assertion [<!ENTITY i "),
                        "{what}"
                    );
                    d
                }
            };
            assert!(
                strict(&doc_text),
                "{what}: a DTD-refusing parser refuses it"
            );
            assert!(
                doc_text.contains(&format!(r#"<!ENTITY i "{original}">"#)),
                "{what}: the entity is the genuine ID"
            );
            assert_eq!(doc_text.matches(r#" ID="&i;""#).count(), 1, "{what}");
            assert!(!doc_text.contains("SYSTEM"), "{what}: internal entity only");
            // Entity-expanded (getAttribute): both assertions carry the signed ID.
            let dtd_opts = roxmltree::ParsingOptions {
                allow_dtd: true,
                ..Default::default()
            };
            let expanded = roxmltree::Document::parse_with_options(&doc_text, dtd_opts).unwrap();
            let assertions: Vec<_> = expanded
                .descendants()
                .filter(|n| n.has_tag_name((ns::SAML, "Assertion")))
                .collect();
            let ids: Vec<_> = assertions
                .iter()
                .map(|a| a.attribute("ID").unwrap())
                .collect();
            assert_eq!(ids, [original.as_str(), original.as_str()], "{what}");
            let name_of = |a: roxmltree::Node<'_, '_>| {
                a.children()
                    .find(|c| c.has_tag_name((ns::SAML, "Subject")))
                    .and_then(|s| s.children().find(|c| c.has_tag_name((ns::SAML, "NameID"))))
                    .and_then(|n| n.text())
                    .unwrap()
                    .to_string()
            };
            let names: Vec<_> = assertions.iter().map(|a| name_of(*a)).collect();
            let want = match placement {
                EntityRefIdPlacement::Extensions => [anna().name_id(), bo().name_id()],
                EntityRefIdPlacement::EncryptedNested => [bo().name_id(), anna().name_id()],
            };
            assert_eq!(names, want, "{what}: document order");
            let signed = assertions
                .iter()
                .find(|a| a.children().any(|c| c.has_tag_name((ns::DS, "Signature"))))
                .unwrap();
            let signer = match signature {
                SignatureHome::Genuine => anna(),
                SignatureHome::Evil => bo(),
            };
            assert_eq!(name_of(*signed), signer.name_id(), "{what}");
            // Read literally (the entity unexpanded, as libxml2's XPath lookup compares it),
            // only the genuine assertion has the ID, and the signature verifies over it.
            let start = doc_text.find("<!DOCTYPE").unwrap();
            let end = doc_text.find("]>").unwrap() + 2;
            let literal = format!("{}{}", &doc_text[..start], &doc_text[end..])
                .replace(r#" ID="&i;""#, r#" ID="_unexpanded""#);
            assert_eq!(assertion_ids(&literal).len(), 2, "{what}");
            assert_eq!(
                xmlsec_verify(&literal, &idp(), &original),
                Ok(()),
                "{what}: the genuine signature verifies over the assertion the lookup finds"
            );
        }
    }
    // Each placement refuses the other encryption setting with a clear error.
    let e = mint_with(
        "anna",
        &FaultPlan::new(vec![Fault::EntityRefId {
            placement: EntityRefIdPlacement::Extensions,
            signature: SignatureHome::Genuine,
            victim: None,
        }]),
        EncryptionAlgorithms::nemlogin_default(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("no-encryption"), "{e}");
    let e = mint_with(
        "anna",
        &FaultPlan::new(vec![
            Fault::EntityRefId {
                placement: EntityRefIdPlacement::EncryptedNested,
                signature: SignatureHome::Genuine,
                victim: None,
            },
            Fault::NoEncryption,
        ]),
        EncryptionAlgorithms::nemlogin_default(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("needs encryption"), "{e}");
}

// ---- docs/advisories.md S10: xmldom ≤ 0.4.0 duplicated attributes (CVE-2021-21366) ----

/// The forged variants wrap the genuine assertion in an evil one whose namespace is declared
/// twice: read with the first declaration (xmldom 0.4.0's first parse) the genuine assertion is
/// the only SAML assertion and verifies; read with the last (its re-parse after serialising)
/// the evil one is a SAML assertion too, and comes first. The controls sit in
/// `samlp:Extensions` and leave the genuine assertion intact.
#[test]
fn duplicate_attribute_variants() {
    let genuine = assertion_ids(&plain(vec![]))[0].clone();
    let evil = format!("{genuine}-evil");
    let dup = |variant| {
        plain(vec![Fault::DuplicateAttribute {
            variant,
            victim: None,
        }])
    };
    let not_saml = "urn:mock:not-saml-assertion";
    for (variant, first, second) in [
        (
            DuplicateAttributeVariant::XmlnsEvilFirst,
            format!(r#"xmlns:saml="{not_saml}""#),
            format!(r#"xmlns:saml="{}""#, ns::SAML),
        ),
        (
            DuplicateAttributeVariant::DefaultXmlnsEvilFirst,
            format!(r#"xmlns="{not_saml}""#),
            format!(r#"xmlns="{}""#, ns::SAML),
        ),
    ] {
        let x = dup(variant);
        let both = format!("{first} {second}");
        assert!(x.contains(&both), "{variant:?}: {x}");
        let first_binds = x.replacen(&both, &first, 1);
        assert_eq!(
            assertion_ids(&first_binds),
            std::slice::from_ref(&genuine),
            "{variant:?}"
        );
        assert_eq!(
            verified_assertions(&first_binds),
            std::slice::from_ref(&genuine),
            "{variant:?}"
        );
        let last_binds = x.replacen(&both, &second, 1);
        assert_eq!(
            assertion_ids(&last_binds),
            [evil.clone(), genuine.clone()],
            "{variant:?}"
        );
    }
    assert!(roxmltree::Document::parse(&dup(DuplicateAttributeVariant::XmlnsEvilFirst)).is_err());
    for (variant, form) in [
        (
            DuplicateAttributeVariant::DefaultXmlnsSameUri,
            r#"xmlns="urn:mock:nemlogin-extension" xmlns="urn:mock:nemlogin-extension""#,
        ),
        (
            DuplicateAttributeVariant::PlainAttribute,
            r#"Kind="mitid" Kind="nemid""#,
        ),
    ] {
        let x = dup(variant);
        let ext = x.find("<samlp:Extensions>").expect("an Extensions");
        assert!(x.find(form).unwrap() > ext, "{variant:?}: {x}");
        let end = x.find("</samlp:Extensions>").unwrap() + "</samlp:Extensions>".len();
        let without = format!("{}{}", &x[..ext], &x[end..]);
        assert_eq!(
            verified_assertions(&without),
            std::slice::from_ref(&genuine),
            "{variant:?}"
        );
    }
}
