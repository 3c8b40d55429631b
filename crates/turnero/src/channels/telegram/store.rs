//! A tenant's Telegram bot: its token (to call the Bot API; never shown again), the hash of
//! the webhook's secret token, and the chats whose person blocked the bot.

use sqlx::Row;
use turnero_core::ids::TenantId;

use crate::db::{Db, Tx};
use crate::error::{Error, Result};
use crate::secrets;

#[derive(Clone)]
pub struct Channel {
    pub tenant: TenantId,
    /// What the webhook URL carries, to find the tenant.
    pub path_key: String,
    pub bot_token: String,
    pub api_url: String,
    secret_hash: String,
    previous_secret_hash: Option<String>,
    /// The bot's own user id and @name, as `getMe` answered.
    pub bot_id: i64,
    pub bot_username: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Channel {
    /// Whether the `X-Telegram-Bot-Api-Secret-Token` header is the secret registered with
    /// Telegram, or the one before it (a registration may still be on its way), compared in
    /// constant time.
    pub fn secret_matches(&self, given: Option<&str>) -> bool {
        let Some(given) = given else {
            return false;
        };
        let current = secrets::matches_hash(given, &self.secret_hash);
        let previous = self
            .previous_secret_hash
            .as_deref()
            .is_some_and(|p| secrets::matches_hash(given, p));
        current | previous
    }
}

/// What is about to be registered with Telegram.
pub struct ChannelDef {
    pub bot_token: String,
    pub api_url: String,
    pub secret: String,
    pub bot_id: i64,
    pub bot_username: Option<String>,
}

/// Keeps the bot before Telegram is told where to post, so an update carrying the new secret
/// always finds it; the webhook URL's key stays what it was (two first registrations at once
/// share the key the first one wrote). The secret it replaces is still accepted.
pub async fn put(db: &Db, tenant: &TenantId, def: ChannelDef, now: i64) -> Result<Channel> {
    let row = sqlx::query(&format!(
        "INSERT INTO telegram_channels (tenant_id, path_key, bot_token, api_url, secret_hash, \
         bot_id, bot_username, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) \
         ON CONFLICT (tenant_id) DO UPDATE SET bot_token = excluded.bot_token, \
         api_url = excluded.api_url, secret_hash = excluded.secret_hash, \
         previous_secret_hash = telegram_channels.secret_hash, \
         bot_id = excluded.bot_id, bot_username = excluded.bot_username, \
         updated_at = excluded.updated_at \
         RETURNING {COLUMNS}"
    ))
    .bind(tenant.as_str())
    .bind(secrets::random_hex(20))
    .bind(&def.bot_token)
    .bind(&def.api_url)
    .bind(secrets::hash(&def.secret))
    .bind(def.bot_id)
    .bind(&def.bot_username)
    .bind(now)
    .fetch_one(&db.write)
    .await
    .map_err(|e| {
        if crate::db::is_unique_violation(&e) {
            Error::conflict(
                "bot_in_use",
                "this bot is connected to another account; disconnect it there first",
            )
        } else {
            e.into()
        }
    })?;
    Ok(from_row(&row))
}

/// Undoes a [`put`] that Telegram then refused: the bot as it was before, or none.
pub async fn restore(db: &Db, tenant: &TenantId, before: Option<Channel>) -> Result<()> {
    let Some(b) = before else {
        delete(db, tenant).await?;
        return Ok(());
    };
    sqlx::query(
        "UPDATE telegram_channels SET bot_token = $2, api_url = $3, secret_hash = $4, \
         previous_secret_hash = $5, bot_id = $6, bot_username = $7, updated_at = $8 \
         WHERE tenant_id = $1",
    )
    .bind(tenant.as_str())
    .bind(&b.bot_token)
    .bind(&b.api_url)
    .bind(&b.secret_hash)
    .bind(&b.previous_secret_hash)
    .bind(b.bot_id)
    .bind(&b.bot_username)
    .bind(b.updated_at)
    .execute(&db.write)
    .await?;
    Ok(())
}

const COLUMNS: &str = "tenant_id, path_key, bot_token, api_url, secret_hash, bot_id, \
    bot_username, created_at, updated_at, previous_secret_hash";

fn from_row(r: &sqlx::any::AnyRow) -> Channel {
    Channel {
        tenant: TenantId::from_trusted(r.get::<String, _>(0)),
        path_key: r.get(1),
        bot_token: r.get(2),
        api_url: r.get(3),
        secret_hash: r.get(4),
        bot_id: r.get(5),
        bot_username: r.get(6),
        created_at: r.get(7),
        updated_at: r.get(8),
        previous_secret_hash: r.get(9),
    }
}

/// Whether another tenant has this bot.
pub async fn held_elsewhere(db: &Db, tenant: &TenantId, bot_id: i64) -> Result<bool> {
    let row = sqlx::query("SELECT 1 FROM telegram_channels WHERE bot_id = $1 AND tenant_id <> $2")
        .bind(bot_id)
        .bind(tenant.as_str())
        .fetch_optional(&db.read)
        .await?;
    Ok(row.is_some())
}

pub async fn get(db: &Db, tenant: &TenantId) -> Result<Option<Channel>> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM telegram_channels WHERE tenant_id = $1"
    ))
    .bind(tenant.as_str())
    .fetch_optional(&db.read)
    .await?;
    Ok(row.as_ref().map(from_row))
}

