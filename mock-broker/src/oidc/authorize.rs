//! The authorization endpoint, pushed authorization requests (RFC 9126) and the mock's identity
//! chooser.
//!
//! Order of checks follows RFC 6749 §4.1.2.1: until the client and its exact redirect URI are
//! known, errors are an HTML page and never a redirect (no open redirector); after that they
//! go back to the RP in the requested response mode, with `state` and (RFC 9207) `iss`.
//!
//! Automation needs no HTML: add `mock_identity=<id>` (and optionally `mock_loa=Low|
//! Substantial|High`) to the authorization request, or call
//! [`OidcProvider::preselect`](super::OidcProvider::preselect) before the flow starts.

use super::claims::{IduraMethod, SgIdp};
use super::client_auth;
use super::config::{AboveCap, Profile};
use super::dangerous::OidcFaultPlan;
use super::error::{OAuthError, error_page, html_escape, html_response};
use super::params::{self, ParamError, Params};
use super::provider::{
    AuthRequest, Client, CodeGrant, FlowIds, Issuer, LoginPolicy, OidcProvider, PendingLogin,
    PkceMethod, PushedRequest, ResponseMode, bounded_insert, random_token,
};
use super::router::IssuerCtx;
use crate::identity::IdentityKind;
use crate::nsis::Loa;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Prefix of PAR `request_uri` values (RFC 9126 §2.2).
pub const PAR_REQUEST_URI_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";

/// How long a pushed request stays redeemable.
const PAR_TTL_SECS: i64 = 60;

/// How long a login may sit at the chooser.
const PENDING_TTL_SECS: i64 = 600;

/// Why an authorization request failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum AuthorizeError {
    /// Unreadable parameters (duplicates, body too large, wrong content type).
    #[error(transparent)]
    Params(#[from] ParamError),
    /// `client_id` missing.
    #[error("client_id is missing")]
    MissingClientId,
    /// Unknown client or not registered at this issuer.
    #[error("unknown client_id {0:?}")]
    UnknownClient(String),
    /// `redirect_uri` missing.
    #[error("redirect_uri is missing")]
    MissingRedirectUri,
    /// `redirect_uri` not registered (exact string comparison).
    #[error("redirect_uri {0:?} is not registered for this client")]
    UnregisteredRedirectUri(String),
    /// PAR `request_uri` unknown, expired, for another client, or PAR disabled.
    #[error("request_uri is invalid: {0}")]
    BadRequestUri(&'static str),
    /// The chooser transaction is unknown or expired.
    #[error("this login transaction is unknown or has expired")]
    UnknownTransaction,
    /// A mock control parameter is wrong (`mock_identity`, `mock_loa`).
    #[error("mock control: {0}")]
    MockControl(String),
    /// The broker holds too many in-flight logins.
    #[error("too many logins in flight; try again later")]
    Full,
    /// An error reported to the RP through its redirect URI.
    #[error("{code}: {description}")]
    ToClient {
        /// OAuth error code.
        code: &'static str,
        /// Description.
        description: String,
    },
}

impl AuthorizeError {
    fn to_client(code: &'static str, description: impl Into<String>) -> Self {
        AuthorizeError::ToClient {
            code,
            description: description.into(),
        }
    }
}

impl From<AuthorizeError> for OAuthError {
    fn from(e: AuthorizeError) -> Self {
        match e {
            AuthorizeError::Params(p) => p.into(),
            AuthorizeError::UnknownClient(_) => {
                OAuthError::new(StatusCode::BAD_REQUEST, "invalid_client", e.to_string())
            }
            AuthorizeError::BadRequestUri(_) => OAuthError::new(
                StatusCode::BAD_REQUEST,
                "invalid_request_uri",
                e.to_string(),
            ),
            AuthorizeError::Full => OAuthError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                e.to_string(),
            ),
            AuthorizeError::ToClient { code, description } => {
                OAuthError::new(StatusCode::BAD_REQUEST, code, description)
            }
            _ => OAuthError::invalid_request(e.to_string()),
        }
    }
}

