//! A calendar's hours and their exceptions: the weekly hours, date overrides (closed, or
//! other hours on one local date) and time off (from a local date and time to another).
//! Each change is the agenda's own (`calendars::replace`, `put_override`, `add_time_off`, …,
//! the API's),
//! which checks the ranges and records `calendar.updated`. Whoever sees the calendar's agenda
//! may change them (a professional, their own).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Form;
use jiff::civil::{Date, Time};
use serde::{Deserialize, Serialize};
use turnero_core::capacity::Interval;
use turnero_core::flow::labels;
use turnero_core::ids::{CalendarId, TimeOffId};
use turnero_core::time::WEEKDAYS;

use super::auth::Signed;
use super::words;
use super::{problem, refused, render, see_other, who, Console};
use crate::agenda::calendars::{self, Calendar};
use crate::agenda::staff::Session;
use crate::error::{Error, Result};

/// The agenda's refusals of hours, in the staff member's words.
const HOURS_PHRASES: &[(&str, &str)] = &[
    ("overlapping_hours", "hours_overlap"),
    ("invalid_range", "range_backwards"),
    ("invalid_time", "hours_unreadable"),
    ("invalid_override", "hours_unreadable"),
    ("invalid_date", "hours_unreadable"),
];

#[derive(Serialize)]
struct Away {
    id: String,
    from: String,
    until: String,
    reason: Option<String>,
}

/// The calendar, if this person sees it.
async fn visible(c: &Console, session: &Session, id: &str) -> Result<Option<Calendar>> {
    let Ok(id) = CalendarId::parse(id) else {
        return Ok(None);
    };
    if !session.user.sees(id.as_str()) {
        return Ok(None);
    }
    match calendars::get(&c.db, &session.user.tenant, &id).await {
        Ok(cal) => Ok(Some(cal)),
        Err(Error::Problem(p)) if p.status == 404 => Ok(None),
        Err(e) => Err(e),
    }
}

pub async fn page(
    State(c): State<Console>,
    Signed(session): Signed,
    Path(id): Path<String>,
) -> Response {
    let user = &session.user;
    let t = words::of(&user.locale);
    let cal = match visible(&c, &session, &id).await {
        Ok(Some(cal)) => cal,
        Ok(None) => return problem(StatusCode::NOT_FOUND, &user.locale, t.get("not_found")),
        Err(e) => return e.into_response(),
    };
    let cal_id = CalendarId::from_trusted(cal.id.clone());
    let (overrides, time_off) = match (
        calendars::list_overrides(&c.db, &user.tenant, &cal_id).await,
        calendars::list_time_off(&c.db, &user.tenant, &cal_id).await,
    ) {
        (Ok(o), Ok(t)) => (o, t),
        (Err(e), _) | (_, Err(e)) => return e.into_response(),
    };
    let local = |ts: jiff::Timestamp| {
        labels::when(
            &user.locale,
            ts.as_second(),
            cal.zone.to_offset(ts).seconds(),
        )
    };
    let now = c.clock.now();
    let away: Vec<Away> = time_off
        .iter()
        .filter(|a| a.end > now)
        .map(|a| Away {
            id: a.id.clone(),
            from: local(a.start),
            until: local(a.end),
            reason: a.reason.clone(),
        })
        .collect();
    // One field per weekday, its ranges as staff type them: `09:00-13:00 14:00-18:00`.
    let weekly: Vec<_> = WEEKDAYS
        .iter()
        .zip(&cal.weekly)
        .map(|(day, ranges)| {
            let typed: Vec<String> = ranges.iter().map(|r| format!("{}-{}", r.start, r.end)).collect();
            minijinja::context! { key => day, label => t.get(weekday_key(day)), hours => typed.join(" ") }
        })
        .collect();
    render(
        StatusCode::OK,
        "calendar.html",
        minijinja::context! {
            t => t.value(), lang => words::lang(&user.locale), user => who(user),
            csrf => session.csrf_token,
            calendar => minijinja::context! { id => cal.id, name => cal.name, timezone => cal.timezone() },
            weekly, overrides, away,
        },
    )
}

