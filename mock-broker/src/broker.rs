//! The broker as a value: configuration, shared state, and the running server's handle.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use mitid_mock_broker::{Broker, saml::sp_metadata::SpMetadata};
//! let sp = SpMetadata::from_file("sp-metadata.xml".as_ref())?;
//! let broker = Broker::builder().register_sp(sp).start().await?;
//! println!("IdP metadata: {}", broker.metadata_url());
//! # Ok(()) }
//! ```

use crate::config::{Clock, EncryptionDefault, EntityIdPreset, IdGen, SystemClock};
use crate::dangerous::FaultPlan;
use crate::identity::{IdentityKind, IdentityStore};
use crate::nsis::Loa;
use crate::saml::mint::SigningKeys;
use crate::saml::sp_metadata::{MetadataError, SpMetadata};
pub use crate::saml::sso::choose_encryption;
use crate::saml::xmlsec::{Bergshamra, EncryptionAlgorithms};
pub use crate::table::TableFull;
use crate::table::{BoundedTable, Full, capped};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use time::OffsetDateTime;

/// Path of the SSO and SLO endpoint (NemLog-in serves both on one URL).
pub const SSO_PATH: &str = "/idp/saml/3.0/";
/// Path of the IdP metadata.
pub const METADATA_PATH: &str = "/idp/saml/3.0/metadata";
/// Path of the OIOSAML 4.0 SSO and SLO endpoint, served beside the 3.0.3 one (NemLog-in:
/// `https://login.nemlog-in.dk/idp/saml/4.0/`, FoxIDs.Assets `oiosaml4-idp-prod.xml`).
pub const SSO4_PATH: &str = "/idp/saml/4.0/";
/// Path of the OIOSAML 4.0 IdP metadata (the mock's own choice of URL; NemLog-in publishes
/// its metadata as files).
pub const METADATA4_PATH: &str = "/idp/saml/4.0/metadata";

/// Errors starting the broker.
#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    /// Could not bind.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// Address.
        addr: SocketAddr,
        /// Cause.
        source: std::io::Error,
    },
    /// Refusing a non-loopback bind without the explicit opt-in.
    #[error(
        "refusing to listen on {0}: the mock broker binds to loopback only (127.0.0.0/8 or ::1) unless allow_non_loopback is set"
    )]
    NotLoopback(SocketAddr),
    /// Keys could not be loaded.
    #[error("signing keys: {0}")]
    Keys(#[from] crate::pki::PkiError),
    /// SP metadata problem.
    #[error("SP metadata {origin}: {source}")]
    SpMetadata {
        /// File or URL.
        origin: String,
        /// Cause.
        source: MetadataError,
    },
    /// Fetching SP metadata from a URL failed.
    #[error("cannot fetch SP metadata from {url}: {why}")]
    Fetch {
        /// URL.
        url: String,
        /// Why.
        why: String,
    },
    /// Bad public base URL.
    #[error("public base URL {0:?} is not an absolute http(s) URL")]
    BadBaseUrl(String),
    /// TLS setup failed.
    #[error("TLS: {0}")]
    Tls(String),
    /// OIDC provider setup failed.
    #[error("OIDC provider: {0}")]
    Oidc(String),
    /// The control token is unusable, or disabled on a non-loopback listen address.
    #[error("control token: {0}")]
    ControlToken(String),
}

/// The bounds of the SAML side's tables: a broker left running for hours holds at most this
/// much, however many requests (or hostile ones) arrive. The OIDC provider's are in
/// `oidc::provider`.
pub mod limits {
    use time::Duration;

    /// Longest AuthnRequest ID accepted (at SSO and when arming). Real SPs send 33-50
    /// characters; the cap keeps every table keyed by request ID small.
    pub const MAX_REQUEST_ID_LEN: usize = 256;
    /// Armed logins waiting for their AuthnRequest (each up to the control API's body cap).
    pub const ARMED_MAX: usize = 256;
    /// How long an armed login waits.
    pub const ARMED_TTL: Duration = Duration::hours(1);
    /// AuthnRequest IDs remembered for replay protection (each until its IssueInstant leaves
    /// the clock-skew window); when all are live, new AuthnRequests are refused, never
    /// forgotten.
    pub const REQUEST_IDS_MAX: usize = 100_000;
    /// Flow records kept (each holds the Response as posted).
    pub const FLOWS_MAX: usize = 512;
    /// How long a flow record is kept.
    pub const FLOWS_TTL: Duration = Duration::hours(8);
    /// SLO sessions kept.
    pub const SESSIONS_MAX: usize = 10_000;
    /// How long an SLO session is kept (NemLog-in sessions are shorter).
    pub const SESSIONS_TTL: Duration = Duration::hours(12);
    /// External-entity fetch records kept.
    pub const FETCHES_MAX: usize = 10_000;
    /// Longest recorded token, peer or User-Agent of a fetch record, in bytes.
    pub const FETCH_FIELD_MAX: usize = 256;
}

/// Why a login could not be armed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArmError {
    /// Longer than any AuthnRequest ID the SSO endpoint accepts.
    #[error("request ID of {len} bytes is longer than the {max} an AuthnRequest may have", max = limits::MAX_REQUEST_ID_LEN)]
    IdTooLong {
        /// Its length.
        len: usize,
    },
    /// Too many armed logins wait.
    #[error(transparent)]
    Full(#[from] TableFull),
}

/// What the harness arms for one login flow, keyed by AuthnRequest ID.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArmedLogin {
    /// Identity handle to log in as.
    pub identity: String,
    /// LoA to assert (default: the identity's).
    #[serde(default)]
    pub loa: Option<Loa>,
    /// Faults.
    #[serde(default)]
    pub plan: FaultPlan,
    /// OIOSAML 4.0: the attribute profile the user logs in with (the choice among those the
    /// SP requested). Default: the broker's rule ([`crate::saml::oiosaml4::choose_profile`]).
    /// Ignored for 3.0.3 flows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<crate::saml::oiosaml4::AttributeProfile>,
}

