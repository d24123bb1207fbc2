//! Scenarios: declarative descriptions of one login (or a few) and what the SP must do.
//!
//! A scenario is data, not code: it names an identity, a LoA and faults from the broker's
//! dangerous vocabulary ([`mitid_mock_broker::Fault`], [`mitid_mock_broker::oidc::OidcFault`]),
//! and an expectation. The catalogue lives in `scenarios/*.toml` (one file per family),
//! embedded in the binary; users add their own files with `--scenarios DIR`.
//!
//! ```toml
//! [[scenario]]
//! id = "legacy.assurance-level-only"
//! title = "OIOSAML 3 assertion with AssuranceLevel instead of an NSIS LoA"
//! family = "legacy"
//! severity = "critical"
//! caught_by = ["accept-assurance-level"]   # the reference-SP flaw that must fail it
//! expect = "reject"
//! faults = [
//!   { fault = "remove-attribute", name = "https://data.gov.dk/concept/core/nsis/loa" },
//!   { fault = "set-attribute", name = "dk:gov:saml:attribute:AssuranceLevel", values = ["3"] },
//! ]
//! rationale = "Your SP accepts ..."
//! references = ["OIOSAML.Java AssertionValidationService: NSIS LoA required"]
//! ```
//!
//! The file format is flat and stays so for existing files: a single login is written with
//! `expect`, `identity`, `loa` and `faults` (SAML) or `oidc_faults` (OIDC, with
//! `protocol = "oidc"`) on the scenario; several with `steps = [{ action, identity, loa, faults |
//! oidc_faults, rotate_key, expect, jar }, ...]` (scenario-level `identity` and `loa` are the
//! steps' defaults). OIOSAML 4.0 logins may name `attribute_profile` (`person-dk`,
//! `person-dk-without-cpr`, ...): the profile the user logs in with, among those the SP
//! requested. Loading sorts each step into a [`StepBody`] — a SAML login, an OIDC login, a
//! replay, an IdP-initiated logout or forged identity headers (`action = "forged-headers"`,
//! `target = "protected" | "preflight" | "acs" | "redirect-uri"`, `identity` = the victim
//! the headers name, `expect = "reject"`) — and refuses a step that mixes SAML and OIDC
//! fields, or a replay that carries login fields, naming the file, the line and the scenario.
//!
//! - `applies` holds every rule that makes the harness skip a scenario ([`Applies`]): the SP's
//!   profiles, required LoA, private/public, oracle kind, OIDC broker, and whether the RP sends
//!   `state` / `nonce` (`rp_sends_state`, `rp_sends_nonce`).
//! - `caught_by = ["a", "b"]` names reference-SP/RP flaws each of which alone makes the scenario
//!   fail; `caught_by_together = [["a", "b"]]` flaws that fail it only together;
//!   `warned_by = ["c"]` flaws that make the SP accept a forgery but log in the identity the
//!   broker genuinely signed, graded WARN ([`CaughtBy`], [`crate::grade`]).
//!   The discrimination tests read them; the runner does not, and user scenarios may omit them.

use mitid_mock_broker::oidc::{OidcFault, OidcFaultPlan};
use mitid_mock_broker::saml::oiosaml4::{AttributeProfile, OiosamlVersion};
use mitid_mock_broker::{Fault, FaultPlan, IdentityKind, Loa};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// How bad it is when the SP fails this scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Informational.
    Info,
    /// Medium.
    Medium,
    /// High.
    High,
    /// Critical: an attacker or a NemID-era login gets in.
    Critical,
}

impl Severity {
    /// Map an inbound check's severity (which has a `Low` level) onto scenario severities.
    pub fn from_inspect(s: crate::inspect::Severity) -> Self {
        match s {
            crate::inspect::Severity::Critical => Severity::Critical,
            crate::inspect::Severity::High => Severity::High,
            crate::inspect::Severity::Medium => Severity::Medium,
            crate::inspect::Severity::Low | crate::inspect::Severity::Info => Severity::Info,
        }
    }
}

/// Which protocol a scenario exercises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// SAML / OIOSAML 3.
    #[default]
    Saml,
    /// OpenID Connect (private MitID brokers).
    Oidc,
}

/// What the SP must do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Expect {
    /// Create a session for the step's identity.
    Accept,
    /// Create no session.
    Reject,
}

/// What a step does, as the flat TOML format's `action` names it and as listings show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// A full login through the broker (the normal case).
    #[default]
    Login,
    /// Send the previous login's response (SAMLResponse or authorization response) again.
    Replay,
    /// The broker ends the previous SAML login's session with a LogoutRequest to the SP's
    /// SingleLogoutService (IdP-initiated single logout), in the same browser.
    IdpLogout,
    /// The browser sends identity headers (`REMOTE_USER`, `OIDC_CLAIM_sub`, `MELLON_NAME_ID`,
    /// ...) naming a victim to the SP; its session must not become the victim's.
    ForgedHeaders,
}

/// Where a `forged-headers` step sends the browser's identity headers: the places an
/// authentication module in front of the application did (or did not) scrub them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HeaderTarget {
    /// `GET` of the protected page (the oracle's whoami or protected URL): the path the
    /// module authenticates, where mod_auth_openidc has scrubbed since 1.7 (CVE-2017-6413:
    /// not on `AuthType oauth20` before 2.1.6).
    Protected,
    /// An `OPTIONS` CORS preflight to the protected page: let through unauthenticated, and not
    /// scrubbed by mod_auth_openidc before the 2026 fix (commit c450a33a, 2.4.20.1).
    Preflight,
    /// SAML: a `POST` to the ACS, which the module handles without authenticating.
    Acs,
    /// OIDC: a `GET` of the redirect URI, handled without authenticating and not scrubbed by
    /// mod_auth_openidc before the same 2026 fix.
    RedirectUri,
}

/// Which cookie jar a step uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Jar {
    /// A fresh browser (default).
    #[default]
    Fresh,
    /// The previous step's browser.
    Same,
}

/// One step: what it does, what the SP must do afterwards, and in which browser.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// What the step does; the kind of login decides which faults it can carry.
    pub body: StepBody,
    /// Expectation for this step.
    pub expect: Expect,
    /// Cookie jar.
    pub jar: Jar,
}

/// What a step does. A sum type rather than one struct of optional fields, so that a SAML
/// login cannot carry OIDC faults (nor the reverse), a replay carries nothing it would ignore,
/// and the runner dispatches with one exhaustive `match`.
#[derive(Debug, Clone, PartialEq)]
pub enum StepBody {
    /// A full SAML login through the broker, with faults in the minted response.
    SamlLogin(SamlLogin),
    /// A full OIDC login through the broker, with faults in the flow or the ID token.
    OidcLogin(OidcLogin),
    /// Send the previous login's response again (the SAMLResponse posted to the ACS, or the
    /// authorization response delivered to the redirect URI); judged against that login's
    /// identity.
    Replay,
    /// The broker sends a LogoutRequest for the previous SAML login's session to the SP's
    /// SingleLogoutService, through the same browser. `expect = "accept"`: the SP ends the
    /// session and answers with a LogoutResponse; `"reject"`: the session stays.
    IdpLogout(IdpLogout),
    /// The browser sends identity headers naming a victim (another identity than any this
    /// scenario logs in) to the SP, without any login of its own; judged from the SP's
    /// session: it must stay what it was (none, or the previous login's identity).
    ForgedHeaders(ForgedHeaders),
}

