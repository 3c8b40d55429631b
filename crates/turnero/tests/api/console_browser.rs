//! The console in real Chromium (Debian's, through chromedriver, as the web chat's test): a
//! receptionist opens a bookmarked day, signs in, lands back on that day, books a patient
//! into a free time, moves another to Wednesday from its page and cancels the new one, all by
//! clicking and typing; an admin reads a failing webhook's histogram, takes over a WhatsApp
//! conversation and answers it (the patient's reply appears without reloading), makes a
//! calendar feed and imports a broken flow, seeing its problems by path; the team and a
//! calendar's hours, the campaigns, the week, the channels, the keys, the services and the
//! customers pass axe too. axe-core (npm, `tests/browser`) finds no serious or critical accessibility problem
//! on any of those pages.

use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};

use serde_json::json;
use turnero::agenda::staff::Role;

use crate::common::{Backend, TestApp};
use crate::console::{receptionist, staff_user, tenant_of};
use crate::patient::Patient;
use crate::receiver::Receiver;
use crate::webchat::{browser, chromedriver};
use crate::webhooks::subscribe;

/// axe-core's script, installed by `npm ci --prefix crates/turnero/tests/browser` (`.ci/run`).
pub(crate) fn axe_source() -> String {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/browser/node_modules/axe-core/axe.min.js"
    );
    std::fs::read_to_string(path).unwrap_or_else(|e| {
        panic!("{path}: {e} (npm ci --prefix crates/turnero/tests/browser installs axe-core)")
    })
}

/// Runs axe-core in the page; fails on any serious or critical violation.
pub(crate) async fn no_serious_accessibility_problems(c: &Client, axe: &str, page: &str) {
    c.execute(axe, vec![]).await.expect("axe-core loads");
    let found = c
        .execute_async(
            "const done = arguments[arguments.length - 1];\
             axe.run(document).then(r => done(r.violations\
               .filter(v => v.impact === 'serious' || v.impact === 'critical')\
               .map(v => v.id + ': ' + v.help + ' (' + v.nodes.length + ')')))\
               .catch(e => done(['axe failed: ' + e]));",
            vec![],
        )
        .await
        .expect("axe-core runs");
    let problems: Vec<String> = serde_json::from_value(found).unwrap();
    assert!(problems.is_empty(), "{page}: {problems:?}");
}

/// Signs in through the form, as a person does, and waits for the agenda.
pub(crate) async fn sign_in_as(c: &Client, base: &str, email: &str) {
    c.goto(&format!("{base}/console/login")).await.unwrap();
    type_into(c, "email", email).await;
    type_into(c, "password", crate::console::PASSWORD).await;
    click(c, Locator::Id("sign-in")).await;
    wait_for(
        c,
        "the agenda",
        |p| p == "/console/agenda",
        "return location.pathname",
    )
    .await;
}

pub(crate) async fn click(c: &Client, what: Locator<'_>) {
    c.find(what).await.unwrap().click().await.unwrap();
}

pub(crate) async fn type_into(c: &Client, id: &str, text: &str) {
    let field = c.find(Locator::Id(id)).await.unwrap();
    field.send_keys(text).await.unwrap();
}

