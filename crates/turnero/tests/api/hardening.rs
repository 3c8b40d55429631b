//! What a careless integrator or a hostile visitor finds (issue #16's findings, as they are
//! fixed): every error in the shape clients parse, the auth scheme said and read as HTTP says,
//! and the outbound guard applied when a WhatsApp reply is sent, not only when it was saved.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::TestApp;

/// A status, its content type and body, for a raw request.
async fn raw(
    method: Method,
    url: &str,
    auth: Option<&str>,
    body: Vec<u8>,
) -> (StatusCode, String, Value) {
    let mut req = reqwest::Client::new()
        .request(method, url)
        .header("content-type", "application/json")
        .body(body);
    if let Some(a) = auth {
        req = req.header("authorization", a);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let ct = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let text = resp.text().await.unwrap();
    (
        status,
        ct,
        serde_json::from_str(&text).unwrap_or(Value::Null),
    )
}

async fn an_oversized_body_is_a_413_in_the_shape_each_caller_parses(app: &TestApp) {
    let (cal, _svc) = app.clinic().await;
    let (_, ac) = app
        .call(
            Method::PUT,
            "/api/v1/integrations/asisteclick",
            Some(json!({"access_token": "token-de-asisteclick", "calendar_map": {"5": cal}})),
        )
        .await;
    let graph = crate::graph::GraphApi::start().await;
    let whatsapp = crate::patient::connect(app, &graph, json!([])).await;
    let big = vec![b' '; 100 * 1024];
    let base = app.server.url();
    let auth = format!("Bearer {}", app.key);
    for (url, auth) in [
        (format!("{base}/api/v1/flows/main"), Some(auth.as_str())),
        (whatsapp, None),
    ] {
        let method = if url.ends_with("/flows/main") {
            Method::PUT
        } else {
            Method::POST
        };
        let (status, ct, body) = raw(method, &url, auth, big.clone()).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{url}");
        assert_eq!(ct, "application/problem+json", "{url}");
        assert_eq!(body["code"], "body_too_large", "{url}: {body}");
        assert_eq!(body["status"], 413);
    }
    let availability = ac["availability_url"].as_str().unwrap();
    let (status, ct, body) = raw(Method::POST, availability, None, big).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(ct.starts_with("application/json"), "{ct}");
    assert!(body["error"].is_string(), "the seed's shape: {body}");
}

async fn a_web_chat_stream_without_a_token_is_a_400_problem(app: &TestApp) {
    let (status, _) = app
        .call(
            Method::PUT,
            "/api/v1/channels/webchat",
            Some(json!({"title": "Clínica"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, me) = app.get("/api/v1/tenant").await;
    let tenant = me["id"].as_str().unwrap();
    let url = format!("{}/chat/{tenant}/events", app.server.url());
    let (status, ct, body) = raw(Method::GET, &url, None, vec![]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(ct, "application/problem+json");
    assert_eq!(body["code"], "bad_request", "{body}");
}

async fn a_401_names_the_bearer_scheme_and_the_scheme_is_read_in_any_case(app: &TestApp) {
    let url = format!("{}/api/v1/calendars", app.server.url());
    let resp = reqwest::Client::new().get(&url).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let challenge = resp
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert!(challenge.starts_with("Bearer"), "{challenge:?}");
    for scheme in ["BEARER", "bearer", "Bearer", "beArEr"] {
        let resp = reqwest::Client::new()
            .get(&url)
            .header("authorization", format!("{scheme} {}", app.key))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{scheme}");
    }
}

/// Saved while loopback was allow-listed; the operator then removed the allow-list: the next
/// reply must not carry the access token to 127.0.0.1.
async fn a_whatsapp_reply_is_checked_by_the_outbound_guard_when_it_is_sent(app: &TestApp) {
    app.clinic().await;
    let graph = crate::graph::GraphApi::start().await;
    let webhook = crate::patient::connect(app, &graph, json!([])).await;
    let strict = turnero::config::Config {
        listen: "127.0.0.1:0".into(),
        database_url: app.database_url.clone(),
        hold_sweep_seconds: 3600,
        outbound_allow: String::new(),
        ..turnero::config::Config::default()
    };
    let second = turnero::app::start(&strict, app.server.clock.clone())
        .await
        .unwrap();
    let key = webhook.rsplit("/channels/").next().unwrap();
    let there = format!("{}/channels/{key}", second.url());
    let body = crate::patient::inbound(
        "whatsapp_inbound_text.json",
        crate::patient::WA_ID,
        1,
        json!({"type": "text", "text": {"body": "hola"}}),
    );
    crate::patient::post_signed(&there, body).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while app
        .count(
            "SELECT COUNT(*) FROM chat_outbox WHERE status = 'failed' AND error LIKE '%refused%'",
        )
        .await
        == 0
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the reply was not refused"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(graph.bodies().is_empty(), "nothing reached 127.0.0.1");
    second.stop().await;
}

async fn a_webhook_for_another_tenants_calendar_or_none_is_refused(app: &TestApp) {
    let other = app.new_tenant("Otra").await;
    let (_, cal) = app
        .call_as(
            &other,
            Method::POST,
            "/api/v1/calendars",
            Some(
                json!({"name": "Ajeno", "timezone": "America/Argentina/Buenos_Aires",
                "weekly_hours": []}),
            ),
        )
        .await;
    let theirs = cal["id"].as_str().unwrap().to_string();
    let (mine, _) = app.clinic().await;
    let nobodys = "cal_01m8qp9zzzzzzzzzzzzzzzzzzz".to_string();
    for calendar in [&theirs, &nobodys] {
        let (status, problem) = app
            .post(
                "/api/v1/webhooks",
                json!({"url": "https://hooks.example.com/x", "calendar_id": calendar}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(problem["code"], "unknown_calendar");
    }
    let (status, out) = app
        .post(
            "/api/v1/webhooks",
            json!({"url": "https://hooks.example.com/x", "calendar_id": mine}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{out}");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM webhooks").await,
        1,
        "nothing kept of the refused ones"
    );
}

async fn credentials_in_a_webhook_url_are_never_shown_back(app: &TestApp) {
    let (status, made) = app
        .post(
            "/api/v1/webhooks",
            json!({"url": "https://integrador:s3cr3t@hooks.example.com/turnero"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let (_, list) = app.get("/api/v1/webhooks").await;
    let (_, one) = app
        .get(&format!(
            "/api/v1/webhooks/{}",
            made["id"].as_str().unwrap()
        ))
        .await;
    for shown in [&made, &list, &one] {
        assert!(!shown.to_string().contains("s3cr3t"), "{shown}");
    }
    assert_eq!(
        list[0]["url"],
        "https://integrador:***@hooks.example.com/turnero"
    );
}

async fn control_characters_in_a_name_are_refused(app: &TestApp) {
    for name in ["Dra.\nAna", "Dra.\u{1b}[31mAna", "Ana\tPérez"] {
        let (status, problem) = app
            .post(
                "/api/v1/calendars",
                json!({"name": name, "timezone": "America/Argentina/Buenos_Aires",
                    "weekly_hours": []}),
            )
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{name:?}: {problem}"
        );
        assert_eq!(problem["field"], "name");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM calendars").await, 0);
}

/// The web chat page of the app's tenant, turned on; answers its base URL.
async fn chat_page(app: &TestApp) -> String {
    let (status, _) = app
        .call(
            Method::PUT,
            "/api/v1/channels/webchat",
            Some(json!({"title": "Clínica"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, me) = app.get("/api/v1/tenant").await;
    format!("{}/chat/{}", app.server.url(), me["id"].as_str().unwrap())
}

async fn new_session(base: &str, from: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{base}/sessions"))
        .header("x-forwarded-for", from)
        .send()
        .await
        .unwrap()
}

async fn a_flood_of_web_chat_sessions_from_one_address_gets_429_with_retry_after(app: &TestApp) {
    let base = chat_page(app).await;
    let mut refused = None;
    for _ in 0..30 {
        let resp = new_session(&base, "203.0.113.7").await;
        if resp.status() == StatusCode::TOO_MANY_REQUESTS {
            refused = Some(resp);
            break;
        }
        assert_eq!(resp.status(), StatusCode::CREATED);
    }
    let resp = refused.expect("30 sessions in a moment from one address were all made");
    let wait: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    assert_eq!(resp.headers()["content-type"], "application/problem+json");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["code"], "rate_limited");
    // Someone else, at the same moment, is not held back.
    assert_eq!(
        new_session(&base, "198.51.100.9").await.status(),
        StatusCode::CREATED
    );
}

async fn a_session_token_the_server_did_not_issue_is_refused(app: &TestApp) {
    let base = chat_page(app).await;
    let say = |token: String| {
        reqwest::Client::new()
            .post(format!("{base}/messages"))
            .bearer_auth(token)
            .json(&json!({"text": "hola"}))
            .send()
    };
    let made_up = "ab".repeat(32);
    assert_eq!(
        say(made_up).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    let issued: Value = new_session(&base, "203.0.113.8")
        .await
        .json()
        .await
        .unwrap();
    let token = issued["token"].as_str().unwrap().to_string();
    assert_eq!(token.len(), 64);
    assert_eq!(
        say(token.clone()).await.unwrap().status(),
        StatusCode::ACCEPTED
    );
    // Another tenant's page does not take it either.
    let mut forged = token.into_bytes();
    forged[63] = if forged[63] == b'0' { b'1' } else { b'0' };
    let forged = String::from_utf8(forged).unwrap();
    assert_eq!(
        say(forged).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM conversations").await,
        1,
        "only the issued token's conversation"
    );
}

async fn open_event_streams_are_capped_per_address(app: &TestApp) {
    let base = chat_page(app).await;
    let issued: Value = new_session(&base, "203.0.113.9")
        .await
        .json()
        .await
        .unwrap();
    let token = issued["token"].as_str().unwrap().to_string();
    let mut open = Vec::new();
    let mut capped = None;
    for _ in 0..12 {
        let resp = reqwest::Client::new()
            .get(format!("{base}/events?token={token}"))
            .header("x-forwarded-for", "203.0.113.9")
            .send()
            .await
            .unwrap();
        if resp.status() == StatusCode::TOO_MANY_REQUESTS {
            capped = Some(open.len());
            break;
        }
        assert_eq!(resp.status(), StatusCode::OK);
        open.push(resp); // kept open
    }
    assert_eq!(capped, Some(8), "eight streams at once per address");
    drop(open);
}

async fn the_openapi_document_names_every_error_the_server_sends(app: &TestApp) {
    let (status, doc) = app.get("/api/v1/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    let mut wrong = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if !["get", "put", "post", "delete", "patch"].contains(&method.as_str()) {
                continue;
            }
            let at = format!("{method} {path}");
            let responses = op["responses"].as_object().unwrap();
            for (code, r) in responses {
                let error = code.starts_with('4') || code.starts_with('5');
                if let (true, Some(content)) = (error, r["content"].as_object()) {
                    let kinds: Vec<&String> = content.keys().collect();
                    if kinds != ["application/problem+json"] {
                        wrong.push(format!("{at} {code}: {kinds:?}"));
                    }
                }
            }
            let open = op["security"].as_array().is_some_and(|s| {
                s.iter()
                    .all(|r| r.as_object().is_some_and(|o| o.is_empty()))
            });
            if !open && !responses.contains_key("401") {
                wrong.push(format!("{at}: no 401"));
            }
            if op.get("requestBody").is_some() {
                for code in ["400", "413", "415", "422"] {
                    if !responses.contains_key(code) {
                        wrong.push(format!("{at}: no {code}"));
                    }
                }
            }
        }
    }
    assert_eq!(wrong, Vec::<String>::new());
    // And the server answers as documented: a body that is not JSON is a 415 problem.
    let resp = reqwest::Client::new()
        .post(format!("{}/api/v1/calendars", app.server.url()))
        .bearer_auth(&app.key)
        .header("content-type", "text/plain")
        .body("hola")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(resp.headers()["content-type"], "application/problem+json");
}

crate::on_both_backends!(
    a_flood_of_web_chat_sessions_from_one_address_gets_429_with_retry_after,
    a_session_token_the_server_did_not_issue_is_refused,
    open_event_streams_are_capped_per_address,
    a_webhook_for_another_tenants_calendar_or_none_is_refused,
    credentials_in_a_webhook_url_are_never_shown_back,
    control_characters_in_a_name_are_refused,
    an_oversized_body_is_a_413_in_the_shape_each_caller_parses,
    a_web_chat_stream_without_a_token_is_a_400_problem,
    a_401_names_the_bearer_scheme_and_the_scheme_is_read_in_any_case,
    a_whatsapp_reply_is_checked_by_the_outbound_guard_when_it_is_sent,
    the_openapi_document_names_every_error_the_server_sends,
);

/// A deploy restarts the server while a patient has the chat page open: the event stream
/// ends (the page reconnects) and the server stops at once, not never.
async fn a_server_stops_promptly_with_a_web_chat_stream_open(backend: crate::common::Backend) {
    let (url, _schema, _dir) = crate::common::fresh_database(backend).await;
    let config = turnero::config::Config {
        listen: "127.0.0.1:0".into(),
        database_url: url,
        hold_sweep_seconds: 3600,
        ..turnero::config::Config::default()
    };
    let server = turnero::app::start(&config, turnero::clock::Clock::system())
        .await
        .unwrap();
    let (tenant, key) = turnero::agenda::tenants::create(
        &server.db,
        turnero::agenda::tenants::NewTenant {
            name: "Clínica".into(),
            timezone: "America/Argentina/Buenos_Aires".into(),
            phone_region: "AR".into(),
            locale: "es".into(),
        },
        0,
    )
    .await
    .unwrap();
    let client = reqwest::Client::new();
    let put = client
        .put(format!("{}/api/v1/channels/webchat", server.url()))
        .bearer_auth(&key)
        .json(&json!({"title": "Clínica"}))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), StatusCode::OK);
    let base = format!("{}/chat/{}", server.url(), tenant.id);
    let session: Value = client
        .post(format!("{base}/sessions"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = session["token"].as_str().unwrap();
    let stream = client
        .get(format!("{base}/events?token={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    let started = std::time::Instant::now();
    tokio::time::timeout(std::time::Duration::from_secs(8), server.shutdown())
        .await
        .expect("shutdown waited on the open stream")
        .unwrap();
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    drop(stream);
}

crate::with_each_backend!(a_server_stops_promptly_with_a_web_chat_stream_open);