/// A forged-headers step: no broker involved, only the browser's own request headers.
#[derive(Debug, Clone, PartialEq)]
pub struct ForgedHeaders {
    /// The identity the headers name (`None`: another identity of the default identity's kind
    /// than any the scenario logs in). The TOML format writes it as the step's `identity`.
    pub victim: Option<String>,
    /// Where the headers are sent.
    pub target: HeaderTarget,
}

/// An IdP-initiated logout step.
#[derive(Debug, Clone, PartialEq)]
pub struct IdpLogout {
    /// The binding the LogoutRequest travels on.
    pub binding: mitid_mock_broker::control::SloBinding,
    /// Deliberate defects in the LogoutRequest.
    pub faults: Vec<mitid_mock_broker::dangerous::LogoutFault>,
}

/// A SAML login step.
#[derive(Debug, Clone, PartialEq)]
pub struct SamlLogin {
    /// Identity handle (`None`: the SP's default identity). The scenario-level `identity` of
    /// the TOML format is already folded in.
    pub identity: Option<String>,
    /// LoA to assert (`None`: the identity's). The scenario-level `loa` is folded in.
    pub loa: Option<Loa>,
    /// The faults the broker applies to this login's response.
    pub plan: FaultPlan,
    /// OIOSAML 4.0: the attribute profile the user logs in with, among those the SP requested
    /// (`None`: the broker's choice). A step whose profile the SP did not request is not
    /// applicable to it (SKIPPED), which the runner learns from the AuthnRequest.
    pub profile: Option<AttributeProfile>,
}

/// An OIDC login step.
#[derive(Debug, Clone, PartialEq)]
pub struct OidcLogin {
    /// Identity handle (`None`: the SP's default identity). The scenario-level `identity` of
    /// the TOML format is already folded in.
    pub identity: Option<String>,
    /// LoA to assert (`None`: the identity's). The scenario-level `loa` is folded in.
    pub loa: Option<Loa>,
    /// The faults the broker applies to this login's flow and tokens.
    pub plan: OidcFaultPlan,
    /// Rotate the issuer's signing key before this login (key-rotation scenarios).
    pub rotate_key: bool,
}

impl Step {
    /// The step's action as the TOML format and listings name it.
    pub fn action(&self) -> Action {
        match self.body {
            StepBody::SamlLogin(_) | StepBody::OidcLogin(_) => Action::Login,
            StepBody::Replay => Action::Replay,
            StepBody::IdpLogout(_) => Action::IdpLogout,
            StepBody::ForgedHeaders(_) => Action::ForgedHeaders,
        }
    }

    /// The identity a login step names (`None` for a replay, or for the default identity); for
    /// a forged-headers step, the victim the headers name.
    pub fn identity(&self) -> Option<&str> {
        match &self.body {
            StepBody::SamlLogin(l) => l.identity.as_deref(),
            StepBody::OidcLogin(l) => l.identity.as_deref(),
            StepBody::ForgedHeaders(f) => f.victim.as_deref(),
            StepBody::Replay | StepBody::IdpLogout(_) => None,
        }
    }

    /// Whether the step rotates the OIDC issuer's signing key first.
    pub fn rotates_key(&self) -> bool {
        match &self.body {
            StepBody::OidcLogin(l) => l.rotate_key,
            StepBody::SamlLogin(_)
            | StepBody::Replay
            | StepBody::IdpLogout(_)
            | StepBody::ForgedHeaders(_) => false,
        }
    }
}

/// Conditions under which a scenario applies to an SP. Every rule that makes the harness skip a
/// scenario lives here, as data, so a scenario file says when it applies and the runner only
/// evaluates ([`Applies::skip_reason`] before the run, [`Applies::skip_reason_for_request`]
/// once the RP's authorization request is seen).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Applies {
    /// Only when the SP accepts this profile.
    #[serde(default)]
    pub profile: Option<IdentityKind>,
    /// Only when the SP requires at least this LoA.
    #[serde(default)]
    pub required_loa_at_least: Option<Loa>,
    /// Only when the SP requires at most this LoA (e.g. a Substantial login must be accepted
    /// only by services that do not require High).
    #[serde(default)]
    pub required_loa_at_most: Option<Loa>,
    /// Only for private SPs (no CPR).
    #[serde(default)]
    pub private_sp: Option<bool>,
    /// SAML: only for SPs that speak this OIOSAML version (sp.toml `oiosaml`). The 4.0
    /// scenarios name 4.0 vocabulary; against a 3.0.3 SP they are SKIPPED, never FAIL.
    #[serde(default)]
    pub oiosaml: Option<OiosamlVersion>,
    /// Needs an oracle that reports the identity (whoami).
    #[serde(default)]
    pub needs_identity_oracle: bool,
    /// Only for RPs of this OIDC broker (its claim vocabulary: `idp` is Signaturgruppen's,
    /// `identityscheme` Idura's).
    #[serde(default)]
    pub oidc_profile: Option<mitid_mock_broker::oidc::Profile>,
    /// OIDC: only for RPs that send a `nonce`. A nonce in the ID token is checked only against
    /// one the RP sent (OpenID Connect Core 3.1.3.7 step 11), so an RP that sends none cannot
    /// fail a wrong or missing one. Known only once the RP's authorization request is seen.
    #[serde(default)]
    pub rp_sends_nonce: bool,
    /// OIDC: only for RPs that send `state`, or that send neither `state` nor a PKCE S256
    /// challenge (they have no CSRF protection and must fail). An RP that sends no `state` and
    /// relies on PKCE instead (RFC 9700 §4.7.1 allows it) is skipped. Known only once the RP's
    /// authorization request is seen.
    #[serde(default)]
    pub rp_sends_state: bool,
    /// SAML: only for SPs whose metadata lists a SingleLogoutService on the binding of the
    /// scenario's `idp-logout` steps (every scenario with one must say so). The broker holds
    /// the metadata, so this is known at the logout step: the broker refuses to start the
    /// logout and the scenario is SKIPPED, never FAILED.
    #[serde(default)]
    pub sp_slo: bool,
    /// SAML: only for SPs that make an OIO BPP privilege a condition of logging in (sp.toml
    /// `[privileges] required`). Whether an SP grants a privilege scoped to another
    /// organisation shows only where the privilege decides the login; an SP that requires
    /// none must log in every such user, so these scenarios are NOT APPLICABLE to it, never
    /// FAIL. The scenario's `{privilege}` placeholders become the required privilege.
    #[serde(default)]
    pub sp_privilege: bool,
}

