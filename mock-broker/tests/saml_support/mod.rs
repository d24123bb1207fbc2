//! Shared helpers for the SAML broker tests: a mock SP (metadata from the mock PKI's `sp`
//! credential, signed Redirect-binding AuthnRequests), an HTTP client that never follows
//! redirects, and the *independent* checks: decryption and signature verification with the
//! `xml-sec` crate, which shares no code with bergshamra (the broker's signer and encryptor).
//!
//! Why independent: a round trip through the same library that produced a signature proves
//! nothing about whether SPs can verify it. xml-sec has its own parser, canonicaliser, digest and
//! RSA code, so agreement between the two is evidence of a standard-conforming signature.
#![allow(dead_code)]

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use mitid_mock_broker::pki::MockPki;
use mitid_mock_broker::saml::authn_request::AuthnRequestBuilder;
use mitid_mock_broker::saml::ns;
use mitid_mock_broker::saml::redirect::{self, SigAlg};
use mitid_mock_broker::saml::sp_metadata::SpMetadata;
use mitid_mock_broker::{Broker, BrokerBuilder, RunningBroker};
use std::time::Duration;

/// entityID of the mock SP (under `.invalid`, so it never resolves).
pub(crate) const SP_ENTITY_ID: &str = "https://sp.mock-harness.invalid/saml";
/// The SP's ACS. Port 9 (discard) on loopback: the tests never follow the auto-post form, so
/// nothing is ever sent there.
pub(crate) const ACS_URL: &str = "http://127.0.0.1:9/saml/acs";
/// A second ACS listed in the metadata, to test ACS selection by URL.
pub(crate) const ACS_URL_2: &str = "http://127.0.0.1:9/saml/acs2";
/// The SP's SLO endpoint (Redirect binding).
pub(crate) const SLO_URL: &str = "http://127.0.0.1:9/saml/slo";

/// `md:EncryptionMethod` list steering the broker to AES-256-CBC + rsa-oaep-mgf1p, what the
/// older SP libraries (and xmlsec1 1.2) decrypt.
pub(crate) const ENC_CBC_MGF1P: &str = r#"<md:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#aes256-cbc"/><md:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"/>"#;

/// SP metadata in the shape NemLog-in wants: signing and encryption KeyDescriptors with the
/// mock SP certificate, two POST ACSs, a Redirect SLO. `encryption_methods` goes inside the
/// encryption KeyDescriptor verbatim (empty: no `md:EncryptionMethod`, broker default applies).
pub(crate) fn sp_metadata_xml(entity_id: &str, encryption_methods: &str) -> String {
    let cert = MockPki::builtin().sp.cert_base64();
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{entity_id}">
  <md:SPSSODescriptor AuthnRequestsSigned="true" WantAssertionsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:KeyDescriptor use="encryption"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>{encryption_methods}</md:KeyDescriptor>
    <md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="{SLO_URL}"/>
    <md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</md:NameIDFormat>
    <md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="{ACS_URL}" index="0" isDefault="true"/>
    <md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="{ACS_URL_2}" index="1"/>
  </md:SPSSODescriptor>
</md:EntityDescriptor>
"#
    )
}

/// Parsed SP metadata (see [`sp_metadata_xml`]).
pub(crate) fn sp_metadata(encryption_methods: &str) -> SpMetadata {
    SpMetadata::parse(&sp_metadata_xml(SP_ENTITY_ID, encryption_methods))
        .expect("mock SP metadata parses")
}

/// A builder with the mock SP registered (default encryption: broker default).
pub(crate) fn builder() -> BrokerBuilder {
    Broker::builder().register_sp(sp_metadata(""))
}

/// Start a broker with the mock SP.
pub(crate) async fn start() -> RunningBroker {
    builder().start().await.expect("broker starts on loopback")
}

/// An AuthnRequest from the mock SP to `broker`, issued now, for the default ACS.
pub(crate) fn request(broker: &RunningBroker, id: &str) -> AuthnRequestBuilder {
    AuthnRequestBuilder {
        id: id.to_string(),
        issue_instant: time::OffsetDateTime::now_utc(),
        destination: broker.sso_url().to_string(),
        issuer: SP_ENTITY_ID.to_string(),
        acs_url: Some(ACS_URL.to_string()),
        loa: Some(mitid_mock_broker::Loa::Substantial),
        profile: None,
        extra_class_refs: Vec::new(),
        requested_profiles: Vec::new(),
        force_authn: false,
        is_passive: false,
    }
}

