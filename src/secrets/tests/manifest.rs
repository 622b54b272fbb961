use time::macros::date;

use super::super::{load_manifest, ManifestError, ManifestSecret, Problem};
use super::load_text;

const TODAY: time::Date = date!(2026 - 11 - 20);

/// Loads `text`, expects an `InvalidSecret` error and returns it with its message.
fn invalid_secret(text: &str) -> (usize, Option<String>, &'static str, Problem, String) {
    let (_dir, _path, result) = load_text(text, TODAY);
    match result {
        Err(error @ ManifestError::InvalidSecret { .. }) => {
            let message = error.to_string();
            let ManifestError::InvalidSecret {
                index,
                name,
                field,
                problem,
                ..
            } = error
            else {
                unreachable!("matched above")
            };
            (index, name, field, problem, message)
        }
        other => panic!("expected InvalidSecret for {text:?}, got {other:?}"),
    }
}

#[test]
fn manifest_loads_valid_entries() {
    let text = r#"
        due_soon_days = 7

        [[secret]]
        name = "database password"
        location = "vault:kv/kraftd/db"
        rotation_days = 90
        last_rotated = 2026-10-01

        [[secret]]
        name = "smtp password"
        location = "env SMTP_PASSWORD"
        rotation_days = 30
        last_rotated = "2026-11-20"

        [[secret]]
        name = "legacy token"
        location = "env LEGACY_TOKEN"
        rotation_days = 365
    "#;
    let (_dir, _path, result) = load_text(text, TODAY);
    let manifest = result.expect("valid manifest");

    assert_eq!(manifest.due_soon_days, 7);
    assert_eq!(
        manifest.secrets,
        vec![
            ManifestSecret {
                name: "database password".to_owned(),
                location: "vault:kv/kraftd/db".to_owned(),
                rotation_days: 90,
                last_rotated: Some(date!(2026 - 10 - 01)),
            },
            // A quoted date is accepted, and a rotation today is not in the future.
            ManifestSecret {
                name: "smtp password".to_owned(),
                location: "env SMTP_PASSWORD".to_owned(),
                rotation_days: 30,
                last_rotated: Some(TODAY),
            },
            ManifestSecret {
                name: "legacy token".to_owned(),
                location: "env LEGACY_TOKEN".to_owned(),
                rotation_days: 365,
                last_rotated: None,
            },
        ]
    );
}

#[test]
fn manifest_defaults_when_empty() {
    let (_dir, _path, result) = load_text("# no secrets yet\n", TODAY);
    let manifest = result.expect("empty manifest is valid");

    assert_eq!(manifest.due_soon_days, super::super::DEFAULT_DUE_SOON_DAYS);
    assert!(manifest.secrets.is_empty());
}

#[test]
fn manifest_missing_file_is_read_error() {
    let dir = tempfile::tempdir().expect("create temporary directory");
    let path = dir.path().join("absent.toml");

    let error = load_manifest(&path, TODAY).expect_err("missing file");

    assert!(matches!(error, ManifestError::Read { .. }), "{error:?}");
    assert!(error.to_string().contains("absent.toml"), "{error}");
}

