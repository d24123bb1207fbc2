//! Broker configuration: entityID presets, endpoints, clock, ID generation, encryption default.

use crate::saml::xmlsec::EncryptionAlgorithms;
use serde::{Deserialize, Serialize};
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use time::OffsetDateTime;

/// The default entityID: plainly a mock, and under `.invalid` so it can never resolve.
pub const MOCK_ENTITY_ID: &str = "https://saml.mock-nemlog-in.invalid";

/// Which entityID the broker presents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EntityIdPreset {
    /// [`MOCK_ENTITY_ID`] (default).
    Mock,
    /// NemLog-in's integration-test entityID `https://saml.test-nemlog-in.dk/` (note the
    /// trailing slash), for SPs whose configuration is hard-wired to it.
    IntegrationTest,
    /// NemLog-in's DevTest4 entityID `https://saml.test-devtest4-nemlog-in.dk`.
    Devtest4,
    /// Any other entityID.
    Custom(String),
}

impl EntityIdPreset {
    /// The entityID string.
    pub fn entity_id(&self) -> &str {
        match self {
            EntityIdPreset::Mock => MOCK_ENTITY_ID,
            EntityIdPreset::IntegrationTest => "https://saml.test-nemlog-in.dk/",
            EntityIdPreset::Devtest4 => "https://saml.test-devtest4-nemlog-in.dk",
            EntityIdPreset::Custom(s) => s,
        }
    }

    /// Parse `mock`, `integration-test`, `devtest4`, or an entityID URL.
    pub fn parse(s: &str) -> Self {
        match s {
            "mock" => EntityIdPreset::Mock,
            "integration-test" | "inttest" => EntityIdPreset::IntegrationTest,
            "devtest4" => EntityIdPreset::Devtest4,
            other => EntityIdPreset::Custom(other.to_string()),
        }
    }
}

/// The default encryption algorithms when the SP's metadata names none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum EncryptionDefault {
    /// AES-256-GCM + xmlenc11#rsa-oaep (SHA-256, MGF1-SHA256): NemLog-in's understood
    /// default (UNCONFIRMED). python3-saml, node-saml and samlify cannot decrypt it.
    #[default]
    Nemlogin,
    /// AES-256-GCM + xmlenc#rsa-oaep-mgf1p: what nearly every SP library decrypts.
    Compatible,
}

impl EncryptionDefault {
    /// The algorithms.
    pub fn algorithms(self) -> EncryptionAlgorithms {
        match self {
            EncryptionDefault::Nemlogin => EncryptionAlgorithms::nemlogin_default(),
            EncryptionDefault::Compatible => EncryptionAlgorithms::compatible(),
        }
    }
}

/// Source of "now" for the whole broker: SAML instants and skew checks, and the OIDC
/// provider's JWT time claims and expiries (which read it in Unix seconds). Injected so
/// snapshots and expiry scenarios are deterministic; one trait, so that a clock given to
/// [`BrokerBuilder::clock`](crate::BrokerBuilder::clock) moves both protocols together.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Current time.
    fn now(&self) -> OffsetDateTime;
}

/// The system clock, in whole seconds.
///
/// Real NemLog-in instants carry milliseconds (`...T15:00:02.337Z`). The default mint does
/// not, so that an SP that cannot parse fractional seconds fails exactly the scenarios that
/// send them (`mitid.milliseconds-instants`, `mitid.seven-digit-fractions`) with that cause
/// named, instead of failing every login at random.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        let t = OffsetDateTime::now_utc();
        t.replace_nanosecond(0).unwrap_or(t)
    }
}

/// A clock that stands still (or is moved by hand).
#[derive(Debug)]
pub struct FixedClock(Mutex<OffsetDateTime>);

impl FixedClock {
    /// A clock fixed at `t`.
    pub fn new(t: OffsetDateTime) -> Self {
        FixedClock(Mutex::new(t))
    }

    /// Move the clock.
    pub fn set(&self, t: OffsetDateTime) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = t;
    }
}

