use serde::Serialize;
use utoipa::ToSchema;

use super::utc;
use crate::agenda::calendars::{
    canonical_weekly, Calendar, HoursRange, Override, PolicyDto, TimeOff, WeeklyRange,
};

/// A calendar as the API answers it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CalendarOut {
    pub id: String,
    pub name: String,
    /// `professional`, `room` or `resource`.
    pub kind: String,
    /// IANA zone, e.g. `America/Argentina/Buenos_Aires`.
    pub timezone: String,
    pub location: Option<String>,
    /// How many bookings may overlap at once.
    pub capacity: u32,
    pub weekly_hours: Vec<WeeklyRange>,
    pub policy: PolicyDto,
    /// Set when it was deleted while holding bookings: kept for them, offered no more, not
    /// listed.
    #[schema(format = DateTime)]
    pub archived_at: Option<String>,
}

impl From<Calendar> for CalendarOut {
    fn from(c: Calendar) -> Self {
        Self {
            timezone: c.timezone().to_string(),
            id: c.id,
            name: c.name,
            kind: c.kind,
            weekly_hours: canonical_weekly(&c.weekly),
            policy: c.policy.into(),
            location: c.location,
            capacity: c.capacity,
            archived_at: c.archived_at.map(utc),
        }
    }
}

/// A date override: `closed` with no hours, or the hours that replace the weekly ones.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OverrideOut {
    /// Local date, `YYYY-MM-DD`.
    pub date: String,
    pub closed: bool,
    pub hours: Vec<HoursRange>,
}

impl From<Override> for OverrideOut {
    fn from(o: Override) -> Self {
        Self {
            date: o.date,
            closed: o.closed,
            hours: o.hours,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TimeOffOut {
    pub id: String,
    pub calendar_id: String,
    /// UTC, RFC 3339.
    pub start: String,
    pub end: String,
    pub reason: Option<String>,
}

impl From<TimeOff> for TimeOffOut {
    fn from(t: TimeOff) -> Self {
        Self {
            id: t.id,
            calendar_id: t.calendar_id,
            start: utc(t.start),
            end: utc(t.end),
            reason: t.reason,
        }
    }
}

#[cfg(test)]
mod tests {
    use turnero_core::schedule::Policy;
    use turnero_core::time::{DayRange, TimeOfDay};

    use super::*;

    #[test]
    fn a_calendar_answers_the_same_shape_its_events_carry() {
        let at = |h| TimeOfDay::parse(h).unwrap();
        let mut weekly: [Vec<DayRange>; 7] = Default::default();
        weekly[0] = vec![DayRange::new(at("09:00"), at("13:00")).unwrap()];
        weekly[5] = vec![DayRange::new(at("10:00"), at("24:00")).unwrap()];
        let calendar = Calendar {
            id: "cal_1".into(),
            name: "Dra. Ana Pérez".into(),
            kind: "professional".into(),
            zone: jiff::tz::TimeZone::get("America/Argentina/Buenos_Aires").unwrap(),
            location: None,
            capacity: 2,
            weekly,
            policy: Policy {
                min_notice_minutes: 60,
                ..Policy::default()
            },
            availability_api: Some(crate::agenda::calendars::AvailabilityApi {
                url: "https://agenda.example/slots?key=secret".into(),
                external_calendar_id: "5".into(),
                timeout_ms: 3000,
                webhook_id: None,
            }),
            archived_at: Some(jiff::Timestamp::from_second(1_800_000_000).unwrap()),
        };
        let published = serde_json::to_string(&calendar).unwrap();
        let answered = serde_json::to_string(&CalendarOut::from(calendar)).unwrap();
        assert_eq!(published, answered);
        assert!(
            !published.contains("secret"),
            "the availability API stays out"
        );
        assert!(
            answered.contains(r#"{"weekday":"sat","start":"10:00","end":"24:00"}"#),
            "{answered}"
        );
        assert!(
            answered.contains(r#""min_notice_minutes":60"#),
            "{answered}"
        );
    }
}
