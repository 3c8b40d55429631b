//! Bookings: create (optionally from a hold, with `Idempotency-Key`), list, read,
//! confirm, cancel, complete, mark no-show, reschedule, and read the history.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use turnero_core::booking::{Action, Status};
use turnero_core::ids::{BookingId, CalendarId, CustomerId, ServiceId};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::customers::{parse_customer, CustomerIn};
use super::extract::{Auth, Json, Query};
use super::out::{self, BookingOut, HistoryOut, Page};
use super::parse::{body_id, custom_fields, instant, opt_text, path_id, within};
use super::AppState;
use crate::agenda::bookings::history;
use crate::agenda::bookings::{self, BookingFilter, CustomerRef, IdempotencyRecord, NewBooking};
use crate::agenda::idempotency;
use crate::error::{Error, Result};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_booking, list_bookings))
        .routes(routes!(get_booking))
        .routes(routes!(booking_history))
        .routes(routes!(confirm_booking))
        .routes(routes!(cancel_booking))
        .routes(routes!(complete_booking))
        .routes(routes!(no_show_booking))
        .routes(routes!(reschedule_booking))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BookingIn {
    pub calendar_id: String,
    pub service_id: String,
    /// RFC 3339 instant with offset.
    #[schema(format = DateTime)]
    pub start: String,
    /// Matched by phone, created if new. Either this or `customer_id`.
    pub customer: Option<CustomerIn>,
    pub customer_id: Option<String>,
    /// Use this hold (from `POST /holds`); the booking keeps the hold's id.
    pub hold_id: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub custom_fields: Option<Map<String, Value>>,
    pub notes: Option<String>,
    /// Defaults to `api`.
    pub source: Option<String>,
}

const SOURCES: [&str; 6] = ["api", "chat", "asisteclick", "admin", "import", "demo"];

pub(super) fn parse_source(raw: Option<&str>) -> Result<String> {
    let s = raw.unwrap_or("api");
    if !SOURCES.contains(&s) {
        return Err(Error::invalid(
            "invalid_source",
            "source",
            format!("one of {}", SOURCES.join(", ")),
        ));
    }
    Ok(s.to_string())
}

fn parse_booking(input: BookingIn, region: &str) -> Result<NewBooking> {
    let customer = match (input.customer, input.customer_id) {
        (Some(_), Some(_)) => {
            return Err(Error::invalid(
                "ambiguous_customer",
                "customer_id",
                "send either customer or customer_id",
            ))
        }
        (None, None) => {
            return Err(Error::invalid(
                "required",
                "customer",
                "send customer details or a customer_id",
            ))
        }
        (None, Some(id)) => CustomerRef::Existing(body_id(&id, "customer_id", CustomerId::parse)?),
        (Some(c), None) => {
            let def = parse_customer(c, region, "customer.")?;
            if def.phone.is_none() {
                return Err(Error::invalid(
                    "required",
                    "customer.phone",
                    "a phone number identifies the customer",
                ));
            }
            if def.name.is_none() {
                return Err(Error::invalid(
                    "required",
                    "customer.name",
                    "must not be empty",
                ));
            }
            CustomerRef::Details(def)
        }
    };
    Ok(NewBooking {
        calendar_id: body_id(&input.calendar_id, "calendar_id", CalendarId::parse)?,
        service_id: body_id(&input.service_id, "service_id", ServiceId::parse)?,
        start: instant(&input.start, "start")?,
        customer,
        hold_id: input
            .hold_id
            .as_deref()
            .map(|h| body_id(h, "hold_id", BookingId::parse))
            .transpose()?,
        custom_fields: custom_fields(input.custom_fields, "custom_fields")?,
        notes: opt_text(input.notes.as_deref(), "notes", 2000)?,
        source: parse_source(input.source.as_deref())?,
        external: None,
    })
}

#[utoipa::path(post, path = "/bookings", tag = "bookings", request_body = BookingIn,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key and body get the first answer")),
    responses((status = 201, body = BookingOut), (status = 409, body = crate::error::Problem, description = "slot_unavailable"), (status = 422, body = crate::error::Problem)))]
