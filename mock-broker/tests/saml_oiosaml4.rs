//! OIOSAML 4.0 over loopback HTTP: the 4.0 endpoint beside the 3.0.3 one, requested attribute
//! profiles, per-profile assertions, and the refusals (wrong endpoint, no fitting profile).

mod saml_support;

use mitid_mock_broker::saml::ns;
use mitid_mock_broker::saml::oiosaml4::{
    self as oio4, AttributeProfile, NoProfileRequested, Oiosaml4Settings,
};
use mitid_mock_broker::{ArmedLogin, FaultPlan, Loa};
use saml_support::*;

/// A 4.0 AuthnRequest from the mock SP: the 4.0 Destination and LoA, these profiles.
fn request4(
    broker: &mitid_mock_broker::RunningBroker,
    id: &str,
    profiles: &[AttributeProfile],
) -> mitid_mock_broker::saml::authn_request::AuthnRequestBuilder {
    let mut r = request(broker, id);
    r.destination = broker.sso4_url().to_string();
    r.loa = None;
    r.extra_class_refs = vec![oio4::loa_classref(Loa::Substantial)];
    r.requested_profiles = profiles.iter().map(|p| p.uri().to_string()).collect();
    r
}

fn url4(
    broker: &mitid_mock_broker::RunningBroker,
    r: &mitid_mock_broker::saml::authn_request::AuthnRequestBuilder,
) -> String {
    format!("{}?{}", broker.sso4_url(), signed_query(&r.to_xml(), None))
}

fn arm(
    broker: &mitid_mock_broker::RunningBroker,
    id: &str,
    identity: &str,
    profile: Option<AttributeProfile>,
) {
    broker
        .arm(
            id,
            ArmedLogin {
                identity: identity.into(),
                loa: None,
                plan: FaultPlan::none(),
                profile,
            },
        )
        .expect("armed");
}

#[tokio::test]
async fn sso_and_metadata_beside_303() {
    let broker = start().await;
    assert!(broker.sso4_url().ends_with("/idp/saml/4.0/"));
    let (status, md3) = get(broker.metadata_url()).await;
    assert_eq!(status, 200);
    assert!(!md3.contains("SupportedAttributeProfiles"));
    let (status, md4) = get(broker.metadata4_url()).await;
    assert_eq!(status, 200);
    assert!(md4.contains(broker.sso4_url()));

    // A 4.0 login: the first requested profile that fits anna.
    arm(&broker, "_r4-1", "anna", None);
    let req = request4(
        &broker,
        "_r4-1",
        &[
            AttributeProfile::PersonDkWithoutCpr,
            AttributeProfile::PersonDk,
        ],
    );
    let post = sso(&url4(&broker, &req)).await;
    let a = decrypt_assertion(&post.xml);
    assert_eq!(
        attribute_values(&a, oio4::attr::PROFILE),
        vec![AttributeProfile::PersonDkWithoutCpr.uri()]
    );
    assert!(attribute_values(&a, ns::attr::CPR_NUMBER).is_empty());
    assert_eq!(attribute_values(&a, oio4::attr::LOA), vec!["Substantial"]);
    assert_eq!(
        attribute_values(&a, ns::attr::SPEC_VERSION),
        vec![oio4::DEFAULT_SPEC_VERSION]
    );
    let flow = broker.flow("_r4-1").unwrap();
    assert_eq!(flow.oiosaml, oio4::OiosamlVersion::V4);
    assert_eq!(flow.requested_loa, Some(Loa::Substantial));
    assert_eq!(
        flow.attribute_profile,
        Some(AttributeProfile::PersonDkWithoutCpr)
    );

    // The armed choice among the requested profiles.
    arm(&broker, "_r4-2", "anna", Some(AttributeProfile::PersonDk));
    let req = request4(
        &broker,
        "_r4-2",
        &[
            AttributeProfile::PersonDkWithoutCpr,
            AttributeProfile::PersonDk,
        ],
    );
    let a = decrypt_assertion(&sso(&url4(&broker, &req)).await.xml);
    assert_eq!(
        attribute_values(&a, ns::attr::CPR_NUMBER),
        vec!["0304851237"]
    );

    // The same 3.0.3 request still gets a 3.0.3 assertion at the 3.0.3 endpoint.
    arm(&broker, "_r3-1", "anna", None);
    let a = decrypt_assertion(
        &sso(&sso_url(&broker, &request(&broker, "_r3-1"), None))
            .await
            .xml,
    );
    assert_eq!(
        attribute_values(&a, ns::attr::SPEC_VERSION),
        vec!["OIO-SAML-3.0"]
    );
    assert!(attribute_values(&a, oio4::attr::PROFILE).is_empty());
}

