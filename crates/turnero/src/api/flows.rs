//! `GET/PUT/DELETE /flows/main`: a tenant exports its booking flow, edits it and imports it
//! back. An import is checked as a whole and refused with every problem by path; running
//! conversations finish on the version they started with.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use turnero_core::flow::{self, Flow};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{Auth, Query};
use super::AppState;
use crate::agenda::tenants;
use crate::chat::flows;
use crate::error::{Error, PathProblem, Result};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_flow, put_flow, delete_flow))
}

/// A document refused with every problem by its path (`(path, message)`, at least one).
pub(super) fn refused(problems: Vec<(String, String)>) -> Error {
    let n = problems.len();
    let first = problems.first().map(|p| p.0.clone()).unwrap_or_default();
    Error::invalid(
        "invalid_flow",
        first,
        format!("the document has {n} problem(s)"),
    )
    .with_problems(
        problems
            .into_iter()
            .map(|(path, message)| PathProblem { path, message })
            .collect(),
    )
}

/// The flows there are: the booking flow (`main`) and the reminders' answers
/// (`confirmation`, `api::notice_words`).
const CONFIRMATION: &str = "confirmation";

fn only_main(name: &str) -> Result<()> {
    if name != flow::MAIN {
        return Err(Error::not_found("flow"));
    }
    Ok(())
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct FlowQuery {
    /// Export the built-in flow in this language (`es`, `pt`, `en`) instead of the
    /// tenant's current one: a starting point for a flow in another language.
    pub built_in: Option<String>,
}

fn document(f: &Flow, version: i64) -> Result<Response> {
    let body = serde_json::to_vec_pretty(f)?;
    let mut resp = (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response();
    resp.headers_mut()
        .insert("x-flow-version", HeaderValue::from(version));
    Ok(resp)
}

/// The flow document new conversations start on, ready to edit and `PUT` back
/// (`X-Flow-Version` says which version; 0 is the built-in flow in the tenant's locale).
#[utoipa::path(get, path = "/flows/{name}", tag = "flows", params(("name" = String, Path, description = "`main` (the booking flow) or `confirmation` (the words of reminders' answers)"), FlowQuery),
    responses((status = 200, description = "The flow document", content_type = "application/json"), (status = 404, body = crate::error::Problem)))]
async fn get_flow(
    State(s): State<AppState>,
    auth: Auth,
    Path(name): Path<String>,
    Query(q): Query<FlowQuery>,
) -> Result<Response> {
    if name == CONFIRMATION {
        if let Some(lang) = &q.built_in {
            if !["es", "pt", "en"].contains(&lang.as_str()) {
                return Err(Error::invalid(
                    "invalid_language",
                    "built_in",
                    "es, pt or en",
                ));
            }
        }
        return super::notice_words::export(&s, &auth, q.built_in).await;
    }
    only_main(&name)?;
    if let Some(lang) = q.built_in {
        if !["es", "pt", "en"].contains(&lang.as_str()) {
            return Err(Error::invalid(
                "invalid_language",
                "built_in",
                "es, pt or en",
            ));
        }
        return document(&flows::built_in(&lang), 0);
    }
    let tenant = tenants::get(&s.db, &auth.tenant).await?;
    let version = flows::current_version(&s.db, &auth.tenant).await?;
    let f = flows::version(&s.db, &s.chat.flows, &auth.tenant, version, &tenant.locale).await?;
    document(&f, version)
}

/// Imports a flow document as the next version; new conversations start on it.
#[utoipa::path(put, path = "/flows/{name}", tag = "flows", params(("name" = String, Path, description = "`main` (the booking flow) or `confirmation` (the words of reminders' answers)")),
    request_body(content = Object, description = "A flow document (see `GET /flows/main`)", content_type = "application/json"),
    responses((status = 200, description = "The stored document; `X-Flow-Version` is its version"),
              (status = 422, description = "Every problem by path in `problems`", body = crate::error::Problem)))]
async fn put_flow(
    State(s): State<AppState>,
    auth: Auth,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    if name != CONFIRMATION {
        only_main(&name)?;
    }
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case("application/json")
        });
    if !is_json {
        return Err(Error::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the flow as `Content-Type: application/json`",
        ));
    }
    if name == CONFIRMATION {
        return super::notice_words::import(&s, &auth, &body).await;
    }
    let parsed = flow::parse(&body)
        .map_err(|problems| refused(problems.into_iter().map(|p| (p.path, p.message)).collect()))?;
    let version = flows::import(&s.db, &auth.tenant, &parsed, s.clock.now_secs()).await?;
    document(&parsed, version)
}

/// Goes back to the built-in flow (in the tenant's locale) for new conversations.
#[utoipa::path(delete, path = "/flows/{name}", tag = "flows", params(("name" = String, Path, description = "`main` (the booking flow) or `confirmation` (the words of reminders' answers)")),
    responses((status = 204)))]
async fn delete_flow(
    State(s): State<AppState>,
    auth: Auth,
    Path(name): Path<String>,
) -> Result<StatusCode> {
    if name == CONFIRMATION {
        return super::notice_words::reset(&s, &auth).await;
    }
    only_main(&name)?;
    flows::reset(&s.db, &auth.tenant, s.clock.now_secs()).await?;
    Ok(StatusCode::NO_CONTENT)
}
