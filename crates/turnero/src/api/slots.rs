//! `GET /calendars/{id}/slots`: free starts for a service, paged around a preferred instant.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use turnero_core::capacity::Interval;
use turnero_core::ids::{CalendarId, ServiceId};
use turnero_core::time::rfc3339_bytes;
use turnero_core::SlotPage;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{Auth, Query};
use super::parse::{body_id, instant, path_id, within};
use super::AppState;
use crate::agenda::slots::SlotSearch;
use crate::asisteclick::offer::{offer, Availability, Offer};
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
    #[param(format = DateTime)]
    pub start: Option<String>,
    /// RFC 3339; default seven days after `start`; at most 93 days after it.
    #[param(format = DateTime)]
    pub end: Option<String>,
    /// Page size (1–1000); default every slot in the range.
    #[param(minimum = 1, maximum = 1000)]
    pub count: Option<i64>,
    /// Page from the first slot at or after this instant.
    #[param(format = DateTime)]
    pub preferred: Option<String>,
}

/// One free start (the response is written by `slots_json`; this documents its shape).
#[derive(Debug, Serialize, ToSchema)]
pub struct SlotOut {
    /// UTC, RFC 3339.
    pub start: String,
    pub end: String,
    /// The calendar's local time with offset.
    pub start_local: String,
}

/// Writes the `SlotsOut` document by hand: a week of slots is hundreds of instants, and
/// serde's per-string escaping and allocation were most of this endpoint's cost. The
/// instants are ASCII digits and punctuation, so they need no escaping; the ids and the zone
/// still go through serde_json. `slots_json_matches_serde` keeps the two in step.
fn slots_json(
    calendar_id: &str,
    service_id: &str,
    timezone: &str,
    page: &SlotPage,
    availability: Availability,
) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(256 + page.slots.len() * 100);
    out.extend_from_slice(b"{\"calendar_id\":");
    serde_json::to_writer(&mut out, calendar_id)?;
    out.extend_from_slice(b",\"service_id\":");
    serde_json::to_writer(&mut out, service_id)?;
    out.extend_from_slice(b",\"timezone\":");
    serde_json::to_writer(&mut out, timezone)?;
    out.extend_from_slice(b",\"slots\":[");
    for (i, slot) in page.slots.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let instant = |secs, offset, utc_z| {
            let (bytes, len) = rfc3339_bytes(
                Timestamp::from_second(secs).unwrap_or_default(),
                offset,
                utc_z,
            );
            (bytes, len)
        };
        let (start, sl) = instant(slot.start, 0, true);
        let (end, el) = instant(slot.end, 0, true);
        let (local, ll) = instant(slot.start, slot.offset_seconds, false);
        out.extend_from_slice(b"{\"start\":\"");
        out.extend_from_slice(&start[..sl]);
        out.extend_from_slice(b"\",\"end\":\"");
        out.extend_from_slice(&end[..el]);
        out.extend_from_slice(b"\",\"start_local\":\"");
        out.extend_from_slice(&local[..ll]);
        out.extend_from_slice(b"\"}");
    }
    out.extend_from_slice(b"],\"has_earlier\":");
    out.extend_from_slice(if page.has_earlier { b"true" } else { b"false" });
    out.extend_from_slice(b",\"has_later\":");
    out.extend_from_slice(if page.has_later { b"true" } else { b"false" });
    out.extend_from_slice(b",\"availability\":\"");
    out.extend_from_slice(availability.as_str().as_bytes());
    out.extend_from_slice(b"\"}");
    Ok(out)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SlotsOut {
    pub calendar_id: String,
    pub service_id: String,
    pub timezone: String,
    pub slots: Vec<SlotOut>,
    pub has_earlier: bool,
    pub has_later: bool,
    /// Who decided: `turnero`, `external` (the calendar's availability API), or `fallback`
    /// (that API failed or was too slow, so turnero's own slots are shown; see
    /// `GET /calendars/{id}/availability-api`).
    pub availability: AvailabilityOut,
}

/// `availability` on the wire (the one slot search's [`Availability`]).
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AvailabilityOut {
    Turnero,
    External,
    Fallback,
}

impl From<Availability> for AvailabilityOut {
    fn from(a: Availability) -> Self {
        match a {
            Availability::Turnero => Self::Turnero,
            Availability::External => Self::External,
            Availability::Fallback => Self::Fallback,
        }
    }
}

#[utoipa::path(get, path = "/calendars/{id}/slots", tag = "availability", params(SlotsQuery),
    responses((status = 200, body = SlotsOut), (status = 422, body = crate::error::Problem)))]
async fn list_slots(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Query(q): Query<SlotsQuery>,
) -> Result<Response> {
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

    let search = SlotSearch {
        tenant: &auth.tenant,
        calendar: &cal_id,
        service: &service_id,
        range: Interval::new(start, end),
        moving: None,
        now,
    };
    let count = count.map(|c| c as usize);
    let Offer {
        calendar,
        page,
        availability,
    } = offer(
        &s.db,
        &s.snapshots,
        &s.hub.outbound,
        &search,
        preferred,
        count,
    )
    .await?;
    let body = slots_json(
        &calendar.id,
        service_id.as_str(),
        calendar.timezone(),
        &page,
        availability,
    )?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

#[cfg(test)]
mod tests {
    use turnero_core::time::format_with_offset;
    use turnero_core::Slot;

    use super::*;

    #[test]
    fn slots_json_matches_serde() {
        let page = SlotPage {
            slots: vec![
                Slot {
                    start: 1_894_021_200,
                    end: 1_894_023_000,
                    offset_seconds: -10_800,
                },
                Slot {
                    start: 1_894_023_000,
                    end: 1_894_024_800,
                    offset_seconds: 19_800,
                },
            ],
            has_earlier: true,
            has_later: false,
        };
        let by_hand: serde_json::Value = serde_json::from_slice(
            &slots_json(
                "cal_\"x",
                "svc_1",
                "America/Sao_Paulo",
                &page,
                Availability::Fallback,
            )
            .unwrap(),
        )
        .unwrap();
        let out = SlotsOut {
            calendar_id: "cal_\"x".into(),
            service_id: "svc_1".into(),
            timezone: "America/Sao_Paulo".into(),
            slots: page
                .slots
                .iter()
                .map(|s| {
                    let at = |secs| Timestamp::from_second(secs).unwrap();
                    SlotOut {
                        start: format_with_offset(at(s.start), 0, true),
                        end: format_with_offset(at(s.end), 0, true),
                        start_local: format_with_offset(at(s.start), s.offset_seconds, false),
                    }
                })
                .collect(),
            has_earlier: true,
            has_later: false,
            availability: Availability::Fallback.into(),
        };
        assert_eq!(by_hand, serde_json::to_value(&out).unwrap());
        assert_eq!(
            by_hand["slots"][1]["start_local"],
            "2030-01-07T19:00:00+05:30"
        );
    }
}
