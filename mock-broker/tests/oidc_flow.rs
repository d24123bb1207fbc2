//! End-to-end OIDC flows against the mock provider over loopback HTTP, with ID tokens verified
//! by openidconnect's own verifier.

mod oidc_support;

use mitid_mock_broker::oidc::{BrokerIdToken, FlowKey, OidcFault, OidcFaultPlan};
use oidc_support::*;
use openidconnect::core::{CoreIdTokenVerifier, CoreJsonWebKeySet, CoreJwsSigningAlgorithm};
use openidconnect::{
    AccessToken, AccessTokenHash, ClientId, ClientSecret, IssuerUrl, Nonce, TokenResponse as _,
};
use serde_json::{Value, json};
use std::str::FromStr;

async fn verifier(mock: &Mock, issuer: &str, client: &str) -> CoreIdTokenVerifier<'static> {
    let jwks_uri = mock.endpoint(issuer, "jwks_uri").await;
    let jwks: CoreJsonWebKeySet = mock
        .http
        .get(jwks_uri)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    CoreIdTokenVerifier::new_confidential_client(
        ClientId::new(client.into()),
        ClientSecret::new(SECRET.into()),
        IssuerUrl::new(mock.provider.issuer_url(issuer).unwrap()).unwrap(),
        jwks,
    )
    .set_allowed_algs(vec![
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    ])
}

#[tokio::test]
async fn signaturgruppen_es256_minimal_code_flow_verifies_with_openidconnect() {
    let mock = start(config()).await;
    let flow = Flow::new("sg");
    let url = mock
        .authorize_url("signaturgruppen", "rp", &flow, &[("mock_identity", "anna")])
        .await;
    let params = mock.authorize(&url).await;
    assert_eq!(params["state"], flow.state);
    assert_eq!(
        params["iss"],
        mock.provider.issuer_url("signaturgruppen").unwrap(),
        "RFC 9207 iss"
    );
    let resp = mock
        .token("signaturgruppen", "rp", &params["code"], &flow)
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let tok: Value = resp.json().await.unwrap();
    assert_eq!(tok["token_type"], "Bearer");
    let raw = tok["id_token"].as_str().unwrap();
    let (header, _, _, _) = decode_jws(raw);
    // "ES256 (ECDSA using P-256 and SHA-256) or stronger" (Signaturgruppen tech-security.md).
    assert_eq!(header["alg"], "ES256");
    assert_eq!(header["kid"], "mock-oidc_es256");

    let v = verifier(&mock, "signaturgruppen", "rp").await;
    let id_token = BrokerIdToken::from_str(raw).unwrap();
    let claims = id_token
        .claims(&v, &Nonce::new(flow.nonce.clone()))
        .expect("openidconnect accepts the well-formed token");
    let at = AccessToken::new(tok["access_token"].as_str().unwrap().into());
    let expected_hash = AccessTokenHash::from_token(
        &at,
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&v).unwrap(),
    )
    .unwrap();
    assert_eq!(claims.access_token_hash(), Some(&expected_hash));
    let extra = &claims.additional_claims().claims;
    assert_eq!(extra["idp"], "mitid");
    assert_eq!(extra["identity_type"], "private");
    assert_eq!(
        extra["loa"],
        "https://data.gov.dk/concept/core/nsis/Substantial"
    );
    // The ID token is minimal: the identity is at userinfo (issued-claims-tokens.md).
    assert!(!extra.contains_key("mitid.uuid") && !extra.contains_key("dk.cpr"));
    assert!(extra.contains_key("neb_sid") && extra.contains_key("transaction_id"));

    let ui: Value = mock
        .userinfo("signaturgruppen", at.secret())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ui["sub"].as_str().unwrap(), claims.subject().as_str());
    assert_eq!(ui["mitid.uuid"], "8f3c2b1a-4d5e-4f60-8a7b-1c2d3e4f5a01");
    assert_eq!(ui["dk.cpr"], "0304851237");
}

