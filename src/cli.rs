//! Command-line interface: `kraftd serve` (the default) and the operator
//! commands. Each command reads the same configuration as the server.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "kraftd", version, about = "Document-intake API server for procurement teams")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the API server (the default when no command is given).
    Serve,
    /// Check a running deployment's health, CORS and security headers.
    /// Prints one line per check and exits non-zero if any fails.
    Verify {
        /// Root URL of the deployment, such as https://kraftd.example.com.
        #[arg(long)]
        url: String,
        /// An origin that ALLOWED_ORIGINS should allow.
        #[arg(long, default_value = "http://localhost:3000")]
        origin: String,
    },
    /// Work with the audit log.
    Audit {
        #[command(subcommand)]
        action: AuditAction,
    },
    /// Manage the Ed25519 signing key ring in the data folder.
    Keys {
        #[command(subcommand)]
        action: KeysAction,
    },
    /// Report on secrets and when they are due for rotation.
    Secrets {
        #[command(subcommand)]
        action: SecretsAction,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditAction {
    /// Check the hash chain over the log and its rotated files. Exits 0 only
    /// when every entry is intact, else names the first changed, removed or
    /// inserted entry by file and line.
    Verify {
        /// The current log file; defaults to AUDIT_LOG_PATH.
        path: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysAction {
    /// List every key with its state and dates.
    List,
    /// Make a new key active; the old one keeps verifying for the grace period.
    Rotate {
        /// How long tokens signed by the old key stay valid: a number with s, m, h or d.
        #[arg(long, default_value = "24h")]
        grace: String,
    },
    /// Retire every key at once and revoke every login: every access and refresh
    /// token issued before stops working, and all users must log in again.
    EmergencyRotate,
}

#[derive(Debug, Subcommand)]
pub enum SecretsAction {
    /// One row per secret: location, rotation period, last rotated, next due, state.
    /// Exits with 1 when any secret is overdue.
    Status {
        /// TOML manifest declaring secrets kept outside kraftd.
        #[arg(long)]
        manifest: Option<PathBuf>,
        /// Output format: table, markdown or json.
        #[arg(long, default_value = "table")]
        format: String,
        /// Rotation period of the JWT signing key in the key ring, in days.
        #[arg(long, default_value_t = crate::secrets::DEFAULT_KEY_ROTATION_DAYS)]
        key_rotation_days: u32,
    },
}
