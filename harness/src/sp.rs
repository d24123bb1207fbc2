//! The SP under test, as described by `sp.toml`.
//!
//! ```toml
//! name = "my-service"
//! protocol = "saml"
//! login_url = "http://127.0.0.1:8080/login"     # where a browser starts the login
//! sp_metadata = "sp-metadata.xml"               # file or URL (SAML)
//! required_loa = "Substantial"                  # what the service requires
//! user_key = "uuid"                             # uuid | cpr | name-id | sub (OIDC): what the SP keys users by
//! profiles = ["person", "professional"]         # which MitID profiles the SP accepts
//! private_sp = false                            # private SPs get no CPR
//! oiosaml = "3.0.3"                             # SAML profile version the SP speaks: "3.0.3" | "4.0"
//!
//! [oracle]                                      # how the harness tells "logged in, as whom"
//! whoami_url = "http://127.0.0.1:8080/whoami"   # preferred: 2xx + identity when logged in
//! json_field = "uuid"                           # or: regex = "user=(\\S+)"
//! # protected_url = "http://127.0.0.1:8080/private"   # weaker: 2xx only when logged in
//! # final_status = true                               # weakest: the login's final HTTP status
//!
//! [broker]                                      # every key of a broker.toml (BrokerOptions)
//! bind = "127.0.0.1:8390"                       # fixed port so the SP can be configured once
//! # base_url = "http://127.0.0.1:8390"          # or an already running broker:
//! # external = "http://127.0.0.1:8390"
//! # control_token = "..."                      # with external: the token that broker printed
//! entity_id = "mock"                            # mock | integration-test | devtest4 | URL
//! encryption = "nemlogin"                       # nemlogin | compatible
//!
//! # [privileges]                                # an SP that makes an OIO BPP privilege a condition of login
//! # required = "urn:dk:kombit:privilege:x"      # runs the privilege.* scenarios (else NOT APPLICABLE)
//!
//! [agent]
//! timeout_ms = 10000
//! max_redirects = 20
//!
//! [gate]                                        # what fails the run (exit code 1)
//! fail_on = "high"                              # critical | high | medium | info
//! warn_fails = false                            # WARN (signed identity) blocks too
//! # baseline = "mitid-baseline.toml"            # reviewed waivers (run --write-baseline)
//!
//! # OIDC RPs (protocol = "oidc"): the client registration at the mock broker
//! # [oidc_client]
//! # client_id = "my-rp"
//! # client_secret = "mock-secret"
//! # redirect_uris = ["http://127.0.0.1:8080/callback"]
//! ```

use mitid_mock_broker::{BrokerOptions, ControlTokenSetting, IdentityKind, Loa};
use serde::Deserialize;
use std::path::Path;

/// What the SP keys users by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum UserKey {
    /// The MitID UUID / persistent professional UUID (correct for OIOSAML 3).
    #[default]
    Uuid,
    /// The CPR number (public SPs that need it).
    Cpr,
    /// The full NameID value.
    NameId,
    /// OIDC: the broker's `sub` (with `iss`, the user's identifier in OpenID Connect Core
    /// §2). The harness computes the `sub` the broker issues for the logged-in identity the way
    /// each broker profile derives it (Signaturgruppen: per issuer and client, i.e. per
    /// organisation; Idura: per issuer, as `{GUID}`), so an RP keyed by `iss`+`sub` gets
    /// identity verdicts. Its whoami answer names the `sub`.
    Sub,
}

/// The session oracle configuration.
#[derive(Debug, Clone, Deserialize, Default, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct OracleConfig {
    /// A URL that answers 2xx with the logged-in identity, 401/403/3xx otherwise.
    #[serde(default)]
    pub whoami_url: Option<String>,
    /// JSON field (dot path) holding the identity in the whoami answer.
    #[serde(default)]
    pub json_field: Option<String>,
    /// Regex whose first group is the identity in the whoami answer.
    #[serde(default)]
    pub regex: Option<String>,
    /// A URL that is 2xx only when logged in (weaker evidence: no identity).
    #[serde(default)]
    pub protected_url: Option<String>,
    /// Judge by the login's final HTTP status (weakest evidence).
    #[serde(default)]
    pub final_status: bool,
}

