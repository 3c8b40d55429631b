//! AsisteClick tells the agenda about bookings its bot made: `event_created`, `event_updated`
//! (moved) and `event_canceled`. The event's `public_key` is the booking's key in AsisteClick;
//! it is stored with the booking in the booking's own transaction, which makes every callback
//! idempotent: the same one twice changes nothing the second time.

use serde_json::{Map, Value};
use sqlx::Row;
use turnero_core::booking::{Action, Status};
use turnero_core::ids::{BookingId, TenantId};
use turnero_core::phone::{parse_region, E164};

use super::integration::Integration;
use super::{normalize_key, parse_instant, Lenient, SYSTEM};
use crate::agenda::bookings::{self, CustomerRef, ExternalRef, NewBooking};
use crate::agenda::customers::CustomerDef;
use crate::db::Db;
use crate::error::{Error, Result};

enum Kind {
    Created,
    Updated,
    Canceled,
}

fn kind(raw: &str) -> Option<Kind> {
    match normalize_key(raw).as_str() {
        "eventcreated" | "created" => Some(Kind::Created),
        "eventupdated" | "updated" => Some(Kind::Updated),
        "eventcanceled" | "eventcancelled" | "canceled" | "cancelled" => Some(Kind::Canceled),
        _ => None,
    }
}

fn missing(what: &str) -> Error {
    Error::bad_request(
        "malformed_callback",
        format!("`{what}` is missing or unreadable"),
    )
}

/// Applies one callback; answers the turnero booking it concerns.
pub async fn apply(
    db: &Db,
    integration: &Integration,
    region: &str,
    body: &Value,
    now: i64,
) -> Result<BookingId> {
    let req = Lenient::of(body).ok_or_else(|| missing("body"))?;
    let kind = req
        .text("event_type")
        .as_deref()
        .and_then(kind)
        .ok_or_else(|| missing("event_type"))?;
    let event = req.object("event").ok_or_else(|| missing("event"))?;
    let key = event
        .text("public_key")
        .ok_or_else(|| missing("event.public_key"))?;
    let tenant = &integration.tenant;
    let known = reference(db, tenant, &key).await?;
    let applied = known.as_ref().and_then(|(_, at)| *at);
    match (kind, known.map(|(id, _)| id)) {
        (Kind::Created, Some(id)) => Ok(id),
        (Kind::Created | Kind::Updated, None) => {
            create(db, integration, region, body, &key, now).await
        }
        (Kind::Updated, Some(id)) => {
            let start = event
                .text("utc_from")
                .and_then(|t| parse_instant(&t, None))
                .ok_or_else(|| missing("event.utc_from"))?;
            let current = bookings::get(db, tenant, &id).await?;
            if let Some((calendar, _)) = event
                .text("calendar_id")
                .and_then(|c| integration.target(&c))
            {
                if calendar.as_str() != current.calendar_id {
                    return Err(Error::conflict(
                        "calendar_change_unsupported",
                        "a booking cannot move to another calendar; cancel it and book again",
                    ));
                }
            }
            // A retried update older than the one applied would move the booking back.
            let sent_at = req.text("timestamp").and_then(|t| parse_instant(&t, None));
            if let (Some(sent), Some(applied)) = (sent_at, applied) {
                if sent < applied {
                    return Ok(id);
                }
            }
            // A no-op when it is already there (checked again inside the transaction).
            bookings::reschedule(db, tenant, &id, start, SYSTEM, now).await?;
            remember(db, tenant, &key, body, now).await?;
            Ok(id)
        }
        (Kind::Canceled, None) => Err(Error::new(
            axum::http::StatusCode::NOT_FOUND,
            "unknown_booking",
            format!("no booking has public_key {key}"),
        )),
        (Kind::Canceled, Some(id)) => {
            let current = bookings::get(db, tenant, &id).await?;
            if current.status != Status::Canceled {
                let done = bookings::confirm_or_close(
                    db,
                    tenant,
                    &id,
                    Action::Cancel,
                    Some("canceled in AsisteClick".into()),
                    SYSTEM,
                    now,
                )
                .await;
                // Two copies of the same cancel at once: the loser finds it canceled.
                if let Err(e) = done {
                    if bookings::get(db, tenant, &id).await?.status != Status::Canceled {
                        return Err(e);
                    }
                }
            }
            remember(db, tenant, &key, body, now).await?;
            Ok(id)
        }
    }
}

async fn find(db: &Db, tenant: &TenantId, key: &str) -> Result<Option<BookingId>> {
    Ok(reference(db, tenant, key).await?.map(|(id, _)| id))
}

