//! insta snapshots of what the broker sends, so reviewers see the exact XML: the IdP metadata, a
//! minted login Response (the signed assertion before encryption, and the encrypted envelope),
//! and a few dangerous-API outputs. The clock is fixed and IDs come from `IdGen::seeded`, so
//! the only varying parts are randomised ciphertext; those, signature values and certificates
//! are redacted (a fixture regeneration must not churn every snapshot). Digest values stay:
//! they are deterministic and catch any change in canonical form.
//!
//! Snapshots live in `snapshots/broker/` at the repository root. Review changes with
//! `cargo insta review` (or delete the `.snap` file and re-run to accept a deliberate change).

mod saml_support;

use mitid_mock_broker::dangerous::XswVariant;
use mitid_mock_broker::{Fault, FaultPlan};
use saml_support::*;

fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path("../../snapshots/broker");
    s.set_prepend_module_to_snapshot(false);
    s.set_omit_expression(true);
    s
}

fn snap(name: &str, xml: &str) {
    settings().bind(|| insta::assert_snapshot!(name, pretty_xml(&redact(xml))));
}

#[tokio::test]
async fn idp_metadata() {
    let broker = mitid_mock_broker::Broker::builder()
        .public_base_url("https://127.0.0.1:8443")
        .start()
        .await
        .unwrap();
    let (status, served) = get(&format!("http://{}/idp/saml/3.0/metadata", broker.addr())).await;
    assert_eq!(status, 200);
    assert_eq!(
        served,
        broker.metadata_xml(),
        "served metadata is what the handle renders"
    );
    snap("idp_metadata", &served);
}

/// The OIOSAML 4.0 metadata, served beside the 3.0.3 one: same entityID and keys, the 4.0
/// endpoint, protocol and attribute profiles.
#[tokio::test]
async fn idp_metadata4() {
    let broker = mitid_mock_broker::Broker::builder()
        .public_base_url("https://127.0.0.1:8443")
        .start()
        .await
        .unwrap();
    let (status, served) = get(&format!("http://{}/idp/saml/4.0/metadata", broker.addr())).await;
    assert_eq!(status, 200);
    assert_eq!(served, broker.metadata4_xml());
    assert!(served.contains("https://127.0.0.1:8443/idp/saml/4.0/"));
    assert!(served.contains("https://data.gov.dk/saml/profile/oio/4"));
    assert!(served.contains("<Profile>https://data.gov.dk/eid/Person/DK/WithoutCPR</Profile>"));
    assert!(!served.contains("AttributeAuthorityDescriptor"));
    snap("idp_metadata4", &served);
}

#[test]
fn minted_signed_assertion_and_encrypted_response() {
    let m = mint_plan(&FaultPlan::none());
    let a = m
        .signed_assertion_xml
        .clone()
        .expect("signed assertion kept for debugging");
    // Minting is deterministic apart from encryption: a second mint signs the same bytes.
    assert_eq!(
        mint_plan(&FaultPlan::none())
            .signed_assertion_xml
            .as_deref(),
        Some(a.as_str())
    );
    snap("minted_assertion_signed", &a);
    snap("minted_response_encrypted", &m.response_xml);
}

#[test]
fn minted_professional_assertion() {
    let m = mint_with(
        "erik-erhverv",
        &FaultPlan::none(),
        mitid_mock_broker::saml::xmlsec::EncryptionAlgorithms::compatible(),
    )
    .unwrap();
    snap(
        "minted_assertion_professional",
        &m.signed_assertion_xml.unwrap(),
    );
}

#[test]
fn fault_legacy_oiosaml2() {
    let m = mint_plan(&FaultPlan::new(vec![
        Fault::LegacyOiosaml2,
        Fault::NoEncryption,
    ]));
    snap("fault_legacy_oiosaml2", &m.response_xml);
}

#[test]
fn fault_xsw3() {
    let m = mint_plan(&FaultPlan::new(vec![
        Fault::Xsw {
            variant: XswVariant::Xsw3,
            victim: Some("bo".into()),
        },
        Fault::NoEncryption,
    ]));
    snap("fault_xsw3", &m.response_xml);
}

#[test]
fn fault_digest_value_comment() {
    let m = mint_plan(&FaultPlan::new(vec![
        Fault::DigestValueComment,
        Fault::NoEncryption,
    ]));
    snap("fault_digest_value_comment", &m.response_xml);
}

#[test]
fn fault_doctype() {
    let m = mint_plan(&FaultPlan::new(vec![
        Fault::Doctype {
            subset: Default::default(),
        },
        Fault::NoEncryption,
    ]));
    snap("fault_doctype", &m.response_xml);
}

#[test]
fn fault_namespace_odd_prefix_evil() {
    let m = mint_plan(&FaultPlan::new(vec![
        Fault::NamespaceConfusion {
            variant: mitid_mock_broker::dangerous::NamespaceVariant::OddPrefixEvil,
            victim: Some("bo".into()),
        },
        Fault::NoEncryption,
    ]));
    snap("fault_namespace_odd_prefix_evil", &m.response_xml);
}
