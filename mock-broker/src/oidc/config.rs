//! Configuration of the OIDC provider: issuers (one per imitated broker), clients, switches.
//!
//! Everything deserializes from TOML (or JSON), so a harness run can add clients for the RP under
//! test without code. A minimal file:
//!
//! ```toml
//! # issuers default to one Signaturgruppen-style and one Idura-style issuer
//! [[clients]]
//! client_id = "my-rp"
//! client_secret = "mock-secret"
//! redirect_uris = ["http://127.0.0.1:8080/callback"]
//! ```
//!
//! A full issuer entry, with every default spelled out:
//!
//! ```toml
//! [[issuers]]
//! id = "signaturgruppen"
//! path = "/signaturgruppen/op"
//! profile = "signaturgruppen"
//! id_token_alg = "ES256"            # profile default: ES256 (Signaturgruppen), RS256 (Idura)
//! rsa_keys = ["oidc_rs256_a", "oidc_rs256_b"]
//! ec_keys = ["oidc_es256", "oidc_es256_b"]
//! publish_all_keys = false
//! require_pkce = false
//! pkce_plain_allowed = false
//! authorization_response_iss = true
//! par = true                        # both brokers document a PAR endpoint
//! id_token_lifetime_secs = 300
//! access_token_lifetime_secs = 3600
//! minimal_id_token = true           # profile default: true (Signaturgruppen), false (Idura)
//! professional_above_cap = "downgrade"   # or "refuse" (Signaturgruppen MitID Erhverv; unconfirmed)
//! ```
//!
//! Profile defaults follow the brokers' documentation (docs/fidelity-oidc.md lists the source
//! of each): Signaturgruppen signs with "ES256 or stronger" (`tech-security.md`), keeps the ID
//! token minimal and releases identity claims at userinfo (`issued-claims-tokens.md`), and
//! serves PAR at `/op/connect/par` (`par.md`, December 2024).

use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// Which real broker an issuer imitates: decides endpoint paths, claim names and request
/// parameters (see [`crate::oidc::claims`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// Signaturgruppen Broker (formerly Nets eID Broker): IdentityServer-style `/connect/...`
    /// endpoints, `idp`/`identity_type`/`loa` claims, `idp_values`/`idp_params` parameters.
    Signaturgruppen,
    /// Idura Verify (formerly Criipto): `/oauth2/...` endpoints, `acr_values` login methods,
    /// `identityscheme`/`authenticationtype` claims.
    Idura,
}

impl Profile {
    /// Path (below the issuer) of each endpoint, as the real broker lays them out.
    pub fn endpoints(self) -> EndpointPaths {
        match self {
            Profile::Signaturgruppen => EndpointPaths {
                jwks: "/.well-known/openid-configuration/jwks",
                authorize: "/connect/authorize",
                token: "/connect/token",
                userinfo: "/connect/userinfo",
                end_session: "/connect/endsession",
                par: "/connect/par",
                login: "/mock/login",
            },
            Profile::Idura => EndpointPaths {
                jwks: "/.well-known/jwks",
                authorize: "/oauth2/authorize",
                token: "/oauth2/token",
                userinfo: "/oauth2/userinfo",
                end_session: "/oidc/logout",
                par: "/oauth2/par",
                login: "/mock/login",
            },
        }
    }

    /// Whether the real broker offers pushed authorization requests: Idura documents
    /// `/oauth2/par`, Signaturgruppen `/op/connect/par` since December 2024
    /// (signaturgruppen-broker-documentation `par.md`). Neither requires it: Signaturgruppen's
    /// `openid-intro.md` shows plain authorization requests next to PAR and "recommends" PAR.
    pub fn offers_par(self) -> bool {
        match self {
            Profile::Signaturgruppen | Profile::Idura => true,
        }
    }