/// What the harness knows about the SP before running anything (sp.toml and the oracle), for
/// [`Applies::skip_reason`].
#[derive(Debug, Clone, Copy)]
pub struct SpFacts<'a> {
    /// Profiles the SP accepts.
    pub profiles: &'a [IdentityKind],
    /// The LoA the SP requires.
    pub required_loa: Loa,
    /// Whether the SP is private (no CPR).
    pub private_sp: bool,
    /// The OIOSAML version the SP speaks (SAML).
    pub oiosaml: OiosamlVersion,
    /// Whether the oracle reports the logged-in identity (whoami).
    pub identity_oracle: bool,
    /// The RP's OIDC broker, when configured or inferable (`None`: unknown).
    pub oidc_profile: Option<mitid_mock_broker::oidc::Profile>,
    /// SAML: the OIO BPP privilege the SP requires to log in (sp.toml `[privileges]`).
    pub required_privilege: Option<&'a str>,
}

/// What the RP's authorization request carried, for [`Applies::skip_reason_for_request`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthorizationRequestSeen {
    /// A `state` parameter.
    pub state: bool,
    /// A `nonce` parameter.
    pub nonce: bool,
    /// A PKCE challenge with `code_challenge_method=S256`.
    pub pkce_s256: bool,
}

impl Applies {
    /// Why the scenario does not apply to an SP with these facts (the text is shown as the
    /// SKIPPED verdict's message), or `None` when it applies. Rules are checked in declaration
    /// order, so the first unmet one names the reason.
    pub fn skip_reason(&self, sp: &SpFacts<'_>) -> Option<String> {
        // Destructured, so a new rule cannot be added without deciding when it is checked.
        let Applies {
            profile,
            required_loa_at_least,
            required_loa_at_most,
            private_sp,
            oiosaml,
            needs_identity_oracle,
            oidc_profile,
            rp_sends_nonce: _,
            rp_sends_state: _,
            sp_slo: _,
            sp_privilege,
        } = self;
        if let Some(p) = profile
            && !sp.profiles.contains(p)
        {
            return Some(format!(
                "the SP does not accept {p:?} logins (sp.toml profiles)"
            ));
        }
        if let Some(l) = required_loa_at_most
            && sp.required_loa > *l
        {
            return Some(format!(
                "applies to services requiring at most {l}; this SP requires {}",
                sp.required_loa
            ));
        }
        if let Some(l) = required_loa_at_least
            && sp.required_loa < *l
        {
            return Some(format!(
                "applies to services requiring {l} or higher; this SP requires {}",
                sp.required_loa
            ));
        }
        if let Some(p) = private_sp
            && *p != sp.private_sp
        {
            return Some(if *p {
                "applies to private SPs only".into()
            } else {
                "applies to public SPs only".into()
            });
        }
        if let Some(v) = oiosaml
            && *v != sp.oiosaml
        {
            return Some(format!(
                "applies to OIOSAML {v} SPs; this SP speaks {} (sp.toml `oiosaml`)",
                sp.oiosaml
            ));
        }
        if *sp_privilege && sp.required_privilege.is_none() {
            return Some(
                "applies to SPs that require an OIO BPP privilege to log in; this SP names none (sp.toml `[privileges] required`)".into(),
            );
        }
        if *needs_identity_oracle && !sp.identity_oracle {
            return Some("needs an oracle that reports the identity ([oracle] whoami_url)".into());
        }
        if let Some(want) = oidc_profile {
            match sp.oidc_profile {
                Some(p) if p == *want => {}
                Some(p) => {
                    return Some(format!(
                        "applies to {want:?} RPs; this RP uses the {p:?} broker"
                    ));
                }
                None => {
                    return Some(format!(
                        "applies to {want:?} RPs only; set `oidc_profile` in sp.toml to run it"
                    ));
                }
            }
        }
        None
    }

    /// Why the scenario does not apply to an RP that sent this authorization request, or
    /// `None`. Checked at each OIDC login step, before the broker is armed: an RP's choice of
    /// `state`, `nonce` and PKCE shows only in the request itself.
    pub fn skip_reason_for_request(&self, seen: &AuthorizationRequestSeen) -> Option<&'static str> {
        if self.rp_sends_nonce && !seen.nonce {
            return Some(
                "not applicable: the RP sends no `nonce`, so an ID token without one, or with another, is not a fault for it (OpenID Connect Core 3.1.3.7 step 11 applies only when a nonce was sent); consider sending one",
            );
        }
        if self.rp_sends_state && !seen.state && seen.pkce_s256 {
            return Some(
                "not applicable: the RP sends no `state` and relies on PKCE (S256) for CSRF protection, which RFC 9700 §4.7.1 allows; the state scenarios test RPs that send one",
            );
        }
        None
    }
}

/// The reference-SP/RP flaws that must make a scenario fail: the proof that it discriminates.
/// Flaws are named by their kebab-case ids (`reference/src/reference_sp/flaw.rs` for SAML,
/// `reference/src/reference_rp/flaw.rs` for OIDC); the harness does not know those types, so
/// the discrimination tests parse the names. The runner ignores this.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaughtBy {
    /// Flaws each of which alone makes the scenario fail (TOML `caught_by`).
    pub each: Vec<String>,
    /// Flaw combinations that make it fail only together, e.g. a replay needs both no replay
    /// cache and no InResponseTo check (TOML `caught_by_together`).
    pub together: Vec<Vec<String>>,
    /// Flaws each of which alone makes the SP accept the message but log in the identity the
    /// broker genuinely signed: graded WARN, not FAIL ([`crate::grade`]; TOML `warned_by`).
    pub warned: Vec<String>,
}

impl CaughtBy {
    /// Every alternative that fails the scenario: each single flaw, then each combination.
    pub fn alternatives(&self) -> Vec<Vec<&str>> {
        self.each
            .iter()
            .map(|f| vec![f.as_str()])
            .chain(
                self.together
                    .iter()
                    .map(|g| g.iter().map(String::as_str).collect()),
            )
            .collect()
    }

    /// True when no flaw is named to fail it (user scenarios need not name any).
    pub fn is_empty(&self) -> bool {
        self.each.is_empty() && self.together.is_empty()
    }

    fn validate(&self) -> Result<(), String> {
        let bad_name = |f: &String| f.is_empty() || f.contains(char::is_whitespace);
        if let Some(f) = self
            .each
            .iter()
            .chain(self.together.iter().flatten())
            .chain(&self.warned)
            .find(|f| bad_name(f))
        {
            return Err(format!(
                "caught_by names the flaw {f:?}; flaw ids are kebab-case words"
            ));
        }
        let mut seen = std::collections::BTreeSet::new();
        if let Some(dup) = self.each.iter().find(|f| !seen.insert(f.as_str())) {
            return Err(format!("caught_by names {dup:?} twice"));
        }
        if let Some(dup) = self.warned.iter().find(|f| !seen.insert(f.as_str())) {
            return Err(format!(
                "warned_by names {dup:?}, which caught_by or warned_by already names: one flaw has one grade"
            ));
        }
        for g in &self.together {
            let distinct: std::collections::BTreeSet<&String> = g.iter().collect();
            if distinct.len() < 2 || distinct.len() != g.len() {
                return Err(format!(
                    "caught_by_together {g:?} must name two or more different flaws (one flaw alone belongs in caught_by)"
                ));
            }
        }
        Ok(())
    }
}

