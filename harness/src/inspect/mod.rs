//! Inbound checks: what the SP *sends* (its metadata, its certificates, its AuthnRequests), as
//! opposed to the scenarios, which judge how it *reacts* to what the broker sends.
//!
//! NemLog-in refuses an SP whose requests are unsigned, signed with SHA-1 or with an OCES2
//! certificate. These checks tell an SP team that before NemLog-in does, and they need no
//! running SP for the metadata part (`mitid-harness inspect-metadata FILE|URL`).
//!
//! Every check always yields exactly one [`Finding`] (Pass, Fail, Warn or Skipped), with a stable
//! id, so reports of two runs can be compared line by line and snapshots stay meaningful.
//! Nothing here touches the network: the metadata text and the captured redirect URL are
//! handed in, and the schema subset is built in.

mod authn_request;
mod catalogue;
mod certificate;
mod metadata;
mod redirect;
mod render;
mod schema;

use mitid_mock_broker::saml::sp_metadata::SpMetadata;
use mitid_mock_broker::{IdentityKind, Loa};
use serde::Serialize;
use time::OffsetDateTime;

pub use authn_request::CapturedAuthnRequest;
pub use catalogue::{ALL_CHECKS, Check};
pub use redirect::{DecodeError, MAX_INFLATED_BYTES, MAX_SAML_REQUEST_CHARS, RedirectParams};
pub use render::render_terminal;

/// Which part of the SP's output a check looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Family {
    /// The SP's SAML metadata document.
    Metadata,
    /// The certificates in the SP's metadata.
    Certificate,
    /// The AuthnRequest the SP sends when a login starts.
    AuthnRequest,
}

/// How bad a failure of the check is. Fixed per check, independent of the outcome, so a
/// developer can sort the work: a Critical failure means NemLog-in will refuse the SP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    /// Informational.
    Info,
    /// Hygiene; unlikely to break a login.
    Low,
    /// Likely to cause trouble in some setups or soon.
    Medium,
    /// A security or interoperability defect.
    High,
    /// NemLog-in refuses the SP, or the SP accepts forged or legacy logins.
    Critical,
}

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckStatus {
    /// The SP does what NemLog-in expects.
    Pass,
    /// The SP does something NemLog-in refuses or that is unsafe.
    Fail,
    /// Allowed, but worth changing (e.g. loopback http in a test setup).
    Warn,
    /// The check could not run (missing input or an earlier check failed); `detail` says why.
    Skipped,
}

/// One check's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Stable identifier, e.g. `metadata.authn-requests-signed`.
    pub id: &'static str,
    /// Which part of the SP's output was looked at.
    pub family: Family,
    /// How bad a failure of this check is.
    pub severity: Severity,
    /// The outcome.
    pub status: CheckStatus,
    /// One line saying what is checked.
    pub title: String,
    /// What was seen.
    pub detail: String,
    /// Why it matters and what to do, in one paragraph.
    pub rationale: &'static str,
    /// Where the requirement comes from.
    pub references: Vec<&'static str>,
}

/// Counts per status, and the most severe failed check.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Checks that passed.
    pub pass: usize,
    /// Checks that failed.
    pub fail: usize,
    /// Checks with a warning.
    pub warn: usize,
    /// Checks that did not run.
    pub skipped: usize,
    /// Severity of the most severe failed check, if any failed.
    pub worst_failure: Option<Severity>,
}

/// The findings about one subject (a metadata document or one AuthnRequest).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InspectionReport {
    /// What was inspected, e.g. `SP metadata https://saml.sp.example.dk`.
    pub subject: String,
    /// One finding per check, in catalogue order.
    pub findings: Vec<Finding>,
}

