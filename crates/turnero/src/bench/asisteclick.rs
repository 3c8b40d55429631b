//! `turnero bench asisteclick`: AsisteClick's availability call under load. A week of
//! hourly native slots for a busy calendar, POSTed as AsisteClick does, by concurrent
//! clients for a fixed time; AsisteClick gives up after 3 s.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::{hammer, next_monday_utc, setup, until};

pub async fn run(
    seconds: u64,
    concurrency: usize,
    database_url: Option<String>,
) -> anyhow::Result<()> {
    let s = setup(database_url).await?;
    let hours = json!(["mon", "tue", "wed", "thu", "fri"]
        .iter()
        .flat_map(|d| [
            json!({"weekday": d, "start": "08:00", "end": "12:30"}),
            json!({"weekday": d, "start": "14:00", "end": "20:00"})
        ])
        .collect::<Vec<_>>());
    let (cal, svc) = s.calendar_with_service(hours, 30).await?;
    let monday = next_monday_utc();
    for day in 0..5 {
        for slot in 0..6 {
            let start = monday + day * 86_400 + (11 + 3) * 3600 + slot * 1800;
            let body = json!({"calendar_id": cal, "service_id": svc, "start": crate::api::fmt_ts(start),
                "customer": {"name": "Bench", "phone": format!("+54911400{:05}", day * 10 + slot)}});
            // Those past the morning's closing are refused, as in `bench http`.
            let _ = s.post("/bookings", body).await;
        }
    }
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
            json!({"text": format!("día {day} {h:02}:00"), "isoLocal": "", "iso": crate::api::fmt_ts(start), "id": format!("slot_{day}_{h}")})
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
    Ok(())
}