/// Where the broker is: one this run starts, set up by [`BrokerOptions`] (every key of a
/// `broker.toml`, written in this table), or an already running one (`external`).
#[derive(Debug, Clone, Deserialize, Default, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BrokerConfig {
    /// Use an already running broker at this base URL (control API over HTTP) instead of
    /// starting one.
    #[serde(default)]
    pub external: Option<String>,
    /// How the in-process broker is set up. `identities` also tells the harness which
    /// identities an external broker knows; `https` which CA to trust.
    #[serde(flatten)]
    pub options: BrokerOptions,
}

impl BrokerConfig {
    /// An in-process broker on this listen address (a fixed port lets the SP be configured
    /// once).
    pub fn bind(addr: std::net::SocketAddr) -> Self {
        BrokerConfig {
            external: None,
            options: BrokerOptions {
                bind: Some(addr),
                ..BrokerOptions::default()
            },
        }
    }

    /// An already running broker (`mitid-harness broker`) at this base URL.
    pub fn external(base_url: impl Into<String>) -> Self {
        BrokerConfig {
            external: Some(base_url.into()),
            options: BrokerOptions::default(),
        }
    }

    /// The control token to send to an external broker (the one `mitid-harness broker` printed
    /// at start, or was given with `--control-token`), or to require of the in-process one.
    pub fn with_control_token(mut self, token: impl Into<String>) -> Self {
        self.options.control_token = Some(ControlTokenSetting::Token(token.into()));
        self
    }

    /// The control token to send, when one is configured (`control_token = "..."`).
    pub fn control_token(&self) -> Option<&str> {
        self.options.control_token.as_ref().and_then(|t| t.token())
    }
}

/// `[privileges]`: the OIO BPP privilege (`privilegesIntermediate`, OIOSAML 3.0.3) the SP makes
/// a condition of logging in. An SP that names one must refuse a login whose assertion does not
/// grant it in a `PrivilegeGroup` scoped to the organisation the user logs in for
/// (`urn:dk:gov:saml:cvrNumberIdentifier:<the professional/cvr attribute>`); the
/// `privilege.*` scenarios (`applies.sp_privilege`) test that, and do not apply without it.
#[derive(Debug, Clone, Deserialize, Default, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PrivilegesConfig {
    /// The privilege URI, exactly as the SP compares it (e.g. `urn:dk:kombit:...`). The
    /// scenarios put it into the list the broker sends (their `{privilege}` placeholder).
    pub required: String,
}

/// `plan` with every `{privilege}` in its `privileges` faults replaced by the privilege the SP
/// requires, so that one scenario fits every SP: the harness, not the broker, knows what the
/// SP requires. Without `[privileges]` the plan is returned as written (the `privilege.*`
/// scenarios do not apply to such an SP; `applies.sp_privilege`).
pub fn with_required_privilege(
    plan: &mitid_mock_broker::FaultPlan,
    privileges: Option<&PrivilegesConfig>,
) -> mitid_mock_broker::FaultPlan {
    let mut plan = plan.clone();
    let Some(p) = privileges else {
        return plan;
    };
    for f in &mut plan.faults {
        if let mitid_mock_broker::Fault::Privileges { groups } = f {
            for g in groups {
                g.scope = g.scope.replace("{privilege}", &p.required);
                for v in &mut g.privileges {
                    *v = v.replace("{privilege}", &p.required);
                }
            }
        }
    }
    plan
}

/// Browser agent settings.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AgentConfig {
    /// Per-request timeout.
    #[serde(default = "default_timeout")]
    pub timeout_ms: u64,
    /// Redirect hops before giving up.
    #[serde(default = "default_hops")]
    pub max_redirects: usize,
}

fn default_timeout() -> u64 {
    10_000
}
fn default_hops() -> usize {
    20
}

impl Default for AgentConfig {
    fn default() -> Self {
        AgentConfig {
            timeout_ms: default_timeout(),
            max_redirects: default_hops(),
        }
    }
}

