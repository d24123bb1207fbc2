//! The dangerous API: every deliberately invalid SAML message the broker can produce.
//!
//! Like rustls's `.dangerous()`, this is the one clearly named place where the broker is told to
//! lie. Nothing else in the crate produces an invalid message. A [`FaultPlan`] is a value (it
//! deserialises from the scenario TOML), armed for exactly one login flow, keyed by the
//! AuthnRequest ID, so concurrent scenarios never see each other's faults.
//!
//! This module is the vocabulary ([`Fault`] and its parameters); its submodules apply it, one
//! small function per fault, grouped by the point of the data path where the fault acts:
//! 1. on the **model**, before any XML exists ([`Fault::Set`], [`Fault::Remove`],
//!    [`Fault::SetAttribute`], [`Fault::LegacyOiosaml2`], ...): `model`, with the addressable
//!    fields in [`ModelPath`] and value placeholders in [`expand_placeholders`];
//! 2. on the **crypto** (which key signs, whether anything is signed or encrypted, SHA-1):
//!    `crypto`;
//! 3. on the **XML after signing**: the signed assertion's bytes (comment injection, tampering:
//!    `signed_assertion`), the elements around it (signature wrapping, extra assertions:
//!    `wrapping`) and the final document (DOCTYPE, text replacement: `document`).
//!
//! `stages` holds the one exhaustive `match` that gives every variant its stage and function,
//! so a new [`Fault`] does not compile until it does something; `saml::mint` runs the stages.

mod crypto;
mod document;
mod duplicate_attribute;
pub mod logout;
mod model;
mod model_path;
mod namespace;
mod placeholders;
mod roundtrip;
mod signed_assertion;
mod stages;
mod wrapping;

pub use logout::{LogoutFault, LogoutRequestModel};
pub use model_path::ModelPath;
pub use placeholders::expand_placeholders;
pub(crate) use stages::StageContext;

use serde::{Deserialize, Serialize};

/// Which key signs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SigningKeyChoice {
    /// The mock OCES3 IdP key in the broker's metadata (the normal case).
    Idp,
    /// The second OCES3 IdP key (rotation), also in the metadata.
    IdpNext,
    /// The mock OCES2 (TRUST2408-style FOCES) key of the NemLog-in2 era: not in the metadata.
    Oces2,
    /// A self-signed attacker key imitating the IdP's subject.
    Attacker,
}

/// Which certificate goes into the signature's KeyInfo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeyInfoChoice {
    /// The certificate of the key that signed (default).
    Signer,
    /// No KeyInfo at all.
    None,
    /// The signing key's bare public key as `ds:KeyValue/ds:RSAKeyValue` (Modulus, Exponent),
    /// no certificate: xmlsec1 verifies with such a key unless `--enabled-key-data` restricts
    /// it to X.509 data, which is how pysaml2 < 6.5.0 trusted any signer (CVE-2021-21239).
    KeyValue,
}

/// The signature-wrapping variants (XSW1–XSW8, after SAML Raider / "On Breaking SAML").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum XswVariant {
    /// Signed Response cloned into its own Signature; the outer (evil) Response is consumed.
    Xsw1,
    /// Signed Response cloned as a sibling before its Signature.
    Xsw2,
    /// Evil assertion inserted before the signed one.
    Xsw3,
    /// Evil assertion wraps the signed one.
    Xsw4,
    /// Evil assertion carries the original Signature; the clean original follows unsigned.
    Xsw5,
    /// Like XSW5, but the clean original sits inside the evil assertion's Signature.
    Xsw6,
    /// The signed assertion hides in `samlp:Extensions`; the evil one is where SPs look.
    Xsw7,
    /// The clean original goes into a `ds:Object` of the evil assertion's Signature.
    Xsw8,
}

// ---- issue 13: the parameters of the faults for published SAML bypass advisories ----

/// Where `digest-value-elsewhere` puts the digest of the tampered assertion (ruby-saml
/// CVE-2024-45409: `//ds:DigestValue` searched from the document root).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DigestPosition {
    /// A bare `ds:DigestValue` in the Response's `samlp:Extensions` (before the assertion).
    Extensions,
    /// A whole `ds:Reference` (Transforms, DigestMethod, the forged DigestValue) in
    /// `samlp:Extensions`.
    ExtensionsReference,
    /// The forged SignedInfo in a `ds:Object` placed before the genuine SignedInfo inside the
    /// assertion's Signature: first in document order, yet not the Signature's SignedInfo child.
    BeforeSignedInfo,
    /// The forged SignedInfo in a `ds:Object` after SignatureValue: the control, which a
    /// first-match document-wide reader does not pick (only an "any DigestValue matches" one
    /// would).
    AfterSignature,
}

/// Where the genuine signed assertion goes when an evil assertion takes its ID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DuplicateIdPlacement {
    /// In `samlp:Extensions`, before the evil assertion.
    Extensions,
    /// Inside an unknown `<x:W xmlns:x="urn:mock:xsw">` child of the Response, before the evil.
    WrapperBefore,
    /// A second (encrypted) assertion after the evil one.
    SiblingAfter,
    /// The last child of the evil assertion.
    NestedLastChild,
}

/// Which of the two same-ID assertions carries the genuine ds:Signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SignatureHome {
    /// Left in the genuine assertion, as the IdP signed it.
    #[default]
    Genuine,
    /// Moved into the evil assertion (an SP that wants the Signature enveloped in the consumed
    /// element finds it there).
    Evil,
}

/// Where the clean original goes when the evil assertion carries its Signature (pysaml2
/// CVE-2021-21238 test vectors).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HiddenOriginal {
    /// The last child of the evil assertion.
    NestedLastChild,
    /// In `samlp:Extensions`.
    Extensions,
    /// Inside a non-SAML element that follows the evil assertion in the Response.
    WrapperAfter,
}

/// Where the clean original goes when its Signature is moved up to the Response (Keycloak
/// CVE-2024-8698).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ResponseLevelOriginal {
    /// In `samlp:Extensions`.
    #[default]
    Extensions,
    /// Inside an unknown `<x:W xmlns:x="urn:mock:xsw">` child of the Response.
    Wrapper,
}

