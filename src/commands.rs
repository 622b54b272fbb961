//! One function per command, each setting up configuration and logging
//! the same way.

use crate::app::{build_state, router};
use crate::config::Config;
use crate::maintenance::spawn_pruner;
use crate::server::{serve, shutdown_signal, ServeOptions};

/// Starts logging to stderr; `RUST_LOG` overrides the default level.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .try_init();
}

pub async fn serve_command() -> anyhow::Result<()> {
    let config = Config::from_env()?;
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .map_err(|err| anyhow::anyhow!("cannot listen on {} (KRAFTD_ADDR): {err}", config.addr))?;
    let options = ServeOptions {
        header_read_timeout: config.header_read_timeout,
        shutdown_grace: config.shutdown_grace,
    };
    let origins = config.allowed_origins.join(", ");
    let state = build_state(config).await?;
    let audit = state.audit.clone();
    let store = state.store.clone();
    let pruner = spawn_pruner(state.store.clone(), state.config.prune_interval);
    tracing::info!(
        addr = %listener.local_addr()?,
        allowed_origins = %origins,
        version = env!("CARGO_PKG_VERSION"),
        "kraftd listening"
    );
    serve(listener, router(state), options, shutdown_signal()).await;
    pruner.abort();
    store.close().await;
    audit.shutdown().await;
    tracing::info!("kraftd stopped");
    Ok(())
}
