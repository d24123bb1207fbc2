//! What the broker saw an SP or RP do in one login flow: which of its endpoints were used.
//!
//! A fault only tests an SP that received it. A forged userinfo response says nothing about an
//! RP that never called userinfo (it logs in from the verified ID token alone, which is
//! correct), so the harness must not count it as a failure. The broker is the one party that
//! sees which endpoints each flow used, so it records them ([`crate::FlowRecord::endpoints`],
//! [`crate::oidc::observed::OidcFlowRecord::endpoints`]); each fault declares where it reaches
//! the SP ([`crate::Fault::delivered_by`], [`crate::oidc::OidcFault::delivered_by`]); the
//! harness compares the two.

use serde::{Deserialize, Serialize};

/// A broker endpoint an SP or RP uses during a login, as flow records name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Endpoint {
    /// SAML SSO: the AuthnRequest arrives here and the Response leaves here, through the
    /// browser, for the ACS.
    Sso,
    /// SAML single logout (a LogoutRequest naming the flow's SessionIndex).
    Slo,
    /// OIDC authorization endpoint: the authorization request arrives here and the
    /// authorization response (code, `state`, `iss`, or an error) goes back through the browser
    /// to the redirect URI.
    Authorize,
    /// OIDC pushed authorization request (RFC 9126): the authorization request came by PAR.
    Par,
    /// OIDC token endpoint: the code is redeemed and the ID token handed over.
    Token,
    /// OIDC userinfo endpoint.
    Userinfo,
    /// OIDC JWKS. JWKS requests carry no flow identifier, so a flow record lists it when the
    /// issuer's JWKS was fetched between the flow's token response and the end of the flow:
    /// a hint, never proof that this RP fetched it for this flow.
    Jwks,
    /// OIDC RP-initiated logout with an `id_token_hint` from the flow.
    EndSession,
}

impl Endpoint {
    /// The endpoint as a sentence names it ("the userinfo endpoint").
    pub fn describe(self) -> &'static str {
        match self {
            Endpoint::Sso => "the SAML SSO endpoint",
            Endpoint::Slo => "the SAML SLO endpoint",
            Endpoint::Authorize => "the authorization endpoint",
            Endpoint::Par => "the PAR endpoint",
            Endpoint::Token => "the token endpoint",
            Endpoint::Userinfo => "the userinfo endpoint",
            Endpoint::Jwks => "the JWKS",
            Endpoint::EndSession => "the end-session endpoint",
        }
    }

    /// What a fault on this endpoint forges ("a forged userinfo response").
    pub fn forged_message(self) -> &'static str {
        match self {
            Endpoint::Sso => "a forged SAML Response",
            Endpoint::Slo => "a forged logout message",
            Endpoint::Authorize => "a forged authorization response",
            Endpoint::Par => "a forged PAR response",
            Endpoint::Token => "a forged token response (ID token)",
            Endpoint::Userinfo => "a forged userinfo response",
            Endpoint::Jwks => "a forged JWKS",
            Endpoint::EndSession => "a forged logout response",
        }
    }

    /// The kebab-case name used in flow records.
    pub fn name(self) -> &'static str {
        match self {
            Endpoint::Sso => "sso",
            Endpoint::Slo => "slo",
            Endpoint::Authorize => "authorize",
            Endpoint::Par => "par",
            Endpoint::Token => "token",
            Endpoint::Userinfo => "userinfo",
            Endpoint::Jwks => "jwks",
            Endpoint::EndSession => "end-session",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_names_are_the_record_names() {
        for e in [
            Endpoint::Sso,
            Endpoint::Slo,
            Endpoint::Authorize,
            Endpoint::Par,
            Endpoint::Token,
            Endpoint::Userinfo,
            Endpoint::Jwks,
            Endpoint::EndSession,
        ] {
            assert_eq!(
                serde_json::to_value(e).unwrap(),
                serde_json::json!(e.name())
            );
        }
    }
}