/// `GET|POST {issuer}/connect/authorize` (or `/oauth2/authorize`).
pub(crate) async fn authorize(State(ctx): State<IssuerCtx>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let wants_json = params::wants_json(&parts.headers);
    let parsed = if parts.method == Method::POST {
        params::read_form(&parts.headers, body).await
    } else {
        Params::parse(parts.uri.query().unwrap_or("").as_bytes())
    };
    match parsed {
        Ok(p) => ctx.p.authorize_request(ctx.issuer, p, wants_json),
        Err(e) => error_page(&AuthorizeError::from(e).into(), wants_json),
    }
}

/// `POST {issuer}/mock/login`: the chooser's form target.
pub(crate) async fn login(State(ctx): State<IssuerCtx>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let wants_json = params::wants_json(&parts.headers);
    let form = match params::read_form(&parts.headers, body).await {
        Ok(f) => f,
        Err(e) => return error_page(&AuthorizeError::from(e).into(), wants_json),
    };
    let pending = form
        .get("txn")
        .and_then(|t| ctx.p.flows().pending.remove(t));
    let Some(pending) = pending.filter(|p| p.expires_at > ctx.p.now()) else {
        return error_page(&AuthorizeError::UnknownTransaction.into(), wants_json);
    };
    if form.contains("cancel") {
        let err = OAuthError::new(
            StatusCode::BAD_REQUEST,
            "access_denied",
            "the user cancelled the login",
        );
        return ctx
            .p
            .respond_error(&pending.req, &err, pending.plan.as_ref());
    }
    let Some(identity) = form.get("identity") else {
        return error_page(
            &AuthorizeError::MockControl("identity is missing".into()).into(),
            wants_json,
        );
    };
    let loa = match form.get("loa").map(str::parse::<Loa>).transpose() {
        Ok(l) => l,
        Err(e) => {
            return error_page(
                &AuthorizeError::MockControl(e.to_string()).into(),
                wants_json,
            );
        }
    };
    ctx.p
        .complete(pending.req, pending.plan, identity, loa, wants_json)
}

