//! The web chat: `PUT/GET/DELETE /channels/webchat` (API), and the visitor's side with no
//! API key under `/chat/{tenant}`: the page, the embeddable `widget.js`, `POST sessions`
//! (a random token for the browser to keep), `POST messages`, and `GET events`, a stream of
//! server-sent events with the bot's replies (resumable with `Last-Event-ID`).

use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use futures_util::Stream;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use turnero_core::ids::TenantId;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{Auth, Json};
use super::visitor_limits::{client_address, Act, OpenStream};
use super::AppState;
use crate::agenda::tenants;
use crate::channels::webchat;
use crate::chat::{conversations, outbox, Channel};
use crate::db::Db;
use crate::error::{Error, Result};
use turnero_core::time::fmt_ts;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(put_webchat, get_webchat, delete_webchat))
}

/// The visitor's side: no API key, the tenant named in the path.
pub fn visitor_routes() -> Router<AppState> {
    Router::new()
        .route("/chat/{tenant}", get(page))
        .route("/chat/{tenant}/widget.js", get(widget))
        .route("/chat/{tenant}/sessions", post(new_session))
        .route("/chat/{tenant}/messages", post(visitor_says))
        .route("/chat/{tenant}/events", get(replies))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebChatIn {
    /// Shown at the top of the chat.
    pub title: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebChatOut {
    pub title: String,
    /// The chat page, to link to.
    pub chat_url: String,
    /// `<script src="…" async></script>` adds a chat button to any page.
    pub widget_url: String,
    pub created_at: String,
    pub updated_at: String,
}

fn out(c: webchat::WebChat, tenant: &TenantId, base: &str) -> WebChatOut {
    let chat_url = format!("{}/chat/{}", base, tenant.as_str());
    WebChatOut {
        title: c.title,
        widget_url: format!("{chat_url}/widget.js"),
        chat_url,
        created_at: fmt_ts(c.created_at),
        updated_at: fmt_ts(c.updated_at),
    }
}

#[utoipa::path(put, path = "/channels/webchat", tag = "channels", request_body = WebChatIn,
    responses((status = 200, body = WebChatOut), (status = 422, body = crate::error::Problem)))]
async fn put_webchat(
    State(s): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    Json(input): Json<WebChatIn>,
) -> Result<axum::Json<WebChatOut>> {
    let title = super::parse::name(&input.title, "title", 80)?;
    let saved = webchat::put(&s.db, &auth.tenant, &title, s.clock.now_secs()).await?;
    Ok(axum::Json(out(
        saved,
        &auth.tenant,
        &s.public_base(&headers),
    )))
}

#[utoipa::path(get, path = "/channels/webchat", tag = "channels",
    responses((status = 200, body = WebChatOut), (status = 404, body = crate::error::Problem)))]
async fn get_webchat(
    State(s): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
) -> Result<axum::Json<WebChatOut>> {
    let found = webchat::get(&s.db, &auth.tenant)
        .await?
        .ok_or_else(|| Error::not_found("channel"))?;
    Ok(axum::Json(out(
        found,
        &auth.tenant,
        &s.public_base(&headers),
    )))
}

#[utoipa::path(delete, path = "/channels/webchat", tag = "channels", responses((status = 204)))]
async fn delete_webchat(State(s): State<AppState>, auth: Auth) -> Result<StatusCode> {
    if !webchat::delete(&s.db, &auth.tenant).await? {
        return Err(Error::not_found("channel"));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// The tenant, if its web chat is on (404 otherwise, whatever the reason).
async fn enabled(s: &AppState, raw: &str) -> Result<(TenantId, webchat::WebChat)> {
    let tenant = TenantId::parse(raw).map_err(|_| Error::not_found("chat"))?;
    let chat = webchat::get(&s.db, &tenant)
        .await?
        .ok_or_else(|| Error::not_found("chat"))?;
    Ok((tenant, chat))
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

async fn page(State(s): State<AppState>, Path(raw): Path<String>) -> Result<Response> {
    let (tenant, chat) = enabled(&s, &raw).await?;
    let locale = tenants::get(&s.db, &tenant).await?.locale;
    let html = webchat::PAGE
        .replace("{{TITLE}}", &escape_html(&chat.title))
        .replace("{{LANG}}", &escape_html(&locale));
    Ok((
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        html,
    )
        .into_response())
}

async fn widget(State(s): State<AppState>, Path(raw): Path<String>) -> Result<Response> {
    enabled(&s, &raw).await?;
    Ok((
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        webchat::WIDGET,
    )
        .into_response())
}

#[derive(Debug, Serialize)]
struct Session {
    /// Keep it in the browser and send it as `Authorization: Bearer …`.
    token: String,
}

async fn new_session(
    State(s): State<AppState>,
    Path(raw): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Result<(StatusCode, axum::Json<Session>)> {
    let (tenant, chat) = enabled(&s, &raw).await?;
    let address = client_address(peer, &headers);
    s.visitors.check(Act::Session, address, tenant.as_str())?;
    let chat = webchat::ensure_secret(&s.db, &tenant, chat).await?;
    let token = chat.new_token(&tenant);
    Ok((StatusCode::CREATED, axum::Json(Session { token })))
}

/// The visitor's session token, if this server issued it for this chat page.
fn token(headers: &HeaderMap, chat: &webchat::WebChat, tenant: &TenantId) -> Result<String> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| chat.token_ok(tenant, t))
        .map(str::to_string)
        .ok_or_else(|| {
            Error::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "send the session token from POST /chat/{tenant}/sessions as a Bearer token",
            )
        })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct VisitorMessage {
    text: String,
    /// The id of the option pressed, if one was.
    reply_id: Option<String>,
}

#[derive(Serialize)]
struct Accepted {
    conversation_id: String,
}

async fn visitor_says(
    State(s): State<AppState>,
    Path(raw): Path<String>,
    headers: HeaderMap,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Json(input): Json<VisitorMessage>,
) -> Result<(StatusCode, axum::Json<Accepted>)> {
    let (tenant, chat) = enabled(&s, &raw).await?;
    let token = token(&headers, &chat, &tenant)?;
    s.visitors.check(
        Act::Message,
        client_address(peer, &headers),
        tenant.as_str(),
    )?;
    let text = super::parse::text(&input.text, "text", 2000)?;
    let reply_id = super::parse::opt_text(input.reply_id.as_deref(), "reply_id", 256)?;
    let now = s.clock.now_secs();
    let conversation = webchat::receive(&s.db, &tenant, &token, text, reply_id, now).await?;
    s.chat.answer_soon(conversation.clone());
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(Accepted {
            conversation_id: conversation,
        }),
    ))
}

