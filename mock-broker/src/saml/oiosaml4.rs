//! OIOSAML 4.0: the profile version NemLog-in serves today beside 3.0.3, on its own endpoints.
//!
//! What differs from 3.0.3, and where each point comes from (see docs/fidelity-oiosaml4.md):
//! - Same entityID; SSO and SLO at `.../idp/saml/4.0/` instead of `.../idp/saml/3.0/`; metadata
//!   `protocolSupportEnumeration` adds `https://data.gov.dk/saml/profile/oio/4`, an
//!   `<Extensions><SupportedAttributeProfiles>` lists the attribute profiles, and there is no
//!   AttributeAuthorityDescriptor (ITfoxtec/FoxIDs.Assets
//!   `modules/nemlogin/metadata/oiosaml4-idp-prod.xml`).
//! - The SP asks for attribute profiles in the AuthnRequest extension
//!   `RequestedAttributeProfiles/Profile` (namespace `https://data.gov.dk/eid/saml/extensions`)
//!   and for a LoA with `https://data.gov.dk/concept/core/loa/<Level>` (ITfoxtec/FoxIDs
//!   `NemLoginUpPartyLogic.cs`).
//! - The assertion names its profile (`https://data.gov.dk/concept/core/eid/profile`), the
//!   identity provider, a general LoA (`https://data.gov.dk/concept/core/loa`), and, for EU
//!   logins, the eIDAS LoA, member state and eIDAS natural-person attributes (attribute names
//!   from the 4.0 metadata above).
//!
//! Unconfirmed (no public source found; each is a setting in [`Oiosaml4Settings`] or marked
//! here): the `specVersion` value, the value spelling of the new LoA attributes and of
//! `provider`, the assertion's AuthnContextClassRef, which attributes each profile carries
//! beyond the CPR / name rules, and which profile NemLog-in picks when the SP requests several
//! that fit the user, or none.

use super::assertion::{AttributeModel, ModelContext, ResponseModel, oiosaml3_response};
use super::ns;
use crate::identity::{IdentityKind, TestIdentity};
use crate::nsis::Loa;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Namespace of NemLog-in's SAML extensions (`RequestedAttributeProfiles`,
/// `SupportedAttributeProfiles`, AppSwitch).
pub const EXTENSIONS_NS: &str = "https://data.gov.dk/eid/saml/extensions";
/// The 4.0 entry of the IdP's `protocolSupportEnumeration`.
pub const PROTOCOL_OIO4: &str = "https://data.gov.dk/saml/profile/oio/4";
/// The 4.0 `specVersion` value the mock uses by default. UNCONFIRMED: no public source gives
/// the value ("the specVersion value used by OIOSAML 4.0.0" is all an OIOSAML.Java fork says);
/// set `[oiosaml4] spec_version` in broker.toml when you know the real one.
pub const DEFAULT_SPEC_VERSION: &str = "OIO-SAML-4.0";

