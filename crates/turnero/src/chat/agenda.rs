//! Answers the flow engine's requests from the agenda: the same functions the HTTP API
//! calls, so a booking made in a chat obeys every rule a booking made through the API does.

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use turnero_core::booking::{Action, Status};
use turnero_core::capacity::Interval;
use turnero_core::flow::engine::{Item, SlotItem};
use turnero_core::flow::model::BookingAction;
use turnero_core::flow::{labels, Reply, Request};
use turnero_core::ids::{BookingId, CalendarId, CustomerId, ServiceId, TenantId};
use turnero_core::phone::E164;
use turnero_core::{compute_slots, SlotQuery};

use crate::agenda::bookings;
use crate::agenda::bookings::{
    self as write, place_hold, BookingFilter, BookingOut, CustomerRef, NewBooking, NewHold,
    MAX_BLOCK_SECONDS,
};
use crate::agenda::customers::{self, CustomerDef};
use crate::agenda::snapshot::{self, Busy, SnapshotQuery};
use crate::agenda::{calendars, services};
use crate::db::Db;
use crate::error::{Error, Result};

/// How far ahead the bot looks for slots (the calendar's own horizon may stop it sooner).
const SEARCH_DAYS: i64 = 60;

/// Who is asking: the tenant, the channel the booking comes from, the flow's language.
pub struct Ctx<'a> {
    pub db: &'a Db,
    pub tenant: &'a TenantId,
    pub source: &'a str,
    /// Whether the channel proves the person's phone (WhatsApp: the number is the sender).
    /// A phone typed into the web chat proves nothing: it never unlocks what the agenda
    /// knows about that number's customer, nor their bookings.
    pub verified_phone: bool,
    pub language: &'a str,
    pub now: i64,
}

fn code(e: &Error) -> Option<&'static str> {
    match e {
        Error::Problem(p) => Some(p.code),
        Error::Internal(_) => None,
    }
}

/// An agenda refusal becomes something the flow can say; an internal failure stays one.
fn refused(e: Error) -> Result<Reply> {
    match code(&e) {
        Some("slot_unavailable") => Ok(Reply::Taken),
        Some(_) => Ok(match e {
            Error::Problem(p) => Reply::Failed {
                code: p.code.to_string(),
                detail: p.detail,
            },
            Error::Internal(_) => unreachable!("matched a problem code above"),
        }),
        None => Err(e),
    }
}

