//! The dangerous API: the only code in the crate that produces invalid OIDC responses.
//!
//! Like rustls' `.dangerous()`, everything that breaks the protocol on purpose lives here and
//! is reached only through an [`OidcFaultPlan`] armed for exactly one login flow with
//! [`OidcProvider::arm`](super::OidcProvider::arm). The well-formed path signs through
//! `openidconnect`'s typed `IdToken`; this module writes compact JWS by hand so it can emit
//! what no library would (`alg: none`, `crit`, foreign keys, missing claims).
//!
//! A plan is data, so scenarios name faults in TOML:
//!
//! ```toml
//! faults = [
//!   { fault = "set-claim", claim = "idp", value = "nemid" },
//!   { fault = "key-confusion-hs256", encoding = "spki-pem" },
//! ]
//! ```
//!
//! How the issue's "must reject" list maps onto the vocabulary:
//!
//! | attack | fault |
//! |---|---|
//! | `idp=nemid`, `identityscheme=dknemid`, NemID acr/`authenticationtype`, NemID `amr`, `nemid.*` claims, `loa` Low | `set-claim` |
//! | `loa` missing, `iss`/`aud`/`sub`/`iat`/`nonce`/`exp` missing | `remove-claim` |
//! | `exp` null | `null-claim` |
//! | wrong `iss`/`aud`/`nonce` | `set-claim` |
//! | `iss` a prefix, substring, superstring or array of the real issuer | `iss-variant` |
//! | expired `exp`, `nbf` in the future, `iat` far in the future | `expired-exp`, `nbf-in-future`, `iat-in-future` |
//! | extra audience without `azp` | `extra-audience` |
//! | bad signature RS256/ES256/HS256 | `bad-signature` |
//! | `alg: none` | `alg-none` |
//! | RS256→HS256 with the public key as HMAC secret | `key-confusion-hs256` |
//! | HS256/384/512 MACed with a zero-length key | `hs-empty-key` |
//! | a JWE (encrypted to the RP's own public key) instead of a signed ID token | `jwe-id-token` |
//! | unknown `kid`, no `kid` | `unknown-kid`, `omit-kid` |
//! | `jku` / `x5u` / embedded `jwk` pointing at an attacker key | `jku-header`, `x5u-header`, `embedded-jwk` |
//! | unknown `crit` header | `unknown-crit` |
//! | signed with the OCES2-era key not in the JWKS | `sign-with-key` (`credential = "idp_oces2"`) |
//! | state wrong/missing, RFC 9207 `iss` wrong/missing | `state-wrong`, `state-missing`, `iss-param-wrong`, `iss-param-missing` |
//! | error from the authorization endpoint | `authorization-error` |
//! | authorization code replay | `code-replay` |
//! | userinfo `sub` differs from the ID token's | `userinfo-sub-mismatch` |
//! | userinfo about another person (its `sub` and claims) | `userinfo-other-identity` |

use super::claims::ClaimSet;
use super::config::SigningAlg;
use super::keys::{OidcKeys, SigningKey, b64url};
use crate::observed::Endpoint;
use aws_lc_rs::hmac;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::sync::Arc;

/// Path (below the server root) where the attacker's JWKS is served for `jku-header`.
pub const ATTACKER_JWKS_PATH: &str = "/_mock/oidc/attacker/jwks.json";
/// Path where the attacker's certificate (PEM) is served for `x5u-header`.
pub const ATTACKER_CERT_PATH: &str = "/_mock/oidc/attacker/cert.pem";

/// Which message a claim edit applies to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClaimTarget {
    /// The ID token and the userinfo response.
    #[default]
    Both,
    /// Only the ID token.
    IdToken,
    /// Only the userinfo response.
    Userinfo,
}

impl ClaimTarget {
    fn id_token(self) -> bool {
        matches!(self, ClaimTarget::Both | ClaimTarget::IdToken)
    }
    fn userinfo(self) -> bool {
        matches!(self, ClaimTarget::Both | ClaimTarget::Userinfo)
    }
}

/// Algorithm whose signature `bad-signature` corrupts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BadSignatureAlg {
    /// Signed with the issuer's active RSA key, then corrupted.
    RS256,
    /// Signed with the issuer's active P-256 key, then corrupted.
    ES256,
    /// HMAC with the client secret (OpenID RP test `invalid-sig-hs256`), then corrupted.
    HS256,
}

/// How the RSA public key is turned into an HMAC secret for `key-confusion-hs256`. Libraries
/// that fall for the confusion differ in which form they hand to HMAC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PublicKeyEncoding {
    /// `-----BEGIN PUBLIC KEY-----` PEM of the SPKI, LF line ends, trailing newline: what a
    /// JWK-to-PEM conversion produces.
    SpkiPem,
    /// `-----BEGIN RSA PUBLIC KEY-----` PEM of the PKCS#1 key, LF line ends, trailing newline.
    Pkcs1Pem,
    /// Raw DER of the SPKI.
    SpkiDer,
    /// Raw DER of the PKCS#1 `RSAPublicKey`.
    Pkcs1Der,
    /// The published JWK as compact JSON text.
    JwkJson,
    /// SPKI PEM with CRLF line ends (a key file written on Windows, or pasted into a config).
    SpkiPemCrlf,
    /// SPKI PEM with LF line ends but no newline after the END line.
    SpkiPemNoFinalNewline,
    /// SPKI PEM preceded by one space (an anchored "is this a PEM key?" guard misses it).
    SpkiPemLeadingSpace,
    /// PKCS#1 PEM with CRLF line ends.
    Pkcs1PemCrlf,
    /// The issuer's whole JWKS document, byte for byte as its `jwks_uri` serves it.
    JwksJson,
    /// SPKI PEM with CR-only line ends. PyJWT before 2.14.0 recognised a PEM key only when a
    /// `\r?\n` followed the BEGIN line, so this form, which `cryptography` still loads as an RSA
    /// key, passed its "is this an asymmetric key?" guard as an HMAC secret (CVE-2026-102268).
    SpkiPemCr,
    /// SPKI PEM on one line, without any line break (a key held in an environment variable
    /// whose newlines were stripped): PyJWT < 2.14.0 takes it as an HMAC secret, as above.
    SpkiPemOneLine,
    /// SPKI PEM after a comment line (`# …` and a newline, as in a key file that says where the
    /// key came from): a detector anchored at the first non-whitespace character misses the
    /// BEGIN line and treats the text as an HMAC secret (fast-jwt before 6.3.0,
    /// GHSA-ww5h-9m49-7xx4, the incomplete fix of CVE-2026-34950).
    SpkiPemCommentPrefix,
}

/// The comment line [`PublicKeyEncoding::SpkiPemCommentPrefix`] puts before the PEM.
pub const KEY_COMMENT_LINE: &str = "# mock issuer signing key (from jwks_uri)\n";

/// How `iss-variant` derives the token's `iss` from the issuer's real identifier (written
/// here as `<iss>`, e.g. `http://127.0.0.1:8080/signaturgruppen/op`). Each form separates one
/// comparison mistake from the exact string comparison OIDC Core §3.1.3.7 step 2 requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IssForm {
    /// `<iss>` without its last path segment (`http://127.0.0.1:8080/signaturgruppen`; an
    /// issuer with a one-segment path loses it): a substring *and* a prefix of the real issuer.
    Prefix,
    /// The host alone (`127.0.0.1`): a substring that is not a prefix.
    Substring,
    /// The empty string: a substring of every issuer.
    Empty,
    /// `<iss>/evil`: the real issuer is a prefix of it (a `startsWith` check passes).
    Superstring,
    /// `<iss>/`: one trailing slash more (a check that normalises URLs passes).
    TrailingSlash,
    /// `["https://attacker.example", "<iss>"]`: an array holding the real issuer.
    ArrayWithExpected,
    /// `["<iss>"]`: the real issuer, but as an array (RFC 7519 §4.1.1: a string).
    ArraySingle,
}

