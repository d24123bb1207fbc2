//! The broker's HTTP surface (axum): metadata, SSO/SLO, login page, control API, fetch trap.
//!
//! Every refusal is an HTTP 400 page that says what was wrong in one sentence (SP developers
//! read these pages while debugging), and is logged. Nothing here panics on input: bodies and
//! query strings are size-capped before parsing, XML goes through the hardened parser.

use crate::broker::{ArmedLogin, BrokerState, FetchRecord, FlowRecord, METADATA_PATH, SSO_PATH};
use crate::identity::TestIdentity;
use crate::nsis::Loa;
use crate::saml::assertion::ModelContext;
use crate::saml::authn_request::{self, AuthnRequest};
use crate::saml::mint::{MintInput, mint};
use crate::saml::ns;
use crate::saml::redirect::{self, RedirectMessage, SigAlg};
use crate::saml::sp_metadata::SpMetadata;
use crate::saml::xml::{escape_attr, escape_text, parse_untrusted, text_of};
use crate::saml::xmlsec::EncryptionAlgorithms;
use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use std::net::SocketAddr;
use std::sync::Arc;

/// Largest request body the broker reads.
pub const MAX_BODY: usize = 256 * 1024;

type St = State<Arc<BrokerState>>;

/// Build the router.
pub fn router(state: Arc<BrokerState>, extra: Option<Router>) -> Router {
    let r = Router::new()
        .route(METADATA_PATH, get(metadata))
        .route("/metadata", get(metadata))
        .route(SSO_PATH, get(sso_get).post(sso_post))
        .route("/login", post(login_post))
        .route("/_mock/health", get(|| async { "ok" }))
        .route("/_mock/arm", post(control_arm))
        .route("/_mock/flows/{id}", get(control_flow))
        .route("/_mock/fetches", get(control_fetches))
        .route("/_mock/fetch/{token}", get(fetch_trap))
        .route("/", get(index))
        .with_state(state);
    let r = match extra {
        Some(e) => r.merge(e),
        None => r,
    };
    r.fallback(|uri: Uri| async move {
        refuse(
            StatusCode::NOT_FOUND,
            &format!("no such endpoint: {}", uri.path()),
        )
    })
}

/// Render the IdP metadata.
pub fn metadata_xml(st: &BrokerState) -> String {
    let certs = vec![
        st.keys.idp.cert_b64.clone(),
        st.keys.idp_next.cert_b64.clone(),
    ];
    crate::saml::idp_metadata::write_idp_metadata(&crate::saml::idp_metadata::IdpMetadataParams {
        entity_id: &st.entity_id,
        sso_url: &st.sso_url,
        slo_url: &st.sso_url,
        signing_certs_b64: &certs,
        valid_until: None,
    })
}

async fn metadata(State(st): St) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/samlmetadata+xml; charset=utf-8",
        )],
        metadata_xml(&st),
    )
        .into_response()
}

fn page(title: &str, body: &str) -> String {
    format!(
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{t}</title>
<style>body{{font-family:sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem}} .mock{{background:#fde68a;padding:.3rem .6rem;border-radius:.3rem}} code{{background:#eee;padding:0 .2rem}}</style></head>
<body><p class="mock">MOCK NemLog-in / MitID broker (mitid-harness). Test identities and mock keys only.</p>
<h1>{t}</h1>{body}</body></html>"#,
        t = escape_text(title)
    )
}

/// A refusal page.
pub(crate) fn refuse(status: StatusCode, why: &str) -> Response {
    tracing::warn!(status = status.as_u16(), "refused: {why}");
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        Html(page(
            "Request refused",
            &format!("<p id=\"error\">{}</p>", escape_text(why)),
        )),
    )
        .into_response()
}

fn bad(why: impl std::fmt::Display) -> Response {
    refuse(StatusCode::BAD_REQUEST, &why.to_string())
}

async fn index(State(st): St) -> Html<String> {
    let sps: Vec<String> = {
        let g = st.sps.lock().unwrap_or_else(|e| e.into_inner());
        let mut v: Vec<String> = g
            .keys()
            .map(|k| format!("<li><code>{}</code></li>", escape_text(k)))
            .collect();
        v.sort();
        v
    };
    Html(page(
        "mock NemLog-in IdP",
        &format!(
            "<p>entityID <code>{}</code></p><p>Metadata: <a href=\"{m}\">{m}</a></p><p>SSO/SLO: <code>{}</code></p><h2>Registered SPs</h2><ul>{}</ul><h2>Identities</h2><ul>{}</ul>",
            escape_text(&st.entity_id),
            escape_text(&st.sso_url),
            sps.join(""),
            st.identities
                .iter()
                .map(|i| format!("<li>{} ({:?}, {})</li>", escape_text(&i.id), i.kind, i.loa))
                .collect::<String>(),
            m = escape_text(&st.metadata_url),
        ),
    ))
}

async fn read_body(body: Body) -> Result<Vec<u8>, Response> {
    axum::body::to_bytes(body, MAX_BODY)
        .await
        .map(|b| b.to_vec())
        .map_err(|_| bad(format!("request body is larger than {MAX_BODY} bytes")))
}

fn form_fields(bytes: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(bytes).into_owned().collect()
}

fn field<'a>(f: &'a [(String, String)], name: &str) -> Option<&'a str> {
    f.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

