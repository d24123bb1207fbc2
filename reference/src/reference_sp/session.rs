//! Browser sessions, outstanding AuthnRequest IDs and the assertion replay cache.
//!
//! A session is a random cookie value mapped to in-memory state. The AuthnRequest IDs the SP
//! sent are stored *in the session that sent them*: an InResponseTo is only good in the browser
//! that started the login (this is what defeats unsolicited responses and login CSRF), and only
//! once. Everything is bounded so a test run cannot grow it without limit.

use serde::Serialize;
use std::collections::HashMap;
use std::sync::Mutex;
use time::{Duration, OffsetDateTime};

/// How long an AuthnRequest stays answerable.
pub const REQUEST_LIFETIME: Duration = Duration::minutes(10);
/// Most outstanding requests per session (older ones are forgotten).
const MAX_OUTSTANDING: usize = 16;
/// Most sessions kept (the oldest are dropped).
const MAX_SESSIONS: usize = 20_000;
/// Most assertion IDs remembered.
const MAX_REPLAY: usize = 100_000;

/// Who is logged in, as the SP understood the assertion.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Login {
    /// The key the SP files the user under (the MitID UUID unless a flaw says otherwise).
    pub uuid: String,
    /// The NameID as read.
    pub name_id: String,
    /// `person` or `professional`.
    pub kind: String,
    /// The NSIS LoA name (or `AssuranceLevel <n>` under the `AcceptAssuranceLevel` flaw).
    pub loa: String,
    /// CPR, when released.
    pub cpr: Option<String>,
    /// CVR, for professionals.
    pub cvr: Option<String>,
    /// Full name, when released.
    pub name: Option<String>,
    /// The consumed assertion's ID.
    #[serde(skip)]
    pub assertion_id: String,
}

#[derive(Debug, Default)]
struct Session {
    created: Option<OffsetDateTime>,
    outstanding: Vec<(String, OffsetDateTime)>,
    login: Option<Login>,
}

/// All sessions of one SP.
#[derive(Debug, Default)]
pub struct Sessions {
    map: Mutex<HashMap<String, Session>>,
    replay: Mutex<HashMap<String, OffsetDateTime>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A fresh unguessable session ID (128 bits, hex).
fn new_id() -> String {
    let mut bytes = [0u8; 16];
    aws_lc_rs::rand::fill(&mut bytes).expect("the system random source is available");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Sessions {
    fn evict_if_full(map: &mut HashMap<String, Session>) {
        if map.len() >= MAX_SESSIONS {
            let mut by_age: Vec<(Option<OffsetDateTime>, String)> =
                map.iter().map(|(k, s)| (s.created, k.clone())).collect();
            by_age.sort();
            for (_, k) in by_age.into_iter().take(MAX_SESSIONS / 2) {
                map.remove(&k);
            }
        }
    }

    /// Record an AuthnRequest ID in the session `sid` (creating the session when `sid` is
    /// unknown or absent). Returns the session ID to set in the cookie.
    pub fn add_request(&self, sid: Option<&str>, request_id: &str, now: OffsetDateTime) -> String {
        let mut map = lock(&self.map);
        let sid = match sid.filter(|s| map.contains_key(*s)) {
            Some(s) => s.to_string(),
            None => {
                Self::evict_if_full(&mut map);
                let s = new_id();
                map.insert(
                    s.clone(),
                    Session {
                        created: Some(now),
                        ..Default::default()
                    },
                );
                s
            }
        };
        if let Some(sess) = map.get_mut(&sid) {
            sess.outstanding
                .retain(|(_, t)| now - *t < REQUEST_LIFETIME);
            if sess.outstanding.len() >= MAX_OUTSTANDING {
                sess.outstanding.remove(0);
            }
            sess.outstanding.push((request_id.to_string(), now));
        }
        sid
    }

    /// The unexpired outstanding request IDs of a session.
    pub fn outstanding(&self, sid: Option<&str>, now: OffsetDateTime) -> Vec<String> {
        let map = lock(&self.map);
        sid.and_then(|s| map.get(s))
            .map(|s| {
                s.outstanding
                    .iter()
                    .filter(|(_, t)| now - *t < REQUEST_LIFETIME)
                    .map(|(id, _)| id.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Log in: the old session (if any) is replaced by a new one with a new ID (no session
    /// fixation), which keeps the old one's still-outstanding requests minus `consumed`.
    /// Returns the new session ID.
    pub fn log_in(
        &self,
        old: Option<&str>,
        consumed: Option<&str>,
        login: Login,
        now: OffsetDateTime,
    ) -> String {
        let mut map = lock(&self.map);
        let mut outstanding = old
            .and_then(|o| map.remove(o))
            .map(|s| s.outstanding)
            .unwrap_or_default();
        if let Some(c) = consumed {
            outstanding.retain(|(id, _)| id != c);
        }
        Self::evict_if_full(&mut map);
        let sid = new_id();
        map.insert(
            sid.clone(),
            Session {
                created: Some(now),
                outstanding,
                login: Some(login),
            },
        );
        sid
    }

    /// Forget a request ID (it was answered, even if the answer was rejected).
    pub fn consume_request(&self, sid: Option<&str>, request_id: &str) {
        let mut map = lock(&self.map);
        if let Some(s) = sid.and_then(|s| map.get_mut(s)) {
            s.outstanding.retain(|(id, _)| id != request_id);
        }
    }

    /// The login of a session, if any.
    pub fn login(&self, sid: Option<&str>) -> Option<Login> {
        let map = lock(&self.map);
        sid.and_then(|s| map.get(s)).and_then(|s| s.login.clone())
    }

    /// Log out locally.
    pub fn log_out(&self, sid: Option<&str>) {
        if let Some(s) = sid {
            lock(&self.map).remove(s);
        }
    }

    /// Whether an assertion ID was already consumed.
    pub fn seen(&self, assertion_id: &str, now: OffsetDateTime) -> bool {
        lock(&self.replay)
            .get(assertion_id)
            .is_some_and(|until| *until > now)
    }

    /// Remember a consumed assertion ID until `until` (its latest validity end).
    pub fn remember(&self, assertion_id: &str, until: OffsetDateTime, now: OffsetDateTime) {
        let mut r = lock(&self.replay);
        if r.len() >= MAX_REPLAY {
            r.retain(|_, u| *u > now);
        }
        r.insert(assertion_id.to_string(), until);
    }
}
