//! The well-formed ID token: the claim set is turned into openidconnect's typed
//! `IdTokenClaims` (which refuses a token without `iss`, `aud`, `exp`, `iat` or `sub`) and
//! signed through its `IdToken::new`, which also computes `at_hash`. Broken tokens never come
//! from here; they are forged in [`super::dangerous`].

use super::claims::ClaimSet;
use super::config::SigningAlg;
use super::keys::{SigningKey, WellFormedSigner, b64url};
use openidconnect::core::{
    CoreGenderClaim, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm,
};
use openidconnect::{AccessToken, AdditionalClaims, IdToken, IdTokenClaims};
use serde::{Deserialize, Serialize};

/// The broker-specific claims (everything openidconnect does not model), kept as JSON.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BrokerClaims {
    /// Claims by name (`idp`, `mitid.uuid`, `identityscheme`, ...).
    #[serde(flatten)]
    pub claims: ClaimSet,
}
impl AdditionalClaims for BrokerClaims {}

/// Typed ID-token claims with broker claims; use it to verify tokens with openidconnect.
pub type BrokerIdTokenClaims = IdTokenClaims<BrokerClaims, CoreGenderClaim>;

/// Typed ID token with broker claims.
pub type BrokerIdToken = IdToken<
    BrokerClaims,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;

/// Why a well-formed ID token could not be produced (a bug or configuration gap).
#[derive(Debug, thiserror::Error)]
pub enum IdTokenError {
    /// The claim set lacks or mistypes a required claim.
    #[error("claim set is not a valid ID token: {0}")]
    Claims(String),
    /// Signing failed.
    #[error("signing the ID token failed: {0}")]
    Sign(String),
}

/// The `at_hash` of an access token for SHA-256 based algorithms (RS256, ES256, HS256):
/// base64url of the left half of the digest (OIDC Core §3.1.3.6).
pub fn at_hash(access_token: &str) -> String {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, access_token.as_bytes());
    b64url(&d.as_ref()[..16])
}

/// Sign a complete claim set with `key`.
pub(crate) fn sign_well_formed(
    claims: ClaimSet,
    key: &SigningKey,
    access_token: &str,
) -> Result<String, IdTokenError> {
    let typed: BrokerIdTokenClaims = serde_json::from_value(serde_json::Value::Object(claims))
        .map_err(|e| IdTokenError::Claims(e.to_string()))?;
    let alg = match key.alg() {
        SigningAlg::RS256 => CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        SigningAlg::ES256 => CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    };
    let token = BrokerIdToken::new(
        typed,
        &WellFormedSigner(key),
        alg,
        Some(&AccessToken::new(access_token.to_string())),
        None,
    )
    .map_err(|e| IdTokenError::Sign(e.to_string()))?;
    Ok(token.to_string())
}
