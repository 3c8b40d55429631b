//! The agenda: a day or a week of bookings per calendar, each in its calendar's time zone,
//! coloured by status, with buttons for what may happen next (`booking`), and on a day the
//! free times, each linked to the page that books it. A professional sees only their own
//! calendars; another's, even asked for by URL, is "not found".

use std::fmt::Write;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jiff::civil::Date;
use jiff::ToSpan;
use serde::{Deserialize, Serialize};
use turnero_core::booking::{Action, Status};
use turnero_core::capacity::Interval;
use turnero_core::flow::labels;
use turnero_core::ids::{CalendarId, ServiceId};

use super::auth::Signed;
use super::chart::escape;
use super::words::{self, Words};
use super::{problem, render, who, Console};
use crate::agenda::bookings::{self, AgendaLine};
use crate::agenda::calendars::{self, Calendar};
use crate::agenda::services::{self, Service};
use crate::agenda::slots::{self, SlotSearch};

#[derive(Deserialize)]
pub struct AgendaQuery {
    date: Option<String>,
    view: Option<String>,
    calendar: Option<String>,
}

#[derive(Clone, Copy, PartialEq)]
enum View {
    Day,
    Week,
}

/// One booking as a line of the agenda.
#[derive(Serialize)]
struct Entry {
    id: String,
    time: String,
    who: String,
    phone: Option<String>,
    status: &'static str,
    status_label: &'static str,
    can_confirm: bool,
    can_cancel: bool,
}

/// A free start: a button of the calendar's booking form (`/console/book?calendar&service&
/// start`, a GET, so the booking page stays bookmarkable). A link each, with its calendar and
/// service in the URL, made the day of 16 calendars 133 KB.
#[derive(Serialize)]
struct Free {
    time: String,
    start: String,
}

#[derive(Serialize)]
struct Column {
    id: String,
    name: String,
    timezone: String,
    entries: Vec<Entry>,
    /// Day view only: free starts for the calendar's first service.
    free: Vec<Free>,
    service: Option<String>,
}

/// A calendar's week: its bookings on each day, compactly (a week of 16 calendars holding
/// 800 bookings stays well under 100 KB).
#[derive(Serialize)]
struct Row {
    name: String,
    timezone: String,
    /// Each day's bookings as HTML (see [`week_cell`]).
    cells: Vec<minijinja::Value>,
}

#[derive(Serialize)]
struct Day {
    date: String,
    label: String,
    columns: Vec<Column>,
}

