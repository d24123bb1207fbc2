//! Each fault family of the dangerous API produces what it says: decode what the mock sent and
//! check the one thing that is broken, and that everything else stays intact (so a scenario
//! built on the fault tests exactly that defect).

mod oidc_support;

use aws_lc_rs::hmac;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED, RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents, UnparsedPublicKey,
};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD as B64};
use mitid_mock_broker::oidc::dangerous::{
    BadSignatureAlg, ClaimTarget, HmacAlg, KidChoice, PublicKeyEncoding,
};
use mitid_mock_broker::oidc::{FlowKey, OidcFault, OidcFaultPlan};
use oidc_support::*;
use serde_json::{Value, json};

/// The test configuration with the Signaturgruppen issuer signing RS256 (its documented
/// default is ES256): these tests check the RSA-key attacks against the active RSA key.
fn rs256_config() -> mitid_mock_broker::oidc::OidcConfig {
    let mut cfg = config();
    cfg.issuers[0].id_token_alg = Some(mitid_mock_broker::oidc::SigningAlg::RS256);
    cfg
}

fn plan(faults: Vec<OidcFault>) -> Option<OidcFaultPlan> {
    Some(OidcFaultPlan::new(faults))
}

/// Verify a JWS signature against a JWK (RSA or P-256), independently of the mock's code.
fn verifies_with_jwk(jwk: &Value, input: &str, sig: &[u8]) -> bool {
    let b = |f: &str| B64.decode(jwk[f].as_str().unwrap()).unwrap();
    match jwk["kty"].as_str().unwrap() {
        "RSA" => RsaPublicKeyComponents {
            n: b("n"),
            e: b("e"),
        }
        .verify(&RSA_PKCS1_2048_8192_SHA256, input.as_bytes(), sig)
        .is_ok(),
        "EC" => {
            let mut point = vec![4u8];
            point.extend(b("x"));
            point.extend(b("y"));
            UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &point)
                .verify(input.as_bytes(), sig)
                .is_ok()
        }
        k => panic!("kty {k}"),
    }
}

async fn published_jwk(mock: &Mock, issuer: &str, kid: &str) -> Option<Value> {
    let uri = mock.endpoint(issuer, "jwks_uri").await;
    let jwks: Value = mock
        .http
        .get(uri)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid)
        .cloned()
}

async fn id_token(
    mock: &Mock,
    faults: Vec<OidcFault>,
) -> (Value, Value, Vec<u8>, String, Option<Value>) {
    let (_, tok, ui) = mock.run("signaturgruppen", "anna", plan(faults)).await;
    let raw = tok["id_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no id_token in {tok}"));
    let (h, p, s, input) = decode_jws(raw);
    (h, p, s, input, ui)
}

#[tokio::test]
async fn legacy_nemid_claim_edits_reach_id_token_and_userinfo() {
    let mock = start(rs256_config()).await;
    let (h, p, s, input, ui) = id_token(
        &mock,
        vec![
            OidcFault::SetClaim {
                claim: "idp".into(),
                value: json!("nemid"),
                target: ClaimTarget::Both,
            },
            OidcFault::SetClaim {
                claim: "amr".into(),
                value: json!(["nemid.otp"]),
                target: ClaimTarget::IdToken,
            },
            OidcFault::SetClaim {
                claim: "nemid.ssn".into(),
                value: json!("0304851237"),
                target: ClaimTarget::Userinfo,
            },
            OidcFault::RemoveClaim {
                claim: "loa".into(),
                target: ClaimTarget::Both,
            },
        ],
    )
    .await;
    assert_eq!(p["idp"], "nemid");
    assert_eq!(p["amr"], json!(["nemid.otp"]));
    assert!(p.get("loa").is_none());
    assert!(
        p.get("nemid.ssn").is_none(),
        "userinfo-only edit stays out of the ID token"
    );
    let ui = ui.unwrap();
    assert_eq!(ui["idp"], "nemid");
    assert_eq!(ui["nemid.ssn"], "0304851237");
    assert!(ui.get("loa").is_none());
    assert_ne!(ui["amr"], json!(["nemid.otp"]));
    // Everything else is intact: properly signed by the published key, nonce, at_hash.
    let jwk = published_jwk(&mock, "signaturgruppen", h["kid"].as_str().unwrap())
        .await
        .unwrap();
    assert!(verifies_with_jwk(&jwk, &input, &s));
    assert!(p["nonce"].is_string() && p["at_hash"].is_string());
}