/// MitID Erhverv asked for High: Signaturgruppen "cannot issue higher than Substantial"; whether
/// it refuses or downgrades is unconfirmed, so both are configurable (downgrade by default).
#[tokio::test]
async fn erhverv_asked_for_high_is_downgraded_or_refused() {
    let high = [
        ("mock_identity", "erik-erhverv"),
        ("idp_values", "mitid_erhverv"),
        ("idp_params", r#"{"mitid":{"loa_value":"high"}}"#),
    ];
    let mock = start(config()).await;
    let flow = Flow::new("erhverv-high");
    let url = mock
        .authorize_url("signaturgruppen", "rp", &flow, &high)
        .await;
    let params = mock.authorize(&url).await;
    let tok: Value = mock
        .token("signaturgruppen", "rp", &params["code"], &flow)
        .await
        .json()
        .await
        .unwrap();
    let (_, claims, _, _) = decode_jws(tok["id_token"].as_str().unwrap());
    assert_eq!(
        claims["loa"],
        "https://data.gov.dk/concept/core/nsis/Substantial"
    );
    assert_eq!(claims["loip"], "baseline");

    let mut cfg = config();
    cfg.issuers[0].professional_above_cap = mitid_mock_broker::oidc::AboveCap::Refuse;
    let mock = start(cfg).await;
    let flow = Flow::new("erhverv-high-refused");
    let url = mock
        .authorize_url("signaturgruppen", "rp", &flow, &high)
        .await;
    let params = mock.authorize(&url).await;
    assert_eq!(params["error"], "access_denied", "{params:?}");
}

#[tokio::test]
async fn idura_es256_form_post_and_client_secret_post() {
    let mock = start(config()).await;
    let flow = Flow::new("idura");
    let url = mock
        .authorize_url(
            "idura",
            "rp-es256",
            &flow,
            &[
                ("mock_identity", "bo"),
                ("acr_values", "urn:grn:authn:dk:mitid:high"),
                ("response_mode", "form_post"),
            ],
        )
        .await;
    let resp = mock.http.get(&url).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.unwrap();
    assert!(html.contains(&format!("action=\"{REDIRECT}\"")), "{html}");
    let field = |name: &str| {
        let needle = format!("name=\"{name}\" value=\"");
        let start = html
            .find(&needle)
            .unwrap_or_else(|| panic!("{name} in {html}"))
            + needle.len();
        html[start..start + html[start..].find('"').unwrap()].to_string()
    };
    assert_eq!(field("state"), flow.state);
    let code = field("code");
    let tok: Value = mock
        .http
        .post(mock.endpoint("idura", "token_endpoint").await)
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &flow.verifier),
            ("client_id", "rp-es256"),
            ("client_secret", SECRET),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let raw = tok["id_token"].as_str().unwrap();
    assert_eq!(decode_jws(raw).0["alg"], "ES256");
    let v = verifier(&mock, "idura", "rp-es256").await;
    let claims = BrokerIdToken::from_str(raw)
        .unwrap()
        .claims(&v, &Nonce::new(flow.nonce.clone()))
        .expect("ES256 token verifies")
        .clone();
    let extra = &claims.additional_claims().claims;
    assert_eq!(extra["identityscheme"], "dkmitid");
    assert_eq!(extra["authenticationtype"], "urn:grn:authn:dk:mitid:high");
    assert_eq!(extra["loA"], "HIGH");
    let sub = claims.subject().as_str();
    assert!(sub.starts_with('{') && sub.ends_with('}'), "{sub}");
}

#[tokio::test]
async fn openidconnect_rejects_a_token_for_another_nonce() {
    // Guards the verifier-based tests above: they would pass vacuously if verification were
    // not actually happening.
    let mock = start(config()).await;
    let (_, tok, _) = mock.run("signaturgruppen", "anna", None).await;
    let v = verifier(&mock, "signaturgruppen", "rp").await;
    let t = BrokerIdToken::from_str(tok["id_token"].as_str().unwrap()).unwrap();
    assert!(t.claims(&v, &Nonce::new("other".into())).is_err());
}

