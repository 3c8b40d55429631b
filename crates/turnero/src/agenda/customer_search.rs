//! Finding a customer by part of their name, as a receptionist types it ("gomez", "Ana").
//! A phone is found by `customers::find_by_phone`, any spelling read with the tenant's region.

use turnero_core::ids::TenantId;

use super::customers::{from_row, Customer, COLUMNS};
use crate::db::Db;
use crate::error::Result;

/// Customers whose name contains `text`, ignoring case (SQLite lowers ASCII letters only, so
/// an accented capital must be typed as stored), by name; at most `limit`. Erased customers
/// are not found.
pub async fn by_name(db: &Db, tenant: &TenantId, text: &str, limit: i64) -> Result<Vec<Customer>> {
    let text = text.trim().to_lowercase();
    if text.is_empty() {
        return Ok(Vec::new());
    }
    // `%` and `_` typed by the person are letters, not wildcards.
    let pattern = format!(
        "%{}%",
        text.replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM customers WHERE tenant_id = $1 AND erased_at IS NULL \
         AND LOWER(name) LIKE $2 ESCAPE '\\' ORDER BY name, id LIMIT $3"
    ))
    .bind(tenant.as_str())
    .bind(pattern)
    .bind(limit)
    .fetch_all(&db.read)
    .await?;
    rows.iter().map(from_row).collect()
}
