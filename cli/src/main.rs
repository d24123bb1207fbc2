//! `mitid-harness`: the CLI.

use clap::{Parser, Subcommand, ValueEnum};
use mitid_harness::report::{
    to_html, to_html_multi, to_junit, to_sarif, to_sarif_all, to_terminal,
};
use mitid_harness::scenario::Severity;
use mitid_harness::scenario::{Catalogue, Protocol, StepBody};
use mitid_harness::{Baseline, GatePolicy, Harness, RunReport, SpConfig};
use mitid_mock_broker::{Broker, EncryptionDefault, EntityIdPreset, IdentityStore, Loa, TlsMode};
use std::io::Write;
use std::path::PathBuf;
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
    Broker {
        /// Listen address (loopback only unless --allow-non-loopback).
        #[arg(long, default_value = "127.0.0.1:8390")]
        bind: String,
        /// Public base URL, if SPs reach the broker under another URL.
        #[arg(long)]
        base_url: Option<String>,
        /// entityID: mock | integration-test | devtest4 | a URL.
        #[arg(long, default_value = "mock")]
        entity_id: String,
        /// SP metadata file or URL to register (repeatable).
        #[arg(long = "sp-metadata")]
        sp_metadata: Vec<String>,
        /// Identities TOML (added to the built-ins).
        #[arg(long)]
        identities: Option<PathBuf>,
        /// Encryption default when SP metadata names no algorithms.
        #[arg(long, value_enum, default_value = "nemlogin")]
        encryption: Enc,
        /// Serve HTTPS with the mock local CA (see the printed hint to trust it).
        #[arg(long)]
        https: bool,
        /// Allow a non-loopback bind address.
        #[arg(long)]
        allow_non_loopback: bool,
        /// Print the IdP metadata and exit.
        #[arg(long)]
        print_metadata: bool,
        /// Your own IdP signing key (PEM) instead of the mock OCES3 key; needs --idp-cert.
        #[arg(long, requires = "idp_cert")]
        idp_key: Option<PathBuf>,
        /// Certificate (PEM) for --idp-key.
        #[arg(long, requires = "idp_key")]
        idp_cert: Option<PathBuf>,
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
        } => {
            let cfg = match SpConfig::from_file(&sp) {
                Ok(c) => c,
                Err(e) => return fail(e),
            };
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
            bind,
            base_url,
            entity_id,
            sp_metadata,
            identities,
            encryption,
            https,
            allow_non_loopback,
            print_metadata,
            idp_key,
            idp_cert,
        } => {
            let addr = match bind.parse() {
                Ok(a) => a,
                Err(_) => {
                    return fail(format!(
                        "--bind {bind:?} is not an address like 127.0.0.1:8390"
                    ));
                }
            };
            let mut b = Broker::builder()
                .bind(addr)
                .entity_id(EntityIdPreset::parse(&entity_id))
                .encryption_default(encryption.into())
                .allow_non_loopback(allow_non_loopback);
            if let Some(u) = base_url {
                b = b.public_base_url(u);
            }
            if let Some(p) = identities {
                match IdentityStore::from_file(&p) {
                    Ok(i) => b = b.identities(i),
                    Err(e) => return fail(e),
                }
            }
            if https {
                b = b.tls(TlsMode::MockCa);
            }
            if let (Some(k), Some(c)) = (&idp_key, &idp_cert) {
                let keys = mitid_mock_broker::pki::Credential::from_pem_files(k, c)
                    .and_then(|cred| mitid_mock_broker::saml::mint::SigningKeys::with_idp(&cred));
                match keys {
                    Ok(keys) => b = b.signing_keys(keys),
                    Err(e) => return fail(e),
                }
            }
            for s in sp_metadata {
                b = b.register_sp_source(s);
            }
            let running = match b.start().await {
                Ok(r) => r,
                Err(e) => return fail(e),
            };
            if print_metadata {
                print!("{}", running.metadata_xml());
                return ExitCode::SUCCESS;
            }
            println!("mock NemLog-in broker (MOCK keys, test identities only)");
            println!("  entityID      {}", running.entity_id());
            println!("  metadata      {}", running.metadata_url());
            println!("  SSO/SLO       {}", running.sso_url());
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
            if https {
                println!(
                    "  HTTPS uses the mock local CA. Trust it in your SP for testing only, e.g.:"
                );
                println!(
                    "    mitid-harness broker --print-metadata > /dev/null; cp mock-broker/testdata/pki/tls_ca.cert.pem /usr/local/share/ca-certificates/mitid-mock-ca.crt && update-ca-certificates"
                );
            }
            println!("Ctrl-C to stop.");
            let _ = tokio::signal::ctrl_c().await;
            running.shutdown().await;
            ExitCode::SUCCESS
        }
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
            match st.expect {
                mitid_harness::Expect::Accept => "ACCEPT (session for exactly that identity)",
                mitid_harness::Expect::Reject => "REJECT (no session)",
            }
        ));
        let faults: Vec<String> = match &st.body {
            StepBody::SamlLogin(l) => l.plan.faults.iter().map(serde_json::to_string).collect(),
            StepBody::OidcLogin(l) => l.plan.faults.iter().map(serde_json::to_string).collect(),
            StepBody::Replay => Ok(vec![]),
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
            response_id: ids_gen.next("r"),
            assertion_id: ids_gen.next("a"),
            session_index: ids_gen.next("s"),
            requested_attributes: None,
            conditions_lifetime: time::Duration::hours(1),
            confirmation_lifetime: time::Duration::minutes(5),
        },
        identity,
        loa: a.loa.unwrap_or(identity.loa),
        identities: &ids,
        sp_encryption_cert: sp.encryption_certs.first().map(Vec::as_slice),
        encryption: enc,
        plan: &plan,
        keys: &keys,
        fetch_recorder_url: None,
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
