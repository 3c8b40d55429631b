//! A tenant's API keys: named, with when each was last used, revocable. Only a key's SHA-256
//! is kept (and its first characters, to tell keys apart); the key itself is shown once.
//!
//! A revocation commits as `Changed::Everything`, which every process hears (its own at once;
//! others on PostgreSQL through NOTIFY), and the key cache trusts an entry only under the
//! change stamp it was read with: a revoked key stops working everywhere at once.

use sqlx::Row;
use turnero_core::ids::{ApiKeyId, TenantId};

use crate::db::{Backend, Changed, Db};
use crate::error::{Error, Result};

pub struct ApiKey {
    pub id: String,
    pub name: String,
    /// The key's first characters (`trn_1a2b`), to recognise it.
    pub prefix: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

/// Makes a key; answers it and the key in clear (shown only now).
pub async fn create(db: &Db, tenant: &TenantId, name: &str, now: i64) -> Result<(ApiKey, String)> {
    let key = format!("trn_{}", crate::secrets::random_hex(20));
    let id = ApiKeyId::generate();
    sqlx::query(
        "INSERT INTO api_keys (id, tenant_id, key_hash, prefix, created_at, name) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id.as_str())
    .bind(tenant.as_str())
    .bind(crate::secrets::hash(&key))
    .bind(&key[..8])
    .bind(now)
    .bind(name)
    .execute(&db.write)
    .await?;
    let made = ApiKey {
        id: id.into_string(),
        name: name.to_string(),
        prefix: key[..8].to_string(),
        created_at: now,
        last_used_at: None,
    };
    Ok((made, key))
}

/// The tenant's keys that work, oldest first.
pub async fn list(db: &Db, tenant: &TenantId) -> Result<Vec<ApiKey>> {
    let rows = sqlx::query(
        "SELECT id, name, prefix, created_at, last_used_at FROM api_keys \
         WHERE tenant_id = $1 AND revoked_at IS NULL ORDER BY created_at, id",
    )
    .bind(tenant.as_str())
    .fetch_all(&db.read)
    .await?;
    Ok(rows
        .iter()
        .map(|r| ApiKey {
            id: r.get(0),
            name: r.get(1),
            prefix: r.get(2),
            created_at: r.get(3),
            last_used_at: r.get(4),
        })
        .collect())
}

/// Revokes a key, unless it is the tenant's last one (a tenant must keep a way in).
pub async fn revoke(db: &Db, tenant: &TenantId, id: &str, now: i64) -> Result<()> {
    let mut tx = db.begin().await?;
    if db.backend == Backend::Postgres {
        // Two revocations at once must not both see "another key is left".
        sqlx::query("SELECT id FROM tenants WHERE id = $1 FOR UPDATE")
            .bind(tenant.as_str())
            .execute(&mut *tx)
            .await?;
    }
    let exists = sqlx::query(
        "SELECT 1 FROM api_keys WHERE id = $1 AND tenant_id = $2 AND revoked_at IS NULL",
    )
    .bind(id)
    .bind(tenant.as_str())
    .fetch_optional(&mut *tx)
    .await?;
    if exists.is_none() {
        return Err(Error::not_found("api key"));
    }
    let working: i64 =
        sqlx::query("SELECT COUNT(*) FROM api_keys WHERE tenant_id = $1 AND revoked_at IS NULL")
            .bind(tenant.as_str())
            .fetch_one(&mut *tx)
            .await?
            .get(0);
    if working <= 1 {
        return Err(Error::conflict(
            "last_key",
            "this is the tenant's last working key; create another before revoking it",
        ));
    }
    sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND tenant_id = $3")
        .bind(now)
        .bind(id)
        .bind(tenant.as_str())
        .execute(&mut *tx)
        .await?;
    db.commit(tx, Changed::Everything).await?;
    Ok(())
}

/// Notes that a key was used (to the minute: a busy key is not a write per request).
pub async fn used(db: &Db, hash: &str, now: i64) -> Result<()> {
    sqlx::query(
        "UPDATE api_keys SET last_used_at = $1 WHERE key_hash = $2 \
         AND (last_used_at IS NULL OR last_used_at < $1 - 60)",
    )
    .bind(now)
    .bind(hash)
    .execute(&db.write)
    .await?;
    Ok(())
}
