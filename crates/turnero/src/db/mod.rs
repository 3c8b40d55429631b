//! The database handle: one code path over SQLite and PostgreSQL through sqlx's `Any` driver.
//!
//! Every dialect difference lives here or in `migrations/{sqlite,postgres}`. Queries use
//! `$1, $2, …` placeholders numbered in order of first use, which both backends accept.
//! Instants are stored as BIGINT Unix seconds and JSON as TEXT, so one set of types decodes
//! from both.
//!
//! SQLite allows one writer at a time. Rather than let writers collide and back off inside
//! SQLite's busy handler, the SQLite backend keeps a separate single-connection pool for
//! writes: writers queue in-process, fairly, and readers use WAL snapshots in parallel.
//! On PostgreSQL both handles are the same pool and row locks do the serialising.

use std::time::Duration;

use std::sync::atomic::Ordering;
use std::sync::Arc;

use anyhow::Context;
use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, Executor};

mod batch;
mod changes;

pub use batch::Batch;
use changes::{spawn_change_listener, CHANNEL};
pub use changes::{Changed, Changes, StampedCache};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
pub struct Db {
    pub backend: Backend,
    /// For reads outside a write transaction.
    pub read: AnyPool,
    /// For write transactions (on SQLite a single connection).
    pub write: AnyPool,
    /// Tells caches which calendars changed, in this process and (PostgreSQL) in others.
    pub changes: Arc<Changes>,
    /// Woken after every commit of a write, so whoever waits for new rows (the webhook hub)
    /// looks at once instead of at its next poll.
    pub committed: Arc<tokio::sync::Notify>,
}

pub type Tx = sqlx::Transaction<'static, sqlx::Any>;

impl Db {
    /// Connects, applies pragmas (SQLite), and runs the migrations for the backend.
    pub async fn connect(url: &str, pool_size: u32) -> anyhow::Result<Self> {
        sqlx::any::install_default_drivers();
        // Readers and the writer are separate connections: an in-memory database would be a
        // different, empty database for each of them.
        anyhow::ensure!(
            !url.contains(":memory:") && !url.contains("mode=memory"),
            "an in-memory SQLite database cannot be shared by turnero's connections; use a file"
        );
        let db = if url.starts_with("sqlite:") {
            let url = sqlite_url(url);
            let write = sqlite_pool(&url, 1).await?;
            // Create the file and switch to WAL before readers open it.
            Self::migrate_with(&write, Backend::Sqlite).await?;
            let read = sqlite_pool(&url, pool_size.clamp(1, 64)).await?;
            let changes = Arc::new(Changes::default());
            // One process owns a SQLite file; its own writes are all it needs to hear.
            changes.trusted.store(true, Ordering::SeqCst);
            Db {
                backend: Backend::Sqlite,
                read,
                write,
                changes,
                committed: Arc::default(),
            }
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let pool = AnyPoolOptions::new()
                .max_connections(pool_size.max(2))
                .acquire_timeout(Duration::from_secs(10))
                .connect(url)
                .await
                .context("connecting to PostgreSQL")?;
            Self::migrate_with(&pool, Backend::Postgres).await?;
            let changes = Arc::new(Changes::default());
            spawn_change_listener(url.to_string(), changes.clone());
            Db {
                backend: Backend::Postgres,
                read: pool.clone(),
                write: pool,
                changes,
                committed: Arc::default(),
            }
        } else {
            anyhow::bail!("DATABASE_URL must start with sqlite: or postgres:");
        };
        Ok(db)
    }

    async fn migrate_with(pool: &AnyPool, backend: Backend) -> anyhow::Result<()> {
        let migrator = match backend {
            Backend::Sqlite => sqlx::migrate!("../../migrations/sqlite"),
            Backend::Postgres => sqlx::migrate!("../../migrations/postgres"),
        };
        migrator.run(pool).await.context("running migrations")?;
        Ok(())
    }

    /// Starts a write transaction.
    pub async fn begin(&self) -> sqlx::Result<Tx> {
        self.write.begin().await
    }

