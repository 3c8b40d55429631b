//! Deleting a calendar or a service. One that nothing refers to is deleted for good. One
//! that holds bookings (past ones included), or that a webhook, the AsisteClick map or a
//! reminder rule names, is archived instead: kept for what points at it, unlinked from every
//! service (so nothing can be booked or offered on it), left out of lists, and refused
//! changes. Upcoming bookings are never orphaned: staff cancel or move them first.

use sqlx::Row;
use turnero_core::event;
use turnero_core::ids::{CalendarId, ServiceId, TenantId};

use crate::agenda::{calendars, events, services};
use crate::db::{Changed, Db, Tx};
use crate::error::{Error, Result};

/// What became of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retired {
    Deleted,
    Archived,
}

/// Which table a retired record lives in, and how others name it.
#[derive(Clone, Copy)]
enum Kind {
    Calendar,
    Service,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Calendar => "calendar",
            Kind::Service => "service",
        }
    }

    fn column(self) -> &'static str {
        match self {
            Kind::Calendar => "calendar_id",
            Kind::Service => "service_id",
        }
    }
}

/// The calendar's booking lock (`calendars::push_lock`'s statement).
const LOCK_CALENDAR: &str =
    "UPDATE calendars SET lock_seq = lock_seq + 1 WHERE tenant_id = $1 AND id = $2";
const LOCK_SERVICE_CALENDARS: &str = "UPDATE calendars SET lock_seq = lock_seq + 1 \
     WHERE tenant_id = $1 AND id IN (SELECT calendar_id FROM service_calendars \
     WHERE tenant_id = $1 AND service_id = $2)";

pub async fn calendar(db: &Db, tenant: &TenantId, id: &CalendarId, now: i64) -> Result<Retired> {
    let mut tx = db.begin().await?;
    // The booking lock first (as a booking takes it): no booking can commit on this
    // calendar between the count of its bookings and the delete or archive.
    run(&mut tx, LOCK_CALENDAR, tenant, id.as_str()).await?;
    let current = calendars::get_in(&mut tx, tenant, id).await?;
    if current.archived_at.is_some() {
        return Ok(Retired::Archived);
    }
    let kind = Kind::Calendar;
    let retired = if referred_to(&mut tx, tenant, kind, id.as_str(), now).await? {
        archive(&mut tx, tenant, kind, id.as_str(), now).await?;
        let archived = calendars::get_in(&mut tx, tenant, id).await?;
        events::record(
            &mut tx,
            tenant,
            event::CALENDAR_ARCHIVED,
            id.as_str(),
            &archived,
            now,
        )
        .await?;
        Retired::Archived
    } else {
        for sql in [
            "DELETE FROM calendar_overrides WHERE tenant_id = $1 AND calendar_id = $2",
            "DELETE FROM time_off WHERE tenant_id = $1 AND calendar_id = $2",
            "DELETE FROM service_calendars WHERE tenant_id = $1 AND calendar_id = $2",
            "DELETE FROM availability_fallbacks WHERE tenant_id = $1 AND calendar_id = $2",
            "DELETE FROM calendars WHERE tenant_id = $1 AND id = $2",
        ] {
            run(&mut tx, sql, tenant, id.as_str()).await?;
        }
        let data = serde_json::json!({"id": id.as_str()});
        events::record(
            &mut tx,
            tenant,
            event::CALENDAR_DELETED,
            id.as_str(),
            &data,
            now,
        )
        .await?;
        Retired::Deleted
    };
    db.commit(tx, Changed::Everything).await?;
    Ok(retired)
}

