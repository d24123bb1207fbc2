//! Distinguished names: writing them in the exact OCES layouts, and printing them as RFC 4514
//! strings.
//!
//! OCES layouts matter to relying parties: NemLog-in SPs and NSP's Seal classify certificates by
//! issuer name and subject `serialNumber`, and FOCES/VOCES subjects put CN and serialNumber in
//! ONE multi-valued RDN. The string form is RFC 4514 (last RDN first), the form
//! `ds:X509IssuerName` and `openssl x509 -nameopt RFC2253` use, so
//! `C=DK,organizationIdentifier=NTRDK-…,O=…,serialNumber=UI:DK-O:G:…,CN=…` reads as in
//! nemlogin-protocol.md §5.2.

use super::der::{self, tag};
use x509_parser::x509::X509Name;

/// commonName.
pub(crate) const CN: &[u64] = &[2, 5, 4, 3];
/// serialNumber (X.520: PrintableString).
pub(crate) const SERIAL_NUMBER: &[u64] = &[2, 5, 4, 5];
/// countryName (PrintableString per RFC 5280).
pub(crate) const C: &[u64] = &[2, 5, 4, 6];
/// organizationName.
pub(crate) const O: &[u64] = &[2, 5, 4, 10];
/// organizationalUnitName.
pub(crate) const OU: &[u64] = &[2, 5, 4, 11];
/// organizationIdentifier (ETSI EN 319 412-1), `NTRDK-<CVR>` in OCES3.
pub(crate) const ORGANIZATION_IDENTIFIER: &[u64] = &[2, 5, 4, 97];

/// How an attribute value is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StrKind {
    Utf8,
    Printable,
}

/// One attribute type and value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Atv {
    pub oid: &'static [u64],
    pub kind: StrKind,
    pub value: String,
}

impl Atv {
    fn encode(&self) -> Vec<u8> {
        let t = match self.kind {
            StrKind::Utf8 => tag::UTF8_STRING,
            StrKind::Printable => tag::PRINTABLE_STRING,
        };
        der::seq(&[&der::oid(self.oid), &der::tlv(t, self.value.as_bytes())])
    }
}

/// A name as a list of RDNs in ASN.1 order (first RDN = most significant in X.500 terms,
/// printed LAST in RFC 4514). Each RDN holds one or more attributes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Name(pub Vec<Vec<Atv>>);

impl Name {
    /// Appends a single-valued RDN with a UTF8String value.
    pub(crate) fn utf8(mut self, oid: &'static [u64], value: &str) -> Self {
        self.0.push(vec![Atv {
            oid,
            kind: StrKind::Utf8,
            value: value.into(),
        }]);
        self
    }

    /// Appends a single-valued RDN with a PrintableString value (countryName, serialNumber).
    pub(crate) fn printable(mut self, oid: &'static [u64], value: &str) -> Self {
        self.0.push(vec![Atv {
            oid,
            kind: StrKind::Printable,
            value: value.into(),
        }]);
        self
    }

    /// Appends a multi-valued RDN (OCES2 `CN=…+serialNumber=…`).
    pub(crate) fn multi(mut self, atvs: Vec<Atv>) -> Self {
        self.0.push(atvs);
        self
    }

    /// DER encoding: SEQUENCE OF SET OF AttributeTypeAndValue.
    pub(crate) fn encode(&self) -> Vec<u8> {
        let rdns: Vec<Vec<u8>> = self
            .0
            .iter()
            .map(|rdn| {
                let atvs: Vec<Vec<u8>> = rdn.iter().map(Atv::encode).collect();
                let refs: Vec<&[u8]> = atvs.iter().map(Vec::as_slice).collect();
                der::set_of(&refs)
            })
            .collect();
        let refs: Vec<&[u8]> = rdns.iter().map(Vec::as_slice).collect();
        der::seq(&refs)
    }
}

/// The short name RFC 4514 / OpenSSL print for an attribute type, if any.
fn short_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "2.5.4.3" => "CN",
        "2.5.4.4" => "SN",
        "2.5.4.5" => "serialNumber",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "2.5.4.42" => "GN",
        "2.5.4.97" => "organizationIdentifier",
        "0.9.2342.19200300.100.1.1" => "UID",
        "0.9.2342.19200300.100.1.25" => "DC",
        "1.2.840.113549.1.9.1" => "emailAddress",
        _ => return None,
    })
}

/// RFC 4514 escaping of an attribute value.
fn escape(value: &str, out: &mut String) {
    let last = value.chars().count().saturating_sub(1);
    for (i, ch) in value.chars().enumerate() {
        let special = matches!(ch, ',' | '+' | '"' | '\\' | '<' | '>' | ';')
            || (i == 0 && (ch == '#' || ch == ' '))
            || (i == last && ch == ' ');
        if special {
            out.push('\\');
        }
        out.push(ch);
    }
}

/// Formats a parsed name as an RFC 4514 string (last RDN first, `+` inside multi-valued RDNs).
pub(crate) fn to_rfc4514(name: &X509Name<'_>) -> String {
    let mut rdns: Vec<String> = Vec::new();
    for rdn in name.iter() {
        let mut parts: Vec<String> = Vec::new();
        for atv in rdn.iter() {
            let oid = atv.attr_type().to_id_string();
            let mut s = String::new();
            match short_name(&oid) {
                Some(n) => s.push_str(n),
                None => s.push_str(&oid),
            }
            s.push('=');
            match atv.as_str() {
                Ok(v) => escape(v, &mut s),
                Err(_) => {
                    // Non-string value: RFC 4514 hex form of the raw content.
                    s.push('#');
                    for b in atv.as_slice() {
                        s.push_str(&format!("{b:02x}"));
                    }
                }
            }
            parts.push(s);
        }
        rdns.push(parts.join("+"));
    }
    rdns.reverse();
    rdns.join(",")
}

/// All string values of one attribute type in a parsed name, in encoding order.
pub(crate) fn values_of(name: &X509Name<'_>, oid_dotted: &str) -> Vec<String> {
    name.iter_attributes()
        .filter(|a| a.attr_type().to_id_string() == oid_dotted)
        .filter_map(|a| a.as_str().ok().map(str::to_owned))
        .collect()
}
