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
