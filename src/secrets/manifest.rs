//! Loading and validation of the secrets manifest, a TOML file that declares the secrets
//! kraftd does not store itself.
//!
//! ```toml
//! due_soon_days = 14          # optional, applies to every row of the report
//!
//! [[secret]]
//! name = "database password"
//! location = "vault:kv/kraftd/db"
//! rotation_days = 90
//! last_rotated = 2026-10-01   # TOML local date, omitted when unknown
//! ```

use std::collections::HashMap;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use time::macros::format_description;
use time::{Date, Duration, Month};

use super::DEFAULT_DUE_SOON_DAYS;

/// Validated contents of a secrets manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// Days before its due date from which a secret is reported as due soon.
    pub due_soon_days: u32,
    /// Secrets in the order the file declares them.
    pub secrets: Vec<ManifestSecret>,
}

/// One `[[secret]]` entry of the manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestSecret {
    /// Unique name shown in the report, such as `database password`.
    pub name: String,
    /// Storage location, such as `vault:kv/kraftd/db`.
    pub location: String,
    /// Rotation period in days, at least 1.
    pub rotation_days: u32,
    /// Date of the last rotation, or `None` when the manifest leaves `last_rotated` out.
    pub last_rotated: Option<Date>,
}

/// Error from [`load_manifest`], naming the file and, for invalid values, the secret and field.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("failed to read secrets manifest {}: {source}", .path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },

    /// Invalid TOML, a value of the wrong type or an unknown key. The TOML error carries the
    /// line and column.
    #[error("invalid secrets manifest {}: {source}", .path.display())]
    Parse {
        path: PathBuf,
        source: toml::de::Error,
    },

    /// Invalid top-level setting.
    #[error("invalid secrets manifest {}: `{field}` {problem}", .path.display())]
    InvalidSetting {
        path: PathBuf,
        field: &'static str,
        problem: Problem,
    },

    /// Invalid field of a `[[secret]]` entry.
    #[error(
        "invalid secrets manifest {}: secret #{index}{}: `{field}` {problem}",
        .path.display(),
        quoted_name_suffix(.name.as_deref())
    )]
    InvalidSecret {
        path: PathBuf,
        /// Position of the entry among the `[[secret]]` entries, starting at 1.
        index: usize,
        /// Name of the entry, when it has a valid one.
        name: Option<String>,
        field: &'static str,
        problem: Problem,
    },
}

/// Reason a manifest field is invalid. Its `Display` text completes a sentence that starts
/// with the field name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    Missing,
    /// Empty or only whitespace.
    Empty,
    /// A newline, tab or other control character, which would break the table and Markdown
    /// output.
    ControlCharacter,
    /// Number outside `min..=max`.
    OutOfRange {
        found: i64,
        min: i64,
        max: i64,
    },
    /// Value that is not a plain calendar date, shown as written in the file.
    NotADate {
        found: String,
    },
    /// Last rotation date after the date the report is made for.
    InFuture {
        found: Date,
        today: Date,
    },
    /// Rotation period that puts the next due date past the last date `time::Date` supports.
    DueDateOutOfRange,
    /// Name already used by the entry at `first_index` (starting at 1).
    Duplicate {
        first_index: usize,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Missing => write!(f, "is missing"),
            Problem::Empty => write!(f, "is empty"),
            Problem::ControlCharacter => write!(
                f,
                "contains a control character such as a newline or tab; write it on one line"
            ),
            Problem::OutOfRange { found, min, max } => {
                write!(f, "must be between {min} and {max}, found {found}")
            }
            Problem::NotADate { found } => write!(
                f,
                "must be a date such as 2026-10-01, without time or UTC offset, found {found}"
            ),
            Problem::InFuture { found, today } => write!(
                f,
                "is {found}, which is after today ({today}); set the date the secret was rotated"
            ),
            Problem::DueDateOutOfRange => write!(
                f,
                "is too large: the next due date would be after {}",
                Date::MAX
            ),
            Problem::Duplicate { first_index } => write!(
                f,
                "is already used by secret #{first_index}; give each secret a unique name"
            ),
        }
    }
}

fn quoted_name_suffix(name: Option<&str>) -> String {
    match name {
        Some(name) => format!(" ({name:?})"),
        None => String::new(),
    }
}

/// Manifest as written, before validation. Every field is optional so that validation can
/// report a missing field together with the secret it belongs to.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    due_soon_days: Option<i64>,
    #[serde(default)]
    secret: Vec<RawSecret>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSecret {
    name: Option<String>,
    location: Option<String>,
    rotation_days: Option<i64>,
    last_rotated: Option<toml::Value>,
}

