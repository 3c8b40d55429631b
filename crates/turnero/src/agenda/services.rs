//! Services: what can be booked, for how long, with which buffers, on which calendars.

use serde::Serialize;
use sqlx::{AnyConnection, Row};
use turnero_core::event;
use turnero_core::ids::{CalendarId, ServiceId, TenantId};
use turnero_core::schedule::ServiceTiming;

use crate::agenda::events;
use crate::db::{Changed, Db, Tx};
use crate::error::{Error, Result};

/// A service as the agenda knows it; `Serialize` is the published form events carry.
#[derive(Debug, Clone, Serialize)]
pub struct Service {
    pub id: String,
    pub name: String,
    pub duration_minutes: u32,
    pub buffer_before_minutes: u32,
    pub buffer_after_minutes: u32,
    /// Distance between offered start times.
    pub slot_interval_minutes: u32,
    pub calendar_ids: Vec<String>,
    /// Set when it was deleted while holding bookings: kept for them, offered no more.
    pub archived_at: Option<String>,
}

/// A validated service definition.
pub struct ServiceDef {
    pub name: String,
    pub timing: ServiceTiming,
    pub calendar_ids: Vec<CalendarId>,
}

pub async fn create(db: &Db, tenant: &TenantId, def: ServiceDef, now: i64) -> Result<Service> {
    let id = ServiceId::generate();
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO services (id, tenant_id, name, duration_minutes, buffer_before_minutes, \
         buffer_after_minutes, slot_interval_minutes, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
    )
    .bind(id.as_str())
    .bind(tenant.as_str())
    .bind(&def.name)
    .bind(i64::from(def.timing.duration_minutes))
    .bind(i64::from(def.timing.buffer_before_minutes))
    .bind(i64::from(def.timing.buffer_after_minutes))
    .bind(i64::from(def.timing.slot_interval_minutes))
    .bind(now)
    .execute(&mut *tx)
    .await?;
    link_calendars(&mut tx, tenant, &id, &def.calendar_ids).await?;
    let out = get_in(&mut tx, tenant, &id).await?;
    events::record(&mut tx, tenant, event::SERVICE_CREATED, &out.id, &out, now).await?;
    // Which calendars offer what changed: drop every cached calendar.
    db.commit(tx, Changed::Everything).await?;
    Ok(out)
}

pub async fn replace(
    db: &Db,
    tenant: &TenantId,
    id: &ServiceId,
    def: ServiceDef,
    now: i64,
) -> Result<Service> {
    let mut tx = db.begin().await?;
    let n = sqlx::query(
        "UPDATE services SET name = $1, duration_minutes = $2, buffer_before_minutes = $3, \
         buffer_after_minutes = $4, slot_interval_minutes = $5, updated_at = $6 \
         WHERE tenant_id = $7 AND id = $8 AND archived_at IS NULL",
    )
    .bind(&def.name)
    .bind(i64::from(def.timing.duration_minutes))
    .bind(i64::from(def.timing.buffer_before_minutes))
    .bind(i64::from(def.timing.buffer_after_minutes))
    .bind(i64::from(def.timing.slot_interval_minutes))
    .bind(now)
    .bind(tenant.as_str())
    .bind(id.as_str())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if n == 0 {
        get_in(&mut tx, tenant, id).await?; // 404 when it is not there
        return Err(crate::agenda::calendars::archived("service"));
    }
    sqlx::query("DELETE FROM service_calendars WHERE service_id = $1")
        .bind(id.as_str())
        .execute(&mut *tx)
        .await?;
    link_calendars(&mut tx, tenant, id, &def.calendar_ids).await?;
    let out = get_in(&mut tx, tenant, id).await?;
    events::record(&mut tx, tenant, event::SERVICE_UPDATED, &out.id, &out, now).await?;
    // Which calendars offer what changed: drop every cached calendar.
    db.commit(tx, Changed::Everything).await?;
    Ok(out)
}

async fn link_calendars(
    tx: &mut Tx,
    tenant: &TenantId,
    id: &ServiceId,
    calendars: &[CalendarId],
) -> Result<()> {
    for (i, cal) in calendars.iter().enumerate() {
        let exists = sqlx::query(
            "SELECT 1 FROM calendars WHERE tenant_id = $1 AND id = $2 AND archived_at IS NULL",
        )
        .bind(tenant.as_str())
        .bind(cal.as_str())
        .fetch_optional(&mut **tx)
        .await?
        .is_some();
        if !exists {
            return Err(Error::invalid(
                "unknown_calendar",
                format!("calendar_ids[{i}]"),
                format!("calendar {cal} not found"),
            ));
        }
        sqlx::query(
            "INSERT INTO service_calendars (tenant_id, service_id, calendar_id) VALUES ($1, $2, $3) \
             ON CONFLICT DO NOTHING",
        )
        .bind(tenant.as_str())
        .bind(id.as_str())
        .bind(cal.as_str())
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

fn from_row(r: &sqlx::any::AnyRow, calendar_ids: Vec<String>) -> Service {
    Service {
        id: r.get(0),
        name: r.get(1),
        duration_minutes: r.get::<i64, _>(2) as u32,
        buffer_before_minutes: r.get::<i64, _>(3) as u32,
        buffer_after_minutes: r.get::<i64, _>(4) as u32,
        slot_interval_minutes: r.get::<i64, _>(5) as u32,
        calendar_ids,
        archived_at: r
            .get::<Option<i64>, _>(6)
            .map(|t| turnero_core::time::fmt_utc(crate::agenda::instant(t))),
    }
}

const COLUMNS: &str = "id, name, duration_minutes, buffer_before_minutes, \
    buffer_after_minutes, slot_interval_minutes, archived_at";

pub async fn get(db: &Db, tenant: &TenantId, id: &ServiceId) -> Result<Service> {
    let mut conn = db.read.acquire().await?;
    get_in(&mut conn, tenant, id).await
}

pub async fn get_in(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    id: &ServiceId,
) -> Result<Service> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM services WHERE tenant_id = $1 AND id = $2"
    ))
    .bind(tenant.as_str())
    .bind(id.as_str())
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| Error::not_found("service"))?;
    let cals = sqlx::query(
        "SELECT calendar_id FROM service_calendars WHERE service_id = $1 ORDER BY calendar_id",
    )
    .bind(id.as_str())
    .fetch_all(&mut *conn)
    .await?;
    Ok(from_row(&row, cals.iter().map(|r| r.get(0)).collect()))
}

pub async fn list(db: &Db, tenant: &TenantId) -> Result<Vec<Service>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM services WHERE tenant_id = $1 AND archived_at IS NULL ORDER BY id"
    ))
    .bind(tenant.as_str())
    .fetch_all(&db.read)
    .await?;
    let links = sqlx::query(
        "SELECT service_id, calendar_id FROM service_calendars WHERE tenant_id = $1 ORDER BY calendar_id",
    )
    .bind(tenant.as_str())
    .fetch_all(&db.read)
    .await?;
    Ok(rows
        .iter()
        .map(|r| {
            let id: String = r.get(0);
            let cals = links
                .iter()
                .filter(|l| l.get::<String, _>(0) == id)
                .map(|l| l.get(1))
                .collect();
            from_row(r, cals)
        })
        .collect())
}
