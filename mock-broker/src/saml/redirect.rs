//! The SAML HTTP-Redirect binding: the query string (URL encoding, which parameters, the exact
//! octets the detached signature covers) and verifying that signature.
//!
//! Decoding is where hostile input first arrives, so it is bounded: the query string length is
//! capped at [`MAX_QUERY`] before anything is parsed, and the message value goes through the
//! one Redirect-binding [`codec`] (base64, inflation capped at [`MAX_INFLATED`] bytes: a deflate
//! bomb gets a clear error, not an allocation of gigabytes). The signature is checked through
//! the [`XmlVerifier`] trait, like every other signature the broker verifies.

pub mod codec;

use super::xmlsec::XmlVerifier;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use codec::{Base64Reading, CodecError};

/// Largest inflated SAML message accepted from the Redirect binding (the codec's limit).
pub const MAX_INFLATED: usize = codec::MAX_INFLATED_LEN;
/// Largest query string accepted: the codec's [`codec::MAX_ENCODED_LEN`], applied to the whole
/// query before it is split, so nothing larger is even parsed. Kept well under the 65,534-byte
/// URI limit of the `http` crate: above that, hyper answers a bare `414` before the broker sees
/// the request, and the SP developer would get no page explaining what was wrong.
pub const MAX_QUERY: usize = codec::MAX_ENCODED_LEN;

/// The signature algorithm named by `SigAlg`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigAlg {
    /// `http://www.w3.org/2001/04/xmldsig-more#rsa-sha256`.
    RsaSha256,
    /// `http://www.w3.org/2000/09/xmldsig#rsa-sha1` (NemLog-in refuses it; so do we).
    RsaSha1,
}

impl SigAlg {
    /// Algorithm URI.
    pub fn uri(self) -> &'static str {
        match self {
            SigAlg::RsaSha256 => super::ns::ALG_RSA_SHA256,
            SigAlg::RsaSha1 => super::ns::ALG_RSA_SHA1,
        }
    }
}

/// What went wrong decoding or verifying a Redirect-binding message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RedirectError {
    /// No `SAMLRequest`/`SAMLResponse` parameter.
    #[error("missing query parameter {0}")]
    Missing(&'static str),
    /// A parameter appeared twice (ambiguous which one is signed).
    #[error("query parameter {0} appears more than once")]
    Duplicate(String),
    /// Query too long.
    #[error("query string is {0} bytes; the limit is {MAX_QUERY}")]
    TooLong(usize),
    /// Bad percent-encoding.
    #[error("parameter {0} is not valid URL encoding")]
    BadUrlEncoding(&'static str),
    /// Bad base64.
    #[error("{0} is not valid base64: {1}")]
    BadBase64(&'static str, String),
    /// Not raw DEFLATE.
    #[error(
        "{0} is not valid raw DEFLATE data (the Redirect binding requires DEFLATE, RFC 1951): {1}"
    )]
    BadDeflate(&'static str, String),
    /// Inflates beyond the cap.
    #[error("{0} inflates to more than {MAX_INFLATED} bytes (deflate bomb?)")]
    DeflateBomb(&'static str),
    /// Not UTF-8.
    #[error("{0} does not inflate to UTF-8 text")]
    NotUtf8(&'static str),
    /// No signature although one is required.
    #[error(
        "the message is not signed (no Signature/SigAlg parameters); NemLog-in requires signed requests"
    )]
    Unsigned,
    /// SigAlg present without Signature or vice versa.
    #[error("SigAlg and Signature must both be present")]
    HalfSigned,
    /// SHA-1 refused.
    #[error(
        "SigAlg is rsa-sha1; SHA-1 signatures are refused (NemLog-in answers \"A technical error has occurred\"); sign with http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
    )]
    Sha1Refused,
    /// Unknown algorithm.
    #[error("unsupported SigAlg {0:?}; use http://www.w3.org/2001/04/xmldsig-more#rsa-sha256")]
    UnsupportedSigAlg(String),
    /// Signature does not verify with any registered signing certificate.
    #[error(
        "the Redirect-binding signature does not verify with any signing certificate in the SP's metadata"
    )]
    BadSignature,
}

