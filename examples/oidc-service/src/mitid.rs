//! The MitID checks on top of OIDC, for the Signaturgruppen broker (formerly Nets eID Broker).
//!
//! A valid ID token says *the broker* logged someone in; these checks say it was MitID, at the
//! level this service requires, and who it was. Signaturgruppen's documentation: "the client
//! MUST validate that the expected restrictions for amr, idp and identity_type are as
//! expected", and likewise `loa`. The NemID-era broker sent `idp=nemid`, `nemid.*` identity
//! claims and `nemid.otp` / `nemid.keyfile` methods; NemID closed in 2023, so a MitID service
//! refuses all of them — except `nemid.pid` and `nemid.pid_status`, the MitID-era lookup of
//! a person's old NemID PID (scope `nemid.pid`), which is not a NemID login.

use crate::config::Loa;
use serde_json::{Map, Value};

/// Signaturgruppen's NSIS values: `https://data.gov.dk/concept/core/nsis/Substantial`.
const NSIS_PREFIX: &str = "https://data.gov.dk/concept/core/nsis/";

/// Who logged in, as the service records it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MitidUser {
    /// The user key: the MitID UUID of a person (`mitid.uuid`), or the persistent professional
    /// UUID of a MitID Erhverv employee. Never the broker's `sub`, which the broker issues per
    /// organisation: keying by it splits one person into several accounts on a broker change.
    pub uuid: String,
    /// `person` or `professional`.
    pub kind: &'static str,
    /// The NSIS level of the login.
    pub loa: Loa,
    /// Display name, when the broker released one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// Why a verified login is still not an acceptable MitID login.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// `idp` is not `mitid` or `mitid_erhverv` (e.g. `nemid`).
    #[error("idp {0:?} is not mitid or mitid_erhverv")]
    Idp(Option<String>),
    /// `identity_type` does not match the idp.
    #[error("identity_type {0:?} does not match the idp")]
    IdentityType(Option<String>),
    /// A NemID identity claim (`nemid.ssn`, `nemid.rid`, `nemid.dn`, ...).
    #[error("NemID claim {0:?} in a MitID login")]
    NemidClaim(String),
    /// A NemID authentication method (`nemid.otp`, `nemid.keyfile`).
    #[error("NemID authentication method {0:?}")]
    NemidMethod(String),
    /// No `loa`, or not an NSIS value.
    #[error("level of assurance {0:?} is missing or not an NSIS value")]
    LoaUnknown(Option<String>),
    /// The login's level is below what the service requires.
    #[error("level of assurance {found} is below the required {required}")]
    LoaTooLow {
        /// The login's level.
        found: Loa,
        /// The service's requirement.
        required: Loa,
    },
    /// The claim holding the user key is missing.
    #[error("no {0} claim to identify the user")]
    NoUserKey(&'static str),
}

fn text<'a>(c: &'a Map<String, Value>, k: &str) -> Option<&'a str> {
    c.get(k).and_then(Value::as_str)
}

