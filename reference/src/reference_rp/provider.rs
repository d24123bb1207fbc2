//! What the RP knows about its OpenID provider: the discovery document and the JWKS, fetched
//! from the broker over loopback and cached.
//!
//! The JWKS is refetched when a token names a `kid` the cache does not have, at most once per
//! token (OpenID RP test `oidcc-client-test-signing-key-rotation`): a rotated key is picked up,
//! and a forged `kid` cannot make the RP hammer the provider.

use super::jwk::{JwkError, Jwks};
use serde::Deserialize;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Largest discovery or JWKS document the RP reads.
pub const MAX_DOCUMENT_BYTES: usize = 256 * 1024;

/// The discovery fields the RP uses (OpenID Connect Discovery 1.0 §3, RFC 9207 §3).
#[derive(Debug, Clone, Deserialize)]
pub struct ProviderInfo {
    /// Issuer identifier; must equal the URL discovery was fetched for.
    pub issuer: String,
    /// Authorization endpoint.
    pub authorization_endpoint: String,
    /// Token endpoint.
    pub token_endpoint: String,
    /// Userinfo endpoint.
    pub userinfo_endpoint: String,
    /// JWKS URL.
    pub jwks_uri: String,
    /// ID token algorithms the provider may use; anything else is refused.
    pub id_token_signing_alg_values_supported: Vec<String>,
    /// RFC 9207: every authorization response carries `iss`.
    #[serde(default)]
    pub authorization_response_iss_parameter_supported: bool,
}

/// Why discovery or the JWKS could not be obtained.
#[derive(Debug, thiserror::Error)]
pub enum DiscoveryError {
    /// Network or HTTP status problem.
    #[error("fetching {url}: {why}")]
    Fetch {
        /// URL.
        url: String,
        /// What went wrong.
        why: String,
    },
    /// The document is not the expected JSON.
    #[error("{url} is not a valid document: {why}")]
    Invalid {
        /// URL.
        url: String,
        /// Parser message.
        why: String,
    },
    /// Discovery names another issuer (Discovery §4.3: must be identical).
    #[error("discovery issuer {found:?} is not the configured issuer {expected:?}")]
    IssuerMismatch {
        /// Configured.
        expected: String,
        /// Published.
        found: String,
    },
    /// The JWKS is malformed.
    #[error(transparent)]
    Jwks(#[from] JwkError),
}

/// GET a JSON document with a size cap.
pub(crate) async fn get_json(
    http: &reqwest::Client,
    url: &str,
) -> Result<serde_json::Value, DiscoveryError> {
    let fetch = |why: String| DiscoveryError::Fetch {
        url: url.to_string(),
        why,
    };
    let mut resp = http
        .get(url)
        .header("accept", "application/json")
        .send()
        .await
        .map_err(|e| fetch(e.to_string()))?;
    if !resp.status().is_success() {
        return Err(fetch(format!("HTTP {}", resp.status())));
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| fetch(e.to_string()))? {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_DOCUMENT_BYTES {
            return Err(fetch(format!("larger than {MAX_DOCUMENT_BYTES} bytes")));
        }
    }
    serde_json::from_slice(&body).map_err(|e| DiscoveryError::Invalid {
        url: url.to_string(),
        why: e.to_string(),
    })
}

/// The provider as the RP sees it: configuration plus cached documents.
#[derive(Debug)]
pub struct Provider {
    issuer: String,
    http: reqwest::Client,
    info: Mutex<Option<Arc<ProviderInfo>>>,
    jwks: Mutex<Option<Arc<Jwks>>>,
}

impl Provider {
    /// A provider whose issuer identifier is `issuer` (discovery at
    /// `{issuer}/.well-known/openid-configuration`).
    pub fn new(issuer: &str, http: reqwest::Client) -> Self {
        Provider {
            issuer: issuer.trim_end_matches('/').to_string(),
            http,
            info: Mutex::new(None),
            jwks: Mutex::new(None),
        }
    }

    /// The HTTP client (no redirects, short timeouts).
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Discovery, fetched on first use.
    pub async fn info(&self) -> Result<Arc<ProviderInfo>, DiscoveryError> {
        if let Some(i) = lock(&self.info).clone() {
            return Ok(i);
        }
        let url = format!("{}/.well-known/openid-configuration", self.issuer);
        let v = get_json(&self.http, &url).await?;
        let info: ProviderInfo =
            serde_json::from_value(v).map_err(|e| DiscoveryError::Invalid {
                url,
                why: e.to_string(),
            })?;
        if info.issuer != self.issuer {
            return Err(DiscoveryError::IssuerMismatch {
                expected: self.issuer.clone(),
                found: info.issuer,
            });
        }
        let info = Arc::new(info);
        *lock(&self.info) = Some(info.clone());
        Ok(info)
    }

    /// The cached JWKS, or a fresh one when there is none yet or `refresh` is set.
    pub async fn jwks(&self, refresh: bool) -> Result<Arc<Jwks>, DiscoveryError> {
        if !refresh && let Some(j) = lock(&self.jwks).clone() {
            return Ok(j);
        }
        let info = self.info().await?;
        let v = get_json(&self.http, &info.jwks_uri).await?;
        let jwks = Arc::new(Jwks::from_json(&v)?);
        *lock(&self.jwks) = Some(jwks.clone());
        Ok(jwks)
    }

    /// FLAWED RPs ONLY: the JWKS response body, byte for byte (key confusion with the whole
    /// document as the HMAC secret).
    pub async fn jwks_body(&self) -> Result<String, DiscoveryError> {
        let info = self.info().await?;
        let url = info.jwks_uri.clone();
        let fetch = |why: String| DiscoveryError::Fetch {
            url: url.clone(),
            why,
        };
        let resp = self
            .http
            .get(&info.jwks_uri)
            .send()
            .await
            .map_err(|e| fetch(e.to_string()))?;
        resp.text().await.map_err(|e| fetch(e.to_string()))
    }

    /// Whether a JWKS has been fetched already.
    pub fn has_cached_jwks(&self) -> bool {
        lock(&self.jwks).is_some()
    }
}

/// The RP's HTTP client: loopback use only, no redirects, bounded time. The bound is generous
/// because the discrimination tests run thousands of logins side by side on a 2-core CI
/// machine: with 5 s a discovery or PAR call starved under that load once ended a login in a
/// 502 and made a verdict INCONCLUSIVE.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap_or_default()
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
