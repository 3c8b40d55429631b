//! `PUT/GET/DELETE /channels/telegram` (a tenant's bot; the token write-only) and Telegram's
//! webhook for it, outside `/api/v1`: `POST /channels/telegram/{key}/webhook`, checked
//! against the secret token registered with `setWebhook`.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{Auth, Json};
use super::AppState;
use crate::channels::telegram::bot_api::{self, Failure, DEFAULT_API_URL};
use crate::channels::telegram::inbound::{self, Receipt};
use crate::channels::telegram::send::acknowledge;
use crate::channels::telegram::store::{self, Channel, ChannelDef};
use crate::error::{Error, Result};
use crate::secrets;
use turnero_core::time::fmt_ts;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(put_telegram, get_telegram, delete_telegram))
}

/// Telegram's side, with no API key: the tenant is named by the key in the URL.
pub fn webhook_routes() -> Router<AppState> {
    Router::new().route("/channels/telegram/{key}/webhook", post(receive))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TelegramIn {
    /// The token @BotFather gave (`123456789:AA…`). Write-only.
    pub bot_token: String,
    /// Default `https://api.telegram.org` (a local Bot API server, or a stand-in in tests).
    pub api_url: Option<String>,
}

/// What Telegram says about the webhook (`getWebhookInfo`): a broken hook shows here.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookInfo {
    pub url: String,
    /// Updates Telegram holds because they could not be delivered yet.
    pub pending_update_count: i64,
    pub last_error_at: Option<String>,
    pub last_error_message: Option<String>,
    pub max_connections: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TelegramOut {
    /// Where Telegram posts updates (registered with `setWebhook`).
    pub webhook_url: String,
    pub bot_id: i64,
    /// Patients find the bot at `https://t.me/{bot_username}`.
    pub bot_username: Option<String>,
    pub api_url: String,
    /// Telegram's view of the webhook, asked now; `null` when Telegram could not be asked
    /// (`webhook_error` says why).
    pub webhook: Option<WebhookInfo>,
    pub webhook_error: Option<String>,
    /// Chats whose person blocked the bot (nothing is sent to them until they write).
    pub blocked_chats: i64,
    pub created_at: String,
    pub updated_at: String,
}

fn refused(f: Failure, doing: &str) -> Error {
    match f {
        Failure::Unreachable(why) => Error::new(
            StatusCode::BAD_GATEWAY,
            "telegram_unreachable",
            format!("Telegram could not be reached to {doing}: {why}"),
        ),
        Failure::NotAllowed(why) => Error::invalid(
            "url_refused",
            "api_url",
            format!("Telegram's address cannot be used: {why}"),
        ),
        Failure::Refused { description, .. } => Error::invalid(
            "telegram_refused",
            "bot_token",
            format!("Telegram refused to {doing}: {description}"),
        ),
    }
}

async fn out(s: &AppState, c: Channel, headers: &HeaderMap) -> Result<TelegramOut> {
    let info = bot_api::call(
        &s.chat.outbound,
        &c.api_url,
        &c.bot_token,
        "getWebhookInfo",
        &json!({}),
    )
    .await;
    let (webhook, webhook_error) = match info {
        Ok(i) => (
            Some(WebhookInfo {
                url: i["url"].as_str().unwrap_or_default().to_string(),
                pending_update_count: i["pending_update_count"].as_i64().unwrap_or(0),
                last_error_at: i["last_error_date"].as_i64().map(fmt_ts),
                last_error_message: i["last_error_message"].as_str().map(str::to_string),
                max_connections: i["max_connections"].as_i64(),
            }),
            None,
        ),
        Err(f) => (None, Some(f.describe())),
    };
    Ok(TelegramOut {
        blocked_chats: store::blocked_count(&s.db, &c.tenant).await?,
        webhook_url: webhook_url(s, headers, &c.path_key),
        bot_id: c.bot_id,
        bot_username: c.bot_username,
        api_url: c.api_url,
        webhook,
        webhook_error,
        created_at: fmt_ts(c.created_at),
        updated_at: fmt_ts(c.updated_at),
    })
}

fn webhook_url(s: &AppState, headers: &HeaderMap, key: &str) -> String {
    format!("{}/channels/telegram/{key}/webhook", s.public_base(headers))
}

/// `123456789:AA…`: digits, a colon, then letters, digits, `_` and `-`.
fn token_ok(token: &str) -> bool {
    let Some((id, rest)) = token.split_once(':') else {
        return false;
    };
    (1..=20).contains(&id.len())
        && id.bytes().all(|b| b.is_ascii_digit())
        && (20..=200).contains(&rest.len())
        && rest
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Checks the token with `getMe`, registers turnero's webhook with a fresh secret token,
/// and keeps the bot. Nothing is kept if Telegram refuses.
#[utoipa::path(put, path = "/channels/telegram", tag = "channels", request_body = TelegramIn,
    responses((status = 200, body = TelegramOut), (status = 409, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem), (status = 502, body = crate::error::Problem)))]
