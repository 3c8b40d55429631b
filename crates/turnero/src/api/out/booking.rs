use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::utc;
use crate::agenda::bookings::{Booking, CustomerSummary};

/// Who is on a booking, as embedded in it (so integrators need no second call).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CustomerSummaryOut {
    pub id: String,
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BookingOut {
    pub id: String,
    /// `held`, `pending`, `confirmed`, `completed`, `no_show`, `canceled` or `expired`.
    pub status: String,
    pub calendar_id: String,
    pub service_id: String,
    pub customer: Option<CustomerSummaryOut>,
    /// UTC, RFC 3339.
    pub start: String,
    pub end: String,
    /// The calendar's local time with its offset, e.g. `2030-03-04T09:00:00-03:00`.
    pub start_local: String,
    pub end_local: String,
    pub timezone: String,
    /// Holds only: when the hold lapses (UTC).
    pub expires_at: Option<String>,
    /// Where it came from: `api`, `chat`, `asisteclick`, `admin`, `demo`…
    pub source: String,
    /// Unguessable key for links sent to the customer.
    pub public_key: String,
    #[schema(value_type = Object)]
    pub custom_fields: Map<String, Value>,
    pub notes: Option<String>,
    pub cancel_reason: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<CustomerSummary> for CustomerSummaryOut {
    fn from(c: CustomerSummary) -> Self {
        Self {
            id: c.id,
            name: c.name,
            phone: c.phone,
            email: c.email,
        }
    }
}

impl From<Booking> for BookingOut {
    fn from(b: Booking) -> Self {
        let local = |t| turnero_core::time::format_local(t, &b.zone);
        Self {
            status: b.status.as_str().to_string(),
            start_local: local(b.start),
            end_local: local(b.end),
            timezone: b.timezone().to_string(),
            start: utc(b.start),
            end: utc(b.end),
            expires_at: b.expires_at.map(utc),
            created_at: utc(b.created_at),
            updated_at: utc(b.updated_at),
            id: b.id,
            calendar_id: b.calendar_id,
            service_id: b.service_id,
            customer: b.customer.map(Into::into),
            source: b.source,
            public_key: b.public_key,
            custom_fields: b.custom_fields,
            notes: b.notes,
            cancel_reason: b.cancel_reason,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_booking_answers_the_same_shape_its_events_carry() {
        let zone = jiff::tz::TimeZone::get("America/Sao_Paulo").unwrap();
        let at = |s: i64| jiff::Timestamp::from_second(s).unwrap();
        let booking = Booking {
            id: "bkg_1".into(),
            status: turnero_core::booking::Status::NoShow,
            calendar_id: "cal_1".into(),
            service_id: "svc_1".into(),
            customer: Some(CustomerSummary {
                id: "cus_1".into(),
                name: "Ana".into(),
                phone: Some("+5511999990000".into()),
                email: None,
            }),
            start: at(1_900_000_000),
            end: at(1_900_001_800),
            zone,
            expires_at: Some(at(1_900_000_600)),
            source: "api".into(),
            public_key: "k".into(),
            custom_fields: Map::new(),
            notes: None,
            cancel_reason: Some("r".into()),
            created_at: at(1_800_000_000),
            updated_at: at(1_800_000_001),
        };
        let published = serde_json::to_string(&booking).unwrap();
        let answered = serde_json::to_string(&BookingOut::from(booking)).unwrap();
        assert_eq!(published, answered);
        assert!(
            answered.contains(r#""start_local":"2030-03-17T14:46:40-03:00""#),
            "{answered}"
        );
    }
}
