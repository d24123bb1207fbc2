//! SAML 2.0 metadata of a service provider (`md:EntityDescriptor` with an `md:SPSSODescriptor`).
//!
//! The broker registers an SP from its metadata and takes the ACS URLs, the signing
//! certificates (to verify AuthnRequest signatures) and the encryption certificates (to encrypt
//! assertions) from it and from nowhere else: an ACS URL or key that arrives in a request is only
//! ever compared against what this module parsed.
//!
//! Metadata is untrusted input (the harness fetches it from the SP under test), so parsing is
//! defensive: the input is size-capped before it reaches the XML parser, DTDs are refused
//! (roxmltree's `allow_dtd = false`, which also rules out XXE and entity expansion), the node
//! count is capped, and elements are matched on namespace URI plus local name, never on the
//! prefix an author happened to choose.
//!
//! The parser is deliberately lenient about *cardinality* (an SP without an ACS or without a
//! signing key still parses, with empty lists) because the harness's inspection wants to report
//! every such gap at once; callers that need an endpoint or a key must check for it. It is strict
//! about the *values* it returns: a malformed boolean, index or certificate is an error, because
//! silently dropping it would change which endpoint or key the broker uses.

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use roxmltree::{Document, Node, ParsingOptions};

/// Largest metadata document accepted, in bytes. Real SP metadata is a few KiB (two or three
/// certificates dominate); 1 MiB leaves room for small aggregates while keeping a hostile
/// document from costing real memory.
pub const MAX_METADATA_BYTES: usize = 1024 * 1024;

/// Largest number of XML nodes roxmltree may build. Together with the byte cap this bounds the
/// work for pathological but DTD-free inputs (e.g. millions of empty elements).
pub const MAX_METADATA_NODES: u32 = 200_000;

/// Namespace of SAML 2.0 metadata (`md:`).
pub const MD_NS: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
/// Namespace of XML-DSig (`ds:`), used for `KeyInfo`, `X509Certificate` and `DigestMethod`.
pub const DS_NS: &str = "http://www.w3.org/2000/09/xmldsig#";
/// Namespace of XML Encryption 1.1 (`xenc11:`), where `MGF` lives.
pub const XENC11_NS: &str = "http://www.w3.org/2009/xmlenc11#";
/// The SAML 2.0 protocol URI in `protocolSupportEnumeration`.
pub const SAML2_PROTOCOL: &str = "urn:oasis:names:tc:SAML:2.0:protocol";

/// Why SP metadata could not be used. Every message names what was wrong and where, so an SP
/// developer can fix the document without reading this code.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MetadataError {
    /// The document exceeds [`MAX_METADATA_BYTES`].
    #[error(
        "SP metadata is {size} bytes, more than the {limit}-byte limit; SP metadata is normally a few KiB, check that the right document was supplied"
    )]
    TooLarge {
        /// Size of the input (or a lower bound, for files, once the limit is passed).
        size: usize,
        /// The limit that was exceeded.
        limit: usize,
    },
    /// The document has a DOCTYPE. SAML metadata never needs one, and DTDs enable XXE and
    /// entity-expansion attacks, so they are refused outright.
    #[error(
        "SP metadata contains a DOCTYPE/DTD, which SAML metadata must not have (refused to prevent XXE and entity expansion); remove the <!DOCTYPE ...> declaration"
    )]
    Dtd,
    /// The document has more XML nodes than [`MAX_METADATA_NODES`].
    #[error("SP metadata has more than {limit} XML nodes; refusing to parse it")]
    TooManyNodes {
        /// The node limit.
        limit: u32,
    },
    /// The document is not well-formed XML.
    #[error("SP metadata is not well-formed XML: {0}")]
    Xml(String),
    /// The root element is not `md:EntityDescriptor` / `md:EntitiesDescriptor`.
    #[error(
        "not SAML 2.0 metadata: root element is {0}, expected EntityDescriptor or EntitiesDescriptor in namespace urn:oasis:names:tc:SAML:2.0:metadata"
    )]
    NotMetadata(String),
    /// No entity in the document has an `md:SPSSODescriptor`.
    #[error(
        "the metadata has no SPSSODescriptor: it describes no SAML service provider (is this IdP metadata?)"
    )]
    NoSpDescriptor,
    /// An `EntitiesDescriptor` holds more than one SP entity where exactly one was expected.
    #[error(
        "expected metadata for exactly one SP, but the EntitiesDescriptor holds {count} SP entities ({}); supply the EntityDescriptor of the SP under test",
        .entity_ids.join(", ")
    )]
    AmbiguousEntities {
        /// How many SP entities were found.
        count: usize,
        /// Their entityIDs, in document order.
        entity_ids: Vec<String>,
    },
    /// An `EntityDescriptor` has no (or an empty) `entityID` attribute.
    #[error("an EntityDescriptor has no entityID attribute (it is required and must not be empty)")]
    MissingEntityId,
    /// A required attribute is missing.
    #[error("entity {entity_id}: <{element}> has no {attribute} attribute, which is required")]
    MissingAttribute {
        /// The entity in which it happened.
        entity_id: String,
        /// Local name of the element.
        element: &'static str,
        /// Name of the missing attribute.
        attribute: &'static str,
    },
    /// An attribute has a value outside its schema type.
    #[error("entity {entity_id}: <{element} {attribute}=\"{value}\">: expected {expected}")]
    BadAttribute {
        /// The entity in which it happened.
        entity_id: String,
        /// Local name of the element.
        element: &'static str,
        /// Name of the attribute.
        attribute: &'static str,
        /// The offending value.
        value: String,
        /// What the schema allows.
        expected: &'static str,
    },
    /// A `ds:X509Certificate` is not base64 DER of an X.509 certificate.
    #[error(
        "entity {entity_id}: the {usage} certificate #{position} in KeyDescriptor is unusable: {reason}"
    )]
    BadCertificate {
        /// The entity in which it happened.
        entity_id: String,
        /// `signing`, `encryption` or `signing+encryption` (no `use`).
        usage: &'static str,
        /// 1-based position of the certificate among the entity's certificates.
        position: usize,
        /// What was wrong.
        reason: String,
    },
    /// The metadata file could not be read.
    #[error("cannot read SP metadata file {}: {source}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

