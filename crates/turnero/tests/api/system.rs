use reqwest::StatusCode;
use serde_json::Value;

use crate::common::TestApp;

crate::on_both_backends!(
    health_metrics_and_the_openapi_document_are_served_without_a_key,
    every_answer_carries_a_request_id_and_keeps_the_callers,
    the_openapi_document_describes_every_list_as_a_page,
);

async fn health_metrics_and_the_openapi_document_are_served_without_a_key(app: &TestApp) {
    let base = app.server.url();
    let health = app
        .client
        .get(format!("{base}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let doc: Value = app
        .client
        .get(format!("{base}/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/calendars",
        "/calendars/{id}/slots",
        "/services",
        "/holds",
        "/bookings",
        "/bookings/{id}",
        "/bookings/{id}/confirm",
        "/bookings/{id}/cancel",
        "/bookings/{id}/reschedule",
        "/customers",
    ] {
        assert!(paths.contains_key(p), "missing {p}");
    }
    assert!(doc["components"]["schemas"]["BookingOut"].is_object());
    app.get("/api/v1/calendars").await;
    let metrics = app
        .client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("turnero_http_requests_total"), "{metrics}");
    assert!(metrics.contains("route=\"/api/v1/calendars\""), "{metrics}");
}

async fn every_answer_carries_a_request_id_and_keeps_the_callers(app: &TestApp) {
    let base = app.server.url();
    let first = app
        .client
        .get(format!("{base}/healthz"))
        .send()
        .await
        .unwrap();
    let id = first.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(id.len(), 26, "a ULID: {id}");
    let second = app
        .client
        .get(format!("{base}/healthz"))
        .send()
        .await
        .unwrap();
    assert_ne!(second.headers()["x-request-id"].to_str().unwrap(), id);
    // A problem answer has one too, and an id the caller (a proxy) sent is kept.
    let missing = app
        .client
        .get(format!(
            "{base}/api/v1/bookings/bkg_01jz0000000000000000000000"
        ))
        .header("x-request-id", "from-the-proxy-1")
        .bearer_auth(&app.key)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(missing.headers()["x-request-id"], "from-the-proxy-1");
}

async fn the_openapi_document_describes_every_list_as_a_page(app: &TestApp) {
    let (_, doc) = app.get("/api/v1/openapi.json").await;
    for (path, item) in [
        ("/bookings", "BookingOut"),
        ("/customers", "CustomerOut"),
        ("/events", "EventOut"),
        ("/conversations", "ConversationOut"),
    ] {
        let schema =
            &doc["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"];
        let text = schema.to_string();
        let named = text.contains("Page") && text.contains(item);
        let inline = schema["properties"]["data"]["items"]["$ref"]
            .as_str()
            .is_some_and(|r| r.ends_with(item));
        assert!(named || inline, "{path}: {schema}");
    }
}