/// The SP under test.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SpConfig {
    /// Display name.
    #[serde(default = "default_name")]
    pub name: String,
    /// Protocol.
    #[serde(default)]
    pub protocol: crate::scenario::Protocol,
    /// Login start URL.
    pub login_url: String,
    /// SP metadata (file path relative to sp.toml, or URL). Required for SAML with an
    /// in-process broker.
    #[serde(default)]
    pub sp_metadata: Option<String>,
    /// Required LoA.
    #[serde(default = "default_loa")]
    pub required_loa: Loa,
    /// What the SP keys users by.
    #[serde(default)]
    pub user_key: UserKey,
    /// Accepted profiles.
    #[serde(default = "default_profiles")]
    pub profiles: Vec<IdentityKind>,
    /// Private SP (no CPR).
    #[serde(default)]
    pub private_sp: bool,
    /// SAML: the OIOSAML profile version the SP speaks (`"3.0.3"`, the default, or `"4.0"`):
    /// which of the broker's SSO endpoints it sends its AuthnRequests to, and which scenarios
    /// apply (`applies.oiosaml`). The broker serves both at once.
    #[serde(default)]
    pub oiosaml: mitid_mock_broker::saml::oiosaml4::OiosamlVersion,
    /// SAML: the OIO BPP privilege the SP requires to log a user in (`[privileges]`).
    #[serde(default)]
    pub privileges: Option<PrivilegesConfig>,
    /// Session oracle.
    #[serde(default)]
    pub oracle: OracleConfig,
    /// Broker.
    #[serde(default)]
    pub broker: BrokerConfig,
    /// Agent.
    #[serde(default)]
    pub agent: AgentConfig,
    /// OIDC: the RP's client registration at the mock broker (client_id, client_secret or
    /// jwks, redirect_uris, ...), registered with the in-process broker.
    #[serde(default)]
    pub oidc_client: Option<mitid_mock_broker::oidc::ClientConfig>,
    /// OIDC: which broker the RP is built for (`signaturgruppen` | `idura`); broker-specific
    /// scenarios for the other one are skipped. Default: the single issuer `[oidc_client]
    /// issuers` names, if it is one of the two built-in issuer ids.
    #[serde(default)]
    pub oidc_profile: Option<mitid_mock_broker::oidc::Profile>,
    /// The release gate: threshold, whether WARN blocks, baseline file
    /// ([`crate::gate::GatePolicy`]).
    #[serde(default)]
    pub gate: crate::gate::GatePolicy,
}

fn default_name() -> String {
    "sp-under-test".into()
}
fn default_loa() -> Loa {
    Loa::Substantial
}
fn default_profiles() -> Vec<IdentityKind> {
    vec![IdentityKind::Person]
}

/// Errors reading `sp.toml`.
#[derive(Debug, thiserror::Error)]
pub enum SpConfigError {
    /// IO.
    #[error("cannot read {path}: {message}")]
    Io {
        /// Path.
        path: String,
        /// Message.
        message: String,
    },
    /// TOML.
    #[error("{path} is not a valid sp.toml: {message}")]
    Parse {
        /// Path.
        path: String,
        /// Message.
        message: String,
    },
    /// Semantic problem.
    #[error("{path}: {message}")]
    Invalid {
        /// Path.
        path: String,
        /// Message.
        message: String,
    },
}

impl OracleConfig {
    /// A whoami URL that answers 2xx with JSON when logged in; `json_field` is the dot path of
    /// the identity in it (strongest evidence: session and identity).
    pub fn whoami_json(url: impl Into<String>, json_field: impl Into<String>) -> Self {
        OracleConfig {
            whoami_url: Some(url.into()),
            json_field: Some(json_field.into()),
            ..OracleConfig::default()
        }
    }
    /// A whoami URL whose answer holds the identity in the first group of `regex`.
    pub fn whoami_regex(url: impl Into<String>, regex: impl Into<String>) -> Self {
        OracleConfig {
            whoami_url: Some(url.into()),
            regex: Some(regex.into()),
            ..OracleConfig::default()
        }
    }
    /// A URL that is 2xx only when logged in (a session, but no identity).
    pub fn protected(url: impl Into<String>) -> Self {
        OracleConfig {
            protected_url: Some(url.into()),
            ..OracleConfig::default()
        }
    }
    /// Judge by the login's final HTTP status (weakest evidence).
    pub fn final_status() -> Self {
        OracleConfig {
            final_status: true,
            ..OracleConfig::default()
        }
    }
}

