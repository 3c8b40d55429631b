//! `turnero bench asisteclick`: AsisteClick's availability call under load. A week of
//! hourly native slots for a busy calendar, POSTed as AsisteClick does, by concurrent
//! clients for a fixed time; AsisteClick gives up after 3 s.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::{hammer, setup_with, until};

pub async fn run(
    seconds: u64,
    concurrency: usize,
    database_url: Option<String>,
) -> anyhow::Result<()> {
    // The per-integration limit (default 600 calls a minute) would answer most of this load
    // 429: lifted, as the operator would for an integrator known to send this much.
    let s = setup_with(database_url, |c| {
        c.asisteclick_requests_per_minute = u32::MAX / 2;
    })
    .await?;
    let (cal, _, monday, _) = s.busy_week().await?;
    let wired: Value = s
        .client
        .put(format!("{}/api/v1/integrations/asisteclick", s.base))
        .bearer_auth(&s.key)
        .json(&json!({"access_token": "bench-token", "calendar_map": {"5": cal}}))
        .send()
        .await?
        .json()
        .await?;
    let url = wired["availability_url"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("no availability_url: {wired}"))?
        .to_string();
    // AsisteClick's native slots: every hour from 08:00 to 19:00 local, Monday to Friday.
    let slots: Vec<Value> = (0..5)
        .flat_map(|day| (8..20).map(move |h| (day, h)))
        .map(|(day, h)| {
            let start = monday + day * 86_400 + (h + 3) * 3600;
            json!({"text": format!("día {day} {h:02}:00"), "isoLocal": "", "iso": turnero_core::time::fmt_ts(start), "id": format!("slot_{day}_{h}")})
        })
        .collect();
    let body = json!({
        "calendar_id": 5, "timezone": "-3", "preferred": null, "count": 60,
        "start_date": "", "end_date": "", "slots": slots
    })
    .to_string();
    let probe: Value = s
        .client
        .post(&url)
        .body(body.clone())
        .send()
        .await?
        .json()
        .await?;
    println!(
        "availability: {} native slots in, {} free out; {concurrency} concurrent clients, {seconds}s",
        slots.len(),
        probe["slots"].as_array().map_or(0, Vec::len)
    );
    let client = s.client.clone();
    let mut report = hammer(
        concurrency,
        until(Instant::now() + Duration::from_secs(seconds), move || {
            let req = client
                .post(&url)
                .header("content-type", "application/json")
                .body(body.clone())
                .send();
            async move {
                match req.await {
                    Ok(r) if r.status().is_success() => r.bytes().await.is_ok(),
                    _ => false,
                }
            }
        }),
    )
    .await;
    report.print("availability");
    anyhow::ensure!(
        report.failed == 0,
        "{} calls were not answered 2xx",
        report.failed
    );
    Ok(())
}
