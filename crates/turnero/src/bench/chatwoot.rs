//! `turnero bench chat --channel chatwoot`: the chat load as Chatwoot `message_created`
//! webhooks (signed as Chatwoot 4.13 signs), the replies timed at a Chatwoot API stand-in;
//! and `turnero bench chatwoot-sync`: a sync of N customers against a stand-in that takes
//! `--delay-ms` to answer each call, beside the stand-in's own answering time.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

use super::chat::{Prepared, StandIn, Wired};
use super::{setup_with, Setup};

const SECRET: &str = "bench-chatwoot-secret";

async fn chat_api(
    State(replies): State<Arc<StandIn>>,
    Path((_account, rest)): Path<(String, String)>,
) -> axum::Json<Value> {
    // `conversations/{id}/messages`: the reply to that conversation arrived.
    if let Some(id) = rest
        .strip_prefix("conversations/")
        .and_then(|r| r.strip_suffix("/messages"))
    {
        replies.arrived(id);
    }
    axum::Json(json!({"id": 1, "message_type": 1}))
}

fn webhook_body(conversation: usize, n: usize, step: usize) -> Vec<u8> {
    let content = match step {
        0 => "hola",
        1 => "Sacar un turno", // the title Chatwoot sends back for the tapped option
        _ => "salir",
    };
    let phone = format!("+54911{:08}", conversation);
    serde_json::to_vec(&json!({
        "event": "message_created", "id": n, "content": content, "message_type": "incoming",
        "private": false, "content_type": "text",
        "conversation": {"id": conversation, "status": "pending", "channel": "Channel::Whatsapp"},
        "sender": {"id": conversation, "name": "Bench", "phone_number": phone},
        "account": {"id": 1}, "inbox": {"id": 1}
    }))
    .expect("json")
}

async fn put(s: &Setup, base_url: &str) -> anyhow::Result<String> {
    let wired = s
        .client
        .put(format!("{}/api/v1/channels/chatwoot", s.base))
        .bearer_auth(&s.key)
        .json(
            &json!({"base_url": base_url, "account_id": 1, "inbox_id": 1,
            "api_access_token": "bench-user", "agent_bot_token": "bench-bot",
            "hmac_secret": SECRET}),
        )
        .send()
        .await?
        .json::<Value>()
        .await?;
    Ok(wired["webhook_url"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("no webhook_url: {wired}"))?
        .to_string())
}

pub(super) async fn wire(
    s: &Setup,
    replies: Arc<StandIn>,
    total: usize,
    conversations: usize,
) -> anyhow::Result<Wired> {
    let app = axum::Router::new()
        .route(
            "/api/v1/accounts/{account}/{*rest}",
            axum::routing::any(chat_api),
        )
        .with_state(replies);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    let webhook = put(s, &base).await?;
    // Signed with the clock as it is now; the run lasts well under Chatwoot's five minutes.
    let ts = jiff::Timestamp::now().as_second();
    let messages: Vec<Prepared> = (0..total)
        .map(|i| {
            let conversation = 10_000 + i % conversations;
            let body = webhook_body(conversation, i + 1, (i / conversations) % 3);
            let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).expect("key");
            mac.update(format!("{ts}.").as_bytes());
            mac.update(&body);
            let sig = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
            let auth = vec![
                ("x-chatwoot-timestamp", ts.to_string()),
                ("x-chatwoot-signature", sig),
            ];
            (conversation.to_string(), body, auth)
        })
        .collect();
    Ok(Wired { webhook, messages })
}

/// A Chatwoot that answers every call after `delay`, counting its own answering time.
struct SlowChatwoot {
    delay: Duration,
    calls: AtomicU64,
    contacts: AtomicU64,
}

async fn sync_api(
    State(api): State<Arc<SlowChatwoot>>,
    Path((_account, rest)): Path<(String, String)>,
) -> axum::Json<Value> {
    tokio::time::sleep(api.delay).await;
    api.calls.fetch_add(1, Ordering::Relaxed);
    axum::Json(match rest.as_str() {
        "contacts/filter" => json!({"meta": {"count": 0}, "payload": []}),
        "contacts" => {
            let id = api.contacts.fetch_add(1, Ordering::Relaxed) + 1;
            json!({"payload": {"contact": {"id": id}}})
        }
        _ => json!({}),
    })
}

pub async fn sync(
    customers: usize,
    delay_ms: u64,
    database_url: Option<String>,
) -> anyhow::Result<()> {
    let s = setup_with(database_url, |c| c.outbound_allow = "127.0.0.0/8".into()).await?;
    let api = Arc::new(SlowChatwoot {
        delay: Duration::from_millis(delay_ms),
        calls: AtomicU64::new(0),
        contacts: AtomicU64::new(0),
    });
    let app = axum::Router::new()
        .route(
            "/api/v1/accounts/{account}/{*rest}",
            axum::routing::any(sync_api),
        )
        .with_state(api.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    s.customers(customers).await?;
    put(&s, &base).await?;
    let started = Instant::now();
    let run: Value = s
        .client
        .post(format!("{}/api/v1/channels/chatwoot/syncs", s.base))
        .bearer_auth(&s.key)
        .send()
        .await?
        .json()
        .await?;
    let id = run["id"].as_str().unwrap_or_default().to_string();
    let run = loop {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let r: Value = s
            .client
            .get(format!("{}/api/v1/channels/chatwoot/syncs/{id}", s.base))
            .bearer_auth(&s.key)
            .send()
            .await?
            .json()
            .await?;
        if r["status"] == "done" {
            break r;
        }
    };
    let took = started.elapsed();
    let calls = api.calls.load(Ordering::Relaxed);
    // The sync looks up four customers at a time: the stand-in alone needs at least this.
    let floor = Duration::from_millis(delay_ms) * calls as u32 / 4;
    println!(
        "chatwoot-sync: {customers} customers, {calls} Chatwoot calls answered in {delay_ms} ms each"
    );
    println!(
        "sync took {:.2}s ({:.0} customers/s); the stand-in's answering time alone, 4 at a time: {:.2}s (ratio {:.2})",
        took.as_secs_f64(),
        customers as f64 / took.as_secs_f64(),
        floor.as_secs_f64(),
        floor.as_secs_f64() / took.as_secs_f64(),
    );
    println!("report: {run}");
    Ok(())
}