/// Builds an [`SpConfig`] in code, with the same defaults and checks as `sp.toml`.
///
/// ```
/// use mitid_harness::sp::{OracleConfig, SpConfig};
/// let sp = SpConfig::builder("http://127.0.0.1:8080/login")
///     .name("my-service")
///     .sp_metadata("http://127.0.0.1:8080/saml/metadata")
///     .oracle(OracleConfig::whoami_json("http://127.0.0.1:8080/whoami", "uuid"))
///     .build()
///     .unwrap();
/// assert_eq!(sp.name, "my-service");
/// ```
#[derive(Debug, Clone)]
pub struct SpConfigBuilder {
    config: SpConfig,
}

impl SpConfigBuilder {
    /// Display name in reports.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.config.name = name.into();
        self
    }
    /// SAML (default) or OIDC.
    pub fn protocol(mut self, protocol: crate::scenario::Protocol) -> Self {
        self.config.protocol = protocol;
        self
    }
    /// The SP's metadata: an absolute file path or a URL.
    pub fn sp_metadata(mut self, source: impl Into<String>) -> Self {
        self.config.sp_metadata = Some(source.into());
        self
    }
    /// The LoA the service requires (default Substantial).
    pub fn required_loa(mut self, loa: Loa) -> Self {
        self.config.required_loa = loa;
        self
    }
    /// What the SP keys users by (default the MitID UUID).
    pub fn user_key(mut self, key: UserKey) -> Self {
        self.config.user_key = key;
        self
    }
    /// The MitID profiles the SP accepts (default: person).
    pub fn profiles(mut self, profiles: impl IntoIterator<Item = IdentityKind>) -> Self {
        self.config.profiles = profiles.into_iter().collect();
        self
    }
    /// A private SP (gets no CPR).
    pub fn private_sp(mut self, private: bool) -> Self {
        self.config.private_sp = private;
        self
    }
    /// SAML: the OIO BPP privilege the SP makes a condition of logging in (`[privileges]
    /// required`).
    pub fn required_privilege(mut self, privilege: impl Into<String>) -> Self {
        self.config.privileges = Some(PrivilegesConfig {
            required: privilege.into(),
        });
        self
    }
    /// How the harness tells "logged in, as whom".
    pub fn oracle(mut self, oracle: OracleConfig) -> Self {
        self.config.oracle = oracle;
        self
    }
    /// Where the broker is.
    pub fn broker(mut self, broker: BrokerConfig) -> Self {
        self.config.broker = broker;
        self
    }
    /// Browser agent settings.
    pub fn agent(mut self, agent: AgentConfig) -> Self {
        self.config.agent = agent;
        self
    }
    /// OIDC: the RP's client registration at the in-process broker.
    pub fn oidc_client(mut self, client: mitid_mock_broker::oidc::ClientConfig) -> Self {
        self.config.oidc_client = Some(client);
        self
    }
    /// SAML: the OIOSAML profile version the SP speaks.
    pub fn oiosaml(mut self, v: mitid_mock_broker::saml::oiosaml4::OiosamlVersion) -> Self {
        self.config.oiosaml = v;
        self
    }
    /// OIDC: which broker the RP is built for.
    pub fn oidc_profile(mut self, profile: mitid_mock_broker::oidc::Profile) -> Self {
        self.config.oidc_profile = Some(profile);
        self
    }
    /// The release gate (`[gate]`): threshold, whether WARN blocks, baseline file.
    pub fn gate(mut self, gate: crate::gate::GatePolicy) -> Self {
        self.config.gate = gate;
        self
    }
    /// Check the configuration (the same checks as for `sp.toml`).
    pub fn build(self) -> Result<SpConfig, SpConfigError> {
        self.config.validated("SpConfig::builder")
    }
}

