//! Retention: what turnero writes for the record (events, webhook deliveries and attempts,
//! inbound ids seen, conversations and their messages, idempotency keys, availability
//! fallbacks) is deleted once older than the operator's `[retention]` days, in bounded
//! batches so the one SQLite writer is never held for long. What is still to be done is
//! never deleted: an event whose delivery is pending or being sent, a delivery not finished,
//! a message not answered, a reply not sent, a conversation with either. Bookings, customers
//! and their history are the clinic's records, not logs: retention never touches them
//! (erasure does, on request).
//!
//! Every process runs the job; the deletes are idempotent, so two at once only share the
//! work.

use std::time::Duration;

use sqlx::Row;

use crate::clock::Clock;
pub use crate::config::Retention;
use crate::db::{Backend, Db, Tx};
use crate::error::Result;

/// Rows deleted per statement.
pub const BATCH: i64 = 1000;

/// Rows deleted by one run, per kind, in the order they ran.
pub type Deleted = Vec<(&'static str, u64)>;

const DAY_MS: i64 = 86_400_000;

/// One run: every kind, batch after batch until nothing older is left.
pub async fn run_once(db: &Db, r: &Retention, now_ms: i64, batch: i64) -> Result<Deleted> {
    let cutoff = |days: u32| (days > 0).then(|| now_ms - i64::from(days) * DAY_MS);
    let mut deleted = Vec::new();
    if let Some(ms) = cutoff(r.webhook_attempts_days) {
        // Ids sort by the time they were made: the id bound lets the primary key find the
        // old rows, the time column decides (ids carry the system clock's time).
        let cond = format!("id < '{}' AND at < $1", id_at("wat", ms));
        let n = in_batches(db, "webhook_attempts", &cond, ms, batch).await?;
        deleted.push(("webhook_attempts", n));
    }
    if let Some(ms) = cutoff(r.webhook_deliveries_days) {
        let cond = "state IN ('delivered', 'failed', 'skipped') AND finished_at < $1";
        let n = in_batches(db, "webhook_deliveries", cond, ms, batch).await?;
        deleted.push(("webhook_deliveries", n));
    }
    if let Some(ms) = cutoff(r.events_days) {
        // An event stays while any delivery row names it (one waiting, or one finished that
        // its own retention keeps): a delivery never outlives its event, and one endpoint that
        // never recovers holds back only its own events. The lookup goes by the deliveries'
        // key (webhook, event) through the tenant's few webhooks.
        let cond = "created_at < $1 AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d \
                    WHERE d.event_id = events.id AND d.webhook_id IN \
                    (SELECT w.id FROM webhooks w WHERE w.tenant_id = events.tenant_id))";
        let n = in_batches(db, "events", cond, ms / 1000, batch).await?;
        deleted.push(("events", n));
    }
    let secs = |days: u32| cutoff(days).map(|ms| ms / 1000);
    if let Some(s) = secs(r.inbound_seen_days) {
        let n = in_batches(db, "inbound_seen", "seen_at < $1", s, batch).await?;
        deleted.push(("inbound_seen", n));
    }
    if let Some(s) = secs(r.chat_messages_days) {
        let cond = "done_at IS NOT NULL AND received_at < $1";
        let n = in_batches(db, "chat_inbox", cond, s, batch).await?;
        deleted.push(("chat_inbox", n));
        let cond = "status <> 'queued' AND created_at < $1";
        let n = in_batches(db, "chat_outbox", cond, s, batch).await?;
        deleted.push(("chat_outbox", n));
    }
    if let Some(s) = secs(r.conversations_days) {
        deleted.push(("conversations", quiet_conversations(db, s, batch).await?));
    }
    if let Some(s) = secs(r.idempotency_keys_days) {
        let n = in_batches(db, "idempotency_keys", "created_at < $1", s, batch).await?;
        deleted.push(("idempotency_keys", n));
    }
    if let Some(s) = secs(r.availability_fallbacks_days) {
        let table = "availability_fallbacks";
        let n = in_batches(db, table, "at < $1", s, batch).await?;
        deleted.push((table, n));
    }
    Ok(deleted)
}

/// The smallest id of that kind made in that millisecond (ids are `prefix_` and a
/// lower-case ULID, which starts with its time).
fn id_at(prefix: &str, ms: i64) -> String {
    let ulid = ulid::Ulid::from_parts(ms.max(0) as u64, 0);
    format!("{prefix}_{}", ulid.to_string().to_lowercase())
}

/// Deletes the rows of `table` matching `cond` ($1 is the time bound), `batch` at a time,
/// each batch its own short statement.
async fn in_batches(db: &Db, table: &str, cond: &str, bound: i64, batch: i64) -> Result<u64> {
    // By physical row: the one way to bound a DELETE that both backends have.
    let sql = match db.backend {
        Backend::Sqlite => format!(
            "DELETE FROM {table} WHERE rowid IN (SELECT rowid FROM {table} WHERE {cond} LIMIT $2)"
        ),
        Backend::Postgres => format!(
            "DELETE FROM {table} WHERE ctid = ANY(ARRAY(SELECT ctid FROM {table} WHERE {cond} LIMIT $2))"
        ),
    };
    let mut total = 0;
    loop {
        let n = sqlx::query(&sql)
            .bind(bound)
            .bind(batch)
            .execute(&db.write)
            .await?
            .rows_affected();
        total += n;
        if n < batch as u64 {
            return Ok(total);
        }
        // Let the requests waiting for the writer in between batches.
        tokio::task::yield_now().await;
    }
}

/// Conversations quiet since `before` (seconds) with nothing waiting, each with its
/// messages, in one transaction per batch.
async fn quiet_conversations(db: &Db, before: i64, batch: i64) -> Result<u64> {
    let mut total = 0;
    loop {
        let mut tx = db.begin().await?;
        let ids: Vec<String> = sqlx::query(
            "SELECT c.id FROM conversations c WHERE c.updated_at < $1 \
             AND NOT EXISTS (SELECT 1 FROM chat_inbox i WHERE i.conversation_id = c.id \
             AND i.done_at IS NULL) \
             AND NOT EXISTS (SELECT 1 FROM chat_outbox o WHERE o.conversation_id = c.id \
             AND o.status = 'queued') LIMIT $2",
        )
        .bind(before)
        .bind(batch)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
        let mut round = 0;
        for chunk in ids.chunks(100) {
            let marks: Vec<String> = (1..=chunk.len()).map(|n| format!("${n}")).collect();
            let list = marks.join(", ");
            // Checked again as each row goes: on PostgreSQL a message can arrive between the
            // SELECT and the DELETEs (read committed), and it must be answered, not lost. A
            // conversation that got one is kept (its message rows then still name it).
            let bound = format!("${}", chunk.len() + 1);
            let [inbox, outbox, conversations] = [
                format!(
                    "DELETE FROM chat_inbox WHERE conversation_id IN ({list}) \
                     AND done_at IS NOT NULL AND received_at < {bound}"
                ),
                format!(
                    "DELETE FROM chat_outbox WHERE conversation_id IN ({list}) \
                     AND status <> 'queued' AND created_at < {bound}"
                ),
                format!(
                    "DELETE FROM conversations WHERE id IN ({list}) AND updated_at < {bound} \
                     AND NOT EXISTS (SELECT 1 FROM chat_inbox i WHERE i.conversation_id = conversations.id) \
                     AND NOT EXISTS (SELECT 1 FROM chat_outbox o WHERE o.conversation_id = conversations.id)"
                ),
            ];
            for sql in [inbox, outbox] {
                delete_for(&mut tx, &sql, chunk, before).await?;
            }
            round += delete_for(&mut tx, &conversations, chunk, before).await?;
        }
        tx.commit().await?;
        total += round;
        // A round that kept every conversation it looked at would find them again: stop.
        if (ids.len() as i64) < batch || round == 0 {
            return Ok(total);
        }
    }
}

/// Runs one of [`quiet_conversations`]' deletes: `ids` bound first, then the time bound.
async fn delete_for(tx: &mut Tx, sql: &str, ids: &[String], before: i64) -> Result<u64> {
    let mut q = sqlx::query(sql);
    for id in ids {
        q = q.bind(id);
    }
    Ok(q.bind(before).execute(&mut **tx).await?.rows_affected())
}

/// Runs [`run_once`] every `every_minutes` (the first a minute after start) until the
/// process ends.
pub fn spawn(db: Db, clock: Clock, retention: Retention) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let every = Duration::from_secs(u64::from(retention.every_minutes.max(1)) * 60);
        tokio::time::sleep(Duration::from_secs(60).min(every)).await;
        loop {
            match run_once(&db, &retention, clock.now_ms(), BATCH).await {
                Ok(deleted) => {
                    let deleted: Vec<_> = deleted.into_iter().filter(|(_, n)| *n > 0).collect();
                    if !deleted.is_empty() {
                        tracing::info!(?deleted, "retention: old records deleted");
                    }
                }
                Err(e) => tracing::warn!(error = ?e, "retention run failed; tried again next time"),
            }
            tokio::time::sleep(every).await;
        }
    })
}
