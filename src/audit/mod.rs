//! Tamper-evident audit log: one JSON object per line, rotated by size, with a SHA-256
//! hash chain across all entries.
//!
//! Each line has the members `seq`, `timestamp` (RFC 3339, UTC, ending in `Z`),
//! `event_type`, `user` (masked email or `ANONYMOUS`), `resource_type`, `resource_id`
//! (string or `null`), `status` (`SUCCESS` or `FAILURE`), `details` (an object),
//! `request_id`, `client_ip`, `prev_hash` and `hash`, in this order. `seq` starts at 1
//! and grows by 1 across rotations and restarts. `hash` is the SHA-256 of `prev_hash`
//! followed by the line without its `hash` member, and `prev_hash` is the `hash` of the
//! entry before, or 64 zeros for the first entry. The `entry` module defines the bytes
//! exactly.
//!
//! [`AuditLog`] writes the log through a single writer thread, and [`verify_chain`]
//! checks a log offline and reports the first break with its file and line. Several
//! processes can write the same log at once: each writer locks `<path>.lock` around each
//! batch and first continues the chain from the last entry that any writer wrote.
//!
//! ```ignore
//! let log = AuditLog::open(AuditConfig::new("logs/audit.log")).await?;
//! log.record(
//!     AuditEvent::new(event_types::USER_LOGIN, AuditStatus::Success)
//!         .user_email(&email)
//!         .request(request_id, client_ip),
//! )
//! .await?;
//! log.shutdown().await;
//! ```

mod disk_state;
mod entry;
mod event;
mod files;
mod lock;
mod log_file;
mod mask;
mod tail;
mod verify;
mod writer;

#[cfg(test)]
mod tests;

pub use entry::{StoredEntry, ZERO_HASH};
pub use event::{event_types, AuditEvent, AuditStatus, ANONYMOUS};
pub use mask::{mask_email, INVALID_EMAIL, UNKNOWN_EMAIL};
pub use verify::{verify_chain, ChainProblem, ProblemKind, VerifyError, VerifyReport};
pub use writer::{AuditConfig, AuditError, AuditLog};
