//! `mitid-harness list` and `list --format json`, frozen: the catalogue a user sees is part of
//! the interface (ids are what CI configurations `--skip`), so any change shows up in review.

use std::process::Command;

fn run(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_mitid-harness"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run mitid-harness");
    assert!(
        out.status.success(),
        "mitid-harness {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

#[test]
fn list_snapshot() {
    let text = run(&["list"]);
    let json: serde_json::Value =
        serde_json::from_str(&run(&["list", "--format", "json"])).unwrap();
    let n = json.as_array().unwrap().len();
    assert!(n >= 190, "the built-in catalogue has {n} scenarios");
    insta::with_settings!({snapshot_path => "../../snapshots/cli", prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!("list", text);
        insta::assert_json_snapshot!("list_json", json);
    });
}

#[test]
fn explain_names_the_fault_and_the_fix() {
    let text = run(&["explain", "legacy.assurance-level-only"]);
    assert!(text.contains("legacy.assurance-level-only"), "{text}");
    assert!(text.to_lowercase().contains("reject"), "{text}");
}
