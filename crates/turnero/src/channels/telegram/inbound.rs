//! Telegram's updates for a tenant's bot (`../shared/reference/channels.md` §3), already
//! checked against the secret token: each new `update_id` (Telegram redelivers) becomes a
//! `message.received` event and, when it says something, a message for the bot, in one
//! transaction. Private chats only: the bot books for the person writing.
//!
//! A contact the person shares of themselves (`contact.user_id` is the sender) proves the
//! phone for the conversation; a typed number or someone else's contact is only an answer.

use serde::Serialize;
use serde_json::Value;
use turnero_core::chat::Output;
use turnero_core::ids::TenantId;
use turnero_core::phone::{parse_region, E164};

use super::render::callback_data;
use super::send::Tap;
use super::store;
use crate::agenda::{customers, tenants};
use crate::chat::inbox::{self, About, Inbound};
use crate::chat::{conversations, outbox, Channel};
use crate::db::Db;
use crate::error::{Error, Result};

/// Telegram's media, by the names the bot's inbox knows them by.
const MEDIA: &[(&str, &str)] = &[
    ("photo", "image"),
    ("voice", "voice"),
    ("audio", "audio"),
    ("video", "video"),
    ("video_note", "video"),
    ("animation", "video"),
    ("sticker", "sticker"),
    ("document", "document"),
    ("location", "location"),
    ("venue", "location"),
];

/// What Telegram gets back (it reads only the status), and what the handler does next.
#[derive(Debug, Default, Serialize)]
pub struct Receipt {
    pub update_id: i64,
    /// `message`, `callback_query`, or `ignored` (another kind of update, a group chat).
    pub kind: &'static str,
    pub duplicate: bool,
    /// The conversation with something new to answer.
    #[serde(skip)]
    pub to_answer: Option<String>,
    /// A button tap to acknowledge.
    #[serde(skip)]
    pub tap: Option<Tap>,
}

fn text(v: &Value, key: &str) -> Option<String> {
    // PostgreSQL cannot store a NUL and no message needs one: dropped, not refused.
    v.get(key)?.as_str().map(|s| s.replace('\0', ""))
}

