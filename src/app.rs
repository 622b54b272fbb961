//! Builds the application from a configuration: state, routes and the
//! edge layers. `kraftd serve` and the integration tests both start the
//! server through here, so tests exercise exactly what ships.

use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::middleware::from_fn_with_state;
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
use crate::edge::cors::{cors_layer, AllowedOrigins};
use crate::edge::security_headers::security_headers;
use crate::edge::{edge, EdgeConfig};
use crate::error::{problem_response, ApiError};
use crate::http::documents::MULTIPART_OVERHEAD_BYTES;
use crate::http::{auth, documents, health, workflows};
use crate::state::AppState;
use crate::store::SqliteStore;

/// Opens the database, storage, key ring and audit log the configuration
/// names, creating what is missing.
pub async fn build_state(config: Config) -> anyhow::Result<AppState> {
    create_private_dir(&config.data_dir)?;
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
    .await?;
    let dummy = tokio::task::spawn_blocking(dummy_hash).await??;

    Ok(AppState {
        tokens: TokenService::new(keys, &config),
        throttle: LoginThrottle::new(config.login_max_failures, config.login_window),
        store: Arc::new(store),
        audit,
        documents,
        dummy_hash: Arc::new(dummy),
        password_permits: Arc::new(tokio::sync::Semaphore::new(config.password_hash_concurrency)),
        started: Instant::now(),
        config: Arc::new(config),
    })
}

/// Creates the data folder readable by the server's user only, since it
/// contains every stored document and the signing keys. An existing folder
/// keeps the permissions the operator gave it.
fn create_private_dir(path: &std::path::Path) -> anyhow::Result<()> {
    if path.exists() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(path)
        .with_context(|| format!("cannot create data folder {} (KRAFTD_DATA_DIR)", path.display()))
}

/// Builds the API routes without the edge, each group with its own body limit
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
    // The multipart reader enforces this cap on the whole body, parts and
    // boundaries included, and the handler enforces the file part's own
    // limit while streaming. tower-http's limit layer is left off this
    // route because its 413 would come before the handler could report
    // which limit was hit.
    let uploads = documents::upload_router()
        .layer(DefaultBodyLimit::max(upload_limit))
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

/// Builds the whole application: routes plus the edge. Layers wrap inside out, so
/// the last one added runs first on a request and last on its response:
/// the edge middleware handles every request first and every response last,
/// including CORS preflights, body-limit rejections and caught panics.
pub fn router(state: AppState) -> Router {
    let routes = Router::new().nest("/api/v1", api_routes(&state.config));
    with_edge(routes, state)
}

/// Wraps `routes` in the edge: the catch-all routes, a panic catcher, CORS,
/// then the edge middleware outermost (see [`crate::edge::edge`]).
///
/// The layers wrap the finished router once, not each route through
/// `Router::layer`. Applied per route, the whole stack is boxed and cloned
/// again inside every route on every request, which doubled the measured
/// cost of the edge.
fn with_edge(routes: Router<AppState>, state: AppState) -> Router {
    let origins = AllowedOrigins::new(&state.config.allowed_origins);
    let config = Arc::new(EdgeConfig {
        trusted_proxies: state.config.trusted_proxies.clone(),
        security_headers: security_headers(&state.config.xss_protection),
        origins: origins.clone(),
    });

    let inner = routes
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state);
    let service = tower::ServiceBuilder::new()
        .layer(from_fn_with_state(config, edge))
        .layer(cors_layer(&origins))
        .layer(CatchPanicLayer::custom(panic_response))
        .service(inner);
    Router::new().fallback_service(service)
}

/// Builds the routes with none of the edge layers, to measure what the
/// edge costs. `kraftd serve` never uses it.
pub fn router_without_edge(state: AppState) -> Router {
    Router::new()
        .nest("/api/v1", api_routes(&state.config))
        .layer(axum::Extension(crate::edge::request_id::RequestMeta {
            request_id: "bench".into(),
            client_ip: std::net::IpAddr::from([127, 0, 0, 1]),
        }))
        .with_state(state)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use axum::body::Body;
    use axum::http::Request;
    use axum::routing::get;
    use tower::ServiceExt;

    use super::*;

    async fn panics() -> &'static str {
        panic!("boom")
    }

    #[tokio::test]
    async fn handler_panic_becomes_problem_500() {
        let dir = tempfile::tempdir().unwrap();
        let vars: HashMap<String, String> = [
            ("KRAFTD_DATA_DIR", dir.path().join("data")),
            ("AUDIT_LOG_PATH", dir.path().join("logs/audit.log")),
        ]
        .into_iter()
        .map(|(name, path)| (name.to_owned(), path.display().to_string()))
        .collect();
        let state = build_state(Config::from_vars(&vars).unwrap()).await.unwrap();
        let app = with_edge(Router::new().route("/panic", get(panics)), state.clone());

        let response = app
            .clone()
            .oneshot(Request::get("/panic").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let headers = response.headers();
        assert_eq!(headers["content-type"], "application/problem+json");
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(headers["x-frame-options"], "DENY");
        assert!(headers.contains_key("x-request-id"));
        let body = axum::body::to_bytes(response.into_body(), 4096).await.unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["code"], "internal_error");
        assert!(!body.to_string().contains("boom"), "panic message leaked");

        // The same router keeps serving after the panic.
        let again = app.oneshot(Request::get("/missing").body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(again.status(), StatusCode::NOT_FOUND);
        state.audit.shutdown().await;
    }
}
