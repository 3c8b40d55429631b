//! `PUT/GET/DELETE /channels/email`: the tenant's mail server for reminders and confirmations.
//! The SMTP password is write-only: answers show the URL with it masked.

use std::net::IpAddr;

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use turnero_core::time::fmt_ts;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{Auth, Json};
use super::AppState;
use crate::channels::email::store::{self, EmailChannel};
use crate::error::{Error, Result};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(put_email, get_email, delete_email))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailChannelIn {
    /// `smtp://user:pass@host:587` (STARTTLS, required) or `smtps://user:pass@host:465`
    /// (TLS from the start); `?tls=none` only for a relay beside turnero. The password is
    /// never shown back.
    pub smtp_url: String,
    /// The sender: `Clínica Sur <turnos@clinicasur.com>`.
    pub from: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EmailChannelOut {
    /// The URL with its password masked.
    pub smtp_url: String,
    pub from: String,
    pub created_at: String,
    pub updated_at: String,
}

impl From<EmailChannel> for EmailChannelOut {
    fn from(c: EmailChannel) -> Self {
        EmailChannelOut {
            smtp_url: c.shown_url(),
            from: c.from.clone(),
            created_at: fmt_ts(c.created_at),
            updated_at: fmt_ts(c.updated_at),
        }
    }
}

fn check_smtp_url(s: &AppState, raw: &str) -> Result<String> {
    let bad = |why: &str| Error::invalid("invalid_field", "smtp_url", why.to_string());
    let raw = super::parse::text(raw, "smtp_url", 2000)?;
    let url = url::Url::parse(&raw).map_err(|_| bad("smtp://user:pass@host:port or smtps://…"))?;
    if !matches!(url.scheme(), "smtp" | "smtps") {
        return Err(bad("the scheme must be smtp (STARTTLS) or smtps (TLS)"));
    }
    let refused = |e: crate::outbound::Refused| {
        Error::invalid("url_refused", "smtp_url", format!("cannot be used: {e}"))
    };
    // The address is checked again at every send (a name may resolve elsewhere later).
    match url.host() {
        None => return Err(bad("the URL has no host")),
        Some(url::Host::Ipv4(ip)) => s
            .chat
            .outbound
            .guard
            .check_ip(IpAddr::V4(ip))
            .map_err(refused)?,
        Some(url::Host::Ipv6(ip)) => s
            .chat
            .outbound
            .guard
            .check_ip(IpAddr::V6(ip))
            .map_err(refused)?,
        Some(url::Host::Domain(_)) => {}
    }
    Ok(raw)
}

#[utoipa::path(put, path = "/channels/email", tag = "channels", request_body = EmailChannelIn,
    responses((status = 200, body = EmailChannelOut), (status = 422, body = crate::error::Problem)))]
async fn put_email(
    State(s): State<AppState>,
    auth: Auth,
    Json(input): Json<EmailChannelIn>,
) -> Result<axum::Json<EmailChannelOut>> {
    let smtp_url = check_smtp_url(&s, &input.smtp_url)?;
    let from = super::parse::text(&input.from, "from", 300)?;
    from.parse::<lettre::message::Mailbox>().map_err(|_| {
        Error::invalid(
            "invalid_field",
            "from",
            "an address, optionally with a name: `Name <a@b.c>`",
        )
    })?;
    store::put(&s.db, &auth.tenant, &smtp_url, &from, s.clock.now_secs()).await?;
    let ch = store::get(&s.db, &auth.tenant)
        .await?
        .ok_or_else(|| Error::not_found("email channel"))?;
    Ok(axum::Json(ch.into()))
}

#[utoipa::path(get, path = "/channels/email", tag = "channels",
    responses((status = 200, body = EmailChannelOut), (status = 404, body = crate::error::Problem)))]
async fn get_email(State(s): State<AppState>, auth: Auth) -> Result<axum::Json<EmailChannelOut>> {
    let ch = store::get(&s.db, &auth.tenant)
        .await?
        .ok_or_else(|| Error::not_found("email channel"))?;
    Ok(axum::Json(ch.into()))
}

#[utoipa::path(delete, path = "/channels/email", tag = "channels",
    responses((status = 204), (status = 404, body = crate::error::Problem)))]
async fn delete_email(State(s): State<AppState>, auth: Auth) -> Result<StatusCode> {
    if store::delete(&s.db, &auth.tenant).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Error::not_found("email channel"))
    }
}
