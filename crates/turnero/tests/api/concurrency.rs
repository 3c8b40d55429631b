use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::json;

use crate::common::TestApp;

crate::on_both_backends!(
    fifty_concurrent_requests_for_one_slot_book_exactly_one,
    fifty_concurrent_requests_on_a_capacity_three_calendar_book_exactly_three,
    overlapping_but_different_starts_cannot_double_book_either,
);

/// Fires 50 bookings for `start` at once; answers how many got 201 and checks the rest
/// got 409 `slot_unavailable`.
async fn race(app: &TestApp, cal: &str, svc: &str, starts: &[&str]) -> usize {
    let requests = (0..50).map(|i| {
        let start = starts[i % starts.len()];
        async move { app.book(cal, svc, start, &format!("+5491150{i:06}")).await }
    });
    let results = join_all(requests).await;
    let mut created = 0;
    for (status, body) in results {
        match status {
            StatusCode::CREATED => created += 1,
            StatusCode::CONFLICT => assert_eq!(body["code"], "slot_unavailable", "{body}"),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    created
}

async fn fifty_concurrent_requests_for_one_slot_book_exactly_one(app: &TestApp) {
    let (cal, svc) = app.clinic().await;
    assert_eq!(race(app, &cal, &svc, &["2030-01-07T13:00:00Z"]).await, 1);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM bookings WHERE status = 'pending'")
            .await,
        1
    );
}

async fn fifty_concurrent_requests_on_a_capacity_three_calendar_book_exactly_three(app: &TestApp) {
    let (cal, svc) = app.clinic_with(json!({"capacity": 3})).await;
    assert_eq!(race(app, &cal, &svc, &["2030-01-07T13:00:00Z"]).await, 3);
    assert_eq!(app.count("SELECT COUNT(*) FROM bookings").await, 3);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM events WHERE type = 'booking.created'")
            .await,
        3
    );
}

async fn overlapping_but_different_starts_cannot_double_book_either(app: &TestApp) {
    // A 30-minute service every 15 minutes: 13:00 and 13:15 overlap, 13:30 does not touch 13:00.
    let (cal, _) = app.clinic().await;
    let (status, svc) = app.post("/api/v1/services", json!({
        "name": "Consulta corta", "duration_minutes": 30, "slot_interval_minutes": 15, "calendar_ids": [cal]
    })).await;
    assert_eq!(status, StatusCode::CREATED);
    let svc = svc["id"].as_str().unwrap();
    let created = race(
        app,
        &cal,
        svc,
        &[
            "2030-01-07T13:00:00Z",
            "2030-01-07T13:15:00Z",
            "2030-01-07T13:30:00Z",
        ],
    )
    .await;
    // Either 13:00 and 13:30 won, or 13:15 won alone: never more.
    let at_1315 = app
        .count("SELECT COUNT(*) FROM bookings WHERE start_at = 1894022100")
        .await;
    assert_eq!(created, if at_1315 == 1 { 1 } else { 2 });
    let pairs = app
        .count(
            "SELECT COUNT(*) FROM bookings a JOIN bookings b ON a.id < b.id \
         WHERE a.block_start < b.block_end AND b.block_start < a.block_end",
        )
        .await;
    assert_eq!(pairs, 0, "no two stored bookings overlap");
}