/// The Redirect-binding query for `xml`, signed RSA-SHA256 with the mock SP key.
pub(crate) fn signed_query(xml: &str, relay_state: Option<&str>) -> String {
    let signer = MockPki::builtin().sp.rsa_signer().expect("mock SP key");
    redirect::encode_query(
        "SAMLRequest",
        xml,
        relay_state,
        Some((&signer, SigAlg::RsaSha256)),
    )
    .expect("sign")
}

/// Full SSO URL for a signed request.
pub(crate) fn sso_url(
    broker: &RunningBroker,
    req: &AuthnRequestBuilder,
    relay_state: Option<&str>,
) -> String {
    format!(
        "{}?{}",
        broker.sso_url(),
        signed_query(&req.to_xml(), relay_state)
    )
}

/// An HTTP client that never follows redirects (the tests look at every hop) and times out
/// quickly (a hang is a failure, not a stuck test run).
pub(crate) fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .no_proxy()
        .build()
        .expect("client")
}

/// GET a URL; returns status and body.
pub(crate) async fn get(url: &str) -> (u16, String) {
    let r = http()
        .get(url)
        .send()
        .await
        .expect("request reaches the broker");
    let s = r.status().as_u16();
    (s, r.text().await.expect("body"))
}

/// The HTTP-POST binding form the broker answers with.
#[derive(Debug, Clone)]
pub(crate) struct AutoPost {
    /// `action` (the ACS).
    pub action: String,
    /// Name of the message field (`SAMLResponse`).
    pub param: String,
    /// The decoded message XML.
    pub xml: String,
    /// RelayState, if any.
    pub relay_state: Option<String>,
}

fn unescape_attr(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#xA;", "\n")
        .replace("&#xD;", "\r")
        .replace("&#x9;", "\t")
        .replace("&amp;", "&")
}

fn attr_after<'a>(html: &'a str, marker: &str, attr: &str) -> Option<&'a str> {
    let at = html.find(marker)?;
    let rest = &html[at..];
    let key = format!("{attr}=\"");
    let s = rest.find(&key)? + key.len();
    let e = rest[s..].find('"')? + s;
    Some(&rest[s..e])
}

/// Parse the auto-submitting form: action, the SAML field, RelayState.
pub(crate) fn parse_auto_post(html: &str) -> AutoPost {
    let action = attr_after(html, "<form", "action").unwrap_or_else(|| panic!("no form in {html}"));
    let (param, value) = ["SAMLResponse", "SAMLRequest"]
        .iter()
        .find_map(|p| {
            attr_after(html, &format!("name=\"{p}\""), "value").map(|v| (p.to_string(), v))
        })
        .unwrap_or_else(|| panic!("no SAML field in {html}"));
    let bytes = B64
        .decode(unescape_attr(value))
        .expect("SAML field is base64");
    AutoPost {
        action: unescape_attr(action),
        param,
        xml: String::from_utf8(bytes).expect("UTF-8 XML"),
        relay_state: attr_after(html, "name=\"RelayState\"", "value").map(unescape_attr),
    }
}

/// Run one SSO request and return the posted Response (panics unless it is an auto-post form).
pub(crate) async fn sso(url: &str) -> AutoPost {
    let (status, body) = get(url).await;
    assert_eq!(
        status, 200,
        "SSO should answer with the auto-post form: {body}"
    );
    parse_auto_post(&body)
}

// ------------------------------------------------------------------ independent crypto (xml-sec)

/// The mock SP's private key as an xml-sec decryption resolver.
fn sp_decryptor() -> Box<dyn xml_sec::xmlenc::DecryptionKeyResolver> {
    use xml_sec::key_manager::{KeyInventory, KeyUsages};
    let der = MockPki::builtin()
        .sp
        .key_pkcs8_der()
        .expect("mock SP key")
        .to_vec();
    let mut inv = KeyInventory::default();
    inv.add_private_der(
        "sp".into(),
        &der,
        None,
        KeyUsages::DECRYPT,
        &xml_sec::policy::ResourcePolicy::default(),
    )
    .expect("xml-sec imports the SP key");
    inv.decryption_resolver("sp", &xml_sec::policy::DecryptionPolicy::default())
        .expect("xml-sec decryption resolver")
}

