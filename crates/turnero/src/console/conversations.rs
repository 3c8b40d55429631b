//! Conversations: the inbox of every channel (those waiting for a person first), a
//! conversation's transcript, taking it over from the bot, replying, and handing it back.
//! A reply is checked by the API's own `staff_output` (on WhatsApp, free text only within 24
//! hours of the person's last message, else one of the channel's approved templates, which
//! the page then offers) and sent by `Chat::say_as_staff`, as the API's. Replying takes the
//! conversation over, so the bot does not answer over the person. New messages appear without
//! reloading: `console.js` refreshes the parts marked `data-live` (the page works without it).
//! Admins and reception only; professionals are told it does not exist.

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use serde::{Deserialize, Serialize};
use turnero_core::flow::labels;

use super::auth::Signed;
use super::words;
use super::{hidden_unless, problem, refused, render, see_other, who, Console, PAGES};
use crate::agenda::staff::{Role, Session};
use crate::api::conversations::{staff_output, MessageIn, TemplateIn, WINDOW_SECS};
use crate::chat::{conversations, waiting, Channel};
use crate::error::Error;

/// Lines of the inbox shown, and of a transcript.
const INBOX_SHOWN: i64 = 200;
const TRANSCRIPT_SHOWN: i64 = 200;

/// Front-desk work: not for professionals.
fn not_front_desk(session: &Session) -> Option<Response> {
    hidden_unless(session.user.role != Role::Professional, session)
}

#[derive(Deserialize)]
pub struct PartQuery {
    /// `list` / `lines`: only the part that refreshes, for `console.js`.
    part: Option<String>,
}

#[derive(Serialize)]
struct InboxEntry {
    id: String,
    channel: &'static str,
    who: String,
    waiting: bool,
    last: String,
}

pub async fn inbox(
    State(c): State<Console>,
    Signed(session): Signed,
    Query(q): Query<PartQuery>,
) -> Response {
    if let Some(r) = not_front_desk(&session) {
        return r;
    }
    let user = &session.user;
    let lines = match waiting::inbox(&c.db, &user.tenant, INBOX_SHOWN).await {
        Ok(lines) => lines,
        Err(e) => return e.into_response(),
    };
    let entries: Vec<InboxEntry> = lines
        .into_iter()
        .map(|l| InboxEntry {
            last: labels::when(&user.locale, l.last_inbound_at.unwrap_or(l.updated_at), 0) + " UTC",
            who: match l.customer_name {
                Some(name) if l.channel != Channel::WebChat => format!("{name} · {}", l.contact),
                Some(name) => name,
                None => l.contact,
            },
            channel: l.channel.as_str(),
            waiting: l.handoff,
            id: l.id,
        })
        .collect();
    let t = words::of(&user.locale);
    let data = minijinja::context! {
        t => t.value(), lang => words::lang(&user.locale), user => who(user),
        csrf => session.csrf_token, entries,
    };
    if q.part.as_deref() == Some("list") {
        return fragment("inbox_list.html", data);
    }
    render(StatusCode::OK, "inbox.html", data)
}

#[derive(Serialize)]
struct Said {
    from: String,
    text: String,
    at: String,
    status: Option<String>,
}

pub async fn show(
    State(c): State<Console>,
    Signed(session): Signed,
    Path(id): Path<String>,
    Query(q): Query<PartQuery>,
) -> Response {
    if let Some(r) = not_front_desk(&session) {
        return r;
    }
    let user = &session.user;
    let t = words::of(&user.locale);
    let read = async {
        let conv = conversations::get(&c.db, &user.tenant, &id).await?;
        let said = conversations::transcript(&c.db, &user.tenant, &id, TRANSCRIPT_SHOWN).await?;
        Ok::<_, Error>((conv, said))
    };
    let (conv, said) = match read.await {
        Ok(found) => found,
        Err(Error::Problem(p)) if p.status == 404 => {
            return problem(StatusCode::NOT_FOUND, &user.locale, t.get("not_found"))
        }
        Err(e) => return e.into_response(),
    };
    let now = c.clock.now_secs();
    let window_open = !conv.channel.has_service_window()
        || conv
            .last_inbound_at
            .is_some_and(|at| now - at < WINDOW_SECS);
    let templates = if window_open {
        Vec::new()
    } else {
        match templates_of(&c, &conv).await {
            Ok(list) => list,
            Err(e) => return e.into_response(),
        }
    };
    let lines: Vec<Said> = said
        .into_iter()
        .map(|l| Said {
            from: l.from,
            text: l.text,
            at: labels::when(&user.locale, l.at, 0),
            status: l.status,
        })
        .collect();
    let data = minijinja::context! {
        t => t.value(), lang => words::lang(&user.locale), user => who(user),
        csrf => session.csrf_token,
        conv => minijinja::context! {
            id => conv.id,
            channel => conv.channel.as_str(),
            contact => conv.channel.public_contact(&conv.contact),
            waiting => conv.handoff,
            free_channel_templates => conv.channel == Channel::Chatwoot,
        },
        lines, window_open, templates,
    };
    if q.part.as_deref() == Some("lines") {
        return fragment("transcript.html", data);
    }
    render(StatusCode::OK, "conversation.html", data)
}

