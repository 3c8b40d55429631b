//! The channels' page: WhatsApp connected (its number's id, never its token) with the
//! messages of the last day, the others not connected; a calendar whose availability API
//! failed shows the fallback it recorded and why. Admins only.

use reqwest::{Method, StatusCode};
use serde_json::json;
use turnero::agenda::staff::Role;

use crate::common::TestApp;
use crate::console::{receptionist, staff_user, tenant_of, Browser, PASSWORD};
use crate::graph::ACCESS_TOKEN;
use crate::patient::Patient;
use crate::receiver::Receiver;

async fn an_admin_sees_each_channels_state_and_the_availability_apis_fallbacks(app: &TestApp) {
    let (cal, svc) = app.clinic().await;
    let mut p = Patient::new(app).await;
    p.says("hola").await;
    // An external agenda that answers 500: the slots fall back to turnero's own, recorded.
    let agenda = Receiver::start().await;
    agenda.answer(500);
    let (status, out) = app
        .call(
            Method::PUT,
            &format!("/api/v1/calendars/{cal}/availability-api"),
            Some(json!({"url": agenda.url, "external_calendar_id": 5})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let (status, page) = app
        .get(&format!(
            "/api/v1/calendars/{cal}/slots?service_id={svc}&start=2030-01-08T00:00:00Z&end=2030-01-09T00:00:00Z"
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["availability"], "fallback", "{page}");

    let tenant = tenant_of(app, &app.key).await;
    staff_user(app, &tenant, "admin@clinica.example", Role::Admin, &[]).await;
    let mut browser = Browser::new(&app.server.url());
    browser.sign_in("admin@clinica.example", PASSWORD).await;
    let channels = browser.get("/console/channels").await;
    assert_eq!(channels.status, StatusCode::OK, "{}", channels.body);
    let text = channels.body.replace("&#x2f;", "/");
    let row = |name: &str| -> String {
        let at = text
            .find(&format!("<th scope=\"row\">{name}</th>"))
            .unwrap();
        text[at..at + text[at..].find("</tr>").unwrap()].to_string()
    };
    let whatsapp = row("whatsapp");
    assert!(
        whatsapp.contains("conectado · 106540352242922"),
        "{whatsapp}"
    );
    let sent: Vec<&str> = whatsapp.split("<td>").skip(1).collect();
    assert!(
        sent[1].starts_with(|c: char| c != '0'),
        "messages sent today: {whatsapp}"
    );
    assert!(row("telegram").contains("sin conectar"));
    assert!(!text.contains(ACCESS_TOKEN), "no secret on the page");
    assert!(text.contains(&agenda.url), "{text}");
    assert!(text.contains("http_status"), "the fallback and why: {text}");
}

async fn only_admins_see_the_channels(app: &TestApp) {
    receptionist(app).await;
    let mut browser = Browser::new(&app.server.url());
    browser.sign_in("recepcion@clinica.example", PASSWORD).await;
    assert_eq!(
        browser.get("/console/channels").await.status,
        StatusCode::NOT_FOUND
    );
}

crate::on_both_backends!(
    an_admin_sees_each_channels_state_and_the_availability_apis_fallbacks,
    only_admins_see_the_channels,
);
