//! The response and assertion as a data model, before any XML exists.
//!
//! identity + request -> [`ResponseModel`] -> XML ([`super::response`]) -> sign -> encrypt.
//! Every field is optional or a list, and times are strings, because the dangerous API must be
//! able to remove any element, duplicate it, or put a malformed value in it, and the writer
//! must then faithfully emit exactly that.

use super::ns;
use crate::identity::{IdentityKind, TestIdentity};
use crate::nsis::Loa;
use time::{Duration, OffsetDateTime};

/// An Issuer element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuerModel {
    /// Text content.
    pub value: String,
    /// `Format` attribute.
    pub format: Option<String>,
}

/// `samlp:Status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusModel {
    /// Top-level StatusCode Value (`None` writes an empty `<samlp:Status/>`-like element with a
    /// StatusCode lacking Value... see the writer).
    pub code: Option<String>,
    /// Second-level StatusCode Value.
    pub sub_code: Option<String>,
    /// StatusMessage.
    pub message: Option<String>,
}

/// NameID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameIdModel {
    /// Text content, written escaped (faults that need raw markup in it, such as a comment, act
    /// on the signed XML afterwards, in `dangerous`).
    pub value: String,
    /// `Format`.
    pub format: Option<String>,
    /// `NameQualifier`.
    pub name_qualifier: Option<String>,
    /// `SPNameQualifier`.
    pub sp_name_qualifier: Option<String>,
}

/// SubjectConfirmationData.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SubjectConfirmationDataModel {
    /// `Recipient`.
    pub recipient: Option<String>,
    /// `NotOnOrAfter`.
    pub not_on_or_after: Option<String>,
    /// `NotBefore`.
    pub not_before: Option<String>,
    /// `InResponseTo`.
    pub in_response_to: Option<String>,
}

/// SubjectConfirmation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectConfirmationModel {
    /// `Method`.
    pub method: Option<String>,
    /// SubjectConfirmationData.
    pub data: Option<SubjectConfirmationDataModel>,
}

/// Subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectModel {
    /// NameID.
    pub name_id: Option<NameIdModel>,
    /// SubjectConfirmations.
    pub confirmations: Vec<SubjectConfirmationModel>,
}

/// Conditions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConditionsModel {
    /// `NotBefore`.
    pub not_before: Option<String>,
    /// `NotOnOrAfter`.
    pub not_on_or_after: Option<String>,
    /// One entry per AudienceRestriction, each with its Audience values.
    pub audience_restrictions: Vec<Vec<String>>,
}

/// AuthnStatement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthnStatementModel {
    /// `AuthnInstant`.
    pub authn_instant: Option<String>,
    /// `SessionIndex`.
    pub session_index: Option<String>,
    /// `SessionNotOnOrAfter`.
    pub session_not_on_or_after: Option<String>,
    /// AuthnContextClassRef (`None` writes an empty AuthnContext).
    pub class_ref: Option<String>,
}

/// One Attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeModel {
    /// `Name`.
    pub name: String,
    /// `NameFormat`.
    pub name_format: Option<String>,
    /// `FriendlyName`.
    pub friendly_name: Option<String>,
    /// AttributeValues.
    pub values: Vec<String>,
}

impl AttributeModel {
    /// An OIOSAML 3 attribute (NameFormat uri, FriendlyName from the profile).
    pub fn oiosaml3(name: &str, values: Vec<String>) -> Self {
        AttributeModel {
            name: name.to_string(),
            name_format: Some(ns::ATTRNAME_URI.to_string()),
            friendly_name: ns::attr::friendly_name(name).map(str::to_string),
            values,
        }
    }

    /// A legacy OIOSAML 2 attribute (NameFormat basic).
    pub fn legacy(name: &str, values: Vec<String>) -> Self {
        AttributeModel {
            name: name.to_string(),
            name_format: Some(ns::ATTRNAME_BASIC.to_string()),
            friendly_name: None,
            values,
        }
    }
}

/// The Assertion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssertionModel {
    /// `ID`.
    pub id: Option<String>,
    /// `Version`.
    pub version: Option<String>,
    /// `IssueInstant`.
    pub issue_instant: Option<String>,
    /// Issuer.
    pub issuer: Option<IssuerModel>,
    /// Subject.
    pub subject: Option<SubjectModel>,
    /// Conditions.
    pub conditions: Option<ConditionsModel>,
    /// AuthnStatements.
    pub authn_statements: Vec<AuthnStatementModel>,
    /// AttributeStatements (each a list of attributes). An empty inner list writes an empty
    /// AttributeStatement.
    pub attribute_statements: Vec<Vec<AttributeModel>>,
}

