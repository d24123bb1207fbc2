//! Certificate checks over every certificate in the SP's metadata: generation (OCES3 vs the
//! NemID-era OCES2, self-signed, other), validity relative to the inspection clock, and key.
//!
//! One finding per check covers all certificates (one detail line each), so a report has the
//! same shape whether the SP publishes one certificate or three.

use mitid_mock_broker::pki::{CertClass, Credential, classify};
use mitid_mock_broker::saml::sp_metadata::SpMetadata;
use time::{Duration, OffsetDateTime};

use super::catalogue::{CERT_KEY, CERT_OCES3, CERT_VALIDITY};
use super::{CheckStatus, Finding};

/// How far ahead an upcoming expiry becomes a warning.
pub(crate) const EXPIRY_WARNING: Duration = Duration::days(90);

/// One certificate from the metadata with the roles it has there.
struct Entry<'a> {
    der: &'a [u8],
    usage: &'static str,
    label: String,
}

/// The certificate findings for an SP's metadata.
pub(crate) fn inspect(md: &SpMetadata, now: OffsetDateTime) -> Vec<Finding> {
    let entries = entries(md);
    if entries.is_empty() {
        let why = "the metadata contains no certificates (see metadata.signing-key)";
        return vec![
            CERT_OCES3.skip(why),
            CERT_VALIDITY.skip(why),
            CERT_KEY.skip(why),
        ];
    }
    let parsed: Vec<(&Entry<'_>, Result<Credential, String>)> = entries
        .iter()
        .map(|e| {
            (
                e,
                Credential::from_cert_der(e.der).map_err(|err| err.to_string()),
            )
        })
        .collect();

    let mut class_lines = Vec::new();
    let mut class_status = CheckStatus::Pass;
    let mut validity_lines = Vec::new();
    let mut validity_status = CheckStatus::Pass;
    let mut key_lines = Vec::new();
    let mut key_status = CheckStatus::Pass;

    for (e, cred) in &parsed {
        let cred = match cred {
            Ok(c) => c,
            Err(err) => {
                let line = format!("{}: unreadable ({err})", e.label);
                for (lines, status) in [
                    (&mut class_lines, &mut class_status),
                    (&mut validity_lines, &mut validity_status),
                    (&mut key_lines, &mut key_status),
                ] {
                    lines.push(line.clone());
                    *status = worse(*status, CheckStatus::Fail);
                }
                continue;
            }
        };
        let who = format!("{} {}", e.label, cred.subject());

        // Generation.
        let class = classify(e.der);
        let (status, what) = match &class {
            Ok(CertClass::Oces3 { cvr, .. }) => (
                CheckStatus::Pass,
                match cvr {
                    Some(c) => format!("OCES3 (CVR {c})"),
                    None => "OCES3".to_string(),
                },
            ),
            Ok(CertClass::Oces2 { serial }) => (
                CheckStatus::Fail,
                format!(
                    "OCES2 / NemID era (issuer {}{}); NemLog-in3 needs OCES3",
                    cred.issuer(),
                    serial
                        .as_deref()
                        .map(|s| format!(", serialNumber {s}"))
                        .unwrap_or_default()
                ),
            ),
            Ok(CertClass::SelfSigned) => (
                CheckStatus::Fail,
                "self-signed; NemLog-in3 needs an OCES3 certificate".to_string(),
            ),
            Ok(CertClass::Other) => (
                CheckStatus::Fail,
                format!(
                    "not OCES3 (issuer {}); NemLog-in3 needs an OCES3 certificate",
                    cred.issuer()
                ),
            ),
            Err(err) => (CheckStatus::Fail, format!("cannot classify ({err})")),
        };
        class_status = worse(class_status, status);
        class_lines.push(format!("{who}: {what}"));

        // Validity.
        let (nb, na) = (cred.not_before(), cred.not_after());
        let span = format!("valid {} to {}", day(nb), day(na));
        let (status, what) = if now < nb {
            (CheckStatus::Fail, format!("not yet valid ({span})"))
        } else if now > na {
            (
                CheckStatus::Fail,
                format!("expired {} days ago ({span})", (now - na).whole_days()),
            )
        } else if na - now < EXPIRY_WARNING {
            (
                CheckStatus::Warn,
                format!("expires in {} days ({span})", (na - now).whole_days()),
            )
        } else {
            (CheckStatus::Pass, span)
        };
        validity_status = worse(validity_status, status);
        validity_lines.push(format!("{who}: {what}"));

        // Key.
        let bits = cred.key_bits();
        let is_oces3 = matches!(class, Ok(CertClass::Oces3 { .. }));
        let (status, what) = if !cred.is_rsa() {
            (
                CheckStatus::Fail,
                format!(
                    "{} key ({bits} bits), not RSA: NemLog-in signs and encrypts with RSA",
                    if cred.is_ec() { "EC" } else { "non-RSA" }
                ),
            )
        } else if bits < 2048 {
            (CheckStatus::Fail, format!("RSA {bits}: below 2048 bits"))
        } else if is_oces3 && bits < 3072 {
            (
                CheckStatus::Warn,
                format!("RSA {bits}: OCES3 certificates are issued with 3072-bit keys"),
            )
        } else {
            (CheckStatus::Pass, format!("RSA {bits}"))
        };
        key_status = worse(key_status, status);
        key_lines.push(format!("{who}: {what}"));
    }

    vec![
        CERT_OCES3.finding(class_status, class_lines.join("\n")),
        CERT_VALIDITY.finding(validity_status, validity_lines.join("\n")),
        CERT_KEY.finding(key_status, key_lines.join("\n")),
    ]
}

/// Distinct certificates in document order with their roles: a certificate listed for both
/// signing and encryption is one entry, not two.
fn entries(md: &SpMetadata) -> Vec<Entry<'_>> {
    let mut out: Vec<Entry<'_>> = Vec::new();
    for (list, usage) in [
        (&md.signing_certs, "signing"),
        (&md.encryption_certs, "encryption"),
    ] {
        for der in list {
            if let Some(e) = out.iter_mut().find(|e| e.der == der.as_slice()) {
                if e.usage != usage {
                    e.usage = "signing+encryption";
                }
            } else {
                out.push(Entry {
                    der,
                    usage,
                    label: String::new(),
                });
            }
        }
    }
    let n = out.len();
    for (i, e) in out.iter_mut().enumerate() {
        e.label = if n == 1 {
            format!("[{}]", e.usage)
        } else {
            format!("[{} #{}]", e.usage, i + 1)
        };
    }
    out
}

/// The worse of two outcomes (Fail > Warn > Pass > Skipped).
pub(crate) fn worse(a: CheckStatus, b: CheckStatus) -> CheckStatus {
    fn rank(s: CheckStatus) -> u8 {
        match s {
            CheckStatus::Skipped => 0,
            CheckStatus::Pass => 1,
            CheckStatus::Warn => 2,
            CheckStatus::Fail => 3,
        }
    }
    if rank(b) > rank(a) { b } else { a }
}

/// `YYYY-MM-DD`, for validity periods in details.
pub(crate) fn day(t: OffsetDateTime) -> String {
    let d = t.date();
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}
