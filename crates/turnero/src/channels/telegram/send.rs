//! The bot's outputs to a Telegram chat (`render`, then `sendMessage` per body), and what a
//! tap on a button needs besides the answer: `answerCallbackQuery` (or the person's client
//! keeps a spinner) and the question's keyboard replaced by the choice.

use futures_util::future::BoxFuture;
use serde_json::{json, Value};
use turnero_core::chat::Output;

use super::bot_api::{self, Failure};
use super::{render, store};
use crate::chat::conversations::Conversation;
use crate::chat::outbox::{Delivery, Sender};
use crate::db::Db;
use crate::error::Result;
use crate::outbound::Outbound;

pub struct TelegramSender {
    pub db: Db,
    pub outbound: Outbound,
    pub clock: crate::clock::Clock,
}

impl Sender for TelegramSender {
    fn send<'a>(
        &'a self,
        to: &'a Conversation,
        output: &'a Output,
    ) -> BoxFuture<'a, Result<Delivery>> {
        Box::pin(async move {
            let Some(ch) = store::get(&self.db, &to.tenant).await? else {
                return Ok(Delivery::Refused(
                    "the Telegram channel is not configured".into(),
                ));
            };
            if store::is_blocked(&self.db, &to.tenant, &to.contact).await? {
                return Ok(Delivery::Refused("the person blocked the bot".into()));
            }
            let Ok(chat_id) = to.contact.parse::<i64>() else {
                return Ok(Delivery::Refused(format!(
                    "`{}` is not a chat id",
                    to.contact
                )));
            };
            let mut ids = Vec::new();
            for body in render::messages(chat_id, output, &to.language) {
                match bot_api::call(
                    &self.outbound,
                    &ch.api_url,
                    &ch.bot_token,
                    "sendMessage",
                    &body,
                )
                .await
                {
                    Ok(sent) => {
                        if let Some(id) = sent["message_id"].as_i64() {
                            ids.push(id.to_string());
                        }
                    }
                    Err(f) => return self.failed(to, f).await,
                }
            }
            Ok(Delivery::Sent(ids))
        })
    }
}

impl TelegramSender {
    async fn failed(&self, to: &Conversation, f: Failure) -> Result<Delivery> {
        if matches!(f, Failure::Refused { code: 403, .. }) {
            // The person blocked the bot: nothing more goes to them until they write again.
            let now = self.clock.now_secs();
            store::block(
                &self.db,
                &to.tenant,
                &to.contact,
                to.last_inbound_at,
                &f.describe(),
                now,
            )
            .await?;
        }
        Ok(f.delivery())
    }
}

/// A tap on one of the bot's buttons, as the update told it.
#[derive(Debug, Clone)]
pub struct Tap {
    pub callback_query_id: String,
    pub chat_id: i64,
    /// The message with the keyboard, when Telegram still shows it (and its text).
    pub message: Option<(i64, String)>,
    /// The title of the button tapped.
    pub title: String,
}

impl Tap {
    /// A tap acknowledged and nothing more.
    pub fn bare(callback_query_id: String) -> Self {
        Tap {
            callback_query_id,
            chat_id: 0,
            message: None,
            title: String::new(),
        }
    }
}

/// Stops the tapping person's spinner and turns the question into a record of the choice
/// (its keyboard gone, so an old list cannot be tapped again by mistake). Best effort: a
/// failure here loses nothing of the conversation.
pub async fn acknowledge(outbound: &Outbound, ch: &store::Channel, tap: &Tap) {
    let toast: String = format!("✅ {}", tap.title).chars().take(200).collect();
    let answer =
        json!({"callback_query_id": tap.callback_query_id, "text": toast, "show_alert": false});
    let call = |method: &'static str, body: Value| async move {
        if let Err(f) = bot_api::call(outbound, &ch.api_url, &ch.bot_token, method, &body).await {
            tracing::warn!(method, error = f.describe(), "a Telegram call failed");
        }
    };
    call("answerCallbackQuery", answer).await;
    if let Some((message_id, text)) = &tap.message {
        let chosen = format!("\n\n✅ {}", tap.title);
        let room = 4096usize.saturating_sub(chosen.encode_utf16().count());
        let mut units = 0;
        let kept: String = text
            .chars()
            .take_while(|c| {
                units += c.len_utf16();
                units <= room
            })
            .collect();
        let edit = json!({
            "chat_id": tap.chat_id,
            "message_id": message_id,
            "text": format!("{kept}{chosen}"),
            "reply_markup": {"inline_keyboard": []},
        });
        call("editMessageText", edit).await;
    }
}
