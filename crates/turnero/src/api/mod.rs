//! The HTTP API under `/api/v1`, plus `/healthz`, `/metrics` and `/api/v1/openapi.json`.
//!
//! Handlers parse requests into domain types (`TryFrom` on the `XxxIn` DTOs), call the
//! agenda, and answer `XxxOut`. The OpenAPI document is generated from the handlers'
//! annotations by utoipa, so it cannot drift from the routes.

mod api_keys;
mod availability_api;
mod bookings;
pub mod calendars;
mod channels;
mod chatwoot;
mod compat;
pub mod conversations;
pub mod customers;
mod email_channel;
mod events;
mod extract;
mod flows;
mod holds;
mod integrations;
mod metrics;
mod notice_page;
mod notice_words;
mod notification_reports;
pub mod notification_rules;
mod openapi_errors;
mod out;
pub mod parse;
mod plain_errors;
pub mod services;
mod slots;
mod system;
mod telegram;
pub(crate) mod tenant;
pub mod visitor_limits;
mod webchat;
mod webhooks;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::Router;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

use crate::clock::Clock;
use crate::db::Db;
use crate::error::Error;

/// Request bodies larger than this are refused with 413 before they are read.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub clock: Clock,
    pub openapi: Arc<String>,
    pub keys: Arc<crate::agenda::tenants::KeyCache>,
    /// AsisteClick integrations by their URLs' key.
    pub asisteclick: Arc<crate::asisteclick::integration::IntegrationCache>,
    pub hub: Arc<crate::webhooks::Hub>,
    pub chat: Arc<crate::chat::Chat>,
    /// The slot search's cache (shared with the bot).
    pub snapshots: Arc<crate::agenda::snapshot::SnapshotCache>,
    /// The configured public address (`public_url`), if any.
    pub public_url: Option<Arc<str>>,
    /// What unauthenticated visitors may do, per address and tenant.
    pub visitors: Arc<visitor_limits::VisitorLimits>,
}

impl AppState {
    /// The address clients reach this server at: the `public_url` setting, or else what the
    /// request says (behind a proxy, set `X-Forwarded-Proto` and `X-Forwarded-Host`).
    pub(crate) fn public_base(&self, headers: &axum::http::HeaderMap) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_string(),
            None => request_base(headers),
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "turnero", description = "Appointment engine: calendars, availability, holds, bookings, customers, events and webhooks."),
    modifiers(&BearerAuth),
    security(("api_key" = []))
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The whole application router.
pub fn router(
    db: Db,
    clock: Clock,
    hub: Arc<crate::webhooks::Hub>,
    chat: Arc<crate::chat::Chat>,
    snapshots: Arc<crate::agenda::snapshot::SnapshotCache>,
    public_url: Option<String>,
    visitors: visitor_limits::VisitorLimits,
) -> Router {
    let (api, doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(tenant::routes())
        .merge(api_keys::routes())
        .merge(calendars::routes())
        .merge(services::routes())
        .merge(slots::routes())
        .merge(bookings::routes())
        .merge(holds::routes())
        .merge(customers::routes())
        .merge(events::routes())
        .merge(webhooks::routes())
        .merge(integrations::routes())
        .merge(availability_api::routes())
        .merge(channels::routes())
        .merge(telegram::routes())
        .merge(chatwoot::routes())
        .merge(email_channel::routes())
        .merge(notification_rules::routes())
        .merge(notification_reports::routes())
        .merge(flows::routes())
        .merge(conversations::routes())
        .merge(webchat::routes())
        .split_for_parts();
    let mut doc = doc;
    openapi_errors::document_errors(&mut doc);
    doc.servers = Some(vec![utoipa::openapi::Server::new("/api/v1")]);
    let openapi = Arc::new(doc.to_pretty_json().unwrap_or_default());
    let state = AppState {
        db,
        clock,
        openapi,
        keys: Arc::default(),
        asisteclick: Arc::default(),
        hub,
        chat,
        snapshots,
        public_url: public_url.map(Arc::from),
        visitors: Arc::new(visitors),
    };
    Router::new()
        .nest("/api/v1", api)
        .merge(system::routes())
        .merge(compat::routes())
        .merge(channels::webhook_routes())
        .merge(telegram::webhook_routes())
        .merge(chatwoot::webhook_routes())
        .merge(webchat::visitor_routes())
        .merge(notice_page::routes())
        // After routing, so the route template (not the raw path) labels the metrics and the
        // request's span.
        .route_layer(axum::middleware::from_fn(metrics::track))
        .fallback(|| async { Error::not_found("route") })
        .method_not_allowed_fallback(|| async {
            Error::new(
                axum::http::StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this path does not accept that method",
            )
        })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(plain_errors::as_problems))
        .with_state(state)
}

/// The address clients reach this server at, from the request.
fn request_base(headers: &axum::http::HeaderMap) -> String {
    let h = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let host = h("x-forwarded-host")
        .or_else(|| h("host"))
        .unwrap_or("127.0.0.1:8080");
    let proto = h("x-forwarded-proto").unwrap_or("http");
    format!("{proto}://{host}")
}
