//! The deliberate weaknesses a reference RP can be started with.
//!
//! An OIDC scenario is only worth having if some plausible RP bug makes it fail; a flaw is that
//! bug, switched on. Most flaws skip exactly one check of the strict RP; a few model the
//! opposite mistake (an RP that is too strict or reads the wrong claim), so the *accept*
//! scenarios have something to catch too. The integration test `oidc_discrimination` holds the
//! table "flaw → scenarios it fails" and checks it against real runs.
//!
//! Adding a flaw: add a variant (its doc comment is the realistic bug it models), list it in
//! [`RpFlaw::ALL`], and test `state.has(RpFlaw::X)` at the one place where the check lives.

use serde::{Deserialize, Serialize};

/// Byte forms of an RSA public key that a key-confused RP may hand to HMAC as the secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeyBytes {
    /// `-----BEGIN PUBLIC KEY-----` PEM (SPKI), as a JWK-to-PEM helper produces it.
    SpkiPem,
    /// `-----BEGIN RSA PUBLIC KEY-----` PEM (PKCS#1).
    Pkcs1Pem,
    /// DER of the SPKI.
    SpkiDer,
    /// DER of the PKCS#1 `RSAPublicKey`.
    Pkcs1Der,
    /// The JWK as compact JSON text.
    JwkJson,
    /// SPKI PEM with CRLF line ends: the key as the operator pasted it into a config file.
    SpkiPemCrlf,
    /// SPKI PEM without the final newline (a config value trimmed of trailing whitespace).
    SpkiPemNoFinalNewline,
    /// SPKI PEM preceded by a space (a config value with leading whitespace).
    SpkiPemLeadingSpace,
    /// PKCS#1 PEM with CRLF line ends.
    Pkcs1PemCrlf,
    /// The provider's whole JWKS document, the response body of `jwks_uri` as fetched.
    JwksJson,
    /// SPKI PEM with CR-only line ends (PyJWT < 2.14.0 took it for an HMAC secret).
    SpkiPemCr,
    /// SPKI PEM on one line (a key in an environment variable, newlines stripped; PyJWT <
    /// 2.14.0 likewise).
    SpkiPemOneLine,
    /// SPKI PEM after a `# …` comment line (fast-jwt < 6.3.0, GHSA-ww5h-9m49-7xx4).
    SpkiPemCommentPrefix,
}

impl KeyBytes {
    /// Every encoding.
    pub const ALL: [KeyBytes; 13] = [
        KeyBytes::SpkiPem,
        KeyBytes::Pkcs1Pem,
        KeyBytes::SpkiDer,
        KeyBytes::Pkcs1Der,
        KeyBytes::JwkJson,
        KeyBytes::SpkiPemCrlf,
        KeyBytes::SpkiPemNoFinalNewline,
        KeyBytes::SpkiPemLeadingSpace,
        KeyBytes::Pkcs1PemCrlf,
        KeyBytes::JwksJson,
        KeyBytes::SpkiPemCr,
        KeyBytes::SpkiPemOneLine,
        KeyBytes::SpkiPemCommentPrefix,
    ];
}

