//! AuthnRequest checks (issue 7): signed Redirect-binding URLs are built here with the mock SP
//! key, once correct and once broken per check, and inspected against the committed clean SP
//! metadata fixture.

use std::io::Write;

use base64::Engine as _;
use mitid_harness::inspect::{
    ALL_CHECKS, CapturedAuthnRequest, CheckStatus, Family, InspectOptions, InspectionReport,
    inspect_authn_request, inspect_authn_request_with_history,
};
use mitid_mock_broker::pki::{Credential, MockPki};
use mitid_mock_broker::saml::sp_metadata::SpMetadata;
use mitid_mock_broker::{IdentityKind, Loa};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use time::macros::datetime;

const NOW: OffsetDateTime = datetime!(2026-06-01 12:00:00 UTC);
const SSO: &str = "https://127.0.0.1:9443/idp/saml/3.0/";
const ACS: &str = "https://sp.example.dk/saml/assertionConsumer";
const ENTITY: &str = "https://saml.sp.example.dk";
const RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
const RSA_SHA1: &str = "http://www.w3.org/2000/09/xmldsig#rsa-sha1";

fn sp_metadata() -> SpMetadata {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/inspect/oiosaml3-clean.xml");
    SpMetadata::from_file(&path).expect("clean fixture parses")
}

fn opts() -> InspectOptions {
    let mut o = InspectOptions::new(NOW);
    o.broker_sso_url = Some(SSO.into());
    o.required_loa = Some(Loa::Substantial);
    o.expected_profile = Some(IdentityKind::Person);
    o
}

/// The AuthnRequest the way OIOSAML.Java builds it; each test changes one thing.
#[derive(Clone)]
struct Req {
    id: String,
    issue_instant: String,
    destination: Option<String>,
    issuer: Option<String>,
    acs_url: Option<String>,
    acs_index: Option<String>,
    protocol_binding: Option<String>,
    force_authn: &'static str,
    is_passive: &'static str,
    comparison: Option<&'static str>,
    class_refs: Option<Vec<String>>,
    doctype: bool,
    padding: usize,
}

impl Default for Req {
    fn default() -> Self {
        Req {
            id: "_6d6f636b2d617574686e2d726571756573742d31".into(),
            issue_instant: (NOW - time::Duration::seconds(3)).format(&Rfc3339).unwrap(),
            destination: Some(SSO.into()),
            issuer: Some(ENTITY.into()),
            acs_url: Some(ACS.into()),
            acs_index: None,
            protocol_binding: Some("urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST".into()),
            force_authn: "false",
            is_passive: "false",
            comparison: Some("minimum"),
            class_refs: Some(vec![
                Loa::Substantial.classref(),
                IdentityKind::Person.profile_uri().to_string(),
            ]),
            doctype: false,
            padding: 0,
        }
    }
}