pub async fn service(db: &Db, tenant: &TenantId, id: &ServiceId, now: i64) -> Result<Retired> {
    let mut tx = db.begin().await?;
    // The booking locks of every calendar offering it, for the same reason.
    run(&mut tx, LOCK_SERVICE_CALENDARS, tenant, id.as_str()).await?;
    let current = services::get_in(&mut tx, tenant, id).await?;
    if current.archived_at.is_some() {
        return Ok(Retired::Archived);
    }
    let kind = Kind::Service;
    let retired = if referred_to(&mut tx, tenant, kind, id.as_str(), now).await? {
        archive(&mut tx, tenant, kind, id.as_str(), now).await?;
        let archived = services::get_in(&mut tx, tenant, id).await?;
        events::record(
            &mut tx,
            tenant,
            event::SERVICE_ARCHIVED,
            id.as_str(),
            &archived,
            now,
        )
        .await?;
        Retired::Archived
    } else {
        for sql in [
            "DELETE FROM service_calendars WHERE tenant_id = $1 AND service_id = $2",
            "DELETE FROM services WHERE tenant_id = $1 AND id = $2",
        ] {
            run(&mut tx, sql, tenant, id.as_str()).await?;
        }
        let data = serde_json::json!({"id": id.as_str()});
        events::record(
            &mut tx,
            tenant,
            event::SERVICE_DELETED,
            id.as_str(),
            &data,
            now,
        )
        .await?;
        Retired::Deleted
    };
    db.commit(tx, Changed::Everything).await?;
    Ok(retired)
}

async fn run(tx: &mut Tx, sql: &str, tenant: &TenantId, id: &str) -> Result<()> {
    sqlx::query(sql)
        .bind(tenant.as_str())
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Whether anything points at it; refuses while it has bookings still to happen.
async fn referred_to(
    tx: &mut Tx,
    tenant: &TenantId,
    kind: Kind,
    id: &str,
    now: i64,
) -> Result<bool> {
    let col = kind.column();
    let row = sqlx::query(&format!(
        "SELECT COUNT(*) FILTER (WHERE status IN ('held', 'pending', 'confirmed') \
         AND end_at > $3), COUNT(*) FROM bookings WHERE tenant_id = $1 AND {col} = $2"
    ))
    .bind(tenant.as_str())
    .bind(id)
    .bind(now)
    .fetch_one(&mut **tx)
    .await?;
    let (upcoming, all): (i64, i64) = (row.get(0), row.get(1));
    if upcoming > 0 {
        let what = kind.name();
        return Err(Error::conflict(
            if matches!(kind, Kind::Calendar) {
                "calendar_has_upcoming_bookings"
            } else {
                "service_has_upcoming_bookings"
            },
            format!("this {what} has {upcoming} upcoming booking(s): cancel or move them first"),
        ));
    }
    if all > 0 {
        return Ok(true);
    }
    // Named elsewhere by id: a webhook's calendar filter, the AsisteClick map (JSON), a
    // reminder rule's scope. A deleted id there would silently match nothing.
    let quoted = format!("%\"{id}\"%");
    let named: i64 = sqlx::query(
        "SELECT (SELECT COUNT(*) FROM webhooks WHERE tenant_id = $1 AND calendar_id = $2) \
         + (SELECT COUNT(*) FROM asisteclick_integrations WHERE tenant_id = $1 \
            AND calendar_map LIKE $3) \
         + (SELECT COUNT(*) FROM notification_rule_scopes s JOIN notification_rules r \
            ON r.id = s.rule_id WHERE r.tenant_id = $1 AND s.target_id = $2)",
    )
    .bind(tenant.as_str())
    .bind(id)
    .bind(quoted)
    .fetch_one(&mut **tx)
    .await?
    .get(0);
    Ok(named > 0)
}

async fn archive(tx: &mut Tx, tenant: &TenantId, kind: Kind, id: &str, now: i64) -> Result<()> {
    let table = match kind {
        Kind::Calendar => "calendars",
        Kind::Service => "services",
    };
    sqlx::query(&format!(
        "UPDATE {table} SET archived_at = $1, updated_at = $1 WHERE tenant_id = $2 AND id = $3"
    ))
    .bind(now)
    .bind(tenant.as_str())
    .bind(id)
    .execute(&mut **tx)
    .await?;
    // Unlinked: no service offers it (or it offers nothing), so no slot, booking or bot
    // question can reach it.
    let sql = format!(
        "DELETE FROM service_calendars WHERE tenant_id = $1 AND {} = $2",
        kind.column()
    );
    run(tx, &sql, tenant, id).await?;
    Ok(())
}
