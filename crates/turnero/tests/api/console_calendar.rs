//! A calendar's exceptions from the console: a closed day and a day with other hours, time
//! off for a morning, each changing the free times the agenda offers; overlapping hours and
//! a backwards time off refused in the staff member's words with nothing stored. A
//! professional changes only their own calendar.

use reqwest::StatusCode;
use turnero::agenda::staff::Role;

use crate::common::TestApp;
use crate::console::{receptionist, staff_user, tenant_of, two_calendars, Browser, PASSWORD};

/// The free times the day's agenda offers.
fn free_times(body: &str) -> Vec<String> {
    body.split("<button form=\"")
        .skip(1)
        .map(|rest| {
            let text_at = rest.find('>').unwrap() + 1;
            rest[text_at..text_at + rest[text_at..].find('<').unwrap()].to_string()
        })
        .collect()
}

async fn day(browser: &mut Browser, date: &str) -> Vec<String> {
    free_times(
        &browser
            .get(&format!("/console/agenda?date={date}&view=day"))
            .await
            .body,
    )
}

async fn closed_days_other_hours_and_time_off_change_the_free_times(app: &TestApp) {
    let (cal, _) = app.clinic().await;
    receptionist(app).await;
    let mut browser = Browser::new(&app.server.url());
    browser.sign_in("recepcion@clinica.example", PASSWORD).await;
    let page = browser.get(&format!("/console/calendars/{cal}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("name=\"mon\" value=\"09:00-13:00\""),
        "{}",
        page.body
    );
    let csrf = page.field("csrf");
    let path = |p: &str| format!("/console/calendars/{cal}{p}");
    let updates = || async {
        app.count("SELECT COUNT(*) FROM events WHERE type = 'calendar.updated'")
            .await
    };
    let before = updates().await;
    assert_eq!(day(&mut browser, "2030-01-08").await.len(), 8);

    // Tuesday closed; Wednesday open only in the afternoon.
    let closed = browser
        .post(
            &path("/overrides"),
            &[("csrf", &csrf), ("date", "2030-01-08"), ("closed", "on")],
        )
        .await;
    assert_eq!(closed.status, StatusCode::SEE_OTHER, "{}", closed.body);
    assert!(day(&mut browser, "2030-01-08").await.is_empty());
    let other = browser
        .post(
            &path("/overrides"),
            &[
                ("csrf", &csrf),
                ("date", "2030-01-09"),
                ("hours", "15:00-17:00"),
            ],
        )
        .await;
    assert_eq!(other.status, StatusCode::SEE_OTHER, "{}", other.body);
    assert_eq!(
        day(&mut browser, "2030-01-09").await,
        ["15:00", "15:30", "16:00", "16:30"]
    );
    // Overlapping hours: refused in Spanish, Thursday as it was.
    let overlap = browser
        .post(
            &path("/overrides"),
            &[
                ("csrf", &csrf),
                ("date", "2030-01-10"),
                ("hours", "09:00-11:00, 10:00-12:00"),
            ],
        )
        .await;
    assert_eq!(overlap.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(overlap.body.contains("se superponen"), "{}", overlap.body);
    let garbled = browser
        .post(
            &path("/overrides"),
            &[
                ("csrf", &csrf),
                ("date", "2030-01-10"),
                ("hours", "nueve a doce"),
            ],
        )
        .await;
    assert_eq!(garbled.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM calendar_overrides").await,
        2
    );

    // Thursday 10:00–12:00 away.
    let away = browser
        .post(
            &path("/time-off"),
            &[
                ("csrf", &csrf),
                ("from_date", "2030-01-10"),
                ("from_time", "10:00"),
                ("to_date", "2030-01-10"),
                ("to_time", "12:00"),
                ("reason", "Congreso"),
            ],
        )
        .await;
    assert_eq!(away.status, StatusCode::SEE_OTHER, "{}", away.body);
    assert_eq!(
        day(&mut browser, "2030-01-10").await,
        ["09:00", "09:30", "12:00", "12:30"]
    );
    let backwards = browser
        .post(
            &path("/time-off"),
            &[
                ("csrf", &csrf),
                ("from_date", "2030-01-11"),
                ("from_time", "12:00"),
                ("to_date", "2030-01-11"),
                ("to_time", "10:00"),
            ],
        )
        .await;
    assert_eq!(backwards.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        backwards.body.contains("después del comienzo"),
        "{}",
        backwards.body
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM time_off").await, 1);
    assert_eq!(
        updates().await,
        before + 3,
        "one calendar.updated per change"
    );

    // Both shown on the page, and taken away again.
    let page = browser.get(&format!("/console/calendars/{cal}")).await;
    let text = page.body.replace("&#x2f;", "/");
    assert!(text.contains("cerrado todo el día"), "{text}");
    assert!(text.contains("Congreso"), "{text}");
    let away_id = {
        let at = text.find("/time-off/").unwrap() + "/time-off/".len();
        text[at..at + text[at..].find('/').unwrap()].to_string()
    };
    let removed = browser
        .post(
            &path(&format!("/time-off/{away_id}/delete")),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER);
    let reopened = browser
        .post(&path("/overrides/2030-01-08/delete"), &[("csrf", &csrf)])
        .await;
    assert_eq!(reopened.status, StatusCode::SEE_OTHER);
    assert_eq!(day(&mut browser, "2030-01-08").await.len(), 8);
    assert_eq!(day(&mut browser, "2030-01-10").await.len(), 8);
    // Without the form's token nothing changes.
    let forged = browser
        .post(
            &path("/overrides"),
            &[("date", "2030-01-08"), ("closed", "on")],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(day(&mut browser, "2030-01-08").await.len(), 8);
}

async fn the_weekly_hours_are_changed_from_the_calendars_page(app: &TestApp) {
    let (cal, _) = app.clinic().await;
    receptionist(app).await;
    let mut browser = Browser::new(&app.server.url());
    browser.sign_in("recepcion@clinica.example", PASSWORD).await;
    let csrf = browser.csrf().await;
    let hours = |mon: &'static str| {
        let mut form = vec![("csrf", csrf.clone()), ("mon", mon.to_string())];
        for day in ["tue", "wed", "thu", "fri"] {
            form.push((day, "09:00-13:00".to_string()));
        }
        form.push(("sat", String::new()));
        form
    };
    let form = hours("08:00-10:00 16:00-17:00");
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let saved = browser
        .post(&format!("/console/calendars/{cal}/hours"), &pairs)
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert_eq!(
        day(&mut browser, "2030-01-14").await,
        ["08:00", "08:30", "09:00", "09:30", "16:00", "16:30"]
    );
    assert_eq!(
        day(&mut browser, "2030-01-15").await.len(),
        8,
        "Tuesday as it was"
    );
    let (_, read) = app.get(&format!("/api/v1/calendars/{cal}")).await;
    assert_eq!(
        read["weekly_hours"][0],
        serde_json::json!({"weekday": "mon", "start": "08:00", "end": "10:00"}),
        "{read}"
    );
    // Overlapping or unreadable: refused in Spanish, the hours stay.
    for bad in ["08:00-10:00 09:00-11:00", "de ocho a diez"] {
        let form = hours(bad);
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let refused = browser
            .post(&format!("/console/calendars/{cal}/hours"), &pairs)
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert!(
            refused.body.contains("superpone") || refused.body.contains("Revisá"),
            "{}",
            refused.body
        );
    }
    assert_eq!(day(&mut browser, "2030-01-14").await.len(), 6);
}

async fn a_professional_changes_only_their_own_calendar(app: &TestApp) {
    let tenant = tenant_of(app, &app.key).await;
    let ((own, _), (other, _)) = two_calendars(app).await;
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
    assert_eq!(
        browser
            .get(&format!("/console/calendars/{own}"))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        browser
            .get(&format!("/console/calendars/{other}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let csrf = browser.csrf().await;
    let posted = browser
        .post(
            &format!("/console/calendars/{other}/overrides"),
            &[("csrf", &csrf), ("date", "2030-01-08"), ("closed", "on")],
        )
        .await;
    assert_eq!(posted.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM calendar_overrides").await,
        0
    );
}

crate::on_both_backends!(
    closed_days_other_hours_and_time_off_change_the_free_times,
    the_weekly_hours_are_changed_from_the_calendars_page,
    a_professional_changes_only_their_own_calendar,
);
