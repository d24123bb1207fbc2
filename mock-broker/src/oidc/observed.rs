//! Flow records: which of the provider's endpoints the RP used for each login flow.
//!
//! A flow is named by the same [`FlowKey`] the harness arms it with: the RP's `state`, else its
//! `nonce`, else its PKCE `code_challenge` (the order in which the authorization endpoint looks
//! plans up). The authorization endpoint opens the record; the token endpoint (through the
//! code), userinfo (through the access token) and end session (through the `id_token_hint`'s
//! session id) add to it. Read it with [`OidcProvider::flow_record`] or, for a broker in
//! another process, `POST /_mock/oidc/flow` with `{"key": {"state": "..."}}`.

use super::provider::{AuthRequest, Expiring, FlowKey, Flows, OidcProvider, evicting_insert};
use crate::observed::Endpoint;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

/// How long after its token response a flow still collects JWKS fetches of its issuer.
const JWKS_WINDOW: Duration = Duration::from_secs(30);
/// How long records are kept.
const RECORD_TTL_SECS: i64 = 3600;

/// What the provider saw of one login flow.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OidcFlowRecord {
    /// The flow's key (as the harness arms it).
    pub key: FlowKey,
    /// Issuer id (`signaturgruppen`, `idura`).
    pub issuer: String,
    /// The client that started the flow.
    pub client_id: String,
    /// The identity logged in, once the login completed.
    pub identity: Option<String>,
    /// The broker session id (`neb_sid` / `sessionindex`) of the login.
    pub session_id: Option<String>,
    /// The endpoints the RP used in this flow (see [`Endpoint`]; `jwks` is a hint).
    pub endpoints: BTreeSet<Endpoint>,
    /// How often the flow's code was redeemed (successfully or not).
    pub token_redemptions: u32,
    /// How often userinfo was called with the flow's access token.
    pub userinfo_calls: u32,
    /// Why an armed fault could not be delivered to this RP at all (`jwe-id-token` for an RP
    /// that registered no key to encrypt to): the harness then skips the step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub undeliverable: Option<String>,
    /// When the token response was sent (real time, for attributing JWKS fetches).
    #[serde(skip)]
    token_sent: Option<Instant>,
    /// The validated authorization request's parameters (name, value), for the developer page;
    /// not part of the control protocol.
    #[serde(skip)]
    pub(crate) request: Vec<(&'static str, String)>,
}

/// Equal when everything a reader sees is equal (the JSON form): the JWKS bookkeeping instant
/// does not travel over the control API.
impl PartialEq for OidcFlowRecord {
    fn eq(&self, o: &Self) -> bool {
        let OidcFlowRecord {
            key,
            issuer,
            client_id,
            identity,
            session_id,
            endpoints,
            token_redemptions,
            userinfo_calls,
            undeliverable,
            token_sent: _,
            request: _,
        } = self;
        (
            key,
            issuer,
            client_id,
            identity,
            session_id,
            endpoints,
            token_redemptions,
            userinfo_calls,
            undeliverable,
        ) == (
            &o.key,
            &o.issuer,
            &o.client_id,
            &o.identity,
            &o.session_id,
            &o.endpoints,
            &o.token_redemptions,
            &o.userinfo_calls,
            &o.undeliverable,
        )
    }
}

impl Eq for OidcFlowRecord {}

impl OidcFlowRecord {
    /// Whether the RP used `e` in this flow.
    pub fn used(&self, e: Endpoint) -> bool {
        self.endpoints.contains(&e)
    }
}

/// The authorization request as the developer page shows it.
fn request_summary(req: &AuthRequest, via_par: bool) -> Vec<(&'static str, String)> {
    let mut v = vec![
        ("client_id", req.client_id.clone()),
        ("redirect_uri", req.redirect_uri.clone()),
        ("scope", req.scopes.join(" ")),
        ("response_mode", format!("{:?}", req.mode)),
        ("requested level", req.policy.requested.to_string()),
        ("pushed (PAR)", via_par.to_string()),
    ];
    if let Some(s) = &req.state {
        v.push(("state", s.clone()));
    }
    if let Some(n) = &req.nonce {
        v.push(("nonce", n.clone()));
    }
    if let Some((c, m)) = &req.pkce {
        v.push(("code_challenge", format!("{c} ({m:?})")));
    }
    v
}

/// The key a flow is recorded under: `state`, else `nonce`, else the PKCE challenge.
pub(crate) fn flow_key(req: &AuthRequest) -> Option<FlowKey> {
    if let Some(s) = &req.state {
        return Some(FlowKey::State(s.clone()));
    }
    if let Some(n) = &req.nonce {
        return Some(FlowKey::Nonce(n.clone()));
    }
    req.pkce
        .as_ref()
        .map(|(c, _)| FlowKey::CodeChallenge(c.clone()))
}

