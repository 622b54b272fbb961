//! Timestamp helpers: RFC 3339 in UTC with a `Z` and a fixed six-digit
//! fraction, so stored text sorts in time order.

use time::format_description::FormatItem;
use time::macros::format_description;
use time::OffsetDateTime;

const RFC3339_MICROS: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");

/// Formats a moment as RFC 3339 UTC text with microseconds.
pub fn format_rfc3339(moment: OffsetDateTime) -> String {
    moment
        .to_offset(time::UtcOffset::UTC)
        .format(RFC3339_MICROS)
        .unwrap_or_else(|_| moment.unix_timestamp().to_string())
}

/// Current Unix time in whole seconds.
pub fn unix_now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}