/// Element substrings (`<prefix:local ...>...</prefix:local>`) by local name and namespace,
/// using roxmltree ranges so each is exactly the bytes as sent. Note that a substring may use
/// prefixes declared on an ancestor; use [`count`] / [`attrs_all`] to inspect in context.
pub(crate) fn elements(xml: &str, ns_uri: &str, local: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(xml).expect("well-formed XML");
    doc.descendants()
        .filter(|n| n.has_tag_name((ns_uri, local)))
        .map(|n| xml[n.range()].to_string())
        .collect()
}

/// Number of elements named `local` in `ns_uri`.
pub(crate) fn count(xml: &str, ns_uri: &str, local: &str) -> usize {
    let doc = roxmltree::Document::parse(xml).expect("well-formed XML");
    doc.descendants()
        .filter(|n| n.has_tag_name((ns_uri, local)))
        .count()
}

/// The values of attribute `attr` on every element named `local` in `ns_uri`.
pub(crate) fn attrs_all(xml: &str, ns_uri: &str, local: &str, attr: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(xml).expect("well-formed XML");
    doc.descendants()
        .filter(|n| n.has_tag_name((ns_uri, local)))
        .filter_map(|n| n.attribute(attr).map(str::to_string))
        .collect()
}

/// Decrypt one `xenc:EncryptedData` element with xml-sec and the mock SP key.
pub(crate) fn xmlsec_decrypt(encrypted_data_xml: &str) -> Result<String, String> {
    match xml_sec::xmlenc::decrypt(encrypted_data_xml, sp_decryptor().as_ref()) {
        Ok(xml_sec::xmlenc::DecryptedContent::Xml(x)) => Ok(x),
        Ok(other) => Err(format!("expected XML plaintext, got {other:?}")),
        Err(e) => Err(format!("xml-sec cannot decrypt: {e}")),
    }
}

/// Decrypt the (single) EncryptedAssertion of a Response with xml-sec.
pub(crate) fn decrypt_assertion(response_xml: &str) -> String {
    assert_eq!(
        count(response_xml, ns::SAML, "EncryptedAssertion"),
        1,
        "exactly one EncryptedAssertion"
    );
    let doc = roxmltree::Document::parse(response_xml).expect("well-formed XML");
    let ed: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name((ns::XENC, "EncryptedData")))
        .filter(|n| {
            n.parent_element()
                .is_some_and(|p| p.has_tag_name((ns::SAML, "EncryptedAssertion")))
        })
        .collect();
    assert_eq!(ed.len(), 1, "one EncryptedData in the EncryptedAssertion");
    xmlsec_decrypt(&response_xml[ed[0].range()]).unwrap_or_else(|e| panic!("{e}"))
}

/// Verify with xml-sec that the element with `ID="expected_id"` is authenticated by an enveloped
/// RSA-SHA256 signature under the public key `spki_der` (pinned: KeyInfo in the document is
/// not trusted).
pub(crate) fn xmlsec_verify(xml: &str, spki_der: &[u8], expected_id: &str) -> Result<(), String> {
    xmlsec_verify_alg(
        xml,
        spki_der,
        expected_id,
        xml_sec::xmldsig::SignatureAlgorithm::RsaSha256,
    )
}

