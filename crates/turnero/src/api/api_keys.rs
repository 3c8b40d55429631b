//! `POST/GET /api-keys`, `DELETE /api-keys/{id}`: a tenant's keys, named, with when each was
//! last used; a leaked key is revoked and stops working on every process at once.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use turnero_core::time::fmt_ts;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{Auth, Json};
use super::AppState;
use crate::agenda::api_keys::{self, ApiKey};
use crate::error::Result;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_key, list_keys))
        .routes(routes!(revoke_key))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyIn {
    /// What the key is for ("AsisteClick", "reception PC").
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyOut {
    pub id: String,
    pub name: String,
    /// The key's first characters, to recognise it.
    pub prefix: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NewApiKeyOut {
    pub id: String,
    pub name: String,
    /// The key, shown only in this answer (only its hash is kept).
    pub key: String,
    pub prefix: String,
    pub created_at: String,
}

impl From<ApiKey> for ApiKeyOut {
    fn from(k: ApiKey) -> Self {
        ApiKeyOut {
            id: k.id,
            name: k.name,
            prefix: k.prefix,
            created_at: fmt_ts(k.created_at),
            last_used_at: k.last_used_at.map(fmt_ts),
        }
    }
}

#[utoipa::path(post, path = "/api-keys", tag = "tenant", request_body = ApiKeyIn,
    responses((status = 201, body = NewApiKeyOut), (status = 422, body = crate::error::Problem)))]
async fn create_key(
    State(s): State<AppState>,
    auth: Auth,
    Json(input): Json<ApiKeyIn>,
) -> Result<(StatusCode, axum::Json<NewApiKeyOut>)> {
    let name = super::parse::name(&input.name, "name", 100)?;
    let (k, key) = api_keys::create(&s.db, &auth.tenant, &name, s.clock.now_secs()).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(NewApiKeyOut {
            id: k.id,
            name: k.name,
            key,
            prefix: k.prefix,
            created_at: fmt_ts(k.created_at),
        }),
    ))
}

#[utoipa::path(get, path = "/api-keys", tag = "tenant",
    responses((status = 200, body = Vec<ApiKeyOut>)))]
async fn list_keys(State(s): State<AppState>, auth: Auth) -> Result<axum::Json<Vec<ApiKeyOut>>> {
    let keys = api_keys::list(&s.db, &auth.tenant).await?;
    Ok(axum::Json(keys.into_iter().map(ApiKeyOut::from).collect()))
}

/// Revokes a key at once, on every process; the tenant's last working key cannot be.
#[utoipa::path(delete, path = "/api-keys/{id}", tag = "tenant", responses((status = 204),
    (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem)))]
async fn revoke_key(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    api_keys::revoke(&s.db, &auth.tenant, &id, s.clock.now_secs()).await?;
    s.keys.clear();
    Ok(StatusCode::NO_CONTENT)
}
