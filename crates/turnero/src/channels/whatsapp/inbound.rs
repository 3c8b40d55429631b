//! Meta's webhook for a WhatsApp number: the signature over the raw bytes, then every inbound
//! message and status turned into a `message.received` / `message.status` event (once: Meta
//! redelivers, so ids already seen are skipped, in the same transaction as the event).

use hmac::{Hmac, Mac};
use serde::Serialize;
use serde_json::Value;
use sha2::Sha256;
use turnero_core::event;

use turnero_core::ids::TenantId;

use super::store;
use crate::agenda::{customers, events};
use crate::chat::inbox::{self, About, Inbound};
use crate::chat::Channel;
use crate::db::Db;
use crate::error::{Error, Result};

/// Message types that carry nothing for a booking conversation (Chatwoot skips them too).
const IGNORED_TYPES: &[&str] = &["reaction", "ephemeral", "unsupported", "request_welcome"];

/// `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw body)>`, compared in
/// constant time.
pub fn signature_ok(app_secret: &str, body: &[u8], header: Option<&str>) -> bool {
    let Some(sig) = header
        .and_then(|h| h.trim().strip_prefix("sha256="))
        .and_then(|h| hex::decode(h).ok())
    else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(app_secret.as_bytes()) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&sig).is_ok()
}

/// `message.status` data.
#[derive(Debug, Serialize)]
struct Status {
    channel: &'static str,
    contact_id: Option<String>,
    message_id: String,
    /// `sent`, `delivered`, `read`, `failed`…
    status: String,
    at: String,
    errors: Option<Value>,
}

#[derive(Debug, Default, Serialize)]
pub struct Receipt {
    pub messages: usize,
    pub statuses: usize,
    pub duplicates: usize,
    /// Messages and statuses that could not be recorded: the others of the batch are kept,
    /// and the webhook answers 500 so Meta sends the batch again (the kept ones are then
    /// duplicates).
    #[serde(skip)]
    pub failed: usize,
    /// Conversations with something new to answer.
    #[serde(skip)]
    pub to_answer: Vec<String>,
}

fn text(v: &Value, path: &[&str]) -> Option<String> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p)?;
    }
    // PostgreSQL cannot store a NUL, and no message needs one: it is dropped, not refused,
    // so Meta does not retry the whole batch for it.
    cur.as_str().map(|s| s.replace('\0', ""))
}

/// A message's or status's `timestamp` (Unix seconds, as text).
fn timestamp(v: &Value) -> i64 {
    text(v, &["timestamp"])
        .and_then(|t| t.parse::<i64>().ok())
        .unwrap_or(0)
}

/// What the user said, whatever the message type: (text, reply id, is a button).
fn content(m: &Value) -> (Option<String>, Option<String>, bool) {
    match m.get("type").and_then(Value::as_str) {
        Some("text") => (text(m, &["text", "body"]), None, false),
        Some("interactive") => {
            let kind = text(m, &["interactive", "type"]).unwrap_or_default();
            let reply = m.get("interactive").and_then(|i| i.get(&kind));
            (
                reply.and_then(|r| text(r, &["title"])),
                reply.and_then(|r| text(r, &["id"])),
                true,
            )
        }
        Some("button") => (
            text(m, &["button", "text"]),
            text(m, &["button", "payload"]),
            true,
        ),
        Some(other) => (
            m.get(other).and_then(|o| text(o, &["caption"])),
            None,
            false,
        ),
        None => (None, None, false),
    }
}

