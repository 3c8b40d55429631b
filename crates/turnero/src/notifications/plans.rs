//! The plan's rows as the sender and the reports see them: what is due, and each row's way
//! from `planned` to `queued` (handed to a channel's outbox, once, whatever process does it)
//! to `sent`, or to `failed`, `missed` or `skipped`, each outcome with its event in the same
//! transaction.

use serde::Serialize;
use sqlx::Row;
use turnero_core::event;
use turnero_core::ids::TenantId;
use turnero_core::notice::Answer;
use turnero_core::time::fmt_ts;

use crate::agenda::events;
use crate::db::{Batch, Db, Tx};
use crate::error::{Error, Result};

#[derive(Debug, Clone)]
pub struct Plan {
    pub id: i64,
    pub tenant: TenantId,
    pub rule_id: String,
    pub booking_id: String,
    pub anchor_at: i64,
    pub due_at: i64,
    /// `planned`, `queued`, `sent`, `failed`, `missed` or `skipped`.
    pub state: String,
    pub run_id: Option<String>,
    pub channel: Option<String>,
    /// Channels tried that refused it for good.
    pub tried: Vec<String>,
    pub conversation_id: Option<String>,
    pub outbox_id: Option<String>,
    pub reason: Option<String>,
    pub answer: Option<String>,
    pub answered_at: Option<i64>,
    pub sent_at: Option<i64>,
    pub created_at: i64,
}

impl Plan {
    /// As the API and the events name it.
    pub fn public_id(&self) -> String {
        public_id(self.id)
    }
}

pub fn public_id(id: i64) -> String {
    format!("ntf_{id}")
}

/// The row number inside a public id (`ntf_12`).
pub fn parse_id(public: &str) -> Option<i64> {
    public.strip_prefix("ntf_")?.parse().ok().filter(|n| *n > 0)
}

const COLUMNS: &str = "id, tenant_id, rule_id, booking_id, anchor_at, due_at, state, run_id, \
    channel, tried, conversation_id, outbox_id, reason, answer, answered_at, sent_at, created_at";

fn from_row(r: &sqlx::any::AnyRow) -> Plan {
    let tried: String = r.get(9);
    Plan {
        id: r.get(0),
        tenant: TenantId::from_trusted(r.get::<String, _>(1)),
        rule_id: r.get(2),
        booking_id: r.get(3),
        anchor_at: r.get(4),
        due_at: r.get(5),
        state: r.get(6),
        run_id: r.get(7),
        channel: r.get(8),
        tried: tried
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        conversation_id: r.get(10),
        outbox_id: r.get(11),
        reason: r.get(12),
        answer: r.get(13),
        answered_at: r.get(14),
        sent_at: r.get(15),
        created_at: r.get(16),
    }
}

/// Rows due by `now`, oldest first. Every process may read the same rows: only one of them
/// moves a row on ([`queue_in`] and the others compare its state).
pub async fn due(db: &Db, now: i64, limit: i64) -> Result<Vec<Plan>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM notification_plans WHERE state = 'planned' AND due_at <= $1 \
         ORDER BY due_at, id LIMIT $2"
    ))
    .bind(now)
    .bind(limit)
    .fetch_all(&db.read)
    .await?;
    Ok(rows.iter().map(from_row).collect())
}

pub async fn get(db: &Db, tenant: &TenantId, id: i64) -> Result<Plan> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM notification_plans WHERE tenant_id = $1 AND id = $2"
    ))
    .bind(tenant.as_str())
    .bind(id)
    .fetch_optional(&db.read)
    .await?
    .ok_or_else(|| Error::not_found("notification"))?;
    Ok(from_row(&row))
}

/// A row by its number alone: for a signed link, whose tenant is known only from the row.
pub async fn get_unscoped(db: &Db, id: i64) -> Result<Option<Plan>> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM notification_plans WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&db.read)
    .await?;
    Ok(row.as_ref().map(from_row))
}

/// The row handed to an outbox row.
pub async fn by_outbox(tx: &mut Tx, outbox_id: &str) -> Result<Option<Plan>> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM notification_plans WHERE outbox_id = $1"
    ))
    .bind(outbox_id)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row.as_ref().map(from_row))
}

