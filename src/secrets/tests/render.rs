use serde_json::Value;
use time::macros::{date, datetime};
use time::Date;

use super::super::{build_report, Format, Manifest, ManifestSecret, SigningKeySecret};
use super::{load_text, parse_markdown_table, parse_table};

const TODAY: Date = date!(2026 - 11 - 20);

const TABLE_TITLES: [&str; 6] = [
    "NAME",
    "LOCATION",
    "ROTATION DAYS",
    "LAST ROTATED",
    "NEXT DUE",
    "STATE",
];

const MARKDOWN_TITLES: [&str; 6] = [
    "Name",
    "Location",
    "Rotation (days)",
    "Last rotated",
    "Next due",
    "State",
];

const MIXED_MANIFEST: &str = r#"
# defaults for every secret below
due_soon_days = 14

[[secret]]
name = "database password"
location = "vault:kv/kraftd/db"
rotation_days = 90
last_rotated = 2026-10-01

[[secret]]
name = "smtp password"
location = "env SMTP_PASSWORD"
rotation_days = 30
last_rotated = 2026-10-25

[[secret]]
name = "s3 access key"
location = "aws-secrets-manager:kraftd/s3"
rotation_days = 60
last_rotated = 2026-09-01

[[secret]]
name = "legacy api token"
location = "env LEGACY_TOKEN"
rotation_days = 30
"#;

fn signing_key() -> SigningKeySecret {
    SigningKeySecret {
        name: "jwt signing key k1".to_owned(),
        location: "data/keys/ed25519-k1.json".to_owned(),
        last_rotated: Some(datetime!(2026-09-16 08:00 UTC)),
    }
}

/// Converts one JSON row into the cells that the table and Markdown show.
fn json_row_cells(row: &Value) -> Vec<String> {
    let text = |key: &str| row[key].as_str().expect("string field").to_owned();
    let date = |key: &str| match &row[key] {
        Value::Null => "unknown".to_owned(),
        Value::String(date) => date.clone(),
        other => panic!("{key} is neither a date nor null: {other}"),
    };
    let state = match row["state"].as_str().expect("state is a string") {
        "due_soon" => "due soon".to_owned(),
        other => other.to_owned(),
    };
    vec![
        text("name"),
        text("location"),
        row["rotation_days"]
            .as_u64()
            .expect("rotation_days is a number")
            .to_string(),
        date("last_rotated"),
        date("next_due"),
        state,
    ]
}

#[test]
fn formats_agree_on_mixed_manifest() {
    let (_dir, _path, result) = load_text(MIXED_MANIFEST, TODAY);
    let manifest = result.expect("valid manifest");
    let report = build_report(&[signing_key()], 90, Some(&manifest), TODAY);

    let json: Value = serde_json::from_str(&report.render(Format::Json)).expect("valid JSON");
    let table = parse_table(&report.render(Format::Table), &TABLE_TITLES);
    let markdown = parse_markdown_table(&report.render(Format::Markdown));

    assert_eq!(json["generated_on"], "2026-11-20");
    assert_eq!(json["overdue"], true);
    assert!(report.any_overdue());

    let json_rows: Vec<Vec<String>> = json["secrets"]
        .as_array()
        .expect("secrets is an array")
        .iter()
        .map(json_row_cells)
        .collect();
    let expected = [
        [
            "legacy api token",
            "env LEGACY_TOKEN",
            "30",
            "unknown",
            "unknown",
            "overdue",
        ],
        [
            "s3 access key",
            "aws-secrets-manager:kraftd/s3",
            "60",
            "2026-09-01",
            "2026-10-31",
            "overdue",
        ],
        [
            "smtp password",
            "env SMTP_PASSWORD",
            "30",
            "2026-10-25",
            "2026-11-24",
            "due soon",
        ],
        [
            "jwt signing key k1",
            "data/keys/ed25519-k1.json",
            "90",
            "2026-09-16",
            "2026-12-15",
            "ok",
        ],
        [
            "database password",
            "vault:kv/kraftd/db",
            "90",
            "2026-10-01",
            "2026-12-30",
            "ok",
        ],
    ];
    assert_eq!(json_rows, expected);

    assert_eq!(table[0], TABLE_TITLES);
    assert_eq!(markdown[0], MARKDOWN_TITLES);
    assert_eq!(table.len(), json_rows.len() + 1);
    assert_eq!(markdown.len(), json_rows.len() + 1);
    for (index, json_row) in json_rows.iter().enumerate() {
        assert_eq!(&table[index + 1], json_row, "table row {index}");
        assert_eq!(&markdown[index + 1], json_row, "markdown row {index}");
    }
}

#[test]
fn formats_ok_only_not_overdue() {
    let text = r#"
        [[secret]]
        name = "database password"
        location = "vault:kv/kraftd/db"
        rotation_days = 90
        last_rotated = 2026-11-01
    "#;
    let (_dir, _path, result) = load_text(text, TODAY);
    let manifest = result.expect("valid manifest");
    let report = build_report(&[], 90, Some(&manifest), TODAY);

    let json: Value = serde_json::from_str(&report.render(Format::Json)).expect("valid JSON");

    assert!(!report.any_overdue());
    assert_eq!(json["overdue"], false);
    assert_eq!(json["secrets"][0]["state"], "ok");
}

