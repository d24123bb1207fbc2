//! The scenario runner: drives the SP through the broker like a browser, arms each flow's fault
//! plan, asks the oracle, and turns what the SP did into a verdict.

use crate::agent::{Agent, AgentError, Exchange, Page, find_form};
use crate::gate::{Baseline, BaselineError, GatePolicy};
use crate::grade::{Grade, SignedPart};
use crate::oracle::{Evidence, Observation, OidcSubject, Oracle, expected_key_in, same_identity};
use crate::report::{RunReport, ScenarioResult, StepResult, Verdict};
use crate::scenario::{
    AuthorizationRequestSeen, Catalogue, Expect, Jar, OidcLogin, Protocol, SamlLogin, Scenario,
    SpFacts, Step, StepBody,
};
use crate::sp::SpConfig;
use mitid_mock_broker::config::{Clock, SystemClock};
use mitid_mock_broker::control::{
    BrokerRefusal, ControlClient, ControlClientError, FlowRecordRequest, OidcArmRequest,
    PreselectRequest, RestoreKeysRequest, RotateRequest, SamlArmRequest,
};
use mitid_mock_broker::oidc::{FlowKey, OidcFlowRecord};
use mitid_mock_broker::saml::oiosaml4::{AttributeProfile, OiosamlVersion};
use mitid_mock_broker::saml::{authn_request, redirect};
use mitid_mock_broker::{ArmedLogin, Broker, Fault, IdentityStore, RunningBroker};
use std::sync::Arc;
use std::time::{Duration, Instant};

mod forged;
mod logout;
#[cfg(test)]
mod tests;

