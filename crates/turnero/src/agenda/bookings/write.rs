//! Every booking state change: the row, its history entry and its outbox event, in one
//! transaction.

use serde_json::{Map, Value};
use turnero_core::booking::{Action, Status};
use turnero_core::event;
use turnero_core::ids::{BookingId, CalendarId, CustomerId, ServiceId, TenantId};

use super::claim::{claim, Claim};
use super::history::{self, Change};
use super::refusal;
use super::{get_in, new_public_key, row_in, Booking, CustomerSummary};
use crate::agenda::customers::{self, CustomerDef};
use crate::agenda::events;
use crate::agenda::instant;
use crate::agenda::plans::{self, BookingChange};
use crate::db::{Batch, Changed, Db, Tx};
use crate::error::{Error, Result};

/// Who the booking is for.
pub enum CustomerRef {
    Existing(CustomerId),
    /// Matched by phone, created if new.
    Details(CustomerDef),
}

/// A validated booking request.
pub struct NewBooking {
    pub calendar_id: CalendarId,
    pub service_id: ServiceId,
    pub start: i64,
    pub customer: CustomerRef,
    pub hold_id: Option<BookingId>,
    pub custom_fields: Map<String, Value>,
    pub notes: Option<String>,
    pub source: String,
    /// How another system knows this booking, stored with it in the same transaction.
    pub external: Option<ExternalRef>,
}

/// A booking's key in another system (AsisteClick's event `public_key`) and what that system
/// told us about it. The key is unique per tenant and system: a second create with it fails
/// with a unique violation and writes nothing.
pub struct ExternalRef {
    pub system: &'static str,
    pub key: String,
    pub data: Value,
}

/// Stored with the booking when `Idempotency-Key` is sent: the key, the request's hash.
pub struct IdempotencyRecord<'a> {
    pub key: &'a str,
    pub request_hash: &'a str,
}

/// Creates a booking (from scratch or by using a hold) as `pending`.
pub async fn create(
    db: &Db,
    tenant: &TenantId,
    new: NewBooking,
    idem: Option<IdempotencyRecord<'_>>,
    now: i64,
) -> Result<Booking> {
    let mut tx = db.begin().await?;
    // Writes that need no answer go to the database together, after the capacity check.
    let mut batch = Batch::default();
    let customer = match &new.customer {
        // One erased at their request is not found: nothing new is written about them.
        CustomerRef::Existing(id) => customers::get_present_in(&mut tx, tenant, id)
            .await
            .map_err(|_| Error::invalid("unknown_customer", "customer_id", "customer not found"))?,
        CustomerRef::Details(def) => {
            customers::find_or_create(&mut tx, &mut batch, tenant, def, now).await?
        }
    };
    let out = match &new.hold_id {
        Some(hold) => {
            use_hold(&mut tx, tenant, hold, &new, &customer.id, now).await?;
            get_in(&mut tx, tenant, hold).await?
        }
        None => {
            let c = claim(
                &mut tx,
                tenant,
                &new.calendar_id,
                &new.service_id,
                new.start,
                None,
                now,
                super::mirrors(&new.source),
            )
            .await?;
            let summary = CustomerSummary {
                id: customer.id,
                name: customer.name,
                phone: customer.phone,
                email: customer.email,
            };
            insert_claimed(
                &mut batch,
                tenant,
                &new,
                Some(summary),
                Status::Pending,
                &c,
                None,
                now,
            )?
        }
    };
    if let Some(ext) = &new.external {
        batch.push(
            "INSERT INTO booking_external_refs (tenant_id, system, external_key, booking_id, \
             data, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6)",
            crate::args![
                tenant.as_str().to_string(),
                ext.system.to_string(),
                ext.key.clone(),
                out.id.clone(),
                ext.data.to_string(),
                now
            ]?,
        );
    }
    events::push(
        &mut batch,
        tenant,
        event::BOOKING_CREATED,
        &out.id,
        &out,
        now,
    )?;
    plans::follow(&mut batch, tenant, &out.id, BookingChange::Created, now)?;
    if let Some(idem) = idem {
        crate::agenda::idempotency::push_store(
            &mut batch,
            tenant,
            idem.key,
            idem.request_hash,
            201,
            &out,
            now,
        )?;
    }
    batch.run(&mut tx).await?;
    db.commit(tx, Changed::Calendar(&out.calendar_id)).await?;
    Ok(out)
}