#[tokio::test]
async fn idura_legacy_scheme_and_acr() {
    let mock = start(rs256_config()).await;
    let (_, tok, ui) = mock
        .run(
            "idura",
            "anna",
            plan(vec![
                OidcFault::SetClaim {
                    claim: "identityscheme".into(),
                    value: json!("dknemid"),
                    target: ClaimTarget::Both,
                },
                OidcFault::SetClaim {
                    claim: "authenticationtype".into(),
                    value: json!("urn:grn:authn:dk:nemid:poces"),
                    target: ClaimTarget::Both,
                },
            ]),
        )
        .await;
    let p = decode_jws(tok["id_token"].as_str().unwrap()).1;
    assert_eq!(p["identityscheme"], "dknemid");
    assert_eq!(p["authenticationtype"], "urn:grn:authn:dk:nemid:poces");
    assert_eq!(ui.unwrap()["identityscheme"], "dknemid");
}

#[tokio::test]
async fn claim_value_attacks() {
    let mock = start(rs256_config()).await;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let issuer = mock.provider.issuer_url("signaturgruppen").unwrap();

    let (_, p, ..) = id_token(&mock, vec![OidcFault::ExpiredExp { seconds_ago: 600 }]).await;
    let exp = p["exp"].as_i64().unwrap();
    assert!(exp <= now - 590 && exp >= now - 610, "exp {exp} now {now}");
    assert!(p["iat"].as_i64().unwrap() < exp);

    let (_, p, ..) = id_token(&mock, vec![OidcFault::NbfInFuture { seconds: 600 }]).await;
    assert!(p["nbf"].as_i64().unwrap() >= now + 590);
    assert!(p["exp"].as_i64().unwrap() > now);

    let (_, p, ..) = id_token(&mock, vec![OidcFault::IatInFuture { seconds: 86_400 }]).await;
    let iat = p["iat"].as_i64().unwrap();
    assert!(iat >= now + 86_000);
    assert!(p["exp"].as_i64().unwrap() > iat);

    let (_, p, ..) = id_token(
        &mock,
        vec![OidcFault::ExtraAudience {
            audience: "other-rp".into(),
            keep_azp: false,
        }],
    )
    .await;
    assert_eq!(p["aud"], json!(["rp", "other-rp"]));
    assert!(p.get("azp").is_none());

    for (claim, faults) in [
        (
            "iss",
            vec![OidcFault::RemoveClaim {
                claim: "iss".into(),
                target: ClaimTarget::IdToken,
            }],
        ),
        (
            "sub",
            vec![OidcFault::RemoveClaim {
                claim: "sub".into(),
                target: ClaimTarget::IdToken,
            }],
        ),
        (
            "iat",
            vec![OidcFault::RemoveClaim {
                claim: "iat".into(),
                target: ClaimTarget::IdToken,
            }],
        ),
        (
            "nonce",
            vec![OidcFault::RemoveClaim {
                claim: "nonce".into(),
                target: ClaimTarget::IdToken,
            }],
        ),
        (
            "aud",
            vec![OidcFault::RemoveClaim {
                claim: "aud".into(),
                target: ClaimTarget::IdToken,
            }],
        ),
    ] {
        let (_, p, ..) = id_token(&mock, faults).await;
        assert!(p.get(claim).is_none(), "{claim} removed");
        assert!(p.get("exp").is_some());
    }
    let (_, p, ..) = id_token(
        &mock,
        vec![OidcFault::SetClaim {
            claim: "iss".into(),
            value: json!("https://attacker.invalid/op"),
            target: ClaimTarget::IdToken,
        }],
    )
    .await;
    assert_eq!(p["iss"], "https://attacker.invalid/op");
    // The baseline has the right issuer, so the edit is what differs.
    let (_, p, ..) = id_token(&mock, vec![OidcFault::OmitKid {}]).await;
    assert_eq!(p["iss"], issuer);
}

