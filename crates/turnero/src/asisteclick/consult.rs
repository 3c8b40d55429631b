//! turnero as the bot platform, asking someone else's agenda which of a calendar's slots are
//! free, in the request AsisteClick's bot sends (seed 000, "mostrar disponibilidad por api").
//! turnero's own free slots go out; the answer keeps a subset. When the endpoint is slow
//! (default 3 s), fails, or answers something unreadable, turnero's own slots are offered
//! instead, so a patient always gets an answer, and the reason is recorded for the operator.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use jiff::tz::{Offset, TimeZone};
use jiff::Timestamp;
use serde::Serialize;
use serde_json::{json, Value};
use sqlx::Row;
use turnero_core::ids::{CalendarId, TenantId};
use turnero_core::Slot;
use utoipa::ToSchema;

use super::{parse_instant, Lenient};
use crate::agenda::calendars::AvailabilityApi;
use crate::db::Db;
use crate::error::Result;
use crate::outbound::{is_refused, Outbound};

/// Answers bigger than this are not read (a slot list is a few KB).
const MAX_ANSWER_BYTES: usize = 1 << 20;

/// Why the endpoint's answer was not used.
#[derive(Debug, Clone)]
pub struct Fallback {
    /// `timeout`, `connect`, `refused_target`, `http_status`, `invalid` or `breaker_open`.
    pub reason: &'static str,
    pub detail: String,
    pub duration_ms: i64,
}

/// The User-Agent of these requests (AsisteClick's is `AsisteClick-Booking/2.0`).
pub fn user_agent() -> String {
    format!("turnero-booking/{}", env!("CARGO_PKG_VERSION"))
}

/// A slot's id on the wire: its start, so an answer can be matched back without state.
fn slot_id(s: &Slot) -> String {
    format!("slot_{}", s.start)
}

fn local(secs: i64, offset: i32) -> String {
    let t = Timestamp::from_second(secs).unwrap_or_default();
    let offset = Offset::from_seconds(offset).unwrap_or(Offset::UTC);
    offset
        .to_datetime(t)
        .strftime("%Y-%m-%dT%H:%M:%S")
        .to_string()
}

/// `-3`, `5.5`: the hour offset as AsisteClick writes `timezone`.
fn hours(offset: i32) -> String {
    if offset % 3600 == 0 {
        (offset / 3600).to_string()
    } else {
        format!("{}", f64::from(offset) / 3600.0)
    }
}

/// The request body, in AsisteClick's shape.
pub fn request(
    api: &AvailabilityApi,
    tz: &TimeZone,
    slots: &[Slot],
    range: (i64, i64),
    preferred: Option<i64>,
    count: Option<usize>,
) -> Value {
    let offset_at = |secs: i64| {
        tz.to_offset(Timestamp::from_second(secs).unwrap_or_default())
            .seconds()
    };
    let offset = offset_at(range.0);
    let date = |secs: i64| local(secs, offset_at(secs))[..10].to_string();
    let calendar_id = api
        .external_calendar_id
        .parse::<i64>()
        .map(Value::from)
        .unwrap_or_else(|_| Value::from(api.external_calendar_id.clone()));
    let wire: Vec<Value> = slots
        .iter()
        .map(|s| {
            let local = local(s.start, s.offset_seconds);
            json!({
                "text": local.replace('T', " ")[..16].to_string(),
                "isoLocal": local,
                "iso": turnero_core::time::fmt_ts(s.start),
                "id": slot_id(s),
            })
        })
        .collect();
    json!({
        "calendar_id": calendar_id,
        "timezone": hours(offset),
        "preferred": preferred.map(|p| local(p, offset_at(p))),
        "count": count,
        "start_date": date(range.0),
        "end_date": date(range.1 - 1),
        "slots": wire,
    })
}

/// After this many failures in a row an endpoint is left alone for [`BREAKER_OPEN_SECS`]:
/// a dead agenda must not cost every slot search its full timeout.
const BREAKER_TRIPS_AFTER: u32 = 5;
const BREAKER_OPEN_SECS: i64 = 30;

/// Per endpoint URL, in this process: failures in a row, and until when it is left alone.
#[derive(Default)]
struct Breaker {
    failures: u32,
    open_until: i64,
}

static BREAKERS: std::sync::LazyLock<std::sync::Mutex<std::collections::HashMap<String, Breaker>>> =
    std::sync::LazyLock::new(Default::default);

/// Whether the endpoint may be asked now (one probe once the pause is over).
fn breaker_allows(url: &str, now: i64) -> bool {
    let mut all = BREAKERS.lock().expect("breakers");
    let b = all.entry(url.to_string()).or_default();
    if b.failures < BREAKER_TRIPS_AFTER {
        return true;
    }
    if now < b.open_until {
        return false;
    }
    // One probe: the others keep falling back until it answers, or (if it never does, a
    // request given up midway) until the next pause ends.
    b.open_until = now + BREAKER_OPEN_SECS;
    true
}

fn breaker_outcome(url: &str, ok: bool, now: i64) {
    let mut all = BREAKERS.lock().expect("breakers");
    let b = all.entry(url.to_string()).or_default();
    if ok {
        b.failures = 0;
        return;
    }
    b.failures = b.failures.saturating_add(1);
    if b.failures >= BREAKER_TRIPS_AFTER {
        b.open_until = now + BREAKER_OPEN_SECS;
    }
}

