//! `PUT/GET/DELETE /channels/chatwoot` (the clinic's Chatwoot account; tokens write-only),
//! `POST /channels/chatwoot/syncs` (copy the customers into Chatwoot's contacts) with its
//! progress at `GET /channels/chatwoot/syncs/{id}`, and Chatwoot's webhook, outside
//! `/api/v1`: `POST /channels/chatwoot/{key}/webhook`, with a health `GET` on the same URL.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use axum::Router;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{Auth, Json};
use super::AppState;
use crate::channels::chatwoot::inbound::{self, Receipt};
use crate::channels::chatwoot::store::{self, Channel, ChannelDef};
use crate::channels::chatwoot::{contacts, outreach, sync};
use crate::error::{Error, Result};
use turnero_core::ids::next_ulid;
use turnero_core::time::fmt_ts;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(put_chatwoot, get_chatwoot, delete_chatwoot))
        .routes(routes!(start_sync))
        .routes(routes!(get_sync))
        .routes(routes!(write_first))
}

/// Chatwoot's side, with no API key: the tenant is named by the key in the URL.
pub fn webhook_routes() -> Router<AppState> {
    Router::new().route(
        "/channels/chatwoot/{key}/webhook",
        get(health).post(receive),
    )
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChatwootIn {
    /// Where Chatwoot runs, e.g. `https://chatwoot.example.com`.
    pub base_url: String,
    pub account_id: i64,
    /// The inbox new contacts are created in (the sync).
    pub inbox_id: Option<i64>,
    /// An agent's or admin's access token (Profile → Access Token): contacts need one.
    /// Write-only.
    pub api_access_token: String,
    /// The agent bot's token, for its replies and handoffs. Write-only.
    pub agent_bot_token: Option<String>,
    /// The agent bot's (or webhook's) secret, when your Chatwoot signs webhooks (4.11+);
    /// then unsigned or badly signed webhooks are refused. Write-only.
    pub hmac_secret: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChatwootOut {
    /// The agent bot's `outgoing_url` (or an account webhook's URL) in Chatwoot.
    pub webhook_url: String,
    pub base_url: String,
    pub account_id: i64,
    pub inbox_id: Option<i64>,
    /// Whether replies go with an agent bot token of their own.
    pub agent_bot_token_set: bool,
    /// Whether webhooks must be signed.
    pub signed: bool,
    pub created_at: String,
    pub updated_at: String,
}

fn out(s: &AppState, headers: &HeaderMap, c: Channel) -> ChatwootOut {
    ChatwootOut {
        webhook_url: format!(
            "{}/channels/chatwoot/{}/webhook",
            s.public_base(headers),
            c.path_key
        ),
        agent_bot_token_set: c.agent_bot_token.is_some(),
        signed: c.hmac_secret.is_some(),
        base_url: c.base_url,
        account_id: c.account_id,
        inbox_id: c.inbox_id,
        created_at: fmt_ts(c.created_at),
        updated_at: fmt_ts(c.updated_at),
    }
}

fn token(raw: Option<&str>, field: &str) -> Result<Option<String>> {
    match raw.map(str::trim) {
        None => Ok(None),
        Some(t) if (1..=500).contains(&t.len()) && !t.chars().any(char::is_control) => {
            Ok(Some(t.to_string()))
        }
        Some(_) => Err(Error::invalid(
            "invalid_field",
            field,
            "1 to 500 characters, no control characters",
        )),
    }
}

fn positive(v: i64, field: &str) -> Result<i64> {
    if v < 1 {
        return Err(Error::invalid("invalid_field", field, "a positive id"));
    }
    Ok(v)
}

#[utoipa::path(put, path = "/channels/chatwoot", tag = "channels", request_body = ChatwootIn,
    responses((status = 200, body = ChatwootOut), (status = 422, body = crate::error::Problem)))]
