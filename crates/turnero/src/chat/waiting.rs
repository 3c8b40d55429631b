//! Conversations as staff read them in the console's inbox: those handed to a person first,
//! then the most recently active, each with the patient's name when the agenda knows them.

use sqlx::Row;
use turnero_core::ids::TenantId;

use super::Channel;
use crate::db::Db;
use crate::error::Result;

/// One line of the inbox.
#[derive(Debug, Clone)]
pub struct InboxLine {
    pub id: String,
    pub channel: Channel,
    /// What staff may see of the contact (`visitor` for the web chat's secret token).
    pub contact: String,
    pub customer_name: Option<String>,
    /// Waiting for a person: the bot has stopped answering.
    pub handoff: bool,
    pub last_inbound_at: Option<i64>,
    pub updated_at: i64,
}

/// The tenant's conversations, handed off first, then by latest activity.
pub async fn inbox(db: &Db, tenant: &TenantId, limit: i64) -> Result<Vec<InboxLine>> {
    let rows = sqlx::query(
        "SELECT c.id, c.channel, c.contact, cu.name, c.handoff, c.last_inbound_at, c.updated_at \
         FROM conversations c LEFT JOIN customers cu \
           ON cu.id = c.customer_id AND cu.tenant_id = c.tenant_id \
         WHERE c.tenant_id = $1 \
         ORDER BY c.handoff DESC, c.updated_at DESC, c.id DESC LIMIT $2",
    )
    .bind(tenant.as_str())
    .bind(limit)
    .fetch_all(&db.read)
    .await?;
    rows.iter()
        .map(|r| {
            let channel: Channel = r
                .get::<String, _>(1)
                .parse()
                .map_err(|e: String| anyhow::anyhow!("stored {e}"))?;
            let contact: String = r.get(2);
            Ok(InboxLine {
                id: r.get(0),
                contact: channel.public_contact(&contact).to_string(),
                channel,
                customer_name: r.get(3),
                handoff: r.get::<i64, _>(4) != 0,
                last_inbound_at: r.get(5),
                updated_at: r.get(6),
            })
        })
        .collect()
}