/// A scenario, as loaded and checked from the catalogue.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// Stable id, `family.name`.
    pub id: String,
    /// One-line title.
    pub title: String,
    /// Family (group in reports).
    pub family: String,
    /// Protocol; every login step's kind matches it (checked when loading).
    pub protocol: Protocol,
    /// Severity when failed.
    pub severity: Severity,
    /// The steps, at least one, the first a login (the TOML single-step shorthand is expanded).
    pub steps: Vec<Step>,
    /// When the scenario applies.
    pub applies: Applies,
    /// What to do when the SP fails it, in a paragraph.
    pub rationale: String,
    /// Spec requirements, CVEs, spid-sp-test case numbers, OIDF test ids.
    pub references: Vec<String>,
    /// The reference flaws that must fail it (for the discrimination tests; not run).
    pub caught_by: CaughtBy,
}

impl Scenario {
    /// The expectation of the last step, as shown in listings.
    pub fn final_expect(&self) -> Expect {
        self.steps
            .last()
            .map(|s| s.expect)
            .unwrap_or(Expect::Reject)
    }
}

/// One step as the TOML format writes it: a flat table whose fields the loader sorts into a
/// [`StepBody`]. Kept flat (rather than deserializing the enum directly) so that existing
/// scenario files keep loading unchanged.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    #[serde(default)]
    action: Action,
    #[serde(default)]
    identity: Option<String>,
    #[serde(default)]
    loa: Option<Loa>,
    #[serde(default, rename = "attribute_profile")]
    profile: Option<AttributeProfile>,
    #[serde(default)]
    faults: Vec<Fault>,
    #[serde(default)]
    oidc_faults: Vec<OidcFault>,
    #[serde(default)]
    rotate_key: bool,
    #[serde(default)]
    binding: Option<mitid_mock_broker::control::SloBinding>,
    #[serde(default)]
    logout_faults: Vec<mitid_mock_broker::dangerous::LogoutFault>,
    #[serde(default)]
    target: Option<HeaderTarget>,
    expect: Expect,
    #[serde(default)]
    jar: Jar,
}

impl RawStep {
    /// Sort the flat fields into a step of `protocol`, with the scenario-level identity and LoA
    /// as defaults. The message of an error names the offending fields; the caller adds where.
    fn into_step(
        self,
        protocol: Protocol,
        identity: &Option<String>,
        loa: Option<Loa>,
        profile: Option<AttributeProfile>,
    ) -> Result<Step, String> {
        let RawStep {
            action,
            identity: step_identity,
            loa: step_loa,
            profile: step_profile,
            faults,
            oidc_faults,
            rotate_key,
            binding,
            logout_faults,
            target,
            expect,
            jar,
        } = self;
        if target.is_some() && action != Action::ForgedHeaders {
            return Err("`target` belongs to a `forged-headers` step".into());
        }
        let logout_fields = binding.is_some() || !logout_faults.is_empty();
        if logout_fields && action != Action::IdpLogout {
            return Err("`binding` and `logout_faults` belong to an `idp-logout` step".into());
        }
        let saml_fields = !faults.is_empty() || step_profile.is_some();
        let oidc_fields = !oidc_faults.is_empty() || rotate_key;
        let body = match action {
            Action::Replay => {
                if step_identity.is_some() || step_loa.is_some() || saml_fields || oidc_fields {
                    return Err("a replay step sends the previous login's response again; `identity`, `loa`, `attribute_profile`, `faults`, `oidc_faults` and `rotate_key` do not apply to it".into());
                }
                StepBody::Replay
            }
            Action::IdpLogout => {
                if step_identity.is_some() || step_loa.is_some() || saml_fields || oidc_fields {
                    return Err("an idp-logout step ends the previous login's session; `identity`, `loa`, `faults`, `oidc_faults` and `rotate_key` do not apply to it (use `logout_faults`)".into());
                }
                if protocol != Protocol::Saml {
                    return Err("idp-logout is SAML single logout; this is an OIDC scenario".into());
                }
                if jar != Jar::Same {
                    return Err("an idp-logout step must set `jar = \"same\"`: the logout reaches the SP through the browser that holds the session".into());
                }
                StepBody::IdpLogout(IdpLogout {
                    binding: binding.unwrap_or_default(),
                    faults: logout_faults,
                })
            }
            Action::ForgedHeaders => {
                if step_loa.is_some() || saml_fields || oidc_fields {
                    return Err("a forged-headers step sends the browser's own identity headers, no login; `loa`, `attribute_profile`, `faults`, `oidc_faults` and `rotate_key` do not apply to it (`identity` names the victim)".into());
                }
                let Some(target) = target else {
                    return Err("a forged-headers step needs `target = \"protected\" | \"preflight\" | \"acs\" | \"redirect-uri\"`".into());
                };
                match (protocol, target) {
                    (Protocol::Saml, HeaderTarget::RedirectUri) => {
                        return Err("`target = \"redirect-uri\"` is OIDC; a SAML SP's login endpoint is `acs`".into());
                    }
                    (Protocol::Oidc, HeaderTarget::Acs) => {
                        return Err("`target = \"acs\"` is SAML; an OIDC RP's login endpoint is `redirect-uri`".into());
                    }
                    (_, HeaderTarget::Protected | HeaderTarget::Preflight)
                    | (Protocol::Saml, HeaderTarget::Acs)
                    | (Protocol::Oidc, HeaderTarget::RedirectUri) => {}
                }
                if expect != Expect::Reject {
                    return Err("a forged-headers step must set `expect = \"reject\"`: the SP must never log in the identity the browser's headers name".into());
                }
                StepBody::ForgedHeaders(ForgedHeaders {
                    victim: step_identity,
                    target,
                })
            }
            Action::Login => {
                if saml_fields && oidc_fields {
                    return Err("a step mixes SAML fields (`faults`) with OIDC fields (`oidc_faults`, `rotate_key`); one step is one login of one protocol".into());
                }
                let identity = step_identity.or_else(|| identity.clone());
                let loa = step_loa.or(loa);
                match protocol {
                    Protocol::Saml if oidc_fields => {
                        return Err(if oidc_faults.is_empty() {
                            "rotate_key in a SAML scenario (it rotates an OIDC issuer's key); set protocol = \"oidc\"".into()
                        } else {
                            "oidc_faults in a SAML scenario; set protocol = \"oidc\"".into()
                        });
                    }
                    Protocol::Oidc if saml_fields || profile.is_some() => {
                        return Err(if faults.is_empty() {
                            "`attribute_profile` (OIOSAML 4.0) in an OIDC scenario".into()
                        } else {
                            "SAML faults in an OIDC scenario; use oidc_faults".into()
                        });
                    }
                    Protocol::Saml => StepBody::SamlLogin(SamlLogin {
                        identity,
                        loa,
                        plan: FaultPlan::new(faults),
                        profile: step_profile.or(profile),
                    }),
                    Protocol::Oidc => StepBody::OidcLogin(OidcLogin {
                        identity,
                        loa,
                        plan: OidcFaultPlan {
                            faults: oidc_faults,
                        },
                        rotate_key,
                    }),
                }
            }
        };
        Ok(Step { body, expect, jar })
    }
}

