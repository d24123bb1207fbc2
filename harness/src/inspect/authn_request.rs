//! AuthnRequest checks, run on the redirect URL captured when the SP starts a login.
//!
//! The request is decoded here rather than with the broker's SSO parser because the two want
//! different things: the broker stops at the first defect, the inspection wants to report every
//! one (a request that is both unsigned and stale should say both), so query-level checks run
//! even when the XML cannot be decoded, and XML-level checks are skipped only then.

use mitid_mock_broker::pki::Credential;
use mitid_mock_broker::saml::oiosaml4::{self as oio4, AttributeProfile, OiosamlVersion};
use mitid_mock_broker::saml::redirect::SigAlg;
use mitid_mock_broker::saml::sp_metadata::SpMetadata;
use mitid_mock_broker::saml::xmlsec::{Bergshamra, XmlVerifier};
use mitid_mock_broker::{IdentityKind, Loa};
use roxmltree::{Document, Node, ParsingOptions};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use super::catalogue::*;
use super::certificate::worse;
use super::redirect::{DEFLATE_ENCODING, DecodeError, RedirectParams, decode_base64_lenient};
use super::{CheckStatus, Finding, InspectOptions, InspectionReport, schema};

const PROTOCOL_NS: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
const ASSERTION_NS: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
const DS_NS: &str = "http://www.w3.org/2000/09/xmldsig#";
const POST: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";
const ENTITY_FORMAT: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:entity";
const RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
const RSA_SHA1: &str = "http://www.w3.org/2000/09/xmldsig#rsa-sha1";
const RSA_SHA384: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384";
const RSA_SHA512: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512";
const NEMID_KEYCARD: &str = "https://nemlogin.dk/internal/credential/type/nemidkeycard";
const NEMID_KEYFILE: &str = "https://nemlogin.dk/internal/credential/type/nemidkeyfile";
const AC_X509: &str = "urn:oasis:names:tc:SAML:2.0:ac:classes:X509";
const KOMBIT_ASSURANCE: &str = "urn:dk:gov:saml:attribute:AssuranceLevel";
/// NemLog-in's SAML extension namespace (OIOSAML 4.0 `RequestedAttributeProfiles`).
const EXTENSIONS_NS: &str = "https://data.gov.dk/eid/saml/extensions";
/// Most requested profiles read (the 4.0 metadata lists seven).
const MAX_PROFILES: usize = 16;

/// Allowed difference between IssueInstant and the capture time.
const CLOCK_SKEW: Duration = Duration::minutes(5);
/// RelayState limits: the SAML bindings' 80 bytes, and the 512 NemLog-in tolerates.
const RELAY_STATE_SPEC_MAX: usize = 80;
const RELAY_STATE_NEMLOGIN_MAX: usize = 512;
/// Node cap for the inflated XML (a real AuthnRequest has a few dozen nodes).
const MAX_REQUEST_NODES: u32 = 10_000;

/// An AuthnRequest as the harness captured it: the redirect the SP answered a login start with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapturedAuthnRequest {
    /// The full `Location` URL the SP redirected the browser to (the broker's SSO URL plus
    /// `SAMLRequest`, `RelayState`, `SigAlg`, `Signature`). Note that URL parsing drops raw
    /// tabs and line breaks; encoded ones (`%0A`) are kept and checked.
    pub redirect_url: url::Url,
    /// When it was captured. IssueInstant is judged against this, not against the inspection
    /// clock, so re-inspecting an old capture gives the same verdict.
    pub captured_at: OffsetDateTime,
}

/// The parts of the AuthnRequest the checks look at, with attributes as written.
#[derive(Debug, Default)]
struct Request {
    id: Option<String>,
    version: Option<String>,
    issue_instant: Option<String>,
    destination: Option<String>,
    acs_url: Option<String>,
    acs_index: Option<String>,
    attribute_service_index: Option<String>,
    protocol_binding: Option<String>,
    force_authn: Option<String>,
    is_passive: Option<String>,
    issuer: Option<String>,
    issuer_format: Option<String>,
    /// `Comparison` (None = attribute absent) and class refs, if RequestedAuthnContext exists.
    authn_context: Option<(Option<String>, Vec<String>)>,
    enveloped_signature: bool,
    /// OIOSAML 4.0 `Extensions/RequestedAttributeProfiles/Profile` values, as written; `None`
    /// when the element is absent.
    attribute_profiles: Option<Vec<String>>,
}

