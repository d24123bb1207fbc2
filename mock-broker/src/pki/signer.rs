//! Signing and verification primitives on top of aws-lc-rs.
//!
//! The broker signs once per login (the assertion) and verifies once per AuthnRequest, so the
//! private key is parsed exactly once into an [`RsaSigner`] and shared by `Arc`. SHA-1 signing is
//! only here for the deliberately broken scenarios (NemLog-in rejects SHA-1 requests; an SP must
//! reject SHA-1 assertions). aws-lc-rs refuses to *sign* with SHA-1 and refuses RSA keys under 2048
//! bits, so those two cases fall back to the pure-Rust `rsa` crate, whose Marvin timing issue
//! (RUSTSEC-2023-0071) is irrelevant for mock keys.

use super::der::{self, tag};
use super::error::PkiError;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self as sig, EcdsaKeyPair, KeyPair, RsaKeyPair, UnparsedPublicKey};
use std::sync::{Arc, OnceLock};

/// DigestInfo prefix for SHA-1 in PKCS#1 v1.5 signatures (RFC 8017 §9.2, note 1).
const SHA1_DIGEST_INFO: &[u8] = &[
    0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14,
];
/// DigestInfo prefix for SHA-256 (RFC 8017 §9.2, note 1).
const SHA256_DIGEST_INFO: &[u8] = &[
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, 0x04, 0x20,
];

/// An RSA private key parsed once, ready to sign on the hot path. Cheap to clone.
#[derive(Clone)]
pub struct RsaSigner {
    inner: Arc<RsaInner>,
}

struct RsaInner {
    subject: String,
    bits: usize,
    pkcs8: Vec<u8>,
    /// `None` for keys aws-lc-rs refuses (under 2048 bits).
    aws: Option<RsaKeyPair>,
    /// Pure-Rust key, parsed on first SHA-1 or small-key use.
    legacy: OnceLock<rsa::RsaPrivateKey>,
}

impl std::fmt::Debug for RsaSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RsaSigner")
            .field("subject", &self.inner.subject)
            .field("bits", &self.inner.bits)
            .finish_non_exhaustive()
    }
}

impl RsaSigner {
    pub(crate) fn new(subject: &str, pkcs8: &[u8], bits: usize) -> Result<Self, PkiError> {
        let aws = if bits >= 2048 {
            Some(RsaKeyPair::from_pkcs8(pkcs8).map_err(|e| PkiError::Sign {
                subject: subject.into(),
                reason: format!("aws-lc-rs rejected the RSA key: {e}"),
            })?)
        } else {
            None
        };
        Ok(RsaSigner {
            inner: Arc::new(RsaInner {
                subject: subject.into(),
                bits,
                pkcs8: pkcs8.to_vec(),
                aws,
                legacy: OnceLock::new(),
            }),
        })
    }

    /// Modulus size in bits.
    pub fn key_bits(&self) -> usize {
        self.inner.bits
    }

    fn sign_err(&self, reason: impl Into<String>) -> PkiError {
        PkiError::Sign {
            subject: self.inner.subject.clone(),
            reason: reason.into(),
        }
    }

    /// RSASSA-PKCS1-v1_5 with SHA-256 (`rsa-sha256`, RS256): the OIOSAML 3 signature algorithm.
    pub fn sign_sha256(&self, msg: &[u8]) -> Result<Vec<u8>, PkiError> {
        match &self.inner.aws {
            Some(pair) => self.sign_aws(pair, &sig::RSA_PKCS1_SHA256, msg),
            None => {
                let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, msg);
                self.sign_legacy(SHA256_DIGEST_INFO, digest.as_ref())
            }
        }
    }

    /// RSASSA-PSS with SHA-256, MGF1-SHA-256 and a 32-byte salt: how OCES3 CAs sign
    /// certificates. Randomised, so two signatures of the same message differ.
    pub fn sign_pss_sha256(&self, msg: &[u8]) -> Result<Vec<u8>, PkiError> {
        match &self.inner.aws {
            Some(pair) => self.sign_aws(pair, &sig::RSA_PSS_SHA256, msg),
            None => Err(self.sign_err("RSA-PSS needs a key of at least 2048 bits")),
        }
    }

    /// RSASSA-PKCS1-v1_5 with SHA-1 (`xmldsig#rsa-sha1`). Only for negative tests: NemLog-in
    /// rejects SHA-1 AuthnRequests and SPs must reject SHA-1 signed assertions.
    pub fn sign_sha1(&self, msg: &[u8]) -> Result<Vec<u8>, PkiError> {
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, msg);
        self.sign_legacy(SHA1_DIGEST_INFO, digest.as_ref())
    }

    fn sign_aws(
        &self,
        pair: &RsaKeyPair,
        alg: &'static dyn sig::RsaEncoding,
        msg: &[u8],
    ) -> Result<Vec<u8>, PkiError> {
        let mut out = vec![0u8; pair.public_modulus_len()];
        pair.sign(alg, &SystemRandom::new(), msg, &mut out)
            .map_err(|_| self.sign_err("aws-lc-rs RSA signing failed"))?;
        Ok(out)
    }

    fn sign_legacy(&self, prefix: &[u8], digest: &[u8]) -> Result<Vec<u8>, PkiError> {
        let key = match self.inner.legacy.get() {
            Some(k) => k,
            None => {
                use rsa::pkcs8::DecodePrivateKey;
                let k = rsa::RsaPrivateKey::from_pkcs8_der(&self.inner.pkcs8)
                    .map_err(|e| self.sign_err(format!("rsa crate rejected the key: {e}")))?;
                let _ = self.inner.legacy.set(k);
                self.inner
                    .legacy
                    .get()
                    .ok_or_else(|| self.sign_err("key cache"))?
            }
        };
        let scheme = rsa::Pkcs1v15Sign {
            hash_len: Some(digest.len()),
            prefix: prefix.into(),
        };
        key.sign(scheme, digest)
            .map_err(|e| self.sign_err(format!("rsa crate signing failed: {e}")))
    }
}

