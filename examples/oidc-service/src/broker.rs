//! The OIDC side: discovery, the authorization request, the code exchange, ID token
//! verification and userinfo, all with the `openidconnect` crate.
//!
//! Two things `openidconnect` leaves to the application, done here:
//! - **Key rotation.** The JWKS is fetched once with discovery. When no key we hold verifies an
//!   ID token — its `kid` is unknown, or it has no `kid` and was signed with a key newer than
//!   our copy — the broker may have rotated its key, so we fetch the JWKS again (once per
//!   token) before refusing.
//! - **Tokens without `kid`.** `openidconnect` refuses them when the JWKS has several keys for
//!   the algorithm (as it has during a key rollover); we then try each of those keys, which
//!   OIDC Core §10.1 allows. A token no published key verifies is refused either way.

use crate::config::Config;
use axum::http;
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreClaimName, CoreClaimType, CoreClientAuthMethod,
    CoreErrorResponseType, CoreGenderClaim, CoreGrantType, CoreJsonWebKey,
    CoreJweContentEncryptionAlgorithm, CoreJweKeyManagementAlgorithm, CoreJwsSigningAlgorithm,
    CoreResponseMode, CoreResponseType, CoreRevocableToken, CoreRevocationErrorResponse,
    CoreSubjectIdentifierType, CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AdditionalClaims, AdditionalProviderMetadata, AsyncHttpClient, AuthenticationFlow,
    AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken,
    EmptyExtraTokenFields, EndpointMaybeSet, EndpointNotSet, EndpointSet, HttpRequest,
    HttpResponse, IdTokenFields, IdTokenVerifier, IssuerUrl, JsonWebKeySet, JwsSigningAlgorithm,
    Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, ProviderMetadata, RedirectUrl,
    Scope, SignatureVerificationError, StandardErrorResponse, StandardTokenResponse,
    TokenResponse as _,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Largest response body read from the broker.
const MAX_BODY: usize = 512 * 1024;

// ---------------------------------------------------------------------------------------------
// HTTP client: openidconnect's `AsyncHttpClient` over the service's own reqwest.

/// The HTTP client `openidconnect` uses: our `reqwest::Client`, without redirects (a
/// redirected discovery or token request is an error, not something to follow) and with a
/// timeout and a body limit.
#[derive(Debug, Clone)]
pub struct HttpClient(reqwest::Client);

/// Why an HTTP call to the broker failed.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// Connection, TLS, timeout.
    #[error(transparent)]
    Reqwest(#[from] reqwest::Error),
    /// The response could not be rebuilt as an `http::Response`.
    #[error(transparent)]
    Http(#[from] http::Error),
    /// The body exceeded the size limit (512 KiB).
    #[error("response body larger than {MAX_BODY} bytes")]
    TooLarge,
}

impl HttpClient {
    /// The client used for discovery, JWKS, token and userinfo requests.
    pub fn new() -> Result<Self, reqwest::Error> {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .map(HttpClient)
    }
}

impl<'c> AsyncHttpClient<'c> for HttpClient {
    type Error = HttpError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, HttpError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(async move {
            let mut response = self.0.execute(request.try_into()?).await?;
            let mut builder = http::Response::builder().status(response.status());
            for (name, value) in response.headers() {
                builder = builder.header(name, value);
            }
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await? {
                body.extend_from_slice(&chunk);
                if body.len() > MAX_BODY {
                    return Err(HttpError::TooLarge);
                }
            }
            Ok(builder.body(body)?)
        })
    }
}

// ---------------------------------------------------------------------------------------------
// The openidconnect types, specialised for the broker.

/// Discovery fields `openidconnect` does not model: RFC 9207's promise that every
/// authorization response carries `iss`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct BrokerMetadata {
    /// RFC 9207 §3: the authorization response carries `iss`.
    #[serde(default)]
    pub authorization_response_iss_parameter_supported: bool,
}
impl AdditionalProviderMetadata for BrokerMetadata {}

/// Every claim beyond the standard ones (`idp`, `loa`, `mitid.uuid`, `nemid.*`, `nbf`, ...),
/// kept as JSON so the MitID checks can see all of them, including ones we do not expect.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BrokerClaims(pub Map<String, Value>);
impl AdditionalClaims for BrokerClaims {}