fn parse_request(xml: &str) -> Result<Request, DecodeError> {
    let doc = Document::parse_with_options(
        xml,
        ParsingOptions {
            allow_dtd: false,
            nodes_limit: MAX_REQUEST_NODES,
            ..ParsingOptions::default()
        },
    )
    .map_err(|e| match e {
        roxmltree::Error::DtdDetected => DecodeError::Dtd,
        other => DecodeError::Xml(other.to_string()),
    })?;
    let root = doc.root_element();
    if !(root.tag_name().namespace() == Some(PROTOCOL_NS)
        && root.tag_name().name() == "AuthnRequest")
    {
        let name = match root.tag_name().namespace() {
            Some(ns) => format!("{{{ns}}}{}", root.tag_name().name()),
            None => root.tag_name().name().to_string(),
        };
        return Err(DecodeError::NotAuthnRequest(name));
    }
    let attr = |n: &str| root.attribute(n).map(str::to_string);
    let issuer = child(root, ASSERTION_NS, "Issuer");
    let authn_context = child(root, PROTOCOL_NS, "RequestedAuthnContext").map(|rac| {
        let refs = rac
            .children()
            .filter(|c| {
                c.is_element()
                    && c.tag_name().namespace() == Some(ASSERTION_NS)
                    && c.tag_name().name() == "AuthnContextClassRef"
            })
            .map(|c| c.text().unwrap_or("").trim().to_string())
            .collect();
        (rac.attribute("Comparison").map(str::to_string), refs)
    });
    let attribute_profiles = child(root, PROTOCOL_NS, "Extensions")
        .and_then(|e| child(e, EXTENSIONS_NS, "RequestedAttributeProfiles"))
        .map(|r| {
            r.children()
                .filter(|c| {
                    c.is_element()
                        && c.tag_name().namespace() == Some(EXTENSIONS_NS)
                        && c.tag_name().name() == "Profile"
                })
                .take(MAX_PROFILES)
                .map(|c| c.text().unwrap_or("").trim().to_string())
                .collect()
        });
    Ok(Request {
        id: attr("ID"),
        version: attr("Version"),
        issue_instant: attr("IssueInstant"),
        destination: attr("Destination"),
        acs_url: attr("AssertionConsumerServiceURL"),
        acs_index: attr("AssertionConsumerServiceIndex"),
        attribute_service_index: attr("AttributeConsumingServiceIndex"),
        protocol_binding: attr("ProtocolBinding"),
        force_authn: attr("ForceAuthn"),
        is_passive: attr("IsPassive"),
        issuer: issuer.map(|i| i.text().unwrap_or("").trim().to_string()),
        issuer_format: issuer.and_then(|i| i.attribute("Format").map(str::to_string)),
        authn_context,
        enveloped_signature: child(root, DS_NS, "Signature").is_some(),
        attribute_profiles,
    })
}

/// The first child element with this namespace and local name.
fn child<'a, 'i>(n: Node<'a, 'i>, ns: &str, local: &str) -> Option<Node<'a, 'i>> {
    n.children().find(|c| {
        c.is_element() && c.tag_name().namespace() == Some(ns) && c.tag_name().name() == local
    })
}

