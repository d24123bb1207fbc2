//! Property tests over every parser an outsider reaches: the stable-toolchain subset of the
//! `fuzz/` targets. Inputs are valid fixtures with random byte-level edits (the shape of input
//! that gets furthest into a parser) and arbitrary text; the property is always the same: a
//! clear `Err` or a value, never a panic, and bounded work.

mod saml_support;

use mitid_mock_broker::IdentityStore;
use mitid_mock_broker::saml::authn_request::{self, AuthnRequestBuilder};
use mitid_mock_broker::saml::redirect::{self, codec};
use mitid_mock_broker::saml::sp_metadata::SpMetadata;
use proptest::prelude::*;

/// One edit of a seed: replace, insert or delete a run of bytes at a position.
#[derive(Debug, Clone)]
enum Edit {
    Replace(usize, Vec<u8>),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    // Bytes that matter to XML, TOML, base64 and URL parsers, plus arbitrary ones.
    let interesting = prop_oneof![
        Just(b"<".to_vec()),
        Just(b">".to_vec()),
        Just(b"\"".to_vec()),
        Just(b"&".to_vec()),
        Just(b"<!DOCTYPE x [<!ENTITY e \"x\">]>".to_vec()),
        Just(b"&e;".to_vec()),
        Just(b"]]>".to_vec()),
        Just(b"%".to_vec()),
        Just(b"=".to_vec()),
        Just(b"\n[".to_vec()),
        Just(vec![0xff, 0xfe]),
        prop::collection::vec(any::<u8>(), 1..8),
    ];
    prop_oneof![
        (any::<usize>(), interesting.clone()).prop_map(|(p, b)| Edit::Replace(p, b)),
        (any::<usize>(), interesting).prop_map(|(p, b)| Edit::Insert(p, b)),
        (any::<usize>(), 1usize..64).prop_map(|(p, n)| Edit::Delete(p, n)),
    ]
}

fn apply(seed: &str, edits: &[Edit]) -> String {
    let mut b = seed.as_bytes().to_vec();
    for e in edits {
        let len = b.len().max(1);
        match e {
            Edit::Replace(p, with) => {
                let p = p % len;
                let end = (p + with.len()).min(b.len());
                b.splice(p.min(b.len())..end, with.iter().copied());
            }
            Edit::Insert(p, with) => {
                let p = p % (b.len() + 1);
                b.splice(p..p, with.iter().copied());
            }
            Edit::Delete(p, n) => {
                let p = p % len;
                let end = (p + n).min(b.len());
                if p < end {
                    b.drain(p..end);
                }
            }
        }
    }
    String::from_utf8_lossy(&b).into_owned()
}

fn authn_request_seed() -> String {
    AuthnRequestBuilder {
        id: "_seed".into(),
        issue_instant: time::macros::datetime!(2026-01-01 00:00:00 UTC),
        destination: "http://127.0.0.1:8390/idp/saml/3.0/sso".into(),
        issuer: "https://sp.example.dk".into(),
        acs_url: Some("https://sp.example.dk/acs".into()),
        loa: Some(mitid_mock_broker::Loa::Substantial),
        profile: None,
        extra_class_refs: vec![],
        requested_profiles: Vec::new(),
        force_authn: true,
        is_passive: false,
    }
    .to_xml()
}

const IDENTITY_SEED: &str = r#"
replace_builtin = false
[[identity]]
id = "karen"
kind = "person"
uuid = "5b1b5b6c-1111-4a4a-9d9d-000000000001"
cpr = "0107721231"
first_name = "Karen"
last_name = "Jensen"
email = ["karen@example.dk"]
date_of_birth = "1972-07-01"
loa = "Substantial"
"#;

fn config() -> ProptestConfig {
    // Deterministic in CI (proptest's default is a random seed per run); enough cases to
    // reach deep into each parser without making `cargo test` slow.
    ProptestConfig {
        cases: 256,
        failure_persistence: None,
        rng_algorithm: prop::test_runner::RngAlgorithm::ChaCha,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn authn_request_parse_never_panics(edits in prop::collection::vec(edit(), 1..6)) {
        let xml = apply(&authn_request_seed(), &edits);
        let _ = authn_request::parse(&xml);
    }

    #[test]
    fn sp_metadata_parse_never_panics(edits in prop::collection::vec(edit(), 1..6)) {
        let seed = saml_support::sp_metadata_xml("https://sp.example.dk", "");
        let xml = apply(&seed, &edits);
        let _ = SpMetadata::parse(&xml);
        let _ = SpMetadata::parse_all(&xml);
    }

    #[test]
    fn redirect_decoding_never_panics(edits in prop::collection::vec(edit(), 0..6), text in ".{0,200}") {
        let encoded = codec::encode(&authn_request_seed());
        let query = format!(
            "SAMLRequest={}&RelayState=r&SigAlg=x&Signature=AAAA",
            url::form_urlencoded::byte_serialize(encoded.as_bytes()).collect::<String>()
        );
        let _ = redirect::decode_query(&apply(&query, &edits), "SAMLRequest");
        let _ = redirect::decode_query(&text, "SAMLRequest");
        for reading in [codec::Base64Reading::Strict, codec::Base64Reading::Tolerant] {
            let _ = codec::decode(&apply(&encoded, &edits), reading);
            let _ = codec::decode(&text, reading);
        }
    }

    #[test]
    fn inflate_is_bounded(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        match codec::inflate(&bytes) {
            Ok(s) => prop_assert!(s.len() <= codec::MAX_INFLATED_LEN),
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }

    #[test]
    fn codec_round_trips(xml in "[ -~]{0,2000}") {
        prop_assert_eq!(codec::decode(&codec::encode(&xml), codec::Base64Reading::Strict).unwrap(), xml);
    }

    #[test]
    fn identities_toml_never_panics(edits in prop::collection::vec(edit(), 1..6)) {
        match IdentityStore::from_toml_str(&apply(IDENTITY_SEED, &edits), "identities.toml") {
            Ok(store) => prop_assert!(!store.is_empty()),
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }
}

#[test]
fn a_deflate_bomb_is_refused_not_inflated() {
    let bomb = codec::deflate(&"A".repeat(codec::MAX_INFLATED_LEN * 4));
    assert!(matches!(
        codec::inflate(&bomb),
        Err(codec::CodecError::DeflateBomb)
    ));
}