/// As [`xmlsec_verify`], for a given signature algorithm.
pub(crate) fn xmlsec_verify_alg(
    xml: &str,
    spki_der: &[u8],
    expected_id: &str,
    algorithm: xml_sec::xmldsig::SignatureAlgorithm,
) -> Result<(), String> {
    use xml_sec::policy::{PolicyCompileContext, PolicyCompiler, PolicyProfile};
    use xml_sec::provider::RustCryptoProvider;
    use xml_sec::xmldsig::{VerificationKey, VerificationRequest};
    use xml_sec::{XmlSecurity, api::Operation};
    let provider = RustCryptoProvider;
    let profile = if algorithm == xml_sec::xmldsig::SignatureAlgorithm::RsaSha256 {
        PolicyProfile::Modern
    } else {
        PolicyProfile::XmlSecCompatible
    };
    let policies = PolicyCompiler::new(profile, &provider, None)
        .map_err(|e| e.to_string())?
        .compile(&PolicyCompileContext {
            external_resources: false,
            target_evidence: true,
        })
        .map_err(|e| e.to_string())?;
    let security = XmlSecurity::new(&policies, &provider).map_err(|e| e.to_string())?;
    let key = VerificationKey {
        algorithm,
        public_key_bytes: spki_der.to_vec(),
        certificate_der: None,
        name: None,
    };
    let document = security
        .parse_document(xml.to_string(), Operation::Verify)
        .map_err(|e| format!("xml-sec refuses the document: {e}"))?;
    let target = document
        .with_view(|view| view.node_for_id(expected_id, &[]))
        .ok_or_else(|| format!("ID {expected_id} is absent or ambiguous"))?;
    let evidence = security
        .verifier()
        .map_err(|e| e.to_string())?
        .key(&key)
        .verify(
            &document,
            &VerificationRequest {
                expected_targets: &[target],
                ..Default::default()
            },
        )
        .map_err(|e| format!("xml-sec verification error: {e}"))?;
    if evidence.accepted(&document).map_err(|e| e.to_string())? {
        Ok(())
    } else {
        Err(format!("xml-sec did not authenticate {expected_id}"))
    }
}

/// SPKI DER of a DER certificate.
pub(crate) fn spki_of(cert_der: &[u8]) -> Vec<u8> {
    let (_, c) = x509_parser::parse_x509_certificate(cert_der).expect("certificate parses");
    c.tbs_certificate.subject_pki.raw.to_vec()
}

/// The signing certificates (DER) published in IdP metadata.
pub(crate) fn idp_signing_certs(metadata_xml: &str) -> Vec<Vec<u8>> {
    let doc = roxmltree::Document::parse(metadata_xml).expect("metadata parses");
    doc.descendants()
        .filter(|n| {
            n.has_tag_name((ns::MD, "KeyDescriptor")) && n.attribute("use") == Some("signing")
        })
        .flat_map(|kd| {
            kd.descendants()
                .filter(|n| n.has_tag_name((ns::DS, "X509Certificate")))
        })
        .map(|n| {
            let t: String = n.text().unwrap_or("").split_whitespace().collect();
            B64.decode(t).expect("certificate is base64")
        })
        .collect()
}

/// Attribute value of the first element named `local` in `ns_uri`.
pub(crate) fn attr_of(xml: &str, ns_uri: &str, local: &str, attr: &str) -> Option<String> {
    let doc = roxmltree::Document::parse(xml).ok()?;
    doc.descendants()
        .find(|n| n.has_tag_name((ns_uri, local)))
        .and_then(|n| n.attribute(attr).map(str::to_string))
}

/// Concatenated text of the first element named `local` in `ns_uri`.
pub(crate) fn text_of(xml: &str, ns_uri: &str, local: &str) -> Option<String> {
    let doc = roxmltree::Document::parse(xml).ok()?;
    doc.descendants()
        .find(|n| n.has_tag_name((ns_uri, local)))
        .map(|n| {
            n.descendants()
                .filter_map(|d| if d.is_text() { d.text() } else { None })
                .collect()
        })
}

/// The SAML attributes of an assertion: (Name, NameFormat, values).
pub(crate) fn saml_attributes(assertion_xml: &str) -> Vec<(String, Option<String>, Vec<String>)> {
    let doc = roxmltree::Document::parse(assertion_xml).expect("assertion parses");
    doc.descendants()
        .filter(|n| n.has_tag_name((ns::SAML, "Attribute")))
        .map(|a| {
            let values = a
                .children()
                .filter(|c| c.has_tag_name((ns::SAML, "AttributeValue")))
                .map(|v| {
                    v.descendants()
                        .filter_map(|d| if d.is_text() { d.text() } else { None })
                        .collect()
                })
                .collect();
            (
                a.attribute("Name").unwrap_or("").to_string(),
                a.attribute("NameFormat").map(str::to_string),
                values,
            )
        })
        .collect()
}

/// Values of one attribute (empty when absent).
pub(crate) fn attribute_values(assertion_xml: &str, name: &str) -> Vec<String> {
    saml_attributes(assertion_xml)
        .into_iter()
        .filter(|(n, _, _)| n == name)
        .flat_map(|(_, _, v)| v)
        .collect()
}

// ------------------------------------------------------------------ fetch trap

