//! The structural subset of `saml-schema-metadata-2.0.xsd` that SP metadata gets wrong in
//! practice.
//!
//! A full XSD 1.0 validator (with imports of xmldsig/xenc and wildcard processing) is a project
//! of its own and there is no pure-Rust one to lean on, so this module encodes the rules of the
//! metadata schema that matter for SPs directly: required attributes, the order and cardinality
//! of EntityDescriptor and SPSSODescriptor children, simple-type values (xs:boolean,
//! xs:unsignedShort, xs:dateTime, xs:anyURI, xs:ID), enumerations (KeyDescriptor `use`,
//! ContactPerson `contactType`), known binding URIs, and index uniqueness. Extensions and
//! IdP/AA role descriptors are not descended into. No schema is fetched from anywhere.

use roxmltree::Node;

use mitid_mock_broker::saml::sp_metadata::{DS_NS, MD_NS};

const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

/// Binding URIs from SAML 2.0 Bindings §3 plus the SAML 1.x profile URIs that Shibboleth
/// still publishes. Anything else is almost always a typo.
pub(crate) const KNOWN_BINDINGS: &[&str] = &[
    "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect",
    "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST",
    "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST-SimpleSign",
    "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact",
    "urn:oasis:names:tc:SAML:2.0:bindings:SOAP",
    "urn:oasis:names:tc:SAML:2.0:bindings:PAOS",
    "urn:oasis:names:tc:SAML:2.0:bindings:URI",
    "urn:oasis:names:tc:SAML:1.0:profiles:browser-post",
    "urn:oasis:names:tc:SAML:1.0:profiles:artifact-01",
    "urn:oasis:names:tc:SAML:1.0:bindings:SOAP-binding",
];

const ROLE_DESCRIPTORS: &[&str] = &[
    "RoleDescriptor",
    "IDPSSODescriptor",
    "SPSSODescriptor",
    "AuthnAuthorityDescriptor",
    "AttributeAuthorityDescriptor",
    "PDPDescriptor",
];

/// Collects schema violations with a readable location.
#[derive(Default)]
pub(crate) struct Violations {
    pub(crate) items: Vec<String>,
}

impl Violations {
    fn add(&mut self, at: &str, msg: impl AsRef<str>) {
        self.items.push(format!("{at}: {}", msg.as_ref()));
    }
}

/// Check the document rooted at `root` (an EntityDescriptor or EntitiesDescriptor; the caller
/// has already refused anything else).
pub(crate) fn validate(root: Node<'_, '_>) -> Violations {
    let mut v = Violations::default();
    if is_md(root, "EntitiesDescriptor") {
        entities(root, "EntitiesDescriptor", &mut v);
    } else if is_md(root, "EntityDescriptor") {
        entity(root, &mut v);
    }
    v
}

fn is_md(n: Node<'_, '_>, local: &str) -> bool {
    n.is_element() && n.tag_name().namespace() == Some(MD_NS) && n.tag_name().name() == local
}

fn elements<'a, 'i>(n: Node<'a, 'i>) -> impl Iterator<Item = Node<'a, 'i>> {
    n.children().filter(|c| c.is_element())
}

fn display_name(n: Node<'_, '_>) -> String {
    match n.tag_name().namespace() {
        Some(MD_NS) => format!("md:{}", n.tag_name().name()),
        Some(DS_NS) => format!("ds:{}", n.tag_name().name()),
        Some(ns) => format!("{{{ns}}}{}", n.tag_name().name()),
        None => n.tag_name().name().to_string(),
    }
}

fn entities(n: Node<'_, '_>, at: &str, v: &mut Violations) {
    common_attrs(n, at, v);
    let mut seen_child = false;
    for (i, c) in elements(n).enumerate() {
        let here = format!("{at}/{}[{}]", display_name(c), i + 1);
        if is_md(c, "EntityDescriptor") {
            seen_child = true;
            entity(c, v);
        } else if is_md(c, "EntitiesDescriptor") {
            seen_child = true;
            entities(c, &here, v);
        } else if is_sig(c) || is_md(c, "Extensions") {
            if seen_child {
                v.add(&here, "must come before the first EntityDescriptor");
            }
        } else {
            v.add(&here, "not allowed in EntitiesDescriptor");
        }
    }
    if !seen_child {
        v.add(
            at,
            "needs at least one EntityDescriptor or EntitiesDescriptor",
        );
    }
}

