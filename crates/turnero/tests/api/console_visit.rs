//! A booking's page in the console: who and when, custom fields and other systems' keys, its
//! history; moving it to a free time of another day; completed and no-show once it has
//! started. Every change goes through the agenda and leaves its event.

use reqwest::StatusCode;
use serde_json::json;
use turnero::agenda::staff::Role;

use crate::common::TestApp;
use crate::console::{receptionist, staff_user, tenant_of, two_calendars, Browser, PASSWORD};

/// The `start` values of the page's "move to" buttons, as `(local time, start)`.
fn move_buttons(body: &str) -> Vec<(String, String)> {
    body.split("<button name=\"start\" value=\"")
        .skip(1)
        .map(|rest| {
            let start = rest[..rest.find('"').unwrap()].to_string();
            let text_at = rest.find('>').unwrap() + 1;
            let time = rest[text_at..text_at + rest[text_at..].find('<').unwrap()].to_string();
            (time, start)
        })
        .collect()
}

fn unescaped(body: &str) -> String {
    body.replace("&#x2f;", "/").replace("&amp;", "&")
}

async fn signed_in_receptionist(app: &TestApp) -> Browser {
    receptionist(app).await;
    let mut browser = Browser::new(&app.server.url());
    browser.sign_in("recepcion@clinica.example", PASSWORD).await;
    browser
}

async fn a_receptionist_moves_a_booking_to_a_free_time_of_another_day_and_its_history_says_so(
    app: &TestApp,
) {
    let (cal, svc) = app.clinic().await;
    let (status, b) = app
        .post(
            "/api/v1/bookings",
            json!({
                "calendar_id": cal, "service_id": svc, "start": "2030-01-08T13:00:00Z",
                "customer": {"name": "Lucía Gómez", "phone": "+5491155667788"},
                "custom_fields": {"obra_social": "OSDE 210"}, "notes": "Trae estudios"
            }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{b}");
    let id = b["id"].as_str().unwrap();
    let mut browser = signed_in_receptionist(app).await;

    // The day's agenda links the booking to its page.
    let day = browser
        .get("/console/agenda?date=2030-01-08&view=day")
        .await;
    assert!(
        unescaped(&day.body).contains(&format!("href=\"/console/bookings/{id}\"")),
        "{}",
        day.body
    );
    let page = browser.get(&format!("/console/bookings/{id}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let text = unescaped(&page.body);
    for shown in [
        "Lucía Gómez",
        "+5491155667788",
        "mar 08/01 10:00",
        "pendiente",
        "obra_social",
        "OSDE 210",
        "Trae estudios",
        "creado",
    ] {
        assert!(text.contains(shown), "{shown} missing: {text}");
    }
    // Its own day offers its own time too (moving within the day is a move).
    let own = move_buttons(&page.body);
    assert!(own.iter().any(|(t, _)| t == "10:00"), "{own:?}");

    // Wednesday: 09:00–13:00 every 30 minutes, 11:30 taken by someone else.
    app.book(&cal, &svc, "2030-01-09T14:30:00Z", "+5491144443333")
        .await;
    let wednesday = browser
        .get(&format!("/console/bookings/{id}?date=2030-01-09"))
        .await;
    let starts = move_buttons(&wednesday.body);
    let times: Vec<&str> = starts.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(
        times,
        ["09:00", "09:30", "10:00", "10:30", "11:00", "12:00", "12:30"]
    );
    let csrf = wednesday.field("csrf");
    let moved = browser
        .post(
            &format!("/console/bookings/{id}/move"),
            &[("csrf", &csrf), ("start", &starts[4].1)],
        )
        .await;
    assert_eq!(moved.status, StatusCode::SEE_OTHER, "{}", moved.body);
    assert_eq!(moved.location(), format!("/console/bookings/{id}"));
    let (_, stored) = app.get(&format!("/api/v1/bookings/{id}")).await;
    assert_eq!(stored["start"], "2030-01-09T14:00:00Z", "{stored}");
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM events WHERE type = 'booking.updated' AND subject_id = '{id}'"
        ))
        .await,
        1
    );
    let after = unescaped(&browser.get(&format!("/console/bookings/{id}")).await.body);
    assert!(after.contains("mié 09/01 11:00"), "{after}");
    assert!(after.contains("movido"), "{after}");

    // The taken time, posted anyway: the agenda's refusal in Spanish, nothing moves.
    let taken = browser
        .post(
            &format!("/console/bookings/{id}/move"),
            &[("csrf", &csrf), ("start", "2030-01-09T14:30:00Z")],
        )
        .await;
    assert_eq!(taken.status, StatusCode::CONFLICT, "{}", taken.body);
    assert!(taken.body.contains("ya no está libre"), "{}", taken.body);
    // No time at all, and no token: refused.
    let empty = browser
        .post(&format!("/console/bookings/{id}/move"), &[("csrf", &csrf)])
        .await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    let forged = browser
        .post(
            &format!("/console/bookings/{id}/move"),
            &[("start", "2030-01-09T15:00:00Z")],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let (_, stored) = app.get(&format!("/api/v1/bookings/{id}")).await;
    assert_eq!(stored["start"], "2030-01-09T14:00:00Z");
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM booking_history WHERE booking_id = '{id}'"
        ))
        .await,
        2,
        "created and moved, nothing else"
    );
}

