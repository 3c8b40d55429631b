//! Retention: old records go in bounded batches; what is still to be done, and the clinic's
//! own records (bookings, customers), stay.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::{Backend, TestApp};
use crate::receiver::Receiver;
use crate::webhooks::subscribe;
use turnero::jobs::retention::{run_once, Retention};

async fn counts(app: &TestApp) -> Vec<(&'static str, i64)> {
    let mut out = Vec::new();
    for (name, sql) in [
        ("events", "SELECT COUNT(*) FROM events"),
        ("deliveries", "SELECT COUNT(*) FROM webhook_deliveries"),
        (
            "pending",
            "SELECT COUNT(*) FROM webhook_deliveries WHERE state = 'pending'",
        ),
        ("attempts", "SELECT COUNT(*) FROM webhook_attempts"),
        ("conversations", "SELECT COUNT(*) FROM conversations"),
        ("inbox", "SELECT COUNT(*) FROM chat_inbox"),
        ("outbox", "SELECT COUNT(*) FROM chat_outbox"),
        ("idempotency", "SELECT COUNT(*) FROM idempotency_keys"),
        ("customers", "SELECT COUNT(*) FROM customers"),
        ("bookings", "SELECT COUNT(*) FROM bookings"),
    ] {
        out.push((name, app.count(sql).await));
    }
    out
}

fn of(counts: &[(&str, i64)], name: &str) -> i64 {
    counts.iter().find(|(n, _)| *n == name).unwrap().1
}

async fn old_records_are_deleted_in_batches_and_nothing_still_to_do_is_touched(backend: Backend) {
    // One receiver answers; the other fails and its retry is 320–480 days away (still pending).
    let app =
        TestApp::start_with(backend, |c| c.webhook_retry_schedule = vec![0, 34_560_000]).await;
    let ok = Receiver::start().await;
    let down = Receiver::start().await;
    down.answer(500);
    subscribe(&app, &ok.url, json!({"event_types": ["customer.created"]})).await;
    subscribe(&app, &down.url, json!({"event_types": ["booking.created"]})).await;
    let (cal, svc) = app.clinic().await;
    for i in 0..25 {
        let (status, c) = app
            .post(
                "/api/v1/customers",
                json!({"name": format!("C{i}"), "phone": format!("+54911555506{i:02}")}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{c}");
    }
    let (status, b) = app
        .book(&cal, &svc, "2030-01-09T12:00:00Z", "+5491155550700")
        .await;
    assert_eq!(status, StatusCode::CREATED, "{b}");
    ok.wait_for(25, 10).await;
    down.wait_for(1, 10).await;
    // A web chat conversation, answered.
    let (status, _) = app
        .call(
            Method::PUT,
            "/api/v1/channels/webchat",
            Some(json!({"title": "Clínica"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, tenant) = app.get("/api/v1/tenant").await;
    let chat = format!(
        "{}/chat/{}",
        app.server.url(),
        tenant["id"].as_str().unwrap()
    );
    let client = reqwest::Client::new();
    let session: serde_json::Value = client
        .post(format!("{chat}/sessions"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let said = client
        .post(format!("{chat}/messages"))
        .bearer_auth(session["token"].as_str().unwrap())
        .json(&json!({"text": "hola"}))
        .send()
        .await
        .unwrap();
    assert_eq!(said.status(), StatusCode::ACCEPTED);
    crate::patient::settle(&app).await;
    // Let the last attempts be recorded.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let before = counts(&app).await;
    assert!(
        of(&before, "attempts") >= 26 && of(&before, "conversations") == 1,
        "{before:?}"
    );
    assert!(
        of(&before, "outbox") >= 1 && of(&before, "inbox") == 1,
        "{before:?}"
    );
    assert_eq!(of(&before, "pending"), 1, "{before:?}");

    // 89 days later nothing is old enough.
    let db = &app.server.db;
    app.advance_to("2030-04-06T12:00:00Z");
    let r = Retention::default();
    let deleted = run_once(db, &r, app.clock().now_ms(), 10).await.unwrap();
    assert!(deleted.iter().all(|(_, n)| *n == 0), "{deleted:?}");

    // 200 days later: everything finished goes, ten rows a statement.
    app.advance_to("2030-07-26T12:00:00Z");
    let deleted = run_once(db, &r, app.clock().now_ms(), 10).await.unwrap();
    let after = counts(&app).await;
    assert_eq!(
        of(&after, "pending"),
        1,
        "the waiting delivery stays: {after:?}"
    );
    assert_eq!(of(&after, "deliveries"), 1, "{after:?}");
    assert_eq!(of(&after, "attempts"), 0, "{after:?}");
    assert_eq!(
        of(&after, "conversations") + of(&after, "inbox") + of(&after, "outbox"),
        0,
        "{after:?}"
    );
    let kept_events = of(&after, "events");
    assert!(
        kept_events == 1,
        "only the event a delivery waits on stays: {after:?}"
    );
    let waited_on = app
        .count(
            "SELECT COUNT(*) FROM events e JOIN webhook_deliveries d ON d.event_id = e.id \
             WHERE d.state = 'pending'",
        )
        .await;
    assert_eq!(waited_on, 1);
    assert_eq!(
        of(&after, "customers"),
        of(&before, "customers"),
        "records stay"
    );
    assert_eq!(of(&after, "bookings"), 1, "records stay");
    assert!(
        deleted
            .iter()
            .any(|(k, n)| *k == "webhook_attempts" && *n >= 26),
        "{deleted:?}"
    );

    // The waiting delivery still goes out when its receiver is back.
    down.answer(200);
    app.advance_to("2031-06-01T12:00:00Z");
    down.wait_for(2, 10).await;

    // A second run finds nothing more; `0` keeps a kind for ever.
    let again = run_once(db, &r, app.clock().now_ms(), 10).await.unwrap();
    assert!(
        again
            .iter()
            .filter(|(k, _)| *k != "events"
                && *k != "webhook_deliveries"
                && *k != "webhook_attempts")
            .all(|(_, n)| *n == 0),
        "{again:?}"
    );
    let forever = Retention {
        events_days: 0,
        ..Retention::default()
    };
    let deleted = run_once(db, &forever, app.clock().now_ms() + 400 * 86_400_000, 10)
        .await
        .unwrap();
    assert!(deleted.iter().all(|(k, _)| *k != "events"), "{deleted:?}");
    app.finish().await;
}

crate::with_each_backend!(old_records_are_deleted_in_batches_and_nothing_still_to_do_is_touched);
