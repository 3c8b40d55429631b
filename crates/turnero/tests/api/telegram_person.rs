//! A person writing to the clinic's Telegram bot, for the bot's tests: updates shaped like
//! the recorded fixtures go to the webhook turnero registered, with the secret token it
//! registered, and what the Bot API stand-in received comes back.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::bot_api::{BotApi, BOT_TOKEN};
use crate::common::TestApp;
use crate::graph::fixture;
use crate::patient::settle;

/// Maria's chat in the fixtures.
pub const CHAT_ID: i64 = 6123456789;

pub struct TgPerson<'a> {
    pub app: &'a TestApp,
    pub api: BotApi,
    pub webhook: String,
    pub secret: String,
    pub chat_id: i64,
    pub update_id: i64,
}

/// Connects the bot through the API; answers what `PUT /channels/telegram` answered.
pub async fn connect(app: &TestApp, api: &BotApi) -> Value {
    connect_as(app, &app.key, api, BOT_TOKEN).await
}

/// Connects a bot for the tenant of `key`.
pub async fn connect_as(app: &TestApp, key: &str, api: &BotApi, token: &str) -> Value {
    let (status, out) = app
        .call_as(
            key,
            Method::PUT,
            "/api/v1/channels/telegram",
            Some(json!({"bot_token": token, "api_url": api.base})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    out
}

impl<'a> TgPerson<'a> {
    pub async fn new(app: &'a TestApp) -> TgPerson<'a> {
        Self::new_as(app, &app.key, BOT_TOKEN).await
    }

    /// A person writing to the bot of the tenant of `key`.
    pub async fn new_as(app: &'a TestApp, key: &str, token: &str) -> TgPerson<'a> {
        let api = BotApi::start().await;
        connect_as(app, key, &api, token).await;
        let (webhook, secret) = api.webhook().expect("setWebhook was called");
        TgPerson {
            app,
            api,
            webhook,
            secret,
            chat_id: CHAT_ID,
            update_id: 839201200,
        }
    }

    /// Another person writing to the same bot.
    pub fn another(&self, chat_id: i64) -> TgPerson<'a> {
        TgPerson {
            app: self.app,
            api: self.api.clone(),
            webhook: self.webhook.clone(),
            secret: self.secret.clone(),
            chat_id,
            update_id: 839300000 + chat_id % 1000 * 100,
        }
    }

    /// Posts an update with a secret token (`None`: without the header).
    pub async fn post_with(&self, update: &Value, secret: Option<&str>) -> StatusCode {
        let mut req = reqwest::Client::new()
            .post(&self.webhook)
            .header("content-type", "application/json")
            .body(serde_json::to_vec(update).unwrap());
        if let Some(s) = secret {
            req = req.header("x-telegram-bot-api-secret-token", s);
        }
        req.send().await.unwrap().status()
    }

    /// Posts an update as Telegram does; it must be taken.
    pub async fn post(&self, update: &Value) {
        assert_eq!(
            self.post_with(update, Some(&self.secret)).await,
            StatusCode::OK
        );
    }

    /// Posts and waits until the bot has answered and its replies reached the stand-in;
    /// answers the `sendMessage` bodies to this chat.
    pub async fn deliver(&mut self, update: Value) -> Vec<Value> {
        let before = self.api.bodies("sendMessage").len();
        self.post(&update).await;
        settle(self.app).await;
        self.api.bodies("sendMessage")[before..]
            .iter()
            .filter(|b| b["chat_id"] == self.chat_id)
            .cloned()
            .collect()
    }

    /// The next update: a recorded message from this person with `fields` in place of the
    /// text.
    pub fn message(&mut self, fields: Value) -> Value {
        self.update_id += 1;
        let mut u = fixture("telegram_update_message.json");
        u["update_id"] = json!(self.update_id);
        let m = &mut u["message"];
        m["message_id"] = json!(self.update_id % 100_000);
        m["from"]["id"] = json!(self.chat_id);
        m["chat"]["id"] = json!(self.chat_id);
        let m = m.as_object_mut().unwrap();
        m.remove("text");
        m.remove("entities");
        m.extend(fields.as_object().unwrap().clone());
        u
    }

    pub async fn says(&mut self, text: &str) -> Vec<Value> {
        let u = self.message(json!({"text": text}));
        self.deliver(u).await
    }

    /// Shares a contact card: their own (`user_id` is theirs) or someone else's.
    pub async fn shares_contact(&mut self, phone: &str, user_id: Option<i64>) -> Vec<Value> {
        let mut contact = fixture("telegram_update_contact.json")["message"]["contact"].clone();
        contact["phone_number"] = json!(phone);
        match user_id {
            Some(id) => contact["user_id"] = json!(id),
            None => {
                contact.as_object_mut().unwrap().remove("user_id");
            }
        }
        let u = self.message(json!({"contact": contact}));
        self.deliver(u).await
    }

    /// Taps the button carrying `data` on the bot's last message that has it.
    pub async fn taps(&mut self, data: &str) -> Vec<Value> {
        let u = self.tap_update(data);
        self.deliver(u).await
    }

    pub fn tap_update(&mut self, data: &str) -> Value {
        let (message_id, shown) = self
            .api
            .sent()
            .into_iter()
            .rev()
            .find(|(_, b)| {
                b["chat_id"] == self.chat_id && callback_datas(b).iter().any(|d| d == data)
            })
            .unwrap_or_else(|| panic!("no message of the bot has a `{data}` button"));
        self.update_id += 1;
        let mut u = fixture("telegram_update_callback_query.json");
        u["update_id"] = json!(self.update_id);
        let q = &mut u["callback_query"];
        q["id"] = json!(format!("cbq{}", self.update_id));
        q["from"]["id"] = json!(self.chat_id);
        q["data"] = json!(data);
        let m = &mut q["message"];
        m["message_id"] = json!(message_id);
        m["chat"]["id"] = json!(self.chat_id);
        m["text"] = shown["text"].clone();
        m["reply_markup"] = shown["reply_markup"].clone();
        u
    }
}

/// The `callback_data` of every button of a message, in order.
pub fn callback_datas(m: &Value) -> Vec<String> {
    m["reply_markup"]["inline_keyboard"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_array)
        .flatten()
        .filter_map(|b| b["callback_data"].as_str().map(str::to_string))
        .collect()
}

pub fn text(m: &Value) -> &str {
    m["text"].as_str().unwrap_or("")
}