fn is_sig(n: Node<'_, '_>) -> bool {
    n.is_element() && n.tag_name().namespace() == Some(DS_NS) && n.tag_name().name() == "Signature"
}

/// validUntil, cacheDuration and ID, which several metadata types share.
fn common_attrs(n: Node<'_, '_>, at: &str, v: &mut Violations) {
    if let Some(t) = n.attribute("validUntil")
        && !is_date_time(t)
    {
        v.add(at, format!("validUntil=\"{t}\" is not an xs:dateTime"));
    }
    if let Some(d) = n.attribute("cacheDuration")
        && !d.trim_start_matches('-').starts_with('P')
    {
        v.add(at, format!("cacheDuration=\"{d}\" is not an xs:duration"));
    }
    if let Some(id) = n.attribute("ID")
        && !is_ncname(id)
    {
        v.add(at, format!("ID=\"{id}\" is not an xs:ID"));
    }
}

fn entity(n: Node<'_, '_>, v: &mut Violations) {
    let eid = n.attribute("entityID").unwrap_or("");
    let at = format!("EntityDescriptor[{eid}]");
    match n.attribute("entityID") {
        None => v.add(&at, "entityID is required"),
        Some(e) if e.trim().is_empty() => v.add(&at, "entityID is empty"),
        Some(e) if e.chars().count() > 1024 => {
            v.add(&at, "entityID is longer than 1024 characters")
        }
        Some(e) if !is_any_uri(e) => v.add(&at, "entityID is not a URI"),
        _ => {}
    }
    common_attrs(n, &at, v);

    // Signature? Extensions? (roles+ | AffiliationDescriptor) Organization? ContactPerson*
    // AdditionalMetadataLocation*
    let rank = |c: Node<'_, '_>| -> Option<u8> {
        if is_sig(c) {
            return Some(0);
        }
        if c.tag_name().namespace() != Some(MD_NS) {
            return None;
        }
        let local = c.tag_name().name();
        match local {
            "Extensions" => Some(1),
            _ if ROLE_DESCRIPTORS.contains(&local) || local == "AffiliationDescriptor" => Some(2),
            "Organization" => Some(3),
            "ContactPerson" => Some(4),
            "AdditionalMetadataLocation" => Some(5),
            _ => None,
        }
    };
    order(n, &at, rank, &[0, 1, 3], v);

    let roles = elements(n)
        .filter(|c| {
            c.tag_name().namespace() == Some(MD_NS)
                && ROLE_DESCRIPTORS.contains(&c.tag_name().name())
        })
        .count();
    let affiliation = elements(n)
        .filter(|c| is_md(*c, "AffiliationDescriptor"))
        .count();
    if roles == 0 && affiliation == 0 {
        v.add(
            &at,
            "needs at least one role descriptor (e.g. SPSSODescriptor)",
        );
    }
    if roles > 0 && affiliation > 0 {
        v.add(
            &at,
            "role descriptors and AffiliationDescriptor are mutually exclusive",
        );
    }

    for (i, c) in elements(n).enumerate() {
        let here = format!("{at}/{}[{}]", display_name(c), i + 1);
        if is_md(c, "SPSSODescriptor") {
            sp_descriptor(c, &here, v);
        } else if is_md(c, "Organization") {
            organization(c, &here, v);
        } else if is_md(c, "ContactPerson") {
            contact(c, &here, v);
        }
    }
}

/// Children must appear in non-decreasing rank; ranks in `once` may appear at most once.
/// `rank` returns `None` for an element the content model does not allow.
fn order(
    n: Node<'_, '_>,
    at: &str,
    rank: impl Fn(Node<'_, '_>) -> Option<u8>,
    once: &[u8],
    v: &mut Violations,
) {
    let mut last: Option<(u8, String)> = None;
    let mut counts = [0usize; 16];
    for c in elements(n) {
        let name = display_name(c);
        let Some(r) = rank(c) else {
            v.add(
                at,
                format!(
                    "{name} is not allowed here (elements of other namespaces belong inside md:Extensions)"
                ),
            );
            continue;
        };
        counts[r as usize] += 1;
        if once.contains(&r) && counts[r as usize] == 2 {
            v.add(at, format!("{name} may appear at most once"));
        }
        if let Some((lr, lname)) = &last
            && r < *lr
        {
            v.add(at, format!("{name} must come before {lname}"));
            continue;
        }
        last = Some((r, name));
    }
}

