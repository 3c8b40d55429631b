//! A stand-in for Meta's Graph API on 127.0.0.1: it takes `POST /v24.0/{phone_number_id}/
//! messages`, checks each request against the documented shape (the recorded send fixtures:
//! no field they do not have, the same kinds of values) and WhatsApp's limits, records every
//! problem, and answers as Meta does with a fresh `wamid`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use serde_json::{json, Value};

pub const PHONE_NUMBER_ID: &str = "106540352242922";
pub const ACCESS_TOKEN: &str = "EAAG-system-user-token";

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/channels"
);

pub fn fixture(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(format!("{FIXTURES}/{name}")).unwrap()).unwrap()
}

#[derive(Default)]
struct Inner {
    bodies: Mutex<Vec<Value>>,
    problems: Mutex<Vec<String>>,
    sent: AtomicUsize,
    /// When set, every request is answered with this status (Meta down, a bad token…).
    fail_with: Mutex<Option<u16>>,
}

#[derive(Clone)]
pub struct GraphApi {
    /// What the channel's `graph_api_url` is set to.
    pub base: String,
    inner: Arc<Inner>,
}

/// Every field of `body` must exist in `documented` with the same kind of value (the Graph
/// API and Bot API stand-ins both check requests this way).
pub fn same_shape(body: &Value, documented: &Value, at: &str, problems: &mut Vec<String>) {
    match (body, documented) {
        (Value::Object(b), Value::Object(d)) => {
            for (k, v) in b {
                match d.get(k) {
                    Some(dv) => same_shape(v, dv, &format!("{at}.{k}"), problems),
                    None => problems.push(format!("{at}.{k} is not a documented field")),
                }
            }
        }
        (Value::Array(b), Value::Array(d)) => {
            // Items of a kind (a template's `body` and `button` components) are held to the
            // documented item of the same `type`; otherwise to the first.
            for (i, v) in b.iter().enumerate() {
                let same_type = d
                    .iter()
                    .find(|x| x.get("type").is_some() && x["type"] == v["type"]);
                if let Some(like) = same_type.or(d.first()) {
                    same_shape(v, like, &format!("{at}[{i}]"), problems);
                }
            }
        }
        (Value::String(_), Value::String(_))
        | (Value::Number(_), Value::Number(_))
        | (Value::Bool(_), Value::Bool(_))
        | (Value::Null, Value::Null) => {}
        _ => problems.push(format!("{at} has the wrong kind of value")),
    }
}

fn chars(v: &Value) -> usize {
    v.as_str().map(|s| s.chars().count()).unwrap_or(0)
}

