//! `turnero bench processes`: N `turnero serve` processes on one PostgreSQL, driven from
//! outside over HTTP as a load balancer would spread a clinic chain's traffic, for each N
//! asked for in one run. Two phases per N, each checked for exactly-once:
//! - *bookings*: every slot is asked for twice at once, through two different processes;
//!   exactly one of the two may win, and every `booking.created` is delivered once;
//! - *drain*: the outbox holds `events` due deliveries; how fast do N processes empty it,
//!   each delivery made once.
//!
//! Beside each rate: the CPU time the servers and PostgreSQL spent per booking and per
//! delivery, read from /proc (PostgreSQL on this machine), for the capacity model in
//! BENCHMARKS.md.

use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};

use super::cpu::Cpu;
use super::hammer;
use super::webhooks::{start_receiver, wait_for, write_events, Arrivals};
use crate::agenda::tenants::{self, NewTenant};
use crate::clock::Clock;
use crate::db::Db;

#[derive(clap::Args)]
pub struct Plan {
    /// How many processes, one run each: `1,2,3`.
    #[arg(long, value_delimiter = ',', default_value = "1,2,3")]
    processes: Vec<usize>,
    /// Slots booked (each asked for twice).
    #[arg(long, default_value_t = 2000)]
    bookings: usize,
    #[arg(long, default_value_t = 16)]
    clients: usize,
    #[arg(long, default_value_t = 16)]
    calendars: usize,
    /// Deliveries queued for the drain phase.
    #[arg(long, default_value_t = 10_000)]
    events: usize,
    /// A PostgreSQL database (`postgres://…`).
    #[arg(long)]
    database_url: String,
}

pub async fn run(plan: Plan) -> anyhow::Result<()> {
    anyhow::ensure!(
        plan.database_url.starts_with("postgres"),
        "several processes share one PostgreSQL; a SQLite file belongs to one process"
    );
    anyhow::ensure!(
        plan.processes.iter().all(|&n| n >= 1),
        "--processes: each at least 1"
    );
    let db = Db::connect(&plan.database_url, 4).await?;
    let arrivals = Arc::new(Arrivals::default());
    let receiver = start_receiver(arrivals.clone())?;
    println!(
        "{} slots each asked for twice through two processes, {} clients, {} calendars; drain of {} queued deliveries",
        plan.bookings, plan.clients, plan.calendars, plan.events
    );
    println!("cpu: milliseconds of CPU time per booking or delivery (servers / PostgreSQL)");
    let mut failures = Vec::new();
    for &n in &plan.processes {
        match one_run(&plan, n, &db, &arrivals, &receiver).await {
            Ok(problems) => failures.extend(problems.into_iter().map(|p| format!("N={n}: {p}"))),
            Err(e) => failures.push(format!("N={n}: {e:#}")),
        }
    }
    db.close().await;
    anyhow::ensure!(
        failures.is_empty(),
        "not exactly once:\n{}",
        failures.join("\n")
    );
    Ok(())
}

