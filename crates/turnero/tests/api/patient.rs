//! A person writing to the clinic's WhatsApp number, for the bot's tests: signed webhooks
//! shaped like Meta's fixtures go in, and what the Graph API stand-in received comes back.

use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sha2::Sha256;

use crate::common::TestApp;
use crate::graph::{fixture, GraphApi, ACCESS_TOKEN, PHONE_NUMBER_ID};

pub const APP_SECRET: &str = "test-app-secret";
pub const WA_ID: &str = "5511987654321";

/// One person writing to the clinic's number.
pub struct Patient<'a> {
    pub app: &'a TestApp,
    pub graph: GraphApi,
    pub webhook: String,
    pub wa_id: String,
    pub sent: usize,
}

pub async fn connect(app: &TestApp, graph: &GraphApi, templates: Value) -> String {
    let (status, out) = app
        .call(
            Method::PUT,
            "/api/v1/channels/whatsapp",
            Some(json!({
                "phone_number_id": PHONE_NUMBER_ID,
                "access_token": ACCESS_TOKEN,
                "app_secret": APP_SECRET,
                "verify_token": "verify-me",
                "graph_api_url": graph.base,
                "templates": templates,
            })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    out["webhook_url"].as_str().unwrap().to_string()
}

pub fn sign(body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(APP_SECRET.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Posts a webhook body signed with the app secret, as Meta does; it must be taken.
pub async fn post_signed(webhook: &str, body: Vec<u8>) {
    let resp = reqwest::Client::new()
        .post(webhook)
        .header("content-type", "application/json")
        .header("x-hub-signature-256", sign(&body))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}

/// A recorded inbound payload with this person's number, a fresh id and `message` merged
/// into its message.
pub fn inbound(fixture_name: &str, wa_id: &str, id: usize, message: Value) -> Vec<u8> {
    let mut v = fixture(fixture_name);
    let value = &mut v["entry"][0]["changes"][0]["value"];
    value["contacts"][0]["wa_id"] = json!(wa_id);
    let m = &mut value["messages"][0];
    m["from"] = json!(wa_id);
    m["id"] = json!(format!("wamid.in.{wa_id}.{id}"));
    for (k, val) in message.as_object().unwrap() {
        m[k] = val.clone();
    }
    serde_json::to_vec(&v).unwrap()
}

impl<'a> Patient<'a> {
    pub async fn new(app: &'a TestApp) -> Patient<'a> {
        Self::with_templates(app, json!([])).await
    }

    /// A patient of a clinic whose WhatsApp channel has these approved templates.
    pub async fn with_templates(app: &'a TestApp, templates: Value) -> Patient<'a> {
        let graph = GraphApi::start().await;
        let webhook = connect(app, &graph, templates).await;
        Patient {
            app,
            graph,
            webhook,
            wa_id: WA_ID.into(),
            sent: 0,
        }
    }

    pub async fn post(&mut self, body: Vec<u8>) {
        post_signed(&self.webhook, body).await
    }

    /// Sends and waits until the bot has answered and its replies reached the stand-in;
    /// answers those replies.
    pub async fn deliver(&mut self, body: Vec<u8>) -> Vec<Value> {
        let before = self.graph.bodies().len();
        self.post(body).await;
        settle(self.app).await;
        let all = self.graph.bodies();
        all[before..].to_vec()
    }

    /// The next inbound message: a recorded payload with `message` merged in.
    pub fn next_message(&mut self, fixture_name: &str, message: Value) -> Vec<u8> {
        self.sent += 1;
        inbound(fixture_name, &self.wa_id, self.sent, message)
    }

    pub async fn says(&mut self, text: &str) -> Vec<Value> {
        let message = json!({"type": "text", "text": {"body": text}});
        let body = self.next_message("whatsapp_inbound_text.json", message);
        self.deliver(body).await
    }

    pub async fn presses(&mut self, id: &str) -> Vec<Value> {
        let reply = json!({"type": "button_reply", "button_reply": {"id": id, "title": "x"}});
        let body = self.next_message(
            "whatsapp_inbound_button_reply.json",
            json!({"interactive": reply}),
        );
        self.deliver(body).await
    }

    pub async fn picks_row(&mut self, id: &str) -> Vec<Value> {
        let reply = json!({"type": "list_reply", "list_reply": {"id": id, "title": "x"}});
        let body = self.next_message(
            "whatsapp_inbound_list_reply.json",
            json!({"interactive": reply}),
        );
        self.deliver(body).await
    }
}

/// Waits until nothing said is unanswered and nothing answered is unsent.
pub async fn settle(app: &TestApp) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let waiting = app
            .count("SELECT COUNT(*) FROM chat_inbox WHERE done_at IS NULL")
            .await
            + app
                .count("SELECT COUNT(*) FROM chat_outbox WHERE status = 'queued'")
                .await;
        if waiting == 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the bot did not answer within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

pub fn body_text(m: &Value) -> String {
    match m["type"].as_str() {
        Some("text") => m["text"]["body"].as_str().unwrap().to_string(),
        _ => m["interactive"]["body"]["text"]
            .as_str()
            .unwrap_or("")
            .to_string(),
    }
}

pub fn button_ids(m: &Value) -> Vec<String> {
    m["interactive"]["action"]["buttons"]
        .as_array()
        .map(|b| {
            b.iter()
                .map(|b| b["reply"]["id"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// The ids of a question's options, whether WhatsApp shows them as buttons or a list.
pub fn option_ids(m: &Value) -> Vec<String> {
    let buttons = button_ids(m);
    if buttons.is_empty() {
        row_ids(m)
    } else {
        buttons
    }
}

pub fn row_ids(m: &Value) -> Vec<String> {
    m["interactive"]["action"]["sections"]
        .as_array()
        .map(|s| {
            s.iter()
                .flat_map(|s| s["rows"].as_array().unwrap().clone())
                .map(|r| r["id"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}
