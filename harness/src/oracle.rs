//! The session oracle: did the SP create a session, and for whom?
//!
//! Status codes alone are a poor witness (spid-sp-test's users report SPs that show a correct
//! error page with HTTP 200, and happy paths that end on 200 after a 302). So the oracle asks
//! the SP itself, with the browser's cookies, after the flow: a whoami URL that names the
//! identity is strong evidence; a protected URL is weaker (session yes/no, no identity); the
//! final status of the login is the weakest and is labelled so in every verdict.

use crate::agent::{Agent, AgentError, Page};
use crate::sp::{OracleConfig, UserKey};
use mitid_mock_broker::TestIdentity;
use mitid_mock_broker::oidc::Profile;
use serde::Serialize;

/// How much a verdict can be trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum Evidence {
    /// The login's final HTTP status only.
    FinalStatus,
    /// A protected URL: session yes/no.
    ProtectedUrl,
    /// A whoami URL naming the identity.
    Whoami,
}

/// What the oracle saw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "session", rename_all = "kebab-case")]
pub enum Observation {
    /// No session.
    None {
        /// HTTP status that said so.
        status: u16,
    },
    /// A session; `identity` when the oracle can tell.
    Session {
        /// Identity string as the SP reports it.
        identity: Option<String>,
        /// HTTP status.
        status: u16,
    },
    /// The oracle could not decide.
    Ambiguous {
        /// Why.
        why: String,
    },
}

/// A compiled oracle.
#[derive(Debug, Clone)]
pub struct Oracle {
    cfg: OracleConfig,
    regex: Option<regex::Regex>,
}

/// Compile a whoami regex (one capture group).
pub(crate) fn compile_regex(r: &str) -> Result<regex::Regex, String> {
    let re = regex::RegexBuilder::new(r)
        .size_limit(1 << 20)
        .build()
        .map_err(|e| e.to_string())?;
    if re.captures_len() < 2 {
        return Err("the regex needs one capture group around the identity".into());
    }
    Ok(re)
}

impl Oracle {
    /// Build from configuration (already validated by [`crate::sp::SpConfig`]).
    pub fn new(cfg: OracleConfig) -> Result<Self, String> {
        let regex = cfg.regex.as_deref().map(compile_regex).transpose()?;
        Ok(Oracle { cfg, regex })
    }

    /// The strength of this oracle's evidence.
    pub fn evidence(&self) -> Evidence {
        if self.cfg.whoami_url.is_some() {
            Evidence::Whoami
        } else if self.cfg.protected_url.is_some() {
            Evidence::ProtectedUrl
        } else {
            Evidence::FinalStatus
        }
    }

    /// Ask the SP, with the agent's cookies. `final_page` is the last page of the login flow
    /// (used only by the final-status oracle).
    pub async fn observe(
        &self,
        agent: &mut Agent,
        final_page: Option<&Page>,
    ) -> Result<Observation, AgentError> {
        if let Some(url) = &self.cfg.whoami_url {
            let p = agent.request("GET", url, None).await?;
            return Ok(match p.status {
                // An identity that is present but empty (`"uuid": ""` or `null`) is still a
                // session: an SP that logs in "nobody" (a response without an assertion, a
                // missing NameID) has a session belonging to no one, which is a failure, not
                // an ambiguity. Only a whoami answer the extractor cannot read is ambiguous.
                200..=299 => match self.extract(&p.body) {
                    Some(id) => Observation::Session {
                        identity: Some(id.trim().to_string()),
                        status: p.status,
                    },
                    None => Observation::Ambiguous {
                        why: format!(
                            "whoami answered {} but the identity could not be found in it ({})",
                            p.status,
                            self.describe_extractor()
                        ),
                    },
                },
                300..=399 | 401 | 403 => Observation::None { status: p.status },
                s => Observation::Ambiguous {
                    why: format!(
                        "whoami answered HTTP {s}; expected 2xx (logged in) or 401/403/redirect (not logged in)"
                    ),
                },
            });
        }
        if let Some(url) = &self.cfg.protected_url {
            let p = agent.request("GET", url, None).await?;
            return Ok(match p.status {
                200..=299 => Observation::Session {
                    identity: None,
                    status: p.status,
                },
                300..=399 | 401 | 403 => Observation::None { status: p.status },
                s => Observation::Ambiguous {
                    why: format!("protected URL answered HTTP {s}"),
                },
            });
        }
        Ok(match final_page {
            Some(p) if (200..300).contains(&p.status) => Observation::Session {
                identity: None,
                status: p.status,
            },
            Some(p) if p.status >= 400 => Observation::None { status: p.status },
            Some(p) => Observation::Ambiguous {
                why: format!("the login ended on HTTP {}", p.status),
            },
            None => Observation::Ambiguous {
                why: "the login produced no final page".into(),
            },
        })
    }

