//! `turnero bench webhooks`: the hub delivering to a receiver on 127.0.0.1, beside a bare
//! reqwest loop posting the same bodies to the same receiver at the same concurrency, in one
//! run. Two phases of `n` events each: *drain* (the outbox already holds every delivery; how
//! fast does the hub empty it — its capacity, comparable with the bare loop) and *live*
//! (events written in transactions of 50 as fast as they go while the hub delivers; the
//! event-to-delivery latency from each commit to the receiver).

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use serde_json::json;

use super::{hammer, setup_with};
use crate::agenda::events;

#[derive(Default)]
pub(super) struct Arrivals {
    bare: AtomicUsize,
    /// First arrival of each `webhook-id`, per path (one endpoint per phase).
    hub: Mutex<HashMap<String, HashMap<String, Instant>>>,
    /// Arrivals of a `webhook-id` already seen (a delivery made twice).
    pub(super) repeats: AtomicUsize,
}

impl Arrivals {
    pub(super) fn count(&self, path: &str) -> usize {
        self.hub
            .lock()
            .map(|m| m.get(path).map_or(0, HashMap::len))
            .unwrap_or(0)
    }

    pub(super) fn take(&self, path: &str) -> HashMap<String, Instant> {
        self.hub
            .lock()
            .ok()
            .and_then(|mut m| m.remove(path))
            .unwrap_or_default()
    }
}

async fn receive(State(a): State<Arc<Arrivals>>, uri: Uri, headers: HeaderMap) -> StatusCode {
    if uri.path() == "/bare" {
        a.bare.fetch_add(1, Ordering::Relaxed);
    } else if let Some(id) = headers.get("webhook-id").and_then(|v| v.to_str().ok()) {
        let now = Instant::now();
        if let Ok(mut m) = a.hub.lock() {
            // The first arrival is kept: that is when the delivery was made.
            match m
                .entry(uri.path().to_string())
                .or_default()
                .entry(id.to_string())
            {
                Entry::Occupied(_) => {
                    a.repeats.fetch_add(1, Ordering::Relaxed);
                }
                Entry::Vacant(v) => {
                    v.insert(now);
                }
            }
        }
    }
    StatusCode::NO_CONTENT
}

/// The receiver on its own thread and runtime, as a separate service would be.
pub(super) fn start_receiver(arrivals: Arc<Arrivals>) -> anyhow::Result<String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let url = format!("http://{}", listener.local_addr()?);
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("receiver runtime");
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            let app = axum::Router::new().fallback(receive).with_state(arrivals);
            let _ = axum::serve(listener, app).await;
        });
    });
    Ok(url)
}