/// The flow's code was presented at the token endpoint (under the token endpoint's lock).
pub(crate) fn note_token(flows: &mut Flows, req: &AuthRequest) {
    if let Some(r) = flow_key(req).and_then(|k| flows.records.get_mut(&k)) {
        r.value.endpoints.insert(Endpoint::Token);
        r.value.token_redemptions = r.value.token_redemptions.saturating_add(1);
    }
}

/// An armed fault of the flow cannot reach the RP (see [`OidcFlowRecord::undeliverable`]).
pub(crate) fn note_undeliverable(flows: &mut Flows, req: &AuthRequest, why: &str) {
    if let Some(r) = flow_key(req).and_then(|k| flows.records.get_mut(&k)) {
        r.value.undeliverable = Some(why.to_string());
    }
}

/// Tokens were issued for the flow: JWKS fetches from now on are attributed to it.
pub(crate) fn note_token_sent(flows: &mut Flows, req: &AuthRequest) {
    if let Some(r) = flow_key(req).and_then(|k| flows.records.get_mut(&k)) {
        r.value.token_sent = Some(Instant::now());
    }
}

impl OidcProvider {
    /// The newest `n` live flow records, newest first (records share one lifetime, so the
    /// latest expiry is the latest flow).
    pub fn recent_flow_records(&self, n: usize) -> Vec<OidcFlowRecord> {
        let now = self.now();
        let g = self.flows();
        let mut v: Vec<(i64, &OidcFlowRecord)> = g
            .records
            .values()
            .filter(|e| e.expires_at > now)
            .map(|e| (e.expires_at, &e.value))
            .collect();
        v.sort_by_key(|e| std::cmp::Reverse(e.0));
        v.into_iter().take(n).map(|(_, r)| r.clone()).collect()
    }

    /// The record of the flow with this key (`state`, `nonce` or `code_challenge`).
    pub fn flow_record(&self, key: &FlowKey) -> Option<OidcFlowRecord> {
        let now = self.now();
        self.flows()
            .records
            .get(key)
            .filter(|e| e.expires_at > now)
            .map(|e| e.value.clone())
    }

    /// Open the record of a validated authorization request (replacing an older flow with the
    /// same key).
    pub(crate) fn record_authorization(&self, req: &AuthRequest, via_par: bool) {
        let Some(key) = flow_key(req) else {
            return;
        };
        let mut endpoints = BTreeSet::from([Endpoint::Authorize]);
        if via_par {
            endpoints.insert(Endpoint::Par);
        }
        let record = OidcFlowRecord {
            key: key.clone(),
            issuer: self.issuers[req.issuer].cfg.id.clone(),
            client_id: req.client_id.clone(),
            identity: None,
            session_id: None,
            endpoints,
            token_redemptions: 0,
            userinfo_calls: 0,
            undeliverable: None,
            token_sent: None,
            request: request_summary(req, via_par),
        };
        let now = self.now();
        let entry = Expiring {
            value: record,
            expires_at: now + RECORD_TTL_SECS,
        };
        let max = self.config.max_entries.min(super::provider::EVICTING_MAX);
        // A full map loses its oldest record, never the login: a missing record only means the
        // harness judges that (old) flow without knowing which endpoints were used.
        evicting_insert(&mut self.flows().records, key, entry, now, max);
    }

    fn update_record(&self, key: &FlowKey, f: impl FnOnce(&mut OidcFlowRecord)) {
        if let Some(e) = self.flows().records.get_mut(key) {
            f(&mut e.value);
        }
    }

    /// The login of a flow completed as `identity` with broker session `session_id`.
    pub(crate) fn record_login(&self, req: &AuthRequest, identity: &str, session_id: &str) {
        if let Some(key) = flow_key(req) {
            self.update_record(&key, |r| {
                r.identity = Some(identity.to_string());
                r.session_id = Some(session_id.to_string());
            });
        }
    }

    /// Userinfo was called with an access token of the flow.
    pub(crate) fn record_userinfo(&self, key: &FlowKey) {
        self.update_record(key, |r| {
            r.endpoints.insert(Endpoint::Userinfo);
            r.userinfo_calls = r.userinfo_calls.saturating_add(1);
        });
    }

    /// The issuer's JWKS was fetched: a hint for every flow of that issuer whose token response
    /// went out shortly before.
    pub(crate) fn record_jwks(&self, issuer: usize) {
        let id = &self.issuers[issuer].cfg.id;
        for e in self.flows().records.values_mut() {
            let r = &mut e.value;
            if &r.issuer == id && r.token_sent.is_some_and(|t| t.elapsed() <= JWKS_WINDOW) {
                r.endpoints.insert(Endpoint::Jwks);
            }
        }
    }

    /// RP-initiated logout for the broker session `session_id` (from the `id_token_hint`).
    pub(crate) fn record_end_session(&self, issuer: usize, session_id: &str) {
        let id = &self.issuers[issuer].cfg.id;
        for e in self.flows().records.values_mut() {
            let r = &mut e.value;
            if &r.issuer == id && r.session_id.as_deref() == Some(session_id) {
                r.endpoints.insert(Endpoint::EndSession);
            }
        }
    }
}
