//! Unit tests of the runner's decisions: judging a step from what the oracle saw, grading a
//! session the SP must not have created, applicability from the SP's configuration and from
//! the AuthnRequest, and which identity each step logs in. None of them needs an SP or a
//! broker: the harness points at an external broker on a port nothing listens on, which
//! building never contacts, and the observations are written by hand. The end-to-end
//! discrimination tests prove the same rules through real logins; these pin them in
//! milliseconds and say which rule broke.

use super::*;
use crate::sp::BrokerConfig;
use crate::sp::OracleConfig;
use mitid_mock_broker::IdentityKind;

/// A SAML SP keyed by the MitID UUID, with a whoami oracle, behind a broker nobody runs.
async fn harness_for(profiles: &[IdentityKind], private_sp: bool) -> Harness {
    let sp = SpConfig::builder("http://127.0.0.1:9/login")
        .oracle(OracleConfig::whoami_json(
            "http://127.0.0.1:9/whoami",
            "uuid",
        ))
        .broker(BrokerConfig::external("http://127.0.0.1:9"))
        .profiles(profiles.iter().copied())
        .private_sp(private_sp)
        .build()
        .expect("valid SpConfig");
    Harness::builder(sp).build().await.expect("harness")
}

fn scenario<'a>(h: &'a Harness, id: &str) -> &'a Scenario {
    h.catalogue()
        .get(id)
        .unwrap_or_else(|| panic!("scenario {id} in the built-in SAML catalogue"))
}

fn observed(observation: Observation) -> StepObservation {
    StepObservation {
        observation,
        acs_summary: "ACS answered 302".into(),
        fetched_entity: false,
        posted: None,
        not_applicable: None,
        subject: None,
        saml_request_id: None,
        logout_response: None,
        forged: None,
    }
}

fn session_of(identity: Option<&str>) -> Observation {
    Observation::Session {
        identity: identity.map(str::to_string),
        status: 200,
    }
}

fn uuid_of(h: &Harness, handle: &str) -> String {
    h.broker()
        .identities()
        .get(handle)
        .unwrap_or_else(|| panic!("identity {handle}"))
        .uuid
        .to_string()
}

/// Another built-in identity of the same kind: the broker's default victim.
fn victim_of(h: &Harness, handle: &str) -> String {
    let ids = h.broker().identities();
    let login = ids.get(handle).expect("login identity");
    ids.iter()
        .find(|i| i.kind == login.kind && i.id != login.id)
        .expect("a second identity of the same kind")
        .uuid
        .to_string()
}

#[tokio::test]
async fn accept_step_passes_only_for_the_identity_it_logged_in() {
    let h = harness_for(&[IdentityKind::Person], false).await;
    let s = scenario(&h, "mitid.person-substantial");
    let step = &s.steps[0];
    let id = h.step_identities(s)[0].clone();

    let r = h.judge(step, &id, &observed(session_of(Some(&uuid_of(&h, &id)))));
    assert_eq!(r.verdict, Verdict::Pass, "{}", r.message);
    assert_eq!(r.grade, None);

    // The oracle's identity is compared after normalisation: the UUID URI form is the same.
    let uri = format!(
        "https://data.gov.dk/model/core/eid/person/uuid/{}",
        uuid_of(&h, &id).to_uppercase()
    );
    let r = h.judge(step, &id, &observed(session_of(Some(&uri))));
    assert_eq!(r.verdict, Verdict::Pass, "{}", r.message);

    let r = h.judge(step, &id, &observed(session_of(Some(&victim_of(&h, &id)))));
    assert_eq!(r.verdict, Verdict::Fail);
    assert!(
        r.message.contains("logged in someone else"),
        "{}",
        r.message
    );

    let r = h.judge(step, &id, &observed(Observation::None { status: 401 }));
    assert_eq!(r.verdict, Verdict::Fail);
    assert!(r.message.contains("did not log in"), "{}", r.message);
}