fn full_name(user: &Value) -> Option<String> {
    let name = [text(user, "first_name"), text(user, "last_name")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    (!name.trim().is_empty()).then_some(name)
}

/// Applies one update (its secret token already checked).
pub async fn receive(db: &Db, ch: &store::Channel, body: &[u8], now: i64) -> Result<Receipt> {
    let update: Value = serde_json::from_slice(body)
        .map_err(|_| Error::bad_request("malformed_json", "the body is not JSON"))?;
    let Some(update_id) = update["update_id"].as_i64() else {
        return Err(Error::bad_request(
            "invalid_update",
            "an update has an integer `update_id`",
        ));
    };
    let mut receipt = Receipt {
        update_id,
        kind: "ignored",
        ..Receipt::default()
    };
    let (message, tap) = if let Some(m) = update.get("message") {
        (message(db, ch, m).await?, None)
    } else if let Some(q) = update.get("callback_query") {
        match callback(db, &ch.tenant, q, now).await? {
            Some((m, tap)) => (Some(m), Some(tap)),
            // A tap the bot does not act on (a group chat, no data) still stops the spinner.
            None => {
                receipt.tap = text(q, "id").map(Tap::bare);
                (None, None)
            }
        }
    } else {
        (None, None)
    };
    let Some(mut message) = message else {
        return Ok(receipt);
    };
    receipt.kind = if tap.is_some() {
        "callback_query"
    } else {
        "message"
    };
    let mut tx = db.begin().await?;
    // `update_id` is unique per bot only (and Telegram may restart its count after a quiet
    // week): the key names the bot.
    let seen = format!("update:{}:{update_id}", ch.bot_id);
    // A tap is acknowledged even when redelivered: the first acknowledgement may be lost.
    receipt.tap = tap;
    if !inbox::first_time_in(&mut tx, &ch.tenant, Channel::Telegram, &seen, now).await? {
        receipt.duplicate = true;
        return Ok(receipt);
    }
    if let Some(phone) = &message.proven_phone {
        message.customer_id = customers::id_by_phone_in(&mut tx, &ch.tenant, phone).await?;
    }
    // Writing again means the person no longer blocks the bot.
    store::unblock_in(&mut tx, &ch.tenant, &message.contact).await?;
    receipt.to_answer = inbox::receive_in(&mut tx, &message, now).await?;
    db.commit_events(tx).await?;
    Ok(receipt)
}

fn inbound(tenant: &TenantId, chat_id: i64, id: String, from: &Value, at: i64) -> Inbound {
    Inbound {
        channel: Channel::Telegram,
        tenant: tenant.clone(),
        contact: chat_id.to_string(),
        message_id: id,
        kind: String::new(),
        text: None,
        reply_id: None,
        is_button: false,
        at,
        customer_id: None,
        proven_phone: None,
        silent: false,
        about: About {
            contact_user_id: text(from, "username").map(|u| format!("@{u}")),
            customer_name: full_name(from),
            business_number: None,
        },
    }
}

/// The chat of a private conversation; `None` for groups and channels.
fn private_chat(m: &Value) -> Option<i64> {
    let chat = m.get("chat")?;
    (chat["type"] == "private").then(|| chat["id"].as_i64())?
}

async fn message(db: &Db, ch: &store::Channel, m: &Value) -> Result<Option<Inbound>> {
    let Some(chat_id) = private_chat(m) else {
        return Ok(None);
    };
    let from = &m["from"];
    let id = format!("{chat_id}:{}", m["message_id"].as_i64().unwrap_or_default());
    let at = m["date"].as_i64().unwrap_or_default();
    let mut msg = inbound(&ch.tenant, chat_id, id, from, at);
    if let Some(t) = text(m, "text") {
        msg.kind = "text".into();
        msg.text = Some(t);
    } else if let Some(contact) = m.get("contact") {
        msg.kind = "contact".into();
        let raw = text(contact, "phone_number").unwrap_or_default();
        let own = contact["user_id"].as_i64().is_some() && contact["user_id"] == from["id"];
        // Telegram may leave out the `+`; the number is international either way.
        let digits = if raw.starts_with('+') {
            raw.clone()
        } else {
            format!("+{raw}")
        };
        let region = tenants::get(db, &ch.tenant)
            .await
            .ok()
            .and_then(|t| parse_region(&t.phone_region).ok());
        let phone = E164::parse(&digits, region).ok();
        if own {
            msg.proven_phone = phone.clone();
        }
        // The number is the answer either way; only the person's own proves anything.
        msg.text = Some(phone.map_or(raw, |p| p.as_str().to_string()));
    } else if let Some((_, kind)) = MEDIA.iter().find(|(k, _)| m.get(*k).is_some()) {
        msg.kind = (*kind).into();
        msg.text = text(m, "caption");
    } else {
        msg.kind = "other".into();
    }
    Ok(Some(msg))
}

/// A tap on an inline keyboard button: what the bot reads (the option's id and title) and
/// what to acknowledge.
async fn callback(
    db: &Db,
    tenant: &TenantId,
    q: &Value,
    now: i64,
) -> Result<Option<(Inbound, Tap)>> {
    let from = &q["from"];
    let message = q.get("message").filter(|m| m["date"].as_i64() != Some(0));
    let chat_id = match message {
        Some(m) => private_chat(m),
        None => from["id"].as_i64(),
    };
    let (Some(chat_id), Some(data), Some(query_id)) = (chat_id, text(q, "data"), text(q, "id"))
    else {
        return Ok(None);
    };
    let title = message
        .and_then(|m| m["reply_markup"]["inline_keyboard"].as_array())
        .into_iter()
        .flatten()
        .filter_map(Value::as_array)
        .flatten()
        .find(|b| b["callback_data"].as_str() == Some(data.as_str()))
        .and_then(|b| text(b, "text"))
        .unwrap_or_else(|| data.clone());
    let reply_id = if data.starts_with('#') {
        digested_option(db, tenant, chat_id, &data)
            .await?
            .unwrap_or(data)
    } else {
        data
    };
    // A tap carries no time of its own (the message's `date` is the question's).
    let mut msg = inbound(tenant, chat_id, format!("cbq:{query_id}"), from, now);
    msg.kind = "callback_query".into();
    msg.text = Some(title.clone());
    msg.reply_id = Some(reply_id);
    msg.is_button = true;
    let tap = Tap {
        callback_query_id: query_id,
        chat_id,
        message: message.and_then(|m| Some((m["message_id"].as_i64()?, text(m, "text")?))),
        title,
    };
    Ok(Some((msg, tap)))
}

/// The id behind a digested `callback_data`, among the options of the conversation's recent
/// questions (an id too long for Telegram's 64 bytes).
async fn digested_option(
    db: &Db,
    tenant: &TenantId,
    chat_id: i64,
    data: &str,
) -> Result<Option<String>> {
    let contact = chat_id.to_string();
    let Some(conversation) = conversations::find(db, tenant, Channel::Telegram, &contact).await?
    else {
        return Ok(None);
    };
    Ok(outbox::recent(db, &conversation, 20)
        .await?
        .into_iter()
        .filter_map(|o| match o {
            Output::Choose(q) => Some(q),
            _ => None,
        })
        .find_map(|q| {
            q.options()
                .find(|c| callback_data(&c.id) == data)
                .map(|c| c.id.clone())
        }))
}