impl Clock for FixedClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A clock that only moves when told to, counted in Unix seconds (the unit of JWT time
/// claims, which is what OIDC tests reason in). [`FixedClock`] is the same idea for
/// `OffsetDateTime`s.
#[derive(Debug, Default)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    /// A clock at `now` (Unix seconds).
    pub fn new(now: i64) -> Self {
        ManualClock(AtomicI64::new(now))
    }

    /// Jump to `now`.
    pub fn set(&self, now: i64) {
        self.0.store(now, Ordering::SeqCst);
    }

    /// Move forward by `secs`.
    pub fn advance(&self, secs: i64) {
        self.0.fetch_add(secs, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    /// Out-of-range seconds (beyond year ±9999) saturate at the representable bound.
    fn now(&self) -> OffsetDateTime {
        let secs = self.0.load(Ordering::SeqCst);
        OffsetDateTime::from_unix_timestamp(secs).unwrap_or(if secs < 0 {
            time::PrimitiveDateTime::MIN.assume_utc()
        } else {
            time::PrimitiveDateTime::MAX.assume_utc()
        })
    }
}

/// Generates message IDs. Seeded generators give reproducible IDs for snapshots.
#[derive(Debug)]
pub struct IdGen {
    seed: Option<u64>,
    counter: AtomicU64,
}

impl IdGen {
    /// Random IDs (UUID v4 based).
    pub fn random() -> Self {
        IdGen {
            seed: None,
            counter: AtomicU64::new(0),
        }
    }

    /// Deterministic IDs from a seed and a counter.
    pub fn seeded(seed: u64) -> Self {
        IdGen {
            seed: Some(seed),
            counter: AtomicU64::new(0),
        }
    }

    /// A fresh xs:ID-valid identifier with a readable prefix (`_r-`, `_a-`, `_s-`...).
    pub fn next(&self, prefix: &str) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        match self.seed {
            Some(seed) => format!("_{prefix}-{seed:08x}-{n:06}"),
            None => format!("_{prefix}-{}", uuid::Uuid::new_v4().simple()),
        }
    }

    /// A fresh version-4 UUID (transient NameIDs): random, or derived from the seed and the
    /// counter so seeded brokers (snapshots) stay reproducible.
    pub fn uuid(&self) -> uuid::Uuid {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        match self.seed {
            Some(seed) => {
                let mut bytes = [0u8; 16];
                bytes[..8].copy_from_slice(&seed.to_be_bytes());
                bytes[8..].copy_from_slice(&n.to_be_bytes());
                uuid::Builder::from_random_bytes(bytes).into_uuid()
            }
            None => uuid::Uuid::new_v4(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Transient NameIDs come from here: fresh at every call, valid v4 UUIDs, and the same
    /// sequence for the same seed (snapshots).
    #[test]
    fn uuids_are_fresh_v4_and_reproducible_when_seeded() {
        let a = IdGen::seeded(7);
        let (x, y) = (a.uuid(), a.uuid());
        assert_ne!(x, y);
        assert_eq!(x.get_version_num(), 4);
        let b = IdGen::seeded(7);
        assert_eq!(b.uuid(), x);
        let r = IdGen::random();
        assert_ne!(r.uuid(), r.uuid());
    }

    /// The presets are the entityIDs NemLog-in publishes (docs/fidelity.md): integration test
    /// with its trailing slash (ITfoxtec's integration-test IdP metadata), devtest4 without one
    /// (OIOSAML.Java's devtest4 metadata). A slip here would make every SP configured for the
    /// real environment reject the mock's assertions, or accept a wrong issuer.
    #[test]
    fn entity_id_presets_are_the_published_ones() {
        assert_eq!(
            EntityIdPreset::parse("integration-test").entity_id(),
            "https://saml.test-nemlog-in.dk/"
        );
        assert_eq!(
            EntityIdPreset::parse("inttest").entity_id(),
            "https://saml.test-nemlog-in.dk/"
        );
        assert_eq!(
            EntityIdPreset::parse("devtest4").entity_id(),
            "https://saml.test-devtest4-nemlog-in.dk"
        );
        assert_eq!(EntityIdPreset::parse("mock").entity_id(), MOCK_ENTITY_ID);
        assert_eq!(
            EntityIdPreset::parse("https://saml.nemlog-in.dk").entity_id(),
            "https://saml.nemlog-in.dk"
        );
    }

    #[test]
    fn clocks_stand_still_until_moved() {
        let t = time::macros::datetime!(2030-01-01 00:00 UTC);
        let fixed = FixedClock::new(t);
        assert_eq!(fixed.now(), t);
        fixed.set(t + time::Duration::hours(1));
        assert_eq!(fixed.now(), t + time::Duration::hours(1));

        let manual = ManualClock::new(t.unix_timestamp());
        assert_eq!(manual.now(), t);
        manual.advance(61);
        assert_eq!(manual.now(), t + time::Duration::seconds(61));
        manual.set(0);
        assert_eq!(manual.now(), OffsetDateTime::UNIX_EPOCH);
    }

    #[test]
    fn a_manual_clock_out_of_range_saturates() {
        assert_eq!(
            ManualClock::new(i64::MAX).now(),
            time::PrimitiveDateTime::MAX.assume_utc()
        );
        assert_eq!(
            ManualClock::new(i64::MIN).now(),
            time::PrimitiveDateTime::MIN.assume_utc()
        );
    }

    #[test]
    fn the_system_clock_has_whole_seconds() {
        assert_eq!(SystemClock.now().nanosecond(), 0);
    }
}