    /// The pages the oracle reads, whoami first: what a `forged-headers` step sends its
    /// headers to (the protected pages of the SP).
    pub(crate) fn urls(&self) -> Vec<&str> {
        [&self.cfg.whoami_url, &self.cfg.protected_url]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect()
    }

    /// The protected URL, when configured.
    pub(crate) fn protected_url(&self) -> Option<&str> {
        self.cfg.protected_url.as_deref()
    }

    /// The identity a whoami answer names, when `page` is one (2xx and readable by the
    /// extractor); `None` for anything else, which says nothing about a session.
    pub(crate) fn identity_in(&self, page: &Page) -> Option<String> {
        let whoami = self.cfg.whoami_url.as_deref()?;
        let same_page = url::Url::parse(whoami)
            .is_ok_and(|u| u.path() == page.url.path() && u.host_str() == page.url.host_str());
        if !same_page || !(200..300).contains(&page.status) {
            return None;
        }
        self.extract(&page.body).map(|id| id.trim().to_string())
    }

    fn describe_extractor(&self) -> String {
        match (&self.cfg.json_field, &self.cfg.regex) {
            (Some(f), _) => format!("JSON field {f:?}"),
            (_, Some(r)) => format!("regex {r:?}"),
            _ => "no extractor".into(),
        }
    }

    fn extract(&self, body: &str) -> Option<String> {
        if let Some(field) = &self.cfg.json_field {
            let v: serde_json::Value = serde_json::from_str(body).ok()?;
            let mut cur = &v;
            for part in field.split('.') {
                cur = cur.get(part)?;
            }
            return Some(match cur {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Null => String::new(),
                other => other.to_string(),
            });
        }
        let re = self.regex.as_ref()?;
        re.captures(body)
            .and_then(|c| c.get(1))
            .map(|m| m.as_str().to_string())
    }
}

/// The value an SP keyed by `key` should report for `identity` after a login in `flow` (the
/// OIDC issuer and client, which a `sub` depends on; `None` for SAML).
pub(crate) fn expected_key_in(
    identity: &TestIdentity,
    key: UserKey,
    flow: Option<&OidcSubject>,
) -> Option<String> {
    match key {
        UserKey::Uuid => Some(identity.uuid.to_string()),
        UserKey::Cpr => identity.cpr.clone(),
        UserKey::NameId => Some(identity.name_id()),
        UserKey::Sub => flow.map(|f| f.sub_of(identity)),
    }
}

/// What decides the `sub` a broker issues in one OIDC flow: the broker profile, the issuer and
/// the client. The harness reads all three from the authorization request the RP sends the
/// browser to, so it needs nothing from the broker's answer (the oracle judges the RP against
/// the identity the harness armed, never against what a forged token claimed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OidcSubject {
    /// Which broker's derivation.
    pub profile: Profile,
    /// The issuer identifier (URL).
    pub issuer: String,
    /// The RP's `client_id` (Signaturgruppen scopes `sub` per organisation, i.e. per client).
    pub client_id: String,
}

impl OidcSubject {
    /// From the authorization request URL: the profile is the one whose authorization endpoint
    /// path the URL ends with, the issuer that URL without the path and query.
    pub(crate) fn from_authorization_url(u: &url::Url) -> Option<Self> {
        let client_id = u
            .query_pairs()
            .find(|(k, _)| k == "client_id")
            .map(|(_, v)| v.into_owned())?;
        let mut base = u.clone();
        base.set_query(None);
        base.set_fragment(None);
        let base = base.to_string();
        [Profile::Signaturgruppen, Profile::Idura]
            .into_iter()
            .find_map(|profile| {
                let issuer = base.strip_suffix(profile.endpoints().authorize)?;
                Some(OidcSubject {
                    profile,
                    issuer: issuer.to_string(),
                    client_id: client_id.clone(),
                })
            })
    }

    /// The `sub` this broker issues to this client for `identity`.
    pub(crate) fn sub_of(&self, identity: &TestIdentity) -> String {
        mitid_mock_broker::oidc::claims::subject_for(
            self.profile,
            &self.issuer,
            &self.client_id,
            identity,
        )
    }
}

