//! The deliberate weaknesses a reference SP can be started with.
//!
//! A scenario is only worth having if some plausible SP bug makes it fail; a flaw is that bug,
//! switched on. Each flaw weakens exactly one [`Check`] (or, for the identity-mapping and
//! error-page flaws, how the SP reports a login), so "the flawed SP fails exactly the scenarios
//! of its flaw" is a meaningful statement. Flaws combine: a `Vec`/set of them models an SP with
//! several bugs (a replayed response, for example, is only accepted by an SP that has neither a
//! replay cache nor an InResponseTo check, because both defend against it).
//!
//! Adding a flaw: add a variant (doc comment = the realistic bug it models), give it an id,
//! a description and the check it weakens below, add it to [`Flaw::ALL`], and test
//! `state.has(Flaw::X)` at the one place in `acs.rs` / `assertion.rs` where the check lives.

use super::check::Check;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// One switchable weakness of the reference SP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Flaw {
    /// Resolves a DOCTYPE's external entities (fetches the SYSTEM URL on loopback and
    /// substitutes it), as an XXE-vulnerable parser does, then carries on.
    ResolveDoctype,
    /// Parses a DOCTYPE's internal subset and expands its internal entities, refusing only
    /// external entities: the libxml2/Nokogiri configuration with network and external
    /// entity loading off but DTDs still accepted (ruby-saml before CVE-2025-25291's fix,
    /// XMLTooling before CVE-2018-0486's). Internal entities change what the reader sees.
    AcceptInternalDtd,
    /// Accepts a DOCTYPE that declares no entity (bare, `<!ATTLIST>`, comments), refusing only
    /// one that contains `<!ENTITY`: the "look for entity declarations" check in place of
    /// refusing every DTD (defusedxml's defaults, `forbid_dtd=False, forbid_entities=True`), so
    /// an `<!ATTLIST>` (which can declare ID attributes) gets through.
    AcceptDtdWithoutEntities,
    /// Accepts internal DTD subsets (external entities refused) and reads the document through
    /// two views: the canonicaliser expands entity references, so the signature verifies over
    /// the expanded text, while the reader drops the entity-reference nodes and reads only the
    /// text around them (XMLTooling before CVE-2018-0486's fix: Xerces kept the references as
    /// nodes and the unmarshaller read only Text children). A signed value with an entity in it
    /// reaches the application truncated.
    SkipEntityReferences,
    /// Accepts internal DTD subsets (external entities refused), on the message and in what it
    /// decrypts, and reads the document as libxml2 does without entity substitution (PHP's
    /// `DOMDocument::loadXML` default) under an SP that has the XSW fixes but not the DOCTYPE
    /// refusal: `getAttribute("ID")` and text are read entity-expanded, while the Reference
    /// lookup `//*[@ID="…"]` (and its uniqueness check) compares the literal attribute value,
    /// in which an entity reference never matches (`xmlXPathNodeValHash`). It consumes the
    /// Response's assertion, requires a Signature whose one Reference names that assertion's
    /// (expanded) ID and resolves to exactly one element, and verifies that element:
    /// xmlseclibs before 4.0.0 (GHSA-9wcx-p7hr-f935, fix 621a61c), GitHub Enterprise Server
    /// before CVE-2025-23369's fix.
    IdEntityReferenceDifferential,
    /// Ignores `samlp:Status`: an error response that still carries an assertion logs in.
    IgnoreStatus,
    /// Does not compare `Response/@Destination` with its ACS URL.
    SkipDestination,
    /// Does not check `InResponseTo` at all: unsolicited and cross-session responses log in.
    SkipInResponseTo,
    /// Ignores every timestamp: IssueInstant, Conditions and SubjectConfirmationData windows.
    SkipTimeChecks,
    /// Does not check the Response or Assertion Issuer (value or Format).
    SkipIssuer,
    /// Accepts a plaintext `saml:Assertion` (the NemLog-in2-era unencrypted form).
    AllowPlaintextAssertion,
    /// With several assertions: verifies the first one that carries a signature, and consumes
    /// the first assertion in the response (which may be another one).
    FirstAssertion,
    /// With several assertions: verifies the one that carries a signature, and consumes the
    /// last assertion in the response ("the last one wins", as an SP that copies each
    /// assertion's attributes into the session in turn does).
    LastAssertion,
    /// Does not refuse a response with more than one assertion, but consumes only an Assertion
    /// whose own enveloped signature verifies, wherever it sits (decrypted in place), and
    /// ignores the others: "what is signed is what you get" without the exactly-one rule. It
    /// logs in the identity the broker signed, so the forgeries it accepts are graded WARN.
    IgnoreExtraAssertions,
    /// Accepts if *some* valid IdP signature exists anywhere in the response (decrypted in
    /// place), then consumes the first Assertion in document order: the classic XSW bug.
    AnySignatureInDocument,
    /// Verifies no signature at all.
    NoSignatureCheck,
    /// Verifies the assertion with the key from the signature's own KeyInfo (an X.509
    /// certificate, or a bare `RSAKeyValue` as xmlsec1 takes one unless `--enabled-key-data`
    /// restricts it) instead of the IdP metadata: anyone with a key of their own can sign.
    TrustKeyInfo,
    /// Accepts RSA-SHA1 signatures and SHA-1 digests.
    AcceptSha1,
    /// Accepts the OIOSAML 2 `X509SubjectName` NameID and keys users by the PID / CVR-RID in
    /// its `Serial=` part.
    AcceptX509SubjectNameId,
    /// Reads only the first text node of NameID and attribute values, so a comment injected
    /// into a signed value truncates it (the signature still verifies).
    FirstTextNode,
    /// Does not require a bearer SubjectConfirmation (still checks the data if one is there).
    SkipSubjectConfirmation,
    /// Does not compare `SubjectConfirmationData/@Recipient` with its ACS URL.
    SkipRecipient,
    /// Does not check Conditions/AudienceRestriction.
    SkipAudience,
    /// Does not require exactly one AuthnStatement and exactly one AttributeStatement.
    SkipStatementChecks,
    /// Accepts a missing `specVersion` or the OIOSAML 2 `dk:gov:saml:attribute:SpecVer`.
    AcceptLegacySpecVer,
    /// Accepts `dk:gov:saml:attribute:AssuranceLevel` ≥ 3 in place of an NSIS LoA, as the
    /// digst/OIOSAML.Java demo configuration does (`assurancelevel.allowed=true`).
    AcceptAssuranceLevel,
    /// Reads the NSIS LoA but never compares it with the required level.
    IgnoreLoaLevel,
    /// Never looks at the NSIS LoA: neither requires it nor compares it.
    NoLoaCheck,
    /// Accepts NemID-era AuthnContextClassRefs (NemID key card/file, `ac:classes:X509`).
    AcceptLegacyAuthnContext,
    /// Accepts OIOSAML 2 `dk:gov:saml:attribute:*` attributes and the OCES userCertificate.
    AcceptLegacyAttributes,
    /// Does not require CVR and orgName for professional (MitID Erhverv) logins.
    SkipProfessionalChecks,
    /// Keeps no cache of consumed assertion IDs.
    NoReplayCache,
    /// Rejects correctly, but answers the error page with HTTP 200 (a status-code-only
    /// oracle would think the login worked; the session oracle must not).
    #[serde(rename = "error-page-with-200")]
    ErrorPageWith200,
    /// Keys users by the CPR number instead of the MitID UUID.
    KeyByCpr,
    /// Keys users by the deprecated PID (persons) / RID (professionals) attribute.
    KeyByPid,
    /// Treats the NameID as an opaque user key: no Format check, no shape check, and a missing
    /// Subject or NameID logs in as the empty user (python3-saml's `get_nameid()` returning
    /// `None` and the app filing the session under it).
    LaxNameId,
    /// Does not check the Response and Assertion `ID` and `Version` attributes.
    SkipMessageChecks,
    /// A response that carries no assertion still creates a session (for nobody): the SP
    /// reads the identity from the assertion *if there is one*.
    SessionWithoutAssertion,
    /// Over-strict: requires the NSIS LoA to equal the required level, so a High login at a
    /// Substantial service is refused.
    ExactLoaMatch,
    /// Over-strict: requires a CPR number on every person login, so private-SP logins (which
    /// carry none) fail.
    RequireCpr,
    /// Over-strict: refuses an attribute with several values (MitID sends several emails).
    SingleValuedAttributes,
    /// Over-strict: refuses non-ASCII attribute values (Æ Ø Å in names).
    RejectNonAscii,
    /// Over-strict: parses instants without fractional seconds, so `12:00:00.123Z` fails.
    RejectFractionalSeconds,
    /// Over-strict: requires `Issuer/@Format` (it is optional; omitted means entity).
    RequireIssuerFormat,
    /// Over-strict: requires `NameFormat` on every Attribute.
    RequireAttributeNameFormat,
    /// Verifies only with the first signing key of the IdP metadata, so a key rollover (the
    /// next key published beside the current one) breaks every login.
    FirstMetadataKeyOnly,
    /// Over-strict: refuses a response that is signed as well as its assertion.
    RejectSignedResponse,
    /// No clock skew for the future: an IssueInstant or NotBefore even a second ahead of the
    /// SP's clock is refused.
    NoClockSkew,
    /// Over-strict: refuses attributes outside the set it knows today.
    RejectUnknownAttributes,
    /// A home-grown XML-DSig verifier that reads `DigestValue` from its first child node, so a
    /// comment injected before the real value is taken as the digest.
    DigestValueFirstChild,
    /// A home-grown XML-DSig verifier that checks SignatureValue over the first `SignedInfo`
    /// but takes the References (and their digests) from the last one.
    ReferencesFromAnySignedInfo,
    /// Accepts a signature on the Response (over the still-encrypted assertion) in place of
    /// one on the Assertion, as SAML core allows but OIOSAML 3 does not ("the Assertion MUST
    /// be directly signed"); python3-saml's `wantAssertionsSigned = false` default.
    AcceptResponseSignature,
    /// A parser that accepts several top-level elements (xmldom < 0.7.7), under an SP that
    /// then asks only that *some* top-level element carry a valid IdP signature over itself
    /// and reads the assertion through the last top-level `Response` (passport-saml < 3.2.2,
    /// CVE-2022-39299). A well-formed single-root document is handled strictly.
    LenientMultipleRoots,
    /// OIOSAML 4.0: never compares the assertion's attribute profile with the profiles it
    /// requested (nor with the NameID's kind): a service built for Person/DK/WithoutCPR
    /// files a Person/DK login with CPR, an EU login, whatever arrives.
    IgnoreAttributeProfile,
    /// OIOSAML 4.0: stores the CPR number whenever one is present, whatever the profile
    /// says (a WithoutCPR or Anonymous profile must carry none).
    AcceptCprInAnyProfile,
    /// OIOSAML 4.0: the SP's 3.0.3 validation reused for 4.0: accepts specVersion
    /// OIO-SAML-3.0, takes the LoA from the NSIS `nsis/loa` attribute when the 4.0 LoA is
    /// missing, and tolerates an assertion that names no attribute profile.
    #[serde(rename = "accept-303-vocabulary-in-4")]
    Accept303VocabularyIn4,
    // ---- issue 13: the library mistakes behind published SAML bypass advisories ----
    /// The home-grown verifier checks SignatureValue over the Signature's SignedInfo child, but
    /// looks `ds:Reference`, `ds:Transforms`, `ds:DigestMethod` and `ds:DigestValue` up from the
    /// document root (`//ds:DigestValue`, first match) in the Response with the decrypted
    /// assertion in place, as ruby-saml < 1.17.0 did (CVE-2024-45409).
    DigestValueFromDocument,
    /// Resolves the Reference URI through an ID map that keeps the *first* element registered
    /// under an ID (no uniqueness check), takes the first `ds:Signature` in the document that
    /// references the consumed assertion's ID, and consumes `/Response/Assertion[1]`
    /// (node-saml 5.0.1 CVE-2025-54419, XML::Sig CVE-2026-9487).
    IdLookupFirstMatch,
    /// As [`Flaw::IdLookupFirstMatch`], but the ID map keeps the *last* element registered.
    IdLookupLastMatch,
    /// Requires a Signature child on the consumed assertion, then verifies the first
    /// `ds:Signature` inside it with xmlsec1-style global ID resolution, never checking that
    /// its Reference names the assertion that encloses it (pysaml2 < 6.5.0, CVE-2021-21238).
    FirstSignatureInScope,
    /// Calls the Response signed because a `ds:Signature` child of the root verifies, without
    /// checking that its Reference is the root's ID, and then does not ask for the assertion's
    /// own signature (Keycloak < 25.0.6, CVE-2024-8698).
    SignatureScopeByPosition,
    /// The home-grown verifier dispatches on the document's SignatureMethod and, for an HMAC,
    /// keys it with the IdP certificate as PEM (xml-crypto < 2.0.0, GHSA-c27r-x354-4m68).
    HmacWithIdpCertPem,
    /// As [`Flaw::HmacWithIdpCertPem`], with the metadata's base64 `X509Certificate` text.
    HmacWithIdpCertBase64,
    /// As [`Flaw::HmacWithIdpCertPem`], with the certificate's DER bytes.
    HmacWithIdpCertDer,
    /// As [`Flaw::HmacWithIdpCertPem`], with the public key as `BEGIN PUBLIC KEY` PEM.
    HmacWithIdpSpkiPem,
    /// The home-grown verifier treats an *error* of the verify primitive (no decodable value, a
    /// value of the wrong length, an algorithm that does not fit the key) as success, as PHP's
    /// `if (openssl_verify(...))` does with -1 (SimpleSAMLphp CVE-2016-9814, php-saml
    /// GHSA-9wrw-p9rm-r782).
    VerifyErrorAsSuccess,
    /// The home-grown verifier's canonicaliser returns `""` when canonicalisation *fails* (a
    /// relative namespace URI anywhere in the document), and the caller digests and verifies
    /// that empty string: Nokogiri < 1.19.1 under ruby-saml < 1.18.0 (CVE-2025-66568),
    /// `DOMNode::C14N()`'s `false` under xmlseclibs < 3.1.4, SimpleSAMLphp and php-saml
    /// (CVE-2025-66475). One IdP signature over the empty string then vouches for anything.
    C14nErrorAsEmpty,
    /// Two views of the decrypted assertion, as ruby-saml < 1.18.0 had (CVE-2025-25292,
    /// CVE-2025-66567): the signature is verified namespace-aware (Nokogiri: the element that
    /// *is* `{urn:oasis:names:tc:SAML:2.0:assertion}Assertion`), while the structure checks and
    /// the reader select by qualified name under fixed prefixes (REXML XPath `a:Assertion`,
    /// `ds:Signature`), taking `saml:` and `ds:` to mean the SAML and XML-DSig namespaces
    /// whatever the document binds them to. An evil `saml:Assertion` in another namespace
    /// around the genuine one is read; a genuine assertion with another prefix is refused.
    MatchByPrefix,
    /// Parses a document that is not namespace-well-formed: an undeclared prefix is reported
    /// and the element kept in no namespace (libxml2's recoverable namespace error, which
    /// ruby-saml < 1.12.4 / < 1.18.0 ignored; the fix refuses any document Nokogiri reports
    /// errors for).
    TolerateUndeclaredPrefix,
    /// Reads the message the way dex < 2.27 and crewjam/saml < 0.4.3 did (CVE-2020-26290,
    /// CVE-2020-27846): verified on a parse by Go's `encoding/xml` tokenizer (etree), written
    /// back out and read again (`xml.Unmarshal`), so the forms that tokenizer accepts but does not
    /// write back unchanged (an empty-prefix `xmlns:`, a directive inside an element, a name
    /// with two colons) reach the reader rewritten instead of being refused; an undeclared
    /// prefix, which that tokenizer keeps as the element's namespace, gets through as well. The
    /// fix runs `mattermost/xml-roundtrip-validator` on every message and refuses such a token.
    ReserializeBeforeRead,
    /// Parses with xmldom ≤ 0.4.0's rules and reads a re-parse of its serialisation (the
    /// namespace half of CVE-2021-21366 / GHSA-h6q6-9hqw-rwfv): a duplicated attribute is
    /// accepted; of two declarations of one prefix the first binds names, the DOM keeps the
    /// last, and the serialiser writes that one first, so after serialise → parse the element
    /// is in the last one's namespace. The assertion verified is the SAML assertion of the
    /// first parse; the one read, the decrypted root after the round trip. The fix (xmldom
    /// 0.5.0, d4201b9) refuses any duplicated attribute.
    XmldomReserializeBeforeRead,
    /// Verifies each `ds:Signature` of the assertion in turn, skips one whose Reference resolves
    /// to no element when there are several, and succeeds when none failed, so an assertion
    /// whose only Signatures reference nothing passes (XML::Sig < 0.72, CVE-2026-18568).
    SkipUnresolvableSignatures,
    /// The SLO endpoint answers an IdP-initiated LogoutRequest with Success but leaves the
    /// application's session alive (the SAML library's logout and the app's session are
    /// separate, and nobody connected them).
    SloIgnoresLogout,
    /// The SLO endpoint verifies a LogoutRequest's signature only when there is one: an
    /// unsigned LogoutRequest ends the session.
    SloUnsignedAccepted,
    /// The SLO endpoint verifies no LogoutRequest signature at all: unsigned requests and
    /// requests signed by any key end the session.
    SloNoSignatureCheck,
    /// The SLO endpoint does not compare the LogoutRequest's Issuer with the IdP's entityID.
    SloAnyIssuer,
    /// The SLO endpoint ends the browser's session whatever NameID the LogoutRequest names.
    #[serde(rename = "slo-nameid-unchecked")]
    SloNameIdUnchecked,
    /// The SLO endpoint ignores the LogoutRequest's NotOnOrAfter.
    SloNoExpiryCheck,
    /// The SLO endpoint checks NotOnOrAfter on the Redirect binding only: the POST handler
    /// skips it (node-saml < 4.0.5, GHSA-vx8m-6fhw-pccw, whose POST path never called the
    /// expiry check the Redirect path had).
    SloPostNoExpiryCheck,
    /// Reads the Subject/NameID and the AttributeStatements of the verified assertion with a
    /// descendant search (`.//*[local-name()='Subject']`, first match; every descendant
    /// AttributeStatement) instead of the assertion's own children: passport-wsfed-saml2 <
    /// 4.6.4 (CVE-2025-46573, GHSA-8gqj-226h-gm8r), whose fix anchors every lookup at
    /// `//*[local-name(.)='Assertion'][1]/*[local-name(.)='AttributeStatement']`. Content
    /// smuggled inside the assertion's own Signature, which the enveloped transform leaves out
    /// of the digest, is then read as signed. Like xml-crypto, which verified for that library,
    /// the SP accepts whatever a Signature holds besides SignedInfo (XML-DSig allows a
    /// `ds:Object` and foreign KeyInfo content); the strict SP refuses both.
    DescendantSearch,
    /// The SLO endpoint accepts a LogoutRequest when *some* `ds:Signature` inside it verifies
    /// with the IdP metadata key, over whatever element its Reference names, instead of
    /// requiring the LogoutRequest's own enveloped signature (or, on the Redirect binding, the
    /// query signature): samlify (GHSA-63ch-w8pw-4mf2, whose lookup finds an Assertion's
    /// Signature inside the request) and Keycloak (CVE-2026-133430). Any captured signed
    /// assertion then vouches for a forged logout.
    SloAnySignatureInMessage,
    // ---- issue 13, S14: Redirect-binding query-string differentials (the SLO endpoint) ----
    /// Builds the signed string from the *last* occurrence of SAMLRequest-or-SAMLResponse,
    /// RelayState and SigAlg, and processes the *first* `SAMLRequest`, preferring it to a
    /// SAMLResponse even when the SAMLResponse is what was signed. simplesamlphp/saml2 before
    /// 4.17.0 (CVE-2025-27773, GHSA-46r4-f8gj-xg56): `parseQuery()` overwrote `$sigQuery` with
    /// each SAMLRequest/SAMLResponse it met, and `receive()` then took `$data['SAMLRequest']`
    /// if present, so `SAMLRequest=<forged>&` before a signed `SAMLResponse=…` query was
    /// processed as verified (fix 7867d609: duplicates and SAMLRequest+SAMLResponse refused, the
    /// message read from the signed string). For two same-named parameters simplesamlphp kept
    /// the last value in both views; taking the *first* for processing is the servlet-style
    /// `getParameter()` (first value) of an SP whose signed-string builder scans the raw query
    /// (the SP half of Keycloak CVE-2026-18217), which this flaw models as well.
    RedirectVerifyLastProcessFirst,
    /// Checks the query signature over the parameters found by their *literal* names (first
    /// match in the raw query), and processes SAMLRequest and RelayState from the
    /// percent-decoded parameters, where a later one replaces an earlier one (PHP `$_GET`,
    /// Python `dict(parse_qsl())`): a forged `%53AMLRequest=` after the signed parameters is
    /// processed while the literal, signed one is verified (CVE-2026-117691); so is a plain
    /// duplicate `SAMLRequest` after the signed one.
    RedirectLiteralNameCheck,
    /// Reads an *error* of the query-signature primitive as success, only a computed mismatch
    /// as failure: simplesamlphp/saml2 before 1.10.6 / 2.3.8 / 3.1.4 (CVE-2018-7711) tested
    /// `if (!$key->verifySignature($query, $signature))`, and OpenSSL's -1 is true in PHP (fix
    /// 4f6af7f6: `!== 1`). A `SigAlg` that does not fit the RSA key, a `Signature` that is not
    /// base64 or is empty then pass. The same mistake on XML signatures is
    /// [`Flaw::VerifyErrorAsSuccess`].
    RedirectVerifyErrorAsSuccess,
    /// Rebuilds the signed string from each raw `name=value` pair split at *every* `=` and
    /// keeps the piece after the name (`pair.Split('=')[1]`), while the application reads the
    /// whole value: `RelayState=<signed>=<appended>` verifies and the appended part is
    /// accepted as signed (Sustainsys.Saml2 < 1.0.4 / 2.11.1, CVE-2026-134822:
    /// `CheckSignature()` mis-parsed the query; the exact split is our reading of the advisory).
    RedirectValueSplitAtEquals,
    /// The home-grown verifier canonicalises a processing instruction as its bare data text
    /// (no `<?`, target or `?>`), while the reader skips PIs as the DOM's `textContent` does:
    /// xml-crypto's canonicalisers up to 6.1.2 under an SP that reads the profile from the
    /// original document instead of the signed bytes (OneUptime #2988, fixed by PR #2989; the
    /// plausible construct of node-saml CVE-2025-54419/-54369, fixed in 5.1.0 by reading only
    /// what was signed). A signed value `HV` sent as `<?x H?>V` digests as signed and reads `V`.
    PiFlatteningC14n,
    // --- S11: the front end's identity headers (see `crate::identity_headers`) ---
    /// The front end (mod_auth_mellon / Shibboleth in front of the application) passes the
    /// client's own identity headers through, and the application reads the logged-in user
    /// from them (`REMOTE_USER`, `MELLON_*`, `eppn`): whoever sends them is logged in
    /// (mod_auth_openidc CVE-2017-6413: `AuthType oauth20` did not scrub before 2.1.6).
    TrustClientHeaders,
    /// The front end scrubs the identity headers by exact name: the other spelling
    /// (`REMOTE-USER` for `REMOTE_USER`) survives and becomes the same CGI variable (Django
    /// CVE-2015-0219, theforeman/puppet-foreman#1181).
    ScrubExactHeaderNames,
    /// The front end scrubs the identity headers only on the requests it authenticates, not
    /// on an `OPTIONS` preflight nor the ACS it lets through (mod_auth_openidc before
    /// 2.4.20.1, commit c450a33a, 2026).
    ScrubAuthenticatedPathsOnly,
    // ---- issue 15: OIO BPP privileges (an SP with a required privilege) ----
    /// Never looks at `privilegesIntermediate`: every professional logs in, whatever rights
    /// they hold (the privilege check was never written, or sits behind a switch left off).
    IgnorePrivileges,
    /// Grants the privilege when *any* `PrivilegeGroup` lists it, whatever its `Scope`: the
    /// groups flattened into one set of privileges, as a claim transform that drops the scope
    /// leaves them (a user with the privilege in organisation B gets it in organisation A).
    PrivilegeWithoutScope,
    /// Compares the scope by its tail: `scope.ends_with(cvr)`, so any identifier that ends in
    /// the CVR's digits (an SE number with the same digits, a longer number) passes.
    PrivilegeScopeSuffix,
    /// Checks the scope of the first `PrivilegeGroup` only, then looks the privilege up in
    /// every group (`groups[0].Scope == cvr && groups.SelectMany(g => g.Privileges)
    /// .Contains(p)`): a privilege held elsewhere rides on the own organisation's group.
    PrivilegeFirstGroupScope,
    /// Searches the decoded PrivilegeList text for the privilege URI: no XML, no scope, and a
    /// longer URI that starts with the required one counts.
    PrivilegeSubstringInList,
    /// Checks the privilege only when `privilegesIntermediate` is there: a login without it
    /// (no privileges, or an SP whose request NemLog-in answered without them) gets in.
    PrivilegeOptional,
    /// Over-strict: looks for `PrivilegeGroup` (and `Privilege`) in the BPP namespace, as a
    /// binding generated for an `elementFormDefault="qualified"` schema or an XPath
    /// `//bpp:PrivilegeGroup` does; NemLog-in's groups are unqualified (OIOSAML.Net
    /// `Form = Unqualified`), so it finds none and no professional logs in.
    PrivilegeGroupsInBppNamespace,
}