/// What happened in one login flow (for the harness, reports and debugging).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FlowRecord {
    /// AuthnRequest ID.
    pub request_id: String,
    /// SP entityID.
    pub sp_entity_id: String,
    /// ACS URL the response was (or will be) posted to.
    pub acs_url: String,
    /// RelayState from the request.
    pub relay_state: Option<String>,
    /// Requested minimum LoA.
    pub requested_loa: Option<Loa>,
    /// Requested profile.
    pub requested_profile: Option<IdentityKind>,
    /// `ForceAuthn`.
    pub force_authn: bool,
    /// `IsPassive`.
    pub is_passive: bool,
    /// When the request arrived.
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
    /// Identity that logged in.
    pub identity: Option<String>,
    /// LoA asserted.
    pub loa: Option<Loa>,
    /// Faults applied.
    pub plan: FaultPlan,
    /// The SAMLResponse value (base64) as posted.
    pub response_b64: Option<String>,
    /// The Response XML as posted.
    pub response_xml: Option<String>,
    /// Encryption algorithms used, with the reason they were chosen.
    pub encryption: Option<(EncryptionAlgorithms, String)>,
    /// An error minting the response.
    pub error: Option<String>,
    /// The broker endpoints the SP used in this flow: `sso` (always: the AuthnRequest), and
    /// `slo` once a LogoutRequest names the flow's SessionIndex. What the harness reads to
    /// tell whether a fault could have reached the SP ([`crate::Fault::delivered_by`]).
    pub endpoints: std::collections::BTreeSet<crate::observed::Endpoint>,
    /// The SessionIndex of the assertion, once minted (SLO names it).
    pub session_index: Option<String>,
    /// The AuthnRequest XML as received (decoded from the binding), for the developer page.
    #[serde(default)]
    pub request_xml: Option<String>,
    /// The (first) assertion as signed, before encryption, for the developer page: what the SP
    /// decrypts, which the encrypted Response cannot show.
    #[serde(default)]
    pub assertion_xml: Option<String>,
    /// The OIOSAML version of the endpoint the AuthnRequest arrived at.
    #[serde(default)]
    pub oiosaml: crate::saml::oiosaml4::OiosamlVersion,
    /// OIOSAML 4.0: the attribute profiles the request named (known ones, in order).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requested_profiles: Vec<crate::saml::oiosaml4::AttributeProfile>,
    /// OIOSAML 4.0: the attribute profile the response was minted for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attribute_profile: Option<crate::saml::oiosaml4::AttributeProfile>,
    /// The AuthnRequest's AppSwitch extension (mobile app logins), as the SP sent it.
    #[serde(default)]
    pub app_switch: Option<crate::saml::app_switch::AppSwitch>,
    /// The response was answered from the browser's SSO session, without a new
    /// authentication ([`crate::saml::sso_session`]): its AuthnInstant is the session's.
    #[serde(default)]
    pub from_sso_session: bool,
}

/// A recorded fetch of the broker's external-entity trap (`/_mock/fetch/...`): evidence that an
/// SP resolved an external entity from a SAML message.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FetchRecord {
    /// Token in the path (the flow's AuthnRequest ID).
    pub token: String,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Peer address.
    pub peer: String,
    /// User-Agent, if any.
    pub user_agent: Option<String>,
}

/// Whether and how to serve HTTPS.
#[derive(Debug, Clone, Default)]
pub enum TlsMode {
    /// Plain HTTP (default).
    #[default]
    Off,
    /// HTTPS with the mock local TLS CA's server certificate (127.0.0.1 / localhost).
    MockCa,
}

/// Builder for a [`Broker`].
#[derive(Debug)]
pub struct BrokerBuilder {
    entity_id: EntityIdPreset,
    bind: SocketAddr,
    public_base_url: Option<String>,
    identities: IdentityStore,
    sps: Vec<SpMetadata>,
    sp_sources: Vec<String>,
    keys: Option<SigningKeys>,
    encryption_default: EncryptionDefault,
    clock: Arc<dyn Clock>,
    ids: IdGen,
    tls: TlsMode,
    allow_non_loopback: bool,
    clock_skew: time::Duration,
    oidc: Option<crate::oidc::OidcConfig>,
    control_token: crate::control::ControlToken,
    header_read_timeout: std::time::Duration,
    oiosaml4: crate::saml::oiosaml4::Oiosaml4Settings,
    release: crate::saml::release::ReleasePolicy,
    sso_session: crate::saml::sso_session::SsoSessionPolicy,
    sso_lifetime: time::Duration,
    name_id_without_policy: crate::saml::name_id_policy::NameIdChoice,
    transient_name_id: crate::saml::name_id_policy::TransientValue,
}

/// How long a client may take to send a request's line and headers before the broker closes
/// the connection (hyper's `header_read_timeout`): half-sent requests must not pile up in a
/// broker left running for hours.
pub const DEFAULT_HEADER_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

impl Default for BrokerBuilder {
    fn default() -> Self {
        BrokerBuilder {
            entity_id: EntityIdPreset::Mock,
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            public_base_url: None,
            identities: IdentityStore::builtin(),
            sps: Vec::new(),
            sp_sources: Vec::new(),
            keys: None,
            encryption_default: EncryptionDefault::default(),
            clock: Arc::new(SystemClock),
            ids: IdGen::random(),
            tls: TlsMode::Off,
            allow_non_loopback: false,
            clock_skew: time::Duration::minutes(5),
            oidc: Some(crate::oidc::OidcConfig::default()),
            control_token: crate::control::ControlToken::Random,
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            oiosaml4: crate::saml::oiosaml4::Oiosaml4Settings::default(),
            release: Default::default(),
            sso_session: Default::default(),
            sso_lifetime: time::Duration::minutes(i64::from(
                crate::saml::sso_session::DEFAULT_LIFETIME_MINUTES,
            )),
            name_id_without_policy: Default::default(),
            transient_name_id: Default::default(),
        }
    }
}

impl BrokerBuilder {
    /// The SSO session settings ([`crate::saml::sso_session`]): on or off, its length, and
    /// which SessionIndex an answer from it carries. A length outside 1 minute to a day is
    /// refused.
    pub fn sso_session(
        mut self,
        p: crate::saml::sso_session::SsoSessionPolicy,
    ) -> Result<Self, crate::saml::sso_session::BadLifetime> {
        self.sso_lifetime = p.lifetime()?;
        self.sso_session = p;
        Ok(self)
    }

    /// The NameID format for an AuthnRequest without a `NameIDPolicy` Format (or with
    /// `unspecified`): persistent by default. NemLog-in's choice is not publicly confirmed
    /// ([`crate::saml::name_id_policy`]).
    pub fn name_id_without_policy(mut self, c: crate::saml::name_id_policy::NameIdChoice) -> Self {
        self.name_id_without_policy = c;
        self
    }

    /// What a transient NameID holds: the identity's value (default) or a fresh one at every
    /// login ([`crate::saml::name_id_policy::TransientValue`]; unconfirmed for NemLog-in).
    pub fn transient_name_id(mut self, v: crate::saml::name_id_policy::TransientValue) -> Self {
        self.transient_name_id = v;
        self
    }

    /// The OIOSAML 4.0 settings: the unconfirmed choices (specVersion value, what a request
    /// without a requested attribute profile gets).
    pub fn oiosaml4(mut self, s: crate::saml::oiosaml4::Oiosaml4Settings) -> Self {
        self.oiosaml4 = s;
        self
    }

    /// The entityID (default: the mock one).
    pub fn entity_id(mut self, e: EntityIdPreset) -> Self {
        self.entity_id = e;
        self
    }

