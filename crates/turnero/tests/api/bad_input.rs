//! Bad input gets a clear 4xx problem body and leaves nothing half-written.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::TestApp;

crate::on_both_backends!(
    malformed_or_misshapen_bodies_are_refused_with_the_offending_field,
    impossible_times_zones_and_phones_are_refused_without_a_partial_write,
    out_of_hours_and_out_of_window_bookings_are_refused,
    oversized_bodies_wrong_media_types_and_missing_keys_get_problems,
    a_nul_character_in_any_text_is_refused_with_its_field_and_nothing_stored,
    a_nul_character_in_a_whatsapp_message_is_dropped_and_the_message_answered,
);

fn assert_problem(
    status: StatusCode,
    body: &Value,
    want_status: StatusCode,
    code: &str,
    field: Option<&str>,
) {
    assert_eq!(status, want_status, "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["status"], want_status.as_u16());
    assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()));
    if let Some(f) = field {
        assert_eq!(body["field"], f, "{body}");
    }
}

async fn raw(
    app: &TestApp,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
) -> (StatusCode, Value, String) {
    let resp = app
        .client
        .post(format!("{}{path}", app.server.url()))
        .bearer_auth(&app.key)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let ct = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, resp.json().await.unwrap_or(Value::Null), ct)
}

