//! A tenant's outgoing mail server: `smtp://user:pass@host:port` (STARTTLS, required) or
//! `smtps://…` (TLS from the first byte), and the sender address. The URL's
//! password is never shown back.

use sqlx::Row;
use turnero_core::ids::TenantId;

use crate::db::Db;
use crate::error::Result;

#[derive(Clone)]
pub struct EmailChannel {
    pub smtp_url: String,
    pub from: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl EmailChannel {
    /// The URL with its password replaced, as the API shows it.
    pub fn shown_url(&self) -> String {
        match url::Url::parse(&self.smtp_url) {
            Ok(mut u) if u.password().is_some() => {
                let _ = u.set_password(Some("********"));
                u.to_string()
            }
            _ => self.smtp_url.clone(),
        }
    }
}

pub async fn put(db: &Db, tenant: &TenantId, smtp_url: &str, from: &str, now: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO email_channels (tenant_id, smtp_url, from_address, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $4) ON CONFLICT (tenant_id) DO UPDATE SET \
         smtp_url = excluded.smtp_url, from_address = excluded.from_address, \
         updated_at = excluded.updated_at",
    )
    .bind(tenant.as_str())
    .bind(smtp_url)
    .bind(from)
    .bind(now)
    .execute(&db.write)
    .await?;
    Ok(())
}

pub async fn get(db: &Db, tenant: &TenantId) -> Result<Option<EmailChannel>> {
    let row = sqlx::query(
        "SELECT smtp_url, from_address, created_at, updated_at FROM email_channels WHERE tenant_id = $1",
    )
    .bind(tenant.as_str())
    .fetch_optional(&db.read)
    .await?;
    Ok(row.map(|r| EmailChannel {
        smtp_url: r.get(0),
        from: r.get(1),
        created_at: r.get(2),
        updated_at: r.get(3),
    }))
}

pub async fn delete(db: &Db, tenant: &TenantId) -> Result<bool> {
    let n = sqlx::query("DELETE FROM email_channels WHERE tenant_id = $1")
        .bind(tenant.as_str())
        .execute(&db.write)
        .await?
        .rows_affected();
    Ok(n > 0)
}
