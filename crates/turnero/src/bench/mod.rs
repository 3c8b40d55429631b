//! `turnero bench …`: load benchmarks against a server started in this process on
//! 127.0.0.1:0. Bounded by time or count, loopback only. Results go to BENCHMARKS.md.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Subcommand;
use serde_json::{json, Value};

use crate::agenda::tenants::{self, NewTenant};
use crate::clock::Clock;
use crate::config::Config;

mod asisteclick;
mod chat;
mod chatwoot;
mod console;
mod cpu;
mod processes;
mod reminders;
mod telegram;
mod webhooks;

#[derive(Subcommand)]
pub enum BenchCommand {
    /// Request rate of /slots against /healthz on the same server, in one run.
    Http {
        /// Seconds per endpoint.
        #[arg(long, default_value_t = 5)]
        seconds: u64,
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
        /// Default: a fresh SQLite file in the temp directory.
        #[arg(long)]
        database_url: Option<String>,
    },
    /// Webhook deliveries per second and event-to-delivery latency, beside a bare HTTP
    /// client loop posting the same bodies to the same local receiver.
    Webhooks {
        #[arg(long, default_value_t = 20_000)]
        events: usize,
        /// Sends in flight to the endpoint (the hub's per-endpoint limit and the bare
        /// loop's concurrency).
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
        /// A pause between the drain and the live phase, to tell the live phase's own start
        /// from the drain's leftover work.
        #[arg(long, default_value_t = 0)]
        pause_ms: u64,
        #[arg(long)]
        database_url: Option<String>,
    },
    /// AsisteClick's availability call (a week of native slots vetted) under load.
    Asisteclick {
        #[arg(long, default_value_t = 5)]
        seconds: u64,
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
        #[arg(long)]
        database_url: Option<String>,
    },
    /// The booking bot's reply latency: signed WhatsApp webhooks (or Telegram updates) at a
    /// fixed rate across many conversations, timed until each reply reaches a local stand-in
    /// of the vendor's API.
    Chat {
        /// Messages per second.
        #[arg(long, default_value_t = 200)]
        rate: u32,
        #[arg(long, default_value_t = 20)]
        seconds: u64,
        #[arg(long, default_value_t = 1000)]
        conversations: usize,
        /// `whatsapp`, `telegram` or `chatwoot`.
        #[arg(long, default_value = "whatsapp")]
        channel: String,
        #[arg(long)]
        database_url: Option<String>,
    },
    /// A Chatwoot sync of N customers against a stand-in answering each call after
    /// `--delay-ms`, beside the stand-in's own answering time.
    ChatwootSync {
        #[arg(long, default_value_t = 10_000)]
        customers: usize,
        #[arg(long, default_value_t = 1)]
        delay_ms: u64,
        #[arg(long)]
        database_url: Option<String>,
    },
    /// Saving a reminder rule over N existing bookings, then a "send now" run of N WhatsApp
    /// confirmations at a set per-number rate to a local Graph API stand-in.
    Reminders {
        #[arg(long, default_value_t = 10_000)]
        bookings: usize,
        /// Messages per second set for the number.
        #[arg(long, default_value_t = 1000)]
        rate: u32,
        #[arg(long)]
        database_url: Option<String>,
    },
    /// N `turnero serve` processes on one PostgreSQL, driven over HTTP: bookings/s (every
    /// slot asked for twice, through two processes) and deliveries/s, each checked for
    /// exactly-once, with the CPU time per booking and delivery of the servers and of
    /// PostgreSQL. Fails if anything happened twice or not at all.
    Processes(processes::Plan),
    /// The staff console's week and day views of many calendars, signed in.
    Console {
        #[arg(long, default_value_t = 5)]
        seconds: u64,
        #[arg(long, default_value_t = 1)]
        concurrency: usize,
        #[arg(long, default_value_t = 16)]
        calendars: usize,
        #[arg(long, default_value_t = 800)]
        bookings: usize,
        #[arg(long)]
        database_url: Option<String>,
    },
    /// Bookings created per second by concurrent clients.
    Bookings {
        #[arg(long, default_value_t = 16)]
        clients: usize,
        #[arg(long, default_value_t = 4000)]
        count: usize,
        /// Calendars the bookings are spread over (a clinic has several professionals).
        #[arg(long, default_value_t = 16)]
        calendars: usize,
        #[arg(long)]
        database_url: Option<String>,
    },
}

