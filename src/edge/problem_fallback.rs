//! Turns error responses that did not come from our handlers (axum's 405,
//! tower-http's 413 and 408, a caught panic) into problem+json, so every
//! error a client sees has the same shape.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;

use crate::error::{problem_response, PROBLEM_JSON};

/// Returns the response unchanged unless it is an error without a
/// problem+json body, which it replaces by one for the same status.
pub fn convert(response: Response) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    // Our handlers return errors as problem+json already, and the health
    // check's 503 is a JSON report the contract defines; both pass as they are.
    let is_ours = response.headers().get(header::CONTENT_TYPE).is_some_and(|value| {
        let bytes = value.as_bytes();
        bytes.starts_with(PROBLEM_JSON.as_bytes()) || bytes.starts_with(b"application/json")
    });
    if is_ours {
        return response;
    }

    let (code, detail) = match status {
        StatusCode::BAD_REQUEST => ("invalid_request", "Invalid request format"),
        StatusCode::NOT_FOUND => ("not_found", "The requested resource was not found."),
        StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", "This method is not allowed on this resource."),
        StatusCode::REQUEST_TIMEOUT => ("request_timeout", "The request took too long and was abandoned."),
        StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", "Request body too large."),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ("unsupported_media_type", "The request's Content-Type is not accepted here."),
        StatusCode::UNPROCESSABLE_ENTITY => ("invalid_request", "Invalid request format"),
        StatusCode::SERVICE_UNAVAILABLE => ("unavailable", "The service is unavailable. Try again later."),
        status if status.is_server_error() => ("internal_error", "The server failed to handle the request. Try again later."),
        _ => ("error", "The request failed."),
    };
    // A 422 from an extractor means invalid input, which this API reports as 400.
    let status = if status == StatusCode::UNPROCESSABLE_ENTITY { StatusCode::BAD_REQUEST } else { status };

    // Only the body and its type change: CORS, Vary, Allow, Retry-After and
    // the rest of what the original carried still apply to the error.
    let (mut parts, _) = response.into_parts();
    let problem = problem_response(status, code, detail, None);
    parts.status = status;
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    let (_, body) = problem.into_parts();
    Response::from_parts(parts, body)
}