    /// The ID-token algorithm the real broker uses: Signaturgruppen "will use the algorithm
    /// ES256 (ECDSA using P-256 and SHA-256) or stronger" (`tech-security.md`); Idura's
    /// published sample tokens are RS256 (criipto/docs `src/JwtViewer/samples.ts`).
    pub fn default_alg(self) -> SigningAlg {
        match self {
            Profile::Signaturgruppen => SigningAlg::ES256,
            Profile::Idura => SigningAlg::RS256,
        }
    }

    /// Whether the real broker keeps identity attributes out of the ID token: Signaturgruppen's
    /// "ID token does not include all issued user claims. The full list of user claims will be
    /// available from the UserInfo endpoint" (`issued-claims-tokens.md`); Idura's sample ID
    /// tokens carry the identity (criipto/docs `src/snippets/jwt-payloads/danish-mitid*.mdx`).
    pub fn default_minimal_id_token(self) -> bool {
        match self {
            Profile::Signaturgruppen => true,
            Profile::Idura => false,
        }
    }
}

/// Endpoint paths relative to an issuer's path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EndpointPaths {
    /// JWKS document.
    pub jwks: &'static str,
    /// Authorization endpoint.
    pub authorize: &'static str,
    /// Token endpoint.
    pub token: &'static str,
    /// Userinfo endpoint.
    pub userinfo: &'static str,
    /// RP-initiated logout.
    pub end_session: &'static str,
    /// Pushed authorization requests (RFC 9126), served only when enabled.
    pub par: &'static str,
    /// The mock's own identity-chooser form target (not part of any real broker).
    pub login: &'static str,
}

/// JWS algorithm of ID tokens on the well-formed path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SigningAlg {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RS256,
    /// ECDSA P-256 with SHA-256.
    ES256,
}

impl SigningAlg {
    /// The JOSE `alg` name.
    pub fn name(self) -> &'static str {
        match self {
            SigningAlg::RS256 => "RS256",
            SigningAlg::ES256 => "ES256",
        }
    }
}

/// Client authentication methods at the token endpoint (the registered names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientAuthMethod {
    /// HTTP Basic with the client secret (the Signaturgruppen default).
    ClientSecretBasic,
    /// `client_id` and `client_secret` in the form body.
    ClientSecretPost,
    /// A JWT client assertion signed with a key from the client's JWKS (RS256 or ES256).
    PrivateKeyJwt,
    /// Public client: no authentication, PKCE required.
    None,
}

impl ClientAuthMethod {
    /// The registered method name.
    pub fn name(self) -> &'static str {
        match self {
            ClientAuthMethod::ClientSecretBasic => "client_secret_basic",
            ClientAuthMethod::ClientSecretPost => "client_secret_post",
            ClientAuthMethod::PrivateKeyJwt => "private_key_jwt",
            ClientAuthMethod::None => "none",
        }
    }
}

