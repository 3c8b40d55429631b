//! Customers, unique per tenant by E.164 phone, with the ids other systems know them by.

use serde::Serialize;
use serde_json::{Map, Value};
use sqlx::{AnyConnection, Row};
use turnero_core::event;
use turnero_core::ids::{CustomerId, TenantId};
use turnero_core::phone::E164;

use crate::agenda::events;
use crate::db::{is_unique_violation, Batch, Db, Tx};
use crate::error::{Error, Result};
use jiff::Timestamp;

/// A customer as the agenda knows it; `Serialize` is the published form events carry.
#[derive(Debug, Clone, Serialize)]
pub struct Customer {
    pub id: String,
    pub name: String,
    /// E.164, e.g. `+5491122334455`.
    pub phone: Option<String>,
    pub email: Option<String>,
    /// `YYYY-MM-DD`.
    pub birthdate: Option<String>,
    pub document_id: Option<String>,
    pub custom_fields: Map<String, Value>,
    /// Ids of this person in other systems, by channel or vendor (`whatsapp`, `asisteclick`…).
    pub external_ids: Map<String, Value>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Set when the person asked to be forgotten: every personal field above is empty.
    pub erased_at: Option<Timestamp>,
}

/// A validated customer; `None` fields are unknown (or unchanged, in a patch).
#[derive(Debug, Clone, Default)]
pub struct CustomerDef {
    pub name: Option<String>,
    pub phone: Option<E164>,
    pub email: Option<String>,
    pub birthdate: Option<String>,
    pub document_id: Option<String>,
    pub custom_fields: Map<String, Value>,
    pub external_ids: Map<String, Value>,
}

/// Whether a text reads as an email address: something before the first `@`, a dotted
/// domain after it, no spaces. (Whether it reaches anyone only a mail can tell.)
pub fn plausible_email(e: &str) -> bool {
    e.split_once('@').is_some_and(|(user, host)| {
        !user.is_empty() && host.contains('.') && !host.starts_with('.') && !host.ends_with('.')
    }) && !e.contains(char::is_whitespace)
}

pub(crate) const COLUMNS: &str = "id, name, phone, email, birthdate, document_id, custom_fields, \
    external_ids, created_at, updated_at, erased_at";

pub(crate) fn from_row(r: &sqlx::any::AnyRow) -> Result<Customer> {
    Ok(Customer {
        id: r.get(0),
        name: r.get(1),
        phone: r.get(2),
        email: r.get(3),
        birthdate: r.get(4),
        document_id: r.get(5),
        custom_fields: serde_json::from_str(&r.get::<String, _>(6))?,
        external_ids: serde_json::from_str(&r.get::<String, _>(7))?,
        created_at: crate::agenda::instant(r.get(8)),
        updated_at: crate::agenda::instant(r.get(9)),
        erased_at: r.get::<Option<i64>, _>(10).map(crate::agenda::instant),
    })
}

/// Creates a customer; a phone already on file is a 409 naming the existing customer.
pub async fn create(db: &Db, tenant: &TenantId, def: CustomerDef, now: i64) -> Result<Customer> {
    let mut tx = db.begin().await?;
    let mut events = Batch::default();
    let Some(out) = insert(&mut tx, &mut events, tenant, &def, now).await? else {
        drop(tx);
        let phone = def.phone.as_ref().expect("only a phone can conflict");
        let existing = find_by_phone(db, tenant, phone).await?;
        return Err(Error::conflict(
            "customer_exists",
            format!(
                "customer {} already has this phone",
                existing.map(|c| c.id).unwrap_or_default()
            ),
        )
        .at("phone"));
    };
    events.run(&mut tx).await?;
    db.commit_events(tx).await?;
    Ok(out)
}