pub async fn run(cmd: BenchCommand) -> anyhow::Result<()> {
    match cmd {
        BenchCommand::Http {
            seconds,
            concurrency,
            database_url,
        } => http(seconds, concurrency, database_url).await,
        BenchCommand::Bookings {
            clients,
            count,
            calendars,
            database_url,
        } => bookings(clients, count, calendars, database_url).await,
        BenchCommand::Processes(plan) => processes::run(plan).await,
        BenchCommand::Console {
            seconds,
            concurrency,
            calendars,
            bookings,
            database_url,
        } => console::run(seconds, concurrency, calendars, bookings, database_url).await,
        BenchCommand::Webhooks {
            events,
            concurrency,
            pause_ms,
            database_url,
        } => webhooks::run(events, concurrency, pause_ms, database_url).await,
        BenchCommand::Asisteclick {
            seconds,
            concurrency,
            database_url,
        } => asisteclick::run(seconds, concurrency, database_url).await,
        BenchCommand::Chat {
            rate,
            seconds,
            conversations,
            channel,
            database_url,
        } => chat::run(rate, seconds, conversations, &channel, database_url).await,
        BenchCommand::ChatwootSync {
            customers,
            delay_ms,
            database_url,
        } => chatwoot::sync(customers, delay_ms, database_url).await,
        BenchCommand::Reminders {
            bookings,
            rate,
            database_url,
        } => reminders::run(bookings, rate, database_url).await,
    }
}

pub(super) struct Setup {
    base: String,
    key: String,
    client: reqwest::Client,
    /// The server's own database handle and the bench tenant, for writing directly.
    db: crate::db::Db,
    tenant: turnero_core::ids::TenantId,
    _server: ServerThread,
}

/// The server under test, on its own runtime and threads, as it would be in its own process:
/// the load generator's tasks never queue in front of the server's.
struct ServerThread {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for ServerThread {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn setup(database_url: Option<String>) -> anyhow::Result<Setup> {
    setup_with(database_url, |_| {}).await
}

async fn setup_with(
    database_url: Option<String>,
    adjust: impl FnOnce(&mut Config),
) -> anyhow::Result<Setup> {
    let url = database_url.unwrap_or_else(|| {
        let file = std::env::temp_dir().join(format!("turnero-bench-{}.db", ulid::Ulid::new()));
        format!("sqlite://{}", file.display())
    });
    eprintln!("database: {}", crate::db::redact_url(&url));
    let mut config = Config {
        listen: "127.0.0.1:0".into(),
        database_url: url,
        ..Config::default()
    };
    adjust(&mut config);
    type Ready = (String, String, crate::db::Db, String);
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel::<anyhow::Result<Ready>>();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        let runtime = match tokio::runtime::Runtime::new() {
            Ok(r) => r,
            Err(e) => {
                let _ = ready_tx.send(Err(e.into()));
                return;
            }
        };
        runtime.block_on(async move {
            let started = async {
                let server = crate::app::start(&config, Clock::system()).await?;
                let new = NewTenant {
                    name: "bench".into(),
                    timezone: "America/Argentina/Buenos_Aires".into(),
                    phone_region: "AR".into(),
                    locale: "es".into(),
                };
                let (tenant, key) = tenants::create(&server.db, new, Clock::system().now_secs())
                    .await
                    .map_err(|e| anyhow::anyhow!("{e:?}"))?;
                anyhow::Ok((server, key, tenant.id))
            };
            match started.await {
                Ok((server, key, tenant)) => {
                    let _ = ready_tx.send(Ok((server.url(), key, server.db.clone(), tenant)));
                    let _ = stop_rx.await;
                    server.stop().await;
                }
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                }
            }
        });
    });
    let (base, key, db, tenant) = ready_rx.await??;
    Ok(Setup {
        base,
        key,
        db,
        tenant: turnero_core::ids::TenantId::from_trusted(tenant),
        client: reqwest::Client::builder()
            .pool_max_idle_per_host(256)
            .build()?,
        _server: ServerThread {
            stop: Some(stop_tx),
            thread: Some(thread),
        },
    })
}