/// One imitated broker, served under `path` on the shared server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssuerConfig {
    /// Handle used by admin calls (`rotate_signing_key("signaturgruppen")`) and client scoping.
    pub id: String,
    /// Path prefix; the issuer identifier is the public base URL followed by this path.
    pub path: String,
    /// Which broker to imitate.
    pub profile: Profile,
    /// Default ID-token algorithm; a client may override it. Unset: the profile's
    /// ([`Profile::default_alg`]: ES256 for Signaturgruppen, RS256 for Idura).
    #[serde(default)]
    pub id_token_alg: Option<SigningAlg>,
    /// Names of mock-PKI RSA credentials this issuer signs RS256 with, in rotation order.
    #[serde(default = "default_rsa_keys")]
    pub rsa_keys: Vec<String>,
    /// Names of mock-PKI P-256 credentials this issuer signs ES256 with, in rotation order.
    #[serde(default = "default_ec_keys")]
    pub ec_keys: Vec<String>,
    /// Publish every configured key instead of the active and previous key of each ring.
    /// The default models a real rollover, so an RP that cached the JWKS must refetch it
    /// after [`rotate_signing_key`](crate::oidc::OidcProvider::rotate_signing_key).
    #[serde(default)]
    pub publish_all_keys: bool,
    /// Require PKCE from every client (public clients always need it).
    #[serde(default)]
    pub require_pkce: bool,
    /// Accept `code_challenge_method=plain`. Off by default: current profiles (and OAuth 2.1)
    /// allow only S256.
    #[serde(default)]
    pub pkce_plain_allowed: bool,
    /// Send `iss` in the authorization response (RFC 9207), and advertise it in discovery.
    #[serde(default = "yes")]
    pub authorization_response_iss: bool,
    /// Serve pushed authorization requests; defaults to what the real broker offers.
    #[serde(default)]
    pub par: Option<bool>,
    /// ID token lifetime (Signaturgruppen documents 5 minutes).
    #[serde(default = "default_id_token_lifetime")]
    pub id_token_lifetime_secs: u64,
    /// Access token lifetime.
    #[serde(default = "default_access_token_lifetime")]
    pub access_token_lifetime_secs: u64,
    /// Put only the session and assurance claims in the ID token and leave the identity
    /// attributes (`mitid.*`, `dk.cpr`, `nemlogin.*`) to userinfo. Unset: the profile's
    /// ([`Profile::default_minimal_id_token`]: on for Signaturgruppen, as documented, off for
    /// Idura). An RP that reads identity claims from a Signaturgruppen ID token passes a mock
    /// with this off and fails the real broker.
    #[serde(default)]
    pub minimal_id_token: Option<bool>,
    /// What a MitID Erhverv login does when the RP asks for more than the broker's cap
    /// (Signaturgruppen: "cannot issue higher than Substantial", `idps/mitid-erhverv.md`).
    /// UNCONFIRMED: no source says whether the broker refuses such a request or issues
    /// Substantial; the mock downgrades by default.
    #[serde(default)]
    pub professional_above_cap: AboveCap,
}

/// How an issuer answers a professional login asked for a level above its cap.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AboveCap {
    /// Log in at the cap (the `loa` claim says Substantial); the RP must check it.
    #[default]
    Downgrade,
    /// Answer `access_denied` to the RP.
    Refuse,
}

impl IssuerConfig {
    /// The default issuer for a profile, mounted at `path`.
    pub fn default_for(id: &str, path: &str, profile: Profile) -> Self {
        IssuerConfig {
            id: id.to_string(),
            path: path.to_string(),
            profile,
            id_token_alg: None,
            rsa_keys: default_rsa_keys(),
            ec_keys: default_ec_keys(),
            publish_all_keys: false,
            require_pkce: false,
            pkce_plain_allowed: false,
            authorization_response_iss: true,
            par: None,
            id_token_lifetime_secs: default_id_token_lifetime(),
            access_token_lifetime_secs: default_access_token_lifetime(),
            minimal_id_token: None,
            professional_above_cap: AboveCap::Downgrade,
        }
    }

    /// Whether PAR is served.
    pub fn par_enabled(&self) -> bool {
        self.par.unwrap_or_else(|| self.profile.offers_par())
    }

    /// The ID-token algorithm: configured or the profile's.
    pub fn signing_alg(&self) -> SigningAlg {
        self.id_token_alg
            .unwrap_or_else(|| self.profile.default_alg())
    }

    /// Whether ID tokens leave the identity attributes to userinfo: configured or the
    /// profile's.
    pub fn minimal_id_token(&self) -> bool {
        self.minimal_id_token
            .unwrap_or_else(|| self.profile.default_minimal_id_token())
    }
}

