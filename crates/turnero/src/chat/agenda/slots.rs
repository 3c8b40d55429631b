//! The bot's slot search: the one the API offers from (`asisteclick::offer`, which asks the
//! calendar's availability API when it has one), over one calendar or every calendar that
//! offers the service.

use turnero_core::capacity::Interval;
use turnero_core::flow::engine::SlotItem;
use turnero_core::flow::Reply;
use turnero_core::ids::{BookingId, CalendarId, ServiceId};

use super::{parse_id, Ctx};
use crate::agenda::calendars::{self, Calendar};
use crate::agenda::services;
use crate::agenda::slots::SlotSearch;
use crate::asisteclick::offer::offer;
use crate::error::Result;

/// How far ahead the bot looks for slots (the calendar's own horizon may stop it sooner).
const SEARCH_DAYS: i64 = 60;

pub(super) async fn service_calendars(cx: &Ctx<'_>, service: &str) -> Result<Vec<Calendar>> {
    let id = parse_id(service, ServiceId::parse)?;
    let svc = services::get(cx.db, cx.tenant, &id).await?;
    let all = calendars::list(cx.db, cx.tenant).await?;
    Ok(all
        .into_iter()
        .filter(|c| svc.calendar_ids.contains(&c.id))
        .collect())
}

/// Free starts of one calendar, or of every calendar offering the service merged by start
/// (the first calendar free at a start takes it), paged after or before an instant.
pub(super) async fn slots(
    cx: &Ctx<'_>,
    service: &str,
    calendar: Option<String>,
    after: Option<i64>,
    before: Option<i64>,
    count: usize,
    booking: Option<String>,
) -> Result<Reply> {
    let service_id = parse_id(service, ServiceId::parse)?;
    let moving = booking
        .as_deref()
        .map(|b| parse_id(b, BookingId::parse))
        .transpose()?;
    let cals = match calendar {
        Some(c) => {
            let id = parse_id(&c, CalendarId::parse)?;
            vec![calendars::get(cx.db, cx.tenant, &id).await?]
        }
        None => service_calendars(cx, service).await?,
    };
    let now = jiff::Timestamp::from_second(cx.now).map_err(anyhow::Error::from)?;
    let window = Interval::new(cx.now, cx.now + SEARCH_DAYS * 86_400);
    let mut all: Vec<SlotItem> = Vec::new();
    for cal in &cals {
        let cal_id = CalendarId::from_trusted(cal.id.clone());
        let search = SlotSearch {
            tenant: cx.tenant,
            calendar: &cal_id,
            service: &service_id,
            range: window,
            moving: moving.as_ref(),
            now,
        };
        let free = offer(cx.db, cx.snapshots, cx.outbound, &search, None, None).await?;
        all.extend(free.page.slots.into_iter().map(|s| SlotItem {
            calendar: cal.id.clone(),
            calendar_name: cal.name.clone(),
            start: s.start,
            offset_seconds: s.offset_seconds,
        }));
    }
    // Stable: at a start several calendars share, the first calendar (by id) keeps it.
    all.sort_by_key(|s| s.start);
    all.dedup_by_key(|s| s.start);
    let (from, to) = match (after, before) {
        (_, Some(b)) => {
            let end = all.partition_point(|s| s.start < b);
            (end.saturating_sub(count), end)
        }
        (Some(a), None) => {
            let begin = all.partition_point(|s| s.start <= a);
            (begin, (begin + count).min(all.len()))
        }
        (None, None) => (0, count.min(all.len())),
    };
    Ok(Reply::Slots {
        has_earlier: from > 0,
        has_later: to < all.len(),
        slots: all[from..to].to_vec(),
    })
}