impl Req {
    fn xml(&self) -> String {
        let mut attrs = format!(
            r#" ID="{}" Version="2.0" IssueInstant="{}" ForceAuthn="{}" IsPassive="{}""#,
            self.id, self.issue_instant, self.force_authn, self.is_passive
        );
        let mut add = |name: &str, v: &Option<String>| {
            if let Some(v) = v {
                attrs.push_str(&format!(r#" {name}="{v}""#));
            }
        };
        add("Destination", &self.destination);
        add("AssertionConsumerServiceURL", &self.acs_url);
        add("AssertionConsumerServiceIndex", &self.acs_index);
        add("ProtocolBinding", &self.protocol_binding);
        let issuer = self
            .issuer
            .as_ref()
            .map(|i| format!("<saml:Issuer>{i}</saml:Issuer>"))
            .unwrap_or_default();
        let rac = match &self.class_refs {
            None => String::new(),
            Some(refs) => {
                let cmp = self
                    .comparison
                    .map(|c| format!(r#" Comparison="{c}""#))
                    .unwrap_or_default();
                let refs: String = refs
                    .iter()
                    .map(|r| format!("<saml:AuthnContextClassRef>{r}</saml:AuthnContextClassRef>"))
                    .collect();
                format!("<samlp:RequestedAuthnContext{cmp}>{refs}</samlp:RequestedAuthnContext>")
            }
        };
        let doctype = if self.doctype {
            r#"<!DOCTYPE samlp:AuthnRequest [<!ENTITY x SYSTEM "file:///etc/passwd">]>"#
        } else {
            ""
        };
        format!(
            r#"{doctype}<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"{attrs}>{issuer}{rac}{}</samlp:AuthnRequest>"#,
            " ".repeat(self.padding)
        )
    }
}

enum Sign<'a> {
    No,
    Sha256(&'a Credential),
    Sha1(&'a Credential),
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn deflate(xml: &str) -> Vec<u8> {
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(xml.as_bytes()).unwrap();
    e.finish().unwrap()
}

/// Builds the redirect URL: `SAMLRequest`, optional `RelayState`, `SigAlg`, `Signature`, with
/// the signature over the exact encoded octets.
fn redirect_from_bytes(
    base: &str,
    compressed: &[u8],
    relay: Option<&str>,
    sign: Sign<'_>,
    wrap_base64: bool,
) -> url::Url {
    let mut b64 = base64::engine::general_purpose::STANDARD.encode(compressed);
    if wrap_base64 {
        b64 = b64
            .as_bytes()
            .chunks(76)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect::<Vec<_>>()
            .join("\r\n");
    }
    let mut q = format!("SAMLRequest={}", enc(&b64));
    if let Some(r) = relay {
        q.push_str(&format!("&RelayState={}", enc(r)));
    }
    let (alg, cred, sha1) = match sign {
        Sign::No => return url::Url::parse(&format!("{base}?{q}")).unwrap(),
        Sign::Sha256(c) => (RSA_SHA256, c, false),
        Sign::Sha1(c) => (RSA_SHA1, c, true),
    };
    q.push_str(&format!("&SigAlg={}", enc(alg)));
    let signer = cred.rsa_signer().unwrap();
    let sig = if sha1 {
        signer.sign_sha1(q.as_bytes()).unwrap()
    } else {
        signer.sign_sha256(q.as_bytes()).unwrap()
    };
    q.push_str(&format!(
        "&Signature={}",
        enc(&base64::engine::general_purpose::STANDARD.encode(sig))
    ));
    url::Url::parse(&format!("{base}?{q}")).unwrap()
}

fn redirect(req: &Req, relay: Option<&str>, sign: Sign<'_>) -> url::Url {
    redirect_from_bytes(SSO, &deflate(&req.xml()), relay, sign, false)
}

fn captured(url: url::Url) -> CapturedAuthnRequest {
    CapturedAuthnRequest {
        redirect_url: url,
        captured_at: NOW,
    }
}

fn good_url() -> url::Url {
    redirect(
        &Req::default(),
        Some("r-6d6f636b"),
        Sign::Sha256(&MockPki::builtin().sp),
    )
}

fn inspect(url: url::Url) -> InspectionReport {
    inspect_authn_request(&captured(url), &sp_metadata(), &opts())
}

fn status(report: &InspectionReport, id: &str) -> CheckStatus {
    report
        .finding(id)
        .unwrap_or_else(|| panic!("no finding {id}"))
        .status
}

#[test]
fn correct_request_passes_every_check() {
    let report = inspect(good_url());
    let not_pass: Vec<String> = report
        .findings
        .iter()
        .filter(|f| f.status != CheckStatus::Pass)
        .map(|f| format!("{} {:?}: {}", f.id, f.status, f.detail))
        .collect();
    assert!(not_pass.is_empty(), "{}", not_pass.join("\n"));
    let ids: Vec<&str> = report.findings.iter().map(|f| f.id).collect();
    let expected: Vec<&str> = ALL_CHECKS
        .iter()
        .filter(|c| c.family == Family::AuthnRequest)
        .map(|c| c.id)
        .collect();
    assert_eq!(ids, expected, "one finding per check, in catalogue order");
}

/// One broken variant: a name, the URL, and the findings it must produce.
struct Case {
    name: &'static str,
    url: url::Url,
    expect: Vec<(&'static str, CheckStatus)>,
}

fn cases() -> Vec<Case> {
    use CheckStatus::*;
    let pki = MockPki::builtin();
    let sp = Sign::Sha256(&pki.sp);
    let relay = Some("r-6d6f636b");
    let with = |f: &dyn Fn(&mut Req)| {
        let mut r = Req::default();
        f(&mut r);
        r
    };
    let stale = (NOW - time::Duration::minutes(10))
        .format(&Rfc3339)
        .unwrap();
    let bomb_req = with(&|r| r.padding = 8 * 1024 * 1024);
    let mut zlib = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    zlib.write_all(Req::default().xml().as_bytes()).unwrap();
    let zlib = zlib.finish().unwrap();

    vec![
        Case {
            name: "unsigned",
            url: redirect(&Req::default(), relay, Sign::No),
            expect: vec![
                ("authn-request.sig-alg", Fail),
                ("authn-request.signature", Fail),
            ],
        },
        Case {
            name: "sha1",
            url: redirect(&Req::default(), relay, Sign::Sha1(&pki.sp)),
            // Right key, wrong algorithm: the signature itself verifies.
            expect: vec![
                ("authn-request.sig-alg", Fail),
                ("authn-request.signature", Pass),
            ],
        },
        Case {
            name: "wrong key",
            url: redirect(&Req::default(), relay, Sign::Sha256(&pki.sp_oces2)),
            expect: vec![
                ("authn-request.sig-alg", Pass),
                ("authn-request.signature", Fail),
            ],
        },
        Case {
            name: "bad destination",
            url: redirect(
                &with(&|r| r.destination = Some("https://login.nemlog-in.dk/idp/saml/3.0/".into())),
                relay,
                Sign::Sha256(&pki.sp),
            ),
            expect: vec![("authn-request.destination", Fail)],
        },
        Case {
            name: "no destination",
            url: redirect(
                &with(&|r| r.destination = None),
                relay,
                Sign::Sha256(&pki.sp),
            ),
            expect: vec![("authn-request.destination", Fail)],
        },
        Case {
            name: "redirected elsewhere",
            url: redirect_from_bytes(
                "https://127.0.0.1:9443/other/",
                &deflate(&Req::default().xml()),
                relay,
                Sign::Sha256(&pki.sp),
                false,
            ),
            expect: vec![("authn-request.destination", Fail)],
        },
        Case {
            name: "stale IssueInstant",
            url: redirect(
                &with(&|r| r.issue_instant = stale.clone()),
                relay,
                Sign::Sha256(&pki.sp),
            ),
            expect: vec![("authn-request.issue-instant", Fail)],
        },
        Case {
            name: "IssueInstant with offset",
            url: redirect(
                &with(&|r| r.issue_instant = "2026-06-01T14:00:00+02:00".into()),
                relay,
                Sign::Sha256(&pki.sp),
            ),
            expect: vec![("authn-request.issue-instant", Warn)],
        },
        Case {
            name: "RelayState over 80 bytes",
            url: redirect(
                &Req::default(),
                Some(&"x".repeat(200)),
                Sign::Sha256(&pki.sp),
            ),
            expect: vec![("authn-request.relay-state", Warn)],
        },
        Case {
            name: "RelayState over 512 bytes",
            url: redirect(
                &Req::default(),
                Some(&"x".repeat(600)),
                Sign::Sha256(&pki.sp),
            ),
            expect: vec![("authn-request.relay-state", Fail)],
        },
        Case {
            name: "no RelayState",
            url: redirect(&Req::default(), None, Sign::Sha256(&pki.sp)),
            // Signature over SAMLRequest&SigAlg only still verifies.
            expect: vec![
                ("authn-request.relay-state", Warn),
                ("authn-request.signature", Pass),
            ],
        },
        Case {
            name: "NemID-only RequestedAuthnContext",
            url: redirect(
                &with(&|r| {
                    r.class_refs = Some(vec![
                        "https://nemlogin.dk/internal/credential/type/nemidkeycard".into(),
                        "https://nemlogin.dk/internal/credential/type/nemidkeyfile".into(),
                    ])
                }),
                relay,
                Sign::Sha256(&pki.sp),
            ),
            expect: vec![("authn-request.loa", Fail)],
        },
        Case {
            name: "ac:classes:X509 only",
            url: redirect(
                &with(&|r| {
                    r.class_refs = Some(vec!["urn:oasis:names:tc:SAML:2.0:ac:classes:X509".into()])
                }),
                relay,
                Sign::Sha256(&pki.sp),
            ),
            expect: vec![("authn-request.loa", Fail), ("authn-request.profile", Warn)],
        },
        Case {
            name: "no RequestedAuthnContext",
            url: redirect(
                &with(&|r| r.class_refs = None),
                relay,
                Sign::Sha256(&pki.sp),
            ),
            expect: vec![("authn-request.loa", Warn)],
        },
        Case {
            name: "LoA below requirement",
            url: redirect(
                &with(&|r| {
                    r.class_refs = Some(vec![
                        Loa::Low.classref(),
                        IdentityKind::Person.profile_uri().into(),
                    ])
                }),
                relay,
                Sign::Sha256(&pki.sp),
            ),
            expect: vec![("authn-request.loa", Fail)],
        },
        Case {
            name: "LoA plus NemID credential",
            url: redirect(
                &with(&|r| {
                    r.class_refs = Some(vec![
                        Loa::Substantial.classref(),
                        "https://nemlogin.dk/internal/credential/type/nemidkeycard".into(),
                        IdentityKind::Person.profile_uri().into(),
                    ])
                }),
                relay,
                Sign::Sha256(&pki.sp),
            ),
            expect: vec![("authn-request.loa", Warn)],
        },
        Case {
            name: "Professional profile for a Person service",
            url: redirect(
                &with(&|r| {
                    r.class_refs = Some(vec![
                        Loa::Substantial.classref(),
                        IdentityKind::Professional.profile_uri().into(),
                    ])
                }),
                relay,
                Sign::Sha256(&pki.sp),
            ),
            expect: vec![("authn-request.profile", Fail), ("authn-request.loa", Pass)],
        },
        Case {
            name: "IsPassive",
            url: redirect(
                &with(&|r| r.is_passive = "true"),
                relay,
                Sign::Sha256(&pki.sp),
            ),
            expect: vec![("authn-request.force-passive", Warn)],
        },
        Case {
            name: "ForceAuthn and IsPassive",
            url: redirect(
                &with(&|r| {
                    r.is_passive = "true";
                    r.force_authn = "true";
                }),
                relay,
                Sign::Sha256(&pki.sp),
            ),
            expect: vec![("authn-request.force-passive", Fail)],
        },
        Case {
            name: "ID starts with a digit",
            url: redirect(
                &with(&|r| r.id = "6d6f636b-0000-4000-8000-000000000001".into()),
                relay,
                Sign::Sha256(&pki.sp),
            ),
            expect: vec![("authn-request.id", Fail)],
        },
        Case {
            name: "short ID",
            url: redirect(&with(&|r| r.id = "_1".into()), relay, Sign::Sha256(&pki.sp)),
            expect: vec![("authn-request.id", Warn)],
        },
        Case {
            name: "unregistered ACS URL",
            url: redirect(
                &with(&|r| r.acs_url = Some(format!("{ACS}/"))),
                relay,
                Sign::Sha256(&pki.sp),
            ),
            expect: vec![("authn-request.acs", Fail)],
        },
        Case {
            name: "ACS index",
            url: redirect(
                &with(&|r| {
                    r.acs_url = None;
                    r.acs_index = Some("0".into());
                }),
                relay,
                Sign::Sha256(&pki.sp),
            ),
            expect: vec![("authn-request.acs", Pass)],
        },
        Case {
            name: "unknown ACS index",
            url: redirect(
                &with(&|r| {
                    r.acs_url = None;
                    r.acs_index = Some("7".into());
                }),
                relay,
                Sign::Sha256(&pki.sp),
            ),
            expect: vec![("authn-request.acs", Fail)],
        },
        Case {
            name: "Artifact ProtocolBinding",
            url: redirect(
                &with(&|r| {
                    r.protocol_binding =
                        Some("urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact".into())
                }),
                relay,
                Sign::Sha256(&pki.sp),
            ),
            expect: vec![("authn-request.acs", Fail)],
        },
        Case {
            name: "wrong Issuer",
            url: redirect(
                &with(&|r| r.issuer = Some("https://saml.other.example.dk".into())),
                relay,
                Sign::Sha256(&pki.sp),
            ),
            expect: vec![("authn-request.issuer", Fail)],
        },
        Case {
            name: "line-wrapped base64",
            url: redirect_from_bytes(
                SSO,
                &deflate(&Req::default().xml()),
                relay,
                Sign::Sha256(&pki.sp),
                true,
            ),
            // Still decodable and correctly signed, but the encoding is wrong.
            expect: vec![
                ("authn-request.encoding", Fail),
                ("authn-request.decode", Pass),
                ("authn-request.signature", Pass),
            ],
        },
        Case {
            name: "deflate bomb",
            url: redirect(&bomb_req, relay, Sign::Sha256(&pki.sp)),
            expect: vec![
                ("authn-request.decode", Fail),
                ("authn-request.issue-instant", Skipped),
                // Query-level checks still run.
                ("authn-request.signature", Pass),
            ],
        },
        Case {
            name: "DOCTYPE",
            url: redirect(&with(&|r| r.doctype = true), relay, sp),
            expect: vec![
                ("authn-request.decode", Fail),
                ("authn-request.loa", Skipped),
            ],
        },
        Case {
            name: "zlib instead of raw DEFLATE",
            url: redirect_from_bytes(SSO, &zlib, relay, Sign::Sha256(&pki.sp), false),
            expect: vec![("authn-request.decode", Fail)],
        },
        Case {
            name: "no SAMLRequest",
            url: url::Url::parse(&format!("{SSO}?RelayState=x")).unwrap(),
            expect: vec![
                ("authn-request.decode", Fail),
                ("authn-request.binding", Fail),
                ("authn-request.sig-alg", Fail),
            ],
        },
    ]
}

#[test]
fn each_broken_variant_is_caught() {
    let mut failures = Vec::new();
    for case in cases() {
        let report = inspect(case.url.clone());
        for (id, expected) in &case.expect {
            let f = report.finding(id).expect("every check reports");
            if f.status != *expected {
                failures.push(format!(
                    "{}: {id}: expected {expected:?}, got {:?}: {}",
                    case.name, f.status, f.detail
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_authn_request_check_is_proven_both_ways() {
    let cases = cases();
    for c in ALL_CHECKS
        .iter()
        .filter(|c| c.family == Family::AuthnRequest)
    {
        let caught = cases.iter().any(|k| {
            k.expect
                .iter()
                .any(|(id, s)| *id == c.id && matches!(s, CheckStatus::Fail | CheckStatus::Warn))
        });
        // The pass side is `correct_request_passes_every_check`.
        assert!(caught, "{}: no broken variant exercises it", c.id);
    }
}

#[test]
fn reused_id_is_not_fresh() {
    let url = good_url();
    let report = inspect(url.clone());
    let id = report
        .subject
        .split_whitespace()
        .nth(1)
        .unwrap()
        .to_string();
    let again = inspect_authn_request_with_history(&captured(url), &sp_metadata(), &opts(), &[id]);
    assert_eq!(status(&again, "authn-request.id"), CheckStatus::Fail);
    assert_eq!(status(&report, "authn-request.id"), CheckStatus::Pass);
}

#[test]
fn tampering_after_signing_breaks_the_signature() {
    // Same signature, different RelayState: the exact-octet verification must notice.
    let url = good_url();
    let tampered = url
        .as_str()
        .replace("RelayState=r-6d6f636b", "RelayState=r-6d6f636c");
    let report = inspect(url::Url::parse(&tampered).unwrap());
    assert_eq!(
        status(&report, "authn-request.signature"),
        CheckStatus::Fail
    );
}

#[test]
fn parameter_order_does_not_matter_for_verification() {
    // SigAlg first in the URL: the signed octets are still assembled in binding order.
    let url = good_url();
    let q = url.query().unwrap();
    let mut parts: Vec<&str> = q.split('&').collect();
    parts.rotate_right(2);
    let reordered = format!("{SSO}?{}", parts.join("&"));
    let report = inspect(url::Url::parse(&reordered).unwrap());
    assert_eq!(
        status(&report, "authn-request.signature"),
        CheckStatus::Pass
    );
}

#[test]
fn options_not_configured_skip_their_checks() {
    let report = inspect_authn_request(
        &captured(good_url()),
        &sp_metadata(),
        &InspectOptions::new(NOW),
    );
    assert_eq!(
        status(&report, "authn-request.destination"),
        CheckStatus::Skipped
    );
    assert_eq!(
        status(&report, "authn-request.profile"),
        CheckStatus::Skipped
    );
    // Without a required level an NSIS LoA is enough.
    assert_eq!(status(&report, "authn-request.loa"), CheckStatus::Pass);
}

#[test]
fn duplicate_parameter_skips_everything_else() {
    let url = good_url();
    let dup = format!("{}&SAMLRequest=AAAA", url.as_str());
    let report = inspect(url::Url::parse(&dup).unwrap());
    assert_eq!(status(&report, "authn-request.decode"), CheckStatus::Fail);
    assert!(
        report
            .findings
            .iter()
            .filter(|f| f.id != "authn-request.decode")
            .all(|f| f.status == CheckStatus::Skipped)
    );
}

#[test]
fn snapshots() {
    let pki = MockPki::builtin();
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../../snapshots/inspect");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        insta::assert_snapshot!("authn-request-correct", inspect(good_url()).to_json());
        insta::assert_snapshot!(
            "authn-request-legacy",
            inspect(redirect(
                &Req {
                    class_refs: Some(vec![
                        "https://nemlogin.dk/internal/credential/type/nemidkeycard".into()
                    ]),
                    issue_instant: "2026-06-01T11:40:00Z".into(),
                    ..Req::default()
                },
                Some(&"r".repeat(100)),
                Sign::Sha1(&pki.sp_oces2),
            ))
            .to_json()
        );
    });
}

#[test]
fn decode_failures_say_why() {
    let by_name = |name: &str| {
        let case = cases().into_iter().find(|c| c.name == name).unwrap();
        inspect(case.url)
            .finding("authn-request.decode")
            .unwrap()
            .detail
            .clone()
    };
    assert!(by_name("deflate bomb").contains("deflate bomb"));
    assert!(by_name("DOCTYPE").contains("DOCTYPE"));
    assert!(by_name("zlib instead of raw DEFLATE").contains("zlib"));
    assert!(by_name("no SAMLRequest").contains("no SAMLRequest"));
}

// ---- OIOSAML 4.0 ----

const SSO4: &str = "https://127.0.0.1:9443/idp/saml/4.0/";
const LOA4_SUBSTANTIAL: &str = "https://data.gov.dk/concept/core/loa/Substantial";
const PERSON_DK: &str = "https://data.gov.dk/eid/Person/DK";
const PERSON_DK_WITHOUT_CPR: &str = "https://data.gov.dk/eid/Person/DK/WithoutCPR";
const PROFESSIONAL_DK: &str = "https://data.gov.dk/eid/Professional/DK";

/// A 4.0 request: the 4.0 Destination, these class refs, and `RequestedAttributeProfiles`
/// with these profiles (`None`: no Extensions at all).
fn inspect4(class_refs: &[&str], profiles: Option<&[&str]>, private_sp: bool) -> InspectionReport {
    let req = Req {
        destination: Some(SSO4.into()),
        class_refs: Some(class_refs.iter().map(|s| s.to_string()).collect()),
        ..Req::default()
    };
    let mut xml = req.xml();
    if let Some(ps) = profiles {
        let ext: String = ps
            .iter()
            .map(|p| format!("<nl:Profile>{p}</nl:Profile>"))
            .collect();
        xml = xml.replace(
            "</saml:Issuer>",
            &format!(
                r#"</saml:Issuer><samlp:Extensions><nl:RequestedAttributeProfiles xmlns:nl="https://data.gov.dk/eid/saml/extensions">{ext}</nl:RequestedAttributeProfiles></samlp:Extensions>"#
            ),
        );
    }
    let url = redirect_from_bytes(
        SSO4,
        &deflate(&xml),
        Some("r-6d6f636b"),
        Sign::Sha256(&MockPki::builtin().sp),
        false,
    );
    let mut o = opts();
    o.broker_sso_url = Some(SSO4.into());
    o.oiosaml = mitid_mock_broker::saml::oiosaml4::OiosamlVersion::V4;
    o.private_sp = private_sp;
    inspect_authn_request(&captured(url), &sp_metadata(), &o)
}

#[test]
fn oiosaml4_requests() {
    let loa = "authn-request.loa";
    let profile = "authn-request.profile";
    // Correct: the 4.0 LoA and the requested profiles.
    let r = inspect4(
        &[LOA4_SUBSTANTIAL],
        Some(&[PERSON_DK, PROFESSIONAL_DK]),
        false,
    );
    assert_eq!(status(&r, loa), CheckStatus::Pass, "{r:?}");
    assert_eq!(status(&r, profile), CheckStatus::Pass, "{r:?}");
    assert_eq!(status(&r, "authn-request.destination"), CheckStatus::Pass);
    // No RequestedAttributeProfiles.
    let r = inspect4(&[LOA4_SUBSTANTIAL], None, false);
    assert_eq!(status(&r, profile), CheckStatus::Fail);
    // A profile NemLog-in does not offer.
    let r = inspect4(
        &[LOA4_SUBSTANTIAL],
        Some(&["https://data.gov.dk/eid/Person"]),
        false,
    );
    assert_eq!(status(&r, profile), CheckStatus::Fail);
    // A private SP asking for the CPR profile; WithoutCPR is right for it.
    let r = inspect4(&[LOA4_SUBSTANTIAL], Some(&[PERSON_DK]), true);
    assert_eq!(status(&r, profile), CheckStatus::Fail);
    let r = inspect4(&[LOA4_SUBSTANTIAL], Some(&[PERSON_DK_WITHOUT_CPR]), true);
    assert_eq!(status(&r, profile), CheckStatus::Pass);
    // A person service requesting only the professional profile.
    let r = inspect4(&[LOA4_SUBSTANTIAL], Some(&[PROFESSIONAL_DK]), false);
    assert_eq!(status(&r, profile), CheckStatus::Fail);
    // 3.0.3 LoA and profile class refs in a 4.0 request.
    let r = inspect4(
        &[
            &Loa::Substantial.classref(),
            IdentityKind::Person.profile_uri(),
        ],
        Some(&[PERSON_DK]),
        false,
    );
    assert_eq!(status(&r, loa), CheckStatus::Fail);
    // A 4.0 LoA below the service's level.
    let r = inspect4(
        &["https://data.gov.dk/concept/core/loa/Low"],
        Some(&[PERSON_DK]),
        false,
    );
    assert_eq!(status(&r, loa), CheckStatus::Fail);
    // NemID-era classes.
    let r = inspect4(
        &[
            LOA4_SUBSTANTIAL,
            "https://nemlogin.dk/internal/credential/type/nemidkeycard",
        ],
        Some(&[PERSON_DK]),
        false,
    );
    assert_eq!(status(&r, loa), CheckStatus::Fail);
}
