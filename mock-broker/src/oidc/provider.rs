//! The provider's state: issuers with their key rings, clients, in-flight logins, codes,
//! tokens, armed fault plans and the injected clock; plus the admin API.
//!
//! All mutable per-flow state sits behind one mutex with short critical sections (no I/O or
//! signing while it is held). Every map is bounded by `max_entries` and entries expire, so
//! a client that starts logins and never finishes them cannot grow memory without bound.

use super::claims::ClaimSet;
use super::client_auth::ClientKey;
use super::config::{ClientConfig, EndpointPaths, IssuerConfig, OidcConfig, OidcConfigError};
use super::dangerous::{FaultPlanError, OidcFaultPlan};
use super::keys::{KeyError, KeyRing, OidcKeys};
use crate::config::{Clock, SystemClock};
use crate::identity::IdentityStore;
use crate::nsis::Loa;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

/// Identifies one login flow for [`OidcProvider::arm`] and [`OidcProvider::preselect`].
///
/// The harness reads `state`, `nonce` and the PKCE `code_challenge` from the authorization URL
/// the RP sends the browser to, so all are known before the flow reaches the mock (an RP that
/// relies on PKCE alone sends neither state nor nonce). Lookup order at the authorization
/// endpoint is `state`, then `nonce`, then `code_challenge`, then `client_id`. A `client_id` key arms the next flow of
/// that client (use it only when flows of one client do not run concurrently). Plans are always
/// one-shot; a `client_id` preselection stays until replaced, `state`/`nonce` ones are one-shot.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlowKey {
    /// The RP's `state` parameter.
    State(String),
    /// The RP's `nonce` parameter.
    Nonce(String),
    /// The RP's PKCE `code_challenge` (unique per flow, like state).
    CodeChallenge(String),
    /// The RP's `client_id`.
    ClientId(String),
}

/// Why an admin call failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The fault plan is inconsistent or names an unknown key.
    #[error(transparent)]
    Plan(#[from] FaultPlanError),
    /// A plan is already armed for that key.
    #[error("a fault plan is already armed for {0:?}")]
    AlreadyArmed(FlowKey),
    /// No such identity.
    #[error("unknown test identity {0:?}")]
    UnknownIdentity(String),
    /// No such issuer.
    #[error("unknown issuer {0:?}")]
    UnknownIssuer(String),
    /// The key is empty.
    #[error("flow key must not be empty")]
    EmptyKey,
    /// Too many armed entries.
    #[error("too many armed plans or preselections")]
    Capacity,
}

/// Why the provider could not be built.
#[derive(Debug, thiserror::Error)]
pub enum OidcSetupError {
    /// The configuration is inconsistent.
    #[error(transparent)]
    Config(#[from] OidcConfigError),
    /// A key is missing or of the wrong type.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The base URL is not an absolute http(s) URL without path.
    #[error("public base URL {0:?} must be http(s)://host[:port] without a path")]
    BaseUrl(String),
    /// A client's JWKS is malformed.
    #[error("client {client:?}: jwks {why}")]
    ClientJwks {
        /// Client id.
        client: String,
        /// What is wrong.
        why: String,
    },
    /// Discovery metadata could not be built (an endpoint URL did not parse).
    #[error("issuer {issuer:?}: discovery metadata: {why}")]
    Discovery {
        /// Issuer id.
        issuer: String,
        /// What is wrong.
        why: String,
    },
    /// The control token is unusable.
    #[error("control token: {0}")]
    ControlToken(String),
}

/// One served issuer.
#[derive(Debug)]
pub(crate) struct Issuer {
    pub(crate) cfg: IssuerConfig,
    /// Issuer identifier: base URL + path.
    pub(crate) url: String,
    pub(crate) paths: EndpointPaths,
    pub(crate) ring: RwLock<KeyRing>,
    pub(crate) discovery_json: String,
}

impl Issuer {
    /// Absolute URL of an endpoint path.
    pub(crate) fn endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }
    /// Route path (below the server root) of an endpoint.
    pub(crate) fn route(&self, path: &str) -> String {
        format!("{}{path}", self.cfg.path)
    }
}

/// A registered (or development-accepted) client.
#[derive(Debug)]
pub(crate) struct Client {
    pub(crate) cfg: ClientConfig,
    pub(crate) keys: Vec<ClientKey>,
    /// Accepted through `dev_accept_any_loopback_client`.
    pub(crate) dev: bool,
}

