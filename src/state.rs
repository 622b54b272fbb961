//! Shared state handed to every handler.

use std::sync::Arc;
use std::time::Instant;

use tokio::sync::Semaphore;

use crate::audit::{AuditEvent, AuditLog};
use crate::auth::throttle::LoginThrottle;
use crate::auth::tokens::TokenService;
use crate::config::Config;
use crate::documents::storage::DocumentStorage;
use crate::blocking::run_blocking;
use crate::error::ApiError;
use crate::store::Store;

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub store: Arc<dyn Store>,
    pub tokens: TokenService,
    pub audit: AuditLog,
    pub documents: DocumentStorage,
    pub throttle: LoginThrottle,
    /// Hash verified against when a login names an unknown email.
    pub dummy_hash: Arc<String>,
    /// Permits for argon2 work, which needs 19 MiB and tens of milliseconds
    /// each: without a bound, a burst of logins or registrations could
    /// take gigabytes of memory and every blocking thread.
    pub password_permits: Arc<Semaphore>,
    pub started: Instant,
}

impl AppState {
    /// Runs password hashing or verification on the blocking pool once a
    /// permit is free; callers wait in line rather than all at once.
    pub async fn password_check<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let _permit = self
            .password_permits
            .acquire()
            .await
            .map_err(|_| ApiError::Unavailable("password service"))?;
        run_blocking(work).await
    }

    /// Writes an audit entry, or fails the request with 503: an event that
    /// must be audited is never allowed to go unrecorded.
    pub async fn audit(&self, event: AuditEvent) -> Result<(), ApiError> {
        self.audit.record(event).await.map_err(|err| {
            tracing::error!(error = %err, "audit entry could not be written");
            ApiError::Unavailable("audit log")
        })
    }
}
