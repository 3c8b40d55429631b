//! Deleting a calendar or a service. One that nothing refers to is deleted for good. One
//! that holds bookings (past ones included), or that a webhook, the AsisteClick map or a
//! reminder rule names, is archived instead: kept for what points at it, unlinked from every
//! service (so nothing can be booked or offered on it), left out of lists, and refused
//! changes. Upcoming bookings are never orphaned: staff cancel or move them first.

use serde_json::Value;
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

    fn table(self) -> &'static str {
        match self {
            Kind::Calendar => "calendars",
            Kind::Service => "services",
        }
    }

    /// The refusal while it has bookings still to happen.
    fn upcoming_code(self) -> &'static str {
        match self {
            Kind::Calendar => "calendar_has_upcoming_bookings",
            Kind::Service => "service_has_upcoming_bookings",
        }
    }

    /// Its booking locks (`calendars::push_lock`'s statement): a calendar's own, or those of
    /// every calendar offering the service. Taken first, so no booking commits between the
    /// count of bookings and the delete or archive.
    fn lock(self) -> &'static str {
        match self {
            Kind::Calendar => {
                "UPDATE calendars SET lock_seq = lock_seq + 1 WHERE tenant_id = $1 AND id = $2"
            }
            Kind::Service => {
                "UPDATE calendars SET lock_seq = lock_seq + 1 \
                 WHERE tenant_id = $1 AND id IN (SELECT calendar_id FROM service_calendars \
                 WHERE tenant_id = $1 AND service_id = $2)"
            }
        }
    }

    /// What deleting it for good removes, itself last.
    fn deletes(self) -> &'static [&'static str] {
        match self {
            Kind::Calendar => &[
                "DELETE FROM calendar_overrides WHERE tenant_id = $1 AND calendar_id = $2",
                "DELETE FROM time_off WHERE tenant_id = $1 AND calendar_id = $2",
                "DELETE FROM service_calendars WHERE tenant_id = $1 AND calendar_id = $2",
                "DELETE FROM availability_fallbacks WHERE tenant_id = $1 AND calendar_id = $2",
                "DELETE FROM calendars WHERE tenant_id = $1 AND id = $2",
            ],
            Kind::Service => &[
                "DELETE FROM service_calendars WHERE tenant_id = $1 AND service_id = $2",
                "DELETE FROM services WHERE tenant_id = $1 AND id = $2",
            ],
        }
    }

    /// The event types: (archived, deleted).
    fn events(self) -> (&'static str, &'static str) {
        match self {
            Kind::Calendar => (event::CALENDAR_ARCHIVED, event::CALENDAR_DELETED),
            Kind::Service => (event::SERVICE_ARCHIVED, event::SERVICE_DELETED),
        }
    }

    /// The record as its events carry it, and whether it is archived already.
    async fn read(self, tx: &mut Tx, tenant: &TenantId, id: &str) -> Result<(Value, bool)> {
        let id = id.to_string();
        Ok(match self {
            Kind::Calendar => {
                let c = calendars::get_in(tx, tenant, &CalendarId::from_trusted(id)).await?;
                (serde_json::to_value(&c)?, c.archived_at.is_some())
            }
            Kind::Service => {
                let s = services::get_in(tx, tenant, &ServiceId::from_trusted(id)).await?;
                (serde_json::to_value(&s)?, s.archived_at.is_some())
            }
        })
    }
}

pub async fn calendar(db: &Db, tenant: &TenantId, id: &CalendarId, now: i64) -> Result<Retired> {
    retire(db, tenant, Kind::Calendar, id.as_str(), now).await
}

pub async fn service(db: &Db, tenant: &TenantId, id: &ServiceId, now: i64) -> Result<Retired> {
    retire(db, tenant, Kind::Service, id.as_str(), now).await
}

async fn retire(db: &Db, tenant: &TenantId, kind: Kind, id: &str, now: i64) -> Result<Retired> {
    let mut tx = db.begin().await?;
    run(&mut tx, kind.lock(), tenant, id).await?;
    let (_, archived_before) = kind.read(&mut tx, tenant, id).await?;
    if archived_before {
        return Ok(Retired::Archived);
    }
    let (archived_event, deleted_event) = kind.events();
    let retired = if referred_to(&mut tx, tenant, kind, id, now).await? {
        archive(&mut tx, tenant, kind, id, now).await?;
        let (archived, _) = kind.read(&mut tx, tenant, id).await?;
        events::record(&mut tx, tenant, archived_event, id, &archived, now).await?;
        Retired::Archived
    } else {
        for sql in kind.deletes() {
            run(&mut tx, sql, tenant, id).await?;
        }
        let data = serde_json::json!({ "id": id });
        events::record(&mut tx, tenant, deleted_event, id, &data, now).await?;
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
            kind.upcoming_code(),
            format!("this {what} has {upcoming} upcoming booking(s): cancel or move them first"),
        ));
    }
    if all > 0 {
        return Ok(true);
    }
    // Named elsewhere by id: a webhook's calendar filter, the AsisteClick map (JSON), a
    // reminder rule's scope. A deleted id there would silently match nothing.
    let named: i64 = sqlx::query(
        "SELECT (SELECT COUNT(*) FROM webhooks WHERE tenant_id = $1 AND calendar_id = $2) \
         + (SELECT COUNT(*) FROM asisteclick_integrations WHERE tenant_id = $1 \
            AND calendar_map LIKE $3 ESCAPE '\\') \
         + (SELECT COUNT(*) FROM notification_rule_scopes s JOIN notification_rules r \
            ON r.id = s.rule_id WHERE r.tenant_id = $1 AND s.target_id = $2)",
    )
    .bind(tenant.as_str())
    .bind(id)
    .bind(crate::agenda::json_names(id))
    .fetch_one(&mut **tx)
    .await?
    .get(0);
    Ok(named > 0)
}

async fn archive(tx: &mut Tx, tenant: &TenantId, kind: Kind, id: &str, now: i64) -> Result<()> {
    let table = kind.table();
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
