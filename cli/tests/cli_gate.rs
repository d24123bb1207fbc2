//! The gate through the real binary: exit codes, `--fail-on`, `--write-baseline` and
//! `--baseline`, stale waivers, a run that tests nothing, and every `--format json` / `sarif`
//! output being one JSON value. The SP is the reference SP on loopback, behind a broker the
//! CLI reaches as `[broker] external`.

use mitid_mock_broker::Broker;
use mitid_reference::reference_sp::{Flaw, ReferenceSp, RunningSp, SpConfig};
use std::path::{Path, PathBuf};
use std::process::Command;

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn cli(args: &[&str]) -> Out {
    let out = Command::new(env!("CARGO_BIN_EXE_mitid-harness"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run mitid-harness");
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mitid-cli-gate-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// sp.toml for the reference SP behind the external broker, with an optional `[gate]` body.
fn sp_toml(dir: &Path, sp: &RunningSp, broker: &str, gate: &str) -> String {
    let p = dir.join("sp.toml");
    std::fs::write(
        &p,
        format!(
            r#"name = "reference-sp"
login_url = "{}"
sp_metadata = "{}"
profiles = ["person"]
[oracle]
whoami_url = "{}"
json_field = "uuid"
[broker]
external = "{broker}"
[gate]
{gate}
"#,
            sp.login_url(),
            sp.metadata_url(),
            sp.whoami_url()
        ),
    )
    .unwrap();
    p.display().to_string()
}

async fn reference(flaws: Vec<Flaw>) -> (mitid_mock_broker::RunningBroker, RunningSp) {
    let broker = Broker::builder().start().await.unwrap();
    let sp = ReferenceSp::start(SpConfig::new(broker.metadata_xml()).flaws(flaws))
        .await
        .unwrap();
    sp.register_with(&broker).unwrap();
    (broker, sp)
}

const ONLY: [&str; 8] = [
    "--only",
    "xsw.3",
    "--only",
    "signature.two-assertions-first-signed",
    "--only",
    "mitid.person-substantial",
    "--no-inspect",
    "--concurrency=2",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warn_does_not_block_by_default_and_fail_does() {
    // last-assertion: xsw.3 logs in the signed identity (WARN), the appended unsigned
    // assertion the forged one (FAIL).
    let (broker, sp) = reference(vec![Flaw::LastAssertion]).await;
    let dir = scratch("warn");
    let toml = sp_toml(&dir, &sp, broker.base_url(), "");
    let args = |extra: &[&str]| -> Vec<String> {
        ["run", "--sp", &toml]
            .iter()
            .chain(ONLY.iter())
            .chain(extra.iter())
            .map(|s| s.to_string())
            .collect()
    };
    let run = |extra: &[&str]| {
        let a = args(extra);
        cli(&a.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let o = run(&["--format", "json"]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    let v: serde_json::Value = serde_json::from_str(&o.stdout).expect("one JSON value");
    assert_eq!(v["schema_version"], 2);
    assert_eq!(v["summary"]["warned"], 1, "{}", o.stdout);
    assert_eq!(v["summary"]["failed"], 1, "{}", o.stdout);
    assert_eq!(
        v["gate"]["blocking"],
        serde_json::json!(["signature.two-assertions-first-signed"])
    );
    let xsw = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "xsw.3")
        .unwrap();
    assert_eq!(xsw["verdict"], "WARN");
    assert_eq!(xsw["grade"], "signed-identity");

    // Adopt: write a baseline; the same run then passes, findings marked waived.
    let baseline = dir.join("baseline.toml");
    let b = baseline.display().to_string();
    let o = run(&["--write-baseline", &b]);
    assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
    assert!(o.stderr.contains("wrote 2 waivers"), "{}", o.stderr);
    assert!(o.stdout.contains("waived until"), "{}", o.stdout);
    let text = std::fs::read_to_string(&baseline).unwrap();
    assert!(
        text.contains("id = \"xsw.3\"") && text.contains("UNREVIEWED"),
        "{text}"
    );
    let o = run(&["--baseline", &b, "--format", "sarif"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let sarif: serde_json::Value = serde_json::from_str(&o.stdout).expect("one SARIF value");
    assert_eq!(sarif["version"], "2.1.0");
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    assert!(
        results
            .iter()
            .all(|r| r["suppressions"][0]["kind"] == "external")
    );

    // WARN blocks when asked to; the baseline still waives it.
    assert_eq!(run(&["--warn-fails"]).code, 1);
    assert_eq!(run(&["--warn-fails", "--baseline", &b]).code, 0);

    // An expired waiver waives nothing.
    std::fs::write(
        &baseline,
        "[[waiver]]\nid = \"signature.two-assertions-first-signed\"\nreason = \"r\"\nexpires = 2020-01-01\n",
    )
    .unwrap();
    let o = run(&["--baseline", &b]);
    assert_eq!(o.code, 1, "{}", o.stdout);
    assert!(
        o.stdout.contains("waiver EXPIRED on 2020-01-01"),
        "{}",
        o.stdout
    );
    sp.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thresholds_stale_waivers_and_nothing_tested() {
    let (broker, sp) = reference(vec![Flaw::AcceptSha1]).await;
    let dir = scratch("threshold");
    // sha1 is a medium finding: below the default threshold, above `medium`.
    let toml = sp_toml(&dir, &sp, broker.base_url(), "");
    let base = [
        "run",
        "--sp",
        &toml,
        "--no-inspect",
        "--only",
        "signature.sha1",
    ];
    let o = cli(&base);
    assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
    assert!(
        o.stdout.contains("gate passed (fail on high)"),
        "{}",
        o.stdout
    );
    let o = cli(&[&base[..], &["--fail-on", "medium"]].concat());
    assert_eq!(o.code, 1, "{}", o.stdout);
    // [gate] in sp.toml, with a baseline path relative to it; the command line overrides.
    std::fs::write(
        dir.join("b.toml"),
        "[[waiver]]\nid = \"xsw.1\"\nreason = \"fixed\"\nexpires = 2999-01-01\n",
    )
    .unwrap();
    let toml = sp_toml(
        &dir,
        &sp,
        broker.base_url(),
        "fail_on = \"medium\"\nbaseline = \"b.toml\"",
    );
    let base = [
        "run",
        "--sp",
        &toml,
        "--no-inspect",
        "--only",
        "signature.sha1",
    ];
    let o = cli(&base);
    assert_eq!(o.code, 1, "{}", o.stdout);
    assert!(o.stdout.contains("stale waiver xsw.1"), "{}", o.stdout);
    assert_eq!(cli(&[&base[..], &["--fail-on", "high"]].concat()).code, 0);
    // Nothing applicable: a professional scenario for a person-only SP.
    let o = cli(&[
        "run",
        "--sp",
        &toml,
        "--no-inspect",
        "--only",
        "mitid.professional-minimal",
    ]);
    assert_eq!(o.code, 2, "{}", o.stdout);
    assert!(
        o.stdout.contains("no applicable scenario ran"),
        "{}",
        o.stdout
    );
    // A bad baseline is a configuration error, named.
    std::fs::write(dir.join("bad.toml"), "[[waiver]]\nid = \"x\"\n").unwrap();
    let bad = dir.join("bad.toml").display().to_string();
    let o = cli(&[&base[..], &["--baseline", &bad]].concat());
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("bad.toml"), "{}", o.stderr);
    sp.shutdown().await;
}

#[test]
fn demo_json_is_one_array_of_reports() {
    let o = cli(&[
        "demo",
        "--format",
        "json",
        "--no-inspect",
        "--concurrency",
        "8",
    ]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let v: serde_json::Value = serde_json::from_str(&o.stdout).expect("one JSON value");
    let reports = v.as_array().expect("an array");
    // Strict SAML SP, NemID-era SAML SP, strict OIDC RP.
    assert_eq!(reports.len(), 3);
    assert_eq!(reports[0]["gate"]["status"], "passed");
    assert_eq!(reports[1]["gate"]["status"], "failed");
    assert_eq!(reports[2]["gate"]["status"], "passed");
    assert!(reports.iter().all(|r| r["schema_version"] == 2));
}