/// The HMAC SignatureMethod of `hmac-key-confusion`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HmacAlg {
    /// `http://www.w3.org/2000/09/xmldsig#hmac-sha1`.
    HmacSha1,
    /// `http://www.w3.org/2001/04/xmldsig-more#hmac-sha256`.
    HmacSha256,
}

/// The bytes of the IdP's public signing certificate used as the HMAC key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HmacKeyEncoding {
    /// `-----BEGIN CERTIFICATE-----`, 64-column base64, LF line ends, final newline.
    CertPem,
    /// The metadata's `X509Certificate` text: base64 DER, no header, no line breaks.
    CertBase64,
    /// The certificate's DER bytes.
    CertDer,
    /// The certificate's public key as `-----BEGIN PUBLIC KEY-----` PEM (SPKI), LF, final
    /// newline.
    SpkiPem,
}

/// How `signature-error` breaks a tampered assertion's signature so that verifying it is an
/// *error* rather than a mismatch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SignatureErrorKind {
    /// A one-byte SignatureValue.
    ShortValue,
    /// An empty SignatureValue.
    EmptyValue,
    /// A SignatureValue that is not base64 (`!!!`).
    BadBase64,
    /// SignatureMethod `xmldsig-more#ecdsa-sha256` while the IdP key is RSA.
    EcdsaMethodRsaKey,
    /// SignatureMethod `xmldsig#dsa-sha1`.
    DsaMethod,
    /// SignatureMethod `urn:mock:unknown-signature-method`.
    UnknownMethod,
    /// No signature over the assertion at all: two `ds:Signature` children whose Reference
    /// names an ID no element has (XML::Sig CVE-2026-18568 skipped each and returned true).
    NoResolvableReference,
}

/// What a `doctype` fault's DOCTYPE holds (docs/advisories.md S8: a DTD that declares no
/// external entity still reaches SPs that only switched external entities off).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DoctypeSubset {
    /// `<!ENTITY xxe SYSTEM "…fetch recorder…">` referenced in the Response's Issuer (XXE).
    #[default]
    ExternalEntity,
    /// `<!DOCTYPE samlp:Response>` and nothing else.
    Bare,
    /// An internal subset of `<!ATTLIST>` declarations (the Response's and Assertion's `ID` as
    /// ID attributes, as the xmlseclibs entity-reference and XMLTooling shapes need).
    Attlist,
    /// An internal-subset comment holding `]>` and `<ds:Signature>`-looking text (a scanner
    /// that ends the DOCTYPE at the first `]>`, or searches the raw text for a signature, is
    /// fooled; an XML parser sees a comment).
    CommentMarkup,
    /// An internal `<!ENTITY>` whose expansion completes `Response/@Destination`: the document
    /// carries the right Destination only after expansion (ruby-saml CVE-2025-25291 shape).
    InternalEntity,
    /// An internal `<!ENTITY>` whose expansion is the tail of the signed NameID of a plaintext
    /// assertion (needs `no-encryption`): canonicalisation expands it, so the signature holds;
    /// a reader that drops entity-reference nodes sees a truncated NameID (XMLTooling
    /// CVE-2018-0486).
    EntityInNameId,
}

impl DoctypeSubset {
    /// Whether this is the default (kept out of serialised plans so existing ones are unchanged).
    pub fn is_default(&self) -> bool {
        *self == DoctypeSubset::ExternalEntity
    }
}

/// Where an `entity-ref-id` fault puts the genuine signed assertion and the DTD that declares
/// the entity (docs/advisories.md S8 remainder).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EntityRefIdPlacement {
    /// A plaintext assertion (needs `no-encryption`): the DTD on the Response, the evil
    /// assertion the Response's only assertion child, the genuine one in `samlp:Extensions`
    /// (where an assertion counter that looks only at the Response's children does not see
    /// it).
    Extensions,
    /// Inside the one `EncryptedAssertion` (the attacker encrypts to the SP's public
    /// encryption certificate): the plaintext is a document of its own, its DTD first, then the
    /// evil assertion with the genuine one as its last child. The Response itself carries no
    /// DOCTYPE, so an SP that refuses a DOCTYPE only on the message it received (and not in
    /// what it decrypts) misses it; xmlseclibs added the refusal in decrypted XML to 4.0.0
    /// (commit 35ea7ec) a day before the one in verified documents (commit 621a61c).
    EncryptedNested,
}

/// What a `namespace-confusion` fault sends (docs/advisories.md S9; ruby-saml CVE-2025-25292
/// and its incomplete 1.12.4 fix CVE-2025-66567). ruby-saml before 1.18.0 verified the
/// signature with Nokogiri, which resolves names by namespace URI, and read the assertion
/// with REXML XPath under fixed prefixes; namespace declarations the two resolve differently
/// made them pick different elements. The forged variants keep the genuine signed assertion
/// whole and put an evil one for the victim beside it, inside the one EncryptedAssertion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NamespaceVariant {
    /// The EncryptedAssertion decrypts to an evil `saml:Assertion` for the victim whose `saml`
    /// prefix is bound to `urn:mock:not-saml-assertion`, with the genuine signed assertion as
    /// its last child (the evil one comes first in document order). Namespace-aware, the
    /// decrypted root is not a SAML assertion at all; by qualified name it is the assertion.
    WrongUriEvilFirst,
    /// The positive control: the genuine assertion written (and signed) with the prefix `a:`
    /// bound to the SAML assertion namespace. Prefixes are not fixed: an SP must accept it.
    GenuineOddPrefix,
    /// `genuine-odd-prefix` inside an evil `saml:Assertion` whose `saml` is bound to another
    /// URI (as in `wrong-uri-evil-first`): the only element *named* `saml:Assertion` is the
    /// evil one, the only one that *is* a SAML assertion is the genuine one.
    OddPrefixEvil,
    /// `wrong-uri-evil-first` whose evil assertion also carries a copy of the genuine
    /// `ds:Signature` with `ds` bound to `urn:mock:not-dsig`: a reader that checks by qualified
    /// name that the assertion it reads "has a ds:Signature" is fooled as well.
    DsWrongUri,
    /// A `samlp:Extensions` holding an element whose prefix is declared nowhere: the message is
    /// not namespace-well-formed (Namespaces in XML 1.0 §5) and must be refused; libxml2
    /// only reports it as an error and keeps the element (ruby-saml 1.12.4/1.18.0 refuse any
    /// document Nokogiri reports errors for).
    UndeclaredPrefix,
}