fn sp_descriptor(n: Node<'_, '_>, at: &str, v: &mut Violations) {
    match n.attribute("protocolSupportEnumeration") {
        None => v.add(at, "protocolSupportEnumeration is required"),
        Some(p) if p.split_whitespace().next().is_none() => {
            v.add(at, "protocolSupportEnumeration is empty")
        }
        Some(p) => {
            for u in p.split_whitespace() {
                if !is_any_uri(u) {
                    v.add(
                        at,
                        format!("protocolSupportEnumeration entry {u:?} is not a URI"),
                    );
                }
            }
        }
    }
    for a in ["AuthnRequestsSigned", "WantAssertionsSigned"] {
        boolean_attr(n, a, at, v);
    }
    common_attrs(n, at, v);
    if let Some(e) = n.attribute("errorURL")
        && !is_any_uri(e)
    {
        v.add(at, format!("errorURL=\"{e}\" is not a URI"));
    }

    let rank = |c: Node<'_, '_>| -> Option<u8> {
        if is_sig(c) {
            return Some(0);
        }
        if c.tag_name().namespace() != Some(MD_NS) {
            return None;
        }
        Some(match c.tag_name().name() {
            "Extensions" => 1,
            "KeyDescriptor" => 2,
            "Organization" => 3,
            "ContactPerson" => 4,
            "ArtifactResolutionService" => 5,
            "SingleLogoutService" => 6,
            "ManageNameIDService" => 7,
            "NameIDFormat" => 8,
            "AssertionConsumerService" => 9,
            "AttributeConsumingService" => 10,
            _ => return None,
        })
    };
    order(n, at, rank, &[0, 1, 3], v);

    let mut acs_count = 0;
    let mut indexes: std::collections::HashMap<&str, Vec<u16>> = Default::default();
    let mut defaults: std::collections::HashMap<&str, usize> = Default::default();
    for (i, c) in elements(n).enumerate() {
        if c.tag_name().namespace() != Some(MD_NS) {
            continue;
        }
        let local = c.tag_name().name();
        let here = format!("{at}/md:{local}[{}]", i + 1);
        match local {
            "KeyDescriptor" => key_descriptor(c, &here, v),
            "ArtifactResolutionService" | "AssertionConsumerService" => {
                if local == "AssertionConsumerService" {
                    acs_count += 1;
                }
                endpoint(c, &here, v);
                if let Some(ix) = index_attr(c, &here, v) {
                    indexes.entry(local).or_default().push(ix);
                }
                if boolean_attr(c, "isDefault", &here, v) == Some(true) {
                    *defaults.entry(local).or_default() += 1;
                }
            }
            "SingleLogoutService" | "ManageNameIDService" => endpoint(c, &here, v),
            "NameIDFormat" => {
                let t = c.text().unwrap_or("").trim();
                if t.is_empty() || !is_any_uri(t) {
                    v.add(&here, format!("{t:?} is not a URI"));
                }
            }
            "AttributeConsumingService" => {
                if let Some(ix) = index_attr(c, &here, v) {
                    indexes.entry(local).or_default().push(ix);
                }
                if boolean_attr(c, "isDefault", &here, v) == Some(true) {
                    *defaults.entry(local).or_default() += 1;
                }
                attribute_consuming_service(c, &here, v);
            }
            _ => {}
        }
    }
    if acs_count == 0 {
        v.add(at, "needs at least one AssertionConsumerService");
    }
    let mut kinds: Vec<_> = indexes.into_iter().collect();
    kinds.sort();
    for (kind, mut ix) in kinds {
        ix.sort_unstable();
        let total = ix.len();
        ix.dedup();
        if ix.len() != total {
            v.add(at, format!("{kind} index values are not unique"));
        }
    }
    let mut defaults: Vec<_> = defaults.into_iter().collect();
    defaults.sort();
    for (kind, count) in defaults {
        if count > 1 {
            v.add(
                at,
                format!("{count} {kind} elements say isDefault=\"true\"; at most one may"),
            );
        }
    }
}

fn endpoint(n: Node<'_, '_>, at: &str, v: &mut Violations) {
    match n.attribute("Binding") {
        None => v.add(at, "Binding is required"),
        Some(b) if !KNOWN_BINDINGS.contains(&b) => v.add(at, format!("unknown Binding {b:?}")),
        _ => {}
    }
    match n.attribute("Location") {
        None => v.add(at, "Location is required"),
        Some(l) if !is_absolute_url(l) => {
            v.add(at, format!("Location {l:?} is not an absolute URL"))
        }
        _ => {}
    }
    if let Some(l) = n.attribute("ResponseLocation")
        && !is_absolute_url(l)
    {
        v.add(at, format!("ResponseLocation {l:?} is not an absolute URL"));
    }
}

