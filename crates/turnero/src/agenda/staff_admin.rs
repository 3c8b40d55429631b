//! Looking after a clinic's staff accounts: the list, a new password (the old one and every
//! session end at once), removing an account, and each person's language. A clinic always
//! keeps one admin: the last one cannot be removed.

use sqlx::Row;
use turnero_core::ids::TenantId;

use super::staff::{self, Role, StaffUser};
use crate::db::{Backend, Db};
use crate::error::{Error, Result};

/// The tenant's staff, by email.
pub async fn list(db: &Db, tenant: &TenantId) -> Result<Vec<StaffUser>> {
    let rows = sqlx::query(
        "SELECT id, tenant_id, email, role, locale FROM staff_users WHERE tenant_id = $1 \
         ORDER BY email",
    )
    .bind(tenant.as_str())
    .fetch_all(&db.read)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.push(staff::user_of(db, r).await?);
    }
    Ok(out)
}

/// Gives the account a new generated password, answered once; its sessions end and a lock
/// from failed sign-ins is lifted.
pub async fn reset_password(db: &Db, tenant: &TenantId, id: &str, now: i64) -> Result<String> {
    let password = staff::generate_password();
    let hash = staff::hash_password(password.clone()).await?;
    let mut tx = db.begin().await?;
    let done = sqlx::query(
        "UPDATE staff_users SET password_hash = $1, failed_signins = 0, locked_until = NULL, \
         updated_at = $2 WHERE tenant_id = $3 AND id = $4",
    )
    .bind(&hash)
    .bind(now)
    .bind(tenant.as_str())
    .bind(id)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(Error::not_found("staff user"));
    }
    sqlx::query("DELETE FROM staff_sessions WHERE user_id = $1 AND tenant_id = $2")
        .bind(id)
        .bind(tenant.as_str())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(password)
}

/// Removes the account, its sessions and its calendar feed. The clinic's last admin stays.
pub async fn remove(db: &Db, tenant: &TenantId, id: &str) -> Result<()> {
    let mut tx = db.begin().await?;
    if db.backend == Backend::Postgres {
        // Two removals at once must not both see "another admin is left" (SQLite's one
        // writer already runs them one after the other).
        sqlx::query("SELECT id FROM tenants WHERE id = $1 FOR UPDATE")
            .bind(tenant.as_str())
            .execute(&mut *tx)
            .await?;
    }
    let admins: Vec<String> =
        sqlx::query("SELECT id FROM staff_users WHERE tenant_id = $1 AND role = 'admin'")
            .bind(tenant.as_str())
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
    if admins.len() == 1 && admins[0] == id {
        return Err(Error::conflict(
            "last_admin",
            "a clinic keeps at least one admin",
        ));
    }
    for table in ["staff_sessions", "staff_feeds", "staff_user_calendars"] {
        sqlx::query(&format!("DELETE FROM {table} WHERE user_id = $1"))
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    let done = sqlx::query("DELETE FROM staff_users WHERE tenant_id = $1 AND id = $2")
        .bind(tenant.as_str())
        .bind(id)
        .execute(&mut *tx)
        .await?;
    if done.rows_affected() == 0 {
        return Err(Error::not_found("staff user"));
    }
    tx.commit().await?;
    Ok(())
}

/// The person's language in the console: `es`, `pt` or `en`.
pub async fn set_locale(db: &Db, user: &StaffUser, locale: &str, now: i64) -> Result<()> {
    if !matches!(locale, "es" | "pt" | "en") {
        return Err(Error::invalid("unknown_locale", "locale", "es, pt or en"));
    }
    sqlx::query(
        "UPDATE staff_users SET locale = $1, updated_at = $2 WHERE tenant_id = $3 AND id = $4",
    )
    .bind(locale)
    .bind(now)
    .bind(user.tenant.as_str())
    .bind(&user.id)
    .execute(&db.write)
    .await?;
    Ok(())
}

/// Whether the role may be given: any of the three.
pub fn role_named(raw: &str) -> Result<Role> {
    Role::parse(raw)
        .ok_or_else(|| Error::invalid("unknown_role", "role", "admin, reception or professional"))
}