impl IssForm {
    /// The `iss` value this form makes of the real issuer identifier.
    pub fn apply(self, iss: &str) -> Value {
        match self {
            IssForm::Prefix => {
                let trimmed = iss.trim_end_matches('/');
                let authority_end = trimmed.find("://").map_or(0, |i| i + 3);
                match trimmed.rfind('/') {
                    Some(i) if i >= authority_end => json!(&trimmed[..i]),
                    // No path to shorten: drop the last character instead.
                    _ => {
                        let mut t = trimmed.to_string();
                        t.pop();
                        json!(t)
                    }
                }
            }
            IssForm::Substring => {
                let rest = iss.split_once("://").map_or(iss, |(_, r)| r);
                let authority = rest.split('/').next().unwrap_or(rest);
                let host = match authority.rsplit_once(':') {
                    Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h,
                    _ => authority,
                };
                json!(host)
            }
            IssForm::Empty => json!(""),
            IssForm::Superstring => json!(format!("{}/evil", iss.trim_end_matches('/'))),
            IssForm::TrailingSlash => json!(format!("{iss}/")),
            IssForm::ArrayWithExpected => json!([ATTACKER_ISSUER, iss]),
            IssForm::ArraySingle => json!([iss]),
        }
    }
}

/// The other issuer `iss-variant { form = "array-with-expected" }` lists first.
pub const ATTACKER_ISSUER: &str = "https://attacker.example";

/// HMAC algorithm of `hs-empty-key` and `hs-client-secret`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum HmacAlg {
    /// HMAC SHA-256.
    #[default]
    HS256,
    /// HMAC SHA-384.
    HS384,
    /// HMAC SHA-512.
    HS512,
}

impl HmacAlg {
    fn algorithm(self) -> hmac::Algorithm {
        match self {
            HmacAlg::HS256 => hmac::HMAC_SHA256,
            HmacAlg::HS384 => hmac::HMAC_SHA384,
            HmacAlg::HS512 => hmac::HMAC_SHA512,
        }
    }
    fn name(self) -> &'static str {
        match self {
            HmacAlg::HS256 => "HS256",
            HmacAlg::HS384 => "HS384",
            HmacAlg::HS512 => "HS512",
        }
    }
}

/// Which `kid` an `hs-empty-key` token carries: each reaches a different branch of an RP's
/// key lookup (none, a miss, an asymmetric JWK without `k`, an empty name).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EmptyKeyKid {
    /// No `kid` header.
    #[default]
    Absent,
    /// `kid = "mock-unknown-kid"`, in no JWKS.
    Unknown,
    /// The issuer's active RSA `kid` (a JWK with no symmetric `k`).
    Active,
    /// `kid = ""`.
    Empty,
}

/// Key-management algorithm of `jwe-id-token` (RFC 7518 §4.3): the content key is wrapped
/// with RSAES-OAEP to the RP's public key, anyone's to use. The content is always A256GCM.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum JweAlg {
    /// RSAES-OAEP with SHA-256 and MGF1-SHA-256.
    #[default]
    #[serde(rename = "RSA-OAEP-256")]
    RsaOaep256,
    /// RSAES-OAEP with SHA-1 and MGF1-SHA-1 (the older default of many JOSE libraries).
    #[serde(rename = "RSA-OAEP")]
    RsaOaep,
}

impl JweAlg {
    /// The `alg` header value.
    pub fn name(self) -> &'static str {
        match self {
            JweAlg::RsaOaep256 => "RSA-OAEP-256",
            JweAlg::RsaOaep => "RSA-OAEP",
        }
    }
    fn oaep(self) -> &'static aws_lc_rs::rsa::OaepAlgorithm {
        match self {
            JweAlg::RsaOaep256 => &aws_lc_rs::rsa::OAEP_SHA256_MGF1SHA256,
            JweAlg::RsaOaep => &aws_lc_rs::rsa::OAEP_SHA1_MGF1SHA1,
        }
    }
}

/// Which public key of the RP, from the `jwks` of its client registration, a `jwe-id-token`
/// is encrypted to. Both are public: the RP publishes them (or registers them with the broker)
/// so that anyone may encrypt to it and verify its client assertions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RpKeyChoice {
    /// The RP's RSA key with `use: enc` (registered for ID-token encryption).
    #[default]
    RpEnc,
    /// The RP's RSA signing key (`use: sig` or no `use`), the one it signs private_key_jwt
    /// client assertions with: libraries that hold "the RP's key pair" decrypt with it too.
    RpSig,
}

impl RpKeyChoice {
    fn wanted(self) -> &'static str {
        match self {
            RpKeyChoice::RpEnc => "an RSA key with \"use\": \"enc\"",
            RpKeyChoice::RpSig => "an RSA signing key (\"use\": \"sig\" or no \"use\")",
        }
    }
}

/// What a `jwe-id-token` carries inside.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum JwePayload {
    /// The claim set itself, no signature anywhere (jwcrypto CVE-2022-3102, json-jwt
    /// CVE-2023-51774).
    #[default]
    Claims,
    /// A nested JWT (`cty: JWT`): a JWS of the claims signed by the attacker key, so an RP that
    /// requires a nested signature but does not check its signer is separated from one that
    /// verifies it against the broker's JWKS.
    AttackerSigned,
    /// A nested unsecured JWT (`cty: JWT`, inner header `alg: none`, empty signature): an RP
    /// that verifies the inner token only when it is a JWS, and reads a `none` JWT as is, is
    /// separated from one that requires a verified JWS inside (pac4j-jwt CVE-2026-29000).
    UnsecuredJwt,
}

/// Which `kid` a token signed with a foreign key carries.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KidChoice {
    /// The foreign key's own `kid` (not in the JWKS).
    #[default]
    Own,
    /// The issuer's active `kid` for a key of the foreign key's type (RSA or EC): the token
    /// claims to be signed by the published key.
    Active,
    /// No `kid` header.
    None,
    /// This literal value.
    Literal(String),
}

