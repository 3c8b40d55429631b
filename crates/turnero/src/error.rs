//! The one error type. Clients get RFC 9457 problem+json with a stable `code` (and the
//! offending `field` when there is one); internal failures are logged with their cause
//! chain and answered with a bare 500.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug)]
pub enum Error {
    /// A problem the client can fix or should know about.
    Problem(Problem),
    /// Something broke on our side; never shown to the client.
    Internal(anyhow::Error),
}

/// An RFC 9457 problem document.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: &'static str,
    pub status: u16,
    pub detail: String,
    /// Stable, machine-readable reason, e.g. `slot_unavailable`.
    pub code: &'static str,
    /// Path of the offending input, e.g. `weekly_hours[0].start` or `customer.phone`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Every problem of a document checked as a whole (an imported flow), by path.
    #[serde(skip_serializing_if = "Option::is_none")]
    // Boxed: every `Result` in the crate carries this type, so it stays small.
    #[schema(value_type = Option<Vec<PathProblem>>)]
    pub problems: Option<Box<Vec<PathProblem>>>,
    /// Seconds to wait before trying again (sent as `Retry-After`).
    #[serde(skip)]
    pub retry_after: Option<u16>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PathProblem {
    pub path: String,
    pub message: String,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The problem a caller can act on, apart from an internal failure (which stays one).
    pub fn refusal(self) -> std::result::Result<Problem, anyhow::Error> {
        match self {
            Error::Problem(p) => Ok(p),
            Error::Internal(e) => Err(e),
        }
    }

    /// The stable code of a refusal; `None` for an internal failure.
    pub fn code(&self) -> Option<&'static str> {
        match self {
            Error::Problem(p) => Some(p.code),
            Error::Internal(_) => None,
        }
    }

    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Error::Problem(Problem {
            kind: format!("https://turnero.dev/problems/{code}"),
            title: status.canonical_reason().unwrap_or("Error"),
            status: status.as_u16(),
            detail: detail.into(),
            code,
            field: None,
            problems: None,
            retry_after: None,
        })
    }

    /// Too many requests: 429 with `Retry-After`.
    pub fn rate_limited(what: &str, retry_after_secs: u64) -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("too many {what}; try again in {retry_after_secs} s"),
        );
        if let Error::Problem(p) = &mut e {
            p.retry_after = Some(retry_after_secs.clamp(1, 3600) as u16);
        }
        e
    }

    /// A value that does not make sense: 422 with the field's path.
    pub fn invalid(code: &'static str, field: impl Into<String>, detail: impl ToString) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, detail.to_string()).at(field)
    }

    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, detail)
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found"),
        )
    }

    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, detail)
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "send a valid API key as `Authorization: Bearer <key>`",
        )
    }

    /// Lists every problem found in a document.
    pub fn with_problems(self, problems: Vec<PathProblem>) -> Self {
        match self {
            Error::Problem(mut p) => {
                p.problems = Some(Box::new(problems));
                Error::Problem(p)
            }
            other => other,
        }
    }

    /// Attaches the path of the offending input.
    pub fn at(self, field: impl Into<String>) -> Self {
        match self {
            Error::Problem(mut p) => {
                p.field = Some(field.into());
                Error::Problem(p)
            }
            other => other,
        }
    }
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        Error::Internal(anyhow::Error::new(e).context("database"))
    }
}

impl From<anyhow::Error> for Error {
    fn from(e: anyhow::Error) -> Self {
        Error::Internal(e)
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::Internal(anyhow::Error::new(e).context("json"))
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        match self {
            Error::Problem(p) => {
                let status = StatusCode::from_u16(p.status).unwrap_or(StatusCode::BAD_REQUEST);
                let body = serde_json::to_vec(&p).unwrap_or_default();
                let mut resp = (
                    status,
                    [(header::CONTENT_TYPE, "application/problem+json")],
                    body,
                )
                    .into_response();
                if let Some(secs) = p.retry_after {
                    resp.headers_mut()
                        .insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
                }
                if status == StatusCode::UNAUTHORIZED && p.code == "unauthorized" {
                    // RFC 6750: say which scheme the key goes in.
                    resp.headers_mut().insert(
                        header::WWW_AUTHENTICATE,
                        header::HeaderValue::from_static("Bearer realm=\"turnero\""),
                    );
                }
                resp
            }
            Error::Internal(e) => {
                tracing::error!(error = format!("{e:#}"), "internal error");
                StatusCode::INTERNAL_SERVER_ERROR.into_response()
            }
        }
    }
}
