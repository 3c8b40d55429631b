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

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::Context;
use sqlx::any::{AnyArguments, AnyPoolOptions, AnyQueryResult, AnyRow};
use sqlx::{AnyConnection, AnyPool, Executor};

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
    /// Availability inputs per calendar, checked against `changes` on every use.
    pub snapshots: Arc<crate::agenda::snapshot::SnapshotCache>,
}

/// What a committed write made stale.
#[derive(Debug, Clone, Copy)]
pub enum Changed<'a> {
    Calendar(&'a str),
    /// Services and their links, or anything whose reach is unclear.
    Everything,
}

/// Change stamps for cached state. A cache entry records the stamp it was read under and is
/// used only while the stamp is unchanged, so a write that commits while an entry is being
/// loaded can never leave a stale entry behind.
#[derive(Default)]
pub struct Changes {
    epoch: AtomicU64,
    per_calendar: Mutex<HashMap<String, u64>>,
    /// False while a PostgreSQL process is not (yet) hearing other processes' changes; then
    /// nothing is cached.
    trusted: AtomicBool,
}

impl Changes {
    /// The current stamp of a calendar: `(epoch, calendar generation)`.
    pub fn stamp(&self, calendar: &str) -> (u64, u64) {
        let generation = self
            .per_calendar
            .lock()
            .map(|m| m.get(calendar).copied().unwrap_or(0))
            .unwrap_or(u64::MAX);
        (self.epoch.load(Ordering::SeqCst), generation)
    }

    pub fn trusted(&self) -> bool {
        self.trusted.load(Ordering::SeqCst)
    }

    pub fn bump(&self, changed: Changed<'_>) {
        match changed {
            Changed::Calendar(id) => {
                if let Ok(mut m) = self.per_calendar.lock() {
                    *m.entry(id.to_string()).or_insert(0) += 1;
                }
            }
            Changed::Everything => {
                self.epoch.fetch_add(1, Ordering::SeqCst);
            }
        }
    }
}

/// The PostgreSQL channel that carries "calendar X changed" between processes.
const CHANNEL: &str = "turnero_changes";

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
                snapshots: Arc::default(),
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
                snapshots: Arc::default(),
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
        Ok(())
    }

    pub async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
    }
}

