//! JSON Web Keys as the RP reads them from the broker's JWKS: RSA and P-256 signature keys,
//! verification with aws-lc-rs, and (for the key-confusion flaw only) the byte forms of an RSA
//! key that a confused library would use as an HMAC secret.
//!
//! Verification is written here by hand rather than through a JOSE crate so that every check
//! the strict RP makes is visible in this module and in [`super::jws`], and each flaw can
//! switch off exactly one of them.

use super::flaw::KeyBytes;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED, RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents, UnparsedPublicKey,
};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::Value;

/// JWS algorithms the RP knows by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Alg {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    Rs256,
    /// ECDSA P-256 with SHA-256.
    Es256,
    /// HMAC SHA-256 (never accepted by the strict RP for ID tokens from an asymmetric OP).
    Hs256,
    /// HMAC SHA-384 (never accepted by the strict RP).
    Hs384,
    /// HMAC SHA-512 (never accepted by the strict RP).
    Hs512,
    /// Unsecured JWS.
    None,
    /// Anything else, verbatim.
    Other(String),
}

impl Alg {
    /// Parse the `alg` header value (case-sensitive, as RFC 7515 requires).
    pub fn parse(s: &str) -> Alg {
        match s {
            "RS256" => Alg::Rs256,
            "ES256" => Alg::Es256,
            "HS256" => Alg::Hs256,
            "HS384" => Alg::Hs384,
            "HS512" => Alg::Hs512,
            "none" => Alg::None,
            other => Alg::Other(other.to_string()),
        }
    }

    /// The registered name.
    pub fn name(&self) -> &str {
        match self {
            Alg::Rs256 => "RS256",
            Alg::Es256 => "ES256",
            Alg::Hs256 => "HS256",
            Alg::Hs384 => "HS384",
            Alg::Hs512 => "HS512",
            Alg::None => "none",
            Alg::Other(s) => s,
        }
    }
}

/// The public half of a signature key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicKey {
    /// RSA modulus and exponent, big-endian without leading zeros.
    Rsa {
        /// Modulus.
        n: Vec<u8>,
        /// Public exponent.
        e: Vec<u8>,
    },
    /// P-256 point coordinates (32 bytes each).
    P256 {
        /// x coordinate.
        x: Vec<u8>,
        /// y coordinate.
        y: Vec<u8>,
    },
}

/// One usable signature key from a JWKS.
#[derive(Debug, Clone)]
pub struct Jwk {
    /// `kid`, when published.
    pub kid: Option<String>,
    /// `alg`, when published (then the key is for that algorithm only).
    pub alg: Option<String>,
    /// The key.
    pub key: PublicKey,
    /// The JWK object as received (for the key-confusion flaw's `jwk-json` form).
    pub json: Value,
}

/// Why a JWK or JWKS was not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwkError {
    /// The document is not `{"keys": [...]}`.
    #[error("JWKS is not an object with a `keys` array")]
    NotAJwks,
    /// A key member is missing or not base64url.
    #[error("JWK member {0:?} is missing or not base64url")]
    Member(&'static str),
    /// Key type or curve the RP does not use for signatures.
    #[error("JWK kty/crv {0:?} is not an RSA or P-256 key")]
    Unsupported(String),
}

fn b64_member(v: &Value, name: &'static str) -> Result<Vec<u8>, JwkError> {
    let s = v
        .get(name)
        .and_then(Value::as_str)
        .ok_or(JwkError::Member(name))?;
    URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .map_err(|_| JwkError::Member(name))
}

fn strip_zeros(mut b: Vec<u8>) -> Vec<u8> {
    let lead = b.iter().take_while(|x| **x == 0).count();
    b.drain(..lead.min(b.len().saturating_sub(1)));
    b
}

impl Jwk {
    /// Parse one JWK object. Encryption keys (`use: enc`) are refused: an ID token is never
    /// verified with a key published for encryption.
    pub fn from_json(v: &Value) -> Result<Jwk, JwkError> {
        if v.get("use")
            .and_then(Value::as_str)
            .is_some_and(|u| u != "sig")
        {
            return Err(JwkError::Unsupported("use != sig".into()));
        }
        let kty = v.get("kty").and_then(Value::as_str).unwrap_or("");
        let key = match kty {
            "RSA" => PublicKey::Rsa {
                n: strip_zeros(b64_member(v, "n")?),
                e: strip_zeros(b64_member(v, "e")?),
            },
            "EC" => {
                let crv = v.get("crv").and_then(Value::as_str).unwrap_or("");
                if crv != "P-256" {
                    return Err(JwkError::Unsupported(format!("EC/{crv}")));
                }
                let (x, y) = (b64_member(v, "x")?, b64_member(v, "y")?);
                if x.len() != 32 || y.len() != 32 {
                    return Err(JwkError::Member("x/y"));
                }
                PublicKey::P256 { x, y }
            }
            other => return Err(JwkError::Unsupported(other.to_string())),
        };
        Ok(Jwk {
            kid: v.get("kid").and_then(Value::as_str).map(str::to_string),
            alg: v.get("alg").and_then(Value::as_str).map(str::to_string),
            key,
            json: v.clone(),
        })
    }

