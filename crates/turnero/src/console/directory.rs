//! Settings to look things up in: the services (what each lasts, on which calendars) and the
//! customers, found by any spelling of their phone (the tenant's region fills in a missing
//! country code, as when booking) or by part of their name, each with their bookings linked
//! to the booking's page. Front desk: admins and reception. Admins also add calendars and
//! services here, checked by the API's own `validate` and `ServiceDef::try_from`.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Form;
use serde::{Deserialize, Serialize};
use turnero_core::ids::CustomerId;
use turnero_core::phone::{parse_region, E164};

use super::auth::{FormPairs, Signed};
use super::words;
use super::{hidden_unless, refused, render, see_other, who, Console};
use crate::agenda::bookings::{self, BookingFilter};
use crate::agenda::customers::{self, Customer};
use crate::agenda::services::ServiceDef;
use crate::agenda::staff::Role;
use crate::agenda::{calendars, customer_search, services, tenants};
use crate::error::Result;

/// Customers shown for a name, and bookings per customer.
const FOUND_SHOWN: i64 = 20;
const BOOKINGS_SHOWN: i64 = 20;

pub async fn services_page(State(c): State<Console>, Signed(session): Signed) -> Response {
    if let Some(r) = hidden_unless(session.user.role != Role::Professional, &session) {
        return r;
    }
    let user = &session.user;
    let (all, cals) = match (
        services::list(&c.db, &user.tenant).await,
        calendars::list(&c.db, &user.tenant).await,
    ) {
        (Ok(s), Ok(c)) => (s, c),
        (Err(e), _) | (_, Err(e)) => return e.into_response(),
    };
    let shown: Vec<_> = all
        .iter()
        .filter(|s| s.archived_at.is_none())
        .map(|s| {
            let on: Vec<&str> = cals
                .iter()
                .filter(|cal| s.calendar_ids.contains(&cal.id))
                .map(|cal| cal.name.as_str())
                .collect();
            minijinja::context! {
                name => s.name, minutes => s.duration_minutes,
                every => s.slot_interval_minutes, calendars => on.join(", "),
            }
        })
        .collect();
    let calendars: Vec<_> = cals
        .iter()
        .filter(|cal| cal.archived_at.is_none())
        .map(|cal| minijinja::context! { id => cal.id, name => cal.name, timezone => cal.timezone() })
        .collect();
    let t = words::of(&user.locale);
    render(
        StatusCode::OK,
        "services.html",
        minijinja::context! {
            t => t.value(), lang => words::lang(&user.locale), user => who(user),
            csrf => session.csrf_token, services => shown, calendars,
        },
    )
}

#[derive(Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
}

#[derive(Serialize)]
struct Found {
    id: String,
    name: String,
    phone: Option<String>,
    email: Option<String>,
    bookings: Vec<minijinja::Value>,
}

pub async fn customers_page(
    State(c): State<Console>,
    Signed(session): Signed,
    Query(q): Query<SearchQuery>,
) -> Response {
    if let Some(r) = hidden_unless(session.user.role != Role::Professional, &session) {
        return r;
    }
    let user = &session.user;
    let found = match find(&c, &user.tenant, q.q.trim()).await {
        Ok(found) => found,
        Err(e) => return e.into_response(),
    };
    let mut shown = Vec::new();
    for customer in found {
        match with_bookings(&c, &user.tenant, &user.locale, customer).await {
            Ok(f) => shown.push(f),
            Err(e) => return e.into_response(),
        }
    }
    let t = words::of(&user.locale);
    render(
        StatusCode::OK,
        "customers.html",
        minijinja::context! {
            t => t.value(), lang => words::lang(&user.locale), user => who(user),
            csrf => session.csrf_token, q => q.q, searched => !q.q.trim().is_empty(),
            found => shown,
        },
    )
}

/// A phone (any spelling) finds one customer; anything else is part of a name.
async fn find(c: &Console, tenant: &turnero_core::ids::TenantId, q: &str) -> Result<Vec<Customer>> {
    if q.is_empty() {
        return Ok(Vec::new());
    }
    let looks_like_phone = q.chars().filter(char::is_ascii_digit).count() >= 6
        && q.chars()
            .all(|ch| ch.is_ascii_digit() || " +-().".contains(ch));
    if looks_like_phone {
        let region = parse_region(&tenants::get(&c.db, tenant).await?.phone_region).ok();
        if let Ok(phone) = E164::parse(q, region) {
            return Ok(customers::find_by_phone(&c.db, tenant, &phone)
                .await?
                .into_iter()
                .collect());
        }
    }
    customer_search::by_name(&c.db, tenant, q, FOUND_SHOWN).await
}

