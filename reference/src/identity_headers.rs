//! Identity headers between an authentication front end and the application behind it: the
//! model both reference servers (SP and RP) share.
//!
//! An Apache-fronted application learns who is logged in from variables the authentication
//! module sets: `REMOTE_USER`, mod_auth_openidc's `OIDC_CLAIM_*` and `OIDCAuthNHeader`,
//! mod_auth_mellon's `MELLON_*`, Shibboleth's `Shib-*` and attribute headers. When they travel
//! as request headers (a reverse proxy, `OIDCPassClaimsAs headers`, `ShibUseHeaders On`) the
//! application cannot tell them from headers the browser sent itself, so the front end must
//! remove every client-supplied one, on every request it lets through, before setting its own.
//! And it must compare names as the application reads them: CGI, WSGI and PHP upper-case a
//! header name and turn `-` into `_`, so `REMOTE-USER` and `REMOTE_USER` are one variable
//! (Django CVE-2015-0219 and CVE-2026-3902; theforeman/puppet-foreman#1181 unset only the
//! underscore spelling of `REMOTE_USER`). mod_auth_openidc compares that way
//! (`oidc_util_strnenvcmp`) but did not scrub on every path: not for `AuthType oauth20` before
//! 2.1.6 (CVE-2017-6413, commit 21e3728a), not on `OIDCUnAuthAction pass` before 2.1.5
//! (CVE-2017-6059), and not on the CORS preflight and redirect-URI paths before 2.4.20.1
//! (commit c450a33a, 2026).
//!
//! The reference servers model the front end ([`FrontEnd::scrub`], per flaw) and an
//! application that trusts what is left ([`app_variable`]): it logs in whoever the variables
//! name, into its own session, as Django's `PersistentRemoteUserMiddleware` does. The strict
//! front end leaves nothing for it to read, so the strict servers never log anyone in this way.

use axum::http::HeaderMap;
use axum::http::header::HeaderName;

/// The identity headers the front end owns, spelled as the modules document them. The
/// harness's `forged-headers` step sends these (and their other spelling).
pub const IDENTITY_HEADERS: &[&str] = &[
    "REMOTE_USER",
    "X-Remote-User",
    "OIDC_CLAIM_sub",
    "OIDC_CLAIM_email",
    "OIDC_access_token",
    "OIDC_CLAIM_mitid.uuid",
    "OIDC_CLAIM_dk.cpr",
    "OIDC_CLAIM_uuid",
    "OIDC_CLAIM_cprNumberIdentifier",
    "MELLON_NAME_ID",
    "MELLON_uuid",
    "MELLON_cpr",
    "Shib-Identity-Provider",
    "eppn",
];

/// Variable prefixes that belong to the modules as a whole (every `OIDC_*`, `MELLON_*`,
/// `Shib-*` variable): scrubbed whatever follows, as mod_auth_openidc scrubs `OIDC_`.
const MODULE_PREFIXES: &[&str] = &["OIDC_", "MELLON_", "SHIB_"];

/// The CGI variable name a request header becomes (without the `HTTP_` prefix): upper case,
/// every character other than a letter or digit turned into `_`.
pub fn cgi_name(header: &str) -> String {
    header
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// How a front end treats the identity headers a client sent on one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scrub {
    /// Removes every header whose CGI name is an identity variable or carries a module
    /// prefix (the strict front end; mod_auth_openidc's comparison).
    CgiEquivalent,
    /// Removes only headers whose name equals a listed identity header, ignoring case but not
    /// `-` versus `_`: the other spelling survives and becomes the same variable.
    ExactNames,
    /// Removes nothing.
    Nothing,
}

/// The front end's behaviour, from the server's flaws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FrontEnd {
    /// Passes every client header through (no scrubbing at all).
    pub trust_client_headers: bool,
    /// Scrubs by exact header name only.
    pub exact_names_only: bool,
    /// Scrubs only on the requests it authenticates: not on an `OPTIONS` preflight, not on
    /// the login endpoint (ACS / redirect URI).
    pub authenticated_paths_only: bool,
}

