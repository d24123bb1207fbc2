//! The reference SP's crypto (xml-sec) against what the broker mints (bergshamra): the two
//! implementations share no code, so agreement here is independent evidence.

use mitid_mock_broker::dangerous::{Fault, FaultPlan};
use mitid_mock_broker::identity::IdentityStore;
use mitid_mock_broker::nsis::Loa;
use mitid_mock_broker::pki::MockPki;
use mitid_mock_broker::saml::assertion::ModelContext;
use mitid_mock_broker::saml::mint::{MintInput, SigningKeys, mint};
use mitid_mock_broker::saml::xmlsec::{Bergshamra, EncryptionAlgorithms};
use mitid_reference::reference_sp::idp_metadata::spki_of;
use mitid_reference::reference_sp::xml;
use mitid_reference::reference_sp::xmlsec::{VerifyPolicy, XmlCrypto};
use xml_sec::xmldsig::SignatureRequirement;

fn minted(plan: FaultPlan, enc: EncryptionAlgorithms) -> String {
    let ids = IdentityStore::builtin();
    let keys = SigningKeys::mock().unwrap();
    let pki = MockPki::builtin();
    let ctx = ModelContext {
        idp_entity_id: "https://saml.mock-nemlog-in.invalid".into(),
        sp_entity_id: "https://saml.sp.example".into(),
        acs_url: "http://127.0.0.1:1/acs".into(),
        in_response_to: Some("_req1".into()),
        now: time::OffsetDateTime::now_utc(),
        authn_instant: None,
        response_id: "_r1".into(),
        assertion_id: "_a1".into(),
        session_index: "_s1".into(),
        requested_attributes: None,
        conditions_lifetime: time::Duration::hours(1),
        confirmation_lifetime: time::Duration::minutes(5),
        transient_name_id: None,
    };
    let input = MintInput {
        ctx,
        identity: ids.get("anna").unwrap(),
        loa: Loa::Substantial,
        identities: &ids,
        sp_encryption_cert: Some(pki.sp.cert_der()),
        encryption: enc,
        plan: &plan,
        keys: &keys,
        fetch_recorder_url: None,
        oiosaml4: None,
    };
    mint(&input, &Bergshamra, &Bergshamra).unwrap().response_xml
}

fn decrypt_first(crypto: &XmlCrypto, response: &str) -> Result<String, String> {
    let doc = xml::parse(response).unwrap();
    let ed = doc
        .descendants()
        .find(|n| xml::is(*n, xml::XENC, "EncryptedData"))
        .ok_or("no EncryptedData")?;
    crypto
        .decrypt(&xml::standalone(ed, response))
        .map_err(|e| e.0)
}

#[test]
fn xml_sec_decrypts_and_verifies_broker_output() {
    let pki = MockPki::builtin();
    let crypto = XmlCrypto::new(pki.sp.key_pkcs8_der().unwrap(), pki.sp.cert_der()).unwrap();
    let idp = spki_of(pki.idp_oces3.cert_der()).unwrap();
    // rsa-oaep-mgf1p (SHA-1 OAEP) is outside xml-sec's SecureSaml decryption policy: the SP's
    // metadata says which algorithms it decrypts, and the broker honours that.
    let compatible = minted(FaultPlan::none(), EncryptionAlgorithms::compatible());
    let e = decrypt_first(&crypto, &compatible).unwrap_err();
    assert!(e.contains("rsa-oaep-mgf1p"), "{e}");
    let aes128 = EncryptionAlgorithms {
        data: "http://www.w3.org/2009/xmlenc11#aes128-gcm".into(),
        ..EncryptionAlgorithms::nemlogin_default()
    };
    for enc in [EncryptionAlgorithms::nemlogin_default(), aes128] {
        let r = minted(FaultPlan::none(), enc.clone());
        let a = decrypt_first(&crypto, &r).unwrap_or_else(|e| panic!("{enc:?}: {e}"));
        let rsa256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
        crypto
            .verify_target(
                &a,
                None,
                rsa256,
                std::slice::from_ref(&idp),
                VerifyPolicy::SecureSaml,
                SignatureRequirement::All,
            )
            .unwrap();
        let tampered = a.replacen("Substantial", "High", 1);
        assert!(
            crypto
                .verify_target(
                    &tampered,
                    None,
                    rsa256,
                    std::slice::from_ref(&idp),
                    VerifyPolicy::SecureSaml,
                    SignatureRequirement::All
                )
                .is_err()
        );
        let attacker = spki_of(pki.attacker.cert_der()).unwrap();
        assert!(
            crypto
                .verify_target(
                    &a,
                    None,
                    rsa256,
                    &[attacker],
                    VerifyPolicy::SecureSaml,
                    SignatureRequirement::All
                )
                .is_err()
        );
    }
    let r = minted(
        FaultPlan::new(vec![Fault::Sha1]),
        EncryptionAlgorithms::nemlogin_default(),
    );
    let a = decrypt_first(&crypto, &r).unwrap();
    let sha1 = "http://www.w3.org/2000/09/xmldsig#rsa-sha1";
    assert!(
        crypto
            .verify_target(
                &a,
                None,
                sha1,
                std::slice::from_ref(&idp),
                VerifyPolicy::SecureSaml,
                SignatureRequirement::All
            )
            .is_err()
    );
    crypto
        .verify_target(
            &a,
            None,
            sha1,
            std::slice::from_ref(&idp),
            VerifyPolicy::Compatible,
            SignatureRequirement::All,
        )
        .unwrap();
}

