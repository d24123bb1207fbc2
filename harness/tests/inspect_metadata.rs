//! Metadata and certificate checks (issue 7), proven against committed fixtures in
//! `harness/testdata/inspect/`: every check has a fixture it passes on and one it fails (or, for
//! advisory checks, warns) on, and each fixture's report is snapshotted as JSON with a fixed
//! clock.
//!
//! The fixtures are generated from the templates below with the mock PKI's SP certificates, and
//! `fixtures_match_templates` fails when a committed file drifts from its template (for example
//! after the PKI is regenerated). Rewrite them with
//! `INSPECT_FIXTURES_UPDATE=1 cargo test -p mitid-harness --test inspect_metadata`.

use std::path::PathBuf;

use mitid_harness::inspect::{
    ALL_CHECKS, CheckStatus, Family, InspectOptions, InspectionReport, inspect_metadata,
    render_terminal,
};
use mitid_mock_broker::pki::{Credential, MockPki};
use time::macros::datetime;

const NOW: time::OffsetDateTime = datetime!(2026-06-01 12:00:00 UTC);

fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/inspect")
}

/// Base64 wrapped at 64 columns, indented for a ds:X509Certificate element.
fn cert_text(c: &Credential) -> String {
    let b64 = c.cert_base64();
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|l| std::str::from_utf8(l).expect("base64 is ASCII"))
        .collect();
    format!(
        "\n{}\n          ",
        lines
            .iter()
            .map(|l| format!("            {l}"))
            .collect::<Vec<_>>()
            .join("\n")
    )
}

/// OIOSAML 3 SP metadata in the shape OIOSAML.Java publishes (signing + encryption keys,
/// EncryptionMethod, POST ACS, Redirect/POST/SOAP SLO, OIOSAML 3 attributes).
const CLEAN: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<!-- MOCK SP metadata for mitid-harness tests; the certificates are mock certificates. -->
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{ENTITY}">
  <md:SPSSODescriptor AuthnRequestsSigned="true" WantAssertionsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing">
      <ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
        <ds:X509Data>
          <ds:X509Certificate>{CERT}</ds:X509Certificate>
        </ds:X509Data>
      </ds:KeyInfo>
    </md:KeyDescriptor>
    <md:KeyDescriptor use="encryption">
      <ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
        <ds:X509Data>
          <ds:X509Certificate>{CERT}</ds:X509Certificate>
        </ds:X509Data>
      </ds:KeyInfo>
      <md:EncryptionMethod Algorithm="http://www.w3.org/2009/xmlenc11#aes256-gcm"/>
      <md:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#aes256-cbc"/>
      <md:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p">
        <ds:DigestMethod xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Algorithm="http://www.w3.org/2000/09/xmldsig#sha1"/>
      </md:EncryptionMethod>
    </md:KeyDescriptor>
    <md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://sp.example.dk/saml/logout" ResponseLocation="https://sp.example.dk/saml/logout/response"/>
    <md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://sp.example.dk/saml/logout" ResponseLocation="https://sp.example.dk/saml/logout/response"/>
    <md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:SOAP" Location="https://sp.example.dk/saml/logout/soap"/>
    <md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</md:NameIDFormat>
    <md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://sp.example.dk/saml/assertionConsumer" index="0" isDefault="true"/>
    <md:AttributeConsumingService index="0" isDefault="true">
      <md:ServiceName xml:lang="da">Eksempeltjeneste (MOCK)</md:ServiceName>
      <md:RequestedAttribute Name="https://data.gov.dk/model/core/specVersion" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri" isRequired="true"/>
      <md:RequestedAttribute Name="https://data.gov.dk/concept/core/nsis/loa" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri" isRequired="true"/>
      <md:RequestedAttribute Name="https://data.gov.dk/model/core/eid/person/uuid" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri"/>
      <md:RequestedAttribute Name="https://data.gov.dk/model/core/eid/fullName" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri"/>
      <md:RequestedAttribute Name="https://data.gov.dk/model/core/eid/email" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri"/>{CPR}
    </md:AttributeConsumingService>
  </md:SPSSODescriptor>
  <md:Organization>
    <md:OrganizationName xml:lang="da">Eksempelkommune (MOCK)</md:OrganizationName>
    <md:OrganizationDisplayName xml:lang="da">Eksempelkommune (MOCK)</md:OrganizationDisplayName>
    <md:OrganizationURL xml:lang="da">https://sp.example.dk</md:OrganizationURL>
  </md:Organization>
  <md:ContactPerson contactType="technical">
    <md:EmailAddress>mailto:drift@sp.example.dk</md:EmailAddress>
  </md:ContactPerson>