    /// Whether this key may verify `alg` signatures (key type matches, and the published
    /// `alg`, if any, is the same).
    pub fn suits(&self, alg: &Alg) -> bool {
        let kty_ok = matches!(
            (&self.key, alg),
            (PublicKey::Rsa { .. }, Alg::Rs256) | (PublicKey::P256 { .. }, Alg::Es256)
        );
        kty_ok && self.alg.as_deref().is_none_or(|a| a == alg.name())
    }

    /// Verify an asymmetric signature. Only RS256 with an RSA key and ES256 with a P-256 key
    /// can succeed; any other pairing is `false`.
    pub fn verify(&self, alg: &Alg, message: &[u8], signature: &[u8]) -> bool {
        match (&self.key, alg) {
            (PublicKey::Rsa { n, e }, Alg::Rs256) => RsaPublicKeyComponents { n, e }
                .verify(&RSA_PKCS1_2048_8192_SHA256, message, signature)
                .is_ok(),
            (PublicKey::P256 { x, y }, Alg::Es256) => {
                let mut point = Vec::with_capacity(65);
                point.push(4);
                point.extend_from_slice(x);
                point.extend_from_slice(y);
                UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point)
                    .verify(message, signature)
                    .is_ok()
            }
            _ => false,
        }
    }

    /// FLAWED RPs ONLY: the RSA key in the byte form a key-confused library would feed to HMAC.
    pub fn rsa_key_bytes(&self, form: KeyBytes) -> Option<Vec<u8>> {
        let PublicKey::Rsa { n, e } = &self.key else {
            return None;
        };
        let pkcs1 = der::rsa_public_key(n, e);
        Some(match form {
            KeyBytes::Pkcs1Der => pkcs1,
            KeyBytes::SpkiDer => der::rsa_spki(&pkcs1),
            KeyBytes::Pkcs1Pem => pem("RSA PUBLIC KEY", &pkcs1).into_bytes(),
            KeyBytes::SpkiPem => pem("PUBLIC KEY", &der::rsa_spki(&pkcs1)).into_bytes(),
            KeyBytes::JwkJson => self.json.to_string().into_bytes(),
            KeyBytes::SpkiPemCrlf => pem("PUBLIC KEY", &der::rsa_spki(&pkcs1))
                .replace('\n', "\r\n")
                .into_bytes(),
            KeyBytes::SpkiPemNoFinalNewline => pem("PUBLIC KEY", &der::rsa_spki(&pkcs1))
                .trim_end_matches('\n')
                .as_bytes()
                .to_vec(),
            KeyBytes::SpkiPemLeadingSpace => {
                format!(" {}", pem("PUBLIC KEY", &der::rsa_spki(&pkcs1))).into_bytes()
            }
            KeyBytes::Pkcs1PemCrlf => pem("RSA PUBLIC KEY", &pkcs1)
                .replace('\n', "\r\n")
                .into_bytes(),
            KeyBytes::SpkiPemCr => pem("PUBLIC KEY", &der::rsa_spki(&pkcs1))
                .replace('\n', "\r")
                .into_bytes(),
            KeyBytes::SpkiPemOneLine => pem("PUBLIC KEY", &der::rsa_spki(&pkcs1))
                .replace('\n', "")
                .into_bytes(),
            // The comment an operator keeps above the key in its file, as the flawed RP reads it.
            KeyBytes::SpkiPemCommentPrefix => format!(
                "# mock issuer signing key (from jwks_uri)\n{}",
                pem("PUBLIC KEY", &der::rsa_spki(&pkcs1))
            )
            .into_bytes(),
            // The whole document is not one key's to give; the caller fetches it.
            KeyBytes::JwksJson => return None,
        })
    }
}

