//! Integrations in the console: a failing webhook's health as Botmaker's dashboard shows it
//! (the histogram drawn as SVG, the times, the error log with the receiver's answer), and its
//! buttons (test, off and on, resend, recover, a new secret shown once), each doing what the
//! API's own call does. Admins only.

use reqwest::StatusCode;
use serde_json::json;
use turnero::agenda::staff::Role;

use crate::common::TestApp;
use crate::console::{receptionist, staff_user, tenant_of, Browser, PASSWORD};
use crate::receiver::Receiver;
use crate::webhooks::{stats, subscribe};

fn unescaped(body: &str) -> String {
    body.replace("&#x2f;", "/").replace("&amp;", "&")
}

/// An admin signed in, and a receiver that answers 500 with a body, after three customers.
async fn failing_hook(app: &TestApp) -> (Browser, Receiver, String) {
    let tenant = tenant_of(app, &app.key).await;
    staff_user(app, &tenant, "admin@clinica.example", Role::Admin, &[]).await;
    let rx = Receiver::start().await;
    rx.answer(500);
    rx.respond(|_| "database down".to_string());
    let hook = subscribe(app, &rx.url, json!({"event_types": ["customer.created"]})).await;
    let id = hook["id"].as_str().unwrap().to_string();
    for i in 0..3 {
        app.post(
            "/api/v1/customers",
            json!({"name": format!("C{i}"), "phone": format!("+549115555040{i}")}),
        )
        .await;
    }
    rx.wait_for(3, 10).await;
    for _ in 0..100 {
        if stats(app, &id).await["totals"]["failed"] == 3 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    }
    let mut browser = Browser::new(&app.server.url());
    browser.sign_in("admin@clinica.example", PASSWORD).await;
    (browser, rx, id)
}

