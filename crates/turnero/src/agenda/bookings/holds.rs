//! Holds: a slot reserved while someone finishes a conversation. A hold is a booking in the
//! `held` state that occupies its slot only until `expires_at`.

use serde_json::Map;
use turnero_core::booking::Status;
use turnero_core::event;
use turnero_core::ids::{BookingId, CalendarId, ServiceId, TenantId};

use super::change::set_status;
use super::claim::claim;
use super::refusal;
use super::write::{insert_claimed, CustomerRef, NewBooking};
use super::{get_in, row_in, Booking};
use crate::agenda::customers::CustomerDef;
use crate::agenda::events;
use crate::db::{Batch, Changed, Db};
use crate::error::{Error, Result};

/// A validated hold request.
pub struct NewHold {
    pub calendar_id: CalendarId,
    pub service_id: ServiceId,
    pub start: i64,
    /// How long the slot stays reserved.
    pub minutes: u32,
    pub source: String,
}

/// Reserves a slot while someone finishes a conversation.
pub async fn place_hold(db: &Db, tenant: &TenantId, hold: NewHold, now: i64) -> Result<Booking> {
    let NewHold {
        calendar_id: cal,
        service_id: service,
        start,
        minutes,
        source,
    } = hold;
    let mut tx = db.begin().await?;
    let c = claim(&mut tx, tenant, &cal, &service, start, None, now, false).await?;
    let new = NewBooking {
        calendar_id: cal,
        service_id: service,
        start,
        customer: CustomerRef::Details(CustomerDef::default()),
        hold_id: None,
        custom_fields: Map::new(),
        notes: None,
        source,
        external: None,
    };
    let expires = now + i64::from(minutes) * 60;
    let mut batch = Batch::default();
    let out = insert_claimed(
        &mut batch,
        tenant,
        &new,
        None,
        Status::Held,
        &c,
        Some(expires),
        now,
    )?;
    events::push(&mut batch, tenant, event::HOLD_CREATED, &out.id, &out, now)?;
    batch.run(&mut tx).await?;
    db.commit(tx, Changed::Calendar(&out.calendar_id)).await?;
    Ok(out)
}

/// Lets go of a hold before it expires.
pub async fn release_hold(db: &Db, tenant: &TenantId, id: &BookingId, now: i64) -> Result<Booking> {
    let mut tx = db.begin().await?;
    let row = row_in(&mut tx, tenant, id).await?;
    if row.status != Status::Held {
        return Err(Error::not_found("hold"));
    }
    let released = set_status(
        &mut tx,
        tenant,
        &row,
        Status::Canceled,
        "released",
        "api",
        Some("hold released".into()),
        now,
    )
    .await?;
    if !released {
        // Booked or expired since we read it: nothing was released, so say nothing was.
        return Err(Error::conflict(
            refusal::HOLD_NOT_ACTIVE,
            "the hold was used or expired meanwhile",
        ));
    }
    let out = get_in(&mut tx, tenant, id).await?;
    events::record(&mut tx, tenant, event::HOLD_RELEASED, &out.id, &out, now).await?;
    db.commit(tx, Changed::Calendar(&out.calendar_id)).await?;
    Ok(out)
}

/// Marks holds past their expiry as `expired`; returns how many. Safe to run from several
/// processes at once: each row changes only if it is still `held`.
pub async fn expire_holds(db: &Db, now: i64) -> Result<usize> {
    use sqlx::Row;
    let rows = sqlx::query(
        "SELECT tenant_id, id FROM bookings WHERE status = 'held' AND expires_at <= $1 ORDER BY expires_at LIMIT 500",
    )
    .bind(now)
    .fetch_all(&db.read)
    .await?;
    let mut expired = 0;
    for r in rows {
        let tenant = TenantId::from_trusted(r.get(0));
        let id = BookingId::from_trusted(r.get(1));
        let mut tx = db.begin().await?;
        let row = row_in(&mut tx, &tenant, &id).await?;
        if row.status != Status::Held || row.expires_at.is_some_and(|e| e > now) {
            continue;
        }
        if set_status(
            &mut tx,
            &tenant,
            &row,
            Status::Expired,
            "expired",
            "system",
            None,
            now,
        )
        .await?
        {
            let out = get_in(&mut tx, &tenant, &id).await?;
            events::record(&mut tx, &tenant, event::HOLD_EXPIRED, &out.id, &out, now).await?;
            db.commit(tx, Changed::Calendar(&out.calendar_id)).await?;
            expired += 1;
        }
    }
    Ok(expired)
}
