//! Metadata checks: the shape of the SP's EntityDescriptor and what it declares (signing
//! policy, keys, endpoints, requested attributes, entityID).
//!
//! The document is parsed twice on purpose: once as a roxmltree tree for the schema subset and
//! the algorithm extensions (which work even when the broker's parser refuses the document), and
//! once with the broker's own [`SpMetadata`] parser, so the harness judges exactly what the
//! broker would register.

use mitid_mock_broker::saml::sp_metadata::{
    MAX_METADATA_BYTES, MAX_METADATA_NODES, MD_NS, MetadataError, SAML2_PROTOCOL, SpMetadata,
};
use roxmltree::{Document, ParsingOptions};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::catalogue::*;
use super::certificate::{self, worse};
use super::{CheckStatus, Finding, InspectOptions, InspectionReport, schema};

const POST: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";
const REDIRECT: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
const ALG_NS: &str = "urn:oasis:names:tc:SAML:metadata:algsupport";
const URI_FORMAT: &str = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri";
const SPEC_VERSION: &str = "https://data.gov.dk/model/core/specVersion";
const NSIS_LOA: &str = "https://data.gov.dk/concept/core/nsis/loa";
const CPR: &str = "https://data.gov.dk/model/core/eid/cprNumber";
const PRIVILEGES: &str = "https://data.gov.dk/model/core/eid/privilegesIntermediate";

/// Attribute-name prefixes of OIOSAML 2 / NemID (DK-SAML-2.0) and the OCES `urn:oid:` names.
const LEGACY_ATTRIBUTE_PREFIXES: &[&str] = &[
    "dk:gov:saml:attribute:",
    "dk:gov:virk:saml:attribute:",
    "urn:oid:",
    "urn:liberty:disco:",
];
/// OIOSAML 3 attributes the profile itself marks as deprecated (PID and RID).
const DEPRECATED_ATTRIBUTES: &[&str] = &[
    "https://data.gov.dk/model/core/eid/person/pid",
    "https://data.gov.dk/model/core/eid/professional/rid",
];
/// Name prefixes of the OIOSAML 3/4 attribute vocabulary (and eIDAS, which OIOSAML 4 adds).
const CURRENT_ATTRIBUTE_PREFIXES: &[&str] = &[
    "https://data.gov.dk/",
    "https://healthcare.data.gov.dk/",
    "http://eidas.europa.eu/attributes/",
];

/// Algorithms the algorithm check treats as legacy.
const RSA_SHA1: &str = "http://www.w3.org/2000/09/xmldsig#rsa-sha1";
const LEGACY_SIGNING: &[&str] = &[
    RSA_SHA1,
    "http://www.w3.org/2000/09/xmldsig#dsa-sha1",
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1",
    "http://www.w3.org/2000/09/xmldsig#hmac-sha1",
];
const LEGACY_DIGEST: &[&str] = &["http://www.w3.org/2000/09/xmldsig#sha1"];
const RSA_1_5: &str = "http://www.w3.org/2001/04/xmlenc#rsa-1_5";
const KEY_TRANSPORT: &[&str] = &[
    RSA_1_5,
    "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p",
    "http://www.w3.org/2009/xmlenc11#rsa-oaep",
];
const TRIPLE_DES: &str = "http://www.w3.org/2001/04/xmlenc#tripledes-cbc";

