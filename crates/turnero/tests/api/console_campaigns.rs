//! Campaigns in the console: a reminder rule with its outcome chart; "send now for a day"
//! sends a real mail to the patient with an address and records the one without as failed
//! (no email), and the run's chart says both; a day already past is refused in Spanish.
//! Professionals do not see campaigns.

use reqwest::StatusCode;
use serde_json::json;
use turnero::agenda::staff::Role;

use crate::common::TestApp;
use crate::console::{receptionist, staff_user, tenant_of, Browser, PASSWORD};
use crate::reminder_mail::{book_with_email, connect_mail};
use crate::smtp::SmtpServer;

/// Each bar of the outcome chart as `(label, count)`.
fn outcomes(body: &str) -> Vec<(String, u64)> {
    let svg = &body[body
        .find("<svg class=\"chart outcomes\"")
        .expect("the chart")..];
    let svg = &svg[..svg.find("</svg>").unwrap()];
    let texts: Vec<String> = svg
        .split("<text ")
        .skip(1)
        .map(|t| t[t.find('>').unwrap() + 1..t.find("</text>").unwrap()].to_string())
        .collect();
    texts
        .chunks(2)
        .map(|pair| (pair[0].clone(), pair[1].parse().unwrap()))
        .collect()
}

async fn send_now_for_a_day_reminds_that_days_patients_and_the_chart_says_how_it_went(
    app: &TestApp,
) {
    let (cal, svc) = app.clinic().await;
    let smtp = SmtpServer::start().await;
    connect_mail(app, &smtp).await;
    let (status, rule) = app
        .post(
            "/api/v1/notification-rules",
            json!({"name": "Recordatorio", "when": {"before_start": "P1D"}, "channels": ["email"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{rule}");
    let rule = rule["id"].as_str().unwrap();
    book_with_email(app, &cal, &svc, "2030-01-08T13:00:00Z", 1).await;
    app.book(&cal, &svc, "2030-01-08T14:00:00Z", "+5491155667788")
        .await;
    receptionist(app).await;
    let mut browser = Browser::new(&app.server.url());
    browser.sign_in("recepcion@clinica.example", PASSWORD).await;
    let page = browser.get("/console/campaigns").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Recordatorio"), "{}", page.body);
    assert!(
        page.body.contains("value=\"2030-01-07\""),
        "today in the clinic's zone"
    );
    let csrf = page.field("csrf");

    let sent = browser
        .post(
            &format!("/console/campaigns/{rule}/run"),
            &[("csrf", &csrf), ("date", "2030-01-08")],
        )
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    let run_page = sent.location().replace("&#x2f;", "/");
    assert!(
        run_page.starts_with("/console/campaigns/runs/nrn_"),
        "{run_page}"
    );
    let mails = smtp.wait_for(1, 10).await;
    assert_eq!(mails.len(), 1);
    // The run's chart: one sent, one failed for want of an address.
    let mut bars = Vec::new();
    for _ in 0..100 {
        bars = outcomes(&browser.get(&run_page).await.body);
        let failed = bars.iter().find(|(l, _)| l.starts_with("fallaron"));
        let done = bars.iter().any(|(l, n)| l == "enviados" && *n == 1);
        if done && failed.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(bars.contains(&("enviados".into(), 1)), "{bars:?}");
    assert!(bars.contains(&("fallaron: no_email".into(), 1)), "{bars:?}");
    // The rule's page lists the run.
    let page = browser.get("/console/campaigns").await;
    assert!(page.body.contains("2030-01-08"), "{}", page.body);

    // Yesterday: nobody left to remind.
    let past = browser
        .post(
            &format!("/console/campaigns/{rule}/run"),
            &[("csrf", &csrf), ("date", "2030-01-06")],
        )
        .await;
    assert_eq!(past.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(past.body.contains("ya pasó"), "{}", past.body);
    assert_eq!(app.count("SELECT COUNT(*) FROM notification_runs").await, 1);
    let forged = browser
        .post(
            &format!("/console/campaigns/{rule}/run"),
            &[("date", "2030-01-08")],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
}

async fn an_admin_makes_a_rule_from_the_form_as_the_api_would_and_stops_it(app: &TestApp) {
    let tenant = tenant_of(app, &app.key).await;
    staff_user(app, &tenant, "admin@clinica.example", Role::Admin, &[]).await;
    receptionist(app).await;
    // Reception sees the campaigns but does not make rules.
    let mut reception = Browser::new(&app.server.url());
    reception
        .sign_in("recepcion@clinica.example", PASSWORD)
        .await;
    let seen = reception.get("/console/campaigns").await;
    assert!(!seen.body.contains("rule-form"));
    let tried = reception
        .post(
            "/console/campaigns",
            &[
                ("csrf", &seen.field("csrf")),
                ("name", "x"),
                ("channel", "whatsapp"),
            ],
        )
        .await;
    assert_eq!(tried.status, StatusCode::NOT_FOUND);
    let mut browser = Browser::new(&app.server.url());
    browser.sign_in("admin@clinica.example", PASSWORD).await;
    let csrf = browser.get("/console/campaigns").await.field("csrf");
    let form = |channels: &[&'static str]| {
        let mut f = vec![
            ("csrf", csrf.clone()),
            ("name", "Confirmación 48 h".to_string()),
            ("when", "before_start".to_string()),
            ("amount", "2".to_string()),
            ("unit", "days".to_string()),
            ("event", "booking.created".to_string()),
            ("ask", "on".to_string()),
            ("template", String::new()),
            ("template_language", String::new()),
        ];
        for ch in channels {
            f.push(("channel", ch.to_string()));
        }
        f
    };
    let none = form(&[]);
    let pairs: Vec<(&str, &str)> = none.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let refused = browser.post("/console/campaigns", &pairs).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.contains("al menos un canal"),
        "{}",
        refused.body
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM notification_rules").await,
        0
    );

    let both = form(&["whatsapp", "email"]);
    let pairs: Vec<(&str, &str)> = both.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let made = browser.post("/console/campaigns", &pairs).await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.body);
    let (_, rules) = app.get("/api/v1/notification-rules").await;
    let rule = &rules
        .as_array()
        .unwrap_or_else(|| rules["data"].as_array().unwrap())[0];
    assert_eq!(rule["name"], "Confirmación 48 h", "{rule}");
    assert_eq!(rule["when"]["before_start"], "P2D", "{rule}");
    assert_eq!(rule["channels"], json!(["whatsapp", "email"]));
    assert_eq!(rule["ask_confirmation"], true);
    let page = browser.get("/console/campaigns").await;
    assert!(page.body.contains("Confirmación 48 h"));

    let id = rule["id"].as_str().unwrap();
    let stopped = browser
        .post(
            &format!("/console/campaigns/{id}/delete"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(stopped.status, StatusCode::SEE_OTHER);
    let (status, _) = app.get(&format!("/api/v1/notification-rules/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn professionals_do_not_see_campaigns(app: &TestApp) {
    let (cal, _) = app.clinic().await;
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
    assert_eq!(
        browser.get("/console/campaigns").await.status,
        StatusCode::NOT_FOUND
    );
}

crate::on_both_backends!(
    send_now_for_a_day_reminds_that_days_patients_and_the_chart_says_how_it_went,
    an_admin_makes_a_rule_from_the_form_as_the_api_would_and_stops_it,
    professionals_do_not_see_campaigns,
);
