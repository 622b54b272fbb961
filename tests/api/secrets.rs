//! `kraftd secrets status`: the table, markdown and JSON agree, and an
//! overdue secret makes the command exit 1.

use serde_json::Value;
use time::OffsetDateTime;

use crate::cli::run;
use crate::helpers::spawn_app;

fn days_ago(days: i64) -> String {
    (OffsetDateTime::now_utc().date() - time::Duration::days(days)).to_string()
}

#[tokio::test]
async fn secrets_report_formats_agree() {
    let app = spawn_app().await;
    let manifest = app.dir.path().join("secrets.toml");
    std::fs::write(
        &manifest,
        format!(
            "due_soon_days = 14\n\n\
             [[secret]]\nname = \"database password\"\nlocation = \"vault:kv/kraftd/db\"\nrotation_days = 90\nlast_rotated = {}\n\n\
             [[secret]]\nname = \"storage access key\"\nlocation = \"vault:kv/kraftd/s3\"\nrotation_days = 90\nlast_rotated = {}\n\n\
             [[secret]]\nname = \"identity provider secret\"\nlocation = \"env OIDC_CLIENT_SECRET\"\nrotation_days = 30\nlast_rotated = {}\n",
            days_ago(10),
            days_ago(80),
            days_ago(45)
        ),
    )
    .unwrap();
    let manifest = manifest.to_str().unwrap();

    let (json_out, json_text) = run(app.command().args(["secrets", "status", "--manifest", manifest, "--format", "json"]));
    let (table_out, table) = run(app.command().args(["secrets", "status", "--manifest", manifest]));
    let (markdown_out, markdown) = run(app.command().args(["secrets", "status", "--manifest", manifest, "--format", "markdown"]));
    for (output, text) in [(&json_out, &json_text), (&table_out, &table), (&markdown_out, &markdown)] {
        assert_eq!(output.status.code(), Some(1), "overdue must exit 1: {text}");
    }

    let report: Value = serde_json::from_str(&json_text).unwrap();
    assert_eq!(report["overdue"], true);
    let rows = report["secrets"].as_array().unwrap();
    assert_eq!(rows.len(), 4, "three manifest secrets and the signing key");
    let state_of = |name: &str| rows.iter().find(|row| row["name"] == name).unwrap()["state"].clone();
    assert_eq!(state_of("database password"), "ok");
    assert_eq!(state_of("storage access key"), "due_soon");
    assert_eq!(state_of("identity provider secret"), "overdue");
    let key_row = rows.iter().find(|row| row["name"].as_str().unwrap().starts_with("jwt signing key")).unwrap();
    assert_eq!(key_row["state"], "ok");

    for row in rows {
        let name = row["name"].as_str().unwrap();
        let label = row["state"].as_str().unwrap().replace('_', " ");
        let next_due = row["next_due"].as_str().unwrap();
        let table_line = table.lines().find(|line| line.contains(name)).unwrap_or_else(|| panic!("{name} not in table:\n{table}"));
        assert!(table_line.contains(&label), "{table_line}");
        assert!(table_line.contains(next_due), "{table_line}");
        let markdown_line = markdown.lines().find(|line| line.contains(name)).unwrap_or_else(|| panic!("{name} not in markdown:\n{markdown}"));
        assert!(markdown_line.starts_with('|'), "{markdown_line}");
        assert!(markdown_line.contains(&label), "{markdown_line}");
        assert!(markdown_line.contains(next_due), "{markdown_line}");
    }
}

#[tokio::test]
async fn secrets_report_ok_exits_zero() {
    let app = spawn_app().await;
    let manifest = app.dir.path().join("secrets.toml");
    std::fs::write(&manifest, format!("[[secret]]\nname = \"db\"\nlocation = \"vault\"\nrotation_days = 90\nlast_rotated = {}\n", days_ago(1))).unwrap();
    let (output, text) = run(app.command().args(["secrets", "status", "--manifest", manifest.to_str().unwrap()]));
    assert_eq!(output.status.code(), Some(0), "{text}");

    std::fs::write(&manifest, "[[secret]]\nname = \"db\"\nrotation_days = 0\n").unwrap();
    let (output, text) = run(app.command().args(["secrets", "status", "--manifest", manifest.to_str().unwrap()]));
    assert!(!output.status.success());
    assert!(text.contains("db") && (text.contains("location") || text.contains("rotation_days")), "{text}");
}

#[tokio::test]
async fn hs256_secret_never_silently_missing() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("secrets.toml");
    std::fs::write(&manifest, format!("[[secret]]\nname = \"db\"\nlocation = \"vault\"\nrotation_days = 90\nlast_rotated = {}\n", days_ago(1))).unwrap();
    let manifest = manifest.to_str().unwrap();

    let with_secret = |command: &mut std::process::Command| {
        command.env("JWT_SECRET", crate::helpers::JWT_SECRET).current_dir(dir.path());
    };
    let mut command = crate::cli::kraftd();
    with_secret(&mut command);
    let (output, text) = run(command.args(["secrets", "status", "--manifest", manifest]));
    assert_eq!(output.status.code(), Some(1), "undeclared JWT_SECRET must alert: {text}");
    assert!(text.contains("env JWT_SECRET"), "{text}");

    let declared = dir.path().join("declared.toml");
    std::fs::write(
        &declared,
        format!("[[secret]]\nname = \"jwt secret\"\nlocation = \"env JWT_SECRET\"\nrotation_days = 90\nlast_rotated = {}\n", days_ago(1)),
    )
    .unwrap();
    let mut command = crate::cli::kraftd();
    with_secret(&mut command);
    let (output, text) = run(command.args(["secrets", "status", "--manifest", declared.to_str().unwrap()]));
    assert_eq!(output.status.code(), Some(0), "{text}");

    // Without JWT_SECRET and without a key ring, the command cannot report
    // on the signing key, which is an error rather than a clean report.
    let (output, text) = run(crate::cli::kraftd().current_dir(dir.path()).args(["secrets", "status", "--manifest", manifest]));
    assert_eq!(output.status.code(), Some(2), "{text}");
    assert!(text.contains("no key ring"), "{text}");
}