fn key_descriptor(n: Node<'_, '_>, at: &str, v: &mut Violations) {
    if let Some(u) = n.attribute("use")
        && u != "signing"
        && u != "encryption"
    {
        v.add(
            at,
            format!("use=\"{u}\" must be \"signing\" or \"encryption\""),
        );
    }
    let kids: Vec<_> = elements(n).collect();
    match kids.first() {
        Some(k) if k.tag_name().namespace() == Some(DS_NS) && k.tag_name().name() == "KeyInfo" => {}
        _ => v.add(at, "must start with exactly one ds:KeyInfo"),
    }
    for k in kids.iter().skip(1) {
        if !is_md(*k, "EncryptionMethod") {
            v.add(
                at,
                format!(
                    "{} is not allowed after ds:KeyInfo (only md:EncryptionMethod)",
                    display_name(*k)
                ),
            );
        } else if k.attribute("Algorithm").is_none() {
            v.add(at, "md:EncryptionMethod needs an Algorithm");
        }
    }
}

fn attribute_consuming_service(n: Node<'_, '_>, at: &str, v: &mut Violations) {
    let rank = |c: Node<'_, '_>| -> Option<u8> {
        if c.tag_name().namespace() != Some(MD_NS) {
            return None;
        }
        Some(match c.tag_name().name() {
            "ServiceName" => 0,
            "ServiceDescription" => 1,
            "RequestedAttribute" => 2,
            _ => return None,
        })
    };
    order(n, at, rank, &[], v);
    let names: Vec<_> = elements(n).filter(|c| is_md(*c, "ServiceName")).collect();
    if names.is_empty() {
        v.add(at, "needs at least one md:ServiceName");
    }
    for s in names.iter().chain(
        elements(n)
            .filter(|c| is_md(*c, "ServiceDescription"))
            .collect::<Vec<_>>()
            .iter(),
    ) {
        if s.attribute((XML_NS, "lang")).is_none() {
            v.add(at, format!("{} needs xml:lang", display_name(*s)));
        }
    }
    let mut requested = 0;
    for (i, r) in elements(n)
        .filter(|c| is_md(*c, "RequestedAttribute"))
        .enumerate()
    {
        requested += 1;
        let here = format!("{at}/md:RequestedAttribute[{}]", i + 1);
        match r.attribute("Name") {
            None => v.add(&here, "Name is required"),
            Some(s) if s.trim().is_empty() => v.add(&here, "Name is empty"),
            _ => {}
        }
        if let Some(f) = r.attribute("NameFormat")
            && !is_any_uri(f)
        {
            v.add(&here, format!("NameFormat {f:?} is not a URI"));
        }
        boolean_attr(r, "isRequired", &here, v);
    }
    if requested == 0 {
        v.add(at, "needs at least one md:RequestedAttribute");
    }
}

fn organization(n: Node<'_, '_>, at: &str, v: &mut Violations) {
    let rank = |c: Node<'_, '_>| -> Option<u8> {
        if c.tag_name().namespace() != Some(MD_NS) {
            return None;
        }
        Some(match c.tag_name().name() {
            "Extensions" => 0,
            "OrganizationName" => 1,
            "OrganizationDisplayName" => 2,
            "OrganizationURL" => 3,
            _ => return None,
        })
    };
    order(n, at, rank, &[0], v);
    for part in [
        "OrganizationName",
        "OrganizationDisplayName",
        "OrganizationURL",
    ] {
        let items: Vec<_> = elements(n).filter(|c| is_md(*c, part)).collect();
        if items.is_empty() {
            v.add(at, format!("needs at least one md:{part}"));
        }
        for i in items {
            if i.attribute((XML_NS, "lang")).is_none() {
                v.add(at, format!("md:{part} needs xml:lang"));
            }
        }
    }
}

fn contact(n: Node<'_, '_>, at: &str, v: &mut Violations) {
    match n.attribute("contactType") {
        None => v.add(at, "contactType is required"),
        Some("technical" | "support" | "administrative" | "billing" | "other") => {}
        Some(t) => v.add(
            at,
            format!(
                "contactType=\"{t}\" must be technical, support, administrative, billing or other"
            ),
        ),
    }
    let rank = |c: Node<'_, '_>| -> Option<u8> {
        if c.tag_name().namespace() != Some(MD_NS) {
            return None;
        }
        Some(match c.tag_name().name() {
            "Extensions" => 0,
            "Company" => 1,
            "GivenName" => 2,
            "SurName" => 3,
            "EmailAddress" => 4,
            "TelephoneNumber" => 5,
            _ => return None,
        })
    };
    order(n, at, rank, &[0, 1, 2, 3], v);
}