/// Compare what the SP reported with the expected key, tolerating the usual wrappings of a
/// UUID (`urn:uuid:`, the NameID URI) but never a prefix: a truncated identity must not match.
pub(crate) fn same_identity(reported: &str, expected: &str) -> bool {
    fn norm(s: &str) -> String {
        let s = s.trim().to_ascii_lowercase();
        // Idura writes its `sub` as a braced GUID; an RP that stores it without the braces
        // keys the same user.
        let s = match s.strip_prefix('{').and_then(|r| r.strip_suffix('}')) {
            Some(inner) => inner.to_string(),
            None => s,
        };
        for p in [
            "https://data.gov.dk/model/core/eid/person/uuid/",
            "https://data.gov.dk/model/core/eid/professional/uuid/",
            "urn:uuid:",
        ] {
            if let Some(rest) = s.strip_prefix(p) {
                return rest.to_string();
            }
        }
        s
    }
    norm(reported) == norm(expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_matching_is_exact_modulo_wrapping() {
        let u = "8f3c2b1a-4d5e-4f60-8a7b-1c2d3e4f5a01";
        assert!(same_identity(u, u));
        assert!(same_identity(&format!("urn:uuid:{u}"), u));
        assert!(same_identity(
            &format!(
                "https://data.gov.dk/model/core/eid/person/uuid/{}",
                u.to_uppercase()
            ),
            u
        ));
        assert!(!same_identity(
            "https://data.gov.dk/model/core/eid/person/uuid/8f3c2b1a",
            u
        ));
        assert!(!same_identity("", u));
    }

    #[test]
    fn sub_is_derived_per_profile_issuer_and_client() {
        let ids = mitid_mock_broker::IdentityStore::builtin();
        let anna = ids.get("anna").unwrap();
        let sg = url::Url::parse(
            "http://127.0.0.1:9/signaturgruppen/op/connect/authorize?client_id=rp&state=s",
        )
        .unwrap();
        let f = OidcSubject::from_authorization_url(&sg).unwrap();
        assert_eq!(
            f,
            OidcSubject {
                profile: Profile::Signaturgruppen,
                issuer: "http://127.0.0.1:9/signaturgruppen/op".into(),
                client_id: "rp".into(),
            }
        );
        let sub = expected_key_in(anna, UserKey::Sub, Some(&f)).unwrap();
        // The broker's own derivation for the same login.
        assert_eq!(
            sub,
            mitid_mock_broker::oidc::claims::subject_for(
                Profile::Signaturgruppen,
                "http://127.0.0.1:9/signaturgruppen/op",
                "rp",
                anna
            )
        );
        assert_ne!(sub, anna.uuid.to_string());
        assert_eq!(
            expected_key_in(anna, UserKey::Sub, None),
            None,
            "no flow, no sub"
        );
        let other_client = OidcSubject {
            client_id: "other".into(),
            ..f.clone()
        };
        assert_ne!(other_client.sub_of(anna), sub, "organisation-scoped");

        let idura =
            url::Url::parse("http://127.0.0.1:9/idura/oauth2/authorize?client_id=rp").unwrap();
        let f = OidcSubject::from_authorization_url(&idura).unwrap();
        assert_eq!(f.profile, Profile::Idura);
        assert_eq!(f.issuer, "http://127.0.0.1:9/idura");
        let sub = f.sub_of(anna);
        assert!(sub.starts_with('{') && sub.ends_with('}'), "{sub}");
        assert!(same_identity(
            sub.trim_matches(|c| c == '{' || c == '}'),
            &sub
        ));
        assert!(!same_identity(&sub[..10], &sub));
        assert_eq!(
            OidcSubject::from_authorization_url(
                &url::Url::parse("http://127.0.0.1:9/elsewhere?client_id=rp").unwrap()
            ),
            None
        );
    }

    #[test]
    fn extractors() {
        let o = Oracle::new(OracleConfig {
            whoami_url: Some("http://x/".into()),
            json_field: Some("user.uuid".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(
            o.extract(r#"{"user":{"uuid":"abc"}}"#).as_deref(),
            Some("abc")
        );
        assert_eq!(o.extract("not json"), None);
        let o = Oracle::new(OracleConfig {
            whoami_url: Some("http://x/".into()),
            regex: Some("user=(\\S+)".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(o.extract("hello user=xyz bye").as_deref(), Some("xyz"));
        assert!(compile_regex("no-group").is_err());
    }
}