impl NamespaceVariant {
    /// Whether the variant adds a forged assertion for a victim beside the genuine one.
    pub fn forges(self) -> bool {
        match self {
            NamespaceVariant::WrongUriEvilFirst
            | NamespaceVariant::OddPrefixEvil
            | NamespaceVariant::DsWrongUri => true,
            NamespaceVariant::GenuineOddPrefix | NamespaceVariant::UndeclaredPrefix => false,
        }
    }
}

/// What a `roundtrip` fault puts in the Response (docs/advisories.md S10; crewjam/saml
/// CVE-2020-27846, dex CVE-2020-26290, the Mattermost disclosure of Go `encoding/xml`
/// round-trip instabilities, Dec 2020). Each is one of the token forms Go's `encoding/xml`
/// accepts but does not write back unchanged, and which `mattermost/xml-roundtrip-validator`
/// (called on every message by crewjam/saml 0.4.3 and dex 2.27) refuses. None is
/// namespace-well-formed XML, so a strict parser refuses the message before reading it. Each is
/// placed in a `samlp:Extensions` of the Response, outside the signed and encrypted assertion:
/// the genuine login is intact, only an SP whose parser accepts the form gets to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RoundtripVariant {
    /// An `xmlns:` attribute with an empty local name (`xmlns:="…"`, the validator's
    /// "empty xmlns local names" case): Go before 1.20 tokenises it as a namespace declaration
    /// of the empty prefix, i.e. a default namespace, and its Encoder drops it, so the
    /// namespace of the unprefixed content changes between the two parses ("attribute
    /// namespace prefix instability").
    AttrXmlnsPrefix,
    /// A `<!…>` directive inside element content whose comments rejoin into new markup when it
    /// is written back (`<! <<!-- -->!-- x --> y>`, the validator's own case: Go up to 1.15
    /// dropped the comment, and the re-encoded `<!-- x -->` is a new comment; "directive
    /// instability").
    DirectiveInElement,
    /// An element name with two colons (`<nlx:mitid:LoginHint>`): Go before 1.17 splits it at
    /// the first colon, and its Encoder writes `<mitid:LoginHint xmlns="…">`, which parses as
    /// another prefix and local name ("element namespace prefix instability").
    DoubleColonName,
}

/// What a `duplicate-attribute` fault sends (docs/advisories.md S10, the namespace half of
/// xmldom CVE-2021-21366 / GHSA-h6q6-9hqw-rwfv; fixed in xmldom 0.5.0, merge d4201b9, which
/// throws on any duplicated attribute). xmldom up to 0.4.0 bound names with the first of two
/// declarations of a prefix, kept the last as the DOM attribute, and its serialiser wrote that
/// one first, so after serialise → parse the element is in the namespace of the *last*
/// declaration. Every variant is not well-formed XML (XML 1.0 "Unique Att Spec"; Namespaces in
/// XML 1.0 §3) and must be refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DuplicateAttributeVariant {
    /// The EncryptedAssertion decrypts to an evil `saml:Assertion` for the victim whose start
    /// tag declares `xmlns:saml` twice, first `urn:mock:not-saml-assertion`, then the SAML
    /// assertion namespace, with the genuine signed assertion as its last child. The first
    /// xmldom ≤ 0.4.0 parse sees one SAML assertion, the genuine one; after serialise → parse
    /// the evil root is a SAML assertion too, and comes first.
    XmlnsEvilFirst,
    /// `xmlns-evil-first` with the evil assertion unprefixed and its *default* namespace
    /// declared twice: a fix that refuses duplicated prefixed declarations only (roxmltree
    /// 0.21's own check, for one) passes `xmlns-evil-first` and accepts this one.
    DefaultXmlnsEvilFirst,
    /// A `samlp:Extensions` holding an element whose default namespace is declared twice with
    /// the same URI: nothing changes on a round trip, but the message is not well-formed. A fix
    /// that only refuses declarations that *conflict* accepts it.
    DefaultXmlnsSameUri,
    /// A `samlp:Extensions` holding an element with an ordinary attribute twice (`Kind`): a fix
    /// that refuses duplicated namespace declarations only accepts it; xmldom 0.5.0 refuses
    /// every duplicated attribute.
    PlainAttribute,
}

impl DuplicateAttributeVariant {
    /// Whether the variant adds a forged assertion for a victim around the genuine one.
    pub fn forges(self) -> bool {
        match self {
            DuplicateAttributeVariant::XmlnsEvilFirst
            | DuplicateAttributeVariant::DefaultXmlnsEvilFirst => true,
            DuplicateAttributeVariant::DefaultXmlnsSameUri
            | DuplicateAttributeVariant::PlainAttribute => false,
        }
    }
}

/// Where `void-c14n` declares the relative namespace URI that makes canonicalisation fail
/// (CVE-2025-66568, CVE-2025-66475). libxml2's C14N walks the whole document and aborts at the
/// first element that declares one, before it has written a byte when that element comes
/// before the signed content; the vulnerable callers then digest and verify `""`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum VoidC14nOn {
    /// On `samlp:Response`: every canonicalisation of the document fails, so the
    /// `DigestValue` is SHA-256 of the empty string (the published "Golden SAML Response").
    Response,
    /// On the (forged) `saml:Assertion` itself: as for `response`, inside the encrypted part.
    Assertion,
    /// On the assertion's `ds:Signature` only: canonicalising `SignedInfo` fails, but
    /// xmlseclibs and ruby-saml detach the Signature (enveloped transform) before digesting
    /// the assertion, which then canonicalises fine, so the `DigestValue` is the real digest
    /// of the forged assertion. Separates a fix that guards only the Reference digest from
    /// one that guards every canonicalisation.
    Signature,
}

/// What `smuggle-in-signature` hides inside the assertion's own `ds:Signature`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SmuggledElement {
    /// A whole `saml:Subject` whose NameID names the victim (a reader that takes the first
    /// descendant `Subject/NameID` of the assertion finds it before the genuine one).
    Subject,
    /// A `saml:AttributeStatement` with the victim's CPR number (a reader that collects the
    /// attributes of every descendant AttributeStatement sees the victim's CPR first).
    CprAttribute,
}

