//! Which cached state a committed write made stale: per-calendar change stamps, bumped by this
//! process's own commits and, on PostgreSQL, by other processes' NOTIFYs heard through LISTEN.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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
    pub(super) trusted: AtomicBool,
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

/// Values read from the database, kept per process by a string key: an entry is used only
/// under the change stamp it was read with (so a commit that announces a change makes it
/// stale in every process) and for at most `ttl`. Only a cache: the database stays the truth.
pub struct StampedCache<V> {
    entries: Mutex<HashMap<String, (V, Instant, u64)>>,
    ttl: Duration,
}

impl<V: Clone> StampedCache<V> {
    pub fn new(ttl: Duration) -> Self {
        Self {
            entries: Mutex::default(),
            ttl,
        }
    }

    pub fn get(&self, key: &str, stamp: u64) -> Option<V> {
        let entries = self.entries.lock().ok()?;
        entries
            .get(key)
            .filter(|(_, at, s)| *s == stamp && at.elapsed() < self.ttl)
            .map(|(v, _, _)| v.clone())
    }

    pub fn put(&self, key: String, value: V, stamp: u64) {
        if let Ok(mut entries) = self.entries.lock() {
            // Stale entries go all at once rather than one by one.
            if entries.len() >= 10_000 {
                entries.clear();
            }
            entries.insert(key, (value, Instant::now(), stamp));
        }
    }

    /// Forgets everything, e.g. after a setting the entries carry changed.
    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
    }
}

/// The PostgreSQL channel that carries "calendar X changed" between processes.
pub(super) const CHANNEL: &str = "turnero_changes";

/// Listens for other processes' changes; while not listening, caches are not trusted.
pub(super) fn spawn_change_listener(url: String, changes: Arc<Changes>) {
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
