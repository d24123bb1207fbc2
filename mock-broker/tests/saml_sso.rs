//! End-to-end SSO and SLO over loopback HTTP, checked with independent tools.
//!
//! Each test plays the SP: it signs a Redirect-binding AuthnRequest with the mock SP key, GETs
//! the broker's SSO URL (redirects never followed), takes the auto-post form apart, and checks
//! the Response the way a strict OIOSAML 3 SP would. Decryption and signature verification use
//! the `xml-sec` crate, which shares no code with the broker's bergshamra-based signer, so a
//! passing test means a second implementation agrees with the broker's XML security.

mod saml_support;

use mitid_mock_broker::saml::ns;
use mitid_mock_broker::{ArmedLogin, FaultPlan, Loa};
use saml_support::*;

/// The built-in IdP signing certificates, taken from the broker's published metadata (as an SP
/// would configure them), not from the broker's internals.
async fn idp_spkis(broker: &mitid_mock_broker::RunningBroker) -> Vec<Vec<u8>> {
    let (status, md) = get(broker.metadata_url()).await;
    assert_eq!(status, 200);
    let certs = idp_signing_certs(&md);
    assert!(!certs.is_empty(), "metadata publishes signing certificates");
    certs.iter().map(|c| spki_of(c)).collect()
}

fn arm(broker: &mitid_mock_broker::RunningBroker, id: &str, identity: &str) {
    broker
        .arm(
            id,
            ArmedLogin {
                identity: identity.into(),
                loa: None,
                plan: FaultPlan::none(),
                profile: None,
            },
        )
        .expect("armed");
}

