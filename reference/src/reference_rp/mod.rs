//! A real OpenID Connect relying party for testing the harness's OIDC scenarios.
//!
//! The strict configuration logs users in through a Signaturgruppen- or Idura-style MitID
//! broker the way a careful private service should: authorization code flow with PKCE S256,
//! `state` and `nonce` bound to the browser session, discovery and JWKS from the broker, the
//! token endpoint with `client_secret_basic`, an ID token verified strictly ([`jws`],
//! [`id_token`]), RFC 9207 `iss` in the authorization response, the userinfo `sub` compared
//! with the ID token's, and the MitID checks on top ([`mitid`]). Each [`RpFlaw`] switches off
//! one check (or models one over-strict or mis-keyed RP), so running the scenario catalogue
//! against strict and flawed RPs shows that every OIDC scenario discriminates.
//!
//! Verification is hand-written on aws-lc-rs rather than delegated to a JOSE library, so that
//! each check is one visible `if` that a flaw can switch off; the broker signs with
//! `openidconnect`, so the two sides share no JOSE code.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use mitid_mock_broker::Broker;
//! use mitid_reference::reference_rp::{BrokerProfile, ReferenceRp, RpConfig, RpFlaw};
//! let bound = ReferenceRp::bind().await?;
//! let broker = Broker::builder()
//!     .oidc_client(bound.client_registration("rp-sg", "mock-rp-secret"))
//!     .start()
//!     .await?;
//! let issuer = broker.oidc().and_then(|p| p.issuer_url("signaturgruppen")).unwrap();
//! let config = RpConfig::new(&issuer, "rp-sg", "mock-rp-secret", BrokerProfile::Signaturgruppen)
//!     .flaw(RpFlaw::SkipNonce);
//! let rp = bound.start(config).await?;
//! println!("log in at {}, ask {} who you are", rp.login_url(), rp.whoami_url());
//! # Ok(()) }
//! ```
//!
//! Routes: `GET /login` (302 to the broker's authorization endpoint), `GET|POST /callback`
//! (the redirect URI, query or form_post), `GET /whoami` (200 `{"uuid","kind","loa"}` when
//! logged in, else 401), `GET /` (a page saying who is logged in).

pub mod flaw;
pub mod id_token;
pub mod jwe;
pub mod jwk;
pub mod jws;
pub mod mitid;
pub mod provider;
pub mod server;

pub use flaw::{KeyBytes, RpFlaw, UnknownRpFlaw};
pub use mitid::{BrokerProfile, MitidLogin};

use mitid_mock_broker::nsis::Loa;
use mitid_mock_broker::oidc::ClientConfig;
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;

/// The set of flaws an RP runs with (empty = strict).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Flaws(BTreeSet<RpFlaw>);

impl Flaws {
    /// Whether `f` is switched on.
    pub fn has(&self, f: RpFlaw) -> bool {
        self.0.contains(&f)
    }

    /// The key-confusion byte form, if that flaw is on.
    pub fn key_confusion(&self) -> Option<KeyBytes> {
        self.0.iter().find_map(|f| match f {
            RpFlaw::HsKeyConfusion(k) => Some(*k),
            _ => None,
        })
    }

    /// True when no flaw is on.
    pub fn is_strict(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromIterator<RpFlaw> for Flaws {
    fn from_iter<T: IntoIterator<Item = RpFlaw>>(iter: T) -> Self {
        Flaws(iter.into_iter().collect())
    }
}

/// How the authorization response comes back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResponseMode {
    /// Redirect with a query string (the default).
    #[default]
    Query,
    /// Auto-submitted HTML form (`response_mode=form_post`).
    FormPost,
}

/// What the RP keys its users by, as `/whoami` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RpUserKey {
    /// The MitID UUID / professional UUID (`uuid` in whoami; the default).
    #[default]
    MitidUuid,
    /// The broker's `sub` from the verified ID token: with the issuer, the user's identifier in
    /// OpenID Connect Core §2 (whoami adds `"sub"`). Run it with `user_key = "sub"`.
    Sub,
    /// DELIBERATELY WRONG: an RP meant to key users by `sub` that stores the broker's session
    /// id (Signaturgruppen `neb_sid`, Idura `sessionindex`) as the subject, so every login is a
    /// new user. It logs in and out correctly; only identity verdicts (`user_key = "sub"` with a
    /// whoami oracle) see the bug.
    SessionIdAsSub,
}

/// How the RP picks the key for an ID token without `kid`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KidlessKeys {
    /// Try every JWKS key suiting the algorithm (OpenID's
    /// `oidcc-client-test-kid-absent-multiple-jwks` allows it; the default).
    #[default]
    TryEach,
    /// Use the JWKS's one key for the algorithm, refetching once when the cached copy has none
    /// or several; with several even then, refuse (OIDC Core §10.1: with several keys a `kid`
    /// is required). What `openidconnect` does: correct, and sensitive to how many keys the
    /// broker publishes when the token arrives.
    OnlyKey,
}