/// `POST {issuer}/oauth2/par`: store an authorization request pushed by an authenticated
/// client and hand back a one-time `request_uri`.
pub(crate) async fn par(State(ctx): State<IssuerCtx>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let form = match params::read_form(&parts.headers, body).await {
        Ok(f) => f,
        Err(e) => return OAuthError::from(e).into_response(),
    };
    let p = &ctx.p;
    let (client, map) = match p.check_pushed(ctx.issuer, &parts.headers, form) {
        Ok(x) => x,
        Err(e) => return e.into_response(),
    };
    let id = random_token();
    let now = p.now();
    let entry = PushedRequest {
        issuer: ctx.issuer,
        client_id: client.cfg.client_id.clone(),
        params: map,
        expires_at: now + PAR_TTL_SECS,
    };
    if bounded_insert(
        &mut p.flows().pushed,
        id.clone(),
        entry,
        now,
        p.config.max_entries,
    )
    .is_err()
    {
        return OAuthError::from(AuthorizeError::Full).into_response();
    }
    let body = serde_json::json!({
        "request_uri": format!("{PAR_REQUEST_URI_PREFIX}{id}"),
        "expires_in": PAR_TTL_SECS,
    });
    let mut resp = (StatusCode::CREATED, axum::Json(body)).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

pub(crate) fn parse_mode(params: &Params) -> Result<ResponseMode, AuthorizeError> {
    match params.get("response_mode") {
        None | Some("query") => Ok(ResponseMode::Query),
        Some("fragment") => Ok(ResponseMode::Fragment),
        Some("form_post") => Ok(ResponseMode::FormPost),
        Some(other) => Err(AuthorizeError::to_client(
            "invalid_request",
            format!("unsupported response_mode {other:?}"),
        )),
    }
}

pub(crate) fn is_pkce_token(s: &str) -> bool {
    (43..=128).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

impl OidcProvider {
    /// Everything a PAR request is checked for before it is stored: client authentication
    /// (with the issuer, token and PAR endpoints as assertion audiences), no pushed
    /// `request_uri`, and the same two stages as the authorize endpoint. Answers the client
    /// and the parameters to store.
    pub(crate) fn check_pushed(
        &self,
        issuer: usize,
        headers: &HeaderMap,
        mut form: Params,
    ) -> Result<(Arc<Client>, BTreeMap<String, String>), OAuthError> {
        let iss = &self.issuers[issuer];
        let audiences = [
            iss.url.clone(),
            iss.endpoint(iss.paths.token),
            iss.endpoint(iss.paths.par),
        ];
        let client = client_auth::authenticate(self, iss, headers, &form, &audiences)?;
        for secret in ["client_secret", "client_assertion", "client_assertion_type"] {
            form.take(secret);
        }
        if form.contains("request_uri") {
            return Err(OAuthError::invalid_request(
                "request_uri must not be pushed",
            ));
        }
        let mut map = form.into_map();
        map.insert("client_id".into(), client.cfg.client_id.clone());
        let pushed = Params::from_map(map.clone());
        self.check_client_redirect(issuer, &pushed)
            .and_then(|(c, uri)| self.validate_request(issuer, &c, &uri, &pushed))?;
        Ok((client, map))
    }

    fn authorize_request(&self, issuer: usize, mut params: Params, wants_json: bool) -> Response {
        // The mock's own controls never reach the protocol logic.
        let mock_identity = params.take("mock_identity");
        let mock_loa = params.take("mock_loa");
        let via_par = params.get("request_uri").is_some();
        if let Some(uri) = params.get("request_uri") {
            match self.redeem_pushed(issuer, uri, params.get("client_id")) {
                Ok(p) => params = p,
                Err(e) => return error_page(&e.into(), wants_json),
            }
        }
        let (client, redirect_uri) = match self.check_client_redirect(issuer, &params) {
            Ok(x) => x,
            Err(e) => return error_page(&e.into(), wants_json),
        };
        let state = params.get("state").map(String::from);
        let mode = parse_mode(&params);
        let req = mode.and_then(|m| {
            let mut r = self.validate_request(issuer, &client, &redirect_uri, &params)?;
            r.mode = m;
            Ok(r)
        });
        let req = match req {
            Ok(r) => r,
            Err(e) => {
                // Errors before the request is complete go back in the mode the RP asked for,
                // or by query when the mode itself was the problem.
                let mode = parse_mode(&params).unwrap_or(ResponseMode::Query);
                let fallback = AuthRequest {
                    issuer,
                    client_id: client.cfg.client_id.clone(),
                    redirect_uri,
                    mode,
                    scopes: vec![],
                    state,
                    nonce: None,
                    pkce: None,
                    policy: LoginPolicy {
                        persons: true,
                        professionals: true,
                        requested: Loa::Substantial,
                        professional_cap: None,
                    },
                };
                return self.respond_error(&fallback, &e.into(), None);
            }
        };
        self.record_authorization(&req, via_par);
        let ids = FlowIds {
            state: req.state.as_deref(),
            nonce: req.nonce.as_deref(),
            code_challenge: req.pkce.as_ref().map(|(c, _)| c.as_str()),
            client_id: &req.client_id,
        };
        let plan = self.take_plan(ids);
        if let Some((code, description)) =
            plan.as_ref().and_then(OidcFaultPlan::authorization_error)
        {
            let err = OAuthError {
                status: StatusCode::BAD_REQUEST,
                code: registered_error_code(&code),
                description: description.unwrap_or_default(),
                www_authenticate: None,
            };
            return self.respond_error(&req, &err, plan.as_ref());
        }
        let loa = match mock_loa.as_deref().map(str::parse::<Loa>).transpose() {
            Ok(l) => l,
            Err(e) => {
                return error_page(
                    &AuthorizeError::MockControl(e.to_string()).into(),
                    wants_json,
                );
            }
        };
        let chosen = match mock_identity {
            Some(id) => Some((id, loa)),
            None => self.take_preselection(ids).map(|p| (p.identity, p.loa)),
        };
        if let Some((identity, loa)) = chosen {
            return self.complete(req, plan, &identity, loa, wants_json);
        }
        self.chooser(req, plan, wants_json)
    }

    fn redeem_pushed(
        &self,
        issuer: usize,
        uri: &str,
        client_id: Option<&str>,
    ) -> Result<Params, AuthorizeError> {
        if !self.issuers[issuer].cfg.par_enabled() {
            return Err(AuthorizeError::BadRequestUri(
                "this issuer does not support pushed authorization requests",
            ));
        }
        let id = uri
            .strip_prefix(PAR_REQUEST_URI_PREFIX)
            .ok_or(AuthorizeError::BadRequestUri("not a PAR request_uri"))?;
        let entry = self
            .flows()
            .pushed
            .remove(id)
            .ok_or(AuthorizeError::BadRequestUri("unknown or already used"))?;
        if entry.expires_at <= self.now() {
            return Err(AuthorizeError::BadRequestUri("expired"));
        }
        if entry.issuer != issuer {
            return Err(AuthorizeError::BadRequestUri("pushed to another issuer"));
        }
        if client_id != Some(entry.client_id.as_str()) {
            return Err(AuthorizeError::BadRequestUri(
                "client_id is missing or differs from the pushing client",
            ));
        }
        Ok(Params::from_map(entry.params))
    }

    /// Stage one: the client and its exact redirect URI. Failures never redirect.
    pub(crate) fn check_client_redirect(
        &self,
        issuer: usize,
        params: &Params,
    ) -> Result<(Arc<Client>, String), AuthorizeError> {
        let iss = &self.issuers[issuer];
        let client_id = params
            .get("client_id")
            .ok_or(AuthorizeError::MissingClientId)?;
        let redirect_uri = params.get("redirect_uri");
        let client = self
            .client(client_id, redirect_uri)
            .filter(|c| c.registered_at(&iss.cfg.id))
            .ok_or_else(|| AuthorizeError::UnknownClient(client_id.to_string()))?;
        let redirect_uri = redirect_uri.ok_or(AuthorizeError::MissingRedirectUri)?;
        if !client.cfg.redirect_uris.iter().any(|r| r == redirect_uri) {
            return Err(AuthorizeError::UnregisteredRedirectUri(
                redirect_uri.to_string(),
            ));
        }
        Ok((client, redirect_uri.to_string()))
    }

    /// Stage two: everything else; failures go back to the RP.
    pub(crate) fn validate_request(
        &self,
        issuer: usize,
        client: &Client,
        redirect_uri: &str,
        params: &Params,
    ) -> Result<AuthRequest, AuthorizeError> {
        let iss = &self.issuers[issuer];
        let bad = |d: String| AuthorizeError::to_client("invalid_request", d);
        if params.contains("request") {
            return Err(AuthorizeError::to_client(
                "request_not_supported",
                "request objects are not supported; use PAR where offered",
            ));
        }
        match params.get("response_type") {
            Some("code") => {}
            None => return Err(bad("response_type is missing".into())),
            Some(other) => {
                return Err(AuthorizeError::to_client(
                    "unsupported_response_type",
                    format!("response_type {other:?} is not supported; use code"),
                ));
            }
        }
        let scopes: Vec<String> = params
            .get("scope")
            .unwrap_or("")
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect();
        if !scopes.iter().any(|s| s == "openid") {
            return Err(AuthorizeError::to_client(
                "invalid_scope",
                "scope must include openid",
            ));
        }
        let pkce = match (
            params.get("code_challenge"),
            params.get("code_challenge_method"),
        ) {
            (None, Some(_)) => {
                return Err(bad("code_challenge_method without code_challenge".into()));
            }
            (None, None) => None,
            (Some(ch), method) => {
                let m = match method.unwrap_or("plain") {
                    "S256" => PkceMethod::S256,
                    "plain" if iss.cfg.pkce_plain_allowed => PkceMethod::Plain,
                    "plain" => {
                        return Err(bad(
                            "code_challenge_method plain is not allowed; use S256".into()
                        ));
                    }
                    other => {
                        return Err(bad(format!("unsupported code_challenge_method {other:?}")));
                    }
                };
                if !is_pkce_token(ch) {
                    return Err(bad(
                        "code_challenge must be 43-128 unreserved characters".into()
                    ));
                }
                Some((ch.to_string(), m))
            }
        };
        if pkce.is_none() && (iss.cfg.require_pkce || client.is_public()) {
            return Err(bad("PKCE (code_challenge with S256) is required".into()));
        }
        if let Some(ma) = params.get("max_age")
            && ma.parse::<u64>().is_err()
        {
            return Err(bad(format!("max_age {ma:?} is not a non-negative integer")));
        }
        if params
            .get("prompt")
            .is_some_and(|p| p.split(' ').any(|x| x == "none"))
        {
            return Err(AuthorizeError::to_client(
                "login_required",
                "prompt=none, but the mock broker keeps no login session",
            ));
        }
        let policy = match iss.cfg.profile {
            Profile::Signaturgruppen => signaturgruppen_policy(params)?,
            Profile::Idura => idura_policy(params)?,
        };
        Ok(AuthRequest {
            issuer,
            client_id: client.cfg.client_id.clone(),
            redirect_uri: redirect_uri.to_string(),
            mode: ResponseMode::Query,
            scopes,
            state: params.get("state").map(String::from),
            nonce: params.get("nonce").map(String::from),
            pkce,
            policy,
        })
    }

    /// Finish a login as `identity_id`: issue a code and send the browser back.
    fn complete(
        &self,
        req: AuthRequest,
        plan: Option<OidcFaultPlan>,
        identity_id: &str,
        loa: Option<Loa>,
        wants_json: bool,
    ) -> Response {
        let Some(identity) = self.identities.get(identity_id) else {
            return error_page(
                &AuthorizeError::MockControl(format!("unknown identity {identity_id:?}")).into(),
                wants_json,
            );
        };
        let pol = &req.policy;
        let allowed = match identity.kind {
            IdentityKind::Person => pol.persons,
            IdentityKind::Professional => pol.professionals,
        };
        if !allowed {
            let err = OAuthError::new(
                StatusCode::BAD_REQUEST,
                "access_denied",
                format!(
                    "identity {identity_id:?} ({:?}) cannot log in through the requested login method",
                    identity.kind
                ),
            );
            return self.respond_error(&req, &err, plan.as_ref());
        }
        let mut level = loa.unwrap_or(pol.requested);
        if level < pol.requested {
            // A real broker never returns less than was asked; that is a fault, not a choice.
            return error_page(
                &AuthorizeError::MockControl(format!(
                    "mock_loa {level} is below the requested {}; arm a set-claim fault instead",
                    pol.requested
                ))
                .into(),
                wants_json,
            );
        }
        if identity.kind == IdentityKind::Professional
            && let Some(cap) = pol.professional_cap
            && level > cap
        {
            match self.issuers[req.issuer].cfg.professional_above_cap {
                AboveCap::Downgrade => level = cap,
                AboveCap::Refuse => {
                    let err = OAuthError::new(
                        StatusCode::BAD_REQUEST,
                        "access_denied",
                        format!(
                            "MitID Erhverv logins are issued at {cap} at most, {level} was asked"
                        ),
                    );
                    return self.respond_error(&req, &err, plan.as_ref());
                }
            }
        }
        if identity.loa < level {
            let err = OAuthError::new(
                StatusCode::BAD_REQUEST,
                "access_denied",
                format!(
                    "identity {identity_id:?} cannot authenticate at {level} (at most {})",
                    identity.loa
                ),
            );
            return self.respond_error(&req, &err, plan.as_ref());
        }
        let now = self.now();
        let code = random_token();
        let session_id = uuid::Uuid::new_v4();
        self.record_login(&req, identity_id, &session_id.to_string());
        let grant = CodeGrant {
            req: req.clone(),
            identity: identity_id.to_string(),
            loa: level,
            auth_time: now,
            session_id,
            transaction_id: uuid::Uuid::new_v4(),
            plan: plan.clone(),
            expires_at: now + self.config.code_lifetime_secs.min(3600) as i64,
            redemptions: 0,
            access_tokens: vec![],
        };
        let inserted = bounded_insert(
            &mut self.flows().codes,
            code.clone(),
            grant,
            now,
            self.config.max_entries,
        );
        if inserted.is_err() {
            return error_page(&AuthorizeError::Full.into(), wants_json);
        }
        self.respond(&req, vec![("code".into(), code)], plan.as_ref())
    }

    fn chooser(&self, req: AuthRequest, plan: Option<OidcFaultPlan>, wants_json: bool) -> Response {
        let iss = &self.issuers[req.issuer];
        let txn = random_token();
        let now = self.now();
        let mut rows = String::new();
        let action = html_escape(&iss.route(iss.paths.login));
        for id in self.identities.iter() {
            let allowed = match id.kind {
                IdentityKind::Person => req.policy.persons,
                IdentityKind::Professional => req.policy.professionals,
            };
            if !allowed {
                continue;
            }
            let levels: Vec<Loa> = Loa::ALL
                .into_iter()
                .filter(|l| *l >= req.policy.requested && *l <= id.loa)
                .collect();
            let kind = match id.kind {
                IdentityKind::Person => "MitID",
                IdentityKind::Professional => "MitID Erhverv",
            };
            let label = format!("{} ({kind}, {})", id.full_name(), id.id);
            if levels.is_empty() {
                rows.push_str(&format!(
                    "<li>{} — cannot reach {}</li>\n",
                    html_escape(&label),
                    req.policy.requested
                ));
                continue;
            }
            let options: String = levels
                .iter()
                .map(|l| format!("<option value=\"{l}\">{l}</option>"))
                .collect();
            rows.push_str(&format!(
                "<li><form method=\"post\" action=\"{action}\"><input type=\"hidden\" name=\"txn\" value=\"{txn}\">\
                 <input type=\"hidden\" name=\"identity\" value=\"{idv}\"><select name=\"loa\">{options}</select> \
                 <button type=\"submit\">Log in as {label}</button></form></li>\n",
                idv = html_escape(&id.id),
                label = html_escape(&label),
            ));
        }
        let page = format!(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Mock MitID login</title></head><body>\
             <h1>Mock MitID login</h1><p>MOCK BROKER — test identities only.</p>\
             <p>Client <code>{client}</code> at <code>{issuer}</code>, requested level {level}.</p>\n<ul>\n{rows}</ul>\
             <form method=\"post\" action=\"{action}\"><input type=\"hidden\" name=\"txn\" value=\"{txn}\">\
             <input type=\"hidden\" name=\"cancel\" value=\"1\"><button type=\"submit\">Cancel</button></form></body></html>\n",
            client = html_escape(&req.client_id),
            issuer = html_escape(&iss.url),
            level = req.policy.requested,
        );
        let pending = PendingLogin {
            req,
            plan,
            expires_at: now + PENDING_TTL_SECS,
        };
        if bounded_insert(
            &mut self.flows().pending,
            txn,
            pending,
            now,
            self.config.max_entries,
        )
        .is_err()
        {
            return error_page(&AuthorizeError::Full.into(), wants_json);
        }
        html_response(StatusCode::OK, page)
    }

    /// Send an error to the RP's redirect URI.
    pub(crate) fn respond_error(
        &self,
        req: &AuthRequest,
        err: &OAuthError,
        plan: Option<&OidcFaultPlan>,
    ) -> Response {
        let mut params = vec![("error".to_string(), err.code.to_string())];
        if !err.description.is_empty() {
            params.push(("error_description".into(), err.description.clone()));
        }
        self.respond(req, params, plan)
    }

    /// Send an authorization response (code or error) in the request's response mode, adding
    /// `state` and `iss`, then letting an armed plan tamper with them.
    fn respond(
        &self,
        req: &AuthRequest,
        mut params: Vec<(String, String)>,
        plan: Option<&OidcFaultPlan>,
    ) -> Response {
        let iss = &self.issuers[req.issuer];
        if let Some(s) = &req.state {
            params.push(("state".into(), s.clone()));
        }
        if iss.cfg.authorization_response_iss {
            params.push(("iss".into(), iss.url.clone()));
        }
        if let Some(plan) = plan {
            plan.apply_authorization_response(&mut params, &self.other_issuer(iss));
        }
        deliver(&req.redirect_uri, req.mode, &params)
    }

    /// The issuer a mix-up attack claims the response came from.
    fn other_issuer(&self, iss: &Issuer) -> String {
        self.issuers
            .iter()
            .find(|i| i.url != iss.url)
            .map(|i| i.url.clone())
            .unwrap_or_else(|| "https://mix-up.invalid/op".to_string())
    }
}

/// The registered authorization error code named by a fault plan; an unregistered name
/// becomes `server_error`, so a typo in a scenario still produces a protocol-valid error.
fn registered_error_code(code: &str) -> &'static str {
    const KNOWN: [&str; 13] = [
        "invalid_request",
        "unauthorized_client",
        "access_denied",
        "unsupported_response_type",
        "invalid_scope",
        "server_error",
        "temporarily_unavailable",
        "interaction_required",
        "login_required",
        "account_selection_required",
        "consent_required",
        "invalid_request_uri",
        "request_not_supported",
    ];
    KNOWN
        .into_iter()
        .find(|k| *k == code)
        .unwrap_or("server_error")
}

pub(crate) fn signaturgruppen_policy(params: &Params) -> Result<LoginPolicy, AuthorizeError> {
    let bad = |d: String| AuthorizeError::to_client("invalid_request", d);
    let mut persons = true;
    let mut professionals = true;
    if let Some(v) = params.get("idp_values") {
        persons = false;
        professionals = false;
        for token in v.split(' ').filter(|t| !t.is_empty()) {
            match SgIdp::parse(token) {
                Some(SgIdp::Mitid) => persons = true,
                Some(SgIdp::MitidErhverv) => professionals = true,
                None => return Err(bad(format!("unsupported idp_values entry {token:?}"))),
            }
        }
    }
    let mut requested = Loa::Substantial;
    if let Some(raw) = params.get("idp_params") {
        let v: Value =
            serde_json::from_str(raw).map_err(|e| bad(format!("idp_params is not JSON: {e}")))?;
        if !v.is_object() {
            return Err(bad("idp_params must be a JSON object".into()));
        }
        if let Some(l) = v.pointer("/mitid/loa_value") {
            let s = l
                .as_str()
                .ok_or_else(|| bad("idp_params mitid.loa_value must be a string".into()))?;
            requested = s.parse().map_err(|_| {
                bad(format!(
                    "idp_params mitid.loa_value {s:?} is not low|substantial|high"
                ))
            })?;
        }
        if v.pointer("/mitid_erhverv/allow_private") == Some(&Value::Bool(true)) && professionals {
            persons = true;
        }
    }
    Ok(LoginPolicy {
        persons,
        professionals,
        requested,
        // "The Nets eID Broker is a registered NSIS Substantial broker and thus cannot issue
        // higher than Substantial" for MitID Erhverv.
        professional_cap: Some(Loa::Substantial),
    })
}

pub(crate) fn idura_policy(params: &Params) -> Result<LoginPolicy, AuthorizeError> {
    let Some(v) = params.get("acr_values") else {
        return Ok(LoginPolicy {
            persons: true,
            professionals: true,
            requested: Loa::Substantial,
            professional_cap: None,
        });
    };
    let method = v
        .split(' ')
        .find_map(IduraMethod::from_acr)
        .ok_or_else(|| {
            AuthorizeError::to_client(
                "invalid_request",
                format!("acr_values {v:?} names no supported MitID login method"),
            )
        })?;
    let business = method == IduraMethod::MitidBusiness;
    Ok(LoginPolicy {
        persons: !business,
        professionals: business,
        requested: method.loa(),
        professional_cap: None,
    })
}

/// Build the redirect (query or fragment) or the auto-submitting form (form_post).
fn deliver(redirect_uri: &str, mode: ResponseMode, params: &[(String, String)]) -> Response {
    let encoded = {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in params {
            s.append_pair(k, v);
        }
        s.finish()
    };
    let location = match (mode, url::Url::parse(redirect_uri)) {
        (ResponseMode::FormPost, _) => None,
        (ResponseMode::Query, Ok(mut u)) => {
            let q = match u.query() {
                Some(q) if !q.is_empty() => format!("{q}&{encoded}"),
                _ => encoded,
            };
            u.set_query(Some(&q));
            Some(u.to_string())
        }
        (ResponseMode::Fragment, Ok(mut u)) => {
            u.set_fragment(Some(&encoded));
            Some(u.to_string())
        }
        (_, Err(_)) => {
            // Registered URIs were validated at start-up, so this is unreachable in practice.
            return error_page(
                &OAuthError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "server_error",
                    "registered redirect_uri does not parse",
                ),
                false,
            );
        }
    };
    match location {
        Some(loc) => {
            let mut resp = StatusCode::FOUND.into_response();
            let h = resp.headers_mut();
            match HeaderValue::from_str(&loc) {
                Ok(v) => {
                    h.insert(header::LOCATION, v);
                }
                Err(_) => {
                    return error_page(
                        &OAuthError::new(
                            StatusCode::INTERNAL_SERVER_ERROR,
                            "server_error",
                            "redirect location is not a valid header value",
                        ),
                        false,
                    );
                }
            }
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            resp
        }
        None => {
            let inputs: String = params
                .iter()
                .map(|(k, v)| {
                    format!(
                        "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
                        html_escape(k),
                        html_escape(v)
                    )
                })
                .collect();
            let page = format!(
                "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Submit this form</title></head>\
                 <body onload=\"document.forms[0].submit()\"><form method=\"post\" action=\"{}\">{inputs}\
                 <noscript><button type=\"submit\">Continue</button></noscript></form></body></html>\n",
                html_escape(redirect_uri)
            );
            html_response(StatusCode::OK, page)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_token_shape() {
        assert!(is_pkce_token(&"a".repeat(43)));
        assert!(!is_pkce_token(&"a".repeat(42)));
        assert!(!is_pkce_token(&"a".repeat(129)));
        assert!(!is_pkce_token(&format!("{}+", "a".repeat(43))));
    }

    #[test]
    fn policies() {
        let p = Params::parse(b"idp_values=mitid_erhverv").unwrap();
        let pol = signaturgruppen_policy(&p).unwrap();
        assert!(!pol.persons && pol.professionals);
        let p = Params::parse(b"idp_values=nemid").unwrap();
        assert!(signaturgruppen_policy(&p).is_err());
        let p = Params::parse(
            "idp_params=%7B%22mitid%22%3A%7B%22loa_value%22%3A%22high%22%7D%7D".as_bytes(),
        )
        .unwrap();
        assert_eq!(signaturgruppen_policy(&p).unwrap().requested, Loa::High);
        let p = Params::parse(b"acr_values=urn:grn:authn:dk:nemid:poces").unwrap();
        assert!(idura_policy(&p).is_err());
        let p = Params::parse(b"acr_values=urn:grn:authn:dk:mitid:business").unwrap();
        let pol = idura_policy(&p).unwrap();
        assert!(pol.professionals && !pol.persons);
    }

    #[test]
    fn deliver_modes() {
        let ps = vec![("code".to_string(), "a b".to_string())];
        let r = deliver("http://127.0.0.1:9/cb?x=1", ResponseMode::Query, &ps);
        assert_eq!(r.status(), StatusCode::FOUND);
        assert_eq!(
            r.headers()[header::LOCATION],
            "http://127.0.0.1:9/cb?x=1&code=a+b"
        );
        let r = deliver("http://127.0.0.1:9/cb", ResponseMode::Fragment, &ps);
        assert_eq!(
            r.headers()[header::LOCATION],
            "http://127.0.0.1:9/cb#code=a+b"
        );
        let r = deliver("http://127.0.0.1:9/cb", ResponseMode::FormPost, &ps);
        assert_eq!(r.status(), StatusCode::OK);
    }
}