#[tokio::test]
async fn armed_login_yields_a_signed_encrypted_oiosaml3_response() {
    let broker = start().await;
    let spkis = idp_spkis(&broker).await;
    arm(&broker, "_req-happy-1", "anna");
    let req = request(&broker, "_req-happy-1");
    let post = sso(&sso_url(&broker, &req, Some("rs-42 &ok"))).await;

    // The binding.
    assert_eq!(post.action, ACS_URL);
    assert_eq!(post.param, "SAMLResponse");
    assert_eq!(
        post.relay_state.as_deref(),
        Some("rs-42 &ok"),
        "RelayState is kept"
    );

    // The Response envelope.
    let r = &post.xml;
    assert_eq!(
        attr_of(r, ns::SAMLP, "StatusCode", "Value").as_deref(),
        Some(ns::STATUS_SUCCESS)
    );
    assert_eq!(
        attr_of(r, ns::SAMLP, "Response", "InResponseTo").as_deref(),
        Some("_req-happy-1")
    );
    assert_eq!(
        attr_of(r, ns::SAMLP, "Response", "Destination").as_deref(),
        Some(ACS_URL)
    );
    assert_eq!(
        attr_of(r, ns::SAMLP, "Response", "Version").as_deref(),
        Some("2.0")
    );
    assert_eq!(
        text_of(r, ns::SAML, "Issuer").as_deref(),
        Some(broker.entity_id())
    );
    assert_eq!(count(r, ns::SAML, "EncryptedAssertion"), 1);
    assert!(
        count(r, ns::SAML, "Assertion") == 0,
        "no plaintext assertion"
    );
    // Default algorithms (no md:EncryptionMethod in the SP's metadata): AES-256-GCM with
    // xmlenc11#rsa-oaep, SHA-256 digest, MGF1-SHA256.
    let methods = attrs_all(r, ns::XENC, "EncryptionMethod", "Algorithm");
    assert!(
        methods.contains(&ns::ENC_AES256_GCM.to_string()),
        "{methods:?}"
    );
    assert!(
        methods.contains(&ns::KT_RSA_OAEP_11.to_string()),
        "{methods:?}"
    );
    assert_eq!(
        attr_of(r, ns::XENC11, "MGF", "Algorithm").as_deref(),
        Some(ns::MGF1_SHA256)
    );

    // Independent decryption (xml-sec, default xmlenc11#rsa-oaep + MGF1-SHA256 form).
    let a = decrypt_assertion(r);
    let aid = attr_of(&a, ns::SAML, "Assertion", "ID").expect("assertion ID");
    // Independent signature verification with the IdP certificate from the metadata.
    assert!(
        spkis.iter().any(|k| xmlsec_verify(&a, k, &aid).is_ok()),
        "assertion signature verifies with a metadata certificate: {:?}",
        xmlsec_verify(&a, &spkis[0], &aid)
    );
    // ...and that check can fail: the same bytes with a changed NameID must not verify.
    let anna = broker.state().identities().get("anna").unwrap().clone();
    let bo = broker.state().identities().get("bo").unwrap().clone();
    let tampered = a.replace(&anna.name_id(), &bo.name_id());
    assert_ne!(tampered, a);
    for k in &spkis {
        assert!(
            xmlsec_verify(&tampered, k, &aid).is_err(),
            "tampered NameID must not verify"
        );
    }
    // ...and a signature by another key than the metadata's does not verify either.
    let other = spki_of(
        mitid_mock_broker::pki::MockPki::builtin()
            .attacker
            .cert_der(),
    );
    assert!(xmlsec_verify(&a, &other, &aid).is_err());

    // The signature shape NemLog-in uses: enveloped, exc-c14n, RSA-SHA256, SHA-256 digest,
    // directly on the Assertion (the Response is not signed).
    assert_eq!(count(r, ns::DS, "Signature"), 0, "Response itself unsigned");
    assert_eq!(
        attr_of(&a, ns::DS, "SignatureMethod", "Algorithm").as_deref(),
        Some(ns::ALG_RSA_SHA256)
    );
    assert_eq!(
        attr_of(&a, ns::DS, "DigestMethod", "Algorithm").as_deref(),
        Some(ns::ALG_SHA256)
    );
    assert_eq!(
        attr_of(&a, ns::DS, "CanonicalizationMethod", "Algorithm").as_deref(),
        Some(ns::ALG_EXC_C14N)
    );
    assert_eq!(
        attr_of(&a, ns::DS, "Reference", "URI"),
        Some(format!("#{aid}"))
    );

    // Subject.
    assert_eq!(text_of(&a, ns::SAML, "NameID"), Some(anna.name_id()));
    assert!(
        anna.name_id()
            .starts_with("https://data.gov.dk/model/core/eid/person/uuid/")
    );
    assert_eq!(
        attr_of(&a, ns::SAML, "NameID", "Format").as_deref(),
        Some(ns::NAMEID_PERSISTENT)
    );
    assert_eq!(
        attr_of(&a, ns::SAML, "SubjectConfirmation", "Method").as_deref(),
        Some(ns::CM_BEARER)
    );
    assert_eq!(
        attr_of(&a, ns::SAML, "SubjectConfirmationData", "Recipient").as_deref(),
        Some(ACS_URL)
    );
    assert_eq!(
        attr_of(&a, ns::SAML, "SubjectConfirmationData", "InResponseTo").as_deref(),
        Some("_req-happy-1")
    );
    let scd_noa =
        attr_of(&a, ns::SAML, "SubjectConfirmationData", "NotOnOrAfter").expect("NotOnOrAfter");
    let parse = |s: &str| {
        time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).unwrap()
    };
    let now = time::OffsetDateTime::now_utc();
    assert!(parse(&scd_noa) > now && parse(&scd_noa) < now + time::Duration::minutes(30));

    // Conditions.
    let nb = parse(&attr_of(&a, ns::SAML, "Conditions", "NotBefore").unwrap());
    let noa = parse(&attr_of(&a, ns::SAML, "Conditions", "NotOnOrAfter").unwrap());
    assert!(nb <= now + time::Duration::seconds(5) && noa > now);
    assert_eq!(count(&a, ns::SAML, "AudienceRestriction"), 1);
    assert_eq!(
        text_of(&a, ns::SAML, "Audience").as_deref(),
        Some(SP_ENTITY_ID)
    );

    // One AuthnStatement with a SessionIndex.
    assert_eq!(count(&a, ns::SAML, "AuthnStatement"), 1);
    let si = attrs_all(&a, ns::SAML, "AuthnStatement", "SessionIndex");
    assert!(si.len() == 1 && !si[0].is_empty(), "SessionIndex {si:?}");

    // One AttributeStatement; every attribute NameFormat uri.
    assert_eq!(count(&a, ns::SAML, "AttributeStatement"), 1);
    let attrs = saml_attributes(&a);
    for (name, fmt, _) in &attrs {
        assert_eq!(
            fmt.as_deref(),
            Some(ns::ATTRNAME_URI),
            "NameFormat of {name}"
        );
    }
    assert_eq!(
        attribute_values(&a, ns::attr::SPEC_VERSION),
        vec!["OIO-SAML-3.0"]
    );
    assert_eq!(attribute_values(&a, ns::attr::LOA), vec![anna.loa.name()]);
    // The test SP's metadata requests no attributes: it gets everything but the CPR number and
    // privileges, which NemLog-in releases only to public SPs that request them
    // (saml::release).
    assert!(anna.cpr.is_some());
    assert_eq!(
        attribute_values(&a, ns::attr::CPR_NUMBER),
        Vec::<String>::new()
    );
    assert_eq!(
        attribute_values(&a, ns::attr::FIRST_NAME),
        vec![anna.first_name.clone()]
    );
    assert_eq!(
        attribute_values(&a, ns::attr::LAST_NAME),
        vec![anna.last_name.clone()]
    );
    assert_eq!(attribute_values(&a, ns::attr::EMAIL), anna.email);
    assert!(attribute_values(&a, ns::attr::PROFESSIONAL_CVR).is_empty());

    // The flow record says what was sent and why.
    let flow = broker.flow("_req-happy-1").expect("flow recorded");
    assert_eq!(flow.identity.as_deref(), Some("anna"));
    assert_eq!(flow.response_xml.as_deref(), Some(r.as_str()));
    assert!(flow.encryption.is_some());
    broker.shutdown().await;
}

