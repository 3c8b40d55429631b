//! Meta's webhooks for a tenant's WhatsApp number, replayed from the recorded fixtures and
//! signed as Meta signs them: the handshake, the signature, de-duplication, and every inbound
//! kind and status turned into `message.*` events (and from there into webhooks).

use hmac::{Hmac, Mac};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sha2::Sha256;

use crate::common::TestApp;
use crate::receiver::Receiver;

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/channels"
);

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{FIXTURES}/{name}")).unwrap()
}

pub(crate) fn vector() -> Value {
    serde_json::from_str(&fixture("whatsapp_signature_vector.json")).unwrap()
}

pub(crate) fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Connects the fixtures' number; answers the webhook URL Meta would be given.
pub(crate) async fn connect(app: &TestApp) -> String {
    let (status, out) = app
        .call(
            Method::PUT,
            "/api/v1/channels/whatsapp",
            Some(json!({
                "phone_number_id": "106540352242922",
                "access_token": "EAAG-system-user-token",
                "app_secret": vector()["app_secret"],
                "verify_token": "my-verify-token-7f3a",
                "graph_api_url": "http://127.0.0.1:9/v24.0"
            })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let text = out.to_string();
    assert!(!text.contains("EAAG") && !text.contains(vector()["app_secret"].as_str().unwrap()));
    out["webhook_url"].as_str().unwrap().to_string()
}

pub(crate) async fn deliver(url: &str, body: &[u8], signature: &str) -> (StatusCode, Value) {
    let resp = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .header("x-hub-signature-256", signature)
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn events(app: &TestApp, kind: &str) -> Vec<Value> {
    let (status, page) = app.get(&format!("/api/v1/events?type={kind}")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page["data"].as_array().unwrap().clone()
}

async fn metas_handshake_echoes_the_challenge_only_for_the_right_token(app: &TestApp) {
    let url = connect(app).await;
    let v: Value = serde_json::from_str(&fixture("whatsapp_webhook_verification.json")).unwrap();
    let q = &v["request_query"];
    let client = reqwest::Client::new();
    let resp = client
        .get(&url)
        .query(&[
            ("hub.mode", q["hub.mode"].as_str().unwrap()),
            ("hub.verify_token", q["hub.verify_token"].as_str().unwrap()),
            ("hub.challenge", q["hub.challenge"].as_str().unwrap()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        v["expected_response"]["status"].as_u64().unwrap() as u16
    );
    assert_eq!(resp.text().await.unwrap(), v["expected_response"]["body"]);
    let wrong = client
        .get(&url)
        .query(&[
            ("hub.mode", "subscribe"),
            ("hub.verify_token", "guessed"),
            ("hub.challenge", "1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
}

async fn a_signed_message_becomes_one_event_even_when_meta_redelivers_it(app: &TestApp) {
    let url = connect(app).await;
    let v = vector();
    let body = v["raw_body"].as_str().unwrap().as_bytes();
    let signature = v["header"]["X-Hub-Signature-256"].as_str().unwrap();
    let (status, receipt) = deliver(&url, body, signature).await;
    assert_eq!(status, StatusCode::OK, "{receipt}");
    assert_eq!(receipt["messages"], 1);
    let (status, receipt) = deliver(&url, body, signature).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(receipt["duplicates"], 1);

    let got = events(app, "message.received").await;
    assert_eq!(got.len(), 1);
    let data = &got[0]["data"];
    assert_eq!(data["channel"], "whatsapp");
    assert_eq!(data["contact_id"], "5511987654321");
    assert_eq!(data["customer_name"], "Maria Silva");
    assert_eq!(data["business_number"], "5511955550100");
    assert_eq!(
        data["message"]["text"], "Olá",
        "the \\u00e1 escape, decoded"
    );
    assert_eq!(data["message"]["id"], "wamid.TEST");
}

async fn a_wrong_signature_is_refused_and_records_nothing(app: &TestApp) {
    let url = connect(app).await;
    let body = vector()["raw_body"].as_str().unwrap().as_bytes().to_vec();
    for signature in [
        sign("another-secret", &body),
        String::new(),
        "sha256=zz".into(),
    ] {
        let (status, _) = deliver(&url, &body, &signature).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM events").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM inbound_seen").await, 0);
    let wrong_key = url.replace("/channels/whatsapp/", "/channels/whatsapp/0");
    let secret = vector()["app_secret"].as_str().unwrap().to_string();
    let (status, _) = deliver(&wrong_key, &body, &sign(&secret, &body)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn replies_and_statuses_from_every_fixture_become_events(app: &TestApp) {
    let url = connect(app).await;
    let secret = vector()["app_secret"].as_str().unwrap().to_string();
    for name in [
        "whatsapp_inbound_text.json",
        "whatsapp_inbound_button_reply.json",
        "whatsapp_inbound_list_reply.json",
        "whatsapp_inbound_template_button.json",
        "whatsapp_status_sent.json",
        "whatsapp_status_delivered.json",
        "whatsapp_status_read.json",
        "whatsapp_status_failed.json",
    ] {
        let body = fixture(name);
        let (status, receipt) =
            deliver(&url, body.as_bytes(), &sign(&secret, body.as_bytes())).await;
        assert_eq!(status, StatusCode::OK, "{name}: {receipt}");
        assert_eq!(receipt["duplicates"], 0, "{name}");
    }
    let messages = events(app, "message.received").await;
    let said: Vec<(&str, bool)> = messages
        .iter()
        .map(|e| {
            let m = &e["data"]["message"];
            (
                m["text"].as_str().unwrap(),
                m["is_button"].as_bool().unwrap(),
            )
        })
        .collect();
    let expected: Vec<(String, bool)> = [
        ("whatsapp_inbound_text.json", "/text/body", false),
        (
            "whatsapp_inbound_button_reply.json",
            "/interactive/button_reply/title",
            true,
        ),
        (
            "whatsapp_inbound_list_reply.json",
            "/interactive/list_reply/title",
            true,
        ),
        (
            "whatsapp_inbound_template_button.json",
            "/button/text",
            true,
        ),
    ]
    .iter()
    .map(|(name, pointer, button)| {
        let v: Value = serde_json::from_str(&fixture(name)).unwrap();
        let m = &v["entry"][0]["changes"][0]["value"]["messages"][0];
        (
            m.pointer(pointer).unwrap().as_str().unwrap().to_string(),
            *button,
        )
    })
    .collect();
    let expected: Vec<(&str, bool)> = expected.iter().map(|(t, b)| (t.as_str(), *b)).collect();
    assert_eq!(said, expected);
    let statuses: Vec<String> = events(app, "message.status")
        .await
        .iter()
        .map(|e| e["data"]["status"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(statuses, ["sent", "delivered", "read", "failed"]);
    let failed = &events(app, "message.status").await[3]["data"];
    assert!(failed["errors"][0]["code"].is_number(), "{failed}");
}

async fn a_status_never_goes_back(app: &TestApp) {
    let url = connect(app).await;
    let secret = vector()["app_secret"].as_str().unwrap().to_string();
    // Meta may tell `read` before `delivered`; the late `delivered` says nothing new.
    for name in [
        "whatsapp_status_read.json",
        "whatsapp_status_delivered.json",
    ] {
        let body = fixture(name);
        deliver(&url, body.as_bytes(), &sign(&secret, body.as_bytes())).await;
    }
    let statuses: Vec<String> = events(app, "message.status")
        .await
        .iter()
        .map(|e| e["data"]["status"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(statuses, ["read"]);
}

async fn a_known_customer_is_named_and_a_botmaker_webhook_hears_the_message(app: &TestApp) {
    let url = connect(app).await;
    let (status, customer) = app
        .post(
            "/api/v1/customers",
            json!({"name": "Maria Silva", "phone": "+55 11 98765-4321"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{customer}");
    let rx = Receiver::start().await;
    let (status, hook) = app
        .post(
            "/api/v1/webhooks",
            json!({"url": rx.url, "format": "botmaker", "event_types": ["message.*"], "channel": "whatsapp"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{hook}");
    let secret = vector()["app_secret"].as_str().unwrap().to_string();
    let body = fixture("whatsapp_inbound_text.json");
    deliver(&url, body.as_bytes(), &sign(&secret, body.as_bytes())).await;

    let got = events(app, "message.received").await;
    assert_eq!(got[0]["data"]["customer_id"], customer["id"]);
    let sent = rx.wait_for(1, 10).await[0].json();
    assert_eq!(sent["v"], "1.1");
    assert_eq!(sent["type"], "message");
    assert_eq!(sent["contactId"], "5511987654321");
    assert_eq!(sent["customerId"], customer["id"]);
    assert_eq!(sent["messages"][0]["message"], "Oi! Quero agendar um corte");
    assert_eq!(sent["messages"][0]["fromCustomer"], true);
}

/// A batch of three text messages from three people, as Meta sends several at once.
fn batch_of_three() -> Vec<u8> {
    let message = |id: &str, from: &str| {
        json!({"from": from, "id": id, "timestamp": "1893931200", "type": "text",
               "text": {"body": "hola"}})
    };
    json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{
        "field": "messages",
        "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "5511955550100",
                         "phone_number_id": "106540352242922"},
            "messages": [
                message("wamid.FIRST", "5511900000001"),
                message("wamid.BAD", "5511900000002"),
                message("wamid.THIRD", "5511900000003")
            ]
        }
    }]}]})
    .to_string()
    .into_bytes()
}

async fn one_message_the_database_refuses_does_not_hold_back_the_rest_of_its_batch(app: &TestApp) {
    let url = connect(app).await;
    // The database refuses one message (as PostgreSQL refused a NUL): a trigger stands in.
    let db = &app.server.db;
    let refuse: &[&str] = match db.backend {
        turnero::db::Backend::Sqlite => {
            &["CREATE TRIGGER refuse_bad BEFORE INSERT ON inbound_seen \
             WHEN NEW.external_id = 'wamid.BAD' BEGIN SELECT RAISE(ABORT, 'refused'); END"]
        }
        turnero::db::Backend::Postgres => &[
            "CREATE FUNCTION refuse_bad() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
             IF NEW.external_id = 'wamid.BAD' THEN RAISE EXCEPTION 'refused'; END IF; \
             RETURN NEW; END $$",
            "CREATE TRIGGER refuse_bad BEFORE INSERT ON inbound_seen FOR EACH ROW \
             EXECUTE FUNCTION refuse_bad()",
        ],
    };
    for sql in refuse {
        sqlx::query(sql).execute(&db.write).await.unwrap();
    }
    let body = batch_of_three();
    let secret = vector()["app_secret"].as_str().unwrap().to_string();
    let (status, _) = deliver(&url, &body, &sign(&secret, &body)).await;
    assert_eq!(
        status,
        StatusCode::INTERNAL_SERVER_ERROR,
        "Meta must send the batch again"
    );
    let ids = |got: Vec<Value>| -> Vec<String> {
        let mut ids: Vec<String> = got
            .iter()
            .map(|e| e["data"]["message"]["id"].as_str().unwrap().to_string())
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(
        ids(events(app, "message.received").await),
        ["wamid.FIRST", "wamid.THIRD"],
        "the messages around the refused one are kept"
    );

    // Meta redelivers the batch once the database takes it: the kept two are duplicates.
    let drop = match db.backend {
        turnero::db::Backend::Sqlite => "DROP TRIGGER refuse_bad",
        turnero::db::Backend::Postgres => "DROP TRIGGER refuse_bad ON inbound_seen",
    };
    sqlx::query(drop).execute(&db.write).await.unwrap();
    let (status, receipt) = deliver(&url, &body, &sign(&secret, &body)).await;
    assert_eq!(status, StatusCode::OK, "{receipt}");
    assert_eq!(receipt["messages"], 1, "{receipt}");
    assert_eq!(receipt["duplicates"], 2, "{receipt}");
    assert_eq!(
        ids(events(app, "message.received").await),
        ["wamid.BAD", "wamid.FIRST", "wamid.THIRD"]
    );
}

crate::on_both_backends!(
    metas_handshake_echoes_the_challenge_only_for_the_right_token,
    a_signed_message_becomes_one_event_even_when_meta_redelivers_it,
    a_wrong_signature_is_refused_and_records_nothing,
    replies_and_statuses_from_every_fixture_become_events,
    a_known_customer_is_named_and_a_botmaker_webhook_hears_the_message,
    a_status_never_goes_back,
    one_message_the_database_refuses_does_not_hold_back_the_rest_of_its_batch,
);
