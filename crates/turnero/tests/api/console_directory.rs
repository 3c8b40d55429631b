//! Looking things up in the console: the services with what they last and where; a customer
//! found by any spelling of their phone or by part of their name, with their bookings linked.
//! Professionals do not see the clinic's customers.

use reqwest::StatusCode;
use serde_json::json;
use turnero::agenda::staff::Role;

use crate::common::TestApp;
use crate::console::{receptionist, staff_user, tenant_of, Browser, PASSWORD};

async fn a_receptionist_finds_a_patient_by_phone_or_name_with_their_bookings(app: &TestApp) {
    let (cal, svc) = app.clinic().await;
    let mut ids = Vec::new();
    for start in ["2030-01-08T13:00:00Z", "2030-01-09T14:00:00Z"] {
        let (status, b) = app
            .post(
                "/api/v1/bookings",
                json!({"calendar_id": cal, "service_id": svc, "start": start,
                       "customer": {"name": "Lucía Gómez", "phone": "+5491155667788"}}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{b}");
        ids.push(b["id"].as_str().unwrap().to_string());
    }
    app.post(
        "/api/v1/customers",
        json!({"name": "Pedro Díaz", "phone": "+5491144443333"}),
    )
    .await;
    receptionist(app).await;
    let mut browser = Browser::new(&app.server.url());
    browser.sign_in("recepcion@clinica.example", PASSWORD).await;

    let services = browser.get("/console/services").await;
    assert_eq!(services.status, StatusCode::OK);
    for shown in ["Consulta", "30 min", "Dra. Ana Pérez"] {
        assert!(services.body.contains(shown), "{shown}: {}", services.body);
    }

    let search = |q: &str| format!("/console/customers?q={}", urlencoding(q));
    // A local spelling of her mobile: the region fills in the rest.
    let by_phone = browser.get(&search("011 15-5566-7788")).await;
    assert_eq!(by_phone.status, StatusCode::OK);
    let text = by_phone.body.replace("&#x2f;", "/");
    assert!(text.contains("Lucía Gómez"), "{text}");
    assert!(!text.contains("Pedro"), "{text}");
    for id in &ids {
        assert!(text.contains(&format!("/console/bookings/{id}")), "{text}");
    }
    assert!(text.contains("mar 08/01 10:00"), "{text}");
    for q in ["gómez", "LUC", "ía gó"] {
        let by_name = browser.get(&search(q)).await;
        assert!(
            by_name.body.contains("Lucía Gómez"),
            "{q}: {}",
            by_name.body
        );
        assert!(!by_name.body.contains("Pedro"), "{q}");
    }
    // Her details corrected from the card: a new mobile written locally, a fuller name.
    let card = browser.get(&search("gómez")).await;
    let text = card.body.replace("&#x2f;", "/");
    let marker = "action=\"/console/customers/";
    let at = text.find(marker).unwrap() + marker.len();
    let customer = text[at..at + text[at..].find('"').unwrap()].to_string();
    let csrf = card.field("csrf");
    let path = format!("/console/customers/{customer}");
    let saved = browser
        .post(
            &path,
            &[
                ("csrf", &csrf),
                ("name", "Lucía B. Gómez"),
                ("phone", "011 15-2233-4455"),
                ("email", ""),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let (_, read) = app.get(&format!("/api/v1/customers/{customer}")).await;
    assert_eq!(read["phone"], "+5491122334455", "{read}");
    assert_eq!(read["name"], "Lucía B. Gómez");
    let after = browser.get(&saved.location().replace("&#x2f;", "/")).await;
    assert!(after.body.contains("Lucía B. Gómez"), "{}", after.body);
    // Pedro's phone, and a phone that is none: refused in Spanish, nothing changed.
    for (phone, says, status) in [
        (
            "+5491144443333",
            "Otro paciente ya tiene",
            StatusCode::CONFLICT,
        ),
        ("12", "no es válido", StatusCode::UNPROCESSABLE_ENTITY),
    ] {
        let refused = browser
            .post(
                &path,
                &[("csrf", &csrf), ("name", "Lucía"), ("phone", phone)],
            )
            .await;
        assert_eq!(refused.status, status, "{phone}");
        assert!(refused.body.contains(says), "{says}: {}", refused.body);
    }
    let (_, read) = app.get(&format!("/api/v1/customers/{customer}")).await;
    assert_eq!(read["phone"], "+5491122334455");
    assert_eq!(read["name"], "Lucía B. Gómez");

    // Wildcards are letters; nobody is called that.
    for q in ["%", "_", "Zoe"] {
        let none = browser.get(&search(q)).await;
        assert!(
            none.body.contains("No se encontró a nadie"),
            "{q}: {}",
            none.body
        );
    }
}

/// Enough percent-encoding for the searches above.
fn urlencoding(q: &str) -> String {
    q.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn an_admin_adds_a_calendar_and_a_service_whose_times_are_offered(app: &TestApp) {
    let tenant = tenant_of(app, &app.key).await;
    staff_user(app, &tenant, "admin@clinica.example", Role::Admin, &[]).await;
    let mut browser = Browser::new(&app.server.url());
    browser.sign_in("admin@clinica.example", PASSWORD).await;
    let csrf = browser.get("/console/services").await.field("csrf");
    let made = browser
        .post(
            "/console/calendars",
            &[
                ("csrf", &csrf),
                ("name", "Dr. Luis Rey"),
                ("kind", "professional"),
                ("timezone", ""),
            ],
        )
        .await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.body);
    let page = made.location().replace("&#x2f;", "/");
    let cal = page.trim_start_matches("/console/calendars/").to_string();
    assert!(cal.starts_with("cal_"), "{page}");
    let (_, read) = app.get(&format!("/api/v1/calendars/{cal}")).await;
    assert_eq!(
        read["timezone"], "America/Argentina/Buenos_Aires",
        "the clinic's zone: {read}"
    );
    let mut hours = vec![("csrf", csrf.as_str())];
    for day in ["mon", "tue", "wed", "thu", "fri"] {
        hours.push((day, "09:00-12:00"));
    }
    let saved = browser
        .post(&format!("/console/calendars/{cal}/hours"), &hours)
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let service = browser
        .post(
            "/console/services",
            &[
                ("csrf", &csrf),
                ("name", "Control"),
                ("minutes", "20"),
                ("every", "20"),
                ("calendar", &cal),
            ],
        )
        .await;
    assert_eq!(service.status, StatusCode::SEE_OTHER, "{}", service.body);
    let day = browser
        .get(&format!(
            "/console/agenda?date=2030-01-08&view=day&calendar={cal}"
        ))
        .await;
    let free = day.body.matches("<button form=").count();
    assert_eq!(free, 9, "09:00 to 11:40 every 20 minutes: {}", day.body);

    // Refused in the admin's words, nothing stored.
    for (path, form, says) in [
        ("/console/calendars", vec![("name", " ")], "Poné un nombre"),
        (
            "/console/calendars",
            vec![("name", "Sala 2"), ("timezone", "Marte/Olimpo")],
            "huso horario",
        ),
        (
            "/console/services",
            vec![("name", "X"), ("minutes", "0")],
            "minutos",
        ),
    ] {
        let mut pairs = vec![("csrf", csrf.as_str())];
        pairs.extend(form);
        let refused = browser.post(path, &pairs).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{path}");
        assert!(refused.body.contains(says), "{says}: {}", refused.body);
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM calendars").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM services").await, 1);
}

async fn professionals_do_not_look_up_the_clinics_customers(app: &TestApp) {
    let (cal, _) = app.clinic().await;
    receptionist(app).await;
    let mut reception = Browser::new(&app.server.url());
    reception
        .sign_in("recepcion@clinica.example", PASSWORD)
        .await;
    let csrf = reception.csrf().await;
    let added = reception
        .post("/console/calendars", &[("csrf", &csrf), ("name", "Sala 3")])
        .await;
    assert_eq!(
        added.status,
        StatusCode::NOT_FOUND,
        "reception does not add calendars"
    );
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
        browser.get("/console/customers?q=ana").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        browser.get("/console/services").await.status,
        StatusCode::NOT_FOUND
    );
}

crate::on_both_backends!(
    a_receptionist_finds_a_patient_by_phone_or_name_with_their_bookings,
    an_admin_adds_a_calendar_and_a_service_whose_times_are_offered,
    professionals_do_not_look_up_the_clinics_customers,
);