/// A SAML endpoint (`AssertionConsumerService`, `SingleLogoutService`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// Binding URI, e.g. `urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST`.
    pub binding: String,
    /// Endpoint URL, exactly as written (compared by exact string match).
    pub location: String,
    /// `index` (indexed endpoints such as ACS).
    pub index: Option<u32>,
    /// `isDefault`.
    pub is_default: Option<bool>,
    /// `ResponseLocation`, where present.
    pub response_location: Option<String>,
}

/// An `md:EncryptionMethod` under an encryption KeyDescriptor: the algorithms the SP says it
/// can decrypt. NemLog-in steers assertion encryption by these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncryptionMethod {
    /// `Algorithm` URI.
    pub algorithm: String,
    /// `ds:DigestMethod/@Algorithm` (RSA-OAEP digest), when present.
    pub digest_method: Option<String>,
    /// `xenc11:MGF/@Algorithm` (RSA-OAEP mask generation function), when present.
    pub mgf: Option<String>,
}

/// An `md:AttributeConsumingService`: the attributes the SP asks the IdP for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeConsumingService {
    /// `index`.
    pub index: u32,
    /// `isDefault`.
    pub is_default: Option<bool>,
    /// `md:ServiceName` texts, in document order.
    pub service_names: Vec<String>,
    /// `md:RequestedAttribute`s, in document order.
    pub requested: Vec<RequestedAttribute>,
}

/// An `md:RequestedAttribute`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestedAttribute {
    /// `Name`, e.g. `https://data.gov.dk/model/core/eid/cprNumber`.
    pub name: String,
    /// `NameFormat`.
    pub name_format: Option<String>,
    /// `FriendlyName`.
    pub friendly_name: Option<String>,
    /// `isRequired`.
    pub is_required: Option<bool>,
}