type Metadata = ProviderMetadata<
    BrokerMetadata,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

type TokenResponse = StandardTokenResponse<
    IdTokenFields<
        BrokerClaims,
        EmptyExtraTokenFields,
        CoreGenderClaim,
        CoreJweContentEncryptionAlgorithm,
        CoreJwsSigningAlgorithm,
    >,
    CoreTokenType,
>;

type IdToken = openidconnect::IdToken<
    BrokerClaims,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;

type IdTokenClaims = openidconnect::IdTokenClaims<BrokerClaims, CoreGenderClaim>;

type Client = openidconnect::Client<
    BrokerClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    TokenResponse,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

// ---------------------------------------------------------------------------------------------

/// Why the broker could not be used, or an answer of it was refused.
#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    /// Discovery or JWKS could not be fetched or parsed.
    #[error("discovery: {0}")]
    Discovery(String),
    /// A configured URL is malformed.
    #[error("configuration: {0}")]
    Config(String),
    /// The token request failed.
    #[error("token request: {0}")]
    Token(String),
    /// The token response has no ID token.
    #[error("the token response has no id_token")]
    NoIdToken,
    /// The ID token failed verification (signature, iss, aud, exp, nonce, ...).
    #[error("ID token: {0}")]
    IdToken(String),
    /// The userinfo request failed, or is about someone else.
    #[error("userinfo: {0}")]
    Userinfo(String),
}

/// What the browser must keep for the callback (in the server-side session).
#[derive(Debug)]
pub struct PendingLogin {
    /// `state` sent to the broker.
    pub state: CsrfToken,
    /// `nonce` sent to the broker.
    pub nonce: Nonce,
    /// PKCE verifier whose S256 challenge was sent.
    pub pkce_verifier: PkceCodeVerifier,
}

/// A verified login: the ID token's claims merged over the userinfo claims.
#[derive(Debug, Clone)]
pub struct VerifiedLogin {
    /// Every claim: userinfo first, then the ID token's (the signed statement wins).
    pub claims: Map<String, Value>,
}

/// The broker as this service knows it: discovery (with JWKS) and the client credentials.
#[derive(Debug)]
pub struct Broker {
    http: HttpClient,
    metadata: RwLock<Arc<Metadata>>,
    client_id: ClientId,
    client_secret: ClientSecret,
    redirect_uri: RedirectUrl,
    required_loa: crate::config::Loa,
    clock_skew: Duration,
}

impl Broker {
    /// Fetch the broker's discovery document and JWKS.
    pub async fn discover(config: &Config) -> Result<Self, BrokerError> {
        let http = HttpClient::new().map_err(|e| BrokerError::Config(e.to_string()))?;
        let issuer = IssuerUrl::new(config.issuer_url.clone())
            .map_err(|e| BrokerError::Config(format!("issuer URL: {e}")))?;
        let redirect_uri = RedirectUrl::new(config.redirect_uri.clone())
            .map_err(|e| BrokerError::Config(format!("redirect URI: {e}")))?;
        // Also checks that the document's `issuer` is exactly the configured one.
        let metadata = Metadata::discover_async(issuer, &http)
            .await
            .map_err(|e| BrokerError::Discovery(error_chain(&e)))?;
        if metadata.token_endpoint().is_none() || metadata.userinfo_endpoint().is_none() {
            return Err(BrokerError::Discovery(
                "the broker announces no token or userinfo endpoint".into(),
            ));
        }
        Ok(Broker {
            http,
            metadata: RwLock::new(Arc::new(metadata)),
            client_id: ClientId::new(config.client_id.clone()),
            client_secret: ClientSecret::new(config.client_secret.clone()),
            redirect_uri,
            required_loa: config.required_loa,
            clock_skew: config.clock_skew,
        })
    }

