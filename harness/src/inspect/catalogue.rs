//! The checks: id, family, severity, title, rationale and references, in report order.
//!
//! Kept as data in one place so the CLI can list and explain them, the report order is fixed,
//! and a rationale is written once however many code paths produce the finding.

use super::{CheckStatus, Family, Finding, Severity};

/// A check's fixed description. Findings are made from it with [`Check::finding`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Check {
    /// Stable id.
    pub id: &'static str,
    /// What the check looks at.
    pub family: Family,
    /// How bad a failure is.
    pub severity: Severity,
    /// One line saying what is checked.
    pub title: &'static str,
    /// Why it matters and what to do.
    pub rationale: &'static str,
    /// Where the requirement comes from.
    pub references: &'static [&'static str],
}

impl Check {
    /// A finding of this check with the given outcome and observation.
    pub fn finding(&self, status: CheckStatus, detail: impl Into<String>) -> Finding {
        Finding {
            id: self.id,
            family: self.family,
            severity: self.severity,
            status,
            title: self.title.to_string(),
            detail: detail.into(),
            rationale: self.rationale,
            references: self.references.to_vec(),
        }
    }

    pub(crate) fn pass(&self, detail: impl Into<String>) -> Finding {
        self.finding(CheckStatus::Pass, detail)
    }
    pub(crate) fn fail(&self, detail: impl Into<String>) -> Finding {
        self.finding(CheckStatus::Fail, detail)
    }
    pub(crate) fn warn(&self, detail: impl Into<String>) -> Finding {
        self.finding(CheckStatus::Warn, detail)
    }
    pub(crate) fn skip(&self, detail: impl Into<String>) -> Finding {
        self.finding(CheckStatus::Skipped, detail)
    }
}

const OIOSAML_JAVA_SP_MD: &str =
    "digst/OIOSAML.Java service/SPMetadataService.java (the SP metadata NemLog-in expects)";
const SAML_MD: &str = "SAML 2.0 Metadata (saml-metadata-2.0-os) §2.3-2.4";
const SAML_BIND_REDIRECT: &str = "SAML 2.0 Bindings (saml-bindings-2.0-os) §3.4 HTTP Redirect";
const SAML_CORE_REQ: &str =
    "SAML 2.0 Core (saml-core-2.0-os) §3.2.1 RequestAbstractType, §3.4.1 AuthnRequest";
const FOXIDS_OCES3: &str = "FoxIDs docs auth-method-howto-saml-2.0-nemlogin-oiosaml3-std.md: \"NemLog-in requires all requests (authn and logout) from the RP to be signed ... with an OCES3 certificate\"";
const NL_PRIVATE_SP: &str = "https://www.nemlog-in.dk/vejledningertiltestmiljo/forside/test-som-tjenesteudbyder-eller-broker/ (private SPs omit privilegesIntermediate and cprNumber)";

macro_rules! checks {
    ($( $konst:ident = $id:literal, $family:ident, $sev:ident, $title:literal, $rationale:literal, [$($r:expr),* $(,)?]; )+) => {
        $(
            #[doc = concat!("`", $id, "`: ", $title)]
            pub(crate) const $konst: Check = Check {
                id: $id,
                family: Family::$family,
                severity: Severity::$sev,
                title: $title,
                rationale: $rationale,
                references: &[$($r),*],
            };
        )+
        /// Every check, in report order.
        pub const ALL_CHECKS: &[Check] = &[$($konst),+];
    };
}

