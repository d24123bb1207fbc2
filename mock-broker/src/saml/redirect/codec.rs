//! The message encoding of the HTTP-Redirect binding (SAML Bindings §3.4.4.1): raw DEFLATE
//! (RFC 1951), then base64. URL encoding and the detached signature are the binding's business
//! ([`super::decode_query`], [`super::encode_query`]); this module only turns XML into the
//! parameter value and back.
//!
//! It is the one place that inflates Redirect-binding messages: the broker's SSO/SLO endpoint
//! and the harness's AuthnRequest inspection both decode through [`decode`], so both refuse the
//! same messages for the same reasons. The input is hostile (an SP under test, or anyone who
//! can reach the broker), so every step is bounded:
//!
//! - the base64 text is at most [`MAX_ENCODED_LEN`] bytes, and
//! - inflation reads at most [`MAX_INFLATED_LEN`] + 1 bytes of output, so a deflate bomb (a few
//!   KiB that inflate to gigabytes) costs a fixed amount of memory and time and gets a
//!   [`CodecError::DeflateBomb`] naming the cause.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use std::io::Read;

/// Longest base64 text accepted for one message.
///
/// 48 KiB, well under the 65,534-byte URI limit of the `http` crate: above that, hyper answers a
/// bare `414` before the broker sees the request, and the SP developer would get no page
/// explaining what was wrong. The harness's inspection once allowed 64 KiB; it now uses this
/// limit too, so the inspection never passes a request the broker would refuse. A real
/// AuthnRequest is under 2 KiB encoded.
pub const MAX_ENCODED_LEN: usize = 48 * 1024;

/// Largest inflated message accepted. A real AuthnRequest or LogoutRequest is 1-3 KiB; anything
/// that inflates past this is treated as a deflate bomb.
pub const MAX_INFLATED_LEN: usize = 256 * 1024;

/// How strictly the base64 text is read.
///
/// The broker reads like NemLog-in (strict: a `+` that arrived as a space is an error); the
/// harness's inspection tolerates the common slips so that one encoding mistake, which it
/// reports on its own, does not hide every other finding about the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Base64Reading {
    /// Standard base64 with padding; only leading and trailing whitespace is ignored.
    Strict,
    /// CR and LF anywhere are dropped (line-wrapped base64) and every space is read as `+` (a
    /// `+` that was not URL-encoded and arrived as a space); nothing is trimmed.
    Tolerant,
}

/// A deflate stream that is not raw DEFLATE, but recognisably something else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InflateHint {
    /// Starts with a zlib header (`0x78`): zlib-wrapped instead of raw DEFLATE.
    Zlib,
    /// Starts with `<`: uncompressed XML.
    Uncompressed,
}

impl InflateHint {
    /// The advice to give, as a parenthesised remark to append to an error message.
    pub fn advice(self) -> &'static str {
        match self {
            InflateHint::Zlib => {
                " (it starts like a zlib stream: use raw DEFLATE without the zlib header and checksum)"
            }
            InflateHint::Uncompressed => {
                " (it is uncompressed XML: the Redirect binding requires DEFLATE)"
            }
        }
    }

    fn of(compressed: &[u8]) -> Option<InflateHint> {
        match compressed.first() {
            Some(0x78) => Some(InflateHint::Zlib),
            Some(b'<') => Some(InflateHint::Uncompressed),
            _ => None,
        }
    }
}

/// Why a Redirect-binding message value could not be decoded. The messages name no parameter;
/// callers (the broker's [`super::RedirectError`], the harness's inspection) add which one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    /// The base64 text is longer than [`MAX_ENCODED_LEN`].
    #[error("is {len} bytes of base64; the limit is {MAX_ENCODED_LEN}")]
    TooLong {
        /// Its length.
        len: usize,
    },
    /// Not base64.
    #[error("is not valid base64: {0}")]
    Base64(String),
    /// Not a raw DEFLATE stream.
    #[error("is not valid raw DEFLATE data (RFC 1951): {reason}")]
    Inflate {
        /// The decompressor's complaint.
        reason: String,
        /// What it looks like instead, when recognisable.
        hint: Option<InflateHint>,
    },
    /// Inflates past [`MAX_INFLATED_LEN`].
    #[error("inflates to more than {MAX_INFLATED_LEN} bytes (deflate bomb?)")]
    DeflateBomb,
    /// Inflates to bytes that are not UTF-8.
    #[error("does not inflate to UTF-8 text")]
    NotUtf8,
}

/// Decode base64 text read the given way (also used for the binding's `Signature` value).
pub fn decode_base64(text: &str, reading: Base64Reading) -> Result<Vec<u8>, CodecError> {
    let decoded = match reading {
        Base64Reading::Strict => B64.decode(text.trim().as_bytes()),
        Base64Reading::Tolerant => {
            let cleaned: String = text
                .chars()
                .filter(|c| *c != '\r' && *c != '\n')
                .map(|c| if c == ' ' { '+' } else { c })
                .collect();
            B64.decode(cleaned.as_bytes())
        }
    };
    decoded.map_err(|e| CodecError::Base64(e.to_string()))
}