/// Where inside the assertion's `ds:Signature` `smuggle-in-signature` puts its element: the
/// two places the enveloped-signature transform removes from the digest and the SignedInfo
/// does not cover, both allowed by the XML-DSig schema (`ds:Object` holds any content,
/// `ds:KeyInfo` any element of another namespace).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SmugglePlace {
    /// In a `ds:Object` appended to the Signature.
    Object,
    /// Inside `ds:KeyInfo`, after its X509Data (a KeyInfo is added when the Signature has
    /// none). Separates a fix that refuses `ds:Object` from one that reads only the
    /// assertion's own children.
    KeyInfo,
}

/// Which signed value `pi-in-signed-text` splits with a processing instruction
/// (docs/advisories.md S15).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PiTarget {
    /// The text of `saml:Subject/saml:NameID` (the key MitID SPs log users in by).
    NameId,
    /// The first value of the professional CVR attribute
    /// (`https://data.gov.dk/model/core/eid/professional/cvr`).
    Cvr,
}

/// Where in the signed value `pi-in-signed-text` puts the processing instruction that holds the
/// characters a PI-skipping reader must not see. Each variant names the value the reader sees
/// `V` and the hidden characters `H`; the IdP signed the concatenation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PiSplit {
    /// Signed `HV`, sent `<?x H?>V` (the OneUptime #2988 example's shape: the PI first).
    #[default]
    Start,
    /// Signed `V1 H V2` (the cut in the middle of `V`), sent `V1<?x H?>V2`: the text on both
    /// sides of the PI is kept, so a reader that takes only the first text node sees `V1`, and
    /// a fix that strips only a leading PI still reads `V1V2`.
    Middle,
    /// Signed `VH`, sent `V<?x H?>`: the value's own text comes first and is whole, so a fix
    /// that checks only that the element *starts* with text lets it through.
    End,
}

impl PiSplit {
    /// Whether this is the default (kept out of serialised plans).
    pub fn is_default(&self) -> bool {
        *self == PiSplit::Start
    }
}

