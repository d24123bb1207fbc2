//! `mitid-harness`: the CLI.

use clap::{Parser, Subcommand, ValueEnum};
use mitid_harness::report::{
    to_html, to_html_multi, to_junit, to_sarif, to_sarif_all, to_terminal,
};
use mitid_harness::scenario::Severity;
use mitid_harness::scenario::{Catalogue, Protocol, StepBody};
use mitid_harness::{Baseline, GatePolicy, Harness, RunReport, SpConfig};
use mitid_mock_broker::{
    Broker, BrokerOptions, ControlTokenSetting, EncryptionDefault, EntityIdPreset, IdentityStore,
    Loa,
};
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "mitid-harness",
    version,
    about = "Conformance harness for Danish SPs logging in through a MitID broker (mock NemLog-in OIOSAML 3 + OIDC)."
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
    /// Log level for the broker and harness (error, warn, info, debug).
    #[arg(long, global = true, default_value = "warn")]
    log: String,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Format {
    Terminal,
    /// One JSON value: a report (`run`), an array of reports (`demo`), an array (`list`).
    Json,
    /// SARIF 2.1.0 (`run`, `demo`: one SARIF run per report).
    Sarif,
}

/// A severity threshold for `--fail-on`.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum Sev {
    Critical,
    High,
    Medium,
    Info,
}

impl From<Sev> for Severity {
    fn from(s: Sev) -> Self {
        match s {
            Sev::Critical => Severity::Critical,
            Sev::High => Severity::High,
            Sev::Medium => Severity::Medium,
            Sev::Info => Severity::Info,
        }
    }
}

/// The release gate on the command line; each flag overrides sp.toml's `[gate]`.
#[derive(clap::Args, Debug, Clone)]
struct GateArgs {
    /// Fail (exit 1) on an unwaived FAIL at or above this severity [default: sp.toml [gate]
    /// fail_on, else high].
    #[arg(long, value_enum)]
    fail_on: Option<Sev>,
    /// WARN findings (accepted, but the signed identity logged in) at or above the threshold
    /// fail too.
    #[arg(long)]
    warn_fails: bool,
}

impl GateArgs {
    fn apply(&self, mut p: GatePolicy) -> GatePolicy {
        if let Some(s) = self.fail_on {
            p.fail_on = s.into();
        }
        p.warn_fails |= self.warn_fails;
        p
    }
}

#[derive(clap::Args, Debug)]
struct Selection {
    /// Run only these scenario ids or families (repeatable; `prefix*` allowed).
    #[arg(long)]
    only: Vec<String>,
    /// Skip these scenario ids or families (repeatable).
    #[arg(long)]
    skip: Vec<String>,
    /// Add scenario files from a directory (*.toml).
    #[arg(long)]
    scenarios: Vec<PathBuf>,
    /// Do not load the built-in catalogue.
    #[arg(long)]
    no_builtin: bool,
}

