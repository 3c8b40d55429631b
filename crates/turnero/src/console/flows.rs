//! The booking flow as a document: exported (shown and downloadable), edited as JSON in the
//! page, imported as the next version with every problem listed by its path (the same
//! `flow::parse` the API's `PUT /flows/main` runs), or set back to the built-in flow. A
//! refused document stays in the editor, so nothing typed is lost. Admins only.

use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use serde::{Deserialize, Serialize};
use turnero_core::flow;

use super::auth::Signed;
use super::words;
use super::{hidden_unless, render, see_other, who, Console};
use crate::agenda::staff::{Role, Session};
use crate::agenda::tenants;
use crate::chat::flows;

#[derive(Serialize)]
struct Problem {
    path: String,
    message: String,
}

/// The current document as pretty JSON, with its version (0: built-in).
async fn current(c: &Console, session: &Session) -> crate::error::Result<(String, i64)> {
    let tenant = &session.user.tenant;
    let locale = tenants::get(&c.db, tenant).await?.locale;
    let version = flows::current_version(&c.db, tenant).await?;
    let f = flows::version(&c.db, &c.chat.flows, tenant, version, &locale).await?;
    Ok((serde_json::to_string_pretty(&*f)?, version))
}

#[derive(Deserialize)]
pub struct PageQuery {
    /// Set after an import, to say so.
    imported: Option<String>,
}

pub async fn page(
    State(c): State<Console>,
    Signed(session): Signed,
    Query(q): Query<PageQuery>,
) -> Response {
    if let Some(r) = hidden_unless(session.user.role == Role::Admin, &session) {
        return r;
    }
    let imported = q.imported.is_some();
    match current(&c, &session).await {
        Ok((text, version)) => shown(&session, StatusCode::OK, &text, version, &[], imported),
        Err(e) => e.into_response(),
    }
}

/// `flow.json`: the document to keep or edit elsewhere.
pub async fn download(State(c): State<Console>, Signed(session): Signed) -> Response {
    if let Some(r) = hidden_unless(session.user.role == Role::Admin, &session) {
        return r;
    }
    match current(&c, &session).await {
        Ok((text, _)) => (
            [
                (header::CONTENT_TYPE, "application/json"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"flow.json\"",
                ),
                (header::CACHE_CONTROL, "no-store"),
            ],
            text,
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}

fn shown(
    session: &Session,
    status: StatusCode,
    text: &str,
    version: i64,
    problems: &[Problem],
    imported: bool,
) -> Response {
    let user = &session.user;
    let t = words::of(&user.locale);
    render(
        status,
        "flows.html",
        minijinja::context! {
            t => t.value(), lang => words::lang(&user.locale), user => who(user),
            csrf => session.csrf_token, text, version, problems, imported,
        },
    )
}

#[derive(Deserialize)]
pub struct ImportForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    document: String,
}

/// Imports the edited document, or shows it again with every problem by path.
pub async fn import(
    State(c): State<Console>,
    signed: Signed,
    Form(f): Form<ImportForm>,
) -> Response {
    if let Some(refused) = signed.form_refusal(&f.csrf, signed.0.user.role == Role::Admin) {
        return refused;
    }
    let session = &signed.0;
    let tenant = &session.user.tenant;
    let parsed = match flow::parse(f.document.as_bytes()) {
        Ok(parsed) => parsed,
        Err(problems) => {
            let version = flows::current_version(&c.db, tenant).await.unwrap_or(0);
            let problems: Vec<Problem> = problems
                .into_iter()
                .map(|p| Problem {
                    path: if p.path.is_empty() {
                        "$".into()
                    } else {
                        p.path
                    },
                    message: p.message,
                })
                .collect();
            return shown(
                session,
                StatusCode::UNPROCESSABLE_ENTITY,
                &f.document,
                version,
                &problems,
                false,
            );
        }
    };
    match flows::import(&c.db, tenant, &parsed, c.clock.now_secs()).await {
        Ok(_) => see_other("/console/flows?imported=1"),
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    csrf: String,
}

/// New conversations start on the built-in flow again.
pub async fn reset(State(c): State<Console>, signed: Signed, Form(f): Form<ResetForm>) -> Response {
    if let Some(refused) = signed.form_refusal(&f.csrf, signed.0.user.role == Role::Admin) {
        return refused;
    }
    let session = &signed.0;
    match flows::reset(&c.db, &session.user.tenant, c.clock.now_secs()).await {
        Ok(_) => see_other("/console/flows"),
        Err(e) => e.into_response(),
    }
}