/// One deliberate protocol violation. Serialized with a `fault` tag in kebab-case, e.g.
/// `{ fault = "remove-claim", claim = "loa" }`.
///
/// Variants without parameters are written `AlgNone {}` rather than `AlgNone`: serde ignores
/// unknown fields on unit variants of a tagged enum, and a misspelt parameter in a scenario
/// must be an error, not a silently different test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "fault", rename_all = "kebab-case", deny_unknown_fields)]
pub enum OidcFault {
    /// Set (add or replace) a claim.
    SetClaim {
        /// Claim name, e.g. `idp`, `nemid.pid`, `authenticationtype`.
        claim: String,
        /// Any JSON value.
        value: Value,
        /// ID token, userinfo or both (default).
        #[serde(default)]
        target: ClaimTarget,
    },
    /// Set a claim to JSON `null` (which TOML, and so `set-claim` in a scenario, cannot write).
    NullClaim {
        /// Claim name.
        claim: String,
        /// ID token, userinfo or both (default).
        #[serde(default)]
        target: ClaimTarget,
    },
    /// Remove a claim.
    RemoveClaim {
        /// Claim name.
        claim: String,
        /// ID token, userinfo or both (default).
        #[serde(default)]
        target: ClaimTarget,
    },
    /// `iss` derived from the issuer's real identifier (a prefix, substring, superstring or
    /// array of it; see [`IssForm`]), signed by the active key like every claim edit.
    IssVariant {
        /// Which derived form.
        form: IssForm,
    },
    /// `exp` in the past (and `iat` one lifetime before it).
    ExpiredExp {
        /// How long ago the token expired.
        #[serde(default = "ten_minutes")]
        seconds_ago: u64,
    },
    /// `nbf` in the future.
    NbfInFuture {
        /// How far ahead.
        #[serde(default = "ten_minutes")]
        seconds: u64,
    },
    /// `iat` far in the future (`exp` moves along so only `iat` is wrong).
    IatInFuture {
        /// How far ahead.
        #[serde(default = "one_day")]
        seconds: u64,
    },
    /// `aud` becomes `[client_id, audience]` and `azp` is removed (unless `keep_azp`).
    ExtraAudience {
        /// The untrusted extra audience.
        #[serde(default = "extra_audience")]
        audience: String,
        /// Keep `azp = client_id` (the legitimate multi-audience form).
        #[serde(default)]
        keep_azp: bool,
    },
    /// A corrupted signature.
    BadSignature {
        /// Which algorithm.
        alg: BadSignatureAlg,
    },
    /// `alg: none` with an empty signature.
    AlgNone {},
    /// RS256→HS256 confusion: HMAC keyed with the published RSA public key, `kid` of that key.
    KeyConfusionHs256 {
        /// Which byte form of the public key is the HMAC secret.
        encoding: PublicKeyEncoding,
    },
    /// `alg = HS256 | HS384 | HS512`, MACed with a zero-length key: what an RP computes when
    /// its HMAC key lookup yields nothing (no client secret, an unknown `kid`, an RSA JWK's
    /// missing `k`) and the HMAC primitive accepts an empty key.
    HsEmptyKey {
        /// The HMAC algorithm.
        #[serde(default)]
        alg: HmacAlg,
        /// Which `kid` the header carries.
        #[serde(default)]
        kid: EmptyKeyKid,
    },
    /// `alg = HS256 | HS384 | HS512`, a correct MAC keyed with the client's own
    /// `client_secret`, no `kid`, while discovery advertises only asymmetric algorithms: an RP
    /// that lets the header choose HMAC with its client secret as the key accepts a token that
    /// anyone who knows the secret can mint for any identity (MinIO CVE-2026-33322). The
    /// broker never signs ID tokens this way (no client registers `HS256`).
    HsClientSecret {
        /// The HMAC algorithm.
        #[serde(default)]
        alg: HmacAlg,
    },
    /// The ID token is a compact JWE (five parts) encrypted to a public key of the RP, whose
    /// plaintext is the claim set or a JWS signed by the attacker: the sign/encrypt confusion of
    /// JOSE libraries that let the token's shape choose between verifying and decrypting.
    JweIdToken {
        /// Key-management algorithm.
        #[serde(default)]
        alg: JweAlg,
        /// Which of the RP's registered keys.
        #[serde(default)]
        key: RpKeyChoice,
        /// Bare claims or a nested JWS by the attacker key.
        #[serde(default)]
        payload: JwePayload,
    },
    /// Valid signature by the active key, but an unknown `kid`.
    UnknownKid {
        /// The `kid` to put in the header.
        #[serde(default = "unknown_kid")]
        kid: String,
    },
    /// No `kid` header (accept when the JWKS has one key; reject or try all with several).
    OmitKid {},
    /// Sign with another mock credential, e.g. `idp_oces2` (OCES2-era key, never published)
    /// or `attacker`.
    SignWithKey {
        /// Mock PKI credential name.
        credential: String,
        /// Which `kid` the header carries.
        #[serde(default)]
        kid: KidChoice,
    },
    /// Signed by the attacker key, with a `jku` header pointing at a JWKS holding that key.
    JkuHeader {
        /// JWKS URL; defaults to the mock's own [`ATTACKER_JWKS_PATH`].
        #[serde(default)]
        url: Option<String>,
    },
    /// Signed by the attacker key, with an `x5u` header pointing at its certificate.
    X5uHeader {
        /// Certificate URL; defaults to the mock's own [`ATTACKER_CERT_PATH`].
        #[serde(default)]
        url: Option<String>,
    },
    /// Signed by the attacker key, which is embedded as the `jwk` header.
    EmbeddedJwk {},
    /// A `crit` header naming an extension no RP understands (RFC 7515 §4.1.11: reject).
    UnknownCrit {
        /// The extension header name.
        #[serde(default = "crit_name")]
        name: String,
    },
    /// The authorization response carries a different `state`.
    StateWrong {
        /// The value; defaults to the RP's state with a suffix.
        #[serde(default)]
        value: Option<String>,
    },
    /// The authorization response carries no `state`.
    StateMissing {},
    /// The authorization response's `iss` (RFC 9207) names another issuer (mix-up).
    IssParamWrong {
        /// The value; defaults to another configured issuer.
        #[serde(default)]
        value: Option<String>,
    },
    /// The authorization response has no `iss` although discovery promises it.
    IssParamMissing {},
    /// The authorization endpoint answers with an error instead of a code.
    AuthorizationError {
        /// OAuth error code.
        #[serde(default = "access_denied")]
        error: String,
        /// Optional description.
        #[serde(default)]
        error_description: Option<String>,
    },
    /// The authorization code may be redeemed twice.
    CodeReplay {},
    /// Userinfo returns another `sub` than the ID token.
    UserinfoSubMismatch {
        /// The `sub` to return; defaults to a fresh value.
        #[serde(default)]
        sub: Option<String>,
    },
    /// Userinfo answers about another person, consistently: that identity's `sub` and claims
    /// (its MitID UUID, CPR, name), as an access token from the victim's login would yield (the
    /// token substitution OIDC Core §16.11 warns of). With a minimal Signaturgruppen ID token
    /// every identity attribute comes from userinfo, so an RP that skips the §5.3.2 `sub`
    /// comparison logs the victim in.
    UserinfoOtherIdentity {
        /// The identity userinfo describes; it must exist and differ from the one logging in.
        identity: String,
    },
}

fn ten_minutes() -> u64 {
    600
}
fn one_day() -> u64 {
    86_400
}
fn extra_audience() -> String {
    "mock-untrusted-audience".into()
}
fn unknown_kid() -> String {
    "mock-unknown-kid".into()
}
fn crit_name() -> String {
    "x-mock-critical".into()
}
fn access_denied() -> String {
    "access_denied".into()
}

