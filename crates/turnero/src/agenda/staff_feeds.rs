//! A staff member's private calendar feed: an address with a secret token that Google, Apple
//! or Outlook calendar subscribes to. Only the token's SHA-256 is kept, so the address is
//! shown once, when it is made; making a new one replaces the old, and revoking deletes it.
//! The feed holds the bookings of the calendars that person sees.

use sqlx::Row;

use super::staff::{self, StaffUser};
use crate::db::Db;
use crate::error::Result;

/// Makes a new feed token for the person, replacing (and so revoking) any earlier one.
/// Answers the token, which is not kept.
pub async fn issue(db: &Db, user: &StaffUser, now: i64) -> Result<String> {
    let token = crate::secrets::random_hex(32);
    let mut tx = db.begin().await?;
    sqlx::query("DELETE FROM staff_feeds WHERE user_id = $1")
        .bind(&user.id)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO staff_feeds (user_id, tenant_id, token_hash, created_at) \
         VALUES ($1, $2, $3, $4)",
    )
    .bind(&user.id)
    .bind(user.tenant.as_str())
    .bind(crate::secrets::hash(&token))
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(token)
}

/// Revokes the person's feed: its address answers "not found" from now on.
pub async fn revoke(db: &Db, user: &StaffUser) -> Result<()> {
    sqlx::query("DELETE FROM staff_feeds WHERE user_id = $1 AND tenant_id = $2")
        .bind(&user.id)
        .bind(user.tenant.as_str())
        .execute(&db.write)
        .await?;
    Ok(())
}

/// When the person's current feed address was made, if they have one.
pub async fn made_at(db: &Db, user: &StaffUser) -> Result<Option<i64>> {
    Ok(
        sqlx::query("SELECT created_at FROM staff_feeds WHERE user_id = $1 AND tenant_id = $2")
            .bind(&user.id)
            .bind(user.tenant.as_str())
            .fetch_optional(&db.read)
            .await?
            .map(|r| r.get(0)),
    )
}

/// Whose feed a token opens, if any.
pub async fn owner(db: &Db, token: &str) -> Result<Option<StaffUser>> {
    if token.len() != 64 {
        return Ok(None);
    }
    let row = sqlx::query(
        "SELECT u.id, u.tenant_id, u.email, u.role, u.locale \
         FROM staff_feeds f JOIN staff_users u ON u.id = f.user_id AND u.tenant_id = f.tenant_id \
         WHERE f.token_hash = $1",
    )
    .bind(crate::secrets::hash(token))
    .fetch_optional(&db.read)
    .await?;
    match row {
        Some(r) => Ok(Some(staff::user_of(db, &r).await?)),
        None => Ok(None),
    }
}