async fn completed_and_no_show_are_offered_once_the_appointment_has_started(app: &TestApp) {
    let (cal, svc) = app.clinic().await;
    // Today (Monday) at 10:00 local; the clock says 09:00.
    let (_, b) = app
        .book(&cal, &svc, "2030-01-07T13:00:00Z", "+5491155667788")
        .await;
    let id = b["id"].as_str().unwrap();
    let mut browser = signed_in_receptionist(app).await;
    let page = browser.get(&format!("/console/bookings/{id}")).await;
    let csrf = page.field("csrf");
    let confirmed = browser
        .post(
            &format!("/console/bookings/{id}/confirm"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(
        confirmed.status,
        StatusCode::SEE_OTHER,
        "{}",
        confirmed.body
    );
    let before = unescaped(&browser.get(&format!("/console/bookings/{id}")).await.body);
    assert!(before.contains("confirmado"), "{before}");
    assert!(!before.contains("/no_show\""), "{before}");
    assert!(!before.contains("/complete\""), "{before}");
    // Posted anyway: not yet, in the receptionist's words; nothing changes.
    let early = browser
        .post(
            &format!("/console/bookings/{id}/no_show"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(early.status, StatusCode::CONFLICT, "{}", early.body);
    assert!(early.body.contains("todavía no empezó"), "{}", early.body);
    let (_, stored) = app.get(&format!("/api/v1/bookings/{id}")).await;
    assert_eq!(stored["status"], "confirmed");

    app.advance_to("2030-01-07T13:20:00Z");
    let during = browser.get(&format!("/console/bookings/{id}")).await;
    let text = unescaped(&during.body);
    assert!(
        text.contains(&format!("/console/bookings/{id}/no_show")),
        "{text}"
    );
    assert!(
        text.contains(&format!("/console/bookings/{id}/complete")),
        "{text}"
    );
    let marked = browser
        .post(
            &format!("/console/bookings/{id}/no_show"),
            &[
                ("csrf", &csrf),
                ("back", &format!("/console/bookings/{id}")),
            ],
        )
        .await;
    assert_eq!(marked.status, StatusCode::SEE_OTHER, "{}", marked.body);
    assert_eq!(marked.location(), format!("/console/bookings/{id}"));
    let (_, stored) = app.get(&format!("/api/v1/bookings/{id}")).await;
    assert_eq!(stored["status"], "no_show");
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM events WHERE type = 'booking.no_show' AND subject_id = '{id}'"
        ))
        .await,
        1
    );
    let after = unescaped(&browser.get(&format!("/console/bookings/{id}")).await.body);
    assert!(after.contains("ausente"), "{after}");
    // A no-show is final: nothing more is offered, not even a move.
    assert!(!after.contains("/complete\""), "{after}");
    assert!(!after.contains("/move\""), "{after}");
}

async fn another_systems_key_is_shown_with_the_booking(app: &TestApp) {
    let (cal, svc) = app.clinic().await;
    let (_, b) = app
        .book(&cal, &svc, "2030-01-08T13:00:00Z", "+5491155667788")
        .await;
    let id = b["id"].as_str().unwrap();
    let tenant = tenant_of(app, &app.key).await;
    // As the AsisteClick callback writes it (its own tests hold that path).
    sqlx::query(
        "INSERT INTO booking_external_refs (tenant_id, system, external_key, booking_id, data, \
         created_at, updated_at) VALUES ($1, 'asisteclick', 'ac-778899', $2, '{}', $3, $3)",
    )
    .bind(tenant.as_str())
    .bind(id)
    .bind(app.server.clock.now_secs())
    .execute(&app.server.db.write)
    .await
    .unwrap();
    let mut browser = signed_in_receptionist(app).await;
    let page = browser.get(&format!("/console/bookings/{id}")).await;
    assert!(page.body.contains("asisteclick"), "{}", page.body);
    assert!(page.body.contains("ac-778899"), "{}", page.body);
}

async fn a_professional_cannot_open_or_move_another_calendars_booking(app: &TestApp) {
    let tenant = tenant_of(app, &app.key).await;
    let ((own, _), (other, other_svc)) = two_calendars(app).await;
    staff_user(
        app,
        &tenant,
        "ana@clinica.example",
        Role::Professional,
        &[&own],
    )
    .await;
    let (_, b) = app
        .book(&other, &other_svc, "2030-01-08T13:00:00Z", "+5491155667788")
        .await;
    let id = b["id"].as_str().unwrap();
    let mut browser = Browser::new(&app.server.url());
    browser.sign_in("ana@clinica.example", PASSWORD).await;
    let page = browser.get(&format!("/console/bookings/{id}")).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(!page.body.contains("+5491155667788"));
    let csrf = browser.csrf().await;
    let moved = browser
        .post(
            &format!("/console/bookings/{id}/move"),
            &[("csrf", &csrf), ("start", "2030-01-08T14:00:00Z")],
        )
        .await;
    assert_eq!(moved.status, StatusCode::NOT_FOUND);
    let (_, stored) = app.get(&format!("/api/v1/bookings/{id}")).await;
    assert_eq!(stored["start"], "2030-01-08T13:00:00Z");
    // Nor an id that is no id.
    let junk = browser.get("/console/bookings/not-an-id").await;
    assert_eq!(junk.status, StatusCode::NOT_FOUND);
}

crate::on_both_backends!(
    a_receptionist_moves_a_booking_to_a_free_time_of_another_day_and_its_history_says_so,
    completed_and_no_show_are_offered_once_the_appointment_has_started,
    another_systems_key_is_shown_with_the_booking,
    a_professional_cannot_open_or_move_another_calendars_booking,
);
