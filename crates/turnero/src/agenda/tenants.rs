//! Tenants and their API keys. Keys are random 160-bit secrets shown once and stored as
//! SHA-256 hashes; a fast hash is enough because the secret has full entropy (there is no
//! password to brute-force), and it keeps authentication a single indexed lookup.

use std::time::Duration;

use serde::Serialize;
use sqlx::Row;
use turnero_core::ids::{ApiKeyId, TenantId};
use utoipa::ToSchema;

use crate::db::{Db, StampedCache};
use crate::error::Result;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Tenant {
    pub id: String,
    pub name: String,
    /// Default IANA zone for new calendars.
    pub timezone: String,
    /// ISO 3166 region used to read phone numbers written without a country code.
    pub phone_region: String,
    /// `es`, `pt` or `en`.
    pub locale: String,
}

pub struct NewTenant {
    pub name: String,
    pub timezone: String,
    pub phone_region: String,
    pub locale: String,
}

/// Creates a tenant and its first API key; returns the tenant and the key in clear.
pub async fn create(db: &Db, new: NewTenant, now: i64) -> Result<(Tenant, String)> {
    let id = TenantId::generate();
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO tenants (id, name, timezone, phone_region, locale, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id.as_str())
    .bind(&new.name)
    .bind(&new.timezone)
    .bind(&new.phone_region)
    .bind(&new.locale)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let key = insert_key(&mut tx, &id, now).await?;
    tx.commit().await?;
    let tenant = Tenant {
        id: id.into_string(),
        name: new.name,
        timezone: new.timezone,
        phone_region: new.phone_region,
        locale: new.locale,
    };
    Ok((tenant, key))
}

async fn insert_key(tx: &mut crate::db::Tx, tenant: &TenantId, now: i64) -> Result<String> {
    let key = format!("trn_{}", crate::secrets::random_hex(20));
    sqlx::query(
        "INSERT INTO api_keys (id, tenant_id, key_hash, prefix, created_at, name) \
         VALUES ($1, $2, $3, $4, $5, 'first key')",
    )
    .bind(ApiKeyId::generate().as_str())
    .bind(tenant.as_str())
    .bind(crate::secrets::hash(&key))
    .bind(&key[..8])
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(key)
}

/// The tenant owning a working API key. Known keys are remembered for [`KEY_CACHE_TTL`], and
/// only while nothing was revoked since (the change stamp), so a request costs no key lookup
/// and a revoked key stops at once; unknown keys are always re-checked.
pub async fn tenant_for_key(
    db: &Db,
    cache: &KeyCache,
    key: &str,
    now: i64,
) -> Result<Option<KeyOwner>> {
    if key.len() > 128 {
        return Ok(None);
    }
    let hash = crate::secrets::hash(key);
    let stamp = db.changes.stamp("").0;
    if db.changes.trusted() {
        if let Some(owner) = cache.get(&hash, stamp) {
            return Ok(Some(owner));
        }
    }
    let row = sqlx::query(
        "SELECT k.tenant_id, t.phone_region FROM api_keys k JOIN tenants t ON t.id = k.tenant_id \
         WHERE k.key_hash = $1 AND k.revoked_at IS NULL",
    )
    .bind(&hash)
    .fetch_optional(&db.read)
    .await?;
    let owner = row.map(|r| KeyOwner {
        tenant: TenantId::from_trusted(r.get(0)),
        phone_region: r.get(1),
    });
    if let Some(o) = &owner {
        crate::agenda::api_keys::used(db, &hash, now).await?;
        cache.put(hash, o.clone(), stamp);
    }
    Ok(owner)
}

/// Who an API key belongs to, with the tenant setting every request that reads a phone needs.
#[derive(Debug, Clone)]
pub struct KeyOwner {
    pub tenant: TenantId,
    pub phone_region: String,
}

/// How long a process trusts a key it has seen (a revocation ends it at once; this also
/// bounds how stale `last_used_at` gets).
pub const KEY_CACHE_TTL: Duration = Duration::from_secs(30);

/// Key hash → tenant, per process (`db::StampedCache`). A tenant's phone region changed on
/// another process reaches this one within [`KEY_CACHE_TTL`].
pub struct KeyCache(StampedCache<KeyOwner>);

impl Default for KeyCache {
    fn default() -> Self {
        Self(StampedCache::new(KEY_CACHE_TTL))
    }
}

impl std::ops::Deref for KeyCache {
    type Target = StampedCache<KeyOwner>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

pub async fn get(db: &Db, id: &TenantId) -> Result<Tenant> {
    let r =
        sqlx::query("SELECT id, name, timezone, phone_region, locale FROM tenants WHERE id = $1")
            .bind(id.as_str())
            .fetch_one(&db.read)
            .await?;
    Ok(Tenant {
        id: r.get(0),
        name: r.get(1),
        timezone: r.get(2),
        phone_region: r.get(3),
        locale: r.get(4),
    })
}

/// Applies the given changes; `None` keeps a value.
pub async fn update(db: &Db, id: &TenantId, patch: NewTenantPatch) -> Result<Tenant> {
    sqlx::query(
        "UPDATE tenants SET name = COALESCE($1, name), timezone = COALESCE($2, timezone), \
         phone_region = COALESCE($3, phone_region), locale = COALESCE($4, locale) WHERE id = $5",
    )
    .bind(patch.name)
    .bind(patch.timezone)
    .bind(patch.phone_region)
    .bind(patch.locale)
    .bind(id.as_str())
    .execute(&db.write)
    .await?;
    get(db, id).await
}

#[derive(Default)]
pub struct NewTenantPatch {
    pub name: Option<String>,
    pub timezone: Option<String>,
    pub phone_region: Option<String>,
    pub locale: Option<String>,
}