impl AssertionModel {
    /// All attributes across statements.
    pub fn attributes_mut(&mut self) -> impl Iterator<Item = &mut AttributeModel> {
        self.attribute_statements.iter_mut().flatten()
    }

    /// Set (replace or add) an attribute in the first AttributeStatement.
    pub fn set_attribute(&mut self, attr: AttributeModel) {
        self.remove_attribute(&attr.name);
        if self.attribute_statements.is_empty() {
            self.attribute_statements.push(Vec::new());
        }
        self.attribute_statements[0].push(attr);
    }

    /// Remove an attribute everywhere.
    pub fn remove_attribute(&mut self, name: &str) {
        for st in &mut self.attribute_statements {
            st.retain(|a| a.name != name);
        }
    }

    /// Look up an attribute.
    pub fn attribute(&self, name: &str) -> Option<&AttributeModel> {
        self.attribute_statements
            .iter()
            .flatten()
            .find(|a| a.name == name)
    }
}

/// The Response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseModel {
    /// `ID`.
    pub id: Option<String>,
    /// `Version`.
    pub version: Option<String>,
    /// `IssueInstant`.
    pub issue_instant: Option<String>,
    /// `Destination`.
    pub destination: Option<String>,
    /// `InResponseTo`.
    pub in_response_to: Option<String>,
    /// Issuer.
    pub issuer: Option<IssuerModel>,
    /// Status (`None` omits the element).
    pub status: Option<StatusModel>,
    /// Assertions (normally exactly one).
    pub assertions: Vec<AssertionModel>,
}

/// Everything outside the identity that shapes a response.
#[derive(Debug, Clone)]
pub struct ModelContext {
    /// IdP entityID.
    pub idp_entity_id: String,
    /// SP entityID (the Audience).
    pub sp_entity_id: String,
    /// ACS URL (Destination and Recipient).
    pub acs_url: String,
    /// AuthnRequest ID, when SP-initiated.
    pub in_response_to: Option<String>,
    /// Clock.
    pub now: OffsetDateTime,
    /// When the user authenticated (`None`: now). An answer from the broker's SSO session
    /// carries the session's instant (SAML core 2.7.2).
    pub authn_instant: Option<OffsetDateTime>,
    /// Response ID.
    pub response_id: String,
    /// Assertion ID.
    pub assertion_id: String,
    /// SessionIndex.
    pub session_index: String,
    /// Attribute names the SP registered in its metadata (`None` = release everything the
    /// identity has).
    pub requested_attributes: Option<Vec<String>>,
    /// Lifetime of Conditions (NemLog-in2 used exactly 1 h; the mock uses the same).
    pub conditions_lifetime: Duration,
    /// Lifetime of the bearer SubjectConfirmation (5 min, as OIOSAML.Java's test IdP).
    pub confirmation_lifetime: Duration,
    /// A transient NameID for this login (the AuthnRequest's NameIDPolicy asked for one):
    /// the Subject carries it with format `transient` instead of the identity's persistent
    /// NameID ([`super::name_id_policy`]).
    pub transient_name_id: Option<String>,
}

/// Format an instant as SAML wants it (UTC, `Z`, no fraction unless there is one).
pub fn fmt_instant(t: OffsetDateTime) -> String {
    super::response::fmt_instant(t)
}

