//! Claim profiles: how a test identity becomes ID-token and userinfo claims at each broker.
//!
//! Pure functions from [`LoginFacts`] to a [`ClaimSet`] (a JSON object), so the fault
//! vocabulary in [`super::dangerous`] can edit any claim by name and scenarios can state what
//! they change as data. Facts: `nemlogin-protocol.md` §3.2 (Signaturgruppen) and §3.3 (Idura).
//!
//! Signaturgruppen (`idp` = `mitid` | `mitid_erhverv`):
//! - always: `sub` (organisation-scoped UUID), `idp`, `identity_type` (`private` |
//!   `professional`), `loa`/`ial`/`aal` as `https://data.gov.dk/concept/core/nsis/<Level>`
//!   (no `/loa/` segment), `amr`; in the ID token also `neb_sid`, `transaction_id`,
//!   `session_expiry`, `auth_time`.
//! - scope `mitid`: `mitid.uuid`, `mitid.date_of_birth`, `mitid.age`, `mitid.identity_name`,
//!   `mitid.has_cpr`, `mitid.transaction_id`. Scope `ssn`: `dk.cpr`. Scope `nemid.pid`: the
//!   MitID-era PID lookup `nemid.pid` + `nemid.pid_status` (legitimate, unlike NemID logins).
//! - scope `nemlogin` (MitID Erhverv): `nemlogin.*`.
//!
//! - MitID Erhverv: `loip` (`baseline` | `extended`) next to `loa`, capped at Substantial; with
//!   `nemlogin.alias = Pseudonym` no name claims.
//! - The ID token is minimal by default ([`SG_MINIMAL_ID_TOKEN_CLAIMS`]); the identity
//!   attributes are at userinfo.
//!
//! Idura (`identityscheme` = `dkmitid`): `authenticationtype` = the acr value used,
//! `authenticationmethod`, `loA`/`ial`/`aal` in capitals and `fal` `HIGH`, `uuid`, `name`,
//! birth data, `cprNumberIdentifier` under scope `ssn`; for MitID Erhverv (`...:mitid:business`)
//! `employee = "true"`, `cvrNumberIdentifier`, `2.5.4.10` (organisation name) and the optional
//! legacy numbers.

use crate::identity::{IdentityKind, TestIdentity};
use crate::nsis::Loa;
use serde_json::{Value, json};
use uuid::Uuid;

use super::config::Profile;

/// A JSON object of claims.
pub type ClaimSet = serde_json::Map<String, Value>;

/// Prefix of Signaturgruppen `loa`/`ial`/`aal` values.
pub const SG_NSIS_PREFIX: &str = "https://data.gov.dk/concept/core/nsis/";

/// `mitid.identity_name` for a name-protected person at a private service.
pub const SG_PROTECTED_NAME: &str = "NAVNE & ADRESSEBESKYTTET";

/// `nemlogin.alias` of a name-protected MitID Erhverv identity, whose name claims are omitted.
pub const SG_PSEUDONYM: &str = "Pseudonym";

/// Idura's `fal`: every published MitID sample token says `HIGH`, whatever the LoA (LOW next
/// to `fal` HIGH in `MITID_CITIZEN`, SUBSTANTIAL next to HIGH in
/// `MITID_BUSINESS_SIGNATORY_RISKDATA`; criipto/docs `src/JwtViewer/samples.ts`).
pub const IDURA_FAL: &str = "HIGH";

/// Signaturgruppen NSIS value (`https://data.gov.dk/concept/core/nsis/Substantial`).
pub fn sg_nsis_uri(loa: Loa) -> String {
    format!("{SG_NSIS_PREFIX}{}", loa.name())
}

/// Signaturgruppen identity providers the mock can log in through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SgIdp {
    /// MitID (private persons).
    Mitid,
    /// MitID Erhverv (professionals).
    MitidErhverv,
}

