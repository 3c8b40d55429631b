//! A tenant's flows: the built-in one in its locale (version 0) until it imports its own;
//! every imported version kept, so a conversation finishes on the version it started with.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use sqlx::Row;
use turnero_core::flow::{self, Flow};
use turnero_core::ids::TenantId;

use crate::db::Db;
use crate::error::{Error, Result};

/// The built-in flow in a language, read once per process.
pub fn built_in(language: &str) -> Arc<Flow> {
    static FLOWS: OnceLock<[Arc<Flow>; 3]> = OnceLock::new();
    let all = FLOWS.get_or_init(|| ["es", "pt", "en"].map(|l| Arc::new(flow::default_flow(l))));
    match language {
        "pt" => all[1].clone(),
        "en" => all[2].clone(),
        _ => all[0].clone(),
    }
}

/// Imported versions, parsed once per process (a version never changes once written).
#[derive(Default)]
pub struct FlowCache {
    parsed: Mutex<HashMap<(String, i64), Arc<Flow>>>,
}

impl FlowCache {
    fn get(&self, tenant: &TenantId, version: i64) -> Option<Arc<Flow>> {
        let map = self.parsed.lock().expect("flow cache poisoned");
        map.get(&(tenant.as_str().to_string(), version)).cloned()
    }

    fn put(&self, tenant: &TenantId, version: i64, flow: Arc<Flow>) {
        let mut map = self.parsed.lock().expect("flow cache poisoned");
        if map.len() > 10_000 {
            map.clear();
        }
        map.insert((tenant.as_str().to_string(), version), flow);
    }
}

/// The version a new conversation starts on: the latest import, or 0 (built-in) when there
/// is none or the tenant went back to the built-in flow since.
pub async fn current_version(db: &Db, tenant: &TenantId) -> Result<i64> {
    let row = sqlx::query(
        "SELECT version, body FROM flows WHERE tenant_id = $1 AND name = $2 \
         ORDER BY version DESC LIMIT 1",
    )
    .bind(tenant.as_str())
    .bind(flow::MAIN)
    .fetch_optional(&db.read)
    .await?;
    Ok(match row {
        Some(r) if !r.get::<String, _>(1).is_empty() => r.get(0),
        _ => 0,
    })
}

/// The highest version number used so far (imports and resets).
async fn latest_version(db: &Db, tenant: &TenantId) -> Result<i64> {
    let row = sqlx::query("SELECT MAX(version) FROM flows WHERE tenant_id = $1 AND name = $2")
        .bind(tenant.as_str())
        .bind(flow::MAIN)
        .fetch_one(&db.read)
        .await?;
    Ok(row.try_get::<Option<i64>, _>(0)?.unwrap_or(0))
}

/// A flow version; version 0 is the built-in flow in `language`.
pub async fn version(
    db: &Db,
    cache: &FlowCache,
    tenant: &TenantId,
    version: i64,
    language: &str,
) -> Result<Arc<Flow>> {
    if version == 0 {
        return Ok(built_in(language));
    }
    if let Some(f) = cache.get(tenant, version) {
        return Ok(f);
    }
    let row =
        sqlx::query("SELECT body FROM flows WHERE tenant_id = $1 AND name = $2 AND version = $3")
            .bind(tenant.as_str())
            .bind(flow::MAIN)
            .bind(version)
            .fetch_optional(&db.read)
            .await?
            .ok_or_else(|| Error::not_found("flow"))?;
    let body: String = row.get(0);
    if body.is_empty() {
        return Ok(built_in(language));
    }
    let parsed = flow::parse(body.as_bytes())
        .map_err(|p| anyhow::anyhow!("stored flow version {version} no longer reads: {p:?}"))?;
    let parsed = Arc::new(parsed);
    cache.put(tenant, version, parsed.clone());
    Ok(parsed)
}

/// Stores a checked flow as the next version; answers the version.
pub async fn import(db: &Db, tenant: &TenantId, flow: &Flow, now: i64) -> Result<i64> {
    let body = serde_json::to_string(flow)?;
    // Two imports at once: the second one's version collides and it tries the next.
    for _ in 0..5 {
        let next = latest_version(db, tenant).await? + 1;
        let done = sqlx::query(
            "INSERT INTO flows (tenant_id, name, version, body, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        )
        .bind(tenant.as_str())
        .bind(flow::MAIN)
        .bind(next)
        .bind(&body)
        .bind(now)
        .execute(&db.write)
        .await?;
        if done.rows_affected() == 1 {
            return Ok(next);
        }
    }
    Err(Error::conflict(
        "concurrent_change",
        "the flow is being imported elsewhere; try again",
    ))
}

/// Goes back to the built-in flow for new conversations, keeping the old versions for the
/// conversations still running on them (a later import continues the numbering). The
/// marker is a version with an empty body: "built-in from here on".
pub async fn reset(db: &Db, tenant: &TenantId, now: i64) -> Result<i64> {
    let latest = latest_version(db, tenant).await?;
    if current_version(db, tenant).await? == 0 {
        return Ok(latest);
    }
    sqlx::query(
        "INSERT INTO flows (tenant_id, name, version, body, created_at) VALUES ($1, $2, $3, '', $4)",
    )
    .bind(tenant.as_str())
    .bind(flow::MAIN)
    .bind(latest + 1)
    .bind(now)
    .execute(&db.write)
    .await?;
    Ok(latest + 1)
}