/// One switchable weakness of the reference RP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RpFlaw {
    // --- identity and MitID profile ---------------------------------------------------------
    /// Keys users by the broker's `sub` instead of the MitID UUID / professional UUID. Both
    /// brokers issue their own subjects (Signaturgruppen scopes them per organisation), so the
    /// same person becomes someone else after a broker change.
    KeyBySub,
    /// Compares the LoA with `==` instead of `>=`: a High login at a Substantial service fails.
    ExactLoa,
    /// Knows only the private-person values (`idp=mitid`, Idura's person acr values), so every
    /// MitID Erhverv login is refused.
    PersonOnly,
    /// Refuses every `nemid.*` claim, including the MitID-era `nemid.pid` lookup result.
    RejectAnyNemidClaim,
    /// Accepts `idp=nemid` (a NemID login through the pre-2024 Signaturgruppen broker).
    AcceptNemidIdp,
    /// Accepts NemID identity claims (`nemid.ssn`, `nemid.rid`, `nemid.dn`, ...).
    AcceptNemidClaims,
    /// Accepts NemID `amr` values (`nemid.otp`, `nemid.keyfile`).
    AcceptNemidAmr,
    /// Never looks at the assurance level (Signaturgruppen `loa`, Idura `authenticationtype`).
    IgnoreLoa,
    /// Accepts Idura's `identityscheme=dknemid`.
    AcceptDknemid,
    /// Accepts Idura's NemID login methods (`urn:grn:authn:dk:nemid:*`) as Substantial.
    AcceptNemidAcr,
    /// Refuses a login without a name claim (`mitid.identity_name`, `nemlogin.name`, Idura
    /// `name`): user provisioning that needs a display name. Signaturgruppen omits every name
    /// claim of a MitID Erhverv identity whose `nemlogin.alias` is "Pseudonym".
    RequireName,
    /// Takes only `employee = "true"` as an Idura business login and refuses company
    /// signatories (`companySignatory = "true"`), the role a test organisation's admin rarely
    /// sets up.
    EmployeeOnly,
    /// Accepts an Idura business login (`urn:grn:authn:dk:mitid:business`) on the login method
    /// alone, without an `employee` or `companySignatory` role: Idura documents that private
    /// logins carry neither.
    BusinessWithoutRole,
    // --- JWS --------------------------------------------------------------------------------
    /// Decodes the ID token without selecting a key or verifying the signature ("it came over
    /// TLS from the token endpoint").
    SkipSignature,
    /// Accepts `alg: none` tokens unverified.
    AcceptAlgNone,
    /// Verifies `HS256` tokens with the RSA JWK named by `kid`, turned into these bytes, as
    /// the HMAC secret (the RS256→HS256 key-confusion bug of JWT libraries that take "a key").
    HsKeyConfusion(KeyBytes),
    /// Accepts HS256/HS384/HS512 ID tokens and looks the HMAC key up by `kid` in a table of
    /// symmetric keys that is empty for this client; a miss yields `""` and the HMAC primitive
    /// accepts the zero-length key, so a MAC anyone can compute verifies (node-jws < 3.2.3,
    /// CVE-2025-65945; fast-jwt, ruby-jwt, PyJWT, python-jose, Authlib, joserfc: the
    /// empty-HMAC-key family in docs/advisories.md, O1).
    EmptyHmacKey,
    /// Lets the header choose HS256/HS384/HS512 and verifies the MAC with the client's own
    /// `client_secret`, whatever discovery advertises: anyone who knows the secret (every
    /// deployment of the RP, a leaked configuration) mints ID tokens for any identity (MinIO
    /// CVE-2026-33322: the token's `alg` chose the algorithm, HS* keyed with the client
    /// secret).
    HmacWithClientSecret,
    /// Lets the token's shape choose between JWS and JWE: a five-part ID token is decrypted with
    /// the RP's own private keys (the whole key set, the `kid` picking one whatever its `use`)
    /// and its plaintext trusted as the claim set, although anyone can encrypt to the RP's
    /// public key (jwcrypto < 1.4, CVE-2022-3102: `JWT(jwt=token, key=keyset)` decrypted a JWE
    /// when the key set could; json-jwt < 1.16.6, CVE-2023-51774: `JSON::JWT.decode` decoded
    /// JWS and JWE alike). A nested JWS inside is not a claim set and is refused.
    AcceptUnsignedJwe,
    /// Opens a five-part ID token as a nested JWT (sign, then encrypt: RFC 7519 §11.2, OIDC
    /// Core §10.2) and requires a JWS inside, but reads the inner JWS without verifying its
    /// signature: decrypting with the RP's own key is taken as proof of origin (the mistake
    /// of Cloud Foundry UAA CVE-2026-41005 with XML encryption, and of nested-JWT code that
    /// decodes the inner token with verification off). Bare claims inside are refused.
    UnverifiedNestedJws,
    /// Opens a five-part ID token as a nested JWT and verifies the inner token against the
    /// broker's JWKS only when it is a JWS; an unsecured inner JWT (`alg: none`) is read as is
    /// (pac4j-jwt CVE-2026-29000: `JwtAuthenticator` checked signatures only for a
    /// `SignedJWT` and took a decrypted `PlainJWT` unchecked). A nested JWS by the attacker
    /// key is refused; bare claims inside are refused.
    NestedJwtVerifiedOnlyIfSigned,
    /// Takes the verification key from the token's own `jwk`, `jku` or `x5u` header.
    TrustHeaderKeys,
    /// Ignores the `crit` header instead of rejecting extensions it does not understand.
    IgnoreCrit,
    /// Fetches the JWKS once and never again: a rotated signing key is "unknown" forever.
    NoJwksRefetch,
    /// Requires a `kid` header even when the JWKS has one key for the algorithm.
    RequireKid,
    /// With a `kid` that is in no JWKS, tries every key instead of rejecting.
    TryAllKeysOnUnknownKid,
    /// Verifies the signature only when the header names a `kid`; without one the token is
    /// taken as is (the "if we found a key, check it" bug).
    VerifyOnlyWithKid,
    // --- ID token claims --------------------------------------------------------------------
    /// Does not compare `iss` with the discovery issuer.
    SkipIss,
    /// Compares `iss` with Python's `in` on strings: the token's `iss` passes when it is a
    /// *substring* of the expected issuer (PyJWT 2.10.0, CVE-2024-53861: `payload["iss"] not
    /// in issuer` after `isinstance(issuer, Sequence)`, which a `str` is). A non-string `iss`
    /// makes the comparison raise, which refuses the token.
    IssSubstringMatch,
    /// Accepts an array `iss` when any element is the expected issuer (fast-jwt < 5.0.6,
    /// CVE-2025-30144: the claim validator ran over arrays element by element and required
    /// one match).
    IssArrayMembership,
    /// Accepts an `iss` that starts with the expected issuer (a URL-prefix test: `startsWith`
    /// instead of equality), so `<iss>/` and `<iss>/evil` pass.
    IssStartsWith,
    /// Does not check `aud` (nor `azp`).
    SkipAud,
    /// Reads `aud` as a string only; any other JSON type reads as `""`, and an empty audience
    /// passes because the audience is not marked required (dgrijalva/jwt-go 3.2.0,
    /// CVE-2020-26160: `aud, _ := m["aud"].(string)` then `if aud == "" { return !required }`).
    AudArrayIgnored,
    /// The partial fix: reads string and array `aud`, but an audience whose values concatenate
    /// to `""` (`[]`, `""`, absent) still passes when not required (golang-jwt 3.2.1's
    /// `verifyAud`: `if len(stringClaims) == 0 { return !required }`).
    AudEmptyPasses,
    /// Checks that `aud` contains the client, but not that extra audiences come with
    /// `azp = client_id`.
    SkipAzp,
    /// Treats `sub` and `iat` as optional.
    NoRequiredClaims,
    /// Ignores `exp`, `nbf` and `iat`.
    SkipTimeChecks,
    /// A time claim that is not a JSON number is taken as absent and its check skipped;
    /// only `exp` must be present (Rust jsonwebtoken < 10.3.0, CVE-2026-25537: `FailedToParse`
    /// treated as `NotPresent`, default `required_spec_claims = {"exp"}`). With
    /// [`RpFlaw::ExpOnlyWhenPresent`] (exp removed from the required claims) a string `exp`
    /// passes too.
    MalformedTimeClaimAsAbsent,
    /// Checks `exp` only when it is set: a missing or `null` `exp` is skipped (Symfony
    /// `OidcTokenHandler`, CVE-2026-45069: `isset($claims['exp'])`, false for `null`).
    ExpOnlyWhenPresent,
    /// Does not compare `nonce` with the one it sent.
    SkipNonce,
    // --- authorization response, token and userinfo -----------------------------------------
    /// Does not compare `state` with the browser's pending login (takes the pending login of
    /// the browser session whatever the response says).
    SkipState,
    /// Looks pending logins up by the `state` parameter alone, in any browser, and never
    /// consumes them: a leaked callback URL logs the attacker in.
    ReusableState,
    /// Ignores the RFC 9207 `iss` parameter of the authorization response.
    SkipIssParam,
    /// On an error response, binds the browser to the RP-wide "last logged-in user" (request
    /// data kept in a singleton) instead of showing the error.
    StaleUserOnError,
    /// Does not compare the userinfo `sub` with the ID token's.
    SkipUserinfoSub,
    // --- S11: the front end's identity headers (see `crate::identity_headers`) ---------------
    /// The front end (mod_auth_openidc in front of the application) passes the client's own
    /// `OIDC_CLAIM_*`, `OIDC_access_token` and `REMOTE_USER`-style headers through, and the
    /// application reads the logged-in user from them (mod_auth_openidc < 2.1.6 with
    /// `AuthType oauth20`, CVE-2017-6413; < 2.1.5 on `OIDCUnAuthAction pass`, CVE-2017-6059).
    TrustClientHeaders,
    /// The front end scrubs the identity headers by exact name: `OIDC-CLAIM-sub` survives and
    /// becomes the CGI variable `OIDC_CLAIM_SUB` (mod_auth_openidc itself compares
    /// CGI-equivalently; Django CVE-2015-0219, theforeman/puppet-foreman#1181).
    ScrubExactHeaderNames,
    /// The front end scrubs the identity headers only on the requests it authenticates, not
    /// on the CORS preflight (`OPTIONS`) shortcut nor the redirect URI it lets through
    /// (mod_auth_openidc before 2.4.20.1, commit c450a33a, 2026).
    ScrubAuthenticatedPathsOnly,
}

