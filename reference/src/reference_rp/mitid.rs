//! The MitID checks on top of OIDC: is this a MitID (or MitID Erhverv) login at a sufficient
//! NSIS level, and who is it? Facts: `nemlogin-protocol.md` §3.2 (Signaturgruppen) and §3.3
//! (Idura).
//!
//! Signaturgruppen documents that "the client MUST validate that the expected restrictions for
//! amr, idp and identity_type are as expected" and likewise for `loa`; the NemID-era broker sent
//! `idp=nemid`, `nemid.*` identity claims and `nemid.otp`/`nemid.keyfile` amr values, all of
//! which a MitID-only service must refuse — except the MitID-era PID lookup (`nemid.pid`,
//! `nemid.pid_status` under scope `nemid.pid`), which is not a NemID login. Idura marks the
//! scheme in `identityscheme` (`dkmitid` vs `dknemid`) and the login method in
//! `authenticationtype` (`urn:grn:authn:dk:mitid:*` vs `urn:grn:authn:dk:nemid:*`).

use super::Flaws;
use super::flaw::RpFlaw;
use mitid_mock_broker::nsis::Loa;
use serde::Serialize;
use serde_json::{Map, Value};

/// Which broker the RP is built for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BrokerProfile {
    /// Signaturgruppen Broker (formerly Nets eID Broker).
    Signaturgruppen,
    /// Idura Verify (formerly Criipto).
    Idura,
}

/// Prefix of Signaturgruppen's `loa` values (no `/loa/` segment, unlike OIOSAML).
pub const SG_LOA_PREFIX: &str = "https://data.gov.dk/concept/core/nsis/";
/// Prefix of Idura's MitID login methods.
pub const IDURA_MITID_PREFIX: &str = "urn:grn:authn:dk:mitid:";
/// Prefix of Idura's NemID login methods (removed December 2023).
pub const IDURA_NEMID_PREFIX: &str = "urn:grn:authn:dk:nemid:";

/// Who logged in, as the RP records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MitidLogin {
    /// The user key: MitID UUID or professional UUID.
    pub uuid: String,
    /// `person` or `professional`.
    pub kind: &'static str,
    /// The NSIS level reached.
    pub loa: String,
    /// The subject an RP keyed by `sub` stores ([`super::RpUserKey`]); set by the server after
    /// these checks, `None` for an RP keyed by the MitID UUID.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
}

/// Why a login is not an acceptable MitID login.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MitidError {
    /// Signaturgruppen `idp` is not MitID / MitID Erhverv.
    #[error("idp {0:?} is not mitid or mitid_erhverv")]
    Idp(Option<String>),
    /// `identity_type` does not match the idp.
    #[error("identity_type {0:?} does not match the idp")]
    IdentityType(Option<String>),
    /// A NemID identity claim.
    #[error("NemID claim {0:?} in a MitID login")]
    NemidClaim(String),
    /// A NemID `amr` value.
    #[error("NemID amr value {0:?}")]
    NemidAmr(String),
    /// Level missing or not an NSIS value.
    #[error("assurance level {0:?} is missing or not an NSIS value")]
    LoaUnknown(Option<String>),
    /// Level below what the service requires.
    #[error("assurance level {found} is below the required {required}")]
    LoaTooLow {
        /// Reached.
        found: Loa,
        /// Required.
        required: Loa,
    },
    /// Idura `identityscheme` is not `dkmitid`.
    #[error("identityscheme {0:?} is not dkmitid")]
    Scheme(Option<String>),
    /// Idura NemID login method.
    #[error("NemID login method {0:?}")]
    NemidMethod(String),
    /// A login kind this (flawed) RP does not know.
    #[error("{0} logins are not supported")]
    Kind(&'static str),
    /// No user key in the claims.
    #[error("no {0} claim to key the user by")]
    NoUserKey(&'static str),
    /// An Idura business login with neither role claim (Idura: "Private logins will have
    /// neither of the above").
    #[error("business login without employee or companySignatory")]
    NoBusinessRole,
    /// A (flawed) RP's missing required claim.
    #[error("no {0} claim")]
    Missing(&'static str),
}

/// Whether an Idura role claim says yes: the documented value is the string `"true"`
/// (criipto/docs danish-mitid-erhverv.mdx); a JSON `true` is read the same.
fn yes(c: &Map<String, Value>, k: &str) -> bool {
    matches!(c.get(k), Some(Value::String(v)) if v == "true")
        || c.get(k) == Some(&Value::Bool(true))
}

fn s<'a>(c: &'a Map<String, Value>, k: &str) -> Option<&'a str> {
    c.get(k).and_then(Value::as_str)
}

fn owned(o: Option<&str>) -> Option<String> {
    o.map(str::to_string)
}

fn parse_level(name: &str) -> Option<Loa> {
    match name {
        "Low" => Some(Loa::Low),
        "Substantial" => Some(Loa::Substantial),
        "High" => Some(Loa::High),
        _ => None,
    }
}

