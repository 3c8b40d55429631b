//! Webhook endpoints (subscriptions): stored definition, API shape, and the reads the hub
//! needs to send. Secrets are shown once, when created or rotated; reads never return them,
//! nor the access token or custom header values.

use std::collections::BTreeMap;

use serde::Serialize;
use sqlx::Row;
use turnero_core::ids::{TenantId, WebhookId};
use utoipa::ToSchema;

use super::signing::{generate_secret, secret_key};
use crate::db::Db;
use crate::error::{Error, Result};
use turnero_core::time::fmt_ts_ms;

/// How long the old secret keeps signing after a rotation.
pub const ROTATION_GRACE_MS: i64 = 24 * 3600 * 1000;

/// The body shape an endpoint receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Standard Webhooks envelope `{"type", "timestamp", "data"}`.
    Standard,
    /// AsisteClick's booking callback (`event_created` / `event_updated` / `event_canceled`).
    Asisteclick,
    /// Botmaker v1.1 `message` and `status` notifications.
    Botmaker,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Standard => "standard",
            Format::Asisteclick => "asisteclick",
            Format::Botmaker => "botmaker",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "standard" => Some(Format::Standard),
            "asisteclick" => Some(Format::Asisteclick),
            "botmaker" => Some(Format::Botmaker),
            _ => None,
        }
    }
}

/// A validated endpoint definition.
#[derive(Debug, Clone)]
pub struct WebhookDef {
    pub url: String,
    pub description: Option<String>,
    pub enabled: bool,
    /// Never empty: "every event" is `["*"]`.
    pub event_types: Vec<String>,
    pub channel: Option<String>,
    pub format: Format,
    pub headers: BTreeMap<String, String>,
    pub access_token: Option<String>,
    pub secret: Option<String>,
    /// Only this calendar's booking events.
    pub calendar_id: Option<String>,
}

/// A validated change; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct WebhookPatch {
    pub url: Option<String>,
    pub description: Option<Option<String>>,
    pub enabled: Option<bool>,
    pub event_types: Option<Vec<String>>,
    pub channel: Option<Option<String>>,
    pub format: Option<Format>,
    pub headers: Option<BTreeMap<String, String>>,
    pub access_token: Option<Option<String>>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BreakerOut {
    /// `closed` (sending), `open` (paused after repeated failures) or `probing`.
    pub state: String,
    /// While open: when a single probe will decide whether to close it.
    pub until: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WebhookOut {
    pub id: String,
    pub url: String,
    pub description: Option<String>,
    pub enabled: bool,
    /// Why it was turned off automatically (e.g. the receiver answered 410 Gone).
    pub disabled_reason: Option<String>,
    pub event_types: Vec<String>,
    pub channel: Option<String>,
    /// Only booking events of this calendar.
    pub calendar_id: Option<String>,
    pub format: Format,
    /// Names of the custom headers sent (their values are write-only).
    pub header_names: Vec<String>,
    pub has_access_token: bool,
    /// Only in the answers to create and rotate: the `whsec_…` signing secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// During a rotation: until when the previous secret also signs.
    pub previous_secret_expires_at: Option<String>,
    pub breaker: BreakerOut,
    pub created_at: String,
    pub updated_at: String,
}

const COLUMNS: &str = "id, url, description, enabled, disabled_reason, event_types, channel, \
    format, headers, access_token, previous_secret_until, breaker, breaker_until, created_at, \
    updated_at, calendar_id";

fn from_row(r: &sqlx::any::AnyRow, now_ms: i64) -> Result<WebhookOut> {
    let headers: BTreeMap<String, String> = serde_json::from_str(&r.get::<String, _>(8))?;
    let breaker: String = r.get(11);
    let breaker_until: i64 = r.get(12);
    let previous_until: Option<i64> = r.get(10);
    Ok(WebhookOut {
        id: r.get(0),
        // Credentials in a receiver's URL are write-only like every other secret.
        url: crate::db::redact_url(&r.get::<String, _>(1)),
        description: r.get(2),
        enabled: r.get::<i64, _>(3) != 0,
        disabled_reason: r.get(4),
        event_types: serde_json::from_str(&r.get::<String, _>(5))?,
        channel: r.get(6),
        calendar_id: r.get(15),
        format: Format::parse(&r.get::<String, _>(7)).unwrap_or(Format::Standard),
        header_names: headers.into_keys().collect(),
        has_access_token: r.get::<Option<String>, _>(9).is_some(),
        secret: None,
        previous_secret_expires_at: previous_until.filter(|u| *u > now_ms).map(fmt_ts_ms),
        breaker: BreakerOut {
            until: (breaker != "closed").then(|| fmt_ts_ms(breaker_until)),
            state: breaker,
        },
        created_at: fmt_ts_ms(r.get(13)),
        updated_at: fmt_ts_ms(r.get(14)),
    })
}

pub async fn create(
    db: &Db,
    tenant: &TenantId,
    def: WebhookDef,
    now_ms: i64,
) -> Result<WebhookOut> {
    let id = WebhookId::generate();
    let secret = def.secret.clone().unwrap_or_else(generate_secret);
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO webhooks (id, tenant_id, url, description, enabled, event_types, channel, \
         format, headers, access_token, secret, created_at, updated_at, calendar_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $13)",
    )
    .bind(id.as_str())
    .bind(tenant.as_str())
    .bind(&def.url)
    .bind(def.description.clone())
    .bind(i64::from(def.enabled))
    .bind(serde_json::to_string(&def.event_types)?)
    .bind(def.channel.clone())
    .bind(def.format.as_str())
    .bind(serde_json::to_string(&def.headers)?)
    .bind(def.access_token.clone())
    .bind(&secret)
    .bind(now_ms)
    .bind(def.calendar_id.clone())
    .execute(&mut *tx)
    .await?;
    write_filters(&mut tx, id.as_str(), &def.event_types).await?;
    let mut out = get_in(&mut tx, tenant, &id, now_ms).await?;
    tx.commit().await?;
    out.secret = Some(secret);
    Ok(out)
}

