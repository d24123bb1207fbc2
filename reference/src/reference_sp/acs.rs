//! The assertion consumer: from the posted `SAMLResponse` to a [`Login`] or a [`Rejection`].
//!
//! Order: decode → refuse DOCTYPE → Response checks (Status, Destination, InResponseTo,
//! IssueInstant, Issuer) → exactly one EncryptedAssertion, no plaintext Assertion → decrypt →
//! the Assertion itself signed by an IdP metadata key (xml-sec, expected-target evidence, so a
//! signature over anything else cannot vouch for it) → the Assertion checks in
//! [`super::assertion`] → replay cache. Each step is one [`Check`]; each flaw switches one off.

use super::SpState;
use super::assertion::{self, Expect, TimePolicy, check_issue_instant, check_issuer};
use super::check::{Check, Rejection, reject};
use super::flaw::Flaw;
use super::session::Login;
use super::xml::{self, DS, SAML, SAMLP, XENC, child, children, is};
use super::xmlsec::VerifyPolicy;
use base64::Engine;
use time::OffsetDateTime;
use xml_sec::xmldsig::SignatureRequirement;

const STATUS_SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";
const SHA1_ALGORITHMS: &[&str] = &[
    "http://www.w3.org/2000/09/xmldsig#rsa-sha1",
    "http://www.w3.org/2000/09/xmldsig#sha1",
    "http://www.w3.org/2000/09/xmldsig#dsa-sha1",
    "http://www.w3.org/2000/09/xmldsig#hmac-sha1",
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1",
];

/// A response the ACS accepted.
#[derive(Debug, Clone)]
pub(crate) struct Accepted {
    pub login: Login,
}

