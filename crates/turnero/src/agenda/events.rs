//! The outbox: every state change writes its event here, in the same transaction.
//! The webhook hub and `GET /api/v1/events` read from this table.

use serde::Serialize;
use turnero_core::ids::{EventId, TenantId};

use crate::db::Tx;
use crate::error::Result;

/// Appends an event whose `data` is the changed object as the API shows it.
pub async fn record(
    tx: &mut Tx,
    tenant: &TenantId,
    kind: &str,
    subject_id: &str,
    data: &impl Serialize,
    now: i64,
) -> Result<EventId> {
    let id = EventId::generate();
    sqlx::query(
        "INSERT INTO events (id, tenant_id, type, subject_id, data, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id.as_str())
    .bind(tenant.as_str())
    .bind(kind)
    .bind(subject_id)
    .bind(serde_json::to_string(data)?)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(id)
}
