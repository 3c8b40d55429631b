//! Reminders when things change under them: a booking canceled while its reminder waits in
//! the outbox, a visit marked completed before its follow-up, Meta reporting a reminder
//! undelivered after taking it, and the confirmation's words edited by the clinic.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::TestApp;
use crate::graph::{fixture, GraphApi};
use crate::patient::*;
use crate::reminders::first_row;
use crate::smtp::SmtpServer;

const TUE_10: &str = "2030-01-08T13:00:00Z";

async fn rule(app: &TestApp, body: Value) -> String {
    let (status, out) = app.post("/api/v1/notification-rules", body).await;
    assert_eq!(status, StatusCode::CREATED, "{out}");
    out["id"].as_str().unwrap().to_string()
}

async fn a_reminder_waiting_in_the_outbox_is_withdrawn_when_the_booking_is_canceled(app: &TestApp) {
    let (cal, svc) = app.clinic().await;
    let graph = GraphApi::start().await;
    connect(
        app,
        &graph,
        json!([{"name": "recordatorio", "language": "es_AR"}]),
    )
    .await;
    rule(
        app,
        json!({"name": "24 h", "when": {"before_start": "P1D"}, "channels": ["whatsapp"],
               "whatsapp_template": {"name": "recordatorio", "language": "es_AR"}}),
    )
    .await;
    let (_, b) = app.book(&cal, &svc, TUE_10, "+5491122334455").await;
    let id = b["id"].as_str().unwrap().to_string();
    graph.fail_with(Some(503)); // Meta down: the send waits for its retry
    app.advance_to("2030-01-07T13:00:05Z");
    graph.wait_for(1, 5).await;
    first_row(app, &id, |r| r["state"] == "queued").await;
    let (status, _) = app
        .post(&format!("/api/v1/bookings/{id}/cancel"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let row = first_row(app, &id, |r| r["state"] == "skipped").await;
    assert_eq!(row["reason"], "booking_changed");
    // Meta is back and the retry comes due: the withdrawn reminder is not sent.
    graph.fail_with(None);
    app.advance_to("2030-01-07T13:01:00Z");
    let started = Instant::now();
    while app
        .count("SELECT COUNT(*) FROM chat_outbox WHERE status = 'queued'")
        .await
        > 0
    {
        assert!(started.elapsed() < Duration::from_secs(5));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(graph.bodies().len(), 1, "only the attempt Meta refused");
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM chat_outbox WHERE status = 'failed' AND error LIKE 'withdrawn%'"
        )
        .await,
        1
    );
}

async fn a_follow_up_still_goes_after_the_visit_is_marked_completed(app: &TestApp) {
    let (cal, svc) = app.clinic().await;
    let graph = GraphApi::start().await;
    connect(
        app,
        &graph,
        json!([{"name": "encuesta", "language": "es_AR"}]),
    )
    .await;
    rule(
        app,
        json!({"name": "Encuesta", "when": {"after_end": "PT2H"}, "channels": ["whatsapp"],
               "whatsapp_template": {"name": "encuesta", "language": "es_AR"}}),
    )
    .await;
    let (_, b) = app.book(&cal, &svc, TUE_10, "+5491122334455").await;
    let id = b["id"].as_str().unwrap().to_string();
    let (status, _) = app
        .call(
            Method::POST,
            &format!("/api/v1/bookings/{id}/confirm"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    app.advance_to("2030-01-08T13:40:00Z");
    let (status, out) = app
        .post(&format!("/api/v1/bookings/{id}/complete"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    app.advance_to("2030-01-08T15:30:05Z");
    let sent = graph.wait_for(1, 5).await;
    assert_eq!(sent[0]["template"]["name"], "encuesta");
    first_row(app, &id, |r| r["state"] == "sent").await;
}

async fn a_reminder_meta_reports_undelivered_goes_by_mail_in_the_clinics_words(app: &TestApp) {
    let (cal, svc) = app.clinic().await;
    let graph = GraphApi::start().await;
    let webhook = connect(
        app,
        &graph,
        json!([{"name": "recordatorio", "language": "es_AR"}]),
    )
    .await;
    let smtp = SmtpServer::start().await;
    let (status, _) = app
        .call(
            Method::PUT,
            "/api/v1/channels/email",
            Some(json!({"smtp_url": smtp.url(), "from": "turnos@clinica.test"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    // The clinic's own words, imported like a flow; a document with mistakes is refused
    // with each by its path.
    let (status, words) = app.get("/api/v1/flows/confirmation").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(words["language"], "es");
    let mut bad = words.clone();
    bad["buttons"]["confirm"] = json!("Confirmar mi asistencia al turno");
    bad["replies"]["cannot"] = json!("No pude: {{ motivo }}");
    let (status, refused) = app
        .call(Method::PUT, "/api/v1/flows/confirmation", Some(bad))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    let paths: Vec<&str> = refused["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["replies.cannot", "buttons.confirm"]);
    let mut mine = words.clone();
    mine["subject"]["ask"] = json!("Clínica Test — ¿venís el {{ when }}?");
    let (status, _) = app
        .call(Method::PUT, "/api/v1/flows/confirmation", Some(mine))
        .await;
    assert_eq!(status, StatusCode::OK);

    rule(
        app,
        json!({"name": "Confirmación", "when": {"before_start": "P1D"},
               "channels": ["whatsapp", "email"], "ask_confirmation": true,
               "whatsapp_template": {"name": "recordatorio", "language": "es_AR"}}),
    )
    .await;
    let (status, b) = app
        .post(
            "/api/v1/bookings",
            json!({"calendar_id": cal, "service_id": svc, "start": TUE_10,
                   "customer": {"name": "Ana Gómez", "phone": "+5491122334455", "email": "ana@example.com"}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{b}");
    let id = b["id"].as_str().unwrap().to_string();
    app.advance_to("2030-01-07T13:00:05Z");
    graph.wait_for(1, 5).await;
    first_row(app, &id, |r| r["state"] == "sent").await;

    // Meta took it, then says it could not be delivered.
    let mut status_body = fixture("whatsapp_status_failed.json");
    let st = &mut status_body["entry"][0]["changes"][0]["value"]["statuses"][0];
    st["id"] = json!("wamid.test.0");
    st["recipient_id"] = json!("5491122334455");
    post_signed(&webhook, serde_json::to_vec(&status_body).unwrap()).await;
    let mails = smtp.wait_for(1, 5).await;
    let mail = mail_parser::MessageParser::default()
        .parse(&mails[0])
        .unwrap();
    assert_eq!(
        mail.subject(),
        Some("Clínica Test — ¿venís el mar 08/01 10:00?")
    );
    let row = first_row(app, &id, |r| {
        r["state"] == "sent" && r["channel"] == "email"
    })
    .await;
    assert_eq!(row["channel"], "email", "{row}");

    let (status, _) = app
        .call(Method::DELETE, "/api/v1/flows/confirmation", None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, back) = app.get("/api/v1/flows/confirmation").await;
    assert_eq!(back["subject"]["ask"], "Confirmá tu turno: {{ when }}");
}

async fn a_customer_who_chats_on_telegram_gets_the_reminder_there_and_taps_to_confirm(
    app: &TestApp,
) {
    use crate::telegram_person::{callback_datas, text, TgPerson, CHAT_ID};
    let (cal, svc) = app.clinic().await;
    let (_, b) = app.book(&cal, &svc, TUE_10, "+5491122334455").await;
    let id = b["id"].as_str().unwrap().to_string();
    // The customer writes to the clinic's bot and shares their own number: the conversation
    // is theirs.
    let mut person = TgPerson::new(app).await;
    person.says("hola").await;
    person.shares_contact("+5491122334455", Some(CHAT_ID)).await;
    rule(
        app,
        json!({"name": "24 h", "when": {"before_start": "P1D"}, "channels": ["whatsapp", "telegram"],
               "ask_confirmation": true}),
    )
    .await;
    let before = person.api.bodies("sendMessage").len();
    app.advance_to("2030-01-07T13:00:05Z");
    let sent = person.api.wait_for("sendMessage", before + 1, 5).await;
    let reminder = sent.last().unwrap();
    assert!(text(reminder).contains("mar 08/01 10:00"), "{reminder}");
    let confirm = callback_datas(reminder)
        .into_iter()
        .find(|d| d.starts_with("CONFIRM_APPT:"))
        .unwrap_or_else(|| panic!("{reminder}"));
    person.taps(&confirm).await;
    let (_, booking) = app.get(&format!("/api/v1/bookings/{id}")).await;
    assert_eq!(booking["status"], "confirmed");
    let row = first_row(app, &id, |r| r["answer"] == "confirmed").await;
    assert_eq!(
        row["channel"], "telegram",
        "no WhatsApp number connected: {row}"
    );
    assert_eq!(person.api.problems(), Vec::<String>::new());
}

crate::on_both_backends!(
    a_reminder_waiting_in_the_outbox_is_withdrawn_when_the_booking_is_canceled,
    a_follow_up_still_goes_after_the_visit_is_marked_completed,
    a_reminder_meta_reports_undelivered_goes_by_mail_in_the_clinics_words,
    a_customer_who_chats_on_telegram_gets_the_reminder_there_and_taps_to_confirm,
);
