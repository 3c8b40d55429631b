use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::{local_starts, TestApp};

crate::on_both_backends!(
    a_booking_goes_from_pending_to_confirmed_to_completed_with_history_and_events,
    a_booked_slot_disappears_from_the_slots_and_comes_back_when_canceled,
    rescheduling_keeps_the_id_frees_the_old_time_and_takes_the_new_one,
    a_hold_blocks_its_slot_until_it_expires_by_itself,
    booking_from_a_hold_keeps_the_hold_id_and_the_slot,
    an_idempotency_key_replays_the_first_answer_and_refuses_another_body,
    cancel_cutoff_and_unstarted_no_show_are_refused,
    slots_page_from_a_preferred_instant_with_both_directions_reported,
    listing_bookings_filters_by_status_and_pages_with_a_cursor,
    a_hold_used_after_its_service_grew_books_the_length_that_was_checked,
);

async fn a_hold_used_after_its_service_grew_books_the_length_that_was_checked(app: &TestApp) {
    let (cal, svc) = app.clinic().await;
    let (_, hold) = app
        .post(
            "/api/v1/holds",
            json!({"calendar_id": cal, "service_id": svc, "start": MON_10}),
        )
        .await;
    assert_eq!(hold["end"], "2030-01-07T13:30:00Z");
    let (status, _) = app
        .call(
            Method::PATCH,
            &format!("/api/v1/services/{svc}"),
            Some(json!({"duration_minutes": 60})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, b) = app
        .post(
            "/api/v1/bookings",
            json!({
                "calendar_id": cal, "service_id": svc, "start": MON_10, "hold_id": hold["id"],
                "customer": {"name": "Ana", "phone": "+5491122334455"}
            }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{b}");
    assert_eq!(b["end"], "2030-01-07T14:00:00Z");
    let (status, clash) = app
        .book(&cal, &svc, "2030-01-07T13:30:00Z", "5491133334444")
        .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "the second half-hour is taken too: {clash}"
    );
}

const MON_10: &str = "2030-01-07T13:00:00Z"; // 10:00 in Buenos Aires

async fn a_booking_goes_from_pending_to_confirmed_to_completed_with_history_and_events(
    app: &TestApp,
) {
    let (cal, svc) = app.clinic().await;
    let (status, b) = app.book(&cal, &svc, MON_10, "+54 9 11 2233-4455").await;
    assert_eq!(status, StatusCode::CREATED, "{b}");
    assert_eq!(b["status"], "pending");
    assert_eq!(b["start"], MON_10);
    assert_eq!(b["end"], "2030-01-07T13:30:00Z");
    assert_eq!(b["start_local"], "2030-01-07T10:00:00-03:00");
    assert_eq!(b["customer"]["phone"], "+5491122334455");
    assert_eq!(b["public_key"].as_str().unwrap().len(), 32);
    let id = b["id"].as_str().unwrap();

    let (status, c) = app
        .post(&format!("/api/v1/bookings/{id}/confirm"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{c}");
    assert_eq!(c["status"], "confirmed");
    app.advance_to("2030-01-07T13:31:00Z");
    let (status, done) = app
        .call(
            Method::POST,
            &format!("/api/v1/bookings/{id}/complete"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["status"], "completed");
    let (status, again) = app
        .post(&format!("/api/v1/bookings/{id}/cancel"), json!({}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(again["code"], "invalid_transition");

    let (_, history) = app.get(&format!("/api/v1/bookings/{id}/history")).await;
    let actions: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["created", "confirmed", "completed"]);
    let events = app
        .count(&format!(
            "SELECT COUNT(*) FROM events WHERE subject_id = '{id}'"
        ))
        .await;
    assert_eq!(events, 3, "created, confirmed, completed");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM events WHERE type = 'customer.created'")
            .await,
        1
    );
}

async fn a_booked_slot_disappears_from_the_slots_and_comes_back_when_canceled(app: &TestApp) {
    let (cal, svc) = app.clinic().await;
    let slots_path = format!("/api/v1/calendars/{cal}/slots?service_id={svc}&start=2030-01-07T00:00:00Z&end=2030-01-08T00:00:00Z");
    let starts = |v: &serde_json::Value| {
        v["slots"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["start"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    let (_, before) = app.get(&slots_path).await;
    assert_eq!(starts(&before).len(), 8);
    assert!(starts(&before).contains(&MON_10.to_string()));
    let (_, b) = app.book(&cal, &svc, MON_10, "5491122334455").await;
    let (_, during) = app.get(&slots_path).await;
    assert!(!starts(&during).contains(&MON_10.to_string()));
    assert_eq!(starts(&during).len(), 7);
    let (status, canceled) = app
        .post(
            &format!("/api/v1/bookings/{}/cancel", b["id"].as_str().unwrap()),
            json!({"reason": "viaje"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(canceled["cancel_reason"], "viaje");
    let (_, after) = app.get(&slots_path).await;
    assert_eq!(starts(&after), starts(&before));
}

async fn rescheduling_keeps_the_id_frees_the_old_time_and_takes_the_new_one(app: &TestApp) {
    let (cal, svc) = app.clinic().await;
    let (_, b) = app.book(&cal, &svc, MON_10, "5491122334455").await;
    let id = b["id"].as_str().unwrap();
    let (status, moved) = app
        .post(
            &format!("/api/v1/bookings/{id}/reschedule"),
            json!({"start": "2030-01-08T11:30:00-03:00"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{moved}");
    assert_eq!(moved["id"], id);
    assert_eq!(moved["start"], "2030-01-08T14:30:00Z");
    let (status, other) = app.book(&cal, &svc, MON_10, "5491133334444").await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "old time is free again: {other}"
    );
    let (status, clash) = app
        .book(&cal, &svc, "2030-01-08T14:30:00Z", "5491133334444")
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(clash["code"], "slot_unavailable");
    let (status, bad) = app
        .post(
            &format!("/api/v1/bookings/{id}/reschedule"),
            json!({"start": "2030-01-08T20:00:00Z"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad["code"], "outside_hours");
    assert_eq!(app.count(&format!("SELECT COUNT(*) FROM booking_history WHERE booking_id = '{id}' AND action = 'rescheduled'")).await, 1);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM events WHERE type = 'booking.updated'")
            .await,
        1
    );
}

async fn a_hold_blocks_its_slot_until_it_expires_by_itself(app: &TestApp) {
    let (cal, svc) = app.clinic().await;
    let (status, hold) = app
        .post(
            "/api/v1/holds",
            json!({"calendar_id": cal, "service_id": svc, "start": MON_10, "minutes": 5}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{hold}");
    assert_eq!(hold["status"], "held");
    assert_eq!(hold["expires_at"], "2030-01-07T12:05:00Z");
    let (status, taken) = app.book(&cal, &svc, MON_10, "5491122334455").await;
    assert_eq!(status, StatusCode::CONFLICT, "{taken}");

    // Past its expiry the slot is free even before any sweeper ran.
    app.advance_to("2030-01-07T12:05:01Z");
    let (_, slots) = app
        .get(&format!(
            "/api/v1/calendars/{cal}/slots?service_id={svc}&count=1&preferred={MON_10}"
        ))
        .await;
    assert_eq!(slots["slots"][0]["start"], MON_10);
    let expired = turnero::agenda::bookings::expire_holds(&app.server.db, app.clock().now_secs())
        .await
        .unwrap();
    assert_eq!(expired, 1);
    let (_, read) = app
        .get(&format!("/api/v1/holds/{}", hold["id"].as_str().unwrap()))
        .await;
    assert_eq!(read["status"], "expired");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM events WHERE type = 'hold.expired'")
            .await,
        1
    );
    let (status, _) = app.book(&cal, &svc, MON_10, "5491122334455").await;
    assert_eq!(status, StatusCode::CREATED);
}

async fn booking_from_a_hold_keeps_the_hold_id_and_the_slot(app: &TestApp) {
    let (cal, svc) = app.clinic().await;
    let (_, hold) = app
        .post(
            "/api/v1/holds",
            json!({"calendar_id": cal, "service_id": svc, "start": MON_10}),
        )
        .await;
    let hold_id = hold["id"].as_str().unwrap();
    let (status, b) = app.post("/api/v1/bookings", json!({
        "calendar_id": cal, "service_id": svc, "start": MON_10, "hold_id": hold_id,
        "customer": {"name": "Ana", "phone": "+5491122334455"}, "custom_fields": {"obra_social": "OSDE"}, "source": "chat"
    })).await;
    assert_eq!(status, StatusCode::CREATED, "{b}");
    assert_eq!(b["id"], hold_id);
    assert_eq!(b["status"], "pending");
    assert_eq!(b["expires_at"], serde_json::Value::Null);
    assert_eq!(b["custom_fields"]["obra_social"], "OSDE");
    assert_eq!(b["source"], "chat");
    let (status, again) = app
        .post(
            "/api/v1/bookings",
            json!({
                "calendar_id": cal, "service_id": svc, "start": MON_10, "hold_id": hold_id,
                "customer": {"name": "Ana", "phone": "+5491122334455"}
            }),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(again["code"], "hold_not_active");
    assert_eq!(app.count("SELECT COUNT(*) FROM bookings").await, 1);
}

async fn an_idempotency_key_replays_the_first_answer_and_refuses_another_body(app: &TestApp) {
    let (cal, svc) = app.clinic().await;
    let body = json!({"calendar_id": cal, "service_id": svc, "start": MON_10, "customer": {"name": "Ana", "phone": "+5491122334455"}});
    let send = |b: serde_json::Value| {
        app.client
            .post(format!("{}/api/v1/bookings", app.server.url()))
            .bearer_auth(&app.key)
            .header("Idempotency-Key", "retry-1")
            .json(&b)
            .send()
    };
    let first = send(body.clone()).await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: serde_json::Value = first.json().await.unwrap();
    let second = send(body.clone()).await.unwrap();
    assert_eq!(second.status(), StatusCode::CREATED);
    assert_eq!(second.headers()["idempotent-replayed"], "true");
    let second: serde_json::Value = second.json().await.unwrap();
    assert_eq!(first["id"], second["id"]);
    assert_eq!(app.count("SELECT COUNT(*) FROM bookings").await, 1);
    let mut other = body.clone();
    other["start"] = json!("2030-01-07T14:00:00Z");
    let third = send(other).await.unwrap();
    assert_eq!(third.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: serde_json::Value = third.json().await.unwrap();
    assert_eq!(problem["code"], "idempotency_key_reused");
    assert_eq!(app.count("SELECT COUNT(*) FROM bookings").await, 1);
}

async fn cancel_cutoff_and_unstarted_no_show_are_refused(app: &TestApp) {
    let (cal, svc) = app
        .clinic_with(json!({"policy": {"cancel_cutoff_minutes": 120}}))
        .await;
    let (_, b) = app
        .book(&cal, &svc, "2030-01-07T14:00:00Z", "5491122334455")
        .await;
    let id = b["id"].as_str().unwrap();
    let (status, p) = app
        .post(&format!("/api/v1/bookings/{id}/confirm"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{p}");
    let (status, p) = app
        .post(&format!("/api/v1/bookings/{id}/no-show"), json!({}))
        .await;
    assert_eq!(
        (status, p["code"].as_str()),
        (StatusCode::CONFLICT, Some("not_started"))
    );
    app.advance_to("2030-01-07T12:30:00Z");
    let (status, p) = app
        .post(&format!("/api/v1/bookings/{id}/cancel"), json!({}))
        .await;
    assert_eq!(
        (status, p["code"].as_str()),
        (StatusCode::CONFLICT, Some("cutoff_passed"))
    );
    let (_, read) = app.get(&format!("/api/v1/bookings/{id}")).await;
    assert_eq!(read["status"], "confirmed");
}

async fn slots_page_from_a_preferred_instant_with_both_directions_reported(app: &TestApp) {
    let (cal, svc) = app.clinic().await;
    let (status, page) = app.get(&format!(
        "/api/v1/calendars/{cal}/slots?service_id={svc}&start=2030-01-07T00:00:00Z&end=2030-01-08T00:00:00Z&count=2&preferred=2030-01-07T14:10:00Z"
    )).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let starts = local_starts(&page);
    assert_eq!(
        starts,
        ["2030-01-07T11:30:00-03:00", "2030-01-07T12:00:00-03:00"]
    );
    assert_eq!(page["has_earlier"], true);
    assert_eq!(page["has_later"], true);
    assert_eq!(page["timezone"], "America/Argentina/Buenos_Aires");
}

async fn listing_bookings_filters_by_status_and_pages_with_a_cursor(app: &TestApp) {
    let (cal, svc) = app.clinic().await;
    let mut ids = Vec::new();
    for (i, start) in [
        "2030-01-07T13:00:00Z",
        "2030-01-07T13:30:00Z",
        "2030-01-07T14:00:00Z",
    ]
    .iter()
    .enumerate()
    {
        let (_, b) = app
            .book(&cal, &svc, start, &format!("54911223344{i:02}"))
            .await;
        ids.push(b["id"].as_str().unwrap().to_string());
    }
    app.post(&format!("/api/v1/bookings/{}/confirm", ids[1]), json!({}))
        .await;
    let (_, confirmed) = app
        .get(&format!(
            "/api/v1/bookings?calendar_id={cal}&status=confirmed"
        ))
        .await;
    assert_eq!(confirmed["data"].as_array().unwrap().len(), 1);
    assert_eq!(confirmed["data"][0]["id"], ids[1].as_str());
    let (_, first) = app.get("/api/v1/bookings?limit=2").await;
    assert_eq!(first["data"].as_array().unwrap().len(), 2);
    let cursor = first["next_cursor"].as_str().unwrap();
    let (_, second) = app
        .get(&format!("/api/v1/bookings?limit=2&cursor={cursor}"))
        .await;
    assert_eq!(second["data"].as_array().unwrap().len(), 1);
    assert_eq!(second["data"][0]["id"], ids[2].as_str());
    assert_eq!(second["next_cursor"], serde_json::Value::Null);
    let (_, window) = app
        .get("/api/v1/bookings?start=2030-01-07T13:15:00Z&end=2030-01-07T14:00:00Z")
        .await;
    assert_eq!(window["data"].as_array().unwrap().len(), 1);
}
