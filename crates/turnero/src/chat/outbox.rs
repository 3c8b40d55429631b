//! What the bot (or staff) says: queued with the conversation's state, then sent. On a
//! channel that pushes replies, the channel's [`Sender`] sends a conversation's rows in
//! order, under a lease, so two processes never send the same row at once and the person
//! never reads replies out of order; on the web chat the page's event stream reads them, so
//! they count as sent when written.

use std::collections::HashMap;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use serde::Serialize;
use sqlx::Row;
use turnero_core::chat::Output;
use turnero_core::event;
use turnero_core::ids::next_ulid;

use super::conversations::{self, Conversation};
use super::{Channel, Chat};
use crate::agenda::events;
use crate::db::Batch;
use crate::error::Result;

/// How one output fared with the channel.
pub enum Delivery {
    /// Accepted; the channel's ids for it (a long text may take several messages).
    Sent(Vec<String>),
    /// Refused for good (a 4xx): kept as failed with the reason.
    Refused(String),
    /// Try again later (a 5xx, 429, timeout, connection refused): after `retry_after`
    /// seconds when the channel said how long, else once the send's lease runs out.
    Later {
        error: String,
        retry_after: Option<i64>,
    },
}

impl Delivery {
    pub fn later(error: impl Into<String>) -> Self {
        Delivery::Later {
            error: error.into(),
            retry_after: None,
        }
    }
}

/// A channel's outbound half: renders an output within the channel's limits (and the
/// conversation's language) and sends it to the conversation's person. Registered per
/// channel when the app starts (`channels::senders`).
pub trait Sender: Send + Sync {
    fn send<'a>(
        &'a self,
        to: &'a Conversation,
        output: &'a Output,
    ) -> BoxFuture<'a, Result<Delivery>>;
}

/// The senders of the channels that push replies.
pub type Senders = HashMap<Channel, Arc<dyn Sender>>;

/// How long a process owns a row it is sending; after that another may send it again.
const SEND_LEASE_SECS: i64 = 30;

/// `message.sent` data, in the conversation events' shape (see `webhooks/formats.rs`).
#[derive(Serialize)]
struct Sent<'a> {
    channel: &'a str,
    conversation_id: &'a str,
    contact_id: &'a str,
    customer_id: Option<&'a str>,
    message: SentMessage<'a>,
}

#[derive(Serialize)]
struct SentMessage<'a> {
    id: &'a str,
    /// The output as text (a question with its numbered options).
    text: String,
    at: String,
    /// `bot`, or `operator` for staff messages.
    from: &'a str,
    is_button: bool,
    /// The channel's ids for it (WhatsApp's `wamid…`; a long text may take several).
    external_ids: Vec<String>,
    /// The output as the bot produced it, before the channel shaped it.
    output: &'a Output,
}

impl<'a> Sent<'a> {
    fn new(c: &'a Conversation, id: &'a str, output: &'a Output, from: &'a str, at: i64) -> Self {
        Sent {
            channel: c.channel.as_str(),
            conversation_id: &c.id,
            contact_id: c.channel.public_contact(&c.contact),
            customer_id: c.customer_id.as_deref(),
            message: SentMessage {
                id,
                text: output.as_text(),
                at: turnero_core::time::fmt_ts(at),
                from,
                is_button: false,
                external_ids: vec![],
                output,
            },
        }
    }
}

/// Adds the outputs' rows (and, for the web chat, their `message.sent` events) to a batch.
pub fn queue(batch: &mut Batch, c: &Conversation, outputs: &[Output], now: i64) -> Result<()> {
    queue_from(batch, c, outputs, "bot", now).map(drop)
}