/// How a reference RP is configured.
#[derive(Debug, Clone)]
pub struct RpConfig {
    /// Issuer identifier; discovery is `{issuer}/.well-known/openid-configuration`.
    pub issuer: String,
    /// Client id at the broker.
    pub client_id: String,
    /// Client secret (sent with `client_secret_basic`).
    pub client_secret: String,
    /// Which broker's claims to expect.
    pub profile: BrokerProfile,
    /// The NSIS level the service requires (default Substantial).
    pub required_loa: Loa,
    /// The deliberate weaknesses.
    pub flaws: Flaws,
    /// Response mode requested.
    pub response_mode: ResponseMode,
    /// Clock skew allowed on `exp`/`nbf`/`iat`, seconds (default 120).
    pub clock_skew_secs: i64,
    /// Send no `state`: CSRF protection rests on PKCE and the browser-bound pending login,
    /// as RFC 9700 §4.7.1 allows when the server supports PKCE (openid-client's quick start).
    pub omit_state: bool,
    /// Send no `nonce` (optional in the code flow); the ID token's nonce is then not checked.
    pub omit_nonce: bool,
    /// Never call userinfo: log in from the verified ID token alone. Correct only when the ID
    /// token carries the claims the service needs: Idura's does; Signaturgruppen's is minimal
    /// (the identity is at userinfo), so at Signaturgruppen such an RP finds no MitID UUID.
    pub skip_userinfo: bool,
    /// What users are keyed by.
    pub user_key: RpUserKey,
    /// Key choice for ID tokens without `kid`.
    pub kidless: KidlessKeys,
}

impl RpConfig {
    /// A strict RP for this issuer and client.
    pub fn new(issuer: &str, client_id: &str, client_secret: &str, profile: BrokerProfile) -> Self {
        RpConfig {
            issuer: issuer.to_string(),
            client_id: client_id.to_string(),
            client_secret: client_secret.to_string(),
            profile,
            required_loa: Loa::Substantial,
            flaws: Flaws::default(),
            response_mode: ResponseMode::Query,
            clock_skew_secs: 120,
            omit_state: false,
            omit_nonce: false,
            skip_userinfo: false,
            user_key: RpUserKey::MitidUuid,
            kidless: KidlessKeys::TryEach,
        }
    }

    /// Add a flaw.
    pub fn flaw(mut self, f: RpFlaw) -> Self {
        self.flaws.0.insert(f);
        self
    }

    /// Replace the flaws.
    pub fn flaws(mut self, f: impl IntoIterator<Item = RpFlaw>) -> Self {
        self.flaws = f.into_iter().collect();
        self
    }

    /// Require this level.
    pub fn required_loa(mut self, l: Loa) -> Self {
        self.required_loa = l;
        self
    }

    /// Ask for `response_mode=form_post`.
    pub fn response_mode(mut self, m: ResponseMode) -> Self {
        self.response_mode = m;
        self
    }

    /// Never call userinfo ([`RpConfig::skip_userinfo`]).
    pub fn skip_userinfo(mut self, yes: bool) -> Self {
        self.skip_userinfo = yes;
        self
    }

    /// Key users by this.
    pub fn user_key(mut self, k: RpUserKey) -> Self {
        self.user_key = k;
        self
    }

    /// How to pick the key of an ID token without `kid`.
    pub fn kidless(mut self, k: KidlessKeys) -> Self {
        self.kidless = k;
        self
    }

    /// Send no `state` / no `nonce` (see the fields).
    pub fn omit(mut self, state: bool, nonce: bool) -> Self {
        self.omit_state = state;
        self.omit_nonce = nonce;
        self
    }
}

/// Why an RP could not start.
#[derive(Debug, thiserror::Error)]
pub enum RpStartError {
    /// Binding the loopback listener failed.
    #[error("cannot bind the reference RP on loopback: {0}")]
    Bind(#[from] std::io::Error),
    /// The issuer is not an http(s) URL on loopback.
    #[error("issuer {0:?} must be an http(s) URL on loopback")]
    Issuer(String),
}

/// A reference RP's client registration: its secret (it authenticates with
/// `client_secret_basic`), its redirect URI, and the public JWKS of the key pairs it holds
/// ([`jwe::rp_keys`]): a signing key for private_key_jwt and an encryption key, as MitID RPs
/// register them.
fn registration(client_id: &str, secret: &str, redirect_uri: &str) -> ClientConfig {
    let mut client = ClientConfig::with_secret(client_id, secret, redirect_uri);
    client.jwks = jwe::rp_keys().map(jwe::RpKeys::public_jwks);
    client
}

/// Entry point: bind, register, start.
#[derive(Debug)]
pub struct ReferenceRp;

impl ReferenceRp {
    /// Bind a loopback port first, so the redirect URI is known before the broker (which needs
    /// the client registration at start) is running.
    pub async fn bind() -> Result<BoundRp, RpStartError> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        Ok(BoundRp { listener, addr })
    }

