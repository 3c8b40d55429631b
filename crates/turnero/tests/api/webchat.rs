//! The web chat: a booking made by clicking and typing in headless Chromium (driven through
//! chromedriver, both from Debian's packages; `.ci/run` installs them), and the visitor
//! endpoints' refusals.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::TestApp;

/// chromedriver on a free local port, stopped when dropped.
pub(crate) struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) async fn chromedriver() -> Driver {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver is installed (apt-get install chromium chromium-driver)");
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while reqwest::get(format!("{url}/status")).await.is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Driver { child, url }
}

pub(crate) async fn browser(driver: &Driver) -> Client {
    let caps = json!({
        "goog:chromeOptions": {
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
        }
    });
    // reqwest and fantoccini's TLS stacks both link rustls; name the provider once.
    let _ = rustls::crypto::ring::default_provider().install_default();
    ClientBuilder::rustls()
        .expect("rustls")
        .capabilities(caps.as_object().unwrap().clone())
        .connect(&driver.url)
        .await
        .expect("a Chromium session")
}

async fn enable(app: &TestApp) -> String {
    let (status, out) = app
        .call(
            Method::PUT,
            "/api/v1/channels/webchat",
            Some(json!({"title": "Clínica <Test>"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    out["chat_url"].as_str().unwrap().to_string()
}

/// Clicks the option with this id in the bot's latest message, once it is there.
async fn press(c: &Client, id: &str) {
    let css = format!(".bot:last-child button[data-id=\"{id}\"]");
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(&css))
        .await
        .unwrap_or_else(|e| panic!("no option {id}: {e}"))
        .click()
        .await
        .unwrap();
}

/// The ids of the options in the bot's latest message, once there are some.
async fn options(c: &Client) -> Vec<String> {
    let el = c
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(".bot:last-child button.option"))
        .await
        .expect("a question with options");
    drop(el);
    let mut ids = Vec::new();
    for b in c
        .find_all(Locator::Css(".bot:last-child button.option"))
        .await
        .unwrap()
    {
        ids.push(b.attr("data-id").await.unwrap().unwrap());
    }
    ids
}

/// Waits until the bot's latest message starts with `text`.
async fn bot_says(c: &Client, text: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(el) = c.find(Locator::Css(".bot:last-child")).await {
            if el.text().await.unwrap_or_default().starts_with(text) {
                return;
            }
        }
        assert!(Instant::now() < deadline, "the bot never said {text:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn types(c: &Client, text: &str) {
    let input = c.find(Locator::Id("text")).await.unwrap();
    input.send_keys(text).await.unwrap();
    c.find(Locator::Id("send"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_books_in_a_real_browser_through_the_web_chat() {
    let app = TestApp::start(crate::common::Backend::Sqlite).await;
    app.clinic().await;
    let chat_url = enable(&app).await;
    let driver = chromedriver().await;
    let c = browser(&driver).await;
    c.goto(&chat_url).await.unwrap();
    assert_eq!(
        c.title().await.unwrap(),
        "Clínica <Test>",
        "the title is shown as text"
    );

    types(&c, "hola").await;
    press(&c, "book").await;
    let slots = options(&c).await;
    assert!(slots[0].starts_with("slot:"), "{slots:?}");
    press(&c, &slots[0]).await;
    bot_says(&c, "¿Cuál es tu número de celular?").await;
    let field = c.find(Locator::Id("text")).await.unwrap();
    assert_eq!(
        field.attr("type").await.unwrap().as_deref(),
        Some("tel"),
        "a phone field"
    );
    types(&c, "11 15 5555-1234").await;
    bot_says(&c, "¿A nombre de quién").await;
    types(&c, "Ana Gómez").await;
    press(&c, "yes").await;
    bot_says(&c, "¡Listo!").await;

    assert_eq!(
        app.count("SELECT COUNT(*) FROM bookings WHERE source = 'webchat' AND status = 'pending'")
            .await,
        1
    );
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM customers WHERE phone = '+5491155551234' AND name = 'Ana Gómez'"
        )
        .await,
        1
    );
    // A reload continues the same conversation: the transcript comes back.
    c.refresh().await.unwrap();
    bot_says(&c, "¡Listo!").await;
    c.close().await.unwrap();
    app.finish().await;
}

async fn the_visitor_endpoints_refuse_what_they_should(app: &TestApp) {
    let client = reqwest::Client::new();
    let base = format!("{}/chat", app.server.url());
    let (_, tenant) = app.get("/api/v1/tenant").await;
    let tenant_id = tenant["id"].as_str().unwrap();
    let page = client
        .get(format!("{base}/{tenant_id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        page.status(),
        StatusCode::NOT_FOUND,
        "off until the tenant turns it on"
    );
    enable(app).await;
    let page = client
        .get(format!("{base}/{tenant_id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("Clínica &lt;Test&gt;"));
    let widget = client
        .get(format!("{base}/{tenant_id}/widget.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(widget.status(), StatusCode::OK);

    let say = |token: Option<&str>, body: serde_json::Value| {
        let mut req = client
            .post(format!("{base}/{tenant_id}/messages"))
            .json(&body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send()
    };
    let anonymous = say(None, json!({"text": "hola"})).await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let token = &new_session(&format!("{base}/{tenant_id}")).await;
    let empty = say(Some(token), json!({"text": "   "})).await.unwrap();
    assert_eq!(empty.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM conversations").await,
        0,
        "no partial write"
    );
    let ok = say(Some(token), json!({"text": "hola"})).await.unwrap();
    assert_eq!(ok.status(), StatusCode::ACCEPTED);
    crate::patient::settle(app).await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM chat_outbox WHERE channel = 'webchat'")
            .await,
        1
    );
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM conversations WHERE contact = '{token}'"
        ))
        .await,
        0,
        "only the token's hash is stored"
    );
    let other = app.new_tenant("Otra").await;
    let (_, t2) = app
        .call_as(&other, Method::GET, "/api/v1/tenant", None)
        .await;
    let elsewhere = client
        .post(format!("{base}/{}/messages", t2["id"].as_str().unwrap()))
        .bearer_auth(token)
        .json(&json!({"text": "hola"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        elsewhere.status(),
        StatusCode::NOT_FOUND,
        "another tenant's chat is off"
    );
}

/// A visitor's session token from a chat page's base URL.
async fn new_session(chat_base: &str) -> String {
    let session: serde_json::Value = reqwest::Client::new()
        .post(format!("{chat_base}/sessions"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    session["token"].as_str().unwrap().to_string()
}

/// A web chat visitor, talking over the JSON endpoints; answers what the bot said last.
struct Visitor<'a> {
    app: &'a TestApp,
    base: String,
    token: String,
}

impl Visitor<'_> {
    async fn says(&self, text: &str, reply_id: Option<&str>) -> String {
        let resp = reqwest::Client::new()
            .post(format!("{}/messages", self.base))
            .bearer_auth(&self.token)
            .json(&json!({"text": text, "reply_id": reply_id}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::ACCEPTED);
        let conversation = resp.json::<serde_json::Value>().await.unwrap()["conversation_id"]
            .as_str()
            .unwrap()
            .to_string();
        crate::patient::settle(self.app).await;
        let (_, t) = self
            .app
            .get(&format!("/api/v1/conversations/{conversation}/messages"))
            .await;
        let last = t["messages"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(last["from"], "bot", "{t}");
        last["text"].as_str().unwrap().to_string()
    }
}

async fn a_phone_typed_into_the_web_chat_unlocks_nothing_about_that_customer(app: &TestApp) {
    let (cal, svc) = app.clinic().await;
    let (status, b) = app
        .book(&cal, &svc, "2030-01-09T12:00:00Z", "+5491155551234")
        .await;
    assert_eq!(status, StatusCode::CREATED, "{b}");
    enable(app).await;
    let (_, tenant) = app.get("/api/v1/tenant").await;
    let base = format!(
        "{}/chat/{}",
        app.server.url(),
        tenant["id"].as_str().unwrap()
    );
    let token = new_session(&base).await;
    let v = Visitor { app, base, token };

    // Nothing is known of a web visitor: the greeting reads as one, not as its template.
    let greeting = v.says("hola", None).await;
    assert!(greeting.starts_with("¡Hola!"), "{greeting}");
    assert!(
        !greeting.contains("{%") && !greeting.contains("{{"),
        "{greeting}"
    );
    assert_eq!(
        v.says("Mis turnos", Some("mine")).await,
        "¿Cuál es tu número de celular?"
    );
    assert_eq!(
        v.says("11 15 5555-1234", None).await,
        "No tenés turnos próximos.",
        "someone else's number shows nothing of theirs"
    );
    v.says("hola", None).await;
    v.says("1", None).await;
    let asked = v.says("1", None).await;
    assert!(
        asked.starts_with("¿A nombre de quién"),
        "the name on file is not offered: {asked}"
    );
    v.says("Otra Persona", None).await;
    assert!(v.says("sí", None).await.starts_with("¡Listo!"));
    v.says("hola", None).await;
    let mine = v.says("2", None).await;
    let options: Vec<&str> = mine
        .lines()
        .filter(|l| l.starts_with(char::is_numeric))
        .collect();
    assert_eq!(options.len(), 1, "only the booking made here: {mine}");
}

crate::on_both_backends!(
    the_visitor_endpoints_refuse_what_they_should,
    a_phone_typed_into_the_web_chat_unlocks_nothing_about_that_customer,
);