#[derive(clap::Args, Debug)]
struct Output {
    /// Report format on stdout.
    #[arg(long, value_enum, default_value = "terminal")]
    format: Format,
    /// Also write JUnit XML here.
    #[arg(long)]
    junit: Option<PathBuf>,
    /// Also write SARIF 2.1.0 here (for code-scanning views).
    #[arg(long)]
    sarif: Option<PathBuf>,
    /// Write one transcript (every HTTP exchange) per scenario into this directory.
    #[arg(long)]
    transcripts: Option<PathBuf>,
    /// Also write a self-contained HTML report here (verdicts, fixes, decoded transcripts).
    #[arg(long)]
    html: Option<PathBuf>,
    /// Scenarios run at the same time.
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// Skip the inbound checks (SP metadata, certificates, AuthnRequests).
    #[arg(long)]
    no_inspect: bool,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Run the built-in reference SPs (one strict, one with NemID-era flaws) against the SAML
    /// catalogue, and the strict reference OIDC RP against the OIDC catalogue.
    Demo {
        #[command(flatten)]
        out: Output,
        #[command(flatten)]
        gate: GateArgs,
    },
    /// Run the catalogue against the SP described by sp.toml. Exit codes: 0 the gate passed,
    /// 1 it failed, 2 nothing was tested (no applicable scenario, or a configuration error),
    /// 3 a scenario at or above the threshold was inconclusive.
    Run {
        /// The SP under test (see README for every key).
        #[arg(long, default_value = "sp.toml")]
        sp: PathBuf,
        #[command(flatten)]
        sel: Selection,
        #[command(flatten)]
        out: Output,
        #[command(flatten)]
        gate: GateArgs,
        /// Waive the findings this reviewed baseline file lists [default: sp.toml [gate]
        /// baseline].
        #[arg(long)]
        baseline: Option<PathBuf>,
        /// Write a baseline waiving every finding of this run (placeholder reasons, expiring
        /// 90 days after the run), and judge the run with it: adopt the gate at once, then
        /// review the reasons.
        #[arg(long)]
        write_baseline: Option<PathBuf>,
        /// The control token of the external broker (`[broker] external`): the one
        /// `mitid-harness broker` printed at start [default: sp.toml [broker] control_token].
        #[arg(long, env = "MITID_BROKER_CONTROL_TOKEN", hide_env_values = true)]
        broker_control_token: Option<String>,
    },
    /// List scenarios (id, family, expectation, title).
    List {
        #[command(flatten)]
        sel: Selection,
        /// Output format.
        #[arg(long, value_enum, default_value = "terminal")]
        format: Format,
    },
    /// Explain one scenario: what it sends, what the SP must do, and why.
    Explain {
        /// Scenario id.
        id: String,
        #[command(flatten)]
        sel: Selection,
    },
    /// Run the mock broker until Ctrl-C (for local development instead of NemLog-in).
    /// SIGHUP re-reads the SP metadata (files and URLs).
    Broker {
        /// A broker.toml (every key is in the README); flags given as well override it.
        #[arg(long)]
        config: Option<PathBuf>,
        #[command(flatten)]
        flags: BrokerFlags,
        /// Print the IdP metadata and exit.
        #[arg(long)]
        print_metadata: bool,
    },
    /// Mint one login response for an SP (prints base64; --decrypt prints the XML).
    Mint {
        /// SP metadata file.
        #[arg(long)]
        sp_metadata: PathBuf,
        /// Identity handle.
        #[arg(long, default_value = "anna")]
        identity: String,
        /// LoA to assert (default: the identity's).
        #[arg(long)]
        loa: Option<Loa>,
        /// ACS URL (default: the SP's default HTTP-POST ACS).
        #[arg(long)]
        acs: Option<String>,
        /// InResponseTo (default: unsolicited).
        #[arg(long)]
        in_response_to: Option<String>,
        /// entityID preset or URL.
        #[arg(long, default_value = "mock")]
        entity_id: String,
        /// Encryption default.
        #[arg(long, value_enum, default_value = "nemlogin")]
        encryption: Enc,
        /// Print the decrypted response XML; needs --sp-key (or uses the mock SP key).
        #[arg(long)]
        decrypt: bool,
        /// SP private key PEM for --decrypt.
        #[arg(long)]
        sp_key: Option<PathBuf>,
        /// Print the Response XML as sent (encrypted assertion inside), not base64.
        #[arg(long)]
        xml: bool,
    },
    /// Inspect SP metadata (file or URL): shape, certificates (OCES3/OCES2), endpoints, attributes.
    InspectMetadata {
        /// File path or http(s) URL.
        source: String,
        /// Output format.
        #[arg(long, value_enum, default_value = "terminal")]
        format: Format,
        /// Treat the SP as a private SP (no cprNumber / privilegesIntermediate allowed).
        #[arg(long)]
        private_sp: bool,
    },
}

/// The `broker` command's flags: each is a key of [`BrokerOptions`] (the broker.toml keys).
#[derive(clap::Args, Debug, Default)]
struct BrokerFlags {
    /// Listen address (loopback only unless --allow-non-loopback) [default: 127.0.0.1:8390].
    #[arg(long)]
    bind: Option<SocketAddr>,
    /// Public base URL, if SPs reach the broker under another URL.
    #[arg(long)]
    base_url: Option<String>,
    /// entityID: mock | integration-test | devtest4 | a URL [default: mock].
    #[arg(long)]
    entity_id: Option<String>,
    /// SP metadata file or URL to register (repeatable; added to the config's).
    #[arg(long = "sp-metadata")]
    sp_metadata: Vec<String>,
    /// Identities TOML (added to the built-ins).
    #[arg(long)]
    identities: Option<PathBuf>,
    /// Encryption default when SP metadata names no algorithms [default: nemlogin].
    #[arg(long, value_enum)]
    encryption: Option<Enc>,
    /// Serve HTTPS with the mock local CA (see the printed hint to trust it).
    #[arg(long)]
    https: bool,
    /// Allow a non-loopback bind address.
    #[arg(long)]
    allow_non_loopback: bool,
    /// Your own IdP signing key (PEM) instead of the mock OCES3 key; needs --idp-cert.
    #[arg(long, requires = "idp_cert")]
    idp_key: Option<PathBuf>,
    /// Certificate (PEM) for --idp-key.
    #[arg(long, requires = "idp_key")]
    idp_cert: Option<PathBuf>,
    /// DEVELOPMENT ONLY: accept ANY OIDC client_id whose redirect URI is on loopback, without
    /// client authentication. Never on by default.
    #[arg(long)]
    dev_accept_any_loopback_client: bool,
    /// The control API's token (`Authorization: Bearer <token>` on /_mock/*), at least 16
    /// characters [default: a random one per start, printed at start].
    #[arg(long, env = "MITID_BROKER_CONTROL_TOKEN", hide_env_values = true)]
    control_token: Option<String>,
    /// No control token (loopback listen addresses only; the Host, Origin and JSON checks
    /// remain). Wins over --control-token.
    #[arg(long)]
    no_control_token: bool,
}

/// The broker's listen address when neither a flag nor the config names one.
const DEFAULT_BROKER_BIND: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 8390);

