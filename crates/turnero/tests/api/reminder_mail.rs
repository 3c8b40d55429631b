//! Reminders by mail, over a real SMTP conversation: the fallback from WhatsApp, the `.ics`
//! read by an independent iCalendar parser, the signed one-click link, a clock change, and
//! three processes on one PostgreSQL sending each message once.

use std::collections::BTreeSet;

use mail_parser::MimeHeaders;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{Backend, TestApp};
use crate::reminders::first_row;
use crate::smtp::SmtpServer;
use sqlx::Row;

pub(crate) async fn connect_mail(app: &TestApp, smtp: &SmtpServer) {
    let (status, out) = app
        .call(
            Method::PUT,
            "/api/v1/channels/email",
            Some(json!({"smtp_url": smtp.url(), "from": "Clínica Test <turnos@clinica.test>"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let shown = out["smtp_url"].as_str().unwrap();
    assert!(
        !shown.contains("s3cret"),
        "the password is write-only: {shown}"
    );
}

pub(crate) async fn book_with_email(
    app: &TestApp,
    cal: &str,
    svc: &str,
    start: &str,
    n: usize,
) -> String {
    let (status, b) = app
        .post(
            "/api/v1/bookings",
            json!({
                "calendar_id": cal, "service_id": svc, "start": start,
                "customer": {"name": format!("Ana Gómez {n}"), "phone": format!("+54911{:08}", 40_000_000 + n),
                    "email": format!("ana{n}@example.com")},
            }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{b}");
    b["id"].as_str().unwrap().to_string()
}

fn parse(raw: &[u8]) -> mail_parser::Message<'_> {
    mail_parser::MessageParser::default()
        .parse(raw)
        .expect("a mail a real parser reads")
}

/// The VEVENT's properties, read by the `ical` crate.
fn invitation(mail: &mail_parser::Message<'_>) -> Vec<(String, String)> {
    let ics = mail
        .attachments()
        .find(|a| a.attachment_name() == Some("invite.ics"))
        .expect("an invite.ics attachment");
    let reader = std::io::BufReader::new(ics.contents());
    let cal = ical::IcalParser::new(reader)
        .next()
        .expect("one calendar")
        .expect("a valid calendar");
    cal.events[0]
        .properties
        .iter()
        .map(|p| (p.name.clone(), p.value.clone().unwrap_or_default()))
        .collect()
}

async fn a_patient_without_whatsapp_gets_the_confirmation_by_mail_and_its_link_confirms(
    app: &TestApp,
) {
    let (cal, svc) = app.clinic().await;
    let smtp = SmtpServer::start().await;
    connect_mail(app, &smtp).await;
    let (status, out) = app
        .post(
            "/api/v1/notification-rules",
            json!({"name": "Confirmación", "when": {"before_start": "P1D"},
                   "channels": ["whatsapp", "email"], "ask_confirmation": true}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{out}");
    let booking = book_with_email(app, &cal, &svc, "2030-01-08T13:00:00Z", 1).await;

    app.advance_to("2030-01-07T13:00:05Z");
    let mails = smtp.wait_for(1, 5).await;
    let mail = parse(&mails[0]);
    assert_eq!(mail.subject(), Some("Confirmá tu turno: mar 08/01 10:00"));
    assert_eq!(
        mail.to().unwrap().first().unwrap().address(),
        Some("ana1@example.com")
    );
    let text = mail.body_text(0).unwrap().to_string();
    assert!(
        text.contains("Ana Gómez 1") || text.contains("Ana"),
        "{text}"
    );
    let ics = invitation(&mail);
    let prop = |name: &str| {
        ics.iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    assert_eq!(prop("DTSTART"), "20300108T130000Z");
    assert_eq!(prop("DTEND"), "20300108T133000Z");
    assert_eq!(prop("UID"), format!("{booking}@turnero"));

    // The server hears the mail a moment before the sender records it.
    let row = first_row(app, &booking, |r| r["state"] == "sent").await;
    assert_eq!(row["channel"], "email", "{row}");

    // The link: opening it changes nothing; pressing Confirm does.
    let link = text
        .split_whitespace()
        .find(|w| w.contains("/notices/") && w.ends_with("answer=confirm"))
        .unwrap_or_else(|| panic!("a confirm link in {text}"))
        .to_string();
    let client = reqwest::Client::new();
    let page = client.get(&link).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("Confirmar"));
    let (_, b) = app.get(&format!("/api/v1/bookings/{booking}")).await;
    assert_eq!(b["status"], "pending");
    let target = link.split('?').next().unwrap();
    let done = client
        .post(target)
        .form(&[("answer", "confirm")])
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), StatusCode::OK);
    assert!(done.text().await.unwrap().contains("confirmado"));
    let (_, b) = app.get(&format!("/api/v1/bookings/{booking}")).await;
    assert_eq!(b["status"], "confirmed");

    // A link with a signature that does not match opens nothing.
    let last = target.chars().last().unwrap();
    let other = if last == '0' { '1' } else { '0' };
    let forged = format!("{}{other}", &target[..target.len() - 1]);
    let refused = client
        .post(&forged)
        .form(&[("answer", "cancel")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::NOT_FOUND);
    let (_, answered) = app.get("/api/v1/events?type=notification.answered").await;
    assert_eq!(answered["data"].as_array().unwrap().len(), 1);
}

async fn a_day_before_across_a_clock_change_is_24_real_hours_and_the_text_shows_local_time(
    app: &TestApp,
) {
    let week: Vec<Value> = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        .iter()
        .map(|d| json!({"weekday": d, "start": "09:00", "end": "13:00"}))
        .collect();
    let (cal, svc) = app
        .clinic_with(json!({"timezone": "America/New_York", "weekly_hours": week}))
        .await;
    let smtp = SmtpServer::start().await;
    connect_mail(app, &smtp).await;
    app.post(
        "/api/v1/notification-rules",
        json!({"name": "24 h", "when": {"before_start": "P1D"}, "channels": ["email"],
               "messages": {"es": "Te esperamos el {{ date }} a las {{ time }}."}}),
    )
    .await;
    app.advance_to("2030-03-08T12:00:00Z");
    // Sunday 10 March 2030, 10:00 EDT: New York moved its clocks forward that night.
    let booking = book_with_email(app, &cal, &svc, "2030-03-10T14:00:00Z", 2).await;
    let (_, rows) = app
        .get(&format!("/api/v1/bookings/{booking}/notifications"))
        .await;
    assert_eq!(
        rows[0]["due_at"], "2030-03-09T14:00:00Z",
        "24 real hours before, 09:00 EST: {rows}"
    );
    app.advance_to("2030-03-09T14:00:01Z");
    let mails = smtp.wait_for(1, 5).await;
    let mail = parse(&mails[0]);
    assert_eq!(
        mail.body_text(0).unwrap().trim(),
        "Te esperamos el dom 10/03 a las 10:00."
    );
}

async fn three_processes_on_one_database_send_each_reminder_of_a_run_once(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (cal, svc) = app.clinic_with(json!({"capacity": 3})).await;
    let smtp = SmtpServer::start().await;
    connect_mail(&app, &smtp).await;
    let (_, r) = app
        .post(
            "/api/v1/notification-rules",
            json!({"name": "Enviar agora", "when": {"before_start": "P2D"}, "channels": ["email"]}),
        )
        .await;
    let mut n = 0;
    for slot in 0..8 {
        let start = jiff::Timestamp::from_second(1_894_104_000 + slot * 1800).unwrap();
        for _ in 0..3 {
            n += 1;
            book_with_email(&app, &cal, &svc, &start.to_string(), n).await;
        }
    }
    let second = app.second_process().await;
    let third = app.second_process().await;
    let (status, run) = app
        .post(
            &format!(
                "/api/v1/notification-rules/{}/run",
                r["id"].as_str().unwrap()
            ),
            json!({"date": "2030-01-08"}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{run}");
    smtp.wait_for(24, 15).await;
    // Give the three a moment to send anything twice, then count.
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    let mails = smtp.messages();
    let recipients: BTreeSet<String> = mails
        .iter()
        .map(|m| {
            parse(m)
                .to()
                .unwrap()
                .first()
                .unwrap()
                .address()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!((mails.len(), recipients.len()), (24, 24));
    let (_, report) = app
        .get(&format!(
            "/api/v1/notification-runs/{}",
            run["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(report["report"]["sent"], 24, "{report}");
    second.stop().await;
    third.stop().await;
    app.finish().await;
}

async fn a_mailbox_the_server_refuses_for_good_ends_failed_with_the_servers_reason(app: &TestApp) {
    let (cal, svc) = app.clinic().await;
    let smtp = SmtpServer::start().await;
    smtp.refuse_recipients(true);
    connect_mail(app, &smtp).await;
    let (_, r) = app
        .post(
            "/api/v1/notification-rules",
            json!({"name": "r", "when": {"on": "booking.created"}, "channels": ["email", "telegram"]}),
        )
        .await;
    let booking = book_with_email(app, &cal, &svc, "2030-01-08T13:00:00Z", 3).await;
    let started = std::time::Instant::now();
    let rows = loop {
        let (_, rows) = app
            .get(&format!("/api/v1/bookings/{booking}/notifications"))
            .await;
        if rows[0]["state"] == "failed" {
            break rows;
        }
        assert!(started.elapsed().as_secs() < 5, "{rows}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    let reason = rows[0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("550"),
        "the server's refusal, after Telegram had no chat: {reason}"
    );
    let (_, failed) = app.get("/api/v1/events?type=notification.failed").await;
    assert_eq!(failed["data"].as_array().unwrap().len(), 1);
    let (_, rule_now) = app
        .get(&format!(
            "/api/v1/notification-rules/{}",
            r["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(
        rule_now["report"]["failed"].as_object().unwrap().len(),
        1,
        "{rule_now}"
    );
}

/// Counts by recipient of the mails received.
fn by_recipient(mails: &[Vec<u8>]) -> std::collections::BTreeMap<String, usize> {
    let mut seen = std::collections::BTreeMap::new();
    for m in mails {
        let to = parse(m)
            .to()
            .unwrap()
            .first()
            .unwrap()
            .address()
            .unwrap()
            .to_string();
        *seen.entry(to).or_insert(0) += 1;
    }
    seen
}

async fn a_run_survives_a_kill_9_and_a_restart_and_every_patient_gets_their_mail(backend: Backend) {
    use crate::processes::{serve_with, tenant_create};
    const PATIENTS: usize = 120;
    let (url, _schema, _dir) = crate::common::fresh_database(backend).await;
    let key = tenant_create(&url)["api_key"].as_str().unwrap().to_string();
    let a = serve_with(&url, &[]);
    let client = reqwest::Client::new();
    let post = |base: String, path: &str, body: Value| {
        let req = client
            .post(format!("{base}/api/v1{path}"))
            .bearer_auth(&key)
            .json(&body);
        async move {
            let resp = req.send().await.unwrap();
            let status = resp.status();
            let v: Value = resp.json().await.unwrap_or(Value::Null);
            assert!(status.is_success(), "{status} {v}");
            v
        }
    };
    let week: Vec<Value> = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        .iter()
        .map(|d| json!({"weekday": d, "start": "00:00", "end": "24:00"}))
        .collect();
    let cal = post(
        a.1.clone(),
        "/calendars",
        json!({"name": "Dra. Ruiz",
        "timezone": "America/Argentina/Buenos_Aires", "weekly_hours": week, "capacity": 40}),
    )
    .await;
    let cal = cal["id"].as_str().unwrap().to_string();
    let svc = post(
        a.1.clone(),
        "/services",
        json!({"name": "Consulta", "duration_minutes": 30,
        "calendar_ids": [cal]}),
    )
    .await;
    let svc = svc["id"].as_str().unwrap().to_string();
    // Two days ahead, 10:00, 10:30 and 11:00 in Buenos Aires (real clock: real processes).
    let tz = jiff::tz::TimeZone::get("America/Argentina/Buenos_Aires").unwrap();
    let day = jiff::Timestamp::now()
        .to_zoned(tz.clone())
        .date()
        .checked_add(jiff::Span::new().days(2))
        .unwrap();
    let ten = day
        .at(10, 0, 0, 0)
        .to_zoned(tz)
        .unwrap()
        .timestamp()
        .as_second();
    for chunk in (0..PATIENTS).collect::<Vec<_>>().chunks(20) {
        futures::future::join_all(chunk.iter().map(|i| {
            let start = jiff::Timestamp::from_second(ten + (*i as i64 % 3) * 1800).unwrap();
            post(
                a.1.clone(),
                "/bookings",
                json!({"calendar_id": cal, "service_id": svc,
                "start": start.to_string(), "customer": {"name": format!("Paciente {i}"),
                "phone": format!("+54911{:08}", 60_000_000 + i), "email": format!("p{i}@example.com")}}),
            )
        }))
        .await;
    }
    let smtp = SmtpServer::start().await;
    smtp.delay(15);
    let req = client
        .put(format!("{}/api/v1/channels/email", a.1))
        .bearer_auth(&key)
        .json(&json!({"smtp_url": smtp.url(), "from": "turnos@clinica.test"}));
    assert!(req.send().await.unwrap().status().is_success());
    let rule = post(
        a.1.clone(),
        "/notification-rules",
        json!({"name": "Enviar agora",
        "when": {"before_start": "PT1H"}, "channels": ["email"]}),
    )
    .await;
    let rule = rule["id"].as_str().unwrap().to_string();
    post(
        a.1.clone(),
        &format!("/notification-rules/{rule}/run"),
        json!({"date": day.to_string()}),
    )
    .await;
    smtp.wait_for(30, 20).await;
    drop(a); // SIGKILL, mid-run
    let sent_before = smtp.messages().len();
    assert!(
        sent_before < PATIENTS,
        "killed before the end ({sent_before})"
    );
    let b = serve_with(&url, &[]);
    // What the dead process had claimed comes back when its send lease ends (30 s).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while by_recipient(&smtp.messages()).len() < PATIENTS {
        assert!(
            std::time::Instant::now() < deadline,
            "{} of {PATIENTS} reached",
            by_recipient(&smtp.messages()).len()
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let counts = by_recipient(&smtp.messages());
    let twice: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    // A mail the server accepted in the instant before the kill, not yet recorded, goes
    // again: at most the one being accepted (the server takes one at a time).
    assert!(twice.len() <= 1, "sent twice: {twice:?}");
    sqlx::any::install_default_drivers();
    let db = sqlx::AnyPool::connect(&url).await.unwrap();
    let rows: Vec<(String, i64)> =
        sqlx::query("SELECT state, COUNT(*) FROM notification_plans GROUP BY state")
            .fetch_all(&db)
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
    assert_eq!(
        rows,
        [("sent".to_string(), PATIENTS as i64)],
        "each queued once and sent"
    );
    let outbox: i64 = sqlx::query("SELECT COUNT(*) FROM chat_outbox")
        .fetch_one(&db)
        .await
        .unwrap()
        .get(0);
    assert_eq!(outbox, PATIENTS as i64, "one outbox row per message");
    drop(b);
}

crate::on_both_backends!(
    a_patient_without_whatsapp_gets_the_confirmation_by_mail_and_its_link_confirms,
    a_mailbox_the_server_refuses_for_good_ends_failed_with_the_servers_reason,
    a_day_before_across_a_clock_change_is_24_real_hours_and_the_text_shows_local_time,
);

crate::with_each_backend!(
    three_processes_on_one_database_send_each_reminder_of_a_run_once,
    a_run_survives_a_kill_9_and_a_restart_and_every_patient_gets_their_mail,
);
