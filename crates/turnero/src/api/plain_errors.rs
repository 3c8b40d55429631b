//! Every error answer in the one shape clients parse: a 4xx that axum itself writes as plain
//! text (a body over the limit while reading `Bytes`, a query string that does not parse)
//! becomes problem+json with the same status, or the seed's `{"error"}` shape on the
//! AsisteClick URLs. Answers already in JSON pass untouched.

use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::error::Error;

fn code_for(status: StatusCode) -> &'static str {
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => "body_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNPROCESSABLE_ENTITY => "invalid_field",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        _ => "bad_request",
    }
}

pub async fn as_problems(req: Request, next: Next) -> Response {
    let seeds_shape = req.uri().path().starts_with("/compat/asisteclick/");
    let resp = next.run(req).await;
    let status = resp.status();
    let json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.contains("json"));
    if !status.is_client_error() || json {
        return resp;
    }
    // axum's own rejection text says what was wrong; it holds nothing secret.
    let text = axum::body::to_bytes(resp.into_body(), 4096)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_default();
    let detail = if text.is_empty() {
        status
            .canonical_reason()
            .unwrap_or("bad request")
            .to_string()
    } else {
        text
    };
    if seeds_shape {
        let body = json!({"error": detail, "code": code_for(status)});
        return (status, axum::Json(body)).into_response();
    }
    Error::new(status, code_for(status), detail).into_response()
}