impl RpFlaw {
    /// Every flaw, for table-driven tests.
    pub const ALL: [RpFlaw; 60] = [
        RpFlaw::KeyBySub,
        RpFlaw::ExactLoa,
        RpFlaw::PersonOnly,
        RpFlaw::RejectAnyNemidClaim,
        RpFlaw::AcceptNemidIdp,
        RpFlaw::AcceptNemidClaims,
        RpFlaw::AcceptNemidAmr,
        RpFlaw::IgnoreLoa,
        RpFlaw::AcceptDknemid,
        RpFlaw::AcceptNemidAcr,
        RpFlaw::RequireName,
        RpFlaw::EmployeeOnly,
        RpFlaw::BusinessWithoutRole,
        RpFlaw::SkipSignature,
        RpFlaw::AcceptAlgNone,
        RpFlaw::HsKeyConfusion(KeyBytes::SpkiPem),
        RpFlaw::HsKeyConfusion(KeyBytes::Pkcs1Pem),
        RpFlaw::HsKeyConfusion(KeyBytes::SpkiDer),
        RpFlaw::HsKeyConfusion(KeyBytes::Pkcs1Der),
        RpFlaw::HsKeyConfusion(KeyBytes::JwkJson),
        RpFlaw::HsKeyConfusion(KeyBytes::SpkiPemCrlf),
        RpFlaw::HsKeyConfusion(KeyBytes::SpkiPemNoFinalNewline),
        RpFlaw::HsKeyConfusion(KeyBytes::SpkiPemLeadingSpace),
        RpFlaw::HsKeyConfusion(KeyBytes::Pkcs1PemCrlf),
        RpFlaw::HsKeyConfusion(KeyBytes::JwksJson),
        RpFlaw::HsKeyConfusion(KeyBytes::SpkiPemCr),
        RpFlaw::HsKeyConfusion(KeyBytes::SpkiPemOneLine),
        RpFlaw::HsKeyConfusion(KeyBytes::SpkiPemCommentPrefix),
        RpFlaw::EmptyHmacKey,
        RpFlaw::HmacWithClientSecret,
        RpFlaw::AcceptUnsignedJwe,
        RpFlaw::UnverifiedNestedJws,
        RpFlaw::NestedJwtVerifiedOnlyIfSigned,
        RpFlaw::TrustHeaderKeys,
        RpFlaw::IgnoreCrit,
        RpFlaw::NoJwksRefetch,
        RpFlaw::RequireKid,
        RpFlaw::TryAllKeysOnUnknownKid,
        RpFlaw::VerifyOnlyWithKid,
        RpFlaw::SkipIss,
        RpFlaw::IssSubstringMatch,
        RpFlaw::IssArrayMembership,
        RpFlaw::IssStartsWith,
        RpFlaw::SkipAud,
        RpFlaw::AudArrayIgnored,
        RpFlaw::AudEmptyPasses,
        RpFlaw::SkipAzp,
        RpFlaw::NoRequiredClaims,
        RpFlaw::SkipTimeChecks,
        RpFlaw::MalformedTimeClaimAsAbsent,
        RpFlaw::ExpOnlyWhenPresent,
        RpFlaw::SkipNonce,
        RpFlaw::SkipState,
        RpFlaw::ReusableState,
        RpFlaw::SkipIssParam,
        RpFlaw::StaleUserOnError,
        RpFlaw::SkipUserinfoSub,
        RpFlaw::TrustClientHeaders,
        RpFlaw::ScrubExactHeaderNames,
        RpFlaw::ScrubAuthenticatedPathsOnly,
    ];