/// A relying party registered at the mock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientConfig {
    /// The client identifier.
    pub client_id: String,
    /// Shared secret for `client_secret_basic` / `client_secret_post`.
    #[serde(default)]
    pub client_secret: Option<String>,
    /// Public keys (a JWKS object `{"keys": [...]}`) for `private_key_jwt`.
    #[serde(default)]
    pub jwks: Option<serde_json::Value>,
    /// Redirect URIs, compared by exact string equality.
    pub redirect_uris: Vec<String>,
    /// Where RP-initiated logout may send the browser back to (exact match).
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    /// Issuer ids this client is registered at; empty means all.
    #[serde(default)]
    pub issuers: Vec<String>,
    /// The one method the client must use; by default any method its credentials allow.
    #[serde(default)]
    pub token_endpoint_auth_method: Option<ClientAuthMethod>,
    /// ID token algorithm for this client, overriding the issuer's.
    #[serde(default)]
    pub id_token_signed_response_alg: Option<SigningAlg>,
    /// A public-sector service: Signaturgruppen then releases CPR from MitID and the real name
    /// of name-protected persons; private services get `nemlogin.cpr_uuid` instead of
    /// `nemlogin.cpr`.
    #[serde(default)]
    pub public_service: bool,
}

impl ClientConfig {
    /// A confidential client with a secret and one redirect URI.
    pub fn with_secret(client_id: &str, secret: &str, redirect_uri: &str) -> Self {
        ClientConfig {
            client_id: client_id.to_string(),
            client_secret: Some(secret.to_string()),
            jwks: None,
            redirect_uris: vec![redirect_uri.to_string()],
            post_logout_redirect_uris: vec![],
            issuers: vec![],
            token_endpoint_auth_method: None,
            id_token_signed_response_alg: None,
            public_service: false,
        }
    }
}

/// The whole OIDC provider configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcConfig {
    /// Issuers served; defaults to Signaturgruppen at `/signaturgruppen/op` and Idura at `/idura`.
    #[serde(default = "default_issuers")]
    pub issuers: Vec<IssuerConfig>,
    /// Registered clients.
    #[serde(default)]
    pub clients: Vec<ClientConfig>,
    /// DEVELOPMENT ONLY: accept any `client_id` whose redirect URI is on loopback
    /// (127.0.0.1, ::1 or localhost), as a client without secret. Logged loudly.
    #[serde(default)]
    pub dev_accept_any_loopback_client: bool,
    /// Lifetime of authorization codes.
    #[serde(default = "default_code_lifetime")]
    pub code_lifetime_secs: u64,
    /// Upper bound on in-flight state (pending logins, codes, tokens, armed plans) per kind,
    /// so a misbehaving client cannot grow memory without bound.
    #[serde(default = "default_max_entries")]
    pub max_entries: usize,
}

impl Default for OidcConfig {
    fn default() -> Self {
        OidcConfig {
            issuers: default_issuers(),
            clients: vec![],
            dev_accept_any_loopback_client: false,
            code_lifetime_secs: default_code_lifetime(),
            max_entries: default_max_entries(),
        }
    }
}

/// Why a configuration was refused.
#[derive(Debug, thiserror::Error)]
pub enum OidcConfigError {
    /// TOML did not parse.
    #[error("OIDC configuration {origin} is not valid: {message}")]
    Parse {
        /// Where the text came from.
        origin: String,
        /// Parser message with position.
        message: String,
    },
    /// A semantic problem; names the entry and the field.
    #[error("OIDC configuration: {what}")]
    Invalid {
        /// The offending key as a dotted path (`clients[1].redirect_uris`), so a file's
        /// reader can point at its line.
        key: String,
        /// What is wrong.
        what: String,
    },
}

