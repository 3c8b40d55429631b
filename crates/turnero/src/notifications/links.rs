//! One-click links in mails: `/notices/{token}` where the token names a plan row and is
//! signed with the tenant's link secret, so nobody can answer for a row they were not sent.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use sqlx::Row;
use turnero_core::ids::TenantId;

use super::plans::{self, Plan};
use crate::db::Db;
use crate::error::Result;

/// The tenant's link secret, made the first time it is needed.
pub async fn secret(db: &Db, tenant: &TenantId, now: i64) -> Result<String> {
    sqlx::query(
        "INSERT INTO notification_settings (tenant_id, link_secret, updated_at) \
         VALUES ($1, $2, $3) ON CONFLICT (tenant_id) DO NOTHING",
    )
    .bind(tenant.as_str())
    .bind(crate::secrets::random_hex(32))
    .bind(now)
    .execute(&db.write)
    .await?;
    let row = sqlx::query("SELECT link_secret FROM notification_settings WHERE tenant_id = $1")
        .bind(tenant.as_str())
        .fetch_one(&db.write)
        .await?;
    Ok(row.get(0))
}

fn mac(secret: &str, id: i64) -> String {
    let mut m = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    m.update(format!("notice:{id}").as_bytes());
    hex::encode(&m.finalize().into_bytes()[..16])
}

/// The token for a plan row.
pub fn token(secret: &str, id: i64) -> String {
    format!("{id}.{}", mac(secret, id))
}

/// The plan row a token names, if its signature holds.
pub async fn verify(db: &Db, token: &str) -> Result<Option<Plan>> {
    let Some((id, sig)) = token.split_once('.') else {
        return Ok(None);
    };
    let Some(id) = id.parse::<i64>().ok().filter(|n| *n > 0) else {
        return Ok(None);
    };
    let Some(plan) = plans::get_unscoped(db, id).await? else {
        return Ok(None);
    };
    let row = sqlx::query("SELECT link_secret FROM notification_settings WHERE tenant_id = $1")
        .bind(plan.tenant.as_str())
        .fetch_optional(&db.read)
        .await?;
    let Some(secret) = row.map(|r| r.get::<String, _>(0)) else {
        return Ok(None);
    };
    let same = crate::secrets::same(&mac(&secret, id), sig);
    Ok(same.then_some(plan))
}
