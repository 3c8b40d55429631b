//! `PUT/GET/DELETE /channels/whatsapp` (a tenant's number, secrets write-only) and Meta's
//! webhook for it, outside `/api/v1`: `GET /channels/whatsapp/{key}/webhook` (the
//! verification handshake) and `POST` (messages and statuses, signature checked on the raw
//! bytes).

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{Auth, Json};
use super::AppState;
use crate::channels::whatsapp::inbound::{self, Receipt};
use crate::channels::whatsapp::store::{
    self, Channel, ChannelDef, TemplateRef, DEFAULT_GRAPH_API_URL,
};
use crate::error::{Error, Result};
use turnero_core::time::fmt_ts;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(put_whatsapp, get_whatsapp, delete_whatsapp))
}

/// Meta's side, with no API key: the tenant is named by the key in the URL.
pub fn webhook_routes() -> Router<AppState> {
    Router::new().route(
        "/channels/whatsapp/{key}/webhook",
        get(verify).post(receive),
    )
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WhatsAppIn {
    pub phone_number_id: String,
    /// A system-user token, to send. Write-only.
    pub access_token: String,
    /// The Meta app's secret, to check `X-Hub-Signature-256`. Write-only.
    pub app_secret: String,
    /// What you type as "Verify token" in Meta's webhook settings. Write-only.
    pub verify_token: String,
    /// Default `https://graph.facebook.com/v24.0`.
    pub graph_api_url: Option<String>,
    /// Templates approved with Meta that may be sent outside the 24-hour window
    /// (`POST /conversations/{id}/messages`).
    #[serde(default)]
    pub templates: Vec<TemplateRef>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WhatsAppOut {
    /// Register this as the webhook's callback URL in Meta's app settings.
    pub webhook_url: String,
    pub phone_number_id: String,
    pub graph_api_url: String,
    pub templates: Vec<TemplateRef>,
    pub created_at: String,
    pub updated_at: String,
}

fn out(c: Channel, base: &str) -> WhatsAppOut {
    WhatsAppOut {
        webhook_url: format!("{}/channels/whatsapp/{}/webhook", base, c.path_key),
        phone_number_id: c.phone_number_id,
        graph_api_url: c.graph_api_url,
        templates: c.templates,
        created_at: fmt_ts(c.created_at),
        updated_at: fmt_ts(c.updated_at),
    }
}

fn required(value: &str, field: &str, max: usize) -> Result<String> {
    let v = value.trim();
    if v.is_empty() || v.len() > max {
        return Err(Error::invalid(
            "invalid_field",
            field,
            format!("1 to {max} characters"),
        ));
    }
    Ok(v.to_string())
}

fn checked_templates(list: Vec<TemplateRef>) -> Result<Vec<TemplateRef>> {
    if list.len() > 100 {
        return Err(Error::invalid("too_many", "templates", "at most 100"));
    }
    list.into_iter()
        .enumerate()
        .map(|(i, t)| {
            let name = required(&t.name, &format!("templates[{i}].name"), 512)?;
            if !name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            {
                return Err(Error::invalid(
                    "invalid_field",
                    format!("templates[{i}].name"),
                    "lowercase letters, digits and underscores, as Meta names templates",
                ));
            }
            let language = required(&t.language, &format!("templates[{i}].language"), 16)?;
            Ok(TemplateRef { name, language })
        })
        .collect()
}

#[utoipa::path(put, path = "/channels/whatsapp", tag = "channels", request_body = WhatsAppIn,
    responses((status = 200, body = WhatsAppOut), (status = 422, body = crate::error::Problem)))]
async fn put_whatsapp(
    State(s): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    Json(input): Json<WhatsAppIn>,
) -> Result<axum::Json<WhatsAppOut>> {
    let phone_number_id = required(&input.phone_number_id, "phone_number_id", 64)?;
    if !phone_number_id.chars().all(|c| c.is_ascii_digit()) {
        return Err(Error::invalid(
            "invalid_field",
            "phone_number_id",
            "digits only, as Meta shows it",
        ));
    }
    let graph_api_url = super::parse::vendor_url(
        &s.hub.outbound,
        input.graph_api_url.as_deref(),
        DEFAULT_GRAPH_API_URL,
        "graph_api_url",
    )?;
    let def = ChannelDef {
        phone_number_id,
        access_token: required(&input.access_token, "access_token", 1000)?,
        app_secret: required(&input.app_secret, "app_secret", 200)?,
        verify_token: required(&input.verify_token, "verify_token", 200)?,
        graph_api_url,
        templates: checked_templates(input.templates)?,
    };
    let saved = store::put(&s.db, &auth.tenant, def, s.clock.now_secs()).await?;
    Ok(axum::Json(out(saved, &s.public_base(&headers))))
}

#[utoipa::path(get, path = "/channels/whatsapp", tag = "channels",
    responses((status = 200, body = WhatsAppOut), (status = 404, body = crate::error::Problem)))]
async fn get_whatsapp(
    State(s): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
) -> Result<axum::Json<WhatsAppOut>> {
    let found = store::get(&s.db, &auth.tenant)
        .await?
        .ok_or_else(|| Error::not_found("channel"))?;
    Ok(axum::Json(out(found, &s.public_base(&headers))))
}

#[utoipa::path(delete, path = "/channels/whatsapp", tag = "channels", responses((status = 204)))]
async fn delete_whatsapp(State(s): State<AppState>, auth: Auth) -> Result<StatusCode> {
    if !store::delete(&s.db, &auth.tenant).await? {
        return Err(Error::not_found("channel"));
    }
    Ok(StatusCode::NO_CONTENT)
}

async fn channel(s: &AppState, key: &str) -> Result<Channel> {
    store::by_key(&s.db, key)
        .await?
        .ok_or_else(|| Error::not_found("channel"))
}

/// Meta's handshake: echo `hub.challenge` when the verify token matches.
async fn verify(
    State(s): State<AppState>,
    Path(key): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response> {
    let c = channel(&s, &key).await?;
    let token = q.get("hub.verify_token").map(String::as_str).unwrap_or("");
    if q.get("hub.mode").map(String::as_str) != Some("subscribe") || !c.verify_token_matches(token)
    {
        return Err(Error::new(
            StatusCode::FORBIDDEN,
            "verification_failed",
            "hub.mode must be subscribe and hub.verify_token must match",
        ));
    }
    let challenge = q.get("hub.challenge").cloned().unwrap_or_default();
    Ok((StatusCode::OK, challenge).into_response())
}

async fn receive(
    State(s): State<AppState>,
    Path(key): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<axum::Json<Receipt>> {
    let c = channel(&s, &key).await?;
    let signature = headers
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok());
    if !inbound::signature_ok(&c.app_secret, &body, signature) {
        return Err(Error::new(
            StatusCode::UNAUTHORIZED,
            "invalid_signature",
            "X-Hub-Signature-256 does not match the body",
        ));
    }
    let receipt = inbound::receive(&s.db, &c, &body, s.clock.now_secs()).await?;
    // Meta gets its 200 now; the bot answers right after (or, if this process dies first,
    // the sweeper of any process does).
    for conversation in &receipt.to_answer {
        s.chat.answer_soon(conversation.clone());
    }
    if receipt.failed > 0 {
        // Meta redelivers on anything but a 2xx; what was kept is skipped then as seen.
        return Err(Error::Internal(anyhow::anyhow!(
            "{} of the batch not recorded",
            receipt.failed
        )));
    }
    Ok(axum::Json(receipt))
}
