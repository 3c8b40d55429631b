//! The webhook hub: endpoints tenants subscribe, and durable, signed delivery of the outbox's
//! events to them (see `hub.rs` for how delivery works and why nothing is lost).

pub mod attempts;
pub mod formats;
pub mod hub;
mod job;
pub mod manual;
pub mod queue;
pub mod record;
pub mod retry;
pub mod send;
pub mod signing;
mod slot;
pub mod store;

use std::time::Duration;

pub use hub::Hub;

/// Delivery settings (from [`crate::config::Config`]).
#[derive(Debug, Clone)]
pub struct Settings {
    /// Seconds before each attempt; the first is the first attempt.
    pub retry_schedule: Vec<u64>,
    pub timeout: Duration,
    pub breaker_failures: u32,
    pub breaker_window_ms: i64,
    pub breaker_pause_ms: i64,
    /// Successful attempts slower than this count as slow in the stats.
    pub slow_ms: i64,
    /// Sends in flight per endpoint, per process.
    pub endpoint_concurrency: u32,
    /// Deliveries claimed and not yet finished per process, all endpoints together.
    pub max_in_flight: u32,
    /// How often an idle process looks for due retries (a commit in this process wakes it
    /// at once).
    pub poll: Duration,
}

impl Settings {
    /// How long a claimed delivery stays ours before another process may take it back. The
    /// holder renews it at every upkeep; it covers a send in flight twice over, so a process
    /// that stalls for a moment does not lose its claims.
    pub fn lease_ms(&self) -> i64 {
        2 * self.timeout.as_millis() as i64 + 2_000
    }

    /// How often stale claims and breakers are looked at.
    pub fn upkeep_every(&self) -> Duration {
        // Leases are renewed here, so well within a lease whatever `poll` is.
        self.poll
            .min(Duration::from_secs(1))
            .min(Duration::from_millis(self.lease_ms() as u64 / 3))
    }
}

impl From<&crate::config::Config> for Settings {
    fn from(c: &crate::config::Config) -> Self {
        Settings {
            retry_schedule: if c.webhook_retry_schedule.is_empty() {
                retry::DEFAULT_SCHEDULE.to_vec()
            } else {
                c.webhook_retry_schedule.clone()
            },
            timeout: Duration::from_millis(c.webhook_timeout_ms.max(100)),
            breaker_failures: c.webhook_breaker_failures.max(1),
            breaker_window_ms: (c.webhook_breaker_window_seconds.max(1) * 1000) as i64,
            breaker_pause_ms: (c.webhook_breaker_pause_seconds * 1000) as i64,
            slow_ms: c.webhook_slow_ms as i64,
            endpoint_concurrency: c.webhook_endpoint_concurrency.max(1),
            max_in_flight: c.webhook_max_in_flight.max(1),
            poll: Duration::from_millis(c.webhook_poll_ms.max(10)),
        }
    }
}
