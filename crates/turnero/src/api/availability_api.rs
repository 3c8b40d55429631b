//! `PUT/GET/DELETE /calendars/{id}/availability-api`: let another system's agenda decide
//! which of a calendar's slots are free (AsisteClick's protocol, turnero asking), and send it
//! the calendar's bookings as AsisteClick callbacks through the webhook hub.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use turnero_core::event;
use turnero_core::ids::{CalendarId, TenantId, WebhookId};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{Auth, Json};
use super::parse::{path_id, within};
use super::webhooks::WebhookIn;
use super::AppState;
use crate::agenda::calendars::{self, AvailabilityApi};
use crate::asisteclick::consult::{self, FallbackOut};
use crate::error::{Error, Result};
use crate::webhooks::store;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(
        put_availability_api,
        get_availability_api,
        delete_availability_api
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AvailabilityApiIn {
    /// Receives turnero's free slots in AsisteClick's request format and answers the free ones.
    pub url: String,
    /// How that system names this calendar (`calendar_id`); by default turnero's id.
    #[schema(value_type = Option<Object>)]
    pub external_calendar_id: Option<Value>,
    /// 100–10000; default 3000 (AsisteClick's own budget).
    #[schema(minimum = 100, maximum = 10000)]
    pub timeout_ms: Option<i64>,
    /// Where this calendar's bookings go as AsisteClick callbacks (`event_created`,
    /// `event_updated`, `event_canceled`); seed 000's `url|Name:value;…` header form works.
    pub callback_url: Option<String>,
    /// Sent with the callbacks as `AsisteClick-Access-Token`. Write-only.
    pub access_token: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AvailabilityApiOut {
    pub availability_api: AvailabilityApi,
    /// The latest times turnero's own slots were offered instead, and why (newest first).
    pub recent_fallbacks: Vec<FallbackOut>,
}

fn calendar_id(raw: &str) -> Result<CalendarId> {
    path_id(raw, "calendar", CalendarId::parse)
}

async fn out(s: &AppState, tenant: &TenantId, cal: &CalendarId) -> Result<AvailabilityApiOut> {
    let calendar = calendars::get(&s.db, tenant, cal).await?;
    let api = calendar
        .availability_api
        .ok_or_else(|| Error::not_found("availability API"))?;
    Ok(AvailabilityApiOut {
        availability_api: api,
        recent_fallbacks: consult::recent_fallbacks(&s.db, tenant, cal, 20).await?,
    })
}

async fn drop_webhook(s: &AppState, tenant: &TenantId, api: &AvailabilityApi) -> Result<()> {
    if let Some(id) = api
        .webhook_id
        .as_deref()
        .and_then(|w| WebhookId::parse(w).ok())
    {
        match store::delete(&s.db, tenant, &id).await {
            Ok(()) | Err(Error::Problem(_)) => {} // already deleted by hand
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[utoipa::path(put, path = "/calendars/{id}/availability-api", tag = "calendars",
    request_body = AvailabilityApiIn,
    responses((status = 200, body = AvailabilityApiOut), (status = 422, body = crate::error::Problem)))]
async fn put_availability_api(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Json(input): Json<AvailabilityApiIn>,
) -> Result<axum::Json<AvailabilityApiOut>> {
    let cal = calendar_id(&id)?;
    let current = calendars::get(&s.db, &auth.tenant, &cal).await?;
    let url = input.url.trim().to_string();
    s.hub.outbound.check_url(&url).map_err(|e| {
        Error::invalid("url_refused", "url", format!("`{url}` cannot be used: {e}"))
    })?;
    let external = match input.external_calendar_id {
        None => cal.as_str().to_string(),
        Some(Value::String(t)) if !t.trim().is_empty() => t.trim().to_string(),
        Some(Value::Number(n)) => n.to_string(),
        Some(_) => {
            return Err(Error::invalid(
                "invalid_external_calendar_id",
                "external_calendar_id",
                "a number or a non-empty string",
            ))
        }
    };
    let timeout_ms = within(input.timeout_ms.unwrap_or(3000), 100..=10_000, "timeout_ms")? as u64;
    // Checked before anything is written, so a bad callback leaves the old setup alone.
    let callback = input
        .callback_url
        .map(|url| {
            WebhookIn {
                url,
                description: Some(format!("AsisteClick callbacks for {}", current.name)),
                enabled: None,
                event_types: Some(vec![
                    event::BOOKING_CREATED.into(),
                    event::BOOKING_UPDATED.into(),
                    event::BOOKING_CANCELED.into(),
                ]),
                channel: None,
                format: Some("asisteclick".into()),
                headers: None,
                access_token: input.access_token.clone(),
                secret: None,
                calendar_id: Some(cal.as_str().to_string()),
            }
            .parse(&s)
            .map_err(|e| e.at("callback_url"))
        })
        .transpose()?;
    if let Some(old) = &current.availability_api {
        drop_webhook(&s, &auth.tenant, old).await?;
    }
    let webhook_id = match callback {
        Some(def) => Some(
            store::create(&s.db, &auth.tenant, def, s.clock.now_ms())
                .await?
                .id,
        ),
        None => None,
    };
    let api = AvailabilityApi {
        url,
        external_calendar_id: external,
        timeout_ms,
        webhook_id,
    };
    calendars::set_availability_api(&s.db, &auth.tenant, &cal, Some(&api), s.clock.now_secs())
        .await?;
    Ok(axum::Json(out(&s, &auth.tenant, &cal).await?))
}

#[utoipa::path(get, path = "/calendars/{id}/availability-api", tag = "calendars",
    responses((status = 200, body = AvailabilityApiOut), (status = 404, body = crate::error::Problem)))]
async fn get_availability_api(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<axum::Json<AvailabilityApiOut>> {
    let cal = calendar_id(&id)?;
    Ok(axum::Json(out(&s, &auth.tenant, &cal).await?))
}

#[utoipa::path(delete, path = "/calendars/{id}/availability-api", tag = "calendars",
    responses((status = 204), (status = 404, body = crate::error::Problem)))]
async fn delete_availability_api(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    let cal = calendar_id(&id)?;
    let current = calendars::get(&s.db, &auth.tenant, &cal).await?;
    let api = current
        .availability_api
        .ok_or_else(|| Error::not_found("availability API"))?;
    drop_webhook(&s, &auth.tenant, &api).await?;
    calendars::set_availability_api(&s.db, &auth.tenant, &cal, None, s.clock.now_secs()).await?;
    Ok(StatusCode::NO_CONTENT)
}
