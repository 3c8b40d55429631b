use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::TestApp;

crate::on_both_backends!(
    customers_are_listed_in_pages_with_a_cursor_like_every_other_list,
    any_spelling_of_a_phone_finds_the_same_customer,
    a_second_customer_with_the_same_phone_is_a_conflict_naming_the_first,
    a_booking_reuses_the_customer_with_the_same_phone,
    patching_a_customer_merges_custom_fields_and_external_ids,
    changing_the_tenant_region_changes_how_national_numbers_are_read_at_once,
);

async fn changing_the_tenant_region_changes_how_national_numbers_are_read_at_once(app: &TestApp) {
    let (_, ar) = app
        .post(
            "/api/v1/customers",
            json!({"name": "A", "phone": "11 15 2233-4455"}),
        )
        .await;
    assert_eq!(ar["phone"], "+5491122334455");
    let (status, t) = app
        .call(
            Method::PATCH,
            "/api/v1/tenant",
            Some(json!({"phone_region": "br"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{t}");
    assert_eq!(t["phone_region"], "BR");
    let (status, br) = app
        .post(
            "/api/v1/customers",
            json!({"name": "B", "phone": "(11) 98765-4321"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{br}");
    assert_eq!(br["phone"], "+5511987654321");
    let (status, p) = app
        .call(
            Method::PATCH,
            "/api/v1/tenant",
            Some(json!({"phone_region": "XX"})),
        )
        .await;
    assert_eq!(
        (status, p["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("phone_region"))
    );
}

async fn any_spelling_of_a_phone_finds_the_same_customer(app: &TestApp) {
    let (status, c) = app.post("/api/v1/customers", json!({
        "name": "Lucía", "phone": "011 15 2233-4455", "email": "lucia@example.com",
        "birthdate": "1990-05-01", "document_id": "30123456", "external_ids": {"whatsapp": "5491122334455"}
    })).await;
    assert_eq!(status, StatusCode::CREATED, "{c}");
    assert_eq!(c["phone"], "+5491122334455");
    for spelling in [
        "%2B54%209%2011%202233-4455",
        "5491122334455",
        "11%2015%202233%204455",
        "%2B5491122334455",
    ] {
        let (status, found) = app
            .get(&format!("/api/v1/customers?phone={spelling}"))
            .await;
        assert_eq!(status, StatusCode::OK, "{found}");
        assert_eq!(found["data"].as_array().unwrap().len(), 1, "{spelling}");
        assert_eq!(found["data"][0]["id"], c["id"]);
        assert_eq!(found["next_cursor"], Value::Null);
    }
    let (_, none) = app.get("/api/v1/customers?phone=5491144445555").await;
    assert_eq!(none, json!({"data": [], "next_cursor": null}));
}

async fn a_second_customer_with_the_same_phone_is_a_conflict_naming_the_first(app: &TestApp) {
    let (_, first) = app
        .post(
            "/api/v1/customers",
            json!({"name": "A", "phone": "+5491122334455"}),
        )
        .await;
    let (status, p) = app
        .post(
            "/api/v1/customers",
            json!({"name": "B", "phone": "5491122334455"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(p["code"], "customer_exists");
    assert!(p["detail"]
        .as_str()
        .unwrap()
        .contains(first["id"].as_str().unwrap()));
    assert_eq!(app.count("SELECT COUNT(*) FROM customers").await, 1);
}

async fn a_booking_reuses_the_customer_with_the_same_phone(app: &TestApp) {
    let (cal, svc) = app.clinic().await;
    let (_, a) = app
        .book(&cal, &svc, "2030-01-07T13:00:00Z", "+55 11 8765-4321")
        .await;
    let (_, b) = app
        .book(&cal, &svc, "2030-01-07T14:00:00Z", "5511987654321")
        .await;
    assert_eq!(a["customer"]["id"], b["customer"]["id"]);
    assert_eq!(a["customer"]["phone"], "+5511987654321");
    assert_eq!(app.count("SELECT COUNT(*) FROM customers").await, 1);
    let cus = a["customer"]["id"].as_str().unwrap();
    let (_, theirs) = app
        .get(&format!("/api/v1/bookings?customer_id={cus}"))
        .await;
    assert_eq!(theirs["data"].as_array().unwrap().len(), 2);
}

async fn patching_a_customer_merges_custom_fields_and_external_ids(app: &TestApp) {
    let (_, c) = app.post("/api/v1/customers", json!({"name": "A", "custom_fields": {"plan": "210"}, "external_ids": {"whatsapp": "549"}})).await;
    let id = c["id"].as_str().unwrap();
    let (status, p) = app.call(Method::PATCH, &format!("/api/v1/customers/{id}"), Some(json!({
        "email": "a@b.co", "custom_fields": {"obra_social": "OSDE"}, "external_ids": {"asisteclick": "77"}
    }))).await;
    assert_eq!(status, StatusCode::OK, "{p}");
    assert_eq!(p["name"], "A");
    assert_eq!(p["email"], "a@b.co");
    assert_eq!(
        p["custom_fields"],
        json!({"plan": "210", "obra_social": "OSDE"})
    );
    assert_eq!(
        p["external_ids"],
        json!({"whatsapp": "549", "asisteclick": "77"})
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM events WHERE type = 'customer.updated'")
            .await,
        1
    );
}

async fn customers_are_listed_in_pages_with_a_cursor_like_every_other_list(app: &TestApp) {
    for (i, name) in ["Ana", "Bruno", "Carla"].iter().enumerate() {
        let phone = format!("+54911555500{i:02}");
        let (status, _) = app
            .post("/api/v1/customers", json!({"name": name, "phone": phone}))
            .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let (status, first) = app.get("/api/v1/customers?limit=2").await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let names = |page: &Value| -> Vec<String> {
        page["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names(&first), ["Ana", "Bruno"]);
    let cursor = first["next_cursor"]
        .as_str()
        .expect("a full page has a cursor");
    let (_, second) = app
        .get(&format!("/api/v1/customers?limit=2&cursor={cursor}"))
        .await;
    assert_eq!(names(&second), ["Carla"]);
    assert_eq!(second["next_cursor"], Value::Null, "the last page has none");
    let (status, old) = app.get("/api/v1/customers?after=cus_x").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{old}");
}