/// One scenario as the TOML format writes it (single-step shorthand or `steps`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    id: String,
    title: String,
    family: String,
    #[serde(default)]
    protocol: Protocol,
    severity: Severity,
    #[serde(default)]
    expect: Option<Expect>,
    #[serde(default)]
    identity: Option<String>,
    #[serde(default)]
    loa: Option<Loa>,
    #[serde(default, rename = "attribute_profile")]
    profile: Option<AttributeProfile>,
    #[serde(default)]
    faults: Vec<Fault>,
    #[serde(default)]
    oidc_faults: Vec<OidcFault>,
    #[serde(default)]
    steps: Vec<toml::Spanned<RawStep>>,
    #[serde(default)]
    applies: Applies,
    rationale: String,
    #[serde(default)]
    references: Vec<String>,
    #[serde(default)]
    caught_by: Vec<String>,
    #[serde(default)]
    caught_by_together: Vec<Vec<String>>,
    #[serde(default)]
    warned_by: Vec<String>,
}

/// Where in a scenario file something is, for errors.
struct Lines<'a>(&'a str);

impl Lines<'_> {
    /// 1-based line of a byte offset.
    fn of(&self, offset: usize) -> usize {
        let end = offset.min(self.0.len());
        self.0.as_bytes()[..end]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1
    }
}

impl RawScenario {
    /// Check and convert. `line` is where the scenario starts; errors about one step name that
    /// step's line.
    fn into_scenario(self, line: usize, lines: &Lines<'_>) -> Result<Scenario, (usize, String)> {
        let RawScenario {
            id,
            title,
            family,
            protocol,
            severity,
            expect,
            identity,
            loa,
            profile,
            faults,
            oidc_faults,
            steps,
            applies,
            rationale,
            references,
            caught_by,
            caught_by_together,
            warned_by,
        } = self;
        if id.is_empty() || id.contains(char::is_whitespace) {
            return Err((line, "id must be non-empty without spaces".into()));
        }
        let steps = if steps.is_empty() {
            let Some(expect) = expect else {
                return Err((
                    line,
                    "needs `expect = \"accept\"|\"reject\"` or `steps`".into(),
                ));
            };
            let single = RawStep {
                action: Action::Login,
                identity: None,
                loa: None,
                profile: None,
                faults,
                oidc_faults,
                rotate_key: false,
                binding: None,
                logout_faults: Vec::new(),
                target: None,
                expect,
                jar: Jar::Fresh,
            };
            vec![
                single
                    .into_step(protocol, &identity, loa, profile)
                    .map_err(|why| (line, why))?,
            ]
        } else {
            if expect.is_some() || !faults.is_empty() || !oidc_faults.is_empty() {
                return Err((
                    line,
                    "use either `steps` or the single-step fields (expect, faults), not both"
                        .into(),
                ));
            }
            let n = steps.len();
            steps
                .into_iter()
                .enumerate()
                .map(|(i, raw)| {
                    let at = lines.of(raw.span().start);
                    raw.into_inner()
                        .into_step(protocol, &identity, loa, profile)
                        .map_err(|why| (at, format!("step {} of {n}: {why}", i + 1)))
                })
                .collect::<Result<Vec<_>, _>>()?
        };
        if let Some(Step {
            body: StepBody::Replay,
            ..
        }) = steps.first()
        {
            return Err((line, "the first step cannot be a replay".into()));
        }
        if protocol == Protocol::Oidc && applies.oiosaml.is_some() {
            return Err((
                line,
                "applies.oiosaml describes SAML SPs; this is an OIDC scenario".into(),
            ));
        }
        if let Some(Step {
            body: StepBody::IdpLogout(_),
            ..
        }) = steps.first()
        {
            return Err((
                line,
                "the first step cannot be an idp-logout (it ends a previous login's session)"
                    .into(),
            ));
        }
        let logs_out = steps
            .iter()
            .any(|st| matches!(st.body, StepBody::IdpLogout(_)));
        if logs_out != applies.sp_slo {
            return Err((
                line,
                "a scenario with an idp-logout step sets `applies.sp_slo = true` (and only such a scenario)".into(),
            ));
        }
        if protocol == Protocol::Oidc && applies.sp_privilege {
            return Err((
                line,
                "applies.sp_privilege describes SAML SPs (OIO BPP privileges); this is an OIDC scenario".into(),
            ));
        }
        if protocol == Protocol::Saml && (applies.rp_sends_nonce || applies.rp_sends_state) {
            return Err((
                line,
                "applies.rp_sends_nonce / rp_sends_state describe OIDC RPs; this is a SAML scenario".into(),
            ));
        }
        let caught_by = CaughtBy {
            each: caught_by,
            together: caught_by_together,
            warned: warned_by,
        };
        caught_by.validate().map_err(|why| (line, why))?;
        Ok(Scenario {
            id,
            title,
            family,
            protocol,
            severity,
            steps,
            applies,
            rationale,
            references,
            caught_by,
        })
    }
}

/// Errors loading scenarios.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// IO.
    #[error("cannot read scenarios from {path}: {message}")]
    Io {
        /// Path.
        path: String,
        /// Message.
        message: String,
    },
    /// TOML.
    #[error("scenario file {origin} is not valid: {message}")]
    Parse {
        /// Origin.
        origin: String,
        /// Parser message (with line/column).
        message: String,
    },
    /// Bad scenario.
    #[error("{origin}:{line}: scenario {id:?}: {why}")]
    Invalid {
        /// Origin.
        origin: String,
        /// 1-based line: of the offending step, or where the scenario starts.
        line: usize,
        /// Scenario id.
        id: String,
        /// Why.
        why: String,
    },
    /// Duplicate id.
    #[error("scenario id {0:?} is defined twice")]
    Duplicate(String),
    /// --only/--skip named nothing.
    #[error("--only/--skip pattern {0:?} matches no scenario id or family")]
    NoMatch(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScenarioFile {
    #[serde(default)]
    scenario: Vec<toml::Spanned<RawScenario>>,
}

/// A set of scenarios in a stable order.
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    scenarios: Vec<Scenario>,
}

/// The embedded catalogue files (generated by build.rs from `scenarios/*.toml`).
const EMBEDDED: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/embedded_scenarios.rs"));

impl Catalogue {
    /// The built-in catalogue.
    pub fn builtin() -> Self {
        let mut c = Catalogue::default();
        for (name, text) in EMBEDDED {
            c.add_toml(text, name)
                .expect("the embedded catalogue is valid (checked by tests)");
        }
        c
    }

    /// An empty catalogue.
    pub fn empty() -> Self {
        Catalogue::default()
    }

    /// Add scenarios from TOML text.
    pub fn add_toml(&mut self, text: &str, origin: &str) -> Result<(), ScenarioError> {
        let f: ScenarioFile = toml::from_str(text).map_err(|e| ScenarioError::Parse {
            origin: origin.to_string(),
            message: e.to_string(),
        })?;
        let lines = Lines(text);
        for raw in f.scenario {
            let line = lines.of(raw.span().start);
            let raw = raw.into_inner();
            let id = raw.id.clone();
            let s =
                raw.into_scenario(line, &lines)
                    .map_err(|(line, why)| ScenarioError::Invalid {
                        origin: origin.to_string(),
                        line,
                        id,
                        why,
                    })?;
            self.push(s)?;
        }
        Ok(())
    }