/// One N: fresh tenant, fresh processes. Answers what broke exactly-once, if anything.
async fn one_run(
    plan: &Plan,
    n: usize,
    db: &Db,
    arrivals: &Arrivals,
    receiver: &str,
) -> anyhow::Result<Vec<String>> {
    let new = NewTenant {
        name: format!("bench {n} processes"),
        timezone: "America/Argentina/Buenos_Aires".into(),
        phone_region: "AR".into(),
        locale: "es".into(),
    };
    let (tenant, key) = tenants::create(db, new, Clock::system().now_secs())
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let tenant_id = turnero_core::ids::TenantId::from_trusted(tenant.id.clone());
    let servers = Servers::start(n, &plan.database_url).await?;
    let api = Api {
        client: reqwest::Client::builder()
            .pool_max_idle_per_host(256)
            .build()?,
        key,
    };
    let hours = super::all_day_every_day();
    let mut cals = Vec::new();
    for _ in 0..plan.calendars.max(1) {
        let base = &servers.urls[0];
        cals.push(super::calendar_with_service(&api.client, base, &api.key, &hours, 5).await?);
    }
    let booked_path = format!("/processes{n}/booked");
    api.subscribe(
        &servers.urls[0],
        format!("{receiver}{booked_path}"),
        "booking.created",
    )
    .await?;
    let mut problems = Vec::new();

    // Bookings: attempts 2s and 2s+1 ask for slot s through processes that differ when N > 1,
    // and are taken by the clients one after the other, so they race.
    let cpu = Cpu::read(&servers.pids());
    let outcome = Arc::new(Outcome::default());
    let attempts = plan.bookings * 2;
    let next = AtomicUsize::new(0);
    let (client, key, urls, cals) = (
        api.client.clone(),
        api.key.clone(),
        servers.urls.clone(),
        Arc::new(cals),
    );
    let first_monday = super::next_monday_utc();
    let counted = outcome.clone();
    let report = hammer(plan.clients, move || {
        let j = next.fetch_add(1, Ordering::Relaxed);
        if j >= attempts {
            return None;
        }
        let slot = j / 2;
        let (cal, svc) = &cals[slot % cals.len()];
        let start = first_monday + (slot / cals.len()) as i64 * 300;
        let body = json!({"calendar_id": cal, "service_id": svc, "start": turnero_core::time::fmt_ts(start),
            "customer": {"name": "Bench", "phone": format!("+5491160{j:06}")}});
        let request = client
            .post(format!("{}/api/v1/bookings", urls[j % urls.len()]))
            .bearer_auth(&key)
            .json(&body);
        let counted = counted.clone();
        Some(async move {
            let status = request.send().await.map(|r| r.status().as_u16());
            counted.count(status.ok())
        })
    })
    .await;
    let booking_cpu = cpu.since(&servers.pids());
    let created = outcome.created.load(Ordering::SeqCst);
    let (refused, other) = (
        outcome.conflict.load(Ordering::SeqCst),
        outcome.other.load(Ordering::SeqCst),
    );
    let rate = created as f64 / report.elapsed.as_secs_f64();
    println!(
        "N={n} bookings  {rate:>7.0} bookings/s  ({created} made, {refused} refused as taken, {other} other answers; {:.0} attempts/s) cpu {}",
        attempts as f64 / report.elapsed.as_secs_f64(),
        booking_cpu.per(created)
    );
    if created != plan.bookings || refused != plan.bookings || other != 0 {
        problems.push(format!("{created} bookings made and {refused} refused for {} slots asked for twice ({other} other answers)", plan.bookings));
    }
    let overlapping = overlapping_bookings(db, &tenant.id).await?;
    if overlapping != 0 {
        problems.push(format!("{overlapping} pairs of bookings overlap"));
    }
    wait_for(arrivals, &booked_path, created).await?;

    // Drain: the outbox already holds `events` due deliveries.
    let drain_path = format!("/processes{n}/drain");
    api.subscribe(
        &servers.urls[0],
        format!("{receiver}{drain_path}"),
        "customer.created",
    )
    .await?;
    write_events(db, &tenant_id, 0, plan.events, true).await?;
    let cpu = Cpu::read(&servers.pids());
    sqlx::query("UPDATE webhook_deliveries SET next_attempt_at = 0 WHERE state = 'pending' AND tenant_id = $1")
        .bind(&tenant.id)
        .execute(&db.write)
        .await?;
    wait_for(arrivals, &drain_path, plan.events).await?;
    // Idle processes look every second: the rate runs from the first arrival, so the
    // moment a process happens to look does not count against N.
    let drain_cpu = cpu.since(&servers.pids());
    let drained = arrivals.take(&drain_path);
    let (first, last) = (drained.values().min(), drained.values().max());
    if let (Some(first), Some(last)) = (first, last) {
        let rate = (drained.len().saturating_sub(1)) as f64 / (*last - *first).as_secs_f64();
        println!(
            "N={n} drain     {rate:>7.0} deliveries/s  cpu {}",
            drain_cpu.per(plan.events)
        );
    }
    // Late repeats would arrive after the last first arrival; give them a moment.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let booked = arrivals.take(&booked_path).len();
    if booked != created {
        problems.push(format!(
            "{booked} booking.created deliveries for {created} bookings"
        ));
    }
    let repeats = arrivals.repeats.swap(0, Ordering::SeqCst);
    if repeats != 0 {
        problems.push(format!("{repeats} deliveries made more than once"));
    }
    servers.stop().await;
    Ok(problems)
}