/// Asks the endpoint unless its breaker is open; answers the slots it kept, in turnero's
/// order.
pub async fn ask(
    outbound: &Outbound,
    api: &AvailabilityApi,
    body: &Value,
    slots: &[Slot],
    now: i64,
) -> std::result::Result<Vec<Slot>, Fallback> {
    if !breaker_allows(&api.url, now) {
        return Err(Fallback {
            reason: "breaker_open",
            detail: format!(
                "{BREAKER_TRIPS_AFTER} failures in a row: not asked for {BREAKER_OPEN_SECS} s"
            ),
            duration_ms: 0,
        });
    }
    let answer = ask_now(outbound, api, body, slots).await;
    breaker_outcome(&api.url, answer.is_ok(), now);
    answer
}

async fn ask_now(
    outbound: &Outbound,
    api: &AvailabilityApi,
    body: &Value,
    slots: &[Slot],
) -> std::result::Result<Vec<Slot>, Fallback> {
    let started = Instant::now();
    let fail = |reason: &'static str, detail: String| Fallback {
        reason,
        detail,
        duration_ms: started.elapsed().as_millis() as i64,
    };
    let timeout = Duration::from_millis(api.timeout_ms);
    // Checked on every call, not only when saved: the allow-list may have narrowed since.
    if let Err(e) = outbound.check_url(&api.url) {
        return Err(fail("refused_target", e.to_string()));
    }
    let call = async {
        let mut resp = outbound
            .client
            .post(&api.url)
            .header(reqwest::header::USER_AGENT, user_agent())
            .json(body)
            .timeout(timeout)
            .send()
            .await?;
        let status = resp.status();
        // Read at most the cap, whatever the endpoint streams.
        let mut bytes = Vec::new();
        while let Some(chunk) = resp.chunk().await? {
            bytes.extend_from_slice(&chunk);
            if bytes.len() > MAX_ANSWER_BYTES {
                break;
            }
        }
        Ok::<_, reqwest::Error>((status, bytes))
    };
    let (status, bytes) = match tokio::time::timeout(timeout, call).await {
        Err(_) => {
            return Err(fail(
                "timeout",
                format!("no answer within {} ms", api.timeout_ms),
            ))
        }
        Ok(Err(e)) if e.is_timeout() => {
            return Err(fail(
                "timeout",
                format!("no answer within {} ms", api.timeout_ms),
            ))
        }
        Ok(Err(e)) if is_refused(&e) => {
            return Err(fail(
                "refused_target",
                "the URL resolves to a private address".into(),
            ))
        }
        Ok(Err(e)) => return Err(fail("connect", e.without_url().to_string())),
        Ok(Ok(answer)) => answer,
    };
    if !status.is_success() {
        return Err(fail("http_status", format!("answered {status}")));
    }
    if bytes.len() > MAX_ANSWER_BYTES {
        return Err(fail("invalid", "the answer is over 1 MB".into()));
    }
    let answer: Value =
        serde_json::from_slice(&bytes).map_err(|e| fail("invalid", format!("not JSON: {e}")))?;
    let kept = Lenient::of(&answer)
        .and_then(|a| a.get("slots").cloned())
        .and_then(|v| v.as_array().cloned())
        .ok_or_else(|| fail("invalid", "no `slots` array in the answer".into()))?;
    let mut ids = HashSet::new();
    let mut starts = HashSet::new();
    for slot in &kept {
        let Some(s) = Lenient::of(slot) else { continue };
        if let Some(id) = s.text("id") {
            ids.insert(id);
        }
        if let Some(start) = s.text("iso").and_then(|t| parse_instant(&t, None)) {
            starts.insert(start);
        }
    }
    Ok(slots
        .iter()
        .filter(|s| ids.contains(&slot_id(s)) || starts.contains(&s.start))
        .copied()
        .collect())
}

/// Writes down why the endpoint was not used (and logs it).
pub async fn record_fallback(
    db: &Db,
    tenant: &TenantId,
    calendar: &CalendarId,
    f: &Fallback,
    now: i64,
) -> Result<()> {
    tracing::warn!(
        calendar = calendar.as_str(),
        reason = f.reason,
        detail = f.detail,
        "availability endpoint not used; offering turnero's own slots"
    );
    sqlx::query(
        "INSERT INTO availability_fallbacks (tenant_id, calendar_id, at, reason, detail, \
         duration_ms) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(tenant.as_str())
    .bind(calendar.as_str())
    .bind(now)
    .bind(f.reason)
    .bind(&f.detail)
    .bind(f.duration_ms)
    .execute(&db.write)
    .await?;
    Ok(())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FallbackOut {
    pub at: String,
    /// `timeout`, `connect`, `refused_target`, `http_status` or `invalid`.
    pub reason: String,
    pub detail: Option<String>,
    pub duration_ms: i64,
}

/// The most recent fallbacks of a calendar, newest first.
pub async fn recent_fallbacks(
    db: &Db,
    tenant: &TenantId,
    calendar: &CalendarId,
    limit: i64,
) -> Result<Vec<FallbackOut>> {
    let rows = sqlx::query(
        "SELECT at, reason, detail, duration_ms FROM availability_fallbacks \
         WHERE tenant_id = $1 AND calendar_id = $2 ORDER BY id DESC LIMIT $3",
    )
    .bind(tenant.as_str())
    .bind(calendar.as_str())
    .bind(limit)
    .fetch_all(&db.read)
    .await?;
    Ok(rows
        .iter()
        .map(|r| FallbackOut {
            at: turnero_core::time::fmt_ts(r.get(0)),
            reason: r.get(1),
            detail: r.get(2),
            duration_ms: r.get(3),
        })
        .collect())
}
