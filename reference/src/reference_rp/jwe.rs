//! The RP's own key pairs, and the JWE decryption that only flawed RPs reach.
//!
//! Every reference RP holds two RSA key pairs and registers their public halves with the broker
//! (the `jwks` of its client registration), as a MitID RP does: a signing key for
//! `private_key_jwt` client assertions and an encryption key (`use: enc`) for encrypted ID
//! tokens. The reference RP still authenticates with `client_secret_basic`; what matters here
//! is that it *holds private keys*, because that is the precondition of the sign/encrypt
//! confusion (Tervoort, "Three New Attacks Against JSON Web Tokens", Black Hat USA 2023): a
//! library that lets the token's shape choose between verifying a JWS and decrypting a JWE
//! decrypts a token that anyone encrypted to the RP's *public* key, and hands back claims no
//! one signed (jwcrypto < 1.4, CVE-2022-3102; json-jwt < 1.16.6, CVE-2023-51774).
//!
//! The strict RP registered no ID-token encryption, so a five-part token is refused before any
//! of this runs ([`super::jws::verify`]). Only [`RpFlaw::AcceptUnsignedJwe`] and
//! [`RpFlaw::UnverifiedNestedJws`] open a JWE, with [`open_id_token`], and
//! [`RpFlaw::NestedJwtVerifiedOnlyIfSigned`], with [`open_nested`]. Decryption is
//! hand-written on aws-lc-rs (RSAES-OAEP, AES-256-GCM), like the JWS checks: the broker
//! encrypts with its own code, so the two sides share none.

use super::Flaws;
use super::flaw::RpFlaw;
use super::jws::{Jws, JwsError, MAX_TOKEN_BYTES};
use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{
    KeyPair, KeySize, OAEP_SHA1_MGF1SHA1, OAEP_SHA256_MGF1SHA256, OaepAlgorithm,
    OaepPrivateDecryptingKey, PrivateDecryptingKey,
};
use aws_lc_rs::signature::KeyPair as _;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};
use std::sync::OnceLock;

/// `kid` of the RP's signing key (private_key_jwt) in its registered JWKS.
pub const SIG_KID: &str = "mock-rp-sig";
/// `kid` of the RP's encryption key in its registered JWKS.
pub const ENC_KID: &str = "mock-rp-enc";

/// Why a JWE was not opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JweError {
    /// Not five base64url parts with a JSON object header.
    #[error("malformed JWE: {0}")]
    Malformed(&'static str),
    /// A key-management or content algorithm this RP does not implement.
    #[error("JWE algorithm {0:?} is not supported")]
    Alg(String),
    /// The `kid` names none of the RP's keys.
    #[error("JWE kid {0:?} is none of this RP's keys")]
    UnknownKid(String),
    /// No key of the RP unwraps the content key, or the tag does not verify.
    #[error("the JWE does not decrypt with this RP's keys")]
    Decrypt,
    /// The plaintext is not what the (flawed) RP takes from a JWE.
    #[error("the JWE's plaintext is not {0}")]
    Plaintext(&'static str),
}

/// One of the RP's key pairs: the public half as registered, the private half for decryption.
#[derive(Debug)]
struct RpKey {
    kid: &'static str,
    usage: &'static str,
    alg: &'static str,
    n: Vec<u8>,
    e: Vec<u8>,
    private: OaepPrivateDecryptingKey,
}

impl RpKey {
    fn generate(kid: &'static str, usage: &'static str, alg: &'static str) -> Option<RpKey> {
        let pair = KeyPair::generate(KeySize::Rsa2048).ok()?;
        let public = pair.public_key();
        let n = public.modulus().big_endian_without_leading_zero().to_vec();
        let e = public.exponent().big_endian_without_leading_zero().to_vec();
        let pkcs8 = pair.as_der().ok()?;
        let private = PrivateDecryptingKey::from_pkcs8(pkcs8.as_ref()).ok()?;
        Some(RpKey {
            kid,
            usage,
            alg,
            n,
            e,
            private: OaepPrivateDecryptingKey::new(private).ok()?,
        })
    }

    fn public_jwk(&self) -> Value {
        json!({
            "kty": "RSA",
            "kid": self.kid,
            "use": self.usage,
            "alg": self.alg,
            "n": URL_SAFE_NO_PAD.encode(&self.n),
            "e": URL_SAFE_NO_PAD.encode(&self.e),
        })
    }
}

/// The RP's key pairs (signing, encryption).
#[derive(Debug)]
pub struct RpKeys {
    keys: Vec<RpKey>,
}

impl RpKeys {
    /// The public JWKS the RP registers with the broker (`jwks` of its client registration).
    pub fn public_jwks(&self) -> Value {
        json!({ "keys": self.keys.iter().map(RpKey::public_jwk).collect::<Vec<_>>() })
    }
}

/// The key pairs every reference RP in this process holds, generated once (RSA-2048 key
/// generation is too slow to repeat for each of the many RPs a test run starts). `None` only
/// if the crypto backend failed to generate keys; the RP then registers no keys and opens no
/// JWE.
pub fn rp_keys() -> Option<&'static RpKeys> {
    static KEYS: OnceLock<Option<RpKeys>> = OnceLock::new();
    KEYS.get_or_init(|| {
        Some(RpKeys {
            keys: vec![
                RpKey::generate(SIG_KID, "sig", "RS256")?,
                RpKey::generate(ENC_KID, "enc", "RSA-OAEP-256")?,
            ],
        })
    })
    .as_ref()
}