/// A P-256 private key parsed once, for ES256. Cheap to clone.
#[derive(Clone)]
pub struct EcSigner {
    inner: Arc<EcInner>,
}

struct EcInner {
    subject: String,
    pair: EcdsaKeyPair,
}

impl std::fmt::Debug for EcSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EcSigner")
            .field("subject", &self.inner.subject)
            .finish_non_exhaustive()
    }
}

impl EcSigner {
    pub(crate) fn new(subject: &str, pkcs8: &[u8]) -> Result<Self, PkiError> {
        let pair = EcdsaKeyPair::from_pkcs8(&sig::ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8).map_err(
            |e| PkiError::Sign {
                subject: subject.into(),
                reason: format!("aws-lc-rs rejected the P-256 key: {e}"),
            },
        )?;
        Ok(EcSigner {
            inner: Arc::new(EcInner {
                subject: subject.into(),
                pair,
            }),
        })
    }

    /// ECDSA P-256 SHA-256 in the fixed 64-byte `r || s` form JOSE (ES256) uses.
    pub fn sign_p256_sha256_fixed(&self, msg: &[u8]) -> Result<Vec<u8>, PkiError> {
        self.inner
            .pair
            .sign(&SystemRandom::new(), msg)
            .map(|s| s.as_ref().to_vec())
            .map_err(|_| PkiError::Sign {
                subject: self.inner.subject.clone(),
                reason: "aws-lc-rs ECDSA signing failed".into(),
            })
    }

    /// The uncompressed public point (0x04 || x || y), e.g. for a JWK's `x` and `y`.
    pub fn public_point(&self) -> &[u8] {
        self.inner.pair.public_key().as_ref()
    }
}

/// Verifies an RSASSA-PKCS1-v1_5 SHA-256 signature against a SubjectPublicKeyInfo (or PKCS#1
/// RSAPublicKey). Keys under 2048 bits never verify: check the key size first if you need to
/// tell "weak key" from "bad signature".
pub fn verify_rsa_sha256(spki_der: &[u8], msg: &[u8], signature: &[u8]) -> bool {
    UnparsedPublicKey::new(&sig::RSA_PKCS1_2048_8192_SHA256, spki_der)
        .verify(msg, signature)
        .is_ok()
}

/// Verifies an RSASSA-PKCS1-v1_5 SHA-1 signature; used to recognise (and then reject) SHA-1
/// signed requests with a precise message.
pub fn verify_rsa_sha1(spki_der: &[u8], msg: &[u8], signature: &[u8]) -> bool {
    UnparsedPublicKey::new(&sig::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY, spki_der)
        .verify(msg, signature)
        .is_ok()
}

/// Verifies an RSASSA-PSS SHA-256 signature (salt 32, as OCES3 CAs sign).
pub fn verify_rsa_pss_sha256(spki_der: &[u8], msg: &[u8], signature: &[u8]) -> bool {
    UnparsedPublicKey::new(&sig::RSA_PSS_2048_8192_SHA256, spki_der)
        .verify(msg, signature)
        .is_ok()
}

/// Verifies an ES256 signature (fixed 64-byte form) against a P-256 SubjectPublicKeyInfo.
pub fn verify_es256(spki_der: &[u8], msg: &[u8], signature: &[u8]) -> bool {
    let Some(point) = spki_bit_string(spki_der) else {
        return false;
    };
    UnparsedPublicKey::new(&sig::ECDSA_P256_SHA256_FIXED, point)
        .verify(msg, signature)
        .is_ok()
}

/// The subjectPublicKey BIT STRING content of a SubjectPublicKeyInfo.
pub(crate) fn spki_bit_string(spki: &[u8]) -> Option<&[u8]> {
    let (outer, _) = der::expect(spki, tag::SEQUENCE).ok()?;
    let (_alg, rest) = der::expect(outer.content, tag::SEQUENCE).ok()?;
    let (bits, _) = der::expect(rest, tag::BIT_STRING).ok()?;
    match bits.content.split_first() {
        Some((0, key)) => Some(key),
        _ => None,
    }
}