/// A loopback listener that records whether anything connected to it: the target of external
/// entities in hostile inputs. If the broker (or anything in the process) resolved the entity,
/// the connection shows up here.
pub(crate) struct Tripwire {
    listener: std::net::TcpListener,
    /// `http://127.0.0.1:<port>/xxe`.
    pub url: String,
}

impl Tripwire {
    /// Bind on an ephemeral loopback port.
    pub(crate) fn new() -> Tripwire {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind tripwire");
        listener.set_nonblocking(true).expect("nonblocking");
        let url = format!("http://{}/xxe", listener.local_addr().expect("addr"));
        Tripwire { listener, url }
    }

    /// Whether anything connected (waits briefly for stragglers).
    pub(crate) fn was_contacted(&self) -> bool {
        std::thread::sleep(Duration::from_millis(100));
        self.listener.accept().is_ok()
    }
}

// ------------------------------------------------------------------ minting in-process

/// The fixed instant every deterministic mint uses.
pub(crate) const FIXED_NOW: time::OffsetDateTime = time::macros::datetime!(2026-01-01 12:00 UTC);

/// The mock signing keys, parsed once.
pub(crate) fn keys() -> &'static mitid_mock_broker::saml::mint::SigningKeys {
    static K: std::sync::OnceLock<mitid_mock_broker::saml::mint::SigningKeys> =
        std::sync::OnceLock::new();
    K.get_or_init(|| mitid_mock_broker::saml::mint::SigningKeys::mock().expect("mock keys"))
}

/// The built-in identities, parsed once.
pub(crate) fn identities() -> &'static mitid_mock_broker::IdentityStore {
    static I: std::sync::OnceLock<mitid_mock_broker::IdentityStore> = std::sync::OnceLock::new();
    I.get_or_init(mitid_mock_broker::IdentityStore::builtin)
}

/// A deterministic model context: fixed clock, IDs from `IdGen::seeded(seed)`.
pub(crate) fn fixed_ctx(seed: u64) -> mitid_mock_broker::saml::assertion::ModelContext {
    let ids = mitid_mock_broker::IdGen::seeded(seed);
    mitid_mock_broker::saml::assertion::ModelContext {
        idp_entity_id: mitid_mock_broker::config::MOCK_ENTITY_ID.into(),
        sp_entity_id: SP_ENTITY_ID.into(),
        acs_url: ACS_URL.into(),
        in_response_to: Some("_req-fixed".into()),
        now: FIXED_NOW,
        authn_instant: None,
        response_id: ids.next("r"),
        assertion_id: ids.next("a"),
        session_index: ids.next("s"),
        requested_attributes: None,
        conditions_lifetime: time::Duration::hours(1),
        confirmation_lifetime: time::Duration::minutes(5),
        transient_name_id: None,
    }
}

/// The fetch-recorder URL deterministic mints use.
pub(crate) const FIXED_TRAP_URL: &str = "http://127.0.0.1:9/_mock/fetch/_req-fixed";

/// Mint for `identity` under `plan`, encrypting (unless the plan says otherwise) to the mock SP
/// certificate with `encryption`.
pub(crate) fn mint_with(
    identity: &str,
    plan: &mitid_mock_broker::FaultPlan,
    encryption: mitid_mock_broker::saml::xmlsec::EncryptionAlgorithms,
) -> Result<mitid_mock_broker::saml::mint::Minted, mitid_mock_broker::saml::mint::MintError> {
    use mitid_mock_broker::saml::mint::{MintInput, mint};
    use mitid_mock_broker::saml::xmlsec::Bergshamra;
    let who = identities().get(identity).expect("known identity");
    let input = MintInput {
        ctx: fixed_ctx(7),
        identity: who,
        loa: who.loa,
        identities: identities(),
        sp_encryption_cert: Some(MockPki::builtin().sp.cert_der()),
        encryption,
        plan,
        keys: keys(),
        fetch_recorder_url: Some(FIXED_TRAP_URL.into()),
        oiosaml4: None,
    };
    mint(&input, &Bergshamra, &Bergshamra)
}

/// Mint for anna under `plan` with the default (NemLog-in) algorithms; panics on error.
pub(crate) fn mint_plan(
    plan: &mitid_mock_broker::FaultPlan,
) -> mitid_mock_broker::saml::mint::Minted {
    mint_with(
        "anna",
        plan,
        mitid_mock_broker::saml::xmlsec::EncryptionAlgorithms::nemlogin_default(),
    )
    .expect("mint succeeds")
}