/// Inserts a customer; `None` when the phone is already on file (the row is left alone, so
/// two transactions racing to create the same person never fail each other).
async fn insert(
    tx: &mut Tx,
    events_to: &mut Batch,
    tenant: &TenantId,
    def: &CustomerDef,
    now: i64,
) -> Result<Option<Customer>> {
    let id = CustomerId::generate();
    let inserted = sqlx::query(&format!(
        "INSERT INTO customers (id, tenant_id, name, phone, email, birthdate, document_id, \
         custom_fields, external_ids, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) \
         ON CONFLICT (tenant_id, phone) DO NOTHING RETURNING {COLUMNS}"
    ))
    .bind(id.as_str())
    .bind(tenant.as_str())
    .bind(def.name.clone().unwrap_or_default())
    .bind(def.phone.as_ref().map(|p| p.as_str().to_string()))
    .bind(def.email.clone())
    .bind(def.birthdate.clone())
    .bind(def.document_id.clone())
    .bind(serde_json::to_string(&def.custom_fields)?)
    .bind(serde_json::to_string(&def.external_ids)?)
    .bind(now)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(row) = inserted else {
        return Ok(None);
    };
    let out = from_row(&row)?;
    events::push(
        events_to,
        tenant,
        event::CUSTOMER_CREATED,
        &out.id,
        &out,
        now,
    )?;
    Ok(Some(out))
}

/// Applies a patch: given fields replace, maps are merged key by key.
pub async fn update(
    db: &Db,
    tenant: &TenantId,
    id: &CustomerId,
    patch: CustomerDef,
    now: i64,
) -> Result<Customer> {
    let mut tx = db.begin().await?;
    let current = get_in(&mut tx, tenant, id).await?;
    let mut custom = current.custom_fields.clone();
    custom.extend(patch.custom_fields);
    let mut external = current.external_ids.clone();
    external.extend(patch.external_ids);
    let result = sqlx::query(
        "UPDATE customers SET name = COALESCE($1, name), phone = COALESCE($2, phone), \
         email = COALESCE($3, email), birthdate = COALESCE($4, birthdate), \
         document_id = COALESCE($5, document_id), custom_fields = $6, external_ids = $7, \
         updated_at = $8 WHERE tenant_id = $9 AND id = $10 AND erased_at IS NULL",
    )
    .bind(patch.name)
    .bind(patch.phone.map(E164::into_string))
    .bind(patch.email)
    .bind(patch.birthdate)
    .bind(patch.document_id)
    .bind(serde_json::to_string(&custom)?)
    .bind(serde_json::to_string(&external)?)
    .bind(now)
    .bind(tenant.as_str())
    .bind(id.as_str())
    .execute(&mut *tx)
    .await;
    match result {
        Err(e) if is_unique_violation(&e) => {
            return Err(
                Error::conflict("customer_exists", "another customer has this phone").at("phone"),
            )
        }
        Ok(done) if done.rows_affected() == 0 => {
            // Erased at their request: gone, as for every other reader of the API.
            return Err(Error::not_found("customer"));
        }
        other => other?,
    };
    let out = get_in(&mut tx, tenant, id).await?;
    events::record(&mut tx, tenant, event::CUSTOMER_UPDATED, &out.id, &out, now).await?;
    db.commit_events(tx).await?;
    Ok(out)
}

pub async fn get(db: &Db, tenant: &TenantId, id: &CustomerId) -> Result<Customer> {
    let mut conn = db.read.acquire().await?;
    get_in(&mut conn, tenant, id).await
}

/// A customer the API may show or act on: one erased at their request is not found (their
/// emptied row stays only for the anonymous bookings that name it).
pub async fn get_present(db: &Db, tenant: &TenantId, id: &CustomerId) -> Result<Customer> {
    let mut conn = db.read.acquire().await?;
    get_present_in(&mut conn, tenant, id).await
}

/// [`get_present`] inside a transaction.
pub async fn get_present_in(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    id: &CustomerId,
) -> Result<Customer> {
    let customer = get_in(conn, tenant, id).await?;
    if customer.erased_at.is_some() {
        return Err(Error::not_found("customer"));
    }
    Ok(customer)
}

