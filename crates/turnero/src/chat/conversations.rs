//! Stored conversations: who, on which channel, where the flow is, and what they said that
//! is still to be answered.

use serde::Serialize;
use sqlx::Row;
use turnero_core::flow::State;
use turnero_core::ids::{next_ulid, TenantId};
use utoipa::ToSchema;

use crate::api::fmt_ts;
use crate::db::{Db, Tx};
use crate::error::{Error, Result};

pub struct Conversation {
    pub id: String,
    pub tenant: TenantId,
    pub channel: String,
    pub contact: String,
    pub customer_id: Option<String>,
    pub flow_version: i64,
    pub language: String,
    pub state: State,
    pub handoff: bool,
    pub last_inbound_at: Option<i64>,
    pub revision: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A conversation as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConversationOut {
    pub id: String,
    /// `whatsapp` or `webchat`.
    pub channel: String,
    /// The person on that channel: a WhatsApp number (digits) or a web chat visitor.
    pub contact: String,
    pub customer_id: Option<String>,
    /// The step waiting for an answer; none when idle.
    pub step: Option<String>,
    pub flow_version: i64,
    /// Handed to a person: the bot is silent until released.
    pub handoff: bool,
    #[schema(value_type = Object)]
    pub variables: std::collections::BTreeMap<String, String>,
    pub last_inbound_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl Conversation {
    pub fn out(&self) -> ConversationOut {
        ConversationOut {
            id: self.id.clone(),
            channel: self.channel.clone(),
            contact: if self.channel == "webchat" {
                "visitor".into()
            } else {
                self.contact.clone()
            },
            customer_id: self.customer_id.clone(),
            step: self.state.at.clone(),
            flow_version: self.flow_version,
            handoff: self.handoff,
            variables: self
                .state
                .vars
                .iter()
                .filter(|(k, _)| !k.starts_with('_'))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            last_inbound_at: self.last_inbound_at.map(fmt_ts),
            created_at: fmt_ts(self.created_at),
            updated_at: fmt_ts(self.updated_at),
        }
    }
}

const COLUMNS: &str = "id, tenant_id, channel, contact, customer_id, flow_version, language, \
    state, handoff, last_inbound_at, revision, created_at, updated_at";

fn from_row(r: &sqlx::any::AnyRow) -> Result<Conversation> {
    Ok(Conversation {
        id: r.get(0),
        tenant: TenantId::from_trusted(r.get::<String, _>(1)),
        channel: r.get(2),
        contact: r.get(3),
        customer_id: r.get(4),
        flow_version: r.get(5),
        language: r.get(6),
        state: serde_json::from_str(&r.get::<String, _>(7))?,
        handoff: r.get::<i64, _>(8) != 0,
        last_inbound_at: r.get(9),
        revision: r.get(10),
        created_at: r.get(11),
        updated_at: r.get(12),
    })
}

/// The conversation with this person on this channel, created on first contact; records
/// that they just wrote (the 24-hour window counts from here). Answers its id.
pub async fn touch_in(
    tx: &mut Tx,
    tenant: &TenantId,
    channel: &str,
    contact: &str,
    now: i64,
) -> Result<String> {
    let id = format!("cnv_{}", next_ulid());
    sqlx::query(
        "INSERT INTO conversations (id, tenant_id, channel, contact, flow_version, language, \
         state, created_at, updated_at) \
         SELECT $1, $2, $3, $4, 0, t.locale, '{}', $5, $5 FROM tenants t WHERE t.id = $2 \
         ON CONFLICT (tenant_id, channel, contact) DO NOTHING",
    )
    .bind(&id)
    .bind(tenant.as_str())
    .bind(channel)
    .bind(contact)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    let row = sqlx::query(
        "UPDATE conversations SET last_inbound_at = $1 \
         WHERE tenant_id = $2 AND channel = $3 AND contact = $4 RETURNING id",
    )
    .bind(now)
    .bind(tenant.as_str())
    .bind(channel)
    .bind(contact)
    .fetch_one(&mut **tx)
    .await?;
    Ok(row.get(0))
}

/// Queues what the person said, to be answered by the runner.
pub async fn inbox_push(
    tx: &mut Tx,
    tenant: &TenantId,
    conversation: &str,
    text: &str,
    reply_id: Option<&str>,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO chat_inbox (id, tenant_id, conversation_id, text, reply_id, received_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(format!("inb_{}", next_ulid()))
    .bind(tenant.as_str())
    .bind(conversation)
    .bind(text)
    .bind(reply_id)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub struct Pending {
    pub id: String,
    pub text: String,
    pub reply_id: Option<String>,
}

/// The oldest message of the conversation not yet answered.
pub async fn next_pending(db: &Db, conversation: &str) -> Result<Option<Pending>> {
    let row = sqlx::query(
        "SELECT id, text, reply_id FROM chat_inbox WHERE conversation_id = $1 \
         AND done_at IS NULL ORDER BY id LIMIT 1",
    )
    .bind(conversation)
    .fetch_optional(&db.write)
    .await?;
    Ok(row.map(|r| Pending {
        id: r.get(0),
        text: r.get(1),
        reply_id: r.get(2),
    }))
}

/// Conversations with messages left unanswered since before `before` (a process died
/// between storing and answering them).
pub async fn stranded(db: &Db, before: i64, limit: i64) -> Result<Vec<String>> {
    let rows = sqlx::query(
        "SELECT DISTINCT conversation_id FROM chat_inbox WHERE done_at IS NULL \
         AND received_at < $1 LIMIT $2",
    )
    .bind(before)
    .bind(limit)
    .fetch_all(&db.read)
    .await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// Reads from the writer: the runner must see the latest revision.
pub async fn load(db: &Db, id: &str) -> Result<Conversation> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM conversations WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&db.write)
    .await?
    .ok_or_else(|| Error::not_found("conversation"))?;
    from_row(&row)
}

pub async fn get(db: &Db, tenant: &TenantId, id: &str) -> Result<Conversation> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM conversations WHERE id = $1 AND tenant_id = $2"
    ))
    .bind(id)
    .bind(tenant.as_str())
    .fetch_optional(&db.read)
    .await?
    .ok_or_else(|| Error::not_found("conversation"))?;
    from_row(&row)
}