impl Client {
    pub(crate) fn registered_at(&self, issuer_id: &str) -> bool {
        self.cfg.issuers.is_empty() || self.cfg.issuers.iter().any(|i| i == issuer_id)
    }
    /// A client without credentials must use PKCE and authenticates with `none`.
    pub(crate) fn is_public(&self) -> bool {
        self.dev || (self.cfg.client_secret.is_none() && self.cfg.jwks.is_none())
    }
}

/// How the authorization response travels back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ResponseMode {
    Query,
    Fragment,
    FormPost,
}

/// PKCE challenge methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PkceMethod {
    S256,
    Plain,
}

/// Which identities may complete a request, and at what level.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LoginPolicy {
    pub(crate) persons: bool,
    pub(crate) professionals: bool,
    /// The level the RP asked for (default Substantial, as Signaturgruppen documents).
    pub(crate) requested: Loa,
    /// The most this broker issues for professionals (Signaturgruppen: Substantial).
    pub(crate) professional_cap: Option<Loa>,
}

/// A validated authorization request.
#[derive(Debug, Clone)]
pub(crate) struct AuthRequest {
    pub(crate) issuer: usize,
    pub(crate) client_id: String,
    pub(crate) redirect_uri: String,
    pub(crate) mode: ResponseMode,
    pub(crate) scopes: Vec<String>,
    pub(crate) state: Option<String>,
    pub(crate) nonce: Option<String>,
    pub(crate) pkce: Option<(String, PkceMethod)>,
    pub(crate) policy: LoginPolicy,
}

/// A login waiting at the identity chooser.
#[derive(Debug, Clone)]
pub(crate) struct PendingLogin {
    pub(crate) req: AuthRequest,
    pub(crate) plan: Option<OidcFaultPlan>,
    pub(crate) expires_at: i64,
}

/// An identity picked for a flow ahead of time.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Preselection {
    pub(crate) identity: String,
    pub(crate) loa: Option<Loa>,
}

/// An issued authorization code.
#[derive(Debug, Clone)]
pub(crate) struct CodeGrant {
    pub(crate) req: AuthRequest,
    pub(crate) identity: String,
    pub(crate) loa: Loa,
    pub(crate) auth_time: i64,
    pub(crate) session_id: uuid::Uuid,
    pub(crate) transaction_id: uuid::Uuid,
    pub(crate) plan: Option<OidcFaultPlan>,
    pub(crate) expires_at: i64,
    pub(crate) redemptions: u32,
    pub(crate) access_tokens: Vec<String>,
}

/// An issued access token.
#[derive(Debug, Clone)]
pub(crate) struct AccessGrant {
    pub(crate) issuer: usize,
    pub(crate) userinfo: ClaimSet,
    pub(crate) plan: Option<OidcFaultPlan>,
    pub(crate) expires_at: i64,
    /// The flow the token was issued in (for its [`OidcFlowRecord`](super::observed::OidcFlowRecord)).
    pub(crate) flow: Option<FlowKey>,
}

/// A pushed authorization request.
#[derive(Debug, Clone)]
pub(crate) struct PushedRequest {
    pub(crate) issuer: usize,
    pub(crate) client_id: String,
    pub(crate) params: std::collections::BTreeMap<String, String>,
    pub(crate) expires_at: i64,
}

#[derive(Debug)]
pub(crate) struct Expiring<T> {
    pub(crate) value: T,
    pub(crate) expires_at: i64,
}

/// All per-flow state.
#[derive(Debug, Default)]
pub(crate) struct Flows {
    pub(crate) armed: HashMap<FlowKey, Expiring<OidcFaultPlan>>,
    pub(crate) preselected: HashMap<FlowKey, Expiring<Preselection>>,
    pub(crate) pending: HashMap<String, PendingLogin>,
    pub(crate) pushed: HashMap<String, PushedRequest>,
    pub(crate) codes: HashMap<String, CodeGrant>,
    pub(crate) tokens: HashMap<String, AccessGrant>,
    pub(crate) jtis: HashMap<String, i64>,
    pub(crate) records: HashMap<FlowKey, Expiring<super::observed::OidcFlowRecord>>,
}

/// A map full of live entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the mock broker holds too many in-flight entries; try again later")]
pub(crate) struct Full;

