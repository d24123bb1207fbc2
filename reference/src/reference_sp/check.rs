//! The checks the reference SP's assertion consumer performs, and the rejection they produce.
//!
//! Every rejection names exactly one [`Check`]. That is what lets the discrimination tests say
//! not only "the strict SP rejected" but "it rejected *for the reason the scenario is about*",
//! and what lets a [`super::Flaw`] be defined as "this one check is switched off".

use serde::Serialize;
use std::fmt;

/// One validation rule of the ACS, in OIOSAML 3 terms (see `nemlogin-protocol.md` §1.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Check {
    /// The POST is a well-formed, size-bounded, base64 `samlp:Response`, Version 2.0, with an ID.
    Message,
    /// No DOCTYPE / DTD in the response (XXE and entity expansion), and nothing is fetched.
    Doctype,
    /// `Status/StatusCode` is `urn:oasis:names:tc:SAML:2.0:status:Success`.
    Status,
    /// `Response/@Destination` is present and equals the ACS URL.
    Destination,
    /// `InResponseTo` (Response and SubjectConfirmationData) names a request this session sent.
    InResponseTo,
    /// IssueInstants within the clock skew; Conditions and SubjectConfirmationData windows.
    Timing,
    /// Response Issuer (if present) and Assertion Issuer are the IdP's entityID, Format entity.
    Issuer,
    /// No plaintext `saml:Assertion`: OIOSAML 3 requires the assertion to be encrypted.
    Encryption,
    /// Exactly one (encrypted) assertion in the response.
    AssertionCount,
    /// The EncryptedAssertion decrypts with the SP's key to exactly one Assertion.
    Decryption,
    /// No SHA-1 signature or digest algorithm.
    SignatureAlgorithm,
    /// The consumed Assertion itself is signed by a key from the IdP metadata (not KeyInfo).
    Signature,
    /// NameID: persistent/transient, `https://data.gov.dk/model/core/eid/{person|professional}/uuid/<uuid>`.
    NameId,
    /// Exactly one bearer SubjectConfirmation with SubjectConfirmationData.
    SubjectConfirmation,
    /// `SubjectConfirmationData/@Recipient` equals the ACS URL.
    Recipient,
    /// Conditions with exactly one Audience: this SP's entityID.
    Audience,
    /// Exactly one AuthnStatement and exactly one AttributeStatement.
    Statements,
    /// `https://data.gov.dk/model/core/specVersion` = `OIO-SAML-3.0`.
    SpecVersion,
    /// `https://data.gov.dk/concept/core/nsis/loa` present and one of Low/Substantial/High.
    Loa,
    /// The asserted NSIS LoA is at least the service's required LoA.
    LoaLevel,
    /// No NemID-era AuthnContextClassRef (NemID key card/file, `ac:classes:X509`, ...).
    AuthnContext,
    /// No OIOSAML 2 `dk:gov:saml:attribute:*` attribute and no OCES userCertificate.
    LegacyAttributes,
    /// OIOSAML 4.0: the assertion names exactly one attribute profile, one the SP requested,
    /// of the NameID's kind; an EU profile names the member state.
    AttributeProfile,
    /// OIOSAML 4.0: no CPR number in a profile without one (WithoutCPR, Anonymous,
    /// professional and EU profiles).
    ProfileCpr,
    /// Professional logins carry an 8-digit CVR and a non-empty orgName.
    Professional,
    /// An SP that requires an OIO BPP privilege: `privilegesIntermediate` grants it in a
    /// `PrivilegeGroup` whose Scope is exactly the CVR scope of the organisation the user
    /// logs in for ([`super::privilege`]).
    Privilege,
    /// The SP's own (over-strict, flawed) expectations of the attribute set; the strict SP
    /// never rejects on this check.
    Attributes,
    /// The attribute the SP keys users by is present.
    IdentityKey,
    /// The assertion ID has not been consumed before.
    Replay,
    /// An IdP-initiated LogoutRequest (the SLO endpoint, not the ACS): signed by a key from
    /// the IdP metadata, issued by the IdP, unexpired, and naming this session's user.
    Logout,
}

impl Check {
    /// Every check, in the order the ACS applies them.
    pub const ALL: &'static [Check] = &[
        Check::Message,
        Check::Doctype,
        Check::Status,
        Check::Destination,
        Check::InResponseTo,
        Check::Timing,
        Check::Issuer,
        Check::Encryption,
        Check::AssertionCount,
        Check::Decryption,
        Check::SignatureAlgorithm,
        Check::Signature,
        Check::NameId,
        Check::SubjectConfirmation,
        Check::Recipient,
        Check::Audience,
        Check::Statements,
        Check::AuthnContext,
        Check::SpecVersion,
        Check::Loa,
        Check::LoaLevel,
        Check::LegacyAttributes,
        Check::AttributeProfile,
        Check::ProfileCpr,
        Check::Professional,
        Check::Privilege,
        Check::Attributes,
        Check::IdentityKey,
        Check::Replay,
        Check::Logout,
    ];

    /// Stable kebab-case id (as serialised).
    pub fn id(self) -> &'static str {
        match self {
            Check::Message => "message",
            Check::Doctype => "doctype",
            Check::Status => "status",
            Check::Destination => "destination",
            Check::InResponseTo => "in-response-to",
            Check::Timing => "timing",
            Check::Issuer => "issuer",
            Check::Encryption => "encryption",
            Check::AssertionCount => "assertion-count",
            Check::Decryption => "decryption",
            Check::SignatureAlgorithm => "signature-algorithm",
            Check::Signature => "signature",
            Check::NameId => "name-id",
            Check::SubjectConfirmation => "subject-confirmation",
            Check::Recipient => "recipient",
            Check::Audience => "audience",
            Check::Statements => "statements",
            Check::SpecVersion => "spec-version",
            Check::Loa => "loa",
            Check::LoaLevel => "loa-level",
            Check::AuthnContext => "authn-context",
            Check::LegacyAttributes => "legacy-attributes",
            Check::AttributeProfile => "attribute-profile",
            Check::ProfileCpr => "profile-cpr",
            Check::Professional => "professional",
            Check::Privilege => "privilege",
            Check::Attributes => "attributes",
            Check::IdentityKey => "identity-key",
            Check::Replay => "replay",
            Check::Logout => "logout",
        }
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// Why the ACS refused a response: the check that failed and what it saw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{check}: {detail}")]
pub struct Rejection {
    /// The failed check.
    pub check: Check,
    /// One sentence for the error page and the test failure message.
    pub detail: String,
}

impl Rejection {
    /// A rejection by `check`.
    pub fn new(check: Check, detail: impl Into<String>) -> Self {
        Rejection {
            check,
            detail: detail.into(),
        }
    }
}

/// `Err(Rejection)` shorthand used by the validation code.
pub(crate) fn reject<T>(check: Check, detail: impl Into<String>) -> Result<T, Rejection> {
    Err(Rejection::new(check, detail))
}