/// OIOSAML 4.0 attribute names that 3.0.3 does not have (names and FriendlyNames from the 4.0
/// IdP metadata, ITfoxtec/FoxIDs.Assets `modules/nemlogin/metadata/oiosaml4-idp-prod.xml`).
pub mod attr {
    /// The attribute profile the assertion follows.
    pub const PROFILE: &str = "https://data.gov.dk/concept/core/eid/profile";
    /// The identity provider behind the login.
    pub const PROVIDER: &str = "https://data.gov.dk/concept/core/eid/provider";
    /// The general level of assurance.
    pub const LOA: &str = "https://data.gov.dk/concept/core/loa";
    /// The eIDAS level of assurance (EU logins).
    pub const EIDAS_LOA: &str = "https://data.gov.dk/model/core/eidas/loa";
    /// The eIDAS member state that identified the user (EU logins).
    pub const MEMBER_STATE: &str = "https://data.gov.dk/model/core/eid/eidas/memberState";
    /// The identity assurance of the CPR binding.
    pub const CPR_IAL: &str = "https://data.gov.dk/model/core/nsis/cpr_ial";
    /// Professional: the identity is a robot (a system user).
    pub const IS_ROBOT: &str = "https://data.gov.dk/model/core/eid/professional/isRobot";
    /// The user may sign qualified with this login.
    pub const ALLOW_QUALIFIED_SIGNING: &str =
        "https://data.gov.dk/model/core/eid/allowQualifiedSigning";
    /// eIDAS natural person: unique identifier.
    pub const EIDAS_PERSON_IDENTIFIER: &str =
        "http://eidas.europa.eu/attributes/naturalperson/PersonIdentifier";
    /// eIDAS natural person: family name.
    pub const EIDAS_FAMILY_NAME: &str =
        "http://eidas.europa.eu/attributes/naturalperson/CurrentFamilyName";
    /// eIDAS natural person: given name.
    pub const EIDAS_GIVEN_NAME: &str =
        "http://eidas.europa.eu/attributes/naturalperson/CurrentGivenName";
    /// eIDAS natural person: date of birth.
    pub const EIDAS_DATE_OF_BIRTH: &str =
        "http://eidas.europa.eu/attributes/naturalperson/DateOfBirth";

    /// Every 4.0-only attribute the mock emits or lists, with its FriendlyName.
    pub const ALL: &[(&str, &str)] = &[
        (PROFILE, "Attribute Profile"),
        (PROVIDER, "Identity Provider"),
        (LOA, "Level of Assurance"),
        (EIDAS_LOA, "eIDAS Level of Assurance"),
        (MEMBER_STATE, "eIDAS Member State"),
        (CPR_IAL, "CPR Identity Assurance Level"),
        (IS_ROBOT, "Is Robot"),
        (ALLOW_QUALIFIED_SIGNING, "Allow Qualified Signing"),
        (EIDAS_PERSON_IDENTIFIER, "eIDAS Person Identifier"),
        (EIDAS_FAMILY_NAME, "eIDAS Last Name"),
        (EIDAS_GIVEN_NAME, "eIDAS First Name"),
        (EIDAS_DATE_OF_BIRTH, "eIDAS Date of Birth"),
    ];

    /// FriendlyName of a 4.0-only attribute.
    pub fn friendly_name(name: &str) -> Option<&'static str> {
        ALL.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
    }
}

/// Prefix of the 4.0 LoA `AuthnContextClassRef` values (FoxIDs `NemLoginOiosaml400LoaPrefix`).
pub const LOA_CLASSREF_PREFIX: &str = "https://data.gov.dk/concept/core/loa/";

/// The 4.0 `AuthnContextClassRef` an SP requests for `loa`.
pub fn loa_classref(loa: Loa) -> String {
    format!("{LOA_CLASSREF_PREFIX}{}", loa.name())
}

/// Parse a 4.0 LoA `AuthnContextClassRef`.
pub fn loa_from_classref(s: &str) -> Option<Loa> {
    s.strip_prefix(LOA_CLASSREF_PREFIX)
        .and_then(|n| n.parse().ok())
}

/// Which OIOSAML profile version a flow, an SP or a harness run speaks.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
pub enum OiosamlVersion {
    /// OIOSAML 3.0.3 at `/idp/saml/3.0/` (the mock's original surface).
    #[default]
    #[serde(rename = "3.0.3")]
    V3,
    /// OIOSAML 4.0 at `/idp/saml/4.0/`.
    #[serde(rename = "4.0")]
    V4,
}

impl OiosamlVersion {
    /// As written in configuration and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            OiosamlVersion::V3 => "3.0.3",
            OiosamlVersion::V4 => "4.0",
        }
    }
}

impl fmt::Display for OiosamlVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An OIOSAML version that is not one of the two served.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown OIOSAML version {0:?} (expected \"3.0.3\" or \"4.0\")")]
pub struct UnknownOiosamlVersion(pub String);

