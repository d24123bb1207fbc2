//! The userinfo endpoint (OIDC Core §5.3): the identity claims of the login, keyed by the same
//! `sub` as the ID token (unless the flow's plan says `userinfo-sub-mismatch`). The access token
//! comes in the `Authorization: Bearer` header or, for POST, as a form parameter (RFC 6750
//! §2.1/§2.2), never both.

use super::error::OAuthError;
use super::params::{self, ParamError};
use super::router::IssuerCtx;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Why a userinfo request failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum UserinfoError {
    #[error(transparent)]
    Params(#[from] ParamError),
    #[error("no access token was sent")]
    NoToken,
    #[error("the access token was sent in more than one way")]
    TwoTokens,
    #[error("the Authorization header is not a Bearer token")]
    NotBearer,
    #[error("the access token is unknown, revoked or expired")]
    InvalidToken,
}

impl From<UserinfoError> for OAuthError {
    fn from(e: UserinfoError) -> Self {
        match e {
            UserinfoError::Params(p) => p.into(),
            UserinfoError::TwoTokens | UserinfoError::NotBearer => {
                OAuthError::invalid_request(e.to_string())
            }
            UserinfoError::NoToken => {
                OAuthError::new(StatusCode::UNAUTHORIZED, "invalid_token", e.to_string())
                    .with_challenge("Bearer realm=\"mock-mitid-broker\"")
            }
            UserinfoError::InvalidToken => {
                OAuthError::new(StatusCode::UNAUTHORIZED, "invalid_token", e.to_string())
                    .with_challenge("Bearer realm=\"mock-mitid-broker\", error=\"invalid_token\"")
            }
        }
    }
}

fn bearer(headers: &HeaderMap) -> Result<Option<String>, UserinfoError> {
    let Some(v) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let v = v.to_str().map_err(|_| UserinfoError::NotBearer)?;
    match v.split_once(' ') {
        Some((scheme, tok)) if scheme.eq_ignore_ascii_case("bearer") && !tok.trim().is_empty() => {
            Ok(Some(tok.trim().to_string()))
        }
        _ => Err(UserinfoError::NotBearer),
    }
}

/// `GET|POST {issuer}/connect/userinfo` (or `/oauth2/userinfo`).
pub(crate) async fn userinfo(State(ctx): State<IssuerCtx>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let result = async {
        let header_token = bearer(&parts.headers)?;
        let form_token = if parts.method == Method::POST
            && params::content_type_is(&parts.headers, "application/x-www-form-urlencoded")
        {
            params::read_form(&parts.headers, body)
                .await?
                .get("access_token")
                .map(String::from)
        } else {
            None
        };
        let token = match (header_token, form_token) {
            (Some(_), Some(_)) => return Err(UserinfoError::TwoTokens),
            (Some(t), None) | (None, Some(t)) => t,
            (None, None) => return Err(UserinfoError::NoToken),
        };
        let now = ctx.p.now();
        let grant = ctx
            .p
            .flows()
            .tokens
            .get(&token)
            .filter(|g| g.expires_at > now && g.issuer == ctx.issuer)
            .cloned()
            .ok_or(UserinfoError::InvalidToken)?;
        if let Some(key) = &grant.flow {
            ctx.p.record_userinfo(key);
        }
        let mut claims = grant.userinfo;
        if let Some(plan) = &grant.plan {
            plan.apply_userinfo(&mut claims);
        }
        Ok(claims)
    }
    .await;
    match result {
        Ok(claims) => {
            let mut resp = axum::Json(serde_json::Value::Object(claims)).into_response();
            resp.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            resp
        }
        Err(e) => OAuthError::from(e).into_response(),
    }
}