/// Decode the `SAMLResponse` form value (base64, size-capped, UTF-8).
fn decode(b64: &str) -> Result<String, Rejection> {
    let compact: String = b64.split_ascii_whitespace().collect();
    if compact.len() > xml::MAX_RESPONSE_BYTES / 3 * 4 + 4 {
        return reject(
            Check::Message,
            format!(
                "SAMLResponse is larger than {} bytes",
                xml::MAX_RESPONSE_BYTES
            ),
        );
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .map_err(|e| {
            Rejection::new(
                Check::Message,
                format!("SAMLResponse is not valid base64: {e}"),
            )
        })?;
    String::from_utf8(bytes)
        .map_err(|_| Rejection::new(Check::Message, "SAMLResponse is not UTF-8 XML"))
}

/// Consume a posted `SAMLResponse` for a browser session whose outstanding AuthnRequest IDs
/// are `outstanding`. Returns the login and the request ID it answered.
pub(crate) async fn consume(
    st: &SpState,
    saml_response_b64: &str,
    outstanding: &[String],
) -> (Result<Accepted, Rejection>, Option<String>) {
    let text = match decode(saml_response_b64) {
        Ok(t) => t,
        Err(e) => return (Err(e), None),
    };
    // The DTD flaws (the strict parser refuses any DOCTYPE in `consume_xml`). Each is a
    // pre-pass that reads the DTD as the flawed parser would; `SkipEntityReferences` yields two
    // views of one document: the reader's (references dropped) and the canonicaliser's
    // (references expanded), which only the signature check reads.
    let dtd = |r: Result<String, super::doctype::DoctypeError>| {
        r.map_err(|e| Rejection::new(Check::Doctype, e.to_string()))
    };
    let (text, c14n_view) = if st.has(Flaw::ResolveDoctype) {
        (dtd(super::doctype::resolve(&text).await), None)
    } else if st.has(Flaw::AcceptInternalDtd) {
        (dtd(super::doctype::expand_internal(&text)), None)
    } else if st.has(Flaw::AcceptDtdWithoutEntities) {
        (dtd(super::doctype::strip_entityless(&text)), None)
    } else if st.has(Flaw::IdEntityReferenceDifferential) {
        // The reader's view (IDs and text entity-expanded) and the Reference lookup's (an ID
        // holding an entity reference kept literal), the second only where they differ.
        let expanded = dtd(super::doctype::expand_internal(&text));
        let lookup = dtd(super::doctype::literal_id_view(&text));
        match (expanded, lookup) {
            (Ok(x), Ok(l)) if x != l => (Ok(x), Some(l)),
            (Ok(x), Ok(_)) => (Ok(x), None),
            (Err(e), _) | (_, Err(e)) => (Err(e), None),
        }
    } else if st.has(Flaw::SkipEntityReferences) {
        let expanded = dtd(super::doctype::expand_internal(&text));
        let reader = dtd(super::doctype::drop_entity_references(&text));
        match expanded {
            Ok(x) if x != reader.as_deref().unwrap_or_default() => (reader, Some(x)),
            Ok(_) => (reader, None),
            Err(e) => (Err(e), None),
        }
    } else {
        (Ok(text), None)
    };
    let text = match text {
        Ok(t) => t,
        Err(e) => return (Err(e), None),
    };
    // The `TolerateUndeclaredPrefix` flaw: a document that is not namespace-well-formed is
    // read the way libxml2 recovers it (the strict parser refuses it in `consume_xml`).
    let text = if st.has(Flaw::TolerateUndeclaredPrefix) {
        match super::prefix::declare_undeclared(&text) {
            Ok(t) => t,
            Err(e) => return (Err(Rejection::new(Check::Message, e)), None),
        }
    } else {
        text
    };
    // The `ReserializeBeforeRead` flaw: the message goes through Go's encoding/xml reading,
    // writing and re-reading, and every check reads the result (the strict parser refuses the
    // unstable forms in `consume_xml`).
    let text = if st.has(Flaw::ReserializeBeforeRead) {
        match super::roundtrip::go_round_trip(&text) {
            Ok(t) => t,
            Err(e) => return (Err(Rejection::new(Check::Message, e)), None),
        }
    } else {
        text
    };
    // The `XmldomReserializeBeforeRead` flaw: duplicated attributes are accepted and mean what
    // xmldom 0.4.0's first parse makes of them (the strict parser refuses them in
    // `consume_xml`); the decrypted assertion's round trip is in `decrypt`.
    let text = if st.has(Flaw::XmldomReserializeBeforeRead) {
        match super::xmldom::first_parse(&text) {
            Some(t) => t,
            None => {
                return (
                    Err(Rejection::new(
                        Check::Message,
                        "SAMLResponse is not well-formed XML",
                    )),
                    None,
                );
            }
        }
    } else {
        text
    };
    let now = OffsetDateTime::now_utc();
    let mut answered = None;
    let r = consume_xml(
        st,
        &text,
        c14n_view.as_deref(),
        outstanding,
        now,
        &mut answered,
    );
    (r, answered)
}

/// One assertion candidate: where it sits in the response, and its XML (decrypted).
struct Candidate {
    range: std::ops::Range<usize>,
    xml: String,
    /// Under `IdEntityReferenceDifferential` only: the decrypted document as its Reference
    /// lookup sees it, when its own DTD made that differ from `xml`.
    lookup: Option<String>,
    /// Under `XmldomReserializeBeforeRead` only: the decrypted assertion after xmldom 0.4.0's
    /// serialise → parse, which the reader reads (`xml` is the first parse, verified).
    reread: Option<String>,
}

/// `text` is the document every check reads; `c14n_view`, under the `SkipEntityReferences`
/// flaw only, the same document as its canonicaliser sees it (entities expanded), in which the
/// signature check looks up the assertion it verifies.
fn consume_xml(
    st: &SpState,
    text: &str,
    c14n_view: Option<&str>,
    outstanding: &[String],
    now: OffsetDateTime,
    answered: &mut Option<String>,
) -> Result<Accepted, Rejection> {
    let lenient = if st.has(Flaw::LenientMultipleRoots) {
        lenient_roots(st, text)?
    } else {
        None
    };
    // Under that flaw a signed sibling root stands in for the assertion's own signature.
    let signed_sibling_root = lenient.is_some();
    let text = lenient.as_deref().unwrap_or(text);
    let doc = xml::parse(text).map_err(|e| match e {
        roxmltree::Error::DtdDetected => Rejection::new(
            Check::Doctype,
            "the response contains a DOCTYPE; SAML messages must not have one (XXE / entity expansion), refused unread",
        ),
        other => Rejection::new(Check::Message, format!("SAMLResponse is not well-formed XML: {other}")),
    })?;
    let root = doc.root_element();
    if !is(root, SAMLP, "Response") {
        return reject(
            Check::Message,
            format!("expected samlp:Response, found {}", xml::qname(root)),
        );
    }
    if !st.has(Flaw::SkipMessageChecks) {
        if root.attribute("Version") != Some("2.0") {
            return reject(Check::Message, "Response Version is not 2.0");
        }
        if root.attribute("ID").is_none_or(str::is_empty) {
            return reject(Check::Message, "Response has no ID");
        }
    }
    if st.has(Flaw::RejectSignedResponse) && child(root, DS, "Signature").is_some() {
        return reject(
            Check::Signature,
            "the Response itself is signed; this SP expects only the assertion to be",
        );
    }
    let time = TimePolicy {
        now,
        skew: st.config.clock_skew,
        future_skew: if st.has(Flaw::NoClockSkew) {
            time::Duration::ZERO
        } else {
            st.config.clock_skew
        },
        fractions: !st.has(Flaw::RejectFractionalSeconds),
    };

    // ---- Status ----
    if !st.has(Flaw::IgnoreStatus) {
        let code = child(root, SAMLP, "Status")
            .and_then(|s| child(s, SAMLP, "StatusCode"))
            .and_then(|c| c.attribute("Value"));
        if code != Some(STATUS_SUCCESS) {
            let message = child(root, SAMLP, "Status")
                .and_then(|s| child(s, SAMLP, "StatusMessage"))
                .map(xml::full_text)
                .unwrap_or_default();
            return reject(
                Check::Status,
                format!(
                    "Status is {code:?} ({message:?}), not Success: the login failed at the IdP"
                ),
            );
        }
    }
    // ---- Destination ----
    if !st.has(Flaw::SkipDestination) {
        match root.attribute("Destination") {
            Some(d) if d == st.acs_url => {}
            Some(d) => {
                return reject(
                    Check::Destination,
                    format!(
                        "Destination {d:?} is not this SP's ACS URL {:?}",
                        st.acs_url
                    ),
                );
            }
            None => return reject(Check::Destination, "Response has no Destination"),
        }
    }
    // ---- InResponseTo ----
    let irt = root.attribute("InResponseTo");
    let matched = irt.filter(|i| outstanding.iter().any(|o| o == i));
    *answered = matched.map(str::to_string);
    if !st.has(Flaw::SkipInResponseTo) && matched.is_none() {
        return reject(
            Check::InResponseTo,
            match irt {
                None => "unsolicited response (no InResponseTo); this SP only accepts answers to its own AuthnRequests".to_string(),
                Some(i) => format!("InResponseTo {i:?} is not an AuthnRequest this browser session sent and has not yet had answered"),
            },
        );
    }
    // ---- IssueInstant, Issuer ----
    if !st.has(Flaw::SkipTimeChecks) {
        check_issue_instant(
            root.attribute("IssueInstant"),
            "Response IssueInstant",
            &time,
        )?;
    }
    if !st.has(Flaw::SkipIssuer)
        && let Some(issuer) = child(root, SAML, "Issuer")
    {
        check_issuer(
            issuer,
            "Response",
            &st.idp.entity_id,
            st.has(Flaw::RequireIssuerFormat),
        )?;
    }

    // ---- which assertions ----
    let plaintext = children(root, SAML, "Assertion").count();
    if plaintext > 0 && !st.has(Flaw::AllowPlaintextAssertion) {
        return reject(
            Check::Encryption,
            "the response carries a plaintext saml:Assertion; OIOSAML 3 requires exactly one EncryptedAssertion",
        );
    }
    let naive = st.has(Flaw::FirstAssertion)
        || st.has(Flaw::LastAssertion)
        || st.has(Flaw::IgnoreExtraAssertions)
        || st.has(Flaw::AnySignatureInDocument)
        || st.has(Flaw::IdLookupFirstMatch)
        || st.has(Flaw::IdLookupLastMatch);
    let nodes: Vec<_> = root
        .children()
        .filter(|c| is(*c, SAML, "EncryptedAssertion") || is(*c, SAML, "Assertion"))
        .collect();
    if nodes.is_empty() {
        if st.has(Flaw::SessionWithoutAssertion) {
            // The bug: "logged in" is decided by the Status alone; the identity would have
            // come from the assertion, so the session belongs to nobody.
            return Ok(Accepted {
                login: Login::default(),
            });
        }
        return reject(Check::AssertionCount, "the response carries no assertion");
    }
    if nodes.len() > 1 && !naive {
        return reject(
            Check::AssertionCount,
            format!(
                "the response carries {} assertions; exactly one is allowed",
                nodes.len()
            ),
        );
    }
    // The `AcceptResponseSignature` flaw: a Response signature (its own, over the whole
    // Response as received) is taken to vouch for the assertion inside.
    let response_signed = (st.has(Flaw::AcceptResponseSignature)
        && root_signature_ok(st, root, text))
        || (st.has(Flaw::SignatureScopeByPosition) && signed_by_position(st, root, text));
    let mut candidates = Vec::with_capacity(nodes.len());
    for n in &nodes {
        let (xml, lookup, reread) = if is(*n, SAML, "Assertion") {
            (xml::standalone(*n, text), None, None)
        } else {
            decrypt(st, *n, text)?
        };
        candidates.push(Candidate {
            range: n.range(),
            xml,
            lookup,
            reread,
        });
    }

    // ---- signature, and which assertion is consumed ----
    // The Response with every assertion decrypted in place: what document-wide lookups see.
    let combined = splice(text, &candidates);
    let consumed: String = if st.has(Flaw::AnySignatureInDocument) {
        let combined = splice(text, &candidates);
        if !st.has(Flaw::NoSignatureCheck) {
            any_valid_signature(st, &combined)?;
        }
        let cdoc =
            xml::parse(&combined).map_err(|e| Rejection::new(Check::Message, e.to_string()))?;
        let first = cdoc
            .descendants()
            .find(|n| is(*n, SAML, "Assertion"))
            .ok_or_else(|| Rejection::new(Check::AssertionCount, "no Assertion in the response"))?;
        xml::standalone(first, &combined)
    } else if st.has(Flaw::IgnoreExtraAssertions) {
        // The flaw: several assertions are not refused; the one whose own signature verifies
        // is consumed, the others ignored.
        let combined = splice(text, &candidates);
        let cdoc =
            xml::parse(&combined).map_err(|e| Rejection::new(Check::Message, e.to_string()))?;
        cdoc.descendants()
            .filter(|n| is(*n, SAML, "Assertion"))
            .map(|n| xml::standalone(n, &combined))
            .find(|a| st.has(Flaw::NoSignatureCheck) || verify_assertion(st, a, &combined).is_ok())
            .ok_or_else(|| {
                Rejection::new(
                    Check::Signature,
                    "no assertion in the response carries a valid signature of its own",
                )
            })?
    } else if st.has(Flaw::IdLookupFirstMatch) || st.has(Flaw::IdLookupLastMatch) {
        id_lookup_consume(st, &combined, st.has(Flaw::IdLookupLastMatch))?
    } else if (st.has(Flaw::FirstAssertion) || st.has(Flaw::LastAssertion)) && candidates.len() > 1
    {
        if !st.has(Flaw::NoSignatureCheck) {
            let signed = candidates
                .iter()
                .find(|c| {
                    xml::parse(&c.xml)
                        .is_ok_and(|d| child(d.root_element(), DS, "Signature").is_some())
                })
                .ok_or_else(|| {
                    Rejection::new(Check::Signature, "none of the assertions is signed")
                })?;
            verify_assertion(st, &signed.xml, &combined)?;
        }
        if st.has(Flaw::FirstAssertion) {
            candidates.swap_remove(0).xml
        } else {
            candidates.pop().map(|c| c.xml).unwrap_or_default()
        }
    } else if let Some(reread) = candidates[0].reread.take() {
        // The `XmldomReserializeBeforeRead` flaw: the SAML assertion of the first parse is
        // verified; the reader reads the root of the re-parsed serialisation.
        let first = candidates.swap_remove(0).xml;
        let verified = super::prefix::verifier_view(&first).ok_or_else(|| {
            Rejection::new(
                Check::Signature,
                "the decrypted assertion holds no SAML assertion to verify",
            )
        })?;
        if !st.has(Flaw::NoSignatureCheck) && !response_signed && !signed_sibling_root {
            verify_assertion(st, &verified, &combined)?;
        }
        reread
    } else {
        let only = candidates.swap_remove(0);
        let (only, decrypted_lookup) = (only.xml, only.lookup);
        // The `MatchByPrefix` flaw: the verifier's namespace-aware view of the decrypted
        // assertion (its first element that is a SAML Assertion) is verified, the reader's
        // prefix view (the root named `saml:Assertion`) consumed.
        let (verified, only) = if st.has(Flaw::MatchByPrefix) {
            let verified = super::prefix::verifier_view(&only).ok_or_else(|| {
                Rejection::new(
                    Check::Signature,
                    "the decrypted assertion holds no SAML assertion to verify",
                )
            })?;
            (verified, super::prefix::reader_view(&only))
        } else {
            (only.clone(), only)
        };
        if !st.has(Flaw::NoSignatureCheck) && !response_signed && !signed_sibling_root {
            if st.has(Flaw::FirstSignatureInScope) {
                first_signature_in_scope(st, &combined)?;
            } else if st.has(Flaw::IdEntityReferenceDifferential)
                && let Some(view) = decrypted_lookup.as_deref().or(c14n_view)
            {
                literal_id_lookup(st, &verified, view)?;
            } else if let Some(view) = c14n_view {
                verify_assertion(st, &canonicaliser_copy(&verified, view)?, view)?;
            } else {
                verify_assertion(st, &verified, &combined)?;
            }
        }
        only
    };

    // ---- the assertion ----
    let adoc = xml::parse(&consumed)
        .map_err(|e| Rejection::new(Check::Message, format!("assertion XML: {e}")))?;
    let expect = Expect {
        flaws: &st.config.flaws,
        idp_entity_id: &st.idp.entity_id,
        sp_entity_id: &st.entity_id,
        acs_url: &st.acs_url,
        in_response_to: matched,
        time,
        required_loa: st.config.required_loa,
        private_sp: st.config.private_sp,
        required_privilege: st.config.required_privilege.as_deref(),
        oiosaml4: st.config.oiosaml4.as_ref().map(|o| assertion::Expect4 {
            requested_profiles: o.requested_profiles.iter().map(|p| p.uri()).collect(),
            spec_version: &o.spec_version,
        }),
    };
    let (login, remember_until) = assertion::validate(adoc.root_element(), &expect)?;

    // ---- replay ----
    if !st.has(Flaw::NoReplayCache) {
        if st.sessions.seen(&login.assertion_id, now) {
            return reject(
                Check::Replay,
                format!(
                    "assertion {} was already consumed: a replayed response",
                    login.assertion_id
                ),
            );
        }
        st.sessions
            .remember(&login.assertion_id, remember_until, now);
    }
    Ok(Accepted { login })
}

/// `SkipEntityReferences`: the assertion the reader chose (`assertion_xml`), as the
/// canonicaliser sees it: the top-level assertion with the same ID in the entity-expanded
/// `view`. Signature verification digests this copy; the reader goes on with its own.
fn canonicaliser_copy(assertion_xml: &str, view: &str) -> Result<String, Rejection> {
    let read = xml::parse(assertion_xml)
        .map_err(|e| Rejection::new(Check::Message, format!("assertion XML: {e}")))?;
    let id = read.root_element().attribute("ID").unwrap_or_default();
    let vdoc = xml::parse(view).map_err(|e| {
        Rejection::new(
            Check::Message,
            format!("the entity-expanded response is not well-formed XML: {e}"),
        )
    })?;
    vdoc.root_element()
        .children()
        .find(|n| is(*n, SAML, "Assertion") && n.attribute("ID") == Some(id))
        .map(|n| xml::standalone(n, view))
        .ok_or_else(|| {
            Rejection::new(
                Check::Signature,
                format!("no assertion with ID {id:?} in the canonicaliser's view"),
            )
        })
}

/// Decrypt one EncryptedAssertion: exactly one EncryptedData, decrypting to exactly one
/// saml:Assertion element. The second value is the `IdEntityReferenceDifferential` flaw's
/// Reference-lookup view of the decrypted document, where its own DTD made one differ; the
/// third the `XmldomReserializeBeforeRead` reader's view (both `None` without those flaws).
fn decrypt(
    st: &SpState,
    encrypted_assertion: roxmltree::Node<'_, '_>,
    text: &str,
) -> Result<(String, Option<String>, Option<String>), Rejection> {
    let eds: Vec<_> = children(encrypted_assertion, XENC, "EncryptedData").collect();
    let [ed] = eds.as_slice() else {
        return reject(
            Check::Decryption,
            format!(
                "EncryptedAssertion holds {} EncryptedData elements; exactly one is required",
                eds.len()
            ),
        );
    };
    let plain = st
        .crypto
        .decrypt(&xml::standalone(*ed, text))
        .map_err(|e| {
            Rejection::new(
                Check::Decryption,
                format!("cannot decrypt the EncryptedAssertion: {e}"),
            )
        })?;
    if st.has(Flaw::XmldomReserializeBeforeRead) {
        return decrypt_xmldom(&plain).map(|(first, reread)| (first, None, Some(reread)));
    }
    // The `IdEntityReferenceDifferential` flaw parses the decrypted document as it parses the
    // message: a DTD of its own is read (xmlseclibs before 4.0.0 loaded decrypted XML with
    // DTDs allowed; commit 35ea7ec added the refusal), the two views taken apart.
    let (plain, lookup) = if st.has(Flaw::IdEntityReferenceDifferential) {
        let dtd = |r: Result<String, super::doctype::DoctypeError>| {
            r.map_err(|e| Rejection::new(Check::Decryption, e.to_string()))
        };
        let expanded = dtd(super::doctype::expand_internal(&plain))?;
        let lookup = dtd(super::doctype::literal_id_view(&plain))?;
        let lookup = (lookup != expanded).then_some(lookup);
        (expanded, lookup)
    } else {
        (plain, None)
    };
    let pdoc = xml::parse(&plain).map_err(|e| {
        Rejection::new(
            Check::Decryption,
            format!("the EncryptedAssertion does not decrypt to one XML element: {e}"),
        )
    })?;
    // The `MatchByPrefix` flaw takes an element named `saml:Assertion` for the assertion,
    // whatever its namespace, and refuses one that is one under another prefix.
    if st.has(Flaw::MatchByPrefix) {
        let name = super::prefix::qualified_name(pdoc.root_element(), &plain);
        if name != "saml:Assertion" {
            return reject(
                Check::Decryption,
                format!("the EncryptedAssertion decrypts to {name}, not a saml:Assertion"),
            );
        }
    } else if !is(pdoc.root_element(), SAML, "Assertion") {
        return reject(
            Check::Decryption,
            format!(
                "the EncryptedAssertion decrypts to {}, not a saml:Assertion",
                xml::qname(pdoc.root_element())
            ),
        );
    }
    Ok((plain, lookup, None))
}

/// `XmldomReserializeBeforeRead`: the decrypted assertion as xmldom 0.4.0 parses it (verified)
/// and after its serialise → parse (read). Like passport-saml's local-name selection of the
/// decrypted root, the first parse only needs a root named `Assertion`; the reader's root must
/// be a SAML assertion.
fn decrypt_xmldom(plain: &str) -> Result<(String, String), Rejection> {
    let not_wf = || {
        Rejection::new(
            Check::Decryption,
            "the EncryptedAssertion does not decrypt to one XML element",
        )
    };
    let first = super::xmldom::first_parse(plain).ok_or_else(not_wf)?;
    let reread = super::xmldom::round_trip(plain).ok_or_else(not_wf)?;
    let fdoc = xml::parse(&first).map_err(|e| {
        Rejection::new(
            Check::Decryption,
            format!("the EncryptedAssertion does not decrypt to one XML element: {e}"),
        )
    })?;
    if fdoc.root_element().tag_name().name() != "Assertion" {
        return reject(
            Check::Decryption,
            format!(
                "the EncryptedAssertion decrypts to {}, not an Assertion",
                xml::qname(fdoc.root_element())
            ),
        );
    }
    let rdoc = xml::parse(&reread).map_err(|e| {
        Rejection::new(
            Check::Decryption,
            format!("the re-parsed assertion is not well-formed XML: {e}"),
        )
    })?;
    if !is(rdoc.root_element(), SAML, "Assertion") {
        return reject(
            Check::Decryption,
            format!(
                "the re-parsed assertion is {}, not a saml:Assertion",
                xml::qname(rdoc.root_element())
            ),
        );
    }
    Ok((first, reread))
}

/// The strict signature rule: the Assertion element itself carries exactly one ds:Signature,
/// whose single Reference points at the Assertion's own ID, with no SHA-1, and which xml-sec
/// verifies with an IdP metadata key and proves to cover the Assertion (expected target).
/// `document` is the Response with the assertions decrypted in place, which only the
/// home-grown verifier's document-wide lookups read.
fn verify_assertion(st: &SpState, assertion_xml: &str, document: &str) -> Result<(), Rejection> {
    let doc =
        xml::parse(assertion_xml).map_err(|e| Rejection::new(Check::Message, e.to_string()))?;
    let a = doc.root_element();
    let id = a.attribute("ID").unwrap_or_default();
    let sigs: Vec<_> = children(a, DS, "Signature").collect();
    if st.has(Flaw::SkipUnresolvableSignatures) && skips_every_signature(&doc, &sigs) {
        return Ok(());
    }
    let sig = match sigs.as_slice() {
        [] => {
            return reject(
                Check::Signature,
                "the Assertion is not signed; OIOSAML 3: \"The Assertion within the response MUST be directly signed\"",
            );
        }
        [s] => *s,
        _ => {
            return reject(
                Check::Signature,
                "the Assertion carries more than one Signature",
            );
        }
    };
    let algorithms: Vec<&str> = sig
        .descendants()
        .filter(|n| is(*n, DS, "SignatureMethod") || is(*n, DS, "DigestMethod"))
        .filter_map(|n| n.attribute("Algorithm"))
        .collect();
    if !st.has(Flaw::AcceptSha1)
        && let Some(weak) = algorithms.iter().find(|a| SHA1_ALGORITHMS.contains(a))
    {
        return reject(
            Check::SignatureAlgorithm,
            format!("the signature uses {weak}; SHA-1 is refused (use RSA-SHA256 / SHA-256)"),
        );
    }
    let references: Vec<&str> = sig
        .descendants()
        .filter(|n| is(*n, DS, "Reference"))
        .map(|r| r.attribute("URI").unwrap_or(""))
        .collect();
    let naive = if st.has(Flaw::ReferencesFromAnySignedInfo) {
        Some(super::naive_dsig::Bug::ReferencesFromLastSignedInfo)
    } else if st.has(Flaw::DigestValueFirstChild) {
        Some(super::naive_dsig::Bug::DigestValueFirstChild)
    } else {
        issue13_naive_bug(st, document)
    };
    let own_reference = format!("#{id}");
    let references_ok = match naive {
        // The home-grown verifier only asks that every Reference points at this Assertion.
        Some(_) => !references.is_empty() && references.iter().all(|r| *r == own_reference),
        None => references == [own_reference.as_str()],
    };
    if !references_ok {
        return reject(
            Check::Signature,
            format!("the signature references {references:?}, not this Assertion (#{id})"),
        );
    }
    let method = child(sig, DS, "SignedInfo")
        .and_then(|si| child(si, DS, "SignatureMethod"))
        .and_then(|m| m.attribute("Algorithm"))
        .ok_or_else(|| {
            Rejection::new(
                Check::Signature,
                "the signature has no SignedInfo/SignatureMethod",
            )
        })?;
    let keys: Vec<Vec<u8>> = if st.has(Flaw::TrustKeyInfo) {
        vec![key_info_key(sig)?]
    } else {
        let take = if st.has(Flaw::FirstMetadataKeyOnly) {
            1
        } else {
            usize::MAX
        };
        st.idp
            .signing_certs
            .iter()
            .take(take)
            .map(|c| c.spki.clone())
            .collect()
    };
    if let Some(bug) = naive {
        let certs_der: Vec<Vec<u8>> = st.idp.signing_certs.iter().map(|c| c.der.clone()).collect();
        let idp_keys = super::naive_dsig::IdpKeys {
            spki: &keys,
            certs_der: &certs_der,
        };
        return super::naive_dsig::verify(assertion_xml, document, idp_keys, bug)
            .map_err(|e| Rejection::new(Check::Signature, format!("assertion signature: {e}")));
    }
    if !st.has(Flaw::DescendantSearch) {
        signature_shape(sig)?;
    }
    let policy = if st.has(Flaw::AcceptSha1) {
        VerifyPolicy::Compatible
    } else {
        VerifyPolicy::SecureSaml
    };
    st.crypto
        .verify_target(
            assertion_xml,
            None,
            method,
            &keys,
            policy,
            SignatureRequirement::All,
        )
        .map_err(|e| Rejection::new(Check::Signature, format!("assertion signature: {e}")))
}

/// The SAML profile of an assertion Signature: `SignedInfo`, `SignatureValue` and at most one
/// `KeyInfo` holding XML-DSig elements only. XML-DSig itself allows a `ds:Object` with any
/// content and foreign elements in `KeyInfo`; both sit outside what an enveloped signature
/// covers, NemLog-in never sends either, and a reader that searches the assertion's
/// descendants would take what is smuggled there for signed (passport-wsfed-saml2
/// CVE-2025-46573). Refusing them keeps the signed assertion exactly what was signed.
fn signature_shape(sig: roxmltree::Node<'_, '_>) -> Result<(), Rejection> {
    let names: Vec<String> = sig
        .children()
        .filter(|n| n.is_element())
        .map(xml::qname)
        .collect();
    let allowed = |i: usize, n: roxmltree::Node<'_, '_>| match i {
        0 => is(n, DS, "SignedInfo"),
        1 => is(n, DS, "SignatureValue"),
        2 => is(n, DS, "KeyInfo"),
        _ => false,
    };
    if sig
        .children()
        .filter(|n| n.is_element())
        .enumerate()
        .any(|(i, n)| !allowed(i, n))
    {
        return reject(
            Check::Signature,
            format!(
                "the assertion's Signature holds {names:?}; only SignedInfo, SignatureValue and KeyInfo belong there (no ds:Object)"
            ),
        );
    }
    if let Some(foreign) = children(sig, DS, "KeyInfo")
        .flat_map(|k| k.descendants().skip(1))
        .find(|n| n.is_element() && n.tag_name().namespace() != Some(DS))
    {
        return reject(
            Check::Signature,
            format!(
                "the assertion's KeyInfo holds {}, which is not XML-DSig key information",
                xml::qname(foreign)
            ),
        );
    }
    Ok(())
}

/// The `TrustKeyInfo` flaw: the public key (SPKI DER) the signature offers itself, from an
/// X.509 certificate or, as xmlsec1 also takes unless `--enabled-key-data` restricts it, a bare
/// `ds:RSAKeyValue` (CVE-2021-21239, pysaml2 < 6.5.0).
fn key_info_key(sig: roxmltree::Node<'_, '_>) -> Result<Vec<u8>, Rejection> {
    let bad =
        |what: &str, e: String| Rejection::new(Check::Signature, format!("KeyInfo {what}: {e}"));
    if let Some(cert) = sig.descendants().find(|n| is(*n, DS, "X509Certificate")) {
        let der = base64_of(cert).map_err(|e| bad("certificate", e))?;
        return super::idp_metadata::spki_of(&der).map_err(|e| bad("certificate", e));
    }
    if let Some(rsa) = sig.descendants().find(|n| is(*n, DS, "RSAKeyValue")) {
        let part = |name: &str| {
            child(rsa, DS, name)
                .ok_or_else(|| format!("RSAKeyValue has no {name}"))
                .and_then(base64_of)
                .map_err(|e| bad("key value", e))
        };
        return Ok(super::idp_metadata::rsa_spki(
            &part("Modulus")?,
            &part("Exponent")?,
        ));
    }
    reject(
        Check::Signature,
        "the signature has no KeyInfo certificate or key value to trust",
    )
}

/// The base64 content of an element (XML-DSig allows whitespace inside it).
fn base64_of(n: roxmltree::Node<'_, '_>) -> Result<Vec<u8>, String> {
    let text: String = xml::full_text(n).split_whitespace().collect();
    base64::engine::general_purpose::STANDARD
        .decode(text.as_bytes())
        .map_err(|e| e.to_string())
}

/// The `LenientMultipleRoots` flaw, as xmldom < 0.7.7 under passport-saml < 3.2.2: text with
/// several top-level elements is read anyway; it counts as signed when *some* top-level element
/// carries a valid IdP signature over itself (passport-saml checked "the document element"),
/// and the Response consumed is the last top-level one (what `/*[local-name()='Response']`
/// finds). Returns that Response as a standalone document, or `None` when the text does not
/// have several top-level elements (then the normal parse alone decides, strictly).
fn lenient_roots(st: &SpState, text: &str) -> Result<Option<String>, Rejection> {
    let body = text.trim_start();
    let body = match body.strip_prefix("<?xml") {
        Some(rest) => rest.split_once("?>").map_or(body, |(_, after)| after),
        None => body,
    };
    let wrapped = format!("<lenient-roots>{body}</lenient-roots>");
    let Ok(doc) = xml::parse(&wrapped) else {
        return Ok(None);
    };
    let roots: Vec<_> = doc
        .root_element()
        .children()
        .filter(|n| n.is_element())
        .collect();
    if roots.len() < 2 {
        return Ok(None);
    }
    let signed = |r: &roxmltree::Node<'_, '_>| {
        let alone = xml::standalone(*r, &wrapped);
        xml::parse(&alone).is_ok_and(|d| root_signature_ok(st, d.root_element(), &alone))
    };
    if !st.has(Flaw::NoSignatureCheck) && !roots.iter().any(signed) {
        return reject(
            Check::Signature,
            format!(
                "none of the {} top-level elements carries a valid IdP signature",
                roots.len()
            ),
        );
    }
    let response = roots
        .iter()
        .rev()
        .find(|r| is(**r, SAMLP, "Response"))
        .ok_or_else(|| Rejection::new(Check::Message, "no top-level samlp:Response"))?;
    Ok(Some(xml::standalone(*response, &wrapped)))
}

/// Whether the document's root element (a Response; under `LenientMultipleRoots`, any
/// top-level element) carries its own valid IdP signature: a direct child `ds:Signature`
/// referencing the element's ID, verified by xml-sec over the document as received.
fn root_signature_ok(st: &SpState, root: roxmltree::Node<'_, '_>, text: &str) -> bool {
    let Some(sig) = child(root, DS, "Signature") else {
        return false;
    };
    let own = format!("#{}", root.attribute("ID").unwrap_or_default());
    let refs: Vec<&str> = sig
        .descendants()
        .filter(|n| is(*n, DS, "Reference"))
        .map(|r| r.attribute("URI").unwrap_or(""))
        .collect();
    let Some(method) = child(sig, DS, "SignedInfo")
        .and_then(|si| child(si, DS, "SignatureMethod"))
        .and_then(|m| m.attribute("Algorithm"))
    else {
        return false;
    };
    let keys = idp_keys(st);
    refs == [own.as_str()]
        && st
            .crypto
            .verify_target(
                text,
                None,
                method,
                &keys,
                VerifyPolicy::SecureSaml,
                SignatureRequirement::All,
            )
            .is_ok()
}

/// Every signing key of the IdP metadata (SPKI DER), current and next.
fn idp_keys(st: &SpState) -> Vec<Vec<u8>> {
    st.idp
        .signing_certs
        .iter()
        .map(|c| c.spki.clone())
        .collect()
}

/// The response with each assertion candidate (decrypted) in place of its EncryptedAssertion.
fn splice(text: &str, candidates: &[Candidate]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for c in candidates {
        out.push_str(&text[at..c.range.start]);
        out.push_str(&c.xml);
        at = c.range.end;
    }
    out.push_str(&text[at..]);
    out
}

/// The `AnySignatureInDocument` flaw: is there a valid IdP signature over *anything* in the
/// document? Which element it covers, and where that element sits, is not asked: that is the
/// bug. Like the implementations "On Breaking SAML" broke, the referenced element is looked up
/// by ID wherever it is (inside the Signature, in an Object, in Extensions, in another
/// assertion) and the signature is checked over a copy of it with the Signature enveloped in it,
/// so every signature-wrapping placement of the genuine signed element validates.
fn any_valid_signature(st: &SpState, combined: &str) -> Result<(), Rejection> {
    let doc = xml::parse(combined).map_err(|e| Rejection::new(Check::Message, e.to_string()))?;
    let keys = idp_keys(st);
    let policy = if st.has(Flaw::AcceptSha1) {
        VerifyPolicy::Compatible
    } else {
        VerifyPolicy::Modern
    };
    let is_sig_part = |n: roxmltree::Node<'_, '_>| {
        is(n, DS, "SignedInfo") || is(n, DS, "SignatureValue") || is(n, DS, "KeyInfo")
    };
    for sig in doc.descendants().filter(|n| is(*n, DS, "Signature")) {
        let Some(si) = child(sig, DS, "SignedInfo") else {
            continue;
        };
        let Some(method) = child(si, DS, "SignatureMethod").and_then(|m| m.attribute("Algorithm"))
        else {
            continue;
        };
        for r in children(si, DS, "Reference") {
            let Some(id) = r.attribute("URI").and_then(|u| u.strip_prefix('#')) else {
                continue;
            };
            let targets: Vec<_> = doc
                .descendants()
                .filter(|n| n.is_element() && n.attribute("ID") == Some(id))
                .collect();
            let [target] = targets.as_slice() else {
                continue;
            };
            // The signed element with only this Signature enveloped in it.
            let signature = xml::standalone_without(sig, combined, |c| !is_sig_part(c));
            let element = xml::standalone_without(*target, combined, |c| is(c, DS, "Signature"));
            let rebuilt = xml::insert_after_start_tag(&element, &signature);
            if st
                .crypto
                .verify_target(
                    &rebuilt,
                    None,
                    method,
                    &keys,
                    policy,
                    SignatureRequirement::AtLeast(1),
                )
                .is_ok()
            {
                return Ok(());
            }
        }
    }
    reject(
        Check::Signature,
        "no valid IdP signature anywhere in the response",
    )
}

// ---- issue 13: the library mistakes behind published SAML bypass advisories ----

/// The home-grown verifier's slip for the issue-13 flaws that use it. `DigestValueFromDocument`
/// models ruby-saml's path for an unsigned Response (NemLog-in's normal case); for a signed
/// Response ruby-saml verifies that signature over the original document instead, a path this
/// flaw leaves strict.
fn issue13_naive_bug(st: &SpState, document: &str) -> Option<super::naive_dsig::Bug> {
    use super::naive_dsig::{Bug, KeyForm};
    let forms = [
        (Flaw::HmacWithIdpCertPem, KeyForm::CertPem),
        (Flaw::HmacWithIdpCertBase64, KeyForm::CertBase64),
        (Flaw::HmacWithIdpCertDer, KeyForm::CertDer),
        (Flaw::HmacWithIdpSpkiPem, KeyForm::SpkiPem),
    ];
    let response_signed =
        || xml::parse(document).is_ok_and(|d| child(d.root_element(), DS, "Signature").is_some());
    if st.has(Flaw::DigestValueFromDocument) && !response_signed() {
        Some(Bug::DigestValueFromDocument)
    } else if st.has(Flaw::VerifyErrorAsSuccess) {
        Some(Bug::VerifyErrorAsSuccess)
    } else if st.has(Flaw::C14nErrorAsEmpty) {
        Some(Bug::C14nErrorAsEmpty)
    } else if st.has(Flaw::PiFlatteningC14n) {
        Some(Bug::PiAsText)
    } else {
        forms
            .iter()
            .find(|(f, _)| st.has(*f))
            .map(|(_, form)| Bug::HmacWithIdpCert(*form))
    }
}

/// The Reference URIs anywhere inside a Signature.
fn reference_uris<'a>(sig: roxmltree::Node<'a, '_>) -> Vec<&'a str> {
    sig.descendants()
        .filter(|n| is(*n, DS, "Reference"))
        .map(|r| r.attribute("URI").unwrap_or(""))
        .collect()
}

/// Does `sig` (one Reference, no SHA-1 unless allowed) verify with an IdP key over `target`,
/// wherever each of them sits in `text`? The target is checked as a copy with only this
/// Signature enveloped in it, which is what a verifier that resolves the Reference by ID
/// anywhere in the document computes; a target *inside* the Signature is refused, because the
/// enveloped-signature transform would strip it.
fn detached_verifies(
    st: &SpState,
    text: &str,
    sig: roxmltree::Node<'_, '_>,
    target: roxmltree::Node<'_, '_>,
) -> bool {
    if target.ancestors().any(|a| a.id() == sig.id()) || reference_uris(sig).len() != 1 {
        return false;
    }
    let weak = sig
        .descendants()
        .filter(|n| is(*n, DS, "SignatureMethod") || is(*n, DS, "DigestMethod"))
        .filter_map(|n| n.attribute("Algorithm"))
        .any(|a| SHA1_ALGORITHMS.contains(&a));
    if weak && !st.has(Flaw::AcceptSha1) {
        return false;
    }
    let Some(method) = child(sig, DS, "SignedInfo")
        .and_then(|si| child(si, DS, "SignatureMethod"))
        .and_then(|m| m.attribute("Algorithm"))
    else {
        return false;
    };
    let is_sig_part = |n: roxmltree::Node<'_, '_>| {
        is(n, DS, "SignedInfo") || is(n, DS, "SignatureValue") || is(n, DS, "KeyInfo")
    };
    let signature = xml::standalone_without(sig, text, |c| !is_sig_part(c));
    let element = xml::standalone_without(target, text, |c| is(c, DS, "Signature"));
    let rebuilt = xml::insert_after_start_tag(&element, &signature);
    let policy = if st.has(Flaw::AcceptSha1) {
        VerifyPolicy::Compatible
    } else {
        VerifyPolicy::SecureSaml
    };
    st.crypto
        .verify_target(
            &rebuilt,
            None,
            method,
            &idp_keys(st),
            policy,
            SignatureRequirement::AtLeast(1),
        )
        .is_ok()
}

/// The elements of `doc` whose `ID` attribute is `id`, in document order.
fn with_id<'a, 'i>(doc: &'a roxmltree::Document<'i>, id: &str) -> Vec<roxmltree::Node<'a, 'i>> {
    doc.descendants()
        .filter(|n| n.is_element() && n.attribute("ID") == Some(id))
        .collect()
}

/// The `IdLookupFirstMatch` / `IdLookupLastMatch` flaws (node-saml 5.0.1, XML::Sig < 0.68):
/// consume `/Response/Assertion[1]`; take the first Signature in the document whose one
/// Reference names its ID; resolve that ID through a map that keeps the first (`last`: the
/// last) element registered under it, never asking whether the ID is unique.
fn id_lookup_consume(st: &SpState, combined: &str, last: bool) -> Result<String, Rejection> {
    let doc = xml::parse(combined).map_err(|e| Rejection::new(Check::Message, e.to_string()))?;
    let consumed = children(doc.root_element(), SAML, "Assertion")
        .next()
        .ok_or_else(|| Rejection::new(Check::AssertionCount, "no Assertion in the response"))?;
    let out = xml::standalone(consumed, combined);
    if st.has(Flaw::NoSignatureCheck) {
        return Ok(out);
    }
    let id = consumed.attribute("ID").unwrap_or_default();
    let own = format!("#{id}");
    let sig = doc
        .descendants()
        .filter(|n| is(*n, DS, "Signature"))
        .find(|s| reference_uris(*s) == [own.as_str()])
        .ok_or_else(|| {
            Rejection::new(Check::Signature, format!("no Signature references #{id}"))
        })?;
    let targets = with_id(&doc, id);
    let target = if last {
        targets.last()
    } else {
        targets.first()
    };
    match target {
        Some(t) if detached_verifies(st, combined, sig, *t) => Ok(out),
        _ => reject(
            Check::Signature,
            format!("the Signature referencing #{id} does not verify"),
        ),
    }
}

/// The `IdEntityReferenceDifferential` flaw's signature check (xmlseclibs < 4.0.0 over libxml2
/// without entity substitution, under an SP with the duplicate-ID fixes): the consumed
/// assertion's ID is read entity-expanded (`getAttribute`); some Signature in the document
/// must have one Reference naming it; that Reference is resolved in `view`, where an ID written
/// as an entity reference stays literal (the XPath lookup), and must find exactly one element,
/// over which the Signature verifies. An evil assertion whose `ID="&i;"` expands to the signed
/// ID passes both checks, and the lookup finds only the genuine assertion.
fn literal_id_lookup(st: &SpState, assertion_xml: &str, view: &str) -> Result<(), Rejection> {
    let read = xml::parse(assertion_xml)
        .map_err(|e| Rejection::new(Check::Message, format!("assertion XML: {e}")))?;
    let id = read.root_element().attribute("ID").unwrap_or_default();
    let doc = xml::parse(view).map_err(|e| {
        Rejection::new(
            Check::Message,
            format!("the Reference lookup's view is not well-formed XML: {e}"),
        )
    })?;
    let own = format!("#{id}");
    let sig = doc
        .descendants()
        .filter(|n| is(*n, DS, "Signature"))
        .find(|s| reference_uris(*s) == [own.as_str()])
        .ok_or_else(|| {
            Rejection::new(Check::Signature, format!("no Signature references #{id}"))
        })?;
    match with_id(&doc, id).as_slice() {
        [target] if detached_verifies(st, view, sig, *target) => Ok(()),
        [_] => reject(
            Check::Signature,
            format!("the Signature referencing #{id} does not verify"),
        ),
        found => reject(
            Check::Signature,
            format!(
                "ID {id:?} resolves to {} elements; exactly one is required",
                found.len()
            ),
        ),
    }
}

/// The `FirstSignatureInScope` flaw (pysaml2 < 6.5.0 over xmlsec1): the consumed assertion
/// must have a Signature child; the first Signature inside it is verified with the Reference
/// resolved anywhere in the document (xmlsec1 `--id-attr:ID`, which refuses duplicate IDs),
/// and nobody asks whether that Reference names this assertion.
fn first_signature_in_scope(st: &SpState, combined: &str) -> Result<(), Rejection> {
    let doc = xml::parse(combined).map_err(|e| Rejection::new(Check::Message, e.to_string()))?;
    let consumed = children(doc.root_element(), SAML, "Assertion")
        .next()
        .ok_or_else(|| Rejection::new(Check::AssertionCount, "no Assertion in the response"))?;
    if child(consumed, DS, "Signature").is_none() {
        return reject(Check::Signature, "the Assertion is not signed");
    }
    let sig = consumed
        .descendants()
        .find(|n| is(*n, DS, "Signature"))
        .ok_or_else(|| Rejection::new(Check::Signature, "the Assertion is not signed"))?;
    let id = reference_uris(sig)
        .first()
        .and_then(|u| u.strip_prefix('#'))
        .unwrap_or_default()
        .to_string();
    match with_id(&doc, &id).as_slice() {
        [target] if detached_verifies(st, combined, sig, *target) => Ok(()),
        _ => reject(
            Check::Signature,
            "the first Signature in the assertion does not verify",
        ),
    }
}

/// The `SignatureScopeByPosition` flaw (Keycloak < 25.0.6): the Response counts as signed when
/// a ds:Signature child of the root verifies over whatever (unique) element its Reference
/// names, which need not be the root.
fn signed_by_position(st: &SpState, root: roxmltree::Node<'_, '_>, text: &str) -> bool {
    let Some(sig) = child(root, DS, "Signature") else {
        return false;
    };
    let Some(id) = reference_uris(sig)
        .first()
        .and_then(|u| u.strip_prefix('#'))
        .map(str::to_string)
    else {
        return false;
    };
    let targets: Vec<_> = root
        .document()
        .descendants()
        .filter(|n| n.is_element() && n.attribute("ID") == Some(id.as_str()))
        .collect();
    matches!(targets.as_slice(), [t] if detached_verifies(st, text, sig, *t))
}

/// The `SkipUnresolvableSignatures` flaw (XML::Sig < 0.72): with several Signatures, one whose
/// Reference names no element is skipped (`next`), and a loop that skipped every Signature
/// ends in "verified".
fn skips_every_signature(doc: &roxmltree::Document<'_>, sigs: &[roxmltree::Node<'_, '_>]) -> bool {
    let resolves = |uri: &str| {
        uri.strip_prefix('#')
            .is_some_and(|id| !with_id(doc, id).is_empty())
    };
    sigs.len() > 1
        && sigs
            .iter()
            .all(|s| reference_uris(*s).iter().all(|u| !resolves(u)))
}
