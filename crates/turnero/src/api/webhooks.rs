//! Webhook endpoints: CRUD, secret rotation, test send, error log, stats, resend, recover.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use serde::{Deserialize, Serialize};
use turnero_core::event;
use turnero_core::ids::{AttemptId, CalendarId, WebhookId};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{Auth, Json, Query};
use super::out::Page;
use super::parse::{body_id, instant, opt_text, path_id, within};
use super::AppState;
use crate::error::{Error, Result};
use crate::webhooks::attempts::{self, parse_window, AttemptOut, StatsOut};
use crate::webhooks::manual;
use crate::webhooks::signing::secret_key;
use crate::webhooks::store::{self, Format, WebhookDef, WebhookOut, WebhookPatch};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_webhook, list_webhooks))
        .routes(routes!(get_webhook, patch_webhook, delete_webhook))
        .routes(routes!(rotate_secret))
        .routes(routes!(test_webhook))
        .routes(routes!(webhook_stats))
        .routes(routes!(list_attempts))
        .routes(routes!(resend_attempt))
        .routes(routes!(recover_webhook))
}

/// Channels an endpoint may be limited to.
const CHANNELS: &[&str] = &["whatsapp", "webchat", "telegram", "chatwoot"];

/// Headers turnero sets itself; a custom header may not replace them.
const RESERVED_HEADERS: &[&str] = &[
    "content-type",
    "content-length",
    "host",
    "user-agent",
    "transfer-encoding",
    "connection",
    "asisteclick-access-token",
];

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookIn {
    /// `https://…`; may carry headers as `https://host/path|Authorization:Bearer x;X-Custom:valor`.
    pub url: String,
    pub description: Option<String>,
    /// Default true.
    pub enabled: Option<bool>,
    /// Types or wildcards (`booking.*`, `*`); absent or empty: every event.
    pub event_types: Option<Vec<String>>,
    /// Only conversation events from this channel (`whatsapp`, `webchat`, `telegram`, `chatwoot`).
    pub channel: Option<String>,
    /// `standard` (default), `asisteclick` or `botmaker`.
    pub format: Option<String>,
    /// Sent with every request; values are write-only.
    pub headers: Option<BTreeMap<String, String>>,
    /// For the `asisteclick` format: sent as `AsisteClick-Access-Token`. Write-only.
    pub access_token: Option<String>,
    /// Your own `whsec_…` secret (24–64 bytes); by default one is generated.
    pub secret: Option<String>,
    /// Only booking events of this calendar.
    pub calendar_id: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookPatchIn {
    pub url: Option<String>,
    /// Empty clears it.
    pub description: Option<String>,
    /// Turning it on again also closes its breaker.
    pub enabled: Option<bool>,
    pub event_types: Option<Vec<String>>,
    /// Empty clears it.
    pub channel: Option<String>,
    pub format: Option<String>,
    /// Replaces every custom header.
    pub headers: Option<BTreeMap<String, String>>,
    /// Empty clears it.
    pub access_token: Option<String>,
}

/// The URL and the headers it carries after a `|`, checked.
fn url_and_headers(
    raw: &str,
    s: &AppState,
    headers: &mut BTreeMap<String, String>,
) -> Result<String> {
    let (url, inline) = raw.trim().split_once('|').unwrap_or((raw.trim(), ""));
    for pair in inline.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once(':').ok_or_else(|| {
            Error::invalid(
                "invalid_header",
                "url",
                format!("`{pair}` is not `Name:value`"),
            )
        })?;
        headers.insert(name.trim().to_string(), value.trim().to_string());
    }
    if url.len() > 2000 {
        return Err(Error::invalid("too_long", "url", "at most 2000 characters"));
    }
    s.hub.outbound.check_url(url).map_err(|e| {
        Error::invalid("url_refused", "url", format!("`{url}` cannot be used: {e}"))
    })?;
    Ok(url.to_string())
}

