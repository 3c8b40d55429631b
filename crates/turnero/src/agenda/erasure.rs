//! A customer's erasure (LGPD, GDPR): their row stays for their bookings' sake with every
//! personal field emptied; their bookings lose notes and custom fields (and AsisteClick's
//! stored callback, all but its timestamp); answers kept for retries that name them go; every event that
//! mentions them (or one of `also`, their conversations) is rewritten without personal data.
//! The caller's transaction makes it one change with its `customer.erased` event.

use serde_json::{json, Map, Value};
use sqlx::Row;
use turnero_core::event;
use turnero_core::ids::{CustomerId, TenantId};

use crate::agenda::{customers, events};
use crate::db::Tx;
use crate::error::Result;

/// Keys an event about a conversation or a message keeps once its person is erased: what
/// links it to other records, nothing said or identifying.
const KEPT_KEYS: &[&str] = &[
    "channel",
    "conversation_id",
    "customer_id",
    "booking_id",
    "rule_id",
    "status",
    "at",
];

/// Erases the customer in `tx`; `false` when they were erased before (nothing to do).
/// `also`: ids of other records about the person (their conversations) whose events go too.
pub async fn erase_customer_in(
    tx: &mut Tx,
    tenant: &TenantId,
    id: &CustomerId,
    also: &[String],
    now: i64,
) -> Result<bool> {
    let current = customers::get_in(tx, tenant, id).await?;
    if current.erased_at.is_some() {
        return Ok(false);
    }
    sqlx::query(
        "UPDATE customers SET name = '', phone = NULL, email = NULL, birthdate = NULL, \
         document_id = NULL, custom_fields = '{}', external_ids = '{}', erased_at = $1, \
         updated_at = $1 WHERE tenant_id = $2 AND id = $3",
    )
    .bind(now)
    .bind(tenant.as_str())
    .bind(id.as_str())
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "UPDATE bookings SET notes = NULL, custom_fields = '{}' \
         WHERE tenant_id = $1 AND customer_id = $2",
    )
    .bind(tenant.as_str())
    .bind(id.as_str())
    .execute(&mut **tx)
    .await?;
    forget_stored_answers(tx, tenant, id).await?;
    let erased = customers::get_in(tx, tenant, id).await?;
    let erased_json = serde_json::to_value(&erased)?;
    let mut needles = vec![id.as_str().to_string()];
    needles.extend(also.iter().cloned());
    scrub_events(tx, tenant, &needles, id.as_str(), &erased_json).await?;
    let data = json!({"id": id.as_str(), "erased_at": turnero_core::time::fmt_utc(
        erased.erased_at.unwrap_or_default())});
    events::record(tx, tenant, event::CUSTOMER_ERASED, id.as_str(), &data, now).await?;
    Ok(true)
}