pub async fn list(
    db: &Db,
    tenant: &TenantId,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<Conversation>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM conversations WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3"
    ))
    .bind(tenant.as_str())
    .bind(after.unwrap_or(""))
    .bind(limit)
    .fetch_all(&db.read)
    .await?;
    rows.iter().map(from_row).collect()
}

/// Writes the conversation's new state if nobody else did since it was read; false when
/// another process got there first (the caller reads again and redoes the turn).
pub async fn save_in(tx: &mut Tx, c: &Conversation, now: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE conversations SET state = $1, flow_version = $2, handoff = $3, customer_id = $4, \
         revision = revision + 1, updated_at = $5 WHERE id = $6 AND revision = $7",
    )
    .bind(serde_json::to_string(&c.state)?)
    .bind(c.flow_version)
    .bind(i64::from(c.handoff))
    .bind(c.customer_id.clone())
    .bind(now)
    .bind(&c.id)
    .bind(c.revision)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// One line of a conversation's transcript.
#[derive(Debug, Serialize, ToSchema)]
pub struct TranscriptLine {
    pub id: String,
    /// `user`, `bot` or `operator`.
    pub from: String,
    /// What was said, as text (a question with its numbered options).
    pub text: String,
    /// The option the person pressed, if any.
    pub reply_id: Option<String>,
    /// Replies: `queued`, `sent` or `failed`.
    pub status: Option<String>,
    pub at: String,
}

/// What the person said and what was said to them, oldest first (the last `limit` lines).
pub async fn transcript(
    db: &Db,
    tenant: &TenantId,
    id: &str,
    limit: i64,
) -> Result<Vec<TranscriptLine>> {
    let said = sqlx::query(
        "SELECT id, text, reply_id, received_at FROM chat_inbox \
         WHERE tenant_id = $1 AND conversation_id = $2 ORDER BY received_at DESC, id DESC LIMIT $3",
    )
    .bind(tenant.as_str())
    .bind(id)
    .bind(limit)
    .fetch_all(&db.read)
    .await?;
    let answered = sqlx::query(
        "SELECT id, output, sender, status, created_at FROM chat_outbox \
         WHERE tenant_id = $1 AND conversation_id = $2 ORDER BY created_at DESC, id DESC LIMIT $3",
    )
    .bind(tenant.as_str())
    .bind(id)
    .bind(limit)
    .fetch_all(&db.read)
    .await?;
    let mut lines: Vec<(i64, TranscriptLine)> = Vec::with_capacity(said.len() + answered.len());
    for r in said {
        let at: i64 = r.get(3);
        lines.push((
            at,
            TranscriptLine {
                id: r.get(0),
                from: "user".into(),
                text: r.get(1),
                reply_id: r.get(2),
                status: None,
                at: fmt_ts(at),
            },
        ));
    }
    for r in answered {
        let at: i64 = r.get(4);
        let output: turnero_core::chat::Output = serde_json::from_str(&r.get::<String, _>(1))?;
        lines.push((
            at,
            TranscriptLine {
                id: r.get(0),
                from: r.get(2),
                text: output.as_text(),
                reply_id: None,
                status: Some(r.get(3)),
                at: fmt_ts(at),
            },
        ));
    }
    // Both ids end in a ULID (`inb_…`, `msg_…`) from the writer's monotonic generator, so
    // within a second they still sort in the order things were said.
    fn ulid(l: &TranscriptLine) -> &str {
        l.id.split_once('_').map_or("", |(_, u)| u)
    }
    lines.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| ulid(&a.1).cmp(ulid(&b.1))));
    let skip = lines.len().saturating_sub(limit as usize);
    Ok(lines.into_iter().skip(skip).map(|(_, l)| l).collect())
}

/// How many failed turns a message gets before it is set aside.
pub const MAX_ATTEMPTS: i64 = 5;

/// Counts a failed turn on a message; sets it aside (done, unanswered) at the last attempt.
/// Answers whether it was set aside.
pub async fn inbox_failed(db: &Db, id: &str, now: i64) -> Result<bool> {
    let row = sqlx::query(
        "UPDATE chat_inbox SET attempts = attempts + 1, \
         done_at = CASE WHEN attempts + 1 >= $1 THEN $2 ELSE done_at END \
         WHERE id = $3 RETURNING done_at",
    )
    .bind(MAX_ATTEMPTS)
    .bind(now)
    .bind(id)
    .fetch_optional(&db.write)
    .await?;
    Ok(row.is_some_and(|r| r.get::<Option<i64>, _>(0).is_some()))
}

/// Marks a message answered; false when another process answered it first.
pub async fn inbox_done_in(tx: &mut Tx, id: &str, now: i64) -> Result<bool> {
    let done = sqlx::query("UPDATE chat_inbox SET done_at = $1 WHERE id = $2 AND done_at IS NULL")
        .bind(now)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected() == 1)
}