    /// Listen address (default `127.0.0.1:0`, an ephemeral port).
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.bind = addr;
        self
    }

    /// The base URL SPs use to reach the broker, when it differs from the listen address
    /// (e.g. behind a proxy). Default: `http(s)://<listen address>`.
    pub fn public_base_url(mut self, url: impl Into<String>) -> Self {
        self.public_base_url = Some(url.into());
        self
    }

    /// Identities (default: the built-in ones).
    pub fn identities(mut self, ids: IdentityStore) -> Self {
        self.identities = ids;
        self
    }

    /// Register an SP from parsed metadata.
    pub fn register_sp(mut self, sp: SpMetadata) -> Self {
        self.sps.push(sp);
        self
    }

    /// Register an SP from a metadata file path or http(s) URL, resolved at start.
    pub fn register_sp_source(mut self, source: impl Into<String>) -> Self {
        self.sp_sources.push(source.into());
        self
    }

    /// Signing keys (default: the mock PKI fixtures).
    pub fn signing_keys(mut self, keys: SigningKeys) -> Self {
        self.keys = Some(keys);
        self
    }

    /// Attribute release rules: SP sectors (public/private) and what an SP that requests
    /// nothing gets ([`crate::saml::release`]).
    pub fn release_policy(mut self, p: crate::saml::release::ReleasePolicy) -> Self {
        self.release = p;
        self
    }

    /// Encryption default when SP metadata names no algorithms.
    pub fn encryption_default(mut self, e: EncryptionDefault) -> Self {
        self.encryption_default = e;
        self
    }

    /// Clock (default: system clock), for the SAML side and the OIDC provider alike.
    pub fn clock(mut self, c: Arc<dyn Clock>) -> Self {
        self.clock = c;
        self
    }

    /// ID generator (default: random).
    pub fn ids(mut self, ids: IdGen) -> Self {
        self.ids = ids;
        self
    }

    /// HTTPS.
    pub fn tls(mut self, tls: TlsMode) -> Self {
        self.tls = tls;
        self
    }

    /// Allow binding to a non-loopback address (off by default: the mock broker must not be
    /// reachable from the network by accident).
    pub fn allow_non_loopback(mut self, yes: bool) -> Self {
        self.allow_non_loopback = yes;
        self
    }

    /// Accepted clock skew for AuthnRequest IssueInstant (default 5 minutes, as OIOSAML.Java).
    pub fn clock_skew(mut self, d: time::Duration) -> Self {
        self.clock_skew = d;
        self
    }

    /// OIDC provider configuration (issuers, registered clients). The OIDC surface is on by
    /// default with the Signaturgruppen- and Idura-style issuers and no clients; `None` turns it
    /// off.
    pub fn oidc(mut self, cfg: Option<crate::oidc::OidcConfig>) -> Self {
        self.oidc = cfg;
        self
    }

    /// Register an OIDC client (redirect URIs are matched exactly).
    pub fn oidc_client(mut self, client: crate::oidc::ClientConfig) -> Self {
        self.oidc
            .get_or_insert_with(Default::default)
            .clients
            .push(client);
        self
    }

    /// The control token the control API (`/_mock/*`) requires as `Authorization: Bearer`
    /// (default: [`ControlToken::Random`](crate::control::ControlToken::Random), read it back
    /// with [`RunningBroker::control_token`]). [`ControlToken::Disabled`](crate::control::ControlToken::Disabled)
    /// is refused at start unless the listen address is loopback.
    pub fn control_token(mut self, token: crate::control::ControlToken) -> Self {
        self.control_token = token;
        self
    }

    /// How long a client may take to send a request's line and headers before the connection
    /// is closed (default [`DEFAULT_HEADER_READ_TIMEOUT`]).
    pub fn header_read_timeout(mut self, d: std::time::Duration) -> Self {
        self.header_read_timeout = d;
        self
    }

    /// The base URL for a listen address: the public one when set, else `http(s)://addr`.
    fn base_url_for(&self, addr: SocketAddr) -> Result<String, BrokerError> {
        let scheme = match self.tls {
            TlsMode::Off => "http",
            TlsMode::MockCa => "https",
        };
        match &self.public_base_url {
            Some(u) => {
                let parsed = url::Url::parse(u).map_err(|_| BrokerError::BadBaseUrl(u.clone()))?;
                if !matches!(parsed.scheme(), "http" | "https") {
                    return Err(BrokerError::BadBaseUrl(u.clone()));
                }
                Ok(u.trim_end_matches('/').to_string())
            }
            None => Ok(format!("{scheme}://{addr}")),
        }
    }

    /// The IdP metadata this broker would serve, without binding anything or fetching SP
    /// metadata (`mitid-harness broker --print-metadata`): the URLs name the listen address
    /// (or the public base URL) as given, whether or not it is free or on loopback.
    pub fn metadata_xml(&self) -> Result<String, BrokerError> {
        let base_url = self.base_url_for(self.bind)?;
        let keys = match &self.keys {
            Some(k) => k.clone(),
            None => SigningKeys::mock()?,
        };
        let sso_url = format!("{base_url}{SSO_PATH}");
        Ok(crate::saml::endpoint::idp_metadata_xml(
            self.entity_id.entity_id(),
            &sso_url,
            &keys,
        ))
    }

    /// The OIOSAML 4.0 IdP metadata this broker would serve (see [`Self::metadata_xml`]).
    pub fn metadata4_xml(&self) -> Result<String, BrokerError> {
        let base_url = self.base_url_for(self.bind)?;
        let keys = match &self.keys {
            Some(k) => k.clone(),
            None => SigningKeys::mock()?,
        };
        Ok(crate::saml::endpoint::idp_metadata4_xml(
            self.entity_id.entity_id(),
            &format!("{base_url}{SSO4_PATH}"),
            &keys,
        ))
    }

    /// Bind, resolve SP metadata, and start serving in the background.
    pub async fn start(self) -> Result<RunningBroker, BrokerError> {
        if !self.allow_non_loopback && !self.bind.ip().is_loopback() {
            return Err(BrokerError::NotLoopback(self.bind));
        }
        if self.control_token == crate::control::ControlToken::Disabled
            && !self.bind.ip().is_loopback()
        {
            return Err(BrokerError::ControlToken(format!(
                "it may be disabled on a loopback listen address only, not {}",
                self.bind
            )));
        }
        let token = self
            .control_token
            .resolve()
            .map_err(BrokerError::ControlToken)?;
        let listener = tokio::net::TcpListener::bind(self.bind)
            .await
            .map_err(|source| BrokerError::Bind {
                addr: self.bind,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| BrokerError::Bind {
            addr: self.bind,
            source,
        })?;
        let base_url = self.base_url_for(addr)?;
        let control = crate::control::ControlAccess::new(token, &base_url, Some(addr));
        let mut sps = self.sps;
        for src in &self.sp_sources {
            sps.extend(load_sp_source(src).await?);
        }
        let keys = match self.keys {
            Some(k) => k,
            None => SigningKeys::mock()?,
        };
        let oidc = match self.oidc {
            Some(cfg) => {
                let okeys = crate::oidc::OidcKeys::from_pki(crate::pki::MockPki::builtin())
                    .map_err(|e| BrokerError::Oidc(e.to_string()))?;
                let p =
                    crate::oidc::OidcProvider::new(cfg, &base_url, self.identities.clone(), okeys)
                        .map_err(|e| BrokerError::Oidc(e.to_string()))?
                        .with_clock(self.clock.clone())
                        .with_control_access(control.clone());
                Some(Arc::new(p))
            }
            None => None,
        };
        let state = Arc::new(BrokerState {
            entity_id: self.entity_id.entity_id().to_string(),
            sso_url: format!("{base_url}{SSO_PATH}"),
            metadata_url: format!("{base_url}{METADATA_PATH}"),
            sso4_url: format!("{base_url}{SSO4_PATH}"),
            metadata4_url: format!("{base_url}{METADATA4_PATH}"),
            oiosaml4: self.oiosaml4,
            base_url: base_url.clone(),
            identities: self.identities,
            sps: Mutex::new(
                sps.into_iter()
                    .map(|s| (s.entity_id.clone(), Arc::new(s)))
                    .collect(),
            ),
            keys,
            encryption_default: self.encryption_default,
            release: self.release,
            sso_policy: self.sso_session,
            sso_lifetime: self.sso_lifetime,
            name_id_without_policy: self.name_id_without_policy,
            transient_name_id: self.transient_name_id,
            sso_sessions: Mutex::new(BoundedTable::new(
                "SSO sessions",
                crate::saml::sso_session::SSO_SESSIONS_MAX,
                self.sso_lifetime,
                Full::EvictOldest,
            )),
            clock: self.clock,
            ids: self.ids,
            clock_skew: self.clock_skew,
            armed: Mutex::new(BoundedTable::new(
                "armed logins",
                limits::ARMED_MAX,
                limits::ARMED_TTL,
                Full::Refuse,
            )),
            request_ids: Mutex::new(BoundedTable::new(
                "AuthnRequest IDs",
                limits::REQUEST_IDS_MAX,
                self.clock_skew * 2 + time::Duration::minutes(1),
                Full::Refuse,
            )),
            flows: Mutex::new(BoundedTable::new(
                "flow records",
                limits::FLOWS_MAX,
                limits::FLOWS_TTL,
                Full::EvictOldest,
            )),
            fetches: Mutex::new(Vec::new()),
            sessions: Mutex::new(BoundedTable::new(
                "SLO sessions",
                limits::SESSIONS_MAX,
                limits::SESSIONS_TTL,
                Full::EvictOldest,
            )),
            idp_logouts: Mutex::new(BoundedTable::new(
                "IdP-initiated logouts",
                crate::saml::idp_logout::IDP_LOGOUTS_MAX,
                crate::saml::idp_logout::IDP_LOGOUTS_TTL,
                Full::EvictOldest,
            )),
            xml_signer: Bergshamra,
            xml_encryptor: Bergshamra,
            xml_verifier: Bergshamra,
            control,
        });
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        // The developer page reads both protocols' flows, so it is mounted beside them.
        let dev = crate::dev::router(state.clone(), oidc.clone());
        let extra = match oidc.clone().map(|o| o.router()) {
            Some(o) => o.merge(dev),
            None => dev,
        };
        let router = crate::server::router(state.clone(), Some(extra));
        let tls = match self.tls {
            TlsMode::Off => None,
            TlsMode::MockCa => Some(crate::server::mock_tls_acceptor().map_err(BrokerError::Tls)?),
        };
        let http = crate::server::HttpConfig {
            header_read_timeout: self.header_read_timeout,
        };
        let join = tokio::spawn(crate::server::serve(listener, tls, router, http, rx));
        tracing::info!(%base_url, entity_id = %state.entity_id, "mock broker listening (MOCK keys; not a real NemLog-in IdP)");
        Ok(RunningBroker {
            addr,
            state,
            oidc,
            shutdown: Some(tx),
            join: Some(join),
        })
    }
}

