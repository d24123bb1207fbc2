//! The OIO BPP privilege check of an SP that makes a privilege a condition of logging in
//! (`SpConfig::required_privilege`, sp.toml `[privileges] required`).
//!
//! NemLog-in releases a professional's privileges in `privilegesIntermediate` (OIOSAML 3.0.3):
//! the base64 of a `bpp:PrivilegeList` (namespace `http://digst.dk/oiosaml/basic_privilege_profile`)
//! whose unqualified `PrivilegeGroup` children each hold `Privilege` URIs that apply within one
//! organisation, named by the group's `Scope` (digst/OIOSAML.Java `oiobpp` package and
//! `OIOBPPUtil.parse`; digst/OIOSAML.Net `Schema/BasicPrivilegeProfile`, `Form = Unqualified`).
//! A user may hold privileges in several organisations; the assertion's `professional/cvr` names
//! the one the user logs in for. So the strict SP grants the required privilege only when a
//! group whose `Scope` is *exactly* `urn:dk:gov:saml:cvrNumberIdentifier:<that CVR>` lists
//! *exactly* the required URI. Every other group is another organisation's business (another
//! CVR, an SE or production-unit number, a CPR number), however its digits compare
//! (FoxIDs `docs/claim-transform-dk-privilege.md` keeps the four scope kinds apart: cvr, p, se,
//! cpr). The flaws are the shortcuts real SPs take: no check, a check that ignores the scope, a
//! scope compared by its tail, the first group's scope, a text search of the decoded list, a
//! check only when the list is there, and (over-strict) a namespace-qualified group lookup.

use super::check::{Check, Rejection, reject};
use super::flaw::Flaw;
use base64::Engine as _;
use std::collections::{BTreeMap, BTreeSet};

/// `privilegesIntermediate` (OIOSAML 3.0.3).
pub(crate) const PRIVILEGES_INTERMEDIATE: &str =
    "https://data.gov.dk/model/core/eid/privilegesIntermediate";
/// The BPP 1.2 namespace of the `PrivilegeList` root (OIOSAML.Net RELEASE_NOTES NLRFIM-118).
const BPP_NS: &str = "http://digst.dk/oiosaml/basic_privilege_profile";
/// The scope of a group that applies within an organisation named by its CVR number.
const SCOPE_CVR: &str = "urn:dk:gov:saml:cvrNumberIdentifier:";

/// One `PrivilegeGroup`, as read.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Group {
    scope: String,
    privileges: Vec<String>,
}

/// Check that the login grants `required` within the organisation `cvr` names.
pub(crate) fn check(
    attrs: &BTreeMap<String, Vec<String>>,
    cvr: Option<&str>,
    required: &str,
    flaws: &BTreeSet<Flaw>,
) -> Result<(), Rejection> {
    let has = |f: Flaw| flaws.contains(&f);
    if has(Flaw::IgnorePrivileges) {
        return Ok(());
    }
    let value = match attrs.get(PRIVILEGES_INTERMEDIATE).map(Vec::as_slice) {
        Some([one]) => one.as_str(),
        None if has(Flaw::PrivilegeOptional) => return Ok(()),
        None => {
            return reject(
                Check::Privilege,
                format!(
                    "no {PRIVILEGES_INTERMEDIATE}: this service requires the privilege {required:?}"
                ),
            );
        }
        Some(v) => {
            return reject(
                Check::Privilege,
                format!(
                    "{PRIVILEGES_INTERMEDIATE} has {} values; exactly one is required",
                    v.len()
                ),
            );
        }
    };
    let xml = decode(value)?;
    if has(Flaw::PrivilegeSubstringInList) {
        // The decoded document searched as text: any occurrence counts.
        return if xml.contains(required) {
            Ok(())
        } else {
            reject(
                Check::Privilege,
                format!("the privilege list does not mention {required:?}"),
            )
        };
    }
    let groups = parse(&xml, has(Flaw::PrivilegeGroupsInBppNamespace))?;
    let Some(cvr) = cvr else {
        return reject(
            Check::Privilege,
            "no professional/cvr: a login for no organisation holds no privilege within one",
        );
    };
    let own = format!("{SCOPE_CVR}{cvr}");
    let holds = |g: &Group| g.privileges.iter().any(|p| p == required);
    let granted = if has(Flaw::PrivilegeWithoutScope) {
        groups.iter().any(holds)
    } else if has(Flaw::PrivilegeScopeSuffix) {
        groups.iter().any(|g| g.scope.ends_with(cvr) && holds(g))
    } else if has(Flaw::PrivilegeFirstGroupScope) {
        groups.first().is_some_and(|g| g.scope == own) && groups.iter().any(holds)
    } else {
        groups.iter().any(|g| g.scope == own && holds(g))
    };
    if granted {
        Ok(())
    } else {
        let scopes: Vec<&str> = groups.iter().map(|g| g.scope.as_str()).collect();
        reject(
            Check::Privilege,
            format!(
                "no PrivilegeGroup with Scope {own:?} grants {required:?} (groups scoped {scopes:?})"
            ),
        )
    }
}