fn weekday_key(day: &str) -> &'static str {
    match day {
        "mon" => "monday",
        "tue" => "tuesday",
        "wed" => "wednesday",
        "thu" => "thursday",
        "fri" => "friday",
        "sat" => "saturday",
        _ => "sunday",
    }
}

/// The weekly hours form: one field per weekday (`mon` … `sun`).
#[derive(Deserialize)]
pub struct WeeklyForm {
    #[serde(default)]
    csrf: String,
    #[serde(flatten)]
    days: std::collections::HashMap<String, String>,
}

/// Replaces the weekly hours, keeping the rest of the calendar as it is
/// (`calendars::replace`, the API's PUT, which checks every range and records
/// `calendar.updated`).
pub async fn put_weekly(
    State(c): State<Console>,
    signed: Signed,
    Path(id): Path<String>,
    Form(f): Form<WeeklyForm>,
) -> Response {
    if let Some(refused) = signed.csrf_refusal(&f.csrf) {
        return refused;
    }
    let db = c.db.clone();
    changed(&c, &signed.0, &id, |cal, now| async move {
        let mut ranges = Vec::new();
        for day in WEEKDAYS {
            // An empty field: closed that weekday. One that does not read is refused.
            let typed = f.days.get(day).map_or("", |d| d.trim());
            if typed.is_empty() {
                continue;
            }
            for r in hour_ranges(typed)? {
                ranges.push(calendars::WeeklyRange {
                    weekday: day.to_string(),
                    start: r.start.to_string(),
                    end: r.end.to_string(),
                });
            }
        }
        let weekly = calendars::parse_weekly(&ranges)?;
        let now_cal = calendars::get(&db, &cal.0, &cal.1).await?;
        let def = calendars::CalendarDef {
            name: now_cal.name,
            kind: now_cal.kind,
            zone: now_cal.zone,
            location: now_cal.location,
            capacity: now_cal.capacity,
            weekly,
            policy: now_cal.policy,
        };
        calendars::replace(&db, &cal.0, &cal.1, def, now)
            .await
            .map(drop)
    })
    .await
}

#[derive(Deserialize)]
pub struct OverrideForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    date: String,
    /// `on` when the day is closed.
    closed: Option<String>,
    /// Other hours: `09:00-12:00 14:00-18:00`.
    #[serde(default)]
    hours: String,
}

#[derive(Deserialize)]
pub struct TimeOffForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    from_date: String,
    #[serde(default)]
    from_time: String,
    #[serde(default)]
    to_date: String,
    #[serde(default)]
    to_time: String,
    #[serde(default)]
    reason: String,
}

#[derive(Deserialize)]
pub struct PlainForm {
    #[serde(default)]
    csrf: String,
}

/// Adds or replaces a date override.
pub async fn put_override(
    State(c): State<Console>,
    signed: Signed,
    Path(id): Path<String>,
    Form(f): Form<OverrideForm>,
) -> Response {
    if let Some(refused) = signed.csrf_refusal(&f.csrf) {
        return refused;
    }
    let db = c.db.clone();
    changed(&c, &signed.0, &id, |cal, now| async move {
        let day = local_date(&f.date, "date")?;
        let ranges = if f.closed.is_some() {
            Vec::new()
        } else {
            hour_ranges(&f.hours)?
        };
        calendars::put_override(&db, &cal.0, &cal.1, day, ranges, now)
            .await
            .map(drop)
    })
    .await
}

pub async fn delete_override(
    State(c): State<Console>,
    signed: Signed,
    Path((id, date)): Path<(String, String)>,
    Form(f): Form<PlainForm>,
) -> Response {
    if let Some(refused) = signed.csrf_refusal(&f.csrf) {
        return refused;
    }
    let db = c.db.clone();
    changed(&c, &signed.0, &id, |cal, now| async move {
        let day = local_date(&date, "date")?;
        calendars::delete_override(&db, &cal.0, &cal.1, day, now).await
    })
    .await
}