#[tokio::test]
async fn refusals() {
    let broker = builder()
        .oiosaml4(Oiosaml4Settings {
            spec_version: "OIO-SAML-4.0.0-TEST".into(),
            no_profile_requested: NoProfileRequested::Refuse,
        })
        .start()
        .await
        .unwrap();
    // A 4.0 request sent to the 3.0.3 URL names the wrong Destination.
    let req = request4(&broker, "_x1", &[AttributeProfile::PersonDk]);
    let (status, body) = get(&format!(
        "{}?{}",
        broker.sso_url(),
        signed_query(&req.to_xml(), None)
    ))
    .await;
    assert_eq!(status, 400);
    assert!(body.contains("is not this broker&#39;s SSO URL") || body.contains("SSO URL"));
    // A professional for a Person-only request: no profile fits.
    arm(&broker, "_x2", "erik-erhverv", None);
    let req = request4(&broker, "_x2", &[AttributeProfile::PersonDk]);
    let (status, body) = get(&url4(&broker, &req)).await;
    assert_eq!(status, 400);
    assert!(
        body.contains("fits none of the requested attribute profiles"),
        "{body}"
    );
    // No profile requested, and the broker is set to refuse that.
    arm(&broker, "_x3", "anna", None);
    let req = request4(&broker, "_x3", &[]);
    let (status, body) = get(&url4(&broker, &req)).await;
    assert_eq!(status, 400);
    assert!(body.contains("names no attribute profile"), "{body}");
    // The configured specVersion is what 4.0 assertions carry.
    arm(&broker, "_x4", "anna", None);
    let req = request4(&broker, "_x4", &[AttributeProfile::PersonDk]);
    let a = decrypt_assertion(&sso(&url4(&broker, &req)).await.xml);
    assert_eq!(
        attribute_values(&a, ns::attr::SPEC_VERSION),
        vec!["OIO-SAML-4.0.0-TEST"]
    );
}

#[tokio::test]
async fn profile_faults() {
    let broker = start().await;
    broker
        .arm(
            "_f1",
            ArmedLogin {
                identity: "anna".into(),
                loa: None,
                plan: FaultPlan::none().with(mitid_mock_broker::Fault::AttributeProfile {
                    profile: AttributeProfile::PersonDk,
                }),
                profile: None,
            },
        )
        .unwrap();
    let req = request4(&broker, "_f1", &[AttributeProfile::PersonDkWithoutCpr]);
    let a = decrypt_assertion(&sso(&url4(&broker, &req)).await.xml);
    assert_eq!(
        attribute_values(&a, oio4::attr::PROFILE),
        vec![AttributeProfile::PersonDk.uri()]
    );
    assert!(!attribute_values(&a, ns::attr::CPR_NUMBER).is_empty());

    broker
        .arm(
            "_f2",
            ArmedLogin {
                identity: "anna".into(),
                loa: None,
                plan: FaultPlan::none().with(mitid_mock_broker::Fault::Oiosaml303Assertion),
                profile: None,
            },
        )
        .unwrap();
    let req = request4(&broker, "_f2", &[AttributeProfile::PersonDk]);
    let a = decrypt_assertion(&sso(&url4(&broker, &req)).await.xml);
    assert_eq!(
        attribute_values(&a, ns::attr::SPEC_VERSION),
        vec!["OIO-SAML-3.0"]
    );
    assert!(attribute_values(&a, oio4::attr::PROFILE).is_empty());
}
