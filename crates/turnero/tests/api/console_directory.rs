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

async fn professionals_do_not_look_up_the_clinics_customers(app: &TestApp) {
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
    professionals_do_not_look_up_the_clinics_customers,
);
