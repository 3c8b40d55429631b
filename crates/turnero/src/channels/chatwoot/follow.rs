//! Keeps linked contacts current as bookings and customers change: every process looks,
//! each second, at each Chatwoot account's `booking.*` and `customer.updated` events after
//! its cursor (one process at a time per account, under a lease renewed as it goes), and
//! writes the attributes of every linked customer they touch. The cursor moves only past what
//! was written, so a restart or Chatwoot being down loses nothing: the same events are looked
//! at again. It also stays `LAG_SECS` behind the newest events: event ids are made before
//! their transaction commits, so on PostgreSQL a slower transaction can commit an earlier id
//! after a later one was read; waiting lets it land before the cursor passes it.

use std::collections::HashSet;

use serde_json::Value;
use sqlx::Row;
use turnero_core::ids::CustomerId;

use super::{contacts, store};
use crate::agenda::customers;
use crate::channels::vendor::Failure;
use crate::clock::Clock;
use crate::db::Db;
use crate::error::Result;
use crate::outbound::Outbound;

/// How long a process follows an account's events before another may take over.
const LEASE_SECS: i64 = 30;

/// Events looked at per account and round.
const BATCH: i64 = 200;

/// How far behind the newest events the cursor stays.
pub const LAG_SECS: i64 = 2;

/// One round over every account.
pub async fn follow_once(db: &Db, outbound: &Outbound, clock: &Clock, owner: &str) -> Result<()> {
    let now = clock.now_secs();
    for ch in store::all(db).await? {
        let Some(cursor) = store::claim_follow(db, &ch.tenant, owner, now, LEASE_SECS).await?
        else {
            continue;
        };
        let rows = sqlx::query(
            "SELECT id, data FROM events WHERE tenant_id = $1 AND id > $2 \
             AND (type LIKE 'booking.%' OR type = 'customer.updated' \
             OR type = 'customer.created') AND created_at <= $3 ORDER BY id LIMIT $4",
        )
        .bind(ch.tenant.as_str())
        .bind(&cursor)
        .bind(now - LAG_SECS)
        .bind(BATCH)
        .fetch_all(&db.read)
        .await?;
        let mut seen = HashSet::new();
        // The last event looked at, and the last one recorded as done.
        let (mut done_to, mut recorded) = (cursor.clone(), cursor);
        for r in &rows {
            let (id, data): (String, String) = (r.get(0), r.get(1));
            let data: Value = serde_json::from_str(&data).unwrap_or(Value::Null);
            // A booking names its customer; a customer event is the customer.
            let customer = data["customer"]["id"].as_str().or(data["id"].as_str());
            let cause = if data["customer"].is_object() {
                "booking"
            } else {
                "customer"
            };
            if let Some(customer) = customer.filter(|c| c.starts_with("cus_")) {
                if seen.insert(customer.to_string()) {
                    match refresh(db, outbound, &ch, customer, cause, now).await? {
                        Err(f) if f.is_temporary() => break, // from this event, next round
                        Err(f) => {
                            tracing::warn!(
                                customer,
                                error = f.describe(),
                                "Chatwoot refused a contact's attributes"
                            );
                        }
                        Ok(()) => {}
                    }
                    // After each call to Chatwoot: moved on, and the lease renewed, so a
                    // long round is neither redone nor taken over.
                    let until = clock.now_secs() + LEASE_SECS;
                    store::advance(db, &ch.tenant, owner, &id, until).await?;
                    recorded = id.clone();
                }
            }
            done_to = id;
        }
        if done_to != recorded {
            let until = clock.now_secs() + LEASE_SECS;
            store::advance(db, &ch.tenant, owner, &done_to, until).await?;
        }
    }
    Ok(())
}

/// Writes a customer's attributes on their contact, if they have one.
async fn refresh(
    db: &Db,
    outbound: &Outbound,
    ch: &store::Channel,
    customer: &str,
    cause: &str,
    now: i64,
) -> Result<std::result::Result<(), Failure>> {
    let id = CustomerId::from_trusted(customer.to_string());
    let Ok(known) = customers::get(db, &ch.tenant, &id).await else {
        return Ok(Ok(())); // erased since
    };
    let Some(contact) = contacts::linked(&known.external_ids, ch) else {
        return Ok(Ok(()));
    };
    let attrs = contacts::attributes(db, &ch.tenant, customer, now).await?;
    if let Err(f) = contacts::push(outbound, ch, contact, &attrs).await {
        return Ok(Err(f));
    }
    contacts::synced(db, &ch.tenant, customer, contact, &attrs, cause, now).await?;
    Ok(Ok(()))
}
