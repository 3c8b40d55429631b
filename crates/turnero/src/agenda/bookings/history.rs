//! The append-only history of every booking change.

use jiff::Timestamp;
use serde::Serialize;
use sqlx::Row;
use turnero_core::booking::Status;
use turnero_core::ids::{BookingId, TenantId};

use super::stored_status;
use crate::agenda::instant;
use crate::db::{Batch, Db, Tx};
use crate::error::Result;

/// One change of a booking, as its history lists it.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryEntry {
    pub at: Timestamp,
    /// `held`, `created`, `confirmed`, `rescheduled`, `canceled`, `completed`, `no_show`, `expired`.
    pub action: String,
    pub from_status: Option<Status>,
    pub to_status: Status,
    pub start: Timestamp,
    pub end: Timestamp,
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

pub async fn list(db: &Db, tenant: &TenantId, id: &BookingId) -> Result<Vec<HistoryEntry>> {
    super::get(db, tenant, id).await?;
    let rows = sqlx::query(
        "SELECT at, action, from_status, to_status, start_at, end_at, source, detail \
         FROM booking_history WHERE tenant_id = $1 AND booking_id = $2 ORDER BY id",
    )
    .bind(tenant.as_str())
    .bind(id.as_str())
    .fetch_all(&db.read)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(HistoryEntry {
                at: instant(r.get(0)),
                action: r.get(1),
                from_status: r
                    .get::<Option<String>, _>(2)
                    .map(|s| stored_status(&s))
                    .transpose()?,
                to_status: stored_status(&r.get::<String, _>(3))?,
                start: instant(r.get(4)),
                end: instant(r.get(5)),
                source: r.get(6),
                detail: r.get(7),
            })
        })
        .collect()
}
