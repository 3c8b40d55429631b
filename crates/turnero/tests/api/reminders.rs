//! Reminders and confirmations: the plan follows its booking (moved, canceled, too late),
//! rules are checked when saved, and a confirmation goes over WhatsApp as the approved
//! template, whose buttons (payloads as in Meta's fixtures) act on the agenda.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::TestApp;
use crate::graph::GraphApi;
use crate::patient::*;

/// Tuesday 10:00 in Buenos Aires, the day after the tests' "now".
const TUE_10: &str = "2030-01-08T13:00:00Z";
const TUE_11: &str = "2030-01-08T14:00:00Z";
const WED_10: &str = "2030-01-09T13:00:00Z";

async fn notifications(app: &TestApp, booking: &str) -> Vec<Value> {
    let (status, out) = app
        .get(&format!("/api/v1/bookings/{booking}/notifications"))
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    out.as_array().unwrap().clone()
}

/// The booking's first notification once `done` holds for it.
pub async fn first_row(app: &TestApp, booking: &str, done: impl Fn(&Value) -> bool) -> Value {
    let started = Instant::now();
    loop {
        let (_, rows) = app
            .get(&format!("/api/v1/bookings/{booking}/notifications"))
            .await;
        if rows[0].is_object() && done(&rows[0]) {
            return rows[0].clone();
        }
        assert!(started.elapsed() < Duration::from_secs(5), "{rows}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn planned(rows: &[Value]) -> Vec<(&str, &str)> {
    rows.iter()
        .filter(|r| r["state"] == "planned")
        .map(|r| {
            (
                r["rule_id"].as_str().unwrap(),
                r["due_at"].as_str().unwrap(),
            )
        })
        .collect()
}

async fn rule(app: &TestApp, body: Value) -> Value {
    let (status, out) = app.post("/api/v1/notification-rules", body).await;
    assert_eq!(status, StatusCode::CREATED, "{out}");
    out
}

async fn a_reminders_plan_follows_its_booking_when_moved_and_canceled(app: &TestApp) {
    let (cal, svc) = app.clinic().await;
    let (_, b1) = app.book(&cal, &svc, TUE_10, "+5491122334455").await;
    let b1 = b1["id"].as_str().unwrap().to_string();
    let day_before = rule(
        app,
        json!({"name": "24 h antes", "when": {"before_start": "P1D"}, "channels": ["whatsapp", "email"]}),
    )
    .await;
    let r = day_before["id"].as_str().unwrap();
    assert_eq!(
        day_before["report"]["planned"], 1,
        "the booking already in the agenda is planned when the rule is saved"
    );
    assert_eq!(
        planned(&notifications(app, &b1).await),
        [(r, "2030-01-07T13:00:00Z")]
    );

    // A booking made after the rule is planned in its own transaction.
    let (_, b2) = app.book(&cal, &svc, WED_10, "+5491133334444").await;
    let b2 = b2["id"].as_str().unwrap().to_string();
    assert_eq!(
        planned(&notifications(app, &b2).await),
        [(r, "2030-01-08T13:00:00Z")]
    );

    // Moved: the old reminder is gone, the new one is 24 hours before the new time.
    let (status, out) = app
        .post(
            &format!("/api/v1/bookings/{b1}/reschedule"),
            json!({"start": "2030-01-10T10:00:00-03:00"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(
        planned(&notifications(app, &b1).await),
        [(r, "2030-01-09T13:00:00Z")]
    );

    // Canceled: nothing more is due, and a rule on cancellations gets its message at once.
    let on_cancel = rule(
        app,
        json!({"name": "Cancelado", "when": {"on": "booking.canceled"}, "channels": ["email"]}),
    )
    .await;
    let (status, _) = app
        .post(&format!("/api/v1/bookings/{b2}/cancel"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        planned(&notifications(app, &b2).await),
        [(on_cancel["id"].as_str().unwrap(), "2030-01-07T12:00:00Z")]
    );

    // Made 30 minutes before its start: no "tomorrow" reminder.
    let (status, soon) = app
        .book(&cal, &svc, "2030-01-07T13:30:00Z", "+5491155556666")
        .await;
    assert_eq!(status, StatusCode::CREATED, "{soon}");
    let soon_rows = notifications(app, soon["id"].as_str().unwrap()).await;
    assert!(soon_rows.is_empty(), "{soon_rows:?}");

    // Deleting the rule drops what it had not sent.
    let (status, _) = app
        .call(
            Method::DELETE,
            &format!("/api/v1/notification-rules/{r}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(planned(&notifications(app, &b1).await).is_empty());
}

async fn a_rule_that_cannot_work_is_refused_when_saved_and_nothing_is_kept(app: &TestApp) {
    let ok = json!({"name": "r", "when": {"before_start": "PT2H"}, "channels": ["whatsapp"]});
    let cases = [
        (
            "when",
            json!({"before_start": "P1M"}),
            "invalid_duration",
            "when.before_start",
        ),
        (
            "when",
            json!({"before_start": "P1D", "on": "booking.created"}),
            "invalid_field",
            "when",
        ),
        (
            "when",
            json!({"on": "booking.moved"}),
            "invalid_field",
            "when.on",
        ),
        ("channels", json!(["sms"]), "invalid_field", "channels[0]"),
        (
            "channels",
            json!(["email", "email"]),
            "invalid_field",
            "channels[1]",
        ),
        (
            "messages",
            json!({"es": "Hola {{ custmer.name }}"}),
            "invalid_template",
            "messages.es",
        ),
        (
            "messages",
            json!({"fr": "Bonjour"}),
            "invalid_field",
            "messages.fr",
        ),
        (
            "calendar_ids",
            json!(["cal_01J00000000000000000000000"]),
            "unknown_calendar",
            "calendar_ids[0]",
        ),
        (
            "whatsapp_template",
            json!({"name": "Recordatorio!", "language": "es_AR"}),
            "invalid_field",
            "whatsapp_template.name",
        ),
        ("grace", json!("P2D"), "invalid_duration", "grace"),
    ];
    for (field, value, code, at) in cases {
        let mut body = ok.clone();
        body[field] = value.clone();
        let (status, out) = app.post("/api/v1/notification-rules", body).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}={value}: {out}"
        );
        assert_eq!(out["code"], code, "{field}={value}: {out}");
        assert_eq!(out["field"], at, "{field}={value}: {out}");
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM notification_rules").await,
        0
    );
    let (status, out) = app.post("/api/v1/notification-rules", ok).await;
    assert_eq!(status, StatusCode::CREATED, "{out}");
    let id = out["id"].as_str().unwrap();
    let (status, patched) = app
        .call(
            Method::PATCH,
            &format!("/api/v1/notification-rules/{id}"),
            Some(json!({"messages": {"pt": "Olá {{ customer.first_name }}, até {{ when }}"}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["when"], json!({"before_start": "PT2H"}));
    assert_eq!(patched["channels"], json!(["whatsapp"]));
}

/// A template button press, as Meta sends it (`whatsapp_inbound_template_button.json`).
fn template_button(p: &mut Patient<'_>, payload: &str) -> Vec<u8> {
    p.next_message(
        "whatsapp_inbound_template_button.json",
        json!({"button": {"payload": payload, "text": "x"}}),
    )
}

fn payloads(template: &Value) -> Vec<String> {
    template["template"]["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["type"] == "button")
        .map(|c| c["parameters"][0]["payload"].as_str().unwrap().to_string())
        .collect()
}

async fn booking_status(app: &TestApp, id: &str) -> String {
    let (_, b) = app.get(&format!("/api/v1/bookings/{id}")).await;
    b["status"].as_str().unwrap().to_string()
}

async fn a_confirmation_goes_as_the_approved_template_and_each_answer_acts_on_the_agenda(
    app: &TestApp,
) {
    let (cal, svc) = app.clinic().await;
    let graph = GraphApi::start().await;
    let webhook = connect(
        app,
        &graph,
        json!([{"name": "appointment_reminder", "language": "es_AR"}]),
    )
    .await;
    let mut p = Patient {
        app,
        graph: graph.clone(),
        webhook: webhook.clone(),
        wa_id: WA_ID.into(),
        sent: 0,
    };
    let confirm_rule = rule(
        app,
        json!({
            "name": "Confirmación", "when": {"before_start": "P1D"}, "channels": ["whatsapp"],
            "ask_confirmation": true,
            "whatsapp_template": {"name": "appointment_reminder", "language": "es_AR"},
        }),
    )
    .await;
    let phone = format!("+{WA_ID}");
    let mut ids = Vec::new();
    for start in [TUE_10, TUE_11, WED_10] {
        let (status, b) = app.book(&cal, &svc, start, &phone).await;
        assert_eq!(status, StatusCode::CREATED, "{b}");
        ids.push(b["id"].as_str().unwrap().to_string());
    }

    // Due at 10:00 Monday (24 h before): the person has never written, so the template.
    app.advance_to("2030-01-07T13:00:20Z");
    let sent = graph.wait_for(1, 5).await;
    assert_eq!(sent[0]["type"], "template", "{}", sent[0]);
    assert_eq!(sent[0]["template"]["name"], "appointment_reminder");
    let body = &sent[0]["template"]["components"][0]["parameters"];
    assert_eq!(body[0]["text"], "Paciente");
    assert_eq!(
        body[1]["text"], "mar 08/01 10:00",
        "the calendar's local time"
    );
    let first = payloads(&sent[0]);
    assert_eq!(
        first.len(),
        2,
        "the approved template's two buttons, in its order"
    );
    assert!(first[0].starts_with("CONFIRM_APPT:ntf_"), "{first:?}");

    // Confirm: the booking is confirmed, and the person is told so.
    let press = template_button(&mut p, &first[0]);
    let said = p.deliver(press).await;
    assert_eq!(
        body_text(&said[0]),
        "¡Gracias! Tu turno del mar 08/01 10:00 quedó confirmado."
    );
    assert_eq!(booking_status(app, &ids[0]).await, "confirmed");
    // A second tap answers again and records nothing more.
    let again = template_button(&mut p, &first[0]);
    p.deliver(again).await;

    // The second appointment that day has its own buttons: cancel frees that slot only.
    app.advance_to("2030-01-07T14:00:20Z");
    let sent = graph.wait_for(4, 5).await;
    let second = sent
        .iter()
        .rev()
        .find(|m| m["type"] == "interactive")
        .unwrap_or_else(|| panic!("inside the 24-hour window, reply buttons: {sent:?}"));
    let cancel = button_ids(second)[1].clone();
    assert!(cancel.starts_with("CANCEL_APPT:ntf_"), "{cancel}");
    let said = p.presses(&cancel).await;
    assert!(body_text(&said[0]).starts_with("Listo, cancelamos tu turno del mar 08/01 11:00"));
    assert_eq!(booking_status(app, &ids[1]).await, "canceled");
    assert_eq!(booking_status(app, &ids[0]).await, "confirmed");
    let (status, _) = app.book(&cal, &svc, TUE_11, "+5491177778888").await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "the canceled slot is free at once"
    );

    // Someone else cannot answer for this person.
    app.advance_to("2030-01-08T13:00:20Z");
    let sent = graph.wait_for(6, 5).await;
    let third = sent
        .iter()
        .rev()
        .find(|m| m["type"] == "interactive" || m["type"] == "template")
        .unwrap()
        .clone();
    let person = if third["type"] == "template" {
        payloads(&third)[2].clone()
    } else {
        button_ids(&third)[2].clone()
    };
    assert!(person.starts_with("PERSON_APPT:ntf_"), "{person}");
    let mut stranger = Patient {
        app,
        graph: graph.clone(),
        webhook,
        wa_id: "5491100001111".into(),
        sent: 100,
    };
    let said = stranger.presses(&person).await;
    assert!(body_text(&said[0]).contains("unknown reminder"), "{said:?}");

    // A person: the conversation goes to staff.
    p.presses(&person).await;
    let (_, conversations) = app.get("/api/v1/conversations").await;
    let mine = conversations["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["contact"] == WA_ID && c["channel"] == "whatsapp")
        .unwrap()
        .clone();
    assert_eq!(mine["handoff"], true, "{mine}");
    assert_eq!(booking_status(app, &ids[2]).await, "pending");

    let (_, answered) = app
        .get("/api/v1/events?type=notification.answered&limit=100")
        .await;
    let answers: Vec<&str> = answered["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["data"]["answer"].as_str().unwrap())
        .collect();
    assert_eq!(answers, ["confirmed", "canceled", "person"]);
    let (_, r) = app
        .get(&format!(
            "/api/v1/notification-rules/{}",
            confirm_rule["id"].as_str().unwrap()
        ))
        .await;
    let report = &r["report"];
    assert_eq!(
        (
            report["sent"].as_i64(),
            report["confirmed"].as_i64(),
            report["canceled"].as_i64(),
            report["person"].as_i64()
        ),
        (Some(3), Some(1), Some(1), Some(1)),
        "{report}"
    );
    assert_eq!(graph.problems(), Vec::<String>::new());
}

async fn a_message_found_late_goes_within_its_grace_and_is_recorded_missed_after(app: &TestApp) {
    let (cal, svc) = app.clinic().await;
    let graph = GraphApi::start().await;
    let webhook = connect(
        app,
        &graph,
        json!([{"name": "recordatorio", "language": "es_AR"}]),
    )
    .await;
    let r = rule(
        app,
        json!({
            "name": "2 h antes", "when": {"before_start": "PT2H"}, "channels": ["whatsapp"],
            "whatsapp_template": {"name": "recordatorio", "language": "es_AR"}, "grace": "PT1H",
        }),
    )
    .await;
    // Due 11:00Z and 12:30Z Tuesday; found at 13:00Z (as after a night without the server).
    let (_, early) = app.book(&cal, &svc, TUE_10, "+5491122334455").await;
    let (_, late) = app
        .book(&cal, &svc, "2030-01-08T14:30:00Z", "+5491133334444")
        .await;
    app.advance_to("2030-01-08T13:00:00Z");
    graph.wait_for(1, 5).await;
    let wait = std::time::Instant::now();
    loop {
        let early_rows = notifications(app, early["id"].as_str().unwrap()).await;
        let late_rows = notifications(app, late["id"].as_str().unwrap()).await;
        let states = (
            early_rows[0]["state"].clone(),
            late_rows[0]["state"].clone(),
        );
        if states == (json!("missed"), json!("sent")) {
            break;
        }
        assert!(wait.elapsed().as_secs() < 5, "{states:?}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(graph.bodies().len(), 1, "the missed one is not sent");
    // Meta says the one sent was read: the rule's report counts it delivered and read.
    let mut status = crate::graph::fixture("whatsapp_status_read.json");
    let st = &mut status["entry"][0]["changes"][0]["value"]["statuses"][0];
    st["id"] = json!("wamid.test.0");
    st["recipient_id"] = json!("5491133334444");
    post_signed(&webhook, serde_json::to_vec(&status).unwrap()).await;
    let (_, failed) = app.get("/api/v1/events?type=notification.failed").await;
    assert_eq!(failed["data"][0]["data"]["state"], "missed");
    let (_, rule_now) = app
        .get(&format!(
            "/api/v1/notification-rules/{}",
            r["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(rule_now["report"]["missed"], 1);
    assert_eq!(rule_now["report"]["sent"], 1);
    assert_eq!(rule_now["report"]["delivered"], 1, "{rule_now}");
    assert_eq!(rule_now["report"]["read"], 1, "{rule_now}");
}

async fn quiet_hours_hold_a_message_until_they_end_or_skip_it_when_that_is_too_late(app: &TestApp) {
    let (cal, svc) = app.clinic().await;
    let graph = GraphApi::start().await;
    connect(
        app,
        &graph,
        json!([{"name": "recordatorio", "language": "es_AR"}]),
    )
    .await;
    let (status, out) = app
        .call(
            Method::PUT,
            "/api/v1/notification-settings",
            Some(json!({"quiet_hours": {"from": "21:00", "to": "09:30"}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    rule(
        app,
        json!({
            "name": "1 h antes", "when": {"before_start": "PT1H"}, "channels": ["whatsapp"],
            "whatsapp_template": {"name": "recordatorio", "language": "es_AR"}, "grace": "PT2H",
        }),
    )
    .await;
    // 09:00 local: due 08:00, quiet until 09:30, after the start: skipped.
    let (_, nine) = app
        .book(&cal, &svc, "2030-01-08T12:00:00Z", "+5491122334455")
        .await;
    // 10:00 local: due 09:00, held until 09:30 local and sent then.
    let (_, ten) = app.book(&cal, &svc, TUE_10, "+5491133334444").await;
    app.advance_to("2030-01-08T11:30:00Z");
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    app.advance_to("2030-01-08T12:00:10Z");
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    assert!(graph.bodies().is_empty(), "nothing at 08:30 or 09:00 local");
    let rows = notifications(app, ten["id"].as_str().unwrap()).await;
    assert_eq!(rows[0]["due_at"], "2030-01-08T12:30:00Z", "{rows:?}");
    let rows = notifications(app, nine["id"].as_str().unwrap()).await;
    assert_eq!(
        (rows[0]["state"].as_str(), rows[0]["reason"].as_str()),
        (Some("skipped"), Some("quiet_hours"))
    );
    app.advance_to("2030-01-08T12:30:05Z");
    let sent = graph.wait_for(1, 5).await;
    assert_eq!(sent[0]["to"], "5491133334444");
}

async fn a_typed_answer_after_two_reminders_asks_which_appointment_then_acts_on_the_one_picked(
    app: &TestApp,
) {
    let (cal, svc) = app.clinic().await;
    let mut p =
        Patient::with_templates(app, json!([{"name": "confirmacion", "language": "es_AR"}])).await;
    let graph = p.graph.clone();
    rule(
        app,
        json!({
            "name": "Confirmación", "when": {"before_start": "P1D"}, "channels": ["whatsapp"],
            "ask_confirmation": true, "grace": "PT2H",
            "whatsapp_template": {"name": "confirmacion", "language": "es_AR"},
        }),
    )
    .await;
    let phone = format!("+{WA_ID}");
    let (_, ten) = app.book(&cal, &svc, TUE_10, &phone).await;
    let (_, eleven) = app.book(&cal, &svc, TUE_11, &phone).await;
    app.advance_to("2030-01-07T14:00:20Z");
    graph.wait_for(2, 5).await;
    settle(app).await;

    // "Confirmo", typed: two appointments asked about, so which one?
    let said = p.says("Confirmo").await;
    assert_eq!(body_text(&said[0]), "¿Cuál turno?", "{said:?}");
    let options = button_ids(&said[0]);
    assert_eq!(options.len(), 2, "{said:?}");
    assert!(
        options.iter().all(|o| o.starts_with("CONFIRM_APPT:ntf_")),
        "{options:?}"
    );
    let eleven_option = said[0]["interactive"]["action"]["buttons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["reply"]["title"] == "mar 08/01 11:00")
        .unwrap()["reply"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let said = p.presses(&eleven_option).await;
    assert_eq!(
        body_text(&said[0]),
        "¡Gracias! Tu turno del mar 08/01 11:00 quedó confirmado."
    );
    assert_eq!(
        booking_status(app, eleven["id"].as_str().unwrap()).await,
        "confirmed"
    );
    assert_eq!(
        booking_status(app, ten["id"].as_str().unwrap()).await,
        "pending"
    );

    // Now the bot's last word is not a reminder: "sí" is the booking flow's again.
    let said = p.says("sí").await;
    assert!(!body_text(&said[0]).contains("confirmado"), "{said:?}");
    assert_eq!(
        booking_status(app, ten["id"].as_str().unwrap()).await,
        "pending"
    );
    assert_eq!(graph.problems(), Vec::<String>::new());
}

crate::on_both_backends!(
    a_reminders_plan_follows_its_booking_when_moved_and_canceled,
    a_rule_that_cannot_work_is_refused_when_saved_and_nothing_is_kept,
    a_confirmation_goes_as_the_approved_template_and_each_answer_acts_on_the_agenda,
    a_message_found_late_goes_within_its_grace_and_is_recorded_missed_after,
    quiet_hours_hold_a_message_until_they_end_or_skip_it_when_that_is_too_late,
    a_typed_answer_after_two_reminders_asks_which_appointment_then_acts_on_the_one_picked,
);
