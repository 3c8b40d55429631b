//! The bodies an endpoint receives, per its format. `None` means the format has no shape for
//! that event type; the delivery is then marked `skipped` (nothing to send, nothing lost).
//!
//! Conversation events carry this `data` (what the chat emits), from which the Botmaker
//! shapes are built: `channel`, `contact_id` (phone or platform user id), `customer_id`,
//! `customer_name`, `business_number`, `session_started_at`, and for messages
//! `message: {id, text, at, from: user|bot|operator, is_button}`; for statuses `message_id`,
//! `status`, `at`; for variable changes `variables: {name: value}`.

use super::store::{Endpoint, Format};
use crate::db::Db;

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

mod asisteclick;
mod botmaker;

pub use asisteclick::{asisteclick_event_type, Context};

/// Facts the endpoint's format needs beyond the event (only AsisteClick's, for now).
pub async fn context_for(db: &Db, ep: &Endpoint, ev: &EventRecord) -> Context {
    match ep.format {
        Format::Asisteclick => asisteclick::context(db, &ep.tenant_id, ev).await,
        Format::Standard | Format::Botmaker => Context::default(),
    }
}

pub fn body(format: Format, ev: &EventRecord, ctx: &Context) -> Option<Vec<u8>> {
    match format {
        Format::Standard => Some(standard(ev)),
        Format::Asisteclick => asisteclick::body(ev, ctx).map(|v| v.to_string().into_bytes()),
        Format::Botmaker => botmaker::body(ev).map(|v| v.to_string().into_bytes()),
    }
}

/// `{"type", "timestamp", "data"}`, with `data` copied byte for byte from the outbox.
fn standard(ev: &EventRecord) -> Vec<u8> {
    let ts = turnero_core::time::fmt_ts(ev.created_at);
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

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

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
