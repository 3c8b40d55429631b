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
    // Back to the bot: an agent sets it pending. The message may reach turnero before the
    // status webhook does; it starts the flow anew either way.
    p.status = "pending";
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
    // The health check integrators know from seed 002.
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

async fn a_known_customer_is_found_by_any_spelling_of_their_phone_and_nobody_new_is_made(
    app: &TestApp,
) {
    // A clinic in Mexico City: its customers' numbers are written the local way.
    let (_, key) = turnero::agenda::tenants::create(
        &app.server.db,
        turnero::agenda::tenants::NewTenant {
            name: "Consultorio CDMX".into(),
            timezone: "America/Mexico_City".into(),
            phone_region: "MX".into(),
            locale: "es".into(),
        },
        app.clock().now_secs(),
    )
    .await
    .unwrap();
    let (status, customer) = app
        .call_as(
            &key,
            reqwest::Method::POST,
            "/api/v1/customers",
            Some(json!({"name": "Lucía Ramírez", "phone": "55 1234 5678"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{customer}");
    let customer_id = customer["id"].as_str().unwrap().to_string();
    let api = crate::chatwoot_api::ChatwootApi::start().await;
    let out = connect(app, &key, &api).await;
    let mut p = CwPerson::new_on(app, api.clone(), &out);
    // Two WhatsApp contacts of Lucía's number, as WhatsApp spells Mexican numbers (with and
    // without the old "1"), one of another number, and a web visitor who typed hers.
    for (conversation, contact, phone, inbox) in [
        (501, 31, "+5215512345678", "Channel::Whatsapp"),
        (502, 32, "+52 55 1234 5678", "Channel::Whatsapp"),
        (503, 33, "+52 555 123 4567", "Channel::Whatsapp"),
        (504, 34, "55 1234 5678", "Channel::WebWidget"),
    ] {
        p.conversation = conversation;
        p.contact = contact;
        p.phone = phone.into();
        p.inbox_channel = inbox;
        p.says("hola").await;
    }
    // The follower stays a moment behind the newest events.
    app.advance_to("2030-01-07T12:00:05Z");
    api.wait_until("Lucía's contact updated", |r| {
        r.iter()
            .any(|(m, path, _)| m == "PUT" && path == "contacts/31")
    })
    .await;
    let (_, attrs) = api.contact(31).unwrap();
    assert_eq!(attrs["turnero_customer_id"], customer_id.as_str());
    assert_eq!(attrs["total_appointments"], 0);
    for other in [32, 33, 34] {
        assert!(
            api.contact(other).is_none(),
            "contact {other}: the first link stays, another number is another person, \
             and a typed number proves nothing"
        );
    }
    let (_, list) = app
        .call_as(&key, reqwest::Method::GET, "/api/v1/customers", None)
        .await;
    assert_eq!(
        list["data"].as_array().unwrap().len(),
        1,
        "an unknown contact makes no customer"
    );
    let (_, c) = app
        .call_as(
            &key,
            reqwest::Method::GET,
            &format!("/api/v1/customers/{customer_id}"),
            None,
        )
        .await;
    assert_eq!(c["external_ids"]["chatwoot"], "31", "linked: {c}");
    assert_eq!(p.api.problems(), Vec::<String>::new());
}

async fn a_linked_contact_follows_the_customers_bookings(app: &TestApp) {
    let (cal, svc) = app.clinic().await;
    let (status, b) = app
        .book(&cal, &svc, "2030-01-09T12:00:00Z", "+5511987654321")
        .await;
    assert_eq!(status, StatusCode::CREATED, "{b}");
    let mut p = CwPerson::new(app).await;
    p.says("hola").await;
    // The follower stays a moment behind the newest events.
    app.advance_to("2030-01-07T12:00:05Z");
    let attrs = |api: &crate::chatwoot_api::ChatwootApi| {
        api.contact(CONTACT).map(|c| c.1).unwrap_or_default()
    };
    p.api
        .wait_until("the contact's attributes", |_| {
            attrs(&p.api)["next_appointment"] == "2030-01-09T09:00:00-03:00"
        })
        .await;
    assert_eq!(attrs(&p.api)["total_appointments"], 1);
    let id = b["id"].as_str().unwrap();
    let (status, _) = app
        .post(&format!("/api/v1/bookings/{id}/cancel"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    app.advance_to("2030-01-07T12:00:10Z");
    p.api
        .wait_until("the canceled booking gone from the contact", |_| {
            attrs(&p.api)["total_appointments"] == 0 && attrs(&p.api)["next_appointment"].is_null()
        })
        .await;
    app.book(&cal, &svc, "2030-01-10T13:00:00Z", "+5511987654321")
        .await;
    app.advance_to("2030-01-07T12:00:15Z");
    p.api
        .wait_until("the new booking on the contact", |_| {
            attrs(&p.api)["next_appointment"] == "2030-01-10T10:00:00-03:00"
        })
        .await;
    assert_eq!(p.api.problems(), Vec::<String>::new());
    // Each write to the contact is an event in the hub, with what caused it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let (_, events) = app.get("/api/v1/events?type=contact.synced").await;
        let causes: Vec<String> = events["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["data"]["cause"].as_str().unwrap().to_string())
            .collect();
        if causes.contains(&"customer".to_string())
            && causes.iter().filter(|c| *c == "booking").count() >= 2
        {
            assert_eq!(events["data"][0]["data"]["contact_id"], CONTACT);
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{causes:?}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

async fn replies_wait_while_chatwoot_is_down_and_a_refusal_is_kept_with_its_reason(app: &TestApp) {
    app.clinic().await;
    let mut p = CwPerson::new(app).await;
    p.api.fail_with(Some(503));
    let hello = p.message("hola", json!({}));
    assert_eq!(p.post_signed(&hello).await, StatusCode::OK);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while app
        .count("SELECT COUNT(*) FROM chat_outbox WHERE status = 'queued' AND error LIKE '503%'")
        .await
        == 0
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the failed send was not recorded"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    p.api.fail_with(None);
    app.advance_to("2030-01-07T12:01:00Z");
    app.server.chat.sweep_once().await.unwrap();
    crate::patient::settle(app).await;
    let sent = p.api.messages(CONVERSATION);
    assert_eq!(sent.len(), 2, "the failed try and the one that went");
    assert_eq!(sent[0], sent[1]);
    p.api.fail_with(Some(422));
    let book = p.message("Sacar un turno", json!({}));
    assert_eq!(p.post_signed(&book).await, StatusCode::OK);
    crate::patient::settle(app).await;
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM chat_outbox WHERE status = 'failed' \
             AND error = '422: stand-in answering 422'"
        )
        .await,
        1,
        "kept as failed with Chatwoot's reason"
    );
}

crate::on_both_backends!(
    the_clinic_writes_first_through_chatwoot_and_the_answer_reaches_the_bot,
    a_known_customer_is_found_by_any_spelling_of_their_phone_and_nobody_new_is_made,
    a_linked_contact_follows_the_customers_bookings,
    replies_wait_while_chatwoot_is_down_and_a_refusal_is_kept_with_its_reason,
    a_patient_books_in_chatwoot_then_the_agents_take_over_and_hand_back,
    a_bad_or_missing_signature_is_refused_and_a_redelivery_is_answered_once,
);

async fn the_clinic_writes_first_through_chatwoot_and_the_answer_reaches_the_bot(app: &TestApp) {
    let (cal, svc) = app.clinic().await;
    let (_, b) = app
        .book(&cal, &svc, "2030-01-09T12:00:00Z", "+5511987654321")
        .await;
    let customer = b["customer"]["id"].as_str().unwrap().to_string();
    let mut p = CwPerson::new(app).await;
    let (status, out) = app
        .post(
            "/api/v1/channels/chatwoot/conversations",
            json!({"customer_id": customer, "template": {"name": "appointment_reminder",
                "language": "pt_BR", "parameters": ["Maria", "qua 09/01 09:00"]}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{out}");
    let chat = out["chatwoot_conversation_id"].as_i64().unwrap();
    crate::patient::settle(app).await;
    let sent = p.api.messages(chat);
    assert_eq!(sent.len(), 1, "{:?}", p.api.requests());
    assert_eq!(sent[0]["template_params"]["name"], "appointment_reminder");
    assert_eq!(
        sent[0]["template_params"]["processed_params"]["body"]["2"],
        "qua 09/01 09:00"
    );
    // The contact was created in the inbox and linked; the person's answer reaches the bot.
    let (_, c) = app.get(&format!("/api/v1/customers/{customer}")).await;
    assert!(c["external_ids"]["chatwoot"].is_string(), "{c}");
    p.conversation = chat;
    p.contact = c["external_ids"]["chatwoot"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let menu = p.says("hola").await;
    assert_eq!(titles(&menu[0])[0], "Sacar un turno", "{menu:?}");
    let (status, problem) = app
        .post(
            "/api/v1/channels/chatwoot/conversations",
            json!({"customer_id": customer}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(p.api.problems(), Vec::<String>::new());
}