async fn load_sp_source(src: &str) -> Result<Vec<SpMetadata>, BrokerError> {
    let text = if src.starts_with("http://") || src.starts_with("https://") {
        fetch_metadata(src).await?
    } else {
        std::fs::read_to_string(src).map_err(|e| BrokerError::Fetch {
            url: src.to_string(),
            why: e.to_string(),
        })?
    };
    SpMetadata::parse_all(&text).map_err(|source| BrokerError::SpMetadata {
        origin: src.to_string(),
        source,
    })
}

/// Fetch SP metadata from a URL (5 s timeout, 1 MiB cap).
pub async fn fetch_metadata(url: &str) -> Result<String, BrokerError> {
    let err = |why: String| BrokerError::Fetch {
        url: url.to_string(),
        why,
    };
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::limited(3))
        .build()
        .map_err(|e| err(e.to_string()))?;
    let mut resp = client
        .get(url)
        .send()
        .await
        .map_err(|e| err(e.to_string()))?;
    if !resp.status().is_success() {
        return Err(err(format!("HTTP {}", resp.status())));
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| err(e.to_string()))? {
        body.extend_from_slice(&chunk);
        if body.len() > crate::saml::xml::MAX_XML_BYTES {
            return Err(err("metadata larger than 1 MiB".into()));
        }
    }
    String::from_utf8(body).map_err(|_| err("metadata is not UTF-8".into()))
}