impl OidcFault {
    /// The fault's tag name (`set-claim`, ...), for messages.
    pub fn name(&self) -> &'static str {
        match self {
            OidcFault::SetClaim { .. } => "set-claim",
            OidcFault::NullClaim { .. } => "null-claim",
            OidcFault::RemoveClaim { .. } => "remove-claim",
            OidcFault::IssVariant { .. } => "iss-variant",
            OidcFault::ExpiredExp { .. } => "expired-exp",
            OidcFault::NbfInFuture { .. } => "nbf-in-future",
            OidcFault::IatInFuture { .. } => "iat-in-future",
            OidcFault::ExtraAudience { .. } => "extra-audience",
            OidcFault::BadSignature { .. } => "bad-signature",
            OidcFault::AlgNone {} => "alg-none",
            OidcFault::KeyConfusionHs256 { .. } => "key-confusion-hs256",
            OidcFault::HsEmptyKey { .. } => "hs-empty-key",
            OidcFault::HsClientSecret { .. } => "hs-client-secret",
            OidcFault::JweIdToken { .. } => "jwe-id-token",
            OidcFault::UnknownKid { .. } => "unknown-kid",
            OidcFault::OmitKid {} => "omit-kid",
            OidcFault::SignWithKey { .. } => "sign-with-key",
            OidcFault::JkuHeader { .. } => "jku-header",
            OidcFault::X5uHeader { .. } => "x5u-header",
            OidcFault::EmbeddedJwk {} => "embedded-jwk",
            OidcFault::UnknownCrit { .. } => "unknown-crit",
            OidcFault::StateWrong { .. } => "state-wrong",
            OidcFault::StateMissing {} => "state-missing",
            OidcFault::IssParamWrong { .. } => "iss-param-wrong",
            OidcFault::IssParamMissing {} => "iss-param-missing",
            OidcFault::AuthorizationError { .. } => "authorization-error",
            OidcFault::CodeReplay {} => "code-replay",
            OidcFault::UserinfoSubMismatch { .. } => "userinfo-sub-mismatch",
            OidcFault::UserinfoOtherIdentity { .. } => "userinfo-other-identity",
        }
    }

    /// The broker endpoints through which this fault reaches the RP (any one of them is
    /// enough): the authorization response travels through the browser the harness drives, so
    /// it always arrives; an ID-token fault arrives only if the RP redeems the code at the
    /// token endpoint; a userinfo fault only if the RP calls userinfo. The harness compares
    /// this with the flow's [`OidcFlowRecord::endpoints`](super::observed::OidcFlowRecord) and
    /// does not judge an RP on a fault it never received.
    pub fn delivered_by(&self) -> &'static [Endpoint] {
        match self {
            OidcFault::SetClaim { target, .. }
            | OidcFault::NullClaim { target, .. }
            | OidcFault::RemoveClaim { target, .. } => match target {
                ClaimTarget::Both => &[Endpoint::Token, Endpoint::Userinfo],
                ClaimTarget::IdToken => &[Endpoint::Token],
                ClaimTarget::Userinfo => &[Endpoint::Userinfo],
            },
            OidcFault::IssVariant { .. }
            | OidcFault::ExpiredExp { .. }
            | OidcFault::NbfInFuture { .. }
            | OidcFault::IatInFuture { .. }
            | OidcFault::ExtraAudience { .. }
            | OidcFault::BadSignature { .. }
            | OidcFault::AlgNone {}
            | OidcFault::KeyConfusionHs256 { .. }
            | OidcFault::HsEmptyKey { .. }
            | OidcFault::HsClientSecret { .. }
            | OidcFault::JweIdToken { .. }
            | OidcFault::UnknownKid { .. }
            | OidcFault::OmitKid {}
            | OidcFault::SignWithKey { .. }
            | OidcFault::JkuHeader { .. }
            | OidcFault::X5uHeader { .. }
            | OidcFault::EmbeddedJwk {}
            | OidcFault::UnknownCrit { .. } => &[Endpoint::Token],
            OidcFault::StateWrong { .. }
            | OidcFault::StateMissing {}
            | OidcFault::IssParamWrong { .. }
            | OidcFault::IssParamMissing {}
            | OidcFault::AuthorizationError { .. } => &[Endpoint::Authorize],
            // The code is redeemable twice; the RP meets that at the token endpoint.
            OidcFault::CodeReplay {} => &[Endpoint::Token],
            OidcFault::UserinfoSubMismatch { .. } | OidcFault::UserinfoOtherIdentity { .. } => {
                &[Endpoint::Userinfo]
            }
        }
    }

    /// Faults that choose who signs the ID token; a plan may hold at most one.
    fn replaces_signer(&self) -> bool {
        matches!(
            self,
            OidcFault::BadSignature { .. }
                | OidcFault::AlgNone {}
                | OidcFault::KeyConfusionHs256 { .. }
                | OidcFault::HsEmptyKey { .. }
                | OidcFault::HsClientSecret { .. }
                | OidcFault::JweIdToken { .. }
                | OidcFault::SignWithKey { .. }
                | OidcFault::JkuHeader { .. }
                | OidcFault::X5uHeader { .. }
                | OidcFault::EmbeddedJwk {}
        )
    }

    fn touches_id_token(&self) -> bool {
        match self {
            OidcFault::SetClaim { target, .. }
            | OidcFault::NullClaim { target, .. }
            | OidcFault::RemoveClaim { target, .. } => target.id_token(),
            OidcFault::StateWrong { .. }
            | OidcFault::StateMissing {}
            | OidcFault::IssParamWrong { .. }
            | OidcFault::IssParamMissing {}
            | OidcFault::AuthorizationError { .. }
            | OidcFault::CodeReplay {}
            | OidcFault::UserinfoSubMismatch { .. }
            | OidcFault::UserinfoOtherIdentity { .. } => false,
            _ => true,
        }
    }
}

/// A set of faults armed for one login flow. Empty means a well-formed flow.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcFaultPlan {
    /// The faults, applied in order (claim edits first to last, then header and signature).
    #[serde(default)]
    pub faults: Vec<OidcFault>,
}

/// Why a plan cannot be armed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FaultPlanError {
    /// Two faults contradict each other (two signers, wrong and missing state, ...).
    #[error("faults {0:?} and {1:?} cannot be combined in one plan")]
    Conflict(&'static str, &'static str),
    /// A claim edit with an empty claim name.
    #[error("fault {0:?} needs a non-empty claim name")]
    EmptyClaim(&'static str),
    /// A `sign-with-key` names a credential the provider did not load.
    #[error("fault sign-with-key names unknown mock credential {0:?}")]
    UnknownCredential(String),
    /// A `userinfo-other-identity` names an identity the broker does not have.
    #[error("fault userinfo-other-identity names unknown identity {0:?}")]
    UnknownIdentity(String),
}

impl OidcFaultPlan {
    /// A plan with these faults.
    pub fn new(faults: Vec<OidcFault>) -> Self {
        OidcFaultPlan { faults }
    }

    /// Structural checks that do not need the provider.
    pub fn validate(&self) -> Result<(), FaultPlanError> {
        let mut signer: Option<&'static str> = None;
        let mut state: Option<&'static str> = None;
        let mut iss: Option<&'static str> = None;
        let mut userinfo_sub: Option<&'static str> = None;
        for f in &self.faults {
            let slot = if f.replaces_signer() {
                Some(&mut signer)
            } else if matches!(f, OidcFault::StateWrong { .. } | OidcFault::StateMissing {}) {
                Some(&mut state)
            } else if matches!(
                f,
                OidcFault::IssParamWrong { .. } | OidcFault::IssParamMissing {}
            ) {
                Some(&mut iss)
            } else {
                None
            };
            let slot = if matches!(
                f,
                OidcFault::UserinfoSubMismatch { .. } | OidcFault::UserinfoOtherIdentity { .. }
            ) {
                // Both decide the userinfo subject.
                Some(&mut userinfo_sub)
            } else {
                slot
            };
            if let Some(slot) = slot {
                if let Some(prev) = slot {
                    return Err(FaultPlanError::Conflict(prev, f.name()));
                }
                *slot = Some(f.name());
            }
            if let OidcFault::SetClaim { claim, .. }
            | OidcFault::NullClaim { claim, .. }
            | OidcFault::RemoveClaim { claim, .. } = f
                && claim.is_empty()
            {
                return Err(FaultPlanError::EmptyClaim(f.name()));
            }
        }
        Ok(())
    }

    /// Credential names the plan signs with (checked against the loaded keys when arming).
    pub(crate) fn credentials(&self) -> impl Iterator<Item = &str> {
        self.faults.iter().filter_map(|f| match f {
            OidcFault::SignWithKey { credential, .. } => Some(credential.as_str()),
            _ => None,
        })
    }

    /// True when the ID token must take the dangerous path.
    pub(crate) fn touches_id_token(&self) -> bool {
        self.faults.iter().any(OidcFault::touches_id_token)
    }

    /// The error the authorization endpoint returns instead of a code, if any.
    pub(crate) fn authorization_error(&self) -> Option<(String, Option<String>)> {
        self.faults.iter().find_map(|f| match f {
            OidcFault::AuthorizationError {
                error,
                error_description,
            } => Some((error.clone(), error_description.clone())),
            _ => None,
        })
    }

    /// Whether the code may be redeemed twice.
    pub(crate) fn allows_code_replay(&self) -> bool {
        self.faults
            .iter()
            .any(|f| matches!(f, OidcFault::CodeReplay {}))
    }

