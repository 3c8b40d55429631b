//! Deleting what the clinic no longer wants: a customer erased at their request (their
//! bookings stay, anonymous), calendars and services deleted when nothing refers to them
//! and archived when something does.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::TestApp;
use crate::whatsapp::{connect, deliver, vector};

async fn delete(app: &TestApp, path: &str) -> (StatusCode, Value) {
    app.call(Method::DELETE, path, None).await
}

async fn event_types(app: &TestApp, kind: &str) -> Vec<Value> {
    let (_, page) = app.get(&format!("/api/v1/events?type={kind}")).await;
    page["data"].as_array().unwrap().clone()
}

async fn an_erased_customer_leaves_anonymous_bookings_and_no_personal_data_anywhere(app: &TestApp) {
    let (cal, svc) = app.clinic().await;
    let (status, customer) = app
        .post(
            "/api/v1/customers",
            json!({"name": "Maria Gómez", "phone": "+55 11 98765-4321", "email": "maria@example.com",
                   "document_id": "30111222", "custom_fields": {"plan": "osde 210"}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{customer}");
    let id = customer["id"].as_str().unwrap();
    // Booked by an integrator that retries with an Idempotency-Key (the answer is kept).
    let resp = app
        .client
        .post(format!("{}/api/v1/bookings", app.server.url()))
        .bearer_auth(&app.key)
        .header("Idempotency-Key", "retry-1")
        .json(
            &json!({"calendar_id": cal, "service_id": svc, "start": "2030-01-09T12:00:00Z",
                   "customer": {"name": "Maria Gómez", "phone": "+5511987654321"},
                   "notes": "alergia a la penicilina", "custom_fields": {"motivo": "control"}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let booking: Value = resp.json().await.unwrap();
    assert_eq!(booking["customer"]["id"], id);
    // And known to AsisteClick, whose callback (with her name) is kept with the booking.
    let callback = r#"{"timestamp": "2030-01-05T10:00:00Z", "customer": {"name": "Maria Gómez"}}"#;
    sqlx::query(
        "INSERT INTO booking_external_refs (tenant_id, system, external_key, booking_id, data, \
         created_at, updated_at) SELECT tenant_id, 'asisteclick', 'AC-1', id, $1, 0, 0 \
         FROM bookings WHERE id = $2",
    )
    .bind(callback)
    .bind(booking["id"].as_str().unwrap())
    .execute(&app.server.db.write)
    .await
    .unwrap();
    let stored = [
        "SELECT COUNT(*) FROM idempotency_keys WHERE body LIKE '%Maria%'",
        "SELECT COUNT(*) FROM booking_external_refs WHERE data LIKE '%Maria%'",
    ];
    for sql in stored {
        assert_eq!(app.count(sql).await, 1, "{sql}");
    }
    // She wrote on WhatsApp (her number is proven): a conversation with the bot.
    let url = connect(app).await;
    let v = vector();
    let (status, _) = deliver(
        &url,
        v["raw_body"].as_str().unwrap().as_bytes(),
        v["header"]["X-Hub-Signature-256"].as_str().unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let conversations = "SELECT COUNT(*) FROM conversations";
    assert_eq!(app.count(conversations).await, 1);

    let (status, _) = delete(app, &format!("/api/v1/customers/{id}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    let (status, _) = app.get(&format!("/api/v1/customers/{id}")).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "an erased person is not found"
    );
    let emptied = format!(
        "SELECT COUNT(*) FROM customers WHERE id = '{id}' AND name = '' AND phone IS NULL \
         AND email IS NULL AND document_id IS NULL AND birthdate IS NULL \
         AND custom_fields = '{{}}' AND erased_at IS NOT NULL"
    );
    assert_eq!(app.count(&emptied).await, 1, "the row is kept, emptied");
    let (_, list) = app.get("/api/v1/customers").await;
    assert!(
        list["data"].as_array().unwrap().is_empty(),
        "not listed: {list}"
    );

    let (_, kept) = app
        .get(&format!(
            "/api/v1/bookings/{}",
            booking["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(
        kept["status"], booking["status"],
        "the booking stays: {kept}"
    );
    assert_eq!(kept["start"], booking["start"]);
    assert_eq!(kept["customer"]["name"], "");
    assert_eq!(kept["notes"], Value::Null);
    assert_eq!(kept["custom_fields"], json!({}));
    assert_eq!(app.count(conversations).await, 0, "the chat goes with her");
    assert_eq!(app.count("SELECT COUNT(*) FROM chat_inbox").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM chat_outbox").await, 0);
    for needle in [
        "Maria",
        "Gómez",
        "98765",
        "maria@",
        "30111222",
        "penicilina",
        "osde",
        "Olá",
    ] {
        let sql = format!("SELECT COUNT(*) FROM events WHERE data LIKE '%{needle}%'");
        assert_eq!(app.count(&sql).await, 0, "{needle} is still in an event");
    }
    for sql in stored {
        assert_eq!(app.count(sql).await, 0, "{sql}");
    }
    let kept =
        "SELECT COUNT(*) FROM booking_external_refs WHERE data LIKE '%2030-01-05T10:00:00Z%'";
    assert_eq!(app.count(kept).await, 1, "the callback's timestamp stays");
    let erasures = event_types(app, "customer.erased").await;
    assert_eq!(erasures.len(), 1);
    assert_eq!(erasures[0]["data"]["id"], id);

    // Again: nothing more happens. She cannot be changed: she is not found.
    let (status, _) = delete(app, &format!("/api/v1/customers/{id}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(event_types(app, "customer.erased").await.len(), 1);
    let (status, problem) = app
        .call(
            Method::PATCH,
            &format!("/api/v1/customers/{id}"),
            Some(json!({"name": "Maria"})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{problem}");
    assert_eq!(problem["code"], "not_found");
    // Her number, booked again, is a new customer.
    let (status, again) = app
        .book(&cal, &svc, "2030-01-10T12:00:00Z", "+5511987654321")
        .await;
    assert_eq!(status, StatusCode::CREATED, "{again}");
    assert_ne!(again["customer"]["id"], id);
    // Booked by her old id: she is not found, nothing is written about her.
    let body = json!({"calendar_id": cal, "service_id": svc,
        "start": "2030-01-10T13:00:00Z", "customer_id": id});
    let (status, problem) = app.post("/api/v1/bookings", body).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem["code"], "unknown_customer");
    let (status, _) = delete(app, "/api/v1/customers/cus_01hzzzzzzzzzzzzzzzzzzzzzzz").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn calendars_and_services_are_deleted_when_unused_and_archived_when_they_hold_bookings(
    app: &TestApp,
) {
    let (cal, svc) = app.clinic().await;
    let (status, b) = app
        .book(&cal, &svc, "2030-01-08T12:00:00Z", "+5491155550100")
        .await;
    assert_eq!(status, StatusCode::CREATED, "{b}");

    // An upcoming booking: refused, nothing changes.
    let (status, problem) = delete(app, &format!("/api/v1/calendars/{cal}")).await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert_eq!(problem["code"], "calendar_has_upcoming_bookings");
    let (status, problem) = delete(app, &format!("/api/v1/services/{svc}")).await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert_eq!(problem["code"], "service_has_upcoming_bookings");

    // Once it is past, the calendar is archived: kept for the booking, offered no more.
    app.advance_to("2030-01-09T12:00:00Z");
    let (status, archived) = delete(app, &format!("/api/v1/calendars/{cal}")).await;
    assert_eq!(status, StatusCode::OK, "{archived}");
    assert!(archived["archived_at"].is_string(), "{archived}");
    let (_, list) = app.get("/api/v1/calendars").await;
    assert!(list.as_array().unwrap().is_empty(), "{list}");
    let (_, service) = app.get(&format!("/api/v1/services/{svc}")).await;
    assert_eq!(service["calendar_ids"], json!([]), "unlinked: {service}");
    let (status, slots) = app
        .get(&format!("/api/v1/calendars/{cal}/slots?service_id={svc}"))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{slots}");
    let (status, _) = app
        .book(&cal, &svc, "2030-01-14T12:00:00Z", "+5491155550101")
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, problem) = app
        .call(
            Method::PATCH,
            &format!("/api/v1/calendars/{cal}"),
            Some(json!({"name": "Otra"})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert_eq!(problem["code"], "calendar_archived");
    let (status, problem) = app
        .call(
            Method::PATCH,
            &format!("/api/v1/services/{svc}"),
            Some(json!({"calendar_ids": [cal]})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    let (status, kept) = app
        .get(&format!("/api/v1/bookings/{}", b["id"].as_str().unwrap()))
        .await;
    assert_eq!(status, StatusCode::OK, "{kept}");
    assert_eq!(event_types(app, "calendar.archived").await.len(), 1);

    // The service holds the booking too: archived.
    let (status, archived) = delete(app, &format!("/api/v1/services/{svc}")).await;
    assert_eq!(status, StatusCode::OK, "{archived}");
    assert!(archived["archived_at"].is_string());
    let (_, list) = app.get("/api/v1/services").await;
    assert!(list.as_array().unwrap().is_empty(), "{list}");

    // Unused: deleted for good.
    let (fresh_cal, fresh_svc) = app.clinic().await;
    let (status, _) = delete(app, &format!("/api/v1/services/{fresh_svc}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = delete(app, &format!("/api/v1/calendars/{fresh_cal}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = app.get(&format!("/api/v1/calendars/{fresh_cal}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(event_types(app, "calendar.deleted").await.len(), 1);
    assert_eq!(event_types(app, "service.deleted").await.len(), 1);

    // A calendar a webhook follows is archived, not deleted: the filter keeps its meaning.
    let (followed, _) = app.clinic().await;
    let (status, hook) = app
        .post(
            "/api/v1/webhooks",
            json!({"url": "http://127.0.0.1:9/hook", "calendar_id": followed}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{hook}");
    let (status, _) = delete(app, &format!("/api/v1/calendars/{followed}")).await;
    assert_eq!(status, StatusCode::OK);
    // Another tenant's calendar is not found.
    let other = app.new_tenant("Otra").await;
    let (status, _) = app
        .call_as(
            &other,
            Method::DELETE,
            &format!("/api/v1/calendars/{followed}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

crate::on_both_backends!(
    an_erased_customer_leaves_anonymous_bookings_and_no_personal_data_anywhere,
    calendars_and_services_are_deleted_when_unused_and_archived_when_they_hold_bookings,
);