/// Applies one webhook body (already verified). Changes for another number are ignored.
pub async fn receive(db: &Db, channel: &store::Channel, body: &[u8], now: i64) -> Result<Receipt> {
    let payload: Value = serde_json::from_slice(body)
        .map_err(|_| Error::bad_request("malformed_json", "the body is not JSON"))?;
    let mut receipt = Receipt::default();
    let entries = payload.get("entry").and_then(Value::as_array);
    for change in entries.into_iter().flatten().flat_map(|e| {
        e.get("changes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
    }) {
        let Some(value) = change.get("value") else {
            continue;
        };
        if text(value, &["metadata", "phone_number_id"]).as_deref()
            != Some(channel.phone_number_id.as_str())
        {
            continue;
        }
        let business = text(value, &["metadata", "display_phone_number"]);
        let contacts: Vec<&Value> = value
            .get("contacts")
            .and_then(Value::as_array)
            .map(|c| c.iter().collect())
            .unwrap_or_default();
        for m in value
            .get("messages")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let kind = text(m, &["type"]).unwrap_or_default();
            let Some(id) = text(m, &["id"]) else { continue };
            if IGNORED_TYPES.contains(&kind.as_str()) {
                continue;
            }
            let from = text(m, &["from"]);
            let user_id = text(m, &["from_user_id"]);
            let contact = contacts.iter().find(|c| {
                (from.is_some() && text(c, &["wa_id"]) == from)
                    || (user_id.is_some() && text(c, &["user_id"]) == user_id)
            });
            let (said, reply_id, is_button) = content(m);
            let sender = from.clone().or(user_id.clone()).unwrap_or_default();
            // A flood from one number is kept (an event each, nothing lost) but the bot
            // answers only what a person could have typed.
            let flooding = !sender_may_talk(&channel.tenant, &sender);
            let message = Inbound {
                channel: Channel::WhatsApp,
                tenant: channel.tenant.clone(),
                contact: sender,
                message_id: id,
                kind,
                text: said,
                reply_id,
                is_button,
                at: timestamp(m),
                customer_id: None,
                proven_phone: None,
                silent: flooding,
                about: About {
                    contact_user_id: user_id,
                    customer_name: contact.and_then(|c| text(c, &["profile", "name"])),
                    business_number: business.clone(),
                },
            };
            let message_id = message.message_id.clone();
            match record_message(db, message, from.as_deref(), now).await {
                Ok(None) => receipt.duplicates += 1,
                Ok(Some(conversation)) => {
                    receipt.messages += 1;
                    receipt.to_answer.extend(conversation);
                }
                Err(e) => {
                    tracing::error!(error = ?e, message_id, "a WhatsApp message could not be recorded; the rest of its batch is kept");
                    receipt.failed += 1;
                }
            }
        }
        for s in value
            .get("statuses")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let (Some(id), Some(status)) = (text(s, &["id"]), text(s, &["status"])) else {
                continue;
            };
            let seen = format!("status:{id}:{status}");
            let progress = status_rank(&status).map(|r| (id.clone(), r));
            let data = Status {
                channel: Channel::WhatsApp.as_str(),
                contact_id: text(s, &["recipient_id"]).or_else(|| text(s, &["recipient_user_id"])),
                message_id: id,
                status,
                at: turnero_core::time::fmt_ts(timestamp(s)),
                errors: s.get("errors").cloned(),
            };
            match record_status(db, &channel.tenant, &seen, data, progress, now).await {
                Ok(true) => receipt.statuses += 1,
                Ok(false) => receipt.duplicates += 1,
                Err(e) => {
                    tracing::error!(error = ?e, seen, "a WhatsApp status could not be recorded; the rest of its batch is kept");
                    receipt.failed += 1;
                }
            }
        }
    }
    Ok(receipt)
}

const FAILED_RANK: i64 = 5;

/// Messages one WhatsApp number may have answered per minute (and at once, a burst as big),
/// per tenant, in this process: a person types far fewer; a script flooding the bot gets its
/// messages recorded but not answered (no turns, no bookings, no replies).
const ANSWERED_PER_MINUTE: u32 = 30;

static PER_SENDER: std::sync::LazyLock<governor::DefaultKeyedRateLimiter<(String, String)>> =
    std::sync::LazyLock::new(|| {
        let per_minute = std::num::NonZeroU32::new(ANSWERED_PER_MINUTE).expect("non-zero");
        let burst = std::num::NonZeroU32::new(ANSWERED_PER_MINUTE).expect("non-zero");
        governor::RateLimiter::keyed(governor::Quota::per_minute(per_minute).allow_burst(burst))
    });

fn sender_may_talk(tenant: &TenantId, sender: &str) -> bool {
    // Numbers quiet for long hold no state worth keeping.
    if PER_SENDER.len() > 50_000 {
        PER_SENDER.retain_recent();
    }
    PER_SENDER
        .check_key(&(tenant.as_str().to_string(), sender.to_string()))
        .is_ok()
}

/// How far a sent message has got; `failed` ends it. Unknown statuses are passed on as they
/// come.
fn status_rank(status: &str) -> Option<i64> {
    match status {
        "sent" => Some(1),
        "delivered" => Some(2),
        "read" => Some(3),
        "played" => Some(4),
        "failed" => Some(FAILED_RANK),
        _ => None,
    }
}

