//! NSIS assurance levels (Low / Substantial / High), as NemLog-in and the OIDC brokers carry them.
//!
//! The same three levels appear in four spellings across the ecosystem, so the spelling lives
//! here and nowhere else:
//! - OIOSAML 3 attribute value: the bare name (`Substantial`), "not URL, but only name".
//! - OIOSAML 3 `AuthnContextClassRef` in requests: `https://data.gov.dk/concept/core/nsis/loa/Substantial`.
//! - Signaturgruppen claims: `https://data.gov.dk/concept/core/nsis/Substantial` (no `/loa/` segment).
//! - Idura acr values: `urn:grn:authn:dk:mitid:substantial`.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Prefix of the NSIS LoA `AuthnContextClassRef` values in OIOSAML 3 AuthnRequests.
pub const LOA_CLASSREF_PREFIX: &str = "https://data.gov.dk/concept/core/nsis/loa/";

/// An NSIS level of assurance. Ordered: `Low < Substantial < High`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Loa {
    /// NSIS Low.
    Low,
    /// NSIS Substantial: what most public services require.
    Substantial,
    /// NSIS High.
    High,
}

impl Loa {
    /// All levels, lowest first.
    pub const ALL: [Loa; 3] = [Loa::Low, Loa::Substantial, Loa::High];

    /// The bare name used as the OIOSAML 3 attribute value.
    pub fn name(self) -> &'static str {
        match self {
            Loa::Low => "Low",
            Loa::Substantial => "Substantial",
            Loa::High => "High",
        }
    }

    /// The `AuthnContextClassRef` URI an OIOSAML 3 SP requests.
    pub fn classref(self) -> String {
        format!("{LOA_CLASSREF_PREFIX}{}", self.name())
    }

    /// Parse an OIOSAML 3 `AuthnContextClassRef` (`.../nsis/loa/<Name>`).
    pub fn from_classref(s: &str) -> Option<Loa> {
        s.strip_prefix(LOA_CLASSREF_PREFIX)
            .and_then(|n| n.parse().ok())
    }
}

impl fmt::Display for Loa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Error for an unknown LoA spelling.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown NSIS level of assurance {0:?} (expected Low, Substantial or High)")]
pub struct UnknownLoa(pub String);

impl FromStr for Loa {
    type Err = UnknownLoa;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "low" => Ok(Loa::Low),
            "substantial" => Ok(Loa::Substantial),
            "high" => Ok(Loa::High),
            _ => Err(UnknownLoa(s.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordering_and_spellings() {
        assert!(Loa::Low < Loa::Substantial && Loa::Substantial < Loa::High);
        assert_eq!(
            Loa::Substantial.classref(),
            "https://data.gov.dk/concept/core/nsis/loa/Substantial"
        );
        assert_eq!(
            Loa::from_classref("https://data.gov.dk/concept/core/nsis/loa/High"),
            Some(Loa::High)
        );
        assert_eq!(Loa::from_classref("https://data.gov.dk/eid/Person"), None);
        assert_eq!("substantial".parse::<Loa>(), Ok(Loa::Substantial));
        assert!("medium".parse::<Loa>().is_err());
    }
}