/// Check a verified login's claims (ID token over userinfo) and pick the user key.
pub fn check(claims: &Map<String, Value>, required: Loa) -> Result<MitidUser, Refusal> {
    // An allow list, not a deny list: anything but the two MitID idps is refused.
    let idp = text(claims, "idp");
    let (professional, expected_type) = match idp {
        Some("mitid") => (false, "private"),
        Some("mitid_erhverv") => (true, "professional"),
        other => return Err(Refusal::Idp(other.map(str::to_string))),
    };
    let identity_type = text(claims, "identity_type");
    if identity_type != Some(expected_type) {
        return Err(Refusal::IdentityType(identity_type.map(str::to_string)));
    }
    if let Some(k) = claims
        .keys()
        .filter(|k| k.starts_with("nemid."))
        .find(|k| *k != "nemid.pid" && *k != "nemid.pid_status")
    {
        return Err(Refusal::NemidClaim(k.clone()));
    }
    let methods: Vec<&str> = match claims.get("amr") {
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        Some(Value::String(s)) => vec![s.as_str()],
        _ => vec![],
    };
    if let Some(m) = methods.iter().find(|m| m.starts_with("nemid")) {
        return Err(Refusal::NemidMethod(m.to_string()));
    }
    let loa_raw = text(claims, "loa");
    let loa = match loa_raw.and_then(|v| v.strip_prefix(NSIS_PREFIX)) {
        Some("Low") => Loa::Low,
        Some("Substantial") => Loa::Substantial,
        Some("High") => Loa::High,
        _ => return Err(Refusal::LoaUnknown(loa_raw.map(str::to_string))),
    };
    // Levels are ordered: a High login is good enough for a Substantial service.
    if loa < required {
        return Err(Refusal::LoaTooLow {
            found: loa,
            required,
        });
    }
    let (key, kind, name) = if professional {
        (
            "nemlogin.persistent_professional_id",
            "professional",
            "nemlogin.name",
        )
    } else {
        ("mitid.uuid", "person", "mitid.identity_name")
    };
    let uuid = text(claims, key).ok_or(Refusal::NoUserKey(key))?;
    Ok(MitidUser {
        uuid: uuid.trim_start_matches("urn:uuid:").to_string(),
        kind,
        loa,
        name: text(claims, name).map(str::to_string),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn person() -> Map<String, Value> {
        json!({
            "sub": "b0c5c2a4-0000-4000-8000-000000000001",
            "idp": "mitid", "identity_type": "private",
            "loa": "https://data.gov.dk/concept/core/nsis/Substantial", "amr": ["code_app"],
            "mitid.uuid": "7e1b2a3c-1111-4a4a-9d9d-000000000001",
            "nemid.pid": "9208-2002-2-000000000101", "nemid.pid_status": "success",
        })
        .as_object()
        .cloned()
        .unwrap()
    }

    #[test]
    fn accepts_mitid_and_keys_by_the_mitid_uuid() {
        let u = check(&person(), Loa::Substantial).unwrap();
        assert_eq!(u.uuid, "7e1b2a3c-1111-4a4a-9d9d-000000000001");
        assert_eq!((u.kind, u.loa), ("person", Loa::Substantial));
        let mut high = person();
        high.insert("loa".into(), json!(format!("{NSIS_PREFIX}High")));
        assert_eq!(check(&high, Loa::Substantial).unwrap().loa, Loa::High);
    }

    #[test]
    fn accepts_mitid_erhverv() {
        let c = json!({
            "idp": "mitid_erhverv", "identity_type": "professional",
            "loa": "https://data.gov.dk/concept/core/nsis/Substantial", "amr": ["mitid:code_app"],
            "nemlogin.persistent_professional_id": "urn:uuid:5b1b5b6c-1111-4a4a-9d9d-000000000002",
            "nemlogin.nemid.rid": "90000001",
        });
        let u = check(c.as_object().unwrap(), Loa::Substantial).unwrap();
        assert_eq!(u.uuid, "5b1b5b6c-1111-4a4a-9d9d-000000000002");
        assert_eq!(u.kind, "professional");
    }

    #[test]
    fn refuses_nemid_and_low_levels() {
        let with = |k: &str, v: Value| {
            let mut c = person();
            c.insert(k.into(), v);
            check(&c, Loa::Substantial)
        };
        assert!(matches!(with("idp", json!("nemid")), Err(Refusal::Idp(_))));
        assert!(matches!(
            with("nemid.ssn", json!("0304851237")),
            Err(Refusal::NemidClaim(_))
        ));
        assert!(matches!(
            with("amr", json!(["nemid.otp"])),
            Err(Refusal::NemidMethod(_))
        ));
        assert!(matches!(
            with("loa", json!(format!("{NSIS_PREFIX}Low"))),
            Err(Refusal::LoaTooLow { .. })
        ));
        // OIOSAML's spelling (with `/loa/`) is not Signaturgruppen's.
        assert!(matches!(
            with("loa", json!(format!("{NSIS_PREFIX}loa/Substantial"))),
            Err(Refusal::LoaUnknown(_))
        ));
        let mut c = person();
        c.remove("loa");
        assert!(matches!(
            check(&c, Loa::Substantial),
            Err(Refusal::LoaUnknown(None))
        ));
    }
}
