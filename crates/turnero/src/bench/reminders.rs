//! `turnero bench reminders`: (1) how long saving a rule takes when it plans reminders for N
//! bookings already in the agenda; (2) a "send now" run of those N confirmations to a Graph
//! API stand-in with the number's rate set to `--rate`: the rate reached against the one set,
//! how many arrived once, twice or never, and how late the first second's worth left.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use serde_json::{json, Value};

use super::setup_with;
use crate::db::Batch;

#[derive(Default)]
struct Arrivals {
    /// Per recipient: how many messages, and when the first came.
    seen: HashMap<String, (usize, Instant)>,
}

async fn graph_api(
    State(a): State<Arc<Mutex<Arrivals>>>,
    body: axum::body::Bytes,
) -> axum::Json<Value> {
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let to = v["to"].as_str().unwrap_or_default().to_string();
    let mut a = a.lock().expect("arrivals");
    let n = {
        let e = a.seen.entry(to.clone()).or_insert((0, Instant::now()));
        e.0 += 1;
        e.0
    };
    axum::Json(
        json!({"messaging_product": "whatsapp", "messages": [{"id": format!("wamid.bench.{to}.{n}")}]}),
    )
}

pub async fn run(bookings: usize, rate: u32, database_url: Option<String>) -> anyhow::Result<()> {
    let s = setup_with(database_url, |c| {
        c.outbound_allow = "127.0.0.0/8".into();
        c.whatsapp_messages_per_second = rate;
    })
    .await?;
    let arrivals = Arc::new(Mutex::new(Arrivals::default()));
    let app = axum::Router::new()
        .fallback(axum::routing::post(graph_api))
        .with_state(arrivals.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let graph_url = format!("http://{}/v24.0", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    s.client
        .put(format!("{}/api/v1/channels/whatsapp", s.base))
        .bearer_auth(&s.key)
        .json(
            &json!({"phone_number_id": "106540352242922", "access_token": "bench",
            "app_secret": "bench", "verify_token": "bench", "graph_api_url": graph_url,
            "templates": [{"name": "confirmacion", "language": "es_AR"}]}),
        )
        .send()
        .await?
        .error_for_status()?;
    let hours = json!(["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        .iter()
        .map(|d| json!({"weekday": d, "start": "00:00", "end": "24:00"}))
        .collect::<Vec<_>>());
    let (cal, svc) = s.calendar_with_service(hours, 30).await?;
    // The bookings are written straight to the tables (the booking path is another
    // benchmark's): all on the same day, three days ahead, each with its own customer.
    let now = jiff::Timestamp::now().as_second();
    let day = jiff::Timestamp::from_second(now + 3 * 86_400)?
        .to_zoned(jiff::tz::TimeZone::get("America/Argentina/Buenos_Aires")?)
        .date();
    let start = day
        .at(10, 0, 0, 0)
        .to_zoned(jiff::tz::TimeZone::get("America/Argentina/Buenos_Aires")?)?
        .timestamp()
        .as_second();
    let tenant = s.tenant.as_str().to_string();
    for chunk in (0..bookings).collect::<Vec<_>>().chunks(500) {
        let mut tx = s.db.begin().await?;
        let mut batch = Batch::default();
        for i in chunk {
            let (customer, booking) = (format!("cus_bench{i:07}"), format!("bkg_bench{i:07}"));
            batch.push(
                "INSERT INTO customers (id, tenant_id, name, phone, custom_fields, external_ids, \
                 created_at, updated_at) VALUES ($1, $2, $3, $4, '{}', '{}', $5, $5)",
                crate::args![
                    customer.clone(),
                    tenant.clone(),
                    format!("Paciente {i}"),
                    format!("+54911{:08}", 50_000_000 + i),
                    now
                ]?,
            );
            batch.push(
                "INSERT INTO bookings (id, tenant_id, calendar_id, service_id, customer_id, status, \
                 start_at, end_at, block_start, block_end, source, public_key, custom_fields, \
                 created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7, $6, $7, \
                 'bench', $8, '{}', $9, $9)",
                crate::args![booking.clone(), tenant.clone(), cal.clone(), svc.clone(), customer,
                    start, start + 1800, format!("pk{booking}"), now]?,
            );
        }
        batch.run(&mut tx).await?;
        tx.commit().await?;
    }

    let t = Instant::now();
    let rule = s
        .post(
            "/notification-rules",
            json!({"name": "bench", "when": {"before_start": "P1D"}, "channels": ["whatsapp"],
                "ask_confirmation": true,
                "whatsapp_template": {"name": "confirmacion", "language": "es_AR"}}),
        )
        .await?;
    let planning = t.elapsed();
    println!(
        "rule saved, {} reminders planned for {bookings} bookings in {:.0} ms",
        rule["report"]["planned"],
        planning.as_secs_f64() * 1000.0
    );

    let id = rule["id"].as_str().unwrap_or_default();
    let asked = Instant::now();
    s.post(
        &format!("/notification-rules/{id}/run"),
        json!({"date": day.to_string()}),
    )
    .await?;
    let deadline = asked + Duration::from_secs((bookings as u64 / u64::from(rate.max(1))) * 3 + 30);
    loop {
        let got = arrivals.lock().expect("arrivals").seen.len();
        if got >= bookings || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // A moment for anything sent twice to show.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let a = arrivals.lock().expect("arrivals");
    let mut firsts: Vec<Instant> = a.seen.values().map(|(_, at)| *at).collect();
    firsts.sort();
    let twice = a.seen.values().filter(|(n, _)| *n > 1).count();
    let lost = bookings.saturating_sub(a.seen.len());
    let (Some(first), Some(last)) = (firsts.first(), firsts.last()) else {
        anyhow::bail!("nothing arrived");
    };
    let span = (*last - *first).as_secs_f64().max(1e-3);
    let achieved = (firsts.len() as f64 - 1.0) / span;
    // Paced at the set rate, message i leaves i/rate after the run was asked for: how late
    // each left against that schedule.
    let mut late: Vec<f64> = firsts
        .iter()
        .enumerate()
        .map(|(i, at)| {
            let scheduled = i as f64 / f64::from(rate.max(1));
            ((*at - asked).as_secs_f64() - scheduled).max(0.0) * 1000.0
        })
        .collect();
    late.sort_by(f64::total_cmp);
    let p99 = late[((late.len() as f64 * 0.99) as usize).min(late.len() - 1)];
    let _ = first;
    println!(
        "run of {bookings}: {achieved:.0} msg/s against {rate} set ({:.2} of it), \
         lost={lost} duplicated={twice}, late against the paced schedule p99={p99:.0} ms",
        achieved / f64::from(rate.max(1))
    );
    Ok(())
}
