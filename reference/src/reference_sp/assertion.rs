//! The checks on the (decrypted, signature-verified) Assertion, as digst/OIOSAML.Java's
//! `AssertionValidationService` applies them (nemlogin-protocol.md §1.4), plus the NemID-era
//! vocabulary an MitID-only SP must refuse (§4.3). The result is the [`Login`] the SP files the
//! user under: keyed by the UUID in the NameID, never by PID, RID or CPR.

use super::check::{Check, Rejection, reject};
use super::flaw::Flaw;
use super::session::Login;
use super::xml::{self, SAML, child, children, is};
use mitid_mock_broker::nsis::Loa;
use std::collections::{BTreeMap, BTreeSet};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

const NAMEID_PERSISTENT: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent";
const NAMEID_TRANSIENT: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient";
const NAMEID_ENTITY: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:entity";
const NAMEID_X509: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName";
const CM_BEARER: &str = "urn:oasis:names:tc:SAML:2.0:cm:bearer";
const EID_PREFIX: &str = "https://data.gov.dk/model/core/eid/";

const SPEC_VERSION: &str = "https://data.gov.dk/model/core/specVersion";
const SPEC_VERSION_VALUE: &str = "OIO-SAML-3.0";
const LOA: &str = "https://data.gov.dk/concept/core/nsis/loa";
const CPR: &str = "https://data.gov.dk/model/core/eid/cprNumber";
const FULL_NAME: &str = "https://data.gov.dk/model/core/eid/fullName";
const PID: &str = "https://data.gov.dk/model/core/eid/person/pid";
const RID: &str = "https://data.gov.dk/model/core/eid/professional/rid";
const CVR: &str = "https://data.gov.dk/model/core/eid/professional/cvr";
const ORG_NAME: &str = "https://data.gov.dk/model/core/eid/professional/orgName";
const LEGACY_PREFIX: &str = "dk:gov:saml:attribute:";
const LEGACY_SPEC_VER: &str = "dk:gov:saml:attribute:SpecVer";
const LEGACY_ASSURANCE_LEVEL: &str = "dk:gov:saml:attribute:AssuranceLevel";
const OCES_USER_CERTIFICATE: &str = "urn:oid:1.3.6.1.4.1.1466.115.121.1.8";
/// AuthnContextClassRefs of NemID-era logins.
const LEGACY_CLASS_REFS: &[&str] = &[
    "https://nemlogin.dk/internal/credential/type/nemidkeycard",
    "https://nemlogin.dk/internal/credential/type/nemidkeyfile",
    "urn:oasis:names:tc:SAML:2.0:ac:classes:X509",
];

/// What the assertion must match.
#[derive(Debug)]
pub(crate) struct Expect<'a> {
    pub flaws: &'a BTreeSet<Flaw>,
    pub idp_entity_id: &'a str,
    pub sp_entity_id: &'a str,
    pub acs_url: &'a str,
    /// The Response's InResponseTo, when it named one of this session's requests.
    pub in_response_to: Option<&'a str>,
    pub time: TimePolicy,
    pub required_loa: Loa,
    pub private_sp: bool,
    /// The OIO BPP privilege the SP requires (`None`: none).
    pub required_privilege: Option<&'a str>,
    /// OIOSAML 4.0 expectations (`None`: a 3.0.3 SP).
    pub oiosaml4: Option<Expect4<'a>>,
}

/// What a 4.0 assertion must match besides the 3.0.3 checks.
#[derive(Debug)]
pub(crate) struct Expect4<'a> {
    /// The profile URIs the SP requested.
    pub requested_profiles: Vec<&'a str>,
    /// The specVersion value the SP requires.
    pub spec_version: &'a str,
}

