//! Private keys: PEM decoding and the PKCS#8 / PKCS#1 / SEC1 conversions.
//!
//! Keys are kept as PKCS#8 DER, the one form every backend here accepts (aws-lc-rs, bergshamra,
//! RustCrypto). PKCS#1 is produced on demand because `openidconnect`'s
//! `CoreRsaPrivateSigningKey::from_pem` only takes "RSA PRIVATE KEY" PEM. Users' keys arrive in
//! whatever form their tooling wrote: OpenSSL 3 writes PKCS#8, older OpenSSL and many guides
//! PKCS#1, and `openssl ecparam -genkey` SEC1.

use super::der::{self, tag};

/// rsaEncryption (PKCS#1).
pub(crate) const OID_RSA: &[u64] = &[1, 2, 840, 113549, 1, 1, 1];
/// id-ecPublicKey.
pub(crate) const OID_EC: &[u64] = &[1, 2, 840, 10045, 2, 1];
/// prime256v1 / secp256r1 / P-256.
pub(crate) const OID_P256: &[u64] = &[1, 2, 840, 10045, 3, 1, 7];

/// The key algorithms the mock PKI supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyAlg {
    /// RSA of any size (1024-bit keys are parsed, so the "weak key" fixture can be loaded).
    Rsa,
    /// ECDSA on P-256 (ES256).
    EcP256,
}

impl KeyAlg {
    pub(crate) fn name(self) -> &'static str {
        match self {
            KeyAlg::Rsa => "RSA",
            KeyAlg::EcP256 => "EC P-256",
        }
    }
}

/// A parsed private key in canonical PKCS#8 form.
#[derive(Debug, Clone)]
pub(crate) struct PrivateKey {
    pub alg: KeyAlg,
    pub pkcs8: Vec<u8>,
    /// For RSA: the inner PKCS#1 RSAPrivateKey.
    pub pkcs1: Option<Vec<u8>>,
}

/// The components of an RSA public key (big-endian magnitudes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RsaPublic {
    pub n: Vec<u8>,
    pub e: Vec<u8>,
}

impl RsaPublic {
    /// Bits in the modulus.
    pub(crate) fn bits(&self) -> usize {
        match self.n.first() {
            Some(&b) => (self.n.len() - 1) * 8 + (8 - b.leading_zeros() as usize),
            None => 0,
        }
    }

    /// The PKCS#1 RSAPublicKey DER.
    pub(crate) fn pkcs1_der(&self) -> Vec<u8> {
        der::seq(&[&der::uint(&self.n), &der::uint(&self.e)])
    }

    /// The X.509 SubjectPublicKeyInfo DER.
    pub(crate) fn spki_der(&self) -> Vec<u8> {
        let alg = der::seq(&[&der::oid(OID_RSA), &der::null()]);
        der::seq(&[&alg, &der::bit_string(&self.pkcs1_der())])
    }
}

/// Decodes the first private key block of a PEM text.
pub(crate) fn from_pem(text: &str) -> Result<PrivateKey, String> {
    let blocks = pem::parse_many(text).map_err(|e| format!("not valid PEM: {e}"))?;
    if blocks.is_empty() {
        return Err("no PEM block found (expected \"-----BEGIN PRIVATE KEY-----\")".into());
    }
    for block in &blocks {
        match block.tag() {
            "PRIVATE KEY" => return from_pkcs8(block.contents()),
            "RSA PRIVATE KEY" => return from_pkcs1(block.contents()),
            "EC PRIVATE KEY" => return from_sec1(block.contents()),
            "ENCRYPTED PRIVATE KEY" => {
                return Err("the key is encrypted; decrypt it first \
                            (openssl pkcs8 -in key.pem -out plain.pem)"
                    .into());
            }
            _ => {}
        }
    }
    let tags: Vec<&str> = blocks.iter().map(|b| b.tag()).collect();
    Err(format!(
        "no private key block; found {tags:?} (expected PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY)"
    ))
}

/// Parses PKCS#8 PrivateKeyInfo (RFC 5208) for RSA or P-256.
pub(crate) fn from_pkcs8(der_bytes: &[u8]) -> Result<PrivateKey, String> {
    let err = |e: der::DerError| format!("PKCS#8: {e}");
    let (outer, _) = der::expect(der_bytes, tag::SEQUENCE).map_err(err)?;
    let (_version, rest) = der::expect(outer.content, tag::INTEGER).map_err(err)?;
    let (alg_id, rest) = der::expect(rest, tag::SEQUENCE).map_err(err)?;
    let (key, _) = der::expect(rest, tag::OCTET_STRING).map_err(err)?;
    let (alg_oid, params) = der::expect(alg_id.content, tag::OID).map_err(err)?;
    if alg_oid.raw == der::oid(OID_RSA).as_slice() {
        check_pkcs1(key.content)?;
        Ok(PrivateKey {
            alg: KeyAlg::Rsa,
            pkcs8: outer.raw.to_vec(),
            pkcs1: Some(key.content.to_vec()),
        })
    } else if alg_oid.raw == der::oid(OID_EC).as_slice() {
        let (curve, _) = der::expect(params, tag::OID).map_err(err)?;
        if curve.raw != der::oid(OID_P256).as_slice() {
            return Err("EC key on a curve other than P-256".into());
        }
        // Let aws-lc-rs validate the scalar and public point once, here.
        aws_lc_rs::signature::EcdsaKeyPair::from_pkcs8(
            &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            outer.raw,
        )
        .map_err(|e| format!("invalid P-256 key: {e}"))?;
        Ok(PrivateKey {
            alg: KeyAlg::EcP256,
            pkcs8: outer.raw.to_vec(),
            pkcs1: None,
        })
    } else {
        Err("unsupported key algorithm (only RSA and EC P-256 keys are supported)".into())
    }
}

