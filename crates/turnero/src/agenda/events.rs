//! The outbox: every state change writes its event here, in the same transaction.
//! The webhook hub and `GET /api/v1/events` read from this table; the hub's queue rows are
//! written beside each event, so a committed event always has its deliveries.

use serde::Serialize;
use turnero_core::event;
use turnero_core::ids::{EventId, TenantId};

use sqlx::Row;

use crate::db::{Batch, Db, Tx};
use crate::error::Result;

/// Appends an event whose `data` is the changed object as the API shows it.
pub async fn record(
    tx: &mut Tx,
    tenant: &TenantId,
    kind: &str,
    subject_id: &str,
    data: &impl Serialize,
    now: i64,
) -> Result<EventId> {
    let mut batch = Batch::default();
    let id = push(&mut batch, tenant, kind, subject_id, data, now)?;
    batch.run(tx).await?;
    Ok(id)
}

/// The fields of an event's data that webhook filters match on.
#[derive(Default, serde::Deserialize)]
struct Filtered {
    channel: Option<String>,
    calendar_id: Option<String>,
}

/// Adds the event's insert to a batch that the caller runs in its transaction.
pub fn push(
    batch: &mut Batch,
    tenant: &TenantId,
    kind: &str,
    subject_id: &str,
    data: &impl Serialize,
    now: i64,
) -> Result<EventId> {
    let id = EventId::generate();
    // Webhooks may filter on a conversation's channel and a booking's calendar; they are
    // read back from the text, so `data` keeps its fields in the order the API shows them.
    let data = serde_json::to_string(data)?;
    let Filtered {
        channel,
        calendar_id,
    } = if kind.starts_with("message.")
        || kind.starts_with("conversation.")
        || kind.starts_with("booking.")
    {
        serde_json::from_str(&data)?
    } else {
        Filtered::default()
    };
    batch.push(
        "INSERT INTO events (id, tenant_id, type, subject_id, data, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        crate::args![
            id.as_str().to_string(),
            tenant.as_str().to_string(),
            kind.to_string(),
            subject_id.to_string(),
            data,
            now
        ]?,
    );
    // The webhook queue rows, in the same transaction (the outbox is the queue): one per
    // enabled endpoint of the tenant whose filters match the type, `booking.*` or `*`.
    batch.push(
        "INSERT INTO webhook_deliveries (event_id, webhook_id, tenant_id, event_type, state, \
         next_attempt_at, created_at) \
         SELECT $1, w.id, w.tenant_id, $2, 'pending', $3, $3 FROM webhooks w \
         WHERE w.tenant_id = $4 AND w.enabled = 1 \
         AND (w.channel IS NULL OR w.channel = CAST($5 AS TEXT)) \
         AND (w.calendar_id IS NULL OR w.calendar_id = CAST($7 AS TEXT)) \
         AND EXISTS (SELECT 1 FROM webhook_filters f WHERE f.webhook_id = w.id \
                     AND f.pattern IN ($2, $6, '*'))",
        crate::args![
            id.as_str().to_string(),
            kind.to_string(),
            now * 1000,
            tenant.as_str().to_string(),
            channel,
            event::category_pattern(kind),
            calendar_id
        ]?,
    );
    // With the request's or job's span around it, this line ties a change to the deliveries
    // that carry it (`delivery{event=…}`).
    tracing::debug!(
        event = id.as_str(),
        kind,
        subject = subject_id,
        "event written"
    );
    Ok(id)
}

/// An outbox event, its data as written.
#[derive(Debug, Clone)]
pub struct Event {
    pub id: String,
    pub kind: String,
    /// The booking, customer, calendar… the event is about.
    pub subject_id: String,
    pub created_at: jiff::Timestamp,
    /// The object as the API showed it right after the change.
    pub data: Box<serde_json::value::RawValue>,
}

/// Which events to list, oldest first.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    /// An exact type, or `category.*`.
    pub kind: Option<String>,
    pub since: Option<i64>,
    pub until: Option<i64>,
    /// The last id of the previous page.
    pub after: Option<String>,
    pub limit: i64,
}

pub async fn list(db: &Db, tenant: &TenantId, f: &EventFilter) -> Result<Vec<Event>> {
    let (exact, prefix) = match f.kind.as_deref() {
        Some(k) => match k.strip_suffix(".*") {
            Some(category) => (None, Some(format!("{category}."))),
            None => (Some(k.to_string()), None),
        },
        None => (None, None),
    };
    let rows = sqlx::query(
        "SELECT id, type, subject_id, created_at, data FROM events WHERE tenant_id = $1 \
         AND (CAST($2 AS TEXT) IS NULL OR type = $2) \
         AND (CAST($3 AS TEXT) IS NULL OR substr(type, 1, length($3)) = $3) \
         AND (CAST($4 AS BIGINT) IS NULL OR created_at >= $4) \
         AND (CAST($5 AS BIGINT) IS NULL OR created_at < $5) \
         AND (CAST($6 AS TEXT) IS NULL OR id > $6) ORDER BY id LIMIT $7",
    )
    .bind(tenant.as_str())
    .bind(exact)
    .bind(prefix)
    .bind(f.since)
    .bind(f.until)
    .bind(f.after.clone())
    .bind(f.limit)
    .fetch_all(&db.read)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Event {
                id: r.get(0),
                kind: r.get(1),
                subject_id: r.get(2),
                created_at: crate::agenda::instant(r.get(3)),
                data: serde_json::value::RawValue::from_string(r.get(4))?,
            })
        })
        .collect()
}
