//! Which certificate generation a certificate belongs to: OCES3, legacy OCES2, self-signed or
//! something else.
//!
//! SP-metadata inspection uses this: NemLog-in requires OCES3 certificates for SP signing and
//! encryption ("NemLog-in requires all requests … to be signed … with an OCES3 certificate"),
//! so an OCES2 (TRUST2408) or self-signed certificate in SP metadata is a finding.
//!
//! The primary signal is the issuer name, as NSP's Seal does it (`OCESUtil.IsProbableOCES3Certificate`:
//! issuer contains "Den Danske Stat OCES"). Without a known issuer, the subject layout and the
//! policy OIDs must agree (two independent signals), so a single look-alike attribute is not
//! enough. A self-signed certificate is always [`CertClass::SelfSigned`], however OCES-like its
//! subject looks: that is exactly what a forged IdP certificate is.

use super::dn;
use super::error::PkiError;
use x509_parser::extensions::ParsedExtension;
use x509_parser::prelude::{FromDer, X509Certificate};

/// The certificate generation of a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertClass {
    /// OCES3 (MitID era): `cvr` from `organizationIdentifier=NTRDK-<cvr>`, `uuid` from
    /// `serialNumber=UI:DK-O:G:<uuid>` (or `UI:DK-E:G:` for employee certificates).
    Oces3 {
        /// The organisation's CVR number, if the subject carries one.
        cvr: Option<String>,
        /// The UUID of the subject's `serialNumber`, if present.
        uuid: Option<String>,
    },
    /// OCES2 (NemID era, TRUST2408): `serial` is the subject `serialNumber`
    /// (`CVR:<cvr>-FID:<n>`, `CVR:<cvr>-UID:<n>`, `CVR:<cvr>-RID:<n>` or `PID:<n>`).
    Oces2 {
        /// The subject serialNumber, if present.
        serial: Option<String>,
    },
    /// Subject and issuer are the same name.
    SelfSigned,
    /// None of the above (e.g. a TLS certificate from another CA).
    Other,
}

/// OCES3 issuing CA names contain this (prod, test and our mock alike).
const OCES3_ISSUER_MARK: &str = "Den Danske Stat OCES";
/// OCES2 CA names contain this.
const OCES2_ISSUER_MARK: &str = "TRUST2408";

/// Classifies a DER certificate. Errors only if the bytes are not a certificate.
pub fn classify(cert_der: &[u8]) -> Result<CertClass, PkiError> {
    let (_, cert) = X509Certificate::from_der(cert_der).map_err(|e| PkiError::Cert {
        source_name: "certificate to classify".into(),
        reason: format!("not an X.509 certificate: {e}"),
    })?;
    if cert.subject().as_raw() == cert.issuer().as_raw() {
        return Ok(CertClass::SelfSigned);
    }

    let issuer = dn::to_rfc4514(cert.issuer());
    let serial = dn::values_of(cert.subject(), "2.5.4.5").into_iter().next();
    let org_id = dn::values_of(cert.subject(), "2.5.4.97").into_iter().next();
    let policies: Vec<String> = cert
        .extensions()
        .iter()
        .filter_map(|e| match e.parsed_extension() {
            ParsedExtension::CertificatePolicies(p) => Some(p),
            _ => None,
        })
        .flatten()
        .map(|p| p.policy_id.to_id_string())
        .collect();

    let oces3 = || CertClass::Oces3 {
        cvr: org_id
            .as_deref()
            .and_then(|v| v.strip_prefix("NTRDK-"))
            .map(str::to_owned),
        uuid: serial
            .as_deref()
            .filter(|s| s.starts_with("UI:DK-"))
            .and_then(|s| s.rsplit_once(':'))
            .map(|(_, u)| u.to_owned()),
    };
    let oces2 = || CertClass::Oces2 {
        serial: serial.clone(),
    };

    if issuer.contains(OCES3_ISSUER_MARK) {
        return Ok(oces3());
    }
    if issuer.contains(OCES2_ISSUER_MARK) {
        return Ok(oces2());
    }

    let oces3_layout = serial.as_deref().is_some_and(|s| s.starts_with("UI:DK-"))
        || org_id.as_deref().is_some_and(|o| o.starts_with("NTRDK-"));
    let oces3_policy = policies.iter().any(|p| is_oces3_policy(p));
    if oces3_layout && oces3_policy {
        return Ok(oces3());
    }
    let oces2_layout = serial.as_deref().is_some_and(is_oces2_serial);
    let oces2_policy = policies.iter().any(|p| is_oces2_policy(p));
    if oces2_layout && oces2_policy {
        return Ok(oces2());
    }
    Ok(CertClass::Other)
}

/// OCES3 policies are `1.2.208.169.1.1.1.<type>.7[.n]` (organisation `…3.7`, employee `…2.7`).
pub(crate) fn is_oces3_policy(p: &str) -> bool {
    p.strip_prefix("1.2.208.169.1.1.1.")
        .and_then(|rest| rest.split('.').nth(1))
        .is_some_and(|generation| generation == "7")
}

/// OCES1/2 policies: production `1.2.208.169.1.1.1.<type>.<n>` with n < 7, or the TRUST2408
/// systemtest arc `1.3.6.1.4.1.31313.2.4.6`.
pub(crate) fn is_oces2_policy(p: &str) -> bool {
    if p.starts_with("1.3.6.1.4.1.31313.2.4.6.") {
        return true;
    }
    p.strip_prefix("1.2.208.169.1.1.1.")
        .and_then(|rest| rest.split('.').nth(1))
        .and_then(|g| g.parse::<u32>().ok())
        .is_some_and(|g| g < 7)
}

/// `PID:<digits-and-dashes>` or `CVR:<8 digits>-{FID,UID,RID}:<digits>`.
pub(crate) fn is_oces2_serial(s: &str) -> bool {
    if let Some(pid) = s.strip_prefix("PID:") {
        return !pid.is_empty() && pid.chars().all(|c| c.is_ascii_digit() || c == '-');
    }
    let Some(rest) = s.strip_prefix("CVR:") else {
        return false;
    };
    let Some((cvr, id)) = rest.split_once('-') else {
        return false;
    };
    let digits = |v: &str| !v.is_empty() && v.chars().all(|c| c.is_ascii_digit());
    let id_ok = ["FID:", "UID:", "RID:"]
        .iter()
        .any(|p| id.strip_prefix(p).is_some_and(digits));
    digits(cvr) && id_ok
}
