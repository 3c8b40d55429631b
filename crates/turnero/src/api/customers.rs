//! Customers: create, read, change, list and find by any spelling of their phone.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use turnero_core::ids::CustomerId;
use turnero_core::phone::{parse_region, E164};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{Auth, Json, Query};
use super::out::{CustomerOut, Page};
use super::parse::{custom_fields, opt_text, path_id, within};
use super::AppState;
use crate::agenda::customers::{self, CustomerDef};
use crate::error::{Error, Result};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_customer, list_customers))
        .routes(routes!(get_customer, patch_customer, erase_customer))
}

/// A customer's details; used for `POST /customers`, `PATCH /customers/{id}` and inside a booking.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerIn {
    pub name: Option<String>,
    /// Any usual spelling; stored as E.164 using the tenant's phone region.
    pub phone: Option<String>,
    pub email: Option<String>,
    /// `YYYY-MM-DD`.
    #[schema(format = Date)]
    pub birthdate: Option<String>,
    pub document_id: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub custom_fields: Option<Map<String, Value>>,
    /// Ids in other systems, e.g. `{"whatsapp": "5491122334455"}`.
    #[schema(value_type = Option<Object>)]
    pub external_ids: Option<Map<String, Value>>,
}

/// Parses customer details; `prefix` is the field path (`customer.` inside a booking).
pub fn parse_customer(input: CustomerIn, region: &str, prefix: &str) -> Result<CustomerDef> {
    let f = |name: &str| format!("{prefix}{name}");
    let region = parse_region(region).map_err(|e| anyhow::anyhow!("stored region: {e}"))?;
    let phone = match input.phone.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(raw) => Some(
            E164::parse(raw, Some(region))
                .map_err(|e| Error::invalid("invalid_phone", f("phone"), e))?,
        ),
    };
    let email = opt_text(input.email.as_deref(), &f("email"), 254)?;
    if let Some(e) = &email {
        if !crate::agenda::customers::plausible_email(e) {
            return Err(Error::invalid(
                "invalid_email",
                f("email"),
                "not an email address",
            ));
        }
    }
    let birthdate = match opt_text(input.birthdate.as_deref(), &f("birthdate"), 10)? {
        None => None,
        Some(b) => {
            let d: jiff::civil::Date = b.parse().map_err(|_| {
                Error::invalid("invalid_date", f("birthdate"), "expected YYYY-MM-DD")
            })?;
            if d.year() < 1900 || d > jiff::Zoned::now().date() {
                return Err(Error::invalid(
                    "invalid_date",
                    f("birthdate"),
                    "not a plausible birth date",
                ));
            }
            Some(d.to_string())
        }
    };
    let external_ids = custom_fields(input.external_ids, &f("external_ids"))?;
    if let Some((k, _)) = external_ids.iter().find(|(_, v)| !v.is_string()) {
        return Err(Error::invalid(
            "invalid_field",
            f(&format!("external_ids.{k}")),
            "external ids are strings",
        ));
    }
    Ok(CustomerDef {
        name: opt_text(input.name.as_deref(), &f("name"), 200)?,
        phone,
        email,
        birthdate,
        document_id: opt_text(input.document_id.as_deref(), &f("document_id"), 64)?,
        custom_fields: custom_fields(input.custom_fields, &f("custom_fields"))?,
        external_ids,
    })
}

#[utoipa::path(post, path = "/customers", tag = "customers", request_body = CustomerIn,
    responses((status = 201, body = CustomerOut), (status = 409, body = crate::error::Problem)))]
async fn create_customer(
    State(s): State<AppState>,
    auth: Auth,
    Json(input): Json<CustomerIn>,
) -> Result<(StatusCode, axum::Json<CustomerOut>)> {
    let def = parse_customer(input, &auth.phone_region, "")?;
    if def.name.is_none() {
        return Err(Error::invalid("required", "name", "must not be empty"));
    }
    let out = customers::create(&s.db, &auth.tenant, def, s.clock.now_secs()).await?;
    Ok((StatusCode::CREATED, axum::Json(out.into())))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct CustomersQuery {
    /// Any spelling of a phone number: finds the customer with the same E.164.
    pub phone: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// 1–500, default 100.
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

#[utoipa::path(get, path = "/customers", tag = "customers", params(CustomersQuery), responses((status = 200, body = Page<CustomerOut>)))]
async fn list_customers(
    State(s): State<AppState>,
    auth: Auth,
    Query(q): Query<CustomersQuery>,
) -> Result<axum::Json<Page<CustomerOut>>> {
    if let Some(raw) = q.phone.as_deref() {
        let region = parse_region(&auth.phone_region).map_err(|e| anyhow::anyhow!("{e}"))?;
        let phone = E164::parse(raw, Some(region))
            .map_err(|e| Error::invalid("invalid_phone", "phone", e))?;
        let found = customers::find_by_phone(&s.db, &auth.tenant, &phone).await?;
        return Ok(axum::Json(Page::whole(found)));
    }
    let limit = within(q.limit.unwrap_or(100), 1..=500, "limit")?;
    let cursor = q.cursor.as_deref();
    let list = customers::list(&s.db, &auth.tenant, cursor, i64::from(limit)).await?;
    Ok(axum::Json(Page::of(list, limit, |c| c.id.clone())))
}

#[utoipa::path(get, path = "/customers/{id}", tag = "customers", responses((status = 200, body = CustomerOut)))]
async fn get_customer(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<axum::Json<CustomerOut>> {
    let id = path_id(&id, "customer", CustomerId::parse)?;
    let customer = customers::get_present(&s.db, &auth.tenant, &id).await?;
    Ok(axum::Json(customer.into()))
}

/// Erases the customer at their request (LGPD, GDPR): every personal field is emptied, their
/// bookings stay (anonymous, without notes or custom fields), their conversations with the
/// bot are deleted, and the events that mention them are rewritten without personal data; a
/// `customer.erased` event follows. The emptied record stays for the bookings' sake but is
/// neither listed nor found (404); a second erasure does nothing. 204.
#[utoipa::path(delete, path = "/customers/{id}", tag = "customers", responses((status = 204, description = "erased"), (status = 404, body = crate::error::Problem)))]
async fn erase_customer(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    let id = path_id(&id, "customer", CustomerId::parse)?;
    crate::chat::erasure::erase_customer(&s.db, &auth.tenant, &id, s.clock.now_secs()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(patch, path = "/customers/{id}", tag = "customers", request_body = CustomerIn, responses((status = 200, body = CustomerOut)))]
async fn patch_customer(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Json(input): Json<CustomerIn>,
) -> Result<axum::Json<CustomerOut>> {
    let id = path_id(&id, "customer", CustomerId::parse)?;
    let patch = parse_customer(input, &auth.phone_region, "")?;
    Ok(axum::Json(
        customers::update(&s.db, &auth.tenant, &id, patch, s.clock.now_secs())
            .await?
            .into(),
    ))
}
