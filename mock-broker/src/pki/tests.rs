//! Tests of the mock PKI: the committed fixtures, the runtime API and the generator.
//! No key generation happens here (RSA-4096 generation takes seconds); the generator is checked
//! by re-issuing from the committed keys.

use super::der::{self, tag};
use super::fixtures::{self, FIXTURES};
use super::*;
use std::collections::BTreeMap;
use std::path::PathBuf;
use time::macros::datetime;
use x509_parser::extensions::ParsedExtension;
use x509_parser::prelude::{FromDer, X509Certificate};

fn pki() -> &'static MockPki {
    MockPki::builtin()
}

fn testdata() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/pki")
}

fn parse(c: &Credential) -> X509Certificate<'_> {
    X509Certificate::from_der(c.cert_der())
        .expect("fixture parses")
        .1
}

fn policies(c: &Credential) -> Vec<String> {
    parse(c)
        .extensions()
        .iter()
        .filter_map(|e| match e.parsed_extension() {
            ParsedExtension::CertificatePolicies(p) => Some(p.clone()),
            _ => None,
        })
        .flatten()
        .map(|p| p.policy_id.to_id_string())
        .collect()
}

/// `(oid, ASN.1 tag, value)` per RDN, in ASN.1 order.
fn subject_rdns(c: &Credential) -> Vec<Vec<(String, u32, String)>> {
    parse(c)
        .subject()
        .iter()
        .map(|rdn| {
            rdn.iter()
                .map(|a| {
                    (
                        a.attr_type().to_id_string(),
                        a.attr_value().tag().0,
                        a.as_str().unwrap_or("<non-string>").to_owned(),
                    )
                })
                .collect()
        })
        .collect()
}

/// (tbs, signature algorithm OID, signature bytes) of a certificate DER.
fn split_cert(cert: &[u8]) -> (&[u8], String, &[u8]) {
    let (outer, _) = der::expect(cert, tag::SEQUENCE).unwrap();
    let (tbs, rest) = der::read(outer.content).unwrap();
    let (alg, rest) = der::expect(rest, tag::SEQUENCE).unwrap();
    let (bits, _) = der::expect(rest, tag::BIT_STRING).unwrap();
    let (oid, _) = der::expect(alg.content, tag::OID).unwrap();
    let oid = x509_parser::der_parser::oid::Oid::new(oid.content.into()).to_id_string();
    (tbs.raw, oid, &bits.content[1..])
}

#[test]
fn every_fixture_parses_with_its_key_and_matching_size() {
    let all = pki().all();
    assert_eq!(all.len(), FIXTURES.len());
    for (name, cred) in all {
        assert!(cred.has_private_key(), "{name}");
        assert_eq!(
            Some(cred.key_bits()),
            fixtures::key_bits_expected(name),
            "{name}: key size"
        );
        let is_p256 = FIXTURES
            .iter()
            .any(|(n, k)| *n == name && *k == fixtures::KeySpec::P256);
        assert_eq!(cred.is_ec(), is_p256, "{name}");
        assert_eq!(cred.is_rsa(), !is_p256, "{name}");
        assert!(
            cred.key_pkcs8_pem()
                .unwrap()
                .starts_with("-----BEGIN PRIVATE KEY-----\n")
        );
        assert_eq!(cred.key_pkcs1_pem().is_some(), !is_p256, "{name}");
    }
}

#[test]
fn from_dir_loads_the_same_fixtures_as_builtin() {
    let disk = MockPki::from_dir(&testdata()).unwrap();
    for ((n1, a), (n2, b)) in disk.all().into_iter().zip(pki().all()) {
        assert_eq!(n1, n2);
        assert_eq!(a.cert_der(), b.cert_der(), "{n1}");
        assert_eq!(a.key_pkcs8_der(), b.key_pkcs8_der(), "{n1}");
    }
}

