//! OIO Basic Privilege Profile (BPP 1.2): the privileges a professional (MitID Erhverv) user
//! holds, released in OIOSAML 3.0.3 as the `privilegesIntermediate` attribute.
//!
//! The structure, as the two official SP libraries parse it (no public copy of the BPP 1.2
//! schema was found; these are the sources):
//! - digst/OIOSAML.Java `oiosaml/src/main/java/dk/gov/oio/saml/oiobpp/` (`PrivilegeList`,
//!   `PrivilegeGroup` with a `Scope` attribute, `Privilege` strings, optional `Constraint`
//!   elements with a `Name` attribute and a text value) and its `OIOBPPUtilTest`;
//!   `OIOBPPUtil.parse` base64-decodes the attribute value first.
//! - digst/OIOSAML.Net `Schema/BasicPrivilegeProfile/` (`PrivilegeListType` in namespace
//!   `http://digst.dk/oiosaml/basic_privilege_profile`, its `PrivilegeGroup` children
//!   unqualified) and `PrivilegeListTypeTest`; RELEASE_NOTES NLRFIM-118 names that namespace
//!   for "profile version 1.2".
//!
//! ```xml
//! <bpp:PrivilegeList xmlns:bpp="http://digst.dk/oiosaml/basic_privilege_profile">
//!   <PrivilegeGroup Scope="urn:dk:gov:saml:cvrNumberIdentifier:12345678">
//!     <Privilege>urn:dk:some_domain:myPrivilege1A</Privilege>
//!     <Constraint Name="urn:dk:kombit:KLE">25.*</Constraint>
//!   </PrivilegeGroup>
//! </bpp:PrivilegeList>
//! ```
//!
//! Both libraries' tests scope groups by CVR (`urn:dk:gov:saml:cvrNumberIdentifier:<8
//! digits>`) or SE number (`urn:dk:gov:saml:seNumberIdentifier:<8 digits>`); the mock accepts
//! those two forms only. Whether NemLog-in base64-encodes the value is **unconfirmed**
//! (OIOSAML.Java accepts base64 and plain XML; the mock sends base64, as "intermediate"
//! suggests an encoded XML document in a string attribute).

use super::xml::{escape_attr, escape_text};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};

/// The BPP 1.2 namespace (OIOSAML.Net RELEASE_NOTES NLRFIM-118).
pub const NAMESPACE: &str = "http://digst.dk/oiosaml/basic_privilege_profile";
/// Scope prefix of a group that applies to an organisation by CVR number.
pub const SCOPE_CVR: &str = "urn:dk:gov:saml:cvrNumberIdentifier:";
/// Scope prefix of a group that applies to an organisation by SE number.
pub const SCOPE_SE: &str = "urn:dk:gov:saml:seNumberIdentifier:";
/// The privilege the builtin professional `palle-privilegeret` holds for their own CVR (a
/// mock URI in the `urn:dk:<domain>:...` shape of both libraries' tests).
pub const MOCK_PRIVILEGE: &str = "urn:dk:mock:privilege:sagsbehandler";
/// Most privilege groups an identity may carry.
pub const MAX_GROUPS: usize = 64;
/// Longest privilege, constraint name or value.
pub const MAX_VALUE_LEN: usize = 512;

/// One `PrivilegeGroup`: privileges that apply within one organisation (its scope).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrivilegeGroup {
    /// `Scope`: `urn:dk:gov:saml:cvrNumberIdentifier:<CVR>` or
    /// `urn:dk:gov:saml:seNumberIdentifier:<SE>`.
    pub scope: String,
    /// The `Privilege` URIs.
    pub privileges: Vec<String>,
    /// `Constraint`s narrowing the privileges (e.g. `urn:dk:kombit:KLE` = `25.*`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub constraints: Vec<Constraint>,
}

/// One `Constraint Name="...">value</Constraint>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Constraint {
    /// `Name` (a URI).
    pub name: String,
    /// The constraint's value.
    pub value: String,
}

impl PrivilegeGroup {
    /// The organisation number the scope names (CVR or SE), if it has one of the two forms.
    pub fn scoped_number(&self) -> Option<&str> {
        [SCOPE_CVR, SCOPE_SE]
            .iter()
            .find_map(|p| self.scope.strip_prefix(p))
            .filter(|n| n.len() == 8 && n.bytes().all(|b| b.is_ascii_digit()))
    }
}

