//! The catalogue of mock PKI fixtures: which keys exist and what their certificates say.
//!
//! `cargo run -p mitid-mock-broker --example gen_pki` turns this catalogue into the PEM files in
//! `mock-broker/testdata/pki/`. Key generation lives here too but only the example calls it:
//! RSA-4096 key generation takes seconds, so tests re-issue certificates from the *committed* keys
//! and compare the to-be-signed bytes with the committed certificates instead.
//!
//! Every name says MOCK somewhere, CVR numbers start with 9 (fictitious, as in
//! `identity.rs`), and UUIDs start with `6d6f636b` ("mock" in ASCII hex).

use super::dn::{self, Atv, Name, StrKind};
use super::error::PkiError;
use super::issue::{self, CertSpec, EKU_SERVER_AUTH, IssuerKey, SigAlg, ku};
use super::key;
use std::collections::BTreeMap;
use time::OffsetDateTime;
use time::macros::datetime;

/// The key type and size of a fixture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySpec {
    /// RSA with this many bits (1024 only for the deliberately weak SP key).
    Rsa(usize),
    /// ECDSA P-256.
    P256,
}

/// Fictitious CVR of the mock IdP organisation ("Digitaliseringsstyrelsen (MOCK)").
pub const IDP_CVR: &str = "99000001";
/// Fictitious CVR of the mock service provider.
pub const SP_CVR: &str = "99000002";
/// UUID in the mock IdP certificate's `serialNumber=UI:DK-O:G:<uuid>`.
pub const IDP_UUID: &str = "6d6f636b-1d90-4000-8000-000000000001";
/// UUID of the second ("next") mock IdP signing certificate.
pub const IDP_NEXT_UUID: &str = "6d6f636b-1d90-4000-8000-000000000002";
/// UUID of the mock SP organisation certificate.
pub const SP_UUID: &str = "6d6f636b-5e00-4000-8000-000000000001";
/// FID of the OCES2 FOCES-style IdP certificate.
pub const IDP_OCES2_FID: &str = "90000001";
/// UID of the OCES2 VOCES-style SP certificate.
pub const SP_OCES2_UID: &str = "90000002";

/// ETSI NCP policy, first policy of every OCES3 certificate.
pub const POLICY_ETSI_NCP: &str = "0.4.0.2042.1.1";
/// OCES3 organisation certificate policy (certificates issued 2023).
pub const POLICY_OCES3_ORGANISATION: &str = "1.2.208.169.1.1.1.3.7";
/// OCES2 test (systemtest) FOCES policy, as in NemLog-in2's ADFS certificate.
pub const POLICY_OCES2_TEST_FOCES: &str = "1.3.6.1.4.1.31313.2.4.6.4.3";
/// OCES2 test (systemtest) VOCES policy.
pub const POLICY_OCES2_TEST_VOCES: &str = "1.3.6.1.4.1.31313.2.4.6.3.5";

/// qcStatement semanticsIdentifier for legal persons (ETSI EN 319 412-1).
const QC_LEGAL_PERSON: &[u64] = &[0, 4, 0, 194121, 1, 2];
const QC_REGISTRATION_AUTHORITY: &str = "https://uid.gov.dk";

const OCES3_MOCK_OU: &str = "MOCK - not a real OCES CA";

/// Validity of the CAs: wide enough to contain every leaf, including the expired one.
const CA_FROM: OffsetDateTime = datetime!(2019-01-01 0:00 UTC);
const CA_UNTIL: OffsetDateTime = datetime!(2046-01-01 0:00 UTC);
/// Validity of end-entity certificates: fixed so committed fixtures do not expire under tests.
const LEAF_FROM: OffsetDateTime = datetime!(2025-01-01 0:00 UTC);
const LEAF_UNTIL: OffsetDateTime = datetime!(2045-01-01 0:00 UTC);