/// POSTs `body` to the API at `base` and answers the JSON, or the status and body as an error.
async fn post_json(
    client: &reqwest::Client,
    base: &str,
    key: &str,
    path: &str,
    body: Value,
) -> anyhow::Result<Value> {
    let r = client
        .post(format!("{base}/api/v1{path}"))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await?;
    anyhow::ensure!(
        r.status().is_success(),
        "{path}: {} {}",
        r.status(),
        r.text().await?
    );
    Ok(r.json().await?)
}

impl Setup {
    async fn post(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        post_json(&self.client, &self.base, &self.key, path, body).await
    }

    /// `n` customers with phones, through the API (as a clinic's import would make them).
    async fn customers(&self, n: usize) -> anyhow::Result<()> {
        let ids: Vec<usize> = (0..n).collect();
        for chunk in ids.chunks(32) {
            let made = futures_util::future::join_all(chunk.iter().map(|i| {
                self.post(
                    "/customers",
                    json!({"name": format!("Paciente {i}"), "phone": format!("+54911{:08}", 30_000_000 + i)}),
                )
            }))
            .await;
            for m in made {
                m?;
            }
        }
        Ok(())
    }

    /// A calendar open weekday mornings and afternoons in Buenos Aires with a 30-minute
    /// service, booked late on every morning of next week: (calendar, service, that Monday
    /// 00:00 UTC, bookings made; those past the morning's closing are refused).
    async fn busy_week(&self) -> anyhow::Result<(String, String, i64, usize)> {
        let hours = json!(["mon", "tue", "wed", "thu", "fri"]
            .iter()
            .flat_map(|d| [
                json!({"weekday": d, "start": "08:00", "end": "12:30"}),
                json!({"weekday": d, "start": "14:00", "end": "20:00"})
            ])
            .collect::<Vec<_>>());
        let (cal, svc) = self.calendar_with_service(hours, 30).await?;
        let monday = next_monday_utc();
        let mut booked = 0;
        for day in 0..5 {
            for slot in 0..6 {
                let start = monday + day * 86_400 + (11 + 3) * 3600 + slot * 1800;
                let body = json!({"calendar_id": cal, "service_id": svc, "start": turnero_core::time::fmt_ts(start),
                    "customer": {"name": "Bench", "phone": format!("+54911400{:05}", day * 10 + slot)}});
                if self.post("/bookings", body).await.is_ok() {
                    booked += 1;
                }
            }
        }
        Ok((cal, svc, monday, booked))
    }

    async fn calendar_with_service(
        &self,
        hours: Value,
        duration: u32,
    ) -> anyhow::Result<(String, String)> {
        calendar_with_service(&self.client, &self.base, &self.key, &hours, duration).await
    }
}

/// A calendar in Buenos Aires open `hours`, with a `duration`-minute service on it, made
/// through the API at `base`: (calendar id, service id).
async fn calendar_with_service(
    client: &reqwest::Client,
    base: &str,
    key: &str,
    hours: &Value,
    duration: u32,
) -> anyhow::Result<(String, String)> {
    let cal = json!({"name": "bench", "timezone": "America/Argentina/Buenos_Aires",
        "weekly_hours": hours, "policy": {"max_days_ahead": 3650}});
    let cal = post_json(client, base, key, "/calendars", cal).await?;
    let id = cal["id"].as_str().unwrap_or_default().to_string();
    let svc = json!({"name": "bench", "duration_minutes": duration, "calendar_ids": [id]});
    let svc = post_json(client, base, key, "/services", svc).await?;
    Ok((id, svc["id"].as_str().unwrap_or_default().to_string()))
}

