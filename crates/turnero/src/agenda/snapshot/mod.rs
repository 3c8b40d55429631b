//! Everything availability depends on, for one calendar and service, read in two queries:
//! the calendar with the service (and whether the calendar offers it), then its date
//! overrides, time off and occupying bookings in one `UNION ALL`. Both the slot search and
//! the booking claim read through here, so they see the same rules.

use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock};

use jiff::civil::Date;
use sqlx::{AnyConnection, Row};
use turnero_core::capacity::Interval;
use turnero_core::ids::{BookingId, CalendarId, ServiceId, TenantId};
use turnero_core::schedule::{ScheduleRules, ServiceTiming};
use turnero_core::time::DayRange;

use crate::agenda::calendars::{self, parse_range, Calendar, HoursRange};
use crate::db::Batch;
use crate::error::{Error, Result};

/// A calendar's rules around a window, the service's timing, and what already occupies it.
pub struct Snapshot {
    pub calendar: Arc<Calendar>,
    pub rules: Arc<ScheduleRules>,
    pub timing: ServiceTiming,
    /// Blocked ranges of occupying bookings and unexpired holds.
    pub busy: Vec<Interval>,
}

/// A calendar's zone and weekly hours; overrides and time off are added by the caller.
fn weekly_rules(calendar: &Calendar) -> ScheduleRules {
    let mut rules = ScheduleRules::new(calendar.zone.clone());
    rules.weekly = calendar.weekly.clone();
    rules
}

/// A `calendar_overrides` row (`day`, `ranges` in columns 1 and 2) as sorted day ranges.
fn override_row(r: &sqlx::any::AnyRow) -> Result<(Date, Vec<DayRange>)> {
    let day: Date = r.get::<String, _>(1).parse().map_err(anyhow::Error::from)?;
    let hours: Vec<HoursRange> = serde_json::from_str(&r.get::<String, _>(2))?;
    let mut ranges = hours
        .iter()
        .map(|h| parse_range(&h.start, &h.end, "override"))
        .collect::<Result<Vec<_>>>()?;
    ranges.sort();
    Ok((day, ranges))
}

/// Which occupying bookings to read.
#[derive(Debug, Clone, Copy)]
pub enum Busy {
    /// Those whose blocked range meets this window.
    Within(Interval),
    /// Those that collide with a booking of the service starting here (its blocked range,
    /// known once the service is read): exactly what a booking check needs.
    BlockedAt(i64),
}

/// What to read: rules for instants in `rules_window`, bookings per `busy` (whose blocked
/// ranges start at most `max_block` before the window), leaving out `ignore`.
pub struct SnapshotQuery<'a> {
    pub tenant: &'a TenantId,
    pub calendar: &'a CalendarId,
    pub service: &'a ServiceId,
    pub rules_window: Interval,
    pub busy: Busy,
    pub max_block: i64,
    pub ignore: Option<&'a BookingId>,
    pub now: i64,
    /// Take the calendar's booking lock first (see `calendars::push_lock`); write
    /// transactions only.
    pub lock: bool,
}

/// The calendar with the service, and whether the calendar offers it.
static READ_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {}, s.id, s.duration_minutes, s.buffer_before_minutes, \
         s.buffer_after_minutes, s.slot_interval_minutes, sc.calendar_id \
         FROM calendars c \
         LEFT JOIN services s ON s.tenant_id = c.tenant_id AND s.id = $3 \
         LEFT JOIN service_calendars sc ON sc.service_id = s.id AND sc.calendar_id = c.id \
         WHERE c.tenant_id = $1 AND c.id = $2",
        calendars::COLUMNS_OF_C
    )
});

pub async fn read(conn: &mut AnyConnection, q: &SnapshotQuery<'_>) -> Result<Snapshot> {
    let mut first = Batch::default();
    if q.lock {
        calendars::push_lock(&mut first, q.tenant, q.calendar)?;
    }
    let row = first
        .then_fetch_optional(
            conn,
            &READ_SQL,
            crate::args![
                q.tenant.as_str().to_string(),
                q.calendar.as_str().to_string(),
                q.service.as_str().to_string()
            ]?,
        )
        .await?
        .ok_or_else(|| Error::not_found("calendar"))?;
    let calendar = calendars::from_columns(&row, 0)?;
    let n = calendars::COLUMN_COUNT;
    if row.get::<Option<String>, _>(n).is_none() {
        return Err(Error::invalid(
            "unknown_service",
            "service_id",
            "service not found",
        ));
    }
    if row.get::<Option<String>, _>(n + 5).is_none() {
        return Err(Error::invalid(
            "service_not_offered",
            "service_id",
            "this calendar does not offer that service",
        ));
    }
    let timing = ServiceTiming {
        duration_minutes: row.get::<i64, _>(n + 1) as u32,
        buffer_before_minutes: row.get::<i64, _>(n + 2) as u32,
        buffer_after_minutes: row.get::<i64, _>(n + 3) as u32,
        slot_interval_minutes: row.get::<i64, _>(n + 4) as u32,
    };
    let mut rules = weekly_rules(&calendar);
    let busy_window = match q.busy {
        Busy::Within(w) => w,
        Busy::BlockedAt(start) => timing.blocked(start),
    };

    // Local dates can be a day off either side of the UTC window.
    let first_day = rules
        .local_date(q.rules_window.start - 86_400)
        .map(|d| d.to_string());
    let last_day = rules
        .local_date(q.rules_window.end + 86_400)
        .map(|d| d.to_string());
    let rows = sqlx::query(
        "SELECT 'o' AS kind, day, ranges, 0 AS a, 0 AS b FROM calendar_overrides \
         WHERE calendar_id = $1 AND day >= $2 AND day <= $3 \
         UNION ALL SELECT 't', '', '', start_at, end_at FROM time_off \
         WHERE calendar_id = $1 AND start_at < $4 AND end_at > $5 \
         UNION ALL SELECT 'b', '', '', block_start, block_end FROM bookings \
         WHERE calendar_id = $1 AND status IN ('held', 'pending', 'confirmed') \
         AND block_start >= $6 AND block_start < $7 AND block_end > $8 \
         AND (status <> 'held' OR expires_at > $9) AND id <> $10",
    )
    .bind(q.calendar.as_str())
    .bind(first_day.unwrap_or_default())
    .bind(last_day.unwrap_or_else(|| "9999".into()))
    .bind(q.rules_window.end)
    .bind(q.rules_window.start)
    .bind(busy_window.start - q.max_block)
    .bind(busy_window.end)
    .bind(busy_window.start)
    .bind(q.now)
    .bind(q.ignore.map_or("", |b| b.as_str()))
    .fetch_all(&mut *conn)
    .await?;

    let mut overrides = BTreeMap::new();
    let mut busy = Vec::new();
    for r in rows {
        let span = || Interval::new(r.get(3), r.get(4));
        match r.get::<String, _>(0).as_str() {
            "o" => {
                let (day, ranges) = override_row(&r)?;
                overrides.insert(day, ranges);
            }
            "t" => rules.time_off.push(span()),
            _ => busy.push(span()),
        }
    }
    rules.overrides = overrides;
    Ok(Snapshot {
        calendar: Arc::new(calendar),
        rules: Arc::new(rules),
        timing,
        busy,
    })
}

mod cache;

pub use cache::{read_cached, SnapshotCache, CACHE_TTL};
