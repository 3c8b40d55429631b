//! AsisteClick's callback body for booking events (its turnero protocol, seed 000), and the
//! facts about the calendar it needs that the event does not carry.

use serde_json::{json, Value};
use turnero_core::event;
use turnero_core::ids::{CalendarId, TenantId};

use super::EventRecord;
use crate::agenda::calendars;
use crate::db::Db;

/// Extra facts some formats need that the event does not carry.
#[derive(Debug, Clone, Default)]
pub struct Context {
    pub calendar_title: Option<String>,
    /// How the receiving system names the calendar (its availability API's
    /// `external_calendar_id`); turnero's id otherwise.
    pub external_calendar_id: Option<String>,
}

/// Reads the booking's calendar for its title and the receiving system's name for it.
/// A calendar gone or unreadable leaves both out: the callback still goes.
pub(super) async fn context(db: &Db, tenant: &str, ev: &EventRecord) -> Context {
    let calendar = serde_json::from_str::<Value>(&ev.data)
        .ok()
        .and_then(|d| d.get("calendar_id")?.as_str().map(str::to_string));
    let Some(calendar) = calendar else {
        return Context::default();
    };
    let tenant = TenantId::from_trusted(tenant.to_string());
    match calendars::get(db, &tenant, &CalendarId::from_trusted(calendar)).await {
        Ok(c) => Context {
            calendar_title: Some(c.name),
            external_calendar_id: c.availability_api.map(|a| a.external_calendar_id),
        },
        Err(_) => Context::default(),
    }
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
pub(super) fn body(ev: &EventRecord, ctx: &Context) -> Option<Value> {
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
        "timestamp": turnero_core::time::fmt_ts(ev.created_at),
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
