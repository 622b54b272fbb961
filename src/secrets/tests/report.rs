use time::macros::{date, datetime};
use time::Date;

use super::super::report::classify;
use super::super::{
    build_report, Manifest, ManifestSecret, SigningKeySecret, State, DEFAULT_DUE_SOON_DAYS,
};

const TODAY: Date = date!(2026 - 11 - 20);

fn secret(name: &str, rotation_days: u32, last_rotated: Option<Date>) -> ManifestSecret {
    ManifestSecret {
        name: name.to_owned(),
        location: format!("vault:kv/{name}"),
        rotation_days,
        last_rotated,
    }
}

#[test]
fn classify_boundaries() {
    let cases = [
        (date!(2026 - 11 - 19), State::Overdue),
        // Due today is still on time.
        (date!(2026 - 11 - 20), State::DueSoon),
        (date!(2026 - 12 - 04), State::DueSoon),
        (date!(2026 - 12 - 05), State::Ok),
    ];

    for (next_due, expected) in cases {
        assert_eq!(classify(Some(next_due), TODAY, 14), expected, "{next_due}");
    }
}

#[test]
fn classify_unknown_is_overdue() {
    assert_eq!(classify(None, TODAY, 14), State::Overdue);
}

#[test]
fn classify_zero_due_soon_days() {
    assert_eq!(classify(Some(TODAY), TODAY, 0), State::DueSoon);
    assert_eq!(classify(Some(date!(2026 - 11 - 21)), TODAY, 0), State::Ok);
}

#[test]
fn report_sorts_by_state_due_date_name() {
    let manifest = Manifest {
        due_soon_days: 14,
        secrets: vec![
            secret("ok late", 60, Some(date!(2026 - 11 - 01))),
            secret("ok early b", 30, Some(date!(2026 - 11 - 10))),
            secret("ok early a", 30, Some(date!(2026 - 11 - 10))),
            secret("due soon", 30, Some(date!(2026 - 10 - 25))),
            secret("overdue known", 30, Some(date!(2026 - 01 - 01))),
            secret("overdue unknown", 30, None),
        ],
    };

    let report = build_report(&[], 90, Some(&manifest), TODAY);
    let names: Vec<&str> = report.rows().iter().map(|row| row.name.as_str()).collect();

    assert_eq!(
        names,
        [
            "overdue unknown",
            "overdue known",
            "due soon",
            "ok early a",
            "ok early b",
            "ok late"
        ]
    );
}

#[test]
fn report_signing_key_rows() {
    let keys = [
        SigningKeySecret {
            name: "jwt signing key k1".to_owned(),
            location: "data/keys/ed25519-k1.json".to_owned(),
            // 23:30 at UTC-2 is already the next day in UTC.
            last_rotated: Some(datetime!(2026-09-15 23:30 -2)),
        },
        SigningKeySecret {
            name: "jwt signing key k0".to_owned(),
            location: "env JWT_SECRET".to_owned(),
            last_rotated: None,
        },
    ];

    let report = build_report(&keys, 90, None, TODAY);
    let rows = report.rows();

    assert_eq!(report.due_soon_days(), DEFAULT_DUE_SOON_DAYS);
    assert_eq!(report.generated_on(), TODAY);
    assert_eq!(rows.len(), 2);

    assert_eq!(rows[0].name, "jwt signing key k0");
    assert_eq!(rows[0].last_rotated, None);
    assert_eq!(rows[0].next_due, None);
    assert_eq!(rows[0].state, State::Overdue);

    assert_eq!(rows[1].name, "jwt signing key k1");
    assert_eq!(rows[1].rotation_days, 90);
    assert_eq!(rows[1].last_rotated, Some(date!(2026 - 09 - 16)));
    assert_eq!(rows[1].next_due, Some(date!(2026 - 12 - 15)));
    assert_eq!(rows[1].state, State::Ok);

    assert!(report.any_overdue());
}

#[test]
fn report_manifest_due_soon_days_applies_to_keys() {
    // Due on 2026-11-30, ten days after today.
    let keys = [SigningKeySecret {
        name: "jwt signing key k1".to_owned(),
        location: "data/keys/ed25519-k1.json".to_owned(),
        last_rotated: Some(datetime!(2026-09-01 0:00 UTC)),
    }];
    let manifest = Manifest {
        due_soon_days: 5,
        secrets: Vec::new(),
    };

    let default_report = build_report(&keys, 90, None, TODAY);
    let manifest_report = build_report(&keys, 90, Some(&manifest), TODAY);

    assert_eq!(default_report.rows()[0].state, State::DueSoon);
    assert_eq!(manifest_report.due_soon_days(), 5);
    assert_eq!(manifest_report.rows()[0].state, State::Ok);
}

#[test]
fn report_huge_key_period_saturates() {
    let keys = [SigningKeySecret {
        name: "jwt signing key k1".to_owned(),
        location: "env JWT_SECRET".to_owned(),
        last_rotated: Some(datetime!(2026-09-01 0:00 UTC)),
    }];

    let report = build_report(&keys, u32::MAX, None, TODAY);

    assert_eq!(report.rows()[0].next_due, Some(Date::MAX));
    assert_eq!(report.rows()[0].state, State::Ok);
}

#[test]
fn report_only_ok_not_overdue() {
    let manifest = Manifest {
        due_soon_days: 14,
        secrets: vec![secret("database password", 90, Some(date!(2026 - 11 - 01)))],
    };

    let report = build_report(&[], 90, Some(&manifest), TODAY);

    assert!(!report.any_overdue());
}

#[test]
fn state_serializes_snake_case() {
    for state in [State::Overdue, State::DueSoon, State::Ok] {
        let value = serde_json::to_value(state).expect("serialize state");
        assert_eq!(value, state.json_name());
    }
}
