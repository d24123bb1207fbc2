//! Tests for the SP-metadata parser: three real-world shapes (OIOSAML.Java, mod_auth_mellon,
//! Shibboleth) and the hostile or broken inputs the broker must refuse.

use super::*;
use base64::engine::general_purpose::STANDARD as B64;

/// A fresh self-signed certificate as (DER, base64). ECDSA P-256 keeps key generation instant;
/// the parser only needs a well-formed certificate, not a particular key type.
fn cert() -> (Vec<u8>, String) {
    let ck = rcgen::generate_simple_self_signed(vec!["sp.example".to_string()]).unwrap();
    let der = ck.cert.der().to_vec();
    let b64 = B64.encode(&der);
    (der, b64)
}

/// Wrap base64 at 64 columns with indentation, as metadata generators do.
fn wrapped(b64: &str) -> String {
    b64.as_bytes()
        .chunks(64)
        .map(|c| format!("\n            {}", std::str::from_utf8(c).unwrap()))
        .collect::<String>()
        + "\n"
}

/// OIOSAML 3 SP metadata in the shape OIOSAML.Java's SPMetadataService writes.
fn oiosaml3(sign: &str, enc: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://saml.sp.example.dk">
  <md:SPSSODescriptor AuthnRequestsSigned="true" WantAssertionsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing">
      <ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
        <ds:X509Data>
          <ds:X509Certificate>{sign}</ds:X509Certificate>
        </ds:X509Data>
      </ds:KeyInfo>
    </md:KeyDescriptor>
    <md:KeyDescriptor use="encryption">
      <ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
        <ds:X509Data>
          <ds:X509Certificate>{enc}</ds:X509Certificate>
        </ds:X509Data>
      </ds:KeyInfo>
      <md:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#aes256-cbc"/>
      <md:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p">
        <ds:DigestMethod xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Algorithm="http://www.w3.org/2000/09/xmldsig#sha1"/>
      </md:EncryptionMethod>
      <md:EncryptionMethod Algorithm="http://www.w3.org/2009/xmlenc11#rsa-oaep">
        <ds:DigestMethod xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>
        <xenc11:MGF xmlns:xenc11="http://www.w3.org/2009/xmlenc11#" Algorithm="http://www.w3.org/2009/xmlenc11#mgf1sha256"/>
      </md:EncryptionMethod>
    </md:KeyDescriptor>
    <md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://sp.example.dk/saml/logout" ResponseLocation="https://sp.example.dk/saml/logout/response"/>
    <md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://sp.example.dk/saml/logout" ResponseLocation="https://sp.example.dk/saml/logout/response"/>
    <md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:SOAP" Location="https://sp.example.dk/saml/logout/soap"/>
    <md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</md:NameIDFormat>
    <md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://sp.example.dk/saml/assertionConsumer" index="0" isDefault="true"/>
    <md:AttributeConsumingService index="0" isDefault="true">
      <md:ServiceName xml:lang="da">Eksempeltjeneste</md:ServiceName>
      <md:RequestedAttribute Name="https://data.gov.dk/model/core/specVersion" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri" FriendlyName="SpecVer" isRequired="true"/>
      <md:RequestedAttribute Name="https://data.gov.dk/concept/core/nsis/loa" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri" isRequired="true"/>
      <md:RequestedAttribute Name="https://data.gov.dk/model/core/eid/professional/cvr" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri" isRequired="true"/>
      <md:RequestedAttribute Name="https://data.gov.dk/model/core/eid/professional/orgName" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri" isRequired="true"/>
      <md:RequestedAttribute Name="https://data.gov.dk/model/core/eid/cprNumber" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri" isRequired="false"/>
      <md:RequestedAttribute Name="https://data.gov.dk/model/core/eid/email" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri"/>
    </md:AttributeConsumingService>
  </md:SPSSODescriptor>
  <md:Organization>
    <md:OrganizationName xml:lang="da">Eksempelkommune</md:OrganizationName>
    <md:OrganizationDisplayName xml:lang="da">Eksempelkommune</md:OrganizationDisplayName>
    <md:OrganizationURL xml:lang="da">https://example.dk</md:OrganizationURL>
  </md:Organization>
  <md:ContactPerson contactType="technical">
    <md:EmailAddress>mailto:drift@example.dk</md:EmailAddress>
  </md:ContactPerson>
</md:EntityDescriptor>
"#
    )
}

