//! Starting the service: connect, migrate, spawn jobs, serve. Tests call [`start`] with a
//! listener on `127.0.0.1:0` and read the port back.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;

use crate::agenda::snapshot::SnapshotCache;
use crate::chat::Chat;
use crate::clock::Clock;
use crate::config::Config;
use crate::db::{redact_url, Db};
use crate::outbound::Outbound;
use crate::webhooks::{Hub, Settings};

/// A running server.
pub struct Running {
    pub addr: SocketAddr,
    pub db: Db,
    pub clock: Clock,
    pub hub: Arc<Hub>,
    pub chat: Arc<Chat>,
    server: tokio::task::JoinHandle<()>,
    sweeper: tokio::task::JoinHandle<()>,
    retention: tokio::task::JoinHandle<()>,
    deliveries: tokio::task::JoinHandle<()>,
    chat_sweeper: tokio::task::JoinHandle<()>,
    chatwoot_jobs: tokio::task::JoinHandle<()>,
    notifier: tokio::task::JoinHandle<()>,
    /// How long `shutdown` waits for requests in flight.
    grace: Duration,
    stop: tokio::sync::oneshot::Sender<()>,
}

impl Running {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops serving and the background jobs.
    pub async fn stop(self) {
        self.server.abort();
        self.sweeper.abort();
        self.retention.abort();
        self.deliveries.abort();
        self.chat_sweeper.abort();
        self.chatwoot_jobs.abort();
        // Reminders not yet queued stay planned for the next pass (here or elsewhere).
        self.notifier.abort();
        self.db.close().await;
    }

    /// Stops accepting connections, lets requests in flight finish, then stops the jobs and
    /// closes the database. Nothing is lost by stopping harder: every change is committed
    /// before it is answered, and holds expire by the clock.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        // Web chat event streams end (their pages reconnect), so they hold nothing up.
        let _ = self.chat.closing.send(true);
        let _ = self.stop.send(());
        let deadline = tokio::time::Instant::now() + self.grace;
        let mut server = self.server;
        if tokio::time::timeout(self.grace, &mut server).await.is_err() {
            tracing::warn!(grace = ?self.grace, "requests still open after the grace period; stopping anyway");
            server.abort();
        }
        self.sweeper.abort();
        self.retention.abort();
        // Webhook sends in flight finish and are recorded within what is left of the grace.
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        self.hub.drain(self.deliveries, left).await;
        // Messages not yet answered stay in `chat_inbox` for the next sweep (here or in
        // another process).
        self.chat_sweeper.abort();
        self.chatwoot_jobs.abort();
        self.db.close().await;
        Ok(())
    }
}

pub async fn start(config: &Config, clock: Clock) -> anyhow::Result<Running> {
    let db = Db::connect(&config.database_url, config.db_pool_size).await?;
    let listener = TcpListener::bind(&config.listen).await?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, database = redact_url(&config.database_url), "turnero listening");
    let outbound = Outbound::new(
        &config.outbound_allow,
        Duration::from_millis(config.webhook_timeout_ms.max(100)),
        concat!("turnero/", env!("CARGO_PKG_VERSION")),
    )?;
    let hub = Hub::new(
        db.clone(),
        clock.clone(),
        Settings::from(config),
        outbound.clone(),
    );
    let deliveries = hub.spawn();
    // Availability inputs per calendar, shared by every slot search of this process.
    let snapshots = Arc::new(SnapshotCache::default());
    let senders = crate::channels::senders(&db, &outbound, &clock, config);
    let chat = Chat::new(
        db.clone(),
        clock.clone(),
        outbound,
        snapshots.clone(),
        senders,
    );
    let chat_sweeper = chat.spawn_sweeper(Duration::from_secs(1));
    // Links in reminder mails point here: the configured address, or the one listened on
    // when that is a real one (not 0.0.0.0, which no patient can open).
    let public = match &config.public_url {
        Some(url) => Some(url.clone()),
        None if addr.ip().is_unspecified() => {
            tracing::warn!(
                "public_url is not set: reminder mails go without confirm / cancel links"
            );
            None
        }
        None => Some(format!("http://{addr}")),
    };
    if let Some(public) = public {
        let _ = chat
            .public_url
            .set(public.trim_end_matches('/').to_string());
    }
    let notifier = chat.spawn_notifier(Duration::from_millis(250));
    let chatwoot_jobs = crate::channels::chatwoot::jobs::spawn(
        db.clone(),
        clock.clone(),
        chat.outbound.clone(),
        Duration::from_secs(1),
    );
    let app = crate::api::router(
        db.clone(),
        clock.clone(),
        hub.clone(),
        chat.clone(),
        snapshots,
        config.public_url.clone(),
        crate::api::visitor_limits::VisitorLimits::new(config.asisteclick_requests_per_minute),
    );
    let app = app.merge(crate::console::router(
        db.clone(),
        clock.clone(),
        chat.clone(),
        hub.clone(),
        config.public_url.as_deref(),
    ));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        // The peer's address reaches handlers that limit visitors by address.
        let app = app.into_make_service_with_connect_info::<SocketAddr>();
        let serving = axum::serve(listener, app).with_graceful_shutdown(async {
            let _ = stopped.await;
        });
        if let Err(e) = serving.await {
            tracing::error!(error = ?e, "server stopped");
        }
    });
    let retention =
        crate::jobs::retention::spawn(db.clone(), clock.clone(), config.retention.clone());
    let sweeper = crate::jobs::spawn_hold_sweeper(
        db.clone(),
        clock.clone(),
        Duration::from_secs(config.hold_sweep_seconds.max(1)),
    );
    Ok(Running {
        addr,
        db,
        clock,
        hub,
        chat,
        server,
        sweeper,
        retention,
        deliveries,
        chat_sweeper,
        chatwoot_jobs,
        notifier,
        grace: Duration::from_secs(config.shutdown_grace_seconds.max(1)),
        stop,
    })
}