#[tokio::test]
async fn signature_and_header_attacks() {
    let mock = start(rs256_config()).await;
    let active = published_jwk(&mock, "signaturgruppen", "mock-oidc_rs256_a")
        .await
        .unwrap();

    // alg none: empty signature, no kid.
    let (h, _, s, ..) = id_token(&mock, vec![OidcFault::AlgNone {}]).await;
    assert_eq!(h["alg"], "none");
    assert!(s.is_empty() && h.get("kid").is_none());

    // Corrupted RS256 / ES256 signatures name published keys but do not verify.
    for (alg, kid) in [
        (BadSignatureAlg::RS256, "mock-oidc_rs256_a"),
        (BadSignatureAlg::ES256, "mock-oidc_es256"),
    ] {
        let (h, _, s, input, _) = id_token(&mock, vec![OidcFault::BadSignature { alg }]).await;
        assert_eq!(h["kid"], kid);
        let jwk = published_jwk(&mock, "signaturgruppen", kid).await.unwrap();
        assert!(
            !verifies_with_jwk(&jwk, &input, &s),
            "{alg:?} must not verify"
        );
        assert!(!s.is_empty());
    }
    // HS256 keyed with the client secret, then corrupted.
    let (h, _, s, input, _) = id_token(
        &mock,
        vec![OidcFault::BadSignature {
            alg: BadSignatureAlg::HS256,
        }],
    )
    .await;
    assert_eq!(h["alg"], "HS256");
    let good = hmac::sign(
        &hmac::Key::new(hmac::HMAC_SHA256, SECRET.as_bytes()),
        input.as_bytes(),
    );
    assert_eq!(s.len(), 32);
    assert_ne!(s, good.as_ref());

    // HS256 / HS512 keyed with the client secret, correct: the MAC verifies with the secret.
    for (alg, name, algorithm) in [
        (HmacAlg::HS256, "HS256", hmac::HMAC_SHA256),
        (HmacAlg::HS512, "HS512", hmac::HMAC_SHA512),
    ] {
        let (h, _, s, input, _) = id_token(&mock, vec![OidcFault::HsClientSecret { alg }]).await;
        assert_eq!(h["alg"], name);
        assert!(h.get("kid").is_none());
        let key = hmac::Key::new(algorithm, SECRET.as_bytes());
        assert!(hmac::verify(&key, input.as_bytes(), &s).is_ok(), "{name}");
    }

    // Unknown kid / no kid / crit: valid signature by the active key.
    let (h, _, s, input, _) =
        id_token(&mock, vec![OidcFault::UnknownKid { kid: "nope".into() }]).await;
    assert_eq!(h["kid"], "nope");
    assert!(verifies_with_jwk(&active, &input, &s));
    let (h, _, s, input, _) = id_token(&mock, vec![OidcFault::OmitKid {}]).await;
    assert!(h.get("kid").is_none());
    assert!(verifies_with_jwk(&active, &input, &s));
    let (h, _, s, input, _) = id_token(
        &mock,
        vec![OidcFault::UnknownCrit {
            name: "x-mock-critical".into(),
        }],
    )
    .await;
    assert_eq!(h["crit"], json!(["x-mock-critical"]));
    assert_eq!(h["x-mock-critical"], true);
    assert!(verifies_with_jwk(&active, &input, &s));
}

/// The PKCS#1 `RSAPublicKey` inside an RSA SPKI: the BIT STRING's content after the
/// unused-bits byte.
fn pkcs1_from_spki(spki: &[u8]) -> Vec<u8> {
    let i = spki
        .windows(2)
        .rposition(|w| w[0] == 0x03 && w[1] == 0x82)
        .expect("RSA SPKI has a long-form BIT STRING");
    spki[i + 5..].to_vec()
}

