//! Booking from a conversation, and what a conversation may know of a person's bookings.

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use turnero_core::booking::Status;
use turnero_core::flow::Reply;
use turnero_core::ids::{BookingId, CalendarId, CustomerId, ServiceId, TenantId};
use turnero_core::phone::E164;

use super::{item, parse_id, refused, Ctx};
use crate::agenda::bookings::{
    self, refusal, Booking, BookingFilter, CustomerRef, IdempotencyRecord, NewBooking,
};
use crate::agenda::customers::{self, CustomerDef};
use crate::agenda::idempotency;
use crate::agenda::{calendars, services};
use crate::db::Db;
use crate::error::Result;

#[allow(clippy::too_many_arguments)]
pub(super) async fn book(
    cx: &Ctx<'_>,
    hold: Option<String>,
    calendar: &str,
    service: &str,
    start: i64,
    customer: BTreeMap<String, String>,
    fields: BTreeMap<String, String>,
) -> Result<Reply> {
    let who = || -> Result<CustomerRef> {
        if let Some(id) = customer.get("id") {
            return Ok(CustomerRef::Existing(parse_id(id, CustomerId::parse)?));
        }
        let phone = customer
            .get("phone")
            .map(|p| E164::parse(p, None).map_err(|e| anyhow::anyhow!("{e}")))
            .transpose()?;
        let mut external_ids = Map::new();
        if let Some(contact) = customer.get("external_id") {
            external_ids.insert(cx.source.to_string(), Value::String(contact.clone()));
        }
        Ok(CustomerRef::Details(CustomerDef {
            name: customer.get("name").cloned(),
            phone,
            email: customer.get("email").cloned(),
            birthdate: customer.get("birthdate").cloned(),
            document_id: customer.get("document_id").cloned(),
            custom_fields: Map::new(),
            external_ids,
        }))
    };
    let new = |hold_id: Option<BookingId>| -> Result<NewBooking> {
        Ok(NewBooking {
            calendar_id: parse_id(calendar, CalendarId::parse)?,
            service_id: parse_id(service, ServiceId::parse)?,
            start,
            customer: who()?,
            hold_id,
            custom_fields: fields
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect(),
            notes: None,
            source: cx.source.to_string(),
            external: None,
        })
    };
    let hold_id = hold
        .as_deref()
        .map(|h| parse_id(h, BookingId::parse))
        .transpose()?;
    // A process that died after booking but before its turn was recorded left the booking
    // under this key: the turn run again answers that booking.
    let key = format!("chat:{}:{calendar}:{start}", cx.message);
    let hash = idempotency::request_hash(key.as_bytes());
    let made_before = idempotency::lookup(cx.db, cx.tenant, &key, &hash).await?;
    if let Some(id) = made_before.and_then(|s| booked_id(&s.body)) {
        let b = bookings::get(cx.db, cx.tenant, &id).await?;
        return Ok(Reply::Done(booking_vars(cx, &b).await?));
    }
    let idem = || IdempotencyRecord {
        key: &key,
        request_hash: &hash,
    };
    let mut made = bookings::create(
        cx.db,
        cx.tenant,
        new(hold_id.clone())?,
        Some(idem()),
        cx.now,
    )
    .await;
    if hold_id.is_some()
        && matches!(
            made.as_ref().err().and_then(|e| e.code()),
            Some(refusal::HOLD_NOT_ACTIVE | refusal::UNKNOWN_HOLD | refusal::HOLD_MISMATCH)
        )
    {
        // The hold ran out and was swept: the same start, if nobody took it, is still fine.
        made = bookings::create(cx.db, cx.tenant, new(None)?, Some(idem()), cx.now).await;
    }
    match made {
        Ok(b) if !cx.proves(customer.get("phone")) => {
            // The booking is remembered by this conversation only, not the customer it was
            // matched to by a typed phone.
            let mut vars = booking_vars(cx, &b).await?;
            let mut mine: Vec<&str> = customer
                .get("bookings")
                .map(|l| l.split(',').filter(|i| !i.is_empty()).collect())
                .unwrap_or_default();
            mine.push(&b.id);
            vars.insert("customer.bookings".into(), mine.join(","));
            Ok(Reply::Done(vars))
        }
        Ok(b) => {
            let mut vars = booking_vars(cx, &b).await?;
            if let Some(c) = &b.customer {
                vars.insert("customer.id".into(), c.id.clone());
                if let Some(contact) = customer.get("external_id") {
                    remember_contact(cx, &c.id, contact).await?;
                }
            }
            Ok(Reply::Done(vars))
        }
        Err(e) => refused(e),
    }
}

/// The booking id in a stored answer (the booking's published form).
fn booked_id(body: &str) -> Option<BookingId> {
    let v: Value = serde_json::from_str(body).ok()?;
    BookingId::parse(v.get("id")?.as_str()?).ok()
}