#[tokio::test]
async fn undecidable_and_inapplicable_steps_are_never_failures() {
    let h = harness_for(&[IdentityKind::Person], false).await;
    let s = scenario(&h, "xsw.1");
    let step = &s.steps[0];
    let id = h.step_identities(s)[0].clone();

    let r = h.judge(
        step,
        &id,
        &observed(Observation::Ambiguous {
            why: "whoami answered 500".into(),
        }),
    );
    assert_eq!(r.verdict, Verdict::Inconclusive);

    let mut o = observed(session_of(Some(&victim_of(&h, &id))));
    o.not_applicable = Some("not applicable: test".into());
    let r = h.judge(step, &id, &o);
    assert_eq!(
        r.verdict,
        Verdict::Skipped,
        "not applicable wins over a session"
    );

    let r = h.judge(step, &id, &observed(Observation::None { status: 302 }));
    assert_eq!(r.verdict, Verdict::Pass);
    assert!(r.message.starts_with("rejected"), "{}", r.message);
}

#[tokio::test]
async fn fetching_the_external_entity_fails_whatever_the_session() {
    let h = harness_for(&[IdentityKind::Person], false).await;
    let s = scenario(&h, "xsw.1");
    let id = h.step_identities(s)[0].clone();
    let mut o = observed(Observation::None { status: 403 });
    o.fetched_entity = true;
    let r = h.judge(&s.steps[0], &id, &o);
    assert_eq!(r.verdict, Verdict::Fail);
    assert!(r.message.contains("XXE"), "{}", r.message);
}

/// A wrapping attack carries the genuine signed login beside the forged part: logging in the
/// signed identity is a WARN, the victim a FAIL, and an oracle that names nobody a FAIL that
/// says it cannot tell.
#[tokio::test]
async fn sessions_from_wrapped_responses_are_graded_by_whose_they_are() {
    let h = harness_for(&[IdentityKind::Person], false).await;
    let s = scenario(&h, "xsw.1");
    let step = &s.steps[0];
    assert_eq!(SignedPart::of(step), SignedPart::Intact);
    let id = h.step_identities(s)[0].clone();

    let r = h.judge(step, &id, &observed(session_of(Some(&uuid_of(&h, &id)))));
    assert_eq!(
        (r.verdict, r.grade),
        (Verdict::Warn, Some(Grade::SignedIdentity))
    );

    let r = h.judge(step, &id, &observed(session_of(Some(&victim_of(&h, &id)))));
    assert_eq!(
        (r.verdict, r.grade),
        (Verdict::Fail, Some(Grade::ForgedIdentity))
    );
    assert!(r.message.contains("exploitable"), "{}", r.message);

    let r = h.judge(step, &id, &observed(session_of(None)));
    assert_eq!(
        (r.verdict, r.grade),
        (Verdict::Fail, Some(Grade::UnknownIdentity))
    );
    assert_eq!(r.observed_identity, None);
}

/// A malformed message around the intact genuine login (a bare DOCTYPE): logging in the signed
/// identity is a FAIL graded malformed-message that says no identity was forged; anyone else a
/// forged identity; an oracle that names nobody a FAIL of unknown grade.
#[tokio::test]
async fn sessions_from_malformed_messages_are_graded_malformed_only_for_the_signed_identity() {
    let h = harness_for(&[IdentityKind::Person], false).await;
    let s = scenario(&h, "parser.doctype-bare");
    let step = &s.steps[0];
    assert_eq!(SignedPart::of(step), SignedPart::Malformed);
    let id = h.step_identities(s)[0].clone();

    let r = h.judge(step, &id, &observed(session_of(Some(&uuid_of(&h, &id)))));
    assert_eq!(
        (r.verdict, r.grade),
        (Verdict::Fail, Some(Grade::MalformedMessage))
    );
    assert!(r.message.contains("no identity forged"), "{}", r.message);

    let r = h.judge(step, &id, &observed(session_of(Some(&victim_of(&h, &id)))));
    assert_eq!(
        (r.verdict, r.grade),
        (Verdict::Fail, Some(Grade::ForgedIdentity))
    );
    assert!(r.message.contains("exploitable"), "{}", r.message);

    let r = h.judge(step, &id, &observed(session_of(None)));
    assert_eq!(
        (r.verdict, r.grade),
        (Verdict::Fail, Some(Grade::UnknownIdentity))
    );
}

/// A message that signs nothing acceptable makes any session a forged one, even the flow's own
/// identity: the SP logged in from content nobody vouched for.
#[tokio::test]
async fn sessions_from_unsigned_responses_are_forged_whoever_they_name() {
    let h = harness_for(&[IdentityKind::Person], false).await;
    let s = scenario(&h, "signature.unsigned-assertion");
    let step = &s.steps[0];
    assert_eq!(SignedPart::of(step), SignedPart::Nothing);
    let id = h.step_identities(s)[0].clone();
    for seen in [Some(uuid_of(&h, &id)), None] {
        let r = h.judge(step, &id, &observed(session_of(seen.as_deref())));
        assert_eq!(
            (r.verdict, r.grade),
            (Verdict::Fail, Some(Grade::ForgedIdentity)),
            "{seen:?}: {}",
            r.message
        );
    }
}