    /// Add one scenario.
    pub fn push(&mut self, s: Scenario) -> Result<(), ScenarioError> {
        if self.scenarios.iter().any(|x| x.id == s.id) {
            return Err(ScenarioError::Duplicate(s.id));
        }
        self.scenarios.push(s);
        Ok(())
    }

    /// Add every `*.toml` in a directory.
    pub fn add_dir(&mut self, dir: &Path) -> Result<(), ScenarioError> {
        let io = |e: std::io::Error| ScenarioError::Io {
            path: dir.display().to_string(),
            message: e.to_string(),
        };
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .map_err(io)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .collect();
        files.sort();
        for p in files {
            let text = std::fs::read_to_string(&p).map_err(io)?;
            self.add_toml(&text, &p.display().to_string())?;
        }
        Ok(())
    }

    /// All scenarios.
    pub fn iter(&self) -> impl Iterator<Item = &Scenario> {
        self.scenarios.iter()
    }

    /// Number of scenarios.
    pub fn len(&self) -> usize {
        self.scenarios.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.scenarios.is_empty()
    }

    /// Look up by id.
    pub fn get(&self, id: &str) -> Option<&Scenario> {
        self.scenarios.iter().find(|s| s.id == id)
    }

    /// Keep scenarios matching any `only` pattern (id, id prefix or family; empty = all) and
    /// none of the `skip` patterns. A pattern matching nothing is an error (a typo in a CI gate
    /// must not silently run nothing).
    pub fn filter(&self, only: &[String], skip: &[String]) -> Result<Catalogue, ScenarioError> {
        let matches = |s: &Scenario, p: &str| {
            s.id == p
                || s.family == p
                || (p.ends_with('*') && s.id.starts_with(p.trim_end_matches('*')))
        };
        for p in only.iter().chain(skip) {
            if !self.scenarios.iter().any(|s| matches(s, p)) {
                return Err(ScenarioError::NoMatch(p.clone()));
            }
        }
        Ok(Catalogue {
            scenarios: self
                .scenarios
                .iter()
                .filter(|s| only.is_empty() || only.iter().any(|p| matches(s, p)))
                .filter(|s| !skip.iter().any(|p| matches(s, p)))
                .cloned()
                .collect(),
        })
    }

