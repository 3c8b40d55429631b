//! Botmaker's v1.1 notifications (seed 001) for conversation events.

use serde_json::{json, Map, Value};
use turnero_core::event;

use super::EventRecord;

/// Botmaker's v1.1 `message` and `status` notifications for conversation events.
pub(super) fn body(ev: &EventRecord) -> Option<Value> {
    let d: Map<String, Value> = serde_json::from_str(&ev.data).ok()?;
    let g = |k: &str| d.get(k).cloned().unwrap_or(Value::Null);
    let platform = g("channel");
    let whatsapp = platform.as_str() == Some("whatsapp");
    let mut body = json!({
        "v": "1.1",
        "chatPlatform": platform,
        "contactId": g("contact_id"),
        "chatChannelId": g("channel"),
        "customerId": g("customer_id"),
    });
    let obj = body.as_object_mut()?;
    if whatsapp {
        obj.insert("whatsappNumber".into(), g("business_number"));
    } else {
        obj.insert("chatIdInChatPlatform".into(), g("contact_id"));
    }
    match ev.kind.as_str() {
        event::MESSAGE_RECEIVED | event::MESSAGE_SENT | event::CONVERSATION_VARIABLES_CHANGED => {
            let name = g("customer_name");
            let name = name.as_str().unwrap_or("");
            let (first, last) = name.split_once(' ').unwrap_or((name, ""));
            obj.insert("type".into(), json!("message"));
            obj.insert("firstName".into(), json!(first));
            obj.insert("lastName".into(), json!(last));
            obj.insert("sessionCreationTime".into(), g("session_started_at"));
            let messages = match d.get("message") {
                Some(m) => {
                    let from = m.get("from").and_then(Value::as_str).unwrap_or("bot");
                    let mut msg = json!({
                        "_id_": m.get("id"),
                        "date": m.get("at"),
                        "message": m.get("text"),
                        "fromName": if from == "user" { json!(name) } else { json!("Bot") },
                        "from": from,
                    });
                    if from == "user" {
                        msg["fromCustomer"] = json!(true);
                    }
                    if m.get("is_button").and_then(Value::as_bool) == Some(true) {
                        msg["isButton"] = json!(true);
                    }
                    vec![msg]
                }
                None => vec![],
            };
            obj.insert("messages".into(), Value::Array(messages));
            obj.insert(
                "variables".into(),
                d.get("variables").cloned().unwrap_or_else(|| json!({})),
            );
        }
        event::MESSAGE_STATUS => {
            obj.insert("type".into(), json!("status"));
            obj.insert("status".into(), g("status"));
            obj.insert("statusChangeTime".into(), g("at"));
            obj.insert("messageId".into(), g("message_id"));
        }
        _ => return None,
    }
    Some(body)
}