/// Like [`queue`], from `bot` or `operator` (staff writing through the API).
pub fn queue_from(
    batch: &mut Batch,
    c: &Conversation,
    outputs: &[Output],
    from: &str,
    now: i64,
) -> Result<Vec<String>> {
    let web = !c.channel.pushes_replies();
    let mut ids = Vec::with_capacity(outputs.len());
    for out in outputs {
        let id = format!("msg_{}", next_ulid());
        ids.push(id.clone());
        let body = serde_json::to_string(out)?;
        let status = if web { "sent" } else { "queued" };
        batch.push(
            "INSERT INTO chat_outbox (id, tenant_id, conversation_id, channel, output, status, \
             created_at, sent_at, sender) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            crate::args![
                id.clone(),
                c.tenant.as_str().to_string(),
                c.id.clone(),
                c.channel.as_str().to_string(),
                body,
                status.to_string(),
                now,
                web.then_some(now),
                from.to_string()
            ]?,
        );
        if web {
            let data = Sent::new(c, &id, out, from, now);
            events::push(batch, &c.tenant, event::MESSAGE_SENT, &id, &data, now)?;
        }
    }
    Ok(ids)
}

/// Conversations with rows to push that nobody is sending: never claimed after a few seconds,
/// or claimed by a process whose lease ran out.
pub async fn stranded(db: &crate::db::Db, now: i64, limit: i64) -> Result<Vec<String>> {
    let rows = sqlx::query(
        "SELECT DISTINCT conversation_id FROM chat_outbox WHERE status = 'queued' \
         AND ((lease_until IS NULL AND created_at < $1) OR lease_until < $2) LIMIT $3",
    )
    .bind(now - 5)
    .bind(now)
    .bind(limit)
    .fetch_all(&db.read)
    .await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// The row a channel knows by this id (WhatsApp's `wamid`), in the caller's transaction.
pub async fn by_external_in(
    tx: &mut crate::db::Tx,
    tenant: &turnero_core::ids::TenantId,
    channel: Channel,
    external_id: &str,
) -> Result<Option<String>> {
    let row = sqlx::query(
        "SELECT id FROM chat_outbox WHERE tenant_id = $1 AND channel = $2 AND external_id = $3",
    )
    .bind(tenant.as_str())
    .bind(channel.as_str())
    .bind(external_id)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row.map(|r| r.get(0)))
}