// ---------------------------------------------------------------- SSO / SLO (GET, Redirect)

async fn sso_get(State(st): St, uri: Uri) -> Response {
    let query = uri.query().unwrap_or("");
    if query.len() > redirect::MAX_QUERY {
        return bad(redirect::RedirectError::TooLong(query.len()));
    }
    let has = |p: &str| query.split('&').any(|kv| kv.split('=').next() == Some(p));
    if has("SAMLResponse") {
        return match redirect::decode_query(query, "SAMLResponse") {
            Ok(m) => logout_response_received(&st, &m.xml),
            Err(e) => bad(e),
        };
    }
    if !has("SAMLRequest") {
        return bad(
            "no SAMLRequest parameter: this is the SSO/SLO endpoint of the HTTP-Redirect binding; start the login at your SP",
        );
    }
    let msg = match redirect::decode_query(query, "SAMLRequest") {
        Ok(m) => m,
        Err(e) => return bad(e),
    };
    let root = match parse_untrusted(&msg.xml) {
        Ok(d) => d.root_element().tag_name().name().to_string(),
        Err(e) => return bad(format!("SAMLRequest XML refused: {e}")),
    };
    match root.as_str() {
        "AuthnRequest" => authn_request_received(&st, &msg, query),
        "LogoutRequest" => logout_request_redirect(&st, &msg),
        other => bad(format!(
            "unexpected SAML message {other} on the SSO/SLO endpoint"
        )),
    }
}

fn spki_of(cert_der: &[u8]) -> Option<Vec<u8>> {
    x509_parser::parse_x509_certificate(cert_der)
        .ok()
        .map(|(_, c)| c.tbs_certificate.subject_pki.raw.to_vec())
}

fn sp_spkis(sp: &SpMetadata) -> Vec<Vec<u8>> {
    sp.signing_certs.iter().filter_map(|c| spki_of(c)).collect()
}

