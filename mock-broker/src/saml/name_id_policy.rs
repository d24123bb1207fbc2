//! The AuthnRequest's `NameIDPolicy`: which NameID format the assertion's Subject carries.
//!
//! NemLog-in's IdP metadata lists both `transient` and `persistent` NameIDFormats
//! (docs/fidelity-oiosaml3.md), and the OIOSAML 3 validation of the official Java SP
//! (`AssertionValidationService`) accepts either format, with the value in both cases of the
//! form `https://data.gov.dk/model/core/eid/{person|professional}/uuid/<UUID>`. A persistent
//! NameID names the identity the same way at every login; a transient one is fresh at every
//! login (SAML core 8.3.8), so an SP that asks for it must key its users by the UUID
//! attributes, never by the NameID.
//!
//! Which format NemLog-in issues when the request has no `NameIDPolicy` (or asks for
//! `unspecified`) is not confirmed by a public source. The mock issues the persistent one by
//! default (what every SP built against the mock so far received), and `name_id_without_policy`
//! in broker.toml / sp.toml `[broker]` changes it. A format NemLog-in does not offer is answered with the SAML status
//! `Requester` / `InvalidNameIDPolicy` (SAML core 3.4.1.1: "the identity provider MUST return
//! an error ... if it cannot support the requested format"; 3.2.2.2 names the status).

use super::ns;

/// The NameID format the assertion will carry; also the setting for a request that leaves the
/// choice to the IdP (`name_id_without_policy = "persistent" | "transient"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NameIdChoice {
    /// The identity's stable `.../uuid/<uuid>` value, format `persistent`.
    #[default]
    Persistent,
    /// A value fresh at every login, format `transient`.
    Transient,
}

/// What a transient NameID holds (`transient_name_id = "stable" | "fresh"`). NemLog-in's
/// transient values are not publicly confirmed: the OIOSAML 3 rules only say the value is an
/// SP-specific identifier based on a UUID, in the same `.../uuid/<UUID>` form for both formats.
/// `stable` (the default) keeps the identity's value under the transient Format, which SAML
/// core 8.3.8 allows (transient promises no persistence, not a change) and which real SPs that
/// ask for transient by default and key users by the NameID (mod_auth_mellon) log in with;
/// `fresh` issues a new value at every login, the strict reading, to test that an SP never keys
/// accounts by a transient NameID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TransientValue {
    /// The identity's own `.../uuid/<uuid>` value.
    #[default]
    Stable,
    /// A new `.../uuid/<v4 UUID>` at every login.
    Fresh,
}

/// A `NameIDPolicy/@Format` the broker does not offer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "NameIDPolicy Format {0:?} is not offered (NemLog-in's metadata lists only {persistent} and {transient})",
    persistent = ns::NAMEID_PERSISTENT,
    transient = ns::NAMEID_TRANSIENT
)]
pub struct UnsupportedNameIdFormat(pub String);

/// Choose the NameID format for a request's `NameIDPolicy/@Format` (`None`: no policy, or
/// one without a Format). `unspecified` leaves the choice to the IdP (SAML core 3.4.1.1),
/// which is then the same as no policy: `without_policy`, the configured default.
pub fn choose(
    format: Option<&str>,
    without_policy: NameIdChoice,
) -> Result<NameIdChoice, UnsupportedNameIdFormat> {
    match format.map(str::trim) {
        None => Ok(without_policy),
        Some(f) if f == ns::NAMEID_UNSPECIFIED => Ok(without_policy),
        Some(f) if f == ns::NAMEID_PERSISTENT => Ok(NameIdChoice::Persistent),
        Some(f) if f == ns::NAMEID_TRANSIENT => Ok(NameIdChoice::Transient),
        Some(f) => Err(UnsupportedNameIdFormat(f.to_string())),
    }
}

/// A transient NameID value for an identity of `kind`: the OIOSAML 3 `.../uuid/<uuid>` form
/// the SP validates, with `fresh` (a new UUID per login) in place of the identity's UUID.
pub fn transient_value(kind: crate::identity::IdentityKind, fresh: uuid::Uuid) -> String {
    format!(
        "https://data.gov.dk/model/core/eid/{}/uuid/{}",
        kind.path_segment(),
        fresh.hyphenated()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_policy_persistent_and_unspecified_give_the_persistent_name_id() {
        assert_eq!(
            choose(None, NameIdChoice::Persistent),
            Ok(NameIdChoice::Persistent)
        );
        assert_eq!(
            choose(Some(ns::NAMEID_PERSISTENT), NameIdChoice::Persistent),
            Ok(NameIdChoice::Persistent)
        );
        assert_eq!(
            choose(Some(ns::NAMEID_UNSPECIFIED), NameIdChoice::Persistent),
            Ok(NameIdChoice::Persistent)
        );
    }

    #[test]
    fn the_configured_default_answers_requests_without_a_format() {
        for format in [None, Some(ns::NAMEID_UNSPECIFIED)] {
            assert_eq!(
                choose(format, NameIdChoice::Transient),
                Ok(NameIdChoice::Transient)
            );
        }
        // An explicit persistent request is persistent whatever the default.
        assert_eq!(
            choose(Some(ns::NAMEID_PERSISTENT), NameIdChoice::Transient),
            Ok(NameIdChoice::Persistent)
        );
    }

    #[test]
    fn transient_is_honoured() {
        assert_eq!(
            choose(Some(ns::NAMEID_TRANSIENT), NameIdChoice::Persistent),
            Ok(NameIdChoice::Transient)
        );
        assert_eq!(
            choose(
                Some(&format!(" {} ", ns::NAMEID_TRANSIENT)),
                NameIdChoice::Persistent
            ),
            Ok(NameIdChoice::Transient)
        );
    }

    /// NemLog-in offers only transient and persistent; an SP asking for e.g. the NemID-era
    /// X509SubjectName or an email address must get InvalidNameIDPolicy, not a silent
    /// persistent NameID it did not ask for.
    #[test]
    fn other_formats_are_refused() {
        for f in [
            ns::NAMEID_X509_SUBJECT,
            "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
            "",
        ] {
            assert_eq!(
                choose(Some(f), NameIdChoice::Persistent),
                Err(UnsupportedNameIdFormat(f.into()))
            );
        }
    }

    #[test]
    fn the_transient_value_has_the_oiosaml3_form() {
        let u = uuid::Uuid::from_u128(0x0123_4567_89ab_4def_8123_4567_89ab_cdef);
        assert_eq!(
            transient_value(crate::identity::IdentityKind::Person, u),
            "https://data.gov.dk/model/core/eid/person/uuid/01234567-89ab-4def-8123-456789abcdef"
        );
        assert!(
            transient_value(crate::identity::IdentityKind::Professional, u)
                .starts_with("https://data.gov.dk/model/core/eid/professional/uuid/")
        );
    }
}