/// Reminders sent to a conversation since `since` that asked for an answer and have none,
/// newest first: what a typed "sí" or "cancelar" may be answering.
pub async fn open_questions(
    db: &Db,
    tenant: &TenantId,
    conversation: &str,
    since: i64,
) -> Result<Vec<Plan>> {
    let columns = COLUMNS
        .split(", ")
        .map(|c| format!("p.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let rows = sqlx::query(&format!(
        "SELECT {columns} FROM notification_plans p JOIN notification_rules r ON r.id = p.rule_id \
         WHERE p.tenant_id = $1 AND p.conversation_id = $2 AND p.state = 'sent' \
         AND p.answer IS NULL AND r.ask_confirmation = 1 AND p.sent_at >= $3 \
         ORDER BY p.sent_at DESC, p.id DESC LIMIT 10"
    ))
    .bind(tenant.as_str())
    .bind(conversation)
    .bind(since)
    .fetch_all(&db.read)
    .await?;
    Ok(rows.iter().map(from_row).collect())
}

/// The state of the row handed to an outbox row, if one was.
pub async fn state_of_outbox(db: &Db, outbox_id: &str) -> Result<Option<String>> {
    let row = sqlx::query("SELECT state FROM notification_plans WHERE outbox_id = $1")
        .bind(outbox_id)
        .fetch_optional(&db.read)
        .await?;
    Ok(row.map(|r| r.get(0)))
}

/// Everything planned and sent for a booking, in order.
pub async fn for_booking(db: &Db, tenant: &TenantId, booking: &str) -> Result<Vec<Plan>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM notification_plans WHERE tenant_id = $1 AND booking_id = $2 \
         ORDER BY due_at, id"
    ))
    .bind(tenant.as_str())
    .bind(booking)
    .fetch_all(&db.read)
    .await?;
    Ok(rows.iter().map(from_row).collect())
}

/// The published form of a row: the `data` of `notification.*` events.
#[derive(Serialize)]
pub struct Published<'a> {
    pub id: String,
    pub rule_id: &'a str,
    pub booking_id: &'a str,
    pub run_id: Option<&'a str>,
    pub state: &'a str,
    pub channel: Option<&'a str>,
    pub reason: Option<&'a str>,
    pub answer: Option<&'a str>,
    pub due_at: String,
    pub at: String,
}

/// What an event says became of a row.
struct Outcome<'a> {
    state: &'a str,
    channel: Option<&'a str>,
    reason: Option<&'a str>,
    answer: Option<&'a str>,
}

fn push_event(batch: &mut Batch, p: &Plan, kind: &str, o: Outcome<'_>, now: i64) -> Result<()> {
    let data = Published {
        id: p.public_id(),
        rule_id: &p.rule_id,
        booking_id: &p.booking_id,
        run_id: p.run_id.as_deref(),
        state: o.state,
        channel: o.channel,
        reason: o.reason,
        answer: o.answer,
        due_at: fmt_ts(p.due_at),
        at: fmt_ts(now),
    };
    events::push(batch, &p.tenant, kind, &p.public_id(), &data, now)?;
    Ok(())
}

/// Hands a due row to a channel: true if this caller did (the row was still planned and
/// due when it was read), in the caller's transaction with the outbox row.
pub async fn queue_in(
    tx: &mut Tx,
    p: &Plan,
    channel: &str,
    conversation_id: &str,
    outbox_id: &str,
    now: i64,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE notification_plans SET state = 'queued', channel = $1, conversation_id = $2, \
         outbox_id = $3, updated_at = $4 WHERE id = $5 AND state = 'planned' AND due_at = $6 \
         AND tried = $7",
    )
    .bind(channel)
    .bind(conversation_id)
    .bind(outbox_id)
    .bind(now)
    .bind(p.id)
    .bind(p.due_at)
    .bind(p.tried.join(","))
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok(done == 1)
}

