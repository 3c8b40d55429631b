//! Sign-ins are limited per address too: accounts lock after five wrong passwords, and one
//! address trying many accounts at once is told to wait (429 with Retry-After), while
//! another address still signs in.

use futures::future::join_all;
use reqwest::StatusCode;

use crate::common::TestApp;
use crate::console::{receptionist, Browser, PASSWORD};

async fn one_address_trying_many_accounts_is_told_to_wait_and_another_is_not(app: &TestApp) {
    receptionist(app).await;
    let base = app.server.url();
    let tries = (0..14).map(|i| {
        let base = base.clone();
        async move {
            let mut b = Browser::new(&base);
            b.sign_in(&format!("nadie{i}@clinica.example"), "una-clave-cualquiera")
                .await
        }
    });
    let answers = join_all(tries).await;
    let refused: Vec<_> = answers
        .iter()
        .filter(|a| a.status == StatusCode::TOO_MANY_REQUESTS)
        .collect();
    let wrong = answers
        .iter()
        .filter(|a| a.status == StatusCode::UNAUTHORIZED)
        .count();
    assert_eq!(refused.len() + wrong, 14);
    assert!(refused.len() >= 3, "{} refused", refused.len());
    assert!(wrong <= 11, "{wrong} tried");
    assert!(refused[0].headers.contains_key("retry-after"));
    assert!(
        refused[0]
            .body
            .contains("Demasiados intentos desde esta conexión"),
        "{}",
        refused[0].body
    );

    // The right password from this address waits too; from another address it goes in.
    let mut here = Browser::new(&base);
    let waited = here.sign_in("recepcion@clinica.example", PASSWORD).await;
    assert_eq!(waited.status, StatusCode::TOO_MANY_REQUESTS);
    let mut there = Browser::new(&base);
    let form = there.get("/console/login").await;
    let cookie = there
        .cookies
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("; ");
    let signed = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(format!("{base}/console/login"))
        .header("cookie", cookie)
        // Behind the clinic's proxy: the visitor's own address.
        .header("x-forwarded-for", "203.0.113.9")
        .form(&[
            ("email", "recepcion@clinica.example"),
            ("password", PASSWORD),
            ("csrf", form.field("csrf").as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(signed.status(), StatusCode::SEE_OTHER);
}

crate::on_both_backends!(one_address_trying_many_accounts_is_told_to_wait_and_another_is_not,);