// OIOSAML 4.0 vocabulary, spelled here independently of the broker (FoxIDs.Assets
// `modules/nemlogin/metadata/oiosaml4-idp-prod.xml`).
const LOA4: &str = "https://data.gov.dk/concept/core/loa";
const PROFILE4: &str = "https://data.gov.dk/concept/core/eid/profile";
const MEMBER_STATE4: &str = "https://data.gov.dk/model/core/eid/eidas/memberState";
/// The only 4.0 profile that may carry a CPR number.
const PROFILE_PERSON_DK: &str = "https://data.gov.dk/eid/Person/DK";
const PROFILE_PERSON_PREFIX: &str = "https://data.gov.dk/eid/Person/";
const PROFILE_PROFESSIONAL_PREFIX: &str = "https://data.gov.dk/eid/Professional/";
/// 4.0 attribute names the SP knows (for `RejectUnknownAttributes` on a 4.0 SP).
const KNOWN_ATTRIBUTES_4: &[&str] = &[
    LOA4,
    PROFILE4,
    MEMBER_STATE4,
    "https://data.gov.dk/concept/core/eid/provider",
    "https://data.gov.dk/model/core/eidas/loa",
    "https://data.gov.dk/model/core/nsis/cpr_ial",
    "https://data.gov.dk/model/core/eid/professional/isRobot",
    "https://data.gov.dk/model/core/eid/allowQualifiedSigning",
    "http://eidas.europa.eu/attributes/naturalperson/PersonIdentifier",
    "http://eidas.europa.eu/attributes/naturalperson/CurrentFamilyName",
    "http://eidas.europa.eu/attributes/naturalperson/CurrentGivenName",
    "http://eidas.europa.eu/attributes/naturalperson/DateOfBirth",
];

impl Expect<'_> {
    fn has(&self, f: Flaw) -> bool {
        self.flaws.contains(&f)
    }

    fn text(&self, n: roxmltree::Node<'_, '_>) -> String {
        if self.has(Flaw::FirstTextNode) {
            xml::first_text(n)
        } else {
            xml::full_text(n)
        }
    }
}

/// Parse an xs:dateTime (UTC, optional fraction).
pub(crate) fn instant(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s.trim(), &Rfc3339).ok()
}

/// How the SP reads instants and how far from its own clock it lets them be.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TimePolicy {
    pub now: OffsetDateTime,
    /// Tolerance for instants in the past.
    pub skew: Duration,
    /// Tolerance for instants in the future (the IdP's clock ahead of ours); zero under the
    /// `NoClockSkew` flaw.
    pub future_skew: Duration,
    /// Whether `12:00:00.123Z` parses; not under the `RejectFractionalSeconds` flaw.
    pub fractions: bool,
}

impl TimePolicy {
    fn parse(&self, raw: &str, what: &str) -> Result<OffsetDateTime, Rejection> {
        let parsed = if !self.fractions && raw.contains('.') {
            None
        } else {
            instant(raw)
        };
        parsed.ok_or_else(|| {
            Rejection::new(
                Check::Timing,
                format!("{what} {raw:?} is not an xs:dateTime"),
            )
        })
    }
}

/// `IssueInstant` present and within the clock skew of now.
pub(crate) fn check_issue_instant(
    value: Option<&str>,
    what: &str,
    tp: &TimePolicy,
) -> Result<(), Rejection> {
    let Some(raw) = value else {
        return reject(Check::Timing, format!("{what} is missing"));
    };
    let t = tp.parse(raw, what)?;
    let (late, early) = (t > tp.now + tp.future_skew, t < tp.now - tp.skew);
    if late || early {
        return reject(
            Check::Timing,
            format!(
                "{what} {raw} is more than {} minutes from now: stale or from the future",
                if late { tp.future_skew } else { tp.skew }.whole_minutes()
            ),
        );
    }
    Ok(())
}

