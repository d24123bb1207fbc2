//! The harness's runner against the reference SPs: the strict SP passes every applicable
//! scenario, and a flawed SP fails the scenario for its flaw (honest tests: every verdict here
//! can go the other way).

use mitid_harness::scenario::Protocol;
use mitid_harness::{Catalogue, Harness, SpConfig as HarnessSp, Verdict};
use mitid_mock_broker::{Broker, RunningBroker};
use mitid_reference::reference_sp::{Flaw, ReferenceSp, RunningSp, SpConfig};
use std::sync::Arc;

async fn setup(flaws: Vec<Flaw>) -> (Arc<RunningBroker>, RunningSp, HarnessSp) {
    let broker = Broker::builder().start().await.unwrap();
    let sp = ReferenceSp::start(SpConfig::new(broker.metadata_xml()).flaws(flaws))
        .await
        .unwrap();
    sp.register_with(&broker).unwrap();
    let cfg = sp.harness_config("reference-sp");
    (Arc::new(broker), sp, cfg)
}

async fn run(flaws: Vec<Flaw>, only: &[&str]) -> mitid_harness::RunReport {
    let (broker, _sp, cfg) = setup(flaws).await;
    let only: Vec<String> = only.iter().map(|s| s.to_string()).collect();
    let cat = Catalogue::builtin()
        .protocol(Protocol::Saml)
        .filter(&only, &[])
        .unwrap();
    Harness::builder(cfg)
        .broker(broker)
        .catalogue(cat)
        .concurrency(4)
        .build()
        .await
        .unwrap()
        .run()
        .await
}

#[tokio::test]
async fn strict_sp_passes_the_starter_scenarios() {
    let r = run(
        vec![],
        &[
            "mitid.person-substantial",
            "signature.unsigned-assertion",
            "replay.other-browser",
        ],
    )
    .await;
    r.assert_conformant();
    for id in [
        "mitid.person-substantial",
        "signature.unsigned-assertion",
        "replay.other-browser",
    ] {
        assert_eq!(r.get(id).unwrap().verdict, Verdict::Pass, "{}", r.to_json());
    }
    // The inbound checks ran on the captured AuthnRequests and the SP metadata.
    assert!(
        r.results
            .iter()
            .any(|x| x.family == "inspect-authn-request" && x.verdict == Verdict::Pass)
    );
    assert!(r.results.iter().any(|x| x.family == "inspect-metadata"));
}

#[tokio::test]
async fn no_signature_check_flaw_fails_unsigned_assertion() {
    let r = run(
        vec![Flaw::NoSignatureCheck],
        &["signature.unsigned-assertion", "mitid.person-substantial"],
    )
    .await;
    assert_eq!(
        r.get("signature.unsigned-assertion").unwrap().verdict,
        Verdict::Fail,
        "{}",
        r.to_json()
    );
    assert_eq!(
        r.get("mitid.person-substantial").unwrap().verdict,
        Verdict::Pass,
        "{}",
        r.to_json()
    );
}

/// Grades through the real runner: the same wrapped responses are a FAIL (forged identity) for
/// an SP that consumes the evil assertion, a WARN (signed identity) for one that consumes the
/// signed one, and a FAIL of unknown grade when the oracle names no identity; the gate and
/// `assert_conformant` follow (a WARN does not block by default).
#[tokio::test]
async fn acceptances_are_graded_from_the_oracle_identity() {
    use mitid_harness::{GatePolicy, Grade, OracleConfig};
    // In report order (family, then id).
    let only = ["signature.two-assertions-first-signed", "xsw.3"];
    let grades = |r: &mitid_harness::RunReport| -> Vec<(Verdict, Option<Grade>)> {
        only.iter()
            .map(|id| {
                let x = r.get(id).unwrap();
                (x.verdict, x.grade)
            })
            .collect()
    };
    let first = run(vec![Flaw::FirstAssertion], &only).await;
    assert_eq!(
        grades(&first),
        [
            (Verdict::Warn, Some(Grade::SignedIdentity)),
            (Verdict::Fail, Some(Grade::ForgedIdentity)),
        ],
        "{}",
        first.to_json()
    );
    let last = run(vec![Flaw::LastAssertion], &only).await;
    assert_eq!(
        grades(&last),
        [
            (Verdict::Fail, Some(Grade::ForgedIdentity)),
            (Verdict::Warn, Some(Grade::SignedIdentity)),
        ],
        "{}",
        last.to_json()
    );
    let warn = last.get("xsw.3").unwrap();
    assert!(
        warn.message.contains("genuinely signed") && warn.message.contains("Not exploitable"),
        "{}",
        warn.message
    );
    assert_eq!(last.summary.warned, 1);
    assert_eq!(
        last.gate.blocking,
        ["signature.two-assertions-first-signed"]
    );

    // Only WARNs: conformant by default, not when WARN blocks.
    let (broker, _sp, cfg) = setup(vec![Flaw::IgnoreExtraAssertions]).await;
    let cat = Catalogue::builtin()
        .protocol(Protocol::Saml)
        .filter(&only.map(String::from), &[])
        .unwrap();
    let h = Harness::builder(cfg.clone())
        .broker(broker.clone())
        .catalogue(cat.clone())
        .inspect(false)
        .build()
        .await
        .unwrap();
    let r = h.run().await;
    assert_eq!(r.ids_with(Verdict::Warn), only, "{}", r.to_json());
    r.assert_conformant();
    let strict = r.clone().with_gate(
        GatePolicy {
            warn_fails: true,
            ..GatePolicy::default()
        },
        None,
    );
    assert!(std::panic::catch_unwind(|| strict.assert_conformant()).is_err());

    // A protected-URL oracle cannot tell whose session: unknown grade, counted as FAIL.
    let mut weak = cfg;
    weak.oracle = OracleConfig::protected(weak.oracle.whoami_url.clone().unwrap());
    let r = Harness::builder(weak)
        .broker(broker)
        .catalogue(cat)
        .inspect(false)
        .build()
        .await
        .unwrap()
        .run()
        .await;
    for id in only {
        let x = r.get(id).unwrap();
        assert_eq!(
            (x.verdict, x.grade),
            (Verdict::Fail, Some(Grade::UnknownIdentity)),
            "{}",
            r.to_json()
        );
        assert!(x.message.contains("unknown"), "{}", x.message);
    }
}