#[test]
fn idp_oces3_has_the_oces3_organisation_layout() {
    let idp = &pki().idp_oces3;
    const UTF8: u32 = 12;
    const PRINTABLE: u32 = 19;
    let rdn = |oid: &str, t: u32, v: &str| vec![(oid.to_owned(), t, v.to_owned())];
    assert_eq!(
        subject_rdns(idp),
        vec![
            rdn("2.5.4.3", UTF8, "NemLog-in IdP - Mock"),
            rdn(
                "2.5.4.5",
                PRINTABLE,
                &format!("UI:DK-O:G:{}", fixtures::IDP_UUID)
            ),
            rdn("2.5.4.10", UTF8, "Digitaliseringsstyrelsen (MOCK)"),
            rdn("2.5.4.97", UTF8, &format!("NTRDK-{}", fixtures::IDP_CVR)),
            rdn("2.5.4.6", PRINTABLE, "DK"),
        ]
    );
    assert!(fixtures::IDP_CVR.starts_with('9') && fixtures::IDP_CVR.len() == 8);
    assert_eq!(
        idp.subject(),
        "C=DK,organizationIdentifier=NTRDK-99000001,O=Digitaliseringsstyrelsen (MOCK),\
         serialNumber=UI:DK-O:G:6d6f636b-1d90-4000-8000-000000000001,CN=NemLog-in IdP - Mock"
    );
    assert_eq!(idp.issuer(), pki().oces3_issuing.subject());
    assert_eq!(policies(idp), ["0.4.0.2042.1.1", "1.2.208.169.1.1.1.3.7"]);

    let cert = parse(idp);
    let bc = cert.basic_constraints().unwrap().expect("basicConstraints");
    assert!(bc.critical && !bc.value.ca);
    let ku = cert.key_usage().unwrap().expect("keyUsage");
    assert!(ku.critical);
    assert!(ku.value.digital_signature() && ku.value.key_encipherment());
    assert!(!ku.value.key_cert_sign());
    assert_eq!(idp.key_bits(), 3072);
    assert_eq!(
        cert.signature_algorithm.algorithm.to_id_string(),
        "1.2.840.113549.1.1.10",
        "OCES3 certificates are RSASSA-PSS signed"
    );

    let next = &pki().idp_oces3_next;
    assert!(next.subject().ends_with("CN=NemLog-in IdP - Mock (next)"));
    assert_ne!(next.public_key_spki_der(), idp.public_key_spki_der());
    assert_eq!(policies(next), policies(idp));
}

#[test]
fn oces3_chain_names_and_ca_flags() {
    let p = pki();
    assert_eq!(
        p.oces3_root.subject(),
        "C=DK,O=Den Danske Stat,OU=MOCK - not a real OCES CA,CN=Den Danske Stat OCES rod-CA"
    );
    assert_eq!(p.oces3_root.issuer(), p.oces3_root.subject());
    assert_eq!(
        p.oces3_issuing.subject(),
        "C=DK,O=Den Danske Stat,OU=MOCK - not a real OCES CA,CN=Den Danske Stat OCES udstedende-CA 1"
    );
    assert_eq!(p.oces3_issuing.issuer(), p.oces3_root.subject());
    assert_eq!(p.oces3_root.key_bits(), 4096);
    assert_eq!(p.oces3_issuing.key_bits(), 3072);
    for ca in [
        &p.oces3_root,
        &p.oces3_issuing,
        &p.oces2_root,
        &p.oces2_issuing,
        &p.tls_ca,
    ] {
        assert!(parse(ca).is_ca(), "{}", ca.subject());
        assert!(ca.subject().contains("MOCK"), "{}", ca.subject());
    }
    for leaf in [&p.idp_oces3, &p.sp, &p.idp_oces2, &p.tls_server] {
        assert!(!parse(leaf).is_ca(), "{}", leaf.subject());
    }
}

