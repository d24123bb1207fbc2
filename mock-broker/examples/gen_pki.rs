//! Regenerates the MOCK PKI fixtures in `mock-broker/testdata/pki/`.
//!
//! ```text
//! cargo run -p mitid-mock-broker --example gen_pki            # keep existing keys, re-issue certs
//! cargo run -p mitid-mock-broker --example gen_pki -- --fresh # new keys for everything
//! cargo run -p mitid-mock-broker --example gen_pki -- --out DIR
//! ```
//!
//! Keys on disk are kept when their type and size still match the catalogue, so changing a
//! certificate layout does not churn every key; certificates are always rewritten. The layout
//! itself lives in `mitid_mock_broker::pki::fixtures`, where the tests can re-issue it.

use mitid_mock_broker::pki::fixtures::{self, FIXTURES};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gen_pki: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let mut fresh = false;
    let mut out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/pki");
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--fresh" => fresh = true,
            "--out" => out = PathBuf::from(args.next().ok_or("--out needs a directory")?),
            "-h" | "--help" => {
                println!("usage: gen_pki [--fresh] [--out DIR]");
                return Ok(());
            }
            other => return Err(format!("unknown argument {other:?} (try --help)")),
        }
    }
    std::fs::create_dir_all(&out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;

    let mut keys = BTreeMap::new();
    for (name, spec) in FIXTURES {
        let path = out.join(format!("{name}.key.pem"));
        let existing = if fresh {
            None
        } else {
            std::fs::read_to_string(&path)
                .ok()
                .filter(|pem| fixtures::key_spec_of(pem).ok() == Some(*spec))
        };
        let pem = match existing {
            Some(pem) => pem,
            None => {
                println!("generating {spec:?} key for {name}");
                let pem = fixtures::generate_key(*spec).map_err(|e| e.to_string())?;
                std::fs::write(&path, &pem)
                    .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
                pem
            }
        };
        keys.insert((*name).to_string(), pem);
    }

    for (name, cert_pem) in fixtures::issue_all(&keys).map_err(|e| e.to_string())? {
        let path = out.join(format!("{name}.cert.pem"));
        std::fs::write(&path, cert_pem)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    println!(
        "wrote {} MOCK credentials to {}",
        FIXTURES.len(),
        out.display()
    );
    Ok(())
}