    /// Commits a write and tells every cache (here and, on PostgreSQL, in other processes
    /// through NOTIFY, which is delivered only if the transaction commits) what it changed.
    pub async fn commit(&self, mut tx: Tx, changed: Changed<'_>) -> sqlx::Result<()> {
        if self.backend == Backend::Postgres {
            let payload = match changed {
                Changed::Calendar(id) => id,
                Changed::Everything => "*",
            };
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(CHANNEL)
                .bind(payload)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        self.changes.bump(changed);
        self.committed.notify_one();
        Ok(())
    }

    /// Commits a write that changed no cached state but may have written events.
    pub async fn commit_events(&self, tx: Tx) -> sqlx::Result<()> {
        tx.commit().await?;
        self.committed.notify_one();
        Ok(())
    }

    /// A consistent copy of a SQLite database, taken while it is in use (`VACUUM INTO`
    /// reads one snapshot; writers go on meanwhile), to a file that must not exist yet.
    /// Answers its size. PostgreSQL has its own tools (`pg_dump`).
    pub async fn backup_to(&self, file: &std::path::Path) -> anyhow::Result<u64> {
        anyhow::ensure!(
            self.backend == Backend::Sqlite,
            "turnero backup copies SQLite databases; for PostgreSQL use pg_dump"
        );
        anyhow::ensure!(
            !file.exists(),
            "{} already exists: a backup never overwrites a file",
            file.display()
        );
        let target = file
            .to_str()
            .context("the backup's path must be valid UTF-8")?;
        sqlx::query("VACUUM INTO $1")
            .bind(target)
            .execute(&self.read)
            .await
            .context("copying the database")?;
        Ok(std::fs::metadata(file)?.len())
    }

    pub async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
    }
}

/// Adds `mode=rwc` so a fresh machine gets its database file created.
fn sqlite_url(url: &str) -> String {
    if url.contains("mode=") || url.contains(":memory:") {
        url.to_string()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    }
}

async fn sqlite_pool(url: &str, size: u32) -> anyhow::Result<AnyPool> {
    AnyPoolOptions::new()
        .max_connections(size)
        .min_connections(1)
        .acquire_timeout(Duration::from_secs(30))
        .after_connect(|conn, _| {
            Box::pin(async move {
                // WAL: readers never block the writer. NORMAL: durable at checkpoints and
                // safe against corruption, which is SQLite's recommended pairing with WAL.
                conn.execute(
                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                     PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON; \
                     PRAGMA cache_size = -16000; PRAGMA temp_store = MEMORY;",
                )
                .await?;
                Ok(())
            })
        })
        .connect(url)
        .await
        .with_context(|| format!("opening SQLite database {}", redact_url(url)))
}

/// A database URL with any password replaced, for logs and errors.
pub fn redact_url(url: &str) -> String {
    // A URL's password, and any query parameter that is one (`?password=`, libpq's
    // `sslpassword`), are replaced; what cannot be parsed is not shown at all.
    let Ok(mut parsed) = url::Url::parse(url) else {
        return "(unparsable URL)".into();
    };
    if parsed.password().is_some() {
        let _ = parsed.set_password(Some("***"));
    }
    if parsed.query().is_some() {
        let pairs: Vec<(String, String)> = parsed
            .query_pairs()
            .map(|(k, v)| {
                let secret = k.to_ascii_lowercase().contains("password");
                (
                    k.into_owned(),
                    if secret { "***".into() } else { v.into_owned() },
                )
            })
            .collect();
        parsed.query_pairs_mut().clear().extend_pairs(pairs);
    }
    parsed.to_string()
}

/// Whether an error is a unique-constraint violation (both backends).
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Database(e) => {
            e.is_unique_violation() || e.code().is_some_and(|c| c == "23505" || c == "2067")
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_never_reach_the_logs() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db:5432/turnero"),
            "postgres://app:***@db:5432/turnero"
        );
        assert_eq!(redact_url("sqlite://turnero.db"), "sqlite://turnero.db");
        let logged = redact_url(
            "postgres://app@db:5432/turnero?password=s3cret&sslmode=require&sslpassword=k3y",
        );
        assert!(
            !logged.contains("s3cret") && !logged.contains("k3y"),
            "{logged}"
        );
        assert!(logged.contains("sslmode=require"), "{logged}");
    }
}
