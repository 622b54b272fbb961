//! Running CPU-bound or blocking work (password hashing, file sniffing)
//! off the async workers.

use crate::error::ApiError;

/// Runs a blocking closure on the blocking pool inside the caller's span.
pub async fn run_blocking<T, F>(work: F) -> Result<T, ApiError>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || span.in_scope(work))
        .await
        .map_err(|err| ApiError::internal(anyhow::anyhow!("blocking task failed: {err}")))
}
