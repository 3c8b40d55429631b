//! `GET /calendars/{id}/slots`: free starts for a service, paged around a preferred instant.

use axum::extract::{Path, State};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use turnero_core::capacity::Interval;
use turnero_core::ids::{CalendarId, ServiceId};
use turnero_core::time::write_rfc3339;
use turnero_core::{compute_slots, SlotQuery};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{Auth, Query};
use super::parse::{body_id, instant, path_id, within};
use super::AppState;
use crate::agenda::bookings::MAX_BLOCK_SECONDS;
use crate::agenda::snapshot::{self, SnapshotQuery};
use crate::error::{Error, Result};

/// The longest range one request may ask about.
pub const MAX_RANGE_DAYS: i64 = 93;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_slots))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SlotsQuery {
    pub service_id: String,
    /// RFC 3339; default now.
    pub start: Option<String>,
    /// RFC 3339; default seven days after `start`; at most 93 days after it.
    pub end: Option<String>,
    /// Page size (1–1000); default every slot in the range.
    pub count: Option<i64>,
    /// Page from the first slot at or after this instant.
    pub preferred: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SlotOut {
    /// UTC, RFC 3339.
    #[schema(value_type = String)]
    pub start: Rfc3339,
    #[schema(value_type = String)]
    pub end: Rfc3339,
    /// The calendar's local time with offset.
    #[schema(value_type = String)]
    pub start_local: Rfc3339,
}

/// An instant that serializes as RFC 3339 at a fixed offset without allocating: a week of
/// slots is hundreds of these per response.
#[derive(Debug, Clone, Copy)]
pub struct Rfc3339 {
    secs: i64,
    offset_seconds: i32,
    utc_z: bool,
}

impl Serialize for Rfc3339 {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut buf = StackText::default();
        let ts = Timestamp::from_second(self.secs).unwrap_or_default();
        write_rfc3339(&mut buf, ts, self.offset_seconds, self.utc_z)
            .map_err(serde::ser::Error::custom)?;
        serializer.serialize_str(buf.as_str())
    }
}

/// A small text buffer on the stack (RFC 3339 with offset is 25 bytes).
struct StackText {
    bytes: [u8; 40],
    len: usize,
}

impl Default for StackText {
    fn default() -> Self {
        Self {
            bytes: [0; 40],
            len: 0,
        }
    }
}

impl StackText {
    fn as_str(&self) -> &str {
        // Only whole `&str`s are ever appended.
        std::str::from_utf8(&self.bytes[..self.len]).unwrap_or_default()
    }
}

impl std::fmt::Write for StackText {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        let dest = self.bytes.get_mut(self.len..end).ok_or(std::fmt::Error)?;
        dest.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SlotsOut {
    pub calendar_id: String,
    pub service_id: String,
    pub timezone: String,
    pub slots: Vec<SlotOut>,
    pub has_earlier: bool,
    pub has_later: bool,
}

#[utoipa::path(get, path = "/calendars/{id}/slots", tag = "availability", params(SlotsQuery),
    responses((status = 200, body = SlotsOut), (status = 422, body = crate::error::Problem)))]
async fn list_slots(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Query(q): Query<SlotsQuery>,
) -> Result<axum::Json<SlotsOut>> {
    let cal_id = path_id(&id, "calendar", CalendarId::parse)?;
    let service_id = body_id(&q.service_id, "service_id", ServiceId::parse)?;
    let now = s.clock.now();
    let start = q
        .start
        .as_deref()
        .map(|v| instant(v, "start"))
        .transpose()?
        .unwrap_or(now.as_second());
    let end = q
        .end
        .as_deref()
        .map(|v| instant(v, "end"))
        .transpose()?
        .unwrap_or(start + 7 * 86_400);
    if end <= start {
        return Err(Error::invalid(
            "invalid_range",
            "end",
            "must be after start",
        ));
    }
    if end - start > MAX_RANGE_DAYS * 86_400 {
        return Err(Error::invalid(
            "range_too_large",
            "end",
            format!("at most {MAX_RANGE_DAYS} days after start"),
        ));
    }
    let count = q.count.map(|c| within(c, 1..=1000, "count")).transpose()?;
    let preferred = q
        .preferred
        .as_deref()
        .map(|v| instant(v, "preferred"))
        .transpose()?;

    let snap = snapshot::read_cached(
        &s.db,
        &SnapshotQuery {
            tenant: &auth.tenant,
            calendar: &cal_id,
            service: &service_id,
            rules_window: Interval::new(start, end),
            busy_window: Interval::new(start - MAX_BLOCK_SECONDS, end + MAX_BLOCK_SECONDS),
            max_block: MAX_BLOCK_SECONDS,
            ignore: None,
            now: now.as_second(),
        },
    )
    .await?;
    let (calendar, rules) = (snap.calendar, snap.rules);

    let page = compute_slots(&SlotQuery {
        rules: &rules,
        policy: calendar.policy.to_core(),
        service: snap.timing,
        capacity: calendar.capacity,
        busy: &snap.busy,
        now,
        range: Interval::new(start, end),
        preferred,
        count: count.map(|c| c as usize),
    });
    Ok(axum::Json(SlotsOut {
        slots: page
            .slots
            .iter()
            .map(|sl| SlotOut {
                start: Rfc3339 {
                    secs: sl.start,
                    offset_seconds: 0,
                    utc_z: true,
                },
                end: Rfc3339 {
                    secs: sl.end,
                    offset_seconds: 0,
                    utc_z: true,
                },
                // The slot carries its offset: no zone lookup per slot.
                start_local: Rfc3339 {
                    secs: sl.start,
                    offset_seconds: sl.offset_seconds,
                    utc_z: false,
                },
            })
            .collect(),
        has_earlier: page.has_earlier,
        has_later: page.has_later,
        calendar_id: calendar.id,
        service_id: service_id.into_string(),
        timezone: calendar.timezone,
    }))
}
