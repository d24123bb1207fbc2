//! Attribute release: which attributes an SP gets, from its sector (public or private) and
//! the attributes it requests in its metadata's AttributeConsumingService.
//!
//! NemLog-in releases the CPR number and the OIO BPP privileges (`privilegesIntermediate`) only
//! to public-sector SPs that request them (digst OIOSAML.Net `RELEASE_NOTES.md`, 3.0.1: "CPR and
//! privileges are only released to public SPs that request them"; nemlog-in.dk's test guidance:
//! private SPs must not request them). An SP gets the attributes it requested (plus the spec
//! version and the NSIS LoA, which every assertion carries). NemLog-in knows an SP's sector
//! from its registration, which no metadata shows: the mock takes it from configuration
//! ([`ReleasePolicy`]: a default sector and a list of private entityIDs; the harness sets the
//! default from sp.toml's `private_sp`).
//!
//! What an SP *without* an AttributeConsumingService gets is not documented (unconfirmed): the
//! default, [`WithoutRequest::AllButRestricted`], releases every attribute the identity has
//! except CPR and privileges, following the "only ... that request them" rule;
//! [`WithoutRequest::All`] keeps the mock's earlier behaviour (everything, CPR included, to a
//! public SP).

use super::ns;
use super::sp_metadata::SpMetadata;
use serde::{Deserialize, Serialize};

/// Attributes released only to public SPs that request them.
pub const RESTRICTED: &[&str] = &[ns::attr::CPR_NUMBER, ns::attr::PRIVILEGES_INTERMEDIATE];

/// Whether NemLog-in registered the SP as a public authority or a private organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SpSector {
    /// A public authority: CPR and privileges when requested.
    #[default]
    Public,
    /// A private organisation: never CPR or privileges.
    Private,
}

/// What an SP whose metadata requests no attributes gets (unconfirmed; configurable).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WithoutRequest {
    /// Every attribute the identity has except CPR and privileges.
    #[default]
    AllButRestricted,
    /// Every attribute the identity has; CPR and privileges to public SPs (the mock's
    /// behaviour before release rules existed).
    All,
}

/// The broker's release rules (`[release]` in broker.toml, `[broker.release]` in sp.toml).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReleasePolicy {
    /// The sector of every SP not listed in `private_sps` (default public).
    #[serde(default)]
    pub sector: SpSector,
    /// EntityIDs of private SPs.
    #[serde(default)]
    pub private_sps: Vec<String>,
    /// What an SP that requests nothing gets.
    #[serde(default)]
    pub without_request: WithoutRequest,
}

impl ReleasePolicy {
    /// The SP's sector.
    pub fn sector_of(&self, entity_id: &str) -> SpSector {
        if self.private_sps.iter().any(|e| e == entity_id) {
            SpSector::Private
        } else {
            self.sector
        }
    }

    /// The attribute names to release to `sp` (`None`: everything the identity has), from the
    /// AttributeConsumingService the AuthnRequest names by index, else the default one, else
    /// the first.
    pub fn requested_attributes(
        &self,
        sp: &SpMetadata,
        acs_index: Option<u32>,
    ) -> Option<Vec<String>> {
        let private = self.sector_of(&sp.entity_id) == SpSector::Private;
        let services = &sp.attribute_consuming_services;
        let chosen = acs_index
            .and_then(|i| services.iter().find(|a| a.index == i))
            .or_else(|| services.iter().find(|a| a.is_default == Some(true)))
            .or_else(|| services.first());
        let allowed = |name: &str| !RESTRICTED.contains(&name);
        match (chosen, self.without_request) {
            (Some(a), _) => Some(
                a.requested
                    .iter()
                    .map(|r| r.name.clone())
                    .filter(|n| !private || allowed(n))
                    .collect(),
            ),
            (None, WithoutRequest::All) if !private => None,
            (None, WithoutRequest::All | WithoutRequest::AllButRestricted) => Some(
                ns::attr::ALL
                    .iter()
                    .map(|(n, _)| *n)
                    .filter(|n| allowed(n))
                    .map(str::to_string)
                    .collect(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sp(requested: &[&str]) -> SpMetadata {
        let acs = if requested.is_empty() {
            String::new()
        } else {
            let r: String = requested
                .iter()
                .map(|n| format!(r#"<md:RequestedAttribute Name="{n}"/>"#))
                .collect();
            format!(
                r#"<md:AttributeConsumingService index="0" isDefault="true"><md:ServiceName xml:lang="en">x</md:ServiceName>{r}</md:AttributeConsumingService>"#
            )
        };
        SpMetadata::parse(&format!(
            r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://sp.example"><md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><md:AssertionConsumerService Binding="{}" Location="https://sp.example/acs" index="0"/>{acs}</md:SPSSODescriptor></md:EntityDescriptor>"#,
            ns::BINDING_POST
        ))
        .expect("test metadata")
    }

    #[test]
    fn cpr_goes_only_to_public_sps_that_request_it() {
        let public = ReleasePolicy::default();
        let private = ReleasePolicy {
            private_sps: vec!["https://sp.example".into()],
            ..Default::default()
        };
        let asks = sp(&[ns::attr::CPR_NUMBER, ns::attr::EMAIL]);
        assert_eq!(
            public.requested_attributes(&asks, None).unwrap(),
            vec![ns::attr::CPR_NUMBER, ns::attr::EMAIL]
        );
        assert_eq!(
            private.requested_attributes(&asks, None).unwrap(),
            vec![ns::attr::EMAIL]
        );
        // The OIO BPP privileges likewise.
        let asks_privileges = sp(&[ns::attr::PRIVILEGES_INTERMEDIATE, ns::attr::EMAIL]);
        assert_eq!(
            public.requested_attributes(&asks_privileges, None).unwrap(),
            vec![ns::attr::PRIVILEGES_INTERMEDIATE, ns::attr::EMAIL]
        );
        assert_eq!(
            private
                .requested_attributes(&asks_privileges, None)
                .unwrap(),
            vec![ns::attr::EMAIL]
        );
        // Nothing requested: everything but CPR and privileges (unconfirmed default) ...
        let silent = sp(&[]);
        let got = public.requested_attributes(&silent, None).unwrap();
        assert!(got.iter().any(|n| n == ns::attr::EMAIL));
        assert!(!got.iter().any(|n| RESTRICTED.contains(&n.as_str())));
        // ... or, configured, everything to a public SP and still no CPR to a private one.
        let all = ReleasePolicy {
            without_request: WithoutRequest::All,
            ..Default::default()
        };
        assert_eq!(all.requested_attributes(&silent, None), None);
        let all_private = ReleasePolicy {
            sector: SpSector::Private,
            ..all
        };
        assert!(
            !all_private
                .requested_attributes(&silent, None)
                .unwrap()
                .iter()
                .any(|n| n == ns::attr::CPR_NUMBER)
        );
    }
}