/// The channel accepted the message of the row handed to this outbox row: `sent`, with
/// `notification.sent`, in one statement and the event's (the row comes back from the update).
pub async fn sent_by_outbox_in(tx: &mut Tx, outbox_id: &str, now: i64) -> Result<()> {
    let row = sqlx::query(&format!(
        "UPDATE notification_plans SET state = 'sent', sent_at = $1, updated_at = $1 \
         WHERE outbox_id = $2 AND state = 'queued' RETURNING {COLUMNS}"
    ))
    .bind(now)
    .bind(outbox_id)
    .fetch_optional(&mut **tx)
    .await?;
    // None: withdrawn meanwhile (its ending already has its event), or not a reminder.
    let Some(p) = row.as_ref().map(from_row) else {
        return Ok(());
    };
    let mut batch = Batch::default();
    let channel = p.channel.as_deref();
    let sent = Outcome {
        state: "sent",
        channel,
        reason: None,
        answer: None,
    };
    push_event(&mut batch, &p, event::NOTIFICATION_SENT, sent, now)?;
    batch.run(tx).await?;
    Ok(())
}

/// The channel refused the message for good: the row is planned again, due at once, for
/// the next channel (`channel` joins the tried ones).
pub async fn retry_elsewhere_in(
    tx: &mut Tx,
    p: &Plan,
    channel: &str,
    error: &str,
    now: i64,
) -> Result<()> {
    let mut tried = p.tried.clone();
    tried.push(channel.to_string());
    // Due when it was: a refusal minutes later must not make it `missed`.
    sqlx::query(
        "UPDATE notification_plans SET state = 'planned', tried = $1, reason = $2, \
         channel = NULL, conversation_id = NULL, outbox_id = NULL, updated_at = $3 WHERE id = $4 \
         AND state = $5 AND outbox_id = $6",
    )
    .bind(tried.join(","))
    .bind(error.chars().take(300).collect::<String>())
    .bind(now)
    .bind(p.id)
    .bind(&p.state)
    .bind(p.outbox_id.as_deref().unwrap_or_default())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Ends a row that will not be sent: `failed` (with the reason: `no_phone`, `no_email`,
/// `no_template`, the channel's refusal…), `missed` (found too late) or `skipped` (quiet
/// hours until after the appointment), each with `notification.failed`.
pub async fn end(db: &Db, p: &Plan, state: &str, reason: &str, now: i64) -> Result<bool> {
    let mut tx = db.begin().await?;
    let done = sqlx::query(
        "UPDATE notification_plans SET state = $1, reason = $2, updated_at = $3 \
         WHERE id = $4 AND state = 'planned' AND due_at = $5",
    )
    .bind(state)
    .bind(reason)
    .bind(now)
    .bind(p.id)
    .bind(p.due_at)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if done == 1 {
        let mut batch = Batch::default();
        let kind = event::NOTIFICATION_FAILED;
        let channel = p.channel.as_deref();
        let ended = Outcome {
            state,
            channel,
            reason: Some(reason),
            answer: None,
        };
        push_event(&mut batch, p, kind, ended, now)?;
        batch.run(&mut tx).await?;
    }
    db.commit_events(tx).await?;
    Ok(done == 1)
}

/// Moves a planned row to a later instant (out of quiet hours).
pub async fn postpone(db: &Db, p: &Plan, to: i64, now: i64) -> Result<()> {
    sqlx::query(
        "UPDATE notification_plans SET due_at = $1, updated_at = $2 WHERE id = $3 \
         AND state = 'planned' AND due_at = $4",
    )
    .bind(to)
    .bind(now)
    .bind(p.id)
    .bind(p.due_at)
    .execute(&db.write)
    .await?;
    Ok(())
}

/// Records the person's answer with `notification.answered`, unless the row's answer
/// changed since it was read (a double tap answers once; a cancel may replace a confirm).
pub async fn answer_in(tx: &mut Tx, p: &Plan, answer: Answer, now: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE notification_plans SET answer = $1, answered_at = $2, updated_at = $2 \
         WHERE id = $3 AND COALESCE(answer, '') = $4",
    )
    .bind(answer.as_str())
    .bind(now)
    .bind(p.id)
    .bind(p.answer.as_deref().unwrap_or_default())
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if done == 1 {
        let mut batch = Batch::default();
        let kind = event::NOTIFICATION_ANSWERED;
        let (state, channel) = (p.state.as_str(), p.channel.as_deref());
        let answered = Outcome {
            state,
            channel,
            reason: None,
            answer: Some(answer.as_str()),
        };
        push_event(&mut batch, p, kind, answered, now)?;
        batch.run(tx).await?;
    }
    Ok(done == 1)
}