#[test]
fn oces2_chain_and_foces_layout() {
    let p = pki();
    assert_eq!(
        p.oces2_root.subject(),
        "CN=TRUST2408 Systemtest VII Primary CA (MOCK),O=TRUST2408,C=DK"
    );
    assert_eq!(
        p.oces2_issuing.subject(),
        "CN=TRUST2408 Systemtest XIX CA (MOCK),O=TRUST2408,C=DK"
    );
    assert_eq!(p.oces2_issuing.issuer(), p.oces2_root.subject());
    assert_eq!(p.idp_oces2.issuer(), p.oces2_issuing.subject());
    assert_eq!(p.idp_oces2.key_bits(), 2048);

    let rdns = subject_rdns(&p.idp_oces2);
    assert_eq!(
        rdns.len(),
        3,
        "C, O, and one multi-valued CN+serialNumber RDN"
    );
    assert_eq!(rdns[0][0].0, "2.5.4.6");
    assert_eq!(
        rdns[1][0].2,
        "Digitaliseringsstyrelsen (MOCK) // CVR:99000001"
    );
    let mut multi: Vec<(String, String)> = rdns[2]
        .iter()
        .map(|(o, _, v)| (o.clone(), v.clone()))
        .collect();
    multi.sort();
    assert_eq!(
        multi,
        [
            (
                "2.5.4.3".to_owned(),
                "NemLog-in ADFS Mock (funktionscertifikat)".to_owned()
            ),
            ("2.5.4.5".to_owned(), "CVR:99000001-FID:90000001".to_owned()),
        ]
    );
    assert_eq!(policies(&p.idp_oces2), ["1.3.6.1.4.1.31313.2.4.6.4.3"]);

    assert!(
        p.sp_oces2
            .subject()
            .contains("serialNumber=CVR:99000002-UID:90000002")
    );
    assert_eq!(policies(&p.sp_oces2), ["1.3.6.1.4.1.31313.2.4.6.3.5"]);
}

#[test]
fn attacker_imitates_the_idp_but_is_self_signed() {
    let p = pki();
    assert_eq!(p.attacker.subject(), p.idp_oces3.subject());
    assert_eq!(p.attacker.issuer(), p.attacker.subject());
    assert_ne!(
        p.attacker.public_key_spki_der(),
        p.idp_oces3.public_key_spki_der()
    );
}

#[test]
fn sp_variants() {
    let p = pki();
    assert!(p.sp.subject().ends_with("CN=Mock Service Provider"));
    assert_eq!(p.sp.issuer(), p.oces3_issuing.subject());
    assert_eq!(p.sp.key_bits(), 3072);
    assert_eq!(p.sp_selfsigned.issuer(), p.sp_selfsigned.subject());
    assert_eq!(p.sp_expired.not_after(), datetime!(2023-01-01 0:00 UTC));
    assert_eq!(p.sp_expired.not_before(), datetime!(2020-01-01 0:00 UTC));
    assert_eq!(p.sp_weak.key_bits(), 1024);
    assert_eq!(policies(&p.sp_weak), policies(&p.sp));
    for (name, c) in p.all() {
        if name != "sp_expired" {
            assert!(
                c.not_after() >= datetime!(2045-01-01 0:00 UTC),
                "{name} must not expire during tests"
            );
        }
    }
}

#[test]
fn tls_server_names_loopback() {
    let p = pki();
    let cert = parse(&p.tls_server);
    let san = cert.subject_alternative_name().unwrap().expect("SAN");
    let text = format!("{:?}", san.value.general_names);
    assert!(text.contains("localhost"), "{text}");
    assert!(text.contains("[127, 0, 0, 1]"), "{text}");
    assert_eq!(p.tls_server.issuer(), p.tls_ca.subject());
    assert!(
        p.tls_ca
            .subject()
            .contains("CN=mitid-harness MOCK local TLS CA")
    );
}

