//! Chatwoot's webhooks for the account (agent bot or account webhook; one payload format,
//! `../shared/reference/channels.md` §1): the signature over the timestamp and the raw bytes
//! when a secret is set, then
//! - `message_created` from the contact (incoming, not a private note): once per message id,
//!   an event, and — while the conversation is `pending`, Chatwoot's "the bot has it" — a
//!   message for the bot. The bot's own and the agents' messages never reach it.
//! - `conversation_status_changed` / `conversation_updated`: `pending` gives the conversation
//!   back to the bot; any other status means the agents have it.

use hmac::{Hmac, Mac};
use serde::Serialize;
use serde_json::Value;
use sha2::Sha256;
use turnero_core::chat::Question;
use turnero_core::ids::TenantId;
use turnero_core::phone::{parse_region, E164};

use super::render;
use super::store::Channel as Account;
use crate::agenda::{customers, tenants};
use crate::chat::inbox::{self, About, Inbound};
use crate::chat::{conversations, Channel};
use crate::db::Db;
use crate::error::{Error, Result};

/// How old a signed webhook may be (Chatwoot's own advice: about five minutes).
const SIGNATURE_WINDOW_SECS: i64 = 300;

/// Inboxes whose contact phone comes from the messaging network itself (the sender's number),
/// so it proves as much as a WhatsApp message to turnero does. A web widget, e-mail or API
/// contact's phone is whatever someone typed.
const PHONE_CHANNELS: &[&str] = &["Channel::Whatsapp", "Channel::Sms", "Channel::TwilioSms"];

/// `X-Chatwoot-Signature: sha256=<hex HMAC-SHA256(secret, "{timestamp}.{raw body}")>`, with
/// `X-Chatwoot-Timestamp` within five minutes of `now`, compared in constant time.
pub fn signature_ok(
    secret: &str,
    timestamp: Option<&str>,
    body: &[u8],
    header: Option<&str>,
    now: i64,
) -> bool {
    let (Some(ts), Some(sig)) = (
        timestamp,
        header
            .and_then(|h| h.trim().strip_prefix("sha256="))
            .and_then(|h| hex::decode(h).ok()),
    ) else {
        return false;
    };
    if ts
        .parse::<i64>()
        .map_or(true, |t| (now - t).abs() > SIGNATURE_WINDOW_SECS)
    {
        return false;
    }
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    mac.update(ts.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.verify_slice(&sig).is_ok()
}

#[derive(Debug, Default, Serialize)]
pub struct Receipt {
    pub event: String,
    /// `message`, `status`, or `ignored`.
    pub kind: &'static str,
    pub duplicate: bool,
    #[serde(skip)]
    pub to_answer: Option<String>,
    /// A customer whose number the messaging network proved, and the contact: to link.
    #[serde(skip)]
    pub detected: Option<(String, i64)>,
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key)?.as_str().map(|s| s.replace('\0', ""))
}

pub async fn receive(db: &Db, ch: &Account, body: &[u8], now: i64) -> Result<Receipt> {
    let payload: Value = serde_json::from_slice(body)
        .map_err(|_| Error::bad_request("malformed_json", "the body is not JSON"))?;
    let mut receipt = Receipt {
        event: text(&payload, "event").unwrap_or_default(),
        kind: "ignored",
        ..Receipt::default()
    };
    match receipt.event.as_str() {
        "message_created" => message(db, ch, &payload, now, &mut receipt).await?,
        "conversation_status_changed"
        | "conversation_updated"
        | "conversation_opened"
        | "conversation_resolved" => status(db, &ch.tenant, &payload, now, &mut receipt).await?,
        _ => {}
    }
    Ok(receipt)
}

/// Whether the bot has the conversation: Chatwoot's `pending`, or assigned to an agent bot.
fn bots_turn(conversation: &Value) -> bool {
    conversation["status"] == "pending" || conversation["meta"]["assignee_type"] == "AgentBot"
}