impl OidcConfig {
    /// Parse from TOML text.
    pub fn from_toml_str(text: &str, origin: &str) -> Result<Self, OidcConfigError> {
        let cfg: OidcConfig = toml::from_str(text).map_err(|e| OidcConfigError::Parse {
            origin: origin.to_string(),
            message: e.to_string(),
        })?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Check cross-references and shapes (keys exist in the ring, paths are distinct, ...).
    pub fn validate(&self) -> Result<(), OidcConfigError> {
        let bad = |key: String, what: String| Err(OidcConfigError::Invalid { key, what });
        if self.issuers.is_empty() {
            return bad("issuers".into(), "at least one issuer is needed".into());
        }
        let mut ids = HashSet::new();
        let mut paths = HashSet::new();
        for (n, iss) in self.issuers.iter().enumerate() {
            let key = |field: &str| format!("issuers[{n}].{field}");
            if !ids.insert(iss.id.as_str()) {
                return bad(key("id"), format!("issuer id {:?} appears twice", iss.id));
            }
            if !iss.path.starts_with('/')
                || iss.path.ends_with('/')
                || iss.path.starts_with("/_mock")
                || !iss
                    .path
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"/-_.".contains(&b))
            {
                return bad(
                    key("path"),
                    format!(
                        "issuer {:?}: path {:?} must start with '/', not end with '/', not be under /_mock, \
                     and use only letters, digits, '/', '-', '_', '.'",
                        iss.id, iss.path
                    ),
                );
            }
            if !paths.insert(iss.path.as_str()) {
                return bad(
                    key("path"),
                    format!("issuer path {:?} appears twice", iss.path),
                );
            }
            let alg = iss.signing_alg();
            let ring = match alg {
                SigningAlg::RS256 => &iss.rsa_keys,
                SigningAlg::ES256 => &iss.ec_keys,
            };
            if ring.is_empty() {
                return bad(
                    key("id_token_alg"),
                    format!(
                        "issuer {:?} signs {} but has no key for it",
                        iss.id,
                        alg.name()
                    ),
                );
            }
            let lifetimes = [iss.id_token_lifetime_secs, iss.access_token_lifetime_secs];
            if lifetimes.iter().any(|l| *l == 0 || *l > MAX_LIFETIME_SECS) {
                return bad(
                    key("id_token_lifetime_secs"),
                    format!(
                        "issuer {:?}: lifetimes must be between 1 and {MAX_LIFETIME_SECS} seconds",
                        iss.id
                    ),
                );
            }
        }
        if self.code_lifetime_secs == 0 || self.code_lifetime_secs > 3600 {
            return bad(
                "code_lifetime_secs".into(),
                "code_lifetime_secs must be between 1 and 3600".into(),
            );
        }
        let mut clients = HashSet::new();
        for (n, c) in self.clients.iter().enumerate() {
            let key = |field: &str| format!("clients[{n}].{field}");
            if c.client_id.is_empty() || !clients.insert(c.client_id.as_str()) {
                return bad(
                    key("client_id"),
                    format!("client id {:?} is empty or appears twice", c.client_id),
                );
            }
            if c.redirect_uris.is_empty() {
                return bad(
                    key("redirect_uris"),
                    format!("client {:?} has no redirect_uris", c.client_id),
                );
            }
            let uris = c.redirect_uris.iter().map(|u| ("redirect_uris", u));
            let logout = c
                .post_logout_redirect_uris
                .iter()
                .map(|u| ("post_logout_redirect_uris", u));
            for (field, u) in uris.chain(logout) {
                match url::Url::parse(u) {
                    Ok(p) if p.fragment().is_none() && p.has_host() => {}
                    _ => {
                        return bad(
                            key(field),
                            format!(
                                "client {:?}: {u:?} is not an absolute URL without fragment",
                                c.client_id
                            ),
                        );
                    }
                }
            }
            for i in &c.issuers {
                if !ids.contains(i.as_str()) {
                    return bad(
                        key("issuers"),
                        format!("client {:?} names unknown issuer {i:?}", c.client_id),
                    );
                }
            }
            match c.token_endpoint_auth_method {
                Some(ClientAuthMethod::ClientSecretBasic | ClientAuthMethod::ClientSecretPost)
                    if c.client_secret.is_none() =>
                {
                    return bad(
                        key("token_endpoint_auth_method"),
                        format!(
                            "client {:?} uses a secret method but has no client_secret",
                            c.client_id
                        ),
                    );
                }
                Some(ClientAuthMethod::PrivateKeyJwt) if c.jwks.is_none() => {
                    return bad(
                        key("token_endpoint_auth_method"),
                        format!(
                            "client {:?} uses private_key_jwt but has no jwks",
                            c.client_id
                        ),
                    );
                }
                _ => {}
            }
            if let Some(alg) = c.id_token_signed_response_alg {
                for iss in self
                    .issuers
                    .iter()
                    .filter(|i| c.issuers.is_empty() || c.issuers.iter().any(|x| x == &i.id))
                {
                    let ring = match alg {
                        SigningAlg::RS256 => &iss.rsa_keys,
                        SigningAlg::ES256 => &iss.ec_keys,
                    };
                    if ring.is_empty() {
                        return bad(
                            key("id_token_signed_response_alg"),
                            format!(
                                "client {:?} wants {} but issuer {:?} has no such key",
                                c.client_id,
                                alg.name(),
                                iss.id
                            ),
                        );
                    }
                }
            }
        }
        Ok(())
    }
}