/// Errors setting up a run (configuration, broker start). Per-scenario problems are verdicts,
/// not errors.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Broker failed to start.
    #[error("mock broker: {0}")]
    Broker(#[from] mitid_mock_broker::BrokerError),
    /// Identities file.
    #[error(transparent)]
    Identities(#[from] mitid_mock_broker::IdentityError),
    /// Configuration.
    #[error("configuration: {0}")]
    Config(String),
    /// The gate's baseline file.
    #[error(transparent)]
    Baseline(#[from] BaselineError),
    /// A file the `[broker]` options name (identities, IdP key).
    #[error("[broker]: {0}")]
    BrokerOptions(#[from] mitid_mock_broker::ApplyOptionsError),
}

/// How the harness reaches the broker. Either way it is controlled through one
/// [`ControlClient`] (in process: direct calls; external: HTTP), with the same typed requests
/// and the same refusals.
#[derive(Debug, Clone)]
pub enum BrokerLink {
    /// A broker running in this process.
    InProcess(Arc<RunningBroker>),
    /// A broker running elsewhere on loopback, controlled over its HTTP control API.
    External {
        /// The control client (it knows the base URL).
        control: ControlClient,
        /// Identities the external broker knows (assumed: built-ins unless configured).
        identities: Arc<IdentityStore>,
    },
}

/// Flow facts the runner needs back from the broker.
#[derive(Debug, Clone, Default)]
struct FlowFacts {
    fetched: bool,
}

/// Why an OIOSAML 4.0 login step does not apply to an SP that requested these attribute
/// profiles: it logs in with a profile the SP did not request (the broker would refuse to
/// choose it), or its fault presents a profile the SP did request as if it were a wrong one.
/// Known only once the AuthnRequest is seen. An SP that requests no profile gets the broker's
/// default and is judged as requesting every one.
fn profile_not_applicable(step: &SamlLogin, requested: &[AttributeProfile]) -> Option<String> {
    let names = || {
        requested
            .iter()
            .map(|p| p.uri())
            .collect::<Vec<_>>()
            .join(", ")
    };
    if requested.is_empty() {
        return step
            .plan
            .faults
            .iter()
            .any(|f| matches!(f, Fault::AttributeProfile { .. }))
            .then(|| {
                "not applicable: the SP requests no attribute profile (no RequestedAttributeProfiles), so no profile is one it did not request".to_string()
            });
    }
    if let Some(p) = step.profile
        && !requested.contains(&p)
    {
        return Some(format!(
            "not applicable: the scenario logs in with attribute profile {p}, which the SP does not request (it requests {})",
            names()
        ));
    }
    step.plan.faults.iter().find_map(|f| match f {
        Fault::AttributeProfile { profile } if requested.contains(profile) => Some(format!(
            "not applicable: the scenario presents attribute profile {profile} as one the SP did not request, but the SP requests it ({})",
            names()
        )),
        _ => None,
    })
}

/// Why arming a flow failed, in a sentence for an INCONCLUSIVE verdict.
fn control_failed(what: &str, e: ControlClientError) -> String {
    format!("cannot {what} at the broker: {e}")
}

impl BrokerLink {
    /// The control client: the one way the runner arms flows and reads facts back.
    fn control(&self) -> ControlClient {
        match self {
            BrokerLink::InProcess(b) => b.control(),
            BrokerLink::External { control, .. } => control.clone(),
        }
    }

    fn base_url(&self) -> String {
        self.control().base_url().to_string()
    }

    /// The SSO URL of an OIOSAML version (the broker serves 3.0.3 and 4.0 side by side).
    fn sso_url_of(&self, v: OiosamlVersion) -> String {
        match v {
            OiosamlVersion::V3 => self.control().sso_url(),
            OiosamlVersion::V4 => self.control().sso4_url(),
        }
    }

    fn identities(&self) -> &IdentityStore {
        match self {
            BrokerLink::InProcess(b) => b.state().identities(),
            BrokerLink::External { identities, .. } => identities,
        }
    }

    async fn arm(&self, request_id: &str, login: ArmedLogin) -> Result<(), String> {
        let req = SamlArmRequest {
            request_id: request_id.to_string(),
            login,
        };
        self.control()
            .arm(&req)
            .await
            .map(|_| ())
            .map_err(|e| control_failed("arm the login", e))
    }

    /// Arm an OIDC login (identity + faults) for the flow with this key, and rotate the
    /// issuer's key first when asked.
    async fn arm_oidc(
        &self,
        key: FlowKey,
        identity: &str,
        loa: Option<mitid_mock_broker::Loa>,
        plan: mitid_mock_broker::oidc::OidcFaultPlan,
        rotate_issuer: Option<&str>,
    ) -> Result<(), String> {
        let control = self.control();
        if let Some(issuer) = rotate_issuer {
            let req = RotateRequest {
                issuer: issuer.to_string(),
            };
            control
                .oidc_rotate(&req)
                .await
                .map_err(|e| control_failed("rotate the signing key", e))?;
        }
        if !plan.faults.is_empty() {
            let req = OidcArmRequest {
                key: key.clone(),
                plan,
            };
            control
                .oidc_arm(&req)
                .await
                .map_err(|e| control_failed("arm the OIDC faults", e))?;
        }
        let req = PreselectRequest {
            key,
            identity: identity.to_string(),
            loa,
        };
        control
            .oidc_preselect(&req)
            .await
            .map(|_| ())
            .map_err(|e| control_failed("preselect the identity", e))
    }

    /// The broker's record of an OIDC flow (which endpoints the RP used), if it keeps one.
    async fn oidc_flow(&self, key: &FlowKey) -> Option<OidcFlowRecord> {
        self.control()
            .oidc_flow(&FlowRecordRequest { key: key.clone() })
            .await
            .ok()
    }

    /// Put the signing keys of these issuers back as at start, after a scenario rotated them.
    async fn restore_keys(&self, issuers: &[String]) {
        for iss in issuers {
            let req = RestoreKeysRequest {
                issuer: iss.clone(),
            };
            if let Err(e) = self.control().oidc_restore_keys(&req).await {
                tracing::warn!(issuer = %iss, "could not restore the OIDC signing keys: {e}");
            }
        }
    }

    /// The token responses the broker sent the RP for this flow (the back channel the agent
    /// never sees), for the transcript. An external broker's are not available.
    fn token_responses(&self, key: &FlowKey) -> Vec<mitid_mock_broker::oidc::IssuedTokenResponse> {
        match self {
            BrokerLink::InProcess(b) => {
                b.oidc().map(|p| p.token_responses(key)).unwrap_or_default()
            }
            BrokerLink::External { .. } => vec![],
        }
    }

    /// What the broker saw of a flow. A broker that cannot be asked reports nothing (the
    /// facts only add evidence, e.g. of an external-entity fetch).
    async fn facts(&self, request_id: &str) -> FlowFacts {
        let fetched = self
            .control()
            .fetches()
            .await
            .map(|v| v.iter().any(|f| f.token == request_id))
            .unwrap_or(false);
        FlowFacts { fetched }
    }
}

/// Why the broker refused a browser request, as it states it in
/// [`REFUSAL_HEADER`](mitid_mock_broker::control::REFUSAL_HEADER).
fn broker_refusal(page: &Page) -> Option<BrokerRefusal> {
    page.headers
        .get(mitid_mock_broker::control::REFUSAL_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(BrokerRefusal::from_header_value)
}

/// Builder of a [`Harness`] (wiremock-style fluent configuration).
#[derive(Debug)]
pub struct HarnessBuilder {
    sp: SpConfig,
    catalogue: Option<Catalogue>,
    concurrency: usize,
    broker: Option<BrokerLink>,
    inspect: bool,
    gate: Option<GatePolicy>,
    baseline: Option<Baseline>,
    clock: Option<Arc<dyn Clock>>,
}

impl HarnessBuilder {
    /// The gate policy (threshold, whether WARN blocks); default: sp.toml's `[gate]`.
    pub fn gate(mut self, policy: GatePolicy) -> Self {
        self.gate = Some(policy);
        self
    }

    /// Waivers the gate honours; default: the file sp.toml's `[gate] baseline` names, if any.
    pub fn baseline(mut self, b: Baseline) -> Self {
        self.baseline = Some(b);
        self
    }

    /// The clock whose date waivers expire against (default: the system clock).
    pub fn clock(mut self, c: Arc<dyn Clock>) -> Self {
        self.clock = Some(c);
        self
    }

    /// Run the inbound checks (SP metadata, certificates, captured AuthnRequests) and put them
    /// in the report (default on for SAML).
    pub fn inspect(mut self, yes: bool) -> Self {
        self.inspect = yes;
        self
    }

    /// The scenarios to run (default: the built-in catalogue for the SP's protocol).
    pub fn catalogue(mut self, c: Catalogue) -> Self {
        self.catalogue = Some(c);
        self
    }

    /// Scenarios run at the same time (default 4).
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// Use this running broker instead of starting one.
    pub fn broker(mut self, b: Arc<RunningBroker>) -> Self {
        self.broker = Some(BrokerLink::InProcess(b));
        self
    }

    /// Start the broker (unless given) and return the harness.
    pub async fn build(self) -> Result<Harness, RunError> {
        let oracle = Oracle::new(self.sp.oracle.clone()).map_err(RunError::Config)?;
        let broker = match self.broker {
            Some(b) => b,
            None => match &self.sp.broker.external {
                Some(url) => BrokerLink::External {
                    control: {
                        let c = ControlClient::new(url)
                            .map_err(|e| RunError::Config(format!("[broker] external: {e}")))?;
                        // The token that broker printed at start (or was given): sp.toml
                        // [broker] control_token, which the CLI also fills from
                        // --broker-control-token / MITID_BROKER_CONTROL_TOKEN.
                        match self.sp.broker.control_token() {
                            Some(t) => c.with_token(t),
                            None => c,
                        }
                    },
                    identities: Arc::new(match &self.sp.broker.options.identities {
                        Some(p) => IdentityStore::from_file(p)?,
                        None => IdentityStore::builtin(),
                    }),
                },
                None => BrokerLink::InProcess(Arc::new(start_broker(&self.sp).await?)),
            },
        };
        let catalogue = self
            .catalogue
            .unwrap_or_else(|| Catalogue::builtin().protocol(self.sp.protocol));
        let gate = self.gate.unwrap_or_else(|| self.sp.gate.clone());
        let baseline = match (self.baseline, &gate.baseline) {
            (Some(b), _) => Some(b),
            (None, Some(path)) => Some(Baseline::from_file(path)?),
            (None, None) => None,
        };
        Ok(Harness {
            sp: Arc::new(self.sp),
            catalogue,
            concurrency: self.concurrency,
            broker,
            oracle: Arc::new(oracle),
            inspect: self.inspect,
            key_set: Arc::default(),
            gate,
            baseline: baseline.map(Arc::new),
            clock: self.clock.unwrap_or_else(|| Arc::new(SystemClock)),
        })
    }
}

/// Start the in-process broker described by an `sp.toml`: its `[broker]` options, plus the
/// SP's own metadata and OIDC client registration.
pub(crate) async fn start_broker(sp: &SpConfig) -> Result<RunningBroker, RunError> {
    let mut options = sp.broker.options.clone();
    if let Some(md) = &sp.sp_metadata {
        options.sp_metadata.push(md.clone());
    }
    // sp.toml's `private_sp` is the SP's sector at NemLog-in: a private SP never gets CPR or
    // privileges, whatever it requests (unless [broker.release] says otherwise).
    if sp.private_sp && options.release.is_none() {
        options.release = Some(mitid_mock_broker::saml::release::ReleasePolicy {
            sector: mitid_mock_broker::saml::release::SpSector::Private,
            ..Default::default()
        });
    }
    let mut b = options.apply(Broker::builder())?;
    if let Some(c) = &sp.oidc_client {
        b = b.oidc_client(c.clone());
    }
    Ok(b.start().await?)
}

/// A configured run against one SP.
#[derive(Debug, Clone)]
pub struct Harness {
    sp: Arc<SpConfig>,
    catalogue: Catalogue,
    concurrency: usize,
    broker: BrokerLink,
    oracle: Arc<Oracle>,
    inspect: bool,
    /// The broker's OIDC signing keys: scenarios that rotate them hold this exclusively and
    /// restore the key set before letting go, every other OIDC scenario holds it shared, so no
    /// verdict depends on which scenario ran before or alongside.
    key_set: Arc<tokio::sync::RwLock<()>>,
    gate: GatePolicy,
    baseline: Option<Arc<Baseline>>,
    clock: Arc<dyn Clock>,
}

impl Harness {
    /// Start configuring a run for the SP.
    pub fn builder(sp: SpConfig) -> HarnessBuilder {
        HarnessBuilder {
            sp,
            catalogue: None,
            concurrency: 4,
            broker: None,
            inspect: true,
            gate: None,
            baseline: None,
            clock: None,
        }
    }

    /// Today, by the harness's clock: what waivers expire against.
    pub fn today(&self) -> time::Date {
        self.clock.now().date()
    }

    /// The broker link.
    pub fn broker(&self) -> &BrokerLink {
        &self.broker
    }

    /// The scenarios this harness runs.
    pub fn catalogue(&self) -> &Catalogue {
        &self.catalogue
    }

    /// Run every scenario; `on_result` is called as each finishes (progress bars).
    pub async fn run_with_progress(
        &self,
        on_result: impl Fn(&ScenarioResult) + Send + Sync + 'static,
    ) -> RunReport {
        let started = Instant::now();
        let sem = Arc::new(tokio::sync::Semaphore::new(self.concurrency));
        let on_result = Arc::new(on_result);
        let mut handles = Vec::new();
        for s in self.catalogue.iter() {
            let s = s.clone();
            let me = self.clone();
            let sem = sem.clone();
            let cb = on_result.clone();
            handles.push(tokio::spawn(async move {
                let _permit = sem.acquire_owned().await;
                let r = me.run_scenario(&s).await;
                cb(&r);
                r
            }));
        }
        let mut results = if self.inspect && self.sp.protocol == Protocol::Saml {
            self.inbound_checks().await
        } else {
            Vec::new()
        };
        for h in handles {
            match h.await {
                Ok(r) => results.push(r),
                Err(e) => tracing::error!("scenario task failed: {e}"),
            }
        }
        RunReport::new(
            &self.sp.name,
            self.oracle.evidence(),
            results,
            started.elapsed(),
            self.gate.clone(),
            self.baseline.as_deref(),
            self.today(),
        )
    }

    /// Run every scenario.
    pub async fn run(&self) -> RunReport {
        self.run_with_progress(|_| {}).await
    }

    /// Capture two AuthnRequests from the SP's login start and inspect them and the SP's
    /// metadata (issue 7's inbound checks), as report entries of the `inspect` families.
    pub async fn inbound_checks(&self) -> Vec<ScenarioResult> {
        use crate::inspect::{self, CapturedAuthnRequest, CheckStatus, InspectOptions};
        let sso = self.broker.sso_url_of(self.sp.oiosaml);
        let mut captured = Vec::new();
        let mut transcript = Vec::new();
        for _ in 0..2 {
            let mut agent = self.agent();
            let mut url = self.sp.login_url.clone();
            for _ in 0..=agent.max_redirects() {
                let Ok(page) = agent.request("GET", &url, None).await else {
                    break;
                };
                let (300..=399, Some(loc)) = (page.status, page.location.clone()) else {
                    break;
                };
                let Ok(next) = Agent::resolve(&page, &loc) else {
                    break;
                };
                if next.starts_with(&sso) {
                    if let Ok(u) = url::Url::parse(&next) {
                        captured.push(CapturedAuthnRequest {
                            redirect_url: u,
                            captured_at: time::OffsetDateTime::now_utc(),
                        });
                    }
                    break;
                }
                url = next;
            }
            transcript.extend(agent.take_transcript());
        }
        let md_xml = match (&self.broker, captured.first()) {
            (BrokerLink::InProcess(b), Some(c)) => {
                let q = c.redirect_url.query().unwrap_or("");
                redirect::decode_query(q, "SAMLRequest")
                    .ok()
                    .and_then(|m| authn_request::parse(&m.xml).ok())
                    .and_then(|r| r.issuer)
                    .and_then(|iss| b.state().sp(&iss))
                    .map(|sp| sp.raw_xml.clone())
            }
            _ => None,
        };
        let md_xml = match md_xml {
            Some(x) => Some(x),
            None => match &self.sp.sp_metadata {
                Some(src) if src.starts_with("http") => {
                    mitid_mock_broker::broker::fetch_metadata(src).await.ok()
                }
                Some(path) => std::fs::read_to_string(path).ok(),
                None => None,
            },
        };
        let opts = InspectOptions {
            now: time::OffsetDateTime::now_utc(),
            broker_sso_url: Some(sso.clone()),
            required_loa: Some(self.sp.required_loa),
            expected_profile: if self.sp.profiles.len() == 1 {
                self.sp.profiles.first().copied()
            } else {
                None
            },
            private_sp: self.sp.private_sp,
            oiosaml: self.sp.oiosaml,
        };
        let mut findings = Vec::new();
        let mut second_id_check = None;
        if let Some(xml) = &md_xml {
            findings.extend(inspect::inspect_metadata(xml, &opts).findings);
        }
        if let (Some(xml), Some(first)) = (&md_xml, captured.first()) {
            if let Ok(sp) = mitid_mock_broker::saml::sp_metadata::SpMetadata::parse(xml) {
                findings.extend(inspect::inspect_authn_request(first, &sp, &opts).findings);
                if let Some(second) = captured.get(1) {
                    let seen: Vec<String> = redirect::decode_query(
                        first.redirect_url.query().unwrap_or(""),
                        "SAMLRequest",
                    )
                    .ok()
                    .and_then(|m| authn_request::parse(&m.xml).ok())
                    .map(|r| vec![r.id])
                    .unwrap_or_default();
                    let again =
                        inspect::inspect_authn_request_with_history(second, &sp, &opts, &seen);
                    second_id_check = again
                        .findings
                        .into_iter()
                        .find(|f| f.id == "authn-request.id");
                }
            }
        }
        let second = second_id_check.map(|mut f| {
            f.id = "authn-request.id-fresh-per-request";
            f.title = format!("{} (second login start)", f.title);
            f
        });
        let mut out: Vec<ScenarioResult> = findings
            .into_iter()
            .chain(second)
            .map(|f| {
                let family = match f.family {
                    inspect::Family::Metadata => "inspect-metadata",
                    inspect::Family::Certificate => "inspect-certificate",
                    inspect::Family::AuthnRequest => "inspect-authn-request",
                };
                let (verdict, prefix) = match f.status {
                    CheckStatus::Pass => (Verdict::Pass, ""),
                    CheckStatus::Warn => (Verdict::Pass, "warning: "),
                    CheckStatus::Fail => (Verdict::Fail, ""),
                    CheckStatus::Skipped => (Verdict::Skipped, ""),
                };
                ScenarioResult::inbound(
                    format!(
                        "{family}.{}",
                        f.id.split_once('.').map(|x| x.1).unwrap_or(f.id)
                    ),
                    f.title.clone(),
                    family.to_string(),
                    crate::scenario::Severity::from_inspect(f.severity),
                    verdict,
                    format!("{prefix}{}", f.detail),
                    f.rationale.to_string(),
                    f.references.iter().map(|s| s.to_string()).collect(),
                )
            })
            .collect();
        if md_xml.is_none() || captured.is_empty() {
            let why = match (md_xml.is_none(), captured.is_empty()) {
                (true, true) => "neither the SP metadata nor an AuthnRequest could be obtained",
                (true, false) => "the SP metadata could not be obtained",
                _ => "the login start did not reach the broker, so no AuthnRequest was captured",
            };
            let mut r = ScenarioResult::inbound(
                "inspect-authn-request.captured".into(),
                "AuthnRequests could be captured and inspected".into(),
                "inspect-authn-request".into(),
                crate::scenario::Severity::High,
                Verdict::Inconclusive,
                why.into(),
                "The inbound checks read the SP's metadata and the AuthnRequest its login start sends.".into(),
                vec![],
            );
            r.transcript = transcript;
            out.push(r);
        }
        out
    }

    fn agent(&self) -> Agent {
        let roots = if self.sp.broker.options.https {
            vec![
                mitid_mock_broker::pki::MockPki::builtin()
                    .tls_ca
                    .cert_der()
                    .to_vec(),
            ]
        } else {
            vec![]
        };
        Agent::new(
            Duration::from_millis(self.sp.agent.timeout_ms),
            self.sp.agent.max_redirects,
            &roots,
        )
    }

    /// Why a scenario does not apply to this SP, if it does not. The rules are the scenario's
    /// declared `applies` (evaluated by [`crate::scenario::Applies::skip_reason`]) plus two
    /// that follow from any scenario's shape: its protocol, and the identities its steps log in.
    pub fn skip_reason(&self, s: &Scenario) -> Option<String> {
        if s.protocol != self.sp.protocol {
            return Some(format!(
                "{:?} scenario; the SP speaks {:?}",
                s.protocol, self.sp.protocol
            ));
        }
        if let Some(why) = s.applies.skip_reason(&self.sp_facts()) {
            return Some(why);
        }
        for (st, id) in s.steps.iter().zip(self.step_identities(s)) {
            match self.broker.identities().get(&id) {
                None => return Some(format!("unknown identity {id:?}")),
                Some(i) if st.expect == Expect::Accept && !self.sp.profiles.contains(&i.kind) => {
                    return Some(format!(
                        "the SP does not accept {:?} logins (sp.toml profiles)",
                        i.kind
                    ));
                }
                _ => {}
            }
        }
        None
    }

    /// What `applies` rules are judged against: sp.toml, and the oracle's kind. The RP's OIDC
    /// broker is the configured one, or else the one issuer its client is registered with.
    fn sp_facts(&self) -> SpFacts<'_> {
        use mitid_mock_broker::oidc::Profile;
        let inferred = || match self.sp.oidc_client.as_ref().map(|c| c.issuers.as_slice()) {
            Some([one]) if one == "signaturgruppen" => Some(Profile::Signaturgruppen),
            Some([one]) if one == "idura" => Some(Profile::Idura),
            _ => None,
        };
        SpFacts {
            profiles: &self.sp.profiles,
            required_loa: self.sp.required_loa,
            private_sp: self.sp.private_sp,
            oiosaml: self.sp.oiosaml,
            identity_oracle: self.oracle.evidence() == Evidence::Whoami,
            oidc_profile: self.sp.oidc_profile.or_else(inferred),
            required_privilege: self.sp.privileges.as_ref().map(|p| p.required.as_str()),
        }
    }

    /// The issuers whose keys a rotating scenario may have rotated: the RP's client's, or
    /// the built-in ones.
    fn rotatable_issuers(&self) -> Vec<String> {
        match self.sp.oidc_client.as_ref().map(|c| &c.issuers) {
            Some(i) if !i.is_empty() => i.clone(),
            _ => vec!["signaturgruppen".into(), "idura".into()],
        }
    }

    /// The identity handle each step logs in (or, for a replay, the one the replayed login
    /// logged in), with the SP's default identity where a login names none.
    fn step_identities(&self, s: &Scenario) -> Vec<String> {
        let mut last: Option<String> = None;
        s.steps
            .iter()
            .map(|st| {
                let named = match &st.body {
                    StepBody::SamlLogin(l) => l.identity.clone(),
                    StepBody::OidcLogin(l) => l.identity.clone(),
                    StepBody::Replay | StepBody::IdpLogout(_) => last.clone(),
                    // The victim the headers name; a later replay still replays the login.
                    StepBody::ForgedHeaders(f) => {
                        return f.victim.clone().unwrap_or_else(|| self.default_victim(s));
                    }
                };
                let id = named.unwrap_or_else(|| self.default_identity());
                last = Some(id.clone());
                id
            })
            .collect()
    }

    /// The identity a forged-headers step names by default: one of the default identity's kind
    /// that none of the scenario's logins logs in (else any such), so that a session showing
    /// it can only come from the forged headers.
    fn default_victim(&self, s: &Scenario) -> String {
        let default = self.default_identity();
        let logged_in: Vec<String> = s
            .steps
            .iter()
            .filter_map(|st| match &st.body {
                StepBody::SamlLogin(l) => Some(l.identity.clone()),
                StepBody::OidcLogin(l) => Some(l.identity.clone()),
                StepBody::Replay | StepBody::IdpLogout(_) | StepBody::ForgedHeaders(_) => None,
            })
            .map(|named| named.unwrap_or_else(|| default.clone()))
            .chain(std::iter::once(default.clone()))
            .collect();
        let ids = self.broker.identities();
        let kind = ids.get(&default).map(|i| i.kind);
        ids.iter()
            .find(|i| Some(i.kind) == kind && !logged_in.contains(&i.id))
            .or_else(|| ids.iter().find(|i| !logged_in.contains(&i.id)))
            .map(|i| i.id.clone())
            .unwrap_or_else(|| "<another identity>".into())
    }

    fn default_identity(&self) -> String {
        let ids = self.broker.identities();
        let kind = if self
            .sp
            .profiles
            .contains(&mitid_mock_broker::IdentityKind::Person)
        {
            mitid_mock_broker::IdentityKind::Person
        } else {
            mitid_mock_broker::IdentityKind::Professional
        };
        let want_cpr = !self.sp.private_sp;
        ids.iter()
            .find(|i| {
                i.kind == kind
                    && i.loa >= self.sp.required_loa
                    && (!want_cpr
                        || i.cpr.is_some()
                        || kind != mitid_mock_broker::IdentityKind::Person)
            })
            .or_else(|| ids.first_of(kind))
            .map(|i| i.id.clone())
            .unwrap_or_else(|| "anna".into())
    }

    /// Run one scenario.
    pub async fn run_scenario(&self, s: &Scenario) -> ScenarioResult {
        let started = Instant::now();
        let mut result = ScenarioResult::new(s);
        if let Some(why) = self.skip_reason(s) {
            result.verdict = Verdict::Skipped;
            result.message = why;
            return result;
        }
        let rotates = s.steps.iter().any(crate::scenario::Step::rotates_key);
        let (_shared_keys, _exclusive_keys) = match (s.protocol, rotates) {
            (Protocol::Oidc, true) => (None, Some(self.key_set.write().await)),
            (Protocol::Oidc, false) => (Some(self.key_set.read().await), None),
            (Protocol::Saml, _) => (None, None),
        };
        let mut agent = self.agent();
        let mut transcript: Vec<Exchange> = Vec::new();
        let mut previous_post: Option<(String, Vec<(String, String)>)> = None;
        let mut last_subject: Option<OidcSubject> = None;
        let mut last_saml_login: Option<String> = None;
        let n = s.steps.len();
        let identities = self.step_identities(s);
        for (i, (step, identity)) in s.steps.iter().zip(&identities).enumerate() {
            if step.jar == Jar::Fresh && i > 0 {
                transcript.extend(agent.take_transcript());
                agent = self.agent();
            }
            if n > 1 {
                agent.note(format!(
                    "step {} of {n}: {:?}, expect {:?}",
                    i + 1,
                    step.action(),
                    step.expect
                ));
            }
            let outcome = match &step.body {
                StepBody::SamlLogin(login) => self.login_step(&mut agent, s, login, identity).await,
                StepBody::OidcLogin(login) => {
                    self.oidc_login_step(&mut agent, s, login, identity).await
                }
                StepBody::Replay => match &previous_post {
                    Some((action, fields)) => self.replay_step(&mut agent, action, fields).await,
                    None => Err(Inconclusive(
                        "nothing to replay: the previous step produced no response".into(),
                    )),
                },
                StepBody::IdpLogout(l) => {
                    self.idp_logout_step(&mut agent, l, last_saml_login.as_deref())
                        .await
                }
                StepBody::ForgedHeaders(f) => {
                    self.forged_headers_step(&mut agent, f, identity, last_subject.as_ref())
                        .await
                }
            };
            let step_result = match outcome {
                Err(Inconclusive(why)) => StepResult {
                    verdict: Verdict::Inconclusive,
                    message: why,
                    observed_identity: None,
                    grade: None,
                },
                Ok(mut o) => {
                    if let Some(p) = &o.posted {
                        previous_post = Some(p.clone());
                    }
                    if let Some(id) = &o.saml_request_id {
                        last_saml_login = Some(id.clone());
                    }
                    // A replay is judged against the replayed login's identity, so its `sub`.
                    match &o.subject {
                        Some(f) => last_subject = Some(f.clone()),
                        None => o.subject = last_subject.clone(),
                    }
                    self.judge(step, identity, &o)
                }
            };
            let stop = step_result.verdict != Verdict::Pass;
            result.steps.push(step_result);
            if stop {
                break;
            }
        }
        if rotates {
            self.broker.restore_keys(&self.rotatable_issuers()).await;
        }
        transcript.extend(agent.take_transcript());
        result.transcript = transcript;
        result.duration_ms = started.elapsed().as_millis() as u64;
        result.evidence = Some(self.oracle.evidence());
        result.finish(n);
        result
    }

    /// Judge one step: `id_handle` is the identity it logged in (a replay: the replayed one).
    fn judge(&self, step: &Step, id_handle: &str, o: &StepObservation) -> StepResult {
        let expect = step.expect;
        let acs = o.acs_summary.clone();
        let mk = |v: Verdict, m: String, id: Option<String>| StepResult {
            verdict: v,
            message: m,
            observed_identity: id,
            grade: None,
        };
        if let Some(why) = &o.not_applicable {
            return mk(Verdict::Skipped, why.clone(), None);
        }
        if let StepBody::IdpLogout(_) = &step.body {
            return self.judge_logout(step, id_handle, o);
        }
        if let StepBody::ForgedHeaders(_) = &step.body {
            return self.judge_forged(id_handle, o);
        }
        if o.fetched_entity {
            return mk(
                Verdict::Fail,
                format!(
                    "the SP fetched the external entity declared in the response's DOCTYPE (XXE); {acs}"
                ),
                None,
            );
        }
        let identity = self.broker.identities().get(id_handle);
        match (&o.observation, expect) {
            (Observation::Ambiguous { why }, _) => mk(
                Verdict::Inconclusive,
                format!("oracle ambiguous: {why}; {acs}"),
                None,
            ),
            (Observation::None { status }, Expect::Reject) => mk(
                Verdict::Pass,
                format!("rejected: no session afterwards (oracle answered {status}); {acs}"),
                None,
            ),
            (Observation::None { status }, Expect::Accept) => mk(
                Verdict::Fail,
                format!(
                    "the SP did not log in {id_handle}: no session afterwards (oracle answered {status}); {acs}"
                ),
                None,
            ),
            (Observation::Session { identity: seen, .. }, Expect::Reject) => {
                self.grade_session(step, id_handle, seen.as_deref(), o.subject.as_ref(), &acs)
            }
            (Observation::Session { identity: None, .. }, Expect::Accept) => mk(
                Verdict::Pass,
                format!(
                    "a session exists (identity not checked: {:?} oracle); {acs}",
                    self.oracle.evidence()
                ),
                None,
            ),
            (
                Observation::Session {
                    identity: Some(seen),
                    ..
                },
                Expect::Accept,
            ) => {
                let Some(expected) =
                    identity.and_then(|i| expected_key_in(i, self.sp.user_key, o.subject.as_ref()))
                else {
                    return mk(
                        Verdict::Inconclusive,
                        format!(
                            "identity {id_handle} has no {:?} to compare with",
                            self.sp.user_key
                        ),
                        Some(seen.clone()),
                    );
                };
                if same_identity(seen, &expected) {
                    mk(
                        Verdict::Pass,
                        format!("logged in as the right identity ({seen}); {acs}"),
                        Some(seen.clone()),
                    )
                } else {
                    mk(
                        Verdict::Fail,
                        format!(
                            "the SP logged in someone else: it reports {seen:?}, expected {expected:?} ({id_handle}); {acs}"
                        ),
                        Some(seen.clone()),
                    )
                }
            }
        }
    }

    /// The SP created a session in a step it must reject: grade it from the oracle's identity
    /// ([`crate::grade`]). Only a message that carries an intact signed login beside a forged
    /// part can earn a WARN, and only when the SP logged in exactly that signed identity; a
    /// malformed message around an intact signed login stays a FAIL, graded
    /// `malformed-message` when the SP logged in exactly that signed identity.
    fn grade_session(
        &self,
        step: &Step,
        id_handle: &str,
        seen: Option<&str>,
        subject: Option<&OidcSubject>,
        acs: &str,
    ) -> StepResult {
        let as_whom = seen.map(|i| format!(" as {i:?}")).unwrap_or_default();
        let signed_key = self
            .broker
            .identities()
            .get(id_handle)
            .and_then(|i| expected_key_in(i, self.sp.user_key, subject));
        let (verdict, grade, message) = match (SignedPart::of(step), seen, signed_key) {
            (SignedPart::Nothing, _, _) if crate::grade::grants_unheld_privilege(step) => (
                Verdict::Fail,
                Grade::ForgedIdentity,
                format!(
                    "privilege escalation: the SP created a session{as_whom} for the genuine user ({id_handle}), although the signed assertion grants the privilege it requires ({}) in no PrivilegeGroup scoped to the user's own organisation (urn:dk:gov:saml:cvrNumberIdentifier:<the user's CVR>, compared exactly); not a forged identity, but a right the user holds only elsewhere or not at all; {acs}",
                    self.sp
                        .privileges
                        .as_ref()
                        .map_or("sp.toml [privileges] required", |p| p.required.as_str())
                ),
            ),
            (SignedPart::Nothing, _, _) => (
                Verdict::Fail,
                Grade::ForgedIdentity,
                format!(
                    "the SP created a session{as_whom} although it must reject this response; {acs}"
                ),
            ),
            (SignedPart::Intact, Some(seen), Some(signed)) if same_identity(seen, &signed) => (
                Verdict::Warn,
                Grade::SignedIdentity,
                format!(
                    "the SP accepted a response it must reject, but logged in {seen:?}, the identity the broker genuinely signed ({id_handle}): it ignored the forged part for another identity instead of refusing the message. Not exploitable with this message; still fix it, because a parser or library change that reads the other part turns this into a login as anyone; {acs}"
                ),
            ),
            (SignedPart::Intact, Some(seen), Some(signed)) => (
                Verdict::Fail,
                Grade::ForgedIdentity,
                format!(
                    "the SP logged in {seen:?} from the forged part of a response it must reject; the broker signed only {signed:?} ({id_handle}): exploitable; {acs}"
                ),
            ),
            (SignedPart::Malformed, Some(seen), Some(signed)) if same_identity(seen, &signed) => (
                Verdict::Fail,
                Grade::MalformedMessage,
                format!(
                    "the SP accepted a malformed message it must refuse unread; the session is {seen:?}, the genuine signed user ({id_handle}): no identity forged. Still a FAIL: a parser that accepts this message reads a different document from one that refuses it, the parser differential published signature bypasses exploit; {acs}"
                ),
            ),
            (SignedPart::Malformed, Some(seen), Some(signed)) => (
                Verdict::Fail,
                Grade::ForgedIdentity,
                format!(
                    "the SP logged in {seen:?} from a malformed message it must refuse; the broker signed only {signed:?} ({id_handle}): exploitable; {acs}"
                ),
            ),
            (SignedPart::Malformed, None, _) => (
                Verdict::Fail,
                Grade::UnknownIdentity,
                format!(
                    "the SP created a session although it must refuse this malformed message; whether it belongs to the genuine signed identity ({id_handle}) or to one the SP made up is unknown: the {:?} oracle names no identity (configure [oracle] whoami_url to tell); {acs}",
                    self.oracle.evidence()
                ),
            ),
            (SignedPart::Malformed, Some(_), None) => (
                Verdict::Fail,
                Grade::UnknownIdentity,
                format!(
                    "the SP created a session{as_whom} although it must refuse this malformed message; whether it belongs to the genuine signed identity is unknown: {id_handle} has no {:?} to compare with; {acs}",
                    self.sp.user_key
                ),
            ),
            (SignedPart::Intact, None, _) => (
                Verdict::Fail,
                Grade::UnknownIdentity,
                format!(
                    "the SP created a session although it must reject this response; whether it belongs to the signed identity or the forged one is unknown: the {:?} oracle names no identity (configure [oracle] whoami_url to tell an exploitable acceptance from a harmless one); {acs}",
                    self.oracle.evidence()
                ),
            ),
            (SignedPart::Intact, Some(_), None) => (
                Verdict::Fail,
                Grade::UnknownIdentity,
                format!(
                    "the SP created a session{as_whom} although it must reject this response; whether it belongs to the signed identity is unknown: {id_handle} has no {:?} to compare with; {acs}",
                    self.sp.user_key
                ),
            ),
        };
        StepResult {
            verdict,
            message,
            observed_identity: seen.map(str::to_string),
            grade: Some(grade),
        }
    }

    /// Before a scenario's first request: the oracle must see no session yet, or it cannot
    /// tell a login from a page that always answers "logged in".
    async fn no_session_before_login(&self, agent: &mut Agent) -> Result<(), Inconclusive> {
        if !agent.transcript().is_empty() || self.oracle.evidence() == Evidence::FinalStatus {
            return Ok(());
        }
        match self.oracle.observe(agent, None).await {
            Ok(Observation::None { .. }) => Ok(()),
            Ok(Observation::Session { .. }) => Err(Inconclusive(
                "the oracle reports a session before any login: check [oracle] (whoami_url must answer 401/403/redirect without a session)".into(),
            )),
            Ok(Observation::Ambiguous { why }) => Err(Inconclusive(format!(
                "oracle ambiguous before login: {why}"
            ))),
            Err(e) => Err(unreachable_sp(e)),
        }
    }

    async fn login_step(
        &self,
        agent: &mut Agent,
        s: &Scenario,
        step: &SamlLogin,
        identity: &str,
    ) -> Result<StepObservation, Inconclusive> {
        let sso = self.broker.sso_url_of(self.sp.oiosaml);
        let other_version = match self.sp.oiosaml {
            OiosamlVersion::V3 => OiosamlVersion::V4,
            OiosamlVersion::V4 => OiosamlVersion::V3,
        };
        let other_sso = self.broker.sso_url_of(other_version);
        // The oracle must say "no session" before the login, or its later "session" means nothing.
        self.no_session_before_login(agent).await?;
        // 1. Start the login at the SP and follow it to the broker.
        let mut url = self.sp.login_url.clone();
        let mut captured = None;
        for _ in 0..=agent.max_redirects() {
            let page = agent
                .request("GET", &url, None)
                .await
                .map_err(unreachable_sp)?;
            match (page.status, &page.location) {
                (300..=399, Some(loc)) => {
                    let next =
                        Agent::resolve(&page, loc).map_err(|e| Inconclusive(e.to_string()))?;
                    if next.starts_with(&sso) {
                        captured = Some(next);
                        break;
                    }
                    if next.starts_with(&other_sso) {
                        return Err(Inconclusive(format!(
                            "the SP sent its AuthnRequest to the broker's OIOSAML {other_version} endpoint {other_sso}, but sp.toml says it speaks OIOSAML {} (set `oiosaml = \"{other_version}\"`)",
                            self.sp.oiosaml
                        )));
                    }
                    url = next;
                }
                _ => {
                    if let Some(f) = find_form(&page.url, &page.body) {
                        if f.action.starts_with(&sso) {
                            return Err(Inconclusive(
                                "the SP sent its AuthnRequest with HTTP-POST; NemLog-in accepts only the HTTP-Redirect binding".into(),
                            ));
                        }
                    }
                    return Err(Inconclusive(format!(
                        "the login at {} did not lead to the broker's SSO URL {sso} (ended on HTTP {} at {})",
                        self.sp.login_url, page.status, page.url
                    )));
                }
            }
        }
        let Some(sso_request) = captured else {
            return Err(Inconclusive(format!(
                "more than {} redirects before reaching the broker",
                agent.max_redirects()
            )));
        };
        // 2. Learn the AuthnRequest ID and arm the flow.
        let query = url::Url::parse(&sso_request)
            .ok()
            .and_then(|u| u.query().map(str::to_string))
            .unwrap_or_default();
        let msg = redirect::decode_query(&query, "SAMLRequest").map_err(|e| {
            Inconclusive(format!("the SP's AuthnRequest could not be decoded: {e}"))
        })?;
        let req = authn_request::parse(&msg.xml)
            .map_err(|e| Inconclusive(format!("the SP's AuthnRequest is invalid: {e}")))?;
        if self.sp.oiosaml == OiosamlVersion::V4
            && let Some(why) = profile_not_applicable(step, &req.attribute_profiles())
        {
            return Ok(StepObservation {
                observation: Observation::None { status: 0 },
                acs_summary: String::new(),
                fetched_entity: false,
                posted: None,
                not_applicable: Some(why),
                subject: None,
                saml_request_id: None,
                logout_response: None,
                forged: None,
            });
        }
        let login = ArmedLogin {
            identity: identity.to_string(),
            loa: step.loa,
            plan: crate::sp::with_required_privilege(&step.plan, self.sp.privileges.as_ref()),
            profile: step.profile,
        };
        self.broker
            .arm(&req.id, login)
            .await
            .map_err(Inconclusive)?;
        agent.note(format!(
            "armed broker flow {} as {identity} with scenario {}",
            req.id, s.id
        ));
        // 3. The broker answers with the auto-post form to the ACS.
        let page = agent
            .request("GET", &sso_request, None)
            .await
            .map_err(|e| Inconclusive(format!("broker: {e}")))?;
        if page.status != 200 {
            let why = broker_refusal(&page)
                .map(|r| r.description)
                .unwrap_or_else(|| format!("HTTP {}", page.status));
            return Err(Inconclusive(format!(
                "the broker refused the SP's AuthnRequest: {why}"
            )));
        }
        let Some(form) = find_form(&page.url, &page.body) else {
            return Err(Inconclusive("the broker's answer had no form".into()));
        };
        // 4. Post it to the ACS and follow the SP.
        let (final_page, acs_summary) = self
            .post_and_follow(agent, &form.action, &form.fields)
            .await?;
        let facts = self.broker.facts(&req.id).await;
        let observation = self
            .oracle
            .observe(agent, final_page.as_ref())
            .await
            .map_err(unreachable_sp)?;
        Ok(StepObservation {
            observation,
            acs_summary,
            fetched_entity: facts.fetched,
            not_applicable: None,
            posted: Some((form.action, form.fields)),
            subject: None,
            saml_request_id: Some(req.id),
            logout_response: None,
            forged: None,
        })
    }

    /// One OIDC login: follow the RP to the broker's authorization endpoint, learn `state`,
    /// arm identity and faults for it, then let the broker redirect (or form_post) back and
    /// follow the RP to its final page.
    async fn oidc_login_step(
        &self,
        agent: &mut Agent,
        s: &Scenario,
        step: &OidcLogin,
        identity: &str,
    ) -> Result<StepObservation, Inconclusive> {
        let broker_base = self.broker.base_url();
        self.no_session_before_login(agent).await?;
        let mut url = self.sp.login_url.clone();
        let mut authorize = None;
        for _ in 0..=agent.max_redirects() {
            let page = agent
                .request("GET", &url, None)
                .await
                .map_err(unreachable_sp)?;
            match (page.status, &page.location) {
                (300..=399, Some(loc)) => {
                    let next =
                        Agent::resolve(&page, loc).map_err(|e| Inconclusive(e.to_string()))?;
                    if next.starts_with(&broker_base) {
                        authorize = Some(next);
                        break;
                    }
                    url = next;
                }
                _ => {
                    return Err(Inconclusive(format!(
                        "the login at {} did not lead to the broker at {broker_base} (ended on HTTP {} at {})",
                        self.sp.login_url, page.status, page.url
                    )));
                }
            }
        }
        let Some(authorize) = authorize else {
            return Err(Inconclusive(
                "too many redirects before reaching the broker".into(),
            ));
        };
        let au = url::Url::parse(&authorize).map_err(|e| Inconclusive(e.to_string()))?;
        let q: Vec<(String, String)> = au.query_pairs().into_owned().collect();
        let get = |k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        // The flow is keyed by `state`; an RP that sends none (its CSRF protection then rests
        // on PKCE) by `nonce`, or else by its PKCE code challenge. An RP that sends none of
        // them cannot be told apart from a concurrent login.
        let nonce = get("nonce");
        let (key, key_note) = match (get("state"), &nonce, get("code_challenge")) {
            (Some(st), _, _) => (FlowKey::State(st.clone()), format!("state={st}")),
            (None, Some(n), _) => (
                FlowKey::Nonce(n.clone()),
                format!("nonce={n} (the RP sent no state)"),
            ),
            (None, None, Some(c)) => (
                FlowKey::CodeChallenge(c.clone()),
                format!("code_challenge={c} (the RP sent neither state nor nonce)"),
            ),
            (None, None, None) => {
                return Err(Inconclusive("the RP's authorization request carries no `state`, `nonce` or PKCE `code_challenge`; the harness cannot key the flow (and the RP has no CSRF protection: send `state`)".into()));
            }
        };
        let seen = AuthorizationRequestSeen {
            state: get("state").is_some(),
            nonce: nonce.is_some(),
            pkce_s256: get("code_challenge_method").as_deref() == Some("S256"),
        };
        if let Some(why) = s.applies.skip_reason_for_request(&seen) {
            return Ok(StepObservation {
                observation: Observation::None { status: 0 },
                acs_summary: String::new(),
                fetched_entity: false,
                posted: None,
                not_applicable: Some(why.into()),
                subject: None,
                saml_request_id: None,
                logout_response: None,
                forged: None,
            });
        }
        let issuer_id = au
            .path()
            .trim_start_matches('/')
            .split('/')
            .next()
            .unwrap_or("")
            .to_string();
        let flow_key = key.clone();
        self.broker
            .arm_oidc(
                key,
                identity,
                step.loa,
                step.plan.clone(),
                step.rotate_key.then_some(issuer_id.as_str()),
            )
            .await
            .map_err(Inconclusive)?;
        agent.note(format!(
            "armed OIDC flow {key_note} as {identity} with scenario {}",
            s.id
        ));
        let page = agent
            .request("GET", &authorize, None)
            .await
            .map_err(|e| Inconclusive(format!("broker: {e}")))?;
        // The authorization response as delivered, kept for a later `replay` step (an empty
        // field list means a GET of the redirect URI).
        let callback: (String, Vec<(String, String)>);
        let (final_page, summary) = match (page.status, &page.location) {
            (300..=399, Some(loc)) => {
                let next = Agent::resolve(&page, loc).map_err(|e| Inconclusive(e.to_string()))?;
                callback = (next.clone(), vec![]);
                self.get_and_follow(agent, &next).await?
            }
            (200, _) => match find_form(&page.url, &page.body) {
                Some(f) if f.method == "POST" && !f.action.starts_with(&broker_base) => {
                    callback = (f.action.clone(), f.fields.clone());
                    self.post_and_follow(agent, &f.action, &f.fields).await?
                }
                _ => return Err(Inconclusive("the broker showed a page instead of answering the RP (preselection not applied?)".into())),
            },
            (st, _) => {
                let why = broker_refusal(&page).map(|r| r.to_string()).unwrap_or_else(|| format!("HTTP {st}: {}", page.body.chars().take(200).collect::<String>()));
                return Err(Inconclusive(format!("the broker refused the RP's authorization request: {why}")));
            }
        };
        for t in self.broker.token_responses(&flow_key) {
            agent.back_channel(&t.token_endpoint, &t.response);
        }
        let observation = self
            .oracle
            .observe(agent, final_page.as_ref())
            .await
            .map_err(unreachable_sp)?;
        // Judged only if some fault of the step reached the RP (applicability from behaviour).
        let not_applicable = match self.broker.oidc_flow(&flow_key).await {
            Some(seen) => crate::applicability::oidc_step(&step.plan, &seen),
            None => None,
        };
        Ok(StepObservation {
            observation,
            acs_summary: summary.replacen("ACS", "redirect_uri", 1),
            fetched_entity: false,
            not_applicable,
            posted: Some(callback),
            subject: OidcSubject::from_authorization_url(&au),
            saml_request_id: None,
            logout_response: None,
            forged: None,
        })
    }

    /// GET a URL on the SP, then follow its redirects like [`Self::post_and_follow`].
    async fn get_and_follow(
        &self,
        agent: &mut Agent,
        url: &str,
    ) -> Result<(Option<Page>, String), Inconclusive> {
        let first = agent
            .request("GET", url, None)
            .await
            .map_err(unreachable_sp)?;
        self.follow_from(agent, first).await
    }

    async fn replay_step(
        &self,
        agent: &mut Agent,
        action: &str,
        fields: &[(String, String)],
    ) -> Result<StepObservation, Inconclusive> {
        agent
            .note("replaying the previous step's response (SAMLResponse / authorization response)");
        let (final_page, acs_summary) = if fields.is_empty() {
            let (page, summary) = self.get_and_follow(agent, action).await?;
            (page, summary.replacen("ACS", "redirect_uri", 1))
        } else {
            self.post_and_follow(agent, action, fields).await?
        };
        let observation = self
            .oracle
            .observe(agent, final_page.as_ref())
            .await
            .map_err(unreachable_sp)?;
        Ok(StepObservation {
            observation,
            acs_summary,
            fetched_entity: false,
            not_applicable: None,
            posted: None,
            subject: None,
            saml_request_id: None,
            logout_response: None,
            forged: None,
        })
    }

    /// POST to the ACS, then follow the SP's redirects (stopping when it sends the browser
    /// back to the broker: that is a new login, i.e. no session).
    async fn post_and_follow(
        &self,
        agent: &mut Agent,
        action: &str,
        fields: &[(String, String)],
    ) -> Result<(Option<Page>, String), Inconclusive> {
        let first = agent
            .request("POST", action, Some(fields))
            .await
            .map_err(unreachable_sp)?;
        self.follow_from(agent, first).await
    }

    async fn follow_from(
        &self,
        agent: &mut Agent,
        first: Page,
    ) -> Result<(Option<Page>, String), Inconclusive> {
        let sso = self.broker.sso_url_of(self.sp.oiosaml);
        let broker_base = self.broker.base_url();
        let mut summary = format!("ACS answered HTTP {}", first.status);
        if let Some(l) = &first.location {
            summary.push_str(&format!(" → {l}"));
        }
        let mut page = first;
        for _ in 0..agent.max_redirects() {
            let (300..=399, Some(loc)) = (page.status, page.location.clone()) else {
                break;
            };
            let next = Agent::resolve(&page, &loc).map_err(|e| Inconclusive(e.to_string()))?;
            if next.starts_with(&sso)
                || (self.sp.protocol == Protocol::Oidc && next.starts_with(&broker_base))
            {
                summary.push_str(" (sent back to the broker: a new login)");
                return Ok((Some(page), summary));
            }
            page = agent
                .request("GET", &next, None)
                .await
                .map_err(unreachable_sp)?;
        }
        if page.status >= 300 {
            summary.push_str(&format!("; final HTTP {}", page.status));
        }
        Ok((Some(page), summary))
    }
}

/// A reason a step could not be judged.
#[derive(Debug)]
struct Inconclusive(String);

fn unreachable_sp(e: AgentError) -> Inconclusive {
    Inconclusive(format!("SP unreachable or too slow: {e}"))
}

#[derive(Debug)]
struct StepObservation {
    observation: Observation,
    acs_summary: String,
    fetched_entity: bool,
    posted: Option<(String, Vec<(String, String)>)>,
    /// The step does not apply to this SP (found out only during the login, e.g. an RP that
    /// sends no nonce faced with a nonce fault): the scenario is SKIPPED with this reason.
    not_applicable: Option<String>,
    /// OIDC: what the `sub` of this login depends on (for `user_key = "sub"`).
    subject: Option<OidcSubject>,
    /// SAML login: the AuthnRequest ID (what a later idp-logout step ends).
    saml_request_id: Option<String>,
    /// idp-logout: the SP's LogoutResponse as the broker received it.
    logout_response: Option<mitid_mock_broker::control::LogoutResponseSeen>,
    /// forged-headers: what the SP's session did.
    forged: Option<forged::ForgedSeen>,
}
