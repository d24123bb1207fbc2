//! A real OIOSAML 3 service provider for testing the harness itself.
//!
//! The strict configuration validates a login the way digst/OIOSAML.Java does (and refuses the
//! NemID-era vocabulary on top), with signature verification and decryption by `xml-sec`, an
//! implementation that shares no code with the broker's bergshamra signer. Each [`Flaw`] switches
//! off one [`Check`], so running the scenario catalogue against strict and flawed SPs shows that
//! every scenario discriminates: strict passes it, and some realistic bug makes it fail.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use mitid_mock_broker::Broker;
//! use mitid_reference::reference_sp::{Flaw, ReferenceSp, SpConfig};
//! let broker = Broker::builder().start().await?;
//! let sp = ReferenceSp::start(SpConfig::new(broker.metadata_xml()).flaw(Flaw::SkipAudience)).await?;
//! sp.register_with(&broker)?;
//! println!("log in at {}, ask {} who you are", sp.login_url(), sp.whoami_url());
//! # Ok(()) }
//! ```
//!
//! Routes: `GET /login` (302 to the broker with a signed AuthnRequest; `?mock_identity=anna`
//! is passed through to the mock broker), `POST /acs`, `GET /whoami` (200 JSON `{"uuid",
//! "name_id", "kind", "loa", "cpr", "cvr", "name"}` when logged in, else 401), `GET /protected`
//! (200 only when logged in), `GET /metadata`, `GET /logout` (local logout), `GET|POST /slo` (IdP-initiated logout on the Redirect
//! and POST bindings, [`slo`]; without a `SAMLRequest`, a local logout).

pub mod acs;
pub mod assertion;
pub mod authn_request;
pub mod check;
pub mod doctype;
pub mod flaw;
pub mod idp_metadata;
pub mod naive_dsig;
pub mod prefix;
pub mod privilege;
pub mod roundtrip;
pub mod server;
pub mod session;
pub mod slo;
pub mod sp_metadata;
pub mod xml;
pub mod xmldom;
pub mod xmlsec;

pub use check::{Check, Rejection};
pub use flaw::{Flaw, UnknownFlaw};
pub use idp_metadata::{IdpMetadata, IdpMetadataError};
pub use session::Login;

use base64::Engine;
use mitid_mock_broker::identity::IdentityKind;
use mitid_mock_broker::nsis::Loa;
use mitid_mock_broker::pki::{MockPki, RsaSigner};
pub use mitid_mock_broker::saml::oiosaml4::AttributeProfile;
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// How a reference SP is configured.
#[derive(Debug, Clone)]
pub struct SpConfig {
    /// The IdP metadata the SP trusts (the broker's `metadata_xml()`).
    pub idp_metadata_xml: String,
    /// The NSIS LoA the service requires (default Substantial).
    pub required_loa: Loa,
    /// A private SP (no CPR requested or reported).
    pub private_sp: bool,
    /// The deliberate weaknesses (empty = strict).
    pub flaws: BTreeSet<Flaw>,
    /// entityID (default `https://saml.reference-sp.mitid-harness.invalid/<port>`).
    pub entity_id: Option<String>,
    /// Attribute profile requested in the AuthnRequest (default none: persons and
    /// professionals are both accepted).
    pub profile: Option<IdentityKind>,
    /// Clock skew allowed on every timestamp (default 5 minutes, as OIOSAML.Java).
    pub clock_skew: time::Duration,
    /// Listen address (default `127.0.0.1:0`); must be loopback.
    pub bind: SocketAddr,
    /// OIOSAML 4.0 (`None`: the SP speaks 3.0.3). Give it the broker's 4.0 metadata
    /// (`metadata4_xml()`), whose SSO URL is the 4.0 endpoint.
    pub oiosaml4: Option<Oiosaml4Sp>,
    /// The OIO BPP privilege the SP makes a condition of logging in (`None`: none). A public
    /// SP with one requests `privilegesIntermediate` in its metadata and refuses a login whose
    /// list does not grant it within the user's own organisation ([`privilege`]).
    pub required_privilege: Option<String>,
}