// ------------------------------------------------------------------ snapshot rendering

/// Replace the content of every `<tag>...</tag>` (any prefix-qualified spelling given in `tag`)
/// with a fixed marker, for values that legitimately vary (RSA-OAEP and AES output is
/// randomised) or that would churn on a fixture regeneration (certificates, signatures).
pub(crate) fn redact_element_text(xml: &str, tag: &str, marker: &str) -> String {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let mut out = String::with_capacity(xml.len());
    let mut rest = xml;
    while let Some(s) = rest.find(&open) {
        let after = s + open.len();
        let Some(e) = rest[after..].find(&close) else {
            break;
        };
        out.push_str(&rest[..after]);
        out.push_str(marker);
        rest = &rest[after + e..];
    }
    out.push_str(rest);
    out
}

/// The standard redactions for snapshots.
pub(crate) fn redact(xml: &str) -> String {
    let x = redact_element_text(xml, "ds:SignatureValue", "[signature value]");
    let x = redact_element_text(&x, "ds:X509Certificate", "[mock certificate]");
    redact_element_text(&x, "xenc:CipherValue", "[ciphertext]")
}

/// Indent XML one element per line (text-only elements stay on one line), so a snapshot
/// diff points at the element that changed. Purely cosmetic: no parsing, no normalisation of
/// the tags themselves, so the snapshot shows exactly the attributes and prefixes sent.
pub(crate) fn pretty_xml(xml: &str) -> String {
    #[derive(PartialEq)]
    enum Tok<'a> {
        Open(&'a str),
        Close(&'a str),
        Empty(&'a str),
        Other(&'a str),
        Text(&'a str),
    }
    let mut toks = Vec::new();
    let mut rest = xml;
    while !rest.is_empty() {
        if let Some(stripped) = rest.strip_prefix('<') {
            let end = if stripped.starts_with("!--") {
                rest.find("-->").map(|e| e + 3)
            } else if stripped.starts_with("!DOCTYPE") {
                rest.find("]>")
                    .map(|e| e + 2)
                    .or_else(|| rest.find('>').map(|e| e + 1))
            } else {
                // A '>' inside a quoted attribute value does not end the tag.
                let mut q: Option<char> = None;
                rest.char_indices().find_map(|(i, c)| match (q, c) {
                    (None, '"' | '\'') => {
                        q = Some(c);
                        None
                    }
                    (Some(o), c) if c == o => {
                        q = None;
                        None
                    }
                    (None, '>') => Some(i + 1),
                    _ => None,
                })
            };
            let end = end.unwrap_or(rest.len());
            let t = &rest[..end];
            toks.push(if t.starts_with("</") {
                Tok::Close(t)
            } else if t.starts_with("<!") || t.starts_with("<?") {
                Tok::Other(t)
            } else if t.ends_with("/>") {
                Tok::Empty(t)
            } else {
                Tok::Open(t)
            });
            rest = &rest[end..];
        } else {
            let end = rest.find('<').unwrap_or(rest.len());
            let t = &rest[..end];
            if !t.trim().is_empty() {
                toks.push(Tok::Text(t));
            }
            rest = &rest[end..];
        }
    }
    let mut out = String::new();
    let mut depth = 0usize;
    let mut i = 0;
    let pad = |d: usize| "  ".repeat(d);
    while i < toks.len() {
        match &toks[i] {
            Tok::Open(t) => {
                // <a>text</a> on one line.
                if let (Some(Tok::Text(x)), Some(Tok::Close(c))) =
                    (toks.get(i + 1), toks.get(i + 2))
                {
                    out.push_str(&format!("{}{t}{x}{c}\n", pad(depth)));
                    i += 3;
                    continue;
                }
                out.push_str(&format!("{}{t}\n", pad(depth)));
                depth += 1;
            }
            Tok::Close(t) => {
                depth = depth.saturating_sub(1);
                out.push_str(&format!("{}{t}\n", pad(depth)));
            }
            Tok::Empty(t) | Tok::Other(t) | Tok::Text(t) => {
                out.push_str(&format!("{}{t}\n", pad(depth)))
            }
        }
        i += 1;
    }
    out
}