/// Waivers expire by the harness's injected clock: the last day still holds, the next fails.
#[tokio::test]
async fn waivers_expire_by_the_injected_clock() {
    use mitid_harness::{Baseline, GateStatus};
    use mitid_mock_broker::config::FixedClock;
    use time::macros::date;
    let (broker, _sp, cfg) = setup(vec![Flaw::NoSignatureCheck]).await;
    let cat = Catalogue::builtin()
        .protocol(Protocol::Saml)
        .filter(&["signature.unsigned-assertion".to_string()], &[])
        .unwrap();
    let b = Baseline::from_toml_str(
        "[[waiver]]\nid = \"signature.unsigned-assertion\"\nreason = \"PROJ-9\"\nexpires = 2030-06-30\n",
        "b.toml",
    )
    .unwrap();
    for (day, status, waived) in [
        (date!(2030 - 06 - 30), GateStatus::Passed, 1),
        (date!(2030 - 07 - 01), GateStatus::Failed, 0),
    ] {
        let r = Harness::builder(cfg.clone())
            .broker(broker.clone())
            .catalogue(cat.clone())
            .inspect(false)
            .baseline(b.clone())
            .clock(Arc::new(FixedClock::new(day.midnight().assume_utc())))
            .build()
            .await
            .unwrap()
            .run()
            .await;
        assert_eq!(r.gate.status, status, "{}", r.to_json());
        assert_eq!(r.gate.waivers_checked_on, Some(day));
        assert_eq!(r.summary.waived, waived);
        assert_eq!(r.summary.failed, 1);
    }
}

// The strict SP's full SAML report is frozen by `saml_discrimination.rs`
// (snapshots/discrimination/saml_strict.snap), with every flawed SP's beside it.

/// The transcripts keep the protocol messages whole, so the HTML report decodes them: the
/// AuthnRequest (Redirect binding) and the SAMLResponse (POST binding) of a real login, and the
/// plaintext assertion of `legacy.unencrypted-assertion` (which the flawed SP accepts).
#[tokio::test]
async fn html_report_decodes_the_saml_messages_of_a_real_run() {
    let r = run(
        vec![Flaw::AllowPlaintextAssertion],
        &["mitid.person-substantial", "legacy.unencrypted-assertion"],
    )
    .await;
    let login = r.get("mitid.person-substantial").unwrap();
    let posted = login
        .transcript
        .iter()
        .flat_map(|e| &e.form)
        .find(|(k, _)| k == "SAMLResponse")
        .map(|(_, v)| v.clone())
        .expect("the ACS POST is in the transcript");
    assert!(posted.len() > 2048, "kept whole: {} bytes", posted.len());
    assert!(!posted.contains("bytes total]"));
    let html = mitid_harness::report::to_html(&r);
    assert!(
        !html.contains("could not be decoded"),
        "every message decodes"
    );
    assert!(html.contains("<dt>message</dt><dd>AuthnRequest</dd>"));
    assert!(html.contains("<dt>message</dt><dd>Response</dd>"));
    assert!(html.contains("encrypted for the SP"));
    assert!(html.contains("<dd>1 in plaintext</dd>"));
    assert!(html.contains("&lt;saml:Assertion "));
    assert_eq!(
        r.get("legacy.unencrypted-assertion").unwrap().verdict,
        Verdict::Fail,
        "{}",
        r.to_json()
    );
}

/// The RP's token response (the back channel the agent never sees) is in the transcript, as
/// the broker sent it, and the HTML report decodes its ID token.
#[tokio::test]
async fn oidc_transcripts_carry_the_token_response_and_the_report_decodes_the_id_token() {
    use mitid_reference::reference_rp::{PairOptions, RpPair};
    let pair = RpPair::start([], PairOptions::default()).await.unwrap();
    let cat = Catalogue::builtin()
        .protocol(Protocol::Oidc)
        .filter(&["oidc-mitid.person-substantial".to_string()], &[])
        .unwrap();
    let r = Harness::builder(pair.signaturgruppen.harness_config("reference-rp"))
        .broker(pair.broker.clone())
        .catalogue(cat)
        .inspect(false)
        .build()
        .await
        .unwrap()
        .run()
        .await;
    r.assert_conformant();
    let x = r.get("oidc-mitid.person-substantial").unwrap();
    let token = x
        .transcript
        .iter()
        .find(|e| e.url.ends_with("/connect/token"))
        .expect("the token response is in the transcript");
    let body: serde_json::Value = serde_json::from_str(&token.body).unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["id_token"].as_str().unwrap().split('.').count(), 3);
    let html = mitid_harness::report::to_html(&r);
    assert!(html.contains("id_token (in the JSON response), a JWT decoded"));
    assert!(html.contains("&quot;iss&quot;") || html.contains("\"iss\""));
    assert!(!html.contains("could not be decoded"));
}
