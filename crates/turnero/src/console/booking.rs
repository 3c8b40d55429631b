//! Booking a patient into a free slot: the slot's page (bookmarkable: calendar, service and
//! start are in its URL) and the form it posts. The booking is made by
//! `agenda::bookings::create`, as the API makes it, from source `console`; the patient is found
//! by any spelling of their phone (the tenant's region fills in a missing country code), or
//! created. Confirming, canceling, completing and no-show go through
//! `bookings::confirm_or_close`. A refusal is the
//! agenda's, in the staff member's language.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Form;
use serde::Deserialize;
use serde_json::Map;
use turnero_core::booking::Action;
use turnero_core::flow::labels;
use turnero_core::ids::{BookingId, CalendarId, ServiceId};

use super::auth::Signed;
use super::words;
use super::{problem, refused, render, see_other, who, Console};
use crate::agenda::bookings::{self, CustomerRef, NewBooking};
use crate::agenda::calendars::{self, Calendar};
use crate::agenda::services::{self, Service};
use crate::agenda::staff::StaffUser;
use crate::error::Error;

#[derive(Deserialize)]
pub struct SlotQuery {
    calendar: String,
    service: String,
    /// RFC 3339, as the agenda's links write it.
    start: String,
}

/// The calendar and service named, if this person may book on them.
async fn target(
    c: &Console,
    user: &StaffUser,
    calendar: &str,
    service: &str,
) -> Result<Option<(Calendar, Service)>, Response> {
    let (Ok(cal_id), Ok(_)) = (CalendarId::parse(calendar), ServiceId::parse(service)) else {
        return Ok(None);
    };
    if !user.sees(cal_id.as_str()) {
        return Ok(None);
    }
    let cal = match calendars::get(&c.db, &user.tenant, &cal_id).await {
        Ok(cal) if cal.archived_at.is_none() => cal,
        Ok(_) | Err(Error::Problem(_)) => return Ok(None),
        Err(e) => return Err(e.into_response()),
    };
    let all = services::list(&c.db, &user.tenant)
        .await
        .map_err(IntoResponse::into_response)?;
    Ok(all
        .into_iter()
        .find(|s| s.id == service && s.calendar_ids.contains(&cal.id))
        .map(|s| (cal, s)))
}

pub async fn form(
    State(c): State<Console>,
    Signed(session): Signed,
    Query(q): Query<SlotQuery>,
) -> Response {
    let user = &session.user;
    let t = words::of(&user.locale);
    let (cal, svc) = match target(&c, user, &q.calendar, &q.service).await {
        Ok(Some(found)) => found,
        Ok(None) => return problem(StatusCode::NOT_FOUND, &user.locale, t.get("not_found")),
        Err(e) => return e,
    };
    let Ok(start) = q.start.parse::<jiff::Timestamp>() else {
        return problem(StatusCode::BAD_REQUEST, &user.locale, t.get("not_found"));
    };
    let offset = cal.zone.to_offset(start).seconds();
    let day = start.to_zoned(cal.zone.clone()).date().to_string();
    render(
        StatusCode::OK,
        "book.html",
        minijinja::context! {
            t => t.value(),
            lang => words::lang(&user.locale),
            user => who(user),
            csrf => session.csrf_token,
            calendar => minijinja::context! { id => cal.id, name => cal.name, timezone => cal.timezone() },
            service => minijinja::context! { id => svc.id, name => svc.name, minutes => svc.duration_minutes },
            start => q.start,
            when => labels::when(&user.locale, start.as_second(), offset),
            back => format!("/console/agenda?date={day}&view=day&calendar={}", cal.id),
        },
    )
}

#[derive(Deserialize)]
pub struct BookForm {
    #[serde(default)]
    csrf: String,
    calendar: String,
    service: String,
    start: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    email: String,
}

