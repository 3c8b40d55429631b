//! Configuration, layered: defaults → optional TOML file → `TURNERO_*` environment
//! variables (and `DATABASE_URL`) → command-line flags. Secrets are never logged.

use std::path::Path;

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Address to listen on.
    pub listen: String,
    /// `sqlite://FILE` or `postgres://…`.
    pub database_url: String,
    /// How often expired holds are swept (seconds).
    pub hold_sweep_seconds: u64,
    /// Connections per pool (PostgreSQL; SQLite readers).
    pub db_pool_size: u32,
    /// CIDRs outbound requests may reach although they are private or loopback
    /// (comma-separated, e.g. `127.0.0.0/8,10.0.0.0/8`). Empty: public addresses only.
    pub outbound_allow: String,
    /// Webhook request timeout (milliseconds).
    pub webhook_timeout_ms: u64,
    /// Seconds before each webhook attempt (first = first attempt); empty = the default
    /// `[0, 5, 300, 1800, 7200, 18000, 36000, 36000]`.
    pub webhook_retry_schedule: Vec<u64>,
    /// The breaker opens after this many failures within the window…
    pub webhook_breaker_failures: u32,
    pub webhook_breaker_window_seconds: u64,
    /// …and pauses the endpoint this long before one probe decides.
    pub webhook_breaker_pause_seconds: u64,
    /// Successful attempts slower than this are "slow" in the stats.
    pub webhook_slow_ms: u64,
    /// Sends in flight per endpoint (per process).
    pub webhook_endpoint_concurrency: u32,
    /// Deliveries claimed and not yet finished, per process.
    pub webhook_max_in_flight: u32,
    /// How often an idle process looks for due retries (milliseconds).
    pub webhook_poll_ms: u64,
    /// The address vendors and people reach this server at (`https://turnos.example.com`),
    /// for the URLs turnero registers or shows (Telegram's webhook, Meta's callback…).
    /// Unset: taken from each request's `Host` (and `X-Forwarded-*` behind a proxy).
    pub public_url: Option<String>,
    /// How long a stopping server waits for requests in flight (seconds).
    pub shutdown_grace_seconds: u64,
    /// Messages per second this process sends from one WhatsApp number (Meta's default
    /// throughput is 80; a number upgraded by Meta may take more).
    pub whatsapp_messages_per_second: u32,
    /// Calls one AsisteClick integration's URLs may take per minute, per process (a sixth
    /// of them at once); more get 429 with `Retry-After`.
    pub asisteclick_requests_per_minute: u32,
    /// How long records are kept, per kind (the config file's `[retention]` table).
    pub retention: Retention,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            database_url: "sqlite://turnero.db".into(),
            hold_sweep_seconds: 5,
            db_pool_size: 16,
            outbound_allow: String::new(),
            webhook_timeout_ms: 15_000,
            webhook_retry_schedule: Vec::new(),
            webhook_breaker_failures: 100,
            webhook_breaker_window_seconds: 600,
            webhook_breaker_pause_seconds: 600,
            webhook_slow_ms: 2_000,
            webhook_endpoint_concurrency: 16,
            webhook_max_in_flight: 16_384,
            webhook_poll_ms: 1_000,
            public_url: None,
            shutdown_grace_seconds: 10,
            whatsapp_messages_per_second: 80,
            asisteclick_requests_per_minute: 1200,
            retention: Default::default(),
        }
    }
}

impl Config {
    /// Reads the layers below the command line; `file` is optional (`turnero.toml` is read
    /// when present in the working directory).
    pub fn load(file: Option<&Path>) -> anyhow::Result<Self> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        match file {
            Some(f) => fig = fig.merge(Toml::file_exact(f)),
            None => fig = fig.merge(Toml::file("turnero.toml")),
        }
        fig = fig
            .merge(Env::prefixed("TURNERO_").only(&[
                "listen",
                "database_url",
                "hold_sweep_seconds",
                "db_pool_size",
                "outbound_allow",
                "webhook_timeout_ms",
                "webhook_retry_schedule",
                "webhook_breaker_failures",
                "webhook_breaker_window_seconds",
                "webhook_breaker_pause_seconds",
                "webhook_slow_ms",
                "webhook_endpoint_concurrency",
                "webhook_max_in_flight",
                "webhook_poll_ms",
                "public_url",
                "shutdown_grace_seconds",
                "whatsapp_messages_per_second",
                "asisteclick_requests_per_minute",
            ]))
            .merge(Env::raw().only(&["database_url"]));
        Ok(fig.extract()?)
    }
}

/// Days kept per kind (`0` keeps for ever), from the config file's `[retention]` table.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Retention {
    pub events_days: u32,
    pub webhook_deliveries_days: u32,
    pub webhook_attempts_days: u32,
    /// Meta redelivers a webhook for up to 7 days: ids seen are kept longer than that.
    pub inbound_seen_days: u32,
    /// Answered messages and sent replies.
    pub chat_messages_days: u32,
    /// Conversations nobody wrote in for this long, with their messages (the bot starts
    /// afresh with that person).
    pub conversations_days: u32,
    pub idempotency_keys_days: u32,
    pub availability_fallbacks_days: u32,
    /// How often the job runs.
    pub every_minutes: u32,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            events_days: 90,
            webhook_deliveries_days: 90,
            webhook_attempts_days: 90,
            inbound_seen_days: 30,
            chat_messages_days: 90,
            conversations_days: 180,
            idempotency_keys_days: 7,
            availability_fallbacks_days: 90,
            every_minutes: 60,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_days_are_read_from_the_config_files_retention_table() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("turnero.toml");
        std::fs::write(
            &file,
            "[retention]\nevents_days = 30\nconversations_days = 0\n",
        )
        .unwrap();
        let c = Config::load(Some(&file)).unwrap();
        assert_eq!(c.retention.events_days, 30);
        assert_eq!(c.retention.conversations_days, 0, "0 keeps for ever");
        assert_eq!(
            c.retention.webhook_attempts_days, 90,
            "the rest keep their defaults"
        );
        std::fs::write(&file, "[retention]\nevent_days = 30\n").unwrap();
        assert!(
            Config::load(Some(&file)).is_err(),
            "a misspelt kind is refused"
        );
    }
}