</md:EntityDescriptor>
"#;

const CPR_LINE: &str = r#"
      <md:RequestedAttribute Name="https://data.gov.dk/model/core/eid/cprNumber" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri"/>"#;

/// A NemID-era (OIOSAML 2) SP: unsigned requests, OCES2 certificate, no encryption key,
/// SHA-1, http endpoints, DK-SAML-2.0 attribute names, expired validUntil, bare-host entityID.
const LEGACY: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<!-- MOCK legacy (OIOSAML 2 / NemID era) SP metadata for mitid-harness tests. -->
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:alg="urn:oasis:names:tc:SAML:metadata:algsupport" entityID="legacy.example.dk" validUntil="2019-06-30T00:00:00Z">
  <md:Extensions>
    <alg:DigestMethod Algorithm="http://www.w3.org/2000/09/xmldsig#sha1"/>
    <alg:SigningMethod Algorithm="http://www.w3.org/2000/09/xmldsig#rsa-sha1"/>
  </md:Extensions>
  <md:SPSSODescriptor AuthnRequestsSigned="false" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing">
      <ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
        <ds:X509Data>
          <ds:X509Certificate>{CERT}</ds:X509Certificate>
        </ds:X509Data>
      </ds:KeyInfo>
    </md:KeyDescriptor>
    <md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="http://legacy.example.dk/saml/SAMLLogout"/>
    <md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName</md:NameIDFormat>
    <md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="http://legacy.example.dk/saml/SAMLAssertionConsumer" index="0" isDefault="true"/>
    <md:AttributeConsumingService index="0" isDefault="true">
      <md:ServiceName xml:lang="da">Gammel tjeneste (MOCK)</md:ServiceName>
      <md:RequestedAttribute Name="dk:gov:saml:attribute:SpecVer" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:basic" isRequired="true"/>
      <md:RequestedAttribute Name="dk:gov:saml:attribute:AssuranceLevel" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:basic" isRequired="true"/>
      <md:RequestedAttribute Name="dk:gov:saml:attribute:CprNumberIdentifier" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:basic"/>
      <md:RequestedAttribute Name="urn:oid:2.5.4.3" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:basic" FriendlyName="CommonName"/>
      <md:RequestedAttribute Name="urn:oid:0.9.2342.19200300.100.1.1" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:basic" FriendlyName="Uid"/>
    </md:AttributeConsumingService>
  </md:SPSSODescriptor>
</md:EntityDescriptor>
"#;

/// Structurally broken metadata: children out of order, an unknown binding, a Redirect-only
/// ACS, duplicate indexes, SAML 1.1-only protocol support, no keys, no attribute service.
const SCHEMA_BROKEN: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<!-- MOCK structurally broken SP metadata for mitid-harness tests. -->
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://saml.broken.example.dk">
  <md:SPSSODescriptor AuthnRequestsSigned="true" WantAssertionsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:1.1:protocol">
    <md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://broken.example.dk/acs" index="1"/>
    <md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Post" Location="https://broken.example.dk/acs2" index="1"/>
    <md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://broken.example.dk/slo"/>
  </md:SPSSODescriptor>
</md:EntityDescriptor>
"#;

