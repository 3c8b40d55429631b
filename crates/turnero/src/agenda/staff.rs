//! The clinic's staff who sign in to the console: an email, an argon2id hash of the password,
//! a role (admin, reception, professional — a professional sees only their own calendars)
//! and the failed sign-ins that slow and then lock the account for a while. A session is kept
//! by its cookie's SHA-256 only, with the CSRF token its forms carry.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rand::RngCore;
use sqlx::Row;
use turnero_core::ids::{CalendarId, StaffUserId, TenantId};

use crate::db::{is_unique_violation, Db};
use crate::error::{Error, Result};

/// Failed sign-ins in a row that lock an account.
pub const MAX_FAILED_SIGNINS: i64 = 5;
/// How long a locked account stays locked.
pub const LOCK_SECONDS: i64 = 15 * 60;
/// How long a session lasts without signing in again (a working day and then some).
pub const SESSION_SECONDS: i64 = 12 * 3600;
/// The shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Admin,
    Reception,
    Professional,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Reception => "reception",
            Role::Professional => "professional",
        }
    }

    pub fn parse(raw: &str) -> Option<Role> {
        match raw {
            "admin" => Some(Role::Admin),
            "reception" => Some(Role::Reception),
            "professional" => Some(Role::Professional),
            _ => None,
        }
    }
}

/// A staff member as the console knows them.
#[derive(Debug, Clone)]
pub struct StaffUser {
    pub id: String,
    pub tenant: TenantId,
    pub email: String,
    pub role: Role,
    /// `es`, `pt` or `en`: the console's language for them.
    pub locale: String,
    /// A professional's own calendars (empty for other roles, who see every calendar).
    pub calendars: Vec<String>,
}

impl StaffUser {
    /// Whether this person may see and act on a calendar's agenda.
    pub fn sees(&self, calendar_id: &str) -> bool {
        self.role != Role::Professional || self.calendars.iter().any(|c| c == calendar_id)
    }
}

pub struct NewStaff {
    pub email: String,
    pub password: String,
    pub role: Role,
    pub locale: String,
    /// For a professional: the calendars that are theirs.
    pub calendars: Vec<CalendarId>,
}

/// An email as stored and compared: trimmed and lowercased; `None` if it is not one.
pub fn normalize_email(raw: &str) -> Option<String> {
    let email = raw.trim().to_lowercase();
    let plausible = crate::agenda::customers::plausible_email(&email)
        && email.matches('@').count() == 1
        && email.len() <= 254;
    plausible.then_some(email)
}

