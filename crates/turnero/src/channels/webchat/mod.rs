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
    pub created_at: i64,
    pub updated_at: i64,
}

pub async fn put(db: &Db, tenant: &TenantId, title: &str, now: i64) -> Result<WebChat> {
    // Answered from the write itself: a DELETE racing it cannot leave nothing to read.
    let r = sqlx::query(
        "INSERT INTO webchat_channels (tenant_id, title, created_at, updated_at) \
         VALUES ($1, $2, $3, $3) ON CONFLICT (tenant_id) DO UPDATE SET title = excluded.title, \
         updated_at = excluded.updated_at RETURNING title, created_at, updated_at",
    )
    .bind(tenant.as_str())
    .bind(title)
    .bind(now)
    .fetch_one(&db.write)
    .await?;
    Ok(WebChat {
        title: r.get(0),
        created_at: r.get(1),
        updated_at: r.get(2),
    })
}

pub async fn get(db: &Db, tenant: &TenantId) -> Result<Option<WebChat>> {
    let row = sqlx::query(
        "SELECT title, created_at, updated_at FROM webchat_channels WHERE tenant_id = $1",
    )
    .bind(tenant.as_str())
    .fetch_optional(&db.read)
    .await?;
    Ok(row.map(|r| WebChat {
        title: r.get(0),
        created_at: r.get(1),
        updated_at: r.get(2),
    }))
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
