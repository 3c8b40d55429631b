//! The delivery queue's statements (`webhook_deliveries`, and the breaker columns of
//! `webhooks`): claiming rows under a token and a lease, renewing and taking back leases,
//! and the breaker's open / probe / close. The hub decides when; this says how, on either
//! backend.

use std::sync::Arc;

use sqlx::Row;
use turnero_core::ids::AttemptId;

use super::formats::EventRecord;
use super::job::Job;
use super::store::{endpoint_from_row, ENDPOINT_COLUMNS};
use super::Settings;
use crate::db::{Backend, Batch, Db};
use crate::error::Result;

// On SQLite by rowid: with `(event_id, webhook_id) IN (…)` its planner walks every pending
// row of the endpoint and tests each against the list, which made a long queue quadratic.
const CLAIM_SQLITE: &str = "UPDATE webhook_deliveries SET state = 'sending', claim = $1, \
    lease_until = $2, held = 0 WHERE rowid IN ( \
    SELECT rowid FROM webhook_deliveries WHERE webhook_id = $3 \
    AND state = 'pending' AND next_attempt_at <= $4 ORDER BY next_attempt_at, event_id LIMIT $5)";
// On PostgreSQL the inner SELECT locks the rows and the UPDATE finds them by tuple id
// (`ctid = ANY(ARRAY(…))`: a TID scan, the one plan there is). The earlier form, `state =
// 'pending' AND (event_id, webhook_id) IN (SELECT …)`, reached each row through the partial
// queue index on the endpoint alone, walking every queued row per row claimed (a 1,024-row
// claim over 20,000 queued rows: 35 ms instead of 9), and once prepared its generic plan
// joined the whole table; by primary key (`event_id = ANY(…)`), a table not yet analysed got
// a plan that filtered the endpoint's every row (100–240 ms a claim on a new database). A
// locked row cannot change before the UPDATE, so the inner SELECT's conditions are all it
// needs; a row changed and committed after the statement began is not updated and stays
// queued for the next claim.
const CLAIM_POSTGRES: &str = "UPDATE webhook_deliveries SET state = 'sending', claim = $1, \
    lease_until = $2, held = 0 WHERE ctid = ANY(ARRAY( \
    SELECT ctid FROM webhook_deliveries WHERE webhook_id = $3 \
    AND state = 'pending' AND next_attempt_at <= $4 ORDER BY next_attempt_at, event_id LIMIT $5 \
    FOR UPDATE SKIP LOCKED))";

// A breaker's probe takes the oldest delivery waiting, due or not: after an outage the
// deliveries that failed wait hours for their next retry, and the probe is what finds out
// whether the receiver is back.
const PROBE_SQLITE: &str = "UPDATE webhook_deliveries SET state = 'sending', claim = $1, \
    lease_until = $2, held = 0 WHERE rowid IN ( \
    SELECT rowid FROM webhook_deliveries WHERE webhook_id = $3 \
    AND state = 'pending' ORDER BY created_at, event_id LIMIT $4)";
const PROBE_POSTGRES: &str = "UPDATE webhook_deliveries SET state = 'sending', claim = $1, \
    lease_until = $2, held = 0 WHERE ctid = ANY(ARRAY( \
    SELECT ctid FROM webhook_deliveries WHERE webhook_id = $3 \
    AND state = 'pending' ORDER BY created_at, event_id LIMIT $4 \
    FOR UPDATE SKIP LOCKED))";

