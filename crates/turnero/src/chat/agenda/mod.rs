//! Answers the flow engine's requests from the agenda: the same functions the HTTP API
//! calls, so a booking made in a chat obeys every rule a booking made through the API does.
//! `slots` offers from the one slot search; `bookings` books and lists a person's bookings.

mod bookings;
mod slots;

pub use bookings::known_customer;
use bookings::{book, booking_vars, customer_vars, my_bookings};
use slots::{service_calendars, slots};

use std::collections::BTreeMap;

use turnero_core::booking::Action;
use turnero_core::flow::engine::Item;
use turnero_core::flow::model::BookingAction;
use turnero_core::flow::{Reply, Request};
use turnero_core::ids::{BookingId, CalendarId, ServiceId, TenantId};
use turnero_core::phone::E164;

use crate::agenda::bookings::{self as write, place_hold, refusal, NewHold};
use crate::agenda::snapshot::SnapshotCache;
use crate::agenda::{customers, services};
use crate::db::Db;
use crate::error::{Error, Result};
use crate::outbound::Outbound;

/// Who is asking: the tenant, the channel the booking comes from, the flow's language.
pub struct Ctx<'a> {
    pub db: &'a Db,
    pub tenant: &'a TenantId,
    pub source: &'a str,
    /// The phone the person proved (WhatsApp: the number is the sender; Telegram: a contact
    /// they shared of themselves). A phone typed into a chat proves nothing: it never
    /// unlocks what the agenda knows about that number's customer, nor their bookings.
    pub proven_phone: Option<E164>,
    /// The person in the channel's terms (a WhatsApp number, a Telegram chat id), kept on
    /// the customer whose phone they proved.
    pub contact: &'a str,
    pub language: &'a str,
    pub now: i64,
    /// For the slot search: its cache, and the client that asks another agenda.
    pub snapshots: &'a SnapshotCache,
    pub outbound: &'a Outbound,
    /// The message this turn answers: a booking made for it is keyed by it, so the turn
    /// run again after a crash finds that booking instead of making another.
    pub message: &'a str,
}

impl Ctx<'_> {
    /// Whether `phone` (as the conversation holds it) is the one the person proved.
    pub fn proves(&self, phone: Option<&String>) -> bool {
        let (Some(proven), Some(phone)) = (&self.proven_phone, phone) else {
            return false;
        };
        E164::parse(phone, None).is_ok_and(|p| &p == proven)
    }
}

/// An agenda refusal becomes something the flow can say; an internal failure stays one.
fn refused(e: Error) -> Result<Reply> {
    let p = e.refusal()?;
    Ok(match p.code {
        refusal::SLOT_UNAVAILABLE => Reply::Taken,
        _ => Reply::Failed {
            code: p.code.to_string(),
            detail: p.detail,
        },
    })
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
            wish,
        } => {
            let asked = slots::Asked {
                service,
                calendar,
                after,
                before,
                count,
                booking,
                wish,
            };
            slots(cx, asked).await
        }
        Request::Days {
            service,
            calendar,
            booking,
        } => slots::days(cx, &service, calendar, booking).await,
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
        Request::Identify { phone } if !cx.proves(Some(&phone)) => Ok(Reply::Done(BTreeMap::new())),
        Request::Identify { phone } => {
            let phone = E164::parse(&phone, None).map_err(|e| anyhow::anyhow!("{e}"))?;
            let known = customers::find_by_phone(cx.db, cx.tenant, &phone).await?;
            let mut vars = known.map(customer_vars).unwrap_or_default();
            vars.insert("customer.external_id".into(), cx.contact.to_string());
            Ok(Reply::Done(vars))
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
        if e.code().is_none() {
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
