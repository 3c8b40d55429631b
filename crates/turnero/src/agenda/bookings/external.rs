//! What other systems know a booking by (AsisteClick's `public_key`), and what they last said
//! about it. Written with the booking's own changes (`write`); read here.

use jiff::Timestamp;
use serde_json::Value;
use sqlx::Row;
use turnero_core::ids::{BookingId, TenantId};

use crate::agenda::instant;
use crate::db::Db;
use crate::error::Result;

/// A booking's reference in another system.
#[derive(Debug, Clone)]
pub struct ExternalRecord {
    pub system: String,
    pub external_key: String,
    pub data: Value,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A booking's references, oldest first (404 for a booking of another tenant).
pub async fn external_refs(
    db: &Db,
    tenant: &TenantId,
    id: &BookingId,
) -> Result<Vec<ExternalRecord>> {
    super::get(db, tenant, id).await?;
    let rows = sqlx::query(
        "SELECT system, external_key, data, created_at, updated_at FROM booking_external_refs \
         WHERE tenant_id = $1 AND booking_id = $2 ORDER BY created_at, system",
    )
    .bind(tenant.as_str())
    .bind(id.as_str())
    .fetch_all(&db.read)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(ExternalRecord {
                system: r.get(0),
                external_key: r.get(1),
                data: serde_json::from_str(&r.get::<String, _>(2))?,
                created_at: instant(r.get(3)),
                updated_at: instant(r.get(4)),
            })
        })
        .collect()
}