async fn malformed_or_misshapen_bodies_are_refused_with_the_offending_field(app: &TestApp) {
    let (status, p, ct) = raw(
        app,
        "/api/v1/calendars",
        "application/json",
        b"{\"name\": ".to_vec(),
    )
    .await;
    assert_problem(status, &p, StatusCode::BAD_REQUEST, "malformed_json", None);
    assert_eq!(ct, "application/problem+json");
    let (status, p) = app
        .post("/api/v1/calendars", json!({"name": "X", "capacity": "two"}))
        .await;
    assert_problem(
        status,
        &p,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
        Some("capacity"),
    );
    let (status, p) = app
        .post("/api/v1/calendars", json!({"name": "X", "colour": "red"}))
        .await;
    assert_problem(
        status,
        &p,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
        None,
    );
    let (status, p) = app
        .post(
            "/api/v1/calendars",
            json!({"name": "X", "weekly_hours": [{"weekday": "mon", "start": "09:00"}]}),
        )
        .await;
    assert_problem(
        status,
        &p,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
        Some("weekly_hours[0]"),
    );
    let (status, p) = app.post("/api/v1/calendars", json!({"name": "  "})).await;
    assert_problem(
        status,
        &p,
        StatusCode::UNPROCESSABLE_ENTITY,
        "required",
        Some("name"),
    );
    let (status, p) = app
        .post(
            "/api/v1/services",
            json!({"name": "S", "duration_minutes": 0}),
        )
        .await;
    assert_problem(
        status,
        &p,
        StatusCode::UNPROCESSABLE_ENTITY,
        "out_of_range",
        Some("duration_minutes"),
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM calendars").await, 0);
}

async fn impossible_times_zones_and_phones_are_refused_without_a_partial_write(app: &TestApp) {
    let (status, p) = app
        .post(
            "/api/v1/calendars",
            json!({"name": "X", "timezone": "America/Atlantis"}),
        )
        .await;
    assert_problem(
        status,
        &p,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_timezone",
        Some("timezone"),
    );
    let (status, p) = app.post("/api/v1/calendars", json!({"name": "X", "weekly_hours": [
        {"weekday": "mon", "start": "09:00", "end": "13:00"}, {"weekday": "mon", "start": "25:00", "end": "26:00"}]})).await;
    assert_problem(
        status,
        &p,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_time",
        Some("weekly_hours[1].start"),
    );
    let (status, p) = app.post("/api/v1/calendars", json!({"name": "X", "weekly_hours": [
        {"weekday": "mon", "start": "09:00", "end": "13:00"}, {"weekday": "mon", "start": "12:00", "end": "14:00"}]})).await;
    assert_problem(
        status,
        &p,
        StatusCode::UNPROCESSABLE_ENTITY,
        "overlapping_hours",
        Some("weekly_hours[1]"),
    );
    let (status, p) = app.post("/api/v1/calendars", json!({"name": "X", "weekly_hours": [{"weekday": "funday", "start": "09:00", "end": "13:00"}]})).await;
    assert_problem(
        status,
        &p,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_weekday",
        Some("weekly_hours[0].weekday"),
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM calendars").await, 0);

    let (cal, svc) = app.clinic().await;
    let (status, p) = app.book(&cal, &svc, "2030-01-07T13:00:00Z", "12").await;
    assert_problem(
        status,
        &p,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_phone",
        Some("customer.phone"),
    );
    let (status, p) = app
        .book(&cal, &svc, "2030-02-30T13:00:00Z", "5491122334455")
        .await;
    assert_problem(
        status,
        &p,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_instant",
        Some("start"),
    );
    let (status, p) = app
        .book(&cal, &svc, "2030-01-07T10:00:00", "5491122334455")
        .await;
    assert_problem(
        status,
        &p,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_instant",
        Some("start"),
    );
    let (status, p) = app
        .get(&format!(
            "/api/v1/calendars/{cal}/slots?service_id={svc}&start=yesterday"
        ))
        .await;
    assert_problem(
        status,
        &p,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_instant",
        Some("start"),
    );
    let (status, p) = app.get(&format!("/api/v1/calendars/{cal}/slots?service_id={svc}&start=2030-01-07T00:00:00Z&end=2030-12-07T00:00:00Z")).await;
    assert_problem(
        status,
        &p,
        StatusCode::UNPROCESSABLE_ENTITY,
        "range_too_large",
        Some("end"),
    );
    let (status, p) = app
        .get(&format!(
            "/api/v1/calendars/{cal}/slots?service_id={svc}&bogus=1"
        ))
        .await;
    assert_problem(status, &p, StatusCode::BAD_REQUEST, "invalid_query", None);
    assert_eq!(app.count("SELECT COUNT(*) FROM customers").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM bookings").await, 0);
}

async fn out_of_hours_and_out_of_window_bookings_are_refused(app: &TestApp) {
    let (cal, svc) = app
        .clinic_with(json!({"policy": {"min_notice_minutes": 120, "max_days_ahead": 30}}))
        .await;
    // 12:45 local: the 30 minutes would run past 13:00.
    let (status, p) = app
        .book(&cal, &svc, "2030-01-07T15:45:00Z", "5491122334455")
        .await;
    assert_problem(
        status,
        &p,
        StatusCode::UNPROCESSABLE_ENTITY,
        "outside_hours",
        Some("start"),
    );
    let (status, p) = app
        .book(&cal, &svc, "2030-01-12T13:00:00Z", "5491122334455")
        .await;
    assert_problem(
        status,
        &p,
        StatusCode::UNPROCESSABLE_ENTITY,
        "outside_hours",
        Some("start"),
    );
    let (status, p) = app
        .book(&cal, &svc, "2030-01-07T13:00:00Z", "5491122334455")
        .await;
    assert_problem(
        status,
        &p,
        StatusCode::UNPROCESSABLE_ENTITY,
        "outside_booking_window",
        Some("start"),
    );
    let (status, p) = app
        .book(&cal, &svc, "2030-03-04T13:00:00Z", "5491122334455")
        .await;
    assert_problem(
        status,
        &p,
        StatusCode::UNPROCESSABLE_ENTITY,
        "outside_booking_window",
        Some("start"),
    );
    let (status, _) = app
        .book(&cal, &svc, "2030-01-07T14:00:00Z", "5491122334455")
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(app.count("SELECT COUNT(*) FROM bookings").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM customers").await, 1);
}

async fn oversized_bodies_wrong_media_types_and_missing_keys_get_problems(app: &TestApp) {
    let big = format!("{{\"name\": \"{}\"}}", "x".repeat(100_000)).into_bytes();
    let (status, p, _) = raw(app, "/api/v1/calendars", "application/json", big).await;
    assert_problem(
        status,
        &p,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        None,
    );
    let (status, p, _) = raw(app, "/api/v1/calendars", "text/plain", b"{}".to_vec()).await;
    assert_problem(
        status,
        &p,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        None,
    );
    let (status, p) = app
        .call_as("trn_wrong", Method::GET, "/api/v1/calendars", None)
        .await;
    assert_problem(status, &p, StatusCode::UNAUTHORIZED, "unauthorized", None);
    let resp = app
        .client
        .get(format!("{}/api/v1/calendars", app.server.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let (status, p) = app.get("/api/v1/nothing-here").await;
    assert_problem(status, &p, StatusCode::NOT_FOUND, "not_found", None);
    let (status, p) = app.call(Method::DELETE, "/api/v1/calendars", None).await;
    assert_problem(
        status,
        &p,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        None,
    );
    let (status, p) = app.get("/api/v1/bookings/bkg_nonsense").await;
    assert_problem(status, &p, StatusCode::NOT_FOUND, "not_found", None);
    assert_eq!(app.count("SELECT COUNT(*) FROM calendars").await, 0);
}

async fn a_nul_character_in_any_text_is_refused_with_its_field_and_nothing_stored(app: &TestApp) {
    let (status, body) = app
        .post(
            "/api/v1/calendars",
            json!({"name": "Dra.\u{0}Pérez", "timezone": "America/Sao_Paulo"}),
        )
        .await;
    assert_problem(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
        Some("name"),
    );
    let (status, body) = app
        .post(
            "/api/v1/customers",
            json!({"name": "Ana", "custom_fields": {"plan\u{0}": "x"}}),
        )
        .await;
    assert_problem(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
        Some("custom_fields.plan"),
    );
    let (status, body) = app
        .post(
            "/api/v1/webhooks",
            json!({"url": "https://hooks.example.com/x", "description": "a\u{0}b"}),
        )
        .await;
    assert_problem(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
        Some("description"),
    );
    let (status, body) = app.get("/api/v1/customers?cursor=%00").await;
    assert_problem(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
        Some("cursor"),
    );
    for table in ["calendars", "customers", "webhooks"] {
        assert_eq!(
            app.count(&format!("SELECT COUNT(*) FROM {table}")).await,
            0,
            "{table}"
        );
    }
    // A backslash followed by `u0000` is just text.
    let (status, body) = app
        .post("/api/v1/customers", json!({"name": "C:\\u0000 Ana"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

async fn a_nul_character_in_a_whatsapp_message_is_dropped_and_the_message_answered(app: &TestApp) {
    app.clinic().await;
    let mut p = crate::patient::Patient::new(app).await;
    let menu = p.says("ho\u{0}la").await;
    assert_eq!(
        crate::patient::button_ids(&menu[0]),
        ["book", "mine", "agent"]
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM chat_inbox WHERE text = 'hola'")
            .await,
        1
    );
}