/// Makes a staff account; the password is kept only as its argon2id hash.
pub async fn create(db: &Db, tenant: &TenantId, new: NewStaff, now: i64) -> Result<StaffUser> {
    let email = normalize_email(&new.email)
        .ok_or_else(|| Error::invalid("invalid_email", "email", "not an email address"))?;
    if new.password.chars().count() < MIN_PASSWORD_CHARS || new.password.len() > 1024 {
        return Err(Error::invalid(
            "weak_password",
            "password",
            format!("a password has {MIN_PASSWORD_CHARS} to 1024 characters"),
        ));
    }
    if !matches!(new.locale.as_str(), "es" | "pt" | "en") {
        return Err(Error::invalid("unknown_locale", "locale", "es, pt or en"));
    }
    let hash = hash_password(new.password).await?;
    let id = StaffUserId::generate();
    let mut tx = db.begin().await?;
    for cal in &new.calendars {
        let found = sqlx::query("SELECT id FROM calendars WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.as_str())
            .bind(cal.as_str())
            .fetch_optional(&mut *tx)
            .await?;
        if found.is_none() {
            return Err(Error::invalid(
                "unknown_calendar",
                "calendar_ids",
                format!("no calendar {cal}"),
            ));
        }
    }
    let inserted = sqlx::query(
        "INSERT INTO staff_users (id, tenant_id, email, password_hash, role, locale, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
    )
    .bind(id.as_str())
    .bind(tenant.as_str())
    .bind(&email)
    .bind(&hash)
    .bind(new.role.as_str())
    .bind(&new.locale)
    .bind(now)
    .execute(&mut *tx)
    .await;
    match inserted {
        Err(e) if is_unique_violation(&e) => {
            return Err(Error::conflict(
                "email_taken",
                "a staff account with that email exists",
            ))
        }
        other => other?,
    };
    for cal in &new.calendars {
        sqlx::query("INSERT INTO staff_user_calendars (user_id, calendar_id) VALUES ($1, $2)")
            .bind(id.as_str())
            .bind(cal.as_str())
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(StaffUser {
        id: id.into_string(),
        tenant: tenant.clone(),
        email,
        role: new.role,
        locale: new.locale,
        calendars: new
            .calendars
            .into_iter()
            .map(CalendarId::into_string)
            .collect(),
    })
}

/// A fresh random password for a generated account (`turnero user create --json`).
pub fn generate_password() -> String {
    crate::secrets::random_hex(12)
}

pub(crate) async fn hash_password(password: String) -> Result<String> {
    // Hashing is meant to be slow: off the async workers.
    tokio::task::spawn_blocking(move || {
        let mut salt = [0u8; 16];
        rand::rng().fill_bytes(&mut salt);
        let salt = SaltString::encode_b64(&salt).map_err(|e| anyhow::anyhow!("salt: {e}"))?;
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))
    })
    .await
    .map_err(|e| anyhow::anyhow!("hashing task: {e}"))?
    .map_err(Error::from)
}

async fn password_matches(password: String, stored: String) -> Result<bool> {
    tokio::task::spawn_blocking(move || {
        let parsed = PasswordHash::new(&stored).map_err(|e| anyhow::anyhow!("stored hash: {e}"))?;
        Ok::<bool, anyhow::Error>(
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok(),
        )
    })
    .await
    .map_err(|e| anyhow::anyhow!("verifying task: {e}"))?
    .map_err(Error::from)
}

/// A hash nobody's password matches, verified when the email is unknown so that the answer
/// takes as long as for a known one.
const DECOY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$\
    8Cqk3S5Gkj0nmMEhT0yuqpWv8ZlzwdkJ4XAUAq1Xq2Y";

/// What a sign-in came to.
pub enum SignIn {
    /// The session's token (the cookie; shown only now) and who signed in (the session
    /// itself is read again with each request, `session`).
    Welcome {
        token: String,
        user_id: String,
        tenant: TenantId,
    },
    Wrong,
    /// Too many failures in a row: refused, even with the right password, until then.
    Locked {
        until: i64,
    },
}