async fn message(db: &Db, ch: &Account, p: &Value, now: i64, receipt: &mut Receipt) -> Result<()> {
    let conversation = &p["conversation"];
    let (Some(id), Some(chat)) = (p["id"].as_i64(), conversation["id"].as_i64()) else {
        return Ok(());
    };
    if p["message_type"] != "incoming" || p["private"] == Value::Bool(true) {
        return Ok(()); // the bot's own, an agent's, or a private note
    }
    receipt.kind = "message";
    let sender = &p["sender"];
    let contact = sender["id"].as_i64();
    // Only a number the messaging network gives (the WhatsApp inbox's `source_id`, the
    // sender's number) proves anything; a widget's or an agent-edited phone does not.
    let network_phone = conversation["channel"]
        .as_str()
        .is_some_and(|c| PHONE_CHANNELS.contains(&c));
    let proven = match text(sender, "phone_number").filter(|_| network_phone) {
        // The tenant's region only for a number written the local way.
        Some(ph) => {
            let region = tenants::get(db, &ch.tenant)
                .await
                .ok()
                .and_then(|t| parse_region(&t.phone_region).ok());
            E164::parse(&ph, region).ok()
        }
        None => None,
    };
    let said = text(p, "content").filter(|t| !t.trim().is_empty());
    let kind = match (&said, p["attachments"][0]["file_type"].as_str()) {
        (None, Some("image")) => "image",
        (None, Some("audio")) => "audio",
        (None, Some("video")) => "video",
        (None, Some("location")) => "location",
        (None, Some(_)) => "document",
        _ => "text",
    };
    let contact_key = chat.to_string();
    let ours = conversations::with_contact(db, &ch.tenant, Channel::Chatwoot, &contact_key).await?;
    let bots_turn = bots_turn(conversation);
    let mut reply_id = None;
    if let Some(c) = &ours {
        if bots_turn && c.handoff {
            // Back with the bot (an agent set it `pending`), whether or not the status
            // webhook came first: this message starts the flow anew.
            set_handoff(db, &ch.tenant, &c.id, false, now).await?;
        } else if let (Some(t), Some(q)) = (&said, &c.state.question) {
            reply_id = option_titled(q, t);
        }
    }
    let mut m = Inbound {
        channel: Channel::Chatwoot,
        tenant: ch.tenant.clone(),
        contact: contact_key,
        message_id: format!("cw:{id}"),
        kind: kind.into(),
        is_button: reply_id.is_some(),
        text: said,
        reply_id,
        at: now,
        customer_id: None,
        proven_phone: proven.clone(),
        silent: !bots_turn,
        about: About {
            contact_user_id: contact.map(|c| format!("chatwoot:{c}")),
            customer_name: text(sender, "name"),
            business_number: None,
        },
    };
    let mut tx = db.begin().await?;
    let seen = format!("message:{id}");
    if !inbox::first_time_in(&mut tx, &ch.tenant, Channel::Chatwoot, &seen, now).await? {
        receipt.duplicate = true;
        return Ok(());
    }
    if let Some(ph) = &proven {
        m.customer_id = customers::id_by_phone_in(&mut tx, &ch.tenant, ph).await?;
    }
    receipt.to_answer = inbox::receive_in(&mut tx, &m, now).await?;
    db.commit_events(tx).await?;
    receipt.detected = m.customer_id.clone().zip(contact);
    Ok(())
}

/// The option of the question on show whose title (as Chatwoot showed it) the message is:
/// Chatwoot sends back only the title of a tapped button or row.
fn option_titled(q: &Question, said: &str) -> Option<String> {
    let said = said.trim().to_lowercase();
    render::options(q)?
        .into_iter()
        .find(|(title, _)| title.to_lowercase() == said)
        .map(|(_, id)| id)
}

/// Hands the conversation to the agents or back to the bot, trying again if a turn wrote it
/// meanwhile (Chatwoot must get its 200 either way).
async fn set_handoff(db: &Db, tenant: &TenantId, id: &str, handoff: bool, now: i64) -> Result<()> {
    let mut tries = 0;
    loop {
        match conversations::set_handoff(db, tenant, id, handoff, now).await {
            Err(e) if e.code() == Some("concurrent_change") && tries < 5 => tries += 1,
            done => return done,
        }
    }
}

async fn status(
    db: &Db,
    tenant: &TenantId,
    p: &Value,
    now: i64,
    receipt: &mut Receipt,
) -> Result<()> {
    let Some(chat) = p["id"].as_i64() else {
        return Ok(());
    };
    receipt.kind = "status";
    let Some(c) =
        conversations::with_contact(db, tenant, Channel::Chatwoot, &chat.to_string()).await?
    else {
        return Ok(());
    };
    let with_staff = !bots_turn(p);
    if c.handoff == with_staff {
        return Ok(());
    }
    set_handoff(db, tenant, &c.id, with_staff, now).await?;
    if with_staff {
        // Taken over in Chatwoot (not through the bot's own handoff, which has its event).
        let data = serde_json::json!({
            "channel": Channel::Chatwoot.as_str(),
            "conversation_id": c.id,
            "contact_id": c.contact,
            "customer_id": c.customer_id,
            "step": c.state.at,
            "by": "chatwoot",
        });
        let mut tx = db.begin().await?;
        crate::agenda::events::record(
            &mut tx,
            tenant,
            turnero_core::event::CONVERSATION_HANDOFF,
            &c.id,
            &data,
            now,
        )
        .await?;
        db.commit_events(tx).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chatwoots_recorded_signature_verifies_and_an_old_or_changed_one_does_not() {
        let v = crate::channels::fixture("chatwoot_webhook_headers.json");
        let t = &v["test_vector"];
        let secret = t["secret"].as_str().unwrap();
        let ts = t["timestamp"].as_str().unwrap();
        let body = t["raw_body"].as_str().unwrap().as_bytes();
        let sig = t["expected_signature"].as_str();
        let now: i64 = ts.parse().unwrap();
        assert!(signature_ok(secret, Some(ts), body, sig, now));
        assert!(signature_ok(secret, Some(ts), body, sig, now + 299));
        assert!(
            !signature_ok(secret, Some(ts), body, sig, now + 301),
            "replayed later"
        );
        let mut tampered = body.to_vec();
        tampered[3] ^= 1;
        assert!(!signature_ok(secret, Some(ts), &tampered, sig, now));
        assert!(
            !signature_ok(secret, Some("1776693792"), body, sig, now),
            "timestamp signed"
        );
        assert!(!signature_ok(secret, None, body, sig, now));
        assert!(!signature_ok(secret, Some(ts), body, None, now));
        assert!(!signature_ok("other", Some(ts), body, sig, now));
    }
}
