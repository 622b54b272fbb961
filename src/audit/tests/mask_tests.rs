use serde_json::Value;

use super::super::{mask_email, AuditEvent, AuditLog, AuditStatus, INVALID_EMAIL, UNKNOWN_EMAIL};

#[test]
fn mask_email_table() {
    let cases = [
        ("jane.doe@example.com", "j******e@example.com"),
        ("abc@x.test", "a*c@x.test"),
        ("a@x.test", "a*@x.test"),
        ("ab@x.test", "a*@x.test"),
        ("a@b@x.test", INVALID_EMAIL),
        ("no-at-sign.example.com", INVALID_EMAIL),
        ("@x.test", INVALID_EMAIL),
        ("", UNKNOWN_EMAIL),
        ("jöhn@exämple.com", "j**n@exämple.com"),
        ("é@x.test", "é*@x.test"),
        ("日本語@例え.jp", "日*語@例え.jp"),
        ("😀x😀@x.test", "😀*😀@x.test"),
        ("a@", "a*@"),
    ];
    for (email, expected) in cases {
        assert_eq!(mask_email(email), expected, "masking {email:?}");
    }
}

#[test]
fn mask_email_keeps_control_characters() {
    assert_eq!(mask_email("a\"b\nc@x.test"), "a***c@x.test");
    assert_eq!(mask_email("ab@x\"\n\r\u{1b}.test"), "a*@x\"\n\r\u{1b}.test");
}

#[test]
fn event_builder_masks_and_defaults() {
    let event = AuditEvent::new("USER_LOGIN", AuditStatus::Failure);
    assert_eq!(event.user, "ANONYMOUS");
    assert_eq!(event.resource_id, None);
    assert_eq!(event.details, serde_json::json!({}));

    let event = event.user_email("jane.doe@example.com");
    assert_eq!(event.user, "j******e@example.com");
    assert_eq!(event.anonymous().user, "ANONYMOUS");

    let wrapped = AuditEvent::new("X", AuditStatus::Success).details(serde_json::json!([1, 2]));
    assert_eq!(wrapped.details, serde_json::json!({ "value": [1, 2] }));
    let cleared = AuditEvent::new("X", AuditStatus::Success).details(Value::Null);
    assert_eq!(cleared.details, serde_json::json!({}));
}

/// Quotes, newlines and control characters in user-supplied values must stay inside
/// one escaped JSON line.
#[tokio::test]
async fn control_characters_stay_on_one_line() {
    let dir = tempfile::tempdir().expect("create temp dir");
    let config = super::test_config(dir.path(), 1024 * 1024, 2);
    let log = AuditLog::open(config.clone())
        .await
        .expect("open audit log");

    let email = "ev\"il\nname@x\r\n.test\u{0}\u{1b}\u{2028}";
    let request_id = "req\n{\"seq\":99}";
    let event = AuditEvent::new("USER_LOGIN_FAILED", AuditStatus::Failure)
        .user_email(email)
        .resource_type("session")
        .details(serde_json::json!({ "reason": "bad\npassword\"" }))
        .request(request_id, "::1");
    log.record(event).await.expect("record entry");
    log.shutdown().await;

    let text = std::fs::read_to_string(&config.path).expect("read log");
    assert_eq!(
        text.matches('\n').count(),
        1,
        "log must contain exactly one line: {text:?}"
    );
    let entries = super::read_entries(&config.path);
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].user, mask_email(email));
    assert_eq!(entries[0].request_id, request_id);
    assert_eq!(entries[0].resource_id, None);
    assert_eq!(entries[0].details["reason"], "bad\npassword\"");
}