pub async fn show(
    State(c): State<Console>,
    Signed(session): Signed,
    Query(q): Query<AgendaQuery>,
) -> Response {
    let user = &session.user;
    let locale = user.locale.as_str();
    let t = words::of(locale);
    let view = match q.view.as_deref() {
        Some("week") => View::Week,
        _ => View::Day,
    };
    let all = match calendars::list(&c.db, &user.tenant).await {
        Ok(all) => all,
        Err(e) => return e.into_response(),
    };
    let visible: Vec<&Calendar> = all.iter().filter(|cal| user.sees(&cal.id)).collect();
    let chosen = q.calendar.as_deref().filter(|id| !id.is_empty());
    let shown: Vec<&Calendar> = match chosen {
        Some(id) => match visible.iter().find(|cal| cal.id == id) {
            Some(cal) => vec![*cal],
            None => return problem(StatusCode::NOT_FOUND, locale, t.get("not_found")),
        },
        None => visible.clone(),
    };
    let now = c.clock.now();
    let zone = shown
        .first()
        .map(|cal| cal.zone.clone())
        .unwrap_or(jiff::tz::TimeZone::UTC);
    let date = match q.date.as_deref().filter(|d| !d.is_empty()) {
        Some(raw) => match raw.parse::<Date>() {
            Ok(d) => d,
            Err(_) => return problem(StatusCode::BAD_REQUEST, locale, t.get("not_found")),
        },
        None => now.to_zoned(zone).date(),
    };
    let first = match view {
        View::Day => date,
        // Weeks start on Monday, as the weekly hours do.
        View::Week => date
            .checked_sub((date.weekday().to_monday_zero_offset() as i64).days())
            .unwrap_or(date),
    };
    let count = if view == View::Week { 7 } else { 1 };
    let dates: Vec<Date> = (0..count)
        .filter_map(|i| first.checked_add((i as i64).days()).ok())
        .collect();
    let services = match services::list(&c.db, &user.tenant).await {
        Ok(all) => all,
        Err(e) => return e.into_response(),
    };
    let mut days: Vec<Day> = dates
        .iter()
        .map(|d| Day {
            date: d.to_string(),
            label: String::new(),
            columns: Vec::new(),
        })
        .collect();
    // Every shown calendar's bookings in one read, from the earliest local midnight to the
    // latest (calendars may be in different zones); each is placed by its own local days.
    let booked = match shown_bookings(&c, user, &shown, &dates).await {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    // The week, a table of calendars by days (for reading: acting is on a day).
    let mut rows: Vec<Row> = Vec::new();
    for cal in &shown {
        // The week is for reading; free times are offered on a day.
        let service = services
            .iter()
            .find(|s| s.calendar_ids.contains(&cal.id))
            .filter(|_| view == View::Day);
        let entries = match day_entries(&c, user, cal, service, &dates, &booked, t).await {
            Ok(e) => e,
            Err(e) => return e.into_response(),
        };
        let mut cells = Vec::new();
        for (day, (label, list, free)) in days.iter_mut().zip(entries) {
            day.label = label;
            if view == View::Week {
                cells.push(week_cell(&list));
                continue;
            }
            day.columns.push(Column {
                id: cal.id.clone(),
                name: cal.name.clone(),
                timezone: cal.timezone().to_string(),
                entries: list,
                free,
                service: service.map(|s| s.id.clone()),
            });
        }
        if view == View::Week {
            rows.push(Row {
                name: cal.name.clone(),
                timezone: cal.timezone().to_string(),
                cells,
            });
        }
    }
    if shown.is_empty() {
        for (day, d) in days.iter_mut().zip(&dates) {
            day.label = d.to_string();
        }
    }
    let step = if view == View::Week { 7 } else { 1 };
    let shift = |n: i64| {
        date.checked_add(n.days())
            .map(|d| d.to_string())
            .unwrap_or_default()
    };
    render(
        StatusCode::OK,
        "agenda.html",
        minijinja::context! {
            t => t.value(),
            lang => words::lang(locale),
            user => who(user),
            csrf => session.csrf_token,
            view => if view == View::Week { "week" } else { "day" },
            date => date.to_string(),
            previous => shift(-step),
            next => shift(step),
            calendar => chosen.unwrap_or(""),
            calendars => visible.iter().map(|cal| minijinja::context! { id => cal.id, name => cal.name }).collect::<Vec<_>>(),
            days,
            rows,
        },
    )
}

/// A calendar's bookings on each of `dates` (local days in its zone), with each day's label
/// and, given a service, its free starts.
async fn day_entries(
    c: &Console,
    user: &crate::agenda::staff::StaffUser,
    cal: &Calendar,
    service: Option<&Service>,
    dates: &[Date],
    booked: &[AgendaLine],
    t: Words,
) -> crate::error::Result<Vec<(String, Vec<Entry>, Vec<Free>)>> {
    let bounds = |d: Date| local_midnight(d, cal);
    let list: Vec<&AgendaLine> = booked.iter().filter(|b| b.calendar_id == cal.id).collect();
    let mut out = Vec::new();
    for d in dates {
        let (from, to) = (
            bounds(*d)?,
            bounds(
                d.checked_add(1.days())
                    .map_err(|e| anyhow::anyhow!("{e}"))?,
            )?,
        );
        let offset = cal
            .zone
            .to_offset(jiff::Timestamp::from_second(from).unwrap_or_default())
            .seconds();
        let label = labels::day(&user.locale, from, offset);
        let entries = list
            .iter()
            .filter(|b| (from..to).contains(&b.start))
            .map(|b| entry(b, &cal.zone, t))
            .collect();
        let free = match service {
            Some(svc) => free_times(c, user, cal, svc, Interval::new(from, to)).await?,
            None => Vec::new(),
        };
        out.push((label, entries, free));
    }
    Ok(out)
}

/// The UTC instant a local day starts at in the calendar's zone.
pub(super) fn local_midnight(d: Date, cal: &Calendar) -> crate::error::Result<i64> {
    Ok(d.to_zoned(cal.zone.clone())
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .timestamp()
        .as_second())
}

/// The bookings of the shown calendars that may fall on `dates` in their zones.
async fn shown_bookings(
    c: &Console,
    user: &crate::agenda::staff::StaffUser,
    shown: &[&Calendar],
    dates: &[Date],
) -> crate::error::Result<Vec<AgendaLine>> {
    let (Some(first), Some(last)) = (dates.first(), dates.last()) else {
        return Ok(Vec::new());
    };
    let after = last
        .checked_add(1.days())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let (mut from, mut to) = (i64::MAX, i64::MIN);
    for cal in shown {
        from = from.min(local_midnight(*first, cal)?);
        to = to.max(local_midnight(after, cal)?);
    }
    if shown.is_empty() {
        return Ok(Vec::new());
    }
    // One calendar: read only its own; several: the tenant's, kept to those shown.
    let only = (shown.len() == 1).then(|| shown[0].id.as_str());
    let all = bookings::agenda_lines(&c.db, &user.tenant, only, from, to, 20_000).await?;
    Ok(all
        .into_iter()
        .filter(|b| shown.iter().any(|cal| cal.id == b.calendar_id))
        .collect())
}

/// Free starts in `range`, as the booking form's buttons.
async fn free_times(
    c: &Console,
    user: &crate::agenda::staff::StaffUser,
    cal: &Calendar,
    svc: &Service,
    range: Interval,
) -> crate::error::Result<Vec<Free>> {
    Ok(free_starts(c, &user.tenant, cal, svc, range, None)
        .await?
        .into_iter()
        .map(|(start, time)| Free {
            time,
            start: turnero_core::time::fmt_ts(start),
        })
        .collect())
}

/// Free starts in `range` (Unix seconds, with the local time as staff read it) through the
/// agenda's one slot search, the API's and the bot's. `moving`: a booking whose own room
/// counts as free.
pub(super) async fn free_starts(
    c: &Console,
    tenant: &turnero_core::ids::TenantId,
    cal: &Calendar,
    svc: &Service,
    range: Interval,
    moving: Option<&turnero_core::ids::BookingId>,
) -> crate::error::Result<Vec<(i64, String)>> {
    let (calendar, service) = (
        CalendarId::from_trusted(cal.id.clone()),
        ServiceId::from_trusted(svc.id.clone()),
    );
    let now = c.clock.now();
    let search = SlotSearch {
        tenant,
        calendar: &calendar,
        service: &service,
        range,
        moving,
        now,
    };
    let snap = slots::inputs(&c.db, &c.snapshots, &search).await?;
    Ok(snap
        .free(now, range, None, None)
        .slots
        .iter()
        .map(|s| (s.start, labels::time(s.start, s.offset_seconds)))
        .collect())
}

/// A week cell's bookings as HTML, written directly rather than through the template: 800
/// bookings as template values cost more than the rest of the page (BENCHMARKS.md).
fn week_cell(entries: &[Entry]) -> minijinja::Value {
    let mut html = String::with_capacity(entries.len() * 90 + 9);
    if !entries.is_empty() {
        html.push_str("<ul>");
        for b in entries {
            let _ = write!(
                html,
                "<li class=\"{}\">{} {}<span class=\"sr\"> ({})</span></li>",
                b.status,
                b.time.get(..5).unwrap_or(&b.time),
                escape(&b.who),
                escape(b.status_label)
            );
        }
        html.push_str("</ul>");
    }
    minijinja::Value::from_safe_string(html)
}

fn entry(b: &AgendaLine, zone: &jiff::tz::TimeZone, t: Words) -> Entry {
    let local = |secs: i64| {
        let offset = jiff::Timestamp::from_second(secs)
            .map(|ts| zone.to_offset(ts).seconds())
            .unwrap_or(0);
        labels::time(secs, offset)
    };
    let status = b.status.as_str();
    Entry {
        id: b.id.clone(),
        time: format!("{}–{}", local(b.start), local(b.end)),
        who: b.customer_name.clone().unwrap_or_default(),
        phone: b.customer_phone.clone(),
        status,
        status_label: t.status(status),
        can_confirm: b.status.apply(Action::Confirm).is_ok(),
        can_cancel: b.status != Status::Held && b.status.apply(Action::Cancel).is_ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_week_cell_writes_each_booking_with_the_patients_name_escaped() {
        let line = |who: &str, status: &'static str| Entry {
            id: "bkg_x".into(),
            time: "09:00–09:30".into(),
            who: who.into(),
            phone: None,
            status,
            status_label: "pendiente",
            can_confirm: true,
            can_cancel: true,
        };
        let cell = week_cell(&[line("Ana <b>& Co</b>", "pending"), line("Luis", "canceled")]);
        assert_eq!(
            cell.as_str().unwrap(),
            "<ul><li class=\"pending\">09:00 Ana &lt;b&gt;&amp; Co&lt;/b&gt;<span class=\"sr\"> \
             (pendiente)</span></li><li class=\"canceled\">09:00 Luis<span class=\"sr\"> \
             (pendiente)</span></li></ul>"
        );
        assert_eq!(week_cell(&[]).as_str().unwrap(), "");
    }
}
