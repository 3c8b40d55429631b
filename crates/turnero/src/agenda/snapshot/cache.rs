//! The per-calendar cache of availability inputs, so the slot search usually reads nothing
//! from the database. It belongs to whoever searches slots (the API, the bot): the database
//! handle only announces what changed (`Db::changes`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sqlx::Row;
use turnero_core::capacity::Interval;
use turnero_core::schedule::{ScheduleRules, ServiceTiming};

use super::{override_row, read, weekly_rules, Busy, Snapshot, SnapshotQuery};
use crate::agenda::calendars::Calendar;
use crate::db::Db;
use crate::error::{Error, Result};

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
    calendar: Arc<Calendar>,
    rules: Arc<ScheduleRules>,
    services: HashMap<String, ServiceTiming>,
    /// Occupying blocked ranges sorted by start, with a hold's expiry.
    busy: Vec<(Interval, Option<i64>)>,
    /// Busy ranges and time off are complete for anything starting at or after this.
    from: i64,
}

/// Like [`read`], from the cache when it is fresh; falls back to the database for anything
/// it does not hold (past windows, unknown services, errors).
pub async fn read_cached(
    db: &Db,
    cache: &SnapshotCache,
    q: &SnapshotQuery<'_>,
) -> Result<Snapshot> {
    let (Busy::Within(busy_window), None, true, false) =
        (q.busy, q.ignore, db.changes.trusted(), q.lock)
    else {
        let mut conn = db.read.acquire().await?;
        return read(&mut conn, q).await;
    };
    let earliest = busy_window.start - q.max_block;
    {
        let entry = match cached(db, cache, q) {
            Some(e) => Some(e),
            None => load(db, cache, q).await?,
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

fn cached(db: &Db, cache: &SnapshotCache, q: &SnapshotQuery<'_>) -> Option<Arc<Entry>> {
    let stamp = db.changes.stamp(q.calendar.as_str());
    let entries = cache.entries.lock().ok()?;
    entries
        .get(q.calendar.as_str())
        .filter(|e| {
            e.stamp == stamp && e.loaded.elapsed() < CACHE_TTL && e.tenant == q.tenant.as_str()
        })
        .cloned()
}

/// Reads a calendar's whole state from `now` minus a margin; caches it if nothing changed
/// while reading. `None` when the calendar is not this tenant's.
async fn load(db: &Db, cache: &SnapshotCache, q: &SnapshotQuery<'_>) -> Result<Option<Arc<Entry>>> {
    let stamp = db.changes.stamp(q.calendar.as_str());
    // A week of margin lets "this week" queries that start in the past use the cache too.
    let from = q.now - 2 * q.max_block - 7 * 86_400;
    let mut conn = db.read.acquire().await?;
    let calendar = match crate::agenda::calendars::get_in(&mut conn, q.tenant, q.calendar).await {
        Ok(c) => c,
        Err(Error::Problem(_)) => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut rules = weekly_rules(&calendar);
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
        if let Ok(mut entries) = cache.entries.lock() {
            if entries.len() >= 10_000 {
                entries.clear();
            }
            entries.insert(q.calendar.as_str().to_string(), entry.clone());
        }
    }
    Ok(Some(entry))
}