pub(crate) fn inspect(xml: &str, opts: &InspectOptions) -> InspectionReport {
    let mut findings = Vec::new();

    // The tree for the schema subset; same limits as the broker's parser.
    let doc = if xml.len() > MAX_METADATA_BYTES {
        None
    } else {
        Document::parse_with_options(
            xml.strip_prefix('\u{feff}').unwrap_or(xml),
            ParsingOptions {
                allow_dtd: false,
                nodes_limit: MAX_METADATA_NODES,
                ..ParsingOptions::default()
            },
        )
        .ok()
    };
    let parsed = SpMetadata::parse(xml);

    let subject = match &parsed {
        Ok(md) => format!("SP metadata {}", md.entity_id),
        Err(_) => "SP metadata (not usable)".to_string(),
    };
    findings.push(match &parsed {
        Ok(md) => MD_PARSE.pass(format!(
            "EntityDescriptor {} with an SPSSODescriptor ({} bytes)",
            md.entity_id,
            xml.len()
        )),
        Err(e) => MD_PARSE.fail(e.to_string()),
    });

    let root_is_metadata = doc.as_ref().is_some_and(|d| {
        let r = d.root_element();
        r.tag_name().namespace() == Some(MD_NS)
            && matches!(
                r.tag_name().name(),
                "EntityDescriptor" | "EntitiesDescriptor"
            )
    });
    findings.push(match &doc {
        Some(d) if root_is_metadata => {
            let v = schema::validate(d.root_element());
            if v.items.is_empty() {
                MD_SCHEMA.pass("no violations of the checked schema rules")
            } else {
                MD_SCHEMA.fail(list(&v.items, 20))
            }
        }
        _ => MD_SCHEMA.skip("the document is not SAML metadata (see metadata.parse)"),
    });

    let md = match parsed {
        Ok(md) => md,
        Err(e) => {
            let why = match e {
                MetadataError::TooLarge { .. }
                | MetadataError::Dtd
                | MetadataError::TooManyNodes { .. }
                | MetadataError::Xml(_)
                | MetadataError::NotMetadata(_) => "the document is not SAML metadata",
                _ => "the broker cannot register this metadata",
            };
            let why = format!("{why} (see metadata.parse)");
            for c in ALL_CHECKS
                .iter()
                .filter(|c| c.family != super::Family::AuthnRequest)
                .filter(|c| c.id != MD_PARSE.id && c.id != MD_SCHEMA.id)
            {
                findings.push(c.skip(why.clone()));
            }
            return InspectionReport { subject, findings };
        }
    };

    findings.push(protocol_support(&md));
    findings.push(valid_until(&md, opts.now));
    findings.push(signed_flag(
        MD_AUTHN_SIGNED,
        "AuthnRequestsSigned",
        md.authn_requests_signed,
    ));
    findings.push(signed_flag(
        MD_WANT_SIGNED,
        "WantAssertionsSigned",
        md.want_assertions_signed,
    ));
    findings.push(if md.signing_certs.is_empty() {
        MD_SIGNING_KEY.fail(
            "no KeyDescriptor with use=\"signing\" (or without use) holding an X509Certificate",
        )
    } else {
        MD_SIGNING_KEY.pass(format!("{} signing certificate(s)", md.signing_certs.len()))
    });
    findings.push(if md.encryption_certs.is_empty() {
        MD_ENCRYPTION_KEY.fail(
            "no KeyDescriptor with use=\"encryption\" (or without use) holding an X509Certificate",
        )
    } else {
        MD_ENCRYPTION_KEY.pass(format!(
            "{} encryption certificate(s)",
            md.encryption_certs.len()
        ))
    });
    findings.push(algorithms(&md, doc.as_ref()));
    findings.push(acs_binding(&md));
    findings.push(acs_https(&md));
    findings.push(slo(&md));
    findings.push(attribute_consuming_service(&md));
    findings.push(attribute_names(&md));
    findings.push(private_sp(&md, opts.private_sp));
    findings.push(entity_id(&md.entity_id));
    findings.extend(certificate::inspect(&md, opts.now));

    InspectionReport { subject, findings }
}

/// Up to `max` items, one per line, with a count of the rest.
fn list(items: &[String], max: usize) -> String {
    let mut s = items
        .iter()
        .take(max)
        .cloned()
        .collect::<Vec<_>>()
        .join("\n");
    if items.len() > max {
        s.push_str(&format!("\n... and {} more", items.len() - max));
    }
    s
}

fn protocol_support(md: &SpMetadata) -> Finding {
    let listed = md.protocol_support.join(" ");
    if md.protocol_support.iter().any(|p| p == SAML2_PROTOCOL) {
        MD_PROTOCOL.pass(format!("protocolSupportEnumeration=\"{listed}\""))
    } else {
        MD_PROTOCOL.fail(format!(
            "protocolSupportEnumeration=\"{listed}\" does not list {SAML2_PROTOCOL}"
        ))
    }
}

fn valid_until(md: &SpMetadata, now: OffsetDateTime) -> Finding {
    let Some(v) = &md.valid_until else {
        return MD_VALID_UNTIL.pass("no validUntil: the metadata does not expire by itself");
    };
    match OffsetDateTime::parse(v, &Rfc3339) {
        Err(_) => MD_VALID_UNTIL.fail(format!(
            "validUntil=\"{v}\" is not an xs:dateTime with a timezone"
        )),
        Ok(t) if t <= now => MD_VALID_UNTIL.fail(format!(
            "validUntil=\"{v}\" has passed ({} days ago): consumers must discard this metadata",
            (now - t).whole_days()
        )),
        Ok(t) if t - now < certificate::EXPIRY_WARNING => MD_VALID_UNTIL.warn(format!(
            "validUntil=\"{v}\" is {} days away",
            (t - now).whole_days()
        )),
        Ok(_) => MD_VALID_UNTIL.pass(format!("validUntil=\"{v}\"")),
    }
}