pub(crate) async fn wait_for(c: &Client, what: &str, ok: impl Fn(String) -> bool, read: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let now = c
            .execute(read, vec![])
            .await
            .map(|v| v.as_str().unwrap_or("").to_string());
        if let Ok(v) = now {
            if ok(v) {
                return;
            }
        }
        assert!(Instant::now() < deadline, "{what} did not happen");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receptionist_signs_in_books_a_free_time_moves_another_and_cancels_by_clicking() {
    let app = TestApp::start(Backend::Sqlite).await;
    let axe = axe_source();
    receptionist(&app).await;
    let (cal, svc) = app.clinic().await;
    let (_, booked) = app
        .book(&cal, &svc, "2030-01-08T13:00:00Z", "+5491155667788")
        .await;
    let id = booked["id"].as_str().unwrap().to_string();

    let driver = chromedriver().await;
    let c = browser(&driver).await;
    let base = app.server.url();
    c.goto(&format!("{base}/console/agenda?date=2030-01-08&view=day"))
        .await
        .unwrap();
    assert!(c
        .current_url()
        .await
        .unwrap()
        .path()
        .ends_with("/console/login"));
    no_serious_accessibility_problems(&c, &axe, "sign-in").await;
    type_into(&c, "email", "recepcion@clinica.example").await;
    type_into(&c, "password", "una-clave-larga-123").await;
    click(&c, Locator::Id("sign-in")).await;
    // Back on the day that was asked for.
    wait_for(
        &c,
        "landing on the bookmarked day",
        |url| url.contains("/console/agenda?date=2030-01-08"),
        "return location.pathname + location.search",
    )
    .await;
    let status = format!("return document.querySelector('li[id=\"{id}\"] .status').textContent");
    wait_for(
        &c,
        "the booking shown as pending",
        |s| s == "pendiente",
        &status,
    )
    .await;
    no_serious_accessibility_problems(&c, &axe, "agenda").await;

    // A patient on the phone: the first free time, their name and number.
    click(&c, Locator::Css(".free-times button")).await;
    wait_for(
        &c,
        "the booking form",
        |p| p == "/console/book",
        "return location.pathname",
    )
    .await;
    no_serious_accessibility_problems(&c, &axe, "booking form").await;
    type_into(&c, "name", "Juana Díaz").await;
    type_into(&c, "phone", "11 4433-2211").await;
    click(&c, Locator::Id("book")).await;
    wait_for(
        &c,
        "back on the day with the new booking",
        |h| h.starts_with("#bkg_"),
        "return location.hash",
    )
    .await;
    let hash = c.execute("return location.hash", vec![]).await.unwrap();
    let made = hash.as_str().unwrap().trim_start_matches('#').to_string();
    let made_status =
        format!("return document.querySelector('li[id=\"{made}\"] .status').textContent");
    wait_for(
        &c,
        "the new booking shown as pending",
        |s| s == "pendiente",
        &made_status,
    )
    .await;
    let (_, stored) = app.get(&format!("/api/v1/bookings/{made}")).await;
    assert_eq!(stored["start"], "2030-01-08T12:00:00Z");
    // A Buenos Aires landline, read with the clinic's region.
    assert_eq!(stored["customer"]["phone"], "+541144332211");

    // The patient booked by the API calls to move: their page, Wednesday's free times, 11:00.
    click(&c, Locator::Css(&format!("li[id=\"{id}\"] a.who"))).await;
    wait_for(
        &c,
        "the booking's page",
        |p| p.ends_with(&id),
        "return location.pathname",
    )
    .await;
    no_serious_accessibility_problems(&c, &axe, "booking page").await;
    c.execute(
        "document.getElementById('date').value = '2030-01-09'",
        vec![],
    )
    .await
    .unwrap();
    click(&c, Locator::Css("form.toolbar button")).await;
    let eleven = "button[name=\"start\"][value=\"2030-01-09T14:00:00Z\"]";
    wait_for(
        &c,
        "Wednesday's free times",
        |n| n == "1",
        &format!("return String(document.querySelectorAll('{eleven}').length)"),
    )
    .await;
    click(&c, Locator::Css(eleven)).await;
    wait_for(
        &c,
        "the page showing the new time",
        |h| h.contains("mié 09/01 11:00"),
        "return document.querySelector('h1').textContent",
    )
    .await;
    let (_, moved) = app.get(&format!("/api/v1/bookings/{id}")).await;
    assert_eq!(moved["start"], "2030-01-09T14:00:00Z");
    c.goto(&format!("{base}/console/agenda?date=2030-01-08&view=day"))
        .await
        .unwrap();

    // And the new one canceled again, by its button.
    click(
        &c,
        Locator::Css(&format!("li[id=\"{made}\"] button.cancel")),
    )
    .await;
    wait_for(
        &c,
        "the booking shown as canceled",
        |s| s == "cancelado",
        &made_status,
    )
    .await;
    let (_, stored) = app.get(&format!("/api/v1/bookings/{made}")).await;
    assert_eq!(stored["status"], "canceled");
    let (_, untouched) = app.get(&format!("/api/v1/bookings/{id}")).await;
    assert_eq!(untouched["status"], "pending");
    assert_eq!(untouched["start"], "2030-01-09T14:00:00Z");
    c.close().await.unwrap();
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_reads_a_webhooks_histogram_answers_a_conversation_makes_a_feed_and_imports_a_broken_flow(
) {
    let app = TestApp::start(Backend::Sqlite).await;
    let axe = axe_source();
    let tenant = tenant_of(&app, &app.key).await;
    staff_user(&app, &tenant, "admin@clinica.example", Role::Admin, &[]).await;
    let rx = Receiver::start().await;
    rx.answer(500);
    let hook = subscribe(&app, &rx.url, json!({"event_types": ["customer.created"]})).await;
    let id = hook["id"].as_str().unwrap().to_string();
    for i in 0..2 {
        app.post(
            "/api/v1/customers",
            json!({"name": format!("C{i}"), "phone": format!("+549115555050{i}")}),
        )
        .await;
    }
    rx.wait_for(2, 10).await;

    let driver = chromedriver().await;
    let c = browser(&driver).await;
    let base = app.server.url();
    sign_in_as(&c, &base, "admin@clinica.example").await;
    click(&c, Locator::Css("a[href=\"/console/webhooks\"]")).await;
    wait_for(
        &c,
        "the integrations",
        |p| p == "/console/webhooks",
        "return location.pathname",
    )
    .await;
    no_serious_accessibility_problems(&c, &axe, "integrations").await;
    click(
        &c,
        Locator::Css(&format!("a[href=\"/console/webhooks/{id}\"]")),
    )
    .await;
    // The chart is drawn, wide, with two red error parts between its bars.
    let red = "return String(document.querySelectorAll('svg.chart rect[fill=\"#c62828\"]').length)";
    wait_for(&c, "the histogram's error bars", |n| n != "0", red).await;
    let width = c
        .execute(
            "return document.querySelector('svg.chart').getBoundingClientRect().width",
            vec![],
        )
        .await
        .unwrap();
    assert!(width.as_f64().unwrap() > 200.0, "{width}");
    let errors = c
        .execute(
            "return Array.from(document.querySelectorAll('svg.chart rect[fill=\"#c62828\"] title'))\
             .map(t => Number(t.textContent.split(': ')[1])).reduce((a, b) => a + b, 0)",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(errors.as_f64(), Some(2.0));
    no_serious_accessibility_problems(&c, &axe, "webhook").await;

    // A patient on WhatsApp: the admin takes the conversation over and answers; the
    // patient's next message appears without reloading.
    let (cal, _) = app.clinic().await;
    let mut p = Patient::new(&app).await;
    p.says("hola").await;
    click(&c, Locator::Css("a[href=\"/console/conversations\"]")).await;
    wait_for(
        &c,
        "the inbox",
        |n| n == "1",
        "return String(document.querySelectorAll('.inbox li').length)",
    )
    .await;
    no_serious_accessibility_problems(&c, &axe, "inbox").await;
    click(&c, Locator::Css(".inbox li a")).await;
    click(&c, Locator::Id("take")).await;
    wait_for(
        &c,
        "the conversation taken over",
        |n| n == "1",
        "return String(document.querySelectorAll('#release').length)",
    )
    .await;
    no_serious_accessibility_problems(&c, &axe, "conversation").await;
    type_into(&c, "text", "Hola, le escribe la recepción.").await;
    click(&c, Locator::Id("send")).await;
    let transcript = "return document.querySelector('.transcript').textContent";
    wait_for(
        &c,
        "the answer in the transcript",
        |t| t.contains("le escribe la recepción"),
        transcript,
    )
    .await;
    let got = p.graph.wait_for(2, 5).await;
    assert_eq!(got[1]["text"]["body"], "Hola, le escribe la recepción.");
    p.says("¿Me confirma el turno?").await;
    wait_for(
        &c,
        "the patient's new message, without reloading",
        |t| t.contains("¿Me confirma el turno?"),
        transcript,
    )
    .await;

    // The calendar feed: made by a click, its address shown in the page.
    c.goto(&format!("{base}/console/feed")).await.unwrap();
    no_serious_accessibility_problems(&c, &axe, "feed").await;
    click(&c, Locator::Id("new-feed")).await;
    wait_for(
        &c,
        "the feed's address",
        |u| u.ends_with(".ics"),
        "const f = document.getElementById('feed-url'); return f ? f.value : ''",
    )
    .await;
    no_serious_accessibility_problems(&c, &axe, "feed made").await;

    // A broken flow imported: every problem listed by its path, the document kept.
    click(&c, Locator::Css("a[href=\"/console/flows\"]")).await;
    wait_for(
        &c,
        "the flow's editor",
        |n| n == "1",
        "return String(document.querySelectorAll('#document').length)",
    )
    .await;
    c.execute(
        "const d = document.getElementById('document'); const f = JSON.parse(d.value);\
         f.start = 'nowhere'; f.steps.book.next = 'missing'; d.value = JSON.stringify(f, null, 2);",
        vec![],
    )
    .await
    .unwrap();
    click(&c, Locator::Id("import")).await;
    let problems = "return Array.from(document.querySelectorAll('.problems li code'))\
                    .map(c => c.textContent).sort().join(',')";
    wait_for(
        &c,
        "the flow's problems by path",
        |p| p == "start,steps.book.next",
        problems,
    )
    .await;
    let kept = c
        .execute(
            "return JSON.parse(document.getElementById('document').value).start",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(kept, "nowhere", "the typed document stays in the editor");
    no_serious_accessibility_problems(&c, &axe, "flow problems").await;

    // The settings pages: the team, a calendar's hours and time off; the campaigns, with a
    // rule's outcome chart.
    let (status, _) = app
        .post(
            "/api/v1/notification-rules",
            json!({"name": "Recordatorio", "when": {"before_start": "PT2H"}, "channels": ["whatsapp"]}),
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::CREATED);
    for (page, path) in [
        ("team", "/console/staff".to_string()),
        ("calendar", format!("/console/calendars/{cal}")),
        ("campaigns", "/console/campaigns".to_string()),
        (
            "week",
            "/console/agenda?date=2030-01-08&view=week".to_string(),
        ),
        ("channels", "/console/channels".to_string()),
        ("keys", "/console/keys".to_string()),
        ("services", "/console/services".to_string()),
        ("customers", "/console/customers?q=C0".to_string()),
    ] {
        c.goto(&format!("{base}{path}")).await.unwrap();
        wait_for(
            &c,
            page,
            |p| p == path,
            "return location.pathname + location.search",
        )
        .await;
        no_serious_accessibility_problems(&c, &axe, page).await;
    }

    // The session ends while the conversation is open: the transcript stays as it was
    // (the refresh gets the sign-in page, which is not put in its place).
    c.goto(&format!("{base}/console/conversations"))
        .await
        .unwrap();
    click(&c, Locator::Css(".inbox li a")).await;
    wait_for(
        &c,
        "the conversation again",
        |t| t.contains("¿Me confirma el turno?"),
        transcript,
    )
    .await;
    sqlx::query("DELETE FROM staff_sessions")
        .execute(&app.server.db.write)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(3_500)).await;
    let kept = c.execute(transcript, vec![]).await.unwrap();
    assert!(
        kept.as_str().unwrap().contains("¿Me confirma el turno?"),
        "{kept}"
    );
    c.close().await.unwrap();
    app.finish().await;
}
