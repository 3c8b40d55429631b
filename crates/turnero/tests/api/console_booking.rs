//! Booking a patient into a free slot from the console: the day shows the free times, each a
//! bookmarkable page; the patient is found by any spelling of their phone; a slot taken
//! meanwhile is refused in the staff member's words and nothing is written.

use reqwest::StatusCode;
use turnero::agenda::staff::Role;

use crate::common::TestApp;
use crate::console::{receptionist, staff_user, tenant_of, two_calendars, Browser, PASSWORD};

/// The day's free times as `(time, address)`: each is a button of a GET form to
/// `/console/book` that carries the calendar and the service, so the address is the page a
/// click opens.
fn free_links(body: &str) -> Vec<(String, String)> {
    let attr = |tag: &str, name: &str| -> String {
        let at = tag.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
        tag[at..at + tag[at..].find('"').unwrap()].replace("&#x2f;", "/")
    };
    let forms: std::collections::HashMap<String, (String, String)> = body
        .split("<form id=\"")
        .skip(1)
        .map(|rest| {
            let form = &rest[..rest.find("</form>").unwrap()];
            let id = form[..form.find('"').unwrap()].to_string();
            let field = |name: &str| {
                let input = &form[form.find(&format!("name=\"{name}\"")).unwrap()..];
                attr(input, "value")
            };
            (id, (field("calendar"), field("service")))
        })
        .collect();
    body.split("<button form=\"")
        .skip(1)
        .map(|rest| {
            let tag = &rest[..rest.find('>').unwrap()];
            let form = &tag[..tag.find('"').unwrap()];
            let (calendar, service) = &forms[form];
            let start = attr(tag, "value");
            let text_at = rest.find('>').unwrap() + 1;
            let time = rest[text_at..text_at + rest[text_at..].find('<').unwrap()].to_string();
            let href = format!("/console/book?calendar={calendar}&service={service}&start={start}");
            (time, href)
        })
        .collect()
}

async fn a_receptionist_books_a_free_slot_for_a_patient_known_by_another_spelling_of_the_phone(
    app: &TestApp,
) {
    receptionist(app).await;
    let (cal, svc) = app.clinic().await;
    // A patient the clinic knows, booked through the API on Tuesday at 10:00.
    let (status, first) = app
        .book(&cal, &svc, "2030-01-08T13:00:00Z", "+5491155667788")
        .await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    let mut browser = Browser::new(&app.server.url());
    browser.sign_in("recepcion@clinica.example", PASSWORD).await;

    let day = browser
        .get("/console/agenda?date=2030-01-08&view=day")
        .await;
    let free = free_links(&day.body);
    let times: Vec<&str> = free.iter().map(|(t, _)| t.as_str()).collect();
    // Open 09:00–13:00, 30 minutes each, 10:00 taken.
    assert_eq!(
        times,
        ["09:00", "09:30", "10:30", "11:00", "11:30", "12:00", "12:30"],
        "{}",
        day.body
    );
    // Each free time is a page of its own: calendar, service and start in the URL.
    let form = browser.get(&free[0].1).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert!(
        form.body.replace("&#x2f;", "/").contains("mar 08/01 09:00"),
        "{}",
        form.body
    );
    let fields = ["calendar", "service", "start"].map(|f| form.field(f));
    assert_eq!(fields[2], "2030-01-08T12:00:00Z");

    // Written as a receptionist hears it: no country code, the old 15 prefix.
    let csrf = form.field("csrf");
    let path = "/console/bookings";
    let pairs: Vec<(&str, &str)> = vec![
        ("csrf", &csrf),
        ("calendar", &fields[0]),
        ("service", &fields[1]),
        ("start", &fields[2]),
        ("name", "Paciente"),
        ("phone", "011 15-5566-7788"),
    ];
    let made = browser.post(path, &pairs).await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.body);
    assert!(
        made.location().starts_with(&format!(
            "/console/agenda?date=2030-01-08&view=day&calendar={cal}#bkg_"
        )),
        "{}",
        made.location()
    );
    let id = made.location().rsplit('#').next().unwrap().to_string();
    assert_eq!(
        app.count("SELECT COUNT(*) FROM customers").await,
        1,
        "the same patient"
    );
    let (_, stored) = app.get(&format!("/api/v1/bookings/{id}")).await;
    assert_eq!(stored["status"], "pending");
    assert_eq!(stored["source"], "console");
    assert_eq!(stored["start"], "2030-01-08T12:00:00Z");
    assert_eq!(stored["customer"]["id"], first["customer"]["id"]);
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM events WHERE type = 'booking.created' AND subject_id = '{id}'"
        ))
        .await,
        1
    );
    let after = browser
        .get("/console/agenda?date=2030-01-08&view=day")
        .await;
    assert!(after.body.contains(&id), "{}", after.body);
    assert!(!free_links(&after.body).iter().any(|(t, _)| t == "09:00"));

    // The same slot again: the agenda's refusal, in Spanish; nothing written.
    let again = browser.post(path, &pairs).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    assert!(again.body.contains("ya no está libre"), "{}", again.body);
    assert_eq!(app.count("SELECT COUNT(*) FROM bookings").await, 2);
    // A phone that is no phone; no phone at all.
    let mut bad: Vec<(&str, &str)> = pairs.clone();
    bad[3].1 = "2030-01-08T12:30:00Z";
    bad[5].1 = "12";
    let refused = browser.post(path, &bad).await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert!(refused.body.contains("no es válido"), "{}", refused.body);
    bad[5].1 = "";
    let refused = browser.post(path, &bad).await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM bookings").await, 2);
    // Without the form's token: refused.
    let forged = browser.post(path, &pairs[1..]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
}

async fn a_professional_cannot_book_on_another_calendar_even_by_url(app: &TestApp) {
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
    let mut browser = Browser::new(&app.server.url());
    browser.sign_in("ana@clinica.example", PASSWORD).await;
    let page = browser
        .get(&format!(
            "/console/book?calendar={other}&service={other_svc}&start=2030-01-08T12:00:00Z"
        ))
        .await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    let csrf = browser.csrf().await;
    let posted = browser
        .post(
            "/console/bookings",
            &[
                ("csrf", &csrf),
                ("calendar", &other),
                ("service", &other_svc),
                ("start", "2030-01-08T12:00:00Z"),
                ("name", "Paciente"),
                ("phone", "+5491155667788"),
            ],
        )
        .await;
    assert_eq!(posted.status, StatusCode::NOT_FOUND);
    assert_eq!(app.count("SELECT COUNT(*) FROM bookings").await, 0);
}

crate::on_both_backends!(
    a_receptionist_books_a_free_slot_for_a_patient_known_by_another_spelling_of_the_phone,
    a_professional_cannot_book_on_another_calendar_even_by_url,
);