fn signed_flag(check: Check, attr: &str, value: Option<bool>) -> Finding {
    match value {
        Some(true) => check.pass(format!("{attr}=\"true\"")),
        Some(false) => check.fail(format!("{attr}=\"false\"")),
        None => check.fail(format!("{attr} is absent, which means false")),
    }
}

/// Algorithms declared in md:EncryptionMethod and in the algsupport extension (entity- or
/// SPSSODescriptor-level alg:SigningMethod / alg:DigestMethod).
fn algorithms(md: &SpMetadata, doc: Option<&Document<'_>>) -> Finding {
    let mut signing = Vec::new();
    let mut digests = Vec::new();
    if let Some(doc) = doc {
        let entity = doc.descendants().find(|n| {
            n.tag_name().namespace() == Some(MD_NS)
                && n.tag_name().name() == "EntityDescriptor"
                && n.attribute("entityID").map(str::trim) == Some(md.entity_id.as_str())
        });
        if let Some(entity) = entity {
            // Only the entity's own and its SPSSODescriptor's Extensions, not an IdP's.
            for ext in entity.descendants().filter(|n| {
                n.tag_name().namespace() == Some(MD_NS)
                    && n.tag_name().name() == "Extensions"
                    && n.parent().is_some_and(|p| {
                        p == entity
                            || (p.tag_name().namespace() == Some(MD_NS)
                                && p.tag_name().name() == "SPSSODescriptor")
                    })
            }) {
                for a in ext
                    .children()
                    .filter(|c| c.tag_name().namespace() == Some(ALG_NS))
                {
                    let Some(alg) = a.attribute("Algorithm") else {
                        continue;
                    };
                    match a.tag_name().name() {
                        "SigningMethod" => signing.push(alg.to_string()),
                        "DigestMethod" => digests.push(alg.to_string()),
                        _ => {}
                    }
                }
            }
        }
    }
    let transport: Vec<String> = md
        .encryption_methods
        .iter()
        .map(|m| m.algorithm.clone())
        .filter(|a| KEY_TRANSPORT.contains(&a.as_str()))
        .collect();
    let block: Vec<String> = md
        .encryption_methods
        .iter()
        .map(|m| m.algorithm.clone())
        .filter(|a| !KEY_TRANSPORT.contains(&a.as_str()))
        .collect();

    let mut status = CheckStatus::Pass;
    let mut lines = Vec::new();
    let mut judge = |what: &str, algs: &[String], legacy: &dyn Fn(&str) -> bool| {
        if algs.is_empty() {
            return;
        }
        let old: Vec<&str> = algs
            .iter()
            .map(String::as_str)
            .filter(|a| legacy(a))
            .collect();
        let s = if old.is_empty() {
            CheckStatus::Pass
        } else if old.len() == algs.len() {
            CheckStatus::Fail
        } else {
            CheckStatus::Warn
        };
        status = worse(status, s);
        let note = match s {
            CheckStatus::Fail => " (legacy only)",
            CheckStatus::Warn => " (includes legacy)",
            _ => "",
        };
        lines.push(format!("{what}{note}: {}", algs.join(", ")));
    };
    judge("signing methods", &signing, &|a| {
        LEGACY_SIGNING.contains(&a)
    });
    judge("digest methods", &digests, &|a| LEGACY_DIGEST.contains(&a));
    judge("key transport", &transport, &|a| a == RSA_1_5);
    judge("data encryption", &block, &|a| a == TRIPLE_DES);
    if lines.is_empty() {
        MD_ALGORITHMS
            .pass("no algorithms declared: the IdP uses its defaults (RSA-SHA256, RSA-OAEP, AES)")
    } else {
        MD_ALGORITHMS.finding(status, lines.join("\n"))
    }
}

fn endpoint_list(eps: &[mitid_mock_broker::saml::sp_metadata::Endpoint]) -> String {
    eps.iter()
        .map(|e| format!("{} {}", short_binding(&e.binding), e.location))
        .collect::<Vec<_>>()
        .join("\n")
}