    fn metadata(&self) -> Arc<Metadata> {
        self.metadata
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The issuer identifier from discovery.
    pub fn issuer(&self) -> String {
        self.metadata().issuer().to_string()
    }

    /// Whether discovery promises `iss` in every authorization response (RFC 9207).
    pub fn promises_iss_parameter(&self) -> bool {
        self.metadata()
            .additional_metadata()
            .authorization_response_iss_parameter_supported
    }

    fn client(&self, metadata: &Metadata) -> Client {
        Client::from_provider_metadata(
            metadata.clone(),
            self.client_id.clone(),
            Some(self.client_secret.clone()),
        )
        .set_redirect_uri(self.redirect_uri.clone())
    }

    /// The authorization request (code flow, PKCE S256, `state`, `nonce`) and what the session
    /// must remember for the callback.
    ///
    /// Signaturgruppen parameters: scope `mitid` (the MitID UUID) and `nemlogin` (MitID
    /// Erhverv employees), `idp_values` restricting the login to MitID and MitID Erhverv, and
    /// `idp_params` asking MitID for the required level. Asking is not checking: the callback
    /// checks the level the ID token reports.
    pub fn authorization_request(&self) -> (url::Url, PendingLogin) {
        let metadata = self.metadata();
        let (challenge, pkce_verifier) = PkceCodeChallenge::new_random_sha256();
        let loa_value = self.required_loa.name().to_ascii_lowercase();
        let (url, state, nonce) = self
            .client(&metadata)
            .authorize_url(
                AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
                || CsrfToken::new_random_len(32),
                || Nonce::new_random_len(32),
            )
            .add_scope(Scope::new("mitid".into()))
            .add_scope(Scope::new("nemlogin".into()))
            .add_extra_param("idp_values", "mitid mitid_erhverv")
            .add_extra_param(
                "idp_params",
                serde_json::json!({ "mitid": { "loa_value": loa_value } }).to_string(),
            )
            .set_pkce_challenge(challenge)
            .url();
        (
            url,
            PendingLogin {
                state,
                nonce,
                pkce_verifier,
            },
        )
    }

    /// Redeem the code and verify what comes back: the ID token (signature with a key from the
    /// broker's JWKS, `iss`, `aud`, `azp`, `exp`, `iat`, `nbf`, `nonce`), then userinfo, whose
    /// `sub` must be the ID token's.
    pub async fn complete(
        &self,
        code: String,
        pending: PendingLogin,
    ) -> Result<VerifiedLogin, BrokerError> {
        let metadata = self.metadata();
        let client = self.client(&metadata);
        let tokens: TokenResponse = client
            .exchange_code(AuthorizationCode::new(code))
            .map_err(|e| BrokerError::Token(e.to_string()))?
            .set_pkce_verifier(pending.pkce_verifier)
            .request_async(&self.http)
            .await
            .map_err(|e| BrokerError::Token(error_chain(&e)))?;
        let id_token = tokens.id_token().ok_or(BrokerError::NoIdToken)?;
        let claims = self.verify_id_token(id_token, &pending.nonce).await?;

        let userinfo = self
            .client(&self.metadata())
            .user_info(
                tokens.access_token().clone(),
                // openidconnect refuses userinfo about another subject (OIDC Core §5.3.2).
                Some(claims.subject().clone()),
            )
            .map_err(|e| BrokerError::Userinfo(e.to_string()))?
            .request_async::<BrokerClaims, _, CoreGenderClaim>(&self.http)
            .await
            .map_err(|e| BrokerError::Userinfo(error_chain(&e)))?;

        let mut merged = userinfo.additional_claims().0.clone();
        merged.extend(claims.additional_claims().0.clone());
        merged.insert("sub".into(), Value::String(claims.subject().to_string()));
        if let Some(amr) = claims.auth_method_refs() {
            let amr: Vec<Value> = amr.iter().map(|a| Value::String(a.to_string())).collect();
            merged.insert("amr".into(), Value::Array(amr));
        }
        if let Some(acr) = claims.auth_context_ref() {
            merged.insert("acr".into(), Value::String(acr.to_string()));
        }
        Ok(VerifiedLogin { claims: merged })
    }

    /// The ID token verifier for a key set: only the asymmetric algorithms discovery lists
    /// (never `none`, never an HMAC keyed with the client secret or anything else), our client
    /// id as audience and no other, the discovery issuer, `iat` not in the future.
    fn verifier(
        &self,
        metadata: &Metadata,
        keys: Vec<CoreJsonWebKey>,
    ) -> IdTokenVerifier<'_, CoreJsonWebKey> {
        let algs: Vec<CoreJwsSigningAlgorithm> = metadata
            .id_token_signing_alg_values_supported()
            .iter()
            .filter(|a| !a.uses_shared_secret() && **a != CoreJwsSigningAlgorithm::None)
            .cloned()
            .collect();
        let skew = self.clock_skew.as_secs() as i64;
        IdTokenVerifier::new_public_client(
            self.client_id.clone(),
            metadata.issuer().clone(),
            JsonWebKeySet::new(keys),
        )
        .set_allowed_algs(algs)
        .set_issue_time_verifier_fn(move |iat| {
            if iat.timestamp() > unix_now() + skew {
                Err(format!("iat {iat} is in the future"))
            } else {
                Ok(())
            }
        })
    }

