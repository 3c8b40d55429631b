//! Exceptions to a calendar's weekly hours: date overrides (closed, or other hours on one local
//! date) and time off (UTC periods when it is unavailable whatever the hours say).

use jiff::civil::Date;
use serde::Serialize;
use sqlx::Row;
use turnero_core::capacity::Interval;
use turnero_core::event;
use turnero_core::ids::{CalendarId, TenantId, TimeOffId};
use turnero_core::time::DayRange;

use super::{get, get_in, Calendar, HoursRange};
use crate::agenda::events;
use crate::db::{Changed, Db, Tx};
use crate::error::{Error, Result};

/// A date override: `None` hours means closed all day.
#[derive(Debug, Clone, Serialize)]
pub struct Override {
    /// Local date, `YYYY-MM-DD`.
    pub date: String,
    pub closed: bool,
    pub hours: Vec<HoursRange>,
}

pub async fn put_override(
    db: &Db,
    tenant: &TenantId,
    cal: &CalendarId,
    day: Date,
    mut hours: Vec<DayRange>,
    now: i64,
) -> Result<Override> {
    hours.sort();
    if hours.windows(2).any(|w| w[1].start < w[0].end) {
        return Err(Error::invalid(
            "overlapping_hours",
            "hours",
            "ranges overlap",
        ));
    }
    let mut tx = db.begin().await?;
    let calendar = get_in(&mut tx, tenant, cal).await?;
    let stored: Vec<HoursRange> = hours
        .iter()
        .map(|r| HoursRange {
            start: r.start.to_string(),
            end: r.end.to_string(),
        })
        .collect();
    sqlx::query("DELETE FROM calendar_overrides WHERE calendar_id = $1 AND day = $2")
        .bind(cal.as_str())
        .bind(day.to_string())
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO calendar_overrides (tenant_id, calendar_id, day, ranges) VALUES ($1, $2, $3, $4)",
    )
    .bind(tenant.as_str())
    .bind(cal.as_str())
    .bind(day.to_string())
    .bind(serde_json::to_string(&stored)?)
    .execute(&mut *tx)
    .await?;
    commit_updated(db, tx, tenant, &calendar, now).await?;
    Ok(Override {
        date: day.to_string(),
        closed: stored.is_empty(),
        hours: stored,
    })
}

pub async fn delete_override(
    db: &Db,
    tenant: &TenantId,
    cal: &CalendarId,
    day: Date,
    now: i64,
) -> Result<()> {
    let mut tx = db.begin().await?;
    let calendar = get_in(&mut tx, tenant, cal).await?;
    let n = sqlx::query(
        "DELETE FROM calendar_overrides WHERE tenant_id = $1 AND calendar_id = $2 AND day = $3",
    )
    .bind(tenant.as_str())
    .bind(cal.as_str())
    .bind(day.to_string())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if n == 0 {
        return Err(Error::not_found("override"));
    }
    commit_updated(db, tx, tenant, &calendar, now).await
}

/// Records `calendar.updated` for `cal` (read at the start of the same transaction, which also
/// proved it is this tenant's) and commits.
async fn commit_updated(
    db: &Db,
    mut tx: Tx,
    tenant: &TenantId,
    cal: &Calendar,
    now: i64,
) -> Result<()> {
    events::record(&mut tx, tenant, event::CALENDAR_UPDATED, &cal.id, cal, now).await?;
    db.commit(tx, Changed::Calendar(&cal.id)).await?;
    Ok(())
}

pub async fn list_overrides(db: &Db, tenant: &TenantId, cal: &CalendarId) -> Result<Vec<Override>> {
    get(db, tenant, cal).await?;
    let rows = sqlx::query(
        "SELECT day, ranges FROM calendar_overrides WHERE tenant_id = $1 AND calendar_id = $2 ORDER BY day",
    )
    .bind(tenant.as_str())
    .bind(cal.as_str())
    .fetch_all(&db.read)
    .await?;
    rows.iter()
        .map(|r| {
            let hours: Vec<HoursRange> = serde_json::from_str(&r.get::<String, _>(1))?;
            Ok(Override {
                date: r.get(0),
                closed: hours.is_empty(),
                hours,
            })
        })
        .collect()
}

/// A period a calendar is closed whatever its hours say.
#[derive(Debug, Clone, Serialize)]
pub struct TimeOff {
    pub id: String,
    pub calendar_id: String,
    pub start: jiff::Timestamp,
    pub end: jiff::Timestamp,
    pub reason: Option<String>,
}

pub async fn add_time_off(
    db: &Db,
    tenant: &TenantId,
    cal: &CalendarId,
    span: Interval,
    reason: Option<String>,
    now: i64,
) -> Result<TimeOff> {
    if span.end <= span.start {
        return Err(Error::invalid(
            "invalid_range",
            "end",
            "must be after start",
        ));
    }
    let mut tx = db.begin().await?;
    let calendar = get_in(&mut tx, tenant, cal).await?;
    let id = TimeOffId::generate();
    sqlx::query(
        "INSERT INTO time_off (id, tenant_id, calendar_id, start_at, end_at, reason) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id.as_str())
    .bind(tenant.as_str())
    .bind(cal.as_str())
    .bind(span.start)
    .bind(span.end)
    .bind(reason.clone())
    .execute(&mut *tx)
    .await?;
    commit_updated(db, tx, tenant, &calendar, now).await?;
    Ok(TimeOff {
        id: id.into_string(),
        calendar_id: cal.to_string(),
        start: crate::agenda::instant(span.start),
        end: crate::agenda::instant(span.end),
        reason,
    })
}

pub async fn list_time_off(db: &Db, tenant: &TenantId, cal: &CalendarId) -> Result<Vec<TimeOff>> {
    get(db, tenant, cal).await?;
    let rows = sqlx::query(
        "SELECT id, start_at, end_at, reason FROM time_off WHERE tenant_id = $1 AND calendar_id = $2 ORDER BY start_at",
    )
    .bind(tenant.as_str())
    .bind(cal.as_str())
    .fetch_all(&db.read)
    .await?;
    Ok(rows
        .iter()
        .map(|r| TimeOff {
            id: r.get(0),
            calendar_id: cal.to_string(),
            start: crate::agenda::instant(r.get(1)),
            end: crate::agenda::instant(r.get(2)),
            reason: r.get(3),
        })
        .collect())
}

pub async fn delete_time_off(
    db: &Db,
    tenant: &TenantId,
    cal: &CalendarId,
    id: &TimeOffId,
    now: i64,
) -> Result<()> {
    let mut tx = db.begin().await?;
    let calendar = get_in(&mut tx, tenant, cal).await?;
    let n =
        sqlx::query("DELETE FROM time_off WHERE tenant_id = $1 AND calendar_id = $2 AND id = $3")
            .bind(tenant.as_str())
            .bind(cal.as_str())
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?
            .rows_affected();
    if n == 0 {
        return Err(Error::not_found("time off"));
    }
    commit_updated(db, tx, tenant, &calendar, now).await
}
