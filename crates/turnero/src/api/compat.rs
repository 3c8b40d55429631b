//! The URLs AsisteClick calls, outside `/api/v1`: no API key (AsisteClick cannot send one),
//! the tenant named by the random key in the path, and errors in the seed's own shape,
//! `{"error": "…"}` (with our `code` beside it), not problem+json.
//!
//! - `POST /compat/asisteclick/{key}/availability`: AsisteClick's native slots in, the free
//!   ones out, untouched.
//! - `POST /compat/asisteclick/{key}/callback`: `AsisteClick-Access-Token` checked (401), then
//!   the booking created, moved or canceled; `{"status": "ok", "external_id": "bkg_…"}`.
//!
//! Bodies are read as JSON whatever their content type: the seed's own examples are sent by
//! clients that do not always set it.
//!
//! Calls are limited (`visitor_limits`): per integration (`asisteclick_requests_per_minute`)
//! and, for keys that name no integration, per address: 429 with `Retry-After`.

use axum::body::Bytes;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use serde_json::{json, Value};

use super::visitor_limits::{client_address, Act};
use super::AppState;
use crate::asisteclick::integration::{self, Integration};
use crate::asisteclick::{availability, callback};
use crate::error::Error;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/compat/asisteclick/{key}/availability", post(availability))
        .route("/compat/asisteclick/{key}/callback", post(callback))
}

/// An error as the seed's integrations expect it.
struct Compat(Error);

impl From<Error> for Compat {
    fn from(e: Error) -> Self {
        Compat(e)
    }
}

impl IntoResponse for Compat {
    fn into_response(self) -> Response {
        match self.0 {
            Error::Problem(p) => {
                let status = StatusCode::from_u16(p.status).unwrap_or(StatusCode::BAD_REQUEST);
                let mut answer = (
                    status,
                    axum::Json(json!({"error": p.detail, "code": p.code})),
                )
                    .into_response();
                if let Some(secs) = p.retry_after {
                    answer
                        .headers_mut()
                        .insert(header::RETRY_AFTER, secs.into());
                }
                answer
            }
            internal => {
                // Logged (with its cause) by the problem renderer; the body stays seed-shaped.
                let status = internal.into_response().status();
                (status, axum::Json(json!({"error": "internal error"}))).into_response()
            }
        }
    }
}

/// The integration the URL's key names, within its rate limits.
async fn find(
    s: &AppState,
    key: &str,
    peer: SocketAddr,
    headers: &HeaderMap,
) -> Result<Integration, Compat> {
    let address = client_address(peer, headers);
    let Some(found) = integration::by_key(&s.db, &s.asisteclick, key).await? else {
        s.visitors.check(Act::UnknownKey, address, "unknown")?;
        return Err(Error::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "no AsisteClick integration has this URL",
        )
        .into());
    };
    s.visitors
        .check(Act::Integration, address, found.tenant.as_str())?;
    Ok(found)
}

async fn availability(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(key): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Compat> {
    let found = find(&s, &key, peer, &headers).await?;
    let request = availability::Request::parse(&body)?;
    let asisteclick_calendar = request
        .calendar_id()
        .ok_or_else(|| Error::bad_request("missing_calendar_id", "calendar_id is missing"))?;
    let (calendar, service) = found.target(&asisteclick_calendar).ok_or_else(|| {
        Error::bad_request(
            "unknown_calendar",
            format!("calendar_id {asisteclick_calendar} is not mapped to a turnero calendar"),
        )
    })?;
    let answer = availability::vet(
        &s.db,
        &s.snapshots,
        &found.tenant,
        &calendar,
        &service,
        &request,
        s.clock.now(),
    )
    .await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], answer).into_response())
}

async fn callback(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(key): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Compat> {
    let found = find(&s, &key, peer, &headers).await?;
    let token = headers
        .get("asisteclick-access-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !found.token_matches(token) {
        return Err(Error::new(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "AsisteClick-Access-Token is missing or wrong",
        )
        .into());
    }
    let body: Value = serde_json::from_slice(&body)
        .map_err(|_| Error::bad_request("malformed_callback", "the body is not JSON"))?;
    let region = crate::agenda::tenants::get(&s.db, &found.tenant)
        .await?
        .phone_region;
    let booking = callback::apply(&s.db, &found, &region, &body, s.clock.now_secs()).await?;
    Ok(axum::Json(json!({
        "status": "ok",
        "message": "reserva procesada correctamente",
        "external_id": booking.as_str(),
    }))
    .into_response())
}
