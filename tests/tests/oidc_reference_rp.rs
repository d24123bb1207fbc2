//! The strict reference RP on its own: it refuses each OIDC "reject" scenario for the reason
//! the scenario is about (not by accident, e.g. because an unrelated check tripped first), and
//! it passes the catalogue with ES256 ID tokens and `response_mode=form_post` as well.

use mitid_harness::scenario::{Protocol, StepBody};
use mitid_harness::{Catalogue, Expect, Harness, RunReport, Verdict};
use mitid_mock_broker::RunningBroker;
use mitid_mock_broker::oidc::SigningAlg;
use mitid_reference::reference_rp::{PairOptions, ResponseMode, RpPair, RunningRp};
use std::sync::Arc;

async fn run(rp: &RunningRp, broker: Arc<RunningBroker>, cat: Catalogue, conc: usize) -> RunReport {
    let cfg = rp.harness_config("reference-rp");
    Harness::builder(cfg)
        .broker(broker)
        .catalogue(cat)
        .concurrency(conc)
        .build()
        .await
        .unwrap()
        .run()
        .await
}

fn oidc() -> Catalogue {
    Catalogue::builtin().protocol(Protocol::Oidc)
}

fn rotates(id: &str) -> bool {
    oidc()
        .get(id)
        .is_some_and(|s| s.steps.iter().any(|st| st.rotates_key()))
}