impl InspectionReport {
    /// Status counts and the worst failure.
    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for f in &self.findings {
            match f.status {
                CheckStatus::Pass => s.pass += 1,
                CheckStatus::Warn => s.warn += 1,
                CheckStatus::Skipped => s.skipped += 1,
                CheckStatus::Fail => {
                    s.fail += 1;
                    s.worst_failure = s.worst_failure.max(Some(f.severity));
                }
            }
        }
        s
    }

    /// Whether any check failed (the CLI's exit status).
    pub fn has_failures(&self) -> bool {
        self.findings.iter().any(|f| f.status == CheckStatus::Fail)
    }

    /// The finding of one check, by id.
    pub fn finding(&self, id: &str) -> Option<&Finding> {
        self.findings.iter().find(|f| f.id == id)
    }

    /// Pretty JSON. The field order is the struct order and findings are in catalogue order,
    /// so the output is stable between runs with the same input and clock.
    pub fn to_json(&self) -> String {
        #[derive(Serialize)]
        struct Out<'a> {
            subject: &'a str,
            summary: Summary,
            findings: &'a [Finding],
        }
        serde_json::to_string_pretty(&Out {
            subject: &self.subject,
            summary: self.summary(),
            findings: &self.findings,
        })
        .unwrap_or_else(|e| format!("{{\"error\":\"cannot serialise report: {e}\"}}"))
    }

    /// Appends another report's findings (e.g. metadata + AuthnRequest in one run report).
    pub fn merge(&mut self, other: InspectionReport) {
        self.findings.extend(other.findings);
    }
}

/// What the checks compare against. Everything that varies per run is here, so a report is a
/// pure function of its inputs (the clock included).
#[derive(Debug, Clone)]
pub struct InspectOptions {
    /// "Now" for certificate expiry and metadata validUntil.
    pub now: OffsetDateTime,
    /// The broker's SSO URL the SP should send requests to (`Destination`); `None` skips that
    /// check.
    pub broker_sso_url: Option<String>,
    /// The NSIS level the service needs; `None` only checks that some NSIS level is requested.
    pub required_loa: Option<Loa>,
    /// The attribute profile the service is configured for; `None` skips the profile check.
    pub expected_profile: Option<IdentityKind>,
    /// A private SP (not a public authority) may not ask for CPR numbers or privileges.
    pub private_sp: bool,
    /// The OIOSAML version the SP speaks: a 4.0 AuthnRequest states its LoA with the 4.0 URIs
    /// and its attribute profiles in `RequestedAttributeProfiles`.
    pub oiosaml: mitid_mock_broker::saml::oiosaml4::OiosamlVersion,
}

impl InspectOptions {
    /// Options with only the clock set.
    pub fn new(now: OffsetDateTime) -> Self {
        InspectOptions {
            now,
            broker_sso_url: None,
            required_loa: None,
            expected_profile: None,
            private_sp: false,
            oiosaml: Default::default(),
        }
    }
}

/// Inspect an SP metadata document: the metadata checks and the certificate checks.
///
/// Never fails: a document that cannot be parsed yields a failed `metadata.parse` finding and
/// the other checks are reported as skipped.
pub fn inspect_metadata(xml: &str, opts: &InspectOptions) -> InspectionReport {
    metadata::inspect(xml, opts)
}

/// Inspect one captured AuthnRequest against the SP's metadata.
pub fn inspect_authn_request(
    req: &CapturedAuthnRequest,
    sp: &SpMetadata,
    opts: &InspectOptions,
) -> InspectionReport {
    authn_request::inspect(req, sp, opts, &[])
}

/// Like [`inspect_authn_request`], and also fails `authn-request.id` if the request reuses an
/// ID from `seen_ids` (IDs of earlier requests from the same SP): a reused ID lets a captured
/// response be replayed against a new login.
pub fn inspect_authn_request_with_history(
    req: &CapturedAuthnRequest,
    sp: &SpMetadata,
    opts: &InspectOptions,
    seen_ids: &[String],
) -> InspectionReport {
    authn_request::inspect(req, sp, opts, seen_ids)
}