/// One fault.
///
/// (De)serialised with a `fault` tag in kebab-case, e.g. `{ fault = "remove", path =
/// "assertion.conditions" }`; see the `Deserialize` impl for why it goes through a map visitor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    remote = "Self",
    tag = "fault",
    rename_all = "kebab-case",
    deny_unknown_fields
)]
pub enum Fault {
    // ---- model, before signing ----
    /// Set a field (see [`ModelPath`] for the names). `value` may use `{now}`, `{now+5m}`,
    /// `{now-2h}`, `{acs}`, `{sp}`, `{idp}`, `{request_id}` placeholders; a time placeholder
    /// may end in an explicit fraction of a second, `{now.123}` or `{now-5m.1234567}`.
    Set {
        /// Field path, e.g. `assertion.conditions.not_on_or_after`; an unknown one fails
        /// deserialisation.
        path: ModelPath,
        /// New value.
        value: String,
    },
    /// Remove an element or attribute (see [`ModelPath`]).
    Remove {
        /// Field path.
        path: ModelPath,
    },
    /// Set (replace or add) an attribute in the assertion's AttributeStatement.
    SetAttribute {
        /// Attribute Name.
        name: String,
        /// Values.
        values: Vec<String>,
        /// NameFormat (default: uri for `https://` names, basic otherwise).
        #[serde(default)]
        name_format: Option<String>,
    },
    /// Remove an attribute.
    RemoveAttribute {
        /// Attribute Name.
        name: String,
    },
    /// Omit the `NameFormat` XML attribute of one Attribute, or of every Attribute when `name`
    /// is absent. NameFormat is optional in SAML core (2.7.3.1), so a correct SP must still
    /// accept the assertion (spid-sp-test case 109).
    RemoveNameFormat {
        /// Attribute Name (default: all attributes).
        #[serde(default)]
        name: Option<String>,
    },
    /// Add a second Audience (or a second AudienceRestriction when `separate` is true).
    AddAudience {
        /// The extra audience.
        value: String,
        /// Put it in its own AudienceRestriction.
        #[serde(default)]
        separate: bool,
    },
    /// Replace the whole assertion with the NemID-era OIOSAML 2 (DK-SAML-2.0) assertion for the
    /// same person: X509SubjectName NameID with `Serial=PID:`, AssuranceLevel 3, basic names.
    LegacyOiosaml2,
    /// OIOSAML 4.0: the assertion's attributes are those of this attribute profile, whatever
    /// the SP requested (a profile it did not request, e.g. Person/DK with CPR for a service
    /// that asked for Person/DK/WithoutCPR).
    AttributeProfile {
        /// The profile the assertion follows.
        profile: crate::saml::oiosaml4::AttributeProfile,
    },
    /// OIOSAML 4.0: the assertion is the OIOSAML 3.0.3 one for the same login (specVersion
    /// OIO-SAML-3.0, no attribute profile, the NSIS LoA only, the 3.0.3 AuthnContextClassRef),
    /// as an SP still wired to the 3.0.3 endpoint's vocabulary would expect.
    Oiosaml303Assertion,
    /// Set the response Status.
    Status {
        /// Top-level code.
        code: String,
        /// Second-level code.
        #[serde(default)]
        sub_code: Option<String>,
        /// StatusMessage.
        #[serde(default)]
        message: Option<String>,
    },
    /// Drop the assertion entirely (a Success response without one, or an error response).
    NoAssertion,
    /// Two assertions: the genuine signed one first, then an unsigned one for `victim`.
    AppendUnsignedAssertion {
        /// Identity the second assertion names (default: a different built-in identity).
        #[serde(default)]
        victim: Option<String>,
    },
    // ---- crypto ----
    /// Sign the assertion with another key.
    SignWith {
        /// Key choice.
        key: SigningKeyChoice,
    },
    /// What KeyInfo carries.
    KeyInfo {
        /// Choice.
        cert: KeyInfoChoice,
    },
    /// Do not sign the assertion.
    UnsignedAssertion,
    /// Also sign the Response (OIOSAML 3 says it SHOULD NOT be, but it is not an error).
    SignResponse,
    /// Use RSA-SHA1 and a SHA-1 digest.
    Sha1,
    /// Send the assertion in plaintext (NemLog-in2-era; OIOSAML 3 requires encryption).
    NoEncryption,
    /// Encrypt with specific algorithms, overriding the SP's metadata and the default.
    EncryptWith {
        /// Data encryption URI.
        data: String,
        /// Key transport URI.
        key_transport: String,
    },
    // ---- XML, after signing ----
    /// Signature wrapping with an evil assertion for `victim`.
    Xsw {
        /// Variant.
        variant: XswVariant,
        /// Identity the evil assertion names (default: a different built-in identity).
        #[serde(default)]
        victim: Option<String>,
    },
    /// Insert `<!---->` into the signed NameID text after `after` characters; the signature
    /// stays valid, and an SP reading only the first text node sees a truncated identity.
    CommentInNameId {
        /// Split position in characters.
        after: usize,
    },
    /// Insert a comment into an attribute value after signing.
    CommentInAttribute {
        /// Attribute name.
        name: String,
        /// Split position in characters.
        after: usize,
    },
    /// `<ds:DigestValue><!--forged-->ORIGINAL</ds:DigestValue>` (CVE-2025-29775 shape) with a
    /// tampered assertion.
    DigestValueComment,
    /// A second `ds:SignedInfo` in the Signature (CVE-2025-29774 shape).
    TwoSignedInfo,
    /// A genuinely IdP-signed foreign element (signed IdP metadata) precedes the assertion,
    /// which is unsigned (spid-saml-check 112) or, with `keep_assertion_signature`, keeps a
    /// signature that another fault (`tamper-after-signing`) invalidates (saml-check 113).
    SignedForeignElement {
        /// Keep the assertion's own signature instead of leaving it unsigned.
        #[serde(default)]
        keep_assertion_signature: bool,
    },
    /// A genuinely IdP-signed element (this login's own signed assertion, in plaintext) as the
    /// first of two top-level elements, then the Response with an unsigned plaintext assertion
    /// for `victim` (CVE-2022-39299 shape: xmldom accepted a second root, passport-saml checked
    /// the signature of the first and read the assertion through the second). Not well-formed
    /// XML, so a conforming parser refuses it before any SAML check.
    SignedElementAsFirstRoot {
        /// Identity the forged assertion names (default: a different built-in identity).
        #[serde(default)]
        victim: Option<String>,
    },
    /// Tamper the signed assertion after signing (NameID changed to `victim`'s), so the
    /// digest no longer matches.
    TamperAfterSigning {
        /// Identity the tampered NameID names.
        #[serde(default)]
        victim: Option<String>,
    },
    /// Prepend a DOCTYPE (by default with an external entity pointing at the broker's fetch
    /// recorder); a safe SP refuses any DOCTYPE and fetches nothing.
    Doctype {
        /// What the DOCTYPE holds (default: the external entity).
        #[serde(default, skip_serializing_if = "DoctypeSubset::is_default")]
        subset: DoctypeSubset,
    },
    /// Replace text in the final Response XML (before base64).
    ReplaceText {
        /// Text to find.
        find: String,
        /// Replacement.
        replace: String,
    },
    // ---- issue 13: published SAML bypass advisories (docs/advisories.md S1-S6) ----
    /// The NameID is tampered, the genuine Signature kept, and the digest of the tampered
    /// assertion placed elsewhere in the document (ruby-saml CVE-2024-45409 shape).
    DigestValueElsewhere {
        /// Where the forged digest goes.
        position: DigestPosition,
    },
    /// An evil assertion for `victim` with the signed assertion's *own* ID; the genuine one
    /// moves to `original` (the duplicate-ID wrapping the CVE-2024-45409, CVE-2025-54419 and
    /// XML::Sig CVE-2026-9487 fixes refuse).
    XswDuplicateId {
        /// Where the genuine signed assertion goes.
        original: DuplicateIdPlacement,
        /// Which assertion carries the Signature.
        #[serde(default)]
        signature: SignatureHome,
        /// Identity the evil assertion names (default: a different built-in identity).
        #[serde(default)]
        victim: Option<String>,
    },
    /// The evil assertion (own ID) carries the genuine Signature, whose Reference still names
    /// the original; the original, signature stripped, goes to `original` (pysaml2
    /// CVE-2021-21238).
    XswSignatureInEvil {
        /// Where the clean original goes.
        original: HiddenOriginal,
        /// Identity the evil assertion names (default: a different built-in identity).
        #[serde(default)]
        victim: Option<String>,
    },
    /// The assertion's Signature moved to be a child of `samlp:Response` (where a Response
    /// signature sits), its Reference still naming the assertion, whose clean copy goes to
    /// `original`; an unsigned evil assertion stands in the normal place (Keycloak
    /// CVE-2024-8698).
    XswAssertionSignatureOnResponse {
        /// Where the clean original goes.
        #[serde(default)]
        original: ResponseLevelOriginal,
        /// Identity the evil assertion names (default: a different built-in identity).
        #[serde(default)]
        victim: Option<String>,
    },
    /// A tampered assertion "signed" with an HMAC SignatureMethod keyed with the IdP's *public*
    /// certificate in some byte form (xml-crypto GHSA-c27r-x354-4m68).
    HmacKeyConfusion {
        /// The HMAC algorithm.
        alg: HmacAlg,
        /// The key bytes.
        encoding: HmacKeyEncoding,
        /// Leave KeyInfo out (default: the IdP certificate in KeyInfo).
        #[serde(default)]
        without_key_info: bool,
    },
    /// A tampered assertion (digest matching) whose signature cannot be verified at all: the
    /// verify primitive errors instead of failing (SimpleSAMLphp CVE-2016-9814, php-saml
    /// GHSA-9wrw-p9rm-r782).
    SignatureError {
        /// How it is broken.
        kind: SignatureErrorKind,
    },
    /// "Void canonicalization" (ruby-saml CVE-2025-66568 with Nokogiri < 1.19.1, xmlseclibs <
    /// 3.1.4 CVE-2025-66475): a relative namespace URI (`xmlns:void="1"`) declared `on` an
    /// element the canonicaliser walks, a tampered assertion whose `SignatureValue` is the IdP
    /// key's RSA-SHA256 signature over the *empty* octet string, and (unless `on = signature`)
    /// a `DigestValue` of SHA-256(""). A verifier whose failed canonicalisation yields `""`
    /// accepts any content under that one signature.
    VoidC14n {
        /// Where the relative namespace is declared.
        on: VoidC14nOn,
    },
    /// Attribute smuggling (passport-wsfed-saml2 CVE-2025-46573, GHSA-8gqj-226h-gm8r): the
    /// genuinely signed assertion is left intact, and a victim's `element` is added inside its
    /// own `ds:Signature` (`place`), which the enveloped-signature transform cuts out of the
    /// digest: the signature still verifies. A reader that looks Subject/NameID or the
    /// AttributeStatements up with a descendant search (`.//`) inside the verified assertion,
    /// instead of taking the assertion's own children, reads the smuggled values.
    SmuggleInSignature {
        /// What is smuggled.
        element: SmuggledElement,
        /// Where inside the Signature.
        place: SmugglePlace,
        /// Identity the smuggled element names (default: a different built-in identity).
        #[serde(default)]
        victim: Option<String>,
    },
    /// An entity reference in the ID of an evil assertion (docs/advisories.md S8 remainder:
    /// xmlseclibs 4.0.0's DOCTYPE refusal, GHSA-9wcx-p7hr-f935, fix commit 621a61c; GitHub
    /// Enterprise Server CVE-2025-23369, the same libxml2 root cause). A DTD declares
    /// `<!ENTITY i "<the genuine assertion's ID>">`, and an evil assertion for `victim` carries
    /// `ID="&i;"` next to the genuine signed assertion (at `placement`). Parsed by libxml2
    /// without entity substitution, the attribute keeps an entity-reference child:
    /// `getAttribute("ID")` expands it (the evil assertion "has" the signed ID), while the
    /// XPath reference lookup `//*[@ID="…"]` never matches it (the string-value hash skips the
    /// entity reference, `xmlXPathNodeValHash`), so the lookup, and an XPath uniqueness check,
    /// find only the genuine assertion, which verifies. Internal entity only: nothing is ever
    /// fetched.
    EntityRefId {
        /// Where the genuine assertion and the DTD go.
        placement: EntityRefIdPlacement,
        /// Which assertion carries the genuine ds:Signature (default: left in the genuine one).
        #[serde(default)]
        signature: SignatureHome,
        /// Identity the evil assertion names (default: a different built-in identity).
        #[serde(default)]
        victim: Option<String>,
    },
    // ---- issue 15: OIO BPP privileges ----
    /// Replace the released `privilegesIntermediate` value (the base64 OIO BPP `PrivilegeList`)
    /// with one holding exactly `groups`, before signing: the assertion stays genuinely signed,
    /// and only the SP's own check of the privilege and its `Scope` can catch a group scoped
    /// to another organisation (docs/fidelity-oiosaml3.md). Scopes are written as given, not
    /// checked, so a scenario can send a near miss (a prefix of the CVR scope, an SE-number
    /// scope); `{privilege}` in a scope or privilege is the privilege the SP under test
    /// requires, which the harness fills in from sp.toml `[privileges] required` before arming.
    /// Applies only when the attribute was released (a public SP that requests it, an identity
    /// that holds privileges), as NemLog-in sends it to no one else.
    Privileges {
        /// The groups of the new list, in order (may be empty: a list with no group).
        groups: Vec<crate::saml::bpp::PrivilegeGroup>,
    },
    /// A processing instruction inside signed text (docs/advisories.md S15; xml-crypto's
    /// canonicaliser up to 6.1.2 writes a PI as its bare data text, OneUptime #2988, the
    /// plausible construct of node-saml CVE-2025-54419/-54369): the IdP signs an assertion whose
    /// `target` value is the victim's value `V` with extra characters `H` at `split`, and the
    /// sent assertion carries `H` as the data of a PI `<?x H?>` at that place. A canonicaliser
    /// that flattens the PI to its data reproduces the signed bytes, so the digest matches; a
    /// DOM reader skips PIs (`textContent`) and reads `V`. Correct exclusive canonicalisation
    /// keeps `<?x H?>`, so the digest fails and a correct SP refuses the assertion.
    PiInSignedText {
        /// The value split.
        target: PiTarget,
        /// Where the PI goes.
        #[serde(default, skip_serializing_if = "PiSplit::is_default")]
        split: PiSplit,
        /// Identity whose value the reader sees (default: another of the same kind).
        #[serde(default)]
        victim: Option<String>,
    },
    /// Namespace/prefix confusion (ruby-saml CVE-2025-25292, CVE-2025-66567): assertions and
    /// signatures whose prefixes mean something else than their usual names suggest, an
    /// unusual but correct prefix (the control), or an undeclared prefix.
    NamespaceConfusion {
        /// What is sent.
        variant: NamespaceVariant,
        /// The identity the evil assertion names (default: another of the same kind).
        #[serde(default)]
        victim: Option<String>,
    },
    /// A Go `encoding/xml` round-trip instability outside the signed assertion (crewjam/saml
    /// CVE-2020-27846, dex CVE-2020-26290): a message that is not namespace-well-formed and
    /// must be refused.
    Roundtrip {
        /// Which unstable form.
        variant: RoundtripVariant,
    },
    /// An attribute or namespace declaration given twice in one start tag (docs/advisories.md
    /// S10, the namespace half of xmldom CVE-2021-21366): a forged assertion that only a
    /// re-parse of xmldom ≤ 0.4.0's serialisation takes for SAML, or a harmless duplicate; all
    /// must be refused.
    DuplicateAttribute {
        /// What is sent.
        variant: DuplicateAttributeVariant,
        /// The identity the evil assertion names (default: another of the same kind).
        #[serde(default)]
        victim: Option<String>,
    },
}