pub(crate) fn inspect(
    req: &CapturedAuthnRequest,
    sp: &SpMetadata,
    opts: &InspectOptions,
    seen_ids: &[String],
) -> InspectionReport {
    let query = req.redirect_url.query().unwrap_or("");
    let mut findings = Vec::new();

    let params = RedirectParams::parse(query);
    let decoded: Result<(RedirectParams, Request), DecodeError> = params.clone().and_then(|p| {
        let xml = p.inflate_saml_request()?;
        Ok((p, parse_request(&xml)?))
    });

    let subject = match &decoded {
        Ok((_, r)) => format!(
            "AuthnRequest {} from {}",
            r.id.as_deref().unwrap_or("(no ID)"),
            sp.entity_id
        ),
        Err(_) => format!("AuthnRequest from {} (not decodable)", sp.entity_id),
    };

    // authn-request.decode
    findings.push(match &decoded {
        Ok((_, r)) if r.version.as_deref() == Some("2.0") => {
            AR_DECODE.pass("SAMLRequest inflates to a SAML 2.0 samlp:AuthnRequest")
        }
        Ok((_, r)) => AR_DECODE.fail(format!(
            "the AuthnRequest has Version={:?}; SAML 2.0 requires \"2.0\"",
            r.version.as_deref().unwrap_or("(absent)")
        )),
        Err(e) => AR_DECODE.fail(e.to_string()),
    });

    let params = match params {
        Ok(p) => p,
        Err(e) => {
            // Without separable parameters nothing else can be judged.
            let why = format!("the query cannot be split into binding parameters: {e}");
            for c in ALL_CHECKS
                .iter()
                .filter(|c| c.family == super::Family::AuthnRequest && c.id != AR_DECODE.id)
            {
                findings.push(c.skip(why.clone()));
            }
            return InspectionReport { subject, findings };
        }
    };
    let request = decoded.as_ref().ok().map(|(_, r)| r);
    let skipped = "the AuthnRequest could not be decoded (see authn-request.decode)";

    findings.push(binding(&params, request));
    findings.push(sig_alg(&params));
    findings.push(signature(&params, sp));
    match request {
        Some(r) => {
            findings.push(issuer(r, sp));
            findings.push(destination(r, req, opts));
            findings.push(acs(r, sp));
            findings.push(issue_instant(r, req.captured_at));
            findings.push(id(r, seen_ids));
            match opts.oiosaml {
                OiosamlVersion::V3 => {
                    findings.push(loa(r, opts.required_loa));
                    findings.push(profile(r, opts.expected_profile));
                }
                OiosamlVersion::V4 => {
                    findings.push(loa4(r, opts.required_loa));
                    findings.push(profile4(r, opts.expected_profile, opts.private_sp));
                }
            }
            findings.push(force_passive(r));
        }
        None => {
            for c in [
                AR_ISSUER,
                AR_DESTINATION,
                AR_ACS,
                AR_ISSUE_INSTANT,
                AR_ID,
                AR_LOA,
                AR_PROFILE,
                AR_FORCE_PASSIVE,
            ] {
                findings.push(c.skip(skipped));
            }
        }
    }
    findings.push(relay_state(&params));
    findings.push(encoding(&params));

    InspectionReport { subject, findings }
}

fn binding(p: &RedirectParams, r: Option<&Request>) -> Finding {
    if p.saml_request.is_none() {
        return AR_BINDING.fail(DecodeError::MissingSamlRequest.to_string());
    }
    if let Some(enc) = &p.saml_encoding
        && enc.decoded != DEFLATE_ENCODING
    {
        return AR_BINDING.fail(format!(
            "SAMLEncoding={:?}; the binding defines only {DEFLATE_ENCODING}",
            enc.decoded
        ));
    }
    if r.is_some_and(|r| r.enveloped_signature) {
        return AR_BINDING.warn(
            "the XML contains an enveloped ds:Signature; in the Redirect binding it must be removed (the signature belongs in SigAlg/Signature)",
        );
    }
    AR_BINDING.pass("HTTP-Redirect: SAMLRequest in the query, DEFLATE")
}

fn sig_alg(p: &RedirectParams) -> Finding {
    match (&p.sig_alg, &p.signature) {
        (None, None) => AR_SIG_ALG.fail("unsigned: no SigAlg and no Signature parameter"),
        (None, Some(_)) => AR_SIG_ALG.fail("a Signature parameter without SigAlg"),
        (Some(a), None) => AR_SIG_ALG.fail(format!(
            "SigAlg={} but no Signature parameter: the request is unsigned",
            a.decoded
        )),
        (Some(a), Some(_)) => match a.decoded.as_str() {
            RSA_SHA256 => AR_SIG_ALG.pass(format!("SigAlg={RSA_SHA256}")),
            RSA_SHA1 => AR_SIG_ALG.fail(format!(
                "SigAlg={RSA_SHA1}: SHA-1, which NemLog-in refuses"
            )),
            RSA_SHA384 | RSA_SHA512 => AR_SIG_ALG.warn(format!(
                "SigAlg={}: stronger than required, but NemLog-in's documented algorithm is RSA-SHA256",
                a.decoded
            )),
            other => AR_SIG_ALG.fail(format!(
                "SigAlg={other}: not RSA-SHA256 (NemLog-in verifies with the SP's RSA certificate)"
            )),
        },
    }
}

