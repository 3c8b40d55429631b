//! The staff console: server-rendered pages under `/console` for the clinic's receptionists,
//! professionals and admins (issue #17). Every action goes through the same agenda functions
//! the API uses; the pages are minijinja templates built into the binary, with no script
//! needed to use them.
//!
//! Sign-in and sessions are in `auth`; the agenda's day and week views in `agenda`; booking a
//! free slot in `booking`; one booking's page (history, moving it) in `visit`; the
//! calendar feed (ICS) in `feed`; integrations (webhook health, drawn by `chart`) in `webhooks`, channels and
//! AsisteClick's fallbacks in `channels`; the
//! conversations' inbox in `conversations`; the booking flow's document in `flows`;
//! staff accounts and each person's language in `staff`; API keys in `keys`; services and customers to look up in
//! `directory`; a calendar's hours, date overrides
//! and time off in `calendar`; reminder rules, their runs and outcomes in `campaigns`; the words of each language in `words`.

mod agenda;
mod auth;
mod booking;
mod calendar;
mod campaigns;
mod channels;
mod chart;
mod conversations;
mod directory;
mod feed;
mod flows;
mod keys;
mod staff;
mod visit;
mod webhooks;
mod words;

use std::sync::{Arc, LazyLock};

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use minijinja::Environment;
use serde::Serialize;

use crate::agenda::snapshot::SnapshotCache;
use crate::agenda::staff::{Role, Session, StaffUser};
use crate::chat::Chat;
use crate::clock::Clock;
use crate::db::Db;
use crate::webhooks::Hub;

#[derive(Clone)]
pub struct Console {
    pub db: Db,
    pub clock: Clock,
    pub snapshots: Arc<SnapshotCache>,
    /// The webhook hub: integrations are tested, resent and recovered through it.
    pub hub: Arc<Hub>,
    /// The bot: staff replies leave through it.
    pub chat: Arc<Chat>,
    /// Sign-in attempts per client address.
    pub signins: Arc<governor::DefaultKeyedRateLimiter<std::net::IpAddr>>,
    /// Cookies carry `Secure` when the public address is https.
    pub secure_cookies: bool,
    /// The configured public address, for links given out (the calendar feed's).
    pub public_url: Option<String>,
}

pub fn router(
    db: Db,
    clock: Clock,
    chat: Arc<Chat>,
    hub: Arc<Hub>,
    public_url: Option<&str>,
) -> Router {
    let state = Console {
        db,
        clock,
        snapshots: chat.snapshots.clone(),
        hub,
        chat,
        signins: Arc::new(auth::signin_limiter()),
        secure_cookies: public_url.is_some_and(|u| u.starts_with("https://")),
        public_url: public_url.map(str::to_string),
    };
    Router::new()
        .route("/console", get(auth::home))
        .route("/console/login", get(auth::login_page).post(auth::login))
        .route("/console/logout", post(auth::logout))
        .route("/console/agenda", get(agenda::show))
        .route("/console/book", get(booking::form))
        .route("/console/bookings", post(booking::create))
        .route("/console/bookings/act", post(booking::act_from_day))
        .route("/console/bookings/{id}", get(visit::show))
        .route("/console/bookings/{id}/move", post(visit::move_to))
        .route("/console/bookings/{id}/{action}", post(booking::act))
        .route("/console/feed", get(feed::page).post(feed::renew))
        .route("/console/feed/revoke", post(feed::revoke))
        .route("/console/feed/{file}", get(feed::calendar))
        .route("/console/webhooks", get(webhooks::list))
        .route("/console/webhooks/{id}", get(webhooks::show))
        .route("/console/webhooks/{id}/{action}", post(webhooks::act))
        .route("/console/conversations", get(conversations::inbox))
        .route("/console/conversations/{id}", get(conversations::show))
        .route(
            "/console/conversations/{id}/{action}",
            post(conversations::act),
        )
        .route("/console/flows", get(flows::page).post(flows::import))
        .route("/console/flows/flow.json", get(flows::download))
        .route("/console/flows/reset", post(flows::reset))
        .route("/console/staff", get(staff::page).post(staff::create))
        .route("/console/staff/{id}/{action}", post(staff::act))
        .route("/console/language", post(staff::language))
        .route("/console/calendars/{id}", get(calendar::page))
        .route("/console/calendars/{id}/hours", post(calendar::put_weekly))
        .route(
            "/console/calendars/{id}/overrides",
            post(calendar::put_override),
        )
        .route(
            "/console/calendars/{id}/overrides/{date}/delete",
            post(calendar::delete_override),
        )
        .route(
            "/console/calendars/{id}/time-off",
            post(calendar::add_time_off),
        )
        .route(
            "/console/calendars/{id}/time-off/{away}/delete",
            post(calendar::delete_time_off),
        )
        .route(
            "/console/campaigns",
            get(campaigns::page).post(campaigns::create_rule),
        )
        .route(
            "/console/campaigns/{id}/delete",
            post(campaigns::delete_rule),
        )
        .route("/console/campaigns/{id}/run", post(campaigns::send_now))
        .route("/console/campaigns/runs/{id}", get(campaigns::run_page))
        .route("/console/channels", get(channels::page))
        .route("/console/keys", get(keys::page).post(keys::create))
        .route("/console/keys/{id}/revoke", post(keys::revoke))
        .route(
            "/console/services",
            get(directory::services_page).post(directory::create_service),
        )
        .route("/console/calendars", post(directory::create_calendar))
        .route("/console/customers", get(directory::customers_page))
        .route("/console/customers/{id}", post(directory::update_customer))
        .route("/console/console.css", get(stylesheet))
        .route("/console/console.js", get(script))
        .with_state(state)
}

