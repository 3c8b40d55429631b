//! A customer as Chatwoot's agents see them: the contact's custom attributes
//! (`turnero_customer_id`, `total_appointments`, `last_appointment`, `next_appointment` in the
//! booking's local time), and the link between the two (the contact id in the customer's
//! `external_ids.chatwoot`).

use reqwest::Method;
use serde_json::{json, Map, Value};
use sqlx::Row;
use turnero_core::ids::{CustomerId, TenantId};
use turnero_core::phone::E164;
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
    /// `customer` (linked or changed), `booking` (a booking of theirs changed) or `sync`.
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

/// The contact with this number, as Chatwoot holds it. Chatwoot keeps the number as its
/// channel gave it (`+521…` for some Mexican WhatsApp contacts, where the customer has
/// `+52…`): the search is by the last digits, and the numbers are compared as E.164.
pub async fn find_by_phone(
    outbound: &Outbound,
    ch: &Channel,
    phone: &str,
) -> std::result::Result<Option<Value>, Failure> {
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    let tail = &digits[digits.len().saturating_sub(10)..];
    let filter = json!({"payload": [{"attribute_key": "phone_number", "filter_operator": "contains",
        "values": [tail], "query_operator": null}]});
    let wanted = E164::parse(phone, None).ok();
    let token = &ch.api_access_token;
    let found = client::call(
        outbound,
        ch,
        token,
        Method::POST,
        "/contacts/filter?page=1",
        &filter,
    )
    .await?;
    Ok(found["payload"].as_array().and_then(|l| {
        l.iter()
            .find(|c| {
                c["phone_number"]
                    .as_str()
                    .and_then(|p| E164::parse(p, None).ok())
                    .is_some_and(|p| Some(p) == wanted)
            })
            .cloned()
    }))
}

/// The contact a customer is linked to in this account (`external_ids.chatwoot`, with the
/// account it belongs to in `chatwoot_account`: an id means nothing in another account).
pub fn linked(external_ids: &Map<String, Value>, ch: &Channel) -> Option<i64> {
    let account = external_ids.get("chatwoot_account")?;
    let account = account
        .as_i64()
        .or_else(|| account.as_str()?.parse().ok())?;
    if account != ch.account_id {
        return None;
    }
    let v = external_ids.get("chatwoot")?;
    v.as_i64().or_else(|| v.as_str()?.parse().ok())
}

/// Links the customer to the contact, unless they are linked to a contact of this account
/// already (the first link stays: a second contact with the same number is not the one
/// agents know them by). Linking is a `customer.updated` event, which the follower turns into
/// the contact's attributes. Answers whether it linked.
pub async fn link(
    db: &Db,
    ch: &Channel,
    customer: &str,
    contact: i64,
    replace: bool,
    now: i64,
) -> Result<bool> {
    let id = CustomerId::from_trusted(customer.to_string());
    let known = customers::get(db, &ch.tenant, &id).await?;
    match linked(&known.external_ids, ch) {
        Some(c) if c == contact => return Ok(false),
        Some(_) if !replace => return Ok(false),
        _ => {}
    }
    let mut external_ids = Map::new();
    external_ids.insert("chatwoot".into(), json!(contact.to_string()));
    external_ids.insert("chatwoot_account".into(), json!(ch.account_id.to_string()));
    let patch = CustomerDef {
        external_ids,
        ..CustomerDef::default()
    };
    customers::update(db, &ch.tenant, &id, patch, now).await?;
    Ok(true)
}
