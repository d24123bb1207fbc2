//! Scenarios: declarative descriptions of one login (or a few) and what the SP must do.
//!
//! A scenario is data, not code: it names an identity, a LoA and faults from the broker's
//! dangerous vocabulary ([`mitid_mock_broker::Fault`]), and an expectation. The catalogue lives
//! in `scenarios/*.toml` (one file per family), embedded in the binary; users add their own
//! files with `--scenarios DIR`.
//!
//! ```toml
//! [[scenario]]
//! id = "legacy.assurance-level-only"
//! title = "OIOSAML 3 assertion with AssuranceLevel instead of an NSIS LoA"
//! family = "legacy"
//! severity = "critical"
//! expect = "reject"
//! faults = [
//!   { fault = "remove-attribute", name = "https://data.gov.dk/concept/core/nsis/loa" },
//!   { fault = "set-attribute", name = "dk:gov:saml:attribute:AssuranceLevel", values = ["3"] },
//! ]
//! rationale = "Your SP accepts ..."
//! references = ["OIOSAML.Java AssertionValidationService: NSIS LoA required"]
//! ```

use mitid_mock_broker::oidc::{OidcFault, OidcFaultPlan};
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

/// What a step does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// A full login through the broker (the normal case).
    #[default]
    Login,
    /// Post the previous step's SAMLResponse to the ACS again.
    Replay,
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

/// One step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// What the step does.
    #[serde(default)]
    pub action: Action,
    /// Identity handle (default: the scenario's).
    #[serde(default)]
    pub identity: Option<String>,
    /// LoA to assert (default: the identity's).
    #[serde(default)]
    pub loa: Option<Loa>,
    /// Faults for this step's login (SAML).
    #[serde(default)]
    pub faults: Vec<Fault>,
    /// Faults for this step's login (OIDC).
    #[serde(default)]
    pub oidc_faults: Vec<OidcFault>,
    /// Rotate the issuer's signing key before this step (OIDC key-rotation scenarios).
    #[serde(default)]
    pub rotate_key: bool,
    /// Expectation for this step.
    pub expect: Expect,
    /// Cookie jar.
    #[serde(default)]
    pub jar: Jar,
}

/// Conditions under which a scenario applies to an SP.
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
    /// Needs an oracle that reports the identity (whoami).
    #[serde(default)]
    pub needs_identity_oracle: bool,
    /// Only for RPs of this OIDC broker (its claim vocabulary: `idp` is Signaturgruppen's,
    /// `identityscheme` Idura's).
    #[serde(default)]
    pub oidc_profile: Option<mitid_mock_broker::oidc::Profile>,
}

/// A scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Stable id, `family.name`.
    pub id: String,
    /// One-line title.
    pub title: String,
    /// Family (group in reports).
    pub family: String,
    /// Protocol.
    #[serde(default)]
    pub protocol: Protocol,
    /// Severity when failed.
    pub severity: Severity,
    /// Expectation (single-step form).
    #[serde(default)]
    pub expect: Option<Expect>,
    /// Identity handle (default `anna`, or the first professional for professional-only SPs).
    #[serde(default)]
    pub identity: Option<String>,
    /// LoA to assert (single-step form).
    #[serde(default)]
    pub loa: Option<Loa>,
    /// Faults (single-step form, SAML).
    #[serde(default)]
    pub faults: Vec<Fault>,
    /// Faults (single-step form, OIDC).
    #[serde(default)]
    pub oidc_faults: Vec<OidcFault>,
    /// Steps (multi-step form; overrides the single-step fields).
    #[serde(default)]
    pub steps: Vec<Step>,
    /// When the scenario applies.
    #[serde(default)]
    pub applies: Applies,
    /// What to do when the SP fails it, in a paragraph.
    pub rationale: String,
    /// Spec requirements, CVEs, spid-sp-test case numbers, OIDF test ids.
    #[serde(default)]
    pub references: Vec<String>,
}

impl Scenario {
    /// The steps, with the single-step shorthand expanded.
    pub fn effective_steps(&self) -> Vec<Step> {
        if !self.steps.is_empty() {
            return self.steps.clone();
        }
        vec![Step {
            action: Action::Login,
            identity: self.identity.clone(),
            loa: self.loa,
            faults: self.faults.clone(),
            oidc_faults: self.oidc_faults.clone(),
            rotate_key: false,
            expect: self.expect.unwrap_or(Expect::Reject),
            jar: Jar::Fresh,
        }]
    }

    /// The expectation of the last step, as shown in listings.
    pub fn final_expect(&self) -> Expect {
        self.effective_steps()
            .last()
            .map(|s| s.expect)
            .unwrap_or(Expect::Reject)
    }

    /// The SAML fault plan of a step.
    pub fn plan(step: &Step) -> FaultPlan {
        FaultPlan::new(step.faults.clone())
    }

    /// The OIDC fault plan of a step.
    pub fn oidc_plan(step: &Step) -> OidcFaultPlan {
        OidcFaultPlan {
            faults: step.oidc_faults.clone(),
        }
    }

    fn validate(&self, origin: &str) -> Result<(), ScenarioError> {
        let bad = |why: String| ScenarioError::Invalid {
            origin: origin.to_string(),
            id: self.id.clone(),
            why,
        };
        if self.id.is_empty() || self.id.contains(char::is_whitespace) {
            return Err(bad("id must be non-empty without spaces".into()));
        }
        if self.steps.is_empty() && self.expect.is_none() {
            return Err(bad(
                "needs `expect = \"accept\"|\"reject\"` or `steps`".into()
            ));
        }
        if self.protocol == Protocol::Saml
            && (!self.oidc_faults.is_empty()
                || self.steps.iter().any(|s| !s.oidc_faults.is_empty()))
        {
            return Err(bad(
                "oidc_faults in a SAML scenario; set protocol = \"oidc\"".into(),
            ));
        }
        if self.protocol == Protocol::Oidc
            && (!self.faults.is_empty() || self.steps.iter().any(|s| !s.faults.is_empty()))
        {
            return Err(bad(
                "SAML faults in an OIDC scenario; use oidc_faults".into()
            ));
        }
        if !self.steps.is_empty()
            && (self.expect.is_some() || !self.faults.is_empty() || !self.oidc_faults.is_empty())
        {
            return Err(bad(
                "use either `steps` or the single-step fields (expect, faults), not both".into(),
            ));
        }
        if let Some(first) = self.effective_steps().first() {
            if first.action == Action::Replay {
                return Err(bad("the first step cannot be a replay".into()));
            }
        }
        Ok(())
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
    #[error("scenario {id:?} in {origin}: {why}")]
    Invalid {
        /// Origin.
        origin: String,
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
    scenario: Vec<Scenario>,
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
        for s in f.scenario {
            s.validate(origin)?;
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

    #[test]
    fn filter_rejects_typos() {
        let c = Catalogue::builtin();
        assert!(c.filter(&["no-such-family".into()], &[]).is_err());
        let first_family = c.iter().next().unwrap().family.clone();
        let f = c.filter(std::slice::from_ref(&first_family), &[]).unwrap();
        assert!(f.iter().all(|s| s.family == first_family));
    }
}