/// The booking AsisteClick knows by `key`, and when AsisteClick sent the callback last
/// applied to it (its `timestamp`, if it had one).
async fn reference(
    db: &Db,
    tenant: &TenantId,
    key: &str,
) -> Result<Option<(BookingId, Option<i64>)>> {
    let row = sqlx::query(
        "SELECT booking_id, data FROM booking_external_refs \
         WHERE tenant_id = $1 AND system = $2 AND external_key = $3",
    )
    .bind(tenant.as_str())
    .bind(SYSTEM)
    .bind(key)
    .fetch_optional(&db.write)
    .await?;
    Ok(row.map(|r| {
        let data: Option<Value> = serde_json::from_str(&r.get::<String, _>(1)).ok();
        let sent = data
            .as_ref()
            .and_then(|d| d["timestamp"].as_str())
            .and_then(|t| parse_instant(t, None));
        (BookingId::from_trusted(r.get::<String, _>(0)), sent)
    }))
}

/// Keeps the latest callback (ticket, location, transcript…) with the booking.
async fn remember(db: &Db, tenant: &TenantId, key: &str, body: &Value, now: i64) -> Result<()> {
    sqlx::query(
        "UPDATE booking_external_refs SET data = $1, updated_at = $2 \
         WHERE tenant_id = $3 AND system = $4 AND external_key = $5",
    )
    .bind(body.to_string())
    .bind(now)
    .bind(tenant.as_str())
    .bind(SYSTEM)
    .bind(key)
    .execute(&db.write)
    .await?;
    Ok(())
}

async fn create(
    db: &Db,
    integration: &Integration,
    region: &str,
    body: &Value,
    key: &str,
    now: i64,
) -> Result<BookingId> {
    let req = Lenient::of(body).ok_or_else(|| missing("body"))?;
    let event = req.object("event").ok_or_else(|| missing("event"))?;
    let asisteclick_calendar = event
        .text("calendar_id")
        .ok_or_else(|| missing("event.calendar_id"))?;
    let (calendar, service) = integration.target(&asisteclick_calendar).ok_or_else(|| {
        Error::bad_request(
            "unknown_calendar",
            format!("calendar_id {asisteclick_calendar} is not mapped to a turnero calendar"),
        )
    })?;
    let start = event
        .text("utc_from")
        .and_then(|t| parse_instant(&t, None))
        .ok_or_else(|| missing("event.utc_from"))?;
    let new = NewBooking {
        calendar_id: calendar,
        service_id: service,
        start,
        customer: CustomerRef::Details(customer(req.object("customer"), region)),
        hold_id: None,
        custom_fields: custom_fields(req.get("custom_fields")),
        notes: None,
        source: SYSTEM.into(),
        external: Some(ExternalRef {
            system: SYSTEM,
            key: key.to_string(),
            data: body.clone(),
        }),
    };
    let calendar_id = new.calendar_id.as_str().to_string();
    match bookings::create(db, &integration.tenant, new, None, now).await {
        Ok(out) => Ok(BookingId::from_trusted(out.id)),
        // The same callback, twice at once: the other one stored the key first.
        Err(e) => match find(db, &integration.tenant, key).await? {
            Some(id) => Ok(id),
            None => {
                // A booking AsisteClick's bot already made that cannot be kept: the patient
                // thinks they have it, so the refusal is kept and announced.
                if let Error::Problem(p) = &e {
                    let conflict = super::conflicts::Conflict {
                        id: super::conflicts::new_id(),
                        public_key: key.to_string(),
                        calendar_id: Some(calendar_id),
                        start: Some(start),
                        code: p.code.to_string(),
                        detail: p.detail.clone(),
                        callback: body.clone(),
                        created_at: now,
                    };
                    super::conflicts::record(db, &integration.tenant, &conflict).await?;
                }
                Err(e)
            }
        },
    }
}

/// The customer as AsisteClick describes them; the phone is read with their country if
/// given, else the tenant's region. An unreadable phone is left out rather than refusing a
/// booking AsisteClick has already made.
fn customer(c: Option<Lenient<'_>>, tenant_region: &str) -> CustomerDef {
    let Some(c) = c else {
        return CustomerDef::default();
    };
    let region = c
        .text("country_code")
        .and_then(|r| parse_region(&r.to_uppercase()).ok())
        .or_else(|| parse_region(tenant_region).ok());
    let mut external_ids = Map::new();
    if let Some(fp) = c.text("fingerprint") {
        external_ids.insert(SYSTEM.into(), Value::String(fp));
    }
    CustomerDef {
        name: c.text("name"),
        phone: c.text("phone").and_then(|p| E164::parse(&p, region).ok()),
        email: c.text("email"),
        external_ids,
        ..CustomerDef::default()
    }
}

/// `[{"id": "obra_social", "value": "OSDE"}]` (or an object) as the booking's custom fields.
fn custom_fields(v: Option<&Value>) -> Map<String, Value> {
    match v {
        Some(Value::Object(m)) => m.clone(),
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|item| {
                let f = Lenient::of(item)?;
                Some((
                    f.text("id")?,
                    f.get("value").cloned().unwrap_or(Value::Null),
                ))
            })
            .collect(),
        _ => Map::new(),
    }
}
