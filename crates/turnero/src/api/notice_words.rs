//! `/flows/confirmation`: the confirm / cancel / person conversation's words as a document,
//! exported, edited and imported like the booking flow (`/flows/main`), with every problem of
//! an import named by its path.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use turnero_core::notice::Words;

use super::extract::Auth;
use super::AppState;
use crate::error::Result;
use crate::notifications::words;

fn document(w: &Words) -> Result<Response> {
    let body = serde_json::to_vec_pretty(w)?;
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response())
}

pub(super) async fn export(
    s: &AppState,
    auth: &Auth,
    built_in: Option<String>,
) -> Result<Response> {
    match built_in {
        Some(lang) => document(&Words::built_in(&lang)),
        None => document(&words::get(&s.db, &auth.tenant).await?),
    }
}

pub(super) async fn import(s: &AppState, auth: &Auth, body: &[u8]) -> Result<Response> {
    let one = |path: String, message: String| super::flows::refused(vec![(path, message)]);
    let mut reader = serde_json::Deserializer::from_slice(body);
    let parsed: Words = serde_path_to_error::deserialize(&mut reader).map_err(|e| {
        let path = match e.path().to_string().as_str() {
            "." | "" => "body".to_string(),
            p => p.to_string(),
        };
        one(path, e.inner().to_string())
    })?;
    // Trailing bytes after the document are refused like every other body.
    reader
        .end()
        .map_err(|e| one("body".into(), e.to_string()))?;
    let problems = parsed.problems();
    if !problems.is_empty() {
        return Err(super::flows::refused(
            problems.into_iter().map(|p| (p.path, p.message)).collect(),
        ));
    }
    words::put(&s.db, &auth.tenant, &parsed, s.clock.now_secs()).await?;
    document(&parsed)
}

pub(super) async fn reset(s: &AppState, auth: &Auth) -> Result<StatusCode> {
    words::reset(&s.db, &auth.tenant).await?;
    Ok(StatusCode::NO_CONTENT)
}