/// PEM with 64-column lines, LF line ends and a trailing newline.
pub fn pem(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// Minimal DER writer for the two RSA public key structures.
mod der {
    fn len(n: usize) -> Vec<u8> {
        if n < 0x80 {
            return vec![n as u8];
        }
        let bytes: Vec<u8> = n
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        let mut v = vec![0x80 | bytes.len() as u8];
        v.extend(bytes);
        v
    }

    fn tlv(tag: u8, body: &[u8]) -> Vec<u8> {
        let mut v = vec![tag];
        v.extend(len(body.len()));
        v.extend_from_slice(body);
        v
    }

    fn integer(unsigned_be: &[u8]) -> Vec<u8> {
        let mut body = Vec::with_capacity(unsigned_be.len() + 1);
        if unsigned_be.first().is_none_or(|b| b & 0x80 != 0) {
            body.push(0);
        }
        body.extend_from_slice(unsigned_be);
        tlv(0x02, &body)
    }

    /// PKCS#1 `RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }`.
    pub(super) fn rsa_public_key(n: &[u8], e: &[u8]) -> Vec<u8> {
        let mut body = integer(n);
        body.extend(integer(e));
        tlv(0x30, &body)
    }

    /// `SubjectPublicKeyInfo` with `rsaEncryption` and NULL parameters.
    pub(super) fn rsa_spki(pkcs1: &[u8]) -> Vec<u8> {
        const RSA_ENCRYPTION: [u8; 11] = [
            0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01,
        ];
        let mut alg = RSA_ENCRYPTION.to_vec();
        alg.extend([0x05, 0x00]);
        let mut bits = vec![0u8];
        bits.extend_from_slice(pkcs1);
        let mut body = tlv(0x30, &alg);
        body.extend(tlv(0x03, &bits));
        tlv(0x30, &body)
    }
}

/// A parsed JWKS: the usable signature keys, in document order.
#[derive(Debug, Clone, Default)]
pub struct Jwks {
    /// Keys the RP can verify with (unusable entries are skipped, as RFC 7517 §5 allows).
    pub keys: Vec<Jwk>,
}

impl Jwks {
    /// Parse `{"keys": [...]}`.
    pub fn from_json(v: &Value) -> Result<Jwks, JwkError> {
        let arr = v
            .get("keys")
            .and_then(Value::as_array)
            .ok_or(JwkError::NotAJwks)?;
        Ok(Jwks {
            keys: arr.iter().filter_map(|k| Jwk::from_json(k).ok()).collect(),
        })
    }

    /// The key with this `kid`.
    pub fn by_kid(&self, kid: &str) -> Option<&Jwk> {
        self.keys.iter().find(|k| k.kid.as_deref() == Some(kid))
    }

    /// Keys that may verify `alg` signatures.
    pub fn suiting<'a>(&'a self, alg: &'a Alg) -> impl Iterator<Item = &'a Jwk> + 'a {
        self.keys.iter().filter(move |k| k.suits(alg))
    }
}

/// FLAWED RPs ONLY: the RSA public key of a PEM certificate (the `x5u` flaw).
pub fn rsa_key_from_cert_pem(pem_text: &str) -> Option<Jwk> {
    let body: String = pem_text
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let der = STANDARD.decode(body.trim()).ok()?;
    let (_, cert) = x509_parser::parse_x509_certificate(&der).ok()?;
    match cert.public_key().parsed().ok()? {
        x509_parser::public_key::PublicKey::RSA(rsa) => Some(Jwk {
            kid: None,
            alg: None,
            key: PublicKey::Rsa {
                n: strip_zeros(rsa.modulus.to_vec()),
                e: strip_zeros(rsa.exponent.to_vec()),
            },
            json: Value::Null,
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_lengths_and_integers() {
        // A 2-byte modulus with the high bit set gets a leading zero; short lengths stay short.
        let k = der::rsa_public_key(&[0x80, 0x01], &[0x01, 0x00, 0x01]);
        assert_eq!(
            k,
            vec![
                0x30, 0x0a, 0x02, 0x03, 0x00, 0x80, 0x01, 0x02, 0x03, 0x01, 0x00, 0x01
            ]
        );
        let long = der::rsa_public_key(&[0x7f; 300], &[3]);
        assert_eq!(&long[..4], &[0x30, 0x82, 0x01, 0x33]);
    }

    #[test]
    fn jwk_members_are_checked() {
        let e = Jwk::from_json(&serde_json::json!({"kty": "RSA", "e": "AQAB"})).unwrap_err();
        assert_eq!(e, JwkError::Member("n"));
        let e = Jwk::from_json(&serde_json::json!({"kty": "oct", "k": "AA"})).unwrap_err();
        assert!(matches!(e, JwkError::Unsupported(_)));
        let enc = serde_json::json!({"kty": "RSA", "use": "enc", "n": "AQAB", "e": "AQAB"});
        assert!(Jwk::from_json(&enc).is_err());
    }
}
