//! `/.well-known/openid-configuration`, built with openidconnect's typed `ProviderMetadata` so
//! field names and value spellings are the spec's, plus the fields it does not model
//! (end session, PAR, RFC 9207 `iss`, PKCE methods).

use super::claims::IduraMethod;
use super::config::{EndpointPaths, IssuerConfig, Profile, SigningAlg};
use openidconnect::core::{
    CoreAuthDisplay, CoreClaimName, CoreClaimType, CoreClientAuthMethod, CoreGrantType,
    CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJweKeyManagementAlgorithm,
    CoreJwsSigningAlgorithm, CoreResponseMode, CoreResponseType, CoreSubjectIdentifierType,
};
use openidconnect::{
    AdditionalProviderMetadata, AuthUrl, AuthenticationContextClass, IssuerUrl, JsonWebKeySetUrl,
    ProviderMetadata, ResponseTypes, Scope, TokenUrl, UserInfoUrl,
};
use serde::{Deserialize, Serialize};

/// Discovery fields outside openidconnect's core set.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BrokerMetadata {
    /// RP-initiated logout endpoint.
    pub end_session_endpoint: String,
    /// RFC 9126 PAR endpoint, where the broker offers it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pushed_authorization_request_endpoint: Option<String>,
    /// RFC 9207: the authorization response carries `iss`.
    pub authorization_response_iss_parameter_supported: bool,
    /// RFC 7636 methods.
    pub code_challenge_methods_supported: Vec<String>,
}
impl AdditionalProviderMetadata for BrokerMetadata {}

/// Provider metadata with the broker's extra fields.
pub type BrokerProviderMetadata = ProviderMetadata<
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

/// Scopes each profile documents.
pub fn scopes_supported(profile: Profile) -> &'static [&'static str] {
    match profile {
        Profile::Signaturgruppen => &["openid", "mitid", "ssn", "nemid.pid", "nemlogin"],
        Profile::Idura => &["openid", "ssn"],
    }
}

fn claims_supported(profile: Profile) -> &'static [&'static str] {
    match profile {
        Profile::Signaturgruppen => &[
            "sub",
            "idp",
            "identity_type",
            "loa",
            "ial",
            "aal",
            "amr",
            "loip",
            "neb_sid",
            "transaction_id",
            "session_expiry",
            "mitid.uuid",
            "mitid.date_of_birth",
            "mitid.age",
            "mitid.identity_name",
            "mitid.has_cpr",
            "mitid.transaction_id",
            "dk.cpr",
            "nemid.pid",
            "nemid.pid_status",
            "nemlogin.persistent_professional_id",
            "nemlogin.cvr",
            "nemlogin.org_name",
            "nemlogin.name",
            "nemlogin.given_name",
            "nemlogin.family_name",
            "nemlogin.email",
            "nemlogin.date_of_birth",
            "nemlogin.nemid.rid",
            "nemlogin.se_number",
            "nemlogin.p_number",
            "nemlogin.cpr",
            "nemlogin.cpr_uuid",
            "nemlogin.alias",
            "nemlogin.auth_to_repr",
        ],
        Profile::Idura => &[
            "sub",
            "identityscheme",
            "authenticationtype",
            "authenticationmethod",
            "authenticationinstant",
            "nameidentifier",
            "sessionindex",
            "loA",
            "ial",
            "aal",
            "fal",
            "uuid",
            "cprNumberIdentifier",
            "birthdate",
            "dateofbirth",
            "age",
            "name",
            "country",
            "cvrNumberIdentifier",
            "2.5.4.10",
            "ridNumberIdentifier",
            "seNumber",
            "productionUnit",
            "employee",
            "companySignatory",
        ],
    }
}

/// Serialize the discovery document for an issuer at `url`.
pub(crate) fn metadata_json(
    cfg: &IssuerConfig,
    url: &str,
    paths: &EndpointPaths,
) -> Result<String, String> {
    let u = |p: &str| format!("{url}{p}");
    let e = |e: url::ParseError| e.to_string();
    let extra = BrokerMetadata {
        end_session_endpoint: u(paths.end_session),
        pushed_authorization_request_endpoint: cfg.par_enabled().then(|| u(paths.par)),
        authorization_response_iss_parameter_supported: cfg.authorization_response_iss,
        code_challenge_methods_supported: if cfg.pkce_plain_allowed {
            vec!["S256".into(), "plain".into()]
        } else {
            vec!["S256".into()]
        },
    };
    let subject_type = match cfg.profile {
        // Signaturgruppen scopes `sub` per organisation.
        Profile::Signaturgruppen => CoreSubjectIdentifierType::Pairwise,
        Profile::Idura => CoreSubjectIdentifierType::Public,
    };
    let mut md = BrokerProviderMetadata::new(
        IssuerUrl::new(url.to_string()).map_err(e)?,
        AuthUrl::new(u(paths.authorize)).map_err(e)?,
        JsonWebKeySetUrl::new(u(paths.jwks)).map_err(e)?,
        vec![ResponseTypes::new(vec![CoreResponseType::Code])],
        vec![subject_type],
        // The issuer's own algorithm first: some RPs take the first value as "the" algorithm.
        match cfg.signing_alg() {
            SigningAlg::RS256 => vec![
                CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
                CoreJwsSigningAlgorithm::EcdsaP256Sha256,
            ],
            SigningAlg::ES256 => vec![
                CoreJwsSigningAlgorithm::EcdsaP256Sha256,
                CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
            ],
        },
        extra,
    )
    .set_token_endpoint(Some(TokenUrl::new(u(paths.token)).map_err(e)?))
    .set_userinfo_endpoint(Some(UserInfoUrl::new(u(paths.userinfo)).map_err(e)?))
    .set_scopes_supported(Some(
        scopes_supported(cfg.profile)
            .iter()
            .map(|s| Scope::new(s.to_string()))
            .collect(),
    ))
    .set_claims_supported(Some(
        claims_supported(cfg.profile)
            .iter()
            .map(|s| CoreClaimName::new(s.to_string()))
            .collect(),
    ))
    .set_response_modes_supported(Some(vec![
        CoreResponseMode::Query,
        CoreResponseMode::Fragment,
        CoreResponseMode::FormPost,
    ]))
    .set_grant_types_supported(Some(vec![CoreGrantType::AuthorizationCode]))
    .set_token_endpoint_auth_methods_supported(Some(vec![
        CoreClientAuthMethod::ClientSecretBasic,
        CoreClientAuthMethod::ClientSecretPost,
        CoreClientAuthMethod::PrivateKeyJwt,
    ]))
    .set_token_endpoint_auth_signing_alg_values_supported(Some(vec![
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    ]))
    .set_request_parameter_supported(Some(false))
    .set_request_uri_parameter_supported(Some(false))
    .set_claims_parameter_supported(Some(false));
    if cfg.profile == Profile::Idura {
        md = md.set_acr_values_supported(Some(
            IduraMethod::ALL
                .iter()
                .map(|m| AuthenticationContextClass::new(m.acr().to_string()))
                .collect(),
        ));
    }
    serde_json::to_string(&md).map_err(|e| e.to_string())
}
