//! `/notices/{token}`: the small page a reminder mail's links open. Opening it changes
//! nothing (mail scanners open links too); the patient presses Confirm or Cancel, which posts
//! the answer. The token is signed per tenant (`notifications::links`); visitors are limited
//! per address like the web chat's.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Html;
use axum::Form;
use serde::Deserialize;
use turnero_core::ids::{BookingId, CalendarId};
use turnero_core::notice::{Answer, Words};

use super::extract::Query;
use super::visitor_limits::{client_address, Act};
use super::AppState;
use crate::agenda::{bookings, calendars, tenants};
use crate::error::{Error, Result};
use crate::notifications::answers::{self, Outcome};
use crate::notifications::plans::Plan;
use crate::notifications::{links, words};

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new().route("/notices/{token}", axum::routing::get(show).post(answer))
}

#[derive(Deserialize)]
struct Shown {
    /// The link pressed in the mail: which button the page puts first.
    answer: Option<String>,
}

#[derive(Deserialize)]
struct Answered {
    answer: String,
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn page(language: &str, title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html lang=\"{language}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>body{{font-family:system-ui,sans-serif;max-width:32rem;\
         margin:2rem auto;padding:0 1rem;line-height:1.5}}button{{font-size:1.1rem;\
         padding:.6rem 1.2rem;margin:.3rem .3rem 0 0}}</style></head><body><main>\
         <h1>{title}</h1>{body}</main></body></html>",
        title = escape(title)
    ))
}

/// The row a token names, its tenant's language, and the appointment as the patient reads it.
async fn open(s: &AppState, token: &str) -> Result<(Plan, Words, String)> {
    let plan = links::verify(&s.db, token)
        .await?
        .ok_or_else(|| Error::not_found("link"))?;
    let tenant = tenants::get(&s.db, &plan.tenant).await?;
    let words = words::get(&s.db, &plan.tenant).await?;
    let language = words.language.clone();
    let id = BookingId::from_trusted(plan.booking_id.clone());
    let b = bookings::get(&s.db, &plan.tenant, &id).await?;
    let cal = calendars::get(
        &s.db,
        &plan.tenant,
        &CalendarId::from_trusted(b.calendar_id.clone()),
    )
    .await?;
    let when = b.when(&language);
    let what = format!(
        "{} · {} · {when} · {}",
        tenant.name,
        cal.name,
        b.status.as_str()
    );
    Ok((plan, words, what))
}

fn limited(s: &AppState, peer: SocketAddr, headers: &HeaderMap) -> Result<()> {
    s.visitors
        .check(Act::Message, client_address(peer, headers), "notice-links")
}

async fn show(
    State(s): State<AppState>,
    Path(token): Path<String>,
    Query(q): Query<Shown>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Result<Html<String>> {
    limited(&s, peer, &headers)?;
    let (plan, words, what) = open(&s, &token).await?;
    let language = words.language.clone();
    let mut buttons = [Answer::Confirm, Answer::Cancel];
    if q.answer.as_deref() == Some("cancel") {
        buttons.reverse();
    }
    let forms: String = buttons
        .iter()
        .map(|a| {
            let value = if *a == Answer::Confirm { "confirm" } else { "cancel" };
            format!(
                "<form method=\"post\" style=\"display:inline\"><input type=\"hidden\" name=\"answer\" \
                 value=\"{value}\"><button type=\"submit\">{}</button></form>",
                escape(words.title(*a))
            )
        })
        .collect();
    let done = plan
        .answer
        .as_deref()
        .map(|a| format!("<p><strong>{}</strong></p>", escape(a)))
        .unwrap_or_default();
    Ok(page(&language, &what, &format!("{done}{forms}")))
}

async fn answer(
    State(s): State<AppState>,
    Path(token): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<Answered>,
) -> Result<(StatusCode, Html<String>)> {
    limited(&s, peer, &headers)?;
    let (plan, words, what) = open(&s, &token).await?;
    let language = words.language.clone();
    let answer = match form.answer.as_str() {
        "confirm" => Answer::Confirm,
        "cancel" => Answer::Cancel,
        _ => {
            return Err(Error::invalid(
                "invalid_field",
                "answer",
                "confirm or cancel",
            ))
        }
    };
    let now = s.clock.now_secs();
    let (status, text) = match answers::answer(&s.db, &plan, answer, "email", now).await? {
        Outcome::Done(b) => {
            let when = b.when(&language);
            (StatusCode::OK, words.reply(answer, &when))
        }
        Outcome::Refused(detail) => (StatusCode::CONFLICT, words.cannot(&detail)),
    };
    let body = format!("<p>{}</p>", escape(&text));
    Ok((status, page(&language, &what, &body)))
}