impl SgIdp {
    /// The `idp` claim / `idp_values` token.
    pub fn name(self) -> &'static str {
        match self {
            SgIdp::Mitid => "mitid",
            SgIdp::MitidErhverv => "mitid_erhverv",
        }
    }

    /// Parse an `idp_values` token.
    pub fn parse(s: &str) -> Option<SgIdp> {
        match s {
            "mitid" => Some(SgIdp::Mitid),
            "mitid_erhverv" => Some(SgIdp::MitidErhverv),
            _ => None,
        }
    }

    /// The idp an identity logs in through.
    pub fn for_kind(kind: IdentityKind) -> SgIdp {
        match kind {
            IdentityKind::Person => SgIdp::Mitid,
            IdentityKind::Professional => SgIdp::MitidErhverv,
        }
    }
}

/// Idura login methods for MitID (the `acr_values` tokens).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IduraMethod {
    /// `urn:grn:authn:dk:mitid:low`
    MitidLow,
    /// `urn:grn:authn:dk:mitid:substantial`
    MitidSubstantial,
    /// `urn:grn:authn:dk:mitid:high`
    MitidHigh,
    /// `urn:grn:authn:dk:mitid:business` (MitID Erhverv)
    MitidBusiness,
}

impl IduraMethod {
    /// All methods, in the order the chooser lists them.
    pub const ALL: [IduraMethod; 4] = [
        IduraMethod::MitidLow,
        IduraMethod::MitidSubstantial,
        IduraMethod::MitidHigh,
        IduraMethod::MitidBusiness,
    ];

    /// The acr value.
    pub fn acr(self) -> &'static str {
        match self {
            IduraMethod::MitidLow => "urn:grn:authn:dk:mitid:low",
            IduraMethod::MitidSubstantial => "urn:grn:authn:dk:mitid:substantial",
            IduraMethod::MitidHigh => "urn:grn:authn:dk:mitid:high",
            IduraMethod::MitidBusiness => "urn:grn:authn:dk:mitid:business",
        }
    }

    /// Parse an acr value.
    pub fn from_acr(s: &str) -> Option<IduraMethod> {
        Self::ALL.into_iter().find(|m| m.acr() == s)
    }

    /// The level the method authenticates at (business logins are Substantial).
    pub fn loa(self) -> Loa {
        match self {
            IduraMethod::MitidLow => Loa::Low,
            IduraMethod::MitidSubstantial | IduraMethod::MitidBusiness => Loa::Substantial,
            IduraMethod::MitidHigh => Loa::High,
        }
    }

    /// The method a completed login reports, given who logged in and at which level.
    pub fn for_login(kind: IdentityKind, loa: Loa) -> IduraMethod {
        match (kind, loa) {
            (IdentityKind::Professional, _) => IduraMethod::MitidBusiness,
            (_, Loa::Low) => IduraMethod::MitidLow,
            (_, Loa::Substantial) => IduraMethod::MitidSubstantial,
            (_, Loa::High) => IduraMethod::MitidHigh,
        }
    }
}

/// Everything a claim profile needs to know about one completed login.
#[derive(Debug, Clone)]
pub struct LoginFacts<'a> {
    /// Who logged in.
    pub identity: &'a TestIdentity,
    /// The level reached.
    pub loa: Loa,
    /// Granted scopes.
    pub scopes: &'a [String],
    /// The client the login is for (Signaturgruppen scopes `sub` by organisation; the mock
    /// treats each client as its own organisation).
    pub client_id: &'a str,
    /// Whether the client is a public-sector service.
    pub public_service: bool,
    /// Issuer identifier (part of the subject derivation, so two brokers never share a `sub`).
    pub issuer: &'a str,
    /// Broker session id (`neb_sid` / `sessionindex`).
    pub session_id: Uuid,
    /// Transaction id.
    pub transaction_id: Uuid,
    /// When the user authenticated (Unix seconds).
    pub auth_time: i64,
}

impl LoginFacts<'_> {
    fn has_scope(&self, s: &str) -> bool {
        self.scopes.iter().any(|x| x == s)
    }
}

