//! A tenant's Telegram bot: its token (to call the Bot API; never shown again), the hash of
//! the webhook's secret token, and the chats whose person blocked the bot.

use sqlx::Row;
use turnero_core::ids::TenantId;

use crate::db::{Db, Tx};
use crate::error::Result;
use crate::secrets;

#[derive(Clone)]
pub struct Channel {
    pub tenant: TenantId,
    /// What the webhook URL carries, to find the tenant.
    pub path_key: String,
    pub bot_token: String,
    pub api_url: String,
    secret_hash: String,
    /// The bot's own user id and @name, as `getMe` answered.
    pub bot_id: i64,
    pub bot_username: Option<String>,
    /// Where Telegram was told to post updates.
    pub webhook_url: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Channel {
    /// Whether the `X-Telegram-Bot-Api-Secret-Token` header is the secret registered with
    /// Telegram (compared in constant time).
    pub fn secret_matches(&self, given: Option<&str>) -> bool {
        given.is_some_and(|g| secrets::matches_hash(g, &self.secret_hash))
    }
}

/// What was registered with Telegram.
pub struct ChannelDef {
    pub bot_token: String,
    pub api_url: String,
    pub secret: String,
    pub bot_id: i64,
    pub bot_username: Option<String>,
    pub webhook_url: String,
}

/// The key for the webhook URL: the one the tenant already has, or a fresh one (so a
/// re-registration keeps the URL).
pub async fn path_key(db: &Db, tenant: &TenantId) -> Result<String> {
    Ok(get(db, tenant)
        .await?
        .map(|c| c.path_key)
        .unwrap_or_else(|| secrets::random_hex(20)))
}

/// Stores the bot after Telegram accepted its webhook.
pub async fn put(
    db: &Db,
    tenant: &TenantId,
    key: &str,
    def: ChannelDef,
    now: i64,
) -> Result<Channel> {
    let row = sqlx::query(&format!(
        "INSERT INTO telegram_channels (tenant_id, path_key, bot_token, api_url, secret_hash, \
         bot_id, bot_username, webhook_url, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) \
         ON CONFLICT (tenant_id) DO UPDATE SET bot_token = excluded.bot_token, \
         api_url = excluded.api_url, secret_hash = excluded.secret_hash, \
         bot_id = excluded.bot_id, bot_username = excluded.bot_username, \
         webhook_url = excluded.webhook_url, updated_at = excluded.updated_at \
         RETURNING {COLUMNS}"
    ))
    .bind(tenant.as_str())
    .bind(key)
    .bind(&def.bot_token)
    .bind(&def.api_url)
    .bind(secrets::hash(&def.secret))
    .bind(def.bot_id)
    .bind(&def.bot_username)
    .bind(&def.webhook_url)
    .bind(now)
    .fetch_one(&db.write)
    .await?;
    Ok(from_row(&row))
}

const COLUMNS: &str = "tenant_id, path_key, bot_token, api_url, secret_hash, bot_id, \
    bot_username, webhook_url, created_at, updated_at";

fn from_row(r: &sqlx::any::AnyRow) -> Channel {
    Channel {
        tenant: TenantId::from_trusted(r.get::<String, _>(0)),
        path_key: r.get(1),
        bot_token: r.get(2),
        api_url: r.get(3),
        secret_hash: r.get(4),
        bot_id: r.get(5),
        bot_username: r.get(6),
        webhook_url: r.get(7),
        created_at: r.get(8),
        updated_at: r.get(9),
    }
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

/// Records that the person of this chat blocked the bot: nothing more goes to them.
pub async fn block(db: &Db, tenant: &TenantId, chat: &str, reason: &str, now: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO telegram_blocked (tenant_id, chat_id, blocked_at, reason) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (tenant_id, chat_id) DO NOTHING",
    )
    .bind(tenant.as_str())
    .bind(chat)
    .bind(now)
    .bind(reason)
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