/// All fixtures, issuers before the certificates they sign.
pub const FIXTURES: &[(&str, KeySpec)] = &[
    ("oces3_root", KeySpec::Rsa(4096)),
    ("oces3_issuing", KeySpec::Rsa(3072)),
    ("idp_oces3", KeySpec::Rsa(3072)),
    ("idp_oces3_next", KeySpec::Rsa(3072)),
    ("oces2_root", KeySpec::Rsa(2048)),
    ("oces2_issuing", KeySpec::Rsa(2048)),
    ("idp_oces2", KeySpec::Rsa(2048)),
    ("attacker", KeySpec::Rsa(3072)),
    ("sp", KeySpec::Rsa(3072)),
    ("sp_oces2", KeySpec::Rsa(2048)),
    ("sp_selfsigned", KeySpec::Rsa(2048)),
    ("sp_expired", KeySpec::Rsa(3072)),
    ("sp_weak", KeySpec::Rsa(1024)),
    ("tls_ca", KeySpec::P256),
    ("tls_server", KeySpec::P256),
    ("oidc_rs256_a", KeySpec::Rsa(2048)),
    ("oidc_rs256_b", KeySpec::Rsa(2048)),
    ("oidc_es256", KeySpec::P256),
    ("oidc_es256_b", KeySpec::P256),
];

/// Generates a fresh private key, returned as PKCS#8 PEM. Slow for RSA-4096 (seconds).
pub fn generate_key(spec: KeySpec) -> Result<String, PkiError> {
    use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};
    use aws_lc_rs::rsa::KeySize;
    let err = |reason: String| PkiError::Key {
        source_name: format!("generated {spec:?} key"),
        reason,
    };
    let der: Vec<u8> = match spec {
        KeySpec::Rsa(bits @ (2048 | 3072 | 4096)) => {
            let size = match bits {
                2048 => KeySize::Rsa2048,
                3072 => KeySize::Rsa3072,
                _ => KeySize::Rsa4096,
            };
            let pair = aws_lc_rs::rsa::KeyPair::generate(size)
                .map_err(|e| err(format!("aws-lc-rs key generation: {e}")))?;
            let doc: Pkcs8V1Der<'static> = pair
                .as_der()
                .map_err(|e| err(format!("PKCS#8 encoding: {e}")))?;
            doc.as_ref().to_vec()
        }
        KeySpec::Rsa(bits) => {
            // aws-lc-rs will not generate keys under 2048 bits; the weak-key fixture needs one.
            use rsa::pkcs8::EncodePrivateKey;
            let k = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, bits)
                .map_err(|e| err(format!("rsa crate key generation: {e}")))?;
            k.to_pkcs8_der()
                .map_err(|e| err(format!("PKCS#8 encoding: {e}")))?
                .as_bytes()
                .to_vec()
        }
        KeySpec::P256 => {
            let pair = aws_lc_rs::signature::EcdsaKeyPair::generate(
                &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            )
            .map_err(|e| err(format!("aws-lc-rs key generation: {e}")))?;
            pair.to_pkcs8v1()
                .map_err(|e| err(format!("PKCS#8 encoding: {e}")))?
                .as_ref()
                .to_vec()
        }
    };
    Ok(super::credential::pem_lf("PRIVATE KEY", &der))
}

/// The key spec a PKCS#8 PEM key actually has (to decide whether a key on disk can be reused).
pub fn key_spec_of(key_pem: &str) -> Result<KeySpec, PkiError> {
    let k = key::from_pem(key_pem).map_err(|reason| PkiError::Key {
        source_name: "key PEM text".into(),
        reason,
    })?;
    match (k.alg, &k.pkcs1) {
        (key::KeyAlg::EcP256, _) => Ok(KeySpec::P256),
        (key::KeyAlg::Rsa, Some(p1)) => {
            let public = key::rsa_public_of(p1).map_err(|e| PkiError::Key {
                source_name: "key PEM text".into(),
                reason: e.to_string(),
            })?;
            Ok(KeySpec::Rsa(public.bits()))
        }
        (key::KeyAlg::Rsa, None) => Err(PkiError::Key {
            source_name: "key PEM text".into(),
            reason: "RSA key without PKCS#1 body".into(),
        }),
    }
}

