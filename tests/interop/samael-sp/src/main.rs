//! A Rust SAML SP built on `samael` (with its `xmlsec` feature), written the way a Rust team
//! would integrate NemLog-in: samael builds and signs the Redirect-binding AuthnRequest and
//! validates the response; a small `tiny_http` server keeps sessions in memory.
//!
//! `CONFIG=default` uses samael's documented entry point, `ServiceProvider::parse_base64_response`.
//! `CONFIG=hardened` adds what NemLog-in needs beyond it: NemLog-in does not sign the Response
//! ("SHOULD NOT"), only the Assertion inside the EncryptedAssertion, while samael verifies
//! signatures *before* decrypting and so finds none. The hardened SP therefore decrypts first
//! (with samael's own crypto provider), hands the plaintext Assertion to samael's validation
//! (signature with the IdP metadata certificates, issuer, audience, time, recipient,
//! InResponseTo), checks the Response envelope itself, and then applies the MitID attribute
//! checks (OIOSAML 3 specVersion, NSIS LoA, MitID NameID).
//!
//! Environment: `PORT`, `ROW` (directory with `sp.key`/`sp.crt`), `IDP_METADATA` (file),
//! `CONFIG`. Routes: `/login`, `/acs`, `/whoami` (200 `user=<NameID>` or 401), `/metadata`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use openssl::pkey::{PKey, Private};
use samael::crypto::{CertificateDer, Crypto, CryptoProvider};
use samael::metadata::EntityDescriptor;
use samael::schema::{Assertion, CipherValue};
use samael::service_provider::{ServiceProvider, ServiceProviderBuilder};
use samael::traits::ToXml;
use std::collections::HashMap;
use std::error::Error;
use std::io::Read;
use std::sync::{Arc, Mutex};

const SPEC_VERSION: &str = "https://data.gov.dk/model/core/specVersion";
const NSIS_LOA: &str = "https://data.gov.dk/concept/core/nsis/loa";
const NAMEID_PREFIX: &str = "https://data.gov.dk/model/core/eid/";
const SAML_SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";
const REDIRECT_BINDING: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
/// Largest POST body the SP reads (a NemLog-in response is a few kB).
const MAX_BODY: u64 = 512 * 1024;

type AnyError = Box<dyn Error>;

#[derive(Default)]
struct Session {
    pending_request: Option<String>,
    user: Option<String>,
}

struct App {
    sp: ServiceProvider,
    key: PKey<Private>,
    sso_url: String,
    acs_url: String,
    idp_entity_id: String,
    hardened: bool,
    sessions: Mutex<HashMap<String, Session>>,
}

fn env(name: &str) -> Result<String, AnyError> {
    std::env::var(name).map_err(|_| format!("environment variable {name} is not set").into())
}

fn build_app() -> Result<App, AnyError> {
    let port: u16 = env("PORT")?.parse()?;
    let row = env("ROW")?;
    let base = format!("http://127.0.0.1:{port}");
    let idp_xml = std::fs::read_to_string(env("IDP_METADATA")?)?;
    let idp: EntityDescriptor = idp_xml.parse()?;
    let sso_url = idp
        .idp_sso_descriptors
        .iter()
        .flatten()
        .flat_map(|d| d.single_sign_on_services.iter())
        .find(|s| s.binding == REDIRECT_BINDING)
        .map(|s| s.location.clone())
        .ok_or("the IdP metadata has no HTTP-Redirect SingleSignOnService")?;
    let idp_entity_id = idp.entity_id.clone().ok_or("the IdP metadata has no entityID")?;
    let key = PKey::private_key_from_pem(&std::fs::read(format!("{row}/sp.key"))?)?;
    let cert = openssl::x509::X509::from_pem(&std::fs::read(format!("{row}/sp.crt"))?)?;
    let acs_url = format!("{base}/acs");
    let sp = ServiceProviderBuilder::default()
        .entity_id(format!("{base}/metadata"))
        .key(key.clone())
        .certificate(CertificateDer::from(cert.to_der()?))
        .acs_url(acs_url.clone())
        .slo_url(format!("{base}/slo"))
        .idp_metadata(idp)
        .authn_name_id_format("urn:oasis:names:tc:SAML:2.0:nameid-format:persistent".to_string())
        .build()?;
    Ok(App {
        sp,
        key,
        sso_url,
        acs_url,
        idp_entity_id,
        hardened: env("CONFIG").unwrap_or_default() == "hardened",
        sessions: Mutex::new(HashMap::new()),
    })
}

