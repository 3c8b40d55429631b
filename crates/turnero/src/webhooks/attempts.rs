//! Reading attempts back: one attempt, the error log, and the stats behind the dashboard's
//! histogram (successful, slow, failed and rejected per time bucket, plus response times).

use serde::Serialize;
use sqlx::Row;
use turnero_core::ids::{AttemptId, TenantId, WebhookId};
use utoipa::ToSchema;

use crate::db::Db;
use crate::error::{Error, Result};
use turnero_core::time::fmt_ts_ms;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AttemptOut {
    pub id: String,
    pub event_id: String,
    pub event_type: String,
    /// 1 for the first attempt at this event.
    pub attempt: i64,
    /// `scheduled`, `manual` (resend), `test`, or `breaker` (held while paused).
    pub trigger: String,
    pub at: String,
    pub duration_ms: Option<i64>,
    pub status_code: Option<i64>,
    /// `success`, `failed` or `rejected` (held by the breaker; the event stays queued).
    pub outcome: String,
    /// `timeout`, `connect`, `refused_target`, `redirect`, `http_status`, `breaker_open`…
    pub error_kind: Option<String>,
    /// The first 4 KB of the response (or the error).
    pub response: Option<String>,
}

const COLUMNS: &str = "id, event_id, event_type, attempt, trigger, at, duration_ms, \
    status_code, outcome, error_kind, response";

fn from_row(r: &sqlx::any::AnyRow) -> AttemptOut {
    AttemptOut {
        id: r.get(0),
        event_id: r.get(1),
        event_type: r.get(2),
        attempt: r.get(3),
        trigger: r.get(4),
        at: fmt_ts_ms(r.get::<i64, _>(5)),
        duration_ms: r.get(6),
        status_code: r.get(7),
        outcome: r.get(8),
        error_kind: r.get(9),
        response: r.get(10),
    }
}

pub async fn get(db: &Db, tenant: &str, id: &AttemptId) -> Result<AttemptOut> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM webhook_attempts WHERE tenant_id = $1 AND id = $2"
    ))
    .bind(tenant)
    .bind(id.as_str())
    .fetch_optional(&db.read)
    .await?
    .ok_or_else(|| Error::not_found("attempt"))?;
    Ok(from_row(&row))
}

/// Newest first; `before` is the last id of the previous page.
pub async fn list(
    db: &Db,
    tenant: &TenantId,
    webhook: &WebhookId,
    outcome: Option<&str>,
    before: Option<&AttemptId>,
    limit: i64,
) -> Result<Vec<AttemptOut>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM webhook_attempts WHERE tenant_id = $1 AND webhook_id = $2 \
         AND (CAST($3 AS TEXT) IS NULL OR outcome = $3) \
         AND (CAST($4 AS TEXT) IS NULL OR id < $4) ORDER BY id DESC LIMIT $5"
    ))
    .bind(tenant.as_str())
    .bind(webhook.as_str())
    .bind(outcome)
    .bind(before.map(AttemptId::as_str))
    .bind(limit)
    .fetch_all(&db.read)
    .await?;
    Ok(rows.iter().map(from_row).collect())
}

#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct Counts {
    pub successful: u64,
    /// Succeeded, but slower than the slow threshold.
    pub slow: u64,
    pub failed: u64,
    /// Held back while the breaker was open (kept and sent later).
    pub rejected: u64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Bucket {
    pub start: String,
    #[serde(flatten)]
    pub counts: Counts,
}

#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct Timing {
    pub fastest_ms: Option<i64>,
    pub average_ms: Option<i64>,
    pub p95_ms: Option<i64>,
    pub slowest_ms: Option<i64>,
}

#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct Queue {
    /// Waiting for their first attempt or a retry (including those held by the breaker).
    pub pending: i64,
    /// Being sent right now.
    pub sending: i64,
    /// Gave up after the whole retry schedule (see `recover`).
    pub failed: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StatsOut {
    pub window_seconds: i64,
    pub slow_threshold_ms: i64,
    pub totals: Counts,
    /// Response times of the attempts that reached the receiver or timed out.
    pub response_time: Timing,
    pub buckets: Vec<Bucket>,
    pub queue: Queue,
}