fn signature(p: &RedirectParams, sp: &SpMetadata) -> Finding {
    let (Some(alg), Some(sig), Some(octets)) = (&p.sig_alg, &p.signature, p.signed_octets()) else {
        return AR_SIGNATURE.fail("the request is unsigned, so nothing ties it to the SP's key");
    };
    let sig_bytes = match decode_base64_lenient(&sig.decoded) {
        Ok(b) => b,
        Err(e) => return AR_SIGNATURE.fail(format!("Signature is not base64: {e}")),
    };
    // Through the broker's verification trait, like every signature check of the broker; SHA-1
    // is verified too, so that a SHA-1 request is reported as SHA-1 and not as forged.
    let alg = match alg.decoded.as_str() {
        RSA_SHA256 => SigAlg::RsaSha256,
        RSA_SHA1 => SigAlg::RsaSha1,
        other => {
            return AR_SIGNATURE.skip(format!(
                "SigAlg {other} is not one the inspection verifies (RSA-SHA256, RSA-SHA1)"
            ));
        }
    };
    if sp.signing_certs.is_empty() {
        return AR_SIGNATURE.fail(
            "the SP's metadata has no signing certificate to verify with (see metadata.signing-key)",
        );
    }
    let mut notes = Vec::new();
    for (i, der) in sp.signing_certs.iter().enumerate() {
        let cred = match Credential::from_cert_der(der) {
            Ok(c) => c,
            Err(e) => {
                notes.push(format!("signing certificate #{}: unreadable ({e})", i + 1));
                continue;
            }
        };
        if Bergshamra.verify_detached(
            alg,
            &cred.public_key_spki_der(),
            octets.as_bytes(),
            &sig_bytes,
        ) {
            return AR_SIGNATURE.pass(format!(
                "verifies with metadata signing certificate #{} ({})",
                i + 1,
                cred.subject()
            ));
        }
        if cred.is_rsa() && cred.key_bits() < 2048 {
            notes.push(format!(
                "signing certificate #{} has a {}-bit key, which the verifier refuses",
                i + 1,
                cred.key_bits()
            ));
        }
    }
    let mut detail = format!(
        "the signature over SAMLRequest/RelayState/SigAlg does not verify with any of the {} signing certificate(s) in the SP's metadata: the SP signs with a key it has not published, or signs other octets than it sends",
        sp.signing_certs.len()
    );
    for n in notes {
        detail.push('\n');
        detail.push_str(&n);
    }
    AR_SIGNATURE.fail(detail)
}

fn issuer(r: &Request, sp: &SpMetadata) -> Finding {
    match (&r.issuer, &r.issuer_format) {
        (None, _) => AR_ISSUER.fail("no saml:Issuer element"),
        (Some(_), Some(f)) if f != ENTITY_FORMAT => AR_ISSUER.fail(format!(
            "Issuer Format={f}; it must be absent or {ENTITY_FORMAT}"
        )),
        (Some(i), _) if *i == sp.entity_id => AR_ISSUER.pass(format!("Issuer {i}")),
        (Some(i), _) => AR_ISSUER.fail(format!(
            "Issuer {i:?} differs from the metadata entityID {:?}",
            sp.entity_id
        )),
    }
}

fn destination(r: &Request, req: &CapturedAuthnRequest, opts: &InspectOptions) -> Finding {
    let Some(sso) = &opts.broker_sso_url else {
        return AR_DESTINATION.skip(format!(
            "no broker SSO URL configured; Destination is {}",
            r.destination.as_deref().unwrap_or("absent")
        ));
    };
    let Some(dest) = &r.destination else {
        return AR_DESTINATION.fail("no Destination attribute; signed requests must carry one");
    };
    if dest != sso {
        return AR_DESTINATION.fail(format!(
            "Destination {dest:?} is not the broker's SSO URL {sso:?}"
        ));
    }
    let mut target = req.redirect_url.clone();
    target.set_query(None);
    target.set_fragment(None);
    match url::Url::parse(sso) {
        Ok(expected) if expected == target => {
            AR_DESTINATION.pass(format!("Destination and redirect target are {sso}"))
        }
        Ok(_) => AR_DESTINATION.fail(format!(
            "Destination is right, but the SP redirected the browser to {target}, not {sso}"
        )),
        Err(e) => AR_DESTINATION.skip(format!(
            "the configured SSO URL {sso:?} does not parse: {e}"
        )),
    }
}