#[tokio::test]
async fn professional_identity_via_query_preselection_carries_cvr_and_org_name() {
    let broker = start().await;
    let spkis = idp_spkis(&broker).await;
    let mut req = request(&broker, "_req-pro-1");
    req.profile = Some(mitid_mock_broker::IdentityKind::Professional);
    let url = format!(
        "{}&mock_identity=erik-erhverv&mock_loa=High",
        sso_url(&broker, &req, None)
    );
    let post = sso(&url).await;
    assert_eq!(post.relay_state, None);
    let a = decrypt_assertion(&post.xml);
    let aid = attr_of(&a, ns::SAML, "Assertion", "ID").unwrap();
    assert!(spkis.iter().any(|k| xmlsec_verify(&a, k, &aid).is_ok()));
    let erik = broker
        .state()
        .identities()
        .get("erik-erhverv")
        .unwrap()
        .clone();
    assert_eq!(text_of(&a, ns::SAML, "NameID"), Some(erik.name_id()));
    assert!(erik.name_id().contains("/professional/uuid/"));
    assert_eq!(
        attribute_values(&a, ns::attr::PROFESSIONAL_CVR),
        vec![erik.cvr.clone().unwrap()]
    );
    assert_eq!(
        attribute_values(&a, ns::attr::PROFESSIONAL_ORG_NAME),
        vec![erik.org_name.clone().unwrap()]
    );
    assert_eq!(
        attribute_values(&a, ns::attr::PROFESSIONAL_UUID),
        vec![format!("urn:uuid:{}", erik.uuid)]
    );
    assert_eq!(
        attribute_values(&a, ns::attr::LOA),
        vec!["High"],
        "mock_loa lowers/raises the asserted LoA"
    );
}