    /// Rewrite the `state` and `iss` parameters of an authorization response.
    pub(crate) fn apply_authorization_response(
        &self,
        params: &mut Vec<(String, String)>,
        other_issuer: &str,
    ) {
        for f in &self.faults {
            match f {
                OidcFault::StateWrong { value } => {
                    let orig = take_param(params, "state").unwrap_or_default();
                    let v = value
                        .clone()
                        .unwrap_or_else(|| format!("{orig}-mock-wrong"));
                    params.push(("state".into(), v));
                }
                OidcFault::StateMissing {} => {
                    take_param(params, "state");
                }
                OidcFault::IssParamWrong { value } => {
                    take_param(params, "iss");
                    let v = value.clone().unwrap_or_else(|| other_issuer.to_string());
                    params.push(("iss".into(), v));
                }
                OidcFault::IssParamMissing {} => {
                    take_param(params, "iss");
                }
                _ => {}
            }
        }
    }

    /// The identity userinfo must describe instead of the one logging in
    /// (`userinfo-other-identity`); applied where the userinfo claims are built.
    pub(crate) fn userinfo_identity(&self) -> Option<&str> {
        self.faults.iter().find_map(|f| match f {
            OidcFault::UserinfoOtherIdentity { identity } => Some(identity.as_str()),
            _ => None,
        })
    }

    /// Apply userinfo claim edits and the `sub` mismatch.
    pub(crate) fn apply_userinfo(&self, claims: &mut ClaimSet) {
        for f in &self.faults {
            match f {
                OidcFault::SetClaim {
                    claim,
                    value,
                    target,
                } if target.userinfo() => {
                    claims.insert(claim.clone(), value.clone());
                }
                OidcFault::NullClaim { claim, target } if target.userinfo() => {
                    claims.insert(claim.clone(), Value::Null);
                }
                OidcFault::RemoveClaim { claim, target } if target.userinfo() => {
                    claims.remove(claim);
                }
                OidcFault::UserinfoSubMismatch { sub } => {
                    let orig = claims.get("sub").and_then(Value::as_str).unwrap_or("");
                    let v = sub.clone().unwrap_or_else(|| {
                        super::claims::derived_uuid(&["userinfo-sub-mismatch", orig]).to_string()
                    });
                    claims.insert("sub".into(), json!(v));
                }
                _ => {}
            }
        }
    }
}

fn take_param(params: &mut Vec<(String, String)>, name: &str) -> Option<String> {
    let i = params.iter().position(|(k, _)| k == name)?;
    Some(params.remove(i).1)
}

/// What forging an ID token needs from the provider.
#[derive(Debug)]
pub(crate) struct ForgeContext<'a> {
    /// The key the well-formed path would have used.
    pub active: Arc<SigningKey>,
    /// The issuer's active RSA and EC keys (for `bad-signature` and key confusion).
    pub active_rsa: Option<Arc<SigningKey>>,
    /// The issuer's active EC key.
    pub active_ec: Option<Arc<SigningKey>>,
    /// All loaded keys (for `sign-with-key` and the attacker key).
    pub keys: &'a OidcKeys,
    /// The issuer's JWKS document as served (for `key-confusion-hs256 { encoding =
    /// "jwks-json" }`).
    pub jwks_json: Arc<str>,
    /// The client's secret, the HS256 key of `bad-signature { alg = "HS256" }`.
    pub client_secret: Option<&'a str>,
    /// The client id (for `extra-audience`).
    pub client_id: &'a str,
    /// The client's registered public keys (`jwks`), the keys `jwe-id-token` encrypts to.
    pub client_jwks: Option<&'a Value>,
    /// Public base URL of the mock (for `jku`/`x5u` defaults).
    pub base_url: &'a str,
    /// Now, Unix seconds.
    pub now: i64,
    /// ID-token lifetime in seconds.
    pub lifetime: i64,
}