fn acs(r: &Request, sp: &SpMetadata) -> Finding {
    let mut status = CheckStatus::Pass;
    let mut lines = Vec::new();
    if let Some(b) = &r.protocol_binding
        && b != POST
    {
        status = CheckStatus::Fail;
        lines.push(format!(
            "ProtocolBinding={b}; NemLog-in answers only with HTTP-POST"
        ));
    }
    match (&r.acs_url, &r.acs_index) {
        (Some(u), Some(i)) => {
            status = CheckStatus::Fail;
            lines.push(format!(
                "both AssertionConsumerServiceURL ({u}) and AssertionConsumerServiceIndex ({i}); they are mutually exclusive"
            ));
        }
        (Some(u), None) => {
            if sp.has_acs(u, POST) {
                lines.push(format!(
                    "AssertionConsumerServiceURL {u} is a registered HTTP-POST ACS"
                ));
            } else if sp.acs.iter().any(|e| e.location == *u) {
                status = CheckStatus::Fail;
                lines.push(format!(
                    "AssertionConsumerServiceURL {u} is registered, but not with HTTP-POST"
                ));
            } else {
                status = CheckStatus::Fail;
                let registered: Vec<&str> = sp.acs.iter().map(|e| e.location.as_str()).collect();
                lines.push(format!(
                    "AssertionConsumerServiceURL {u} is not in the metadata (registered: {})",
                    if registered.is_empty() {
                        "none".to_string()
                    } else {
                        registered.join(", ")
                    }
                ));
            }
        }
        (None, Some(i)) => match i
            .trim()
            .parse::<u32>()
            .ok()
            .and_then(|ix| sp.acs_by_index(ix))
        {
            Some(e) if e.binding == POST => {
                lines.push(format!(
                    "AssertionConsumerServiceIndex {i} is {}",
                    e.location
                ));
            }
            Some(e) => {
                status = CheckStatus::Fail;
                lines.push(format!(
                    "AssertionConsumerServiceIndex {i} is {} with binding {}, not HTTP-POST",
                    e.location, e.binding
                ));
            }
            None => {
                status = CheckStatus::Fail;
                lines.push(format!(
                    "AssertionConsumerServiceIndex {i} is not in the metadata"
                ));
            }
        },
        (None, None) => match sp.default_acs(POST) {
            Some(e) => lines.push(format!(
                "no ACS in the request; the metadata's default HTTP-POST ACS applies ({})",
                e.location
            )),
            None => {
                status = CheckStatus::Fail;
                lines.push("no ACS in the request and no HTTP-POST ACS in the metadata".into());
            }
        },
    }
    if let Some(i) = &r.attribute_service_index {
        let known = i.trim().parse::<u32>().ok().is_some_and(|ix| {
            sp.attribute_consuming_services
                .iter()
                .any(|s| s.index == ix)
        });
        if !known {
            status = CheckStatus::Fail;
            lines.push(format!(
                "AttributeConsumingServiceIndex {i} is not an AttributeConsumingService in the metadata"
            ));
        }
    }
    AR_ACS.finding(status, lines.join("\n"))
}

fn issue_instant(r: &Request, captured_at: OffsetDateTime) -> Finding {
    let Some(raw) = &r.issue_instant else {
        return AR_ISSUE_INSTANT.fail("no IssueInstant attribute");
    };
    let Ok(t) = OffsetDateTime::parse(raw, &Rfc3339) else {
        return AR_ISSUE_INSTANT.fail(format!(
            "IssueInstant={raw:?} is not an xs:dateTime with a timezone"
        ));
    };
    let skew = t - captured_at;
    if skew.abs() > CLOCK_SKEW {
        let dir = if skew.is_negative() {
            "before"
        } else {
            "after"
        };
        return AR_ISSUE_INSTANT.fail(format!(
            "IssueInstant {raw} is {} s {dir} the capture time {}, outside ±{} s",
            skew.whole_seconds().abs(),
            captured_at.format(&Rfc3339).unwrap_or_default(),
            CLOCK_SKEW.whole_seconds()
        ));
    }
    if !raw.ends_with('Z') {
        return AR_ISSUE_INSTANT.warn(format!(
            "IssueInstant {raw} is current but not in UTC; SAML requires UTC with a Z"
        ));
    }
    AR_ISSUE_INSTANT.pass(format!(
        "IssueInstant {raw} ({} s from capture)",
        skew.whole_seconds()
    ))
}

fn id(r: &Request, seen: &[String]) -> Finding {
    let Some(id) = &r.id else {
        return AR_ID.fail("no ID attribute");
    };
    if !schema::is_ncname(id) {
        return AR_ID.fail(format!(
            "ID {id:?} is not an xs:ID: it must start with a letter or '_' (prefix UUIDs with '_')"
        ));
    }
    if seen.iter().any(|s| s == id) {
        return AR_ID.fail(format!("ID {id} was already used by an earlier request"));
    }
    // 128 bits need 32 hex or 22 base64 characters; a shorter ID cannot carry them.
    let body = id.trim_start_matches(|c: char| !c.is_ascii_alphanumeric());
    if body.chars().filter(char::is_ascii_alphanumeric).count() < 22 {
        return AR_ID.warn(format!(
            "ID {id:?} is too short to carry 128 bits of randomness"
        ));
    }
    AR_ID.pass(format!(
        "ID {id} (xs:ID, not seen among {} earlier request(s))",
        seen.len()
    ))
}