#[test]
fn rsa_sign_verify_round_trip_and_wrong_key() {
    let p = pki();
    let msg = b"SAMLRequest=abc&RelayState=xyz&SigAlg=rsa-sha256";
    let signer = p.sp.rsa_signer().unwrap();
    assert_eq!(signer.key_bits(), 3072);
    let sig = signer.sign_sha256(msg).unwrap();
    assert_eq!(sig.len(), 384);
    let spki = p.sp.public_key_spki_der();
    assert!(verify_rsa_sha256(&spki, msg, &sig));
    assert!(!verify_rsa_sha256(&spki, b"tampered", &sig));
    assert!(!verify_rsa_sha256(
        &p.attacker.public_key_spki_der(),
        msg,
        &sig
    ));
    assert!(
        !verify_rsa_sha1(&spki, msg, &sig),
        "SHA-256 signature is not SHA-1"
    );

    let sig1 = signer.sign_sha1(msg).unwrap();
    assert!(verify_rsa_sha1(&spki, msg, &sig1));
    assert!(!verify_rsa_sha256(&spki, msg, &sig1));

    let pss = signer.sign_pss_sha256(msg).unwrap();
    assert!(verify_rsa_pss_sha256(&spki, msg, &pss));
    assert!(!verify_rsa_sha256(&spki, msg, &pss));

    // The attacker key signs fine, but not as the IdP.
    let forged = p.attacker.rsa_signer().unwrap().sign_sha256(msg).unwrap();
    assert!(!verify_rsa_sha256(
        &p.idp_oces3.public_key_spki_der(),
        msg,
        &forged
    ));
    assert!(verify_rsa_sha256(
        &p.attacker.public_key_spki_der(),
        msg,
        &forged
    ));
}

#[test]
fn weak_key_signs_via_fallback_but_strict_verify_refuses_it() {
    use aws_lc_rs::signature::{RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY, UnparsedPublicKey};
    let weak = &pki().sp_weak;
    let sig = weak.rsa_signer().unwrap().sign_sha256(b"m").unwrap();
    assert_eq!(sig.len(), 128);
    let spki = weak.public_key_spki_der();
    assert!(
        UnparsedPublicKey::new(&RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY, &spki)
            .verify(b"m", &sig)
            .is_ok()
    );
    assert!(
        !verify_rsa_sha256(&spki, b"m", &sig),
        "keys < 2048 bits never verify"
    );
}

#[test]
fn es256_round_trip() {
    let p = pki();
    let signer = p.oidc_es256.ec_signer().unwrap();
    let sig = signer.sign_p256_sha256_fixed(b"header.payload").unwrap();
    assert_eq!(sig.len(), 64);
    assert_eq!(signer.public_point().len(), 65);
    let spki = p.oidc_es256.public_key_spki_der();
    assert!(verify_es256(&spki, b"header.payload", &sig));
    assert!(!verify_es256(&spki, b"header.payloaD", &sig));
    assert!(!verify_es256(
        &p.tls_ca.public_key_spki_der(),
        b"header.payload",
        &sig
    ));
}

#[test]
fn wrong_key_type_and_missing_key_are_errors() {
    let p = pki();
    let e = p.oidc_es256.rsa_signer().unwrap_err();
    assert!(matches!(e, PkiError::WrongKeyType { .. }), "{e}");
    let e = p.oidc_rs256_a.ec_signer().unwrap_err();
    assert!(matches!(e, PkiError::WrongKeyType { .. }), "{e}");
    let cert_only = Credential::from_cert_der(p.sp.cert_der()).unwrap();
    assert!(!cert_only.has_private_key());
    assert!(cert_only.key_pkcs8_der().is_none());
    let e = cert_only.rsa_signer().unwrap_err();
    assert!(e.to_string().contains("has no private key"), "{e}");
}

#[test]
fn oidc_keys_are_distinct_and_pkcs1_round_trips() {
    let p = pki();
    assert_ne!(
        p.oidc_rs256_a.public_key_spki_der(),
        p.oidc_rs256_b.public_key_spki_der()
    );
    let pkcs1 = p.oidc_rs256_a.key_pkcs1_pem().unwrap();
    assert!(pkcs1.starts_with("-----BEGIN RSA PRIVATE KEY-----\n"));
    let again = Credential::from_pem(Some(&pkcs1), &p.oidc_rs256_a.cert_pem()).unwrap();
    assert_eq!(again.key_pkcs8_der(), p.oidc_rs256_a.key_pkcs8_der());
    assert_eq!(again.cert_der(), p.oidc_rs256_a.cert_der());
}