fn sample(i: usize) -> serde_json::Value {
    json!({
        "id": format!("cus_bench{i:08}"), "name": "Paciente de prueba",
        "phone": format!("+54911{i:08}"), "email": null, "birthdate": null,
        "document_id": null, "custom_fields": {"obra_social": "OSDE"}, "external_ids": {},
        "created_at": "2030-01-07T12:00:00Z", "updated_at": "2030-01-07T12:00:00Z"
    })
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Writes `n` events in transactions of 50; with `defer`, their deliveries are put off (in
/// the same transaction) so the hub does not see them until released. Answers each event id
/// with the moment its transaction committed.
pub(super) async fn write_events(
    db: &crate::db::Db,
    tenant: &turnero_core::ids::TenantId,
    first: usize,
    n: usize,
    defer: bool,
) -> anyhow::Result<Vec<(String, Instant)>> {
    let mut committed = Vec::with_capacity(n);
    let now = crate::clock::Clock::system().now_secs();
    for chunk in (first..first + n).collect::<Vec<_>>().chunks(50) {
        let mut tx = db.begin().await?;
        let mut ids = Vec::with_capacity(chunk.len());
        for &i in chunk {
            let id = events::record(
                &mut tx,
                tenant,
                "customer.created",
                &format!("cus_bench{i:08}"),
                &sample(i),
                now,
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
            ids.push(id.into_string());
        }
        if defer {
            sqlx::query(
                "UPDATE webhook_deliveries SET next_attempt_at = $1 \
                 WHERE state = 'pending' AND next_attempt_at < $1",
            )
            .bind(i64::MAX / 2)
            .execute(&mut *tx)
            .await?;
        }
        db.commit_events(tx).await?;
        let at = Instant::now();
        committed.extend(ids.into_iter().map(|id| (id, at)));
    }
    Ok(committed)
}

pub(super) async fn wait_for(arrivals: &Arrivals, path: &str, n: usize) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let got = arrivals.count(path);
        if got >= n {
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "{path}: only {got} of {n} delivered in 300 s"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn subscribe(s: &super::Setup, url: String) -> anyhow::Result<String> {
    let created = s
        .post(
            "/webhooks",
            json!({"url": url, "event_types": ["customer.created"]}),
        )
        .await?;
    Ok(created["id"].as_str().unwrap_or_default().to_string())
}

pub async fn run(
    n: usize,
    concurrency: usize,
    pause_ms: u64,
    database_url: Option<String>,
) -> anyhow::Result<()> {
    let arrivals = Arc::new(Arrivals::default());
    let receiver = start_receiver(arrivals.clone())?;

    // The bare loop: the same bodies, the same receiver, the same concurrency.
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()?;
    let next = Arc::new(AtomicUsize::new(0));
    let bare_url = format!("{receiver}/bare");
    let bare = hammer(concurrency, move || {
        let i = next.fetch_add(1, Ordering::Relaxed);
        (i < n).then(|| {
            let body = json!({"type": "customer.created", "timestamp": "2030-01-07T12:00:00Z", "data": sample(i)}).to_string();
            let req = client
                .post(&bare_url)
                .header("content-type", "application/json")
                .body(body)
                .send();
            async move { req.await.is_ok_and(|r| r.status().is_success()) }
        })
    })
    .await;
    let bare_rate = bare.rate();

    let s = setup_with(database_url, |c| {
        c.outbound_allow = "127.0.0.0/8".into();
        c.webhook_endpoint_concurrency = concurrency as u32;
    })
    .await?;

    // Drain: the outbox already holds n due deliveries; how fast does the hub empty it?
    let drain_hook = subscribe(&s, format!("{receiver}/drain")).await?;
    let queued = Instant::now();
    write_events(&s.db, &s.tenant, 0, n, true).await?;
    let queued = queued.elapsed();
    eprintln!("draining {n} queued deliveries…");
    let released = Instant::now();
    sqlx::query("UPDATE webhook_deliveries SET next_attempt_at = 0 WHERE state = 'pending'")
        .execute(&s.db.write)
        .await?;
    s.db.committed.notify_one();
    wait_for(&arrivals, "/drain", n).await?;
    let drained = arrivals.take("/drain");
    let last = drained.values().max().copied().unwrap_or(released);
    let drain_rate = n as f64 / (last - released).as_secs_f64();
    sqlx::query("UPDATE webhooks SET enabled = 0 WHERE id = $1")
        .bind(&drain_hook)
        .execute(&s.db.write)
        .await?;

    tokio::time::sleep(Duration::from_millis(pause_ms)).await;
    eprintln!("live: writing {n} events while delivering…");
    // Live: events written as fast as the outbox takes them while the hub delivers.
    subscribe(&s, format!("{receiver}/live")).await?;
    let started = Instant::now();
    let committed = write_events(&s.db, &s.tenant, n, n, false).await?;
    let written = started.elapsed();
    wait_for(&arrivals, "/live", n).await?;
    let live = arrivals.take("/live");
    let last = live.values().max().copied().unwrap_or(started);
    let live_rate = n as f64 / (last - started).as_secs_f64();
    let mut latencies: Vec<Duration> = committed
        .iter()
        .filter_map(|(id, at)| live.get(id).map(|t| t.saturating_duration_since(*at)))
        .collect();
    // Where in the run the tail came from: a stall at the start and a steady tail read the
    // same in one p99.
    let quarters: Vec<String> = committed
        .chunks(committed.len().div_ceil(4).max(1))
        .map(|part| {
            let mut l: Vec<Duration> = part
                .iter()
                .filter_map(|(id, at)| live.get(id).map(|t| t.saturating_duration_since(*at)))
                .collect();
            l.sort_unstable();
            let p99 = l
                .get((l.len().saturating_sub(1) * 99) / 100)
                .copied()
                .unwrap_or_default();
            format!("{:.1}", ms(p99))
        })
        .collect();
    latencies.sort_unstable();
    let pct = |p: f64| ms(latencies[((latencies.len() as f64 - 1.0) * p).round() as usize]);

    println!("events {n} per phase, concurrency {concurrency}");
    println!("bare loop      {bare_rate:>8.0} posts/s");
    println!(
        "hub, drain     {drain_rate:>8.0} deliveries/s  ({n} queued in {:.2}s, then released)",
        queued.as_secs_f64()
    );
    println!("ratio drain/bare {:.2}", drain_rate / bare_rate);
    println!(
        "hub, live      {live_rate:>8.0} deliveries/s  event-to-delivery p50={:.1}ms p99={:.1}ms \
         (outbox written in {:.2}s, {:.0} events/s)",
        pct(0.50),
        pct(0.99),
        written.as_secs_f64(),
        n as f64 / written.as_secs_f64()
    );
    println!(
        "live p99 by quarter of the run: {} ms",
        quarters.join(" / ")
    );
    Ok(())
}
