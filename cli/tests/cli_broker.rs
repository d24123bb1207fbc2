//! `mitid-harness broker` through the real binary: `--print-metadata` binds nothing (it works
//! on a port another process holds, and on a non-loopback address it only names), and a
//! started broker prints its base URL and control token, which the control API then requires.

use mitid_mock_broker::control::{ControlClient, ControlClientError};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

fn harness() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mitid-harness"));
    c.env("NO_COLOR", "1")
        .env_remove("MITID_BROKER_CONTROL_TOKEN");
    c
}

#[test]
fn print_metadata_binds_nothing() {
    // A port held by someone else (a running broker, say).
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port();
    for bind in [format!("127.0.0.1:{port}"), format!("0.0.0.0:{port}")] {
        let out = harness()
            .args(["broker", "--bind", &bind, "--print-metadata"])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "--bind {bind}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains("EntityDescriptor"), "{stdout}");
        assert!(
            stdout.contains(&format!("http://{bind}/idp/saml/3.0/")),
            "the metadata names the address as given: {stdout}"
        );
    }
    // The port is still ours: nothing else bound it.
    assert!(busy.local_addr().is_ok());
    // A public base URL wins over the listen address, as for a running broker.
    let out = harness()
        .args([
            "broker",
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--base-url",
            "https://idp.test:8443",
            "--print-metadata",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("https://idp.test:8443/idp/saml/3.0/"));
}

/// The broker's start-up lines until it says it serves; the child keeps running.
fn start_broker(args: &[&str], token_env: Option<&str>) -> (std::process::Child, Vec<String>) {
    let mut cmd = harness();
    cmd.args(["broker", "--bind", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if let Some(t) = token_env {
        cmd.env("MITID_BROKER_CONTROL_TOKEN", t);
    }
    let mut child = cmd.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        let done = line.starts_with("Ctrl-C");
        lines.push(line);
        if done {
            break;
        }
    }
    (child, lines)
}

fn value<'a>(lines: &'a [String], key: &str) -> Option<&'a str> {
    lines
        .iter()
        .find_map(|l| l.trim_start().strip_prefix(key))
        .map(str::trim)
}

#[tokio::test]
async fn a_started_broker_prints_its_control_token_and_requires_it() {
    let (mut child, lines) = start_broker(&[], None);
    let base = value(&lines, "base URL")
        .expect("base URL line")
        .to_string();
    let token = value(&lines, "control token")
        .expect("control token line")
        .to_string();
    assert!(token.len() >= 43, "{lines:?}");
    let with = ControlClient::new(&base).unwrap().with_token(&token);
    assert!(with.fetches().await.unwrap().is_empty());
    let err = ControlClient::new(&base)
        .unwrap()
        .fetches()
        .await
        .unwrap_err();
    assert!(
        matches!(err, ControlClientError::Refused { status: 401, .. }),
        "{err:?}"
    );
    let _ = child.kill();
    let _ = child.wait();

    // A token given in the environment is the one required (and printed).
    let (mut child, lines) = start_broker(&[], Some("shared-with-the-harness-0123"));
    assert_eq!(
        value(&lines, "control token"),
        Some("shared-with-the-harness-0123")
    );
    let base = value(&lines, "base URL").unwrap().to_string();
    let c = ControlClient::new(&base)
        .unwrap()
        .with_token("shared-with-the-harness-0123");
    assert!(c.fetches().await.is_ok());
    let _ = child.kill();
    let _ = child.wait();

    // --no-control-token: none printed, none needed.
    let (mut child, lines) = start_broker(&["--no-control-token"], None);
    let printed = value(&lines, "control token").unwrap_or_default();
    assert!(printed.starts_with("(none"), "{lines:?}");
    let base = value(&lines, "base URL").unwrap().to_string();
    assert!(ControlClient::new(&base).unwrap().fetches().await.is_ok());
    let _ = child.kill();
    let _ = child.wait();
}