/// Issues every fixture certificate from the given PKCS#8 PEM keys (one per name in
/// [`FIXTURES`]); returns `(name, certificate PEM)` in catalogue order.
pub fn issue_all(keys: &BTreeMap<String, String>) -> Result<Vec<(String, String)>, PkiError> {
    Ok(issue_all_der(keys)?
        .into_iter()
        .map(|i| {
            let pem = super::credential::pem_lf("CERTIFICATE", &i.der);
            (i.name.to_string(), pem)
        })
        .collect())
}

/// One issued fixture certificate.
pub(crate) struct Issued {
    pub name: &'static str,
    pub der: Vec<u8>,
}

/// Like [`issue_all`], returning DER.
pub(crate) fn issue_all_der(keys: &BTreeMap<String, String>) -> Result<Vec<Issued>, PkiError> {
    let mut parsed: BTreeMap<&'static str, Loaded> = BTreeMap::new();
    for (name, _) in FIXTURES {
        let pem = keys.get(*name).ok_or_else(|| PkiError::Issue {
            name: (*name).into(),
            reason: "no key given for this fixture".into(),
        })?;
        parsed.insert(name, Loaded::from_pem(name, pem)?);
    }
    let mut out = Vec::new();
    for (name, _) in FIXTURES {
        let (spec, issuer_name, alg) = layout(name);
        let subject_key = &parsed[name];
        let issuer_key = &parsed[issuer_name];
        let issuer_subject = layout(issuer_name).0.subject;
        let spec = CertSpec {
            spki: subject_key.spki.clone(),
            ..spec
        };
        let issuer = issue::Issuer {
            name: issuer_subject,
            spki: issuer_key.spki.clone(),
            key: issuer_key.signer(name)?,
            alg,
        };
        let der = issue::issue(&spec, &issuer)?;
        out.push(Issued { name, der });
    }
    Ok(out)
}

/// A fixture key, parsed for issuing.
struct Loaded {
    pkcs8: Vec<u8>,
    spki: Vec<u8>,
    alg: key::KeyAlg,
    bits: usize,
}

impl Loaded {
    fn from_pem(name: &str, pem: &str) -> Result<Self, PkiError> {
        let err = |reason: String| PkiError::Key {
            source_name: format!("{name}.key.pem"),
            reason,
        };
        let k = key::from_pem(pem).map_err(err)?;
        let spki = key::spki_of(&k).map_err(err)?;
        let bits = match &k.pkcs1 {
            Some(p1) => key::rsa_public_of(p1)
                .map_err(|e| err(e.to_string()))?
                .bits(),
            None => 256,
        };
        Ok(Loaded {
            pkcs8: k.pkcs8,
            spki,
            alg: k.alg,
            bits,
        })
    }

    fn signer(&self, for_name: &str) -> Result<IssuerKey, PkiError> {
        Ok(match self.alg {
            key::KeyAlg::Rsa => IssuerKey::Rsa(super::signer::RsaSigner::new(
                for_name,
                &self.pkcs8,
                self.bits,
            )?),
            key::KeyAlg::EcP256 => {
                IssuerKey::Ec(super::signer::EcSigner::new(for_name, &self.pkcs8)?)
            }
        })
    }
}

/// A deterministic 16-byte serial number derived from the fixture name.
fn serial(name: &str) -> Vec<u8> {
    let h = aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        format!("mitid-harness mock pki: {name}").as_bytes(),
    );
    let mut s = h.as_ref()[..16].to_vec();
    s[0] = (s[0] & 0x7f) | 0x40;
    s
}

