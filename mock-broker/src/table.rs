//! Bounded, expiring tables for the SAML side's per-flow state.
//!
//! The broker is meant to run for hours on a developer's laptop, so nothing it keeps on behalf
//! of a request may grow without limit: every table has a maximum number of entries, every key
//! and recorded field a maximum length, and every entry a time after which it is forgotten. The
//! OIDC provider has the same discipline in its own `Flows` (see `oidc::provider`).
//!
//! Two policies exist because the tables serve two purposes:
//! - [`Full::Refuse`]: state whose loss would weaken a security property (the AuthnRequest IDs
//!   remembered for replay protection). When every slot holds a live entry, the new entry is
//!   refused and the caller answers "try again later"; nothing live is forgotten.
//! - [`Full::EvictOldest`]: records kept for convenience (armed logins, flow records, SLO
//!   sessions). When full, the entry closest to expiry goes, and a warning is logged.

use std::collections::HashMap;
use std::hash::Hash;
use time::{Duration, OffsetDateTime};

/// What a full table does with a new entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Full {
    /// Refuse the new entry ([`TableFull`]).
    Refuse,
    /// Make room by dropping the entry that expires first.
    EvictOldest,
}

/// The table holds its maximum of live entries and may not forget any of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the mock broker holds {max} live {what}; try again when some have expired")]
pub struct TableFull {
    /// What the table holds.
    pub what: &'static str,
    /// Its capacity.
    pub max: usize,
}

#[derive(Debug)]
struct Entry<V> {
    value: V,
    expires_at: OffsetDateTime,
}

/// A map with a capacity, a time to live per entry and a policy for when it is full.
#[derive(Debug)]
pub(crate) struct BoundedTable<K, V> {
    what: &'static str,
    max: usize,
    ttl: Duration,
    full: Full,
    map: HashMap<K, Entry<V>>,
}

impl<K: Eq + Hash + Clone, V> BoundedTable<K, V> {
    pub(crate) fn new(what: &'static str, max: usize, ttl: Duration, full: Full) -> Self {
        Self {
            what,
            max: max.max(1),
            ttl,
            full,
            map: HashMap::new(),
        }
    }

    /// Insert (or replace) `key`, live until `now + ttl`.
    pub(crate) fn insert(
        &mut self,
        key: K,
        value: V,
        now: OffsetDateTime,
    ) -> Result<(), TableFull> {
        self.insert_until(key, value, now, now + self.ttl)
    }

    /// Insert (or replace) `key`, live until `expires_at` (at most `now + ttl`).
    pub(crate) fn insert_until(
        &mut self,
        key: K,
        value: V,
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<(), TableFull> {
        let expires_at = expires_at.min(now + self.ttl);
        // Expired entries go whenever the table has grown to a power of two (from 1024 on):
        // amortised constant work, and memory follows the live set instead of creeping up to
        // the count cap (the soak benchmark's AuthnRequest IDs would otherwise take the better
        // part of an hour to reach it before the first sweep).
        let n = self.map.len();
        if n >= 1024 && n.is_power_of_two() {
            self.map.retain(|_, e| e.expires_at > now);
        }
        if !self.map.contains_key(&key) && self.map.len() >= self.max {
            self.map.retain(|_, e| e.expires_at > now);
            if self.map.len() >= self.max {
                match self.full {
                    Full::Refuse => {
                        return Err(TableFull {
                            what: self.what,
                            max: self.max,
                        });
                    }
                    Full::EvictOldest => {
                        let oldest = self
                            .map
                            .iter()
                            .min_by_key(|(_, e)| e.expires_at)
                            .map(|(k, _)| k.clone());
                        if let Some(k) = oldest {
                            tracing::warn!(
                                table = self.what,
                                max = self.max,
                                "table full: the oldest entry was dropped"
                            );
                            self.map.remove(&k);
                        }
                    }
                }
            }
        }
        self.map.insert(key, Entry { value, expires_at });
        Ok(())
    }

    /// The live entry for `key`.
    pub(crate) fn get(&self, key: &K, now: OffsetDateTime) -> Option<&V> {
        self.map
            .get(key)
            .filter(|e| e.expires_at > now)
            .map(|e| &e.value)
    }

    /// The live entry for `key`, mutably.
    pub(crate) fn get_mut(&mut self, key: &K, now: OffsetDateTime) -> Option<&mut V> {
        self.map
            .get_mut(key)
            .filter(|e| e.expires_at > now)
            .map(|e| &mut e.value)
    }

    /// Remove and return the live entry for `key`.
    pub(crate) fn take(&mut self, key: &K, now: OffsetDateTime) -> Option<V> {
        let e = self.map.remove(key)?;
        (e.expires_at > now).then_some(e.value)
    }

    /// The live values, in no particular order.
    pub(crate) fn values(&self, now: OffsetDateTime) -> impl Iterator<Item = &V> {
        self.map
            .values()
            .filter(move |e| e.expires_at > now)
            .map(|e| &e.value)
    }

    /// The live values, mutably, in no particular order.
    pub(crate) fn values_mut(&mut self, now: OffsetDateTime) -> impl Iterator<Item = &mut V> {
        self.map
            .values_mut()
            .filter(move |e| e.expires_at > now)
            .map(|e| &mut e.value)
    }

    /// Remove every live entry whose value matches `pred` (and any expired ones).
    pub(crate) fn remove_where(&mut self, now: OffsetDateTime, mut pred: impl FnMut(&V) -> bool) {
        self.map
            .retain(|_, e| e.expires_at > now && !pred(&e.value));
    }

    /// Whether `key` is live.
    pub(crate) fn contains(&self, key: &K, now: OffsetDateTime) -> bool {
        self.get(key, now).is_some()
    }

    /// Entries held (live or not yet purged).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }
}

/// Cut `s` to at most `max` bytes on a character boundary, marking the cut, so that a recorded
/// field (a fetch token, a User-Agent) cannot make a record arbitrarily large.
pub(crate) fn capped(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes in all)", &s[..end], s.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-01-01 00:00:00 UTC);