pub async fn create(State(c): State<Console>, signed: Signed, Form(f): Form<BookForm>) -> Response {
    if let Some(refused) = signed.csrf_refusal(&f.csrf) {
        return refused;
    }
    let user = &signed.0.user;
    let (locale, t) = (user.locale.as_str(), words::of(&user.locale));
    let (cal, svc) = match target(&c, user, &f.calendar, &f.service).await {
        Ok(Some(found)) => found,
        Ok(None) => return problem(StatusCode::NOT_FOUND, locale, t.get("not_found")),
        Err(e) => return e,
    };
    let Ok(start) = f.start.parse::<jiff::Timestamp>() else {
        return problem(StatusCode::BAD_REQUEST, locale, t.get("not_found"));
    };
    if f.name.trim().is_empty() || f.phone.trim().is_empty() {
        return problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            locale,
            t.get("name_and_phone"),
        );
    }
    let region = match crate::agenda::tenants::get(&c.db, &user.tenant).await {
        Ok(tenant) => tenant.phone_region,
        Err(e) => return e.into_response(),
    };
    let details = crate::api::customers::CustomerIn {
        name: Some(f.name.trim().to_string()),
        phone: Some(f.phone),
        email: Some(f.email).filter(|e| !e.trim().is_empty()),
        ..Default::default()
    };
    let made = match crate::api::customers::parse_customer(details, &region, "") {
        Ok(def) => {
            let new = NewBooking {
                calendar_id: CalendarId::from_trusted(cal.id.clone()),
                service_id: ServiceId::from_trusted(svc.id.clone()),
                start: start.as_second(),
                customer: CustomerRef::Details(def),
                hold_id: None,
                custom_fields: Map::new(),
                notes: None,
                source: "console".into(),
                external: None,
            };
            bookings::create(&c.db, &user.tenant, new, None, c.clock.now_secs()).await
        }
        Err(e) => Err(e),
    };
    match made {
        Ok(b) => {
            let day = b.start.to_zoned(cal.zone.clone()).date();
            see_other(&format!(
                "/console/agenda?date={day}&view=day&calendar={}#{}",
                cal.id, b.id
            ))
        }
        Err(e) => refused(locale, e, &[]),
    }
}

#[derive(Deserialize)]
pub struct ActForm {
    #[serde(default)]
    csrf: String,
    /// The agenda page to go back to.
    back: Option<String>,
}

/// Confirms, cancels, completes or marks as no-show a booking of a calendar the staff
/// member sees.
pub async fn act(
    State(c): State<Console>,
    signed: Signed,
    Path((id, action)): Path<(String, String)>,
    Form(f): Form<ActForm>,
) -> Response {
    if let Some(refused) = signed.csrf_refusal(&f.csrf) {
        return refused;
    }
    apply(&c, &signed, &id, &action, f.back.as_deref()).await
}

#[derive(Deserialize)]
pub struct DayForm {
    #[serde(default)]
    csrf: String,
    back: Option<String>,
    /// The button pressed: its name is the action, its value the booking.
    confirm: Option<String>,
    cancel: Option<String>,
}

/// The day view's buttons: one form for the whole day, each button naming its booking
/// (`name="cancel" value="bkg_…"`), which keeps a day of 16 calendars under 100 KB.
pub async fn act_from_day(
    State(c): State<Console>,
    signed: Signed,
    Form(f): Form<DayForm>,
) -> Response {
    if let Some(refused) = signed.csrf_refusal(&f.csrf) {
        return refused;
    }
    let (id, action) = match (f.confirm, f.cancel) {
        (Some(id), None) => (id, "confirm"),
        (None, Some(id)) => (id, "cancel"),
        _ => (String::new(), ""),
    };
    apply(&c, &signed, &id, action, f.back.as_deref()).await
}

async fn apply(
    c: &Console,
    signed: &Signed,
    id: &str,
    action: &str,
    back: Option<&str>,
) -> Response {
    let user = &signed.0.user;
    let t = words::of(&user.locale);
    let action = match action {
        "confirm" => Action::Confirm,
        "cancel" => Action::Cancel,
        "complete" => Action::Complete,
        "no_show" => Action::MarkNoShow,
        _ => return problem(StatusCode::NOT_FOUND, &user.locale, t.get("not_found")),
    };
    let Ok(id) = BookingId::parse(id) else {
        return problem(StatusCode::NOT_FOUND, &user.locale, t.get("not_found"));
    };
    // Another tenant's booking, or one of a calendar this person does not see: not found.
    match bookings::get(&c.db, &user.tenant, &id).await {
        Ok(b) if user.sees(&b.calendar_id) => {}
        Ok(_) | Err(Error::Problem(_)) => {
            return problem(StatusCode::NOT_FOUND, &user.locale, t.get("not_found"))
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
            back.filter(|b| {
                (b.starts_with("/console/agenda") || b.starts_with("/console/bookings/"))
                    && !b.contains("//")
            })
            .unwrap_or("/console/agenda"),
        ),
        Err(e) => refused(&user.locale, e, &[]),
    }
}
