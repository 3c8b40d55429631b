//! Meta's webhook for a WhatsApp number: the signature over the raw bytes, then every inbound
//! message and status turned into a `message.received` / `message.status` event (once: Meta
//! redelivers, so ids already seen are skipped, in the same transaction as the event).

use hmac::{Hmac, Mac};
use serde::Serialize;
use serde_json::Value;
use sha2::Sha256;
use sqlx::Row;
use turnero_core::event;
use turnero_core::phone::E164;

use super::store::Channel;
use crate::agenda::events;
use crate::chat::conversations;
use crate::db::Db;
use crate::error::{Error, Result};

pub const CHANNEL: &str = "whatsapp";

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

/// `message.received` data (the contract the Botmaker format and the chat build on).
#[derive(Debug, Serialize)]
struct Received {
    channel: &'static str,
    /// The user's phone as WhatsApp gives it (digits), or their business-scoped id.
    contact_id: String,
    contact_user_id: Option<String>,
    customer_id: Option<String>,
    conversation_id: Option<String>,
    customer_name: Option<String>,
    business_number: Option<String>,
    session_started_at: Option<String>,
    message: Message,
}

#[derive(Debug, Serialize)]
struct Message {
    id: String,
    /// `text`, `interactive`, `button`, `image`…
    kind: String,
    /// What the user wrote, or the title of the button or row they chose.
    text: Option<String>,
    /// The id of the chosen button or row (or a template button's payload).
    reply_id: Option<String>,
    at: String,
    from: &'static str,
    is_button: bool,
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
    /// Conversations with something new to answer.
    #[serde(skip)]
    pub to_answer: Vec<String>,
}

/// What the bot should read: the user's words, or the id of what they pressed.
struct Said<'a> {
    contact: &'a str,
    text: &'a str,
    reply_id: Option<&'a str>,
}

fn text(v: &Value, path: &[&str]) -> Option<String> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p)?;
    }
    cur.as_str().map(str::to_string)
}

fn at(v: &Value) -> String {
    let secs = text(v, &["timestamp"])
        .and_then(|t| t.parse::<i64>().ok())
        .unwrap_or(0);
    crate::api::fmt_ts(secs)
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
pub async fn receive(db: &Db, channel: &Channel, body: &[u8], now: i64) -> Result<Receipt> {
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
            let contact_id = from.clone().or(user_id.clone()).unwrap_or_default();
            let for_bot = (said.is_some() || reply_id.is_some()).then(|| Said {
                contact: &contact_id,
                text: said.as_deref().unwrap_or(""),
                reply_id: reply_id.as_deref(),
            });
            let data = Received {
                channel: CHANNEL,
                contact_id: contact_id.clone(),
                contact_user_id: user_id.clone(),
                customer_id: None,
                conversation_id: None,
                customer_name: contact.and_then(|c| text(c, &["profile", "name"])),
                business_number: business.clone(),
                session_started_at: None,
                message: Message {
                    id: id.clone(),
                    kind,
                    text: said.clone(),
                    reply_id: reply_id.clone(),
                    at: at(m),
                    from: "user",
                    is_button,
                },
            };
            match record(
                db,
                channel,
                &id,
                event::MESSAGE_RECEIVED,
                data,
                from.as_deref(),
                None,
                for_bot,
                now,
            )
            .await?
            {
                Recorded::Duplicate => receipt.duplicates += 1,
                Recorded::New(conversation) => {
                    receipt.messages += 1;
                    receipt.to_answer.extend(conversation);
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
                channel: CHANNEL,
                contact_id: text(s, &["recipient_id"]).or_else(|| text(s, &["recipient_user_id"])),
                message_id: id,
                status,
                at: at(s),
                errors: s.get("errors").cloned(),
            };
            let fresh = record(
                db,
                channel,
                &seen,
                event::MESSAGE_STATUS,
                data,
                None,
                progress,
                None,
                now,
            )
            .await?;
            if matches!(fresh, Recorded::New(_)) {
                receipt.statuses += 1;
            } else {
                receipt.duplicates += 1;
            }
        }
    }
    Ok(receipt)
}

/// How far a sent message has got; `failed` ends it. Unknown statuses are passed on as they
/// come.
fn status_rank(status: &str) -> Option<i64> {
    match status {
        "sent" => Some(1),
        "delivered" => Some(2),
        "read" => Some(3),
        "played" => Some(4),
        "failed" => Some(5),
        _ => None,
    }
}

enum Recorded {
    Duplicate,
    /// New; the conversation that has a message to answer, if any.
    New(Option<String>),
}

/// Writes the event unless `seen_id` was already turned into one (or, for a status, the
/// message has already got further); the customer is matched by phone inside the same
/// transaction, and what the user said is queued for the bot in it too.
#[allow(clippy::too_many_arguments)]
async fn record(
    db: &Db,
    channel: &Channel,
    seen_id: &str,
    kind: &str,
    mut data: impl Serialize + CustomerSlot,
    phone_digits: Option<&str>,
    progress: Option<(String, i64)>,
    said: Option<Said<'_>>,
    now: i64,
) -> Result<Recorded> {
    let tenant = &channel.tenant;
    let mut tx = db.begin().await?;
    let fresh = sqlx::query(
        "INSERT INTO inbound_seen (tenant_id, channel, external_id, seen_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
    )
    .bind(tenant.as_str())
    .bind(CHANNEL)
    .bind(seen_id)
    .bind(now)
    .execute(&mut *tx)
    .await?
    .rows_affected()
        > 0;
    if !fresh {
        return Ok(Recorded::Duplicate);
    }
    if let Some((message_id, rank)) = progress {
        let further = sqlx::query(
            "INSERT INTO message_statuses (tenant_id, channel, message_id, rank) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (tenant_id, channel, message_id) \
             DO UPDATE SET rank = excluded.rank WHERE message_statuses.rank < excluded.rank",
        )
        .bind(tenant.as_str())
        .bind(CHANNEL)
        .bind(&message_id)
        .bind(rank)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            > 0;
        if !further {
            return Ok(Recorded::Duplicate); // a late `delivered` after `read`: nothing new
        }
    }
    if let Some(phone) = phone_digits.and_then(|d| E164::parse(&format!("+{d}"), None).ok()) {
        let customer = sqlx::query("SELECT id FROM customers WHERE tenant_id = $1 AND phone = $2")
            .bind(tenant.as_str())
            .bind(phone.as_str())
            .fetch_optional(&mut *tx)
            .await?;
        data.set_customer(customer.map(|r| r.get::<String, _>(0)));
    }
    let mut conversation = None;
    if let Some(said) = said {
        let id = conversations::touch_in(&mut tx, tenant, CHANNEL, said.contact, now).await?;
        conversations::inbox_push(&mut tx, tenant, &id, said.text, said.reply_id, now).await?;
        data.set_conversation(&id);
        conversation = Some(id);
    }
    let subject = seen_id.to_string();
    events::record(&mut tx, tenant, kind, &subject, &data, now).await?;
    db.commit_events(tx).await?;
    Ok(Recorded::New(conversation))
}

/// Event data that can name the matched customer.
trait CustomerSlot {
    fn set_customer(&mut self, id: Option<String>);
    fn set_conversation(&mut self, _id: &str) {}
}

impl CustomerSlot for Received {
    fn set_customer(&mut self, id: Option<String>) {
        self.customer_id = id;
    }

    fn set_conversation(&mut self, id: &str) {
        self.conversation_id = Some(id.to_string());
    }
}

impl CustomerSlot for Status {
    fn set_customer(&mut self, _: Option<String>) {}
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
