//! Shared state handed to every handler.

use std::sync::Arc;
use std::time::Instant;

use crate::audit::{AuditEvent, AuditLog};
use crate::auth::throttle::LoginThrottle;
use crate::auth::tokens::TokenService;
use crate::config::Config;
use crate::documents::storage::DocumentStorage;
use crate::error::ApiError;
use crate::store::Store;

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub store: Arc<dyn Store>,
    pub tokens: TokenService,
    pub audit: AuditLog,
    pub documents: DocumentStorage,
    pub throttle: Arc<LoginThrottle>,
    /// Hash verified against when a login names an unknown email.
    pub dummy_hash: Arc<String>,
    pub started: Instant,
}

impl AppState {
    /// Writes an audit entry, or fails the request with 503: an event that
    /// must be audited is never allowed to go unrecorded.
    pub async fn audit(&self, event: AuditEvent) -> Result<(), ApiError> {
        self.audit.record(event).await.map_err(|err| {
            tracing::error!(error = %err, "audit entry could not be written");
            ApiError::Unavailable("audit log")
        })
    }
}