/// Raw-DEFLATE inflate to UTF-8 text, reading at most [`MAX_INFLATED_LEN`] + 1 bytes.
pub fn inflate(compressed: &[u8]) -> Result<String, CodecError> {
    let mut out = Vec::with_capacity(compressed.len().saturating_mul(4).min(MAX_INFLATED_LEN));
    flate2::read::DeflateDecoder::new(compressed)
        .take(MAX_INFLATED_LEN as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| CodecError::Inflate {
            reason: e.to_string(),
            hint: InflateHint::of(compressed),
        })?;
    if out.len() > MAX_INFLATED_LEN {
        return Err(CodecError::DeflateBomb);
    }
    String::from_utf8(out).map_err(|_| CodecError::NotUtf8)
}

/// Raw DEFLATE (RFC 1951) at the fast level: the broker deflates per logout, and size hardly
/// matters for messages of a few KiB.
pub fn deflate(xml: &str) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(xml.as_bytes())
        .expect("writing to a Vec cannot fail");
    enc.finish().expect("writing to a Vec cannot fail")
}

/// Base64 text (not yet URL-encoded) → XML: length cap, base64, bounded inflate, UTF-8.
pub fn decode(text: &str, reading: Base64Reading) -> Result<String, CodecError> {
    if text.len() > MAX_ENCODED_LEN {
        return Err(CodecError::TooLong { len: text.len() });
    }
    inflate(&decode_base64(text, reading)?)
}

/// XML → base64 of its raw DEFLATE (the parameter value before URL encoding).
pub fn encode(xml: &str) -> String {
    B64.encode(deflate(xml))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let xml = "<samlp:AuthnRequest ID=\"_é\"/>";
        assert_eq!(decode(&encode(xml), Base64Reading::Strict).unwrap(), xml);
        assert_eq!(decode(&encode(xml), Base64Reading::Tolerant).unwrap(), xml);
    }

    #[test]
    fn encoded_length_is_capped_before_decoding() {
        let at_limit = "A".repeat(MAX_ENCODED_LEN);
        // At the limit the length is fine and the content is what fails.
        assert!(matches!(
            decode(&at_limit, Base64Reading::Strict),
            Err(CodecError::Inflate { .. })
        ));
        let over = "A".repeat(MAX_ENCODED_LEN + 1);
        assert_eq!(
            decode(&over, Base64Reading::Strict),
            Err(CodecError::TooLong {
                len: MAX_ENCODED_LEN + 1
            })
        );
    }

    #[test]
    fn inflated_size_is_capped_and_the_bomb_is_stopped_early() {
        // Exactly at the cap inflates; one byte more is a bomb.
        let at_cap = "A".repeat(MAX_INFLATED_LEN);
        assert_eq!(inflate(&deflate(&at_cap)).unwrap().len(), MAX_INFLATED_LEN);
        assert_eq!(
            inflate(&deflate(&format!("{at_cap}A"))),
            Err(CodecError::DeflateBomb)
        );
        // 16 MiB in about 22 KiB of base64: under the encoded cap, refused without inflating
        // it all.
        let bomb = B64.encode(deflate_bytes(&vec![b'A'; 16 * 1024 * 1024]));
        assert!(bomb.len() < MAX_ENCODED_LEN, "{}", bomb.len());
        let t = std::time::Instant::now();
        assert_eq!(
            decode(&bomb, Base64Reading::Strict),
            Err(CodecError::DeflateBomb)
        );
        assert!(t.elapsed() < std::time::Duration::from_secs(2));
    }

    #[test]
    fn base64_readings() {
        let text = encode("<x/>");
        let wrapped = format!("{}\r\n{}", &text[..4], &text[4..]);
        assert!(matches!(
            decode(&wrapped, Base64Reading::Strict),
            Err(CodecError::Base64(_))
        ));
        assert_eq!(decode(&wrapped, Base64Reading::Tolerant).unwrap(), "<x/>");
        // A `+` that arrived as a space.
        let plus = B64.encode([0xfb, 0xef, 0xbe]);
        assert_eq!(plus, "++++");
        assert!(decode_base64("++ +", Base64Reading::Strict).is_err());
        assert_eq!(
            decode_base64("++ +", Base64Reading::Tolerant).unwrap(),
            [0xfb, 0xef, 0xbe]
        );
        // Strict reading ignores surrounding whitespace only.
        assert_eq!(
            decode(&format!(" {text}\n"), Base64Reading::Strict).unwrap(),
            "<x/>"
        );
    }

    #[test]
    fn not_deflate_gets_a_hint_when_recognisable() {
        use std::io::Write;
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(b"<x/>").unwrap();
        let zlib = z.finish().unwrap();
        assert!(matches!(
            inflate(&zlib),
            Err(CodecError::Inflate {
                hint: Some(InflateHint::Zlib),
                ..
            })
        ));
        assert!(matches!(
            inflate(b"<samlp:AuthnRequest/>"),
            Err(CodecError::Inflate {
                hint: Some(InflateHint::Uncompressed),
                ..
            })
        ));
        assert!(matches!(
            inflate(b"hello"),
            Err(CodecError::Inflate { hint: None, .. })
        ));
        assert_eq!(
            inflate(&deflate_bytes(&[0xff, 0xfe])),
            Err(CodecError::NotUtf8)
        );
    }

    fn deflate_bytes(data: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        enc.write_all(data).unwrap();
        enc.finish().unwrap()
    }
}