/// The home-grown verifier behind the naive-verifier flaws: correct on genuine and forged
/// signatures, except for exactly the slip its bug names.
#[test]
fn naive_verifier_fails_only_where_its_bug_lets_it() {
    use mitid_mock_broker::dangerous::{
        DigestPosition, HmacAlg, HmacKeyEncoding, SignatureErrorKind, VoidC14nOn,
    };
    use mitid_reference::reference_sp::naive_dsig::{Bug, IdpKeys, KeyForm, verify};
    let pki = MockPki::builtin();
    let crypto = XmlCrypto::new(pki.sp.key_pkcs8_der().unwrap(), pki.sp.cert_der()).unwrap();
    let idp = spki_of(pki.idp_oces3.cert_der()).unwrap();
    let idp_der = pki.idp_oces3.cert_der().to_vec();
    let attacker = spki_of(pki.attacker.cert_der()).unwrap();
    let attacker_der = pki.attacker.cert_der().to_vec();
    let assertion = |faults: Vec<Fault>| {
        let r = minted(
            FaultPlan::new(faults),
            EncryptionAlgorithms::nemlogin_default(),
        );
        decrypt_first(&crypto, &r).unwrap()
    };
    let genuine = assertion(vec![]);
    let tampered = genuine.replacen("Substantial", "High", 1);
    let comment = assertion(vec![Fault::DigestValueComment]);
    let two = assertion(vec![Fault::TwoSignedInfo]);
    // Inside the assertion, so the assertion is its own document here.
    let before = assertion(vec![Fault::DigestValueElsewhere {
        position: DigestPosition::BeforeSignedInfo,
    }]);
    let after = assertion(vec![Fault::DigestValueElsewhere {
        position: DigestPosition::AfterSignature,
    }]);
    let hmac_pem = assertion(vec![Fault::HmacKeyConfusion {
        alg: HmacAlg::HmacSha256,
        encoding: HmacKeyEncoding::CertPem,
        without_key_info: false,
    }]);
    let hmac_der = assertion(vec![Fault::HmacKeyConfusion {
        alg: HmacAlg::HmacSha256,
        encoding: HmacKeyEncoding::CertDer,
        without_key_info: true,
    }]);
    let empty_value = assertion(vec![Fault::SignatureError {
        kind: SignatureErrorKind::EmptyValue,
    }]);
    let short_value = assertion(vec![Fault::SignatureError {
        kind: SignatureErrorKind::ShortValue,
    }]);
    // The relative namespace inside the assertion, so the assertion is its own document.
    let void_assertion = assertion(vec![Fault::VoidC14n {
        on: VoidC14nOn::Assertion,
    }]);
    let void_signature = assertion(vec![Fault::VoidC14n {
        on: VoidC14nOn::Signature,
    }]);
    for bug in [
        Bug::DigestValueFirstChild,
        Bug::ReferencesFromLastSignedInfo,
        Bug::DigestValueFromDocument,
        Bug::HmacWithIdpCert(KeyForm::CertPem),
        Bug::HmacWithIdpCert(KeyForm::CertDer),
        Bug::VerifyErrorAsSuccess,
        Bug::C14nErrorAsEmpty,
    ] {
        let keys = IdpKeys {
            spki: std::slice::from_ref(&idp),
            certs_der: std::slice::from_ref(&idp_der),
        };
        let foreign = IdpKeys {
            spki: std::slice::from_ref(&attacker),
            certs_der: std::slice::from_ref(&attacker_der),
        };
        let ok = |x: &str| verify(x, x, keys, bug).is_ok();
        verify(&genuine, &genuine, keys, bug).unwrap_or_else(|e| panic!("{bug:?} on genuine: {e}"));
        assert!(verify(&genuine, &genuine, foreign, bug).is_err());
        assert!(!ok(&tampered), "{bug:?} tampered");
        assert_eq!(
            ok(&comment),
            bug == Bug::DigestValueFirstChild,
            "{bug:?} on a DigestValue with a comment"
        );
        assert_eq!(
            ok(&two),
            bug == Bug::ReferencesFromLastSignedInfo,
            "{bug:?} on two SignedInfo"
        );
        assert_eq!(
            ok(&before),
            bug == Bug::DigestValueFromDocument,
            "{bug:?} before"
        );
        assert!(!ok(&after), "{bug:?} after: a first-match reader misses it");
        assert_eq!(
            ok(&hmac_pem),
            matches!(
                bug,
                Bug::HmacWithIdpCert(KeyForm::CertPem) | Bug::VerifyErrorAsSuccess
            ),
            "{bug:?} on HMAC keyed with the PEM"
        );
        assert_eq!(
            ok(&hmac_der),
            matches!(
                bug,
                Bug::HmacWithIdpCert(KeyForm::CertDer) | Bug::VerifyErrorAsSuccess
            ),
            "{bug:?} on HMAC keyed with the DER"
        );
        assert_eq!(
            ok(&empty_value),
            bug == Bug::VerifyErrorAsSuccess,
            "{bug:?} on an empty SignatureValue"
        );
        assert!(!ok(&short_value), "{bug:?}: a wrong-length value is a 0");
        for void in [&void_assertion, &void_signature] {
            assert_eq!(
                ok(void),
                bug == Bug::C14nErrorAsEmpty,
                "{bug:?} on a void canonicalisation"
            );
        }
    }
}
