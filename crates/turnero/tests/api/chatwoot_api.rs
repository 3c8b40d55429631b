//! A stand-in for Chatwoot's Application API on 127.0.0.1, for the account in the fixtures
//! (3): the conversation endpoints take the agent bot's token, the contact endpoints a user's
//! (Chatwoot refuses bot tokens there). Each request's path, token and body are checked
//! against the recorded `chatwoot_api_*` fixtures and WhatsApp's limits for `input_select`
//! (Chatwoot checks none), every problem recorded; contacts are kept like Chatwoot keeps them
//! (phone unique per account, custom attributes merged).

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use serde_json::{json, Value};

use crate::graph::{fixture, same_shape};

pub const ACCOUNT: i64 = 3;
pub const INBOX: i64 = 7;
pub const USER_TOKEN: &str = "cw-user-token-ana";
pub const BOT_TOKEN: &str = "cw-agent-bot-token";

#[derive(Default)]
struct Inner {
    /// (method, path, body) of every request, in order.
    requests: Mutex<Vec<(String, String, Value)>>,
    problems: Mutex<Vec<String>>,
    /// Contacts by id: (phone, custom attributes).
    contacts: Mutex<BTreeMap<i64, (String, Value)>>,
    /// When set, every request is answered with this status.
    fail_with: Mutex<Option<u16>>,
    /// Added to every answer (a slow Chatwoot).
    delay_ms: AtomicUsize,
}

#[derive(Clone)]
pub struct ChatwootApi {
    /// What the channel's `base_url` is set to.
    pub base: String,
    inner: Arc<Inner>,
}

fn chars(v: &Value) -> usize {
    v.as_str().map(|s| s.chars().count()).unwrap_or(0)
}

/// What Chatwoot's WhatsApp inbox makes of `input_select` (reference §1.6).
fn input_select_limits(body: &Value, problems: &mut Vec<String>) {
    let items = body["content_attributes"]["items"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let max = if items.len() <= 3 { 20 } else { 24 };
    if !(1..=10).contains(&items.len()) {
        problems.push(format!("{} items (1 to 10)", items.len()));
    }
    let mut titles = HashSet::new();
    for i in &items {
        let n = chars(&i["title"]);
        if n == 0 || n > max {
            problems.push(format!(
                "item title {} is over {max} characters",
                i["title"]
            ));
        }
        if !titles.insert(i["title"].as_str().unwrap_or("").to_lowercase()) {
            problems.push(format!(
                "item title {} twice: Chatwoot sends back titles",
                i["title"]
            ));
        }
    }
}

/// Only these keys, and `custom_attributes` an object of plain values.
fn contact_body(body: &Value, allowed: &[&str], problems: &mut Vec<String>) {
    for k in body.as_object().into_iter().flat_map(|o| o.keys()) {
        if !allowed.contains(&k.as_str()) {
            problems.push(format!("contact body has undocumented `{k}`"));
        }
    }
    let attrs = body["custom_attributes"].as_object();
    if attrs.is_none_or(|a| a.values().any(|v| v.is_object() || v.is_array())) {
        problems.push("custom_attributes must be an object of plain values".into());
    }
}

fn token_is(headers: &HeaderMap, want: &str, what: &str, problems: &mut Vec<String>) {
    let got = headers
        .get("api_access_token")
        .and_then(|v| v.to_str().ok());
    if got != Some(want) {
        problems.push(format!("{what} sent with token {got:?}"));
    }
}

async fn api(
    State(inner): State<Arc<Inner>>,
    method: Method,
    Path((account, rest)): Path<(i64, String)>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> (StatusCode, axum::Json<Value>) {
    let delay = inner.delay_ms.load(Ordering::Relaxed);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay as u64)).await;
    }
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let mut problems = Vec::new();
    if account != ACCOUNT {
        problems.push(format!("account {account}"));
    }
    let parts: Vec<&str> = rest.split('/').collect();
    inner
        .requests
        .lock()
        .unwrap()
        .push((method.to_string(), rest.clone(), body.clone()));
    let fail = *inner.fail_with.lock().unwrap();
    let answer = match (method.as_str(), parts.as_slice()) {
        ("POST", ["conversations", _, "messages"]) => {
            token_is(&headers, BOT_TOKEN, "a message", &mut problems);
            let documented = match (body["content_type"].as_str(), body.get("template_params")) {
                (_, Some(_)) => fixture("chatwoot_api_create_message_template_request.json"),
                (Some("input_select"), _) => {
                    input_select_limits(&body, &mut problems);
                    let mut d = fixture("chatwoot_api_create_message_input_select_request.json");
                    d["private"] = json!(false);
                    d
                }
                _ => fixture("chatwoot_api_create_message_request.json"),
            };
            same_shape(&body, &documented, "message", &mut problems);
            let mut a = fixture("chatwoot_api_create_message_response.json");
            a["id"] = json!(90_000 + inner.requests.lock().unwrap().len());
            a["content"] = body["content"].clone();
            a
        }
        ("POST", ["conversations", id, "toggle_status"]) => {
            token_is(&headers, BOT_TOKEN, "a handoff", &mut problems);
            same_shape(
                &body,
                &fixture("chatwoot_api_toggle_status_request.json"),
                "toggle",
                &mut problems,
            );
            let mut a = fixture("chatwoot_api_toggle_status_response.json");
            a["payload"]["conversation_id"] = json!(id.parse::<i64>().unwrap_or(0));
            a["payload"]["current_status"] = body["status"].clone();
            a
        }
        ("POST", ["conversations"]) => {
            token_is(&headers, USER_TOKEN, "a new conversation", &mut problems);
            same_shape(
                &body,
                &fixture("chatwoot_api_create_conversation_request.json"),
                "conversation",
                &mut problems,
            );
            let id = 700 + inner.requests.lock().unwrap().len() as i64;
            json!({"id": id, "inbox_id": body["inbox_id"], "status": body["status"]})
        }
        ("PUT", ["contacts", id]) => {
            token_is(&headers, USER_TOKEN, "a contact update", &mut problems);
            contact_body(&body, &["custom_attributes"], &mut problems);
            let id: i64 = id.parse().unwrap_or(0);
            let mut contacts = inner.contacts.lock().unwrap();
            let entry = contacts
                .entry(id)
                .or_insert_with(|| (String::new(), json!({})));
            for (k, v) in body["custom_attributes"].as_object().into_iter().flatten() {
                entry.1[k] = v.clone(); // merged, as Chatwoot does
            }
            json!({"payload": {"id": id, "custom_attributes": entry.1}})
        }
        ("POST", ["contacts", "filter"]) => {
            token_is(&headers, USER_TOKEN, "a contact search", &mut problems);
            same_shape(
                &body,
                &fixture("chatwoot_api_filter_contacts_request.json"),
                "filter",
                &mut problems,
            );
            let value = body["payload"][0]["values"][0]
                .as_str()
                .unwrap_or("")
                .to_string();
            let contains = body["payload"][0]["filter_operator"] == "contains";
            let found: Vec<Value> = inner
                .contacts
                .lock()
                .unwrap()
                .iter()
                .filter(|(_, (p, _))| if contains { p.contains(&value) } else { *p == value })
                .map(|(id, (p, attrs))| json!({"id": id, "phone_number": p, "custom_attributes": attrs}))
                .collect();
            json!({"meta": {"count": found.len(), "current_page": 1}, "payload": found})
        }
        ("POST", ["contacts"]) => {
            token_is(&headers, USER_TOKEN, "a new contact", &mut problems);
            contact_body(
                &body,
                &["inbox_id", "name", "phone_number", "custom_attributes"],
                &mut problems,
            );
            let phone = body["phone_number"].as_str().unwrap_or("").to_string();
            let mut contacts = inner.contacts.lock().unwrap();
            if contacts.values().any(|(p, _)| *p == phone) {
                drop(contacts);
                inner.problems.lock().unwrap().extend(problems);
                return (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    axum::Json(json!({"message": "Phone number has already been taken"})),
                );
            }
            let id = 2000 + contacts.len() as i64;
            contacts.insert(id, (phone.clone(), body["custom_attributes"].clone()));
            let mut a = fixture("chatwoot_api_create_contact_response.json");
            a["payload"]["contact"]["id"] = json!(id);
            a["payload"]["contact"]["phone_number"] = json!(phone);
            a["payload"]["contact"]["custom_attributes"] = body["custom_attributes"].clone();
            a
        }
        other => {
            problems.push(format!("unexpected {other:?}"));
            json!({})
        }
    };
    inner.problems.lock().unwrap().extend(problems);
    if let Some(status) = fail {
        return (
            StatusCode::from_u16(status).unwrap(),
            axum::Json(json!({"error": format!("stand-in answering {status}")})),
        );
    }
    (StatusCode::OK, axum::Json(answer))
}