async fn put_chatwoot(
    State(s): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    Json(input): Json<ChatwootIn>,
) -> Result<axum::Json<ChatwootOut>> {
    let base_url =
        super::parse::vendor_url(&s.chat.outbound, Some(&input.base_url), "", "base_url")?;
    let def = ChannelDef {
        base_url,
        account_id: positive(input.account_id, "account_id")?,
        inbox_id: input
            .inbox_id
            .map(|i| positive(i, "inbox_id"))
            .transpose()?,
        api_access_token: token(Some(&input.api_access_token), "api_access_token")?
            .unwrap_or_default(),
        agent_bot_token: token(input.agent_bot_token.as_deref(), "agent_bot_token")?,
        hmac_secret: token(input.hmac_secret.as_deref(), "hmac_secret")?,
    };
    let saved = store::put(&s.db, &auth.tenant, def, s.clock.now_secs()).await?;
    Ok(axum::Json(out(&s, &headers, saved)))
}

#[utoipa::path(get, path = "/channels/chatwoot", tag = "channels",
    responses((status = 200, body = ChatwootOut), (status = 404, body = crate::error::Problem)))]
async fn get_chatwoot(
    State(s): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
) -> Result<axum::Json<ChatwootOut>> {
    let found = store::get(&s.db, &auth.tenant)
        .await?
        .ok_or_else(|| Error::not_found("channel"))?;
    Ok(axum::Json(out(&s, &headers, found)))
}

#[utoipa::path(delete, path = "/channels/chatwoot", tag = "channels", responses((status = 204),
    (status = 404, body = crate::error::Problem)))]
async fn delete_chatwoot(State(s): State<AppState>, auth: Auth) -> Result<StatusCode> {
    if !store::delete(&s.db, &auth.tenant).await? {
        return Err(Error::not_found("channel"));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Starts copying every customer with a phone into Chatwoot's contacts; 202 with the run,
/// whose progress and report `GET /channels/chatwoot/syncs/{id}` answers.
#[utoipa::path(post, path = "/channels/chatwoot/syncs", tag = "channels",
    responses((status = 202, body = SyncRunOut), (status = 404, body = crate::error::Problem),
        (status = 409, body = crate::error::Problem)))]
async fn start_sync(
    State(s): State<AppState>,
    auth: Auth,
) -> Result<(StatusCode, axum::Json<SyncRunOut>)> {
    store::get(&s.db, &auth.tenant)
        .await?
        .ok_or_else(|| Error::not_found("channel"))?;
    let run = sync::start(&s.db, &auth.tenant, s.clock.now_secs()).await?;
    let (db, clock, outbound) = (s.db.clone(), s.clock.clone(), s.chat.outbound.clone());
    let (tenant, id) = (auth.tenant.clone(), run.id.clone());
    tokio::spawn(async move {
        let owner = next_ulid().to_string();
        if let Err(e) = sync::run(&db, &outbound, &clock, &tenant, &id, &owner).await {
            tracing::warn!(error = ?e, run = id, "a Chatwoot sync stopped; another round takes it up");
        }
    });
    Ok((StatusCode::ACCEPTED, axum::Json(run.into())))
}

#[utoipa::path(get, path = "/channels/chatwoot/syncs/{id}", tag = "channels",
    responses((status = 200, body = SyncRunOut), (status = 404, body = crate::error::Problem)))]
