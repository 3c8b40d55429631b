//! A tenant's Chatwoot account: where its API is, the tokens (write-only), the webhook secret,
//! and how far the booking events have been followed for contact attributes.

use sqlx::Row;
use turnero_core::ids::TenantId;

use crate::db::Db;
use crate::error::Result;
use crate::secrets;

#[derive(Clone)]
pub struct Channel {
    pub tenant: TenantId,
    pub path_key: String,
    /// `https://chatwoot.example.com`, without a trailing slash.
    pub base_url: String,
    pub account_id: i64,
    /// The inbox new contacts and outreach go to.
    pub inbox_id: Option<i64>,
    /// A user (agent or admin) token: contacts need one.
    pub api_access_token: String,
    /// The agent bot's token: replies and handoffs are the bot's. Defaults to the user token.
    pub agent_bot_token: Option<String>,
    /// The agent bot's (or webhook's) secret, when Chatwoot signs its webhooks (4.11+).
    pub hmac_secret: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Channel {
    /// The token replies and handoffs are sent with: the bot's, so Chatwoot shows them as the
    /// bot's and a handoff runs Chatwoot's own `bot_handoff!`.
    pub fn bot_token(&self) -> &str {
        self.agent_bot_token
            .as_deref()
            .unwrap_or(&self.api_access_token)
    }

    /// `{base_url}/api/v1/accounts/{account_id}{path}`.
    pub fn url(&self, path: &str) -> String {
        format!(
            "{}/api/v1/accounts/{}{path}",
            self.base_url, self.account_id
        )
    }
}

pub struct ChannelDef {
    pub base_url: String,
    pub account_id: i64,
    pub inbox_id: Option<i64>,
    pub api_access_token: String,
    pub agent_bot_token: Option<String>,
    pub hmac_secret: Option<String>,
}

/// Connects the account, or replaces its settings; the webhook URL stays the same. Booking
/// events from before the first connection are not replayed into contacts (the sync does
/// that).
pub async fn put(db: &Db, tenant: &TenantId, def: ChannelDef, now: i64) -> Result<Channel> {
    let row = sqlx::query(&format!(
        "INSERT INTO chatwoot_channels (tenant_id, path_key, base_url, account_id, inbox_id, \
         api_access_token, agent_bot_token, hmac_secret, events_cursor, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, \
         COALESCE((SELECT MAX(id) FROM events WHERE tenant_id = $1), ''), $9, $9) \
         ON CONFLICT (tenant_id) DO UPDATE SET base_url = excluded.base_url, \
         account_id = excluded.account_id, inbox_id = excluded.inbox_id, \
         api_access_token = excluded.api_access_token, \
         agent_bot_token = excluded.agent_bot_token, hmac_secret = excluded.hmac_secret, \
         updated_at = excluded.updated_at RETURNING {COLUMNS}"
    ))
    .bind(tenant.as_str())
    .bind(secrets::random_hex(20))
    .bind(&def.base_url)
    .bind(def.account_id)
    .bind(def.inbox_id)
    .bind(&def.api_access_token)
    .bind(&def.agent_bot_token)
    .bind(&def.hmac_secret)
    .bind(now)
    .fetch_one(&db.write)
    .await?;
    Ok(from_row(&row))
}

const COLUMNS: &str = "tenant_id, path_key, base_url, account_id, inbox_id, api_access_token, \
    agent_bot_token, hmac_secret, created_at, updated_at";

fn from_row(r: &sqlx::any::AnyRow) -> Channel {
    Channel {
        tenant: TenantId::from_trusted(r.get::<String, _>(0)),
        path_key: r.get(1),
        base_url: r.get(2),
        account_id: r.get(3),
        inbox_id: r.get(4),
        api_access_token: r.get(5),
        agent_bot_token: r.get(6),
        hmac_secret: r.get(7),
        created_at: r.get(8),
        updated_at: r.get(9),
    }
}

pub async fn get(db: &Db, tenant: &TenantId) -> Result<Option<Channel>> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM chatwoot_channels WHERE tenant_id = $1"
    ))
    .bind(tenant.as_str())
    .fetch_optional(&db.read)
    .await?;
    Ok(row.as_ref().map(from_row))
}

/// The account whose webhook URL carries this key.
pub async fn by_key(db: &Db, key: &str) -> Result<Option<Channel>> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM chatwoot_channels WHERE path_key = $1"
    ))
    .bind(key)
    .fetch_optional(&db.read)
    .await?;
    Ok(row.as_ref().map(from_row))
}

/// Every connected account (for the jobs that keep contacts current).
pub async fn all(db: &Db) -> Result<Vec<Channel>> {
    let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM chatwoot_channels"))
        .fetch_all(&db.read)
        .await?;
    Ok(rows.iter().map(from_row).collect())
}

pub async fn delete(db: &Db, tenant: &TenantId) -> Result<bool> {
    let done = sqlx::query("DELETE FROM chatwoot_channels WHERE tenant_id = $1")
        .bind(tenant.as_str())
        .execute(&db.write)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Takes (or keeps) the following of the tenant's booking events for `lease` seconds;
/// answers the cursor to go on from, or `None` when another process follows them.
pub async fn claim_follow(
    db: &Db,
    tenant: &TenantId,
    owner: &str,
    now: i64,
    lease: i64,
) -> Result<Option<String>> {
    let row = sqlx::query(
        "UPDATE chatwoot_channels SET follow_owner = $1, follow_until = $2 \
         WHERE tenant_id = $3 AND (follow_until IS NULL OR follow_until < $4 \
         OR follow_owner = $1) RETURNING events_cursor",
    )
    .bind(owner)
    .bind(now + lease)
    .bind(tenant.as_str())
    .bind(now)
    .fetch_optional(&db.write)
    .await?;
    Ok(row.map(|r| r.get(0)))
}

/// Records that the events up to `cursor` are done and keeps the lease to `until` (only
/// while still the follower).
pub async fn advance(
    db: &Db,
    tenant: &TenantId,
    owner: &str,
    cursor: &str,
    until: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE chatwoot_channels SET events_cursor = $1, follow_until = $4 \
         WHERE tenant_id = $2 AND follow_owner = $3",
    )
    .bind(cursor)
    .bind(tenant.as_str())
    .bind(owner)
    .bind(until)
    .execute(&db.write)
    .await?;
    Ok(())
}
