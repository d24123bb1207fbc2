//! The broker's SSO session over HTTP: the cookie a fresh login sets, a second request from
//! the same browser answered from it with the first authentication's AuthnInstant, IsPassive
//! answered with and without it, ForceAuthn authenticating afresh (SAML core 3.4.1, 2.7.2).

mod saml_support;

use mitid_mock_broker::saml::ns;
use mitid_mock_broker::saml::sso_session::{COOKIE, SessionIndexPolicy, SsoSessionPolicy};
use mitid_mock_broker::{Clock, FixedClock, Loa, RunningBroker};
use saml_support::*;
use std::sync::Arc;

const T0: time::OffsetDateTime = time::macros::datetime!(2026-06-01 09:00:00 UTC);

struct Browser {
    broker: RunningBroker,
    clock: Arc<FixedClock>,
    cookie: Option<String>,
    n: usize,
}

/// What one AuthnRequest got back.
struct Answer {
    /// The posted Response.
    post: AutoPost,
    /// The SSO cookie value it set, if any.
    set_cookie: Option<String>,
    /// The request's ID.
    id: String,
}

impl Answer {
    fn statuses(&self) -> Vec<String> {
        attrs_all(&self.post.xml, ns::SAMLP, "StatusCode", "Value")
    }

    fn assertion(&self) -> String {
        decrypt_assertion(&self.post.xml)
    }

    fn authn_instant(&self) -> String {
        attr_of(
            &self.assertion(),
            ns::SAML,
            "AuthnStatement",
            "AuthnInstant",
        )
        .expect("AuthnInstant")
    }

    fn session_index(&self) -> String {
        attr_of(
            &self.assertion(),
            ns::SAML,
            "AuthnStatement",
            "SessionIndex",
        )
        .expect("SessionIndex")
    }
}

impl Browser {
    async fn start(policy: SsoSessionPolicy) -> Self {
        let clock = Arc::new(FixedClock::new(T0));
        let broker = builder()
            .clock(clock.clone())
            .sso_session(policy)
            .expect("valid policy")
            .start()
            .await
            .expect("broker starts");
        Browser {
            broker,
            clock,
            cookie: None,
            n: 0,
        }
    }

    fn at(&self, minutes: i64) {
        self.clock.set(T0 + time::Duration::minutes(minutes));
    }

    /// Send an AuthnRequest from this browser; `as_user` preselects the identity a fresh
    /// login would choose (without it, a fresh login shows the login page and this panics).
    async fn request(
        &mut self,
        edit: impl FnOnce(&mut mitid_mock_broker::saml::authn_request::AuthnRequestBuilder),
        as_user: Option<&str>,
    ) -> Answer {
        self.n += 1;
        let id = format!("_req-sso-{}", self.n);
        let mut req = request(&self.broker, &id);
        req.issue_instant = self.clock.now();
        edit(&mut req);
        let mut url = sso_url(&self.broker, &req, None);
        if let Some(u) = as_user {
            url.push_str(&format!("&mock_identity={u}"));
        }
        let mut get = http().get(&url);
        if let Some(c) = &self.cookie {
            get = get.header("Cookie", format!("other=1; {COOKIE}={c}"));
        }
        let resp = get.send().await.expect("broker answers");
        let set_cookie = resp
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|h| h.to_str().ok())
            .find_map(|h| h.strip_prefix(&format!("{COOKIE}=")))
            .map(|rest| rest.split(';').next().unwrap_or_default().to_string());
        let status = resp.status().as_u16();
        let body = resp.text().await.expect("body");
        assert_eq!(status, 200, "{body}");
        if let Some(c) = &set_cookie {
            self.cookie = Some(c.clone());
        }
        Answer {
            post: parse_auto_post(&body),
            set_cookie,
            id,
        }
    }
}

fn instant(minutes: i64) -> String {
    mitid_mock_broker::saml::assertion::fmt_instant(T0 + time::Duration::minutes(minutes))
}

#[tokio::test]
async fn a_second_request_is_answered_from_the_session_with_the_first_authn_instant() {
    let mut b = Browser::start(SsoSessionPolicy::default()).await;
    let first = b.request(|_| {}, Some("anna")).await;
    assert_eq!(first.statuses(), [ns::STATUS_SUCCESS]);
    assert!(first.set_cookie.is_some(), "a fresh login sets the cookie");
    assert_eq!(first.authn_instant(), instant(0));
    assert!(!b.broker.flow(&first.id).unwrap().from_sso_session);

    b.at(3);
    // No preselection: without the session this would be the login page.
    let second = b.request(|_| {}, None).await;
    assert_eq!(second.statuses(), [ns::STATUS_SUCCESS]);
    assert!(second.set_cookie.is_none(), "the session goes on");
    assert_eq!(second.authn_instant(), instant(0), "SAML core 2.7.2");
    let flow = b.broker.flow(&second.id).unwrap();
    assert!(flow.from_sso_session);
    assert_eq!(flow.identity.as_deref(), Some("anna"));
    assert_ne!(
        second.session_index(),
        first.session_index(),
        "per-login SessionIndex by default"
    );
    assert_eq!(
        attr_of(
            &second.assertion(),
            ns::SAML,
            "AuthnStatement",
            "AuthnInstant"
        ),
        Some(instant(0))
    );
    let issue = attr_of(&second.post.xml, ns::SAMLP, "Response", "IssueInstant");
    assert_eq!(issue, Some(instant(3)), "the Response itself is new");
    // The developer page says so.
    let (status, page) = get(&format!("{}/dev", b.broker.base_url())).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("answered from the browser's SSO session"),
        "{page}"
    );
}