#[derive(Debug, Deserialize)]
struct StreamQuery {
    /// EventSource cannot send headers, so the token comes in the query string.
    token: String,
}

struct Follow {
    db: Db,
    tenant: TenantId,
    contact: String,
    conversation: Option<String>,
    after: String,
    said: broadcast::Receiver<String>,
    ready: VecDeque<Event>,
    /// The process is stopping: the stream ends.
    closing: tokio::sync::watch::Receiver<bool>,
    /// Released when the stream ends.
    _open: OpenStream,
}

impl Follow {
    /// Reads replies written since the last one streamed.
    async fn read(&mut self) -> Result<()> {
        if self.conversation.is_none() {
            self.conversation =
                conversations::find(&self.db, &self.tenant, Channel::WebChat, &self.contact)
                    .await?;
        }
        let Some(c) = &self.conversation else {
            return Ok(());
        };
        for (id, output) in outbox::written_after(&self.db, c, &self.after, 100).await? {
            let data = format!("{{\"id\":\"{id}\",\"output\":{output}}}");
            self.ready
                .push_back(Event::default().id(&id).event("output").data(data));
            self.after = id;
        }
        Ok(())
    }

    /// Until this conversation says something here, or a second passes (another process
    /// may have written it).
    async fn wait(&mut self) {
        let mine = self.conversation.clone();
        let said = &mut self.said;
        let heard = async {
            loop {
                match said.recv().await {
                    Ok(id) if mine.is_none() || mine.as_ref() == Some(&id) => return,
                    Ok(_) => {}
                    Err(broadcast::error::RecvError::Lagged(_)) => return,
                    Err(broadcast::error::RecvError::Closed) => std::future::pending().await,
                }
            }
        };
        let closing = self.closing.wait_for(|c| *c);
        let _ = tokio::time::timeout(Duration::from_secs(1), async {
            tokio::select! {
                _ = heard => {}
                _ = closing => {}
            }
        })
        .await;
    }

    fn closing(&self) -> bool {
        *self.closing.borrow()
    }
}

async fn replies(
    State(s): State<AppState>,
    Path(raw): Path<String>,
    Query(q): Query<StreamQuery>,
    headers: HeaderMap,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let (tenant, chat) = enabled(&s, &raw).await?;
    let mut auth = HeaderMap::new();
    auth.insert(
        header::AUTHORIZATION,
        format!("Bearer {}", q.token)
            .parse()
            .map_err(|_| Error::unauthorized())?,
    );
    let token = token(&auth, &chat, &tenant)?;
    // Counted while open; an idle stream costs a task and a broadcast receiver, no queries
    // beyond one a second.
    let open = s
        .visitors
        .open_stream(client_address(peer, &headers), tenant.as_str())?;
    let after = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let follow = Follow {
        db: s.db.clone(),
        tenant,
        contact: webchat::contact(&token),
        conversation: None,
        after,
        said: s.chat.said.subscribe(),
        ready: VecDeque::new(),
        closing: s.chat.closing.subscribe(),
        _open: open,
    };
    let stream = futures_util::stream::unfold(follow, |mut f| async move {
        loop {
            if let Some(e) = f.ready.pop_front() {
                return Some((Ok(e), f));
            }
            if f.closing() {
                return None;
            }
            if let Err(e) = f.read().await {
                tracing::warn!(error = ?e, "reading web chat replies failed");
            }
            if f.ready.is_empty() {
                f.wait().await;
            }
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}