/// Weekly hours open all day, every day.
fn all_day_every_day() -> Value {
    json!(["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        .iter()
        .map(|d| json!({"weekday": d, "start": "00:00", "end": "24:00"}))
        .collect::<Vec<_>>())
}

/// Latency percentiles and rate of one measured run.
struct Report {
    ok: usize,
    failed: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

impl Report {
    fn empty() -> Self {
        Report {
            ok: 0,
            failed: 0,
            elapsed: Duration::ZERO,
            latencies: Vec::new(),
        }
    }

    fn add(&mut self, other: Report) {
        self.ok += other.ok;
        self.failed += other.failed;
        self.elapsed += other.elapsed;
        self.latencies.extend(other.latencies);
    }

    fn rate(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64()
    }

    fn pct(&mut self, p: f64) -> f64 {
        self.latencies.sort_unstable();
        let i = ((self.latencies.len() as f64 - 1.0) * p).round() as usize;
        self.latencies
            .get(i)
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    }

    /// The p99 of each quarter of the latencies as recorded (before `pct` sorts them): a
    /// stall at the start and a steady tail read the same in one p99.
    fn quarter_p99s(&self) -> String {
        self.latencies
            .chunks(self.latencies.len().div_ceil(4).max(1))
            .map(|part| {
                let mut part = part.to_vec();
                part.sort_unstable();
                let p99 = part[(part.len() - 1) * 99 / 100];
                format!("{:.1}", p99.as_secs_f64() * 1000.0)
            })
            .collect::<Vec<_>>()
            .join(" / ")
    }

    fn print(&mut self, name: &str) {
        let (p50, p99) = (self.pct(0.50), self.pct(0.99));
        println!(
            "{name:<10} {:>9.0} req/s  ok={:<7} failed={:<5} p50={p50:.2}ms p99={p99:.2}ms",
            self.rate(),
            self.ok,
            self.failed
        );
    }
}

/// Runs `concurrency` loops of `request` until it answers `None`; `Some(ok)` is one request
/// done, its latency measured.
async fn hammer<F, Fut>(concurrency: usize, request: F) -> Report
where
    F: Fn() -> Option<Fut> + Send + Sync + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let request = Arc::new(request);
    let started = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let request = request.clone();
            tokio::spawn(async move {
                let mut done = Report::empty();
                while let Some(next) = request() {
                    let t = Instant::now();
                    if next.await {
                        done.ok += 1
                    } else {
                        done.failed += 1
                    }
                    done.latencies.push(t.elapsed());
                }
                done
            })
        })
        .collect();
    let mut report = Report::empty();
    for t in tasks {
        if let Ok(done) = t.await {
            report.add(done);
        }
    }
    report.elapsed = started.elapsed();
    report
}

/// A `hammer` request source that stops at `deadline`.
fn until<F, Fut>(deadline: Instant, request: F) -> impl Fn() -> Option<Fut> + Send + Sync + 'static
where
    F: Fn() -> Fut + Send + Sync + 'static,
{
    move || (Instant::now() < deadline).then(&request)
}