impl FromStr for OiosamlVersion {
    type Err = UnknownOiosamlVersion;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "3.0.3" | "3" | "3.0" => Ok(OiosamlVersion::V3),
            "4.0" | "4" | "4.0.0" => Ok(OiosamlVersion::V4),
            other => Err(UnknownOiosamlVersion(other.to_string())),
        }
    }
}

/// An OIOSAML 4.0 attribute profile, as the 4.0 IdP metadata lists them
/// (`SupportedAttributeProfiles`). FoxIDs also offers `Person/EU/Anonymous` and
/// `LegalPerson/EU`, which the production metadata does not list; the mock does not serve them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AttributeProfile {
    /// `https://data.gov.dk/eid/Person/DK`: a Danish person with CPR.
    PersonDk,
    /// `https://data.gov.dk/eid/Person/DK/WithoutCPR`: a Danish person, no CPR number.
    PersonDkWithoutCpr,
    /// `https://data.gov.dk/eid/Person/DK/Anonymous`: a Danish person, no CPR and no name.
    PersonDkAnonymous,
    /// `https://data.gov.dk/eid/Professional/DK`: an employee (MitID Erhverv).
    ProfessionalDk,
    /// `https://data.gov.dk/eid/Professional/DK/Anonymous`: an employee without name.
    ProfessionalDkAnonymous,
    /// `https://data.gov.dk/eid/Person/EU`: a person identified by another member state
    /// (eIDAS).
    PersonEu,
    /// `https://data.gov.dk/eid/Professional/EU`: an employee identified through eIDAS.
    ProfessionalEu,
}

impl AttributeProfile {
    /// Every profile, in the order of the 4.0 metadata.
    pub const ALL: [AttributeProfile; 7] = [
        AttributeProfile::PersonDk,
        AttributeProfile::PersonDkWithoutCpr,
        AttributeProfile::PersonDkAnonymous,
        AttributeProfile::ProfessionalDk,
        AttributeProfile::ProfessionalDkAnonymous,
        AttributeProfile::PersonEu,
        AttributeProfile::ProfessionalEu,
    ];

