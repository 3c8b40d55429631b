//! API keys in the console: an admin makes a key (shown once, and it works on the API),
//! revokes it (it stops working), and cannot revoke the clinic's last key. Admins only.

use reqwest::{Method, StatusCode};
use turnero::agenda::staff::Role;

use crate::common::TestApp;
use crate::console::{receptionist, staff_user, tenant_of, Browser, PASSWORD};

/// The ids in the page's revoke buttons, in order.
fn key_ids(body: &str) -> Vec<String> {
    let body = body.replace("&#x2f;", "/");
    body.split("action=\"/console/keys/")
        .skip(1)
        .map(|rest| rest[..rest.find('/').unwrap()].to_string())
        .collect()
}

async fn an_admin_makes_a_key_that_works_revokes_it_and_keeps_the_last(app: &TestApp) {
    let tenant = tenant_of(app, &app.key).await;
    staff_user(app, &tenant, "admin@clinica.example", Role::Admin, &[]).await;
    let mut browser = Browser::new(&app.server.url());
    browser.sign_in("admin@clinica.example", PASSWORD).await;
    let page = browser.get("/console/keys").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(key_ids(&page.body).len(), 1);
    assert!(
        page.body.contains(&app.key[..8]),
        "its first characters: {}",
        page.body
    );
    assert!(!page.body.contains(&app.key), "never the key itself");
    let csrf = page.field("csrf");

    let made = browser
        .post("/console/keys", &[("csrf", &csrf), ("name", "AsisteClick")])
        .await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.body);
    let at = made.body.find("id=\"new-key\"").unwrap();
    let rest = &made.body[at..];
    let value = &rest[rest.find("value=\"").unwrap() + 7..];
    let key = value[..value.find('"').unwrap()].to_string();
    assert!(key.starts_with("trn_"), "{key}");
    let (status, _) = app.call_as(&key, Method::GET, "/api/v1/tenant", None).await;
    assert_eq!(status, StatusCode::OK, "the new key works");
    assert!(
        !browser.get("/console/keys").await.body.contains(&key),
        "shown once"
    );

    let ids = key_ids(&browser.get("/console/keys").await.body);
    assert_eq!(ids.len(), 2);
    let revoked = browser
        .post(
            &format!("/console/keys/{}/revoke", ids[1]),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER);
    let (status, _) = app.call_as(&key, Method::GET, "/api/v1/tenant", None).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "revoked everywhere at once"
    );
    let last = browser
        .post(
            &format!("/console/keys/{}/revoke", ids[0]),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(last.status, StatusCode::CONFLICT);
    assert!(last.body.contains("última clave"), "{}", last.body);
    let (status, _) = app.get("/api/v1/tenant").await;
    assert_eq!(status, StatusCode::OK);
    let nameless = browser
        .post("/console/keys", &[("csrf", &csrf), ("name", " ")])
        .await;
    assert_eq!(nameless.status, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn only_admins_see_the_keys(app: &TestApp) {
    receptionist(app).await;
    let mut browser = Browser::new(&app.server.url());
    browser.sign_in("recepcion@clinica.example", PASSWORD).await;
    assert_eq!(
        browser.get("/console/keys").await.status,
        StatusCode::NOT_FOUND
    );
    let csrf = browser.csrf().await;
    let made = browser
        .post("/console/keys", &[("csrf", &csrf), ("name", "x")])
        .await;
    assert_eq!(made.status, StatusCode::NOT_FOUND);
    assert_eq!(app.count("SELECT COUNT(*) FROM api_keys").await, 1);
}

crate::on_both_backends!(
    an_admin_makes_a_key_that_works_revokes_it_and_keeps_the_last,
    only_admins_see_the_keys,
);