#[test]
fn sec1_ec_key_is_accepted() {
    let p = pki();
    // The PKCS#8 body of an EC key is the SEC1 ECPrivateKey (without its optional params).
    let pkcs8 = p.oidc_es256.key_pkcs8_der().unwrap();
    let (outer, _) = der::expect(pkcs8, tag::SEQUENCE).unwrap();
    let (_, rest) = der::read(outer.content).unwrap();
    let (_, rest) = der::read(rest).unwrap();
    let (sec1, _) = der::expect(rest, tag::OCTET_STRING).unwrap();
    let pem = super::credential::pem_lf("EC PRIVATE KEY", sec1.content);
    let c = Credential::from_pem(Some(&pem), &p.oidc_es256.cert_pem()).unwrap();
    let sig = c.ec_signer().unwrap().sign_p256_sha256_fixed(b"x").unwrap();
    assert!(verify_es256(&c.public_key_spki_der(), b"x", &sig));
}

#[test]
fn cert_encodings() {
    let c = &pki().idp_oces3;
    let b64 = c.cert_base64();
    assert!(!b64.contains('\n') && !b64.contains('\r'));
    use base64::Engine as _;
    assert_eq!(
        base64::engine::general_purpose::STANDARD
            .decode(&b64)
            .unwrap(),
        c.cert_der()
    );
    let pem = c.cert_pem();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----\n") && !pem.contains('\r'));
    assert_eq!(
        Credential::from_pem(None, &pem).unwrap().cert_der(),
        c.cert_der()
    );
}

#[test]
fn bad_pem_gives_clear_errors() {
    let p = pki();
    let cert = p.sp.cert_pem();
    let key = p.sp.key_pkcs8_pem().unwrap();

    let e = Credential::from_pem(Some("not pem at all"), &cert).unwrap_err();
    assert!(
        e.to_string().starts_with("cannot parse private key in"),
        "{e}"
    );

    let e = Credential::from_pem(Some(&cert), &cert).unwrap_err();
    assert!(e.to_string().contains("no private key block"), "{e}");

    let encrypted =
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n";
    let e = Credential::from_pem(Some(encrypted), &cert).unwrap_err();
    assert!(e.to_string().contains("encrypted"), "{e}");

    let garbage_key = "-----BEGIN PRIVATE KEY-----\nAAECAwQF\n-----END PRIVATE KEY-----\n";
    let e = Credential::from_pem(Some(garbage_key), &cert).unwrap_err();
    assert!(matches!(e, PkiError::Key { .. }), "{e}");

    let e = Credential::from_pem(Some(&key), &key).unwrap_err();
    assert!(
        e.to_string().starts_with("cannot parse certificate in"),
        "{e}"
    );
    let e = Credential::from_pem(None, "").unwrap_err();
    assert!(e.to_string().contains("no PEM block"), "{e}");
    let garbage_cert = "-----BEGIN CERTIFICATE-----\nAAECAwQF\n-----END CERTIFICATE-----\n";
    let e = Credential::from_pem(None, garbage_cert).unwrap_err();
    assert!(matches!(e, PkiError::Cert { .. }), "{e}");

    // A key from another pair is refused with a message naming both sources.
    let other = p.attacker.key_pkcs8_pem().unwrap();
    let e = Credential::from_pem(Some(&other), &cert).unwrap_err();
    assert!(matches!(e, PkiError::KeyMismatch { .. }), "{e}");
    assert!(
        e.to_string().contains("does not belong to the certificate"),
        "{e}"
    );
    let ec = p.oidc_es256.key_pkcs8_pem().unwrap();
    let e = Credential::from_pem(Some(&ec), &cert).unwrap_err();
    assert!(matches!(e, PkiError::KeyMismatch { .. }), "{e}");

    let missing = testdata().join("does-not-exist.key.pem");
    let e = Credential::from_pem_files(&missing, &testdata().join("sp.cert.pem")).unwrap_err();
    assert!(e.to_string().contains("does-not-exist.key.pem"), "{e}");

    // Every truncation of a real certificate is an error, never a panic.
    let der = p.sp.cert_der();
    for n in [0, 1, 2, 10, der.len() / 2, der.len() - 1] {
        assert!(
            Credential::from_cert_der(&der[..n]).is_err(),
            "truncated to {n}"
        );
        assert!(classify(&der[..n]).is_err(), "truncated to {n}");
    }
}

