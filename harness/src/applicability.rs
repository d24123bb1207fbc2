//! Applicability from behaviour: a scenario whose faults never reached the SP says nothing
//! about it.
//!
//! Each fault declares the broker endpoints through which it reaches the SP
//! ([`mitid_mock_broker::Fault::delivered_by`],
//! [`mitid_mock_broker::oidc::OidcFault::delivered_by`]); the broker records which endpoints
//! the SP used in each flow ([`mitid_mock_broker::FlowRecord::endpoints`],
//! [`OidcFlowRecord::endpoints`]). When no fault of a login step could have reached the SP —
//! the RP never called userinfo, so a forged userinfo response was never read — the step is not
//! applicable: SKIPPED with the reason, whatever the SP did. An RP that logs in from the
//! verified ID token alone is correct, and must not FAIL `userinfo-sub-mismatch`.
//!
//! Only what the broker saw counts: without a flow record (an external broker too old to keep
//! them) every step is judged as before.

use mitid_mock_broker::Endpoint;
use mitid_mock_broker::oidc::{OidcFaultPlan, OidcFlowRecord};
use std::collections::BTreeSet;

/// One fault as this module needs it: its name, and the endpoints any of which delivers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    /// The fault's tag name (`userinfo-sub-mismatch`).
    pub fault: &'static str,
    /// The endpoints through which it reaches the SP.
    pub via: &'static [Endpoint],
}

/// Why none of `faults` can have reached an SP that used only `used` in the flow, or `None`
/// when at least one could have (or there is no fault: a clean login always applies).
pub fn unreached(faults: &[Delivery], used: &BTreeSet<Endpoint>) -> Option<String> {
    if faults.is_empty()
        || faults
            .iter()
            .any(|d| d.via.iter().any(|e| used.contains(e)))
    {
        return None;
    }
    let mut endpoints: Vec<Endpoint> = Vec::new();
    let mut names: Vec<&str> = Vec::new();
    for d in faults {
        for e in d.via {
            if !endpoints.contains(e) {
                endpoints.push(*e);
            }
        }
        if !names.contains(&d.fault) {
            names.push(d.fault);
        }
    }
    let never = endpoints
        .iter()
        .map(|e| e.describe())
        .collect::<Vec<_>>()
        .join(" or ");
    let forged = endpoints
        .iter()
        .map(|e| e.forged_message())
        .collect::<Vec<_>>()
        .join(" or ");
    Some(format!(
        "not applicable: the RP never called {never} in this flow, so {forged} ({}) could not reach it",
        names.join(", ")
    ))
}

