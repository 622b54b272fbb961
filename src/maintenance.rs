//! Background pruning of revocation records: a revoked token id or a login
//! family is only worth keeping while a token it names could still be
//! presented, so the tables stay bounded under steady logins and logouts.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;

use crate::store::{PruneCounts, Store, StoreResult};
use crate::timefmt::unix_now;

/// Kept past expiry to cover the clock leeway of token checks, in seconds.
const PRUNE_MARGIN_SECONDS: i64 = 60;

/// Runs one pruning pass now.
pub async fn prune_once(store: &dyn Store) -> StoreResult<PruneCounts> {
    store.prune_expired(unix_now() - PRUNE_MARGIN_SECONDS).await
}

/// Starts the pruning task; it runs a pass every `interval` until aborted.
pub fn spawn_pruner(store: Arc<dyn Store>, interval: Duration) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            match prune_once(store.as_ref()).await {
                Ok(removed) if removed != PruneCounts::default() => tracing::info!(
                    revoked_tokens = removed.revoked_tokens,
                    families = removed.families,
                    "pruned expired revocation records"
                ),
                Ok(_) => {}
                Err(err) => tracing::error!(error = %err, "pruning revocation records failed; retrying at the next interval"),
            }
        }
    })
}