/// The parts of an SP's metadata the broker and the harness use.
#[derive(Clone, PartialEq, Eq)]
pub struct SpMetadata {
    /// `entityID`.
    pub entity_id: String,
    /// `SPSSODescriptor/@AuthnRequestsSigned`.
    pub authn_requests_signed: Option<bool>,
    /// `SPSSODescriptor/@WantAssertionsSigned`.
    pub want_assertions_signed: Option<bool>,
    /// `AssertionConsumerService`s, in document order.
    pub acs: Vec<Endpoint>,
    /// `SingleLogoutService`s, in document order.
    pub slo: Vec<Endpoint>,
    /// DER certificates from KeyDescriptors with `use="signing"` or without `use`.
    pub signing_certs: Vec<Vec<u8>>,
    /// DER certificates from KeyDescriptors with `use="encryption"` or without `use`.
    pub encryption_certs: Vec<Vec<u8>>,
    /// `md:EncryptionMethod`s under KeyDescriptors usable for encryption, in document order.
    pub encryption_methods: Vec<EncryptionMethod>,
    /// `NameIDFormat`s.
    pub name_id_formats: Vec<String>,
    /// `AttributeConsumingService`s, in document order.
    pub attribute_consuming_services: Vec<AttributeConsumingService>,
    /// Whitespace-separated entries of `protocolSupportEnumeration`.
    pub protocol_support: Vec<String>,
    /// `validUntil` of the EntityDescriptor, else of the closest enclosing EntitiesDescriptor
    /// (kept as the lexical xs:dateTime; the caller decides what "expired" means for it).
    pub valid_until: Option<String>,
    /// First `md:OrganizationName` (entity-level `md:Organization`, else the SPSSODescriptor's).
    pub organization_name: Option<String>,
    /// The metadata text, kept for inspection and reports: the whole document when the entity
    /// is the root, else the `EntityDescriptor` element's own text (so an aggregate is not
    /// copied once per entity; namespace declarations on the enclosing elements are not in it).
    pub raw_xml: String,
}

impl fmt::Debug for SpMetadata {
    /// Certificates and the raw XML are summarised: dumping kilobytes of DER bytes into a test
    /// failure or log line hides the fields that matter.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpMetadata")
            .field("entity_id", &self.entity_id)
            .field("authn_requests_signed", &self.authn_requests_signed)
            .field("want_assertions_signed", &self.want_assertions_signed)
            .field("acs", &self.acs)
            .field("slo", &self.slo)
            .field(
                "signing_certs",
                &format_args!("[{} DER]", self.signing_certs.len()),
            )
            .field(
                "encryption_certs",
                &format_args!("[{} DER]", self.encryption_certs.len()),
            )
            .field("encryption_methods", &self.encryption_methods)
            .field("name_id_formats", &self.name_id_formats)
            .field(
                "attribute_consuming_services",
                &self.attribute_consuming_services,
            )
            .field("protocol_support", &self.protocol_support)
            .field("valid_until", &self.valid_until)
            .field("organization_name", &self.organization_name)
            .field("raw_xml", &format_args!("<{} bytes>", self.raw_xml.len()))
            .finish()
    }
}

impl SpMetadata {
    /// Parse the metadata of one SP: an `EntityDescriptor`, or an `EntitiesDescriptor` that
    /// holds exactly one entity with an `SPSSODescriptor`.
    pub fn parse(xml: &str) -> Result<SpMetadata, MetadataError> {
        let mut all = Self::parse_all(xml)?;
        match all.len() {
            1 => Ok(all.remove(0)),
            count => Err(MetadataError::AmbiguousEntities {
                count,
                entity_ids: all.into_iter().map(|m| m.entity_id).collect(),
            }),
        }
    }

    /// Parse every entity with an `SPSSODescriptor` (in document order, nested
    /// `EntitiesDescriptor`s included). Entities without one (IdPs, attribute authorities) are
    /// skipped; if none is left the result is [`MetadataError::NoSpDescriptor`].
    pub fn parse_all(xml: &str) -> Result<Vec<SpMetadata>, MetadataError> {
        let doc = parse_document(xml)?;
        let root = doc.root_element();
        let root_is_entity = is_md(root, "EntityDescriptor");
        if !root_is_entity && !is_md(root, "EntitiesDescriptor") {
            return Err(MetadataError::NotMetadata(qualified_name(root)));
        }

        let mut out = Vec::new();
        for entity in root.descendants().filter(|n| is_md(*n, "EntityDescriptor")) {
            let Some(sp) = first_sp_descriptor(entity) else {
                continue;
            };
            let raw_xml = if root_is_entity {
                strip_bom(xml).to_string()
            } else {
                strip_bom(xml)[entity.range()].to_string()
            };
            out.push(parse_entity(entity, sp, raw_xml)?);
        }
        if out.is_empty() {
            return Err(MetadataError::NoSpDescriptor);
        }
        Ok(out)
    }