/// What other systems and retried requests stored about the person: the AsisteClick
/// callback kept with each of their bookings (name, phone, the chat transcript) keeps only
/// its `timestamp` (the order of later callbacks depends on it), and the answers kept for
/// `Idempotency-Key` retries that name them are forgotten (a retry would replay them).
async fn forget_stored_answers(tx: &mut Tx, tenant: &TenantId, id: &CustomerId) -> Result<()> {
    let refs = sqlx::query(
        "SELECT r.system, r.external_key, r.data FROM booking_external_refs r \
         JOIN bookings b ON b.id = r.booking_id \
         WHERE r.tenant_id = $1 AND b.tenant_id = $1 AND b.customer_id = $2",
    )
    .bind(tenant.as_str())
    .bind(id.as_str())
    .fetch_all(&mut **tx)
    .await?;
    for r in refs {
        let (system, key, data): (String, String, String) = (r.get(0), r.get(1), r.get(2));
        let stamp = serde_json::from_str::<Value>(&data)
            .ok()
            .map(|d| d["timestamp"].clone());
        let kept = match stamp {
            Some(t) if !t.is_null() => json!({ "timestamp": t }),
            _ => json!({}),
        };
        sqlx::query(
            "UPDATE booking_external_refs SET data = $1 \
             WHERE tenant_id = $2 AND system = $3 AND external_key = $4",
        )
        .bind(kept.to_string())
        .bind(tenant.as_str())
        .bind(system)
        .bind(key)
        .execute(&mut **tx)
        .await?;
    }
    sqlx::query("DELETE FROM idempotency_keys WHERE tenant_id = $1 AND body LIKE $2 ESCAPE '\\'")
        .bind(tenant.as_str())
        .bind(super::json_names(id.as_str()))
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Rewrites every event of the tenant whose data names one of `needles` (ids). A scan of
/// the tenant's events: erasures are rare, and an index on the data would cost every write.
async fn scrub_events(
    tx: &mut Tx,
    tenant: &TenantId,
    needles: &[String],
    customer_id: &str,
    erased: &Value,
) -> Result<()> {
    for needle in needles {
        let rows = sqlx::query(
            "SELECT id, type, data FROM events WHERE tenant_id = $1 AND data LIKE $2 ESCAPE '\\'",
        )
        .bind(tenant.as_str())
        .bind(super::json_names(needle))
        .fetch_all(&mut **tx)
        .await?;
        for r in rows {
            let (event_id, kind, data): (String, String, String) = (r.get(0), r.get(1), r.get(2));
            let Ok(before) = serde_json::from_str::<Value>(&data) else {
                continue;
            };
            let after = scrubbed(&kind, before.clone(), customer_id, erased);
            if after != before {
                sqlx::query("UPDATE events SET data = $1 WHERE tenant_id = $2 AND id = $3")
                    .bind(serde_json::to_string(&after)?)
                    .bind(tenant.as_str())
                    .bind(event_id)
                    .execute(&mut **tx)
                    .await?;
            }
        }
    }
    Ok(())
}

/// An event's data without the erased person: a customer event becomes the erased record,
/// a booking keeps its times and status with an anonymous customer, anything else (messages,
/// conversations, notifications) keeps only the ids that link it to other records.
fn scrubbed(kind: &str, data: Value, customer_id: &str, erased: &Value) -> Value {
    let Value::Object(mut obj) = data else {
        return data;
    };
    if kind.starts_with("customer.") {
        return if obj.get("id").and_then(Value::as_str) == Some(customer_id) {
            erased.clone()
        } else {
            Value::Object(obj)
        };
    }
    if kind.starts_with("booking.") || kind.starts_with("hold.") {
        if let Some(customer) = obj.get_mut("customer") {
            if customer.get("id").and_then(Value::as_str) == Some(customer_id) {
                *customer = json!({"id": customer_id, "name": "", "phone": null, "email": null});
            }
        }
        obj.insert("notes".into(), Value::Null);
        obj.insert("custom_fields".into(), Value::Object(Map::new()));
        return Value::Object(obj);
    }
    let mut kept: Map<String, Value> = obj
        .into_iter()
        .filter(|(k, _)| KEPT_KEYS.contains(&k.as_str()))
        .collect();
    kept.insert("erased".into(), Value::Bool(true));
    Value::Object(kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_booking_event_keeps_its_times_and_loses_the_person() {
        let data = json!({"id": "bkg_1", "status": "confirmed", "start": "2030-01-09T12:00:00Z",
            "customer": {"id": "cus_1", "name": "Ana", "phone": "+5491122334455", "email": "a@x.io"},
            "notes": "alergia", "custom_fields": {"plan": "osde"}});
        let out = scrubbed("booking.created", data, "cus_1", &Value::Null);
        assert_eq!(out["start"], "2030-01-09T12:00:00Z");
        assert_eq!(out["customer"]["name"], "");
        assert_eq!(out["customer"]["phone"], Value::Null);
        assert_eq!(out["notes"], Value::Null);
        assert_eq!(out["custom_fields"], json!({}));
    }

    #[test]
    fn a_message_event_keeps_only_the_ids_that_link_it() {
        let data = json!({"channel": "whatsapp", "conversation_id": "conv_1",
            "contact_id": "5491122334455", "customer_name": "Ana",
            "message": {"text": "soy Ana, DNI 30111222"}});
        let out = scrubbed("message.received", data, "cus_1", &Value::Null);
        assert_eq!(
            out,
            json!({"channel": "whatsapp", "conversation_id": "conv_1", "erased": true})
        );
    }

    #[test]
    fn another_customers_event_is_left_alone() {
        let data = json!({"id": "cus_2", "name": "Bea"});
        let out = scrubbed("customer.updated", data.clone(), "cus_1", &json!({}));
        assert_eq!(out, data);
    }
}