async fn put_telegram(
    State(s): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    Json(input): Json<TelegramIn>,
) -> Result<axum::Json<TelegramOut>> {
    let bot_token = input.bot_token.trim().to_string();
    if !token_ok(&bot_token) {
        return Err(Error::invalid(
            "invalid_field",
            "bot_token",
            "the token @BotFather gave, like 123456789:AAH…",
        ));
    }
    let api_url = super::parse::vendor_url(
        &s.chat.outbound,
        input.api_url.as_deref(),
        DEFAULT_API_URL,
        "api_url",
    )?;
    let outbound = &s.chat.outbound;
    let me = bot_api::call(outbound, &api_url, &bot_token, "getMe", &json!({}))
        .await
        .map_err(|f| refused(f, "check the token"))?;
    let bot_id = me["id"].as_i64().unwrap_or_default();
    if store::held_elsewhere(&s.db, &auth.tenant, bot_id).await? {
        return Err(Error::conflict(
            "bot_in_use",
            "this bot is connected to another account; disconnect it there first",
        ));
    }
    // Kept before Telegram is told, so the first update with the new secret finds it; put
    // back as it was if Telegram refuses.
    let before = store::get(&s.db, &auth.tenant).await?;
    let secret = secrets::random_hex(32);
    let def = ChannelDef {
        bot_token: bot_token.clone(),
        api_url: api_url.clone(),
        secret: secret.clone(),
        bot_id,
        bot_username: me["username"].as_str().map(str::to_string),
    };
    let saved = store::put(&s.db, &auth.tenant, def, s.clock.now_secs()).await?;
    let hook = json!({
        "url": webhook_url(&s, &headers, &saved.path_key),
        "secret_token": secret,
        "allowed_updates": ["message", "callback_query"],
        "max_connections": 40,
    });
    if let Err(f) = bot_api::call(outbound, &api_url, &bot_token, "setWebhook", &hook).await {
        store::restore(&s.db, &auth.tenant, before).await?;
        return Err(refused(f, "set the webhook"));
    }
    Ok(axum::Json(out(&s, saved, &headers).await?))
}

#[utoipa::path(get, path = "/channels/telegram", tag = "channels",
    responses((status = 200, body = TelegramOut), (status = 404, body = crate::error::Problem)))]
async fn get_telegram(
    State(s): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
) -> Result<axum::Json<TelegramOut>> {
    let found = store::get(&s.db, &auth.tenant)
        .await?
        .ok_or_else(|| Error::not_found("channel"))?;
    Ok(axum::Json(out(&s, found, &headers).await?))
}

/// Removes the webhook at Telegram (when it can be reached) and the bot here.
#[utoipa::path(delete, path = "/channels/telegram", tag = "channels", responses((status = 204),
    (status = 404, body = crate::error::Problem)))]
async fn delete_telegram(State(s): State<AppState>, auth: Auth) -> Result<StatusCode> {
    let found = store::get(&s.db, &auth.tenant)
        .await?
        .ok_or_else(|| Error::not_found("channel"))?;
    let gone = bot_api::call(
        &s.chat.outbound,
        &found.api_url,
        &found.bot_token,
        "deleteWebhook",
        &json!({}),
    )
    .await;
    if let Err(f) = gone {
        // Removed here anyway: its updates now get a 404 and Telegram gives up on them.
        tracing::warn!(
            error = f.describe(),
            "Telegram's webhook could not be removed"
        );
    }
    store::delete(&s.db, &auth.tenant).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn receive(
    State(s): State<AppState>,
    Path(key): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<axum::Json<Receipt>> {
    let c = store::by_key(&s.db, &key)
        .await?
        .ok_or_else(|| Error::not_found("channel"))?;
    let given = headers
        .get("x-telegram-bot-api-secret-token")
        .and_then(|v| v.to_str().ok());
    if !c.secret_matches(given) {
        return Err(Error::new(
            StatusCode::UNAUTHORIZED,
            "invalid_secret_token",
            "X-Telegram-Bot-Api-Secret-Token is not this bot's secret token",
        ));
    }
    let receipt = inbound::receive(&s.db, &c, &body, s.clock.now_secs()).await?;
    // Telegram gets its 200 now; the tap is acknowledged and the bot answers right after
    // (or, if this process dies first, the sweeper of any process answers).
    if let Some(tap) = receipt.tap.clone() {
        let outbound = s.chat.outbound.clone();
        tokio::spawn(async move { acknowledge(&outbound, &c, &tap).await });
    }
    if let Some(conversation) = &receipt.to_answer {
        s.chat.answer_soon(conversation.clone());
    }
    Ok(axum::Json(receipt))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_botfather_token_is_digits_a_colon_and_a_long_secret() {
        assert!(token_ok("7012345678:AAH4x9Lr2QpT_vW8-zKq1mNbCdEfGhIjKlM"));
        assert!(!token_ok("AAH4x9Lr2QpT_vW8-zKq1mNbCdEfGhIjKlM"));
        assert!(!token_ok("70123:short"));
        assert!(!token_ok("7012345678:AAH4x9Lr2QpT vW8-zKq1mNbCdEfGhIjKlM"));
        assert!(!token_ok("7012345678:AAH4x9Lr2QpT/vW8-zKq1mNbCdEfGhIjKlM"));
    }
}