impl App {
    fn login_url(&self) -> Result<(String, String), AnyError> {
        let request = self.sp.make_authentication_request(&self.sso_url)?;
        let url = request
            .signed_redirect("", &self.key)?
            .ok_or("samael built no redirect URL")?;
        Ok((request.id, url.to_string()))
    }

    /// The whole response as samael's documented API sees it.
    fn consume_default(&self, b64: &str, request_id: &str) -> Result<Assertion, AnyError> {
        self.sp.parse_base64_response(b64, Some(&[request_id]))
    }

    /// Decrypt, then let samael verify and validate the Assertion; check the envelope here.
    ///
    /// The envelope is read with roxmltree rather than samael's `Response` type: samael 0.0.22
    /// cannot deserialize an EncryptedAssertion whose `ds:KeyInfo` inherits the `ds` namespace
    /// declaration from an ancestor ("missing field `ds`"), which is valid XML and what the
    /// broker sends.
    fn consume_hardened(&self, b64: &str, request_id: &str) -> Result<Assertion, AnyError> {
        let xml = String::from_utf8(B64.decode(b64.trim())?)?;
        let doc = roxmltree::Document::parse(&xml)?; // refuses DTDs: no entity tricks
        let response = doc.root_element();
        if !is(response, SAMLP, "Response") {
            return Err("not a samlp:Response".into());
        }
        let status = child(response, SAMLP, "Status")
            .and_then(|s| child(s, SAMLP, "StatusCode"))
            .and_then(|c| c.attribute("Value"))
            .unwrap_or_default();
        if status != SAML_SUCCESS {
            return Err(format!("response status {status:?}").into());
        }
        if response.attribute("Destination") != Some(self.acs_url.as_str()) {
            return Err(format!("response Destination {:?} is not this ACS", response.attribute("Destination")).into());
        }
        if response.attribute("InResponseTo") != Some(request_id) {
            return Err("response InResponseTo does not match this session's AuthnRequest".into());
        }
        if let Some(issuer) = child(response, SAML, "Issuer").and_then(|i| i.text()) {
            if issuer.trim() != self.idp_entity_id {
                return Err(format!("response Issuer {issuer} is not the IdP").into());
            }
        }
        let assertions: Vec<_> = response.children().filter(|n| is(*n, SAML, "Assertion") || is(*n, SAML, "EncryptedAssertion")).collect();
        let [encrypted] = assertions[..] else {
            return Err(format!("expected exactly one assertion, found {}", assertions.len()).into());
        };
        if !is(encrypted, SAML, "EncryptedAssertion") {
            return Err("NemLog-in always encrypts the assertion; this one is not".into());
        }
        let data = child(encrypted, XENC, "EncryptedData").ok_or("EncryptedAssertion without EncryptedData")?;
        let key = encrypted
            .descendants()
            .find(|n| is(*n, XENC, "EncryptedKey"))
            .ok_or("EncryptedAssertion without an EncryptedKey")?;
        let (key_method, key_value) = method_and_cipher(key).ok_or("EncryptedKey without method or CipherValue")?;
        let (data_method, data_value) = method_and_cipher(data).ok_or("EncryptedData without method or CipherValue")?;
        let aes_key = Crypto::decrypt_assertion_key_info(&key_value, &key_method, &self.key)?;
        let plain = Crypto::decrypt_assertion_value_info(&data_value, &data_method, &aes_key)?;
        let plain = String::from_utf8_lossy(&plain);
        // Block-cipher padding may trail the element: keep the XML element only.
        let (start, end) = (plain.find('<').ok_or("decrypted data is not XML")?, plain.rfind('>').ok_or("decrypted data is not XML")?);
        let assertion_xml = &plain[start..=end];
        // samael: signature (IdP metadata certificates), issuer, audience, time, recipient,
        // InResponseTo.
        let assertion = self.sp.parse_xml_response(assertion_xml, Some(&[request_id]))?;
        mitid_checks(&assertion)?;
        Ok(assertion)
    }
}

