//! A tenant's AsisteClick integration: the random key in its two URLs, the hash of the access
//! token AsisteClick sends with callbacks, and which turnero calendar (and service, for the
//! appointment's length) each AsisteClick `calendar_id` stands for.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sqlx::Row;
use turnero_core::ids::{CalendarId, ServiceId, TenantId};
use utoipa::ToSchema;

use crate::db::{Changed, Db, StampedCache};
use crate::error::{Error, Result};
use crate::secrets;

/// What an AsisteClick `calendar_id` stands for.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Target {
    pub calendar_id: String,
    /// Gives the appointment's length; by default the calendar's first service.
    pub service_id: String,
}

#[derive(Debug, Clone)]
pub struct Integration {
    pub tenant: TenantId,
    pub path_key: String,
    token_hash: String,
    pub calendar_map: BTreeMap<String, Target>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Integration {
    pub fn token_matches(&self, token: &str) -> bool {
        secrets::matches_hash(token, &self.token_hash)
    }

    pub fn target(&self, asisteclick_calendar: &str) -> Option<(CalendarId, ServiceId)> {
        let t = self.calendar_map.get(asisteclick_calendar)?;
        Some((
            CalendarId::from_trusted(t.calendar_id.clone()),
            ServiceId::from_trusted(t.service_id.clone()),
        ))
    }
}

/// One entry of the map as the tenant wrote it (service optional).
pub struct Wanted {
    pub asisteclick_id: String,
    pub calendar: CalendarId,
    pub service: Option<ServiceId>,
}

/// Turns the integration on, or replaces its token and map; the URLs' key stays the same.
pub async fn put(
    db: &Db,
    tenant: &TenantId,
    access_token: &str,
    wanted: Vec<Wanted>,
    now: i64,
) -> Result<Integration> {
    let mut map = BTreeMap::new();
    for w in wanted {
        let field = format!("calendar_map.{}", w.asisteclick_id);
        let service = resolve_service(db, tenant, &w.calendar, w.service.as_ref(), &field).await?;
        map.insert(
            w.asisteclick_id,
            Target {
                calendar_id: w.calendar.into_string(),
                service_id: service,
            },
        );
    }
    let fresh_key = secrets::random_hex(20);
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO asisteclick_integrations (tenant_id, path_key, token_hash, calendar_map, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5) \
         ON CONFLICT (tenant_id) DO UPDATE SET token_hash = excluded.token_hash, \
         calendar_map = excluded.calendar_map, updated_at = excluded.updated_at",
    )
    .bind(tenant.as_str())
    .bind(&fresh_key)
    .bind(secrets::hash(access_token))
    .bind(serde_json::to_string(&map)?)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    // Every process's cached copy (`IntegrationCache`) is stale from this commit on.
    db.commit(tx, Changed::Everything).await?;
    get(db, tenant)
        .await?
        .ok_or_else(|| Error::not_found("integration"))
}

/// The service that gives the length of the calendar's appointments: the one named (which
/// must be offered on that calendar), or the calendar's first.
async fn resolve_service(
    db: &Db,
    tenant: &TenantId,
    calendar: &CalendarId,
    service: Option<&ServiceId>,
    field: &str,
) -> Result<String> {
    let found = sqlx::query(
        "SELECT sc.service_id FROM calendars c \
         LEFT JOIN service_calendars sc ON sc.calendar_id = c.id \
         LEFT JOIN services s ON s.id = sc.service_id \
         WHERE c.tenant_id = $1 AND c.id = $2 ORDER BY s.created_at, s.id",
    )
    .bind(tenant.as_str())
    .bind(calendar.as_str())
    .fetch_all(&db.read)
    .await?;
    if found.is_empty() {
        return Err(Error::invalid(
            "unknown_calendar",
            field,
            "no such calendar",
        ));
    }
    let offered: Vec<String> = found
        .iter()
        .filter_map(|r| r.get::<Option<String>, _>(0))
        .collect();
    match service {
        Some(s) if offered.iter().any(|o| o == s.as_str()) => Ok(s.as_str().to_string()),
        Some(_) => Err(Error::invalid(
            "service_not_offered",
            format!("{field}.service_id"),
            "that service is not offered on that calendar",
        )),
        None => offered.into_iter().next().ok_or_else(|| {
            Error::invalid(
                "calendar_has_no_service",
                field,
                "the calendar offers no service; link one, or name it with service_id",
            )
        }),
    }
}

const COLUMNS: &str = "tenant_id, path_key, token_hash, calendar_map, created_at, updated_at";

fn from_row(r: &sqlx::any::AnyRow) -> Result<Integration> {
    Ok(Integration {
        tenant: TenantId::from_trusted(r.get::<String, _>(0)),
        path_key: r.get(1),
        token_hash: r.get(2),
        calendar_map: serde_json::from_str(&r.get::<String, _>(3))?,
        created_at: r.get(4),
        updated_at: r.get(5),
    })
}

pub async fn get(db: &Db, tenant: &TenantId) -> Result<Option<Integration>> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM asisteclick_integrations WHERE tenant_id = $1"
    ))
    .bind(tenant.as_str())
    .fetch_optional(&db.read)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// The integration whose URLs carry this key (AsisteClick's only way to name a tenant).
/// Every availability call asks, so a process keeps what it read (`IntegrationCache`).
pub async fn by_key(db: &Db, cache: &IntegrationCache, key: &str) -> Result<Option<Integration>> {
    let stamp = db.changes.stamp("").0;
    if db.changes.trusted() {
        if let Some(found) = cache.0.get(key, stamp) {
            return Ok(Some(found));
        }
    }
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM asisteclick_integrations WHERE path_key = $1"
    ))
    .bind(key)
    .fetch_optional(&db.read)
    .await?;
    let found = row.as_ref().map(from_row).transpose()?;
    // Keys nobody has are not kept: guessing them must not fill the cache.
    if let Some(f) = &found {
        cache.0.put(key.to_string(), f.clone(), stamp);
    }
    Ok(found)
}

/// Path key → integration, per process (`db::StampedCache`). Every write to an integration
/// commits as `Changed::Everything` (heard by other processes through NOTIFY on PostgreSQL),
/// so a new token, map or a deletion is seen by the next call everywhere; no time limit is
/// needed on top.
pub struct IntegrationCache(StampedCache<Integration>);

impl Default for IntegrationCache {
    fn default() -> Self {
        Self(StampedCache::new(Duration::MAX))
    }
}

/// Turns the integration off: its URLs answer 404 from then on, in every process.
pub async fn delete(db: &Db, tenant: &TenantId) -> Result<bool> {
    let mut tx = db.begin().await?;
    let done = sqlx::query("DELETE FROM asisteclick_integrations WHERE tenant_id = $1")
        .bind(tenant.as_str())
        .execute(&mut *tx)
        .await?;
    db.commit(tx, Changed::Everything).await?;
    Ok(done.rows_affected() > 0)
}
