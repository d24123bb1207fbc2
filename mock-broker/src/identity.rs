//! Test identities: MitID persons and MitID Erhverv professionals.
//!
//! Built-in defaults cover the cases the scenario catalogue needs (Substantial and High persons,
//! a person without CPR, a name-protected person with an alias, non-ASCII names, multi-valued
//! email, professionals with and without legacy RID). Users add or replace them with a TOML file:
//!
//! ```toml
//! [[identity]]
//! id = "karen"
//! kind = "person"
//! uuid = "5b1b5b6c-1111-4a4a-9d9d-000000000001"
//! cpr = "0107721231"
//! first_name = "Karen"
//! last_name = "Jensen"
//! email = ["karen@example.dk"]
//! date_of_birth = "1972-07-01"
//! loa = "Substantial"
//! ```
//!
//! Every CPR number here is fictitious: valid date, but a control digit that fails the
//! modulus-11 check that every CPR number issued before 2007 satisfies, and birth years before
//! 2007. CVR numbers start with 9, the range the MitID Erhverv test environment uses for
//! fictitious organisations.

use crate::nsis::Loa;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use uuid::Uuid;

/// Whether the identity logs in as a private person (MitID) or an employee (MitID Erhverv).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IdentityKind {
    /// Natural person profile (`https://data.gov.dk/eid/Person`).
    Person,
    /// Professional profile (`https://data.gov.dk/eid/Professional`), MitID Erhverv.
    Professional,
}

impl IdentityKind {
    /// The attribute-profile `AuthnContextClassRef` an SP puts in its request.
    pub fn profile_uri(self) -> &'static str {
        match self {
            IdentityKind::Person => "https://data.gov.dk/eid/Person",
            IdentityKind::Professional => "https://data.gov.dk/eid/Professional",
        }
    }

    /// Path segment of the NameID (`.../eid/person/uuid/...` or `.../eid/professional/uuid/...`).
    pub fn path_segment(self) -> &'static str {
        match self {
            IdentityKind::Person => "person",
            IdentityKind::Professional => "professional",
        }
    }
}

/// One test identity. Persons and professionals share the struct; fields that belong to only
/// one profile are optional.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestIdentity {
    /// Short handle used on the login page, in scenarios and in the control API.
    pub id: String,
    /// Person or professional.
    pub kind: IdentityKind,
    /// For persons the MitID UUID; for professionals the persistent professional UUID.
    /// This is what the NameID carries and what SPs must key users by.
    pub uuid: Uuid,
    /// CPR number (10 digits, fictitious). Absent for persons logging in to private SPs
    /// without CPR, and for most professionals.
    #[serde(default)]
    pub cpr: Option<String>,
    /// The person's CPR UUID (central UUID from the Civil Registration System).
    #[serde(default)]
    pub cpr_uuid: Option<Uuid>,
    /// Given name(s).
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Full name; defaults to `first_name last_name`.
    #[serde(default)]
    pub full_name: Option<String>,
    /// Alias for name-protected persons ("Pseudonym" for name-protected MitID Erhverv users).
    #[serde(default)]
    pub alias: Option<String>,
    /// Email addresses (multi-valued in OIOSAML 3).
    #[serde(default)]
    pub email: Vec<String>,
    /// Date of birth, `YYYY-MM-DD`.
    #[serde(default)]
    pub date_of_birth: Option<String>,
    /// Age in years; computed from `date_of_birth` at a fixed reference date when absent.
    #[serde(default)]
    pub age: Option<u32>,
    /// NSIS level of assurance reached at login.
    pub loa: Loa,
    /// NSIS identity assurance level; defaults to `loa`.
    #[serde(default)]
    pub ial: Option<Loa>,
    /// NSIS authenticator assurance level; defaults to `loa`.
    #[serde(default)]
    pub aal: Option<Loa>,
    /// Legacy NemID PID (`9208-2002-2-...`), deprecated; SPs must not key users by it.
    #[serde(default)]
    pub legacy_pid: Option<String>,
    /// Professional: CVR number (8 digits) of the organisation.
    #[serde(default)]
    pub cvr: Option<String>,
    /// Professional: organisation name.
    #[serde(default)]
    pub org_name: Option<String>,
    /// Professional: legacy RID, deprecated.
    #[serde(default)]
    pub rid: Option<String>,
    /// Professional: production unit (P-number, 10 digits).
    #[serde(default)]
    pub production_unit: Option<String>,
    /// Professional: SE number (8 digits).
    #[serde(default)]
    pub se_number: Option<String>,
    /// Professional: CVR numbers the person may fully represent.
    #[serde(default)]
    pub authorized_to_represent: Vec<String>,
    /// For a user identified by another EU member state through eIDAS (OIOSAML 4.0 profiles
    /// Person/EU and Professional/EU): that state's two-letter code, e.g. `SE`. Absent for
    /// Danish MitID users (every identity written before OIOSAML 4.0).
    #[serde(default)]
    pub member_state: Option<String>,
    /// Professional: OIO BPP privilege groups, released as `privilegesIntermediate` to public
    /// SPs that request it ([`crate::saml::bpp`], [`crate::saml::release`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub privileges: Vec<crate::saml::bpp::PrivilegeGroup>,
}

