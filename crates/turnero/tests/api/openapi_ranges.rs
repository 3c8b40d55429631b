//! The ranges the OpenAPI document states are the ranges the server checks: a client that
//! reads `minimum`/`maximum` and sends the edge is accepted, one past it gets a 422 naming the
//! field. Driven by the document itself, so a range changed on one side only fails here.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::TestApp;

crate::on_both_backends!(
    every_query_range_in_the_document_is_the_one_the_server_enforces,
    body_ranges_in_the_document_are_the_ones_the_server_enforces,
    instants_days_and_named_records_are_documented,
);

fn range(schema: &Value) -> Option<(i64, i64)> {
    Some((schema["minimum"].as_i64()?, schema["maximum"].as_i64()?))
}

async fn every_query_range_in_the_document_is_the_one_the_server_enforces(app: &TestApp) {
    let (_, doc) = app.get("/api/v1/openapi.json").await;
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        let Some(params) = item["get"]["parameters"].as_array() else {
            continue;
        };
        // Operations on one record need a real one; the lists carry the ranges.
        if path.contains('{') {
            continue;
        }
        for p in params.iter().filter(|p| p["in"] == "query") {
            let Some((min, max)) = range(&p["schema"]) else {
                continue;
            };
            let name = p["name"].as_str().unwrap();
            for (value, accepted) in [(min, true), (max, true), (min - 1, false), (max + 1, false)]
            {
                let (status, body) = app.get(&format!("/api/v1{path}?{name}={value}")).await;
                if accepted {
                    assert_eq!(status, StatusCode::OK, "{path}?{name}={value}: {body}");
                } else {
                    assert_eq!(
                        status,
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "{path}?{name}={value}"
                    );
                    assert_eq!(body["field"], name, "{body}");
                }
            }
            checked += 1;
        }
    }
    assert!(
        checked >= 3,
        "the lists' limits are documented ({checked} found)"
    );
}

async fn body_ranges_in_the_document_are_the_ones_the_server_enforces(app: &TestApp) {
    let (_, doc) = app.get("/api/v1/openapi.json").await;
    let schemas = &doc["components"]["schemas"];
    let service = &schemas["ServiceIn"]["properties"];
    let fields = [
        "duration_minutes",
        "buffer_before_minutes",
        "buffer_after_minutes",
        "slot_interval_minutes",
    ];
    for field in fields {
        let (min, max) = range(&service[field]).unwrap_or_else(|| panic!("{field} has a range"));
        for (value, accepted) in [(min, true), (max, true), (min - 1, false), (max + 1, false)] {
            let mut body = json!({"name": "Consulta", "duration_minutes": 30});
            body[field] = json!(value);
            let (status, answer) = app.post("/api/v1/services", body).await;
            let expected = if accepted {
                StatusCode::CREATED
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            assert_eq!(status, expected, "{field} = {value}: {answer}");
            if !accepted {
                assert_eq!(answer["field"], field, "{answer}");
            }
        }
    }
    let (min, max) = range(&schemas["CalendarIn"]["properties"]["capacity"]).unwrap();
    for (value, expected) in [
        (max, StatusCode::CREATED),
        (max + 1, StatusCode::UNPROCESSABLE_ENTITY),
        (min - 1, StatusCode::UNPROCESSABLE_ENTITY),
    ] {
        let body = json!({"name": "Sala", "capacity": value});
        let (status, answer) = app.post("/api/v1/calendars", body).await;
        assert_eq!(status, expected, "capacity = {value}: {answer}");
    }
}

async fn instants_days_and_named_records_are_documented(app: &TestApp) {
    let (_, doc) = app.get("/api/v1/openapi.json").await;
    let schemas = &doc["components"]["schemas"];
    for (schema, field) in [
        ("BookingIn", "start"),
        ("HoldIn", "start"),
        ("RescheduleIn", "start"),
        ("TimeOffIn", "end"),
    ] {
        assert_eq!(
            schemas[schema]["properties"][field]["format"], "date-time",
            "{schema}.{field}"
        );
    }
    assert_eq!(
        schemas["CustomerIn"]["properties"]["birthdate"]["format"],
        "date"
    );
    let put = &doc["paths"]["/calendars/{id}/overrides/{date}"]["put"];
    let date = put["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "date")
        .unwrap();
    assert_eq!(date["schema"]["format"], "date");
    // A body that names a calendar that does not exist is a documented 404.
    assert!(doc["paths"]["/holds"]["post"]["responses"]["404"].is_object());
    let body = json!({"calendar_id": "cal_01hzzzzzzzzzzzzzzzzzzzzzzz",
        "service_id": "svc_01hzzzzzzzzzzzzzzzzzzzzzzz", "start": "2030-01-08T12:00:00Z"});
    let (status, _) = app.post("/api/v1/holds", body).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // A date-time a conforming client sends is read, and one that is not an instant is a 422.
    let (status, _) = app
        .get("/api/v1/events?since=2030-01-01T00:00:00-03:00")
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, problem) = app.get("/api/v1/events?since=yesterday").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["field"], "since");
}