async fn with_bookings(
    c: &Console,
    tenant: &turnero_core::ids::TenantId,
    locale: &str,
    customer: Customer,
) -> Result<Found> {
    let list = bookings::list(
        &c.db,
        tenant,
        &BookingFilter {
            customer_id: Some(customer.id.clone()),
            // The last half year and everything ahead, oldest first.
            start: Some(c.clock.now_secs() - 183 * 86_400),
            limit: BOOKINGS_SHOWN,
            ..Default::default()
        },
    )
    .await?;
    let t = words::of(locale);
    Ok(Found {
        bookings: list
            .iter()
            .map(|b| {
                minijinja::context! {
                    id => b.id, when => b.when(locale), status => b.status.as_str(),
                    status_label => t.status(b.status.as_str()),
                }
            })
            .collect(),
        id: customer.id,
        name: customer.name,
        phone: customer.phone,
        email: customer.email,
    })
}

/// The new calendar's form: a name, its kind and zone (the clinic's by default); its hours
/// are set on its own page, where this leads.
pub async fn create_calendar(
    State(c): State<Console>,
    signed: Signed,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let form = FormPairs(pairs);
    let field = |name: &str| form.field(name);
    if let Some(refused) = signed.form_refusal(&field("csrf"), signed.0.user.role == Role::Admin) {
        return refused;
    }
    let session = &signed.0;
    let tenant = &session.user.tenant;
    let made = async {
        let zone = match field("timezone") {
            z if z.is_empty() => tenants::get(&c.db, tenant).await?.timezone,
            z => z,
        };
        let def = crate::api::calendars::validate(crate::api::calendars::CalendarIn {
            name: field("name"),
            timezone: Some(zone),
            kind: Some(field("kind")).filter(|k| !k.is_empty()),
            location: Some(field("location")).filter(|l| !l.is_empty()),
            capacity: None,
            weekly_hours: Vec::new(),
            policy: None,
        })?;
        calendars::create(&c.db, tenant, def, c.clock.now_secs()).await
    };
    match made.await {
        Ok(cal) => see_other(&format!("/console/calendars/{}", cal.id)),
        Err(e) => refused(&session.user.locale, e, SETTINGS_PHRASES),
    }
}

/// The new service's form: a name, its length, how often it may start, its calendars
/// (`calendar` repeats, one per ticked box).
pub async fn create_service(
    State(c): State<Console>,
    signed: Signed,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let form = FormPairs(pairs);
    let field = |name: &str| form.field(name);
    if let Some(refused) = signed.form_refusal(&field("csrf"), signed.0.user.role == Role::Admin) {
        return refused;
    }
    let session = &signed.0;
    let minutes = |name: &str| field(name).parse::<i64>().ok();
    let made = async {
        let def = ServiceDef::try_from(crate::api::services::ServiceIn {
            name: field("name"),
            duration_minutes: minutes("minutes").unwrap_or(0),
            buffer_before_minutes: None,
            buffer_after_minutes: None,
            slot_interval_minutes: minutes("every"),
            calendar_ids: form.all("calendar"),
        })?;
        services::create(&c.db, &session.user.tenant, def, c.clock.now_secs()).await
    };
    match made.await {
        Ok(_) => see_other("/console/services"),
        Err(e) => refused(&session.user.locale, e, SETTINGS_PHRASES),
    }
}

/// Refusals of a new calendar or service, in the admin's words.
const SETTINGS_PHRASES: &[(&str, &str)] = &[
    ("required", "settings_name"),
    ("too_long", "settings_name"),
    ("invalid_timezone", "settings_zone"),
    ("invalid_kind", "settings_kind"),
    ("out_of_range", "settings_minutes"),
];

/// Corrects a customer's name, phone or email, read as when booking (the API's
/// `parse_customer`) and saved by `customers::update`; back to the customer, found by the
/// phone they now have.
pub async fn update_customer(
    State(c): State<Console>,
    signed: Signed,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let form = FormPairs(pairs);
    let field = |name: &str| Some(form.field(name)).filter(|v| !v.is_empty());
    if let Some(refused) = signed.form_refusal(
        &form.field("csrf"),
        signed.0.user.role != Role::Professional,
    ) {
        return refused;
    }
    let session = &signed.0;
    let tenant = &session.user.tenant;
    let saved = async {
        let id = CustomerId::parse(&id).map_err(|_| crate::error::Error::not_found("customer"))?;
        let region = tenants::get(&c.db, tenant).await?.phone_region;
        let input = crate::api::customers::CustomerIn {
            name: field("name"),
            phone: field("phone"),
            email: field("email"),
            ..Default::default()
        };
        let patch = crate::api::customers::parse_customer(input, &region, "")?;
        customers::update(&c.db, tenant, &id, patch, c.clock.now_secs()).await
    };
    match saved.await {
        Ok(customer) => {
            let q = customer.phone.unwrap_or(customer.name);
            let q: String = url::form_urlencoded::byte_serialize(q.as_bytes()).collect();
            see_other(&format!("/console/customers?q={q}"))
        }
        Err(e) => refused(
            &session.user.locale,
            e,
            &[("customer_exists", "phone_taken")],
        ),
    }
}
