//! Signing keys of the OIDC provider, the per-issuer key ring and its JWKS.
//!
//! Keys come from the mock PKI by credential name (`oidc_rs256_a`, `oidc_rs256_b`,
//! `oidc_es256`, plus `idp_oces2` and `attacker`, which are never published and exist only for
//! the dangerous API). Every `kid` starts with `mock-` so a key that leaks into a real
//! configuration is recognisable at a glance.
//!
//! Rotation models a real rollover: the JWKS holds the active and the previous key of each
//! ring, so after [`rotate_signing_key`](super::OidcProvider::rotate_signing_key) the new key
//! is one an RP has not cached yet and it has to refetch the JWKS (OpenID RP test
//! `oidcc-client-test-signing-key-rotation`).

use super::config::{IssuerConfig, SigningAlg};
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _, RSA_PKCS1_SHA256, RsaKeyPair,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use openidconnect::core::{CoreJsonCurveType, CoreJsonWebKey, CoreJsonWebKeySet};
use openidconnect::{JsonWebKeyId, PrivateSigningKey, SigningError};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// Why a key could not be loaded or used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The PKCS#8 bytes are neither an RSA nor a P-256 private key.
    #[error("mock key {name:?} is neither an RSA nor a P-256 PKCS#8 private key")]
    Unsupported {
        /// Credential name.
        name: String,
    },
    /// The mock PKI has no credential of that name, or it has no private key.
    #[error("mock PKI credential {name:?} is not available: {reason}")]
    Missing {
        /// Credential name.
        name: String,
        /// Why.
        reason: String,
    },
    /// An issuer names a key of the wrong type in a ring.
    #[error("issuer {issuer:?}: key {name:?} in the {ring} ring is not a {ring} key")]
    WrongRing {
        /// Issuer id.
        issuer: String,
        /// Credential name.
        name: String,
        /// `RSA` or `EC`.
        ring: &'static str,
    },
    /// The crypto backend refused to sign.
    #[error("signing with mock key {name:?} failed")]
    Sign {
        /// Credential name.
        name: String,
    },
}

/// The private half, as the crypto backend holds it.
enum Pair {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
}

/// A named mock signing key with its public forms precomputed.
pub struct SigningKey {
    name: String,
    kid: String,
    pair: Pair,
    jwk: CoreJsonWebKey,
    spki_der: Vec<u8>,
    pkcs1_der: Option<Vec<u8>>,
    cert_der: Option<Vec<u8>>,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("name", &self.name)
            .field("kid", &self.kid)
            .field("alg", &self.alg())
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Load a PKCS#8 private key (RSA or P-256). `cert_der` is the certificate served for the
    /// `x5u` header attack, when the PKI has one.
    pub fn from_pkcs8(name: &str, der: &[u8], cert_der: Option<Vec<u8>>) -> Result<Self, KeyError> {
        let kid = format!("mock-{name}");
        if let Ok(rsa) = RsaKeyPair::from_pkcs8(der) {
            let public = rsa.public_key();
            let n = public.modulus().big_endian_without_leading_zero().to_vec();
            let e = public.exponent().big_endian_without_leading_zero().to_vec();
            let spki_der = public
                .as_der()
                .map_err(|_| KeyError::Unsupported { name: name.into() })?
                .as_ref()
                .to_vec();
            let pkcs1_der = public.as_ref().to_vec();
            let jwk = CoreJsonWebKey::new_rsa(n, e, Some(JsonWebKeyId::new(kid.clone())));
            return Ok(SigningKey {
                name: name.into(),
                kid,
                pair: Pair::Rsa(rsa),
                jwk,
                spki_der,
                pkcs1_der: Some(pkcs1_der),
                cert_der,
            });
        }
        if let Ok(ec) = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der) {
            let point = ec.public_key().as_ref().to_vec();
            if point.len() != 65 || point[0] != 4 {
                return Err(KeyError::Unsupported { name: name.into() });
            }
            let spki_der = ec
                .public_key()
                .as_der()
                .map_err(|_| KeyError::Unsupported { name: name.into() })?
                .as_ref()
                .to_vec();
            let jwk = CoreJsonWebKey::new_ec(
                point[1..33].to_vec(),
                point[33..65].to_vec(),
                CoreJsonCurveType::P256,
                Some(JsonWebKeyId::new(kid.clone())),
            );
            return Ok(SigningKey {
                name: name.into(),
                kid,
                pair: Pair::Ec(ec),
                jwk,
                spki_der,
                pkcs1_der: None,
                cert_der,
            });
        }
        Err(KeyError::Unsupported { name: name.into() })
    }

    /// Credential name in the mock PKI.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The `kid` published in the JWKS and put in token headers.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The algorithm this key signs with.
    pub fn alg(&self) -> SigningAlg {
        match self.pair {
            Pair::Rsa(_) => SigningAlg::RS256,
            Pair::Ec(_) => SigningAlg::ES256,
        }
    }

    /// Public key as a JWK (with `kid` and `use: sig`).
    pub fn public_jwk(&self) -> &CoreJsonWebKey {
        &self.jwk
    }

    /// Public key as a JWK JSON object.
    pub fn public_jwk_json(&self) -> serde_json::Value {
        serde_json::to_value(&self.jwk).unwrap_or_default()
    }

    /// DER `SubjectPublicKeyInfo`.
    pub fn spki_der(&self) -> &[u8] {
        &self.spki_der
    }

    /// DER PKCS#1 `RSAPublicKey` (RSA keys only).
    pub fn pkcs1_der(&self) -> Option<&[u8]> {
        self.pkcs1_der.as_deref()
    }

    /// DER certificate, when the PKI supplied one.
    pub fn cert_der(&self) -> Option<&[u8]> {
        self.cert_der.as_deref()
    }

    /// Sign `message` with the key's own algorithm (RS256 or ES256, fixed-size `r||s`).
    pub(crate) fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        let err = || KeyError::Sign {
            name: self.name.clone(),
        };
        let rng = SystemRandom::new();
        match &self.pair {
            Pair::Rsa(kp) => {
                let mut sig = vec![0u8; kp.public_modulus_len()];
                kp.sign(&RSA_PKCS1_SHA256, &rng, message, &mut sig)
                    .map_err(|_| err())?;
                Ok(sig)
            }
            Pair::Ec(kp) => Ok(kp.sign(&rng, message).map_err(|_| err())?.as_ref().to_vec()),
        }
    }
}

