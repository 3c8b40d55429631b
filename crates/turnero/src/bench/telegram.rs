//! `turnero bench chat --channel telegram`: the same load as WhatsApp's, as Telegram
//! updates with the secret token, the replies timed at a Bot API stand-in. The third message
//! is "salir" (WhatsApp's "cancelar" would start the cancel task, which on Telegram first
//! asks for the phone).

use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use serde_json::{json, Value};

use super::chat::{Prepared, StandIn, Wired};
use super::Setup;

const TOKEN: &str = "7000000001:bench-token-bench-token-bench";

struct BotApi {
    replies: Arc<StandIn>,
    /// The secret token turnero registered with `setWebhook`.
    webhook: Mutex<Option<(String, String)>>,
}

async fn method(
    State(api): State<Arc<BotApi>>,
    Path((_bot, method)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> axum::Json<Value> {
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let result = match method.as_str() {
        "getMe" => json!({"id": 7000000001_i64, "is_bot": true, "username": "bench_bot"}),
        "setWebhook" => {
            let hook = (
                v["url"].as_str().unwrap_or_default().to_string(),
                v["secret_token"].as_str().unwrap_or_default().to_string(),
            );
            *api.webhook.lock().expect("webhook") = Some(hook);
            json!(true)
        }
        "sendMessage" => {
            api.replies.arrived(&v["chat_id"].to_string());
            json!({"message_id": 1, "chat": {"id": v["chat_id"]}, "date": 0})
        }
        _ => json!({"url": "", "pending_update_count": 0}),
    };
    axum::Json(json!({"ok": true, "result": result}))
}

fn update(chat_id: i64, n: usize, step: usize) -> Vec<u8> {
    let from = json!({"id": chat_id, "is_bot": false, "first_name": "Bench"});
    let chat = json!({"id": chat_id, "type": "private", "first_name": "Bench"});
    let update = match step {
        1 => json!({"update_id": n, "callback_query": {
            "id": format!("cbq{n}"), "from": from, "chat_instance": "1", "data": "book",
            "message": {"message_id": 1, "date": 1776693840, "chat": chat, "text": "¿Qué querés hacer?",
                "reply_markup": {"inline_keyboard": [[{"text": "Sacar un turno", "callback_data": "book"}]]}}}}),
        _ => {
            // "salir" ends the run (the cancel intent would ask for the phone first here).
            let text = if step == 0 { "hola" } else { "salir" };
            json!({"update_id": n, "message": {"message_id": n, "date": 1776693791,
                "from": from, "chat": chat, "text": text}})
        }
    };
    serde_json::to_vec(&update).expect("json")
}

pub(super) async fn wire(
    s: &Setup,
    replies: Arc<StandIn>,
    total: usize,
    conversations: usize,
) -> anyhow::Result<Wired> {
    let api = Arc::new(BotApi {
        replies,
        webhook: Mutex::default(),
    });
    let app = axum::Router::new()
        .route("/{bot}/{method}", axum::routing::post(method))
        .with_state(api.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let api_url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    let put = s
        .client
        .put(format!("{}/api/v1/channels/telegram", s.base))
        .bearer_auth(&s.key)
        .json(&json!({"bot_token": TOKEN, "api_url": api_url}))
        .send()
        .await?;
    anyhow::ensure!(
        put.status().is_success(),
        "PUT /channels/telegram: {}",
        put.text().await?
    );
    let (webhook, secret) = api
        .webhook
        .lock()
        .expect("webhook")
        .clone()
        .ok_or_else(|| anyhow::anyhow!("turnero did not call setWebhook"))?;
    let messages: Vec<Prepared> = (0..total)
        .map(|i| {
            let chat_id = 6_000_000_000 + (i % conversations) as i64;
            let body = update(chat_id, i + 1, (i / conversations) % 3);
            let auth = vec![("x-telegram-bot-api-secret-token", secret.clone())];
            (chat_id.to_string(), body, auth)
        })
        .collect();
    Ok(Wired { webhook, messages })
}
