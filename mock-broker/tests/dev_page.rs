//! The developer page (`GET /dev`) after a SAML and an OIDC login over loopback HTTP: it shows
//! the decoded AuthnRequest, the assertion as signed before encryption, the algorithms, the
//! decoded ID token and what the SP/RP did, escapes what the SP sent, and allows no script.
//! (`tests/browser/run` loads the same page in headless Chromium.)

mod oidc_support;
mod saml_support;

use mitid_mock_broker::{ArmedLogin, FaultPlan};
use saml_support::*;

async fn dev_page(
    broker: &mitid_mock_broker::RunningBroker,
) -> (reqwest::header::HeaderMap, String) {
    let r = http()
        .get(format!("{}/dev", broker.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let h = r.headers().clone();
    (h, r.text().await.unwrap())
}

#[tokio::test]
async fn the_page_shows_a_saml_and_an_oidc_login_decoded() {
    let broker = builder()
        .oidc_client(oidc_support::client("rp"))
        .start()
        .await
        .unwrap();

    // Empty at first, and says so.
    let (headers, page) = dev_page(&broker).await;
    assert!(page.contains("No SAML flow yet"), "{page}");
    assert!(page.contains("No OIDC flow yet"), "{page}");
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("default-src 'none'") && !csp.contains("script-src"),
        "{csp}"
    );

    // A SAML login, with a RelayState the page must escape.
    broker
        .arm(
            "_dev-page-1",
            ArmedLogin {
                identity: "anna".into(),
                loa: None,
                plan: FaultPlan::none(),
                profile: None,
            },
        )
        .unwrap();
    let req = request(&broker, "_dev-page-1");
    let post = sso(&sso_url(&broker, &req, Some("<script>alert(1)</script>"))).await;
    assert!(
        post.xml.contains("EncryptedAssertion"),
        "the Response is encrypted"
    );

    // An OIDC login through the same broker.
    let mock = oidc_support::Mock {
        base: broker.base_url().to_string(),
        provider: broker.oidc().unwrap().clone(),
        http: http(),
    };
    let (params, tok, _) = mock.run("signaturgruppen", "anna", None).await;
    assert!(params.contains_key("code"), "{params:?}");
    assert!(tok["id_token"].is_string(), "{tok}");

    let (_, page) = dev_page(&broker).await;
    // SAML: the request decoded, the assertion in plaintext as signed, algorithms, encryption.
    assert!(page.contains("_dev-page-1"), "request ID shown");
    assert!(page.contains("AuthnRequest (decoded)"));
    assert!(
        page.contains("&lt;samlp:AuthnRequest"),
        "the AuthnRequest XML, escaped"
    );
    assert!(page.contains("Assertion as signed, before encryption"));
    assert!(
        page.contains("&lt;saml:Assertion"),
        "the plaintext assertion"
    );
    assert!(
        page.contains("http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"),
        "signature algorithm"
    );
    assert!(page.contains("key transport"), "encryption algorithms");
    assert!(
        page.contains("signing certificate"),
        "the signing certificate's subject"
    );
    assert!(
        page.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && !page.contains("<script>"),
        "what the SP sent is escaped"
    );
    // OIDC: the authorization request, the decoded ID token, what the RP did.
    assert!(
        page.contains("<code>rp</code> at the signaturgruppen issuer"),
        "{page}"
    );
    assert!(page.contains("ID token claims"));
    assert!(
        page.contains("&quot;nonce&quot;") || page.contains("\"nonce\""),
        "claims shown"
    );
    assert!(page.contains("code_challenge"));
    assert!(page.contains("authorize, token"), "endpoints the RP used");
}

/// The page shows the SPs' messages and minted assertions: a DNS-rebound name (foreign `Host`)
/// or a script of another origin is refused, the developer's own browser is not.
#[tokio::test]
async fn the_page_answers_the_developers_own_browser_only() {
    let broker = builder().start().await.unwrap();
    let url = format!("{}/dev", broker.base_url());
    let port = url::Url::parse(broker.base_url()).unwrap().port().unwrap();
    let status = |r: reqwest::Response| r.status().as_u16();
    let r = http()
        .get(&url)
        .header("host", format!("attacker.example:{port}"))
        .send()
        .await
        .unwrap();
    assert_eq!(status(r), 403, "a DNS-rebound Host");
    let r = http()
        .get(&url)
        .header("origin", "https://attacker.example")
        .send()
        .await
        .unwrap();
    assert_eq!(status(r), 403, "a foreign Origin");
    let r = http()
        .get(&url)
        .header("host", format!("localhost:{port}"))
        .header("sec-fetch-site", "none")
        .send()
        .await
        .unwrap();
    assert_eq!(status(r), 200, "typed into the developer's address bar");
}