fn short_binding(b: &str) -> &str {
    b.strip_prefix("urn:oasis:names:tc:SAML:2.0:bindings:")
        .unwrap_or(b)
}

fn acs_binding(md: &SpMetadata) -> Finding {
    if md.acs.is_empty() {
        return MD_ACS_BINDING.fail("no AssertionConsumerService at all");
    }
    let listed = endpoint_list(&md.acs);
    let has_post = md.acs.iter().any(|e| e.binding == POST);
    let has_redirect = md.acs.iter().any(|e| e.binding == REDIRECT);
    match (has_post, has_redirect) {
        (false, _) => MD_ACS_BINDING.fail(format!("no HTTP-POST ACS; registered:\n{listed}")),
        (true, true) => MD_ACS_BINDING.warn(format!(
            "an ACS uses HTTP-Redirect, which responses may not use:\n{listed}"
        )),
        (true, false) => MD_ACS_BINDING.pass(listed),
    }
}

/// https → ok; http on a loopback host → warn; anything else → fail.
fn url_transport(location: &str) -> (CheckStatus, String) {
    match url::Url::parse(location) {
        Err(e) => (
            CheckStatus::Fail,
            format!("{location}: not an absolute URL ({e})"),
        ),
        Ok(u) if u.scheme() == "https" => (CheckStatus::Pass, format!("{location}: https")),
        Ok(u) if u.scheme() == "http" && is_loopback(&u) => (
            CheckStatus::Warn,
            format!("{location}: http on loopback (acceptable for local tests only)"),
        ),
        Ok(u) => (
            CheckStatus::Fail,
            format!("{location}: {} is not https", u.scheme()),
        ),
    }
}

pub(crate) fn is_loopback(u: &url::Url) -> bool {
    match u.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost" || d.ends_with(".localhost"),
        None => false,
    }
}

fn acs_https(md: &SpMetadata) -> Finding {
    if md.acs.is_empty() {
        return MD_ACS_HTTPS.skip("no AssertionConsumerService (see metadata.acs-binding)");
    }
    let mut status = CheckStatus::Pass;
    let mut lines = Vec::new();
    for e in &md.acs {
        let (s, line) = url_transport(&e.location);
        status = worse(status, s);
        lines.push(line);
    }
    MD_ACS_HTTPS.finding(status, lines.join("\n"))
}

fn slo(md: &SpMetadata) -> Finding {
    if md.slo.is_empty() {
        return MD_SLO.warn("no SingleLogoutService: the SP cannot take part in single logout");
    }
    let mut status = CheckStatus::Pass;
    let mut lines = Vec::new();
    for e in &md.slo {
        let (s, line) = url_transport(&e.location);
        status = worse(status, s);
        lines.push(format!("{} {line}", short_binding(&e.binding)));
        if let Some(r) = &e.response_location {
            let (s, line) = url_transport(r);
            status = worse(status, s);
            lines.push(format!(
                "{} ResponseLocation {line}",
                short_binding(&e.binding)
            ));
        }
    }
    if !md
        .slo
        .iter()
        .any(|e| e.binding == REDIRECT || e.binding == POST)
    {
        status = worse(status, CheckStatus::Warn);
        lines.push(
            "no front-channel (HTTP-Redirect or HTTP-POST) SingleLogoutService, which NemLog-in uses"
                .into(),
        );
    }
    MD_SLO.finding(status, lines.join("\n"))
}

/// The AttributeConsumingService the IdP uses when the request names none.
fn default_attribute_service(
    md: &SpMetadata,
) -> Option<&mitid_mock_broker::saml::sp_metadata::AttributeConsumingService> {
    let s = &md.attribute_consuming_services;
    s.iter()
        .find(|a| a.is_default == Some(true))
        .or_else(|| s.iter().find(|a| a.is_default != Some(false)))
        .or_else(|| s.first())
}