async fn create_booking(
    State(s): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    Json(input): Json<BookingIn>,
) -> Result<Response> {
    let key = headers
        .get("idempotency-key")
        .map(|v| v.to_str().map(str::trim).unwrap_or(""))
        .map(|k| {
            if k.is_empty() || k.len() > 255 {
                Err(Error::invalid(
                    "invalid_idempotency_key",
                    "Idempotency-Key",
                    "1 to 255 visible characters",
                ))
            } else {
                Ok(k.to_string())
            }
        })
        .transpose()?;
    let hash = idempotency::request_hash(&serde_json::to_vec(&input)?);
    if let Some(k) = &key {
        if let Some(stored) = idempotency::lookup(&s.db, &auth.tenant, k, &hash).await? {
            return Ok(replay(stored));
        }
    }
    let new = parse_booking(input, &auth.phone_region)?;
    let idem = key.as_deref().map(|k| IdempotencyRecord {
        key: k,
        request_hash: &hash,
    });
    match bookings::create(&s.db, &auth.tenant, new, idem, s.clock.now_secs()).await {
        Ok(out) => Ok((StatusCode::CREATED, axum::Json(BookingOut::from(out))).into_response()),
        // A concurrent request with the same key won the race: answer what it answered.
        Err(e) if key.is_some() => {
            match idempotency::lookup(&s.db, &auth.tenant, key.as_deref().unwrap_or(""), &hash)
                .await?
            {
                Some(stored) => Ok(replay(stored)),
                None => Err(e),
            }
        }
        Err(e) => Err(e),
    }
}

