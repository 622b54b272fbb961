//! Measures the edge layers' own cost per request, in process, without
//! sockets: the same request through the router with and without them.

use std::time::Instant;

use axum::body::Body;
use axum::http::Request;
use kraftd::app::{build_state, router, router_without_edge};
use kraftd::config::Config;
use tower::ServiceExt;

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("kraftd-edge-micro-{}", std::process::id()));
    let mut vars = std::collections::HashMap::new();
    vars.insert("KRAFTD_DATA_DIR".to_owned(), dir.join("data").display().to_string());
    vars.insert("AUDIT_LOG_PATH".to_owned(), dir.join("logs/audit.log").display().to_string());
    let state = build_state(Config::from_vars(&vars)?).await?;
    let path = std::env::args().nth(1).unwrap_or_else(|| "/api/v1/auth/jwks".into());
    for round in 0..3 {
        for (name, app) in [("on", router(state.clone())), ("off", router_without_edge(state.clone()))] {
            let started = Instant::now();
            let count = 20_000;
            for _ in 0..count {
                let request = Request::get(path.as_str()).header("origin", "http://localhost:3000").body(Body::empty())?;
                let response = app.clone().oneshot(request).await?;
                let _ = axum::body::to_bytes(response.into_body(), 1 << 20).await?;
            }
            println!("round {round} edge {name}: {:.1} us per request", started.elapsed().as_secs_f64() * 1e6 / count as f64);
        }
    }
    state.audit.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
    Ok(())
}