/// What `mellon_create_metadata http://127.0.0.1:18080/mellon/metadata http://127.0.0.1:18080/mellon`
/// writes (default namespace, loopback http endpoints, no attribute service), with a
/// self-signed certificate as mellon generates.
const MELLON_LOOPBACK: &str = r#"<EntityDescriptor
 entityID="http://127.0.0.1:18080/mellon/metadata"
 xmlns="urn:oasis:names:tc:SAML:2.0:metadata">
  <SPSSODescriptor
    AuthnRequestsSigned="true"
    WantAssertionsSigned="true"
    protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <KeyDescriptor use="signing">
      <ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
        <ds:X509Data>
          <ds:X509Certificate>{CERT}</ds:X509Certificate>
        </ds:X509Data>
      </ds:KeyInfo>
    </KeyDescriptor>
    <KeyDescriptor use="encryption">
      <ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
        <ds:X509Data>
          <ds:X509Certificate>{CERT}</ds:X509Certificate>
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
"#;

/// IdP metadata handed in by mistake: no SPSSODescriptor.
const IDP_METADATA: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<!-- MOCK IdP metadata (wrong input for SP inspection). -->
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://saml.mock-nemlog-in.example">
  <md:IDPSSODescriptor WantAuthnRequestsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing">
      <ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
        <ds:X509Data>
          <ds:X509Certificate>{CERT}</ds:X509Certificate>
        </ds:X509Data>
      </ds:KeyInfo>
    </md:KeyDescriptor>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://login.mock-nemlog-in.example/idp/saml/3.0/"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>
"#;

/// Metadata with an XXE DOCTYPE.
const DOCTYPE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE md:EntityDescriptor [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://saml.xxe.example.dk">
  <md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://xxe.example.dk/&xxe;" index="0"/>
  </md:SPSSODescriptor>
</md:EntityDescriptor>
"#;

/// Every committed fixture: file name and its content rendered from the templates.
fn fixtures() -> Vec<(&'static str, String)> {
    let pki = MockPki::builtin();
    let clean = |entity: &str, cert: &Credential, cpr: bool| {
        CLEAN
            .replace("{ENTITY}", entity)
            .replace("{CERT}", &cert_text(cert))
            .replace("{CPR}", if cpr { CPR_LINE } else { "" })
    };
    vec![
        (
            "oiosaml3-clean.xml",
            clean("https://saml.sp.example.dk", &pki.sp, true),
        ),
        (
            "private-sp.xml",
            clean("https://saml.private-sp.example.dk", &pki.sp, false),
        ),
        (
            "oces2.xml",
            clean("https://saml.sp.example.dk", &pki.sp_oces2, true),
        ),
        (
            "selfsigned.xml",
            clean("https://saml.sp.example.dk", &pki.sp_selfsigned, true),
        ),
        (
            "expired.xml",
            clean("https://saml.sp.example.dk", &pki.sp_expired, true),
        ),
        (
            "weak-key.xml",
            clean("https://saml.sp.example.dk", &pki.sp_weak, true),
        ),
        (
            "legacy.xml",
            LEGACY.replace("{CERT}", &cert_text(&pki.sp_oces2)),
        ),
        ("schema-broken.xml", SCHEMA_BROKEN.to_string()),
        (
            "mellon-loopback.xml",
            MELLON_LOOPBACK.replace("{CERT}", &cert_text(&pki.sp_selfsigned)),
        ),
        (
            "idp-metadata.xml",
            IDP_METADATA.replace("{CERT}", &cert_text(&pki.idp_oces3)),
        ),
        ("doctype.xml", DOCTYPE.to_string()),
    ]
}

fn load(name: &str) -> String {
    let path = fixture_dir().join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; regenerate with INSPECT_FIXTURES_UPDATE=1 cargo test -p mitid-harness --test inspect_metadata",
            path.display()
        )
    })
}

fn inspect(name: &str, opts: &InspectOptions) -> InspectionReport {
    inspect_metadata(&load(name), opts)
}

