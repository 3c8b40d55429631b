//! Flows as data: exported, edited and imported through the API; a bad import refused with
//! every problem by path; conversations finish on the version they started with; the
//! tenant's own questions end up in the booking's custom fields.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::TestApp;
use crate::patient::{body_text, button_ids, row_ids, Patient};

async fn export(app: &TestApp, query: &str) -> (Value, String) {
    let resp = reqwest::Client::new()
        .get(format!("{}/api/v1/flows/main{query}", app.server.url()))
        .bearer_auth(&app.key)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let version = resp.headers()["x-flow-version"]
        .to_str()
        .unwrap()
        .to_string();
    (resp.json().await.unwrap(), version)
}

async fn a_flow_is_exported_and_a_bad_import_is_refused_with_every_problem_by_path(app: &TestApp) {
    let (flow, version) = export(app, "").await;
    assert_eq!(version, "0");
    assert_eq!(flow["language"], "es");
    let (pt, _) = export(app, "?built_in=pt").await;
    assert_eq!(pt["language"], "pt");

    let mut bad = flow.clone();
    bad["start"] = json!("nowhere");
    bad["steps"]["book"]["next"] = json!("missing");
    bad["steps"]["slots"]["page_size"] = json!(12);
    let (status, problem) = app.call(Method::PUT, "/api/v1/flows/main", Some(bad)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem["code"], "invalid_flow");
    let paths: Vec<&str> = problem["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths.len(), 3, "{paths:?}");
    for want in ["start", "steps.book.next", "steps.slots.page_size"] {
        assert!(paths.contains(&want), "{want} not in {paths:?}");
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM flows").await,
        0,
        "nothing stored"
    );
    let (status, _) = app
        .call(Method::PUT, "/api/v1/flows/other", Some(flow.clone()))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A document followed by anything else is refused, as every other body is, for the
    // booking flow and the confirmation's words alike.
    let (words, _) = (app.get("/api/v1/flows/confirmation").await.1, ());
    for (name, doc) in [("main", flow), ("confirmation", words)] {
        let mut body = serde_json::to_vec(&doc).unwrap();
        body.extend_from_slice(b" {\"more\": 1}");
        let resp = reqwest::Client::new()
            .put(format!("{}/api/v1/flows/{name}", app.server.url()))
            .bearer_auth(&app.key)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY, "{name}");
        let problem: Value = resp.json().await.unwrap();
        assert_eq!(problem["code"], "invalid_flow", "{name}: {problem}");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM flows").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM notice_words").await, 0);
}

async fn a_running_conversation_keeps_its_flow_version_and_custom_questions_become_custom_fields(
    app: &TestApp,
) {
    app.clinic().await;
    let mut p = Patient::new(app).await;
    p.says("hola").await;
    let rows = row_ids(&p.presses("book").await[0]);

    let (mut flow, _) = export(app, "").await;
    flow["steps"]["menu"]["text"] = json!("Bienvenido a Clínica Test. ¿Qué necesitás?");
    flow["questions"] = json!([{"key": "obra_social", "text": "¿Cuál es tu obra social?"}]);
    let (status, stored) = app
        .call(Method::PUT, "/api/v1/flows/main", Some(flow))
        .await;
    assert_eq!(status, StatusCode::OK, "{stored}");
    assert_eq!(export(app, "").await.1, "1");

    // The conversation under way finishes on version 0: no custom question.
    p.picks_row(&rows[0]).await;
    let confirm = p.says("Maria Silva").await;
    assert_eq!(button_ids(&confirm[0]), ["yes", "no"]);
    p.presses("yes").await;

    // The next one starts on version 1.
    let menu = p.says("hola").await;
    assert!(
        body_text(&menu[0]).starts_with("Bienvenido a Clínica Test"),
        "{}",
        body_text(&menu[0])
    );
    let rows = row_ids(&p.presses("book").await[0]);
    let question = p.picks_row(&rows[1]).await;
    assert_eq!(
        body_text(&question[0]),
        "¿Cuál es tu obra social?",
        "the name is known by now"
    );
    p.says("OSDE 210").await;
    p.presses("yes").await;
    let (_, bookings) = app.get("/api/v1/bookings?limit=10").await;
    let fields: Vec<Value> = bookings["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["custom_fields"].clone())
        .collect();
    assert!(
        fields.contains(&json!({"obra_social": "OSDE 210"})),
        "{fields:?}"
    );
    assert!(fields.contains(&json!({})));

    let (status, _) = app.call(Method::DELETE, "/api/v1/flows/main", None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(export(app, "").await.1, "0", "back on the built-in flow");
}

crate::on_both_backends!(
    a_flow_is_exported_and_a_bad_import_is_refused_with_every_problem_by_path,
    a_running_conversation_keeps_its_flow_version_and_custom_questions_become_custom_fields,
);