checks! {
    MD_PARSE = "metadata.parse", Metadata, Critical,
        "Metadata is well-formed SAML 2.0 SP metadata",
        "The broker and NemLog-in register an SP only from its metadata. A document that is not well-formed XML, has a DOCTYPE, is not an EntityDescriptor, lacks an entityID or an SPSSODescriptor, or carries an unreadable certificate cannot be registered at all. Publish the EntityDescriptor your SAML library generates, without a DOCTYPE, UTF-8 encoded.",
        [SAML_MD];
    MD_SCHEMA = "metadata.schema", Metadata, High,
        "Metadata follows the SAML metadata schema (structural subset)",
        "NemLog-in validates uploaded metadata against the SAML 2.0 metadata schema and rejects documents that do not conform. The harness checks the structural subset that matters in practice (required attributes, element order of EntityDescriptor and SPSSODescriptor children, xs:boolean/xs:unsignedShort/xs:dateTime values, known binding URIs, unique endpoint indexes, at most one default) rather than full XSD validation, which needs a complete XSD engine; a document that passes here can still fail on an exotic schema rule, so run your tool's own schema validation too.",
        ["saml-schema-metadata-2.0.xsd", SAML_MD];
    MD_PROTOCOL = "metadata.protocol-support", Metadata, High,
        "SPSSODescriptor supports the SAML 2.0 protocol",
        "protocolSupportEnumeration must list urn:oasis:names:tc:SAML:2.0:protocol, otherwise an IdP treats the descriptor as SAML 1.x only and will not send SAML 2.0 responses to it.",
        [SAML_MD];
    MD_VALID_UNTIL = "metadata.valid-until", Metadata, Medium,
        "Metadata validUntil is in the future",
        "Metadata past its validUntil must be discarded by the consumer; NemLog-in and most IdPs then stop accepting the SP. Remove validUntil or regenerate the metadata with a date well in the future, and re-upload it before it passes.",
        [SAML_MD];
    MD_AUTHN_SIGNED = "metadata.authn-requests-signed", Metadata, Critical,
        "AuthnRequestsSigned=\"true\"",
        "NemLog-in only accepts signed AuthnRequests (its IdP metadata says WantAuthnRequestsSigned=\"true\"; unsigned requests get \"A technical error has occurred\"). The SP must declare AuthnRequestsSigned=\"true\" and sign every request with the key in its metadata.",
        [OIOSAML_JAVA_SP_MD, "NemLog-in IdP metadata: IDPSSODescriptor WantAuthnRequestsSigned=\"true\""];
    MD_WANT_SIGNED = "metadata.want-assertions-signed", Metadata, High,
        "WantAssertionsSigned=\"true\"",
        "OIOSAML 3 requires the assertion itself to be signed, and an SP that does not insist on it is one configuration slip away from accepting unsigned or wrapped assertions. Declare WantAssertionsSigned=\"true\" and make the SP reject assertions without a valid signature.",
        [OIOSAML_JAVA_SP_MD, "digst/OIOSAML.Java AssertionValidationService: \"The Assertion within the response MUST be directly signed\""];
    MD_SIGNING_KEY = "metadata.signing-key", Metadata, Critical,
        "A signing KeyDescriptor is present",
        "The IdP verifies the SP's signed AuthnRequests and LogoutRequests with the certificate in a KeyDescriptor use=\"signing\" (or one without use). Without it no signed request can be verified and NemLog-in rejects every login.",
        [SAML_MD, OIOSAML_JAVA_SP_MD];
    MD_ENCRYPTION_KEY = "metadata.encryption-key", Metadata, High,
        "An encryption KeyDescriptor is present",
        "OIOSAML 3 responses contain exactly one EncryptedAssertion, encrypted to the certificate in the SP's KeyDescriptor use=\"encryption\" (or one without use). Without it the IdP cannot encrypt the assertion and the login fails or, worse, personal data travels in clear text through the browser.",
        [OIOSAML_JAVA_SP_MD, "digst/OIOSAML.Java AssertionValidationService: \"Successful responses MUST contain exactly one encrypted SAML Assertion\""];
    MD_ALGORITHMS = "metadata.algorithms", Metadata, Medium,
        "Declared algorithms are not legacy (SHA-1, RSA PKCS#1 v1.5 key transport, 3DES)",
        "An SP's md:EncryptionMethod and alg:SigningMethod/alg:DigestMethod entries steer what the IdP uses. SHA-1 signatures and digests, RSA PKCS#1 v1.5 key transport (rsa-1_5, open to Bleichenbacher-style attacks) and 3DES are legacy; declare RSA-SHA256, SHA-256, RSA-OAEP and AES (GCM preferred) instead. Declaring nothing is fine: the IdP then uses its defaults.",
        ["SAML V2.0 Metadata Extensions for Algorithm Support (sstc-saml-metadata-algsupport-v1.0)", "XML Encryption 1.1 §5.5.1 (rsa-1_5 not recommended)"];
    MD_ACS_BINDING = "metadata.acs-binding", Metadata, Critical,
        "An AssertionConsumerService with the HTTP-POST binding",
        "NemLog-in delivers responses only with the HTTP-POST binding (it offers no Artifact resolution), so the SP needs an ACS with Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\". HTTP-Redirect is not allowed for responses at all.",
        ["NemLog-in IdP metadata (no ArtifactResolutionService)", "SAML 2.0 Profiles §4.1.2 (Redirect not used for responses)", OIOSAML_JAVA_SP_MD];
    MD_ACS_HTTPS = "metadata.acs-https", Metadata, High,
        "ACS URLs use https",
        "The assertion carries personal data and a bearer credential; posting it to a plain-http URL exposes it to anyone on the path. Use https for every ACS. http on a loopback address (127.0.0.1, ::1, localhost) is accepted with a warning for local test setups only.",
        ["SAML 2.0 Bindings §3.5.5.2 (HTTP-POST security: TLS recommended)"];
    MD_SLO = "metadata.slo", Metadata, Medium,
        "SingleLogoutService endpoints over https",
        "NemLog-in runs single logout: when a user logs out elsewhere, it sends a LogoutRequest to every SP in the session. Without an SLO endpoint (HTTP-Redirect and/or HTTP-POST, plus SOAP for back-channel logout as OIOSAML.Java publishes) the SP session survives a logout the user believes happened. Endpoints must use https like the ACS.",
        [OIOSAML_JAVA_SP_MD, "SAML 2.0 Profiles §4.4 Single Logout"];
    MD_ACS_ATTRS = "metadata.attribute-consuming-service", Metadata, Medium,
        "AttributeConsumingService requests the OIOSAML 3 core attributes",
        "NemLog-in releases the attributes listed in the SP's AttributeConsumingService (the reference SP sends no AttributeConsumingServiceIndex and relies on the default one). Without it, or without specVersion and nsis/loa, the SP cannot check that a login is OIOSAML 3 at the NSIS level it needs.",
        [OIOSAML_JAVA_SP_MD, "OIOSAML 3 attribute profile: https://data.gov.dk/model/core/specVersion, https://data.gov.dk/concept/core/nsis/loa"];
    MD_ATTR_NAMES = "metadata.attribute-names", Metadata, High,
        "RequestedAttributes use OIOSAML 3 names, none of the legacy OIOSAML 2 ones",
        "Attribute names like dk:gov:saml:attribute:CprNumberIdentifier or urn:oid:2.5.4.3 belong to OIOSAML 2 / NemID (DK-SAML-2.0); NemLog-in3 issues only https://data.gov.dk/... names with NameFormat uri. Requesting legacy names means the SP still reads them, i.e. it would accept a NemID-era assertion. Request the OIOSAML 3 names and remove the old ones from both metadata and code.",
        ["OIOSAML 3 attribute profile (NemLog-in IdP metadata attribute list)", "NemLog-in2 IdP metadata Test-nemlog-in-2.xml (legacy names)"];
    MD_PRIVATE_SP = "metadata.private-sp-attributes", Metadata, High,
        "A private SP does not request cprNumber or privilegesIntermediate",
        "Only public-sector SPs may receive the CPR number and the OIO basic privilege profile from NemLog-in. A private SP that requests https://data.gov.dk/model/core/eid/cprNumber or .../privilegesIntermediate in its metadata is refused at registration. Remove them (use the person UUID as the key; private SPs obtain CPR, if at all, through a broker's CPR match).",
        [NL_PRIVATE_SP];
    MD_ENTITY_ID = "metadata.entity-id", Metadata, Low,
        "entityID follows the https://saml.<domain> convention",
        "SAML entityIDs are opaque URIs of at most 1024 characters, but NemLog-in's own entityIDs and its onboarding guides use https://saml.<your domain>. An entityID under a domain you control avoids collisions; changing it later means re-registering the SP, so pick the conventional form now.",
        ["SAML 2.0 Core §8.3.6 (entity identifier, 1024 characters)", "Safewhere/FoxIDs NemLog-in3 guides: SP entityID https://saml.<domain>"];

    CERT_OCES3 = "certificate.oces3", Certificate, Critical,
        "Certificates are OCES3 (not OCES2, self-signed or other)",
        "NemLog-in3 requires the SP's signing and encryption certificates to be OCES3 organisation certificates (issuer \"Den Danske Stat OCES udstedende-CA\"). OCES2 certificates (TRUST2408, NemID era) were phased out with NemID, and self-signed certificates are refused. Order an OCES3 organisation (system) certificate in MitID Erhverv and replace the one in the metadata.",
        [FOXIDS_OCES3, "NemLog-in migration: replace OCESII certificates with OCES3"];
    CERT_VALIDITY = "certificate.validity", Certificate, High,
        "Certificates are valid now and for the next 90 days",
        "An expired SP certificate stops logins the day it expires: NemLog-in rejects the request signature and cannot encrypt to an expired key. OCES3 certificates last 3 years; renew at least 90 days ahead, publish the new certificate next to the old one, and remove the old one after the switch.",
        ["RFC 5280 §4.1.2.5 (validity)", "FoxIDs docs: OCES3 certificates are valid 3 years"];
    CERT_KEY = "certificate.key", Certificate, High,
        "Certificate keys are RSA, at least 2048 bits (3072 for OCES3)",
        "NemLog-in signs and encrypts with RSA (RSA-SHA256, RSA-OAEP), so the SP's keys must be RSA. Keys under 2048 bits are breakable and refused by current crypto libraries; OCES3 organisation certificates are issued with 3072-bit keys, so a smaller OCES3-looking key deserves a second look.",
        ["NIST SP 800-57 Part 1 (RSA 2048 minimum)", "OCES3 certificates: RSA 3072 leaf keys"];

    AR_DECODE = "authn-request.decode", AuthnRequest, Critical,
        "The redirect carries a decodable SAML 2.0 AuthnRequest",
        "The HTTP-Redirect binding carries the request as SAMLRequest = URL-encode(base64(raw DEFLATE(XML))). Anything else (missing parameter, bad base64, zlib header instead of raw DEFLATE, oversized or non-XML content, a DOCTYPE, another root element) is refused by NemLog-in before it reads the request.",
        [SAML_BIND_REDIRECT, SAML_CORE_REQ];
    AR_BINDING = "authn-request.binding", AuthnRequest, High,
        "Sent with the HTTP-Redirect binding, DEFLATE encoding, no embedded XML signature",
        "NemLog-in's IdP metadata lists only an HTTP-Redirect SingleSignOnService. In that binding the signature travels in the SigAlg and Signature query parameters and an enveloped <ds:Signature> must be removed from the XML before DEFLATE; SAMLEncoding, if present, must be the DEFLATE URI.",
        [SAML_BIND_REDIRECT, "NemLog-in IdP metadata: SingleSignOnService HTTP-Redirect only"];
    AR_SIG_ALG = "authn-request.sig-alg", AuthnRequest, Critical,
        "Signed with RSA-SHA256",
        "NemLog-in answers an unsigned request, or one signed with SHA-1 (http://www.w3.org/2000/09/xmldsig#rsa-sha1), with \"A technical error has occurred\". Configure the SAML library to sign AuthnRequests with http://www.w3.org/2001/04/xmldsig-more#rsa-sha256.",
        ["digst/OIOSAML.Java Configuration.signatureAlgorithm (default rsa-sha256)", "citizenlab nemlog_in_omniauth.rb (devtest4 refuses unsigned and SHA-1 requests)", SAML_BIND_REDIRECT];
    AR_SIGNATURE = "authn-request.signature", AuthnRequest, Critical,
        "Signature verifies with a signing certificate from the SP's metadata",
        "The IdP verifies the redirect signature over the exact query octets SAMLRequest=...&RelayState=...&SigAlg=... (as sent, not re-encoded) with the signing certificate registered in the SP's metadata. If the SP signs with another key (a new certificate not yet in the metadata, a test key in production) every login fails. Publish the key you sign with, and sign the URL-encoded values exactly as you send them.",
        [SAML_BIND_REDIRECT, FOXIDS_OCES3];
    AR_ISSUER = "authn-request.issuer", AuthnRequest, High,
        "Issuer equals the SP's entityID",
        "The IdP looks up the SP's metadata (keys, ACS URLs, attributes) by the request's Issuer. An Issuer that differs from the metadata entityID makes the IdP use the wrong registration or none.",
        [SAML_CORE_REQ, "SAML 2.0 Profiles §4.1.4.1 (Issuer required in AuthnRequest)"];
    AR_DESTINATION = "authn-request.destination", AuthnRequest, High,
        "Destination (and the redirect target) is the broker's SSO URL",
        "A signed request must carry Destination, and the IdP rejects a request whose Destination is not its own SSO endpoint (it would otherwise accept requests meant for another IdP). Take the SSO URL from the IdP metadata's HTTP-Redirect SingleSignOnService; note that NemLog-in's ends in a slash.",
        ["SAML 2.0 Bindings §3.4.5.2 (Destination required for signed messages)", "digst/OIOSAML.Java AuthnRequestService (Destination = Redirect SSO endpoint from metadata)"];
    AR_ACS = "authn-request.acs", AuthnRequest, High,
        "The requested ACS (URL or index) is registered in the SP's metadata, with HTTP-POST",
        "The IdP sends the response only to an ACS registered in the SP's metadata; an AssertionConsumerServiceURL that differs even by a trailing slash or port is refused. AssertionConsumerServiceURL and AssertionConsumerServiceIndex are mutually exclusive, and ProtocolBinding, if given, must be HTTP-POST for NemLog-in.",
        [SAML_CORE_REQ, "SAML 2.0 Profiles §4.1.4.1"];
    AR_ISSUE_INSTANT = "authn-request.issue-instant", AuthnRequest, Medium,
        "IssueInstant is current (within 5 minutes) and in UTC",
        "IdPs reject requests whose IssueInstant is outside their clock-skew window (5 minutes in the reference implementation), which shows up as intermittent login failures when the SP's clock drifts. Run NTP on the SP and emit IssueInstant as UTC (ending in Z).",
        [SAML_CORE_REQ, "digst/OIOSAML.Java: default clock skew 5 minutes"];
    AR_ID = "authn-request.id", AuthnRequest, High,
        "ID is a well-formed xs:ID and fresh per request",
        "The ID must be an xs:ID (an NCName: it starts with a letter or '_', so a UUID needs a prefix such as '_') with at least 128 bits of randomness, and a new one for every request: the SP matches the response's InResponseTo against it, and a reused or predictable ID lets a captured response be replayed.",
        ["SAML 2.0 Core §1.3.4 (ID values: unique, 128 bits of randomness)", "XML Schema xs:ID / NCName"];
    AR_LOA = "authn-request.loa", AuthnRequest, Critical,
        "RequestedAuthnContext asks for an NSIS LoA that meets the service's requirement",
        "An OIOSAML 3 SP states the NSIS level it needs as AuthnContextClassRef https://data.gov.dk/concept/core/nsis/loa/{Low,Substantial,High} with Comparison=\"minimum\". Asking only for NemID credential types (https://nemlogin.dk/internal/credential/type/nemidkeycard or nemidkeyfile) or urn:oasis:names:tc:SAML:2.0:ac:classes:X509 is a NemID-era request; asking for nothing leaves the level to the IdP's default, and the SP must then check the delivered LoA itself.",
        ["digst/OIOSAML.Java AuthnRequestService (OIO-SP-06: RequestedAuthnContext Comparison minimum with NSIS LoA)", "FoxIDs NemLoginUpPartyLogic.cs (NemLog-in credential types)"];
    AR_PROFILE = "authn-request.profile", AuthnRequest, Medium,
        "The requested attribute profile (Person/Professional) matches the service",
        "NemLog-in reads https://data.gov.dk/eid/Person or https://data.gov.dk/eid/Professional in RequestedAuthnContext to decide whether a citizen (MitID) or an employee (MitID Erhverv) logs in. A request for the other profile, or none, shows the user the wrong login and gives the SP attributes it is not built for.",
        ["digst/OIOSAML.Java Constants.ATTRIBUTE_PROFILE_PERSON / _PROFESSIONAL", "digst/OIOSAML.Net Saml20SignonHandler (profile in RequestedAuthnContext)"];
    AR_FORCE_PASSIVE = "authn-request.force-passive", AuthnRequest, Low,
        "ForceAuthn/IsPassive are sensible",
        "NemLog-in logins are interactive: IsPassive=\"true\" asks the IdP not to interact and normally ends in a NoPassive error instead of a login. ForceAuthn together with IsPassive is contradictory. Leave IsPassive out (or false) unless you implement a silent session probe and handle NoPassive.",
        [SAML_CORE_REQ];
    AR_RELAY_STATE = "authn-request.relay-state", AuthnRequest, Medium,
        "RelayState is present and at most 80 bytes",
        "The SAML bindings limit RelayState to 80 bytes; NemLog-in tolerates up to 512 and fails above that. Some IdPs require a RelayState, and the reference SP always sends one. Keep an opaque short handle (a random key into the SP's session) rather than the return URL itself, which also avoids open-redirect bugs.",
        ["SAML 2.0 Bindings §3.4.3 (RelayState MUST NOT exceed 80 bytes)", "citizenlab nemlog_in_omniauth.rb (NemLog-in errors above 512 characters)", "digst/OIOSAML.Java AuthenticatedFilter (RelayState always set)"];
    AR_ENCODING = "authn-request.encoding", AuthnRequest, Medium,
        "Encoded parameters contain no line breaks or unescaped '+'",
        "Base64 encoders that wrap lines (MIME style, CRLF every 76 characters) put %0D%0A into SAMLRequest or Signature; strict IdPs reject the message, and lenient ones verify a different octet string than the SP signed. An unescaped '+' is read as a space by form decoders. Use unwrapped base64 and percent-encode '+', '/' and '='.",
        [SAML_BIND_REDIRECT, "RFC 4648 §3.1 (no line feeds in base64 unless the spec says so)"];
}
