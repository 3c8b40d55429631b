//! The webhook hub under load and failure: the breaker, slow endpoints, leases, 410s with
//! deliveries claimed ahead, and the outbound address guard. Each test starts its own app
//! with the settings it needs.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{Backend, TestApp};
use crate::receiver::Receiver;
use crate::webhooks::{stats, subscribe};

/// Breaker: 3 failures in 10 minutes pause the endpoint for 10 minutes, sending one at a time.
async fn breaker_app(backend: Backend) -> TestApp {
    TestApp::start_with(backend, |c| {
        c.webhook_breaker_failures = 3;
        c.webhook_endpoint_concurrency = 1;
    })
    .await
}

async fn the_breaker_pauses_a_failing_endpoint_keeps_every_event_and_a_probe_reopens_it(
    backend: Backend,
) {
    let app = breaker_app(backend).await;
    let rx = Receiver::start().await;
    rx.answer(500);
    let hook = subscribe(&app, &rx.url, json!({"event_types": ["customer.created"]})).await;
    let id = hook["id"].as_str().unwrap();
    for i in 0..6 {
        app.post(
            "/api/v1/customers",
            json!({"name": format!("C{i}"), "phone": format!("+549115555020{i}")}),
        )
        .await;
    }
    rx.wait_for(3, 10).await;
    // Open: nothing more is sent, and each event that is due is counted once as rejected.
    let mut s = Value::Null;
    for _ in 0..100 {
        s = stats(&app, id).await;
        let seen =
            s["totals"]["failed"].as_i64().unwrap() + s["totals"]["rejected"].as_i64().unwrap();
        if seen == 6 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    }
    let failed = s["totals"]["failed"].as_i64().unwrap();
    assert_eq!(failed, 3, "{s}");
    assert_eq!(s["totals"]["rejected"].as_i64().unwrap(), 6 - failed, "{s}");
    let (_, read) = app.get(&format!("/api/v1/webhooks/{id}")).await;
    assert_eq!(read["breaker"]["state"], "open", "{read}");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        rx.received().len() as i64,
        failed,
        "an open breaker sends nothing"
    );

    // The receiver recovers; after the pause one probe succeeds and the backlog flows. The
    // probe is answered slowly, so upkeeps run while it is out and the failed deliveries'
    // retries are due: they wait for the probe and are not counted as rejected again.
    rx.answer(200);
    rx.delay(1_500);
    app.advance_to("2030-01-07T12:10:01Z");
    rx.wait_for(failed as usize + 1, 15).await;
    rx.delay(0);
    let got = rx.wait_for(failed as usize + 6, 15).await;
    let mut names: Vec<String> = got[failed as usize..]
        .iter()
        .map(|r| r.json()["data"]["name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["C0", "C1", "C2", "C3", "C4", "C5"],
        "every event, none lost"
    );
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let s = stats(&app, id).await;
    assert_eq!(s["totals"]["successful"], 6, "{s}");
    assert_eq!(s["totals"]["failed"], failed, "{s}");
    assert_eq!(s["totals"]["rejected"].as_i64().unwrap(), 6 - failed, "{s}");
    assert_eq!(s["queue"]["pending"], 0, "{s}");
    assert!(
        s["response_time"]["fastest_ms"].as_i64().unwrap()
            <= s["response_time"]["slowest_ms"].as_i64().unwrap()
    );
    let (_, read) = app.get(&format!("/api/v1/webhooks/{id}")).await;
    assert_eq!(read["breaker"]["state"], "closed", "{read}");
    app.finish().await;
}

async fn a_slow_endpoint_does_not_delay_another(backend: Backend) {
    let app = TestApp::start_with(backend, |c| c.webhook_endpoint_concurrency = 2).await;
    let slow = Receiver::start().await;
    slow.delay(1_500);
    let fast = Receiver::start().await;
    subscribe(
        &app,
        &slow.url,
        json!({"event_types": ["customer.created"]}),
    )
    .await;
    subscribe(
        &app,
        &fast.url,
        json!({"event_types": ["customer.created"]}),
    )
    .await;
    let started = std::time::Instant::now();
    for i in 0..10 {
        app.post(
            "/api/v1/customers",
            json!({"name": format!("C{i}"), "phone": format!("+549115555030{i}")}),
        )
        .await;
    }
    fast.wait_for(10, 10).await;
    let fast_done = started.elapsed();
    assert!(slow.received().len() < 10, "the slow one is still busy");
    assert!(
        fast_done < std::time::Duration::from_millis(1_500),
        "{fast_done:?}"
    );
    slow.wait_for(10, 20).await;
    app.finish().await;
}

async fn deliveries_waiting_longer_than_a_lease_for_their_turn_are_sent_once(backend: Backend) {
    // One send at a time, 500 ms each, all six claimed ahead. While they wait, the clock
    // jumps three times past the 4 s lease (2 × 1 s timeout + 2 s): only the holder's
    // renewal keeps them; a lapsed lease puts a row back in the queue and it goes twice.
    let app = TestApp::start_with(backend, |c| {
        c.webhook_endpoint_concurrency = 1;
        c.webhook_timeout_ms = 1_000;
    })
    .await;
    let receiver = Receiver::start().await;
    receiver.delay(500);
    subscribe(
        &app,
        &receiver.url,
        json!({"event_types": ["customer.created"]}),
    )
    .await;
    for i in 0..6 {
        app.post(
            "/api/v1/customers",
            json!({"name": format!("C{i}"), "phone": format!("+54911555504{i:02}")}),
        )
        .await;
    }
    for later in [
        "2030-01-07T12:00:05Z",
        "2030-01-07T12:00:10Z",
        "2030-01-07T12:00:15Z",
    ] {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        app.advance_to(later);
    }
    receiver.wait_for(6, 20).await;
    tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;
    let ids: Vec<String> = receiver
        .received()
        .iter()
        .map(|r| r.header("webhook-id"))
        .collect();
    let distinct: std::collections::HashSet<&String> = ids.iter().collect();
    assert_eq!(ids.len(), 6, "sent more than once: {ids:?}");
    assert_eq!(distinct.len(), 6);
    app.finish().await;
}

