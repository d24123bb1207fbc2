//! A minimal X.509 v3 certificate writer for the mock PKI fixtures.
//!
//! Why not rcgen alone: OCES certificates need things rcgen 0.14 cannot express: RSASSA-PSS
//! signatures (OCES3 CAs sign with PSS, salt 32), multi-valued RDNs (OCES2 FOCES/VOCES
//! `CN=…+serialNumber=…`), and two RDNs of one type in a chosen order. The writer is
//! deterministic: fixed serials and validity, so re-issuing from the same keys gives the same
//! to-be-signed bytes, which is how the tests prove the committed fixtures match this code.

use super::der::{self, tag};
use super::dn::Name;
use super::error::PkiError;
use super::signer::{EcSigner, RsaSigner, spki_bit_string};
use time::OffsetDateTime;

/// sha256WithRSAEncryption.
const OID_SHA256_RSA: &[u64] = &[1, 2, 840, 113549, 1, 1, 11];
/// id-RSASSA-PSS.
pub(crate) const OID_RSASSA_PSS: &[u64] = &[1, 2, 840, 113549, 1, 1, 10];
/// id-mgf1.
const OID_MGF1: &[u64] = &[1, 2, 840, 113549, 1, 1, 8];
/// id-sha256.
const OID_SHA256: &[u64] = &[2, 16, 840, 1, 101, 3, 4, 2, 1];
/// ecdsa-with-SHA256.
const OID_ECDSA_SHA256: &[u64] = &[1, 2, 840, 10045, 4, 3, 2];

const OID_BASIC_CONSTRAINTS: &[u64] = &[2, 5, 29, 19];
const OID_KEY_USAGE: &[u64] = &[2, 5, 29, 15];
const OID_EXT_KEY_USAGE: &[u64] = &[2, 5, 29, 37];
const OID_SUBJECT_KEY_ID: &[u64] = &[2, 5, 29, 14];
const OID_AUTHORITY_KEY_ID: &[u64] = &[2, 5, 29, 35];
const OID_CERT_POLICIES: &[u64] = &[2, 5, 29, 32];
const OID_SUBJECT_ALT_NAME: &[u64] = &[2, 5, 29, 17];
/// id-pe-qcStatements (RFC 3739).
const OID_QC_STATEMENTS: &[u64] = &[1, 3, 6, 1, 5, 5, 7, 1, 3];
/// id-qcs-pkixQCSyntax-v2.
const OID_QCS_PKIX_SYNTAX_V2: &[u64] = &[1, 3, 6, 1, 5, 5, 7, 11, 2];

/// id-kp-serverAuth.
pub(crate) const EKU_SERVER_AUTH: &[u64] = &[1, 3, 6, 1, 5, 5, 7, 3, 1];

/// KeyUsage bits (RFC 5280 §4.2.1.3), as bit numbers.
pub(crate) mod ku {
    pub(crate) const DIGITAL_SIGNATURE: u8 = 0;
    pub(crate) const KEY_ENCIPHERMENT: u8 = 2;
    pub(crate) const DATA_ENCIPHERMENT: u8 = 3;
    pub(crate) const KEY_AGREEMENT: u8 = 4;
    pub(crate) const KEY_CERT_SIGN: u8 = 5;
    pub(crate) const CRL_SIGN: u8 = 6;
}

/// How the issuer signs the certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SigAlg {
    /// sha256WithRSAEncryption (OCES2, TLS, OIDC).
    RsaPkcs1Sha256,
    /// RSASSA-PSS, SHA-256, MGF1-SHA-256, salt 32 (OCES3).
    RsaPssSha256,
    /// ecdsa-with-SHA256.
    EcdsaSha256,
}

impl SigAlg {
    fn algorithm_identifier(self) -> Vec<u8> {
        match self {
            SigAlg::RsaPkcs1Sha256 => der::seq(&[&der::oid(OID_SHA256_RSA), &der::null()]),
            SigAlg::RsaPssSha256 => {
                // RSASSA-PSS-params (RFC 4055) with the values OCES3 uses; hash AlgorithmIdentifiers
                // carry NULL parameters as OpenSSL writes them.
                let sha256 = der::seq(&[&der::oid(OID_SHA256), &der::null()]);
                let mgf = der::seq(&[&der::oid(OID_MGF1), &sha256]);
                let params = der::seq(&[
                    &der::explicit(0, &sha256),
                    &der::explicit(1, &mgf),
                    &der::explicit(2, &der::small_uint(32)),
                ]);
                der::seq(&[&der::oid(OID_RSASSA_PSS), &params])
            }
            SigAlg::EcdsaSha256 => der::seq(&[&der::oid(OID_ECDSA_SHA256)]),
        }
    }
}