/// The approved templates staff may send when the window is closed, as `name|language`.
async fn templates_of(
    c: &Console,
    conv: &conversations::Conversation,
) -> crate::error::Result<Vec<String>> {
    if conv.channel != Channel::WhatsApp {
        return Ok(Vec::new());
    }
    Ok(crate::channels::whatsapp::store::get(&c.db, &conv.tenant)
        .await?
        .map(|ch| {
            ch.templates
                .iter()
                .map(|t| format!("{}|{}", t.name, t.language))
                .collect()
        })
        .unwrap_or_default())
}

/// One part of a page (a template the page includes), for the parts `console.js` refreshes.
fn fragment(template: &str, data: minijinja::Value) -> Response {
    let rendered = PAGES.get_template(template).and_then(|t| t.render(data));
    match rendered {
        Ok(html) => (
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            html,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, template, "rendering a console fragment failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

#[derive(Deserialize)]
pub struct ActForm {
    #[serde(default)]
    csrf: String,
    /// `reply`: free text…
    text: Option<String>,
    /// …or an approved template, `name|language`…
    template: Option<String>,
    /// …with its parameters, one per line.
    parameters: Option<String>,
}

/// Take over, hand back, reply.
pub async fn act(
    State(c): State<Console>,
    signed: Signed,
    Path((id, action)): Path<(String, String)>,
    Form(f): Form<ActForm>,
) -> Response {
    if let Some(refused) = signed.form_refusal(&f.csrf, signed.0.user.role != Role::Professional) {
        return refused;
    }
    let session = &signed.0;
    let (tenant, locale) = (&session.user.tenant, session.user.locale.as_str());
    let t = words::of(locale);
    let conv = match conversations::get(&c.db, tenant, &id).await {
        Ok(conv) => conv,
        Err(e) => return refused(locale, e, &[("outside_window", "window_closed")]),
    };
    let now = c.clock.now_secs();
    let done = match action.as_str() {
        "take" => conversations::set_handoff(&c.db, tenant, &id, true, now).await,
        "release" => conversations::release(&c.db, tenant, &id, now).await,
        "reply" => reply(&c, &conv, f, now).await,
        _ => return problem(StatusCode::NOT_FOUND, locale, t.get("not_found")),
    };
    match done {
        Ok(()) => see_other(&format!("/console/conversations/{id}")),
        Err(e) => refused(locale, e, &[("outside_window", "window_closed")]),
    }
}

async fn reply(
    c: &Console,
    conv: &conversations::Conversation,
    f: ActForm,
    now: i64,
) -> crate::error::Result<()> {
    let template = f.template.filter(|t| !t.trim().is_empty()).map(|t| {
        let (name, language) = t.split_once('|').unwrap_or((t.as_str(), ""));
        TemplateIn {
            name: name.trim().to_string(),
            language: language.trim().to_string(),
            parameters: f
                .parameters
                .as_deref()
                .unwrap_or("")
                .lines()
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(str::to_string)
                .collect(),
        }
    });
    let input = MessageIn {
        text: f
            .text
            .filter(|t| !t.trim().is_empty() || template.is_none()),
        template,
    };
    let output = staff_output(&c.db, &conv.tenant, conv, input, now).await?;
    if !conv.handoff {
        // A person is answering: the bot stops, until someone hands it back.
        conversations::set_handoff(&c.db, &conv.tenant, &conv.id, true, now).await?;
    }
    c.chat.say_as_staff(conv, output, now).await
}