fn oiosaml3_attributes(id: &TestIdentity, loa: Loa) -> Vec<AttributeModel> {
    use ns::attr::*;
    let one = |v: String| vec![v];
    let mut out = vec![
        AttributeModel::oiosaml3(SPEC_VERSION, one(SPEC_VERSION_VALUE.into())),
        AttributeModel::oiosaml3(LOA, one(loa.name().into())),
        AttributeModel::oiosaml3(IAL, one(id.ial().name().into())),
        AttributeModel::oiosaml3(AAL, one(loa.name().into())),
        AttributeModel::oiosaml3(FULL_NAME, one(id.full_name())),
        AttributeModel::oiosaml3(FIRST_NAME, one(id.first_name.clone())),
        AttributeModel::oiosaml3(LAST_NAME, one(id.last_name.clone())),
    ];
    if let Some(a) = &id.alias {
        out.push(AttributeModel::oiosaml3(ALIAS, one(a.clone())));
    }
    if !id.email.is_empty() {
        out.push(AttributeModel::oiosaml3(EMAIL, id.email.clone()));
    }
    if let Some(c) = &id.cpr {
        out.push(AttributeModel::oiosaml3(CPR_NUMBER, one(c.clone())));
    }
    if let Some(a) = id.age() {
        out.push(AttributeModel::oiosaml3(AGE, one(a.to_string())));
    }
    if let Some(u) = &id.cpr_uuid {
        out.push(AttributeModel::oiosaml3(CPR_UUID, one(u.to_string())));
    }
    if let Some(d) = &id.date_of_birth {
        out.push(AttributeModel::oiosaml3(DATE_OF_BIRTH, one(d.clone())));
    }
    if let Some(p) = &id.legacy_pid {
        out.push(AttributeModel::oiosaml3(PERSON_PID, one(p.clone())));
    }
    if id.kind == IdentityKind::Professional {
        out.push(AttributeModel::oiosaml3(
            PROFESSIONAL_UUID,
            one(format!("urn:uuid:{}", id.uuid)),
        ));
        if let Some(v) = &id.cvr {
            out.push(AttributeModel::oiosaml3(PROFESSIONAL_CVR, one(v.clone())));
        }
        if let Some(v) = &id.org_name {
            out.push(AttributeModel::oiosaml3(
                PROFESSIONAL_ORG_NAME,
                one(v.clone()),
            ));
        }
        if let Some(v) = &id.rid {
            out.push(AttributeModel::oiosaml3(PROFESSIONAL_RID, one(v.clone())));
        }
        if let Some(v) = &id.production_unit {
            out.push(AttributeModel::oiosaml3(
                PROFESSIONAL_PRODUCTION_UNIT,
                one(v.clone()),
            ));
        }
        if let Some(v) = &id.se_number {
            out.push(AttributeModel::oiosaml3(
                PROFESSIONAL_SE_NUMBER,
                one(v.clone()),
            ));
        }
        if !id.authorized_to_represent.is_empty() {
            out.push(AttributeModel::oiosaml3(
                PROFESSIONAL_AUTHORIZED_TO_REPRESENT,
                id.authorized_to_represent.clone(),
            ));
        }
        if !id.privileges.is_empty() {
            // OIO BPP 1.2; withheld from private SPs and SPs that do not request it by the
            // release rules (`super::release::RESTRICTED`).
            out.push(AttributeModel::oiosaml3(
                PRIVILEGES_INTERMEDIATE,
                one(super::bpp::attribute_value(&id.privileges)),
            ));
        }
    }
    out
}

/// Build the OIOSAML 3 response NemLog-in would send for `identity` logging in at `loa`.
pub fn oiosaml3_response(ctx: &ModelContext, identity: &TestIdentity, loa: Loa) -> ResponseModel {
    let now = fmt_instant(ctx.now);
    let mut attrs = oiosaml3_attributes(identity, loa);
    if let Some(req) = &ctx.requested_attributes {
        // NemLog-in releases what the SP registered; specVersion and the LoA always.
        attrs.retain(|a| {
            a.name == ns::attr::SPEC_VERSION
                || a.name == ns::attr::LOA
                || req.iter().any(|r| r == &a.name)
        });
    }
    let issuer = IssuerModel {
        value: ctx.idp_entity_id.clone(),
        format: Some(ns::NAMEID_ENTITY.to_string()),
    };
    let assertion = AssertionModel {
        id: Some(ctx.assertion_id.clone()),
        version: Some("2.0".into()),
        issue_instant: Some(now.clone()),
        issuer: Some(issuer.clone()),
        subject: Some(SubjectModel {
            name_id: Some(match &ctx.transient_name_id {
                Some(t) => NameIdModel {
                    value: t.clone(),
                    format: Some(ns::NAMEID_TRANSIENT.into()),
                    name_qualifier: None,
                    sp_name_qualifier: None,
                },
                None => NameIdModel {
                    value: identity.name_id(),
                    format: Some(ns::NAMEID_PERSISTENT.into()),
                    name_qualifier: None,
                    sp_name_qualifier: None,
                },
            }),
            confirmations: vec![SubjectConfirmationModel {
                method: Some(ns::CM_BEARER.into()),
                data: Some(SubjectConfirmationDataModel {
                    recipient: Some(ctx.acs_url.clone()),
                    not_on_or_after: Some(fmt_instant(ctx.now + ctx.confirmation_lifetime)),
                    not_before: None,
                    in_response_to: ctx.in_response_to.clone(),
                }),
            }],
        }),
        conditions: Some(ConditionsModel {
            not_before: Some(now.clone()),
            not_on_or_after: Some(fmt_instant(ctx.now + ctx.conditions_lifetime)),
            audience_restrictions: vec![vec![ctx.sp_entity_id.clone()]],
        }),
        authn_statements: vec![AuthnStatementModel {
            authn_instant: Some(fmt_instant(ctx.authn_instant.unwrap_or(ctx.now))),
            session_index: Some(ctx.session_index.clone()),
            session_not_on_or_after: Some(fmt_instant(ctx.now + Duration::hours(8))),
            class_ref: Some(ns::AC_NSIS.into()),
        }],
        attribute_statements: vec![attrs],
    };
    ResponseModel {
        id: Some(ctx.response_id.clone()),
        version: Some("2.0".into()),
        issue_instant: Some(now),
        destination: Some(ctx.acs_url.clone()),
        in_response_to: ctx.in_response_to.clone(),
        issuer: Some(issuer),
        status: Some(StatusModel {
            code: Some(ns::STATUS_SUCCESS.into()),
            sub_code: None,
            message: None,
        }),
        assertions: vec![assertion],
    }
}