pub async fn stats(
    db: &Db,
    tenant: &TenantId,
    webhook: &WebhookId,
    now_ms: i64,
    window_ms: i64,
    buckets: i64,
    slow_ms: i64,
) -> Result<StatsOut> {
    let exists = sqlx::query("SELECT 1 FROM webhooks WHERE tenant_id = $1 AND id = $2")
        .bind(tenant.as_str())
        .bind(webhook.as_str())
        .fetch_optional(&db.read)
        .await?;
    if exists.is_none() {
        return Err(Error::not_found("webhook"));
    }
    let from = now_ms - window_ms;
    let rows = sqlx::query(
        "SELECT at, outcome, duration_ms FROM webhook_attempts \
         WHERE webhook_id = $1 AND at > $2 AND at <= $3",
    )
    .bind(webhook.as_str())
    .bind(from)
    .bind(now_ms)
    .fetch_all(&db.read)
    .await?;
    let width = (window_ms / buckets).max(1);
    let mut out_buckets: Vec<Bucket> = (0..buckets)
        .map(|i| Bucket {
            start: fmt_ts_ms(from + i * width),
            counts: Counts::default(),
        })
        .collect();
    let mut totals = Counts::default();
    let mut durations = Vec::new();
    for r in &rows {
        let at: i64 = r.get(0);
        let outcome: String = r.get(1);
        let duration: Option<i64> = r.get(2);
        let i = (((at - from - 1) / width) as usize).min(out_buckets.len() - 1);
        let counts = [&mut out_buckets[i].counts, &mut totals];
        for c in counts {
            match outcome.as_str() {
                "success" if duration.unwrap_or(0) > slow_ms => c.slow += 1,
                "success" => c.successful += 1,
                "rejected" => c.rejected += 1,
                _ => c.failed += 1,
            }
        }
        if outcome != "rejected" {
            durations.extend(duration);
        }
    }
    durations.sort_unstable();
    let response_time = if durations.is_empty() {
        Timing::default()
    } else {
        let n = durations.len();
        Timing {
            fastest_ms: Some(durations[0]),
            average_ms: Some(durations.iter().sum::<i64>() / n as i64),
            p95_ms: Some(durations[((n * 95).div_ceil(100)).max(1) - 1]),
            slowest_ms: Some(durations[n - 1]),
        }
    };
    let mut queue = Queue::default();
    let states = sqlx::query(
        // One count per state, each over that state's own index, never over the history.
        "SELECT 'pending', COUNT(*) FROM webhook_deliveries WHERE webhook_id = $1 \
         AND state = 'pending' UNION ALL SELECT 'sending', COUNT(*) FROM webhook_deliveries \
         WHERE webhook_id = $1 AND state = 'sending' UNION ALL SELECT 'failed', COUNT(*) \
         FROM webhook_deliveries WHERE webhook_id = $1 AND state = 'failed'",
    )
    .bind(webhook.as_str())
    .fetch_all(&db.read)
    .await?;
    for r in states {
        let n: i64 = r.get(1);
        match r.get::<String, _>(0).as_str() {
            "pending" => queue.pending = n,
            "sending" => queue.sending = n,
            _ => queue.failed = n,
        }
    }
    Ok(StatsOut {
        window_seconds: window_ms / 1000,
        slow_threshold_ms: slow_ms,
        totals,
        response_time,
        buckets: out_buckets,
        queue,
    })
}

/// `30m`, `2h`, `90s`, `1d`: a stats window, at most 7 days.
pub fn parse_window(raw: &str) -> Option<i64> {
    let raw = raw.trim();
    let (n, unit) = raw.split_at(raw.find(|c: char| !c.is_ascii_digit())?);
    let n: i64 = n.parse().ok()?;
    let secs = match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86400,
        _ => return None,
    };
    (1..=7 * 86400).contains(&secs).then_some(secs * 1000)
}

#[cfg(test)]
mod tests {
    use super::parse_window;

    #[test]
    fn windows_are_read_in_seconds_minutes_hours_or_days_up_to_a_week() {
        assert_eq!(parse_window("30m"), Some(1_800_000));
        assert_eq!(parse_window("2h"), Some(7_200_000));
        assert_eq!(parse_window("90s"), Some(90_000));
        assert_eq!(parse_window("8d"), None);
        assert_eq!(parse_window("m"), None);
        assert_eq!(parse_window("10"), None);
    }
}
