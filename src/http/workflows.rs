//! Procurement workflows started on the caller's documents.

use std::collections::HashSet;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use time::OffsetDateTime;

use super::documents::parse_id;
use super::extract::{ApiJson, AuthUser};
use super::pagination::{page_headers, PageQuery};
use crate::audit::AuditStatus;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::state::AppState;
use crate::store::WorkflowRecord;
use crate::timefmt::format_rfc3339;

pub const WORKFLOW_KINDS: [&str; 6] = ["inquiry", "estimation", "normalize_quotes", "comparison", "proposal", "purchase_order"];

/// Most documents one workflow may be started on.
const MAX_DOCUMENTS: usize = 100;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/workflows", get(list).post(create))
        .route("/workflows/{workflow_id}", get(show))
}

#[derive(Deserialize)]
struct CreateWorkflow {
    kind: String,
    document_ids: Vec<String>,
}

async fn create(State(state): State<AppState>, user: AuthUser, ApiJson(body): ApiJson<CreateWorkflow>) -> ApiResult<impl IntoResponse> {
    let mut errors = Vec::new();
    if !WORKFLOW_KINDS.contains(&body.kind.as_str()) {
        errors.push(FieldError::new("kind", format!("must be one of {}", WORKFLOW_KINDS.join(", "))));
    }
    if body.document_ids.is_empty() || body.document_ids.len() > MAX_DOCUMENTS {
        // Checked before the ids one by one, so an oversized list gets one
        // error instead of one per entry.
        errors.push(FieldError::new("document_ids", "must list 1 to 100 document ids"));
        return Err(ApiError::InvalidRequest(errors));
    }
    let mut ids = Vec::with_capacity(body.document_ids.len());
    let mut seen = HashSet::new();
    for (index, raw) in body.document_ids.iter().enumerate() {
        match parse_id("document_ids", raw) {
            Ok(id) if seen.insert(id) => ids.push(id.to_string()),
            Ok(_) => errors.push(FieldError::new(format!("document_ids[{index}]"), "is listed twice")),
            Err(_) => errors.push(FieldError::new(format!("document_ids[{index}]"), "must be a UUID")),
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::InvalidRequest(errors));
    }

    for id in &ids {
        if state.store.document(&user.user_id, id).await?.is_some() {
            continue;
        }
        if state.store.document_exists(id).await? {
            let event = user
                .meta
                .event("UNAUTHORIZED_ACCESS", AuditStatus::Failure)
                .user_email(&user.email)
                .resource("document", id)
                .details(json!({ "action": "start_workflow" }));
            state.audit(event).await?;
        }
        return Err(ApiError::NotFound);
    }

    let workflow = WorkflowRecord {
        id: uuid::Uuid::new_v4().to_string(),
        owner_id: user.user_id.clone(),
        kind: body.kind,
        status: "initiated".into(),
        document_ids: ids,
        created_at: format_rfc3339(OffsetDateTime::now_utc()),
    };
    state.store.create_workflow(&workflow).await?;

    let event = user
        .meta
        .event("WORKFLOW_INITIATED", AuditStatus::Success)
        .user_email(&user.email)
        .resource("workflow", &workflow.id)
        .details(json!({ "kind": workflow.kind, "document_ids": workflow.document_ids }));
    if let Err(err) = state.audit(event).await {
        state.store.delete_workflow(&user.user_id, &workflow.id).await?;
        return Err(err);
    }
    Ok((StatusCode::CREATED, Json(workflow)))
}

async fn list(State(state): State<AppState>, user: AuthUser, query: Result<Query<PageQuery>, axum::extract::rejection::QueryRejection>) -> ApiResult<Response> {
    let page = PageQuery::validate(query)?;
    let result = state.store.list_workflows(&user.user_id, page.per_page, page.offset()).await?;
    Ok((page_headers(result.total, page.per_page), Json(result.items)).into_response())
}

async fn show(State(state): State<AppState>, user: AuthUser, Path(raw_id): Path<String>) -> ApiResult<Json<WorkflowRecord>> {
    let id = parse_id("workflow_id", &raw_id)?.to_string();
    let workflow = state.store.workflow(&user.user_id, &id).await?.ok_or(ApiError::NotFound)?;
    Ok(Json(workflow))
}