impl TestIdentity {
    /// The full name as released in the assertion.
    pub fn full_name(&self) -> String {
        self.full_name
            .clone()
            .unwrap_or_else(|| format!("{} {}", self.first_name, self.last_name))
    }

    /// IAL, defaulting to the LoA.
    pub fn ial(&self) -> Loa {
        self.ial.unwrap_or(self.loa)
    }

    /// AAL, defaulting to the LoA.
    pub fn aal(&self) -> Loa {
        self.aal.unwrap_or(self.loa)
    }

    /// Age, computed from the date of birth at 2026-01-01 when not given, so that snapshots
    /// do not change with the calendar.
    pub fn age(&self) -> Option<u32> {
        if self.age.is_some() {
            return self.age;
        }
        let dob = self.date_of_birth.as_deref()?;
        let year: u32 = dob.get(0..4)?.parse().ok()?;
        2026u32.checked_sub(year + 1)
    }

    /// The OIOSAML 3 persistent NameID value:
    /// `https://data.gov.dk/model/core/eid/{person|professional}/uuid/<uuid>`.
    pub fn name_id(&self) -> String {
        format!(
            "https://data.gov.dk/model/core/eid/{}/uuid/{}",
            self.kind.path_segment(),
            self.uuid
        )
    }

    /// Check the identity for internal consistency; the error names the field.
    pub fn validate(&self) -> Result<(), IdentityError> {
        let bad = |field: &'static str, why: String| IdentityError::Invalid {
            id: self.id.clone(),
            field,
            why,
        };
        if self.id.is_empty()
            || !self
                .id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(bad(
                "id",
                "must be non-empty ASCII letters, digits, '-' or '_'".into(),
            ));
        }
        if let Some(cpr) = &self.cpr
            && (cpr.len() != 10 || !cpr.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(bad("cpr", format!("{cpr:?} is not 10 digits")));
        }
        if let Some(dob) = &self.date_of_birth {
            let fmt = time::macros::format_description!("[year]-[month]-[day]");
            if time::Date::parse(dob, &fmt).is_err() {
                return Err(bad("date_of_birth", format!("{dob:?} is not YYYY-MM-DD")));
            }
        }
        if let Some(ms) = &self.member_state {
            if ms.len() != 2 || !ms.bytes().all(|b| b.is_ascii_uppercase()) || ms == "DK" {
                return Err(bad(
                    "member_state",
                    format!("{ms:?} is not the two-letter code of another EU member state"),
                ));
            }
            if self.cpr.is_some() {
                return Err(bad(
                    "cpr",
                    "an eIDAS (member_state) identity has no CPR number".into(),
                ));
            }
        }
        let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
        match self.kind {
            IdentityKind::Professional => {
                match &self.cvr {
                    Some(c) if digits(c, 8) => {}
                    Some(c) => return Err(bad("cvr", format!("{c:?} is not 8 digits"))),
                    None => return Err(bad("cvr", "a professional needs a CVR".into())),
                }
                if self.org_name.as_deref().unwrap_or("").is_empty() {
                    return Err(bad("org_name", "a professional needs an org_name".into()));
                }
                if let Some(p) = &self.production_unit
                    && !digits(p, 10)
                {
                    return Err(bad("production_unit", format!("{p:?} is not 10 digits")));
                }
                if let Some(se) = &self.se_number
                    && !digits(se, 8)
                {
                    return Err(bad("se_number", format!("{se:?} is not 8 digits")));
                }
                crate::saml::bpp::check(&self.privileges).map_err(|why| bad("privileges", why))?;
            }
            IdentityKind::Person => {
                for f in [
                    ("cvr", &self.cvr),
                    ("org_name", &self.org_name),
                    ("rid", &self.rid),
                ] {
                    if f.1.is_some() {
                        return Err(bad(f.0, "only professionals carry this field".into()));
                    }
                }
                if !self.privileges.is_empty() {
                    return Err(bad(
                        "privileges",
                        "only professionals carry OIO BPP privileges".into(),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Errors loading or validating identities.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// The file could not be read.
    #[error("cannot read identities file {path}: {source}")]
    Io {
        /// File path.
        path: String,
        /// Cause.
        source: std::io::Error,
    },
    /// The TOML did not parse.
    #[error("identities file {path} is not valid: {message}")]
    Parse {
        /// File path.
        path: String,
        /// Parser message with line and column.
        message: String,
    },
    /// One identity is inconsistent.
    #[error("identity {id:?}: field `{field}` {why}")]
    Invalid {
        /// Identity handle.
        id: String,
        /// Offending field.
        field: &'static str,
        /// What is wrong.
        why: String,
    },
    /// Two identities share a handle.
    #[error("identity id {0:?} appears twice")]
    Duplicate(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IdentityFile {
    /// When true, the built-in identities are dropped and only the file's are used.
    #[serde(default)]
    replace_builtin: bool,
    #[serde(default)]
    identity: Vec<TestIdentity>,
}

/// The set of identities the broker can log in as, keyed by handle, in a stable order.
#[derive(Debug, Clone)]
pub struct IdentityStore {
    by_id: BTreeMap<String, TestIdentity>,
    order: Vec<String>,
}

impl IdentityStore {
    /// The built-in identities.
    pub fn builtin() -> Self {
        let mut s = IdentityStore {
            by_id: BTreeMap::new(),
            order: Vec::new(),
        };
        for i in builtin_identities() {
            s.insert(i).expect("built-in identities are valid");
        }
        s
    }

    /// An empty store.
    pub fn empty() -> Self {
        IdentityStore {
            by_id: BTreeMap::new(),
            order: Vec::new(),
        }
    }

    /// Add one identity after validating it.
    pub fn insert(&mut self, identity: TestIdentity) -> Result<(), IdentityError> {
        identity.validate()?;
        if self.by_id.contains_key(&identity.id) {
            return Err(IdentityError::Duplicate(identity.id));
        }
        self.order.push(identity.id.clone());
        self.by_id.insert(identity.id.clone(), identity);
        Ok(())
    }

    /// Parse identities from TOML text, on top of the built-ins unless the file says
    /// `replace_builtin = true`.
    pub fn from_toml_str(text: &str, origin: &str) -> Result<Self, IdentityError> {
        let file: IdentityFile = toml::from_str(text).map_err(|e| IdentityError::Parse {
            path: origin.to_string(),
            message: e.to_string(),
        })?;
        let mut store = if file.replace_builtin {
            Self::empty()
        } else {
            Self::builtin()
        };
        for i in file.identity {
            store.insert(i)?;
        }
        Ok(store)
    }

    /// Load identities from a TOML file (see the module docs for the format).
    pub fn from_file(path: &Path) -> Result<Self, IdentityError> {
        let text = std::fs::read_to_string(path).map_err(|source| IdentityError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_toml_str(&text, &path.display().to_string())
    }

    /// Look up by handle.
    pub fn get(&self, id: &str) -> Option<&TestIdentity> {
        self.by_id.get(id)
    }

    /// Look up by UUID (MitID UUID or professional UUID).
    pub fn by_uuid(&self, uuid: &Uuid) -> Option<&TestIdentity> {
        self.by_id.values().find(|i| &i.uuid == uuid)
    }

    /// All identities in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = &TestIdentity> {
        self.order.iter().filter_map(|id| self.by_id.get(id))
    }

    /// The first identity of a kind (the default choice for automation).
    pub fn first_of(&self, kind: IdentityKind) -> Option<&TestIdentity> {
        self.iter().find(|i| i.kind == kind)
    }

    /// Number of identities.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
}

fn u(s: &str) -> Uuid {
    Uuid::parse_str(s).expect("valid built-in uuid")
}

#[allow(clippy::too_many_lines)]
fn builtin_identities() -> Vec<TestIdentity> {
    let person = |id: &str, uuid: &str, cpr: Option<&str>, first: &str, last: &str| TestIdentity {
        id: id.into(),
        kind: IdentityKind::Person,
        uuid: u(uuid),
        cpr: cpr.map(Into::into),
        cpr_uuid: None,
        first_name: first.into(),
        last_name: last.into(),
        full_name: None,
        alias: None,
        email: vec![],
        date_of_birth: None,
        age: None,
        loa: Loa::Substantial,
        ial: None,
        aal: None,
        legacy_pid: None,
        cvr: None,
        org_name: None,
        rid: None,
        production_unit: None,
        se_number: None,
        authorized_to_represent: vec![],
        member_state: None,
        privileges: Vec::new(),
    };
    let mut anna = person(
        "anna",
        "8f3c2b1a-4d5e-4f60-8a7b-1c2d3e4f5a01",
        Some("0304851237"),
        "Anna",
        "Mock-Hansen",
    );
    anna.cpr_uuid = Some(u("d1e2f3a4-b5c6-4d7e-8f90-a1b2c3d4e501"));
    anna.email = vec!["anna.mock-hansen@example.dk".into()];
    anna.date_of_birth = Some("1985-04-03".into());
    anna.legacy_pid = Some("9208-2002-2-000000000101".into());

    let mut bo = person(
        "bo",
        "8f3c2b1a-4d5e-4f60-8a7b-1c2d3e4f5a02",
        Some("1512601239"),
        "Bo",
        "Mock-Nielsen",
    );
    bo.cpr_uuid = Some(u("d1e2f3a4-b5c6-4d7e-8f90-a1b2c3d4e502"));
    bo.email = vec!["bo@example.dk".into()];
    bo.date_of_birth = Some("1960-12-15".into());
    bo.loa = Loa::High;

    let mut lav = person(
        "lene-low",
        "8f3c2b1a-4d5e-4f60-8a7b-1c2d3e4f5a03",
        Some("2208901232"),
        "Lene",
        "Mock-Lav",
    );
    lav.email = vec!["lene@example.dk".into()];
    lav.date_of_birth = Some("1990-08-22".into());
    lav.loa = Loa::Low;

    let mut søren = person(
        "soeren",
        "8f3c2b1a-4d5e-4f60-8a7b-1c2d3e4f5a04",
        Some("0101701238"),
        "Søren Æbelø",
        "Ørskov-Ågård",
    );
    søren.email = vec![
        "soeren@example.dk".into(),
        "soeren.aagaard@example.org".into(),
    ];
    søren.date_of_birth = Some("1970-01-01".into());

    let mut nocpr = person(
        "nocpr",
        "8f3c2b1a-4d5e-4f60-8a7b-1c2d3e4f5a05",
        None,
        "Nikolaj",
        "Mock-Uden-CPR",
    );
    nocpr.email = vec!["nikolaj@example.dk".into()];

    let mut protected = person(
        "protected",
        "8f3c2b1a-4d5e-4f60-8a7b-1c2d3e4f5a06",
        Some("3006801236"),
        "Pia",
        "Mock-Beskyttet",
    );
    protected.alias = Some("Pseudonym".into());
    protected.date_of_birth = Some("1980-06-30".into());

    let pro = |id: &str, uuid: &str, first: &str, last: &str, cvr: &str, org: &str| TestIdentity {
        id: id.into(),
        kind: IdentityKind::Professional,
        uuid: u(uuid),
        cpr: None,
        cpr_uuid: None,
        first_name: first.into(),
        last_name: last.into(),
        full_name: None,
        alias: None,
        email: vec![],
        date_of_birth: None,
        age: None,
        loa: Loa::Substantial,
        ial: None,
        aal: None,
        legacy_pid: None,
        cvr: Some(cvr.into()),
        org_name: Some(org.into()),
        rid: None,
        production_unit: None,
        se_number: None,
        authorized_to_represent: vec![],
        member_state: None,
        privileges: Vec::new(),
    };
    let mut erik = pro(
        "erik-erhverv",
        "7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c01",
        "Erik",
        "Mock-Erhverv",
        "99000001",
        "Mock Testorganisation ApS",
    );
    erik.email = vec!["erik@mock-testorg.example.dk".into()];
    erik.rid = Some("90000001".into());
    erik.production_unit = Some("9900000001".into());
    erik.se_number = Some("99000001".into());
    erik.authorized_to_represent = vec!["99000001".into()];

    let mut frida = pro(
        "frida-erhverv",
        "7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c02",
        "Frida",
        "Mock-Fuldmagt",
        "99000002",
        "Mock Kommune Ø",
    );
    frida.email = vec!["frida@mock-kommune.example.dk".into()];

    // eIDAS users for the OIOSAML 4.0 EU profiles (after the Danish ones, so that every
    // default choice and forgery victim stays what it was).
    let mut elena = person(
        "elena-eu",
        "8f3c2b1a-4d5e-4f60-8a7b-1c2d3e4f5a07",
        None,
        "Elena",
        "Mock-Svensson",
    );
    elena.member_state = Some("SE".into());
    elena.date_of_birth = Some("1988-02-11".into());
    elena.email = vec!["elena@example.se".into()];

    let mut emil = pro(
        "emil-eu-erhverv",
        "7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c03",
        "Emil",
        "Mock-Schmidt",
        "99000001",
        "Mock Testorganisation ApS",
    );
    emil.member_state = Some("DE".into());
    emil.email = vec!["emil@mock-testorg.example.dk".into()];

    // A professional holding an OIO BPP privilege for their own organisation (CVR scope),
    // the positive control of the `privilege.*` scenarios; last, so that every default choice
    // and forgery victim stays what it was.
    let mut palle = pro(
        "palle-privilegeret",
        "7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c04",
        "Palle",
        "Mock-Privilegeret",
        "99000003",
        "Mock Styrelse",
    );
    palle.email = vec!["palle@mock-styrelse.example.dk".into()];
    palle.privileges = vec![crate::saml::bpp::PrivilegeGroup {
        scope: format!("{}99000003", crate::saml::bpp::SCOPE_CVR),
        privileges: vec![crate::saml::bpp::MOCK_PRIVILEGE.into()],
        constraints: vec![],
    }];

    vec![
        anna, bo, lav, søren, nocpr, protected, erik, frida, elena, emil, palle,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mod11_ok(cpr: &str) -> bool {
        let w = [4, 3, 2, 7, 6, 5, 4, 3, 2, 1];
        let sum: u32 = cpr
            .bytes()
            .zip(w)
            .map(|(b, w)| u32::from(b - b'0') * w)
            .sum();
        sum.is_multiple_of(11)
    }

    #[test]
    fn builtin_identities_are_valid_and_cprs_fictitious() {
        let s = IdentityStore::builtin();
        assert_eq!(s.len(), 11);
        for i in s.iter() {
            i.validate().unwrap();
            if let Some(cpr) = &i.cpr {
                assert!(
                    !mod11_ok(cpr),
                    "{cpr} passes modulus 11: pick a fictitious one"
                );
            }
            if let Some(cvr) = &i.cvr {
                assert!(cvr.starts_with('9'));
            }
        }
        assert!(s.first_of(IdentityKind::Professional).is_some());
        assert_eq!(
            s.get("anna").unwrap().name_id(),
            "https://data.gov.dk/model/core/eid/person/uuid/8f3c2b1a-4d5e-4f60-8a7b-1c2d3e4f5a01"
        );
    }

    #[test]
    fn toml_adds_and_validates() {
        let t = r#"
[[identity]]
id = "karen"
kind = "person"
uuid = "5b1b5b6c-1111-4a4a-9d9d-000000000001"
first_name = "Karen"
last_name = "Jensen"
loa = "High"
"#;
        let s = IdentityStore::from_toml_str(t, "x.toml").unwrap();
        assert_eq!(s.len(), 12);
        assert_eq!(s.get("karen").unwrap().loa, Loa::High);

        let bad = t.replace("kind = \"person\"", "kind = \"professional\"");
        let e = IdentityStore::from_toml_str(&bad, "x.toml").unwrap_err();
        assert!(e.to_string().contains("cvr"), "{e}");

        let e = IdentityStore::from_toml_str("identity = 3", "x.toml").unwrap_err();
        assert!(e.to_string().contains("x.toml"), "{e}");
        let dup = format!("{t}{t}");
        assert!(matches!(
            IdentityStore::from_toml_str(&dup, "x").unwrap_err(),
            IdentityError::Duplicate(_)
        ));
    }

    #[test]
    fn professionals_carry_bpp_privileges_from_toml() {
        let t = r#"
[[identity]]
id = "pia"
kind = "professional"
uuid = "5b1b5b6c-1111-4a4a-9d9d-000000000002"
first_name = "Pia"
last_name = "Privilegeret"
loa = "Substantial"
cvr = "90000001"
org_name = "Mock Kommune"

[[identity.privileges]]
scope = "urn:dk:gov:saml:cvrNumberIdentifier:90000001"
privileges = ["urn:dk:mock:privilege:sagsbehandler"]
constraints = [{ name = "urn:dk:kombit:KLE", value = "25.*" }]
"#;
        let s = IdentityStore::from_toml_str(t, "x.toml").unwrap();
        let pia = s.get("pia").unwrap();
        assert_eq!(pia.privileges.len(), 1);
        assert_eq!(pia.privileges[0].scoped_number(), Some("90000001"));
        let bad = t.replace("cvrNumberIdentifier:90000001", "cvrNumberIdentifier:x");
        let e = IdentityStore::from_toml_str(&bad, "x.toml").unwrap_err();
        assert!(e.to_string().contains("`privileges` [0].scope"), "{e}");
        let person = t
            .replace("kind = \"professional\"", "kind = \"person\"")
            .replace("cvr = \"90000001\"\norg_name = \"Mock Kommune\"\n", "");
        let e = IdentityStore::from_toml_str(&person, "x.toml").unwrap_err();
        assert!(e.to_string().contains("only professionals"), "{e}");
    }
}
