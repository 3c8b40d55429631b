//! turnero as the external agenda of AsisteClick's booking bot (seed 000): the seed's own
//! payloads and curl examples, sent as written (with the wire names restored), against the
//! URLs `PUT /integrations/asisteclick` hands out.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::TestApp;

/// Wednesday 2025-01-15 is two days ahead: the seed's dates are bookable.
pub(crate) const SEED_MONDAY: &str = "2025-01-13T12:00:00Z";
pub(crate) const TOKEN: &str = "tu-token-secreto";

/// The seed's availability request: AsisteClick's native slots for calendar 5.
pub(crate) fn seed_availability() -> Value {
    json!({
        "calendar_id": 5,
        "timezone": "-3",
        "preferred": "2025-01-15T10:00:00",
        "count": 6,
        "start_date": "2025-01-15",
        "end_date": "2025-01-22",
        "slots": [
            {"text": "Miércoles 15 de enero 09:00", "isoLocal": "2025-01-15T09:00:00", "iso": "2025-01-15T12:00:00Z", "id": "slot_001"},
            {"text": "Miércoles 15 de enero 10:00", "isoLocal": "2025-01-15T10:00:00", "iso": "2025-01-15T13:00:00Z", "id": "slot_002"},
            {"text": "Miércoles 15 de enero 11:00", "isoLocal": "2025-01-15T11:00:00", "iso": "2025-01-15T14:00:00Z", "id": "slot_003"}
        ]
    })
}

/// The seed's complete callback payload.
pub(crate) fn seed_callback(event_type: &str, utc_from: &str, utc_to: &str) -> Value {
    json!({
        "event_type": event_type,
        "ticket_id": "#A1B2C3",
        "key": "d41d8cd98f00b204e9800998ecf8427e",
        "timestamp": "2025-01-15T10:30:00Z",
        "channel": "whatsapp",
        "source": "whatsapp_api",
        "source_id": "+5491155551234",
        "status": "open",
        "subject": "Reserva de turno",
        "bot": {"id": 123, "name": "Bot de Turnos"},
        "agent": {"id": null, "name": null, "email": null},
        "department": {"id": 5, "name": "Atención al cliente"},
        "customer": {
            "fingerprint": "abc123xyz", "name": "Juan Pérez", "email": "juan@ejemplo.com",
            "phone": "+5491155551234", "facebook_id": null, "sentiment": null,
            "ip": "190.100.50.25", "browser_os": "WhatsApp/2.23.5", "country_code": "AR",
            "country_name": "Argentina"
        },
        "event": {
            "id": 456, "calendar_id": 5, "calendar_title": "Turnos Consulta",
            "utc_from": utc_from, "utc_to": utc_to,
            "location": "Consultorio 3, Piso 2", "public_key": "xy7k9m2p"
        },
        "messages": [
            {"action": "in", "timestamp": "2025-01-15T10:25:00Z", "name": "Juan Pérez", "message": "Hola, quiero sacar un turno", "attachments": null},
            {"action": "out", "timestamp": "2025-01-15T10:25:05Z", "name": "Bot de Turnos", "message": "¡Perfecto! Estos son los horarios disponibles:", "attachments": null}
        ],
        "tags": ["turno", "consulta general"],
        "custom_fields": [
            {"id": "motivo_consulta", "value": "Control anual"},
            {"id": "obra_social", "value": "OSDE"}
        ]
    })
}

pub(crate) struct Wired {
    pub cal: String,
    pub svc: String,
    pub availability_url: String,
    pub callback_url: String,
}