#[tokio::test]
async fn is_passive_succeeds_with_a_session_and_is_no_passive_without_or_when_it_is_too_weak() {
    let mut b = Browser::start(SsoSessionPolicy::default()).await;
    let none = b.request(|r| r.is_passive = true, None).await;
    assert_eq!(
        none.statuses(),
        [ns::STATUS_RESPONDER, ns::STATUS_NO_PASSIVE]
    );
    assert!(none.set_cookie.is_none());

    b.request(|_| {}, Some("anna")).await;
    b.at(1);
    let passive = b.request(|r| r.is_passive = true, None).await;
    assert_eq!(passive.statuses(), [ns::STATUS_SUCCESS]);
    assert_eq!(passive.authn_instant(), instant(0));

    // anna's session is Substantial: a passive request for High cannot be answered.
    let high = b
        .request(
            |r| {
                r.is_passive = true;
                r.loa = Some(Loa::High);
            },
            None,
        )
        .await;
    assert_eq!(
        high.statuses(),
        [ns::STATUS_RESPONDER, ns::STATUS_NO_PASSIVE]
    );
    // Nor one for a Professional.
    let professional = b
        .request(
            |r| {
                r.is_passive = true;
                r.profile = Some(mitid_mock_broker::IdentityKind::Professional);
            },
            None,
        )
        .await;
    assert_eq!(
        professional.statuses(),
        [ns::STATUS_RESPONDER, ns::STATUS_NO_PASSIVE]
    );
}

#[tokio::test]
async fn force_authn_authenticates_afresh_and_replaces_the_session() {
    let mut b = Browser::start(SsoSessionPolicy::default()).await;
    b.request(|_| {}, Some("anna")).await;
    let old_cookie = b.cookie.clone().unwrap();
    b.at(10);
    let forced = b.request(|r| r.force_authn = true, Some("bo")).await;
    assert_eq!(forced.statuses(), [ns::STATUS_SUCCESS]);
    assert_eq!(forced.authn_instant(), instant(10), "a new authentication");
    let new_cookie = forced.set_cookie.clone().expect("a new session cookie");
    assert_ne!(new_cookie, old_cookie);
    assert!(!b.broker.flow(&forced.id).unwrap().from_sso_session);

    // The old cookie no longer finds a session; the new one finds bo's.
    b.cookie = Some(old_cookie);
    let stale = b.request(|r| r.is_passive = true, None).await;
    assert_eq!(
        stale.statuses(),
        [ns::STATUS_RESPONDER, ns::STATUS_NO_PASSIVE]
    );
    b.cookie = Some(new_cookie);
    b.at(11);
    let again = b.request(|r| r.is_passive = true, None).await;
    assert_eq!(again.authn_instant(), instant(10));
    assert_eq!(
        b.broker.flow(&again.id).unwrap().identity.as_deref(),
        Some("bo")
    );

    // ForceAuthn with IsPassive cannot be met by a MitID login (SAML core 3.4.1).
    let both = b
        .request(
            |r| {
                r.force_authn = true;
                r.is_passive = true;
            },
            None,
        )
        .await;
    assert_eq!(
        both.statuses(),
        [ns::STATUS_RESPONDER, ns::STATUS_NO_PASSIVE]
    );
}

#[tokio::test]
async fn the_session_expires_and_can_be_switched_off_or_share_its_session_index() {
    let short = SsoSessionPolicy {
        lifetime_minutes: 5,
        ..SsoSessionPolicy::default()
    };
    let mut b = Browser::start(short).await;
    b.request(|_| {}, Some("anna")).await;
    b.at(4);
    let within = b.request(|r| r.is_passive = true, None).await;
    assert_eq!(within.statuses(), [ns::STATUS_SUCCESS]);
    b.at(5);
    let after = b.request(|r| r.is_passive = true, None).await;
    assert_eq!(
        after.statuses(),
        [ns::STATUS_RESPONDER, ns::STATUS_NO_PASSIVE]
    );

    let off = SsoSessionPolicy {
        enabled: false,
        ..SsoSessionPolicy::default()
    };
    let mut b = Browser::start(off).await;
    let first = b.request(|_| {}, Some("anna")).await;
    assert!(first.set_cookie.is_none(), "no session, no cookie");
    let passive = b.request(|r| r.is_passive = true, None).await;
    assert_eq!(
        passive.statuses(),
        [ns::STATUS_RESPONDER, ns::STATUS_NO_PASSIVE]
    );

    let shared = SsoSessionPolicy {
        session_index: SessionIndexPolicy::PerSession,
        ..SsoSessionPolicy::default()
    };
    let mut b = Browser::start(shared).await;
    let first = b.request(|_| {}, Some("anna")).await;
    let second = b.request(|r| r.is_passive = true, None).await;
    assert_eq!(second.session_index(), first.session_index());
}