/// A validity window: `NotBefore` (optional) must have started, `NotOnOrAfter` (required when
/// `require_end`) must not have passed, both with the skew.
fn check_window(
    node: roxmltree::Node<'_, '_>,
    what: &str,
    require_end: bool,
    x: &Expect<'_>,
) -> Result<Option<OffsetDateTime>, Rejection> {
    let tp = &x.time;
    if let Some(nb) = node.attribute("NotBefore") {
        let t = tp.parse(nb, &format!("{what}/@NotBefore"))?;
        if t > tp.now + tp.future_skew {
            return reject(
                Check::Timing,
                format!("{what}/@NotBefore {nb} is in the future: not valid yet"),
            );
        }
    }
    match node.attribute("NotOnOrAfter") {
        Some(noa) => {
            let t = tp.parse(noa, &format!("{what}/@NotOnOrAfter"))?;
            if t + tp.skew <= tp.now {
                return reject(
                    Check::Timing,
                    format!("{what}/@NotOnOrAfter {noa} has passed: expired"),
                );
            }
            Ok(Some(t))
        }
        None if require_end => reject(Check::Timing, format!("{what} has no NotOnOrAfter")),
        None => Ok(None),
    }
}

/// Issuer: value is the IdP entityID, Format omitted or `entity` (`require_format`: the
/// `RequireIssuerFormat` flaw's misreading that it must be present).
pub(crate) fn check_issuer(
    issuer: roxmltree::Node<'_, '_>,
    what: &str,
    idp_entity_id: &str,
    require_format: bool,
) -> Result<(), Rejection> {
    let value = xml::full_text(issuer);
    if value.trim() != idp_entity_id {
        return reject(
            Check::Issuer,
            format!(
                "{what} Issuer {:?} is not the IdP's entityID {idp_entity_id:?}",
                value.trim()
            ),
        );
    }
    match issuer.attribute("Format") {
        None if require_format => reject(
            Check::Issuer,
            format!("{what} Issuer has no Format (this SP insists on {NAMEID_ENTITY})"),
        ),
        None | Some(NAMEID_ENTITY) => Ok(()),
        Some(f) => reject(
            Check::Issuer,
            format!("{what} Issuer Format {f:?} must be omitted or {NAMEID_ENTITY}"),
        ),
    }
}

/// The identity a NameID names.
struct Subject {
    name_id: String,
    kind: &'static str,
    key: String,
}

/// The `LaxNameId` reading: whatever the NameID says, its last path segment is the user.
fn lax_subject(value: String) -> Subject {
    let key = value
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let kind = if value.contains("/professional/") {
        "professional"
    } else {
        "person"
    };
    Subject {
        name_id: value,
        kind,
        key,
    }
}

fn parse_name_id(name_id: roxmltree::Node<'_, '_>, x: &Expect<'_>) -> Result<Subject, Rejection> {
    let value = x.text(name_id);
    if x.has(Flaw::LaxNameId) {
        return Ok(lax_subject(value));
    }
    let format = name_id.attribute("Format");
    if x.has(Flaw::AcceptX509SubjectNameId) && format == Some(NAMEID_X509) {
        // The NemID-era reading: `C=DK,O=...,CN=...,Serial=PID:...` / `Serial=CVR:...-RID:...`.
        let serial = value
            .split(',')
            .find_map(|rdn| rdn.trim().strip_prefix("Serial="))
            .ok_or_else(|| {
                Rejection::new(
                    Check::NameId,
                    format!("X509SubjectName NameID {value:?} has no Serial="),
                )
            })?;
        let kind = if serial.starts_with("PID:") {
            "person"
        } else {
            "professional"
        };
        return Ok(Subject {
            name_id: value.clone(),
            kind,
            key: serial.to_string(),
        });
    }
    match format {
        Some(NAMEID_PERSISTENT | NAMEID_TRANSIENT) => {}
        Some(f) => {
            return reject(
                Check::NameId,
                format!(
                    "NameID Format {f:?} is not persistent or transient (OIOSAML 3); {NAMEID_X509} is the NemID-era format"
                ),
            );
        }
        None => {
            return reject(
                Check::NameId,
                "NameID has no Format; OIOSAML 3 requires persistent or transient",
            );
        }
    }
    let bad = || {
        Rejection::new(
            Check::NameId,
            format!("NameID {value:?} is not {EID_PREFIX}{{person|professional}}/uuid/<UUID>"),
        )
    };
    let rest = value.strip_prefix(EID_PREFIX).ok_or_else(bad)?;
    let (kind, uuid) = if let Some(u) = rest.strip_prefix("person/uuid/") {
        ("person", u)
    } else if let Some(u) = rest.strip_prefix("professional/uuid/") {
        ("professional", u)
    } else {
        return Err(bad());
    };
    if uuid.len() != 36 || uuid::Uuid::try_parse(uuid).is_err() {
        return Err(bad());
    }
    Ok(Subject {
        name_id: value.clone(),
        kind,
        key: uuid.to_ascii_lowercase(),
    })
}