/// Endpoints that are on, with a closed breaker and deliveries due.
pub async fn due_endpoints(db: &Db, now: i64) -> Result<Vec<String>> {
    let rows = sqlx::query(
        "SELECT w.id FROM webhooks w WHERE w.enabled = 1 AND w.breaker = 'closed' \
         AND EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.webhook_id = w.id \
         AND d.state = 'pending' AND d.next_attempt_at <= $1)",
    )
    .bind(now)
    .fetch_all(&db.read)
    .await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// Marks up to `limit` due deliveries of the endpoint `sending` under `claim` until
/// `lease_until`, and reads them back as jobs (none if the endpoint was deleted meanwhile).
pub async fn claim(
    db: &Db,
    webhook: &str,
    claim: &str,
    lease_until: i64,
    limit: usize,
    probe: bool,
    now: i64,
) -> Result<Vec<Job>> {
    let sql = match (db.backend, probe) {
        (Backend::Sqlite, false) => CLAIM_SQLITE,
        (Backend::Postgres, false) => CLAIM_POSTGRES,
        (Backend::Sqlite, true) => PROBE_SQLITE,
        (Backend::Postgres, true) => PROBE_POSTGRES,
    };
    let query = sqlx::query(sql).bind(claim).bind(lease_until).bind(webhook);
    let query = if probe { query } else { query.bind(now) };
    let taken = query.bind(limit as i64).execute(&db.write).await?;
    if taken.rows_affected() == 0 {
        return Ok(vec![]);
    }
    let endpoint = sqlx::query(&format!(
        "SELECT {ENDPOINT_COLUMNS} FROM webhooks w WHERE w.id = $1"
    ))
    .bind(webhook)
    .fetch_optional(&db.read)
    .await?;
    let Some(endpoint) = endpoint else {
        return Ok(vec![]); // deleted meanwhile; its deliveries went with it
    };
    let endpoint = Arc::new(endpoint_from_row(&endpoint, 0, now)?);
    let rows = sqlx::query(
        "SELECT d.event_id, e.type, e.data, e.created_at, d.attempts \
         FROM webhook_deliveries d JOIN events e ON e.id = d.event_id \
         WHERE d.webhook_id = $1 AND d.state = 'sending' AND d.claim = $2 \
         ORDER BY d.next_attempt_at, d.event_id",
    )
    .bind(webhook)
    .bind(claim)
    .fetch_all(&db.read)
    .await?;
    Ok(rows
        .iter()
        .map(|r| Job {
            event: EventRecord {
                id: r.get(0),
                kind: r.get(1),
                data: r.get(2),
                created_at: r.get(3),
            },
            attempts_before: r.get(4),
            endpoint: endpoint.clone(),
            claim: claim.to_string(),
            probe,
        })
        .collect())
}

/// Pushes the lease of these claims forward.
///
/// On PostgreSQL, rows another transaction holds are skipped: that is the result recorder
/// finishing them, so they need no lease. Waiting for them instead deadlocked now and then
/// (renewal walked the claims in lease order while a result batch locked them in its own,
/// each waiting on the other) and PostgreSQL broke the tie after its one-second
/// `deadlock_timeout`: the 1.2 s statement of issue #18.
pub async fn renew(db: &Db, claims: &[String], lease_until: i64) -> Result<()> {
    for chunk in claims.chunks(100) {
        let marks: Vec<String> = (2..chunk.len() + 2).map(|n| format!("${n}")).collect();
        let rows = format!("state = 'sending' AND claim IN ({})", marks.join(", "));
        let sql = match db.backend {
            Backend::Sqlite => {
                format!("UPDATE webhook_deliveries SET lease_until = $1 WHERE {rows}")
            }
            Backend::Postgres => skipping_locked("lease_until = $1", &rows),
        };
        let mut q = sqlx::query(&sql).bind(lease_until);
        for claim in chunk {
            q = q.bind(claim);
        }
        q.execute(&db.write).await?;
    }
    Ok(())
}

/// Puts rows whose sender stopped renewing (a dead process) back in the queue; on
/// PostgreSQL a row locked meanwhile is being finished or renewed by its sender, so it is
/// left alone (see `renew`).
pub async fn take_back_lapsed(db: &Db, now: i64) -> Result<()> {
    let rows = "state = 'sending' AND lease_until <= $1";
    let sql = match db.backend {
        Backend::Sqlite => {
            format!("UPDATE webhook_deliveries SET state = 'pending', claim = NULL WHERE {rows}")
        }
        Backend::Postgres => skipping_locked("state = 'pending', claim = NULL", rows),
    };
    sqlx::query(&sql).bind(now).execute(&db.write).await?;
    Ok(())
}

/// An UPDATE of the delivery rows matching `rows` that no other transaction holds, found by
/// their tuple id once locked (see `CLAIM_POSTGRES`). A row changed and committed after the
/// statement began is left for the next upkeep.
fn skipping_locked(set: &str, rows: &str) -> String {
    format!(
        "UPDATE webhook_deliveries SET {set} WHERE ctid = ANY(ARRAY( \
         SELECT ctid FROM webhook_deliveries WHERE {rows} FOR UPDATE SKIP LOCKED))"
    )
}

/// Of these endpoints, the ones still on with a closed breaker: the others' deliveries held
/// by this process go back unsent.
pub async fn sending_endpoints(db: &Db, ids: &[String]) -> Result<Vec<String>> {
    let mut open = Vec::new();
    for chunk in ids.chunks(100) {
        let marks: Vec<String> = (1..=chunk.len()).map(|n| format!("${n}")).collect();
        let sql = format!(
            "SELECT id FROM webhooks WHERE enabled = 1 AND breaker = 'closed' AND id IN ({})",
            marks.join(", ")
        );
        let mut q = sqlx::query(&sql);
        for id in chunk {
            q = q.bind(id);
        }
        open.extend(q.fetch_all(&db.read).await?.iter().map(|r| r.get(0)));
    }
    Ok(open)
}

/// Opens the endpoint's breaker when it failed often enough within the window.
pub async fn open_breaker_if_failing(db: &Db, s: &Settings, webhook: &str, now: i64) -> Result<()> {
    let failures: i64 = sqlx::query(
        "SELECT COUNT(*) FROM (SELECT 1 FROM webhook_attempts WHERE webhook_id = $1 \
         AND outcome = 'failed' AND at >= $2 LIMIT $3) recent",
    )
    .bind(webhook)
    .bind(now - s.breaker_window_ms)
    .bind(i64::from(s.breaker_failures))
    .fetch_one(&db.read)
    .await?
    .get(0);
    if failures >= i64::from(s.breaker_failures) {
        let opened = sqlx::query(
            "UPDATE webhooks SET breaker = 'open', breaker_until = $2 \
             WHERE id = $1 AND breaker = 'closed'",
        )
        .bind(webhook)
        .bind(now + s.breaker_pause_ms)
        .execute(&db.write)
        .await?;
        if opened.rows_affected() > 0 {
            tracing::warn!(
                webhook,
                failures,
                "webhook breaker opened; deliveries paused and kept"
            );
        }
    }
    Ok(())
}

/// An endpoint whose breaker is not closed.
pub struct Paused {
    pub webhook: String,
    /// When the pause ends (`open`) or the probe's lease lapses (`probing`).
    pub until: i64,
    /// `probing`: one delivery is out testing the endpoint.
    pub probing: bool,
}

/// Enabled endpoints whose breaker is not closed.
pub async fn paused_endpoints(db: &Db) -> Result<Vec<Paused>> {
    let rows = sqlx::query(
        "SELECT id, breaker_until, breaker FROM webhooks WHERE enabled = 1 AND breaker <> 'closed'",
    )
    .fetch_all(&db.read)
    .await?;
    Ok(rows
        .iter()
        .map(|r| Paused {
            webhook: r.get(0),
            until: r.get(1),
            probing: r.get::<String, _>(2) == "probing",
        })
        .collect())
}

/// Takes the probe of a breaker whose pause is over; false when another process took it.
pub async fn take_probe(db: &Db, webhook: &str, lease_until: i64, now: i64) -> Result<bool> {
    let took = sqlx::query(
        "UPDATE webhooks SET breaker = 'probing', breaker_until = $2 \
         WHERE id = $1 AND breaker <> 'closed' AND breaker_until <= $3",
    )
    .bind(webhook)
    .bind(lease_until)
    .bind(now)
    .execute(&db.write)
    .await?;
    Ok(took.rows_affected() > 0)
}

/// Closes a probing breaker that had nothing to probe with.
pub async fn close_probe(db: &Db, webhook: &str) -> Result<()> {
    sqlx::query(
        "UPDATE webhooks SET breaker = 'closed', breaker_until = 0 \
         WHERE id = $1 AND breaker = 'probing'",
    )
    .bind(webhook)
    .execute(&db.write)
    .await?;
    Ok(())
}

/// Records one `rejected` attempt for each delivery that came due while the breaker was
/// open (once per delivery per pause; the delivery itself stays queued).
pub async fn count_rejected(db: &Db, webhook: &str, now: i64) -> Result<()> {
    let held = sqlx::query(
        "UPDATE webhook_deliveries SET held = 1 WHERE webhook_id = $1 AND state = 'pending' \
         AND held = 0 AND next_attempt_at <= $2 \
         RETURNING event_id, tenant_id, event_type, attempts",
    )
    .bind(webhook)
    .bind(now)
    .fetch_all(&db.write)
    .await?;
    if held.is_empty() {
        return Ok(());
    }
    let mut batch = Batch::default();
    for r in &held {
        batch.push(
            "INSERT INTO webhook_attempts (id, tenant_id, webhook_id, event_id, event_type, \
             attempt, trigger, at, outcome, error_kind) \
             VALUES ($1, $2, $3, $4, $5, $6, 'breaker', $7, 'rejected', 'breaker_open')",
            crate::args![
                AttemptId::generate().into_string(),
                r.get::<String, _>(1),
                webhook.to_string(),
                r.get::<String, _>(0),
                r.get::<String, _>(2),
                r.get::<i64, _>(3) + 1,
                now
            ]?,
        );
    }
    let mut tx = db.begin().await?;
    batch.run(&mut tx).await?;
    tx.commit().await?;
    Ok(())
}
