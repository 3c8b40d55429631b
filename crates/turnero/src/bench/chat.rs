//! `turnero bench chat`: the booking bot's reply latency. Signed WhatsApp webhooks (or
//! Telegram updates, `--channel telegram`) go in at a fixed rate (open loop: a slow answer
//! does not slow the sender) across many conversations; the time measured is from just
//! before a webhook is posted to the moment the bot's reply reaches the vendor's stand-in in
//! this process (Graph API, Bot API). Each conversation cycles through "hola" (the menu),
//! the "book" button (free slots computed and listed) and "cancelar" (back to idle): every
//! message gets exactly one reply.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

use super::{setup_with, Report};

const APP_SECRET: &str = "bench-app-secret";

type Sent = Arc<Mutex<HashMap<String, Instant>>>;

pub(super) struct StandIn {
    sent: Sent,
    report: Mutex<Report>,
}

impl StandIn {
    /// A reply to `to` arrived: the time since its message was posted.
    pub(super) fn arrived(&self, to: &str) {
        let arrived = Instant::now();
        if let Some(at) = self.sent.lock().expect("sent map").remove(to) {
            let mut r = self.report.lock().expect("report");
            r.ok += 1;
            r.latencies.push(arrived - at);
        }
    }
}

async fn graph_api(State(s): State<Arc<StandIn>>, body: axum::body::Bytes) -> axum::Json<Value> {
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let to = v["to"].as_str().unwrap_or_default().to_string();
    s.arrived(&to);
    axum::Json(
        json!({"messaging_product": "whatsapp", "messages": [{"id": format!("wamid.bench.{to}")}]}),
    )
}

fn webhook_body(wa_id: &str, n: usize, step: usize) -> Vec<u8> {
    let message = match step {
        0 => json!({"type": "text", "text": {"body": "hola"}}),
        1 => {
            json!({"type": "interactive", "interactive": {"type": "button_reply", "button_reply": {"id": "book", "title": "Sacar un turno"}}})
        }
        _ => json!({"type": "text", "text": {"body": "cancelar"}}),
    };
    let mut m =
        json!({"from": wa_id, "id": format!("wamid.bench.{wa_id}.{n}"), "timestamp": "1776693791"});
    m.as_object_mut()
        .expect("object")
        .extend(message.as_object().expect("object").clone());
    serde_json::to_vec(&json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "5491100000000", "phone_number_id": "106540352242922"},
            "contacts": [{"profile": {"name": "Bench"}, "wa_id": wa_id}],
            "messages": [m]
        }}]}]
    }))
    .expect("json")
}

fn sign(body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(APP_SECRET.as_bytes()).expect("hmac key");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// One message ready to post: whose reply to wait for, the body, and its authenticating
/// headers.
pub(super) type Prepared = (String, Vec<u8>, Vec<(&'static str, String)>);

/// Where the load goes: the webhook URL and each message.
pub(super) struct Wired {
    pub webhook: String,
    pub messages: Vec<Prepared>,
}

async fn whatsapp(
    s: &super::Setup,
    stand_in: Arc<StandIn>,
    total: usize,
    conversations: usize,
) -> anyhow::Result<Wired> {
    let app = axum::Router::new()
        .fallback(axum::routing::post(graph_api))
        .with_state(stand_in);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let graph_url = format!("http://{}/v24.0", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    let wired = s
        .client
        .put(format!("{}/api/v1/channels/whatsapp", s.base))
        .bearer_auth(&s.key)
        .json(
            &json!({"phone_number_id": "106540352242922", "access_token": "bench",
            "app_secret": APP_SECRET, "verify_token": "bench", "graph_api_url": graph_url}),
        )
        .send()
        .await?
        .json::<Value>()
        .await?;
    let webhook = wired["webhook_url"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("no webhook_url: {wired}"))?
        .to_string();
    // Bodies and signatures made up front: the load generator only posts.
    let messages = (0..total)
        .map(|i| {
            let wa_id = format!("54911{:08}", i % conversations);
            let body = webhook_body(&wa_id, i, (i / conversations) % 3);
            let sig = sign(&body);
            (wa_id, body, vec![("x-hub-signature-256", sig)])
        })
        .collect();
    Ok(Wired { webhook, messages })
}

pub async fn run(
    rate: u32,
    seconds: u64,
    conversations: usize,
    channel: &str,
    database_url: Option<String>,
) -> anyhow::Result<()> {
    let s = setup_with(database_url, |c| {
        c.outbound_allow = "127.0.0.0/8".into();
        // One number answering 200 people a second: a number Meta has upgraded past its
        // default 80 messages a second (turnero paces each number at its configured rate).
        c.whatsapp_messages_per_second = 1000;
    })
    .await?;
    s.busy_week().await?;
    let stand_in = Arc::new(StandIn {
        sent: Sent::default(),
        report: Mutex::new(Report::empty()),
    });
    let total = (u64::from(rate) * seconds) as usize;
    let conversations = conversations.max(1);
    let wired = match channel {
        "whatsapp" => whatsapp(&s, stand_in.clone(), total, conversations).await?,
        "telegram" => super::telegram::wire(&s, stand_in.clone(), total, conversations).await?,
        "chatwoot" => super::chatwoot::wire(&s, stand_in.clone(), total, conversations).await?,
        other => anyhow::bail!("unknown channel `{other}`: whatsapp, telegram or chatwoot"),
    };
    println!("chat ({channel}): {total} messages at {rate}/s over {conversations} conversations ({seconds}s)");
    let gap = Duration::from_secs_f64(1.0 / f64::from(rate.max(1)));
    let mut posted = Report::empty();
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(total);
    for (i, (to, body, auth)) in wired.messages.into_iter().enumerate() {
        tokio::time::sleep_until((started + gap * i as u32).into()).await;
        let (client, url, sent) = (
            s.client.clone(),
            wired.webhook.clone(),
            stand_in.sent.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let t = Instant::now();
            sent.lock().expect("sent map").insert(to, t);
            let mut req = client.post(&url).header("content-type", "application/json");
            for (name, value) in auth {
                req = req.header(name, value);
            }
            let ok = req
                .body(body)
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            (ok, t.elapsed())
        }));
    }
    for t in tasks {
        let (ok, took) = t.await?;
        if ok {
            posted.ok += 1;
        } else {
            posted.failed += 1;
        }
        posted.latencies.push(took);
    }
    posted.elapsed = started.elapsed();
    // Replies still on their way.
    let deadline = Instant::now() + Duration::from_secs(10);
    while stand_in.report.lock().expect("report").ok < total && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut replies = std::mem::replace(
        &mut *stand_in.report.lock().expect("report"),
        Report::empty(),
    );
    replies.elapsed = started.elapsed();
    replies.failed = total - replies.ok;
    let quarters = replies.quarter_p99s();
    posted.print("webhook");
    replies.print("reply");
    println!("reply p99 by quarter of the run: {quarters} ms");
    println!(
        "reply max={:.2}ms",
        replies
            .latencies
            .last()
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    );
    Ok(())
}
