//! A tenant's WhatsApp Cloud API number: what Meta's webhooks are checked with, and what
//! sending needs.

use serde::{Deserialize, Serialize};
use sqlx::Row;
use turnero_core::ids::TenantId;

use crate::db::Db;
use crate::error::{Error, Result};
use crate::secrets;

/// Meta's Graph API, the version pinned (as the WhatsApp Cloud API SDKs do).
pub const DEFAULT_GRAPH_API_URL: &str = "https://graph.facebook.com/v24.0";

#[derive(Clone)]
pub struct Channel {
    pub tenant: TenantId,
    pub path_key: String,
    pub phone_number_id: String,
    pub access_token: String,
    pub app_secret: String,
    verify_token_hash: String,
    pub graph_api_url: String,
    /// Templates approved with Meta that staff may send outside the 24-hour window.
    pub templates: Vec<TemplateRef>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A message template approved in the tenant's WhatsApp Business account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateRef {
    pub name: String,
    /// As approved, e.g. `es_AR`.
    pub language: String,
}

impl Channel {
    pub fn verify_token_matches(&self, token: &str) -> bool {
        secrets::matches_hash(token, &self.verify_token_hash)
    }
}

/// What the tenant sets (all checked by the caller).
pub struct ChannelDef {
    pub phone_number_id: String,
    pub access_token: String,
    pub app_secret: String,
    pub verify_token: String,
    pub graph_api_url: String,
    pub templates: Vec<TemplateRef>,
}

/// Connects the number, or replaces its settings; the webhook URL stays the same.
pub async fn put(db: &Db, tenant: &TenantId, def: ChannelDef, now: i64) -> Result<Channel> {
    let fresh_key = secrets::random_hex(20);
    // A phone_number_id is not unique across tenants: webhooks are routed by the URL's key,
    // and a tenant must not be able to lock another out by registering its number first.
    sqlx::query(
        "INSERT INTO whatsapp_channels (tenant_id, path_key, phone_number_id, access_token, \
         app_secret, verify_token_hash, graph_api_url, templates, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $9, $8, $8) \
         ON CONFLICT (tenant_id) DO UPDATE SET phone_number_id = excluded.phone_number_id, \
         access_token = excluded.access_token, app_secret = excluded.app_secret, \
         verify_token_hash = excluded.verify_token_hash, graph_api_url = excluded.graph_api_url, \
         templates = excluded.templates, updated_at = excluded.updated_at",
    )
    .bind(tenant.as_str())
    .bind(&fresh_key)
    .bind(&def.phone_number_id)
    .bind(&def.access_token)
    .bind(&def.app_secret)
    .bind(secrets::hash(&def.verify_token))
    .bind(&def.graph_api_url)
    .bind(now)
    .bind(serde_json::to_string(&def.templates)?)
    .execute(&db.write)
    .await?;
    get(db, tenant)
        .await?
        .ok_or_else(|| Error::not_found("channel"))
}

const COLUMNS: &str = "tenant_id, path_key, phone_number_id, access_token, app_secret, \
    verify_token_hash, graph_api_url, created_at, updated_at, templates";

fn from_row(r: &sqlx::any::AnyRow) -> Channel {
    Channel {
        tenant: TenantId::from_trusted(r.get::<String, _>(0)),
        path_key: r.get(1),
        phone_number_id: r.get(2),
        access_token: r.get(3),
        app_secret: r.get(4),
        verify_token_hash: r.get(5),
        graph_api_url: r.get(6),
        created_at: r.get(7),
        updated_at: r.get(8),
        templates: serde_json::from_str(&r.get::<String, _>(9)).unwrap_or_default(),
    }
}

pub async fn get(db: &Db, tenant: &TenantId) -> Result<Option<Channel>> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM whatsapp_channels WHERE tenant_id = $1"
    ))
    .bind(tenant.as_str())
    .fetch_optional(&db.read)
    .await?;
    Ok(row.as_ref().map(from_row))
}

/// The channel whose webhook URL carries this key.
pub async fn by_key(db: &Db, key: &str) -> Result<Option<Channel>> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM whatsapp_channels WHERE path_key = $1"
    ))
    .bind(key)
    .fetch_optional(&db.read)
    .await?;
    Ok(row.as_ref().map(from_row))
}

pub async fn delete(db: &Db, tenant: &TenantId) -> Result<bool> {
    let done = sqlx::query("DELETE FROM whatsapp_channels WHERE tenant_id = $1")
        .bind(tenant.as_str())
        .execute(&db.write)
        .await?;
    Ok(done.rows_affected() > 0)
}
