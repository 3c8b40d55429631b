//! The bodies an endpoint receives, per its format. `None` means the format has no shape for
//! that event type; the delivery is then marked `skipped` (nothing to send, nothing lost).
//!
//! Conversation events carry this `data` (what the chat emits), from which the Botmaker
//! shapes are built: `channel`, `contact_id` (phone or platform user id), `customer_id`,
//! `customer_name`, `business_number`, `session_started_at`, and for messages
//! `message: {id, text, at, from: user|bot|operator, is_button}`; for statuses `message_id`,
//! `status`, `at`; for variable changes `variables: {name: value}`.

use serde_json::{json, Map, Value};
use turnero_core::event;

use super::store::Format;

/// An outbox event as the hub reads it.
#[derive(Debug, Clone)]
pub struct EventRecord {
    pub id: String,
    pub kind: String,
    /// The event's `data`, as stored (JSON text).
    pub data: String,
    /// Unix seconds.
    pub created_at: i64,
}

/// Extra facts some formats need that the event does not carry.
#[derive(Debug, Clone, Default)]
pub struct Context {
    pub calendar_title: Option<String>,
    /// How the receiving system names the calendar (its availability API's
    /// `external_calendar_id`); turnero's id otherwise.
    pub external_calendar_id: Option<String>,
}

pub fn body(format: Format, ev: &EventRecord, ctx: &Context) -> Option<Vec<u8>> {
    match format {
        Format::Standard => Some(standard(ev)),
        Format::Asisteclick => asisteclick(ev, ctx).map(|v| v.to_string().into_bytes()),
        Format::Botmaker => botmaker(ev).map(|v| v.to_string().into_bytes()),
    }
}

/// `{"type", "timestamp", "data"}`, with `data` copied byte for byte from the outbox.
fn standard(ev: &EventRecord) -> Vec<u8> {
    let ts = crate::api::fmt_ts(ev.created_at);
    let mut out = Vec::with_capacity(ev.data.len() + 80);
    out.extend_from_slice(b"{\"type\":\"");
    out.extend_from_slice(ev.kind.as_bytes());
    out.extend_from_slice(b"\",\"timestamp\":\"");
    out.extend_from_slice(ts.as_bytes());
    out.extend_from_slice(b"\",\"data\":");
    out.extend_from_slice(ev.data.as_bytes());
    out.push(b'}');
    out
}

/// The AsisteClick event type for a booking event, if it has one.
pub fn asisteclick_event_type(kind: &str) -> Option<&'static str> {
    match kind {
        event::BOOKING_CREATED => Some("event_created"),
        event::BOOKING_UPDATED => Some("event_updated"),
        event::BOOKING_CANCELED => Some("event_canceled"),
        _ => None,
    }
}

/// The callback body of AsisteClick's turnero protocol for a booking event.
fn asisteclick(ev: &EventRecord, ctx: &Context) -> Option<Value> {
    let event_type = asisteclick_event_type(&ev.kind)?;
    let b: Value = serde_json::from_str(&ev.data).ok()?;
    let s = |k: &str| b.get(k).cloned().unwrap_or(Value::Null);
    let customer = b.get("customer").cloned().unwrap_or(Value::Null);
    let c = |k: &str| customer.get(k).cloned().unwrap_or(Value::Null);
    let custom = b
        .get("custom_fields")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let location = custom.get("location").cloned().unwrap_or(Value::Null);
    let custom_fields: Vec<Value> = custom
        .iter()
        .filter(|(k, _)| k.as_str() != "location")
        .map(|(k, v)| json!({"id": k, "value": v}))
        .collect();
    Some(json!({
        "event_type": event_type,
        "ticket_id": custom.get("ticket_id").cloned().unwrap_or(Value::Null),
        "timestamp": crate::api::fmt_ts(ev.created_at),
        "channel": s("source"),
        "source": s("source"),
        "source_id": c("phone"),
        "status": s("status"),
        "subject": Value::Null,
        "customer": {
            "fingerprint": c("id"),
            "name": c("name"),
            "email": c("email"),
            "phone": c("phone"),
        },
        "event": {
            "id": s("id"),
            "calendar_id": ctx
                .external_calendar_id
                .as_deref()
                .map(external_calendar_id)
                .unwrap_or_else(|| s("calendar_id")),
            "calendar_title": ctx.calendar_title,
            "utc_from": s("start"),
            "utc_to": s("end"),
            "location": location,
            "public_key": s("public_key"),
        },
        "messages": [],
        "tags": [],
        "custom_fields": custom_fields,
    }))
}

