//! Output formats of the report: an aligned plain-text table, a GitHub Markdown document and
//! JSON.

use std::fmt;
use std::str::FromStr;

use serde_json::{Map, Value};
use time::Date;

use super::{Report, SecretStatus};

/// Output format of `kraftd secrets status --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Format {
    /// Plain-text columns aligned with spaces, for a terminal.
    #[default]
    Table,
    /// GitHub Markdown document that an operator can commit as `SECRETS_MANIFEST.md`.
    Markdown,
    /// One JSON object, for scripts and monitoring.
    Json,
}

impl Format {
    /// Every format, in the order of [`Format::NAMES`].
    pub const ALL: [Format; 3] = [Format::Table, Format::Markdown, Format::Json];

    /// Command-line names that [`Format::from_str`] accepts.
    pub const NAMES: [&'static str; 3] = ["table", "markdown", "json"];

    /// Command-line name of the format.
    pub fn name(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Markdown => "markdown",
            Format::Json => "json",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Error from parsing a [`Format`] name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid format {0:?}: expected one of {names}", names = Format::NAMES.join(", "))]
pub struct UnknownFormat(pub String);

impl FromStr for Format {
    type Err = UnknownFormat;

    /// Parses a name from [`Format::NAMES`]. Names are case-sensitive.
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Format::ALL
            .into_iter()
            .find(|format| format.name() == name)
            .ok_or_else(|| UnknownFormat(name.to_owned()))
    }
}

impl Report {
    /// Renders the report in `format`. The output ends with a newline.
    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Table => render_table(self),
            Format::Markdown => render_markdown(self),
            Format::Json => render_json(self),
        }
    }
}

const TABLE_HEADER: [&str; 6] = [
    "NAME",
    "LOCATION",
    "ROTATION DAYS",
    "LAST ROTATED",
    "NEXT DUE",
    "STATE",
];

const MARKDOWN_HEADER: [&str; 6] = [
    "Name",
    "Location",
    "Rotation (days)",
    "Last rotated",
    "Next due",
    "State",
];

/// Spaces between two table columns. Two spaces keep a header such as `LAST ROTATED`, which
/// contains one space, readable as one column.
const COLUMN_GAP: &str = "  ";

/// Cell text for a date that is not known.
const UNKNOWN_DATE: &str = "unknown";

fn cells(row: &SecretStatus) -> [String; 6] {
    [
        row.name.clone(),
        row.location.clone(),
        row.rotation_days.to_string(),
        date_cell(row.last_rotated),
        date_cell(row.next_due),
        row.state.label().to_owned(),
    ]
}

fn date_cell(date: Option<Date>) -> String {
    date.map_or_else(|| UNKNOWN_DATE.to_owned(), |date| date.to_string())
}

/// Replaces control characters such as newlines and tabs with spaces, because either would
/// break a table row. Manifest values never contain them, but signing key names and
/// locations come from the caller unchecked.
fn single_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Renders the table with a header line. Column widths count `char`s, not bytes.
///
/// NOTE: characters that a terminal draws two columns wide, such as CJK ideographs, still
/// misalign the columns after them, because measuring display width needs a Unicode width
/// table that this module does not have.
fn render_table(report: &Report) -> String {
    let rows: Vec<[String; 6]> = report
        .rows()
        .iter()
        .map(|row| cells(row).map(|cell| single_line(&cell)))
        .collect();

    let mut widths = TABLE_HEADER.map(|title| title.chars().count());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }

    let mut output = String::new();
    push_table_line(&mut output, &TABLE_HEADER, &widths);
    for row in &rows {
        push_table_line(&mut output, row, &widths);
    }
    output
}

fn push_table_line<S: AsRef<str>>(output: &mut String, cells: &[S], widths: &[usize]) {
    let mut line = String::new();
    for (column, (cell, &width)) in cells.iter().zip(widths).enumerate() {
        if column > 0 {
            line.push_str(COLUMN_GAP);
        }
        let cell = cell.as_ref();
        line.push_str(cell);
        let padding = width.saturating_sub(cell.chars().count());
        line.extend(std::iter::repeat_n(' ', padding));
    }
    output.push_str(line.trim_end());
    output.push('\n');
}

/// Renders a Markdown document: a title, the generation date with the meaning of the states,
/// a count per state and a GitHub table.
fn render_markdown(report: &Report) -> String {
    let rows = report.rows();
    let count = |state| rows.iter().filter(|row| row.state == state).count();

    let mut output = String::from("# Secret rotation status\n\n");
    output.push_str(&format!(
        "Generated on {} by `kraftd secrets status`. A secret is due soon from {} days before \
         its next due date, and overdue from the day after it.\n\n",
        report.generated_on(),
        report.due_soon_days(),
    ));
    output.push_str(&format!(
        "Overdue: {}, due soon: {}, ok: {}.\n\n",
        count(super::State::Overdue),
        count(super::State::DueSoon),
        count(super::State::Ok),
    ));

    push_markdown_line(&mut output, &MARKDOWN_HEADER.map(str::to_owned));
    // The rotation period is a number, so its column is right-aligned.
    output.push_str("| --- | --- | ---: | --- | --- | --- |\n");
    for row in rows {
        push_markdown_line(&mut output, &cells(row));
    }
    output
}

fn push_markdown_line(output: &mut String, cells: &[String]) {
    output.push('|');
    for cell in cells {
        output.push(' ');
        output.push_str(&escape_markdown_cell(cell));
        output.push_str(" |");
    }
    output.push('\n');
}

/// Escapes `|`, which would end the cell, and `\`, so that a backslash before a `|` in the
/// text stays a literal backslash.
///
/// NOTE: other Markdown syntax in a cell, such as `*` or `<`, is not escaped and still
/// formats the rendered page, although the raw file keeps the exact text.
fn escape_markdown_cell(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in single_line(text).chars() {
        if c == '|' || c == '\\' {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// Renders `{"generated_on", "overdue", "secrets": [...]}`, pretty-printed. Dates are
/// `YYYY-MM-DD` strings, or `null` when unknown. Object keys come out in alphabetical order,
/// because `serde_json::Map` is a `BTreeMap` unless serde_json's `preserve_order` feature is on.
fn render_json(report: &Report) -> String {
    let secrets: Vec<Value> = report.rows().iter().map(json_row).collect();

    let mut document = Map::new();
    document.insert(
        "generated_on".to_owned(),
        Value::String(report.generated_on().to_string()),
    );
    document.insert("overdue".to_owned(), Value::Bool(report.any_overdue()));
    document.insert("secrets".to_owned(), Value::Array(secrets));

    format!("{:#}\n", Value::Object(document))
}

fn json_row(row: &SecretStatus) -> Value {
    let date_value = |date: Option<Date>| date.map_or(Value::Null, |date| date.to_string().into());

    let mut object = Map::new();
    object.insert("name".to_owned(), row.name.clone().into());
    object.insert("location".to_owned(), row.location.clone().into());
    object.insert("rotation_days".to_owned(), row.rotation_days.into());
    object.insert("last_rotated".to_owned(), date_value(row.last_rotated));
    object.insert("next_due".to_owned(), date_value(row.next_due));
    object.insert("state".to_owned(), row.state.json_name().into());
    Value::Object(object)
}