/// The issuer's key.
#[derive(Debug, Clone)]
pub(crate) enum IssuerKey {
    Rsa(RsaSigner),
    Ec(EcSigner),
}

/// Who signs: name, public key (for the authority key identifier), key, algorithm.
#[derive(Debug, Clone)]
pub(crate) struct Issuer {
    pub name: Name,
    pub spki: Vec<u8>,
    pub key: IssuerKey,
    pub alg: SigAlg,
}

/// Everything that goes into one certificate apart from the issuer.
#[derive(Debug, Clone)]
pub(crate) struct CertSpec {
    pub serial: Vec<u8>,
    pub subject: Name,
    pub spki: Vec<u8>,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    /// `Some(path_len)` for a CA (`None` path length = unconstrained); `None` for an end entity.
    pub ca: Option<Option<u8>>,
    pub key_usage: Vec<u8>,
    pub ext_key_usage: Vec<&'static [u64]>,
    pub policies: Vec<Vec<u64>>,
    /// OCES3 qcStatement: semanticsIdentifier OID and name registration authority URI.
    pub qc_semantics: Option<(&'static [u64], &'static str)>,
    pub san_dns: Vec<String>,
    pub san_ip: Vec<[u8; 4]>,
}

/// Builds and signs the certificate; returns its DER.
pub(crate) fn issue(spec: &CertSpec, issuer: &Issuer) -> Result<Vec<u8>, PkiError> {
    let tbs = tbs_certificate(spec, issuer);
    let signature = match (&issuer.key, issuer.alg) {
        (IssuerKey::Rsa(s), SigAlg::RsaPkcs1Sha256) => s.sign_sha256(&tbs)?,
        (IssuerKey::Rsa(s), SigAlg::RsaPssSha256) => s.sign_pss_sha256(&tbs)?,
        (IssuerKey::Ec(s), SigAlg::EcdsaSha256) => {
            let fixed = s.sign_p256_sha256_fixed(&tbs)?;
            let (r, sv) = fixed.split_at(fixed.len() / 2);
            der::seq(&[&der::uint(r), &der::uint(sv)])
        }
        (_, alg) => {
            return Err(PkiError::Issue {
                name: format!("{:?}", spec.subject),
                reason: format!("issuer key cannot sign with {alg:?}"),
            });
        }
    };
    Ok(der::seq(&[
        &tbs,
        &issuer.alg.algorithm_identifier(),
        &der::bit_string(&signature),
    ]))
}

/// The TBSCertificate DER (RFC 5280 §4.1).
pub(crate) fn tbs_certificate(spec: &CertSpec, issuer: &Issuer) -> Vec<u8> {
    let validity = der::seq(&[&time(spec.not_before), &time(spec.not_after)]);
    let extensions = extensions(spec, issuer);
    der::seq(&[
        &der::explicit(0, &der::small_uint(2)),
        &der::uint(&spec.serial),
        &issuer.alg.algorithm_identifier(),
        &issuer.name.encode(),
        &validity,
        &spec.subject.encode(),
        &spec.spki,
        &der::explicit(3, &extensions),
    ])
}

