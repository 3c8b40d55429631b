//! The webhook hub end to end: subscriptions, signed delivery to a real receiver on
//! 127.0.0.1, retries, 410, the breaker, stats, manual sends, and the outbox listing.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::TestApp;
use crate::receiver::{Received, Receiver};

/// Subscribes `url` with `body` fields; answers the created webhook (with its secret).
pub(crate) async fn subscribe(app: &TestApp, url: &str, extra: Value) -> Value {
    let mut body = json!({"url": url});
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    let (status, hook) = app.post("/api/v1/webhooks", body).await;
    assert_eq!(status, StatusCode::CREATED, "{hook}");
    hook
}

fn verify(secret: &str, r: &Received) -> bool {
    standardwebhooks::Webhook::new(secret)
        .unwrap()
        .verify(&r.body, &r.headers)
        .is_ok()
}

pub(crate) async fn stats(app: &TestApp, id: &str) -> Value {
    let (status, s) = app
        .get(&format!("/api/v1/webhooks/{id}/stats?window=1h&buckets=6"))
        .await;
    assert_eq!(status, StatusCode::OK, "{s}");
    s
}

async fn a_booking_reaches_its_subscriber_signed_so_the_standardwebhooks_crate_verifies_it(
    app: &TestApp,
) {
    let rx = Receiver::start().await;
    let hook = subscribe(
        app,
        &rx.url,
        json!({"event_types": ["booking.*"], "format": "standard"}),
    )
    .await;
    let secret = hook["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_"), "{hook}");
    let (cal, svc) = app.clinic().await;
    let (status, booking) = app
        .book(&cal, &svc, "2030-01-08T13:00:00Z", "+5491155551234")
        .await;
    assert_eq!(status, StatusCode::CREATED, "{booking}");

    let got = rx.wait_for(1, 10).await;
    let r = &got[0];
    assert!(verify(secret, r), "signature must verify: {:?}", r.headers);
    assert!(!verify("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD", r));
    let body = r.json();
    assert_eq!(body["type"], "booking.created");
    assert_eq!(body["data"]["id"], booking["id"]);
    assert!(
        r.header("user-agent").starts_with("turnero/"),
        "{:?}",
        r.headers
    );
    assert_eq!(r.header("content-type"), "application/json");
    // The webhook-id is the outbox event's id, so a poller and a receiver agree.
    let (_, events) = app.get("/api/v1/events?type=booking.created").await;
    assert_eq!(
        events["data"][0]["id"].as_str().unwrap(),
        r.header("webhook-id")
    );
    // The customer.created event of the same booking was not subscribed to.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(rx.received().len(), 1);
    // Reads never show the secret again.
    let (_, read) = app
        .get(&format!(
            "/api/v1/webhooks/{}",
            hook["id"].as_str().unwrap()
        ))
        .await;
    assert!(read.get("secret").is_none(), "{read}");
    assert!(!read.to_string().contains(secret));
}