#[test]
fn fixtures_match_templates() {
    let update = std::env::var_os("INSPECT_FIXTURES_UPDATE").is_some();
    let dir = fixture_dir();
    if update {
        std::fs::create_dir_all(&dir).unwrap();
    }
    for (name, text) in fixtures() {
        let path = dir.join(name);
        if update {
            std::fs::write(&path, &text).unwrap();
        } else {
            assert_eq!(
                load(name),
                text,
                "{name} is stale; regenerate with INSPECT_FIXTURES_UPDATE=1"
            );
        }
    }
}

/// (fixture, private_sp, clock, check id, expected status)
type Case = (
    &'static str,
    bool,
    time::OffsetDateTime,
    &'static str,
    CheckStatus,
);

const NEAR_EXPIRY: time::OffsetDateTime = datetime!(2044-11-01 00:00:00 UTC);

const CASES: &[Case] = &[
    (
        "oiosaml3-clean.xml",
        false,
        NOW,
        "metadata.parse",
        CheckStatus::Pass,
    ),
    (
        "idp-metadata.xml",
        false,
        NOW,
        "metadata.parse",
        CheckStatus::Fail,
    ),
    (
        "doctype.xml",
        false,
        NOW,
        "metadata.parse",
        CheckStatus::Fail,
    ),
    (
        "oiosaml3-clean.xml",
        false,
        NOW,
        "metadata.schema",
        CheckStatus::Pass,
    ),
    (
        "schema-broken.xml",
        false,
        NOW,
        "metadata.schema",
        CheckStatus::Fail,
    ),
    (
        "oiosaml3-clean.xml",
        false,
        NOW,
        "metadata.protocol-support",
        CheckStatus::Pass,
    ),
    (
        "schema-broken.xml",
        false,
        NOW,
        "metadata.protocol-support",
        CheckStatus::Fail,
    ),
    (
        "oiosaml3-clean.xml",
        false,
        NOW,
        "metadata.valid-until",
        CheckStatus::Pass,
    ),
    (
        "legacy.xml",
        false,
        NOW,
        "metadata.valid-until",
        CheckStatus::Fail,
    ),
    (
        "oiosaml3-clean.xml",
        false,
        NOW,
        "metadata.authn-requests-signed",
        CheckStatus::Pass,
    ),
    (
        "legacy.xml",
        false,
        NOW,
        "metadata.authn-requests-signed",
        CheckStatus::Fail,
    ),
    (
        "oiosaml3-clean.xml",
        false,
        NOW,
        "metadata.want-assertions-signed",
        CheckStatus::Pass,
    ),
    (
        "legacy.xml",
        false,
        NOW,
        "metadata.want-assertions-signed",
        CheckStatus::Fail,
    ),
    (
        "oiosaml3-clean.xml",
        false,
        NOW,
        "metadata.signing-key",
        CheckStatus::Pass,
    ),
    (
        "schema-broken.xml",
        false,
        NOW,
        "metadata.signing-key",
        CheckStatus::Fail,
    ),
    (
        "oiosaml3-clean.xml",
        false,
        NOW,
        "metadata.encryption-key",
        CheckStatus::Pass,
    ),
    (
        "legacy.xml",
        false,
        NOW,
        "metadata.encryption-key",
        CheckStatus::Fail,
    ),
    (
        "oiosaml3-clean.xml",
        false,
        NOW,
        "metadata.algorithms",
        CheckStatus::Pass,
    ),
    (
        "legacy.xml",
        false,
        NOW,
        "metadata.algorithms",
        CheckStatus::Fail,
    ),
    (
        "oiosaml3-clean.xml",
        false,
        NOW,
        "metadata.acs-binding",
        CheckStatus::Pass,
    ),
    (
        "schema-broken.xml",
        false,
        NOW,
        "metadata.acs-binding",
        CheckStatus::Fail,
    ),
    (
        "oiosaml3-clean.xml",
        false,
        NOW,
        "metadata.acs-https",
        CheckStatus::Pass,
    ),
    (
        "mellon-loopback.xml",
        false,
        NOW,
        "metadata.acs-https",
        CheckStatus::Warn,
    ),
    (
        "legacy.xml",
        false,
        NOW,
        "metadata.acs-https",
        CheckStatus::Fail,
    ),
    (
        "oiosaml3-clean.xml",
        false,
        NOW,
        "metadata.slo",
        CheckStatus::Pass,
    ),
    (
        "mellon-loopback.xml",
        false,
        NOW,
        "metadata.slo",
        CheckStatus::Warn,
    ),
    ("legacy.xml", false, NOW, "metadata.slo", CheckStatus::Fail),
    (
        "oiosaml3-clean.xml",
        false,
        NOW,
        "metadata.attribute-consuming-service",
        CheckStatus::Pass,
    ),
    (
        "mellon-loopback.xml",
        false,
        NOW,
        "metadata.attribute-consuming-service",
        CheckStatus::Warn,
    ),
    (
        "legacy.xml",
        false,
        NOW,
        "metadata.attribute-consuming-service",
        CheckStatus::Warn,
    ),
    (
        "oiosaml3-clean.xml",
        false,
        NOW,
        "metadata.attribute-names",
        CheckStatus::Pass,
    ),
    (
        "legacy.xml",
        false,
        NOW,
        "metadata.attribute-names",
        CheckStatus::Fail,
    ),
    (
        "private-sp.xml",
        true,
        NOW,
        "metadata.private-sp-attributes",
        CheckStatus::Pass,
    ),
    (
        "oiosaml3-clean.xml",
        true,
        NOW,
        "metadata.private-sp-attributes",
        CheckStatus::Fail,
    ),
    (
        "legacy.xml",
        true,
        NOW,
        "metadata.private-sp-attributes",
        CheckStatus::Fail,
    ),
    (
        "oiosaml3-clean.xml",
        false,
        NOW,
        "metadata.private-sp-attributes",
        CheckStatus::Skipped,
    ),
    (
        "oiosaml3-clean.xml",
        false,
        NOW,
        "metadata.entity-id",
        CheckStatus::Pass,
    ),
    (
        "mellon-loopback.xml",
        false,
        NOW,
        "metadata.entity-id",
        CheckStatus::Warn,
    ),
    (
        "legacy.xml",
        false,
        NOW,
        "metadata.entity-id",
        CheckStatus::Fail,
    ),
    (
        "oiosaml3-clean.xml",
        false,
        NOW,
        "certificate.oces3",
        CheckStatus::Pass,
    ),
    (
        "oces2.xml",
        false,
        NOW,
        "certificate.oces3",
        CheckStatus::Fail,
    ),
    (
        "selfsigned.xml",
        false,
        NOW,
        "certificate.oces3",
        CheckStatus::Fail,
    ),
    (
        "legacy.xml",
        false,
        NOW,
        "certificate.oces3",
        CheckStatus::Fail,
    ),
    (
        "oiosaml3-clean.xml",
        false,
        NOW,
        "certificate.validity",
        CheckStatus::Pass,
    ),
    (
        "oiosaml3-clean.xml",
        false,
        NEAR_EXPIRY,
        "certificate.validity",
        CheckStatus::Warn,
    ),
    (
        "expired.xml",
        false,
        NOW,
        "certificate.validity",
        CheckStatus::Fail,
    ),
    (
        "oiosaml3-clean.xml",
        false,
        NOW,
        "certificate.key",
        CheckStatus::Pass,
    ),
    (
        "oces2.xml",
        false,
        NOW,
        "certificate.key",
        CheckStatus::Pass,
    ),
    (
        "weak-key.xml",
        false,
        NOW,
        "certificate.key",
        CheckStatus::Fail,
    ),
    (
        "schema-broken.xml",
        false,
        NOW,
        "certificate.key",
        CheckStatus::Skipped,
    ),
];