pub(crate) trait ExpiresAt {
    fn expires_at(&self) -> i64;
}
macro_rules! expires_at {
    ($($t:ty),*) => {$(impl ExpiresAt for $t { fn expires_at(&self) -> i64 { self.expires_at } })*};
}
expires_at!(PendingLogin, PushedRequest, CodeGrant, AccessGrant);
impl<T> ExpiresAt for Expiring<T> {
    fn expires_at(&self) -> i64 {
        self.expires_at
    }
}
impl ExpiresAt for i64 {
    fn expires_at(&self) -> i64 {
        *self
    }
}

/// Drops expired entries whenever the map has grown to a power of two (from 1024 on): amortised
/// constant work per insert, and a map never holds more than about twice its live entries, so
/// memory follows the live set rather than creeping up to the count cap over an hour.
pub(crate) fn sweep_on_growth<K: Eq + Hash, V: ExpiresAt>(map: &mut HashMap<K, V>, now: i64) {
    let n = map.len();
    if n >= 1024 && n.is_power_of_two() {
        map.retain(|_, v| v.expires_at() > now);
    }
}

/// Insert into a bounded map, evicting expired entries first when it is full.
pub(crate) fn bounded_insert<K: Eq + Hash, V: ExpiresAt>(
    map: &mut HashMap<K, V>,
    key: K,
    value: V,
    now: i64,
    max: usize,
) -> Result<(), Full> {
    sweep_on_growth(map, now);
    if map.len() >= max {
        map.retain(|_, v| v.expires_at() > now);
        if map.len() >= max {
            return Err(Full);
        }
    }
    map.insert(key, value);
    Ok(())
}

/// Insert into a bounded map that must never refuse: when it is full of live entries, the entry
/// closest to expiry makes room. For maps whose entries are only observations (flow records)
/// or bearer credentials that an RP uses seconds after it gets them (access tokens): losing
/// the oldest under sustained load costs at most a late userinfo call, while refusing would
/// fail every new login until an hour-long lifetime ran out.
pub(crate) fn evicting_insert<K: Eq + Hash + Clone, V: ExpiresAt>(
    map: &mut HashMap<K, V>,
    key: K,
    value: V,
    now: i64,
    max: usize,
) {
    sweep_on_growth(map, now);
    if map.len() >= max && !map.contains_key(&key) {
        map.retain(|_, v| v.expires_at() > now);
        while map.len() >= max.max(1) {
            let Some(oldest) = map
                .iter()
                .min_by_key(|(_, v)| v.expires_at())
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            map.remove(&oldest);
        }
    }
    map.insert(key, value);
}

/// Most flow records and most access tokens held at once (or `max_entries`, if lower). With a
/// one-hour lifetime, a count cap of `max_entries` (100 000) would let these two tables reach
/// hundreds of megabytes under a steady stream of logins (the soak benchmark measured about
/// 8 KiB per OIDC login); 10 000 is more than an hour of a whole harness run's flows and fills
/// in minutes at the broker's top rate, after which memory stays flat.
pub(crate) const EVICTING_MAX: usize = 10_000;

/// Token responses kept for [`OidcProvider::token_responses`]: the most recent ones only.
const ISSUED_KEEP: usize = 256;

/// A token response as the provider sent it to an RP on the back channel, kept so that reports
/// can show it: the browser (or the harness's agent) driving a login never sees it.
#[derive(Debug, Clone, Serialize)]
pub struct IssuedTokenResponse {
    /// The token endpoint that answered.
    pub token_endpoint: String,
    /// The JSON body sent (ID token, access token, ...).
    pub response: serde_json::Value,
    /// The flow's `state`, `nonce` and PKCE `code_challenge`, as far as the RP sent them.
    #[serde(skip)]
    keys: Vec<FlowKey>,
}

/// How long armed plans and preselections wait for their flow.
const ARM_TTL_SECS: i64 = 3600;

/// The mock OIDC provider. Build it with [`OidcProvider::new`], wrap it in an [`Arc`], and
/// serve [`OidcProvider::router`].
pub struct OidcProvider {
    pub(crate) base_url: String,
    pub(crate) config: OidcConfig,
    pub(crate) issuers: Vec<Issuer>,
    pub(crate) clients: HashMap<String, Arc<Client>>,
    pub(crate) identities: IdentityStore,
    pub(crate) keys: OidcKeys,
    pub(crate) clock: Arc<dyn Clock>,
    flows: Mutex<Flows>,
    issued: Mutex<VecDeque<IssuedTokenResponse>>,
    /// Who may call the control endpoints under `/_mock/oidc` (token, own authorities).
    pub(crate) control: crate::control::ControlAccess,
}