/// The words the strict RP's refusal must contain, per reject scenario.
const REASONS: &[(&str, &str)] = &[
    ("oidc-brokers.userinfo-other-identity", "userinfo sub"),
    (
        "oidc-brokers.idura-business-without-role",
        "business login without employee or companySignatory",
    ),
    ("oidc-legacy.idp-nemid", "idp Some(\"nemid\")"),
    ("oidc-legacy.nemid-identity-claims", "NemID claim"),
    ("oidc-legacy.nemid-professional-claims", "NemID claim"),
    ("oidc-legacy.amr-nemid-otp", "NemID amr value \"nemid.otp\""),
    (
        "oidc-legacy.amr-nemid-keyfile",
        "NemID amr value \"nemid.keyfile\"",
    ),
    ("oidc-legacy.loa-missing", "assurance level None"),
    (
        "oidc-legacy.loa-low",
        "Low is below the required Substantial",
    ),
    (
        "oidc-legacy.identityscheme-dknemid",
        "identityscheme Some(\"dknemid\")",
    ),
    (
        "oidc-legacy.authenticationtype-nemid-poces",
        "NemID login method",
    ),
    (
        "oidc-legacy.authenticationtype-nemid-moces",
        "NemID login method",
    ),
    (
        "oidc-legacy.authenticationtype-nemid-moces-codefile",
        "NemID login method",
    ),
    (
        "oidc-legacy.acr-nemid-poces",
        "NemID login method \"urn:grn:authn:dk:nemid:poces\"",
    ),
    (
        "oidc-legacy.authenticationtype-missing",
        "assurance level None",
    ),
    (
        "oidc-legacy.authenticationtype-mitid-low",
        "Low is below the required Substantial",
    ),
    (
        "oidc-legacy.oces2-signing-key",
        "is not in the provider's JWKS",
    ),
    (
        "oidc-legacy.oces2-key-active-kid",
        "signature does not verify",
    ),
    (
        "oidc-forgery.bad-signature-rs256",
        "signature does not verify",
    ),
    (
        "oidc-forgery.bad-signature-es256",
        "signature does not verify",
    ),
    (
        "oidc-forgery.bad-signature-hs256",
        "alg \"HS256\" is not accepted",
    ),
    ("oidc-forgery.alg-none", "alg \"none\" is not accepted"),
    (
        "oidc-forgery.key-confusion-spki-pem",
        "alg \"HS256\" is not accepted",
    ),
    (
        "oidc-forgery.key-confusion-pkcs1-pem",
        "alg \"HS256\" is not accepted",
    ),
    (
        "oidc-forgery.key-confusion-spki-der",
        "alg \"HS256\" is not accepted",
    ),
    (
        "oidc-forgery.key-confusion-pkcs1-der",
        "alg \"HS256\" is not accepted",
    ),
    (
        "oidc-forgery.key-confusion-jwk-json",
        "alg \"HS256\" is not accepted",
    ),
    ("oidc-forgery.unknown-crit", "crit header"),
    (
        "oidc-forgery.key-confusion-spki-pem-crlf",
        "alg \"HS256\" is not accepted",
    ),
    (
        "oidc-forgery.key-confusion-spki-pem-no-final-newline",
        "alg \"HS256\" is not accepted",
    ),
    (
        "oidc-forgery.key-confusion-spki-pem-leading-space",
        "alg \"HS256\" is not accepted",
    ),
    (
        "oidc-forgery.key-confusion-pkcs1-pem-crlf",
        "alg \"HS256\" is not accepted",
    ),
    (
        "oidc-forgery.key-confusion-jwks-json",
        "alg \"HS256\" is not accepted",
    ),
    (
        "oidc-forgery.key-confusion-spki-pem-cr",
        "alg \"HS256\" is not accepted",
    ),
    (
        "oidc-forgery.key-confusion-spki-pem-one-line",
        "alg \"HS256\" is not accepted",
    ),
    (
        "oidc-forgery.key-confusion-spki-pem-comment-prefix",
        "alg \"HS256\" is not accepted",
    ),
    (
        "oidc-forgery.hs256-empty-key",
        "alg \"HS256\" is not accepted",
    ),
    (
        "oidc-forgery.hs256-empty-key-unknown-kid",
        "alg \"HS256\" is not accepted",
    ),
    (
        "oidc-forgery.hs256-empty-key-active-kid",
        "alg \"HS256\" is not accepted",
    ),
    (
        "oidc-forgery.hs512-empty-key-empty-kid",
        "alg \"HS512\" is not accepted",
    ),
    (
        "oidc-forgery.jwe-unsigned-claims",
        "the ID token is a JWE (five parts)",
    ),
    (
        "oidc-forgery.jwe-unsigned-claims-rsa-oaep",
        "the ID token is a JWE (five parts)",
    ),
    (
        "oidc-forgery.jwe-attacker-signed",
        "the ID token is a JWE (five parts)",
    ),
    (
        "oidc-forgery.jwe-attacker-signed-rsa-oaep",
        "the ID token is a JWE (five parts)",
    ),
    (
        "oidc-forgery.jwe-unsecured-inner-jwt",
        "the ID token is a JWE (five parts)",
    ),
    (
        "oidc-forgery.hmac-client-secret",
        "alg \"HS512\" is not accepted",
    ),
    (
        "oidc-keys.unknown-kid",
        "kid \"mock-unknown-kid\" is not in the provider's JWKS",
    ),
    (
        "oidc-keys.kid-absent-foreign-key",
        "signature does not verify",
    ),
    (
        "oidc-keys.jku-header",
        "kid \"mock-attacker\" is not in the provider's JWKS",
    ),
    ("oidc-keys.x5u-header", "signature does not verify"),
    (
        "oidc-keys.embedded-jwk",
        "kid \"mock-attacker\" is not in the provider's JWKS",
    ),
    ("oidc-claims.iss-wrong", "ID token: iss"),
    ("oidc-claims.iss-missing", "ID token: iss None"),
    ("oidc-claims.aud-wrong", "does not contain the client id"),
    ("oidc-claims.aud-missing", "does not contain the client id"),
    ("oidc-claims.iss-prefix", "ID token: iss"),
    (
        "oidc-claims.iss-substring",
        "ID token: iss Some(\"127.0.0.1\")",
    ),
    ("oidc-claims.iss-empty", "ID token: iss Some(\"\")"),
    ("oidc-claims.iss-superstring", "/evil\")"),
    ("oidc-claims.iss-trailing-slash", "ID token: iss"),
    ("oidc-claims.iss-array", "https://attacker.example"),
    ("oidc-claims.iss-array-single", "ID token: iss Some(\"[\\\""),
    (
        "oidc-claims.aud-wrong-array",
        "[\"some-other-client\"] does not contain the client id",
    ),
    (
        "oidc-claims.aud-empty-array",
        "aud [] does not contain the client id",
    ),
    (
        "oidc-claims.aud-empty-string",
        "aud \"\" does not contain the client id",
    ),
    (
        "oidc-claims.exp-string",
        "claim \"exp\" is missing or not of the right type",
    ),
    (
        "oidc-claims.exp-date-string",
        "claim \"exp\" is missing or not of the right type",
    ),
    (
        "oidc-claims.nbf-string",
        "claim \"nbf\" is missing or not of the right type",
    ),
    (
        "oidc-claims.exp-null",
        "claim \"exp\" is missing or not of the right type",
    ),
    (
        "oidc-claims.exp-missing",
        "claim \"exp\" is missing or not of the right type",
    ),
    ("oidc-claims.extra-audience-without-azp", "azp is None"),
    ("oidc-claims.sub-missing", "claim \"sub\" is missing"),
    ("oidc-claims.iat-missing", "claim \"iat\" is missing"),
    ("oidc-claims.exp-expired", "the token expired"),
    ("oidc-claims.nbf-in-future", "not valid before"),
    ("oidc-claims.iat-in-future", "issued in the future"),
    (
        "oidc-claims.nonce-wrong",
        "nonce Some(\"mock-nonce-of-another-login\")",
    ),
    ("oidc-claims.nonce-missing", "nonce None"),
    (
        "oidc-flow.state-wrong",
        "is not the state of this browser's login",
    ),
    ("oidc-flow.state-missing", "has no state"),
    ("oidc-flow.iss-param-wrong", "(RFC 9207)"),
    ("oidc-flow.iss-param-missing", "iss None"),
    ("oidc-flow.authorization-error", "error \"access_denied\""),
    (
        "oidc-flow.callback-replay",
        "no login is pending in this browser",
    ),
    ("oidc-flow.userinfo-sub-mismatch", "userinfo sub"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strict_rp_refuses_each_scenario_for_its_reason() {
    let cat = oidc();
    // A forged-headers step sends no message the RP could refuse: it is judged by whose
    // session whoami shows (tests/tests/forged_headers.rs), so it has no refusal reason.
    let rejecting: Vec<_> = cat
        .iter()
        .filter(|s| s.final_expect() == Expect::Reject)
        .filter(|s| {
            !s.steps
                .iter()
                .any(|st| matches!(st.body, StepBody::ForgedHeaders(_)))
        })
        .map(|s| s.id.clone())
        .collect();
    for id in &rejecting {
        assert!(
            REASONS.iter().any(|(r, _)| r == id),
            "no expected reason listed for {id}"
        );
    }
    let shared = RpPair::start([], PairOptions::default()).await.unwrap();
    let mut problems = Vec::new();
    for (id, want) in REASONS {
        let own;
        let pair = if rotates(id) {
            own = RpPair::start([], PairOptions::default()).await.unwrap();
            &own
        } else {
            &shared
        };
        for rp in pair.rps() {
            let before = rp.rejections().len();
            let only = cat.filter(&[id.to_string()], &[]).unwrap();
            let r = run(rp, pair.broker.clone(), only, 1).await;
            let res = r.get(id).unwrap();
            if res.verdict == Verdict::Skipped {
                continue;
            }
            let new: Vec<String> = rp.rejections().into_iter().skip(before).collect();
            let ok = res.verdict == Verdict::Pass && new.last().is_some_and(|m| m.contains(want));
            if !ok {
                problems.push(format!(
                    "{id} on {}: verdict {}, refusals {new:?}, expected one containing {want:?}",
                    rp.base_url(),
                    res.verdict.as_str()
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strict_rps_pass_with_es256_tokens_and_form_post() {
    let opts = PairOptions {
        id_token_alg: Some(SigningAlg::ES256),
        response_mode: ResponseMode::FormPost,
        ..PairOptions::default()
    };
    let cat = oidc();
    let plain: Vec<String> = cat
        .iter()
        .filter(|s| !rotates(&s.id))
        .map(|s| s.id.clone())
        .collect();
    let pair = RpPair::start([], opts).await.unwrap();
    let mut reports = Vec::new();
    for rp in pair.rps() {
        reports.push(run(rp, pair.broker.clone(), cat.filter(&plain, &[]).unwrap(), 6).await);
    }
    for s in cat.iter().filter(|s| rotates(&s.id)) {
        let own = RpPair::start([], opts).await.unwrap();
        for rp in own.rps() {
            let only = cat.filter(std::slice::from_ref(&s.id), &[]).unwrap();
            reports.push(run(rp, own.broker.clone(), only, 1).await);
        }
    }
    for r in &reports {
        r.assert_conformant();
    }
    let passed: usize = reports.iter().map(|r| r.summary.passed).sum();
    let skipped: usize = reports.iter().map(|r| r.summary.skipped).sum();
    // Every scenario runs on both RPs except the broker-specific ones, which run on one.
    assert_eq!(passed + skipped, 2 * cat.len());
    assert!(
        passed > cat.len(),
        "{passed} passes for {} scenarios",
        cat.len()
    );
}

/// An RP that sends neither `state` (relying on PKCE, RFC 9700 §4.7.1) nor `nonce` (optional
/// in the code flow), as openid-client's quick start does: the harness keys the flow by what
/// the RP did send, runs everything else, and reports the state and nonce scenarios as not
/// applicable (SKIPPED with the reason) instead of failing a correct RP or giving up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rp_without_state_or_nonce_skips_exactly_those_scenarios() {
    let cat = oidc();
    let plain: Vec<String> = cat
        .iter()
        .filter(|s| !rotates(&s.id))
        .map(|s| s.id.clone())
        .collect();
    // What each scenario declares: `applies.rp_sends_nonce` / `rp_sends_state`.
    let needs = |id: &str| {
        let a = &cat.get(id).expect("scenario in the catalogue").applies;
        (a.rp_sends_state, a.rp_sends_nonce)
    };
    for (state, nonce) in [(true, false), (false, true), (true, true)] {
        let opts = PairOptions {
            omit_state: state,
            omit_nonce: nonce,
            ..PairOptions::default()
        };
        let pair = RpPair::start([], opts).await.unwrap();
        let r = run(
            &pair.signaturgruppen,
            pair.broker.clone(),
            cat.filter(&plain, &[]).unwrap(),
            6,
        )
        .await;
        r.assert_conformant();
        let not_applicable: std::collections::BTreeSet<&str> = r
            .results
            .iter()
            .filter(|x| x.message.starts_with("not applicable"))
            .map(|x| x.id.as_str())
            .collect();
        let want: std::collections::BTreeSet<&str> = plain
            .iter()
            .map(String::as_str)
            .filter(|id| {
                let (needs_state, needs_nonce) = needs(id);
                (needs_state && state) || (needs_nonce && nonce)
            })
            .collect();
        assert_eq!(not_applicable, want, "omit state={state} nonce={nonce}");
        assert!(!want.is_empty());
    }
}

/// Signaturgruppen keeps the identity out of the ID token ("the ID token does not include all
/// issued user claims", issued-claims-tokens.md): an RP that never calls userinfo finds no MitID
/// UUID there and cannot log anyone in, while at Idura (identity in the ID token) it can. With
/// the broker's `minimal_id_token = false` (the mock's old default) the same RP passed, which
/// is the fidelity gap this default closes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_rp_that_never_calls_userinfo_finds_no_identity_at_signaturgruppen() {
    let id = "oidc-mitid.person-substantial";
    for (minimal, sg_verdict) in [(None, Verdict::Fail), (Some(false), Verdict::Pass)] {
        let opts = PairOptions {
            skip_userinfo: true,
            minimal_id_token: minimal,
            ..PairOptions::default()
        };
        let pair = RpPair::start([], opts).await.unwrap();
        let only = || oidc().filter(&[id.to_string()], &[]).unwrap();
        let sg = run(&pair.signaturgruppen, pair.broker.clone(), only(), 1).await;
        let idura = run(&pair.idura, pair.broker.clone(), only(), 1).await;
        assert_eq!(
            sg.get(id).unwrap().verdict,
            sg_verdict,
            "minimal_id_token {minimal:?}: {}",
            sg.get(id).unwrap().message
        );
        assert_eq!(idura.get(id).unwrap().verdict, Verdict::Pass);
    }
}