    /// Keep only scenarios of one protocol.
    pub fn protocol(&self, p: Protocol) -> Catalogue {
        Catalogue {
            scenarios: self
                .scenarios
                .iter()
                .filter(|s| s.protocol == p)
                .cloned()
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_catalogue_loads_and_ids_are_unique() {
        let c = Catalogue::builtin();
        assert!(!c.is_empty());
        for s in c.iter() {
            assert!(
                s.id.starts_with(&format!("{}.", s.family)),
                "{} not in family {}",
                s.id,
                s.family
            );
            assert!(!s.rationale.trim().is_empty(), "{} has no rationale", s.id);
        }
    }

    /// The embedded list names exactly the files in `scenarios/` (build.rs writes the list; a
    /// stale list, e.g. from another checkout sharing the target directory, shows here).
    #[test]
    fn embedded_catalogue_is_the_scenarios_directory() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .filter(|n| n.ends_with(".toml"))
            .collect();
        on_disk.sort();
        let embedded: Vec<String> = EMBEDDED.iter().map(|(n, _)| n.to_string()).collect();
        assert_eq!(embedded, on_disk);
        for (name, text) in EMBEDDED {
            let file = std::fs::read_to_string(format!("{dir}/{name}")).unwrap();
            assert!(*text == file, "{name}: the embedded text is not the file's");
        }
    }

    #[test]
    fn parse_errors_name_the_problem() {
        let mut c = Catalogue::empty();
        let e = c
            .add_toml("[[scenario]]\nid = \"x.y\"\n", "f.toml")
            .unwrap_err();
        assert!(e.to_string().contains("f.toml"), "{e}");
        let e = c
            .add_toml(
                "[[scenario]]\nid=\"x.y\"\ntitle=\"t\"\nfamily=\"x\"\nseverity=\"high\"\nrationale=\"r\"\n",
                "g.toml",
            )
            .unwrap_err();
        assert!(e.to_string().contains("expect"), "{e}");
        let e = c
            .add_toml(
                "[[scenario]]\nid=\"x.y\"\ntitle=\"t\"\nfamily=\"x\"\nseverity=\"high\"\nrationale=\"r\"\nexpect=\"reject\"\nfaults=[{fault=\"nope\"}]\n",
                "h.toml",
            )
            .unwrap_err();
        assert!(e.to_string().contains("nope"), "{e}");
    }

    /// A scenario file's text with the required fields around `body`.
    fn one(body: &str) -> String {
        format!(
            "# a comment\n[[scenario]]\nid = \"x.y\"\ntitle = \"t\"\nfamily = \"x\"\nseverity = \"high\"\nrationale = \"r\"\n{body}\n"
        )
    }

    fn load(body: &str) -> Result<Scenario, ScenarioError> {
        let mut c = Catalogue::empty();
        c.add_toml(&one(body), "f.toml")?;
        Ok(c.get("x.y").unwrap().clone())
    }

    #[test]
    fn single_step_saml_login_folds_identity_and_loa_in() {
        let s = load(
            "expect = \"accept\"\nidentity = \"bo\"\nloa = \"High\"\nfaults = [{ fault = \"remove-attribute\", name = \"n\" }]",
        )
        .unwrap();
        assert_eq!(s.protocol, Protocol::Saml);
        assert_eq!(s.steps.len(), 1);
        let st = &s.steps[0];
        assert_eq!(
            (st.expect, st.jar, st.action()),
            (Expect::Accept, Jar::Fresh, Action::Login)
        );
        let StepBody::SamlLogin(l) = &st.body else {
            panic!("not a SAML login: {st:?}");
        };
        assert_eq!(l.identity.as_deref(), Some("bo"));
        assert_eq!(l.loa, Some(Loa::High));
        assert_eq!(l.plan.faults.len(), 1);
        assert_eq!(s.final_expect(), Expect::Accept);
        assert!(s.caught_by.is_empty());
    }

    #[test]
    fn saml_steps_with_a_replay() {
        let s = load(
            "identity = \"anna\"\nsteps = [\n  { action = \"login\", expect = \"accept\" },\n  { action = \"replay\", expect = \"reject\", jar = \"same\" },\n]",
        )
        .unwrap();
        let [login, replay] = s.steps.as_slice() else {
            panic!("two steps: {:?}", s.steps);
        };
        assert_eq!(
            login.identity(),
            Some("anna"),
            "scenario identity is the steps' default"
        );
        assert!(matches!(login.body, StepBody::SamlLogin(_)));
        assert_eq!(replay.body, StepBody::Replay);
        assert_eq!((replay.action(), replay.jar), (Action::Replay, Jar::Same));
        assert_eq!(replay.identity(), None);
        assert_eq!(s.final_expect(), Expect::Reject);
    }

    #[test]
    fn oidc_steps_carry_oidc_faults_and_key_rotation() {
        let s = load(
            "protocol = \"oidc\"\nloa = \"Substantial\"\nsteps = [\n  { expect = \"accept\" },\n  { identity = \"bo\", rotate_key = true, oidc_faults = [{ fault = \"state-wrong\" }], expect = \"reject\" },\n]",
        )
        .unwrap();
        assert_eq!(s.protocol, Protocol::Oidc);
        let StepBody::OidcLogin(first) = &s.steps[0].body else {
            panic!("not an OIDC login: {:?}", s.steps[0]);
        };
        assert_eq!(
            (first.identity.as_deref(), first.loa),
            (None, Some(Loa::Substantial))
        );
        assert!(first.plan.faults.is_empty() && !first.rotate_key);
        let StepBody::OidcLogin(second) = &s.steps[1].body else {
            panic!("not an OIDC login: {:?}", s.steps[1]);
        };
        assert_eq!(second.identity.as_deref(), Some("bo"));
        assert_eq!(
            second.plan.faults,
            vec![OidcFault::StateWrong { value: None }]
        );
        assert!(second.rotate_key && s.steps[1].rotates_key());
        // A single-step OIDC scenario.
        let s = load("protocol = \"oidc\"\nexpect = \"reject\"\noidc_faults = [{ fault = \"state-missing\" }]")
            .unwrap();
        assert!(
            matches!(&s.steps[0].body, StepBody::OidcLogin(l) if l.plan.faults == vec![OidcFault::StateMissing {}])
        );
    }

    #[test]
    fn forged_headers_steps_name_a_target_of_their_protocol() {
        let s = load(
            "steps = [\n  { action = \"forged-headers\", target = \"preflight\", expect = \"reject\" },\n  { expect = \"accept\" },\n  { action = \"forged-headers\", identity = \"bo\", target = \"acs\", expect = \"reject\", jar = \"same\" },\n]",
        )
        .unwrap();
        assert_eq!(s.steps[0].action(), Action::ForgedHeaders);
        assert_eq!(
            s.steps[0].body,
            StepBody::ForgedHeaders(ForgedHeaders {
                victim: None,
                target: HeaderTarget::Preflight
            })
        );
        assert_eq!(s.steps[2].identity(), Some("bo"));
        for (body, why) in [
            (
                "steps = [{ action = \"forged-headers\", expect = \"reject\" }]",
                "needs `target",
            ),
            (
                "steps = [{ action = \"forged-headers\", target = \"redirect-uri\", expect = \"reject\" }]",
                "is OIDC",
            ),
            (
                "steps = [{ action = \"forged-headers\", target = \"protected\", expect = \"accept\" }]",
                "must set `expect = \"reject\"`",
            ),
            (
                "steps = [{ target = \"protected\", expect = \"accept\" }]",
                "`target` belongs",
            ),
        ] {
            let e = load(body).unwrap_err().to_string();
            assert!(e.contains(why), "{body}: {e}");
        }
        let e = load("protocol = \"oidc\"\nsteps = [{ action = \"forged-headers\", target = \"acs\", expect = \"reject\" }]")
            .unwrap_err()
            .to_string();
        assert!(e.contains("is SAML"), "{e}");
    }

    #[test]
    fn a_step_mixing_saml_and_oidc_fields_is_refused_with_file_line_and_id() {
        let text = one(
            "protocol = \"oidc\"\nsteps = [\n  { expect = \"accept\" },\n  { faults = [{ fault = \"remove-attribute\", name = \"n\" }], oidc_faults = [{ fault = \"state-wrong\" }], expect = \"reject\" },\n]",
        );
        let bad_line = text
            .lines()
            .position(|l| l.contains("oidc_faults"))
            .unwrap()
            + 1;
        let e = Catalogue::empty().add_toml(&text, "mine.toml").unwrap_err();
        let ScenarioError::Invalid {
            origin,
            line,
            id,
            why,
        } = &e
        else {
            panic!("{e}");
        };
        assert_eq!(
            (origin.as_str(), *line, id.as_str()),
            ("mine.toml", bad_line, "x.y")
        );
        assert!(
            why.starts_with("step 2 of 2: a step mixes SAML fields"),
            "{why}"
        );
        let shown = e.to_string();
        assert!(
            shown.starts_with(&format!("mine.toml:{bad_line}: scenario \"x.y\"")),
            "{shown}"
        );
        // The single-step form, and rotate_key as the OIDC field, are refused the same way, at
        // the scenario's line.
        let e = load("expect = \"reject\"\nfaults = [{ fault = \"remove-attribute\", name = \"n\" }]\noidc_faults = [{ fault = \"state-wrong\" }]").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("f.toml:2: scenario \"x.y\": a step mixes"),
            "{e}"
        );
        let e = load("steps = [{ rotate_key = true, faults = [{ fault = \"remove-attribute\", name = \"n\" }], expect = \"reject\" }]").unwrap_err();
        assert!(e.to_string().contains("mixes SAML fields"), "{e}");
    }

    #[test]
    fn a_protocol_mismatch_or_a_replay_with_login_fields_is_refused() {
        let cases = [
            (
                "expect = \"reject\"\noidc_faults = [{ fault = \"state-wrong\" }]",
                "oidc_faults in a SAML scenario",
            ),
            (
                "steps = [{ rotate_key = true, expect = \"accept\" }]",
                "rotate_key in a SAML scenario",
            ),
            (
                "protocol = \"oidc\"\nexpect = \"reject\"\nfaults = [{ fault = \"remove-attribute\", name = \"n\" }]",
                "SAML faults in an OIDC scenario",
            ),
            (
                "steps = [{ expect = \"accept\" }, { action = \"replay\", identity = \"bo\", expect = \"reject\" }]",
                "a replay step sends the previous login's response again",
            ),
            (
                "steps = [{ action = \"replay\", expect = \"reject\" }]",
                "the first step cannot be a replay",
            ),
            (
                "expect = \"reject\"\nsteps = [{ expect = \"accept\" }]",
                "not both",
            ),
            (
                "expect = \"reject\"\napplies = { rp_sends_nonce = true }",
                "describe OIDC RPs",
            ),
            (
                "steps = [{ expect = \"accept\", faults = [], bogus = 1 }]",
                "bogus",
            ),
        ];
        for (body, want) in cases {
            let e = load(body).unwrap_err();
            assert!(e.to_string().contains(want), "{body:?}: {e}");
        }
    }

    #[test]
    fn caught_by_is_read_and_checked() {
        let s = load(
            "expect = \"reject\"\ncaught_by = [\"key-by-cpr\", \"key-by-pid\"]\ncaught_by_together = [[\"no-replay-cache\", \"skip-in-response-to\"]]",
        )
        .unwrap();
        assert_eq!(s.caught_by.each, ["key-by-cpr", "key-by-pid"]);
        assert_eq!(
            s.caught_by.alternatives(),
            vec![
                vec!["key-by-cpr"],
                vec!["key-by-pid"],
                vec!["no-replay-cache", "skip-in-response-to"]
            ]
        );
        for (body, want) in [
            (
                "caught_by_together = [[\"a\"]]",
                "two or more different flaws",
            ),
            (
                "caught_by_together = [[\"a\", \"a\"]]",
                "two or more different flaws",
            ),
            ("caught_by = [\"a\", \"a\"]", "twice"),
            ("caught_by = [\"a b\"]", "kebab-case"),
        ] {
            let e = load(&format!("expect = \"reject\"\n{body}")).unwrap_err();
            assert!(e.to_string().contains(want), "{body}: {e}");
        }
    }

