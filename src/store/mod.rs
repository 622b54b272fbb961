//! The storage interface the handlers use. Handlers see only the [`Store`]
//! trait and these records, so a PostgreSQL backend can sit beside the
//! SQLite one without touching them.

mod sqlite;

use async_trait::async_trait;
use serde::Serialize;

pub use sqlite::SqliteStore;

/// A storage failure. `Conflict` names the unique constraint that failed so
/// callers map it to a status without reading driver messages.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unique constraint {0} violated")]
    Conflict(&'static str),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

pub type StoreResult<T> = Result<T, StoreError>;

#[derive(Debug, Clone)]
pub struct NewUser {
    pub id: String,
    pub email: String,
    pub password_hash: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub company: Option<String>,
    pub created_at: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRecord {
    pub id: String,
    pub email: String,
    pub password_hash: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub company: Option<String>,
    pub created_at: String,
    pub tokens_valid_after: i64,
}

/// Revocation state of a presented token's user, login and id.
#[derive(Debug, Clone)]
pub struct TokenState {
    pub email: String,
    pub tokens_valid_after: i64,
    pub jti_revoked: bool,
    pub family_revoked: bool,
}

/// Result of exchanging a refresh token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshOutcome {
    /// The old token was marked used and the new one stored.
    Rotated,
    /// The old token had been used before; its family is now revoked.
    Reused,
    /// No such token, or its family was already revoked or expired.
    Rejected,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct DocumentRecord {
    #[serde(rename = "document_id")]
    pub id: String,
    #[serde(skip)]
    pub owner_id: String,
    pub filename: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub document_type: String,
    pub status: String,
    pub uploaded_at: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct WorkflowRecord {
    #[serde(rename = "workflow_id")]
    pub id: String,
    #[serde(skip)]
    pub owner_id: String,
    pub kind: String,
    pub status: String,
    pub document_ids: Vec<String>,
    pub created_at: String,
}

/// Rows in the revocation tables: revoked access token ids and login families.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PruneCounts {
    pub revoked_tokens: u64,
    pub families: u64,
}

/// One page of a listing plus the total across all pages.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Checks that the database responds.
    async fn ping(&self) -> StoreResult<()>;
    /// Closes every connection, after which each call fails; used at shutdown.
    async fn close(&self);

    async fn create_user(&self, user: &NewUser) -> StoreResult<()>;
    /// Removes an account; used only to undo a registration whose audit
    /// entry could not be written.
    async fn delete_user(&self, id: &str) -> StoreResult<()>;
    async fn user_by_email(&self, email: &str) -> StoreResult<Option<UserRecord>>;
    async fn user_by_id(&self, id: &str) -> StoreResult<Option<UserRecord>>;

    /// Looks up everything needed to accept a token in one round trip;
    /// `None` when the user no longer exists.
    async fn token_state(&self, user_id: &str, jti: &str, family_id: &str) -> StoreResult<Option<TokenState>>;
    /// Starts a login: a new family and its first refresh token.
    async fn create_family(&self, family_id: &str, user_id: &str, refresh_jti: &str, expires_at: i64, now: i64) -> StoreResult<()>;
    /// Marks `old_jti` used and stores `new_jti` in the same family, or
    /// revokes the family when `old_jti` was used before.
    async fn rotate_refresh(&self, family_id: &str, old_jti: &str, new_jti: &str, expires_at: i64, now: i64) -> StoreResult<RefreshOutcome>;
    async fn revoke_family(&self, family_id: &str, now: i64) -> StoreResult<()>;
    async fn revoke_jti(&self, jti: &str, expires_at: i64) -> StoreResult<()>;
    /// Revokes every family of the user and refuses tokens issued before `now`.
    async fn revoke_all_for_user(&self, user_id: &str, now: i64) -> StoreResult<()>;

    /// Revokes every login of every user; used by emergency key rotation.
    async fn revoke_all_logins(&self, now: i64) -> StoreResult<u64>;
    /// Deletes revocation records that can no longer matter because the
    /// tokens they name expired before `cutoff`. Returns the rows removed.
    async fn prune_expired(&self, cutoff: i64) -> StoreResult<PruneCounts>;
    /// Counts revocation rows, for tests and the prune log line.
    async fn revocation_counts(&self) -> StoreResult<PruneCounts>;

    async fn insert_document(&self, document: &DocumentRecord) -> StoreResult<()>;
    async fn document(&self, owner_id: &str, id: &str) -> StoreResult<Option<DocumentRecord>>;
    /// Returns whether a document with this id exists for any owner. Used
    /// only to tell an audit entry of cross-account probing from a plain miss.
    async fn document_exists(&self, id: &str) -> StoreResult<bool>;
    async fn list_documents(&self, owner_id: &str, limit: u32, offset: u64) -> StoreResult<Page<DocumentRecord>>;
    async fn delete_document(&self, owner_id: &str, id: &str) -> StoreResult<bool>;

    async fn create_workflow(&self, workflow: &WorkflowRecord) -> StoreResult<()>;
    /// Removes a workflow; used only to undo one whose audit entry could
    /// not be written.
    async fn delete_workflow(&self, owner_id: &str, id: &str) -> StoreResult<()>;
    async fn workflow(&self, owner_id: &str, id: &str) -> StoreResult<Option<WorkflowRecord>>;
    async fn list_workflows(&self, owner_id: &str, limit: u32, offset: u64) -> StoreResult<Page<WorkflowRecord>>;
}