fn level_ok(found: Loa, required: Loa, flaws: &Flaws) -> Result<(), MitidError> {
    let ok = if flaws.has(RpFlaw::ExactLoa) {
        found == required
    } else {
        found >= required
    };
    if ok {
        Ok(())
    } else {
        Err(MitidError::LoaTooLow { found, required })
    }
}

/// Check the merged ID token + userinfo claims and pick the user key.
pub fn check(
    profile: BrokerProfile,
    c: &Map<String, Value>,
    required: Loa,
    flaws: &Flaws,
) -> Result<MitidLogin, MitidError> {
    match profile {
        BrokerProfile::Signaturgruppen => signaturgruppen(c, required, flaws),
        BrokerProfile::Idura => idura(c, required, flaws),
    }
}

fn signaturgruppen(
    c: &Map<String, Value>,
    required: Loa,
    flaws: &Flaws,
) -> Result<MitidLogin, MitidError> {
    let idp = s(c, "idp");
    let professional = match idp {
        Some("mitid") => false,
        Some("mitid_erhverv") if flaws.has(RpFlaw::PersonOnly) => {
            return Err(MitidError::Kind("MitID Erhverv"));
        }
        Some("mitid_erhverv") => true,
        Some("nemid") if flaws.has(RpFlaw::AcceptNemidIdp) => false,
        _ => return Err(MitidError::Idp(owned(idp))),
    };
    let identity_type = s(c, "identity_type");
    let expected_type = if professional {
        "professional"
    } else {
        "private"
    };
    if identity_type != Some(expected_type) {
        return Err(MitidError::IdentityType(owned(identity_type)));
    }
    for k in c.keys().filter(|k| k.starts_with("nemid.")) {
        let lookup = k == "nemid.pid" || k == "nemid.pid_status";
        if flaws.has(RpFlaw::RejectAnyNemidClaim)
            || (!lookup && !flaws.has(RpFlaw::AcceptNemidClaims))
        {
            return Err(MitidError::NemidClaim(k.clone()));
        }
    }
    if !flaws.has(RpFlaw::AcceptNemidAmr) {
        let amr: Vec<&str> = match c.get("amr") {
            Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
            Some(Value::String(v)) => vec![v.as_str()],
            _ => vec![],
        };
        if let Some(bad) = amr.iter().find(|a| a.starts_with("nemid")) {
            return Err(MitidError::NemidAmr(bad.to_string()));
        }
    }
    let loa_raw = s(c, "loa");
    let loa = loa_raw
        .and_then(|v| v.strip_prefix(SG_LOA_PREFIX))
        .and_then(parse_level);
    if !flaws.has(RpFlaw::IgnoreLoa) {
        let found = loa.ok_or_else(|| MitidError::LoaUnknown(owned(loa_raw)))?;
        level_ok(found, required, flaws)?;
    }
    let (key_claim, kind, name_claim) = if professional {
        (
            "nemlogin.persistent_professional_id",
            "professional",
            "nemlogin.name",
        )
    } else {
        ("mitid.uuid", "person", "mitid.identity_name")
    };
    if flaws.has(RpFlaw::RequireName) && s(c, name_claim).is_none() {
        return Err(MitidError::Missing(name_claim));
    }
    let uuid = if flaws.has(RpFlaw::KeyBySub) {
        s(c, "sub").ok_or(MitidError::NoUserKey("sub"))?
    } else {
        s(c, key_claim).ok_or(MitidError::NoUserKey(key_claim))?
    };
    Ok(MitidLogin {
        uuid: uuid.trim_start_matches("urn:uuid:").to_string(),
        kind,
        loa: loa.map(|l| l.name().to_string()).unwrap_or_default(),
        sub: None,
    })
}