async fn get_sync(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<axum::Json<SyncRunOut>> {
    Ok(axum::Json(
        sync::get(&s.db, &auth.tenant, &id).await?.into(),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutreachIn {
    pub customer_id: String,
    /// What to say: a text…
    pub text: Option<String>,
    /// …or a WhatsApp template by name (Chatwoot's WhatsApp inbox sends it as one).
    pub template: Option<super::conversations::TemplateIn>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OutreachOut {
    /// The conversation here (`GET /conversations/{id}`); the person's answer goes on in it.
    pub conversation_id: String,
    /// The conversation in Chatwoot.
    pub chatwoot_conversation_id: i64,
    /// `queued` until Chatwoot accepts it (see the `message.sent` event).
    pub status: &'static str,
}

/// Writes to a customer first, through Chatwoot: finds (or creates) their contact, opens a
/// `pending` conversation in the account's inbox and sends the message there; the person's
/// answer reaches the bot.
#[utoipa::path(post, path = "/channels/chatwoot/conversations", tag = "channels",
    request_body = OutreachIn,
    responses((status = 201, body = OutreachOut), (status = 404, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem), (status = 502, body = crate::error::Problem)))]
async fn write_first(
    State(s): State<AppState>,
    auth: Auth,
    Json(input): Json<OutreachIn>,
) -> Result<(StatusCode, axum::Json<OutreachOut>)> {
    let ch = store::get(&s.db, &auth.tenant)
        .await?
        .ok_or_else(|| Error::not_found("channel"))?;
    let id = super::parse::body_id(
        &input.customer_id,
        "customer_id",
        turnero_core::ids::CustomerId::parse,
    )?;
    let customer = crate::agenda::customers::get_present(&s.db, &auth.tenant, &id).await?;
    let now = s.clock.now_secs();
    let opened = outreach::open(&s.db, &s.chat.outbound, &ch, &customer, now)
        .await?
        .map_err(|f| {
            Error::new(
                StatusCode::BAD_GATEWAY,
                "chatwoot_refused",
                format!("Chatwoot could not open the conversation: {}", f.describe()),
            )
        })?;
    let message = super::conversations::MessageIn {
        text: input.text,
        template: input.template,
    };
    let output =
        super::conversations::staff_output(&s.db, &auth.tenant, &opened, message, now).await?;
    s.chat.say_as_staff(&opened, output, now).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(OutreachOut {
            chatwoot_conversation_id: opened.contact.parse().unwrap_or_default(),
            conversation_id: opened.id,
            status: "queued",
        }),
    ))
}

/// A sync run's progress and report.
#[derive(Debug, Serialize, ToSchema)]
pub struct SyncRunOut {
    pub id: String,
    /// `running` or `done`.
    pub status: String,
    /// Customers when the run started.
    pub total: i64,
    /// Customers looked at so far.
    pub done: i64,
    pub created: i64,
    pub updated: i64,
    pub unchanged: i64,
    /// Customers that cannot be a contact (`no_phone`, `no_inbox`).
    pub skipped: i64,
    /// Customers Chatwoot refused, by reason in `reasons`.
    pub failed: i64,
    /// Skipped and failed customers by reason (Chatwoot's own words for a refusal).
    pub reasons: std::collections::BTreeMap<String, i64>,
    pub started_at: String,
    pub finished_at: Option<String>,
}

impl From<sync::Run> for SyncRunOut {
    fn from(r: sync::Run) -> Self {
        SyncRunOut {
            done: r.done(),
            id: r.id,
            status: r.status,
            total: r.total,
            created: r.created,
            updated: r.updated,
            unchanged: r.unchanged,
            skipped: r.skipped,
            failed: r.failed,
            reasons: r.reasons,
            started_at: fmt_ts(r.started_at),
            finished_at: r.finished_at.map(fmt_ts),
        }
    }
}

async fn channel(s: &AppState, key: &str) -> Result<Channel> {
    store::by_key(&s.db, key)
        .await?
        .ok_or_else(|| Error::not_found("channel"))
}

/// The health answer integrators know from seed 002.
async fn health(State(s): State<AppState>, Path(key): Path<String>) -> Result<axum::Json<Value>> {
    channel(&s, &key).await?;
    Ok(axum::Json(json!({
        "success": true,
        "message": "turnero's Chatwoot webhook is up",
        "timestamp": fmt_ts(s.clock.now_secs()),
    })))
}

async fn receive(
    State(s): State<AppState>,
    Path(key): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<axum::Json<Receipt>> {
    let c = channel(&s, &key).await?;
    let now = s.clock.now_secs();
    if let Some(secret) = &c.hmac_secret {
        let h = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let ts = h("x-chatwoot-timestamp");
        if !inbound::signature_ok(secret, ts, &body, h("x-chatwoot-signature"), now) {
            return Err(Error::new(
                StatusCode::UNAUTHORIZED,
                "invalid_signature",
                "X-Chatwoot-Signature does not match the timestamp and body, or is too old",
            ));
        }
    }
    let receipt = inbound::receive(&s.db, &c, &body, now).await?;
    // Chatwoot gets its 200 now (a slow bot makes Chatwoot hand the conversation to people).
    if let Some(conversation) = &receipt.to_answer {
        s.chat.answer_soon(conversation.clone());
    }
    if let Some((customer, contact)) = &receipt.detected {
        // A plain write: the follower brings the contact's attributes from its event, and
        // retries while Chatwoot is down.
        if let Err(e) = contacts::link(&s.db, &c, customer, *contact, false, now).await {
            tracing::warn!(error = ?e, customer, "linking a Chatwoot contact failed");
        }
    }
    Ok(axum::Json(receipt))
}