pub async fn perform(cx: &Ctx<'_>, request: Request) -> Result<Reply> {
    match request {
        Request::Services => {
            let items = services::list(cx.db, cx.tenant)
                .await?
                .into_iter()
                .filter(|s| !s.calendar_ids.is_empty())
                .map(|s| item(s.id, s.name, None, BTreeMap::new()))
                .collect();
            Ok(Reply::Items(items))
        }
        Request::Professionals { service } => {
            let offered = service_calendars(cx, &service).await?;
            let items = offered
                .into_iter()
                .map(|c| item(c.id, c.name, None, BTreeMap::new()))
                .collect();
            Ok(Reply::Items(items))
        }
        Request::Slots {
            service,
            calendar,
            after,
            before,
            count,
            booking,
        } => slots(cx, &service, calendar, after, before, count, booking).await,
        Request::Hold {
            calendar,
            service,
            start,
            minutes,
        } => {
            let hold = NewHold {
                calendar_id: parse_id(&calendar, CalendarId::parse)?,
                service_id: parse_id(&service, ServiceId::parse)?,
                start,
                minutes,
                source: cx.source.to_string(),
            };
            match place_hold(cx.db, cx.tenant, hold, cx.now).await {
                Ok(h) => Ok(Reply::Held { hold: h.id }),
                Err(e) => refused(e),
            }
        }
        Request::Identify { .. } if !cx.verified_phone => Ok(Reply::Done(BTreeMap::new())),
        Request::Identify { phone } => {
            let phone = E164::parse(&phone, None).map_err(|e| anyhow::anyhow!("{e}"))?;
            let known = customers::find_by_phone(cx.db, cx.tenant, &phone).await?;
            Ok(Reply::Done(known.map(customer_vars).unwrap_or_default()))
        }
        Request::Book {
            hold,
            calendar,
            service,
            start,
            customer,
            fields,
        } => book(cx, hold, &calendar, &service, start, customer, fields).await,
        Request::MyBookings { customer } => my_bookings(cx, &customer).await,
        Request::Act {
            booking,
            action,
            start,
        } => {
            let id = parse_id(&booking, BookingId::parse)?;
            let done = match (action, start) {
                (BookingAction::Reschedule, Some(start)) => {
                    write::reschedule(cx.db, cx.tenant, &id, start, cx.source, cx.now).await
                }
                (BookingAction::Reschedule, None) => {
                    return Ok(Reply::Failed {
                        code: "no_new_time".into(),
                        detail: "no new time was chosen".into(),
                    })
                }
                (BookingAction::Confirm, _) => {
                    write::confirm_or_close(
                        cx.db,
                        cx.tenant,
                        &id,
                        Action::Confirm,
                        None,
                        cx.source,
                        cx.now,
                    )
                    .await
                }
                (BookingAction::Cancel, _) => {
                    let reason = Some(format!("canceled by the customer over {}", cx.source));
                    write::confirm_or_close(
                        cx.db,
                        cx.tenant,
                        &id,
                        Action::Cancel,
                        reason,
                        cx.source,
                        cx.now,
                    )
                    .await
                }
            };
            match done {
                Ok(b) => Ok(Reply::Done(booking_vars(cx, &b).await?)),
                Err(e) => refused(e),
            }
        }
    }
}

/// Lets go of a hold the conversation no longer needs; a hold already used, released or
/// expired is left as it is.
pub async fn release(cx: &Ctx<'_>, hold: &str) {
    let Ok(id) = BookingId::parse(hold) else {
        return;
    };
    if let Err(e) = write::confirm_or_close(
        cx.db,
        cx.tenant,
        &id,
        Action::Cancel,
        None,
        cx.source,
        cx.now,
    )
    .await
    {
        if code(&e).is_none() {
            tracing::warn!(error = ?e, "releasing a chat hold failed");
        }
    }
}

fn parse_id<T, E: std::fmt::Display>(
    raw: &str,
    parse: impl Fn(&str) -> std::result::Result<T, E>,
) -> Result<T> {
    parse(raw).map_err(|e| anyhow::anyhow!("a flow variable holds a bad id `{raw}`: {e}").into())
}

fn item(
    id: String,
    title: String,
    description: Option<String>,
    vars: BTreeMap<String, String>,
) -> Item {
    Item {
        id,
        title,
        description,
        vars,
    }
}

async fn service_calendars(cx: &Ctx<'_>, service: &str) -> Result<Vec<calendars::CalendarOut>> {
    let id = parse_id(service, ServiceId::parse)?;
    let svc = services::get(cx.db, cx.tenant, &id).await?;
    let all = calendars::list(cx.db, cx.tenant).await?;
    Ok(all
        .into_iter()
        .filter(|c| svc.calendar_ids.contains(&c.id))
        .collect())
}

