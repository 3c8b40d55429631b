//! Each process answers AsisteClick's URLs from its own copy of the integration (issue #18:
//! the database read per availability call was a third of its cost). A new token, a new
//! calendar map or a deletion made through one process is what every process answers with
//! from then on.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::asisteclick::{seed_availability, seed_callback, send_json, wired, TOKEN};
use crate::common::{Backend, TestApp};

const NEW_TOKEN: &str = "el-token-nuevo-de-la-clinica";

/// Posts until the answer has `want` (another process hears of a change through NOTIFY, a
/// moment after the commit); answers the body.
async fn until_status(url: &str, token: Option<&str>, body: &Value, want: StatusCode) -> Value {
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let (status, answer) = send_json(url, token, body).await;
        if status == want {
            return answer;
        }
        assert!(
            Instant::now() < deadline,
            "{url} still answers {status} {answer}, not {want}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn an_integration_changed_on_one_process_is_what_every_process_answers_with(
    backend: Backend,
) {
    let app = TestApp::start(backend).await;
    let w = wired(&app).await;
    let second = match backend {
        Backend::Postgres => Some(app.second_process().await),
        Backend::Sqlite => None,
    };
    // The same URLs on each process (behind one load balancer they would be one address).
    let mut bases = vec![app.server.url()];
    bases.extend(second.iter().map(|s| s.url()));
    let on = |base: &str, url: &str| url.replace(&app.server.url(), base);
    let callback = seed_callback(
        "event_created",
        "2025-01-15T13:00:00Z",
        "2025-01-15T13:30:00Z",
    );
    // Every process has read (and kept) the integration.
    for base in &bases {
        let (status, answer) =
            send_json(&on(base, &w.availability_url), None, &seed_availability()).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        assert_eq!(answer["slots"].as_array().unwrap().len(), 3, "{answer}");
    }

    // A new token: the old one is refused everywhere, the new one taken.
    let (status, put) = app
        .call(
            Method::PUT,
            "/api/v1/integrations/asisteclick",
            Some(json!({"access_token": NEW_TOKEN, "calendar_map": {"5": w.cal}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{put}");
    for base in &bases {
        let url = on(base, &w.callback_url);
        until_status(&url, Some(TOKEN), &callback, StatusCode::UNAUTHORIZED).await;
    }
    let last = bases.last().unwrap();
    let (status, made) = send_json(&on(last, &w.callback_url), Some(NEW_TOKEN), &callback).await;
    assert_eq!(status, StatusCode::OK, "{made}");
    assert_eq!(app.count("SELECT COUNT(*) FROM bookings").await, 1);

    // A new map: calendar 5 is no longer there; 7 is.
    let (status, put) = app
        .call(
            Method::PUT,
            "/api/v1/integrations/asisteclick",
            Some(json!({"access_token": NEW_TOKEN, "calendar_map": {"7": w.cal}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{put}");
    let mut as_seven = seed_availability();
    as_seven["calendar_id"] = json!(7);
    for base in &bases {
        let url = on(base, &w.availability_url);
        let refused = until_status(&url, None, &seed_availability(), StatusCode::BAD_REQUEST).await;
        assert!(refused.to_string().contains("calendar"), "{refused}");
        let (status, answer) = send_json(&url, None, &as_seven).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        // The callback's booking took 10:00 local (13:00Z): slot_002 is gone.
        assert!(!answer.to_string().contains("slot_002"), "{answer}");
    }

    // Deleted: every process answers 404.
    let (status, _) = app
        .call(Method::DELETE, "/api/v1/integrations/asisteclick", None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    for base in &bases {
        let url = on(base, &w.availability_url);
        until_status(&url, None, &as_seven, StatusCode::NOT_FOUND).await;
    }
    if let Some(s) = second {
        s.stop().await;
    }
    app.finish().await;
}

crate::with_each_backend!(an_integration_changed_on_one_process_is_what_every_process_answers_with);