#[tokio::test]
async fn private_key_jwt_rs256_and_es256() {
    let mock = start(config()).await;
    let token_ep = mock.endpoint("idura", "token_endpoint").await;
    for ec in [false, true] {
        let flow = Flow::new("jwt");
        let url = mock
            .authorize_url("idura", "rp-jwt", &flow, &[("mock_identity", "anna")])
            .await;
        let code = mock.authorize(&url).await["code"].clone();
        let assertion = client_assertion(&token_ep, ec, |_, _| {});
        let form = |a: &str| {
            vec![
                ("grant_type", "authorization_code".to_string()),
                ("code", code.clone()),
                ("redirect_uri", REDIRECT.to_string()),
                ("code_verifier", flow.verifier.clone()),
                (
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".to_string(),
                ),
                ("client_assertion", a.to_string()),
            ]
        };
        let resp = mock
            .http
            .post(&token_ep)
            .form(&form(&assertion))
            .send()
            .await
            .unwrap();
        assert_eq!(
            resp.status(),
            200,
            "ec={ec}: {}",
            resp.text().await.unwrap()
        );
        // The same assertion again: jti replay.
        let resp = mock
            .http
            .post(&token_ep)
            .form(&form(&assertion))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 401);
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["error"], "invalid_client");
        assert!(body["error_description"].as_str().unwrap().contains("jti"));
    }
    // Wrong audience, expired, alg none, other key id: all invalid_client.
    let bad = [
        client_assertion("https://elsewhere.example/token", false, |_, _| {}),
        client_assertion(&token_ep, false, |_, c| c["exp"] = json!(1_000_000)),
        client_assertion(&token_ep, false, |_, c| c["exp"] = json!(i64::MAX)),
        client_assertion(&token_ep, false, |_, c| c["exp"] = json!(i64::MIN)),
        client_assertion(&token_ep, false, |h, _| h["alg"] = json!("none")),
        client_assertion(&token_ep, false, |h, _| h["kid"] = json!("rp-ec")),
        client_assertion(&token_ep, false, |_, c| c["sub"] = json!("rp")),
        client_assertion(&token_ep, false, |_, c| {
            c.as_object_mut().unwrap().remove("jti");
        }),
    ];
    for (i, a) in bad.iter().enumerate() {
        let resp = mock
            .http
            .post(&token_ep)
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", "whatever"),
                ("redirect_uri", REDIRECT),
                (
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                ),
                ("client_assertion", a),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 401, "case {i}");
        assert_eq!(
            resp.json::<Value>().await.unwrap()["error"],
            "invalid_client"
        );
    }
}

#[tokio::test]
async fn pkce_plain_is_rejected_and_public_clients_need_pkce() {
    let mock = start(config()).await;
    let flow = Flow::new("plain");
    let url = mock
        .authorize_url("signaturgruppen", "rp", &flow, &[("mock_identity", "anna")])
        .await
        .replace("code_challenge_method=S256", "code_challenge_method=plain");
    let p = mock.authorize(&url).await;
    assert_eq!(p["error"], "invalid_request");
    assert!(p["error_description"].contains("plain"));
    assert_eq!(p["state"], flow.state);
    assert!(!p.contains_key("code"));

    let url = mock
        .authorize_url(
            "signaturgruppen",
            "rp-public",
            &flow,
            &[("mock_identity", "anna")],
        )
        .await;
    let url = url::Url::parse(&url).unwrap();
    let stripped: Vec<(String, String)> = url
        .query_pairs()
        .into_owned()
        .filter(|(k, _)| !k.starts_with("code_challenge"))
        .collect();
    let mut u2 = url.clone();
    u2.query_pairs_mut().clear().extend_pairs(stripped);
    let p = mock.authorize(u2.as_str()).await;
    assert_eq!(p["error"], "invalid_request");
    assert!(p["error_description"].contains("PKCE"));

    // And a wrong verifier fails at the token endpoint.
    let url = mock
        .authorize_url("signaturgruppen", "rp", &flow, &[("mock_identity", "anna")])
        .await;
    let code = mock.authorize(&url).await["code"].clone();
    let mut wrong = Flow::new("other");
    wrong.challenge.clear();
    let resp = mock.token("signaturgruppen", "rp", &code, &wrong).await;
    assert_eq!(resp.status(), 400);
    assert_eq!(
        resp.json::<Value>().await.unwrap()["error"],
        "invalid_grant"
    );
}

