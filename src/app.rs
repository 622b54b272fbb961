//! Builds the application from a configuration: state, routes and the
//! edge layers. `kraftd serve` and the integration tests both start the
//! server through here, so tests exercise exactly what ships.

use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::middleware::{from_fn_with_state, map_response, map_response_with_state};
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

use crate::audit::{AuditConfig, AuditLog};
use crate::auth::keys::KeyRing;
use crate::auth::password::dummy_hash;
use crate::auth::throttle::LoginThrottle;
use crate::auth::tokens::TokenService;
use crate::config::Config;
use crate::documents::storage::DocumentStorage;
use crate::edge::cors::{cors_layer, strip_unlisted_origin, AllowedOrigins};
use crate::edge::problem_fallback::problem_fallback;
use crate::edge::request_id::request_id;
use crate::edge::security_headers::{add_security_headers, security_headers};
use crate::error::{problem_response, ApiError};
use crate::http::documents::MULTIPART_OVERHEAD_BYTES;
use crate::http::{auth, documents, health, workflows};
use crate::state::AppState;
use crate::store::SqliteStore;

/// Opens the database, storage, key ring and audit log the configuration
/// names, creating what is missing.
pub async fn build_state(config: Config) -> anyhow::Result<AppState> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("cannot create data folder {}", config.data_dir.display()))?;
    let store = SqliteStore::connect(&config.database_url)
        .await
        .with_context(|| "cannot open the database named by DATABASE_URL")?;
    let documents = DocumentStorage::open(config.documents_dir(), config.uploads_tmp_dir())?;
    let keys = KeyRing::open(&config)?;
    let audit = AuditLog::open(AuditConfig {
        path: config.audit_log_path.clone(),
        max_bytes: config.audit_log_max_bytes,
        backups: config.audit_log_backups,
        fsync: config.audit_log_fsync,
    })
    .await
    .with_context(|| format!("cannot open the audit log {}", config.audit_log_path.display()))?;
    let dummy = tokio::task::spawn_blocking(dummy_hash).await??;

    Ok(AppState {
        tokens: TokenService::new(keys, &config),
        throttle: Arc::new(LoginThrottle::new(config.login_max_failures, config.login_window)),
        store: Arc::new(store),
        audit,
        documents,
        dummy_hash: Arc::new(dummy),
        started: Instant::now(),
        config: Arc::new(config),
    })
}

/// The API routes without the edge, each group with its own body limit
/// and timeout: uploads may be large and slow, everything else may not.
fn api_routes(config: &Config) -> Router<AppState> {
    let limited = Router::new()
        .merge(health::router())
        .merge(auth::router())
        .merge(documents::router())
        .merge(workflows::router())
        .layer(DefaultBodyLimit::max(config.max_request_bytes))
        .layer(RequestBodyLimitLayer::new(config.max_request_bytes))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, config.request_timeout));

    let upload_limit = usize::try_from(config.max_upload_bytes + MULTIPART_OVERHEAD_BYTES).unwrap_or(usize::MAX);
    let uploads = documents::upload_router()
        // The file part's own limit is enforced while streaming; this one
        // caps the whole body, parts and boundaries included.
        .layer(DefaultBodyLimit::max(upload_limit))
        .layer(RequestBodyLimitLayer::new(upload_limit))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, config.upload_timeout));

    limited.merge(uploads)
}

async fn not_found() -> ApiError {
    ApiError::NotFound
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    tracing::error!(panic = message, "handler panicked");
    problem_response(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal_error",
        "The server failed to handle the request. Try again later.",
        None,
    )
}

/// The whole application: routes plus the edge. Layers wrap inside out, so
/// the last one added runs first on a request and last on its response:
/// the request id is set before anything else, security headers and the
/// problem shape are applied to every response, including CORS preflights,
/// body-limit rejections and caught panics.
pub fn router(state: AppState) -> Router {
    let origins = AllowedOrigins::new(&state.config.allowed_origins);
    let headers = security_headers(&state.config.xss_protection);

    Router::new()
        .nest("/api/v1", api_routes(&state.config))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(cors_layer(&origins))
        .layer(from_fn_with_state(origins, strip_unlisted_origin))
        .layer(map_response(problem_fallback))
        .layer(map_response_with_state(headers, add_security_headers))
        .layer(from_fn_with_state(state.clone(), request_id))
        .with_state(state)
}

/// The routes with none of the edge layers, for measuring what the edge
/// costs. Never served by `kraftd serve`.
pub fn router_without_edge(state: AppState) -> Router {
    Router::new()
        .nest("/api/v1", api_routes(&state.config))
        .layer(axum::Extension(crate::edge::request_id::RequestMeta {
            request_id: "bench".into(),
            client_ip: std::net::IpAddr::from([127, 0, 0, 1]),
        }))
        .with_state(state)
}