#[test]
fn classify_every_fixture() {
    let p = pki();
    let expect = |c: &Credential| classify(c.cert_der()).unwrap();
    let idp = CertClass::Oces3 {
        cvr: Some("99000001".into()),
        uuid: Some(fixtures::IDP_UUID.into()),
    };
    assert_eq!(expect(&p.idp_oces3), idp);
    assert_eq!(
        expect(&p.idp_oces3_next),
        CertClass::Oces3 {
            cvr: Some("99000001".into()),
            uuid: Some(fixtures::IDP_NEXT_UUID.into()),
        }
    );
    let sp = CertClass::Oces3 {
        cvr: Some("99000002".into()),
        uuid: Some(fixtures::SP_UUID.into()),
    };
    assert_eq!(expect(&p.sp), sp);
    assert!(matches!(expect(&p.sp_expired), CertClass::Oces3 { .. }));
    assert!(matches!(expect(&p.sp_weak), CertClass::Oces3 { .. }));
    assert!(matches!(
        expect(&p.oces3_issuing),
        CertClass::Oces3 {
            cvr: None,
            uuid: None
        }
    ));
    assert_eq!(
        expect(&p.idp_oces2),
        CertClass::Oces2 {
            serial: Some("CVR:99000001-FID:90000001".into())
        }
    );
    assert_eq!(
        expect(&p.sp_oces2),
        CertClass::Oces2 {
            serial: Some("CVR:99000002-UID:90000002".into())
        }
    );
    assert!(matches!(
        expect(&p.oces2_issuing),
        CertClass::Oces2 { serial: None }
    ));
    for c in [
        &p.attacker,
        &p.sp_selfsigned,
        &p.oces3_root,
        &p.oces2_root,
        &p.tls_ca,
        &p.oidc_rs256_a,
        &p.oidc_rs256_b,
        &p.oidc_es256,
        &p.oidc_es256_b,
    ] {
        assert_eq!(expect(c), CertClass::SelfSigned, "{}", c.subject());
    }
    assert_eq!(expect(&p.tls_server), CertClass::Other);
}

#[test]
fn classify_falls_back_to_layout_plus_policy() {
    assert!(super::classify::is_oces2_serial(
        "PID:9208-2002-2-514358910503"
    ));
    assert!(super::classify::is_oces2_serial(
        "CVR:30808460-RID:42634739"
    ));
    assert!(!super::classify::is_oces2_serial("CVR:30808460"));
    assert!(!super::classify::is_oces2_serial("UI:DK-O:G:x"));
    assert!(super::classify::is_oces3_policy("1.2.208.169.1.1.1.3.7"));
    assert!(super::classify::is_oces3_policy("1.2.208.169.1.1.1.3.7.1"));
    assert!(!super::classify::is_oces3_policy("1.2.208.169.1.1.1.1.4"));
    assert!(super::classify::is_oces2_policy("1.2.208.169.1.1.1.1.4"));
    assert!(super::classify::is_oces2_policy(
        "1.3.6.1.4.1.31313.2.4.6.4.3"
    ));
    assert!(!super::classify::is_oces2_policy("1.2.208.169.1.1.1.3.7"));
}

/// The committed certificates are exactly what the generator code writes for the committed keys
/// (same to-be-signed bytes; PSS signatures are randomised, so whole certificates may differ).
#[test]
fn generator_reproduces_committed_certificates() {
    let mut keys = BTreeMap::new();
    for (name, cred) in pki().all() {
        keys.insert(name.to_string(), cred.key_pkcs8_pem().unwrap());
    }
    let reissued = fixtures::reissue_tbs(&keys).unwrap();
    assert_eq!(reissued.len(), FIXTURES.len());
    let committed: BTreeMap<&str, &Credential> = pki().all().into_iter().collect();
    for (name, tbs) in reissued {
        let (committed_tbs, _, _) = split_cert(committed[name].cert_der());
        assert!(
            committed_tbs == tbs.as_slice(),
            "{name}: committed certificate differs from the generator; \
             run `cargo run -p mitid-mock-broker --example gen_pki`"
        );
    }
}