/// Adds a claimed booking's row and first history entry to `batch`; answers it as the API
/// will show it, without reading it back.
#[allow(clippy::too_many_arguments)]
pub(super) fn insert_claimed(
    batch: &mut Batch,
    tenant: &TenantId,
    new: &NewBooking,
    customer: Option<CustomerSummary>,
    status: Status,
    c: &Claim,
    expires_at: Option<i64>,
    now: i64,
) -> Result<Booking> {
    let id = BookingId::generate();
    let record = Booking {
        id: id.as_str().to_string(),
        status,
        calendar_id: new.calendar_id.as_str().to_string(),
        service_id: new.service_id.as_str().to_string(),
        customer,
        start: instant(c.body.start),
        end: instant(c.body.end),
        expires_at: expires_at.map(instant),
        source: new.source.clone(),
        public_key: new_public_key(),
        custom_fields: new.custom_fields.clone(),
        notes: new.notes.clone(),
        cancel_reason: None,
        created_at: instant(now),
        updated_at: instant(now),
        zone: c.zone.clone(),
    };
    batch.push(
        "INSERT INTO bookings (id, tenant_id, calendar_id, service_id, customer_id, status, \
         start_at, end_at, block_start, block_end, expires_at, source, public_key, custom_fields, \
         notes, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16)",
        crate::args![
            record.id.clone(),
            tenant.as_str().to_string(),
            record.calendar_id.clone(),
            record.service_id.clone(),
            record.customer.as_ref().map(|c| c.id.clone()),
            status.as_str().to_string(),
            c.body.start,
            c.body.end,
            c.blocked.start,
            c.blocked.end,
            expires_at,
            record.source.clone(),
            record.public_key.clone(),
            serde_json::to_string(&record.custom_fields).unwrap_or_else(|_| "{}".into()),
            record.notes.clone(),
            now
        ]?,
    );
    let action = if status == Status::Held {
        "held"
    } else {
        "created"
    };
    history::push(
        batch,
        tenant,
        &id,
        Change {
            action,
            from: None,
            to: status,
            start: c.body.start,
            end: c.body.end,
            source: &new.source,
            detail: None,
        },
        now,
    )?;
    Ok(record)
}

/// Turns a hold into the booking. A hold that ran out still works while its time is free.
async fn use_hold(
    tx: &mut Tx,
    tenant: &TenantId,
    hold: &BookingId,
    new: &NewBooking,
    customer_id: &str,
    now: i64,
) -> Result<BookingId> {
    // Lock first, then read the hold: under the lock nobody can move it between our check
    // and our update.
    let c = claim(
        tx,
        tenant,
        &new.calendar_id,
        &new.service_id,
        new.start,
        Some(hold),
        now,
        false,
    )
    .await?;
    let row = row_in(tx, tenant, hold)
        .await
        .map_err(|_| Error::invalid(refusal::UNKNOWN_HOLD, "hold_id", "hold not found"))?;
    if row.status != Status::Held {
        return Err(Error::conflict(
            refusal::HOLD_NOT_ACTIVE,
            format!("the hold is {}", row.status),
        )
        .at("hold_id"));
    }
    if row.calendar_id != new.calendar_id.as_str()
        || row.service_id != new.service_id.as_str()
        || row.start != new.start
    {
        return Err(Error::conflict(
            refusal::HOLD_MISMATCH,
            "the hold is for another calendar, service or start",
        )
        .at("hold_id"));
    }
    let next = row.status.apply(Action::Book).map_err(transition_error)?;
    let changed = sqlx::query(
        "UPDATE bookings SET status = $1, customer_id = $2, expires_at = NULL, source = $3, \
         custom_fields = $4, notes = $5, updated_at = $6, start_at = $7, end_at = $8, \
         block_start = $9, block_end = $10 \
         WHERE tenant_id = $11 AND id = $12 AND status = 'held'",
    )
    .bind(next.as_str())
    .bind(customer_id)
    .bind(&new.source)
    .bind(serde_json::to_string(&new.custom_fields)?)
    .bind(new.notes.clone())
    .bind(now)
    // The range just checked: the service may have changed length since the hold was placed.
    .bind(c.body.start)
    .bind(c.body.end)
    .bind(c.blocked.start)
    .bind(c.blocked.end)
    .bind(tenant.as_str())
    .bind(hold.as_str())
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if changed == 0 {
        return Err(Error::conflict(
            refusal::HOLD_NOT_ACTIVE,
            "the hold was used or released meanwhile",
        )
        .at("hold_id"));
    }
    history::append(
        tx,
        tenant,
        hold,
        Change {
            action: "created",
            from: Some(Status::Held),
            to: next,
            start: c.body.start,
            end: c.body.end,
            source: &new.source,
            detail: None,
        },
        now,
    )
    .await?;
    Ok(hold.clone())
}

pub(super) fn transition_error(e: turnero_core::booking::TransitionError) -> Error {
    Error::conflict("invalid_transition", e.to_string())
}
