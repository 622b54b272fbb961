//! Starting, reading and listing workflows.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, spawn_app};

#[tokio::test]
async fn workflow_lifecycle() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let rfq = app.upload_sample(&user.tokens.access, "rfq-2026-014.pdf").await;
    let boq = app.upload_sample(&user.tokens.access, "boq-site-works.xlsx").await;
    let ids = json!([rfq["document_id"], boq["document_id"]]);

    let response = app
        .client
        .post(app.url("/workflows"))
        .bearer_auth(&user.tokens.access)
        .json(&json!({ "kind": "estimation", "document_ids": ids }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let created: Value = response.json().await.unwrap();
    assert_eq!(created["kind"], "estimation");
    assert_eq!(created["status"], "initiated");
    assert_eq!(created["document_ids"], ids);
    assert!(created["created_at"].as_str().unwrap().ends_with('Z'));
    let id = created["workflow_id"].as_str().unwrap().to_owned();

    let fetched: Value = app.get_auth(&format!("/workflows/{id}"), &user.tokens.access).await.json().await.unwrap();
    assert_eq!(fetched, created);

    let list = app.get_auth("/workflows", &user.tokens.access).await;
    assert_eq!(list.headers()["x-total-count"], "1");
    let list: Vec<Value> = list.json().await.unwrap();
    assert_eq!(list, vec![created]);

    let other = app.new_user().await;
    let theirs = app.get_auth(&format!("/workflows/{id}"), &other.tokens.access).await;
    assert_problem(theirs, StatusCode::NOT_FOUND, "not_found").await;

    let audited = app.audit_entries().await.into_iter().any(|entry| entry["event_type"] == "WORKFLOW_INITIATED" && entry["resource_id"] == id.as_str());
    assert!(audited);
}

#[tokio::test]
async fn workflow_input_checked() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let doc = app.upload_sample(&user.tokens.access, "rfq-2026-014.pdf").await;
    let cases = [
        (json!({ "kind": "teleport", "document_ids": [doc["document_id"]] }), StatusCode::BAD_REQUEST, "invalid_request"),
        (json!({ "kind": "inquiry", "document_ids": [] }), StatusCode::BAD_REQUEST, "invalid_request"),
        (json!({ "kind": "inquiry", "document_ids": ["nope"] }), StatusCode::BAD_REQUEST, "invalid_request"),
        (json!({ "kind": "inquiry", "document_ids": [doc["document_id"], doc["document_id"]] }), StatusCode::BAD_REQUEST, "invalid_request"),
        (json!({ "kind": "inquiry" }), StatusCode::BAD_REQUEST, "invalid_request"),
        (json!({ "kind": "inquiry", "document_ids": "x" }), StatusCode::BAD_REQUEST, "invalid_request"),
        (json!({ "kind": "inquiry", "document_ids": [uuid::Uuid::new_v4().to_string()] }), StatusCode::NOT_FOUND, "not_found"),
    ];
    for (body, status, code) in cases {
        let response = app.client.post(app.url("/workflows")).bearer_auth(&user.tokens.access).json(&body).send().await.unwrap();
        assert_problem(response, status, code).await;
    }
    let list = app.get_auth("/workflows", &user.tokens.access).await;
    assert_eq!(list.headers()["x-total-count"], "0");
}