fn check_headers(headers: &BTreeMap<String, String>) -> Result<()> {
    if headers.len() > 20 {
        return Err(Error::invalid(
            "too_many",
            "headers",
            "at most 20 custom headers",
        ));
    }
    for (name, value) in headers {
        let field = format!("headers.{name}");
        let lower = name.to_ascii_lowercase();
        if HeaderName::from_bytes(name.as_bytes()).is_err() {
            return Err(Error::invalid("invalid_header", field, "not a header name"));
        }
        if RESERVED_HEADERS.contains(&lower.as_str()) || lower.starts_with("webhook-") {
            return Err(Error::invalid(
                "reserved_header",
                field,
                "turnero sets this header itself",
            ));
        }
        if value.len() > 2048 || HeaderValue::from_str(value).is_err() {
            return Err(Error::invalid(
                "invalid_header",
                field,
                "not a header value (printable, at most 2048 bytes)",
            ));
        }
    }
    Ok(())
}

fn event_types(raw: Option<Vec<String>>) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for (i, t) in raw.unwrap_or_default().into_iter().enumerate() {
        let t = t.trim().to_string();
        if !event::is_valid_pattern(&t) {
            return Err(Error::invalid(
                "unknown_event_type",
                format!("event_types[{i}]"),
                format!("`{t}` is not an event type, a `category.*` wildcard or `*`"),
            ));
        }
        if !out.contains(&t) {
            out.push(t);
        }
    }
    if out.is_empty() {
        out.push("*".into());
    }
    Ok(out)
}

fn channel(raw: Option<&str>) -> Result<Option<String>> {
    match raw.map(str::trim).filter(|c| !c.is_empty()) {
        None => Ok(None),
        Some(c) if CHANNELS.contains(&c) => Ok(Some(c.to_string())),
        Some(c) => Err(Error::invalid(
            "unknown_channel",
            "channel",
            format!("`{c}` is not one of {}", CHANNELS.join(", ")),
        )),
    }
}

fn format(raw: &str) -> Result<Format> {
    Format::parse(raw.trim()).ok_or_else(|| {
        Error::invalid(
            "unknown_format",
            "format",
            "must be `standard`, `asisteclick` or `botmaker`",
        )
    })
}

impl WebhookIn {
    pub(super) fn parse(self, s: &AppState) -> Result<WebhookDef> {
        let mut headers = self.headers.unwrap_or_default();
        let url = url_and_headers(&self.url, s, &mut headers)?;
        check_headers(&headers)?;
        if let Some(secret) = &self.secret {
            if secret_key(secret).is_none() {
                return Err(Error::invalid(
                    "invalid_secret",
                    "secret",
                    "a secret is `whsec_` followed by 24 to 64 bytes in padded base64",
                ));
            }
        }
        Ok(WebhookDef {
            url,
            description: opt_text(self.description.as_deref(), "description", 500)?,
            enabled: self.enabled.unwrap_or(true),
            event_types: event_types(self.event_types)?,
            channel: channel(self.channel.as_deref())?,
            format: self
                .format
                .as_deref()
                .map(format)
                .transpose()?
                .unwrap_or(Format::Standard),
            headers,
            access_token: opt_text(self.access_token.as_deref(), "access_token", 500)?,
            secret: self.secret,
            calendar_id: self
                .calendar_id
                .map(|c| body_id(&c, "calendar_id", CalendarId::parse).map(CalendarId::into_string))
                .transpose()?,
        })
    }
}

impl WebhookPatchIn {
    fn parse(self, s: &AppState) -> Result<WebhookPatch> {
        let mut inline = BTreeMap::new();
        let url = self
            .url
            .as_deref()
            .map(|u| url_and_headers(u, s, &mut inline))
            .transpose()?;
        let headers = match (self.headers, inline.is_empty()) {
            (Some(mut h), _) => {
                h.extend(inline);
                Some(h)
            }
            (None, false) => Some(inline),
            (None, true) => None,
        };
        if let Some(h) = &headers {
            check_headers(h)?;
        }
        Ok(WebhookPatch {
            url,
            description: self
                .description
                .map(|d| opt_text(Some(&d), "description", 500))
                .transpose()?,
            enabled: self.enabled,
            event_types: self.event_types.map(|t| event_types(Some(t))).transpose()?,
            channel: self.channel.map(|c| channel(Some(&c))).transpose()?,
            format: self.format.as_deref().map(format).transpose()?,
            headers,
            access_token: self
                .access_token
                .map(|t| opt_text(Some(&t), "access_token", 500))
                .transpose()?,
        })
    }
}