async fn an_admin_reads_a_failing_webhooks_histogram_and_error_log(app: &TestApp) {
    let (mut browser, rx, id) = failing_hook(app).await;
    let list = browser.get("/console/webhooks").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(unescaped(&list.body).contains(&rx.url), "{}", list.body);
    assert!(unescaped(&list.body).contains(&format!("/console/webhooks/{id}")));

    let page = browser.get(&format!("/console/webhooks/{id}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let text = unescaped(&page.body);
    // The chart: an SVG with a name for screen readers, three red error parts in its bars.
    let svg = &text[text.find("<svg").expect("a chart")..text.find("</svg>").unwrap()];
    assert!(svg.contains("role=\"img\""), "{svg}");
    assert!(
        svg.contains("0 correctas, 0 lentas, 3 con error, 0 rechazadas"),
        "{svg}"
    );
    let red: u64 = svg
        .split("fill=\"#c62828\"><title>")
        .skip(1)
        .map(|s| {
            s[s.find(": ").unwrap() + 2..s.find('<').unwrap()]
                .parse::<u64>()
                .unwrap()
        })
        .sum();
    assert_eq!(red, 3, "{svg}");
    assert!(!svg.contains("#2e7d32"), "nothing succeeded: {svg}");
    // The legend and the times as text; the error log with the receiver's answer.
    assert!(text.contains("con error: 3"), "{text}");
    assert!(text.contains("Más rápida"), "{text}");
    assert!(text.contains("HTTP 500"), "{text}");
    assert!(text.contains("database down"), "{text}");
    assert_eq!(
        text.matches("name=\"attempt\"").count(),
        3,
        "one resend per failure"
    );
}

async fn the_webhook_buttons_do_what_the_api_does(app: &TestApp) {
    let (mut browser, rx, id) = failing_hook(app).await;
    let page = browser.get(&format!("/console/webhooks/{id}")).await;
    let csrf = page.field("csrf");
    let post = |action: &str| format!("/console/webhooks/{id}/{action}");
    rx.answer(200);

    // Test: a webhook.test reaches the receiver, and the page says so.
    let tested = browser.post(&post("test"), &[("csrf", &csrf)]).await;
    assert_eq!(tested.status, StatusCode::SEE_OTHER, "{}", tested.body);
    let got = rx.wait_for(4, 10).await;
    assert_eq!(got[3].json()["type"], "webhook.test");
    let after = browser.get(&unescaped(tested.location())).await;
    assert!(after.body.contains("Prueba enviada."), "{}", after.body);

    // Resend the first failure's event: the receiver gets that customer again.
    let attempt = {
        let b = &after.body;
        let at = b.find("name=\"attempt\" value=\"").unwrap() + 22;
        b[at..at + b[at..].find('"').unwrap()].to_string()
    };
    let resent = browser
        .post(&post("resend"), &[("csrf", &csrf), ("attempt", &attempt)])
        .await;
    assert_eq!(resent.status, StatusCode::SEE_OTHER, "{}", resent.body);
    let got = rx.wait_for(5, 10).await;
    assert_eq!(got[4].json()["type"], "customer.created");

    // Off and on again, as the API reads it.
    browser.post(&post("off"), &[("csrf", &csrf)]).await;
    let (_, read) = app.get(&format!("/api/v1/webhooks/{id}")).await;
    assert_eq!(read["enabled"], false, "{read}");
    browser.post(&post("on"), &[("csrf", &csrf)]).await;
    let (_, read) = app.get(&format!("/api/v1/webhooks/{id}")).await;
    assert_eq!(read["enabled"], true, "{read}");

    // Recover: what failed in the last day goes out again.
    let recovered = browser
        .post(&post("recover"), &[("csrf", &csrf), ("hours", "24")])
        .await;
    assert_eq!(
        recovered.status,
        StatusCode::SEE_OTHER,
        "{}",
        recovered.body
    );

    // A new secret, shown once; the old one keeps signing for a while.
    let rotated = browser.post(&post("rotate"), &[("csrf", &csrf)]).await;
    assert_eq!(rotated.status, StatusCode::OK);
    assert!(rotated.body.contains("value=\"whsec_"), "{}", rotated.body);
    let (_, read) = app.get(&format!("/api/v1/webhooks/{id}")).await;
    assert!(read["previous_secret_expires_at"].is_string(), "{read}");
    let again = browser.get(&format!("/console/webhooks/{id}")).await;
    assert!(!again.body.contains("whsec_"), "shown once only");

    // Without the form's token nothing happens.
    let forged = browser.post(&post("off"), &[]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let (_, read) = app.get(&format!("/api/v1/webhooks/{id}")).await;
    assert_eq!(read["enabled"], true);
}

async fn only_admins_see_the_integrations(app: &TestApp) {
    let rx = Receiver::start().await;
    let hook = subscribe(app, &rx.url, json!({"event_types": ["customer.created"]})).await;
    let id = hook["id"].as_str().unwrap();
    receptionist(app).await;
    let mut browser = Browser::new(&app.server.url());
    browser.sign_in("recepcion@clinica.example", PASSWORD).await;
    let agenda = browser.get("/console/agenda").await;
    assert!(!agenda.body.contains("/console/webhooks"), "no link either");
    assert_eq!(
        browser.get("/console/webhooks").await.status,
        StatusCode::NOT_FOUND
    );
    let page = browser.get(&format!("/console/webhooks/{id}")).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    let csrf = agenda.field("csrf");
    let off = browser
        .post(&format!("/console/webhooks/{id}/off"), &[("csrf", &csrf)])
        .await;
    assert_eq!(off.status, StatusCode::NOT_FOUND);
    let (_, read) = app.get(&format!("/api/v1/webhooks/{id}")).await;
    assert_eq!(read["enabled"], true);
}

crate::on_both_backends!(
    an_admin_reads_a_failing_webhooks_histogram_and_error_log,
    the_webhook_buttons_do_what_the_api_does,
    only_admins_see_the_integrations,
);