fn attribute_consuming_service(md: &SpMetadata) -> Finding {
    let Some(svc) = default_attribute_service(md) else {
        return MD_ACS_ATTRS
            .warn("no AttributeConsumingService: NemLog-in has no list of attributes to release");
    };
    let names: Vec<&str> = svc.requested.iter().map(|r| r.name.as_str()).collect();
    let missing: Vec<&str> = [SPEC_VERSION, NSIS_LOA]
        .into_iter()
        .filter(|n| !names.contains(n))
        .collect();
    let head = format!(
        "AttributeConsumingService index {} ({} requested attributes)",
        svc.index,
        names.len()
    );
    if names.is_empty() {
        MD_ACS_ATTRS.warn(format!("{head}: requests nothing"))
    } else if missing.is_empty() {
        MD_ACS_ATTRS.pass(format!("{head}, including specVersion and nsis/loa"))
    } else {
        MD_ACS_ATTRS.warn(format!("{head}; not requested: {}", missing.join(", ")))
    }
}

fn attribute_names(md: &SpMetadata) -> Finding {
    let all: Vec<_> = md
        .attribute_consuming_services
        .iter()
        .flat_map(|s| s.requested.iter())
        .collect();
    if all.is_empty() {
        return MD_ATTR_NAMES.skip("no RequestedAttribute in the metadata");
    }
    let mut status = CheckStatus::Pass;
    let mut lines = Vec::new();
    for r in &all {
        let n = r.name.as_str();
        if LEGACY_ATTRIBUTE_PREFIXES.iter().any(|p| n.starts_with(p)) {
            status = worse(status, CheckStatus::Fail);
            lines.push(format!("{n}: OIOSAML 2 / NemID-era name"));
        } else if DEPRECATED_ATTRIBUTES.contains(&n) {
            status = worse(status, CheckStatus::Warn);
            lines.push(format!(
                "{n}: deprecated in OIOSAML 3 (identify users by UUID instead)"
            ));
        } else if !CURRENT_ATTRIBUTE_PREFIXES.iter().any(|p| n.starts_with(p)) {
            status = worse(status, CheckStatus::Warn);
            lines.push(format!("{n}: not an OIOSAML 3 attribute name"));
        } else if r.name_format.as_deref().is_some_and(|f| f != URI_FORMAT) {
            status = worse(status, CheckStatus::Warn);
            lines.push(format!(
                "{n}: NameFormat {} (OIOSAML 3 uses {URI_FORMAT})",
                r.name_format.as_deref().unwrap_or_default()
            ));
        }
    }
    if lines.is_empty() {
        MD_ATTR_NAMES.pass(format!(
            "all {} requested attributes use OIOSAML 3 names",
            all.len()
        ))
    } else {
        MD_ATTR_NAMES.finding(status, lines.join("\n"))
    }
}

fn private_sp(md: &SpMetadata, private: bool) -> Finding {
    if !private {
        return MD_PRIVATE_SP
            .skip("the SP is configured as a public-sector SP (private_sp = false)");
    }
    let forbidden: Vec<&str> = md
        .attribute_consuming_services
        .iter()
        .flat_map(|s| s.requested.iter())
        .map(|r| r.name.as_str())
        .filter(|n| {
            *n == CPR
                || *n == PRIVILEGES
                || *n == "dk:gov:saml:attribute:CprNumberIdentifier"
                || *n == "dk:gov:saml:attribute:Privileges_intermediate"
        })
        .collect();
    if forbidden.is_empty() {
        MD_PRIVATE_SP.pass("requests neither cprNumber nor privilegesIntermediate")
    } else {
        MD_PRIVATE_SP.fail(format!("a private SP requests {}", forbidden.join(" and ")))
    }
}

fn entity_id(e: &str) -> Finding {
    if e.chars().count() > 1024 {
        return MD_ENTITY_ID.fail(format!(
            "entityID is {} characters; SAML allows at most 1024",
            e.chars().count()
        ));
    }
    if e.chars().any(char::is_whitespace) {
        return MD_ENTITY_ID.fail(format!("entityID {e:?} contains whitespace"));
    }
    match url::Url::parse(e) {
        Err(_) => MD_ENTITY_ID.fail(format!("entityID {e:?} is not an absolute URI")),
        Ok(u) if u.scheme() == "https" && u.host_str().is_some_and(|h| h.starts_with("saml.")) => {
            MD_ENTITY_ID.pass(format!("{e} follows https://saml.<domain>"))
        }
        Ok(u) if u.scheme() == "https" => MD_ENTITY_ID.warn(format!(
            "{e}: NemLog-in's convention is https://saml.<your domain>"
        )),
        Ok(u) => MD_ENTITY_ID.warn(format!(
            "{e}: scheme {}; NemLog-in's convention is https://saml.<your domain>",
            u.scheme()
        )),
    }
}