/// Attribute name -> values, across all AttributeStatements.
fn attributes(assertion: roxmltree::Node<'_, '_>, x: &Expect<'_>) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    // `DescendantSearch`: every AttributeStatement anywhere below the assertion, in document
    // order, so one smuggled into the Signature (before the genuine one) is read first.
    let statements: Vec<_> = if x.has(Flaw::DescendantSearch) {
        assertion
            .descendants()
            .filter(|n| is(*n, SAML, "AttributeStatement"))
            .collect()
    } else {
        children(assertion, SAML, "AttributeStatement").collect()
    };
    for st in statements {
        for a in children(st, SAML, "Attribute") {
            let Some(name) = a.attribute("Name") else {
                continue;
            };
            let values = children(a, SAML, "AttributeValue").map(|v| x.text(v));
            out.entry(name.to_string()).or_default().extend(values);
        }
    }
    out
}

fn single<'a>(attrs: &'a BTreeMap<String, Vec<String>>, name: &str) -> Option<&'a str> {
    attrs.get(name).and_then(|v| v.first()).map(String::as_str)
}

/// Validate the assertion; on success, who logged in and until when the assertion ID must be
/// remembered.
pub(crate) fn validate(
    a: roxmltree::Node<'_, '_>,
    x: &Expect<'_>,
) -> Result<(Login, OffsetDateTime), Rejection> {
    if !is(a, SAML, "Assertion") {
        return reject(
            Check::Message,
            format!("expected a saml:Assertion, found {}", xml::qname(a)),
        );
    }
    let skip_message = x.has(Flaw::SkipMessageChecks);
    if a.attribute("Version") != Some("2.0") && !skip_message {
        return reject(Check::Message, "Assertion Version is not 2.0");
    }
    let assertion_id = match a.attribute("ID").filter(|i| !i.is_empty()) {
        Some(id) => id.to_string(),
        None if skip_message => String::new(),
        None => return reject(Check::Message, "Assertion has no ID"),
    };
    if !x.has(Flaw::SkipTimeChecks) {
        check_issue_instant(
            a.attribute("IssueInstant"),
            "Assertion IssueInstant",
            &x.time,
        )?;
    }
    if !x.has(Flaw::SkipIssuer) {
        let issuer = child(a, SAML, "Issuer")
            .ok_or_else(|| Rejection::new(Check::Issuer, "Assertion has no Issuer"))?;
        check_issuer(
            issuer,
            "Assertion",
            x.idp_entity_id,
            x.has(Flaw::RequireIssuerFormat),
        )?;
    }

    // ---- Subject ----
    let lax = x.has(Flaw::LaxNameId);
    let subject = if x.has(Flaw::DescendantSearch) {
        a.descendants().find(|n| is(*n, SAML, "Subject"))
    } else {
        child(a, SAML, "Subject")
    };
    let name_ids: Vec<_> = subject
        .map(|s| children(s, SAML, "NameID").collect())
        .unwrap_or_default();
    let who = match (subject, name_ids.as_slice()) {
        (_, [one]) => parse_name_id(*one, x)?,
        (_, []) if lax => lax_subject(String::new()),
        (None, _) => return reject(Check::NameId, "Assertion has no Subject"),
        (Some(_), _) => {
            return reject(
                Check::NameId,
                format!(
                    "Subject has {} NameIDs; exactly one is required",
                    name_ids.len()
                ),
            );
        }
    };

    let confirmations: Vec<_> = subject
        .map(|s| children(s, SAML, "SubjectConfirmation").collect())
        .unwrap_or_default();
    let bearer: Vec<_> = confirmations
        .iter()
        .copied()
        .filter(|c| c.attribute("Method") == Some(CM_BEARER))
        .collect();
    if !x.has(Flaw::SkipSubjectConfirmation) {
        if bearer.len() != 1 {
            return reject(
                Check::SubjectConfirmation,
                format!(
                    "{} bearer SubjectConfirmations ({} in all); exactly one with Method {CM_BEARER} is required",
                    bearer.len(),
                    confirmations.len()
                ),
            );
        }
        if child(bearer[0], SAML, "SubjectConfirmationData").is_none() {
            return reject(
                Check::SubjectConfirmation,
                "the bearer SubjectConfirmation has no SubjectConfirmationData",
            );
        }
    }
    let mut remember_until = x.time.now + Duration::hours(24);
    if let Some(data) = bearer
        .first()
        .or(confirmations.first())
        .and_then(|c| child(*c, SAML, "SubjectConfirmationData"))
    {
        if !x.has(Flaw::SkipRecipient) {
            match data.attribute("Recipient") {
                Some(r) if r == x.acs_url => {}
                Some(r) => {
                    return reject(
                        Check::Recipient,
                        format!(
                            "SubjectConfirmationData Recipient {r:?} is not this SP's ACS URL {:?}",
                            x.acs_url
                        ),
                    );
                }
                None => {
                    return reject(Check::Recipient, "SubjectConfirmationData has no Recipient");
                }
            }
        }
        if !x.has(Flaw::SkipTimeChecks)
            && let Some(end) = check_window(data, "SubjectConfirmationData", true, x)?
        {
            remember_until = remember_until.max(end + x.time.skew);
        }
        if !x.has(Flaw::SkipInResponseTo) {
            match (data.attribute("InResponseTo"), x.in_response_to) {
                (Some(d), Some(r)) if d == r => {}
                (d, r) => {
                    return reject(
                        Check::InResponseTo,
                        format!(
                            "SubjectConfirmationData InResponseTo {d:?} does not match the request {r:?}"
                        ),
                    );
                }
            }
        }
    }

    // ---- Conditions ----
    let conditions: Vec<_> = children(a, SAML, "Conditions").collect();
    if !x.has(Flaw::SkipAudience) {
        if conditions.len() != 1 {
            return reject(
                Check::Audience,
                format!(
                    "Assertion has {} Conditions elements; exactly one with this SP's Audience is required",
                    conditions.len()
                ),
            );
        }
        let audiences: Vec<String> = children(conditions[0], SAML, "AudienceRestriction")
            .flat_map(|ar| children(ar, SAML, "Audience"))
            .map(|au| xml::full_text(au).trim().to_string())
            .collect();
        if audiences != [x.sp_entity_id] {
            return reject(
                Check::Audience,
                format!(
                    "Audience is {audiences:?}; exactly one Audience, this SP's entityID {:?}, is required",
                    x.sp_entity_id
                ),
            );
        }
    }
    if !x.has(Flaw::SkipTimeChecks) {
        for c in &conditions {
            if let Some(end) = check_window(*c, "Conditions", false, x)? {
                remember_until = remember_until.max(end + x.time.skew);
            }
        }
    }

    // ---- Statements ----
    let authn_statements: Vec<_> = children(a, SAML, "AuthnStatement").collect();
    let attribute_statements = children(a, SAML, "AttributeStatement").count();
    if !x.has(Flaw::SkipStatementChecks)
        && (authn_statements.len() != 1 || attribute_statements != 1)
    {
        return reject(
            Check::Statements,
            format!(
                "Assertion has {} AuthnStatements and {attribute_statements} AttributeStatements; exactly one of each is required",
                authn_statements.len()
            ),
        );
    }
    if !x.has(Flaw::AcceptLegacyAuthnContext) {
        for st in &authn_statements {
            for cr in st
                .descendants()
                .filter(|n| is(*n, SAML, "AuthnContextClassRef"))
            {
                let v = xml::full_text(cr);
                let v = v.trim();
                if LEGACY_CLASS_REFS.contains(&v)
                    || v.starts_with("urn:dk:gov:saml:attribute:AssuranceLevel")
                {
                    return reject(
                        Check::AuthnContext,
                        format!(
                            "AuthnContextClassRef {v:?} is a NemID-era authentication, not MitID"
                        ),
                    );
                }
            }
        }
    }

    // ---- Attributes ----
    let attrs = attributes(a, x);
    if !x.has(Flaw::AcceptLegacySpecVer) {
        let v = attrs.get(SPEC_VERSION);
        let want = x
            .oiosaml4
            .as_ref()
            .map_or(SPEC_VERSION_VALUE, |o| o.spec_version);
        let is = |w: &str| v.map(Vec::as_slice) == Some(&[w.to_string()][..]);
        let lenient_303 =
            x.oiosaml4.is_some() && x.has(Flaw::Accept303VocabularyIn4) && is(SPEC_VERSION_VALUE);
        if !is(want) && !lenient_303 {
            return reject(
                Check::SpecVersion,
                format!("{SPEC_VERSION} is {v:?}; it must be exactly {want:?}"),
            );
        }
    }
    // The LoA attribute: 3.0.3's NSIS LoA, or 4.0's general LoA (a 4.0 SP reusing its 3.0.3
    // code falls back to the NSIS one).
    let loa_name = match &x.oiosaml4 {
        None => LOA,
        Some(_) if !attrs.contains_key(LOA4) && x.has(Flaw::Accept303VocabularyIn4) => LOA,
        Some(_) => LOA4,
    };
    let loa_label = match attrs.get(loa_name) {
        _ if x.has(Flaw::NoLoaCheck) => single(&attrs, loa_name).unwrap_or("(none)").to_string(),
        Some(values) => {
            let [value] = values.as_slice() else {
                return reject(
                    Check::Loa,
                    format!(
                        "{loa_name} has {} values; exactly one is required",
                        values.len()
                    ),
                );
            };
            let Some(loa) = Loa::ALL.into_iter().find(|l| l.name() == value) else {
                return reject(
                    Check::Loa,
                    format!("NSIS LoA {value:?} is not Low, Substantial or High"),
                );
            };
            if x.has(Flaw::ExactLoaMatch) && loa != x.required_loa {
                return reject(
                    Check::LoaLevel,
                    format!(
                        "NSIS LoA {loa} is not exactly the {} this service requires",
                        x.required_loa
                    ),
                );
            }
            if !x.has(Flaw::IgnoreLoaLevel) && loa < x.required_loa {
                return reject(
                    Check::LoaLevel,
                    format!(
                        "NSIS LoA {loa} is below the {} this service requires",
                        x.required_loa
                    ),
                );
            }
            loa.name().to_string()
        }
        None => {
            let al =
                single(&attrs, LEGACY_ASSURANCE_LEVEL).and_then(|v| v.trim().parse::<u32>().ok());
            match al {
                Some(n) if x.has(Flaw::AcceptAssuranceLevel) && n >= 3 => {
                    format!("AssuranceLevel {n}")
                }
                Some(n) => {
                    return reject(
                        Check::Loa,
                        format!(
                            "NSIS LoA required, but received AssuranceLevel {n} (a non-NSIS, NemID-era login)"
                        ),
                    );
                }
                None => return reject(Check::Loa, format!("no LoA attribute {loa_name}")),
            }
        }
    };
    if !x.has(Flaw::AcceptLegacyAttributes) {
        let exempt = |n: &str| {
            (x.has(Flaw::AcceptLegacySpecVer) && n == LEGACY_SPEC_VER)
                || (x.has(Flaw::AcceptAssuranceLevel) && n == LEGACY_ASSURANCE_LEVEL)
        };
        if let Some(n) = attrs.keys().find(|n| {
            (n.starts_with(LEGACY_PREFIX) && !exempt(n)) || n.as_str() == OCES_USER_CERTIFICATE
        }) {
            return reject(
                Check::LegacyAttributes,
                format!(
                    "attribute {n:?} is OIOSAML 2 / NemID vocabulary; an OIOSAML 3 assertion never carries it"
                ),
            );
        }
    }
    if let Some(o) = &x.oiosaml4 {
        check_profile(o, who.kind, &attrs, x)?;
    }
    over_strict_attributes(a, who.kind, &attrs, x)?;
    let cvr = single(&attrs, CVR).map(str::to_string);
    if who.kind == "professional" && !x.has(Flaw::SkipProfessionalChecks) {
        if !cvr
            .as_deref()
            .is_some_and(|c| c.len() == 8 && c.bytes().all(|b| b.is_ascii_digit()))
        {
            return reject(
                Check::Professional,
                format!("professional login with CVR {cvr:?}; 8 digits are required"),
            );
        }
        if single(&attrs, ORG_NAME).is_none_or(|o| o.trim().is_empty()) {
            return reject(Check::Professional, "professional login without orgName");
        }
    }
    if let Some(required) = x.required_privilege {
        super::privilege::check(&attrs, cvr.as_deref(), required, x.flaws)?;
    }
    let cpr = if x.private_sp {
        None
    } else {
        single(&attrs, CPR).map(str::to_string)
    };
    let key = if x.has(Flaw::KeyByCpr) {
        single(&attrs, CPR)
            .map(str::to_string)
            .ok_or_else(|| Rejection::new(Check::IdentityKey, "no CPR number to key the user by"))?
    } else if x.has(Flaw::KeyByPid) {
        let name = if who.kind == "person" { PID } else { RID };
        single(&attrs, name).map(str::to_string).ok_or_else(|| {
            Rejection::new(Check::IdentityKey, format!("no {name} to key the user by"))
        })?
    } else {
        who.key
    };
    Ok((
        Login {
            uuid: key,
            name_id: who.name_id,
            kind: who.kind.to_string(),
            loa: loa_label,
            cpr,
            cvr,
            name: single(&attrs, FULL_NAME).map(str::to_string),
            assertion_id,
        },
        remember_until,
    ))
}