/// Resolve the ACS the response goes to: only ever from the SP's metadata.
fn resolve_acs(sp: &SpMetadata, req: &AuthnRequest) -> Result<String, String> {
    if let Some(url) = &req.acs_url {
        if let Some(b) = &req.protocol_binding
            && b != ns::BINDING_POST
        {
            return Err(format!(
                "ProtocolBinding {b} is not supported; NemLog-in answers with HTTP-POST only"
            ));
        }
        if sp.has_acs(url, ns::BINDING_POST) {
            return Ok(url.clone());
        }
        return Err(format!(
            "AssertionConsumerServiceURL {url:?} is not an HTTP-POST AssertionConsumerService in the metadata of {}; registered: [{}]",
            sp.entity_id,
            sp.acs
                .iter()
                .map(|e| e.location.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if let Some(i) = req.acs_index {
        return match sp.acs_by_index(i) {
            Some(e) if e.binding == ns::BINDING_POST => Ok(e.location.clone()),
            Some(e) => Err(format!(
                "AssertionConsumerServiceIndex {i} has binding {}, not HTTP-POST",
                e.binding
            )),
            None => Err(format!(
                "AssertionConsumerServiceIndex {i} is not in the metadata of {}",
                sp.entity_id
            )),
        };
    }
    sp.default_acs(ns::BINDING_POST)
        .map(|e| e.location.clone())
        .ok_or_else(|| {
            format!(
                "the metadata of {} has no HTTP-POST AssertionConsumerService",
                sp.entity_id
            )
        })
}

fn authn_request_received(st: &Arc<BrokerState>, msg: &RedirectMessage, _query: &str) -> Response {
    let req = match authn_request::parse(&msg.xml) {
        Ok(r) => r,
        Err(e) => return bad(e),
    };
    let Some(issuer) = req.issuer.clone() else {
        return bad(authn_request::AuthnRequestError::MissingIssuer);
    };
    let Some(sp) = st.sp(&issuer) else {
        return bad(format!(
            "unknown SP: Issuer {issuer:?} is not registered with this broker (register its metadata with --sp-metadata)"
        ));
    };
    if let Err(e) = msg.verify(&sp_spkis(&sp)) {
        return bad(e);
    }
    match &req.destination {
        Some(d) if d == &st.sso_url => {}
        Some(d) => {
            return bad(format!(
                "Destination {d:?} is not this broker's SSO URL {:?}",
                st.sso_url
            ));
        }
        None => {
            return bad("AuthnRequest has no Destination; signed requests must name the SSO URL");
        }
    }
    let now = st.clock.now();
    match req.issue_instant {
        None => {
            return bad(format!(
                "AuthnRequest IssueInstant {:?} is not an xs:dateTime",
                req.issue_instant_raw
            ));
        }
        Some(t) if (t - now).abs() > st.clock_skew => {
            return bad(format!(
                "AuthnRequest IssueInstant {} is more than {} minutes from the broker's clock ({}): expired or from the future",
                req.issue_instant_raw,
                st.clock_skew.whole_minutes(),
                crate::saml::response::fmt_instant(now)
            ));
        }
        Some(_) => {}
    }
    if st.flow(&req.id).is_some() {
        return bad(format!(
            "AuthnRequest ID {} was already used; IDs must be fresh per request",
            req.id
        ));
    }
    let acs = match resolve_acs(&sp, &req) {
        Ok(a) => a,
        Err(e) => return bad(e),
    };
    let rac = req.requested_authn_context.clone().unwrap_or_default();
    let flow = FlowRecord {
        request_id: req.id.clone(),
        sp_entity_id: sp.entity_id.clone(),
        acs_url: acs,
        relay_state: msg.relay_state.clone(),
        requested_loa: rac.loa(),
        requested_profile: rac.profile(),
        force_authn: req.force_authn,
        is_passive: req.is_passive,
        received_at: now,
        identity: None,
        loa: None,
        plan: Default::default(),
        response_b64: None,
        response_xml: None,
        encryption: None,
        error: None,
    };
    tracing::info!(sp = %flow.sp_entity_id, request_id = %flow.request_id, loa = ?flow.requested_loa, "AuthnRequest accepted");
    st.put_flow(flow.clone());

    if req.is_passive {
        // NemLog-in logins are interactive; a passive request gets a NoPassive status.
        let plan = crate::dangerous::FaultPlan::new(vec![
            crate::dangerous::Fault::Status {
                code: ns::STATUS_RESPONDER.into(),
                sub_code: Some(ns::STATUS_NO_PASSIVE.into()),
                message: Some("IsPassive requested; the mock broker has no SSO session".into()),
            },
            crate::dangerous::Fault::NoAssertion,
        ]);
        let first = st.identities.iter().next().cloned();
        if let Some(i) = first {
            return respond(st, &sp, &req.id, &i, i.loa, plan);
        }
    }
    if let Some(armed) = st.take_armed(&req.id) {
        let Some(identity) = st.identities.get(&armed.identity).cloned() else {
            return bad(format!("armed identity {:?} is unknown", armed.identity));
        };
        let loa = armed.loa.unwrap_or(identity.loa);
        return respond(st, &sp, &req.id, &identity, loa, armed.plan);
    }
    // Non-interactive preselection through extra query parameters (they are outside the
    // signed octets, so adding them does not break the SP's signature).
    let q: Vec<(String, String)> = url::form_urlencoded::parse(_query.as_bytes())
        .into_owned()
        .collect();
    if let Some(id) = field(&q, "mock_identity") {
        let Some(identity) = st.identities.get(id).cloned() else {
            return bad(format!("mock_identity {id:?} is unknown"));
        };
        let loa = match field(&q, "mock_loa").map(str::parse::<Loa>) {
            None => identity.loa,
            Some(Ok(l)) => l,
            Some(Err(e)) => return bad(e),
        };
        return respond(st, &sp, &req.id, &identity, loa, Default::default());
    }
    chooser(st, &flow)
}

fn chooser(st: &BrokerState, flow: &FlowRecord) -> Response {
    let mut rows = String::new();
    for (n, i) in st.identities.iter().enumerate() {
        let below = flow.requested_loa.is_some_and(|r| i.loa < r);
        let other_profile = flow.requested_profile.is_some_and(|p| p != i.kind);
        let note = match (below, other_profile) {
            (true, _) => " <em>(below the requested LoA)</em>",
            (_, true) => " <em>(other profile than requested)</em>",
            _ => "",
        };
        rows.push_str(&format!(
            r#"<li><label><input type="radio" name="identity" value="{id}"{chk}> <b>{name}</b> — {kind:?}, {loa}{extra}{note}</label></li>"#,
            id = escape_attr(&i.id),
            chk = if n == 0 { " checked" } else { "" },
            name = escape_text(&i.full_name()),
            kind = i.kind,
            loa = i.loa,
            extra = i.cvr.as_deref().map(|c| format!(", CVR {c}")).unwrap_or_default(),
        ));
    }
    let body = format!(
        r#"<p>Service <code>{sp}</code> asks for {loa}{prof}.</p>
<form method="post" action="/login"><input type="hidden" name="flow" value="{flow}">
<ul style="list-style:none;padding:0">{rows}</ul>
<p><label>Level of assurance: <select name="loa"><option value="">the identity's own</option><option>Low</option><option>Substantial</option><option>High</option></select></label></p>
<p><button type="submit">Log in</button></p></form>"#,
        sp = escape_text(&flow.sp_entity_id),
        loa = flow
            .requested_loa
            .map(|l| format!("NSIS LoA {l} or higher"))
            .unwrap_or_else(|| "no particular LoA".into()),
        prof = flow
            .requested_profile
            .map(|p| format!(", {p:?} profile"))
            .unwrap_or_default(),
        flow = escape_attr(&flow.request_id),
    );
    Html(page("Log in with a test identity", &body)).into_response()
}

async fn login_post(State(st): St, body: Body) -> Response {
    let bytes = match read_body(body).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let f = form_fields(&bytes);
    let Some(flow_id) = field(&f, "flow") else {
        return bad("missing form field flow");
    };
    let Some(flow) = st.flow(flow_id) else {
        return bad(format!("unknown or expired login flow {flow_id:?}"));
    };
    if flow.response_b64.is_some() {
        return bad("this login flow already completed; start a new login at the SP");
    }
    let Some(identity) = field(&f, "identity")
        .and_then(|i| st.identities.get(i))
        .cloned()
    else {
        return bad("pick a known identity");
    };
    let loa = match field(&f, "loa")
        .filter(|s| !s.is_empty())
        .map(str::parse::<Loa>)
    {
        None => identity.loa,
        Some(Ok(l)) => l,
        Some(Err(e)) => return bad(e),
    };
    let Some(sp) = st.sp(&flow.sp_entity_id) else {
        return bad("the SP of this flow is no longer registered");
    };
    respond(
        &st,
        &sp,
        &flow.request_id,
        &identity,
        loa,
        Default::default(),
    )
}

/// Choose encryption algorithms for an SP: its `md:EncryptionMethod` list first, then the
/// configured default. Returns the choice and a sentence saying why.
pub fn choose_encryption(
    sp: &SpMetadata,
    default: EncryptionAlgorithms,
) -> (EncryptionAlgorithms, String) {
    const DATA: &[&str] = &[
        ns::ENC_AES256_GCM,
        ns::ENC_AES128_GCM,
        ns::ENC_AES256_CBC,
        ns::ENC_AES128_CBC,
    ];
    const KT: &[&str] = &[ns::KT_RSA_OAEP_11, ns::KT_RSA_OAEP_MGF1P];
    let listed: Vec<&str> = sp
        .encryption_methods
        .iter()
        .map(|m| m.algorithm.as_str())
        .collect();
    let data = sp
        .encryption_methods
        .iter()
        .find(|m| DATA.contains(&m.algorithm.as_str()));
    let kt = sp
        .encryption_methods
        .iter()
        .find(|m| KT.contains(&m.algorithm.as_str()));
    let mut algs = default.clone();
    let mut why = Vec::new();
    match data {
        Some(d) => {
            algs.data = d.algorithm.clone();
            why.push(format!(
                "data {} from the SP's md:EncryptionMethod",
                d.algorithm
            ));
        }
        None => why.push(format!(
            "data {} (default; SP metadata names none we support)",
            algs.data
        )),
    }
    match kt {
        Some(k) => {
            algs.key_transport = k.algorithm.clone();
            if k.algorithm == ns::KT_RSA_OAEP_11 {
                algs.oaep_digest = Some(
                    k.digest_method
                        .clone()
                        .unwrap_or_else(|| ns::ALG_SHA1.into()),
                );
                algs.oaep_mgf = Some(k.mgf.clone().unwrap_or_else(|| ns::MGF1_SHA1.into()));
            } else {
                algs.oaep_digest = k.digest_method.clone();
                algs.oaep_mgf = None;
            }
            why.push(format!(
                "key transport {} from the SP's md:EncryptionMethod",
                k.algorithm
            ));
        }
        None => why.push(format!(
            "key transport {} (default; SP metadata names none we support{})",
            algs.key_transport,
            if listed.contains(&ns::KT_RSA_1_5) {
                ", and rsa-1_5 is never used"
            } else {
                ""
            }
        )),
    }
    (algs, why.join("; "))
}

fn respond(
    st: &Arc<BrokerState>,
    sp: &SpMetadata,
    request_id: &str,
    identity: &TestIdentity,
    loa: Loa,
    plan: crate::dangerous::FaultPlan,
) -> Response {
    let Some(flow) = st.flow(request_id) else {
        return bad("unknown login flow");
    };
    let (enc, why) = choose_encryption(sp, st.encryption_default.algorithms());
    let requested: Option<Vec<String>> = sp
        .attribute_consuming_services
        .iter()
        .find(|a| a.is_default == Some(true))
        .or_else(|| sp.attribute_consuming_services.first())
        .map(|a| a.requested.iter().map(|r| r.name.clone()).collect());
    let session_index = st.ids.next("s");
    let ctx = ModelContext {
        idp_entity_id: st.entity_id.clone(),
        sp_entity_id: sp.entity_id.clone(),
        acs_url: flow.acs_url.clone(),
        in_response_to: Some(request_id.to_string()),
        now: st.clock.now(),
        response_id: st.ids.next("r"),
        assertion_id: st.ids.next("a"),
        session_index: session_index.clone(),
        requested_attributes: requested,
        conditions_lifetime: time::Duration::hours(1),
        confirmation_lifetime: time::Duration::minutes(5),
    };
    let input = MintInput {
        ctx,
        identity,
        loa,
        identities: &st.identities,
        sp_encryption_cert: sp.encryption_certs.first().map(Vec::as_slice),
        encryption: enc,
        plan: &plan,
        keys: &st.keys,
        fetch_recorder_url: Some(st.fetch_trap_url(request_id)),
    };
    let minted = match mint(&input, &st.xml_signer, &st.xml_encryptor) {
        Ok(m) => m,
        Err(e) => {
            let msg = e.to_string();
            st.update_flow(request_id, |f| f.error = Some(msg.clone()));
            return bad(format!(
                "cannot build the response for {}: {msg}",
                sp.entity_id
            ));
        }
    };
    if let Some(e) = &minted.encryption {
        tracing::info!(
            sp = %sp.entity_id,
            data = %e.data,
            key_transport = %e.key_transport,
            "assertion encrypted: {why}. If the SP cannot decrypt, run the broker with --encryption compatible or list md:EncryptionMethod in the SP metadata"
        );
    }
    let b64 = B64.encode(minted.response_xml.as_bytes());
    st.record_session(&session_index, &sp.entity_id, &identity.name_id());
    st.update_flow(request_id, |f| {
        f.identity = Some(identity.id.clone());
        f.loa = Some(loa);
        f.plan = plan.clone();
        f.response_b64 = Some(b64.clone());
        f.response_xml = Some(minted.response_xml.clone());
        f.encryption = minted.encryption.clone().map(|e| (e, why.clone()));
    });
    auto_post(
        &flow.acs_url,
        "SAMLResponse",
        &b64,
        flow.relay_state.as_deref(),
    )
}

/// The HTTP-POST binding's auto-submitting form.
pub fn auto_post(action: &str, param: &str, value: &str, relay_state: Option<&str>) -> Response {
    let relay = relay_state
        .map(|r| {
            format!(
                r#"<input type="hidden" name="RelayState" value="{}">"#,
                escape_attr(r)
            )
        })
        .unwrap_or_default();
    let html = format!(
        r#"<!DOCTYPE html><html><head><meta charset="utf-8"><title>mock NemLog-in: continue</title></head>
<body onload="document.forms[0].submit()"><p>MOCK NemLog-in broker: sending you back to the service.</p>
<form method="post" action="{}"><input type="hidden" name="{}" value="{}">{relay}<noscript><button type="submit">Continue</button></noscript></form></body></html>"#,
        escape_attr(action),
        escape_attr(param),
        escape_attr(value)
    );
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        Html(html),
    )
        .into_response()
}

// ---------------------------------------------------------------- SLO

struct LogoutRequestInfo {
    id: String,
    issuer: String,
    session_index: Option<String>,
}

fn parse_logout_request(xml: &str) -> Result<LogoutRequestInfo, String> {
    let doc = parse_untrusted(xml).map_err(|e| format!("LogoutRequest XML refused: {e}"))?;
    let root = doc.root_element();
    if root.tag_name().name() != "LogoutRequest" || root.tag_name().namespace() != Some(ns::SAMLP) {
        return Err("expected samlp:LogoutRequest".into());
    }
    let id = root
        .attribute("ID")
        .ok_or("LogoutRequest has no ID")?
        .to_string();
    let issuer = crate::saml::xml::child(root, ns::SAML, "Issuer")
        .map(|n| text_of(n).trim().to_string())
        .ok_or("LogoutRequest has no Issuer")?;
    let session_index = crate::saml::xml::child(root, ns::SAMLP, "SessionIndex")
        .map(|n| text_of(n).trim().to_string());
    if let Some(na) = root.attribute("NotOnOrAfter")
        && let Ok(t) =
            time::OffsetDateTime::parse(na, &time::format_description::well_known::Rfc3339)
        && t < time::OffsetDateTime::now_utc() - time::Duration::minutes(5)
    {
        return Err(format!("LogoutRequest expired (NotOnOrAfter {na})"));
    }
    Ok(LogoutRequestInfo {
        id,
        issuer,
        session_index,
    })
}

fn logout_response_xml(
    st: &BrokerState,
    in_response_to: &str,
    destination: &str,
    with_sig_template: bool,
) -> String {
    let id = st.ids.next("lr");
    let now = crate::saml::response::fmt_instant(st.clock.now());
    let sig = if with_sig_template {
        crate::saml::response::signature_template(&id, Some(&st.keys.idp.cert_b64), false)
    } else {
        String::new()
    };
    format!(
        r#"<samlp:LogoutResponse xmlns:samlp="{}" xmlns:saml="{}" ID="{id}" Version="2.0" IssueInstant="{now}" Destination="{}" InResponseTo="{}"><saml:Issuer>{}</saml:Issuer>{sig}<samlp:Status><samlp:StatusCode Value="{}"/></samlp:Status></samlp:LogoutResponse>"#,
        ns::SAMLP,
        ns::SAML,
        escape_attr(destination),
        escape_attr(in_response_to),
        escape_text(&st.entity_id),
        ns::STATUS_SUCCESS
    )
}

fn logout_request_redirect(st: &Arc<BrokerState>, msg: &RedirectMessage) -> Response {
    let info = match parse_logout_request(&msg.xml) {
        Ok(i) => i,
        Err(e) => return bad(e),
    };
    let Some(sp) = st.sp(&info.issuer) else {
        return bad(format!("unknown SP {:?} in LogoutRequest", info.issuer));
    };
    if let Err(e) = msg.verify(&sp_spkis(&sp)) {
        return bad(e);
    }
    finish_logout(st, &sp, &info, msg.relay_state.as_deref())
}

fn finish_logout(
    st: &Arc<BrokerState>,
    sp: &SpMetadata,
    info: &LogoutRequestInfo,
    relay: Option<&str>,
) -> Response {
    if let Some(si) = &info.session_index {
        st.end_session(si);
    }
    tracing::info!(sp = %sp.entity_id, "SP-initiated logout");
    if let Some(ep) = sp.slo.iter().find(|e| e.binding == ns::BINDING_REDIRECT) {
        let dest = ep
            .response_location
            .clone()
            .unwrap_or_else(|| ep.location.clone());
        let xml = logout_response_xml(st, &info.id, &dest, false);
        let q = match redirect::encode_query(
            "SAMLResponse",
            &xml,
            relay,
            Some((&st.keys.idp.signer, SigAlg::RsaSha256)),
        ) {
            Ok(q) => q,
            Err(e) => return bad(e),
        };
        let sep = if dest.contains('?') { '&' } else { '?' };
        return Response::builder()
            .status(StatusCode::FOUND)
            .header(header::LOCATION, format!("{dest}{sep}{q}"))
            .body(Body::empty())
            .unwrap_or_else(|_| bad("cannot build redirect"));
    }
    if let Some(ep) = sp.slo.iter().find(|e| e.binding == ns::BINDING_POST) {
        let dest = ep
            .response_location
            .clone()
            .unwrap_or_else(|| ep.location.clone());
        let tpl = logout_response_xml(st, &info.id, &dest, true);
        use crate::saml::xmlsec::XmlSigner;
        let signed = match st
            .xml_signer
            .sign_enveloped(tpl, &st.keys.idp.signer, false)
        {
            Ok(s) => s,
            Err(e) => return bad(e),
        };
        return auto_post(&dest, "SAMLResponse", &B64.encode(signed), relay);
    }
    Html(page(
        "Logged out",
        "<p>The SP has no SingleLogoutService in its metadata; the broker session is ended.</p>",
    ))
    .into_response()
}

fn logout_response_received(_st: &BrokerState, xml: &str) -> Response {
    match parse_untrusted(xml) {
        Ok(d) if d.root_element().tag_name().name() == "LogoutResponse" => {
            Html(page("Logged out", "<p>The SP confirmed the logout.</p>")).into_response()
        }
        Ok(_) => bad("expected a LogoutResponse"),
        Err(e) => bad(format!("SAMLResponse XML refused: {e}")),
    }
}

async fn sso_post(State(st): St, body: Body) -> Response {
    let bytes = match read_body(body).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let f = form_fields(&bytes);
    let (param, value) = match (field(&f, "SAMLRequest"), field(&f, "SAMLResponse")) {
        (Some(v), _) => ("SAMLRequest", v),
        (None, Some(v)) => ("SAMLResponse", v),
        _ => return bad("POST to the SLO endpoint needs a SAMLRequest or SAMLResponse form field"),
    };
    let xml = match B64.decode(value.trim().as_bytes()) {
        Ok(b) => match String::from_utf8(b) {
            Ok(s) => s,
            Err(_) => return bad(format!("{param} is not UTF-8")),
        },
        Err(e) => return bad(format!("{param} is not valid base64: {e}")),
    };
    if param == "SAMLResponse" {
        return logout_response_received(&st, &xml);
    }
    let root = match parse_untrusted(&xml) {
        Ok(d) => d.root_element().tag_name().name().to_string(),
        Err(e) => return bad(format!("{param} XML refused: {e}")),
    };
    if root == "AuthnRequest" {
        return bad(
            "SSO is offered on the HTTP-Redirect binding only (as NemLog-in does); send the AuthnRequest with GET",
        );
    }
    if root != "LogoutRequest" {
        return bad(format!("unexpected SAML message {root}"));
    }
    let info = match parse_logout_request(&xml) {
        Ok(i) => i,
        Err(e) => return bad(e),
    };
    let Some(sp) = st.sp(&info.issuer) else {
        return bad(format!("unknown SP {:?} in LogoutRequest", info.issuer));
    };
    if let Err(e) = verify_enveloped(&xml, &sp, &info.id) {
        return bad(e);
    }
    finish_logout(&st, &sp, &info, field(&f, "RelayState"))
}

/// Verify an enveloped XML signature on the root element with the SP's signing certificates.
fn verify_enveloped(xml: &str, sp: &SpMetadata, root_id: &str) -> Result<(), String> {
    if !xml.contains("Signature") {
        return Err(
            "the LogoutRequest is not signed; NemLog-in requires signed logout requests".into(),
        );
    }
    for cert in &sp.signing_certs {
        let Ok(key) = bergshamra::keys::loader::load_x509_cert_der(cert) else {
            continue;
        };
        let mut km = bergshamra::KeysManager::new();
        km.add_key(key);
        let ctx = bergshamra::DsigContext::new(km);
        if let Ok(r) = bergshamra::verify(&ctx, xml)
            && r.is_valid()
        {
            {
                let covers_root = match &r {
                    bergshamra::VerifyResult::Valid { references, .. } => {
                        references.iter().any(|rf| rf.uri == format!("#{root_id}"))
                    }
                    _ => false,
                };
                if covers_root {
                    return Ok(());
                }
                return Err("the signature does not cover the LogoutRequest element".into());
            }
        }
    }
    Err("the LogoutRequest signature does not verify with the SP's signing certificates".into())
}

// ---------------------------------------------------------------- control API

fn loopback_only(peer: &SocketAddr) -> Result<(), Response> {
    if peer.ip().is_loopback() {
        Ok(())
    } else {
        Err(refuse(
            StatusCode::FORBIDDEN,
            "the control API answers on loopback only",
        ))
    }
}

#[derive(serde::Deserialize)]
struct ArmRequest {
    request_id: String,
    #[serde(flatten)]
    login: ArmedLogin,
}

async fn control_arm(
    State(st): St,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: Body,
) -> Response {
    if let Err(r) = loopback_only(&peer) {
        return r;
    }
    let bytes = match read_body(body).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let req: ArmRequest = match serde_json::from_slice(&bytes) {
        Ok(r) => r,
        Err(e) => return bad(format!("arm: invalid JSON: {e}")),
    };
    if st.identities.get(&req.login.identity).is_none() {
        return bad(format!("arm: unknown identity {:?}", req.login.identity));
    }
    st.arm(&req.request_id, req.login);
    (
        StatusCode::OK,
        axum::Json(serde_json::json!({"armed": req.request_id})),
    )
        .into_response()
}

async fn control_flow(
    State(st): St,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
) -> Response {
    if let Err(r) = loopback_only(&peer) {
        return r;
    }
    match st.flow(&id) {
        Some(f) => axum::Json(f).into_response(),
        None => refuse(StatusCode::NOT_FOUND, &format!("no flow {id:?}")),
    }
}

async fn control_fetches(State(st): St, ConnectInfo(peer): ConnectInfo<SocketAddr>) -> Response {
    if let Err(r) = loopback_only(&peer) {
        return r;
    }
    axum::Json(st.fetches()).into_response()
}

async fn fetch_trap(
    State(st): St,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Response {
    tracing::warn!(%token, %peer, "external entity fetched: an SP resolved a DOCTYPE entity from a SAML message");
    st.record_fetch(FetchRecord {
        token,
        at: st.clock.now(),
        peer: peer.to_string(),
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
    });
    ([(header::CONTENT_TYPE, "text/plain")], "mock-xxe-canary").into_response()
}

// ---------------------------------------------------------------- TLS

/// A TLS acceptor with the mock local CA's server certificate.
pub(crate) fn mock_tls_acceptor() -> Result<tokio_rustls::TlsAcceptor, String> {
    let pki = crate::pki::MockPki::builtin();
    let cert = rustls::pki_types::CertificateDer::from(pki.tls_server.cert_der().to_vec());
    let key_der = pki
        .tls_server
        .key_pkcs8_der()
        .ok_or("mock TLS server credential has no key")?
        .to_vec();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(key_der.into());
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .map_err(|e| e.to_string())?;
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(cfg)))
}

pub(crate) async fn serve_tls(
    listener: tokio::net::TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
    router: Router,
    mut shutdown: tokio::sync::oneshot::Receiver<()>,
) {
    loop {
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r { Ok(x) => x, Err(_) => continue },
            _ = &mut shutdown => return,
        };
        let acceptor = acceptor.clone();
        let svc = router.clone().layer(axum::Extension(ConnectInfo(peer)));
        tokio::spawn(async move {
            let Ok(Ok(tls)) =
                tokio::time::timeout(std::time::Duration::from_secs(10), acceptor.accept(stream))
                    .await
            else {
                return;
            };
            let io = hyper_util::rt::TokioIo::new(tls);
            let hyper_svc = hyper_util::service::TowerToHyperService::new(svc);
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(io, hyper_svc)
                .await;
        });
    }
}