async fn overlapping_bookings(db: &Db, tenant: &str) -> anyhow::Result<i64> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM bookings a JOIN bookings b \
           ON a.calendar_id = b.calendar_id AND a.id < b.id \
          AND a.block_start < b.block_end AND b.block_start < a.block_end \
         WHERE a.tenant_id = $1 AND b.tenant_id = $1 \
           AND a.status IN ('held', 'pending', 'confirmed') \
           AND b.status IN ('held', 'pending', 'confirmed')",
    )
    .bind(tenant)
    .fetch_one(&db.write)
    .await?;
    Ok(n)
}

#[derive(Default)]
struct Outcome {
    created: AtomicUsize,
    conflict: AtomicUsize,
    other: AtomicUsize,
}

impl Outcome {
    /// Counts an answer; `true` is a booking made.
    fn count(&self, status: Option<u16>) -> bool {
        let which = match status {
            Some(201) => &self.created,
            Some(409) => &self.conflict,
            _ => &self.other,
        };
        which.fetch_add(1, Ordering::Relaxed);
        status == Some(201)
    }
}

struct Api {
    client: reqwest::Client,
    key: String,
}

impl Api {
    async fn post(&self, base: &str, path: &str, body: Value) -> anyhow::Result<Value> {
        super::post_json(&self.client, base, &self.key, path, body).await
    }

    /// Subscribes `url` to one event type.
    async fn subscribe(&self, base: &str, url: String, event_type: &str) -> anyhow::Result<()> {
        let body = json!({"url": url, "event_types": [event_type]});
        self.post(base, "/webhooks", body).await.map(drop)
    }
}

/// `turnero serve` processes, this same executable, each on its own port.
struct Servers {
    children: Vec<tokio::process::Child>,
    urls: Vec<String>,
}

impl Servers {
    async fn start(n: usize, database_url: &str) -> anyhow::Result<Self> {
        let exe = std::env::current_exe()?;
        let mut servers = Servers {
            children: Vec::new(),
            urls: Vec::new(),
        };
        for _ in 0..n {
            let mut child = tokio::process::Command::new(&exe)
                .args(["serve", "--listen", "127.0.0.1:0"])
                .env("DATABASE_URL", database_url)
                .env("TURNERO_OUTBOUND_ALLOW", "127.0.0.0/8")
                .env("TURNERO_LOG", "warn")
                .stdout(Stdio::piped())
                .kill_on_drop(true)
                .spawn()?;
            let stdout = child
                .stdout
                .take()
                .ok_or_else(|| anyhow::anyhow!("no stdout"))?;
            servers.children.push(child);
            let mut lines = BufReader::new(stdout).lines();
            let url = tokio::time::timeout(Duration::from_secs(60), async {
                while let Some(line) = lines.next_line().await? {
                    if let Some(url) = line.strip_prefix("turnero listening on ") {
                        return anyhow::Ok(url.to_string());
                    }
                }
                anyhow::bail!("the server ended before listening")
            })
            .await??;
            // Keep reading (and dropping) its stdout so the pipe never fills.
            tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
            servers.urls.push(url);
        }
        Ok(servers)
    }

    fn pids(&self) -> Vec<u32> {
        self.children.iter().filter_map(|c| c.id()).collect()
    }

    async fn stop(mut self) {
        for child in &mut self.children {
            let _ = child.kill().await;
        }
    }
}