/// Checks an email and password; the fifth failure in a row locks the account for
/// [`LOCK_SECONDS`].
pub async fn sign_in(db: &Db, email: &str, password: &str, now: i64) -> Result<SignIn> {
    let Some(email) = normalize_email(email) else {
        password_matches(password.to_string(), DECOY_HASH.into()).await?;
        return Ok(SignIn::Wrong);
    };
    let row = sqlx::query(
        "SELECT id, password_hash, locked_until, tenant_id FROM staff_users WHERE email = $1",
    )
    .bind(&email)
    .fetch_optional(&db.read)
    .await?;
    let Some(row) = row else {
        password_matches(password.to_string(), DECOY_HASH.into()).await?;
        return Ok(SignIn::Wrong);
    };
    let (id, stored, locked_until, tenant): (String, String, Option<i64>, String) =
        (row.get(0), row.get(1), row.get(2), row.get(3));
    if let Some(until) = locked_until.filter(|u| *u > now) {
        return Ok(SignIn::Locked { until });
    }
    if !password_matches(password.to_string(), stored).await? {
        // One statement: two wrong guesses at once both count.
        let locked: Option<i64> = sqlx::query(
            "UPDATE staff_users SET \
             locked_until = CASE WHEN failed_signins + 1 >= $1 THEN $2 ELSE locked_until END, \
             failed_signins = CASE WHEN failed_signins + 1 >= $1 THEN 0 ELSE failed_signins + 1 END \
             WHERE id = $3 RETURNING locked_until",
        )
        .bind(MAX_FAILED_SIGNINS)
        .bind(now + LOCK_SECONDS)
        .bind(&id)
        .fetch_one(&db.write)
        .await?
        .get(0);
        return Ok(match locked.filter(|u| *u > now) {
            Some(until) => SignIn::Locked { until },
            None => SignIn::Wrong,
        });
    }
    let token = crate::secrets::random_hex(32);
    let mut tx = db.begin().await?;
    sqlx::query("UPDATE staff_users SET failed_signins = 0, locked_until = NULL WHERE id = $1")
        .bind(&id)
        .execute(&mut *tx)
        .await?;
    // This person's ended sessions go as they start a new one: the table stays small.
    sqlx::query("DELETE FROM staff_sessions WHERE user_id = $1 AND expires_at <= $2")
        .bind(&id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO staff_sessions (token_hash, user_id, tenant_id, csrf_token, created_at, \
         expires_at) SELECT $1, id, tenant_id, $2, $3, $4 FROM staff_users WHERE id = $5",
    )
    .bind(crate::secrets::hash(&token))
    .bind(crate::secrets::random_hex(32))
    .bind(now)
    .bind(now + SESSION_SECONDS)
    .bind(&id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(SignIn::Welcome {
        token,
        user_id: id,
        tenant: TenantId::from_trusted(tenant),
    })
}

/// A signed-in session: who, and the token its forms must carry.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: StaffUser,
    pub csrf_token: String,
}

/// The live session behind a cookie's token, if any.
pub async fn session(db: &Db, token: &str, now: i64) -> Result<Option<Session>> {
    if token.len() != 64 {
        return Ok(None);
    }
    let row = sqlx::query(
        "SELECT u.id, u.tenant_id, u.email, u.role, u.locale, s.csrf_token \
         FROM staff_sessions s JOIN staff_users u ON u.id = s.user_id \
         WHERE s.token_hash = $1 AND s.expires_at > $2",
    )
    .bind(crate::secrets::hash(token))
    .bind(now)
    .fetch_optional(&db.read)
    .await?;
    let Some(r) = row else {
        return Ok(None);
    };
    let user = user_of(db, &r).await?;
    Ok(Some(Session {
        user,
        csrf_token: r.get(5),
    }))
}

/// The staff member of a row whose first five columns are `u.id, u.tenant_id, u.email,
/// u.role, u.locale`, with a professional's calendars.
pub async fn user_of(db: &Db, r: &sqlx::any::AnyRow) -> Result<StaffUser> {
    let id: String = r.get(0);
    let role = Role::parse(&r.get::<String, _>(3)).unwrap_or(Role::Professional);
    let calendars = if role == Role::Professional {
        sqlx::query(
            "SELECT calendar_id FROM staff_user_calendars WHERE user_id = $1 ORDER BY calendar_id",
        )
        .bind(&id)
        .fetch_all(&db.read)
        .await?
        .iter()
        .map(|r| r.get::<String, _>(0))
        .collect()
    } else {
        Vec::new()
    };
    Ok(StaffUser {
        id,
        tenant: TenantId::from_trusted(r.get(1)),
        email: r.get(2),
        role,
        locale: r.get(4),
        calendars,
    })
}

/// Ends a session (signing out).
pub async fn sign_out(db: &Db, token: &str) -> Result<()> {
    sqlx::query("DELETE FROM staff_sessions WHERE token_hash = $1")
        .bind(crate::secrets::hash(token))
        .execute(&db.write)
        .await?;
    Ok(())
}