#[tokio::test]
async fn scenarios_outside_the_sps_configuration_are_skipped_with_a_reason() {
    let h = harness_for(&[IdentityKind::Person], false).await;
    let all = Catalogue::builtin();

    let oidc = all
        .iter()
        .find(|s| s.protocol == Protocol::Oidc)
        .expect("an OIDC scenario");
    let why = h
        .skip_reason(oidc)
        .expect("an OIDC scenario does not apply to a SAML SP");
    assert!(why.contains("Oidc"), "{why}");

    let erhverv = scenario(&h, "mitid.professional");
    let why = h
        .skip_reason(erhverv)
        .expect("a professional login does not apply to a person-only SP");
    assert!(why.contains("Professional"), "{why}");

    assert_eq!(
        h.skip_reason(scenario(&h, "mitid.person-substantial")),
        None
    );
    let both = harness_for(&[IdentityKind::Person, IdentityKind::Professional], false).await;
    assert_eq!(
        both.skip_reason(scenario(&both, "mitid.professional")),
        None
    );
}

/// The default identity follows the SP's sector: a public SP logs in a person with a CPR
/// number, and a replay step is attributed to the login it replays.
#[tokio::test]
async fn each_step_logs_in_the_identity_it_names_or_the_sps_default() {
    let public = harness_for(&[IdentityKind::Person], false).await;
    let id = public.default_identity();
    let person = public.broker().identities().get(&id).expect("default");
    assert_eq!(person.kind, IdentityKind::Person);
    assert!(
        person.cpr.is_some(),
        "a public SP's default person has a CPR"
    );

    let s = scenario(&public, "replay.other-browser");
    let ids = public.step_identities(s);
    assert_eq!(ids.len(), s.steps.len());
    assert!(
        ids.iter().all(|i| *i == ids[0]),
        "the replay is the login's identity: {ids:?}"
    );

    let erhverv = harness_for(&[IdentityKind::Professional], false).await;
    let id = erhverv.default_identity();
    assert_eq!(
        erhverv.broker().identities().get(&id).map(|i| i.kind),
        Some(IdentityKind::Professional)
    );
}

/// OIOSAML 4.0: a step is not applicable when it logs in with a profile the SP did not request,
/// or presents one the SP did request as a wrong one; an SP that requests none gets the
/// broker's default and only profile-presenting faults are inapplicable.
#[test]
fn attribute_profiles_decide_applicability_from_the_authn_request() {
    let all = Catalogue::builtin();
    let saml = |id: &str| match &all.get(id).expect(id).steps[0].body {
        StepBody::SamlLogin(l) => l.clone(),
        other => panic!("{id}: not a SAML login: {other:?}"),
    };
    let person_dk = saml("oiosaml4.person-dk");
    assert_eq!(person_dk.profile, Some(AttributeProfile::PersonDk));
    assert_eq!(
        profile_not_applicable(&person_dk, &[AttributeProfile::PersonDk]),
        None
    );
    let why = profile_not_applicable(&person_dk, &[AttributeProfile::PersonDkWithoutCpr])
        .expect("a profile the SP does not request");
    assert!(why.contains("does not request"), "{why}");
    assert_eq!(profile_not_applicable(&person_dk, &[]), None);

    let presenting = all
        .iter()
        .find_map(|s| match &s.steps[0].body {
            StepBody::SamlLogin(l) => l.plan.faults.iter().find_map(|f| match f {
                Fault::AttributeProfile { profile } => Some((l.clone(), *profile)),
                _ => None,
            }),
            _ => None,
        })
        .expect("a scenario that presents an unrequested attribute profile");
    let (login, shown) = presenting;
    assert!(profile_not_applicable(&login, &[]).is_some());
    assert!(profile_not_applicable(&login, &[shown]).is_some());
    let all_but_shown: Vec<AttributeProfile> = AttributeProfile::ALL
        .into_iter()
        .filter(|p| *p != shown)
        .collect();
    assert_eq!(profile_not_applicable(&login, &all_but_shown), None);
}