    /// The profile URI.
    pub fn uri(self) -> &'static str {
        match self {
            AttributeProfile::PersonDk => "https://data.gov.dk/eid/Person/DK",
            AttributeProfile::PersonDkWithoutCpr => "https://data.gov.dk/eid/Person/DK/WithoutCPR",
            AttributeProfile::PersonDkAnonymous => "https://data.gov.dk/eid/Person/DK/Anonymous",
            AttributeProfile::ProfessionalDk => "https://data.gov.dk/eid/Professional/DK",
            AttributeProfile::ProfessionalDkAnonymous => {
                "https://data.gov.dk/eid/Professional/DK/Anonymous"
            }
            AttributeProfile::PersonEu => "https://data.gov.dk/eid/Person/EU",
            AttributeProfile::ProfessionalEu => "https://data.gov.dk/eid/Professional/EU",
        }
    }

    /// The kebab-case name used in scenario files.
    pub fn name(self) -> &'static str {
        match self {
            AttributeProfile::PersonDk => "person-dk",
            AttributeProfile::PersonDkWithoutCpr => "person-dk-without-cpr",
            AttributeProfile::PersonDkAnonymous => "person-dk-anonymous",
            AttributeProfile::ProfessionalDk => "professional-dk",
            AttributeProfile::ProfessionalDkAnonymous => "professional-dk-anonymous",
            AttributeProfile::PersonEu => "person-eu",
            AttributeProfile::ProfessionalEu => "professional-eu",
        }
    }

    /// The profile a URI names (exact match, as the metadata spells it).
    pub fn from_uri(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.uri() == s.trim())
    }

    /// Person or professional.
    pub fn kind(self) -> IdentityKind {
        match self {
            AttributeProfile::PersonDk
            | AttributeProfile::PersonDkWithoutCpr
            | AttributeProfile::PersonDkAnonymous
            | AttributeProfile::PersonEu => IdentityKind::Person,
            AttributeProfile::ProfessionalDk
            | AttributeProfile::ProfessionalDkAnonymous
            | AttributeProfile::ProfessionalEu => IdentityKind::Professional,
        }
    }

    /// An eIDAS (EU) profile: the user was identified by another member state.
    pub fn is_eu(self) -> bool {
        matches!(
            self,
            AttributeProfile::PersonEu | AttributeProfile::ProfessionalEu
        )
    }

    /// Whether the profile may carry a CPR number. Only Person/DK: "WithoutCPR" and
    /// "Anonymous" say so in their names, FoxIDs maps CPR for Person/DK only, and EU users
    /// have none.
    pub fn carries_cpr(self) -> bool {
        matches!(self, AttributeProfile::PersonDk)
    }

    /// Whether the profile carries the user's name. The Anonymous profiles do not (the
    /// alias stands in; FoxIDs maps `alias` for them). UNCONFIRMED beyond the profile names.
    pub fn carries_name(self) -> bool {
        !matches!(
            self,
            AttributeProfile::PersonDkAnonymous | AttributeProfile::ProfessionalDkAnonymous
        )
    }

    /// Whether an identity can log in under this profile: same kind, and EU profiles for
    /// identities of another member state, DK profiles for Danish ones.
    pub fn fits(self, identity: &TestIdentity) -> bool {
        self.kind() == identity.kind && self.is_eu() == identity.member_state.is_some()
    }

    /// The profile NemLog-in would use for an identity when the SP requested none that fits:
    /// the full DK or EU profile of its kind. UNCONFIRMED (see [`NoProfileRequested`]).
    pub fn default_for(identity: &TestIdentity) -> Self {
        match (identity.kind, identity.member_state.is_some()) {
            (IdentityKind::Person, false) => AttributeProfile::PersonDk,
            (IdentityKind::Person, true) => AttributeProfile::PersonEu,
            (IdentityKind::Professional, false) => AttributeProfile::ProfessionalDk,
            (IdentityKind::Professional, true) => AttributeProfile::ProfessionalEu,
        }
    }
}

impl fmt::Display for AttributeProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.uri())
    }
}

/// What the mock does with a 4.0 AuthnRequest that names no attribute profile. UNCONFIRMED:
/// no public source says whether NemLog-in refuses it or picks a default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum NoProfileRequested {
    /// Use the full profile of the user's kind and origin ([`AttributeProfile::default_for`]).
    #[default]
    KindDefault,
    /// Refuse the request (the SP must name a profile).
    Refuse,
}

/// The broker's OIOSAML 4.0 settings: the unconfirmed choices, configurable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Oiosaml4Settings {
    /// The `specVersion` attribute value (default [`DEFAULT_SPEC_VERSION`], unconfirmed).
    pub spec_version: String,
    /// What a request without `RequestedAttributeProfiles` gets.
    pub no_profile_requested: NoProfileRequested,
}

impl Default for Oiosaml4Settings {
    fn default() -> Self {
        Oiosaml4Settings {
            spec_version: DEFAULT_SPEC_VERSION.to_string(),
            no_profile_requested: NoProfileRequested::default(),
        }
    }
}

/// Why no attribute profile could be chosen for a 4.0 login.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProfileChoiceError {
    /// The request names no profile and the broker is set to refuse that.
    #[error(
        "the AuthnRequest names no attribute profile (Extensions/RequestedAttributeProfiles); this broker is set to refuse such requests"
    )]
    NoneRequested,
    /// The requested profiles do not include one this identity can log in with.
    #[error("identity {identity:?} fits none of the requested attribute profiles [{}]", requested.join(", "))]
    NoneFits {
        /// The identity.
        identity: String,
        /// The requested profile URIs.
        requested: Vec<String>,
    },
    /// The harness armed a profile the SP did not request, or one the identity cannot use.
    #[error("armed attribute profile {profile} is {why}")]
    ArmedUnusable {
        /// The profile.
        profile: AttributeProfile,
        /// "not requested by the SP" or "not one identity X can log in with".
        why: String,
    },
}

