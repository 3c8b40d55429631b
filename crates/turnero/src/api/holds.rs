//! Holds: reserve a slot for a few minutes while a conversation finishes, read it, let it go.
//! `POST /bookings` with `hold_id` turns a hold into the booking.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use turnero_core::ids::{BookingId, CalendarId, ServiceId};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::bookings::parse_source;
use super::extract::{Auth, Json};
use super::out::BookingOut;
use super::parse::{body_id, instant, path_id, within};
use super::AppState;
use crate::agenda::bookings::{self, NewHold};
use crate::error::Result;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_hold))
        .routes(routes!(get_hold, release_hold))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HoldIn {
    pub calendar_id: String,
    pub service_id: String,
    #[schema(format = DateTime)]
    pub start: String,
    /// How long to keep it, 1–60 minutes (default 10).
    #[schema(minimum = 1, maximum = 60)]
    pub minutes: Option<i64>,
    pub source: Option<String>,
}

#[utoipa::path(post, path = "/holds", tag = "holds", request_body = HoldIn, responses((status = 201, body = BookingOut), (status = 409, body = crate::error::Problem)))]
async fn create_hold(
    State(s): State<AppState>,
    auth: Auth,
    Json(input): Json<HoldIn>,
) -> Result<(StatusCode, axum::Json<BookingOut>)> {
    let hold = NewHold {
        calendar_id: body_id(&input.calendar_id, "calendar_id", CalendarId::parse)?,
        service_id: body_id(&input.service_id, "service_id", ServiceId::parse)?,
        start: instant(&input.start, "start")?,
        minutes: within(input.minutes.unwrap_or(10), 1..=60, "minutes")?,
        source: parse_source(input.source.as_deref())?,
    };
    let out = bookings::place_hold(&s.db, &auth.tenant, hold, s.clock.now_secs()).await?;
    Ok((StatusCode::CREATED, axum::Json(out.into())))
}

#[utoipa::path(get, path = "/holds/{id}", tag = "holds", responses((status = 200, body = BookingOut)))]
async fn get_hold(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<axum::Json<BookingOut>> {
    let id = path_id(&id, "hold", BookingId::parse)?;
    Ok(axum::Json(
        bookings::get(&s.db, &auth.tenant, &id).await?.into(),
    ))
}

#[utoipa::path(delete, path = "/holds/{id}", tag = "holds", responses((status = 200, body = BookingOut)))]
async fn release_hold(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<axum::Json<BookingOut>> {
    let id = path_id(&id, "hold", BookingId::parse)?;
    Ok(axum::Json(
        bookings::release_hold(&s.db, &auth.tenant, &id, s.clock.now_secs())
            .await?
            .into(),
    ))
}