/// Metadata in the shape `mellon_create_metadata` writes: default namespace, no prefixes,
/// KeyDescriptors before the endpoints, ACS for POST, Artifact and PAOS.
fn mellon(cert: &str) -> String {
    format!(
        r#"<EntityDescriptor
 entityID="http://127.0.0.1:18080/mellon/metadata"
 xmlns="urn:oasis:names:tc:SAML:2.0:metadata">
  <SPSSODescriptor
    AuthnRequestsSigned="true"
    WantAssertionsSigned="true"
    protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <KeyDescriptor use="signing">
      <ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
        <ds:X509Data>
          <ds:X509Certificate>{cert}</ds:X509Certificate>
        </ds:X509Data>
      </ds:KeyInfo>
    </KeyDescriptor>
    <KeyDescriptor use="encryption">
      <ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
        <ds:X509Data>
          <ds:X509Certificate>{cert}</ds:X509Certificate>
        </ds:X509Data>
      </ds:KeyInfo>
    </KeyDescriptor>
    <SingleLogoutService
      Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
      Location="http://127.0.0.1:18080/mellon/logout" />
    <NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:transient</NameIDFormat>
    <AssertionConsumerService
      index="0"
      isDefault="true"
      Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
      Location="http://127.0.0.1:18080/mellon/postResponse" />
    <AssertionConsumerService
      index="1"
      Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact"
      Location="http://127.0.0.1:18080/mellon/artifactResponse" />
    <AssertionConsumerService
      index="2"
      Binding="urn:oasis:names:tc:SAML:2.0:bindings:PAOS"
      Location="http://127.0.0.1:18080/mellon/paosResponse" />
  </SPSSODescriptor>
</EntityDescriptor>
"#
    )
}

/// Metadata in the shape of Shibboleth SP's MetadataGenerator: unusual prefixes (`md` is not
/// used for the metadata namespace), extensions in foreign namespaces, one KeyDescriptor
/// without `use`, several ACS bindings with the POST one not first.
fn shibboleth(cert: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<meta:EntityDescriptor xmlns:meta="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:sig="http://www.w3.org/2000/09/xmldsig#" xmlns:init="urn:oasis:names:tc:SAML:profiles:SSO:request-init" xmlns:idpdisc="urn:oasis:names:tc:SAML:profiles:SSO:idp-discovery-protocol" ID="_a1b2c3" entityID="http://127.0.0.1:18082/shibboleth">
  <meta:Extensions>
    <alg:DigestMethod xmlns:alg="urn:oasis:names:tc:SAML:metadata:algsupport" Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>
  </meta:Extensions>
  <meta:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol urn:oasis:names:tc:SAML:1.1:protocol urn:oasis:names:tc:SAML:1.0:protocol">
    <meta:Extensions>
      <init:RequestInitiator Binding="urn:oasis:names:tc:SAML:profiles:SSO:request-init" Location="http://127.0.0.1:18082/Shibboleth.sso/Login"/>
      <idpdisc:DiscoveryResponse Binding="urn:oasis:names:tc:SAML:profiles:SSO:idp-discovery-protocol" Location="http://127.0.0.1:18082/Shibboleth.sso/Login" index="1"/>
    </meta:Extensions>
    <meta:KeyDescriptor>
      <sig:KeyInfo>
        <sig:KeyName>sp.example</sig:KeyName>
        <sig:X509Data>
          <sig:X509SubjectName>CN=sp.example</sig:X509SubjectName>
          <sig:X509Certificate>{cert}</sig:X509Certificate>
        </sig:X509Data>
      </sig:KeyInfo>
      <meta:EncryptionMethod Algorithm="http://www.w3.org/2009/xmlenc11#aes128-gcm"/>
      <meta:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"/>
    </meta:KeyDescriptor>
    <meta:ArtifactResolutionService Binding="urn:oasis:names:tc:SAML:2.0:bindings:SOAP" Location="http://127.0.0.1:18082/Shibboleth.sso/Artifact/SOAP" index="1"/>
    <meta:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:SOAP" Location="http://127.0.0.1:18082/Shibboleth.sso/SLO/SOAP"/>
    <meta:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="http://127.0.0.1:18082/Shibboleth.sso/SLO/Redirect"/>
    <meta:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="http://127.0.0.1:18082/Shibboleth.sso/SLO/POST"/>
    <meta:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact" Location="http://127.0.0.1:18082/Shibboleth.sso/SLO/Artifact"/>
    <meta:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact" Location="http://127.0.0.1:18082/Shibboleth.sso/SAML2/Artifact" index="3"/>
    <meta:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="http://127.0.0.1:18082/Shibboleth.sso/SAML2/POST" index="1"/>
    <meta:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST-SimpleSign" Location="http://127.0.0.1:18082/Shibboleth.sso/SAML2/POST-SimpleSign" index="2"/>
    <meta:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:PAOS" Location="http://127.0.0.1:18082/Shibboleth.sso/SAML2/ECP" index="4"/>
    <meta:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:1.0:profiles:browser-post" Location="http://127.0.0.1:18082/Shibboleth.sso/SAML/POST" index="5"/>
  </meta:SPSSODescriptor>
</meta:EntityDescriptor>
"#
    )
}