#[test]
fn manifest_validation_errors() {
    struct Case {
        text: &'static str,
        index: usize,
        name: Option<&'static str>,
        field: &'static str,
        problem: Problem,
    }

    let out_of_range = |found| Problem::OutOfRange {
        found,
        min: 1,
        max: i64::from(u32::MAX),
    };
    let cases = [
        Case {
            text: "[[secret]]\nlocation = \"env A\"\nrotation_days = 30\n",
            index: 1,
            name: None,
            field: "name",
            problem: Problem::Missing,
        },
        Case {
            text: "[[secret]]\nname = \"  \"\nlocation = \"env A\"\nrotation_days = 30\n",
            index: 1,
            name: None,
            field: "name",
            problem: Problem::Empty,
        },
        Case {
            text: "[[secret]]\nname = \"a\"\nrotation_days = 30\n",
            index: 1,
            name: Some("a"),
            field: "location",
            problem: Problem::Missing,
        },
        Case {
            text: "[[secret]]\nname = \"a\"\nlocation = \"env\\nA\"\nrotation_days = 30\n",
            index: 1,
            name: Some("a"),
            field: "location",
            problem: Problem::ControlCharacter,
        },
        Case {
            text: "[[secret]]\nname = \"a\"\nlocation = \"env A\"\n",
            index: 1,
            name: Some("a"),
            field: "rotation_days",
            problem: Problem::Missing,
        },
        Case {
            text: "[[secret]]\nname = \"a\"\nlocation = \"env A\"\nrotation_days = 0\n",
            index: 1,
            name: Some("a"),
            field: "rotation_days",
            problem: out_of_range(0),
        },
        Case {
            text: "[[secret]]\nname = \"a\"\nlocation = \"env A\"\nrotation_days = -5\n",
            index: 1,
            name: Some("a"),
            field: "rotation_days",
            problem: out_of_range(-5),
        },
        Case {
            text: "[[secret]]\nname = \"a\"\nlocation = \"env A\"\nrotation_days = 4294967296\n",
            index: 1,
            name: Some("a"),
            field: "rotation_days",
            problem: out_of_range(4_294_967_296),
        },
        Case {
            text: "[[secret]]\nname = \"a\"\nlocation = \"env A\"\nrotation_days = 4000000\n\
                   last_rotated = 2026-01-01\n",
            index: 1,
            name: Some("a"),
            field: "rotation_days",
            problem: Problem::DueDateOutOfRange,
        },
        Case {
            text: "[[secret]]\nname = \"a\"\nlocation = \"env A\"\nrotation_days = 30\n\
                   last_rotated = 2026-11-21\n",
            index: 1,
            name: Some("a"),
            field: "last_rotated",
            problem: Problem::InFuture {
                found: date!(2026 - 11 - 21),
                today: TODAY,
            },
        },
        Case {
            text: "[[secret]]\nname = \"a\"\nlocation = \"env A\"\nrotation_days = 30\n\
                   last_rotated = 2026-10-01T10:00:00Z\n",
            index: 1,
            name: Some("a"),
            field: "last_rotated",
            problem: Problem::NotADate {
                found: "2026-10-01T10:00:00Z".to_owned(),
            },
        },
        Case {
            text: "[[secret]]\nname = \"a\"\nlocation = \"env A\"\nrotation_days = 30\n\
                   last_rotated = \"last week\"\n",
            index: 1,
            name: Some("a"),
            field: "last_rotated",
            problem: Problem::NotADate {
                found: "\"last week\"".to_owned(),
            },
        },
        Case {
            text: "[[secret]]\nname = \"a\"\nlocation = \"env A\"\nrotation_days = 30\n\
                   [[secret]]\nname = \"b\"\nlocation = \"env B\"\nrotation_days = 30\n\
                   [[secret]]\nname = \"a\"\nlocation = \"env C\"\nrotation_days = 30\n",
            index: 3,
            name: Some("a"),
            field: "name",
            problem: Problem::Duplicate { first_index: 1 },
        },
    ];

    for case in cases {
        let (index, name, field, problem, message) = invalid_secret(case.text);

        assert_eq!(index, case.index, "index for {:?}", case.text);
        assert_eq!(name.as_deref(), case.name, "name for {:?}", case.text);
        assert_eq!(field, case.field, "field for {:?}", case.text);
        assert_eq!(problem, case.problem, "problem for {:?}", case.text);
        assert!(
            message.contains(&format!("secret #{}", case.index)),
            "{message}"
        );
        assert!(message.contains(&format!("`{}`", case.field)), "{message}");
        if let Some(name) = case.name {
            assert!(message.contains(&format!("({name:?})")), "{message}");
        }
    }
}

#[test]
fn manifest_error_message_reads_as_sentence() {
    let text = "[[secret]]\nname = \"database password\"\nlocation = \"vault:kv/kraftd/db\"\n\
                rotation_days = 0\n";
    let (_dir, path, result) = load_text(text, TODAY);
    let error = result.expect_err("rotation_days of 0");

    assert_eq!(
        error.to_string(),
        format!(
            "invalid secrets manifest {}: secret #1 (\"database password\"): `rotation_days` \
             must be between 1 and 4294967295, found 0",
            path.display()
        )
    );
}

#[test]
fn manifest_negative_due_soon_days_rejected() {
    let (_dir, _path, result) = load_text("due_soon_days = -1\n", TODAY);
    let error = result.expect_err("negative due_soon_days");

    let ManifestError::InvalidSetting { field, problem, .. } = &error else {
        panic!("expected InvalidSetting, got {error:?}");
    };
    assert_eq!(*field, "due_soon_days");
    assert_eq!(
        *problem,
        Problem::OutOfRange {
            found: -1,
            min: 0,
            max: i64::from(u32::MAX)
        }
    );
}

#[test]
fn manifest_unknown_key_rejected() {
    let cases = [
        (
            "[[secret]]\nname = \"a\"\nlocation = \"env A\"\nrotaton_days = 30\n",
            "rotaton_days",
        ),
        ("due_soon = 3\n", "due_soon"),
        ("[[secrets]]\nname = \"a\"\n", "secrets"),
    ];

    for (text, key) in cases {
        let (_dir, _path, result) = load_text(text, TODAY);
        let error = result.expect_err("unknown key");

        assert!(matches!(error, ManifestError::Parse { .. }), "{error:?}");
        let message = error.to_string();
        assert!(
            message.contains(&format!("unknown field `{key}`")),
            "{message}"
        );
    }
}

#[test]
fn manifest_wrong_type_rejected() {
    let text = "[[secret]]\nname = \"a\"\nlocation = \"env A\"\nrotation_days = \"30\"\n";
    let (_dir, _path, result) = load_text(text, TODAY);
    let error = result.expect_err("rotation_days as a string");

    assert!(matches!(error, ManifestError::Parse { .. }), "{error:?}");
    assert!(error.to_string().contains("line 4"), "{error}");
}
