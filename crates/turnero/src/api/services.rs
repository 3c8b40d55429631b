//! Services: what can be booked and on which calendars.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use turnero_core::ids::{CalendarId, ServiceId};
use turnero_core::schedule::ServiceTiming;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{Auth, Json};
use super::out::{self, ServiceOut};
use super::parse::{body_id, path_id, within};
use super::AppState;
use crate::agenda::retire::{self, Retired};
use crate::agenda::services::{self, ServiceDef};
use crate::error::Result;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_service, list_services))
        .routes(routes!(get_service, patch_service, delete_service))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceIn {
    pub name: String,
    /// 1 to 720 minutes.
    #[schema(minimum = 1, maximum = 720)]
    pub duration_minutes: i64,
    #[schema(minimum = 0, maximum = 240)]
    pub buffer_before_minutes: Option<i64>,
    #[schema(minimum = 0, maximum = 240)]
    pub buffer_after_minutes: Option<i64>,
    /// Distance between offered starts; defaults to the duration (at least 5).
    #[schema(minimum = 5, maximum = 720)]
    pub slot_interval_minutes: Option<i64>,
    #[serde(default)]
    pub calendar_ids: Vec<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServicePatch {
    pub name: Option<String>,
    #[schema(minimum = 1, maximum = 720)]
    pub duration_minutes: Option<i64>,
    #[schema(minimum = 0, maximum = 240)]
    pub buffer_before_minutes: Option<i64>,
    #[schema(minimum = 0, maximum = 240)]
    pub buffer_after_minutes: Option<i64>,
    #[schema(minimum = 5, maximum = 720)]
    pub slot_interval_minutes: Option<i64>,
    /// Replaces the whole list.
    pub calendar_ids: Option<Vec<String>>,
}

impl TryFrom<ServiceIn> for ServiceDef {
    type Error = crate::error::Error;

    fn try_from(input: ServiceIn) -> Result<Self> {
        let duration = within(input.duration_minutes, 1..=720, "duration_minutes")?;
        let timing = ServiceTiming {
            duration_minutes: duration,
            buffer_before_minutes: within(
                input.buffer_before_minutes.unwrap_or(0),
                0..=240,
                "buffer_before_minutes",
            )?,
            buffer_after_minutes: within(
                input.buffer_after_minutes.unwrap_or(0),
                0..=240,
                "buffer_after_minutes",
            )?,
            slot_interval_minutes: within(
                // A 1–4 minute service is offered every 5 minutes, the shortest interval.
                input
                    .slot_interval_minutes
                    .unwrap_or(i64::from(duration).max(5)),
                5..=720,
                "slot_interval_minutes",
            )?,
        };
        let calendar_ids = input
            .calendar_ids
            .iter()
            .enumerate()
            .map(|(i, c)| body_id(c, &format!("calendar_ids[{i}]"), CalendarId::parse))
            .collect::<Result<Vec<_>>>()?;
        Ok(ServiceDef {
            name: super::parse::name(&input.name, "name", 200)?,
            timing,
            calendar_ids,
        })
    }
}

#[utoipa::path(post, path = "/services", tag = "services", request_body = ServiceIn,
    responses((status = 201, body = ServiceOut), (status = 422, body = crate::error::Problem)))]
async fn create_service(
    State(s): State<AppState>,
    auth: Auth,
    Json(input): Json<ServiceIn>,
) -> Result<(StatusCode, axum::Json<ServiceOut>)> {
    let def = ServiceDef::try_from(input)?;
    let out = services::create(&s.db, &auth.tenant, def, s.clock.now_secs()).await?;
    Ok((StatusCode::CREATED, axum::Json(out.into())))
}

#[utoipa::path(get, path = "/services", tag = "services", responses((status = 200, body = Vec<ServiceOut>)))]
async fn list_services(
    State(s): State<AppState>,
    auth: Auth,
) -> Result<axum::Json<Vec<ServiceOut>>> {
    Ok(axum::Json(out::all(
        services::list(&s.db, &auth.tenant).await?,
    )))
}

#[utoipa::path(get, path = "/services/{id}", tag = "services", responses((status = 200, body = ServiceOut)))]
async fn get_service(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<axum::Json<ServiceOut>> {
    let id = path_id(&id, "service", ServiceId::parse)?;
    Ok(axum::Json(
        services::get(&s.db, &auth.tenant, &id).await?.into(),
    ))
}

#[utoipa::path(patch, path = "/services/{id}", tag = "services", request_body = ServicePatch, responses((status = 200, body = ServiceOut)))]
async fn patch_service(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Json(p): Json<ServicePatch>,
) -> Result<axum::Json<ServiceOut>> {
    let id = path_id(&id, "service", ServiceId::parse)?;
    let cur = services::get(&s.db, &auth.tenant, &id).await?;
    let merged = ServiceIn {
        name: p.name.unwrap_or(cur.name),
        duration_minutes: p
            .duration_minutes
            .unwrap_or(i64::from(cur.duration_minutes)),
        buffer_before_minutes: Some(
            p.buffer_before_minutes
                .unwrap_or(i64::from(cur.buffer_before_minutes)),
        ),
        buffer_after_minutes: Some(
            p.buffer_after_minutes
                .unwrap_or(i64::from(cur.buffer_after_minutes)),
        ),
        slot_interval_minutes: Some(
            p.slot_interval_minutes
                .unwrap_or(i64::from(cur.slot_interval_minutes)),
        ),
        calendar_ids: p.calendar_ids.unwrap_or(cur.calendar_ids),
    };
    let def = ServiceDef::try_from(merged)?;
    Ok(axum::Json(
        services::replace(&s.db, &auth.tenant, &id, def, s.clock.now_secs())
            .await?
            .into(),
    ))
}

/// Deletes a service nothing refers to (204). One holding bookings (or in the AsisteClick
/// map or a reminder rule) is archived instead and answered (200): kept for them, offered on
/// no calendar, not listed, refused changes. Upcoming bookings must be canceled or moved
/// first (409 `service_has_upcoming_bookings`).
#[utoipa::path(delete, path = "/services/{id}", tag = "services", responses((status = 200, body = ServiceOut, description = "archived"), (status = 204, description = "deleted"), (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem)))]
async fn delete_service(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<axum::response::Response> {
    use axum::response::IntoResponse;
    let id = path_id(&id, "service", ServiceId::parse)?;
    let now = s.clock.now_secs();
    Ok(
        match retire::service(&s.db, &auth.tenant, &id, now).await? {
            Retired::Deleted => StatusCode::NO_CONTENT.into_response(),
            Retired::Archived => {
                let archived: ServiceOut = services::get(&s.db, &auth.tenant, &id).await?.into();
                axum::Json(archived).into_response()
            }
        },
    )
}
