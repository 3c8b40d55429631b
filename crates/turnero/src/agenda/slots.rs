//! Free starts of a calendar for a service: the agenda's own answer, read through the
//! snapshot cache. Every caller that offers slots (`GET /slots`, the bot, AsisteClick's
//! availability check) reads here, so they agree on what is free; asking another agenda
//! on top of it is `asisteclick::offer`.

use jiff::Timestamp;
use turnero_core::capacity::Interval;
use turnero_core::ids::{BookingId, CalendarId, ServiceId, TenantId};
use turnero_core::{compute_slots, SlotPage, SlotQuery};

use super::bookings::MAX_BLOCK_SECONDS;
use super::snapshot::{read_cached, Busy, Snapshot, SnapshotCache, SnapshotQuery};
use crate::db::Db;
use crate::error::Result;

/// Where and when to look.
#[derive(Debug, Clone, Copy)]
pub struct SlotSearch<'a> {
    pub tenant: &'a TenantId,
    pub calendar: &'a CalendarId,
    pub service: &'a ServiceId,
    /// Starts in `[range.start, range.end)`, Unix seconds.
    pub range: Interval,
    /// A booking being moved: its own room counts as free.
    pub moving: Option<&'a BookingId>,
    pub now: Timestamp,
}

/// Reads what availability depends on around the search's range (from the cache when it is
/// fresh).
pub async fn inputs(db: &Db, cache: &SnapshotCache, s: &SlotSearch<'_>) -> Result<Snapshot> {
    read_cached(
        db,
        cache,
        &SnapshotQuery {
            tenant: s.tenant,
            calendar: s.calendar,
            service: s.service,
            rules_window: s.range,
            busy: Busy::Within(Interval::new(
                s.range.start - MAX_BLOCK_SECONDS,
                s.range.end + MAX_BLOCK_SECONDS,
            )),
            max_block: MAX_BLOCK_SECONDS,
            ignore: s.moving,
            now: s.now.as_second(),
            lock: false,
        },
    )
    .await
}

impl Snapshot {
    /// Free starts in `range`: all of them, or `count` from the first at or after
    /// `preferred`, with whether there are more either side.
    pub fn free(
        &self,
        now: Timestamp,
        range: Interval,
        preferred: Option<i64>,
        count: Option<usize>,
    ) -> SlotPage {
        compute_slots(&SlotQuery {
            rules: &self.rules,
            policy: self.calendar.policy,
            service: self.timing,
            capacity: self.calendar.capacity,
            busy: &self.busy,
            now,
            range,
            preferred,
            count,
        })
    }
}
