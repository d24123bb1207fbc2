//! What the benchmark and soak examples share: the SAML SP they register with the broker.
//! Not an example itself (Cargo builds only `examples/*.rs` and `examples/*/main.rs`).

use mitid_mock_broker::pki::MockPki;

/// Metadata of a load-generating SAML SP: the built-in mock SP certificate for signing and
/// encryption, one POST ACS. The ACS points at a closed port because the load generators read
/// the broker's response page themselves and never post it on.
pub(crate) fn sp_metadata_xml(entity_id: &str, acs_url: &str) -> String {
    let cert = MockPki::builtin().sp.cert_base64();
    format!(
        r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{entity_id}">
  <md:SPSSODescriptor AuthnRequestsSigned="true" WantAssertionsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:KeyDescriptor use="encryption"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="{acs_url}" index="0" isDefault="true"/>
  </md:SPSSODescriptor>
</md:EntityDescriptor>"#
    )
}