pub async fn get_in(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    id: &CustomerId,
) -> Result<Customer> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM customers WHERE tenant_id = $1 AND id = $2"
    ))
    .bind(tenant.as_str())
    .bind(id.as_str())
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| Error::not_found("customer"))?;
    from_row(&row)
}

pub async fn find_by_phone(db: &Db, tenant: &TenantId, phone: &E164) -> Result<Option<Customer>> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM customers WHERE tenant_id = $1 AND phone = $2"
    ))
    .bind(tenant.as_str())
    .bind(phone.as_str())
    .fetch_optional(&db.read)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// The id of the customer with this phone, inside a caller's transaction.
pub async fn id_by_phone_in(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    phone: &E164,
) -> Result<Option<String>> {
    let row = sqlx::query("SELECT id FROM customers WHERE tenant_id = $1 AND phone = $2")
        .bind(tenant.as_str())
        .bind(phone.as_str())
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.map(|r| r.get(0)))
}

/// A page of customers in creation order, after the `after` id when given.
pub async fn list(
    db: &Db,
    tenant: &TenantId,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<Customer>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM customers WHERE tenant_id = $1 AND id > $2 \
         AND erased_at IS NULL ORDER BY id LIMIT $3"
    ))
    .bind(tenant.as_str())
    .bind(after.unwrap_or(""))
    .bind(limit)
    .fetch_all(&db.read)
    .await?;
    rows.iter().map(from_row).collect()
}

/// Finds the customer with this phone or creates one, inside a booking's transaction.
/// An existing customer keeps their data; only empty name and email are filled in.
/// The `customer.*` event goes into `events_to`, which the caller runs before committing.
pub async fn find_or_create(
    tx: &mut Tx,
    events_to: &mut Batch,
    tenant: &TenantId,
    def: &CustomerDef,
    now: i64,
) -> Result<Customer> {
    if def.phone.is_none() {
        return insert(tx, events_to, tenant, def, now)
            .await?
            .ok_or_else(|| anyhow::anyhow!("insert without phone conflicted").into());
    }
    // Insert first: a new customer costs one statement, a known one two.
    if let Some(created) = insert(tx, events_to, tenant, def, now).await? {
        return Ok(created);
    }
    find_and_fill(tx, events_to, tenant, def, now)
        .await?
        .ok_or_else(|| {
            anyhow::anyhow!("customer with this phone vanished inside the transaction").into()
        })
}

async fn find_and_fill(
    tx: &mut Tx,
    events_to: &mut Batch,
    tenant: &TenantId,
    def: &CustomerDef,
    now: i64,
) -> Result<Option<Customer>> {
    if let Some(phone) = &def.phone {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM customers WHERE tenant_id = $1 AND phone = $2"
        ))
        .bind(tenant.as_str())
        .bind(phone.as_str())
        .fetch_optional(&mut **tx)
        .await?;
        if let Some(row) = row {
            let existing = from_row(&row)?;
            let fill_name = existing.name.is_empty() && def.name.is_some();
            let fill_email = existing.email.is_none() && def.email.is_some();
            if !fill_name && !fill_email {
                return Ok(Some(existing));
            }
            let id = CustomerId::from_trusted(existing.id);
            sqlx::query(
                "UPDATE customers SET name = CASE WHEN name = '' THEN COALESCE($1, name) ELSE name END, \
                 email = COALESCE(email, $2), updated_at = $3 WHERE id = $4",
            )
            .bind(def.name.clone())
            .bind(def.email.clone())
            .bind(now)
            .bind(id.as_str())
            .execute(&mut **tx)
            .await?;
            let out = get_in(tx, tenant, &id).await?;
            events::push(
                events_to,
                tenant,
                event::CUSTOMER_UPDATED,
                &out.id,
                &out,
                now,
            )?;
            return Ok(Some(out));
        }
    }
    Ok(None)
}