    #[test]
    fn a_refusing_table_never_forgets_a_live_entry() {
        let mut t = BoundedTable::new("ids", 2, Duration::minutes(10), Full::Refuse);
        t.insert("a", (), T0).unwrap();
        t.insert("b", (), T0).unwrap();
        let err = t.insert("c", (), T0 + Duration::minutes(1)).unwrap_err();
        assert_eq!(
            err,
            TableFull {
                what: "ids",
                max: 2
            }
        );
        assert!(t.contains(&"a", T0 + Duration::minutes(1)));
        // Once they expire there is room again.
        t.insert("c", (), T0 + Duration::minutes(11)).unwrap();
        assert_eq!(t.len(), 1);
        assert!(!t.contains(&"a", T0 + Duration::minutes(11)));
    }

    #[test]
    fn an_evicting_table_drops_the_entry_closest_to_expiry() {
        let mut t = BoundedTable::new("armed", 2, Duration::minutes(10), Full::EvictOldest);
        t.insert("old", 1, T0).unwrap();
        t.insert("mid", 2, T0 + Duration::minutes(1)).unwrap();
        t.insert("new", 3, T0 + Duration::minutes(2)).unwrap();
        let now = T0 + Duration::minutes(2);
        assert_eq!(t.get(&"old", now), None);
        assert_eq!(t.get(&"mid", now), Some(&2));
        assert_eq!(t.get(&"new", now), Some(&3));
    }

    #[test]
    fn expired_entries_are_swept_as_the_table_grows() {
        let mut t = BoundedTable::new("ids", 100_000, Duration::seconds(100), Full::Refuse);
        for k in 0..5000u32 {
            let now = T0 + Duration::seconds(i64::from(k));
            t.insert(k, (), now).unwrap();
            assert!(t.len() <= 2048, "{} entries at {k}", t.len());
        }
    }

    #[test]
    fn replacing_a_key_needs_no_room() {
        let mut t = BoundedTable::new("ids", 1, Duration::minutes(10), Full::Refuse);
        t.insert("a", 1, T0).unwrap();
        t.insert("a", 2, T0).unwrap();
        assert_eq!(t.take(&"a", T0), Some(2));
        assert_eq!(t.take(&"a", T0), None);
    }

    #[test]
    fn an_explicit_expiry_is_capped_by_the_ttl() {
        let mut t = BoundedTable::new("ids", 4, Duration::minutes(10), Full::Refuse);
        t.insert_until("a", (), T0, T0 + Duration::days(365))
            .unwrap();
        assert!(t.contains(&"a", T0 + Duration::minutes(9)));
        assert!(!t.contains(&"a", T0 + Duration::minutes(10)));
    }

    #[test]
    fn capped_cuts_on_a_character_boundary() {
        assert_eq!(capped("abc", 3), "abc");
        assert_eq!(capped("æøå", 3), "æ… (6 bytes in all)");
        assert!(capped(&"x".repeat(100_000), 256).len() < 300);
    }
}
