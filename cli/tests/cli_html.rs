//! `mitid-harness demo --html`: the CLI writes one self-contained page whose counts are the JSON
//! reports' (what the page shows in a browser is checked by tests/browser/run).

use std::process::Command;

#[test]
fn demo_writes_the_html_report() {
    let dir = std::env::temp_dir().join(format!("mitid-cli-html-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let html_path = dir.join("report.html");
    let out = Command::new(env!("CARGO_BIN_EXE_mitid-harness"))
        .args(["demo", "--format", "json", "--html"])
        .arg(&html_path)
        .env("NO_COLOR", "1")
        .output()
        .expect("run mitid-harness");
    assert!(
        out.status.success(),
        "demo failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let html = std::fs::read_to_string(&html_path).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(
        html.contains("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none';")
    );
    // One JSON array of reports on stdout, one section per SP in the page, same counts.
    let stdout = String::from_utf8(out.stdout).unwrap();
    let reports: Vec<serde_json::Value> =
        serde_json::from_str(&stdout).expect("`demo --format json` prints one JSON array");
    assert_eq!(reports.len(), 3, "two SAML SPs and one OIDC RP");
    assert_eq!(
        html.matches("<section class=\"report\"").count(),
        reports.len()
    );
    let sections: Vec<&str> = html.split("<section class=\"report\"").skip(1).collect();
    for (r, section) in reports.iter().zip(sections) {
        for (verdict, key) in [
            ("FAIL", "failed"),
            ("WARN", "warned"),
            ("PASS", "passed"),
            ("INCONCLUSIVE", "inconclusive"),
            ("SKIPPED", "skipped"),
        ] {
            let n = &r["summary"][key];
            assert!(
                section.contains(&format!(
                    "data-verdict=\"{verdict}\"><span class=\"n\">{n}</span>"
                )),
                "{verdict} count {n} of {}",
                r["sp"]
            );
        }
        let findings = section.matches("<details class=\"finding\"").count();
        assert_eq!(findings, r["results"].as_array().unwrap().len());
    }
    // The NemID-era SP fails, and its transcripts are decoded: SAML and the OIDC RP's ID tokens.
    assert!(html.contains("data-verdict=\"FAIL\" data-family"));
    assert!(html.contains("SAMLResponse (HTTP-POST binding, form field), decoded"));
    assert!(html.contains("id_token (in the JSON response), a JWT decoded"));
    assert!(!html.contains("could not be decoded"));
}
