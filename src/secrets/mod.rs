//! Rotation status of kraftd's secrets, for the operator command `kraftd secrets status`.
//!
//! A report has one row per secret. Rows come from the active JWT signing keys, which the
//! caller passes in, and from an optional TOML manifest that declares secrets kept elsewhere
//! (a vault, a cloud secret store, an environment variable). The module never reads the
//! clock: the caller passes today's date, so the same inputs always give the same report.
//!
//! ```text
//! let manifest = secrets::load_manifest(path, today)?;
//! let report = secrets::build_report(&keys, 90, Some(&manifest), today);
//! print!("{}", report.render(format));
//! let exit_code = if report.any_overdue() { 1 } else { 0 };
//! ```

mod manifest;
mod render;
mod report;

#[cfg(test)]
mod tests;

pub use manifest::{load_manifest, Manifest, ManifestError, ManifestSecret, Problem};
pub use render::{Format, UnknownFormat};
pub use report::{build_report, Report, SecretStatus, State};

use time::OffsetDateTime;

/// Rotation period of the JWT signing key when the operator configures none, in days.
pub const DEFAULT_KEY_ROTATION_DAYS: u32 = 90;

/// Days before its due date from which a secret is reported as due soon, unless the manifest
/// sets `due_soon_days`.
pub const DEFAULT_DUE_SOON_DAYS: u32 = 14;

/// JWT signing key that the caller passes to [`build_report`], reported as one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKeySecret {
    /// Row name, such as `jwt signing key <kid>`.
    pub name: String,
    /// Storage location, such as `data/keys/ed25519-<kid>.json` or `env JWT_SECRET`.
    pub location: String,
    /// Time the key was created or last replaced, or `None` when nothing records it.
    pub last_rotated: Option<OffsetDateTime>,
}
