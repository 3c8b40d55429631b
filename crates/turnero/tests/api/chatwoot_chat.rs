//! The booking bot as Chatwoot's agent bot, end to end: signed `message_created` webhooks
//! built from the recorded payloads go in, the flow runs against the real database, and
//! every reply, handoff and contact update reaches a Chatwoot stand-in that checks path,
//! token and body against the recorded fixtures.

use reqwest::StatusCode;
use serde_json::json;

use crate::chatwoot_person::*;
use crate::common::TestApp;

async fn a_patient_books_in_chatwoot_then_the_agents_take_over_and_hand_back(app: &TestApp) {
    app.clinic().await;
    let mut p = CwPerson::new(app).await;
    let menu = p.says("Oi").await;
    assert_eq!(menu[0]["content_type"], "input_select", "{menu:?}");
    let options = titles(&menu[0]);
    assert_eq!(options[0], "Sacar un turno");
    // Chatwoot sends back only the title of what was tapped.
    let list = p.says("Sacar un turno").await;
    let slots = titles(&list[0]);
    assert_eq!(slots[0], "lun 07/01 · 09:00", "{slots:?}");
    let name_q = p.says(&slots[1]).await;
    assert!(
        content(&name_q[0]).starts_with("¿A nombre de quién"),
        "the WhatsApp inbox's number is the person's: only the name is asked: {name_q:?}"
    );
    let confirm = p.says("Maria Silva").await;
    assert_eq!(titles(&confirm[0]), ["Sí", "No"]);
    let done = p.says("Sí").await;
    assert!(content(&done[0]).starts_with("¡Listo!"), "{done:?}");
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM bookings b JOIN customers c ON c.id = b.customer_id \
             WHERE b.source = 'chatwoot' AND b.status = 'pending' AND c.phone = '+5511987654321'"
        )
        .await,
        1
    );

    // The agents' queue: "agente" hands the conversation over with the bot's token.
    let handed = p.says("agente").await;
    assert!(
        content(&handed[0]).contains("persona del equipo"),
        "{handed:?}"
    );
    p.api
        .wait_until("the handoff", |r| {
            r.iter().any(|(m, path, b)| {
                m == "POST" && path == "conversations/412/toggle_status" && b["status"] == "open"
            })
        })
        .await;
    p.status_is("open").await;
    assert!(
        p.says("¿hay alguien?").await.is_empty(),
        "the agents have it: the bot is silent"
    );
    // An agent's reply and a private note come back as webhooks; neither reaches the bot.
    let agent = p.message(
        "Hola Maria, soy Ana",
        json!({"message_type": "outgoing", "sender": {"id": 5, "name": "Ana", "type": "user"}}),
    );
    assert!(p.deliver(agent).await.is_empty());
    let note = p.message("llamar mañana", json!({"private": true}));
    assert!(p.deliver(note).await.is_empty());
    // Back to the bot: the next message starts the flow anew.
    p.status_is("pending").await;
    let again = p.says("hola").await;
    assert_eq!(titles(&again[0])[0], "Sacar un turno", "{again:?}");

    let (_, received) = app
        .get("/api/v1/events?type=message.received&limit=100")
        .await;
    let received = received["data"].as_array().unwrap();
    assert_eq!(
        received.len(),
        8,
        "the person's messages, the silent one too"
    );
    assert!(received.iter().all(|e| e["data"]["channel"] == "chatwoot"));
    assert_eq!(p.api.problems(), Vec::<String>::new());
}

async fn a_bad_or_missing_signature_is_refused_and_a_redelivery_is_answered_once(app: &TestApp) {
    app.clinic().await;
    let mut p = CwPerson::new(app).await;
    let m = p.message("hola", json!({}));
    let body = serde_json::to_vec(&m).unwrap();
    let now = app.clock().now_secs();
    let post = |ts: Option<i64>, sig: Option<String>| {
        let mut req = reqwest::Client::new()
            .post(&p.webhook)
            .header("content-type", "application/json")
            .body(body.clone());
        if let Some(ts) = ts {
            req = req.header("x-chatwoot-timestamp", ts.to_string());
        }
        if let Some(sig) = sig {
            req = req.header("x-chatwoot-signature", sig);
        }
        req.send()
    };
    for (ts, sig) in [
        (None, None),
        (Some(now), Some("sha256=00".to_string())),
        (Some(now - 600), Some(sign(now - 600, &body))),
        (Some(now + 1), Some(sign(now, &body))),
    ] {
        let status = post(ts, sig).await.unwrap().status();
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{ts:?}");
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM events WHERE type LIKE 'message.%'")
            .await,
        0,
        "no effect"
    );
    assert_eq!(p.deliver(m.clone()).await.len(), 1);
    assert!(p.deliver(m).await.is_empty(), "the same message id again");
    let (status, health) = app
        .client
        .get(&p.webhook)
        .send()
        .await
        .map(|r| r.status())
        .map(|s| (s, ()))
        .unwrap();
    assert_eq!(status, StatusCode::OK);
    let _ = health;
    let health: serde_json::Value = app
        .client
        .get(&p.webhook)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["success"], true, "{health}");
    assert!(health["timestamp"].is_string() && health["message"].is_string());
}

crate::on_both_backends!(
    a_patient_books_in_chatwoot_then_the_agents_take_over_and_hand_back,
    a_bad_or_missing_signature_is_refused_and_a_redelivery_is_answered_once,
);