    /// Stable kebab-case id, as the scenario catalogue's `caught_by` names the flaw. The
    /// key-confusion flaws carry their key encoding as a suffix
    /// (`hs-key-confusion-spki-pem`), so every id is one plain word list.
    pub fn id(self) -> &'static str {
        match self {
            RpFlaw::KeyBySub => "key-by-sub",
            RpFlaw::ExactLoa => "exact-loa",
            RpFlaw::PersonOnly => "person-only",
            RpFlaw::RejectAnyNemidClaim => "reject-any-nemid-claim",
            RpFlaw::AcceptNemidIdp => "accept-nemid-idp",
            RpFlaw::AcceptNemidClaims => "accept-nemid-claims",
            RpFlaw::AcceptNemidAmr => "accept-nemid-amr",
            RpFlaw::IgnoreLoa => "ignore-loa",
            RpFlaw::AcceptDknemid => "accept-dknemid",
            RpFlaw::AcceptNemidAcr => "accept-nemid-acr",
            RpFlaw::RequireName => "require-name",
            RpFlaw::EmployeeOnly => "employee-only",
            RpFlaw::BusinessWithoutRole => "business-without-role",
            RpFlaw::SkipSignature => "skip-signature",
            RpFlaw::AcceptAlgNone => "accept-alg-none",
            RpFlaw::HsKeyConfusion(KeyBytes::SpkiPem) => "hs-key-confusion-spki-pem",
            RpFlaw::HsKeyConfusion(KeyBytes::Pkcs1Pem) => "hs-key-confusion-pkcs1-pem",
            RpFlaw::HsKeyConfusion(KeyBytes::SpkiDer) => "hs-key-confusion-spki-der",
            RpFlaw::HsKeyConfusion(KeyBytes::Pkcs1Der) => "hs-key-confusion-pkcs1-der",
            RpFlaw::HsKeyConfusion(KeyBytes::JwkJson) => "hs-key-confusion-jwk-json",
            RpFlaw::HsKeyConfusion(KeyBytes::SpkiPemCrlf) => "hs-key-confusion-spki-pem-crlf",
            RpFlaw::HsKeyConfusion(KeyBytes::SpkiPemNoFinalNewline) => {
                "hs-key-confusion-spki-pem-no-final-newline"
            }
            RpFlaw::HsKeyConfusion(KeyBytes::SpkiPemLeadingSpace) => {
                "hs-key-confusion-spki-pem-leading-space"
            }
            RpFlaw::HsKeyConfusion(KeyBytes::Pkcs1PemCrlf) => "hs-key-confusion-pkcs1-pem-crlf",
            RpFlaw::HsKeyConfusion(KeyBytes::JwksJson) => "hs-key-confusion-jwks-json",
            RpFlaw::HsKeyConfusion(KeyBytes::SpkiPemCr) => "hs-key-confusion-spki-pem-cr",
            RpFlaw::HsKeyConfusion(KeyBytes::SpkiPemOneLine) => {
                "hs-key-confusion-spki-pem-one-line"
            }
            RpFlaw::HsKeyConfusion(KeyBytes::SpkiPemCommentPrefix) => {
                "hs-key-confusion-spki-pem-comment-prefix"
            }
            RpFlaw::EmptyHmacKey => "empty-hmac-key",
            RpFlaw::HmacWithClientSecret => "hmac-with-client-secret",
            RpFlaw::AcceptUnsignedJwe => "accept-unsigned-jwe",
            RpFlaw::UnverifiedNestedJws => "unverified-nested-jws",
            RpFlaw::NestedJwtVerifiedOnlyIfSigned => "nested-jwt-verified-only-if-signed",
            RpFlaw::TrustHeaderKeys => "trust-header-keys",
            RpFlaw::IgnoreCrit => "ignore-crit",
            RpFlaw::NoJwksRefetch => "no-jwks-refetch",
            RpFlaw::RequireKid => "require-kid",
            RpFlaw::TryAllKeysOnUnknownKid => "try-all-keys-on-unknown-kid",
            RpFlaw::VerifyOnlyWithKid => "verify-only-with-kid",
            RpFlaw::SkipIss => "skip-iss",
            RpFlaw::IssSubstringMatch => "iss-substring-match",
            RpFlaw::IssArrayMembership => "iss-array-membership",
            RpFlaw::IssStartsWith => "iss-starts-with",
            RpFlaw::SkipAud => "skip-aud",
            RpFlaw::AudArrayIgnored => "aud-array-ignored",
            RpFlaw::AudEmptyPasses => "aud-empty-passes",
            RpFlaw::SkipAzp => "skip-azp",
            RpFlaw::NoRequiredClaims => "no-required-claims",
            RpFlaw::SkipTimeChecks => "skip-time-checks",
            RpFlaw::MalformedTimeClaimAsAbsent => "malformed-time-claim-as-absent",
            RpFlaw::ExpOnlyWhenPresent => "exp-only-when-present",
            RpFlaw::SkipNonce => "skip-nonce",
            RpFlaw::SkipState => "skip-state",
            RpFlaw::ReusableState => "reusable-state",
            RpFlaw::SkipIssParam => "skip-iss-param",
            RpFlaw::StaleUserOnError => "stale-user-on-error",
            RpFlaw::SkipUserinfoSub => "skip-userinfo-sub",
            RpFlaw::TrustClientHeaders => "trust-client-headers",
            RpFlaw::ScrubExactHeaderNames => "scrub-exact-header-names",
            RpFlaw::ScrubAuthenticatedPathsOnly => "scrub-authenticated-paths-only",
        }
    }
}

impl std::fmt::Display for RpFlaw {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

/// An unknown RP flaw id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown RP flaw {0:?}; known flaws: {known}", known = RpFlaw::ALL.iter().map(|f| f.id()).collect::<Vec<_>>().join(", "))]
pub struct UnknownRpFlaw(pub String);

impl std::str::FromStr for RpFlaw {
    type Err = UnknownRpFlaw;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RpFlaw::ALL
            .iter()
            .copied()
            .find(|f| f.id() == s.trim())
            .ok_or_else(|| UnknownRpFlaw(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_are_unique() {
        let mut seen = std::collections::BTreeSet::new();
        for f in RpFlaw::ALL {
            assert!(seen.insert(f.id()), "duplicate id {}", f.id());
            assert_eq!(f.id().parse::<RpFlaw>(), Ok(f));
        }
        assert!("skip-everything".parse::<RpFlaw>().is_err());
    }
}