#[test]
fn markdown_header_lines() {
    let report = build_report(&[signing_key()], 90, None, TODAY);
    let markdown = report.render(Format::Markdown);
    let lines: Vec<&str> = markdown.lines().collect();

    assert_eq!(lines[0], "# Secret rotation status");
    assert!(
        lines[2].starts_with("Generated on 2026-11-20 "),
        "{}",
        lines[2]
    );
    assert!(lines[2].contains("14 days"), "{}", lines[2]);
    assert_eq!(lines[4], "Overdue: 0, due soon: 0, ok: 1.");
    assert_eq!(lines[7], "| --- | --- | ---: | --- | --- | --- |");
    assert!(markdown.ends_with("| ok |\n"), "{markdown}");
}

#[test]
fn markdown_escapes_pipe_in_name() {
    let manifest = Manifest {
        due_soon_days: 14,
        secrets: vec![ManifestSecret {
            name: r"api key a|b \| c".to_owned(),
            location: "vault:kv/a|b".to_owned(),
            rotation_days: 30,
            last_rotated: Some(date!(2026 - 11 - 01)),
        }],
    };
    let report = build_report(&[], 90, Some(&manifest), TODAY);
    let markdown = report.render(Format::Markdown);

    let row_line = markdown.lines().last().expect("table row");
    assert!(
        row_line.starts_with(r"| api key a\|b \\\| c | vault:kv/a\|b |"),
        "{row_line}"
    );

    let rows = parse_markdown_table(&markdown);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1].len(), 6, "{row_line}");
    assert_eq!(rows[1][0], r"api key a|b \| c");
    assert_eq!(rows[1][1], "vault:kv/a|b");
}

#[test]
fn table_aligns_by_chars() {
    let keys = [
        SigningKeySecret {
            name: "clé de signature ünïcödé".to_owned(),
            location: "env CLÉ".to_owned(),
            last_rotated: Some(datetime!(2026-11-01 0:00 UTC)),
        },
        SigningKeySecret {
            name: "k".to_owned(),
            location: "env K".to_owned(),
            last_rotated: None,
        },
    ];
    let report = build_report(&keys, 90, None, TODAY);
    let table = report.render(Format::Table);
    let lines: Vec<&str> = table.lines().collect();

    // Every line has its location cell starting at the same character column.
    let location_column = lines[0].find("LOCATION").expect("LOCATION title");
    assert_eq!(
        location_column,
        "clé de signature ünïcödé  ".chars().count()
    );
    for line in &lines[1..] {
        let cell: String = line.chars().skip(location_column).take(3).collect();
        assert_eq!(cell, "env", "{line}");
    }
}

#[test]
fn table_replaces_control_characters() {
    let keys = [SigningKeySecret {
        name: "jwt\nkey".to_owned(),
        location: "env\tJWT_SECRET".to_owned(),
        last_rotated: None,
    }];
    let report = build_report(&keys, 90, None, TODAY);
    let table = report.render(Format::Table);

    assert_eq!(table.lines().count(), 2, "{table}");
    let rows = parse_table(&table, &TABLE_TITLES);
    assert_eq!(rows[1][0], "jwt key");
    assert_eq!(rows[1][1], "env JWT_SECRET");
}

#[test]
fn table_empty_report_has_header_only() {
    let report = build_report(&[], 90, None, TODAY);

    assert_eq!(
        report.render(Format::Table),
        "NAME  LOCATION  ROTATION DAYS  LAST ROTATED  NEXT DUE  STATE\n"
    );
}

#[test]
fn json_unknown_dates_are_null() {
    let keys = [SigningKeySecret {
        name: "jwt signing key k0".to_owned(),
        location: "env JWT_SECRET".to_owned(),
        last_rotated: None,
    }];
    let report = build_report(&keys, 90, None, TODAY);

    let json: Value = serde_json::from_str(&report.render(Format::Json)).expect("valid JSON");
    let row = &json["secrets"][0];

    assert_eq!(row["last_rotated"], Value::Null);
    assert_eq!(row["next_due"], Value::Null);
    assert_eq!(row["state"], "overdue");
    assert_eq!(row["rotation_days"], 90);
}

#[test]
fn format_parses_names() {
    for (name, format) in Format::NAMES.into_iter().zip(Format::ALL) {
        assert_eq!(name.parse::<Format>(), Ok(format));
        assert_eq!(format.to_string(), name);
    }
}

#[test]
fn format_rejects_unknown_name() {
    let error = "yaml".parse::<Format>().expect_err("unknown format");

    assert_eq!(
        error.to_string(),
        "invalid format \"yaml\": expected one of table, markdown, json"
    );
    assert!("Table".parse::<Format>().is_err());
}

#[test]
fn render_ends_with_newline() {
    let report = build_report(&[signing_key()], 90, None, TODAY);

    for format in Format::ALL {
        assert!(report.render(format).ends_with('\n'), "{format}");
    }
}