fn webhook_id(raw: &str) -> Result<WebhookId> {
    path_id(raw, "webhook", WebhookId::parse)
}

#[utoipa::path(post, path = "/webhooks", tag = "webhooks", request_body = WebhookIn,
    responses((status = 201, body = WebhookOut, description = "The only answer that shows the secret"),
              (status = 422, body = crate::error::Problem)))]
async fn create_webhook(
    State(s): State<AppState>,
    auth: Auth,
    Json(input): Json<WebhookIn>,
) -> Result<(StatusCode, axum::Json<WebhookOut>)> {
    let def = input.parse(&s)?;
    if let Some(cal) = &def.calendar_id {
        // As services do: a webhook for another tenant's calendar, or none, would never fire.
        let id = CalendarId::from_trusted(cal.clone());
        if crate::agenda::calendars::get(&s.db, &auth.tenant, &id)
            .await
            .is_err()
        {
            return Err(Error::invalid(
                "unknown_calendar",
                "calendar_id",
                format!("calendar {cal} not found"),
            ));
        }
    }
    let out = store::create(&s.db, &auth.tenant, def, s.clock.now_ms()).await?;
    Ok((StatusCode::CREATED, axum::Json(out)))
}

#[utoipa::path(get, path = "/webhooks", tag = "webhooks", responses((status = 200, body = Vec<WebhookOut>)))]
async fn list_webhooks(
    State(s): State<AppState>,
    auth: Auth,
) -> Result<axum::Json<Vec<WebhookOut>>> {
    Ok(axum::Json(
        store::list(&s.db, &auth.tenant, s.clock.now_ms()).await?,
    ))
}

