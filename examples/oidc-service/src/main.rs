//! Run the example service against a MitID broker.
//!
//! ```sh
//! MITID_ISSUER_URL=https://pp.netseidbroker.dk/op \
//! MITID_CLIENT_ID=<your client id> MITID_CLIENT_SECRET=<your secret> \
//! MITID_REDIRECT_URI=http://127.0.0.1:8080/callback \
//!   cargo run -p mitid-example-oidc-service
//! ```
//!
//! `MITID_ISSUER_URL` is the broker's issuer (above: Signaturgruppen's pre-production broker;
//! the mock broker's Signaturgruppen-style issuer is `{broker base URL}/signaturgruppen/op`, and
//! `tests/conformance.rs` shows how to start the mock in-process with this service registered).
//! `BIND` (default `127.0.0.1:8080`) is the listen address; `MITID_REQUIRED_LOA` (default
//! `Substantial`) the NSIS level required of every login; `RUST_LOG` the log filter.

use mitid_example_oidc_service::{Config, app};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let config = Config::from_env()?;
    let bind = std::env::var("BIND").unwrap_or_else(|_| "127.0.0.1:8080".into());
    let router = app(config).await?;
    let listener = tokio::net::TcpListener::bind(&bind).await?;
    tracing::info!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, router).await?;
    Ok(())
}
