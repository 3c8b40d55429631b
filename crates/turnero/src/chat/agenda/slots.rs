//! The bot's slot search: the one the API offers from (`asisteclick::offer`, which asks the
//! calendar's availability API when it has one), over one calendar or every calendar that
//! offers the service.

use turnero_core::capacity::Interval;
use turnero_core::flow::engine::{Item, SlotItem};
use turnero_core::flow::labels;
use turnero_core::flow::Reply;
use turnero_core::ids::{BookingId, CalendarId, ServiceId};
use turnero_core::wish::Wish;

use super::{item, parse_id, Ctx};
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

/// What the flow asked for (`Request::Slots`).
pub(super) struct Asked {
    pub service: String,
    pub calendar: Option<String>,
    pub after: Option<i64>,
    pub before: Option<i64>,
    pub count: usize,
    pub booking: Option<String>,
    pub wish: Option<Wish>,
}

/// Free starts of one calendar, or of every calendar offering the service merged by start
/// (the first calendar free at a start takes it), paged after or before an instant, or
/// nearest to when the person asked.
pub(super) async fn slots(cx: &Ctx<'_>, asked: Asked) -> Result<Reply> {
    let all = free_slots(cx, &asked.service, asked.calendar, asked.booking).await?;
    let (after, before, count) = (asked.after, asked.before, asked.count);
    let wish = asked.wish;
    if let Some(wish) = wish {
        return Ok(nearest(all, &wish, cx.now, count));
    }
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
    Ok(page(&all, from, to, false))
}

/// Every free start within the search's reach, merged across calendars.
async fn free_slots(
    cx: &Ctx<'_>,
    service: &str,
    calendar: Option<String>,
    booking: Option<String>,
) -> Result<Vec<SlotItem>> {
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
    Ok(all)
}

/// How many days "another day" lists (WhatsApp's ten rows).
const DAYS_LISTED: usize = 10;

/// The next days with a free slot, for "another day": `day:YYYY-MM-DD`, titled as a slot
/// list titles its days.
pub(super) async fn days(
    cx: &Ctx<'_>,
    service: &str,
    calendar: Option<String>,
    booking: Option<String>,
) -> Result<Reply> {
    let all = free_slots(cx, service, calendar, booking).await?;
    let mut items: Vec<Item> = Vec::new();
    for s in &all {
        let Some(date) = local(s).map(|dt| dt.date()) else {
            continue;
        };
        let id = format!("day:{date}");
        if items.last().is_some_and(|i| i.id == id) {
            continue;
        }
        if items.len() == DAYS_LISTED {
            break;
        }
        let title = labels::day(cx.language, s.start, s.offset_seconds);
        items.push(item(id, title, None, Default::default()));
    }
    Ok(Reply::Items(items))
}

fn page(all: &[SlotItem], from: usize, to: usize, missed: bool) -> Reply {
    Reply::Slots {
        has_earlier: from > 0,
        has_later: to < all.len(),
        slots: all[from..to].to_vec(),
        missed,
    }
}

/// The slot's local day and time, in its calendar's offset.
fn local(s: &SlotItem) -> Option<jiff::civil::DateTime> {
    let offset = jiff::tz::Offset::from_seconds(s.offset_seconds).ok()?;
    let at = jiff::Timestamp::from_second(s.start).ok()?;
    Some(offset.to_datetime(at))
}

/// The page nearest to when the person asked: the first free slots inside the wished days
/// and hours (around the hour they named, if any); if none is free there, the first ones
/// after it, said as missed.
fn nearest(all: Vec<SlotItem>, wish: &Wish, now: i64, count: usize) -> Reply {
    let Some(first) = all.first() else {
        return page(&all, 0, 0, false);
    };
    // Today where the calendars are (the first slot's offset stands for them).
    let today = jiff::tz::Offset::from_seconds(first.offset_seconds)
        .ok()
        .zip(jiff::Timestamp::from_second(now).ok())
        .map(|(o, t)| o.to_datetime(t).date())
        .unwrap_or_default();
    let w = wish.window(today);
    let inside: Vec<usize> = (0..all.len())
        .filter(|&i| {
            local(&all[i]).is_some_and(|dt| {
                (w.first..=w.last).contains(&dt.date()) && (w.from..w.until).contains(&dt.time())
            })
        })
        .collect();
    let Some(&first_inside) = inside.first() else {
        // Nothing free then: from the first slot after the wished window's start.
        let start = w.first.to_datetime(w.from);
        let from = all.partition_point(|s| local(s).is_some_and(|dt| dt < start));
        let from = from.min(all.len().saturating_sub(count));
        return page(&all, from, (from + count).min(all.len()), true);
    };
    let Some(near) = w.near else {
        return page(
            &all,
            first_inside,
            (first_inside + count).min(all.len()),
            false,
        );
    };
    // Around the named hour on the first wished day that has room: the closest `count`,
    // shown in order (a run of consecutive slots, so earlier / later still page).
    let day = local(&all[first_inside]).map(|dt| dt.date());
    let same_day: Vec<usize> = inside
        .into_iter()
        .filter(|&i| local(&all[i]).map(|dt| dt.date()) == day)
        .collect();
    let of_day = |t: jiff::civil::Time| i64::from(t.hour()) * 3600 + i64::from(t.minute()) * 60;
    let distance = |i: usize| {
        local(&all[i])
            .map(|dt| (of_day(dt.time()) - of_day(near)).abs())
            .unwrap_or(i64::MAX)
    };
    let closest = same_day
        .iter()
        .copied()
        .min_by_key(|&i| distance(i))
        .unwrap_or(first_inside);
    let from = closest.saturating_sub(count / 4).max(same_day[0]);
    let to = (from + count).min(all.len());
    page(&all, from, to, false)
}
