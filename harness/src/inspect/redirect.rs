//! Decoding the SAML HTTP-Redirect binding from the URL an SP redirected the browser to.
//!
//! The inspection keeps every parameter twice: the raw text exactly as it appeared in the query
//! (the redirect signature covers those octets, so re-encoding would verify something the SP
//! never signed) and the percent-decoded value. Decoding is bounded at every step because the
//! SP under test is untrusted: the encoded SAMLRequest is length-capped, the DEFLATE stream is
//! inflated through a hard cap (a few hundred bytes can inflate to gigabytes), and the XML parser
//! refuses DTDs.
//!
//! Base64 and DEFLATE go through the broker's Redirect-binding codec
//! ([`mitid_mock_broker::saml::redirect::codec`]) with its limits, so the inspection refuses
//! exactly the messages the broker refuses. Only the reading of the base64 differs: it is
//! tolerant here, because the inspection reports encoding slips as findings of their own.

use mitid_mock_broker::saml::redirect::codec::{self, Base64Reading, CodecError};

/// Longest SAMLRequest parameter accepted, in characters of its raw (encoded) form: the codec's
/// [`codec::MAX_ENCODED_LEN`] (48 KiB; it was 64 KiB here before the harness and the broker
/// shared one codec, and the broker never accepted more than 48 KiB). Browsers and servers cap
/// URLs around 8-64 KiB; a real AuthnRequest is well under 2 KiB encoded.
pub const MAX_SAML_REQUEST_CHARS: usize = codec::MAX_ENCODED_LEN;

/// Largest inflated AuthnRequest accepted: the codec's [`codec::MAX_INFLATED_LEN`]. A real one
/// is 1-3 KiB; anything that inflates past this is treated as a deflate bomb.
pub const MAX_INFLATED_BYTES: usize = codec::MAX_INFLATED_LEN;

/// The `SAMLEncoding` value for DEFLATE, the only encoding the binding defines.
pub(crate) const DEFLATE_ENCODING: &str =
    "urn:oasis:names:tc:SAML:2.0:bindings:URL-Encoding:DEFLATE";

/// Why the redirect's SAMLRequest could not be turned into XML.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// No `SAMLRequest` query parameter.
    #[error(
        "the URL has no SAMLRequest query parameter, so it is not an HTTP-Redirect binding AuthnRequest (an HTML form would be the POST binding, which NemLog-in does not offer)"
    )]
    MissingSamlRequest,
    /// A parameter appears more than once.
    #[error(
        "query parameter {0} appears more than once; a receiver cannot know which one was signed"
    )]
    Duplicate(String),
    /// A `%` escape is malformed or decodes to invalid UTF-8.
    #[error("query parameter {name} is not correctly percent-encoded: {reason}")]
    Percent {
        /// The parameter.
        name: String,
        /// What was wrong.
        reason: String,
    },
    /// The encoded SAMLRequest exceeds [`MAX_SAML_REQUEST_CHARS`].
    #[error("SAMLRequest is {len} characters long, over the {limit}-character limit")]
    TooLong {
        /// Its length.
        len: usize,
        /// The limit.
        limit: usize,
    },
    /// SAMLRequest is not base64.
    #[error("SAMLRequest is not valid base64: {0}")]
    Base64(String),
    /// The base64 payload is not a raw DEFLATE stream.
    #[error("SAMLRequest does not inflate as raw DEFLATE (RFC 1951): {reason}{hint}")]
    Inflate {
        /// The decompressor's complaint.
        reason: String,
        /// A likely cause, if one is recognisable.
        hint: &'static str,
    },
    /// The inflated message is larger than [`MAX_INFLATED_BYTES`].
    #[error(
        "SAMLRequest inflates to more than {limit} bytes (a real AuthnRequest is a few KiB); refused as a deflate bomb"
    )]
    TooLarge {
        /// The cap.
        limit: usize,
    },
    /// The inflated message is not UTF-8.
    #[error("the inflated SAMLRequest is not UTF-8 text")]
    NotUtf8,
    /// The inflated message has a DOCTYPE.
    #[error(
        "the AuthnRequest XML contains a DOCTYPE/DTD, which SAML messages must not have (refused: XXE / entity expansion)"
    )]
    Dtd,
    /// The inflated message is not well-formed XML.
    #[error("the AuthnRequest is not well-formed XML: {0}")]
    Xml(String),
    /// The root element is not `samlp:AuthnRequest`.
    #[error(
        "the SAMLRequest root element is {0}, expected AuthnRequest in namespace urn:oasis:names:tc:SAML:2.0:protocol"
    )]
    NotAuthnRequest(String),
}

