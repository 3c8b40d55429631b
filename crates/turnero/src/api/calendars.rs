//! Calendars, their date overrides and time off.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use jiff::civil::Date;
use serde::Deserialize;
use turnero_core::capacity::Interval;
use turnero_core::ids::{CalendarId, TimeOffId};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{Auth, Json};
use super::out::{self, CalendarOut, OverrideOut, TimeOffOut};
use super::parse::{instant, opt_text, path_id, within};
use super::AppState;
use crate::agenda::calendars::{
    self, canonical_weekly, parse_range, parse_weekly, parse_zone, CalendarDef, HoursRange,
    PolicyDto, WeeklyRange, KINDS,
};
use crate::agenda::retire::{self, Retired};
use crate::agenda::tenants;
use crate::error::{Error, Result};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_calendar, list_calendars))
        .routes(routes!(get_calendar, patch_calendar, delete_calendar))
        .routes(routes!(list_overrides))
        .routes(routes!(put_override, delete_override))
        .routes(routes!(add_time_off, list_time_off))
        .routes(routes!(delete_time_off))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarIn {
    pub name: String,
    /// IANA zone; defaults to the tenant's.
    pub timezone: Option<String>,
    /// `professional` (default), `room` or `resource`.
    pub kind: Option<String>,
    pub location: Option<String>,
    /// How many bookings may overlap at once (default 1).
    #[schema(minimum = 1, maximum = 1000)]
    pub capacity: Option<i64>,
    #[serde(default)]
    pub weekly_hours: Vec<WeeklyRange>,
    pub policy: Option<PolicyDto>,
}

/// Any subset of a calendar's fields; `weekly_hours` replaces the whole week.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarPatch {
    pub name: Option<String>,
    pub timezone: Option<String>,
    pub kind: Option<String>,
    pub location: Option<String>,
    #[schema(minimum = 1, maximum = 1000)]
    pub capacity: Option<i64>,
    pub weekly_hours: Option<Vec<WeeklyRange>>,
    pub policy: Option<PolicyDto>,
}

/// A calendar as sent, checked whole (the console's form is checked here too).
pub fn validate(input: CalendarIn) -> Result<CalendarDef> {
    let name = super::parse::name(&input.name, "name", 200)?;
    let zone = parse_zone(&input.timezone.unwrap_or_default(), "timezone")?;
    let kind = input.kind.unwrap_or_else(|| "professional".into());
    if !KINDS.contains(&kind.as_str()) {
        return Err(Error::invalid(
            "invalid_kind",
            "kind",
            "one of professional, room, resource",
        ));
    }
    let capacity = within(input.capacity.unwrap_or(1), 1..=1000, "capacity")?;
    let weekly = parse_weekly(&input.weekly_hours)?;
    let policy = input.policy.unwrap_or_default();
    policy.validate("policy")?;
    Ok(CalendarDef {
        name,
        kind,
        zone,
        location: opt_text(input.location.as_deref(), "location", 500)?,
        capacity,
        weekly,
        policy: policy.to_core(),
    })
}

#[utoipa::path(post, path = "/calendars", tag = "calendars", request_body = CalendarIn,
    responses((status = 201, body = CalendarOut), (status = 422, body = crate::error::Problem)))]
async fn create_calendar(
    State(s): State<AppState>,
    auth: Auth,
    Json(mut input): Json<CalendarIn>,
) -> Result<(StatusCode, axum::Json<CalendarOut>)> {
    if input.timezone.is_none() {
        input.timezone = Some(tenants::get(&s.db, &auth.tenant).await?.timezone);
    }
    let def = validate(input)?;
    let out = calendars::create(&s.db, &auth.tenant, def, s.clock.now_secs()).await?;
    Ok((StatusCode::CREATED, axum::Json(out.into())))
}

#[utoipa::path(get, path = "/calendars", tag = "calendars", responses((status = 200, body = Vec<CalendarOut>)))]
async fn list_calendars(
    State(s): State<AppState>,
    auth: Auth,
) -> Result<axum::Json<Vec<CalendarOut>>> {
    Ok(axum::Json(out::all(
        calendars::list(&s.db, &auth.tenant).await?,
    )))
}

