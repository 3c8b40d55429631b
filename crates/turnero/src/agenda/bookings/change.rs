//! A booking's later changes: moving it (reschedule) and its status (confirm, cancel,
//! complete, no-show), each with its history entry and outbox event in one transaction.

use turnero_core::booking::{Action, Status};
use turnero_core::event;
use turnero_core::ids::{BookingId, CalendarId, ServiceId, TenantId};

use super::claim::claim;
use super::history::{self, Change};
use super::write::transition_error;
use super::{get_in, row_in, Booking};
use crate::agenda::events;
use crate::agenda::plans::{self, BookingChange};
use crate::db::{Changed, Db, Tx};
use crate::error::{Error, Result};

/// Moves a booking to a new start on the same calendar, keeping its id.
pub async fn reschedule(
    db: &Db,
    tenant: &TenantId,
    id: &BookingId,
    start: i64,
    source: &str,
    now: i64,
) -> Result<Booking> {
    let mut tx = db.begin().await?;
    let row = row_in(&mut tx, tenant, id).await?;
    row.status
        .apply(Action::Reschedule)
        .map_err(transition_error)?;
    if row.start == start {
        // Already there (a repeated request, a callback sent twice): nothing changes, no
        // history, no event.
        return get_in(&mut tx, tenant, id).await;
    }
    let cal = CalendarId::from_trusted(row.calendar_id.clone());
    let service = ServiceId::from_trusted(row.service_id.clone());
    let c = claim(
        &mut tx,
        tenant,
        &cal,
        &service,
        start,
        Some(id),
        now,
        super::mirrors(source),
    )
    .await?;
    check_cutoff(
        row.start,
        c.policy.reschedule_cutoff_minutes,
        now,
        "rescheduled",
        source,
    )?;
    let moved = sqlx::query(
        "UPDATE bookings SET start_at = $1, end_at = $2, block_start = $3, block_end = $4, \
         updated_at = $5 WHERE id = $6 AND status = $7",
    )
    .bind(c.body.start)
    .bind(c.body.end)
    .bind(c.blocked.start)
    .bind(c.blocked.end)
    .bind(now)
    .bind(id.as_str())
    .bind(row.status.as_str())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    // A cancellation (which takes no calendar lock) may have landed since we read the row.
    if moved == 0 {
        return Err(Error::conflict(
            "concurrent_change",
            "the booking changed meanwhile; read it again",
        ));
    }
    history::append(
        &mut tx,
        tenant,
        id,
        Change {
            action: "rescheduled",
            from: Some(row.status),
            to: row.status,
            start: c.body.start,
            end: c.body.end,
            source,
            detail: Some(format!("from {}", turnero_core::time::fmt_ts(row.start))),
        },
        now,
    )
    .await?;
    let out = get_in(&mut tx, tenant, id).await?;
    events::record(&mut tx, tenant, event::BOOKING_UPDATED, &out.id, &out, now).await?;
    // A hold is nobody's appointment yet: its plan begins when it is booked.
    if row.status != Status::Held {
        follow_plan(&mut tx, tenant, &out.id, BookingChange::Rescheduled, now).await?;
    }
    db.commit(tx, Changed::Calendar(&out.calendar_id)).await?;
    Ok(out)
}

