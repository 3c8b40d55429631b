//! The clinic's team in the console: an admin adds a professional (password shown once, the
//! account signs in and sees only its calendar), gives someone a new password (their old
//! sessions end), removes an account, and cannot remove the last admin. Anyone picks their
//! own language.

use reqwest::StatusCode;
use turnero::agenda::staff::Role;

use crate::common::TestApp;
use crate::console::{receptionist, staff_user, tenant_of, two_calendars, Browser, PASSWORD};

/// The password the page shows once.
fn shown_password(body: &str) -> String {
    let at = body
        .find("id=\"new-password\"")
        .expect("a password is shown");
    let rest = &body[at..];
    let value = &rest[rest.find("value=\"").unwrap() + 7..];
    value[..value.find('"').unwrap()].to_string()
}

/// The id in the row of `email`'s buttons.
fn row_id(body: &str, email: &str) -> String {
    let row = &body[body
        .find(&format!("<td>{email}"))
        .expect("the person's row")..];
    let at = row.find("/console/staff/").unwrap() + "/console/staff/".len();
    let rest = row[at..].replace("&#x2f;", "/");
    rest[..rest.find('/').unwrap()].to_string()
}

async fn an_admin_adds_a_professional_resets_a_password_and_removes_an_account(app: &TestApp) {
    let tenant = tenant_of(app, &app.key).await;
    let ((own, _), (other, _)) = two_calendars(app).await;
    staff_user(app, &tenant, "admin@clinica.example", Role::Admin, &[]).await;
    receptionist(app).await;
    let mut admin = Browser::new(&app.server.url());
    admin.sign_in("admin@clinica.example", PASSWORD).await;
    let page = admin.get("/console/staff").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("recepcion@clinica.example"),
        "{}",
        page.body
    );
    let csrf = page.field("csrf");

    // A professional with her own calendar: the password is shown once and works.
    let added = admin
        .post(
            "/console/staff",
            &[
                ("csrf", &csrf),
                ("email", "Ana@Clinica.example "),
                ("role", "professional"),
                ("calendar", &own),
                ("locale", "pt"),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.body);
    let password = shown_password(&added.body);
    assert!(password.len() >= 10);
    assert!(
        added.body.contains("Dra. Ana Pérez"),
        "her calendar: {}",
        added.body
    );
    let mut ana = Browser::new(&app.server.url());
    let signed = ana.sign_in("ana@clinica.example", &password).await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER);
    let agenda = ana.get("/console/agenda").await;
    assert!(agenda.body.contains("lang=\"pt-BR\""), "her language");
    assert!(agenda.body.contains("Dra. Ana Pérez"));
    assert!(
        !agenda.body.contains("Dr. Bruno Costa"),
        "only her calendar"
    );
    assert!(
        !admin
            .get("/console/staff")
            .await
            .body
            .contains("new-password"),
        "shown once"
    );
    // The same email again, and an email that is none: refused, nothing written.
    let again = admin
        .post(
            "/console/staff",
            &[
                ("csrf", &csrf),
                ("email", "ana@clinica.example"),
                ("role", "reception"),
                ("locale", "es"),
            ],
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(again.body.contains("Ya hay una cuenta"), "{}", again.body);
    let bad = admin
        .post(
            "/console/staff",
            &[
                ("csrf", &csrf),
                ("email", "ana"),
                ("role", "reception"),
                ("locale", "es"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let bad_role = admin
        .post(
            "/console/staff",
            &[
                ("csrf", &csrf),
                ("email", "x@clinica.example"),
                ("role", "owner"),
                ("locale", "es"),
            ],
        )
        .await;
    assert_eq!(bad_role.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.count("SELECT COUNT(*) FROM staff_users").await, 3);
    let _ = other;

    // A new password for Ana: her session ends, the new password works, the old does not.
    let list = admin.get("/console/staff").await.body;
    let ana_id = row_id(&list, "ana@clinica.example");
    let reset = admin
        .post(
            &format!("/console/staff/{ana_id}/password"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(reset.status, StatusCode::OK, "{}", reset.body);
    let fresh = shown_password(&reset.body);
    assert_ne!(fresh, password);
    let ended = ana.get("/console/agenda").await;
    assert_eq!(ended.status, StatusCode::SEE_OTHER, "signed out");
    let mut ana = Browser::new(&app.server.url());
    assert_eq!(
        ana.sign_in("ana@clinica.example", &fresh).await.status,
        StatusCode::SEE_OTHER
    );

    // Removed: her sessions end and she cannot sign in again.
    let removed = admin
        .post(
            &format!("/console/staff/{ana_id}/remove"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER);
    assert_eq!(
        ana.get("/console/agenda").await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM staff_sessions s JOIN staff_users u ON u.id = s.user_id WHERE u.email = 'ana@clinica.example'").await,
        0
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM staff_users").await, 2);

    // The last admin stays.
    let me = row_id(
        &admin.get("/console/staff").await.body,
        "admin@clinica.example",
    );
    let last = admin
        .post(&format!("/console/staff/{me}/remove"), &[("csrf", &csrf)])
        .await;
    assert_eq!(last.status, StatusCode::CONFLICT);
    assert!(last.body.contains("al menos una persona"), "{}", last.body);
    assert_eq!(app.count("SELECT COUNT(*) FROM staff_users").await, 2);
}

async fn anyone_picks_their_own_language_and_only_admins_manage_the_team(app: &TestApp) {
    receptionist(app).await;
    let mut browser = Browser::new(&app.server.url());
    browser.sign_in("recepcion@clinica.example", PASSWORD).await;
    let csrf = browser.csrf().await;
    let changed = browser
        .post("/console/language", &[("csrf", &csrf), ("locale", "en")])
        .await;
    assert_eq!(changed.status, StatusCode::SEE_OTHER);
    let agenda = browser.get("/console/agenda").await;
    assert!(agenda.body.contains("lang=\"en\""));
    assert!(agenda.body.contains("Sign out"), "{}", agenda.body);
    let bad = browser
        .post("/console/language", &[("csrf", &csrf), ("locale", "fr")])
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let forged = browser.post("/console/language", &[("locale", "pt")]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(browser
        .get("/console/agenda")
        .await
        .body
        .contains("lang=\"en\""));

    assert_eq!(
        browser.get("/console/staff").await.status,
        StatusCode::NOT_FOUND
    );
    let posted = browser
        .post(
            "/console/staff",
            &[
                ("csrf", &csrf),
                ("email", "x@clinica.example"),
                ("role", "admin"),
                ("locale", "es"),
            ],
        )
        .await;
    assert_eq!(posted.status, StatusCode::NOT_FOUND);
    assert_eq!(app.count("SELECT COUNT(*) FROM staff_users").await, 1);
}

crate::on_both_backends!(
    an_admin_adds_a_professional_resets_a_password_and_removes_an_account,
    anyone_picks_their_own_language_and_only_admins_manage_the_team,
);
