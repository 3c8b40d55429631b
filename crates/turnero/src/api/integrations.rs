//! `PUT/GET/DELETE /integrations/asisteclick` (turnero as the agenda AsisteClick consults) and
//! `GET /bookings/{id}/external` (what other systems told us about a booking).

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use turnero_core::ids::{BookingId, CalendarId, ServiceId};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{Auth, Json};
use super::out::{self, ExternalRefOut};
use super::parse::{body_id, path_id};
use super::AppState;
use crate::asisteclick::integration::{self, Integration, Target, Wanted};
use crate::error::{Error, Result};
use turnero_core::time::fmt_ts;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(
            put_asisteclick,
            get_asisteclick,
            delete_asisteclick
        ))
        .routes(routes!(booking_external))
        .routes(routes!(asisteclick_conflicts))
}

/// An AsisteClick calendar's turnero calendar: its id, or the calendar and the service that
/// gives the appointment's length (by default the calendar's first service).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum TargetIn {
    Calendar(String),
    #[serde(rename_all = "snake_case")]
    Detailed {
        calendar_id: String,
        service_id: Option<String>,
    },
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AsisteClickIn {
    /// What AsisteClick sends as `AsisteClick-Access-Token` with callbacks (stored hashed).
    pub access_token: String,
    /// AsisteClick `calendar_id` → turnero calendar, e.g. `{"5": "cal_…"}`.
    #[schema(value_type = Object)]
    pub calendar_map: BTreeMap<String, TargetIn>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AsisteClickOut {
    /// Paste into AsisteClick's "API endpoint" (availability).
    pub availability_url: String,
    /// Paste into AsisteClick's "Callback API endpoint".
    pub callback_url: String,
    pub calendar_map: BTreeMap<String, Target>,
    pub created_at: String,
    pub updated_at: String,
}

fn out(i: Integration, base: &str) -> AsisteClickOut {
    let base = format!("{}/compat/asisteclick/{}", base, i.path_key);
    AsisteClickOut {
        availability_url: format!("{base}/availability"),
        callback_url: format!("{base}/callback"),
        calendar_map: i.calendar_map,
        created_at: fmt_ts(i.created_at),
        updated_at: fmt_ts(i.updated_at),
    }
}

#[utoipa::path(put, path = "/integrations/asisteclick", tag = "integrations", request_body = AsisteClickIn,
    responses((status = 200, body = AsisteClickOut), (status = 422, body = crate::error::Problem)))]
async fn put_asisteclick(
    State(s): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    Json(input): Json<AsisteClickIn>,
) -> Result<axum::Json<AsisteClickOut>> {
    let token = input.access_token.trim();
    if token.len() < 8 || token.len() > 500 {
        return Err(Error::invalid(
            "invalid_access_token",
            "access_token",
            "8 to 500 characters",
        ));
    }
    if input.calendar_map.is_empty() {
        return Err(Error::invalid(
            "empty_calendar_map",
            "calendar_map",
            "map at least one AsisteClick calendar_id",
        ));
    }
    let mut wanted = Vec::new();
    for (key, target) in input.calendar_map {
        let field = format!("calendar_map.{key}");
        if key.trim().is_empty() {
            return Err(Error::invalid("invalid_calendar_map", field, "empty key"));
        }
        let (calendar, service) = match target {
            TargetIn::Calendar(c) => (c, None),
            TargetIn::Detailed {
                calendar_id,
                service_id,
            } => (calendar_id, service_id),
        };
        wanted.push(Wanted {
            calendar: body_id(&calendar, &field, CalendarId::parse)?,
            service: service
                .map(|sv| body_id(&sv, &format!("{field}.service_id"), ServiceId::parse))
                .transpose()?,
            asisteclick_id: key.trim().to_string(),
        });
    }
    let saved = integration::put(&s.db, &auth.tenant, token, wanted, s.clock.now_secs()).await?;
    Ok(axum::Json(out(saved, &s.public_base(&headers))))
}

#[utoipa::path(get, path = "/integrations/asisteclick", tag = "integrations",
    responses((status = 200, body = AsisteClickOut), (status = 404, body = crate::error::Problem)))]
async fn get_asisteclick(
    State(s): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
) -> Result<axum::Json<AsisteClickOut>> {
    let found = integration::get(&s.db, &auth.tenant)
        .await?
        .ok_or_else(|| Error::not_found("integration"))?;
    Ok(axum::Json(out(found, &s.public_base(&headers))))
}

#[utoipa::path(delete, path = "/integrations/asisteclick", tag = "integrations", responses((status = 204)))]
async fn delete_asisteclick(State(s): State<AppState>, auth: Auth) -> Result<StatusCode> {
    if !integration::delete(&s.db, &auth.tenant).await? {
        return Err(Error::not_found("integration"));
    }
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/bookings/{id}/external", tag = "bookings",
    responses((status = 200, body = Vec<ExternalRefOut>), (status = 404, body = crate::error::Problem)))]
async fn booking_external(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<axum::Json<Vec<ExternalRefOut>>> {
    let id = path_id(&id, "booking", BookingId::parse)?;
    let refs = crate::agenda::bookings::external_refs(&s.db, &auth.tenant, &id).await?;
    Ok(axum::Json(out::all(refs)))
}

/// A booking AsisteClick's bot made that turnero could not keep.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConflictOut {
    pub id: String,
    /// The booking's key in AsisteClick.
    pub public_key: String,
    pub calendar_id: Option<String>,
    pub start: Option<String>,
    /// Why it could not be kept (`slot_unavailable`…), and in words.
    pub code: String,
    pub detail: String,
    /// The callback as AsisteClick sent it: the customer to call, the ticket, the transcript.
    #[schema(value_type = Object)]
    pub callback: serde_json::Value,
    pub created_at: String,
}

/// Bookings AsisteClick's bot made that could not be kept (the time was taken meanwhile),
/// newest first: each patient believes they have an appointment (`booking.conflict`).
#[utoipa::path(get, path = "/integrations/asisteclick/conflicts", tag = "integrations",
    responses((status = 200, body = Vec<ConflictOut>)))]
async fn asisteclick_conflicts(
    State(s): State<AppState>,
    auth: Auth,
) -> Result<axum::Json<Vec<ConflictOut>>> {
    let list = crate::asisteclick::conflicts::list(&s.db, &auth.tenant, 500).await?;
    Ok(axum::Json(
        list.into_iter()
            .map(|c| ConflictOut {
                id: c.id,
                public_key: c.public_key,
                calendar_id: c.calendar_id,
                start: c.start.map(fmt_ts),
                code: c.code,
                detail: c.detail,
                callback: c.callback,
                created_at: fmt_ts(c.created_at),
            })
            .collect(),
    ))
}
