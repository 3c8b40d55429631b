//! Bookings and holds (a hold is a booking in the `held` state, with an expiry).
//!
//! `claim` is the only way a booking takes room in a calendar; `write` creates, moves and
//! changes the status of bookings and `holds` places, releases and expires holds, each change
//! with its history row and outbox event in the same transaction; this file has the shapes and
//! the reads.

mod change;
mod claim;
mod external;
pub mod history;
mod holds;
mod lines;
mod write;

use jiff::tz::TimeZone;
use jiff::Timestamp;
use serde::Serialize;
use serde_json::{Map, Value};
use sqlx::{AnyConnection, Row};
use turnero_core::booking::Status;
use turnero_core::ids::{BookingId, TenantId};

pub use claim::{check as check_bookable, MAX_BLOCK_SECONDS};
pub use external::{external_refs, ExternalRecord};
pub use lines::{agenda_lines, AgendaLine};

pub use change::{confirm_or_close, reschedule};
pub use holds::{expire_holds, place_hold, release_hold, NewHold};
pub use write::{create, CustomerRef, ExternalRef, IdempotencyRecord, NewBooking};

use turnero_core::time::fmt_utc;

use crate::agenda::instant;
use crate::db::Db;
use crate::error::{Error, Result};

/// Where a change comes from when it only mirrors one already made elsewhere (AsisteClick's
/// bot booked, moved or canceled on its side, as staff would): the clinic's notice, horizon,
/// hours and cut-offs cannot refuse it; the calendar's capacity still can.
const MIRRORED_SOURCES: &[&str] = &["asisteclick"];

pub fn mirrors(source: &str) -> bool {
    MIRRORED_SOURCES.contains(&source)
}

/// Codes of the refusals that callers act on rather than only show.
pub mod refusal {
    /// Someone else took the time meanwhile.
    pub const SLOT_UNAVAILABLE: &str = "slot_unavailable";
    /// The hold no longer exists as a live hold for this booking.
    pub const UNKNOWN_HOLD: &str = "unknown_hold";
    pub const HOLD_NOT_ACTIVE: &str = "hold_not_active";
    pub const HOLD_MISMATCH: &str = "hold_mismatch";
}

/// Who is on a booking, as embedded in it (so integrators need no second call).
#[derive(Debug, Clone, Serialize)]
pub struct CustomerSummary {
    pub id: String,
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
}

/// A booking as the agenda knows it: instants as instants, the status as the status machine's.
///
/// `Serialize` writes its published form, the `data` of `booking.*` / `hold.*` events; the
/// API's `BookingOut` answers the same shape (a test in `api` holds the two together).
#[derive(Debug, Clone)]
pub struct Booking {
    pub id: String,
    pub status: Status,
    pub calendar_id: String,
    pub service_id: String,
    pub customer: Option<CustomerSummary>,
    pub start: Timestamp,
    pub end: Timestamp,
    /// The calendar's zone: local times are computed in it, never stored.
    pub zone: TimeZone,
    /// Holds only: when the hold lapses.
    pub expires_at: Option<Timestamp>,
    /// Where it came from: `api`, `chat`, `asisteclick`, `admin`, `demo`…
    pub source: String,
    /// Unguessable key for links sent to the customer.
    pub public_key: String,
    pub custom_fields: Map<String, Value>,
    pub notes: Option<String>,
    pub cancel_reason: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Booking {
    /// The calendar's IANA zone name.
    pub fn timezone(&self) -> &str {
        self.zone.iana_name().unwrap_or("UTC")
    }

    /// Its start as a person reads it, in the calendar's local time: `mar 08/01 10:00`.
    pub fn when(&self, language: &str) -> String {
        let offset = self.zone.to_offset(self.start).seconds();
        turnero_core::flow::labels::when(language, self.start.as_second(), offset)
    }
}

/// The published form, field for field in the order the API shows it.
#[derive(Serialize)]
struct Published<'a> {
    id: &'a str,
    status: Status,
    calendar_id: &'a str,
    service_id: &'a str,
    customer: &'a Option<CustomerSummary>,
    start: String,
    end: String,
    start_local: String,
    end_local: String,
    timezone: &'a str,
    expires_at: Option<String>,
    source: &'a str,
    public_key: &'a str,
    custom_fields: &'a Map<String, Value>,
    notes: &'a Option<String>,
    cancel_reason: &'a Option<String>,
    created_at: String,
    updated_at: String,
}

impl Serialize for Booking {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let local = |t: Timestamp| turnero_core::time::format_local(t, &self.zone);
        Published {
            id: &self.id,
            status: self.status,
            calendar_id: &self.calendar_id,
            service_id: &self.service_id,
            customer: &self.customer,
            start: fmt_utc(self.start),
            end: fmt_utc(self.end),
            start_local: local(self.start),
            end_local: local(self.end),
            timezone: self.timezone(),
            expires_at: self.expires_at.map(fmt_utc),
            source: &self.source,
            public_key: &self.public_key,
            custom_fields: &self.custom_fields,
            notes: &self.notes,
            cancel_reason: &self.cancel_reason,
            created_at: fmt_utc(self.created_at),
            updated_at: fmt_utc(self.updated_at),
        }
        .serialize(s)
    }
}

/// The raw stored fields that rules need (the whole booking is [`Booking`]).
#[derive(Debug, Clone)]
pub struct BookingRow {
    pub id: BookingId,
    pub status: Status,
    pub calendar_id: String,
    pub service_id: String,
    pub start: i64,
    pub end: i64,
    pub expires_at: Option<i64>,
}