fn extensions(spec: &CertSpec, issuer: &Issuer) -> Vec<u8> {
    let mut exts: Vec<Vec<u8>> = Vec::new();
    let self_signed = issuer.spki == spec.spki;

    let bc = match spec.ca {
        Some(None) => der::seq(&[&der::tlv(tag::BOOLEAN, &[0xff])]),
        Some(Some(n)) => der::seq(&[
            &der::tlv(tag::BOOLEAN, &[0xff]),
            &der::small_uint(u64::from(n)),
        ]),
        None => der::seq(&[]),
    };
    exts.push(extension(OID_BASIC_CONSTRAINTS, true, &bc));

    if !spec.key_usage.is_empty() {
        exts.push(extension(OID_KEY_USAGE, true, &named_bits(&spec.key_usage)));
    }
    if !spec.ext_key_usage.is_empty() {
        let oids: Vec<Vec<u8>> = spec.ext_key_usage.iter().map(|o| der::oid(o)).collect();
        let refs: Vec<&[u8]> = oids.iter().map(Vec::as_slice).collect();
        exts.push(extension(OID_EXT_KEY_USAGE, false, &der::seq(&refs)));
    }

    exts.push(extension(
        OID_SUBJECT_KEY_ID,
        false,
        &der::tlv(tag::OCTET_STRING, &key_id(&spec.spki)),
    ));
    if !self_signed {
        let aki = der::seq(&[&der::implicit(0, &key_id(&issuer.spki))]);
        exts.push(extension(OID_AUTHORITY_KEY_ID, false, &aki));
    }

    if !spec.policies.is_empty() {
        let infos: Vec<Vec<u8>> = spec
            .policies
            .iter()
            .map(|p| der::seq(&[&der::oid(p)]))
            .collect();
        let refs: Vec<&[u8]> = infos.iter().map(Vec::as_slice).collect();
        exts.push(extension(OID_CERT_POLICIES, false, &der::seq(&refs)));
    }

    if !spec.san_dns.is_empty() || !spec.san_ip.is_empty() {
        let mut names: Vec<Vec<u8>> = Vec::new();
        for d in &spec.san_dns {
            names.push(der::implicit(2, d.as_bytes()));
        }
        for ip in &spec.san_ip {
            names.push(der::implicit(7, ip));
        }
        let refs: Vec<&[u8]> = names.iter().map(Vec::as_slice).collect();
        exts.push(extension(OID_SUBJECT_ALT_NAME, false, &der::seq(&refs)));
    }

    if let Some((semantics, registration_authority)) = spec.qc_semantics {
        // QCStatement { id-qcs-pkixQCSyntax-v2, SemanticsInformation { semanticsIdentifier,
        // nameRegistrationAuthorities = [ uniformResourceIdentifier ] } }
        let nra = der::seq(&[&der::implicit(6, registration_authority.as_bytes())]);
        let info = der::seq(&[&der::oid(semantics), &nra]);
        let statement = der::seq(&[&der::oid(OID_QCS_PKIX_SYNTAX_V2), &info]);
        exts.push(extension(
            OID_QC_STATEMENTS,
            false,
            &der::seq(&[&statement]),
        ));
    }

    let refs: Vec<&[u8]> = exts.iter().map(Vec::as_slice).collect();
    der::seq(&refs)
}

fn extension(oid: &[u64], critical: bool, value: &[u8]) -> Vec<u8> {
    let oid = der::oid(oid);
    let value = der::tlv(tag::OCTET_STRING, value);
    if critical {
        der::seq(&[&oid, &der::tlv(tag::BOOLEAN, &[0xff]), &value])
    } else {
        der::seq(&[&oid, &value])
    }
}

/// RFC 5280 §4.2.1.2 method (1): SHA-1 of the subjectPublicKey BIT STRING value.
fn key_id(spki: &[u8]) -> Vec<u8> {
    let key = spki_bit_string(spki).unwrap_or(spki);
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, key)
        .as_ref()
        .to_vec()
}

/// A DER named-bit BIT STRING (trailing zero bits dropped, as DER requires).
fn named_bits(bits: &[u8]) -> Vec<u8> {
    let Some(&max) = bits.iter().max() else {
        return der::tlv(tag::BIT_STRING, &[0]);
    };
    let len = usize::from(max) / 8 + 1;
    let mut bytes = vec![0u8; len];
    for &b in bits {
        bytes[usize::from(b) / 8] |= 0x80 >> (b % 8);
    }
    let unused = 7 - (max % 8);
    let mut content = vec![unused];
    content.extend_from_slice(&bytes);
    der::tlv(tag::BIT_STRING, &content)
}

/// UTCTime for 1950–2049, GeneralizedTime otherwise (RFC 5280 §4.1.2.5).
fn time(t: OffsetDateTime) -> Vec<u8> {
    let t = t.to_offset(time::UtcOffset::UTC);
    let y = t.year();
    let rest = format!(
        "{:02}{:02}{:02}{:02}{:02}Z",
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    if (1950..2050).contains(&y) {
        der::tlv(tag::UTC_TIME, format!("{:02}{rest}", y % 100).as_bytes())
    } else {
        der::tlv(tag::GENERALIZED_TIME, format!("{y:04}{rest}").as_bytes())
    }
}