/// Build a NemID-era OIOSAML 2 (DK-SAML-2.0) assertion for the identity, as the NemLog-in2 IdP
/// issued them: X509SubjectName NameID, AssuranceLevel 3, SpecVer DK-SAML-2.0, basic names.
/// SPs must reject it; it exists only for scenarios.
pub fn legacy_oiosaml2_response(ctx: &ModelContext, identity: &TestIdentity) -> ResponseModel {
    use ns::legacy::*;
    let mut r = oiosaml3_response(ctx, identity, identity.loa);
    let pid = identity
        .legacy_pid
        .clone()
        .unwrap_or_else(|| "9208-2002-2-000000000999".to_string());
    let (serial, org) = match identity.kind {
        IdentityKind::Person => (
            format!("PID:{pid}"),
            "Ingen organisatorisk tilknytning".to_string(),
        ),
        IdentityKind::Professional => (
            format!(
                "CVR:{}-RID:{}",
                identity.cvr.as_deref().unwrap_or("99000000"),
                identity.rid.as_deref().unwrap_or("90000000")
            ),
            format!(
                "{} // CVR:{}",
                identity.org_name.as_deref().unwrap_or(""),
                identity.cvr.as_deref().unwrap_or("")
            ),
        ),
    };
    let a = &mut r.assertions[0];
    if let Some(s) = &mut a.subject {
        s.name_id = Some(NameIdModel {
            value: format!("C=DK,O={org},CN={},Serial={serial}", identity.full_name()),
            format: Some(ns::NAMEID_X509_SUBJECT.into()),
            name_qualifier: None,
            sp_name_qualifier: None,
        });
    }
    for st in &mut a.authn_statements {
        st.class_ref = Some(AC_X509.into());
    }
    let one = |v: String| vec![v];
    let mut attrs = vec![
        AttributeModel::legacy(SPEC_VER, one(SPEC_VER_VALUE.into())),
        AttributeModel::legacy(ASSURANCE_LEVEL, one("3".into())),
        AttributeModel::legacy(CN, one(identity.full_name())),
        AttributeModel::legacy(SURNAME, one(identity.last_name.clone())),
        AttributeModel::legacy(UID, one(serial.clone())),
        AttributeModel::legacy(SERIAL, one(serial)),
        AttributeModel::legacy(IS_YOUTH_CERT, one("false".into())),
        AttributeModel::legacy(
            CERT_ISSUER,
            one("CN=TRUST2408 Systemtest XIX CA (MOCK), O=TRUST2408, C=DK".into()),
        ),
    ];
    if let Some(e) = identity.email.first() {
        attrs.push(AttributeModel::legacy(MAIL, one(e.clone())));
    }
    if let Some(c) = &identity.cpr {
        attrs.push(AttributeModel::legacy(CPR, one(c.clone())));
    }
    match identity.kind {
        IdentityKind::Person => attrs.push(AttributeModel::legacy(PID, one(pid))),
        IdentityKind::Professional => {
            if let Some(c) = &identity.cvr {
                attrs.push(AttributeModel::legacy(CVR, one(c.clone())));
            }
            if let Some(r) = &identity.rid {
                attrs.push(AttributeModel::legacy(RID, one(r.clone())));
            }
            attrs.push(AttributeModel::legacy(ORG_NAME, one(org)));
        }
    }
    a.attribute_statements = vec![attrs];
    r
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::identity::IdentityStore;

    pub(crate) fn ctx() -> ModelContext {
        ModelContext {
            idp_entity_id: "https://saml.mock-nemlog-in.invalid".into(),
            sp_entity_id: "https://saml.sp.example".into(),
            acs_url: "https://sp.example/acs".into(),
            in_response_to: Some("_req1".into()),
            now: time::macros::datetime!(2026-01-01 12:00 UTC),
            authn_instant: None,
            response_id: "_r1".into(),
            assertion_id: "_a1".into(),
            session_index: "_s1".into(),
            requested_attributes: None,
            conditions_lifetime: Duration::hours(1),
            confirmation_lifetime: Duration::minutes(5),
            transient_name_id: None,
        }
    }

    #[test]
    fn bpp_privileges_are_an_attribute_of_base64_xml_released_only_when_requested() {
        use base64::Engine as _;
        let ids = IdentityStore::builtin();
        let mut pro = ids
            .first_of(IdentityKind::Professional)
            .expect("a builtin professional")
            .clone();
        assert!(pro.privileges.is_empty(), "builtin identities carry none");
        pro.privileges = vec![crate::saml::bpp::PrivilegeGroup {
            scope: "urn:dk:gov:saml:cvrNumberIdentifier:90000009".into(),
            privileges: vec!["urn:dk:mock:privilege:admin".into()],
            constraints: vec![],
        }];
        pro.validate().expect("valid");
        let everything = oiosaml3_response(&ctx(), &pro, Loa::Substantial);
        let v = &everything.assertions[0]
            .attribute(ns::attr::PRIVILEGES_INTERMEDIATE)
            .expect("released when nothing narrows the set")
            .values;
        let xml = base64::engine::general_purpose::STANDARD
            .decode(&v[0])
            .expect("base64");
        assert!(
            String::from_utf8(xml)
                .unwrap()
                .contains(r#"Scope="urn:dk:gov:saml:cvrNumberIdentifier:90000009""#)
        );
        let mut asked = ctx();
        asked.requested_attributes = Some(vec![ns::attr::PRIVILEGES_INTERMEDIATE.into()]);
        let r = oiosaml3_response(&asked, &pro, Loa::Substantial);
        assert!(
            r.assertions[0]
                .attribute(ns::attr::PRIVILEGES_INTERMEDIATE)
                .is_some()
        );
        asked.requested_attributes = Some(vec![ns::attr::PROFESSIONAL_CVR.into()]);
        let r = oiosaml3_response(&asked, &pro, Loa::Substantial);
        assert!(
            r.assertions[0]
                .attribute(ns::attr::PRIVILEGES_INTERMEDIATE)
                .is_none()
        );
    }

    #[test]
    fn person_and_professional_attributes() {
        let ids = IdentityStore::builtin();
        let r = oiosaml3_response(&ctx(), ids.get("anna").unwrap(), Loa::Substantial);
        let a = &r.assertions[0];
        assert_eq!(
            a.attribute(ns::attr::SPEC_VERSION).unwrap().values,
            vec!["OIO-SAML-3.0"]
        );
        assert_eq!(
            a.attribute(ns::attr::LOA).unwrap().values,
            vec!["Substantial"]
        );
        assert!(a.attribute(ns::attr::CPR_NUMBER).is_some());
        assert!(a.attribute(ns::attr::PROFESSIONAL_CVR).is_none());

        let p = oiosaml3_response(&ctx(), ids.get("erik-erhverv").unwrap(), Loa::Substantial);
        let a = &p.assertions[0];
        assert_eq!(
            a.attribute(ns::attr::PROFESSIONAL_CVR).unwrap().values,
            vec!["99000001"]
        );
        assert!(
            a.subject
                .as_ref()
                .unwrap()
                .name_id
                .as_ref()
                .unwrap()
                .value
                .contains("/professional/uuid/")
        );

        let mut c = ctx();
        c.requested_attributes = Some(vec![ns::attr::EMAIL.into()]);
        let r = oiosaml3_response(&c, ids.get("anna").unwrap(), Loa::High);
        let names: Vec<_> = r.assertions[0].attribute_statements[0]
            .iter()
            .map(|a| a.name.as_str())
            .collect();
        assert_eq!(
            names,
            vec![ns::attr::SPEC_VERSION, ns::attr::LOA, ns::attr::EMAIL]
        );
    }

    #[test]
    fn legacy_shape() {
        let ids = IdentityStore::builtin();
        let r = legacy_oiosaml2_response(&ctx(), ids.get("anna").unwrap());
        let a = &r.assertions[0];
        assert!(a.attribute(ns::attr::SPEC_VERSION).is_none());
        assert_eq!(
            a.attribute(ns::legacy::SPEC_VER).unwrap().values,
            vec!["DK-SAML-2.0"]
        );
        let nid = a.subject.as_ref().unwrap().name_id.as_ref().unwrap();
        assert_eq!(nid.format.as_deref(), Some(ns::NAMEID_X509_SUBJECT));
        assert!(nid.value.contains("Serial=PID:9208-2002-2-000000000101"));
    }
}
