//! Route wiring: every issuer under its path prefix, the control endpoints, a body limit, and
//! JSON answers for wrong methods (axum's default 405 has an empty body).

use super::control::{self, CONTROL_PREFIX};
use super::params::MAX_BODY_BYTES;
use super::provider::OidcProvider;
use super::{authorize, end_session, error::OAuthError, token, userinfo};
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use std::sync::Arc;

/// State of per-issuer handlers: the provider and which issuer the route belongs to.
#[derive(Clone)]
pub(crate) struct IssuerCtx {
    pub(crate) p: Arc<OidcProvider>,
    pub(crate) issuer: usize,
}

async fn method_not_allowed(req: Request) -> Response {
    OAuthError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "invalid_request",
        format!("method {} is not allowed here", req.method()),
    )
    .into_response()
}

/// A method router whose wrong methods get the OAuth JSON refusal (405).
pub(crate) fn json_405<S: Clone + Send + Sync + 'static>(m: MethodRouter<S>) -> MethodRouter<S> {
    m.fallback(method_not_allowed)
}

async fn discovery(State(ctx): State<IssuerCtx>) -> Response {
    control::typed(
        ctx.p.issuers[ctx.issuer].discovery_json.clone(),
        "application/json",
    )
}

async fn jwks(State(ctx): State<IssuerCtx>) -> Response {
    ctx.p.record_jwks(ctx.issuer);
    let doc = ctx.p.issuers[ctx.issuer]
        .ring
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .jwks_json();
    control::typed(doc.to_string(), "application/json")
}

impl OidcProvider {
    /// The axum router serving every issuer by path prefix (discovery, JWKS, authorize, token,
    /// userinfo, end session, PAR where enabled, the chooser form) and the control endpoints
    /// under `/_mock/oidc` (behind the control API's guard: loopback, own Host and Origin,
    /// [`OidcProvider::control_token`], JSON). Serve it with
    /// `into_make_service_with_connect_info::<SocketAddr>()` so the control endpoints can see
    /// the peer address.
    pub fn router(self: Arc<Self>) -> Router {
        let mut router = Router::new();
        for (i, iss) in self.issuers.iter().enumerate() {
            let ctx = IssuerCtx {
                p: self.clone(),
                issuer: i,
            };
            let p = &iss.paths;
            let mut r = Router::new()
                .route(
                    &iss.route("/.well-known/openid-configuration"),
                    json_405(get(discovery)),
                )
                .route(&iss.route(p.jwks), json_405(get(jwks)))
                .route(
                    &iss.route(p.authorize),
                    json_405(get(authorize::authorize).post(authorize::authorize)),
                )
                .route(&iss.route(p.token), json_405(post(token::token)))
                .route(
                    &iss.route(p.userinfo),
                    json_405(get(userinfo::userinfo).post(userinfo::userinfo)),
                )
                .route(
                    &iss.route(p.end_session),
                    json_405(get(end_session::end_session).post(end_session::end_session)),
                )
                .route(&iss.route(p.login), json_405(post(authorize::login)));
            if iss.cfg.par_enabled() {
                r = r.route(&iss.route(p.par), json_405(post(authorize::par)));
            }
            router = router.merge(r.with_state(ctx));
        }
        // The control calls pass the control API's guard (crate::control::guard); the
        // attacker's public key material is fetched by the RP under test, so it stays public.
        let control = Router::new()
            .route(
                &format!("{CONTROL_PREFIX}/arm"),
                json_405(post(control::arm)),
            )
            .route(
                &format!("{CONTROL_PREFIX}/preselect"),
                json_405(post(control::preselect)),
            )
            .route(
                &format!("{CONTROL_PREFIX}/rotate"),
                json_405(post(control::rotate)),
            )
            .route(
                &format!("{CONTROL_PREFIX}/restore-keys"),
                json_405(post(control::restore_keys)),
            )
            .route(
                &format!("{CONTROL_PREFIX}/flow"),
                json_405(post(control::flow)),
            )
            .route_layer(axum::middleware::from_fn_with_state(
                self.control.clone(),
                crate::control::guard::guard,
            ))
            .with_state(self.clone());
        let attacker = Router::new()
            .route(
                &format!("{CONTROL_PREFIX}/attacker/jwks.json"),
                json_405(get(control::attacker_jwks_doc)),
            )
            .route(
                &format!("{CONTROL_PREFIX}/attacker/cert.pem"),
                json_405(get(control::attacker_cert)),
            )
            .with_state(self.clone());
        router
            .merge(control)
            .merge(attacker)
            .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
    }
}