impl SpConfig {
    /// Start a configuration in code; `login_url` is where a browser starts the login.
    pub fn builder(login_url: impl Into<String>) -> SpConfigBuilder {
        SpConfigBuilder {
            config: SpConfig {
                name: default_name(),
                protocol: crate::scenario::Protocol::default(),
                login_url: login_url.into(),
                sp_metadata: None,
                required_loa: default_loa(),
                user_key: UserKey::default(),
                profiles: default_profiles(),
                private_sp: false,
                oiosaml: Default::default(),
                privileges: None,
                oracle: OracleConfig::default(),
                broker: BrokerConfig::default(),
                agent: AgentConfig::default(),
                oidc_client: None,
                oidc_profile: None,
                gate: crate::gate::GatePolicy::default(),
            },
        }
    }

    /// Parse from TOML text; relative paths resolve against `base_dir`.
    pub fn from_toml_str(
        text: &str,
        origin: &str,
        base_dir: &Path,
    ) -> Result<SpConfig, SpConfigError> {
        let mut c: SpConfig = toml::from_str(text).map_err(|e| SpConfigError::Parse {
            path: origin.to_string(),
            message: e.to_string(),
        })?;
        if let Some(md) = &c.sp_metadata {
            if !md.starts_with("http://") && !md.starts_with("https://") {
                c.sp_metadata = Some(base_dir.join(md).display().to_string());
            }
        }
        c.broker.options.resolve_paths(base_dir);
        if let Some(p) = &c.gate.baseline {
            c.gate.baseline = Some(base_dir.join(p));
        }
        c.validated(origin)
    }

    /// The checks every configuration passes, however it was made.
    fn validated(self, origin: &str) -> Result<SpConfig, SpConfigError> {
        let c = self;
        let invalid = |m: String| SpConfigError::Invalid {
            path: origin.to_string(),
            message: m,
        };
        url::Url::parse(&c.login_url)
            .map_err(|e| invalid(format!("login_url {:?}: {e}", c.login_url)))?;
        let o = &c.oracle;
        if o.whoami_url.is_none() && o.protected_url.is_none() && !o.final_status {
            return Err(invalid(
                "[oracle] needs whoami_url (preferred), protected_url, or final_status = true"
                    .into(),
            ));
        }
        if o.whoami_url.is_some() && o.json_field.is_none() && o.regex.is_none() {
            return Err(invalid(
                "[oracle] whoami_url needs json_field or regex to find the identity".into(),
            ));
        }
        if let Some(r) = &o.regex {
            crate::oracle::compile_regex(r).map_err(|e| invalid(format!("[oracle] regex: {e}")))?;
        }
        if c.protocol == crate::scenario::Protocol::Saml
            && c.sp_metadata.is_none()
            && c.broker.external.is_none()
        {
            return Err(invalid(
                "sp_metadata is required for SAML (file path or URL of the SP's metadata)".into(),
            ));
        }
        if c.protocol == crate::scenario::Protocol::Oidc
            && c.oidc_client.is_none()
            && c.broker.external.is_none()
        {
            return Err(invalid("[oidc_client] is required for OIDC with an in-process broker (client_id, client_secret, redirect_uris)".into()));
        }
        if let Err((key, why)) = c.broker.options.check() {
            return Err(invalid(format!("[broker] {key}: {why}")));
        }
        if let Some(url) = &c.broker.external {
            mitid_mock_broker::control::ControlClient::new(url)
                .map_err(|e| invalid(format!("[broker] external: {e}")))?;
        }
        if c.user_key == UserKey::Sub && c.protocol != crate::scenario::Protocol::Oidc {
            return Err(invalid(
                "user_key = \"sub\" is for OIDC RPs (protocol = \"oidc\"); a SAML SP keys users by uuid, cpr or name-id".into(),
            ));
        }
        if let Some(p) = &c.privileges {
            if c.protocol != crate::scenario::Protocol::Saml {
                return Err(invalid(
                    "[privileges] is for SAML SPs (OIO BPP privileges come in the OIOSAML 3.0.3 privilegesIntermediate attribute)".into(),
                ));
            }
            if p.required.trim().is_empty()
                || p.required.contains(char::is_whitespace)
                || p.required.contains(['{', '}'])
            {
                return Err(invalid(format!(
                    "[privileges] required = {:?}: a privilege URI, without whitespace or braces",
                    p.required
                )));
            }
        }
        if c.profiles.is_empty() {
            return Err(invalid(
                "profiles must name at least one of person, professional".into(),
            ));
        }
        Ok(c)
    }

