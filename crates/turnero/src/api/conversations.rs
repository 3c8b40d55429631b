//! `/conversations`: what the bot is talking about with whom, releasing a conversation a
//! person took over, and staff messages (on WhatsApp, outside the 24-hour window only an
//! approved template may go).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use turnero_core::chat::{Output, Template};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{Auth, Json, Query};
use super::out::{self, ConversationOut, Page, TranscriptLineOut};
use super::parse::within;
use super::AppState;
use crate::channels::whatsapp::store;
use crate::chat::conversations;
use crate::chat::Channel;
use crate::error::{Error, Result};

/// WhatsApp's customer service window: free-form messages only this long after the
/// person last wrote.
pub const WINDOW_SECS: i64 = 24 * 3600;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_conversations))
        .routes(routes!(get_conversation))
        .routes(routes!(release))
        .routes(routes!(send_message, transcript))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ConversationsQuery {
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// 1–200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

#[utoipa::path(get, path = "/conversations", tag = "conversations", params(ConversationsQuery),
    responses((status = 200, body = Page<ConversationOut>)))]
async fn list_conversations(
    State(s): State<AppState>,
    auth: Auth,
    Query(q): Query<ConversationsQuery>,
) -> Result<axum::Json<Page<ConversationOut>>> {
    let limit = within(q.limit.unwrap_or(50), 1..=200, "limit")?;
    let list =
        conversations::list(&s.db, &auth.tenant, q.cursor.as_deref(), i64::from(limit)).await?;
    Ok(axum::Json(Page::of(list, limit, |c| c.id.clone())))
}

#[utoipa::path(get, path = "/conversations/{id}", tag = "conversations",
    responses((status = 200, body = ConversationOut), (status = 404, body = crate::error::Problem)))]
async fn get_conversation(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<axum::Json<ConversationOut>> {
    Ok(axum::Json(
        (&conversations::get(&s.db, &auth.tenant, &id).await?).into(),
    ))
}

/// Gives a handed-off conversation back to the bot: its next message starts the flow anew.
#[utoipa::path(post, path = "/conversations/{id}/release", tag = "conversations",
    responses((status = 200, body = ConversationOut), (status = 404, body = crate::error::Problem)))]
async fn release(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<axum::Json<ConversationOut>> {
    conversations::release(&s.db, &auth.tenant, &id, s.clock.now_secs()).await?;
    Ok(axum::Json(
        (&conversations::get(&s.db, &auth.tenant, &id).await?).into(),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Transcript {
    pub messages: Vec<TranscriptLineOut>,
}

/// What was said in the conversation, oldest first (the latest 200 lines): what staff read
/// before answering a handed-off conversation.
#[utoipa::path(get, path = "/conversations/{id}/messages", tag = "conversations",
    responses((status = 200, body = Transcript), (status = 404, body = crate::error::Problem)))]
async fn transcript(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<axum::Json<Transcript>> {
    conversations::get(&s.db, &auth.tenant, &id).await?;
    let messages = conversations::transcript(&s.db, &auth.tenant, &id, 200).await?;
    Ok(axum::Json(Transcript {
        messages: out::all(messages),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageIn {
    /// Free text (on WhatsApp, only within 24 hours of the person's last message).
    pub text: Option<String>,
    /// An approved template (WhatsApp only; it must be listed in the channel's `templates`).
    pub template: Option<TemplateIn>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateIn {
    pub name: String,
    pub language: String,
    #[serde(default)]
    pub parameters: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MessageQueued {
    pub conversation_id: String,
    /// `queued` until the channel accepts it (see `message.sent` / `message.status` events).
    pub status: &'static str,
}

/// What staff want to send, checked against the conversation's channel: a text (on WhatsApp
/// only within 24 hours of the person's last message) or a template. The console's replies
/// are checked here too.
pub async fn staff_output(
    db: &crate::db::Db,
    tenant: &turnero_core::ids::TenantId,
    c: &conversations::Conversation,
    input: MessageIn,
    now: i64,
) -> Result<Output> {
    Ok(match (input.text, input.template) {
        (Some(text), None) => {
            let text = text.trim().to_string();
            if text.is_empty() || text.chars().count() > 4096 {
                return Err(Error::invalid(
                    "invalid_field",
                    "text",
                    "1 to 4096 characters",
                ));
            }
            let open = c.last_inbound_at.is_some_and(|at| now - at < WINDOW_SECS);
            if c.channel.has_service_window() && !open {
                return Err(Error::conflict(
                    "outside_window",
                    "the person last wrote more than 24 hours ago; only an approved template may be sent",
                ));
            }
            Output::Text(text)
        }
        (None, Some(t)) => {
            let approved = match c.channel {
                Channel::WhatsApp => store::get(db, tenant).await?.is_some_and(|ch| {
                    ch.templates
                        .iter()
                        .any(|a| a.name == t.name && a.language == t.language)
                }),
                // Chatwoot's WhatsApp inbox sends it as a template; Chatwoot and Meta check
                // the name, so only its form is checked here.
                Channel::Chatwoot => {
                    !t.name.is_empty()
                        && t.name.len() <= 512
                        && t.name
                            .chars()
                            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                        && (2..=16).contains(&t.language.len())
                }
                Channel::WebChat | Channel::Telegram | Channel::Email => false,
            };
            if !approved {
                return Err(Error::invalid(
                    "unknown_template",
                    "template.name",
                    "not one of the channel's approved templates (PUT /channels/whatsapp `templates`; on Chatwoot, a template name and language)",
                ));
            }
            if t.parameters.len() > 20
                || t.parameters
                    .iter()
                    .any(|p| p.is_empty() || p.chars().count() > 1024)
            {
                return Err(Error::invalid(
                    "invalid_field",
                    "template.parameters",
                    "up to 20 values of 1 to 1024 characters",
                ));
            }
            Output::Template(Template {
                name: t.name,
                language: t.language,
                parameters: t.parameters,
                buttons: vec![],
            })
        }
        _ => {
            return Err(Error::invalid(
                "invalid_field",
                "text",
                "send either `text` or `template`",
            ));
        }
    })
}

/// A message from staff, sent on the conversation's channel.
#[utoipa::path(post, path = "/conversations/{id}/messages", tag = "conversations", request_body = MessageIn,
    responses((status = 202, body = MessageQueued), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
async fn send_message(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Json(input): Json<MessageIn>,
) -> Result<(StatusCode, axum::Json<MessageQueued>)> {
    let c = conversations::get(&s.db, &auth.tenant, &id).await?;
    let now = s.clock.now_secs();
    let output = staff_output(&s.db, &auth.tenant, &c, input, now).await?;
    s.chat.say_as_staff(&c, output, now).await?;
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(MessageQueued {
            conversation_id: c.id,
            status: "queued",
        }),
    ))
}