/// The `sub` a profile issues: stable per (issuer, organisation, identity) for Signaturgruppen
/// and per (issuer, identity) for Idura, which wraps the GUID in braces.
pub fn subject(profile: Profile, f: &LoginFacts<'_>) -> String {
    subject_for(profile, f.issuer, f.client_id, f.identity)
}

/// The `sub` a broker of `profile` at issuer URL `issuer` issues to `client_id` for
/// `identity`: what [`subject`] gives a login, for callers that know who logs in but have no
/// login (the harness computes the `sub` an RP keyed by `iss`+`sub` must report).
pub fn subject_for(
    profile: Profile,
    issuer: &str,
    client_id: &str,
    identity: &TestIdentity,
) -> String {
    let uuid = identity.uuid.to_string();
    match profile {
        Profile::Signaturgruppen => derived_uuid(&["sg-sub", issuer, client_id, &uuid]).to_string(),
        Profile::Idura => format!("{{{}}}", derived_uuid(&["idura-sub", issuer, &uuid])),
    }
}

/// A name-based UUID (version 8, SHA-256 of the parts) so subjects are stable across runs.
pub fn derived_uuid(parts: &[&str]) -> Uuid {
    let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    for p in parts {
        ctx.update(&(p.len() as u64).to_be_bytes());
        ctx.update(p.as_bytes());
    }
    let d = ctx.finish();
    let mut b = [0u8; 16];
    b.copy_from_slice(&d.as_ref()[..16]);
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    Uuid::from_bytes(b)
}

/// Claims released at userinfo (all identity claims, including `sub`).
pub fn userinfo_claims(profile: Profile, f: &LoginFacts<'_>) -> ClaimSet {
    let mut c = ClaimSet::new();
    c.insert("sub".into(), json!(subject(profile, f)));
    match profile {
        Profile::Signaturgruppen => signaturgruppen_identity(f, &mut c),
        Profile::Idura => idura_identity(f, &mut c),
    }
    c
}

/// Claims a minimal (Signaturgruppen) ID token keeps of the userinfo set: the subject and the
/// "ID Token identity claims" of `idps/mitid.md` and `idps/mitid-erhverv.md` (`identity_type`,
/// `idp`, `loa`, `ial`, `aal`, `amr`, `mitid.psd2`, `loip`). Everything else (`mitid.*`,
/// `dk.cpr`, `nemlogin.*`, `nemid.*`) is at userinfo only. The example payload in
/// `issued-claims-tokens.md` also shows `mitid.uuid`, but the same page calls it "available
/// from the Userinfo endpoint" and the MitID page lists it under userinfo: the mock follows the
/// claim tables (UNCONFIRMED which one the live broker does).
pub const SG_MINIMAL_ID_TOKEN_CLAIMS: [&str; 9] = [
    "sub",
    "idp",
    "identity_type",
    "loa",
    "ial",
    "aal",
    "amr",
    "mitid.psd2",
    "loip",
];

/// Identity claims for the ID token (without the JWT bookkeeping `iss`/`aud`/`exp`/...).
/// `minimal` keeps only [`SG_MINIMAL_ID_TOKEN_CLAIMS`] (and Idura's scheme and assurance
/// claims, should an Idura issuer be configured minimal).
pub fn id_token_identity_claims(profile: Profile, f: &LoginFacts<'_>, minimal: bool) -> ClaimSet {
    let mut c = userinfo_claims(profile, f);
    if minimal {
        const IDURA_KEEP: [&str; 7] = [
            "sub",
            "identityscheme",
            "authenticationtype",
            "loA",
            "ial",
            "aal",
            "fal",
        ];
        c.retain(|k, _| match profile {
            Profile::Signaturgruppen => SG_MINIMAL_ID_TOKEN_CLAIMS.contains(&k.as_str()),
            Profile::Idura => IDURA_KEEP.contains(&k.as_str()),
        });
    }
    match profile {
        Profile::Signaturgruppen => {
            c.insert("neb_sid".into(), json!(f.session_id.to_string()));
            c.insert("transaction_id".into(), json!(f.transaction_id.to_string()));
            c.insert("session_expiry".into(), json!(f.auth_time + 8 * 3600));
        }
        Profile::Idura => {
            c.insert("sessionindex".into(), json!(f.session_id.to_string()));
        }
    }
    c
}