/// AsisteClick's calendars are numbers: one that reads as a number is sent as one.
fn external_calendar_id(id: &str) -> Value {
    id.parse::<i64>()
        .map(Value::from)
        .unwrap_or_else(|_| Value::from(id))
}

/// Botmaker's v1.1 `message` and `status` notifications for conversation events.
fn botmaker(ev: &EventRecord) -> Option<Value> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(kind: &str, data: Value) -> EventRecord {
        EventRecord {
            id: "evt_01".into(),
            kind: kind.into(),
            data: data.to_string(),
            created_at: 1_900_000_000,
        }
    }

    #[test]
    fn the_standard_envelope_carries_type_timestamp_and_the_stored_data() {
        let b = body(
            Format::Standard,
            &ev("booking.created", json!({"id": "bkg_1"})),
            &Context::default(),
        )
        .unwrap();
        let v: Value = serde_json::from_slice(&b).unwrap();
        assert_eq!(v["type"], "booking.created");
        assert_eq!(v["timestamp"], "2030-03-17T17:46:40Z");
        assert_eq!(v["data"]["id"], "bkg_1");
    }

    #[test]
    fn a_booking_becomes_an_asisteclick_callback_and_other_events_are_skipped() {
        let booking = json!({
            "id": "bkg_1", "status": "confirmed", "calendar_id": "cal_1", "source": "whatsapp",
            "start": "2025-01-15T13:00:00Z", "end": "2025-01-15T13:30:00Z", "public_key": "xy7k9m2p",
            "customer": {"id": "cus_1", "name": "Juan Perez", "phone": "+5491155551234", "email": null},
            "custom_fields": {"obra_social": "OSDE", "location": "Consultorio 3"}
        });
        let ctx = Context {
            calendar_title: Some("Turnos consulta".into()),
            external_calendar_id: Some("5".into()),
        };
        let b = body(
            Format::Asisteclick,
            &ev("booking.canceled", booking.clone()),
            &ctx,
        )
        .unwrap();
        let v: Value = serde_json::from_slice(&b).unwrap();
        assert_eq!(v["event_type"], "event_canceled");
        assert_eq!(v["event"]["utc_from"], "2025-01-15T13:00:00Z");
        assert_eq!(v["event"]["utc_to"], "2025-01-15T13:30:00Z");
        assert_eq!(v["event"]["public_key"], "xy7k9m2p");
        assert_eq!(v["event"]["calendar_title"], "Turnos consulta");
        assert_eq!(
            v["event"]["calendar_id"], 5,
            "as the receiving system names it"
        );
        assert_eq!(v["event"]["location"], "Consultorio 3");
        assert_eq!(v["customer"]["phone"], "+5491155551234");
        assert_eq!(
            v["custom_fields"],
            json!([{"id": "obra_social", "value": "OSDE"}])
        );
        assert!(body(
            Format::Asisteclick,
            &ev("customer.created", json!({})),
            &ctx
        )
        .is_none());
    }

    #[test]
    fn conversation_events_become_botmaker_message_and_status_notifications() {
        let msg = json!({
            "channel": "whatsapp", "contact_id": "5491155551234", "customer_id": "cus_1",
            "customer_name": "Pedro Apellido", "business_number": "551149331774",
            "message": {"id": "msg_1", "text": "Hola", "at": "2030-01-07T12:00:00Z", "from": "user"}
        });
        let v: Value = serde_json::from_slice(
            &body(
                Format::Botmaker,
                &ev("message.received", msg),
                &Context::default(),
            )
            .unwrap(),
        )
        .unwrap();
        assert_eq!(v["v"], "1.1");
        assert_eq!(v["type"], "message");
        assert_eq!(v["chatPlatform"], "whatsapp");
        assert_eq!(v["whatsappNumber"], "551149331774");
        assert_eq!(v["firstName"], "Pedro");
        assert_eq!(v["messages"][0]["_id_"], "msg_1");
        assert_eq!(v["messages"][0]["fromCustomer"], true);
        let status = json!({"channel": "webchat", "contact_id": "v1", "customer_id": "cus_1",
            "message_id": "msg_2", "status": "read", "at": "2030-01-07T12:00:05Z"});
        let v: Value = serde_json::from_slice(
            &body(
                Format::Botmaker,
                &ev("message.status", status),
                &Context::default(),
            )
            .unwrap(),
        )
        .unwrap();
        assert_eq!(v["type"], "status");
        assert_eq!(v["status"], "read");
        assert_eq!(v["messageId"], "msg_2");
        assert_eq!(v["chatIdInChatPlatform"], "v1");
        assert!(body(
            Format::Botmaker,
            &ev("booking.created", json!({})),
            &Context::default()
        )
        .is_none());
    }
}
