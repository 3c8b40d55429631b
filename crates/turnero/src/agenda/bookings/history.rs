//! The append-only history of every booking change.

use serde::Serialize;
use sqlx::Row;
use turnero_core::booking::Status;
use turnero_core::ids::{BookingId, TenantId};
use utoipa::ToSchema;

use crate::api::fmt_ts;
use crate::db::{Batch, Db, Tx};
use crate::error::Result;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HistoryOut {
    pub at: String,
    /// `held`, `created`, `confirmed`, `rescheduled`, `canceled`, `completed`, `no_show`, `expired`.
    pub action: String,
    pub from_status: Option<String>,
    pub to_status: String,
    pub start: String,
    pub end: String,
    pub source: String,
    pub detail: Option<String>,
}

/// One change, as it is written.
pub struct Change<'a> {
    pub action: &'a str,
    pub from: Option<Status>,
    pub to: Status,
    pub start: i64,
    pub end: i64,
    pub source: &'a str,
    pub detail: Option<String>,
}

pub async fn append(
    tx: &mut Tx,
    tenant: &TenantId,
    id: &BookingId,
    c: Change<'_>,
    now: i64,
) -> Result<()> {
    let mut batch = Batch::default();
    push(&mut batch, tenant, id, c, now)?;
    batch.run(tx).await?;
    Ok(())
}

/// Adds the history row to a batch that the caller runs in its transaction.
pub fn push(
    batch: &mut Batch,
    tenant: &TenantId,
    id: &BookingId,
    c: Change<'_>,
    now: i64,
) -> Result<()> {
    batch.push(
        "INSERT INTO booking_history (tenant_id, booking_id, at, action, from_status, to_status, \
         start_at, end_at, source, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        crate::args![
            tenant.as_str().to_string(),
            id.as_str().to_string(),
            now,
            c.action.to_string(),
            c.from.map(|s| s.as_str().to_string()),
            c.to.as_str().to_string(),
            c.start,
            c.end,
            c.source.to_string(),
            c.detail
        ]?,
    );
    Ok(())
}

pub async fn list(db: &Db, tenant: &TenantId, id: &BookingId) -> Result<Vec<HistoryOut>> {
    super::get(db, tenant, id).await?;
    let rows = sqlx::query(
        "SELECT at, action, from_status, to_status, start_at, end_at, source, detail \
         FROM booking_history WHERE tenant_id = $1 AND booking_id = $2 ORDER BY id",
    )
    .bind(tenant.as_str())
    .bind(id.as_str())
    .fetch_all(&db.read)
    .await?;
    Ok(rows
        .iter()
        .map(|r| HistoryOut {
            at: fmt_ts(r.get(0)),
            action: r.get(1),
            from_status: r.get(2),
            to_status: r.get(3),
            start: fmt_ts(r.get(4)),
            end: fmt_ts(r.get(5)),
            source: r.get(6),
            detail: r.get(7),
        })
        .collect())
}