fn sg_amr(kind: IdentityKind, loa: Loa) -> Vec<String> {
    let method = match loa {
        Loa::Low => "password",
        Loa::Substantial => "code_app",
        Loa::High => "code_app_enchanced",
    };
    match kind {
        IdentityKind::Person => vec![method.to_string()],
        IdentityKind::Professional => vec![format!("mitid:{method}")],
    }
}

fn signaturgruppen_identity(f: &LoginFacts<'_>, c: &mut ClaimSet) {
    let id = f.identity;
    let idp = SgIdp::for_kind(id.kind);
    c.insert("idp".into(), json!(idp.name()));
    let identity_type = match id.kind {
        IdentityKind::Person => "private",
        IdentityKind::Professional => "professional",
    };
    c.insert("identity_type".into(), json!(identity_type));
    c.insert("loa".into(), json!(sg_nsis_uri(f.loa)));
    c.insert("ial".into(), json!(sg_nsis_uri(id.ial().max(f.loa))));
    c.insert("aal".into(), json!(sg_nsis_uri(f.loa)));
    c.insert("amr".into(), json!(sg_amr(id.kind, f.loa)));
    if id.kind == IdentityKind::Professional {
        // "loip: Level of identity proofing. Possible values are: baseline, extended"
        // (idps/mitid-erhverv.md, ID token identity claims). UNCONFIRMED which identities get
        // which: the mock says `extended` for an identity proofed at High, else `baseline`.
        let loip = if id.ial() == Loa::High {
            "extended"
        } else {
            "baseline"
        };
        c.insert("loip".into(), json!(loip));
    }

    if id.kind == IdentityKind::Person && f.has_scope("mitid") {
        c.insert("mitid.uuid".into(), json!(id.uuid.to_string()));
        if let Some(dob) = &id.date_of_birth {
            c.insert("mitid.date_of_birth".into(), json!(dob));
        }
        if let Some(age) = id.age() {
            // Claim values are strings at this broker (the .NET clients model them as such).
            c.insert("mitid.age".into(), json!(age.to_string()));
        }
        let name = if id.alias.is_some() && !f.public_service {
            SG_PROTECTED_NAME.to_string()
        } else {
            id.full_name()
        };
        c.insert("mitid.identity_name".into(), json!(name));
        c.insert(
            "mitid.has_cpr".into(),
            json!(if id.cpr.is_some() { "true" } else { "false" }),
        );
        c.insert(
            "mitid.transaction_id".into(),
            json!(derived_uuid(&["mitid-tx", &f.transaction_id.to_string()]).to_string()),
        );
    }
    if id.kind == IdentityKind::Person
        && f.has_scope("ssn")
        && let Some(cpr) = &id.cpr
    {
        c.insert("dk.cpr".into(), json!(cpr));
    }
    if id.kind == IdentityKind::Person && f.has_scope("nemid.pid") {
        // The MitID-era lookup of the legacy PID: allowed, and not a NemID login.
        match &id.legacy_pid {
            Some(pid) => {
                c.insert("nemid.pid".into(), json!(pid));
                c.insert("nemid.pid_status".into(), json!("success"));
            }
            None => {
                c.insert("nemid.pid_status".into(), json!("unable_to_lookup"));
            }
        }
    }
    if id.kind == IdentityKind::Professional && f.has_scope("nemlogin") {
        let mut put = |k: &str, v: Option<String>| {
            if let Some(v) = v {
                c.insert(format!("nemlogin.{k}"), json!(v));
            }
        };
        put(
            "persistent_professional_id",
            Some(format!("urn:uuid:{}", id.uuid)),
        );
        put("cvr", id.cvr.clone());
        put("org_name", id.org_name.clone());
        // "If the "nemlogin.alias" claim is set and contains the value "Pseudonym", then all
        // the name claims will be missing from the response" (idps/mitid-erhverv.md).
        if id.alias.as_deref() != Some(SG_PSEUDONYM) {
            put("name", Some(id.full_name()));
            put("given_name", Some(id.first_name.clone()));
            put("family_name", Some(id.last_name.clone()));
        }
        put("email", id.email.first().cloned());
        put("date_of_birth", id.date_of_birth.clone());
        put("nemid.rid", id.rid.clone());
        put("se_number", id.se_number.clone());
        put("p_number", id.production_unit.clone());
        put("alias", id.alias.clone());
        if f.public_service {
            put("cpr", id.cpr.clone());
        } else {
            put("cpr_uuid", id.cpr_uuid.map(|u| u.to_string()));
        }
        if !id.authorized_to_represent.is_empty() {
            put("auth_to_repr", Some(id.authorized_to_represent.join(",")));
        }
    }
}