    /// Bind and start in one go (the broker must already know [`RunningRp::redirect_uri`]; use
    /// [`ReferenceRp::bind`] when it does not).
    pub async fn start(config: RpConfig) -> Result<RunningRp, RpStartError> {
        Self::bind().await?.start(config).await
    }
}

/// A bound but not yet serving RP.
#[derive(Debug)]
pub struct BoundRp {
    listener: tokio::net::TcpListener,
    addr: SocketAddr,
}

impl BoundRp {
    /// The redirect URI the RP will use.
    pub fn redirect_uri(&self) -> String {
        format!("http://{}/callback", self.addr)
    }

    /// The client registration for the mock broker (secret client, this redirect URI, and
    /// the RP's public keys as its `jwks`: see [`jwe`]).
    pub fn client_registration(&self, client_id: &str, secret: &str) -> ClientConfig {
        registration(client_id, secret, &self.redirect_uri())
    }

    /// Serve in the background.
    pub async fn start(self, config: RpConfig) -> Result<RunningRp, RpStartError> {
        let loopback = url::Url::parse(&config.issuer).ok().is_some_and(|u| {
            matches!(u.scheme(), "http" | "https")
                && matches!(u.host(), Some(url::Host::Ipv4(a)) if a.is_loopback())
        });
        if !loopback {
            return Err(RpStartError::Issuer(config.issuer));
        }
        let base_url = format!("http://{}", self.addr);
        let state = Arc::new(server::RpState::new(config, &base_url));
        let router = server::router(state.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(self.listener, router).await;
        });
        Ok(RunningRp {
            base_url,
            state,
            task,
        })
    }
}

/// A reference RP serving in the background. Dropping it stops the server.
#[derive(Debug)]
pub struct RunningRp {
    base_url: String,
    state: Arc<server::RpState>,
    task: tokio::task::JoinHandle<()>,
}

impl RunningRp {
    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }
    /// Where a browser starts the login.
    pub fn login_url(&self) -> String {
        format!("{}/login", self.base_url)
    }
    /// The identity oracle.
    pub fn whoami_url(&self) -> String {
        format!("{}/whoami", self.base_url)
    }
    /// The redirect URI.
    pub fn redirect_uri(&self) -> String {
        format!("{}/callback", self.base_url)
    }
    /// Why recent logins were refused, newest last (for test diagnostics).
    pub fn rejections(&self) -> Vec<String> {
        self.state.rejections()
    }
    /// The harness configuration for a run against this RP (OIDC, whoami oracle on `uuid`, the
    /// client registration for an in-process broker at the default issuer of its profile).
    pub fn harness_config(&self, name: &str) -> mitid_harness::SpConfig {
        use mitid_harness::scenario::Protocol;
        use mitid_harness::{OracleConfig, SpConfig};
        use mitid_mock_broker::IdentityKind;
        use mitid_mock_broker::oidc::Profile;
        let cfg = self.state.config();
        let profile = match cfg.profile {
            BrokerProfile::Signaturgruppen => Profile::Signaturgruppen,
            BrokerProfile::Idura => Profile::Idura,
        };
        let issuer = match profile {
            Profile::Signaturgruppen => "signaturgruppen",
            Profile::Idura => "idura",
        };
        let mut client = registration(&cfg.client_id, &cfg.client_secret, &self.redirect_uri());
        client.issuers = vec![issuer.to_string()];
        // An RP keyed by `sub` says so in sp.toml: the harness computes the `sub` to expect.
        let (user_key, field) = match cfg.user_key {
            RpUserKey::MitidUuid => (mitid_harness::UserKey::Uuid, "uuid"),
            RpUserKey::Sub | RpUserKey::SessionIdAsSub => (mitid_harness::UserKey::Sub, "sub"),
        };
        SpConfig::builder(self.login_url())
            .name(name)
            .protocol(Protocol::Oidc)
            .required_loa(cfg.required_loa)
            .profiles([IdentityKind::Person, IdentityKind::Professional])
            .private_sp(true)
            .oidc_profile(profile)
            .user_key(user_key)
            .oracle(OracleConfig::whoami_json(self.whoami_url(), field))
            .oidc_client(client)
            .build()
            .expect("the reference RP's harness configuration is valid")
    }
}