impl ChatwootApi {
    pub async fn start() -> Self {
        let inner = Arc::new(Inner::default());
        let app = axum::Router::new()
            .route(
                "/api/v1/accounts/{account}/{*rest}",
                axum::routing::any(api),
            )
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        ChatwootApi { base, inner }
    }

    /// Every request so far, as (method, path after the account, body).
    pub fn requests(&self) -> Vec<(String, String, Value)> {
        self.inner.requests.lock().unwrap().clone()
    }

    /// The messages posted to a conversation, in order.
    pub fn messages(&self, conversation: i64) -> Vec<Value> {
        let path = format!("conversations/{conversation}/messages");
        self.requests()
            .into_iter()
            .filter(|(m, p, _)| m == "POST" && *p == path)
            .map(|(_, _, b)| b)
            .collect()
    }

    pub fn problems(&self) -> Vec<String> {
        self.inner.problems.lock().unwrap().clone()
    }

    /// A contact as Chatwoot holds it: (phone, custom attributes).
    pub fn contact(&self, id: i64) -> Option<(String, Value)> {
        self.inner.contacts.lock().unwrap().get(&id).cloned()
    }

    pub fn contacts(&self) -> usize {
        self.inner.contacts.lock().unwrap().len()
    }

    pub fn fail_with(&self, status: Option<u16>) {
        *self.inner.fail_with.lock().unwrap() = status;
    }

    pub fn delay(&self, ms: usize) {
        self.inner.delay_ms.store(ms, Ordering::Relaxed);
    }

    /// Waits until `check` holds over the requests so far.
    pub async fn wait_until(&self, what: &str, check: impl Fn(&[(String, String, Value)]) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !check(&self.requests()) {
            assert!(Instant::now() < deadline, "Chatwoot never got {what}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