/// Shared state of a running broker.
#[derive(Debug)]
pub struct BrokerState {
    pub(crate) entity_id: String,
    pub(crate) base_url: String,
    pub(crate) sso_url: String,
    pub(crate) metadata_url: String,
    /// OIOSAML 4.0 SSO/SLO URL.
    pub(crate) sso4_url: String,
    /// OIOSAML 4.0 metadata URL.
    pub(crate) metadata4_url: String,
    /// OIOSAML 4.0 settings.
    pub(crate) oiosaml4: crate::saml::oiosaml4::Oiosaml4Settings,
    pub(crate) identities: IdentityStore,
    pub(crate) sps: Mutex<HashMap<String, Arc<SpMetadata>>>,
    pub(crate) keys: SigningKeys,
    pub(crate) encryption_default: EncryptionDefault,
    /// Attribute release rules.
    pub(crate) release: crate::saml::release::ReleasePolicy,
    /// SSO session settings.
    pub(crate) sso_policy: crate::saml::sso_session::SsoSessionPolicy,
    /// SSO session length (checked when the policy was set).
    pub(crate) sso_lifetime: time::Duration,
    /// The NameID format for a request that leaves it to the IdP.
    pub(crate) name_id_without_policy: crate::saml::name_id_policy::NameIdChoice,
    /// What a transient NameID holds.
    pub(crate) transient_name_id: crate::saml::name_id_policy::TransientValue,
    /// Browsers' SSO sessions by cookie value ([`crate::saml::sso_session`]).
    pub(crate) sso_sessions: Mutex<BoundedTable<String, crate::saml::sso_session::SsoSession>>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) ids: IdGen,
    pub(crate) clock_skew: time::Duration,
    pub(crate) armed: Mutex<BoundedTable<String, ArmedLogin>>,
    /// Every AuthnRequest ID accepted, until its IssueInstant is out of the clock-skew window:
    /// replay protection that holds however many flows come after (the flow records are
    /// evicted for memory; these are not).
    pub(crate) request_ids: Mutex<BoundedTable<String, ()>>,
    pub(crate) flows: Mutex<BoundedTable<String, FlowRecord>>,
    pub(crate) fetches: Mutex<Vec<FetchRecord>>,
    /// (SP entityID, SessionIndex) -> NameID, for SLO. Keyed by SP too, since with
    /// [`crate::saml::sso_session::SessionIndexPolicy::PerSession`] several SPs hold the same
    /// SessionIndex.
    pub(crate) sessions: Mutex<BoundedTable<(String, String), String>>,
    /// IdP-initiated logouts by LogoutRequest ID ([`crate::saml::idp_logout`]).
    pub(crate) idp_logouts: Mutex<BoundedTable<String, crate::saml::idp_logout::IdpLogoutRecord>>,
    pub(crate) xml_signer: Bergshamra,
    pub(crate) xml_encryptor: Bergshamra,
    /// Verifies what SPs sign (Redirect-binding query signatures, POST LogoutRequests).
    pub(crate) xml_verifier: Bergshamra,
    /// Who may call the control API (the OIDC provider shares it).
    pub(crate) control: crate::control::ControlAccess,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl BrokerState {
    /// entityID.
    pub fn entity_id(&self) -> &str {
        &self.entity_id
    }

    /// SSO (and SLO) URL.
    pub fn sso_url(&self) -> &str {
        &self.sso_url
    }

    /// The SSO (= SLO) URL of an OIOSAML version.
    pub fn sso_url_of(&self, v: crate::saml::oiosaml4::OiosamlVersion) -> &str {
        match v {
            crate::saml::oiosaml4::OiosamlVersion::V3 => &self.sso_url,
            crate::saml::oiosaml4::OiosamlVersion::V4 => &self.sso4_url,
        }
    }

    /// Identities.
    pub fn identities(&self) -> &IdentityStore {
        &self.identities
    }

    /// Look up a registered SP.
    pub fn sp(&self, entity_id: &str) -> Option<Arc<SpMetadata>> {
        lock(&self.sps).get(entity_id).cloned()
    }

    /// Register (or replace) an SP at run time.
    pub fn register_sp(&self, sp: SpMetadata) {
        lock(&self.sps).insert(sp.entity_id.clone(), Arc::new(sp));
    }

    /// Replace every registered SP with these.
    pub fn replace_sps(&self, sps: Vec<SpMetadata>) {
        *lock(&self.sps) = sps
            .into_iter()
            .map(|s| (s.entity_id.clone(), Arc::new(s)))
            .collect();
    }

    /// The registered SPs' entityIDs, sorted.
    pub fn sp_entity_ids(&self) -> Vec<String> {
        let mut v: Vec<String> = lock(&self.sps).keys().cloned().collect();
        v.sort();
        v
    }

    /// Arm a login for the AuthnRequest with this ID: the SSO endpoint logs in as the armed
    /// identity with the armed faults, without showing the chooser. Armed logins wait
    /// [`limits::ARMED_TTL`] for their AuthnRequest; at most [`limits::ARMED_MAX`] wait at once.
    pub fn arm(&self, request_id: &str, login: ArmedLogin) -> Result<(), ArmError> {
        if request_id.len() > limits::MAX_REQUEST_ID_LEN {
            return Err(ArmError::IdTooLong {
                len: request_id.len(),
            });
        }
        lock(&self.armed).insert(request_id.to_string(), login, self.clock.now())?;
        Ok(())
    }

    /// Whether a login is armed (and waiting) for this AuthnRequest ID.
    pub fn is_armed(&self, request_id: &str) -> bool {
        lock(&self.armed).contains(&request_id.to_string(), self.clock.now())
    }

    pub(crate) fn take_armed(&self, request_id: &str) -> Option<ArmedLogin> {
        lock(&self.armed).take(&request_id.to_string(), self.clock.now())
    }

    /// Remember an accepted AuthnRequest ID until `valid_until` (its IssueInstant plus the
    /// allowed clock skew). `Ok(false)` when the ID was seen before: a replay.
    pub(crate) fn first_use_of_request_id(
        &self,
        request_id: &str,
        valid_until: OffsetDateTime,
    ) -> Result<bool, TableFull> {
        let now = self.clock.now();
        let mut ids = lock(&self.request_ids);
        let key = request_id.to_string();
        if ids.contains(&key, now) {
            return Ok(false);
        }
        // Remembered at least a little past now, so a request whose IssueInstant lies in the
        // past but within the skew cannot be replayed the next second.
        let until = valid_until.max(now + time::Duration::seconds(1));
        ids.insert_until(key, (), now, until)?;
        Ok(true)
    }

    /// The record of a flow (kept for [`limits::FLOWS_TTL`], the newest
    /// [`limits::FLOWS_MAX`]).
    pub fn flow(&self, request_id: &str) -> Option<FlowRecord> {
        lock(&self.flows)
            .get(&request_id.to_string(), self.clock.now())
            .cloned()
    }

    pub(crate) fn put_flow(&self, f: FlowRecord) {
        let now = self.clock.now();
        // Evicting never fails.
        let _ = lock(&self.flows).insert(f.request_id.clone(), f, now);
    }

    pub(crate) fn update_flow(&self, request_id: &str, f: impl FnOnce(&mut FlowRecord)) {
        if let Some(r) = lock(&self.flows).get_mut(&request_id.to_string(), self.clock.now()) {
            f(r)
        }
    }

    /// Fetches of the external-entity trap so far (at most [`limits::FETCHES_MAX`], fields
    /// cut to [`limits::FETCH_FIELD_MAX`] bytes).
    pub fn fetches(&self) -> Vec<FetchRecord> {
        lock(&self.fetches).clone()
    }

    pub(crate) fn record_fetch(&self, mut r: FetchRecord) {
        r.token = capped(&r.token, limits::FETCH_FIELD_MAX);
        r.peer = capped(&r.peer, limits::FETCH_FIELD_MAX);
        r.user_agent = r.user_agent.map(|u| capped(&u, limits::FETCH_FIELD_MAX));
        let mut v = lock(&self.fetches);
        if v.len() < limits::FETCHES_MAX {
            v.push(r);
        }
    }

    pub(crate) fn record_session(&self, session_index: &str, sp: &str, name_id: &str) {
        let now = self.clock.now();
        // Evicting never fails.
        let _ = lock(&self.sessions).insert(
            (sp.to_string(), session_index.to_string()),
            name_id.to_string(),
            now,
        );
    }

    /// End the SP's session `session_index` (an SP-initiated logout): the SLO session, the
    /// browser's SSO session it came from, and the flow records' note that the SP used SLO.
    pub(crate) fn end_session(&self, sp: &str, session_index: &str) -> Option<String> {
        let now = self.clock.now();
        let ended = lock(&self.sessions).take(&(sp.to_string(), session_index.to_string()), now);
        for f in lock(&self.flows).values_mut(now) {
            if f.session_index.as_deref() == Some(session_index) && f.sp_entity_id == sp {
                f.endpoints.insert(crate::observed::Endpoint::Slo);
            }
        }
        self.end_sso_sessions_with(session_index);
        ended
    }

    /// The NameID of a live SLO session.
    pub(crate) fn session_name_id(&self, sp: &str, session_index: &str) -> Option<String> {
        let now = self.clock.now();
        lock(&self.sessions)
            .get(&(sp.to_string(), session_index.to_string()), now)
            .cloned()
    }

    /// End the broker's own sessions (SLO and SSO) without marking the flow's SP as having
    /// used SLO (an IdP-initiated logout).
    pub(crate) fn forget_session(&self, sp: &str, session_index: &str) {
        let now = self.clock.now();
        let _ = lock(&self.sessions).take(&(sp.to_string(), session_index.to_string()), now);
        self.end_sso_sessions_with(session_index);
    }

    /// The live SSO session of a browser's cookie.
    pub(crate) fn sso_session(
        &self,
        cookie: Option<&str>,
    ) -> Option<crate::saml::sso_session::SsoSession> {
        let cookie = cookie?;
        if !self.sso_policy.enabled {
            return None;
        }
        lock(&self.sso_sessions)
            .get(&cookie.to_string(), self.clock.now())
            .cloned()
    }

    /// Start a browser's SSO session after a fresh authentication; returns the cookie value
    /// (`None` when sessions are off). A fresh value every time, so that a session never
    /// outlives a re-authentication under the old cookie.
    pub(crate) fn start_sso_session(
        &self,
        session: crate::saml::sso_session::SsoSession,
        replaces: Option<&str>,
    ) -> Option<String> {
        if !self.sso_policy.enabled {
            return None;
        }
        let now = self.clock.now();
        let value = uuid::Uuid::new_v4().simple().to_string();
        let mut t = lock(&self.sso_sessions);
        if let Some(old) = replaces {
            let _ = t.take(&old.to_string(), now);
        }
        // Evicting never fails.
        let _ = t.insert(value.clone(), session, now);
        Some(value)
    }

    /// The `Set-Cookie` value giving a browser its SSO session cookie.
    pub(crate) fn sso_set_cookie(&self, value: &str) -> String {
        crate::saml::sso_session::set_cookie(
            value,
            self.sso_lifetime,
            self.base_url.starts_with("https://"),
        )
    }

    /// Note a SessionIndex issued from a browser's SSO session.
    pub(crate) fn note_sso_session_index(&self, cookie: &str, session_index: &str) {
        let now = self.clock.now();
        if let Some(s) = lock(&self.sso_sessions).get_mut(&cookie.to_string(), now) {
            s.add_session_index(session_index);
        }
    }

    /// End every SSO session that issued `session_index`.
    fn end_sso_sessions_with(&self, session_index: &str) {
        let now = self.clock.now();
        lock(&self.sso_sessions).remove_where(now, |s| {
            s.session_indexes.iter().any(|i| i == session_index)
        });
    }

    pub(crate) fn record_idp_logout(&self, r: crate::saml::idp_logout::IdpLogoutRecord) {
        let now = self.clock.now();
        // Evicting never fails.
        let _ = lock(&self.idp_logouts).insert(r.logout_request_id.clone(), r, now);
    }

    /// The record of an IdP-initiated logout.
    pub fn idp_logout(&self, id: &str) -> Option<crate::saml::idp_logout::IdpLogoutRecord> {
        lock(&self.idp_logouts)
            .get(&id.to_string(), self.clock.now())
            .cloned()
    }

    pub(crate) fn update_idp_logout(
        &self,
        id: &str,
        f: impl FnOnce(&mut crate::saml::idp_logout::IdpLogoutRecord),
    ) {
        let now = self.clock.now();
        if let Some(r) = lock(&self.idp_logouts).get_mut(&id.to_string(), now) {
            f(r);
        }
    }

    /// The fetch-trap URL for a flow.
    pub fn fetch_trap_url(&self, token: &str) -> String {
        format!(
            "{}/_mock/fetch/{}",
            self.base_url,
            url::form_urlencoded::byte_serialize(token.as_bytes()).collect::<String>()
        )
    }
}

