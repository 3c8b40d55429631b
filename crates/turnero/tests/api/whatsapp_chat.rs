//! The booking bot over WhatsApp, end to end: signed webhooks shaped like Meta's fixtures go
//! in, the flow runs against the real database, and every reply goes out to a Graph API
//! stand-in that checks it against the documented shape and limits.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{Backend, TestApp};
use crate::patient::*;

async fn a_patient_books_then_cancels_and_reschedules_over_whatsapp(app: &TestApp) {
    let (cal, _svc) = app.clinic().await;
    let mut p = Patient::new(app).await;

    let menu = p.says("Hola").await;
    assert_eq!(menu.len(), 1);
    assert_eq!(button_ids(&menu[0]), ["book", "mine", "agent"]);
    assert_eq!(menu[0]["to"], WA_ID);

    // One service and one professional: neither is asked; the slots come straight away.
    let list = p.presses("book").await;
    assert_eq!(list[0]["interactive"]["type"], "list", "{:?}", list);
    let rows = row_ids(&list[0]);
    assert_eq!(
        rows.len(),
        10,
        "eight slots, 'later' and 'another day': {rows:?}"
    );
    assert_eq!(&rows[8..], ["later", "other_day"]);
    let later = p.picks_row("later").await;
    let later_rows = row_ids(&later[0]);
    assert!(later_rows.contains(&"earlier".to_string()));
    let slot = later_rows[0].clone();
    assert!(slot.starts_with(&format!("slot:{cal}:")), "{slot}");

    let name_q = p.picks_row(&slot).await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM bookings WHERE status = 'held'")
            .await,
        1
    );
    assert_eq!(
        body_text(&name_q[0]),
        "¿A nombre de quién hago la reserva? (nombre y apellido)",
        "the phone is known from WhatsApp, so only the name is asked"
    );
    let confirm = p.says("Maria Silva").await;
    assert!(
        body_text(&confirm[0]).contains("a nombre de Maria Silva"),
        "{}",
        body_text(&confirm[0])
    );
    assert_eq!(button_ids(&confirm[0]), ["yes", "no"]);
    let done = p.presses("yes").await;
    assert!(
        body_text(&done[0]).starts_with("¡Listo!"),
        "{}",
        body_text(&done[0])
    );

    assert_eq!(
        app.count("SELECT COUNT(*) FROM bookings WHERE status = 'pending' AND source = 'whatsapp'")
            .await,
        1
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM bookings WHERE status = 'held'")
            .await,
        0,
        "the hold became the booking"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM customers WHERE phone = '+5511987654321' AND name = 'Maria Silva' AND external_ids LIKE '%5511987654321%'").await,
        1
    );

    // Cancel it: my appointments → the booking → cancel → yes.
    p.says("hola").await;
    let mine = p.presses("mine").await;
    let booking_ids = option_ids(&mine[0]);
    assert_eq!(booking_ids.len(), 1, "{mine:?}");
    let manage = p.picks_row(&booking_ids[0]).await;
    let b = &booking_ids[0];
    let about_it = ["confirm", "cancel", "reschedule"].map(|a| format!("{a}@{b}"));
    assert_eq!(
        button_ids(&manage[0]),
        about_it,
        "each option says which booking"
    );
    p.presses(&about_it[1]).await;
    let canceled = p.says("sí").await;
    assert!(
        body_text(&canceled[0]).starts_with("Cancelé tu turno"),
        "{}",
        body_text(&canceled[0])
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM bookings WHERE status = 'canceled'")
            .await,
        1
    );

    // Reschedule one booked through the API for the same number, by typing only.
    let (status, b) = app
        .book(&cal, &_svc, "2030-01-09T12:00:00Z", "+5511987654321")
        .await;
    assert_eq!(status, StatusCode::CREATED, "{b}");
    p.says("menú").await;
    p.says("2").await;
    p.says("1").await;
    let slots = p.says("cambiar horario").await;
    let first = row_ids(&slots[0])[0].clone();
    let moved = p.picks_row(&first).await;
    assert!(
        body_text(&moved[0]).starts_with("Listo, tu turno pasó a"),
        "{}",
        body_text(&moved[0])
    );
    let start: i64 = first.split(':').nth(2).unwrap().parse().unwrap();
    let (_, after) = app
        .get(&format!("/api/v1/bookings/{}", b["id"].as_str().unwrap()))
        .await;
    let moved_to: jiff::Timestamp = after["start"].as_str().unwrap().parse().unwrap();
    assert_eq!(moved_to.as_second(), start);

    assert_eq!(p.graph.problems(), Vec::<String>::new());
    let (_, sent) = app.get("/api/v1/events?type=message.sent&limit=500").await;
    assert_eq!(
        sent["data"].as_array().unwrap().len(),
        p.graph.bodies().len()
    );
    let (_, vars) = app
        .get("/api/v1/events?type=conversation.variables_changed")
        .await;
    assert!(!vars["data"].as_array().unwrap().is_empty());
}