#[test]
fn each_check_passes_and_fails_on_its_fixtures() {
    let mut failures = Vec::new();
    for (fixture, private_sp, now, id, expected) in CASES {
        let mut opts = InspectOptions::new(*now);
        opts.private_sp = *private_sp;
        let report = inspect(fixture, &opts);
        let f = report
            .finding(id)
            .unwrap_or_else(|| panic!("{fixture}: no finding {id}"));
        if f.status != *expected {
            failures.push(format!(
                "{fixture} {id}: expected {expected:?}, got {:?}: {}",
                f.status, f.detail
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_metadata_and_certificate_check_is_proven_both_ways() {
    for c in ALL_CHECKS
        .iter()
        .filter(|c| c.family != Family::AuthnRequest)
    {
        let has = |good: bool| {
            CASES.iter().any(|(_, _, _, id, s)| {
                *id == c.id
                    && if good {
                        *s == CheckStatus::Pass
                    } else {
                        matches!(s, CheckStatus::Fail | CheckStatus::Warn)
                    }
            })
        };
        assert!(has(true), "{}: no passing fixture case", c.id);
        assert!(has(false), "{}: no failing fixture case", c.id);
    }
}

#[test]
fn clean_fixture_is_clean() {
    let report = inspect("oiosaml3-clean.xml", &InspectOptions::new(NOW));
    let s = report.summary();
    assert_eq!((s.fail, s.warn), (0, 0), "{}", report.to_json());
    assert!(!report.has_failures());
    // One finding per metadata/certificate check, in catalogue order.
    let ids: Vec<&str> = report.findings.iter().map(|f| f.id).collect();
    let expected: Vec<&str> = ALL_CHECKS
        .iter()
        .filter(|c| c.family != Family::AuthnRequest)
        .map(|c| c.id)
        .collect();
    assert_eq!(ids, expected);
}

#[test]
fn unusable_metadata_reports_every_check() {
    for name in ["idp-metadata.xml", "doctype.xml"] {
        let report = inspect(name, &InspectOptions::new(NOW));
        assert_eq!(
            report.findings.len(),
            ALL_CHECKS
                .iter()
                .filter(|c| c.family != Family::AuthnRequest)
                .count()
        );
        assert!(report.has_failures());
    }
    let report = inspect("doctype.xml", &InspectOptions::new(NOW));
    let parse = report.finding("metadata.parse").unwrap();
    assert!(parse.detail.contains("DOCTYPE"), "{}", parse.detail);
    // Nothing leaked from the external entity.
    assert!(!report.to_json().contains("root:"));
}

#[test]
fn garbage_and_huge_inputs_do_not_panic() {
    let opts = InspectOptions::new(NOW);
    for input in [
        String::new(),
        "not xml".into(),
        "<".repeat(10_000),
        format!("<a>{}</a>", " ".repeat(2 * 1024 * 1024)),
    ] {
        let report = inspect_metadata(&input, &opts);
        assert_eq!(
            report.finding("metadata.parse").map(|f| f.status),
            Some(CheckStatus::Fail)
        );
    }
}

#[test]
fn terminal_rendering_leads_with_failures() {
    let report = inspect("legacy.xml", &InspectOptions::new(NOW));
    let text = render_terminal(&report);
    let plain = anstream::adapter::strip_str(&text).to_string();
    let first_fail = plain.find("FAIL").expect("has failures");
    assert!(plain.find("PASS").is_none_or(|p| p > first_fail));
    assert!(plain.contains("metadata.authn-requests-signed"));
    assert!(plain.contains("why:"));
    assert!(plain.contains("failed"));
    // Colour is present in the raw form (anstream strips it for non-terminals).
    assert!(text.contains('\u{1b}'));
}

#[test]
fn snapshots() {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../../snapshots/inspect");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        for (name, _) in fixtures() {
            let mut opts = InspectOptions::new(NOW);
            opts.private_sp = name == "private-sp.xml";
            let report = inspect(name, &opts);
            let snap = format!("metadata-{}", name.trim_end_matches(".xml"));
            insta::assert_snapshot!(snap, report.to_json());
        }
    });
}
