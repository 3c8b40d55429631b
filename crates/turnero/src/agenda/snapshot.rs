//! Everything availability depends on, for one calendar and service, read in two queries:
//! the calendar with the service (and whether the calendar offers it), then its date
//! overrides, time off and occupying bookings in one `UNION ALL`. Both the slot search and
//! the booking claim read through here, so they see the same rules.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jiff::civil::Date;
use sqlx::{AnyConnection, Row};
use turnero_core::capacity::Interval;
use turnero_core::ids::{BookingId, CalendarId, ServiceId, TenantId};
use turnero_core::schedule::{ScheduleRules, ServiceTiming};
use turnero_core::time::{parse_time_zone, DayRange};

use crate::agenda::calendars::{self, parse_range, parse_weekly, CalendarOut, HoursRange};
use crate::db::{Batch, Db};
use crate::error::{Error, Result};

/// A calendar's rules around a window, the service's timing, and what already occupies it.
pub struct Snapshot {
    pub calendar: Arc<CalendarOut>,
    pub rules: Arc<ScheduleRules>,
    pub timing: ServiceTiming,
    /// Blocked ranges of occupying bookings and unexpired holds.
    pub busy: Vec<Interval>,
}

/// A calendar's zone and weekly hours; overrides and time off are added by the caller.
fn weekly_rules(calendar: &CalendarOut) -> Result<ScheduleRules> {
    let tz =
        parse_time_zone(&calendar.timezone).map_err(|e| anyhow::anyhow!("stored zone: {e}"))?;
    let mut rules = ScheduleRules::new(tz);
    rules.weekly = parse_weekly(&calendar.weekly_hours)?;
    Ok(rules)
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

pub async fn read(conn: &mut AnyConnection, q: &SnapshotQuery<'_>) -> Result<Snapshot> {
    let mut first = Batch::default();
    if q.lock {
        calendars::push_lock(&mut first, q.tenant, q.calendar)?;
    }
    let row = first
        .then_fetch_optional(
            conn,
            "SELECT c.id, c.name, c.kind, c.timezone, c.location, c.capacity, c.weekly_hours, c.policy, \
             s.id, s.duration_minutes, s.buffer_before_minutes, s.buffer_after_minutes, \
             s.slot_interval_minutes, sc.calendar_id, c.availability_api \
             FROM calendars c \
             LEFT JOIN services s ON s.tenant_id = c.tenant_id AND s.id = $3 \
             LEFT JOIN service_calendars sc ON sc.service_id = s.id AND sc.calendar_id = c.id \
             WHERE c.tenant_id = $1 AND c.id = $2",
            crate::args![
                q.tenant.as_str().to_string(),
                q.calendar.as_str().to_string(),
                q.service.as_str().to_string()
            ]?,
        )
        .await?
        .ok_or_else(|| Error::not_found("calendar"))?;
    let calendar = CalendarOut {
        id: row.get(0),
        name: row.get(1),
        kind: row.get(2),
        timezone: row.get(3),
        location: row.get(4),
        capacity: row.get::<i64, _>(5) as u32,
        weekly_hours: serde_json::from_str(&row.get::<String, _>(6))?,
        policy: serde_json::from_str(&row.get::<String, _>(7))?,
        availability_api: calendars::parse_availability_api(row.get(14))?,
    };
    if row.get::<Option<String>, _>(8).is_none() {
        return Err(Error::invalid(
            "unknown_service",
            "service_id",
            "service not found",
        ));
    }
    if row.get::<Option<String>, _>(13).is_none() {
        return Err(Error::invalid(
            "service_not_offered",
            "service_id",
            "this calendar does not offer that service",
        ));
    }
    let timing = ServiceTiming {
        duration_minutes: row.get::<i64, _>(9) as u32,
        buffer_before_minutes: row.get::<i64, _>(10) as u32,
        buffer_after_minutes: row.get::<i64, _>(11) as u32,
        slot_interval_minutes: row.get::<i64, _>(12) as u32,
    };
    let mut rules = weekly_rules(&calendar)?;
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

/// How long a cached calendar is trusted even without hearing of a change: a safety net for
/// writers that cannot announce (another process on the same SQLite file, a manual edit).
pub const CACHE_TTL: Duration = Duration::from_secs(5);

/// Cached availability inputs per calendar, so the slot search usually reads nothing from
/// the database. Only the slot search uses it; bookings always re-read under the lock.
#[derive(Default)]
pub struct SnapshotCache {
    entries: Mutex<HashMap<String, Arc<Entry>>>,
}

struct Entry {
    stamp: (u64, u64),
    loaded: Instant,
    tenant: String,
    calendar: Arc<CalendarOut>,
    rules: Arc<ScheduleRules>,
    services: HashMap<String, ServiceTiming>,
    /// Occupying blocked ranges sorted by start, with a hold's expiry.
    busy: Vec<(Interval, Option<i64>)>,
    /// Busy ranges and time off are complete for anything starting at or after this.
    from: i64,
}

/// Like [`read`], from the cache when it is fresh; falls back to the database for anything
/// it does not hold (past windows, unknown services, errors).
pub async fn read_cached(db: &Db, q: &SnapshotQuery<'_>) -> Result<Snapshot> {
    let (Busy::Within(busy_window), None, true, false) =
        (q.busy, q.ignore, db.changes.trusted(), q.lock)
    else {
        let mut conn = db.read.acquire().await?;
        return read(&mut conn, q).await;
    };
    let earliest = busy_window.start - q.max_block;
    {
        let entry = match cached(db, q) {
            Some(e) => Some(e),
            None => load(db, q).await?,
        };
        if let Some(e) = entry.filter(|e| e.from <= earliest.min(q.rules_window.start)) {
            if let Some(timing) = e.services.get(q.service.as_str()) {
                let lo = e.busy.partition_point(|(b, _)| b.start < earliest);
                let busy = e.busy[lo..]
                    .iter()
                    .take_while(|(b, _)| b.start < busy_window.end)
                    .filter(|(b, expires)| {
                        b.end > busy_window.start && expires.is_none_or(|x| x > q.now)
                    })
                    .map(|(b, _)| *b)
                    .collect();
                tracing::debug!(calendar = q.calendar.as_str(), "availability from cache");
                return Ok(Snapshot {
                    calendar: e.calendar.clone(),
                    rules: e.rules.clone(),
                    timing: *timing,
                    busy,
                });
            }
        }
    }
    let mut conn = db.read.acquire().await?;
    read(&mut conn, q).await
}

fn cached(db: &Db, q: &SnapshotQuery<'_>) -> Option<Arc<Entry>> {
    let stamp = db.changes.stamp(q.calendar.as_str());
    let entries = db.snapshots.entries.lock().ok()?;
    entries
        .get(q.calendar.as_str())
        .filter(|e| {
            e.stamp == stamp && e.loaded.elapsed() < CACHE_TTL && e.tenant == q.tenant.as_str()
        })
        .cloned()
}

/// Reads a calendar's whole state from `now` minus a margin; caches it if nothing changed
/// while reading. `None` when the calendar is not this tenant's.
async fn load(db: &Db, q: &SnapshotQuery<'_>) -> Result<Option<Arc<Entry>>> {
    let stamp = db.changes.stamp(q.calendar.as_str());
    // A week of margin lets "this week" queries that start in the past use the cache too.
    let from = q.now - 2 * q.max_block - 7 * 86_400;
    let mut conn = db.read.acquire().await?;
    let calendar = match crate::agenda::calendars::get_in(&mut conn, q.tenant, q.calendar).await {
        Ok(c) => c,
        Err(Error::Problem(_)) => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut rules = weekly_rules(&calendar)?;
    let services = sqlx::query(
        "SELECT s.id, s.duration_minutes, s.buffer_before_minutes, s.buffer_after_minutes, \
         s.slot_interval_minutes FROM service_calendars sc JOIN services s ON s.id = sc.service_id \
         WHERE sc.calendar_id = $1 AND s.tenant_id = $2",
    )
    .bind(q.calendar.as_str())
    .bind(q.tenant.as_str())
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| {
        let timing = ServiceTiming {
            duration_minutes: r.get::<i64, _>(1) as u32,
            buffer_before_minutes: r.get::<i64, _>(2) as u32,
            buffer_after_minutes: r.get::<i64, _>(3) as u32,
            slot_interval_minutes: r.get::<i64, _>(4) as u32,
        };
        (r.get::<String, _>(0), timing)
    })
    .collect();
    let rows = sqlx::query(
        "SELECT 'o' AS kind, day, ranges, 0 AS a, 0 AS b, 0 AS c FROM calendar_overrides WHERE calendar_id = $1 \
         UNION ALL SELECT 't', '', '', start_at, end_at, 0 FROM time_off WHERE calendar_id = $1 AND end_at > $2 \
         UNION ALL SELECT CASE WHEN status = 'held' THEN 'h' ELSE 'b' END, '', '', block_start, block_end, \
         COALESCE(expires_at, 0) FROM bookings \
         WHERE calendar_id = $1 AND status IN ('held', 'pending', 'confirmed') AND block_start >= $2",
    )
    .bind(q.calendar.as_str())
    .bind(from)
    .fetch_all(&mut *conn)
    .await?;
    drop(conn);
    let mut busy = Vec::new();
    for r in rows {
        let span = Interval::new(r.get(3), r.get(4));
        match r.get::<String, _>(0).as_str() {
            "o" => {
                let (day, ranges) = override_row(&r)?;
                rules.overrides.insert(day, ranges);
            }
            "t" => rules.time_off.push(span),
            "h" => busy.push((span, Some(r.get::<i64, _>(5)))),
            _ => busy.push((span, None)),
        }
    }
    busy.sort_unstable_by_key(|(b, _)| b.start);
    let entry = Arc::new(Entry {
        stamp,
        loaded: Instant::now(),
        tenant: q.tenant.as_str().to_string(),
        calendar: Arc::new(calendar),
        rules: Arc::new(rules),
        services,
        busy,
        from,
    });
    // Keep it only if no change was announced while we read.
    if db.changes.stamp(q.calendar.as_str()) == stamp {
        if let Ok(mut entries) = db.snapshots.entries.lock() {
            if entries.len() >= 10_000 {
                entries.clear();
            }
            entries.insert(q.calendar.as_str().to_string(), entry.clone());
        }
    }
    Ok(Some(entry))
}