/// Why a forged token could not be produced (a configuration gap, never bad input).
#[derive(Debug, thiserror::Error)]
pub enum ForgeError {
    /// The plan needs a key the issuer or PKI does not have.
    #[error("fault {fault}: no {what} key available")]
    NoKey {
        /// Fault name.
        fault: &'static str,
        /// Which key.
        what: String,
    },
    /// Signing failed.
    #[error(transparent)]
    Key(#[from] super::keys::KeyError),
    /// `jwe-id-token` found no key of the RP to encrypt to: the RP registered none of that
    /// kind, so the fault cannot reach it (the flow record says so and the harness skips the
    /// step instead of judging the RP on an error response).
    #[error("fault jwe-id-token: the client registered no usable public key to encrypt to: {0}")]
    NoRpKey(String),
    /// `hs-client-secret` for a client without a secret (a private_key_jwt client): the fault
    /// cannot reach it, and the step is skipped as for [`ForgeError::NoRpKey`].
    #[error("fault hs-client-secret: {0}")]
    NoClientSecret(String),
    /// The crypto backend refused to encrypt.
    #[error("fault jwe-id-token: encryption failed")]
    Encrypt,
}

enum Signer {
    Key(Arc<SigningKey>),
    Hmac(hmac::Algorithm, Vec<u8>),
    Unsigned,
}

/// Produce the ID token for a flow whose plan touches it. `claims` is the complete, well-formed
/// claim set the normal path would have signed.
pub(crate) fn forge_id_token(
    ctx: &ForgeContext<'_>,
    mut claims: ClaimSet,
    plan: &OidcFaultPlan,
) -> Result<String, ForgeError> {
    let mut header = ClaimSet::new();
    header.insert("alg".into(), json!(ctx.active.alg().name()));
    header.insert("kid".into(), json!(ctx.active.kid()));
    let mut signer = Signer::Key(ctx.active.clone());
    let mut corrupt = false;
    let attacker = || {
        ctx.keys.get("attacker").ok_or(ForgeError::NoKey {
            fault: "attacker-key",
            what: "attacker".into(),
        })
    };

    for f in &plan.faults {
        match f {
            OidcFault::SetClaim {
                claim,
                value,
                target,
            } if target.id_token() => {
                claims.insert(claim.clone(), value.clone());
            }
            OidcFault::NullClaim { claim, target } if target.id_token() => {
                claims.insert(claim.clone(), Value::Null);
            }
            OidcFault::RemoveClaim { claim, target } if target.id_token() => {
                claims.remove(claim);
            }
            OidcFault::IssVariant { form } => {
                let iss = claims
                    .get("iss")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                claims.insert("iss".into(), form.apply(&iss));
            }
            OidcFault::ExpiredExp { seconds_ago } => {
                let exp = ctx.now - secs(*seconds_ago);
                claims.insert("exp".into(), json!(exp));
                claims.insert("iat".into(), json!(exp - ctx.lifetime));
            }
            OidcFault::NbfInFuture { seconds } => {
                claims.insert("nbf".into(), json!(ctx.now + secs(*seconds)));
            }
            OidcFault::IatInFuture { seconds } => {
                let iat = ctx.now + secs(*seconds);
                claims.insert("iat".into(), json!(iat));
                claims.insert("exp".into(), json!(iat + ctx.lifetime));
            }
            OidcFault::ExtraAudience { audience, keep_azp } => {
                claims.insert("aud".into(), json!([ctx.client_id, audience]));
                if *keep_azp {
                    claims.insert("azp".into(), json!(ctx.client_id));
                } else {
                    claims.remove("azp");
                }
            }
            OidcFault::BadSignature { alg } => {
                corrupt = true;
                match alg {
                    BadSignatureAlg::RS256 | BadSignatureAlg::ES256 => {
                        let k = if *alg == BadSignatureAlg::RS256 {
                            ctx.active_rsa.clone()
                        } else {
                            ctx.active_ec.clone()
                        };
                        let k = k.ok_or_else(|| ForgeError::NoKey {
                            fault: f.name(),
                            what: format!("{alg:?} issuer"),
                        })?;
                        header.insert("alg".into(), json!(k.alg().name()));
                        header.insert("kid".into(), json!(k.kid()));
                        signer = Signer::Key(k);
                    }
                    BadSignatureAlg::HS256 => {
                        let secret = ctx
                            .client_secret
                            .unwrap_or("mock-client-secret-for-hs256")
                            .as_bytes()
                            .to_vec();
                        header.insert("alg".into(), json!("HS256"));
                        header.remove("kid");
                        signer = Signer::Hmac(hmac::HMAC_SHA256, secret);
                    }
                }
            }
            OidcFault::AlgNone {} => {
                header.insert("alg".into(), json!("none"));
                header.remove("kid");
                signer = Signer::Unsigned;
            }
            OidcFault::KeyConfusionHs256 { encoding } => {
                let k = ctx.active_rsa.clone().ok_or_else(|| ForgeError::NoKey {
                    fault: f.name(),
                    what: "published RSA".into(),
                })?;
                header.insert("alg".into(), json!("HS256"));
                header.insert("kid".into(), json!(k.kid()));
                let secret = match encoding {
                    PublicKeyEncoding::JwksJson => ctx.jwks_json.as_bytes().to_vec(),
                    _ => public_key_bytes(&k, *encoding),
                };
                signer = Signer::Hmac(hmac::HMAC_SHA256, secret);
            }
            OidcFault::HsEmptyKey { alg, kid } => {
                header.insert("alg".into(), json!(alg.name()));
                match kid {
                    EmptyKeyKid::Absent => {
                        header.remove("kid");
                    }
                    EmptyKeyKid::Unknown => {
                        header.insert("kid".into(), json!(unknown_kid()));
                    }
                    EmptyKeyKid::Active => {
                        let k = ctx.active_rsa.clone().unwrap_or_else(|| ctx.active.clone());
                        header.insert("kid".into(), json!(k.kid()));
                    }
                    EmptyKeyKid::Empty => {
                        header.insert("kid".into(), json!(""));
                    }
                }
                signer = Signer::Hmac(alg.algorithm(), Vec::new());
            }
            OidcFault::HsClientSecret { alg } => {
                let secret = ctx.client_secret.ok_or_else(|| {
                    ForgeError::NoClientSecret(format!(
                        "client {:?} has no client_secret to MAC with",
                        ctx.client_id
                    ))
                })?;
                header.insert("alg".into(), json!(alg.name()));
                header.remove("kid");
                signer = Signer::Hmac(alg.algorithm(), secret.as_bytes().to_vec());
            }
            OidcFault::JweIdToken { payload, .. } => match payload {
                // The signer does not matter: only the claims go into the JWE.
                JwePayload::Claims => {}
                JwePayload::AttackerSigned => {
                    let k = attacker()?;
                    header.insert("alg".into(), json!(k.alg().name()));
                    header.insert("kid".into(), json!(k.kid()));
                    signer = Signer::Key(k);
                }
                JwePayload::UnsecuredJwt => {
                    header.insert("alg".into(), json!("none"));
                    header.remove("kid");
                    signer = Signer::Unsigned;
                }
            },
            OidcFault::SignWithKey { credential, kid } => {
                let k = ctx.keys.get(credential).ok_or_else(|| ForgeError::NoKey {
                    fault: f.name(),
                    what: credential.clone(),
                })?;
                header.insert("alg".into(), json!(k.alg().name()));
                match kid {
                    KidChoice::Own => {
                        header.insert("kid".into(), json!(k.kid()));
                    }
                    KidChoice::Active => {
                        // The issuer's active key of the foreign key's own type, so the RP
                        // must reject the token for its signature, not for an alg that does
                        // not fit the key (an ES256 issuer still publishes an active RSA key).
                        let same_type = match k.alg() {
                            SigningAlg::RS256 => ctx.active_rsa.clone(),
                            SigningAlg::ES256 => ctx.active_ec.clone(),
                        };
                        let active = same_type.unwrap_or_else(|| ctx.active.clone());
                        header.insert("kid".into(), json!(active.kid()));
                    }
                    KidChoice::None => {
                        header.remove("kid");
                    }
                    KidChoice::Literal(v) => {
                        header.insert("kid".into(), json!(v));
                    }
                }
                signer = Signer::Key(k);
            }
            OidcFault::JkuHeader { url } => {
                let k = attacker()?;
                header.insert("alg".into(), json!(k.alg().name()));
                header.insert("kid".into(), json!(k.kid()));
                let u = url
                    .clone()
                    .unwrap_or_else(|| format!("{}{ATTACKER_JWKS_PATH}", ctx.base_url));
                header.insert("jku".into(), json!(u));
                signer = Signer::Key(k);
            }
            OidcFault::X5uHeader { url } => {
                let k = attacker()?;
                header.insert("alg".into(), json!(k.alg().name()));
                header.remove("kid");
                let u = url
                    .clone()
                    .unwrap_or_else(|| format!("{}{ATTACKER_CERT_PATH}", ctx.base_url));
                header.insert("x5u".into(), json!(u));
                signer = Signer::Key(k);
            }
            OidcFault::EmbeddedJwk {} => {
                let k = attacker()?;
                header.insert("alg".into(), json!(k.alg().name()));
                header.insert("kid".into(), json!(k.kid()));
                header.insert("jwk".into(), k.public_jwk_json());
                signer = Signer::Key(k);
            }
            _ => {}
        }
    }
    // Header tweaks apply after the signer is chosen, whichever it is.
    for f in &plan.faults {
        match f {
            OidcFault::UnknownKid { kid } => {
                header.insert("kid".into(), json!(kid));
            }
            OidcFault::OmitKid {} => {
                header.remove("kid");
            }
            OidcFault::UnknownCrit { name } => {
                header.insert("crit".into(), json!([name]));
                header.insert(name.clone(), json!(true));
            }
            _ => {}
        }
    }

    let claims_json = Value::Object(claims).to_string();
    let input = format!(
        "{}.{}",
        b64url(Value::Object(header).to_string()),
        b64url(&claims_json)
    );
    let mut sig = match &signer {
        Signer::Key(k) => k.sign(input.as_bytes())?,
        Signer::Hmac(alg, secret) => {
            let key = hmac::Key::new(*alg, secret);
            hmac::sign(&key, input.as_bytes()).as_ref().to_vec()
        }
        Signer::Unsigned => vec![],
    };
    if corrupt && !sig.is_empty() {
        let mid = sig.len() / 2;
        sig[mid] ^= 0x5a;
    }
    let jws = format!("{input}.{}", b64url(sig));
    let jwe = plan.faults.iter().find_map(|f| match f {
        OidcFault::JweIdToken { alg, key, payload } => Some((*alg, *key, *payload)),
        _ => None,
    });
    match jwe {
        None => Ok(jws),
        Some((alg, key, payload)) => {
            let rp_key = rp_public_key(ctx.client_jwks, key).ok_or_else(|| {
                ForgeError::NoRpKey(format!(
                    "client {:?} has no {} in its jwks",
                    ctx.client_id,
                    key.wanted()
                ))
            })?;
            let (plaintext, nested) = match payload {
                JwePayload::Claims => (claims_json, false),
                JwePayload::AttackerSigned | JwePayload::UnsecuredJwt => (jws, true),
            };
            encrypt_compact(alg, &rp_key, nested, plaintext.as_bytes())
        }
    }
}

/// An RSA public key of the RP, from its registered JWKS.
#[derive(Debug, Clone)]
pub(crate) struct RpPublicKey {
    kid: Option<String>,
    n: Vec<u8>,
    e: Vec<u8>,
}

/// The first RSA key of the client's JWKS that fits `choice` (by its `use`), or `None`.
pub(crate) fn rp_public_key(jwks: Option<&Value>, choice: RpKeyChoice) -> Option<RpPublicKey> {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    jwks?
        .get("keys")?
        .as_array()?
        .iter()
        .filter(|k| k.get("kty").and_then(Value::as_str) == Some("RSA"))
        .filter(|k| {
            let usage = k.get("use").and_then(Value::as_str);
            match choice {
                RpKeyChoice::RpEnc => usage == Some("enc"),
                RpKeyChoice::RpSig => matches!(usage, None | Some("sig")),
            }
        })
        .find_map(|k| {
            let field = |f: &str| b64.decode(k.get(f)?.as_str()?).ok();
            Some(RpPublicKey {
                kid: k.get("kid").and_then(Value::as_str).map(str::to_string),
                n: field("n")?,
                e: field("e")?,
            })
        })
}

/// A compact JWE (RFC 7516 §7.1): the protected header, the A256GCM content key wrapped with
/// RSAES-OAEP to `key`, a random 96-bit IV, the ciphertext and the 128-bit tag, with the
/// encoded header as the additional authenticated data. `nested` sets `cty: JWT` (RFC 7519
/// §5.2), as for a signed-then-encrypted token.
pub(crate) fn encrypt_compact(
    alg: JweAlg,
    key: &RpPublicKey,
    nested: bool,
    plaintext: &[u8],
) -> Result<String, ForgeError> {
    use crate::pki::der;
    use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
    use aws_lc_rs::rsa::{OaepPublicEncryptingKey, PublicEncryptingKey};
    let mut header = ClaimSet::new();
    header.insert("alg".into(), json!(alg.name()));
    header.insert("enc".into(), json!("A256GCM"));
    if let Some(kid) = &key.kid {
        header.insert("kid".into(), json!(kid));
    }
    if nested {
        header.insert("cty".into(), json!("JWT"));
    }
    let protected = b64url(Value::Object(header).to_string());
    // SubjectPublicKeyInfo { rsaEncryption, NULL } around RSAPublicKey { n, e }.
    let rsa_public_key = der::seq(&[&der::uint(&key.n), &der::uint(&key.e)]);
    let spki = der::seq(&[
        &der::seq(&[&der::oid(&[1, 2, 840, 113_549, 1, 1, 1]), &der::null()]),
        &der::bit_string(&rsa_public_key),
    ]);
    let public = PublicEncryptingKey::from_der(&spki)
        .map_err(|_| ForgeError::NoRpKey("the RP's RSA key is not usable (too small?)".into()))?;
    let oaep = OaepPublicEncryptingKey::new(public).map_err(|_| ForgeError::Encrypt)?;
    let mut cek = [0u8; 32];
    let mut iv = [0u8; 12];
    aws_lc_rs::rand::fill(&mut cek).map_err(|_| ForgeError::Encrypt)?;
    aws_lc_rs::rand::fill(&mut iv).map_err(|_| ForgeError::Encrypt)?;
    let mut wrapped = vec![0u8; oaep.ciphertext_size()];
    let wrapped = oaep
        .encrypt(alg.oaep(), &cek, &mut wrapped, None)
        .map_err(|_| ForgeError::Encrypt)?
        .to_vec();
    let content_key =
        LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &cek).map_err(|_| ForgeError::Encrypt)?);
    let mut ciphertext = plaintext.to_vec();
    let tag = content_key
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(iv),
            Aad::from(protected.as_bytes()),
            &mut ciphertext,
        )
        .map_err(|_| ForgeError::Encrypt)?;
    Ok(format!(
        "{protected}.{}.{}.{}.{}",
        b64url(wrapped),
        b64url(iv),
        b64url(ciphertext),
        b64url(tag.as_ref())
    ))
}