fn pem(label: &str, der: &[u8]) -> String {
    let b = STANDARD.encode(der);
    let lines: Vec<&str> = b
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

#[tokio::test]
async fn key_confusion_uses_the_published_key_as_hmac_secret() {
    let mock = start(rs256_config()).await;
    let spki = pki().oidc_rs256_a.public_key_spki_der();
    let pkcs1 = pkcs1_from_spki(&spki);
    let jwk = published_jwk(&mock, "signaturgruppen", "mock-oidc_rs256_a")
        .await
        .unwrap();
    let jwks_uri = mock.endpoint("signaturgruppen", "jwks_uri").await;
    let jwks_body = mock
        .http
        .get(jwks_uri)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for (encoding, secret) in [
        (
            PublicKeyEncoding::SpkiPem,
            pem("PUBLIC KEY", &spki).into_bytes(),
        ),
        (
            PublicKeyEncoding::Pkcs1Pem,
            pem("RSA PUBLIC KEY", &pkcs1).into_bytes(),
        ),
        (PublicKeyEncoding::SpkiDer, spki.clone()),
        (PublicKeyEncoding::Pkcs1Der, pkcs1.clone()),
        (PublicKeyEncoding::JwkJson, jwk.to_string().into_bytes()),
        (
            PublicKeyEncoding::SpkiPemCrlf,
            pem("PUBLIC KEY", &spki).replace('\n', "\r\n").into_bytes(),
        ),
        (
            PublicKeyEncoding::SpkiPemNoFinalNewline,
            pem("PUBLIC KEY", &spki).trim_end().as_bytes().to_vec(),
        ),
        (
            PublicKeyEncoding::SpkiPemLeadingSpace,
            format!(" {}", pem("PUBLIC KEY", &spki)).into_bytes(),
        ),
        (
            PublicKeyEncoding::Pkcs1PemCrlf,
            pem("RSA PUBLIC KEY", &pkcs1)
                .replace('\n', "\r\n")
                .into_bytes(),
        ),
        (PublicKeyEncoding::JwksJson, jwks_body.into_bytes()),
        (
            PublicKeyEncoding::SpkiPemCr,
            pem("PUBLIC KEY", &spki).replace('\n', "\r").into_bytes(),
        ),
        (
            PublicKeyEncoding::SpkiPemOneLine,
            pem("PUBLIC KEY", &spki).replace('\n', "").into_bytes(),
        ),
        (
            PublicKeyEncoding::SpkiPemCommentPrefix,
            format!(
                "# mock issuer signing key (from jwks_uri)\n{}",
                pem("PUBLIC KEY", &spki)
            )
            .into_bytes(),
        ),
    ] {
        let (h, _, s, input, _) =
            id_token(&mock, vec![OidcFault::KeyConfusionHs256 { encoding }]).await;
        assert_eq!(h["alg"], "HS256");
        assert_eq!(h["kid"], "mock-oidc_rs256_a");
        let expected = hmac::sign(
            &hmac::Key::new(hmac::HMAC_SHA256, &secret),
            input.as_bytes(),
        );
        assert_eq!(s, expected.as_ref(), "{encoding:?}");
    }
}

#[tokio::test]
async fn foreign_keys_jku_x5u_jwk_and_oces2() {
    let mock = start(rs256_config()).await;
    // jku: the URL serves a JWKS with the attacker key, which does verify the token.
    let (h, _, s, input, _) = id_token(&mock, vec![OidcFault::JkuHeader { url: None }]).await;
    let jku = h["jku"].as_str().unwrap();
    assert!(jku.starts_with(&mock.base), "{jku}");
    let jwks: Value = mock
        .http
        .get(jku)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let attacker = &jwks["keys"][0];
    assert_eq!(h["kid"], attacker["kid"]);
    assert!(verifies_with_jwk(attacker, &input, &s));
    assert!(
        published_jwk(&mock, "signaturgruppen", h["kid"].as_str().unwrap())
            .await
            .is_none()
    );

    // Embedded jwk: same key in the header.
    let (h, _, s, input, _) = id_token(&mock, vec![OidcFault::EmbeddedJwk {}]).await;
    assert_eq!(h["jwk"]["n"], attacker["n"]);
    assert!(verifies_with_jwk(&h["jwk"], &input, &s));

    // x5u: a PEM certificate of the attacker key.
    let (h, _, s, input, _) = id_token(&mock, vec![OidcFault::X5uHeader { url: None }]).await;
    let cert = mock
        .http
        .get(h["x5u"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(cert.starts_with("-----BEGIN CERTIFICATE-----\n"));
    assert_eq!(
        cert.trim_end().lines().last(),
        Some("-----END CERTIFICATE-----")
    );
    assert!(verifies_with_jwk(attacker, &input, &s));

    // OCES2-era key: its own kid (unpublished), or the active kid (impersonation).
    let (h, _, s, input, _) = id_token(
        &mock,
        vec![OidcFault::SignWithKey {
            credential: "idp_oces2".into(),
            kid: KidChoice::Own,
        }],
    )
    .await;
    assert_eq!(h["kid"], "mock-idp_oces2");
    let active = published_jwk(&mock, "signaturgruppen", "mock-oidc_rs256_a")
        .await
        .unwrap();
    assert!(!verifies_with_jwk(&active, &input, &s));
    let (h, ..) = id_token(
        &mock,
        vec![OidcFault::SignWithKey {
            credential: "idp_oces2".into(),
            kid: KidChoice::Active,
        }],
    )
    .await;
    assert_eq!(h["kid"], "mock-oidc_rs256_a");
    // An unknown credential cannot be armed.
    assert!(
        mock.provider
            .arm(
                FlowKey::State("x".into()),
                OidcFaultPlan::new(vec![OidcFault::SignWithKey {
                    credential: "nope".into(),
                    kid: KidChoice::Own,
                }])
            )
            .is_err()
    );
}

#[tokio::test]
async fn flow_attacks_on_the_authorization_response() {
    let mock = start(rs256_config()).await;
    let issuer = mock.provider.issuer_url("signaturgruppen").unwrap();
    let other = mock.provider.issuer_url("idura").unwrap();

    let (p, ..) = mock
        .run(
            "signaturgruppen",
            "anna",
            plan(vec![OidcFault::StateWrong { value: None }]),
        )
        .await;
    assert!(p["state"].ends_with("-mock-wrong"));
    assert!(p.contains_key("code"));
    let (p, ..) = mock
        .run(
            "signaturgruppen",
            "anna",
            plan(vec![OidcFault::StateMissing {}]),
        )
        .await;
    assert!(!p.contains_key("state") && p.contains_key("code"));
    let (p, ..) = mock
        .run(
            "signaturgruppen",
            "anna",
            plan(vec![OidcFault::IssParamWrong { value: None }]),
        )
        .await;
    assert_eq!(p["iss"], other);
    let (p, ..) = mock
        .run(
            "signaturgruppen",
            "anna",
            plan(vec![OidcFault::IssParamMissing {}]),
        )
        .await;
    assert!(!p.contains_key("iss"));
    let (p, ..) = mock.run("signaturgruppen", "anna", None).await;
    assert_eq!(p["iss"], issuer, "baseline carries iss");

    let (p, tok, _) = mock
        .run(
            "signaturgruppen",
            "anna",
            plan(vec![OidcFault::AuthorizationError {
                error: "access_denied".into(),
                error_description: Some("user cancelled".into()),
            }]),
        )
        .await;
    assert_eq!(p["error"], "access_denied");
    assert_eq!(p["error_description"], "user cancelled");
    assert!(p.contains_key("state") && !p.contains_key("code"));
    assert!(tok.is_null());

    let (_, tok, ui) = mock
        .run(
            "signaturgruppen",
            "anna",
            plan(vec![OidcFault::UserinfoSubMismatch { sub: None }]),
        )
        .await;
    let id_sub = decode_jws(tok["id_token"].as_str().unwrap()).1["sub"].clone();
    let ui = ui.unwrap();
    assert!(ui["sub"].is_string());
    assert_ne!(ui["sub"], id_sub);
    assert_eq!(ui["mitid.uuid"], "8f3c2b1a-4d5e-4f60-8a7b-1c2d3e4f5a01");
}

#[tokio::test]
async fn plans_are_one_shot_and_keyed_per_flow() {
    let mock = start(rs256_config()).await;
    let flow_a = Flow::new("a");
    let flow_b = Flow::new("b");
    mock.provider
        .arm(
            FlowKey::Nonce(flow_a.nonce.clone()),
            OidcFaultPlan::new(vec![OidcFault::AlgNone {}]),
        )
        .unwrap();
    // Flow B is not affected.
    let url_b = mock
        .authorize_url(
            "signaturgruppen",
            "rp",
            &flow_b,
            &[("mock_identity", "anna")],
        )
        .await;
    let code = mock.authorize(&url_b).await["code"].clone();
    let tok: Value = mock
        .token("signaturgruppen", "rp", &code, &flow_b)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        decode_jws(tok["id_token"].as_str().unwrap()).0["alg"],
        "RS256"
    );
    // Flow A gets the fault, once.
    for expected in ["none", "RS256"] {
        let url_a = mock
            .authorize_url(
                "signaturgruppen",
                "rp",
                &flow_a,
                &[("mock_identity", "anna")],
            )
            .await;
        let code = mock.authorize(&url_a).await["code"].clone();
        let tok: Value = mock
            .token("signaturgruppen", "rp", &code, &flow_a)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            decode_jws(tok["id_token"].as_str().unwrap()).0["alg"],
            expected
        );
    }
}

#[tokio::test]
async fn arm_over_http_takes_toml_like_json_and_refuses_conflicts() {
    let mock = start(rs256_config()).await;
    let flow = Flow::new("http");
    let arm = format!("{}/_mock/oidc/arm", mock.base);
    let body = json!({
        "key": { "state": flow.state },
        "plan": { "faults": [ { "fault": "set-claim", "claim": "idp", "value": "nemid" } ] }
    });
    let token = mock.provider.control_token().unwrap();
    let r = mock.http.post(&arm).json(&body).send().await.unwrap();
    assert_eq!(r.status(), 401, "the control token is required");
    let r = mock
        .http
        .post(&arm)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = mock
        .http
        .post(&arm)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409, "already armed");
    let conflict = json!({
        "key": { "state": "other" },
        "plan": { "faults": [ { "fault": "alg-none" }, { "fault": "embedded-jwk" } ] }
    });
    let r = mock
        .http
        .post(&arm)
        .bearer_auth(token)
        .json(&conflict)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_request");
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
    assert_eq!(
        decode_jws(tok["id_token"].as_str().unwrap()).1["idp"],
        "nemid"
    );
}