pub async fn add_time_off(
    State(c): State<Console>,
    signed: Signed,
    Path(id): Path<String>,
    Form(f): Form<TimeOffForm>,
) -> Response {
    if let Some(refused) = signed.csrf_refusal(&f.csrf) {
        return refused;
    }
    let zone = match visible(&c, &signed.0, &id).await {
        Ok(Some(cal)) => cal.zone,
        Ok(None) => return not_found(&signed.0),
        Err(e) => return e.into_response(),
    };
    let db = c.db.clone();
    changed(&c, &signed.0, &id, |cal, now| async move {
        let at = |date: &str, time: &str, field: &str| -> Result<i64> {
            let d = local_date(date, field)?;
            let t = time
                .parse::<Time>()
                .map_err(|_| Error::invalid("invalid_time", field.to_string(), "HH:MM"))?;
            Ok(d.to_datetime(t)
                .to_zoned(zone.clone())
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .timestamp()
                .as_second())
        };
        let span = Interval::new(
            at(&f.from_date, &f.from_time, "start")?,
            at(&f.to_date, &f.to_time, "end")?,
        );
        let reason =
            Some(f.reason.trim().chars().take(500).collect::<String>()).filter(|r| !r.is_empty());
        calendars::add_time_off(&db, &cal.0, &cal.1, span, reason, now)
            .await
            .map(drop)
    })
    .await
}

pub async fn delete_time_off(
    State(c): State<Console>,
    signed: Signed,
    Path((id, away)): Path<(String, String)>,
    Form(f): Form<PlainForm>,
) -> Response {
    if let Some(refused) = signed.csrf_refusal(&f.csrf) {
        return refused;
    }
    let db = c.db.clone();
    changed(&c, &signed.0, &id, |cal, now| async move {
        let away = TimeOffId::parse(&away).map_err(|_| Error::not_found("time off"))?;
        calendars::delete_time_off(&db, &cal.0, &cal.1, &away, now).await
    })
    .await
}

/// Runs a change on a calendar this person sees, then back to its page; a refusal in their
/// words.
async fn changed<F, Fut>(c: &Console, session: &Session, id: &str, change: F) -> Response
where
    F: FnOnce((turnero_core::ids::TenantId, CalendarId), i64) -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    let cal = match visible(c, session, id).await {
        Ok(Some(cal)) => cal,
        Ok(None) => return not_found(session),
        Err(e) => return e.into_response(),
    };
    let target = (
        session.user.tenant.clone(),
        CalendarId::from_trusted(cal.id.clone()),
    );
    match change(target, c.clock.now_secs()).await {
        Ok(()) => see_other(&format!("/console/calendars/{}", cal.id)),
        Err(e) => refused(&session.user.locale, e, HOURS_PHRASES),
    }
}

fn not_found(session: &Session) -> Response {
    let locale = &session.user.locale;
    problem(
        StatusCode::NOT_FOUND,
        locale,
        words::of(locale).get("not_found"),
    )
}

fn local_date(raw: &str, field: &str) -> Result<Date> {
    raw.trim()
        .parse::<Date>()
        .map_err(|_| Error::invalid("invalid_date", field.to_string(), "YYYY-MM-DD"))
}

/// `09:00-12:00 14:00-18:00` (or with commas, or `–`) as the agenda's ranges.
fn hour_ranges(raw: &str) -> Result<Vec<turnero_core::time::DayRange>> {
    let ranges: Vec<&str> = raw
        .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
        .filter(|r| !r.is_empty())
        .collect();
    if ranges.is_empty() {
        return Err(Error::invalid(
            "invalid_override",
            "hours",
            "closed, or some hours",
        ));
    }
    ranges
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let (start, end) = r.split_once(['-', '–']).ok_or_else(|| {
                Error::invalid("invalid_time", format!("hours[{i}]"), "HH:MM-HH:MM")
            })?;
            calendars::parse_range(start, end, &format!("hours[{i}]"))
        })
        .collect()
}