#[tokio::test]
async fn encryption_method_in_sp_metadata_steers_algorithms_to_cbc_and_mgf1p() {
    let broker = mitid_mock_broker::Broker::builder()
        .register_sp(sp_metadata(ENC_CBC_MGF1P))
        .start()
        .await
        .unwrap();
    let spkis = idp_spkis(&broker).await;
    arm(&broker, "_req-cbc-1", "bo");
    let post = sso(&sso_url(&broker, &request(&broker, "_req-cbc-1"), None)).await;
    let methods = attrs_all(&post.xml, ns::XENC, "EncryptionMethod", "Algorithm");
    assert!(
        methods.contains(&ns::ENC_AES256_CBC.to_string()),
        "{methods:?}"
    );
    assert!(
        methods.contains(&ns::KT_RSA_OAEP_MGF1P.to_string()),
        "{methods:?}"
    );
    assert!(
        !methods.contains(&ns::KT_RSA_OAEP_11.to_string()),
        "{methods:?}"
    );
    assert!(
        !methods.contains(&ns::ENC_AES256_GCM.to_string()),
        "{methods:?}"
    );
    let a = decrypt_assertion(&post.xml);
    let aid = attr_of(&a, ns::SAML, "Assertion", "ID").unwrap();
    assert!(spkis.iter().any(|k| xmlsec_verify(&a, k, &aid).is_ok()));
    let flow = broker.flow("_req-cbc-1").unwrap();
    let (algs, why) = flow.encryption.unwrap();
    assert_eq!(algs.data, ns::ENC_AES256_CBC);
    assert!(
        why.contains("md:EncryptionMethod"),
        "the reason is recorded: {why}"
    );
}

