//! Services, customers, a booking's history and external references, and the event feed as
//! the API answers them.

use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::utc;
use crate::agenda::bookings::history::HistoryEntry;
use crate::agenda::bookings::ExternalRecord;
use crate::agenda::customers::Customer;
use crate::agenda::events::Event;
use crate::agenda::services::Service;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ServiceOut {
    pub id: String,
    pub name: String,
    pub duration_minutes: u32,
    pub buffer_before_minutes: u32,
    pub buffer_after_minutes: u32,
    /// Distance between offered start times.
    pub slot_interval_minutes: u32,
    pub calendar_ids: Vec<String>,
    /// Set when it was deleted while holding bookings: kept for them, offered no more, not
    /// listed.
    #[schema(format = DateTime)]
    pub archived_at: Option<String>,
}

impl From<Service> for ServiceOut {
    fn from(s: Service) -> Self {
        Self {
            id: s.id,
            name: s.name,
            duration_minutes: s.duration_minutes,
            buffer_before_minutes: s.buffer_before_minutes,
            buffer_after_minutes: s.buffer_after_minutes,
            slot_interval_minutes: s.slot_interval_minutes,
            calendar_ids: s.calendar_ids,
            archived_at: s.archived_at,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CustomerOut {
    pub id: String,
    pub name: String,
    /// E.164, e.g. `+5491122334455`.
    pub phone: Option<String>,
    pub email: Option<String>,
    /// `YYYY-MM-DD`.
    pub birthdate: Option<String>,
    pub document_id: Option<String>,
    #[schema(value_type = Object)]
    pub custom_fields: Map<String, Value>,
    /// Ids of this person in other systems, by channel or vendor (`whatsapp`, `asisteclick`…).
    #[schema(value_type = Object)]
    pub external_ids: Map<String, Value>,
    pub created_at: String,
    pub updated_at: String,
    /// Set when the person asked to be forgotten (`DELETE /customers/{id}`): every personal
    /// field is empty; their bookings stay, anonymous.
    #[schema(format = DateTime)]
    pub erased_at: Option<String>,
}

impl From<Customer> for CustomerOut {
    fn from(c: Customer) -> Self {
        Self {
            id: c.id,
            name: c.name,
            phone: c.phone,
            email: c.email,
            birthdate: c.birthdate,
            document_id: c.document_id,
            custom_fields: c.custom_fields,
            external_ids: c.external_ids,
            created_at: utc(c.created_at),
            updated_at: utc(c.updated_at),
            erased_at: c.erased_at.map(utc),
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HistoryOut {
    pub at: String,
    /// `held`, `created`, `confirmed`, `rescheduled`, `canceled`, `completed`, `no_show`, `expired`.
    pub action: String,
    pub from_status: Option<String>,
    pub to_status: String,
    pub start: String,
    pub end: String,
    pub source: String,
    pub detail: Option<String>,
}

impl From<HistoryEntry> for HistoryOut {
    fn from(h: HistoryEntry) -> Self {
        Self {
            at: utc(h.at),
            action: h.action,
            from_status: h.from_status.map(|s| s.as_str().to_string()),
            to_status: h.to_status.as_str().to_string(),
            start: utc(h.start),
            end: utc(h.end),
            source: h.source,
            detail: h.detail,
        }
    }
}

/// An outbox event as `GET /events` shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventOut {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// The booking, customer, calendar… the event is about.
    pub subject_id: String,
    pub created_at: String,
    /// The object as the API showed it right after the change.
    #[schema(value_type = Object)]
    pub data: Box<serde_json::value::RawValue>,
}

impl From<Event> for EventOut {
    fn from(e: Event) -> Self {
        Self {
            id: e.id,
            kind: e.kind,
            subject_id: e.subject_id,
            created_at: utc(e.created_at),
            data: e.data,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExternalRefOut {
    /// `asisteclick`.
    pub system: String,
    /// The booking's key there (AsisteClick's event `public_key`).
    pub external_key: String,
    /// What that system last told us: for AsisteClick, the whole callback (ticket, location,
    /// custom fields, the conversation in `messages`).
    #[schema(value_type = Object)]
    pub data: Value,
    pub created_at: String,
    pub updated_at: String,
}

impl From<ExternalRecord> for ExternalRefOut {
    fn from(r: ExternalRecord) -> Self {
        Self {
            system: r.system,
            external_key: r.external_key,
            data: r.data,
            created_at: utc(r.created_at),
            updated_at: utc(r.updated_at),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_customer_answers_the_same_shape_its_events_carry() {
        let at = |s: i64| jiff::Timestamp::from_second(s).unwrap();
        let mut fields = Map::new();
        fields.insert("plan".into(), Value::String("osde".into()));
        let customer = Customer {
            id: "cus_1".into(),
            name: "Ana".into(),
            phone: Some("+5491122334455".into()),
            email: None,
            birthdate: Some("1990-01-02".into()),
            document_id: None,
            custom_fields: fields,
            external_ids: Map::new(),
            created_at: at(1_800_000_000),
            updated_at: at(1_800_000_060),
            erased_at: Some(at(1_800_000_120)),
        };
        let published = serde_json::to_string(&customer).unwrap();
        let answered = serde_json::to_string(&CustomerOut::from(customer)).unwrap();
        assert_eq!(published, answered);
        assert!(
            answered.contains(r#""updated_at":"2027-01-15T08:01:00Z""#),
            "{answered}"
        );
    }
}