fn loa(r: &Request, required: Option<Loa>) -> Finding {
    let Some((comparison, refs)) = &r.authn_context else {
        return AR_LOA.warn(
            "no RequestedAuthnContext: the IdP's default level applies and the SP must check the delivered nsis/loa itself",
        );
    };
    let comparison = comparison.as_deref().unwrap_or("exact");
    let loas: Vec<Loa> = refs.iter().filter_map(|c| Loa::from_classref(c)).collect();
    let legacy: Vec<&str> = refs
        .iter()
        .map(String::as_str)
        .filter(|c| {
            matches!(*c, NEMID_KEYCARD | NEMID_KEYFILE | AC_X509) || c.starts_with(KOMBIT_ASSURANCE)
        })
        .collect();
    let listed = refs.join(", ");
    if loas.is_empty() {
        return if legacy.is_empty() {
            AR_LOA.warn(format!(
                "RequestedAuthnContext names no NSIS LoA ({})",
                if listed.is_empty() {
                    "no class refs"
                } else {
                    &listed
                }
            ))
        } else {
            AR_LOA.fail(format!(
                "RequestedAuthnContext asks only for NemID-era classes: {}",
                legacy.join(", ")
            ))
        };
    }
    // With exact/minimum the weakest listed level is what the SP may get; with `better`, one
    // above it; with `maximum`, anything up to it (i.e. Low).
    let lowest = loas.iter().copied().min().unwrap_or(Loa::Low);
    let floor = match comparison {
        "maximum" => Loa::Low,
        "better" => match lowest {
            Loa::Low => Loa::Substantial,
            _ => Loa::High,
        },
        _ => lowest,
    };
    let mut status = CheckStatus::Pass;
    let mut lines = vec![format!("Comparison={comparison}, class refs: {listed}")];
    if !matches!(comparison, "exact" | "minimum" | "better" | "maximum") {
        status = CheckStatus::Fail;
        lines.push(format!(
            "Comparison={comparison:?} is not a SAML comparison value"
        ));
    }
    if let Some(req) = required {
        if floor < req {
            status = CheckStatus::Fail;
            lines.push(format!(
                "the service requires {req}, but this request accepts {floor}"
            ));
        } else {
            lines.push(format!(
                "accepts {floor} or better; the service requires {req}"
            ));
        }
    }
    if !legacy.is_empty() {
        status = worse(status, CheckStatus::Warn);
        lines.push(format!(
            "also asks for NemID-era classes: {}",
            legacy.join(", ")
        ));
    }
    AR_LOA.finding(status, lines.join("\n"))
}

fn profile(r: &Request, expected: Option<IdentityKind>) -> Finding {
    let refs: &[String] = r
        .authn_context
        .as_ref()
        .map(|(_, refs)| refs.as_slice())
        .unwrap_or(&[]);
    let has = |k: IdentityKind| refs.iter().any(|c| c == k.profile_uri());
    let requested: Vec<&str> = [IdentityKind::Person, IdentityKind::Professional]
        .into_iter()
        .filter(|k| has(*k))
        .map(|k| k.profile_uri())
        .collect();
    let seen = if requested.is_empty() {
        "no attribute profile requested".to_string()
    } else {
        format!("requests {}", requested.join(" and "))
    };
    let Some(want) = expected else {
        return AR_PROFILE.skip(format!(
            "no expected profile configured; the request {seen}"
        ));
    };
    let other = match want {
        IdentityKind::Person => IdentityKind::Professional,
        IdentityKind::Professional => IdentityKind::Person,
    };
    match (has(want), has(other)) {
        (true, false) => AR_PROFILE.pass(seen),
        (true, true) => AR_PROFILE.warn(format!(
            "{seen}; the service is configured for {}",
            want.profile_uri()
        )),
        (false, true) => AR_PROFILE.fail(format!(
            "{seen}; the service is configured for {}",
            want.profile_uri()
        )),
        (false, false) => AR_PROFILE.warn(format!(
            "{seen}; the service is configured for {}",
            want.profile_uri()
        )),
    }
}

