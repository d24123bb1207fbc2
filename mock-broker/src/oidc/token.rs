//! The token endpoint: `authorization_code` grant only, as the brokers' web flows use it.
//!
//! Codes are single-use (RFC 6749 §4.1.2): a second redemption fails with `invalid_grant` and
//! revokes the access tokens issued from the first, unless the flow's fault plan says
//! `code-replay`. PKCE verifiers are checked against the stored challenge (RFC 7636 §4.6).

use super::claims::{ClaimSet, LoginFacts, id_token_identity_claims, userinfo_claims};
use super::client_auth::{self, ClientAuthError};
use super::config::{Profile, SigningAlg};
use super::dangerous::{ForgeContext, ForgeError, forge_id_token};
use super::error::OAuthError;
use super::id_token::{at_hash, sign_well_formed};
use super::keys::b64url;
use super::params::{self, ParamError, Params};
use super::provider::{AccessGrant, CodeGrant, OidcProvider, PkceMethod, random_token};
use super::router::IssuerCtx;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Why a token request failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum TokenError {
    #[error(transparent)]
    Params(#[from] ParamError),
    #[error(transparent)]
    ClientAuth(#[from] ClientAuthError),
    #[error("grant_type is missing")]
    MissingGrantType,
    #[error("grant_type {0:?} is not supported (authorization_code only)")]
    UnsupportedGrantType(String),
    #[error("{0} is missing")]
    Missing(&'static str),
    #[error("the authorization code is unknown or has expired")]
    UnknownCode,
    #[error("the authorization code was already used; tokens issued from it are revoked")]
    CodeReplayed,
    #[error("the authorization code was issued to another client")]
    WrongClient,
    #[error("redirect_uri does not match the authorization request")]
    RedirectMismatch,
    #[error("code_verifier is required (the authorization request had a code_challenge)")]
    VerifierMissing,
    #[error("code_verifier does not match the code_challenge")]
    VerifierMismatch,
    #[error("code_verifier sent, but the authorization request had no code_challenge")]
    VerifierUnexpected,
    #[error("code_verifier must be 43-128 unreserved characters")]
    VerifierMalformed,
    #[error("the mock broker could not issue the token: {0}")]
    Server(String),
}

impl From<TokenError> for OAuthError {
    fn from(e: TokenError) -> Self {
        let grant = |e: &TokenError| {
            OAuthError::new(StatusCode::BAD_REQUEST, "invalid_grant", e.to_string())
        };
        match e {
            TokenError::Params(p) => p.into(),
            TokenError::ClientAuth(c) => c.into(),
            TokenError::UnsupportedGrantType(_) => OAuthError::new(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                e.to_string(),
            ),
            TokenError::MissingGrantType | TokenError::Missing(_) => {
                OAuthError::invalid_request(e.to_string())
            }
            TokenError::Server(_) => OAuthError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                e.to_string(),
            ),
            _ => grant(&e),
        }
    }
}

/// `POST {issuer}/connect/token` (or `/oauth2/token`).
pub(crate) async fn token(State(ctx): State<IssuerCtx>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let result = match params::read_form(&parts.headers, body).await {
        Ok(form) => ctx.p.token_request(ctx.issuer, &parts.headers, &form),
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(body) => {
            let mut resp = (StatusCode::OK, axum::Json(body)).into_response();
            let h = resp.headers_mut();
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
            resp
        }
        Err(e) => OAuthError::from(e).into_response(),
    }
}

pub(crate) fn verify_pkce(
    stored: Option<&(String, PkceMethod)>,
    verifier: Option<&str>,
) -> Result<(), TokenError> {
    match (stored, verifier) {
        (None, None) => Ok(()),
        (None, Some(_)) => Err(TokenError::VerifierUnexpected),
        (Some(_), None) => Err(TokenError::VerifierMissing),
        (Some((challenge, method)), Some(v)) => {
            if !(43..=128).contains(&v.len())
                || !v
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
            {
                return Err(TokenError::VerifierMalformed);
            }
            let computed = match method {
                PkceMethod::S256 => b64url(aws_lc_rs::digest::digest(
                    &aws_lc_rs::digest::SHA256,
                    v.as_bytes(),
                )),
                PkceMethod::Plain => v.to_string(),
            };
            if computed == *challenge {
                Ok(())
            } else {
                Err(TokenError::VerifierMismatch)
            }
        }
    }
}

impl OidcProvider {
    pub(crate) fn token_request(
        &self,
        issuer: usize,
        headers: &HeaderMap,
        form: &Params,
    ) -> Result<serde_json::Value, TokenError> {
        let iss = &self.issuers[issuer];
        let audiences = [iss.url.clone(), iss.endpoint(iss.paths.token)];
        let client = client_auth::authenticate(self, iss, headers, form, &audiences)?;
        match form.get("grant_type") {
            None => return Err(TokenError::MissingGrantType),
            Some("authorization_code") => {}
            Some(other) => return Err(TokenError::UnsupportedGrantType(other.to_string())),
        }
        let code = form.get("code").ok_or(TokenError::Missing("code"))?;
        let now = self.now();
        let grant: CodeGrant = {
            let mut flows = self.flows();
            let Some(g) = flows.codes.get_mut(code) else {
                return Err(TokenError::UnknownCode);
            };
            if g.expires_at <= now || g.req.issuer != issuer {
                return Err(TokenError::UnknownCode);
            }
            if g.req.client_id != client.cfg.client_id {
                return Err(TokenError::WrongClient);
            }
            // The RP presented the flow's code: whatever the outcome, it used the token
            // endpoint in this flow.
            let req = g.req.clone();
            super::observed::note_token(&mut flows, &req);
            let Some(g) = flows.codes.get_mut(code) else {
                return Err(TokenError::UnknownCode);
            };
            let replay_ok = g.plan.as_ref().is_some_and(|p| p.allows_code_replay());
            if g.redemptions > 0 && !replay_ok {
                let revoked = std::mem::take(&mut g.access_tokens);
                flows.codes.remove(code);
                for t in revoked {
                    flows.tokens.remove(&t);
                }
                return Err(TokenError::CodeReplayed);
            }
            if form.get("redirect_uri") != Some(g.req.redirect_uri.as_str()) {
                return Err(TokenError::RedirectMismatch);
            }
            verify_pkce(g.req.pkce.as_ref(), form.get("code_verifier"))?;
            g.redemptions += 1;
            g.clone()
        };

        let identity = self
            .identities
            .get(&grant.identity)
            .ok_or_else(|| TokenError::Server("the identity disappeared".into()))?;
        let profile = iss.cfg.profile;
        let facts = LoginFacts {
            identity,
            loa: grant.loa,
            scopes: &grant.req.scopes,
            client_id: &client.cfg.client_id,
            public_service: client.cfg.public_service,
            issuer: &iss.url,
            session_id: grant.session_id,
            transaction_id: grant.transaction_id,
            auth_time: grant.auth_time,
        };
        let lifetime = i64::try_from(iss.cfg.id_token_lifetime_secs).unwrap_or(300);
        let mut claims = ClaimSet::new();
        claims.insert("iss".into(), json!(iss.url));
        claims.insert("aud".into(), json!([client.cfg.client_id]));
        claims.insert("exp".into(), json!(now + lifetime));
        claims.insert("iat".into(), json!(now));
        if profile == Profile::Signaturgruppen {
            claims.insert("nbf".into(), json!(now));
            claims.insert("jti".into(), json!(uuid::Uuid::new_v4().to_string()));
        }
        claims.insert("auth_time".into(), json!(grant.auth_time));
        if let Some(n) = &grant.req.nonce {
            claims.insert("nonce".into(), json!(n));
        }
        claims.extend(id_token_identity_claims(
            profile,
            &facts,
            iss.cfg.minimal_id_token(),
        ));

        let access_token = random_token();
        let alg = client
            .cfg
            .id_token_signed_response_alg
            .unwrap_or_else(|| iss.cfg.signing_alg());
        let (active, active_rsa, active_ec, jwks_json) = {
            let ring = iss.ring.read().unwrap_or_else(|e| e.into_inner());
            (
                ring.active(alg),
                ring.active(SigningAlg::RS256),
                ring.active(SigningAlg::ES256),
                ring.jwks_json(),
            )
        };
        let active = active
            .ok_or_else(|| TokenError::Server(format!("issuer has no {} key", alg.name())))?;
        let id_token = match grant.plan.as_ref().filter(|p| p.touches_id_token()) {
            None => sign_well_formed(claims, &active, &access_token)
                .map_err(|e| TokenError::Server(e.to_string()))?,
            Some(plan) => {
                claims.insert("at_hash".into(), json!(at_hash(&access_token)));
                let ctx = ForgeContext {
                    active,
                    active_rsa,
                    active_ec,
                    keys: &self.keys,
                    jwks_json,
                    client_secret: client.cfg.client_secret.as_deref(),
                    client_id: &client.cfg.client_id,
                    client_jwks: client.cfg.jwks.as_ref(),
                    base_url: &self.base_url,
                    now,
                    lifetime,
                };
                forge_id_token(&ctx, claims, plan).map_err(|e| {
                    if let ForgeError::NoRpKey(why) | ForgeError::NoClientSecret(why) = &e {
                        // The fault cannot reach this RP: say so in the flow record, so the
                        // harness skips the step rather than judging the RP on our error.
                        super::observed::note_undeliverable(&mut self.flows(), &grant.req, why);
                    }
                    TokenError::Server(e.to_string())
                })?
            }
        };
        let expires_in = iss.cfg.access_token_lifetime_secs;
        let access = AccessGrant {
            issuer,
            userinfo: match grant.plan.as_ref().and_then(|p| p.userinfo_identity()) {
                // `userinfo-other-identity`: the claims of another person's login.
                Some(other) => {
                    let victim = self.identities.get(other).ok_or_else(|| {
                        TokenError::Server(format!("identity {other:?} disappeared"))
                    })?;
                    userinfo_claims(
                        profile,
                        &LoginFacts {
                            identity: victim,
                            ..facts.clone()
                        },
                    )
                }
                None => userinfo_claims(profile, &facts),
            },
            plan: grant.plan.clone(),
            expires_at: now + i64::try_from(expires_in).unwrap_or(3600),
            flow: super::observed::flow_key(&grant.req),
        };
        {
            let mut flows = self.flows();
            // Under sustained load the oldest access token makes room (its userinfo call then
            // fails as for an expired token); a login is never refused for it.
            super::provider::evicting_insert(
                &mut flows.tokens,
                access_token.clone(),
                access,
                now,
                self.config.max_entries.min(super::provider::EVICTING_MAX),
            );
            if let Some(g) = flows.codes.get_mut(code) {
                g.access_tokens.push(access_token.clone());
            }
        }
        super::observed::note_token_sent(&mut self.flows(), &grant.req);
        let response = json!({
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": expires_in,
            "id_token": id_token,
            "scope": grant.req.scopes.join(" "),
        });
        self.record_token_response(&grant.req, iss.endpoint(iss.paths.token), &response);
        Ok(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_rfc7636_appendix_b() {
        // RFC 7636 Appendix B example.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".to_string();
        let stored = (challenge, PkceMethod::S256);
        assert!(verify_pkce(Some(&stored), Some(verifier)).is_ok());
        assert!(matches!(
            verify_pkce(Some(&stored), Some(&verifier.replace('d', "e"))),
            Err(TokenError::VerifierMismatch)
        ));
        assert!(matches!(
            verify_pkce(Some(&stored), None),
            Err(TokenError::VerifierMissing)
        ));
        assert!(matches!(
            verify_pkce(None, Some(verifier)),
            Err(TokenError::VerifierUnexpected)
        ));
    }
}
