//! A professional's private calendar feed: made from the console, shown once, read by an
//! independent iCalendar parser (the `ical` crate) without signing in; it holds only their
//! own calendar's bookings, follows a move and a cancellation, and stops answering when
//! replaced or revoked.

use std::collections::HashMap;

use reqwest::StatusCode;
use serde_json::json;
use turnero::agenda::staff::Role;

use crate::common::TestApp;
use crate::console::{staff_user, tenant_of, two_calendars, Browser, PASSWORD};

/// Each event's properties by UID, as the `ical` crate reads the feed.
fn events(ics: &str) -> HashMap<String, HashMap<String, String>> {
    let cal = ical::IcalParser::new(std::io::BufReader::new(ics.as_bytes()))
        .next()
        .expect("one calendar")
        .expect("a calendar a real parser reads");
    cal.events
        .iter()
        .map(|e| {
            let props: HashMap<String, String> = e
                .properties
                .iter()
                .map(|p| (p.name.clone(), p.value.clone().unwrap_or_default()))
                .collect();
            (props["UID"].clone(), props)
        })
        .collect()
}

/// The feed's address, as the page shows it once.
fn shown_address(body: &str) -> String {
    let at = body.find("id=\"feed-url\"").expect("the address is shown");
    let rest = &body[at..];
    let value = &rest[rest.find("value=\"").unwrap() + 7..];
    value[..value.find('"').unwrap()]
        .replace("&#x2f;", "/")
        .replace("&amp;", "&")
}

async fn fetch(url: &str) -> (StatusCode, String, String) {
    let r = reqwest::get(url).await.unwrap();
    let status = r.status();
    let kind = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, kind, r.text().await.unwrap())
}

async fn a_professionals_feed_holds_their_bookings_follows_changes_and_can_be_revoked(
    app: &TestApp,
) {
    let tenant = tenant_of(app, &app.key).await;
    let ((own, svc), (other, other_svc)) = two_calendars(app).await;
    staff_user(
        app,
        &tenant,
        "ana@clinica.example",
        Role::Professional,
        &[&own],
    )
    .await;
    let (_, first) = app
        .book(&own, &svc, "2030-01-08T13:00:00Z", "+5491155667788")
        .await;
    let (_, second) = app
        .book(&own, &svc, "2030-01-09T13:00:00Z", "+5491144443333")
        .await;
    let (_, elsewhere) = app
        .book(&other, &other_svc, "2030-01-08T13:00:00Z", "+5491122221111")
        .await;
    let uid = |b: &serde_json::Value| format!("{}@turnero", b["id"].as_str().unwrap());

    let mut browser = Browser::new(&app.server.url());
    browser.sign_in("ana@clinica.example", PASSWORD).await;
    let page = browser.get("/console/feed").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("Todavía no tenés una dirección"),
        "{}",
        page.body
    );
    let csrf = page.field("csrf");
    let made = browser.post("/console/feed", &[("csrf", &csrf)]).await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.body);
    let url = shown_address(&made.body);
    assert!(url.starts_with(&app.server.url()), "{url}");
    assert!(url.ends_with(".ics"), "{url}");
    // Only a hash is kept: the address is not on the page again.
    let again = browser.get("/console/feed").await;
    assert!(!again.body.contains(&url), "{}", again.body);
    assert!(again.body.contains("activa desde"), "{}", again.body);

    // Read without any cookie, as a calendar app does.
    let (status, kind, ics) = fetch(&url).await;
    assert_eq!(status, StatusCode::OK);
    assert!(kind.starts_with("text/calendar"), "{kind}");
    let read = events(&ics);
    assert_eq!(read.len(), 2, "only her own calendar: {ics}");
    assert!(!read.contains_key(&uid(&elsewhere)));
    let e = &read[&uid(&first)];
    assert_eq!(e["DTSTART"], "20300108T130000Z");
    assert_eq!(e["DTEND"], "20300108T133000Z");
    assert!(e["SUMMARY"].contains("Paciente"), "{e:?}");
    assert!(e["DESCRIPTION"].contains("+5491155667788"), "{e:?}");
    let sequence = |e: &HashMap<String, String>| e["SEQUENCE"].parse::<i64>().unwrap();
    let before = sequence(e);

    // Later that morning the first is moved and the second canceled, through the API.
    app.advance_to("2030-01-07T12:30:00Z");
    let first_id = first["id"].as_str().unwrap();
    let (status, _) = app
        .post(
            &format!("/api/v1/bookings/{first_id}/reschedule"),
            json!({"start": "2030-01-08T14:30:00Z"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let second_id = second["id"].as_str().unwrap();
    let (status, _) = app
        .post(&format!("/api/v1/bookings/{second_id}/cancel"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let read = events(&fetch(&url).await.2);
    let moved = &read[&uid(&first)];
    assert_eq!(moved["DTSTART"], "20300108T143000Z");
    assert!(sequence(moved) > before, "{moved:?}");
    assert_eq!(read[&uid(&second)]["STATUS"], "CANCELLED");

    // A new address replaces the old one; revoking ends the new one.
    let renewed = browser.post("/console/feed", &[("csrf", &csrf)]).await;
    let new_url = shown_address(&renewed.body);
    assert_ne!(new_url, url);
    assert_eq!(fetch(&url).await.0, StatusCode::NOT_FOUND);
    assert_eq!(fetch(&new_url).await.0, StatusCode::OK);
    let revoked = browser
        .post("/console/feed/revoke", &[("csrf", &csrf)])
        .await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER);
    assert_eq!(fetch(&new_url).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM staff_feeds").await,
        0,
        "nothing left that opens it"
    );
    // Without the form's token nothing is made.
    let forged = browser.post("/console/feed", &[]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(app.count("SELECT COUNT(*) FROM staff_feeds").await, 0);
}

async fn a_made_up_feed_address_opens_nothing(app: &TestApp) {
    let base = app.server.url();
    for path in [
        format!("/console/feed/{}.ics", "a".repeat(64)),
        "/console/feed/short.ics".to_string(),
        format!("/console/feed/{}", "b".repeat(64)),
    ] {
        let (status, _, body) = fetch(&format!("{base}{path}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
        assert!(!body.contains("BEGIN:VCALENDAR"));
    }
}

crate::on_both_backends!(
    a_professionals_feed_holds_their_bookings_follows_changes_and_can_be_revoked,
    a_made_up_feed_address_opens_nothing,
);