const POST: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";
const REDIRECT: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";

#[test]
fn parses_oiosaml3_java_shape() {
    let (sign_der, sign) = cert();
    let (enc_der, enc) = cert();
    let md = SpMetadata::parse(&oiosaml3(&wrapped(&sign), &enc)).unwrap();

    assert_eq!(md.entity_id, "https://saml.sp.example.dk");
    assert_eq!(md.authn_requests_signed, Some(true));
    assert_eq!(md.want_assertions_signed, Some(true));
    assert_eq!(md.signing_certs, vec![sign_der]);
    assert_eq!(md.encryption_certs, vec![enc_der]);
    assert_eq!(md.protocol_support, vec![SAML2_PROTOCOL.to_string()]);
    assert_eq!(md.organization_name.as_deref(), Some("Eksempelkommune"));
    assert_eq!(md.valid_until, None);
    assert_eq!(
        md.name_id_formats,
        vec!["urn:oasis:names:tc:SAML:2.0:nameid-format:persistent".to_string()]
    );

    assert_eq!(
        md.encryption_methods,
        vec![
            EncryptionMethod {
                algorithm: "http://www.w3.org/2001/04/xmlenc#aes256-cbc".into(),
                digest_method: None,
                mgf: None,
            },
            EncryptionMethod {
                algorithm: "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p".into(),
                digest_method: Some("http://www.w3.org/2000/09/xmldsig#sha1".into()),
                mgf: None,
            },
            EncryptionMethod {
                algorithm: "http://www.w3.org/2009/xmlenc11#rsa-oaep".into(),
                digest_method: Some("http://www.w3.org/2001/04/xmlenc#sha256".into()),
                mgf: Some("http://www.w3.org/2009/xmlenc11#mgf1sha256".into()),
            },
        ]
    );

    assert_eq!(
        md.acs,
        vec![Endpoint {
            binding: POST.into(),
            location: "https://sp.example.dk/saml/assertionConsumer".into(),
            index: Some(0),
            is_default: Some(true),
            response_location: None,
        }]
    );
    let slo_bindings: Vec<&str> = md.slo.iter().map(|e| e.binding.as_str()).collect();
    assert_eq!(
        slo_bindings,
        [REDIRECT, POST, "urn:oasis:names:tc:SAML:2.0:bindings:SOAP"]
    );
    assert_eq!(
        md.slo[0].response_location.as_deref(),
        Some("https://sp.example.dk/saml/logout/response")
    );

    let acs = &md.attribute_consuming_services;
    assert_eq!(acs.len(), 1);
    assert_eq!(acs[0].index, 0);
    assert_eq!(acs[0].is_default, Some(true));
    assert_eq!(acs[0].service_names, vec!["Eksempeltjeneste".to_string()]);
    assert_eq!(acs[0].requested.len(), 6);
    assert_eq!(
        acs[0].requested[0],
        RequestedAttribute {
            name: "https://data.gov.dk/model/core/specVersion".into(),
            name_format: Some("urn:oasis:names:tc:SAML:2.0:attrname-format:uri".into()),
            friendly_name: Some("SpecVer".into()),
            is_required: Some(true),
        }
    );
    assert_eq!(acs[0].requested[4].is_required, Some(false));
    assert_eq!(acs[0].requested[5].is_required, None);

    assert!(md.has_acs("https://sp.example.dk/saml/assertionConsumer", POST));
    assert!(!md.has_acs("https://sp.example.dk/saml/assertionConsumer/", POST));
    assert!(!md.has_acs("https://sp.example.dk/saml/assertionConsumer", REDIRECT));
    assert!(md.raw_xml.contains("Eksempelkommune"));
}