fn secs(s: u64) -> i64 {
    i64::try_from(s).unwrap_or(i64::MAX / 4).min(i64::MAX / 4)
}

/// The byte form of a public key that a confused RP would use as the HMAC secret
/// ([`PublicKeyEncoding::JwksJson`] is the issuer's document, not one key's: here it yields
/// the single-key JWKS `{"keys":[<jwk>]}`; the ID-token forger uses the served document).
pub fn public_key_bytes(key: &SigningKey, encoding: PublicKeyEncoding) -> Vec<u8> {
    let pkcs1 = || key.pkcs1_der().unwrap_or(key.spki_der());
    match encoding {
        PublicKeyEncoding::SpkiPemCrlf => pem_lf("PUBLIC KEY", key.spki_der())
            .replace('\n', "\r\n")
            .into_bytes(),
        PublicKeyEncoding::SpkiPemNoFinalNewline => pem_lf("PUBLIC KEY", key.spki_der())
            .trim_end_matches('\n')
            .as_bytes()
            .to_vec(),
        PublicKeyEncoding::SpkiPemLeadingSpace => {
            format!(" {}", pem_lf("PUBLIC KEY", key.spki_der())).into_bytes()
        }
        PublicKeyEncoding::Pkcs1PemCrlf => pem_lf("RSA PUBLIC KEY", pkcs1())
            .replace('\n', "\r\n")
            .into_bytes(),
        PublicKeyEncoding::JwksJson => json!({ "keys": [key.public_jwk_json()] })
            .to_string()
            .into_bytes(),
        PublicKeyEncoding::SpkiPemCr => pem_lf("PUBLIC KEY", key.spki_der())
            .replace('\n', "\r")
            .into_bytes(),
        PublicKeyEncoding::SpkiPemOneLine => pem_lf("PUBLIC KEY", key.spki_der())
            .replace('\n', "")
            .into_bytes(),
        PublicKeyEncoding::SpkiPemCommentPrefix => {
            format!("{KEY_COMMENT_LINE}{}", pem_lf("PUBLIC KEY", key.spki_der())).into_bytes()
        }
        PublicKeyEncoding::SpkiPem => pem_lf("PUBLIC KEY", key.spki_der()).into_bytes(),
        PublicKeyEncoding::Pkcs1Pem => {
            pem_lf("RSA PUBLIC KEY", key.pkcs1_der().unwrap_or(key.spki_der())).into_bytes()
        }
        PublicKeyEncoding::SpkiDer => key.spki_der().to_vec(),
        PublicKeyEncoding::Pkcs1Der => key.pkcs1_der().unwrap_or(key.spki_der()).to_vec(),
        PublicKeyEncoding::JwkJson => key.public_jwk_json().to_string().into_bytes(),
    }
}

/// PEM with 64-column lines, LF endings and a trailing newline.
pub(crate) fn pem_lf(label: &str, der: &[u8]) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// The attacker's JWKS document (served for `jku-header`).
pub(crate) fn attacker_jwks(keys: &OidcKeys) -> Option<String> {
    let k = keys.get("attacker")?;
    Some(json!({ "keys": [k.public_jwk_json()] }).to_string())
}