fn idura_level(loa: Loa) -> &'static str {
    match loa {
        Loa::Low => "LOW",
        Loa::Substantial => "SUBSTANTIAL",
        Loa::High => "HIGH",
    }
}

fn idura_identity(f: &LoginFacts<'_>, c: &mut ClaimSet) {
    let id = f.identity;
    let method = IduraMethod::for_login(id.kind, f.loa);
    c.insert("identityscheme".into(), json!("dkmitid"));
    c.insert("authenticationtype".into(), json!(method.acr()));
    let ial = id.ial().max(f.loa);
    let auth_ms = f.auth_time.saturating_mul(1000);
    let kind = if f.loa == Loa::Low { "pwd" } else { "app" };
    c.insert(
        "authenticationmethod".into(),
        json!(format!(
            "{kind}:{auth_ms}:{}:{}:{}:{}",
            idura_level(f.loa),
            idura_level(ial),
            idura_level(f.loa),
            idura_level(f.loa)
        )),
    );
    let instant = time::OffsetDateTime::from_unix_timestamp(f.auth_time)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default();
    c.insert("authenticationinstant".into(), json!(instant));
    c.insert(
        "nameidentifier".into(),
        json!(
            derived_uuid(&["idura-nameid", f.issuer, &id.uuid.to_string()])
                .simple()
                .to_string()
        ),
    );
    c.insert("loA".into(), json!(idura_level(f.loa)));
    c.insert("ial".into(), json!(idura_level(ial)));
    c.insert("aal".into(), json!(idura_level(f.loa)));
    c.insert("fal".into(), json!(IDURA_FAL));
    c.insert("uuid".into(), json!(id.uuid.to_string()));
    c.insert("name".into(), json!(id.full_name()));
    match id.kind {
        IdentityKind::Person => {
            if let Some(dob) = &id.date_of_birth {
                c.insert("birthdate".into(), json!(dob));
                c.insert("dateofbirth".into(), json!(dob));
            }
            if let Some(age) = id.age() {
                c.insert("age".into(), json!(age.to_string()));
            }
            c.insert("country".into(), json!("DK"));
            if f.has_scope("ssn")
                && let Some(cpr) = &id.cpr
            {
                c.insert("cprNumberIdentifier".into(), json!(cpr));
            }
        }
        IdentityKind::Professional => {
            // "Employee logins will have an `employee` claim with value `true`. Company
            // signatory logins will have a `companySignatory` claim with value `true`"
            // (criipto/docs danish-mitid-erhverv.mdx; the sample payloads carry the string
            // "true"). The mock's professionals log in as employees; a signatory login is a
            // scenario's claim edit.
            c.insert("employee".into(), json!("true"));
            if let Some(cvr) = &id.cvr {
                c.insert("cvrNumberIdentifier".into(), json!(cvr));
            }
            if let Some(org) = &id.org_name {
                c.insert("2.5.4.10".into(), json!(org));
            }
            if let Some(rid) = &id.rid {
                c.insert("ridNumberIdentifier".into(), json!(rid));
            }
            if let Some(se) = &id.se_number {
                c.insert("seNumber".into(), json!(se));
            }
            if let Some(p) = &id.production_unit {
                c.insert("productionUnit".into(), json!(p));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::IdentityStore;

    fn facts<'a>(id: &'a TestIdentity, scopes: &'a [String], loa: Loa) -> LoginFacts<'a> {
        LoginFacts {
            identity: id,
            loa,
            scopes,
            client_id: "rp",
            public_service: false,
            issuer: "http://127.0.0.1:1/signaturgruppen/op",
            session_id: Uuid::nil(),
            transaction_id: Uuid::nil(),
            auth_time: 1_700_000_000,
        }
    }

    #[test]
    fn signaturgruppen_person() {
        let store = IdentityStore::builtin();
        let anna = store.get("anna").unwrap();
        let scopes: Vec<String> = ["openid", "mitid", "ssn"].map(String::from).to_vec();
        let c = userinfo_claims(
            Profile::Signaturgruppen,
            &facts(anna, &scopes, Loa::Substantial),
        );
        assert_eq!(c["idp"], "mitid");
        assert_eq!(c["identity_type"], "private");
        assert_eq!(
            c["loa"],
            "https://data.gov.dk/concept/core/nsis/Substantial"
        );
        assert_eq!(c["mitid.uuid"], anna.uuid.to_string());
        assert_eq!(c["dk.cpr"], anna.cpr.clone().unwrap());
        assert!(c.keys().all(|k| !k.starts_with("nemid.")));

        let no_ssn: Vec<String> = ["openid", "mitid"].map(String::from).to_vec();
        let c2 = userinfo_claims(
            Profile::Signaturgruppen,
            &facts(anna, &no_ssn, Loa::Substantial),
        );
        assert!(!c2.contains_key("dk.cpr"));
        assert_eq!(c["sub"], c2["sub"], "sub does not depend on scopes");
    }

    #[test]
    fn protected_name_and_professional() {
        let store = IdentityStore::builtin();
        let scopes: Vec<String> = ["openid", "mitid", "nemlogin"].map(String::from).to_vec();
        let p = store.get("protected").unwrap();
        let c = userinfo_claims(
            Profile::Signaturgruppen,
            &facts(p, &scopes, Loa::Substantial),
        );
        assert_eq!(c["mitid.identity_name"], SG_PROTECTED_NAME);
        let erik = store.get("erik-erhverv").unwrap();
        let c = userinfo_claims(
            Profile::Signaturgruppen,
            &facts(erik, &scopes, Loa::Substantial),
        );
        assert_eq!(c["idp"], "mitid_erhverv");
        assert_eq!(c["identity_type"], "professional");
        assert_eq!(c["nemlogin.cvr"], "99000001");
        assert_eq!(c["nemlogin.nemid.rid"], "90000001");
        assert!(!c.contains_key("mitid.uuid"));
    }

    #[test]
    fn idura_person_and_business() {
        let store = IdentityStore::builtin();
        let scopes: Vec<String> = ["openid", "ssn"].map(String::from).to_vec();
        let anna = store.get("anna").unwrap();
        let c = userinfo_claims(Profile::Idura, &facts(anna, &scopes, Loa::High));
        assert_eq!(c["identityscheme"], "dkmitid");
        assert_eq!(c["authenticationtype"], "urn:grn:authn:dk:mitid:high");
        assert_eq!(c["loA"], "HIGH");
        assert_eq!(c["cprNumberIdentifier"], anna.cpr.clone().unwrap());
        let sub = c["sub"].as_str().unwrap();
        assert!(sub.starts_with('{') && sub.ends_with('}'), "{sub}");
        let erik = store.get("erik-erhverv").unwrap();
        let c = userinfo_claims(Profile::Idura, &facts(erik, &scopes, Loa::Substantial));
        assert_eq!(c["authenticationtype"], "urn:grn:authn:dk:mitid:business");
        assert_eq!(c["cvrNumberIdentifier"], "99000001");
        assert_eq!(c["2.5.4.10"], "Mock Testorganisation ApS");
    }

    #[test]
    fn minimal_id_token_keeps_assurance_and_drops_attributes() {
        let store = IdentityStore::builtin();
        let anna = store.get("anna").unwrap();
        let scopes: Vec<String> = ["openid", "mitid", "ssn"].map(String::from).to_vec();
        let f = facts(anna, &scopes, Loa::Substantial);
        let full = id_token_identity_claims(Profile::Signaturgruppen, &f, false);
        let min = id_token_identity_claims(Profile::Signaturgruppen, &f, true);
        assert!(full.contains_key("dk.cpr") && full.contains_key("mitid.identity_name"));
        assert!(!min.contains_key("dk.cpr") && !min.contains_key("mitid.identity_name"));
        for k in [
            "sub",
            "idp",
            "identity_type",
            "loa",
            "ial",
            "aal",
            "amr",
            "neb_sid",
            "transaction_id",
            "session_expiry",
        ] {
            assert!(min.contains_key(k), "{k}");
        }
        for k in ["mitid.uuid", "mitid.date_of_birth", "mitid.has_cpr"] {
            assert!(!min.contains_key(k), "{k} belongs to userinfo");
        }
    }

    #[test]
    fn erhverv_loip_and_pseudonym() {
        let store = IdentityStore::builtin();
        let scopes: Vec<String> = ["openid", "nemlogin"].map(String::from).to_vec();
        let mut erik = store.get("erik-erhverv").unwrap().clone();
        let f = facts(&erik, &scopes, Loa::Substantial);
        let c = userinfo_claims(Profile::Signaturgruppen, &f);
        assert_eq!(c["loip"], "baseline");
        assert_eq!(c["nemlogin.name"], "Erik Mock-Erhverv");
        let min = id_token_identity_claims(Profile::Signaturgruppen, &f, true);
        assert_eq!(min["loip"], "baseline");
        assert!(!min.contains_key("nemlogin.persistent_professional_id"));
        erik.alias = Some(SG_PSEUDONYM.into());
        let c = userinfo_claims(
            Profile::Signaturgruppen,
            &facts(&erik, &scopes, Loa::Substantial),
        );
        assert_eq!(c["nemlogin.alias"], SG_PSEUDONYM);
        for k in [
            "nemlogin.name",
            "nemlogin.given_name",
            "nemlogin.family_name",
        ] {
            assert!(!c.contains_key(k), "{k} must be omitted for a Pseudonym");
        }
        assert!(c.contains_key("nemlogin.persistent_professional_id"));
    }

    #[test]
    fn idura_fal_and_employee() {
        let store = IdentityStore::builtin();
        let scopes: Vec<String> = vec!["openid".into()];
        let anna = store.get("anna").unwrap();
        let c = userinfo_claims(Profile::Idura, &facts(anna, &scopes, Loa::Substantial));
        assert_eq!(
            (c["loA"].as_str(), c["fal"].as_str()),
            (Some("SUBSTANTIAL"), Some("HIGH"))
        );
        assert!(!c.contains_key("employee") && !c.contains_key("companySignatory"));
        let erik = store.get("erik-erhverv").unwrap();
        let c = userinfo_claims(Profile::Idura, &facts(erik, &scopes, Loa::Substantial));
        assert_eq!(c["employee"], "true");
    }

    #[test]
    fn subjects_differ_per_client_at_signaturgruppen() {
        let store = IdentityStore::builtin();
        let anna = store.get("anna").unwrap();
        let s: Vec<String> = vec!["openid".into()];
        let a = facts(anna, &s, Loa::Substantial);
        let mut b = a.clone();
        b.client_id = "other";
        assert_ne!(
            subject(Profile::Signaturgruppen, &a),
            subject(Profile::Signaturgruppen, &b)
        );
        assert_eq!(subject(Profile::Idura, &a), subject(Profile::Idura, &b));
    }
}