/// Wraps a PKCS#1 RSAPrivateKey (RFC 8017) into PKCS#8.
pub(crate) fn from_pkcs1(pkcs1: &[u8]) -> Result<PrivateKey, String> {
    check_pkcs1(pkcs1)?;
    let (outer, _) = der::expect(pkcs1, tag::SEQUENCE).map_err(|e| format!("PKCS#1: {e}"))?;
    let alg = der::seq(&[&der::oid(OID_RSA), &der::null()]);
    let pkcs8 = der::seq(&[
        &der::small_uint(0),
        &alg,
        &der::tlv(tag::OCTET_STRING, outer.raw),
    ]);
    Ok(PrivateKey {
        alg: KeyAlg::Rsa,
        pkcs8,
        pkcs1: Some(outer.raw.to_vec()),
    })
}

/// Converts a SEC1 ECPrivateKey (RFC 5915) into PKCS#8 via aws-lc-rs.
fn from_sec1(sec1: &[u8]) -> Result<PrivateKey, String> {
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
    let pair = EcdsaKeyPair::from_private_key_der(&ECDSA_P256_SHA256_FIXED_SIGNING, sec1)
        .map_err(|e| format!("SEC1 EC key (only P-256 is supported): {e}"))?;
    let doc = pair
        .to_pkcs8v1()
        .map_err(|_| "cannot convert the EC key to PKCS#8".to_string())?;
    Ok(PrivateKey {
        alg: KeyAlg::EcP256,
        pkcs8: doc.as_ref().to_vec(),
        pkcs1: None,
    })
}

/// Structural check of RSAPrivateKey: SEQUENCE { version, n, e, d, p, q, dp, dq, qinv }.
fn check_pkcs1(pkcs1: &[u8]) -> Result<(), String> {
    let (outer, _) = der::expect(pkcs1, tag::SEQUENCE).map_err(|e| format!("PKCS#1: {e}"))?;
    let mut rest = outer.content;
    for _ in 0..9 {
        let (_, r) = der::expect(rest, tag::INTEGER)
            .map_err(|_| "PKCS#1: RSAPrivateKey must have nine INTEGERs".to_string())?;
        rest = r;
    }
    Ok(())
}

/// The public half of an RSA private key, read from its PKCS#1 form.
pub(crate) fn rsa_public_of(pkcs1: &[u8]) -> Result<RsaPublic, der::DerError> {
    let (outer, _) = der::expect(pkcs1, tag::SEQUENCE)?;
    let (_version, rest) = der::expect(outer.content, tag::INTEGER)?;
    let (n, rest) = der::expect(rest, tag::INTEGER)?;
    let (e, _) = der::expect(rest, tag::INTEGER)?;
    Ok(RsaPublic {
        n: der::unsigned(n.content).to_vec(),
        e: der::unsigned(e.content).to_vec(),
    })
}

/// The public half of an RSA SubjectPublicKeyInfo.
pub(crate) fn rsa_public_of_spki(spki: &[u8]) -> Result<RsaPublic, der::DerError> {
    let (outer, _) = der::expect(spki, tag::SEQUENCE)?;
    let (_alg, rest) = der::expect(outer.content, tag::SEQUENCE)?;
    let (bits, _) = der::expect(rest, tag::BIT_STRING)?;
    let (&unused, key) = bits
        .content
        .split_first()
        .ok_or(der::DerError("empty BIT STRING"))?;
    if unused != 0 {
        return Err(der::DerError("BIT STRING with unused bits"));
    }
    let (seq, _) = der::expect(key, tag::SEQUENCE)?;
    let (n, rest) = der::expect(seq.content, tag::INTEGER)?;
    let (e, _) = der::expect(rest, tag::INTEGER)?;
    Ok(RsaPublic {
        n: der::unsigned(n.content).to_vec(),
        e: der::unsigned(e.content).to_vec(),
    })
}

/// The SubjectPublicKeyInfo matching a private key.
pub(crate) fn spki_of(key: &PrivateKey) -> Result<Vec<u8>, String> {
    match (key.alg, &key.pkcs1) {
        (KeyAlg::Rsa, Some(pkcs1)) => Ok(rsa_public_of(pkcs1)
            .map_err(|e| format!("PKCS#1: {e}"))?
            .spki_der()),
        (KeyAlg::EcP256, _) => {
            use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
            let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &key.pkcs8)
                .map_err(|e| format!("invalid P-256 key: {e}"))?;
            let alg = der::seq(&[&der::oid(OID_EC), &der::oid(OID_P256)]);
            Ok(der::seq(&[
                &alg,
                &der::bit_string(pair.public_key().as_ref()),
            ]))
        }
        (KeyAlg::Rsa, None) => Err("RSA key without its PKCS#1 form".into()),
    }
}
