//! Writing what sends did. The hub hands over results in batches and they are written in one
//! transaction with as few statements as possible: on PostgreSQL each statement is a round
//! trip, on SQLite each is parsed anew, and both showed in the benchmark. So the common case
//! (delivered) is one UPDATE per claim (found by key) and the attempt rows are multi-row INSERTs; retries,
//! give-ups and 410s, which are rare, keep a statement each.

use std::collections::BTreeMap;

use turnero_core::ids::AttemptId;

use super::job::{Done, Outcome};
use super::retry::next_delay_ms;
use super::send::Sent;
use super::Settings;
use crate::db::Batch;
use crate::error::Result;

/// Attempt rows per INSERT: 13 arguments each, well under both backends' limits.
const ATTEMPTS_PER_INSERT: usize = 10;
/// Event ids per `IN (…)` list.
const IDS_PER_UPDATE: usize = 25;

/// One row of `webhook_attempts`.
pub struct AttemptRow<'a> {
    pub id: AttemptId,
    pub tenant_id: &'a str,
    pub webhook_id: &'a str,
    pub event_id: &'a str,
    pub event_type: &'a str,
    pub attempt: i64,
    pub trigger: &'static str,
    pub at_ms: i64,
    pub sent: &'a Sent,
}

/// Adds multi-row INSERTs for `rows` to the batch.
pub fn insert_attempts(batch: &mut Batch, rows: &[AttemptRow<'_>]) -> Result<()> {
    for chunk in rows.chunks(ATTEMPTS_PER_INSERT) {
        let mut sql = String::from(
            "INSERT INTO webhook_attempts (id, tenant_id, webhook_id, event_id, event_type, \
             attempt, trigger, at, duration_ms, status_code, outcome, error_kind, response) VALUES ",
        );
        let mut args = sqlx::any::AnyArguments::default();
        for (i, r) in chunk.iter().enumerate() {
            let base = i * 13;
            let marks: Vec<String> = (1..=13).map(|n| format!("${}", base + n)).collect();
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            sql.push_str(&marks.join(", "));
            sql.push(')');
            let outcome = if r.sent.succeeded() {
                "success"
            } else {
                "failed"
            };
            let values = crate::args![
                r.id.as_str().to_string(),
                r.tenant_id.to_string(),
                r.webhook_id.to_string(),
                r.event_id.to_string(),
                r.event_type.to_string(),
                r.attempt,
                r.trigger.to_string(),
                r.at_ms,
                r.sent.duration_ms,
                r.sent.status.map(i64::from),
                outcome.to_string(),
                r.sent.error_kind.map(str::to_string),
                r.sent.response.clone()
            ]?;
            args.values.0.extend(values.values.0);
        }
        batch.push(sql, args);
    }
    Ok(())
}

/// Builds the statements that record `done`; answers the endpoints that had failures (their
/// breaker may need to open).
pub(super) fn statements<'a>(
    s: &Settings,
    done: &'a [Done],
    batch: &mut Batch,
) -> Result<Vec<&'a str>> {
    let mut failed_endpoints: Vec<&str> = Vec::new();
    // (endpoint, claim) → (latest finish, event ids) of the deliveries that went through.
    let mut delivered: BTreeMap<(&str, &str), (i64, Vec<&str>)> = BTreeMap::new();
    let mut attempts = Vec::new();
    for d in done {
        let job = &d.job;
        let key = || {
            crate::args![
                job.event.id.clone(),
                job.endpoint.id.clone(),
                job.claim.clone()
            ]
        };
        let sent = match &d.outcome {
            Outcome::Sent(sent) => sent,
            Outcome::Skipped => {
                batch.push(
                    "UPDATE webhook_deliveries SET state = 'skipped', finished_at = $4, \
                     claim = NULL WHERE event_id = $1 AND webhook_id = $2 AND claim = $3",
                    with(key()?, d.at_ms)?,
                );
                continue;
            }
            Outcome::Released => {
                batch.push(
                    "UPDATE webhook_deliveries SET state = 'pending', claim = NULL \
                     WHERE event_id = $1 AND webhook_id = $2 AND claim = $3",
                    key()?,
                );
                if !failed_endpoints.contains(&job.endpoint.id.as_str()) {
                    failed_endpoints.push(&job.endpoint.id);
                }
                continue;
            }
        };
        let made = job.attempts_before + 1;
        attempts.push(AttemptRow {
            id: AttemptId::generate(),
            tenant_id: &job.endpoint.tenant_id,
            webhook_id: &job.endpoint.id,
            event_id: &job.event.id,
            event_type: &job.event.kind,
            attempt: made,
            trigger: "scheduled",
            at_ms: d.at_ms,
            sent,
        });
        if sent.succeeded() {
            let entry = delivered
                .entry((job.endpoint.id.as_str(), job.claim.as_str()))
                .or_default();
            entry.0 = entry.0.max(d.at_ms);
            entry.1.push(&job.event.id);
        } else {
            let retry = (!sent.gone())
                .then(|| next_delay_ms(&s.retry_schedule, made as u32, sent.retry_after))
                .flatten();
            match retry {
                Some(delay) => batch.push(
                    "UPDATE webhook_deliveries SET state = 'pending', attempts = attempts + 1, \
                     next_attempt_at = $4, claim = NULL WHERE event_id = $1 AND webhook_id = $2 \
                     AND claim = $3",
                    with(key()?, d.at_ms + delay as i64)?,
                ),
                None => batch.push(
                    "UPDATE webhook_deliveries SET state = 'failed', attempts = attempts + 1, \
                     finished_at = $4, claim = NULL WHERE event_id = $1 AND webhook_id = $2 \
                     AND claim = $3",
                    with(key()?, d.at_ms)?,
                ),
            }
        }
        if sent.gone() {
            batch.push(
                "UPDATE webhooks SET enabled = 0, disabled_reason = $2 WHERE id = $1",
                crate::args![
                    job.endpoint.id.clone(),
                    format!(
                        "the receiver answered 410 Gone at {}",
                        turnero_core::time::fmt_ts_ms(d.at_ms)
                    )
                ]?,
            );
        }
        if job.probe {
            // The probe decides: closed again, or paused for another period.
            let until = if sent.succeeded() {
                0
            } else {
                d.at_ms + s.breaker_pause_ms
            };
            batch.push(
                "UPDATE webhooks SET breaker = CASE WHEN $2 = 0 THEN 'closed' ELSE 'open' END, \
                 breaker_until = $2 WHERE id = $1 AND breaker = 'probing'",
                crate::args![job.endpoint.id.clone(), until]?,
            );
            if sent.succeeded() {
                // The receiver is back: what it missed goes out now, oldest first (the claim
                // orders by `next_attempt_at`), instead of each delivery waiting out its
                // retry delay. Attempts made so far are kept.
                batch.push(
                    "UPDATE webhook_deliveries SET next_attempt_at = created_at \
                     WHERE webhook_id = $1 AND state = 'pending'",
                    crate::args![job.endpoint.id.clone()]?,
                );
            }
        } else if !sent.succeeded() && !failed_endpoints.contains(&job.endpoint.id.as_str()) {
            failed_endpoints.push(&job.endpoint.id);
        }
    }
    for ((webhook, claim), (finished, ids)) in delivered {
        for chunk in ids.chunks(IDS_PER_UPDATE) {
            let marks: Vec<String> = (4..chunk.len() + 4).map(|n| format!("${n}")).collect();
            let sql = format!(
                "UPDATE webhook_deliveries SET state = 'delivered', attempts = attempts + 1, \
                 finished_at = $1, claim = NULL WHERE webhook_id = $2 AND claim = $3 \
                 AND event_id IN ({})",
                marks.join(", ")
            );
            let mut args = crate::args![finished, webhook.to_string(), claim.to_string()]?;
            for id in chunk {
                sqlx::Arguments::add(&mut args, id.to_string()).map_err(sqlx::Error::Encode)?;
            }
            batch.push(sql, args);
        }
    }
    insert_attempts(batch, &attempts)?;
    Ok(failed_endpoints)
}

fn with(
    mut args: sqlx::any::AnyArguments<'static>,
    value: i64,
) -> Result<sqlx::any::AnyArguments<'static>> {
    sqlx::Arguments::add(&mut args, value).map_err(sqlx::Error::Encode)?;
    Ok(args)
}