/// One query parameter: as it appeared, and decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawParam {
    /// The value exactly as it appeared in the query (still percent-encoded).
    pub raw: String,
    /// The value after percent-decoding (`+` kept as `+`; see [`RawParam::form_decoded`]).
    pub decoded: String,
}

impl RawParam {
    /// The value decoded with form rules (`+` means space), as RelayState consumers read it.
    pub fn form_decoded(&self) -> String {
        percent_decode(&self.raw.replace('+', "%20")).unwrap_or_else(|_| self.decoded.clone())
    }
}

/// The Redirect-binding parameters of a query string.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RedirectParams {
    /// `SAMLRequest`.
    pub saml_request: Option<RawParam>,
    /// `RelayState`.
    pub relay_state: Option<RawParam>,
    /// `SigAlg`.
    pub sig_alg: Option<RawParam>,
    /// `Signature`.
    pub signature: Option<RawParam>,
    /// `SAMLEncoding`.
    pub saml_encoding: Option<RawParam>,
    /// Names of the binding's parameters in the order they appeared (for diagnostics).
    pub order: Vec<String>,
}

impl RedirectParams {
    /// Split a raw query string (without `?`). Unknown parameters are ignored (SPs add their
    /// own); a repeated binding parameter or a bad `%` escape is an error.
    pub fn parse(query: &str) -> Result<RedirectParams, DecodeError> {
        let mut p = RedirectParams::default();
        for piece in query.split('&').filter(|s| !s.is_empty()) {
            let (raw_name, raw_value) = piece.split_once('=').unwrap_or((piece, ""));
            let name = percent_decode(raw_name).unwrap_or_else(|_| raw_name.to_string());
            let slot = match name.as_str() {
                "SAMLRequest" => &mut p.saml_request,
                "RelayState" => &mut p.relay_state,
                "SigAlg" => &mut p.sig_alg,
                "Signature" => &mut p.signature,
                "SAMLEncoding" => &mut p.saml_encoding,
                _ => continue,
            };
            if slot.is_some() {
                return Err(DecodeError::Duplicate(name));
            }
            let decoded = percent_decode(raw_value).map_err(|reason| DecodeError::Percent {
                name: name.clone(),
                reason,
            })?;
            *slot = Some(RawParam {
                raw: raw_value.to_string(),
                decoded,
            });
            p.order.push(name);
        }
        Ok(p)
    }

    /// The octets the redirect signature covers: `SAMLRequest=…&RelayState=…&SigAlg=…` with the
    /// values exactly as they appeared (RelayState only if present), per Bindings §3.4.4.1.
    pub fn signed_octets(&self) -> Option<String> {
        let req = self.saml_request.as_ref()?;
        let alg = self.sig_alg.as_ref()?;
        let mut s = format!("SAMLRequest={}", req.raw);
        if let Some(rs) = &self.relay_state {
            s.push_str("&RelayState=");
            s.push_str(&rs.raw);
        }
        s.push_str("&SigAlg=");
        s.push_str(&alg.raw);
        Some(s)
    }

    /// Base64 → raw DEFLATE → UTF-8 XML text, each step capped. Tolerates line breaks and a
    /// `+` that arrived as a space (the encoding check reports those separately), so one
    /// encoding slip does not hide every other finding.
    pub fn inflate_saml_request(&self) -> Result<String, DecodeError> {
        let req = self
            .saml_request
            .as_ref()
            .ok_or(DecodeError::MissingSamlRequest)?;
        if req.raw.len() > MAX_SAML_REQUEST_CHARS {
            return Err(DecodeError::TooLong {
                len: req.raw.len(),
                limit: MAX_SAML_REQUEST_CHARS,
            });
        }
        codec::decode(&req.decoded, Base64Reading::Tolerant).map_err(DecodeError::from)
    }
}

impl From<CodecError> for DecodeError {
    fn from(e: CodecError) -> Self {
        match e {
            // The raw parameter is checked first and is never shorter than its decoded value,
            // so this is unreachable from `inflate_saml_request`; mapped exactly all the same.
            CodecError::TooLong { len } => DecodeError::TooLong {
                len,
                limit: MAX_SAML_REQUEST_CHARS,
            },
            CodecError::Base64(why) => DecodeError::Base64(why),
            CodecError::Inflate { reason, hint } => DecodeError::Inflate {
                reason,
                hint: hint.map(codec::InflateHint::advice).unwrap_or(""),
            },
            CodecError::DeflateBomb => DecodeError::TooLarge {
                limit: MAX_INFLATED_BYTES,
            },
            CodecError::NotUtf8 => DecodeError::NotUtf8,
        }
    }
}

