//! The service's configuration: which broker, which client, which level of assurance.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// NSIS level of assurance, in order: `Low < Substantial < High`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub enum Loa {
    /// NSIS Low (MitID with password only).
    Low,
    /// NSIS Substantial (the usual requirement for a service with personal data).
    Substantial,
    /// NSIS High.
    High,
}

impl Loa {
    /// The level's name as NSIS writes it (`Substantial`).
    pub fn name(self) -> &'static str {
        match self {
            Loa::Low => "Low",
            Loa::Substantial => "Substantial",
            Loa::High => "High",
        }
    }
}

impl fmt::Display for Loa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Loa {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "low" => Ok(Loa::Low),
            "substantial" => Ok(Loa::Substantial),
            "high" => Ok(Loa::High),
            _ => Err(ConfigError::Invalid {
                name: "MITID_REQUIRED_LOA",
                why: format!("{s:?} is not Low, Substantial or High"),
            }),
        }
    }
}

/// How the service talks to its MitID broker.
///
/// In production the values come from the environment ([`Config::from_env`]); a test builds
/// the struct directly, pointing `issuer_url` at the mock broker.
#[derive(Clone)]
pub struct Config {
    /// The broker's issuer identifier; discovery is `{issuer_url}/.well-known/openid-configuration`
    /// (Signaturgruppen pre-production: `https://pp.netseidbroker.dk/op`).
    pub issuer_url: String,
    /// The client id the broker issued to this service.
    pub client_id: String,
    /// The client secret (sent with HTTP Basic at the token endpoint).
    pub client_secret: String,
    /// This service's redirect URI, exactly as registered at the broker
    /// (`https://service.example.dk/callback`).
    pub redirect_uri: String,
    /// The NSIS level this service requires of every login.
    pub required_loa: Loa,
    /// Clock skew tolerated on the ID token's `iat` and `nbf`.
    pub clock_skew: Duration,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("issuer_url", &self.issuer_url)
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("redirect_uri", &self.redirect_uri)
            .field("required_loa", &self.required_loa)
            .field("clock_skew", &self.clock_skew)
            .finish()
    }
}

/// A missing or malformed setting.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// An environment variable is not set.
    #[error("environment variable {0} is not set")]
    Missing(&'static str),
    /// A value is malformed.
    #[error("{name}: {why}")]
    Invalid {
        /// The setting.
        name: &'static str,
        /// What is wrong with it.
        why: String,
    },
}

impl Config {
    /// A configuration requiring NSIS Substantial with two minutes of clock skew.
    pub fn new(
        issuer_url: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
        redirect_uri: impl Into<String>,
    ) -> Self {
        Config {
            issuer_url: issuer_url.into(),
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            redirect_uri: redirect_uri.into(),
            required_loa: Loa::Substantial,
            clock_skew: Duration::from_secs(120),
        }
    }

    /// Read `MITID_ISSUER_URL`, `MITID_CLIENT_ID`, `MITID_CLIENT_SECRET`,
    /// `MITID_REDIRECT_URI` and optionally `MITID_REQUIRED_LOA` (default `Substantial`).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// [`Config::from_env`] over any lookup function (testable without touching the
    /// process environment).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let need = |k: &'static str| {
            get(k)
                .filter(|v| !v.is_empty())
                .ok_or(ConfigError::Missing(k))
        };
        let mut c = Config::new(
            need("MITID_ISSUER_URL")?,
            need("MITID_CLIENT_ID")?,
            need("MITID_CLIENT_SECRET")?,
            need("MITID_REDIRECT_URI")?,
        );
        if let Some(l) = get("MITID_REQUIRED_LOA") {
            c.required_loa = l.parse()?;
        }
        c.validate()?;
        Ok(c)
    }

    /// Check the URLs.
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (name, value) in [
            ("MITID_ISSUER_URL", &self.issuer_url),
            ("MITID_REDIRECT_URI", &self.redirect_uri),
        ] {
            let u = url::Url::parse(value).map_err(|e| ConfigError::Invalid {
                name,
                why: format!("{value:?}: {e}"),
            })?;
            if !matches!(u.scheme(), "https" | "http") {
                return Err(ConfigError::Invalid {
                    name,
                    why: format!("{value:?} is not an http(s) URL"),
                });
            }
        }
        Ok(())
    }

    /// Whether cookies must be `Secure` (the service is reached over HTTPS).
    pub(crate) fn https(&self) -> bool {
        self.redirect_uri.starts_with("https://")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn from_lookup() {
        let env: HashMap<&str, &str> = [
            ("MITID_ISSUER_URL", "https://pp.netseidbroker.dk/op"),
            ("MITID_CLIENT_ID", "my-service"),
            ("MITID_CLIENT_SECRET", "s3cret"),
            ("MITID_REDIRECT_URI", "https://service.example.dk/callback"),
            ("MITID_REQUIRED_LOA", "high"),
        ]
        .into();
        let c = Config::from_lookup(|k| env.get(k).map(|v| v.to_string())).unwrap();
        assert_eq!(c.required_loa, Loa::High);
        assert!(c.https());
        assert!(!format!("{c:?}").contains("s3cret"));
        let e = Config::from_lookup(|_| None).unwrap_err();
        assert!(e.to_string().contains("MITID_ISSUER_URL"), "{e}");
        assert!(Loa::Low < Loa::Substantial && Loa::Substantial < Loa::High);
    }
}