/// A decoded Redirect-binding message, with what is needed to verify its signature.
#[derive(Debug, Clone)]
pub struct RedirectMessage {
    /// `SAMLRequest` or `SAMLResponse`.
    pub param: &'static str,
    /// The inflated XML.
    pub xml: String,
    /// Decoded RelayState.
    pub relay_state: Option<String>,
    /// Signature algorithm, when signed.
    pub sig_alg: Option<SigAlg>,
    /// Unrecognised SigAlg URI, kept for the error message.
    pub sig_alg_raw: Option<String>,
    /// Raw signature bytes.
    pub signature: Option<Vec<u8>>,
    /// The exact octets the signature covers (`SAMLRequest=..&RelayState=..&SigAlg=..` as received).
    pub signed_octets: Vec<u8>,
}

fn pct_decode(raw: &str, name: &'static str) -> Result<String, RedirectError> {
    // Form decoding: `+` is a space, `%XX` an octet; invalid UTF-8 is an error, not replaced.
    let mut bytes = Vec::with_capacity(raw.len());
    let b = raw.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => bytes.push(b' '),
            b'%' => {
                let hex = b
                    .get(i + 1..i + 3)
                    .ok_or(RedirectError::BadUrlEncoding(name))?;
                let hex =
                    std::str::from_utf8(hex).map_err(|_| RedirectError::BadUrlEncoding(name))?;
                bytes.push(
                    u8::from_str_radix(hex, 16).map_err(|_| RedirectError::BadUrlEncoding(name))?,
                );
                i += 2;
            }
            c => bytes.push(c),
        }
        i += 1;
    }
    String::from_utf8(bytes).map_err(|_| RedirectError::BadUrlEncoding(name))
}

impl RedirectError {
    /// The binding's error for a message value of `param` the codec refused.
    fn codec(param: &'static str, e: CodecError) -> Self {
        match e {
            // Unreachable from `decode_query`, which caps the whole query first; kept exact
            // anyway: the message is part of the query, so the query is at least this long.
            CodecError::TooLong { len } => RedirectError::TooLong(len),
            CodecError::Base64(why) => RedirectError::BadBase64(param, why),
            CodecError::Inflate { reason, hint: _ } => RedirectError::BadDeflate(param, reason),
            CodecError::DeflateBomb => RedirectError::DeflateBomb(param),
            CodecError::NotUtf8 => RedirectError::NotUtf8(param),
        }
    }
}

/// Decode a Redirect-binding query string carrying `param` (`SAMLRequest` or `SAMLResponse`).
pub fn decode_query(query: &str, param: &'static str) -> Result<RedirectMessage, RedirectError> {
    if query.len() > MAX_QUERY {
        return Err(RedirectError::TooLong(query.len()));
    }
    let mut msg_raw = None;
    let mut relay_raw = None;
    let mut sigalg_raw = None;
    let mut sig_raw = None;
    for pair in query.split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let slot = match k {
            k if k == param => &mut msg_raw,
            "RelayState" => &mut relay_raw,
            "SigAlg" => &mut sigalg_raw,
            "Signature" => &mut sig_raw,
            _ => continue,
        };
        if slot.is_some() {
            return Err(RedirectError::Duplicate(k.to_string()));
        }
        *slot = Some(v);
    }
    let msg_raw = msg_raw.ok_or(RedirectError::Missing(param))?;
    let b64 = pct_decode(msg_raw, param)?;
    let xml =
        codec::decode(&b64, Base64Reading::Strict).map_err(|e| RedirectError::codec(param, e))?;
    let relay_state = relay_raw.map(|r| pct_decode(r, "RelayState")).transpose()?;

    let (sig_alg, sig_alg_raw, signature) = match (sigalg_raw, sig_raw) {
        (None, None) => (None, None, None),
        (Some(a), Some(s)) => {
            let alg = pct_decode(a, "SigAlg")?;
            let sig_b64 = pct_decode(s, "Signature")?;
            let sig = codec::decode_base64(&sig_b64, Base64Reading::Strict)
                .map_err(|e| RedirectError::codec("Signature", e))?;
            let parsed = match alg.as_str() {
                super::ns::ALG_RSA_SHA256 => Some(SigAlg::RsaSha256),
                super::ns::ALG_RSA_SHA1 => Some(SigAlg::RsaSha1),
                _ => None,
            };
            (parsed, Some(alg), Some(sig))
        }
        _ => return Err(RedirectError::HalfSigned),
    };
    let mut signed = format!("{param}={msg_raw}");
    if let Some(r) = relay_raw {
        signed.push_str("&RelayState=");
        signed.push_str(r);
    }
    if let Some(a) = sigalg_raw {
        signed.push_str("&SigAlg=");
        signed.push_str(a);
    }
    Ok(RedirectMessage {
        param,
        xml,
        relay_state,
        sig_alg,
        sig_alg_raw,
        signature,
        signed_octets: signed.into_bytes(),
    })
}

