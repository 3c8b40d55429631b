//! Integrations, the other half: each chat channel (WhatsApp, web chat, Chatwoot, Telegram,
//! mail) with whether it is connected, what it is connected to, and its messages of the last
//! 24 hours by outcome; the AsisteClick integration; and each calendar's availability API
//! with the fallbacks it recorded (when turnero answered with its own slots, and why).
//! Admins only; nothing secret is shown (tokens and passwords are write-only).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use turnero_core::ids::CalendarId;

use super::auth::Signed;
use super::words;
use super::{hidden_unless, render, who, Console};
use crate::agenda::calendars;
use crate::agenda::staff::{Role, Session};
use crate::asisteclick::{consult, integration};
use crate::channels::{chatwoot, email, telegram, webchat, whatsapp};
use crate::error::Result;

/// Fallbacks shown per calendar.
const FALLBACKS_SHOWN: i64 = 10;

#[derive(Serialize)]
struct ChannelView {
    name: &'static str,
    connected: bool,
    /// What it is connected to (a number's id, a bot, an address): never a secret.
    detail: Option<String>,
    sent: i64,
    failed: i64,
    waiting: i64,
}

#[derive(Serialize)]
struct ApiView {
    calendar: String,
    url: String,
    fallbacks: Vec<consult::FallbackOut>,
}

pub async fn page(State(c): State<Console>, Signed(session): Signed) -> Response {
    if let Some(r) = hidden_unless(session.user.role == Role::Admin, &session) {
        return r;
    }
    match read(&c, &session).await {
        Ok((channels, asisteclick, apis)) => {
            let user = &session.user;
            let t = words::of(&user.locale);
            render(
                StatusCode::OK,
                "channels.html",
                minijinja::context! {
                    t => t.value(), lang => words::lang(&user.locale), user => who(user),
                    csrf => session.csrf_token, channels, asisteclick, apis,
                },
            )
        }
        Err(e) => e.into_response(),
    }
}

type Read = (Vec<ChannelView>, Option<Vec<String>>, Vec<ApiView>);

async fn read(c: &Console, session: &Session) -> Result<Read> {
    let (db, tenant) = (&c.db, &session.user.tenant);
    let since = c.clock.now_secs() - 24 * 3600;
    let counts = crate::chat::outbox::counts_by_channel(db, tenant, since).await?;
    let count = |channel: &str, statuses: &[&str]| -> i64 {
        counts
            .iter()
            .filter(|(ch, status, _)| ch == channel && statuses.contains(&status.as_str()))
            .map(|(_, _, n)| n)
            .sum()
    };
    let view = |name: &'static str, detail: Option<String>, connected: bool| ChannelView {
        name,
        connected,
        detail,
        sent: count(name, &["sent", "delivered", "read"]),
        failed: count(name, &["failed"]),
        waiting: count(name, &["queued", "sending"]),
    };
    let wa = whatsapp::store::get(db, tenant).await?;
    let tg = telegram::store::get(db, tenant).await?;
    let cw = chatwoot::store::get(db, tenant).await?;
    let web = webchat::get(db, tenant).await?;
    let mail = email::store::get(db, tenant).await?;
    let channels = vec![
        view(
            "whatsapp",
            wa.as_ref()
                .map(|w| format!("{} · {} templates", w.phone_number_id, w.templates.len())),
            wa.is_some(),
        ),
        view(
            "webchat",
            web.as_ref().map(|w| w.title.clone()),
            web.is_some(),
        ),
        view(
            "chatwoot",
            cw.as_ref().map(|w| {
                format!(
                    "{} · account {}",
                    crate::db::redact_url(&w.base_url),
                    w.account_id
                )
            }),
            cw.is_some(),
        ),
        view(
            "telegram",
            tg.as_ref().map(|w| {
                w.bot_username
                    .clone()
                    .map_or(w.bot_id.to_string(), |u| format!("@{u}"))
            }),
            tg.is_some(),
        ),
        view(
            "email",
            mail.as_ref().map(|m| m.from.clone()),
            mail.is_some(),
        ),
    ];
    let asisteclick = integration::get(db, tenant)
        .await?
        .map(|i| i.calendar_map.keys().cloned().collect());
    let mut apis = Vec::new();
    for cal in calendars::list(db, tenant).await? {
        let Some(api) = &cal.availability_api else {
            continue;
        };
        let id = CalendarId::from_trusted(cal.id.clone());
        apis.push(ApiView {
            url: crate::db::redact_url(&api.url),
            fallbacks: consult::recent_fallbacks(db, tenant, &id, FALLBACKS_SHOWN).await?,
            calendar: cal.name.clone(),
        });
    }
    Ok((channels, asisteclick, apis))
}