/// OIOSAML 4.0: the attribute profile the assertion names, and what it allows.
fn check_profile(
    o: &Expect4<'_>,
    kind: &str,
    attrs: &BTreeMap<String, Vec<String>>,
    x: &Expect<'_>,
) -> Result<(), Rejection> {
    let profile = match attrs.get(PROFILE4).map(Vec::as_slice) {
        Some([one]) => Some(one.as_str()),
        None if x.has(Flaw::IgnoreAttributeProfile) || x.has(Flaw::Accept303VocabularyIn4) => None,
        None => {
            return reject(
                Check::AttributeProfile,
                format!("no attribute profile {PROFILE4}; an OIOSAML 4.0 assertion names one"),
            );
        }
        Some(v) => {
            return reject(
                Check::AttributeProfile,
                format!("{PROFILE4} has {} values; exactly one is required", v.len()),
            );
        }
    };
    let Some(profile) = profile else {
        return Ok(());
    };
    if !x.has(Flaw::IgnoreAttributeProfile) {
        if !o.requested_profiles.contains(&profile) {
            return reject(
                Check::AttributeProfile,
                format!(
                    "attribute profile {profile:?} is not one this SP requested ({})",
                    o.requested_profiles.join(", ")
                ),
            );
        }
        let want_prefix = if kind == "professional" {
            PROFILE_PROFESSIONAL_PREFIX
        } else {
            PROFILE_PERSON_PREFIX
        };
        if !profile.starts_with(want_prefix) {
            return reject(
                Check::AttributeProfile,
                format!("attribute profile {profile:?} does not fit a {kind} NameID"),
            );
        }
        if profile.ends_with("/EU") {
            match single(attrs, MEMBER_STATE4) {
                Some(ms) if ms.len() == 2 && ms != "DK" => {}
                ms => {
                    return reject(
                        Check::AttributeProfile,
                        format!(
                            "EU profile with member state {ms:?}; another member state's two-letter code is required"
                        ),
                    );
                }
            }
        }
    }
    if profile != PROFILE_PERSON_DK
        && attrs.contains_key(CPR)
        && !x.has(Flaw::AcceptCprInAnyProfile)
    {
        return reject(
            Check::ProfileCpr,
            format!("a CPR number in attribute profile {profile:?}, which carries none"),
        );
    }
    Ok(())
}

