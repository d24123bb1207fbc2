//! Writes the [`ResponseModel`] as XML, exactly as modelled.
//!
//! The Assertion is written as a standalone element carrying every namespace it uses, so it can
//! be signed, encrypted, and later decrypted into any context. Element order follows the SAML
//! schema (Issuer, Signature, Subject, Conditions, AuthnStatement, AttributeStatement), and the
//! enveloped signature template is placed right after the Issuer, where SAML requires it.

use super::assertion::{AssertionModel, IssuerModel, ResponseModel};
use super::ns;
use super::xml::{escape_attr as ea, escape_text as et};
use std::fmt::Write;
use time::OffsetDateTime;

/// Format an instant as `2026-01-01T12:00:00Z`, or with milliseconds when it has any.
pub fn fmt_instant(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    let ms = t.millisecond();
    if ms == 0 {
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        )
    } else {
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            ms
        )
    }
}

fn opt_attr(out: &mut String, name: &str, v: &Option<String>) {
    if let Some(v) = v {
        let _ = write!(out, r#" {name}="{}""#, ea(v));
    }
}

fn issuer(out: &mut String, i: &IssuerModel) {
    out.push_str("<saml:Issuer");
    opt_attr(out, "Format", &i.format);
    let _ = write!(out, ">{}</saml:Issuer>", et(&i.value));
}

/// The Signature template (empty DigestValue/SignatureValue) that the signer fills in.
/// `cert_b64` goes into KeyInfo/X509Data, as NemLog-in includes its certificate.
pub fn signature_template(reference_id: &str, cert_b64: Option<&str>, sha1: bool) -> String {
    let (sig_alg, dig_alg) = if sha1 {
        (ns::ALG_RSA_SHA1, ns::ALG_SHA1)
    } else {
        (ns::ALG_RSA_SHA256, ns::ALG_SHA256)
    };
    let mut s = format!(
        concat!(
            r#"<ds:Signature xmlns:ds="{ds}"><ds:SignedInfo>"#,
            r#"<ds:CanonicalizationMethod Algorithm="{c14n}"/>"#,
            r#"<ds:SignatureMethod Algorithm="{sig}"/>"#,
            r##"<ds:Reference URI="#{id}"><ds:Transforms>"##,
            r#"<ds:Transform Algorithm="{env}"/>"#,
            r#"<ds:Transform Algorithm="{c14n}"><ec:InclusiveNamespaces xmlns:ec="{c14n}" PrefixList="xs"/></ds:Transform>"#,
            r#"</ds:Transforms><ds:DigestMethod Algorithm="{dig}"/><ds:DigestValue></ds:DigestValue></ds:Reference>"#,
            r#"</ds:SignedInfo><ds:SignatureValue></ds:SignatureValue>"#
        ),
        ds = ns::DS,
        c14n = ns::ALG_EXC_C14N,
        sig = sig_alg,
        env = ns::ALG_ENVELOPED,
        id = ea(reference_id),
        dig = dig_alg,
    );
    if let Some(c) = cert_b64 {
        let _ = write!(
            s,
            "<ds:KeyInfo><ds:X509Data><ds:X509Certificate>{c}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>"
        );
    }
    s.push_str("</ds:Signature>");
    s
}

/// Write one Assertion. `signature` (a template or anything else) is inserted after the Issuer.
pub fn write_assertion(a: &AssertionModel, signature: Option<&str>) -> String {
    let mut o = String::with_capacity(4096);
    let _ = write!(
        o,
        r#"<saml:Assertion xmlns:saml="{}" xmlns:xs="{}" xmlns:xsi="{}""#,
        ns::SAML,
        ns::XS,
        ns::XSI
    );
    opt_attr(&mut o, "ID", &a.id);
    opt_attr(&mut o, "Version", &a.version);
    opt_attr(&mut o, "IssueInstant", &a.issue_instant);
    o.push('>');
    if let Some(i) = &a.issuer {
        issuer(&mut o, i);
    }
    if let Some(sig) = signature {
        o.push_str(sig);
    }
    if let Some(s) = &a.subject {
        o.push_str("<saml:Subject>");
        if let Some(n) = &s.name_id {
            o.push_str("<saml:NameID");
            opt_attr(&mut o, "Format", &n.format);
            opt_attr(&mut o, "NameQualifier", &n.name_qualifier);
            opt_attr(&mut o, "SPNameQualifier", &n.sp_name_qualifier);
            let _ = write!(o, ">{}</saml:NameID>", et(&n.value));
        }
        for c in &s.confirmations {
            o.push_str("<saml:SubjectConfirmation");
            opt_attr(&mut o, "Method", &c.method);
            o.push('>');
            if let Some(d) = &c.data {
                o.push_str("<saml:SubjectConfirmationData");
                opt_attr(&mut o, "NotBefore", &d.not_before);
                opt_attr(&mut o, "NotOnOrAfter", &d.not_on_or_after);
                opt_attr(&mut o, "Recipient", &d.recipient);
                opt_attr(&mut o, "InResponseTo", &d.in_response_to);
                o.push_str("/>");
            }
            o.push_str("</saml:SubjectConfirmation>");
        }
        o.push_str("</saml:Subject>");
    }
    if let Some(c) = &a.conditions {
        o.push_str("<saml:Conditions");
        opt_attr(&mut o, "NotBefore", &c.not_before);
        opt_attr(&mut o, "NotOnOrAfter", &c.not_on_or_after);
        o.push('>');
        for ar in &c.audience_restrictions {
            o.push_str("<saml:AudienceRestriction>");
            for aud in ar {
                let _ = write!(o, "<saml:Audience>{}</saml:Audience>", et(aud));
            }
            o.push_str("</saml:AudienceRestriction>");
        }
        o.push_str("</saml:Conditions>");
    }
    for st in &a.authn_statements {
        o.push_str("<saml:AuthnStatement");
        opt_attr(&mut o, "AuthnInstant", &st.authn_instant);
        opt_attr(&mut o, "SessionIndex", &st.session_index);
        opt_attr(&mut o, "SessionNotOnOrAfter", &st.session_not_on_or_after);
        o.push_str("><saml:AuthnContext>");
        if let Some(cr) = &st.class_ref {
            let _ = write!(
                o,
                "<saml:AuthnContextClassRef>{}</saml:AuthnContextClassRef>",
                et(cr)
            );
        }
        o.push_str("</saml:AuthnContext></saml:AuthnStatement>");
    }
    for st in &a.attribute_statements {
        o.push_str("<saml:AttributeStatement>");
        for at in st {
            let _ = write!(o, r#"<saml:Attribute Name="{}""#, ea(&at.name));
            opt_attr(&mut o, "NameFormat", &at.name_format);
            opt_attr(&mut o, "FriendlyName", &at.friendly_name);
            o.push('>');
            for v in &at.values {
                let _ = write!(
                    o,
                    r#"<saml:AttributeValue xsi:type="xs:string">{}</saml:AttributeValue>"#,
                    et(v)
                );
            }
            o.push_str("</saml:Attribute>");
        }
        o.push_str("</saml:AttributeStatement>");
    }
    o.push_str("</saml:Assertion>");
    o
}

/// Write the Response around already-final assertion XML fragments (signed, encrypted, or
/// deliberately not), in the given order.
pub fn write_response(r: &ResponseModel, assertion_fragments: &[String]) -> String {
    let mut o = String::with_capacity(8192);
    let _ = write!(
        o,
        r#"<samlp:Response xmlns:samlp="{}" xmlns:saml="{}""#,
        ns::SAMLP,
        ns::SAML
    );
    opt_attr(&mut o, "ID", &r.id);
    opt_attr(&mut o, "Version", &r.version);
    opt_attr(&mut o, "IssueInstant", &r.issue_instant);
    opt_attr(&mut o, "Destination", &r.destination);
    opt_attr(&mut o, "InResponseTo", &r.in_response_to);
    o.push('>');
    if let Some(i) = &r.issuer {
        issuer(&mut o, i);
    }
    if let Some(s) = &r.status {
        o.push_str("<samlp:Status><samlp:StatusCode");
        opt_attr(&mut o, "Value", &s.code);
        if let Some(sub) = &s.sub_code {
            let _ = write!(
                o,
                r#"><samlp:StatusCode Value="{}"/></samlp:StatusCode>"#,
                ea(sub)
            );
        } else {
            o.push_str("/>");
        }
        if let Some(m) = &s.message {
            let _ = write!(o, "<samlp:StatusMessage>{}</samlp:StatusMessage>", et(m));
        }
        o.push_str("</samlp:Status>");
    }
    for f in assertion_fragments {
        o.push_str(f);
    }
    o.push_str("</samlp:Response>");
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants() {
        assert_eq!(
            fmt_instant(time::macros::datetime!(2026-01-02 03:04:05 UTC)),
            "2026-01-02T03:04:05Z"
        );
        assert_eq!(
            fmt_instant(time::macros::datetime!(2026-01-02 03:04:05.123 UTC)),
            "2026-01-02T03:04:05.123Z"
        );
        assert_eq!(
            fmt_instant(time::macros::datetime!(2026-01-02 05:04:05 +02:00)),
            "2026-01-02T03:04:05Z"
        );
    }
}