/// Adapter that lets `openidconnect` sign well-formed ID tokens with an aws-lc-rs key
/// (openidconnect ships no ECDSA private key, and its RSA key wants PKCS#1 PEM).
pub(crate) struct WellFormedSigner<'a>(pub(crate) &'a SigningKey);

impl PrivateSigningKey for WellFormedSigner<'_> {
    type VerificationKey = CoreJsonWebKey;

    fn sign(
        &self,
        signature_alg: &openidconnect::core::CoreJwsSigningAlgorithm,
        message: &[u8],
    ) -> Result<Vec<u8>, SigningError> {
        use openidconnect::core::CoreJwsSigningAlgorithm as A;
        match (signature_alg, self.0.alg()) {
            (A::RsaSsaPkcs1V15Sha256, SigningAlg::RS256)
            | (A::EcdsaP256Sha256, SigningAlg::ES256) => {
                self.0.sign(message).map_err(|_| SigningError::CryptoError)
            }
            (other, _) => Err(SigningError::UnsupportedAlg(format!("{other:?}"))),
        }
    }

    fn as_verification_key(&self) -> CoreJsonWebKey {
        self.0.jwk.clone()
    }
}

/// Every mock key the provider may use, by credential name.
#[derive(Debug, Clone, Default)]
pub struct OidcKeys {
    by_name: BTreeMap<String, Arc<SigningKey>>,
}

/// The credential names the default configuration and the dangerous API expect.
pub const DEFAULT_KEY_NAMES: [&str; 6] = [
    "oidc_rs256_a",
    "oidc_rs256_b",
    "oidc_es256",
    "oidc_es256_b",
    "idp_oces2",
    "attacker",
];

impl OidcKeys {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add one key; a later key of the same name replaces the earlier one.
    pub fn insert(&mut self, key: SigningKey) {
        self.by_name.insert(key.name.clone(), Arc::new(key));
    }

    /// Load the keys named in [`DEFAULT_KEY_NAMES`] from the built-in mock PKI.
    pub fn from_pki(pki: &crate::pki::MockPki) -> Result<Self, KeyError> {
        let mut keys = OidcKeys::new();
        for name in DEFAULT_KEY_NAMES {
            keys.insert(load_from_pki(pki, name)?);
        }
        Ok(keys)
    }

    /// Look a key up by credential name.
    pub fn get(&self, name: &str) -> Option<Arc<SigningKey>> {
        self.by_name.get(name).cloned()
    }
}

/// The one place that knows the mock PKI's API.
fn load_from_pki(pki: &crate::pki::MockPki, name: &str) -> Result<SigningKey, KeyError> {
    let missing = |reason: String| KeyError::Missing {
        name: name.to_string(),
        reason,
    };
    let cred = pki
        .all()
        .into_iter()
        .find(|(n, _)| *n == name)
        .map(|(_, c)| c)
        .ok_or_else(|| missing("no such credential".into()))?;
    let der = cred
        .key_pkcs8_der()
        .ok_or_else(|| missing("the credential has no private key".into()))?;
    SigningKey::from_pkcs8(name, der, Some(cred.cert_der().to_vec()))
}