/// Hands a message not seen before to the bot's inbox, with the customer whose number sent
/// it (WhatsApp proves the number). `None` for a redelivery; otherwise the conversation to
/// answer, if the message says anything the bot can read.
async fn record_message(
    db: &Db,
    mut message: Inbound,
    phone_digits: Option<&str>,
    now: i64,
) -> Result<Option<Option<String>>> {
    let mut tx = db.begin().await?;
    if !inbox::first_time_in(
        &mut tx,
        &message.tenant,
        Channel::WhatsApp,
        &message.message_id,
        now,
    )
    .await?
    {
        return Ok(None);
    }
    // WhatsApp proves the sender's number.
    message.proven_phone = phone_digits.and_then(|d| Channel::WhatsApp.proven_phone(d));
    if let Some(phone) = &message.proven_phone {
        message.customer_id = customers::id_by_phone_in(&mut tx, &message.tenant, phone).await?;
    }
    let conversation = inbox::receive_in(&mut tx, &message, now).await?;
    db.commit_events(tx).await?;
    Ok(Some(conversation))
}

/// Writes a status's event unless it was seen before or the message has already got
/// further (a late `delivered` after `read`). Answers whether it was written.
async fn record_status(
    db: &Db,
    tenant: &TenantId,
    seen_id: &str,
    data: Status,
    progress: Option<(String, i64)>,
    now: i64,
) -> Result<bool> {
    let mut tx = db.begin().await?;
    if !inbox::first_time_in(&mut tx, tenant, Channel::WhatsApp, seen_id, now).await? {
        return Ok(false);
    }
    if let Some((message_id, rank)) = progress {
        let further = sqlx::query(
            "INSERT INTO message_statuses (tenant_id, channel, message_id, rank) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (tenant_id, channel, message_id) \
             DO UPDATE SET rank = excluded.rank WHERE message_statuses.rank < excluded.rank",
        )
        .bind(tenant.as_str())
        .bind(Channel::WhatsApp.as_str())
        .bind(&message_id)
        .bind(rank)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if further == 0 {
            return Ok(false);
        }
        // Meta took a reminder and then could not deliver it (not on WhatsApp, 131026; the
        // window closed, 131047): the reminder goes on to the rule's next channel.
        if rank == FAILED_RANK {
            let why = data
                .errors
                .as_ref()
                .and_then(|e| e[0]["title"].as_str().or(e[0]["message"].as_str()))
                .unwrap_or("failed")
                .to_string();
            let reason = format!("WhatsApp could not deliver it: {why}");
            crate::chat::notices::on_failed_status(&mut tx, tenant, &message_id, &reason, now)
                .await?;
        }
    }
    events::record(&mut tx, tenant, event::MESSAGE_STATUS, seen_id, &data, now).await?;
    db.commit_events(tx).await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metas_published_signature_vector_verifies_and_a_changed_byte_does_not() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/fixtures/channels/whatsapp_signature_vector.json"
        );
        let v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let secret = v["app_secret"].as_str().unwrap();
        let body = v["raw_body"].as_str().unwrap().as_bytes();
        let header = v["header"]["X-Hub-Signature-256"].as_str();
        assert!(signature_ok(secret, body, header));
        let mut tampered = body.to_vec();
        tampered[10] ^= 1;
        assert!(!signature_ok(secret, &tampered, header));
        assert!(!signature_ok("another-secret", body, header));
        assert!(!signature_ok(secret, body, None));
        assert!(!signature_ok(secret, body, Some("sha1=abc")));
    }

    #[test]
    fn every_reply_kind_reads_as_what_the_user_chose() {
        let button = serde_json::json!({"type": "interactive", "interactive": {"type": "button_reply", "button_reply": {"id": "confirm", "title": "Confirmar"}}});
        assert_eq!(
            content(&button),
            (Some("Confirmar".into()), Some("confirm".into()), true)
        );
        let template = serde_json::json!({"type": "button", "button": {"payload": "CANCEL_1", "text": "Cancelar"}});
        assert_eq!(
            content(&template),
            (Some("Cancelar".into()), Some("CANCEL_1".into()), true)
        );
        let plain = serde_json::json!({"type": "text", "text": {"body": "hola"}});
        assert_eq!(content(&plain), (Some("hola".into()), None, false));
    }
}
