//! [`BrokerOptions`]: how a broker is set up, as data. One type read from a `broker.toml`
//! (`mitid-harness broker --config`), from `sp.toml`'s `[broker]` table, and filled from the
//! `broker` command's flags; [`BrokerOptions::apply`] is the one place that turns it into a
//! [`BrokerBuilder`].
//!
//! ```toml
//! bind = "127.0.0.1:8390"                  # listen address
//! # base_url = "https://idp.test:8390"     # public base URL, if SPs reach the broker differently
//! entity_id = "mock"                       # mock | integration-test | devtest4 | an entityID URL
//! encryption = "nemlogin"                  # nemlogin | compatible
//! # identities = "identities.toml"         # extra test identities
//! # https = false                          # serve HTTPS with the mock local CA
//! # allow_non_loopback = false             # listen beyond loopback
//! # idp_key = "idp.key.pem"                # own IdP signing key instead of the mock OCES3 key
//! # idp_cert = "idp.cert.pem"
//! sp_metadata = ["sp-metadata.xml", "http://127.0.0.1:8080/saml/metadata"]
//! # control_token = "at-least-16-chars"    # the control API's token (default: random per start);
//! #                                        # false: none (loopback only); sp.toml with `external`:
//! #                                        # the token to send
//! # header_read_timeout_ms = 10000         # time to send a request head before the connection closes
//!
//! [oiosaml4]                               # OIOSAML 4.0 (served at /idp/saml/4.0/ beside 3.0.3)
//! # spec_version = "OIO-SAML-4.0"          # specVersion value (UNCONFIRMED default)
//! # no_profile_requested = "kind-default"  # kind-default | refuse (UNCONFIRMED default)
//!
//! # name_id_without_policy = "persistent"  # NameID for a request without a NameIDPolicy Format:
//! #                                        #   persistent | transient (UNCONFIRMED default)
//! # transient_name_id = "stable"           # a transient NameID's value: stable (the identity's)
//! #                                        #   | fresh (new every login) (UNCONFIRMED default)
//!
//! [sso_session]                            # the browser's SSO session (IsPassive, ForceAuthn)
//! # enabled = true
//! # lifetime_minutes = 30                   # 1 to 1440 (UNCONFIRMED default)
//! # session_index = "per-login"            # per-login | per-session (UNCONFIRMED default)
//!
//! [oidc]                                   # the OIDC provider (see oidc::config)
//! # dev_accept_any_loopback_client = false # DEVELOPMENT ONLY
//! [[oidc.clients]]
//! client_id = "my-rp"
//! client_secret = "mock-secret"
//! redirect_uris = ["http://127.0.0.1:8080/callback"]
//! issuers = ["signaturgruppen"]
//! ```
//!
//! Relative paths resolve against the directory of the file they were read from. Errors name
//! the file, the line and the key.

