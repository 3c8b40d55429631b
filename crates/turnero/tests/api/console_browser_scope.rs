//! What the console refuses, in real Chromium: a professional asking for another's calendar
//! by URL, a form sent without its CSRF token, and another clinic's session cookie each open
//! nothing; the refusal pages pass axe too. On a phone's screen no page is wider than it
//! (the week's table scrolls inside its own box).

use fantoccini::Locator;
use turnero::agenda::staff::Role;

use crate::common::{Backend, TestApp};
use crate::console::{staff_user, tenant_of, two_calendars, Browser, PASSWORD};
use crate::console_browser::{
    axe_source, click, no_serious_accessibility_problems, sign_in_as, wait_for,
};
use crate::webchat::{browser, chromedriver};

const BODY: &str = "return document.body.textContent";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_calendar_a_forged_form_and_another_clinics_cookie_open_nothing_in_chromium() {
    let app = TestApp::start(Backend::Sqlite).await;
    let axe = axe_source();
    let tenant = tenant_of(&app, &app.key).await;
    let ((own, _), (other, other_svc)) = two_calendars(&app).await;
    staff_user(
        &app,
        &tenant,
        "ana@clinica.example",
        Role::Professional,
        &[&own],
    )
    .await;
    let (_, theirs) = app
        .book(&other, &other_svc, "2030-01-08T13:00:00Z", "+5491155667788")
        .await;
    let theirs = theirs["id"].as_str().unwrap().to_string();

    let driver = chromedriver().await;
    let c = browser(&driver).await;
    let base = app.server.url();
    sign_in_as(&c, &base, "ana@clinica.example").await;

    // Dr. Costa's calendar and his patient's booking, asked for by URL.
    for path in [
        format!("/console/agenda?date=2030-01-08&calendar={other}"),
        format!("/console/bookings/{theirs}"),
        format!("/console/calendars/{other}"),
    ] {
        c.goto(&format!("{base}{path}")).await.unwrap();
        wait_for(
            &c,
            "not found",
            |b| b.contains("No existe o no tenés acceso"),
            BODY,
        )
        .await;
        let body = c.execute(BODY, vec![]).await.unwrap();
        assert!(!body.as_str().unwrap().contains("+5491155667788"), "{path}");
    }
    no_serious_accessibility_problems(&c, &axe, "not found").await;

    // A form whose token was taken out: refused, nothing made.
    c.goto(&format!("{base}/console/feed")).await.unwrap();
    c.execute(
        "document.querySelector('form[action=\"/console/feed\"] input[name=csrf]').remove()",
        vec![],
    )
    .await
    .unwrap();
    click(&c, Locator::Id("new-feed")).await;
    wait_for(
        &c,
        "the refusal",
        |b| b.contains("El formulario venció"),
        BODY,
    )
    .await;
    assert_eq!(app.count("SELECT COUNT(*) FROM staff_feeds").await, 0);
    no_serious_accessibility_problems(&c, &axe, "refused form").await;

    // Another clinic's admin's session cookie, put in this browser: nothing of this clinic.
    let other_key = app.new_tenant("Otra Clínica").await;
    let other_tenant = tenant_of(&app, &other_key).await;
    staff_user(&app, &other_tenant, "admin@otra.example", Role::Admin, &[]).await;
    let mut theirs_browser = Browser::new(&base);
    theirs_browser.sign_in("admin@otra.example", PASSWORD).await;
    let session = theirs_browser.cookies["turnero_session"].clone();
    c.goto(&format!("{base}/console/login")).await.unwrap();
    c.delete_all_cookies().await.unwrap();
    c.execute(
        &format!("document.cookie = 'turnero_session={session}; path=/console'"),
        vec![],
    )
    .await
    .unwrap();
    c.goto(&format!("{base}/console/bookings/{theirs}"))
        .await
        .unwrap();
    wait_for(
        &c,
        "not found",
        |b| b.contains("No existe o no tenés acceso"),
        BODY,
    )
    .await;
    c.goto(&format!("{base}/console/agenda?date=2030-01-08"))
        .await
        .unwrap();
    wait_for(
        &c,
        "the other clinic's agenda",
        |b| b.contains("admin@otra.example"),
        BODY,
    )
    .await;
    let body = c.execute(BODY, vec![]).await.unwrap();
    let body = body.as_str().unwrap();
    assert!(
        !body.contains("Ana Pérez") && !body.contains("Bruno Costa"),
        "{body}"
    );
    c.close().await.unwrap();
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_phone_screen_no_console_page_is_wider_than_the_screen() {
    let app = TestApp::start(Backend::Sqlite).await;
    let tenant = tenant_of(&app, &app.key).await;
    staff_user(&app, &tenant, "admin@clinica.example", Role::Admin, &[]).await;
    let (cal, svc) = app.clinic().await;
    let (_, booked) = app
        .book(&cal, &svc, "2030-01-08T13:00:00Z", "+5491155667788")
        .await;
    let id = booked["id"].as_str().unwrap().to_string();
    let driver = chromedriver().await;
    let c = browser(&driver).await;
    // A common phone's viewport, 390 CSS pixels wide.
    c.set_window_size(390, 844).await.unwrap();
    let base = app.server.url();
    sign_in_as(&c, &base, "admin@clinica.example").await;
    let overflow = "return String(document.documentElement.scrollWidth - window.innerWidth)";
    for path in [
        "/console/agenda?date=2030-01-08&view=day".to_string(),
        format!("/console/bookings/{id}"),
        format!("/console/calendars/{cal}"),
        "/console/conversations".to_string(),
        "/console/campaigns".to_string(),
        "/console/staff".to_string(),
        "/console/services".to_string(),
        "/console/agenda?date=2030-01-08&view=week".to_string(),
        "/console/keys".to_string(),
        "/console/customers?q=Paciente".to_string(),
        "/console/feed".to_string(),
        "/console/channels".to_string(),
    ] {
        c.goto(&format!("{base}{path}")).await.unwrap();
        // What sticks out, to say so when something does.
        let wide = c
            .execute(
                "return Array.from(document.querySelectorAll('body *'))\
                 .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)\
                 .map(e => e.tagName + '.' + e.className).slice(0, 6).join(' ')",
                vec![],
            )
            .await
            .unwrap();
        wait_for(
            &c,
            &format!("{path} fitting the screen (wider: {wide})"),
            |n| n.parse::<i64>().is_ok_and(|n| n <= 0),
            overflow,
        )
        .await;
    }
    c.close().await.unwrap();
    app.finish().await;
}