    /// Read `sp.toml`.
    pub fn from_file(path: &Path) -> Result<SpConfig, SpConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| SpConfigError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        Self::from_toml_str(&text, &path.display().to_string(), base)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_example_parses() {
        let t = r#"
name = "x"
login_url = "http://127.0.0.1:8080/login"
sp_metadata = "md.xml"
required_loa = "High"
user_key = "cpr"
profiles = ["person", "professional"]
[oracle]
whoami_url = "http://127.0.0.1:8080/whoami"
json_field = "user.uuid"
[broker]
bind = "127.0.0.1:8390"
encryption = "compatible"
[agent]
timeout_ms = 500
"#;
        let c = SpConfig::from_toml_str(t, "sp.toml", Path::new("/etc/x")).unwrap();
        assert_eq!(c.required_loa, Loa::High);
        assert_eq!(c.sp_metadata.as_deref(), Some("/etc/x/md.xml"));
        assert_eq!(
            c.broker.options.encryption,
            Some(mitid_mock_broker::EncryptionDefault::Compatible)
        );
        assert_eq!(
            c.broker.options.bind,
            Some(std::net::SocketAddr::from(([127, 0, 0, 1], 8390)))
        );
        assert_eq!(c.agent.max_redirects, 20);
    }

    #[test]
    fn errors_are_specific() {
        let e =
            SpConfig::from_toml_str("login_url = \"nope\"", "sp.toml", Path::new(".")).unwrap_err();
        assert!(e.to_string().contains("login_url"), "{e}");
        let e = SpConfig::from_toml_str(
            "login_url = \"http://a/\"\nsp_metadata=\"m\"",
            "sp.toml",
            Path::new("."),
        )
        .unwrap_err();
        assert!(e.to_string().contains("[oracle]"), "{e}");
        let e = SpConfig::from_toml_str(
            "login_url = \"http://a/\"\nsp_metadata=\"m\"\nbogus=1\n[oracle]\nfinal_status=true",
            "sp.toml",
            Path::new("."),
        )
        .unwrap_err();
        assert!(e.to_string().contains("bogus"), "{e}");
    }

    #[test]
    fn user_key_sub_is_for_oidc() {
        let oidc = r#"
protocol = "oidc"
login_url = "http://127.0.0.1:8080/login"
user_key = "sub"
[oracle]
whoami_url = "http://127.0.0.1:8080/whoami"
json_field = "sub"
[oidc_client]
client_id = "rp"
client_secret = "s"
redirect_uris = ["http://127.0.0.1:8080/callback"]
"#;
        let c = SpConfig::from_toml_str(oidc, "sp.toml", Path::new(".")).unwrap();
        assert_eq!(c.user_key, UserKey::Sub);
        let saml = "login_url = \"http://a/\"\nsp_metadata = \"m\"\nuser_key = \"sub\"\n[oracle]\nfinal_status = true\n";
        let e = SpConfig::from_toml_str(saml, "sp.toml", Path::new(".")).unwrap_err();
        assert!(
            e.to_string().contains("user_key = \"sub\" is for OIDC"),
            "{e}"
        );
    }

    #[test]
    fn broker_table_takes_every_broker_toml_key_and_external() {
        let t = r#"
login_url = "http://127.0.0.1:8080/login"
sp_metadata = "md.xml"
[oracle]
final_status = true
[broker]
external = "http://127.0.0.1:8390"
control_token = "0123456789abcdef-printed"
identities = "ids.toml"
https = true
entity_id = "devtest4"
sp_metadata = ["other.xml"]
[[broker.oidc.clients]]
client_id = "rp"
client_secret = "s"
redirect_uris = ["http://127.0.0.1:8080/cb"]
"#;
        let c = SpConfig::from_toml_str(t, "sp.toml", Path::new("/etc/x")).unwrap();
        assert_eq!(c.broker.external.as_deref(), Some("http://127.0.0.1:8390"));
        assert_eq!(c.broker.control_token(), Some("0123456789abcdef-printed"));
        let o = &c.broker.options;
        assert_eq!(o.identities.as_deref(), Some(Path::new("/etc/x/ids.toml")));
        assert!(o.https);
        assert_eq!(o.sp_metadata, ["/etc/x/other.xml"]);
        assert_eq!(o.oidc.as_ref().unwrap().clients[0].client_id, "rp");
        let e = SpConfig::from_toml_str(
            &t.replace("https = true", "htps = true"),
            "sp.toml",
            Path::new("."),
        )
        .unwrap_err();
        assert!(e.to_string().contains("htps"), "{e}");
        let e = SpConfig::from_toml_str(
            &t.replace("https = true", "bind = \"0.0.0.0:1\""),
            "sp.toml",
            Path::new("."),
        )
        .unwrap_err();
        assert!(e.to_string().contains("[broker] bind"), "{e}");
    }