/// Keeps the channel's id for the person (WhatsApp's `wa_id`) on a customer who was on file
/// before they wrote (a new customer gets it when created).
async fn remember_contact(cx: &Ctx<'_>, customer: &str, contact: &str) -> Result<()> {
    let id = CustomerId::from_trusted(customer.to_string());
    let known = customers::get(cx.db, cx.tenant, &id).await?;
    if known.external_ids.get(cx.source).and_then(Value::as_str) == Some(contact) {
        return Ok(());
    }
    let mut external_ids = Map::new();
    external_ids.insert(cx.source.to_string(), Value::String(contact.to_string()));
    let patch = CustomerDef {
        external_ids,
        ..CustomerDef::default()
    };
    customers::update(cx.db, cx.tenant, &id, patch, cx.now).await?;
    Ok(())
}

pub(super) fn customer_vars(c: customers::Customer) -> BTreeMap<String, String> {
    let mut vars = BTreeMap::from([("customer.id".to_string(), c.id)]);
    let mut put = |k: &str, v: Option<String>| {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            vars.insert(format!("customer.{k}"), v);
        }
    };
    put("name", Some(c.name));
    put("email", c.email);
    put("document_id", c.document_id);
    put("birthdate", c.birthdate);
    vars
}

/// What a conversation knows about a customer already on file.
pub async fn known_customer(
    db: &Db,
    tenant: &TenantId,
    phone: &E164,
) -> Result<BTreeMap<String, String>> {
    Ok(customers::find_by_phone(db, tenant, phone)
        .await?
        .map(customer_vars)
        .unwrap_or_default())
}

/// `booking`, `booking_text` ("Consulta, lun 07/01 09:00"), and the booking's service and
/// calendar with their names.
pub(super) async fn booking_vars(cx: &Ctx<'_>, b: &Booking) -> Result<BTreeMap<String, String>> {
    let service = services::get(
        cx.db,
        cx.tenant,
        &ServiceId::from_trusted(b.service_id.clone()),
    )
    .await?;
    let calendar = calendars::get(
        cx.db,
        cx.tenant,
        &CalendarId::from_trusted(b.calendar_id.clone()),
    )
    .await?;
    let when = b.when(cx.language);
    Ok(BTreeMap::from([
        ("booking".to_string(), b.id.clone()),
        (
            "booking_text".to_string(),
            format!("{}, {when}", service.name),
        ),
        ("service".to_string(), b.service_id.clone()),
        ("service_name".to_string(), service.name),
        ("calendar".to_string(), b.calendar_id.clone()),
        ("calendar_name".to_string(), calendar.name),
    ]))
}

pub(super) async fn my_bookings(
    cx: &Ctx<'_>,
    customer: &BTreeMap<String, String>,
) -> Result<Reply> {
    if !cx.proves(customer.get("phone")) {
        return this_conversations_bookings(cx, customer).await;
    }
    let id = match (customer.get("id"), customer.get("phone")) {
        (Some(id), _) => Some(id.clone()),
        (None, Some(phone)) => {
            let phone = E164::parse(phone, None).map_err(|e| anyhow::anyhow!("{e}"))?;
            customers::find_by_phone(cx.db, cx.tenant, &phone)
                .await?
                .map(|c| c.id)
        }
        (None, None) => None,
    };
    let Some(id) = id else {
        return Ok(Reply::Items(vec![]));
    };
    let upcoming = bookings::list(
        cx.db,
        cx.tenant,
        &BookingFilter {
            customer_id: Some(id),
            statuses: vec![Status::Pending, Status::Confirmed],
            start: Some(cx.now),
            limit: 10,
            ..BookingFilter::default()
        },
    )
    .await?;
    booking_items(cx, upcoming).await
}

/// On a channel that cannot prove a phone: the upcoming bookings made in this conversation.
async fn this_conversations_bookings(
    cx: &Ctx<'_>,
    customer: &BTreeMap<String, String>,
) -> Result<Reply> {
    let mut upcoming = Vec::new();
    for id in customer
        .get("bookings")
        .into_iter()
        .flat_map(|l| l.split(','))
    {
        let Ok(id) = BookingId::parse(id) else {
            continue;
        };
        let Ok(b) = bookings::get(cx.db, cx.tenant, &id).await else {
            continue;
        };
        if matches!(b.status, Status::Pending | Status::Confirmed) && b.start.as_second() >= cx.now
        {
            upcoming.push(b);
        }
    }
    upcoming.sort_by_key(|b| b.start);
    booking_items(cx, upcoming).await
}

async fn booking_items(cx: &Ctx<'_>, upcoming: Vec<Booking>) -> Result<Reply> {
    let mut items = Vec::new();
    for b in upcoming {
        let vars = booking_vars(cx, &b).await?;
        let title = vars["booking_text"]
            .rsplit(", ")
            .next()
            .unwrap_or_default()
            .to_string();
        let description = Some(vars["service_name"].clone());
        items.push(item(b.id.clone(), title, description, vars));
    }
    Ok(Reply::Items(items))
}