fn idura(c: &Map<String, Value>, required: Loa, flaws: &Flaws) -> Result<MitidLogin, MitidError> {
    let scheme = s(c, "identityscheme");
    match scheme {
        Some("dkmitid") => {}
        Some("dknemid") if flaws.has(RpFlaw::AcceptDknemid) => {}
        _ => return Err(MitidError::Scheme(owned(scheme))),
    }
    // Idura reports the login method in `authenticationtype`; a standard `acr` claim, when
    // present, must name a MitID method too, or the two disagree about what happened.
    if let Some(acr) = s(c, "acr")
        && !acr.starts_with(IDURA_MITID_PREFIX)
        && !flaws.has(RpFlaw::AcceptNemidAcr)
    {
        return Err(MitidError::NemidMethod(acr.to_string()));
    }
    let method = s(c, "authenticationtype");
    let (loa, professional) = match method {
        Some(m) if m.starts_with(IDURA_NEMID_PREFIX) => {
            if !flaws.has(RpFlaw::AcceptNemidAcr) {
                return Err(MitidError::NemidMethod(m.to_string()));
            }
            (Some(Loa::Substantial), m.contains(":moces"))
        }
        Some(m) => match m.strip_prefix(IDURA_MITID_PREFIX) {
            Some("low") => (Some(Loa::Low), false),
            Some("substantial") => (Some(Loa::Substantial), false),
            Some("high") => (Some(Loa::High), false),
            Some("business") if flaws.has(RpFlaw::PersonOnly) => {
                return Err(MitidError::Kind("MitID Erhverv"));
            }
            Some("business") => (Some(Loa::Substantial), true),
            _ => (None, false),
        },
        None => (None, false),
    };
    if !flaws.has(RpFlaw::IgnoreLoa) {
        let found = loa.ok_or_else(|| MitidError::LoaUnknown(owned(method)))?;
        level_ok(found, required, flaws)?;
    }
    // A business login acts for the organisation only in a role: `employee` or
    // `companySignatory` = "true" (criipto/docs danish-mitid-erhverv.mdx).
    if professional && method.is_some_and(|m| m.starts_with(IDURA_MITID_PREFIX)) {
        let employee = yes(c, "employee");
        let signatory = yes(c, "companySignatory") && !flaws.has(RpFlaw::EmployeeOnly);
        if !employee && !signatory && !flaws.has(RpFlaw::BusinessWithoutRole) {
            return Err(MitidError::NoBusinessRole);
        }
    }
    if flaws.has(RpFlaw::RequireName) && s(c, "name").is_none() {
        return Err(MitidError::Missing("name"));
    }
    let key = if flaws.has(RpFlaw::KeyBySub) {
        "sub"
    } else {
        "uuid"
    };
    let uuid = s(c, key).ok_or(MitidError::NoUserKey(if key == "sub" {
        "sub"
    } else {
        "uuid"
    }))?;
    Ok(MitidLogin {
        uuid: uuid.to_string(),
        kind: if professional {
            "professional"
        } else {
            "person"
        },
        loa: loa.map(|l| l.name().to_string()).unwrap_or_default(),
        sub: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sg() -> Map<String, Value> {
        json!({"sub": "s", "idp": "mitid", "identity_type": "private",
               "loa": "https://data.gov.dk/concept/core/nsis/Substantial", "amr": ["code_app"],
               "mitid.uuid": "u-1", "nemid.pid": "9208-2002-2-1", "nemid.pid_status": "success"})
        .as_object()
        .cloned()
        .unwrap()
    }

    #[test]
    fn signaturgruppen_rules() {
        let strict = Flaws::default();
        let ok = check(
            BrokerProfile::Signaturgruppen,
            &sg(),
            Loa::Substantial,
            &strict,
        )
        .unwrap();
        assert_eq!(ok.uuid, "u-1");
        let mut c = sg();
        c.insert("nemid.rid".into(), json!("1"));
        assert_eq!(
            check(
                BrokerProfile::Signaturgruppen,
                &c,
                Loa::Substantial,
                &strict
            ),
            Err(MitidError::NemidClaim("nemid.rid".into()))
        );
        let mut c = sg();
        c.insert(
            "loa".into(),
            json!("https://data.gov.dk/concept/core/nsis/loa/Substantial"),
        );
        assert!(matches!(
            check(
                BrokerProfile::Signaturgruppen,
                &c,
                Loa::Substantial,
                &strict
            ),
            Err(MitidError::LoaUnknown(_))
        ));
        let over = Flaws::from_iter([RpFlaw::RejectAnyNemidClaim]);
        assert!(
            check(
                BrokerProfile::Signaturgruppen,
                &sg(),
                Loa::Substantial,
                &over
            )
            .is_err()
        );
    }

    #[test]
    fn idura_rules() {
        let strict = Flaws::default();
        let mut c = json!({"sub": "{x}", "identityscheme": "dkmitid", "uuid": "u-2",
                           "authenticationtype": "urn:grn:authn:dk:mitid:business",
                           "employee": "true"})
        .as_object()
        .cloned()
        .unwrap();
        let ok = check(BrokerProfile::Idura, &c, Loa::Substantial, &strict).unwrap();
        assert_eq!((ok.uuid.as_str(), ok.kind), ("u-2", "professional"));
        let mut signatory = c.clone();
        signatory.remove("employee");
        signatory.insert("companySignatory".into(), json!("true"));
        assert!(check(BrokerProfile::Idura, &signatory, Loa::Substantial, &strict).is_ok());
        let only = Flaws::from_iter([RpFlaw::EmployeeOnly]);
        assert_eq!(
            check(BrokerProfile::Idura, &signatory, Loa::Substantial, &only),
            Err(MitidError::NoBusinessRole)
        );
        signatory.remove("companySignatory");
        assert_eq!(
            check(BrokerProfile::Idura, &signatory, Loa::Substantial, &strict),
            Err(MitidError::NoBusinessRole)
        );
        c.insert(
            "authenticationtype".into(),
            json!("urn:grn:authn:dk:mitid:low"),
        );
        assert!(matches!(
            check(BrokerProfile::Idura, &c, Loa::Substantial, &strict),
            Err(MitidError::LoaTooLow { .. })
        ));
        c.insert(
            "authenticationtype".into(),
            json!("urn:grn:authn:dk:nemid:poces"),
        );
        assert!(matches!(
            check(BrokerProfile::Idura, &c, Loa::Substantial, &strict),
            Err(MitidError::NemidMethod(_))
        ));
    }
}