/// Confirms, cancels, completes or marks a booking as no-show.
pub async fn confirm_or_close(
    db: &Db,
    tenant: &TenantId,
    id: &BookingId,
    action: Action,
    reason: Option<String>,
    source: &str,
    now: i64,
) -> Result<Booking> {
    let mut tx = db.begin().await?;
    let row = row_in(&mut tx, tenant, id).await?;
    let next = row.status.apply(action).map_err(transition_error)?;
    let (verb, kind) = match action {
        Action::Confirm => ("confirmed", event::BOOKING_CONFIRMED),
        Action::Cancel if row.status == Status::Held => ("released", event::HOLD_RELEASED),
        Action::Cancel => ("canceled", event::BOOKING_CANCELED),
        Action::Complete => ("completed", event::BOOKING_COMPLETED),
        Action::MarkNoShow => ("no_show", event::BOOKING_NO_SHOW),
        other => return Err(anyhow::anyhow!("{other:?} is not a status change").into()),
    };
    if matches!(action, Action::Complete | Action::MarkNoShow) && now < row.start {
        return Err(Error::conflict(
            "not_started",
            "the appointment has not started yet",
        ));
    }
    if action == Action::Cancel && row.status != Status::Held {
        let cal = CalendarId::from_trusted(row.calendar_id.clone());
        let policy = crate::agenda::calendars::get_in(&mut tx, tenant, &cal)
            .await?
            .policy;
        check_cutoff(
            row.start,
            policy.cancel_cutoff_minutes,
            now,
            "canceled",
            source,
        )?;
    }
    if !set_status(&mut tx, tenant, &row, next, verb, source, reason, now).await? {
        return Err(Error::conflict(
            "concurrent_change",
            "the booking changed meanwhile; read it again",
        ));
    }
    let out = get_in(&mut tx, tenant, id).await?;
    events::record(&mut tx, tenant, kind, &out.id, &out, now).await?;
    let change = match next {
        Status::Confirmed => BookingChange::Confirmed,
        Status::Completed => BookingChange::Completed,
        Status::NoShow => BookingChange::NoShow,
        _ => BookingChange::Canceled,
    };
    // A released hold was never a booking anybody was told about.
    if row.status != Status::Held {
        follow_plan(&mut tx, tenant, &out.id, change, now).await?;
    }
    db.commit(tx, Changed::Calendar(&out.calendar_id)).await?;
    Ok(out)
}

/// Compare-and-set on the status, plus its history row. False if someone else changed it.
#[allow(clippy::too_many_arguments)]
pub(super) async fn set_status(
    tx: &mut Tx,
    tenant: &TenantId,
    row: &super::BookingRow,
    to: Status,
    verb: &str,
    source: &str,
    reason: Option<String>,
    now: i64,
) -> Result<bool> {
    let is_cancel = to == Status::Canceled;
    let changed = sqlx::query(
        "UPDATE bookings SET status = $1, cancel_reason = CASE WHEN $2 = 1 THEN $3 ELSE cancel_reason END, \
         updated_at = $4 WHERE tenant_id = $5 AND id = $6 AND status = $7",
    )
    .bind(to.as_str())
    .bind(i64::from(is_cancel))
    .bind(reason.clone())
    .bind(now)
    .bind(tenant.as_str())
    .bind(row.id.as_str())
    .bind(row.status.as_str())
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if changed == 0 {
        return Ok(false);
    }
    history::append(
        tx,
        tenant,
        &row.id,
        Change {
            action: verb,
            from: Some(row.status),
            to,
            start: row.start,
            end: row.end,
            source,
            detail: reason,
        },
        now,
    )
    .await?;
    Ok(true)
}

fn check_cutoff(start: i64, cutoff_minutes: u32, now: i64, verb: &str, source: &str) -> Result<()> {
    if super::mirrors(source) {
        return Ok(());
    }
    if now + i64::from(cutoff_minutes) * 60 > start {
        return Err(Error::conflict(
            "cutoff_passed",
            format!("bookings can only be {verb} up to {cutoff_minutes} minutes before they start"),
        ));
    }
    Ok(())
}

/// The booking's notification plan, kept in step in the change's own transaction.
async fn follow_plan(
    tx: &mut Tx,
    tenant: &TenantId,
    id: &str,
    change: BookingChange,
    now: i64,
) -> Result<()> {
    let mut batch = crate::db::Batch::default();
    plans::follow(&mut batch, tenant, id, change, now)?;
    batch.run(tx).await?;
    Ok(())
}