    #[test]
    fn privileges_name_the_required_privilege_for_saml_sps() {
        let t = "login_url = \"http://a/\"\nsp_metadata = \"m\"\n[oracle]\nfinal_status = true\n[privileges]\nrequired = \"urn:dk:mock:privilege:sagsbehandler\"\n";
        let c = SpConfig::from_toml_str(t, "sp.toml", Path::new(".")).unwrap();
        assert_eq!(
            c.privileges.as_ref().map(|p| p.required.as_str()),
            Some("urn:dk:mock:privilege:sagsbehandler")
        );
        let built = SpConfig::builder("http://a/")
            .sp_metadata("./m")
            .oracle(OracleConfig::final_status())
            .required_privilege("urn:dk:mock:privilege:sagsbehandler")
            .build()
            .unwrap();
        assert_eq!(built.privileges, c.privileges);
        let e = SpConfig::from_toml_str(
            &t.replace("sagsbehandler", "a b"),
            "sp.toml",
            Path::new("."),
        )
        .unwrap_err();
        assert!(e.to_string().contains("[privileges] required"), "{e}");
        let e = SpConfig::from_toml_str(
            &t.replace("required =", "requird ="),
            "sp.toml",
            Path::new("."),
        )
        .unwrap_err();
        assert!(e.to_string().contains("requird"), "{e}");
    }

    #[test]
    fn the_required_privilege_fills_the_privileges_faults() {
        let plan: mitid_mock_broker::FaultPlan = toml::from_str(
            r#"faults = [
  { fault = "privileges", groups = [{ scope = "urn:dk:gov:saml:cvrNumberIdentifier:99000003", privileges = ["{privilege}", "{privilege}x"] }] },
  { fault = "set-attribute", name = "n", values = ["{privilege}"] },
]"#,
        )
        .unwrap();
        let req = PrivilegesConfig {
            required: "urn:dk:p".into(),
        };
        let filled = with_required_privilege(&plan, Some(&req));
        let mitid_mock_broker::Fault::Privileges { groups } = &filled.faults[0] else {
            panic!("{filled:?}")
        };
        assert_eq!(groups[0].privileges, ["urn:dk:p", "urn:dk:px"]);
        // Only the privileges faults: other values keep their text.
        assert_eq!(filled.faults[1], plan.faults[1]);
        assert_eq!(with_required_privilege(&plan, None), plan);
    }

    #[test]
    fn builder_equals_toml() {
        let t = r#"
name = "x"
login_url = "http://127.0.0.1:8080/login"
sp_metadata = "http://127.0.0.1:8080/md"
required_loa = "High"
private_sp = true
profiles = ["person", "professional"]
[oracle]
whoami_url = "http://127.0.0.1:8080/whoami"
json_field = "uuid"
"#;
        let from_toml = SpConfig::from_toml_str(t, "sp.toml", Path::new(".")).unwrap();
        let built = SpConfig::builder("http://127.0.0.1:8080/login")
            .name("x")
            .sp_metadata("http://127.0.0.1:8080/md")
            .required_loa(Loa::High)
            .private_sp(true)
            .profiles([IdentityKind::Person, IdentityKind::Professional])
            .oracle(OracleConfig::whoami_json(
                "http://127.0.0.1:8080/whoami",
                "uuid",
            ))
            .build()
            .unwrap();
        assert_eq!(built, from_toml);
        let e = SpConfig::builder("http://a/")
            .sp_metadata("m")
            .build()
            .unwrap_err();
        assert!(e.to_string().contains("[oracle]"), "{e}");
    }
}