impl RedirectMessage {
    /// Verify the detached signature with `verifier` against candidate certificates' public
    /// keys (SPKI DER). Unsigned and SHA-1 messages are refused, as NemLog-in refuses them.
    pub fn verify(
        &self,
        verifier: &dyn XmlVerifier,
        spkis: &[Vec<u8>],
    ) -> Result<(), RedirectError> {
        let (Some(sig), Some(raw)) = (&self.signature, &self.sig_alg_raw) else {
            return Err(RedirectError::Unsigned);
        };
        match self.sig_alg {
            Some(SigAlg::RsaSha256) => {}
            Some(SigAlg::RsaSha1) => return Err(RedirectError::Sha1Refused),
            None => return Err(RedirectError::UnsupportedSigAlg(raw.clone())),
        }
        if spkis
            .iter()
            .any(|spki| verifier.verify_detached(SigAlg::RsaSha256, spki, &self.signed_octets, sig))
        {
            Ok(())
        } else {
            Err(RedirectError::BadSignature)
        }
    }
}

/// Build a Redirect-binding query string for `xml`, signed with `signer` when given.
/// `sig_alg` picks SHA-256 (normal) or SHA-1 (only for deliberately legacy test messages).
pub fn encode_query(
    param: &str,
    xml: &str,
    relay_state: Option<&str>,
    signer: Option<(&crate::pki::RsaSigner, SigAlg)>,
) -> Result<String, crate::pki::PkiError> {
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let mut q = format!("{param}={}", enc(&codec::encode(xml)));
    if let Some(r) = relay_state {
        q.push_str("&RelayState=");
        q.push_str(&enc(r));
    }
    if let Some((signer, alg)) = signer {
        q.push_str("&SigAlg=");
        q.push_str(&enc(alg.uri()));
        let sig = match alg {
            SigAlg::RsaSha256 => signer.sign_sha256(q.as_bytes())?,
            SigAlg::RsaSha1 => signer.sign_sha1(q.as_bytes())?,
        };
        q.push_str("&Signature=");
        q.push_str(&enc(&B64.encode(sig)));
    }
    Ok(q)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_unsigned_and_bad_inputs() {
        let q = encode_query("SAMLRequest", "<a>é</a>", Some("rs 1&2"), None).unwrap();
        let m = decode_query(&q, "SAMLRequest").unwrap();
        assert_eq!(m.xml, "<a>é</a>");
        assert_eq!(m.relay_state.as_deref(), Some("rs 1&2"));
        assert_eq!(
            m.verify(&crate::saml::xmlsec::Bergshamra, &[]),
            Err(RedirectError::Unsigned)
        );

        assert_eq!(
            decode_query("RelayState=x", "SAMLRequest").unwrap_err(),
            RedirectError::Missing("SAMLRequest")
        );
        assert!(matches!(
            decode_query("SAMLRequest=%%%", "SAMLRequest").unwrap_err(),
            RedirectError::BadUrlEncoding(_)
        ));
        assert!(matches!(
            decode_query("SAMLRequest=!!!", "SAMLRequest").unwrap_err(),
            RedirectError::BadBase64(..)
        ));
        assert!(matches!(
            decode_query("SAMLRequest=aGVsbG8=", "SAMLRequest").unwrap_err(),
            RedirectError::BadDeflate(..)
        ));
        assert!(matches!(
            decode_query("SAMLRequest=a&SAMLRequest=b", "SAMLRequest").unwrap_err(),
            RedirectError::Duplicate(_)
        ));
    }

    #[test]
    fn deflate_bomb_is_refused() {
        // 2 MiB: far over MAX_INFLATED, and small once deflated even at the fast level.
        let bomb = codec::deflate(&"A".repeat(2 * 1024 * 1024));
        assert!(bomb.len() < 20_000);
        let q = format!(
            "SAMLRequest={}",
            url::form_urlencoded::byte_serialize(B64.encode(bomb).as_bytes()).collect::<String>()
        );
        assert_eq!(
            decode_query(&q, "SAMLRequest").unwrap_err(),
            RedirectError::DeflateBomb("SAMLRequest")
        );
    }
}
