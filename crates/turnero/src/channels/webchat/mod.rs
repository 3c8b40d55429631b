//! The web chat: a page and an embeddable widget served by turnero at `/chat/{tenant}`,
//! talking to JSON endpoints, with the bot's replies streamed back as server-sent events.
//! A visitor is known by a random session token kept in their browser; only its hash is
//! stored (as the conversation's contact).

use sqlx::Row;
use turnero_core::ids::{next_ulid, TenantId};

use crate::chat::inbox::{self, About, Inbound};
use crate::chat::Channel;
use crate::db::Db;
use crate::error::Result;

pub const PAGE: &str = include_str!("page.html");
pub const WIDGET: &str = include_str!("widget.js");

pub struct WebChat {
    pub title: String,
    /// Signs the visitors' session tokens (never shown).
    session_secret: String,
    pub created_at: i64,
    pub updated_at: i64,
}

pub async fn put(db: &Db, tenant: &TenantId, title: &str, now: i64) -> Result<WebChat> {
    // Answered from the write itself: a DELETE racing it cannot leave nothing to read.
    let r = sqlx::query(
        "INSERT INTO webchat_channels (tenant_id, title, created_at, updated_at, session_secret) \
         VALUES ($1, $2, $3, $3, $4) ON CONFLICT (tenant_id) DO UPDATE SET title = excluded.title, \
         updated_at = excluded.updated_at, session_secret = CASE \
         WHEN webchat_channels.session_secret = '' THEN excluded.session_secret \
         ELSE webchat_channels.session_secret END \
         RETURNING title, created_at, updated_at, session_secret",
    )
    .bind(tenant.as_str())
    .bind(title)
    .bind(now)
    .bind(crate::secrets::random_hex(32))
    .fetch_one(&db.write)
    .await?;
    Ok(from_row(&r))
}

fn from_row(r: &sqlx::any::AnyRow) -> WebChat {
    WebChat {
        title: r.get(0),
        created_at: r.get(1),
        updated_at: r.get(2),
        session_secret: r.get(3),
    }
}

pub async fn get(db: &Db, tenant: &TenantId) -> Result<Option<WebChat>> {
    let row = sqlx::query(
        "SELECT title, created_at, updated_at, session_secret FROM webchat_channels \
         WHERE tenant_id = $1",
    )
    .bind(tenant.as_str())
    .fetch_optional(&db.read)
    .await?;
    Ok(row.as_ref().map(from_row))
}

/// A chat page saved before tokens were signed has no secret yet: it gets one now.
pub async fn ensure_secret(db: &Db, tenant: &TenantId, chat: WebChat) -> Result<WebChat> {
    if !chat.session_secret.is_empty() {
        return Ok(chat);
    }
    sqlx::query(
        "UPDATE webchat_channels SET session_secret = $1 WHERE tenant_id = $2 \
         AND session_secret = ''",
    )
    .bind(crate::secrets::random_hex(32))
    .bind(tenant.as_str())
    .execute(&db.write)
    .await?;
    get(db, tenant)
        .await?
        .ok_or_else(|| crate::error::Error::not_found("chat"))
}

impl WebChat {
    /// A new visitor session token: 32 random hex digits and 32 of their HMAC under the
    /// tenant's secret, so the server recognises its own tokens without storing them.
    pub fn new_token(&self, tenant: &TenantId) -> String {
        let nonce = crate::secrets::random_hex(16);
        format!("{nonce}{}", self.signature(tenant, &nonce))
    }

    /// Whether the server issued this token (compared in constant time).
    pub fn token_ok(&self, tenant: &TenantId, token: &str) -> bool {
        if self.session_secret.is_empty() || token.len() != 64 || !token.is_ascii() {
            return false;
        }
        let (nonce, sig) = token.split_at(32);
        crate::secrets::same(&self.signature(tenant, nonce), sig)
    }

    fn signature(&self, tenant: &TenantId, nonce: &str) -> String {
        use hmac::{Hmac, Mac};
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(self.session_secret.as_bytes())
            .expect("any key length");
        mac.update(tenant.as_str().as_bytes());
        mac.update(b"|");
        mac.update(nonce.as_bytes());
        hex::encode(&mac.finalize().into_bytes()[..16])
    }
}

pub async fn delete(db: &Db, tenant: &TenantId) -> Result<bool> {
    let done = sqlx::query("DELETE FROM webchat_channels WHERE tenant_id = $1")
        .bind(tenant.as_str())
        .execute(&db.write)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// The conversation contact for a session token: its hash, never the token itself.
pub fn contact(token: &str) -> String {
    crate::secrets::hash(token)
}

/// What a visitor wrote, handed to the bot's inbox with its `message.received` event in one
/// transaction. Answers the conversation, for the bot to answer.
pub async fn receive(
    db: &Db,
    tenant: &TenantId,
    token: &str,
    text: String,
    reply_id: Option<String>,
    now: i64,
) -> Result<String> {
    let message = Inbound {
        channel: Channel::WebChat,
        tenant: tenant.clone(),
        contact: contact(token),
        message_id: format!("web_{}", next_ulid()),
        kind: "text".into(),
        is_button: reply_id.is_some(),
        text: Some(text),
        reply_id,
        at: now,
        // A visitor proves no phone: only the conversation's own link names a customer.
        customer_id: None,
        proven_phone: None,
        silent: false,
        about: About::default(),
    };
    let mut tx = db.begin().await?;
    let conversation = inbox::receive_in(&mut tx, &message, now).await?;
    db.commit_events(tx).await?;
    Ok(conversation.unwrap_or_default())
}