/// The templates, built into the binary.
const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("templates/base.html")),
    ("login.html", include_str!("templates/login.html")),
    ("agenda.html", include_str!("templates/agenda.html")),
    ("problem.html", include_str!("templates/problem.html")),
    ("book.html", include_str!("templates/book.html")),
    ("visit.html", include_str!("templates/visit.html")),
    ("feed.html", include_str!("templates/feed.html")),
    ("webhooks.html", include_str!("templates/webhooks.html")),
    ("webhook.html", include_str!("templates/webhook.html")),
    ("inbox.html", include_str!("templates/inbox.html")),
    ("inbox_list.html", include_str!("templates/inbox_list.html")),
    ("transcript.html", include_str!("templates/transcript.html")),
    (
        "conversation.html",
        include_str!("templates/conversation.html"),
    ),
    ("flows.html", include_str!("templates/flows.html")),
    ("staff.html", include_str!("templates/staff.html")),
    ("calendar.html", include_str!("templates/calendar.html")),
    ("campaigns.html", include_str!("templates/campaigns.html")),
    (
        "campaign_run.html",
        include_str!("templates/campaign_run.html"),
    ),
    ("channels.html", include_str!("templates/channels.html")),
    ("keys.html", include_str!("templates/keys.html")),
    ("services.html", include_str!("templates/services.html")),
    ("customers.html", include_str!("templates/customers.html")),
];

/// The templates, parsed once. Names ending in `.html` are escaped as HTML.
static PAGES: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    for &(name, source) in TEMPLATES {
        env.add_template(name, source)
            .expect("console templates parse");
    }
    env
});

/// A page from its template and data, as HTML that no other site may frame.
fn render(status: StatusCode, template: &str, data: impl Serialize) -> Response {
    let rendered = PAGES.get_template(template).and_then(|t| t.render(data));
    match rendered {
        Ok(html) => (
            status,
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::X_FRAME_OPTIONS, "DENY"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            html,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, template, "rendering a console page failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// A refusal as a page in the person's language: what happened and a way back.
fn problem(status: StatusCode, locale: &str, message: &str) -> Response {
    render(
        status,
        "problem.html",
        minijinja::context! { t => words::of(locale).value(), message, lang => words::lang(locale) },
    )
}

/// An error from the agenda (or the hub, the chat) as a page in the person's words: a
/// refusal whose code is in `phrases` (code, phrase key) says that phrase; a 404 says "not
/// found"; the agenda's own refusals are worded by `Words::refusal` (its English detail for
/// a code without words); anything else is the server's own error.
fn refused(locale: &str, e: crate::error::Error, phrases: &[(&str, &'static str)]) -> Response {
    let crate::error::Error::Problem(p) = e else {
        return e.into_response();
    };
    let t = words::of(locale);
    let status = StatusCode::from_u16(p.status).unwrap_or(StatusCode::CONFLICT);
    let message = match phrases.iter().find(|(code, _)| *code == p.code) {
        Some((_, key)) => t.get(key).to_string(),
        None if p.status == 404 => t.get("not_found").to_string(),
        None => t.refusal(p.code, &p.detail),
    };
    problem(status, locale, &message)
}

/// A page this person may not see is, to them, a page that does not exist.
fn hidden_unless(allowed: bool, session: &Session) -> Option<Response> {
    if allowed {
        return None;
    }
    let locale = &session.user.locale;
    Some(problem(
        StatusCode::NOT_FOUND,
        locale,
        words::of(locale).get("not_found"),
    ))
}

/// Who is signed in, as the page header shows them (admins also see the integrations).
fn who(user: &StaffUser) -> minijinja::Value {
    minijinja::context! { email => user.email, role => user.role.as_str(), admin => user.role == Role::Admin }
}

/// After a form: back to a page with a GET (so reloading does not post again).
fn see_other(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

/// The one script: refreshes the parts of a page marked `data-live`.
async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("templates/console.js"),
    )
        .into_response()
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("templates/console.css"),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_template_file_is_built_in() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/console/templates");
        let mut missing = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            if name.ends_with(".html") && !super::TEMPLATES.iter().any(|(n, _)| *n == name) {
                missing.push(name);
            }
        }
        assert!(missing.is_empty(), "not in TEMPLATES: {missing:?}");
    }
}