/// Reads and validates the secrets manifest at `path`.
///
/// `today` is the date the report is made for: a `last_rotated` after it is rejected.
pub fn load_manifest(path: &Path, today: Date) -> Result<Manifest, ManifestError> {
    let text = fs::read_to_string(path).map_err(|source| ManifestError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse_manifest(&text, path, today)
}

/// Parses and validates manifest text. `path` only labels errors.
fn parse_manifest(text: &str, path: &Path, today: Date) -> Result<Manifest, ManifestError> {
    let raw: RawManifest = toml::from_str(text).map_err(|source| ManifestError::Parse {
        path: path.to_path_buf(),
        source,
    })?;

    let due_soon_days = match raw.due_soon_days {
        None => DEFAULT_DUE_SOON_DAYS,
        Some(days) => to_u32(days, 0).map_err(|problem| ManifestError::InvalidSetting {
            path: path.to_path_buf(),
            field: "due_soon_days",
            problem,
        })?,
    };

    let mut secrets = Vec::with_capacity(raw.secret.len());
    let mut first_index_by_name: HashMap<String, usize> = HashMap::new();
    for (position, raw_secret) in raw.secret.into_iter().enumerate() {
        let index = position + 1;
        let secret =
            validate_secret(raw_secret, index, &first_index_by_name, today).map_err(|invalid| {
                ManifestError::InvalidSecret {
                    path: path.to_path_buf(),
                    index,
                    name: invalid.name,
                    field: invalid.field,
                    problem: invalid.problem,
                }
            })?;
        first_index_by_name.insert(secret.name.clone(), index);
        secrets.push(secret);
    }

    Ok(Manifest {
        due_soon_days,
        secrets,
    })
}

/// Invalid field of one secret, before the file path is attached.
struct InvalidField {
    name: Option<String>,
    field: &'static str,
    problem: Problem,
}

fn validate_secret(
    raw: RawSecret,
    index: usize,
    first_index_by_name: &HashMap<String, usize>,
    today: Date,
) -> Result<ManifestSecret, InvalidField> {
    let name = validate_text(raw.name).map_err(|problem| InvalidField {
        name: None,
        field: "name",
        problem,
    })?;
    if let Some(&first_index) = first_index_by_name.get(&name) {
        debug_assert!(first_index < index);
        return Err(InvalidField {
            name: Some(name),
            field: "name",
            problem: Problem::Duplicate { first_index },
        });
    }

    let invalid = |field: &'static str, problem: Problem| InvalidField {
        name: Some(name.clone()),
        field,
        problem,
    };

    let location = validate_text(raw.location).map_err(|problem| invalid("location", problem))?;

    let rotation_days = match raw.rotation_days {
        None => return Err(invalid("rotation_days", Problem::Missing)),
        Some(days) => to_u32(days, 1).map_err(|problem| invalid("rotation_days", problem))?,
    };

    let last_rotated = match raw.last_rotated {
        None => None,
        Some(value) => {
            let date = to_date(&value).map_err(|problem| invalid("last_rotated", problem))?;
            if date > today {
                return Err(invalid(
                    "last_rotated",
                    Problem::InFuture { found: date, today },
                ));
            }
            // Rejected here so that computing the due date in the report cannot overflow.
            if date
                .checked_add(Duration::days(i64::from(rotation_days)))
                .is_none()
            {
                return Err(invalid("rotation_days", Problem::DueDateOutOfRange));
            }
            Some(date)
        }
    };

    Ok(ManifestSecret {
        name,
        location,
        rotation_days,
        last_rotated,
    })
}

/// Checks a required one-line text field and returns it unchanged.
fn validate_text(value: Option<String>) -> Result<String, Problem> {
    let Some(text) = value else {
        return Err(Problem::Missing);
    };
    if text.trim().is_empty() {
        return Err(Problem::Empty);
    }
    if text.chars().any(char::is_control) {
        return Err(Problem::ControlCharacter);
    }
    Ok(text)
}

fn to_u32(value: i64, min: u32) -> Result<u32, Problem> {
    let out_of_range = Problem::OutOfRange {
        found: value,
        min: i64::from(min),
        max: i64::from(u32::MAX),
    };
    match u32::try_from(value) {
        Ok(number) if number >= min => Ok(number),
        _ => Err(out_of_range),
    }
}

/// Converts a TOML local date such as `2026-10-01` into a date. A quoted `"2026-10-01"` is
/// accepted too, because it is unambiguous. Date-times are rejected, because their calendar
/// date depends on a time zone.
fn to_date(value: &toml::Value) -> Result<Date, Problem> {
    let not_a_date = || Problem::NotADate {
        found: match value {
            // `toml::Value`'s own `Display` wraps a date-time in an internal table.
            toml::Value::Datetime(datetime) => datetime.to_string(),
            other => other.to_string(),
        },
    };
    match value {
        toml::Value::Datetime(datetime) => {
            let (Some(date), None, None) = (datetime.date, datetime.time, datetime.offset) else {
                return Err(not_a_date());
            };
            let month = Month::try_from(date.month).map_err(|_| not_a_date())?;
            Date::from_calendar_date(i32::from(date.year), month, date.day)
                .map_err(|_| not_a_date())
        }
        toml::Value::String(text) => {
            Date::parse(text, format_description!("[year]-[month]-[day]")).map_err(|_| not_a_date())
        }
        _ => Err(not_a_date()),
    }
}