fn boolean_attr(n: Node<'_, '_>, name: &str, at: &str, v: &mut Violations) -> Option<bool> {
    match n.attribute(name).map(str::trim) {
        None => None,
        Some("true" | "1") => Some(true),
        Some("false" | "0") => Some(false),
        Some(x) => {
            v.add(at, format!("{name}=\"{x}\" is not an xs:boolean"));
            None
        }
    }
}

fn index_attr(n: Node<'_, '_>, at: &str, v: &mut Violations) -> Option<u16> {
    match n.attribute("index") {
        None => {
            v.add(at, "index is required");
            None
        }
        Some(x) => match x.trim().parse::<u16>() {
            Ok(i) => Some(i),
            Err(_) => {
                v.add(at, format!("index=\"{x}\" is not an xs:unsignedShort"));
                None
            }
        },
    }
}

/// xs:dateTime, accepting the forms SAML uses (with `Z` or an offset, optional fraction) and
/// the timezone-less form the schema also allows.
pub(crate) fn is_date_time(s: &str) -> bool {
    use time::format_description::well_known::Rfc3339;
    let s = s.trim();
    time::OffsetDateTime::parse(s, &Rfc3339).is_ok()
        || time::OffsetDateTime::parse(&format!("{s}Z"), &Rfc3339).is_ok()
}

/// xs:ID / NCName: starts with a letter or `_`, continues with letters, digits, `.`, `-`, `_`
/// (combining characters and extenders are accepted as letters), never a colon.
pub(crate) fn is_ncname(s: &str) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if c.is_alphabetic() || c == '_' => {}
        _ => return false,
    }
    chars.all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | '\u{b7}'))
}

/// A loose xs:anyURI check: a scheme followed by ':' and no whitespace. (The XSD type is
/// looser still, but SAML requires absolute URIs wherever it uses one as an identifier.)
fn is_any_uri(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once(':') else {
        return false;
    };
    let mut sc = scheme.chars();
    sc.next().is_some_and(|c| c.is_ascii_alphabetic())
        && sc.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        && !rest.is_empty()
        && !s.chars().any(char::is_whitespace)
}

fn is_absolute_url(s: &str) -> bool {
    !s.chars().any(char::is_whitespace) && url::Url::parse(s).is_ok_and(|u| u.has_host())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(xml: &str) -> Vec<String> {
        let doc = roxmltree::Document::parse(xml).unwrap();
        validate(doc.root_element()).items
    }

    const GOOD: &str = r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://saml.x.dk">
  <md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"/></md:KeyDescriptor>
    <md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://x.dk/slo"/>
    <md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://x.dk/acs" index="0"/>
  </md:SPSSODescriptor>
</md:EntityDescriptor>"#;

    #[test]
    fn minimal_sp_is_valid() {
        assert_eq!(check(GOOD), Vec::<String>::new());
    }

    #[test]
    fn order_violation_is_reported() {
        let xml = GOOD.replace(
            r#"<md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://x.dk/slo"/>
    <md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://x.dk/acs" index="0"/>"#,
            r#"<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://x.dk/acs" index="0"/>
    <md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://x.dk/slo"/>"#,
        );
        let v = check(&xml);
        assert_eq!(v.len(), 1, "{v:?}");
        assert!(
            v[0].contains("md:SingleLogoutService must come before md:AssertionConsumerService")
        );
    }

    #[test]
    fn missing_required_parts() {
        let xml = GOOD
            .replace(r#" index="0""#, "")
            .replace(r#" Location="https://x.dk/slo""#, "")
            .replace("HTTP-POST", "HTTP-Post");
        let v = check(&xml).join("\n");
        assert!(v.contains("index is required"), "{v}");
        assert!(v.contains("Location is required"), "{v}");
        assert!(v.contains("unknown Binding"), "{v}");
    }

    #[test]
    fn ncname() {
        assert!(is_ncname("_8f3a"));
        assert!(is_ncname("ONELOGIN_abc-1.2"));
        assert!(!is_ncname("8f3a"));
        assert!(!is_ncname("a:b"));
        assert!(!is_ncname(""));
    }
}