/// Longest configurable token lifetime (one year), so expiry arithmetic cannot overflow.
pub const MAX_LIFETIME_SECS: u64 = 365 * 24 * 3600;

fn yes() -> bool {
    true
}
fn default_rsa_keys() -> Vec<String> {
    vec!["oidc_rs256_a".into(), "oidc_rs256_b".into()]
}
fn default_ec_keys() -> Vec<String> {
    vec!["oidc_es256".into(), "oidc_es256_b".into()]
}
fn default_id_token_lifetime() -> u64 {
    300
}
fn default_access_token_lifetime() -> u64 {
    3600
}
fn default_code_lifetime() -> u64 {
    60
}
fn default_max_entries() -> usize {
    100_000
}
fn default_issuers() -> Vec<IssuerConfig> {
    vec![
        IssuerConfig::default_for(
            "signaturgruppen",
            "/signaturgruppen/op",
            Profile::Signaturgruppen,
        ),
        IssuerConfig::default_for("idura", "/idura", Profile::Idura),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_toml() {
        let c = OidcConfig::from_toml_str(
            r#"
[[clients]]
client_id = "rp"
client_secret = "s"
redirect_uris = ["http://127.0.0.1:9/cb"]
"#,
            "t",
        )
        .unwrap();
        assert_eq!(c.issuers.len(), 2);
        assert!(c.issuers[0].par_enabled());
        assert!(c.issuers[1].par_enabled());
        assert_eq!(c.issuers[0].signing_alg(), SigningAlg::ES256);
        assert_eq!(c.issuers[1].signing_alg(), SigningAlg::RS256);
        assert!(c.issuers[0].minimal_id_token());
        assert!(!c.issuers[1].minimal_id_token());
        assert_eq!(c.issuers[0].professional_above_cap, AboveCap::Downgrade);
        assert!(c.issuers[0].authorization_response_iss);
        assert!(!c.issuers[0].pkce_plain_allowed);
    }

    #[test]
    fn rejects_bad_entries() {
        let e = OidcConfig::from_toml_str(
            "[[clients]]\nclient_id='a'\nredirect_uris=['not a url']",
            "t",
        )
        .unwrap_err();
        assert!(e.to_string().contains("not an absolute URL"), "{e}");
        let e = OidcConfig::from_toml_str("bogus = 1", "t").unwrap_err();
        assert!(e.to_string().contains("bogus"), "{e}");
        let e = OidcConfig::from_toml_str("[[issuers]]\nid='x'\npath='/x/'\nprofile='idura'", "t")
            .unwrap_err();
        assert!(e.to_string().contains("path"), "{e}");
        let e = OidcConfig::from_toml_str(
            "[[issuers]]\nid='x'\npath='/x'\nprofile='signaturgruppen'\nec_keys=[]",
            "t",
        )
        .unwrap_err();
        assert!(e.to_string().contains("no key"), "{e}");
    }
}