/// WhatsApp's limits (reference/channels.md §2.5).
fn limits(body: &Value, problems: &mut Vec<String>) {
    let mut check = |ok: bool, what: &str| {
        if !ok {
            problems.push(what.to_string());
        }
    };
    match body["type"].as_str() {
        Some("text") => {
            let n = chars(&body["text"]["body"]);
            check(n > 0 && n <= 4096, "text body must be 1–4096 characters");
        }
        Some("interactive") => {
            let i = &body["interactive"];
            let n = chars(&i["body"]["text"]);
            check(
                n > 0 && n <= 1024,
                "interactive body must be 1–1024 characters",
            );
            match i["type"].as_str() {
                Some("button") => {
                    let buttons = i["action"]["buttons"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default();
                    check((1..=3).contains(&buttons.len()), "1 to 3 reply buttons");
                    for b in &buttons {
                        let t = chars(&b["reply"]["title"]);
                        check(t > 0 && t <= 20, "button titles are 1–20 characters");
                        check(
                            chars(&b["reply"]["id"]) <= 256,
                            "button ids are at most 256",
                        );
                    }
                }
                Some("list") => {
                    let sections = i["action"]["sections"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default();
                    check(
                        chars(&i["action"]["button"]) <= 20,
                        "list button at most 20 characters",
                    );
                    let rows: Vec<Value> = sections
                        .iter()
                        .flat_map(|s| s["rows"].as_array().cloned().unwrap_or_default())
                        .collect();
                    check((1..=10).contains(&rows.len()), "1 to 10 rows in all");
                    for s in &sections {
                        if sections.len() > 1 {
                            let t = chars(&s["title"]);
                            check(t > 0 && t <= 24, "section titles 1–24 when several");
                        }
                    }
                    for r in &rows {
                        let t = chars(&r["title"]);
                        check(t > 0 && t <= 24, "row titles are 1–24 characters");
                        check(
                            chars(&r["description"]) <= 72,
                            "row descriptions at most 72",
                        );
                        check(chars(&r["id"]) <= 200, "row ids at most 200");
                    }
                }
                other => check(false, &format!("unknown interactive type {other:?}")),
            }
        }
        Some("template") => check(
            body["template"]["name"].is_string(),
            "a template has a name",
        ),
        other => check(false, &format!("unknown message type {other:?}")),
    }
}

fn documented(body: &Value) -> Value {
    match (body["type"].as_str(), body["interactive"]["type"].as_str()) {
        (Some("interactive"), Some("button")) => fixture("whatsapp_send_interactive_buttons.json"),
        (Some("interactive"), _) => fixture("whatsapp_send_interactive_list.json"),
        (Some("template"), _) => fixture("whatsapp_send_template.json"),
        _ => fixture("whatsapp_send_text.json"),
    }
}

async fn messages(
    State(inner): State<Arc<Inner>>,
    Path((version, phone_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> (StatusCode, axum::Json<Value>) {
    let mut problems = Vec::new();
    if version != "v24.0" || phone_id != PHONE_NUMBER_ID {
        problems.push(format!("posted to /{version}/{phone_id}/messages"));
    }
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok());
    if auth != Some(&format!("Bearer {ACCESS_TOKEN}")) {
        problems.push(format!("authorization was {auth:?}"));
    }
    let ct = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !ct.starts_with("application/json") {
        problems.push(format!("content-type was {ct}"));
    }
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    same_shape(&body, &documented(&body), "body", &mut problems);
    limits(&body, &mut problems);
    if body["messaging_product"] != "whatsapp"
        || !body["to"]
            .as_str()
            .is_some_and(|t| t.chars().all(|c| c.is_ascii_digit()))
    {
        problems.push("messaging_product and a digits-only `to` are required".into());
    }
    inner.problems.lock().unwrap().extend(problems);
    inner.bodies.lock().unwrap().push(body.clone());
    if let Some(status) = *inner.fail_with.lock().unwrap() {
        let error = fixture("whatsapp_error_response.json");
        return (StatusCode::from_u16(status).unwrap(), axum::Json(error));
    }
    let n = inner.sent.fetch_add(1, Ordering::SeqCst);
    let mut answer = fixture("whatsapp_send_response.json");
    answer["contacts"][0]["input"] = body["to"].clone();
    answer["contacts"][0]["wa_id"] = body["to"].clone();
    answer["messages"][0]["id"] = json!(format!("wamid.test.{n}"));
    (StatusCode::OK, axum::Json(answer))
}

impl GraphApi {
    pub async fn start() -> Self {
        let inner = Arc::new(Inner::default());
        let app = axum::Router::new()
            .route(
                "/{version}/{phone_id}/messages",
                axum::routing::post(messages),
            )
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}/v24.0", listener.local_addr().unwrap());
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        GraphApi { base, inner }
    }

    pub fn bodies(&self) -> Vec<Value> {
        self.inner.bodies.lock().unwrap().clone()
    }

    /// What did not match the documented shape or limits, over every request so far.
    pub fn problems(&self) -> Vec<String> {
        self.inner.problems.lock().unwrap().clone()
    }

    pub fn fail_with(&self, status: Option<u16>) {
        *self.inner.fail_with.lock().unwrap() = status;
    }

    /// Waits until at least `n` requests arrived.
    pub async fn wait_for(&self, n: usize, secs: u64) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let got = self.bodies();
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "expected {n} Graph API requests, got {}",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}