fn b64(part: &str, what: &'static str) -> Result<Vec<u8>, JweError> {
    URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| JweError::Malformed(what))
}

/// Decrypt a compact JWE (RFC 7516 §5.2) with the RP's private keys: RSA-OAEP or
/// RSA-OAEP-256 key wrapping, A256GCM content. The `kid` picks the key among *all* the RP's
/// key pairs, whatever their registered `use`, as a library handed the RP's whole key set
/// (jwcrypto's `JWKSet`) does; without a `kid` each is tried.
pub fn decrypt(token: &str, keys: &RpKeys) -> Result<Vec<u8>, JweError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(JweError::Malformed("token too large"));
    }
    let parts: Vec<&str> = token.split('.').collect();
    let [h, ek, iv, ct, tag] = parts.as_slice() else {
        return Err(JweError::Malformed("not five dot-separated parts"));
    };
    let header: Map<String, Value> = match serde_json::from_slice(&b64(h, "header")?) {
        Ok(Value::Object(m)) => m,
        _ => return Err(JweError::Malformed("the header is not a JSON object")),
    };
    let text = |name: &str| header.get(name).and_then(Value::as_str);
    let oaep: &'static OaepAlgorithm = match text("alg") {
        Some("RSA-OAEP-256") => &OAEP_SHA256_MGF1SHA256,
        Some("RSA-OAEP") => &OAEP_SHA1_MGF1SHA1,
        other => return Err(JweError::Alg(other.unwrap_or("(none)").to_string())),
    };
    match text("enc") {
        Some("A256GCM") => {}
        other => return Err(JweError::Alg(other.unwrap_or("(none)").to_string())),
    }
    if header.contains_key("zip") {
        return Err(JweError::Alg("zip".into()));
    }
    let wrapped = b64(ek, "encrypted key")?;
    let iv: [u8; 12] = b64(iv, "iv")?
        .try_into()
        .map_err(|_| JweError::Malformed("the IV is not 96 bits"))?;
    let mut sealed = b64(ct, "ciphertext")?;
    let tag = b64(tag, "tag")?;
    if tag.len() != 16 {
        return Err(JweError::Malformed("the tag is not 128 bits"));
    }
    sealed.extend_from_slice(&tag);
    let candidates: Vec<&RpKey> = match text("kid") {
        Some(kid) => {
            let k: Vec<&RpKey> = keys.keys.iter().filter(|k| k.kid == kid).collect();
            if k.is_empty() {
                return Err(JweError::UnknownKid(kid.to_string()));
            }
            k
        }
        None => keys.keys.iter().collect(),
    };
    for key in candidates {
        let mut cek = vec![0u8; key.private.min_output_size()];
        let Ok(cek) = key.private.decrypt(oaep, &wrapped, &mut cek, None) else {
            continue;
        };
        let Ok(unbound) = UnboundKey::new(&AES_256_GCM, cek) else {
            continue;
        };
        let mut in_out = sealed.clone();
        if let Ok(plain) = LessSafeKey::new(unbound).open_in_place(
            Nonce::assume_unique_for_key(iv),
            Aad::from(h.as_bytes()),
            &mut in_out,
        ) {
            return Ok(plain.to_vec());
        }
    }
    Err(JweError::Decrypt)
}