fn replay(stored: idempotency::Stored) -> Response {
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    (
        status,
        [
            (axum::http::header::CONTENT_TYPE, "application/json"),
            (
                axum::http::HeaderName::from_static("idempotent-replayed"),
                "true",
            ),
        ],
        stored.body,
    )
        .into_response()
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct BookingsQuery {
    pub calendar_id: Option<String>,
    pub customer_id: Option<String>,
    /// One status or several, comma-separated.
    pub status: Option<String>,
    /// Bookings starting at or after this instant.
    #[param(format = DateTime)]
    pub start: Option<String>,
    /// Bookings starting before this instant.
    #[param(format = DateTime)]
    pub end: Option<String>,
    /// Cursor from the previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// 1–500, default 100.
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

#[utoipa::path(get, path = "/bookings", tag = "bookings", params(BookingsQuery), responses((status = 200, body = Page<BookingOut>)))]
async fn list_bookings(
    State(s): State<AppState>,
    auth: Auth,
    Query(q): Query<BookingsQuery>,
) -> Result<axum::Json<Page<BookingOut>>> {
    let statuses = q
        .status
        .as_deref()
        .map(|raw| {
            raw.split(',')
                .map(|st| {
                    st.trim().parse::<Status>().map_err(|_| {
                        Error::invalid("invalid_status", "status", format!("unknown status `{st}`"))
                    })
                })
                .collect::<Result<Vec<_>>>()
        })
        .transpose()?
        .unwrap_or_default();
    let after = q
        .cursor
        .as_deref()
        .map(|c| {
            c.split_once('.')
                .and_then(|(t, id)| {
                    Some((
                        t.parse::<i64>().ok()?,
                        BookingId::parse(id).ok()?.into_string(),
                    ))
                })
                .ok_or_else(|| {
                    Error::invalid("invalid_cursor", "cursor", "not a cursor from this API")
                })
        })
        .transpose()?;
    let limit = within(q.limit.unwrap_or(100), 1..=500, "limit")?;
    let filter = BookingFilter {
        calendar_id: q
            .calendar_id
            .as_deref()
            .map(|c| body_id(c, "calendar_id", CalendarId::parse).map(CalendarId::into_string))
            .transpose()?,
        customer_id: q
            .customer_id
            .as_deref()
            .map(|c| body_id(c, "customer_id", CustomerId::parse).map(CustomerId::into_string))
            .transpose()?,
        statuses,
        start: q
            .start
            .as_deref()
            .map(|v| instant(v, "start"))
            .transpose()?,
        end: q.end.as_deref().map(|v| instant(v, "end")).transpose()?,
        after,
        limit: i64::from(limit),
    };
    let list = bookings::list(&s.db, &auth.tenant, &filter).await?;
    Ok(axum::Json(Page::of(list, limit, |b| {
        format!("{}.{}", b.start.as_second(), b.id)
    })))
}

#[utoipa::path(get, path = "/bookings/{id}", tag = "bookings", responses((status = 200, body = BookingOut), (status = 404, body = crate::error::Problem)))]
async fn get_booking(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<axum::Json<BookingOut>> {
    let id = path_id(&id, "booking", BookingId::parse)?;
    Ok(axum::Json(
        bookings::get(&s.db, &auth.tenant, &id).await?.into(),
    ))
}

#[utoipa::path(get, path = "/bookings/{id}/history", tag = "bookings", responses((status = 200, body = Vec<HistoryOut>)))]
async fn booking_history(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<axum::Json<Vec<HistoryOut>>> {
    let id = path_id(&id, "booking", BookingId::parse)?;
    Ok(axum::Json(out::all(
        history::list(&s.db, &auth.tenant, &id).await?,
    )))
}

/// Optional body of a status change.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusChangeIn {
    /// Why (kept with a cancellation and in the history).
    pub reason: Option<String>,
    pub source: Option<String>,
}

async fn change(
    s: AppState,
    auth: Auth,
    id: String,
    action: Action,
    body: Option<Json<StatusChangeIn>>,
) -> Result<axum::Json<BookingOut>> {
    let id = path_id(&id, "booking", BookingId::parse)?;
    let input = body.map(|Json(b)| b).unwrap_or_default();
    let reason = opt_text(input.reason.as_deref(), "reason", 500)?;
    let source = parse_source(input.source.as_deref())?;
    Ok(axum::Json(
        bookings::confirm_or_close(
            &s.db,
            &auth.tenant,
            &id,
            action,
            reason,
            &source,
            s.clock.now_secs(),
        )
        .await?
        .into(),
    ))
}

#[utoipa::path(post, path = "/bookings/{id}/confirm", tag = "bookings", request_body(content = Option<StatusChangeIn>), responses((status = 200, body = BookingOut), (status = 409, body = crate::error::Problem)))]
async fn confirm_booking(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    body: Option<Json<StatusChangeIn>>,
) -> Result<axum::Json<BookingOut>> {
    change(s, auth, id, Action::Confirm, body).await
}

#[utoipa::path(post, path = "/bookings/{id}/cancel", tag = "bookings", request_body(content = Option<StatusChangeIn>), responses((status = 200, body = BookingOut), (status = 409, body = crate::error::Problem)))]
async fn cancel_booking(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    body: Option<Json<StatusChangeIn>>,
) -> Result<axum::Json<BookingOut>> {
    change(s, auth, id, Action::Cancel, body).await
}

#[utoipa::path(post, path = "/bookings/{id}/complete", tag = "bookings", request_body(content = Option<StatusChangeIn>), responses((status = 200, body = BookingOut), (status = 409, body = crate::error::Problem)))]
async fn complete_booking(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    body: Option<Json<StatusChangeIn>>,
) -> Result<axum::Json<BookingOut>> {
    change(s, auth, id, Action::Complete, body).await
}

#[utoipa::path(post, path = "/bookings/{id}/no-show", tag = "bookings", request_body(content = Option<StatusChangeIn>), responses((status = 200, body = BookingOut), (status = 409, body = crate::error::Problem)))]
async fn no_show_booking(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    body: Option<Json<StatusChangeIn>>,
) -> Result<axum::Json<BookingOut>> {
    change(s, auth, id, Action::MarkNoShow, body).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RescheduleIn {
    /// The new start, RFC 3339.
    #[schema(format = DateTime)]
    pub start: String,
    pub source: Option<String>,
}

#[utoipa::path(post, path = "/bookings/{id}/reschedule", tag = "bookings", request_body = RescheduleIn, responses((status = 200, body = BookingOut), (status = 409, body = crate::error::Problem)))]
async fn reschedule_booking(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Json(input): Json<RescheduleIn>,
) -> Result<axum::Json<BookingOut>> {
    let id = path_id(&id, "booking", BookingId::parse)?;
    let start = instant(&input.start, "start")?;
    let source = parse_source(input.source.as_deref())?;
    Ok(axum::Json(
        bookings::reschedule(&s.db, &auth.tenant, &id, start, &source, s.clock.now_secs())
            .await?
            .into(),
    ))
}