use crate::broker::{BrokerBuilder, TlsMode};
use crate::config::{EncryptionDefault, EntityIdPreset};
use crate::control::ControlToken;
use crate::identity::{IdentityError, IdentityStore};
use crate::oidc::{OidcConfig, OidcConfigError};
use serde::{Deserialize, Deserializer};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// How a broker is set up (every key optional; unset keys keep the builder's defaults).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BrokerOptions {
    /// Listen address (loopback unless `allow_non_loopback`).
    #[serde(default)]
    pub bind: Option<SocketAddr>,
    /// The base URL SPs use to reach the broker, when it differs from the listen address.
    #[serde(default)]
    pub base_url: Option<String>,
    /// `mock`, `integration-test`, `devtest4` or an entityID URL.
    #[serde(default, deserialize_with = "entity_id")]
    pub entity_id: Option<EntityIdPreset>,
    /// Encryption when SP metadata names no algorithms.
    #[serde(default)]
    pub encryption: Option<EncryptionDefault>,
    /// An identities TOML file, added to the built-in identities.
    #[serde(default)]
    pub identities: Option<PathBuf>,
    /// Serve HTTPS with the mock local CA's certificate.
    #[serde(default)]
    pub https: bool,
    /// Allow a non-loopback listen address.
    #[serde(default)]
    pub allow_non_loopback: bool,
    /// Own IdP signing key (PEM) instead of the mock OCES3 key; needs `idp_cert`.
    #[serde(default)]
    pub idp_key: Option<PathBuf>,
    /// Certificate (PEM) of `idp_key`.
    #[serde(default)]
    pub idp_cert: Option<PathBuf>,
    /// SAML SPs: metadata files or http(s) URLs.
    #[serde(default)]
    pub sp_metadata: Vec<String>,
    /// The OIDC provider (issuers, clients, the development switch); default: both issuers,
    /// no clients.
    #[serde(default)]
    pub oidc: Option<OidcConfig>,
    /// The control API's token: a string (at least 16 characters) to require, `true` for a
    /// random one (the default), `false` for none (loopback listen addresses only). In sp.toml
    /// with `external`, the token to send to that broker.
    #[serde(default)]
    pub control_token: Option<ControlTokenSetting>,
    /// Attribute release: SP sectors and what an SP that requests nothing gets
    /// (`[release]`: `sector`, `private_sps`, `without_request`).
    #[serde(default)]
    pub release: Option<crate::saml::release::ReleasePolicy>,
    /// Milliseconds a client may take to send a request line and headers (default 10 000).
    #[serde(default)]
    pub header_read_timeout_ms: Option<u64>,
    /// OIOSAML 4.0 settings (the unconfirmed choices).
    #[serde(default)]
    pub oiosaml4: Option<Oiosaml4Options>,
    /// The broker's SSO session (`[sso_session]`: `enabled`, `lifetime_minutes`,
    /// `session_index`); see [`crate::saml::sso_session`].
    #[serde(default)]
    pub sso_session: Option<crate::saml::sso_session::SsoSessionPolicy>,
    /// The NameID format for a request without a `NameIDPolicy` Format (`persistent`, the
    /// default, or `transient`; NemLog-in's choice is unconfirmed).
    #[serde(default)]
    pub name_id_without_policy: Option<crate::saml::name_id_policy::NameIdChoice>,
    /// What a transient NameID holds (`stable`, the default, or `fresh`; unconfirmed).
    #[serde(default)]
    pub transient_name_id: Option<crate::saml::name_id_policy::TransientValue>,
}

/// `[oiosaml4]`: the OIOSAML 4.0 choices no public source confirms, settable.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Oiosaml4Options {
    /// The `specVersion` value of 4.0 assertions (default `OIO-SAML-4.0`, unconfirmed).
    #[serde(default)]
    pub spec_version: Option<String>,
    /// What a 4.0 AuthnRequest without `RequestedAttributeProfiles` gets.
    #[serde(default)]
    pub no_profile_requested: Option<crate::saml::oiosaml4::NoProfileRequested>,
}

/// `control_token` as written: a token, or on/off.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum ControlTokenSetting {
    /// `true`: a random token per start (the default); `false`: no token (loopback only).
    Enabled(bool),
    /// This token.
    Token(String),
}

impl ControlTokenSetting {
    /// The broker setting it stands for.
    pub fn to_control_token(&self) -> ControlToken {
        match self {
            ControlTokenSetting::Enabled(true) => ControlToken::Random,
            ControlTokenSetting::Enabled(false) => ControlToken::Disabled,
            ControlTokenSetting::Token(t) => ControlToken::Fixed(t.clone()),
        }
    }

    /// The token to send to a broker set up with this, if known.
    pub fn token(&self) -> Option<&str> {
        match self {
            ControlTokenSetting::Token(t) => Some(t),
            ControlTokenSetting::Enabled(_) => None,
        }
    }
}

fn entity_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<EntityIdPreset>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.map(|s| EntityIdPreset::parse(&s)))
}

/// Why a broker configuration could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BrokerOptionsError {
    /// The file could not be read.
    #[error("cannot read {path}: {message}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        message: String,
    },
    /// A key is unknown or its value is wrong.
    #[error("{file}{}: {key}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
    Invalid {
        /// The file (or where the text came from).
        file: String,
        /// 1-based line, when known.
        line: Option<usize>,
        /// The key, as a dotted path (`oidc.clients[0].redirect_uris`).
        key: String,
        /// What is wrong.
        message: String,
    },
}

