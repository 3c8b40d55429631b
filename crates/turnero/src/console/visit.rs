//! One booking's page (`/console/bookings/{id}`): who, when, where, its status with the
//! buttons for what may happen next (confirm, cancel, completed, no-show), its custom fields
//! and notes, what other systems know it by (AsisteClick's key), its whole history, and
//! moving it: the free times of a chosen day for its service, each a button. Moving is
//! `agenda::bookings::reschedule`, as the API's PATCH; the status buttons post to
//! `booking::act`.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Form;
use jiff::civil::Date;
use jiff::ToSpan;
use serde::{Deserialize, Serialize};
use turnero_core::booking::Action;
use turnero_core::capacity::Interval;
use turnero_core::flow::labels;
use turnero_core::ids::{BookingId, CalendarId, ServiceId};

use super::agenda::{free_starts, local_midnight};
use super::auth::Signed;
use super::words::{self, Words};
use super::{problem, refused, render, see_other, who, Console};
use crate::agenda::bookings::{self, Booking};
use crate::agenda::calendars::{self, Calendar};
use crate::agenda::services::{self, Service};
use crate::agenda::staff::Session;
use crate::error::Error;

#[derive(Deserialize)]
pub struct VisitQuery {
    /// The day whose free times are offered for a move (default: the booking's own day).
    date: Option<String>,
}

#[derive(Serialize)]
struct Line {
    when: String,
    what: String,
    status: &'static str,
    source: String,
    detail: Option<String>,
}

#[derive(Serialize)]
struct Reference {
    system: String,
    key: String,
    updated: String,
}

#[derive(Serialize)]
struct Start {
    time: String,
    start: String,
}

/// The booking, its calendar and service, if this person may see it; `None` is "not found"
/// (another tenant's, or a calendar a professional does not see).
async fn visible(
    c: &Console,
    session: &Session,
    id: &str,
) -> Result<Option<(BookingId, Booking, Calendar, Service)>, Response> {
    let user = &session.user;
    let Ok(id) = BookingId::parse(id) else {
        return Ok(None);
    };
    let b = match bookings::get(&c.db, &user.tenant, &id).await {
        Ok(b) if user.sees(&b.calendar_id) => b,
        Ok(_) | Err(Error::Problem(_)) => return Ok(None),
        Err(e) => return Err(e.into_response()),
    };
    let (cal_id, svc_id) = (
        CalendarId::from_trusted(b.calendar_id.clone()),
        ServiceId::from_trusted(b.service_id.clone()),
    );
    let cal = calendars::get(&c.db, &user.tenant, &cal_id).await;
    let svc = services::get(&c.db, &user.tenant, &svc_id).await;
    match (cal, svc) {
        (Ok(cal), Ok(svc)) => Ok(Some((id, b, cal, svc))),
        (Err(e), _) | (_, Err(e)) => Err(e.into_response()),
    }
}