/// Attribute names of the OIOSAML 3 profile this SP "knows" (for the
/// `RejectUnknownAttributes` flaw).
const KNOWN_ATTRIBUTES: &[&str] = &[
    SPEC_VERSION,
    LOA,
    "https://data.gov.dk/concept/core/nsis/ial",
    "https://data.gov.dk/concept/core/nsis/aal",
    CPR,
    FULL_NAME,
    PID,
    RID,
    CVR,
    ORG_NAME,
    "https://data.gov.dk/model/core/eid/age",
    "https://data.gov.dk/model/core/eid/alias",
    "https://data.gov.dk/model/core/eid/bootstrapToken",
    "https://data.gov.dk/model/core/eid/cprUuid",
    "https://data.gov.dk/model/core/eid/dateOfBirth",
    "https://data.gov.dk/model/core/eid/email",
    "https://data.gov.dk/model/core/eid/firstName",
    "https://data.gov.dk/model/core/eid/lastName",
    "https://data.gov.dk/model/core/eid/privilegesIntermediate",
    "https://data.gov.dk/model/core/eid/professional/authorizedToRepresent",
    "https://data.gov.dk/model/core/eid/professional/productionUnit",
    "https://data.gov.dk/model/core/eid/professional/seNumber",
    "https://data.gov.dk/model/core/eid/professional/uuid/persistent",
];

