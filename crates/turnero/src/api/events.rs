//! `GET /events`: the outbox, for consumers that poll or backfill instead of (or besides)
//! receiving webhooks.

use axum::extract::State;
use serde::Deserialize;
use turnero_core::event;
use turnero_core::ids::EventId;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{Auth, Query};
use super::out::{EventOut, Page};
use super::parse::{instant, within};
use super::AppState;
use crate::agenda::events::{self, EventFilter};
use crate::error::{Error, Result};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_events))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct EventsQuery {
    /// An event type (`booking.created`) or a category wildcard (`booking.*`).
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub kind: Option<String>,
    /// Events at or after this instant.
    #[param(format = DateTime)]
    pub since: Option<String>,
    /// Events before this instant.
    #[param(format = DateTime)]
    pub until: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// 1–500, default 100.
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

#[utoipa::path(get, path = "/events", tag = "events", params(EventsQuery), responses((status = 200, body = Page<EventOut>)))]
async fn list_events(
    State(s): State<AppState>,
    auth: Auth,
    Query(q): Query<EventsQuery>,
) -> Result<axum::Json<Page<EventOut>>> {
    if let Some(k) = q.kind.as_deref() {
        if k == "*" || !event::is_valid_pattern(k) {
            return Err(Error::invalid(
                "unknown_event_type",
                "type",
                format!("`{k}` is not an event type or a `category.*` wildcard"),
            ));
        }
    }
    let after = q
        .cursor
        .as_deref()
        .map(|c| {
            EventId::parse(c).map(EventId::into_string).map_err(|_| {
                Error::invalid("invalid_cursor", "cursor", "not a cursor from this API")
            })
        })
        .transpose()?;
    let limit = within(q.limit.unwrap_or(100), 1..=500, "limit")?;
    let filter = EventFilter {
        kind: q.kind,
        since: q
            .since
            .as_deref()
            .map(|v| instant(v, "since"))
            .transpose()?,
        until: q
            .until
            .as_deref()
            .map(|v| instant(v, "until"))
            .transpose()?,
        after,
        limit: i64::from(limit),
    };
    let list = events::list(&s.db, &auth.tenant, &filter).await?;
    Ok(axum::Json(Page::of(list, limit, |e| e.id.clone())))
}