    /// Read and parse a metadata file (same rules as [`SpMetadata::parse`]). The file is read
    /// through a size cap, so pointing this at a huge file fails fast instead of loading it.
    pub fn from_file(path: &Path) -> Result<SpMetadata, MetadataError> {
        let io_err = |source| MetadataError::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = std::fs::File::open(path).map_err(io_err)?;
        let mut bytes = Vec::new();
        file.take(MAX_METADATA_BYTES as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(io_err)?;
        if bytes.len() > MAX_METADATA_BYTES {
            return Err(MetadataError::TooLarge {
                size: bytes.len(),
                limit: MAX_METADATA_BYTES,
            });
        }
        let text = String::from_utf8(bytes).map_err(|e| {
            io_err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("not UTF-8 ({e}); SAML metadata must be UTF-8"),
            ))
        })?;
        Self::parse(&text)
    }

    /// The ACS with this `index`.
    pub fn acs_by_index(&self, i: u32) -> Option<&Endpoint> {
        self.acs.iter().find(|e| e.index == Some(i))
    }

    /// The default ACS for a binding, per SAML metadata §2.2.3: the first with
    /// `isDefault="true"`, else the first without `isDefault="false"`, else the first.
    pub fn default_acs(&self, binding: &str) -> Option<&Endpoint> {
        let with_binding = || self.acs.iter().filter(move |e| e.binding == binding);
        with_binding()
            .find(|e| e.is_default == Some(true))
            .or_else(|| with_binding().find(|e| e.is_default != Some(false)))
            .or_else(|| with_binding().next())
    }

    /// Whether the metadata lists this ACS URL with this binding. Exact string match: SAML
    /// compares endpoint URLs as strings, and normalising here would let a look-alike URL in
    /// a request pass.
    pub fn has_acs(&self, url: &str, binding: &str) -> bool {
        self.acs
            .iter()
            .any(|e| e.location == url && e.binding == binding)
    }
}

/// Parse with the safety limits; maps roxmltree's errors onto the specific variants.
fn parse_document(xml: &str) -> Result<Document<'_>, MetadataError> {
    if xml.len() > MAX_METADATA_BYTES {
        return Err(MetadataError::TooLarge {
            size: xml.len(),
            limit: MAX_METADATA_BYTES,
        });
    }
    let opts = ParsingOptions {
        allow_dtd: false,
        nodes_limit: MAX_METADATA_NODES,
        ..ParsingOptions::default()
    };
    Document::parse_with_options(strip_bom(xml), opts).map_err(|e| match e {
        roxmltree::Error::DtdDetected => MetadataError::Dtd,
        roxmltree::Error::NodesLimitReached => MetadataError::TooManyNodes {
            limit: MAX_METADATA_NODES,
        },
        other => MetadataError::Xml(other.to_string()),
    })
}

/// A UTF-8 byte-order mark is legal before the XML declaration but roxmltree expects text.
fn strip_bom(xml: &str) -> &str {
    xml.strip_prefix('\u{feff}').unwrap_or(xml)
}

fn is_md(n: Node<'_, '_>, local: &str) -> bool {
    is_elem(n, MD_NS, local)
}

fn is_elem(n: Node<'_, '_>, ns: &str, local: &str) -> bool {
    n.is_element() && n.tag_name().name() == local && n.tag_name().namespace() == Some(ns)
}

/// `{namespace}local` for error messages (the prefix says nothing about what the element is).
fn qualified_name(n: Node<'_, '_>) -> String {
    match n.tag_name().namespace() {
        Some(ns) => format!("{{{ns}}}{}", n.tag_name().name()),
        None => format!("{} (no namespace)", n.tag_name().name()),
    }
}

fn md_children<'a, 'input>(
    n: Node<'a, 'input>,
    local: &'static str,
) -> impl Iterator<Item = Node<'a, 'input>> {
    n.children().filter(move |c| is_md(*c, local))
}

/// The SPSSODescriptor to use: the first that supports SAML 2.0, else the first at all (so a
/// SAML 1.1-only SP still parses and the inspection can say why it is unusable).
fn first_sp_descriptor<'a, 'input>(entity: Node<'a, 'input>) -> Option<Node<'a, 'input>> {
    let mut sps = md_children(entity, "SPSSODescriptor");
    let first = sps.next()?;
    let supports = |n: Node<'_, '_>| {
        n.attribute("protocolSupportEnumeration")
            .is_some_and(|p| p.split_whitespace().any(|x| x == SAML2_PROTOCOL))
    };
    if supports(first) {
        return Some(first);
    }
    md_children(entity, "SPSSODescriptor")
        .find(|n| supports(*n))
        .or(Some(first))
}