const SAMLP: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
const SAML: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
const XENC: &str = "http://www.w3.org/2001/04/xmlenc#";

fn is(n: roxmltree::Node, ns: &str, name: &str) -> bool {
    n.is_element() && n.tag_name().namespace() == Some(ns) && n.tag_name().name() == name
}

fn child<'a, 'i>(n: roxmltree::Node<'a, 'i>, ns: &str, name: &str) -> Option<roxmltree::Node<'a, 'i>> {
    n.children().find(|c| is(*c, ns, name))
}

/// `EncryptionMethod/@Algorithm` and `CipherData/CipherValue` of an EncryptedData/EncryptedKey.
fn method_and_cipher(n: roxmltree::Node) -> Option<(String, CipherValue)> {
    let method = child(n, XENC, "EncryptionMethod")?.attribute("Algorithm")?.to_string();
    let value: String = child(child(n, XENC, "CipherData")?, XENC, "CipherValue")?.text()?.split_whitespace().collect();
    Some((method, CipherValue { value }))
}

/// samael's generated metadata, with two defects fixed by hand as an SP team registering it at
/// NemLog-in would have to: samael 0.0.22 marks *both* KeyDescriptors `use="signing"` (the one
/// with the EncryptionMethods is meant for encryption, and an IdP finds no encryption
/// certificate), and it says `AuthnRequestsSigned="false"` although the SP signs them.
fn sp_metadata(sp: &ServiceProvider) -> Result<String, AnyError> {
    let mut md = sp.metadata()?;
    for descriptor in md.sp_sso_descriptors.iter_mut().flatten() {
        descriptor.authn_requests_signed = Some(true);
        for kd in descriptor.key_descriptors.iter_mut().flatten() {
            if kd.encryption_methods.is_some() {
                kd.key_use = Some("encryption".to_string());
            }
        }
    }
    Ok(md.to_string()?)
}

fn attribute_values<'a>(assertion: &'a Assertion, name: &str) -> Vec<&'a str> {
    assertion
        .attribute_statements
        .iter()
        .flatten()
        .flat_map(|s| s.attributes.iter())
        .filter(|a| a.name.as_deref() == Some(name))
        .flat_map(|a| a.values.iter())
        .filter_map(|v| v.value.as_deref())
        .collect()
}

/// OIOSAML 3 and NSIS: what samael cannot know about.
fn mitid_checks(assertion: &Assertion) -> Result<(), AnyError> {
    if attribute_values(assertion, SPEC_VERSION) != ["OIO-SAML-3.0"] {
        return Err(format!("not an OIOSAML 3.0 assertion (specVersion {:?})", attribute_values(assertion, SPEC_VERSION)).into());
    }
    let loa = attribute_values(assertion, NSIS_LOA);
    if !(loa == ["Substantial"] || loa == ["High"]) {
        return Err(format!("NSIS LoA {loa:?} is below what the service requires").into());
    }
    let name_id = name_id(assertion).unwrap_or_default();
    if !name_id.starts_with(NAMEID_PREFIX) {
        return Err(format!("NameID {name_id:?} is not a MitID UUID identifier").into());
    }
    Ok(())
}

fn name_id(assertion: &Assertion) -> Option<String> {
    assertion
        .subject
        .as_ref()
        .and_then(|s| s.name_id.as_ref())
        .map(|n| n.value.clone())
}

fn cookie_session(request: &tiny_http::Request) -> Option<String> {
    request
        .headers()
        .iter()
        .filter(|h| h.field.equiv("Cookie"))
        .flat_map(|h| h.value.as_str().split(';'))
        .filter_map(|c| c.trim().strip_prefix("samael_sid="))
        .map(str::to_string)
        .next()
}

