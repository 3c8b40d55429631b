//! Stored conversations: who, on which channel, where the flow is; and their transcript.

use sqlx::Row;
use turnero_core::flow::State;
use turnero_core::ids::{next_ulid, TenantId};
use turnero_core::phone::E164;

use super::Channel;
use crate::db::{Db, Tx};
use crate::error::{Error, Result};

pub struct Conversation {
    pub id: String,
    pub tenant: TenantId,
    pub channel: Channel,
    pub contact: String,
    pub customer_id: Option<String>,
    pub flow_version: i64,
    pub language: String,
    pub state: State,
    pub handoff: bool,
    pub last_inbound_at: Option<i64>,
    /// A phone the channel proved after the conversation began (see [`Conversation::proven_phone`]).
    proven: Option<String>,
    pub revision: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str = "id, tenant_id, channel, contact, customer_id, flow_version, language, \
    state, handoff, last_inbound_at, revision, created_at, updated_at, proven_phone";

fn from_row(r: &sqlx::any::AnyRow) -> Result<Conversation> {
    Ok(Conversation {
        id: r.get(0),
        tenant: TenantId::from_trusted(r.get::<String, _>(1)),
        channel: r
            .get::<String, _>(2)
            .parse()
            .map_err(|e: String| anyhow::anyhow!("stored {e}"))?,
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
        proven: r.get(13),
    })
}

impl Conversation {
    /// The phone the person proved: their WhatsApp number, or the contact they shared of
    /// themselves on Telegram. Only this phone unlocks what the agenda knows about them.
    pub fn proven_phone(&self) -> Option<E164> {
        self.channel.proven_phone(&self.contact).or_else(|| {
            self.proven
                .as_deref()
                .and_then(|p| E164::parse(p, None).ok())
        })
    }
}

/// The conversation with this person on this channel (and the customer it is linked to),
/// created on first contact; records that they just wrote (the 24-hour window counts from
/// here) and the phone this message proved, if it proved one. Answers its id.
pub async fn touch_in(
    tx: &mut Tx,
    tenant: &TenantId,
    channel: Channel,
    contact: &str,
    proven: Option<&E164>,
    now: i64,
) -> Result<(String, Option<String>)> {
    let id = format!("cnv_{}", next_ulid());
    sqlx::query(
        "INSERT INTO conversations (id, tenant_id, channel, contact, flow_version, language, \
         state, created_at, updated_at) \
         SELECT $1, $2, $3, $4, 0, t.locale, '{}', $5, $5 FROM tenants t WHERE t.id = $2 \
         ON CONFLICT (tenant_id, channel, contact) DO NOTHING",
    )
    .bind(&id)
    .bind(tenant.as_str())
    .bind(channel.as_str())
    .bind(contact)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    let row = sqlx::query(
        "UPDATE conversations SET last_inbound_at = $1, \
         proven_phone = COALESCE($5, proven_phone) \
         WHERE tenant_id = $2 AND channel = $3 AND contact = $4 RETURNING id, customer_id",
    )
    .bind(now)
    .bind(tenant.as_str())
    .bind(channel.as_str())
    .bind(contact)
    .bind(proven.map(|p| p.as_str().to_string()))
    .fetch_one(&mut **tx)
    .await?;
    Ok((row.get(0), row.get(1)))
}

/// The conversation with this contact on this channel, opened by the clinic (the person has
/// not written yet: no 24-hour window counts), linked to the customer it is with. Answers it.
pub async fn open(
    db: &Db,
    tenant: &TenantId,
    channel: Channel,
    contact: &str,
    customer: &str,
    now: i64,
) -> Result<Conversation> {
    let mut tx = db.begin().await?;
    let c = open_in(&mut tx, tenant, channel, contact, customer, now).await?;
    tx.commit().await?;
    Ok(c)
}

/// The customer's most recent conversation on a channel (where a reminder can reach them on
/// a channel whose contact is not a phone: Telegram, Chatwoot): linked to them, or where
/// they proved their phone.
pub async fn latest_for_customer(
    db: &Db,
    tenant: &TenantId,
    channel: Channel,
    customer: &str,
    phone: Option<&str>,
) -> Result<Option<Conversation>> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM conversations WHERE tenant_id = $1 AND channel = $2 \
         AND (customer_id = $3 OR proven_phone = $4) ORDER BY updated_at DESC, id DESC LIMIT 1"
    ))
    .bind(tenant.as_str())
    .bind(channel.as_str())
    .bind(customer)
    .bind(phone.unwrap_or("-"))
    .fetch_optional(&db.read)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// [`open`] inside the caller's transaction (a reminder's first message to a new contact:
