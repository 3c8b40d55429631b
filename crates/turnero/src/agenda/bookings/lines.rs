//! Bookings as lines of the staff's agenda: only what the page shows (who, when, status), in
//! one read of the shown calendars. The full [`super::Booking`] parses the zone, the custom
//! fields and a dozen more columns per row; a week of 800 bookings spent most of its time
//! there (BENCHMARKS.md, the staff console).

use sqlx::Row;
use turnero_core::booking::Status;
use turnero_core::ids::TenantId;

use super::stored_status;
use crate::db::Db;
use crate::error::Result;

#[derive(Debug, Clone)]
pub struct AgendaLine {
    pub id: String,
    pub calendar_id: String,
    pub status: Status,
    /// Unix seconds.
    pub start: i64,
    pub end: i64,
    pub customer_name: Option<String>,
    pub customer_phone: Option<String>,
}

/// The bookings starting in `[from, to)` of one calendar (or of all the tenant's), in start
/// order; expired holds are left out.
pub async fn agenda_lines(
    db: &Db,
    tenant: &TenantId,
    calendar: Option<&str>,
    from: i64,
    to: i64,
    limit: i64,
) -> Result<Vec<AgendaLine>> {
    let rows = sqlx::query(
        "SELECT b.id, b.calendar_id, b.status, b.start_at, b.end_at, cu.name, cu.phone \
         FROM bookings b LEFT JOIN customers cu ON cu.id = b.customer_id \
         WHERE b.tenant_id = $1 AND ($2 = '' OR b.calendar_id = $2) \
         AND b.start_at >= $3 AND b.start_at < $4 AND b.status <> 'expired' \
         ORDER BY b.start_at, b.id LIMIT $5",
    )
    .bind(tenant.as_str())
    .bind(calendar.unwrap_or(""))
    .bind(from)
    .bind(to)
    .bind(limit)
    .fetch_all(&db.read)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(AgendaLine {
                id: r.get(0),
                calendar_id: r.get(1),
                status: stored_status(&r.get::<String, _>(2))?,
                start: r.get(3),
                end: r.get(4),
                customer_name: r.get(5),
                customer_phone: r.get(6),
            })
        })
        .collect()
}
