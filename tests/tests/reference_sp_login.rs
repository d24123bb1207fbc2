//! The strict reference SP logs in a correct MitID login end to end through the mock broker:
//! signed AuthnRequest, encrypted + signed assertion, verified and decrypted by xml-sec, session
//! keyed by the MitID UUID.

use mitid_mock_broker::{ArmedLogin, Broker, FaultPlan, IdentityStore, Loa};
use mitid_reference::login_flow::{browser, login, whoami};
use mitid_reference::reference_sp::{ReferenceSp, SpConfig};

#[tokio::test]
async fn strict_sp_logs_in_anna_by_her_mitid_uuid() {
    let broker = Broker::builder().start().await.unwrap();
    let sp = ReferenceSp::start(SpConfig::new(broker.metadata_xml()))
        .await
        .unwrap();
    sp.register_with(&broker).unwrap();
    let anna = IdentityStore::builtin().get("anna").unwrap().clone();

    let client = browser();
    assert_eq!(
        whoami(&client, &sp.whoami_url()).await.unwrap(),
        None,
        "no session before login"
    );
    let armed = ArmedLogin {
        identity: "anna".into(),
        loa: None,
        plan: FaultPlan::none(),
        profile: None,
    };
    let out = login(&client, &sp.login_url(), &broker, Some(armed))
        .await
        .unwrap();
    assert_eq!(
        out.acs_status,
        303,
        "ACS answer: {}\nrejections: {:?}",
        out.acs_body,
        sp.rejections()
    );
    let me = whoami(&client, &sp.whoami_url())
        .await
        .unwrap()
        .expect("logged in");
    assert_eq!(me["uuid"], anna.uuid.to_string());
    assert_eq!(me["kind"], "person");
    assert_eq!(me["loa"], anna.loa.name());
    assert_eq!(me["name_id"], anna.name_id());
    assert_eq!(me["cpr"].as_str(), anna.cpr.as_deref());
    let p = client.get(sp.protected_url()).send().await.unwrap();
    assert_eq!(p.status().as_u16(), 200);

    // The flow record shows the assertion really was encrypted with the NemLog-in default.
    let flow = broker.flow(&out.request_id).unwrap();
    let (enc, _) = flow.encryption.unwrap();
    assert_eq!(
        enc.key_transport,
        "http://www.w3.org/2009/xmlenc11#rsa-oaep"
    );

    // Another browser has no session.
    assert_eq!(whoami(&browser(), &sp.whoami_url()).await.unwrap(), None);
}

#[tokio::test]
async fn mock_identity_passthrough_and_professional_login() {
    let broker = Broker::builder().start().await.unwrap();
    let sp =
        ReferenceSp::start(SpConfig::new(broker.metadata_xml()).required_loa(Loa::Substantial))
            .await
            .unwrap();
    sp.register_with(&broker).unwrap();
    let erik = IdentityStore::builtin()
        .get("erik-erhverv")
        .unwrap()
        .clone();
    let client = browser();
    let url = format!("{}?mock_identity=erik-erhverv", sp.login_url());
    let out = login(&client, &url, &broker, None).await.unwrap();
    assert_eq!(out.acs_status, 303, "{}", out.acs_body);
    let me = whoami(&client, &sp.whoami_url()).await.unwrap().unwrap();
    assert_eq!(me["uuid"], erik.uuid.to_string());
    assert_eq!(me["kind"], "professional");
    assert_eq!(me["cvr"].as_str(), erik.cvr.as_deref());
}

#[tokio::test]
async fn private_sp_asks_for_no_cpr_and_keys_by_uuid() {
    let broker = Broker::builder().start().await.unwrap();
    let sp = ReferenceSp::start(SpConfig::new(broker.metadata_xml()).private_sp(true))
        .await
        .unwrap();
    sp.register_with(&broker).unwrap();
    assert!(!sp.metadata_xml().contains("cprNumber"));
    let client = browser();
    let url = format!("{}?mock_identity=anna", sp.login_url());
    let out = login(&client, &url, &broker, None).await.unwrap();
    assert_eq!(out.acs_status, 303, "{}", out.acs_body);
    let me = whoami(&client, &sp.whoami_url()).await.unwrap().unwrap();
    let anna = IdentityStore::builtin().get("anna").unwrap().clone();
    assert_eq!(me["uuid"], anna.uuid.to_string());
    assert!(me["cpr"].is_null(), "{me}");
}

#[tokio::test]
async fn bad_configuration_is_a_clear_error() {
    use mitid_reference::reference_sp::SpStartError;
    let e = ReferenceSp::start(SpConfig::new("<not-metadata/>"))
        .await
        .unwrap_err();
    assert!(matches!(e, SpStartError::IdpMetadata(_)), "{e}");
    assert!(e.to_string().contains("EntityDescriptor"), "{e}");
    let e = ReferenceSp::start(SpConfig::new("<!DOCTYPE x><x/>"))
        .await
        .unwrap_err();
    assert!(matches!(e, SpStartError::IdpMetadata(_)), "{e}");
    let broker = Broker::builder().start().await.unwrap();
    let e =
        ReferenceSp::start(SpConfig::new(broker.metadata_xml()).bind("0.0.0.0:0".parse().unwrap()))
            .await
            .unwrap_err();
    assert!(matches!(e, SpStartError::NotLoopback(_)), "{e}");
}
