//! Conversations in the console: a receptionist finds a WhatsApp conversation in the inbox,
//! takes it over, answers (the patient gets it on WhatsApp and the bot stays quiet), sees the
//! patient's next message in the part the page refreshes, hands it back; a day later only
//! an approved template can go, and the page offers the channel's. Professionals do not see
//! conversations.

use reqwest::StatusCode;
use serde_json::json;
use turnero::agenda::staff::Role;

use crate::common::TestApp;
use crate::console::{receptionist, staff_user, tenant_of, Browser, PASSWORD};
use crate::patient::{body_text, settle, Patient, WA_ID};

fn unescaped(body: &str) -> String {
    body.replace("&#x2f;", "/").replace("&amp;", "&")
}

async fn a_receptionist_takes_over_a_whatsapp_conversation_answers_and_hands_it_back(
    app: &TestApp,
) {
    app.clinic().await;
    let mut p = Patient::with_templates(
        app,
        json!([{"name": "appointment_reminder", "language": "es_AR"}]),
    )
    .await;
    let graph = p.graph.clone();
    let greeting = p.says("hola").await;
    let (_, list) = app.get("/api/v1/conversations").await;
    let id = list["data"][0]["id"].as_str().unwrap().to_string();
    receptionist(app).await;
    let mut browser = Browser::new(&app.server.url());
    browser.sign_in("recepcion@clinica.example", PASSWORD).await;

    let inbox = browser.get("/console/conversations").await;
    assert_eq!(inbox.status, StatusCode::OK);
    let text = unescaped(&inbox.body);
    assert!(text.contains(WA_ID), "{text}");
    assert!(text.contains("con el asistente"), "{text}");
    let page = browser.get(&format!("/console/conversations/{id}")).await;
    assert_eq!(page.status, StatusCode::OK);
    let text = unescaped(&page.body);
    assert!(text.contains("hola"), "{text}");
    let first_words = body_text(&greeting[0]);
    let first_line = first_words.lines().next().unwrap();
    assert!(text.contains(first_line), "the bot's answer: {text}");

    // Take over: the inbox puts it first, waiting for a person.
    let csrf = page.field("csrf");
    let action = |a: &str| format!("/console/conversations/{id}/{a}");
    let took = browser.post(&action("take"), &[("csrf", &csrf)]).await;
    assert_eq!(took.status, StatusCode::SEE_OTHER, "{}", took.body);
    let (_, conv) = app.get(&format!("/api/v1/conversations/{id}")).await;
    assert_eq!(conv["handoff"], true, "{conv}");
    assert!(browser
        .get("/console/conversations")
        .await
        .body
        .contains("espera a una persona"));

    // The answer reaches the patient on WhatsApp; their next message gets no bot reply, and
    // shows in the part of the page that refreshes itself.
    let sent_before = graph.bodies().len();
    let replied = browser
        .post(
            &action("reply"),
            &[("csrf", &csrf), ("text", "Le escribe la recepción.")],
        )
        .await;
    assert_eq!(replied.status, StatusCode::SEE_OTHER, "{}", replied.body);
    let got = graph.wait_for(sent_before + 1, 5).await;
    assert_eq!(got[sent_before]["text"]["body"], "Le escribe la recepción.");
    let quiet = p.says("gracias, espero").await;
    assert!(quiet.is_empty(), "the bot stays quiet: {quiet:?}");
    let lines = browser
        .get(&format!("/console/conversations/{id}?part=lines"))
        .await;
    assert!(
        !lines.body.contains("<html"),
        "only the part: {}",
        lines.body
    );
    assert!(lines.body.contains("gracias, espero"), "{}", lines.body);
    assert!(
        lines.body.contains("Le escribe la recepción."),
        "{}",
        lines.body
    );

    // Handed back: the bot answers again.
    let released = browser.post(&action("release"), &[("csrf", &csrf)]).await;
    assert_eq!(released.status, StatusCode::SEE_OTHER);
    let (_, conv) = app.get(&format!("/api/v1/conversations/{id}")).await;
    assert_eq!(conv["handoff"], false);
    assert!(!p.says("hola de nuevo").await.is_empty());

    // A day later the window is closed: free text is refused in Spanish, the channel's
    // template is offered and goes with its values.
    app.advance_to("2030-01-08T12:30:00Z");
    // A new working day: the session of the day before has ended.
    browser.sign_in("recepcion@clinica.example", PASSWORD).await;
    let csrf = browser.csrf().await;
    let late = unescaped(
        &browser
            .get(&format!("/console/conversations/{id}"))
            .await
            .body,
    );
    assert!(late.contains("más de 24 horas"), "{late}");
    assert!(
        late.contains("value=\"appointment_reminder|es_AR\""),
        "{late}"
    );
    let refused = browser
        .post(
            &action("reply"),
            &[("csrf", &csrf), ("text", "¿Sigue ahí?")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert!(refused.body.contains("más de 24 horas"), "{}", refused.body);
    let before = graph.bodies().len();
    let templated = browser
        .post(
            &action("reply"),
            &[
                ("csrf", &csrf),
                ("template", "appointment_reminder|es_AR"),
                ("parameters", "María\nmar 08/01 09:00"),
            ],
        )
        .await;
    assert_eq!(
        templated.status,
        StatusCode::SEE_OTHER,
        "{}",
        templated.body
    );
    let got = graph.wait_for(before + 1, 5).await;
    assert_eq!(got[before]["type"], "template");
    assert_eq!(
        got[before]["template"]["components"][0]["parameters"][1]["text"],
        "mar 08/01 09:00"
    );
    settle(app).await;
    assert_eq!(graph.problems(), Vec::<String>::new());
    // Without the form's token nothing is sent.
    let forged = browser.post(&action("reply"), &[("text", "x")]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
}

async fn professionals_do_not_see_conversations(app: &TestApp) {
    let (cal, _) = app.clinic().await;
    let mut p = Patient::new(app).await;
    p.says("hola").await;
    let (_, list) = app.get("/api/v1/conversations").await;
    let id = list["data"][0]["id"].as_str().unwrap().to_string();
    let tenant = tenant_of(app, &app.key).await;
    staff_user(
        app,
        &tenant,
        "ana@clinica.example",
        Role::Professional,
        &[&cal],
    )
    .await;
    let mut browser = Browser::new(&app.server.url());
    browser.sign_in("ana@clinica.example", PASSWORD).await;
    let agenda = browser.get("/console/agenda").await;
    assert!(!agenda.body.contains("/console/conversations"), "no link");
    assert_eq!(
        browser.get("/console/conversations").await.status,
        StatusCode::NOT_FOUND
    );
    let page = browser.get(&format!("/console/conversations/{id}")).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(!page.body.contains("hola"));
    let csrf = agenda.field("csrf");
    let took = browser
        .post(
            &format!("/console/conversations/{id}/take"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(took.status, StatusCode::NOT_FOUND);
    let (_, conv) = app.get(&format!("/api/v1/conversations/{id}")).await;
    assert_eq!(conv["handoff"], false);
}

crate::on_both_backends!(
    a_receptionist_takes_over_a_whatsapp_conversation_answers_and_hands_it_back,
    professionals_do_not_see_conversations,
);