pub async fn show(
    State(c): State<Console>,
    Signed(session): Signed,
    Path(id): Path<String>,
    Query(q): Query<VisitQuery>,
) -> Response {
    let user = &session.user;
    let (locale, t) = (user.locale.as_str(), words::of(&user.locale));
    let (id, b, cal, svc) = match visible(&c, &session, &id).await {
        Ok(Some(found)) => found,
        Ok(None) => return problem(StatusCode::NOT_FOUND, locale, t.get("not_found")),
        Err(e) => return e,
    };
    let own_day = b.start.to_zoned(cal.zone.clone()).date();
    let day = match q.date.as_deref().map(str::parse::<Date>) {
        None => own_day,
        Some(Ok(d)) => d,
        Some(Err(_)) => return problem(StatusCode::BAD_REQUEST, locale, t.get("not_found")),
    };
    let (history, refs) = match (
        bookings::history::list(&c.db, &user.tenant, &id).await,
        bookings::external_refs(&c.db, &user.tenant, &id).await,
    ) {
        (Ok(h), Ok(r)) => (h, r),
        (Err(e), _) | (_, Err(e)) => return e.into_response(),
    };
    let movable = b.status.apply(Action::Reschedule).is_ok();
    let starts = if movable {
        match move_starts(&c, &session, &cal, &svc, &id, day).await {
            Ok(s) => s,
            Err(e) => return e.into_response(),
        }
    } else {
        Vec::new()
    };
    let local = |ts: jiff::Timestamp| {
        labels::when(locale, ts.as_second(), cal.zone.to_offset(ts).seconds())
    };
    let started = c.clock.now() >= b.start;
    render(
        StatusCode::OK,
        "visit.html",
        minijinja::context! {
            t => t.value(),
            lang => words::lang(locale),
            user => who(user),
            csrf => session.csrf_token,
            b => minijinja::context! {
                id => b.id,
                status => b.status.as_str(),
                status_label => t.status(b.status.as_str()),
                when => local(b.start),
                until => labels::time(b.end.as_second(), cal.zone.to_offset(b.end).seconds()),
                source => b.source,
                notes => b.notes,
                cancel_reason => b.cancel_reason,
                custom_fields => b.custom_fields.iter().map(|(k, v)| (k.clone(), shown(v))).collect::<Vec<_>>(),
                customer => b.customer,
            },
            calendar => minijinja::context! { id => cal.id, name => cal.name, timezone => cal.timezone() },
            service => minijinja::context! { name => svc.name, minutes => svc.duration_minutes },
            can => minijinja::context! {
                confirm => b.status.apply(Action::Confirm).is_ok(),
                cancel => b.status.apply(Action::Cancel).is_ok(),
                complete => started && b.status.apply(Action::Complete).is_ok(),
                no_show => started && b.status.apply(Action::MarkNoShow).is_ok(),
                move_it => movable,
            },
            day => day.to_string(),
            starts,
            history => history.iter().map(|h| Line {
                when: local(h.at),
                what: action_label(t, &h.action),
                status: h.to_status.as_str(),
                source: h.source.clone(),
                detail: h.detail.clone(),
            }).collect::<Vec<_>>(),
            refs => refs.iter().map(|r| Reference {
                system: r.system.clone(),
                key: r.external_key.clone(),
                updated: local(r.updated_at),
            }).collect::<Vec<_>>(),
            back => format!("/console/agenda?date={own_day}&view=day&calendar={}", cal.id),
        },
    )
}

/// A custom field's value as text (strings without their quotes).
fn shown(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A history line's verb in the staff member's language.
fn action_label(t: Words, action: &str) -> String {
    match action {
        "created" => t.get("created").to_string(),
        "rescheduled" => t.get("moved").to_string(),
        "confirmed" | "completed" | "no_show" | "canceled" | "expired" | "held" => {
            t.status(action).to_string()
        }
        "released" => t.get("released").to_string(),
        other => other.to_string(),
    }
}

/// The day's free starts for the booking's service, its own time counting as free.
async fn move_starts(
    c: &Console,
    session: &Session,
    cal: &Calendar,
    svc: &Service,
    id: &BookingId,
    day: Date,
) -> crate::error::Result<Vec<Start>> {
    let next = day
        .checked_add(1.days())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let range = Interval::new(local_midnight(day, cal)?, local_midnight(next, cal)?);
    let free = free_starts(c, &session.user.tenant, cal, svc, range, Some(id)).await?;
    Ok(free
        .into_iter()
        .map(|(start, time)| Start {
            time,
            start: turnero_core::time::fmt_ts(start),
        })
        .collect())
}

#[derive(Deserialize)]
pub struct MoveForm {
    #[serde(default)]
    csrf: String,
    /// RFC 3339, as the page's buttons carry it.
    #[serde(default)]
    start: String,
}

/// Moves the booking to a free start, through the agenda's reschedule.
pub async fn move_to(
    State(c): State<Console>,
    signed: Signed,
    Path(id): Path<String>,
    Form(f): Form<MoveForm>,
) -> Response {
    if let Some(refused) = signed.csrf_refusal(&f.csrf) {
        return refused;
    }
    let session = &signed.0;
    let (locale, t) = (
        session.user.locale.as_str(),
        words::of(&session.user.locale),
    );
    let (id, b) = match visible(&c, session, &id).await {
        Ok(Some((id, b, _, _))) => (id, b),
        Ok(None) => return problem(StatusCode::NOT_FOUND, locale, t.get("not_found")),
        Err(e) => return e,
    };
    let Ok(start) = f.start.parse::<jiff::Timestamp>() else {
        return problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            locale,
            t.get("pick_a_time"),
        );
    };
    let moved = bookings::reschedule(
        &c.db,
        &session.user.tenant,
        &id,
        start.as_second(),
        "console",
        c.clock.now_secs(),
    )
    .await;
    match moved {
        Ok(_) => see_other(&format!("/console/bookings/{}", b.id)),
        Err(e) => refused(locale, e, &[]),
    }
}