fn oid(dotted: &str) -> Vec<u64> {
    // Only called with the constants above; an empty Vec would surface as a test failure.
    super::der::parse_dotted(dotted).unwrap_or_default()
}

/// OCES3 CA name: `C=DK,O=Den Danske Stat,OU=MOCK - not a real OCES CA,CN=<cn>` (RFC 4514).
fn oces3_ca_name(cn: &str) -> Name {
    Name::default()
        .utf8(dn::CN, cn)
        .utf8(dn::OU, OCES3_MOCK_OU)
        .utf8(dn::O, "Den Danske Stat")
        .printable(dn::C, "DK")
}

/// OCES3 organisation certificate subject, ASN.1 order CN, serialNumber, O,
/// organizationIdentifier, C (nemlogin-protocol.md §5.2).
fn oces3_org_name(cn: &str, uuid: &str, org: &str, cvr: &str) -> Name {
    Name::default()
        .utf8(dn::CN, cn)
        .printable(dn::SERIAL_NUMBER, &format!("UI:DK-O:G:{uuid}"))
        .utf8(dn::O, org)
        .utf8(dn::ORGANIZATION_IDENTIFIER, &format!("NTRDK-{cvr}"))
        .printable(dn::C, "DK")
}

/// OCES2 (TRUST2408) CA name: ASN.1 order C, O, CN.
fn oces2_ca_name(cn: &str) -> Name {
    Name::default()
        .printable(dn::C, "DK")
        .utf8(dn::O, "TRUST2408")
        .utf8(dn::CN, cn)
}

/// OCES2 FOCES/VOCES subject: C, `O=<org> // CVR:<cvr>`, then ONE RDN `CN=…+serialNumber=…`.
fn oces2_function_name(cn: &str, serial_number: &str, org: &str, cvr: &str) -> Name {
    Name::default()
        .printable(dn::C, "DK")
        .utf8(dn::O, &format!("{org} // CVR:{cvr}"))
        .multi(vec![
            Atv {
                oid: dn::CN,
                kind: StrKind::Utf8,
                value: cn.into(),
            },
            Atv {
                oid: dn::SERIAL_NUMBER,
                kind: StrKind::Printable,
                value: serial_number.into(),
            },
        ])
}

fn simple_name(cn: &str, org: &str) -> Name {
    Name::default()
        .printable(dn::C, "DK")
        .utf8(dn::O, org)
        .utf8(dn::CN, cn)
}

fn base(name: &str, subject: Name) -> CertSpec {
    CertSpec {
        serial: serial(name),
        subject,
        spki: Vec::new(),
        not_before: LEAF_FROM,
        not_after: LEAF_UNTIL,
        ca: None,
        key_usage: vec![ku::DIGITAL_SIGNATURE, ku::KEY_ENCIPHERMENT],
        ext_key_usage: Vec::new(),
        policies: Vec::new(),
        qc_semantics: None,
        san_dns: Vec::new(),
        san_ip: Vec::new(),
    }
}

fn ca(name: &str, subject: Name, path_len: Option<u8>) -> CertSpec {
    CertSpec {
        not_before: CA_FROM,
        not_after: CA_UNTIL,
        ca: Some(path_len),
        key_usage: vec![ku::KEY_CERT_SIGN, ku::CRL_SIGN],
        ..base(name, subject)
    }
}

fn oces3_leaf(name: &str, subject: Name) -> CertSpec {
    CertSpec {
        policies: vec![oid(POLICY_ETSI_NCP), oid(POLICY_OCES3_ORGANISATION)],
        qc_semantics: Some((QC_LEGAL_PERSON, QC_REGISTRATION_AUTHORITY)),
        ..base(name, subject)
    }
}

fn oces2_leaf(name: &str, subject: Name, policy: &str) -> CertSpec {
    CertSpec {
        policies: vec![oid(policy)],
        key_usage: vec![
            ku::DIGITAL_SIGNATURE,
            ku::KEY_ENCIPHERMENT,
            ku::DATA_ENCIPHERMENT,
            ku::KEY_AGREEMENT,
        ],
        ..base(name, subject)
    }
}