/// Maps AsisteClick's calendar 5 to `cal`; answers the integration.
async fn map_calendar_5(app: &TestApp, cal: &str) -> Value {
    let (status, on) = app
        .call(
            reqwest::Method::PUT,
            "/api/v1/integrations/asisteclick",
            Some(json!({"access_token": TOKEN, "calendar_map": {"5": cal}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{on}");
    on
}

/// A clinic with calendar 5 mapped, on the seed's week.
pub(crate) async fn wired(app: &TestApp) -> Wired {
    app.advance_to(SEED_MONDAY);
    let (cal, svc) = app.clinic().await;
    let on = map_calendar_5(app, &cal).await;
    assert_eq!(on["calendar_map"]["5"]["service_id"], svc.as_str());
    Wired {
        cal,
        svc,
        availability_url: on["availability_url"].as_str().unwrap().to_string(),
        callback_url: on["callback_url"].as_str().unwrap().to_string(),
    }
}

/// Posts as AsisteClick does: no API key; answers status and the raw body.
pub(crate) async fn send(url: &str, token: Option<&str>, body: &str) -> (StatusCode, String) {
    let mut req = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .header("user-agent", "AsisteClick-Booking/2.0")
        .body(body.to_string());
    if let Some(t) = token {
        req = req.header("AsisteClick-Access-Token", t);
    }
    let resp = req.send().await.unwrap();
    (resp.status(), resp.text().await.unwrap())
}

pub(crate) async fn send_json(url: &str, token: Option<&str>, body: &Value) -> (StatusCode, Value) {
    let (status, text) = send(url, token, &body.to_string()).await;
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn availability_keeps_free_slots_untouched_and_drops_booked_and_held_ones(app: &TestApp) {
    let w = wired(app).await;
    let (status, booked) = app
        .book(&w.cal, &w.svc, "2025-01-15T13:00:00Z", "+5491155667788")
        .await;
    assert_eq!(status, StatusCode::CREATED, "{booked}");
    let request = seed_availability().to_string();
    let (status, text) = send(&w.availability_url, None, &request).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    // The kept slots come back exactly as they were sent (key order included).
    let slot = |i: usize| seed_availability()["slots"][i].to_string();
    assert_eq!(
        text,
        format!(
            "{{\"slots\":[{},{}],\"showBeforeButton\":true,\"showAfterButton\":true}}",
            slot(0),
            slot(2)
        )
    );

    let (status, hold) = app
        .post(
            "/api/v1/holds",
            json!({"calendar_id": w.cal, "service_id": w.svc, "start": "2025-01-15T12:00:00Z"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{hold}");
    let (_, answer) = send_json(&w.availability_url, None, &seed_availability()).await;
    let ids: Vec<&str> = answer["slots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["slot_003"]);
}

async fn availability_reads_slots_by_local_time_and_honours_count_and_closed_hours(app: &TestApp) {
    let w = wired(app).await;
    // No `iso`: the local time at the request's hour offset. 13:30 local is after closing.
    let request = json!({
        "calendar_id": "5", "timezone": "-03:00", "preferred": null, "count": 1,
        "slots": [
            {"isoLocal": "2025-01-15T13:30:00", "id": "late"},
            {"isoLocal": "2025-01-15T09:30:00", "id": "a"},
            {"isoLocal": "2025-01-15T10:30:00", "id": "b"},
            {"id": "no time at all"}
        ]
    });
    let (status, answer) = send_json(&w.availability_url, None, &request).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(
        answer["slots"],
        json!([{"isoLocal": "2025-01-15T09:30:00", "id": "a"}])
    );
    assert_eq!(answer["showAfterButton"], true, "count cut the list");
}

async fn the_seeds_curl_examples_work_as_written(app: &TestApp) {
    let w = wired(app).await;
    let (status, answer) = send(
        &w.availability_url,
        None,
        r#"{ "calendar_id": 5, "timezone": "-3", "preferred": null, "count": 6, "start_date": "2025-01-15", "end_date": "2025-01-22", "slots": [ { "text": "Miércoles 15 de enero 10:00", "isoLocal": "2025-01-15T10:00:00", "iso": "2025-01-15T13:00:00Z", "id": "slot_001" } ] }"#,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert!(
        answer.contains(r#""id": "slot_001""#),
        "kept as sent: {answer}"
    );

    let callback = r##"{ "event_type": "event_created", "ticket_id": "#TEST123", "customer": { "name": "Usuario Prueba", "phone": "+5491155550000", "email": "test@ejemplo.com" }, "event": { "id": 1, "calendar_id": 5, "utc_from": "2025-01-15T13:00:00Z", "utc_to": "2025-01-15T13:30:00Z", "location": "Consultorio Test", "public_key": "testkey1" } }"##;
    let (status, text) = send(&w.callback_url, Some(TOKEN), callback).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let ok: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(ok["status"], "ok");
    let id = ok["external_id"].as_str().unwrap();
    let (_, booking) = app.get(&format!("/api/v1/bookings/{id}")).await;
    assert_eq!(booking["start"], "2025-01-15T13:00:00Z");
    assert_eq!(booking["source"], "asisteclick");
    assert_eq!(booking["customer"]["phone"], "+5491155550000");
    let (_, external) = app.get(&format!("/api/v1/bookings/{id}/external")).await;
    assert_eq!(external[0]["external_key"], "testkey1");
    assert_eq!(external[0]["data"]["ticket_id"], "#TEST123");
    assert_eq!(external[0]["data"]["event"]["location"], "Consultorio Test");

    // The slot it took is no longer offered.
    let (_, answer) = send_json(&w.availability_url, None, &seed_availability()).await;
    assert!(!answer.to_string().contains("slot_002"), "{answer}");
}

async fn a_callback_without_the_right_token_is_refused_and_writes_nothing(app: &TestApp) {
    let w = wired(app).await;
    let body = seed_callback(
        "event_created",
        "2025-01-15T13:00:00Z",
        "2025-01-15T13:30:00Z",
    );
    for token in [None, Some("otro-token")] {
        let (status, answer) = send_json(&w.callback_url, token, &body).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{answer}");
        assert!(answer["error"].is_string(), "{answer}");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM bookings").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM customers").await, 0);
}

async fn unknown_calendars_and_keys_answer_the_seeds_error_shape(app: &TestApp) {
    let w = wired(app).await;
    let mut request = seed_availability();
    request["calendar_id"] = json!(99);
    let (status, answer) = send_json(&w.availability_url, None, &request).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(answer["error"].as_str().unwrap().contains("99"), "{answer}");

    let wrong = w
        .availability_url
        .replace("/compat/asisteclick/", "/compat/asisteclick/0");
    let (status, answer) = send_json(&wrong, None, &seed_availability()).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");

    let (status, answer) = send(&w.availability_url, None, "{not json").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");

    let mut body = seed_callback(
        "event_created",
        "2025-01-15T13:00:00Z",
        "2025-01-15T13:30:00Z",
    );
    body["event"]["calendar_id"] = json!(7);
    let (status, answer) = send_json(&w.callback_url, Some(TOKEN), &body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert_eq!(app.count("SELECT COUNT(*) FROM bookings").await, 0);
}

async fn created_updated_and_canceled_callbacks_are_idempotent(app: &TestApp) {
    let w = wired(app).await;
    let created = seed_callback(
        "event_created",
        "2025-01-15T13:00:00Z",
        "2025-01-15T13:30:00Z",
    );
    let (status, first) = send_json(&w.callback_url, Some(TOKEN), &created).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let (status, again) = send_json(&w.callback_url, Some(TOKEN), &created).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(first["external_id"], again["external_id"]);
    assert_eq!(app.count("SELECT COUNT(*) FROM bookings").await, 1);
    let id = first["external_id"].as_str().unwrap().to_string();
    let (_, booking) = app.get(&format!("/api/v1/bookings/{id}")).await;
    assert_eq!(
        booking["custom_fields"],
        json!({"motivo_consulta": "Control anual", "obra_social": "OSDE"})
    );
    assert_eq!(booking["customer"]["name"], "Juan Pérez");
    let (_, external) = app.get(&format!("/api/v1/bookings/{id}/external")).await;
    assert_eq!(external[0]["data"]["messages"].as_array().unwrap().len(), 2);

    let moved = seed_callback(
        "event_updated",
        "2025-01-15T14:00:00Z",
        "2025-01-15T14:30:00Z",
    );
    for _ in 0..2 {
        let (status, answer) = send_json(&w.callback_url, Some(TOKEN), &moved).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        assert_eq!(answer["external_id"], id.as_str());
    }
    let (_, booking) = app.get(&format!("/api/v1/bookings/{id}")).await;
    assert_eq!(booking["start"], "2025-01-15T14:00:00Z");

    let canceled = seed_callback(
        "event_canceled",
        "2025-01-15T14:00:00Z",
        "2025-01-15T14:30:00Z",
    );
    for _ in 0..2 {
        let (status, answer) = send_json(&w.callback_url, Some(TOKEN), &canceled).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
    }
    let (_, booking) = app.get(&format!("/api/v1/bookings/{id}")).await;
    assert_eq!(booking["status"], "canceled");
    let (_, history) = app.get(&format!("/api/v1/bookings/{id}/history")).await;
    let actions: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["created", "rescheduled", "canceled"], "{history}");
    let events = app
        .count("SELECT COUNT(*) FROM events WHERE type LIKE 'booking.%'")
        .await;
    assert_eq!(events, 3, "one event per change, none for the repeats");
}

async fn an_older_update_retried_after_a_newer_one_does_not_move_the_booking_back(app: &TestApp) {
    let w = wired(app).await;
    let created = seed_callback(
        "event_created",
        "2025-01-15T13:00:00Z",
        "2025-01-15T13:30:00Z",
    );
    let (status, first) = send_json(&w.callback_url, Some(TOKEN), &created).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let id = first["external_id"].as_str().unwrap().to_string();
    let update = |from: &str, to: &str, sent: &str| {
        let mut u = seed_callback("event_updated", from, to);
        u["timestamp"] = json!(sent);
        u
    };
    let to_14 = update(
        "2025-01-15T14:00:00Z",
        "2025-01-15T14:30:00Z",
        "2025-01-15T10:40:00Z",
    );
    let to_15 = update(
        "2025-01-15T15:00:00Z",
        "2025-01-15T15:30:00Z",
        "2025-01-15T10:50:00Z",
    );
    for body in [&to_14, &to_15, &to_14] {
        let (status, answer) = send_json(&w.callback_url, Some(TOKEN), body).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
    }
    let (_, booking) = app.get(&format!("/api/v1/bookings/{id}")).await;
    assert_eq!(
        booking["start"], "2025-01-15T15:00:00Z",
        "the newest update stands"
    );
    let moves = app
        .count(&format!("SELECT COUNT(*) FROM booking_history WHERE booking_id = '{id}' AND action = 'rescheduled'"))
        .await;
    assert_eq!(moves, 2);
}

async fn the_same_callback_twice_at_once_makes_one_booking(app: &TestApp) {
    let w = wired(app).await;
    let created = seed_callback(
        "event_created",
        "2025-01-15T13:00:00Z",
        "2025-01-15T13:30:00Z",
    );
    let (one, two) = tokio::join!(
        send_json(&w.callback_url, Some(TOKEN), &created),
        send_json(&w.callback_url, Some(TOKEN), &created)
    );
    assert_eq!(one.0, StatusCode::OK, "{}", one.1);
    assert_eq!(two.0, StatusCode::OK, "{}", two.1);
    assert_eq!(one.1["external_id"], two.1["external_id"]);
    assert_eq!(app.count("SELECT COUNT(*) FROM bookings").await, 1);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM booking_external_refs")
            .await,
        1
    );
}

async fn a_callback_for_a_taken_slot_is_refused_in_the_seeds_shape(app: &TestApp) {
    let w = wired(app).await;
    let (status, _) = app
        .book(&w.cal, &w.svc, "2025-01-15T13:00:00Z", "+5491155667788")
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let created = seed_callback(
        "event_created",
        "2025-01-15T13:00:00Z",
        "2025-01-15T13:30:00Z",
    );
    let (status, answer) = send_json(&w.callback_url, Some(TOKEN), &created).await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    assert_eq!(answer["code"], "slot_unavailable");
    assert!(answer["error"].is_string(), "{answer}");
    assert_eq!(app.count("SELECT COUNT(*) FROM bookings").await, 1);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM booking_external_refs")
            .await,
        0
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM customers WHERE phone = '+5491155551234'")
            .await,
        0,
        "no booking, customer or reference of the refused one"
    );
    // Kept and announced: the patient believes they have this appointment.
    let (status, conflicts) = app.get("/api/v1/integrations/asisteclick/conflicts").await;
    assert_eq!(status, StatusCode::OK);
    let c = &conflicts[0];
    assert_eq!(c["public_key"], "xy7k9m2p", "{conflicts}");
    assert_eq!(c["code"], "slot_unavailable");
    assert_eq!(c["start"], "2025-01-15T13:00:00Z");
    assert_eq!(c["callback"]["customer"]["phone"], "+5491155551234");
    let (_, events) = app.get("/api/v1/events?type=booking.conflict").await;
    assert_eq!(
        events["data"][0]["data"]["public_key"], "xy7k9m2p",
        "{events}"
    );
}

async fn moves_and_cancels_made_in_asisteclick_are_mirrored_past_the_cutoffs(app: &TestApp) {
    app.advance_to(SEED_MONDAY);
    // Cut-offs of a week: turnero's own API could neither move nor cancel these bookings.
    let (cal, _) = app
        .clinic_with(
            json!({"policy": {"min_notice_minutes": 0, "max_days_ahead": 60,
            "cancel_cutoff_minutes": 10080, "reschedule_cutoff_minutes": 10080}}),
        )
        .await;
    let on = map_calendar_5(app, &cal).await;
    let url = on["callback_url"].as_str().unwrap();
    let created = seed_callback(
        "event_created",
        "2025-01-15T13:00:00Z",
        "2025-01-15T13:30:00Z",
    );
    let (status, made) = send_json(url, Some(TOKEN), &created).await;
    assert_eq!(status, StatusCode::OK, "{made}");
    let id = made["external_id"].as_str().unwrap();
    let (status, problem) = app
        .post(&format!("/api/v1/bookings/{id}/cancel"), json!({}))
        .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "the clinic's own rule: {problem}"
    );

    let moved = seed_callback(
        "event_updated",
        "2025-01-15T14:00:00Z",
        "2025-01-15T14:30:00Z",
    );
    let (status, answer) = send_json(url, Some(TOKEN), &moved).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let canceled = seed_callback(
        "event_canceled",
        "2025-01-15T14:00:00Z",
        "2025-01-15T14:30:00Z",
    );
    let (status, answer) = send_json(url, Some(TOKEN), &canceled).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (_, booking) = app.get(&format!("/api/v1/bookings/{id}")).await;
    assert_eq!(booking["status"], "canceled");
    assert_eq!(booking["start"], "2025-01-15T14:00:00Z");
}

async fn the_integration_is_checked_when_set_and_gone_when_deleted(app: &TestApp) {
    let w = wired(app).await;
    let put = |body: Value| async move {
        app.call(
            reqwest::Method::PUT,
            "/api/v1/integrations/asisteclick",
            Some(body),
        )
        .await
    };
    let (status, problem) = put(
        json!({"access_token": TOKEN, "calendar_map": {"5": "cal_01j00000000000000000000000"}}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem["field"], "calendar_map.5");
    let (status, problem) =
        put(json!({"access_token": "short", "calendar_map": {"5": w.cal}})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    // A failed update left the working one as it was.
    let (status, on) = app.get("/api/v1/integrations/asisteclick").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(on["availability_url"], w.availability_url.as_str());

    let (status, _) = app
        .call(
            reqwest::Method::DELETE,
            "/api/v1/integrations/asisteclick",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = send_json(&w.availability_url, None, &seed_availability()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn a_flood_on_the_asisteclick_urls_is_cut_with_retry_after_and_other_clinics_go_on(
    app: &TestApp,
) {
    let w = wired(app).await;
    // 1,200 calls a minute per integration, 200 at once (the defaults).
    let client = reqwest::Client::new();
    let mut codes = Vec::new();
    for _ in 0..300 {
        let resp = client
            .post(&w.availability_url)
            .body("{not json")
            .send()
            .await
            .unwrap();
        let status = resp.status();
        let retry_after = resp.headers().get("retry-after").cloned();
        let body: Value = resp.json().await.unwrap();
        if status == StatusCode::TOO_MANY_REQUESTS {
            assert!(retry_after.is_some(), "429 says when to come back");
            assert_eq!(body["code"], "rate_limited", "{body}");
            assert!(body["error"].is_string(), "the seed's shape: {body}");
        }
        codes.push(status);
    }
    let limited = codes
        .iter()
        .filter(|c| **c == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert!(
        codes[..200].iter().all(|c| *c == StatusCode::BAD_REQUEST),
        "the first 200 are answered"
    );
    // 20 a second come back meanwhile: the 300 calls take well under 5 s.
    assert!(limited >= 50, "{limited} of 300 refused");

    // Another clinic's integration is answered meanwhile.
    let other = app.new_tenant("Otra clínica").await;
    let as_other = |method, path: &'static str, body| app.call_as(&other, method, path, body);
    let (_, cal) = as_other(
        reqwest::Method::POST,
        "/api/v1/calendars",
        Some(
            json!({"name": "Dr. Otro", "timezone": "America/Argentina/Buenos_Aires",
                    "weekly_hours": [{"weekday": "mon", "start": "09:00", "end": "13:00"}]}),
        ),
    )
    .await;
    let (_, _) = as_other(
        reqwest::Method::POST,
        "/api/v1/services",
        Some(json!({"name": "Consulta", "duration_minutes": 30, "calendar_ids": [cal["id"]]})),
    )
    .await;
    let (status, on) = as_other(
        reqwest::Method::PUT,
        "/api/v1/integrations/asisteclick",
        Some(json!({"access_token": TOKEN, "calendar_map": {"5": cal["id"]}})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{on}");
    let (status, _) = send(on["availability_url"].as_str().unwrap(), None, "{not json").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Guessing keys: ten misses at once per address, then 429.
    let mut misses = Vec::new();
    for i in 0..14 {
        let guess = w
            .availability_url
            .replace("/compat/asisteclick/", &format!("/compat/asisteclick/{i}"));
        misses.push(send(&guess, None, "{}").await.0);
    }
    assert_eq!(misses[..10], [StatusCode::NOT_FOUND; 10]);
    assert_eq!(misses[13], StatusCode::TOO_MANY_REQUESTS);
}

crate::on_both_backends!(
    availability_keeps_free_slots_untouched_and_drops_booked_and_held_ones,
    availability_reads_slots_by_local_time_and_honours_count_and_closed_hours,
    the_seeds_curl_examples_work_as_written,
    a_callback_without_the_right_token_is_refused_and_writes_nothing,
    unknown_calendars_and_keys_answer_the_seeds_error_shape,
    created_updated_and_canceled_callbacks_are_idempotent,
    the_integration_is_checked_when_set_and_gone_when_deleted,
    the_same_callback_twice_at_once_makes_one_booking,
    a_callback_for_a_taken_slot_is_refused_in_the_seeds_shape,
    moves_and_cancels_made_in_asisteclick_are_mirrored_past_the_cutoffs,
    an_older_update_retried_after_a_newer_one_does_not_move_the_booking_back,
    a_flood_on_the_asisteclick_urls_is_cut_with_retry_after_and_other_clinics_go_on,
);