impl Flaw {
    /// Every flaw.
    pub const ALL: &'static [Flaw] = &[
        Flaw::ResolveDoctype,
        Flaw::AcceptInternalDtd,
        Flaw::AcceptDtdWithoutEntities,
        Flaw::SkipEntityReferences,
        Flaw::IdEntityReferenceDifferential,
        Flaw::IgnoreStatus,
        Flaw::SkipDestination,
        Flaw::SkipInResponseTo,
        Flaw::SkipTimeChecks,
        Flaw::SkipIssuer,
        Flaw::AllowPlaintextAssertion,
        Flaw::FirstAssertion,
        Flaw::LastAssertion,
        Flaw::IgnoreExtraAssertions,
        Flaw::AnySignatureInDocument,
        Flaw::NoSignatureCheck,
        Flaw::TrustKeyInfo,
        Flaw::AcceptSha1,
        Flaw::AcceptX509SubjectNameId,
        Flaw::FirstTextNode,
        Flaw::SkipSubjectConfirmation,
        Flaw::SkipRecipient,
        Flaw::SkipAudience,
        Flaw::SkipStatementChecks,
        Flaw::AcceptLegacySpecVer,
        Flaw::AcceptAssuranceLevel,
        Flaw::IgnoreLoaLevel,
        Flaw::NoLoaCheck,
        Flaw::AcceptLegacyAuthnContext,
        Flaw::AcceptLegacyAttributes,
        Flaw::SkipProfessionalChecks,
        Flaw::NoReplayCache,
        Flaw::ErrorPageWith200,
        Flaw::KeyByCpr,
        Flaw::KeyByPid,
        Flaw::LaxNameId,
        Flaw::SkipMessageChecks,
        Flaw::SessionWithoutAssertion,
        Flaw::ExactLoaMatch,
        Flaw::RequireCpr,
        Flaw::SingleValuedAttributes,
        Flaw::RejectNonAscii,
        Flaw::RejectFractionalSeconds,
        Flaw::RequireIssuerFormat,
        Flaw::RequireAttributeNameFormat,
        Flaw::FirstMetadataKeyOnly,
        Flaw::RejectSignedResponse,
        Flaw::NoClockSkew,
        Flaw::RejectUnknownAttributes,
        Flaw::DigestValueFirstChild,
        Flaw::ReferencesFromAnySignedInfo,
        Flaw::AcceptResponseSignature,
        Flaw::LenientMultipleRoots,
        Flaw::IgnoreAttributeProfile,
        Flaw::AcceptCprInAnyProfile,
        Flaw::Accept303VocabularyIn4,
        // issue 13
        Flaw::DigestValueFromDocument,
        Flaw::IdLookupFirstMatch,
        Flaw::IdLookupLastMatch,
        Flaw::FirstSignatureInScope,
        Flaw::SignatureScopeByPosition,
        Flaw::HmacWithIdpCertPem,
        Flaw::HmacWithIdpCertBase64,
        Flaw::HmacWithIdpCertDer,
        Flaw::HmacWithIdpSpkiPem,
        Flaw::VerifyErrorAsSuccess,
        Flaw::SkipUnresolvableSignatures,
        Flaw::C14nErrorAsEmpty,
        Flaw::MatchByPrefix,
        Flaw::TolerateUndeclaredPrefix,
        Flaw::ReserializeBeforeRead,
        Flaw::XmldomReserializeBeforeRead,
        Flaw::SloIgnoresLogout,
        Flaw::SloUnsignedAccepted,
        Flaw::SloNoSignatureCheck,
        Flaw::SloAnyIssuer,
        Flaw::SloNameIdUnchecked,
        Flaw::SloNoExpiryCheck,
        Flaw::SloPostNoExpiryCheck,
        Flaw::DescendantSearch,
        Flaw::SloAnySignatureInMessage,
        // S14
        Flaw::RedirectVerifyLastProcessFirst,
        Flaw::RedirectLiteralNameCheck,
        Flaw::RedirectVerifyErrorAsSuccess,
        Flaw::RedirectValueSplitAtEquals,
        // S15
        Flaw::PiFlatteningC14n,
        // S11
        Flaw::TrustClientHeaders,
        Flaw::ScrubExactHeaderNames,
        Flaw::ScrubAuthenticatedPathsOnly,
        // issue 15
        Flaw::IgnorePrivileges,
        Flaw::PrivilegeWithoutScope,
        Flaw::PrivilegeScopeSuffix,
        Flaw::PrivilegeFirstGroupScope,
        Flaw::PrivilegeSubstringInList,
        Flaw::PrivilegeOptional,
        Flaw::PrivilegeGroupsInBppNamespace,
    ];

    /// Stable kebab-case id (as serialised and parsed).
    pub fn id(self) -> &'static str {
        match self {
            Flaw::ResolveDoctype => "resolve-doctype",
            Flaw::AcceptInternalDtd => "accept-internal-dtd",
            Flaw::AcceptDtdWithoutEntities => "accept-dtd-without-entities",
            Flaw::SkipEntityReferences => "skip-entity-references",
            Flaw::IdEntityReferenceDifferential => "id-entity-reference-differential",
            Flaw::IgnoreStatus => "ignore-status",
            Flaw::SkipDestination => "skip-destination",
            Flaw::SkipInResponseTo => "skip-in-response-to",
            Flaw::SkipTimeChecks => "skip-time-checks",
            Flaw::SkipIssuer => "skip-issuer",
            Flaw::AllowPlaintextAssertion => "allow-plaintext-assertion",
            Flaw::FirstAssertion => "first-assertion",
            Flaw::LastAssertion => "last-assertion",
            Flaw::IgnoreExtraAssertions => "ignore-extra-assertions",
            Flaw::AnySignatureInDocument => "any-signature-in-document",
            Flaw::NoSignatureCheck => "no-signature-check",
            Flaw::TrustKeyInfo => "trust-key-info",
            Flaw::AcceptSha1 => "accept-sha1",
            Flaw::AcceptX509SubjectNameId => "accept-x509-subject-name-id",
            Flaw::FirstTextNode => "first-text-node",
            Flaw::SkipSubjectConfirmation => "skip-subject-confirmation",
            Flaw::SkipRecipient => "skip-recipient",
            Flaw::SkipAudience => "skip-audience",
            Flaw::SkipStatementChecks => "skip-statement-checks",
            Flaw::AcceptLegacySpecVer => "accept-legacy-spec-ver",
            Flaw::AcceptAssuranceLevel => "accept-assurance-level",
            Flaw::IgnoreLoaLevel => "ignore-loa-level",
            Flaw::NoLoaCheck => "no-loa-check",
            Flaw::AcceptLegacyAuthnContext => "accept-legacy-authn-context",
            Flaw::AcceptLegacyAttributes => "accept-legacy-attributes",
            Flaw::SkipProfessionalChecks => "skip-professional-checks",
            Flaw::NoReplayCache => "no-replay-cache",
            Flaw::ErrorPageWith200 => "error-page-with-200",
            Flaw::KeyByCpr => "key-by-cpr",
            Flaw::KeyByPid => "key-by-pid",
            Flaw::LaxNameId => "lax-name-id",
            Flaw::SkipMessageChecks => "skip-message-checks",
            Flaw::SessionWithoutAssertion => "session-without-assertion",
            Flaw::ExactLoaMatch => "exact-loa-match",
            Flaw::RequireCpr => "require-cpr",
            Flaw::SingleValuedAttributes => "single-valued-attributes",
            Flaw::RejectNonAscii => "reject-non-ascii",
            Flaw::RejectFractionalSeconds => "reject-fractional-seconds",
            Flaw::RequireIssuerFormat => "require-issuer-format",
            Flaw::RequireAttributeNameFormat => "require-attribute-name-format",
            Flaw::FirstMetadataKeyOnly => "first-metadata-key-only",
            Flaw::RejectSignedResponse => "reject-signed-response",
            Flaw::NoClockSkew => "no-clock-skew",
            Flaw::RejectUnknownAttributes => "reject-unknown-attributes",
            Flaw::DigestValueFirstChild => "digest-value-first-child",
            Flaw::ReferencesFromAnySignedInfo => "references-from-any-signed-info",
            Flaw::AcceptResponseSignature => "accept-response-signature",
            Flaw::LenientMultipleRoots => "lenient-multiple-roots",
            Flaw::IgnoreAttributeProfile => "ignore-attribute-profile",
            Flaw::AcceptCprInAnyProfile => "accept-cpr-in-any-profile",
            Flaw::Accept303VocabularyIn4 => "accept-303-vocabulary-in-4",
            // issue 13
            Flaw::DigestValueFromDocument => "digest-value-from-document",
            Flaw::IdLookupFirstMatch => "id-lookup-first-match",
            Flaw::IdLookupLastMatch => "id-lookup-last-match",
            Flaw::FirstSignatureInScope => "first-signature-in-scope",
            Flaw::SignatureScopeByPosition => "signature-scope-by-position",
            Flaw::HmacWithIdpCertPem => "hmac-with-idp-cert-pem",
            Flaw::HmacWithIdpCertBase64 => "hmac-with-idp-cert-base64",
            Flaw::HmacWithIdpCertDer => "hmac-with-idp-cert-der",
            Flaw::HmacWithIdpSpkiPem => "hmac-with-idp-spki-pem",
            Flaw::VerifyErrorAsSuccess => "verify-error-as-success",
            Flaw::SkipUnresolvableSignatures => "skip-unresolvable-signatures",
            Flaw::C14nErrorAsEmpty => "c14n-error-as-empty",
            Flaw::MatchByPrefix => "match-by-prefix",
            Flaw::TolerateUndeclaredPrefix => "tolerate-undeclared-prefix",
            Flaw::ReserializeBeforeRead => "reserialize-before-read",
            Flaw::XmldomReserializeBeforeRead => "xmldom-reserialize-before-read",
            Flaw::SloIgnoresLogout => "slo-ignores-logout",
            Flaw::SloUnsignedAccepted => "slo-unsigned-accepted",
            Flaw::SloNoSignatureCheck => "slo-no-signature-check",
            Flaw::SloAnyIssuer => "slo-any-issuer",
            Flaw::SloNameIdUnchecked => "slo-nameid-unchecked",
            Flaw::SloNoExpiryCheck => "slo-no-expiry-check",
            Flaw::SloPostNoExpiryCheck => "slo-post-no-expiry-check",
            Flaw::DescendantSearch => "descendant-search",
            Flaw::SloAnySignatureInMessage => "slo-any-signature-in-message",
            Flaw::RedirectVerifyLastProcessFirst => "redirect-verify-last-process-first",
            Flaw::RedirectLiteralNameCheck => "redirect-literal-name-check",
            Flaw::RedirectVerifyErrorAsSuccess => "redirect-verify-error-as-success",
            Flaw::RedirectValueSplitAtEquals => "redirect-value-split-at-equals",
            Flaw::PiFlatteningC14n => "pi-flattening-c14n",
            Flaw::TrustClientHeaders => "trust-client-headers",
            Flaw::ScrubExactHeaderNames => "scrub-exact-header-names",
            Flaw::ScrubAuthenticatedPathsOnly => "scrub-authenticated-paths-only",
            // issue 15
            Flaw::IgnorePrivileges => "ignore-privileges",
            Flaw::PrivilegeWithoutScope => "privilege-without-scope",
            Flaw::PrivilegeScopeSuffix => "privilege-scope-suffix",
            Flaw::PrivilegeFirstGroupScope => "privilege-first-group-scope",
            Flaw::PrivilegeSubstringInList => "privilege-substring-in-list",
            Flaw::PrivilegeOptional => "privilege-optional",
            Flaw::PrivilegeGroupsInBppNamespace => "privilege-groups-in-bpp-namespace",
        }
    }

    /// The check this flaw switches off, weakens or (for the over-strict flaws) tightens wrongly; `None` for [`Flaw::ErrorPageWith200`]
    /// and the front end's header flaws ([`Flaw::TrustClientHeaders`] and its partial fixes),
    /// which changes only the HTTP status of a correct rejection.
    pub fn weakens(self) -> Option<Check> {
        Some(match self {
            Flaw::ResolveDoctype
            | Flaw::AcceptInternalDtd
            | Flaw::AcceptDtdWithoutEntities
            | Flaw::SkipEntityReferences
            | Flaw::IdEntityReferenceDifferential => Check::Doctype,
            Flaw::IgnoreStatus => Check::Status,
            Flaw::SkipDestination => Check::Destination,
            Flaw::SkipInResponseTo => Check::InResponseTo,
            Flaw::SkipTimeChecks => Check::Timing,
            Flaw::SkipIssuer => Check::Issuer,
            Flaw::AllowPlaintextAssertion => Check::Encryption,
            Flaw::FirstAssertion | Flaw::LastAssertion | Flaw::IgnoreExtraAssertions => {
                Check::AssertionCount
            }
            Flaw::AnySignatureInDocument | Flaw::NoSignatureCheck | Flaw::TrustKeyInfo => {
                Check::Signature
            }
            Flaw::AcceptSha1 => Check::SignatureAlgorithm,
            Flaw::AcceptX509SubjectNameId | Flaw::FirstTextNode => Check::NameId,
            Flaw::SkipSubjectConfirmation => Check::SubjectConfirmation,
            Flaw::SkipRecipient => Check::Recipient,
            Flaw::SkipAudience => Check::Audience,
            Flaw::SkipStatementChecks => Check::Statements,
            Flaw::AcceptLegacySpecVer => Check::SpecVersion,
            Flaw::AcceptAssuranceLevel | Flaw::NoLoaCheck => Check::Loa,
            Flaw::IgnoreLoaLevel => Check::LoaLevel,
            Flaw::AcceptLegacyAuthnContext => Check::AuthnContext,
            Flaw::AcceptLegacyAttributes => Check::LegacyAttributes,
            Flaw::SkipProfessionalChecks => Check::Professional,
            Flaw::NoReplayCache => Check::Replay,
            Flaw::KeyByCpr | Flaw::KeyByPid => Check::IdentityKey,
            Flaw::LaxNameId => Check::NameId,
            Flaw::SkipMessageChecks | Flaw::LenientMultipleRoots => Check::Message,
            Flaw::SessionWithoutAssertion => Check::AssertionCount,
            Flaw::ExactLoaMatch => Check::LoaLevel,
            Flaw::RequireCpr | Flaw::SingleValuedAttributes | Flaw::RejectUnknownAttributes => {
                Check::Attributes
            }
            Flaw::RejectNonAscii => Check::Attributes,
            Flaw::RejectFractionalSeconds | Flaw::NoClockSkew => Check::Timing,
            Flaw::RequireIssuerFormat => Check::Issuer,
            Flaw::RequireAttributeNameFormat => Check::Attributes,
            Flaw::FirstMetadataKeyOnly
            | Flaw::RejectSignedResponse
            | Flaw::DigestValueFirstChild
            | Flaw::ReferencesFromAnySignedInfo
            | Flaw::AcceptResponseSignature => Check::Signature,
            Flaw::IgnoreAttributeProfile => Check::AttributeProfile,
            Flaw::AcceptCprInAnyProfile => Check::ProfileCpr,
            Flaw::Accept303VocabularyIn4 => Check::SpecVersion,
            Flaw::SloIgnoresLogout
            | Flaw::SloUnsignedAccepted
            | Flaw::SloNoSignatureCheck
            | Flaw::SloAnyIssuer
            | Flaw::SloNameIdUnchecked
            | Flaw::SloNoExpiryCheck
            | Flaw::SloPostNoExpiryCheck
            | Flaw::SloAnySignatureInMessage
            | Flaw::RedirectVerifyLastProcessFirst
            | Flaw::RedirectLiteralNameCheck
            | Flaw::RedirectVerifyErrorAsSuccess
            | Flaw::RedirectValueSplitAtEquals => Check::Logout,
            Flaw::DescendantSearch => Check::NameId,
            Flaw::ErrorPageWith200 => return None,
            // The front end's header scrubbing, not a check of the response.
            Flaw::TrustClientHeaders
            | Flaw::ScrubExactHeaderNames
            | Flaw::ScrubAuthenticatedPathsOnly => return None,
            // issue 13
            Flaw::DigestValueFromDocument
            | Flaw::IdLookupFirstMatch
            | Flaw::IdLookupLastMatch
            | Flaw::FirstSignatureInScope
            | Flaw::SignatureScopeByPosition
            | Flaw::HmacWithIdpCertPem
            | Flaw::HmacWithIdpCertBase64
            | Flaw::HmacWithIdpCertDer
            | Flaw::HmacWithIdpSpkiPem
            | Flaw::VerifyErrorAsSuccess
            | Flaw::SkipUnresolvableSignatures
            | Flaw::C14nErrorAsEmpty
            | Flaw::PiFlatteningC14n => Check::Signature,
            // issue 15
            Flaw::IgnorePrivileges
            | Flaw::PrivilegeWithoutScope
            | Flaw::PrivilegeScopeSuffix
            | Flaw::PrivilegeFirstGroupScope
            | Flaw::PrivilegeSubstringInList
            | Flaw::PrivilegeOptional
            | Flaw::PrivilegeGroupsInBppNamespace => Check::Privilege,
            // Which element is the assertion: decided where the decrypted assertion is checked.
            Flaw::MatchByPrefix | Flaw::XmldomReserializeBeforeRead => Check::Decryption,
            Flaw::TolerateUndeclaredPrefix | Flaw::ReserializeBeforeRead => Check::Message,
        })
    }

    /// One line for reports: the bug this flaw models.
    pub fn description(self) -> &'static str {
        match self {
            Flaw::ResolveDoctype => "resolves DOCTYPE external entities (XXE)",
            Flaw::AcceptInternalDtd => {
                "parses internal DTD subsets and expands internal entities (refuses only external ones)"
            }
            Flaw::AcceptDtdWithoutEntities => {
                "accepts a DOCTYPE that declares no entity (checks only for <!ENTITY)"
            }
            Flaw::SkipEntityReferences => {
                "accepts internal DTDs; verifies the entity-expanded text but reads it with entity references dropped"
            }
            Flaw::IdEntityReferenceDifferential => {
                "accepts internal DTDs (also in decrypted XML); resolves the Reference by literal ID, reads IDs entity-expanded"
            }
            Flaw::IgnoreStatus => "ignores a non-Success Status",
            Flaw::SkipDestination => "does not check Response/@Destination",
            Flaw::SkipInResponseTo => "does not check InResponseTo (accepts unsolicited responses)",
            Flaw::SkipTimeChecks => "ignores IssueInstant, NotBefore and NotOnOrAfter",
            Flaw::SkipIssuer => "does not check the Issuer",
            Flaw::AllowPlaintextAssertion => "accepts an unencrypted assertion",
            Flaw::FirstAssertion => "verifies one assertion and consumes the first",
            Flaw::LastAssertion => "verifies one assertion and consumes the last",
            Flaw::IgnoreExtraAssertions => {
                "consumes the assertion whose signature verifies and ignores extra ones"
            }
            Flaw::AnySignatureInDocument => "accepts any valid signature in the document (XSW)",
            Flaw::NoSignatureCheck => "verifies no signature",
            Flaw::TrustKeyInfo => "trusts the certificate or key value in the signature's KeyInfo",
            Flaw::AcceptSha1 => "accepts SHA-1 signatures and digests",
            Flaw::AcceptX509SubjectNameId => {
                "accepts the OIOSAML 2 X509SubjectName NameID (PID/RID)"
            }
            Flaw::FirstTextNode => "reads only the first text node of NameID and attribute values",
            Flaw::SkipSubjectConfirmation => "does not require a bearer SubjectConfirmation",
            Flaw::SkipRecipient => "does not check SubjectConfirmationData/@Recipient",
            Flaw::SkipAudience => "does not check the Audience",
            Flaw::SkipStatementChecks => {
                "does not require one AuthnStatement and one AttributeStatement"
            }
            Flaw::AcceptLegacySpecVer => "accepts a missing or DK-SAML-2.0 spec version",
            Flaw::AcceptAssuranceLevel => "accepts AssuranceLevel >= 3 instead of an NSIS LoA",
            Flaw::IgnoreLoaLevel => "does not compare the NSIS LoA with the required level",
            Flaw::NoLoaCheck => "neither requires nor compares the NSIS LoA",
            Flaw::AcceptLegacyAuthnContext => "accepts NemID-era AuthnContextClassRefs",
            Flaw::AcceptLegacyAttributes => "accepts dk:gov:saml:attribute:* and userCertificate",
            Flaw::SkipProfessionalChecks => "does not require CVR and orgName for professionals",
            Flaw::NoReplayCache => "keeps no replay cache of assertion IDs",
            Flaw::ErrorPageWith200 => "answers its error page with HTTP 200",
            Flaw::KeyByCpr => "keys users by CPR instead of the MitID UUID",
            Flaw::KeyByPid => "keys users by the deprecated PID/RID",
            Flaw::LaxNameId => "takes the NameID as an opaque key (no format or shape check)",
            Flaw::SkipMessageChecks => "does not check the Response/Assertion ID and Version",
            Flaw::SessionWithoutAssertion => "creates a session from a response with no assertion",
            Flaw::ExactLoaMatch => "requires the LoA to equal the required level (refuses higher)",
            Flaw::RequireCpr => "requires a CPR number for persons (breaks private SPs)",
            Flaw::SingleValuedAttributes => "refuses multi-valued attributes",
            Flaw::RejectNonAscii => "refuses non-ASCII attribute values",
            Flaw::RejectFractionalSeconds => "cannot parse instants with fractional seconds",
            Flaw::RequireIssuerFormat => "requires Issuer/@Format",
            Flaw::RequireAttributeNameFormat => "requires Attribute/@NameFormat",
            Flaw::FirstMetadataKeyOnly => "verifies with the first metadata signing key only",
            Flaw::RejectSignedResponse => "refuses a response that is itself signed",
            Flaw::NoClockSkew => "allows no clock skew for instants in the future",
            Flaw::RejectUnknownAttributes => "refuses attributes it does not know",
            Flaw::DigestValueFirstChild => "reads DigestValue from its first child node",
            Flaw::ReferencesFromAnySignedInfo => {
                "verifies the first SignedInfo, takes References from the last"
            }
            Flaw::AcceptResponseSignature => {
                "accepts a signed Response in place of a signed Assertion"
            }
            Flaw::LenientMultipleRoots => {
                "accepts several top-level elements; any signed one vouches for the last Response"
            }
            Flaw::IgnoreAttributeProfile => {
                "OIOSAML 4.0: ignores which attribute profile the assertion names"
            }
            Flaw::AcceptCprInAnyProfile => {
                "OIOSAML 4.0: accepts a CPR number in a profile without CPR"
            }
            Flaw::Accept303VocabularyIn4 => {
                "OIOSAML 4.0: accepts the 3.0.3 specVersion, NSIS LoA and profile-less assertions"
            }
            // issue 13
            Flaw::DigestValueFromDocument => {
                "takes Reference and DigestValue from the document root (//ds:DigestValue)"
            }
            Flaw::IdLookupFirstMatch => "resolves a duplicated ID to its first element",
            Flaw::IdLookupLastMatch => "resolves a duplicated ID to its last element",
            Flaw::FirstSignatureInScope => {
                "verifies the first Signature in the assertion, whatever it references"
            }
            Flaw::SignatureScopeByPosition => {
                "a valid Signature child of the Response signs it, whatever it references"
            }
            Flaw::HmacWithIdpCertPem => "verifies an HMAC SignatureMethod keyed with the IdP PEM",
            Flaw::HmacWithIdpCertBase64 => {
                "verifies an HMAC SignatureMethod keyed with the IdP base64 certificate"
            }
            Flaw::HmacWithIdpCertDer => "verifies an HMAC SignatureMethod keyed with the IdP DER",
            Flaw::HmacWithIdpSpkiPem => {
                "verifies an HMAC SignatureMethod keyed with the IdP public-key PEM"
            }
            Flaw::VerifyErrorAsSuccess => "treats an error of the verify primitive as success",
            Flaw::SkipUnresolvableSignatures => {
                "skips Signatures whose Reference resolves to nothing; none left is a success"
            }
            Flaw::C14nErrorAsEmpty => {
                "digests and verifies \"\" when canonicalisation fails (void canonicalization)"
            }
            Flaw::MatchByPrefix => {
                "verifies namespace-aware but selects and reads saml:Assertion by qualified name"
            }
            Flaw::TolerateUndeclaredPrefix => {
                "accepts undeclared namespace prefixes (not namespace-well-formed XML)"
            }
            Flaw::ReserializeBeforeRead => {
                "reads the message after a Go encoding/xml round trip (accepts the forms it rewrites)"
            }
            Flaw::XmldomReserializeBeforeRead => {
                "accepts duplicated attributes and reads the assertion after an xmldom 0.4.0 round trip"
            }
            Flaw::SloIgnoresLogout => "answers an IdP LogoutRequest but keeps the session",
            Flaw::SloUnsignedAccepted => "accepts an unsigned LogoutRequest",
            Flaw::SloNoSignatureCheck => "verifies no LogoutRequest signature",
            Flaw::SloAnyIssuer => "does not check the LogoutRequest Issuer",
            Flaw::SloNameIdUnchecked => "ends the session whatever NameID the LogoutRequest names",
            Flaw::SloNoExpiryCheck => "ignores the LogoutRequest's NotOnOrAfter",
            Flaw::SloPostNoExpiryCheck => {
                "ignores the LogoutRequest's NotOnOrAfter on the POST binding"
            }
            Flaw::SloAnySignatureInMessage => {
                "accepts a LogoutRequest when any signature inside it verifies"
            }
            Flaw::RedirectVerifyLastProcessFirst => {
                "Redirect binding: verifies the last SAMLRequest/SAMLResponse, processes the first SAMLRequest"
            }
            Flaw::RedirectLiteralNameCheck => {
                "Redirect binding: verifies literally named parameters, processes percent-decoded names (last wins)"
            }
            Flaw::RedirectVerifyErrorAsSuccess => {
                "Redirect binding: treats an error of the query-signature check as success"
            }
            Flaw::RedirectValueSplitAtEquals => {
                "Redirect binding: verifies each value only up to its next '=', processes the whole value"
            }
            Flaw::PiFlatteningC14n => {
                "canonicalises a processing instruction as its data text; reads text without PIs"
            }
            Flaw::DescendantSearch => {
                "reads Subject and AttributeStatements by descendant search, not as the assertion's children"
            }
            Flaw::TrustClientHeaders => {
                "trusts identity headers the browser sent (REMOTE_USER, MELLON_*, eppn)"
            }
            Flaw::ScrubExactHeaderNames => {
                "scrubs identity headers by exact name; REMOTE-USER still becomes REMOTE_USER"
            }
            Flaw::ScrubAuthenticatedPathsOnly => {
                "scrubs identity headers on authenticated requests only, not on OPTIONS or the ACS"
            }
            // issue 15
            Flaw::IgnorePrivileges => "never checks the required OIO BPP privilege",
            Flaw::PrivilegeWithoutScope => {
                "grants a privilege listed in any PrivilegeGroup, whatever its Scope"
            }
            Flaw::PrivilegeScopeSuffix => "compares the privilege Scope by ends_with(CVR)",
            Flaw::PrivilegeFirstGroupScope => {
                "checks the first group's Scope, takes privileges from every group"
            }
            Flaw::PrivilegeSubstringInList => {
                "searches the decoded PrivilegeList text for the privilege URI"
            }
            Flaw::PrivilegeOptional => {
                "checks the privilege only when privilegesIntermediate is there"
            }
            Flaw::PrivilegeGroupsInBppNamespace => {
                "looks for PrivilegeGroup in the BPP namespace (finds none: they are unqualified)"
            }
        }
    }
}

impl fmt::Display for Flaw {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// An unknown flaw id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown flaw {0:?}; known flaws: {known}", known = Flaw::ALL.iter().map(|f| f.id()).collect::<Vec<_>>().join(", "))]
pub struct UnknownFlaw(pub String);

impl FromStr for Flaw {
    type Err = UnknownFlaw;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Flaw::ALL
            .iter()
            .copied()
            .find(|f| f.id() == s.trim())
            .ok_or_else(|| UnknownFlaw(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_are_unique() {
        let mut seen = std::collections::BTreeSet::new();
        for f in Flaw::ALL {
            assert!(seen.insert(f.id()), "duplicate id {}", f.id());
            assert_eq!(f.id().parse::<Flaw>(), Ok(*f));
            let json = serde_json::to_string(f).unwrap();
            assert_eq!(json, format!("\"{}\"", f.id()));
        }
        assert!("skip-everything".parse::<Flaw>().is_err());
    }
}