const SELECT: &str =
    "SELECT b.id, b.status, b.calendar_id, b.service_id, b.customer_id, b.start_at, \
    b.end_at, b.expires_at, b.source, b.public_key, b.custom_fields, b.notes, b.cancel_reason, \
    b.created_at, b.updated_at, c.timezone, cu.name, cu.phone, cu.email \
    FROM bookings b JOIN calendars c ON c.id = b.calendar_id \
    LEFT JOIN customers cu ON cu.id = b.customer_id";

/// A stored zone name as a zone.
pub(crate) fn zone(name: &str) -> Result<TimeZone> {
    Ok(turnero_core::time::parse_time_zone(name).map_err(anyhow::Error::from)?)
}

fn from_row(r: &sqlx::any::AnyRow) -> Result<Booking> {
    let customer_id: Option<String> = r.get(4);
    Ok(Booking {
        id: r.get(0),
        status: stored_status(&r.get::<String, _>(1))?,
        calendar_id: r.get(2),
        service_id: r.get(3),
        customer: customer_id.map(|id| CustomerSummary {
            id,
            name: r.get(16),
            phone: r.get(17),
            email: r.get(18),
        }),
        start: instant(r.get(5)),
        end: instant(r.get(6)),
        expires_at: r.get::<Option<i64>, _>(7).map(instant),
        source: r.get(8),
        public_key: r.get(9),
        custom_fields: serde_json::from_str(&r.get::<String, _>(10))?,
        notes: r.get(11),
        cancel_reason: r.get(12),
        created_at: instant(r.get(13)),
        updated_at: instant(r.get(14)),
        zone: zone(&r.get::<String, _>(15))?,
    })
}

pub async fn get(db: &Db, tenant: &TenantId, id: &BookingId) -> Result<Booking> {
    let mut conn = db.read.acquire().await?;
    get_in(&mut conn, tenant, id).await
}

pub async fn get_in(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    id: &BookingId,
) -> Result<Booking> {
    let row = sqlx::query(&format!("{SELECT} WHERE b.tenant_id = $1 AND b.id = $2"))
        .bind(tenant.as_str())
        .bind(id.as_str())
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| Error::not_found("booking"))?;
    from_row(&row)
}

/// A status as stored (always one the status machine wrote).
pub(crate) fn stored_status(stored: &str) -> Result<Status> {
    Ok(stored
        .parse()
        .map_err(|_| anyhow::anyhow!("stored status {stored}"))?)
}

/// Reads the fields the rules need, scoped by tenant.
pub async fn row_in(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    id: &BookingId,
) -> Result<BookingRow> {
    let r = sqlx::query(
        "SELECT id, status, calendar_id, service_id, start_at, end_at, expires_at \
         FROM bookings WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant.as_str())
    .bind(id.as_str())
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| Error::not_found("booking"))?;
    let status: String = r.get(1);
    Ok(BookingRow {
        id: BookingId::from_trusted(r.get(0)),
        status: status
            .parse()
            .map_err(|_| anyhow::anyhow!("stored status {status}"))?,
        calendar_id: r.get(2),
        service_id: r.get(3),
        start: r.get(4),
        end: r.get(5),
        expires_at: r.get(6),
    })
}

/// Filters for listing bookings; all optional, combined with AND.
#[derive(Debug, Default)]
pub struct BookingFilter {
    pub calendar_id: Option<String>,
    pub customer_id: Option<String>,
    pub statuses: Vec<Status>,
    /// Bookings starting at or after (Unix seconds).
    pub start: Option<i64>,
    /// Bookings starting before (Unix seconds).
    pub end: Option<i64>,
    /// Keyset cursor: (start, id) of the last booking of the previous page.
    pub after: Option<(i64, String)>,
    pub limit: i64,
}

/// Bookings in start order, then id.
pub async fn list(db: &Db, tenant: &TenantId, f: &BookingFilter) -> Result<Vec<Booking>> {
    let statuses: Vec<&str> = f.statuses.iter().map(|s| s.as_str()).collect();
    let status_list = if statuses.is_empty() {
        String::new()
    } else {
        // Status names come from a closed enum, never from the client, so they are safe to inline.
        format!(
            " AND b.status IN ({})",
            statuses
                .iter()
                .map(|s| format!("'{s}'"))
                .collect::<Vec<_>>()
                .join(",")
        )
    };
    let (after_start, after_id) = f.after.clone().unwrap_or((i64::MIN, String::new()));
    let sql = format!(
        "{SELECT} WHERE b.tenant_id = $1 \
         AND ($2 = '' OR b.calendar_id = $2) AND ($3 = '' OR b.customer_id = $3) \
         AND b.start_at >= $4 AND b.start_at < $5 \
         AND (b.start_at > $6 OR (b.start_at = $6 AND b.id > $7)){status_list} \
         ORDER BY b.start_at, b.id LIMIT $8"
    );
    let rows = sqlx::query(&sql)
        .bind(tenant.as_str())
        .bind(f.calendar_id.clone().unwrap_or_default())
        .bind(f.customer_id.clone().unwrap_or_default())
        .bind(f.start.unwrap_or(i64::MIN))
        .bind(f.end.unwrap_or(i64::MAX))
        .bind(after_start)
        .bind(after_id)
        .bind(f.limit)
        .fetch_all(&db.read)
        .await?;
    rows.iter().map(from_row).collect()
}

/// A random 128-bit key for customer-facing links.
pub fn new_public_key() -> String {
    crate::secrets::random_hex(16)
}