fn new_session_id() -> String {
    let mut bytes = [0u8; 16];
    // openssl's CSPRNG: session ids must not be guessable.
    openssl::rand::rand_bytes(&mut bytes).expect("the OS random source is available");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn text(status: u16, body: String) -> tiny_http::Response<std::io::Cursor<Vec<u8>>> {
    tiny_http::Response::from_string(body)
        .with_status_code(status)
        .with_header(header("Content-Type", "text/plain; charset=utf-8"))
}

fn header(k: &str, v: &str) -> tiny_http::Header {
    tiny_http::Header::from_bytes(k.as_bytes(), v.as_bytes()).expect("static header is valid")
}

fn handle(app: &App, mut request: tiny_http::Request) {
    let path = request.url().split('?').next().unwrap_or("").to_string();
    let sid = cookie_session(&request);
    let response = match (request.method(), path.as_str()) {
        (tiny_http::Method::Get, "/metadata") => match sp_metadata(&app.sp) {
            Ok(xml) => text(200, xml).with_header(header("Content-Type", "text/xml")),
            Err(e) => text(500, format!("metadata: {e}")),
        },
        (tiny_http::Method::Get, "/login") => match app.login_url() {
            Ok((request_id, url)) => {
                let sid = sid.unwrap_or_else(new_session_id);
                app.sessions.lock().unwrap_or_else(|e| e.into_inner()).entry(sid.clone()).or_default().pending_request = Some(request_id);
                text(302, String::new())
                    .with_header(header("Location", &url))
                    .with_header(header("Set-Cookie", &format!("samael_sid={sid}; Path=/; HttpOnly")))
            }
            Err(e) => text(500, format!("login: {e}")),
        },
        (tiny_http::Method::Post, "/acs") => {
            let mut body = String::new();
            let read = request.as_reader().take(MAX_BODY).read_to_string(&mut body);
            let saml_response = url::form_urlencoded::parse(body.as_bytes())
                .find(|(k, _)| k == "SAMLResponse")
                .map(|(_, v)| v.into_owned());
            let pending = sid.as_ref().and_then(|s| {
                app.sessions.lock().unwrap_or_else(|e| e.into_inner()).get_mut(s).and_then(|s| s.pending_request.take())
            });
            match (read, saml_response, pending) {
                (Err(e), _, _) => text(400, format!("cannot read the body: {e}")),
                (_, None, _) => text(400, "no SAMLResponse".into()),
                (_, _, None) => text(403, "login refused: no AuthnRequest pending in this session".into()),
                (Ok(_), Some(b64), Some(request_id)) => {
                    let result = if app.hardened {
                        app.consume_hardened(&b64, &request_id)
                    } else {
                        app.consume_default(&b64, &request_id)
                    };
                    match result.map(|a| name_id(&a)) {
                        Ok(Some(user)) => {
                            let sid = new_session_id();
                            app.sessions.lock().unwrap_or_else(|e| e.into_inner()).insert(
                                sid.clone(),
                                Session { pending_request: None, user: Some(user) },
                            );
                            text(302, String::new())
                                .with_header(header("Location", "/whoami"))
                                .with_header(header("Set-Cookie", &format!("samael_sid={sid}; Path=/; HttpOnly")))
                        }
                        Ok(None) => text(403, "login refused: no NameID".into()),
                        Err(e) => {
                            eprintln!("login refused: {e}");
                            text(403, format!("login refused: {e}"))
                        }
                    }
                }
            }
        }
        (tiny_http::Method::Get, "/whoami") => {
            let user = sid.and_then(|s| app.sessions.lock().unwrap_or_else(|e| e.into_inner()).get(&s).and_then(|s| s.user.clone()));
            match user {
                Some(u) => text(200, format!("user={u}\n")),
                None => text(401, "not logged in".into()),
            }
        }
        _ => text(404, "not found".into()),
    };
    if let Err(e) = request.respond(response) {
        eprintln!("cannot answer: {e}");
    }
}

fn main() {
    let app = match build_app() {
        Ok(a) => Arc::new(a),
        Err(e) => {
            eprintln!("samael-sp: {e}");
            std::process::exit(2);
        }
    };
    let port = std::env::var("PORT").unwrap_or_default();
    let server = match tiny_http::Server::http(format!("127.0.0.1:{port}")) {
        Ok(s) => Arc::new(s),
        Err(e) => {
            eprintln!("samael-sp: cannot listen on 127.0.0.1:{port}: {e}");
            std::process::exit(2);
        }
    };
    eprintln!("samael-sp ({}) on 127.0.0.1:{port}", if app.hardened { "hardened" } else { "default" });
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let (app, server) = (app.clone(), server.clone());
            std::thread::spawn(move || {
                for request in server.incoming_requests() {
                    handle(&app, request);
                }
            })
        })
        .collect();
    for w in workers {
        let _ = w.join();
    }
}