impl fmt::Debug for OidcProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OidcProvider")
            .field("base_url", &self.base_url)
            .field(
                "issuers",
                &self.issuers.iter().map(|i| &i.url).collect::<Vec<_>>(),
            )
            .field("clients", &self.clients.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl OidcProvider {
    /// Build a provider serving `config` at `base_url` (e.g. `http://127.0.0.1:8080`, the
    /// address RPs reach the server at), with the given test identities and mock keys.
    pub fn new(
        config: OidcConfig,
        base_url: &str,
        identities: IdentityStore,
        keys: OidcKeys,
    ) -> Result<Self, OidcSetupError> {
        config.validate()?;
        let base_url = base_url.trim_end_matches('/').to_string();
        match url::Url::parse(&base_url) {
            Ok(u)
                if matches!(u.scheme(), "http" | "https")
                    && u.has_host()
                    && u.path() == "/"
                    && u.query().is_none() => {}
            _ => return Err(OidcSetupError::BaseUrl(base_url)),
        }
        if config.dev_accept_any_loopback_client {
            tracing::warn!(
                "DEVELOPMENT SWITCH ON: the mock OIDC provider accepts ANY client_id whose redirect_uri is on loopback, without client authentication"
            );
        }
        let mut issuers = Vec::new();
        for cfg in &config.issuers {
            let url = format!("{base_url}{}", cfg.path);
            let ring = KeyRing::new(cfg, &keys)?;
            let paths = cfg.profile.endpoints();
            let discovery_json =
                super::discovery::metadata_json(cfg, &url, &paths).map_err(|why| {
                    OidcSetupError::Discovery {
                        issuer: cfg.id.clone(),
                        why,
                    }
                })?;
            issuers.push(Issuer {
                cfg: cfg.clone(),
                url,
                paths,
                ring: RwLock::new(ring),
                discovery_json,
            });
        }
        let mut clients = HashMap::new();
        for c in &config.clients {
            let keys = match &c.jwks {
                Some(j) => super::client_auth::parse_client_jwks(j).map_err(|why| {
                    OidcSetupError::ClientJwks {
                        client: c.client_id.clone(),
                        why,
                    }
                })?,
                None => vec![],
            };
            clients.insert(
                c.client_id.clone(),
                Arc::new(Client {
                    cfg: c.clone(),
                    keys,
                    dev: false,
                }),
            );
        }
        let control = crate::control::ControlAccess::new(Some(random_token()), &base_url, None);
        Ok(OidcProvider {
            base_url,
            control,
            config,
            issuers,
            clients,
            identities,
            keys,
            clock: Arc::new(SystemClock),
            flows: Mutex::new(Flows::default()),
            issued: Mutex::new(VecDeque::new()),
        })
    }

    /// Replace the clock (before wrapping the provider in an `Arc`). The broker passes its own
    /// ([`BrokerBuilder::clock`](crate::BrokerBuilder::clock)), so SAML and OIDC share one time.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Set the control token the control endpoints under `/_mock/oidc` require (default: a
    /// fresh random one, see [`OidcProvider::control_token`]); see
    /// [`ControlToken`](crate::control::ControlToken).
    pub fn with_control_token(
        mut self,
        token: &crate::control::ControlToken,
    ) -> Result<Self, OidcSetupError> {
        let t = token.resolve().map_err(OidcSetupError::ControlToken)?;
        self.control = crate::control::ControlAccess::new(t, &self.base_url, None);
        Ok(self)
    }

    /// Share the broker's control policy (one token for the SAML and OIDC control calls).
    pub(crate) fn with_control_access(mut self, access: crate::control::ControlAccess) -> Self {
        self.control = access;
        self
    }

    /// The token the control endpoints require as `Authorization: Bearer <token>`, unless
    /// disabled.
    pub fn control_token(&self) -> Option<&str> {
        self.control.token()
    }

    /// The public base URL given at construction.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The issuer identifier of an issuer id (`"signaturgruppen"` →
    /// `http://127.0.0.1:PORT/signaturgruppen/op`).
    pub fn issuer_url(&self, issuer_id: &str) -> Option<String> {
        self.issuer_by_id(issuer_id).map(|(_, i)| i.url.clone())
    }

    /// The discovery URL of an issuer id.
    pub fn discovery_url(&self, issuer_id: &str) -> Option<String> {
        self.issuer_url(issuer_id)
            .map(|u| format!("{u}/.well-known/openid-configuration"))
    }

    /// The `kid`s in an issuer's JWKS now.
    pub fn published_kids(&self, issuer_id: &str) -> Option<Vec<String>> {
        let (_, iss) = self.issuer_by_id(issuer_id)?;
        let ring = iss.ring.read().unwrap_or_else(|e| e.into_inner());
        Some(
            ring.published()
                .iter()
                .map(|k| k.kid().to_string())
                .collect(),
        )
    }

    pub(crate) fn issuer_by_id(&self, id: &str) -> Option<(usize, &Issuer)> {
        self.issuers
            .iter()
            .enumerate()
            .find(|(_, i)| i.cfg.id == id)
    }

    /// Now in Unix seconds, the unit of every JWT time claim and of the provider's expiries.
    pub(crate) fn now(&self) -> i64 {
        self.clock.now().unix_timestamp()
    }

    pub(crate) fn flows(&self) -> MutexGuard<'_, Flows> {
        // A panic while holding the lock cannot leave the maps half-updated in a way that
        // matters for a mock, so recover instead of poisoning every later request.
        self.flows.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Arm `plan` for the one login flow identified by `key` (see [`FlowKey`] for which key to
    /// use). The plan is consumed when that flow reaches the authorization endpoint.
    pub fn arm(&self, key: FlowKey, plan: OidcFaultPlan) -> Result<(), AdminError> {
        check_key(&key)?;
        plan.validate()?;
        for c in plan.credentials() {
            if self.keys.get(c).is_none() {
                return Err(FaultPlanError::UnknownCredential(c.to_string()).into());
            }
        }
        if let Some(id) = plan.userinfo_identity()
            && self.identities.get(id).is_none()
        {
            return Err(FaultPlanError::UnknownIdentity(id.to_string()).into());
        }
        let now = self.now();
        let mut flows = self.flows();
        if flows.armed.get(&key).is_some_and(|e| e.expires_at > now) {
            return Err(AdminError::AlreadyArmed(key));
        }
        let entry = Expiring {
            value: plan,
            expires_at: now + ARM_TTL_SECS,
        };
        bounded_insert(&mut flows.armed, key, entry, now, self.config.max_entries)
            .map_err(|_| AdminError::Capacity)
    }

    /// Log the flow identified by `key` in as `identity` (at `loa`, or the requested level)
    /// without showing the chooser.
    pub fn preselect(
        &self,
        key: FlowKey,
        identity: &str,
        loa: Option<Loa>,
    ) -> Result<(), AdminError> {
        check_key(&key)?;
        if self.identities.get(identity).is_none() {
            return Err(AdminError::UnknownIdentity(identity.to_string()));
        }
        let now = self.now();
        let entry = Expiring {
            value: Preselection {
                identity: identity.to_string(),
                loa,
            },
            expires_at: now + ARM_TTL_SECS,
        };
        let mut flows = self.flows();
        bounded_insert(
            &mut flows.preselected,
            key,
            entry,
            now,
            self.config.max_entries,
        )
        .map_err(|_| AdminError::Capacity)
    }

    /// Switch an issuer to its next signing key (per algorithm ring). The previous key stays in
    /// the JWKS; returns the active `kid`s afterwards.
    pub fn rotate_signing_key(&self, issuer_id: &str) -> Result<Vec<String>, AdminError> {
        let (_, iss) = self
            .issuer_by_id(issuer_id)
            .ok_or_else(|| AdminError::UnknownIssuer(issuer_id.to_string()))?;
        let mut ring = iss.ring.write().unwrap_or_else(|e| e.into_inner());
        let kids = ring.rotate();
        tracing::info!(issuer = issuer_id, ?kids, "rotated OIDC signing keys");
        Ok(kids)
    }

    /// Put an issuer's keys back as they were at start: the first key of each ring active, no
    /// previous key published. A run that rotated keys restores them afterwards, so a later
    /// scenario sees the key set it was written for (one RS256 key) whatever ran before it;
    /// returns the active `kid`s afterwards.
    pub fn restore_signing_keys(&self, issuer_id: &str) -> Result<Vec<String>, AdminError> {
        let (_, iss) = self
            .issuer_by_id(issuer_id)
            .ok_or_else(|| AdminError::UnknownIssuer(issuer_id.to_string()))?;
        let mut ring = iss.ring.write().unwrap_or_else(|e| e.into_inner());
        let kids = ring.restore();
        tracing::info!(issuer = issuer_id, ?kids, "restored OIDC signing keys");
        Ok(kids)
    }

    /// The token responses sent for the flow identified by `key` (a `state`, `nonce` or PKCE
    /// `code_challenge`; a `client_id` matches nothing), oldest first. Only the most recent
    /// responses are kept.
    pub fn token_responses(&self, key: &FlowKey) -> Vec<IssuedTokenResponse> {
        let issued = self.issued.lock().unwrap_or_else(|e| e.into_inner());
        issued
            .iter()
            .filter(|t| t.keys.contains(key))
            .cloned()
            .collect()
    }

    /// Keep a token response for [`Self::token_responses`].
    pub(crate) fn record_token_response(
        &self,
        req: &AuthRequest,
        token_endpoint: String,
        response: &serde_json::Value,
    ) {
        let keys = [
            req.state.clone().map(FlowKey::State),
            req.nonce.clone().map(FlowKey::Nonce),
            req.pkce
                .as_ref()
                .map(|(c, _)| FlowKey::CodeChallenge(c.clone())),
        ]
        .into_iter()
        .flatten()
        .collect();
        let mut issued = self.issued.lock().unwrap_or_else(|e| e.into_inner());
        if issued.len() >= ISSUED_KEEP {
            issued.pop_front();
        }
        issued.push_back(IssuedTokenResponse {
            token_endpoint,
            response: response.clone(),
            keys,
        });
    }

    /// Take the plan armed for a flow (state, nonce, code challenge, then client id).
    pub(crate) fn take_plan(&self, ids: FlowIds<'_>) -> Option<OidcFaultPlan> {
        let now = self.now();
        let mut flows = self.flows();
        for key in flow_keys(ids) {
            if let Some(e) = flows.armed.remove(&key)
                && e.expires_at > now
            {
                return Some(e.value);
            }
        }
        None
    }

    /// Find a preselection for a flow (state and nonce ones are consumed).
    pub(crate) fn take_preselection(&self, ids: FlowIds<'_>) -> Option<Preselection> {
        let now = self.now();
        let mut flows = self.flows();
        for key in flow_keys(ids) {
            let sticky = matches!(key, FlowKey::ClientId(_));
            let hit = match flows.preselected.get(&key) {
                Some(e) if e.expires_at > now => Some(e.value.clone()),
                _ => None,
            };
            if let Some(p) = hit {
                if !sticky {
                    flows.preselected.remove(&key);
                }
                return Some(p);
            }
        }
        None
    }

    /// Look up a client, or accept a loopback one under the development switch.
    pub(crate) fn client(
        &self,
        client_id: &str,
        redirect_uri: Option<&str>,
    ) -> Option<Arc<Client>> {
        if let Some(c) = self.clients.get(client_id) {
            return Some(c.clone());
        }
        if !self.config.dev_accept_any_loopback_client {
            return None;
        }
        let uri = redirect_uri?;
        if !is_loopback_url(uri) {
            return None;
        }
        tracing::warn!(
            client_id,
            redirect_uri = uri,
            "DEVELOPMENT SWITCH: accepting unregistered loopback client"
        );
        Some(Arc::new(Client {
            cfg: ClientConfig {
                client_id: client_id.to_string(),
                client_secret: None,
                jwks: None,
                redirect_uris: vec![uri.to_string()],
                post_logout_redirect_uris: vec![],
                issuers: vec![],
                token_endpoint_auth_method: None,
                id_token_signed_response_alg: None,
                public_service: false,
            },
            keys: vec![],
            dev: true,
        }))
    }
}

fn check_key(key: &FlowKey) -> Result<(), AdminError> {
    let v = match key {
        FlowKey::State(v)
        | FlowKey::Nonce(v)
        | FlowKey::CodeChallenge(v)
        | FlowKey::ClientId(v) => v,
    };
    if v.is_empty() {
        Err(AdminError::EmptyKey)
    } else {
        Ok(())
    }
}

/// The values that identify one authorization request.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FlowIds<'a> {
    pub state: Option<&'a str>,
    pub nonce: Option<&'a str>,
    pub code_challenge: Option<&'a str>,
    pub client_id: &'a str,
}

fn flow_keys(ids: FlowIds<'_>) -> Vec<FlowKey> {
    let FlowIds {
        state,
        nonce,
        code_challenge,
        client_id,
    } = ids;
    let mut v = Vec::with_capacity(4);
    if let Some(s) = state {
        v.push(FlowKey::State(s.to_string()));
    }
    if let Some(n) = nonce {
        v.push(FlowKey::Nonce(n.to_string()));
    }
    if let Some(c) = code_challenge {
        v.push(FlowKey::CodeChallenge(c.to_string()));
    }
    v.push(FlowKey::ClientId(client_id.to_string()));
    v
}

/// Whether a URL's host is a loopback address or `localhost`.
pub(crate) fn is_loopback_url(u: &str) -> bool {
    match url::Url::parse(u)
        .ok()
        .and_then(|u| u.host().map(|h| h.to_owned()))
    {
        Some(url::Host::Ipv4(a)) => a.is_loopback(),
        Some(url::Host::Ipv6(a)) => a.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// A fresh random token (256 bits, base64url).
pub(crate) fn random_token() -> String {
    let mut b = [0u8; 32];
    // aws-lc-rs's system RNG; failure here means the OS has no entropy, which no caller can fix.
    aws_lc_rs::rand::fill(&mut b).expect("the system random source is available");
    super::keys::b64url(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expired_entries_are_swept_as_a_map_grows_not_only_when_it_is_full() {
        let mut m: HashMap<u32, i64> = HashMap::new();
        // 5000 inserts, each live for 100 time units, one per unit: about 100 are live at once.
        for k in 0..5000u32 {
            let now = i64::from(k);
            bounded_insert(&mut m, k, now + 100, now, 100_000).unwrap();
            assert!(m.len() <= 2048, "{} entries at {k}", m.len());
        }
    }

    #[test]
    fn an_evicting_map_stays_at_its_cap_and_drops_the_entry_closest_to_expiry() {
        let mut m: HashMap<u32, i64> = HashMap::new();
        for k in 0..10u32 {
            evicting_insert(&mut m, k, 1_000 + i64::from(k), 0, 4);
            assert!(m.len() <= 4);
        }
        let mut keys: Vec<u32> = m.keys().copied().collect();
        keys.sort();
        assert_eq!(keys, vec![6, 7, 8, 9], "the newest four remain");
        // Expired entries go first, and re-inserting a present key evicts nothing.
        evicting_insert(&mut m, 9, 5_000, 0, 4);
        assert_eq!(m.len(), 4);
        evicting_insert(&mut m, 42, 5_000, 1_007, 4);
        let mut keys: Vec<u32> = m.keys().copied().collect();
        keys.sort();
        assert_eq!(keys, vec![8, 9, 42], "6 and 7 had expired at 1007");
    }

    #[test]
    fn loopback_detection() {
        assert!(is_loopback_url("http://127.0.0.1:8080/cb"));
        assert!(is_loopback_url("http://[::1]/cb"));
        assert!(is_loopback_url("http://LOCALHOST/cb"));
        assert!(!is_loopback_url("http://127.0.0.1.evil.example/cb"));
        assert!(!is_loopback_url("https://example.org/cb"));
        assert!(!is_loopback_url("not a url"));
    }

    #[test]
    fn bounded_maps_evict_expired_then_refuse() {
        let mut m: HashMap<u32, i64> = HashMap::new();
        bounded_insert(&mut m, 1, 5, 0, 2).unwrap();
        bounded_insert(&mut m, 2, 50, 0, 2).unwrap();
        // Full: entry 1 expires at 5, so at now=10 it is evicted.
        bounded_insert(&mut m, 3, 50, 10, 2).unwrap();
        assert_eq!(bounded_insert(&mut m, 4, 50, 10, 2), Err(Full));
        assert!(m.contains_key(&3) && !m.contains_key(&1));
    }

    #[test]
    fn flow_key_json_shape() {
        let k: FlowKey = serde_json::from_str(r#"{"state":"abc"}"#).unwrap();
        assert_eq!(k, FlowKey::State("abc".into()));
    }
}
