//! Liveness and dependency health.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/health", get(health))
}

async fn health(State(state): State<AppState>) -> (StatusCode, Json<serde_json::Value>) {
    let database = state.store.ping().await.is_ok();
    let storage = state.documents.check_writable().await;
    let audit_log = state.audit.check_writable().await;
    let healthy = database && storage && audit_log;

    let body = json!({
        "status": if healthy { "healthy" } else { "unhealthy" },
        "version": env!("CARGO_PKG_VERSION"),
        "uptime_seconds": state.started.elapsed().as_secs(),
        "database": if database { "connected" } else { "unreachable" },
        "storage": if storage { "connected" } else { "unwritable" },
        "audit_log": if audit_log { "writable" } else { "unwritable" },
    });
    let status = if healthy { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(body))
}