/// Decodes base64 the inspection's tolerant way (CR/LF ignored, spaces read as `+`).
pub(crate) fn decode_base64_lenient(s: &str) -> Result<Vec<u8>, String> {
    codec::decode_base64(s, Base64Reading::Tolerant).map_err(|e| match e {
        CodecError::Base64(why) => why,
        other => other.to_string(),
    })
}

/// Strict percent-decoding: every `%` must be followed by two hex digits, and the result must
/// be UTF-8. `+` is left alone.
pub(crate) fn percent_decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| format!("bad escape at offset {i}"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "decodes to invalid UTF-8".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use std::io::Write;

    fn deflate(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn percent_decoding_is_strict() {
        assert_eq!(percent_decode("a%2Bb+c").unwrap(), "a+b+c");
        assert!(percent_decode("%zz").is_err());
        assert!(percent_decode("%4").is_err());
        assert!(percent_decode("%ff").is_err());
    }

    #[test]
    fn signed_octets_use_raw_values_in_binding_order() {
        let p =
            RedirectParams::parse("SigAlg=x%3Ay&foo=1&SAMLRequest=a%2Bb&RelayState=r%20s").unwrap();
        assert_eq!(
            p.signed_octets().unwrap(),
            "SAMLRequest=a%2Bb&RelayState=r%20s&SigAlg=x%3Ay"
        );
        assert_eq!(p.order, ["SigAlg", "SAMLRequest", "RelayState"]);
    }

    #[test]
    fn duplicates_are_refused() {
        assert_eq!(
            RedirectParams::parse("SAMLRequest=a&SAMLRequest=b"),
            Err(DecodeError::Duplicate("SAMLRequest".into()))
        );
    }

    /// The query for a SAMLRequest carrying `compressed` (already deflated or not).
    fn query_for(compressed: &[u8]) -> RedirectParams {
        let b64 = base64::engine::general_purpose::STANDARD.encode(compressed);
        let raw: String = url::form_urlencoded::byte_serialize(b64.as_bytes()).collect();
        RedirectParams::parse(&format!("SAMLRequest={raw}")).unwrap()
    }

    #[test]
    fn deflate_bomb_is_capped() {
        let bomb = deflate(&vec![b'a'; 16 * 1024 * 1024]);
        assert!(bomb.len() < 20 * 1024);
        assert_eq!(
            query_for(&bomb).inflate_saml_request(),
            Err(DecodeError::TooLarge {
                limit: MAX_INFLATED_BYTES
            })
        );
    }

    #[test]
    fn the_limits_are_the_brokers() {
        // One codec, one set of limits: what the inspection passes, the broker can read.
        assert_eq!(
            MAX_SAML_REQUEST_CHARS,
            mitid_mock_broker::saml::redirect::MAX_QUERY
        );
        assert_eq!(
            MAX_INFLATED_BYTES,
            mitid_mock_broker::saml::redirect::MAX_INFLATED
        );
        let p = RedirectParams::parse(&format!(
            "SAMLRequest={}",
            "A".repeat(MAX_SAML_REQUEST_CHARS + 1)
        ))
        .unwrap();
        let err = p.inflate_saml_request().unwrap_err();
        assert_eq!(
            err,
            DecodeError::TooLong {
                len: MAX_SAML_REQUEST_CHARS + 1,
                limit: MAX_SAML_REQUEST_CHARS
            }
        );
        assert_eq!(
            err.to_string(),
            "SAMLRequest is 49153 characters long, over the 49152-character limit"
        );
    }

    #[test]
    fn base64_slips_are_tolerated() {
        let b64 = base64::engine::general_purpose::STANDARD.encode(deflate(b"<x/>"));
        let wrapped = format!("{}%0D%0A{}", &b64[..4], &b64[4..]).replace('+', "%20");
        let p = RedirectParams::parse(&format!("SAMLRequest={wrapped}")).unwrap();
        assert_eq!(p.inflate_saml_request().unwrap(), "<x/>");
        assert_eq!(decode_base64_lenient("++ +").unwrap(), [0xfb, 0xef, 0xbe]);
    }

    #[test]
    fn zlib_and_plain_xml_get_hints() {
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(b"<x/>").unwrap();
        let zlib = z.finish().unwrap();
        let err = query_for(&zlib)
            .inflate_saml_request()
            .unwrap_err()
            .to_string();
        assert!(err.contains("zlib"), "{err}");
        let err = query_for(b"<samlp:AuthnRequest/>")
            .inflate_saml_request()
            .unwrap_err()
            .to_string();
        assert!(err.contains("uncompressed"), "{err}");
    }
}
