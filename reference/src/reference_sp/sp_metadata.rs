//! The reference SP's own metadata, in the shape NemLog-in expects of an OIOSAML 3 SP
//! (digst/OIOSAML.Java `SPMetadataService`: signed requests, signed assertions, signing and
//! encryption KeyDescriptors, ACS on HTTP-POST, SLO, one AttributeConsumingService).
//!
//! The encryption KeyDescriptor lists, as `md:EncryptionMethod`, exactly the algorithms the SP's
//! decrypter (xml-sec, `SecureSaml` policy) accepts: AES-GCM data and xmlenc 1.1 RSA-OAEP with
//! SHA-256 / MGF1-SHA256. That policy refuses `rsa-oaep-mgf1p` (SHA-1 OAEP), `rsa-1_5` and
//! AES-CBC, so an IdP that honours the metadata (NemLog-in does; so does the mock broker) never
//! sends those.

use super::Flaw;
use super::xml::{escape_attr as ea, escape_text as et};
use std::collections::BTreeSet;
use std::fmt::Write;

const ATTR_URI: &str = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri";

/// What the metadata describes.
#[derive(Debug)]
pub(crate) struct SpMetadataParams<'a> {
    pub entity_id: &'a str,
    pub acs_url: &'a str,
    pub slo_url: &'a str,
    pub cert_b64: &'a str,
    pub private_sp: bool,
    pub flaws: &'a BTreeSet<Flaw>,
    /// The SP requires an OIO BPP privilege, so it requests `privilegesIntermediate`.
    pub requests_privileges: bool,
}

/// `(name, FriendlyName, isRequired)` of the attributes the SP requests.
fn requested_attributes(p: &SpMetadataParams<'_>) -> Vec<(&'static str, &'static str, bool)> {
    let mut v = vec![
        (
            "https://data.gov.dk/model/core/specVersion",
            "SpecVer",
            true,
        ),
        (
            "https://data.gov.dk/concept/core/nsis/loa",
            "NSISLevelOfAssurance",
            true,
        ),
        (
            "https://data.gov.dk/concept/core/nsis/ial",
            "IdentityAssuranceLevel",
            false,
        ),
        (
            "https://data.gov.dk/concept/core/nsis/aal",
            "AuthenticationAssuranceLevel",
            false,
        ),
        (
            "https://data.gov.dk/model/core/eid/fullName",
            "FullName",
            false,
        ),
        (
            "https://data.gov.dk/model/core/eid/firstName",
            "FirstName",
            false,
        ),
        (
            "https://data.gov.dk/model/core/eid/lastName",
            "LastName",
            false,
        ),
        ("https://data.gov.dk/model/core/eid/alias", "Alias", false),
        ("https://data.gov.dk/model/core/eid/email", "Email", false),
        ("https://data.gov.dk/model/core/eid/age", "Age", false),
        (
            "https://data.gov.dk/model/core/eid/dateOfBirth",
            "DateOfBirth",
            false,
        ),
        (
            "https://data.gov.dk/model/core/eid/professional/uuid/persistent",
            "ProfessionalPersistentUUID",
            false,
        ),
        (
            "https://data.gov.dk/model/core/eid/professional/cvr",
            "CVR",
            true,
        ),
        (
            "https://data.gov.dk/model/core/eid/professional/orgName",
            "OrganizationName",
            true,
        ),
        (
            "https://data.gov.dk/model/core/eid/professional/productionUnit",
            "ProductionUnit",
            false,
        ),
        (
            "https://data.gov.dk/model/core/eid/professional/seNumber",
            "SENumber",
            false,
        ),
        (
            "https://data.gov.dk/model/core/eid/professional/authorizedToRepresent",
            "AuthorizedToRepresent",
            false,
        ),
    ];
    // Private SPs must omit cprNumber and privilegesIntermediate (nemlog-in.dk test guidance).
    if !p.private_sp {
        v.push((
            "https://data.gov.dk/model/core/eid/cprNumber",
            "CPRNumber",
            false,
        ));
        v.push((
            "https://data.gov.dk/model/core/eid/cprUuid",
            "CPRUUID",
            false,
        ));
        // NemLog-in releases privileges only to public SPs that request them (NET-RN 3.0.1);
        // an SP that requires one asks (and only such an SP: the other reports stay as they
        // were).
        if p.requests_privileges {
            v.push((
                super::privilege::PRIVILEGES_INTERMEDIATE,
                "PrivilegesIntermediate",
                false,
            ));
        }
    }
    // An SP that keys users by PID/RID asks for them: that is part of the bug.
    if p.flaws.contains(&Flaw::KeyByPid) {
        v.push((
            "https://data.gov.dk/model/core/eid/person/pid",
            "PID",
            false,
        ));
        v.push((
            "https://data.gov.dk/model/core/eid/professional/rid",
            "RID",
            false,
        ));
    }
    v
}

/// Write the metadata document.
pub(crate) fn write(p: &SpMetadataParams<'_>) -> String {
    let mut o = String::with_capacity(8192);
    let _ = write!(
        o,
        r#"<?xml version="1.0" encoding="UTF-8"?>
<!-- Reference SP of mitid-harness (test fixture). MOCK key: never use it outside tests. -->
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" xmlns:xenc11="http://www.w3.org/2009/xmlenc11#" entityID="{entity}">
  <md:SPSSODescriptor AuthnRequestsSigned="true" WantAssertionsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing">
      <ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>
    </md:KeyDescriptor>
    <md:KeyDescriptor use="encryption">
      <ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>
      <md:EncryptionMethod Algorithm="http://www.w3.org/2009/xmlenc11#aes256-gcm"/>
      <md:EncryptionMethod Algorithm="http://www.w3.org/2009/xmlenc11#aes128-gcm"/>
      <md:EncryptionMethod Algorithm="http://www.w3.org/2009/xmlenc11#rsa-oaep">
        <ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>
        <xenc11:MGF Algorithm="http://www.w3.org/2009/xmlenc11#mgf1sha256"/>
      </md:EncryptionMethod>
    </md:KeyDescriptor>
    <md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="{slo}"/>
    <md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="{slo}"/>
    <md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</md:NameIDFormat>
    <md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="{acs}" index="0" isDefault="true"/>
    <md:AttributeConsumingService index="0" isDefault="true">
      <md:ServiceName xml:lang="en">mitid-harness reference SP</md:ServiceName>
"#,
        entity = ea(p.entity_id),
        cert = p.cert_b64,
        slo = ea(p.slo_url),
        acs = ea(p.acs_url),
    );
    for (name, friendly, required) in requested_attributes(p) {
        let _ = writeln!(
            o,
            r#"      <md:RequestedAttribute Name="{name}" NameFormat="{ATTR_URI}" FriendlyName="{friendly}" isRequired="{required}"/>"#
        );
    }
    let _ = write!(
        o,
        r#"    </md:AttributeConsumingService>
  </md:SPSSODescriptor>
  <md:Organization>
    <md:OrganizationName xml:lang="en">{0}</md:OrganizationName>
    <md:OrganizationDisplayName xml:lang="en">{0}</md:OrganizationDisplayName>
    <md:OrganizationURL xml:lang="en">https://github.com/mitid-harness</md:OrganizationURL>
  </md:Organization>
  <md:ContactPerson contactType="technical">
    <md:EmailAddress>reference-sp@invalid</md:EmailAddress>
  </md:ContactPerson>
</md:EntityDescriptor>
"#,
        et("mitid-harness reference SP (MOCK)")
    );
    o
}
