//! The seed's own AsisteClick callback (a booking for 2025-01-15, in the past today) against
//! a real `turnero serve` on the real clock: it is a booking AsisteClick's bot already made,
//! so it is mirrored as staff would book it (notice, horizon and hours do not apply), and
//! the same time a second time, taken now, is kept as a conflict for the clinic to call.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::{fresh_database, Backend};
use crate::processes::{serve_with, tenant_create};

const TOKEN: &str = "tu_access_token_secreto";

async fn the_seeds_test_callback_from_2025_is_mirrored_on_the_real_clock(backend: Backend) {
    let (url, _schema, _dir) = fresh_database(backend).await;
    let key = tenant_create(&url)["api_key"].as_str().unwrap().to_string();
    let server = serve_with(&url, &[]);
    let client = reqwest::Client::new();
    let call = |method: reqwest::Method, path: &str, body: Value| {
        client
            .request(method, format!("{}/api/v1{path}", server.1))
            .bearer_auth(&key)
            .json(&body)
            .send()
    };
    // Weekday mornings only, bookable from an hour ahead: 2025 and Wednesday 13:00 UTC are
    // both outside what the clinic's own API would take.
    let week: Vec<Value> = ["mon", "tue", "wed", "thu", "fri"]
        .iter()
        .map(|d| json!({"weekday": d, "start": "09:00", "end": "10:00"}))
        .collect();
    let cal: Value = call(
        reqwest::Method::POST,
        "/calendars",
        json!({"name": "Dr. García",
        "timezone": "America/Argentina/Buenos_Aires", "weekly_hours": week,
        "policy": {"min_notice_minutes": 60, "max_days_ahead": 30}}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let cal = cal["id"].as_str().unwrap().to_string();
    call(
        reqwest::Method::POST,
        "/services",
        json!({"name": "Consulta", "duration_minutes": 30, "calendar_ids": [cal]}),
    )
    .await
    .unwrap();
    let on: Value = call(
        reqwest::Method::PUT,
        "/integrations/asisteclick",
        json!({"access_token": TOKEN, "calendar_map": {"5": cal}}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let callback_url = on["callback_url"].as_str().unwrap().to_string();

    // The seed's "probar el callback" curl, as written (13:00 UTC is 10:00 in Buenos Aires,
    // after the clinic closes).
    let seed = r##"{ "event_type": "event_created", "ticket_id": "#TEST123", "customer": { "name": "Usuario Prueba", "phone": "+5491155550000", "email": "test@ejemplo.com" }, "event": { "id": 1, "calendar_id": 5, "utc_from": "2025-01-15T13:00:00Z", "utc_to": "2025-01-15T13:30:00Z", "location": "Consultorio Test", "public_key": "testkey1" } }"##;
    let post = |body: String| {
        client
            .post(&callback_url)
            .header("content-type", "application/json")
            .header("AsisteClick-Access-Token", TOKEN)
            .body(body)
            .send()
    };
    let resp = post(seed.to_string()).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let ok: Value = resp.json().await.unwrap();
    let id = ok["external_id"].as_str().unwrap().to_string();
    let booking: Value = call(
        reqwest::Method::GET,
        &format!("/bookings/{id}"),
        Value::Null,
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(booking["start"], "2025-01-15T13:00:00Z");
    assert_eq!(booking["source"], "asisteclick");

    // Another patient booked by AsisteClick at the same time: capacity still applies.
    let other = seed
        .replace("testkey1", "testkey2")
        .replace("+5491155550000", "+5491155550001");
    let resp = post(other).await.unwrap();
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    let refused: Value = resp.json().await.unwrap();
    assert!(
        refused["error"].is_string(),
        "the seed's error shape: {refused}"
    );
    let conflicts: Value = call(
        reqwest::Method::GET,
        "/integrations/asisteclick/conflicts",
        Value::Null,
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(conflicts[0]["public_key"], "testkey2", "{conflicts}");
    drop(server);
}

crate::with_each_backend!(the_seeds_test_callback_from_2025_is_mirrored_on_the_real_clock);
