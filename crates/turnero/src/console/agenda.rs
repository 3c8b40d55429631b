//! The agenda: a day or a week of bookings per calendar, each in its calendar's time zone,
//! coloured by status, and the actions on a booking (confirm, cancel), which go through the
//! agenda's own functions: a refusal is the agenda's, shown in the staff member's language.
//! A professional sees only their own calendars; another's, even asked for by URL, is "not
//! found".

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Form;
use jiff::civil::Date;
use jiff::ToSpan;
use serde::{Deserialize, Serialize};
use turnero_core::booking::{Action, Status};
use turnero_core::flow::labels;
use turnero_core::ids::BookingId;

use super::auth::Signed;
use super::words::{self, Words};
use super::{problem, render, see_other, Console};
use crate::agenda::bookings::{self, Booking, BookingFilter};
use crate::agenda::calendars::{self, Calendar};
use crate::error::Error;

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

#[derive(Serialize)]
struct Column {
    id: String,
    name: String,
    timezone: String,
    entries: Vec<Entry>,
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
            None => return problem(StatusCode::NOT_FOUND, locale, t.not_found),
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
            Err(_) => return problem(StatusCode::BAD_REQUEST, locale, t.not_found),
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
    let mut days: Vec<Day> = dates
        .iter()
        .map(|d| Day {
            date: d.to_string(),
            label: String::new(),
            columns: Vec::new(),
        })
        .collect();
    for cal in &shown {
        let entries = match day_entries(&c, user, cal, &dates, t).await {
            Ok(e) => e,
            Err(e) => return e.into_response(),
        };
        for (day, (label, list)) in days.iter_mut().zip(entries) {
            day.label = label;
            day.columns.push(Column {
                id: cal.id.clone(),
                name: cal.name.clone(),
                timezone: cal.timezone().to_string(),
                entries: list,
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
            t,
            lang => words::lang(locale),
            user => minijinja::context! { email => user.email, role => user.role.as_str() },
            csrf => session.csrf_token,
            view => if view == View::Week { "week" } else { "day" },
            date => date.to_string(),
            previous => shift(-step),
            next => shift(step),
            calendar => chosen.unwrap_or(""),
            calendars => visible.iter().map(|cal| minijinja::context! { id => cal.id, name => cal.name }).collect::<Vec<_>>(),
            days,
        },
    )
}

/// A calendar's bookings on each of `dates` (local days in its zone), with each day's label.
async fn day_entries(
    c: &Console,
    user: &crate::agenda::staff::StaffUser,
    cal: &Calendar,
    dates: &[Date],
    t: &Words,
) -> crate::error::Result<Vec<(String, Vec<Entry>)>> {
    let bounds = |d: Date| -> crate::error::Result<i64> {
        Ok(d.to_zoned(cal.zone.clone())
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .timestamp()
            .as_second())
    };
    let (Some(first), Some(last)) = (dates.first(), dates.last()) else {
        return Ok(Vec::new());
    };
    let end_day = last
        .checked_add(1.days())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let list = bookings::list(
        &c.db,
        &user.tenant,
        &BookingFilter {
            calendar_id: Some(cal.id.clone()),
            start: Some(bounds(*first)?),
            end: Some(bounds(end_day)?),
            limit: 2000,
            ..Default::default()
        },
    )
    .await?;
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
            .filter(|b| (from..to).contains(&b.start.as_second()))
            .filter(|b| b.status != Status::Expired)
            .map(|b| entry(b, t))
            .collect();
        out.push((label, entries));
    }
    Ok(out)
}

fn entry(b: &Booking, t: &Words) -> Entry {
    let local = |ts: jiff::Timestamp| labels::time(ts.as_second(), b.zone.to_offset(ts).seconds());
    let status = b.status.as_str();
    Entry {
        id: b.id.clone(),
        time: format!("{}–{}", local(b.start), local(b.end)),
        who: b
            .customer
            .as_ref()
            .map(|c| c.name.clone())
            .unwrap_or_default(),
        phone: b.customer.as_ref().and_then(|c| c.phone.clone()),
        status,
        status_label: t.status(status),
        can_confirm: b.status.apply(Action::Confirm).is_ok(),
        can_cancel: b.status != Status::Held && b.status.apply(Action::Cancel).is_ok(),
    }
}

#[derive(Deserialize)]
pub struct ActForm {
    #[serde(default)]
    csrf: String,
    /// The agenda page to go back to.
    back: Option<String>,
}

/// Confirms or cancels a booking of a calendar the staff member sees.
pub async fn act(
    State(c): State<Console>,
    signed: Signed,
    Path((id, action)): Path<(String, String)>,
    Form(f): Form<ActForm>,
) -> Response {
    if let Some(refused) = signed.csrf_refusal(&f.csrf) {
        return refused;
    }
    let user = &signed.0.user;
    let t = words::of(&user.locale);
    let action = match action.as_str() {
        "confirm" => Action::Confirm,
        "cancel" => Action::Cancel,
        _ => return problem(StatusCode::NOT_FOUND, &user.locale, t.not_found),
    };
    let Ok(id) = BookingId::parse(&id) else {
        return problem(StatusCode::NOT_FOUND, &user.locale, t.not_found);
    };
    // Another tenant's booking, or one of a calendar this person does not see: not found.
    match bookings::get(&c.db, &user.tenant, &id).await {
        Ok(b) if user.sees(&b.calendar_id) => {}
        Ok(_) | Err(Error::Problem(_)) => {
            return problem(StatusCode::NOT_FOUND, &user.locale, t.not_found)
        }
        Err(e) => return e.into_response(),
    }
    let done = bookings::confirm_or_close(
        &c.db,
        &user.tenant,
        &id,
        action,
        None,
        "console",
        c.clock.now_secs(),
    )
    .await;
    match done {
        Ok(_) => see_other(
            f.back
                .as_deref()
                .filter(|b| b.starts_with("/console/agenda") && !b.contains("//"))
                .unwrap_or("/console/agenda"),
        ),
        Err(Error::Problem(p)) => {
            let status = StatusCode::from_u16(p.status).unwrap_or(StatusCode::CONFLICT);
            problem(status, &user.locale, &p.detail)
        }
        Err(e) => e.into_response(),
    }
}