#[test]
fn parses_mellon_shape() {
    let (der, b64) = cert();
    let md = SpMetadata::parse(&mellon(&b64)).unwrap();
    assert_eq!(md.entity_id, "http://127.0.0.1:18080/mellon/metadata");
    assert_eq!(md.authn_requests_signed, Some(true));
    assert_eq!(md.signing_certs, vec![der.clone()]);
    assert_eq!(md.encryption_certs, vec![der]);
    assert!(md.encryption_methods.is_empty());
    assert!(md.attribute_consuming_services.is_empty());
    assert_eq!(md.acs.len(), 3);
    assert_eq!(
        md.default_acs(POST).map(|e| e.location.as_str()),
        Some("http://127.0.0.1:18080/mellon/postResponse")
    );
    assert_eq!(
        md.acs_by_index(2).map(|e| e.location.as_str()),
        Some("http://127.0.0.1:18080/mellon/paosResponse")
    );
    assert!(md.acs_by_index(7).is_none());
    assert_eq!(md.slo.len(), 1);
    assert_eq!(md.organization_name, None);
}

#[test]
fn parses_shibboleth_shape() {
    let (der, b64) = cert();
    let md = SpMetadata::parse(&shibboleth(&wrapped(&b64))).unwrap();
    assert_eq!(md.entity_id, "http://127.0.0.1:18082/shibboleth");
    // No AuthnRequestsSigned attribute at all: absent, not false.
    assert_eq!(md.authn_requests_signed, None);
    assert_eq!(md.want_assertions_signed, None);
    // A KeyDescriptor without `use` serves both purposes.
    assert_eq!(md.signing_certs, vec![der.clone()]);
    assert_eq!(md.encryption_certs, vec![der]);
    assert_eq!(md.encryption_methods.len(), 2);
    assert_eq!(md.protocol_support.len(), 3);
    assert_eq!(md.acs.len(), 5);
    // No isDefault anywhere: the first POST endpoint is the default for POST.
    assert_eq!(
        md.default_acs(POST).map(|e| e.location.as_str()),
        Some("http://127.0.0.1:18082/Shibboleth.sso/SAML2/POST")
    );
    assert_eq!(md.slo.len(), 4);
    // The Extensions' DiscoveryResponse (indexed endpoint in a foreign namespace) is not an ACS.
    assert!(md.acs.iter().all(|e| !e.location.ends_with("/Login")));
}

#[test]
fn default_acs_prefers_is_default_then_not_false() {
    let (_, b64) = cert();
    let xml = mellon(&b64)
        .replace(
            r#"index="0"
      isDefault="true""#,
            r#"index="0"
      isDefault="false""#,
        )
        .replace("urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact", POST);
    let md = SpMetadata::parse(&xml).unwrap();
    // index 0 says isDefault=false, index 1 says nothing: index 1 wins.
    assert_eq!(md.default_acs(POST).and_then(|e| e.index), Some(1));
    assert!(md.default_acs("urn:example:none").is_none());
}

#[test]
fn entities_descriptor_with_one_sp_and_an_idp() {
    let (_, b64) = cert();
    let sp = oiosaml3(&b64, &b64).replace(r#"<?xml version="1.0" encoding="UTF-8"?>"#, "");
    let xml = format!(
        r#"<EntitiesDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" validUntil="2030-01-01T00:00:00Z">
  <EntityDescriptor entityID="https://idp.example">
    <IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
      <SingleSignOnService Binding="{REDIRECT}" Location="https://idp.example/sso"/>
    </IDPSSODescriptor>
  </EntityDescriptor>
  {sp}
</EntitiesDescriptor>"#
    );
    let md = SpMetadata::parse(&xml).unwrap();
    assert_eq!(md.entity_id, "https://saml.sp.example.dk");
    // Inherited from the aggregate.
    assert_eq!(md.valid_until.as_deref(), Some("2030-01-01T00:00:00Z"));
    assert!(md.raw_xml.starts_with("<md:EntityDescriptor"));
    assert!(!md.raw_xml.contains("idp.example"));
}

#[test]
fn entities_descriptor_with_two_sps_names_the_count() {
    let (_, b64) = cert();
    let one = mellon(&b64);
    let two = mellon(&b64).replace("18080/mellon/metadata", "18081/other");
    let xml = format!(
        r#"<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"><md:EntitiesDescriptor>{one}</md:EntitiesDescriptor>{two}</md:EntitiesDescriptor>"#
    );
    let err = SpMetadata::parse(&xml).unwrap_err();
    assert!(
        matches!(err, MetadataError::AmbiguousEntities { count: 2, .. }),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(msg.contains("2 SP entities"), "{msg}");
    assert!(msg.contains("http://127.0.0.1:18081/other"), "{msg}");

    let all = SpMetadata::parse_all(&xml).unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].entity_id, "http://127.0.0.1:18080/mellon/metadata");
}