impl Serialize for Fault {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // The derived (`remote = "Self"`) implementation.
        Fault::serialize(self, s)
    }
}

/// The derived implementation, run from inside the fault's own map visitor.
///
/// A tagged enum is buffered first and its variant deserialised afterwards; a bad parameter
/// (an unknown [`ModelPath`], a misspelt field) then surfaces outside the fault's table, and
/// toml would place the error at the enclosing `faults = [` rather than at the fault. Running
/// the whole derived deserialisation inside `visit_map` keeps the error within the table, so
/// toml reports the line of the faulty entry.
impl<'de> Deserialize<'de> for Fault {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct FaultTable;
        impl<'de> serde::de::Visitor<'de> for FaultTable {
            type Value = Fault;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(r#"a fault, e.g. { fault = "sha1" }"#)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Fault, A::Error> {
                Fault::deserialize(serde::de::value::MapAccessDeserializer::new(map))
            }
        }
        d.deserialize_map(FaultTable)
    }
}

impl Fault {
    /// The broker endpoints through which this fault reaches the SP (any one of them is
    /// enough). Every SAML fault is part of the Response the SSO endpoint answers the
    /// AuthnRequest with, which the browser posts to the ACS; the harness drives that browser,
    /// so a SAML fault always reaches the SP. Listed variant by variant, so a fault delivered
    /// some other way (SLO, metadata) cannot be added without saying so.
    pub fn delivered_by(&self) -> &'static [crate::observed::Endpoint] {
        use crate::observed::Endpoint;
        match self {
            Fault::Set { .. }
            | Fault::Remove { .. }
            | Fault::SetAttribute { .. }
            | Fault::RemoveAttribute { .. }
            | Fault::RemoveNameFormat { .. }
            | Fault::AddAudience { .. }
            | Fault::LegacyOiosaml2
            | Fault::AttributeProfile { .. }
            | Fault::Oiosaml303Assertion
            | Fault::Status { .. }
            | Fault::NoAssertion
            | Fault::AppendUnsignedAssertion { .. }
            | Fault::SignWith { .. }
            | Fault::KeyInfo { .. }
            | Fault::UnsignedAssertion
            | Fault::SignResponse
            | Fault::Sha1
            | Fault::NoEncryption
            | Fault::EncryptWith { .. }
            | Fault::Xsw { .. }
            | Fault::CommentInNameId { .. }
            | Fault::CommentInAttribute { .. }
            | Fault::DigestValueComment
            | Fault::TwoSignedInfo
            | Fault::SignedForeignElement { .. }
            | Fault::SignedElementAsFirstRoot { .. }
            | Fault::TamperAfterSigning { .. }
            | Fault::Doctype { .. }
            | Fault::ReplaceText { .. }
            // issue 13
            | Fault::DigestValueElsewhere { .. }
            | Fault::XswDuplicateId { .. }
            | Fault::XswSignatureInEvil { .. }
            | Fault::XswAssertionSignatureOnResponse { .. }
            | Fault::HmacKeyConfusion { .. }
            | Fault::SignatureError { .. }
            | Fault::VoidC14n { .. }
            | Fault::SmuggleInSignature { .. }
            // issue 15
            | Fault::Privileges { .. }
            | Fault::NamespaceConfusion { .. }
            // S15
            | Fault::PiInSignedText { .. }
            // S10
            | Fault::Roundtrip { .. }
            // S8 remainder
            | Fault::EntityRefId { .. }
            // S10 xmldom
            | Fault::DuplicateAttribute { .. } => &[Endpoint::Sso],
        }
    }
}

