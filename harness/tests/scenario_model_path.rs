//! A model path in a user's scenario file is checked when the file is loaded, not when the
//! scenario runs: the broker's `ModelPath` deserialises only from a known name, so toml's error
//! names the file and the line of the bad fault.

use mitid_harness::Catalogue;

const SCENARIO: &str = r#"[[scenario]]
id = "custom.expired"
title = "An expired assertion"
family = "custom"
severity = "high"
expect = "reject"
faults = [
  { fault = "set", path = "assertion.conditions.not_on_or_aftr", value = "{now-10m}" },
]
rationale = "r"
"#;

#[test]
fn a_bad_model_path_fails_at_load_with_file_and_line() {
    let e = Catalogue::empty()
        .add_toml(SCENARIO, "my-scenarios.toml")
        .expect_err("unknown model path refused at load")
        .to_string();
    assert!(e.contains("my-scenarios.toml"), "{e}");
    assert!(e.contains("line 8"), "{e}");
    assert!(
        e.contains(r#"unknown model path "assertion.conditions.not_on_or_aftr""#),
        "{e}"
    );
    // The message lists the known paths, so the typo is easy to fix.
    assert!(e.contains("assertion.conditions.not_on_or_after"), "{e}");

    let fixed = SCENARIO.replace("not_on_or_aftr", "not_on_or_after");
    let mut c = Catalogue::empty();
    c.add_toml(&fixed, "my-scenarios.toml")
        .expect("a known path loads");
    assert_eq!(c.len(), 1);
}
