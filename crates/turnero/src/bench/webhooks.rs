//! `turnero bench webhooks`: events written to the outbox as fast as transactions of 50 go,
//! delivered by the hub to a receiver on 127.0.0.1, against a bare reqwest loop posting the
//! same bodies to the same receiver at the same concurrency, in one run.

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
struct Arrivals {
    bare: AtomicUsize,
    /// First arrival of each `webhook-id`.
    hub: Mutex<HashMap<String, Instant>>,
}

async fn receive(State(a): State<Arc<Arrivals>>, uri: Uri, headers: HeaderMap) -> StatusCode {
    if uri.path() == "/bare" {
        a.bare.fetch_add(1, Ordering::Relaxed);
    } else if let Some(id) = headers.get("webhook-id").and_then(|v| v.to_str().ok()) {
        let now = Instant::now();
        if let Ok(mut m) = a.hub.lock() {
            m.entry(id.to_string()).or_insert(now);
        }
    }
    StatusCode::NO_CONTENT
}

/// The receiver on its own thread and runtime, as a separate service would be.
fn start_receiver(arrivals: Arc<Arrivals>) -> anyhow::Result<String> {
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

pub async fn run(n: usize, concurrency: usize, database_url: Option<String>) -> anyhow::Result<()> {
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
    s.post(
        "/webhooks",
        json!({"url": format!("{receiver}/hook"), "event_types": ["customer.created"]}),
    )
    .await?;

    let started = Instant::now();
    let mut committed: Vec<(String, Instant)> = Vec::with_capacity(n);
    let now = crate::clock::Clock::system().now_secs();
    for chunk in (0..n).collect::<Vec<_>>().chunks(50) {
        let mut tx = s.db.begin().await?;
        let mut ids = Vec::with_capacity(chunk.len());
        for &i in chunk {
            let id = events::record(
                &mut tx,
                &s.tenant,
                "customer.created",
                &format!("cus_bench{i:08}"),
                &sample(i),
                now,
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
            ids.push(id.into_string());
        }
        s.db.commit_events(tx).await?;
        let at = Instant::now();
        committed.extend(ids.into_iter().map(|id| (id, at)));
    }
    let written = started.elapsed();
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let got = arrivals.hub.lock().map(|m| m.len()).unwrap_or(0);
        if got >= n {
            break;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "only {got} of {n} delivered in 300 s"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let hub = arrivals
        .hub
        .lock()
        .map_err(|_| anyhow::anyhow!("poisoned"))?
        .clone();
    let last = hub.values().max().copied().unwrap_or(started);
    let hub_rate = n as f64 / (last - started).as_secs_f64();
    let mut latencies: Vec<Duration> = committed
        .iter()
        .filter_map(|(id, at)| {
            hub.get(id)
                .map(|arrived| arrived.saturating_duration_since(*at))
        })
        .collect();
    latencies.sort_unstable();
    let pct = |p: f64| ms(latencies[((latencies.len() as f64 - 1.0) * p).round() as usize]);
    println!(
        "events {n}, concurrency {concurrency}; outbox written in {:.2}s",
        written.as_secs_f64()
    );
    println!("bare loop   {bare_rate:>8.0} posts/s");
    println!(
        "hub         {hub_rate:>8.0} deliveries/s  event-to-delivery p50={:.1}ms p99={:.1}ms",
        pct(0.50),
        pct(0.99)
    );
    println!("ratio hub/bare {:.2}", hub_rate / bare_rate);
    Ok(())
}
