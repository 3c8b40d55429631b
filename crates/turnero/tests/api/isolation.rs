use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::TestApp;

crate::on_both_backends!(another_tenant_can_neither_see_nor_change_anything);

async fn another_tenant_can_neither_see_nor_change_anything(app: &TestApp) {
    let (cal, svc) = app.clinic().await;
    let (_, b) = app
        .book(&cal, &svc, "2030-01-07T13:00:00Z", "5491122334455")
        .await;
    let (bid, cus) = (
        b["id"].as_str().unwrap(),
        b["customer"]["id"].as_str().unwrap(),
    );
    let other = app.new_tenant("Otra clínica").await;
    let as_other = |m: Method, p: String, body: Option<serde_json::Value>| {
        let other = other.clone();
        async move { app.call_as(&other, m, &p, body).await }
    };
    for path in [
        format!("/api/v1/calendars/{cal}"),
        format!("/api/v1/services/{svc}"),
        format!("/api/v1/bookings/{bid}"),
        format!("/api/v1/customers/{cus}"),
        format!("/api/v1/calendars/{cal}/slots?service_id={svc}"),
    ] {
        let (status, p) = as_other(Method::GET, path.clone(), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {p}");
    }
    let (status, _) = as_other(
        Method::POST,
        format!("/api/v1/bookings/{bid}/cancel"),
        Some(json!({})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, p) = as_other(Method::POST, "/api/v1/bookings".into(), Some(json!({
        "calendar_id": cal, "service_id": svc, "start": "2030-01-07T14:00:00Z", "customer": {"name": "X", "phone": "5491122334466"}
    }))).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{p}");
    let (_, listed) = as_other(Method::GET, "/api/v1/bookings".into(), None).await;
    assert_eq!(listed["data"], json!([]));
    let (_, found) = as_other(
        Method::GET,
        "/api/v1/customers?phone=5491122334455".into(),
        None,
    )
    .await;
    assert_eq!(found["data"], json!([]));
    let (_, read) = app.get(&format!("/api/v1/bookings/{bid}")).await;
    assert_eq!(read["status"], "pending");
}