/// Choose the attribute profile of a 4.0 login. An armed choice (the user's pick among the
/// requested ones) wins if the SP requested it and it fits the identity. Otherwise the first
/// requested profile that fits, in the SP's order. UNCONFIRMED: how NemLog-in decides between
/// several fitting profiles (e.g. Person/DK and Person/DK/WithoutCPR) is not documented
/// publicly; request order is the mock's rule. A profile the SP did not request is never
/// chosen.
pub fn choose_profile(
    requested: &[AttributeProfile],
    identity: &TestIdentity,
    armed: Option<AttributeProfile>,
    policy: NoProfileRequested,
) -> Result<AttributeProfile, ProfileChoiceError> {
    if let Some(p) = armed {
        if !p.fits(identity) {
            return Err(ProfileChoiceError::ArmedUnusable {
                profile: p,
                why: format!("not one identity {:?} can log in with", identity.id),
            });
        }
        if !requested.is_empty() && !requested.contains(&p) {
            return Err(ProfileChoiceError::ArmedUnusable {
                profile: p,
                why: "not requested by the SP".into(),
            });
        }
        return Ok(p);
    }
    if requested.is_empty() {
        return match policy {
            NoProfileRequested::KindDefault => Ok(AttributeProfile::default_for(identity)),
            NoProfileRequested::Refuse => Err(ProfileChoiceError::NoneRequested),
        };
    }
    requested
        .iter()
        .copied()
        .find(|p| p.fits(identity))
        .ok_or_else(|| ProfileChoiceError::NoneFits {
            identity: identity.id.clone(),
            requested: requested.iter().map(|p| p.uri().to_string()).collect(),
        })
}

/// What a 4.0 assertion is minted for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Oiosaml4Assertion {
    /// The attribute profile.
    pub profile: AttributeProfile,
    /// The `specVersion` value.
    pub spec_version: String,
}

impl AttributeModel {
    /// An OIOSAML 4.0 attribute (NameFormat uri, FriendlyName from the 4.0 metadata when it
    /// is a 4.0-only name, else the 3.0.3 one).
    pub fn oiosaml4(name: &str, values: Vec<String>) -> Self {
        let mut a = AttributeModel::oiosaml3(name, values);
        if a.friendly_name.is_none() {
            a.friendly_name = attr::friendly_name(name).map(str::to_string);
        }
        a
    }
}

/// The eIDAS LoA URI for an NSIS level (eIDAS SAML attribute profile values).
fn eidas_loa(loa: Loa) -> &'static str {
    match loa {
        Loa::Low => "http://eidas.europa.eu/LoA/low",
        Loa::Substantial => "http://eidas.europa.eu/LoA/substantial",
        Loa::High => "http://eidas.europa.eu/LoA/high",
    }
}

