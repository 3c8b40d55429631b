//! Erasing a customer at their request, with what the bot kept about them: their
//! conversations (linked to them, or where they proved their phone) go with every message,
//! and the events about those conversations lose what was said. One transaction with the
//! agenda's part (`agenda::erasure`) and its `customer.erased` event.

use sqlx::Row;
use turnero_core::ids::{CustomerId, TenantId};

use crate::agenda::{customers, erasure};
use crate::db::Db;
use crate::error::Result;

/// Erases the customer; `false` when they had been erased before.
pub async fn erase_customer(db: &Db, tenant: &TenantId, id: &CustomerId, now: i64) -> Result<bool> {
    let mut tx = db.begin().await?;
    let customer = customers::get_in(&mut tx, tenant, id).await?;
    let conversations: Vec<String> = sqlx::query(
        "SELECT id FROM conversations WHERE tenant_id = $1 \
         AND (customer_id = $2 OR proven_phone = $3)",
    )
    .bind(tenant.as_str())
    .bind(id.as_str())
    .bind(customer.phone.as_deref().unwrap_or("-"))
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(|r| r.get(0))
    .collect();
    if !erasure::erase_customer_in(&mut tx, tenant, id, &conversations, now).await? {
        return Ok(false);
    }
    for chunk in conversations.chunks(100) {
        let marks: Vec<String> = (2..chunk.len() + 2).map(|n| format!("${n}")).collect();
        let list = marks.join(", ");
        for sql in [
            format!("DELETE FROM chat_inbox WHERE tenant_id = $1 AND conversation_id IN ({list})"),
            format!("DELETE FROM chat_outbox WHERE tenant_id = $1 AND conversation_id IN ({list})"),
            format!("DELETE FROM conversations WHERE tenant_id = $1 AND id IN ({list})"),
        ] {
            let mut q = sqlx::query(&sql).bind(tenant.as_str());
            for c in chunk {
                q = q.bind(c);
            }
            q.execute(&mut *tx).await?;
        }
    }
    db.commit_events(tx).await?;
    Ok(true)
}
