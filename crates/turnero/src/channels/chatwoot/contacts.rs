//! A customer as Chatwoot's agents see them: the contact's custom attributes
//! (`turnero_customer_id`, `total_appointments`, `last_appointment`, `next_appointment` in the
//! booking's local time), and the link between the two (the contact id in the customer's
//! `external_ids.chatwoot`).

use reqwest::Method;
use serde_json::{json, Map, Value};
use sqlx::Row;
use turnero_core::ids::{CustomerId, TenantId};
use turnero_core::time::{fmt_local, parse_time_zone};

use super::{client, store::Channel};
use crate::agenda::customers::{self, CustomerDef};
use crate::channels::vendor::Failure;
use crate::db::Db;
use crate::error::Result;
use crate::outbound::Outbound;

/// Statuses that count as an appointment the customer had or has.
const COUNTED: &str = "'pending', 'confirmed', 'completed', 'no_show'";

/// The contact attributes for a customer, as of `now`.
pub async fn attributes(db: &Db, tenant: &TenantId, customer: &str, now: i64) -> Result<Value> {
    let rows = sqlx::query(&format!(
        "SELECT b.start_at, b.status, c.timezone FROM bookings b \
         JOIN calendars c ON c.id = b.calendar_id \
         WHERE b.tenant_id = $1 AND b.customer_id = $2 AND b.status IN ({COUNTED}) \
         ORDER BY b.start_at"
    ))
    .bind(tenant.as_str())
    .bind(customer)
    .fetch_all(&db.read)
    .await?;
    let local = |start: i64, zone: &str| {
        parse_time_zone(zone)
            .map(|tz| fmt_local(start, &tz))
            .unwrap_or_else(|_| turnero_core::time::fmt_ts(start))
    };
    let mut last = None;
    let mut next = None;
    for r in &rows {
        let (start, status, zone): (i64, String, String) = (r.get(0), r.get(1), r.get(2));
        if start < now {
            last = Some(local(start, &zone));
        } else if next.is_none() && (status == "pending" || status == "confirmed") {
            next = Some(local(start, &zone));
        }
    }
    Ok(json!({
        "turnero_customer_id": customer,
        "total_appointments": rows.len(),
        "last_appointment": last,
        "next_appointment": next,
    }))
}

/// `contact.synced` data.
#[derive(serde::Serialize)]
struct Synced<'a> {
    channel: &'static str,
    customer_id: &'a str,
    contact_id: i64,
    attributes: &'a Value,
    /// `message` (the contact wrote), `booking` (a booking of theirs changed) or `sync`.
    cause: &'a str,
}

/// Records that a contact got a customer's attributes (an event in the hub).
pub async fn synced(
    db: &Db,
    tenant: &TenantId,
    customer: &str,
    contact: i64,
    attributes: &Value,
    cause: &str,
    now: i64,
) -> Result<()> {
    let data = Synced {
        channel: "chatwoot",
        customer_id: customer,
        contact_id: contact,
        attributes,
        cause,
    };
    let mut tx = db.begin().await?;
    let subject = format!("{customer}:{contact}");
    crate::agenda::events::record(
        &mut tx,
        tenant,
        turnero_core::event::CONTACT_SYNCED,
        &subject,
        &data,
        now,
    )
    .await?;
    db.commit_events(tx).await?;
    Ok(())
}

/// Writes the attributes on the contact (Chatwoot merges them into the ones it has).
pub async fn push(
    outbound: &Outbound,
    ch: &Channel,
    contact: i64,
    attributes: &Value,
) -> std::result::Result<(), Failure> {
    let body = json!({"custom_attributes": attributes});
    let path = format!("/contacts/{contact}");
    client::call(
        outbound,
        ch,
        &ch.api_access_token,
        Method::PUT,
        &path,
        &body,
    )
    .await?;
    Ok(())
}

/// The Chatwoot contact a customer is linked to.
pub fn linked(external_ids: &Map<String, Value>) -> Option<i64> {
    let v = external_ids.get("chatwoot")?;
    v.as_i64().or_else(|| v.as_str()?.parse().ok())
}

/// Links the customer to the contact, unless it already is.
pub async fn link(
    db: &Db,
    tenant: &TenantId,
    customer: &str,
    contact: i64,
    now: i64,
) -> Result<()> {
    let id = CustomerId::from_trusted(customer.to_string());
    let known = customers::get(db, tenant, &id).await?;
    if linked(&known.external_ids) == Some(contact) {
        return Ok(());
    }
    let mut external_ids = Map::new();
    external_ids.insert("chatwoot".into(), json!(contact.to_string()));
    let patch = CustomerDef {
        external_ids,
        ..CustomerDef::default()
    };
    customers::update(db, tenant, &id, patch, now).await?;
    Ok(())
}

/// Links the customer a contact wrote as and brings the contact's attributes up to date.
/// Best effort, after the message is stored: a failure is logged and the next message or
/// booking change tries again.
pub async fn detected(
    db: &Db,
    outbound: &Outbound,
    ch: &Channel,
    customer: &str,
    contact: i64,
    now: i64,
) {
    let done = async {
        link(db, &ch.tenant, customer, contact, now).await?;
        let attrs = attributes(db, &ch.tenant, customer, now).await?;
        push(outbound, ch, contact, &attrs)
            .await
            .map_err(|f| anyhow::anyhow!(f.describe()))?;
        synced(db, &ch.tenant, customer, contact, &attrs, "message", now).await?;
        Ok::<_, crate::error::Error>(())
    };
    if let Err(e) = done.await {
        tracing::warn!(error = ?e, customer, "a Chatwoot contact could not be brought up to date");
    }
}