/// The faults armed for one login flow.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultPlan {
    /// Faults in order of application within each stage.
    #[serde(default)]
    pub faults: Vec<Fault>,
}

impl FaultPlan {
    /// No faults: a correct login.
    pub fn none() -> Self {
        FaultPlan::default()
    }

    /// A plan of the given faults.
    pub fn new(faults: Vec<Fault>) -> Self {
        FaultPlan { faults }
    }

    /// Builder: add a fault.
    pub fn with(mut self, f: Fault) -> Self {
        self.faults.push(f);
        self
    }

    /// True when no fault is armed.
    pub fn is_empty(&self) -> bool {
        self.faults.is_empty()
    }
}

/// A fault plan that cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FaultError {
    /// Unknown model path (raised when a [`ModelPath`] is parsed, so when a plan is
    /// deserialised).
    #[error("unknown model path {0:?}; known paths: {known}", known = ModelPath::known_names())]
    UnknownPath(String),
    /// Value placeholder malformed.
    #[error("bad placeholder in value {0:?}: {1}")]
    BadPlaceholder(String, String),
    /// The path cannot take a value (it names an element; use `remove`).
    #[error("path {0:?} names an element; it can only be removed")]
    NotSettable(String),
    /// Unknown identity named in a fault.
    #[error("fault names unknown identity {0:?}")]
    UnknownIdentity(String),
    /// The fault needs something this response does not have (e.g. a plaintext NameID).
    #[error("fault cannot be applied to this response: {0}")]
    NotApplicable(String),
}

#[cfg(test)]
mod tests {
    use super::crypto::CryptoChoices;
    use super::*;

    #[test]
    fn plans_deserialise_from_toml() {
        #[derive(Deserialize)]
        struct W {
            faults: Vec<Fault>,
        }
        let w: W = toml::from_str(
            r#"
faults = [
  { fault = "set", path = "assertion.conditions.not_on_or_after", value = "{now-10m}" },
  { fault = "sign-with", key = "oces2" },
  { fault = "xsw", variant = "xsw3" },
  { fault = "legacy-oiosaml2" },
  { fault = "set-attribute", name = "dk:gov:saml:attribute:AssuranceLevel", values = ["3"] },
]"#,
        )
        .unwrap();
        assert_eq!(w.faults.len(), 5);
        assert_eq!(
            w.faults[1],
            Fault::SignWith {
                key: SigningKeyChoice::Oces2
            }
        );
        assert!(ModelPath::parse("assertion.subject.name_id").is_ok());
        assert!(ModelPath::parse("assertion.nope").is_err());
    }