/// Free starts of one calendar, or of every calendar offering the service merged by start
/// (the first calendar free at a start takes it), paged after or before an instant.
async fn slots(
    cx: &Ctx<'_>,
    service: &str,
    calendar: Option<String>,
    after: Option<i64>,
    before: Option<i64>,
    count: usize,
    booking: Option<String>,
) -> Result<Reply> {
    let service_id = parse_id(service, ServiceId::parse)?;
    let moving = booking
        .as_deref()
        .map(|b| parse_id(b, BookingId::parse))
        .transpose()?;
    let cals = match calendar {
        Some(c) => {
            let id = parse_id(&c, CalendarId::parse)?;
            vec![calendars::get(cx.db, cx.tenant, &id).await?]
        }
        None => service_calendars(cx, service).await?,
    };
    let window = Interval::new(cx.now, cx.now + SEARCH_DAYS * 86_400);
    let mut all: Vec<SlotItem> = Vec::new();
    for cal in &cals {
        let cal_id = CalendarId::from_trusted(cal.id.clone());
        let snap = snapshot::read_cached(
            cx.db,
            &SnapshotQuery {
                tenant: cx.tenant,
                calendar: &cal_id,
                service: &service_id,
                rules_window: window,
                busy: Busy::Within(Interval::new(
                    window.start - MAX_BLOCK_SECONDS,
                    window.end + MAX_BLOCK_SECONDS,
                )),
                max_block: MAX_BLOCK_SECONDS,
                ignore: moving.as_ref(),
                now: cx.now,
                lock: false,
            },
        )
        .await?;
        let page = compute_slots(&SlotQuery {
            rules: &snap.rules,
            policy: snap.calendar.policy.to_core(),
            service: snap.timing,
            capacity: snap.calendar.capacity,
            busy: &snap.busy,
            now: jiff::Timestamp::from_second(cx.now).map_err(anyhow::Error::from)?,
            range: window,
            preferred: None,
            count: None,
        });
        all.extend(page.slots.into_iter().map(|s| SlotItem {
            calendar: cal.id.clone(),
            calendar_name: cal.name.clone(),
            start: s.start,
            offset_seconds: s.offset_seconds,
        }));
    }
    // Stable: at a start several calendars share, the first calendar (by id) keeps it.
    all.sort_by_key(|s| s.start);
    all.dedup_by_key(|s| s.start);
    let (from, to) = match (after, before) {
        (_, Some(b)) => {
            let end = all.partition_point(|s| s.start < b);
            (end.saturating_sub(count), end)
        }
        (Some(a), None) => {
            let begin = all.partition_point(|s| s.start <= a);
            (begin, (begin + count).min(all.len()))
        }
        (None, None) => (0, count.min(all.len())),
    };
    Ok(Reply::Slots {
        has_earlier: from > 0,
        has_later: to < all.len(),
        slots: all[from..to].to_vec(),
    })
}

#[allow(clippy::too_many_arguments)]
async fn book(
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
    let mut made = write::create(cx.db, cx.tenant, new(hold_id.clone())?, None, cx.now).await;
    if hold_id.is_some()
        && matches!(
            made.as_ref().err().and_then(code),
            Some("hold_not_active" | "unknown_hold" | "hold_mismatch")
        )
    {
        // The hold ran out and was swept: the same start, if nobody took it, is still fine.
        made = write::create(cx.db, cx.tenant, new(None)?, None, cx.now).await;
    }
    match made {
        Ok(b) if !cx.verified_phone => {
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

fn customer_vars(c: customers::CustomerOut) -> BTreeMap<String, String> {
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
async fn booking_vars(cx: &Ctx<'_>, b: &BookingOut) -> Result<BTreeMap<String, String>> {
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
    let start: jiff::Timestamp = b.start.parse().map_err(anyhow::Error::from)?;
    let offset = jiff::tz::TimeZone::get(&b.timezone)
        .map(|tz| tz.to_offset(start).seconds())
        .unwrap_or(0);
    let when = labels::when(cx.language, start.as_second(), offset);
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

async fn my_bookings(cx: &Ctx<'_>, customer: &BTreeMap<String, String>) -> Result<Reply> {
    if !cx.verified_phone {
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
        let start: jiff::Timestamp = b.start.parse().map_err(anyhow::Error::from)?;
        if matches!(b.status.as_str(), "pending" | "confirmed") && start.as_second() >= cx.now {
            upcoming.push(b);
        }
    }
    upcoming.sort_by(|a, b| a.start.cmp(&b.start));
    booking_items(cx, upcoming).await
}

async fn booking_items(cx: &Ctx<'_>, upcoming: Vec<BookingOut>) -> Result<Reply> {
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