/// How a reference SP speaks OIOSAML 4.0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Oiosaml4Sp {
    /// The attribute profiles it requests (`RequestedAttributeProfiles`), in order. An
    /// assertion must name one of them.
    pub requested_profiles: Vec<AttributeProfile>,
    /// The `specVersion` it requires. The 4.0 value is not publicly confirmed; the default is
    /// the mock broker's default, `OIO-SAML-4.0`.
    pub spec_version: String,
}

impl Oiosaml4Sp {
    /// What a service of this kind requests: a public one Person/DK and Professional/DK (the
    /// FoxIDs template's default), a private one Person/DK/WithoutCPR and Professional/DK.
    pub fn for_service(private_sp: bool) -> Self {
        let person = if private_sp {
            AttributeProfile::PersonDkWithoutCpr
        } else {
            AttributeProfile::PersonDk
        };
        Oiosaml4Sp {
            requested_profiles: vec![person, AttributeProfile::ProfessionalDk],
            spec_version: "OIO-SAML-4.0".into(),
        }
    }

    /// Request these profiles instead.
    pub fn requesting(mut self, profiles: impl IntoIterator<Item = AttributeProfile>) -> Self {
        self.requested_profiles = profiles.into_iter().collect();
        self
    }
}

impl SpConfig {
    /// A strict SP trusting this IdP metadata, requiring LoA Substantial.
    pub fn new(idp_metadata_xml: impl Into<String>) -> Self {
        SpConfig {
            idp_metadata_xml: idp_metadata_xml.into(),
            required_loa: Loa::Substantial,
            private_sp: false,
            flaws: BTreeSet::new(),
            entity_id: None,
            profile: None,
            clock_skew: time::Duration::minutes(5),
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            oiosaml4: None,
            required_privilege: None,
        }
    }

    /// Speak OIOSAML 4.0 (the IdP metadata must be the broker's 4.0 metadata).
    pub fn oiosaml4(mut self, o: Oiosaml4Sp) -> Self {
        self.oiosaml4 = Some(o);
        self
    }

    /// Required LoA.
    pub fn required_loa(mut self, loa: Loa) -> Self {
        self.required_loa = loa;
        self
    }

    /// Private SP.
    pub fn private_sp(mut self, yes: bool) -> Self {
        self.private_sp = yes;
        self
    }

    /// Add a flaw.
    pub fn flaw(mut self, f: Flaw) -> Self {
        self.flaws.insert(f);
        self
    }

    /// Add flaws.
    pub fn flaws(mut self, fs: impl IntoIterator<Item = Flaw>) -> Self {
        self.flaws.extend(fs);
        self
    }

    /// entityID.
    pub fn entity_id(mut self, e: impl Into<String>) -> Self {
        self.entity_id = Some(e.into());
        self
    }

    /// Requested attribute profile.
    pub fn profile(mut self, p: Option<IdentityKind>) -> Self {
        self.profile = p;
        self
    }

    /// Require this OIO BPP privilege to log a user in.
    pub fn required_privilege(mut self, privilege: impl Into<String>) -> Self {
        self.required_privilege = Some(privilege.into());
        self
    }

    /// Listen address.
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.bind = addr;
        self
    }
}