#[tokio::test]
async fn unregistered_redirect_uri_and_unknown_client_get_a_page_not_a_redirect() {
    let mock = start(config()).await;
    let flow = Flow::new("redir");
    for (from, to) in [
        (
            "redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcb",
            "redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcb%2F",
        ),
        (
            "redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcb",
            "redirect_uri=http%3A%2F%2Fevil.example%2Fcb",
        ),
        ("client_id=rp", "client_id=nobody"),
    ] {
        let url = mock
            .authorize_url("signaturgruppen", "rp", &flow, &[("mock_identity", "anna")])
            .await
            .replace(from, to);
        assert!(url.contains(to), "{url}");
        let resp = mock.http.get(&url).send().await.unwrap();
        assert_eq!(resp.status(), 400, "{url}");
        assert!(resp.headers().get("location").is_none());
        assert!(
            resp.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        let body = resp.text().await.unwrap();
        assert!(body.contains("invalid_"), "{body}");
    }
}

#[tokio::test]
async fn code_replay_is_rejected_and_revokes_tokens_unless_armed() {
    let mock = start(config()).await;
    let flow = Flow::new("replay");
    let url = mock
        .authorize_url("signaturgruppen", "rp", &flow, &[("mock_identity", "anna")])
        .await;
    let code = mock.authorize(&url).await["code"].clone();
    let first: Value = mock
        .token("signaturgruppen", "rp", &code, &flow)
        .await
        .json()
        .await
        .unwrap();
    let at = first["access_token"].as_str().unwrap();
    assert_eq!(mock.userinfo("signaturgruppen", at).await.status(), 200);
    let second = mock.token("signaturgruppen", "rp", &code, &flow).await;
    assert_eq!(second.status(), 400);
    assert_eq!(
        second.json::<Value>().await.unwrap()["error"],
        "invalid_grant"
    );
    let revoked = mock.userinfo("signaturgruppen", at).await;
    assert_eq!(revoked.status(), 401);
    assert!(
        revoked.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("invalid_token")
    );

    // With the fault armed, the mock serves the same code twice.
    let flow = Flow::new("replay2");
    mock.provider
        .arm(
            FlowKey::State(flow.state.clone()),
            OidcFaultPlan::new(vec![OidcFault::CodeReplay {}]),
        )
        .unwrap();
    let url = mock
        .authorize_url("signaturgruppen", "rp", &flow, &[("mock_identity", "anna")])
        .await;
    let code = mock.authorize(&url).await["code"].clone();
    for _ in 0..2 {
        let r = mock.token("signaturgruppen", "rp", &code, &flow).await;
        assert_eq!(r.status(), 200);
    }
}

#[tokio::test]
async fn key_rotation_switches_the_active_kid_and_keeps_the_previous_published() {
    let mock = start({
        // Rotation of the RSA ring, which this issuer then signs with (its default is ES256).
        let mut cfg = config();
        cfg.issuers[0].id_token_alg = Some(mitid_mock_broker::oidc::SigningAlg::RS256);
        cfg
    })
    .await;
    let jwks_uri = mock.endpoint("signaturgruppen", "jwks_uri").await;
    let kids = |v: Value| -> Vec<String> {
        v["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap().to_string())
            .collect()
    };
    let before = kids(
        mock.http
            .get(&jwks_uri)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap(),
    );
    assert_eq!(before, ["mock-oidc_rs256_a", "mock-oidc_es256"]);
    let (_, tok, _) = mock.run("signaturgruppen", "anna", None).await;
    assert_eq!(
        decode_jws(tok["id_token"].as_str().unwrap()).0["kid"],
        "mock-oidc_rs256_a"
    );

    let active = mock.provider.rotate_signing_key("signaturgruppen").unwrap();
    // Both rings rotate: the ES256 ring holds a second mock key too.
    assert_eq!(active, ["mock-oidc_rs256_b", "mock-oidc_es256_b"]);
    let after = kids(
        mock.http
            .get(&jwks_uri)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap(),
    );
    assert_eq!(
        after,
        [
            "mock-oidc_rs256_b",
            "mock-oidc_rs256_a",
            "mock-oidc_es256_b",
            "mock-oidc_es256"
        ]
    );
    let (_, tok, _) = mock.run("signaturgruppen", "anna", None).await;
    let raw = tok["id_token"].as_str().unwrap();
    assert_eq!(decode_jws(raw).0["kid"], "mock-oidc_rs256_b");
    // An RP that refetches the JWKS accepts the new token.
    let v = verifier(&mock, "signaturgruppen", "rp").await;
    let t = BrokerIdToken::from_str(raw).unwrap();
    let nonce = decode_jws(raw).1["nonce"].as_str().unwrap().to_string();
    assert!(t.claims(&v, &Nonce::new(nonce)).is_ok());
    // The other issuer is untouched.
    assert_eq!(
        mock.provider.published_kids("idura").unwrap(),
        ["mock-oidc_rs256_a", "mock-oidc_es256"]
    );
}

#[tokio::test]
async fn chooser_page_and_login_form_complete_the_flow() {
    let mock = start(config()).await;
    let flow = Flow::new("chooser");
    let url = mock
        .authorize_url(
            "signaturgruppen",
            "rp",
            &flow,
            &[
                ("idp_values", "mitid_erhverv"),
                ("scope", "openid nemlogin"),
            ],
        )
        .await;
    let resp = mock.http.get(&url).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.unwrap();
    assert!(
        html.contains("erik-erhverv") && !html.contains("(MitID, anna)"),
        "{html}"
    );
    let needle = "name=\"txn\" value=\"";
    let s = html.find(needle).unwrap() + needle.len();
    let txn = &html[s..s + html[s..].find('"').unwrap()];
    let login = format!("{}/signaturgruppen/op/mock/login", mock.base);
    let resp = mock
        .http
        .post(&login)
        .form(&[
            ("txn", txn),
            ("identity", "erik-erhverv"),
            ("loa", "Substantial"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 302);
    let p = location_params(&resp);
    assert_eq!(p["state"], flow.state);
    let tok: Value = mock
        .token("signaturgruppen", "rp", &p["code"], &flow)
        .await
        .json()
        .await
        .unwrap();
    let payload = decode_jws(tok["id_token"].as_str().unwrap()).1;
    assert_eq!(payload["idp"], "mitid_erhverv");
    assert_eq!(payload["identity_type"], "professional");
    // The transaction is single-use.
    let again = mock
        .http
        .post(&login)
        .form(&[("txn", txn), ("identity", "erik-erhverv")])
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 400);
}

#[tokio::test]
async fn preselect_over_the_control_endpoint_and_par() {
    let mock = start(config()).await;
    let flow = Flow::new("pre");
    let resp = mock
        .http
        .post(format!("{}/_mock/oidc/preselect", mock.base))
        .bearer_auth(mock.provider.control_token().unwrap())
        .json(&json!({ "key": { "state": flow.state }, "identity": "bo", "loa": "High" }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    let url = mock.authorize_url("idura", "rp", &flow, &[]).await;
    let p = mock.authorize(&url).await;
    let tok: Value = mock
        .token("idura", "rp", &p["code"], &flow)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        decode_jws(tok["id_token"].as_str().unwrap()).1["loA"],
        "HIGH"
    );

    // PAR at Idura: push, then authorize with only client_id + request_uri.
    let par = mock
        .endpoint("idura", "pushed_authorization_request_endpoint")
        .await;
    let flow = Flow::new("par");
    let pushed: Value = mock
        .http
        .post(&par)
        .basic_auth("rp", Some(SECRET))
        .form(&[
            ("response_type", "code"),
            ("redirect_uri", REDIRECT),
            ("scope", "openid"),
            ("state", &flow.state),
            ("nonce", &flow.nonce),
            ("code_challenge", &flow.challenge),
            ("code_challenge_method", "S256"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let request_uri = pushed["request_uri"].as_str().unwrap();
    let auth = mock.endpoint("idura", "authorization_endpoint").await;
    let mut u = url::Url::parse(&auth).unwrap();
    u.query_pairs_mut()
        .append_pair("client_id", "rp")
        .append_pair("request_uri", request_uri)
        .append_pair("mock_identity", "anna");
    let p = mock.authorize(u.as_str()).await;
    assert_eq!(p["state"], flow.state);
    assert!(p.contains_key("code"));
    // One-time use.
    let resp = mock.http.get(u.as_str()).send().await.unwrap();
    assert_eq!(resp.status(), 400);
    // Signaturgruppen serves PAR at /op/connect/par since December 2024 (par.md).
    let sg_par = mock.discovery("signaturgruppen").await["pushed_authorization_request_endpoint"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        sg_par.ends_with("/signaturgruppen/op/connect/par"),
        "{sg_par}"
    );
}

#[tokio::test]
async fn end_session_redirects_only_to_registered_uris() {
    let mock = start(config()).await;
    let ep = mock
        .endpoint("signaturgruppen", "end_session_endpoint")
        .await;
    let with = |pairs: &[(&str, &str)]| {
        let mut u = url::Url::parse(&ep).unwrap();
        u.query_pairs_mut().extend_pairs(pairs);
        u.to_string()
    };
    let ok = mock
        .http
        .get(with(&[
            ("client_id", "rp"),
            ("post_logout_redirect_uri", "http://127.0.0.1:9/bye"),
            ("state", "s"),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 302);
    assert_eq!(ok.headers()["location"], "http://127.0.0.1:9/bye?state=s");
    let bad = mock
        .http
        .get(with(&[
            ("client_id", "rp"),
            ("post_logout_redirect_uri", "http://evil.example/bye"),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    assert!(bad.headers().get("location").is_none());
}

#[tokio::test]
async fn single_key_issuer_token_without_kid_verifies() {
    // OpenID RP test oidcc-client-test-kid-absent-single-jwks: the RP must accept.
    let mut cfg = config();
    let mut single = mitid_mock_broker::oidc::IssuerConfig::default_for(
        "single",
        "/single/op",
        mitid_mock_broker::oidc::Profile::Signaturgruppen,
    );
    single.rsa_keys = vec!["oidc_rs256_a".into()];
    single.ec_keys = vec![];
    single.id_token_alg = Some(mitid_mock_broker::oidc::SigningAlg::RS256);
    cfg.issuers.push(single);
    for c in &mut cfg.clients {
        if c.client_id == "rp-es256" {
            c.issuers = vec!["signaturgruppen".into(), "idura".into()];
        }
    }
    let mock = start(cfg).await;
    assert_eq!(
        mock.provider.published_kids("single").unwrap(),
        ["mock-oidc_rs256_a"]
    );
    let (_, tok, _) = mock
        .run(
            "single",
            "anna",
            Some(OidcFaultPlan::new(vec![OidcFault::OmitKid {}])),
        )
        .await;
    let raw = tok["id_token"].as_str().unwrap();
    assert!(decode_jws(raw).0.get("kid").is_none());
    let v = verifier(&mock, "single", "rp").await;
    let nonce = decode_jws(raw).1["nonce"].as_str().unwrap().to_string();
    BrokerIdToken::from_str(raw)
        .unwrap()
        .claims(&v, &Nonce::new(nonce))
        .expect("a kid-less token verifies against a one-key JWKS");
    // Rotation of a one-key ring is a no-op.
    assert_eq!(
        mock.provider.rotate_signing_key("single").unwrap(),
        ["mock-oidc_rs256_a"]
    );
}

#[tokio::test]
async fn development_switch_accepts_loopback_clients_only() {
    let mut cfg = config();
    cfg.dev_accept_any_loopback_client = true;
    let mock = start(cfg).await;
    let flow = Flow::new("dev");
    let url = mock
        .authorize_url(
            "idura",
            "any-dev-client",
            &flow,
            &[("mock_identity", "anna")],
        )
        .await;
    let code = mock.authorize(&url).await["code"].clone();
    let resp = mock
        .http
        .post(mock.endpoint("idura", "token_endpoint").await)
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &flow.verifier),
            ("client_id", "any-dev-client"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    // Not on loopback: refused with a page, no redirect.
    let url = mock
        .authorize_url(
            "idura",
            "any-dev-client",
            &flow,
            &[("redirect_uri", "http://rp.example/cb")],
        )
        .await;
    let resp = mock.http.get(&url).send().await.unwrap();
    assert_eq!(resp.status(), 400);
    assert!(resp.headers().get("location").is_none());
    // Without the switch the same loopback client is unknown.
    let strict = start(config()).await;
    let url = strict
        .authorize_url(
            "idura",
            "any-dev-client",
            &flow,
            &[("mock_identity", "anna")],
        )
        .await;
    assert_eq!(strict.http.get(&url).send().await.unwrap().status(), 400);
}

#[tokio::test]
async fn codes_and_access_tokens_expire_on_the_injected_clock() {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let clock = std::sync::Arc::new(mitid_mock_broker::oidc::ManualClock::new(now));
    let mock = start_with_clock(config(), Some(clock.clone())).await;
    // A code older than code_lifetime_secs (60 s by default) is refused.
    let flow = Flow::new("clock");
    let url = mock
        .authorize_url("signaturgruppen", "rp", &flow, &[("mock_identity", "anna")])
        .await;
    let code = mock.authorize(&url).await["code"].clone();
    clock.advance(61);
    let resp = mock.token("signaturgruppen", "rp", &code, &flow).await;
    assert_eq!(resp.status(), 400);
    assert_eq!(
        resp.json::<Value>().await.unwrap()["error"],
        "invalid_grant"
    );
    // A fresh code works, and its ID token carries the injected time.
    let flow = Flow::new("clock2");
    let url = mock
        .authorize_url("signaturgruppen", "rp", &flow, &[("mock_identity", "anna")])
        .await;
    let code = mock.authorize(&url).await["code"].clone();
    let tok: Value = mock
        .token("signaturgruppen", "rp", &code, &flow)
        .await
        .json()
        .await
        .unwrap();
    let payload = decode_jws(tok["id_token"].as_str().unwrap()).1;
    assert_eq!(payload["iat"], now + 61);
    assert_eq!(payload["exp"], now + 61 + 300);
    let at = tok["access_token"].as_str().unwrap();
    assert_eq!(mock.userinfo("signaturgruppen", at).await.status(), 200);
    // The access token expires after access_token_lifetime_secs.
    clock.advance(3600);
    assert_eq!(mock.userinfo("signaturgruppen", at).await.status(), 401);
}

#[tokio::test]
async fn token_response_type_is_usable_by_openidconnect() {
    // The token endpoint's JSON parses as openidconnect's core token response.
    let mock = start(config()).await;
    let (_, tok, _) = mock.run("signaturgruppen", "anna", None).await;
    let parsed: openidconnect::core::CoreTokenResponse = serde_json::from_value(tok).unwrap();
    assert!(parsed.id_token().is_some());
}

#[tokio::test]
async fn token_responses_are_kept_per_flow_for_reports() {
    let mock = start(config()).await;
    let flow = Flow::new("kept");
    let url = mock
        .authorize_url("signaturgruppen", "rp", &flow, &[("mock_identity", "anna")])
        .await;
    let params = mock.authorize(&url).await;
    assert!(
        mock.provider
            .token_responses(&FlowKey::State(flow.state.clone()))
            .is_empty(),
        "nothing before the token request"
    );
    let tok: Value = mock
        .token("signaturgruppen", "rp", &params["code"], &flow)
        .await
        .json()
        .await
        .unwrap();
    // The same response, found by each key the RP sent; another flow's is not.
    for key in [
        FlowKey::State(flow.state.clone()),
        FlowKey::Nonce(flow.nonce.clone()),
        FlowKey::CodeChallenge(flow.challenge.clone()),
    ] {
        let kept = mock.provider.token_responses(&key);
        assert_eq!(kept.len(), 1, "{key:?}");
        assert_eq!(kept[0].response, tok);
        assert!(kept[0].token_endpoint.ends_with("/connect/token"));
    }
    let (_, other, _) = mock.run("signaturgruppen", "anna", None).await;
    assert_ne!(other["id_token"], tok["id_token"]);
    assert_eq!(
        mock.provider
            .token_responses(&FlowKey::State(flow.state.clone()))
            .len(),
        1
    );
    assert!(
        mock.provider
            .token_responses(&FlowKey::ClientId("rp".into()))
            .is_empty()
    );
}
