//! A person writing to the clinic through Chatwoot (its WhatsApp inbox, in the fixtures), for
//! the bot's tests: `message_created` webhooks built from the recorded payload, signed as
//! Chatwoot 4.13 signs them, and what the Chatwoot stand-in received comes back.

use hmac::{Hmac, Mac};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sha2::Sha256;

use crate::chatwoot_api::{ChatwootApi, ACCOUNT, BOT_TOKEN, INBOX, USER_TOKEN};
use crate::common::TestApp;
use crate::graph::fixture;
use crate::patient::settle;

pub const SECRET: &str = "f3Q1y8mV2bNw7ZkT4pLx9RcA";
/// Maria's contact and conversation in the fixtures.
pub const CONTACT: i64 = 1587;
pub const CONVERSATION: i64 = 412;

pub struct CwPerson<'a> {
    pub app: &'a TestApp,
    pub api: ChatwootApi,
    pub webhook: String,
    pub conversation: i64,
    pub contact: i64,
    pub phone: String,
    /// Chatwoot's conversation status as the next webhook tells it.
    pub status: &'static str,
    /// The inbox kind (`Channel::Whatsapp`, `Channel::WebWidget`…).
    pub inbox_channel: &'static str,
    pub next_id: i64,
}

/// Connects the account through the API; answers what `PUT /channels/chatwoot` answered.
pub async fn connect(app: &TestApp, key: &str, api: &ChatwootApi) -> Value {
    let (status, out) = app
        .call_as(
            key,
            Method::PUT,
            "/api/v1/channels/chatwoot",
            Some(
                json!({"base_url": api.base, "account_id": ACCOUNT, "inbox_id": INBOX,
                "api_access_token": USER_TOKEN, "agent_bot_token": BOT_TOKEN,
                "hmac_secret": SECRET}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    out
}

/// `sha256=` HMAC over "{timestamp}.{body}".
pub fn sign(timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

impl<'a> CwPerson<'a> {
    pub async fn new(app: &'a TestApp) -> CwPerson<'a> {
        let api = ChatwootApi::start().await;
        let out = connect(app, &app.key, &api).await;
        Self::new_on(app, api, &out)
    }

    /// A person writing to an account already connected (`out`: what the PUT answered).
    pub fn new_on(app: &'a TestApp, api: ChatwootApi, out: &Value) -> CwPerson<'a> {
        CwPerson {
            app,
            api,
            webhook: out["webhook_url"].as_str().unwrap().to_string(),
            conversation: CONVERSATION,
            contact: CONTACT,
            phone: "+5511987654321".into(),
            status: "pending",
            inbox_channel: "Channel::Whatsapp",
            next_id: 90311,
        }
    }

    /// A `message_created` webhook from this person (or, with `fields`, anyone else).
    pub fn message(&mut self, content: &str, fields: Value) -> Value {
        self.next_id += 1;
        let mut p = fixture("chatwoot_message_created.json");
        p["id"] = json!(self.next_id);
        p["content"] = json!(content);
        p["conversation"]["id"] = json!(self.conversation);
        p["conversation"]["status"] = json!(self.status);
        p["conversation"]["channel"] = json!(self.inbox_channel);
        p["sender"]["id"] = json!(self.contact);
        p["sender"]["phone_number"] = json!(self.phone);
        for (k, v) in fields.as_object().unwrap() {
            p[k] = v.clone();
        }
        p
    }

    /// Posts a webhook signed now (by the server's clock); answers the status.
    pub async fn post_signed(&self, payload: &Value) -> StatusCode {
        let body = serde_json::to_vec(payload).unwrap();
        let ts = self.app.clock().now_secs();
        reqwest::Client::new()
            .post(&self.webhook)
            .header("content-type", "application/json")
            .header("x-chatwoot-delivery", format!("d-{}", self.next_id))
            .header("x-chatwoot-timestamp", ts.to_string())
            .header("x-chatwoot-signature", sign(ts, &body))
            .body(body)
            .send()
            .await
            .unwrap()
            .status()
    }

    /// Posts and waits for the bot; answers the messages it posted to this conversation.
    pub async fn deliver(&mut self, payload: Value) -> Vec<Value> {
        let before = self.api.messages(self.conversation).len();
        assert_eq!(self.post_signed(&payload).await, StatusCode::OK);
        settle(self.app).await;
        self.api.messages(self.conversation)[before..].to_vec()
    }

    pub async fn says(&mut self, text: &str) -> Vec<Value> {
        let m = self.message(text, json!({}));
        self.deliver(m).await
    }

    /// The conversation's status changed in Chatwoot (an agent, or the bot's handoff).
    pub async fn status_is(&mut self, status: &'static str) {
        self.status = status;
        let mut p = fixture("chatwoot_conversation_status_changed.json");
        p["id"] = json!(self.conversation);
        p["status"] = json!(status);
        assert_eq!(self.post_signed(&p).await, StatusCode::OK);
    }
}

/// The titles of an `input_select`, in order.
pub fn titles(m: &Value) -> Vec<String> {
    m["content_attributes"]["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|i| i["title"].as_str().unwrap().to_string())
        .collect()
}

pub fn content(m: &Value) -> &str {
    m["content"].as_str().unwrap_or("")
}
