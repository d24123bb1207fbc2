//! AuthnRequest: parse what the SP sent and check it the way NemLog-in does.
//!
//! Parsing is separate from checking so that the harness's inspection checks can report every
//! deviation while the broker's SSO endpoint stops at the first one.

use super::ns;
use super::xml::{XmlError, child, children, parse_untrusted, text_of};
use crate::identity::IdentityKind;
use crate::nsis::Loa;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The `RequestedAuthnContext` of an AuthnRequest.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RequestedAuthnContext {
    /// `Comparison` attribute; SAML's default is `exact`, NemLog-in SPs send `minimum`.
    pub comparison: Option<String>,
    /// `AuthnContextClassRef` values in order.
    pub class_refs: Vec<String>,
}

impl RequestedAuthnContext {
    /// The NSIS LoA requested (the highest one named, which with `minimum` is the floor).
    pub fn loa(&self) -> Option<Loa> {
        self.class_refs
            .iter()
            .filter_map(|c| Loa::from_classref(c))
            .max()
    }

    /// The OIOSAML 4.0 LoA requested (`https://data.gov.dk/concept/core/loa/<Level>`, the
    /// highest one named).
    pub fn loa4(&self) -> Option<Loa> {
        self.class_refs
            .iter()
            .filter_map(|c| super::oiosaml4::loa_from_classref(c))
            .max()
    }

    /// The attribute profile requested, if any.
    pub fn profile(&self) -> Option<IdentityKind> {
        self.class_refs.iter().find_map(|c| match c.as_str() {
            "https://data.gov.dk/eid/Person" => Some(IdentityKind::Person),
            "https://data.gov.dk/eid/Professional" => Some(IdentityKind::Professional),
            _ => None,
        })
    }

    /// Class refs that name NemID-era credentials (NemID key card/file, `ac:classes:X509`).
    pub fn legacy_refs(&self) -> Vec<&str> {
        self.class_refs
            .iter()
            .map(String::as_str)
            .filter(|c| {
                matches!(
                    *c,
                    ns::legacy::CRED_NEMID_KEYCARD
                        | ns::legacy::CRED_NEMID_KEYFILE
                        | ns::legacy::AC_X509
                ) || c.starts_with("urn:dk:gov:saml:attribute:AssuranceLevel")
            })
            .collect()
    }
}

/// A parsed AuthnRequest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthnRequest {
    /// `ID`.
    pub id: String,
    /// `Version`.
    pub version: String,
    /// `IssueInstant` as written.
    pub issue_instant_raw: String,
    /// `IssueInstant` parsed, when it parses.
    pub issue_instant: Option<OffsetDateTime>,
    /// `Destination`.
    pub destination: Option<String>,
    /// `Issuer` text.
    pub issuer: Option<String>,
    /// `AssertionConsumerServiceURL`.
    pub acs_url: Option<String>,
    /// `AssertionConsumerServiceIndex`.
    pub acs_index: Option<u32>,
    /// `ProtocolBinding`.
    pub protocol_binding: Option<String>,
    /// `AttributeConsumingServiceIndex`.
    pub attribute_consuming_service_index: Option<u32>,
    /// `ForceAuthn="true"`.
    pub force_authn: bool,
    /// `IsPassive="true"`.
    pub is_passive: bool,
    /// `NameIDPolicy/@Format`.
    pub name_id_policy_format: Option<String>,
    /// `RequestedAuthnContext`.
    pub requested_authn_context: Option<RequestedAuthnContext>,
    /// The request carries an enveloped XML signature (POST binding style); the Redirect
    /// binding signs the query string instead.
    pub has_xml_signature: bool,
    /// The AppSwitch extension ([`super::app_switch`]), accepted and recorded.
    pub app_switch: Option<super::app_switch::AppSwitch>,
    /// OIOSAML 4.0: the profile URIs of `Extensions/RequestedAttributeProfiles/Profile`
    /// (namespace `https://data.gov.dk/eid/saml/extensions`), as written, in order; empty when
    /// the request has none (every 3.0.3 request). Kept as text so that inspection can name an
    /// unknown one; [`AuthnRequest::attribute_profiles`] gives the known ones.
    pub requested_attribute_profiles: Vec<String>,
}