/// Entry point.
#[derive(Debug)]
pub struct Broker;

impl Broker {
    /// A builder with defaults: mock entityID, 127.0.0.1 ephemeral port, built-in identities,
    /// mock keys.
    pub fn builder() -> BrokerBuilder {
        BrokerBuilder::default()
    }
}

/// A broker serving in the background. Dropping it stops the server.
#[derive(Debug)]
pub struct RunningBroker {
    addr: SocketAddr,
    state: Arc<BrokerState>,
    oidc: Option<Arc<crate::oidc::OidcProvider>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    join: Option<tokio::task::JoinHandle<()>>,
}

impl RunningBroker {
    /// Listen address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Base URL.
    pub fn base_url(&self) -> &str {
        &self.state.base_url
    }

    /// IdP metadata URL.
    pub fn metadata_url(&self) -> &str {
        &self.state.metadata_url
    }

    /// SSO URL.
    pub fn sso_url(&self) -> &str {
        &self.state.sso_url
    }

    /// The OIOSAML 4.0 SSO (= SLO) URL.
    pub fn sso4_url(&self) -> &str {
        &self.state.sso4_url
    }

    /// Where the OIOSAML 4.0 IdP metadata is served.
    pub fn metadata4_url(&self) -> &str {
        &self.state.metadata4_url
    }

    /// The OIOSAML 4.0 IdP metadata document.
    pub fn metadata4_xml(&self) -> String {
        crate::saml::endpoint::metadata4_xml(&self.state)
    }

    /// entityID.
    pub fn entity_id(&self) -> &str {
        &self.state.entity_id
    }

    /// Shared state (arming, flows, fetches).
    pub fn state(&self) -> &Arc<BrokerState> {
        &self.state
    }

    /// The OIDC provider, when enabled.
    pub fn oidc(&self) -> Option<&Arc<crate::oidc::OidcProvider>> {
        self.oidc.as_ref()
    }

    /// The control token HTTP callers of the control API must send as
    /// `Authorization: Bearer <token>`; `None` when disabled
    /// ([`BrokerBuilder::control_token`]). An in-process
    /// [`ControlClient`](crate::control::ControlClient) needs none.
    pub fn control_token(&self) -> Option<&str> {
        self.state.control.token()
    }

    /// The IdP metadata document.
    pub fn metadata_xml(&self) -> String {
        crate::saml::endpoint::metadata_xml(&self.state)
    }

    /// Arm a login (see [`BrokerState::arm`]).
    pub fn arm(&self, request_id: &str, login: ArmedLogin) -> Result<(), ArmError> {
        self.state.arm(request_id, login)
    }

    /// Flow record.
    pub fn flow(&self, request_id: &str) -> Option<FlowRecord> {
        self.state.flow(request_id)
    }