/// [`unreached`] for an OIDC login step, from the broker's record of the flow; or the reason
/// the broker recorded for not being able to send a fault at all (`jwe-id-token` to an RP
/// that registered no key to encrypt to).
pub fn oidc_step(plan: &OidcFaultPlan, seen: &OidcFlowRecord) -> Option<String> {
    if let Some(why) = &seen.undeliverable {
        return Some(format!(
            "not applicable: the broker could not build the forged message for this RP ({why})"
        ));
    }
    let faults: Vec<Delivery> = plan
        .faults
        .iter()
        .map(|f| Delivery {
            fault: f.name(),
            via: f.delivered_by(),
        })
        .collect();
    unreached(&faults, &seen.endpoints)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mitid_mock_broker::oidc::dangerous::ClaimTarget;
    use mitid_mock_broker::oidc::{FlowKey, OidcFault};

    fn record(used: &[Endpoint]) -> OidcFlowRecord {
        serde_json::from_value(serde_json::json!({
            "key": {"state": "s"},
            "issuer": "signaturgruppen",
            "client_id": "rp",
            "identity": "anna",
            "session_id": null,
            "endpoints": used,
            "token_redemptions": 1,
            "userinfo_calls": 0,
        }))
        .unwrap()
    }

    fn plan(faults: Vec<OidcFault>) -> OidcFaultPlan {
        OidcFaultPlan::new(faults)
    }

    const ID_TOKEN_ONLY: &[Endpoint] = &[Endpoint::Authorize, Endpoint::Token];
    const WITH_USERINFO: &[Endpoint] = &[Endpoint::Authorize, Endpoint::Token, Endpoint::Userinfo];

    #[test]
    fn a_userinfo_fault_does_not_apply_to_an_rp_that_never_calls_userinfo() {
        let p = plan(vec![OidcFault::UserinfoSubMismatch { sub: None }]);
        let why = oidc_step(&p, &record(ID_TOKEN_ONLY)).unwrap();
        assert_eq!(
            why,
            "not applicable: the RP never called the userinfo endpoint in this flow, so a forged userinfo response (userinfo-sub-mismatch) could not reach it"
        );
        assert_eq!(oidc_step(&p, &record(WITH_USERINFO)), None);
        // A userinfo-only claim edit likewise.
        let p = plan(vec![OidcFault::SetClaim {
            claim: "sub".into(),
            value: serde_json::json!("x"),
            target: ClaimTarget::Userinfo,
        }]);
        assert!(oidc_step(&p, &record(ID_TOKEN_ONLY)).is_some());
    }

    #[test]
    fn a_claim_edit_on_both_messages_applies_when_either_was_read() {
        let p = plan(vec![OidcFault::SetClaim {
            claim: "idp".into(),
            value: serde_json::json!("nemid"),
            target: ClaimTarget::Both,
        }]);
        assert_eq!(oidc_step(&p, &record(ID_TOKEN_ONLY)), None);
        assert_eq!(
            oidc_step(&p, &record(&[Endpoint::Authorize, Endpoint::Userinfo])),
            None
        );
        let why = oidc_step(&p, &record(&[Endpoint::Authorize])).unwrap();
        assert!(
            why.contains("never called the token endpoint or the userinfo endpoint"),
            "{why}"
        );
    }

    #[test]
    fn id_token_faults_need_the_token_endpoint_and_front_channel_faults_always_apply() {
        let p = plan(vec![OidcFault::AlgNone {}]);
        assert_eq!(oidc_step(&p, &record(ID_TOKEN_ONLY)), None);
        let why = oidc_step(&p, &record(&[Endpoint::Authorize])).unwrap();
        assert!(
            why.contains("a forged token response (ID token) (alg-none)"),
            "{why}"
        );
        // The authorization response goes through the browser the harness drives.
        let p = plan(vec![OidcFault::StateWrong { value: None }]);
        assert_eq!(oidc_step(&p, &record(&[Endpoint::Authorize])), None);
    }

    #[test]
    fn a_fault_the_broker_could_not_build_for_this_rp_does_not_apply() {
        let p = plan(vec![OidcFault::JweIdToken {
            alg: Default::default(),
            key: Default::default(),
            payload: Default::default(),
        }]);
        let mut seen = record(ID_TOKEN_ONLY);
        assert_eq!(oidc_step(&p, &seen), None);
        seen.undeliverable = Some("client \"rp\" has no RSA key".into());
        let why = oidc_step(&p, &seen).unwrap();
        assert!(
            why.starts_with("not applicable: the broker could not build"),
            "{why}"
        );
        assert!(why.contains("has no RSA key"), "{why}");
    }

    #[test]
    fn one_reached_fault_makes_the_step_apply_and_no_fault_always_applies() {
        let p = plan(vec![
            OidcFault::UserinfoSubMismatch { sub: None },
            OidcFault::OmitKid {},
        ]);
        assert_eq!(oidc_step(&p, &record(ID_TOKEN_ONLY)), None);
        assert_eq!(oidc_step(&plan(vec![]), &record(&[])), None);
        assert_eq!(unreached(&[], &BTreeSet::new()), None);
    }

    #[test]
    fn every_saml_fault_reaches_the_sp_through_the_response() {
        use mitid_mock_broker::Fault;
        // Through SSO: the harness posts the Response to the ACS itself.
        for f in [
            Fault::Sha1,
            Fault::Doctype {
                subset: Default::default(),
            },
            Fault::NoAssertion,
        ] {
            assert_eq!(f.delivered_by(), &[Endpoint::Sso]);
        }
    }

    #[test]
    fn a_record_round_trips_through_json() {
        let r = record(WITH_USERINFO);
        assert_eq!(r.key, FlowKey::State("s".into()));
        let back: OidcFlowRecord =
            serde_json::from_value(serde_json::to_value(&r).unwrap()).unwrap();
        assert_eq!(back, r);
        assert!(r.used(Endpoint::Userinfo));
    }
}