async fn write_filters(tx: &mut crate::db::Tx, id: &str, patterns: &[String]) -> Result<()> {
    sqlx::query("DELETE FROM webhook_filters WHERE webhook_id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    for p in patterns {
        sqlx::query(
            "INSERT INTO webhook_filters (webhook_id, pattern) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(id)
        .bind(p)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

async fn get_in(
    conn: &mut sqlx::AnyConnection,
    tenant: &TenantId,
    id: &WebhookId,
    now_ms: i64,
) -> Result<WebhookOut> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM webhooks WHERE tenant_id = $1 AND id = $2"
    ))
    .bind(tenant.as_str())
    .bind(id.as_str())
    .fetch_optional(conn)
    .await?
    .ok_or_else(|| Error::not_found("webhook"))?;
    from_row(&row, now_ms)
}

pub async fn get(db: &Db, tenant: &TenantId, id: &WebhookId, now_ms: i64) -> Result<WebhookOut> {
    let mut conn = db.read.acquire().await?;
    get_in(&mut conn, tenant, id, now_ms).await
}

pub async fn list(db: &Db, tenant: &TenantId, now_ms: i64) -> Result<Vec<WebhookOut>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM webhooks WHERE tenant_id = $1 ORDER BY id"
    ))
    .bind(tenant.as_str())
    .fetch_all(&db.read)
    .await?;
    rows.iter().map(|r| from_row(r, now_ms)).collect()
}

