//! A stand-in for Telegram's Bot API on 127.0.0.1: `POST /bot{token}/{method}` for the
//! methods turnero calls. Each request is checked against the recorded fixtures (no field
//! they do not have, the same kinds of values) and Telegram's limits
//! (`../shared/reference/channels.md` §3), every problem recorded; answers are Telegram's
//! `{"ok", "result"}` envelopes.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use serde_json::{json, Value};

use crate::graph::{fixture, same_shape};

pub const BOT_TOKEN: &str = "7012345678:AAH4x9Lr2QpT_vW8-zKq1mNbCdEfGhIjKlM";
pub const BOT_ID: i64 = 7012345678;

#[derive(Default)]
struct Inner {
    /// (method, body) of every call, in order.
    calls: Mutex<Vec<(String, Value)>>,
    problems: Mutex<Vec<String>>,
    /// The webhook as registered: (url, secret token).
    webhook: Mutex<Option<(String, String)>>,
    /// When set, `sendMessage` answers this error: (status, description, retry_after).
    fail_sends: Mutex<Option<(u16, String, Option<i64>)>>,
    /// When set, `getMe` refuses the token as Telegram does.
    refuse_token: Mutex<bool>,
    /// Each message sent, with the id Telegram gave it.
    sent_ids: Mutex<Vec<(i64, Value)>>,
}

#[derive(Clone)]
pub struct BotApi {
    /// What the channel's `api_url` is set to.
    pub base: String,
    inner: Arc<Inner>,
}

/// The documented body of each method turnero calls. A text without a keyboard carries
/// `ReplyKeyboardRemove` (`{"remove_keyboard": true}`, Bot API documentation), which no
/// fixture records.
fn documented(method: &str, body: &Value) -> Option<Value> {
    Some(match method {
        "getMe" | "getWebhookInfo" | "deleteWebhook" => json!({}),
        "setWebhook" => fixture("telegram_set_webhook_request.json"),
        "answerCallbackQuery" => fixture("telegram_answer_callback_query.json"),
        "editMessageText" => fixture("telegram_edit_message_text.json"),
        "sendMessage" => {
            let markup = &body["reply_markup"];
            if markup.get("inline_keyboard").is_some() {
                fixture("telegram_send_message_inline_keyboard.json")
            } else if markup.get("keyboard").is_some() {
                fixture("telegram_send_message_request_contact.json")
            } else {
                json!({"chat_id": 1, "text": "", "reply_markup": {"remove_keyboard": true}})
            }
        }
        _ => return None,
    })
}

fn utf16(v: &Value) -> usize {
    v.as_str().map(|s| s.encode_utf16().count()).unwrap_or(0)
}

/// Telegram's limits (reference/channels.md §3).
fn limits(method: &str, body: &Value, problems: &mut Vec<String>) {
    let mut check = |ok: bool, what: &str| {
        if !ok {
            problems.push(format!("{method}: {what}"));
        }
    };
    match method {
        "sendMessage" | "editMessageText" => {
            check(body["chat_id"].is_i64(), "chat_id is an integer");
            let n = utf16(&body["text"]);
            check((1..=4096).contains(&n), "text is 1–4096 characters");
            for row in body["reply_markup"]["inline_keyboard"]
                .as_array()
                .into_iter()
                .flatten()
            {
                for b in row.as_array().into_iter().flatten() {
                    let data = b["callback_data"].as_str().unwrap_or("");
                    check(
                        (1..=64).contains(&data.len()),
                        "callback_data is 1–64 bytes",
                    );
                    check(utf16(&b["text"]) > 0, "a button has a text");
                }
            }
        }
        "answerCallbackQuery" => {
            check(body["callback_query_id"].is_string(), "callback_query_id");
            check(
                utf16(&body["text"]) <= 200,
                "text is at most 200 characters",
            );
        }
        "setWebhook" => {
            let secret = body["secret_token"].as_str().unwrap_or("");
            check(
                (1..=256).contains(&secret.len())
                    && secret
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'),
                "secret_token is 1–256 of A-Z a-z 0-9 _ -",
            );
            check(
                body["allowed_updates"] == json!(["message", "callback_query"]),
                "allowed_updates are message and callback_query",
            );
        }
        _ => {}
    }
}

fn ok(result: Value) -> (StatusCode, axum::Json<Value>) {
    (
        StatusCode::OK,
        axum::Json(json!({"ok": true, "result": result})),
    )
}

fn error(
    status: u16,
    description: &str,
    retry_after: Option<i64>,
) -> (StatusCode, axum::Json<Value>) {
    let mut body = json!({"ok": false, "error_code": status, "description": description});
    if let Some(r) = retry_after {
        body["parameters"] = json!({"retry_after": r});
    }
    (StatusCode::from_u16(status).unwrap(), axum::Json(body))
}

