//! `Idempotency-Key` for POST /bookings: the first response is stored with the booking, in
//! its transaction, and replayed for a retry with the same key and body.

use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::Row;
use turnero_core::ids::TenantId;

use crate::db::{Batch, Db};
use crate::error::{Error, Result};

/// A response stored under a key.
pub struct Stored {
    pub status: u16,
    pub body: String,
}

pub fn request_hash(body: &[u8]) -> String {
    hex::encode(Sha256::digest(body))
}

/// The stored response for `key`, if this key was used before with the same request.
/// The same key with a different request is a 422.
pub async fn lookup(db: &Db, tenant: &TenantId, key: &str, hash: &str) -> Result<Option<Stored>> {
    let row = sqlx::query(
        "SELECT request_hash, status_code, body FROM idempotency_keys WHERE tenant_id = $1 AND key = $2",
    )
    .bind(tenant.as_str())
    .bind(key)
    .fetch_optional(&db.write)
    .await?;
    match row {
        None => Ok(None),
        Some(r) if r.get::<String, _>(0) == hash => Ok(Some(Stored {
            status: r.get::<i64, _>(1) as u16,
            body: r.get(2),
        })),
        Some(_) => Err(Error::invalid(
            "idempotency_key_reused",
            "Idempotency-Key",
            "this key was already used for a different request",
        )),
    }
}

/// Adds the stored response to a batch that the caller runs in its transaction.
pub fn push_store(
    batch: &mut Batch,
    tenant: &TenantId,
    key: &str,
    hash: &str,
    status: u16,
    body: &impl Serialize,
    now: i64,
) -> Result<()> {
    let body = serde_json::to_string(body)?;
    batch.push(
        "INSERT INTO idempotency_keys (tenant_id, key, request_hash, status_code, body, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
        crate::args![
            tenant.as_str().to_string(),
            key.to_string(),
            hash.to_string(),
            i64::from(status),
            body,
            now
        ]?,
    );
    Ok(())
}