    #[test]
    fn a_bad_model_path_fails_when_the_plan_is_read_with_its_line() {
        let text = r#"
faults = [
  { fault = "remove", path = "assertion.conditions" },
  { fault = "set", path = "assertion.conditions.not_on_or_aftr", value = "{now}" },
]"#;
        let e = toml::from_str::<FaultPlan>(text).unwrap_err().to_string();
        assert!(e.contains("line 4"), "{e}");
        assert!(
            e.contains(r#"unknown model path "assertion.conditions.not_on_or_aftr""#),
            "{e}"
        );
        let e = toml::from_str::<FaultPlan>(r#"faults = [{ fault = "remove", path = 3 }]"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 1"), "{e}");
        // Other mistakes inside a fault get its line too.
        let e = toml::from_str::<FaultPlan>(
            "faults = [\n  { fault = \"sha1\" },\n  { fault = \"sha2\" },\n]",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("line 3") && e.contains("sha2"), "{e}");
        let e = toml::from_str::<FaultPlan>(
            "faults = [\n  { fault = \"sha1\" },\n  { fault = \"comment-in-name-id\", aftr = 1 },\n]",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("line 3") && e.contains("unknown field"), "{e}");
        // The control API carries plans as JSON: same checks.
        let e = serde_json::from_str::<FaultPlan>(
            r#"{"faults":[{"fault":"remove","path":"assertion.nope"}]}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("unknown model path"), "{e}");
        let plan: FaultPlan = serde_json::from_str(
            r#"{"faults":[{"fault":"remove","path":"assertion.conditions"},{"fault":"sha1"}]}"#,
        )
        .unwrap();
        assert_eq!(
            plan.faults,
            vec![
                Fault::Remove {
                    path: ModelPath::Conditions
                },
                Fault::Sha1
            ]
        );
        assert!(serde_json::from_str::<FaultPlan>(r#"{"faults":["sha1"]}"#).is_err());
    }

    #[test]
    fn faults_serialise_back_to_their_toml() {
        let plan = FaultPlan::new(vec![Fault::Remove {
            path: ModelPath::Audience,
        }]);
        let text = toml::to_string(&plan).unwrap();
        assert!(
            text.contains(r#"path = "assertion.conditions.audience""#),
            "{text}"
        );
        assert_eq!(toml::from_str::<FaultPlan>(&text).unwrap(), plan);
    }

    /// Every variant lands in a stage: one of each, counted per stage.
    #[test]
    fn every_fault_has_a_stage() {
        let plan: FaultPlan = toml::from_str(
            r#"
faults = [
  { fault = "set", path = "assertion.id", value = "x" },
  { fault = "remove", path = "assertion.conditions" },
  { fault = "set-attribute", name = "a", values = [] },
  { fault = "remove-attribute", name = "a" },
  { fault = "remove-name-format" },
  { fault = "add-audience", value = "b" },
  { fault = "legacy-oiosaml2" },
  { fault = "status", code = "c" },
  { fault = "no-assertion" },
  { fault = "sign-with", key = "attacker" },
  { fault = "key-info", cert = "key-value" },
  { fault = "sign-response" },
  { fault = "sha1" },
  { fault = "encrypt-with", data = "d", key_transport = "k" },
  { fault = "comment-in-name-id", after = 1 },
  { fault = "comment-in-attribute", name = "a", after = 1 },
  { fault = "tamper-after-signing" },
  { fault = "digest-value-comment" },
  { fault = "two-signed-info" },
  { fault = "append-unsigned-assertion" },
  { fault = "signed-element-as-first-root" },
  { fault = "signed-foreign-element", keep_assertion_signature = true },
  { fault = "xsw", variant = "xsw5" },
  { fault = "xsw", variant = "xsw2" },
  { fault = "xsw", variant = "xsw1" },
  { fault = "doctype" },
  { fault = "doctype", subset = "internal-entity" },
  { fault = "replace-text", find = "e", replace = "f" },
  { fault = "digest-value-elsewhere", position = "extensions" },
  { fault = "xsw-duplicate-id", original = "sibling-after", signature = "evil" },
  { fault = "xsw-signature-in-evil", original = "wrapper-after" },
  { fault = "xsw-assertion-signature-on-response" },
  { fault = "hmac-key-confusion", alg = "hmac-sha1", encoding = "spki-pem" },
  { fault = "signature-error", kind = "no-resolvable-reference" },
  { fault = "void-c14n", on = "response" },
  { fault = "privileges", groups = [{ scope = "s", privileges = ["p"] }] },
  { fault = "namespace-confusion", variant = "odd-prefix-evil", victim = "anna" },
  { fault = "namespace-confusion", variant = "undeclared-prefix" },
  { fault = "pi-in-signed-text", target = "cvr", split = "middle" },
  { fault = "entity-ref-id", placement = "extensions", signature = "evil" },
  { fault = "entity-ref-id", placement = "encrypted-nested" },
]"#,
        )
        .unwrap();
        let s = plan.stages();
        assert_eq!(s.model.len(), 10);
        assert_eq!(s.signed_assertion.len(), 9);
        assert_eq!(s.assembly.len(), 11);
        assert!(s.response.is_some());
        // Two `doctype`s, `replace-text`, `void-c14n` on the Response, which also edits the
        // final document, `namespace-confusion`'s `undeclared-prefix`, and the Response DTD
        // of `entity-ref-id`'s `extensions` placement.
        assert_eq!(s.document.len(), 6);
        let c = &s.crypto;
        assert_eq!(c.key, SigningKeyChoice::Attacker);
        assert_eq!(c.key_info, KeyInfoChoice::KeyValue);
        assert!(c.sign_assertion && c.sign_response && c.sha1 && c.encrypt);
        assert_eq!(c.encrypt_with.as_ref().map(|a| a.data.as_str()), Some("d"));

        let plan = FaultPlan::new(vec![
            Fault::UnsignedAssertion,
            Fault::NoEncryption,
            Fault::Xsw {
                variant: XswVariant::Xsw1,
                victim: None,
            },
        ]);
        let s = plan.stages();
        assert!(!s.crypto.sign_assertion && !s.crypto.encrypt);
        assert!(s.crypto.sign_response, "XSW1 needs a signed Response");
        let plan = FaultPlan::new(vec![Fault::SignedForeignElement {
            keep_assertion_signature: false,
        }]);
        let s = plan.stages();
        assert!(!s.crypto.sign_assertion && s.assembly.len() == 1);
        assert_eq!(FaultPlan::none().stages().crypto, CryptoChoices::default());
    }
}