fn parse_entity(
    entity: Node<'_, '_>,
    sp: Node<'_, '_>,
    raw_xml: String,
) -> Result<SpMetadata, MetadataError> {
    let entity_id = entity
        .attribute("entityID")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or(MetadataError::MissingEntityId)?
        .to_string();
    let ctx = Ctx {
        entity_id: &entity_id,
    };

    let acs = md_children(sp, "AssertionConsumerService")
        .map(|n| ctx.endpoint(n, "AssertionConsumerService"))
        .collect::<Result<Vec<_>, _>>()?;
    let slo = md_children(sp, "SingleLogoutService")
        .map(|n| ctx.endpoint(n, "SingleLogoutService"))
        .collect::<Result<Vec<_>, _>>()?;

    let mut signing_certs = Vec::new();
    let mut encryption_certs = Vec::new();
    let mut encryption_methods = Vec::new();
    let mut position = 0;
    for kd in md_children(sp, "KeyDescriptor") {
        let (signing, encryption, usage) = match kd.attribute("use").map(str::trim) {
            None => (true, true, "signing+encryption"),
            Some("signing") => (true, false, "signing"),
            Some("encryption") => (false, true, "encryption"),
            Some(other) => {
                return Err(ctx.bad(
                    "KeyDescriptor",
                    "use",
                    other,
                    "\"signing\" or \"encryption\" (or no use attribute for both)",
                ));
            }
        };
        for cert_node in kd
            .descendants()
            .filter(|n| is_elem(*n, DS_NS, "X509Certificate"))
        {
            position += 1;
            let der = ctx.certificate(cert_node, usage, position)?;
            if signing {
                signing_certs.push(der.clone());
            }
            if encryption {
                encryption_certs.push(der);
            }
        }
        if encryption {
            for em in md_children(kd, "EncryptionMethod") {
                encryption_methods.push(ctx.encryption_method(em)?);
            }
        }
    }

    let name_id_formats = md_children(sp, "NameIDFormat")
        .map(|n| n.text().unwrap_or("").trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();

    let attribute_consuming_services = md_children(sp, "AttributeConsumingService")
        .map(|n| ctx.attribute_consuming_service(n))
        .collect::<Result<Vec<_>, _>>()?;

    let protocol_support = sp
        .attribute("protocolSupportEnumeration")
        .map(|p| p.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default();

    let valid_until = entity
        .ancestors()
        .filter(|n| is_md(*n, "EntityDescriptor") || is_md(*n, "EntitiesDescriptor"))
        .find_map(|n| n.attribute("validUntil"))
        .map(|s| s.trim().to_string());

    let organization_name = md_children(entity, "Organization")
        .chain(md_children(sp, "Organization"))
        .flat_map(|o| md_children(o, "OrganizationName"))
        .filter_map(|n| n.text())
        .map(|t| t.trim().to_string())
        .find(|t| !t.is_empty());

    Ok(SpMetadata {
        authn_requests_signed: ctx.opt_bool(sp, "SPSSODescriptor", "AuthnRequestsSigned")?,
        want_assertions_signed: ctx.opt_bool(sp, "SPSSODescriptor", "WantAssertionsSigned")?,
        entity_id,
        acs,
        slo,
        signing_certs,
        encryption_certs,
        encryption_methods,
        name_id_formats,
        attribute_consuming_services,
        protocol_support,
        valid_until,
        organization_name,
        raw_xml,
    })
}

/// Per-entity parsing context, so every error names the entity it came from.
struct Ctx<'e> {
    entity_id: &'e str,
}

impl Ctx<'_> {
    fn bad(
        &self,
        element: &'static str,
        attribute: &'static str,
        value: &str,
        expected: &'static str,
    ) -> MetadataError {
        MetadataError::BadAttribute {
            entity_id: self.entity_id.to_string(),
            element,
            attribute,
            value: value.to_string(),
            expected,
        }
    }

    fn missing(&self, element: &'static str, attribute: &'static str) -> MetadataError {
        MetadataError::MissingAttribute {
            entity_id: self.entity_id.to_string(),
            element,
            attribute,
        }
    }

    fn required(
        &self,
        n: Node<'_, '_>,
        element: &'static str,
        attribute: &'static str,
    ) -> Result<String, MetadataError> {
        n.attribute(attribute)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .ok_or_else(|| self.missing(element, attribute))
    }

    /// xs:boolean: `true`, `false`, `1`, `0` (whitespace-collapsed).
    fn opt_bool(
        &self,
        n: Node<'_, '_>,
        element: &'static str,
        attribute: &'static str,
    ) -> Result<Option<bool>, MetadataError> {
        match n.attribute(attribute).map(str::trim) {
            None => Ok(None),
            Some("true" | "1") => Ok(Some(true)),
            Some("false" | "0") => Ok(Some(false)),
            Some(v) => Err(self.bad(element, attribute, v, "an xs:boolean (true, false, 1 or 0)")),
        }
    }

    /// The schema says xs:unsignedShort; u32 is what the API carries, so we check the wider
    /// range and leave the narrower one to the inspection.
    fn opt_index(
        &self,
        n: Node<'_, '_>,
        element: &'static str,
    ) -> Result<Option<u32>, MetadataError> {
        match n.attribute("index").map(str::trim) {
            None => Ok(None),
            Some(v) => v
                .parse::<u32>()
                .map(Some)
                .map_err(|_| self.bad(element, "index", v, "a non-negative integer")),
        }
    }

    fn endpoint(&self, n: Node<'_, '_>, element: &'static str) -> Result<Endpoint, MetadataError> {
        Ok(Endpoint {
            binding: self.required(n, element, "Binding")?,
            location: self.required(n, element, "Location")?,
            index: self.opt_index(n, element)?,
            is_default: self.opt_bool(n, element, "isDefault")?,
            response_location: n
                .attribute("ResponseLocation")
                .map(|s| s.trim().to_string()),
        })
    }

    fn certificate(
        &self,
        n: Node<'_, '_>,
        usage: &'static str,
        position: usize,
    ) -> Result<Vec<u8>, MetadataError> {
        let fail = |reason: String| MetadataError::BadCertificate {
            entity_id: self.entity_id.to_string(),
            usage,
            position,
            reason,
        };
        // Base64 in XML is routinely wrapped at 64 or 76 columns; all whitespace is dropped.
        let b64: String = n
            .text()
            .unwrap_or("")
            .chars()
            .filter(|c| !c.is_ascii_whitespace())
            .collect();
        if b64.is_empty() {
            return Err(fail("ds:X509Certificate is empty".into()));
        }
        if b64.starts_with("-----BEGIN") {
            return Err(fail(
                "it is PEM; ds:X509Certificate must hold only the base64 body, without the BEGIN/END lines".into(),
            ));
        }
        let der = base64::engine::general_purpose::STANDARD
            .decode(b64.as_bytes())
            .map_err(|e| fail(format!("not valid base64 ({e})")))?;
        match x509_parser::parse_x509_certificate(&der) {
            Ok(([], _)) => Ok(der),
            Ok((rest, _)) => Err(fail(format!(
                "{} trailing bytes after the DER certificate",
                rest.len()
            ))),
            Err(e) => Err(fail(format!("not a DER X.509 certificate ({e})"))),
        }
    }

    fn encryption_method(&self, n: Node<'_, '_>) -> Result<EncryptionMethod, MetadataError> {
        let child_alg = |ns: &str, local: &str| {
            n.children()
                .find(|c| is_elem(*c, ns, local))
                .and_then(|c| c.attribute("Algorithm"))
                .map(|s| s.trim().to_string())
        };
        Ok(EncryptionMethod {
            algorithm: self.required(n, "EncryptionMethod", "Algorithm")?,
            digest_method: child_alg(DS_NS, "DigestMethod"),
            mgf: child_alg(XENC11_NS, "MGF"),
        })
    }

    fn attribute_consuming_service(
        &self,
        n: Node<'_, '_>,
    ) -> Result<AttributeConsumingService, MetadataError> {
        const EL: &str = "AttributeConsumingService";
        let index = self
            .opt_index(n, EL)?
            .ok_or_else(|| self.missing(EL, "index"))?;
        let service_names = md_children(n, "ServiceName")
            .map(|s| s.text().unwrap_or("").trim().to_string())
            .collect();
        let requested = md_children(n, "RequestedAttribute")
            .map(|r| {
                Ok(RequestedAttribute {
                    name: self.required(r, "RequestedAttribute", "Name")?,
                    name_format: r.attribute("NameFormat").map(|s| s.trim().to_string()),
                    friendly_name: r.attribute("FriendlyName").map(str::to_string),
                    is_required: self.opt_bool(r, "RequestedAttribute", "isRequired")?,
                })
            })
            .collect::<Result<Vec<_>, MetadataError>>()?;
        Ok(AttributeConsumingService {
            index,
            is_default: self.opt_bool(n, EL, "isDefault")?,
            service_names,
            requested,
        })
    }
}

#[cfg(test)]
mod tests;