#[utoipa::path(get, path = "/webhooks/{id}", tag = "webhooks", responses((status = 200, body = WebhookOut), (status = 404, body = crate::error::Problem)))]
async fn get_webhook(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<axum::Json<WebhookOut>> {
    let id = webhook_id(&id)?;
    Ok(axum::Json(
        store::get(&s.db, &auth.tenant, &id, s.clock.now_ms()).await?,
    ))
}

#[utoipa::path(patch, path = "/webhooks/{id}", tag = "webhooks", request_body = WebhookPatchIn, responses((status = 200, body = WebhookOut)))]
async fn patch_webhook(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Json(input): Json<WebhookPatchIn>,
) -> Result<axum::Json<WebhookOut>> {
    let id = webhook_id(&id)?;
    let patch = input.parse(&s)?;
    Ok(axum::Json(
        store::update(&s.db, &auth.tenant, &id, patch, s.clock.now_ms()).await?,
    ))
}

#[utoipa::path(delete, path = "/webhooks/{id}", tag = "webhooks", responses((status = 204)))]
async fn delete_webhook(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    let id = webhook_id(&id)?;
    store::delete(&s.db, &auth.tenant, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateIn {
    /// Your own new `whsec_…` secret; by default one is generated.
    pub secret: Option<String>,
}

/// A new secret; the old one keeps signing beside it for 24 hours.
#[utoipa::path(post, path = "/webhooks/{id}/secret/rotate", tag = "webhooks", request_body(content = Option<RotateIn>), responses((status = 200, body = WebhookOut)))]
async fn rotate_secret(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    input: Option<Json<RotateIn>>,
) -> Result<axum::Json<WebhookOut>> {
    let id = webhook_id(&id)?;
    let secret = input.and_then(|Json(i)| i.secret);
    if secret.as_deref().is_some_and(|s| secret_key(s).is_none()) {
        return Err(Error::invalid(
            "invalid_secret",
            "secret",
            "a secret is `whsec_` followed by 24 to 64 bytes in padded base64",
        ));
    }
    Ok(axum::Json(
        store::rotate_secret(&s.db, &auth.tenant, &id, secret, s.clock.now_ms()).await?,
    ))
}

/// Sends a `webhook.test` event now, once, without retries, and answers the attempt.
#[utoipa::path(post, path = "/webhooks/{id}/test", tag = "webhooks", responses((status = 200, body = AttemptOut), (status = 409, body = crate::error::Problem)))]
async fn test_webhook(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<axum::Json<AttemptOut>> {
    let id = webhook_id(&id)?;
    Ok(axum::Json(
        manual::send_test(&s.hub, &auth.tenant, &id).await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct StatsQuery {
    /// `30m` (default), `2h`, `90s`, `1d`; at most 7 days.
    pub window: Option<String>,
    /// Histogram buckets, 1–120 (default 30).
    #[param(minimum = 1, maximum = 120)]
    pub buckets: Option<i64>,
}

#[utoipa::path(get, path = "/webhooks/{id}/stats", tag = "webhooks", params(StatsQuery), responses((status = 200, body = StatsOut)))]
async fn webhook_stats(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Query(q): Query<StatsQuery>,
) -> Result<axum::Json<StatsOut>> {
    let id = webhook_id(&id)?;
    let window = parse_window(q.window.as_deref().unwrap_or("30m")).ok_or_else(|| {
        Error::invalid(
            "invalid_window",
            "window",
            "a window is a number and s, m, h or d, at most 7 days (e.g. `30m`)",
        )
    })?;
    let buckets = within(q.buckets.unwrap_or(30), 1..=120, "buckets")?;
    Ok(axum::Json(
        attempts::stats(
            &s.db,
            &auth.tenant,
            &id,
            s.clock.now_ms(),
            window,
            i64::from(buckets),
            s.hub.settings.slow_ms,
        )
        .await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AttemptsQuery {
    /// `success`, `failed` or `rejected`.
    pub outcome: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// 1–500, default 100.
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

#[utoipa::path(get, path = "/webhooks/{id}/attempts", tag = "webhooks", params(AttemptsQuery), responses((status = 200, body = Page<AttemptOut>)))]
async fn list_attempts(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Query(q): Query<AttemptsQuery>,
) -> Result<axum::Json<Page<AttemptOut>>> {
    let id = webhook_id(&id)?;
    store::get(&s.db, &auth.tenant, &id, s.clock.now_ms()).await?;
    if let Some(o) = q.outcome.as_deref() {
        if !matches!(o, "success" | "failed" | "rejected") {
            return Err(Error::invalid(
                "invalid_outcome",
                "outcome",
                "must be `success`, `failed` or `rejected`",
            ));
        }
    }
    let before = q
        .cursor
        .as_deref()
        .map(|c| {
            AttemptId::parse(c).map_err(|_| {
                Error::invalid("invalid_cursor", "cursor", "not a cursor from this API")
            })
        })
        .transpose()?;
    let limit = within(q.limit.unwrap_or(100), 1..=500, "limit")?;
    let list = attempts::list(
        &s.db,
        &auth.tenant,
        &id,
        q.outcome.as_deref(),
        before.as_ref(),
        i64::from(limit),
    )
    .await?;
    Ok(axum::Json(Page::of(list, limit, |a| a.id.clone())))
}

/// Sends that attempt's event again, now, once.
#[utoipa::path(post, path = "/webhooks/{id}/attempts/{attempt_id}/resend", tag = "webhooks", responses((status = 200, body = AttemptOut)))]
async fn resend_attempt(
    State(s): State<AppState>,
    auth: Auth,
    Path((id, attempt_id)): Path<(String, String)>,
) -> Result<axum::Json<AttemptOut>> {
    let id = webhook_id(&id)?;
    let attempt_id = path_id(&attempt_id, "attempt", AttemptId::parse)?;
    Ok(axum::Json(
        manual::resend(&s.hub, &auth.tenant, &id, &attempt_id).await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecoverIn {
    /// Re-queue deliveries of events since this instant that failed for good.
    #[schema(format = DateTime)]
    pub since: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecoverOut {
    pub requeued: u64,
}

#[utoipa::path(post, path = "/webhooks/{id}/recover", tag = "webhooks", request_body = RecoverIn, responses((status = 202, body = RecoverOut)))]
async fn recover_webhook(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Json(input): Json<RecoverIn>,
) -> Result<(StatusCode, axum::Json<RecoverOut>)> {
    let id = webhook_id(&id)?;
    let since = instant(&input.since, "since")?;
    let requeued = manual::recover(&s.hub, &auth.tenant, &id, since * 1000).await?;
    Ok((StatusCode::ACCEPTED, axum::Json(RecoverOut { requeued })))
}
