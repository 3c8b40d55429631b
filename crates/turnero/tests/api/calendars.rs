use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::{local_starts, TestApp};

crate::on_both_backends!(
    creating_a_calendar_returns_it_with_canonical_hours_and_stores_it,
    a_calendar_defaults_to_the_tenant_time_zone_and_capacity_one,
    patching_weekly_hours_replaces_the_week_and_changes_the_slots,
    a_closed_date_override_and_time_off_remove_slots,
);

async fn creating_a_calendar_returns_it_with_canonical_hours_and_stores_it(app: &TestApp) {
    let (status, cal) = app.post("/api/v1/calendars", json!({
        "name": "Consultorio 2", "timezone": "America/Sao_Paulo", "kind": "room", "capacity": 2,
        "location": "Rua Augusta 500",
        "weekly_hours": [
            {"weekday": "Tuesday", "start": "14:00", "end": "18:00"},
            {"weekday": "tue", "start": "9:00", "end": "12:00"}
        ]
    })).await;
    assert_eq!(status, StatusCode::CREATED, "{cal}");
    assert!(cal["id"].as_str().unwrap().starts_with("cal_"));
    assert_eq!(cal["capacity"], 2);
    assert_eq!(
        cal["weekly_hours"],
        json!([
            {"weekday": "tue", "start": "09:00", "end": "12:00"},
            {"weekday": "tue", "start": "14:00", "end": "18:00"}
        ])
    );
    let (status, read) = app
        .get(&format!(
            "/api/v1/calendars/{}",
            cal["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(read, cal);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM events WHERE type = 'calendar.created'")
            .await,
        1
    );
}

async fn a_calendar_defaults_to_the_tenant_time_zone_and_capacity_one(app: &TestApp) {
    let (status, cal) = app.post("/api/v1/calendars", json!({"name": "Box"})).await;
    assert_eq!(status, StatusCode::CREATED, "{cal}");
    assert_eq!(cal["timezone"], "America/Argentina/Buenos_Aires");
    assert_eq!(cal["capacity"], 1);
    assert_eq!(cal["kind"], "professional");
    assert_eq!(cal["policy"]["max_days_ahead"], 90);
}

async fn patching_weekly_hours_replaces_the_week_and_changes_the_slots(app: &TestApp) {
    let (cal, svc) = app.clinic().await;
    let (status, patched) = app
        .call(
            Method::PATCH,
            &format!("/api/v1/calendars/{cal}"),
            Some(json!({
                "weekly_hours": [{"weekday": "mon", "start": "15:00", "end": "16:00"}]
            })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["name"], "Dra. Ana Pérez");
    let (_, slots) = app.get(&format!(
        "/api/v1/calendars/{cal}/slots?service_id={svc}&start=2030-01-07T00:00:00Z&end=2030-01-14T00:00:00Z"
    )).await;
    let starts = local_starts(&slots);
    assert_eq!(
        starts,
        ["2030-01-07T15:00:00-03:00", "2030-01-07T15:30:00-03:00"]
    );
}

async fn a_closed_date_override_and_time_off_remove_slots(app: &TestApp) {
    let (cal, svc) = app.clinic().await;
    let (status, o) = app
        .call(
            Method::PUT,
            &format!("/api/v1/calendars/{cal}/overrides/2030-01-08"),
            Some(json!({"closed": true})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{o}");
    let (status, o) = app
        .call(
            Method::PUT,
            &format!("/api/v1/calendars/{cal}/overrides/2030-01-12"),
            Some(json!({"hours": [{"start": "10:00", "end": "11:00"}]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{o}");
    let (status, off) = app.post(&format!("/api/v1/calendars/{cal}/time-off"), json!({
        "start": "2030-01-09T09:00:00-03:00", "end": "2030-01-09T12:00:00-03:00", "reason": "congreso"
    })).await;
    assert_eq!(status, StatusCode::CREATED, "{off}");
    let (_, slots) = app.get(&format!(
        "/api/v1/calendars/{cal}/slots?service_id={svc}&start=2030-01-08T00:00:00Z&end=2030-01-13T00:00:00Z"
    )).await;
    let starts = local_starts(&slots);
    assert!(
        !starts.iter().any(|s| s.starts_with("2030-01-08")),
        "closed day offered: {starts:?}"
    );
    let wed: Vec<&str> = starts
        .iter()
        .copied()
        .filter(|s| s.starts_with("2030-01-09"))
        .collect();
    assert_eq!(
        wed,
        ["2030-01-09T12:00:00-03:00", "2030-01-09T12:30:00-03:00"]
    );
    let sat: Vec<&str> = starts
        .iter()
        .copied()
        .filter(|s| s.starts_with("2030-01-12"))
        .collect();
    assert_eq!(
        sat,
        ["2030-01-12T10:00:00-03:00", "2030-01-12T10:30:00-03:00"]
    );
    let (_, listed) = app.get(&format!("/api/v1/calendars/{cal}/overrides")).await;
    assert_eq!(listed.as_array().unwrap().len(), 2);
    let off_id = off["id"].as_str().unwrap();
    let (status, _) = app
        .call(
            Method::DELETE,
            &format!("/api/v1/calendars/{cal}/time-off/{off_id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(app.count("SELECT COUNT(*) FROM time_off").await, 0);
}