/// The attributes of a 4.0 assertion for `identity` under `a.profile` at `loa`.
///
/// Every profile: specVersion, profile, provider, the 4.0 LoA. DK profiles add the NSIS
/// loa/ial/aal (still listed in the 4.0 metadata). Names unless Anonymous (alias instead).
/// CPR, CPR UUID and `cpr_ial` only in Person/DK. Professional profiles: the professional
/// attributes and `isRobot`. EU profiles: eIDAS LoA, member state, the eIDAS natural-person
/// identifier, names and date of birth. Value spellings of `provider` (`MitID`, `eIDAS`) and
/// of the 4.0 LoA (bare level name, as 3.0.3's NSIS LoA) are UNCONFIRMED.
fn attributes(identity: &TestIdentity, loa: Loa, a: &Oiosaml4Assertion) -> Vec<AttributeModel> {
    use ns::attr as a3;
    let one = |v: String| vec![v];
    let p = a.profile;
    let mut out = vec![
        AttributeModel::oiosaml4(a3::SPEC_VERSION, one(a.spec_version.clone())),
        AttributeModel::oiosaml4(attr::PROFILE, one(p.uri().into())),
        AttributeModel::oiosaml4(
            attr::PROVIDER,
            one(if p.is_eu() { "eIDAS" } else { "MitID" }.into()),
        ),
        AttributeModel::oiosaml4(attr::LOA, one(loa.name().into())),
    ];
    if p.is_eu() {
        out.push(AttributeModel::oiosaml4(
            attr::EIDAS_LOA,
            one(eidas_loa(loa).into()),
        ));
        let ms = identity.member_state.clone().unwrap_or_default();
        out.push(AttributeModel::oiosaml4(
            attr::MEMBER_STATE,
            one(ms.clone()),
        ));
        out.push(AttributeModel::oiosaml4(
            attr::EIDAS_PERSON_IDENTIFIER,
            one(format!("{ms}/DK/{}", identity.uuid)),
        ));
        out.push(AttributeModel::oiosaml4(
            attr::EIDAS_GIVEN_NAME,
            one(identity.first_name.clone()),
        ));
        out.push(AttributeModel::oiosaml4(
            attr::EIDAS_FAMILY_NAME,
            one(identity.last_name.clone()),
        ));
        if let Some(d) = &identity.date_of_birth {
            out.push(AttributeModel::oiosaml4(
                attr::EIDAS_DATE_OF_BIRTH,
                one(d.clone()),
            ));
        }
    } else {
        out.push(AttributeModel::oiosaml4(a3::LOA, one(loa.name().into())));
        out.push(AttributeModel::oiosaml4(
            a3::IAL,
            one(identity.ial().name().into()),
        ));
        out.push(AttributeModel::oiosaml4(a3::AAL, one(loa.name().into())));
    }
    if p.carries_name() {
        out.push(AttributeModel::oiosaml4(
            a3::FULL_NAME,
            one(identity.full_name()),
        ));
        out.push(AttributeModel::oiosaml4(
            a3::FIRST_NAME,
            one(identity.first_name.clone()),
        ));
        out.push(AttributeModel::oiosaml4(
            a3::LAST_NAME,
            one(identity.last_name.clone()),
        ));
    }
    if let Some(al) = &identity.alias {
        out.push(AttributeModel::oiosaml4(a3::ALIAS, one(al.clone())));
    } else if !p.carries_name() {
        out.push(AttributeModel::oiosaml4(a3::ALIAS, one("Anonym".into())));
    }
    if !identity.email.is_empty() && p.carries_name() {
        out.push(AttributeModel::oiosaml4(a3::EMAIL, identity.email.clone()));
    }
    if p.carries_cpr() {
        if let Some(c) = &identity.cpr {
            out.push(AttributeModel::oiosaml4(a3::CPR_NUMBER, one(c.clone())));
            out.push(AttributeModel::oiosaml4(
                attr::CPR_IAL,
                one(identity.ial().name().into()),
            ));
        }
        if let Some(u) = &identity.cpr_uuid {
            out.push(AttributeModel::oiosaml4(a3::CPR_UUID, one(u.to_string())));
        }
    }
    if p.kind() == IdentityKind::Person && !p.is_eu() {
        if let Some(a) = identity.age() {
            out.push(AttributeModel::oiosaml4(a3::AGE, one(a.to_string())));
        }
        if p.carries_name()
            && let Some(d) = &identity.date_of_birth
        {
            out.push(AttributeModel::oiosaml4(a3::DATE_OF_BIRTH, one(d.clone())));
        }
    }
    if p.kind() == IdentityKind::Professional {
        out.push(AttributeModel::oiosaml4(
            a3::PROFESSIONAL_UUID,
            one(format!("urn:uuid:{}", identity.uuid)),
        ));
        if let Some(v) = &identity.cvr {
            out.push(AttributeModel::oiosaml4(
                a3::PROFESSIONAL_CVR,
                one(v.clone()),
            ));
        }
        if let Some(v) = &identity.org_name {
            out.push(AttributeModel::oiosaml4(
                a3::PROFESSIONAL_ORG_NAME,
                one(v.clone()),
            ));
        }
        if let Some(v) = &identity.production_unit {
            out.push(AttributeModel::oiosaml4(
                a3::PROFESSIONAL_PRODUCTION_UNIT,
                one(v.clone()),
            ));
        }
        if let Some(v) = &identity.se_number {
            out.push(AttributeModel::oiosaml4(
                a3::PROFESSIONAL_SE_NUMBER,
                one(v.clone()),
            ));
        }
        if !identity.authorized_to_represent.is_empty() {
            out.push(AttributeModel::oiosaml4(
                a3::PROFESSIONAL_AUTHORIZED_TO_REPRESENT,
                identity.authorized_to_represent.clone(),
            ));
        }
        out.push(AttributeModel::oiosaml4(
            attr::IS_ROBOT,
            one("false".into()),
        ));
    }
    out.push(AttributeModel::oiosaml4(
        attr::ALLOW_QUALIFIED_SIGNING,
        one((!p.is_eu() && loa >= Loa::Substantial).to_string()),
    ));
    out
}