#[tokio::test]
async fn chooser_page_lists_identities_and_post_login_completes() {
    let broker = start().await;
    let req = request(&broker, "_req-chooser-1");
    let (status, page) = get(&sso_url(&broker, &req, Some("relay-chooser"))).await;
    assert_eq!(status, 200);
    assert!(page.contains("MOCK"), "the page says it is a mock");
    for i in broker.state().identities().iter() {
        assert!(
            page.contains(&format!("value=\"{}\"", i.id)),
            "chooser lists {}",
            i.id
        );
    }
    assert!(page.contains("action=\"/login\""));
    assert!(page.contains("name=\"flow\" value=\"_req-chooser-1\""));

    let resp = http()
        .post(format!("{}/login", broker.base_url()))
        .form(&[
            ("flow", "_req-chooser-1"),
            ("identity", "bo"),
            ("loa", "Low"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let post = parse_auto_post(&resp.text().await.unwrap());
    assert_eq!(post.action, ACS_URL);
    assert_eq!(post.relay_state.as_deref(), Some("relay-chooser"));
    let a = decrypt_assertion(&post.xml);
    let bo = broker.state().identities().get("bo").unwrap();
    assert_eq!(text_of(&a, ns::SAML, "NameID"), Some(bo.name_id()));
    assert_eq!(
        attribute_values(&a, ns::attr::LOA),
        vec![Loa::Low.name()],
        "lowered LoA"
    );

    // The same flow cannot be completed twice.
    let again = http()
        .post(format!("{}/login", broker.base_url()))
        .form(&[("flow", "_req-chooser-1"), ("identity", "anna")])
        .send()
        .await
        .unwrap();
    assert_eq!(again.status().as_u16(), 400);
    assert!(again.text().await.unwrap().contains("already completed"));
}

#[tokio::test]
async fn acs_chosen_by_url_from_metadata() {
    let broker = start().await;
    let mut req = request(&broker, "_req-acs2");
    req.acs_url = Some(ACS_URL_2.into());
    arm(&broker, "_req-acs2", "anna");
    let post = sso(&sso_url(&broker, &req, None)).await;
    assert_eq!(post.action, ACS_URL_2);
    assert_eq!(
        attr_of(&post.xml, ns::SAMLP, "Response", "Destination").as_deref(),
        Some(ACS_URL_2)
    );
    let a = decrypt_assertion(&post.xml);
    assert_eq!(
        attr_of(&a, ns::SAML, "SubjectConfirmationData", "Recipient").as_deref(),
        Some(ACS_URL_2)
    );

    // Without AssertionConsumerServiceURL the default (isDefault) ACS is used.
    let mut req = request(&broker, "_req-acs-default");
    req.acs_url = None;
    arm(&broker, "_req-acs-default", "anna");
    let post = sso(&sso_url(&broker, &req, None)).await;
    assert_eq!(post.action, ACS_URL);
}

#[tokio::test]
async fn slo_redirect_gets_a_signed_logout_response_to_the_sp() {
    let broker = start().await;
    arm(&broker, "_req-slo-login", "anna");
    let post = sso(&sso_url(&broker, &request(&broker, "_req-slo-login"), None)).await;
    let a = decrypt_assertion(&post.xml);
    let session_index = attr_of(&a, ns::SAML, "AuthnStatement", "SessionIndex").unwrap();
    let name_id = text_of(&a, ns::SAML, "NameID").unwrap();
    // The flow record names the endpoints the SP used: SSO so far, SLO after the logout.
    use mitid_mock_broker::Endpoint;
    let flow = broker.flow("_req-slo-login").unwrap();
    assert_eq!(flow.endpoints, [Endpoint::Sso].into());
    assert_eq!(flow.session_index.as_deref(), Some(session_index.as_str()));

    let now = mitid_mock_broker::saml::response::fmt_instant(time::OffsetDateTime::now_utc());
    let logout = format!(
        r#"<samlp:LogoutRequest xmlns:samlp="{}" xmlns:saml="{}" ID="_lo-1" Version="2.0" IssueInstant="{now}" Destination="{}"><saml:Issuer>{SP_ENTITY_ID}</saml:Issuer><saml:NameID Format="{}">{name_id}</saml:NameID><samlp:SessionIndex>{session_index}</samlp:SessionIndex></samlp:LogoutRequest>"#,
        ns::SAMLP,
        ns::SAML,
        broker.sso_url(),
        ns::NAMEID_PERSISTENT
    );
    let url = format!(
        "{}?{}",
        broker.sso_url(),
        signed_query(&logout, Some("slo-relay"))
    );
    let resp = http().get(&url).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 302, "{:?}", resp.text().await);
    let location = resp.headers()["location"].to_str().unwrap().to_string();
    assert!(
        location.starts_with(&format!("{SLO_URL}?SAMLResponse=")),
        "{location}"
    );
    let query = location.split_once('?').unwrap().1;
    let msg =
        mitid_mock_broker::saml::redirect::decode_query(query, "SAMLResponse").expect("decodes");
    assert_eq!(msg.relay_state.as_deref(), Some("slo-relay"));
    assert_eq!(
        broker.flow("_req-slo-login").unwrap().endpoints,
        [Endpoint::Sso, Endpoint::Slo].into()
    );
    assert_eq!(
        attr_of(&msg.xml, ns::SAMLP, "LogoutResponse", "InResponseTo").as_deref(),
        Some("_lo-1")
    );
    assert_eq!(
        attr_of(&msg.xml, ns::SAMLP, "LogoutResponse", "Destination").as_deref(),
        Some(SLO_URL)
    );
    assert_eq!(
        attr_of(&msg.xml, ns::SAMLP, "StatusCode", "Value").as_deref(),
        Some(ns::STATUS_SUCCESS)
    );
    // The Redirect-binding signature verifies with a certificate from the IdP metadata (checked
    // with aws-lc-rs directly over the octets as received, not with the broker's verifier).
    let spkis = idp_spkis(&broker).await;
    let sig = msg.signature.clone().expect("signed");
    assert_eq!(msg.sig_alg_raw.as_deref(), Some(ns::ALG_RSA_SHA256));
    let ok = spkis.iter().any(|spki| {
        aws_lc_rs::signature::UnparsedPublicKey::new(
            &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
            rsa_public_key_of(spki),
        )
        .verify(&msg.signed_octets, &sig)
        .is_ok()
    });
    assert!(
        ok,
        "LogoutResponse Redirect signature verifies with the IdP metadata certificate"
    );
    let mut bad = msg.signed_octets.clone();
    bad[20] ^= 1;
    assert!(!spkis.iter().any(|spki| {
        aws_lc_rs::signature::UnparsedPublicKey::new(
            &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
            rsa_public_key_of(spki),
        )
        .verify(&bad, &sig)
        .is_ok()
    }));
}

/// The RSAPublicKey (PKCS#1) inside an SPKI, which aws-lc-rs's RSA verifiers take.
fn rsa_public_key_of(spki: &[u8]) -> Vec<u8> {
    use x509_parser::prelude::FromDer;
    let (_, s) = x509_parser::x509::SubjectPublicKeyInfo::from_der(spki).expect("SPKI parses");
    s.subject_public_key.data.to_vec()
}

#[tokio::test]
async fn https_mode_serves_metadata_trusted_via_the_mock_ca() {
    let broker = mitid_mock_broker::Broker::builder()
        .tls(mitid_mock_broker::TlsMode::MockCa)
        .start()
        .await
        .unwrap();
    assert!(broker.metadata_url().starts_with("https://"));
    let ca = reqwest::Certificate::from_der(
        mitid_mock_broker::pki::MockPki::builtin().tls_ca.cert_der(),
    )
    .unwrap();
    let client = reqwest::Client::builder()
        .tls_certs_only([ca])
        .no_proxy()
        .build()
        .unwrap();
    let resp = client
        .get(broker.metadata_url())
        .send()
        .await
        .expect("TLS handshake with the mock CA");
    assert_eq!(resp.status().as_u16(), 200);
    let md = resp.text().await.unwrap();
    assert!(md.contains("IDPSSODescriptor"));
    assert!(
        md.contains(broker.sso_url()),
        "endpoints in metadata are https too"
    );
    // Trusting another CA only (not the system store, where a lab may have installed the mock
    // CA), the handshake fails: the check above can fail.
    let other = reqwest::Certificate::from_der(
        mitid_mock_broker::pki::MockPki::builtin()
            .oces3_root
            .cert_der(),
    )
    .unwrap();
    let untrusting = reqwest::Client::builder()
        .tls_certs_only([other])
        .no_proxy()
        .build()
        .unwrap();
    assert!(untrusting.get(broker.metadata_url()).send().await.is_err());
}

#[tokio::test]
async fn is_passive_gets_no_passive_status_without_assertion() {
    let broker = start().await;
    let mut req = request(&broker, "_req-passive");
    req.is_passive = true;
    let post = sso(&sso_url(&broker, &req, Some("passive-relay"))).await;
    assert_eq!(post.action, ACS_URL);
    assert_eq!(post.relay_state.as_deref(), Some("passive-relay"));
    assert_eq!(
        attrs_all(&post.xml, ns::SAMLP, "StatusCode", "Value"),
        vec![ns::STATUS_RESPONDER, ns::STATUS_NO_PASSIVE]
    );
    assert_eq!(
        attr_of(&post.xml, ns::SAMLP, "Response", "InResponseTo").as_deref(),
        Some("_req-passive")
    );
    assert_eq!(
        count(&post.xml, ns::SAML, "EncryptedAssertion") + count(&post.xml, ns::SAML, "Assertion"),
        0
    );
}