/// The attacker's certificate as PEM (served for `x5u-header`).
pub(crate) fn attacker_cert_pem(keys: &OidcKeys) -> Option<String> {
    let k = keys.get("attacker")?;
    Some(pem_lf("CERTIFICATE", k.cert_der()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_names_faults() {
        let plan: OidcFaultPlan = toml::from_str(
            r#"
faults = [
  { fault = "set-claim", claim = "idp", value = "nemid" },
  { fault = "remove-claim", claim = "loa", target = "id-token" },
  { fault = "key-confusion-hs256", encoding = "pkcs1-pem" },
  { fault = "sign-with-key", credential = "idp_oces2", kid = "active" },
  { fault = "alg-none" },
]
"#,
        )
        .unwrap();
        assert_eq!(
            plan.faults[0],
            OidcFault::SetClaim {
                claim: "idp".into(),
                value: json!("nemid"),
                target: ClaimTarget::Both
            }
        );
        assert_eq!(
            plan.validate(),
            Err(FaultPlanError::Conflict(
                "key-confusion-hs256",
                "sign-with-key"
            ))
        );
        let e = toml::from_str::<OidcFaultPlan>("faults = [{ fault = \"no-such\" }]").unwrap_err();
        assert!(e.to_string().contains("no-such"), "{e}");
        let e = toml::from_str::<OidcFaultPlan>("faults = [{ fault = \"omit-kid\", x = 1 }]")
            .unwrap_err();
        assert!(e.to_string().contains('x'), "{e}");
        let json_plan: OidcFaultPlan = serde_json::from_str(
            r#"{"faults":[{"fault":"state-missing"},{"fault":"code-replay"}]}"#,
        )
        .unwrap();
        assert!(json_plan.validate().is_ok());
        assert!(!json_plan.touches_id_token());
        assert!(json_plan.allows_code_replay());
    }

    #[test]
    fn authorization_response_edits() {
        let plan = OidcFaultPlan::new(vec![
            OidcFault::StateWrong { value: None },
            OidcFault::IssParamWrong { value: None },
        ]);
        let mut p = vec![
            ("code".to_string(), "c".to_string()),
            ("state".to_string(), "s1".to_string()),
            ("iss".to_string(), "https://a".to_string()),
        ];
        plan.apply_authorization_response(&mut p, "https://b");
        assert!(p.contains(&("state".into(), "s1-mock-wrong".into())));
        assert!(p.contains(&("iss".into(), "https://b".into())));
        let plan = OidcFaultPlan::new(vec![
            OidcFault::StateMissing {},
            OidcFault::IssParamMissing {},
        ]);
        plan.apply_authorization_response(&mut p, "https://b");
        assert_eq!(p, vec![("code".to_string(), "c".to_string())]);
    }

    #[test]
    fn iss_forms() {
        let sg = "http://127.0.0.1:8080/signaturgruppen/op";
        let idura = "http://127.0.0.1:8080/idura";
        let f = |form: IssForm, iss: &str| form.apply(iss);
        assert_eq!(
            f(IssForm::Prefix, sg),
            json!("http://127.0.0.1:8080/signaturgruppen")
        );
        assert_eq!(f(IssForm::Prefix, idura), json!("http://127.0.0.1:8080"));
        assert_eq!(
            f(IssForm::Prefix, "https://a.example"),
            json!("https://a.exampl")
        );
        assert_eq!(f(IssForm::Substring, sg), json!("127.0.0.1"));
        assert_eq!(
            f(IssForm::Substring, "https://a.example/x"),
            json!("a.example")
        );
        assert_eq!(f(IssForm::Empty, sg), json!(""));
        assert_eq!(f(IssForm::Superstring, sg), json!(format!("{sg}/evil")));
        assert_eq!(f(IssForm::TrailingSlash, idura), json!(format!("{idura}/")));
        assert_eq!(
            f(IssForm::ArrayWithExpected, sg),
            json!(["https://attacker.example", sg])
        );
        assert_eq!(f(IssForm::ArraySingle, sg), json!([sg]));
        for form in [IssForm::Prefix, IssForm::Substring, IssForm::Empty] {
            let v = f(form, sg);
            let v = v.as_str().unwrap();
            assert!(sg.contains(v) && v != sg, "{form:?}");
        }
        let plan: OidcFaultPlan =
            toml::from_str(r#"faults = [{ fault = "iss-variant", form = "array-with-expected" }]"#)
                .unwrap();
        assert!(plan.touches_id_token());
    }

    #[test]
    fn empty_key_tokens_verify_with_an_empty_key() {
        let plan: OidcFaultPlan = toml::from_str(
            r#"faults = [{ fault = "hs-empty-key", alg = "HS512", kid = "active" }]"#,
        )
        .unwrap();
        assert_eq!(
            plan.faults[0],
            OidcFault::HsEmptyKey {
                alg: HmacAlg::HS512,
                kid: EmptyKeyKid::Active
            }
        );
        assert!(plan.validate().is_ok() && plan.touches_id_token());
        let key = hmac::Key::new(HmacAlg::HS384.algorithm(), &[]);
        let tag = hmac::sign(&key, b"a.b");
        assert_eq!(tag.as_ref().len(), 48);
        assert!(hmac::verify(&key, b"a.b", tag.as_ref()).is_ok());
    }

    #[test]
    fn jwe_to_the_rp_key_decrypts_with_its_private_half() {
        use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
        use aws_lc_rs::encoding::AsDer;
        use aws_lc_rs::rsa::{KeyPair, KeySize, OaepPrivateDecryptingKey, PrivateDecryptingKey};
        use aws_lc_rs::signature::KeyPair as _;
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let pair = KeyPair::generate(KeySize::Rsa2048).unwrap();
        let public = pair.public_key();
        let (n, e) = (
            b64.encode(public.modulus().big_endian_without_leading_zero()),
            b64.encode(public.exponent().big_endian_without_leading_zero()),
        );
        let jwks = json!({"keys": [
            {"kty": "EC", "use": "enc", "crv": "P-256", "x": "AA", "y": "AA"},
            {"kty": "RSA", "use": "enc", "kid": "rp-enc", "n": n, "e": e},
        ]});
        // Only an enc key: `rp-sig` finds nothing, so the fault cannot be built.
        assert!(rp_public_key(Some(&jwks), RpKeyChoice::RpSig).is_none());
        assert!(rp_public_key(None, RpKeyChoice::RpEnc).is_none());
        let key = rp_public_key(Some(&jwks), RpKeyChoice::RpEnc).unwrap();
        let private = OaepPrivateDecryptingKey::new(
            PrivateDecryptingKey::from_pkcs8(pair.as_der().unwrap().as_ref()).unwrap(),
        )
        .unwrap();
        for (alg, nested) in [(JweAlg::RsaOaep256, false), (JweAlg::RsaOaep, true)] {
            let token = encrypt_compact(alg, &key, nested, br#"{"sub":"victim"}"#).unwrap();
            let p: Vec<&str> = token.split('.').collect();
            assert_eq!(p.len(), 5);
            let header: Value = serde_json::from_slice(&b64.decode(p[0]).unwrap()).unwrap();
            assert_eq!(header["alg"], alg.name());
            assert_eq!(header["enc"], "A256GCM");
            assert_eq!(header["kid"], "rp-enc");
            assert_eq!(header.get("cty").is_some(), nested);
            let wrapped = b64.decode(p[1]).unwrap();
            let mut cek = vec![0u8; private.min_output_size()];
            let cek = private
                .decrypt(alg.oaep(), &wrapped, &mut cek, None)
                .unwrap();
            assert_eq!(cek.len(), 32);
            let iv: [u8; 12] = b64.decode(p[2]).unwrap().try_into().unwrap();
            let mut sealed = b64.decode(p[3]).unwrap();
            sealed.extend(b64.decode(p[4]).unwrap());
            let k = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, cek).unwrap());
            let plain = k
                .open_in_place(
                    Nonce::assume_unique_for_key(iv),
                    Aad::from(p[0].as_bytes()),
                    &mut sealed,
                )
                .unwrap();
            assert_eq!(plain, br#"{"sub":"victim"}"#);
        }
        let plan: OidcFaultPlan = toml::from_str(
            r#"faults = [{ fault = "jwe-id-token", alg = "RSA-OAEP", key = "rp-sig", payload = "attacker-signed" }]"#,
        )
        .unwrap();
        assert_eq!(
            plan.faults[0],
            OidcFault::JweIdToken {
                alg: JweAlg::RsaOaep,
                key: RpKeyChoice::RpSig,
                payload: JwePayload::AttackerSigned
            }
        );
        assert!(plan.validate().is_ok() && plan.touches_id_token());
        let two = OidcFaultPlan::new(vec![plan.faults[0].clone(), OidcFault::AlgNone {}]);
        assert!(two.validate().is_err());
    }

    #[test]
    fn pem_shape() {
        let p = pem_lf("PUBLIC KEY", &[7u8; 100]);
        assert!(p.starts_with("-----BEGIN PUBLIC KEY-----\n"));
        assert!(p.ends_with("-----END PUBLIC KEY-----\n"));
        assert!(!p.contains('\r'));
        assert!(p.lines().all(|l| l.len() <= 64));
    }
}