    /// Re-read SP metadata sources (files or URLs) and make the SPs they list the registered
    /// ones, replacing all others. All or nothing: when a source cannot be read or parsed, the
    /// error is returned and the registered SPs stay as they were. `mitid-harness broker`
    /// calls it on SIGHUP. Returns the number of SPs now registered.
    pub async fn reload_sps(&self, sources: &[String]) -> Result<usize, BrokerError> {
        let mut sps = Vec::new();
        for src in sources {
            sps.extend(load_sp_source(src).await?);
        }
        let n = sps.len();
        self.state.replace_sps(sps);
        Ok(n)
    }

    /// A [`ControlClient`](crate::control::ControlClient) for this broker: the control
    /// protocol without HTTP, answering (and refusing) exactly as `/_mock/*` does.
    pub fn control(&self) -> crate::control::ControlClient {
        crate::control::ControlClient::in_process(self)
    }

    /// Stop serving and wait for the server task.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(j) = self.join.take() {
            let _ = j.await;
        }
    }
}

impl Drop for RunningBroker {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::FixedClock;
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    const REDIRECT: &str = "http://127.0.0.1:9/cb";

    /// One code flow for client `rp` as `anna` over HTTP; the ID token's claims.
    async fn id_token_claims(broker: &RunningBroker) -> serde_json::Value {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()
            .unwrap();
        let discovery = broker
            .oidc()
            .expect("OIDC is on by default")
            .discovery_url("signaturgruppen")
            .unwrap();
        let meta: serde_json::Value = http
            .get(discovery)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let mut authorize = url::Url::parse(meta["authorization_endpoint"].as_str().unwrap())
            .expect("authorization endpoint");
        authorize.query_pairs_mut().extend_pairs([
            ("response_type", "code"),
            ("client_id", "rp"),
            ("redirect_uri", REDIRECT),
            ("scope", "openid mitid ssn"),
            ("state", "clock-state"),
            ("nonce", "clock-nonce"),
            ("mock_identity", "anna"),
        ]);
        let resp = http.get(authorize.as_str()).send().await.unwrap();
        assert_eq!(resp.status(), 302, "{}", resp.text().await.unwrap());
        let location = url::Url::parse(resp.headers()["location"].to_str().unwrap()).unwrap();
        let code = location
            .query_pairs()
            .find(|(k, _)| k == "code")
            .map(|(_, v)| v.into_owned())
            .expect("a code");
        let tokens: serde_json::Value = http
            .post(meta["token_endpoint"].as_str().unwrap())
            .basic_auth("rp", Some("mock-secret"))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let jwt = tokens["id_token"].as_str().expect("an ID token");
        let payload = jwt.split('.').nth(1).unwrap();
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
    }

