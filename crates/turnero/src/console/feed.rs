//! The calendar feed: each staff member's private ICS address for Google, Apple or Outlook
//! calendar (`agenda::staff_feeds` keeps its token's hash). The page `/console/feed` makes a
//! new address (shown once: only its hash is kept), or revokes it; the address itself needs no
//! sign-in, its token is the key. The feed holds the bookings of the calendars the person
//! sees, from two months back to a year ahead, each event with the booking's id as its UID and
//! its last change as its SEQUENCE, so a moved booking moves and a canceled one is marked
//! CANCELLED in the subscribed calendar.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use serde::Deserialize;
use turnero_core::booking::Status;
use turnero_core::flow::labels;

use super::auth::Signed;
use super::words;
use super::{problem, render, see_other, who, Console};
use crate::agenda::bookings::{self, Booking, BookingFilter};
use crate::agenda::staff::StaffUser;
use crate::agenda::{calendars, services, staff_feeds};
use crate::notifications::ics;

/// How far back and ahead the feed reaches.
const BACK_SECONDS: i64 = 60 * 86_400;
const AHEAD_SECONDS: i64 = 366 * 86_400;

pub async fn page(State(c): State<Console>, Signed(session): Signed) -> Response {
    shown(&c, &session, None).await
}

#[derive(Deserialize)]
pub struct FeedForm {
    #[serde(default)]
    csrf: String,
}

/// Makes a new address (the old one stops working) and shows it, this once.
pub async fn renew(
    State(c): State<Console>,
    headers: HeaderMap,
    signed: Signed,
    Form(f): Form<FeedForm>,
) -> Response {
    if let Some(refused) = signed.csrf_refusal(&f.csrf) {
        return refused;
    }
    let session = &signed.0;
    match staff_feeds::issue(&c.db, &session.user, c.clock.now_secs()).await {
        Ok(token) => {
            let url = format!("{}/console/feed/{token}.ics", base_url(&c, &headers));
            shown(&c, session, Some(url)).await
        }
        Err(e) => e.into_response(),
    }
}

pub async fn revoke(State(c): State<Console>, signed: Signed, Form(f): Form<FeedForm>) -> Response {
    if let Some(refused) = signed.csrf_refusal(&f.csrf) {
        return refused;
    }
    match staff_feeds::revoke(&c.db, &signed.0.user).await {
        Ok(()) => see_other("/console/feed"),
        Err(e) => e.into_response(),
    }
}

async fn shown(
    c: &Console,
    session: &crate::agenda::staff::Session,
    url: Option<String>,
) -> Response {
    let user = &session.user;
    let made = match staff_feeds::made_at(&c.db, user).await {
        Ok(m) => m,
        Err(e) => return e.into_response(),
    };
    let t = words::of(&user.locale);
    render(
        StatusCode::OK,
        "feed.html",
        minijinja::context! {
            t => t.value(),
            lang => words::lang(&user.locale),
            user => who(user),
            csrf => session.csrf_token,
            url,
            made => made.map(|at| labels::when(&user.locale, at, 0) + " UTC"),
        },
    )
}

/// The address subscribers reach this server by: the configured public one, else the
/// request's own host.
fn base_url(c: &Console, headers: &HeaderMap) -> String {
    if let Some(public) = &c.public_url {
        return public.trim_end_matches('/').to_string();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    format!("http://{host}")
}

/// `GET /console/feed/{token}.ics`: the calendar, for whoever holds the address.
pub async fn calendar(State(c): State<Console>, Path(file): Path<String>) -> Response {
    let not_found = || {
        problem(
            StatusCode::NOT_FOUND,
            "en",
            words::of("en").get("not_found"),
        )
    };
    let Some(token) = file.strip_suffix(".ics") else {
        return not_found();
    };
    let user = match staff_feeds::owner(&c.db, token).await {
        Ok(Some(user)) => user,
        Ok(None) => return not_found(),
        Err(e) => return e.into_response(),
    };
    match feed_text(&c, &user).await {
        Ok(text) => (
            [
                (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
                (header::CACHE_CONTROL, "private, max-age=300"),
            ],
            text,
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}

async fn feed_text(c: &Console, user: &StaffUser) -> crate::error::Result<String> {
    let now = c.clock.now_secs();
    let cals = calendars::list(&c.db, &user.tenant).await?;
    let names: HashMap<&str, &str> = cals
        .iter()
        .filter(|cal| user.sees(&cal.id))
        .map(|cal| (cal.id.as_str(), cal.name.as_str()))
        .collect();
    let services: HashMap<String, String> = services::list(&c.db, &user.tenant)
        .await?
        .into_iter()
        .map(|s| (s.id, s.name))
        .collect();
    // One calendar: read only its own; several: the tenant's, kept to those seen below.
    let only = match names.len() {
        1 => names.keys().next().map(|id| id.to_string()),
        _ => None,
    };
    let booked = bookings::list(
        &c.db,
        &user.tenant,
        &BookingFilter {
            calendar_id: only,
            start: Some(now - BACK_SECONDS),
            end: Some(now + AHEAD_SECONDS),
            limit: 20_000,
            ..Default::default()
        },
    )
    .await?;
    let t = words::of(&user.locale);
    let events = booked
        .iter()
        .filter(|b| !matches!(b.status, Status::Held | Status::Expired))
        .filter_map(|b| Some((b, *names.get(b.calendar_id.as_str())?)))
        .map(|(b, calendar)| {
            let service = services.get(&b.service_id).map_or("", String::as_str);
            event(b, calendar, service, t)
        });
    let title = match names.len() {
        1 => names
            .values()
            .next()
            .copied()
            .unwrap_or("turnero")
            .to_string(),
        _ => format!("turnero · {}", user.email),
    };
    Ok(ics::feed(&title, events))
}

fn event(b: &Booking, calendar: &str, service: &str, t: words::Words) -> icalendar::Event {
    let who = b.customer.as_ref();
    let name = who.map_or("", |c| c.name.as_str());
    let summary = if name.is_empty() {
        service.to_string()
    } else {
        format!("{service} · {name}")
    };
    let mut description = t.status(b.status.as_str()).to_string();
    if let Some(phone) = who.and_then(|c| c.phone.as_deref()) {
        description = format!("{description} · {phone}");
    }
    ics::event(&ics::Invite {
        booking_id: &b.id,
        start: b.start.as_second(),
        end: b.end.as_second(),
        summary: &summary,
        location: Some(calendar),
        description: &description,
        canceled: b.status == Status::Canceled,
        now: b.updated_at.as_second(),
    })
}
