//! The caller's own tenant: read it and change its defaults.

use axum::extract::State;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{Auth, Json};
use super::AppState;
use crate::agenda::calendars::validate_timezone;
use crate::agenda::tenants::{self, NewTenantPatch, Tenant};
use crate::error::{Error, Result};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_tenant, patch_tenant))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantPatch {
    pub name: Option<String>,
    pub timezone: Option<String>,
    pub phone_region: Option<String>,
    pub locale: Option<String>,
}

pub const LOCALES: [&str; 3] = ["es", "pt", "en"];

/// Checks tenant settings shared by the CLI and the API.
pub fn validate_settings(
    timezone: Option<&str>,
    region: Option<&str>,
    locale: Option<&str>,
) -> Result<()> {
    if let Some(tz) = timezone {
        validate_timezone(tz, "timezone")?;
    }
    if let Some(r) = region {
        turnero_core::phone::parse_region(r)
            .map_err(|e| Error::invalid("invalid_region", "phone_region", e))?;
    }
    if let Some(l) = locale {
        if !LOCALES.contains(&l) {
            return Err(Error::invalid(
                "invalid_locale",
                "locale",
                "one of es, pt, en",
            ));
        }
    }
    Ok(())
}

#[utoipa::path(get, path = "/tenant", tag = "tenant", responses((status = 200, body = Tenant)))]
async fn get_tenant(State(s): State<AppState>, auth: Auth) -> Result<axum::Json<Tenant>> {
    Ok(axum::Json(tenants::get(&s.db, &auth.tenant).await?))
}

#[utoipa::path(patch, path = "/tenant", tag = "tenant", request_body = TenantPatch, responses((status = 200, body = Tenant)))]
async fn patch_tenant(
    State(s): State<AppState>,
    auth: Auth,
    Json(p): Json<TenantPatch>,
) -> Result<axum::Json<Tenant>> {
    validate_settings(
        p.timezone.as_deref(),
        p.phone_region.as_deref(),
        p.locale.as_deref(),
    )?;
    let name = super::parse::opt_text(p.name.as_deref(), "name", 200)?;
    let patch = NewTenantPatch {
        name,
        timezone: p.timezone,
        phone_region: p.phone_region.map(|r| r.to_ascii_uppercase()),
        locale: p.locale,
    };
    let updated = tenants::update(&s.db, &auth.tenant, patch).await?;
    // Cached keys carry the phone region.
    s.keys.clear();
    Ok(axum::Json(updated))
}
