//! Callbacks that could not be kept: AsisteClick's bot booked a time turnero had given to
//! someone else meanwhile. The patient believes they have an appointment, so the refusal is
//! kept (listed at `GET /integrations/asisteclick/conflicts`) and announced as
//! `booking.conflict` in the same transaction.

use serde::Serialize;
use serde_json::Value;
use sqlx::Row;
use turnero_core::event;
use turnero_core::ids::{next_ulid, TenantId};
use turnero_core::time::fmt_ts;

use crate::agenda::events;
use crate::db::{Batch, Db};
use crate::error::Result;

#[derive(Debug, Clone)]
pub struct Conflict {
    pub id: String,
    pub public_key: String,
    pub calendar_id: Option<String>,
    pub start: Option<i64>,
    pub code: String,
    pub detail: String,
    /// The callback as AsisteClick sent it (customer, ticket, transcript).
    pub callback: Value,
    pub created_at: i64,
}

/// The event's data: what the clinic needs to call the patient.
#[derive(Serialize)]
struct Published<'a> {
    id: &'a str,
    source: &'static str,
    public_key: &'a str,
    calendar_id: Option<&'a str>,
    start: Option<String>,
    customer: &'a Value,
    code: &'a str,
    detail: &'a str,
}

pub async fn record(db: &Db, tenant: &TenantId, c: &Conflict) -> Result<()> {
    let mut tx = db.begin().await?;
    let mut batch = Batch::default();
    batch.push(
        "INSERT INTO asisteclick_conflicts (id, tenant_id, public_key, calendar_id, start_at, \
         code, detail, callback, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        crate::args![
            c.id.clone(),
            tenant.as_str().to_string(),
            c.public_key.clone(),
            c.calendar_id.clone(),
            c.start,
            c.code.clone(),
            c.detail.clone(),
            c.callback.to_string(),
            c.created_at
        ]?,
    );
    let data = Published {
        id: &c.id,
        source: super::SYSTEM,
        public_key: &c.public_key,
        calendar_id: c.calendar_id.as_deref(),
        start: c.start.map(fmt_ts),
        customer: &c.callback["customer"],
        code: &c.code,
        detail: &c.detail,
    };
    events::push(
        &mut batch,
        tenant,
        event::BOOKING_CONFLICT,
        &c.id,
        &data,
        c.created_at,
    )?;
    batch.run(&mut tx).await?;
    db.commit_events(tx).await?;
    Ok(())
}

pub fn new_id() -> String {
    format!("acf_{}", next_ulid())
}

/// The tenant's conflicts, newest first.
pub async fn list(db: &Db, tenant: &TenantId, limit: i64) -> Result<Vec<Conflict>> {
    let rows = sqlx::query(
        "SELECT id, public_key, calendar_id, start_at, code, detail, callback, created_at \
         FROM asisteclick_conflicts WHERE tenant_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2",
    )
    .bind(tenant.as_str())
    .bind(limit)
    .fetch_all(&db.read)
    .await?;
    Ok(rows
        .iter()
        .map(|r| Conflict {
            id: r.get(0),
            public_key: r.get(1),
            calendar_id: r.get(2),
            start: r.get(3),
            code: r.get(4),
            detail: r.get(5),
            callback: serde_json::from_str(&r.get::<String, _>(6)).unwrap_or(Value::Null),
            created_at: r.get(7),
        })
        .collect())
}
