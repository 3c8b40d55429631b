//! The notification plan rows a booking change writes in its own transaction, beside its
//! event (as the webhook hub's queue rows are): what the tenant's notification rules say this
//! booking is due to get, and when. The rules themselves, the sending and the reports belong
//! to `notifications` and `chat`, above; this is only the SQL that keeps the plan in step with
//! the booking, so a booking never exists without its plan and a moved or canceled booking
//! never gets the old reminder.

use turnero_core::ids::TenantId;

use crate::db::Batch;
use crate::error::Result;

/// What happened to the booking, as far as its plan is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BookingChange {
    Created,
    Rescheduled,
    Confirmed,
    Canceled,
    /// Marked no-show: nothing more is due before or after it.
    NoShow,
    /// Marked completed: nothing more before it; a follow-up after it still goes.
    Completed,
}

impl BookingChange {
    /// The `on` event a rule may name for this change.
    fn event(self) -> Option<&'static str> {
        match self {
            BookingChange::Created => Some("booking.created"),
            BookingChange::Rescheduled => Some("booking.rescheduled"),
            BookingChange::Canceled => Some("booking.canceled"),
            _ => None,
        }
    }

    /// Which time-anchored rules' messages the change withdraws (SQL over `anchor`).
    fn withdraws(self) -> Option<&'static str> {
        match self {
            BookingChange::Rescheduled | BookingChange::Canceled | BookingChange::NoShow => {
                Some("anchor IN ('before_start', 'after_end')")
            }
            BookingChange::Completed => Some("anchor = 'before_start'"),
            BookingChange::Created | BookingChange::Confirmed => None,
        }
    }
}

/// The rule's scope, as SQL over `r` (the rule) and `b` (the booking): no calendar scope (or
/// no service scope) means all of them.
pub const IN_SCOPE: &str = "\
    (NOT EXISTS (SELECT 1 FROM notification_rule_scopes s WHERE s.rule_id = r.id AND s.kind = 'calendar') \
     OR EXISTS (SELECT 1 FROM notification_rule_scopes s WHERE s.rule_id = r.id AND s.kind = 'calendar' AND s.target_id = b.calendar_id)) \
    AND (NOT EXISTS (SELECT 1 FROM notification_rule_scopes s WHERE s.rule_id = r.id AND s.kind = 'service') \
     OR EXISTS (SELECT 1 FROM notification_rule_scopes s WHERE s.rule_id = r.id AND s.kind = 'service' AND s.target_id = b.service_id))";

/// The instant a time-anchored rule's message is about, and when it is due.
pub const ANCHOR_AT: &str = "CASE WHEN r.anchor = 'before_start' THEN b.start_at ELSE b.end_at END";
pub const DUE_AT: &str = "CASE WHEN r.anchor = 'before_start' THEN b.start_at - r.offset_secs \
     ELSE b.end_at + r.offset_secs END";

/// The plan rows of time-anchored rules for live bookings matched by `filter` (over `b` and
/// `r`; its placeholders start at `$2`), due no earlier than `$1` (now): a booking made ten
/// minutes before its start gets no "tomorrow" reminder. Repeating it adds nothing.
pub fn plan_sql(filter: &str) -> String {
    format!(
        "INSERT INTO notification_plans (tenant_id, rule_id, booking_id, anchor_at, due_at, \
         state, created_at, updated_at) \
         SELECT b.tenant_id, r.id, b.id, {ANCHOR_AT}, {DUE_AT}, 'planned', $1, $1 \
         FROM bookings b JOIN notification_rules r ON r.tenant_id = b.tenant_id \
         WHERE r.deleted_at IS NULL AND r.anchor IN ('before_start', 'after_end') \
         AND b.status IN ('pending', 'confirmed') AND {DUE_AT} >= $1 AND {IN_SCOPE} AND {filter} \
         ON CONFLICT (rule_id, booking_id, anchor_at) DO NOTHING"
    )
}

/// Adds to the booking's transaction what its change does to its plan: a moved or closed
/// booking loses the messages still planned for its old time; a new or moved one gets those
/// its rules now call for; a rule `on` this change gets its message, due at once.
pub fn follow(
    batch: &mut Batch,
    tenant: &TenantId,
    booking_id: &str,
    change: BookingChange,
    now: i64,
) -> Result<()> {
    let (tenant, booking) = (tenant.as_str().to_string(), booking_id.to_string());
    if let Some(anchors) = change.withdraws() {
        let rules = format!(
            "rule_id IN (SELECT id FROM notification_rules WHERE tenant_id = $1 AND {anchors})"
        );
        batch.push(
            format!(
                "DELETE FROM notification_plans WHERE tenant_id = $1 AND booking_id = $2 \
                 AND state = 'planned' AND {rules}"
            ),
            crate::args![tenant.clone(), booking.clone()]?,
        );
        // Already handed to a channel and not yet sent: withdrawn (the outbox checks before
        // sending a reminder), so a moved or canceled appointment is not announced.
        batch.push(
            format!(
                "UPDATE notification_plans SET state = 'skipped', reason = 'booking_changed', \
                 updated_at = $3 WHERE tenant_id = $1 AND booking_id = $2 AND state = 'queued' \
                 AND {rules}"
            ),
            crate::args![tenant.clone(), booking.clone(), now]?,
        );
    }
    if matches!(change, BookingChange::Created | BookingChange::Rescheduled) {
        batch.push(
            plan_sql("b.id = $2 AND b.tenant_id = $3"),
            crate::args![now, booking.clone(), tenant.clone()]?,
        );
    }
    if let Some(event) = change.event() {
        batch.push(
            format!(
                "INSERT INTO notification_plans (tenant_id, rule_id, booking_id, anchor_at, \
                 due_at, state, created_at, updated_at) \
                 SELECT b.tenant_id, r.id, b.id, $1, $1, 'planned', $1, $1 \
                 FROM bookings b JOIN notification_rules r ON r.tenant_id = b.tenant_id \
                 WHERE b.id = $2 AND b.tenant_id = $3 AND r.deleted_at IS NULL \
                 AND r.anchor = 'on' AND r.on_event = $4 AND {IN_SCOPE} \
                 ON CONFLICT (rule_id, booking_id, anchor_at) DO NOTHING"
            ),
            crate::args![now, booking, tenant, event.to_string()]?,
        );
    }
    Ok(())
}