async fn http(
    seconds: u64,
    concurrency: usize,
    database_url: Option<String>,
) -> anyhow::Result<()> {
    let s = setup(database_url).await?;
    let (cal, svc, monday, booked) = s.busy_week().await?;
    let slots_url = format!(
        "{}/api/v1/calendars/{cal}/slots?service_id={svc}&start={}&end={}",
        s.base,
        turnero_core::time::fmt_ts(monday),
        turnero_core::time::fmt_ts(monday + 7 * 86_400)
    );
    let probe: Value = s
        .client
        .get(&slots_url)
        .bearer_auth(&s.key)
        .send()
        .await?
        .json()
        .await?;
    println!("slots query: one week, {} slots returned, {booked} bookings in the week; {concurrency} concurrent clients, {seconds}s each, alternating 0.5 s rounds", probe["slots"].as_array().map_or(0, Vec::len));
    let health_url = format!("{}/healthz", s.base);
    // Alternate short rounds so drift in machine load hits both endpoints alike.
    let rounds = (seconds * 2).max(2);
    let mut health = Report::empty();
    let mut slots = Report::empty();
    for _ in 0..rounds {
        let (client, url) = (s.client.clone(), health_url.clone());
        health.add(
            hammer(
                concurrency,
                until(Instant::now() + Duration::from_millis(500), move || {
                    let (client, url) = (client.clone(), url.clone());
                    async move {
                        client
                            .get(&url)
                            .send()
                            .await
                            .is_ok_and(|r| r.status().is_success())
                    }
                }),
            )
            .await,
        );
        let (client, url, key) = (s.client.clone(), slots_url.clone(), s.key.clone());
        slots.add(
            hammer(
                concurrency,
                until(Instant::now() + Duration::from_millis(500), move || {
                    let (client, url, key) = (client.clone(), url.clone(), key.clone());
                    async move {
                        match client.get(&url).bearer_auth(&key).send().await {
                            Ok(r) if r.status().is_success() => r.bytes().await.is_ok(),
                            _ => false,
                        }
                    }
                }),
            )
            .await,
        );
    }
    health.print("/healthz");
    slots.print("/slots");
    println!("ratio slots/healthz = {:.2}", slots.rate() / health.rate());
    Ok(())
}

async fn bookings(
    clients: usize,
    count: usize,
    calendars: usize,
    database_url: Option<String>,
) -> anyhow::Result<()> {
    let s = setup(database_url).await?;
    let hours = all_day_every_day();
    let mut cals = Vec::new();
    for _ in 0..calendars.max(1) {
        cals.push(s.calendar_with_service(hours.clone(), 5).await?);
    }
    let cals = Arc::new(cals);
    let first = next_monday_utc();
    let next = AtomicUsize::new(0);
    let (client, base, key, n_cals) = (s.client.clone(), s.base.clone(), s.key.clone(), cals.len());
    let report = hammer(clients, move || {
        let i = next.fetch_add(1, Ordering::Relaxed);
        if i >= count {
            return None;
        }
        // Back-to-back 5-minute slots, round-robin over the calendars, a new customer each.
        let (cal, svc) = &cals[i % n_cals];
        let start = first + (i / n_cals) as i64 * 300;
        let body = json!({"calendar_id": cal, "service_id": svc, "start": turnero_core::time::fmt_ts(start),
            "customer": {"name": "Bench", "phone": format!("+5491150{i:06}")}});
        let request = client
            .post(format!("{base}/api/v1/bookings"))
            .bearer_auth(&key)
            .json(&body);
        Some(async move {
            request
                .send()
                .await
                .is_ok_and(|r| r.status() == reqwest::StatusCode::CREATED)
        })
    })
    .await;
    println!(
        "{count} bookings, {clients} clients, {} calendars",
        calendars.max(1)
    );
    let mut report = report;
    report.print("bookings");
    Ok(())
}

/// Unix seconds of the next Monday 00:00 UTC (at least one day ahead).
pub(super) fn next_monday_utc() -> i64 {
    let today = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date();
    let mut d = today.tomorrow().unwrap_or(today);
    while d.weekday() != jiff::civil::Weekday::Monday {
        d = d.tomorrow().unwrap_or(d);
    }
    d.to_zoned(jiff::tz::TimeZone::UTC)
        .map(|z| z.timestamp().as_second())
        .unwrap_or(0)
}
