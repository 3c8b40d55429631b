//! turnero as the bot platform consulting someone else's agenda through AsisteClick's
//! protocol: a fake external agenda (choosy, slow, failing, garbage-answering) and a round
//! trip in which one turnero consults another and sends it the callbacks.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{Backend, TestApp};
use crate::patient::{body_text, row_ids, Patient};
use crate::receiver::Receiver;

/// Tuesday, open 09:00–13:00 in Buenos Aires (12:00–16:00 UTC).
const DAY: &str = "start=2030-01-08T00:00:00Z&end=2030-01-09T00:00:00Z";

async fn set_api(app: &TestApp, cal: &str, body: Value) -> Value {
    let (status, out) = app
        .call(
            Method::PUT,
            &format!("/api/v1/calendars/{cal}/availability-api"),
            Some(body),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    out
}

async fn slots(app: &TestApp, cal: &str, svc: &str, extra: &str) -> Value {
    let (status, page) = app
        .get(&format!(
            "/api/v1/calendars/{cal}/slots?service_id={svc}&{DAY}{extra}"
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page
}

fn starts(page: &Value) -> Vec<String> {
    page["slots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["start"].as_str().unwrap().to_string())
        .collect()
}

async fn only_what_the_external_agenda_keeps_is_offered(app: &TestApp) {
    let (cal, svc) = app.clinic().await;
    let native = starts(&slots(app, &cal, &svc, "").await);
    let agenda = Receiver::start().await;
    // Keeps every other slot it is sent, as an agenda with half its times taken would.
    agenda.respond(|body| {
        let req: Value = serde_json::from_slice(body).unwrap();
        let kept: Vec<&Value> = req["slots"].as_array().unwrap().iter().step_by(2).collect();
        json!({"slots": kept, "showBeforeButton": false, "showAfterButton": true}).to_string()
    });
    set_api(
        app,
        &cal,
        json!({"url": agenda.url, "external_calendar_id": 5}),
    )
    .await;

    let page = slots(app, &cal, &svc, "&count=3").await;
    assert_eq!(page["availability"], "external", "{page}");
    let every_other: Vec<String> = native.iter().step_by(2).cloned().collect();
    assert_eq!(starts(&page), every_other[..3]);
    assert_eq!(page["has_later"], true);

    let asked = &agenda.received()[0];
    assert!(
        asked.header("user-agent").starts_with("turnero-booking/"),
        "{}",
        asked.header("user-agent")
    );
    let req = asked.json();
    assert_eq!(req["calendar_id"], 5);
    assert_eq!(req["timezone"], "-3");
    // The range in the calendar's local dates: 00:00 UTC is 21:00 the evening before.
    assert_eq!(req["start_date"], "2030-01-07");
    assert_eq!(req["end_date"], "2030-01-08");
    assert_eq!(req["count"], 3);
    let first = &req["slots"][0];
    assert_eq!(first["iso"], "2030-01-08T12:00:00Z");
    assert_eq!(first["isoLocal"], "2030-01-08T09:00:00");
    assert!(
        first["id"].is_string() && first["text"].is_string(),
        "{first}"
    );
    assert_eq!(req["slots"].as_array().unwrap().len(), native.len());
}

async fn a_slow_failing_or_garbage_answering_agenda_falls_back_and_says_why(app: &TestApp) {
    let (cal, svc) = app.clinic().await;
    let native = starts(&slots(app, &cal, &svc, "").await);
    let agenda = Receiver::start().await;
    set_api(app, &cal, json!({"url": agenda.url, "timeout_ms": 300})).await;

    let fallback = |page: Value| {
        assert_eq!(page["availability"], "fallback", "{page}");
        assert_eq!(starts(&page), native, "turnero's own slots");
    };
    agenda.delay(1_000);
    let started = Instant::now();
    fallback(slots(app, &cal, &svc, "").await);
    assert!(
        started.elapsed() < Duration::from_millis(900),
        "did not wait it out"
    );
    agenda.delay(0);
    agenda.answer(500);
    fallback(slots(app, &cal, &svc, "").await);
    agenda.answer(200);
    agenda.respond(|_| "<html>maintenance</html>".into());
    fallback(slots(app, &cal, &svc, "").await);
    agenda.respond(|_| json!({"slots": "none"}).to_string());
    fallback(slots(app, &cal, &svc, "").await);

    // Fallbacks are written beside the answer, not before it: wait for the four.
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut reasons: Vec<String> = loop {
        let (status, out) = app
            .get(&format!("/api/v1/calendars/{cal}/availability-api"))
            .await;
        assert_eq!(status, StatusCode::OK, "{out}");
        let got: Vec<String> = out["recent_fallbacks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["reason"].as_str().unwrap().to_string())
            .collect();
        if got.len() >= 4 || Instant::now() > deadline {
            break got;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    reasons.sort();
    assert_eq!(reasons, ["http_status", "invalid", "invalid", "timeout"]);

    // Turned off, the calendar is turnero's alone again.
    let (status, _) = app
        .call(
            Method::DELETE,
            &format!("/api/v1/calendars/{cal}/availability-api"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let before = agenda.received().len();
    assert_eq!(slots(app, &cal, &svc, "").await["availability"], "turnero");
    assert_eq!(agenda.received().len(), before);
}

async fn a_dead_agenda_is_left_alone_after_five_failures_and_probed_again_later(app: &TestApp) {
    let (cal, svc) = app.clinic().await;
    let agenda = Receiver::start().await;
    set_api(app, &cal, json!({"url": agenda.url, "timeout_ms": 200})).await;
    agenda.answer(503);
    for _ in 0..5 {
        assert_eq!(slots(app, &cal, &svc, "").await["availability"], "fallback");
    }
    assert_eq!(agenda.received().len(), 5);
    // The breaker is open: the next search falls back at once, without asking.
    let started = Instant::now();
    assert_eq!(slots(app, &cal, &svc, "").await["availability"], "fallback");
    assert!(
        started.elapsed() < Duration::from_millis(150),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        agenda.received().len(),
        5,
        "not asked while the breaker is open"
    );
    // Half a minute later one search asks again; the agenda is back, and it is used.
    agenda.answer(200);
    agenda.respond(|body| {
        let req: Value = serde_json::from_slice(body).unwrap();
        json!({"slots": req["slots"]}).to_string()
    });
    app.advance_to("2030-01-07T12:00:31Z");
    let page = slots(app, &cal, &svc, "").await;
    assert_eq!(page["availability"], "external", "{page}");
    assert_eq!(agenda.received().len(), 6);
}

async fn bad_settings_are_refused_and_change_nothing(app: &TestApp) {
    let (cal, _) = app.clinic().await;
    let path = format!("/api/v1/calendars/{cal}/availability-api");
    let put = |body: Value| app.call(Method::PUT, &path, Some(body));
    for (body, field) in [
        (json!({"url": "ftp://agenda.example/x"}), "url"),
        (json!({"url": "http://10.0.0.7/x"}), "url"),
        (
            json!({"url": "https://agenda.example/x", "timeout_ms": 60000}),
            "timeout_ms",
        ),
        (
            json!({"url": "https://agenda.example/x", "callback_url": "http://169.254.169.254/"}),
            "callback_url",
        ),
    ] {
        let (status, problem) = put(body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(problem["field"], field, "{problem}");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM webhooks").await, 0);
    let (status, _) = app
        .get(&format!("/api/v1/calendars/{cal}/availability-api"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// Waits until `sql` counts `want` on `app`'s database.
async fn eventually(app: &TestApp, sql: &str, want: i64) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let got = app.count(sql).await;
        if got == want {
            return;
        }
        assert!(Instant::now() < deadline, "{sql}: {got}, not {want}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn one_turnero_consults_another_and_sends_it_its_bookings(backend: Backend) {
    let (a, b) = (TestApp::start(backend).await, TestApp::start(backend).await);
    // B is the agenda: calendar 5 of the "bot platform" is B's Dra. Pérez.
    let (cal_b, svc_b) = b.clinic().await;
    let (status, wired) = b
        .call(
            Method::PUT,
            "/api/v1/integrations/asisteclick",
            Some(json!({"access_token": "token-de-a", "calendar_map": {"5": cal_b}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{wired}");
    // A is the bot platform: its calendar asks B, and tells B what it books.
    let (cal_a, svc_a) = a.clinic().await;
    let config = set_api(
        &a,
        &cal_a,
        json!({
            "url": wired["availability_url"], "external_calendar_id": 5,
            "callback_url": wired["callback_url"], "access_token": "token-de-a"
        }),
    )
    .await;
    assert!(
        config["availability_api"]["webhook_id"].is_string(),
        "{config}"
    );

    let (status, _) = b
        .book(&cal_b, &svc_b, "2030-01-08T13:00:00Z", "+5491155667788")
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let page = slots(&a, &cal_a, &svc_a, "").await;
    assert_eq!(page["availability"], "external", "{page}");
    let offered = starts(&page);
    assert!(offered.contains(&"2030-01-08T12:00:00Z".to_string()));
    assert!(
        !offered.contains(&"2030-01-08T13:00:00Z".to_string()),
        "taken at B: {offered:?}"
    );

    let (status, booked) = a
        .book(&cal_a, &svc_a, "2030-01-08T14:00:00Z", "+5491144556677")
        .await;
    assert_eq!(status, StatusCode::CREATED, "{booked}");
    eventually(
        &b,
        "SELECT COUNT(*) FROM bookings b JOIN customers c ON c.id = b.customer_id \
         WHERE b.source = 'asisteclick' AND b.start_at = 1894111200 \
         AND c.phone = '+5491144556677'",
        1,
    )
    .await;
    // B no longer offers it to anyone.
    let page = slots(&a, &cal_a, &svc_a, "").await;
    assert!(!starts(&page).contains(&"2030-01-08T14:00:00Z".to_string()));

    let id = booked["id"].as_str().unwrap();
    let (status, _) = a
        .post(&format!("/api/v1/bookings/{id}/cancel"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    eventually(
        &b,
        "SELECT COUNT(*) FROM bookings WHERE source = 'asisteclick' AND status = 'canceled'",
        1,
    )
    .await;
    a.finish().await;
    b.finish().await;
}

/// The slot rows of a WhatsApp list as (start, calendar) pairs, without "earlier"/"later".
fn offered(list: &Value) -> Vec<i64> {
    row_ids(list)
        .iter()
        .filter_map(|id| id.strip_prefix("slot:"))
        .map(|rest| rest.split(':').nth(1).unwrap().parse().unwrap())
        .collect()
}

async fn the_bot_offers_what_the_external_agenda_answers_and_falls_back_when_it_fails(
    app: &TestApp,
) {
    let (cal, svc) = app.clinic().await;
    // What the bot would offer from turnero's own agenda: its first slots from now.
    let now = app.clock().now_secs();
    let (_, own) = app
        .get(&format!(
            "/api/v1/calendars/{cal}/slots?service_id={svc}&start={}&end={}",
            turnero_core::time::fmt_ts(now),
            turnero_core::time::fmt_ts(now + 60 * 86_400),
        ))
        .await;
    let own: Vec<i64> = starts(&own)
        .iter()
        .map(|s| s.parse::<jiff::Timestamp>().unwrap().as_second())
        .collect();
    let agenda = Receiver::start().await;
    // The other agenda keeps every third slot it is sent.
    agenda.respond(|body| {
        let req: Value = serde_json::from_slice(body).unwrap();
        let kept: Vec<&Value> = req["slots"].as_array().unwrap().iter().step_by(3).collect();
        json!({"slots": kept}).to_string()
    });
    set_api(
        app,
        &cal,
        json!({"url": agenda.url, "external_calendar_id": 7}),
    )
    .await;

    let mut p = Patient::new(app).await;
    p.says("hola").await;
    let list = p.presses("book").await;
    let every_third: Vec<i64> = own.iter().step_by(3).copied().take(8).collect();
    assert_eq!(offered(&list[0]), every_third, "{}", list[0]);
    assert_eq!(agenda.received().len(), 1, "the bot asked the other agenda");
    assert_eq!(agenda.received()[0].json()["calendar_id"], 7);

    // Picking one of them holds exactly that start.
    let slot = row_ids(&list[0])[1].clone();
    let name_q = p.picks_row(&slot).await;
    assert!(
        body_text(&name_q[0]).starts_with("¿A nombre de quién"),
        "{}",
        name_q[0]
    );
    let held = app
        .count(&format!(
            "SELECT COUNT(*) FROM bookings WHERE status = 'held' AND start_at = {}",
            every_third[1]
        ))
        .await;
    assert_eq!(held, 1);

    // The other agenda fails: the bot offers turnero's own slots and the reason is kept.
    agenda.answer(503);
    p.says("menu").await;
    let list = p.presses("book").await;
    let mine = offered(&list[0]);
    assert_eq!(
        mine[..2],
        own[..2],
        "turnero's own first slots: {}",
        list[0]
    );
    eventually(
        app,
        &format!("SELECT COUNT(*) FROM availability_fallbacks WHERE calendar_id = '{cal}' AND reason = 'http_status'"),
        1,
    )
    .await;
}

crate::on_both_backends!(
    the_bot_offers_what_the_external_agenda_answers_and_falls_back_when_it_fails,
    only_what_the_external_agenda_keeps_is_offered,
    a_slow_failing_or_garbage_answering_agenda_falls_back_and_says_why,
    a_dead_agenda_is_left_alone_after_five_failures_and_probed_again_later,
    bad_settings_are_refused_and_change_nothing,
);

crate::with_each_backend!(one_turnero_consults_another_and_sends_it_its_bookings);
