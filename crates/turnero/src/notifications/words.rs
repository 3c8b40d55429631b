//! A tenant's words for the confirm / cancel / person conversation (`turnero_core::notice::Words`):
//! the document the clinic imported, or the built-in one in the tenant's language.

use sqlx::Row;
use turnero_core::ids::TenantId;
use turnero_core::notice::Words;

use crate::agenda::tenants;
use crate::db::Db;
use crate::error::Result;

/// The words in use: the imported document, else the built-in words of the tenant's locale.
pub async fn get(db: &Db, tenant: &TenantId) -> Result<Words> {
    if let Some(w) = stored(db, tenant).await? {
        return Ok(w);
    }
    let t = tenants::get(db, tenant).await?;
    Ok(Words::built_in(&t.locale))
}

pub async fn stored(db: &Db, tenant: &TenantId) -> Result<Option<Words>> {
    let row = sqlx::query("SELECT document FROM notice_words WHERE tenant_id = $1")
        .bind(tenant.as_str())
        .fetch_optional(&db.read)
        .await?;
    Ok(row
        .map(|r| serde_json::from_str(&r.get::<String, _>(0)))
        .transpose()?)
}

/// Stores a checked document (the caller has refused one with problems).
pub async fn put(db: &Db, tenant: &TenantId, words: &Words, now: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO notice_words (tenant_id, document, updated_at) VALUES ($1, $2, $3) \
         ON CONFLICT (tenant_id) DO UPDATE SET document = excluded.document, \
         updated_at = excluded.updated_at",
    )
    .bind(tenant.as_str())
    .bind(serde_json::to_string(words)?)
    .bind(now)
    .execute(&db.write)
    .await?;
    Ok(())
}

/// Back to the built-in words.
pub async fn reset(db: &Db, tenant: &TenantId) -> Result<()> {
    sqlx::query("DELETE FROM notice_words WHERE tenant_id = $1")
        .bind(tenant.as_str())
        .execute(&db.write)
        .await?;
    Ok(())
}