    /// The broker records which endpoints the RP used per flow, in process and over the
    /// control API, and restores rotated keys.
    #[tokio::test]
    async fn oidc_flow_records_name_the_endpoints_used() {
        use crate::Endpoint;
        use crate::oidc::{FlowKey, OidcFlowRecord};
        let broker = Broker::builder()
            .oidc_client(crate::oidc::ClientConfig::with_secret(
                "rp",
                "mock-secret",
                REDIRECT,
            ))
            .start()
            .await
            .unwrap();
        let provider = broker.oidc().unwrap().clone();
        let key = FlowKey::State("clock-state".into());
        assert_eq!(provider.flow_record(&key), None);
        let claims = id_token_claims(&broker).await;
        let r = provider.flow_record(&key).expect("a record");
        assert_eq!(
            r.endpoints,
            [Endpoint::Authorize, Endpoint::Token].into(),
            "no userinfo call yet: {r:?}"
        );
        assert_eq!(
            (
                r.identity.as_deref(),
                r.client_id.as_str(),
                r.issuer.as_str()
            ),
            (Some("anna"), "rp", "signaturgruppen")
        );
        assert_eq!(r.session_id.as_deref(), claims["neb_sid"].as_str());
        assert_eq!(r.token_redemptions, 1);

        // Over the control API, as the harness reads an external broker.
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        let read = |key: serde_json::Value| {
            let http = http.clone();
            let url = format!("{}/_mock/oidc/flow", broker.base_url());
            let token = broker.control_token().unwrap().to_string();
            async move {
                http.post(url)
                    .bearer_auth(token)
                    .json(&serde_json::json!({ "key": key }))
                    .send()
                    .await
                    .unwrap()
            }
        };
        let resp = read(serde_json::json!({"state": "clock-state"})).await;
        assert_eq!(resp.status(), 200);
        let over_http: OidcFlowRecord = resp.json().await.unwrap();
        assert_eq!(over_http, r);
        let resp = read(serde_json::json!({"state": "no-such-flow"})).await;
        assert_eq!(resp.status(), 404);

        // Restoring keys after a rotation publishes the start set again.
        let before = provider.published_kids("signaturgruppen").unwrap();
        provider.rotate_signing_key("signaturgruppen").unwrap();
        assert_ne!(provider.published_kids("signaturgruppen").unwrap(), before);
        let resp = http
            .post(format!("{}/_mock/oidc/restore-keys", broker.base_url()))
            .bearer_auth(broker.control_token().unwrap())
            .json(&serde_json::json!({"issuer": "signaturgruppen"}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(provider.published_kids("signaturgruppen").unwrap(), before);
    }

    #[tokio::test]
    async fn the_builder_clock_reaches_the_oidc_provider() {
        // Years from now, so the system clock cannot produce it by accident.
        let t = time::macros::datetime!(2031-02-03 04:05:06 UTC);
        let broker = Broker::builder()
            .clock(Arc::new(FixedClock::new(t)))
            .oidc_client(crate::oidc::ClientConfig::with_secret(
                "rp",
                "mock-secret",
                REDIRECT,
            ))
            .start()
            .await
            .unwrap();
        let claims = id_token_claims(&broker).await;
        assert_eq!(claims["iat"], t.unix_timestamp());
        assert_eq!(claims["exp"], t.unix_timestamp() + 300);
        // The SAML side reads the same clock.
        assert_eq!(broker.state().clock.now(), t);
    }

    fn flow(id: &str, at: OffsetDateTime) -> FlowRecord {
        FlowRecord {
            request_id: id.into(),
            sp_entity_id: "https://sp.example".into(),
            acs_url: "https://sp.example/acs".into(),
            relay_state: None,
            requested_loa: None,
            requested_profile: None,
            force_authn: false,
            is_passive: false,
            received_at: at,
            identity: None,
            loa: None,
            plan: FaultPlan::none(),
            response_b64: None,
            response_xml: None,
            encryption: None,
            error: None,
            endpoints: Default::default(),
            session_index: None,
            request_xml: None,
            assertion_xml: None,
            oiosaml: Default::default(),
            requested_profiles: Vec::new(),
            attribute_profile: None,
            app_switch: None,
            from_sso_session: false,
        }
    }

    #[tokio::test]
    async fn an_armed_login_is_consumed_once() {
        let broker = Broker::builder().oidc(None).start().await.unwrap();
        let st = broker.state();
        let login = ArmedLogin {
            identity: "anna".into(),
            loa: None,
            plan: FaultPlan::none().with(crate::Fault::UnsignedAssertion),
            profile: None,
        };
        st.arm("_r1", login.clone()).unwrap();
        assert_eq!(st.take_armed("_r2"), None, "arming is per request ID");
        assert_eq!(st.take_armed("_r1"), Some(login));
        assert_eq!(
            st.take_armed("_r1"),
            None,
            "a second login of the same ID is not armed"
        );
    }

    fn manual_broker_clock() -> Arc<crate::ManualClock> {
        Arc::new(crate::ManualClock::new(
            time::macros::datetime!(2026-01-01 00:00:00 UTC).unix_timestamp(),
        ))
    }

    #[tokio::test]
    async fn arming_is_bounded_in_count_key_size_and_time() {
        let clock = manual_broker_clock();
        let broker = Broker::builder()
            .oidc(None)
            .clock(clock.clone())
            .start()
            .await
            .unwrap();
        let st = broker.state();
        let login = ArmedLogin {
            identity: "anna".into(),
            loa: None,
            plan: FaultPlan::none(),
            profile: None,
        };
        let long = "_".repeat(200_000);
        assert_eq!(
            st.arm(&long, login.clone()),
            Err(ArmError::IdTooLong { len: 200_000 })
        );
        for i in 0..limits::ARMED_MAX {
            st.arm(&format!("_a{i}"), login.clone()).unwrap();
        }
        assert!(matches!(
            st.arm("_one-more", login.clone()),
            Err(ArmError::Full(_))
        ));
        assert!(st.take_armed("_a0").is_some(), "nothing live was dropped");
        clock.advance(limits::ARMED_TTL.whole_seconds());
        assert_eq!(st.take_armed("_a1"), None, "armed logins expire");
        st.arm("_after-expiry", login).unwrap();
        assert!(lock(&st.armed).len() <= limits::ARMED_MAX);
    }

    #[tokio::test]
    async fn a_request_id_stays_used_while_its_issue_instant_is_valid() {
        let clock = manual_broker_clock();
        let broker = Broker::builder()
            .oidc(None)
            .clock(clock.clone())
            .start()
            .await
            .unwrap();
        let st = broker.state();
        let valid_until = clock.now() + st.clock_skew;
        assert_eq!(st.first_use_of_request_id("_r", valid_until), Ok(true));
        // However many flow records come after, the ID stays used.
        let t = clock.now();
        for i in 0..(limits::FLOWS_MAX * 3) {
            st.put_flow(flow(&format!("_f{i}"), t));
        }
        assert_eq!(st.first_use_of_request_id("_r", valid_until), Ok(false));
        clock.advance(st.clock_skew.whole_seconds() - 1);
        assert_eq!(st.first_use_of_request_id("_r", valid_until), Ok(false));
        // Once the request itself would be refused as stale, the ID may be forgotten.
        clock.advance(2);
        assert_eq!(st.first_use_of_request_id("_r", valid_until), Ok(true));
    }

    #[tokio::test]
    async fn the_flow_table_keeps_the_newest_records() {
        let broker = Broker::builder().oidc(None).start().await.unwrap();
        let st = broker.state();
        let t0 = time::macros::datetime!(2026-01-01 00:00:00 UTC);
        for i in 0..(limits::FLOWS_MAX + 10) {
            st.put_flow(flow(&format!("_f{i}"), t0));
        }
        assert!(lock(&st.flows).len() <= limits::FLOWS_MAX);
        let newest = format!("_f{}", limits::FLOWS_MAX + 9);
        assert!(st.flow(&newest).is_some(), "the newest flow is kept");
    }

    #[tokio::test]
    async fn fetch_records_are_capped_in_size_and_count() {
        let broker = Broker::builder().oidc(None).start().await.unwrap();
        let st = broker.state();
        for _ in 0..3 {
            st.record_fetch(FetchRecord {
                token: "t".repeat(60_000),
                at: st.clock.now(),
                peer: "127.0.0.1:1".into(),
                user_agent: Some("u".repeat(300_000)),
            });
        }
        let f = st.fetches();
        assert_eq!(f.len(), 3);
        assert!(f[0].token.len() < limits::FETCH_FIELD_MAX + 64);
        assert!(f[0].user_agent.as_ref().unwrap().len() < limits::FETCH_FIELD_MAX + 64);
    }

    #[tokio::test]
    async fn update_flow_changes_only_a_known_flow() {
        let broker = Broker::builder().oidc(None).start().await.unwrap();
        let st = broker.state();
        st.put_flow(flow("_a", time::macros::datetime!(2026-01-01 00:00:00 UTC)));
        st.update_flow("_a", |f| f.identity = Some("anna".into()));
        st.update_flow("_unknown", |f| f.identity = Some("mallory".into()));
        assert_eq!(st.flow("_a").unwrap().identity.as_deref(), Some("anna"));
        assert!(
            st.flow("_unknown").is_none(),
            "updating never creates a flow"
        );
    }

    #[tokio::test]
    async fn a_session_ends_once_and_the_fetch_trap_url_is_escaped() {
        let broker = Broker::builder().oidc(None).start().await.unwrap();
        let st = broker.state();
        st.record_session("_s1", "https://sp.example", "name-id");
        st.record_session("_s1", "https://other.example", "other-name-id");
        assert_eq!(st.end_session("https://nobody.example", "_s1"), None);
        assert_eq!(
            st.end_session("https://sp.example", "_s1"),
            Some("name-id".into())
        );
        assert_eq!(st.end_session("https://sp.example", "_s1"), None);
        assert_eq!(
            st.session_name_id("https://other.example", "_s1")
                .as_deref(),
            Some("other-name-id"),
            "the same SessionIndex at another SP is another session"
        );
        // A logout of any SessionIndex an SSO session issued ends the SSO session too.
        let sso = |si: &str| crate::saml::sso_session::SsoSession {
            identity: "anna".into(),
            kind: crate::IdentityKind::Person,
            loa: Loa::Substantial,
            authn_instant: st.clock.now(),
            session_index: si.into(),
            session_indexes: vec![si.into()],
        };
        let c1 = st.start_sso_session(sso("_s2"), None).unwrap();
        let c2 = st.start_sso_session(sso("_s3"), None).unwrap();
        st.note_sso_session_index(&c1, "_s4");
        st.record_session("_s4", "https://sp.example", "name-id");
        st.end_session("https://sp.example", "_s4");
        assert_eq!(st.sso_session(Some(&c1)), None);
        assert!(st.sso_session(Some(&c2)).is_some());
        st.forget_session("https://sp.example", "_s3");
        assert_eq!(st.sso_session(Some(&c2)), None);
        let c3 = st.start_sso_session(sso("_s5"), None).unwrap();
        let c4 = st.start_sso_session(sso("_s6"), Some(&c3)).unwrap();
        assert_eq!(st.sso_session(Some(&c3)), None, "replaced");
        assert!(st.sso_session(Some(&c4)).is_some());
        let url = st.fetch_trap_url("a/b c");
        assert!(url.starts_with(broker.base_url()));
        assert!(url.ends_with("/_mock/fetch/a%2Fb+c"), "{url}");
    }
}
