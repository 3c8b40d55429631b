use reqwest::StatusCode;
use serde_json::Value;

use crate::common::TestApp;

crate::on_both_backends!(health_metrics_and_the_openapi_document_are_served_without_a_key,);

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