#[test]
fn idp_only_metadata_has_no_sp_descriptor() {
    let xml = format!(
        r#"<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://saml.nemlog-in.dk">
  <IDPSSODescriptor WantAuthnRequestsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <SingleSignOnService Binding="{REDIRECT}" Location="https://login.nemlog-in.dk/idp/saml/3.0/"/>
  </IDPSSODescriptor>
</EntityDescriptor>"#
    );
    assert!(matches!(
        SpMetadata::parse(&xml),
        Err(MetadataError::NoSpDescriptor)
    ));
}

#[test]
fn doctype_and_xxe_are_refused() {
    let xxe = r#"<?xml version="1.0"?>
<!DOCTYPE md:EntityDescriptor [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="&xxe;">
  <md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"/>
</md:EntityDescriptor>"#;
    let err = SpMetadata::parse(xxe).unwrap_err();
    assert!(matches!(err, MetadataError::Dtd), "{err:?}");
    assert!(err.to_string().contains("DOCTYPE"));
}

#[test]
fn billion_laughs_is_refused() {
    let mut dtd = String::from("<!ENTITY lol \"lol\">");
    let mut prev = "lol".to_string();
    for i in 1..10 {
        let name = format!("lol{i}");
        dtd.push_str(&format!(
            "<!ENTITY {name} \"{}\">",
            format!("&{prev};").repeat(10)
        ));
        prev = name;
    }
    let xml = format!(
        r#"<?xml version="1.0"?><!DOCTYPE lolz [{dtd}]><md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="&{prev};"/>"#
    );
    let started = std::time::Instant::now();
    let err = SpMetadata::parse(&xml).unwrap_err();
    assert!(matches!(err, MetadataError::Dtd), "{err:?}");
    assert!(started.elapsed() < std::time::Duration::from_secs(1));
}

#[test]
fn oversized_input_is_refused_before_parsing() {
    let (_, b64) = cert();
    let mut xml = oiosaml3(&b64, &b64);
    // Pad with a comment to 2 MiB: well-formed, so only the size cap can reject it.
    let pad = 2 * 1024 * 1024 - xml.len();
    xml.push_str(&format!("<!--{}-->", "x".repeat(pad)));
    let err = SpMetadata::parse(&xml).unwrap_err();
    assert!(
        matches!(err, MetadataError::TooLarge { limit: MAX_METADATA_BYTES, size } if size > 2_000_000),
        "{err:?}"
    );
}

#[test]
fn node_count_is_capped() {
    let body = "<x/>".repeat(MAX_METADATA_NODES as usize + 10);
    let xml = format!(
        r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="e">{body}</md:EntityDescriptor>"#
    );
    assert!(xml.len() <= MAX_METADATA_BYTES);
    let err = SpMetadata::parse(&xml).unwrap_err();
    assert!(matches!(err, MetadataError::TooManyNodes { .. }), "{err:?}");
}

#[test]
fn wrong_root_is_named() {
    let err = SpMetadata::parse(
        r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_1"/>"#,
    )
    .unwrap_err();
    assert!(matches!(err, MetadataError::NotMetadata(_)), "{err:?}");
    assert!(
        err.to_string()
            .contains("{urn:oasis:names:tc:SAML:2.0:protocol}AuthnRequest"),
        "{err}"
    );
}

#[test]
fn prefix_does_not_make_an_element_metadata() {
    // The right local name with the `md` prefix bound to the wrong namespace is not metadata.
    let err = SpMetadata::parse(
        r#"<md:EntityDescriptor xmlns:md="urn:example:not-saml" entityID="x"><md:SPSSODescriptor/></md:EntityDescriptor>"#,
    )
    .unwrap_err();
    assert!(matches!(err, MetadataError::NotMetadata(_)), "{err:?}");
}

#[test]
fn missing_or_empty_entity_id() {
    let (_, b64) = cert();
    for replacement in ["", r#"entityID="  ""#] {
        let xml = mellon(&b64).replace(
            r#"entityID="http://127.0.0.1:18080/mellon/metadata""#,
            replacement,
        );
        let err = SpMetadata::parse(&xml).unwrap_err();
        assert!(matches!(err, MetadataError::MissingEntityId), "{err:?}");
    }
}

#[test]
fn not_well_formed() {
    let err = SpMetadata::parse("<md:EntityDescriptor").unwrap_err();
    assert!(matches!(err, MetadataError::Xml(_)), "{err:?}");
}

#[test]
fn bad_certificates_are_reported_with_position_and_usage() {
    let (_, good) = cert();
    let cases = [
        ("!!!notbase64", "base64"),
        ("AAAA", "DER"),
        (
            "-----BEGIN CERTIFICATE-----MIIB-----END CERTIFICATE-----",
            "PEM",
        ),
        ("", "empty"),
    ];
    for (bad, expect) in cases {
        let xml = oiosaml3(&good, bad);
        let err = SpMetadata::parse(&xml).unwrap_err();
        match &err {
            MetadataError::BadCertificate {
                usage,
                position,
                reason,
                ..
            } => {
                assert_eq!(*usage, "encryption");
                assert_eq!(*position, 2);
                assert!(reason.contains(expect), "{reason}");
            }
            other => panic!("expected BadCertificate, got {other:?}"),
        }
    }
}

#[test]
fn malformed_values_are_errors_not_guesses() {
    let (_, b64) = cert();
    let base = mellon(&b64);
    let cases = [
        (
            r#"AuthnRequestsSigned="true""#,
            r#"AuthnRequestsSigned="yes""#,
            "AuthnRequestsSigned",
        ),
        (r#"index="1""#, r#"index="one""#, "index"),
        (
            r#"<KeyDescriptor use="signing">"#,
            r#"<KeyDescriptor use="sign">"#,
            "use",
        ),
    ];
    for (from, to, attr) in cases {
        let err = SpMetadata::parse(&base.replacen(from, to, 1)).unwrap_err();
        match &err {
            MetadataError::BadAttribute { attribute, .. } => assert_eq!(*attribute, attr),
            other => panic!("{to}: expected BadAttribute, got {other:?}"),
        }
        assert!(
            err.to_string()
                .contains("http://127.0.0.1:18080/mellon/metadata")
        );
    }
    let err = SpMetadata::parse(&base.replace(
        r#"Location="http://127.0.0.1:18080/mellon/postResponse""#,
        "",
    ))
    .unwrap_err();
    assert!(
        matches!(
            err,
            MetadataError::MissingAttribute {
                element: "AssertionConsumerService",
                attribute: "Location",
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn xs_boolean_numeric_forms() {
    let (_, b64) = cert();
    let xml = mellon(&b64)
        .replace(
            r#"AuthnRequestsSigned="true""#,
            r#"AuthnRequestsSigned="1""#,
        )
        .replace(
            r#"WantAssertionsSigned="true""#,
            r#"WantAssertionsSigned=" 0 ""#,
        );
    let md = SpMetadata::parse(&xml).unwrap();
    assert_eq!(md.authn_requests_signed, Some(true));
    assert_eq!(md.want_assertions_signed, Some(false));
}

#[test]
fn bom_is_accepted() {
    let (_, b64) = cert();
    let xml = format!("\u{feff}{}", oiosaml3(&b64, &b64));
    assert!(SpMetadata::parse(&xml).is_ok());
}

#[test]
fn from_file_reads_and_caps() {
    let dir = std::env::temp_dir().join(format!("sp-md-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (_, b64) = cert();

    let ok = dir.join("ok.xml");
    std::fs::write(&ok, mellon(&b64)).unwrap();
    assert_eq!(
        SpMetadata::from_file(&ok).unwrap().entity_id,
        "http://127.0.0.1:18080/mellon/metadata"
    );

    let big = dir.join("big.xml");
    std::fs::write(&big, vec![b' '; MAX_METADATA_BYTES + 100]).unwrap();
    assert!(matches!(
        SpMetadata::from_file(&big),
        Err(MetadataError::TooLarge { .. })
    ));

    let latin1 = dir.join("latin1.xml");
    std::fs::write(&latin1, b"<a>\xe6</a>").unwrap();
    let err = SpMetadata::from_file(&latin1).unwrap_err();
    assert!(err.to_string().contains("UTF-8"), "{err}");

    let missing = dir.join("missing.xml");
    let err = SpMetadata::from_file(&missing).unwrap_err();
    assert!(matches!(err, MetadataError::Io { .. }));
    assert!(err.to_string().contains("missing.xml"));

    std::fs::remove_dir_all(&dir).unwrap();
}