/// FLAWED RPs ONLY: the claims of an ID token that came as a JWE. Under
/// [`RpFlaw::AcceptUnsignedJwe`] a plaintext that is a JSON object is the claim set, trusted as
/// is (jwcrypto's `JWT(jwt=token, key=keyset)` decrypted and returned the payload as the
/// claims). Under [`RpFlaw::UnverifiedNestedJws`] the plaintext must be a nested JWS, whose
/// payload is read without verifying its signature: decryption is taken as proof of origin,
/// although anyone can encrypt to the RP's public key.
pub fn open_id_token(token: &str, flaws: &Flaws) -> Result<Map<String, Value>, JwsError> {
    let keys = rp_keys().ok_or(JweError::Decrypt)?;
    let plain = decrypt(token, keys)?;
    if flaws.has(RpFlaw::UnverifiedNestedJws)
        && let Ok(nested) = std::str::from_utf8(&plain)
        && let Ok(inner) = Jws::parse(nested.trim())
    {
        return Ok(inner.payload);
    }
    if flaws.has(RpFlaw::AcceptUnsignedJwe)
        && let Ok(Value::Object(claims)) = serde_json::from_slice::<Value>(&plain)
    {
        return Ok(claims);
    }
    Err(
        JweError::Plaintext(if flaws.has(RpFlaw::UnverifiedNestedJws) {
            "a nested JWS"
        } else {
            "a JSON claim set"
        })
        .into(),
    )
}