/// the conversation, its outbox row and the plan row's move commit together).
pub async fn open_in(
    tx: &mut Tx,
    tenant: &TenantId,
    channel: Channel,
    contact: &str,
    customer: &str,
    now: i64,
) -> Result<Conversation> {
    // One statement: the new row, or the one there already (the no-op update only makes
    // the conflicting row come back).
    let row = sqlx::query(&format!(
        "INSERT INTO conversations (id, tenant_id, channel, contact, customer_id, flow_version, \
         language, state, created_at, updated_at) \
         SELECT $1, $2, $3, $4, $5, 0, t.locale, '{{}}', $6, $6 FROM tenants t WHERE t.id = $2 \
         ON CONFLICT (tenant_id, channel, contact) DO UPDATE SET contact = excluded.contact \
         RETURNING {COLUMNS}"
    ))
    .bind(format!("cnv_{}", next_ulid()))
    .bind(tenant.as_str())
    .bind(channel.as_str())
    .bind(contact)
    .bind(customer)
    .bind(now)
    .fetch_one(&mut **tx)
    .await?;
    from_row(&row)
}

/// The conversation with this person on this channel, if they ever wrote.
pub async fn find(
    db: &Db,
    tenant: &TenantId,
    channel: Channel,
    contact: &str,
) -> Result<Option<String>> {
    let row = sqlx::query(
        "SELECT id FROM conversations WHERE tenant_id = $1 AND channel = $2 AND contact = $3",
    )
    .bind(tenant.as_str())
    .bind(channel.as_str())
    .bind(contact)
    .fetch_optional(&db.read)
    .await?;
    Ok(row.map(|r| r.get(0)))
}

/// The conversation with this person on this channel, whole, if they ever wrote.
pub async fn with_contact(
    db: &Db,
    tenant: &TenantId,
    channel: Channel,
    contact: &str,
) -> Result<Option<Conversation>> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM conversations WHERE tenant_id = $1 AND channel = $2 AND contact = $3"
    ))
    .bind(tenant.as_str())
    .bind(channel.as_str())
    .bind(contact)
    .fetch_optional(&db.read)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// Gives a handed-off conversation back to the bot: its next message starts the flow anew.
pub async fn release(db: &Db, tenant: &TenantId, id: &str, now: i64) -> Result<()> {
    set_handoff(db, tenant, id, false, now).await
}

/// Staff take the conversation over (`true`: the bot stops answering, and does not tell the
/// person to wait for someone, who is already there) or hand it back to the bot (`false`: its
/// next message starts the flow anew).
pub async fn set_handoff(
    db: &Db,
    tenant: &TenantId,
    id: &str,
    handoff: bool,
    now: i64,
) -> Result<()> {
    let mut c = get(db, tenant, id).await?;
    if handoff {
        c.state.take_over();
    } else {
        c.state.hand_back();
    }
    c.handoff = handoff;
    let mut tx = db.begin().await?;
    if !save_in(&mut tx, &c, now).await? {
        return Err(Error::conflict(
            "concurrent_change",
            "the conversation changed meanwhile; try again",
        ));
    }
    tx.commit().await?;
    Ok(())
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
#[derive(Debug)]
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
    pub at: i64,
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
                at,
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
                at,
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

/// How long a claim on a conversation lasts if its process dies mid-turn (a turn normally
/// takes milliseconds; the longest is bounded by the availability API's timeout).
const CLAIM_SECS: i64 = 30;

/// Claims the conversation for one process's turns when it has a message waiting: false
/// when none waits or another process is answering it (its claim has not lapsed).
/// Committed on its own, before any effect.
pub async fn claim(db: &Db, id: &str, owner: &str, now: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE conversations SET turn_owner = $1, turn_until = $2 \
         WHERE id = $3 AND (turn_owner IS NULL OR turn_owner = $1 OR turn_until < $4) \
         AND EXISTS (SELECT 1 FROM chat_inbox WHERE conversation_id = $3 AND done_at IS NULL)",
    )
    .bind(owner)
    .bind(now + CLAIM_SECS)
    .bind(id)
    .bind(now)
    .execute(&db.write)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Lets go of a claim this owner holds, unless a message came in meanwhile (then the owner
/// keeps it and answers that too): in one statement, so a message is never left with nobody
/// answering. Answers whether it let go.
pub async fn unclaim_if_idle(db: &Db, id: &str, owner: &str) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE conversations SET turn_owner = NULL, turn_until = NULL \
         WHERE id = $1 AND turn_owner = $2 \
         AND NOT EXISTS (SELECT 1 FROM chat_inbox WHERE conversation_id = $1 AND done_at IS NULL)",
    )
    .bind(id)
    .bind(owner)
    .execute(&db.write)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Lets go of a claim after a failed turn (the sweeper answers what is left).
pub async fn unclaim(db: &Db, id: &str, owner: &str) -> Result<()> {
    sqlx::query(
        "UPDATE conversations SET turn_owner = NULL, turn_until = NULL \
         WHERE id = $1 AND turn_owner = $2",
    )
    .bind(id)
    .bind(owner)
    .execute(&db.write)
    .await?;
    Ok(())
}