/// Check an identity's privilege groups; the message says what is wrong.
pub fn check(groups: &[PrivilegeGroup]) -> Result<(), String> {
    if groups.len() > MAX_GROUPS {
        return Err(format!("has {} groups; at most {MAX_GROUPS}", groups.len()));
    }
    let fits = |s: &str| !s.trim().is_empty() && s.len() <= MAX_VALUE_LEN;
    for (i, g) in groups.iter().enumerate() {
        if g.scoped_number().is_none() {
            return Err(format!(
                "[{i}].scope {:?} is neither {SCOPE_CVR}<8 digits> nor {SCOPE_SE}<8 digits>",
                g.scope
            ));
        }
        if g.privileges.is_empty() {
            return Err(format!(
                "[{i}].privileges is empty; a group holds at least one"
            ));
        }
        if let Some(p) = g.privileges.iter().find(|p| !fits(p)) {
            return Err(format!(
                "[{i}].privileges has {p:?}: each must be non-empty and at most {MAX_VALUE_LEN} bytes"
            ));
        }
        if let Some(c) = g
            .constraints
            .iter()
            .find(|c| !fits(&c.name) || !fits(&c.value))
        {
            return Err(format!(
                "[{i}].constraints has {:?} = {:?}: name and value must be non-empty and at most {MAX_VALUE_LEN} bytes",
                c.name, c.value
            ));
        }
    }
    Ok(())
}

/// The `PrivilegeList` document for these groups.
pub fn privilege_list_xml(groups: &[PrivilegeGroup]) -> String {
    let mut x = format!(r#"<bpp:PrivilegeList xmlns:bpp="{NAMESPACE}">"#);
    for g in groups {
        x.push_str(&format!(
            r#"<PrivilegeGroup Scope="{}">"#,
            escape_attr(&g.scope)
        ));
        for p in &g.privileges {
            x.push_str(&format!("<Privilege>{}</Privilege>", escape_text(p)));
        }
        for c in &g.constraints {
            x.push_str(&format!(
                r#"<Constraint Name="{}">{}</Constraint>"#,
                escape_attr(&c.name),
                escape_text(&c.value)
            ));
        }
        x.push_str("</PrivilegeGroup>");
    }
    x.push_str("</bpp:PrivilegeList>");
    x
}

/// The `privilegesIntermediate` attribute value: the base64 of [`privilege_list_xml`].
pub fn attribute_value(groups: &[PrivilegeGroup]) -> String {
    B64.encode(privilege_list_xml(groups).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn groups() -> Vec<PrivilegeGroup> {
        vec![
            PrivilegeGroup {
                scope: format!("{SCOPE_CVR}90000001"),
                privileges: vec!["urn:dk:mock:privilege:read".into()],
                constraints: vec![Constraint {
                    name: "urn:dk:kombit:KLE".into(),
                    value: "25.*".into(),
                }],
            },
            PrivilegeGroup {
                scope: format!("{SCOPE_SE}90000002"),
                privileges: vec![
                    "urn:dk:mock:privilege:a&b".into(),
                    "urn:dk:mock:privilege:admin".into(),
                ],
                constraints: vec![],
            },
        ]
    }

    #[test]
    fn the_list_has_the_shape_the_official_libraries_parse() {
        let xml = privilege_list_xml(&groups());
        let doc = roxmltree::Document::parse(&xml).expect("well-formed");
        let root = doc.root_element();
        assert_eq!(
            (root.tag_name().namespace(), root.tag_name().name()),
            (Some(NAMESPACE), "PrivilegeList")
        );
        let g: Vec<_> = root.children().filter(|n| n.is_element()).collect();
        assert_eq!(g.len(), 2);
        // Children are unqualified, as OIOSAML.Net's `Form = Unqualified` and both tests.
        assert_eq!(
            (g[0].tag_name().namespace(), g[0].tag_name().name()),
            (None, "PrivilegeGroup")
        );
        assert_eq!(
            g[0].attribute("Scope"),
            Some("urn:dk:gov:saml:cvrNumberIdentifier:90000001")
        );
        let texts = |n: roxmltree::Node, tag: &str| -> Vec<String> {
            n.children()
                .filter(|c| c.has_tag_name(tag))
                .map(|c| c.text().unwrap_or_default().to_string())
                .collect()
        };
        assert_eq!(texts(g[0], "Privilege"), ["urn:dk:mock:privilege:read"]);
        assert_eq!(texts(g[0], "Constraint"), ["25.*"]);
        assert_eq!(
            texts(g[1], "Privilege"),
            ["urn:dk:mock:privilege:a&b", "urn:dk:mock:privilege:admin"]
        );
        let decoded = B64.decode(attribute_value(&groups())).expect("base64");
        assert_eq!(String::from_utf8(decoded).unwrap(), xml);
    }

    #[test]
    fn bad_groups_are_named() {
        assert_eq!(check(&groups()), Ok(()));
        assert_eq!(check(&[]), Ok(()));
        let mut g = groups();
        g[1].scope = "urn:dk:gov:saml:cvrNumberIdentifier:123".into();
        assert!(check(&g).unwrap_err().starts_with("[1].scope"));
        let mut g = groups();
        g[0].privileges.clear();
        assert!(check(&g).unwrap_err().contains("empty"));
        let mut g = groups();
        g[0].constraints[0].value = " ".into();
        assert!(check(&g).unwrap_err().starts_with("[0].constraints"));
        let many = vec![groups()[0].clone(); MAX_GROUPS + 1];
        assert!(check(&many).unwrap_err().contains("at most"));
        assert_eq!(groups()[1].scoped_number(), Some("90000002"));
    }
}