/// Why options could not be applied to a builder (files they name).
#[derive(Debug, thiserror::Error)]
pub enum ApplyOptionsError {
    /// The identities file.
    #[error(transparent)]
    Identities(#[from] IdentityError),
    /// The SSO session settings.
    #[error(transparent)]
    SsoSession(#[from] crate::saml::sso_session::BadLifetime),
    /// The IdP signing key or certificate.
    #[error("IdP signing key {key} / {cert}: {source}")]
    IdpKey {
        /// Key file.
        key: String,
        /// Certificate file.
        cert: String,
        /// Cause.
        source: crate::pki::PkiError,
    },
}

impl BrokerOptions {
    /// Read a `broker.toml`; relative paths resolve against its directory.
    pub fn from_file(path: &Path) -> Result<Self, BrokerOptionsError> {
        let text = std::fs::read_to_string(path).map_err(|e| BrokerOptionsError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        Self::from_toml_str(&text, &path.display().to_string(), base)
    }

    /// Parse TOML text (from `origin`); relative paths resolve against `base_dir`.
    pub fn from_toml_str(
        text: &str,
        origin: &str,
        base_dir: &Path,
    ) -> Result<Self, BrokerOptionsError> {
        let mut o: BrokerOptions =
            toml::from_str(text).map_err(|e| toml_error(text, origin, &e))?;
        o.check()
            .map_err(|(key, message)| BrokerOptionsError::Invalid {
                file: origin.to_string(),
                line: key_line(text, &key),
                key,
                message,
            })?;
        o.resolve_paths(base_dir);
        Ok(o)
    }

    /// Make relative file paths relative to `base_dir` (URLs stay as they are).
    pub fn resolve_paths(&mut self, base_dir: &Path) {
        for p in [&mut self.identities, &mut self.idp_key, &mut self.idp_cert]
            .into_iter()
            .flatten()
        {
            *p = base_dir.join(&*p);
        }
        for s in &mut self.sp_metadata {
            if !is_url(s) {
                *s = base_dir.join(&*s).display().to_string();
            }
        }
    }

    /// The checks serde cannot make: the failing key (dotted path) and why.
    pub fn check(&self) -> Result<(), (String, String)> {
        if let Some(addr) = self.bind {
            if !self.allow_non_loopback && !addr.ip().is_loopback() {
                return Err((
                    "bind".into(),
                    format!(
                        "{addr} is not a loopback address; set allow_non_loopback = true to listen on the network"
                    ),
                ));
            }
        }
        if let Some(u) = &self.base_url {
            match url::Url::parse(u) {
                Ok(p) if matches!(p.scheme(), "http" | "https") && p.has_host() => {}
                _ => {
                    return Err((
                        "base_url".into(),
                        format!("{u:?} is not an absolute http(s) URL"),
                    ));
                }
            }
        }
        match &self.control_token {
            Some(ControlTokenSetting::Token(t)) => {
                ControlToken::check(t).map_err(|why| ("control_token".to_string(), why))?;
            }
            Some(ControlTokenSetting::Enabled(false)) => {
                if let Some(addr) = self.bind.filter(|a| !a.ip().is_loopback()) {
                    return Err((
                        "control_token".into(),
                        format!(
                            "false (no token) is allowed on a loopback listen address only, not {addr}"
                        ),
                    ));
                }
            }
            Some(ControlTokenSetting::Enabled(true)) | None => {}
        }
        if let Some(v) = self.oiosaml4.as_ref().and_then(|o| o.spec_version.as_ref())
            && (v.trim().is_empty() || v.len() > 64)
        {
            return Err((
                "oiosaml4.spec_version".into(),
                "must be a non-empty value of at most 64 characters".into(),
            ));
        }
        if let Some(Err(e)) = self.sso_session.as_ref().map(|p| p.lifetime()) {
            return Err(("sso_session.lifetime_minutes".into(), e.to_string()));
        }
        if self.header_read_timeout_ms == Some(0) {
            return Err((
                "header_read_timeout_ms".into(),
                "must be more than 0".into(),
            ));
        }
        match (&self.idp_key, &self.idp_cert) {
            (Some(_), None) => return Err(("idp_key".into(), "needs idp_cert".into())),
            (None, Some(_)) => return Err(("idp_cert".into(), "needs idp_key".into())),
            (Some(_), Some(_)) | (None, None) => {}
        }
        for (i, s) in self.sp_metadata.iter().enumerate() {
            if s.trim().is_empty() {
                return Err((
                    format!("sp_metadata[{i}]"),
                    "is empty; name a metadata file or an http(s) URL".into(),
                ));
            }
        }
        if let Some(oidc) = &self.oidc {
            if let Err(e) = oidc.validate() {
                return Err(match e {
                    OidcConfigError::Invalid { key, what } => (format!("oidc.{key}"), what),
                    OidcConfigError::Parse { message, .. } => ("oidc".into(), message),
                });
            }
        }
        Ok(())
    }

    /// Apply to a builder: the one place options become broker settings.
    pub fn apply(&self, mut b: BrokerBuilder) -> Result<BrokerBuilder, ApplyOptionsError> {
        if let Some(addr) = self.bind {
            b = b.bind(addr);
        }
        if let Some(u) = &self.base_url {
            b = b.public_base_url(u.clone());
        }
        if let Some(e) = &self.entity_id {
            b = b.entity_id(e.clone());
        }
        if let Some(e) = self.encryption {
            b = b.encryption_default(e);
        }
        if let Some(p) = &self.identities {
            b = b.identities(IdentityStore::from_file(p)?);
        }
        if self.https {
            b = b.tls(TlsMode::MockCa);
        }
        b = b.allow_non_loopback(self.allow_non_loopback);
        if let (Some(k), Some(c)) = (&self.idp_key, &self.idp_cert) {
            let keys = crate::pki::Credential::from_pem_files(k, c)
                .and_then(|cred| crate::saml::mint::SigningKeys::with_idp(&cred))
                .map_err(|source| ApplyOptionsError::IdpKey {
                    key: k.display().to_string(),
                    cert: c.display().to_string(),
                    source,
                })?;
            b = b.signing_keys(keys);
        }
        for s in &self.sp_metadata {
            b = b.register_sp_source(s.clone());
        }
        if let Some(r) = &self.release {
            b = b.release_policy(r.clone());
        }
        if let Some(p) = &self.sso_session {
            b = b.sso_session(p.clone())?;
        }
        if let Some(c) = self.name_id_without_policy {
            b = b.name_id_without_policy(c);
        }
        if let Some(v) = self.transient_name_id {
            b = b.transient_name_id(v);
        }
        if let Some(oidc) = &self.oidc {
            b = b.oidc(Some(oidc.clone()));
        }
        if let Some(t) = &self.control_token {
            b = b.control_token(t.to_control_token());
        }
        if let Some(ms) = self.header_read_timeout_ms {
            b = b.header_read_timeout(std::time::Duration::from_millis(ms));
        }
        if let Some(o) = &self.oiosaml4 {
            let mut s = crate::saml::oiosaml4::Oiosaml4Settings::default();
            if let Some(v) = &o.spec_version {
                s.spec_version = v.trim().to_string();
            }
            if let Some(p) = o.no_profile_requested {
                s.no_profile_requested = p;
            }
            b = b.oiosaml4(s);
        }
        Ok(b)
    }

    /// Whether the OIDC development switch (any client on a loopback redirect URI) is on.
    pub fn dev_mode(&self) -> bool {
        self.oidc
            .as_ref()
            .is_some_and(|o| o.dev_accept_any_loopback_client)
    }
}

fn is_url(s: &str) -> bool {
    s.starts_with("http://") || s.starts_with("https://")
}

/// A TOML error as file, line, key and message.
fn toml_error(text: &str, origin: &str, e: &toml::de::Error) -> BrokerOptionsError {
    let (line, key) = match e.span() {
        Some(span) => {
            let (line, key) = key_at(text, span.start);
            (Some(line), key)
        }
        None => (None, String::new()),
    };
    BrokerOptionsError::Invalid {
        file: origin.to_string(),
        line,
        key: if key.is_empty() {
            "(document)".into()
        } else {
            key
        },
        message: e.message().to_string(),
    }
}

/// The 1-based line of a byte offset, and the dotted key written there (the table header
/// above it, then the key of the `key = value` line).
fn key_at(text: &str, offset: usize) -> (usize, String) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_text = text.lines().nth(line - 1).unwrap_or("");
    let mut table = String::new();
    for l in text.lines().take(line - 1) {
        let t = l.trim();
        if t.starts_with('[') {
            table = t
                .trim_start_matches('[')
                .split(']')
                .next()
                .unwrap_or("")
                .trim()
                .to_string();
        }
    }
    let own = line_text.trim();
    let key = if own.starts_with('[') {
        own.trim_start_matches('[')
            .split(']')
            .next()
            .unwrap_or("")
            .trim()
            .to_string()
    } else {
        let k = own.split('=').next().unwrap_or("").trim();
        match (table.is_empty(), k.is_empty()) {
            (_, true) => table,
            (true, false) => k.to_string(),
            (false, false) => format!("{table}.{k}"),
        }
    };
    (line, key)
}

/// The 1-based line where a dotted key (`oidc.clients[0].redirect_uris`) is written, or the
/// nearest enclosing key that is.
fn key_line(text: &str, key: &str) -> Option<usize> {
    use toml::de::{DeTable, DeValue};
    let doc = DeTable::parse(text).ok()?;
    let mut table = doc.get_ref();
    let mut found: Option<std::ops::Range<usize>> = None;
    let segments: Vec<(&str, Option<usize>)> = key
        .split('.')
        .map(|seg| match seg.split_once('[') {
            Some((name, idx)) => (name, idx.trim_end_matches(']').parse().ok()),
            None => (seg, None),
        })
        .collect();
    for (name, idx) in segments {
        let Some((k, v)) = table.iter().find(|(k, _)| &**k.get_ref() == name) else {
            break;
        };
        found = Some(k.span());
        let mut value = v;
        if let Some(i) = idx {
            let DeValue::Array(items) = value.get_ref() else {
                break;
            };
            let Some(item) = items.get(i) else { break };
            found = Some(item.span());
            value = item;
        }
        match value.get_ref() {
            DeValue::Table(t) => table = t,
            _ => break,
        }
    }
    found.map(|span| text[..span.start.min(text.len())].matches('\n').count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<BrokerOptions, BrokerOptionsError> {
        BrokerOptions::from_toml_str(text, "broker.toml", Path::new("/etc/mock"))
    }

    fn invalid(text: &str) -> (Option<usize>, String, String) {
        match parse(text).unwrap_err() {
            BrokerOptionsError::Invalid {
                file,
                line,
                key,
                message,
            } => {
                assert_eq!(file, "broker.toml");
                (line, key, message)
            }
            e => panic!("{e:?}"),
        }
    }

    const FULL: &str = r#"
bind = "127.0.0.1:8390"
base_url = "http://localhost:8390"
entity_id = "integration-test"
encryption = "compatible"
identities = "ids.toml"
https = true
sp_metadata = ["sp.xml", "http://127.0.0.1:8080/saml/metadata"]

[oidc]
dev_accept_any_loopback_client = true

[[oidc.clients]]
client_id = "rp"
client_secret = "s"
redirect_uris = ["http://127.0.0.1:8080/cb"]
issuers = ["signaturgruppen"]
token_endpoint_auth_method = "client_secret_post"
id_token_signed_response_alg = "ES256"
"#;

    #[test]
    fn every_key_parses_and_paths_resolve_against_the_file() {
        let o = parse(FULL).unwrap();
        assert_eq!(o.bind, Some(SocketAddr::from(([127, 0, 0, 1], 8390))));
        assert_eq!(o.entity_id, Some(EntityIdPreset::IntegrationTest));
        assert_eq!(o.encryption, Some(EncryptionDefault::Compatible));
        assert_eq!(
            o.identities.as_deref(),
            Some(Path::new("/etc/mock/ids.toml"))
        );
        assert!(o.https);
        assert_eq!(
            o.sp_metadata,
            ["/etc/mock/sp.xml", "http://127.0.0.1:8080/saml/metadata"]
        );
        let oidc = o.oidc.as_ref().unwrap();
        assert_eq!(oidc.issuers.len(), 2, "issuers default to both brokers");
        assert_eq!(oidc.clients[0].client_id, "rp");
        assert!(o.dev_mode());
        assert!(!parse("").unwrap().dev_mode(), "never on by default");
        assert_eq!(parse("").unwrap(), BrokerOptions::default());
        let custom = parse("entity_id = \"https://idp.example/\"").unwrap();
        assert_eq!(
            custom.entity_id,
            Some(EntityIdPreset::Custom("https://idp.example/".into()))
        );
    }

    #[test]
    fn an_unknown_key_is_named_with_its_line() {
        let (line, key, msg) = invalid("bind = \"127.0.0.1:1\"\n\nbogus = 1\n");
        assert_eq!((line, key.as_str()), (Some(3), "bogus"));
        assert!(msg.contains("unknown field"), "{msg}");
        let (line, key, _) = invalid("[oidc]\nclients = []\nnope = true\n");
        assert_eq!((line, key.as_str()), (Some(3), "oidc.nope"));
    }

    #[test]
    fn a_bad_value_is_named_with_its_line() {
        let (line, key, msg) = invalid("\nbind = \"localhost\"\n");
        assert_eq!((line, key.as_str()), (Some(2), "bind"), "{msg}");
        let (line, key, _) = invalid("https = \"yes\"\n");
        assert_eq!((line, key.as_str()), (Some(1), "https"));
    }

    #[test]
    fn semantic_errors_name_key_and_line() {
        let (line, key, msg) = invalid("bind = \"0.0.0.0:8390\"\n");
        assert_eq!((line, key.as_str()), (Some(1), "bind"));
        assert!(msg.contains("allow_non_loopback"), "{msg}");
        assert!(parse("bind = \"0.0.0.0:8390\"\nallow_non_loopback = true").is_ok());
        let (line, key, _) = invalid("\nidp_key = \"k.pem\"\n");
        assert_eq!((line, key.as_str()), (Some(2), "idp_key"));
        let (line, key, _) = invalid("base_url = \"idp.test\"");
        assert_eq!((line, key.as_str()), (Some(1), "base_url"));
        let text = r#"
[[oidc.clients]]
client_id = "a"
client_secret = "s"
redirect_uris = ["http://127.0.0.1/cb"]

[[oidc.clients]]
client_id = "b"
redirect_uris = ["not a url"]
"#;
        let (line, key, msg) = invalid(text);
        assert_eq!(key, "oidc.clients[1].redirect_uris", "{msg}");
        assert_eq!(line, Some(9));
        assert!(msg.contains("not an absolute URL"), "{msg}");
        let e = parse(text).unwrap_err().to_string();
        assert!(
            e.starts_with("broker.toml:9: oidc.clients[1].redirect_uris: "),
            "{e}"
        );
    }

    #[test]
    fn control_token_is_a_token_or_on_off() {
        let o = parse("control_token = \"0123456789abcdef\"").unwrap();
        assert_eq!(
            o.control_token.as_ref().and_then(|t| t.token()),
            Some("0123456789abcdef")
        );
        assert_eq!(
            parse("control_token = false").unwrap().control_token,
            Some(ControlTokenSetting::Enabled(false))
        );
        let (line, key, msg) = invalid("\ncontrol_token = \"short\"\n");
        assert_eq!((line, key.as_str()), (Some(2), "control_token"), "{msg}");
        assert!(msg.contains("16"), "{msg}");
        let (_, key, msg) =
            invalid("bind = \"0.0.0.0:8390\"\nallow_non_loopback = true\ncontrol_token = false\n");
        assert_eq!(key, "control_token");
        assert!(msg.contains("loopback"), "{msg}");
        let (_, key, _) = invalid("header_read_timeout_ms = 0");
        assert_eq!(key, "header_read_timeout_ms");
    }

    #[test]
    fn name_id_without_policy_parses_and_an_unknown_format_is_named() {
        use crate::saml::name_id_policy::NameIdChoice;
        assert_eq!(parse("").unwrap().name_id_without_policy, None);
        assert_eq!(
            parse("name_id_without_policy = \"transient\"")
                .unwrap()
                .name_id_without_policy,
            Some(NameIdChoice::Transient)
        );
        assert_eq!(
            parse("transient_name_id = \"fresh\"")
                .unwrap()
                .transient_name_id,
            Some(crate::saml::name_id_policy::TransientValue::Fresh)
        );
        let (line, key, msg) = invalid("\nname_id_without_policy = \"email\"\n");
        assert_eq!(line, Some(2), "{msg}");
        assert!(key.contains("name_id_without_policy"), "{key}: {msg}");
        assert!(msg.contains("persistent"), "{msg}");
    }

    #[test]
    fn sso_session_settings_parse_and_a_bad_lifetime_is_named() {
        let o = parse("[sso_session]\nlifetime_minutes = 90\nsession_index = \"per-session\"\n")
            .unwrap();
        let p = o.sso_session.as_ref().unwrap();
        assert_eq!(p.lifetime_minutes, 90);
        assert!(p.enabled, "on unless switched off");
        assert_eq!(
            p.session_index,
            crate::saml::sso_session::SessionIndexPolicy::PerSession
        );
        assert!(o.apply(BrokerBuilder::default()).is_ok());
        let (line, key, msg) = invalid("[sso_session]\n\nlifetime_minutes = 0\n");
        assert_eq!(
            (line, key.as_str()),
            (Some(3), "sso_session.lifetime_minutes"),
            "{msg}"
        );
        let (_, key, _) = invalid("[sso_session]\nforever = true\n");
        assert_eq!(key, "sso_session.forever");
    }

    #[tokio::test]
    async fn a_control_token_from_the_file_is_the_running_brokers() {
        let o = parse("control_token = \"0123456789abcdef-file\"").unwrap();
        let broker = o
            .apply(crate::Broker::builder())
            .unwrap()
            .start()
            .await
            .unwrap();
        assert_eq!(broker.control_token(), Some("0123456789abcdef-file"));
        let o = parse("control_token = false").unwrap();
        let broker = o
            .apply(crate::Broker::builder())
            .unwrap()
            .start()
            .await
            .unwrap();
        assert_eq!(broker.control_token(), None);
        let broker = crate::Broker::builder().start().await.unwrap();
        assert!(broker.control_token().is_some_and(|t| t.len() >= 43));
    }

    #[tokio::test]
    async fn applied_options_reach_the_running_broker() {
        let dir = std::env::temp_dir().join(format!("mock-broker-options-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("ids.toml"),
            "[[identity]]\nid = \"karen\"\nkind = \"person\"\nuuid = \"5b1b5b6c-1111-4a4a-9d9d-000000000001\"\ncpr = \"0107721231\"\nfirst_name = \"Karen\"\nlast_name = \"Jensen\"\nloa = \"Substantial\"\n",
        )
        .unwrap();
        let o = BrokerOptions::from_toml_str(
            "entity_id = \"devtest4\"\nidentities = \"ids.toml\"\n[[oidc.clients]]\nclient_id = \"rp\"\nclient_secret = \"s\"\nredirect_uris = [\"http://127.0.0.1:9/cb\"]\n",
            "broker.toml",
            &dir,
        )
        .unwrap();
        let broker = o.apply(crate::Broker::builder()).unwrap().start().await;
        let broker = broker.unwrap();
        assert_eq!(
            broker.entity_id(),
            "https://saml.test-devtest4-nemlog-in.dk"
        );
        assert!(broker.state().identities().get("karen").is_some());
        assert!(broker.state().identities().get("anna").is_some());
        let p = broker.oidc().unwrap();
        assert!(p.clients.contains_key("rp"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
