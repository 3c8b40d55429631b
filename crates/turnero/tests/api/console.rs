//! The staff console over real HTTP (issue #17): signing in and out, the session cookie and
//! CSRF tokens, the lock after failed sign-ins, a professional kept to their own calendars, a
//! session of another clinic that opens nothing here, and the first admin made from the
//! command line. Each action is checked in the stored state too.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};

use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};
use reqwest::StatusCode;
use turnero::agenda::staff::{self, NewStaff, Role};
use turnero_core::ids::{CalendarId, TenantId};

use crate::common::{fresh_database, Backend, TestApp};
use crate::processes::tenant_create;

const BIN: &str = env!("CARGO_BIN_EXE_turnero");
pub const PASSWORD: &str = "una-clave-larga-123";
/// Tuesday 10:00 in Buenos Aires, the day after the tests' clock.
const TUESDAY_10: &str = "2030-01-08T13:00:00Z";

/// A browser as far as the console cares: it keeps cookies and does not follow redirects.
pub struct Browser {
    base: String,
    client: reqwest::Client,
    pub cookies: BTreeMap<String, String>,
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Answer {
    pub fn location(&self) -> &str {
        self.headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The value of a hidden field of the page's (first) form with that name.
    pub fn field(&self, name: &str) -> String {
        let marker = format!("name=\"{name}\" value=\"");
        let at = self
            .body
            .find(&marker)
            .unwrap_or_else(|| panic!("no {name} in {}", self.body));
        let rest = &self.body[at + marker.len()..];
        rest[..rest.find('"').unwrap()].to_string()
    }
}

impl Browser {
    pub fn new(base: &str) -> Self {
        Browser {
            base: base.to_string(),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: BTreeMap::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn answer(&mut self, resp: reqwest::Response) -> Answer {
        let status = resp.status();
        let headers = resp.headers().clone();
        for set in headers.get_all(SET_COOKIE) {
            let set = set.to_str().unwrap();
            let (pair, attributes) = set.split_once(';').unwrap_or((set, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if attributes.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_string(), value.to_string());
            }
        }
        Answer {
            status,
            headers,
            body: resp.text().await.unwrap(),
        }
    }

    pub async fn get(&mut self, path: &str) -> Answer {
        let resp = self
            .client
            .get(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .header("accept-language", "es-AR,es;q=0.9")
            .send()
            .await
            .unwrap();
        self.answer(resp).await
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Answer {
        let resp = self
            .client
            .post(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .header("accept-language", "es-AR,es;q=0.9")
            .form(form)
            .send()
            .await
            .unwrap();
        self.answer(resp).await
    }

    /// Fills and sends the sign-in form.
    pub async fn sign_in(&mut self, email: &str, password: &str) -> Answer {
        let form = self.get("/console/login").await;
        assert_eq!(form.status, StatusCode::OK, "{}", form.body);
        let csrf = form.field("csrf");
        self.post(
            "/console/login",
            &[
                ("email", email),
                ("password", password),
                ("csrf", &csrf),
                ("next", "/console/agenda"),
            ],
        )
        .await
    }

    /// The CSRF token of the page's forms.
    pub async fn csrf(&mut self) -> String {
        self.get("/console/agenda").await.field("csrf")
    }
}

pub async fn staff_user(
    app: &TestApp,
    tenant: &TenantId,
    email: &str,
    role: Role,
    calendars: &[&str],
) {
    staff::create(
        &app.server.db,
        tenant,
        NewStaff {
            email: email.into(),
            password: PASSWORD.into(),
            role,
            locale: "es".into(),
            calendars: calendars
                .iter()
                .map(|c| CalendarId::parse(c).unwrap())
                .collect(),
        },
        app.server.clock.now_secs(),
    )
    .await
    .expect("staff user");
}

/// The test tenant's receptionist, `recepcion@clinica.example` with [`PASSWORD`].
pub async fn receptionist(app: &TestApp) {
    let tenant = tenant_of(app, &app.key).await;
    staff_user(
        app,
        &tenant,
        "recepcion@clinica.example",
        Role::Reception,
        &[],
    )
    .await;
}

/// Two calendars with a service each: Dra. Ana Pérez's and Dr. Bruno Costa's.
pub async fn two_calendars(app: &TestApp) -> ((String, String), (String, String)) {
    let own = app.clinic().await;
    let other = app
        .clinic_with(serde_json::json!({"name": "Dr. Bruno Costa"}))
        .await;
    (own, other)
}

/// The tenant an API key belongs to.
pub async fn tenant_of(app: &TestApp, key: &str) -> TenantId {
    let (_, me) = app
        .call_as(key, reqwest::Method::GET, "/api/v1/tenant", None)
        .await;
    TenantId::parse(me["id"].as_str().unwrap()).unwrap()
}

async fn status_of(app: &TestApp, booking: &str) -> String {
    let (_, b) = app.get(&format!("/api/v1/bookings/{booking}")).await;
    b["status"].as_str().unwrap().to_string()
}

async fn a_receptionist_signs_in_reads_the_day_and_cancels_a_booking(app: &TestApp) {
    let tenant = tenant_of(app, &app.key).await;
    // Written with capitals; signed in with it in lower case below.
    staff_user(
        app,
        &tenant,
        "Recepcion@Clinica.example",
        Role::Reception,
        &[],
    )
    .await;
    let (cal, svc) = app.clinic().await;
    let (status, booked) = app.book(&cal, &svc, TUESDAY_10, "+5491155667788").await;
    assert_eq!(status, StatusCode::CREATED, "{booked}");
    let id = booked["id"].as_str().unwrap();

    let mut browser = Browser::new(&app.server.url());
    // Not signed in: to the sign-in page, which brings the person back afterwards.
    let away = browser.get("/console/agenda?date=2030-01-08").await;
    assert_eq!(away.status, StatusCode::SEE_OTHER);
    assert!(
        away.location()
            .starts_with("/console/login?next=%2Fconsole%2Fagenda"),
        "{}",
        away.location()
    );

    // The email in any case.
    let signed = browser.sign_in("recepcion@clinica.example", PASSWORD).await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.body);
    assert_eq!(signed.location(), "/console/agenda");
    let cookie = signed
        .headers
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("turnero_session="))
        .expect("a session cookie");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/console"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    let session = browser.cookies["turnero_session"].clone();
    assert_eq!(app.count("SELECT COUNT(*) FROM staff_sessions").await, 1);
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM staff_sessions WHERE token_hash = '{session}'"
        ))
        .await,
        0,
        "the token itself is not stored"
    );

    let day = browser
        .get("/console/agenda?date=2030-01-08&view=day")
        .await;
    assert_eq!(day.status, StatusCode::OK, "{}", day.body);
    for shown in [
        "Dra. Ana Pérez",
        "Paciente",
        "10:00–10:30",
        "pendiente",
        id,
        "lang=\"es\"",
    ] {
        assert!(
            day.body.contains(shown),
            "{shown} missing from {}",
            day.body
        );
    }
    let week = browser
        .get("/console/agenda?date=2030-01-09&view=week")
        .await;
    // minijinja escapes '/' in text as `&#x2f;`.
    let shown = week.body.replace("&#x2f;", "/");
    for seen in [
        "lun 07/01",
        "10:00 Paciente",
        "(pendiente)",
        "date=2030-01-08&amp;view=day",
    ] {
        assert!(shown.contains(seen), "{seen} missing from {}", week.body);
    }

    // The day's cancel button, as the page's one form sends it; without the form's token:
    // refused, nothing changed.
    assert!(
        day.body
            .contains(&format!("name=\"cancel\" value=\"{id}\"")),
        "{}",
        day.body
    );
    let back = "/console/agenda?date=2030-01-08&view=day";
    let forged = browser
        .post("/console/bookings/act", &[("cancel", id), ("back", back)])
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(status_of(app, id).await, "pending");

    let csrf = browser.csrf().await;
    let done = browser
        .post(
            "/console/bookings/act",
            &[("csrf", &csrf), ("cancel", id), ("back", back)],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location(), back);
    assert_eq!(status_of(app, id).await, "canceled");
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM events WHERE type = 'booking.canceled' AND subject_id = '{id}'"
        ))
        .await,
        1
    );
    // The agenda's own refusal, as a page: a canceled booking cannot be confirmed.
    let refused = browser
        .post(
            &format!("/console/bookings/{id}/confirm"),
            &[("csrf", &csrf), ("back", back)],
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    assert!(refused.body.contains("id=\"problem\""), "{}", refused.body);

    // Signing out ends the session for good.
    let out = browser.post("/console/logout", &[("csrf", &csrf)]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(app.count("SELECT COUNT(*) FROM staff_sessions").await, 0);
    let mut replay = Browser::new(&app.server.url());
    replay.cookies.insert("turnero_session".into(), session);
    assert_eq!(
        replay.get("/console/agenda").await.status,
        StatusCode::SEE_OTHER
    );
}

async fn failed_sign_ins_are_slowed_then_lock_the_account_for_a_while(app: &TestApp) {
    let tenant = tenant_of(app, &app.key).await;
    staff_user(app, &tenant, "ana@clinica.example", Role::Admin, &[]).await;
    let mut browser = Browser::new(&app.server.url());
    let unknown = browser.sign_in("nadie@clinica.example", PASSWORD).await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert!(
        unknown.body.contains("no son correctos"),
        "{}",
        unknown.body
    );
    let started = std::time::Instant::now();
    for _ in 0..4 {
        let wrong = browser
            .sign_in("ana@clinica.example", "no-es-la-clave")
            .await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED, "{}", wrong.body);
    }
    assert!(
        started.elapsed().as_secs_f64() >= 4.0,
        "each wrong password waits"
    );
    let fifth = browser
        .sign_in("ana@clinica.example", "no-es-la-clave")
        .await;
    assert_eq!(
        fifth.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        fifth.body
    );
    assert!(fifth.body.contains("15 minutos"), "{}", fifth.body);
    assert!(fifth.headers.contains_key("retry-after"));
    // Locked: even the right password waits.
    let right = browser.sign_in("ana@clinica.example", PASSWORD).await;
    assert_eq!(right.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(!browser.cookies.contains_key("turnero_session"));
    app.advance_to("2030-01-07T12:16:00Z");
    let right = browser.sign_in("ana@clinica.example", PASSWORD).await;
    assert_eq!(right.status, StatusCode::SEE_OTHER, "{}", right.body);
    assert_eq!(
        app.count("SELECT failed_signins FROM staff_users").await,
        0,
        "a sign-in starts the count again"
    );

    // The sign-in form itself needs the token its page set.
    let mut other = Browser::new(&app.server.url());
    let forged = other
        .post(
            "/console/login",
            &[
                ("email", "ana@clinica.example"),
                ("password", PASSWORD),
                ("csrf", "x"),
            ],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
}

async fn a_professional_sees_only_their_own_calendar_even_by_url(app: &TestApp) {
    let tenant = tenant_of(app, &app.key).await;
    let ((own, svc), (other, other_svc)) = two_calendars(app).await;
    let (_, mine) = app.book(&own, &svc, TUESDAY_10, "+5491155667788").await;
    let (_, theirs) = app
        .book(&other, &other_svc, TUESDAY_10, "+5491155667799")
        .await;
    let theirs = theirs["id"].as_str().unwrap();
    staff_user(
        app,
        &tenant,
        "ana@clinica.example",
        Role::Professional,
        &[&own],
    )
    .await;
    let mut browser = Browser::new(&app.server.url());
    assert_eq!(
        browser
            .sign_in("ana@clinica.example", PASSWORD)
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    let day = browser.get("/console/agenda?date=2030-01-08").await;
    assert!(
        day.body.contains(mine["id"].as_str().unwrap()),
        "{}",
        day.body
    );
    assert!(
        !day.body.contains(theirs) && !day.body.contains("Bruno"),
        "{}",
        day.body
    );
    let by_url = browser
        .get(&format!("/console/agenda?date=2030-01-08&calendar={other}"))
        .await;
    assert_eq!(by_url.status, StatusCode::NOT_FOUND);
    let csrf = browser.csrf().await;
    let cancel = browser
        .post(
            &format!("/console/bookings/{theirs}/cancel"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(cancel.status, StatusCode::NOT_FOUND);
    let from_day = browser
        .post(
            "/console/bookings/act",
            &[("csrf", &csrf), ("cancel", theirs)],
        )
        .await;
    assert_eq!(from_day.status, StatusCode::NOT_FOUND);
    assert_eq!(status_of(app, theirs).await, "pending");
}

async fn a_session_of_another_clinic_opens_nothing_here(app: &TestApp) {
    let (cal, svc) = app.clinic().await;
    let (_, booked) = app.book(&cal, &svc, TUESDAY_10, "+5491155667788").await;
    let id = booked["id"].as_str().unwrap();
    let other_key = app.new_tenant("Otra Clínica").await;
    let other = tenant_of(app, &other_key).await;
    staff_user(app, &other, "admin@otra.example", Role::Admin, &[]).await;
    let mut browser = Browser::new(&app.server.url());
    assert_eq!(
        browser.sign_in("admin@otra.example", PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
    let day = browser.get("/console/agenda?date=2030-01-08").await;
    assert_eq!(day.status, StatusCode::OK);
    assert!(
        !day.body.contains(id) && !day.body.contains("Ana Pérez"),
        "{}",
        day.body
    );
    let by_url = browser
        .get(&format!("/console/agenda?date=2030-01-08&calendar={cal}"))
        .await;
    assert_eq!(by_url.status, StatusCode::NOT_FOUND);
    let csrf = browser.csrf().await;
    let cancel = browser
        .post(
            &format!("/console/bookings/{id}/cancel"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(cancel.status, StatusCode::NOT_FOUND);
    let from_day = browser
        .post("/console/bookings/act", &[("csrf", &csrf), ("cancel", id)])
        .await;
    assert_eq!(from_day.status, StatusCode::NOT_FOUND);
    assert_eq!(status_of(app, id).await, "pending");
}

fn user_create(url: &str, tenant: &str, email: &str, stdin: &str) -> (bool, String) {
    let mut child = Command::new(BIN)
        .args([
            "user", "create", "--tenant", tenant, "--email", email, "--role", "admin", "--json",
        ])
        .args(["--database-url", url])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr),
    )
}

async fn the_first_admin_is_made_from_the_command_line(backend: Backend) {
    let (url, schema, _dir) = fresh_database(backend).await;
    let tenant = tenant_create(&url)["tenant_id"]
        .as_str()
        .unwrap()
        .to_string();
    // No password given: one is made and printed once.
    let (ok, out) = user_create(&url, &tenant, "Admin@Clinica.example", "");
    assert!(ok, "{out}");
    let line = out.lines().find(|l| l.starts_with('{')).unwrap();
    let made: serde_json::Value = serde_json::from_str(line).unwrap();
    assert_eq!(made["email"], "admin@clinica.example");
    let generated = made["password"].as_str().unwrap().to_string();
    assert!(generated.len() >= 10, "{made}");
    // A password on stdin is taken as it is, and not printed.
    let (ok, out) = user_create(
        &url,
        &tenant,
        "otra@clinica.example",
        &format!("{PASSWORD}\n"),
    );
    assert!(ok && !out.contains(PASSWORD), "{out}");
    let (ok, out) = user_create(&url, &tenant, "admin@clinica.example", "");
    assert!(!ok && out.contains("exists"), "{out}");
    let (ok, out) = user_create(&url, &tenant, "corta@clinica.example", "corta\n");
    assert!(!ok && out.contains("10"), "{out}");

    let config = turnero::config::Config {
        database_url: url.clone(),
        listen: "127.0.0.1:0".into(),
        ..Default::default()
    };
    let server = turnero::app::start(&config, turnero::clock::Clock::system())
        .await
        .unwrap();
    for (email, password) in [
        ("admin@clinica.example", generated.as_str()),
        ("otra@clinica.example", PASSWORD),
    ] {
        let mut browser = Browser::new(&server.url());
        let signed = browser.sign_in(email, password).await;
        assert_eq!(
            signed.status,
            StatusCode::SEE_OTHER,
            "{email}: {}",
            signed.body
        );
    }
    server.stop().await;
    crate::common::drop_schema(schema).await;
}

crate::on_both_backends!(
    a_receptionist_signs_in_reads_the_day_and_cancels_a_booking,
    failed_sign_ins_are_slowed_then_lock_the_account_for_a_while,
    a_professional_sees_only_their_own_calendar_even_by_url,
    a_session_of_another_clinic_opens_nothing_here,
);

crate::with_each_backend!(the_first_admin_is_made_from_the_command_line);
