//! Rotation state of each secret and the report that lists them.

use time::{Date, Duration, UtcOffset};

use super::{Manifest, SigningKeySecret, DEFAULT_DUE_SOON_DAYS};

/// Rotation state of one secret. The variants are declared from most to least urgent, so the
/// derived `Ord` sorts overdue secrets first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Overdue,
    DueSoon,
    Ok,
}

impl State {
    /// Label for the table and Markdown output: `overdue`, `due soon` or `ok`.
    pub fn label(self) -> &'static str {
        match self {
            State::Overdue => "overdue",
            State::DueSoon => "due soon",
            State::Ok => "ok",
        }
    }

    /// Name in the JSON output: `overdue`, `due_soon` or `ok`.
    pub fn json_name(self) -> &'static str {
        match self {
            State::Overdue => "overdue",
            State::DueSoon => "due_soon",
            State::Ok => "ok",
        }
    }
}

/// One row of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretStatus {
    pub name: String,
    pub location: String,
    /// Rotation period in days.
    pub rotation_days: u32,
    /// Date of the last rotation, or `None` when unknown.
    pub last_rotated: Option<Date>,
    /// `last_rotated` plus the rotation period, or `None` when the last rotation is unknown.
    pub next_due: Option<Date>,
    pub state: State,
}

/// Rotation status of every secret on one day, sorted by urgency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    generated_on: Date,
    due_soon_days: u32,
    rows: Vec<SecretStatus>,
}

impl Report {
    /// Date the states were computed for.
    pub fn generated_on(&self) -> Date {
        self.generated_on
    }

    /// Days before its due date from which a secret counts as due soon.
    pub fn due_soon_days(&self) -> u32 {
        self.due_soon_days
    }

    /// Rows sorted overdue first, then due soon, then ok. Within a state they are sorted by
    /// next due date (unknown first), then name, then location.
    pub fn rows(&self) -> &[SecretStatus] {
        &self.rows
    }

    /// Returns whether any secret is overdue, which `kraftd secrets status` reports with exit
    /// code 1.
    pub fn any_overdue(&self) -> bool {
        self.rows.iter().any(|row| row.state == State::Overdue)
    }
}

/// Builds the report for `today` from the active signing keys and the manifest.
///
/// Each key in `keys` gets a row with the rotation period `key_rotation_days`. The key's
/// `last_rotated` time is converted to UTC before its date is taken, so `today` should be the
/// current UTC date. The manifest's `due_soon_days` applies to every row, keys included, and
/// defaults to [`DEFAULT_DUE_SOON_DAYS`] without a manifest.
pub fn build_report(
    keys: &[SigningKeySecret],
    key_rotation_days: u32,
    manifest: Option<&Manifest>,
    today: Date,
) -> Report {
    let due_soon_days = manifest.map_or(DEFAULT_DUE_SOON_DAYS, |manifest| manifest.due_soon_days);

    let key_rows = keys.iter().map(|key| {
        let last_rotated = key.last_rotated.map(|rotated_at| {
            // `checked_to_offset` fails only when the UTC date falls outside the range that
            // `time::Date` supports, near year -9999 or 9999. The stored offset's date is used then.
            rotated_at
                .checked_to_offset(UtcOffset::UTC)
                .unwrap_or(rotated_at)
                .date()
        });
        status(
            &key.name,
            &key.location,
            key_rotation_days,
            last_rotated,
            today,
            due_soon_days,
        )
    });

    let manifest_secrets = manifest.map_or(&[][..], |manifest| &manifest.secrets[..]);
    let manifest_rows = manifest_secrets.iter().map(|secret| {
        status(
            &secret.name,
            &secret.location,
            secret.rotation_days,
            secret.last_rotated,
            today,
            due_soon_days,
        )
    });

    let mut rows: Vec<SecretStatus> = key_rows.chain(manifest_rows).collect();
    rows.sort_by(|a, b| {
        a.state
            .cmp(&b.state)
            .then_with(|| a.next_due.cmp(&b.next_due))
            .then_with(|| a.name.cmp(&b.name))
            .then_with(|| a.location.cmp(&b.location))
    });

    Report {
        generated_on: today,
        due_soon_days,
        rows,
    }
}

fn status(
    name: &str,
    location: &str,
    rotation_days: u32,
    last_rotated: Option<Date>,
    today: Date,
    due_soon_days: u32,
) -> SecretStatus {
    // NOTE: a due date past the last date `time::Date` supports is shown as that last date.
    // Manifest entries never get there because the manifest rejects such periods, so only an
    // extreme `key_rotation_days` from the caller can reach this.
    let next_due = last_rotated.map(|date| {
        date.checked_add(Duration::days(i64::from(rotation_days)))
            .unwrap_or(Date::MAX)
    });

    SecretStatus {
        name: name.to_owned(),
        location: location.to_owned(),
        rotation_days,
        last_rotated,
        next_due,
        state: classify(next_due, today, due_soon_days),
    }
}

/// Computes the state of a secret due on `next_due`.
///
/// The due date itself still counts as due soon, not overdue: rotating on that day keeps to
/// the period, so a secret is overdue only from the day after `next_due`. It is due soon when
/// `next_due` is at most `due_soon_days` days after `today`.
pub(super) fn classify(next_due: Option<Date>, today: Date, due_soon_days: u32) -> State {
    // An unknown last rotation counts as overdue: nothing shows the secret was ever rotated,
    // so the operator should rotate it, or record the date, before the report calls it ok.
    let Some(next_due) = next_due else {
        return State::Overdue;
    };

    if today > next_due {
        State::Overdue
    } else if (next_due - today).whole_days() <= i64::from(due_soon_days) {
        State::DueSoon
    } else {
        State::Ok
    }
}
