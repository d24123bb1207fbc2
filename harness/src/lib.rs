//! mitid-harness: a conformance harness for Danish service providers that log in through a
//! MitID broker.
//!
//! It points a real SP at a mock NemLog-in broker ([`mitid_mock_broker`]), drives its login
//! like a browser, and decides from the SP's own behaviour whether it logs in with MitID and
//! rejects every NemID-era or forged assertion.
//!
//! # In your own `cargo test`
//!
//! ```no_run
//! # async fn t() {
//! use mitid_harness::{Harness, OracleConfig, SpConfig};
//! use mitid_harness::sp::BrokerConfig;
//! // Your app is already listening on 127.0.0.1:8080 and configured with the broker's
//! // metadata (a fixed broker port makes that a one-time setup).
//! let sp = SpConfig::builder("http://127.0.0.1:8080/login")
//!     .sp_metadata("http://127.0.0.1:8080/saml/metadata")
//!     .oracle(OracleConfig::whoami_json("http://127.0.0.1:8080/whoami", "uuid"))
//!     .broker(BrokerConfig::bind(([127, 0, 0, 1], 8390).into()))
//!     .build()
//!     .unwrap();
//! let report = Harness::builder(sp).build().await.unwrap().run().await;
//! // Panics unless the release gate passes (sp.toml `[gate]`, or `.gate(...)` / `.baseline(...)`
//! // on the builder: by default an unwaived FAIL of severity high or critical blocks, and a run
//! // in which nothing applied never passes), with what the SP did, scenario by scenario.
//! report.assert_conformant();
//! # }
//! ```
//!
//! See `examples/oidc-service/` in the repository for a compiled, self-contained version: an
//! axum OIDC service whose own `cargo test` runs the OIDC catalogue against it.

// The browser agent, the oracle and the runner are implementation: users reach them through
// `Harness`, `SpConfig` and the report types re-exported below, so they can change freely.
mod agent;
pub mod applicability;
pub mod gate;
pub mod grade;
pub mod inspect;
mod oracle;
pub mod report;
mod runner;
pub mod scenario;
pub mod sp;

pub use agent::{AgentError, Exchange};
pub use gate::{Baseline, GateOutcome, GatePolicy, GateStatus, Waiver};
pub use grade::Grade;
pub use oracle::{Evidence, Observation, Oracle};
pub use report::{RunReport, ScenarioResult, Summary, Verdict};
pub use runner::{BrokerLink, Harness, HarnessBuilder, RunError};
pub use scenario::{Catalogue, Expect, Scenario, Severity};
pub use sp::{OracleConfig, SpConfig, SpConfigBuilder, UserKey};