/// Build the OIOSAML 4.0 response for `identity` logging in at `loa` under `a.profile`: the
/// 3.0.3 envelope (Subject, Conditions, AuthnStatement, as in 3.0.3) with the 4.0 attribute
/// set, and the 4.0 LoA URI as AuthnContextClassRef (UNCONFIRMED, as 3.0.3's is). Attributes
/// the SP's metadata does not request are not released, except those that say what the login
/// is: specVersion, profile, the LoA attributes and the eIDAS member state and LoA (the mock's
/// rule, as 3.0.3's release rule; UNCONFIRMED for 4.0, where the profile decides the set).
pub fn oiosaml4_response(
    ctx: &ModelContext,
    identity: &TestIdentity,
    loa: Loa,
    a: &Oiosaml4Assertion,
) -> ResponseModel {
    let mut r = oiosaml3_response(ctx, identity, loa);
    let mut attrs = attributes(identity, loa, a);
    if let Some(req) = &ctx.requested_attributes {
        attrs.retain(|x| {
            [
                ns::attr::SPEC_VERSION,
                attr::PROFILE,
                attr::LOA,
                ns::attr::LOA,
                attr::MEMBER_STATE,
                attr::EIDAS_LOA,
            ]
            .contains(&x.name.as_str())
                || req.iter().any(|r| r == &x.name)
        });
    }
    if let Some(assertion) = r.assertions.first_mut() {
        assertion.attribute_statements = vec![attrs];
        for st in &mut assertion.authn_statements {
            st.class_ref = Some(loa_classref(loa));
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::IdentityStore;
    use crate::saml::assertion::tests::ctx;

    fn names(r: &ResponseModel) -> Vec<&str> {
        r.assertions[0].attribute_statements[0]
            .iter()
            .map(|a| a.name.as_str())
            .collect()
    }

    #[test]
    fn uris_round_trip_and_kinds() {
        for p in AttributeProfile::ALL {
            assert_eq!(AttributeProfile::from_uri(p.uri()), Some(p));
        }
        assert_eq!(
            AttributeProfile::from_uri("https://data.gov.dk/eid/Person"),
            None
        );
        assert_eq!("4.0".parse::<OiosamlVersion>(), Ok(OiosamlVersion::V4));
        assert!("5".parse::<OiosamlVersion>().is_err());
        assert_eq!(
            loa_from_classref("https://data.gov.dk/concept/core/loa/High"),
            Some(Loa::High)
        );
        assert_eq!(
            loa_from_classref("https://data.gov.dk/concept/core/nsis/loa/High"),
            None
        );
    }

    #[test]
    fn per_profile_attribute_sets() {
        let ids = IdentityStore::builtin();
        let anna = ids.get("anna").unwrap();
        let mk = |p| Oiosaml4Assertion {
            profile: p,
            spec_version: DEFAULT_SPEC_VERSION.into(),
        };
        let full = oiosaml4_response(
            &ctx(),
            anna,
            Loa::Substantial,
            &mk(AttributeProfile::PersonDk),
        );
        let n = names(&full);
        assert!(n.contains(&ns::attr::CPR_NUMBER) && n.contains(&attr::CPR_IAL));
        assert!(n.contains(&attr::PROFILE) && n.contains(&attr::LOA));
        assert_eq!(
            full.assertions[0].authn_statements[0].class_ref.as_deref(),
            Some("https://data.gov.dk/concept/core/loa/Substantial")
        );
        let without = oiosaml4_response(
            &ctx(),
            anna,
            Loa::Substantial,
            &mk(AttributeProfile::PersonDkWithoutCpr),
        );
        assert!(!names(&without).contains(&ns::attr::CPR_NUMBER));
        assert!(names(&without).contains(&ns::attr::FULL_NAME));
        let anon = oiosaml4_response(
            &ctx(),
            anna,
            Loa::Substantial,
            &mk(AttributeProfile::PersonDkAnonymous),
        );
        let n = names(&anon);
        assert!(!n.contains(&ns::attr::CPR_NUMBER) && !n.contains(&ns::attr::FULL_NAME));
        assert!(!n.contains(&ns::attr::FIRST_NAME) && !n.contains(&ns::attr::EMAIL));
        let erik = ids.get("erik-erhverv").unwrap();
        let pro = oiosaml4_response(
            &ctx(),
            erik,
            Loa::Substantial,
            &mk(AttributeProfile::ProfessionalDk),
        );
        assert!(names(&pro).contains(&ns::attr::PROFESSIONAL_CVR));
        assert!(names(&pro).contains(&attr::IS_ROBOT));
        let eu = ids.get("elena-eu").unwrap();
        let r = oiosaml4_response(
            &ctx(),
            eu,
            Loa::Substantial,
            &mk(AttributeProfile::PersonEu),
        );
        let a = &r.assertions[0];
        assert_eq!(a.attribute(attr::MEMBER_STATE).unwrap().values, vec!["SE"]);
        assert!(a.attribute(attr::EIDAS_PERSON_IDENTIFIER).is_some());
        assert!(a.attribute(ns::attr::LOA).is_none());
        assert!(a.attribute(ns::attr::CPR_NUMBER).is_none());
    }

    #[test]
    fn profile_choice() {
        let ids = IdentityStore::builtin();
        let anna = ids.get("anna").unwrap();
        let erik = ids.get("erik-erhverv").unwrap();
        use AttributeProfile::*;
        let both = [PersonDk, ProfessionalDk];
        let kd = NoProfileRequested::KindDefault;
        assert_eq!(choose_profile(&both, anna, None, kd), Ok(PersonDk));
        assert_eq!(choose_profile(&both, erik, None, kd), Ok(ProfessionalDk));
        assert_eq!(
            choose_profile(&[PersonDkWithoutCpr, PersonDk], anna, None, kd),
            Ok(PersonDkWithoutCpr)
        );
        assert!(matches!(
            choose_profile(&[PersonDk], erik, None, kd),
            Err(ProfileChoiceError::NoneFits { .. })
        ));
        assert!(matches!(
            choose_profile(&both, anna, Some(PersonDkAnonymous), kd),
            Err(ProfileChoiceError::ArmedUnusable { .. })
        ));
        assert_eq!(choose_profile(&[], anna, None, kd), Ok(PersonDk));
        assert_eq!(
            choose_profile(&[], anna, None, NoProfileRequested::Refuse),
            Err(ProfileChoiceError::NoneRequested)
        );
    }
}