/// Each committed certificate's signature verifies under its issuer's key, with the algorithm
/// the layout promises (PSS for the OCES3 chain).
#[test]
fn every_certificate_verifies_under_its_issuer() {
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1, UnparsedPublicKey};
    let p = pki();
    let issuer_of = |c: &Credential| -> &Credential {
        // The attacker shares idp_oces3's subject but issues nothing, so skip it as a candidate.
        p.all()
            .into_iter()
            .find(|(n, cand)| *n != "attacker" && cand.subject() == c.issuer())
            .map(|(_, cand)| cand)
            .expect("issuer among fixtures")
    };
    for (name, c) in p.all() {
        // The attacker shares its subject with idp_oces3; it is self-signed.
        let issuer = if name == "attacker" { c } else { issuer_of(c) };
        let (tbs, alg, sig) = split_cert(c.cert_der());
        let spki = issuer.public_key_spki_der();
        let ok = match alg.as_str() {
            "1.2.840.113549.1.1.10" => verify_rsa_pss_sha256(&spki, tbs, sig),
            "1.2.840.113549.1.1.11" => verify_rsa_sha256(&spki, tbs, sig),
            "1.2.840.10045.4.3.2" => {
                let point = super::signer::spki_bit_string(&spki).unwrap();
                UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, point)
                    .verify(tbs, sig)
                    .is_ok()
            }
            other => panic!("{name}: unexpected signature algorithm {other}"),
        };
        assert!(
            ok,
            "{name}: signature does not verify under {}",
            issuer.subject()
        );
        let oces3 = c.issuer().contains("Den Danske Stat OCES");
        assert_eq!(alg == "1.2.840.113549.1.1.10", oces3, "{name}: {alg}");
    }
}

/// The reproduction check above can fail: a different key for one fixture changes its own
/// TBS (public key, key identifier) and the TBS of everything it issues (authority key id).
#[test]
fn generator_check_detects_a_changed_key() {
    let mut keys = BTreeMap::new();
    for (name, cred) in pki().all() {
        keys.insert(name.to_string(), cred.key_pkcs8_pem().unwrap());
    }
    keys.insert(
        "oces3_issuing".into(),
        pki().idp_oces3.key_pkcs8_pem().unwrap(),
    );
    let committed: BTreeMap<&str, &Credential> = pki().all().into_iter().collect();
    let differing: Vec<&str> = fixtures::reissue_tbs(&keys)
        .unwrap()
        .into_iter()
        .filter(|(name, tbs)| split_cert(committed[name].cert_der()).0 != tbs.as_slice())
        .map(|(name, _)| name)
        .collect();
    assert_eq!(
        differing,
        [
            "oces3_issuing",
            "idp_oces3",
            "idp_oces3_next",
            "sp",
            "sp_expired",
            "sp_weak"
        ]
    );
}

#[test]
#[ignore = "timing only: cargo test -p mitid-mock-broker --lib pki::tests::time_ -- --ignored --nocapture"]
fn time_signing() {
    let p = pki();
    for (name, c) in [
        ("RSA-3072 idp_oces3", &p.idp_oces3),
        ("RSA-2048 oidc_rs256_a", &p.oidc_rs256_a),
    ] {
        let s = c.rsa_signer().unwrap();
        let n = 200;
        let t = std::time::Instant::now();
        for i in 0..n {
            s.sign_sha256(&[i as u8; 64]).unwrap();
        }
        let per_s = f64::from(n) / t.elapsed().as_secs_f64();
        println!("{name}: {per_s:.0} sign_sha256/s");
    }
    let t = std::time::Instant::now();
    let _ = MockPki::load_builtin().unwrap();
    println!("load_builtin: {:?}", t.elapsed());
}