/// Listens for other processes' changes; while not listening, caches are not trusted.
fn spawn_change_listener(url: String, changes: Arc<Changes>) {
    tokio::spawn(async move {
        loop {
            match listen(&url, &changes).await {
                Ok(()) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "change listener lost; caches off until it is back")
                }
            }
            changes.trusted.store(false, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
}

async fn listen(url: &str, changes: &Changes) -> anyhow::Result<()> {
    let mut listener = sqlx::postgres::PgListener::connect(url).await?;
    listener.listen(CHANNEL).await?;
    // Anything cached before this point may have missed notifications.
    changes.bump(Changed::Everything);
    changes.trusted.store(true, Ordering::SeqCst);
    loop {
        match listener.try_recv().await? {
            Some(n) if n.payload() == "*" => changes.bump(Changed::Everything),
            Some(n) => changes.bump(Changed::Calendar(n.payload())),
            None => anyhow::bail!("connection closed"),
        }
    }
}

/// Write statements sent together. On SQLite they go to the connection's worker thread as
/// one multi-statement call, which saves a thread hand-off per statement on the single
/// writer; on PostgreSQL, whose extended protocol takes one statement per call, they run one
/// after another. Parts use `$1…` for their own arguments; SQLite numbers `$N` across the
/// whole string, so each part's placeholders are shifted past the arguments before it.
/// (No part may contain a `$` inside a string literal.)
#[derive(Default)]
pub struct Batch {
    parts: Vec<(&'static str, AnyArguments<'static>)>,
}

/// Builds `AnyArguments` from owned values: `args![id, name, now]?`.
#[macro_export]
macro_rules! args {
    ($($value:expr),* $(,)?) => {{
        #[allow(unused_mut)]
        let mut a = sqlx::any::AnyArguments::default();
        (|| -> Result<sqlx::any::AnyArguments<'static>, sqlx::Error> {
            $( sqlx::Arguments::add(&mut a, $value).map_err(sqlx::Error::Encode)?; )*
            Ok(a)
        })()
    }};
}

impl Batch {
    pub fn push(&mut self, sql: &'static str, args: AnyArguments<'static>) {
        self.parts.push((sql, args));
    }

    pub async fn run(self, conn: &mut AnyConnection) -> sqlx::Result<()> {
        if conn.backend_name() != "SQLite" {
            for (sql, args) in self.parts {
                sqlx::query_with(sql, args).execute(&mut *conn).await?;
            }
            return Ok(());
        }
        let (sql, args) = self.joined();
        sqlx::query_with(&sql, args).execute(&mut *conn).await?;
        Ok(())
    }

    /// Runs the batch and then a query, answering the query's first row.
    pub async fn then_fetch_optional(
        mut self,
        conn: &mut AnyConnection,
        sql: &'static str,
        args: AnyArguments<'static>,
    ) -> sqlx::Result<Option<AnyRow>> {
        if conn.backend_name() != "SQLite" {
            self.run(&mut *conn).await?;
            return sqlx::query_with(sql, args).fetch_optional(&mut *conn).await;
        }
        // The writes before it return no rows, so the rows are the query's. (`fetch_optional`
        // would stop at the first statement's result.)
        self.push(sql, args);
        let (sql, args) = self.joined();
        let rows = sqlx::query_with(&sql, args).fetch_all(&mut *conn).await?;
        Ok(rows.into_iter().next())
    }

    fn joined(self) -> (String, AnyArguments<'static>) {
        let mut sql = String::new();
        let mut all = AnyArguments::default();
        for (part, args) in self.parts {
            shift_placeholders(part, all.values.0.len(), &mut sql);
            sql.push_str(";\n");
            all.values.0.extend(args.values.0);
        }
        (sql, all)
    }
}

/// Copies `sql`, adding `offset` to every `$N` placeholder.
fn shift_placeholders(sql: &str, offset: usize, out: &mut String) {
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if c != '$' {
            continue;
        }
        let mut n = String::new();
        while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
            n.push(*d);
            chars.next();
        }
        match n.parse::<usize>() {
            Ok(n) => out.push_str(&(n + offset).to_string()),
            Err(_) => out.push_str(&n),
        }
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
    match (url.find("://"), url.find('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
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

/// Number of rows a statement changed.
pub fn affected(result: AnyQueryResult) -> u64 {
    result.rows_affected()
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn batched_placeholders_are_shifted_past_earlier_arguments() {
        let mut out = String::new();
        super::shift_placeholders("INSERT INTO t VALUES ($1, $2, $10, $1)", 3, &mut out);
        assert_eq!(out, "INSERT INTO t VALUES ($4, $5, $13, $4)");
    }

    #[test]
    fn passwords_never_reach_the_logs() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db:5432/turnero"),
            "postgres://app:***@db:5432/turnero"
        );
        assert_eq!(redact_url("sqlite://turnero.db"), "sqlite://turnero.db");
    }
}

#[cfg(test)]
mod batch_tests {
    use super::*;

    #[tokio::test]
    async fn an_in_memory_or_unknown_database_is_refused_with_a_reason() {
        let memory = Db::connect("sqlite::memory:", 2).await.err().unwrap();
        assert!(memory.to_string().contains("use a file"), "{memory}");
        let other = Db::connect("mysql://localhost/x", 2).await.err().unwrap();
        assert!(
            other.to_string().contains("sqlite: or postgres:"),
            "{other}"
        );
    }

    #[tokio::test]
    async fn a_batch_then_a_query_answers_the_query_rows_on_sqlite() {
        let dir = std::env::temp_dir().join(format!("turnero-batch-{}.db", ulid::Ulid::new()));
        let db = Db::connect(&format!("sqlite://{}", dir.display()), 2)
            .await
            .unwrap();
        let mut conn = db.write.acquire().await.unwrap();
        sqlx::query("CREATE TABLE t (a BIGINT, b TEXT)")
            .execute(&mut *conn)
            .await
            .unwrap();
        sqlx::query("INSERT INTO t VALUES (1, 'x')")
            .execute(&mut *conn)
            .await
            .unwrap();
        let mut batch = Batch::default();
        batch.push(
            "UPDATE t SET b = $1 WHERE a = $2",
            crate::args!["y".to_string(), 1i64].unwrap(),
        );
        let row = batch
            .then_fetch_optional(
                &mut conn,
                "SELECT b FROM t WHERE a = $1",
                crate::args![1i64].unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(
            row.map(|r| sqlx::Row::get::<String, _>(&r, 0)),
            Some("y".to_string())
        );
    }
}
