//! SQLite backend: one file in the data folder, WAL journal, foreign keys on,
//! migrations embedded in the binary and run at start-up.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::Row;

use super::{
    DocumentRecord, NewUser, Page, PruneCounts, RefreshOutcome, Store, StoreError, StoreResult, TokenState, UserRecord,
    WorkflowRecord,
};

/// Writers wait this long for SQLite's single write lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating when missing) the database at `url` and applies the
    /// embedded migrations.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        Ok(Self { pool })
    }

    /// Returns the connection pool, for tests that inspect rows directly.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

fn map_unique(err: sqlx::Error, constraint: &'static str) -> StoreError {
    let unique = err
        .as_database_error()
        .is_some_and(|db_err| db_err.is_unique_violation());
    if unique {
        StoreError::Conflict(constraint)
    } else {
        StoreError::Database(err)
    }
}

const DOCUMENT_COLUMNS: &str =
    "id, owner_id, filename, content_type, size_bytes, sha256, document_type, status, uploaded_at";

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn close(&self) {
        self.pool.close().await;
    }

    async fn create_user(&self, user: &NewUser) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO users (id, email, password_hash, first_name, last_name, company, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&user.id)
        .bind(&user.email)
        .bind(&user.password_hash)
        .bind(&user.first_name)
        .bind(&user.last_name)
        .bind(&user.company)
        .bind(&user.created_at)
        .execute(&self.pool)
        .await
        .map_err(|err| map_unique(err, "users_email_unique"))?;
        Ok(())
    }

    async fn delete_user(&self, id: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM users WHERE id = ?").bind(id).execute(&self.pool).await?;
        Ok(())
    }

    async fn user_by_email(&self, email: &str) -> StoreResult<Option<UserRecord>> {
        let user = sqlx::query_as::<_, UserRecord>("SELECT * FROM users WHERE email = ?")
            .bind(email)
            .fetch_optional(&self.pool)
            .await?;
        Ok(user)
    }

    async fn user_by_id(&self, id: &str) -> StoreResult<Option<UserRecord>> {
        let user = sqlx::query_as::<_, UserRecord>("SELECT * FROM users WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(user)
    }

    async fn token_state(&self, user_id: &str, jti: &str, family_id: &str) -> StoreResult<Option<TokenState>> {
        let row = sqlx::query(
            "SELECT u.email, u.tokens_valid_after,
                    EXISTS (SELECT 1 FROM revoked_tokens r WHERE r.jti = ?) AS jti_revoked,
                    NOT EXISTS (SELECT 1 FROM token_families f
                                WHERE f.id = ? AND f.user_id = u.id AND f.revoked_at IS NULL) AS family_revoked
             FROM users u WHERE u.id = ?",
        )
        .bind(jti)
        .bind(family_id)
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|row| TokenState {
            email: row.get("email"),
            tokens_valid_after: row.get("tokens_valid_after"),
            jti_revoked: row.get("jti_revoked"),
            family_revoked: row.get("family_revoked"),
        }))
    }

    async fn create_family(&self, family_id: &str, user_id: &str, refresh_jti: &str, expires_at: i64, now: i64) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("INSERT INTO token_families (id, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)")
            .bind(family_id)
            .bind(user_id)
            .bind(now)
            .bind(expires_at)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO refresh_tokens (jti, family_id, expires_at) VALUES (?, ?, ?)")
            .bind(refresh_jti)
            .bind(family_id)
            .bind(expires_at)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn rotate_refresh(&self, family_id: &str, old_jti: &str, new_jti: &str, expires_at: i64, now: i64) -> StoreResult<RefreshOutcome> {
        let mut tx = self.pool.begin().await?;
        // The conditional update comes first so the transaction takes the
        // write lock at once, and two racing refreshes cannot both win.
        let claimed = sqlx::query(
            "UPDATE refresh_tokens SET used_at = ?
             WHERE jti = ? AND family_id = ? AND used_at IS NULL AND expires_at > ?
               AND EXISTS (SELECT 1 FROM token_families f WHERE f.id = ? AND f.revoked_at IS NULL)",
        )
        .bind(now)
        .bind(old_jti)
        .bind(family_id)
        .bind(now)
        .bind(family_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();

        let outcome = if claimed == 1 {
            sqlx::query("INSERT INTO refresh_tokens (jti, family_id, expires_at) VALUES (?, ?, ?)")
                .bind(new_jti)
                .bind(family_id)
                .bind(expires_at)
                .execute(&mut *tx)
                .await?;
            sqlx::query("UPDATE token_families SET expires_at = MAX(expires_at, ?) WHERE id = ?")
                .bind(expires_at)
                .bind(family_id)
                .execute(&mut *tx)
                .await?;
            RefreshOutcome::Rotated
        } else {
            let used_before: Option<Option<i64>> =
                sqlx::query_scalar("SELECT used_at FROM refresh_tokens WHERE jti = ? AND family_id = ?")
                    .bind(old_jti)
                    .bind(family_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            if matches!(used_before, Some(Some(_))) {
                sqlx::query("UPDATE token_families SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL")
                    .bind(now)
                    .bind(family_id)
                    .execute(&mut *tx)
                    .await?;
                RefreshOutcome::Reused
            } else {
                RefreshOutcome::Rejected
            }
        };
        tx.commit().await?;
        Ok(outcome)
    }

    async fn revoke_family(&self, family_id: &str, now: i64) -> StoreResult<()> {
        sqlx::query("UPDATE token_families SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL")
            .bind(now)
            .bind(family_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn revoke_jti(&self, jti: &str, expires_at: i64) -> StoreResult<()> {
        sqlx::query("INSERT INTO revoked_tokens (jti, expires_at) VALUES (?, ?) ON CONFLICT (jti) DO NOTHING")
            .bind(jti)
            .bind(expires_at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn revoke_all_for_user(&self, user_id: &str, now: i64) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE users SET tokens_valid_after = ? WHERE id = ?")
            .bind(now)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE token_families SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL")
            .bind(now)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn revoke_all_logins(&self, now: i64) -> StoreResult<u64> {
        let revoked = sqlx::query("UPDATE token_families SET revoked_at = ? WHERE revoked_at IS NULL")
            .bind(now)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(revoked)
    }

    async fn prune_expired(&self, cutoff: i64) -> StoreResult<PruneCounts> {
        let revoked_tokens = sqlx::query("DELETE FROM revoked_tokens WHERE expires_at < ?")
            .bind(cutoff)
            .execute(&self.pool)
            .await?
            .rows_affected();
        // Refresh tokens go with their family (ON DELETE CASCADE).
        let families = sqlx::query("DELETE FROM token_families WHERE expires_at < ?")
            .bind(cutoff)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(PruneCounts { revoked_tokens, families })
    }

    async fn revocation_counts(&self) -> StoreResult<PruneCounts> {
        let revoked_tokens: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM revoked_tokens").fetch_one(&self.pool).await?;
        let families: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM token_families").fetch_one(&self.pool).await?;
        Ok(PruneCounts {
            revoked_tokens: u64::try_from(revoked_tokens).unwrap_or(0),
            families: u64::try_from(families).unwrap_or(0),
        })
    }

    async fn insert_document(&self, document: &DocumentRecord) -> StoreResult<()> {
        sqlx::query(&format!("INSERT INTO documents ({DOCUMENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"))
            .bind(&document.id)
            .bind(&document.owner_id)
            .bind(&document.filename)
            .bind(&document.content_type)
            .bind(document.size_bytes)
            .bind(&document.sha256)
            .bind(&document.document_type)
            .bind(&document.status)
            .bind(&document.uploaded_at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn document(&self, owner_id: &str, id: &str) -> StoreResult<Option<DocumentRecord>> {
        let document = sqlx::query_as::<_, DocumentRecord>(&format!(
            "SELECT {DOCUMENT_COLUMNS} FROM documents WHERE id = ? AND owner_id = ?"
        ))
        .bind(id)
        .bind(owner_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(document)
    }

    async fn document_exists(&self, id: &str) -> StoreResult<bool> {
        let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM documents WHERE id = ?)")
            .bind(id)
            .fetch_one(&self.pool)
            .await?;
        Ok(exists)
    }

    async fn list_documents(&self, owner_id: &str, limit: u32, offset: u64) -> StoreResult<Page<DocumentRecord>> {
        let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM documents WHERE owner_id = ?")
            .bind(owner_id)
            .fetch_one(&self.pool)
            .await?;
        let items = sqlx::query_as::<_, DocumentRecord>(&format!(
            "SELECT {DOCUMENT_COLUMNS} FROM documents WHERE owner_id = ?
             ORDER BY uploaded_at DESC, id DESC LIMIT ? OFFSET ?"
        ))
        .bind(owner_id)
        .bind(i64::from(limit))
        .bind(i64::try_from(offset).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?;
        Ok(Page {
            items,
            total: u64::try_from(total).unwrap_or(0),
        })
    }

    async fn delete_document(&self, owner_id: &str, id: &str) -> StoreResult<bool> {
        let deleted = sqlx::query("DELETE FROM documents WHERE id = ? AND owner_id = ?")
            .bind(id)
            .bind(owner_id)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(deleted == 1)
    }

    async fn create_workflow(&self, workflow: &WorkflowRecord) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("INSERT INTO workflows (id, owner_id, kind, status, created_at) VALUES (?, ?, ?, ?, ?)")
            .bind(&workflow.id)
            .bind(&workflow.owner_id)
            .bind(&workflow.kind)
            .bind(&workflow.status)
            .bind(&workflow.created_at)
            .execute(&mut *tx)
            .await?;
        for (position, document_id) in workflow.document_ids.iter().enumerate() {
            sqlx::query("INSERT INTO workflow_documents (workflow_id, position, document_id) VALUES (?, ?, ?)")
                .bind(&workflow.id)
                .bind(i64::try_from(position).unwrap_or(i64::MAX))
                .bind(document_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn delete_workflow(&self, owner_id: &str, id: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM workflows WHERE id = ? AND owner_id = ?")
            .bind(id)
            .bind(owner_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn workflow(&self, owner_id: &str, id: &str) -> StoreResult<Option<WorkflowRecord>> {
        let row = sqlx::query("SELECT id, owner_id, kind, status, created_at FROM workflows WHERE id = ? AND owner_id = ?")
            .bind(id)
            .bind(owner_id)
            .fetch_optional(&self.pool)
            .await?;
        match row {
            None => Ok(None),
            Some(row) => Ok(Some(self.workflow_from_row(row).await?)),
        }
    }

    async fn list_workflows(&self, owner_id: &str, limit: u32, offset: u64) -> StoreResult<Page<WorkflowRecord>> {
        let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM workflows WHERE owner_id = ?")
            .bind(owner_id)
            .fetch_one(&self.pool)
            .await?;
        let rows = sqlx::query(
            "SELECT id, owner_id, kind, status, created_at FROM workflows WHERE owner_id = ?
             ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?",
        )
        .bind(owner_id)
        .bind(i64::from(limit))
        .bind(i64::try_from(offset).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?;
        let mut items = Vec::with_capacity(rows.len());
        for row in rows {
            items.push(self.workflow_from_row(row).await?);
        }
        Ok(Page {
            items,
            total: u64::try_from(total).unwrap_or(0),
        })
    }
}

impl SqliteStore {
    async fn workflow_from_row(&self, row: sqlx::sqlite::SqliteRow) -> StoreResult<WorkflowRecord> {
        let id: String = row.get("id");
        let document_ids: Vec<String> =
            sqlx::query_scalar("SELECT document_id FROM workflow_documents WHERE workflow_id = ? ORDER BY position")
                .bind(&id)
                .fetch_all(&self.pool)
                .await?;
        Ok(WorkflowRecord {
            id,
            owner_id: row.get("owner_id"),
            kind: row.get("kind"),
            status: row.get("status"),
            document_ids,
            created_at: row.get("created_at"),
        })
    }
}