/// The `PrivilegeList` text: the base64 value decoded (NemLog-in's form, as the mock sends
/// it), or the value itself when it is already XML (OIOSAML.Java's `OIOBPPUtil.parse` takes
/// both).
fn decode(value: &str) -> Result<String, Rejection> {
    let v = value.trim();
    if v.starts_with('<') {
        return Ok(v.to_string());
    }
    base64::engine::general_purpose::STANDARD
        .decode(v)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| {
            Rejection::new(
                Check::Privilege,
                format!("{PRIVILEGES_INTERMEDIATE} is neither base64 of UTF-8 XML nor XML"),
            )
        })
}

/// The groups of a `bpp:PrivilegeList`, read with namespace awareness: the root in the BPP
/// namespace, its `PrivilegeGroup` children and their `Privilege` children unqualified (no
/// namespace), as both official libraries read them. roxmltree refuses a DTD. With
/// `qualified_groups` (the over-strict flaw) the groups are looked up in the BPP namespace.
fn parse(xml: &str, qualified_groups: bool) -> Result<Vec<Group>, Rejection> {
    let doc = roxmltree::Document::parse(xml).map_err(|e| {
        Rejection::new(
            Check::Privilege,
            format!("the privilege list is not well-formed XML: {e}"),
        )
    })?;
    let root = doc.root_element();
    if (root.tag_name().namespace(), root.tag_name().name()) != (Some(BPP_NS), "PrivilegeList") {
        return reject(
            Check::Privilege,
            format!(
                "the privilege list's root is {:?} in {:?}, not PrivilegeList in {BPP_NS}",
                root.tag_name().name(),
                root.tag_name().namespace()
            ),
        );
    }
    let group_ns = if qualified_groups { Some(BPP_NS) } else { None };
    let named = |n: &roxmltree::Node<'_, '_>, ns: Option<&str>, name: &str| {
        n.is_element() && n.tag_name().namespace() == ns && n.tag_name().name() == name
    };
    Ok(root
        .children()
        .filter(|n| named(n, group_ns, "PrivilegeGroup"))
        .map(|g| Group {
            scope: g.attribute("Scope").unwrap_or_default().to_string(),
            privileges: g
                .children()
                .filter(|p| named(p, group_ns, "Privilege"))
                .map(|p| {
                    p.children()
                        .filter(|t| t.is_text())
                        .filter_map(|t| t.text())
                        .collect()
                })
                .collect(),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: &str = "urn:dk:mock:privilege:sagsbehandler";
    const CVR: &str = "99000003";

    fn list(groups: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
        let mut x = format!(r#"<bpp:PrivilegeList xmlns:bpp="{BPP_NS}">"#);
        for (scope, ps) in groups {
            x.push_str(&format!(r#"<PrivilegeGroup Scope="{scope}">"#));
            for p in *ps {
                x.push_str(&format!("<Privilege>{p}</Privilege>"));
            }
            x.push_str("</PrivilegeGroup>");
        }
        x.push_str("</bpp:PrivilegeList>");
        let v = base64::engine::general_purpose::STANDARD.encode(x);
        [(PRIVILEGES_INTERMEDIATE.to_string(), vec![v])].into()
    }

    fn ok(attrs: &BTreeMap<String, Vec<String>>, flaws: &[Flaw]) -> bool {
        check(attrs, Some(CVR), P, &flaws.iter().copied().collect()).is_ok()
    }

    #[test]
    fn only_the_required_privilege_in_the_own_cvr_scope_grants_it() {
        let own = format!("{SCOPE_CVR}{CVR}");
        assert!(ok(&list(&[(&own, &[P])]), &[]));
        assert!(ok(
            &list(&[
                ("urn:dk:gov:saml:cvrNumberIdentifier:99000001", &["x"]),
                (&own, &[P])
            ]),
            &[]
        ));
        for bad in [
            list(&[("urn:dk:gov:saml:cvrNumberIdentifier:99000001", &[P])]),
            list(&[("urn:dk:gov:saml:seNumberIdentifier:99000003", &[P])]),
            list(&[("urn:dk:gov:saml:cvrNumberIdentifier:199000003", &[P])]),
            list(&[
                (&own, &["urn:dk:mock:privilege:laeser"]),
                ("urn:dk:gov:saml:cvrNumberIdentifier:99000001", &[P]),
            ]),
            list(&[(&own, &["urn:dk:mock:privilege:sagsbehandler-read"])]),
            BTreeMap::new(),
        ] {
            let e = check(&bad, Some(CVR), P, &BTreeSet::new()).unwrap_err();
            assert_eq!(e.check, Check::Privilege, "{e}");
            assert!(ok(&bad, &[Flaw::IgnorePrivileges]));
        }
        // Plain XML is read too (OIOSAML.Java); a person (no CVR) holds nothing.
        let plain = list(&[(&own, &[P])]);
        let xml = String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(&plain[PRIVILEGES_INTERMEDIATE][0])
                .unwrap(),
        )
        .unwrap();
        assert!(ok(
            &[(PRIVILEGES_INTERMEDIATE.to_string(), vec![xml])].into(),
            &[]
        ));
        assert!(check(&plain, None, P, &BTreeSet::new()).is_err());
    }

    #[test]
    fn each_flaw_takes_its_shortcut() {
        let own = format!("{SCOPE_CVR}{CVR}");
        let other = list(&[("urn:dk:gov:saml:cvrNumberIdentifier:99000001", &[P])]);
        let se = list(&[("urn:dk:gov:saml:seNumberIdentifier:99000003", &[P])]);
        let split = list(&[
            (&own, &["urn:dk:mock:privilege:laeser"]),
            ("urn:dk:gov:saml:cvrNumberIdentifier:99000001", &[P]),
        ]);
        let longer = list(&[(&own, &["urn:dk:mock:privilege:sagsbehandler-read"])]);
        let second = list(&[
            ("urn:dk:gov:saml:cvrNumberIdentifier:99000001", &["x"]),
            (&own, &[P]),
        ]);
        assert!(ok(&other, &[Flaw::PrivilegeWithoutScope]));
        assert!(ok(&split, &[Flaw::PrivilegeWithoutScope]));
        assert!(!ok(&longer, &[Flaw::PrivilegeWithoutScope]));
        assert!(ok(&se, &[Flaw::PrivilegeScopeSuffix]));
        assert!(!ok(&other, &[Flaw::PrivilegeScopeSuffix]));
        assert!(ok(&split, &[Flaw::PrivilegeFirstGroupScope]));
        assert!(!ok(&second, &[Flaw::PrivilegeFirstGroupScope]));
        assert!(ok(&longer, &[Flaw::PrivilegeSubstringInList]));
        assert!(ok(&other, &[Flaw::PrivilegeSubstringInList]));
        assert!(ok(&BTreeMap::new(), &[Flaw::PrivilegeOptional]));
        assert!(!ok(&other, &[Flaw::PrivilegeOptional]));
        assert!(!ok(
            &list(&[(&own, &[P])]),
            &[Flaw::PrivilegeGroupsInBppNamespace]
        ));
    }
}