/// Most `RequestedAttributeProfiles/Profile` values read from one request (the 4.0 metadata
/// lists seven profiles).
pub const MAX_REQUESTED_PROFILES: usize = 16;

impl AuthnRequest {
    /// The requested attribute profiles the broker knows, in request order, without
    /// duplicates.
    pub fn attribute_profiles(&self) -> Vec<super::oiosaml4::AttributeProfile> {
        let mut out = Vec::new();
        for p in self
            .requested_attribute_profiles
            .iter()
            .filter_map(|u| super::oiosaml4::AttributeProfile::from_uri(u))
        {
            if !out.contains(&p) {
                out.push(p);
            }
        }
        out
    }
}

/// Why an AuthnRequest was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthnRequestError {
    /// XML refused by the hardened parser.
    #[error("AuthnRequest XML refused: {0}")]
    Xml(#[from] XmlError),
    /// Root element is not samlp:AuthnRequest.
    #[error("expected a samlp:AuthnRequest, found {0}")]
    NotAuthnRequest(String),
    /// A required attribute is missing.
    #[error("AuthnRequest has no {0} attribute")]
    MissingAttribute(&'static str),
    /// Version is not 2.0.
    #[error("AuthnRequest Version is {0:?}; must be \"2.0\"")]
    BadVersion(String),
    /// Malformed attribute value.
    #[error("AuthnRequest {0} is malformed: {1:?}")]
    Malformed(&'static str, String),
    /// No Issuer.
    #[error("AuthnRequest has no Issuer; NemLog-in identifies the SP by it")]
    MissingIssuer,
}

fn parse_bool(v: Option<&str>, name: &'static str) -> Result<bool, AuthnRequestError> {
    match v.map(str::trim) {
        None => Ok(false),
        Some("true" | "1") => Ok(true),
        Some("false" | "0") => Ok(false),
        Some(other) => Err(AuthnRequestError::Malformed(name, other.to_string())),
    }
}

/// Parse an AuthnRequest (already inflated) with DTDs refused.
pub fn parse(xml: &str) -> Result<AuthnRequest, AuthnRequestError> {
    let doc = parse_untrusted(xml)?;
    let root = doc.root_element();
    if root.tag_name().name() != "AuthnRequest" || root.tag_name().namespace() != Some(ns::SAMLP) {
        return Err(AuthnRequestError::NotAuthnRequest(format!(
            "{{{}}}{}",
            root.tag_name().namespace().unwrap_or(""),
            root.tag_name().name()
        )));
    }
    let id = root
        .attribute("ID")
        .ok_or(AuthnRequestError::MissingAttribute("ID"))?
        .to_string();
    if id.is_empty() || !(id.starts_with(|c: char| c.is_alphabetic() || c == '_')) {
        return Err(AuthnRequestError::Malformed("ID", id));
    }
    let version = root
        .attribute("Version")
        .ok_or(AuthnRequestError::MissingAttribute("Version"))?
        .to_string();
    if version != "2.0" {
        return Err(AuthnRequestError::BadVersion(version));
    }
    let issue_instant_raw = root
        .attribute("IssueInstant")
        .ok_or(AuthnRequestError::MissingAttribute("IssueInstant"))?
        .to_string();
    let issue_instant = OffsetDateTime::parse(&issue_instant_raw, &Rfc3339).ok();
    let num = |name: &'static str| -> Result<Option<u32>, AuthnRequestError> {
        root.attribute(name)
            .map(|v| {
                v.trim()
                    .parse::<u32>()
                    .map_err(|_| AuthnRequestError::Malformed(name, v.to_string()))
            })
            .transpose()
    };
    let issuer = child(root, ns::SAML, "Issuer").map(|n| text_of(n).trim().to_string());
    let requested_authn_context =
        child(root, ns::SAMLP, "RequestedAuthnContext").map(|rac| RequestedAuthnContext {
            comparison: rac.attribute("Comparison").map(str::to_string),
            class_refs: children(rac, ns::SAML, "AuthnContextClassRef")
                .map(|n| text_of(n).trim().to_string())
                .collect(),
        });
    let requested_attribute_profiles = child(root, ns::SAMLP, "Extensions")
        .and_then(|e| {
            child(
                e,
                super::oiosaml4::EXTENSIONS_NS,
                "RequestedAttributeProfiles",
            )
        })
        .map(|r| {
            children(r, super::oiosaml4::EXTENSIONS_NS, "Profile")
                .take(MAX_REQUESTED_PROFILES)
                .map(|n| text_of(n).trim().to_string())
                .collect()
        })
        .unwrap_or_default();
    Ok(AuthnRequest {
        id,
        version,
        issue_instant_raw,
        issue_instant,
        destination: root.attribute("Destination").map(str::to_string),
        issuer: issuer.filter(|s| !s.is_empty()),
        acs_url: root
            .attribute("AssertionConsumerServiceURL")
            .map(str::to_string),
        acs_index: num("AssertionConsumerServiceIndex")?,
        protocol_binding: root.attribute("ProtocolBinding").map(str::to_string),
        attribute_consuming_service_index: num("AttributeConsumingServiceIndex")?,
        force_authn: parse_bool(root.attribute("ForceAuthn"), "ForceAuthn")?,
        is_passive: parse_bool(root.attribute("IsPassive"), "IsPassive")?,
        name_id_policy_format: child(root, ns::SAMLP, "NameIDPolicy")
            .and_then(|n| n.attribute("Format"))
            .map(str::to_string),
        requested_authn_context,
        has_xml_signature: child(root, ns::DS, "Signature").is_some(),
        requested_attribute_profiles,
        app_switch: super::app_switch::read(root),
    })
}

/// Options for building an AuthnRequest (used by test SPs, benchmarks and examples; real SPs
/// build their own).
#[derive(Debug, Clone)]
pub struct AuthnRequestBuilder {
    /// `ID`.
    pub id: String,
    /// `IssueInstant`.
    pub issue_instant: OffsetDateTime,
    /// `Destination` (the broker's SSO URL).
    pub destination: String,
    /// SP entityID.
    pub issuer: String,
    /// ACS URL.
    pub acs_url: Option<String>,
    /// Requested minimum NSIS LoA.
    pub loa: Option<Loa>,
    /// Requested attribute profile.
    pub profile: Option<IdentityKind>,
    /// Extra class refs (e.g. legacy NemID credential types, for negative inspection tests,
    /// or the OIOSAML 4.0 LoA URI from [`super::oiosaml4::loa_classref`]).
    pub extra_class_refs: Vec<String>,
    /// OIOSAML 4.0 `RequestedAttributeProfiles` (profile URIs); empty writes no Extensions.
    pub requested_profiles: Vec<String>,
    /// `ForceAuthn`.
    pub force_authn: bool,
    /// `IsPassive`.
    pub is_passive: bool,
}

impl AuthnRequestBuilder {
    /// Serialise to XML (unsigned; the Redirect binding signs the query string).
    pub fn to_xml(&self) -> String {
        use super::xml::{escape_attr as a, escape_text as t};
        let instant = super::response::fmt_instant(self.issue_instant);
        let mut x = format!(
            r#"<samlp:AuthnRequest xmlns:samlp="{}" xmlns:saml="{}" ID="{}" Version="2.0" IssueInstant="{}" Destination="{}""#,
            ns::SAMLP,
            ns::SAML,
            a(&self.id),
            instant,
            a(&self.destination)
        );
        if self.force_authn {
            x.push_str(r#" ForceAuthn="true""#);
        }
        if self.is_passive {
            x.push_str(r#" IsPassive="true""#);
        }
        if let Some(acs) = &self.acs_url {
            x.push_str(&format!(
                r#" ProtocolBinding="{}" AssertionConsumerServiceURL="{}""#,
                ns::BINDING_POST,
                a(acs)
            ));
        }
        x.push_str(&format!("><saml:Issuer>{}</saml:Issuer>", t(&self.issuer)));
        if !self.requested_profiles.is_empty() {
            x.push_str(&format!(
                r#"<samlp:Extensions><nl:RequestedAttributeProfiles xmlns:nl="{}">"#,
                super::oiosaml4::EXTENSIONS_NS
            ));
            for p in &self.requested_profiles {
                x.push_str(&format!("<nl:Profile>{}</nl:Profile>", t(p)));
            }
            x.push_str("</nl:RequestedAttributeProfiles></samlp:Extensions>");
        }
        let mut refs: Vec<String> = Vec::new();
        if let Some(l) = self.loa {
            refs.push(l.classref());
        }
        if let Some(p) = self.profile {
            refs.push(p.profile_uri().to_string());
        }
        refs.extend(self.extra_class_refs.iter().cloned());
        if !refs.is_empty() {
            x.push_str(r#"<samlp:RequestedAuthnContext Comparison="minimum">"#);
            for r in refs {
                x.push_str(&format!(
                    "<saml:AuthnContextClassRef>{}</saml:AuthnContextClassRef>",
                    t(&r)
                ));
            }
            x.push_str("</samlp:RequestedAuthnContext>");
        }
        x.push_str("</samlp:AuthnRequest>");
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builder() -> AuthnRequestBuilder {
        AuthnRequestBuilder {
            id: "_req1".into(),
            issue_instant: time::macros::datetime!(2026-01-01 12:00 UTC),
            destination: "http://127.0.0.1:1/sso".into(),
            issuer: "https://saml.sp.example".into(),
            acs_url: Some("https://sp.example/acs".into()),
            loa: Some(Loa::Substantial),
            profile: Some(IdentityKind::Person),
            extra_class_refs: vec![ns::legacy::CRED_NEMID_KEYCARD.into()],
            requested_profiles: Vec::new(),
            force_authn: true,
            is_passive: false,
        }
    }

    #[test]
    fn build_and_parse() {
        let r = parse(&builder().to_xml()).unwrap();
        assert_eq!(r.id, "_req1");
        assert_eq!(r.issuer.as_deref(), Some("https://saml.sp.example"));
        assert_eq!(r.acs_url.as_deref(), Some("https://sp.example/acs"));
        assert!(r.force_authn && !r.is_passive);
        let rac = r.requested_authn_context.unwrap();
        assert_eq!(rac.loa(), Some(Loa::Substantial));
        assert_eq!(rac.profile(), Some(IdentityKind::Person));
        assert_eq!(rac.legacy_refs(), vec![ns::legacy::CRED_NEMID_KEYCARD]);
        assert_eq!(
            r.issue_instant,
            Some(time::macros::datetime!(2026-01-01 12:00 UTC))
        );
        assert!(r.requested_attribute_profiles.is_empty());
    }

    #[test]
    fn oiosaml4_extension_and_loa() {
        use crate::saml::oiosaml4::{AttributeProfile, loa_classref};
        let mut b = builder();
        b.loa = None;
        b.profile = None;
        b.extra_class_refs = vec![loa_classref(Loa::High)];
        b.requested_profiles = vec![
            AttributeProfile::PersonDkWithoutCpr.uri().into(),
            "https://data.gov.dk/eid/Unknown".into(),
            AttributeProfile::PersonDkWithoutCpr.uri().into(),
        ];
        let r = parse(&b.to_xml()).unwrap();
        assert_eq!(r.requested_attribute_profiles.len(), 3);
        assert_eq!(
            r.attribute_profiles(),
            vec![AttributeProfile::PersonDkWithoutCpr]
        );
        let rac = r.requested_authn_context.unwrap();
        assert_eq!(rac.loa4(), Some(Loa::High));
        assert_eq!(rac.loa(), None);
    }

    #[test]
    fn refusals() {
        assert!(matches!(
            parse("<x/>"),
            Err(AuthnRequestError::NotAuthnRequest(_))
        ));
        let v1 = builder()
            .to_xml()
            .replace("Version=\"2.0\"", "Version=\"1.1\"");
        assert!(matches!(parse(&v1), Err(AuthnRequestError::BadVersion(_))));
        let noid = builder().to_xml().replace("ID=\"_req1\" ", "");
        assert_eq!(parse(&noid), Err(AuthnRequestError::MissingAttribute("ID")));
        let fa = builder()
            .to_xml()
            .replace("ForceAuthn=\"true\"", "ForceAuthn=\"yes\"");
        assert!(matches!(
            parse(&fa),
            Err(AuthnRequestError::Malformed("ForceAuthn", _))
        ));
        let dtd = format!("<!DOCTYPE x [<!ENTITY e \"e\">]>{}", builder().to_xml());
        assert_eq!(parse(&dtd), Err(AuthnRequestError::Xml(XmlError::Doctype)));
    }
}