/// The broker's options: the config file (if any), then the flags over it.
fn broker_options(config: Option<&Path>, f: BrokerFlags) -> Result<BrokerOptions, String> {
    let mut o = match config {
        Some(p) => BrokerOptions::from_file(p).map_err(|e| e.to_string())?,
        None => BrokerOptions::default(),
    };
    o.bind = f.bind.or(o.bind).or(Some(DEFAULT_BROKER_BIND));
    if f.base_url.is_some() {
        o.base_url = f.base_url;
    }
    if let Some(e) = f.entity_id {
        o.entity_id = Some(EntityIdPreset::parse(&e));
    }
    if let Some(e) = f.encryption {
        o.encryption = Some(e.into());
    }
    if f.identities.is_some() {
        o.identities = f.identities;
    }
    o.https |= f.https;
    o.allow_non_loopback |= f.allow_non_loopback;
    if f.idp_key.is_some() {
        o.idp_key = f.idp_key;
        o.idp_cert = f.idp_cert;
    }
    o.sp_metadata.extend(f.sp_metadata);
    if f.no_control_token {
        o.control_token = Some(ControlTokenSetting::Enabled(false));
    } else if let Some(t) = f.control_token {
        o.control_token = Some(ControlTokenSetting::Token(t));
    }
    if f.dev_accept_any_loopback_client {
        o.oidc
            .get_or_insert_with(Default::default)
            .dev_accept_any_loopback_client = true;
    }
    o.check().map_err(|(key, why)| match config {
        Some(p) => format!("{} (with the flags): {key}: {why}", p.display()),
        None => format!("--{}: {why}", key.replace('_', "-")),
    })?;
    Ok(o)
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Enc {
    Nemlogin,
    Compatible,
}

impl From<Enc> for EncryptionDefault {
    fn from(e: Enc) -> Self {
        match e {
            Enc::Nemlogin => EncryptionDefault::Nemlogin,
            Enc::Compatible => EncryptionDefault::Compatible,
        }
    }
}

fn fail(msg: impl std::fmt::Display) -> ExitCode {
    let _ = writeln!(anstream::stderr(), "error: {msg}");
    ExitCode::from(2)
}

fn load_catalogue(sel: &Selection) -> Result<Catalogue, String> {
    let mut c = if sel.no_builtin {
        Catalogue::empty()
    } else {
        Catalogue::builtin()
    };
    for d in &sel.scenarios {
        c.add_dir(d).map_err(|e| e.to_string())?;
    }
    c.filter(&sel.only, &sel.skip).map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_new(&cli.log).unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(format!("cannot start the async runtime: {e}")),
    };
    rt.block_on(async_main(cli))
}

async fn async_main(cli: Cli) -> ExitCode {
    match cli.cmd {
        Cmd::Demo { out, gate } => demo(out, gate).await,
        Cmd::Run {
            sp,
            sel,
            out,
            gate,
            baseline,
            write_baseline,
            broker_control_token,
        } => {
            let mut cfg = match SpConfig::from_file(&sp) {
                Ok(c) => c,
                Err(e) => return fail(e),
            };
            // Only an external broker is reached over HTTP; an in-process one needs no token.
            if let (Some(t), Some(_)) = (broker_control_token, &cfg.broker.external) {
                cfg.broker.options.control_token = Some(ControlTokenSetting::Token(t));
            }
            let policy = gate.apply(cfg.gate.clone());
            let cat = match load_catalogue(&sel) {
                Ok(c) => c.protocol(cfg.protocol),
                Err(e) => return fail(e),
            };
            if cat.is_empty() {
                return fail(format!("no {:?} scenarios selected", cfg.protocol));
            }
            let mut builder = Harness::builder(cfg)
                .catalogue(cat)
                .concurrency(out.concurrency)
                .inspect(!out.no_inspect)
                .gate(policy.clone());
            if let Some(p) = &baseline {
                match Baseline::from_file(p) {
                    Ok(b) => builder = builder.baseline(b),
                    Err(e) => return fail(e),
                }
            }
            let h = match builder.build().await {
                Ok(h) => h,
                Err(e) => return fail(e),
            };
            let mut report = run_with_bar(&h).await;
            if let Some(p) = &write_baseline {
                let mut b = report.baseline(90);
                if let Err(e) = std::fs::write(p, b.to_toml()) {
                    return fail(format!("cannot write {}: {e}", p.display()));
                }
                let _ = writeln!(
                    anstream::stderr(),
                    "wrote {} waivers to {} (expiring {}); review each reason, then run with --baseline {} or set [gate] baseline",
                    b.waivers.len(),
                    p.display(),
                    report.date + time::Duration::days(90),
                    p.display()
                );
                b.origin = Some(p.display().to_string());
                report = report.with_gate(policy, Some(&b));
            }
            emit(&report, &out, Some(&sp.display().to_string()))
        }
        Cmd::List { sel, format } => {
            let c = match load_catalogue(&sel) {
                Ok(c) => c,
                Err(e) => return fail(e),
            };
            match format {
                Format::Json => {
                    let v: Vec<_> = c
                        .iter()
                        .map(|s| serde_json::json!({"id": s.id, "family": s.family, "protocol": s.protocol, "expect": s.final_expect(), "severity": s.severity, "title": s.title}))
                        .collect();
                    println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
                }
                Format::Terminal => print!("{}", list_text(&c)),
                Format::Sarif => return fail("--format sarif is for `run` and `demo`"),
            }
            ExitCode::SUCCESS
        }
        Cmd::Explain { id, sel } => {
            let c = match load_catalogue(&Selection {
                only: vec![],
                skip: vec![],
                ..sel
            }) {
                Ok(c) => c,
                Err(e) => return fail(e),
            };
            match c.get(&id) {
                Some(s) => {
                    print!("{}", explain_text(s));
                    ExitCode::SUCCESS
                }
                None => fail(format!(
                    "no scenario {id:?}; `mitid-harness list` shows them"
                )),
            }
        }
        Cmd::Broker {
            config,
            flags,
            print_metadata,
        } => broker_cmd(config, flags, print_metadata).await,
        Cmd::Mint {
            sp_metadata,
            identity,
            loa,
            acs,
            in_response_to,
            entity_id,
            encryption,
            decrypt,
            sp_key,
            xml,
        } => mint_cmd(MintArgs {
            sp_metadata,
            identity,
            loa,
            acs,
            in_response_to,
            entity_id,
            encryption: encryption.into(),
            decrypt,
            sp_key,
            xml,
        }),
        Cmd::InspectMetadata {
            source,
            format,
            private_sp,
        } => inspect_metadata(&source, format, private_sp).await,
    }
}