async fn a_410_sends_the_endpoints_other_claimed_deliveries_back_unsent(backend: Backend) {
    let app = TestApp::start_with(backend, |c| c.webhook_endpoint_concurrency = 1).await;
    let rx = Receiver::start().await;
    rx.answer(410);
    rx.delay(300);
    let hook = subscribe(&app, &rx.url, json!({"event_types": ["customer.created"]})).await;
    let id = hook["id"].as_str().unwrap().to_string();
    for i in 0..5 {
        app.post(
            "/api/v1/customers",
            json!({"name": format!("C{i}"), "phone": format!("+549115555060{i}")}),
        )
        .await;
    }
    rx.wait_for(1, 10).await;
    tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;
    assert_eq!(rx.received().len(), 1, "only the first went out");
    let failed = "SELECT COUNT(*) FROM webhook_deliveries WHERE state = 'failed'";
    let pending = "SELECT COUNT(*) FROM webhook_deliveries WHERE state = 'pending'";
    assert_eq!(app.count(failed).await, 1);
    assert_eq!(
        app.count(pending).await,
        4,
        "the rest are kept, no attempt used"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM webhook_attempts").await, 1);

    rx.answer(200);
    rx.delay(0);
    app.call(
        Method::PATCH,
        &format!("/api/v1/webhooks/{id}"),
        Some(json!({"enabled": true})),
    )
    .await;
    rx.wait_for(5, 10).await;
    app.finish().await;
}

async fn a_private_address_is_refused_unless_the_operator_allow_lists_it(backend: Backend) {
    let app = TestApp::start_with(backend, |c| c.outbound_allow = String::new()).await;
    for url in [
        "http://127.0.0.1:9/hook",
        "http://[::1]/x",
        "http://169.254.169.254/latest",
    ] {
        let (status, problem) = app.post("/api/v1/webhooks", json!({"url": url})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{url}");
        assert_eq!(problem["code"], "url_refused", "{problem}");
    }
    // A name that resolves to loopback passes the form check but never gets a connection.
    let hook = subscribe(&app, "http://localhost:9/hook", json!({})).await;
    let id = hook["id"].as_str().unwrap();
    let (_, attempt) = app
        .post(&format!("/api/v1/webhooks/{id}/test"), json!({}))
        .await;
    assert_eq!(attempt["outcome"], "failed", "{attempt}");
    assert_eq!(attempt["error_kind"], "refused_target", "{attempt}");
    app.finish().await;
}

async fn when_a_breakers_probe_succeeds_what_the_endpoint_missed_goes_out_at_once_oldest_first(
    backend: Backend,
) {
    // Failed deliveries wait an hour for their next attempt; the breaker pauses 10 minutes.
    // Before: after the probe only the never-tried events went, the failed ones an hour later.
    let app = TestApp::start_with(backend, |c| {
        c.webhook_breaker_failures = 3;
        c.webhook_endpoint_concurrency = 1;
        c.webhook_retry_schedule = vec![0, 3600, 3600];
    })
    .await;
    let rx = Receiver::start().await;
    rx.answer(500);
    let hook = subscribe(&app, &rx.url, json!({"event_types": ["customer.created"]})).await;
    let id = hook["id"].as_str().unwrap();
    for i in 0..6 {
        app.post(
            "/api/v1/customers",
            json!({"name": format!("C{i}"), "phone": format!("+549115555040{i}")}),
        )
        .await;
        // Events a few milliseconds apart: "oldest first" is to the millisecond.
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    rx.wait_for(3, 10).await;
    for _ in 0..100 {
        let (_, read) = app.get(&format!("/api/v1/webhooks/{id}")).await;
        if read["breaker"]["state"] == "open" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    }
    let failed = rx.received().len();

    rx.answer(200);
    app.advance_to("2030-01-07T12:10:01Z"); // the pause is over; the retries are 50 min away
    let got = rx.wait_for(failed + 6, 15).await;
    let names: Vec<String> = got[failed..]
        .iter()
        .map(|r| r.json()["data"]["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        names,
        ["C0", "C1", "C2", "C3", "C4", "C5"],
        "everything missed, at once, oldest first"
    );
    // The retry count is kept: the failed events' successful attempt is their second.
    let (_, page) = app
        .get(&format!("/api/v1/webhooks/{id}/attempts?outcome=success"))
        .await;
    let mut numbers: Vec<(String, i64)> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["event_id"].as_str().unwrap().to_string(),
                a["attempt"].as_i64().unwrap(),
            )
        })
        .collect();
    numbers.sort();
    let seconds = numbers.iter().filter(|(_, n)| *n == 2).count();
    assert_eq!(seconds, failed, "{page}");
    app.finish().await;
}

crate::with_each_backend!(
    the_breaker_pauses_a_failing_endpoint_keeps_every_event_and_a_probe_reopens_it,
    a_slow_endpoint_does_not_delay_another,
    deliveries_waiting_longer_than_a_lease_for_their_turn_are_sent_once,
    a_private_address_is_refused_unless_the_operator_allow_lists_it,
    a_410_sends_the_endpoints_other_claimed_deliveries_back_unsent,
    when_a_breakers_probe_succeeds_what_the_endpoint_missed_goes_out_at_once_oldest_first
);
