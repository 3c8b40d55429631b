//! The bot's flow in the console: shown as its JSON document, imported after editing, a
//! broken import shown with every problem by path (and the typed document kept), set back
//! to the built-in flow. Admins only.

use reqwest::StatusCode;
use serde_json::{json, Value};
use turnero::agenda::staff::Role;

use crate::common::TestApp;
use crate::console::{receptionist, staff_user, tenant_of, Browser, PASSWORD};

/// The editor's text, as the page holds it.
fn document(body: &str) -> String {
    let at = body.find("id=\"document\"").expect("the editor");
    let rest = &body[at..];
    let text = &rest[rest.find('>').unwrap() + 1..rest.find("</textarea>").unwrap()];
    text.replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#x2f;", "/")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

async fn signed_in_admin(app: &TestApp) -> Browser {
    let tenant = tenant_of(app, &app.key).await;
    staff_user(app, &tenant, "admin@clinica.example", Role::Admin, &[]).await;
    let mut browser = Browser::new(&app.server.url());
    browser.sign_in("admin@clinica.example", PASSWORD).await;
    browser
}

async fn an_admin_imports_an_edited_flow_and_a_broken_one_shows_its_problems_by_path(
    app: &TestApp,
) {
    let mut browser = signed_in_admin(app).await;
    let page = browser.get("/console/flows").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("flujo incluido"), "{}", page.body);
    let flow: Value = serde_json::from_str(&document(&page.body)).expect("the document is JSON");
    assert_eq!(flow["language"], "es");
    let download = browser.get("/console/flows/flow.json").await;
    assert_eq!(download.status, StatusCode::OK);
    let downloaded: Value = serde_json::from_str(&download.body).unwrap();
    assert_eq!(downloaded, flow);
    let csrf = page.field("csrf");

    let mut bad = flow.clone();
    bad["start"] = json!("nowhere");
    bad["steps"]["book"]["next"] = json!("missing");
    let bad_text = serde_json::to_string_pretty(&bad).unwrap();
    let refused = browser
        .post(
            "/console/flows",
            &[("csrf", &csrf), ("document", &bad_text)],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    for path in ["<code>start</code>", "<code>steps.book.next</code>"] {
        assert!(refused.body.contains(path), "{path}: {}", refused.body);
    }
    assert!(refused.body.contains("(2)"), "{}", refused.body);
    assert_eq!(document(&refused.body), bad_text, "what was typed is kept");
    assert_eq!(app.count("SELECT COUNT(*) FROM flows").await, 0);
    // Not JSON at all: one problem, at the root.
    let junk = browser
        .post("/console/flows", &[("csrf", &csrf), ("document", "{ oops")])
        .await;
    assert_eq!(junk.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(junk.body.contains("(1)"), "{}", junk.body);

    // Edited and imported: the API exports the new version.
    // The first of the bot's messages, reworded.
    let mut good = flow.clone();
    let key = flow["messages"]
        .as_object()
        .unwrap()
        .iter()
        .find(|(_, v)| v.is_string())
        .map(|(k, _)| k.clone())
        .expect("a message");
    good["messages"][&key] = json!("Turnos de la clínica: ¿en qué ayudamos?");
    let imported = browser
        .post(
            "/console/flows",
            &[
                ("csrf", &csrf),
                ("document", &serde_json::to_string_pretty(&good).unwrap()),
            ],
        )
        .await;
    assert_eq!(imported.status, StatusCode::SEE_OTHER, "{}", imported.body);
    let after = browser
        .get(&imported.location().replace("&#x2f;", "/"))
        .await;
    assert!(after.body.contains("versión 1"), "{}", after.body);
    let (_, exported) = app.get("/api/v1/flows/main").await;
    assert_eq!(
        exported["messages"][&key], "Turnos de la clínica: ¿en qué ayudamos?",
        "{exported}"
    );

    // Back to the built-in flow.
    let reset = browser
        .post("/console/flows/reset", &[("csrf", &csrf)])
        .await;
    assert_eq!(reset.status, StatusCode::SEE_OTHER);
    assert!(browser
        .get("/console/flows")
        .await
        .body
        .contains("flujo incluido"));
    // Without the form's token nothing is imported.
    let forged = browser
        .post(
            "/console/flows",
            &[("document", &serde_json::to_string(&good).unwrap())],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
}

async fn only_admins_edit_the_flow(app: &TestApp) {
    receptionist(app).await;
    let mut browser = Browser::new(&app.server.url());
    browser.sign_in("recepcion@clinica.example", PASSWORD).await;
    assert_eq!(
        browser.get("/console/flows").await.status,
        StatusCode::NOT_FOUND
    );
    let csrf = browser.csrf().await;
    let posted = browser
        .post("/console/flows", &[("csrf", &csrf), ("document", "{}")])
        .await;
    assert_eq!(posted.status, StatusCode::NOT_FOUND);
    assert_eq!(app.count("SELECT COUNT(*) FROM flows").await, 0);
}

crate::on_both_backends!(
    an_admin_imports_an_edited_flow_and_a_broken_one_shows_its_problems_by_path,
    only_admins_edit_the_flow,
);
