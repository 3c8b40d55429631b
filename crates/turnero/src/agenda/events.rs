//! The outbox: every state change writes its event here, in the same transaction.
//! The webhook hub and `GET /api/v1/events` read from this table.

use serde::Serialize;
use turnero_core::ids::{EventId, TenantId};

use crate::db::{Batch, Tx};
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
    let mut batch = Batch::default();
    let id = push(&mut batch, tenant, kind, subject_id, data, now)?;
    batch.run(tx).await?;
    Ok(id)
}

/// Adds the event's insert to a batch that the caller runs in its transaction.
pub fn push(
    batch: &mut Batch,
    tenant: &TenantId,
    kind: &str,
    subject_id: &str,
    data: &impl Serialize,
    now: i64,
) -> Result<EventId> {
    let id = EventId::generate();
    let data = serde_json::to_string(data)?;
    batch.push(
        "INSERT INTO events (id, tenant_id, type, subject_id, data, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        crate::args![
            id.as_str().to_string(),
            tenant.as_str().to_string(),
            kind.to_string(),
            subject_id.to_string(),
            data,
            now
        ]?,
    );
    Ok(id)
}
