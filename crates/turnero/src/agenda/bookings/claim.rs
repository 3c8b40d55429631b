//! Taking room in a calendar without ever exceeding its capacity.
//!
//! Inside a write transaction: lock the calendar (see `calendars::push_lock`), re-check the
//! hours and the policy against the stored rules, read the occupying bookings and live holds
//! whose blocked ranges reach the new one, and compare their peak overlap with the capacity
//! using the same function the slot finder uses. Only then does the caller write.

use turnero_core::capacity::{max_concurrency, Interval};
use turnero_core::ids::{BookingId, CalendarId, ServiceId, TenantId};
use turnero_core::schedule::Policy;

use super::refusal;
use crate::agenda::snapshot::{self, Busy, SnapshotQuery};
use crate::db::Tx;
use crate::error::{Error, Result};

/// No blocked range is longer than this (services: at most 720 minutes plus 240 before and
/// 240 after); the overlap query uses it to stay on the `(calendar_id, block_start)` index
/// instead of scanning the past.
pub const MAX_BLOCK_SECONDS: i64 = 20 * 3600;

/// The room a booking was granted.
pub struct Claim {
    /// The calendar's IANA zone, for answering in local time.
    pub zone: jiff::tz::TimeZone,
    pub body: Interval,
    pub blocked: Interval,
    pub policy: Policy,
}

/// Locks the calendar (in the same call as reading it) and checks that `[start, start + duration)` may be booked now.
/// `ignore` leaves one booking out of the count (the one being moved, or a hold being used).
/// `mirrored`: a booking another system already made (see [`super::mirrors`]): only the
/// capacity is checked.
#[allow(clippy::too_many_arguments)]
pub async fn claim(
    tx: &mut Tx,
    tenant: &TenantId,
    cal: &CalendarId,
    service: &ServiceId,
    start: i64,
    ignore: Option<&BookingId>,
    now: i64,
    mirrored: bool,
) -> Result<Claim> {
    let snap = snapshot::read(
        tx,
        &SnapshotQuery {
            tenant,
            calendar: cal,
            service,
            rules_window: Interval::new(start, start + MAX_BLOCK_SECONDS),
            busy: Busy::BlockedAt(start),
            max_block: MAX_BLOCK_SECONDS,
            ignore,
            now,
            lock: true,
        },
    )
    .await?;
    check_as(&snap, start, now, mirrored)
}

/// Whether a booking may start at `start` given a snapshot that covers it: inside the booking
/// window, the calendar open for the whole appointment, and room left under the capacity.
/// The same rules whether a booking is being written or a slot offered by someone else is
/// being vetted.
pub fn check(snap: &snapshot::Snapshot, start: i64, now: i64) -> Result<Claim> {
    check_as(snap, start, now, false)
}

fn check_as(snap: &snapshot::Snapshot, start: i64, now: i64, mirrored: bool) -> Result<Claim> {
    let (calendar, rules) = (&snap.calendar, &snap.rules);
    let body = Interval::new(start, start + snap.timing.duration_secs());
    let blocked = snap.timing.blocked(start);
    let policy = calendar.policy;
    let window = policy.bookable_window(jiff::Timestamp::from_second(now).unwrap_or_default());
    if !mirrored && (start < window.start || start >= window.end) {
        return Err(Error::invalid(
            "outside_booking_window",
            "start",
            format!(
                "bookings must start between {} and {} from now",
                minutes_text(policy.min_notice_minutes),
                days_text(policy.max_days_ahead)
            ),
        ));
    }
    if !mirrored && !rules.is_open_for(body) {
        return Err(Error::invalid(
            "outside_hours",
            "start",
            "the calendar is not open for the whole appointment at that time",
        ));
    }
    if max_concurrency(&snap.busy, blocked) >= calendar.capacity {
        return Err(Error::conflict(
            refusal::SLOT_UNAVAILABLE,
            "that time is no longer available; ask for slots again",
        ));
    }
    Ok(Claim {
        zone: rules.tz.clone(),
        body,
        blocked,
        policy,
    })
}

fn minutes_text(m: u32) -> String {
    format!("{m} minute{}", if m == 1 { "" } else { "s" })
}

fn days_text(d: u32) -> String {
    format!("{d} day{}", if d == 1 { "" } else { "s" })
}