/// The over-strict flaws' extra demands on the attribute set; the strict SP makes none of
/// them (they break genuine MitID logins).
fn over_strict_attributes(
    a: roxmltree::Node<'_, '_>,
    kind: &str,
    attrs: &BTreeMap<String, Vec<String>>,
    x: &Expect<'_>,
) -> Result<(), Rejection> {
    if x.has(Flaw::RequireCpr) && kind == "person" && single(attrs, CPR).is_none() {
        return reject(Check::Attributes, format!("no {CPR}; this SP requires one"));
    }
    if x.has(Flaw::SingleValuedAttributes)
        && let Some((n, v)) = attrs.iter().find(|(_, v)| v.len() > 1)
    {
        return reject(
            Check::Attributes,
            format!("attribute {n:?} has {} values; this SP takes one", v.len()),
        );
    }
    if x.has(Flaw::RejectNonAscii)
        && let Some(v) = attrs.values().flatten().find(|v| !v.is_ascii())
    {
        return reject(
            Check::Attributes,
            format!("attribute value {v:?} is not ASCII"),
        );
    }
    if x.has(Flaw::RejectUnknownAttributes)
        && let Some(n) = attrs.keys().find(|n| {
            let known = KNOWN_ATTRIBUTES.contains(&n.as_str())
                || n.starts_with(LEGACY_PREFIX)
                || (x.oiosaml4.is_some() && KNOWN_ATTRIBUTES_4.contains(&n.as_str()));
            !known
        })
    {
        return reject(Check::Attributes, format!("unknown attribute {n:?}"));
    }
    if x.has(Flaw::RequireAttributeNameFormat)
        && let Some(n) = a
            .descendants()
            .filter(|n| is(*n, SAML, "Attribute"))
            .find(|n| n.attribute("NameFormat").is_none())
    {
        return reject(
            Check::Attributes,
            format!(
                "attribute {:?} has no NameFormat",
                n.attribute("Name").unwrap_or_default()
            ),
        );
    }
    Ok(())
}
