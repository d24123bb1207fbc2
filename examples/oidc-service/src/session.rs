//! Cookie sessions, kept in memory: a random id in an `HttpOnly` cookie names a server-side
//! record that is either a pending login (state, nonce, PKCE verifier) or a logged-in user.
//!
//! A pending login is taken out of the store by the first callback that names its session,
//! whatever the outcome, so an authorization response works once and only in the browser that
//! started the login. A completed login gets a new session id (no session fixation).
//! A real deployment with several instances would put this in a shared store.

use crate::broker::PendingLogin;
use crate::mitid::MitidUser;
use axum::http::{HeaderMap, HeaderValue, header};
use openidconnect::CsrfToken;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The session cookie's name.
pub const COOKIE: &str = "session";
/// How long a started login may take.
const PENDING_TTL: Duration = Duration::from_secs(10 * 60);
/// How long a login lasts (Signaturgruppen's broker session lasts 8 hours too).
const LOGIN_TTL: Duration = Duration::from_secs(8 * 60 * 60);
/// Bound on sessions in memory.
const MAX_SESSIONS: usize = 100_000;

#[derive(Debug)]
enum State {
    Pending(PendingLogin),
    LoggedIn(MitidUser),
}

#[derive(Debug)]
struct Session {
    state: State,
    expires: Instant,
}

/// The session store.
#[derive(Debug, Default)]
pub struct Sessions {
    map: Mutex<HashMap<String, Session>>,
}

/// The store is full of live sessions.
#[derive(Debug, thiserror::Error)]
#[error("too many sessions")]
pub struct Full;

impl Sessions {
    fn insert(&self, state: State, ttl: Duration) -> Result<String, Full> {
        let id = CsrfToken::new_random_len(32).into_secret();
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_SESSIONS {
            let now = Instant::now();
            map.retain(|_, s| s.expires > now);
            if map.len() >= MAX_SESSIONS {
                return Err(Full);
            }
        }
        map.insert(
            id.clone(),
            Session {
                state,
                expires: Instant::now() + ttl,
            },
        );
        Ok(id)
    }

    /// A new session holding a started login; returns its id.
    pub fn start_login(&self, pending: PendingLogin) -> Result<String, Full> {
        self.insert(State::Pending(pending), PENDING_TTL)
    }

    /// Take the pending login of this session out of the store (it is good for one callback).
    pub fn take_pending(&self, id: &str) -> Option<PendingLogin> {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        match map.remove(id) {
            Some(Session {
                state: State::Pending(p),
                expires,
            }) if expires > Instant::now() => Some(p),
            Some(
                other @ Session {
                    state: State::LoggedIn(_),
                    ..
                },
            ) => {
                map.insert(id.to_string(), other);
                None
            }
            _ => None,
        }
    }

    /// A new session for a logged-in user; returns its id.
    pub fn log_in(&self, user: MitidUser) -> Result<String, Full> {
        self.insert(State::LoggedIn(user), LOGIN_TTL)
    }

    /// The user logged in with this session, if any.
    pub fn user(&self, id: &str) -> Option<MitidUser> {
        let map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        match map.get(id) {
            Some(Session {
                state: State::LoggedIn(u),
                expires,
            }) if *expires > Instant::now() => Some(u.clone()),
            _ => None,
        }
    }

    /// End a session.
    pub fn remove(&self, id: &str) {
        self.map
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
    }
}

/// The session id in the request's cookies.
pub fn from_headers(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.to_string())
}

/// `Set-Cookie` for a session id (`None`: delete the cookie). `SameSite=Lax` so the cookie
/// comes along on the broker's top-level redirect back to the callback.
pub fn set_cookie(id: Option<&str>, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let v = match id {
        Some(id) => format!("{COOKIE}={id}; Path=/; HttpOnly; SameSite=Lax{secure}"),
        None => format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}"),
    };
    HeaderValue::from_str(&v).unwrap_or_else(|_| HeaderValue::from_static(""))
}