/// OIOSAML 4.0: the LoA is requested with `https://data.gov.dk/concept/core/loa/<Level>`
/// (FoxIDs `NemLoginOiosaml400LoaPrefix`); 3.0.3's `nsis/loa/` URIs and the NemID-era classes
/// do not belong in a 4.0 request.
fn loa4(r: &Request, required: Option<Loa>) -> Finding {
    let Some((comparison, refs)) = &r.authn_context else {
        return AR_LOA.warn(
            "no RequestedAuthnContext: the IdP's default level applies and the SP must check the delivered https://data.gov.dk/concept/core/loa itself",
        );
    };
    let comparison = comparison.as_deref().unwrap_or("exact");
    let listed = refs.join(", ");
    let v3: Vec<&str> = refs
        .iter()
        .map(String::as_str)
        .filter(|c| {
            Loa::from_classref(c).is_some()
                || *c == IdentityKind::Person.profile_uri()
                || *c == IdentityKind::Professional.profile_uri()
        })
        .collect();
    let legacy: Vec<&str> = refs
        .iter()
        .map(String::as_str)
        .filter(|c| {
            matches!(*c, NEMID_KEYCARD | NEMID_KEYFILE | AC_X509) || c.starts_with(KOMBIT_ASSURANCE)
        })
        .collect();
    let loas: Vec<Loa> = refs
        .iter()
        .filter_map(|c| oio4::loa_from_classref(c))
        .collect();
    let mut status = CheckStatus::Pass;
    let mut lines = vec![format!(
        "OIOSAML 4.0: Comparison={comparison}, class refs: {listed}"
    )];
    if !legacy.is_empty() {
        status = CheckStatus::Fail;
        lines.push(format!("NemID-era classes: {}", legacy.join(", ")));
    }
    if !v3.is_empty() {
        status = worse(status, CheckStatus::Fail);
        lines.push(format!(
            "OIOSAML 3.0.3 class refs in a 4.0 request (4.0 uses {}<Level> and RequestedAttributeProfiles): {}",
            oio4::LOA_CLASSREF_PREFIX,
            v3.join(", ")
        ));
    }
    match (loas.iter().copied().min(), required) {
        (None, _) => {
            status = worse(status, CheckStatus::Warn);
            lines.push(format!(
                "no 4.0 LoA ({}<Level>) requested",
                oio4::LOA_CLASSREF_PREFIX
            ));
        }
        (Some(lowest), Some(req)) if comparison != "maximum" && lowest < req => {
            status = worse(status, CheckStatus::Fail);
            lines.push(format!(
                "the service requires {req}, but this request accepts {lowest}"
            ));
        }
        (Some(_), Some(_)) if comparison == "maximum" => {
            status = worse(status, CheckStatus::Fail);
            lines.push("Comparison=maximum accepts Low".to_string());
        }
        (Some(lowest), _) => lines.push(format!("accepts {lowest} or better")),
    }
    match status {
        CheckStatus::Pass => AR_LOA.pass(lines.join("; ")),
        CheckStatus::Warn => AR_LOA.warn(lines.join("; ")),
        CheckStatus::Fail | CheckStatus::Skipped => AR_LOA.fail(lines.join("; ")),
    }
}

/// OIOSAML 4.0: `RequestedAttributeProfiles` is present, names only profiles NemLog-in offers
/// (the 4.0 metadata's SupportedAttributeProfiles), includes one for the kind of user the
/// service is configured for, and a private SP does not ask for Person/DK (the profile with
/// CPR, for public authorities).
fn profile4(r: &Request, expected: Option<IdentityKind>, private_sp: bool) -> Finding {
    let Some(profiles) = &r.attribute_profiles else {
        return AR_PROFILE.fail(
            "OIOSAML 4.0 request without Extensions/RequestedAttributeProfiles (namespace https://data.gov.dk/eid/saml/extensions): the SP does not say which attribute profile it needs",
        );
    };
    if profiles.is_empty() {
        return AR_PROFILE.fail("RequestedAttributeProfiles names no Profile");
    }
    let known: Vec<AttributeProfile> = profiles
        .iter()
        .filter_map(|p| AttributeProfile::from_uri(p))
        .collect();
    let unknown: Vec<&str> = profiles
        .iter()
        .map(String::as_str)
        .filter(|p| AttributeProfile::from_uri(p).is_none())
        .collect();
    let mut status = CheckStatus::Pass;
    let mut lines = vec![format!("requests {}", profiles.join(", "))];
    if !unknown.is_empty() {
        status = CheckStatus::Fail;
        lines.push(format!(
            "not attribute profiles NemLog-in 4.0 offers: {}",
            unknown.join(", ")
        ));
    }
    if private_sp && known.contains(&AttributeProfile::PersonDk) {
        status = CheckStatus::Fail;
        lines.push(format!(
            "a private SP asks for {} (CPR numbers are for public authorities); request {} instead",
            AttributeProfile::PersonDk.uri(),
            AttributeProfile::PersonDkWithoutCpr.uri()
        ));
    }
    if let Some(want) = expected
        && !known.iter().any(|p| p.kind() == want)
    {
        status = worse(status, CheckStatus::Fail);
        lines.push(format!(
            "no profile for {want:?} users, which the service is configured for"
        ));
    }
    match status {
        CheckStatus::Pass => AR_PROFILE.pass(lines.join("; ")),
        CheckStatus::Warn => AR_PROFILE.warn(lines.join("; ")),
        CheckStatus::Fail | CheckStatus::Skipped => AR_PROFILE.fail(lines.join("; ")),
    }
}