/// Why a reference SP did not start.
#[derive(Debug, thiserror::Error)]
pub enum SpStartError {
    /// The IdP metadata is unusable.
    #[error(transparent)]
    IdpMetadata(#[from] IdpMetadataError),
    /// xml-sec setup failed.
    #[error(transparent)]
    Crypto(#[from] xmlsec::CryptoSetupError),
    /// The mock SP key did not load.
    #[error("mock SP key: {0}")]
    Key(#[from] mitid_mock_broker::pki::PkiError),
    /// The mock SP credential has no private key.
    #[error("the mock SP credential has no private key")]
    NoPrivateKey,
    /// Not a loopback address.
    #[error("refusing to listen on {0}: the reference SP binds to loopback only")]
    NotLoopback(SocketAddr),
    /// Bind failed.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// Address.
        addr: SocketAddr,
        /// Cause.
        source: std::io::Error,
    },
}

/// Shared state of a running reference SP.
#[derive(Debug)]
pub struct SpState {
    pub(crate) config: SpConfig,
    pub(crate) entity_id: String,
    pub(crate) base_url: String,
    pub(crate) acs_url: String,
    pub(crate) idp: IdpMetadata,
    pub(crate) crypto: xmlsec::XmlCrypto,
    pub(crate) signer: RsaSigner,
    pub(crate) metadata_xml: String,
    pub(crate) sessions: session::Sessions,
    pub(crate) cookie_name: String,
    rejections: Mutex<Vec<Rejection>>,
    logins: Mutex<Vec<Login>>,
}

/// Most rejections / logins kept for inspection.
const MAX_RECORDS: usize = 10_000;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl SpState {
    pub(crate) fn has(&self, f: Flaw) -> bool {
        self.config.flaws.contains(&f)
    }

    pub(crate) fn record_rejection(&self, r: Rejection) {
        let mut v = lock(&self.rejections);
        if v.len() < MAX_RECORDS {
            v.push(r);
        }
    }

    pub(crate) fn record_login(&self, l: Login) {
        let mut v = lock(&self.logins);
        if v.len() < MAX_RECORDS {
            v.push(l);
        }
    }
}

/// Entry point.
#[derive(Debug)]
pub struct ReferenceSp;

impl ReferenceSp {
    /// Bind (loopback), build the metadata, and serve in the background.
    pub async fn start(config: SpConfig) -> Result<RunningSp, SpStartError> {
        if !config.bind.ip().is_loopback() {
            return Err(SpStartError::NotLoopback(config.bind));
        }
        let idp = IdpMetadata::parse(&config.idp_metadata_xml)?;
        let pki = MockPki::builtin();
        let key_der = pki.sp.key_pkcs8_der().ok_or(SpStartError::NoPrivateKey)?;
        let crypto = xmlsec::XmlCrypto::new(key_der, pki.sp.cert_der())?;
        let signer = pki.sp.rsa_signer()?;
        let listener = tokio::net::TcpListener::bind(config.bind)
            .await
            .map_err(|source| SpStartError::Bind {
                addr: config.bind,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| SpStartError::Bind {
            addr: config.bind,
            source,
        })?;
        let base_url = format!("http://{addr}");
        let entity_id = config.entity_id.clone().unwrap_or_else(|| {
            format!(
                "https://saml.reference-sp.mitid-harness.invalid/{}",
                addr.port()
            )
        });
        let acs_url = format!("{base_url}/acs");
        let metadata_xml = sp_metadata::write(&sp_metadata::SpMetadataParams {
            entity_id: &entity_id,
            acs_url: &acs_url,
            slo_url: &format!("{base_url}/slo"),
            cert_b64: &base64::engine::general_purpose::STANDARD.encode(pki.sp.cert_der()),
            private_sp: config.private_sp,
            flaws: &config.flaws,
            requests_privileges: config.required_privilege.is_some(),
        });
        let state = Arc::new(SpState {
            cookie_name: format!("refsp_{}", addr.port()),
            config,
            entity_id,
            base_url,
            acs_url,
            idp,
            crypto,
            signer,
            metadata_xml,
            sessions: session::Sessions::default(),
            rejections: Mutex::new(Vec::new()),
            logins: Mutex::new(Vec::new()),
        });
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let router = server::router(state.clone());
        let join = tokio::spawn(async move {
            let _ = axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        tracing::info!(base_url = %state.base_url, flaws = ?state.config.flaws, "reference SP listening");
        Ok(RunningSp {
            addr,
            state,
            shutdown: Some(tx),
            join: Some(join),
        })
    }
}

/// A reference SP serving in the background. Dropping it stops the server.
#[derive(Debug)]
pub struct RunningSp {
    addr: SocketAddr,
    state: Arc<SpState>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    join: Option<tokio::task::JoinHandle<()>>,
}

impl RunningSp {
    /// Listen address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> &str {
        &self.state.base_url
    }

    /// entityID.
    pub fn entity_id(&self) -> &str {
        &self.state.entity_id
    }

    /// ACS URL.
    pub fn acs_url(&self) -> &str {
        &self.state.acs_url
    }

    /// The SP metadata document.
    pub fn metadata_xml(&self) -> &str {
        &self.state.metadata_xml
    }

    /// Where the metadata is served.
    pub fn metadata_url(&self) -> String {
        format!("{}/metadata", self.state.base_url)
    }

    /// Where a browser starts the login.
    pub fn login_url(&self) -> String {
        format!("{}/login", self.state.base_url)
    }

    /// The session oracle (200 JSON when logged in, 401 otherwise).
    pub fn whoami_url(&self) -> String {
        format!("{}/whoami", self.state.base_url)
    }

    /// A page that is 200 only when logged in.
    pub fn protected_url(&self) -> String {
        format!("{}/protected", self.state.base_url)
    }

    /// The harness configuration for a run against this SP (SAML, its own required LoA and
    /// private-SP setting, whoami oracle on `uuid`).
    pub fn harness_config(&self, name: &str) -> mitid_harness::SpConfig {
        use mitid_harness::{OracleConfig, SpConfig as HarnessSp};
        use mitid_mock_broker::IdentityKind;
        let cfg = &self.state.config;
        use mitid_mock_broker::saml::oiosaml4::OiosamlVersion;
        let mut b = HarnessSp::builder(self.login_url());
        if let Some(p) = &cfg.required_privilege {
            b = b.required_privilege(p);
        }
        b.name(name)
            .sp_metadata(self.metadata_url())
            .required_loa(cfg.required_loa)
            .private_sp(cfg.private_sp)
            .oiosaml(if cfg.oiosaml4.is_some() {
                OiosamlVersion::V4
            } else {
                OiosamlVersion::V3
            })
            .profiles([IdentityKind::Person, IdentityKind::Professional])
            .oracle(OracleConfig::whoami_json(self.whoami_url(), "uuid"))
            .build()
            .expect("the reference SP's harness configuration is valid")
    }

    /// The flaws this SP runs with.
    pub fn flaws(&self) -> &BTreeSet<Flaw> {
        &self.state.config.flaws
    }

    /// The configuration.
    pub fn config(&self) -> &SpConfig {
        &self.state.config
    }

    /// Every rejection so far, oldest first (why the ACS refused each response).
    pub fn rejections(&self) -> Vec<Rejection> {
        lock(&self.state.rejections).clone()
    }

    /// Every accepted login so far, oldest first.
    pub fn logins(&self) -> Vec<Login> {
        lock(&self.state.logins).clone()
    }

    /// Parsed SP metadata, for registering with a broker.
    pub fn sp_metadata(
        &self,
    ) -> Result<
        mitid_mock_broker::saml::sp_metadata::SpMetadata,
        mitid_mock_broker::saml::sp_metadata::MetadataError,
    > {
        mitid_mock_broker::saml::sp_metadata::SpMetadata::parse(&self.state.metadata_xml)
    }

    /// Register this SP with a running broker (replacing an earlier registration).
    pub fn register_with(
        &self,
        broker: &mitid_mock_broker::RunningBroker,
    ) -> Result<(), mitid_mock_broker::saml::sp_metadata::MetadataError> {
        broker.state().register_sp(self.sp_metadata()?);
        Ok(())
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

impl Drop for RunningSp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