impl FrontEnd {
    /// How this front end scrubs a request; `unauthenticated` is a request it lets through
    /// without authenticating (an `OPTIONS` preflight, the ACS or redirect URI).
    pub fn scrub_for(&self, unauthenticated: bool) -> Scrub {
        if self.trust_client_headers || (self.authenticated_paths_only && unauthenticated) {
            Scrub::Nothing
        } else if self.exact_names_only {
            Scrub::ExactNames
        } else {
            Scrub::CgiEquivalent
        }
    }

    /// Scrub `headers` for one request; returns the names removed.
    pub fn scrub(&self, headers: &mut HeaderMap, unauthenticated: bool) -> Vec<String> {
        let how = self.scrub_for(unauthenticated);
        let doomed: Vec<HeaderName> = headers
            .keys()
            .filter(|name| match how {
                Scrub::Nothing => false,
                Scrub::ExactNames => IDENTITY_HEADERS
                    .iter()
                    .any(|h| h.eq_ignore_ascii_case(name.as_str())),
                Scrub::CgiEquivalent => {
                    let cgi = cgi_name(name.as_str());
                    MODULE_PREFIXES.iter().any(|p| cgi.starts_with(p))
                        || IDENTITY_HEADERS.iter().any(|h| cgi_name(h) == cgi)
                }
            })
            .cloned()
            .collect();
        for name in &doomed {
            headers.remove(name);
        }
        doomed.iter().map(|n| n.as_str().to_string()).collect()
    }
}

/// What the application reads as the CGI variable `var` (e.g. `REMOTE_USER`): the value of the
/// first remaining header whose CGI name is `var`, as CGI/WSGI/PHP would hand it over.
pub fn app_variable(headers: &HeaderMap, var: &str) -> Option<String> {
    headers
        .iter()
        .find(|(name, _)| cgi_name(name.as_str()) == var)
        .and_then(|(_, v)| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

/// The first of `vars` the application finds.
pub fn first_variable(headers: &HeaderMap, vars: &[&str]) -> Option<String> {
    vars.iter().find_map(|v| app_variable(headers, v))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn forged(names: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for n in names {
            h.insert(
                HeaderName::from_bytes(n.as_bytes()).unwrap(),
                HeaderValue::from_static("victim"),
            );
        }
        h.insert("accept", HeaderValue::from_static("*/*"));
        h
    }

    #[test]
    fn cgi_maps_dash_and_underscore_to_one_variable() {
        assert_eq!(cgi_name("OIDC-CLAIM-sub"), "OIDC_CLAIM_SUB");
        assert_eq!(cgi_name("oidc_claim_sub"), "OIDC_CLAIM_SUB");
        assert_eq!(cgi_name("OIDC_CLAIM_mitid.uuid"), "OIDC_CLAIM_MITID_UUID");
        let h = forged(&["remote-user"]);
        assert_eq!(app_variable(&h, "REMOTE_USER").as_deref(), Some("victim"));
    }

    #[test]
    fn each_front_end_scrubs_what_it_should() {
        let both = [
            "REMOTE_USER",
            "REMOTE-USER",
            "OIDC-CLAIM-sub",
            "X_Remote_User",
        ];
        let strict = FrontEnd::default();
        for unauthenticated in [false, true] {
            let mut h = forged(&both);
            strict.scrub(&mut h, unauthenticated);
            assert_eq!(h.len(), 1, "only `accept` is left: {h:?}");
        }
        let exact = FrontEnd {
            exact_names_only: true,
            ..Default::default()
        };
        let mut h = forged(&both);
        exact.scrub(&mut h, false);
        assert!(h.get("remote_user").is_none());
        assert_eq!(app_variable(&h, "REMOTE_USER").as_deref(), Some("victim"));
        assert_eq!(
            app_variable(&h, "OIDC_CLAIM_SUB").as_deref(),
            Some("victim")
        );
        assert_eq!(app_variable(&h, "X_REMOTE_USER").as_deref(), Some("victim"));
        let paths = FrontEnd {
            authenticated_paths_only: true,
            ..Default::default()
        };
        let mut h = forged(&both);
        paths.scrub(&mut h, false);
        assert_eq!(h.len(), 1);
        let mut h = forged(&both);
        paths.scrub(&mut h, true);
        assert_eq!(h.len(), 5);
        let trusting = FrontEnd {
            trust_client_headers: true,
            ..Default::default()
        };
        let mut h = forged(&both);
        trusting.scrub(&mut h, false);
        assert_eq!(h.len(), 5);
    }
}