pub async fn update(
    db: &Db,
    tenant: &TenantId,
    id: &WebhookId,
    patch: WebhookPatch,
    now_ms: i64,
) -> Result<WebhookOut> {
    let mut tx = db.begin().await?;
    // Take the row's write lock first so two patches apply one after the other.
    let touched =
        sqlx::query("UPDATE webhooks SET updated_at = $3 WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.as_str())
            .bind(id.as_str())
            .bind(now_ms)
            .execute(&mut *tx)
            .await?;
    if touched.rows_affected() == 0 {
        return Err(Error::not_found("webhook"));
    }
    let set = |sql: &'static str| sqlx::query(sql);
    if let Some(url) = &patch.url {
        set("UPDATE webhooks SET url = $2 WHERE id = $1")
            .bind(id.as_str())
            .bind(url)
            .execute(&mut *tx)
            .await?;
    }
    if let Some(d) = &patch.description {
        set("UPDATE webhooks SET description = $2 WHERE id = $1")
            .bind(id.as_str())
            .bind(d.clone())
            .execute(&mut *tx)
            .await?;
    }
    if let Some(enabled) = patch.enabled {
        // Turning an endpoint back on clears why it was turned off and closes its breaker,
        // so what queued up meanwhile goes out at once.
        set(
            "UPDATE webhooks SET enabled = $2, disabled_reason = NULL, breaker = 'closed', \
             breaker_until = 0 WHERE id = $1",
        )
        .bind(id.as_str())
        .bind(i64::from(enabled))
        .execute(&mut *tx)
        .await?;
    }
    if let Some(types) = &patch.event_types {
        set("UPDATE webhooks SET event_types = $2 WHERE id = $1")
            .bind(id.as_str())
            .bind(serde_json::to_string(types)?)
            .execute(&mut *tx)
            .await?;
        write_filters(&mut tx, id.as_str(), types).await?;
    }
    if let Some(c) = &patch.channel {
        set("UPDATE webhooks SET channel = $2 WHERE id = $1")
            .bind(id.as_str())
            .bind(c.clone())
            .execute(&mut *tx)
            .await?;
    }
    if let Some(f) = patch.format {
        set("UPDATE webhooks SET format = $2 WHERE id = $1")
            .bind(id.as_str())
            .bind(f.as_str())
            .execute(&mut *tx)
            .await?;
    }
    if let Some(h) = &patch.headers {
        set("UPDATE webhooks SET headers = $2 WHERE id = $1")
            .bind(id.as_str())
            .bind(serde_json::to_string(h)?)
            .execute(&mut *tx)
            .await?;
    }
    if let Some(t) = &patch.access_token {
        set("UPDATE webhooks SET access_token = $2 WHERE id = $1")
            .bind(id.as_str())
            .bind(t.clone())
            .execute(&mut *tx)
            .await?;
    }
    let out = get_in(&mut tx, tenant, id, now_ms).await?;
    db.commit_events(tx).await?;
    Ok(out)
}

/// Deletes the endpoint with its queue and attempts.
pub async fn delete(db: &Db, tenant: &TenantId, id: &WebhookId) -> Result<()> {
    let mut tx = db.begin().await?;
    let found = sqlx::query("SELECT id FROM webhooks WHERE tenant_id = $1 AND id = $2")
        .bind(tenant.as_str())
        .bind(id.as_str())
        .fetch_optional(&mut *tx)
        .await?;
    if found.is_none() {
        return Err(Error::not_found("webhook"));
    }
    for sql in [
        "DELETE FROM webhook_attempts WHERE webhook_id = $1",
        "DELETE FROM webhook_deliveries WHERE webhook_id = $1",
        "DELETE FROM webhook_filters WHERE webhook_id = $1",
        "DELETE FROM webhooks WHERE id = $1",
    ] {
        sqlx::query(sql).bind(id.as_str()).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// A new secret; the current one keeps signing for [`ROTATION_GRACE_MS`].
pub async fn rotate_secret(
    db: &Db,
    tenant: &TenantId,
    id: &WebhookId,
    new_secret: Option<String>,
    now_ms: i64,
) -> Result<WebhookOut> {
    let secret = new_secret.unwrap_or_else(generate_secret);
    let mut tx = db.begin().await?;
    let done = sqlx::query(
        "UPDATE webhooks SET previous_secret = secret, previous_secret_until = $3, secret = $4, \
         updated_at = $5 WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant.as_str())
    .bind(id.as_str())
    .bind(now_ms + ROTATION_GRACE_MS)
    .bind(&secret)
    .bind(now_ms)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(Error::not_found("webhook"));
    }
    let mut out = get_in(&mut tx, tenant, id, now_ms).await?;
    tx.commit().await?;
    out.secret = Some(secret);
    Ok(out)
}

/// What the hub needs to send to an endpoint.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub id: String,
    pub tenant_id: String,
    pub url: String,
    pub enabled: bool,
    pub format: Format,
    pub headers: BTreeMap<String, String>,
    pub access_token: Option<String>,
    /// Signing keys valid now: the current secret, then the previous one during rotation.
    pub keys: Vec<Vec<u8>>,
}

pub const ENDPOINT_COLUMNS: &str =
    "w.id, w.tenant_id, w.url, w.enabled, w.format, w.headers, w.access_token, w.secret, \
     w.previous_secret, w.previous_secret_until";

/// Reads an [`Endpoint`] from [`ENDPOINT_COLUMNS`] starting at column `at`.
pub fn endpoint_from_row(r: &sqlx::any::AnyRow, at: usize, now_ms: i64) -> Result<Endpoint> {
    let mut keys = Vec::with_capacity(2);
    keys.extend(secret_key(&r.get::<String, _>(at + 7)));
    let previous: Option<String> = r.get(at + 8);
    let previous_until: Option<i64> = r.get(at + 9);
    if let (Some(p), Some(until)) = (previous, previous_until) {
        if until > now_ms {
            keys.extend(secret_key(&p));
        }
    }
    Ok(Endpoint {
        id: r.get(at),
        tenant_id: r.get(at + 1),
        url: r.get(at + 2),
        enabled: r.get::<i64, _>(at + 3) != 0,
        format: Format::parse(&r.get::<String, _>(at + 4)).unwrap_or(Format::Standard),
        headers: serde_json::from_str(&r.get::<String, _>(at + 5))?,
        access_token: r.get(at + 6),
        keys,
    })
}

/// One endpoint of a tenant, for a manual send.
pub async fn endpoint(db: &Db, tenant: &TenantId, id: &WebhookId, now_ms: i64) -> Result<Endpoint> {
    let row = sqlx::query(&format!(
        "SELECT {ENDPOINT_COLUMNS} FROM webhooks w WHERE w.tenant_id = $1 AND w.id = $2"
    ))
    .bind(tenant.as_str())
    .bind(id.as_str())
    .fetch_optional(&db.read)
    .await?
    .ok_or_else(|| Error::not_found("webhook"))?;
    endpoint_from_row(&row, 0, now_ms)
}
