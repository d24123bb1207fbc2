//! A deliberately tiny DER reader and writer.
//!
//! The mock PKI needs exactly three things from ASN.1: unwrap/wrap PKCS#8 and PKCS#1 key
//! containers, pull the modulus out of an RSA key, and write certificates whose layout we control
//! to the last byte (multi-valued RDNs, PrintableString `C=DK`, RSASSA-PSS parameters, exact RDN
//! order). rcgen cannot do the last part, and a general ASN.1 crate would be more surface than the
//! handful of universal types used here. Reading is strict and bounds-checked: malformed input is
//! an error, never a panic.

use std::fmt;

/// Universal tags used by the mock PKI.
pub(crate) mod tag {
    pub(crate) const BOOLEAN: u8 = 0x01;
    pub(crate) const INTEGER: u8 = 0x02;
    pub(crate) const BIT_STRING: u8 = 0x03;
    pub(crate) const OCTET_STRING: u8 = 0x04;
    pub(crate) const NULL: u8 = 0x05;
    pub(crate) const OID: u8 = 0x06;
    pub(crate) const UTF8_STRING: u8 = 0x0c;
    pub(crate) const PRINTABLE_STRING: u8 = 0x13;
    pub(crate) const UTC_TIME: u8 = 0x17;
    pub(crate) const GENERALIZED_TIME: u8 = 0x18;
    pub(crate) const SEQUENCE: u8 = 0x30;
    pub(crate) const SET: u8 = 0x31;
}

/// What went wrong while reading DER. Kept short: callers wrap it with the file it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DerError(pub &'static str);

impl fmt::Display for DerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "malformed DER: {}", self.0)
    }
}

/// One decoded element: its tag byte, its content and the full encoding (tag + length + content).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tlv<'a> {
    pub tag: u8,
    pub content: &'a [u8],
    pub raw: &'a [u8],
}

/// Reads one element from the front of `input`; returns it and the rest.
///
/// Only low tag numbers (single tag byte) and definite lengths of up to four bytes are accepted,
/// which covers every key and certificate this crate handles.
pub(crate) fn read(input: &[u8]) -> Result<(Tlv<'_>, &[u8]), DerError> {
    let (&tag, rest) = input
        .split_first()
        .ok_or(DerError("unexpected end of input"))?;
    if tag & 0x1f == 0x1f {
        return Err(DerError("high tag numbers are not supported"));
    }
    let (&first, mut rest) = rest.split_first().ok_or(DerError("missing length"))?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return Err(DerError("unsupported length encoding"));
        }
        if rest.len() < n {
            return Err(DerError("truncated length"));
        }
        let mut len = 0usize;
        for &b in &rest[..n] {
            len = (len << 8) | usize::from(b);
        }
        rest = &rest[n..];
        len
    };
    if rest.len() < len {
        return Err(DerError("element longer than its input"));
    }
    let header = input.len() - rest.len();
    let (content, after) = rest.split_at(len);
    Ok((
        Tlv {
            tag,
            content,
            raw: &input[..header + len],
        },
        after,
    ))
}

/// Reads one element and insists it has the given tag.
pub(crate) fn expect(input: &[u8], want: u8) -> Result<(Tlv<'_>, &[u8]), DerError> {
    let (tlv, rest) = read(input)?;
    if tlv.tag != want {
        return Err(DerError("unexpected tag"));
    }
    Ok((tlv, rest))
}

/// Strips the sign-padding zero bytes of a DER INTEGER, giving its magnitude.
pub(crate) fn unsigned(int_content: &[u8]) -> &[u8] {
    let mut s = int_content;
    while s.len() > 1 && s[0] == 0 {
        s = &s[1..];
    }
    s
}

/// Encodes one element: tag, definite length, content.
pub(crate) fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    out.push(tag);
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

/// A SEQUENCE of already-encoded elements.
pub(crate) fn seq(parts: &[&[u8]]) -> Vec<u8> {
    tlv(tag::SEQUENCE, &parts.concat())
}

/// A SET OF already-encoded elements, sorted by encoding as DER requires.
pub(crate) fn set_of(parts: &[&[u8]]) -> Vec<u8> {
    let mut sorted: Vec<&[u8]> = parts.to_vec();
    sorted.sort();
    tlv(tag::SET, &sorted.concat())
}

/// An OBJECT IDENTIFIER from its dotted arcs.
pub(crate) fn oid(arcs: &[u64]) -> Vec<u8> {
    let mut body = Vec::new();
    let (first, second) = (
        arcs.first().copied().unwrap_or(0),
        arcs.get(1).copied().unwrap_or(0),
    );
    base128(first * 40 + second, &mut body);
    for &arc in arcs.iter().skip(2) {
        base128(arc, &mut body);
    }
    tlv(tag::OID, &body)
}

fn base128(mut v: u64, out: &mut Vec<u8>) {
    let mut tmp = [0u8; 10];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            break;
        }
    }
    let last = tmp.len() - 1;
    for (j, b) in tmp.iter().enumerate().skip(i) {
        out.push(if j == last { *b } else { b | 0x80 });
    }
}

/// Parses a dotted OID string ("1.2.840.113549.1.1.1") into arcs.
pub(crate) fn parse_dotted(s: &str) -> Option<Vec<u64>> {
    let arcs: Option<Vec<u64>> = s.split('.').map(|p| p.parse().ok()).collect();
    arcs.filter(|a| a.len() >= 2)
}

/// A non-negative INTEGER from big-endian magnitude bytes.
pub(crate) fn uint(magnitude: &[u8]) -> Vec<u8> {
    let m = unsigned(magnitude);
    if m.first().is_some_and(|b| b & 0x80 != 0) {
        let mut c = Vec::with_capacity(m.len() + 1);
        c.push(0);
        c.extend_from_slice(m);
        tlv(tag::INTEGER, &c)
    } else {
        tlv(tag::INTEGER, m)
    }
}

/// A small non-negative INTEGER.
pub(crate) fn small_uint(v: u64) -> Vec<u8> {
    uint(&v.to_be_bytes())
}

/// A BIT STRING with no unused bits.
pub(crate) fn bit_string(bytes: &[u8]) -> Vec<u8> {
    let mut c = Vec::with_capacity(bytes.len() + 1);
    c.push(0);
    c.extend_from_slice(bytes);
    tlv(tag::BIT_STRING, &c)
}

/// A context-specific constructed (EXPLICIT) tag around an encoded element.
pub(crate) fn explicit(n: u8, inner: &[u8]) -> Vec<u8> {
    tlv(0xa0 | n, inner)
}

/// A context-specific primitive (IMPLICIT) tag with raw content.
pub(crate) fn implicit(n: u8, content: &[u8]) -> Vec<u8> {
    tlv(0x80 | n, content)
}

/// The NULL value.
pub(crate) fn null() -> Vec<u8> {
    vec![tag::NULL, 0]
}
