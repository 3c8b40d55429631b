//! What people said, waiting for the bot: every channel's inbound adapter hands its parsed
//! message to [`receive_in`], which writes the conversation, the inbox row and the
//! `message.received` event in the adapter's transaction. The runner takes rows from here;
//! the sweeper finds rows a dead process left.

use serde::Serialize;
use sqlx::Row;
use turnero_core::event;
use turnero_core::ids::{next_ulid, TenantId};
use turnero_core::phone::E164;

use super::conversations::touch_in;
use super::Channel;
use crate::agenda::events;
use crate::db::{Db, Tx};
use crate::error::Result;

/// One message from a person, as a channel's adapter parsed it (verified, not seen before).
#[derive(Debug, Clone)]
pub struct Inbound {
    pub channel: Channel,
    pub tenant: TenantId,
    /// Who wrote, in the channel's terms: a WhatsApp number's digits, a web visitor's
    /// session hash.
    pub contact: String,
    /// The channel's id for the message.
    pub message_id: String,
    /// `text`, `interactive`, `button`, `image`…
    pub kind: String,
    /// What the person wrote, or the title of the option they chose.
    pub text: Option<String>,
    /// The id of the option chosen (a button, a list row, a template button's payload).
    pub reply_id: Option<String>,
    pub is_button: bool,
    /// When the channel says it was sent (Unix seconds).
    pub at: i64,
    /// The customer whose phone the channel proves, matched by the adapter.
    pub customer_id: Option<String>,
    /// Someone else answers it in the channel itself (a Chatwoot conversation its agents
    /// hold): an event only, the bot does not read it.
    pub silent: bool,
    /// The phone this message proves (a WhatsApp sender's number, a Telegram contact the
    /// person shared of themselves), kept on the conversation; the adapter has checked it.
    pub proven_phone: Option<E164>,
    /// What else the channel tells about the sender, passed on in the event.
    pub about: About,
}

/// Kinds of message a person sends that carry no text of their own (WhatsApp's names).
const MEDIA_KINDS: &[&str] = &[
    "image", "audio", "voice", "video", "sticker", "document", "location", "contacts",
];

/// Channel details of a sender that events carry (WhatsApp's today).
#[derive(Debug, Clone, Default, Serialize)]
pub struct About {
    /// The business-scoped user id, beside or instead of the number.
    pub contact_user_id: Option<String>,
    pub customer_name: Option<String>,
    /// The number written to.
    pub business_number: Option<String>,
}

/// `message.received` data: the contract the Botmaker format and the conversation events
/// build on, the same for every channel.
#[derive(Serialize)]
struct Received<'a> {
    channel: &'static str,
    /// The sender as [`Channel::public_contact`] shows them.
    contact_id: &'a str,
    contact_user_id: &'a Option<String>,
    customer_id: Option<String>,
    conversation_id: Option<&'a str>,
    customer_name: &'a Option<String>,
    business_number: &'a Option<String>,
    session_started_at: Option<String>,
    message: ReceivedMessage<'a>,
}

#[derive(Serialize)]
struct ReceivedMessage<'a> {
    id: &'a str,
    kind: &'a str,
    text: &'a Option<String>,
    reply_id: &'a Option<String>,
    at: String,
    from: &'static str,
    is_button: bool,
}

/// Records the message in the caller's transaction: its `message.received` event and, when
/// it says something the bot can read, the conversation and the inbox row. Answers the
/// conversation to answer, if any; the caller commits, then asks the bot to answer it.
pub async fn receive_in(tx: &mut Tx, m: &Inbound, now: i64) -> Result<Option<String>> {
    // Media without a caption reaches the bot as an empty text: it answers that it reads
    // text, and asks its question again (a reaction or a system notice gets no answer).
    let for_bot = !m.silent
        && (m.text.is_some() || m.reply_id.is_some() || MEDIA_KINDS.contains(&m.kind.as_str()));
    let (conversation, linked) = if for_bot {
        let (id, linked) = touch_in(
            tx,
            &m.tenant,
            m.channel,
            &m.contact,
            m.proven_phone.as_ref(),
            now,
        )
        .await?;
        push(
            tx,
            &m.tenant,
            &id,
            m.text.as_deref().unwrap_or(""),
            m.reply_id.as_deref(),
            now,
        )
        .await?;
        (Some(id), linked)
    } else {
        (None, None)
    };
    let data = Received {
        channel: m.channel.as_str(),
        contact_id: m.channel.public_contact(&m.contact),
        contact_user_id: &m.about.contact_user_id,
        // A channel that proves the phone names the customer with that phone (or none); on
        // one that does not, only the conversation's own link to a customer counts.
        customer_id: if m.proven_phone.is_some() {
            m.customer_id.clone()
        } else {
            linked
        },
        conversation_id: conversation.as_deref(),
        customer_name: &m.about.customer_name,
        business_number: &m.about.business_number,
        session_started_at: None,
        message: ReceivedMessage {
            id: &m.message_id,
            kind: &m.kind,
            text: &m.text,
            reply_id: &m.reply_id,
            at: turnero_core::time::fmt_ts(m.at),
            from: "user",
            is_button: m.is_button,
        },
    };
    events::record(
        tx,
        &m.tenant,
        event::MESSAGE_RECEIVED,
        &m.message_id,
        &data,
        now,
    )
    .await?;
    Ok(conversation)
}

/// Whether `seen_id` (a message's or an update's id) is new for the tenant's channel; marks
/// it seen in the caller's transaction, with what it leads to, so a vendor's redelivery is
/// recognised whatever process it reaches.
pub async fn first_time_in(
    tx: &mut Tx,
    tenant: &TenantId,
    channel: Channel,
    seen_id: &str,
    now: i64,
) -> Result<bool> {
    let fresh = sqlx::query(
        "INSERT INTO inbound_seen (tenant_id, channel, external_id, seen_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
    )
    .bind(tenant.as_str())
    .bind(channel.as_str())
    .bind(seen_id)
    .bind(now)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok(fresh > 0)
}

/// Queues what the person said, to be answered by the runner.
async fn push(
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

/// How many failed turns a message gets before it is set aside.
pub const MAX_ATTEMPTS: i64 = 5;

/// Counts a failed turn on a message; sets it aside (done, unanswered) at the last attempt.
/// Answers whether it was set aside.
pub async fn failed(db: &Db, id: &str, now: i64) -> Result<bool> {
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
pub async fn done_in(tx: &mut Tx, id: &str, now: i64) -> Result<bool> {
    let done = sqlx::query("UPDATE chat_inbox SET done_at = $1 WHERE id = $2 AND done_at IS NULL")
        .bind(now)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected() == 1)
}