fn self_signed_leaf(name: &str, cn: &str) -> CertSpec {
    base(name, simple_name(cn, "mitid-harness (MOCK)"))
}

/// The certificate spec of one fixture (without its public key), its issuer fixture and the
/// issuer's signature algorithm.
fn layout(name: &str) -> (CertSpec, &'static str, SigAlg) {
    use SigAlg::*;
    let idp_org = "Digitaliseringsstyrelsen (MOCK)";
    let sp_org = "Mock Service Provider (MOCK)";
    match name {
        "oces3_root" => (
            ca(name, oces3_ca_name("Den Danske Stat OCES rod-CA"), None),
            "oces3_root",
            RsaPssSha256,
        ),
        "oces3_issuing" => (
            ca(
                name,
                oces3_ca_name("Den Danske Stat OCES udstedende-CA 1"),
                Some(0),
            ),
            "oces3_root",
            RsaPssSha256,
        ),
        "idp_oces3" => (
            oces3_leaf(
                name,
                oces3_org_name("NemLog-in IdP - Mock", IDP_UUID, idp_org, IDP_CVR),
            ),
            "oces3_issuing",
            RsaPssSha256,
        ),
        "idp_oces3_next" => (
            oces3_leaf(
                name,
                oces3_org_name(
                    "NemLog-in IdP - Mock (next)",
                    IDP_NEXT_UUID,
                    idp_org,
                    IDP_CVR,
                ),
            ),
            "oces3_issuing",
            RsaPssSha256,
        ),
        "oces2_root" => (
            ca(
                name,
                oces2_ca_name("TRUST2408 Systemtest VII Primary CA (MOCK)"),
                None,
            ),
            "oces2_root",
            RsaPkcs1Sha256,
        ),
        "oces2_issuing" => (
            ca(
                name,
                oces2_ca_name("TRUST2408 Systemtest XIX CA (MOCK)"),
                Some(0),
            ),
            "oces2_root",
            RsaPkcs1Sha256,
        ),
        "idp_oces2" => (
            oces2_leaf(
                name,
                oces2_function_name(
                    "NemLog-in ADFS Mock (funktionscertifikat)",
                    &format!("CVR:{IDP_CVR}-FID:{IDP_OCES2_FID}"),
                    idp_org,
                    IDP_CVR,
                ),
                POLICY_OCES2_TEST_FOCES,
            ),
            "oces2_issuing",
            RsaPkcs1Sha256,
        ),
        // Same subject and extensions as the IdP certificate, but self-signed: a forger's
        // certificate that only an SP that trusts names instead of keys would accept.
        "attacker" => (
            oces3_leaf(
                name,
                oces3_org_name("NemLog-in IdP - Mock", IDP_UUID, idp_org, IDP_CVR),
            ),
            "attacker",
            RsaPkcs1Sha256,
        ),
        "sp" => (
            oces3_leaf(
                name,
                oces3_org_name("Mock Service Provider", SP_UUID, sp_org, SP_CVR),
            ),
            "oces3_issuing",
            RsaPssSha256,
        ),
        "sp_oces2" => (
            oces2_leaf(
                name,
                oces2_function_name(
                    "Mock Service Provider - VOCES",
                    &format!("CVR:{SP_CVR}-UID:{SP_OCES2_UID}"),
                    sp_org,
                    SP_CVR,
                ),
                POLICY_OCES2_TEST_VOCES,
            ),
            "oces2_issuing",
            RsaPkcs1Sha256,
        ),
        "sp_selfsigned" => (
            base(
                name,
                simple_name("Mock Service Provider (self-signed)", sp_org),
            ),
            "sp_selfsigned",
            RsaPkcs1Sha256,
        ),
        "sp_expired" => (
            CertSpec {
                not_before: datetime!(2020-01-01 0:00 UTC),
                not_after: datetime!(2023-01-01 0:00 UTC),
                ..oces3_leaf(
                    name,
                    oces3_org_name(
                        "Mock Service Provider (expired)",
                        "6d6f636b-5e00-4000-8000-000000000002",
                        sp_org,
                        SP_CVR,
                    ),
                )
            },
            "oces3_issuing",
            RsaPssSha256,
        ),
        "sp_weak" => (
            oces3_leaf(
                name,
                oces3_org_name(
                    "Mock Service Provider (weak key)",
                    "6d6f636b-5e00-4000-8000-000000000003",
                    sp_org,
                    SP_CVR,
                ),
            ),
            "oces3_issuing",
            RsaPssSha256,
        ),
        "tls_ca" => (
            ca(
                name,
                simple_name("mitid-harness MOCK local TLS CA", "mitid-harness (MOCK)"),
                Some(0),
            ),
            "tls_ca",
            EcdsaSha256,
        ),
        "tls_server" => (
            CertSpec {
                key_usage: vec![ku::DIGITAL_SIGNATURE],
                ext_key_usage: vec![EKU_SERVER_AUTH],
                san_dns: vec!["localhost".into()],
                san_ip: vec![[127, 0, 0, 1]],
                ..base(name, simple_name("localhost", "mitid-harness (MOCK)"))
            },
            "tls_ca",
            EcdsaSha256,
        ),
        "oidc_rs256_a" => (
            self_signed_leaf(name, "mitid-harness MOCK OIDC signing key A"),
            "oidc_rs256_a",
            RsaPkcs1Sha256,
        ),
        "oidc_rs256_b" => (
            self_signed_leaf(name, "mitid-harness MOCK OIDC signing key B"),
            "oidc_rs256_b",
            RsaPkcs1Sha256,
        ),
        "oidc_es256" => (
            CertSpec {
                key_usage: vec![ku::DIGITAL_SIGNATURE],
                ..self_signed_leaf(name, "mitid-harness MOCK OIDC signing key ES256")
            },
            "oidc_es256",
            EcdsaSha256,
        ),
        "oidc_es256_b" => (
            CertSpec {
                key_usage: vec![ku::DIGITAL_SIGNATURE],
                ..self_signed_leaf(name, "mitid-harness MOCK OIDC signing key ES256 B")
            },
            "oidc_es256_b",
            EcdsaSha256,
        ),
        // Unknown names cannot reach here: callers iterate FIXTURES. Keep a harmless default.
        _ => (
            self_signed_leaf(name, "unknown"),
            "oidc_rs256_a",
            RsaPkcs1Sha256,
        ),
    }
}

/// Checks that a loaded credential set is the one this catalogue describes (used by tests).
#[cfg(test)]
pub(crate) fn key_bits_expected(name: &str) -> Option<usize> {
    FIXTURES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, k)| match k {
            KeySpec::Rsa(b) => *b,
            KeySpec::P256 => 256,
        })
}

/// Re-issues every fixture and returns `(name, TBSCertificate DER)`: the structure of each
/// certificate without its (randomised, for PSS) signature.
#[cfg(test)]
pub(crate) fn reissue_tbs(
    keys: &BTreeMap<String, String>,
) -> Result<Vec<(&'static str, Vec<u8>)>, PkiError> {
    let mut out = Vec::new();
    for i in issue_all_der(keys)? {
        let tbs = super::der::expect(&i.der, super::der::tag::SEQUENCE)
            .and_then(|(outer, _)| super::der::read(outer.content))
            .map(|(tbs, _)| tbs.raw.to_vec())
            .map_err(|e| PkiError::Issue {
                name: i.name.into(),
                reason: e.to_string(),
            })?;
        out.push((i.name, tbs));
    }
    Ok(out)
}