/// A conversation's replies written after the row `after` (ids sort in writing order), as
/// (id, the output as stored JSON): what a page that reads its own replies shows next.
pub async fn written_after(
    db: &crate::db::Db,
    conversation: &str,
    after: &str,
    limit: i64,
) -> Result<Vec<(String, String)>> {
    let rows = sqlx::query(
        "SELECT id, output FROM chat_outbox WHERE conversation_id = $1 AND id > $2 \
         ORDER BY id LIMIT $3",
    )
    .bind(conversation)
    .bind(after)
    .bind(limit)
    .fetch_all(&db.read)
    .await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// The conversation's last `limit` outputs, newest first: what a channel that cannot carry
/// an option's whole id back looks the option up in.
pub async fn recent(db: &crate::db::Db, conversation: &str, limit: i64) -> Result<Vec<Output>> {
    let rows = sqlx::query(
        "SELECT output FROM chat_outbox WHERE conversation_id = $1 ORDER BY id DESC LIMIT $2",
    )
    .bind(conversation)
    .bind(limit)
    .fetch_all(&db.read)
    .await?;
    Ok(rows
        .iter()
        .filter_map(|r| serde_json::from_str(&r.get::<String, _>(0)).ok())
        .collect())
}

/// Sends a conversation's queued rows, oldest first; stops at the first that must be
/// retried, so the person never reads replies out of order.
pub(super) async fn send_queued(chat: &Chat, conversation: &str) -> Result<()> {
    let c = conversations::load(&chat.db, conversation).await?;
    let Some(sender) = chat.senders.get(&c.channel).cloned() else {
        return Ok(());
    };
    let rows = sqlx::query(
        "SELECT id, output, sender FROM chat_outbox WHERE conversation_id = $1 \
         AND status = 'queued' ORDER BY id",
    )
    .bind(conversation)
    .fetch_all(&chat.db.write)
    .await?;
    for row in rows {
        let (id, output, from): (String, String, String) = (row.get(0), row.get(1), row.get(2));
        let now = chat.clock.now_secs();
        let claimed = sqlx::query(
            "UPDATE chat_outbox SET lease_until = $1 WHERE id = $2 AND status = 'queued' \
             AND (lease_until IS NULL OR lease_until < $3)",
        )
        .bind(now + SEND_LEASE_SECS)
        .bind(&id)
        .bind(now)
        .execute(&chat.db.write)
        .await?;
        if claimed.rows_affected() == 0 {
            return Ok(()); // another process is on this conversation
        }
        let output: Output = serde_json::from_str(&output)?;
        if from == super::notices::FROM && !super::notices::still_wanted(chat, &id).await? {
            sqlx::query("UPDATE chat_outbox SET status = 'failed', error = $1 WHERE id = $2")
                .bind("withdrawn: the booking changed before it was sent")
                .bind(&id)
                .execute(&chat.db.write)
                .await?;
            continue;
        }
        let delivery = sender.send(&c, &output).await?;
        let now = chat.clock.now_secs();
        match delivery {
            Delivery::Sent(wamids) => {
                let mut tx = chat.db.begin().await?;
                sqlx::query(
                    "UPDATE chat_outbox SET status = 'sent', external_id = $1, sent_at = $2 \
                     WHERE id = $3",
                )
                .bind(wamids.join(","))
                .bind(now)
                .bind(&id)
                .execute(&mut *tx)
                .await?;
                let mut data = Sent::new(&c, &id, &output, &from, now);
                data.message.external_ids = wamids.clone();
                events::record(&mut tx, &c.tenant, event::MESSAGE_SENT, &id, &data, now).await?;
                // Only reminders have a plan row to move (a bot reply asks nothing more).
                if from == super::notices::FROM {
                    super::notices::on_sent(&mut tx, &id, now).await?;
                }
                chat.db.commit_events(tx).await?;
            }
            Delivery::Refused(error) => {
                tracing::warn!(message = id, channel = %c.channel, error, "the channel refused a message");
                let mut tx = chat.db.begin().await?;
                sqlx::query("UPDATE chat_outbox SET status = 'failed', error = $1 WHERE id = $2")
                    .bind(&error)
                    .bind(&id)
                    .execute(&mut *tx)
                    .await?;
                // A reminder refused here goes out on the rule's next channel.
                if from == super::notices::FROM {
                    super::notices::on_refused(&mut tx, &id, c.channel, &error, now).await?;
                }
                chat.db.commit_events(tx).await?;
            }
            Delivery::Later { error, retry_after } => {
                tracing::warn!(message = id, channel = %c.channel, error, "a send will be retried");
                // The lease is what keeps the sweeper away: it ends when the channel asked.
                let retry_at = now + retry_after.unwrap_or(SEND_LEASE_SECS).clamp(1, 3600);
                sqlx::query("UPDATE chat_outbox SET error = $1, lease_until = $2 WHERE id = $3")
                    .bind(error)
                    .bind(retry_at)
                    .bind(&id)
                    .execute(&chat.db.write)
                    .await?;
                return Ok(());
            }
        }
    }
    Ok(())
}

/// The tenant's outgoing messages since `since` by channel and status (`queued`, `sent`,
/// `failed`…): how each channel is doing, for the console's integrations page.
pub async fn counts_by_channel(
    db: &crate::db::Db,
    tenant: &turnero_core::ids::TenantId,
    since: i64,
) -> Result<Vec<(String, String, i64)>> {
    let rows = sqlx::query(
        "SELECT channel, status, COUNT(*) FROM chat_outbox WHERE tenant_id = $1 \
         AND created_at >= $2 GROUP BY channel, status ORDER BY channel, status",
    )
    .bind(tenant.as_str())
    .bind(since)
    .fetch_all(&db.read)
    .await?;
    Ok(rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect())
}