async fn method(
    State(inner): State<Arc<Inner>>,
    Path((bot, method)): Path<(String, String)>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> (StatusCode, axum::Json<Value>) {
    // Any well-formed token is a bot (its id is the number before the colon), as long as
    // the stand-in is not told to refuse it.
    let Some(bot_id) = bot
        .strip_prefix("bot")
        .and_then(|t| t.split_once(':'))
        .and_then(|(id, _)| id.parse::<i64>().ok())
    else {
        return error(401, "Unauthorized", None);
    };
    let mut problems = Vec::new();
    let ct = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !ct.starts_with("application/json") {
        problems.push(format!("{method}: content-type was {ct}"));
    }
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    match documented(&method, &body) {
        Some(d) => same_shape(&body, &d, &method, &mut problems),
        None => problems.push(format!("{method} is not a method turnero should call")),
    }
    limits(&method, &body, &mut problems);
    inner.problems.lock().unwrap().extend(problems);
    let n = {
        let mut calls = inner.calls.lock().unwrap();
        calls.push((method.clone(), body.clone()));
        calls.len() as i64
    };
    match method.as_str() {
        "getMe" if *inner.refuse_token.lock().unwrap() => error(401, "Unauthorized", None),
        "getMe" => {
            let username = if bot_id == BOT_ID {
                "clinica_test_bot"
            } else {
                "otra_bot"
            };
            ok(
                json!({"id": bot_id, "is_bot": true, "first_name": "Clínica Test",
                "username": username}),
            )
        }
        "setWebhook" => {
            let url = body["url"].as_str().unwrap_or_default().to_string();
            let secret = body["secret_token"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            *inner.webhook.lock().unwrap() = Some((url, secret));
            ok(json!(true))
        }
        "deleteWebhook" => {
            *inner.webhook.lock().unwrap() = None;
            ok(json!(true))
        }
        "getWebhookInfo" => {
            let url = inner.webhook.lock().unwrap().clone().map(|w| w.0);
            ok(
                json!({"url": url.unwrap_or_default(), "has_custom_certificate": false,
                "pending_update_count": 0, "max_connections": 40}),
            )
        }
        "sendMessage" => {
            if let Some((status, description, retry)) = inner.fail_sends.lock().unwrap().clone() {
                return error(status, &description, retry);
            }
            let message_id = 1000 + n;
            let sent = (message_id, body.clone());
            inner.sent_ids.lock().unwrap().push(sent);
            ok(
                json!({"message_id": message_id, "chat": {"id": body["chat_id"], "type": "private"},
                "date": 1776693900, "text": body["text"]}),
            )
        }
        _ => ok(json!(true)),
    }
}

impl BotApi {
    pub async fn start() -> Self {
        let inner = Arc::new(Inner::default());
        let app = axum::Router::new()
            .route("/{bot}/{method}", axum::routing::post(method))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        BotApi { base, inner }
    }

    /// Every call so far, as (method, body).
    pub fn calls(&self) -> Vec<(String, Value)> {
        self.inner.calls.lock().unwrap().clone()
    }

    /// The bodies of the calls of one method.
    pub fn bodies(&self, method: &str) -> Vec<Value> {
        self.calls()
            .into_iter()
            .filter(|(m, _)| m == method)
            .map(|(_, b)| b)
            .collect()
    }

    /// The messages sent, each with the `message_id` the stand-in gave it.
    pub fn sent(&self) -> Vec<(i64, Value)> {
        self.inner.sent_ids.lock().unwrap().clone()
    }

    /// What did not match the documented shape or limits, over every call so far.
    pub fn problems(&self) -> Vec<String> {
        self.inner.problems.lock().unwrap().clone()
    }

    /// The webhook Telegram would post to, and its secret token.
    pub fn webhook(&self) -> Option<(String, String)> {
        self.inner.webhook.lock().unwrap().clone()
    }

    pub fn fail_sends(&self, with: Option<(u16, &str, Option<i64>)>) {
        *self.inner.fail_sends.lock().unwrap() = with.map(|(s, d, r)| (s, d.to_string(), r));
    }

    pub fn refuse_token(&self, refuse: bool) {
        *self.inner.refuse_token.lock().unwrap() = refuse;
    }

    /// Waits until at least `n` calls of `method` arrived.
    pub async fn wait_for(&self, method: &str, n: usize, secs: u64) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let got = self.bodies(method);
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "expected {n} {method} calls, got {}",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}