    /// Verify with the key set we have. A token without `kid` that several keys could have
    /// signed (openidconnect's `AmbiguousKeyId`) is tried with each of them.
    fn verify_with_keys(
        &self,
        metadata: &Metadata,
        id_token: &IdToken,
        nonce: &Nonce,
    ) -> Result<IdTokenClaims, ClaimsVerificationError> {
        let keys = metadata.jwks().keys();
        match id_token.claims(&self.verifier(metadata, keys.clone()), nonce) {
            Err(ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::AmbiguousKeyId(_),
            )) => {
                let mut last = None;
                for key in keys {
                    match id_token.claims(&self.verifier(metadata, vec![key.clone()]), nonce) {
                        Ok(c) => return Ok(c.clone()),
                        Err(e) => last = Some(e),
                    }
                }
                Err(
                    last.unwrap_or(ClaimsVerificationError::SignatureVerification(
                        SignatureVerificationError::NoMatchingKey,
                    )),
                )
            }
            other => other.cloned(),
        }
    }

    /// Verify the ID token; when no key we have verifies its signature (an unknown `kid`, or no
    /// `kid` and a signature none of our keys matches), the broker may have rotated its key:
    /// fetch the JWKS again, once for this token, and try once more.
    async fn verify_id_token(
        &self,
        id_token: &IdToken,
        nonce: &Nonce,
    ) -> Result<IdTokenClaims, BrokerError> {
        let metadata = self.metadata();
        let claims = match self.verify_with_keys(&metadata, id_token, nonce) {
            Err(ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey
                | SignatureVerificationError::CryptoError(_),
            )) => {
                let metadata = self.refetch_jwks().await?;
                self.verify_with_keys(&metadata, id_token, nonce)
            }
            other => other,
        }
        .map_err(|e| BrokerError::IdToken(error_chain(&e)))?;
        // What openidconnect leaves to us: `azp` (OIDC Core §3.1.3.7 step 5) and `nbf`.
        if let Some(azp) = claims.authorized_party() {
            if **azp != *self.client_id {
                return Err(BrokerError::IdToken(format!(
                    "azp {:?} is not our client id",
                    azp.as_str()
                )));
            }
        }
        match claims.additional_claims().0.get("nbf") {
            None => {}
            Some(v) => match v.as_i64() {
                Some(nbf) if nbf <= unix_now() + self.clock_skew.as_secs() as i64 => {}
                _ => return Err(BrokerError::IdToken(format!("nbf {v} is in the future"))),
            },
        }
        Ok(claims)
    }

    async fn refetch_jwks(&self) -> Result<Arc<Metadata>, BrokerError> {
        let current = self.metadata();
        let jwks = JsonWebKeySet::fetch_async(current.jwks_uri(), &self.http)
            .await
            .map_err(|e| BrokerError::Discovery(error_chain(&e)))?;
        let updated = Arc::new((*current).clone().set_jwks(jwks));
        *self.metadata.write().unwrap_or_else(|e| e.into_inner()) = updated.clone();
        tracing::info!(
            "refetched the broker's JWKS: {} keys",
            updated.jwks().keys().len()
        );
        Ok(updated)
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// An error with its sources, for logs and refusal pages (openidconnect's top-level messages
/// are terse: "Request failed").
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}