async fn a_customer_on_file_is_greeted_by_name_not_asked_again_and_keeps_the_whatsapp_id(
    app: &TestApp,
) {
    app.clinic().await;
    let (status, c) = app
        .post(
            "/api/v1/customers",
            json!({"name": "Maria Silva", "phone": "+55 11 98765-4321"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{c}");
    let mut p = Patient::new(app).await;
    let menu = p.says("hola").await;
    assert!(
        body_text(&menu[0]).starts_with("¡Hola Maria Silva!"),
        "{}",
        body_text(&menu[0])
    );
    let rows = row_ids(&p.presses("book").await[0]);
    let confirm = p.picks_row(&rows[0]).await;
    assert_eq!(
        button_ids(&confirm[0]),
        ["yes", "no"],
        "neither phone nor name is asked"
    );
    p.presses("yes").await;
    let (_, after) = app
        .get(&format!("/api/v1/customers/{}", c["id"].as_str().unwrap()))
        .await;
    assert_eq!(after["external_ids"]["whatsapp"], WA_ID);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM customers").await,
        1,
        "no second customer"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM bookings WHERE status = 'pending'")
            .await,
        1
    );
}

async fn after_a_handoff_the_bot_says_once_that_someone_will_answer_then_waits_to_be_released(
    app: &TestApp,
) {
    app.clinic().await;
    let rx = crate::receiver::Receiver::start().await;
    let (status, hook) = app
        .post(
            "/api/v1/webhooks",
            json!({"url": rx.url, "format": "botmaker", "event_types": ["message.*", "conversation.*"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{hook}");
    let mut p = Patient::new(app).await;
    p.says("hola").await;
    // The integrator hears both sides in Botmaker's shape: the person, then the bot.
    let heard = rx.wait_for(2, 10).await;
    let bodies: Vec<Value> = heard.iter().map(|r| r.json()).collect();
    let bot = bodies
        .iter()
        .find(|b| b["messages"][0]["from"] == "bot")
        .expect("the bot's reply as a Botmaker message");
    assert_eq!(bot["type"], "message");
    assert_eq!(bot["contactId"], WA_ID);
    assert!(bot["messages"][0]["message"]
        .as_str()
        .unwrap()
        .contains("1. Sacar un turno"));
    let handed = p.says("agente").await;
    assert!(body_text(&handed[0]).contains("persona del equipo"));
    let waiting = p.says("¿hay alguien?").await;
    assert_eq!(waiting.len(), 1, "one acknowledgement: {waiting:?}");
    assert!(body_text(&waiting[0]).contains("alguien te va a responder"));
    assert!(
        p.says("¿hola?").await.is_empty(),
        "then silence until a person answers"
    );
    let (_, events) = app.get("/api/v1/events?type=conversation.handoff").await;
    let data = &events["data"][0]["data"];
    let id = data["conversation_id"].as_str().unwrap().to_string();
    assert_eq!(data["contact_id"], WA_ID);
    let (_, c) = app.get(&format!("/api/v1/conversations/{id}")).await;
    assert_eq!(c["handoff"], true);
    // Staff read what was said before answering.
    let (status, t) = app
        .get(&format!("/api/v1/conversations/{id}/messages"))
        .await;
    assert_eq!(status, StatusCode::OK, "{t}");
    let lines: Vec<(&str, &str)> = t["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["from"].as_str().unwrap(), m["text"].as_str().unwrap()))
        .collect();
    assert_eq!(lines.len(), 7, "{lines:?}");
    assert_eq!(lines[0], ("user", "hola"));
    assert_eq!(lines[1].0, "bot");
    assert_eq!(lines[2], ("user", "agente"));
    assert!(lines[3].1.contains("persona del equipo"));
    assert_eq!(lines[4], ("user", "¿hay alguien?"));
    assert_eq!(lines[5].0, "bot");
    assert_eq!(lines[6], ("user", "¿hola?"));
    let other = app.new_tenant("Otra").await;
    let (status, _) = app
        .call_as(
            &other,
            Method::GET,
            &format!("/api/v1/conversations/{id}/messages"),
            None,
        )
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "another tenant cannot read it"
    );

    let (status, c) = app
        .post(&format!("/api/v1/conversations/{id}/release"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{c}");
    assert_eq!(c["handoff"], false);
    let menu = p.says("hola").await;
    assert_eq!(button_ids(&menu[0]), ["book", "mine", "agent"]);
}

async fn a_hold_that_expired_mid_conversation_still_books_when_the_slot_is_free_and_re_offers_when_not(
    app: &TestApp,
) {
    let (cal, svc) = app.clinic().await;
    let mut p = Patient::new(app).await;
    p.says("hola").await;
    let rows = row_ids(&p.presses("book").await[0]);
    // 09:30, so it is still ahead when the clock moves on.
    let chosen = rows[1].clone();
    p.picks_row(&chosen).await;
    p.says("Maria Silva").await;
    // Eleven minutes later the ten-minute hold is gone and someone else took the slot.
    app.advance_to("2030-01-07T12:11:00Z");
    let start: i64 = chosen.split(':').nth(2).unwrap().parse().unwrap();
    let at = jiff::Timestamp::from_second(start).unwrap().to_string();
    let (status, other) = app.book(&cal, &svc, &at, "+5491155550000").await;
    assert_eq!(status, StatusCode::CREATED, "{other}");
    let again = p.presses("yes").await;
    assert_eq!(
        body_text(&again[0]),
        "Ese horario se acaba de ocupar. Te muestro los disponibles."
    );
    let offered = row_ids(&again[1]);
    assert!(
        !offered.contains(&chosen),
        "the taken slot is not offered again"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM bookings WHERE source = 'whatsapp' AND status = 'pending'")
            .await,
        0
    );

    // This time the hold runs out but nobody takes the slot: the booking still goes through.
    let free = offered.iter().rfind(|id| id.starts_with("slot:")).unwrap();
    let confirm = p.picks_row(free).await;
    assert_eq!(
        button_ids(&confirm[0]),
        ["yes", "no"],
        "the name is not asked twice"
    );
    app.advance_to("2030-01-07T12:25:00Z");
    let done = p.presses("yes").await;
    assert!(
        body_text(&done[0]).starts_with("¡Listo!"),
        "{}",
        body_text(&done[0])
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM bookings WHERE source = 'whatsapp' AND status = 'pending'")
            .await,
        1
    );
    assert_eq!(p.graph.problems(), Vec::<String>::new());
}

async fn outside_the_24_hour_window_only_an_approved_template_may_be_sent(app: &TestApp) {
    let mut p = Patient::with_templates(
        app,
        json!([{"name": "appointment_reminder", "language": "es_AR"}]),
    )
    .await;
    let graph = p.graph.clone();
    p.says("hola").await;
    let (_, list) = app.get("/api/v1/conversations").await;
    let id = list["data"][0]["id"].as_str().unwrap().to_string();
    let path = format!("/api/v1/conversations/{id}/messages");

    let (status, out) = app
        .post(&path, json!({"text": "Le escribe la recepción."}))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{out}");
    let got = graph.wait_for(2, 5).await;
    assert_eq!(got[1]["text"]["body"], "Le escribe la recepción.");

    app.advance_to("2030-01-08T12:00:01Z");
    let (status, out) = app.post(&path, json!({"text": "¿Sigue ahí?"})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(out["code"], "outside_window");
    let (status, out) = app
        .post(
            &path,
            json!({"template": {"name": "promo", "language": "es_AR"}}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(out["code"], "unknown_template");
    let (status, _) = app
        .post(&path, json!({"template": {"name": "appointment_reminder", "language": "es_AR", "parameters": ["Maria", "mar 08/01 09:00"]}}))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let got = graph.wait_for(3, 5).await;
    assert_eq!(got[2]["type"], "template");
    assert_eq!(
        got[2]["template"]["components"][0]["parameters"][1]["text"],
        "mar 08/01 09:00"
    );
    assert_eq!(graph.problems(), Vec::<String>::new());
    // The stand-in sees a message a moment before the sender marks its row sent.
    settle(app).await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM chat_outbox WHERE status = 'sent'")
            .await,
        3
    );
}

async fn a_message_left_unanswered_by_a_dead_process_is_answered_by_the_sweeper(app: &TestApp) {
    app.clinic().await;
    let mut p = Patient::new(app).await;
    p.says("hola").await;
    // What a process that stored a message and died before answering leaves behind.
    let (_, list) = app.get("/api/v1/conversations").await;
    let id = list["data"][0]["id"].as_str().unwrap();
    sqlx::query("INSERT INTO chat_inbox (id, tenant_id, conversation_id, text, received_at) SELECT 'inb_stranded', tenant_id, id, 'agente', $1 FROM conversations WHERE id = $2")
        .bind(app.clock().now_secs())
        .bind(id)
        .execute(&app.server.db.write)
        .await
        .unwrap();
    app.advance_to("2030-01-07T12:00:10Z");
    app.server.chat.sweep_once().await.unwrap();
    settle(app).await;
    let last = p.graph.bodies().last().unwrap().clone();
    assert!(body_text(&last).contains("persona del equipo"), "{last}");
}

async fn a_message_that_fails_every_turn_is_set_aside_after_five_attempts(app: &TestApp) {
    app.clinic().await;
    let mut p = Patient::new(app).await;
    p.says("hola").await;
    // A conversation whose stored state no longer reads (as after a bad manual edit).
    sqlx::query("UPDATE conversations SET state = 'not json'")
        .execute(&app.server.db.write)
        .await
        .unwrap();
    let body = p.next_message(
        "whatsapp_inbound_text.json",
        json!({"type": "text", "text": {"body": "1"}}),
    );
    p.post(body).await;
    // The first attempt is the receiving process's own, right away.
    let deadline = Instant::now() + Duration::from_secs(5);
    while app.count("SELECT MAX(attempts) FROM chat_inbox").await < 1 {
        assert!(
            Instant::now() < deadline,
            "the first turn was not attempted"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let pending = "SELECT COUNT(*) FROM chat_inbox WHERE done_at IS NULL";
    for sweep in 2..=5 {
        app.advance_to(&format!("2030-01-07T12:0{sweep}:00Z"));
        let _ = app.server.chat.sweep_once().await;
        let left = app.count(pending).await;
        assert_eq!(left, i64::from(sweep < 5), "after sweep {sweep}");
    }
    assert_eq!(app.count("SELECT MAX(attempts) FROM chat_inbox").await, 5);
    assert_eq!(p.graph.bodies().len(), 1, "nothing was sent for it");
}

async fn replies_wait_out_a_graph_api_outage_and_are_sent_once_it_is_back(app: &TestApp) {
    app.clinic().await;
    let mut p = Patient::new(app).await;
    p.graph.fail_with(Some(503));
    let hello = p.next_message(
        "whatsapp_inbound_text.json",
        json!({"type": "text", "text": {"body": "hola"}}),
    );
    p.post(hello).await;
    p.graph.wait_for(1, 5).await;
    let deadline = Instant::now() + Duration::from_secs(5);
    while app
        .count("SELECT COUNT(*) FROM chat_outbox WHERE status = 'queued' AND error LIKE '503%'")
        .await
        == 0
    {
        assert!(
            Instant::now() < deadline,
            "the failed send was not recorded"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    p.graph.fail_with(None);
    // Once the send's lease has run out, any process's sweeper sends it again.
    app.advance_to("2030-01-07T12:01:00Z");
    app.server.chat.sweep_once().await.unwrap();
    settle(app).await;
    let bodies = p.graph.bodies();
    assert_eq!(bodies.len(), 2);
    assert_eq!(bodies[0], bodies[1]);
    let (_, sent) = app.get("/api/v1/events?type=message.sent").await;
    assert_eq!(sent["data"].as_array().unwrap().len(), 1);
    assert_eq!(
        sent["data"][0]["data"]["message"]["external_ids"][0],
        "wamid.test.0"
    );
}

async fn a_second_server_process_continues_the_conversation(backend: Backend) {
    let app = TestApp::start(backend).await;
    app.clinic().await;
    let mut p = Patient::new(&app).await;
    p.says("hola").await;
    let rows = row_ids(&p.presses("book").await[0]);
    // The next message reaches another process on the same database.
    let second = app.second_process().await;
    let key = p.webhook.rsplit("/channels/").next().unwrap().to_string();
    p.webhook = format!("{}/channels/{key}", second.url());
    let name_q = p.picks_row(&rows[0]).await;
    assert!(body_text(&name_q[0]).starts_with("¿A nombre de quién"));
    second.stop().await;
    app.finish().await;
}

async fn a_number_flooding_the_bot_is_recorded_but_answered_only_as_fast_as_a_person_types(
    app: &TestApp,
) {
    app.clinic().await;
    let mut flood = Patient::new(app).await;
    for _ in 0..60 {
        let body = flood.next_message(
            "whatsapp_inbound_text.json",
            json!({"type": "text", "text": {"body": "hola"}}),
        );
        flood.post(body).await;
    }
    // Thirty turns of one conversation run one after another: give them time.
    let deadline = Instant::now() + Duration::from_secs(60);
    while app
        .count("SELECT COUNT(*) FROM chat_inbox WHERE done_at IS NULL")
        .await
        > 0
    {
        assert!(
            Instant::now() < deadline,
            "the bot did not get through the burst"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let received = app
        .count("SELECT COUNT(*) FROM events WHERE type = 'message.received'")
        .await;
    assert_eq!(received, 60, "every message is kept");
    let answered = app.count("SELECT COUNT(*) FROM chat_inbox").await;
    assert!(
        (30..=33).contains(&answered),
        "a burst of 30, then one every two seconds: {answered}"
    );
    // Someone else writing at the same time is answered as always.
    let mut other = Patient {
        app,
        graph: flood.graph.clone(),
        webhook: flood.webhook.clone(),
        wa_id: "5491100002222".into(),
        sent: 1000,
    };
    let body = other.next_message(
        "whatsapp_inbound_text.json",
        json!({"type": "text", "text": {"body": "hola"}}),
    );
    other.post(body).await;
    let theirs =
        "SELECT COUNT(*) FROM chat_inbox i JOIN conversations c ON c.id = i.conversation_id \
         WHERE c.contact = '5491100002222' AND i.done_at IS NOT NULL";
    let deadline = Instant::now() + Duration::from_secs(10);
    while app.count(theirs).await == 0 {
        assert!(
            Instant::now() < deadline,
            "the other person was not answered"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

crate::on_both_backends!(
    a_patient_books_then_cancels_and_reschedules_over_whatsapp,
    after_a_handoff_the_bot_says_once_that_someone_will_answer_then_waits_to_be_released,
    a_customer_on_file_is_greeted_by_name_not_asked_again_and_keeps_the_whatsapp_id,
    a_hold_that_expired_mid_conversation_still_books_when_the_slot_is_free_and_re_offers_when_not,
    outside_the_24_hour_window_only_an_approved_template_may_be_sent,
    a_message_left_unanswered_by_a_dead_process_is_answered_by_the_sweeper,
    replies_wait_out_a_graph_api_outage_and_are_sent_once_it_is_back,
    a_message_that_fails_every_turn_is_set_aside_after_five_attempts,
    a_number_flooding_the_bot_is_recorded_but_answered_only_as_fast_as_a_person_types,
);

crate::with_each_backend!(a_second_server_process_continues_the_conversation);