async fn a_rotated_secret_signs_beside_the_old_one_and_either_verifies(app: &TestApp) {
    let rx = Receiver::start().await;
    let hook = subscribe(app, &rx.url, json!({})).await;
    let id = hook["id"].as_str().unwrap();
    let old = hook["secret"].as_str().unwrap().to_string();
    let (status, rotated) = app
        .call(
            Method::POST,
            &format!("/api/v1/webhooks/{id}/secret/rotate"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    let new = rotated["secret"].as_str().unwrap().to_string();
    assert_ne!(old, new);
    assert!(
        rotated["previous_secret_expires_at"].is_string(),
        "{rotated}"
    );

    let (status, attempt) = app
        .post(&format!("/api/v1/webhooks/{id}/test"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{attempt}");
    assert_eq!(attempt["outcome"], "success", "{attempt}");
    let r = &rx.received()[0];
    assert_eq!(r.header("webhook-signature").split(' ').count(), 2);
    assert!(verify(&old, r) && verify(&new, r));
    assert_eq!(r.json()["type"], "webhook.test");

    // A day later only the new secret signs.
    app.advance_to("2030-01-08T12:00:01Z");
    app.post(&format!("/api/v1/webhooks/{id}/test"), json!({}))
        .await;
    let r = &rx.received()[1];
    assert_eq!(r.header("webhook-signature").split(' ').count(), 1);
    assert!(verify(&new, r) && !verify(&old, r));
}

async fn a_failed_delivery_is_retried_on_schedule_with_the_same_webhook_id(app: &TestApp) {
    let rx = Receiver::start().await;
    rx.answer(503);
    let hook = subscribe(app, &rx.url, json!({"event_types": ["customer.created"]})).await;
    let id = hook["id"].as_str().unwrap();
    let (status, _) = app
        .post(
            "/api/v1/customers",
            json!({"name": "Ana", "phone": "+5491155550001"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    rx.wait_for(1, 10).await;
    // The next try is 5 s later by the schedule (±20 %): not before the clock gets there.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(rx.received().len(), 1);
    rx.answer(200);
    app.advance_to("2030-01-07T12:00:07Z");
    let got = rx.wait_for(2, 10).await;
    assert_eq!(got[0].header("webhook-id"), got[1].header("webhook-id"));
    assert_ne!(got[0].header("webhook-signature"), "");

    // Results are written by the recorder in batches, just after the receiver answered.
    let mut page = Value::Null;
    for _ in 0..100 {
        page = app.get(&format!("/api/v1/webhooks/{id}/attempts")).await.1;
        if page["data"].as_array().is_some_and(|a| a.len() == 2) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let attempts = page["data"].as_array().unwrap();
    assert_eq!(attempts.len(), 2, "{page}");
    assert_eq!(attempts[0]["outcome"], "success");
    assert_eq!(attempts[0]["attempt"], 2);
    assert_eq!(attempts[1]["outcome"], "failed");
    assert_eq!(attempts[1]["status_code"], 503);
    assert_eq!(attempts[1]["error_kind"], "http_status");
    let (_, failed) = app
        .get(&format!("/api/v1/webhooks/{id}/attempts?outcome=failed"))
        .await;
    assert_eq!(failed["data"].as_array().unwrap().len(), 1);
}

async fn a_410_gone_turns_the_endpoint_off_until_it_is_turned_on_again(app: &TestApp) {
    let rx = Receiver::start().await;
    rx.answer(410);
    let hook = subscribe(app, &rx.url, json!({"event_types": ["customer.*"]})).await;
    let id = hook["id"].as_str().unwrap();
    app.post(
        "/api/v1/customers",
        json!({"name": "A", "phone": "+5491155550002"}),
    )
    .await;
    rx.wait_for(1, 10).await;
    let mut read = Value::Null;
    for _ in 0..100 {
        read = app.get(&format!("/api/v1/webhooks/{id}")).await.1;
        if read["enabled"] == false {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(read["enabled"], false, "{read}");
    assert!(
        read["disabled_reason"].as_str().unwrap().contains("410"),
        "{read}"
    );
    let (status, problem) = app
        .post(&format!("/api/v1/webhooks/{id}/test"), json!({}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(problem["code"], "webhook_disabled");

    // Turned back on, it receives new events again.
    rx.answer(200);
    let (status, read) = app
        .call(
            Method::PATCH,
            &format!("/api/v1/webhooks/{id}"),
            Some(json!({"enabled": true})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{read}");
    assert_eq!(read["disabled_reason"], Value::Null);
    app.post(
        "/api/v1/customers",
        json!({"name": "B", "phone": "+5491155550003"}),
    )
    .await;
    let got = rx.wait_for(2, 10).await;
    assert_eq!(got[1].json()["data"]["name"], "B");
}

async fn a_response_with_a_nul_byte_is_kept_and_the_delivery_recorded_once(app: &TestApp) {
    let rx = Receiver::start().await;
    rx.respond(|_| "ok\0but odd".into());
    subscribe(app, &rx.url, json!({"event_types": ["customer.created"]})).await;
    app.post(
        "/api/v1/customers",
        json!({"name": "N", "phone": "+5491155550070"}),
    )
    .await;
    rx.wait_for(1, 10).await;
    let delivered = "SELECT COUNT(*) FROM webhook_deliveries WHERE state = 'delivered'";
    for _ in 0..100 {
        if app.count(delivered).await == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(app.count(delivered).await, 1);
    assert_eq!(rx.received().len(), 1, "recorded, so never sent again");
}

async fn custom_headers_from_the_url_form_and_the_asisteclick_format_reach_the_receiver(
    app: &TestApp,
) {
    let rx = Receiver::start().await;
    let url = format!("{}|Authorization:Bearer abc;X-Custom:valor", rx.url);
    let hook = subscribe(
        app,
        &url,
        json!({"format": "asisteclick", "event_types": ["booking.*"], "access_token": "tok-1"}),
    )
    .await;
    assert_eq!(hook["url"], rx.url);
    assert_eq!(hook["header_names"], json!(["Authorization", "X-Custom"]));
    assert_eq!(hook["has_access_token"], true);
    assert!(!hook.to_string().contains("Bearer abc"));
    let (cal, svc) = app.clinic().await;
    let (_, booking) = app
        .book(&cal, &svc, "2030-01-08T13:00:00Z", "+5491155551234")
        .await;
    let b = booking["id"].as_str().unwrap();
    let (status, _) = app
        .post(
            &format!("/api/v1/bookings/{b}/cancel"),
            json!({"reason": "no puedo"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let got = rx.wait_for(2, 10).await;
    let r = &got[0];
    assert_eq!(r.header("authorization"), "Bearer abc");
    assert_eq!(r.header("x-custom"), "valor");
    assert_eq!(r.header("asisteclick-access-token"), "tok-1");
    let mut types: Vec<String> = got
        .iter()
        .map(|r| r.json()["event_type"].as_str().unwrap().to_string())
        .collect();
    types.sort();
    assert_eq!(types, ["event_canceled", "event_created"]);
    let created = got
        .iter()
        .map(Received::json)
        .find(|v| v["event_type"] == "event_created")
        .unwrap();
    assert_eq!(created["event"]["utc_from"], "2030-01-08T13:00:00Z");
    assert_eq!(created["event"]["utc_to"], "2030-01-08T13:30:00Z");
    assert_eq!(created["event"]["calendar_title"], "Dra. Ana Pérez");
    assert_eq!(created["event"]["public_key"], booking["public_key"]);
    assert_eq!(created["customer"]["phone"], "+5491155551234");
    // booking.confirmed has no AsisteClick shape: skipped, not failed.
    let hook_id = hook["id"].as_str().unwrap();
    let (_, s) = app.get(&format!("/api/v1/webhooks/{hook_id}/stats")).await;
    assert_eq!(s["totals"]["failed"], 0, "{s}");
}

async fn bad_subscriptions_are_refused_with_the_field_and_nothing_is_stored(app: &TestApp) {
    let cases = [
        (
            json!({"url": "http://x.example/", "event_types": ["booking.creatd"]}),
            "event_types[0]",
            "unknown_event_type",
        ),
        (json!({"url": "ftp://x.example/"}), "url", "url_refused"),
        (
            json!({"url": "http://x.example/", "format": "xml"}),
            "format",
            "unknown_format",
        ),
        (
            json!({"url": "http://x.example/", "channel": "fax"}),
            "channel",
            "unknown_channel",
        ),
        (
            json!({"url": "http://x.example/", "headers": {"webhook-id": "x"}}),
            "headers.webhook-id",
            "reserved_header",
        ),
        (
            json!({"url": "http://x.example/|Broken"}),
            "url",
            "invalid_header",
        ),
        (
            json!({"url": "http://x.example/", "secret": "whsec_short"}),
            "secret",
            "invalid_secret",
        ),
    ];
    for (body, field, code) in cases {
        let (status, problem) = app.post("/api/v1/webhooks", body.clone()).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {problem}"
        );
        assert_eq!(problem["field"], field, "{body}: {problem}");
        assert_eq!(problem["code"], code, "{body}: {problem}");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM webhooks").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM webhook_filters").await, 0);
}

async fn another_tenants_webhooks_events_and_attempts_are_not_found(app: &TestApp) {
    let rx = Receiver::start().await;
    let hook = subscribe(app, &rx.url, json!({})).await;
    let id = hook["id"].as_str().unwrap();
    app.post(
        "/api/v1/customers",
        json!({"name": "A", "phone": "+5491155550004"}),
    )
    .await;
    rx.wait_for(1, 10).await;
    let other = app.new_tenant("Otra").await;
    for (method, path) in [
        (Method::GET, format!("/api/v1/webhooks/{id}")),
        (Method::PATCH, format!("/api/v1/webhooks/{id}")),
        (Method::DELETE, format!("/api/v1/webhooks/{id}")),
        (Method::GET, format!("/api/v1/webhooks/{id}/stats")),
        (Method::GET, format!("/api/v1/webhooks/{id}/attempts")),
        (Method::POST, format!("/api/v1/webhooks/{id}/test")),
        (Method::POST, format!("/api/v1/webhooks/{id}/secret/rotate")),
    ] {
        let body = (method == Method::PATCH).then(|| json!({"enabled": false}));
        let (status, _) = app.call_as(&other, method.clone(), &path, body).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}");
    }
    let (_, theirs) = app
        .call_as(&other, Method::GET, "/api/v1/events", None)
        .await;
    assert_eq!(theirs["data"], json!([]));
    let (_, list) = app
        .call_as(&other, Method::GET, "/api/v1/webhooks", None)
        .await;
    assert_eq!(list, json!([]));
    // The other tenant's customers never reach this tenant's endpoint.
    app.call_as(
        &other,
        Method::POST,
        "/api/v1/customers",
        Some(json!({"name": "Z", "phone": "+5491155550005"})),
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(rx.received().len(), 1);
}

async fn events_are_listed_oldest_first_with_type_filters_and_cursor_paging(app: &TestApp) {
    for i in 0..5 {
        app.post(
            "/api/v1/customers",
            json!({"name": format!("C{i}"), "phone": format!("+549115555010{i}")}),
        )
        .await;
    }
    let (cal, _) = app.clinic().await;
    let (_, page) = app
        .get("/api/v1/events?type=customer.created&limit=2")
        .await;
    let first: Vec<&str> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["data"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(first, ["C0", "C1"]);
    let cursor = page["next_cursor"].as_str().unwrap();
    let (_, next) = app
        .get(&format!(
            "/api/v1/events?type=customer.created&limit=2&cursor={cursor}"
        ))
        .await;
    assert_eq!(next["data"][0]["data"]["name"], "C2");
    let (_, cals) = app.get("/api/v1/events?type=calendar.*").await;
    assert_eq!(cals["data"].as_array().unwrap().len(), 1);
    assert_eq!(cals["data"][0]["subject_id"], cal.as_str());
    assert_eq!(cals["data"][0]["type"], "calendar.created");
    let (_, none) = app.get("/api/v1/events?since=2030-01-07T12:00:01Z").await;
    assert_eq!(none["data"], json!([]));
    let (status, problem) = app.get("/api/v1/events?type=nope").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["field"], "type");
}

async fn a_test_send_answers_its_attempt_and_a_resend_marks_a_given_up_delivery_done(
    app: &TestApp,
) {
    let rx = Receiver::start().await;
    rx.answer(500);
    let hook = subscribe(app, &rx.url, json!({"event_types": ["customer.created"]})).await;
    let id = hook["id"].as_str().unwrap();
    let (_, attempt) = app
        .post(&format!("/api/v1/webhooks/{id}/test"), json!({}))
        .await;
    assert_eq!(attempt["outcome"], "failed", "{attempt}");
    assert_eq!(attempt["trigger"], "test");
    assert_eq!(attempt["status_code"], 500);
    assert!(attempt["duration_ms"].as_i64().is_some());
    // A failing test is not retried.
    app.post(
        "/api/v1/customers",
        json!({"name": "A", "phone": "+5491155550006"}),
    )
    .await;
    rx.wait_for(2, 10).await;
    // Give up on it quickly: the test app's schedule allows 8 attempts; move through them.
    // Before each jump, the attempt the receiver saw must be recorded, or its retry would be
    // scheduled from the clock after the jump.
    let recorded = format!("SELECT COUNT(*) FROM webhook_attempts WHERE webhook_id = '{id}'");
    for step in 1..=7 {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while app.count(&recorded).await < 1 + step as i64 {
            assert!(
                std::time::Instant::now() < deadline,
                "attempt {step} never recorded"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        app.advance_to(&format!("2030-01-{:02}T12:00:00Z", 7 + step));
        rx.wait_for(2 + step, 10).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let s = stats(app, id).await;
    assert_eq!(s["queue"]["failed"], 1, "{s}");
    assert_eq!(
        rx.received().len(),
        9,
        "one test and eight attempts, never a ninth"
    );

    rx.answer(200);
    let (_, page) = app
        .get(&format!(
            "/api/v1/webhooks/{id}/attempts?outcome=failed&limit=1"
        ))
        .await;
    let last = page["data"][0]["id"].as_str().unwrap();
    let (status, resent) = app
        .post(
            &format!("/api/v1/webhooks/{id}/attempts/{last}/resend"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{resent}");
    assert_eq!(resent["outcome"], "success");
    assert_eq!(resent["trigger"], "manual");
    assert_eq!(resent["attempt"], 9);
    let s = stats(app, id).await;
    assert_eq!(s["queue"]["failed"], 0, "{s}");
    // Recover finds nothing left to re-queue.
    let (status, rec) = app
        .post(
            &format!("/api/v1/webhooks/{id}/recover"),
            json!({"since": "2030-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(rec["requeued"], 0);
}

crate::on_both_backends!(
    a_booking_reaches_its_subscriber_signed_so_the_standardwebhooks_crate_verifies_it,
    a_rotated_secret_signs_beside_the_old_one_and_either_verifies,
    a_failed_delivery_is_retried_on_schedule_with_the_same_webhook_id,
    a_410_gone_turns_the_endpoint_off_until_it_is_turned_on_again,
    a_response_with_a_nul_byte_is_kept_and_the_delivery_recorded_once,
    custom_headers_from_the_url_form_and_the_asisteclick_format_reach_the_receiver,
    bad_subscriptions_are_refused_with_the_field_and_nothing_is_stored,
    another_tenants_webhooks_events_and_attempts_are_not_found,
    events_are_listed_oldest_first_with_type_filters_and_cursor_paging,
    a_test_send_answers_its_attempt_and_a_resend_marks_a_given_up_delivery_done,
);