impl Drop for RunningRp {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Options for [`RpPair::start`].
#[derive(Debug, Clone, Copy, Default)]
pub struct PairOptions {
    /// ID token algorithm registered for both clients (default: the issuer's, RS256).
    pub id_token_alg: Option<mitid_mock_broker::oidc::SigningAlg>,
    /// Response mode both RPs ask for.
    pub response_mode: ResponseMode,
    /// Both RPs send no `state` ([`RpConfig::omit_state`]).
    pub omit_state: bool,
    /// Both RPs send no `nonce` ([`RpConfig::omit_nonce`]).
    pub omit_nonce: bool,
    /// Both RPs never call userinfo ([`RpConfig::skip_userinfo`]).
    pub skip_userinfo: bool,
    /// What both RPs key users by ([`RpConfig::user_key`]).
    pub user_key: RpUserKey,
    /// How both RPs pick the key of an ID token without `kid` ([`RpConfig::kidless`]).
    pub kidless: KidlessKeys,
    /// Override the issuers' `minimal_id_token` (default: each profile's, minimal for
    /// Signaturgruppen). An RP that never calls userinfo needs `Some(false)` to find the
    /// identity at Signaturgruppen.
    pub minimal_id_token: Option<bool>,
}

/// A mock broker with one client per profile and a reference RP for each, with the same flaws:
/// the usual fixture for running the OIDC catalogue.
#[derive(Debug)]
pub struct RpPair {
    /// The broker (SAML and OIDC on one server).
    pub broker: Arc<mitid_mock_broker::RunningBroker>,
    /// The RP of the Signaturgruppen-style issuer (client `rp-signaturgruppen`).
    pub signaturgruppen: RunningRp,
    /// The RP of the Idura-style issuer (client `rp-idura`).
    pub idura: RunningRp,
}

/// Why an [`RpPair`] could not start.
#[derive(Debug, thiserror::Error)]
pub enum PairStartError {
    /// An RP.
    #[error(transparent)]
    Rp(#[from] RpStartError),
    /// The broker.
    #[error(transparent)]
    Broker(#[from] mitid_mock_broker::BrokerError),
    /// The broker runs without OIDC.
    #[error("the broker has no OIDC provider")]
    NoOidc,
}

impl RpPair {
    /// The client secret both mock clients use.
    pub const SECRET: &'static str = "mock-reference-rp-secret";

    /// Start broker and both RPs.
    pub async fn start(
        flaws: impl IntoIterator<Item = RpFlaw> + Clone,
        opts: PairOptions,
    ) -> Result<RpPair, PairStartError> {
        let profiles = [
            ("signaturgruppen", BrokerProfile::Signaturgruppen),
            ("idura", BrokerProfile::Idura),
        ];
        let mut bound = Vec::new();
        let mut builder = mitid_mock_broker::Broker::builder();
        if let Some(minimal) = opts.minimal_id_token {
            let mut cfg = mitid_mock_broker::oidc::OidcConfig::default();
            for iss in &mut cfg.issuers {
                iss.minimal_id_token = Some(minimal);
            }
            builder = builder.oidc(Some(cfg));
        }
        for (issuer, _) in profiles {
            let b = ReferenceRp::bind().await?;
            let mut client = b.client_registration(&format!("rp-{issuer}"), Self::SECRET);
            client.issuers = vec![issuer.to_string()];
            client.id_token_signed_response_alg = opts.id_token_alg;
            builder = builder.oidc_client(client);
            bound.push(b);
        }
        let broker = builder.start().await?;
        let provider = broker.oidc().ok_or(PairStartError::NoOidc)?.clone();
        let mut rps = Vec::new();
        for (b, (issuer, profile)) in bound.into_iter().zip(profiles) {
            let url = provider.issuer_url(issuer).ok_or(PairStartError::NoOidc)?;
            let cfg = RpConfig::new(&url, &format!("rp-{issuer}"), Self::SECRET, profile)
                .flaws(flaws.clone())
                .response_mode(opts.response_mode)
                .omit(opts.omit_state, opts.omit_nonce)
                .skip_userinfo(opts.skip_userinfo)
                .user_key(opts.user_key)
                .kidless(opts.kidless);
            rps.push(b.start(cfg).await?);
        }
        let idura = rps.pop().ok_or(PairStartError::NoOidc)?;
        let signaturgruppen = rps.pop().ok_or(PairStartError::NoOidc)?;
        Ok(RpPair {
            broker: Arc::new(broker),
            signaturgruppen,
            idura,
        })
    }

    /// Both RPs, Signaturgruppen first.
    pub fn rps(&self) -> [&RunningRp; 2] {
        [&self.signaturgruppen, &self.idura]
    }
}