fn force_passive(r: &Request) -> Finding {
    let parse = |v: &Option<String>, name: &str| -> Result<bool, String> {
        match v.as_deref().map(str::trim) {
            None => Ok(false),
            Some("true" | "1") => Ok(true),
            Some("false" | "0") => Ok(false),
            Some(x) => Err(format!("{name}={x:?} is not an xs:boolean")),
        }
    };
    let (force, passive) = match (
        parse(&r.force_authn, "ForceAuthn"),
        parse(&r.is_passive, "IsPassive"),
    ) {
        (Ok(f), Ok(p)) => (f, p),
        (Err(e), _) | (_, Err(e)) => return AR_FORCE_PASSIVE.fail(e),
    };
    let seen = format!("ForceAuthn={force}, IsPassive={passive}");
    match (force, passive) {
        (true, true) => AR_FORCE_PASSIVE.fail(format!(
            "{seen}: contradictory (force a login, but without interaction)"
        )),
        (false, true) => AR_FORCE_PASSIVE.warn(format!(
            "{seen}: NemLog-in logins are interactive; expect NoPassive instead of a login"
        )),
        _ => AR_FORCE_PASSIVE.pass(seen),
    }
}

fn relay_state(p: &RedirectParams) -> Finding {
    let Some(rs) = &p.relay_state else {
        return AR_RELAY_STATE
            .warn("no RelayState; some IdPs require one and the SP loses its place after login");
    };
    let len = rs.form_decoded().len();
    if len > RELAY_STATE_NEMLOGIN_MAX {
        AR_RELAY_STATE.fail(format!(
            "RelayState is {len} bytes; NemLog-in fails above {RELAY_STATE_NEMLOGIN_MAX}"
        ))
    } else if len > RELAY_STATE_SPEC_MAX {
        AR_RELAY_STATE.warn(format!(
            "RelayState is {len} bytes, over the {RELAY_STATE_SPEC_MAX} the SAML bindings allow (NemLog-in tolerates up to {RELAY_STATE_NEMLOGIN_MAX})"
        ))
    } else if len == 0 {
        AR_RELAY_STATE.warn("RelayState is empty")
    } else {
        AR_RELAY_STATE.pass(format!("RelayState is {len} bytes"))
    }
}

fn encoding(p: &RedirectParams) -> Finding {
    let mut status = CheckStatus::Pass;
    let mut lines = Vec::new();
    let all = [
        ("SAMLRequest", &p.saml_request),
        ("RelayState", &p.relay_state),
        ("SigAlg", &p.sig_alg),
        ("Signature", &p.signature),
    ];
    for (name, v) in all {
        let Some(v) = v else { continue };
        if v.decoded.contains(['\r', '\n']) {
            status = CheckStatus::Fail;
            lines.push(format!(
                "{name} contains encoded line breaks (%0D/%0A): use unwrapped base64"
            ));
        }
        if matches!(name, "SAMLRequest" | "Signature") && v.raw.contains('+') {
            status = worse(status, CheckStatus::Warn);
            lines.push(format!(
                "{name} contains an unescaped '+', which form decoders read as a space"
            ));
        }
    }
    if lines.is_empty() {
        AR_ENCODING.pass("no line breaks; '+' escaped")
    } else {
        AR_ENCODING.finding(status, lines.join("\n"))
    }
}