/// FLAWED RPs ONLY: the compact JWT nested in an ID token that came as a JWE (three
/// dot-separated parts), for [`RpFlaw::NestedJwtVerifiedOnlyIfSigned`], which then decides by
/// the inner header whether to verify it.
pub fn open_nested(token: &str) -> Result<String, JwsError> {
    let keys = rp_keys().ok_or(JweError::Decrypt)?;
    let plain = decrypt(token, keys)?;
    let inner = std::str::from_utf8(&plain)
        .map(str::trim)
        .map_err(|_| JweError::Plaintext("a nested JWT"))?;
    if inner.split('.').count() != 3 {
        return Err(JweError::Plaintext("a nested JWT").into());
    }
    Ok(inner.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> &'static RpKeys {
        rp_keys().expect("aws-lc-rs generates RSA keys")
    }

    /// A JWE built independently of the broker's writer (same primitives, own code), to the
    /// RP's key with `kid`.
    fn seal(alg: &str, kid: Option<&str>, plaintext: &[u8]) -> String {
        use aws_lc_rs::rsa::{OaepPublicEncryptingKey, PublicEncryptingKey};
        let k = keys()
            .keys
            .iter()
            .find(|k| Some(k.kid) == kid)
            .unwrap_or(&keys().keys[1]);
        let mut header = json!({"alg": alg, "enc": "A256GCM"});
        if let Some(kid) = kid {
            header["kid"] = json!(kid);
        }
        let h = URL_SAFE_NO_PAD.encode(header.to_string());
        // The JWKS reader takes signing keys only; the public numbers are what matter here.
        let mut jwk = k.public_jwk();
        jwk["use"] = json!("sig");
        let spki = super::super::jwk::Jwk::from_json(&jwk)
            .unwrap()
            .rsa_key_bytes(super::super::flaw::KeyBytes::SpkiDer)
            .unwrap();
        let public =
            OaepPublicEncryptingKey::new(PublicEncryptingKey::from_der(&spki).unwrap()).unwrap();
        let oaep = if alg == "RSA-OAEP" {
            &OAEP_SHA1_MGF1SHA1
        } else {
            &OAEP_SHA256_MGF1SHA256
        };
        let cek = [7u8; 32];
        let mut ek = vec![0u8; public.ciphertext_size()];
        let ek = public.encrypt(oaep, &cek, &mut ek, None).unwrap().to_vec();
        let iv = [9u8; 12];
        let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &cek).unwrap());
        let mut ct = plaintext.to_vec();
        let tag = key
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(iv),
                Aad::from(h.as_bytes()),
                &mut ct,
            )
            .unwrap();
        let e = |b: &[u8]| URL_SAFE_NO_PAD.encode(b);
        format!("{h}.{}.{}.{}.{}", e(&ek), e(&iv), e(&ct), e(tag.as_ref()))
    }

    #[test]
    fn decrypts_with_either_key_and_both_oaep_variants() {
        for alg in ["RSA-OAEP-256", "RSA-OAEP"] {
            for kid in [Some(ENC_KID), Some(SIG_KID), None] {
                let t = seal(alg, kid, br#"{"sub":"x"}"#);
                assert_eq!(
                    decrypt(&t, keys()).unwrap(),
                    br#"{"sub":"x"}"#,
                    "{alg} {kid:?}"
                );
            }
        }
        let jwks = keys().public_jwks();
        assert_eq!(jwks["keys"][0]["use"], "sig");
        assert_eq!(jwks["keys"][1]["use"], "enc");
    }

    #[test]
    fn bad_jwes_are_errors_never_panics() {
        let good = seal("RSA-OAEP-256", Some(ENC_KID), b"{}");
        let parts: Vec<&str> = good.split('.').collect();
        let with = |i: usize, v: &str| {
            let mut p = parts.clone();
            p[i] = v;
            p.join(".")
        };
        let h = |v: Value| URL_SAFE_NO_PAD.encode(v.to_string());
        let cases = [
            String::new(),
            "a.b.c.d".into(),
            "a.b.c.d.e.f".into(),
            with(0, "!!"),
            with(0, &h(json!([1]))),
            with(0, &h(json!({"alg": "RSA1_5", "enc": "A256GCM"}))),
            with(0, &h(json!({"alg": "dir", "enc": "A256GCM"}))),
            with(
                0,
                &h(json!({"alg": "RSA-OAEP-256", "enc": "A128CBC-HS256"})),
            ),
            with(
                0,
                &h(json!({"alg": "RSA-OAEP-256", "enc": "A256GCM", "zip": "DEF"})),
            ),
            with(
                0,
                &h(json!({"alg": "RSA-OAEP-256", "enc": "A256GCM", "kid": "other"})),
            ),
            with(1, ""),
            with(1, "AAAA"),
            with(2, "AAAA"),
            with(3, "%%"),
            with(4, ""),
            with(4, &URL_SAFE_NO_PAD.encode([0u8; 16])),
            "x".repeat(MAX_TOKEN_BYTES + 1),
        ];
        for c in cases {
            assert!(decrypt(&c, keys()).is_err(), "{c:.80}");
            for f in [RpFlaw::AcceptUnsignedJwe, RpFlaw::UnverifiedNestedJws] {
                assert!(open_id_token(&c, &Flaws::from_iter([f])).is_err());
            }
        }
    }

    #[test]
    fn each_flaw_trusts_its_own_plaintext_only() {
        let claims = seal("RSA-OAEP-256", Some(ENC_KID), br#"{"sub":"victim"}"#);
        let hd = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","kid":"mock-attacker"}"#);
        let pl = URL_SAFE_NO_PAD.encode(br#"{"sub":"victim"}"#);
        let nested_jws = format!("{hd}.{pl}.{}", URL_SAFE_NO_PAD.encode([1u8; 256]));
        let nested = seal("RSA-OAEP", Some(SIG_KID), nested_jws.as_bytes());
        let unsigned = Flaws::from_iter([RpFlaw::AcceptUnsignedJwe]);
        let unverified = Flaws::from_iter([RpFlaw::UnverifiedNestedJws]);
        assert_eq!(open_id_token(&claims, &unsigned).unwrap()["sub"], "victim");
        assert!(open_id_token(&nested, &unsigned).is_err());
        assert_eq!(
            open_id_token(&nested, &unverified).unwrap()["sub"],
            "victim"
        );
        assert!(open_id_token(&claims, &unverified).is_err());
    }

    #[test]
    fn open_nested_hands_back_the_inner_jwt_and_nothing_else() {
        let hd = URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#);
        let pl = URL_SAFE_NO_PAD.encode(br#"{"sub":"victim"}"#);
        let unsecured = format!("{hd}.{pl}.");
        let nested = seal(
            "RSA-OAEP-256",
            Some(ENC_KID),
            format!(" {unsecured}\n").as_bytes(),
        );
        assert_eq!(open_nested(&nested).unwrap(), unsecured);
        let claims = seal("RSA-OAEP-256", Some(ENC_KID), br#"{"sub":"victim"}"#);
        assert!(open_nested(&claims).is_err());
        let four = seal("RSA-OAEP", Some(SIG_KID), b"a.b.c.d");
        assert!(open_nested(&four).is_err());
        let not_utf8 = seal("RSA-OAEP", Some(SIG_KID), &[0xff, b'.', b'.']);
        assert!(open_nested(&not_utf8).is_err());
    }
}