/// `mitid-harness broker`: serve until Ctrl-C; SIGHUP re-reads the SP metadata.
async fn broker_cmd(
    config: Option<PathBuf>,
    mut flags: BrokerFlags,
    print_metadata: bool,
) -> ExitCode {
    if print_metadata {
        // Printing binds nothing, so the listen address need not be free or on loopback: the
        // metadata names it as given (e.g. 0.0.0.0 behind a proxy, or a port a broker already
        // serves on).
        flags.allow_non_loopback = true;
        flags.no_control_token = false;
    }
    let cli_sps = flags.sp_metadata.clone();
    let options = match broker_options(config.as_deref(), flags) {
        Ok(o) => o,
        Err(e) => return fail(e),
    };
    let builder = match options.apply(Broker::builder()) {
        Ok(b) => b,
        Err(e) => return fail(e),
    };
    if print_metadata {
        return match builder.metadata_xml() {
            Ok(xml) => {
                print!("{xml}");
                ExitCode::SUCCESS
            }
            Err(e) => fail(e),
        };
    }
    let running = match builder.start().await {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    if options.dev_mode() {
        let _ = writeln!(
            anstream::stderr(),
            "\n!!! DEVELOPMENT MODE: this broker accepts ANY OIDC client_id whose redirect URI is on\n!!! loopback (127.0.0.1, ::1, localhost), with no client authentication. Never use it\n!!! for anything but a developer's own machine.\n"
        );
    }
    println!("mock NemLog-in broker (MOCK keys, test identities only)");
    if let Some(p) = &config {
        println!("  config        {}", p.display());
    }
    println!("  base URL      {}", running.base_url());
    match running.control_token() {
        Some(t) => {
            println!("  control token {t}");
            println!(
                "                (the control API /_mock/* wants `Authorization: Bearer <token>`; for `mitid-harness run`"
            );
            println!(
                "                 against this broker: MITID_BROKER_CONTROL_TOKEN=<token> or sp.toml [broker] control_token)"
            );
        }
        None => println!(
            "  control token (none: --no-control-token; the control API still takes loopback, own-Host, own-Origin JSON calls only)"
        ),
    }
    println!("  entityID      {}", running.entity_id());
    println!("  metadata      {}", running.metadata_url());
    println!("  SSO/SLO       {}", running.sso_url());
    println!(
        "  developer     {}/dev (recent flows, decoded)",
        running.base_url().trim_end_matches('/')
    );
    println!(
        "  SAML SPs      {}",
        sp_list(&running.state().sp_entity_ids())
    );
    if let Some(p) = running.oidc() {
        let cfg = options.oidc.clone().unwrap_or_default();
        for iss in &cfg.issuers {
            println!(
                "  OIDC          {} ({:?}) {}",
                iss.id,
                iss.profile,
                p.discovery_url(&iss.id).unwrap_or_default()
            );
        }
        let clients: Vec<&str> = cfg.clients.iter().map(|c| c.client_id.as_str()).collect();
        println!(
            "  OIDC clients  {}",
            if clients.is_empty() {
                "(none)".to_string()
            } else {
                clients.join(", ")
            }
        );
    }
    println!(
        "  identities    {}",
        running
            .state()
            .identities()
            .iter()
            .map(|i| i.id.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    if options.https {
        println!("  HTTPS uses the mock local CA. Trust it in your SP for testing only, e.g.:");
        println!(
            "    mitid-harness broker --print-metadata > /dev/null; cp mock-broker/testdata/pki/tls_ca.cert.pem /usr/local/share/ca-certificates/mitid-mock-ca.crt && update-ca-certificates"
        );
    }
    println!(
        "Ctrl-C to stop; `kill -HUP {}` re-reads the SP metadata.",
        std::process::id()
    );
    serve_until_ctrl_c(&running, config.as_deref(), &options.sp_metadata, &cli_sps).await;
    running.shutdown().await;
    ExitCode::SUCCESS
}

fn sp_list(ids: &[String]) -> String {
    if ids.is_empty() {
        "(none)".into()
    } else {
        ids.join(", ")
    }
}

/// Wait for Ctrl-C; on SIGHUP re-read the SP metadata sources: the config file's list as it
/// is now (when there is a config file), plus the `--sp-metadata` flags.
#[cfg(unix)]
async fn serve_until_ctrl_c(
    running: &mitid_mock_broker::RunningBroker,
    config: Option<&Path>,
    sources: &[String],
    cli_sps: &[String],
) {
    use tokio::signal::unix::{SignalKind, signal};
    let mut hup = match signal(SignalKind::hangup()) {
        Ok(h) => h,
        Err(e) => {
            let _ = writeln!(
                anstream::stderr(),
                "cannot listen for SIGHUP ({e}); SP metadata will not be re-read"
            );
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    let mut sources = sources.to_vec();
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => return,
            _ = hup.recv() => {
                if let Some(p) = config {
                    match BrokerOptions::from_file(p) {
                        Ok(o) => sources = o.sp_metadata.into_iter().chain(cli_sps.iter().cloned()).collect(),
                        Err(e) => {
                            let _ = writeln!(anstream::stderr(), "SIGHUP: {e}; the SPs stay as they were");
                            continue;
                        }
                    }
                }
                match running.reload_sps(&sources).await {
                    Ok(_) => println!("SIGHUP: SAML SPs now {}", sp_list(&running.state().sp_entity_ids())),
                    Err(e) => { let _ = writeln!(anstream::stderr(), "SIGHUP: {e}; the SPs stay as they were"); }
                }
            }
        }
    }
}

/// Wait for Ctrl-C (no SIGHUP off Unix).
#[cfg(not(unix))]
async fn serve_until_ctrl_c(
    _running: &mitid_mock_broker::RunningBroker,
    _config: Option<&Path>,
    _sources: &[String],
    _cli_sps: &[String],
) {
    let _ = tokio::signal::ctrl_c().await;
}

async fn run_with_bar(h: &Harness) -> RunReport {
    use std::io::IsTerminal;
    let n = h.catalogue().len() as u64;
    let bar = if std::io::stderr().is_terminal() {
        let b = indicatif::ProgressBar::new(n);
        b.set_style(
            indicatif::ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        Some(b)
    } else {
        None
    };
    let b2 = bar.clone();
    let report = h
        .run_with_progress(move |r| {
            if let Some(b) = &b2 {
                b.set_message(r.id.clone());
                b.inc(1);
            }
        })
        .await;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    report
}

/// Print the report on stdout in the chosen format and write the requested files. `artifact`
/// is the file SARIF results point at (the sp.toml path).
fn emit(report: &RunReport, out: &Output, artifact: Option<&str>) -> ExitCode {
    match out.format {
        Format::Json => println!("{}", report.to_json()),
        Format::Sarif => println!("{}", to_sarif(report, artifact)),
        Format::Terminal => {
            let _ = write!(anstream::stdout(), "{}", to_terminal(report));
        }
    }
    if let Some(p) = &out.junit {
        if let Err(e) = std::fs::write(p, to_junit(report)) {
            return fail(format!("cannot write {}: {e}", p.display()));
        }
    }
    if let Some(p) = &out.html {
        if let Err(e) = std::fs::write(p, to_html(report)) {
            return fail(format!("cannot write {}: {e}", p.display()));
        }
    }
    if let Some(p) = &out.sarif {
        if let Err(e) = std::fs::write(p, to_sarif(report, artifact)) {
            return fail(format!("cannot write {}: {e}", p.display()));
        }
    }
    if let Some(d) = &out.transcripts {
        if let Err(e) = report.write_transcripts(d) {
            return fail(format!("cannot write transcripts to {}: {e}", d.display()));
        }
    }
    ExitCode::from(report.exit_code() as u8)
}

fn list_text(c: &Catalogue) -> String {
    let w = c.iter().map(|s| s.id.len()).max().unwrap_or(10);
    let mut o = format!(
        "{:<w$}  {:<10} {:<6} {:<8} {}\n",
        "ID", "FAMILY", "PROTO", "EXPECT", "TITLE"
    );
    for s in c.iter() {
        let proto = match s.protocol {
            Protocol::Saml => "saml",
            Protocol::Oidc => "oidc",
        };
        o.push_str(&format!(
            "{:<w$}  {:<10} {:<6} {:<8} {}\n",
            s.id,
            s.family,
            proto,
            format!("{:?}", s.final_expect()).to_lowercase(),
            s.title
        ));
    }
    o.push_str(&format!("{} scenarios\n", c.len()));
    o
}

fn explain_text(s: &mitid_harness::Scenario) -> String {
    let mut o = format!(
        "{}  [{}; {:?}; severity {:?}]\n{}\n\n",
        s.id, s.family, s.protocol, s.severity, s.title
    );
    for (i, st) in s.steps.iter().enumerate() {
        o.push_str(&format!(
            "step {}: {:?} as {} — the SP must {}\n",
            i + 1,
            st.action(),
            st.identity().unwrap_or("the default identity"),
            match (st.expect, &st.body) {
                (mitid_harness::Expect::Accept, StepBody::IdpLogout(_)) => {
                    "ACCEPT the logout (end the session, answer with a LogoutResponse)"
                }
                (mitid_harness::Expect::Reject, StepBody::IdpLogout(_)) => {
                    "REJECT the logout (the session stays)"
                }
                (_, StepBody::ForgedHeaders(_)) => {
                    "IGNORE the browser's identity headers naming that identity (its session stays as it was)"
                }
                (mitid_harness::Expect::Accept, _) => "ACCEPT (session for exactly that identity)",
                (mitid_harness::Expect::Reject, _) => "REJECT (no session)",
            }
        ));
        let faults: Vec<String> = match &st.body {
            StepBody::SamlLogin(l) => l.plan.faults.iter().map(serde_json::to_string).collect(),
            StepBody::OidcLogin(l) => l.plan.faults.iter().map(serde_json::to_string).collect(),
            StepBody::Replay => Ok(vec![]),
            StepBody::IdpLogout(l) => l.faults.iter().map(serde_json::to_string).collect(),
            StepBody::ForgedHeaders(f) => {
                serde_json::to_string(&f.target).map(|t| vec![format!("headers sent to {t}")])
            }
        }
        .unwrap_or_default();
        for f in faults {
            o.push_str(&format!("   fault: {f}\n"));
        }
    }
    o.push_str(&format!(
        "\nWhy it matters / what to fix:\n  {}\n",
        s.rationale.replace('\n', "\n  ")
    ));
    if !s.references.is_empty() {
        o.push_str(&format!(
            "\nReferences:\n  - {}\n",
            s.references.join("\n  - ")
        ));
    }
    o
}

struct MintArgs {
    sp_metadata: PathBuf,
    identity: String,
    loa: Option<Loa>,
    acs: Option<String>,
    in_response_to: Option<String>,
    entity_id: String,
    encryption: EncryptionDefault,
    decrypt: bool,
    sp_key: Option<PathBuf>,
    xml: bool,
}

fn mint_cmd(a: MintArgs) -> ExitCode {
    use mitid_mock_broker::saml::{assertion::ModelContext, mint, sp_metadata::SpMetadata, xmlsec};
    let sp = match SpMetadata::from_file(&a.sp_metadata) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    let ids = IdentityStore::builtin();
    let Some(identity) = ids.get(&a.identity) else {
        return fail(format!("unknown identity {:?}", a.identity));
    };
    let acs = match a.acs.or_else(|| {
        sp.default_acs(mitid_mock_broker::saml::ns::BINDING_POST)
            .map(|e| e.location.clone())
    }) {
        Some(a) => a,
        None => {
            return fail("the SP metadata has no HTTP-POST AssertionConsumerService; pass --acs");
        }
    };
    let keys = match mint::SigningKeys::mock() {
        Ok(k) => k,
        Err(e) => return fail(e),
    };
    let ids_gen = mitid_mock_broker::IdGen::random();
    let (enc, why) = mitid_mock_broker::broker::choose_encryption(&sp, a.encryption.algorithms());
    let plan = mitid_mock_broker::FaultPlan::none();
    let input = mint::MintInput {
        ctx: ModelContext {
            idp_entity_id: EntityIdPreset::parse(&a.entity_id).entity_id().to_string(),
            sp_entity_id: sp.entity_id.clone(),
            acs_url: acs,
            in_response_to: a.in_response_to,
            now: time::OffsetDateTime::now_utc(),
            authn_instant: None,
            response_id: ids_gen.next("r"),
            assertion_id: ids_gen.next("a"),
            session_index: ids_gen.next("s"),
            requested_attributes: None,
            conditions_lifetime: time::Duration::hours(1),
            confirmation_lifetime: time::Duration::minutes(5),
            transient_name_id: None,
        },
        identity,
        loa: a.loa.unwrap_or(identity.loa),
        identities: &ids,
        sp_encryption_cert: sp.encryption_certs.first().map(Vec::as_slice),
        encryption: enc,
        plan: &plan,
        keys: &keys,
        fetch_recorder_url: None,
        oiosaml4: None,
    };
    let minted = match mint::mint(&input, &xmlsec::Bergshamra, &xmlsec::Bergshamra) {
        Ok(m) => m,
        Err(e) => return fail(e),
    };
    eprintln!("encryption: {why}");
    if a.decrypt {
        let key_pem = match &a.sp_key {
            Some(p) => match std::fs::read_to_string(p) {
                Ok(k) => k,
                Err(e) => return fail(format!("cannot read {}: {e}", p.display())),
            },
            None => match mitid_mock_broker::pki::MockPki::builtin()
                .sp
                .key_pkcs8_pem()
            {
                Some(k) => k,
                None => return fail("no SP key"),
            },
        };
        match xmlsec::decrypt_with_key_pem(&minted.response_xml, &key_pem) {
            Ok(x) => println!("{x}"),
            Err(e) => {
                return fail(format!(
                    "cannot decrypt with that key: {e}. The assertion was encrypted for the SP's metadata encryption certificate with {}",
                    minted
                        .encryption
                        .map(|e| format!("{} / {}", e.data, e.key_transport))
                        .unwrap_or_default()
                ));
            }
        }
    } else if a.xml {
        println!("{}", minted.response_xml);
    } else {
        use base64::Engine;
        println!(
            "{}",
            base64::engine::general_purpose::STANDARD.encode(minted.response_xml)
        );
    }
    ExitCode::SUCCESS
}

async fn inspect_metadata(source: &str, format: Format, private_sp: bool) -> ExitCode {
    let xml = if source.starts_with("http://") || source.starts_with("https://") {
        match mitid_mock_broker::broker::fetch_metadata(source).await {
            Ok(x) => x,
            Err(e) => return fail(e),
        }
    } else {
        match std::fs::read_to_string(source) {
            Ok(x) => x,
            Err(e) => return fail(format!("cannot read {source}: {e}")),
        }
    };
    let opts = mitid_harness::inspect::InspectOptions {
        now: time::OffsetDateTime::now_utc(),
        broker_sso_url: None,
        required_loa: None,
        expected_profile: None,
        private_sp,
        oiosaml: Default::default(),
    };
    let report = mitid_harness::inspect::inspect_metadata(&xml, &opts);
    match format {
        Format::Json => println!("{}", report.to_json()),
        Format::Terminal => {
            let _ = write!(
                anstream::stdout(),
                "{}",
                mitid_harness::inspect::render_terminal(&report)
            );
        }
        Format::Sarif => return fail("--format sarif is for `run` and `demo`"),
    }
    if report.has_failures() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// The demo: one mock broker, two reference SPs (a strict one, and one with the flaws of a
/// typical NemID-era integration), the whole SAML catalogue against each; then the strict
/// reference OIDC RP ([`demo_oidc`]). `--format json` prints one JSON array of the three
/// reports; `--format sarif` one SARIF log with a run each. Exit 0 when the strict SP and RP
/// pass the gate and the NemID-era SP fails it.
async fn demo(out: Output, gate: GateArgs) -> ExitCode {
    use mitid_reference::reference_sp::{Flaw, ReferenceSp, SpConfig as RefConfig};
    let broker = match Broker::builder().start().await {
        Ok(b) => std::sync::Arc::new(b),
        Err(e) => return fail(e),
    };
    let legacy_flaws = vec![
        Flaw::AcceptAssuranceLevel,
        Flaw::AcceptLegacySpecVer,
        Flaw::AcceptX509SubjectNameId,
        Flaw::TrustKeyInfo,
        Flaw::AllowPlaintextAssertion,
        Flaw::NoReplayCache,
    ];
    let sps = [
        ("reference SP: strict OIOSAML 3", vec![]),
        (
            "reference SP: NemID-era integration (accepts AssuranceLevel, DK-SAML-2.0, X509SubjectName, KeyInfo certs, plaintext, replays)",
            legacy_flaws,
        ),
    ];
    let policy = gate.apply(GatePolicy::default());
    let mut reports = Vec::new();
    for (name, flaws) in sps {
        let sp = match ReferenceSp::start(RefConfig::new(broker.metadata_xml()).flaws(flaws)).await
        {
            Ok(s) => s,
            Err(e) => return fail(format!("cannot start the reference SP: {e}")),
        };
        if let Err(e) = sp.register_with(&broker) {
            return fail(e);
        }
        let cfg = sp.harness_config(name);
        let h = match Harness::builder(cfg)
            .broker(broker.clone())
            .catalogue(Catalogue::builtin().protocol(Protocol::Saml))
            .concurrency(out.concurrency)
            .inspect(!out.no_inspect)
            .gate(policy.clone())
            .build()
            .await
        {
            Ok(h) => h,
            Err(e) => return fail(e),
        };
        let r = run_with_bar(&h).await;
        if matches!(out.format, Format::Terminal) {
            let _ = writeln!(anstream::stdout(), "\n=== {name} ===");
            let _ = write!(anstream::stdout(), "{}", to_terminal(&r));
        }
        reports.push(r);
        sp.shutdown().await;
    }
    match demo_oidc(&out, &policy).await {
        Ok(r) => reports.push(r),
        Err(e) => return fail(e),
    }
    match out.format {
        Format::Terminal => {}
        Format::Json => println!("{}", demo_json(&reports)),
        Format::Sarif => println!("{}", to_sarif_all(&reports, None)),
    }
    if let Some(p) = &out.junit {
        let xml: String = reports.iter().map(to_junit).collect::<Vec<_>>().join("\n");
        if let Err(e) = std::fs::write(p, xml) {
            return fail(format!("cannot write {}: {e}", p.display()));
        }
    }
    if let Some(p) = &out.html {
        if let Err(e) = std::fs::write(p, to_html_multi("mitid-harness demo", &reports)) {
            return fail(format!("cannot write {}: {e}", p.display()));
        }
    }
    if let Some(p) = &out.sarif {
        if let Err(e) = std::fs::write(p, to_sarif_all(&reports, None)) {
            return fail(format!("cannot write {}: {e}", p.display()));
        }
    }
    if let Some(d) = &out.transcripts {
        for (i, r) in reports.iter().enumerate() {
            let dir = ["strict", "nemid-era", "oidc-strict"]
                .get(i)
                .unwrap_or(&"more");
            if let Err(e) = r.write_transcripts(&d.join(dir)) {
                return fail(format!("cannot write transcripts: {e}"));
            }
        }
    }
    let strict_ok = [&reports[0], &reports[2]]
        .iter()
        .all(|r| r.gate.status == mitid_harness::GateStatus::Passed);
    let flawed_caught = reports[1].gate.status == mitid_harness::GateStatus::Failed;
    if matches!(out.format, Format::Terminal) {
        let _ = writeln!(
            anstream::stdout(),
            "\nDemo: the strict SP and RP {} and the NemID-era SP {} ({} scenarios failed, {} blocking).\nNext: describe your own SP in sp.toml and run `mitid-harness run --sp sp.toml` (see README).",
            if strict_ok {
                "passes the gate"
            } else {
                "does NOT pass the gate (a bug: please report it)"
            },
            if flawed_caught {
                "is caught"
            } else {
                "is NOT caught (a bug)"
            },
            reports[1].summary.failed,
            reports[1].gate.blocking.len()
        );
    }
    if strict_ok && flawed_caught {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// The demo's OIDC part: the strict reference RP of the Signaturgruppen profile against the
/// OIDC catalogue, on its own broker. Scenarios that rotate the broker's signing key are left
/// out: a rotation changes the keys every concurrent login sees (the discrimination tests give
/// each its own broker).
async fn demo_oidc(out: &Output, policy: &GatePolicy) -> Result<RunReport, String> {
    use mitid_reference::reference_rp::{PairOptions, RpPair};
    let name = "reference RP: strict OIDC (Signaturgruppen profile)";
    let pair = RpPair::start([], PairOptions::default())
        .await
        .map_err(|e| format!("cannot start the reference RP: {e}"))?;
    let cat = Catalogue::builtin().protocol(Protocol::Oidc);
    let ids: Vec<String> = cat
        .iter()
        .filter(|s| !s.steps.iter().any(|st| st.rotates_key()))
        .map(|s| s.id.clone())
        .collect();
    let cat = cat.filter(&ids, &[]).map_err(|e| e.to_string())?;
    let h = Harness::builder(pair.signaturgruppen.harness_config(name))
        .broker(pair.broker.clone())
        .catalogue(cat)
        .concurrency(out.concurrency)
        .inspect(!out.no_inspect)
        .gate(policy.clone())
        .build()
        .await
        .map_err(|e| e.to_string())?;
    let r = run_with_bar(&h).await;
    if matches!(out.format, Format::Terminal) {
        let _ = writeln!(anstream::stdout(), "\n=== {name} ===");
        let _ = write!(anstream::stdout(), "{}", to_terminal(&r));
    }
    Ok(r)
}

/// The demo's reports as one JSON value: an array, in run order (strict SP first).
fn demo_json(reports: &[RunReport]) -> String {
    let values: Vec<serde_json::Value> = reports
        .iter()
        .map(|r| serde_json::to_value(r).unwrap_or(serde_json::Value::Null))
        .collect();
    serde_json::to_string_pretty(&values).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A broker.toml in a directory of its own (tests run in parallel).
    fn temp_config(name: &str, text: &str) -> (PathBuf, PathBuf) {
        let dir =
            std::env::temp_dir().join(format!("mitid-cli-broker-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("broker.toml");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    #[test]
    fn flags_alone_keep_the_old_defaults() {
        let o = broker_options(None, BrokerFlags::default()).unwrap();
        assert_eq!(o.bind, Some(DEFAULT_BROKER_BIND));
        assert!(!o.dev_mode());
        assert!(!o.https);
        let e = broker_options(
            None,
            BrokerFlags {
                bind: Some("0.0.0.0:8390".parse().unwrap()),
                ..BrokerFlags::default()
            },
        )
        .unwrap_err();
        assert!(e.starts_with("--bind: "), "{e}");
    }

    #[test]
    fn flags_override_the_config_file_and_add_sps() {
        let (dir, path) = temp_config(
            "override",
            "bind = \"127.0.0.1:9001\"\nentity_id = \"devtest4\"\nsp_metadata = [\"a.xml\"]\n",
        );
        let o = broker_options(Some(&path), BrokerFlags::default()).unwrap();
        assert_eq!(o.bind, Some("127.0.0.1:9001".parse().unwrap()));
        assert_eq!(o.entity_id, Some(EntityIdPreset::Devtest4));
        assert_eq!(o.sp_metadata, [dir.join("a.xml").display().to_string()]);
        let o = broker_options(
            Some(&path),
            BrokerFlags {
                bind: Some("127.0.0.1:9002".parse().unwrap()),
                entity_id: Some("mock".into()),
                sp_metadata: vec!["http://127.0.0.1:8080/md".into()],
                dev_accept_any_loopback_client: true,
                ..BrokerFlags::default()
            },
        )
        .unwrap();
        assert_eq!(o.bind, Some("127.0.0.1:9002".parse().unwrap()));
        assert_eq!(o.entity_id, Some(EntityIdPreset::Mock));
        assert_eq!(o.sp_metadata.len(), 2);
        assert!(o.dev_mode());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_config_error_names_file_line_and_key() {
        let (dir, path) = temp_config("error", "bind = \"127.0.0.1:1\"\nbogus = true\n");
        let e = broker_options(Some(&path), BrokerFlags::default()).unwrap_err();
        assert!(
            e.starts_with(&format!("{}:2: bogus: ", path.display())),
            "{e}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