/// The bot whose webhook URL carries this key.
pub async fn by_key(db: &Db, key: &str) -> Result<Option<Channel>> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM telegram_channels WHERE path_key = $1"
    ))
    .bind(key)
    .fetch_optional(&db.read)
    .await?;
    Ok(row.as_ref().map(from_row))
}

pub async fn delete(db: &Db, tenant: &TenantId) -> Result<bool> {
    let done = sqlx::query("DELETE FROM telegram_channels WHERE tenant_id = $1")
        .bind(tenant.as_str())
        .execute(&db.write)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Records that the person of this chat blocked the bot: nothing more goes to them. Not if
/// they wrote after `last_inbound_at` (the last message known when the send began): a 403
/// that arrives late must not block someone who has come back.
pub async fn block(
    db: &Db,
    tenant: &TenantId,
    chat: &str,
    last_inbound_at: Option<i64>,
    reason: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO telegram_blocked (tenant_id, chat_id, blocked_at, reason) \
         SELECT $1, $2, $3, $4 WHERE NOT EXISTS (SELECT 1 FROM conversations \
         WHERE tenant_id = $1 AND channel = 'telegram' AND contact = $2 \
         AND last_inbound_at > $5) ON CONFLICT (tenant_id, chat_id) DO NOTHING",
    )
    .bind(tenant.as_str())
    .bind(chat)
    .bind(now)
    .bind(reason)
    .bind(last_inbound_at.unwrap_or(0))
    .execute(&db.write)
    .await?;
    Ok(())
}

/// A person who writes again has unblocked the bot.
pub async fn unblock_in(tx: &mut Tx, tenant: &TenantId, chat: &str) -> Result<()> {
    sqlx::query("DELETE FROM telegram_blocked WHERE tenant_id = $1 AND chat_id = $2")
        .bind(tenant.as_str())
        .bind(chat)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn is_blocked(db: &Db, tenant: &TenantId, chat: &str) -> Result<bool> {
    let row = sqlx::query("SELECT 1 FROM telegram_blocked WHERE tenant_id = $1 AND chat_id = $2")
        .bind(tenant.as_str())
        .bind(chat)
        .fetch_optional(&db.read)
        .await?;
    Ok(row.is_some())
}

/// How many chats have blocked the bot (shown with the channel).
pub async fn blocked_count(db: &Db, tenant: &TenantId) -> Result<i64> {
    let row = sqlx::query("SELECT COUNT(*) FROM telegram_blocked WHERE tenant_id = $1")
        .bind(tenant.as_str())
        .fetch_one(&db.read)
        .await?;
    Ok(row.get(0))
}