/// One issuer's keys: an RSA ring and an EC ring, each with an active and a previous key.
#[derive(Debug)]
pub(crate) struct KeyRing {
    rings: [Ring; 2],
    publish_all: bool,
    jwks_json: Arc<str>,
}

#[derive(Debug)]
struct Ring {
    keys: Vec<Arc<SigningKey>>,
    active: usize,
    previous: Option<usize>,
}

impl Ring {
    fn published(&self, all: bool) -> Vec<Arc<SigningKey>> {
        if self.keys.is_empty() {
            return vec![];
        }
        if all {
            let n = self.keys.len();
            return (0..n)
                .map(|i| self.keys[(self.active + i) % n].clone())
                .collect();
        }
        let mut v = vec![self.keys[self.active].clone()];
        if let Some(p) = self.previous.filter(|p| *p != self.active) {
            v.push(self.keys[p].clone());
        }
        v
    }
}

impl KeyRing {
    /// Build the ring for an issuer from its configured key names.
    pub(crate) fn new(cfg: &IssuerConfig, keys: &OidcKeys) -> Result<Self, KeyError> {
        let load = |names: &[String], alg: SigningAlg, ring: &'static str| {
            names
                .iter()
                .map(|n| {
                    let k = keys.get(n).ok_or_else(|| KeyError::Missing {
                        name: n.clone(),
                        reason: format!("issuer {:?} names it but it was not loaded", cfg.id),
                    })?;
                    if k.alg() != alg {
                        return Err(KeyError::WrongRing {
                            issuer: cfg.id.clone(),
                            name: n.clone(),
                            ring,
                        });
                    }
                    Ok(k)
                })
                .collect::<Result<Vec<_>, _>>()
        };
        let ring = |keys| Ring {
            keys,
            active: 0,
            previous: None,
        };
        let mut kr = KeyRing {
            rings: [
                ring(load(&cfg.rsa_keys, SigningAlg::RS256, "RSA")?),
                ring(load(&cfg.ec_keys, SigningAlg::ES256, "EC")?),
            ],
            publish_all: cfg.publish_all_keys,
            jwks_json: Arc::from(""),
        };
        kr.rebuild();
        Ok(kr)
    }

    fn ring(&self, alg: SigningAlg) -> &Ring {
        match alg {
            SigningAlg::RS256 => &self.rings[0],
            SigningAlg::ES256 => &self.rings[1],
        }
    }

    /// The key that signs `alg` tokens now.
    pub(crate) fn active(&self, alg: SigningAlg) -> Option<Arc<SigningKey>> {
        let r = self.ring(alg);
        r.keys.get(r.active).cloned()
    }

    /// Keys in the JWKS, in publication order.
    pub(crate) fn published(&self) -> Vec<Arc<SigningKey>> {
        self.rings
            .iter()
            .flat_map(|r| r.published(self.publish_all))
            .collect()
    }

    /// The JWKS document (cached; rebuilt on rotation).
    pub(crate) fn jwks_json(&self) -> Arc<str> {
        self.jwks_json.clone()
    }

    /// Make the next key of every ring with more than one key active; the old one stays
    /// published as "previous". Returns the active `kid`s afterwards.
    pub(crate) fn rotate(&mut self) -> Vec<String> {
        for r in &mut self.rings {
            if r.keys.len() > 1 {
                r.previous = Some(r.active);
                r.active = (r.active + 1) % r.keys.len();
            }
        }
        self.rebuild();
        self.rings
            .iter()
            .filter_map(|r| r.keys.get(r.active).map(|k| k.kid.clone()))
            .collect()
    }

    /// Back to the state at construction: the first key of every ring active, no previous key
    /// published. Returns the active `kid`s.
    pub(crate) fn restore(&mut self) -> Vec<String> {
        for r in &mut self.rings {
            r.active = 0;
            r.previous = None;
        }
        self.rebuild();
        self.rings
            .iter()
            .filter_map(|r| r.keys.get(r.active).map(|k| k.kid.clone()))
            .collect()
    }

    fn rebuild(&mut self) {
        let set = CoreJsonWebKeySet::new(
            self.published()
                .iter()
                .map(|k| k.public_jwk().clone())
                .collect(),
        );
        self.jwks_json = Arc::from(serde_json::to_string(&set).unwrap_or_default());
    }
}

/// base64url without padding, the JOSE encoding.
pub(crate) fn b64url(bytes: impl AsRef<[u8]>) -> String {
    B64URL.encode(bytes)
}