    #[test]
    fn applies_rules_are_evaluated_in_order_with_their_reasons() {
        use mitid_mock_broker::oidc::Profile;
        let profiles = [IdentityKind::Person];
        let sp = SpFacts {
            profiles: &profiles,
            required_loa: Loa::Substantial,
            private_sp: false,
            oiosaml: OiosamlVersion::V3,
            identity_oracle: false,
            oidc_profile: None,
            required_privilege: None,
        };
        assert_eq!(Applies::default().skip_reason(&sp), None);
        let why = |a: Applies| a.skip_reason(&sp);
        assert_eq!(
            why(Applies {
                profile: Some(IdentityKind::Professional),
                ..Applies::default()
            })
            .as_deref(),
            Some("the SP does not accept Professional logins (sp.toml profiles)")
        );
        assert_eq!(
            why(Applies {
                required_loa_at_least: Some(Loa::High),
                ..Applies::default()
            })
            .as_deref(),
            Some("applies to services requiring High or higher; this SP requires Substantial")
        );
        assert_eq!(
            why(Applies {
                required_loa_at_most: Some(Loa::Substantial),
                ..Applies::default()
            }),
            None
        );
        assert_eq!(
            why(Applies {
                oiosaml: Some(OiosamlVersion::V4),
                ..Applies::default()
            })
            .as_deref(),
            Some("applies to OIOSAML 4.0 SPs; this SP speaks 3.0.3 (sp.toml `oiosaml`)")
        );
        assert_eq!(
            why(Applies {
                private_sp: Some(true),
                ..Applies::default()
            })
            .as_deref(),
            Some("applies to private SPs only")
        );
        assert_eq!(
            why(Applies {
                needs_identity_oracle: true,
                ..Applies::default()
            })
            .as_deref(),
            Some("needs an oracle that reports the identity ([oracle] whoami_url)")
        );
        assert_eq!(
            why(Applies {
                oidc_profile: Some(Profile::Idura),
                ..Applies::default()
            })
            .as_deref(),
            Some("applies to Idura RPs only; set `oidc_profile` in sp.toml to run it")
        );
        let privileged = Applies {
            sp_privilege: true,
            ..Applies::default()
        };
        assert_eq!(
            why(privileged.clone()).as_deref(),
            Some(
                "applies to SPs that require an OIO BPP privilege to log in; this SP names none (sp.toml `[privileges] required`)"
            )
        );
        let requiring = SpFacts {
            required_privilege: Some("urn:dk:mock:privilege:sagsbehandler"),
            ..sp
        };
        assert_eq!(privileged.skip_reason(&requiring), None);
        let sg = SpFacts {
            oidc_profile: Some(Profile::Signaturgruppen),
            ..sp
        };
        assert_eq!(
            Applies {
                oidc_profile: Some(Profile::Idura),
                ..Applies::default()
            }
            .skip_reason(&sg)
            .as_deref(),
            Some("applies to Idura RPs; this RP uses the Signaturgruppen broker")
        );
        // The first unmet rule names the reason.
        let both = Applies {
            profile: Some(IdentityKind::Professional),
            private_sp: Some(true),
            ..Applies::default()
        };
        assert!(why(both).unwrap().contains("Professional"));
        // The request-time rules are not judged before the request is seen.
        assert_eq!(
            why(Applies {
                rp_sends_nonce: true,
                rp_sends_state: true,
                ..Applies::default()
            }),
            None
        );
    }

    #[test]
    fn state_and_nonce_rules_follow_the_authorization_request() {
        let seen = |state, nonce, pkce_s256| AuthorizationRequestSeen {
            state,
            nonce,
            pkce_s256,
        };
        let nonce = Applies {
            rp_sends_nonce: true,
            ..Applies::default()
        };
        let state = Applies {
            rp_sends_state: true,
            ..Applies::default()
        };
        assert!(
            nonce
                .skip_reason_for_request(&seen(true, false, true))
                .unwrap()
                .contains("sends no `nonce`")
        );
        assert_eq!(
            nonce.skip_reason_for_request(&seen(false, true, false)),
            None
        );
        assert!(
            state
                .skip_reason_for_request(&seen(false, true, true))
                .unwrap()
                .contains("relies on PKCE")
        );
        // No state and no PKCE: no CSRF protection at all, so the scenario runs (and fails).
        assert_eq!(
            state.skip_reason_for_request(&seen(false, true, false)),
            None
        );
        assert_eq!(
            state.skip_reason_for_request(&seen(true, false, true)),
            None
        );
        assert_eq!(
            Applies::default().skip_reason_for_request(&seen(false, false, false)),
            None
        );
    }

    /// The catalogue's state and nonce scenarios say so in `applies`: every scenario whose
    /// faults are about `state` or the ID token's `nonce` declares the matching rule, and no
    /// other does (an RP that sends neither must still run everything else).
    #[test]
    fn builtin_state_and_nonce_scenarios_declare_it() {
        let touches = |s: &Scenario, pred: &dyn Fn(&OidcFault) -> bool| {
            s.steps.iter().any(|st| match &st.body {
                StepBody::OidcLogin(l) => l.plan.faults.iter().any(pred),
                StepBody::SamlLogin(_)
                | StepBody::Replay
                | StepBody::IdpLogout(_)
                | StepBody::ForgedHeaders(_) => false,
            })
        };
        let about_state =
            |f: &OidcFault| matches!(f, OidcFault::StateWrong { .. } | OidcFault::StateMissing {});
        let about_nonce = |f: &OidcFault| match f {
            OidcFault::SetClaim { claim, .. } | OidcFault::RemoveClaim { claim, .. } => {
                claim == "nonce"
            }
            _ => false,
        };
        let mut n = 0;
        for s in Catalogue::builtin().iter() {
            assert_eq!(
                s.applies.rp_sends_state,
                touches(s, &about_state),
                "{}",
                s.id
            );
            assert_eq!(
                s.applies.rp_sends_nonce,
                touches(s, &about_nonce),
                "{}",
                s.id
            );
            n += usize::from(s.applies.rp_sends_state) + usize::from(s.applies.rp_sends_nonce);
        }
        assert_eq!(n, 4);
    }

    #[test]
    fn every_builtin_scenario_names_the_flaws_that_catch_it() {
        for s in Catalogue::builtin().iter() {
            assert!(!s.caught_by.is_empty(), "{} has no caught_by", s.id);
        }
    }

    #[test]
    fn filter_rejects_typos() {
        let c = Catalogue::builtin();
        assert!(c.filter(&["no-such-family".into()], &[]).is_err());
        let first_family = c.iter().next().unwrap().family.clone();
        let f = c.filter(std::slice::from_ref(&first_family), &[]).unwrap();
        assert!(f.iter().all(|s| s.family == first_family));
    }
}