#[utoipa::path(get, path = "/calendars/{id}", tag = "calendars", responses((status = 200, body = CalendarOut), (status = 404, body = crate::error::Problem)))]
async fn get_calendar(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<axum::Json<CalendarOut>> {
    let id = path_id(&id, "calendar", CalendarId::parse)?;
    Ok(axum::Json(
        calendars::get(&s.db, &auth.tenant, &id).await?.into(),
    ))
}

#[utoipa::path(patch, path = "/calendars/{id}", tag = "calendars", request_body = CalendarPatch, responses((status = 200, body = CalendarOut)))]
async fn patch_calendar(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Json(p): Json<CalendarPatch>,
) -> Result<axum::Json<CalendarOut>> {
    let id = path_id(&id, "calendar", CalendarId::parse)?;
    let current = calendars::get(&s.db, &auth.tenant, &id).await?;
    let merged = CalendarIn {
        timezone: Some(p.timezone.unwrap_or_else(|| current.timezone().to_string())),
        name: p.name.unwrap_or(current.name),
        kind: Some(p.kind.unwrap_or(current.kind)),
        location: p.location.or(current.location),
        capacity: Some(p.capacity.unwrap_or(i64::from(current.capacity))),
        weekly_hours: p
            .weekly_hours
            .unwrap_or_else(|| canonical_weekly(&current.weekly)),
        policy: Some(p.policy.unwrap_or(current.policy.into())),
    };
    let def = validate(merged)?;
    Ok(axum::Json(
        calendars::replace(&s.db, &auth.tenant, &id, def, s.clock.now_secs())
            .await?
            .into(),
    ))
}

/// Deletes a calendar nothing refers to (204). One holding bookings (or named by a webhook,
/// the AsisteClick map or a reminder rule) is archived instead and answered (200): kept for
/// them, offered no more, not listed, refused changes. Upcoming bookings must be canceled or
/// moved first (409 `calendar_has_upcoming_bookings`).
#[utoipa::path(delete, path = "/calendars/{id}", tag = "calendars", responses((status = 200, body = CalendarOut, description = "archived"), (status = 204, description = "deleted"), (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem)))]
async fn delete_calendar(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<axum::response::Response> {
    use axum::response::IntoResponse;
    let id = path_id(&id, "calendar", CalendarId::parse)?;
    let now = s.clock.now_secs();
    Ok(
        match retire::calendar(&s.db, &auth.tenant, &id, now).await? {
            Retired::Deleted => StatusCode::NO_CONTENT.into_response(),
            Retired::Archived => {
                let archived: CalendarOut = calendars::get(&s.db, &auth.tenant, &id).await?.into();
                axum::Json(archived).into_response()
            }
        },
    )
}

/// A date override: either `{"closed": true}` or `{"hours": [{"start", "end"}, …]}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OverrideIn {
    #[serde(default)]
    pub closed: bool,
    #[serde(default)]
    pub hours: Vec<HoursRange>,
}

fn parse_date(raw: &str) -> Result<Date> {
    raw.parse()
        .map_err(|_| Error::invalid("invalid_date", "date", "expected a date as YYYY-MM-DD"))
}

#[utoipa::path(get, path = "/calendars/{id}/overrides", tag = "calendars", responses((status = 200, body = Vec<OverrideOut>)))]
async fn list_overrides(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<axum::Json<Vec<OverrideOut>>> {
    let id = path_id(&id, "calendar", CalendarId::parse)?;
    Ok(axum::Json(out::all(
        calendars::list_overrides(&s.db, &auth.tenant, &id).await?,
    )))
}

#[utoipa::path(put, path = "/calendars/{id}/overrides/{date}", tag = "calendars", request_body = OverrideIn, responses((status = 200, body = OverrideOut)))]
async fn put_override(
    State(s): State<AppState>,
    auth: Auth,
    Path((id, date)): Path<(String, String)>,
    Json(input): Json<OverrideIn>,
) -> Result<axum::Json<OverrideOut>> {
    let id = path_id(&id, "calendar", CalendarId::parse)?;
    let day = parse_date(&date)?;
    if input.closed != input.hours.is_empty() {
        return Err(Error::invalid(
            "invalid_override",
            "hours",
            "send either closed: true or a non-empty list of hours",
        ));
    }
    let ranges = input
        .hours
        .iter()
        .enumerate()
        .map(|(i, h)| parse_range(&h.start, &h.end, &format!("hours[{i}]")))
        .collect::<Result<Vec<_>>>()?;
    Ok(axum::Json(
        calendars::put_override(&s.db, &auth.tenant, &id, day, ranges, s.clock.now_secs())
            .await?
            .into(),
    ))
}

#[utoipa::path(delete, path = "/calendars/{id}/overrides/{date}", tag = "calendars", responses((status = 204)))]
async fn delete_override(
    State(s): State<AppState>,
    auth: Auth,
    Path((id, date)): Path<(String, String)>,
) -> Result<StatusCode> {
    let id = path_id(&id, "calendar", CalendarId::parse)?;
    calendars::delete_override(
        &s.db,
        &auth.tenant,
        &id,
        parse_date(&date)?,
        s.clock.now_secs(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TimeOffIn {
    /// RFC 3339 instant.
    #[schema(format = DateTime)]
    pub start: String,
    #[schema(format = DateTime)]
    pub end: String,
    pub reason: Option<String>,
}

#[utoipa::path(post, path = "/calendars/{id}/time-off", tag = "calendars", request_body = TimeOffIn, responses((status = 201, body = TimeOffOut)))]
async fn add_time_off(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Json(input): Json<TimeOffIn>,
) -> Result<(StatusCode, axum::Json<TimeOffOut>)> {
    let id = path_id(&id, "calendar", CalendarId::parse)?;
    let span = Interval::new(instant(&input.start, "start")?, instant(&input.end, "end")?);
    let reason = opt_text(input.reason.as_deref(), "reason", 500)?;
    let out =
        calendars::add_time_off(&s.db, &auth.tenant, &id, span, reason, s.clock.now_secs()).await?;
    Ok((StatusCode::CREATED, axum::Json(out.into())))
}

#[utoipa::path(get, path = "/calendars/{id}/time-off", tag = "calendars", responses((status = 200, body = Vec<TimeOffOut>)))]
async fn list_time_off(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<axum::Json<Vec<TimeOffOut>>> {
    let id = path_id(&id, "calendar", CalendarId::parse)?;
    Ok(axum::Json(out::all(
        calendars::list_time_off(&s.db, &auth.tenant, &id).await?,
    )))
}

#[utoipa::path(delete, path = "/calendars/{id}/time-off/{time_off_id}", tag = "calendars", responses((status = 204)))]
async fn delete_time_off(
    State(s): State<AppState>,
    auth: Auth,
    Path((id, off)): Path<(String, String)>,
) -> Result<StatusCode> {
    let id = path_id(&id, "calendar", CalendarId::parse)?;
    let off = path_id(&off, "time off", TimeOffId::parse)?;
    calendars::delete_time_off(&s.db, &auth.tenant, &id, &off, s.clock.now_secs()).await?;
    Ok(StatusCode::NO_CONTENT)
}
